# Exercises: $SIG{ALRM} with Time::HiRes::alarm, waiting for the handler to set a flag
use strict;
use warnings;
use Time::HiRes ();

my $fired = 0;
my @log;
$SIG{ALRM} = sub { $fired++; push @log, "alarm " . ("!" x $fired) . " " . join('', map { chr(97 + $_) } 0 .. 9) };
for my $round (1 .. 3) {
    my $before = $fired;
    Time::HiRes::alarm(0.02);
    my @busy;
    while ($fired == $before) {
        push @busy, "x" x 10;
        @busy = () if @busy > 1000;
        Time::HiRes::sleep(0.001);
    }
    print "round $round fired\n";
}
Time::HiRes::alarm(0);
print "$_\n" for @log;
my $timed_out = eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    Time::HiRes::alarm(0.02);
    Time::HiRes::sleep(0.001) while 1;
    1;
};
Time::HiRes::alarm(0);
print "eval result: ", (defined $timed_out ? "finished" : "died: $@");
warn "alarm fired $fired times\n";

# Exercises: a USR1 signal handler that allocates, delivered via kill to self
use strict;
use warnings;

my @received;
my $built = '';
$SIG{USR1} = sub {
    my $sig = shift;
    my $s = join ',', map { "$sig$_" } 1 .. 50;
    $built .= substr($s, 0, 20) . ";";
    push @received, { sig => $sig, len => length $s, n => scalar(@received) + 1 };
};
for my $i (1 .. 10) {
    my @work = map { $_ * $i } 1 .. 100;
    kill USR1 => $$;
}
print "received: ", scalar(@received), "\n";
print "lens: ", join(' ', map { $_->{len} } @received), "\n";
print "built: ", substr($built, 0, 63), "\n";
local $SIG{USR1} = sub { print "local handler got $_[0]\n"; warn "handler warns\n" };
kill 'USR1', $$;
$SIG{USR1} = 'IGNORE';
kill USR1 => $$;
print "ignored ok\n";
warn "signals done\n";

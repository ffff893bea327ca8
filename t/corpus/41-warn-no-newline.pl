# Exercises: warn without a trailing newline (appends "at FILE line N."), plus warn with lists and $@
use strict;
use warnings;

my @parts = map { "part$_" } 1 .. 5;
warn "plain warning without newline";
warn "list ", "of ", scalar(@parts), " parts";
sub inner_warn { my $x = join '-', @_; warn "from sub: $x" }
inner_warn(@parts);
for my $i (1 .. 3) {
    my $s = "loop" x $i;
    warn "iteration $i: $s";
}
eval { die "caught error" };
warn $@;
eval { die "another\n" };
warn;
$@ = "";
warn;
my $line = <STDIN>;
warn "reading with \$. set";
print "stdout: ", join(',', @parts), "\n";

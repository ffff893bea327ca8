# Exercises: the "Deep recursion on subroutine" warning emitted to STDERR
use strict;
use warnings;

sub down {
    my $n = shift;
    my $s = "x" x ($n % 10);
    return 0 if $n <= 0;
    return 1 + down($n - 1);
}
print "depth: ", down(150), "\n";

my $anon;
$anon = sub { my $n = shift; $n <= 0 ? 0 : 1 + $anon->($n - 1) };
print "anon depth: ", $anon->(120), "\n";

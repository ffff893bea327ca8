# Exercises: a compile-time syntax error (exit 255, diagnostics on STDERR, nothing runs)
use strict;
use warnings;

BEGIN { print "BEGIN runs before the syntax error is found\n" }
my @list = map { "x$_" } 1 .. 10;
print "never printed: @list\n";
sub broken {
    my ($a, $b) = @_;
    return $a + * $b;
}
if (1) {
    print "unbalanced\n";

# Exercises: exit 4 called inside a BEGIN block (compilation stops, END blocks defined so far run)
use strict;
use warnings;

our @early;
END { print "END block defined before the exit runs, \$? = $?\n" }
BEGIN {
    @early = map { "early$_" } 1 .. 50;
    print "BEGIN: built ", scalar(@early), " items\n";
    warn "BEGIN is exiting with 4\n";
    exit 4;
}
END { print "END defined after exit: never compiled\n" }
print "main body never runs\n";

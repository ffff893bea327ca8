# Exercises: END blocks that print (in LIFO order) and one that changes the exit status via $?
use strict;
use warnings;

our @results = map { "r$_" x 3 } 1 .. 100;
END { print "END 1 (runs last), \$? = $?\n" }
END {
    my $summary = join ',', @results[0 .. 2];
    print "END 2 summary: $summary, \$? = $?\n";
    $? = 7 if $? == 5;
    warn "END 2 changed exit status to $?\n";
}
END { print "END 3 (runs first), \$? = $?\n" }
print "main body: ", scalar(@results), " results\n";
exit 5;

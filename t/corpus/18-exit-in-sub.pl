# Exercises: exit with status 3 called from inside nested subs (END still runs)
use strict;
use warnings;

my @acc;
sub work {
    my $n = shift;
    push @acc, join '', map { chr(65 + $_ % 26) } 1 .. $n;
    finish() if $n >= 30;
    work($n + 1);
}
sub finish {
    print "accumulated ", scalar(@acc), " strings, last: $acc[-1]\n";
    warn "exiting with 3\n";
    exit 3;
}
END { print "END block sees \$? = $?\n" }
work(1);
print "not reached\n";

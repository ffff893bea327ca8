# Exercises: die inside an END block (message on STDERR, exit status changes)
use strict;
use warnings;

our %state = map { ("s$_" => $_ ** 2) } 1 .. 100;
END { print "END 1 after the dying END, \$? = $?\n" }
END {
    my $sum = 0;
    $sum += $state{$_} for keys %state;
    print "END 2 computed sum $sum\n";
    die "dying inside END block\n";
}
END { print "END 3 runs first\n" }
print "main finished normally\n";

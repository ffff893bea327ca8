# Exercises: deep recursion (5000 levels) with the recursion warning disabled
use strict;
use warnings;
no warnings 'recursion';

sub descend {
    my ($n, $acc) = @_;
    my $frame = "level-$n" . ("." x ($n % 17));
    return length($acc) if $n == 0;
    return descend($n - 1, $n % 100 == 0 ? $acc . substr($frame, 0, 8) : $acc);
}

sub build_list {
    my $n = shift;
    return [] if $n == 0;
    return [$n, build_list($n - 1)];
}

print "descend: ", descend(5000, ""), "\n";
my $list = build_list(5000);
my ($count, $node) = (0, $list);
while (@$node) { $count++; $node = $node->[1] }
print "list length: $count\n";
sub fact { my $n = shift; $n <= 1 ? 1 : $n * fact($n - 1) }
printf "fact(20) = %d\n", fact(20);
warn "deep recursion finished\n";

# Exercises: a sort whose comparator itself calls sort (nested sort)
use strict;
use warnings;

my @groups = map { my $g = $_; [ map { ($g * 31 + $_ * 17) % 97 } 1 .. (5 + $g % 7) ] } 1 .. 60;

sub sorted_key {
    my $list = shift;
    my @s = sort { $a <=> $b } @$list;
    return join('-', map { sprintf "%03d", $_ } @s);
}

my @ordered = sort {
    my @sa = sort { $b <=> $a } @$a;
    my @sb = sort { $b <=> $a } @$b;
    $sa[0] <=> $sb[0] or sorted_key($a) cmp sorted_key($b)
} @groups;

for my $g (@ordered[0 .. 9]) {
    print sorted_key($g), "\n";
}
my @names = sort { (join '', sort split //, $a) cmp (join '', sort split //, $b) or $a cmp $b }
    qw(listen silent enlist banana google tinsel inlets abc cab bca);
print "@names\n";
warn "nested sorts ok\n";

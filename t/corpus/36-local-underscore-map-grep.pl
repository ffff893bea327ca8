# Exercises: local $_, nested map/grep, for aliasing of $_ and $_ in subs
use strict;
use warnings;

my @matrix = map { my $r = $_; [ map { $r * 10 + $_ } 0 .. 9 ] } 0 .. 9;
my @evens = map { [ grep { $_ % 2 == 0 } @$_ ] } @matrix;
print "row 3 evens: @{ $evens[3] }\n";
my @flat = map { @$_ } grep { grep { $_ % 7 == 0 } @$_ } @matrix;
print "rows with multiples of 7 flattened: ", scalar(@flat), "\n";
my %index = map { my $row = $_; map { ("$row,$_" => $matrix[$row][$_]) } grep { ($row + $_) % 3 == 0 } 0 .. 9 } 0 .. 9;
print "index size: ", scalar(keys %index), " 3,6 => $index{'3,6'}\n";

sub clobber { local $_ = "clobbered"; s/clob/rub/; return $_ }
my @words = qw(alpha beta gamma delta);
my @out = map { my $x = clobber(); "$_/$x" } @words;
print "after clobber: @out\n";
for (@words) { $_ = uc }
print "aliased: @words\n";
{
    local $_ = "outer value";
    for my $w (map { lc } @words) { }
    print "local \$_: $_\n";
    my @n = grep { length > 4 } map { "$_-x" } @words;
    print "nested: @n\n";
}
my $count = grep { my $v = $_; grep { $_ eq $v } qw(ALPHA GAMMA) } @words;
print "count: $count\n";
my @sorted = sort { $a->[1] <=> $b->[1] or $a->[0] cmp $b->[0] } map { [ $_, length ] } map { lc } @words;
print "schwartz: ", join(' ', map { $_->[0] } @sorted), "\n";
warn "map/grep nesting done\n";

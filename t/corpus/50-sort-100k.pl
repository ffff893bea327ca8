# Exercises: sort { $a <=> $b } on 100k numbers, plus reverse and string sorts
use strict;
use warnings;

my $seed = 12345;
my @nums = map { $seed = ($seed * 1103515245 + 12345) % 2147483648; $seed % 1000000 } 1 .. 100_000;
my @sorted = sort { $a <=> $b } @nums;
print "count: ", scalar(@sorted), "\n";
print "min: $sorted[0] max: $sorted[-1] median: $sorted[50000]\n";
my $ok = 1;
for my $i (1 .. $#sorted) { if ($sorted[$i - 1] > $sorted[$i]) { $ok = 0; last } }
print "ordered: ", ($ok ? "yes" : "no"), "\n";
my @desc = sort { $b <=> $a } @nums;
print "desc top: @desc[0..4]\n";
my @strs = sort map { "n$_" } @nums[0 .. 19999];
print "string sorted: @strs[0..3]\n";
my @rev = reverse sort { $a <=> $b } @nums[0 .. 999];
print "reverse sort: @rev[0..2]\n";
my %uniq;
@uniq{@nums} = ();
print "distinct: ", scalar(keys %uniq), "\n";
warn "sorted 100000 numbers\n";

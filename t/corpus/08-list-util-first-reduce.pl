# Exercises: List::Util first, reduce, sum, max, shuffle-free helpers
use strict;
use warnings;
use List::Util qw(first reduce sum max min maxstr uniq);

my @nums = map { ($_ * 7919) % 1000 } 1 .. 5000;
my $first_big = first { $_ > 990 } @nums;
my $first_idx = first { $nums[$_] > 990 } 0 .. $#nums;
print "first > 990: $first_big at $first_idx\n";
my $none = first { $_ > 5000 } @nums;
print "none: ", (defined $none ? $none : 'undef'), "\n";

my $total = reduce { $a + $b } @nums;
my $concat = reduce { length($a) < 200 ? "$a,$b" : $a } map { "v$_" } @nums;
my $longest = reduce { length($a) >= length($b) ? $a : $b } map { "w" x ($_ % 37) } @nums;
my $hash = reduce { $a->{$b % 10}++; $a } {}, @nums;
print "reduce sum: $total; sum: ", sum(@nums), "\n";
print "max: ", max(@nums), " min: ", min(@nums), " maxstr: ", maxstr(map { "s$_" } @nums), "\n";
print "concat: ", substr($concat, 0, 60), "\n";
print "longest: ", length($longest), "\n";
print "buckets: ", join(' ', map { "$_=$hash->{$_}" } sort { $a <=> $b } keys %$hash), "\n";
print "uniq count: ", scalar(uniq @nums), "\n";
warn "list util ok\n";

# Exercises: each() iteration while deleting the current key, keys reset, each on arrays
use strict;
use warnings;

my %h = map { ("key$_" => "value" x ($_ % 5 + 1)) } 1 .. 1000;
my (@deleted, $seen);
while (my ($k, $v) = each %h) {
    $seen++;
    if ($k =~ /[13579]$/) {
        delete $h{$k};
        push @deleted, $k;
    }
}
print "seen: $seen deleted: ", scalar(@deleted), " remaining: ", scalar(keys %h), "\n";
print "deleted sample: ", join(' ', (sort { substr($a, 3) <=> substr($b, 3) } @deleted)[0 .. 4]), "\n";
print "remaining sample: ", join(' ', (sort { substr($a, 3) <=> substr($b, 3) } keys %h)[0 .. 4]), "\n";

my %copy = %h;
my $n = 0;
while (my $k = each %copy) { last if ++$n == 10 }
keys %copy;
my $full = 0;
$full++ while each %copy;
print "after reset full iteration: $full\n";

my @arr = map { "elem$_" } 0 .. 9;
my @pairs;
while (my ($i, $e) = each @arr) { push @pairs, "$i=$e" if $i % 3 == 0 }
print "array each: @pairs\n";
my %nested = map { ("n$_" => { map { ("i$_" => $_) } 1 .. 10 }) } 1 .. 50;
for my $outer (sort keys %nested) {
    while (my ($ik, $iv) = each %{ $nested{$outer} }) {
        delete $nested{$outer}{$ik} if $iv > 5;
    }
}
my $left = 0;
$left += keys %{ $nested{$_} } for keys %nested;
print "nested left: $left\n";
%h = ();
warn "each/delete done\n";

# Exercises: reading STDIN line by line, word counting into hashes
use strict;
use warnings;

my (%words, @lines, $chars);
while (my $line = <STDIN>) {
    chomp $line;
    push @lines, $line;
    $chars += length $line;
    $words{lc $_}++ for $line =~ /(\w+)/g;
}
print "lines: ", scalar(@lines), "\n";
print "chars: $chars\n";
my @top = (sort { $words{$b} <=> $words{$a} || $a cmp $b } keys %words)[0 .. 9];
printf "%-10s %d\n", $_, $words{$_} for @top;
print "longest line: ", (sort { length($b) <=> length($a) || $a cmp $b } @lines)[0], "\n";
print "reversed first: ", scalar reverse($lines[0]), "\n";
warn "read ", scalar(keys %words), " distinct words\n";

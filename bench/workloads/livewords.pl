# Many live blocks: a 6 MB string grown by `.=` (realloc), split into
# 1.2 million words that stay live while they are counted and sorted.
my $scale = $ENV{BENCH_SCALE} || 1;    # bench/run.pl --instructions runs a tenth
my $text = '';
$text .= "word$_ " for 1 .. 1_200_000 * $scale;
my @words = split / /, $text;
my %seen;
my $long = 0;
for my $pass ( 1 .. 3 ) {
    for my $w (@words) {
        $long++ if length $w > 9;
        $seen{ substr $w, 0, 5 }++;
    }
}
my @top = ( sort { $seen{$b} <=> $seen{$a} || $a cmp $b } keys %seen )[ 0 .. 2 ];
print scalar(@words), " $long @top\n";

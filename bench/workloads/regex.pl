# Regex-heavy text processing: tokenise and count words in generated text.
my $scale = $ENV{BENCH_SCALE} || 1;    # bench/run.pl --instructions runs a tenth
my @words = qw(alpha beta gamma delta epsilon zeta eta theta iota kappa);
my $text = join ' ', map { $words[ $_ % @words ] . ( $_ % 13 ) } 1 .. 200_000 * $scale;
my %count;
for my $pass ( 1 .. 4 ) {
    while ( $text =~ /\b([a-z]+)(\d+)\b/g ) {
        $count{$1} += $2;
    }
    ( my $copy = $text ) =~ s/(\w+?)(\d)/$2$1/g;
    $count{len} += length $copy;
}
print join( ',', map {"$_=$count{$_}"} sort keys %count ), "\n";

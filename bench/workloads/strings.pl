# String building with .= and x.
my $scale = $ENV{BENCH_SCALE} || 1;    # bench/run.pl --instructions runs a tenth
my $total = 0;
for my $round ( 1 .. 160 * $scale ) {
    my $s = '';
    $s .= "line $_ " . ( '-' x ( $_ % 40 ) ) . "\n" for 1 .. 40_000;
    $total += length $s;
}
print "$total\n";

# Statement-bound: arithmetic in a loop, no allocation per iteration.
my $scale = $ENV{BENCH_SCALE} || 1;    # bench/run.pl --instructions runs a tenth
my ( $x, $y ) = ( 0, 1 );
for my $i ( 1 .. 12_000_000 * $scale ) {
    $x += $i * 2;
    $y = $x % 7;
}
print "$x $y\n";

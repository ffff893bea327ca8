# Statement-bound: arithmetic in a loop, no allocation per iteration.
my ( $x, $y ) = ( 0, 1 );
for my $i ( 1 .. 12_000_000 ) {
    $x += $i * 2;
    $y = $x % 7;
}
print "$x $y\n";

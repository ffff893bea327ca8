# Sub-call-bound: recursion and closure calls.
my $scale = $ENV{BENCH_SCALE} || 1;    # bench/run.pl --instructions runs a tenth
sub fib { my $n = shift; return $n < 2 ? $n : fib( $n - 1 ) + fib( $n - 2 ) }
my $add = sub { $_[0] + $_[1] };
my $sum = 0;
$sum = $add->( $sum, $_ ) for 1 .. 2_000_000 * $scale;
# fib(n) makes about 1.618^n calls.
print fib( 30 + sprintf '%.0f', log($scale) / log(1.618) ), " $sum\n";

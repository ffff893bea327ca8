# Sub-call-bound: recursion and closure calls.
sub fib { my $n = shift; return $n < 2 ? $n : fib( $n - 1 ) + fib( $n - 2 ) }
my $add = sub { $_[0] + $_[1] };
my $sum = 0;
$sum = $add->( $sum, $_ ) for 1 .. 2_000_000;
print fib(30), " $sum\n";

# Deep call chains through closures: a middleware-style stack of wrappers
# (each a closure over the next), called for every item.
my $scale = $ENV{BENCH_SCALE} || 1;    # bench/run.pl --instructions runs a tenth
sub wrap {
    my ( $inner, $k ) = @_;
    return sub { my ($x) = @_; return $inner->( $x + $k ) - 1 };
}
my $handler = sub { $_[0] * 2 };
$handler = wrap( $handler, $_ ) for 1 .. 12;
my $sum = 0;
my @items = map { { id => $_ } } 1 .. 1_000;
for my $pass ( 1 .. 400 * $scale ) {
    $sum += $handler->( $_->{id} ) for @items;
}
my $counter = do { my $n = 0; sub { $n += shift } };
$counter->($_) for 1 .. 1_000_000 * $scale;
print $sum + $counter->(0), "\n";

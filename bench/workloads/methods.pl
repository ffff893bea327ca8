# Method calls on plain blessed-hash objects with hand-written accessors,
# as most CPAN classes are: a small order book updated in a loop.
package Order;
sub new { my ( $class, %a ) = @_; return bless {%a}, $class }
sub price { $_[0]{price} }
sub qty { my $s = shift; $s->{qty} = shift if @_; $s->{qty} }
sub side { $_[0]{side} }
sub total { my $s = shift; return $s->price * $s->qty }

package Book;
sub new { bless { orders => [], volume => 0 }, shift }
sub add { my ( $s, $o ) = @_; push @{ $s->{orders} }, $o; $s->{volume} += $o->qty; $o }
sub orders { @{ $_[0]{orders} } }
sub fill {
    my ( $s, $n ) = @_;
    for my $o ( $s->orders ) {
        next if $o->qty == 0;
        my $take = $o->qty < $n ? $o->qty : $n;
        $o->qty( $o->qty - $take );
        $s->{volume} -= $take;
        $n -= $take;
        last if $n == 0;
    }
    return $n;
}

package main;
my $scale = $ENV{BENCH_SCALE} || 1;    # bench/run.pl --instructions runs a tenth
my $sum = 0;
for my $round ( 1 .. 30 * $scale ) {
    my $book = Book->new;
    $book->add( Order->new( price => 100 + $_ % 17, qty => 1 + $_ % 5, side => $_ % 2 ? 'buy' : 'sell' ) )
        for 1 .. 5_000;
    $sum += $_->total for $book->orders;
    $book->fill(7) for 1 .. 200;
    $sum += $book->{volume};
}
print "$sum\n";

# Loading Moose and building 10,000 Moose objects.
package Point;
use Moose;
has x => ( is => 'rw', isa => 'Int', default => 0 );
has y => ( is => 'rw', isa => 'Int', default => 0 );
sub norm { my $s = shift; $s->x * $s->x + $s->y * $s->y }
__PACKAGE__->meta->make_immutable;

package main;
my $sum = 0;
for my $i ( 1 .. 10_000 ) {
    my $p = Point->new( x => $i, y => $i % 7 );
    $sum += $p->norm;
}
print "$sum\n";

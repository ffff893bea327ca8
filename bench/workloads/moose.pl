# Loading Moose and building 10,000 Moose objects.
package Point;
use Moose;
has x => ( is => 'rw', isa => 'Int', default => 0 );
has y => ( is => 'rw', isa => 'Int', default => 0 );
sub norm { my $s = shift; $s->x * $s->x + $s->y * $s->y }
__PACKAGE__->meta->make_immutable;

package main;
my $scale = $ENV{BENCH_SCALE} || 1;    # bench/run.pl --instructions runs a tenth
# 10,000 objects, made afresh fifteen times, so the run is long enough to time.
my $sum = 0;
for my $round ( 1 .. 15 ) {
    my @points = map { Point->new( x => $_, y => $_ % 7 ) } 1 .. 10_000 * $scale;
    $sum += $_->norm for @points;
}
print "$sum\n";

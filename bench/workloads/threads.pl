# Allocation-bound, in 4 threads at once: each builds and drops hashes of
# arrays as allocations.pl does, and one more thread's worth of the same
# work is handed over a Thread::Queue to be freed by another thread.
my $scale = $ENV{BENCH_SCALE} || 1;    # bench/run.pl --instructions runs a tenth
use threads;
use Thread::Queue;
my $q = Thread::Queue->new;
my @workers = map {
    my $n = $_;
    threads->create( sub {
        my $total = 0;
        for my $round ( 1 .. 2 ) {
            my %h;
            for my $i ( 1 .. 30_000 * $scale ) {
                $h{"k$i"} = [ $i, "v$i", { n => $i } ];
            }
            $total += scalar keys %h;
        }
        $q->enqueue("$n:$_" x 20) for 1 .. 5_000 * $scale;
        return $total;
    } );
} 1 .. 4;
my $consumer = threads->create( sub {
    my $n = 0;
    while ( defined( my $s = $q->dequeue ) ) { $n += length $s }
    return $n;
} );
my $total = 0;
$total += $_->join for @workers;
$q->end;
print "$total ", $consumer->join, "\n";

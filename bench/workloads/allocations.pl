# Allocation-bound: hashes of arrays built and dropped.
my $scale = $ENV{BENCH_SCALE} || 1;    # bench/run.pl --instructions runs a tenth
my $total = 0;
for my $round ( 1 .. 4 ) {
    my %h;
    for my $i ( 1 .. 60_000 * $scale ) {
        $h{"k$i"} = [ $i, "v$i", { n => $i } ];
    }
    $total += scalar keys %h;
}
print "$total\n";

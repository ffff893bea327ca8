# Allocation-bound: hashes of arrays built and dropped.
my $total = 0;
for my $round ( 1 .. 4 ) {
    my %h;
    for my $i ( 1 .. 60_000 ) {
        $h{"k$i"} = [ $i, "v$i", { n => $i } ];
    }
    $total += scalar keys %h;
}
print "$total\n";

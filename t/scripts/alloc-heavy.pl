# Allocation-heavy: 200,000 hash entries of small arrays, built and dropped.
my %h;
for my $i (1..200_000) { $h{"key$i"} = [ $i, "v" x ($i % 50) ]; }
my $n = 0;
for my $k (keys %h) { $n += scalar @{ delete $h{$k} }; }
print "$n\n";

# Exercises: building a large hash of arrays, querying it, then dropping it
use strict;
use warnings;

for my $round (1 .. 3) {
    my %hoa;
    for my $i (1 .. 20000) {
        my $key = "bucket" . ($i * 7 % 500);
        push @{ $hoa{$key} }, "val$i";
    }
    my $total = 0;
    $total += @{ $hoa{$_} } for keys %hoa;
    my @biggest = (sort { @{ $hoa{$b} } <=> @{ $hoa{$a} } || $a cmp $b } keys %hoa)[0 .. 2];
    print "round $round: keys=", scalar(keys %hoa), " total=$total biggest=@biggest\n";
    print "  bucket0: @{ $hoa{bucket0} }[0..4]\n";
    my %aoh_index = map { $_ => { count => scalar @{ $hoa{$_} }, first => $hoa{$_}[0] } } keys %hoa;
    print "  bucket7: $aoh_index{bucket7}{count} first=$aoh_index{bucket7}{first}\n";
    delete @hoa{ grep { /5$/ } keys %hoa };
    print "  after delete: ", scalar(keys %hoa), "\n";
    undef %hoa;
}
my $ref = { map { $_ => [ (1) x $_ ] } 1 .. 200 };
my $sum = 0;
$sum += scalar @{ $ref->{$_} } for keys %$ref;
print "ref sum: $sum\n";
undef $ref;
warn "hash of arrays dropped\n";

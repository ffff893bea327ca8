# Exercises: reading the __DATA__ section into data structures
use strict;
use warnings;

my (%by_dept, @rows);
my $header = <DATA>;
chomp $header;
my @cols = split /,/, $header;
while (my $line = <DATA>) {
    chomp $line;
    next if $line =~ /^\s*(#|$)/;
    my %row;
    @row{@cols} = split /,/, $line;
    push @rows, \%row;
    push @{ $by_dept{ $row{dept} } }, $row{name};
}
print "columns: @cols\n";
print "rows: ", scalar(@rows), "\n";
for my $d (sort keys %by_dept) {
    print "$d: ", join(', ', sort @{ $by_dept{$d} }), "\n";
}
my $total = 0;
$total += $_->{salary} for @rows;
print "total salary: $total\n";
print "eof DATA: ", (eof(DATA) ? "yes" : "no"), "\n";
warn "read ", scalar(@rows), " rows from DATA\n";
__DATA__
name,dept,salary
alice,eng,120
bob,eng,110
# a comment line
carol,sales,90

dave,sales,95
erin,ops,80
frank,eng,105
grace,ops,85
heidi,legal,130
ivan,sales,70
judy,eng,115

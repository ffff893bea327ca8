# Exercises: an uncaught die at top level (exit status 255, message with file and line)
use strict;
use warnings;

my %table = map { ("key$_" => [ map { $_ * 2 } 1 .. $_ ]) } 1 .. 50;
my $total = 0;
$total += @{ $table{$_} } for sort keys %table;
print "total elements: $total\n";
warn "about to die\n";
sub check {
    my $k = shift;
    die "missing key '$k' in table of " . scalar(keys %table) . " entries" unless exists $table{$k};
    return $table{$k};
}
check("key10");
check("key99");
print "not reached\n";

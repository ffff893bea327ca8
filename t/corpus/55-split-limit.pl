# Exercises: split with limits (positive, negative, zero), captures, and command-line arguments
use strict;
use warnings;

print "args: ", scalar(@ARGV), "\n";
for my $arg (@ARGV) {
    my @two = split /[:=,]/, $arg, 2;
    my @all = split /[:=,]/, $arg, -1;
    my @def = split /[:=,]/, $arg;
    printf "%-22s two=[%s] all=%d def=%d\n", "'$arg'", join('|', @two), scalar(@all), scalar(@def);
}
my $csv = join ',', map { $_ % 4 ? "f$_" : "" } 1 .. 40;
my @f0 = split /,/, $csv;
my @fn = split /,/, $csv, -1;
my @f5 = split /,/, $csv, 5;
print "fields: default=", scalar(@f0), " negative=", scalar(@fn), " limit5=", scalar(@f5), " last of limit5 length=", length($f5[-1]), "\n";
my @caps = split /(\d)/, "a1b2c3d", 3;
print "captures with limit: ", join('|', @caps), "\n";
my @chars = split //, "abcdef", 3;
print "empty pattern limit: ", join('|', @chars), "\n";
my @ws = split ' ', "  leading and   trailing   spaces  ";
print "awk mode: ", join('|', @ws), "\n";
my @ws2 = split /^/, "l1\nl2\nl3\n";
print "line split: ", scalar(@ws2), "\n";
my %kv = map { split /=/, $_, 2 } split /;/, join ';', map { "k$_=v=$_" } 1 .. 100;
print "kv: ", scalar(keys %kv), " k42=$kv{k42}\n";
my $count = () = split /,/, $csv, -1;
print "count in list assignment: $count\n";
warn "split done on ", scalar(@ARGV), " args\n";

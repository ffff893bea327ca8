# Exercises: sprintf formats, pack and unpack templates, round trips
use strict;
use warnings;

my @recs = map { [ $_, "name$_", $_ * 1.5, $_ % 2 ? "odd" : "even" ] } 1 .. 100;
my $packed = join '', map { pack("N n/a* d A5", @$_) } @recs;
print "packed length: ", length($packed), "\n";
my @back;
my $off = 0;
while ($off < length $packed) {
    my ($id, $name, $num, $tag) = unpack("N n/a* d A5", substr($packed, $off));
    push @back, "$id:$name:$num:$tag";
    $off += 4 + 2 + length($name) + 8 + 5;
}
print "unpacked: @back[0..2] ... $back[-1]\n";
print "hex: ", unpack("H*", pack("n*", 1, 255, 4096, 65535)), "\n";
print "bits: ", unpack("b*", "AB"), "\n";
my @ints = unpack("C*", "Hello, world");
print "bytes: @ints\n";
print "w: ", join(',', unpack("w*", pack("w*", 1, 128, 16384, 2**30))), "\n";
print "template repeat: ", join('|', unpack("(A3)*", "abcdefghijklmno")), "\n";
printf "%-8s|%8s|%08.3f|%+d|%x|%o|%e|%5.1f%%\n", "left", "right", 3.14159, 42, 255, 8, 12345.678, 99.5;
my $table = join "\n", map { sprintf "%3d %-10s %7.2f %s", @$_ } @recs[0 .. 4];
print "$table\n";
print sprintf("%2\$s %1\$s", "world", "hello"), "\n";
print sprintf("%*d|%-*d|%.*f", 6, 42, 6, 42, 2, 3.14159), "\n";
my $checksum = unpack("%32C*", $packed);
print "checksum: $checksum\n";
warn sprintf("packed %d records into %d bytes\n", scalar(@recs), length $packed);

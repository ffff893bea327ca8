# Exercises: heavy string building with sprintf("%s", ...) and sprintf with version vectors (%vd)
use strict;
use warnings;

my $out = '';
for my $i (1 .. 5000) {
    $out .= sprintf("%s=%s;", "k$i", "v" x ($i % 7));
}
print "built length: ", length($out), "\n";
print "head: ", substr($out, 0, 60), "\n";
my @rows = map { sprintf("%-6s|%6s|%s", $_, scalar reverse($_), join(':', ($_) x 3)) } 1 .. 1000;
print "rows: ", scalar(@rows), " row 123: $rows[122]\n";
my $nested = sprintf("%s", sprintf("%s", sprintf("[%s]", join(',', map { sprintf "%s", $_ * 3 } 1 .. 20))));
print "nested: $nested\n";
print "vd: ", sprintf("%vd", "1.22.333.4444"), "\n";
print "vd of string: ", sprintf("%vd", "1.2.3"), " hex: ", sprintf("%vx", "255.10.16"), "\n";
print "vd with join: ", sprintf("%*vd", ":", "192.168.1.1"), "\n";
print "version: ", sprintf("%vd", v5.36.0), " chars: ", sprintf("%vd", "ABC"), "\n";
printf "%s %s %s\n", map { sprintf "%05.1f", $_ / 3 } 1 .. 3;
my $big = join "\n", map { sprintf "%s-%s-%s", $_, $_ ** 2, "x" x ($_ % 50) } 1 .. 2000;
print "big: ", length($big), "\n";
warn sprintf("%s: %d bytes\n", "sprintf total", length($out) + length($big));

# Exercises: 4-argument substr replacement and lvalue substr (assignment, modification, refs)
use strict;
use warnings;

my $s = "The quick brown fox jumps over the lazy dog";
my $removed = substr($s, 4, 5, "slow");
print "4-arg: $s (removed '$removed')\n";
substr($s, 0, 3) = "A";
print "lvalue: $s\n";
substr($s, -3) =~ s/dog/cat/;
print "lvalue regex: $s\n";
substr($s, 2, 4) x= 1;
my $buf = "." x 1000;
for my $i (0 .. 99) {
    substr($buf, $i * 10, 3, sprintf("%03d", $i));
}
print "buf head: ", substr($buf, 0, 40), " length ", length($buf), "\n";
my $grow = "ab";
substr($grow, 1, 0, "X" x 5) for 1 .. 100;
print "grow length: ", length($grow), " ends: ", substr($grow, -3), "\n";
my $str = "0123456789";
my $ref = \substr($str, 2, 3);
$$ref = "abcdef";
print "ref substr: $str\n";
$$ref = "Z";
print "ref substr again: $str\n";
for my $part (substr($str, 0, 2)) { $part = uc "xy" }
print "aliased: $str\n";
my @chunks = map { substr("abcdefghijklmnopqrstuvwxyz" x 4, $_ * 7, 7) } 0 .. 14;
print "chunks: @chunks\n";
my $w = eval { my $t = "short"; substr($t, 10, 1) = "x"; 1 };
print "out of range: ", ($w ? "ok" : ($@ =~ /substr outside of string/ ? "substr outside of string" : $@)), "\n";
warn "substr ops done\n";

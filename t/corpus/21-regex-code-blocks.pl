# Exercises: regex code blocks (?{ }) and postponed subexpressions (??{ })
use strict;
use warnings;

my $text = join ' ', map { "tok$_" . ("x" x ($_ % 4)) } 1 .. 300;
my @seen;
my $count = 0;
while ($text =~ /tok(\d+)(?{ push @seen, "n=$1"; $count++ })(x*)/g) { }
print "matches: $count, seen: @seen[0..4], last: $seen[-1]\n";

my @positions;
"abcabcabc" =~ /(?:b(?{ push @positions, pos() }))*c(?{ push @positions, "c@" . pos() })$/;
print "positions: @positions\n";

my $balanced;
$balanced = qr/\((?:[^()]++|(??{ $balanced }))*\)/;
for my $s ("(a(b)c)", "((x)(y(z)))", "(unbalanced", "no parens") {
    printf "%-14s %s\n", $s, ($s =~ /^$balanced$/ ? "balanced" : "not");
}
my $res;
"key=value" =~ /^(\w+)=(\w+)$(?{ $res = { $1 => $2 . "!" x 3 } })/;
print "built: ", join(',', map { "$_:$res->{$_}" } sort keys %$res), "\n";
my @lens;
"aaa bb c dddd" =~ /(?:(\w+)(?{ push @lens, length $^N })\s*)+/;
print "lens: @lens\n";
warn "regex code blocks ran $count times\n";

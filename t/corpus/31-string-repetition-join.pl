# Exercises: string repetition, list repetition, big joins and chained string operations
use strict;
use warnings;

my $line = "-=" x 5000;
print "line length: ", length($line), "\n";
my @rep = ("ab", "cd") x 20000;
print "list rep: ", scalar(@rep), "\n";
my $big = join ",", map { $_ x 3 } @rep;
print "big join length: ", length($big), "\n";
my $huge = join "", ("0123456789" x 100) x 200;
print "huge length: ", length($huge), "\n";
my $chained = lc(uc(reverse(join('|', map { ucfirst lc "WoRd$_" } 1 .. 1000)))) . "-end";
$chained = ucfirst(substr($chained, 0, 50)) . "..." . substr($chained, -20);
print "chained: $chained\n";
my $s = "The quick brown fox";
my $r = join ' ', map { scalar reverse } split / /, lc $s;
$r = ucfirst($r) . "!" x 3;
print "reversed words: $r\n";
my $acc = '';
$acc .= sprintf("%04d", $_) . ($_ % 10 ? "" : "\n") for 1 .. 100;
my @acc_lines = split /\n/, $acc;
print "acc lines: ", scalar(@acc_lines), " first: $acc_lines[0]\n";
my $x = "abc" . "def" x 2 . "ghi" . lc("JKL") . uc("mno") . join("", reverse 1 .. 5);
print "concat: $x\n";
print "index: ", index($huge, "9012", 5000), " rindex: ", rindex($big, "cdcdcd"), "\n";
warn "string ops: ", length($big) + length($huge), " bytes built\n";

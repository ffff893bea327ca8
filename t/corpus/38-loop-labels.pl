# Exercises: wide nested loops with labelled last/next/redo
use strict;
use warnings;

my @found;
OUTER: for my $i (1 .. 200) {
    INNER: for my $j (1 .. 200) {
        next OUTER if $j > $i;
        next INNER if ($i + $j) % 3;
        if ($i * $j > 30000) { push @found, "stop at $i,$j"; last OUTER }
        push @found, "$i,$j" if $i * $j % 97 == 0;
    }
}
print "found: ", scalar(@found), " last: $found[-1]\n";
print "first few: @found[0..4]\n";

my %grid;
ROW: for my $r (0 .. 99) {
    my $row = '';
    COL: for my $c (0 .. 99) {
        next COL if ($r ^ $c) & 1;
        last COL if $c > $r;
        $row .= chr(97 + ($r + $c) % 26);
    }
    next ROW unless length $row;
    $grid{$r} = $row;
}
print "grid rows: ", scalar(keys %grid), " row 50: $grid{50}\n";

my ($tries, @log) = (0);
ITEM: for my $item (qw(a b c)) {
    $tries++;
    if ($item eq 'b' && $tries < 5) { push @log, "redo $item"; redo ITEM }
    push @log, "done $item";
}
print "redo log: @log\n";
my $n = 0;
WHILE: while (1) {
    $n++;
    do { next WHILE } if $n % 2;
    last WHILE if $n > 1000;
}
print "while ended at $n\n";
warn "loops finished\n";

# Exercises: BEGIN blocks that print and allocate, UNITCHECK/CHECK/INIT ordering
use strict;
use warnings;

our (@order, %seen);
BEGIN { push @order, "BEGIN 1"; print "BEGIN 1 runs at compile time\n" }
print "main runs: @order\n";
BEGIN {
    %seen = map { ("b$_" => "v" x $_) } 1 .. 100;
    push @order, "BEGIN 2";
    print "BEGIN 2 built ", scalar(keys %seen), " keys\n";
    warn "warning from BEGIN 2\n";
}
INIT { push @order, "INIT"; print "INIT block\n" }
CHECK { push @order, "CHECK"; print "CHECK block\n" }
UNITCHECK { push @order, "UNITCHECK"; print "UNITCHECK block\n" }
BEGIN {
    no strict 'refs';
    for my $n (1 .. 5) { *{"main::gen$n"} = sub { "generated $n: " . ("*" x $n) } }
    push @order, "BEGIN 3";
}
print main::gen3(), "\n";
print "length of b50: ", length($seen{b50}), "\n";
print "final order: @order\n";
my $x = eval "BEGIN { push \@main::order, 'BEGIN in eval' } 42";
print "eval returned $x, order now: @order[-2,-1]\n";

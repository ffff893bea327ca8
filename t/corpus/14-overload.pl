# Exercises: overload of +, "", ==, <=> on a vector class
package Vec;
use strict;
use warnings;
use overload
    '+'   => \&add,
    '""'  => \&str,
    '=='  => sub { $_[0]->norm2 == (ref $_[1] ? $_[1]->norm2 : $_[1]) },
    '<=>' => sub { my ($x, $y, $swap) = @_; my $r = $x->norm2 <=> (ref $y ? $y->norm2 : $y); $swap ? -$r : $r };

sub new { my $c = shift; bless [@_], $c }
sub add {
    my ($x, $y) = @_;
    return Vec->new(map { $_ + $y } @$x) unless ref $y;
    return Vec->new(map { $x->[$_] + $y->[$_] } 0 .. $#$x);
}
sub str { "(" . join(", ", @{ $_[0] }) . ")" }
sub norm2 { my $s = 0; $s += $_ * $_ for @{ $_[0] }; $s }

package main;
use strict;
use warnings;

my @vs = map { Vec->new($_ % 7, $_ % 5, $_ % 3) } 1 .. 200;
my $sum = Vec->new(0, 0, 0);
$sum = $sum + $_ for @vs;
print "sum: $sum\n";
my $shifted = $vs[3] + 10;
print "shifted: $shifted\n";
my @sorted = sort { $a <=> $b } @vs[0 .. 19];
print "sorted: @sorted[0..4]\n";
print "equal: ", ($vs[0] == $vs[105] ? "yes" : "no"), "\n";
print "equal to number: ", (Vec->new(3, 4) == 25 ? "yes" : "no"), "\n";
print "cmp number: ", (30 <=> Vec->new(3, 4)), "\n";
my $s = join ";", map { "$_" } @vs[0 .. 9];
print "joined: $s\n";
warn "last vector: $vs[-1]\n";

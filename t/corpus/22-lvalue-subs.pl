# Exercises: lvalue subs assigned to, modified in place, and used with substr
use strict;
use warnings;

my %store;
my @slots = (0) x 10;
sub slot :lvalue { $slots[ $_[0] ] }
sub field :lvalue { my $k = shift; $store{$k} }

package Counter;
sub new { bless { count => 0, name => '' }, shift }
sub count :lvalue { $_[0]{count} }
sub name :lvalue { $_[0]{name} }

package main;

slot($_) = $_ * $_ for 0 .. 9;
slot(3) += 100;
slot(4) .= "-suffix";
print "slots: @slots\n";
field("k$_") = "value $_" x 2 for 1 .. 50;
field("k7") =~ s/value/VALUE/g;
print "k7: ", field("k7"), "\n";
print "store size: ", scalar(keys %store), "\n";

my @cs = map { Counter->new } 1 .. 5;
for my $i (0 .. $#cs) {
    $cs[$i]->count++ for 1 .. $i * 10;
    $cs[$i]->name = "counter-$i";
    $cs[$i]->name .= "!" x $i;
}
print $_->name, " = ", $_->count, "\n" for @cs;
my $s = "Hello, world";
sub mid :lvalue { substr($s, 7, 5) }
mid() = "Perl lvalues";
print "$s\n";
warn "lvalue subs done\n";

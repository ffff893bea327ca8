# Exercises: Scalar::Util::weaken on references; weak refs becoming undef
use strict;
use warnings;
use Scalar::Util qw(weaken isweak);

my @weak;
{
    my @strong = map { { id => $_, data => "d" x 100 } } 1 .. 10;
    @weak = @strong;
    weaken($_) for @weak;
    print "inside: defined=", scalar(grep { defined } @weak), " isweak=", scalar(grep { isweak($_) } @weak), "\n";
    splice @strong, 0, 5;
    print "after splice: defined=", scalar(grep { defined } @weak), "\n";
}
print "outside: defined=", scalar(grep { defined } @weak), "\n";

my %cache;
my @keep;
for my $i (1 .. 100) {
    my $obj = { n => $i, label => "obj$i" };
    $cache{$i} = $obj;
    weaken $cache{$i};
    push @keep, $obj if $i % 10 == 0;
}
my @alive = sort { $a <=> $b } grep { defined $cache{$_} } keys %cache;
print "cache alive: @alive\n";

package Tree;
use Scalar::Util qw(weaken);
sub new { my ($c, $name) = @_; bless { name => $name, kids => [], parent => undef }, $c }
sub add { my ($s, $k) = @_; push @{ $s->{kids} }, $k; $k->{parent} = $s; weaken $k->{parent}; $k }
sub DESTROY { print "Tree $_[0]{name} destroyed\n" }
package main;
{
    my $root = Tree->new("root");
    my $child = $root->add(Tree->new("child"));
    $child->add(Tree->new("grandchild"));
    print "child parent: $child->{parent}{name}\n";
}
print "trees gone\n";
my $copy;
{
    my $x = [1 .. 5];
    $copy = $x;
    weaken $copy;
    my $strong_again = $copy;
    print "isweak copy: ", (isweak($copy) ? 1 : 0), " strong_again: ", (isweak($strong_again) ? 1 : 0), "\n";
}
print "copy after scope: ", (defined $copy ? "alive" : "undef"), "\n";
warn "weak refs done\n";

# Exercises: wantarray in list, scalar and void context
use strict;
use warnings;

my @calls;
sub ctx {
    my $n = shift;
    my $w = wantarray;
    my $kind = !defined $w ? 'void' : $w ? 'list' : 'scalar';
    push @calls, "$kind($n)";
    return unless defined $w;
    my @r = map { "$kind-$_" } 1 .. $n;
    return $w ? @r : join('+', @r);
}

my @list = ctx(3);
my $scalar = ctx(4);
ctx(5);
my ($first) = ctx(2);
my $count = () = ctx(6);
my @nested = map { scalar ctx($_) } 1 .. 3;
my %h = (key => ctx(1));
print "list: @list\n";
print "scalar: $scalar\n";
print "first: $first\n";
print "count: $count\n";
print "nested: @nested\n";
print "hash: $h{key}\n";
if (ctx(1)) { print "boolean context is scalar\n" }
print "calls: @calls\n";
sub void_check { ctx(7); return }
void_check();
print "last call: $calls[-1]\n";
warn "wantarray calls: ", scalar(@calls), "\n";

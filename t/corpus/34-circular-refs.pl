# Exercises: circular references that leak, and explicit cycle breaking
use strict;
use warnings;

my $destroyed = 0;
package Cyc;
sub new { my ($c, $n) = @_; bless { n => $n, buf => "c" x 200 }, $c }
sub DESTROY { $destroyed++ }
package main;

for my $i (1 .. 50) {
    my $a = Cyc->new($i);
    my $b = Cyc->new(-$i);
    $a->{peer} = $b;
    $b->{peer} = $a;
}
print "after leaking cycles: destroyed=$destroyed\n";

for my $i (1 .. 50) {
    my $a = Cyc->new($i);
    my $b = Cyc->new(-$i);
    $a->{peer} = $b;
    $b->{peer} = $a;
    delete $a->{peer};
}
print "after broken cycles: destroyed=$destroyed\n";

my @ring = map { { id => $_ } } 0 .. 99;
$ring[$_]{next} = $ring[ ($_ + 1) % @ring ] for 0 .. $#ring;
my ($node, $steps, @path) = ($ring[0], 0);
while ($steps < 250) { push @path, $node->{id} if $steps % 50 == 0; $node = $node->{next}; $steps++ }
print "ring walk: @path, ended at $node->{id}\n";
$_->{next} = undef for @ring;
@ring = ();

my $self_ref;
$self_ref = \$self_ref;
my @arr;
push @arr, \@arr;
print "self refs built: ", (ref $self_ref), " ", (ref $arr[0]), "\n";
@arr = ();
warn "circular refs: $destroyed destroyed before exit\n";

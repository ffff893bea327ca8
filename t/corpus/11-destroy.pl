# Exercises: DESTROY called when objects go out of scope (normal destruction)
package Node;
use strict;
use warnings;
our @destroyed;
sub new { my ($c, $id) = @_; bless { id => $id, payload => "p" x (100 + $id) }, $c }
sub DESTROY { my $s = shift; push @destroyed, $s->{id} }

package main;
use strict;
use warnings;

{
    my @nodes = map { Node->new($_) } 1 .. 10;
    print "created ", scalar(@nodes), "\n";
}
print "after scope: @Node::destroyed\n";
@Node::destroyed = ();

my %registry = map { ("k$_" => Node->new($_ + 100)) } 1 .. 20;
delete $registry{"k$_"} for grep { $_ % 2 } 1 .. 20;
print "after deletes: ", join(',', sort { $a <=> $b } @Node::destroyed), "\n";
@Node::destroyed = ();
%registry = ();
print "after clear: ", join(',', sort { $a <=> $b } @Node::destroyed), "\n";
@Node::destroyed = ();

sub temp { my $n = Node->new(shift); return $n->{id} * 2 }
print "temp: ", temp($_), "\n" for 500, 501;
print "temps destroyed: @Node::destroyed\n";

package Loud;
sub new { bless { name => $_[1] }, $_[0] }
sub DESTROY { warn "Loud $_[0]{name} destroyed\n" }
package main;
{ my $l = Loud->new("alpha"); my $m = Loud->new("beta"); undef $l; }
print "end of main\n";

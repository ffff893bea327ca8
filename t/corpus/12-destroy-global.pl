# Exercises: DESTROY running during global destruction for an object held in a global
package Sentinel;
use strict;
use warnings;
sub new {
    my ($class, $name) = @_;
    return bless { name => $name, data => [ map { "$name-$_" } 1 .. 100 ] }, $class;
}
sub DESTROY {
    my $self = shift;
    my $phase = ${^GLOBAL_PHASE};
    my $summary = join ',', @{ $self->{data} }[0 .. 2];
    print "DESTROY $self->{name} in phase $phase: $summary\n";
    warn "Sentinel $self->{name} gone ($phase)\n";
}

package main;
use strict;
use warnings;

our $GLOBAL = Sentinel->new("global");
{
    my $local = Sentinel->new("lexical");
}
print "main body done, phase ${^GLOBAL_PHASE}\n";

# Exercises: Moose classes with roles (requires), attributes with defaults and builders, make_immutable
package Describable;
use Moose::Role;
requires 'describe_core';
has 'tags' => (is => 'ro', isa => 'ArrayRef[Str]', default => sub { [] });
sub describe {
    my $self = shift;
    return $self->describe_core . (@{ $self->tags } ? " [" . join(',', @{ $self->tags }) . "]" : "");
}

package Shape;
use Moose;
with 'Describable';
has 'name'  => (is => 'ro', isa => 'Str', required => 1);
has 'sides' => (is => 'ro', isa => 'Int', default => 0);
has 'area'  => (is => 'ro', isa => 'Num', lazy => 1, builder => '_build_area');
has 'history' => (is => 'rw', isa => 'ArrayRef', default => sub { [] }, traits => ['Array'],
                  handles => { add_history => 'push', history_count => 'count' });
sub _build_area { 0 }
sub describe_core { my $s = shift; sprintf "%s with %d sides, area %.2f", $s->name, $s->sides, $s->area }
__PACKAGE__->meta->make_immutable;

package Square;
use Moose;
extends 'Shape';
has 'side' => (is => 'ro', isa => 'Num', required => 1);
has '+sides' => (default => 4);
sub _build_area { $_[0]->side ** 2 }
__PACKAGE__->meta->make_immutable;

package Circle;
use Moose;
extends 'Shape';
has 'radius' => (is => 'ro', isa => 'Num', default => 1);
sub _build_area { 3.14159265 * $_[0]->radius ** 2 }
__PACKAGE__->meta->make_immutable;

package main;
use strict;
use warnings;

my @shapes;
push @shapes, Square->new(name => "sq$_", side => $_, tags => ["size$_"]) for 1 .. 20;
push @shapes, Circle->new(name => "c$_", radius => $_ / 2) for 1 .. 20;
$_->add_history("created", "measured") for @shapes;
print $_->describe, "\n" for @shapes[0, 1, 19, 20, 39];
printf "total area: %.3f\n", List::Util::sum(map { $_->area } @shapes);
print "does Describable: ", (Square->does('Describable') ? "yes" : "no"), "\n";
print "immutable: ", (Square->meta->is_immutable ? "yes" : "no"), "\n";
print "history: ", $shapes[5]->history_count, "\n";
my $err = eval { Square->new(name => "bad"); 1 } ? "none" : ($@ =~ /^(Attribute \(side\) is required)/)[0];
print "error: $err\n";
my $err2 = eval { Circle->new(name => "c", radius => "big"); 1 } ? "none" : ($@ =~ /(Validation failed for 'Num')/)[0];
print "error2: $err2\n";
eval q{ package BadShape; use Moose; with 'Describable'; 1 } or print "role requirement: ", ($@ =~ /requires the method 'describe_core'/ ? "enforced" : "other: $@"), "\n";
warn "moose shapes: ", scalar(@shapes), "\n";

# Exercises: AUTOLOAD generating accessor methods on demand
package Dyn;
use strict;
use warnings;
our $AUTOLOAD;
my %generated;

sub new { my $c = shift; bless { @_ }, $c }

sub AUTOLOAD {
    my $name = $AUTOLOAD;
    $name =~ s/.*:://;
    return if $name eq 'DESTROY';
    die "no method $name\n" unless $name =~ /^(get|set)_(\w+)$/;
    my ($kind, $field) = ($1, $2);
    $generated{$name}++;
    no strict 'refs';
    *{$AUTOLOAD} = $kind eq 'get'
        ? sub { $_[0]{$field} }
        : sub { $_[0]{$field} = $_[1]; $_[0] };
    goto &$AUTOLOAD;
}

sub generated { join ',', sort keys %generated }

package main;
use strict;
use warnings;

my @objs = map { Dyn->new(id => $_, name => "obj$_") } 1 .. 100;
$_->set_label("label-" . $_->get_id) for @objs;
my $len = 0;
$len += length $_->get_label . $_->get_name for @objs;
print "total length: $len\n";
print "generated: ", Dyn::generated(), "\n";
print "obj 42: ", $objs[41]->get_label, "\n";
eval { $objs[0]->frobnicate };
print "error: $@";
warn "autoload calls done\n";

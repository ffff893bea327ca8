# Exercises: Carp::croak, Carp::confess, carp and cluck inside eval (first lines only)
use strict;
use warnings;
use Carp qw(croak confess carp cluck);

package Validator;
use Carp qw(croak confess);
sub new { my ($c, %a) = @_; bless { rules => [ map { "rule$_" } 1 .. 10 ], %a }, $c }
sub check {
    my ($self, $v) = @_;
    croak "value '$v' is negative" if $v < 0;
    confess "value '$v' is too large" if $v > 100;
    return "ok $v";
}

package main;

sub first_line { my $m = shift; (split /\n/, $m)[0] }
my $val = Validator->new;
for my $v (5, -3, 500) {
    my $r = eval { $val->check($v) };
    print defined $r ? "$r\n" : "error: " . first_line($@) . "\n";
}
sub wrapper { $val->check(@_) }
my $r2 = eval { wrapper(1000) };
my @lines = split /\n/, $@;
print "confess first: $lines[0]\n";
print "confess has backtrace: ", (@lines > 1 ? "yes" : "no"), "\n";
print "backtrace mentions wrapper: ", ((grep { /main::wrapper/ } @lines) ? "yes" : "no"), "\n";
my $r3 = eval { sub { croak "from anon" }->(); 1 };
print "anon croak: ", first_line($@), "\n";
{
    my @w;
    local $SIG{__WARN__} = sub { push @w, first_line($_[0]) };
    sub noisy { carp "carped warning"; cluck "clucked warning" }
    noisy();
    print "warn: $_\n" for @w;
}
carp "carp at top level";
warn "carp done\n";

# Exercises: die with an exception object that overloads stringification (caught, then uncaught)
package MyError;
use strict;
use warnings;
use overload '""' => sub { my $s = shift; "MyError[$s->{code}]: $s->{message}" . ($s->{context} ? " (context: " . join('/', @{ $s->{context} }) . ")" : "") . "\n" },
             'bool' => sub { 1 }, fallback => 1;
sub new { my ($c, %a) = @_; bless { %a }, $c }
sub throw { my $c = shift; die $c->new(@_) }

package main;
use strict;
use warnings;

my @errors;
for my $i (1 .. 20) {
    eval { MyError->throw(code => $i, message => "failure number $i", context => [ map { "f$_" } 1 .. $i % 4 ]) };
    push @errors, $@ if ref $@;
}
print "caught ", scalar(@errors), " objects\n";
print "first: $errors[0]";
print "last: $errors[-1]";
print "isa: ", ($errors[0]->isa('MyError') ? "yes" : "no"), "\n";
my $msg = eval { die MyError->new(code => 500, message => "in eval") } || "$@";
print "stringified: $msg";
warn $errors[2];
MyError->throw(code => 99, message => "uncaught at top level", context => ["main"]);
print "not reached\n";

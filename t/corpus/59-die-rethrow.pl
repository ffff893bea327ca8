# Exercises: die rethrown through several eval levels with $@ propagation and PROPAGATE
use strict;
use warnings;

sub level {
    my $n = shift;
    my @buf = map { "L$n-$_" } 1 .. 20;
    if ($n == 0) { die "base failure with " . scalar(@buf) . " items\n" }
    eval { level($n - 1) };
    die "level $n: $@" if $@;
    return "no error";
}
my $r = eval { level(6) };
print "final error:\n$@";

eval {
    eval {
        eval { die "innermost\n" };
        die;
    };
    die;
};
print "empty die propagation: $@";

package Err;
sub new { bless { trail => [] }, shift }
sub PROPAGATE { my ($s, $f, $l) = @_; push @{ $s->{trail} }, "line $l"; $s }
package main;
eval {
    eval {
        eval { die Err->new };
        die;
    };
    die;
};
print "PROPAGATE trail: ", join(', ', @{ $@->{trail} }), "\n";

my @collected;
for my $i (1 .. 5) {
    eval {
        eval { die "attempt $i\n" };
        push @collected, "caught $@";
        die "wrapped($i): $@" if $i % 2;
    };
    push @collected, "outer $@" if $@;
}
print @collected;
eval { eval { die "x\n" }; print "inside after inner: $@"; 1 } and print "outer ok, \$\@ empty: ", ($@ eq '' ? "yes" : "no"), "\n";
warn "last error was: $@" if $@;
die "top-level rethrow: $@" if !eval { level(2); 1 };

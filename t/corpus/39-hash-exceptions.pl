# Exercises: die with hash-reference exceptions, inspected and rethrown
use strict;
use warnings;

sub risky {
    my $n = shift;
    my @trail = map { "step$_" } 1 .. $n;
    die { code => 42, msg => "bad input $n", trail => \@trail } if $n % 3 == 0;
    die [ "array", "exception", $n ] if $n % 5 == 0;
    return scalar @trail;
}

my %by_code;
for my $n (1 .. 30) {
    my $r = eval { risky($n) };
    if (my $e = $@) {
        if (ref $e eq 'HASH') {
            push @{ $by_code{ $e->{code} } }, "$e->{msg} (" . scalar(@{ $e->{trail} }) . ")";
        } elsif (ref $e eq 'ARRAY') {
            push @{ $by_code{array} }, join(' ', @$e);
        }
    }
}
for my $code (sort keys %by_code) {
    print "$code: ", scalar(@{ $by_code{$code} }), " first=$by_code{$code}[0] last=$by_code{$code}[-1]\n";
}
eval { die { code => 42 } };
print "code: $@->{code}\n";
my $outer = eval {
    eval { die { code => 7, msg => "inner" } };
    my $e = $@;
    $e->{msg} .= " -> rethrown";
    $e->{code}++;
    die $e;
};
print "rethrown: code=$@->{code} msg=$@->{msg}\n";
eval { eval { die { level => 1 } }; die { level => $@->{level} + 1, cause => $@ } };
print "chained levels: $@->{level} cause=$@->{cause}{level}\n";
warn "hash exceptions: ", scalar(@{ $by_code{42} }), " with code 42\n";

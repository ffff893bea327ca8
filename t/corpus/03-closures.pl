# Exercises: closures and anonymous subs capturing lexicals
use strict;
use warnings;

sub make_counter {
    my ($start, $step) = @_;
    my @history;
    return {
        next  => sub { push @history, $start; $start += $step; $history[-1] },
        hist  => sub { join ',', @history },
        reset => sub { @history = (); $start = 0 },
    };
}

my @counters = map { make_counter($_, $_ * 2) } 1 .. 10;
for my $round (1 .. 5) {
    $_->{next}->() for @counters;
}
print "counter $_: ", $counters[$_]{hist}->(), "\n" for 0 .. 9;

my @adders = map { my $n = $_; sub { $_[0] + $n } } 1 .. 100;
my $sum = 0;
$sum += $_->(1000) for @adders;
print "sum of adders: $sum\n";

my $compose = sub { my @f = @_; sub { my $x = shift; $x = $_->($x) for reverse @f; $x } };
my $f = $compose->(sub { "<$_[0]>" x 2 }, sub { $_[0] + 3 }, sub { $_[0] * 2 });
print "composed: ", $f->(5), "\n";
$counters[0]{reset}->();
print "after reset: [", $counters[0]{hist}->(), "]\n";
warn "closures built: ", scalar(@adders) + 3 * @counters, "\n";

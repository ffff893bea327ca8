# Exercises: __SUB__ (feature 'current_sub') for recursion in anonymous subs
use strict;
use warnings;
use feature qw(current_sub say);

my $fib = sub {
    my $n = shift;
    return $n if $n < 2;
    return __SUB__->($n - 1) + __SUB__->($n - 2);
};
say "fib(20) = ", $fib->(20);

my $flatten = sub {
    map { ref $_ ? __SUB__->(@$_) : $_ } @_;
};
my $tree = [ 1, [ 2, [ 3, [ 4, [ 5 ] ] ], 6 ], [ [ [ 7 ] ] ], map { [ $_, [ $_ * 10 ] ] } 8 .. 12 ];
say "flattened: ", join(' ', $flatten->(@$tree));

my $build = sub {
    my $d = shift;
    return { leaf => "x" x $d } if $d == 0;
    return { left => __SUB__->($d - 1), right => __SUB__->($d - 1), depth => $d };
};
my $t = $build->(12);
my $count = sub { my $n = shift; exists $n->{leaf} ? 1 : __SUB__->($n->{left}) + __SUB__->($n->{right}) };
say "leaves: ", $count->($t);
my $deep = sub { my $n = shift; $n == 0 ? "bottom" : __SUB__->($n - 1) };
{ no warnings 'recursion'; say "deep: ", $deep->(2000); }
sub named { my $n = shift; $n ? __SUB__->($n - 1) . $n : "" }
say "named: ", named(9);
warn "__SUB__ recursion done\n";

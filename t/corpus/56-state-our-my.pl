# Exercises: state variables (feature 'state') and our vs my shadowing across scopes and packages
use strict;
use warnings;
use feature qw(state say);

sub counter { state $n = 0; state @hist; push @hist, "c" . ++$n; return "$n:" . join(',', @hist > 3 ? @hist[-3 .. -1] : @hist) }
say counter() for 1 .. 5;
sub memo { my $k = shift; state %cache; return $cache{$k} //= join '', map { chr(65 + ($k + $_) % 26) } 0 .. $k % 10 }
my @m = map { memo($_ % 20) } 1 .. 1000;
say "memo: @m[0..4]";
my @gens = map { my $id = $_; sub { state $calls = 0; ++$calls . "/$id" } } 1 .. 3;
say join ' ', map { $_->() } @gens, @gens, $gens[0];

our $x = "global x";
my $y = "lexical y";
{
    my $x = "shadowing my x";
    say "inner my: $x; our via package: $main::x";
    {
        no warnings 'shadow';
        our $x;
        say "our re-exposes: $x";
        local $x = "localized global";
        say "local: $x, show_x: ", show_x();
    }
    say "back to my: $x";
}
sub show_x { return $x }
say "after: $x, show_x: ", show_x();
package Other;
our $x = "Other x";
say "in Other: $x and main: $main::x";
{
    package main;
    say "main block sees: $x";
}
package main;
our @list = map { "g$_" } 1 .. 5;
{ my @list = ("lexical"); say "my list: @list; our list: @main::list"; }
warn "state and scoping done: ", counter(), "\n";

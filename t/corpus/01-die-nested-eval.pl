# Exercises: die inside nested eval blocks, $@ inspection at each level
use strict;
use warnings;

my @log;
for my $i (1 .. 50) {
    my $outer = eval {
        my @buf = map { "item-$i-$_" } 1 .. 20;
        my $inner = eval {
            my %h = map { $_ => length $_ } @buf;
            die "inner failure $i\n" if $i % 3 == 0;
            scalar keys %h;
        };
        push @log, defined $inner ? "inner ok $inner" : "inner caught: $@";
        die "outer failure $i\n" if $i % 5 == 0;
        join(',', @buf[0 .. 2]);
    };
    push @log, defined $outer ? "outer ok $outer" : "outer caught: $@";
}
chomp @log;
print "$_\n" for @log[0 .. 14];
print "total log lines: ", scalar(@log), "\n";
my $caught = grep { /caught/ } @log;
print "caught: $caught\n";
warn "nested eval done, $caught exceptions\n";

#!/usr/bin/perl
# A small log analyser with the memory habits of real programs: a cache
# that only grows, temporary structures built and dropped, string
# building, and a leak through a reference cycle.
use strict;
use warnings;

my %cache;    # grows for the life of the program

sub make_log {
    my ($n) = @_;
    my @levels = qw(INFO WARN ERROR DEBUG);
    return map { sprintf "2026-11-%02d %s user%d /path/%d %d", 1 + $_ % 28, $levels[ $_ % 4 ], $_ % 997, $_ % 101,
            200 + $_ % 7 } 1 .. $n;
}

sub parse_lines {
    my @records;
    for my $line (@_) {
        my ( $date, $level, $user, $path, $status ) = split / /, $line;
        push @records, { date => $date, level => $level, user => $user, path => $path, status => $status };
    }
    return \@records;
}

sub remember_users {
    my ($records) = @_;
    for my $r (@$records) {
        $cache{ $r->{user} } //= { seen => 0, history => [] };
        $cache{ $r->{user} }{seen}++;
        push @{ $cache{ $r->{user} }{history} }, $r->{path};
    }
}

sub build_report {
    my ($records) = @_;
    my %by_level;
    $by_level{ $_->{level} }++ for @$records;
    my $report = '';
    $report .= sprintf "%-5s %d\n", $_, $by_level{$_} for sort keys %by_level;
    $report .= "-" x 40 . "\n";
    return $report;
}

my @leaked;
sub leak_a_cycle {
    my $node = { payload => 'x' x 10_000 };
    $node->{self} = $node;    # never freed: the cycle keeps it alive
    push @leaked, 1;
}

for my $batch ( 1 .. 5 ) {
    my @lines   = make_log(20_000);
    my $records = parse_lines(@lines);
    remember_users($records);
    print build_report($records) if $batch == 5;
    leak_a_cycle() for 1 .. 20;
}
printf "%d users cached, %d cycles leaked\n", scalar keys %cache, scalar @leaked;

# Exercises: local on hash elements and array elements, restored on scope exit
use strict;
use warnings;

our %config = (level => 1, name => "base", list => [1, 2, 3]);
our @stack = ("a" .. "e");
my @trace;

sub show { join ',', map { "$_=" . (ref $config{$_} ? "[@{$config{$_}}]" : $config{$_} // 'undef') } sort keys %config }

sub nested {
    my $depth = shift;
    local $config{level} = $config{level} + 1;
    local $config{"tmp$depth"} = "temporary " x $depth;
    local $stack[$depth % 5] = uc $stack[$depth % 5] . $depth;
    push @trace, "depth $depth: level=$config{level} stack=@stack";
    nested($depth + 1) if $depth < 4;
}
nested(1);
print "$_\n" for @trace;
print "after: ", show(), "\n";
print "stack after: @stack\n";
my %h = (x => 1);
{
    local $h{y} = "new";
    local @h{qw(a b)} = ("A", "B");
    print "inside: ", join(',', map { "$_=$h{$_}" } sort keys %h), "\n";
}
print "outside: ", join(',', map { "$_=$h{$_}" } sort keys %h), "\n";
{
    local $ENV{MEMPROF_CORPUS_TEST} = "set";
    print "env inside: $ENV{MEMPROF_CORPUS_TEST}\n";
}
print "env outside: ", (exists $ENV{MEMPROF_CORPUS_TEST} ? "exists" : "gone"), "\n";
warn "local elements restored\n";

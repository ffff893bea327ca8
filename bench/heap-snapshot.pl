#!/usr/bin/perl
# The heap snapshot's speed and memory (issue 15): a hash of a million keys
# holding small arrays, about 5 million SVs, then a snapshot.
#
#   memprof run -q --no-render -o /tmp/heap.out -- bench/heap-snapshot.pl
#   memprof heap /tmp/heap.out --snapshot big --top 1 --depth 1
#
# The report's first lines say how long the snapshot took and how much
# memory the walk mapped for itself, against the live heap.
use strict;
use warnings;

my $keys = shift // 1_000_000;
my %h;
$h{"key$_"} = [ 1, 2, 3 ] for 1 .. $keys;
Devel::MemProf::snapshot("big") if defined &Devel::MemProf::snapshot;
print scalar( keys %h ), " keys\n";

# Test::MemProf's no_leaks_ok and leaked_bytes (issue 19): leaks fail and
# name the line that allocated what leaked; a cache filled on the first
# call, a weakened cycle and a value each call replaces pass.
use strict;
use warnings;

# The library is loaded into this process: it must be the perl it was built for.
BEGIN { exec $ENV{PERL}, $0, @ARGV or die "exec $ENV{PERL}: $!" if $ENV{PERL} && $ENV{PERL} ne $^X }
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;
use Scalar::Util qw(weaken);

use lib repo_root() . '/lib';
use lib perl_lib_dir();
use Test::MemProf;


my $here = __FILE__;

# A closure that captures itself: each call leaks the closure and its pad.
my $closure_line = __LINE__ + 1;
sub make_self_closure { my $f; $f = sub { $f->() }; return }
my ( $pass, $diag ) = outcome { no_leaks_ok { make_self_closure() } 'closure' };
is( $pass, 0, 'a closure capturing itself fails' );
like( $diag, qr/the block leaks: 5 runs leaked [\d.]+ (?:bytes|KiB).* and (\d+) scalars/, '... with the bytes and scalars leaked' );
like( $diag, qr/the leaked bytes were allocated by:\n  .* at \Q$here\E line $closure_line: sub make_self_closure/,
    '... naming the leaking line' );

# The same cycle broken with weaken is freed.
( $pass, $diag ) = outcome {
    no_leaks_ok {
        my $f;
        my $strong = sub { $f->() if 0 };
        $f = $strong;
        weaken($f);    # the closure's own reference to itself no longer counts
        my %node = ( name => 'n' x 100 );
        $node{self} = \%node;
        weaken( $node{self} );
    } 'weakened';
};
is( $pass, 1, 'a cycle broken with weaken passes' ) or diag $diag;

# A cache filled on the first call: the first call keeps memory, later ones don't.
my %cache;
sub lookup { my ($k) = @_; return $cache{$k} //= [ map { "entry $_" } 1 .. 200 ] }
my $first = Devel::MemProf::measure( sub { lookup('a') } );
cmp_ok( $first->{retained}, '>', 1000, "a naive check flags the cache: its first call retains $first->{retained} bytes" );
( $pass, $diag ) = outcome { no_leaks_ok { lookup('b') } 'cache' };
is( $pass, 1, '... no_leaks_ok passes it: the cache is full after the warm-up call' ) or diag $diag;
is( leaked_bytes { lookup('c') }, 0, '... and leaked_bytes is 0' );

# One 16-byte string per call, kept forever.  (Made at run time: a
# constant would be shared copy-on-write, with no buffer of its own.)
my @kept;
my $n = 0;
my $string_line = __LINE__ + 1;
sub keep_string { push @kept, sprintf '%016d', ++$n; return }
( $pass, $diag ) = outcome { no_leaks_ok { keep_string() } 'string' };
is( $pass, 0, 'a leak of one 16-byte string per call fails' );
like( $diag, qr/the leaked bytes were allocated by:\n  \d+ bytes in \d+ blocks at \Q$here\E line $string_line: sub keep_string/,
    '... naming the leaking line' );
my $leaked = leaked_bytes { keep_string() };
cmp_ok( $leaked, '>=', 5 * 17, "leaked_bytes counts at least 5 string buffers of 17 bytes in 5 runs ($leaked)" );
cmp_ok( $leaked, '<', 5 * 17 + 1024, '... and not much more (the array that holds them grows too)' );
my $leaked20 = leaked_bytes { keep_string() } runs => 20;
cmp_ok( $leaked20, '>=', 20 * 17, "runs => 20 counts 20 runs' leak ($leaked20)" );

# A value each call replaces is held after every series, but does not grow.
my $last;
( $pass, $diag ) = outcome { no_leaks_ok { $last = [ ('x') x 100 ] } 'replaced' };
is( $pass, 1, 'a value each call replaces passes' ) or diag $diag;

# A leak of scalars alone has no heap block of its own: it shows in the SV count.
( $pass, $diag ) = outcome { no_leaks_ok { my $x; $x = \$x; } 'scalar cycle' };
is( $pass, 0, 'a scalar that refers to itself fails' );
like( $diag, qr/5 runs leaked 0 bytes and 5 scalars/, '... on the count of scalars: one a run' );

eval { no_leaks_ok { 1 } runs => 0 };
like( $@, qr/runs must be a whole number of at least 1, not '0'/, 'runs => 0 croaks' );
eval { no_leaks_ok { 1 } repeat => 3, 'x' };
like( $@, qr/unknown option 'repeat' \(it takes runs\)/, 'an unknown option croaks' );

my $calls = 0;
no_leaks_ok { $calls++ } runs => 2, 'no_leaks_ok reports through Test::Builder';
is( $calls, 1 + 2 + 4, 'the block ran once to warm up, then 2 and 4 times' );

done_testing;

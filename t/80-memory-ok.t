# Test::MemProf's memory_ok and sizes (issue 19): a block under its budget
# passes, one over it fails naming the line that allocated, with its
# source.  Runs under plain prove: Test::MemProf loads Devel::MemProf
# without -d.
use strict;
use warnings;

# The library is loaded into this process: it must be the perl it was built for.
BEGIN { exec $ENV{PERL}, $0, @ARGV or die "exec $ENV{PERL}: $!" if $ENV{PERL} && $ENV{PERL} ne $^X }
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

# Test::MemProf from this checkout; Devel::MemProf and its library from
# beside the memprof binary under test (searched first).
use lib repo_root() . '/lib';
use lib perl_lib_dir();
use Test::MemProf qw(:DEFAULT parse_size format_size);


my ( $pass, $diag ) = outcome {
    memory_ok { my @small = (1) x 1000 } max => '1 MiB', 'small';
};
is( $pass, 1, 'a block whose peak is under its budget passes' ) or diag $diag;

my $big_line = __LINE__ + 3;
( $pass, $diag ) = outcome {
    memory_ok {
        my $s = 'x' x 3_000_000;
        undef $s;
    } max => '1 MiB', 'big';
};
is( $pass, 0, 'a block that peaks at 3 MB fails a 1 MiB budget, though it frees everything' );
like( $diag, qr/peak growth inside the block: 2\.\d+ MiB \(3,0\d\d,\d{3} bytes\), over the budget of 1 MiB \(1,048,576 bytes\)/,
    '... saying the peak and the budget' );
like( $diag, qr/at \Q${\__FILE__}\E line $big_line: my \$s = 'x' x 3_000_000;/,
    '... and naming the line that allocated, with its source' );

( $pass, $diag ) = outcome {
    memory_ok { my $s = 'y' x 100_000; undef $s } max => '1 MiB', allocated => '64 KiB';
};
is( $pass, 0, 'every budget given must hold: allocated 100 kB is over 64 KiB' );
like( $diag, qr/allocated inside the block: 9\d\.\d KiB .* over the budget of 64 KiB/, '... and the diagnostics say which' );
unlike( $diag, qr/peak growth/, '... and not the budget that held' );

my $cycle_line = __LINE__ + 3;
( $pass, $diag ) = outcome {
    memory_ok {
        my %node = ( data => 'z' x 5000 );
        $node{self} = \%node;
    } retained => 0;
};
is( $pass, 0, 'retained => 0 fails for a block that leaves a reference cycle' );
like( $diag, qr/still held after the block: [\d.]+ KiB/, '... with what is still held' );
like( $diag, qr/still held, by the line that allocated it:\n.* in \d+ blocks? at \Q${\__FILE__}\E line $cycle_line: my %node/,
    '... and the line that allocated it' );

( $pass, $diag ) = outcome {
    memory_ok { my $r = { map { $_ => 'v' x 100 } 1 .. 100 }; undef $r } retained => 0;
};
is( $pass, 1, 'retained => 0 passes for a block that frees what it made' ) or diag $diag;

# Sizes: bytes, or binary units; anything else croaks before the block runs.
is( parse_size(4096),       4096,           'a plain number is bytes' );
is( parse_size('512 KiB'),  512 * 1024,     "'512 KiB'" );
is( parse_size('2MiB'),     2 * 1024**2,    "'2MiB' (no space)" );
is( parse_size('1.5 GiB'),  1.5 * 1024**3,  "'1.5 GiB'" );
is( parse_size('10 bytes'), 10,             "'10 bytes'" );
is( format_size(1536),      '1.5 KiB (1,536 bytes)', 'format_size gives the unit and the exact count' );
for my $bad ( '10 kB', '2 MB', '-1', 'lots', '' ) {
    my $ran = 0;
    my $lived = eval { memory_ok { $ran = 1 } max => $bad; 1 };
    like( $@, qr/^Test::MemProf: bad size '\Q$bad\E' for max: give a number of bytes .* at \Q${\__FILE__}\E line \d+/,
        "'$bad' is refused with one message, reported at the caller" );
    ok( !$lived && !$ran, "... before the block runs" );
}
eval { memory_ok { 1 } maximum => '1 MiB' };
like( $@, qr/unknown option 'maximum' \(it takes allocated, max, retained\)/, 'an unknown budget croaks' );
eval { memory_ok { 1 } 'no budget' };
like( $@, qr/give a budget/, 'memory_ok without a budget croaks' );

# It is an ordinary Test::Builder test: it counts in this test's plan.
memory_ok { my @a = (1) x 100 } max => '1 MiB', 'memory_ok reports through Test::Builder';

done_testing;

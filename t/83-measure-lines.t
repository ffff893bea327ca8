# What measure() reports for Test::MemProf (issue 19): the block's peak,
# its change in live scalars, and by line what was allocated and is still
# held, without -d.
use strict;
use warnings;

# The module is loaded into this process: it must be the perl it was built for.
BEGIN { exec $ENV{PERL}, $0, @ARGV or die "exec $ENV{PERL}: $!" if $ENV{PERL} && $ENV{PERL} ne $^X }
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

use lib perl_lib_dir();
require Devel::MemProf;

my $here = __FILE__;
my ( $big_line, $kept_line );
our @kept;
my $m = Devel::MemProf::measure(
    sub {
        $big_line = __LINE__ + 1;
        my $big = 'b' x 2_000_000;
        undef $big;
        $kept_line = __LINE__ + 1;
        push @kept, sprintf( '%0100d', $_ ) for 1 .. 10;
    }
);
cmp_ok( $m->{peak}, '>=', 2_000_000, "peak counts the 2 MB freed inside the block ($m->{peak})" );
cmp_ok( $m->{peak}, '<', 2_000_000 + 65536, '... and not much more' );
cmp_ok( $m->{net}, '<', 65536, '... though the block\'s net growth is small' );
is( $m->{sv_delta}, 10, 'sv_delta counts the 10 scalars kept' );

my %at = map { ( "$_->{file}:$_->{line}" => $_ ) } @{ $m->{sites} };
my $big = $at{"$here:$big_line"};
ok( $big, 'the line that allocated 2 MB is in the report' );
cmp_ok( $big->{allocated}, '>=', 2_000_000, '... with what it allocated' ) if $big;
is( $big->{retained}, 0, '... none of it held' ) if $big;
my $kept = $at{"$here:$kept_line"};
ok( $kept, 'the line that kept 10 strings is in the report' );
cmp_ok( $kept->{retained}, '>=', 10 * 101, '... holding their buffers' ) if $kept;
cmp_ok( $kept->{retained_blocks}, '>=', 10, '... in at least 10 blocks' ) if $kept;
like( $kept->{stack}, qr/\Amain::__ANON__\[\Q$here\E:\d+\]\z/,
    '... and as its stack the measured block alone: frames below measure() are not the block\'s' ) if $kept;

# Inside the block, the subs a line ran under are its stack, innermost first.
sub inner_alloc { return [ map { "inner $_" } 1 .. 50 ] }
sub outer_alloc { our $held = inner_alloc() }
my $nested = Devel::MemProf::measure( sub { outer_alloc() } );
my ($deep) = grep { $_->{retained} > 0 && $_->{stack} =~ /inner_alloc/ } @{ $nested->{sites} };
like( $deep && $deep->{stack}, qr/\Amain::inner_alloc < main::outer_alloc < main::__ANON__\[\Q$here\E:\d+\]\z/,
    'a line in a sub called from a sub has both in its stack, without -d' );
my $sum = 0;
$sum += $_->{retained} for @{ $m->{sites} };
is( $sum, $m->{retained}, 'the lines\' retained bytes add up to the block\'s' );

# A nested measure has its own peak; the outer one still sees it.
my $inner;
my $outer = Devel::MemProf::measure(
    sub {
        my $x = 'o' x 1_000_000;
        undef $x;
        $inner = Devel::MemProf::measure( sub { my $y = 'i' x 300_000; undef $y } );
    }
);
cmp_ok( $inner->{peak}, '<', 1_000_000, "the inner block's peak is its own ($inner->{peak})" );
cmp_ok( $inner->{peak}, '>=', 300_000,  '... and counts its 300 kB' );
cmp_ok( $outer->{peak}, '>=', 1_000_000, "the outer block's peak is the higher ($outer->{peak})" );

# Under -d the profile's peak is the run's highest, including a peak
# inside a measured block (whose own peak restarts where it began).
my ($p) = profile_code(<<'PERL');
my $small = 's' x 1_000_000;
undef $small;
my $m = Devel::MemProf::measure( sub { my $big = 'p' x 5_000_000; undef $big } );
PERL
cmp_ok( $p->{peak}{bytes}, '>=', 5_000_000, 'the profile\'s peak counts the peak inside a measured block' );

done_testing;

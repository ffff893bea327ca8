# Heap snapshots (issue 15): a path's bytes are exact, at least what
# Devel::Size::total_size counts for the same structure (it counts the
# lengths perl asked for; the snapshot counts the blocks' usable sizes)
# and at most 25% more.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

plan skip_all => 'Devel::Size is not installed for ' . perl_bin()
    if ( run_capture( [ perl_bin(), '-MDevel::Size', '-e1' ] ) )[2];

# Each structure has keys of its own: a key shared with another structure
# is counted once in the snapshot, under the first path that holds it,
# where Devel::Size counts it in both.
my ( $p, $out, $err, $status ) = profile_code(<<'PERL');
use Devel::Size qw(total_size);
use Scalar::Util qw(weaken);
use Tie::Hash;
our %nested = map { ( "n$_", { na => [ 1 .. 5 ], nb => { nc => "x" x 50 } } ) } 1 .. 50;
our @aoa = map { [ map { $_ * 2 } 1 .. 20 ] } 1 .. 50;
our @objects = map { bless { oid => $_, oname => "o$_" }, 'Obj' } 1 .. 50;
our @cow = ( "c" x 1000 );
push @cow, $cow[0] for 1 .. 9;
our @closures = map { my $n = $_; sub { $n + 1 } } 1 .. 20;
our @regexes = map { qr/a(b+)c$_/ } 1 .. 20;
tie our %tied, 'Tie::StdHash';
$tied{"t$_"} = "v$_" for 1 .. 50;
our %weak = ( wdata => [ 1 .. 100 ] );
$weak{wself} = \%weak;
weaken( $weak{wself} );
open( our $file, '<', $0 ) or die;
our %shared = map { ( "key$_" => $_ ) } 1 .. 100;
# What Devel::Size counts once for all the closures, however many there
# are: their shared op tree and what it refers to, which the snapshot
# leaves to perl's own memory (op slabs belong to no SV).  One closure
# costs it shared + each; two, shared + 2 each.
my $ops = 2 * total_size( [ $closures[0] ] ) - total_size( [ @closures[ 0, 1 ] ] );
Devel::MemProf::snapshot("sizes");
print join( ",",
    total_size( \%nested ), total_size( \@aoa ), total_size( \@objects ), total_size( \@cow ),
    total_size( \@closures ), total_size( \@regexes ), total_size( \%tied ), total_size( \%weak ),
    total_size( \$file ), total_size( \%shared ), $ops, length $cow[0] ), "\n";
PERL
is( $status, 0, 'the script ran' ) or diag $err;
chomp $out;
my @size = split /,/, $out;
my ( $ops, $cow_len ) = splice @size, 10;
my ($s) = grep { $_->{label} eq 'sizes' } @{ $p->{snapshots} };
my %path = map { $_->{path} => $_ } @{ $s->{paths} };
# [path, lower bound, upper bound as a share of it]
my @cases = (
    [ '%main::nested',   $size[0] ],
    [ '@main::aoa',      $size[1] ],
    [ '@main::objects',  $size[2] ],
    # The ten strings share one copy-on-write buffer: Devel::Size counts it
    # for each, the snapshot once (nine buffers less).
    [ '@main::cow',      $size[3] - 9 * ( $cow_len + 1 ) ],
    # The closures share one op tree, which Devel::Size counts (see above).
    # Each closure is a CV, its padlist, pad array and captured variable:
    # small blocks, each rounded up to malloc's 16 bytes, and the padlist's
    # own struct, which Devel::Size leaves out.
    [ '@main::closures', $size[4] - $ops, 1.3 ],
    [ '@main::regexes',  $size[5] ],
    [ '%main::tied',     $size[6] ],
    [ '%main::weak',     $size[7] ],
    # A glob with an open file: the glob's GP, its IO's body and the name
    # buffers are each rounded up to malloc's 16 bytes, which on a
    # structure of this size is more than a quarter.
    [ '$main::file',     $size[8], 1.5 ],
    [ '%main::shared',   $size[9] ],
);
for my $c (@cases) {
    my ( $name, $low, $share ) = @$c;
    $share ||= 1.25;
    my $x = $path{$name};
    ok( $x, "$name is a path" ) or next;
    my $bytes = $x->{bytes} + $x->{arena_bytes};
    cmp_ok( $bytes, '>=', $low, "$name: $bytes bytes, at least Devel::Size's $low" );
    cmp_ok( $bytes, '<=', $low * $share, "$name: at most " . ( $share * 100 - 100 ) . "% more" );
}

done_testing;

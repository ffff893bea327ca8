# Heap snapshots (issue 15): a path's bytes are exact, at least what
# Devel::Size::total_size counts for the same structure (it counts the
# lengths perl asked for; the snapshot counts the blocks' usable sizes)
# and at most 25% more.  Where Devel::Size leaves out what a structure
# holds (a regex's compiled program, a handle's layers and buffer), the
# snapshot's heap bytes are checked against what building the structure
# left allocated, as measure() counts it at the allocator.
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
# Built under measure(): what each left allocated is what it holds.
my %built;
sub built { $built{ $_[0] } = Devel::MemProf::measure( $_[1] )->{retained} }
our @regexes;
built( regexes => sub { @regexes = map { qr/a(b+)c$_/ } 1 .. 20 } );
tie our %tied, 'Tie::StdHash';
$tied{"t$_"} = "v$_" for 1 .. 50;
our %weak = ( wdata => [ 1 .. 100 ] );
$weak{wself} = \%weak;
weaken( $weak{wself} );
our $file;
built( file => sub { open( $file, '<', $0 ) or die; scalar readline $file } );
our %shared = map { ( "key$_" => $_ ) } 1 .. 100;
# What Devel::Size counts once for all the closures, however many there
# are: the sub they are made in (CvOUTSIDE: the main program, with its op
# tree and pad), which the snapshot counts under the main program.  One
# closure costs it outside + each; two, outside + 2 each.
my $outside = 2 * total_size( [ $closures[0] ] ) - total_size( [ @closures[ 0, 1 ] ] );
Devel::MemProf::snapshot("sizes");
print join( ",",
    total_size( \%nested ), total_size( \@aoa ), total_size( \@objects ), total_size( \@cow ),
    total_size( \@closures ), total_size( \@regexes ), total_size( \%tied ), total_size( \%weak ),
    total_size( \$file ), total_size( \%shared ), length $cow[0], $built{regexes}, $built{file}, $outside ), "\n";
PERL
is( $status, 0, 'the script ran' ) or diag $err;
chomp $out;
my @size = split /,/, $out;
my ( $cow_len, $built_regexes, $built_file, $outside ) = splice @size, 10;
my ($s) = grep { $_->{label} eq 'sizes' } @{ $p->{snapshots} };
my %path = map { $_->{path} => $_ } @{ $s->{paths} };
# [path, lower bound, upper bound as a share of it, or the heap bytes building it left]
my @cases = (
    [ '%main::nested',   $size[0] ],
    [ '@main::aoa',      $size[1] ],
    [ '@main::objects',  $size[2] ],
    # The ten strings share one copy-on-write buffer: Devel::Size counts it
    # for each, the snapshot once (nine buffers less).
    [ '@main::cow',      $size[3] - 9 * ( $cow_len + 1 ) ],
    # Devel::Size counts once what all the closures share outside
    # themselves (see $outside). Each closure is a CV, its padlist, pad
    # array and captured variable: small blocks, each rounded up to
    # malloc's 16 bytes, and the padlist's own struct, which Devel::Size
    # leaves out; and the op slab of their shared op tree, with its unused
    # slots, where Devel::Size counts the ops.
    [ '@main::closures', $size[4] - $outside, 1.4 ],
    # Devel::Size counts each qr//'s REGEXP but not the compiled regex it
    # is a copy of (another REGEXP, with the program, its data and
    # substrings), which the copy keeps alive.
    [ '@main::regexes',  $size[5], undef, $built_regexes ],
    [ '%main::tied',     $size[6] ],
    [ '%main::weak',     $size[7] ],
    # A glob with an open file: Devel::Size counts the glob and its IO,
    # not the handle's PerlIO layers and the 8 KiB buffer of a read.
    [ '$main::file',     $size[8], undef, $built_file ],
    [ '%main::shared',   $size[9] ],
);
for my $c (@cases) {
    my ( $name, $low, $share, $built ) = @$c;
    $share ||= 1.25;
    my $x = $path{$name};
    ok( $x, "$name is a path" ) or next;
    my $bytes = $x->{bytes} + $x->{arena_bytes};
    cmp_ok( $bytes, '>=', $low, "$name: $bytes bytes, at least Devel::Size's $low" );
    if ( defined $built ) {
        # Within 5%: building it also left a pad target's buffer or two.
        cmp_ok( abs( $x->{bytes} - $built ), '<=', $built * 0.05,
            "$name: its $x->{bytes} heap bytes are what building it left allocated ($built)" );
        next;
    }
    cmp_ok( $bytes, '<=', $low * $share, "$name: at most " . ( $share * 100 - 100 ) . "% more" );
}

done_testing;

# Heap snapshots (issue 15): Devel::MemProf::snapshot names what holds the
# memory by data path, with the lines that allocated it; what nothing
# reaches is unreachable, attributed to its line; the SVs counted are
# perl's own count; memprof diff --heap names the hash that grew.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

sub snapshot_named {
    my ( $p, $label ) = @_;
    my ($s) = grep { $_->{label} eq $label } @{ $p->{snapshots} || [] };
    return $s;
}

sub path_named {
    my ( $s, $name ) = @_;
    my ($x) = grep { $_->{path} eq $name } @{ $s->{paths} };
    return $x;
}

# The seed talk's examples: perl keeps a sub's lexicals "to save time",
# one pad per recursion depth.
my ( $p, $out, $err, $status, $file ) = profile_code(<<'PERL');
sub foo { my $var = "#" x 2**20 } foo();
sub bar { my $n = shift; my $x = "#" x 2**20; bar( $n - 1 ) if $n > 1 }
bar(50);
Devel::MemProf::snapshot("after");
PERL
is( $status, 0, 'the script ran' ) or diag $err;
my $s = snapshot_named( $p, 'after' );
ok( $s, 'the snapshot is in the JSON document' ) or BAIL_OUT('no snapshot');
my $var = path_named( $s, '&main::foo → my $var' );
ok( $var, '&main::foo → my $var is a path' ) or diag join "\n", map { $_->{path} } @{ $s->{paths} }[ 0 .. 20 ];
cmp_ok( $var->{bytes}, '>=', 2**20, 'my $var in foo\'s pad holds at least 1 MiB after foo returned' );
my ($line) = grep { $_->{line} == 1 && $_->{sub} eq 'main::foo' } @{ $var->{lines} };
ok( $line && $line->{bytes} >= 2**20, 'those bytes were allocated at t.pl:1 in main::foo' );
my @depths = grep { $_->{path} =~ /^&main::bar → my \$x(?: \(depth (\d+)\))?$/ } @{ $s->{paths} };
is( scalar @depths, 50, 'bar\'s pad has 50 depths of my $x' );
my $held = 0;
$held += $_->{bytes} for @depths;
cmp_ok( $held, '>=', 50 * 2**20, 'which hold at least 50 MiB together' );
ok( path_named( $s, '&main::bar → my $x (depth 50)' ), 'the deepest is named (depth 50)' );

# What the snapshot counted is every SV perl has, exactly.
my $t = $s->{totals};
is( $t->{sv_count}, $t->{perl_sv_count}, "the snapshot counted PL_sv_count's SVs ($t->{sv_count})" );
is( $t->{reached_svs} + $t->{unreachable_svs}, $t->{sv_count}, 'reached + unreachable = all' );
my $by_type = 0;
$by_type += $_->{count} for @{ $s->{types} };
is( $by_type, $t->{sv_count}, 'the census by type counts them all' );

# Reference cycles are unreachable, attributed to the line that made them;
# weakened, they are freed.
( $p, $out, $err, $status ) = profile_code(<<'PERL');
use Scalar::Util qw(weaken);
for ( 1 .. 1000 ) { my $h = {}; $h->{self} = $h; }
for ( 1 .. 1000 ) { my $h = {}; $h->{self} = $h; weaken( $h->{self} ); }
Devel::MemProf::snapshot("cycles");
PERL
is( $status, 0, 'the cycles script ran' ) or diag $err;
$s = snapshot_named( $p, 'cycles' );
my @at2 = grep { $_->{kind} eq 'HASH' && $_->{line} == 2 } @{ $s->{unreachable} };
my @at3 = grep { $_->{kind} eq 'HASH' && $_->{line} == 3 } @{ $s->{unreachable} };
is( scalar(@at2) && $at2[0]{count}, 1000, '1,000 unreachable HASHes attributed to the line that built the cycles' );
is( scalar @at3, 0, 'none from the line that weakened them' );

# memprof diff --heap of two labelled snapshots of one run names the hash
# that grew and how many keys it gained.
( $p, $out, $err, $status, $file ) = profile_code(<<'PERL');
our %cache;
$cache{$_} = "x" x 100 for 1 .. 10;
Devel::MemProf::snapshot("before");
$cache{$_} = "y" x 100 for 11 .. 10_000;
Devel::MemProf::snapshot("after");
PERL
is( $status, 0, 'the growing script ran' ) or diag $err;
my ( $diff, $derr, $dstatus ) =
    run_capture( [ memprof_bin(), 'diff', '--heap', $file, $file, '--snapshot', 'before', '--snapshot', 'after' ] );
is( $dstatus, 0, 'memprof diff --heap ran' ) or diag $derr;
like( $diff, qr/^  `%main::cache` grew [\d.]+ (?:KiB|MiB): 9,990 keys added/m, 'it names %main::cache and its 9,990 new keys' )
    or diag $diff;

# memprof heap renders the tree, the census and the unreachable.
my ( $text, $herr, $hstatus ) = run_capture( [ memprof_bin(), 'heap', $file, '--snapshot', 'after' ] );
is( $hstatus, 0, 'memprof heap ran' ) or diag $herr;
like( $text, qr/^  %main::cache: [\d.]+ MiB \([\d.]+ KiB arena\) in 10,00\d SVs$/m, 'the tree lists %main::cache' )
    or diag $text;
like( $text, qr/^  %main::cache: .*\n      [\d.]+ (?:KiB|MiB) allocated at \S*t\.pl:4 in main$/m, 'with the line that allocated most of it' );
like( $text, qr/^By type:\n  SCALAR: /m, 'then the census' );
( $text, $herr, $hstatus ) = run_capture( [ memprof_bin(), 'heap', $file, '--snapshot', 'none' ] );
is( $hstatus >> 8, 2, 'an unknown label is an error' );
is( $herr, "memprof: no snapshot labelled 'none' (the profile has: before, after, end)\n", 'which names the labels there are' );
my ($folded) = run_capture( [ memprof_bin(), 'folded', '--heap', $file ] );
like( $folded, qr/^%main::cache \d+$/m, 'folded --heap writes ownership stacks' );

# Where a snapshot refuses: outside a profile it warns and goes on.
my ( $o2, $e2, $s2 ) = run_capture( [ perl_bin(), '-I' . perl_lib_dir(), '-MDevel::MemProf', '-e',
    'Devel::MemProf::snapshot("x"); print "went on\n"' ] );
is( $o2, "went on\n", 'outside a profile the program goes on' ) or diag $e2;
is( $e2, "Devel::MemProf: snapshot: not profiling; no snapshot taken\n", 'with a warning' );

# The demo's snapshot at the end names the cache and the leaked cycles.
( $p, $out, $err, $status ) =
    profile_script( repo_root() . '/examples/demo.pl', env => { MEMPROF => 'snapshot=end' } );
is( $status, 0, 'the demo ran' ) or diag $err;
$s = snapshot_named( $p, 'end' );
# At the end the main program's scope is gone: %cache lives on in the sub
# that captured it.
my $cache = path_named( $s, '&main::remember_users → my %cache (demo.pl:8, captured)' );
ok( $cache, 'the demo\'s snapshot names my %cache (demo.pl:8), captured by remember_users' );
# The history strings are copies of split's (line 20): where perl shares
# the buffer (copy-on-write, 5.36) it was allocated there, else by the
# push at line 31, which also grew the arrays.
my %line = map { $_->{line} => $_->{bytes} } @{ $cache->{lines} };
my $from = ( $line{20} // 0 ) + ( $line{31} // 0 );
cmp_ok( $from, '>', 0.8 * $cache->{bytes}, "most of its $cache->{bytes} bytes were allocated at demo.pl:20 and 31 ($from)" );
cmp_ok( $line{31} // 0, '>', 500_000, 'at least the arrays push grew at demo.pl:31' );
my ($leak) = grep { $_->{kind} eq 'HASH' && $_->{line} == 47 } @{ $s->{unreachable} };
is( $leak && $leak->{count}, 100, 'and the 100 leaked cycles, unreachable, allocated at demo.pl:47' );

done_testing;

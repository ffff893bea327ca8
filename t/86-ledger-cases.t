# The ledger (issue 16) in three cases: a heap fragmented on purpose shows
# its free chunks; between two snapshots around `use Moose` the differences
# add up to VmData's growth; and a process whose /proc is hidden still
# writes its profile, with the rows it could measure and notes of the rest.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;
use File::Temp qw(tempdir);

plan skip_all => 'the ledger reads /proc (Linux)' unless -r '/proc/self/smaps';

sub row {
    my ( $l, $name, $set ) = @_;
    my ($r) = grep { $_->{name} eq $name } @{ $l->{ $set || 'rows' } };
    return $r ? $r->{bytes} : undef;
}

my $FRAGMENT = <<'PERL';
my @blocks = map { "x" x 1024 } 1 .. 200_000;
undef $blocks[$_ * 2] for 0 .. 99_999;
Devel::MemProf::snapshot("fragmented");
print scalar(@blocks), "\n";
PERL

subtest 'a fragmented heap: half of 200,000 blocks of 1 KiB freed' => sub {
    my ( $p, $out, $err, $status ) = profile_code($FRAGMENT);
    is( $status, 0, 'the script ran' ) or diag $err;
    my ($s) = grep { $_->{label} eq 'fragmented' } @{ $p->{snapshots} };
    my $l = $s->{ledger};
    cmp_ok( row( $l, 'free_chunks' ), '>=', 90 * MiB(), "malloc's free chunks: the 100,000 freed blocks" );
    cmp_ok( row( $l, 'perl_data' ), '>=', 95 * MiB(), 'perl data: the 100,000 blocks kept, their SVs and the array' );
    cmp_ok( row( $l, 'perl_data' ), '<=', 125 * MiB(), 'and not more' );
    my $sum = 0;
    $sum += $_->{bytes} for @{ $l->{rows} };
    is( $sum, $l->{vmdata_bytes}, 'the rows add up to VmData' );
};

subtest 'between two snapshots around use Moose' => sub {
    plan skip_all => 'Moose is not installed' unless eval { require Moose; 1 };
    my $code = <<'PERL';
Devel::MemProf::snapshot("before");
require Moose;
Moose->import;
Devel::MemProf::snapshot("after");
PERL
    my ( $p, undef, $err, $status, $file ) = profile_code($code);
    is( $status, 0, 'the script ran' ) or diag $err;
    my %l = map { $_->{label} => $_->{ledger} } @{ $p->{snapshots} };
    my ( $a, $b ) = @l{qw(before after)};
    my $grew = $b->{vmdata_bytes} - $a->{vmdata_bytes};
    cmp_ok( $grew, '>', 0, 'VmData grew' );
    my ( $data, $others ) = ( 0, 0 );
    for my $r ( @{ $b->{rows} } ) {
        my $d = $r->{bytes} - row( $a, $r->{name} );
        if   ( $r->{name} eq 'perl_data' || $r->{name} eq 'unreachable' ) { $data   += $d }
        else                                                             { $others += $d }
    }
    cmp_ok( $data, '>', 0, "the SVs' data grew" );
    is( $data + $others, $grew, "the data's growth and the other rows' make VmData's" );
    # (How much depends on what the walk attributes to the subs: op trees
    # that no SV owns count here.)
    cmp_ok( row( $b, 'perl_internals' ) - row( $a, 'perl_internals' ), '>', 256 * 1024, "perl's own structures grew with Moose" );
    my ( $text, $e, $st ) = run_capture( [ memprof_bin(), 'diff', '--heap', '--snapshot', 'before', '--snapshot', 'after', $file, $file ] );
    is( $st, 0, 'memprof diff --heap' ) or diag $e;
    like( $text, qr/^The ledger from "before" to "after": VmData \+\S+ \S+, the SVs' data \+\S+ \S+; the gap, \+\S+ \S+, is the other rows:$/m,
        'the ledger of differences opens with the gap' );
    like( $text, qr/^ +\+\S+ \S+  perl's own structures/m, 'and names the rows' );
};

subtest 'memprof timeline draws VmRSS and VmData beside the heap' => sub {
    my $code = <<'PERL';
my @keep;
for my $i (1 .. 40) { push @keep, "x" x (1 << 20); select undef, undef, undef, 0.005 }
PERL
    my ( $p, undef, $err, $status, $file ) = profile_code($code);
    is( $status, 0, 'the script ran' ) or diag $err;
    my @vm = @{ $p->{vm_timeline} || [] };
    cmp_ok( scalar @vm, '>=', 2, 'VmRSS and VmData were sampled' );
    cmp_ok( scalar @vm, '<=', scalar @{ $p->{timeline} }, "at the timeline's samples, not more often" );
    my ( $top, $low ) = ( sort { $b->{data_bytes} <=> $a->{data_bytes} } @vm )[ 0, -1 ];
    cmp_ok( $top->{data_bytes} - $low->{data_bytes}, '>=', 30 * MiB(), 'VmData moved with the 40 MiB kept' );
    cmp_ok( $top->{rss_bytes} - $low->{rss_bytes}, '>=', 30 * MiB(), 'and VmRSS with it (the pages were written)' );
    my ( undef, $terr, $tstatus ) = run_capture( [ memprof_bin(), 'timeline', $file, '-o', "$file.svg" ] );
    is( $tstatus, 0, 'memprof timeline' ) or diag $terr;
    my $svg = slurp("$file.svg");
    like( $svg, qr/>\s*VmRSS\s*</,  'the SVG draws VmRSS' );
    like( $svg, qr/>\s*VmData\s*</, 'and VmData' );
};

subtest '/proc unreadable' => sub {
    my $ok = system( 'unshare -rm sh -c "mount -t tmpfs none /proc && test ! -e /proc/self/status" >/dev/null 2>&1' ) == 0;
    plan skip_all => 'cannot hide /proc here (unshare -rm and mount)' unless $ok;
    my $dir    = tempdir( CLEANUP => 1 );
    my $script = write_file( "$dir/t.pl", $FRAGMENT );
    my $lib    = perl_lib_dir();
    my ( $out, $err, $status ) = run_capture(
        [ 'unshare', '-rm', 'sh', '-c', 'mount -t tmpfs none /proc && exec "$@"', 'sh', perl_bin(), "-I$lib", '-d:MemProf', $script ],
        env => { MEMPROF => "file=$dir/p.out" }, cwd => $dir );
    is( $status, 0, 'the script ran' ) or diag $err;
    is( $out, "200000\n", 'and printed what it prints' );
    ok( -s "$dir/p.out", 'the profile was written' ) or return;
    my $p = memprof_json("$dir/p.out");
    my ($s) = grep { $_->{label} eq 'fragmented' } @{ $p->{snapshots} };
    my $l = $s->{ledger};
    is( $l->{vmdata_bytes}, undef, 'no VmData' );
    cmp_ok( row( $l, 'perl_data' ), '>=', 95 * MiB(), 'perl data measured' );
    cmp_ok( row( $l, 'free_chunks' ), '>=', 90 * MiB(), "malloc's free chunks measured" );
    is( row( $l, 'libraries' ),   undef, 'no mappings rows' );
    is( row( $l, 'unexplained' ), undef, 'no unexplained row' );
    is_deeply( $p->{vm_timeline} || [], [], 'and no VmRSS samples' );
    is_deeply(
        $l->{notes},
        [   'could not read /proc/self/status: No such file or directory (os error 2)',
            "could not read /proc/self/smaps: No such file or directory (os error 2): the mappings' rows are missing",
            'VmData could not be read: no unexplained row'
        ],
        'notes say what could not be measured'
    );
    my ( $text, $e, $st ) = run_capture( [ memprof_bin(), 'heap', '--snapshot', 'fragmented', "$dir/p.out" ] );
    is( $st, 0, 'memprof heap reads it' ) or diag $e;
    like( $text, qr/^  Note: could not read \/proc\/self\/smaps/m, 'and shows the notes' );
};

done_testing;

# Sampled site tracking (issue 18): MEMPROF=sample=BYTES tracks one
# allocation per BYTES allocated on average and scales what it tracks, so
# held and peak figures are unbiased estimates; allocated and freed bytes
# and counts stay exact.  The sampling is random: the bounds below are
# several standard errors wide (a line holding H bytes gets about H/BYTES
# samples, and the estimate's relative error is about 1/sqrt of that).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

my $code = <<'PERL';
our ( @big, @medium, @small, %index );
push @big, "b" x 1000 for 1 .. 40_000;                 # 40 MB in 1 kB strings
push @medium, "m" x 20_000 for 1 .. 400;                # 8 MB in 20 kB strings
$index{$_} = [$_] for 1 .. 20_000;                      # a hash of small arrays
for ( 1 .. 200 ) { my @tmp = map { "t" x 500 } 1 .. 500 }   # 50 MB allocated and freed again
push @small, "s" x 100 for 1 .. 10;                     # a line holding little
print scalar(@big) + scalar(@medium) + keys(%index), "\n";
PERL
my %env = ( PERL_HASH_SEED => 0, PERL_PERTURB_KEYS => 0 );

sub run_with {
    my ($memprof) = @_;
    my ( $p, $out, $err, $status ) = profile_code( $code, env => { %env, MEMPROF => $memprof } );
    is( $out, "60400\n", "$memprof: the program's output is its own" ) or diag $err;
    return $p;
}

my $exact = run_with('sites=1');
my $fine  = run_with('sample=1024');
my $coarse = run_with('sample=524288');

is( $fine->{sample_bytes}, 1024, 'the JSON says the figures are sampled' );
ok( !exists $exact->{sample_bytes}, '(and says nothing for an exact run)' );
# (The bytes within 0.5%: the profiler's own allocations share the heap,
# so a realloc here and there gets a block of another usable size.)
for my $line ( 2 .. 6 ) {
    my ( $e, $s ) = map { line_of( $_, 't.pl', $line ) } $exact, $coarse;
    is( $s->{alloc_count}, $e->{alloc_count}, "line $line: allocation counts are exact under sampling" );
    cmp_ok( abs( $s->{alloc_bytes} - $e->{alloc_bytes} ), '<=', $e->{alloc_bytes} / 200, "line $line: and the bytes allocated, within 0.5%" );
}
# sample=1024: about a thousand samples per MiB held.
my $checked = 0;
for my $l ( grep { $_->{file} =~ /t\.pl\z/ && $_->{retained_bytes} > 1024 * 1024 } @{ $exact->{lines} } ) {
    my $est = line_of( $fine, 't.pl', $l->{line} )->{retained_bytes};
    my $err = abs( $est - $l->{retained_bytes} ) / $l->{retained_bytes};
    cmp_ok( $err, '<', 0.10, sprintf "line %d: held %d, estimated %d (%.1f%% off)", $l->{line}, $l->{retained_bytes}, $est, 100 * $err );
    $checked++;
}
is( $checked, 3, 'three lines hold more than 1 MiB' );
my $churn = line_of( $fine, 't.pl', 5 );
cmp_ok( $churn->{retained_bytes}, '<', 256 * 1024, 'what was freed again is not held' );
cmp_ok( $churn->{peak_bytes}, '<', 2 * 1024 * 1024, 'and was live at the peak only as much as one round' );

# sample=524288: about a hundred samples over the whole heap held.
my ( $held_exact, $held_coarse ) = map { $_->{totals}{retained_bytes} } $exact, $coarse;
my $tot = 0;
$tot += $_->{retained_bytes} for @{ $coarse->{lines} };
my $err = abs( $tot - $held_exact ) / $held_exact;
cmp_ok( $err, '<', 0.30, sprintf "sample=524288: held %d, estimated %d (%.1f%% off)", $held_exact, $tot, 100 * $err );
conservation_ok( $coarse, 'sampled profile' );

my $file = ( profile_code( $code, env => { %env, MEMPROF => 'sample=65536' }, no_json => 1 ) )[4];
my ($report) = run_capture( [ memprof_bin(), 'report', $file ] );
like( $report, qr/^Held and peak figures are estimates: sites were tracked for a sample of allocations, one per 64\.0 KiB allocated on average \(MEMPROF=sample=65536\); what was allocated and freed, and how often, is exact\.$/m,
    'the report says which figures are estimates' );
done_testing;

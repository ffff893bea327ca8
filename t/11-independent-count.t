# An independent count agrees: heaptrack (LD_PRELOAD, counting every call
# to an allocation function in the process) and the profiler's alloc_count
# for the same allocation-heavy script are within 2% (issue 2).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use Test::More;

my ($heaptrack) = grep { -x } map {"$_/heaptrack"} split /:/, $ENV{PATH};
my ($print)     = grep { -x } map {"$_/heaptrack_print"} split /:/, $ENV{PATH};
plan skip_all => 'heaptrack is not installed (apt-get install heaptrack)' unless $heaptrack && $print;

my $script = "$FindBin::Bin/scripts/alloc-heavy.pl";
my $dir    = tempdir( CLEANUP => 1 );
# The same hash seed in both runs, so both make the same allocations.
my %env = ( PERL_HASH_SEED => 0, PERL_PERTURB_KEYS => 0 );

my ( undef, $err, $status ) = run_capture( [ $heaptrack, '-o', "$dir/ht", perl_bin(), $script ], env => \%env );
is( $status, 0, 'heaptrack ran' ) or diag $err;
my ($data) = glob "$dir/ht*";
my ($summary) = run_capture( [ $print, $data ] );
my ($calls) = $summary =~ /^calls to allocation functions: (\d+)/m;
ok( $calls, "heaptrack counted $calls allocations" ) or diag $summary;

my ($p) = profile_script( $script, env => \%env );
my $ours = $p->{totals}{alloc_count};
my $diff = abs( $ours - $calls ) / $calls;
cmp_ok( $diff, '<', 0.02, sprintf( 'alloc_count %d is within 2%% of heaptrack\'s %d (%.2f%%)', $ours, $calls, 100 * $diff ) );
conservation_ok( $p, 'alloc-heavy' );

done_testing;

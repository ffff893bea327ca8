# Heap snapshots (issue 15) over the corpus: with MEMPROF=snapshot=end
# every script prints and exits as without the profiler, and the
# snapshot's bytes add up to the live heap: what SVs own (reached and
# unreachable), the arena blocks and what no SV owns make the live heap,
# nothing is counted twice (what no SV owns is never negative), and the
# blocks the snapshot found tracked are the profile's retained bytes, which
# the site statistics kept independently.  The SVs counted are perl's.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

my @cases = corpus_cases();
cmp_ok( scalar @cases, '>=', 60, 'the corpus has at least 60 scripts' );

corpus_subtests(
    \@cases,
    sub {
        my ( $name, $script, @args ) = ( $_[0]{name}, $_[0]{script}, @{ $_[0]{args} } );
        my %stdin = %{ $_[0]{stdin} };
        my $code = slurp($script);
        my ( $out, $err, $status ) = run_capture( [ perl_bin(), $script, @args ], %stdin );
        my ( undef, $pout, $perr, $pstatus, $file ) = profile_script(
            $script,
            args    => \@args,
            %stdin,
            no_json => 1,
            env     => { MEMPROF => 'snapshot=end' }
        );
        is( $pout,    $out,    'same stdout' );
        is( $perr,    $err,    'same stderr' );
        is( $pstatus, $status, "same exit status ($status)" );
        ok( -s $file, 'a profile was written' ) or return;
        my $p     = memprof_json( $file, '--no-stacks' );
        my @snaps = grep { $_->{label} eq 'end' } @{ $p->{snapshots} || [] };
        # A run that ends in exec, _exit or a signal has no END phase.
        return pass('no end of run: no snapshot') if !@snaps && $code =~ /\b(?:exec|_exit|kill)\b/;
        ok( scalar @snaps, 'a snapshot was taken at the end' ) or return;
        my $tracked = 0;
        for my $s (@snaps) {
            my $t = $s->{totals};
            is( $t->{sv_count}, $t->{perl_sv_count}, "the snapshot counted PL_sv_count's $t->{perl_sv_count} SVs" );
            cmp_ok( $t->{other_bytes}, '>=', 0, 'no block was counted twice' );
            is( $t->{reached_bytes} + $t->{unreachable_bytes} + $t->{arena_blocks_bytes} + $t->{other_bytes},
                $t->{heap_bytes}, 'owned + arenas + no SV = the live heap' );
            $tracked += $t->{tracked_bytes};
        }
        # Threads' tables are theirs, not the snapshot's (main thread only);
        # forked children's snapshots are in their own profiles.
        if ( $code !~ /\b(?:threads|fork|open\s*\(?\s*my\s+\$\w+\s*,\s*['"]-\|)/ && @snaps == 1 ) {
            is( $tracked, $p->{totals}{retained_bytes}, 'the tracked blocks are the retained bytes' );
        }
    }
);

done_testing;

# The ledger (issue 16): in every snapshot of every corpus script and every
# bench/ workload, the rows add up exactly to the VmData the recorder read
# from /proc/self/status at that moment, and the RSS rows to RssAnon; the
# unexplained row stays under 2% of VmData, and every measured row is a
# size (not negative).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

plan skip_all => 'the ledger reads /proc (Linux)' unless -r '/proc/self/smaps';

my @cases = corpus_cases();
for my $w ( sort glob repo_root() . '/bench/workloads/*.pl' ) {
    push @cases, { name => 'bench/' . ( split m{/}, $w )[-1], script => $w, args => [], stdin => {} };
}
cmp_ok( scalar @cases, '>=', 70, 'the corpus and the workloads' );

sub check_ledger {
    my ( $s, $where ) = @_;
    my $l = $s->{ledger};
    ok( $l, "$where has a ledger" ) or return;
    my @rows = @{ $l->{rows} };
    is( $rows[-1]{name}, 'unexplained', "$where: the last row is unexplained" );
    my $sum = 0;
    $sum += $_->{bytes} for @rows;
    ok( $l->{vmdata_bytes} > 0, "$where: VmData was read" );
    is( $sum, $l->{vmdata_bytes}, "$where: the rows add up to VmData ($l->{vmdata_bytes})" );
    my ($unexplained) = map { $_->{bytes} } grep { $_->{name} eq 'unexplained' } @rows;
    cmp_ok( abs($unexplained), '<', 0.02 * $l->{vmdata_bytes}, "$where: unexplained ($unexplained) is under 2%" );
    my @negative = map {"$_->{name} $_->{bytes}"} grep { $_->{name} ne 'unexplained' && $_->{bytes} < 0 } @rows;
    is( "@negative", '', "$where: no measured row is negative" );
    my $rss = 0;
    $rss += $_->{bytes} for @{ $l->{rss_rows} };
    is( $rss, $l->{rss_anon_bytes}, "$where: the RSS rows add up to RssAnon" );
    is_deeply( $l->{notes}, [], "$where: everything was measured" );
}

corpus_subtests(
    \@cases,
    sub {
        my ( $name, $script, @args ) = ( $_[0]{name}, $_[0]{script}, @{ $_[0]{args} } );
        my %stdin = %{ $_[0]{stdin} };
        my ( undef, undef, undef, undef, $file )
            = profile_script( $script, args => \@args, %stdin, no_json => 1, env => { MEMPROF => 'snapshot=end' } );
        ok( -s $file, 'a profile was written' ) or return;
        my $p     = memprof_json( $file, '--no-stacks' );
        my @snaps = @{ $p->{snapshots} || [] };
        return pass('no end of run: no snapshot') if !@snaps && slurp($script) =~ /\b(?:exec|_exit|kill)\b/;
        ok( scalar @snaps, 'a snapshot was taken' ) or return;
        check_ledger( $_, "snapshot \"$_->{label}\"" ) for @snaps;
    }
);

done_testing;

# Merged and forked profiles tell the truth (issue 14): a merged profile
# says it is merged and draws each process's heap; a forked child's frees
# of what it inherited are named apart and do not make its growth negative.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use Test::More;

sub run_in_dir {
    my ( $code, %opt ) = @_;
    my $dir    = tempdir( CLEANUP => 1 );
    my $script = write_file( "$dir/t.pl", $code );
    my ( $out, $err, $status ) = run_capture(
        [ perl_bin(), '-I' . perl_lib_dir(), '-d:MemProf', $script ],
        cwd => $dir,
        env => { MEMPROF => $opt{memprof} },
    );
    is( $status, 0, 'the program ran' ) or diag $err;
    return $dir;
}

subtest 'three forked workers merged: the report and the timeline say so' => sub {
    my $dir = run_in_dir(<<'PERL');
my @pids;
for my $n ( 1 .. 3 ) {
    my $pid = fork // die "fork: $!";
    if ( !$pid ) {
        our @work = map { "w" x 1000 } 1 .. 1000 * $n;
        select undef, undef, undef, 0.05;
        exit 0;
    }
    push @pids, $pid;
}
waitpid $_, 0 for @pids;
PERL
    my @files = sort glob "$dir/memprof.out*";
    is( scalar @files, 4, 'the parent and three children' );
    my @pids = sort { $a <=> $b } map { memprof_json($_)->{pid} } @files;
    my ( undef, $err, $status ) = run_capture( [ memprof_bin(), 'merge', '-o', "$dir/all.out", @files ] );
    is( $status, 0, 'memprof merge' ) or diag $err;
    my ($report) = run_capture( [ memprof_bin(), 'report', "$dir/all.out" ] );
    like( $report, qr/Merged from 4 processes \(pids [\d, ]+\)/, 'the report says it is merged' );
    my ($listed) = $report =~ /\(pids ([\d, ]+)\)/;
    is_deeply( [ sort { $a <=> $b } split /, /, $listed // '' ], \@pids, 'with the pids of the four profiles' );
    my $j = memprof_json("$dir/all.out");
    is_deeply( [ sort { $a <=> $b } map { $_->{pid} } @{ $j->{processes} } ],
        \@pids, 'the JSON has one timeline per process' );
    conservation_ok( $j, 'the merged profile' );

    ( undef, $err, $status ) = run_capture( [ memprof_bin(), 'timeline', '-o', "$dir/t.svg", "$dir/all.out" ] );
    is( $status, 0, 'memprof timeline of a merged profile' ) or diag $err;
    my $svg = -e "$dir/t.svg" ? slurp("$dir/t.svg") : '';
    for my $pid (@pids) {
        like( $svg, qr/\npid $pid\n<\/text>/, "the legend names pid $pid" );
    }
    # Series are drawn 2 px wide, the mesh 1 px: a colour per process.
    my %colours = map { $_ => 1 } $svg =~ /<polyline [^>]*stroke="([^"]+)" stroke-width="2"/g;
    is( scalar keys %colours, scalar @pids, 'one series per process, each in its own colour' );
};

my $INHERIT = <<'PERL';
our @big = map { "x" x 1000 } 1 .. 5000;
my $pid = fork // die "fork: $!";
if ( !$pid ) {
    @big = ();
    our @mine = map { "m" x 100 } 1 .. 100;
    exit 0;
}
waitpid $pid, 0;
PERL

subtest 'a forked child that frees what it inherited does not shrink' => sub {
    my $dir = run_in_dir($INHERIT);
    my ($child) = glob "$dir/memprof.out.*";
    ok( $child, 'the child wrote its own profile' ) or return;
    my $j = memprof_json($child);
    ok( $j->{forked}, 'the child knows it is a forked child' );
    conservation_ok( $j, 'the child' );
    my $inherited = $j->{totals}{inherited_free_bytes} // 0;
    cmp_ok( $inherited, '>', 4_000_000, 'it freed the ~5 MB it inherited, counted apart' );
    cmp_ok( $j->{totals}{net_bytes}, '<', 0, 'with them its net figure is negative (the bug this fixes)' );
    cmp_ok( $j->{totals}{net_bytes} + $inherited, '>=', 0, 'without them its growth is not negative' );
    my ($report) = run_capture( [ memprof_bin(), 'report', $child ] );
    like(
        $report,
        qr/of it freed [\d.]+ MiB inherited from the parent\): memory went up /,
        'the report names the inherited frees and a growth'
    );
    unlike( $report, qr/memory went down [^\n]* overall/, 'and does not say memory went down overall' );
    my ($parent_report) = run_capture( [ memprof_bin(), 'report', "$dir/memprof.out" ] );
    unlike( $parent_report, qr/inherited/, 'the parent is no forked child' );
};

subtest 'without site tracking the report says inherited frees cannot be told apart' => sub {
    my $dir = run_in_dir( $INHERIT, memprof => 'sites=0' );
    my ($child) = glob "$dir/memprof.out.*";
    ok( $child, 'the child wrote its own profile' ) or return;
    my ($report) = run_capture( [ memprof_bin(), 'report', $child ] );
    like( $report, qr/forked child profiled without site tracking .* cannot be told apart/, 'it says so' );
};

done_testing;

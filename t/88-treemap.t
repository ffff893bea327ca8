# The report's "What holds the memory" page (issue 16), opened in headless
# Chromium by t/browser/check.js (as t/50-html.t does): the largest
# rectangle of the demo's snapshot is the path `memprof heap` lists first,
# clicking it zooms and the trail shows the path, hovering gives its exact
# bytes, and the ledger's bar and table are there; no console errors, no
# network requests.  MEMPROF_SHOTS=DIR keeps treemap.png and
# treemap-zoomed.png.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use Test::More;

my $bin   = memprof_bin();
my $dir   = tempdir( CLEANUP => 1 );
my $shots = $ENV{MEMPROF_SHOTS} || tempdir( CLEANUP => 1 );
mkdir $shots;

my $browser_dir = browser_dir();
my $no_browser  = missing_browser();

# The demo, profiled, and its report.
write_file( "$dir/demo.pl", slurp( repo_root() . '/examples/demo.pl' ) );
my ( undef, undef, $err, $status, $profile ) = profile_script( 'demo.pl', dir => $dir, cwd => $dir, no_json => 1 );
is( $status, 0, 'the demo ran' ) or diag $err;
my ( $out, $herr, $hstatus ) = run_capture( [ $bin, 'html', $profile, '-o', "$dir/html" ] );
is( $hstatus, 0, 'memprof html' ) or diag $herr;
ok( -e "$dir/html/$_", "wrote $_" ) for qw(heap.html heap.js heap-data.js);

my ($text) = run_capture( [ $bin, 'heap', '--top', '1', '--depth', '1', $profile ] );
my ($first) = $text =~ /^Largest paths[^\n]*\n  (.+?): \S+ \S+ \(/m;
ok( defined $first, "memprof heap lists a first path ($first)" );

SKIP: {
    skip "the browser test needs $no_browser", 1 if $no_browser;
    my ( $json, $berr, $bstatus ) = run_capture( [ 'node', "$browser_dir/check.js", 'treemap', "$dir/html", $shots ] );
    my $seen = eval { decode_json($json) } || { error => "not JSON: $json $berr" };
    is( $seen->{error}, undef, 'check.js ran' ) or return;
    is( $seen->{link},  'What holds the memory', 'the index links to the page' );
    is( $seen->{title}, 'What holds the memory: demo.pl', 'the page' );
    is( $seen->{largest}{path}, $first, 'the largest rectangle is the path memprof heap lists first' );
    ok( $seen->{largest}{zoomable}, 'and it has children to zoom into' );
    like( $seen->{hover}, qr/^\Q$first\E: [\d,]+ bytes \(\S+ \S+\), \d+% of it arena, in [\d,]+ SVs\n  \S+ \S+ allocated at demo\.pl:\d+/,
        'hovering gives its exact bytes, arena share and lines' );
    is( $seen->{zoomed}{node}, $seen->{largest}{node}, 'clicking it zooms into it' );
    utf8::decode( my $trail = $seen->{zoomed}{trail} );
    is( $trail, "snapshot \"end\" \x{203a} $first", 'the trail shows the path' );
    cmp_ok( $seen->{zoomed}{rects}, '>', 0, 'and its children are drawn' );
    is( $seen->{back}, '0', 'the trail goes back to the whole snapshot' );
    is( $seen->{ledger}{rows}[-1], 'unexplained', 'the ledger table ends with the unexplained row' );
    cmp_ok( abs( $seen->{ledger}{width} - $seen->{ledger}{bar} ), '<=', 4, "the bar's segments fill it (the rows add up)" );
    ok( ( grep { /demo\.pl:47 in main::leak_a_cycle/ } @{ $seen->{tables}{unreachable} } ), 'the unreachable cycles with their line' );
    cmp_ok( $seen->{tables}{types}, '>', 3, 'the census by type' );
    is_deeply( $seen->{console}, [], 'no errors in the browser console' );
    is_deeply( $seen->{dialogs}, [], 'no dialog' );
    is_deeply( $seen->{network}, [], 'nothing requested beyond file://' );
}

done_testing;

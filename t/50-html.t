# memprof html (issue 5): the static report, opened in headless Chromium by
# t/browser/check.js (playwright-core driving Debian's chromium), which
# reports what the pages showed; the assertions are here.
#
# MEMPROF_SHOTS=DIR keeps the screenshots (index.png, index-flames.png,
# source.png, big.png); otherwise they go to a temporary directory.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp  qw(tempdir);
use Time::HiRes qw(time);
use Test::More;

my $bin   = memprof_bin();
my $dir   = tempdir( CLEANUP => 1 );
my $shots = $ENV{MEMPROF_SHOTS} || tempdir( CLEANUP => 1 );
mkdir $shots;

my $browser_dir = browser_dir();
my $no_browser  = missing_browser();

# Run check.js; returns what it saw, decoded.
sub browse {
    my (@args) = @_;
    my ( $out, $err, $status ) = run_capture( [ 'node', "$browser_dir/check.js", @args ] );
    my $seen = eval { decode_json($out) } || { error => "not JSON: $out" };
    $seen->{error} //= "check.js exited with $status: $err" if $status;
    return $seen;
}

sub clean_browser_ok {
    my ( $seen, $what ) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is_deeply( $seen->{console}, [], "$what: no errors in the browser console" );
    is_deeply( $seen->{dialogs}, [], "$what: no alert or other dialog" );
    is_deeply( $seen->{network}, [], "$what: nothing requested beyond file://" );
}

sub html {
    my ( $profile, $out ) = @_;
    my ( $stdout, $err, $status ) = run_capture( [ $bin, 'html', $profile, '-o', $out ] );
    is( $status, 0, "memprof html ran" ) or diag $err;
    return $stdout;
}

# Source pages by the name they show (the files table of index.html).
sub pages_by_name {
    my ($out)   = @_;
    my $index   = slurp("$out/index.html");
    my ($files) = $index =~ /<table class="sortable limited" id="files">(.*?)<\/table>/s;
    my %pages;
    while ( ( $files // '' ) =~ /<td><a href="([^"]+)">([^<]*)<\/a>/g ) {
        my ( $href, $name ) = ( $1, $2 );
        $name =~ s/&lt;/</g;
        $name =~ s/&gt;/>/g;
        $name =~ s/&quot;/"/g;
        $name =~ s/&#x27;/'/g;
        $name =~ s/&#x2f;/\//g;
        $name =~ s/&amp;/&/g;
        $pages{$name} = $href;
    }
    return %pages;
}

subtest 'a bad profile: one line, exit status 2, nothing written' => sub {
    my ( undef, undef, undef, undef, $good ) = profile_code("my \$x = 'a' x 1000;\n");
    my $bytes = slurp($good);
    my %bad   = (
        missing   => "$dir/missing.out",
        empty     => write_file( "$dir/empty.out",     '' ),
        truncated => write_file( "$dir/truncated.out", substr( $bytes, 0, length($bytes) - 10 ) ),
        foreign   => write_file( "$dir/foreign.out",   "#!/usr/bin/perl\nprint 1;\n" ),
        directory => $dir,
    );
    for my $kind ( sort keys %bad ) {
        my $out = "$dir/html-$kind";
        my ( $stdout, $err, $status ) = run_capture( [ $bin, 'html', $bad{$kind}, '-o', $out ] );
        is( $status >> 8, 2, "$kind: exit status 2" );
        like( $err, qr/\Amemprof: \Q$bad{$kind}\E: [^\n]+\n\z/, "$kind: one line naming the file" );
        is( $stdout, '', "$kind: nothing on stdout" );
        ok( !-e $out, "$kind: the report directory was not created" );
    }
    mkdir "$dir/existing";
    run_capture( [ $bin, 'html', "$dir/foreign.out", '-o', "$dir/existing" ] );
    opendir my $dh, "$dir/existing" or die $!;
    is_deeply( [ grep { !/^\.\.?$/ } readdir $dh ], [], 'an existing directory is left empty' );
};

SKIP: {
    skip 'Moose is not installed', 1 unless eval { require Moose; 1 };
    subtest 'the report of a Moose program, in the browser' => sub {
        my $script = write_file( "$dir/moose.pl", slurp("$FindBin::Bin/corpus/30-moose-roles.pl") );
        my ( undef, undef, $err, $status, $profile ) = profile_script( $script, cwd => $dir, no_json => 1 );
        is( $status, 0, 'profiled' ) or diag $err;
        my $out   = "$dir/moose-html";
        my $start = time;
        like( html( $profile, $out ), qr/^Wrote \Q$out\E\/index\.html \(\d+ source pages\)$/, 'says what it wrote' );
        note sprintf 'memprof html took %.2f s on the Moose profile', time - $start;
        ok( -e "$out/$_", "$_ written" )
          for qw(index.html report.css report.js timeline.svg flame-net.svg flame-alloc.svg);
        my %pages = pages_by_name($out);
        ok( ( grep { /moose\.pl$/ } keys %pages ), 'a page for the script' );
        ok( ( grep { /Moose\.pm$/ } keys %pages ), 'a page for Moose.pm' );
        my @remote = map { /(?:src|href)="((?:https?:)?\/\/[^"]*)"/g } map { slurp("$out/$_") } 'index.html',
          grep { /\.html$/ } values %pages;
        is_deeply( \@remote, [], 'no page refers to anything off this machine' );

      SKIP: {
            skip $no_browser, 1 if $no_browser;
            my $seen = browse( 'moose', $out, $shots );
            is( $seen->{error}, undef, 'check.js ran' ) or return;
            clean_browser_ok( $seen, 'index, flame graph and source page' );
            like( $seen->{title}, qr/^Memory profile of \S*moose\.pl$/, 'index.html has the title' );
            cmp_ok( $seen->{rows}{$_}, '>', 0, "the $_ table has rows" ) for qw(subs lines files);
            ok( $seen->{sorted}{descending} && $seen->{sorted}{first} == $seen->{sorted}{max},
                'clicking "alloc excl." sorts the subs largest first' );

            my $f = $seen->{flame};
            cmp_ok( $f->{frames}, '>', 100, 'the net flame graph has its frames' );
            like( $f->{matched_before}, qr/^\s*$/,              'nothing matched before the search' );
            like( $f->{matched_after},  qr/^Matched: [\d.]+%$/, "searching 'Moose' matches: $f->{matched_after}" );
            cmp_ok( $f->{highlighted}, '>', 0, 'and highlights frames' );
            like( $f->{target_href}, qr/^f\d+-moose\.pl\.html#L0$/, "the script's compile frame links to its page" );
            ok( $f->{zoomed}{unzoom_shown}, 'clicking a frame zooms (Reset Zoom appears)' );
            is( $f->{zoomed}{width}, '100.0000%', '... and the frame fills the width' );
            like( $f->{dblclick_url}, qr/\/\Q$f->{target_href}\E$/, 'double-clicking it opens the source page' );

            my ( $sub, $landed ) = ( $seen->{sub}, $seen->{landed} );
            ok( $sub, "a sub in the table: $sub->{name}" );
            my ($line) = ( $sub->{href} // '' ) =~ /#L(\d+)$/;
            ok( defined $line, "it links to a line: $sub->{href}" );
            is( $landed->{hash},   "#L$line", 'clicking it lands on that line' );
            is( $landed->{target}, "L$line",  'the line is the :target' );
            is( $landed->{line},   $line,     '... numbered as such' );
            ok( $landed->{in_view} && $landed->{highlighted},               '... in view and highlighted' );
            ok( ( grep { $_ eq "sub $sub->{name}" } @{ $landed->{note} } ), 'the line carries the note for the sub' )
              or diag explain $landed;
            cmp_ok( $landed->{links}, '>', 0, 'which links to callers and callees' );
            is( $seen->{heat_class}, 'm-alloc', 'shading by alloc switches the heat' );
            ok( -s "$shots/$_", "screenshot $shots/$_" ) for qw(index.png index-flames.png source.png);
        }
    };
}

subtest 'escaping: names, paths, source and marks show as text' => sub {
    my $payload = '</script><img src=x onerror=alert(1)>';
    my $subdir  = "$dir/esc";
    mkdir $subdir;
    my $script = write_file( "$subdir/x<img src=x onerror=alert(2)>.pl", <<'PERL' );
my @keep;
push @keep, '</script><img src=x onerror=alert(1)>' x 1000;
sub payload { push @keep, "<b>bold</b> & 'quoted' \"double\"" x 500 }
payload();
eval q{
    push @keep, '</script><img src=x onerror=alert(3)>' x 2000;
    sub from_eval { return [ ('</script><img src=x onerror=alert(4)>') x 300 ] }
    push @keep, from_eval() for 1 .. 3;
    1;
} or die $@;
Devel::MemProf::mark('</script><img src=x onerror=alert(5)>');
push @keep, 'after the mark' x 500;
eval qq{\n#line 1 "</script><img src=x onerror=alert(6)>.pl"\npush \@keep, 'y' x 3000;\n1;} or die $@;
PERL
    my ( undef, undef, $err, $status, $profile ) = profile_script( $script, cwd => $subdir, no_json => 1 );
    is( $status, 0, 'profiled' ) or diag $err;
    my $out = "$dir/esc-html";
    html( $profile, $out );
    my %pages = pages_by_name($out);
    my ($script_page) = grep { /\Qx<img src=x onerror=alert(2)>.pl\E$/ } keys %pages;
    ok( $script_page, 'a page for the script, its name as it is' ) or diag explain \%pages;
    my ($eval_page) = grep { /^\(eval \d+\)\[.*:5\]$/ } keys %pages;
    ok( $eval_page,                                         "a page for the string eval: $eval_page" );
    ok( $pages{'</script><img src=x onerror=alert(6)>.pl'}, 'a page for the #line file name' );

    opendir my $dh, $out or die "$out: $!";
    for my $file ( sort grep {/\.(?:html|svg)$/} readdir $dh ) {
        unlike( slurp("$out/$file"), qr/<img src=x|<\/script><img|<b>bold/, "$file: no payload as markup" );
    }
    like( slurp("$out/$pages{$eval_page}"), qr/sub from_eval/, "the eval's page has the eval's source" );

  SKIP: {
        skip $no_browser, 1 if $no_browser;
        my $seen = browse( 'escape', $out );
        is( $seen->{error}, undef, 'check.js ran' ) or return;
        clean_browser_ok( $seen, 'every page' );
        for my $name ( sort keys %{ $seen->{pages} } ) {
            is( $seen->{pages}{$name}{injected}, 0, "$name: no element or script from the payload" );
        }
        my $on = sub { $seen->{pages}{ $pages{ $_[0] } } };
        ok( $on->($script_page)->{payload_as_text}, "the script's page shows the source line as text" );
        is( $on->($script_page)->{heading}, $script_page, '... and its name as the heading' );
        ok( $on->($eval_page)->{payload_as_text},          "the eval's page shows its source as text" );
        ok( $seen->{pages}{'index.html'}{payload_as_text}, 'the index shows the payload (lines, mark) as text' );
    }
};

# The time to first paint is reported, not asserted (timings are for
# bench/, never for tests); what is asserted is that the page is laid out
# lazily, in blocks the browser skips until they scroll into view.
subtest 'a 20,000-line file stays usable' => sub {
    my $lines  = 20_000;
    my $source = "my \@keep;\n" . join '', map {
        $_ % 1000 == 0
          ? "sub s$_ { push \@keep, 'z' x $_ } s$_();\n"
          : "push \@keep, 'x' x "
          . ( 10 + $_ % 300 ) . ";\n"
    } 2 .. $lines;
    my $subdir = "$dir/big";
    mkdir $subdir;
    my $script = write_file( "$subdir/big.pl", $source );
    my ( undef, undef, $err, $status, $profile ) = profile_script( $script, cwd => $subdir, no_json => 1 );
    is( $status, 0, 'profiled' ) or diag $err;
    my $out = "$dir/big-html";
    html( $profile, $out );
    my %pages = pages_by_name($out);
    my ($page) = grep { /big\.pl$/ } keys %pages;
    ok( $page, 'a page for the big file' ) or return;
  SKIP: {
        skip $no_browser, 1 if $no_browser;
        my $seen = browse( 'big', "$out/$pages{$page}", $shots );
        is( $seen->{error}, undef, 'check.js ran' ) or return;
        clean_browser_ok( $seen, 'the big page' );
        is( $seen->{rows}, $lines + 1, "a row per line, and line 0 (compiling)" );
        my @painted = map { $_->{painted} } @{ $seen->{times} };
        note sprintf 'the %d-line page: painted after load at %s ms', $lines, join ', ',
          map { sprintf '%.0f', $_ } @painted;
        like( slurp("$out/report.css"), qr/\.chunk\s*\{\s*content-visibility:\s*auto/, 'rows are laid out lazily, in blocks' );
        cmp_ok( scalar( () = slurp("$out/$pages{$page}") =~ /class="chunk"/g ), '>', 10, '... of which the page has many' );
        is( $seen->{jump}{target}, $seen->{jump}{wanted}, 'a link to the last line finds it' );
        ok( $seen->{jump}{in_view}, '... and shows it' );
    }
};

done_testing;

# memprof export (issue 20, part 1): the profile in pprof, speedscope and
# Firefox Profiler formats, read back by the tools themselves where they
# exist: Debian's `go tool pprof`, speedscope's schema (ajv) and page
# (headless chromium), and the Firefox format decoded here and compared
# with `memprof json`.
#
# MEMPROF_SHOTS=DIR keeps speedscope's screenshots.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use JSON::PP ();
use Test::More;

my $bin   = memprof_bin();
my $shots = $ENV{MEMPROF_SHOTS} || tempdir( CLEANUP => 1 );
mkdir $shots;
my $browser_dir = "$FindBin::Bin/browser";
my $chromium    = $ENV{CHROMIUM} || '/usr/bin/chromium';

# scripts/deps.sh installs golang-go, node and chromium, and scripts/test.sh
# the npm packages: under CI a missing one fails instead of skipping (not
# in the tarball t/70-install.t tests, which has no node_modules).
my $strict = $ENV{CI} && !$ENV{MEMPROF_INSTALL_TEST_INNER};
sub missing {
    my ($why) = @_;
    return '' unless $why;
    if ($strict) { fail("needed under CI: $why"); return '' }
    return $why;
}
my $no_go   = missing( system('go version >/dev/null 2>&1') == 0 ? '' : 'no go (apt-get install golang-go)' );
my $no_node = missing(
      system( 'node', '-e', '0' ) != 0 ? 'no node'
    : !-d "$browser_dir/node_modules/speedscope" || !-d "$browser_dir/node_modules/ajv"
    ? "no speedscope or ajv in $browser_dir/node_modules (npm ci --prefix t/browser)"
    : ''
);
my $no_browser = $no_node || missing( -x $chromium ? '' : "no $chromium" );

# The seed example: bar keeps a 1 MiB lexical, called through foo.
my ( $p, undef, $err, $status, $profile ) = profile_code(<<'PERL');
sub bar { my $x = "#" x (1 << 20); return length $x; }
sub foo { bar() }
foo();
PERL
is( $status, 0, 'profiled the seed example' ) or diag $err;
my $dir = tempdir( CLEANUP => 1 );
my $bar = sub_named( $p, 'main::bar' );
cmp_ok( $bar->{exclusive}{net_bytes}, '>=', MiB, 'main::bar keeps 1 MiB' );

sub export_ok {
    my ( $format, @args ) = @_;
    my ( $out, $err, $status ) = run_capture( [ $bin, 'export', '--format', $format, @args ], cwd => $dir );
    is( $status, 0, "memprof export --format $format @args" ) or diag $err;
    return $out;
}

# Decoded JSON of a file, or undef.
sub json_file { my $text = eval { slurp( $_[0] ) }; defined $text ? decode_json($text) : undef }

subtest 'the command: default names, -o, -, bad input' => sub {
    like( export_ok( 'pprof', $profile ), qr/^Wrote memprof\.pb\.gz \(go tool pprof -http=: memprof\.pb\.gz\)$/,
        'says what it wrote and how to open it' );
    ok( -s "$dir/memprof.pb.gz", 'pprof: memprof.out -> memprof.pb.gz, in the current directory' );
    export_ok( 'speedscope', $profile );
    ok( -s "$dir/memprof.speedscope.json", 'speedscope: memprof.speedscope.json' );
    export_ok( 'firefox', $profile, '-o', "$dir/ff.json" );
    ok( -s "$dir/ff.json", 'firefox: -o names the file' );
    my $stdout = export_ok( 'speedscope', $profile, '-o', '-' );
    is( $stdout, slurp("$dir/memprof.speedscope.json"), '-o - writes the same file to stdout' );

    my ( $out, $err, $status ) = run_capture( [ $bin, 'export', '--format', 'massif', $profile ] );
    is( $status >> 8, 2, 'an unknown format: exit status 2' );
    is( $err, "memprof: unknown export format 'massif' (use pprof, speedscope or firefox)\n", '... one line' );
    ( $out, $err, $status ) = run_capture( [ $bin, 'export', $profile ] );
    is( $status >> 8, 2, 'no --format: exit status 2' );
    like( $err, qr/--format/, '... and says --format is needed' );

    my ( undef, undef, undef, undef, $nosites ) = profile_code( "my \$x = 'a' x 1000;\n", env => { MEMPROF => 'sites=0' } );
    ( $out, $err, $status ) = run_capture( [ $bin, 'export', '--format', 'pprof', '--metric', 'retained', $nosites ] );
    is( $status >> 8, 2, 'retained without site tracking: exit status 2' );
    like( $err, qr/^memprof: the retained metric needs site tracking/, '... and says why' );
};

subtest 'pprof: go tool pprof reads it' => sub {
    plan skip_all => $no_go if $no_go;
    my $file = "$dir/memprof.pb.gz";
    # Flat figures by function, in bytes (or counts), for one sample type.
    my $top = sub {
        my (@args) = @_;
        my @mode = grep( { $_ eq '-traces' } @args ) ? () : '-top';
        my ( $out, $err, $status ) = run_capture( [ 'go', 'tool', 'pprof', @mode, '-unit=B', @args, $file ],
            env => { HOME => $dir, GOCACHE => "$dir/gocache" } );
        is( $status, 0, "go tool pprof @mode @args" ) or diag $err;
        note $out;
        my %flat;
        for ( split /\n/, $out ) {
            $flat{$2} = $1 if /^\s*(-?\d+)B?\s+\S+%\s+\S+%\s+-?\d+B?\s+\S+%\s+(.+?)\s*$/;
        }
        return ( $out, \%flat );
    };
    my ( $out, $flat ) = $top->();
    like( $out, qr/^Type: net_space$/m, 'the default sample type is net growth (--metric net)' );
    is( $flat->{'main::bar'}, $bar->{exclusive}{net_bytes}, "main::bar: its net bytes ($flat->{'main::bar'})" );
    ( undef, $flat ) = $top->('-sample_index=alloc_space');
    is( $flat->{'main::bar'}, $bar->{exclusive}{alloc_bytes}, 'alloc_space: its allocated bytes' );
    ( undef, $flat ) = $top->('-sample_index=alloc_objects');
    is( $flat->{'main::bar'}, $bar->{exclusive}{alloc_count}, 'alloc_objects: its allocations' );
    ( $out, $flat ) = $top->('-sample_index=inuse_space');
    like( $out, qr/^Type: inuse_space$/m, '-sample_index=inuse_space works' );
    is( $flat->{'main::bar'}, $bar->{exclusive}{retained_bytes}, '... with the bytes it retained' );
    cmp_ok( $flat->{'main::bar'}, '>=', MiB, '... 1 MiB or more' );
    ( undef, $flat ) = $top->('-sample_index=peak_space');
    is( $flat->{'main::bar'}, $bar->{exclusive}{peak_bytes}, 'peak_space: its bytes live at the peak' );
    ( $out, $flat ) = $top->( '-lines', '-sample_index=alloc_space' );
    ok( ( grep { /^main::bar \S*\bt\.pl:1$/ } keys %$flat ), 'with -lines: main::bar at t.pl:1' ) or diag join ', ', keys %$flat;
    ( $out, undef ) = $top->( '-traces', '-sample_index=inuse_space' );
    like( $out, qr/^\s+\d+B\s+main::bar\n\s+main::foo\n\s+main$/m, 'the trace runs bar, foo, main, leaf first' );

    # Conservation: every sample type adds up to the run's totals.
    my $raw;
    ok( gunzip( $file => \$raw ) && length $raw, 'the file is gzipped, as profile.proto asks' ) or diag $GunzipError;
    ( $out, undef ) = $top->( '-sample_index=alloc_space', '-nodefraction=0' );
    like( $out, qr/accounting for \Q$p->{totals}{alloc_bytes}\EB, 100% of \Q$p->{totals}{alloc_bytes}\EB total/,
        'alloc_space adds up to the allocated total' );
};

subtest 'speedscope: the schema validates it, the page shows main::bar' => sub {
    plan skip_all => $no_node if $no_node;
    my $file = "$dir/memprof.speedscope.json";
    my ( $out, $err ) = run_capture( [ 'node', "$browser_dir/speedscope.js", 'validate', $file ] );
    my $v = eval { decode_json($out) } || { error => "not JSON: $out $err" };
    is( $v->{error}, undef, 'speedscope.js validate ran' );
    ok( $v->{valid}, "speedscope's file-format-schema.json validates the export" ) or diag explain $v->{errors};
    # The validator can say no: a sampled profile without its weights.
    my $doc = json_file($file);
    my %broken = %$doc;
    $broken{profiles} = [ { %{ $doc->{profiles}[0] } } ];
    delete $broken{profiles}[0]{weights};
    my $json = JSON::PP->new->canonical;
    write_file( "$dir/broken.json", $json->encode( \%broken ) );
    ( $out, $err ) = run_capture( [ 'node', "$browser_dir/speedscope.js", 'validate', "$dir/broken.json" ] );
    $v = eval { decode_json($out) } || {};
    ok( defined $v->{valid} && !$v->{valid}, '... and rejects a profile without weights' );

    my @names = map { $_->{name} } @{ $doc->{profiles} };
    is( scalar @names, 5, 'a profile per metric' ) or diag explain \@names;
    like( $names[ $doc->{activeProfileIndex} ], qr/net growth/, 'net growth opens first' );
    my ($alloc) = grep { $_->{name} =~ /allocated bytes$/ } @{ $doc->{profiles} };
    my $sum = 0;
    $sum += $_ for @{ $alloc->{weights} };
    is( $sum, $p->{totals}{alloc_bytes}, 'the allocated profile adds up to the total' );
    is( $alloc->{unit}, 'bytes', '... in bytes' );
    my ($frame) = grep { $_->{name} eq 'main::bar' } @{ $doc->{shared}{frames} };
    like( $frame->{file}, qr/\bt\.pl\z/, 'the frame main::bar, with its file' );
    is( $frame->{line}, 1, '... and first line' );

  SKIP: {
        skip $no_browser, 1 if $no_browser;
        ( $out, $err ) = run_capture( [ 'node', "$browser_dir/speedscope.js", 'open', $file, $shots ] );
        my $seen = eval { decode_json($out) } || { error => "not JSON: $out $err" };
        is( $seen->{error}, undef, 'speedscope.js open ran' ) or return;
        like( $seen->{text}, qr/^\t?main::bar$/m, "speedscope's page shows the frame main::bar" );
        like( $seen->{text}, qr/net growth/, '... in the net growth profile' );
        is_deeply( $seen->{console}, [], '... with no console errors' );
        is_deeply( $seen->{network}, [], '... and nothing requested beyond file://' );
    }
};

subtest 'firefox: the same frames and weights as the profile' => sub {
    my $doc = json_file("$dir/ff.json");
    ok( $doc, 'the Firefox export is JSON' ) or return;
    cmp_ok( $doc->{meta}{preprocessedProfileVersion}, '>', 0, 'a processed profile' );
    my %threads;
    for my $t ( @{ $doc->{threads} } ) {
        my ( $strings, $stacks, $samples ) = @{$t}{qw(stringArray stackTable samples)};
        my $path = sub {
            my ($s) = @_;
            my @names;
            while ( defined $s ) {
                my $func = $t->{frameTable}{func}[ $stacks->{frame}[$s] ];
                unshift @names, $strings->[ $t->{funcTable}{name}[$func] ];
                $s = $stacks->{prefix}[$s];
            }
            return join ';', @names;
        };
        my %w;
        $w{ $path->( $samples->{stack}[$_] ) } += $samples->{weight}[$_] for 0 .. $samples->{length} - 1;
        $threads{ $t->{name} } = { type => $samples->{weightType}, weights => \%w };
    }
    my $selected = $doc->{threads}[ $doc->{meta}{initialSelectedThreads}[0] ]{name};
    is( $selected, 'net growth', 'net growth is selected first' );
    my %field = (
        'allocations'      => 'alloc_count',
        'allocated bytes'  => 'alloc_bytes',
        'net growth'       => 'net_bytes',
        'retained at exit' => 'retained_bytes',
        'live at the peak' => 'peak_bytes',
    );
    is_deeply( [ sort keys %threads ], [ sort keys %field ], 'a thread per metric' );
    for my $name ( sort keys %field ) {
        my %want;
        for my $s ( @{ $p->{stacks} } ) {
            $want{ join ';', @{ $s->{frames} }, "$s->{file}:$s->{line}" } += $s->{ $field{$name} };
        }
        delete @want{ grep { !$want{$_} } keys %want };
        is_deeply( $threads{$name}{weights}, \%want, "$name: every stack with its $field{$name}" );
        is( $threads{$name}{type}, $name eq 'allocations' ? 'samples' : 'bytes', "$name: weightType" );
    }
    my ($held) = grep { /^main;main::foo;main::bar;\S*\bt\.pl:1$/ } keys %{ $threads{'allocated bytes'}{weights} };
    cmp_ok( $held && $threads{'allocated bytes'}{weights}{$held}, '>=', MiB, 'main;main::foo;main::bar;t.pl:1 holds the MiB' );
};

done_testing;

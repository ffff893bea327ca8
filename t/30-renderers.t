# memprof's renderers on real profiles (issue 3): flame graphs, the report,
# CSV, diff and merge.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use Text::ParseWords qw(parse_line);
use Test::More;
use XML::Parser;

my $bin = memprof_bin();
my $dir = tempdir( CLEANUP => 1 );

# Sizes as the report writes them: binary units, three significant figures.
sub human {
    my ($n) = @_;
    my $sign = $n < 0 ? '-' : '';
    $n = abs $n;
    return "$sign$n bytes" if $n < 1024;
    my @units = qw(KiB MiB GiB TiB);
    my $v     = $n / 1024;
    my $u     = 0;
    while ( $v >= 1024 && $u < $#units ) { $v /= 1024; $u++ }
    my $digits = $v >= 100 ? 0 : $v >= 10 ? 1 : 2;
    return sprintf "%s%.*f %s", $sign, $digits, $v, $units[$u];
}

# Frames of an inferno SVG: title, depth (from y) and fg:w (bytes).
sub svg_frames {
    my ($file) = @_;
    my ( @frames, $in_title, $title, %rect );
    my $parser = XML::Parser->new(
        Handlers => {
            Start => sub {
                my ( undef, $el, %a ) = @_;
                if ( $el eq 'title' ) { $in_title = 1; $title = '' }
                if ( $el eq 'rect' && defined $a{'fg:w'} ) {
                    push @frames, { title => $title, y => $a{y}, w => $a{'fg:w'}, x => $a{'fg:x'} };
                }
            },
            Char => sub { $title .= $_[1] if $in_title },
            End  => sub { $in_title = 0 if $_[1] eq 'title' },
        }
    );
    $parser->parsefile($file);    # dies unless well-formed
    return @frames;
}

sub claimed_bytes {
    my ($title) = @_;
    my ($n) = $title =~ /([\d,]+) bytes, [\d.]+%\)/ or return;
    $n =~ tr/,//d;
    return $n;
}

subtest 'recursion flame graph: well-formed, main::bar 51 deep, widths match titles' => sub {
    my ( $p, undef, undef, undef, $out ) = profile_code(<<'PERL');
sub bar { my $var = "#" x 2**20; bar($_[0]-1) if $_[0]; }
bar(50);
PERL
    my $svg = "$dir/bar.svg";
    my ( undef, $err, $status ) = run_capture( [ $bin, 'flamegraph', $out, '-o', $svg ] );
    is( $status, 0, 'flamegraph ran' ) or diag $err;
    my @frames = eval { svg_frames($svg) };
    ok( !$@, 'the SVG is well-formed XML' ) or diag $@;
    my %bar_depths = map { $_->{y} => 1 } grep { $_->{title} =~ /^main::bar \(/ } @frames;
    is( scalar keys %bar_depths, 51, 'main::bar at 51 depths' );
    my ($all) = grep { $_->{title} =~ /^all \(/ } @frames;
    my $total = claimed_bytes( $all->{title} );
    # Drawn by sub: a stack's lines are added up first (a compile frame
    # has many), then what shrank is left out.
    my %by_frames;
    $by_frames{ join ';', @{ $_->{frames} } } += $_->{net_bytes} for @{ $p->{stacks} };
    my $net = 0;
    $net += $_ for grep { $_ > 0 } values %by_frames;
    is( $total, $net, 'the root claims the sum of the positive stacks' );
    my @bad = grep { my $c = claimed_bytes( $_->{title} ); defined $c && $c != $_->{w} } @frames;
    is( scalar @bad, 0, 'every frame is as wide as the bytes its tooltip claims' );
    my ($root_main) = grep { $_->{title} =~ /^main \(/ } @frames;
    is( $root_main->{w}, $all->{w}, 'main spans the whole width' );
    like( slurp($svg), qr/MiB, [\d,]+ bytes, /, 'tooltips show human sizes' );
};

SKIP: {
    skip 'Moose is not installed', 1 unless system( perl_bin(), '-MMoose', '-e1' ) == 0;
    subtest 'Moose flame graph names the files Moose loads' => sub {
        my ( undef, undef, undef, undef, $out ) = profile_code("use Moose;\n1;\n");
        my $svg = "$dir/moose.svg";
        run_capture( [ $bin, 'flamegraph', '--metric', 'alloc', $out, '-o', $svg ] );
        my @frames = svg_frames($svg);
        ok( ( grep { $_->{title} =~ /^Moose\.pm \(/ } @frames ),     'a Moose.pm frame' );
        ok( ( grep { $_->{title} =~ /^Class\/MOP\.pm \(/ } @frames ), 'a Class/MOP.pm frame' );
        like( slurp($svg), qr/t\.pl: memory allocated/, 'the title names the script and the metric' );
    };
}

subtest 'report: the sentence for main::foo carries the JSON figure' => sub {
    my ( $p, undef, undef, undef, $out ) = profile_code(<<'PERL');
sub helper { my @x = (1) x 1000; return \@x }
sub foo { my $var = "#" x 2**20; our @keep = helper(); }
foo();
PERL
    my $foo = sub_named( $p, 'main::foo' );
    my ( $text, $err, $status ) = run_capture( [ $bin, 'report', $out ] );
    is( $status, 0, 'report ran' ) or diag $err;
    my $sentence = sprintf 'memory went up %s in sub main::foo (%s in its own lines, %s in subs it called)',
        human( $foo->{inclusive}{net_bytes} ), human( $foo->{exclusive}{net_bytes} ),
        human( $foo->{inclusive}{net_bytes} - $foo->{exclusive}{net_bytes} );
    ok( index( $text, $sentence ) >= 0, "contains: $sentence" ) or diag $text;
    like( $text, qr/^\s+\+\S+ \S+  \S+t\.pl:2  sub foo \{ my \$var = "#" x 2\*\*20; our \@keep = helper\(\); \}/m,
        'the top line with its source' );
    my ($md) = run_capture( [ $bin, 'report', '--format', 'markdown', $out ] );
    like( $md, qr/^\| where \| net growth \|/m, 'markdown has a table header' );
    like( $md, qr/^\| sub `main::foo` \| \+/m, '... and a row for main::foo' );
};

subtest 'csv parses back to the numbers memprof json gives' => sub {
    my ( $p, undef, undef, undef, $out ) = profile_code("my \@a = map { [\$_] } 1..5000;\nmy \$s = 'x' x 100_000;\n");
    for my $by (qw(line sub)) {
        my ($csv) = run_capture( [ $bin, 'csv', '--by', $by, $out ] );
        my ( $head, @rows ) = map { [ parse_line( ',', 0, $_ ) ] } split /\n/, $csv;
        my %col;
        @col{@$head} = 0 .. $#$head;
        my $bad = 0;
        for my $row (@rows) {
            my $json
                = $by eq 'line'
                ? line_of( $p, $row->[0], $row->[1] )
                : sub_named( $p, $row->[0] )->{exclusive};
            for my $m (qw(alloc_bytes alloc_count free_bytes free_count net_bytes sv_delta)) {
                $bad++ if $row->[ $col{$m} ] != $json->{$m};
            }
        }
        is( $bad, 0, "--by $by: every cell matches" );
        is( scalar @rows, scalar @{ $p->{ $by eq 'line' ? 'lines' : 'subs' } }, "--by $by: one row each" );
    }
};

subtest 'diff names the sub that grew, ignores moved lines, gates CI' => sub {
    my $base = <<'PERL';
sub small { my @a = (1) x 100; return scalar @a }
sub grows { our @keep; push @keep, 'x' x 1000 for 1 .. 100; }
small();
grows();
PERL
    # Not a constant expression: perl would fold that at compile time.
    ( my $more = $base ) =~ s/push \@keep, 'x' x 1000 for 1 \.\. 100;/push \@keep, 'x' x 1000 for 1 .. 100; my \$n = 2**20; push \@keep, 'y' x \$n;/;
    my ( $p1, undef, undef, undef, $old ) = profile_code($base);
    my ( $p2, undef, undef, undef, $new ) = profile_code( "\n" . $more );
    my ( $text, $err, $status ) = run_capture( [ $bin, 'diff', $old, $new ] );
    is( $status, 0, 'diff ran' ) or diag $err;
    my ($first) = $text =~ /Subs by memory held at exit:\n\s+(.*)\n/;
    like( $first, qr/^main::grows: up 1\.\d\d MiB \(was /, 'main::grows is named first, by what it keeps' );
    my ($json) = run_capture( [ $bin, 'diff', '--format', 'json', $old, $new ] );
    my $d = decode_json($json);
    my ($grows) = grep { $_->{name} eq 'main::grows' } @{ $d->{subs} };
    my $kept = $grows->{new}{retained_bytes} - $grows->{old}{retained_bytes};
    cmp_ok( abs( $kept - MiB ) / MiB, '<', 0.01, 'by +1 MiB within 1%' );
    my @new_lines = grep { $_->{status} eq 'new' } @{ $d->{lines} };
    my @moved = grep { $_->{status} eq 'changed' && $_->{new_line} == $_->{old_line} + 1 } @{ $d->{lines} };
    is( scalar(@new_lines), 0, 'a blank line at the top turns no line into "new"' ) or diag explain \@new_lines;
    ok( scalar(@moved), 'lines are matched one further down' );
    my ( undef, undef, $over ) = run_capture( [ $bin, 'diff', '--fail-over', 512 * 1024, $old, $new ] );
    is( $over >> 8, 1, '--fail-over exits 1 when what is held grew more' );
    my ( undef, undef, $under ) = run_capture( [ $bin, 'diff', '--fail-over', 2 * MiB, $old, $new ] );
    is( $under >> 8, 0, '... and 0 when it did not' );
    my $svg = "$dir/diff.svg";
    run_capture( [ $bin, 'diff', '-o', $svg, $old, $new ] );
    ok( eval { svg_frames($svg); 1 }, 'the differential flame graph is well-formed' );
    like( slurp($svg), qr/main::grows \(/, '... and has main::grows' );
};

subtest 'merge of three profiles adds every metric' => sub {
    my @files;
    my @profiles;
    for my $n ( 1 .. 3 ) {
        my ( $p, undef, undef, undef, $out ) = profile_code("my \$x = 'a' x ($n * 100_000);\n");
        push @files,    $out;
        push @profiles, $p;
    }
    my $merged = "$dir/merged.out";
    my ( undef, $err, $status ) = run_capture( [ $bin, 'merge', @files, '-o', $merged ] );
    is( $status, 0, 'merge ran' ) or diag $err;
    my $m = memprof_json($merged);
    for my $metric (qw(alloc_bytes alloc_count free_bytes free_count net_bytes sv_delta)) {
        my $sum = 0;
        $sum += $_->{totals}{$metric} for @profiles;
        is( $m->{totals}{$metric}, $sum, "totals $metric is the sum" );
    }
    conservation_ok( $m, 'merged' );
};

done_testing;

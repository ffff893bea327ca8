# What holds the memory (issue 4): retained at exit and live at the peak,
# by allocating line, with perl's arenas apart; the timeline; the trace.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

my $MB = 1_000_000;

# Line 3 caches 10,000 strings of 1 kB; line 2 builds and drops 400,000
# strings of 100 bytes (over a range perl cannot fold into a constant
# list, which the op tree would hold).
my $sites = <<'PERL';
our %cache;
sub temp { my $k = 400_000; my @tmp = map { "y" x 100 } 1 .. $k; my $n = @tmp; undef @tmp; return $n; }
sub load_cache { $cache{$_} = "x" x 1000 for 1 .. 10_000; }
sub build { return temp() }
load_cache();
print build(), "\n";
PERL

subtest 'retained and peak by allocating line' => sub {
    my ($p) = profile_code($sites);
    ok( $p->{site_tracking}, 'site tracking is on by default' );
    my $cache = line_of( $p, 't.pl', 3 );
    my $temp  = line_of( $p, 't.pl', 2 );
    cmp_ok( $cache->{retained_bytes}, '>=', 10 * $MB, 'the caching line still holds >= 10 MB at exit' );
    my $temp_data = $temp->{retained_bytes} - $temp->{retained_arena_bytes};
    cmp_ok( $temp_data, '<', 1 * $MB, "the temporary line holds under 1 MB of data at exit ($temp_data)" );
    cmp_ok( $temp->{retained_arena_bytes}, '>', 0, '... its arena blocks shown apart' );
    cmp_ok( $temp->{peak_bytes}, '>=', 40 * $MB, 'the temporary line held >= 40 MB at the peak' );
    is_deeply( $p->{peak}{frames}, [ 'main', 'main::build', 'main::temp' ], 'the peak was reached in main::temp' );
    conservation_ok( $p, 'sites' );
};

subtest 'bar(50) keeps each level\'s 1 MiB buffer' => sub {
    my ($p) = profile_code(<<'PERL');
sub bar { my $var = "#" x 2**20; bar($_[0]-1) if $_[0]; }
bar(50);
PERL
    cmp_ok( line_of( $p, 't.pl', 1 )->{retained_bytes}, '>=', 50 * MiB, 'the my $var line retains >= 50 MiB' );
};

subtest 'report and flame graphs of the held memory' => sub {
    my ( $p, undef, undef, undef, $file ) = profile_code($sites);
    my ($report) = run_capture( [ memprof_bin(), 'report', $file ] );
    like( $report, qr/^Still held at exit, by the line that allocated it:$/m, 'a section for exit' );
    like( $report, qr/^    main::load_cache allocated 1\d\.\d MiB that was still held at exit/m, 'in the sentence form' );
    like( $report, qr/^Live at the heap's peak \([\d.]+ MiB\), by the line that allocated it:$/m, 'a section for the peak' );
    like( $report, qr/^    main::temp allocated \d+\.?\d* MiB that was live at the heap's peak/m, 'main::temp at the peak' );
    like( $report, qr/"arena" is memory in blocks perl keeps once it has them/, 'the report says what arena memory is' );
    for my $metric (qw(retained peak)) {
        my ( $svg, $err, $status ) = run_capture( [ memprof_bin(), 'flamegraph', '--metric', $metric, $file ] );
        is( $status, 0, "flamegraph --metric $metric" ) or diag $err;
        like( $svg, qr/main::load_cache \(/, "... shows main::load_cache" );
    }
};

subtest 'with sites=0 there are no site figures, and the metrics say why' => sub {
    my ( $p, undef, undef, undef, $file ) = profile_code( $sites, env => { MEMPROF => 'sites=0' } );
    ok( !$p->{site_tracking}, 'no site tracking' );
    ok( !exists $p->{lines}[0]{retained_bytes}, 'no retained figures' );
    my ( undef, $err, $status ) = run_capture( [ memprof_bin(), 'flamegraph', '--metric', 'retained', $file ] );
    is( $status >> 8, 2, 'the retained flame graph is refused' );
    like( $err, qr/^memprof: the retained metric needs site tracking, and this profile was made with MEMPROF=sites=0$/, '... saying why' );
    conservation_ok( $p, 'sites=0' );
};

subtest 'timeline: three marked phases, the peak among the samples' => sub {
    my ( $p, undef, undef, undef, $file ) = profile_code(<<'PERL');
use Devel::MemProf;
Devel::MemProf::mark("load");
my @data = map { "x" x 200 } 1 .. 100_000;
Devel::MemProf::mark("transform");
my %h = map { $_ => 1 } 1 .. 100_000;
Devel::MemProf::mark("drop");
undef @data; undef %h;
PERL
    is_deeply( [ map { $_->{label} } @{ $p->{marks} } ], [qw(load transform drop)], 'the marks, in order' );
    my @times = map { $_->{time} } @{ $p->{marks} };
    ok( $times[0] <= $times[1] && $times[1] <= $times[2], '... at increasing times' );
    my ($max) = sort { $b <=> $a } map { $_->{live_bytes} } @{ $p->{timeline} };
    is( $max, $p->{totals}{peak_bytes}, 'the largest sample is the peak' );
    cmp_ok( scalar @{ $p->{timeline} }, '>', 10, 'samples across the run' );
    cmp_ok( scalar @{ $p->{timeline} }, '<=', 2050, 'but a bounded number' );
    my $svg = "$file.svg";
    my ( undef, $err, $status ) = run_capture( [ memprof_bin(), 'timeline', $file, '-o', $svg ] );
    is( $status, 0, 'memprof timeline' ) or diag $err;
    my $chart = slurp($svg);
    my @labels = $chart =~ m{<text[^>]*>\s*(load|transform|drop)\s*</text>}g;
    is_deeply( \@labels, [qw(load transform drop)], 'the chart shows the three labels in order' );
    like( $chart, qr/>\s*peak [\d.]+ MiB in main at /, 'and the peak' );
};

subtest 'trace=1000000 prints the statements that grew, as they run' => sub {
    my ( undef, $out, $err ) = profile_code( $sites, env => { MEMPROF => 'trace=1000000' } );
    my @lines = split /\n/, $err;
    ok( ( grep {/^>> \d+ main::load_cache, \S*t\.pl \(3\) used \d{8,} bytes$/} @lines ), 'the caching line' )
        or diag $err;
    ok( ( grep {/^>> \d+ main::temp, \S*t\.pl \(2\) used \d{8,} bytes$/} @lines ), 'the temporary line' );
    is( scalar( grep { !/^>> \d+ / } @lines ), 0, 'nothing else' );
    ok( !( grep {/\((5|6)\) used/} @lines ), 'and nothing for lines below the threshold' );
    is( $out, "400000\n", "the program's own output is untouched" );
};

subtest 'set_callback receives the same four values' => sub {
    my ( $p, $out ) = profile_code( <<'PERL', env => { MEMPROF => 'trace=1000000' } );
use Devel::MemProf;
my @seen;
Devel::MemProf::set_callback(sub { push @seen, join '|', @_ });
our %cache;
sub load_cache { $cache{$_} = "x" x 1000 for 1 .. 10_000; }
load_cache();
Devel::MemProf::set_callback(undef);
print "$_\n" for @seen;
PERL
    my @calls = split /\n/, $out;
    is( scalar @calls, 1, 'one call' ) or diag $out;
    like( $calls[0], qr/^main\|\S*t\.pl\|5\|(\d{8,})$/, '($package, $file, $line, $bytes) of the caching line' );
    my ($bytes) = $calls[0] =~ /(\d+)$/;
    # At run time: what compiling line 5 cost is not the statement's.
    my $run_time = 0;
    $run_time += $_->{net_bytes} for grep { $_->{line} == 5 && $_->{frames}[-1] !~ /^compile / } @{ $p->{stacks} };
    is( $bytes, $run_time, '... the bytes the profile credits to that line as it ran' );
    ok( line_of( $p, '(callback)', 0 ), 'what the callback allocated went to (callback)' );
    conservation_ok( $p, 'callback' );
};

done_testing;

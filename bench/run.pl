#!/usr/bin/perl
# The benchmark: each workload run plain and under each profiler,
# interleaved, several times after a warm-up; prints the median wall time,
# the ratio to plain perl (measured in this same run) and the peak RSS.
#
#   perl bench/run.pl [--runs 5] [--only NAME,...] [--variants plain,memprof,...]
#
# Variants: plain, memprof (site tracking on), memprof-sites0,
# memprof-native (MEMPROF=native=1, not run unless named),
# memprof-sample (sample=524288), memprof-nosnapshot (snapshot=0: the
# others take the heap snapshot at the end, the default), nytprof
# (Devel::NYTProf) and heaptrack, each where installed.  Timing is never
# asserted by tests; this is for people.
#
#   perl bench/run.pl --instructions [--scale 0.1] [--only ...] [--variants ...]
#
# counts instructions instead (valgrind's callgrind), which a shared
# machine's load does not move: each workload shrunk to --scale of its
# size (BENCH_SCALE in its environment), run once per variant, perl loading
# the profiler itself (-d:MemProf, MEMPROF set as `memprof run` would).
# Callgrind runs a program some 50 times slower, and the profiler's
# timeline samples by the clock, so these count a few more samples than a
# run at full speed does.
use strict;
use warnings;
use Config;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use Getopt::Long;
use List::Util qw(sum);
use POSIX qw(WNOHANG);
use Time::HiRes qw(time);

my $root = abs_path( dirname(__FILE__) . '/..' );
my %opt  = ( runs => 5, warmup => 1 );
GetOptions( \%opt, 'runs=i', 'warmup=i', 'only=s', 'variants=s', 'memprof=s', 'instructions', 'scale=f' )
    or die "usage: $0 [--runs N] [--warmup N] [--only a,b] [--variants plain,memprof,...] [--memprof BIN]"
    . " [--instructions [--scale F]]\n";
my $scale = $opt{scale} // ( $opt{instructions} ? 0.1 : 1 );
$scale > 0 && $scale <= 1 or die "--scale must be more than 0 and at most 1\n";
$ENV{BENCH_SCALE} = $scale;
my ($valgrind) = grep { -x } map {"$_/valgrind"} split /:/, $ENV{PATH};
if ( $opt{instructions} ) {
    $valgrind or die "--instructions needs valgrind (apt-get install valgrind)\n";
    # Instruction counts are the same every time.
    @opt{qw(runs warmup)} = ( 1, 0 );
}

my $memprof = $opt{memprof} || "$root/target/release/memprof";
-x $memprof or die "no $memprof: run `cargo build --release` first\n";
my $perl = $^X;
my $tmp  = tempdir( CLEANUP => 1 );
my $gnu_time = -x '/usr/bin/time' ? '/usr/bin/time' : undef;

# perltidy's input: perl5db.pl, which every perl has, cut at the first
# top-level sub after line 5,000 so that its braces balance.
my ($perl5db) = grep { -f } map {"$_/perl5db.pl"} @INC;
my $tidy_input = "$tmp/tidy-input.pl";
if ($perl5db) {
    open my $in,  '<', $perl5db    or die "$perl5db: $!";
    open my $out, '>', $tidy_input or die "$tidy_input: $!";
    while (<$in>) {
        last if $. > 5000 * $scale && /^sub /;
        print {$out} $_;
    }
}
my ($perltidy) = grep { -x } map {"$_/perltidy"} split /:/, $ENV{PATH};

my @workloads = (
    [ statements  => ["$root/bench/workloads/statements.pl"] ],
    [ subcalls    => ["$root/bench/workloads/subcalls.pl"] ],
    [ allocations => ["$root/bench/workloads/allocations.pl"] ],
    [ strings     => ["$root/bench/workloads/strings.pl"] ],
    [ regex       => ["$root/bench/workloads/regex.pl"] ],
    [ livewords   => ["$root/bench/workloads/livewords.pl"] ],
    [ methods     => ["$root/bench/workloads/methods.pl"] ],
    [ closures    => ["$root/bench/workloads/closures.pl"] ],
    [ service     => ["$root/bench/workloads/service.pl"] ],
    ( eval { require XML::LibXML; 1 } ? [ xml => ["$root/bench/workloads/xml.pl"] ] : () ),
    ( eval { require Mojolicious; 1 } ? [ mojo => ["$root/bench/workloads/mojo.pl"] ] : () ),
    ( eval { require Moose; 1 } ? [ moose => ["$root/bench/workloads/moose.pl"] ] : () ),
    ( $Config{useithreads} ? [ threads => ["$root/bench/workloads/threads.pl"] ] : () ),
    ( $perltidy && $perl5db ? [ perltidy => [ $perltidy, '-st', '-se', $tidy_input ] ] : () ),
);
if ( $opt{only} ) {
    my %only = map { $_ => 1 } split /,/, $opt{only};
    @workloads = grep { $only{ $_->[0] } } @workloads;
}

my $have_nytprof = eval { require Devel::NYTProf::Core; 1 } || system( $perl, '-MDevel::NYTProf::Core', '-e1' ) == 0;
my ($heaptrack) = grep { -x } map {"$_/heaptrack"} split /:/, $ENV{PATH};
my %variant = (
    plain            => sub { ( [ $perl, @_ ], {} ) },
    memprof          => sub { ( [ $memprof, 'run', '-q', '--no-render', '-o', "$tmp/m.out", '--', @_ ], {} ) },
    'memprof-sites0' => sub {
        ( [ $memprof, 'run', '-q', '--no-render', '-o', "$tmp/m0.out", '--', @_ ], { MEMPROF => 'sites=0' } );
    },
    'memprof-native' => sub {
        ( [ $memprof, 'run', '-q', '--no-render', '-o', "$tmp/mn.out", '--', @_ ], { MEMPROF => 'native=1' } );
    },
    'memprof-nosnapshot' => sub {
        ( [ $memprof, 'run', '-q', '--no-render', '-o', "$tmp/mh.out", '--', @_ ], { MEMPROF => 'snapshot=0' } );
    },
    'memprof-sample' => sub {
        ( [ $memprof, 'run', '-q', '--no-render', '-o', "$tmp/ms.out", '--', @_ ], { MEMPROF => 'sample=524288' } );
    },
    nytprof   => sub { ( [ $perl, '-d:NYTProf', @_ ], { NYTPROF => "file=$tmp/nytprof.out" } ) },
    heaptrack => sub { ( [ $heaptrack, '-o', "$tmp/ht", $perl, @_ ], {} ) },
);
my @variants = grep { $_ ne 'nytprof' || $have_nytprof } grep { $_ ne 'heaptrack' || $heaptrack }
    qw(plain memprof memprof-sites0 memprof-sample nytprof heaptrack);
@variants = split /,/, $opt{variants} if $opt{variants};
$variant{$_} or die "unknown variant $_\n" for @variants;
if ( $opt{instructions} ) {
    @variants = grep { $_ ne 'heaptrack' } @variants;
    # perl itself under callgrind, not `memprof run` and its child: the
    # same MEMPROF options, the library from `memprof run`'s perl-lib.
    my $lib = dirname($memprof) . '/perl-lib';
    system( $memprof, 'run', '-q', '--no-render', '-o', "$tmp/lib.out", '-e', '1' ) == 0
        or die "$memprof run -e 1 failed\n";
    my %memprof_env = (
        memprof              => '',
        'memprof-sites0'     => 'sites=0',
        'memprof-native'     => 'native=1',
        'memprof-nosnapshot' => 'snapshot=0',
        'memprof-sample'     => 'sample=524288',
    );
    for my $v ( keys %memprof_env ) {
        my $opts = join ':', grep {length} "file=$tmp/$v.out", $memprof_env{$v};
        $variant{$v} = sub { ( [ $perl, "-I$lib", '-d:MemProf', @_ ], { MEMPROF => $opts } ) };
    }
}

# One run: wall seconds and peak RSS in kB (of the largest process); with
# --instructions, the instructions instead and no RSS.
sub run_once {
    my ( $argv, $env ) = @_;
    my $rss_file = "$tmp/rss";
    my @cmd
        = $opt{instructions} ? ( $valgrind, '--tool=callgrind', '--callgrind-out-file=/dev/null', @$argv )
        : $gnu_time          ? ( $gnu_time, '-f', '%M', '-o', $rss_file, @$argv )
        :                      @$argv;
    my $t0  = time;
    my $pid = fork // die "fork: $!";
    if ( !$pid ) {
        %ENV = ( %ENV, %$env );
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', "$tmp/stderr";
        exec @cmd or exit 127;
    }
    waitpid $pid, 0;
    my $wall = time - $t0;
    die "failed ($?): @$argv\n" . `cat $tmp/stderr` if $?;
    if ( $opt{instructions} ) {
        open my $fh, '<', "$tmp/stderr" or die "$tmp/stderr: $!";
        my ($n) = join( '', <$fh> ) =~ /Collected : (\d+)/ or die "no instruction count from callgrind: @$argv\n";
        return ( $n, undef );
    }
    my $rss;
    if ( $gnu_time && open my $fh, '<', $rss_file ) {
        ($rss) = <$fh> =~ /(\d+)/;
    }
    unlink glob "$tmp/ht*";
    return ( $wall, $rss );
}

sub median { my @s = sort { $a <=> $b } @_; @s % 2 ? $s[ $#s / 2 ] : ( $s[ @s / 2 - 1 ] + $s[ @s / 2 ] ) / 2 }

my ( %wall, %rss );
for my $w (@workloads) {
    my ( $name, $argv ) = @$w;
    my @script = @$argv;
    for my $round ( 1 .. $opt{warmup} + $opt{runs} ) {
        for my $v (@variants) {
            my ( $cmd, $env ) = $variant{$v}->(@script);
            my ( $wall, $rss ) = run_once( $cmd, $env );
            next if $round <= $opt{warmup};
            push @{ $wall{$name}{$v} }, $wall;
            push @{ $rss{$name}{$v} },  $rss if defined $rss;
        }
    }
    printf STDERR "%-12s done\n", $name;
}

my @cols = @variants;
printf "%-12s %s\n", 'workload', join ' ', map { sprintf '%22s', $_ } @cols;
my %ratios;
for my $w (@workloads) {
    my $name  = $w->[0];
    my $plain = median( @{ $wall{$name}{plain} || [1] } );
    my @cells;
    for my $v (@cols) {
        my $m     = median( @{ $wall{$name}{$v} } );
        my $ratio = $m / $plain;
        push @{ $ratios{$v} }, $ratio;
        my $rss = $rss{$name}{$v} ? sprintf( '%5.0fMB', median( @{ $rss{$name}{$v} } ) / 1024 ) : '     -';
        push @cells,
            $opt{instructions} ? sprintf( '%7.0fM %6.3fx', $m / 1e6, $ratio ) : sprintf( '%6.2fs %5.2fx %s', $m, $ratio, $rss );
    }
    printf "%-12s %s\n", $name, join ' ', map { sprintf '%22s', $_ } @cells;
}
printf "%-12s %s\n", 'geomean', join ' ',
    map { sprintf '%22s', sprintf $opt{instructions} ? '%6.3fx' : '%5.2fx', exp( sum( map {log} @{ $ratios{$_} } ) / @{ $ratios{$_} } ) }
    @cols;
if ( $opt{instructions} ) {
    printf "\n(instructions counted by callgrind, the workloads at %g of their size; ratio = instructions / plain perl's)\n",
        $scale;
} else {
    printf "\n(median of %d runs after %d warm-up, interleaved; ratio = median / plain perl's median; RSS = peak resident set)\n",
        $opt{runs}, $opt{warmup};
}

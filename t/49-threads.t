# Threads are profiled (issue 13): every ithread's allocations are credited
# to its own lines under a frame `thread N` called at the create statement,
# frees on another thread (a join destroying the thread's interpreter, a
# Thread::Queue hand-off) come off the allocating site, and the totals of
# the whole process add up.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use Test::More;

my ($threaded) = run_capture( [ perl_bin(), '-MConfig', '-e', 'print $Config{useithreads} ? 1 : 0' ] );
plan skip_all => 'this perl was built without threads (useithreads)' unless $threaded;

# Profile $code as t.pl, and run it unprofiled too: the output must be the same.
sub profile_and_plain {
    my ( $code, $name ) = @_;
    my ( $p, $out, $err, $status ) = profile_code($code);
    is( $status, 0, "$name: ran under the profiler" ) or diag $err;
    my $dir = tempdir( CLEANUP => 1 );
    my $script = write_file( "$dir/t.pl", $code );
    my ($plain) = run_capture( [ perl_bin(), $script ], cwd => $dir );
    is( $out, $plain, "$name: the same output as without the profiler" );
    return ( $p, $out, $err );
}

# Entries of the stacks that run under `thread N`.
sub thread_stacks {
    my ( $p, $tid ) = @_;
    return grep { grep { $_ eq "thread $tid" } @{ $_->{frames} } } @{ $p->{stacks} };
}

sub sum_of {
    my ( $field, @rows ) = @_;
    my $sum = 0;
    $sum += $_->{$field} for @rows;
    return $sum;
}

subtest 'three threads building hashes' => sub {
    my $code = <<'PERL';
use strict;
use warnings;
use threads;
my @t;
for my $n ( 1 .. 3 ) {
    push @t, threads->create( sub { my %h = map { ( "k$_" => [$_] ) } 1 .. ( 20000 * $n ); return threads->tid . '=' . scalar keys %h } );
}
print join( ' ', map { $_->join } @t ), "\n";
PERL
    my ( $p, $out ) = profile_and_plain( $code, 'three threads' );
    is( $out, "1=20000 2=40000 3=60000\n", 'the threads ran' );
    for my $tid ( 1 .. 3 ) {
        my @under = thread_stacks( $p, $tid );
        ok( scalar @under, "thread $tid has stacks" ) or next;
        my @anon = grep { $_->{frames}[-1] =~ m{\Amain::__ANON__\[(?:.*/)?t\.pl:6\]\z} } @under;
        cmp_ok( sum_of( 'alloc_bytes', @anon ), '>=', 1 * MiB, "thread $tid: at least 1 MiB under the anonymous sub" );
        my @path = @{ $under[0]{path} };
        is_deeply(
            [ map { ( my $f = $_->{file} ) =~ s{.*/}{}; "$_->{frame} $f:$_->{line}" } @path[ 0, 1 ] ],
            [ 'main t.pl:6', "thread $tid t.pl:6" ],
            "thread $tid: called from the create statement of main"
        );
        my ($sub) = grep { $_->{name} eq "thread $tid" } @{ $p->{subs} };
        is( $sub && $sub->{kind}, 'thread', "thread $tid is a frame of kind thread" );
    }
    my $t = $p->{totals};
    cmp_ok( $t->{net_bytes}, '>=', 0, 'the process did not shrink' );
    is( $t->{alloc_bytes} - $t->{free_bytes}, $t->{net_bytes}, 'allocated minus freed is the net growth' );
    is( $t->{retained_bytes} - $t->{untracked_free_bytes},
        $t->{net_bytes}, 'what is live (retained less untracked frees) is the net growth, exactly' );
    conservation_ok( $p, 'three threads' );
    my $join = line_of( $p, 't.pl', 8 );
    cmp_ok( $join->{free_bytes}, '>=', 3 * MiB, 'destroying the joined threads frees on the join line' );
    is( sum_of( 'retained_bytes', map { thread_stacks( $p, $_ ) } 1 .. 3 ),
        0, 'nothing the threads allocated is held: their interpreters were destroyed' );

    my $dir = tempdir( CLEANUP => 1 );
    my ( undef, undef, undef, undef, $file ) = profile_script( write_file( "$dir/t.pl", $code ), cwd => $dir );
    my ($report) = run_capture( [ memprof_bin(), 'report', $file ] );
    like( $report, qr/^  thread 3 allocated [\d.]+ MiB, 0 bytes still held$/m, 'the report has a line per thread' );
    like( $report, qr/^  the main thread allocated /m, 'and one for the main thread' );
    my $all = memprof_json($file);
    my $two = memprof_json( $file, '--thread', '2' );
    ok( !grep( { !grep { $_ eq 'thread 2' } @{ $_->{frames} } } @{ $two->{stacks} } ),
        '--thread 2 keeps only the stacks of thread 2' );
    is( $two->{totals}{alloc_bytes}, sum_of( 'alloc_bytes', thread_stacks( $all, 2 ) ), 'and its totals are theirs' );
    my ( undef, $err, $status ) = run_capture( [ memprof_bin(), 'report', '--thread', '7', $file ] );
    is( $status >> 8, 2, '--thread of a thread the profile lacks fails' );
    like( $err, qr/the profile has no thread 7 \(its threads: 0, 1, 2, 3\)/, 'naming the threads it has' );
    my $main = memprof_json( $file, '--thread', '0' );
    ok( !grep( { grep { /^thread / } @{ $_->{frames} } } @{ $main->{stacks} } ), '--thread 0 is the main thread' );
};

subtest 'Thread::Queue: one thread allocates, another frees' => sub {
    my ( $p, $out ) = profile_and_plain( <<'PERL', 'queue' );
use strict;
use warnings;
use threads;
use Thread::Queue;
my $q = Thread::Queue->new;
my $producer = threads->create( sub { $q->enqueue( 'x' x ( 1000 + $_ ) ) for 1 .. 5000; $q->end; return } );
my $consumer = threads->create( sub { my $n = 0; while ( defined( my $s = $q->dequeue ) ) { $n += length $s } return $n } );
$producer->join;
print 'consumed ', $consumer->join, "\n";
PERL
    is( $out, "consumed 17502500\n", 'every string went through' );
    my @producer = grep { $_->{line} == 6 } thread_stacks( $p, 1 );
    cmp_ok( sum_of( 'alloc_bytes', @producer ), '>', 5 * MiB, 'the producer allocated the strings' );
    cmp_ok( sum_of( 'retained_bytes', @producer ), '<', 256 * 1024, 'and holds next to nothing of them' );
    conservation_ok( $p, 'queue' );
};

subtest '8 threads allocating at once, 20 runs' => sub {
    # Each run's threads allocate for 2 s (MEMPROF_TEST_THREAD_SECONDS:
    # scripts/perl-matrix.sh makes it shorter for the other perls).  The
    # output does not depend on how far they got: @keep stays at 20.
    my $seconds = $ENV{MEMPROF_TEST_THREAD_SECONDS} || 2;
    my $code = <<'PERL';
use strict;
use warnings;
use threads;
use Time::HiRes qw(time);
my $end = time + $ARGV[0];
my @t = map {
    my $n = $_;
    threads->create( sub {
        my @keep;
        for ( my $i = 1 ; $i <= 200 || time < $end ; $i++ ) {
            my %h = map { ( "$n.$_" => "v$_" x 3 ) } 1 .. 50;
            push @keep, [%h] if $i % 10 == 0;
            shift @keep if @keep > 20;
        }
        return $n * scalar @keep;
    } );
} 1 .. 8;
my $sum = 0;
$sum += $_->join for @t;
print "sum $sum\n";
PERL
    for my $run ( 1 .. 20 ) {
        my ( $p, $out, $err, $status ) = profile_code( $code, args => [$seconds] );
        my $bad = '';
        $bad .= "status $status: $err\n" if $status;
        $bad .= "output: $out" if $out ne "sum 720\n";
        my @threads = grep { $_->{kind} eq 'thread' } @{ $p->{subs} || [] };
        $bad .= "threads: " . @threads . "\n" unless @threads == 8;
        is( $bad, '', "run $run: no crash, the same output, every thread" );
        conservation_ok( $p, "run $run" ) if $p;
    }
};

subtest 'detach, a thread that dies, and fork' => sub {
    my $dir  = tempdir( CLEANUP => 1 );
    my $code = <<'PERL';
use strict;
use warnings;
use threads;
my $gone = threads->create( sub { my @a = map { "d$_" } 1 .. 2000; 1 } );
$gone->detach;
my $dies = threads->create( sub { our @a = map { "e$_" } 1 .. 5000; die "thread died\n" } );
$dies->join;
print 'error: ', $dies->error;
my $pid = fork // die "fork: $!";
if ( !$pid ) {
    my $t = threads->create( sub { my @a = map { "c$_" } 1 .. 3000; scalar @a } );
    print 'child: ', $t->join, "\n";
    exit 0;
}
waitpid $pid, 0;
my $running = threads->create( sub { my @x = map { "w$_" } 1 .. 4000; sleep 5; 1 } );
$running->detach;
sleep 1;
print "end\n";
PERL
    my $script = write_file( "$dir/t.pl", $code );
    my ( $out, $err, $status ) = run_capture( [ perl_bin(), '-I' . perl_lib_dir(), '-d:MemProf', $script ], cwd => $dir );
    is( $status, 0, 'the program ran' ) or diag $err;
    like( $err, qr/Thread 2 terminated abnormally: thread died/, 'the thread died as without the profiler' );
    my ($plain) = run_capture( [ perl_bin(), $script ], cwd => $dir );
    is( $out, $plain, 'the same output as without the profiler' );
    my @files = sort glob "$dir/memprof.out*";
    is( scalar @files, 2, 'the parent and the forked child wrote profiles' );
    for my $file (@files) {
        my $p = memprof_json($file);
        conservation_ok( $p, $file =~ /\.\d+\z/ ? 'the child' : 'the parent' );
        my %threads = map { $_->{name} => $_ } grep { $_->{kind} eq 'thread' } @{ $p->{subs} };
        if ( $file =~ /\.\d+\z/ ) {
            ok( $threads{'thread 3'}, "the child's thread is in the child's profile" );
            ok( !$threads{'thread 1'}, "and its parent's threads are not" );
            next;
        }
        for my $tid ( 1 .. 3 ) {
            cmp_ok( $threads{"thread $tid"} && $threads{"thread $tid"}{inclusive}{alloc_bytes},
                '>', 50_000, "thread ${tid}'s allocations are in the profile" );
        }
    }
};

subtest 'an OS thread that runs no perl' => sub {
    my $dir = tempdir( CLEANUP => 1 );
    write_file( "$dir/native.c", <<'C' );
#include "EXTERN.h"
#include "perl.h"
#include "XSUB.h"
#include <pthread.h>
#include <stdlib.h>
static void *work(void *arg)
{
    void *keep[1000];
    for (int i = 0; i < 1000; i++)
        keep[i] = malloc(1000);
    for (int i = 0; i < 500; i++)
        free(keep[i]);
    return arg;
}
XS(native_run)
{
    dXSARGS;
    pthread_t t;
    PERL_UNUSED_VAR(items);
    pthread_create(&t, NULL, work, NULL);
    pthread_join(t, NULL);
    XSRETURN_EMPTY;
}
C
    my ($cc)     = run_capture( [ perl_bin(), '-MConfig', '-e', 'print $Config{cc}' ] );
    my ($ccopts) = run_capture( [ perl_bin(), '-MExtUtils::Embed', '-e', 'ccopts' ] );
    my ( undef, $cc_err, $cc_status )
        = run_capture( [ $cc, '-shared', '-fPIC', '-o', "$dir/native.so", split( ' ', $ccopts ), "$dir/native.c", '-lpthread' ] );
    plan skip_all => "cannot build a test library with $cc: $cc_err" if $cc_status;
    my ( $p, $out ) = profile_and_plain( <<"PERL", 'native' );
require DynaLoader;
my \$lib = DynaLoader::dl_load_file( '$dir/native.so', 0 ) or die DynaLoader::dl_error();
my \$sym = DynaLoader::dl_find_symbol( \$lib, 'native_run' ) or die DynaLoader::dl_error();
DynaLoader::dl_install_xsub( 'main::native_run', \$sym, 'native.so' );
native_run();
print "ran\\n";
PERL
    is( $out, "ran\n", 'the C thread ran' );
    my $native = line_of( $p, '(native thread)', 0 );
    ok( $native, 'its allocations are at (native thread)' ) or return;
    cmp_ok( $native->{alloc_count}, '>=', 1000, 'all of them' );
    cmp_ok( $native->{alloc_bytes}, '>=', 1000 * 1000, 'with their bytes' );
    cmp_ok( $native->{free_count},  '>=', 500,  'and its frees' );
    is( $native->{retained_bytes}, $native->{alloc_bytes} - $native->{free_bytes}, 'what it still holds' );
    conservation_ok( $p, 'native' );
};

# Sampled tracking with threads: nearly every free is of a block no table
# holds, and the tables' filter lets it skip searching them; a sampled block
# handed over a queue must still be found by the thread that frees it.
subtest 'sampled tracking: frees on another thread find their blocks' => sub {
    my $code = <<'PERL';
use strict;
use warnings;
use threads;
use Thread::Queue;
my $q = Thread::Queue->new;
our @keep = map { 'k' x ( 1000 + $_ % 3 ) } 1 .. 8000;
my @w = map { threads->create( sub { $q->enqueue( 'x' x ( 1000 + $_ % 500 ) ) for 1 .. 20000; return 1 } ) } 1 .. 2;
my $c = threads->create( sub { my $n = 0; while ( defined( my $s = $q->dequeue ) ) { $n += length $s } return $n } );
$_->join for @w;
$q->end;
print $c->join, "\n";
PERL
    my %env = ( PERL_HASH_SEED => 0, PERL_PERTURB_KEYS => 0 );
    my ($exact)   = profile_code( $code, env => { %env, MEMPROF => 'sites=1' } );
    my ( $p, $out, $err, $status ) = profile_code( $code, env => { %env, MEMPROF => 'sample=16384' } );
    is( $status, 0, 'ran sampled' ) or diag $err;
    is( $out, ( 2 * ( 20000 * 1000 + 40 * 124750 ) ) . "\n", 'the queue carried everything' );
    my ( $e6, $s6 ) = map { line_of( $_, 't.pl', 6 ) } $exact, $p;
    cmp_ok( $e6->{retained_bytes}, '>=', 8000 * 1000, 'exact: the kept strings are held' );
    my $err6 = abs( $s6->{retained_bytes} - $e6->{retained_bytes} ) / $e6->{retained_bytes};
    # About 550 samples of the 8.9 MB: a standard error near 4%.
    cmp_ok( $err6, '<', 0.25, sprintf 'sampled: held %d, estimated %d', $e6->{retained_bytes}, $s6->{retained_bytes} );
    # What the workers enqueued (shared copies, made in Thread::Queue's
    # enqueue on their threads) was freed by the consumer's dequeue: a
    # sampled block whose free was missed would stay held, at 16 KiB or
    # more of estimate each.
    my @queue = map {
        [ grep { $_->{file} =~ m{Thread/Queue\.pm\z} } @{ $_->{lines} } ]
    } $exact, $p;
    cmp_ok( sum_of( 'alloc_bytes', @{ $queue[1] } ), '>=', 40 * MiB, 'the queue made the workers\' strings' );
    my ( $held, $estimated ) = map { sum_of( 'retained_bytes', @$_ ) } @queue;
    cmp_ok( $estimated, '<', $held + 4 * MiB, "and of them holds at the end what the exact run does: $held, estimated $estimated" );
    conservation_ok( $p, 'sampled threads' );
};

done_testing;

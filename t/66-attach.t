# memprof attach (issue 18): profile a perl started without the profiler,
# then detach and let it run on unharmed.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use HTTP::Tiny;
use POSIX qw(WNOHANG);
use Test::More;

plan skip_all => 'memprof attach is for x86-64 Linux' unless `uname -m` =~ /x86_64/;
my $dir = tempdir( CLEANUP => 1 );
local $SIG{ALRM} = sub { die "timed out\n" };
alarm 300;

# A loop that runs until told to stop, then does a fixed piece of work.
my $loop = write_file( "$dir/loop.pl", <<'PERL' );
$| = 1;
our @keep;
my $i = 0;
print "ready\n";
until ( -e $ARGV[0] ) {
    $i++;
    my @tmp = map { "x" x 100 } 1 .. 50;
    push @keep, "k" x 1000 if $i % 10 == 0;
    select undef, undef, undef, 0.0005;
}
my %h = map { $_ => $_ * 2 } 1 .. 10_000;
my $sum = 0;
$sum += $h{$_} for sort { $a <=> $b } keys %h;
print "sum $sum\n";
PERL

{
    my $pid = open( my $fh, '-|', perl_bin(), $loop, "$dir/stop" ) // die "fork: $!";
    is( scalar <$fh>, "ready\n", 'a perl runs, without the profiler' );
    my ( $out, $err, $status ) = run_capture( [ memprof_bin(), 'attach', $pid, '--duration', 1, '-o', "$dir/loop.out" ] );
    is( $status, 0, 'memprof attach ran for its duration and detached' ) or diag $err;
    like( $err, qr/^memprof: profile written to \Q$dir\E\/loop\.out$/m, 'and says where the profile is' );
    my $p = memprof_json("$dir/loop.out");
    cmp_ok( line_of( $p, $loop, 7 )->{alloc_bytes},    '>', 100_000, "the profile holds the loop's lines" );
    cmp_ok( line_of( $p, $loop, 8 )->{retained_bytes}, '>', 10_000,  'and what the loop kept while attached' );
    my $mtime = ( stat "$dir/loop.out" )[9];
    open my $stop, '>', "$dir/stop" or die;
    close $stop;
    my $rest = do { local $/; <$fh> };
    close $fh;
    is( $?, 0, 'after detaching, the process ran on and exited normally' );
    unlink "$dir/stop";
    my $plain = `$^X -e 'open my \$f, ">", "$dir/stop"; close \$f' && @{[ perl_bin() ]} $loop $dir/stop`;
    is( "ready\n$rest", $plain, 'its output is what an unprofiled run prints' );
    is( ( stat "$dir/loop.out" )[9], $mtime, 'and the detached process wrote no profile at its end' );
}

# What cannot be attached to: one line, exit 2.
{
    my $sleeper = open( my $fh, '-|', 'sleep', 30 ) // die;
    my @cases = (
        [ [ 'abc' ],             qr/^memprof: not a process id: 'abc'$/ ],
        [ [ 2**22 + 7 ],         qr/^memprof: no process 4194311$/ ],
        [ [ $sleeper ],          qr{^memprof: process $sleeper is not perl \(it runs /usr/bin/sleep\)$} ],
        [ [ $$, '--duration', 0 ], qr/^memprof: --duration must be a positive number of seconds, not 0$/ ],
    );
    for my $c (@cases) {
        my ( $args, $want ) = @$c;
        my ( $out, $err, $status ) = run_capture( [ memprof_bin(), 'attach', @$args ] );
        like( $err, $want, "attach @$args: named" );
        is( $status >> 8, 2, "attach @$args: exit 2" );
        is( scalar( () = $err =~ /\n/g ), 1, "attach @$args: one line" );
    }
    kill TERM => $sleeper;
    close $fh;
  SKIP: {
        skip 'not root: cannot try another user', 3 if $> != 0;
        skip 'no setpriv', 3 unless -x '/usr/bin/setpriv';
        my $victim = open( my $vf, '-|', perl_bin(), '-e', '$| = 1; print "up\n"; sleep 30' ) // die;
        <$vf>;
        my ( $out, $err, $status ) = run_capture( [ '/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups',
            memprof_bin(), 'attach', $victim ], cwd => '/tmp' );
        like( $err, qr/^memprof: not permitted to attach to process $victim: trace it as its own user with kernel\.yama\.ptrace_scope at 0 \(it is \d*\), or as root$/,
            'another user\'s process: not permitted, and why' );
        is( $status >> 8, 2, 'exit 2' );
        is( scalar( () = $err =~ /\n/g ), 1, 'one line' );
        kill TERM => $victim;
        close $vf;
    }
}

# A Starman worker, between requests.
SKIP: {
    skip 'Starman and Plack are not installed (Debian: starman)', 1 unless -x '/usr/bin/starman';
    my $app = write_file( "$dir/app.psgi", <<'PSGI' );
our @log;
sub {
    my $env = shift;
    push @log, "r" x 2000;
    return [ 200, [ 'Content-Type' => 'text/plain' ], [ scalar(@log) . "\n" ] ];
};
PSGI
    my $port = IO::Socket::INET->new( Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0 )->sockport;
    my $master = fork // die;
    if ( !$master ) {
        open STDERR, '>', "$dir/starman.err" or die;
        exec perl_bin(), '/usr/bin/starman', '--workers', 1, '--listen', "127.0.0.1:$port", $app or die;
    }
    my $http = HTTP::Tiny->new( timeout => 20 );
    my $get = sub { my $r = $http->get("http://127.0.0.1:$port/"); $r->{success} ? $r->{content} : "failed: $r->{status}\n" };
    my $first;
    for ( 1 .. 600 ) {
        last if IO::Socket::INET->new( PeerAddr => "127.0.0.1:$port" ) and $first = $get->();
        select undef, undef, undef, 0.1;
    }
    is( $first, "1\n", 'Starman serves' );
    my ($worker) = grep { ( split ' ', slurp("/proc/$_/stat") =~ s/^.*\)//r )[1] == $master } map { m{/proc/(\d+)} } glob '/proc/[0-9]*';
    ok( $worker, "its worker is $worker" );
    my $attach = fork // die;
    if ( !$attach ) {
        open STDERR, '>', "$dir/attach.err" or die;
        exec memprof_bin(), 'attach', $worker, '--duration', 1, '-o', "$dir/worker.out" or die;
    }
    # The attach and the detach each wait for the worker's next statement:
    # requests until memprof is done.
    my $served = 1;
    while ( waitpid( $attach, WNOHANG ) == 0 ) {
        $get->() =~ /^\d+$/ and $served++;
        select undef, undef, undef, 0.05;
    }
    is( $?, 0, 'memprof attach to the worker succeeded' ) or diag slurp("$dir/attach.err");
    is( $get->(), ( $served + 1 ) . "\n", 'the worker serves on after the detach, its state intact' );
    my $p = memprof_json("$dir/worker.out");
    cmp_ok( line_of( $p, $app, 4 )->{retained_bytes}, '>=', 2000, "the profile holds the app's line" );
    kill TERM => $master;
    waitpid $master, 0;
}

done_testing;

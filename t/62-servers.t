# Per-request figures for servers (issue 18): a Plack app under Starman with
# two workers, driven over HTTP, and a Mojolicious::Lite app driven by
# Test::Mojo.  The leaking route's label must retain about what it appends
# per request, with the appending line named; the clean route about nothing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use HTTP::Tiny;
use Test::More;

my $dir = tempdir( CLEANUP => 1 );
my $REQUESTS = 500;
# A server that stops answering must fail the test, not hang it.
local $SIG{ALRM} = sub { die "timed out: the server stopped answering\n" };
alarm 600;

sub label_named {
    my ( $p, $name ) = @_;
    my ($l) = grep { $_->{label} eq $name } @{ $p->{labels} || [] };
    return $l;
}

# The figures of the two routes' labels, in one profile.
# A process's first requests keep what perl and Plack set up once (caches,
# a sub's buffers): allow that much per process on top of the per-request
# figures, so that a worker that happened to serve few requests passes too.
my $FIRST_TIME = 16 * 1024;

sub routes_ok {
    my ( $p, $what, $leak_name, $clean_name, $leak_line, $file, $processes ) = @_;
    my $leak  = label_named( $p, $leak_name );
    my $clean = label_named( $p, $clean_name );
    ok( $leak && $clean, "$what: both routes are labels" ) or return diag explain $p->{labels};
    my $allowance = $FIRST_TIME * ( $processes || 1 );
    # A string of 1000 bytes lives in a block of at least 1000: about one
    # per request, plus the array's own growth.
    cmp_ok( $leak->{retained_bytes}, '>=', 1000 * $leak->{runs}, "$what: the leaking route keeps >= 1000 bytes a request" );
    cmp_ok( $leak->{retained_bytes}, '<=', 1300 * $leak->{runs} + $allowance, "$what: and not much more" );
    cmp_ok( $clean->{retained_bytes}, '<=', 100 * $clean->{runs} + $allowance, "$what: the clean route keeps about nothing a request" );
    is( "$leak->{lines}[0]{file}:$leak->{lines}[0]{line}", "$file:$leak_line", "$what: the appending line is named first" );
    return ( $leak->{runs}, $clean->{runs} );
}

SKIP: {
    my $starman = '/usr/bin/starman';
    skip 'Starman and Plack are not installed (Debian: starman)', 1
        unless -x $starman && eval { require Plack::Builder; 1 };
    my $app = write_file( "$dir/app.psgi", <<'PSGI' );
use Plack::Builder;
our @log;
my $app = sub {
    my $env = shift;
    if ( $env->{PATH_INFO} eq '/leak' ) {
        push @log, "x" x 1000;
        return [ 200, [ 'Content-Type' => 'text/plain' ], ["kept\n"] ];
    }
    my %seen = map { $_ => 1 } 1 .. 50;
    return [ 200, [ 'Content-Type' => 'text/plain' ], [ scalar(keys %seen) . "\n" ] ];
};
builder { enable 'MemProf'; $app };
PSGI
    my $port = do {
        my $s = IO::Socket::INET->new( Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0 ) or die "socket: $!";
        $s->sockport;
    };
    my $pid = fork // die "fork: $!";
    if ( !$pid ) {
        chdir $dir or die "chdir: $!";
        open STDOUT, '>', "$dir/starman.out" or die;
        open STDERR, '>', "$dir/starman.err" or die;
        $ENV{MEMPROF} = 'addpid=1';
        exec memprof_bin(), 'run', '--no-render', '--', $starman, '--workers', 2, '--listen', "127.0.0.1:$port",
            '-I' . repo_root() . '/lib', $app
            or die "exec: $!";
    }
    # Wait for the port, as long as the server may take to start.
    my $up;
    for ( 1 .. 600 ) {
        last if $up = IO::Socket::INET->new( PeerAddr => "127.0.0.1:$port", Timeout => 1 );
        last if waitpid( $pid, 1 ) == $pid;
        select undef, undef, undef, 0.1;
    }
    ok( $up, 'Starman under memprof run listens' ) or diag slurp("$dir/starman.err");
    close $up if $up;
    my %served;
    for my $i ( 1 .. $REQUESTS ) {
        # A connection each, so that both workers serve.
        my $path = $i % 2 ? '/leak' : '/clean';
        my $r    = HTTP::Tiny->new( keep_alive => 0, timeout => 20 )->get("http://127.0.0.1:$port$path");
        if ( !$r->{success} ) {
            diag "request $i: $r->{status} $r->{reason}: $r->{content}";
            last;
        }
        $served{$path}++;
    }
    is_deeply( \%served, { '/leak' => $REQUESTS / 2, '/clean' => $REQUESTS / 2 }, "$REQUESTS requests served" );
    kill TERM => $pid;
    waitpid $pid, 0;
    my @profiles = grep { -s } glob "$dir/memprof.out.*";
    my @workers;
    for my $f (@profiles) {
        my $p = memprof_json($f);
        push @workers, [ $f, $p ] if @{ $p->{labels} || [] };
    }
    is( scalar @workers, 2, 'each worker wrote a profile with labels' ) or diag "@profiles", slurp("$dir/starman.err");
    # Each worker's own figures, for the routes it served (the kernel may
    # hand one worker every request of one route).
    for my $w (@workers) {
        my ( $f, $p ) = @$w;
        my $name = ( split m{/}, $f )[-1];
        if ( my $leak = label_named( $p, 'GET /leak' ) ) {
            cmp_ok( $leak->{retained_bytes}, '>=', 1000 * $leak->{runs}, "worker $name: the leaking route keeps >= 1000 bytes a request" );
            cmp_ok( $leak->{retained_bytes}, '<=', 1300 * $leak->{runs} + $FIRST_TIME, "worker $name: and not much more" );
            is( "$leak->{lines}[0]{file}:$leak->{lines}[0]{line}", "$app:6", "worker $name: the appending line is named first" );
        }
        if ( my $clean = label_named( $p, 'GET /clean' ) ) {
            cmp_ok( $clean->{retained_bytes}, '<=', 100 * $clean->{runs} + $FIRST_TIME, "worker $name: the clean route keeps about nothing a request" );
        }
    }
    my ( $out, $err, $status ) = run_capture( [ memprof_bin(), 'merge', '-o', "$dir/all.out", map { $_->[0] } @workers ] );
    is( $status, 0, 'memprof merge of the workers' ) or diag $err;
    my $all = memprof_json("$dir/all.out");
    my ( $l, $c ) = routes_ok( $all, 'merged', 'GET /leak', 'GET /clean', 6, $app, 2 );
    cmp_ok( label_named( $all, 'GET /leak' )->{retained_bytes_per_run}, '<=', 1300, 'merged: per leaking request, about its string' );
    is( $l, $REQUESTS / 2, 'the merge counts every leaking request once' );
    is( $c, $REQUESTS / 2, 'and every clean one' );
    ( $out, $err, $status ) = run_capture( [ memprof_bin(), 'report', '--by', 'label', "$dir/all.out" ] );
    like( $out, qr{^  GET /leak: 250 runs, allocated .* per run\), still held at exit .* per run\)$}m, 'report --by label says it per run' );
    like( $out, qr{^\s+\S+ \S+  \Q$app\E:6  push \@log, "x" x 1000;$}m, 'with the appending line' );
}

SKIP: {
    skip 'Mojolicious is not installed (Debian: libmojolicious-perl)', 1 unless eval { require Mojolicious; 1 };
    # The POD's recipe: label each request by its route's name.
    my $script = write_file( "$dir/mojo.pl", <<'PERL' );
use Mojolicious::Lite -signatures;
use Test::Mojo;
our @log;
hook around_action => sub ( $next, $c, $action, $last ) {
    return $next->() unless $last && defined &Devel::MemProf::with_label;
    return Devel::MemProf::with_label( $c->req->method . ' ' . $c->match->endpoint->name, $next );
};
get '/leak' => sub ($c) { push @log, "x" x 1000; $c->render( text => 'kept' ) } => 'leak';
get '/clean' => sub ($c) { my %seen = map { $_ => 1 } 1 .. 50; $c->render( text => scalar keys %seen ) } => 'clean';
my $t = Test::Mojo->new;
# Through Test::Mojo's user agent: get_ok itself keeps about 1.2 KiB per
# assertion until the end (the whole process grows by that much per
# request, profiled or not), which is not the route's doing.
for ( 1 .. 200 ) {
    $t->ua->get('/leak')->result->is_success or die "GET /leak failed";
    $t->ua->get('/clean')->result->is_success or die "GET /clean failed";
}
print "served\n";
PERL
    my ( $out, $err, $status ) = run_capture( [ memprof_bin(), 'run', '--no-render', '-q', '-o', "$dir/mojo.out", $script ], cwd => $dir );
    like( $out, qr/served\n\z/, 'the Mojolicious app ran its 400 requests' ) or diag $err;
    my $p = memprof_json("$dir/mojo.out");
    my ( $l, $c ) = routes_ok( $p, 'Mojolicious', 'GET leak', 'GET clean', 8, $script );
    is( $l, 200, 'each request to the leaking route is one run' );
}

done_testing;

# Signals sent to `memprof run` reach the program (issue 18): a supervisor
# that stops `memprof run -- starman app.psgi` stops starman, and gets a
# profile, instead of leaving it running orphaned.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use Test::More;

my $dir = tempdir( CLEANUP => 1 );
# A program left running must fail the test, not hang it (the pipe stays open).
my @programs;
local $SIG{ALRM} = sub { kill KILL => @programs; die "timed out\n" };
alarm 120;
END { kill KILL => grep { kill 0, $_ } @programs if @programs }

# Start `memprof run` with the program's stdout on a pipe; returns the pid of
# memprof, the pipe, and the pid the program printed once it is ready.
sub start_run {
    my ( $name, $code, %env ) = @_;
    write_file( "$dir/$name.pl", $code );
    local %ENV = ( %ENV, %env );
    delete $ENV{$_} for grep { !defined $ENV{$_} } keys %ENV;
    my $pid = open( my $fh, '-|' ) // die "fork: $!";
    if ( !$pid ) {
        chdir $dir or die "chdir: $!";
        open STDERR, '>', "$dir/$name.err" or die "stderr: $!";
        exec memprof_bin(), 'run', '--no-render', '-o', "$dir/$name.out", "$dir/$name.pl" or die "exec: $!";
    }
    my $ready = <$fh>;
    my ($program) = ( $ready // '' ) =~ /^ready (\d+)$/ or die "$name did not start: " . ( $ready // 'EOF' );
    push @programs, $program;
    return ( $pid, $fh, $program );
}

sub finish_run {
    my ( $fh, $program ) = @_;
    my $rest = do { local $/; <$fh> };
    close $fh;
    my $status = $?;
    return ( $rest, $status, kill( 0, $program ) ? 'still running' : 'gone' );
}

{
    # A handler of its own that exits: END blocks run, the profile is written at the end.
    my ( $pid, $fh, $program ) = start_run( 'handler', <<'PERL' );
$| = 1;
our @kept;    # a global: exit in a sub unwinds the file scope's lexicals
$SIG{TERM} = sub { print "got TERM\n"; exit 3 };
$SIG{USR1} = sub { print "got USR1\n" };
END { print "END ran\n" }
push @kept, "x" x 100_000 for 1 .. 20;    # keep 2 MB
print "ready $$\n";
sleep 1 while 1;
PERL
    kill USR1 => $pid;
    is( scalar <$fh>, "got USR1\n", 'USR1 sent to memprof reaches the program, which runs on' );
    kill TERM => $pid;
    my ( $rest, $status, $left ) = finish_run( $fh, $program );
    is( $rest,        "got TERM\nEND ran\n", 'TERM reaches the program: its handler and END blocks run' );
    is( $status >> 8, 3,                     'memprof exits with the status the program exited with' );
    is( $left,        'gone',                'nothing is left running' );
    my $p  = memprof_json("$dir/handler.out");
    my $at = line_of( $p, "$dir/handler.pl", 6 );
    cmp_ok( $at->{retained_bytes}, '>=', 2_000_000, 'the profile holds the line that kept 2 MB' );
}

{
    # No handler: under memprof run, sigexit writes the profile, then the
    # program dies of the signal as it would have, and so does memprof.
    my ( $pid, $fh, $program ) = start_run( 'plain', <<'PERL' );
$| = 1;
my @kept = map { "y" x 1000 } 1 .. 2000;
print "ready $$\n";
sleep 1 while 1;
PERL
    kill HUP => $pid;
    my ( $rest, $status, $left ) = finish_run( $fh, $program );
    is( $status & 127, 1,      'HUP: memprof dies of the signal the program died of' );
    is( $left,         'gone', 'HUP: nothing is left running' );
    ok( -s "$dir/plain.out", 'HUP: the profile was written (sigexit is on under memprof run)' );
    my $at = line_of( memprof_json("$dir/plain.out"), "$dir/plain.pl", 2 );
    cmp_ok( $at->{alloc_bytes}, '>=', 2_000_000, 'HUP: with the lines that ran' );
}

{
    # The user's own sigexit=0 is kept: the program dies without a profile,
    # and memprof says which signal killed it.
    my ( $pid, $fh, $program ) = start_run( 'nosigexit', "\$| = 1; print qq{ready \$\$\\n}; sleep 1 while 1;\n", MEMPROF => 'sigexit=0' );
    kill TERM => $pid;
    my ( $rest, $status, $left ) = finish_run( $fh, $program );
    is( $status & 127, 15,     'sigexit=0: memprof dies of TERM' );
    is( $left,         'gone', 'sigexit=0: nothing is left running' );
    like( slurp("$dir/nosigexit.err"), qr/^memprof: the program was killed by signal 15 \(Terminated\)/m,
        'sigexit=0: memprof says the program was killed' );
}

done_testing;

# No file can crash or hang a command (issue 11, item 7), black-box: real
# profiles of a few scripts (with and without site tracking) get bytes of
# their payload flipped, zeroed or set to 0xff, a byte replaced by the
# varint of NONE, or eight bytes by an infinite float, with the length and
# the CRC-32 in the header fixed up so that the decoder sees the damage.
# Every memprof command runs on each damaged file: it must exit with status
# 0, 1 or 2, never by a signal, within 20 seconds (an alarm set before exec
# kills it otherwise), and on status 2 say why in one line.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Compress::Zlib qw(crc32);
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use POSIX qw(_exit);
use Test::More;

my $bin     = memprof_bin();
my $dir     = tempdir( CLEANUP => 1 );
my $FILES   = $ENV{MEMPROF_DAMAGED_FILES} || 1200;
my $WORKERS = 4;
my $LIMIT   = 20;

# The real profiles the damage starts from.
my @scripts = ( "$FindBin::Bin/golden/demo.pl", "$FindBin::Bin/corpus/02-string-eval-subs.pl",
    "$FindBin::Bin/corpus/03-closures.pl" );
my @bases;
for my $script (@scripts) {
    for my $sites ( 1, 0 ) {
        my $out = "$dir/base" . scalar(@bases) . ".out";
        my ( undef, $err, $status ) = run_capture( [ $bin, 'run', '-q', '--no-render', '-o', $out, $script ],
            env => { MEMPROF => "sites=$sites" }, cwd => $dir );
        is( $status, 0, "profiled $script with sites=$sites" ) or diag $err;
        push @bases, $out;
    }
}
my $version;
my @payloads = map {
    my $bytes = slurp($_);
    $version = unpack 'V', substr( $bytes, 8, 4 );
    is( substr( $bytes, 0, 8 ), "MEMPROF\0", "$_ is a profile" );
    substr( $bytes, 28 );
} @bases;

# Damage: one edit of the payload, or now and then two (each edit makes
# decoding less likely, and the renderers must see many), then a header
# that fits it.
srand 11;
my @edits = (
    sub { my ( $p, $at ) = @_; substr( $$p, $at, 1 ) = chr( ord( substr( $$p, $at, 1 ) ) ^ ( 1 << int rand 8 ) ) },
    sub { my ( $p, $at ) = @_; substr( $$p, $at, 1 ) = "\0" },
    sub { my ( $p, $at ) = @_; substr( $$p, $at, 1 ) = "\xff" },
    sub { my ( $p, $at ) = @_; substr( $$p, $at, 1 ) = "\xff\xff\xff\xff\x0f" },    # NONE as a varint
    sub { my ( $p, $at ) = @_; substr( $$p, $at, 8 ) = pack( 'd<', 9**9**9 ) if $at + 8 <= length $$p },
);
my @damaged;
for my $i ( 1 .. $FILES ) {
    my $base    = $i % @payloads;
    my $payload = $payloads[$base];
    $edits[ rand @edits ]->( \$payload, int rand length $payload ) for 1 .. ( rand() < 0.2 ? 2 : 1 );
    # The version the bases were written in, so the payload is read as such.
    my $header = "MEMPROF\0" . pack( 'V V Q< V', $version, 0, length $payload, crc32($payload) );
    push @damaged, [ write_file( "$dir/d$i.out", $header . $payload ), $bases[$base] ];
}
cmp_ok( scalar @damaged, '>=', 1000, 'at least 1000 damaged files' );

# Every command on every file.
my @metrics = qw(net alloc retained peak);
my @by      = qw(line sub stack);
my @commands = (
    [ 'report',            sub { ( 'report', $_[0] ) } ],
    [ 'report --markdown', sub { ( 'report', '--format', 'markdown', $_[0] ) } ],
    [ 'flamegraph',        sub { ( 'flamegraph', '--metric', $metrics[ $_[2] % 4 ], ( $_[2] % 3 ? () : '--lines' ), $_[0] ) } ],
    [ 'folded',            sub { ( 'folded', '--metric', $metrics[ $_[2] % 4 ], $_[0] ) } ],
    [ 'csv',               sub { ( 'csv', '--by', $by[ $_[2] % 3 ], $_[0] ) } ],
    [ 'json',              sub { ( 'json', ( $_[2] % 2 ? '--pretty' : () ), $_[0] ) } ],
    [ 'diff',              sub { ( 'diff', ( $_[2] % 2 ? ( $_[0], $_[1] ) : ( $_[1], $_[0] ) ), '-o', "$dir/j$_[2].svg" ) } ],
    [ 'html',              sub { ( 'html', '-o', "$dir/j$_[2].html", $_[0] ) } ],
    [ 'timeline',          sub { ( 'timeline', '-o', "$dir/j$_[2].svg", $_[0] ) } ],
    [ 'merge',             sub { ( 'merge', $_[1], $_[0], '-o', "$dir/j$_[2].merged" ) } ],
);

my @jobs;
for my $d (@damaged) {
    my ( $file, $good ) = @$d;
    for my $c (@commands) {
        my $n = scalar @jobs;
        push @jobs, { name => $c->[0], file => $file, args => [ $c->[1]->( $file, $good, $n ) ], n => $n };
    }
}

# A few at a time: each in a child with stdout to /dev/null, stderr to a
# file, and an alarm that survives exec.
my ( %running, %result );
my $started = time;
my $next    = 0;
while ( $next < @jobs || %running ) {
    while ( $next < @jobs && keys %running < $WORKERS ) {
        my $job = $jobs[ $next++ ];
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ( !$pid ) {
            open STDIN,  '<', '/dev/null';
            open STDOUT, '>', '/dev/null';
            open STDERR, '>', "$dir/err$job->{n}";
            alarm $LIMIT;
            exec $bin, @{ $job->{args} } or _exit(127);
        }
        $running{$pid} = $job;
    }
    my $pid = waitpid -1, 0;
    last if $pid <= 0;
    my $job = delete $running{$pid} or next;
    my $err = -e "$dir/err$job->{n}" ? slurp("$dir/err$job->{n}") : '';
    unlink "$dir/err$job->{n}";
    remove_tree("$dir/j$job->{n}.html");
    unlink "$dir/j$job->{n}.svg", "$dir/j$job->{n}.merged";
    $result{ $job->{n} } = { status => $?, err => $err };
}
my $seconds = time - $started;
note sprintf "%d runs of memprof on %d damaged files in %d s", scalar @jobs, scalar @damaged, $seconds;

for my $c (@commands) {
    my $name = $c->[0];
    my ( @bad, %exits );
    for my $job ( grep { $_->{name} eq $name } @jobs ) {
        my $r      = $result{ $job->{n} };
        my $status = $r->{status};
        my $what   = "memprof @{ $job->{args} }";
        if ( $status & 127 ) {
            my $sig = $status & 127;
            push @bad, "$what: killed by signal $sig" . ( $sig == 14 ? " (ran over ${LIMIT} s)" : '' );
            next;
        }
        my $exit = $status >> 8;
        $exits{$exit}++;
        if ( $exit > 2 ) {
            push @bad, "$what: exit status $exit: $r->{err}";
        }
        elsif ( $exit == 2 && $r->{err} !~ /\Amemprof: [^\n]+\n\z/ ) {
            push @bad, "$what: exit status 2 without a one-line message: $r->{err}";
        }
    }
    my $runs = grep { $_->{name} eq $name } @jobs;
    ok( !@bad, "$name on $runs damaged files: exit 0, 1 or 2, no signal, under ${LIMIT} s, one line on exit 2" )
        or diag join "\n", @bad[ 0 .. ( $#bad < 9 ? $#bad : 9 ) ];
    note "$name: " . join ', ', map {"exit $_: $exits{$_}"} sort keys %exits;
    # The damage must reach the renderers, not stop at the decoder.
    cmp_ok( $exits{0} // 0, '>=', $runs / 20, "$name: some damaged files decode and are rendered" );
}

done_testing;

# Surviving what real programs do (issue 6): fork, exec, _exit, exit in
# BEGIN, die in END, signals, run-time control, hostile destinations.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use Test::More;

my $MB = 1_000_000;

# Run a script under `perl -d:MemProf` in a fresh directory.
sub run_in_dir {
    my ( $code, %opt ) = @_;
    my $dir    = tempdir( CLEANUP => 1 );
    my $script = write_file( "$dir/t.pl", $code );
    my ( $out, $err, $status ) = run_capture(
        [ perl_bin(), '-I' . perl_lib_dir(), '-d:MemProf', $script ],
        cwd => $dir,
        env => { MEMPROF => $opt{memprof} },
    );
    return ( $dir, $out, $err, $status );
}

subtest 'fork: each process profiles into its own file, from the fork on' => sub {
    my ( $dir, $out, $err, $status ) = run_in_dir(<<'PERL');
sub child_one   { our @a = map { "a" x 1000 } 1 .. 1000; }
sub child_two   { our @b = map { "b" x 1000 } 1 .. 2000; }
sub child_three { our @c = map { "c" x 1000 } 1 .. 3000; }
sub child_four  { our @d = map { "d" x 1000 } 1 .. 4000; }
my @subs = ( \&child_one, \&child_two, \&child_three, \&child_four );
my @pids;
for my $i ( 0 .. 3 ) {
    my $pid = fork // die "fork: $!";
    if ( !$pid ) { $subs[$i]->(); exit 0 }
    push @pids, $pid;
}
waitpid $_, 0 for @pids;
print qx{echo from a shell};
system 'true';
our $parent = join '', map { "p" x 100 } 1 .. 1000;
PERL
    is( $status, 0, 'the program ran' ) or diag $err;
    my @files = sort glob "$dir/memprof.out*";
    is( scalar @files, 5, 'five profiles: the parent and four children (none for system or qx)' );
    my %by_sub;
    my @profiles;
    for my $f (@files) {
        my $p = memprof_json($f);
        push @profiles, $p;
        conservation_ok( $p, $f );
        for my $name (qw(child_one child_two child_three child_four)) {
            my $s = sub_named( $p, "main::$name" ) or next;
            push @{ $by_sub{$name} }, [ $f, $s->{inclusive}{net_bytes} ];
        }
    }
    my %expect = ( child_one => 1, child_two => 2, child_three => 3, child_four => 4 );
    for my $name ( sort keys %expect ) {
        my @where = @{ $by_sub{$name} || [] };
        is( scalar @where, 1, "main::$name is in exactly one profile" );
        like( $where[0][0], qr/memprof\.out\.\d+$/, '... a child\'s' );
        cmp_ok( $where[0][1], '>=', $expect{$name} * $MB, "... with its $expect{$name} MB" );
        cmp_ok( $where[0][1], '<', ( $expect{$name} + 1 ) * $MB, '... and not what the parent had made before the fork' );
    }
    my ($parent) = grep { $_->{pid} == $profiles[0]{pid} } @profiles;    # memprof.out sorts first
    ok( line_of( $parent, 't.pl', 15 ), "the parent's own line is in the parent's profile" );
    my ( undef, $merr, $mstatus ) = run_capture( [ memprof_bin(), 'merge', @files, '-o', "$dir/all.out" ] );
    is( $mstatus, 0, 'the five merge' ) or diag $merr;
    my $all = memprof_json("$dir/all.out");
    for my $m (qw(alloc_bytes alloc_count free_bytes free_count net_bytes sv_delta retained_bytes)) {
        my $sum = 0;
        $sum += $_->{totals}{$m} for @profiles;
        is( $all->{totals}{$m}, $sum, "merged $m is the sum" );
    }
    conservation_ok( $all, 'merged' );
};

# Each of these ends the process some way; the profile must be there,
# complete, with the allocation made just before.
my %endings = (
    'exec'           => [ qq{our \$x = join "", map { "e" x 1000 } 1 .. 2000;\nexec "true";\n}, 0 ],
    'POSIX::_exit'   => [ qq{use POSIX ();\nour \$x = join "", map { "e" x 1000 } 1 .. 2000;\nPOSIX::_exit(5);\n}, 5 ],
    'exit in BEGIN'  => [ qq{BEGIN { our \$x = join "", map { "e" x 1000 } 1 .. 2000; exit 4 }\nprint "not reached\\n";\n}, 4 ],
    'die in END'     => [ qq{END { our \$x = join "", map { "e" x 1000 } 1 .. 2000; die "boom\\n" }\nprint "ran\\n";\n}, undef ],
    'SIGTERM with sigexit' =>
        [ qq{our \$x = join "", map { "e" x 1000 } 1 .. 2000;\nkill TERM => \$\$;\nsleep 5;\nprint "not reached\\n";\n}, 'TERM' ],
);
for my $name ( sort keys %endings ) {
    my ( $code, $expect ) = @{ $endings{$name} };
    subtest $name => sub {
        my ( $dir, $out, $err, $status ) = run_in_dir( $code, memprof => $name =~ /sigexit/ ? 'sigexit=1' : undef );
        if ( defined $expect && $expect eq 'TERM' ) {
            is( $status & 127, 15, 'the process ended by SIGTERM, as it would have' );
        }
        elsif ( defined $expect ) {
            is( $status >> 8, $expect, "exit status $expect" );
        }
        unlike( $out, qr/not reached/, 'it ended where it should' );
        ok( -e "$dir/memprof.out", 'the profile exists' ) or return;
        my $p = memprof_json("$dir/memprof.out");
        my ($line) = sort { $b->{net_bytes} <=> $a->{net_bytes} } grep { $_->{file} =~ /t\.pl$/ && $_->{line} } @{ $p->{lines} };
        cmp_ok( $line->{net_bytes}, '>=', 2 * $MB, 'it holds the allocation made just before the end' );
        conservation_ok( $p, $name );
    };
}

subtest 'a program\'s own signal handler behaves as without the profiler' => sub {
    my $code = qq{\$SIG{TERM} = sub { print "caught\\n"; exit 3 };\nkill TERM => \$\$;\nsleep 5;\n};
    my ( $dir, $out, $err, $status ) = run_in_dir($code);
    my ( $pout, $perr, $pstatus ) = run_capture( [ perl_bin(), write_file( "$dir/plain.pl", $code ) ] );
    is( $out,    $pout,    'same output' );
    is( $status, $pstatus, 'same status' );
};

subtest 'disable_profile: what moves while disabled goes to (disabled)' => sub {
    my ( $dir, $out, $err, $status ) = run_in_dir(<<'PERL');
my $n = 10_000_000;
DB::disable_profile();
our $big = "x" x $n;
DB::enable_profile();
our $small = "y" x ( $n / 10 );
PERL
    is( $status, 0, 'ran' ) or diag $err;
    my $p = memprof_json("$dir/memprof.out");
    cmp_ok( line_of( $p, 't.pl', 5 )->{net_bytes}, '>=', 1 * $MB, 'the enabled line has its 1 MB' );
    my $line3 = line_of( $p, 't.pl', 3 );
    ok( !$line3 || $line3->{alloc_bytes} == 0, 'the disabled line has nothing' );
    cmp_ok( line_of( $p, '(disabled)', 0 )->{net_bytes}, '>=', 10 * $MB, '(disabled) has the 10 MB' );
    conservation_ok( $p, 'disabled' );
};

subtest 'start=no and finish_profile: profile one part of a run' => sub {
    my ( $dir, $out, $err, $status ) = run_in_dir( <<'PERL', memprof => 'start=no' );
our $before = join "", map { "b" x 1000 } 1 .. 3000;
DB::enable_profile();
our $during = join "", map { "d" x 1000 } 1 .. 2000;
DB::finish_profile();
our $after = join "", map { "a" x 1000 } 1 .. 4000;
PERL
    my $p = memprof_json("$dir/memprof.out");
    cmp_ok( line_of( $p, 't.pl', 3 )->{alloc_bytes}, '>=', 2 * $MB, 'the profiled part is there' );
    ok( !line_of( $p, 't.pl', 1 ), 'what came before is not' );
    ok( !line_of( $p, 't.pl', 5 ), 'nor what came after' );
};

subtest 'options: one warning for an unknown name or a bad value' => sub {
    my ( $dir, $out, $err, $status ) = run_in_dir( "print qq{ok\\n};\n", memprof => 'colour=red:addpid=maybe' );
    is( $out,    "ok\n", 'the program ran' );
    is( $status, 0,      'and exited 0' );
    my @lines = split /\n/, $err;
    is( scalar @lines, 2, 'two warnings' );
    like( $lines[0], qr/^Devel::MemProf: unknown option 'colour' in MEMPROF \(known options: file, addpid, /, 'the unknown name' );
    is( $lines[1], "Devel::MemProf: bad value 'maybe' for option 'addpid' in MEMPROF (expected 0 or 1); using the default",
        'the bad value' );
};

subtest 'an unwritable destination: one warning, the exit status unchanged' => sub {
    my ( $dir, $out, $err, $status ) = run_in_dir( "print qq{ok\\n}; exit 3;\n", memprof => 'file=/etc/passwd/x.out' );
    is( $status >> 8, 3, 'the exit status is the program\'s' );
    like( $err, qr/\ADevel::MemProf: cannot write the profile: cannot create a temporary file in \/etc\/passwd: [^\n]+\n\z/,
        'one clear warning' );
};

subtest 'a symlink planted at the destination is replaced, not followed' => sub {
    my $dir    = tempdir( CLEANUP => 1 );
    my $victim = write_file( "$dir/victim", "precious\n" );
    symlink $victim, "$dir/memprof.out" or die "symlink: $!";
    my $script = write_file( "$dir/t.pl", "our \$x = 'a' x 1000;\n" );
    run_capture( [ perl_bin(), '-I' . perl_lib_dir(), '-d:MemProf', $script ], cwd => $dir );
    is( slurp($victim), "precious\n", 'the victim is untouched' );
    ok( !-l "$dir/memprof.out" && -f _, 'the profile is a regular file' );
    ok( memprof_json("$dir/memprof.out"), '... and a profile' );
};

subtest 'ithreads: same output as without the profiler, 10 times' => sub {
    plan skip_all => 'perl without ithreads'
        unless system( perl_bin(), '-MConfig', '-e', 'exit !$Config{useithreads}' ) == 0;
    my $code = <<'PERL';
use threads;
my @t = map { my $n = $_; threads->create(sub { my %h = map { $_ => "v$_" } 1 .. 50_000 * $n; scalar keys %h }) } 1 .. 4;
print join( ",", map { $_->join } @t ), "\n";
our $after = join '', map { 'a' x 1000 } 1 .. 1000;
PERL
    my $dir   = tempdir( CLEANUP => 1 );
    my $plain = join '|', run_capture( [ perl_bin(), write_file( "$dir/p.pl", $code ) ] );
    my ( $same, $last ) = ( 0, undef );
    for ( 1 .. 10 ) {
        my ( $d, $out, $err, $status ) = run_in_dir($code);
        $same++ if join( '|', $out, $err, $status ) eq $plain && -e "$d/memprof.out";
        $last = $d;
    }
    is( $same, 10, 'ten runs, each with the same output, status and a profile' );
    # A joined thread's interpreter is destroyed on the joining thread: that
    # must not end the main thread's profile.
    my $p = memprof_json("$last/memprof.out");
    cmp_ok( line_of( $p, 't.pl', 4 )->{alloc_bytes}, '>=', 1_000_000, 'what the main thread did after the joins is profiled' );
    conservation_ok( $p, 'threads' );
};

done_testing;

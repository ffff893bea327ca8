# Dumps on demand (issue 18): MEMPROF=dump_signal=USR2 writes the profile
# so far to FILE.N at each signal and the run goes on; Devel::MemProf::dump()
# does it from code; `memprof diff` of two dumps names what grew between.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use Test::More;

my $dir = tempdir( CLEANUP => 1 );
local $SIG{ALRM} = sub { die "timed out waiting for a dump\n" };
alarm 300;

sub retained_at {
    my ( $file, $script, $line ) = @_;
    my $l = line_of( memprof_json($file), $script, $line );
    return $l ? $l->{retained_bytes} : 0;
}

{
    my $script = write_file( "$dir/grow.pl", <<'PERL' );
$| = 1;
our @cache;
print "ready\n";
until ( -e 'stop' ) {
    push @cache, "x" x 10_000;
    select undef, undef, undef, 0.002;
}
print "stopped with ", scalar(@cache), " entries\n";
PERL
    my $pid = open( my $fh, '-|' ) // die "fork: $!";
    if ( !$pid ) {
        chdir $dir or die;
        $ENV{MEMPROF} = 'dump_signal=USR2';
        open STDERR, '>', "$dir/grow.err" or die;
        exec perl_bin(), '-I' . perl_lib_dir(), '-d:MemProf', $script or die "exec: $!";
    }
    is( scalar <$fh>, "ready\n", 'the loop runs' );
    my @held;
    for my $n ( 1 .. 3 ) {
        kill USR2 => $pid;
        my $file = "$dir/memprof.out.$n";
        select undef, undef, undef, 0.05 until -e $file;
        # Let the loop grow before the next one.
        select undef, undef, undef, 0.3;
        push @held, retained_at( $file, $script, 5 );
        is( memprof_json($file)->{dump}, $n, "dump $n says which it is" );
    }
    open my $stop, '>', "$dir/stop" or die;
    close $stop;
    like( scalar <$fh>, qr/^stopped with \d+ entries$/, 'the run went on after the dumps, to its end' );
    close $fh;
    is( $?, 0, 'and exited normally' );
    ok( $held[0] >= 10_000 && $held[0] < $held[1] && $held[1] < $held[2], "each dump holds more at the growing line (@held)" );
    ok( -s "$dir/memprof.out", 'the profile at the end is written as usual' );
    cmp_ok( retained_at( "$dir/memprof.out", $script, 5 ), '>', $held[2], 'holding more than the last dump' );
    my ( $out, $err, $status ) = run_capture( [ memprof_bin(), 'diff', "$dir/memprof.out.1", "$dir/memprof.out.3" ] );
    is( $status, 0, 'memprof diff of two dumps' ) or diag $err;
    my ($first) = $out =~ /^Lines by memory held at exit, largest growth first:\n(.*)$/m;
    like( $first, qr/^\s+\Q$script\E:5\s+\+\d/, 'names the growing line first' ) or diag $out;
    ( $out, $err, $status ) = run_capture( [ memprof_bin(), 'report', "$dir/memprof.out.2" ] );
    like( $out, qr/^Still held when dump 2 was written, by the line that allocated it:$/m, 'the report of a dump says when' );
}

{
    # From code, with addpid: the dump's name has the pid, then its number.
    my ( undef, $out, $err ) = profile_code( <<'PERL', env => { MEMPROF => 'addpid=1' }, no_json => 1 );
our @a = map { "y" x 1000 } 1 .. 100;
my $first = Devel::MemProf::dump();
push @a, map { "z" x 1000 } 1 .. 100;
my $second = Devel::MemProf::dump();
print "$first\n$second\n";
PERL
    my ( $first, $second ) = split /\n/, $out;
    like( $first,  qr{/memprof\.out\.\d+\.1\z}, 'dump() returns the file it wrote' ) or diag $err;
    like( $second, qr{/memprof\.out\.\d+\.2\z}, 'numbered on' );
    ok( -s $first && -s $second, 'both exist' );
}

{
    # Not profiling (the module loaded with `use`): dump() returns undef.
    my ( $out, $err, $status ) = run_capture( [ perl_bin(), '-I' . perl_lib_dir(), '-MDevel::MemProf', '-e',
        'print defined(Devel::MemProf::dump()) ? "dumped\n" : "undef\n"; Devel::MemProf::label("x"); print defined(Devel::MemProf::current_label()) ? "label\n" : "no label\n"' ] );
    is( $out, "undef\nlabel\n", 'without -d, dump() writes nothing; labels are kept for a later enable_profile' ) or diag $err;
}

done_testing;

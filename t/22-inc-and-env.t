# `memprof run` adds its library directory to @INC and may set MEMPROF, only
# so that perl finds and configures Devel::MemProf: the program must see
# the @INC, %INC-independent error messages and %ENV it has without the
# profiler (issue 21).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use Test::More;

my $dir = tempdir( CLEANUP => 1 );
# The directory memprof run puts at the front of @INC.
my $run_lib = perl_lib_dir();

# What a program can see of its surroundings, printed.
my $show = write_file( "$dir/show.pl", <<'PERL' );
print "INC: $_\n" for grep { !ref } @INC;
print "ENV: $_=$ENV{$_}\n" for sort grep {/MEMPROF/} keys %ENV;
print "LIB: ", ( grep { -e "$_/Devel/MemProf.pm" } grep { !ref } @INC ) ? "found" : "none", "\n";
PERL

# A program that dies on a module nobody installed: perl lists @INC.
my $missing = write_file( "$dir/missing.pl", "use Not::Installed::AtAll;\nprint qq{unreachable\\n};\n" );

sub plain    { run_capture( [ perl_bin(), @_ ], cwd => $dir ) }
sub profiled { my $env = shift; run_capture( [ memprof_bin(), 'run', '-q', '--no-render', @_ ], cwd => $dir, env => $env ) }

for my $case (
    [ 'no MEMPROF',          {} ],
    [ 'MEMPROF set by user', { MEMPROF => 'sites=0' } ],
    )
{
    my ( $name, $env ) = @$case;
    local %ENV = ( %ENV, %$env );
    delete $ENV{MEMPROF} unless exists $env->{MEMPROF};
    my ( $out, $err, $status ) = plain($show);
    for my $opts ( [], [ '-o', "$dir/p.out" ] ) {
        my $label = "$name, memprof run @$opts";
        my ( $pout, $perr, $pstatus ) = profiled( {}, @$opts, $show );
        is( $pout,    $out,    "$label: the program sees the same \@INC and MEMPROF* environment" );
        is( $perr,    $err,    "$label: same stderr" );
        is( $pstatus, $status, "$label: same status" );
    }
    unlike( $out, qr/^INC: \Q$run_lib\E$/m, "$name: the plain run does not have memprof run's directory (so the comparison means something)" );
    my ( $mout, $merr, $mstatus ) = profiled( {}, '-o', "$dir/m.out", $missing );
    my ( $cout, $cerr, $cstatus ) = plain($missing);
    is( $merr,    $cerr,    "$name: a missing module's message lists the same \@INC" );
    is( $mstatus, $cstatus, "$name: and the program dies with the same status ($cstatus)" );
    like( $cerr, qr/^Can't locate Not\/Installed\/AtAll\.pm in \@INC/, "$name: it is perl's own message" );
    ok( -s "$dir/m.out", "$name: the profile of the dying program was still written" );
}

# The profile still works: the program was profiled, not only loaded.
{
    my ( $p, $out ) = profile_script($show);
    unlike( $out, qr/^INC: \Q$run_lib\E$/m, "under memprof run its directory is gone from \@INC" );
    ok( $p && $p->{totals}{alloc_count} > 0, 'and the run was profiled' );
}

# perl -d:MemProf with the module found through the user's own -I: that
# directory stays, nothing is taken out.
{
    my $lib = perl_lib_dir();
    my ( $out ) = run_capture( [ perl_bin(), "-I$lib", $show ], cwd => $dir );
    my ( $pout ) = run_capture( [ perl_bin(), "-I$lib", '-d:MemProf', $show ],
        cwd => $dir, env => { MEMPROF => "file=$dir/d.out" } );
    $out =~ s/^ENV: MEMPROF=.*\n//m;
    $pout =~ s/^ENV: MEMPROF=.*\n//m;
    is( $pout, $out, 'perl -I DIR -d:MemProf keeps DIR in @INC, as the user asked' );
    like( $pout, qr/^LIB: found$/m, 'and the module is found there' );
}

done_testing;

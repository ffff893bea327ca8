# Installing it the way Perl programmers do (issue 8): make dist, then from
# the tarball perl Makefile.PL && make && make test && make install
# DESTDIR=..., and profile a script with only the installed files.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Cwd qw(abs_path);
use ExtUtils::Manifest qw(maniread manicopy);
use File::Temp qw(tempdir);
use Test::More;

plan skip_all => 'running inside the install test' if $ENV{MEMPROF_INSTALL_TEST_INNER};
plan skip_all => 'make is not installed' unless grep { -x "$_/make" } split /:/, $ENV{PATH};

my $root   = repo_root();
my $work   = tempdir( CLEANUP => 1 );
my $target = "$root/target";    # share cargo's build with the checkout: only this crate rebuilds
my %env    = ( CARGO_TARGET_DIR => $target, MEMPROF_INSTALL_TEST_INNER => 1, MEMPROF_BIN => "$target/release/memprof" );

sub step {
    my ( $dir, @cmd ) = @_;
    my ( $out, $err, $status ) = run_capture( \@cmd, cwd => $dir, env => \%env );
    ok( $status == 0, "@cmd" ) or diag "$out\n$err";
    return $status == 0;
}

# The checkout as MANIFEST lists it: a file left out of MANIFEST would be
# missing from the tarball and the build would fail.
my $copy = "$work/checkout";
{
    my $here = abs_path('.');
    chdir $root or die "chdir $root: $!";
    my $files = maniread();
    manicopy( $files, $copy );
    chdir $here;
}
step( $copy, perl_bin(), 'Makefile.PL' ) or BAIL_OUT('Makefile.PL failed');
step( $copy, 'make', 'dist' )             or BAIL_OUT('make dist failed');
my ($tarball) = glob "$copy/Devel-MemProf-*.tar.gz";
ok( $tarball, 'make dist made a tarball' ) or BAIL_OUT('no tarball');
step( $work, 'tar', 'xzf', $tarball );
my ($dist) = grep { -d } glob "$work/Devel-MemProf-*";

step( $dist, perl_bin(), 'Makefile.PL' );
step( $dist, 'make' ) or BAIL_OUT('make failed');
ok( -x "$dist/blib/script/memprof", 'make laid out blib/script/memprof' );
ok( -f "$dist/blib/arch/auto/Devel/MemProf/MemProf.so", '... and blib/arch/auto/Devel/MemProf/MemProf.so' );

# Right after make: perl finds -d's module before -M's (toke.c loads PERL5DB
# first), so blib is given with -I, not -Mblib.
my $script = write_file( "$work/t.pl", "sub grow { our \$x = join '', map { 'g' x 1000 } 1 .. 1000 }\ngrow();\nprint qq{done\\n};\n" );
{
    my ( $out, $err, $status ) = run_capture(
        [ perl_bin(), "-I$dist/blib/lib", "-I$dist/blib/arch", '-d:MemProf', $script ],
        cwd => $work,
        env => { MEMPROF => "file=$work/blib.out" }
    );
    is( $out, "done\n", 'perl -Iblib/lib -Iblib/arch -d:MemProf works after make' ) or diag $err;
    ok( -s "$work/blib.out", '... and writes a profile' );
}

step( $dist, 'make', 'test' );
my $dest = "$work/dest";
step( $dist, 'make', 'install', "DESTDIR=$dest" ) or BAIL_OUT('make install failed');

my ($pm)  = split /\n/, `find $dest -path '*/Devel/MemProf.pm'`;
my ($so)  = split /\n/, `find $dest -path '*/auto/Devel/MemProf/MemProf.so'`;
my ($bin) = split /\n/, `find $dest -path '*/bin/memprof'`;
ok( $pm && $so && $bin, 'installed the module, its library and memprof' ) or diag `find $dest`;
( my $lib  = $pm ) =~ s{/Devel/MemProf\.pm\z}{};
( my $arch = $so ) =~ s{/auto/Devel/MemProf/MemProf\.so\z}{};

my $run = "$work/run";
mkdir $run;
{
    my ( $out, $err, $status )
        = run_capture( [ perl_bin(), '-d:MemProf', $script ], cwd => $run, env => { PERL5LIB => "$lib:$arch" } );
    is( $out, "done\n", 'perl -d:MemProf with only the installed files' ) or diag $err;
    ok( -s "$run/memprof.out", '... writes memprof.out' );
    my ( $report, $rerr, $rstatus ) = run_capture( [ $bin, 'report', "$run/memprof.out" ] );
    is( $rstatus, 0, 'the installed memprof reads it' ) or diag $rerr;
    like( $report, qr/memory went up [\d.]+ [KM]iB in sub main::grow/, '... and reports on it' );
    my ( $rout, $rerr2, $rstat2 )
        = run_capture( [ $bin, 'run', '-q', '--no-render', '-o', "$run/run.out", $script ], cwd => $run, env => { PERL5LIB => "$lib:$arch" } );
    ok( $rstat2 == 0 && -s "$run/run.out", 'the installed memprof run finds the installed library' ) or diag $rerr2;
    my ( $tout, $terr ) = run_capture(
        [ perl_bin(), '-e', 'use Test::More; use Test::MemProf; no_leaks_ok { my @a = (1) x 10 } "t"; done_testing' ],
        cwd => $run,
        env => { PERL5LIB => "$lib:$arch" }
    );
    like( $tout, qr/^ok 1 - t$/m, 'the installed Test::MemProf works under plain perl' ) or diag $terr;
}

# INSTALL_BASE, as local::lib sets it.
my $base = "$work/base";
step( $dist, perl_bin(), 'Makefile.PL', "INSTALL_BASE=$base" );
step( $dist, 'make', 'install' );
# With a library in blib/arch, ExtUtils::Install puts the module in the arch
# directory too.
ok( scalar( () = glob "$base/lib/perl5{,/*}/Devel/MemProf.pm" ), 'INSTALL_BASE: the module under lib/perl5' );
ok( scalar( () = glob "$base/lib/perl5/*/auto/Devel/MemProf/MemProf.so" ), '... the library under lib/perl5/ARCH' );
ok( -x "$base/bin/memprof", '... and memprof under bin' );

done_testing;

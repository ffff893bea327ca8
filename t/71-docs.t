# Documentation (issue 8): the POD is well formed, and `memprof --help` and
# each subcommand's help list every option.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Pod::Checker;
use Test::More;

my $root = repo_root();
for my $pod ( "$root/lib/Devel/MemProf.pm", "$root/lib/Test/MemProf.pm", "$root/lib/memprof.pod" ) {
    my $checker = Pod::Checker->new( -warnings => 2 );
    open my $null, '>', '/dev/null' or die $!;
    $checker->parse_from_file( $pod, $null );
    is( $checker->num_errors,   0, "$pod: no POD errors" );
    is( $checker->num_warnings, 0, "$pod: no POD warnings" );
}

my %options = (
    run        => [qw(--quiet --output --no-render --flamegraphs)],
    report     => [qw(--top --format)],
    flamegraph => [qw(--metric --lines --title --output)],
    folded     => [qw(--metric --no-lines)],
    csv        => [qw(--by)],
    json       => [qw(--pretty --no-stacks)],
    diff       => [qw(--format --output --threshold --fail-over --top)],
    merge      => [qw(--output)],
    timeline   => [qw(--output --title)],
    html       => [qw(--output)],
    export     => [qw(--format --metric --output)],
);
my ($top) = run_capture( [ memprof_bin(), '--help' ] );
my $pod = slurp("$root/lib/memprof.pod");
for my $cmd ( sort keys %options ) {
    like( $top, qr/^\s+$cmd\s+\S/m, "memprof --help lists $cmd" );
    my ( $help, $err, $status ) = run_capture( [ memprof_bin(), $cmd, '--help' ] );
    is( $status, 0, "memprof $cmd --help" );
    for my $opt ( @{ $options{$cmd} } ) {
        like( $help, qr/\Q$opt\E\b/, "memprof $cmd --help lists $opt" );
        like( $pod, qr/\Q$opt\E\b/, "memprof.pod documents $cmd $opt" );
    }
}

# MANIFEST lists what make dist ships: every file of the repository but
# those MANIFEST.SKIP leaves out, and nothing else.
SKIP: {
    skip 'not a git checkout', 1 unless -d "$root/.git" && system("git -C $root status >/dev/null 2>&1") == 0;
    require ExtUtils::Manifest;
    my @skip = grep { length && !/^#/ } split /\n/, slurp("$root/MANIFEST.SKIP");
    my @tracked = grep {
        my $f = $_;
        !grep { $f =~ /$_/ } @skip
    } split /\n/, `git -C $root ls-files`;
    my @listed = map { (split /\s+/)[0] } split /\n/, slurp("$root/MANIFEST");
    is_deeply( [ sort @listed ], [ sort @tracked ], 'MANIFEST matches the repository' );
}

my $module = slurp("$root/lib/Devel/MemProf.pm");
for my $option (qw(file addpid start sites sigexit trace trace_file native)) {
    like( $module, qr/^=item \Q$option\E=/m, "perldoc Devel::MemProf documents $option" );
}
# Every Rust entry point that memprof.h declares is in the compile-time
# check that its Rust definition has the prototype's type.
{
    my %declared = map { $_ => 1 } slurp("$root/perl-glue/memprof.h") =~ /\b(memprof_rs_\w+)\(/g;
    my ($list) = slurp("$root/recorder/src/lib.rs") =~ /same_type_as_c! \{(.*?)\}/s;
    my %checked = map { $_ => 1 } ( $list // '' ) =~ /=> (memprof_rs_\w+),/g;
    ok( scalar( keys %declared ) >= 19, 'memprof.h declares the Rust entry points' );
    is_deeply( [ sort keys %checked ], [ sort keys %declared ], 'each is checked against its Rust definition' );
}

# The contract is in the repository: nothing cites a document outside it.
{
    my @cites = grep { !m{^t/71-docs\.t:} } split /\n/, `git -C $root grep -n -e 'DESIGN' -- . 2>/dev/null`;
    is_deeply( \@cites, [], 'no file cites DESIGN' );
}
done_testing;

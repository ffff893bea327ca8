package MemProfTest;

# Helpers for the Perl-side tests: run a script under the profiler, read
# the profile back through `memprof json`, and look things up in it.

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Spec;
use File::Temp qw(tempdir);
use Test::More ();

our @EXPORT = qw(
    missing_module
    memprof_bin perl_bin repo_root profile_script profile_code run_capture memprof_json
    line_of sub_named stacks_with conservation_ok write_file slurp MiB decode_json perl_lib_dir outcome
    corpus_cases corpus_subtests browser_dir missing_browser
);

sub MiB () { 1024 * 1024 }

sub repo_root { abs_path( dirname(__FILE__) . '/../..' ) }

# The memprof binary under test: $MEMPROF_BIN, else the release build,
# else the debug build.
sub memprof_bin {
    # Absolute: the tests run it from other directories.
    return abs_path( $ENV{MEMPROF_BIN} ) if $ENV{MEMPROF_BIN};
    for my $profile (qw(release debug)) {
        my $bin = repo_root() . "/target/$profile/memprof";
        return $bin if -x $bin;
    }
    die "no memprof binary: run `cargo build --release` first\n";
}

# The directory holding Devel/MemProf.pm and auto/Devel/MemProf/MemProf.so
# beside the memprof binary.  memprof run sets it up, and refreshes it from
# the module built into the binary: run it once per test file.
my $perl_lib_dir;

sub perl_lib_dir {
    return $perl_lib_dir if $perl_lib_dir;
    my $dir = memprof_bin();
    $dir =~ s{/[^/]+\z}{/perl-lib};
    my $tmp = tempdir( CLEANUP => 1 );
    my ( undef, $err, $status )
        = run_capture( [ memprof_bin(), 'run', '-q', '--no-render', '-o', "$tmp/x.out", '-e1' ], cwd => $tmp );
    die "memprof run could not set up $dir: $err" if $status || !-e "$dir/Devel/MemProf.pm";
    return $perl_lib_dir = $dir;
}

# The perl the library was built for (the one memprof run uses).
sub perl_bin { $ENV{PERL} || $^X }

sub write_file {
    my ( $path, $text ) = @_;
    open my $fh, '>', $path or die "cannot write $path: $!";
    print {$fh} $text;
    close $fh or die "cannot write $path: $!";
    return $path;
}

# Run test assertions (Test::MemProf's) without reporting them: returns
# whether the one assertion passed, and its diagnostics.
sub outcome (&) {
    my ($code) = @_;
    require Test2::API;
    my $events = Test2::API::intercept( sub { $code->() } );
    my @oks = grep { $_->isa('Test2::Event::Ok') } @$events;
    die "expected one assertion, got " . @oks unless @oks == 1;
    my $diag = join "\n", map { $_->message } grep { $_->isa('Test2::Event::Diag') } @$events;
    return ( $oks[0]->pass ? 1 : 0, $diag );
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or die "cannot read $path: $!";
    local $/;
    return scalar <$fh>;
}

# Run a command; returns (stdout, stderr, exit status as $?).  stdin comes
# from a file when `stdin` is given, else /dev/null.
sub run_capture {
    my ( $cmd, %opt ) = @_;
    my $dir = tempdir( CLEANUP => 1 );
    my ( $out, $err ) = ( "$dir/out", "$dir/err" );
    my $in = defined $opt{stdin} ? $opt{stdin} : '/dev/null';
    local %ENV = ( %ENV, %{ $opt{env} || {} } );
    delete $ENV{$_} for grep { !defined $ENV{$_} } keys %ENV;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ( !$pid ) {
        chdir $opt{cwd} if $opt{cwd};
        open STDIN,  '<', $in  or die "stdin: $!";
        open STDOUT, '>', $out or die "stdout: $!";
        open STDERR, '>', $err or die "stderr: $!";
        exec @$cmd or die "exec @$cmd: $!";
    }
    waitpid $pid, 0;
    my $status = $?;
    return ( slurp($out), slurp($err), $status );
}

# JSON::XS where installed (profiles of big programs are tens of MB).
my $JSON = eval { require JSON::XS; JSON::XS->new } || do { require JSON::PP; JSON::PP->new };

sub decode_json { $JSON->decode( $_[0] ) }

# `memprof json FILE`, decoded.
sub memprof_json {
    my ( $file, @args ) = @_;
    my ( $out, $err, $status ) = run_capture( [ memprof_bin(), 'json', @args, $file ] );
    die "memprof json $file failed ($status): $err" if $status;
    return $JSON->decode($out);
}

# Profile a script file: returns (profile, stdout, stderr, status).
sub profile_script {
    my ( $script, %opt ) = @_;
    my $dir = $opt{dir} || tempdir( CLEANUP => 1 );
    my $out = "$dir/memprof.out";
    my @cmd = ( memprof_bin(), 'run', '-q', '--no-render', '-o', $out, '--', @{ $opt{perl_args} || [] }, $script,
        @{ $opt{args} || [] } );
    my ( $stdout, $stderr, $status ) = run_capture( \@cmd, %opt );
    my $profile = -e $out && !$opt{no_json} ? memprof_json($out) : undef;
    return ( $profile, $stdout, $stderr, $status, $out );
}

# Profile a piece of code saved as t.pl in a fresh directory.
sub profile_code {
    my ( $code, %opt ) = @_;
    my $dir = tempdir( CLEANUP => 1 );
    my $script = write_file( "$dir/t.pl", $code );
    return profile_script( $script, %opt, dir => $dir, cwd => $dir );
}

# The `lines` entry for a file (matched by its ending) and line number.
sub line_of {
    my ( $p, $file, $line ) = @_;
    my @hits = grep { $_->{line} == $line && $_->{file} =~ /\Q$file\E\z/ } @{ $p->{lines} };
    return $hits[0];
}

sub sub_named {
    my ( $p, $name ) = @_;
    my @hits = grep { $_->{name} eq $name } @{ $p->{subs} };
    return $hits[0];
}

# Stacks whose frames, joined by ';', match a pattern.
sub stacks_with {
    my ( $p, $re ) = @_;
    return grep { join( ';', @{ $_->{frames} } ) =~ $re } @{ $p->{stacks} };
}

my @METRICS = qw(alloc_bytes alloc_count free_bytes free_count net_bytes sv_delta);

# doc/profile.md, "conservation": lines, stacks (when the document has them) and subs'
# exclusive figures each sum to the totals; with site tracking, what is
# retained minus what was freed of older blocks is the net growth, and what
# was live at the peak minus what was freed of older blocks before it is
# the heap's peak.
# The first CPAN module a script uses that the perl under test cannot
# load, if any: a perl built for the version matrix (scripts/perl-matrix.sh)
# has only its core modules, and Debian's XS modules are built for its own perl.
sub missing_module {
    my ($script) = @_;
    my %seen;
    for my $module ( slurp($script) =~ /^\s*use\s+([A-Z]\w*(?:::\w+)*)/mg ) {
        next if $seen{$module}++;
        my ( undef, undef, $status ) = run_capture( [ perl_bin(), "-M$module ()", '-e1' ] );
        return $module if $status;
    }
    return;
}

# Where the browser tests' node scripts are (check.js, playwright-core).
sub browser_dir { repo_root() . '/t/browser' }

# Why the browser tests cannot run here ('' when they can): they need
# Chromium (or $CHROMIUM), node and playwright-core.  CI installs all three
# (scripts/deps.sh, scripts/test.sh): there a missing one is a failure, not
# a reason to skip.  (Not in the tarball that t/70-install.t builds and
# tests, which has no node_modules.)
sub missing_browser {
    my $chromium = $ENV{CHROMIUM} || '/usr/bin/chromium';
    my $missing =
        !-x $chromium                                    ? "no $chromium"
      : !-d browser_dir() . '/node_modules/playwright-core' ? 'no ' . browser_dir() . '/node_modules (npm ci --prefix t/browser)'
      : ( run_capture( [ 'node', '-e', '0' ] ) )[2]     ? 'no node'
      :                                                    '';
    if ( $missing && $ENV{CI} && !$ENV{MEMPROF_INSTALL_TEST_INNER} ) {
        Test::More::fail("the browser tests need chromium, node and playwright-core: $missing");
        return '';
    }
    return $missing;
}

# The corpus's scripts (t/corpus/*.pl), each with its name, its arguments
# (NAME.args, one a line) and its stdin (NAME.stdin) as run_capture takes it.
sub corpus_cases {
    my @cases;
    for my $script ( sort glob repo_root() . '/t/corpus/*.pl' ) {
        ( my $base = $script ) =~ s/\.pl\z//;
        my @args = -e "$base.args" ? split( /\n/, slurp("$base.args"), -1 ) : ();
        pop @args if @args && $args[-1] eq '' && slurp("$base.args") =~ /\n\z/;
        push @cases, {
            name   => ( split m{/}, $base )[-1],
            script => $script,
            args   => \@args,
            stdin  => { -e "$base.stdin" ? ( stdin => "$base.stdin" ) : () },
        };
    }
    return @cases;
}

# A subtest for each case (as corpus_cases gives them), skipped where the
# perl under test cannot load a module the script uses.
sub corpus_subtests {
    my ( $cases, $body ) = @_;
    for my $case (@$cases) {
        Test::More::subtest(
            $case->{name} => sub {
                if ( my $module = missing_module( $case->{script} ) ) {
                    Test::More::plan( skip_all => "$module is not installed for " . perl_bin() );
                }
                $body->($case);
            }
        );
    }
}

sub conservation_ok {
    my ( $p, $name ) = @_;
    my @bad;
    my $stacks_list = $p->{stacks} || [];
    for my $m (@METRICS) {
        my ( $lines, $stacks, $subs ) = ( 0, 0, 0 );
        $lines  += $_->{$m}              for @{ $p->{lines} };
        $stacks += $_->{$m}              for @$stacks_list;
        $subs   += $_->{exclusive}{$m}   for @{ $p->{subs} };
        my $total = $p->{totals}{$m};
        $stacks = $total unless $p->{stacks};
        push @bad, "$m: lines $lines, stacks $stacks, subs $subs, totals $total"
            unless $lines == $total && $stacks == $total && $subs == $total;
    }
    # Sampled site figures are estimates: they add up across views, but
    # not exactly to the heap's own figures.
    if ( $p->{site_tracking} && !$p->{sample_bytes} ) {
        my ( $retained, $peak ) = ( 0, 0 );
        $retained += $_->{retained_bytes} for @{ $p->{lines} };
        $peak     += $_->{peak_bytes}     for @{ $p->{lines} };
        my $t = $p->{totals};
        push @bad, "retained $retained - untracked $t->{untracked_free_bytes} != net $t->{net_bytes}"
            unless $retained - $t->{untracked_free_bytes} == $t->{net_bytes};
        push @bad, "peak $peak - untracked before peak $t->{untracked_free_before_peak} != peak $t->{peak_bytes}"
            unless $peak - $t->{untracked_free_before_peak} == $t->{peak_bytes};
    }
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::ok( !@bad, "conservation: $name" ) or Test::More::diag( join "\n", @bad );
}

1;

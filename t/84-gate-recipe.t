# The pull-request memory gate recipe of the README and memprof.pod
# (issue 19): a baseline profile from the main branch, the pull request's
# run compared with it as Markdown, and the gate's exit status.  The
# recipe's own script, examples/memory-gate.sh, is what runs here.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use Test::More;

my $dir  = tempdir( CLEANUP => 1 );
my $gate = repo_root() . '/examples/memory-gate.sh';
# The recipe calls `memprof` from PATH, as an installed one would be.
local $ENV{PATH} = dirname( memprof_bin() ) . ":$ENV{PATH}";

my $main = write_file( "$dir/main.pl", <<'PERL' );
our %cache;
sub handle { my ($id) = @_; my $body = "r" x 2000; return length $body }
handle($_) for 1 .. 5000;
PERL
( my $pr = slurp("$dir/main.pl") ) =~ s/return length \$body/\$cache{\$id} = \$body; return length \$body/;
write_file( "$dir/pr.pl", $pr );

# On the main branch: the baseline, kept as a CI artifact.
my ( undef, $err, $status ) = run_capture( [ 'memprof', 'run', '-q', '--no-render', '-o', "$dir/baseline.out", "$dir/main.pl" ], cwd => $dir );
is( $status, 0, 'the baseline profile is made with memprof run' ) or diag $err;

# On the pull request: the gate fails, and the comment names the line.
( undef, $err, $status ) = run_capture( [ $gate, "$dir/baseline.out", "$dir/pr.pl" ], cwd => $dir );
is( $status >> 8, 1, 'a change that keeps 10 MB fails the gate' ) or diag $err;
like( $err, qr/memory gate: over budget; comparison in memory-diff\.md/, 'and says so' );
my $md = slurp("$dir/memory-diff.md");
like( $md, qr/^### Memory: /m, 'the comment is Markdown' );
like( $md, qr/^\| memory held at exit \| \+(9|10)\.\d+ MiB \|/m, 'it leads with what is held at exit' );
like( $md, qr/^\| \S*pr\.pl:2 \(was \S*main\.pl:2\) \| \+(9|10)\.\d+ MiB .*\$cache\{\$id\} = \$body/m, 'and names the line that keeps it' );

# The same code as the baseline passes.
( undef, $err, $status ) = run_capture( [ $gate, "$dir/baseline.out", "$dir/main.pl" ], cwd => $dir,
    env => { MEMPROF_GATE_MD => "$dir/same.md" } );
is( $status >> 8, 0, 'the unchanged code passes' ) or diag $err;

# A baseline that is not a profile: exit 2, one line.
write_file( "$dir/junk.out", "not a profile\n" );
( undef, $err, $status ) = run_capture( [ $gate, "$dir/junk.out", "$dir/main.pl" ], cwd => $dir );
is( $status >> 8, 2, 'a bad baseline is an error, not a pass' );
like( $err, qr/junk\.out: not a Devel::MemProf profile/, 'named in one line' );
done_testing;

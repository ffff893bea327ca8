# Exercises: do FILE on a temp file written with File::Temp (returns value, defines subs)
use strict;
use warnings;
use File::Temp qw(tempfile);

my ($fh, $filename) = tempfile(SUFFIX => '.pl', UNLINK => 1);
print $fh <<'CODE';
package DoFile;
our @table = map { { id => $_, label => "row$_" x 2 } } 1 .. 100;
sub lookup { my $id = shift; return $table[$id - 1]{label} }
sub total { my $t = 0; $t += $_->{id} for @table; $t }
{ count => scalar(@table), first => $table[0]{label} };
CODE
close $fh;

my $ret = do $filename;
die "do failed: $@ $!" unless defined $ret;
print "returned: count=$ret->{count} first=$ret->{first}\n";
print "lookup 50: ", DoFile::lookup(50), "\n";
print "total: ", DoFile::total(), "\n";

my ($fh2, $bad) = tempfile(SUFFIX => '.pl', UNLINK => 1);
print $fh2 "die qq{deliberate failure\\n};\n";
close $fh2;
my $r2 = do $bad;
print "bad file: ", (defined $r2 ? "defined" : "undef"), " error: $@";
my ($fh3, $syn) = tempfile(SUFFIX => '.pl', UNLINK => 1);
print $fh3 "my \$x = ;\n";
close $fh3;
my $r3 = do $syn;
print "syntax file: ", (defined $r3 ? "defined" : "undef"), " has error: ", ($@ =~ /syntax error/ ? "yes" : "no"), "\n";
warn "do FILE done\n";

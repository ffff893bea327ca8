# Exercises: string eval that defines named subs at run time, then calls them
use strict;
use warnings;

my @names;
for my $n (1 .. 20) {
    my $code = <<"CODE";
package Gen;
sub gen_$n {
    my \@parts = map { "g$n-\$_" } 1 .. \$_[0];
    return join('|', \@parts);
}
1;
CODE
    eval $code or die "eval failed: $@";
    push @names, "gen_$n";
}
for my $name (@names) {
    my $sub = Gen->can($name) or die "no $name";
    my $r = $sub->(3);
    print "$name => $r\n";
}
my $total = 0;
$total += length Gen::gen_7($_) for 1 .. 100;
print "total length: $total\n";
my $bad = eval "sub { 1 + ; }";
print "syntax error caught: ", ($@ =~ /^syntax error/ ? "yes" : "no"), "\n";
warn "defined ", scalar(@names), " subs\n";

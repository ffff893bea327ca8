# Exercises: require of a missing module inside eval, and recovery
use strict;
use warnings;

my @results;
for my $mod (qw(No::Such::Module::Here Another::Missing::Thing List::Util Yet::Another::Absent)) {
    (my $file = "$mod.pm") =~ s{::}{/}g;
    my $ok = eval { require $file; 1 };
    push @results, sprintf "%-28s %s", $mod,
        $ok ? "loaded" : ($@ =~ /^Can't locate \Q$file\E/ ? "missing (Can't locate)" : "other error");
}
print "$_\n" for @results;
my $ok2 = eval "require Some::Fake::Module; 1";
print "string eval require: ", ($ok2 ? "loaded" : $@ =~ /Can't locate/ ? "Can't locate" : "other"), "\n";
my $ok3 = eval { require "./definitely-not-here-$$.pl"; 1 } ? 1 : 0;
print "relative file: ", ($ok3 ? "loaded" : $@ =~ /Can't locate/ ? "Can't locate" : "other"), "\n";
my $again = eval { require No::Such::Module::Here; 1 };
print "second attempt: ", ($again ? "loaded" : $@ =~ /Can't locate/ ? "Can't locate" : "other"), "\n";
warn "missing modules handled\n";

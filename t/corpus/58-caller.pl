# Exercises: caller() in nested subs; sub names from (caller(N))[3], line numbers, wantarray
use strict;
use warnings;

my @trace;
sub record {
    my @frames;
    my $i = 0;
    while (my @c = caller($i++)) {
        push @frames, "$c[3]\@$c[2]" . (defined $c[5] ? ($c[5] ? "[list]" : "[scalar]") : "[void]");
    }
    push @trace, join(' <- ', @frames);
    return scalar @frames;
}
sub level3 { my @pad = map { $_ * 2 } 1 .. 10; record(); return (caller(0))[3] }
sub level2 { my $r = level3(); return "$r via " . (caller(0))[3] }
sub level1 { my @r = (level2()); return @r }
print "result: ", level1(), "\n";
my $anon = sub { record(); (caller(0))[3] };
print "anon: ", $anon->(), "\n";
my $ev = eval { record(); (caller(0))[3] };
print "eval frame: $ev\n";
my $se = eval q{ record(); (caller(0))[3] };
print "string eval frame: $se\n";
package Deep::Pkg;
sub method { main::record(); return (caller(0))[3] . " from " . (caller(1))[3] }
package main;
sub call_method { Deep::Pkg->method }
print "method: ", call_method(), "\n";
my @sorted = sort { record(); $a <=> $b } 2, 1;
print "in sort: @sorted\n";
print "top-level caller: ", (defined caller() ? "defined" : "undef"), "\n";
print "$_\n" for @trace;
sub warner { warn "caller says: " . (caller(1))[3] . "\n" }
sub outer_warner { warner() }
outer_warner();

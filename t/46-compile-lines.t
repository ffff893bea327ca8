# Compile time per source line (issue 14): what the parser and the constant
# folder allocate while compiling a file goes to the line being compiled,
# under the file's `compile` frame, so a folded range shows on its own line.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

# `grep ... 1 .. 400_000` is folded into a 400,000-element list while
# line 3 is compiled.
my ($p) = profile_code(<<'PERL');
use strict;
my $total = 0;
for my $n ( grep { $_ % 2 } 1 .. 400_000 ) { $total += $n }
print "$total\n";
PERL
my ($compile) = grep { $_->{name} =~ /^compile .*t\.pl\z/ } @{ $p->{subs} };
ok( $compile, 'the script has a compile frame' ) or BAIL_OUT('no compile frame');
my $growth = $compile->{inclusive}{net_bytes};
cmp_ok( $growth, '>', 20 * MiB, 'compiling the script grew the heap by the folded list' );
my $on_line3 = 0;
for my $s ( @{ $p->{stacks} } ) {
    next unless $s->{frames}[-1] eq $compile->{name} && $s->{line} == 3;
    $on_line3 += $s->{net_bytes};
}
cmp_ok( $on_line3, '>=', 0.9 * $growth, "line 3 carries at least 90% of it ($on_line3 of $growth)" );
my $line0 = line_of( $p, 't.pl', 0 );
cmp_ok( abs( $line0 ? $line0->{net_bytes} : 0 ), '<', 0.05 * $growth, 'line 0 keeps only what belongs to no line' );
conservation_ok( $p, 'compile lines' );

# A module's compilation is spread over its own lines too.
my @strict = grep { $_->{file} =~ /strict\.pm\z/ && $_->{line} > 0 && $_->{alloc_bytes} > 0 } @{ $p->{lines} };
cmp_ok( scalar(@strict), '>', 3, 'strict.pm is compiled line by line, not all at line 0' );

done_testing;

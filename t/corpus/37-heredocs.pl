# Exercises: here-docs of all kinds (interpolating, literal, indented, stacked, in calls)
use strict;
use warnings;

my $name = "memprof";
my @items = map { "item $_" } 1 .. 3;
print <<"EOT";
Hello from $name
Items: @items
Expression: @{[ join '-', map { $_ * 2 } 1 .. 5 ]}
EOT
print <<'EOT';
Literal $name @items \n stays
EOT
print <<~INDENTED;
    indented here-doc
      keeps relative indent
    for $name
    INDENTED
print lc(<<A), uc(<<B);
First STACKED
A
second stacked
B
my @docs;
for my $i (1 .. 200) {
    push @docs, <<"DOC";
Document $i: ${\ ($i * $i) } squares, @{[ 'x' x ($i % 5) ]}
DOC
}
print "docs: ", scalar(@docs), " total length ", length(join '', @docs), "\n";
print $docs[0], $docs[-1];
my %h = (text => <<T, other => 'plain');
value from here-doc
T
print "hash: ", join(',', map { "$_=" . ($h{$_} =~ s/\n//r) } sort keys %h), "\n";
warn <<W;
warning via here-doc for $name
W

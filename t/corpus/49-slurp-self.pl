# Exercises: local $/ file slurping of the script itself via open $0
use strict;
use warnings;

my $text = do {
    local $/;
    open my $fh, '<', $0 or die "cannot open $0: $!";
    <$fh>;
};
print "slurped ", length($text), " chars\n";
my @lines = split /\n/, $text;
print "lines: ", scalar(@lines), "\n";
print "first line: $lines[0]\n";
my %freq;
$freq{$_}++ for $text =~ /(\w+)/g;
my @top = (sort { $freq{$b} <=> $freq{$a} || $a cmp $b } keys %freq)[0 .. 4];
print "top words: ", join(' ', map { "$_($freq{$_})" } @top), "\n";
{
    local $/ = "";
    open my $fh, '<', $0 or die;
    my @paras = <$fh>;
    print "paragraphs: ", scalar(@paras), "\n";
}
{
    local $/ = \64;
    open my $fh, '<', $0 or die;
    my @chunks = <$fh>;
    print "64-byte chunks: ", scalar(@chunks), " last length ", length($chunks[-1]), "\n";
}
open my $fh, '<', $0 or die;
my $count = 0;
$count++ while <$fh>;
print "line count via \$.: $.\n";
warn "slurped myself: $count lines\n";

# a trailing paragraph
# so that the paragraph mode has something to count

# Exercises: sort with inline blocks and with named comparator subs
use strict;
use warnings;

my @words = map { join '', map { chr(97 + ($_ * 7 + $_ ** 2) % 26) } 1 .. (3 + $_ % 5) } 1 .. 200;
my @recs = map { { name => "n" . ($_ * 37 % 101), score => ($_ * 13) % 50 } } 1 .. 300;

sub by_len_then_alpha { length($a) <=> length($b) or $a cmp $b }
sub by_score_desc { $b->{score} <=> $a->{score} || $a->{name} cmp $b->{name} }

my @s1 = sort @words;
my @s2 = sort { $b cmp $a } @words;
my @s3 = sort by_len_then_alpha @words;
my $cmp = \&by_score_desc;
my @s4 = sort $cmp @recs;
my @s5 = reverse sort { lc($a) cmp lc($b) } @words;

print "s1: @s1[0..4]\n";
print "s2: @s2[0..4]\n";
print "s3: @s3[0..4]\n";
print "s4: ", join(' ', map { "$_->{name}:$_->{score}" } @s4[0 .. 5]), "\n";
print "s5: @s5[0..4]\n";
my $named = 'by_len_then_alpha';
no strict 'refs';
my @s6 = sort $named @words;
print "s6 same as s3: ", ("@s6" eq "@s3" ? "yes" : "no"), "\n";
warn "sorted ", scalar(@words), " words and ", scalar(@recs), " records\n";

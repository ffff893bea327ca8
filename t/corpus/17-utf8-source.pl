# Exercises: a utf8 source file with non-ASCII identifiers and strings, UTF-8 output layer
use utf8;
use strict;
use warnings;
binmode STDOUT, ':encoding(UTF-8)';
binmode STDERR, ':encoding(UTF-8)';

my $café = "crème brûlée";
my %größe = (klein => "ş", mittel => "ǆǆ", groß => "日本語テキスト");
sub grüß { my $wer = shift; return "Grüß Gott, $wer!" }

print grüß("Jürgen"), "\n";
print "$café has ", length($café), " characters\n";
for my $k (sort keys %größe) {
    print "$k => $größe{$k} (", length($größe{$k}), ")\n";
}
my $big = join "·", map { "λ$_" } 1 .. 500;
print "big length: ", length($big), "\n";
print "upper: ", uc("straße ñandú ωμέγα"), "\n";
print "reverse: ", scalar reverse("αβγδε"), "\n";
my $count = () = $big =~ /λ/g;
print "lambda count: $count\n";
print "ord: ", join(",", map { ord } split //, "€Ω"), "\n";
warn "fertig: ", substr($big, 0, 11), "\n";

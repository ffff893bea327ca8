# Exercises: format declarations and write, with a header format and page handling
use strict;
use warnings;

our ($name, $qty, $price, $desc);
format STDOUT_TOP =
Name       Qty     Price  Description
---------- --- --------- --------------------
.
format STDOUT =
@<<<<<<<<< @>> @####.## ^<<<<<<<<<<<<<<<<<<<
$name,     $qty, $price, $desc
~~                       ^<<<<<<<<<<<<<<<<<<<
                         $desc
.

my @items = map {
    { name => "item$_", qty => $_ * 3, price => $_ * 1.25,
      desc => join(' ', map { "word$_" } 1 .. ($_ % 6 + 1)) }
} 1 .. 15;
$= = 1000;
for my $it (@items) {
    ($name, $qty, $price, $desc) = @{$it}{qw(name qty price desc)};
    write;
}
my $report = '';
{
    open my $fh, '>', \$report or die;
    my $old = select $fh;
    $~ = 'SUMMARY';
    format SUMMARY =
Total items: @<<<<< Total qty: @<<<<<
scalar(@items), $qty
.
    write;
    select $old;
    close $fh;
}
print $report;
my $picture = formline("@<<<< @>>>>\n", "left", "right") ? $^A : '';
print $picture;
$^A = '';
warn "formats written: ", scalar(@items), "\n";

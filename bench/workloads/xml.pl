# An XS library that allocates through libxml2: build a document of
# 60,000 records as a string, parse it with XML::LibXML, query it with
# XPath and walk the nodes.
my $scale = $ENV{BENCH_SCALE} || 1;    # bench/run.pl --instructions runs a tenth
use XML::LibXML;
my $xml = "<catalog>\n";
$xml .= qq{  <book id="b$_" lang="@{[ $_ % 3 ? 'en' : 'de' ]}"><title>Title $_</title><price>@{[ $_ % 50 + 0.99 ]}</price></book>\n}
    for 1 .. 60_000 * $scale;
$xml .= "</catalog>\n";
my $total = 0;
for my $round ( 1 .. 2 ) {
    my $doc = XML::LibXML->load_xml( string => $xml );
    my @de = $doc->findnodes('//book[@lang="de"]');
    $total += $_->findvalue('price') for @de;
    $total += length $_->textContent for $doc->documentElement->childNodes;
}
printf "%.2f\n", $total;

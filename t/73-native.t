# Native frames (issue 20): MEMPROF=native=1 records the C call stack of
# each allocation below a Perl statement and shows its XS and library
# frames under the statement; perl's own frames are folded away unless
# native=all.  And the profiler stays transparent and conserving with it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use Test::More;

my $have_libxml = !( run_capture( [ perl_bin(), '-MXML::LibXML', '-e1' ] ) )[2];
my $have_jsonxs = !( run_capture( [ perl_bin(), '-MJSON::XS', '-e1' ] ) )[2];

# A stack's frames below the Perl ones.
sub native_frames { grep {/^\[C\] /} @{ $_[0]{frames} } }

# Stacks that ran line $line of t.pl (as the statement or a call site).
sub through_line {
    my ( $p, $line ) = @_;
    return grep {
        grep { $_->{file} =~ m{(?:^|/)t\.pl\z} && $_->{line} == $line } @{ $_->{path} }
    } @{ $p->{stacks} };
}

sub sum_alloc { my $s = 0; $s += $_->{alloc_bytes} for @_; $s }

# libxml2's functions are xml* (and html*); a static one is named by its object.
my $LIBXML2 = qr/^\[C\] (?:xml|html|libxml2\.so)/;

SKIP: {
    skip 'XML::LibXML is not installed for ' . perl_bin(), 11 unless $have_libxml;
    my $dir = tempdir( CLEANUP => 1 );
    # About 5 MB of XML.
    my $xml = "<root>\n"
        . join( '', map {qq{<item id="$_"><name>item $_</name><value>} . ( 'x' x 40 ) . "</value></item>\n"} 1 .. 60_000 )
        . "</root>\n";
    cmp_ok( length $xml, '>', 5_000_000, 'the document is over 5 MB' );
    write_file( "$dir/doc.xml", $xml );
    my $code = <<'EOF';
use strict; use warnings; use XML::LibXML;
open my $fh, '<', 'doc.xml' or die $!; my $xml = do { local $/; <$fh> };
my $parser = XML::LibXML->new;
my $doc = $parser->parse_string($xml);
print scalar( () = $doc->documentElement->childNodes ), "\n";
EOF
    my $line = 4;
    write_file( "$dir/t.pl", $code );
    my ( $p, $out, $err, $status, $file ) =
        profile_script( "$dir/t.pl", dir => $dir, cwd => $dir, env => { MEMPROF => 'native=1' } );
    is( $status, 0, 'the parse ran under native=1' ) or diag $err;
    my @stacks = through_line( $p, $line );
    my $line_bytes = sum_alloc( @stacks );
    my $under_libxml2 = sum_alloc( grep { grep { $_ =~ $LIBXML2 } native_frames($_) } @stacks );
    cmp_ok( $under_libxml2, '>=', 0.8 * $line_bytes,
        "at least 80% of the parse_string line's bytes ($line_bytes) are under libxml2 frames ($under_libxml2)" );
    cmp_ok( $line_bytes, '>', 5_000_000, 'the line allocated more than the document' );

    # The folded stacks: the XSUB by its Perl name under the Perl line, libxml2 under it.
    my ($folded) = run_capture( [ memprof_bin(), 'folded', $file ] );
    like( $folded, qr/^main;XML::LibXML::parse_string;[^;\n]*LibXML\.pm:\d+;\[C\] XML::LibXML::_parse_string;(?:[^;\n]*;)*\[C\] xml\w+[; ]/m,
        'a libxml2 frame under XML::LibXML::_parse_string under the parse_string line' );
    unlike( $folded, qr/\[C\] (?:Perl_|S_|memprof_)/, 'no frame of perl or of the profiler with native=1' );

    # The other views: subs (JSON, csv) list the C functions, the flame graph draws them.
    my $xs = sub_named( $p, '[C] XML::LibXML::_parse_string' );
    is( $xs && $xs->{kind}, 'native', 'the XSUB is a native frame in subs' );
    cmp_ok( $xs ? $xs->{inclusive}{alloc_bytes} : 0, '>=', $under_libxml2, 'holding what libxml2 allocated under it' );
    my ($csv) = run_capture( [ memprof_bin(), 'csv', '--by', 'sub', $file ] );
    like( $csv, qr/^"?\[C\] xmlNewNode"?,native,/m, 'csv --by sub lists libxml2 functions' );
    my ( undef, $ferr, $fstatus ) =
        run_capture( [ memprof_bin(), 'flamegraph', '--metric', 'alloc', '-o', "$dir/alloc.svg", $file ] );
    is( $fstatus, 0, 'memprof flamegraph' ) or diag $ferr;
    like( slurp("$dir/alloc.svg"), qr/\[C\] xmlNewNode/, 'the flame graph draws libxml2 frames' );
}

SKIP: {
    skip 'JSON::XS is not installed for ' . perl_bin(), 4 unless $have_jsonxs;
    my $code = <<'EOF';
use strict; use warnings; use JSON::XS ();
my @data = map { { id => $_, name => "name $_", tags => [ 1 .. 5 ] } } 1 .. 20_000;
my $json = JSON::XS::encode_json( \@data );
my $back = JSON::XS::decode_json($json);
print length($json), " ", scalar(@$back), "\n";
EOF
    for my $case ( [ 3, 'encode_json' ], [ 4, 'decode_json' ] ) {
        my ( $line, $sub ) = @$case;
        my ( $p, $out, $err, $status ) = profile_code( $code, env => { MEMPROF => 'native=1' } );
        is( $status, 0, "JSON::XS ran under native=1 ($sub)" ) or diag $err;
        my @stacks = through_line( $p, $line );
        my $total  = sum_alloc( @stacks );
        my $under  = sum_alloc( grep { ( ( native_frames($_) )[0] // "" ) eq "[C] JSON::XS::$sub" } @stacks );
        cmp_ok( $under, '>=', 0.8 * $total, "line $line: at least 80% of $total bytes under [C] JSON::XS::$sub ($under)" );
    }
}

SKIP: {
    skip 'JSON::XS is not installed for ' . perl_bin(), 3 unless $have_jsonxs;
    # native=all keeps perl's frames; native=0 (the default) records none.
    my $code = qq{use JSON::XS ();\nmy \$j = JSON::XS::encode_json([ map { "x\$_" } 1 .. 5000 ]);\n};
    my ($p) = profile_code( $code, env => { MEMPROF => 'native=all' } );
    ok( ( grep { /^\[C\] Perl_/ } map { native_frames($_) } @{ $p->{stacks} } ), 'native=all keeps Perl_ frames' );
    is( $p->{options}{native}, 'all', 'the profile records the option' );
    ($p) = profile_code($code);
    is( scalar( grep { $_->{kind} eq 'native' } @{ $p->{subs} } ), 0, 'no native frames without the option' );
}

# Transparency and conservation over the corpus (as t/20-corpus.t), with native=1.
for my $case ( corpus_cases() ) {
    my ( $name, $script, @args ) = ( $case->{name}, $case->{script}, @{ $case->{args} } );
    my %stdin = %{ $case->{stdin} };
    subtest "native=1 $name" => sub {
        my ( $out, $err, $status ) = run_capture( [ perl_bin(), $script, @args ], %stdin );
        # A module this perl cannot load (a matrix perl has only its core
        # modules): the script fails the same way, with and without.
        my ( undef, $pout, $perr, $pstatus, $file ) =
            profile_script( $script, args => \@args, %stdin, no_json => 1, env => { MEMPROF => 'native=1' } );
        is( $pout,    $out,    'same stdout' );
        is( $perr,    $err,    'same stderr' );
        is( $pstatus, $status, "same exit status ($status)" );
        ok( -s $file, 'a profile was written' ) or return;
        my $p = memprof_json( $file, '--no-stacks' );
        $p = memprof_json($file) if $p->{max_stack_depth} <= 300;
        conservation_ok( $p, $name );
    };
}

done_testing;

package Devel::MemProf;

# -d sets $^P to "everything": DB::DB before every statement, DB::sub
# around every call, every file's source kept in memory.  That would slow
# the program and distort what we measure, so turn it all off before the
# rest of this file, and the script, are compiled.
# What -d set is kept: it tells us whether to profile, or (loaded with
# `use`) only to provide measure().
BEGIN { $Devel::MemProf::UNDER_DEBUGGER = $^P; $^P = 0 }

# Nothing here loads another module (not even strict or XSLoader): the
# program must find %INC, @INC and its own imports as it would without us.

our $VERSION = '0.1.0';

{

    package DB;

    # A safety net: with -d, perl calls DB::DB if a statement was compiled
    # with debugging on before $^P was reset.
    sub DB { }
}

sub _library_path {
    my $here = __FILE__;
    my @found;
    if ( $here =~ m{^(.*)[/\\]Devel[/\\]MemProf\.pm\z}s ) {
        push @found, "$1/auto/Devel/MemProf/MemProf.so";
    }
    push @found, map {"$_/auto/Devel/MemProf/MemProf.so"} grep { !ref } @INC;
    for my $so (@found) {
        return $so if -f $so;
    }
    return undef;
}

sub _load {
    my $so = _library_path();
    defined $so
        or die "Devel::MemProf: cannot find auto/Devel/MemProf/MemProf.so beside "
        . __FILE__
        . " or in \@INC\n";

    # What XSLoader::load does, without loading XSLoader.pm.
    DynaLoader::boot_DynaLoader('DynaLoader')
        if defined &DynaLoader::boot_DynaLoader && !defined &DynaLoader::dl_error;
    my $libref = DynaLoader::dl_load_file( $so, 0 )
        or die "Devel::MemProf: cannot load $so: " . DynaLoader::dl_error() . "\n";
    my $boot = DynaLoader::dl_find_symbol( $libref, 'boot_Devel__MemProf' )
        or die "Devel::MemProf: $so has no boot_Devel__MemProf: " . DynaLoader::dl_error() . "\n";
    my $xs = DynaLoader::dl_install_xsub( 'Devel::MemProf::bootstrap', $boot, $so );
    push @DynaLoader::dl_librefs,        $libref;
    push @DynaLoader::dl_modules,        'Devel::MemProf';
    push @DynaLoader::dl_shared_objects, $so;
    return &$xs( 'Devel::MemProf', $VERSION );
}

_load();
if ($Devel::MemProf::UNDER_DEBUGGER) {
    _start_profiling();
    # sigexit: write the profile, then die of the signal as we would have.
    for my $sig ( split /,/, _sigexit_signals() ) {
        $SIG{$sig} = \&_sigexit unless defined $SIG{$sig} && $SIG{$sig} ne '';
    }
}

sub _sigexit {
    my ($sig) = @_;
    DB::finish_profile();
    $SIG{$sig} = 'DEFAULT';
    kill $sig => $$;
}

# Defined first, so it runs after every END block of the program.
END { Devel::MemProf::_end_of_run() }

1;

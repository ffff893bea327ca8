//! GOT patching: point every loaded object's GOT slots for the hooked
//! functions at our replacements.
//!
//! Debian's perl has the interpreter in the executable (no libperl.so), so
//! the executable's GOT is where perl's own malloc calls go through; XS
//! modules and the libraries they load each have their own.  We walk every
//! object with `dl_iterate_phdr`, read its dynamic section, and rewrite the
//! PLT (JMPREL) and GLOB_DAT relocations whose symbol we hook.  Skipped:
//! our own library (its allocations are never counted), the dynamic loader
//! and the vdso.  Patching is idempotent, so after every dlopen the whole
//! list is walked again.

use crate::perl;
use std::ffi::{c_char, c_int, c_void, CStr};

// ELF dynamic-section tags and relocation types (the ELF ABI, not perl).
const DT_NULL: i64 = 0;
const DT_PLTRELSZ: i64 = 2;
const DT_STRTAB: i64 = 5;
const DT_SYMTAB: i64 = 6;
const DT_RELA: i64 = 7;
const DT_RELASZ: i64 = 8;
const DT_RELAENT: i64 = 9;
const DT_JMPREL: i64 = 23;

#[cfg(target_arch = "x86_64")]
const PATCHED_RELOCATIONS: [u32; 3] = [
    6, // R_X86_64_GLOB_DAT
    7, // R_X86_64_JUMP_SLOT
    1, // R_X86_64_64
];
#[cfg(target_arch = "aarch64")]
const PATCHED_RELOCATIONS: [u32; 3] = [
    1025, // R_AARCH64_GLOB_DAT
    1026, // R_AARCH64_JUMP_SLOT
    257,  // R_AARCH64_ABS64
];

#[repr(C)]
struct Elf64Dyn {
    d_tag: i64,
    d_val: u64,
}

#[repr(C)]
struct Elf64Rela {
    r_offset: u64,
    r_info: u64,
    r_addend: i64,
}

#[repr(C)]
struct Elf64Sym {
    st_name: u32,
    st_info: u8,
    st_other: u8,
    st_shndx: u16,
    st_value: u64,
    st_size: u64,
}

/// One hook from the C table, with its name as bytes.
struct Hook {
    name: &'static [u8],
    replacement: usize,
    original: usize,
}

fn hooks() -> Vec<Hook> {
    let mut out = Vec::new();
    // SAFETY: the table is a static array terminated by a NULL name.
    unsafe {
        let mut h = perl::memprof_hook_table();
        while !(*h).name.is_null() {
            // A function this libc lacks has no original: leave its slots alone.
            if !(*(*h).original).is_null() {
                out.push(Hook {
                    name: CStr::from_ptr((*h).name).to_bytes(),
                    replacement: (*h).replacement as usize,
                    original: *(*h).original as usize,
                });
            }
            h = h.add(1);
        }
    }
    out
}

struct Walk {
    hooks: Vec<Hook>,
    own_base: usize,
    patched: usize,
    /// Put the originals back (detaching) instead of the replacements.
    restore: bool,
}

/// Patch every loaded object; returns how many slots were changed.
pub fn patch_loaded_objects() -> usize {
    walk_loaded_objects(false)
}

/// Put the original functions back in every slot we patched (after
/// `memprof attach`): the process runs on without us.
pub fn restore_loaded_objects() -> usize {
    walk_loaded_objects(true)
}

fn walk_loaded_objects(restore: bool) -> usize {
    let mut walk = Walk { hooks: hooks(), own_base: own_base(), patched: 0, restore };
    // SAFETY: the callback only reads the loaded objects' headers and
    // writes GOT slots of the hooked symbols; `walk` outlives the call.
    unsafe {
        libc::dl_iterate_phdr(Some(visit), (&mut walk as *mut Walk).cast());
    }
    walk.patched
}

/// Load address of this library, to recognise it in the list.
fn own_base() -> usize {
    // SAFETY: Dl_info is plain C data (pointers and integers): all zeroes is valid.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the loader's tables.
    if unsafe { libc::dladdr(own_base as *const c_void, &mut info) } == 0 {
        return 0;
    }
    info.dli_fbase as usize
}

unsafe extern "C" fn visit(info: *mut libc::dl_phdr_info, _size: usize, data: *mut c_void) -> c_int {
    // SAFETY: dl_iterate_phdr passes a valid info and our Walk.
    let (info, walk) = unsafe { (&*info, &mut *data.cast::<Walk>()) };
    let base = info.dlpi_addr as usize;
    // SAFETY: dlpi_name is NULL or a NUL-terminated string.
    let name = unsafe { c_name(info.dlpi_name) };
    if base == walk.own_base || name.contains("linux-vdso") || name.contains("/ld-linux") {
        return 0;
    }
    // SAFETY: dlpi_phdr has dlpi_phnum entries.
    let phdrs = unsafe { std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum)) };
    let Some(dynamic) = phdrs.iter().find(|p| p.p_type == libc::PT_DYNAMIC) else {
        return 0;
    };
    let relro =
        phdrs.iter().find(|p| p.p_type == libc::PT_GNU_RELRO).map(|p| (base + p.p_vaddr as usize, p.p_memsz as usize));
    // SAFETY: the object is loaded, so its dynamic section is mapped.
    unsafe { patch_object(walk, base, (base + dynamic.p_vaddr as usize) as *const Elf64Dyn, relro) };
    0
}

unsafe fn c_name(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: the caller passes a NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

unsafe fn patch_object(walk: &mut Walk, base: usize, mut dynamic: *const Elf64Dyn, relro: Option<(usize, usize)>) {
    let (mut strtab, mut symtab) = (0usize, 0usize);
    let (mut jmprel, mut jmprel_size) = (0usize, 0usize);
    let (mut rela, mut rela_size, mut rela_ent) = (0usize, 0usize, std::mem::size_of::<Elf64Rela>());
    // glibc relocates most d_ptr entries in place; the vdso and some
    // loaders don't.  An address below the load base is still relative.
    let address = |v: u64| {
        let v = v as usize;
        if v < base {
            v + base
        } else {
            v
        }
    };
    // SAFETY: the dynamic section is an array ending at DT_NULL.
    unsafe {
        while (*dynamic).d_tag != DT_NULL {
            let d = &*dynamic;
            match d.d_tag {
                DT_STRTAB => strtab = address(d.d_val),
                DT_SYMTAB => symtab = address(d.d_val),
                DT_JMPREL => jmprel = address(d.d_val),
                DT_PLTRELSZ => jmprel_size = d.d_val as usize,
                DT_RELA => rela = address(d.d_val),
                DT_RELASZ => rela_size = d.d_val as usize,
                DT_RELAENT => rela_ent = d.d_val as usize,
                _ => {}
            }
            dynamic = dynamic.add(1);
        }
    }
    if strtab == 0 || symtab == 0 || rela_ent < std::mem::size_of::<Elf64Rela>() {
        return;
    }
    for (table, size, entry) in [(jmprel, jmprel_size, std::mem::size_of::<Elf64Rela>()), (rela, rela_size, rela_ent)] {
        if table == 0 {
            continue;
        }
        for i in 0..size / entry {
            // SAFETY: the relocation table holds size/entry records.
            let r = unsafe { &*((table + i * entry) as *const Elf64Rela) };
            if !PATCHED_RELOCATIONS.contains(&(r.r_info as u32)) {
                continue;
            }
            let sym_index = (r.r_info >> 32) as usize;
            if sym_index == 0 {
                continue;
            }
            // SAFETY: relocations only name symbols of the object's table.
            let sym = unsafe { &*((symtab as *const Elf64Sym).add(sym_index)) };
            // SAFETY: st_name is an offset into the string table.
            let sym_name = unsafe { CStr::from_ptr((strtab + sym.st_name as usize) as *const c_char) }.to_bytes();
            let Some(hook) = walk.hooks.iter().find(|h| h.name == sym_name) else {
                continue;
            };
            let slot = (base + r.r_offset as usize) as *mut usize;
            // SAFETY: slot is a GOT entry of a loaded object.
            if walk.restore && unsafe { slot.read_volatile() } != hook.replacement {
                continue;
            }
            let value = if walk.restore { hook.original } else { hook.replacement };
            // SAFETY: slot is a GOT entry of a loaded object; write_slot makes
            // a RELRO page writable for the store.
            if unsafe { write_slot(slot, value, relro) } {
                walk.patched += 1;
            }
        }
    }
}

/// Store `value` into a GOT slot, lifting RELRO protection for the store.
unsafe fn write_slot(slot: *mut usize, value: usize, relro: Option<(usize, usize)>) -> bool {
    // SAFETY: the caller passes a mapped slot.
    if unsafe { slot.read_volatile() } == value {
        return false;
    }
    let addr = slot as usize;
    let in_relro = relro.is_some_and(|(start, len)| addr >= start && addr < start + len);
    if in_relro {
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
        let start = addr & !(page - 1);
        // SAFETY: the page holds part of the object's RELRO segment.
        unsafe {
            if libc::mprotect(start as *mut c_void, page, libc::PROT_READ | libc::PROT_WRITE) != 0 {
                return false;
            }
            slot.write_volatile(value);
            libc::mprotect(start as *mut c_void, page, libc::PROT_READ);
        }
    } else {
        // SAFETY: outside RELRO the GOT is writable.
        unsafe { slot.write_volatile(value) };
    }
    true
}

//! The allocator the `newsmill` binary and its benchmarks install (`#[global_allocator]`).
//!
//! The pipeline makes and drops many small strings and vectors per document; mimalloc's
//! thread-local free lists cost a fraction of glibc malloc's locking (BENCHMARKS.md). The
//! library itself allocates through whatever allocator its user installs.

/// mimalloc through its plain entry points where the alignment allows. The `mimalloc`
/// crate's allocator calls the aligned ones for every request, which re-check the alignment
/// of each block they hand out; but every mimalloc block is aligned to at least a word, and
/// nearly all of this program's allocations (strings, vectors of integers and pointers)
/// ask for no more. Measured: a fifth fewer allocator instructions (BENCHMARKS.md).
pub struct Mimalloc;

/// The alignment every mimalloc block has (a machine word).
const WORD_ALIGN: usize = std::mem::size_of::<usize>();

// SAFETY: each method forwards to the mimalloc function documented for it; the plain ones
// are used only when the layout's alignment is at most a word, which mimalloc guarantees for
// every block, and the rest go to the aligned ones exactly as `mimalloc::MiMalloc` does.
// Blocks from either family are freed by `mi_free` and resized by either `realloc`.
unsafe impl std::alloc::GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if layout.align() <= WORD_ALIGN {
            libmimalloc_sys::mi_malloc(layout.size()).cast()
        } else {
            libmimalloc_sys::mi_malloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        if layout.align() <= WORD_ALIGN {
            libmimalloc_sys::mi_zalloc(layout.size()).cast()
        } else {
            libmimalloc_sys::mi_zalloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        libmimalloc_sys::mi_free(ptr.cast());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        if layout.align() <= WORD_ALIGN {
            libmimalloc_sys::mi_realloc(ptr.cast(), new).cast()
        } else {
            libmimalloc_sys::mi_realloc_aligned(ptr.cast(), new, layout.align()).cast()
        }
    }
}

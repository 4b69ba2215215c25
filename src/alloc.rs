//! The allocator the `newsmill` binary and its benchmarks install (`#[global_allocator]`),
//! and the memory setting they share.
//!
//! The pipeline makes and drops many small strings and vectors per document; mimalloc's
//! thread-local free lists cost a fraction of glibc malloc's locking (BENCHMARKS.md). The
//! library itself allocates through whatever allocator its user installs.

/// Turns transparent huge pages off for this process; the `newsmill` binary and the stage
/// bench call it first thing, so stage figures match whole runs.
///
/// They cost this workload more than they save: the allocator frees and reuses memory batch
/// after batch, and every fresh huge page is 2 MB for the kernel to zero (10% of a Reuters
/// run's CPU, in `clear_page`). With them off, system time fell from 0.6-1.0 s to 0.25-0.4 s
/// per Reuters run and peak RSS by ~40 MB; left on in the stage bench, `clear_page` took 36%
/// of its samples and halved the dedup index's figure (BENCHMARKS.md).
pub fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE only sets a flag on this process; it reads and writes no
    // memory of ours. Failure (an old kernel) just leaves the default in place.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

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

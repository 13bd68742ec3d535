//! Recycled task-cell memory: the loop keeps freed cells for the next spawn.
//!
//! A spawn-heavy loop allocates and frees one cell per task; with glibc's
//! allocator that round trip costs more than everything else a spawn does
//! (~290 of ~715 instructions in the `spawn` benchmark). Cells freed on the
//! loop thread go into a per-size-class free list instead, and the next
//! spawn of that size pops one. Only sizes up to 512 bytes with alignment up
//! to 8 are recycled, and the cache keeps at most [`LIMIT_BYTES`]: beyond
//! that, freed cells go back to the allocator. Cells freed on another
//! thread (a waker dropped there held the last reference) always do.

use std::alloc::{self, Layout};
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

/// Size classes are multiples of this, and cached cells are aligned to it.
/// (Not 16: glibc rounds a request up to `16k + 8` usable bytes, so a 56-byte
/// cell rounded to 64 would cost a whole extra 16-byte chunk step.)
const CLASS_BYTES: usize = 8;
/// Cells up to this size are recycled.
const MAX_CACHED_SIZE: usize = 512;
const CLASSES: usize = MAX_CACHED_SIZE / CLASS_BYTES;
/// The most memory the cache holds on to, per runtime.
pub(crate) const LIMIT_BYTES: usize = 8 << 20;

/// The layout a cell of `layout` is allocated with: rounded up to its size
/// class when it is recyclable, so any cell of the class can reuse it.
pub(crate) const fn cell_layout(layout: Layout) -> Layout {
    if layout.align() > CLASS_BYTES || layout.size() > MAX_CACHED_SIZE {
        return layout;
    }
    let size = layout.size().div_ceil(CLASS_BYTES) * CLASS_BYTES;
    match Layout::from_size_align(size, CLASS_BYTES) {
        Ok(rounded) => rounded,
        Err(_) => layout,
    }
}

fn class_of(layout: Layout) -> Option<usize> {
    let recyclable = layout.align() == CLASS_BYTES && layout.size() <= MAX_CACHED_SIZE;
    (recyclable && layout.size() != 0).then(|| layout.size() / CLASS_BYTES - 1)
}

/// Free lists of cell memory, by size class; loop thread only.
#[derive(Debug)]
pub(crate) struct CellCache {
    classes: RefCell<[Vec<NonNull<u8>>; CLASSES]>,
    cached_bytes: Cell<usize>,
}

impl Default for CellCache {
    fn default() -> Self {
        CellCache {
            classes: RefCell::new(std::array::from_fn(|_| Vec::new())),
            cached_bytes: Cell::new(0),
        }
    }
}

impl CellCache {
    /// Memory for a cell of `layout` (from `cell_layout`): recycled if one is
    /// cached, else freshly allocated.
    pub(crate) fn allocate(&self, layout: Layout) -> NonNull<u8> {
        if let Some(class) = class_of(layout) {
            if let Some(block) = self.classes.borrow_mut()[class].pop() {
                self.cached_bytes.set(self.cached_bytes.get() - layout.size());
                return block;
            }
        }
        // SAFETY: cell layouts are never zero-sized (a cell has a header).
        let block = unsafe { alloc::alloc(layout) };
        NonNull::new(block).unwrap_or_else(|| alloc::handle_alloc_error(layout))
    }

    /// Takes back the memory of a dropped cell if there is room; `false`
    /// means the caller must free it.
    pub(crate) fn recycle(&self, block: NonNull<u8>, layout: Layout) -> bool {
        let Some(class) = class_of(layout) else { return false };
        let cached = self.cached_bytes.get() + layout.size();
        if cached > LIMIT_BYTES {
            return false;
        }
        self.cached_bytes.set(cached);
        self.classes.borrow_mut()[class].push(block);
        true
    }
}

impl Drop for CellCache {
    fn drop(&mut self) {
        for (class, blocks) in self.classes.get_mut().iter_mut().enumerate() {
            let size = (class + 1) * CLASS_BYTES;
            let layout = Layout::from_size_align(size, CLASS_BYTES).expect("valid class layout");
            for block in blocks.drain(..) {
                // SAFETY: every cached block was allocated with its class's
                // layout (`cell_layout`) and is owned by the cache alone.
                unsafe { alloc::dealloc(block.as_ptr(), layout) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_round_up_to_their_class() {
        let l = cell_layout(Layout::from_size_align(52, 4).unwrap());
        assert_eq!((l.size(), l.align()), (56, 8));
        let big = Layout::from_size_align(4096, 8).unwrap();
        assert_eq!(cell_layout(big), big);
        let aligned = Layout::from_size_align(64, 16).unwrap();
        assert_eq!(cell_layout(aligned), aligned);
    }

    #[test]
    fn recycled_blocks_are_reused_and_the_limit_holds() {
        let cache = CellCache::default();
        let layout = cell_layout(Layout::from_size_align(64, 8).unwrap());
        let a = cache.allocate(layout);
        assert!(cache.recycle(a, layout));
        assert_eq!(cache.allocate(layout), a);
        let huge = Layout::from_size_align(1024, 8).unwrap();
        let b = cache.allocate(huge);
        assert!(!cache.recycle(b, huge));
        // SAFETY: `b` came from `allocate(huge)` and was not recycled.
        unsafe { alloc::dealloc(b.as_ptr(), huge) };
        assert!(cache.recycle(a, layout));
        let c = cache.allocate(layout);
        assert_eq!(c, a);
        cache.cached_bytes.set(LIMIT_BYTES);
        assert!(!cache.recycle(c, layout));
        // SAFETY: `c` was allocated with `layout` and not recycled.
        unsafe { alloc::dealloc(c.as_ptr(), layout) };
    }
}

//! What the passes on rayon share: whether to use it, and a slice that passes over disjoint index
//! sets write at once (the network's parts).

/// Whether the passes may use rayon: not in the browser build, and only with several threads.
pub fn parallel_ok() -> bool {
    cfg!(not(target_arch = "wasm32")) && rayon::current_num_threads() > 1
}

/// A slice the parts' passes write at once, each part at its own indices only.
///
/// The network's parts (`Network::component`) partition its nodes, and every pipe joins two
/// nodes of one part, so the passes over two parts (the thermal and the hydraulic passes) never
/// touch the same node or pipe: each pass's writes through [`Disjoint::at`] go to indices no
/// other pass uses.
pub struct Disjoint<'a, T> {
    ptr: *mut T,
    len: usize,
    _slice: std::marker::PhantomData<&'a mut [T]>,
}

// SAFETY: shared between the parts' passes, which access disjoint indices (see the type's doc);
// `T: Send` because each element is used by one thread at a time.
unsafe impl<T: Send> Sync for Disjoint<'_, T> {}

impl<'a, T> Disjoint<'a, T> {
    pub fn new(s: &'a mut [T]) -> Self {
        Self {
            ptr: s.as_mut_ptr(),
            len: s.len(),
            _slice: std::marker::PhantomData,
        }
    }
    /// The element at `i` (bounds-checked).
    ///
    /// # Safety
    /// No other reference to element `i` may be alive while the returned one is: only the pass
    /// over the part that holds index `i` calls this for it.
    #[inline]
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn at(&self, i: usize) -> &mut T {
        assert!(i < self.len, "index {i} out of {}", self.len);
        // SAFETY: in bounds (checked), and exclusive by the caller's contract.
        unsafe { &mut *self.ptr.add(i) }
    }
    /// The address of element `i` (for a prefetch; never dereferenced).
    #[inline]
    pub fn addr(&self, i: usize) -> *const T {
        self.ptr.wrapping_add(i.min(self.len.saturating_sub(1)))
    }
}

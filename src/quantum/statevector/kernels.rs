//! The kernels that run a [`Stage`] over the amplitudes: group-local kernels, the
//! cache-blocked (and, off `wasm32`, parallel) sweep over groups through a shared raw
//! pointer (the `unsafe` parts, with their SAFETY arguments), and the in-place loops of
//! each kernel kind.

use num_complex::Complex64;
#[cfg(not(target_arch = "wasm32"))]
use rayon::prelude::*;

use super::fusion::{Kernel, Stage, swap_roles};
use super::{BLOCK_QUBITS, ONE, ZERO};

/// Position of a qubit inside a group: active (bit `p` of the group buffer) or fixed (its
/// value comes from the group's base index).
#[derive(Clone, Copy, Debug)]
enum Loc {
    Active(usize),
    Fixed(usize),
}

/// Kernel in group-local coordinates.
#[derive(Clone, Debug)]
enum LocalKernel {
    Mat1 { p: usize, m: [Complex64; 4] },
    Real1 { p: usize, m: [f64; 4] },
    X { p: usize },
    Diag1 { q: Loc, d: [Complex64; 2] },
    Mat2 { p: [usize; 2], m: [Complex64; 16] },
    Diag2 { q: [Loc; 2], d: [Complex64; 4] },
    CX { c: Loc, t: usize },
    Swap { p: [usize; 2] },
    Scalar(Complex64),
}

fn localize(k: &Kernel, loc: &impl Fn(usize) -> Loc) -> LocalKernel {
    let act = |q: usize| match loc(q) {
        Loc::Active(p) => p,
        Loc::Fixed(_) => unreachable!("mixing qubit {q} outside the block"),
    };
    match k {
        Kernel::Mat1 { q, m } => LocalKernel::Mat1 { p: act(*q), m: *m },
        Kernel::Real1 { q, m } => LocalKernel::Real1 { p: act(*q), m: *m },
        Kernel::X { q } => LocalKernel::X { p: act(*q) },
        Kernel::Diag1 { q, d } => LocalKernel::Diag1 { q: loc(*q), d: *d },
        Kernel::Mat2 { q, m } => {
            let (a, b) = (act(q[0]), act(q[1]));
            if a < b {
                LocalKernel::Mat2 { p: [a, b], m: *m }
            } else {
                LocalKernel::Mat2 {
                    p: [b, a],
                    m: swap_roles(m),
                }
            }
        }
        Kernel::Diag2 { q, d } => LocalKernel::Diag2 {
            q: [loc(q[0]), loc(q[1])],
            d: *d,
        },
        Kernel::CX { c, t } => LocalKernel::CX {
            c: loc(*c),
            t: act(*t),
        },
        Kernel::Swap { q } => {
            let (a, b) = (act(q[0]), act(q[1]));
            LocalKernel::Swap {
                p: [a.min(b), a.max(b)],
            }
        }
        Kernel::Scalar(c) => LocalKernel::Scalar(*c),
    }
}

/// Raw pointer to the amplitudes shared by the group workers.
#[derive(Clone, Copy)]
struct AmpPtr(*mut Complex64);
// SAFETY: workers only dereference disjoint index ranges (see `run_stage`).
unsafe impl Send for AmpPtr {}
unsafe impl Sync for AmpPtr {}

impl AmpPtr {
    /// The pointer (a method, so that closures capture the `Sync` wrapper, not the field).
    fn get(self) -> *mut Complex64 {
        self.0
    }
}

/// Scatters the bits of `g` onto the bit positions `pos` (ascending).
fn deposit(g: usize, pos: &[usize]) -> usize {
    pos.iter()
        .enumerate()
        .fold(0, |acc, (i, &p)| acc | (((g >> i) & 1) << p))
}

pub(super) fn run_stage(amps: &mut [Complex64], n: usize, stage: &Stage) {
    if n <= BLOCK_QUBITS {
        let lk: Vec<LocalKernel> = stage
            .kernels
            .iter()
            .map(|k| localize(k, &Loc::Active))
            .collect();
        apply_local_all(amps, &lk, 0);
        return;
    }
    let mut high = stage.high.clone();
    high.sort_unstable();
    // Largest contiguous low block such that low + high-above-it fits in BLOCK_QUBITS.
    let (low, heff) = (0..=high.len())
        .find_map(|c| {
            let low = BLOCK_QUBITS - c;
            let heff: Vec<usize> = high.iter().copied().filter(|&q| q >= low).collect();
            (heff.len() <= c).then_some((low, heff))
        })
        .expect("a stage always fits in a block");
    let free: Vec<usize> = (low..n).filter(|q| !heff.contains(q)).collect();
    let loc = |q: usize| {
        if q < low {
            Loc::Active(q)
        } else if let Some(i) = heff.iter().position(|&h| h == q) {
            Loc::Active(low + i)
        } else {
            Loc::Fixed(q)
        }
    };
    let lk: Vec<LocalKernel> = stage.kernels.iter().map(|k| localize(k, &loc)).collect();
    let h = heff.len();
    let sub = 1usize << low;
    let ptr = AmpPtr(amps.as_mut_ptr());
    let work = |scratch: &mut Vec<Complex64>, g: usize| {
        let base = deposit(g, &free);
        if h == 0 {
            // SAFETY: the groups `[base, base + 2^low)` are disjoint for distinct `g`
            // (they differ in the bits `free` ≥ `low`) and lie inside `amps`.
            let s = unsafe { std::slice::from_raw_parts_mut(ptr.get().add(base), sub) };
            apply_local_all(s, &lk, base);
            return;
        }
        for (s, dst) in scratch.chunks_exact_mut(sub).enumerate() {
            let start = base | deposit(s, &heff);
            // SAFETY: as above; the sub-chunks of a group differ in the `heff` bits and
            // those of different groups in the `free` bits, so no range is shared.
            let src = unsafe { std::slice::from_raw_parts(ptr.get().add(start), sub) };
            dst.copy_from_slice(src);
        }
        apply_local_all(scratch, &lk, base);
        for (s, src) in scratch.chunks_exact(sub).enumerate() {
            let start = base | deposit(s, &heff);
            // SAFETY: see above.
            let dst = unsafe { std::slice::from_raw_parts_mut(ptr.get().add(start), sub) };
            dst.copy_from_slice(src);
        }
    };
    let scratch_len = if h == 0 { 0 } else { sub << h };
    for_each_group(1 << free.len(), scratch_len, work);
}

fn for_each_group<F>(groups: usize, scratch_len: usize, work: F)
where
    F: Fn(&mut Vec<Complex64>, usize) + Sync + Send,
{
    #[cfg(not(target_arch = "wasm32"))]
    if groups > 1 {
        (0..groups)
            .into_par_iter()
            .for_each_init(|| vec![ZERO; scratch_len], |s, g| work(s, g));
        return;
    }
    let mut scratch = vec![ZERO; scratch_len];
    for g in 0..groups {
        work(&mut scratch, g);
    }
}

/// Applies local kernels to one group; `base` supplies the values of fixed qubits.
fn apply_local_all(s: &mut [Complex64], ks: &[LocalKernel], base: usize) {
    let bit = |q: usize| (base >> q) & 1;
    let mut scalar = ONE;
    for k in ks {
        match k {
            LocalKernel::Mat1 { p, m } => k_mat1(s, *p, m),
            LocalKernel::Real1 { p, m } => k_real1(s, *p, m),
            LocalKernel::X { p } => k_x(s, *p),
            LocalKernel::Diag1 {
                q: Loc::Active(p),
                d,
            } => k_diag1(s, *p, d),
            LocalKernel::Diag1 {
                q: Loc::Fixed(q),
                d,
            } => scalar *= d[bit(*q)],
            LocalKernel::Mat2 { p, m } => k_mat2(s, p[0], p[1], m),
            LocalKernel::Diag2 { q, d } => match *q {
                [Loc::Active(a), Loc::Active(b)] => k_diag2(s, a, b, d),
                [Loc::Active(a), Loc::Fixed(f)] => {
                    let o = 2 * bit(f);
                    k_diag1(s, a, &[d[o], d[o + 1]]);
                }
                [Loc::Fixed(f), Loc::Active(b)] => {
                    let o = bit(f);
                    k_diag1(s, b, &[d[o], d[o + 2]]);
                }
                [Loc::Fixed(f), Loc::Fixed(g)] => scalar *= d[bit(f) + 2 * bit(g)],
            },
            LocalKernel::CX {
                c: Loc::Active(c),
                t,
            } => k_cx(s, *c, *t),
            LocalKernel::CX {
                c: Loc::Fixed(c),
                t,
            } => {
                if bit(*c) == 1 {
                    k_x(s, *t);
                }
            }
            LocalKernel::Swap { p } => k_swap(s, p[0], p[1]),
            LocalKernel::Scalar(c) => scalar *= c,
        }
    }
    if scalar != ONE {
        s.iter_mut().for_each(|a| *a *= scalar);
    }
}

fn k_mat1(s: &mut [Complex64], p: usize, m: &[Complex64; 4]) {
    let h = 1 << p;
    for blk in s.chunks_exact_mut(2 * h) {
        let (lo, hi) = blk.split_at_mut(h);
        for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
            let (u, v) = (*x, *y);
            *x = m[0] * u + m[1] * v;
            *y = m[2] * u + m[3] * v;
        }
    }
}

fn k_real1(s: &mut [Complex64], p: usize, m: &[f64; 4]) {
    let h = 1 << p;
    if m[0] == m[1] && m[0] == m[2] && m[3] == -m[0] {
        // Hadamard-like butterfly.
        let c = m[0];
        for blk in s.chunks_exact_mut(2 * h) {
            let (lo, hi) = blk.split_at_mut(h);
            for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
                let (u, v) = (*x, *y);
                *x = (u + v) * c;
                *y = (u - v) * c;
            }
        }
        return;
    }
    for blk in s.chunks_exact_mut(2 * h) {
        let (lo, hi) = blk.split_at_mut(h);
        for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
            let (u, v) = (*x, *y);
            *x = u * m[0] + v * m[1];
            *y = u * m[2] + v * m[3];
        }
    }
}

fn k_x(s: &mut [Complex64], p: usize) {
    let h = 1 << p;
    if h == 1 {
        s.chunks_exact_mut(2).for_each(|c| c.swap(0, 1));
        return;
    }
    for blk in s.chunks_exact_mut(2 * h) {
        let (lo, hi) = blk.split_at_mut(h);
        lo.swap_with_slice(hi);
    }
}

fn scale(s: &mut [Complex64], c: Complex64) {
    if c != ONE {
        s.iter_mut().for_each(|a| *a *= c);
    }
}

fn k_diag1(s: &mut [Complex64], p: usize, d: &[Complex64; 2]) {
    if d[0] == ONE && d[1] == ONE {
        return;
    }
    let h = 1 << p;
    if h == 1 && d[0] == ONE {
        s.chunks_exact_mut(2).for_each(|c| c[1] *= d[1]);
        return;
    }
    for blk in s.chunks_exact_mut(2 * h) {
        let (lo, hi) = blk.split_at_mut(h);
        scale(lo, d[0]);
        scale(hi, d[1]);
    }
}

/// Calls `f(x00, x01, x10, x11)` on the sub-slices where (bit `ph`, bit `pl`) take the
/// values in the names; `pl < ph`.
#[inline(always)]
fn for_each_quad(
    s: &mut [Complex64],
    pl: usize,
    ph: usize,
    mut f: impl FnMut(&mut [Complex64], &mut [Complex64], &mut [Complex64], &mut [Complex64]),
) {
    let (l, h) = (1usize << pl, 1usize << ph);
    for blk in s.chunks_exact_mut(2 * h) {
        let (h0, h1) = blk.split_at_mut(h);
        for (a, b) in h0.chunks_exact_mut(2 * l).zip(h1.chunks_exact_mut(2 * l)) {
            let (x00, x01) = a.split_at_mut(l);
            let (x10, x11) = b.split_at_mut(l);
            f(x00, x01, x10, x11);
        }
    }
}

/// Calls `f(x_bh_bl)` for the quarter of `s` where bit `ph` is `bh` and bit `pl` is `bl`.
#[inline(always)]
fn for_each_quarter(
    s: &mut [Complex64],
    pl: usize,
    ph: usize,
    bl: usize,
    bh: usize,
    mut f: impl FnMut(&mut Complex64),
) {
    let (l, h) = (1usize << pl, 1usize << ph);
    for blk in s.chunks_exact_mut(2 * h) {
        let half = &mut blk[bh * h..(bh + 1) * h];
        if l == 1 {
            half.chunks_exact_mut(2).for_each(|c| f(&mut c[bl]));
        } else {
            for c in half.chunks_exact_mut(2 * l) {
                c[bl * l..(bl + 1) * l].iter_mut().for_each(&mut f);
            }
        }
    }
}

fn k_mat2(s: &mut [Complex64], pl: usize, ph: usize, m: &[Complex64; 16]) {
    for_each_quad(s, pl, ph, |x0, x1, x2, x3| {
        for (((a, b), c), d) in x0.iter_mut().zip(x1.iter_mut()).zip(x2.iter_mut()).zip(x3) {
            let v = [*a, *b, *c, *d];
            let row = |r: usize| {
                m[4 * r] * v[0] + m[4 * r + 1] * v[1] + m[4 * r + 2] * v[2] + m[4 * r + 3] * v[3]
            };
            (*a, *b, *c, *d) = (row(0), row(1), row(2), row(3));
        }
    });
}

fn k_diag2(s: &mut [Complex64], pl: usize, ph: usize, d: &[Complex64; 4]) {
    for (k, &dk) in d.iter().enumerate() {
        if dk != ONE {
            for_each_quarter(s, pl, ph, k & 1, k >> 1, |a| *a *= dk);
        }
    }
}

fn k_cx(s: &mut [Complex64], c: usize, t: usize) {
    if c > t {
        if t == 0 {
            let h = 1 << c;
            for blk in s.chunks_exact_mut(2 * h) {
                blk[h..].chunks_exact_mut(2).for_each(|p| p.swap(0, 1));
            }
        } else {
            for_each_quad(s, t, c, |_, _, x10, x11| x10.swap_with_slice(x11));
        }
    } else {
        for_each_quad(s, c, t, |_, x01, _, x11| x01.swap_with_slice(x11));
    }
}

fn k_swap(s: &mut [Complex64], pl: usize, ph: usize) {
    if pl == 0 {
        let h = 1 << ph;
        for blk in s.chunks_exact_mut(2 * h) {
            let (h0, h1) = blk.split_at_mut(h);
            for (a, b) in h0.chunks_exact_mut(2).zip(h1.chunks_exact_mut(2)) {
                std::mem::swap(&mut a[1], &mut b[0]);
            }
        }
    } else {
        for_each_quad(s, pl, ph, |_, x01, x10, _| x01.swap_with_slice(x10));
    }
}

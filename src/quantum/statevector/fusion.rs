//! The fusion compiler: gates become [`Kernel`]s (fused one- and two-qubit products,
//! diagonals factored into scalars and phases), and kernels are grouped into cache-blocked
//! [`Stage`]s (see the module docs of [`super`]).

use std::collections::BTreeMap;

use num_complex::Complex64;

use super::circuit::Gate;
use super::{BLOCK_QUBITS, MAX_HIGH_QUBITS, ONE, ZERO};
use crate::math::norm;

/// A gate (or fused product of gates) prepared for application; global qubit indices.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Kernel {
    Mat1 {
        q: usize,
        m: [Complex64; 4],
    },
    Real1 {
        q: usize,
        m: [f64; 4],
    },
    X {
        q: usize,
    },
    Diag1 {
        q: usize,
        d: [Complex64; 2],
    },
    /// 4×4 in the basis `b(q[0]) + 2 b(q[1])`, with `q[0] < q[1]`.
    Mat2 {
        q: [usize; 2],
        m: [Complex64; 16],
    },
    /// Diagonal of a two-qubit gate, same basis, `q[0] < q[1]`.
    Diag2 {
        q: [usize; 2],
        d: [Complex64; 4],
    },
    CX {
        c: usize,
        t: usize,
    },
    Swap {
        q: [usize; 2],
    },
    /// Global phase (or factor), applied once per group.
    Scalar(Complex64),
}

impl Kernel {
    /// Qubits on which the kernel acts non-diagonally (they must be inside a block).
    pub(super) fn mixing_qubits(&self) -> impl Iterator<Item = usize> {
        let (a, b) = match *self {
            Kernel::Mat1 { q, .. } | Kernel::Real1 { q, .. } | Kernel::X { q } => (Some(q), None),
            Kernel::Mat2 { q, .. } | Kernel::Swap { q } => (Some(q[0]), Some(q[1])),
            Kernel::CX { t, .. } => (Some(t), None),
            Kernel::Diag1 { .. } | Kernel::Diag2 { .. } | Kernel::Scalar(_) => (None, None),
        };
        a.into_iter().chain(b)
    }
}

/// Diagonal factors accumulated by [`simplify_diagonals`]: a scalar, phases `[1, x]` on
/// single qubits and controlled phases `[1, 1, 1, x]` on pairs.
struct DiagonalRun {
    scalar: Complex64,
    one: BTreeMap<usize, Complex64>,
    two: BTreeMap<[usize; 2], Complex64>,
}

impl DiagonalRun {
    /// Emits all controlled phases and the one-qubit phases on `qubits` (all if `None`).
    fn flush(&mut self, qubits: Option<&[usize]>, out: &mut Vec<Kernel>) {
        let hit = |q: &usize| qubits.is_none_or(|qs| qs.contains(q));
        let ones: Vec<usize> = self.one.keys().copied().filter(|q| hit(q)).collect();
        for q in ones {
            let x = self.one.remove(&q).expect("listed key");
            if x != ONE {
                out.push(Kernel::Diag1 { q, d: [ONE, x] });
            }
        }
        // Controlled phases are applied at the next mixing kernel whatever its qubits:
        // this keeps them in the cache block where their qubits were last active.
        for (q, x) in std::mem::take(&mut self.two) {
            if x != ONE {
                out.push(Kernel::Diag2 {
                    q,
                    d: [ONE, ONE, ONE, x],
                });
            }
        }
    }
}

/// Splits a complex 2×2 unitary `m` (neither diagonal nor anti-diagonal) as
/// `diag(d1) · R · diag(d2)` with `R` real, returned as `(d2, R, d1)`: `R_ij = ±|m_ij|`
/// (minus for `R_01`), `d1 = (1, u10/u00)`, `d2 = (u00, −u01)` with `u_ij = m_ij/|m_ij|`.
fn split_unitary(m: &[Complex64; 4]) -> Option<([Complex64; 2], [f64; 4], [Complex64; 2])> {
    let abs = m.map(norm);
    if abs.contains(&0.0) {
        return None;
    }
    let u = [m[0] / abs[0], m[1] / abs[1], m[2] / abs[2], m[3] / abs[3]];
    let d2 = [u[0], -u[1]];
    let d1 = [ONE, u[2] / u[0]];
    // Only unitary-like matrices whose phases are consistent can be split exactly.
    if norm(d1[1] * d2[1] - u[3]) > 1e-14 {
        return None;
    }
    Some((d2, [abs[0], -abs[1], abs[2], abs[3]], d1))
}

/// Rewrites diagonal kernels as a global scalar times one-qubit phases `diag(1, x)` and
/// controlled phases `diag(1, 1, 1, x)`, merging factors on the same qubit(s) and deferring
/// them past kernels on other qubits (diagonals commute with those). A general two-qubit
/// diagonal touching every amplitude thus becomes factors touching a half or a quarter.
pub(super) fn simplify_diagonals(kernels: Vec<Kernel>) -> Vec<Kernel> {
    let mut run = DiagonalRun {
        scalar: ONE,
        one: BTreeMap::new(),
        two: BTreeMap::new(),
    };
    let mut out = Vec::with_capacity(kernels.len());
    for k in kernels {
        match k {
            Kernel::Diag1 { q, d } if d[0] != ZERO => {
                run.scalar *= d[0];
                *run.one.entry(q).or_insert(ONE) *= d[1] / d[0];
            }
            Kernel::Diag2 { q, d } if d.iter().all(|x| *x != ZERO) => {
                run.scalar *= d[0];
                *run.one.entry(q[0]).or_insert(ONE) *= d[1] / d[0];
                *run.one.entry(q[1]).or_insert(ONE) *= d[2] / d[0];
                *run.two.entry(q).or_insert(ONE) *= d[3] * d[0] / (d[1] * d[2]);
            }
            Kernel::Scalar(c) => run.scalar *= c,
            Kernel::Mat1 { q, m } if let Some((d2, r, d1)) = split_unitary(&m) => {
                run.scalar *= d2[0] * d1[0];
                *run.one.entry(q).or_insert(ONE) *= d2[1] / d2[0];
                run.flush(Some(&[q]), &mut out);
                out.push(Kernel::Real1 { q, m: r });
                *run.one.entry(q).or_insert(ONE) *= d1[1] / d1[0];
            }
            other => {
                // Diagonal factors commute with a kernel that is diagonal on their qubits
                // (e.g. a phase on the control of a CX).
                let qs: Vec<usize> = other.mixing_qubits().collect();
                run.flush(Some(&qs), &mut out);
                out.push(other);
            }
        }
    }
    run.flush(None, &mut out);
    if run.scalar != ONE {
        out.push(Kernel::Scalar(run.scalar));
    }
    out
}

fn mul2(a: &[Complex64; 4], b: &[Complex64; 4]) -> [Complex64; 4] {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
    ]
}

fn mul4(a: &[Complex64; 16], b: &[Complex64; 16]) -> [Complex64; 16] {
    let mut m = [ZERO; 16];
    for i in 0..4 {
        for j in 0..4 {
            m[4 * i + j] = (0..4).map(|k| a[4 * i + k] * b[4 * k + j]).sum();
        }
    }
    m
}

/// A one-qubit matrix on local bit `pos` (0 or 1) of a two-qubit block.
fn embed1(g: &[Complex64; 4], pos: usize) -> [Complex64; 16] {
    let mut m = [ZERO; 16];
    for i in 0..4 {
        for j in 0..4 {
            let (gi, gj, oi, oj) = if pos == 0 {
                (i & 1, j & 1, i >> 1, j >> 1)
            } else {
                (i >> 1, j >> 1, i & 1, j & 1)
            };
            if oi == oj {
                m[4 * i + j] = g[2 * gi + gj];
            }
        }
    }
    m
}

/// Exchanges the roles of the two local qubits of a 4×4 matrix.
pub(super) fn swap_roles(m: &[Complex64; 16]) -> [Complex64; 16] {
    let sw = |i: usize| ((i & 1) << 1) | (i >> 1);
    let mut r = [ZERO; 16];
    for i in 0..4 {
        for j in 0..4 {
            r[4 * sw(i) + sw(j)] = m[4 * i + j];
        }
    }
    r
}

fn is_diag2x2(m: &[Complex64; 4]) -> bool {
    m[1] == ZERO && m[2] == ZERO
}

fn is_diag4x4(m: &[Complex64; 16]) -> bool {
    (0..16).all(|k| k % 5 == 0 || m[k] == ZERO)
}

fn kernel_from_mat1(q: usize, m: [Complex64; 4]) -> Option<Kernel> {
    if is_diag2x2(&m) {
        if m[0] == ONE && m[3] == ONE {
            None
        } else {
            Some(Kernel::Diag1 { q, d: [m[0], m[3]] })
        }
    } else if m[0] == ZERO && m[3] == ZERO && m[1] == ONE && m[2] == ONE {
        Some(Kernel::X { q })
    } else if m.iter().all(|z| z.im == 0.0) {
        Some(Kernel::Real1 {
            q,
            m: [m[0].re, m[1].re, m[2].re, m[3].re],
        })
    } else {
        Some(Kernel::Mat1 { q, m })
    }
}

fn kernel_from_mat2(q: [usize; 2], m: [Complex64; 16]) -> Kernel {
    let (q, m) = if q[0] < q[1] {
        (q, m)
    } else {
        ([q[1], q[0]], swap_roles(&m))
    };
    if is_diag4x4(&m) {
        Kernel::Diag2 {
            q,
            d: [m[0], m[5], m[10], m[15]],
        }
    } else {
        Kernel::Mat2 { q, m }
    }
}

pub(super) fn native_kernel(g: Gate, q: [usize; 2]) -> Option<Kernel> {
    match g {
        Gate::Id => None,
        Gate::X => Some(Kernel::X { q: q[0] }),
        Gate::CX => Some(Kernel::CX { c: q[0], t: q[1] }),
        Gate::Swap => Some(Kernel::Swap {
            q: [q[0].min(q[1]), q[0].max(q[1])],
        }),
        g if g.num_qubits() == 1 => kernel_from_mat1(q[0], g.mat1()),
        g => Some(kernel_from_mat2(q, g.mat2())),
    }
}

/// Pending product of one-qubit gates on a qubit.
#[derive(Clone, Copy)]
struct Pending1 {
    m: [Complex64; 4],
    count: u32,
    first: Gate,
}

/// Pending two-qubit block; basis `b(q[0]) + 2 b(q[1])`.
#[derive(Clone, Copy)]
struct Block {
    q: [usize; 2],
    m: [Complex64; 16],
    count: u32,
    first: Gate,
}

/// Greedy peephole fusion. Invariant: the pending item of a qubit (a one-qubit product or
/// a two-qubit block it shares) contains exactly the gates after everything emitted on it,
/// so emitting an item when a conflicting gate arrives preserves the circuit order.
struct Fuser {
    out: Vec<Kernel>,
    one: Vec<Option<Pending1>>,
    pair: Vec<Option<usize>>,
    blocks: Vec<Option<Block>>,
}

impl Fuser {
    fn emit_one(&mut self, q: usize) {
        if let Some(p) = self.one[q].take() {
            let k = if p.count == 1 {
                native_kernel(p.first, [q, usize::MAX])
            } else {
                kernel_from_mat1(q, p.m)
            };
            self.out.extend(k);
        }
    }

    fn emit_block(&mut self, id: usize) {
        if let Some(b) = self.blocks[id].take() {
            self.pair[b.q[0]] = None;
            self.pair[b.q[1]] = None;
            let k = if b.count == 1 {
                native_kernel(b.first, b.q)
            } else {
                Some(kernel_from_mat2(b.q, b.m))
            };
            self.out.extend(k);
        }
    }

    fn add(&mut self, g: Gate, q: [usize; 2]) {
        if g == Gate::Id {
            return;
        }
        if g.num_qubits() == 1 {
            let q = q[0];
            let m = g.mat1();
            if let Some(id) = self.pair[q] {
                let b = self.blocks[id].as_mut().expect("live block");
                // A dense one-qubit gate would turn a diagonal block dense: emit instead.
                if g.is_diagonal() || !is_diag4x4(&b.m) {
                    let pos = usize::from(b.q[1] == q);
                    b.m = mul4(&embed1(&m, pos), &b.m);
                    b.count += 1;
                    return;
                }
                self.emit_block(id);
            }
            match &mut self.one[q] {
                Some(p) => {
                    p.m = mul2(&m, &p.m);
                    p.count += 1;
                }
                slot => {
                    *slot = Some(Pending1 {
                        m,
                        count: 1,
                        first: g,
                    })
                }
            }
            return;
        }
        let [a, b] = q;
        if let (Some(ia), Some(ib)) = (self.pair[a], self.pair[b])
            && ia == ib
        {
            let blk = self.blocks[ia].as_mut().expect("live block");
            let gm = if blk.q == [a, b] {
                g.mat2()
            } else {
                swap_roles(&g.mat2())
            };
            blk.m = mul4(&gm, &blk.m);
            blk.count += 1;
            return;
        }
        for x in [a, b] {
            if let Some(id) = self.pair[x] {
                self.emit_block(id);
            }
        }
        let mut m = g.mat2();
        let mut count = 1;
        for (pos, x) in [a, b].into_iter().enumerate() {
            match self.one[x] {
                Some(p) if is_diag2x2(&p.m) => {
                    m = mul4(&m, &embed1(&p.m, pos));
                    count += p.count;
                    self.one[x] = None;
                }
                Some(_) => self.emit_one(x),
                None => {}
            }
        }
        let id = self.blocks.len();
        self.blocks.push(Some(Block {
            q: [a, b],
            m,
            count,
            first: g,
        }));
        self.pair[a] = Some(id);
        self.pair[b] = Some(id);
    }

    fn finish(mut self) -> Vec<Kernel> {
        for q in 0..self.one.len() {
            self.emit_one(q);
            if let Some(id) = self.pair[q] {
                self.emit_block(id);
            }
        }
        self.out
    }
}

pub(super) fn fuse(gates: &[(Gate, [usize; 2])], n: usize) -> Vec<Kernel> {
    let mut f = Fuser {
        out: Vec::with_capacity(gates.len()),
        one: vec![None; n],
        pair: vec![None; n],
        blocks: Vec::new(),
    };
    for &(g, q) in gates {
        f.add(g, q);
    }
    f.finish()
}

/// Kernels executed in one sweep over the state; `high` are the qubits at or above
/// `BLOCK_QUBITS - MAX_HIGH_QUBITS` that some kernel mixes.
pub(super) struct Stage {
    pub(super) high: Vec<usize>,
    pub(super) kernels: Vec<Kernel>,
}

pub(super) fn plan_stages(kernels: Vec<Kernel>, n: usize, blocking: bool) -> Vec<Stage> {
    let low = BLOCK_QUBITS - MAX_HIGH_QUBITS;
    let mut stages: Vec<Stage> = Vec::new();
    for k in kernels {
        let mut new_high: Vec<usize> = if n <= BLOCK_QUBITS {
            Vec::new()
        } else {
            k.mixing_qubits().filter(|&q| q >= low).collect()
        };
        if let Some(st) = stages.last_mut().filter(|_| blocking) {
            new_high.retain(|q| !st.high.contains(q));
            if st.high.len() + new_high.len() <= MAX_HIGH_QUBITS {
                st.high.extend(new_high);
                st.kernels.push(k);
                continue;
            }
            new_high = k.mixing_qubits().filter(|&q| q >= low).collect();
        }
        stages.push(Stage {
            high: new_high,
            kernels: vec![k],
        });
    }
    stages
}

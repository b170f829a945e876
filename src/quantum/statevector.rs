//! Dense statevector simulator for small and medium quantum circuits.
//!
//! # Model
//!
//! An `n`-qubit pure state is stored as `2^n` complex amplitudes ([`Complex64`], 16 bytes
//! each: a 24-qubit state takes 256 MiB). Gates are applied in place. Measurement is
//! projective and sampled with a caller-provided, seeded [`ChaCha8Rng`]; reset is a
//! measurement followed by a conditional `X`. Noise (see [`super::noise`]) is simulated by
//! Monte-Carlo trajectories: every shot runs its own randomly sampled pure-state evolution.
//!
//! # Conventions (those of Qiskit)
//!
//! * Qubit 0 is the least significant bit of the amplitude index: amplitude `i` belongs to
//!   the basis state `|b_{n-1} … b_1 b_0⟩` with `i = Σ_k b_k 2^k`.
//! * A two-qubit gate on `qubits = [a, b]` has its 4×4 matrix written in the basis index
//!   `b_a + 2 b_b` (the first listed qubit is the low bit), as Qiskit's `Operator` does; for
//!   [`Gate::CX`] `a` is the control and `b` the target.
//! * Gate matrices are exactly those of Qiskit's gate classes (global phase included):
//!   `RX(θ) = exp(−iθX/2)`, `RY(θ) = exp(−iθY/2)`, `RZ(θ) = diag(e^{−iθ/2}, e^{iθ/2})`,
//!   `P(λ) = diag(1, e^{iλ})`,
//!   `U(θ,φ,λ) = [[cos θ/2, −e^{iλ} sin θ/2], [e^{iφ} sin θ/2, e^{i(φ+λ)} cos θ/2]]`
//!   (Qiskit's `UGate`, equal to `U3Gate`), `CP(λ) = diag(1,1,1,e^{iλ})`,
//!   `RZZ(θ) = exp(−iθ Z⊗Z/2)`.
//! * Classical bitstrings are written with clbit 0 rightmost, as in Qiskit's `get_counts`.
//!
//! # Performance
//!
//! Single-threaded, a 24-qubit QFT from OpenQASM (parse, simulate, sample one shot) takes
//! about 2 s, against about 10–16 s for Qiskit Aer 0.18 on the same machine
//! (`bench/qft/compare_aer.sh`).
//!
//! * Kernels work in place on sub-slices (`chunks_exact_mut`/`split_at_mut`, no index
//!   arithmetic in the inner loops). Diagonal gates (`Z, S, T, RZ, P, CZ, CP, RZZ`) are
//!   element-wise phase multiplications that skip factors equal to one (a `CP` touches only
//!   the quarter of the amplitudes where both qubits are 1); `X`, `CX` and `SWAP` are block
//!   swaps; real matrices such as `H` and `RY` use real arithmetic.
//! * Gate fusion ([`SimOptions::fusion`]): runs of one-qubit gates on a qubit are multiplied
//!   into one 2×2 matrix; a two-qubit gate absorbs the gates that follow on the same pair
//!   into one 4×4 block (which collapses back to a diagonal kernel when the product is
//!   diagonal, as for `p/cx/p/cx/p` or `rz/cx/rz/cx` decompositions of `CP`). Diagonals
//!   are then factored into a global scalar, one-qubit phases `diag(1, x)` (merged per
//!   qubit and deferred until a kernel mixes that qubit) and controlled phases
//!   `diag(1,1,1,x)`; a complex 2×2 unitary is split into `diag · real · diag` so that its
//!   phases join those runs and the mixing part uses real arithmetic.
//! * Cache blocking (also part of `fusion`): consecutive kernels are grouped into *stages*
//!   that touch at most [`BLOCK_QUBITS`] "active" qubits non-diagonally (the low qubits plus
//!   up to [`MAX_HIGH_QUBITS`] high ones). A stage is executed as one sweep over the state:
//!   each group of `2^14` amplitudes (256 KiB, L2-resident) is gathered, all kernels of the
//!   stage are applied to it, and it is written back. Diagonal factors on qubits outside the
//!   group are resolved per group into phases.
//! * Groups are processed in parallel with rayon when the state has more than `2^14`
//!   amplitudes; on `wasm32` everything is strictly sequential. Every amplitude is computed
//!   by the same operations whatever the thread count, and all reductions (norms,
//!   measurement probabilities, sampling) use fixed chunks summed sequentially, so results
//!   are bit-identical for any rayon pool size.
//!
//! # References
//!
//! * Qiskit gate library and `Statevector` conventions,
//!   <https://docs.quantum.ibm.com/api/qiskit/circuit_library>.
//! * Qiskit Aer statevector simulator and its gate-fusion transpiler pass,
//!   <https://qiskit.github.io/qiskit-aer/>.
//! * T. Häner and D. S. Steiger, "0.5 Petabyte Simulation of a 45-Qubit Quantum Circuit",
//!   SC'17 (cache blocking and gate clustering), arXiv:1704.01127.
//! * E. Farhi, J. Goldstone, S. Gutmann, "A Quantum Approximate Optimization Algorithm",
//!   arXiv:1411.4028 (QAOA, used by [`qaoa`]).

use crate::math::{Det, cis, norm};
use std::collections::BTreeMap;
use std::f64::consts::FRAC_1_SQRT_2;

use num_complex::Complex64;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
#[cfg(not(target_arch = "wasm32"))]
use rayon::prelude::*;

use super::noise::NoiseModel;

const ONE: Complex64 = Complex64::new(1.0, 0.0);
const ZERO: Complex64 = Complex64::new(0.0, 0.0);

/// Number of active qubits of a cache block: a group holds `2^14` amplitudes (256 KiB).
/// States of at most this many qubits are processed as a single block, sequentially.
pub const BLOCK_QUBITS: usize = 14;
/// Maximum number of high (outside the contiguous low block) qubits a stage may act on
/// non-diagonally.
pub const MAX_HIGH_QUBITS: usize = 3;
/// Fixed chunk length for reductions (sums of probabilities), independent of thread count.
const SUM_CHUNK: usize = 1 << 12;

/// A quantum gate with its parameters (angles in radians).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Gate {
    /// Identity (a physical no-op that still takes a single-qubit gate time under noise).
    Id,
    H,
    X,
    Y,
    Z,
    S,
    Sdg,
    T,
    Tdg,
    RX(f64),
    RY(f64),
    RZ(f64),
    /// Phase gate `diag(1, e^{iλ})` (Qiskit's `PhaseGate`, qelib1's `u1`).
    P(f64),
    /// Qiskit's `UGate(θ, φ, λ)` (= `U3Gate`).
    U(f64, f64, f64),
    /// Controlled X; qubits `[control, target]`.
    CX,
    CZ,
    /// Controlled phase `diag(1,1,1,e^{iλ})` (Qiskit's `CPhaseGate`, qelib1's `cu1`).
    CP(f64),
    Swap,
    /// `exp(−iθ Z⊗Z/2)`.
    RZZ(f64),
}

impl Gate {
    /// Number of qubits the gate acts on (1 or 2).
    pub fn num_qubits(self) -> usize {
        match self {
            Gate::CX | Gate::CZ | Gate::CP(_) | Gate::Swap | Gate::RZZ(_) => 2,
            _ => 1,
        }
    }

    /// Lower-case OpenQASM name of the gate.
    pub fn name(self) -> &'static str {
        match self {
            Gate::Id => "id",
            Gate::H => "h",
            Gate::X => "x",
            Gate::Y => "y",
            Gate::Z => "z",
            Gate::S => "s",
            Gate::Sdg => "sdg",
            Gate::T => "t",
            Gate::Tdg => "tdg",
            Gate::RX(_) => "rx",
            Gate::RY(_) => "ry",
            Gate::RZ(_) => "rz",
            Gate::P(_) => "p",
            Gate::U(..) => "u",
            Gate::CX => "cx",
            Gate::CZ => "cz",
            Gate::CP(_) => "cp",
            Gate::Swap => "swap",
            Gate::RZZ(_) => "rzz",
        }
    }

    /// Whether the gate matrix is diagonal in the computational basis.
    pub fn is_diagonal(self) -> bool {
        matches!(
            self,
            Gate::Id
                | Gate::Z
                | Gate::S
                | Gate::Sdg
                | Gate::T
                | Gate::Tdg
                | Gate::RZ(_)
                | Gate::P(_)
                | Gate::CZ
                | Gate::CP(_)
                | Gate::RZZ(_)
        )
    }

    /// The gate's unitary, row-major, `2^k × 2^k` for a `k`-qubit gate (see the module
    /// docs for the basis ordering).
    pub fn matrix(self) -> Vec<Complex64> {
        if self.num_qubits() == 1 {
            self.mat1().to_vec()
        } else {
            self.mat2().to_vec()
        }
    }

    fn mat1(self) -> [Complex64; 4] {
        let c = Complex64::new;
        let diag = |a: Complex64, b: Complex64| [a, ZERO, ZERO, b];
        match self {
            Gate::Id => diag(ONE, ONE),
            Gate::H => {
                let s = FRAC_1_SQRT_2;
                [c(s, 0.0), c(s, 0.0), c(s, 0.0), c(-s, 0.0)]
            }
            Gate::X => [ZERO, ONE, ONE, ZERO],
            Gate::Y => [ZERO, c(0.0, -1.0), c(0.0, 1.0), ZERO],
            Gate::Z => diag(ONE, -ONE),
            Gate::S => diag(ONE, Complex64::I),
            Gate::Sdg => diag(ONE, -Complex64::I),
            Gate::T => diag(ONE, cis(std::f64::consts::FRAC_PI_4)),
            Gate::Tdg => diag(ONE, cis(-std::f64::consts::FRAC_PI_4)),
            Gate::RX(t) => {
                let (s, co) = (t / 2.0).sin_cos_d();
                [c(co, 0.0), c(0.0, -s), c(0.0, -s), c(co, 0.0)]
            }
            Gate::RY(t) => {
                let (s, co) = (t / 2.0).sin_cos_d();
                [c(co, 0.0), c(-s, 0.0), c(s, 0.0), c(co, 0.0)]
            }
            Gate::RZ(t) => diag(cis(-t / 2.0), cis(t / 2.0)),
            Gate::P(l) => diag(ONE, cis(l)),
            Gate::U(t, p, l) => {
                let (s, co) = (t / 2.0).sin_cos_d();
                [c(co, 0.0), -cis(l) * s, cis(p) * s, cis(p + l) * co]
            }
            Gate::CX | Gate::CZ | Gate::CP(_) | Gate::Swap | Gate::RZZ(_) => {
                panic!("{} is a two-qubit gate", self.name())
            }
        }
    }

    fn mat2(self) -> [Complex64; 16] {
        let mut m = [ZERO; 16];
        let mut set_diag = |d: [Complex64; 4]| {
            for (k, v) in d.into_iter().enumerate() {
                m[5 * k] = v;
            }
        };
        match self {
            Gate::CX => {
                // index = control + 2·target: |c=1,t=0⟩ (1) ↔ |c=1,t=1⟩ (3).
                m[0] = ONE;
                m[4 + 3] = ONE;
                m[2 * 4 + 2] = ONE;
                m[3 * 4 + 1] = ONE;
            }
            Gate::CZ => set_diag([ONE, ONE, ONE, -ONE]),
            Gate::CP(l) => set_diag([ONE, ONE, ONE, cis(l)]),
            Gate::RZZ(t) => {
                let (a, b) = (cis(-t / 2.0), cis(t / 2.0));
                set_diag([a, b, b, a]);
            }
            Gate::Swap => {
                m[0] = ONE;
                m[4 + 2] = ONE;
                m[2 * 4 + 1] = ONE;
                m[15] = ONE;
            }
            _ => panic!("{} is a one-qubit gate", self.name()),
        }
        m
    }
}

/// One circuit instruction.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// A unitary gate on `qubits` (length [`Gate::num_qubits`]).
    Gate { gate: Gate, qubits: Vec<usize> },
    /// Projective Z-basis measurement of `qubit` into classical bit `clbit`.
    Measure { qubit: usize, clbit: usize },
    /// Reset of `qubit` to `|0⟩`.
    Reset { qubit: usize },
    /// Scheduling barrier across `qubits` (all qubits if empty); a no-op for the state.
    Barrier { qubits: Vec<usize> },
    /// Idle time on `qubit`, in seconds; an identity without noise, thermal relaxation with.
    Delay { qubit: usize, duration_s: f64 },
}

/// A quantum circuit: `num_qubits` qubits, `num_clbits` classical bits and a list of ops.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Circuit {
    pub num_qubits: usize,
    pub num_clbits: usize,
    pub ops: Vec<Op>,
}

impl Circuit {
    /// An empty circuit.
    pub fn new(num_qubits: usize, num_clbits: usize) -> Self {
        Self {
            num_qubits,
            num_clbits,
            ops: Vec::new(),
        }
    }

    /// Appends `op`.
    ///
    /// # Panics
    /// If a qubit or clbit index is out of range, a gate gets the wrong number of qubits,
    /// or a gate lists the same qubit twice.
    pub fn push(&mut self, op: Op) -> &mut Self {
        let nq = self.num_qubits;
        let check = |q: usize| assert!(q < nq, "qubit {q} out of range (circuit has {nq})");
        match &op {
            Op::Gate { gate, qubits } => {
                assert_eq!(
                    qubits.len(),
                    gate.num_qubits(),
                    "{} acts on {} qubit(s)",
                    gate.name(),
                    gate.num_qubits()
                );
                qubits.iter().copied().for_each(check);
                assert!(
                    qubits.len() < 2 || qubits[0] != qubits[1],
                    "{} on a repeated qubit",
                    gate.name()
                );
            }
            Op::Measure { qubit, clbit } => {
                check(*qubit);
                assert!(*clbit < self.num_clbits, "clbit {clbit} out of range");
            }
            Op::Reset { qubit } | Op::Delay { qubit, .. } => check(*qubit),
            Op::Barrier { qubits } => qubits.iter().copied().for_each(check),
        }
        self.ops.push(op);
        self
    }

    /// Appends a gate.
    pub fn gate(&mut self, gate: Gate, qubits: &[usize]) -> &mut Self {
        self.push(Op::Gate {
            gate,
            qubits: qubits.to_vec(),
        })
    }

    pub fn h(&mut self, q: usize) -> &mut Self {
        self.gate(Gate::H, &[q])
    }

    pub fn x(&mut self, q: usize) -> &mut Self {
        self.gate(Gate::X, &[q])
    }

    pub fn rx(&mut self, theta: f64, q: usize) -> &mut Self {
        self.gate(Gate::RX(theta), &[q])
    }

    pub fn rz(&mut self, theta: f64, q: usize) -> &mut Self {
        self.gate(Gate::RZ(theta), &[q])
    }

    pub fn cx(&mut self, control: usize, target: usize) -> &mut Self {
        self.gate(Gate::CX, &[control, target])
    }

    pub fn cp(&mut self, lambda: f64, a: usize, b: usize) -> &mut Self {
        self.gate(Gate::CP(lambda), &[a, b])
    }

    pub fn rzz(&mut self, theta: f64, a: usize, b: usize) -> &mut Self {
        self.gate(Gate::RZZ(theta), &[a, b])
    }

    pub fn swap(&mut self, a: usize, b: usize) -> &mut Self {
        self.gate(Gate::Swap, &[a, b])
    }

    pub fn measure(&mut self, qubit: usize, clbit: usize) -> &mut Self {
        self.push(Op::Measure { qubit, clbit })
    }

    pub fn reset(&mut self, qubit: usize) -> &mut Self {
        self.push(Op::Reset { qubit })
    }

    pub fn barrier(&mut self, qubits: &[usize]) -> &mut Self {
        self.push(Op::Barrier {
            qubits: qubits.to_vec(),
        })
    }

    pub fn delay(&mut self, qubit: usize, duration_s: f64) -> &mut Self {
        self.push(Op::Delay { qubit, duration_s })
    }

    /// Measures qubit `k` into clbit `k` for every qubit (growing `num_clbits` if needed).
    pub fn measure_all(&mut self) -> &mut Self {
        self.num_clbits = self.num_clbits.max(self.num_qubits);
        for q in 0..self.num_qubits {
            self.measure(q, q);
        }
        self
    }

    /// For every op, whether it is a *terminal* measurement: nothing but measurements,
    /// barriers and delays follow on its qubit, and no later mid-circuit measurement
    /// overwrites its clbit. Terminal measurements can be sampled from the final state.
    pub fn terminal_measurements(&self) -> Vec<bool> {
        let mut touched = vec![false; self.num_qubits];
        let mut terminal = vec![false; self.ops.len()];
        for (i, op) in self.ops.iter().enumerate().rev() {
            match op {
                Op::Gate { qubits, .. } => qubits.iter().for_each(|&q| touched[q] = true),
                Op::Reset { qubit } => touched[*qubit] = true,
                Op::Measure { qubit, .. } => terminal[i] = !touched[*qubit],
                Op::Barrier { .. } | Op::Delay { .. } => {}
            }
        }
        // A terminal measurement must not be overwritten by a later non-terminal one.
        loop {
            let mut changed = false;
            let mut overwritten = vec![false; self.num_clbits];
            for (i, op) in self.ops.iter().enumerate().rev() {
                if let Op::Measure { clbit, .. } = op {
                    if terminal[i] && overwritten[*clbit] {
                        terminal[i] = false;
                        changed = true;
                    }
                    if !terminal[i] {
                        overwritten[*clbit] = true;
                    }
                }
            }
            if !changed {
                return terminal;
            }
        }
    }

    /// Whether the final distribution can be sampled directly: no resets and only terminal
    /// measurements.
    pub fn is_sampleable_at_end(&self) -> bool {
        let terminal = self.terminal_measurements();
        self.ops.iter().enumerate().all(|(i, op)| match op {
            Op::Measure { .. } => terminal[i],
            Op::Reset { .. } => false,
            _ => true,
        })
    }
}

/// Simulation switches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimOptions {
    /// Gate fusion and cache-blocked multi-gate sweeps (see the module docs). With `false`
    /// every gate is applied on its own, which is slower but a useful reference.
    pub fusion: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self { fusion: true }
    }
}

/// Instruction of a (possibly noisy) trajectory, produced from a [`Circuit`] by
/// [`noiseless_trajectory`] or by the noise model.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Inst {
    Gate(Gate, [usize; 2]),
    /// Projective measurement; the recorded bit is the outcome XOR `flip` (readout error).
    Measure {
        qubit: usize,
        clbit: usize,
        flip: bool,
    },
    Reset {
        qubit: usize,
    },
    /// Generalized amplitude damping towards the thermal state (excited population
    /// `p_exc`) with damping probability `gamma`, sampled as a quantum jump.
    AmpDamp {
        qubit: usize,
        gamma: f64,
        p_exc: f64,
    },
}

/// A trajectory: instructions, then terminal measurements `(qubit, clbit, flip)` that are
/// sampled together from the final state.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trajectory {
    pub insts: Vec<Inst>,
    pub terminal: Vec<(usize, usize, bool)>,
}

/// The noiseless trajectory of `circuit` (terminal measurements deferred).
pub(crate) fn noiseless_trajectory(circuit: &Circuit, terminal: &[bool]) -> Trajectory {
    let mut tr = Trajectory::default();
    for (i, op) in circuit.ops.iter().enumerate() {
        match op {
            Op::Gate { gate, qubits } => tr.insts.push(Inst::Gate(*gate, qubit_pair(qubits))),
            Op::Measure { qubit, clbit } if terminal[i] => {
                tr.terminal.push((*qubit, *clbit, false))
            }
            Op::Measure { qubit, clbit } => tr.insts.push(Inst::Measure {
                qubit: *qubit,
                clbit: *clbit,
                flip: false,
            }),
            Op::Reset { qubit } => tr.insts.push(Inst::Reset { qubit: *qubit }),
            Op::Barrier { .. } | Op::Delay { .. } => {}
        }
    }
    tr
}

pub(crate) fn qubit_pair(qubits: &[usize]) -> [usize; 2] {
    [qubits[0], qubits.get(1).copied().unwrap_or(usize::MAX)]
}

/// An `n`-qubit pure state.
#[derive(Clone, Debug, PartialEq)]
pub struct StateVector {
    num_qubits: usize,
    amps: Vec<Complex64>,
}

impl StateVector {
    /// `|0…0⟩` on `num_qubits` qubits.
    pub fn new(num_qubits: usize) -> Self {
        assert!(num_qubits < usize::BITS as usize - 5, "too many qubits");
        let mut amps = vec![ZERO; 1 << num_qubits];
        amps[0] = ONE;
        Self { num_qubits, amps }
    }

    /// A state from explicit amplitudes (length must be a power of two; not normalised).
    pub fn from_amplitudes(amps: Vec<Complex64>) -> Self {
        assert!(
            amps.len().is_power_of_two(),
            "length must be a power of two"
        );
        Self {
            num_qubits: amps.len().trailing_zeros() as usize,
            amps,
        }
    }

    pub fn num_qubits(&self) -> usize {
        self.num_qubits
    }

    /// Amplitudes in Qiskit's index order (qubit 0 = least significant bit).
    pub fn amplitudes(&self) -> &[Complex64] {
        &self.amps
    }

    pub fn amplitudes_mut(&mut self) -> &mut [Complex64] {
        &mut self.amps
    }

    pub fn into_amplitudes(self) -> Vec<Complex64> {
        self.amps
    }

    /// Resets to `|0…0⟩` without reallocating.
    pub fn set_zero_state(&mut self) {
        self.amps.fill(ZERO);
        self.amps[0] = ONE;
    }

    /// Applies one gate.
    ///
    /// # Panics
    /// On a wrong qubit count, an out-of-range or a repeated qubit.
    pub fn apply_gate(&mut self, gate: Gate, qubits: &[usize]) {
        assert_eq!(qubits.len(), gate.num_qubits(), "wrong qubit count");
        assert!(
            qubits.iter().all(|&q| q < self.num_qubits),
            "qubit out of range"
        );
        assert!(qubits.len() < 2 || qubits[0] != qubits[1], "repeated qubit");
        self.apply_gates(&[(gate, qubit_pair(qubits))], &SimOptions { fusion: false });
    }

    /// Applies a list of gates, fused and cache-blocked when `opts.fusion`.
    pub(crate) fn apply_gates(&mut self, gates: &[(Gate, [usize; 2])], opts: &SimOptions) {
        let n = self.num_qubits;
        let kernels = if opts.fusion {
            simplify_diagonals(fuse(gates, n))
        } else {
            gates
                .iter()
                .filter_map(|&(g, q)| native_kernel(g, q))
                .collect()
        };
        for stage in plan_stages(kernels, n, opts.fusion) {
            run_stage(&mut self.amps, n, &stage);
        }
    }

    /// Runs `circuit` on this state: gates, mid-circuit and final measurements (collapsing
    /// the state, outcomes drawn from `rng`), resets; barriers and delays are no-ops.
    /// Returns the classical register (index = clbit).
    pub fn apply_circuit(
        &mut self,
        circuit: &Circuit,
        opts: &SimOptions,
        rng: &mut ChaCha8Rng,
    ) -> Vec<bool> {
        assert_eq!(circuit.num_qubits, self.num_qubits, "qubit count mismatch");
        let tr = noiseless_trajectory(circuit, &vec![false; circuit.ops.len()]);
        let mut clbits = vec![false; circuit.num_clbits];
        self.run_insts(&tr.insts, opts, rng, &mut clbits);
        clbits
    }

    pub(crate) fn run_insts(
        &mut self,
        insts: &[Inst],
        opts: &SimOptions,
        rng: &mut ChaCha8Rng,
        clbits: &mut [bool],
    ) {
        let mut i = 0;
        let mut gates = Vec::new();
        while i < insts.len() {
            gates.clear();
            while let Some(Inst::Gate(g, q)) = insts.get(i) {
                gates.push((*g, *q));
                i += 1;
            }
            if !gates.is_empty() {
                self.apply_gates(&gates, opts);
                continue;
            }
            match insts[i] {
                Inst::Measure { qubit, clbit, flip } => {
                    clbits[clbit] = self.measure(qubit, rng) ^ flip
                }
                Inst::Reset { qubit } => self.reset(qubit, rng),
                Inst::AmpDamp {
                    qubit,
                    gamma,
                    p_exc,
                } => self.amplitude_damp(qubit, gamma, p_exc, rng),
                Inst::Gate(..) => unreachable!("gates are handled above"),
            }
            i += 1;
        }
    }

    /// Squared norm `Σ|a_i|²` (deterministic fixed-chunk summation).
    pub fn norm_sqr(&self) -> f64 {
        let [p0, p1] = self.qubit_probabilities(0);
        p0 + p1
    }

    /// Probabilities `|a_i|²` of all basis states, in index order.
    pub fn probabilities(&self) -> Vec<f64> {
        #[cfg(not(target_arch = "wasm32"))]
        if self.amps.len() > 1 << BLOCK_QUBITS {
            return self.amps.par_iter().map(|a| a.norm_sqr()).collect();
        }
        self.amps.iter().map(|a| a.norm_sqr()).collect()
    }

    /// Unnormalised weights `[Σ_{b_q=0}|a|², Σ_{b_q=1}|a|²]` of qubit `q`'s two outcomes.
    pub fn qubit_probabilities(&self, q: usize) -> [f64; 2] {
        assert!(q < self.num_qubits.max(1), "qubit out of range");
        let parts = chunk_map(&self.amps, |chunk, start| {
            let mut s = [0.0; 2];
            if 1 << q >= chunk.len() {
                s[(start >> q) & 1] = chunk.iter().map(|a| a.norm_sqr()).sum();
            } else {
                for blk in chunk.chunks_exact(2 << q) {
                    let (lo, hi) = blk.split_at(1 << q);
                    s[0] += lo.iter().map(|a| a.norm_sqr()).sum::<f64>();
                    s[1] += hi.iter().map(|a| a.norm_sqr()).sum::<f64>();
                }
            }
            s
        });
        parts
            .iter()
            .fold([0.0; 2], |acc, p| [acc[0] + p[0], acc[1] + p[1]])
    }

    /// Probability that measuring qubit `q` gives 1 (the state need not be normalised).
    pub fn probability_one(&self, q: usize) -> f64 {
        let [p0, p1] = self.qubit_probabilities(q);
        p1 / (p0 + p1)
    }

    /// Projective measurement of qubit `q`: samples the outcome, collapses and renormalises.
    pub fn measure(&mut self, q: usize, rng: &mut ChaCha8Rng) -> bool {
        let [p0, p1] = self.qubit_probabilities(q);
        let one = rng.random::<f64>() * (p0 + p1) < p1;
        let d = if one {
            [ZERO, Complex64::new(1.0 / p1.sqrt(), 0.0)]
        } else {
            [Complex64::new(1.0 / p0.sqrt(), 0.0), ZERO]
        };
        self.apply_kernel(Kernel::Diag1 { q, d });
        one
    }

    /// Resets qubit `q` to `|0⟩` (measurement, then `X` on outcome 1).
    pub fn reset(&mut self, q: usize, rng: &mut ChaCha8Rng) {
        if self.measure(q, rng) {
            self.apply_kernel(Kernel::X { q });
        }
    }

    /// One quantum-jump step of generalized amplitude damping on qubit `q`: Kraus operators
    /// `√(1−p)·diag(1, √(1−γ))`, `√(1−p)·√γ|0⟩⟨1|`, `√p·diag(√(1−γ), 1)`, `√p·√γ|1⟩⟨0|`
    /// with `p = p_exc`, one chosen with probability `‖K ψ‖²`.
    pub fn amplitude_damp(&mut self, q: usize, gamma: f64, p_exc: f64, rng: &mut ChaCha8Rng) {
        let [w0, w1] = self.qubit_probabilities(q);
        let (r0, r1) = (w0 / (w0 + w1), w1 / (w0 + w1));
        let (p0, p1) = (1.0 - p_exc, p_exc);
        let probs = [
            p0 * (r0 + (1.0 - gamma) * r1),
            p0 * gamma * r1,
            p1 * ((1.0 - gamma) * r0 + r1),
            p1 * gamma * r0,
        ];
        let total: f64 = probs.iter().sum();
        let mut u = rng.random::<f64>() * total;
        let mut k = 3;
        for (j, p) in probs.iter().enumerate() {
            if u < *p {
                k = j;
                break;
            }
            u -= p;
        }
        if probs[k] <= 0.0 {
            return;
        }
        // Kraus operator divided by √(weight): renormalises the state.
        let s = 1.0 / (probs[k] * (w0 + w1)).sqrt();
        let c = |x: f64| Complex64::new(x * s, 0.0);
        let g = (1.0 - gamma).sqrt();
        let kernel = match k {
            0 => Kernel::Diag1 {
                q,
                d: [c(p0.sqrt()), c(p0.sqrt() * g)],
            },
            1 => Kernel::Mat1 {
                q,
                m: [ZERO, c((p0 * gamma).sqrt()), ZERO, ZERO],
            },
            2 => Kernel::Diag1 {
                q,
                d: [c(p1.sqrt() * g), c(p1.sqrt())],
            },
            _ => Kernel::Mat1 {
                q,
                m: [ZERO, ZERO, c((p1 * gamma).sqrt()), ZERO],
            },
        };
        self.apply_kernel(kernel);
    }

    fn apply_kernel(&mut self, k: Kernel) {
        let n = self.num_qubits;
        for stage in plan_stages(vec![k], n, false) {
            run_stage(&mut self.amps, n, &stage);
        }
    }

    /// Draws `shots` basis-state indices from `|a_i|²` and returns `(index, count)` pairs in
    /// increasing index order. Cost `O(2^n + shots·log shots)`; the result depends only on
    /// the state and the RNG stream, not on the thread count.
    pub fn sample_indices(&self, shots: u64, rng: &mut ChaCha8Rng) -> Vec<(usize, u64)> {
        if shots == 0 {
            return Vec::new();
        }
        let sums = chunk_map(&self.amps, |c, _| {
            c.iter().map(|a| a.norm_sqr()).sum::<f64>()
        });
        let total: f64 = sums.iter().sum();
        let mut us: Vec<f64> = (0..shots).map(|_| rng.random::<f64>() * total).collect();
        us.sort_by(f64::total_cmp);
        let mut out: Vec<(usize, u64)> = Vec::new();
        let (mut c, mut chunk_cum) = (0usize, 0.0f64);
        let (mut pos, mut cum) = (0usize, 0.0f64);
        let mut last_nonzero = None;
        for u in us {
            while c + 1 < sums.len() && chunk_cum + sums[c] <= u {
                chunk_cum += sums[c];
                c += 1;
                pos = 0;
                cum = chunk_cum;
                last_nonzero = None;
            }
            let chunk = &self.amps[c * SUM_CHUNK..((c + 1) * SUM_CHUNK).min(self.amps.len())];
            let idx = loop {
                let p = chunk[pos].norm_sqr();
                if p > 0.0 {
                    if cum + p > u {
                        break c * SUM_CHUNK + pos;
                    }
                    last_nonzero = Some(pos);
                }
                if pos + 1 == chunk.len() {
                    // Rounding left `u` past the last element: take the last populated one.
                    break c * SUM_CHUNK + last_nonzero.unwrap_or(pos);
                }
                cum += p;
                pos += 1;
            };
            match out.last_mut() {
                Some((i, k)) if *i == idx => *k += 1,
                _ => out.push((idx, 1)),
            }
        }
        out
    }

    /// Inner product `⟨self|other⟩`.
    pub fn inner(&self, other: &StateVector) -> Complex64 {
        assert_eq!(self.num_qubits, other.num_qubits);
        self.amps
            .iter()
            .zip(&other.amps)
            .map(|(a, b)| a.conj() * b)
            .sum()
    }
}

/// Maps fixed-size chunks (`SUM_CHUNK`) of `amps` with `f(chunk, start_index)`, in parallel
/// for large states; the result order is the chunk order, so later folds are deterministic.
fn chunk_map<T, F>(amps: &[Complex64], f: F) -> Vec<T>
where
    T: Send,
    F: Fn(&[Complex64], usize) -> T + Sync + Send,
{
    #[cfg(not(target_arch = "wasm32"))]
    if amps.len() > 1 << BLOCK_QUBITS {
        return amps
            .par_chunks(SUM_CHUNK)
            .enumerate()
            .map(|(i, c)| f(c, i * SUM_CHUNK))
            .collect();
    }
    amps.chunks(SUM_CHUNK)
        .enumerate()
        .map(|(i, c)| f(c, i * SUM_CHUNK))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Sampling whole circuits
// ---------------------------------------------------------------------------------------

/// Counts and final state of a sampled circuit.
#[derive(Clone, Debug)]
pub struct SimResult {
    /// Bitstring (clbit 0 rightmost) → number of shots.
    pub counts: BTreeMap<String, u64>,
    /// The noiseless state at the end of the circuit with its terminal measurements removed
    /// (mid-circuit measurements and resets are sampled with the run's seed).
    pub statevector: StateVector,
}

/// Samples `shots` shots of `circuit` with default options (fusion on).
///
/// Without noise and with only terminal measurements the state is simulated once and the
/// shots are drawn from its final distribution; otherwise every shot is a trajectory.
pub fn sample_counts(
    circuit: &Circuit,
    shots: u64,
    seed: u64,
    noise: Option<&NoiseModel>,
) -> BTreeMap<String, u64> {
    sample_counts_with(circuit, shots, seed, noise, &SimOptions::default())
}

/// [`sample_counts`] with explicit options.
pub fn sample_counts_with(
    circuit: &Circuit,
    shots: u64,
    seed: u64,
    noise: Option<&NoiseModel>,
    opts: &SimOptions,
) -> BTreeMap<String, u64> {
    run_shots(circuit, shots, seed, noise, opts, false).0
}

/// Samples `circuit` and also returns its noiseless final state (see [`SimResult`]).
pub fn simulate(
    circuit: &Circuit,
    shots: u64,
    seed: u64,
    noise: Option<&NoiseModel>,
    opts: &SimOptions,
) -> SimResult {
    let (counts, state) = run_shots(circuit, shots, seed, noise, opts, true);
    SimResult {
        counts,
        statevector: state.expect("state requested"),
    }
}

/// RNG of one shot: the seed's ChaCha8 stream `shot + 1` (stream 0 is used for the single
/// noiseless run).
fn shot_rng(seed: u64, shot: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(shot.wrapping_add(1));
    rng
}

fn run_shots(
    circuit: &Circuit,
    shots: u64,
    seed: u64,
    noise: Option<&NoiseModel>,
    opts: &SimOptions,
    want_state: bool,
) -> (BTreeMap<String, u64>, Option<StateVector>) {
    let n = circuit.num_qubits;
    let terminal = circuit.terminal_measurements();
    let noiseless = noiseless_trajectory(circuit, &terminal);
    let fast = noise.is_none() && circuit.is_sampleable_at_end();
    let mut state = None;
    if want_state || fast {
        let mut sv = StateVector::new(n);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut clbits = vec![false; circuit.num_clbits];
        sv.run_insts(&noiseless.insts, opts, &mut rng, &mut clbits);
        if fast {
            let mut counts = BTreeMap::new();
            for (idx, k) in sv.sample_indices(shots, &mut rng) {
                for &(q, c, _) in &noiseless.terminal {
                    clbits[c] = (idx >> q) & 1 == 1;
                }
                *counts.entry(bitstring(&clbits)).or_insert(0) += k;
            }
            return (counts, Some(sv));
        }
        state = Some(sv);
    }
    let one_shot = |sv: &mut StateVector, shot: u64| -> String {
        let mut rng = shot_rng(seed, shot);
        let noisy;
        let tr = match noise {
            Some(model) => {
                noisy = model.trajectory(circuit, &terminal, &mut rng);
                &noisy
            }
            None => &noiseless,
        };
        sv.set_zero_state();
        let mut clbits = vec![false; circuit.num_clbits];
        sv.run_insts(&tr.insts, opts, &mut rng, &mut clbits);
        if !tr.terminal.is_empty() {
            let idx = sv.sample_indices(1, &mut rng)[0].0;
            for &(q, c, flip) in &tr.terminal {
                clbits[c] = ((idx >> q) & 1 == 1) ^ flip;
            }
        }
        bitstring(&clbits)
    };
    #[cfg(not(target_arch = "wasm32"))]
    if n < BLOCK_QUBITS && shots > 1 {
        // Small states: parallel over shots (each shot has its own RNG stream, and
        // counting is order independent, so the result does not depend on threads).
        let counts = (0..shots)
            .into_par_iter()
            .fold(
                || (StateVector::new(n), BTreeMap::new()),
                |(mut sv, mut counts), shot| {
                    *counts.entry(one_shot(&mut sv, shot)).or_insert(0) += 1;
                    (sv, counts)
                },
            )
            .map(|(_, counts)| counts)
            .reduce(BTreeMap::new, |mut a, b| {
                for (k, v) in b {
                    *a.entry(k).or_insert(0) += v;
                }
                a
            });
        return (counts, state);
    }
    let mut sv = StateVector::new(n);
    let mut counts = BTreeMap::new();
    for shot in 0..shots {
        *counts.entry(one_shot(&mut sv, shot)).or_insert(0) += 1;
    }
    (counts, state)
}

/// Qiskit-style bitstring of a classical register: clbit 0 is the rightmost character.
pub fn bitstring(clbits: &[bool]) -> String {
    clbits
        .iter()
        .rev()
        .map(|&b| if b { '1' } else { '0' })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Kernels, fusion and staging
// ---------------------------------------------------------------------------------------

/// A gate (or fused product of gates) prepared for application; global qubit indices.
#[derive(Clone, Debug, PartialEq)]
enum Kernel {
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
    fn mixing_qubits(&self) -> impl Iterator<Item = usize> {
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
fn simplify_diagonals(kernels: Vec<Kernel>) -> Vec<Kernel> {
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
fn swap_roles(m: &[Complex64; 16]) -> [Complex64; 16] {
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

fn native_kernel(g: Gate, q: [usize; 2]) -> Option<Kernel> {
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

fn fuse(gates: &[(Gate, [usize; 2])], n: usize) -> Vec<Kernel> {
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
struct Stage {
    high: Vec<usize>,
    kernels: Vec<Kernel>,
}

fn plan_stages(kernels: Vec<Kernel>, n: usize, blocking: bool) -> Vec<Stage> {
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

fn run_stage(amps: &mut [Complex64], n: usize, stage: &Stage) {
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

// ---------------------------------------------------------------------------------------
// QAOA helpers
// ---------------------------------------------------------------------------------------

/// QAOA for MaxCut (Farhi, Goldstone, Gutmann 2014).
///
/// The cost operator is `C = Σ_{(i,j)∈E} (1 − Z_i Z_j)/2` (the cut size) and the mixer
/// `B = Σ_i X_i`; layer `k` applies `e^{−iβ_k B} e^{−iγ_k C}` to `|+⟩^{⊗n}`. Up to a global
/// phase `e^{−iγ(1 − ZZ)/2} = RZZ(−γ)` and `e^{−iβX} = RX(2β)`. Node `i` is qubit `i` and
/// clbit `i` (rightmost character of a bitstring for node 0).
pub mod qaoa {
    use std::collections::BTreeMap;

    use super::{Circuit, Gate, StateVector};

    /// The QAOA circuit for `edges` on `num_nodes` qubits with one `(γ, β)` pair per layer,
    /// optionally measuring every qubit `i` into clbit `i`.
    pub fn maxcut_circuit(
        num_nodes: usize,
        edges: &[(usize, usize)],
        gammas: &[f64],
        betas: &[f64],
        measure: bool,
    ) -> Circuit {
        assert_eq!(gammas.len(), betas.len(), "one beta per gamma");
        let mut c = Circuit::new(num_nodes, if measure { num_nodes } else { 0 });
        for q in 0..num_nodes {
            c.h(q);
        }
        for (&g, &b) in gammas.iter().zip(betas) {
            for &(i, j) in edges {
                c.gate(Gate::RZZ(-g), &[i, j]);
            }
            for q in 0..num_nodes {
                c.rx(2.0 * b, q);
            }
        }
        if measure {
            c.measure_all();
        }
        c
    }

    /// Number of edges cut by the node partition `assignment` (bit `i` = side of node `i`).
    pub fn cut_value(assignment: usize, edges: &[(usize, usize)]) -> usize {
        edges
            .iter()
            .filter(|&&(i, j)| ((assignment >> i) ^ (assignment >> j)) & 1 == 1)
            .count()
    }

    /// Maximum cut by brute force; `None` for more than 20 nodes.
    pub fn max_cut(num_nodes: usize, edges: &[(usize, usize)]) -> Option<usize> {
        if num_nodes > 20 {
            return None;
        }
        // Node 0 can stay on side 0 (the cut is symmetric under complement).
        let half = 1usize << num_nodes.saturating_sub(1);
        Some((0..half).map(|a| cut_value(a, edges)).max().unwrap_or(0))
    }

    /// Exact expectation of the cut size `⟨C⟩` in `state`.
    pub fn expected_cut(state: &StateVector, edges: &[(usize, usize)]) -> f64 {
        state
            .probabilities()
            .iter()
            .enumerate()
            .map(|(a, p)| p * cut_value(a, edges) as f64)
            .sum()
    }

    /// Mean sampled cut divided by the maximum cut (`None` without shots or for more than
    /// 20 nodes). Bitstrings are read with node 0 rightmost.
    pub fn approximation_ratio(
        counts: &BTreeMap<String, u64>,
        num_nodes: usize,
        edges: &[(usize, usize)],
    ) -> Option<f64> {
        let best = max_cut(num_nodes, edges)?;
        let shots: u64 = counts.values().sum();
        if shots == 0 {
            return None;
        }
        if best == 0 {
            return Some(1.0);
        }
        let total: f64 = counts
            .iter()
            .map(|(bits, &k)| {
                let a = bits
                    .chars()
                    .rev()
                    .take(num_nodes)
                    .enumerate()
                    .fold(0usize, |acc, (i, ch)| acc | (usize::from(ch == '1') << i));
                k as f64 * cut_value(a, edges) as f64
            })
            .sum();
        Some(total / (shots as f64 * best as f64))
    }
}

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
//!   arXiv:1411.4028 (QAOA, used by [`super::qaoa`]).
//!
//! # Files
//!
//! * `circuit.rs` — gates, operations, [`Circuit`], trajectories.
//! * `state.rs` — [`StateVector`] and [`SimOptions`].
//! * `sampling.rs` — shot sampling ([`sample_counts`], [`simulate`]).
//! * `fusion.rs` — the fusion compiler (gates to kernels) and the cache-blocking stage planner.
//! * `kernels.rs` — the stage sweep and the in-place kernels (the `unsafe` code).

mod circuit;
mod fusion;
mod kernels;
mod sampling;
mod state;

use num_complex::Complex64;

pub use circuit::{Circuit, Gate, Op};
pub(crate) use circuit::{Inst, Trajectory, noiseless_trajectory, qubit_pair};
pub use sampling::{SimResult, bitstring, sample_counts, sample_counts_with, simulate};
pub use state::{SimOptions, StateVector};

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

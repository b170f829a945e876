//! The state: [`StateVector`] (amplitudes, gates applied through the fusion compiler and
//! the kernels, measurement, reset, amplitude damping, sampling of basis states) and the
//! simulation switches [`SimOptions`].

use num_complex::Complex64;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
#[cfg(not(target_arch = "wasm32"))]
use rayon::prelude::*;

#[cfg(not(target_arch = "wasm32"))]
use super::BLOCK_QUBITS;
use super::circuit::{Circuit, Gate, Inst, noiseless_trajectory, qubit_pair};
use super::fusion::{Kernel, fuse, native_kernel, plan_stages, simplify_diagonals};
use super::kernels::run_stage;
use super::{ONE, SUM_CHUNK, ZERO};

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

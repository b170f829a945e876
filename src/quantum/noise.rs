//! Device noise model for superconducting qubits, sampled by Monte-Carlo trajectories.
//!
//! # Model (after Qiskit Aer's `NoiseModel.from_backend` / `basic_device_gate_errors`)
//!
//! All qubits share one [`QubitCalibration`]. Every physical gate is followed by
//!
//! 1. **thermal relaxation** of each of its qubits for the gate time `t`: amplitude damping
//!    with probability `γ = 1 − e^{−t/T1}` towards the thermal state, whose excited
//!    population is the Boltzmann factor `p_exc = 1/(1 + e^{hf/(k_B T)})` at the qubit
//!    frequency `f` and the mixing-chamber temperature `T`, plus dephasing such that
//!    coherences decay as `e^{−t/T2}`. For `T2 ≤ T1` this is Aer's mixture of identity,
//!    `Z` (probability `(1−γ)(1 − e^{−t(1/T2 − 1/T1)})/2`), reset to `|0⟩` (`γ(1−p_exc)`) and
//!    reset to `|1⟩` (`γ p_exc`); for `T1 < T2 ≤ 2T1` it is generalized amplitude damping
//!    (a state-dependent quantum jump) followed by `Z` with probability `(1 − λ)/2`,
//!    `λ = e^{−t/T2 + t/(2T1)}`. Both are the same CPTP map as Aer's
//!    `thermal_relaxation_error`.
//! 2. **depolarizing error** `ρ → (1−p)ρ + p I/d` (a uniformly random non-identity Pauli with
//!    probability `p (d²−1)/d²`), with `p` chosen as in Aer so that the average gate
//!    infidelity of relaxation followed by depolarizing equals the reported gate error `e`:
//!    `p = d (e − e_relax) / (d (1 − e_relax) − 1)` (zero when relaxation alone exceeds `e`).
//!
//! Measurements flip the recorded bit with probability `readout_error`. Diagonal one-qubit
//! gates (`Z, S, Sdg, T, Tdg, RZ, P`) are virtual frame changes: no time, no error. A `SWAP`
//! counts as three two-qubit gates; `CX, CZ, CP, RZZ` as one. Ops are scheduled as soon as
//! possible; a qubit waiting for its partners, for a barrier, or in a `Delay` relaxes
//! thermally (no depolarizing) for the idle time. Aer itself adds no idle noise; this is
//! the only deliberate difference.
//!
//! # Temperature dependence
//!
//! Thermal quasiparticles in the aluminium junction leads shorten T1 as the mixing chamber
//! warms (Catelani et al. 2011, thermal quasiparticles, `ħω ≪ Δ`):
//!
//! * `x_qp(T) = √(2π k_B T/Δ) · e^{−Δ/(k_B T)}` (normalised quasiparticle density),
//! * `Γ_qp(T) = x_qp(T) · √(2 ω Δ / (π² ħ))`, with `ω = 2πf`, `Δ = 180 µeV`,
//! * `1/T1(T) = 1/T1_base + Γ_qp(T)`.
//!
//! At 5 GHz this gives `Γ_qp ≈ 10^{−30}/s` at 12 mK (negligible), `≈ 2.5·10^4/s` at
//! 150 mK (T1 falls from 200 µs to ≈ 33 µs) and `≈ 8·10^6/s` at 250 mK. The pure-dephasing
//! time `T_φ` (from `1/T2 = 1/(2T1) + 1/T_φ` at base temperature) is held fixed, so T2
//! falls with T1. Calibrated `t1_s`/`t2_s` are base-temperature values.
//!
//! # Units
//!
//! Seconds, hertz, kelvin; error rates are probabilities (average gate infidelities for
//! gates, as reported by randomized benchmarking).
//!
//! # References
//!
//! * Qiskit Aer noise documentation: `thermal_relaxation_error`, `depolarizing_error`,
//!   `basic_device_gate_errors`, <https://qiskit.github.io/qiskit-aer/apidocs/aer_noise.html>.
//! * P. Krantz et al., "A quantum engineer's guide to superconducting qubits",
//!   Appl. Phys. Rev. 6, 021318 (2019).
//! * G. Catelani, R. J. Schoelkopf, M. H. Devoret, L. I. Glazman, "Relaxation and
//!   frequency shifts induced by quasiparticles in superconducting qubits",
//!   Phys. Rev. B 84, 064517 (2011).
//! * K. Serniak et al., "Hot nonequilibrium quasiparticles in transmon qubits",
//!   Phys. Rev. Lett. 121, 157701 (2018).
//! * M. A. Nielsen, "A simple formula for the average gate fidelity of a quantum dynamical
//!   operation", Phys. Lett. A 303, 249 (2002).

use crate::math::Det;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::statevector::{Circuit, Gate, Inst, Op, Trajectory, qubit_pair};

/// Planck constant `h` (J·s).
pub const PLANCK_J_S: f64 = 6.626_070_15e-34;
/// Reduced Planck constant `ħ` (J·s).
pub const HBAR_J_S: f64 = PLANCK_J_S / (2.0 * std::f64::consts::PI);
/// Boltzmann constant `k_B` (J/K).
pub const BOLTZMANN_J_PER_K: f64 = 1.380_649e-23;
/// Elementary charge, i.e. joules per electronvolt.
pub const ELECTRON_VOLT_J: f64 = 1.602_176_634e-19;
/// Superconducting gap of thin-film aluminium, `Δ ≈ 180 µeV` (J).
pub const ALUMINIUM_GAP_J: f64 = 180e-6 * ELECTRON_VOLT_J;
/// Qubit frequency assumed by [`t1_at_temperature`] (Hz).
pub const DEFAULT_QUBIT_FREQ_HZ: f64 = 5e9;
/// Names accepted by [`NoiseModel::from_profile`] (the CLI's `--noise PROFILE`).
pub const PROFILES: [&str; 3] = ["ideal", "default", "warm"];

/// Error of the noise module.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoiseError {
    #[error("unknown noise profile '{0}' (expected one of: ideal, default, warm)")]
    UnknownProfile(String),
}

/// Thermal excited-state population `1/(1 + e^{hf/(k_B T)})` of a qubit at `freq_hz` in
/// equilibrium at `temp_k`.
pub fn excited_state_population(freq_hz: f64, temp_k: f64) -> f64 {
    if temp_k <= 0.0 {
        return 0.0;
    }
    1.0 / (1.0 + (PLANCK_J_S * freq_hz / (BOLTZMANN_J_PER_K * temp_k)).exp_d())
}

/// Thermal-equilibrium quasiparticle density normalised to the Cooper-pair density,
/// `x_qp = √(2π k_B T/Δ) e^{−Δ/(k_B T)}`, for aluminium.
pub fn thermal_quasiparticle_density(temp_k: f64) -> f64 {
    if temp_k <= 0.0 {
        return 0.0;
    }
    let r = ALUMINIUM_GAP_J / (BOLTZMANN_J_PER_K * temp_k);
    (2.0 * std::f64::consts::PI / r).sqrt() * (-r).exp_d()
}

/// Quasiparticle-induced relaxation rate `Γ_qp = x_qp √(2ωΔ/(π²ħ))` (1/s) of a transmon at
/// `freq_hz` (Catelani et al. 2011).
pub fn quasiparticle_decay_rate(temp_k: f64, freq_hz: f64) -> f64 {
    let omega = 2.0 * std::f64::consts::PI * freq_hz;
    let pi2 = std::f64::consts::PI * std::f64::consts::PI;
    thermal_quasiparticle_density(temp_k)
        * (2.0 * omega * ALUMINIUM_GAP_J / (pi2 * HBAR_J_S)).sqrt()
}

/// T1 at mixing-chamber temperature `temp_k` for a 5 GHz qubit whose base-temperature T1 is
/// `t1_base_s`: `1/T1 = 1/T1_base + Γ_qp(T)`.
pub fn t1_at_temperature(t1_base_s: f64, mixing_chamber_temp_k: f64) -> f64 {
    t1_at_temperature_and_frequency(t1_base_s, mixing_chamber_temp_k, DEFAULT_QUBIT_FREQ_HZ)
}

/// [`t1_at_temperature`] for a qubit at `freq_hz`.
pub fn t1_at_temperature_and_frequency(t1_base_s: f64, temp_k: f64, freq_hz: f64) -> f64 {
    1.0 / (1.0 / t1_base_s + quasiparticle_decay_rate(temp_k, freq_hz))
}

/// Calibration data of the (identical) qubits of a device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QubitCalibration {
    /// Energy relaxation time at base temperature (s).
    pub t1_s: f64,
    /// Coherence (Ramsey/echo) time at base temperature (s), at most `2 t1_s`.
    pub t2_s: f64,
    /// Qubit frequency (Hz).
    pub freq_hz: f64,
    /// Probability that a measurement reports the wrong bit.
    pub readout_error: f64,
    /// Duration of a physical single-qubit gate (s).
    pub gate_time_1q_s: f64,
    /// Duration of a two-qubit gate (s).
    pub gate_time_2q_s: f64,
    /// Duration of a measurement (s).
    pub readout_time_s: f64,
    /// Average gate infidelity of single-qubit gates.
    pub error_1q: f64,
    /// Average gate infidelity of two-qubit gates.
    pub error_2q: f64,
    /// Mixing-chamber temperature (K).
    pub mixing_chamber_temp_k: f64,
}

impl Default for QubitCalibration {
    /// Typical of current superconducting devices (2024–2025 heavy-hex/transmon chips).
    /// (The numbers are the scene format's default device, [`crate::scene::QuantumDevice`].)
    fn default() -> Self {
        let d = crate::scene::QuantumDevice::default();
        Self {
            t1_s: d.t1_s,
            t2_s: d.t2_s,
            freq_hz: d.freq_hz,
            readout_error: d.readout_error,
            gate_time_1q_s: d.gate_time_1q_s,
            gate_time_2q_s: d.gate_time_2q_s,
            readout_time_s: d.readout_time_s,
            error_1q: d.error_1q,
            error_2q: d.error_2q,
            mixing_chamber_temp_k: 0.012,
        }
    }
}

impl QubitCalibration {
    /// The same device with the mixing chamber at `temp_k`.
    pub fn with_temperature(mut self, temp_k: f64) -> Self {
        self.mixing_chamber_temp_k = temp_k;
        self
    }

    /// Calibration of a named profile: `ideal` (none), `default`, `warm` (150 mK).
    pub fn profile(name: &str) -> Result<Option<Self>, NoiseError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "ideal" | "none" => Ok(None),
            "default" => Ok(Some(Self::default())),
            "warm" => Ok(Some(Self::default().with_temperature(0.150))),
            _ => Err(NoiseError::UnknownProfile(name.to_string())),
        }
    }

    /// T1 at the mixing-chamber temperature (s).
    pub fn effective_t1_s(&self) -> f64 {
        t1_at_temperature_and_frequency(self.t1_s, self.mixing_chamber_temp_k, self.freq_hz)
    }

    /// T2 at the mixing-chamber temperature (s), keeping the pure-dephasing rate fixed.
    pub fn effective_t2_s(&self) -> f64 {
        let t1 = self.effective_t1_s();
        let t2_base = self.t2_s.min(2.0 * self.t1_s);
        let dephasing = (1.0 / t2_base - 0.5 / self.t1_s).max(0.0);
        (1.0 / (0.5 / t1 + dephasing)).min(2.0 * t1)
    }

    /// Thermal excited-state population at the qubit frequency and mixing-chamber
    /// temperature.
    pub fn excited_population(&self) -> f64 {
        excited_state_population(self.freq_hz, self.mixing_chamber_temp_k)
    }
}

/// How a gate is treated by the device model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateKind {
    /// Virtual Z-frame change: zero duration, no error.
    Virtual,
    /// Physical single-qubit gate.
    OneQubit,
    /// `count` native two-qubit gates (3 for SWAP).
    TwoQubit { count: u32 },
}

/// Classification of `gate` (see the module docs).
pub fn gate_kind(gate: Gate) -> GateKind {
    match gate {
        Gate::Z | Gate::S | Gate::Sdg | Gate::T | Gate::Tdg | Gate::RZ(_) | Gate::P(_) => {
            GateKind::Virtual
        }
        Gate::Swap => GateKind::TwoQubit { count: 3 },
        g if g.num_qubits() == 2 => GateKind::TwoQubit { count: 1 },
        _ => GateKind::OneQubit,
    }
}

/// ASAP schedule clock: per-qubit ready time and idle time not yet turned into relaxation.
/// A qubit is prepared just in time for its first operation, so waiting before it is not
/// idle time.
struct Clock {
    ready: Vec<f64>,
    idle: Vec<f64>,
    started: Vec<bool>,
}

impl Clock {
    fn new(n: usize) -> Self {
        Self {
            ready: vec![0.0; n],
            idle: vec![0.0; n],
            started: vec![false; n],
        }
    }

    /// Synchronises `qubits` to their latest ready time (all qubits if empty).
    fn sync(&mut self, qubits: &[usize]) {
        let all: Vec<usize>;
        let qs = if qubits.is_empty() {
            all = (0..self.ready.len()).collect();
            &all
        } else {
            qubits
        };
        let start = qs.iter().map(|&q| self.ready[q]).fold(0.0, f64::max);
        for &q in qs {
            if self.started[q] {
                self.idle[q] += start - self.ready[q];
            }
            self.ready[q] = start;
        }
    }

    fn take_idle(&mut self, q: usize) -> f64 {
        std::mem::take(&mut self.idle[q])
    }

    fn advance(&mut self, qubits: &[usize], dt: f64) {
        for &q in qubits {
            self.ready[q] += dt;
            self.started[q] = true;
        }
    }

    fn duration(&self) -> f64 {
        self.ready.iter().copied().fold(0.0, f64::max)
    }
}

fn gate_duration(kind: GateKind, cal: &QubitCalibration) -> f64 {
    match kind {
        GateKind::Virtual => 0.0,
        GateKind::OneQubit => cal.gate_time_1q_s,
        GateKind::TwoQubit { count } => f64::from(count) * cal.gate_time_2q_s,
    }
}

/// Average-gate-infidelity of thermal relaxation for `duration_s` on `num_qubits` qubits
/// (independent relaxation on each), with the given T1/T2.
fn relaxation_infidelity(t1: f64, t2: f64, duration_s: f64, num_qubits: u32) -> f64 {
    let gamma = 1.0 - (-duration_s / t1).exp_d();
    let coherence = (-duration_s / t2).exp_d();
    let f_pro_1 = (2.0 - gamma + 2.0 * coherence) / 4.0;
    let f_pro = f_pro_1.powi(num_qubits as i32);
    let d = f64::from(1u32 << num_qubits);
    1.0 - (d * f_pro + 1.0) / (d + 1.0)
}

/// Aer's depolarizing parameter completing relaxation to the reported `error`.
fn depolarizing_parameter(error: f64, relax_infidelity: f64, num_qubits: u32) -> f64 {
    let d = f64::from(1u32 << num_qubits);
    if error <= relax_infidelity {
        return 0.0;
    }
    let error = error.min(d / (d + 1.0));
    let p = d * (error - relax_infidelity) / (d * (1.0 - relax_infidelity) - 1.0);
    p.clamp(0.0, d * d / (d * d - 1.0))
}

/// A device noise model: calibration resolved at its temperature.
#[derive(Clone, Debug, PartialEq)]
pub struct NoiseModel {
    calibration: QubitCalibration,
    t1_s: f64,
    t2_s: f64,
    p_exc: f64,
    depol_1q: f64,
    depol_2q: f64,
}

impl NoiseModel {
    /// Builds the model from a calibration (T1/T2 adjusted to its mixing-chamber
    /// temperature, depolarizing parameters completing the reported gate errors).
    pub fn from_calibration(calibration: &QubitCalibration) -> Self {
        let t1_s = calibration.effective_t1_s();
        let t2_s = calibration.effective_t2_s();
        let r1 = relaxation_infidelity(t1_s, t2_s, calibration.gate_time_1q_s, 1);
        let r2 = relaxation_infidelity(t1_s, t2_s, calibration.gate_time_2q_s, 2);
        Self {
            calibration: calibration.clone(),
            t1_s,
            t2_s,
            p_exc: calibration.excited_population(),
            depol_1q: depolarizing_parameter(calibration.error_1q, r1, 1),
            depol_2q: depolarizing_parameter(calibration.error_2q, r2, 2),
        }
    }

    /// A named profile (see [`PROFILES`]); `Ok(None)` for `ideal`.
    pub fn from_profile(name: &str) -> Result<Option<Self>, NoiseError> {
        Ok(QubitCalibration::profile(name)?.map(|c| Self::from_calibration(&c)))
    }

    pub fn calibration(&self) -> &QubitCalibration {
        &self.calibration
    }

    /// Effective T1 at the calibration's temperature (s).
    pub fn t1_s(&self) -> f64 {
        self.t1_s
    }

    /// Effective T2 at the calibration's temperature (s).
    pub fn t2_s(&self) -> f64 {
        self.t2_s
    }

    /// Thermal excited-state population.
    pub fn excited_population(&self) -> f64 {
        self.p_exc
    }

    /// Depolarizing parameter `p` of single-qubit gates.
    pub fn depolarizing_1q(&self) -> f64 {
        self.depol_1q
    }

    /// Depolarizing parameter `p` of two-qubit gates.
    pub fn depolarizing_2q(&self) -> f64 {
        self.depol_2q
    }

    /// Average gate infidelity of thermal relaxation for `duration_s` on `num_qubits` (1 or 2)
    /// qubits.
    pub fn relaxation_infidelity(&self, duration_s: f64, num_qubits: u32) -> f64 {
        relaxation_infidelity(self.t1_s, self.t2_s, duration_s, num_qubits)
    }

    /// Total average gate error of a single- and a two-qubit gate in this model.
    pub fn gate_errors(&self) -> (f64, f64) {
        let c = &self.calibration;
        (
            c.error_1q
                .max(self.relaxation_infidelity(c.gate_time_1q_s, 1)),
            c.error_2q
                .max(self.relaxation_infidelity(c.gate_time_2q_s, 2)),
        )
    }

    /// Thermal relaxation of qubit `q` for `dt` seconds, as trajectory instructions.
    fn relax(&self, q: usize, dt: f64, rng: &mut ChaCha8Rng, out: &mut Vec<Inst>) {
        if dt <= 0.0 {
            return;
        }
        let (t1, t2) = (self.t1_s, self.t2_s);
        let gamma = 1.0 - (-dt / t1).exp_d();
        let pair = [q, usize::MAX];
        if t2 <= t1 {
            let p_z = (1.0 - gamma) * (1.0 - (-dt * (1.0 / t2 - 1.0 / t1)).exp_d()) / 2.0;
            let u = rng.random::<f64>();
            if u < p_z {
                out.push(Inst::Gate(Gate::Z, pair));
            } else if u < p_z + gamma {
                out.push(Inst::Reset { qubit: q });
                if u >= p_z + gamma * (1.0 - self.p_exc) {
                    out.push(Inst::Gate(Gate::X, pair));
                }
            }
        } else {
            out.push(Inst::AmpDamp {
                qubit: q,
                gamma,
                p_exc: self.p_exc,
            });
            let lambda = (-dt / t2 + dt / (2.0 * t1)).exp_d();
            if rng.random::<f64>() < (1.0 - lambda) / 2.0 {
                out.push(Inst::Gate(Gate::Z, pair));
            }
        }
    }

    fn pauli(k: usize) -> Option<Gate> {
        match k {
            1 => Some(Gate::X),
            2 => Some(Gate::Y),
            3 => Some(Gate::Z),
            _ => None,
        }
    }

    fn depolarize(&self, qubits: &[usize], rng: &mut ChaCha8Rng, out: &mut Vec<Inst>) {
        let (p, terms) = if qubits.len() == 1 {
            (self.depol_1q, 4)
        } else {
            (self.depol_2q, 16)
        };
        let non_identity = p * (terms - 1) as f64 / terms as f64;
        if p > 0.0 && rng.random::<f64>() < non_identity {
            let k = rng.random_range(1..terms);
            for (i, &q) in qubits.iter().enumerate() {
                if let Some(g) = Self::pauli((k >> (2 * i)) & 3) {
                    out.push(Inst::Gate(g, [q, usize::MAX]));
                }
            }
        }
    }

    /// Samples one noisy trajectory of `circuit`; `terminal` flags the measurements that
    /// are deferred to the end (see [`Circuit::terminal_measurements`]).
    pub(crate) fn trajectory(
        &self,
        circuit: &Circuit,
        terminal: &[bool],
        rng: &mut ChaCha8Rng,
    ) -> Trajectory {
        let cal = &self.calibration;
        let mut tr = Trajectory::default();
        let mut clock = Clock::new(circuit.num_qubits);
        // Qubits whose terminal measurement has been seen: it is sampled at the end, so
        // later delays on them must not relax the state before that.
        let mut measured = vec![false; circuit.num_qubits];
        let out = &mut tr.insts;
        for (i, op) in circuit.ops.iter().enumerate() {
            match op {
                Op::Gate { gate, qubits } => {
                    let kind = gate_kind(*gate);
                    if kind == GateKind::Virtual {
                        // Relaxation commutes with Z rotations: no need to settle idling.
                        out.push(Inst::Gate(*gate, qubit_pair(qubits)));
                        continue;
                    }
                    clock.sync(qubits);
                    for &q in qubits {
                        let idle = clock.take_idle(q);
                        self.relax(q, idle, rng, out);
                    }
                    out.push(Inst::Gate(*gate, qubit_pair(qubits)));
                    match kind {
                        GateKind::OneQubit => {
                            self.relax(qubits[0], cal.gate_time_1q_s, rng, out);
                            self.depolarize(qubits, rng, out);
                        }
                        GateKind::TwoQubit { count } => {
                            for _ in 0..count {
                                for &q in qubits {
                                    self.relax(q, cal.gate_time_2q_s, rng, out);
                                }
                                self.depolarize(qubits, rng, out);
                            }
                        }
                        GateKind::Virtual => {}
                    }
                    clock.advance(qubits, gate_duration(kind, cal));
                }
                Op::Measure { qubit, clbit } => {
                    let idle = clock.take_idle(*qubit);
                    if !measured[*qubit] {
                        self.relax(*qubit, idle, rng, out);
                    }
                    let flip = rng.random::<f64>() < cal.readout_error;
                    if terminal[i] {
                        measured[*qubit] = true;
                        tr.terminal.push((*qubit, *clbit, flip));
                    } else {
                        out.push(Inst::Measure {
                            qubit: *qubit,
                            clbit: *clbit,
                            flip,
                        });
                    }
                    clock.advance(&[*qubit], cal.readout_time_s);
                }
                Op::Reset { qubit } => {
                    let idle = clock.take_idle(*qubit);
                    self.relax(*qubit, idle, rng, out);
                    out.push(Inst::Reset { qubit: *qubit });
                    clock.advance(&[*qubit], cal.readout_time_s);
                }
                Op::Barrier { qubits } => clock.sync(qubits),
                Op::Delay { qubit, duration_s } => {
                    let idle = clock.take_idle(*qubit) + duration_s;
                    if !measured[*qubit] {
                        self.relax(*qubit, idle, rng, out);
                    }
                    clock.advance(&[*qubit], *duration_s);
                }
            }
        }
        tr
    }
}

/// Gate counts and schedule of a circuit on a device, enough to estimate its success
/// probability without simulating it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CircuitStats {
    pub num_qubits: usize,
    /// Physical single-qubit gates (including `id`).
    pub gates_1q: usize,
    /// Native two-qubit gates (a SWAP counts three).
    pub gates_2q: usize,
    /// Virtual (error-free) Z-type gates.
    pub virtual_gates: usize,
    pub measurements: usize,
    pub resets: usize,
    /// ASAP critical-path duration including readout (s).
    pub duration_s: f64,
    /// Total time qubits spend waiting or in delays, summed over qubits (qubit·s).
    pub idle_time_s: f64,
}

impl CircuitStats {
    /// Counts and ASAP-schedules `circuit` with the gate and readout times of `cal`.
    pub fn from_circuit(circuit: &Circuit, cal: &QubitCalibration) -> Self {
        let mut s = Self {
            num_qubits: circuit.num_qubits,
            ..Self::default()
        };
        let mut clock = Clock::new(circuit.num_qubits);
        for op in &circuit.ops {
            match op {
                Op::Gate { gate, qubits } => {
                    let kind = gate_kind(*gate);
                    match kind {
                        GateKind::Virtual => {
                            s.virtual_gates += 1;
                            continue;
                        }
                        GateKind::OneQubit => s.gates_1q += 1,
                        GateKind::TwoQubit { count } => s.gates_2q += count as usize,
                    }
                    clock.sync(qubits);
                    clock.advance(qubits, gate_duration(kind, cal));
                }
                Op::Measure { qubit, .. } | Op::Reset { qubit } => {
                    if matches!(op, Op::Measure { .. }) {
                        s.measurements += 1;
                    } else {
                        s.resets += 1;
                    }
                    clock.advance(&[*qubit], cal.readout_time_s);
                }
                Op::Barrier { qubits } => clock.sync(qubits),
                Op::Delay { qubit, duration_s } => {
                    clock.idle[*qubit] += duration_s;
                    clock.advance(&[*qubit], *duration_s);
                }
            }
        }
        s.duration_s = clock.duration();
        s.idle_time_s = clock.idle.iter().sum();
        s
    }
}

/// Duration of `circuit` on the device: the ASAP critical path (s).
pub fn circuit_duration_s(circuit: &Circuit, cal: &QubitCalibration) -> f64 {
    CircuitStats::from_circuit(circuit, cal).duration_s
}

/// Estimated probability that a run is error free:
/// `(1−e₁)^{n₁} (1−e₂)^{n₂} (1−e_ro)^{m} · exp(−t_idle (1/(6T1) + 1/(3T2)))`, with
/// `e₁, e₂` the model's gate errors at the calibration's temperature (the reported errors,
/// or the relaxation infidelity if larger), and the last factor the small-`t` average
/// fidelity of thermal relaxation over the total idle qubit time.
pub fn estimated_success_probability(stats: &CircuitStats, cal: &QubitCalibration) -> f64 {
    let model = NoiseModel::from_calibration(cal);
    let (e1, e2) = model.gate_errors();
    let idle_rate = 1.0 / (6.0 * model.t1_s) + 1.0 / (3.0 * model.t2_s);
    (1.0 - e1).powf_d(stats.gates_1q as f64)
        * (1.0 - e2).powf_d(stats.gates_2q as f64)
        * (1.0 - cal.readout_error).powf_d(stats.measurements as f64)
        * (-stats.idle_time_s * idle_rate).exp_d()
}

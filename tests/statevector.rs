//! Integration tests of the statevector simulator, the OpenQASM 2.0 front end and the
//! noise model, with known values.

use std::collections::BTreeMap;
use std::f64::consts::{FRAC_1_SQRT_2, PI};

use num_complex::Complex64 as C;
use qtwin::quantum::noise::{
    self, CircuitStats, NoiseModel, QubitCalibration, estimated_success_probability,
    t1_at_temperature,
};
use qtwin::quantum::qaoa;
use qtwin::quantum::qasm::{self, run_qasm_cli, statevector_json};
use qtwin::quantum::statevector::{
    Circuit, Gate, Op, SimOptions, StateVector, sample_counts, sample_counts_with, simulate,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const FUSED: SimOptions = SimOptions { fusion: true };
const UNFUSED: SimOptions = SimOptions { fusion: false };

fn c(re: f64, im: f64) -> C {
    C::new(re, im)
}

fn run(circuit: &Circuit, opts: &SimOptions) -> StateVector {
    let mut sv = StateVector::new(circuit.num_qubits);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    sv.apply_circuit(circuit, opts, &mut rng);
    sv
}

fn assert_close(a: &[C], b: &[C], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).norm() <= tol, "amplitude {i}: {x} vs {y}");
    }
}

fn random_state(n: usize, rng: &mut ChaCha8Rng) -> StateVector {
    let mut v: Vec<C> = (0..1 << n)
        .map(|_| c(rng.random::<f64>() - 0.5, rng.random::<f64>() - 0.5))
        .collect();
    let norm = v.iter().map(|a| a.norm_sqr()).sum::<f64>().sqrt();
    v.iter_mut().for_each(|a| *a /= norm);
    StateVector::from_amplitudes(v)
}

/// Explicit matrices from the Qiskit gate documentation (first qubit = low bit).
fn reference_matrix(g: Gate) -> Vec<C> {
    let s = FRAC_1_SQRT_2;
    let e = C::cis;
    let z = c(0.0, 0.0);
    let o = c(1.0, 0.0);
    let i = c(0.0, 1.0);
    match g {
        Gate::Id => vec![o, z, z, o],
        Gate::H => vec![c(s, 0.0), c(s, 0.0), c(s, 0.0), c(-s, 0.0)],
        Gate::X => vec![z, o, o, z],
        Gate::Y => vec![z, -i, i, z],
        Gate::Z => vec![o, z, z, -o],
        Gate::S => vec![o, z, z, i],
        Gate::Sdg => vec![o, z, z, -i],
        Gate::T => vec![o, z, z, e(PI / 4.0)],
        Gate::Tdg => vec![o, z, z, e(-PI / 4.0)],
        Gate::RX(t) => {
            let (co, si) = ((t / 2.0).cos(), (t / 2.0).sin());
            vec![c(co, 0.0), c(0.0, -si), c(0.0, -si), c(co, 0.0)]
        }
        Gate::RY(t) => {
            let (co, si) = ((t / 2.0).cos(), (t / 2.0).sin());
            vec![c(co, 0.0), c(-si, 0.0), c(si, 0.0), c(co, 0.0)]
        }
        Gate::RZ(t) => vec![e(-t / 2.0), z, z, e(t / 2.0)],
        Gate::P(l) => vec![o, z, z, e(l)],
        Gate::U(t, p, l) => {
            let (co, si) = ((t / 2.0).cos(), (t / 2.0).sin());
            vec![c(co, 0.0), -e(l) * si, e(p) * si, e(p + l) * co]
        }
        #[rustfmt::skip]
        Gate::CX => vec![
            o, z, z, z,
            z, z, z, o,
            z, z, o, z,
            z, o, z, z,
        ],
        Gate::CZ => diag4([o, o, o, -o]),
        Gate::CP(l) => diag4([o, o, o, e(l)]),
        #[rustfmt::skip]
        Gate::Swap => vec![
            o, z, z, z,
            z, z, o, z,
            z, o, z, z,
            z, z, z, o,
        ],
        Gate::RZZ(t) => diag4([e(-t / 2.0), e(t / 2.0), e(t / 2.0), e(-t / 2.0)]),
    }
}

fn diag4(d: [C; 4]) -> Vec<C> {
    let mut m = vec![c(0.0, 0.0); 16];
    for k in 0..4 {
        m[5 * k] = d[k];
    }
    m
}

/// Naive reference: full action of a `k`-qubit matrix on an `n`-qubit state.
fn apply_reference(state: &[C], m: &[C], qubits: &[usize]) -> Vec<C> {
    let dim = 1 << qubits.len();
    let mask: usize = qubits.iter().map(|&q| 1 << q).sum();
    let local = |i: usize| {
        qubits
            .iter()
            .enumerate()
            .map(|(b, &q)| ((i >> q) & 1) << b)
            .sum::<usize>()
    };
    let deposit = |l: usize| {
        qubits
            .iter()
            .enumerate()
            .map(|(b, &q)| ((l >> b) & 1) << q)
            .sum::<usize>()
    };
    (0..state.len())
        .map(|i| {
            let rest = i & !mask;
            (0..dim)
                .map(|l| m[local(i) * dim + l] * state[rest | deposit(l)])
                .sum()
        })
        .collect()
}

fn all_gates(rng: &mut ChaCha8Rng) -> Vec<Gate> {
    let mut a = || rng.random::<f64>() * 4.0 * PI - 2.0 * PI;
    vec![
        Gate::Id,
        Gate::H,
        Gate::X,
        Gate::Y,
        Gate::Z,
        Gate::S,
        Gate::Sdg,
        Gate::T,
        Gate::Tdg,
        Gate::RX(a()),
        Gate::RY(a()),
        Gate::RZ(a()),
        Gate::P(a()),
        Gate::U(a(), a(), a()),
        Gate::CX,
        Gate::CZ,
        Gate::CP(a()),
        Gate::Swap,
        Gate::RZZ(a()),
    ]
}

fn random_qubits(n: usize, k: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut qs: Vec<usize> = Vec::new();
    while qs.len() < k {
        let q = rng.random_range(0..n);
        if !qs.contains(&q) {
            qs.push(q);
        }
    }
    qs
}

fn random_circuit(n: usize, depth: usize, rng: &mut ChaCha8Rng) -> Circuit {
    let mut circ = Circuit::new(n, 0);
    for _ in 0..depth {
        let gates = all_gates(rng);
        let g = gates[rng.random_range(0..gates.len())];
        let qs = random_qubits(n, g.num_qubits(), rng);
        circ.gate(g, &qs);
    }
    circ
}

/// Qiskit's `QFT(n)` (with the final swaps).
fn qft(n: usize) -> Circuit {
    let mut circ = Circuit::new(n, 0);
    for j in (0..n).rev() {
        circ.h(j);
        for k in (0..j).rev() {
            circ.cp(PI * 2f64.powi(k as i32 - j as i32), j, k);
        }
    }
    for k in 0..n / 2 {
        circ.swap(k, n - k - 1);
    }
    circ
}

#[test]
fn bell_state_amplitudes() {
    let mut circ = Circuit::new(2, 0);
    circ.h(0).cx(0, 1);
    for opts in [FUSED, UNFUSED] {
        let sv = run(&circ, &opts);
        let s = FRAC_1_SQRT_2;
        assert_close(
            sv.amplitudes(),
            &[c(s, 0.0), c(0.0, 0.0), c(0.0, 0.0), c(s, 0.0)],
            1e-12,
        );
    }
}

#[test]
fn ghz5_amplitudes() {
    let mut circ = Circuit::new(5, 0);
    circ.h(0);
    for q in 1..5 {
        circ.cx(q - 1, q);
    }
    for opts in [FUSED, UNFUSED] {
        let sv = run(&circ, &opts);
        let mut expect = vec![c(0.0, 0.0); 32];
        expect[0] = c(FRAC_1_SQRT_2, 0.0);
        expect[31] = c(FRAC_1_SQRT_2, 0.0);
        assert_close(sv.amplitudes(), &expect, 1e-12);
    }
}

#[test]
fn qft_of_basis_states() {
    // QFT|x⟩ = 2^{-n/2} Σ_k e^{2πi xk/2^n} |k⟩; 16 and 17 qubits exercise cache blocking.
    for (n, x) in [(3, 5), (5, 19), (8, 200), (16, 40_000), (17, 77_777)] {
        let mut circ = Circuit::new(n, 0);
        for q in 0..n {
            if (x >> q) & 1 == 1 {
                circ.x(q);
            }
        }
        circ.ops.extend(qft(n).ops);
        let dim = 1usize << n;
        let norm = (dim as f64).sqrt().recip();
        let expect: Vec<C> = (0..dim)
            .map(|k| C::cis(2.0 * PI * ((x * k) % dim) as f64 / dim as f64) * norm)
            .collect();
        for opts in [FUSED, UNFUSED] {
            assert_close(run(&circ, &opts).amplitudes(), &expect, 1e-12);
        }
    }
}

#[test]
fn every_gate_matches_its_matrix() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for n in [3, 4] {
        for _ in 0..5 {
            for g in all_gates(&mut rng) {
                let qs = random_qubits(n, g.num_qubits(), &mut rng);
                let m = reference_matrix(g);
                assert_close(&g.matrix(), &m, 1e-15);
                let state = random_state(n, &mut rng);
                let expect = apply_reference(state.amplitudes(), &m, &qs);
                let mut sv = state.clone();
                sv.apply_gate(g, &qs);
                assert_close(sv.amplitudes(), &expect, 1e-12);
                for opts in [FUSED, UNFUSED] {
                    let mut circ = Circuit::new(n, 0);
                    circ.gate(g, &qs);
                    let mut sv = state.clone();
                    sv.apply_circuit(&circ, &opts, &mut rng);
                    assert_close(sv.amplitudes(), &expect, 1e-12);
                }
            }
        }
    }
}

#[test]
fn gates_on_high_qubits_of_large_states() {
    // 17 qubits: kernels on qubits above the 2^14 cache block (gather/scatter path).
    let n = 17;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut state = random_state(n, &mut rng);
    let mut expect = state.amplitudes().to_vec();
    for g in all_gates(&mut rng) {
        for qs in [vec![16, 3], vec![15, 16], vec![0, 14], vec![13, 12]] {
            let qs = &qs[..g.num_qubits()];
            expect = apply_reference(&expect, &reference_matrix(g), qs);
            state.apply_gate(g, qs);
        }
    }
    assert_close(state.amplitudes(), &expect, 1e-12);
}

#[test]
fn fusion_on_and_off_agree_on_random_circuits() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for n in 6..=10 {
        for _ in 0..4 {
            let circ = random_circuit(n, 200, &mut rng);
            let a = run(&circ, &FUSED);
            let b = run(&circ, &UNFUSED);
            assert_close(a.amplitudes(), b.amplitudes(), 1e-12);
        }
    }
    // Above the cache block: stages with high qubits.
    for n in [15, 16, 18] {
        let circ = random_circuit(n, 150, &mut rng);
        let a = run(&circ, &FUSED);
        let b = run(&circ, &UNFUSED);
        assert_close(a.amplitudes(), b.amplitudes(), 1e-12);
    }
}

#[test]
fn fusion_of_decomposed_controlled_phases() {
    // cp(λ) written as p/cx/p/cx/p and as rz/cx/rz/cx fuses to the same state as cp.
    let n = 16;
    let mut direct = Circuit::new(n, 0);
    let mut decomposed = Circuit::new(n, 0);
    for q in 0..n {
        direct.h(q);
        decomposed.h(q);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for _ in 0..60 {
        let qs = random_qubits(n, 2, &mut rng);
        let (a, b) = (qs[0], qs[1]);
        let l = rng.random::<f64>() * 2.0 * PI;
        direct.cp(l, a, b);
        if rng.random::<bool>() {
            decomposed
                .gate(Gate::P(l / 2.0), &[a])
                .cx(a, b)
                .gate(Gate::P(-l / 2.0), &[b])
                .cx(a, b)
                .gate(Gate::P(l / 2.0), &[b]);
        } else {
            // rz form = e^{-iλ/4}·cp; P(λ/4) X P(λ/4) X restores the global phase.
            decomposed
                .gate(Gate::RZ(l / 2.0), &[a])
                .cx(a, b)
                .rz(-l / 2.0, b)
                .cx(a, b)
                .rz(l / 2.0, b)
                .gate(Gate::U(0.0, l / 4.0, 0.0), &[a])
                .gate(Gate::X, &[a])
                .gate(Gate::U(0.0, l / 4.0, 0.0), &[a])
                .gate(Gate::X, &[a]);
        }
    }
    let a = run(&direct, &FUSED);
    for opts in [FUSED, UNFUSED] {
        assert_close(run(&decomposed, &opts).amplitudes(), a.amplitudes(), 1e-12);
    }
}

fn k33() -> (usize, Vec<(usize, usize)>) {
    let edges = (0..3).flat_map(|a| (3..6).map(move |b| (a, b))).collect();
    (6, edges)
}

fn cube() -> (usize, Vec<(usize, usize)>) {
    let mut edges = Vec::new();
    for a in 0..8usize {
        for bit in 0..3 {
            let b = a ^ (1 << bit);
            if a < b {
                edges.push((a, b));
            }
        }
    }
    (8, edges)
}

fn petersen() -> (usize, Vec<(usize, usize)>) {
    let mut edges = Vec::new();
    for i in 0..5 {
        edges.push((i, (i + 1) % 5)); // outer cycle
        edges.push((i, i + 5)); // spokes
        edges.push((5 + i, 5 + (i + 2) % 5)); // inner pentagram
    }
    (10, edges)
}

#[test]
fn qaoa_p1_on_triangle_free_cubic_graphs() {
    let (gamma, beta) = (0.615480, PI / 8.0);
    for ((n, edges), best) in [(k33(), 9), (cube(), 12), (petersen(), 12)] {
        assert_eq!(edges.len(), 3 * n / 2);
        assert_eq!(qaoa::max_cut(n, &edges), Some(best));
        let circ = qaoa::maxcut_circuit(n, &edges, &[gamma], &[beta], false);
        for opts in [FUSED, UNFUSED] {
            let sv = run(&circ, &opts);
            let ratio = qaoa::expected_cut(&sv, &edges) / edges.len() as f64;
            assert!((ratio - 0.692450).abs() < 1e-6, "⟨C⟩/|E| = {ratio}");
        }
        // Sampled approximation ratio: mean cut / max cut, within Monte-Carlo error.
        let measured = qaoa::maxcut_circuit(n, &edges, &[gamma], &[beta], true);
        let counts = sample_counts(&measured, 20_000, 1, None);
        let r = qaoa::approximation_ratio(&counts, n, &edges).unwrap();
        let exact = 0.692450 * edges.len() as f64 / best as f64;
        assert!((r - exact).abs() < 0.01, "ratio {r} vs {exact}");
    }
}

/// Calibration without gate, readout or thermal errors, to isolate relaxation.
fn relaxation_only(t1: f64, t2: f64) -> QubitCalibration {
    QubitCalibration {
        t1_s: t1,
        t2_s: t2,
        readout_error: 0.0,
        gate_time_1q_s: 0.0,
        gate_time_2q_s: 0.0,
        error_1q: 0.0,
        error_2q: 0.0,
        ..QubitCalibration::default()
    }
}

fn probability_of(counts: &BTreeMap<String, u64>, key: &str) -> f64 {
    let shots: u64 = counts.values().sum();
    *counts.get(key).unwrap_or(&0) as f64 / shots as f64
}

#[test]
fn excited_population_decays_with_t1() {
    // T2 < T1 (Aer's reset mixture) and T1 < T2 < 2 T1 (amplitude-damping jumps).
    for (t1, t2) in [(100e-6, 80e-6), (100e-6, 150e-6)] {
        let model = NoiseModel::from_calibration(&relaxation_only(t1, t2));
        for (k, t) in [0.5 * t1, t1, 2.0 * t1].into_iter().enumerate() {
            let mut circ = Circuit::new(1, 1);
            // Split the wait into steps to exercise repeated jumps.
            circ.x(0);
            for _ in 0..4 {
                circ.delay(0, t / 4.0);
            }
            circ.measure(0, 0);
            let shots = 8000;
            let p1 = probability_of(
                &sample_counts(&circ, shots, 100 + k as u64, Some(&model)),
                "1",
            );
            let expect = (-t / t1).exp();
            let sigma = (expect * (1.0 - expect) / shots as f64).sqrt();
            assert!(
                (p1 - expect).abs() < 4.0 * sigma,
                "T2={t2}: P1={p1}, expected {expect}"
            );
        }
    }
}

#[test]
fn delay_after_final_measurement_does_not_decay() {
    let model = NoiseModel::from_calibration(&relaxation_only(50e-6, 50e-6));
    let mut circ = Circuit::new(1, 1);
    circ.x(0).measure(0, 0).delay(0, 1e-3);
    assert_eq!(
        probability_of(&sample_counts(&circ, 500, 2, Some(&model)), "1"),
        1.0
    );
}

#[test]
fn ramsey_fringe_decays_with_t2() {
    let (t1, t2) = (100e-6, 60e-6);
    let model = NoiseModel::from_calibration(&relaxation_only(t1, t2));
    let t = 50e-6;
    let mut circ = Circuit::new(1, 1);
    circ.h(0).delay(0, t).h(0).measure(0, 0);
    let shots = 8000;
    let p0 = probability_of(&sample_counts(&circ, shots, 9, Some(&model)), "0");
    let expect = 0.5 * (1.0 + (-t / t2).exp());
    let sigma = (expect * (1.0 - expect) / shots as f64).sqrt();
    assert!(
        (p0 - expect).abs() < 4.0 * sigma,
        "P0={p0}, expected {expect}"
    );
}

fn ghz(n: usize) -> Circuit {
    let mut circ = Circuit::new(n, n);
    circ.h(0);
    for q in 1..n {
        circ.cx(q - 1, q);
    }
    let all: Vec<usize> = (0..n).collect();
    circ.barrier(&all);
    circ.measure_all();
    circ
}

#[test]
fn warm_mixing_chamber_lowers_success() {
    let base = 200e-6;
    assert!((t1_at_temperature(base, 0.012) - base).abs() < 1e-9 * base);
    assert!((t1_at_temperature(base, 0.020) - base).abs() < 1e-6 * base);
    assert!(t1_at_temperature(base, 0.150) < 0.5 * base);
    assert!(t1_at_temperature(base, 0.250) < 0.01 * base);

    let circ = ghz(5);
    let cold = QubitCalibration::default();
    let warm = QubitCalibration::default().with_temperature(0.150);
    let fidelity = |cal: &QubitCalibration| {
        let model = NoiseModel::from_calibration(cal);
        let counts = sample_counts(&circ, 4000, 42, Some(&model));
        probability_of(&counts, "00000") + probability_of(&counts, "11111")
    };
    let (f_cold, f_warm) = (fidelity(&cold), fidelity(&warm));
    assert!(f_cold > 0.85, "cold GHZ population {f_cold}");
    // Monte-Carlo standard error of the difference ≈ 0.007.
    assert!(f_warm < f_cold - 0.025, "warm {f_warm} vs cold {f_cold}");

    let esp = |cal: &QubitCalibration| {
        estimated_success_probability(&CircuitStats::from_circuit(&circ, cal), cal)
    };
    let (e_cold, e_warm) = (esp(&cold), esp(&warm));
    assert!(e_cold > e_warm && e_cold < 1.0 && e_warm > 0.0);
    // GHZ(5): 1 H, 4 CX, 5 readouts, and idling before the barrier: after their last CX,
    // qubits 0, 1, 2 wait 3, 2 and 1 CX durations.
    let stats = CircuitStats::from_circuit(&circ, &cold);
    assert!((stats.idle_time_s - 6.0 * cold.gate_time_2q_s).abs() < 1e-15);
    let idle_rate = 1.0 / (6.0 * 200e-6) + 1.0 / (3.0 * 150e-6);
    let expect = (1.0 - 2.5e-4)
        * (1.0 - 3e-3f64).powi(4)
        * (1.0 - 0.015f64).powi(5)
        * (-stats.idle_time_s * idle_rate).exp();
    assert!((e_cold - expect).abs() < 1e-9, "{e_cold} vs {expect}");

    // Named profiles.
    assert!(NoiseModel::from_profile("ideal").unwrap().is_none());
    let warm_model = NoiseModel::from_profile("warm").unwrap().unwrap();
    assert_eq!(warm_model.calibration().mixing_chamber_temp_k, 0.150);
    assert!(NoiseModel::from_profile("lukewarm").is_err());
    assert!(noise::PROFILES.contains(&"default"));
}

#[test]
fn depolarizing_completes_reported_gate_error() {
    let cal = QubitCalibration::default();
    let model = NoiseModel::from_calibration(&cal);
    // Total average infidelity of relaxation + depolarizing = reported error (Aer).
    for (k, e, t, p) in [
        (
            1u32,
            cal.error_1q,
            cal.gate_time_1q_s,
            model.depolarizing_1q(),
        ),
        (2, cal.error_2q, cal.gate_time_2q_s, model.depolarizing_2q()),
    ] {
        let d = f64::from(1u32 << k);
        let r = model.relaxation_infidelity(t, k);
        let f_relax = 1.0 - r;
        let total = 1.0 - ((1.0 - p) * f_relax + p / d);
        assert!(p > 0.0 && (total - e).abs() < 1e-12, "{k}q: {total} vs {e}");
    }
    let stats = CircuitStats::from_circuit(&ghz(3), &cal);
    assert_eq!(
        (stats.gates_1q, stats.gates_2q, stats.measurements),
        (1, 2, 3)
    );
    let expect = cal.gate_time_1q_s + 2.0 * cal.gate_time_2q_s + cal.readout_time_s;
    assert!((noise::circuit_duration_s(&ghz(3), &cal) - expect).abs() < 1e-15);
}

const QISKIT_QASM: &str = r#"OPENQASM 2.0;
include "qelib1.inc";
gate rzx_custom(param0) q0,q1 { h q1; cx q0,q1; rz(param0) q1; cx q0,q1; h q1; }
gate bell q0,q1 { h q0; cx q0,q1; }
gate wrapped(param0,param1) q0,q1 { bell q0,q1; rzx_custom(param0*2) q1,q0; u3(param1,-pi/2,pi/4) q0; }
qreg q[3];
qreg anc[1];
creg c[3];
creg flag[1];
wrapped(pi/8,0.3) q[0],q[1];
u2(0,pi) anc[0];
cu1(-pi/4) anc[0],q[2];
rzz(2*sin(pi/6)+ln(1)) q[1],q[2];
barrier q,anc[0];
h q;
u1(sqrt(2)^2/4) q[0];
p(exp(0)*pi/3) q[2];
id q[1];
measure q -> c;
measure anc[0] -> flag[0];
"#;

#[test]
fn qasm_as_qiskit_writes_it() {
    let prog = qasm::parse_program(QISKIT_QASM).unwrap();
    assert_eq!(prog.qregs, vec![("q".into(), 3), ("anc".into(), 1)]);
    assert_eq!(prog.cregs, vec![("c".into(), 3), ("flag".into(), 1)]);
    let circ = &prog.circuit;
    assert_eq!((circ.num_qubits, circ.num_clbits), (4, 4));

    // The same circuit built through the API, with Qiskit's gate-class matrices.
    let mut e = Circuit::new(4, 4);
    e.h(0).cx(0, 1);
    e.h(0).cx(1, 0).rz(PI / 4.0, 0).cx(1, 0).h(0);
    e.gate(Gate::U(0.3, -PI / 2.0, PI / 4.0), &[0]);
    e.gate(Gate::U(PI / 2.0, 0.0, PI), &[3]);
    e.cp(-PI / 4.0, 3, 2);
    e.rzz(1.0, 1, 2);
    e.barrier(&[0, 1, 2, 3]);
    e.h(0).h(1).h(2);
    e.gate(Gate::P(0.5), &[0]);
    e.gate(Gate::P(PI / 3.0), &[2]);
    e.gate(Gate::Id, &[1]);
    for q in 0..4 {
        e.measure(q, q);
    }
    assert_eq!(circ.ops.len(), e.ops.len());
    let a = simulate(circ, 1000, 5, None, &FUSED);
    let b = simulate(&e, 1000, 5, None, &FUSED);
    assert_close(
        a.statevector.amplitudes(),
        b.statevector.amplitudes(),
        1e-12,
    );
    assert_eq!(a.counts, b.counts);

    let run = run_qasm_cli(QISKIT_QASM, 1000, 5, "ideal", true).unwrap();
    // Keys split by register, last register leftmost: "flag c".
    for (k, &v) in &b.counts {
        let spaced = format!("{} {}", &k[..1], &k[1..]);
        assert_eq!(run.counts[&spaced], v);
    }
    assert_eq!(run.counts.values().sum::<u64>(), 1000);
    let listed = run.format_counts();
    assert_eq!(listed.lines().count(), run.counts.len());
    assert!(run_qasm_cli(QISKIT_QASM, 10, 5, "default", false).is_ok());
    let bad = run_qasm_cli(QISKIT_QASM, 10, 5, "tepid", true).unwrap_err();
    assert!(bad.to_string().contains("unknown noise profile"));
}

#[test]
fn qasm_broadcast_measure_and_known_amplitudes() {
    let src = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[3];\ncreg c[3];\n\
               h q[0];\ncx q[0],q[1];\ncx q[1],q[2];\nmeasure q -> c;\n";
    let run = run_qasm_cli(src, 2000, 17, "ideal", true).unwrap();
    let sv = run.statevector.amplitudes();
    assert!((sv[0].re - FRAC_1_SQRT_2).abs() < 1e-12 && (sv[7].re - FRAC_1_SQRT_2).abs() < 1e-12);
    assert_eq!(run.counts.keys().collect::<Vec<_>>(), ["000", "111"]);
    assert_eq!(run.counts.values().sum::<u64>(), 2000);

    let json = statevector_json(&run.statevector);
    assert_eq!(json["num_qubits"], 3);
    assert_eq!(json["amplitudes"].as_array().unwrap().len(), 8);
    assert!((json["amplitudes"][7][0].as_f64().unwrap() - FRAC_1_SQRT_2).abs() < 1e-15);
    let mut buf = Vec::new();
    qasm::write_statevector_json(&run.statevector, &mut buf).unwrap();
    let parsed: serde_json::Value = serde_json::from_slice(&buf).unwrap();
    assert_eq!(parsed, json);

    // Broadcast over registers: h q; cx q, r;
    let src = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[2];\nqreg r[2];\nh q;\ncx q, r;\n";
    let circ = qasm::parse(src).unwrap();
    let mut e = Circuit::new(4, 0);
    e.h(0).h(1).cx(0, 2).cx(1, 3);
    assert_eq!(circ, e);
}

#[test]
fn qasm_errors_report_line_and_column() {
    let unknown =
        "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[2];\n\n  h q[0];\n  foo q[0],q[1];\n";
    let e = qasm::parse(unknown).unwrap_err();
    assert_eq!((e.line, e.col), (6, 3));
    assert_eq!(e.to_string(), "line 6, column 3: unknown gate 'foo'");

    let cond = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[1];\ncreg c[1];\nmeasure q[0] -> c[0];\n   if (c==1) x q[0];\n";
    let e = qasm::parse(cond).unwrap_err();
    assert_eq!((e.line, e.col), (6, 4));
    assert!(e.msg.contains("'if'"), "{e}");

    let cases = [
        ("OPENQASM 2.0;\nqreg q[1];\nopaque g q;\n", (3, 1)),
        ("OPENQASM 2.0;\nqreg q[2];\nh q[2];\n", (3, 5)),
        ("OPENQASM 2.0;\nqreg q[2];\ncx q[0];\n", (3, 1)),
        (
            "OPENQASM 2.0;\nqreg q[2];\ngate g a { bogus a; }\n",
            (3, 12),
        ),
        ("OPENQASM 2.0;\nqreg q[2];\nrx(theta) q[0];\n", (3, 4)),
        ("OPENQASM 2.0;\nqreg q[2];\nh q[0]\nh q[1];\n", (4, 1)),
        ("OPENQASM 3.0;\n", (1, 10)),
        ("OPENQASM 2.0;\ninclude \"stdgates.inc\";\n", (2, 9)),
    ];
    for (src, pos) in cases {
        let e = qasm::parse(src).unwrap_err();
        assert_eq!((e.line, e.col), pos, "{src:?}: {e}");
    }
}

#[test]
fn mid_circuit_measurement_and_reset() {
    let mut circ = Circuit::new(2, 3);
    circ.h(0).measure(0, 0).cx(0, 1).measure(1, 1);
    circ.x(0).reset(0).measure(0, 2);
    assert!(!circ.is_sampleable_at_end());
    let counts = sample_counts(&circ, 2000, 8, None);
    assert_eq!(counts.keys().collect::<Vec<_>>(), ["000", "011"]);
    let p = probability_of(&counts, "011");
    assert!((p - 0.5).abs() < 0.05);
    // A later mid-circuit measurement overwrites the clbit of an earlier final one.
    let mut circ = Circuit::new(2, 1);
    circ.x(0).measure(0, 0).measure(1, 0).h(1);
    assert_eq!(
        sample_counts(&circ, 100, 1, None)
            .keys()
            .collect::<Vec<_>>(),
        ["0"]
    );
}

#[test]
fn same_seed_same_counts_for_any_thread_count() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let mut circ = random_circuit(16, 120, &mut rng);
    circ.num_clbits = 16;
    circ.measure_all();
    let in_pool = |threads: usize, circ: &Circuit, noise: Option<&NoiseModel>| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| sample_counts_with(circ, 3000, 1234, noise, &FUSED))
    };
    let one = in_pool(1, &circ, None);
    let two = in_pool(2, &circ, None);
    assert_eq!(one, two);
    assert_eq!(one, sample_counts(&circ, 3000, 1234, None));
    assert_ne!(one, sample_counts(&circ, 3000, 1235, None));
    assert_eq!(one.values().sum::<u64>(), 3000);

    // Noisy trajectories (parallel over shots) are reproducible too.
    let model = NoiseModel::from_profile("warm").unwrap().unwrap();
    let small = ghz(6);
    assert_eq!(
        in_pool(1, &small, Some(&model)),
        in_pool(2, &small, Some(&model))
    );
    // Trajectories on a state above the cache block (parallel over amplitudes).
    let mut mid = ghz(15);
    mid.ops.insert(1, Op::Reset { qubit: 3 });
    let a = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| sample_counts_with(&mid, 20, 5, Some(&model), &FUSED));
    let b = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap()
        .install(|| sample_counts_with(&mid, 20, 5, Some(&model), &FUSED));
    assert_eq!(a, b);
}

//! Quantum jobs of the city's services: their problems, circuits, run times, latencies, and
//! their real execution on the statevector simulator under a site's noise model.
//!
//! # Services and circuits
//! - **Traffic-signal coordination** — the `n` intersections (heat-network nodes, which lie on
//!   the streets) nearest the job's origin, each joined to its two nearest neighbours (and the
//!   parts joined), form a graph; a maximum cut splits them into two signal phase groups so that
//!   as many neighbouring intersections as possible run in opposite phases (a green wave). It is
//!   solved by QAOA (Farhi, Goldstone, Gutmann 2014) with `p` layers. The angles are the classical
//!   co-processor's: for `p = 1` the maximum of the closed-form expectation `⟨C⟩(γ, β)` of Wang,
//!   Hadfield, Jiang, Rieffel (PRA 97, 022304, 2018), found on a 24 × 12 grid and refined; for `p > 1` a
//!   linear interpolation from it (`γ_k = 2γ*(k+1)/(p+1)`, `β_k = 2β*(p−k)/(p+1)`, after Zhou et
//!   al., PRX 10, 021067, 2020). The reported approximation ratio is the mean cut of the sampled
//!   bitstrings over the maximum cut ([`qaoa::approximation_ratio`]).
//! - **Grid balancing** — a unit commitment of `n` units (4–8): switch on units `x_i ∈ {0,1}` of
//!   power share `p_i` and cost weight `w_i` to meet a demand share `d`, minimising
//!   `Σ w_i x_i + λ (Σ p_i x_i − d)²` (λ = 10). With `x = (1 − z)/2` this is an Ising
//!   Hamiltonian `Σ h_i Z_i + Σ J_ij Z_i Z_j`, normalised to a largest coefficient of 1 and run as
//!   a QAOA with a linear-ramp schedule (`γ_k = Δ(k+½)/p`, `β_k = Δ(1 − (k+½)/p)`, `Δ = 1`;
//!   Montañez-Barrera & Michielsen, arXiv:2405.09169). The result is the share of shots that
//!   found the optimal commitment (found by brute force); at `p = 2` that is about twice chance
//!   without noise — shallow QAOA is a modest optimiser, as on real devices.
//! - **Environmental sensing** — a hardware-efficient variational circuit (Kandala et al.,
//!   Nature 549, 242, 2017): `L` layers of `RY` on every qubit and a `CX` chain, a last `RY`
//!   layer, parameters from the trained model (seeded per job); the result is `⟨Z₀⟩`.
//!
//! All circuits assume all-to-all connectivity (no routing SWAPs).
//!
//! # Run time on the device
//! `run = overhead + shots · (circuit + reset)`, with the circuit's ASAP duration including its
//! readout ([`noise::circuit_duration_s`], 1 µs readout), an active reset of 1 µs and 0.5–2 s of
//! compilation and loading (scene: `overhead_s`, 1 s).
//!
//! # Execution
//! A job is simulated when it completes, with the noise model of the site's calibration at its
//! start ([`NoiseModel::from_calibration`]). To keep a tick cheap only `min(shots, 128)` shots
//! are simulated (`max_simulated_shots`), from `T` = 16 noise trajectories (`trajectories`):
//! each trajectory is one randomly sampled noisy evolution ([`NoiseModel`]'s jumps and Pauli
//! errors); the simulated shots are split evenly among the trajectories and drawn from each
//! trajectory's final state, with readout errors drawn per shot and bit. Shots of the same
//! trajectory share its gate errors, so the spread of results is slightly underestimated; their
//! mean is that of full per-shot trajectories. Every trajectory has its own ChaCha8 stream of a
//! seed made from the scene seed and the job id, so results do not depend on thread counts.
//! A trajectory in which no error event was drawn (most of them on a good device) reuses the
//! noiseless final state, computed once per job.
//!
//! # Latency
//! Round trip over the city's fibre: `2 (1.4 d / (2·10⁸ m/s) + hops · 50 µs)` with `d` the
//! straight distance and 3 hops (5 µs per km of fibre). A remote cloud data centre:
//! `2 (800 km / (2·10⁸ m/s) + hops · 50 µs) + 20 ms` of internet routing (typical
//! 15–25 ms RTT for ~800 km, e.g. Frankfurt–Paris).
//!
//! Units: s, m, probabilities.

use crate::math::Det;
use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use super::noise::{self, CircuitStats, NoiseModel, QubitCalibration};
use super::qaoa;
use super::statevector::{
    Circuit, Gate, Inst, Op, SimOptions, StateVector, bitstring, noiseless_trajectory,
};
use crate::scene::{FibreNetwork, JobService, QuantumJobs};

/// The city service a job comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Service {
    Traffic,
    GridBalancing,
    Sensing,
}

impl Service {
    pub const ALL: [Service; 3] = [Service::Traffic, Service::GridBalancing, Service::Sensing];

    pub fn name(self) -> &'static str {
        match self {
            Service::Traffic => "traffic",
            Service::GridBalancing => "grid_balancing",
            Service::Sensing => "sensing",
        }
    }

    /// The scene's settings of this service.
    pub fn spec(self, cfg: &QuantumJobs) -> &JobService {
        match self {
            Service::Traffic => &cfg.traffic,
            Service::GridBalancing => &cfg.grid_balancing,
            Service::Sensing => &cfg.sensing,
        }
    }

    fn index(self) -> u64 {
        self as u64
    }
}

/// What a job computes.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// MaxCut of a graph of intersections, node `i` = qubit `i`.
    MaxCut {
        nodes: usize,
        edges: Vec<(usize, usize)>,
    },
    /// Unit commitment: minimise `Σ w_i x_i + λ (Σ p_i x_i − d)²`; `optimum` is the best
    /// assignment (bit `i` = unit `i` on).
    UnitCommitment {
        cost: Vec<f64>,
        share: Vec<f64>,
        demand: f64,
        optimum: usize,
    },
    /// A variational sensing model; the result is `⟨Z₀⟩`.
    Ansatz { layers: usize },
}

/// Penalty weight of the unit commitment's balance term.
const BALANCE_PENALTY: f64 = 10.0;

impl Problem {
    fn unit_commitment_value(cost: &[f64], share: &[f64], demand: f64, x: usize) -> f64 {
        let mut c = 0.0;
        let mut p = 0.0;
        for i in 0..cost.len() {
            if (x >> i) & 1 == 1 {
                c += cost[i];
                p += share[i];
            }
        }
        c + BALANCE_PENALTY * (p - demand).powi(2)
    }
}

/// A job waiting, running or done.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: u64,
    pub service: Service,
    /// Id of the building (or node) it comes from.
    pub origin: String,
    pub origin_pos: [f64; 2],
    pub qubits: u32,
    /// Circuit depth (layers of the ASAP schedule, measurements included).
    pub depth: u32,
    pub shots: u64,
    pub priority: u8,
    /// Simulated time of submission, s since the start.
    pub submitted_s: f64,
    /// Absolute deadline, s since the start.
    pub deadline_s: f64,
    /// Time it occupies a device, s.
    pub run_s: f64,
    pub stats: CircuitStats,
    pub problem: Problem,
    pub circuit: Circuit,
}

/// Where jobs come from: origins (buildings, else nodes) and intersections (heat-network nodes).
#[derive(Debug, Clone, Default)]
pub struct JobContext {
    pub origins: Vec<(String, [f64; 2])>,
    pub intersections: Vec<[f64; 2]>,
}

/// A well-mixed 64-bit hash (SplitMix64's finaliser).
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Seed of everything random about job `id` (its problem and its execution).
pub fn job_seed(scene_seed: u64, id: u64) -> u64 {
    mix64(mix64(scene_seed ^ 0x6A09_E667_F3BC_C908) ^ id)
}

impl Job {
    /// Draws job `id` of `service`, submitted at `submitted_s`; its problem and origin come from
    /// its own seeded stream, so they do not depend on other jobs.
    pub fn new(
        id: u64,
        service: Service,
        submitted_s: f64,
        cfg: &QuantumJobs,
        ctx: &JobContext,
        scene_seed: u64,
        base: &QubitCalibration,
    ) -> Self {
        let spec = service.spec(cfg);
        let mut rng = ChaCha8Rng::seed_from_u64(job_seed(scene_seed, id));
        rng.set_stream(1000 + service.index());
        let (origin, origin_pos) = if ctx.origins.is_empty() {
            ("city".to_string(), [0.0, 0.0])
        } else {
            ctx.origins[rng.random_range(0..ctx.origins.len())].clone()
        };
        let lo = spec.min_qubits.max(1);
        let hi = spec.max_qubits.max(lo);
        let n = rng.random_range(lo..=hi) as usize;
        let layers = spec.layers.max(1) as usize;
        let (problem, circuit) = match service {
            Service::Traffic => {
                let edges = intersection_graph(origin_pos, n, &ctx.intersections, &mut rng);
                let (g, b) = qaoa_p1_angles(n, &edges);
                let (gammas, betas) = interpolate_angles(g, b, layers);
                let c = qaoa::maxcut_circuit(n, &edges, &gammas, &betas, true);
                (Problem::MaxCut { nodes: n, edges }, c)
            }
            Service::GridBalancing => {
                let cap: Vec<f64> = (0..n).map(|_| rng.random_range(0.5..3.0)).collect();
                let price: Vec<f64> = (0..n).map(|_| rng.random_range(20.0..120.0)).collect();
                let total: f64 = cap.iter().sum();
                let share: Vec<f64> = cap.iter().map(|c| c / total).collect();
                let pmax = price.iter().copied().fold(0.0, f64::max);
                let cost: Vec<f64> = (0..n).map(|i| 0.5 * share[i] * price[i] / pmax).collect();
                let demand = rng.random_range(0.3..0.7);
                let optimum = (0..1usize << n)
                    .min_by(|&a, &b| {
                        Problem::unit_commitment_value(&cost, &share, demand, a)
                            .total_cmp(&Problem::unit_commitment_value(&cost, &share, demand, b))
                    })
                    .unwrap_or(0);
                let c = unit_commitment_circuit(&cost, &share, demand, layers);
                (
                    Problem::UnitCommitment {
                        cost,
                        share,
                        demand,
                        optimum,
                    },
                    c,
                )
            }
            Service::Sensing => {
                let c = sensing_circuit(n, layers, &mut rng);
                (Problem::Ansatz { layers }, c)
            }
        };
        let stats = CircuitStats::from_circuit(&circuit, base);
        let run_s = run_time_s(&circuit, spec.shots, cfg, base);
        Job {
            id,
            service,
            origin,
            origin_pos,
            qubits: n as u32,
            depth: circuit_depth(&circuit),
            shots: spec.shots,
            priority: spec.priority,
            submitted_s,
            deadline_s: submitted_s + spec.deadline_s,
            run_s,
            stats,
            problem,
            circuit,
        }
    }
}

/// Device time of a job: `overhead + shots · (circuit with readout + reset)`, s.
pub fn run_time_s(circuit: &Circuit, shots: u64, cfg: &QuantumJobs, cal: &QubitCalibration) -> f64 {
    cfg.overhead_s + shots as f64 * (noise::circuit_duration_s(circuit, cal) + cfg.reset_s)
}

/// Depth of the ASAP layering of a circuit (gates and measurements; barriers and delays
/// synchronise but add no layer).
pub fn circuit_depth(c: &Circuit) -> u32 {
    let mut level = vec![0u32; c.num_qubits];
    for op in &c.ops {
        let qs: &[usize] = match op {
            Op::Gate { qubits, .. } => qubits,
            Op::Measure { qubit, .. } | Op::Reset { qubit } => std::slice::from_ref(qubit),
            Op::Barrier { qubits } => {
                let m = qubits.iter().map(|&q| level[q]).max().unwrap_or(0);
                for &q in qubits {
                    level[q] = m;
                }
                continue;
            }
            Op::Delay { .. } => continue,
        };
        let m = qs.iter().map(|&q| level[q]).max().unwrap_or(0) + 1;
        for &q in qs {
            level[q] = m;
        }
    }
    level.into_iter().max().unwrap_or(0)
}

/// The graph of the `n` intersections nearest `origin`: each joined to its two nearest
/// neighbours, then the parts joined by their shortest links. With fewer than `n`
/// intersections in the scene the points are drawn in a 400 m square around the origin.
pub fn intersection_graph(
    origin: [f64; 2],
    n: usize,
    intersections: &[[f64; 2]],
    rng: &mut ChaCha8Rng,
) -> Vec<(usize, usize)> {
    let d2 = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
    let pts: Vec<[f64; 2]> = if intersections.len() >= n {
        let mut idx: Vec<usize> = (0..intersections.len()).collect();
        idx.sort_by(|&a, &b| {
            d2(intersections[a], origin)
                .total_cmp(&d2(intersections[b], origin))
                .then(a.cmp(&b))
        });
        idx[..n].iter().map(|&i| intersections[i]).collect()
    } else {
        (0..n)
            .map(|_| {
                [
                    origin[0] + rng.random_range(-200.0..200.0),
                    origin[1] + rng.random_range(-200.0..200.0),
                ]
            })
            .collect()
    };
    let mut edges = std::collections::BTreeSet::new();
    for i in 0..n {
        let mut others: Vec<usize> = (0..n).filter(|&j| j != i).collect();
        others.sort_by(|&a, &b| {
            d2(pts[a], pts[i])
                .total_cmp(&d2(pts[b], pts[i]))
                .then(a.cmp(&b))
        });
        for &j in others.iter().take(2) {
            edges.insert((i.min(j), i.max(j)));
        }
    }
    // Join the parts: repeatedly link the part of node 0 to the nearest node outside it.
    loop {
        let mut part = vec![false; n];
        let mut stack = vec![0usize];
        part[0] = n > 0;
        while let Some(u) = stack.pop() {
            for &(a, b) in &edges {
                let v = if a == u {
                    b
                } else if b == u {
                    a
                } else {
                    continue;
                };
                if !part[v] {
                    part[v] = true;
                    stack.push(v);
                }
            }
        }
        let mut best: Option<(f64, usize, usize)> = None;
        for i in (0..n).filter(|&i| part[i]) {
            for j in (0..n).filter(|&j| !part[j]) {
                let d = d2(pts[i], pts[j]);
                if best.is_none_or(|b| d < b.0) {
                    best = Some((d, i, j));
                }
            }
        }
        match best {
            Some((_, i, j)) => {
                edges.insert((i.min(j), i.max(j)));
            }
            None => break,
        }
    }
    edges.into_iter().collect()
}

/// Closed-form `⟨C⟩` of `p = 1` QAOA for MaxCut (Wang et al. 2018, Theorem 1): for an edge
/// `(u, v)` with `d_u = deg u − 1`, `d_v = deg v − 1` and `f` triangles through it,
/// `⟨C_uv⟩ = ½ + ¼ sin 4β sin γ (cos^{d_u} γ + cos^{d_v} γ)
///          − ¼ sin² 2β cos^{d_u + d_v − 2f} γ (1 − cos^f 2γ)`.
pub fn qaoa_p1_expected_cut(
    num_nodes: usize,
    edges: &[(usize, usize)],
    gamma: f64,
    beta: f64,
) -> f64 {
    p1_expected_cut(&edge_structure(num_nodes, edges), gamma, beta)
}

/// `(d_u, d_v, f)` of every edge (see [`qaoa_p1_expected_cut`]).
fn edge_structure(num_nodes: usize, edges: &[(usize, usize)]) -> Vec<(i32, i32, i32)> {
    let mut adj = vec![0u64; num_nodes];
    for &(a, b) in edges {
        adj[a] |= 1 << b;
        adj[b] |= 1 << a;
    }
    edges
        .iter()
        .map(|&(u, v)| {
            (
                adj[u].count_ones() as i32 - 1,
                adj[v].count_ones() as i32 - 1,
                (adj[u] & adj[v]).count_ones() as i32,
            )
        })
        .collect()
}

fn p1_expected_cut(structure: &[(i32, i32, i32)], gamma: f64, beta: f64) -> f64 {
    let (sg, cg) = gamma.sin_cos_d();
    let c2g = (2.0 * gamma).cos_d();
    let s4b = (4.0 * beta).sin_d();
    let s2b = (2.0 * beta).sin_d();
    structure
        .iter()
        .map(|&(du, dv, f)| {
            0.5 + 0.25 * s4b * sg * (cg.powi(du) + cg.powi(dv))
                - 0.25 * s2b * s2b * cg.powi(du + dv - 2 * f) * (1.0 - c2g.powi(f))
        })
        .sum()
}

/// The `p = 1` angles maximising [`qaoa_p1_expected_cut`]: a 24 × 12 grid over
/// `γ ∈ (0, π)`, `β ∈ (0, π/2)`, then three rounds of a finer local grid.
pub fn qaoa_p1_angles(num_nodes: usize, edges: &[(usize, usize)]) -> (f64, f64) {
    use std::f64::consts::PI;
    let structure = edge_structure(num_nodes, edges);
    let f = |g: f64, b: f64| p1_expected_cut(&structure, g, b);
    let (mut best, mut bg, mut bb) = (f64::NEG_INFINITY, 0.0, 0.0);
    for i in 0..24 {
        for j in 0..12 {
            let g = PI * (i as f64 + 0.5) / 24.0;
            let b = 0.5 * PI * (j as f64 + 0.5) / 12.0;
            let v = f(g, b);
            if v > best {
                (best, bg, bb) = (v, g, b);
            }
        }
    }
    let (mut hg, mut hb) = (PI / 24.0, PI / 24.0);
    for _ in 0..3 {
        let (cg, cb) = (bg, bb);
        for i in -4..=4 {
            for j in -4..=4 {
                let g = cg + hg * i as f64 / 4.0;
                let b = cb + hb * j as f64 / 4.0;
                let v = f(g, b);
                if v > best {
                    (best, bg, bb) = (v, g, b);
                }
            }
        }
        hg /= 4.0;
        hb /= 4.0;
    }
    (bg, bb)
}

/// `p` layers interpolated from the `p = 1` optimum (equal to it for `p = 1`).
pub fn interpolate_angles(gamma: f64, beta: f64, p: usize) -> (Vec<f64>, Vec<f64>) {
    let q = (p + 1) as f64;
    (
        (0..p).map(|k| 2.0 * gamma * (k + 1) as f64 / q).collect(),
        (0..p).map(|k| 2.0 * beta * (p - k) as f64 / q).collect(),
    )
}

/// The Ising form `(h, J)` of a unit commitment (constant dropped), normalised to a largest
/// coefficient of 1.
pub fn unit_commitment_ising(
    cost: &[f64],
    share: &[f64],
    demand: f64,
) -> (Vec<f64>, Vec<(usize, usize, f64)>) {
    let n = cost.len();
    // Σ p x − d = a − Σ b_i z_i with a = Σp/2 − d, b_i = p_i/2.
    let a = share.iter().sum::<f64>() / 2.0 - demand;
    let b: Vec<f64> = share.iter().map(|p| p / 2.0).collect();
    let mut h: Vec<f64> = (0..n)
        .map(|i| -cost[i] / 2.0 - 2.0 * BALANCE_PENALTY * a * b[i])
        .collect();
    let mut j = Vec::new();
    for u in 0..n {
        for v in u + 1..n {
            j.push((u, v, 2.0 * BALANCE_PENALTY * b[u] * b[v]));
        }
    }
    let scale = h
        .iter()
        .map(|x| x.abs())
        .chain(j.iter().map(|x| x.2.abs()))
        .fold(0.0, f64::max);
    if scale > 0.0 {
        h.iter_mut().for_each(|x| *x /= scale);
        j.iter_mut().for_each(|x| x.2 /= scale);
    }
    (h, j)
}

/// Linear-ramp QAOA for the unit commitment: `e^{−iβ_k B} e^{−iγ_k H}` from `|+⟩^n`, with
/// `B = −Σ X` (so that a slow ramp follows the ground state), measured.
pub fn unit_commitment_circuit(cost: &[f64], share: &[f64], demand: f64, p: usize) -> Circuit {
    const DELTA: f64 = 1.0;
    let n = cost.len();
    let (h, j) = unit_commitment_ising(cost, share, demand);
    let mut c = Circuit::new(n, n);
    for q in 0..n {
        c.h(q);
    }
    for k in 0..p {
        let t = (k as f64 + 0.5) / p as f64;
        let (gamma, beta) = (DELTA * t, DELTA * (1.0 - t));
        for &(u, v, w) in &j {
            c.rzz(2.0 * gamma * w, u, v);
        }
        for (q, &hq) in h.iter().enumerate() {
            c.rz(2.0 * gamma * hq, q);
        }
        for q in 0..n {
            c.rx(-2.0 * beta, q);
        }
    }
    c.measure_all();
    c
}

/// Hardware-efficient ansatz: `layers` × (RY on every qubit, CX chain), a last RY layer,
/// measured; angles drawn from `rng` (the trained model's parameters).
pub fn sensing_circuit(n: usize, layers: usize, rng: &mut ChaCha8Rng) -> Circuit {
    use std::f64::consts::PI;
    let mut c = Circuit::new(n, n);
    for _ in 0..layers {
        for q in 0..n {
            c.gate(Gate::RY(rng.random_range(-PI..PI)), &[q]);
        }
        for q in 0..n.saturating_sub(1) {
            c.cx(q, q + 1);
        }
    }
    for q in 0..n {
        c.gate(Gate::RY(rng.random_range(-PI..PI)), &[q]);
    }
    c.measure_all();
    c
}

/// Round-trip time between a district and a site `distance_m` away, s.
pub fn city_rtt_s(net: &FibreNetwork, distance_m: f64) -> f64 {
    2.0 * (net.route_factor * distance_m / net.fibre_speed_m_s
        + net.city_hops as f64 * net.hop_delay_s)
}

/// Round-trip time to the remote data centre, s.
pub fn remote_rtt_s(net: &FibreNetwork) -> f64 {
    2.0 * (net.remote_fibre_m / net.fibre_speed_m_s + net.city_hops as f64 * net.hop_delay_s)
        + net.remote_routing_rtt_s
}

/// What a run of a job gave.
#[derive(Debug, Clone, PartialEq)]
pub struct JobResult {
    /// Sampled bitstrings (clbit 0 rightmost) of the simulated shots.
    pub counts: BTreeMap<String, u64>,
    /// Traffic: mean sampled cut over the maximum cut.
    pub approximation_ratio: Option<f64>,
    /// Grid balancing: share of shots that found the optimal commitment.
    pub optimum_share: Option<f64>,
    /// Sensing: `⟨Z₀⟩` estimated from the shots.
    pub expectation: Option<f64>,
}

/// Runs `job` on a device with calibration `cal`: `min(shots, max_shots)` shots drawn from
/// `trajectories` noise trajectories (see the module docs), seeded by `seed`.
pub fn execute(
    job: &Job,
    cal: &QubitCalibration,
    max_shots: u64,
    trajectories: u32,
    seed: u64,
) -> JobResult {
    let circuit = &job.circuit;
    let shots = job.shots.min(max_shots).max(1);
    let n_traj = (trajectories.max(1) as u64).min(shots);
    let model = NoiseModel::from_calibration(cal);
    let terminal = circuit.terminal_measurements();
    let opts = SimOptions::default();
    let readout = cal.readout_error;
    // Most trajectories of a good device have no error event at all: their instructions are
    // the noiseless circuit's gates, so their final state is the noiseless one, computed once
    // (running gates draws nothing from the RNG, so this changes no result).
    let noiseless = noiseless_trajectory(circuit, &terminal);
    let mut clean = StateVector::new(circuit.num_qubits);
    clean.apply_gates(
        &noiseless
            .insts
            .iter()
            .filter_map(|i| match i {
                Inst::Gate(g, q) => Some((*g, *q)),
                _ => None,
            })
            .collect::<Vec<_>>(),
        &opts,
    );
    let all_gates = noiseless.insts.iter().all(|i| matches!(i, Inst::Gate(..)));
    let per_traj: Vec<BTreeMap<String, u64>> = (0..n_traj)
        .into_par_iter()
        .map(|t| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(t + 1);
            let tr = model.trajectory(circuit, &terminal, &mut rng);
            let mut clbits = vec![false; circuit.num_clbits];
            let noisy;
            let sv = if all_gates && tr.insts == noiseless.insts {
                &clean
            } else {
                let mut sv = StateVector::new(circuit.num_qubits);
                sv.run_insts(&tr.insts, &opts, &mut rng, &mut clbits);
                noisy = sv;
                &noisy
            };
            let k = shots / n_traj + u64::from(t < shots % n_traj);
            let mut counts = BTreeMap::new();
            for (idx, m) in sv.sample_indices(k, &mut rng) {
                for _ in 0..m {
                    for &(q, c, _) in &tr.terminal {
                        clbits[c] = ((idx >> q) & 1 == 1) ^ (rng.random::<f64>() < readout);
                    }
                    *counts.entry(bitstring(&clbits)).or_insert(0) += 1;
                }
            }
            counts
        })
        .collect();
    let mut counts = BTreeMap::new();
    for c in per_traj {
        for (k, v) in c {
            *counts.entry(k).or_insert(0) += v;
        }
    }
    let total: u64 = counts.values().sum();
    let read = |bits: &str| -> usize {
        bits.chars()
            .rev()
            .enumerate()
            .fold(0usize, |acc, (i, ch)| acc | (usize::from(ch == '1') << i))
    };
    let mut r = JobResult {
        counts,
        approximation_ratio: None,
        optimum_share: None,
        expectation: None,
    };
    match &job.problem {
        Problem::MaxCut { nodes, edges } => {
            r.approximation_ratio = qaoa::approximation_ratio(&r.counts, *nodes, edges);
        }
        Problem::UnitCommitment { optimum, .. } => {
            let hits: u64 = r
                .counts
                .iter()
                .filter(|(b, _)| read(b) == *optimum)
                .map(|(_, k)| k)
                .sum();
            r.optimum_share = Some(hits as f64 / total.max(1) as f64);
        }
        Problem::Ansatz { .. } => {
            let z: f64 = r
                .counts
                .iter()
                .map(|(b, &k)| {
                    if read(b) & 1 == 0 {
                        k as f64
                    } else {
                        -(k as f64)
                    }
                })
                .sum();
            r.expectation = Some(z / total.max(1) as f64);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_p1_matches_the_simulator() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for n in [5, 7, 9] {
            let pts: Vec<[f64; 2]> = (0..12)
                .map(|_| [rng.random_range(0.0..500.0), rng.random_range(0.0..500.0)])
                .collect();
            let edges = intersection_graph([250.0, 250.0], n, &pts, &mut rng);
            for (g, b) in [(0.3, 0.2), (1.1, 0.7), (2.5, 1.3)] {
                let c = qaoa::maxcut_circuit(n, &edges, &[g], &[b], false);
                let mut sv = StateVector::new(n);
                sv.apply_circuit(&c, &SimOptions::default(), &mut rng);
                let exact = qaoa::expected_cut(&sv, &edges);
                let closed = qaoa_p1_expected_cut(n, &edges, g, b);
                assert!((exact - closed).abs() < 1e-9, "{n}: {exact} vs {closed}");
            }
            let (g, b) = qaoa_p1_angles(n, &edges);
            let best = qaoa_p1_expected_cut(n, &edges, g, b);
            let max = qaoa::max_cut(n, &edges).unwrap() as f64;
            assert!(best / max > 0.6, "{n}: ratio {}", best / max);
        }
    }

    #[test]
    fn unit_commitment_ramp_finds_the_optimum_more_often_than_chance() {
        let base = QubitCalibration::default();
        let cfg = QuantumJobs::default();
        let ctx = JobContext::default();
        let mut gain = 0.0;
        for id in 0..8 {
            let job = Job::new(id, Service::GridBalancing, 0.0, &cfg, &ctx, 1, &base);
            let Problem::UnitCommitment { optimum, .. } = job.problem else {
                unreachable!()
            };
            let mut c = job.circuit.clone();
            c.ops.retain(|op| !matches!(op, Op::Measure { .. }));
            let mut sv = StateVector::new(c.num_qubits);
            let mut rng = ChaCha8Rng::seed_from_u64(0);
            sv.apply_circuit(&c, &SimOptions::default(), &mut rng);
            gain += sv.probabilities()[optimum] * (1u64 << c.num_qubits) as f64;
        }
        assert!(gain / 8.0 > 1.5, "mean gain over chance {}", gain / 8.0);
    }

    #[test]
    fn jobs_are_small_and_run_for_about_a_second() {
        let base = QubitCalibration::default();
        let cfg = QuantumJobs::default();
        let ctx = JobContext::default();
        for (id, s) in Service::ALL.into_iter().enumerate() {
            let job = Job::new(id as u64, s, 0.0, &cfg, &ctx, 1, &base);
            assert!((4..=10).contains(&job.qubits));
            assert!(job.depth >= 3);
            assert!(job.run_s > cfg.overhead_s && job.run_s < cfg.overhead_s + 2.0);
            let r = execute(&job, &base, 256, 32, 9);
            assert_eq!(r.counts.values().sum::<u64>(), 256);
            let again = execute(&job, &base, 256, 32, 9);
            assert_eq!(r, again);
        }
        assert_eq!(
            circuit_depth(&qaoa::maxcut_circuit(
                3,
                &[(0, 1), (1, 2)],
                &[0.1],
                &[0.2],
                true
            )),
            5
        );
    }
}

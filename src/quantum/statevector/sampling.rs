//! Shot sampling of whole circuits: counts (one simulation and sampling from the final
//! distribution when possible, otherwise one trajectory per shot, noisy or not), the
//! per-shot RNG streams, and Qiskit-style bitstrings.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
#[cfg(not(target_arch = "wasm32"))]
use rayon::prelude::*;

use super::super::noise::NoiseModel;
#[cfg(not(target_arch = "wasm32"))]
use super::BLOCK_QUBITS;
use super::circuit::{Circuit, noiseless_trajectory};
use super::state::{SimOptions, StateVector};

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

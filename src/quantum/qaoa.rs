//! QAOA for MaxCut (Farhi, Goldstone, Gutmann 2014), the circuits and cut values the
//! quantum jobs ([`super::jobs`]) run and score.
//!
//! The cost operator is `C = Σ_{(i,j)∈E} (1 − Z_i Z_j)/2` (the cut size) and the mixer
//! `B = Σ_i X_i`; layer `k` applies `e^{−iβ_k B} e^{−iγ_k C}` to `|+⟩^{⊗n}`. Up to a global
//! phase `e^{−iγ(1 − ZZ)/2} = RZZ(−γ)` and `e^{−iβX} = RX(2β)`. Node `i` is qubit `i` and
//! clbit `i` (rightmost character of a bitstring for node 0).
//!
//! Reference: E. Farhi, J. Goldstone, S. Gutmann, "A Quantum Approximate Optimization
//! Algorithm", arXiv:1411.4028.

use std::collections::BTreeMap;

use super::statevector::{Circuit, Gate, StateVector};

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

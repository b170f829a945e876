//! Steiner tree over the street graph: the shortest set of streets joining the plant, every
//! building's tap and every quantum site.
//!
//! Mehlhorn's 2-approximation (K. Mehlhorn, "A faster approximation algorithm for the Steiner
//! problem in graphs", *Information Processing Letters* 27 (1988) 125–128), which gives a tree of
//! at most 2 (1 − 1/ℓ) × the optimum (ℓ leaves) in O((E + V) log V):
//! 1. one multi-source Dijkstra from all terminals: every vertex's nearest terminal (its
//!    *region*), distance and predecessor edge;
//! 2. every edge (u, v) between two regions is a candidate edge of the terminals' distance graph
//!    with weight d(u) + w(u, v) + d(v);
//! 3. Kruskal on the candidates (sorted by (weight, edge index), union-find from petgraph) gives a
//!    minimum spanning tree of the terminals' distance graph;
//! 4. each chosen candidate is expanded into its street path (the two shortest paths to the
//!    regions' terminals and the edge between);
//! 5. a minimum spanning tree of the expanded subgraph (Kruskal again) and repeated pruning of
//!    leaves that are not terminals.
//!
//! petgraph's own `steiner_tree` is O(V³) (all-pairs distances) and unusable on real street
//! graphs, so only its union-find is used. Ties are broken by index everywhere: the same graph
//! gives the same tree.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::unionfind::UnionFind;

/// Why no tree could be found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SteinerError {
    #[error("terminal {0} is not a vertex of the graph")]
    NoSuchVertex(usize),
    #[error("terminals {0:?} cannot be reached from terminal {1}")]
    Unreachable(Vec<usize>, usize),
    #[error("edge {0} has a negative or non-finite weight")]
    BadWeight(usize),
}

/// The tree: indices of the chosen edges (ascending) and its total weight.
#[derive(Debug, Clone, PartialEq)]
pub struct SteinerTree {
    pub edges: Vec<usize>,
    pub weight: f64,
}

/// Mehlhorn's Steiner tree of `terminals` over the undirected graph of `n` vertices and
/// `edges` (a, b, weight ≥ 0). Parallel edges are fine; self-loops are ignored. No terminal: an
/// empty tree; one: an empty tree too (the terminal alone).
pub fn steiner_tree(
    n: usize,
    edges: &[(usize, usize, f64)],
    terminals: &[usize],
) -> Result<SteinerTree, SteinerError> {
    for (i, e) in edges.iter().enumerate() {
        if !(e.2.is_finite() && e.2 >= 0.0) {
            return Err(SteinerError::BadWeight(i));
        }
    }
    let mut terms: Vec<usize> = terminals.to_vec();
    terms.sort_unstable();
    terms.dedup();
    if let Some(&t) = terms.iter().find(|t| **t >= n) {
        return Err(SteinerError::NoSuchVertex(t));
    }
    if terms.len() < 2 {
        return Ok(SteinerTree {
            edges: Vec::new(),
            weight: 0.0,
        });
    }
    // Adjacency in CSR form (edge order kept: deterministic).
    let mut deg = vec![0u32; n + 1];
    for &(a, b, _) in edges {
        if a != b {
            deg[a] += 1;
            deg[b] += 1;
        }
    }
    let mut start = vec![0usize; n + 1];
    for v in 0..n {
        start[v + 1] = start[v] + deg[v] as usize;
    }
    let mut fill = start.clone();
    let mut adj = vec![(0usize, 0usize); start[n]];
    for (i, &(a, b, _)) in edges.iter().enumerate() {
        if a != b {
            adj[fill[a]] = (b, i);
            fill[a] += 1;
            adj[fill[b]] = (a, i);
            fill[b] += 1;
        }
    }

    // 1. Multi-source Dijkstra.
    let mut dist = vec![f64::INFINITY; n];
    let mut region = vec![usize::MAX; n];
    let mut pred: Vec<Option<usize>> = vec![None; n];
    let mut done = vec![false; n];
    let mut heap = BinaryHeap::new();
    for &t in &terms {
        dist[t] = 0.0;
        region[t] = t;
        heap.push(Reverse((0u64, t)));
    }
    while let Some(Reverse((dbits, u))) = heap.pop() {
        if done[u] {
            continue;
        }
        done[u] = true;
        let du = f64::from_bits(dbits);
        for &(v, e) in &adj[start[u]..start[u + 1]] {
            let d = du + edges[e].2;
            if d < dist[v] {
                dist[v] = d;
                region[v] = region[u];
                pred[v] = Some(e);
                heap.push(Reverse((d.to_bits(), v)));
            }
        }
    }
    // 2. Candidate edges between regions.
    let mut cands: Vec<(f64, usize)> = edges
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            let (a, b) = (e.0, e.1);
            a != b && done[a] && done[b] && region[a] != region[b]
        })
        .map(|(i, &(a, b, w))| (dist[a] + w + dist[b], i))
        .collect();
    cands.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));

    // 3. Kruskal on the terminals' distance graph.
    let mut uf = UnionFind::<usize>::new(n);
    let mut chosen = Vec::new();
    for &(_, i) in &cands {
        let (a, b, _) = edges[i];
        if uf.union(region[a], region[b]) {
            chosen.push(i);
        }
    }
    let first = terms[0];
    let apart: Vec<usize> = terms
        .iter()
        .copied()
        .filter(|t| !uf.equiv(*t, first))
        .collect();
    if !apart.is_empty() {
        return Err(SteinerError::Unreachable(apart, first));
    }

    // 4. Expand into street paths.
    let mut in_sub = vec![false; edges.len()];
    for &i in &chosen {
        in_sub[i] = true;
        let (a, b, _) = edges[i];
        for mut v in [a, b] {
            while let Some(e) = pred[v] {
                if in_sub[e] {
                    break;
                }
                in_sub[e] = true;
                let (x, y, _) = edges[e];
                v = if x == v { y } else { x };
            }
        }
    }

    // 5. MST of the expanded subgraph, then prune non-terminal leaves.
    let mut sub: Vec<usize> = (0..edges.len()).filter(|i| in_sub[*i]).collect();
    sub.sort_by(|x, y| edges[*x].2.total_cmp(&edges[*y].2).then(x.cmp(y)));
    let mut uf = UnionFind::<usize>::new(n);
    let mut tree: Vec<usize> = sub
        .into_iter()
        .filter(|&i| uf.union(edges[i].0, edges[i].1))
        .collect();
    let mut is_term = vec![false; n];
    for &t in &terms {
        is_term[t] = true;
    }
    let mut tdeg = vec![0usize; n];
    for &i in &tree {
        tdeg[edges[i].0] += 1;
        tdeg[edges[i].1] += 1;
    }
    let mut alive = vec![true; edges.len()];
    let mut inc: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &i in &tree {
        inc[edges[i].0].push(i);
        inc[edges[i].1].push(i);
    }
    let mut stack: Vec<usize> = (0..n).filter(|v| tdeg[*v] == 1 && !is_term[*v]).collect();
    while let Some(v) = stack.pop() {
        if tdeg[v] != 1 || is_term[v] {
            continue;
        }
        let Some(&e) = inc[v].iter().find(|e| alive[**e]) else {
            continue;
        };
        alive[e] = false;
        tdeg[v] = 0;
        let (a, b, _) = edges[e];
        let w = if a == v { b } else { a };
        tdeg[w] -= 1;
        if tdeg[w] == 1 && !is_term[w] {
            stack.push(w);
        }
    }
    tree.retain(|i| alive[*i]);
    tree.sort_unstable();
    let weight = tree.iter().map(|i| edges[*i].2).sum();
    Ok(SteinerTree {
        edges: tree,
        weight,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks the tree property: |V_T| − 1 edges, connected, every terminal in it.
    fn assert_tree(n: usize, edges: &[(usize, usize, f64)], terms: &[usize], t: &SteinerTree) {
        let mut verts = std::collections::BTreeSet::new();
        let mut uf = UnionFind::<usize>::new(n);
        for &i in &t.edges {
            verts.insert(edges[i].0);
            verts.insert(edges[i].1);
            assert!(uf.union(edges[i].0, edges[i].1), "cycle at edge {i}");
        }
        assert_eq!(t.edges.len() + 1, verts.len().max(1));
        for &x in terms {
            assert!(
                verts.contains(&x) || terms.len() < 2,
                "terminal {x} missing"
            );
            assert!(uf.equiv(x, terms[0]));
        }
    }

    #[test]
    fn plus_shape_finds_the_centre() {
        // Centre 0, arms of 1 to terminals 1..4, rim edges of 2.5 between them: the optimum is
        // the four arms (4), the terminals' minimum spanning tree three rim edges (7.5).
        let mut e = vec![(0, 1, 1.0), (0, 2, 1.0), (0, 3, 1.0), (0, 4, 1.0)];
        e.extend([(1, 2, 2.5), (2, 3, 2.5), (3, 4, 2.5), (4, 1, 2.5)]);
        let t = steiner_tree(5, &e, &[1, 2, 3, 4]).unwrap();
        assert_eq!(t.edges, vec![0, 1, 2, 3]);
        assert!((t.weight - 4.0).abs() < 1e-12);
        assert_tree(5, &e, &[1, 2, 3, 4], &t);
    }

    #[test]
    fn path_prunes_the_dead_end() {
        // 0 - 1 - 2 - 3 with a spur 1 - 4: terminals 0 and 2 need only 0-1-2.
        let e = vec![(0, 1, 2.0), (1, 2, 3.0), (2, 3, 1.0), (1, 4, 0.5)];
        let t = steiner_tree(5, &e, &[2, 0]).unwrap();
        assert_eq!(t.edges, vec![0, 1]);
        assert_eq!(t.weight, 5.0);
    }

    #[test]
    fn disconnected_terminals_are_an_error() {
        let e = vec![(0, 1, 1.0), (2, 3, 1.0)];
        assert_eq!(
            steiner_tree(4, &e, &[0, 3]),
            Err(SteinerError::Unreachable(vec![3], 0))
        );
    }

    /// Against the optimum by enumeration on small random graphs: never below it, at most twice.
    #[test]
    fn within_twice_the_optimum_on_random_graphs() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..60 {
            let n = rng.random_range(5..10usize);
            let mut e: Vec<(usize, usize, f64)> = (1..n)
                .map(|v| (rng.random_range(0..v), v, rng.random_range(1..20) as f64))
                .collect();
            for _ in 0..n {
                let (a, b) = (rng.random_range(0..n), rng.random_range(0..n));
                if a != b {
                    e.push((a, b, rng.random_range(1..20) as f64));
                }
            }
            let k = rng.random_range(2..n.min(5) + 1);
            let mut terms: Vec<usize> = (0..n).collect();
            for i in 0..k {
                let j = rng.random_range(i..n);
                terms.swap(i, j);
            }
            terms.truncate(k);
            let t = steiner_tree(n, &e, &terms).unwrap();
            assert_tree(n, &e, &terms, &t);
            // Optimum: the best MST over vertex sets containing the terminals.
            let mut opt = f64::INFINITY;
            for mask in 0u32..(1 << n) {
                if terms.iter().any(|t| mask & (1 << t) == 0) {
                    continue;
                }
                let mut idx: Vec<usize> = (0..e.len())
                    .filter(|i| mask & (1 << e[*i].0) != 0 && mask & (1 << e[*i].1) != 0)
                    .collect();
                idx.sort_by(|x, y| e[*x].2.total_cmp(&e[*y].2));
                let mut uf = UnionFind::<usize>::new(n);
                let mut w = 0.0;
                let mut m = 0;
                for i in idx {
                    if uf.union(e[i].0, e[i].1) {
                        w += e[i].2;
                        m += 1;
                    }
                }
                if m + 1 == mask.count_ones() as usize {
                    opt = opt.min(w);
                }
            }
            assert!(t.weight >= opt - 1e-9, "{} < optimum {opt}", t.weight);
            assert!(t.weight <= 2.0 * opt + 1e-9, "{} > 2 × {opt}", t.weight);
        }
    }
}

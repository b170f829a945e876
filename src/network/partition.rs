//! Splitting a heat network's tree into station parts of bounded design load.
//!
//! A district whose design load exceeds what one station's trunk carries gets several stations,
//! each with its **own network**: the route (a tree over the streets, rooted at the main station)
//! is cut into connected parts whose design load stays within a capacity `K`. The rule is the
//! greedy bottom-up one of S. Kundu and J. Misra, "A linear tree partitioning algorithm",
//! *SIAM J. Comput.* 6 (1977) 151–154, which gives the fewest parts for that problem: going up
//! the tree, each vertex collects its own load and what its children pass up; while that exceeds
//! `K`, the heaviest child's subtree is cut off and becomes a part of its own (ties to the lower
//! vertex index). A second limit bounds the pumps' head: while some path down from the vertex
//! (along the kept children, at the design flows of their subtrees) drops more than `max_dp`,
//! the child with the largest drop below is cut off too (a heuristic: with it the count is no
//! longer the least possible, but every part's paths stay short). Each part below the root gets
//! its station at its load-weighted median on the tree (the vertex from which no branch carries
//! more than half the part's load: the smallest trunk, the shortest paths); the root part keeps
//! the root (a plant the user placed, or the only station) unless `hold_root` is false and there
//! are several parts, when it moves to its median as well. Parts that feed nothing are dropped,
//! and dead ends that feed nothing (a station's former vertex, a junction whose branches were all
//! cut) are pruned.
//!
//! A vertex whose own load exceeds `K` (one building above a station's capacity) stays one part
//! over the capacity: no cut can split it. Everything is deterministic: the same tree and loads
//! give the same parts.

/// The parts of a tree ([`partition_tree`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    /// The tree edges kept (indices into the edge list, ascending): the cut edges and pruned dead
    /// ends are gone.
    pub edges: Vec<usize>,
    /// Each part's station vertex, the root part first.
    pub stations: Vec<usize>,
    /// The part of each vertex on a kept edge or a station (`usize::MAX` elsewhere).
    pub owner: Vec<usize>,
    /// Each part's load (the sum of its vertices' loads).
    pub load: Vec<f64>,
}

/// Splits the tree `tree` (indices into `edges`, a tree over `n` vertices containing `root`) into
/// parts of load at most `cap` each (see the module page) in which no path down from a part's
/// top drops more than `max_dp`, where `edge_dp(e, load)` is the drop along tree edge `e`
/// carrying `load` (design pressure drop, Pa; `f64::INFINITY` for no such limit). `load[v]` ≥ 0
/// is vertex `v`'s own load; `keep[v]`: a vertex that must stay in the network (a tap or a site)
/// even if it is a leaf with no load (a vertex with load always stays). Vertices not reachable
/// from `root` along the tree are left out.
#[allow(clippy::too_many_arguments)]
pub fn partition_tree(
    n: usize,
    edges: &[(usize, usize, f64)],
    tree: &[usize],
    root: usize,
    load: &[f64],
    keep: &[bool],
    cap: f64,
    edge_dp: &dyn Fn(usize, f64) -> f64,
    max_dp: f64,
    hold_root: bool,
) -> Partition {
    let other = |e: usize, v: usize| {
        if edges[e].0 == v {
            edges[e].1
        } else {
            edges[e].0
        }
    };
    let mut tadj: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &e in tree {
        let (a, b, _) = edges[e];
        if a != b {
            tadj[a].push(e);
            tadj[b].push(e);
        }
    }
    // Rooted tree: breadth-first order, each vertex's edge to its parent.
    let mut parent: Vec<Option<usize>> = vec![None; n];
    let mut seen = vec![false; n];
    let mut order = vec![root];
    seen[root] = true;
    let mut i = 0;
    while i < order.len() {
        let u = order[i];
        i += 1;
        for &e in &tadj[u] {
            let v = other(e, u);
            if !seen[v] {
                seen[v] = true;
                parent[v] = Some(e);
                order.push(v);
            }
        }
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &v in &order {
        if let Some(e) = parent[v] {
            children[other(e, v)].push(v);
        }
    }
    // Bottom-up: what each vertex passes up, cutting the heaviest children while over `cap`,
    // then the child with the largest pressure drop below while over `max_dp`.
    let mut resid = vec![0.0; n];
    let mut down = vec![0.0_f64; n];
    let mut cut = vec![false; n];
    for &v in order.iter().rev() {
        let mut sum = load[v].max(0.0);
        for &c in &children[v] {
            sum += resid[c];
        }
        if sum > cap {
            let mut by_load: Vec<usize> = children[v].clone();
            by_load.sort_by(|a, b| resid[*b].total_cmp(&resid[*a]).then(a.cmp(b)));
            for c in by_load {
                if sum <= cap || resid[c] <= 0.0 {
                    break;
                }
                cut[c] = true;
                sum -= resid[c];
            }
        }
        let mut below: Vec<(f64, usize)> = children[v]
            .iter()
            .filter(|c| !cut[**c])
            .map(|&c| {
                let e = parent[c].expect("a child has a parent edge");
                (edge_dp(e, resid[c]) + down[c], c)
            })
            .collect();
        below.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut k = 0;
        while k < below.len() && below[k].0 > max_dp {
            cut[below[k].1] = true;
            sum -= resid[below[k].1];
            k += 1;
        }
        resid[v] = sum;
        down[v] = below.get(k).map_or(0.0, |b| b.0);
    }
    // Parts: the root's first, then each cut subtree in breadth-first order.
    let mut owner = vec![usize::MAX; n];
    let mut tops = Vec::new();
    for &v in &order {
        owner[v] = match parent[v] {
            Some(e) if !cut[v] => owner[other(e, v)],
            _ => {
                tops.push(v);
                tops.len() - 1
            }
        };
    }
    // Parts that feed nothing (no load, nothing to keep: a bare stretch of street cut off by the
    // pressure-drop limit) are dropped, the root's excepted.
    let mut has_use: Vec<bool> = tops.iter().map(|&t| resid[t] > 0.0).collect();
    has_use[0] = true;
    for &v in &order {
        if keep.get(v).copied().unwrap_or(false) {
            has_use[owner[v]] = true;
        }
    }
    let mut renumber = vec![usize::MAX; tops.len()];
    let mut kept_tops = Vec::new();
    for (k, &t) in tops.iter().enumerate() {
        if has_use[k] {
            renumber[k] = kept_tops.len();
            kept_tops.push(t);
        }
    }
    for o in owner.iter_mut() {
        if *o != usize::MAX {
            *o = renumber[*o];
        }
    }
    let tops = kept_tops;
    let part_load: Vec<f64> = tops.iter().map(|&t| resid[t]).collect();
    // Each part's station: its top, or its load-weighted median.
    let several = tops.len() > 1;
    let stations: Vec<usize> = tops
        .iter()
        .enumerate()
        .map(|(k, &t)| {
            if k == 0 && (hold_root || !several) {
                return t;
            }
            let half = 0.5 * resid[t];
            let mut v = t;
            loop {
                let heaviest = children[v]
                    .iter()
                    .copied()
                    .filter(|c| !cut[*c])
                    .max_by(|a, b| resid[*a].total_cmp(&resid[*b]).then(b.cmp(a)));
                match heaviest {
                    Some(c) if resid[c] > half => v = c,
                    _ => break v,
                }
            }
        })
        .collect();
    // Kept edges, then dead ends pruned (leaves that are neither kept nor a station).
    let mut alive: Vec<bool> = vec![false; edges.len()];
    let mut deg = vec![0usize; n];
    let mut inc: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &v in &order {
        if let (Some(e), false) = (parent[v], cut[v]) {
            alive[e] = true;
            let u = other(e, v);
            deg[u] += 1;
            deg[v] += 1;
            inc[u].push(e);
            inc[v].push(e);
        }
    }
    let mut fixed: Vec<bool> = (0..n)
        .map(|v| keep.get(v).copied().unwrap_or(false) || load.get(v).is_some_and(|l| *l > 0.0))
        .collect();
    for &s in &stations {
        fixed[s] = true;
    }
    let mut stack: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&v| deg[v] == 1 && !fixed[v])
        .collect();
    stack.sort_unstable();
    while let Some(v) = stack.pop() {
        if deg[v] != 1 || fixed[v] {
            continue;
        }
        let Some(&e) = inc[v].iter().find(|e| alive[**e]) else {
            continue;
        };
        alive[e] = false;
        deg[v] = 0;
        let w = other(e, v);
        deg[w] -= 1;
        if deg[w] == 1 && !fixed[w] {
            stack.push(w);
        }
    }
    for &v in &order {
        if deg[v] == 0 && !fixed[v] {
            owner[v] = usize::MAX;
        }
    }
    let mut kept: Vec<usize> = tree.iter().copied().filter(|&e| alive[e]).collect();
    kept.sort_unstable();
    kept.dedup();
    Partition {
        edges: kept,
        stations,
        owner,
        load: part_load,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path 0 - 1 - … - (n−1) of unit edges.
    fn path(n: usize) -> Vec<(usize, usize, f64)> {
        (1..n).map(|v| (v - 1, v, 1.0)).collect()
    }

    #[test]
    fn a_tree_within_the_capacity_stays_one_part_at_its_root() {
        let e = path(5);
        let tree: Vec<usize> = (0..4).collect();
        let load = [0.0, 1.0, 1.0, 1.0, 1.0];
        let p = partition_tree(
            5,
            &e,
            &tree,
            0,
            &load,
            &[false; 5],
            10.0,
            &|_, _| 0.0,
            f64::INFINITY,
            false,
        );
        assert_eq!(p.stations, vec![0]);
        assert_eq!(p.edges, tree);
        assert_eq!(p.owner, vec![0; 5]);
        assert_eq!(p.load, vec![4.0]);
    }

    #[test]
    fn a_path_is_cut_into_the_fewest_parts_each_within_the_capacity() {
        // Ten vertices of load 1 on a path, capacity 3: ⌈10/3⌉ = 4 parts (the optimum).
        let e = path(10);
        let tree: Vec<usize> = (0..9).collect();
        let load = [1.0; 10];
        let p = partition_tree(
            10,
            &e,
            &tree,
            0,
            &load,
            &[false; 10],
            3.0,
            &|_, _| 0.0,
            f64::INFINITY,
            true,
        );
        assert_eq!(p.stations.len(), 4, "{p:?}");
        assert!(p.load.iter().all(|l| *l <= 3.0), "{:?}", p.load);
        assert_eq!(p.load.iter().sum::<f64>(), 10.0);
        assert_eq!(p.stations[0], 0, "the root is held");
        // Three edges cut; every vertex in exactly one part, parts connected along kept edges.
        assert_eq!(p.edges.len(), 9 - 3);
        for &k in &p.edges {
            assert_eq!(p.owner[e[k].0], p.owner[e[k].1]);
        }
        // Bottom-up: vertices 7–9 are the first part cut, its station at its median 8.
        assert_eq!(p.owner[9], p.owner[7]);
        assert_ne!(p.owner[6], p.owner[7]);
        assert!(p.stations.contains(&8), "{:?}", p.stations);
    }

    #[test]
    fn the_heaviest_branch_is_cut_first_and_stations_stand_at_the_median() {
        // A star: centre 0 with three arms 0-1-2, 0-3-4, 0-5-6; arm loads 5+5, 1+1, 2+2;
        // capacity 8: the 10-load arm goes (cut at 1), 0 keeps 2 + 4 = 6.
        let e = vec![
            (0, 1, 1.0),
            (1, 2, 1.0),
            (0, 3, 1.0),
            (3, 4, 1.0),
            (0, 5, 1.0),
            (5, 6, 1.0),
        ];
        let tree: Vec<usize> = (0..6).collect();
        let load = [0.0, 5.0, 5.0, 1.0, 1.0, 2.0, 2.0];
        let p = partition_tree(
            7,
            &e,
            &tree,
            0,
            &load,
            &[false; 7],
            8.0,
            &|_, _| 0.0,
            f64::INFINITY,
            false,
        );
        // The 10-load arm is over the capacity on its own: cut at 2 (5) and then 1 (5).
        assert!(p.load.iter().all(|l| *l <= 8.0), "{:?}", p.load);
        assert_eq!(p.stations.len(), 3, "{p:?}");
        assert_eq!(p.load[0], 6.0);
        // The root part moves to its median (not held): 5, from where the arm's end carries 2
        // and the rest 2 (from 0, the arm 5-6 would carry 4 > 6/2).
        assert_eq!(p.stations[0], 5);
        assert_eq!(p.stations[1..], [1, 2]);
        assert_ne!(p.owner[1], p.owner[2]);
    }

    #[test]
    fn a_moved_root_leaves_no_dead_end() {
        // 0 - 1 - 2 - 3 - 4, loads only at 3 and 4 (and far away at 1's other side nothing):
        // capacity 1.5 → parts {…, 3} and {4}; the root part's station moves to 3 (its median)
        // and the dead end 0 - 1 - 2 is pruned.
        let e = path(5);
        let tree: Vec<usize> = (0..4).collect();
        let load = [0.0, 0.0, 0.0, 1.0, 1.0];
        let p = partition_tree(
            5,
            &e,
            &tree,
            0,
            &load,
            &[false; 5],
            1.5,
            &|_, _| 0.0,
            f64::INFINITY,
            false,
        );
        assert_eq!(p.stations, vec![3, 4]);
        assert_eq!(p.edges, Vec::<usize>::new());
        assert_eq!(p.owner[0], usize::MAX);
        assert_eq!(p.owner[3], 0);
        assert_eq!(p.owner[4], 1);
        // Held, the root stays and its path to 3 is kept.
        let p = partition_tree(
            5,
            &e,
            &tree,
            0,
            &load,
            &[false; 5],
            1.5,
            &|_, _| 0.0,
            f64::INFINITY,
            true,
        );
        assert_eq!(p.stations, vec![0, 4]);
        assert_eq!(p.edges, vec![0, 1, 2]);
    }

    #[test]
    fn one_vertex_over_the_capacity_stays_one_part() {
        let e = path(3);
        let p = partition_tree(
            3,
            &e,
            &[0, 1],
            0,
            &[1.0, 9.0, 1.0],
            &[false; 3],
            5.0,
            &|_, _| 0.0,
            f64::INFINITY,
            true,
        );
        assert_eq!(p.load, vec![1.0, 9.0, 1.0]);
        assert_eq!(p.stations, vec![0, 1, 2]);
        assert!(p.edges.is_empty());
    }

    #[test]
    fn long_paths_are_cut_at_the_pressure_drop_limit() {
        // Six vertices on a path, 1 Pa per edge whatever it carries, at most 2.5 Pa below a
        // part's top, no load limit: 0-1-2 | 3-4-5, the second part's station at its median 4.
        let e = path(6);
        let tree: Vec<usize> = (0..5).collect();
        let load = [0.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let p = partition_tree(
            6,
            &e,
            &tree,
            0,
            &load,
            &[false; 6],
            f64::INFINITY,
            &|_, _| 1.0,
            2.5,
            true,
        );
        assert_eq!(p.stations, vec![0, 4]);
        assert_eq!(p.load, vec![2.0, 3.0]);
        assert_eq!(p.edges, vec![0, 1, 3, 4]);
        // A drop that grows with the load cuts earlier: 1 Pa per unit of load, at most 2.5 Pa.
        let p = partition_tree(
            6,
            &e,
            &tree,
            0,
            &load,
            &[false; 6],
            f64::INFINITY,
            &|_, l| l,
            2.5,
            true,
        );
        assert!(p.stations.len() >= 3, "{p:?}");
    }

    #[test]
    fn a_stretch_that_feeds_nothing_is_dropped() {
        // 0 - 1 - 2 - 3 - 4, loads at 0 and 4, 2 Pa per edge, at most 3 Pa: the cuts leave
        // {1, 2} feeding nothing (dropped) and {3, 4} with its station at 4 (3 pruned).
        let e = path(5);
        let tree: Vec<usize> = (0..4).collect();
        let load = [1.0, 0.0, 0.0, 0.0, 1.0];
        let p = partition_tree(
            5,
            &e,
            &tree,
            0,
            &load,
            &[false; 5],
            f64::INFINITY,
            &|_, _| 2.0,
            3.0,
            true,
        );
        assert_eq!(p.stations, vec![0, 4]);
        assert_eq!(p.load, vec![1.0, 1.0]);
        assert!(p.edges.is_empty());
        assert_eq!(p.owner[1], usize::MAX);
        assert_eq!(p.owner[2], usize::MAX);
        assert_eq!(p.owner[3], usize::MAX);
        assert_eq!(p.owner[4], 1);
    }
}

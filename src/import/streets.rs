//! The street graph of an imported district: the streets of [`super::District`] (polylines in
//! scene metres) turned into a graph whose edges keep their polylines, so that pipes laid along
//! it follow the streets.
//!
//! Steps, all deterministic (points rounded to millimetres, nodes keyed by integer millimetres in a
//! `BTreeMap`, ties broken by index):
//! 1. **Clean**: non-finite points dropped, points rounded to 1 mm, repeated points removed; a
//!    street with fewer than two distinct points is skipped with a message.
//! 2. **T-junctions**: a street's end lying within [`T_JUNCTION_TOL_M`] of the inside of another
//!    street's segment is moved onto that segment, and the segment gets a vertex there.
//! 3. **Snap**: a dangling end (a point no other street touches) within [`SNAP_ENDS_M`] of a vertex
//!    of another street is merged into it (digitising gaps).
//! 4. **Split**: every street end and every vertex shared by two streets (or met twice by one)
//!    becomes a node; the streets are cut there into edges that keep their polylines.
//! 5. **Bridge**: the largest connected part (by street length) is the network; a smaller part
//!    whose shortest gap to another part is at most [`BRIDGE_MAX_M`] is joined by a straight bridge
//!    edge (Borůvka rounds: every part not yet joined takes its shortest gap, shortest first),
//!    reported; parts still apart are left out, reported.
//!
//! Nearest queries use an R-tree ([`rstar`]) over the segments; components use petgraph's
//! union-find. Points are attached to the graph ([`StreetGraph::attach`]) by splitting edges at
//! the nearest street point (a *tap* node).

use std::collections::BTreeMap;

use petgraph::unionfind::UnionFind;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Line};

use super::Street;

/// A point on the scene's plane, m.
pub type P = [f64; 2];

/// A street end this close to the inside of another street's segment is joined to it, m.
pub const T_JUNCTION_TOL_M: f64 = 0.5;
/// A dangling street end this close to another street's vertex is merged into it, m.
pub const SNAP_ENDS_M: f64 = 2.0;
/// A part of the street graph this close to another part is bridged to it, m.
pub const BRIDGE_MAX_M: f64 = 50.0;

/// Integer-millimetre key of a point.
pub fn key(p: P) -> (i64, i64) {
    (
        (p[0] * 1000.0).round() as i64,
        (p[1] * 1000.0).round() as i64,
    )
}

/// A point rounded to millimetres.
pub fn round_mm(p: P) -> P {
    [
        (p[0] * 1000.0).round() / 1000.0,
        (p[1] * 1000.0).round() / 1000.0,
    ]
}

/// Distance between two points, m.
pub fn dist(a: P, b: P) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// Length of a polyline, m.
pub fn polyline_length(pts: &[P]) -> f64 {
    pts.windows(2).map(|w| dist(w[0], w[1])).sum()
}

/// The point of segment `a`–`b` nearest to `p`: (parameter t in [0, 1], point, distance).
pub fn closest_on_segment(p: P, a: P, b: P) -> (f64, P, f64) {
    let ab = [b[0] - a[0], b[1] - a[1]];
    let l2 = ab[0] * ab[0] + ab[1] * ab[1];
    let t = if l2 > 0.0 {
        (((p[0] - a[0]) * ab[0] + (p[1] - a[1]) * ab[1]) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let q = [a[0] + t * ab[0], a[1] + t * ab[1]];
    (t, q, dist(p, q))
}

/// Closest points of two segments `a0`–`a1` and `b0`–`b1`: (distance, point on a, t on b, point
/// on b). Crossing segments give distance 0 at the crossing.
fn segment_pair(a0: P, a1: P, b0: P, b1: P) -> (f64, P, f64, P) {
    let r = [a1[0] - a0[0], a1[1] - a0[1]];
    let s = [b1[0] - b0[0], b1[1] - b0[1]];
    let den = r[0] * s[1] - r[1] * s[0];
    if den != 0.0 {
        let qp = [b0[0] - a0[0], b0[1] - a0[1]];
        let t = (qp[0] * s[1] - qp[1] * s[0]) / den;
        let u = (qp[0] * r[1] - qp[1] * r[0]) / den;
        if (0.0..=1.0).contains(&t) && (0.0..=1.0).contains(&u) {
            let x = [a0[0] + t * r[0], a0[1] + t * r[1]];
            return (0.0, x, u, x);
        }
    }
    let mut best = {
        let (t, q, d) = closest_on_segment(a0, b0, b1);
        (d, a0, t, q)
    };
    let (t, q, d) = closest_on_segment(a1, b0, b1);
    if d < best.0 {
        best = (d, a1, t, q);
    }
    for (bp, tb) in [(b0, 0.0), (b1, 1.0)] {
        let (_, q, d) = closest_on_segment(bp, a0, a1);
        if d < best.0 {
            best = (d, q, tb, bp);
        }
    }
    best
}

/// One edge of the street graph.
#[derive(Debug, Clone, PartialEq)]
pub struct StreetEdge {
    pub a: usize,
    pub b: usize,
    /// Polyline from node `a` to node `b` (both included), mm-rounded, m.
    pub points: Vec<P>,
    pub length_m: f64,
    pub width_m: f64,
    /// The street it came from (`way/4711`), or `bridge` for a bridging edge.
    pub source_id: String,
}

/// Where a footprint or point was attached to the street graph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attachment {
    /// The tap node on the street.
    pub node: usize,
    /// The point of the footprint (or the point itself) nearest to the street, mm-rounded.
    pub from: P,
    /// Distance from `from` to the tap, m.
    pub distance_m: f64,
}

/// The street graph (see the module page).
#[derive(Debug, Clone, Default)]
pub struct StreetGraph {
    /// Node positions, mm-rounded, m.
    pub nodes: Vec<P>,
    pub edges: Vec<StreetEdge>,
    /// What was repaired, bridged or left out, one line each.
    pub messages: Vec<String>,
    /// Number of bridging edges added.
    pub bridges: usize,
    /// Street length left out because it lay too far from the network, m.
    pub dropped_length_m: f64,
}

type SegTree = RTree<GeomWithData<Line<P>, (u32, u32)>>;

impl StreetGraph {
    /// Builds the graph from the district's streets (see the module page).
    pub fn build(streets: &[Street]) -> StreetGraph {
        let mut messages = Vec::new();
        // 1. Clean.
        let mut lines: Vec<Vec<P>> = Vec::with_capacity(streets.len());
        let mut keep_src: Vec<usize> = Vec::with_capacity(streets.len());
        for (i, s) in streets.iter().enumerate() {
            let pts = dedup(
                s.points
                    .iter()
                    .filter(|p| p[0].is_finite() && p[1].is_finite())
                    .map(|p| round_mm(*p))
                    .collect(),
            );
            if pts.len() < 2 {
                messages.push(format!(
                    "{}: fewer than two distinct points; not used",
                    s.source_id
                ));
                continue;
            }
            lines.push(pts);
            keep_src.push(i);
        }

        // 2. T-junctions.
        let tree: SegTree = RTree::bulk_load(
            lines
                .iter()
                .enumerate()
                .flat_map(|(s, l)| {
                    l.windows(2).enumerate().map(move |(k, w)| {
                        GeomWithData::new(Line::new(w[0], w[1]), (s as u32, k as u32))
                    })
                })
                .collect(),
        );
        let mut inserts: BTreeMap<(usize, usize), Vec<(f64, P)>> = BTreeMap::new();
        let mut moves: Vec<(usize, usize, P)> = Vec::new();
        for (s, l) in lines.iter().enumerate() {
            let last = l.len() - 1;
            for (end, seg_own) in [(0usize, 0usize), (last, last - 1)] {
                let p = l[end];
                let mut best: Option<(f64, usize, usize, f64, P)> = None;
                for c in tree.locate_within_distance(p, T_JUNCTION_TOL_M * T_JUNCTION_TOL_M) {
                    let (cs, ck) = (c.data.0 as usize, c.data.1 as usize);
                    if cs == s && ck == seg_own {
                        continue;
                    }
                    let (a, b) = (c.geom().from, c.geom().to);
                    if key(a) == key(p) || key(b) == key(p) {
                        best = None;
                        break; // already joined at a vertex
                    }
                    let (t, q, d) = closest_on_segment(p, a, b);
                    let q = round_mm(q);
                    if key(q) == key(a) || key(q) == key(b) {
                        continue; // near a vertex: the snapping step's business
                    }
                    if best.is_none_or(|(bd, bs, bk, _, _)| (d, cs, ck) < (bd, bs, bk)) {
                        best = Some((d, cs, ck, t, q));
                    }
                }
                if let Some((_, cs, ck, t, q)) = best {
                    inserts.entry((cs, ck)).or_default().push((t, q));
                    moves.push((s, end, q));
                }
            }
        }
        for (s, end, q) in moves {
            lines[s][end] = q;
        }
        if !inserts.is_empty() {
            messages.push(format!(
                "{} street end(s) joined to the street they meet (T-junctions within {T_JUNCTION_TOL_M} m)",
                inserts.values().map(Vec::len).sum::<usize>()
            ));
        }
        for (s, l) in lines.iter_mut().enumerate() {
            if !inserts.range((s, 0)..(s + 1, 0)).any(|_| true) {
                continue;
            }
            let mut out = Vec::with_capacity(l.len() + 2);
            for (k, p) in l.iter().enumerate() {
                out.push(*p);
                if let Some(v) = inserts.get_mut(&(s, k)) {
                    v.sort_by(|a, b| a.0.total_cmp(&b.0));
                    out.extend(v.iter().map(|x| x.1));
                }
            }
            *l = dedup(out);
        }

        // 3. Snap dangling ends to other streets' vertices.
        let mut count: BTreeMap<(i64, i64), usize> = BTreeMap::new();
        for l in &lines {
            for p in l {
                *count.entry(key(*p)).or_default() += 1;
            }
        }
        let vtree: RTree<GeomWithData<P, u32>> = RTree::bulk_load(
            lines
                .iter()
                .enumerate()
                .flat_map(|(s, l)| l.iter().map(move |p| GeomWithData::new(*p, s as u32)))
                .collect(),
        );
        let mut snap: BTreeMap<(i64, i64), P> = BTreeMap::new();
        let mut snapped = 0usize;
        for (s, l) in lines.iter().enumerate() {
            for end in [0, l.len() - 1] {
                let p = l[end];
                if count[&key(p)] > 1 || snap.contains_key(&key(p)) {
                    continue;
                }
                let mut best: Option<(f64, (i64, i64), P)> = None;
                for c in vtree.locate_within_distance(p, SNAP_ENDS_M * SNAP_ENDS_M) {
                    if c.data as usize == s {
                        continue;
                    }
                    let q = *c.geom();
                    let d = dist(p, q);
                    if best.is_none_or(|(bd, bk, _)| (d, key(q)) < (bd, bk)) {
                        best = Some((d, key(q), q));
                    }
                }
                if let Some((_, _, q)) = best {
                    // Follow an earlier snap of the target, so merged points stay one.
                    let q = snap.get(&key(q)).copied().unwrap_or(q);
                    if key(q) != key(p) {
                        snap.insert(key(p), q);
                        snapped += 1;
                    }
                }
            }
        }
        if snapped > 0 {
            for l in &mut lines {
                for p in l.iter_mut() {
                    if let Some(q) = snap.get(&key(*p)) {
                        *p = *q;
                    }
                }
                *l = dedup(std::mem::take(l));
            }
            messages.push(format!(
                "{snapped} dangling street end(s) snapped to a street within {SNAP_ENDS_M} m"
            ));
        }

        // 4. Nodes and edges.
        let mut count: BTreeMap<(i64, i64), usize> = BTreeMap::new();
        for l in lines.iter().filter(|l| l.len() >= 2) {
            for p in l {
                *count.entry(key(*p)).or_default() += 1;
            }
            for p in [l[0], l[l.len() - 1]] {
                *count.entry(key(p)).or_default() += 2;
            }
        }
        let mut node_of: BTreeMap<(i64, i64), usize> = BTreeMap::new();
        let mut nodes = Vec::new();
        for (k, c) in &count {
            if *c >= 2 {
                node_of.insert(*k, nodes.len());
                nodes.push([k.0 as f64 / 1000.0, k.1 as f64 / 1000.0]);
            }
        }
        let mut edges = Vec::new();
        for (l, &src) in lines.iter().zip(&keep_src) {
            if l.len() < 2 {
                continue;
            }
            let s = &streets[src];
            let mut start = 0usize;
            for k in 1..l.len() {
                if let Some(&b) = node_of.get(&key(l[k])) {
                    let a = node_of[&key(l[start])];
                    let pts = l[start..=k].to_vec();
                    let len = polyline_length(&pts);
                    if a != b && len > 0.0 {
                        edges.push(StreetEdge {
                            a,
                            b,
                            points: pts,
                            length_m: len,
                            width_m: s.width_m,
                            source_id: s.source_id.clone(),
                        });
                    }
                    start = k;
                }
            }
        }
        let mut g = StreetGraph {
            nodes,
            edges,
            messages,
            bridges: 0,
            dropped_length_m: 0.0,
        };
        g.bridge_and_keep_main();
        g
    }

    /// The root of the main part of the graph under `uf`: the part with the most street length
    /// (ties: the smallest root).
    fn main_part(&self, uf: &mut UnionFind<usize>) -> usize {
        let n = self.nodes.len();
        let mut len = vec![0.0; n];
        for e in &self.edges {
            len[uf.find(e.a)] += e.length_m;
        }
        (0..n)
            .filter(|v| uf.find(*v) == *v)
            .max_by(|a, b| len[*a].total_cmp(&len[*b]).then(b.cmp(a)))
            .unwrap_or(0)
    }

    /// 5. Bridges small parts to the network and drops the parts still apart.
    fn bridge_and_keep_main(&mut self) {
        let n = self.nodes.len();
        if n == 0 {
            return;
        }
        let mut uf = UnionFind::<usize>::new(n);
        for e in &self.edges {
            uf.union(e.a, e.b);
        }
        let tree = self.segment_tree();
        let mut bridges: Vec<(usize, usize, usize, P, f64)> = Vec::new();
        loop {
            let main = self.main_part(&mut uf);
            // Each part not joined to the main one: its shortest gap to another part.
            let mut best: BTreeMap<usize, (f64, usize, usize, usize, P)> = BTreeMap::new();
            for v in 0..n {
                let r = uf.find(v);
                if uf.equiv(r, main) {
                    continue;
                }
                let p = self.nodes[v];
                for (c, d2) in tree.nearest_neighbor_iter_with_distance_2(&p) {
                    if d2 > BRIDGE_MAX_M * BRIDGE_MAX_M {
                        break;
                    }
                    let e = c.data.0 as usize;
                    if uf.equiv(self.edges[e].a, v) {
                        continue;
                    }
                    let d = d2.sqrt();
                    let q = round_mm(c.geom().nearest_point(&p));
                    let cand = (d, v, e, c.data.1 as usize, q);
                    let better = best.get(&r).is_none_or(|b| (d, v, e) < (b.0, b.1, b.2));
                    if better {
                        best.insert(r, cand);
                    }
                    break;
                }
            }
            let mut cands: Vec<_> = best.into_values().collect();
            cands.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut joined = false;
            for (d, v, e, k, q) in cands {
                if uf.union(v, self.edges[e].a) {
                    bridges.push((v, e, k, q, d));
                    joined = true;
                }
            }
            if !joined {
                break;
            }
        }
        // Split the bridged edges and add the bridges.
        let splits: Vec<(usize, usize, P)> = bridges.iter().map(|b| (b.1, b.2, b.3)).collect();
        let taps = self.split_edges(&splits);
        for (b, t) in bridges.iter().zip(taps) {
            let (a, p) = (b.0, self.nodes[b.0]);
            let q = self.nodes[t];
            if a == t || key(p) == key(q) {
                continue;
            }
            self.messages.push(format!(
                "a street part was bridged to the network across a {:.1} m gap at ({:.1}, {:.1})",
                b.4, p[0], p[1]
            ));
            self.edges.push(StreetEdge {
                a,
                b: t,
                points: vec![p, q],
                length_m: dist(p, q),
                width_m: 0.0,
                source_id: "bridge".into(),
            });
            self.bridges += 1;
        }
        // Keep the main part.
        let n = self.nodes.len();
        let mut uf = UnionFind::<usize>::new(n);
        for e in &self.edges {
            uf.union(e.a, e.b);
        }
        let main = self.main_part(&mut uf);
        let mut dropped: BTreeMap<usize, (f64, Vec<String>)> = BTreeMap::new();
        for e in &self.edges {
            let r = uf.find(e.a);
            if !uf.equiv(r, main) {
                let x = dropped.entry(r).or_default();
                x.0 += e.length_m;
                if !x.1.contains(&e.source_id) {
                    x.1.push(e.source_id.clone());
                }
            }
        }
        for (l, ids) in dropped.values() {
            self.dropped_length_m += l;
            let more = if ids.len() > 3 {
                format!(" and {} more", ids.len() - 3)
            } else {
                String::new()
            };
            self.messages.push(format!(
                "streets {}{more} ({l:.0} m) lie more than {BRIDGE_MAX_M} m from the street network; not used",
                ids.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        // Renumber the kept nodes in their old order.
        let mut new_id = vec![usize::MAX; n];
        let mut nodes = Vec::new();
        for (v, id) in new_id.iter_mut().enumerate() {
            if uf.equiv(v, main) {
                *id = nodes.len();
                nodes.push(self.nodes[v]);
            }
        }
        let edges: Vec<StreetEdge> = std::mem::take(&mut self.edges)
            .into_iter()
            .filter(|e| new_id[e.a] != usize::MAX)
            .map(|mut e| {
                e.a = new_id[e.a];
                e.b = new_id[e.b];
                e
            })
            .collect();
        self.nodes = nodes;
        self.edges = edges;
    }

    fn segment_tree(&self) -> SegTree {
        RTree::bulk_load(
            self.edges
                .iter()
                .enumerate()
                .flat_map(|(e, ed)| {
                    ed.points.windows(2).enumerate().map(move |(k, w)| {
                        GeomWithData::new(Line::new(w[0], w[1]), (e as u32, k as u32))
                    })
                })
                .collect(),
        )
    }

    /// Splits edges at points on them: each `(edge, segment, point)`; returns the node at each
    /// point (an existing node when the point is one, e.g. an edge's end).
    pub fn split_edges(&mut self, splits: &[(usize, usize, P)]) -> Vec<usize> {
        let mut node_of: BTreeMap<(i64, i64), usize> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, p)| (key(*p), i))
            .collect();
        let mut out = vec![usize::MAX; splits.len()];
        let mut by_edge: BTreeMap<usize, Vec<(usize, f64, usize)>> = BTreeMap::new();
        for (i, &(e, k, p)) in splits.iter().enumerate() {
            let ed = &self.edges[e];
            let (t, _, _) = closest_on_segment(p, ed.points[k], ed.points[k + 1]);
            by_edge.entry(e).or_default().push((k, t, i));
        }
        for (e, mut v) in by_edge {
            v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2)));
            let old = self.edges[e].clone();
            // The polyline with the split points in, and which of its points are cuts.
            let mut seq: Vec<(P, bool)> = Vec::with_capacity(old.points.len() + v.len());
            let mut j = 0;
            for k in 0..old.points.len() {
                seq.push((old.points[k], k == 0 || k + 1 == old.points.len()));
                while j < v.len() && v[j].0 == k {
                    seq.push((round_mm(splits[v[j].2].2), true));
                    j += 1;
                }
            }
            // Merge repeated points (a split on a vertex), keeping the cut mark.
            let mut merged: Vec<(P, bool)> = Vec::with_capacity(seq.len());
            for (p, c) in seq {
                match merged.last_mut() {
                    Some(last) if key(last.0) == key(p) => last.1 |= c,
                    _ => merged.push((p, c)),
                }
            }
            let last = merged.len() - 1;
            // The ends of the old edge keep their nodes.
            let mut node_at = vec![usize::MAX; merged.len()];
            node_at[0] = old.a;
            node_at[last] = old.b;
            for (i, (p, c)) in merged.iter().enumerate() {
                if *c && node_at[i] == usize::MAX {
                    node_at[i] = *node_of.entry(key(*p)).or_insert_with(|| {
                        self.nodes.push(*p);
                        self.nodes.len() - 1
                    });
                }
            }
            for &(_, _, i) in &v {
                let k = key(round_mm(splits[i].2));
                out[i] = (0..merged.len())
                    .find(|m| key(merged[*m].0) == k)
                    .map(|m| node_at[m])
                    .unwrap_or(old.a);
            }
            let mut pieces = Vec::new();
            let mut start = 0;
            for i in 1..merged.len() {
                if node_at[i] != usize::MAX {
                    let pts: Vec<P> = merged[start..=i].iter().map(|x| x.0).collect();
                    let len = polyline_length(&pts);
                    if node_at[start] != node_at[i] && len > 0.0 {
                        pieces.push(StreetEdge {
                            a: node_at[start],
                            b: node_at[i],
                            points: pts,
                            length_m: len,
                            width_m: old.width_m,
                            source_id: old.source_id.clone(),
                        });
                    }
                    start = i;
                }
            }
            let mut it = pieces.into_iter();
            match it.next() {
                Some(first) => self.edges[e] = first,
                None => self.edges[e].length_m = 0.0,
            }
            self.edges.extend(it);
        }
        out
    }

    /// Attaches footprints (or points: a one-point polygon) to the nearest street: the closest
    /// pair of a footprint's edge and a street segment; the street edge is split there (a tap
    /// node). `Err(distance)` for one farther than `max_m` (infinite when the graph has no
    /// edge or the shape no point).
    pub fn attach(&mut self, shapes: &[Vec<P>], max_m: f64) -> Vec<Result<Attachment, f64>> {
        if self.edges.is_empty() {
            return vec![Err(f64::INFINITY); shapes.len()];
        }
        let tree = self.segment_tree();
        // (distance, footprint point, edge, segment, street point)
        type Nearest = (f64, P, usize, usize, P);
        let mut found: Vec<Result<Nearest, f64>> = Vec::with_capacity(shapes.len());
        for poly in shapes {
            if poly.is_empty() {
                found.push(Err(f64::INFINITY));
                continue;
            }
            let n = poly.len() as f64;
            let c = [
                poly.iter().map(|p| p[0]).sum::<f64>() / n,
                poly.iter().map(|p| p[1]).sum::<f64>() / n,
            ];
            let r = poly.iter().map(|p| dist(*p, c)).fold(0.0, f64::max);
            let Some(first) = tree.nearest_neighbor(&c) else {
                found.push(Err(f64::INFINITY));
                continue;
            };
            let d0 = dist(first.geom().nearest_point(&c), c);
            let reach = d0 + 2.0 * r + 1e-6;
            let mut best: Option<Nearest> = None;
            for cand in tree.locate_within_distance(c, reach * reach) {
                let (e, k) = (cand.data.0 as usize, cand.data.1 as usize);
                let (b0, b1) = (cand.geom().from, cand.geom().to);
                let edges_of_poly = poly.len().max(2) - if poly.len() <= 2 { 1 } else { 0 };
                for i in 0..edges_of_poly {
                    let a0 = poly[i];
                    let a1 = poly[(i + 1) % poly.len()];
                    let (d, pa, _, pb) = segment_pair(a0, a1, b0, b1);
                    if best.is_none_or(|b| (d, e, k) < (b.0, b.2, b.3)) {
                        best = Some((d, pa, e, k, pb));
                    }
                }
            }
            found.push(match best {
                Some(b) if b.0 <= max_m => Ok(b),
                Some(b) => Err(b.0),
                None => Err(f64::INFINITY),
            });
        }
        let splits: Vec<(usize, usize, P)> = found
            .iter()
            .flatten()
            .map(|b| (b.2, b.3, round_mm(b.4)))
            .collect();
        let taps = self.split_edges(&splits);
        let mut taps = taps.into_iter();
        found
            .into_iter()
            .map(|f| {
                f.map(|b| {
                    let node = taps.next().expect("one tap per split");
                    let from = round_mm(b.1);
                    Attachment {
                        node,
                        from,
                        distance_m: dist(from, self.nodes[node]),
                    }
                })
            })
            .collect()
    }

    /// Edges as (a, b, length) for the Steiner tree (an edge emptied by a split has length 0
    /// and `a == b` is never produced).
    pub fn weighted_edges(&self) -> Vec<(usize, usize, f64)> {
        self.edges.iter().map(|e| (e.a, e.b, e.length_m)).collect()
    }

    /// The node nearest to `p` among those with at least one edge.
    pub fn nearest_node(&self, p: P) -> Option<usize> {
        self.nearest_node_where(p, |_| true)
    }

    /// The node nearest to `p` among those with at least one edge for which `ok` holds.
    pub fn nearest_node_where(&self, p: P, ok: impl Fn(usize) -> bool) -> Option<usize> {
        let mut used = vec![false; self.nodes.len()];
        for e in self.edges.iter().filter(|e| e.length_m > 0.0) {
            used[e.a] = true;
            used[e.b] = true;
        }
        (0..self.nodes.len())
            .filter(|v| used[*v] && ok(*v))
            .min_by(|a, b| {
                dist(self.nodes[*a], p)
                    .total_cmp(&dist(self.nodes[*b], p))
                    .then(a.cmp(b))
            })
    }
}

/// Removes consecutive repeated points (same millimetre key).
fn dedup(pts: Vec<P>) -> Vec<P> {
    let mut out: Vec<P> = Vec::with_capacity(pts.len());
    for p in pts {
        if out.last().is_none_or(|q| key(*q) != key(p)) {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(id: &str, pts: &[P]) -> Street {
        Street {
            source_id: id.into(),
            points: pts.to_vec(),
            class: "residential".into(),
            width_m: 8.0,
        }
    }

    #[test]
    fn splits_at_shared_nodes_and_t_junctions() {
        // A cross sharing (50, 0), and a T whose end lies 0.3 m off the first street's inside.
        let g = StreetGraph::build(&[
            st("a", &[[0.0, 0.0], [50.0, 0.0], [100.0, 0.0]]),
            st("b", &[[50.0, -40.0], [50.0, 0.0], [50.0, 40.0]]),
            st("c", &[[80.0, 0.3], [80.0, 60.0]]),
        ]);
        // Nodes: the 5 ends of a and b, (50,0), (80,0) and c's far end.
        assert_eq!(g.nodes.len(), 7, "{:?}", g.nodes);
        assert_eq!(g.edges.len(), 6);
        let total: f64 = g.edges.iter().map(|e| e.length_m).sum();
        assert!((total - (100.0 + 80.0 + 60.0)).abs() < 1e-6, "{total}");
        assert!(g.nodes.contains(&[80.0, 0.0]));
    }

    #[test]
    fn snaps_near_ends_and_bridges_fragments() {
        let g = StreetGraph::build(&[
            st("a", &[[0.0, 0.0], [100.0, 0.0], [150.0, 0.0]]),
            // ends 1.5 m from a's vertex: snapped onto it (a node there)
            st("b", &[[101.0, 1.118], [101.0, 80.0]]),
            // a fragment 30 m off a's middle: bridged
            st("c", &[[50.0, 30.0], [50.0, 60.0]]),
            // a fragment 300 m away: dropped
            st("d", &[[500.0, 500.0], [520.0, 500.0]]),
        ]);
        assert_eq!(g.bridges, 1);
        assert!(g.dropped_length_m > 19.9 && g.dropped_length_m < 20.1);
        let mut uf = UnionFind::<usize>::new(g.nodes.len());
        for e in &g.edges {
            uf.union(e.a, e.b);
        }
        assert!((0..g.nodes.len()).all(|v| uf.equiv(v, 0)));
        let bridge = g.edges.iter().find(|e| e.source_id == "bridge").unwrap();
        assert!((bridge.length_m - 30.0).abs() < 1e-9, "{:?}", g.edges);
        assert!(g.nodes.contains(&[100.0, 0.0]));
        assert!(
            g.edges
                .iter()
                .any(|e| e.points[0] == [100.0, 0.0] && e.source_id == "b")
        );
        assert!(g.messages.iter().any(|m| m.contains("not used")));
    }

    #[test]
    fn attaches_footprints_at_their_nearest_edge() {
        let mut g = StreetGraph::build(&[st("a", &[[0.0, 0.0], [100.0, 0.0]])]);
        let house = vec![[40.0, 10.0], [50.0, 10.0], [50.0, 20.0], [40.0, 20.0]];
        let far = vec![[40.0, 300.0], [50.0, 300.0], [50.0, 310.0]];
        let a = g.attach(&[house, far], 150.0);
        let h = a[0].unwrap();
        assert!((h.distance_m - 10.0).abs() < 1e-9);
        assert_eq!(g.nodes[h.node][1], 0.0);
        assert!((a[1].unwrap_err() - 300.0).abs() < 1e-9);
        assert_eq!(g.edges.len(), 2);
        let total: f64 = g.edges.iter().map(|e| e.length_m).sum();
        assert!((total - 100.0).abs() < 1e-9);
    }
}

//! Heat-network design: pipe sizing, station pump heads, boiler and storage sizes, the number
//! and placement of the boiler stations and the shortest-path forest the network follows.

use super::geometry::{P, VertexIndex, add, dist, mean, mul, r2, round_up};
use super::streets::Plan;
use crate::math::Det;
use crate::scene::*;
use std::collections::BinaryHeap;

/// Head of a station's pump set, Pa: 1.3 × (the design pressure drop of the worst path, supply
/// and return, plus the smallest substation differential pressure) + 0.5 bar for the station,
/// within 3–25 bar, rounded up to 0.5 bar. `dp_worst_pa` is one way (supply only).
pub(crate) fn design_pump_head_pa(dp_worst_pa: f64, min_dp_pa: f64) -> f64 {
    round_up(
        (1.3 * (2.0 * dp_worst_pa + min_dp_pa) + 5.0e4).clamp(3.0e5, 2.5e6),
        5.0e4,
    )
}

/// A boiler station's capacity for the design load it feeds, W: 1.1 × load, rounded up to
/// 100 kW, at least 100 kW.
pub(crate) fn boiler_capacity_w(load_w: f64) -> f64 {
    round_up(1.1 * load_w, 1.0e5).max(1.0e5)
}

/// The main station's plants for the design load it feeds: `boiler_main` (see
/// [`boiler_capacity_w`]), `storage_main` (one hour of a quarter of the load at
/// `t_supply`/`t_return`) and `pump_main` of `head_pa`.
pub(crate) fn main_station_plants(
    main: &str,
    load_w: f64,
    head_pa: f64,
    fluid: &Fluid,
    t_supply: f64,
    t_return: f64,
) -> Vec<Plant> {
    let boiler = boiler_capacity_w(load_w);
    let store_w = round_up(0.25 * load_w, 1.0e4).max(1.0e4);
    let volume = round_up(
        store_w * 3600.0 / (fluid.density_kg_m3 * fluid.cp_j_kg_k * (t_supply - t_return)),
        1.0,
    );
    let diameter = (2.0 * volume / std::f64::consts::PI).cbrt_d();
    let tank_loss = r2(0.3 * 2.5 * std::f64::consts::PI * diameter * diameter);
    vec![
        Plant::GasBoiler {
            id: "boiler_main".into(),
            node: main.to_string(),
            capacity_w: boiler,
            efficiency: 0.92,
        },
        Plant::Storage {
            id: "storage_main".into(),
            node: main.to_string(),
            volume_m3: volume,
            max_power_w: store_w,
            delta_t_k: t_supply - t_return,
            loss_w_k: tank_loss,
            initial_soc: 0.5,
        },
        Plant::CirculationPump {
            id: "pump_main".into(),
            node: main.to_string(),
            efficiency: 0.72,
            max_head_pa: head_pa,
        },
    ]
}

/// A further boiler station's plants (the `k`-th station, counted from 1 for the main one):
/// `boiler_main{k}` of `boiler_w` and `pump_main{k}` of `head_pa`, at `node`.
pub(crate) fn satellite_station_plants(
    k: usize,
    node: &str,
    boiler_w: f64,
    head_pa: f64,
) -> [Plant; 2] {
    [
        Plant::GasBoiler {
            id: format!("boiler_main{k}"),
            node: node.to_string(),
            capacity_w: boiler_w,
            efficiency: 0.92,
        },
        Plant::CirculationPump {
            id: format!("pump_main{k}"),
            node: node.to_string(),
            efficiency: 0.72,
            max_head_pa: head_pa,
        },
    ]
}

/// Shortest-path forest of the street graph from the stations.
pub(super) struct Forest {
    /// Parent vertex and street edge (None at the stations and where no station reaches).
    pub(super) parent: Vec<Option<(usize, usize)>>,
    /// Index of the station a vertex is fed from.
    pub(super) owner: Vec<usize>,
    /// Vertices in the order they were reached (parents before children).
    pub(super) order: Vec<usize>,
    /// Whether a station reaches the vertex.
    pub(super) done: Vec<bool>,
}

/// Multi-source Dijkstra from `stations`, each starting at its `offsets` (≥ 0, m; larger: a
/// smaller area), arterials (≥ 14 m wide) counted 30 % shorter so the trunks follow them. No
/// station is fed from another.
pub(super) fn shortest_forest(
    plan: &Plan,
    adj: &[Vec<(usize, usize)>],
    stations: &[usize],
    offsets: &[f64],
) -> Forest {
    let nv = plan.verts.len();
    let mut dist_to = vec![f64::INFINITY; nv];
    let mut parent: Vec<Option<(usize, usize)>> = vec![None; nv];
    let mut owner = vec![0usize; nv];
    let mut order = Vec::with_capacity(nv);
    let mut done = vec![false; nv];
    let mut is_station = vec![false; nv];
    let mut heap = BinaryHeap::new();
    for (k, &s) in stations.iter().enumerate() {
        is_station[s] = true;
        dist_to[s] = offsets[k];
        owner[s] = k;
        heap.push(std::cmp::Reverse((offsets[k].to_bits(), s)));
    }
    while let Some(std::cmp::Reverse((dbits, u))) = heap.pop() {
        if done[u] {
            continue;
        }
        done[u] = true;
        order.push(u);
        let du = f64::from_bits(dbits);
        for &(w, e) in &adj[u] {
            let edge = &plan.edges[e];
            let d = du
                + dist(plan.verts[edge.a], plan.verts[edge.b])
                    * if edge.width >= 14.0 { 0.7 } else { 1.0 };
            if d < dist_to[w] && !is_station[w] {
                dist_to[w] = d;
                parent[w] = Some((u, e));
                owner[w] = owner[u];
                heap.push(std::cmp::Reverse((d.to_bits(), w)));
            }
        }
    }
    Forest {
        parent,
        owner,
        order,
        done,
    }
}

/// Buildings one heat-only boiler station is planned for; a city gets
/// `max(1, ⌈buildings / BUILDINGS_PER_STATION⌉)` stations.
pub const BUILDINGS_PER_STATION: usize = 2500;

/// Number of boiler stations of a city of `buildings` buildings.
pub fn station_count(buildings: usize) -> usize {
    buildings.div_ceil(BUILDINGS_PER_STATION).max(1)
}

/// Centres of a weighted k-means split of the points `pts` (weights `wts`) into `n` parts:
/// the first centre starts at `first` (and stays there when `hold_first`), the others are started
/// by farthest-point sampling, then 30 rounds of Lloyd's iteration (each point to its nearest
/// centre, each free centre to its part's weighted mean). Deterministic (ties to the lower
/// index). Used for the generator's stations.
pub(super) fn kmeans_centres(
    pts: &[[f64; 2]],
    wts: &[f64],
    first: [f64; 2],
    n: usize,
    hold_first: bool,
) -> Vec<[f64; 2]> {
    let mut centres = vec![first];
    let mut near: Vec<f64> = pts.iter().map(|p| dist(*p, centres[0])).collect();
    while centres.len() < n {
        let Some(k) = (0..pts.len()).max_by(|a, b| near[*a].total_cmp(&near[*b]).then(b.cmp(a)))
        else {
            break;
        };
        centres.push(pts[k]);
        for (d, p) in near.iter_mut().zip(pts) {
            *d = d.min(dist(*p, pts[k]));
        }
    }
    let nearest_centre = |p: P, centres: &[P]| {
        (0..centres.len())
            .min_by(|a, b| {
                dist(p, centres[*a])
                    .total_cmp(&dist(p, centres[*b]))
                    .then(a.cmp(b))
            })
            .unwrap_or(0)
    };
    for _ in 0..30 {
        let mut sum = vec![[0.0; 2]; centres.len()];
        let mut w = vec![0.0; centres.len()];
        for (p, &wt) in pts.iter().zip(wts) {
            let c = nearest_centre(*p, &centres);
            sum[c] = add(sum[c], mul(*p, wt));
            w[c] += wt;
        }
        for ((c, s), &wc) in centres
            .iter_mut()
            .zip(&sum)
            .zip(&w)
            .skip(usize::from(hold_first))
        {
            if wc > 0.0 {
                *c = mul(*s, 1.0 / wc);
            }
        }
    }
    centres
}

/// Vertices of the boiler stations, the main one (`root`) first. The others stand at the
/// intersections nearest to the centres of a k-means split of the buildings (weighted by floor
/// area, the main station's centre held at the main station, the others started by farthest-point
/// sampling), so each serves a compact part of the city; and the offsets for
/// [`shortest_forest`] that share the buildings' floor area about evenly among the stations.
/// Deterministic.
pub(super) fn station_vertices(
    plan: &Plan,
    adj: &[Vec<(usize, usize)>],
    root: usize,
) -> (Vec<usize>, Vec<f64>) {
    let n_st = station_count(plan.buildings.len());
    let mut stations = vec![root];
    if n_st == 1 {
        return (stations, vec![0.0]);
    }
    let nv = plan.verts.len();
    let mut reach = vec![false; nv];
    reach[root] = true;
    let mut stack = vec![root];
    while let Some(u) = stack.pop() {
        for &(w, _) in &adj[u] {
            if !reach[w] {
                reach[w] = true;
                stack.push(w);
            }
        }
    }
    let pts: Vec<P> = plan.buildings.iter().map(|(p, _)| mean(&p.poly)).collect();
    let wts: Vec<f64> = plan
        .buildings
        .iter()
        .map(|(p, _)| polygon_area(&p.poly) * p.floors.max(1) as f64 + 1.0)
        .collect();
    let centres = kmeans_centres(&pts, &wts, plan.verts[root], n_st, true);
    let index = VertexIndex::new(&plan.verts, &reach, 80.0);
    for &c in &centres[1..] {
        if let Some(v) = index.nearest(&plan.verts, c, |v| !stations.contains(&v)) {
            stations.push(v);
        }
    }

    // Balance: a station feeding more than its share starts later (a power diagram on the
    // street graph), until every share is within 5 % or after 60 rounds.
    let mut vweight = vec![0.0; nv];
    for ((_, zone), (&c, &wt)) in plan.buildings.iter().zip(pts.iter().zip(&wts)) {
        if let Some(v) = index
            .nearest(&plan.verts, c, |v| plan.vzone[v] == *zone)
            .or_else(|| index.nearest(&plan.verts, c, |_| true))
        {
            vweight[v] += wt;
        }
    }
    let total: f64 = vweight.iter().sum();
    let share = total / stations.len() as f64;
    let c0 = mean(&pts);
    let radius = pts.iter().map(|p| dist(*p, c0)).fold(1.0, f64::max);
    let mut offsets = vec![0.0; stations.len()];
    for round in 0..60 {
        let f = shortest_forest(plan, adj, &stations, &offsets);
        let mut load = vec![0.0; stations.len()];
        for ((&d, &o), &w) in f.done.iter().zip(&f.owner).zip(&vweight) {
            if d {
                load[o] += w;
            }
        }
        let worst = load
            .iter()
            .map(|l| (l / share - 1.0).abs())
            .fold(0.0, f64::max);
        if worst < 0.05 {
            break;
        }
        let step = 0.2 * radius * 0.95f64.powi(round);
        for (o, l) in offsets.iter_mut().zip(&load) {
            *o += step * (l / share - 1.0).clamp(-1.0, 1.0);
        }
        let lo = offsets.iter().copied().fold(f64::INFINITY, f64::min);
        for o in &mut offsets {
            *o -= lo;
        }
    }
    (stations, offsets)
}

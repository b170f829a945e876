//! Heat-network design: station pump heads, boiler and storage sizes and the shortest-path
//! forest the network follows (the stations' split: `assemble::split_stations`).

use super::geometry::{dist, r2, round_up};
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

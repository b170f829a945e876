//! Hydraulics: mass flows, pressures and pump power of the (meshed) district-heating network.
//!
//! # Model
//! Each pipe's pressure drop follows Darcy–Weisbach, `Δp = f·(L/d)·ρv²/2`, with the friction
//! factor `f = 64/Re` below Re = 2000, Swamee–Jain (1976) above 4000,
//! `f = 0.25 / log₁₀²(ε/(3.7d) + 5.74/Re^0.9)`, and a linear blend between. Heat enters at
//! stations and leaves at consumers: every consumer substation requests a mass flow (see `demand`)
//! and every station but one per connected part injects the flow its dispatch gave it (see
//! `plants`); the remaining station of each part (the *reference* station, which also holds the
//! pressure) closes the mass balance.
//!
//! The network is solved by the loop method: a spanning tree from the reference station carries
//! the flows that continuity forces; each pipe outside the tree (a *chord*) closes one fundamental
//! loop whose circulating flow is unknown. Newton's method on the loop flows drives the pressure
//! drop around every loop to zero (`Σ ± Δp = 0`), with the dense, symmetric positive definite
//! Jacobian `J_lk = Σ_p s_lp·s_kp·∂Δp_p/∂ṁ_p` factorised by Cholesky; it starts from last tick's loop
//! flows and stops when every loop closes within 1 Pa (loops drop 10⁴–10⁵ Pa; typically 0–2 iterations). Trees need no
//! iteration at all. This solves meshed networks exactly, not only trees.
//!
//! The return network lies beside the supply (twin pipes) and carries the same flows backwards, so
//! its pressure drops are the same. The reference station holds `return_pressure_pa` at its return
//! inlet; its pump lifts the water by the head that gives the worst substation `min_substation_dp_pa`.
//! Other stations pump from the return to the supply pressure at their node. Pump electricity is
//! `Σ V̇·Δp/η`.
//!
//! **Hooks** for faults and operator actions ([`crate::faults`], [`crate::operator`]): a per-pipe
//! resistance factor ([`Network::pipe_resistance_factor`], closed valves), a per-node leak
//! extraction ([`HydraulicState::node_leak_kg_s`], made up by the reference station) and the
//! operator's differential-pressure set-point. Pump trips and isolated stretches are applied to
//! the flows before the solve (`crate::faults`), so the solver itself is unchanged.
//!
//! Pipe sizing at design (the standard DN for a design flow, used wherever the crate lays
//! pipes) is [`sizing`].
//!
//! Units: kg/s, Pa, m, W. References: Swamee & Jain (1976), J. Hydraulics Div. 102(5); Todini &
//! Pilati (1988) for the loop/gradient formulation; Frederiksen & Werner, *District Heating and
//! Cooling* (2013) ch. 4–5.

pub mod sizing;
pub mod solver;

use std::collections::HashMap;

use bevy::prelude::*;

use crate::demand::Consumers;
use crate::plants::Stations;
use crate::scene::{Plant, Scene};
use crate::sim::SimSet;
pub use solver::{friction_factor, pressure_drop_pa};

/// The static shape of the heat network as compact arrays, built once from the scene.
#[derive(Resource, Debug, Clone)]
pub struct Network {
    pub node_ids: Vec<String>,
    pub node_pos: Vec<[f64; 2]>,
    pub node_elevation_m: Vec<f64>,
    pub pipe_ids: Vec<String>,
    pub pipe_from: Vec<u32>,
    pub pipe_to: Vec<u32>,
    pub pipe_length_m: Vec<f64>,
    pub pipe_diameter_m: Vec<f64>,
    pub pipe_roughness_m: Vec<f64>,
    /// Linear heat-loss coefficient, W/(m·K).
    pub pipe_loss_w_mk: Vec<f64>,
    /// Multiplies each pipe's pressure drop (1: as built; [`CLOSED_VALVE_FACTOR`]: its valves are
    /// closed). Set by [`crate::faults`] from the operator's valve positions.
    pub pipe_resistance_factor: Vec<f64>,
    /// Water held by one pipe (supply or return), kg.
    pub pipe_mass_kg: Vec<f64>,
    pub density_kg_m3: f64,
    pub viscosity_pa_s: f64,
    pub cp_j_kg_k: f64,
    /// Connected part of each node.
    pub component: Vec<u32>,
    /// The reference (slack) node of each part, if the part has a heat source.
    pub component_root: Vec<Option<u32>>,
    /// Nodes in breadth-first order from each part's root (roots first).
    pub bfs_order: Vec<u32>,
    /// Tree parent of each node (u32::MAX for a root).
    pub parent: Vec<u32>,
    pub parent_pipe: Vec<u32>,
    /// +1 when the parent pipe runs parent→node in its from→to sense, −1 otherwise.
    pub parent_sign: Vec<f64>,
    /// Fundamental loops: (pipe, sign of the pipe along the loop's orientation).
    pub loops: Vec<Vec<(u32, f64)>>,
    /// For each pipe, the loops it belongs to, with its sign in each.
    pub pipe_loops: Vec<Vec<(u32, f64)>>,
    pub node_index: HashMap<String, u32>,
}

impl Network {
    pub fn from_scene(scene: &Scene) -> Self {
        let net = &scene.heat_network;
        let n = net.nodes.len();
        let node_index: HashMap<String, u32> = net
            .nodes
            .iter()
            .enumerate()
            .map(|(i, nd)| (nd.id.clone(), i as u32))
            .collect();
        let rho = scene.fluid.density_kg_m3;
        let mut s = Network {
            node_ids: net.nodes.iter().map(|n| n.id.clone()).collect(),
            node_pos: net.nodes.iter().map(|n| n.pos).collect(),
            node_elevation_m: net.nodes.iter().map(|n| n.elevation_m).collect(),
            pipe_ids: Vec::new(),
            pipe_from: Vec::new(),
            pipe_to: Vec::new(),
            pipe_length_m: Vec::new(),
            pipe_diameter_m: Vec::new(),
            pipe_roughness_m: Vec::new(),
            pipe_loss_w_mk: Vec::new(),
            pipe_resistance_factor: Vec::new(),
            pipe_mass_kg: Vec::new(),
            density_kg_m3: rho,
            viscosity_pa_s: scene.fluid.viscosity_pa_s,
            cp_j_kg_k: scene.fluid.cp_j_kg_k,
            component: vec![u32::MAX; n],
            component_root: Vec::new(),
            bfs_order: Vec::with_capacity(n),
            parent: vec![u32::MAX; n],
            parent_pipe: vec![u32::MAX; n],
            parent_sign: vec![0.0; n],
            loops: Vec::new(),
            pipe_loops: Vec::new(),
            node_index,
        };
        let positions = scene.node_positions();
        for p in &net.pipes {
            let (Some(&a), Some(&b)) = (s.node_index.get(&p.from), s.node_index.get(&p.to)) else {
                continue; // an invalid scene: validation reports it
            };
            if a == b {
                continue;
            }
            let d = p.inner_diameter_m().unwrap_or(0.1);
            let l = Scene::pipe_length_m(&positions, p).unwrap_or(1.0).max(1e-3);
            s.pipe_ids.push(p.id.clone());
            s.pipe_from.push(a);
            s.pipe_to.push(b);
            s.pipe_length_m.push(l);
            s.pipe_diameter_m.push(d);
            s.pipe_roughness_m.push(p.roughness_m);
            s.pipe_loss_w_mk.push(p.linear_loss_w_mk().unwrap_or(0.0));
            s.pipe_resistance_factor.push(1.0);
            s.pipe_mass_kg
                .push(rho * std::f64::consts::PI * 0.25 * d * d * l);
        }
        s.pipe_loops = vec![Vec::new(); s.pipe_ids.len()];

        // Roots: the node of the strongest heat source of each part is found after the parts are
        // known; first label the parts.
        let mut adj: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
        for (k, (&a, &b)) in s.pipe_from.iter().zip(&s.pipe_to).enumerate() {
            adj[a as usize].push((b, k as u32));
            adj[b as usize].push((a, k as u32));
        }
        let mut ncomp = 0u32;
        for start in 0..n {
            if s.component[start] != u32::MAX {
                continue;
            }
            let mut stack = vec![start as u32];
            s.component[start] = ncomp;
            while let Some(u) = stack.pop() {
                for &(v, _) in &adj[u as usize] {
                    if s.component[v as usize] == u32::MAX {
                        s.component[v as usize] = ncomp;
                        stack.push(v);
                    }
                }
            }
            ncomp += 1;
        }
        // Rank of a plant as reference: fixed source > boiler > heat pump, then capacity.
        let mut best: Vec<Option<(u8, f64, u32)>> = vec![None; ncomp as usize];
        for p in &scene.plants {
            let Some(&node) = s.node_index.get(p.node()) else {
                continue;
            };
            let rank = match p {
                Plant::FixedSource { .. } => (3u8, f64::INFINITY),
                Plant::GasBoiler { capacity_w, .. } => (2, *capacity_w),
                Plant::HeatPump { capacity_w, .. } => (1, *capacity_w),
                _ => continue,
            };
            let c = s.component[node as usize] as usize;
            let better = match best[c] {
                None => true,
                Some((r, cap, _)) => (rank.0, rank.1) > (r, cap),
            };
            if better {
                best[c] = Some((rank.0, rank.1, node));
            }
        }
        s.component_root = best.iter().map(|b| b.map(|x| x.2)).collect();

        // Spanning trees by BFS from each root (parts without a source get an arbitrary root so
        // every node has an order; their flows stay zero).
        let mut visited = vec![false; n];
        let mut in_tree = vec![false; s.pipe_ids.len()];
        let mut roots: Vec<u32> = Vec::new();
        for c in 0..ncomp as usize {
            let r = s.component_root[c].unwrap_or_else(|| {
                s.component.iter().position(|&x| x as usize == c).unwrap() as u32
            });
            roots.push(r);
        }
        let mut depth = vec![0u32; n];
        for &r in &roots {
            let mut queue = std::collections::VecDeque::from([r]);
            visited[r as usize] = true;
            while let Some(u) = queue.pop_front() {
                s.bfs_order.push(u);
                for &(v, k) in &adj[u as usize] {
                    if !visited[v as usize] {
                        visited[v as usize] = true;
                        in_tree[k as usize] = true;
                        s.parent[v as usize] = u;
                        s.parent_pipe[v as usize] = k;
                        s.parent_sign[v as usize] = if s.pipe_from[k as usize] == u {
                            1.0
                        } else {
                            -1.0
                        };
                        depth[v as usize] = depth[u as usize] + 1;
                        queue.push_back(v);
                    }
                }
            }
        }
        // Fundamental loops: chord u→v, then the tree path v → LCA → u.
        for k in 0..s.pipe_ids.len() {
            if in_tree[k] {
                continue;
            }
            let (u, v) = (s.pipe_from[k], s.pipe_to[k]);
            let mut lp = vec![(k as u32, 1.0)];
            // Walk up from v (loop goes v → parent: against the parent→v orientation) and from u
            // (loop arrives at u from its parent: along parent→u) until they meet.
            let (mut a, mut b) = (v, u);
            let mut tail: Vec<(u32, f64)> = Vec::new();
            while a != b {
                if depth[a as usize] >= depth[b as usize] {
                    lp.push((s.parent_pipe[a as usize], -s.parent_sign[a as usize]));
                    a = s.parent[a as usize];
                } else {
                    tail.push((s.parent_pipe[b as usize], s.parent_sign[b as usize]));
                    b = s.parent[b as usize];
                }
            }
            lp.extend(tail.into_iter().rev());
            let li = s.loops.len() as u32;
            for &(p, sg) in &lp {
                s.pipe_loops[p as usize].push((li, sg));
            }
            s.loops.push(lp);
        }
        s
    }

    pub fn node_count(&self) -> usize {
        self.node_ids.len()
    }
    pub fn pipe_count(&self) -> usize {
        self.pipe_ids.len()
    }
    pub fn node(&self, id: &str) -> Option<u32> {
        self.node_index.get(id).copied()
    }
    /// Whether a node's part of the network has a heat source.
    pub fn is_supplied(&self, node: u32) -> bool {
        self.component_root[self.component[node as usize] as usize].is_some()
    }
    /// Reference (slack) node of a node's part.
    pub fn root_of(&self, node: u32) -> Option<u32> {
        self.component_root[self.component[node as usize] as usize]
    }
}

/// The hydraulic state of this tick.
#[derive(Resource, Debug, Clone)]
pub struct HydraulicState {
    /// Water leaving the supply network through leaks at each node, kg/s (set by
    /// [`crate::faults`] before the plants' dispatch; the reference station makes it up).
    pub node_leak_kg_s: Vec<f64>,
    /// Temperature of the make-up water that replaces leaked water, °C (see `crate::thermal`).
    pub makeup_temp_c: f64,
    /// The operator's differential-pressure set-point at the worst substation, Pa, replacing the
    /// scene's `min_substation_dp_pa` (set by [`crate::operator`]).
    pub dp_setpoint_override_pa: Option<f64>,
    /// Net mass flow into the supply network at each node, kg/s (stations +, consumers −).
    pub node_injection_kg_s: Vec<f64>,
    /// Mass flow in each supply pipe, kg/s, positive from→to. The return pipe carries it back.
    pub pipe_flow_kg_s: Vec<f64>,
    /// Circulating flow of each fundamental loop, kg/s (warm start of the next solve).
    pub loop_flow_kg_s: Vec<f64>,
    /// Supply and return pressure at each node, Pa (gauge).
    pub supply_pressure_pa: Vec<f64>,
    pub return_pressure_pa: Vec<f64>,
    /// Pump head of each station, Pa, and electrical power, W.
    pub station_head_pa: Vec<f64>,
    pub station_pump_power_w: Vec<f64>,
    pub pump_power_w: f64,
    /// Newton iterations of the last solve and the largest loop residual left, Pa.
    pub iterations: u32,
    /// Newton iterations summed over the run.
    pub iterations_total: u64,
    pub max_loop_residual_pa: f64,
    /// Scratch space of the solver.
    scratch: solver::Scratch,
}

impl HydraulicState {
    pub fn new(net: &Network, stations: &Stations) -> Self {
        Self {
            node_leak_kg_s: vec![0.0; net.node_count()],
            makeup_temp_c: 10.0,
            dp_setpoint_override_pa: None,
            node_injection_kg_s: vec![0.0; net.node_count()],
            pipe_flow_kg_s: vec![0.0; net.pipe_count()],
            loop_flow_kg_s: vec![0.0; net.loops.len()],
            supply_pressure_pa: vec![0.0; net.node_count()],
            return_pressure_pa: vec![0.0; net.node_count()],
            station_head_pa: vec![0.0; stations.len()],
            station_pump_power_w: vec![0.0; stations.len()],
            pump_power_w: 0.0,
            iterations: 0,
            iterations_total: 0,
            max_loop_residual_pa: 0.0,
            scratch: solver::Scratch::new(net),
        }
    }
    /// Flow speed in a pipe, m/s (signed like the flow).
    pub fn velocity_m_s(&self, net: &Network, pipe: usize) -> f64 {
        let d = net.pipe_diameter_m[pipe];
        self.pipe_flow_kg_s[pipe] / (net.density_kg_m3 * std::f64::consts::PI * 0.25 * d * d)
    }
}

pub struct HydraulicsPlugin;

impl Plugin for HydraulicsPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(FixedUpdate, solve_hydraulics.in_set(SimSet::Hydraulics));
    }
}

/// Resistance factor of a pipe whose valves are closed: a few mm³/s still seep through a closed
/// gate valve in a loop, which keeps the loop equations regular.
pub const CLOSED_VALVE_FACTOR: f64 = 1e8;

/// Gravity, m/s².
const G: f64 = 9.81;

fn solve_hydraulics(
    net: Res<Network>,
    consumers: Res<Consumers>,
    stations: Res<Stations>,
    spec: Res<crate::sim::SceneSpec>,
    mut hs: ResMut<HydraulicState>,
) {
    let hs = &mut *hs;
    hs.node_injection_kg_s.iter_mut().for_each(|x| *x = 0.0);
    for (c, &node) in consumers.node.iter().enumerate() {
        if let Some(node) = node {
            hs.node_injection_kg_s[node as usize] -= consumers.mass_flow_kg_s[c];
        }
    }
    for (node, &m) in hs.node_leak_kg_s.iter().enumerate() {
        if m > 0.0 {
            hs.node_injection_kg_s[node] -= m;
        }
    }
    // Non-reference stations inject their dispatched flow; the reference closes the balance.
    for (s, &node) in stations.node.iter().enumerate() {
        if !stations.is_reference[s] {
            hs.node_injection_kg_s[node as usize] += stations.mass_flow_kg_s[s];
        }
    }
    let (iters, resid) = solver::solve(
        &net,
        &hs.node_injection_kg_s,
        &mut hs.loop_flow_kg_s,
        &mut hs.pipe_flow_kg_s,
        &mut hs.scratch,
    );
    hs.iterations = iters;
    hs.iterations_total += iters as u64;
    hs.max_loop_residual_pa = resid;

    // Pressures down each tree from the reference: supply falls along the flow, return rises.
    // Every pipe's drop first (in parallel on large networks; loop pipes keep the solver's).
    hs.scratch.fill_drops(&net, &hs.pipe_flow_kg_s, false);
    let rho = net.density_kg_m3;
    let scene = &spec.scene.heat_network;
    let mut worst_need = vec![0.0f64; net.component_root.len()];
    for &u in &net.bfs_order {
        let ui = u as usize;
        let par = net.parent[ui];
        if par == u32::MAX {
            hs.supply_pressure_pa[ui] = 0.0;
            hs.return_pressure_pa[ui] = 0.0;
            continue;
        }
        let k = net.parent_pipe[ui] as usize;
        // Pressure drop from parent to node along the pipe (positive when flow goes that way).
        // The drop is odd in the flow (exactly, in floating point too) and the sign is ±1, so the
        // drop from parent to node is the pipe's from→to drop times the sign; loop pipes reuse the
        // solver's value at the converged flow.
        let dp = hs.scratch.pressure_drop_pa(&net, k, hs.pipe_flow_kg_s[k]) * net.parent_sign[ui];
        let dz = net.node_elevation_m[ui] - net.node_elevation_m[par as usize];
        hs.supply_pressure_pa[ui] = hs.supply_pressure_pa[par as usize] - dp - rho * G * dz;
        hs.return_pressure_pa[ui] = hs.return_pressure_pa[par as usize] + dp - rho * G * dz;
        let c = net.component[ui] as usize;
        let need = hs.return_pressure_pa[ui] - hs.supply_pressure_pa[ui] - rho * G * 0.0;
        worst_need[c] = worst_need[c].max(need);
    }
    // Relative pressures so far (root = 0 in both networks); fix the levels: the reference return
    // inlet holds the static pressure, and its pump adds the head the worst substation needs.
    let mut root_head = vec![0.0f64; net.component_root.len()];
    for (c, h) in root_head.iter_mut().enumerate() {
        *h = worst_need[c]
            + hs.dp_setpoint_override_pa
                .unwrap_or(scene.min_substation_dp_pa);
    }
    for i in 0..net.node_count() {
        let c = net.component[i] as usize;
        if net.component_root[c].is_none() {
            hs.supply_pressure_pa[i] = scene.return_pressure_pa;
            hs.return_pressure_pa[i] = scene.return_pressure_pa;
            continue;
        }
        hs.supply_pressure_pa[i] += scene.return_pressure_pa + root_head[c];
        hs.return_pressure_pa[i] += scene.return_pressure_pa;
    }
    hs.pump_power_w = 0.0;
    for s in 0..stations.len() {
        let node = stations.node[s] as usize;
        let head = if stations.is_reference[s] {
            root_head[net.component[node] as usize]
        } else {
            (hs.supply_pressure_pa[node] - hs.return_pressure_pa[node]).max(0.0)
        };
        let flow = stations.mass_flow_kg_s[s].max(0.0);
        hs.station_head_pa[s] = head;
        let p = if flow > 0.0 {
            flow / rho * head / stations.pump_efficiency[s]
        } else {
            0.0
        };
        hs.station_pump_power_w[s] = p;
        hs.pump_power_w += p;
    }
}

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
//! **Hooks** for faults and operator actions (the faults domain, the operator domain): a per-pipe
//! resistance factor ([`Network::pipe_resistance_factor`], closed valves), a per-node leak
//! extraction ([`Network::node_leak_kg_s`], made up by the reference station) and the
//! operator's differential-pressure set-point. Pump trips and isolated stretches are applied to
//! the flows before the solve (the faults domain), so the solver itself is unchanged.
//!
//! Units: kg/s, Pa, m, W. References: Swamee & Jain (1976), J. Hydraulics Div. 102(5); Todini &
//! Pilati (1988) for the loop/gradient formulation; Frederiksen & Werner, *District Heating and
//! Cooling* (2013) ch. 4–5.

pub mod solver;

use bevy::prelude::*;

use crate::base::SimSet;
use crate::demand::Consumers;
pub use crate::network::Network;
use crate::plants::Stations;
pub use solver::{friction_factor, pressure_drop_pa};

/// The hydraulic state of this tick.
#[derive(Resource, Debug, Clone)]
pub struct HydraulicState {
    /// Temperature of the make-up water that replaces leaked water, °C (see the thermal domain).
    pub makeup_temp_c: f64,
    /// The operator's differential-pressure set-point at the worst substation, Pa, replacing the
    /// scene's `min_substation_dp_pa` (set by the operator domain).
    dp_setpoint_override_pa: Option<f64>,
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
    /// Hook for the operator: the differential-pressure set-point at the worst substation
    /// (`None`: the scene's); gives the one before.
    pub fn set_dp_setpoint_override(&mut self, pa: Option<f64>) -> Option<f64> {
        std::mem::replace(&mut self.dp_setpoint_override_pa, pa)
    }

    /// Hook for the faults domain, after the solve: pressures lowered by the pressurisation's
    /// deficit (`deficit_pa`); stations whose pump does not run (`pumping[s]` false) have no head
    /// and no pump power, and where that is the reference station of a part, supply and return
    /// of the whole part stand at the same (static) pressure.
    pub fn apply_pressurisation(
        &mut self,
        deficit_pa: f64,
        net: &Network,
        station_node: &[u32],
        is_reference: &[bool],
        pumping: &[bool],
    ) {
        if deficit_pa != 0.0 {
            self.supply_pressure_pa.iter_mut().for_each(|p| *p -= deficit_pa);
            self.return_pressure_pa.iter_mut().for_each(|p| *p -= deficit_pa);
        }
        for s in 0..station_node.len() {
            if is_reference[s] && !pumping[s] {
                let comp = net.component[station_node[s] as usize];
                for n in 0..net.node_count() {
                    if net.component[n] == comp {
                        self.supply_pressure_pa[n] = self.return_pressure_pa[n];
                    }
                }
            }
        }
        for s in (0..station_node.len()).filter(|&s| !pumping[s]) {
            self.station_head_pa[s] = 0.0;
            self.pump_power_w -= self.station_pump_power_w[s];
            self.station_pump_power_w[s] = 0.0;
        }
    }

    pub fn new(net: &Network, stations: &Stations) -> Self {
        Self {
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
    spec: Res<crate::base::SceneSpec>,
    mut hs: ResMut<HydraulicState>,
) {
    let hs = &mut *hs;
    hs.node_injection_kg_s.iter_mut().for_each(|x| *x = 0.0);
    for (c, &node) in consumers.node.iter().enumerate() {
        if let Some(node) = node {
            hs.node_injection_kg_s[node as usize] -= consumers.mass_flow_kg_s[c];
        }
    }
    for (node, &m) in net.node_leak_kg_s().iter().enumerate() {
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

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
//! The return network lies beside the supply (twin pipes) and carries the same flows backwards
//! (substations and stations tie the two together node by node, so a tree's flows are the same in
//! both; in a meshed network the loop flows are solved so that each loop closes in supply and
//! return together: the loop equation uses the mean of the two drops, `Σ ±(Δp_s + Δp_r)/2 = 0`).
//! **Water properties**: with fixed fluid properties the two sides' drops are the same. With
//! temperature-dependent water (`FluidProperties::WaterIf97`) each side of each pipe has the
//! density and viscosity of its own water, at the mean of its inlet and outlet temperatures of the
//! last tick (the thermal domain hands them over through [`HydraulicState::set_water_temps`]):
//! the return's colder, more viscous water has its own, computed drops (`Δp_r`, with the return's
//! properties and the same flows), which set the return pressures; static heads use each side's
//! density; the pumps move the station's return water (`V̇ = ṁ/ρ(T_return)`).
//! The reference station holds `return_pressure_pa` at its return
//! inlet; its pump lifts the water by the head that gives the worst substation `min_substation_dp_pa`.
//! Other stations pump from the return to the supply pressure at their node. Pump electricity is
//! `Σ V̇·Δp/η`.
//!
//! **Non-convergence**: a solve that stops at its iteration limit with a loop still open by more
//! than [`solver::LOOP_TOLERANCE_PA`] is flagged ([`HydraulicState::converged`] false, its residual in
//! [`HydraulicState::max_loop_residual_pa`]); the ledger counts such ticks and the report, the
//! command line and the view say so.
//!
//! **Hooks** for faults and operator actions (the faults domain, the operator domain): a per-pipe
//! resistance factor ([`Network::pipe_resistance_factor`], closed valves), a per-node leak
//! extraction ([`Network::node_leak_kg_s`], made up by the reference station) and the
//! operator's differential-pressure set-point. Pump trips and isolated stretches are applied to
//! the flows before the solve (the faults domain), so the solver itself is unchanged.
//!
//! Pipe sizing at design (the standard DN for a design flow, used wherever the crate lays
//! pipes) is [`sizing`].
//!
//! Units: kg/s, Pa, m, W. References: Swamee & Jain (1976), J. Hydraulics Div. 102(5); Todini &
//! Pilati (1988) for the loop/gradient formulation; Frederiksen & Werner, *District Heating and
//! Cooling* (2013) ch. 4–5.

pub mod sizing;
pub mod solver;

use bevy::prelude::*;

use crate::base::{Disjoint, SimSet};
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
    /// Whether the last solve closed every loop within [`solver::LOOP_TOLERANCE_PA`] (false: it
    /// stopped at its iteration limit and the flows are not a solution).
    pub converged: bool,
    /// Whether a reference pump ran at its largest head this tick (substations then get less
    /// flow than they asked for).
    pub head_limited: bool,
    /// The largest head a reference pump would have needed this tick to give every substation
    /// its minimum differential pressure at the flows asked for, Pa.
    pub head_needed_pa: f64,
    /// Rounds of pressure-driven flow this tick (0: no pump at its limit), and the largest
    /// difference left between a starved substation's flow share and the share its differential
    /// pressure gives (0 when converged within 1e-4).
    pub pressure_driven_rounds: u32,
    pub pressure_driven_residual: f64,
    /// The substation (consumer index) with the lowest differential pressure this tick, and that
    /// pressure, Pa.
    pub critical_consumer: Option<u32>,
    pub critical_dp_pa: f64,
    /// Mean water temperature of each pipe's supply and return side last tick, °C (set by the
    /// thermal domain; the properties of temperature-dependent water follow them).
    supply_water_temp_c: Vec<f64>,
    return_water_temp_c: Vec<f64>,
    /// Newton iterations a loop solve may take (default [`solver::MAX_ITERATIONS`]).
    max_iterations: u32,
    /// Scratch space of the solver and the pipes' water properties.
    scratch: solver::Scratch,
    /// Scratch: the substations' requested flows this tick, kg/s (kept between ticks so that a
    /// big city's tick does not map fresh pages for them).
    requested_kg_s: Vec<f64>,
}

impl HydraulicState {
    /// Hook for the thermal domain: each pipe's supply and return inlet and outlet temperatures
    /// this tick, °C; the next solve takes each side's water properties at the mean of its two
    /// (where the water's properties depend on temperature).
    pub fn set_water_temps(
        &mut self,
        supply_in_c: &[f64],
        supply_out_c: &[f64],
        return_in_c: &[f64],
        return_out_c: &[f64],
    ) {
        let mean = |dst: &mut [f64], a: &[f64], b: &[f64]| {
            for ((d, &x), &y) in dst.iter_mut().zip(a).zip(b) {
                *d = 0.5 * (x + y);
            }
        };
        mean(&mut self.supply_water_temp_c, supply_in_c, supply_out_c);
        mean(&mut self.return_water_temp_c, return_in_c, return_out_c);
    }

    /// The water temperatures the properties were last taken at (supply, return), °C per pipe.
    pub fn water_temps_c(&self) -> (&[f64], &[f64]) {
        (&self.supply_water_temp_c, &self.return_water_temp_c)
    }

    /// The water's density and viscosity in each pipe's supply and return side in the last solve.
    pub fn pipe_props(&self) -> &solver::PipeProps {
        &self.scratch.props
    }

    /// At most `n` Newton iterations per loop solve (a solve that needs more is flagged as not
    /// converged); gives the limit before. For tests and studies of the solver.
    pub fn set_iteration_limit(&mut self, n: u32) -> u32 {
        std::mem::replace(&mut self.max_iterations, n)
    }

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
            self.supply_pressure_pa
                .iter_mut()
                .for_each(|p| *p -= deficit_pa);
            self.return_pressure_pa
                .iter_mut()
                .for_each(|p| *p -= deficit_pa);
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
            converged: true,
            head_limited: false,
            head_needed_pa: 0.0,
            pressure_driven_rounds: 0,
            pressure_driven_residual: 0.0,
            critical_consumer: None,
            critical_dp_pa: f64::INFINITY,
            supply_water_temp_c: vec![net.supply_design_temp_c; net.pipe_count()],
            return_water_temp_c: vec![net.return_design_temp_c; net.pipe_count()],
            max_iterations: solver::MAX_ITERATIONS,
            scratch: solver::Scratch::new(net),
            requested_kg_s: Vec::new(),
        }
    }
    /// Flow speed in a (supply) pipe, m/s (signed like the flow).
    pub fn velocity_m_s(&self, net: &Network, pipe: usize) -> f64 {
        let d = net.pipe_diameter_m[pipe];
        let rho = self.scratch.props.supply_density_kg_m3[pipe];
        self.pipe_flow_kg_s[pipe] / (rho * std::f64::consts::PI * 0.25 * d * d)
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

/// Networks up to this many nodes get the exact (dense) pressure sensitivities in the
/// pressure-driven Newton iterations; larger ones the spanning tree's.
const DENSE_SENSITIVITY_NODES: usize = 800;

/// Above this many starved substations the pressure-driven flows are found with one share per
/// part ([`uniform_share`]) instead of Newton's method on each substation's flow (a dense system).
const PRESSURE_DRIVEN_MAX_UNKNOWNS: usize = 300;

/// At most this many Newton iterations of pressure-driven flow per tick.
const PRESSURE_DRIVEN_ROUNDS: u32 = 30;

fn solve_hydraulics(
    net: Res<Network>,
    mut consumers: ResMut<Consumers>,
    mut stations: ResMut<Stations>,
    spec: Res<crate::base::SceneSpec>,
    mut hs: ResMut<HydraulicState>,
) {
    let hs = &mut *hs;
    if net.temperature_dependent {
        hs.scratch
            .props
            .set_temperatures(&hs.supply_water_temp_c, &hs.return_water_temp_c);
    }
    let scene = &spec.scene.heat_network;
    let dp_min = hs
        .dp_setpoint_override_pa
        .unwrap_or(scene.min_substation_dp_pa);
    let ncomp = net.component_root.len();
    // The largest head of each part's reference pump.
    let mut max_head = vec![f64::INFINITY; ncomp];
    for s in 0..stations.len() {
        if stations.is_reference[s] {
            let c = net.component[stations.node[s] as usize] as usize;
            max_head[c] = stations
                .pump_max_head_pa
                .get(s)
                .copied()
                .unwrap_or(f64::INFINITY);
        }
    }
    let mut requested = std::mem::take(&mut hs.requested_kg_s);
    requested.clear();
    requested.extend_from_slice(&consumers.mass_flow_kg_s);
    let mut worst_need = solve_round(&net, &consumers.node, &requested, &stations, hs);
    let head_needed: Vec<f64> = worst_need.iter().map(|w| w + dp_min).collect();
    let limited: Vec<bool> = (0..ncomp).map(|c| head_needed[c] > max_head[c]).collect();
    let mut rounds = 0;
    if limited.iter().any(|&x| x) && dp_min > 0.0 {
        // Pressure-driven flow: see `pressure_driven` (and `uniform_share` for many starved
        // substations).
        let starved = (0..requested.len())
            .filter(|&i| {
                requested[i] > 0.0
                    && consumers.node[i]
                        .is_some_and(|n| limited[net.component[n as usize] as usize])
            })
            .count();
        let solve = if starved <= PRESSURE_DRIVEN_MAX_UNKNOWNS {
            pressure_driven
        } else {
            uniform_share
        };
        let (flows, r, residual) = solve(
            &net,
            &consumers.node,
            &requested,
            &stations,
            &limited,
            &max_head,
            dp_min,
            hs,
        );
        rounds = r;
        worst_need = solve_round(&net, &consumers.node, &flows, &stations, hs);
        hs.pressure_driven_residual = residual;
        let mut share = vec![1.0; requested.len()];
        for (i, (&q, &m)) in flows.iter().zip(&requested).enumerate() {
            if m > 0.0 && q < m {
                share[i] = q / m;
            }
        }
        for (i, &x) in share.iter().enumerate() {
            if x < 1.0 {
                consumers.limit_flow(i, x);
            }
        }
        stations.rebalance_references(&net, &consumers);
    }
    if rounds == 0 {
        hs.pressure_driven_residual = 0.0;
    }
    hs.pressure_driven_rounds = rounds;
    hs.head_limited = limited.iter().any(|&x| x);
    hs.head_needed_pa = head_needed.iter().copied().fold(0.0, f64::max);

    // Relative pressures so far (root = 0 in both networks); fix the levels: the reference return
    // inlet holds the static pressure, and its pump adds the head the worst substation needs, up
    // to its largest head.
    let root_head: Vec<f64> = (0..ncomp)
        .map(|c| (worst_need[c] + dp_min).min(max_head[c]))
        .collect();
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
    // The critical substation: the lowest differential pressure among those asking for flow.
    hs.critical_consumer = None;
    hs.critical_dp_pa = f64::INFINITY;
    for (i, n) in consumers.node.iter().enumerate() {
        let Some(n) = n else { continue };
        if requested[i] <= 0.0 || net.component_root[net.component[*n as usize] as usize].is_none()
        {
            continue;
        }
        let dp = hs.supply_pressure_pa[*n as usize] - hs.return_pressure_pa[*n as usize];
        if dp < hs.critical_dp_pa {
            hs.critical_dp_pa = dp;
            hs.critical_consumer = Some(i as u32);
        }
    }
    hs.pump_power_w = 0.0;
    for s in 0..stations.len() {
        let node = stations.node[s] as usize;
        // The pump moves the station's return water.
        let rho = if net.temperature_dependent {
            crate::water::density_kg_m3(stations.return_in_c()[s])
        } else {
            net.density_kg_m3
        };
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
    hs.requested_kg_s = requested;
}

/// One network solve with the substations' flows `consumer_flow_kg_s`: the nodes' injections,
/// the loop flows, and the pressures relative to each part's reference (root 0 in supply and
/// return). Gives the largest return-minus-supply difference of each part (what its pump must
/// add on top of the substations' minimum).
fn solve_round(
    net: &Network,
    consumer_node: &[Option<u32>],
    consumer_flow_kg_s: &[f64],
    stations: &Stations,
    hs: &mut HydraulicState,
) -> Vec<f64> {
    hs.node_injection_kg_s.iter_mut().for_each(|x| *x = 0.0);
    for (c, &node) in consumer_node.iter().enumerate() {
        if let Some(node) = node {
            hs.node_injection_kg_s[node as usize] -= consumer_flow_kg_s[c];
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
        net,
        &hs.node_injection_kg_s,
        &mut hs.loop_flow_kg_s,
        &mut hs.pipe_flow_kg_s,
        &mut hs.scratch,
        hs.max_iterations,
    );
    hs.iterations = iters;
    hs.iterations_total += iters as u64;
    hs.max_loop_residual_pa = resid;
    hs.converged = resid < solver::LOOP_TOLERANCE_PA;

    // Pressures down each tree from the reference: supply falls along the flow, return rises.
    // Every pipe's drop first (in parallel on large networks; loop pipes keep the solver's).
    hs.scratch.fill_drops(net, &hs.pipe_flow_kg_s, false);
    // Each part down its own tree (on rayon for large networks; the same arithmetic in the same
    // order on either path).
    let scratch = &hs.scratch;
    let props = &scratch.props;
    let flow = &hs.pipe_flow_kg_s;
    let mut worst_need = vec![0.0f64; net.component_root.len()];
    let supply_p = Disjoint::new(&mut hs.supply_pressure_pa);
    let return_p = Disjoint::new(&mut hs.return_pressure_pa);
    let need_of = Disjoint::new(&mut worst_need);
    solver::for_each_part(net, |c| {
        let mut worst = 0.0f64;
        for &u in solver::part_nodes(net, c) {
            let ui = u as usize;
            let par = net.parent[ui];
            // SAFETY (every `at` here): node `ui` and its parent are part `c`'s, which only this
            // pass touches (see `Disjoint`).
            let (ps, pr) = unsafe { (supply_p.at(ui), return_p.at(ui)) };
            if par == u32::MAX {
                *ps = 0.0;
                *pr = 0.0;
                continue;
            }
            let k = net.parent_pipe[ui] as usize;
            // Pressure drop from parent to node along the pipe (positive when flow goes that way).
            // The drop is odd in the flow (exactly, in floating point too) and the sign is ±1, so the
            // drop from parent to node is the pipe's from→to drop times the sign; loop pipes reuse the
            // solver's value at the converged flow.
            // Supply and return each with their own drop and static head (the same with fixed
            // properties).
            let [dp_s, dp_r] = scratch.pressure_drops_pa(net, k, flow[k]);
            let (dp_s, dp_r) = (dp_s * net.parent_sign[ui], dp_r * net.parent_sign[ui]);
            let dz = net.node_elevation_m[ui] - net.node_elevation_m[par as usize];
            let (rho_s, rho_r) = (props.supply_density_kg_m3[k], props.return_density_kg_m3[k]);
            let (par_s, par_r) =
                unsafe { (*supply_p.at(par as usize), *return_p.at(par as usize)) };
            *ps = par_s - dp_s - rho_s * G * dz;
            *pr = par_r + dp_r - rho_r * G * dz;
            worst = worst.max(*pr - *ps);
        }
        // SAFETY: entry `c` is this part's.
        unsafe { *need_of.at(c) = worst };
    });
    worst_need
}

/// Pressure-driven flows where a part's reference pump cannot give the head its substations need
/// (Newton's method on the starved substations' flows).
///
/// A starved substation's control valve stands wide open; sized to pass its request `ṁ_r` at the
/// minimum differential pressure `Δp_min`, it passes `ṁ` at `Δp_valve = Δp_min·(ṁ/ṁ_r)²`. With the
/// pump at its largest head `H`, each starved substation `i` satisfies
/// `R_i = need_i(ṁ) + Δp_min·(ṁ_i/ṁ_r,i)² − H = 0`, where `need_i` is the supply-plus-return
/// pressure drop from the reference to its node at all the flows. The Jacobian is
/// `J_ij = 2·G(lca(i, j)) + δ_ij·2·Δp_min·ṁ_i/ṁ_r,i²`, with `G(u)` the sum of the slopes
/// `∂Δp/∂ṁ` of the spanning-tree pipes from the reference to `u` (exact on trees; on meshed
/// networks the loop pipes' share is left out of the Jacobian only, the residual is exact), SPD,
/// solved by Cholesky; steps are halved until `Σ R²` falls. A substation whose flow would exceed
/// its request gets its request and leaves the set; one that runs short joins it; one that gets no
/// flow and would still be short stays shut (no backflow) and leaves the set too. Gives the
/// flows, the Newton iterations and the largest `|R_i|/H` left.
#[allow(clippy::too_many_arguments)]
fn pressure_driven(
    net: &Network,
    node: &[Option<u32>],
    requested: &[f64],
    stations: &Stations,
    limited: &[bool],
    max_head: &[f64],
    dp_min: f64,
    hs: &mut HydraulicState,
) -> (Vec<f64>, u32, f64) {
    let nn = net.node_count();
    let mut depth = vec![0u32; nn];
    for &u in &net.bfs_order {
        let p = net.parent[u as usize];
        if p != u32::MAX {
            depth[u as usize] = depth[p as usize] + 1;
        }
    }
    let lca = |mut a: u32, mut b: u32| {
        while depth[a as usize] > depth[b as usize] {
            a = net.parent[a as usize];
        }
        while depth[b as usize] > depth[a as usize] {
            b = net.parent[b as usize];
        }
        while a != b {
            a = net.parent[a as usize];
            b = net.parent[b as usize];
        }
        a
    };
    let part = |i: usize| node[i].map(|n| net.component[n as usize] as usize);
    let candidate = |i: usize| requested[i] > 0.0 && part(i).is_some_and(|c| limited[c]);
    let mut q = requested.to_vec();
    // The residual of every candidate at the flows the state was last solved for (positive: short
    // of pressure at its request).
    let residuals = |hs: &HydraulicState, q: &[f64]| -> Vec<f64> {
        (0..q.len())
            .map(|i| {
                if !candidate(i) {
                    return 0.0;
                }
                let n = node[i].expect("candidates have a node") as usize;
                let need = hs.return_pressure_pa[n] - hs.supply_pressure_pa[n];
                let x = q[i] / requested[i];
                need + dp_min * x * x - max_head[part(i).expect("candidate")]
            })
            .collect()
    };
    // The state was solved at the requests: start from there.
    let mut r = residuals(hs, &q);
    // In the Newton set: short of pressure (or below its request), but not shut at zero flow with
    // still too little pressure (there the flow stays 0: the valve does not let water back).
    let in_set = |r: &[f64], q: &[f64], i: usize| {
        candidate(i) && (q[i] < requested[i] || r[i] > 0.0) && !(q[i] <= 0.0 && r[i] >= 0.0)
    };
    let norm = |r: &[f64], q: &[f64]| -> f64 {
        (0..r.len())
            .filter(|&i| in_set(r, q, i))
            .map(|i| r[i] * r[i])
            .sum()
    };
    let head_scale = max_head
        .iter()
        .copied()
        .filter(|h| h.is_finite())
        .fold(1.0, f64::max);
    let mut iters = 0;
    let mut worst = f64::INFINITY;
    while iters < PRESSURE_DRIVEN_ROUNDS {
        let set: Vec<usize> = (0..q.len()).filter(|&i| in_set(&r, &q, i)).collect();
        worst = set.iter().map(|&i| r[i].abs()).fold(0.0, f64::max) / head_scale;
        if set.is_empty() || worst < 1e-7 {
            break;
        }
        iters += 1;
        let m = set.len();
        let mut jac = vec![0.0; m * m];
        let mut rhs: Vec<f64> = set.iter().map(|&i| -r[i]).collect();
        // The loop equations' slope: the mean of supply and return (need = their sum: 2×).
        let slope = |k: usize| hs.scratch.loop_slope(net, k, hs.pipe_flow_kg_s[k]);
        if nn <= DENSE_SENSITIVITY_NODES {
            // Exact sensitivities of the linearised network: node pressures respond to
            // injections through its Laplacian `L` (conductance 1/slope per pipe, each part's
            // reference grounded): ∂need_i/∂ṁ_j = 2·(L⁻¹)_{n_i n_j}, loops and closed valves
            // included.
            let mut lap = vec![0.0; nn * nn];
            for k in 0..net.pipe_count() {
                let (a, b) = (net.pipe_from[k] as usize, net.pipe_to[k] as usize);
                let c = 1.0 / slope(k);
                lap[a * nn + a] += c;
                lap[b * nn + b] += c;
                lap[a * nn + b] -= c;
                lap[b * nn + a] -= c;
            }
            for u in 0..nn {
                let grounded = net.component_root[net.component[u] as usize]
                    .is_none_or(|root| root as usize == u);
                if grounded {
                    for v in 0..nn {
                        lap[u * nn + v] = 0.0;
                        lap[v * nn + u] = 0.0;
                    }
                    lap[u * nn + u] = 1.0;
                }
            }
            solver::cholesky_factor(&mut lap, nn);
            let mut cols: Vec<(u32, Vec<f64>)> = Vec::new();
            for (b, &j) in set.iter().enumerate() {
                let nj = node[j].expect("node");
                let col = match cols.iter().position(|(n, _)| *n == nj) {
                    Some(p) => p,
                    None => {
                        let mut e = vec![0.0; nn];
                        e[nj as usize] = 1.0;
                        solver::cholesky_substitute(&lap, &mut e, nn);
                        cols.push((nj, e));
                        cols.len() - 1
                    }
                };
                for (a, &i) in set.iter().enumerate() {
                    let ni = node[i].expect("node") as usize;
                    jac[a * m + b] = if part(i) == part(j) {
                        2.0 * cols[col].1[ni]
                    } else {
                        0.0
                    };
                }
            }
        } else {
            // Large networks: the spanning tree's cumulative slopes (exact on trees; on meshed
            // networks the loops' relief is left out of the Jacobian, not the residual).
            let mut g = vec![0.0; nn];
            for &u in &net.bfs_order {
                let p = net.parent[u as usize];
                if p != u32::MAX {
                    g[u as usize] =
                        g[p as usize] + 2.0 * slope(net.parent_pipe[u as usize] as usize);
                }
            }
            for (a, &i) in set.iter().enumerate() {
                let ni = node[i].expect("node");
                for (b, &j) in set.iter().enumerate().take(a + 1) {
                    let nj = node[j].expect("node");
                    let v = if part(i) == part(j) {
                        g[lca(ni, nj) as usize]
                    } else {
                        0.0
                    };
                    jac[a * m + b] = v;
                    jac[b * m + a] = v;
                }
            }
        }
        for (a, &i) in set.iter().enumerate() {
            jac[a * m + a] += 2.0 * dp_min * q[i] / (requested[i] * requested[i]);
            // Keep the matrix positive definite when a flow reaches 0.
            jac[a * m + a] += 1e-9 * head_scale / requested[i];
        }
        solver::cholesky_solve(&mut jac, &mut rhs, m);
        let before = norm(&r, &q);
        let mut step = 1.0;
        let mut accepted = false;
        for _ in 0..8 {
            let mut trial = q.clone();
            for (a, &i) in set.iter().enumerate() {
                trial[i] = (q[i] + step * rhs[a]).clamp(0.0, requested[i]);
            }
            solve_round(net, node, &trial, stations, hs);
            let rt = residuals(hs, &trial);
            if norm(&rt, &trial) < before {
                q = trial;
                r = rt;
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            // The state holds the last trial: solve again at the flows kept.
            solve_round(net, node, &q, stations, hs);
            r = residuals(hs, &q);
            worst = (0..q.len())
                .filter(|&i| in_set(&r, &q, i))
                .map(|i| r[i].abs())
                .fold(0.0, f64::max)
                / head_scale;
            break;
        }
    }
    (q, iters, if worst.is_finite() { worst } else { 0.0 })
}

/// Pressure-driven flows for many starved substations: one share `x` of the requests per limited
/// part, the largest at which every substation of it still gets `Δp ≥ Δp_min·x²` (its valve's
/// law at that share), found by bisection (40 network solves). Conservative: substations nearer
/// the pump could take more than `x`. Same signature as [`pressure_driven`].
#[allow(clippy::too_many_arguments)]
fn uniform_share(
    net: &Network,
    node: &[Option<u32>],
    requested: &[f64],
    stations: &Stations,
    limited: &[bool],
    max_head: &[f64],
    dp_min: f64,
    hs: &mut HydraulicState,
) -> (Vec<f64>, u32, f64) {
    let ncomp = limited.len();
    let (mut lo, mut hi) = (vec![0.0; ncomp], vec![1.0; ncomp]);
    let flows_at = |x: &[f64]| -> Vec<f64> {
        (0..requested.len())
            .map(|i| match node[i] {
                Some(n) if limited[net.component[n as usize] as usize] => {
                    requested[i] * x[net.component[n as usize] as usize]
                }
                _ => requested[i],
            })
            .collect()
    };
    let mut x = vec![1.0; ncomp];
    for _ in 0..40 {
        for c in 0..ncomp {
            x[c] = if limited[c] {
                0.5 * (lo[c] + hi[c])
            } else {
                1.0
            };
        }
        solve_round(net, node, &flows_at(&x), stations, hs);
        let mut ok = vec![true; ncomp];
        for i in 0..requested.len() {
            let Some(n) = node[i] else { continue };
            let c = net.component[n as usize] as usize;
            if !limited[c] || requested[i] <= 0.0 {
                continue;
            }
            let need = hs.return_pressure_pa[n as usize] - hs.supply_pressure_pa[n as usize];
            if max_head[c] - need < dp_min * x[c] * x[c] {
                ok[c] = false;
            }
        }
        for c in 0..ncomp {
            if ok[c] {
                lo[c] = x[c];
            } else {
                hi[c] = x[c];
            }
        }
    }
    let flows = flows_at(&lo);
    let spread = (0..ncomp).map(|c| hi[c] - lo[c]).fold(0.0, f64::max);
    (flows, 40, spread)
}

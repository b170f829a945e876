//! Plants: heat pumps on quantum-site waste heat, gas boilers, storage tanks, circulation pumps,
//! and ideal fixed-temperature sources, grouped into **stations** (all plants at one node).
//!
//! # Dispatch, each tick ([`crate::base::SimSet::Plants`])
//! 1. The supply set-point follows the outdoor reset curve: `supply_temp_c` at 15 °C outdoors and
//!    above, rising linearly to `supply_temp_at_design_c` at the design outdoor temperature.
//! 2. Each heat pump's COP is a Carnot fraction `η` of the ideal between its source and sink,
//!    `COP = η·T_h/(T_h − T_c)` with `T_h` = set-point + 3 K (condenser approach) and `T_c` = the site's
//!    recovered-water temperature − 3 K (evaporator approach), in kelvin, kept within 1.5–10.
//!    Its potential heat is `min(capacity, Q_left·COP/(COP − 1))`, `Q_left` what is left of its
//!    site's recoverable heat after the heat pumps dispatched before it (several heat pumps on
//!    one site share its heat: together they never take more than it offers).
//! 3. Every station but the reference of its part of the network delivers its heat pumps' potential
//!    and its tank's discharge (free and stored heat first): `ṁ = Q/(c_p·(T_set − T_r))`, with `T_r`
//!    its return temperature of the last tick, scaled down together if they would exceed the
//!    consumers' flow. The rest of the flow is shared by the stations with boilers in proportion
//!    to their capacity; the reference station closes the mass balance.
//! 4. Each station's limit `Q_max` = heat pumps' potential + tank discharge (within its power and
//!    its stored heat) + boilers that can fire. A station whose plants cannot reach the set-point
//!    at its flow sends out what they can: `T_out = T_r + Q_max/(ṁ·c_p)`.
//!
//! # Capacities hold ([`Stations::hold_to_capacity`], in the thermal pass)
//! The dispatch only knows last tick's return; once this tick's return `T_r` has arrived, the
//! thermal pass sets the station's supply to `min(T_set, T_r + Q_max/(ṁ·c_p))` and moves the
//! difference in heat out of (or into) the water that left the station this tick. So the heat a
//! station gives never exceeds `Q_max`, in any tick: where the stations cannot meet the load the
//! supply temperature sags, the substations get less and the shortfall is counted as unmet heat
//! (the demand domain) — never booked as extra heat-pump or boiler output. (Before issue 13 the
//! heat beyond the estimate was booked to the boilers, or to the heat pumps at a fallback COP of 3
//! where a station had none, and two heat pumps on one site could each take all its waste heat.)
//!
//! # Settling ([`crate::base::SimSet::Settle`], after the thermal pass)
//! The heat a station actually gave is `ṁ·c_p·(T_out − T_r)` (at most `Q_max`). It is split in
//! merit order: heat pumps (each up to its potential, in order), then storage discharge, then
//! boilers; surplus heat-pump potential charges the tank. Each heat pump's electricity is
//! `Q/COP` at its own COP, the waste heat it used `Q − Q/COP`, credited to its own site; boiler
//! gas is `Q/η`. Tank losses are `UA·(T_tank − 15 °C)`. Then each site's cooling electricity for
//! the heat its heat pumps did not take ([`crate::quantum::cooling`]).
//!
//! Units: W, J, kg/s, °C. Reference for COP: Carnot fractions of 0.45–0.6 for large water-to-water
//! heat pumps (David et al., Energies 10(4) 578 (2017), "Heat Roadmap Europe: large-scale electric
//! heat pumps in district heating systems").

use bevy::prelude::*;

use crate::base::{SceneSpec, SimClock, SimSet};
use crate::demand::Consumers;
use crate::network::Network;
use crate::quantum::Sites;
use crate::scene::{Plant, Scene};
use crate::weather::WeatherNow;

/// Condenser and evaporator approach temperatures, K.
const APPROACH_K: f64 = 3.0;
/// Ambient temperature around storage tanks, °C.
const TANK_AMBIENT_C: f64 = 15.0;

#[derive(Debug, Clone)]
pub struct HeatPumpUnit {
    pub id: String,
    pub site: u32,
    pub capacity_w: f64,
    pub carnot_fraction: f64,
    /// Whether it can run (false while tripped or stopped; set by the faults domain).
    pub available: bool,
    // ---- per tick (set by the dispatch) ----
    /// Its COP this tick (0 while it cannot run).
    pub cop: f64,
    /// Heat it can give this tick, W: `min(capacity, Q_src·COP/(COP − 1))` with `Q_src` what is
    /// left of its site's recoverable heat after the heat pumps dispatched before it.
    pub potential_w: f64,
}

#[derive(Debug, Clone)]
pub struct BoilerUnit {
    pub id: String,
    pub capacity_w: f64,
    pub efficiency: f64,
    /// Whether it can fire (false while failed or stopped; set by the faults domain).
    pub available: bool,
}

#[derive(Debug, Clone)]
pub struct TankUnit {
    pub id: String,
    pub capacity_j: f64,
    pub max_power_w: f64,
    pub loss_w_k: f64,
    pub delta_t_k: f64,
    /// Stored heat above the empty state, J.
    pub energy_j: f64,
    /// Whether it can charge or discharge (false while faulted; set by the faults domain).
    pub available: bool,
}

/// Every station (a node with heat-making plants), as arrays of per-station values.
#[derive(Resource, Debug, Clone, Default)]
pub struct Stations {
    pub node: Vec<u32>,
    pub is_reference: Vec<bool>,
    pub heat_pumps: Vec<Vec<HeatPumpUnit>>,
    pub boilers: Vec<Vec<BoilerUnit>>,
    pub tank: Vec<Option<TankUnit>>,
    pub fixed_source_c: Vec<Option<f64>>,
    pub pump_efficiency: Vec<f64>,
    /// Largest differential pressure the station's circulation pump can give, Pa (the largest of
    /// its pumps'; infinite where the scene gives the station no pump).
    pub pump_max_head_pa: Vec<f64>,
    /// Operator's supply set-point, °C, replacing the outdoor reset curve (set by
    /// the operator domain; `None`: the curve).
    setpoint_override_c: Vec<Option<f64>>,
    // ---- per tick ----
    pub setpoint_c: Vec<f64>,
    pub mass_flow_kg_s: Vec<f64>,
    pub supply_out_c: Vec<f64>,
    /// Return temperature that arrived at the station this tick (last tick's during dispatch), °C.
    return_in_c: Vec<f64>,
    /// Heat given to the network this tick, W (can be slightly negative at no flow).
    pub heat_w: Vec<f64>,
    pub hp_cop: Vec<f64>,
    pub hp_potential_w: Vec<f64>,
    /// Most heat the station's plants can give this tick, W: its heat pumps' potential, its tank's
    /// discharge (within its power and its stored heat) and its boilers that can fire (infinite
    /// for a fixed-temperature source). Set by the dispatch; the thermal pass holds the station's
    /// heat to it ([`Stations::hold_to_capacity`]).
    heat_limit_w: Vec<f64>,
    pub hp_heat_w: Vec<f64>,
    pub hp_electricity_w: Vec<f64>,
    /// Waste heat the heat pumps took from their sites, W.
    pub hp_source_w: Vec<f64>,
    pub boiler_heat_w: Vec<f64>,
    pub boiler_gas_w: Vec<f64>,
    pub source_heat_w: Vec<f64>,
    /// Tank charging (+) or discharging (−), W.
    pub tank_charge_w: Vec<f64>,
    pub tank_loss_w: Vec<f64>,
    /// Heat the station could not place (return hotter than supply), W.
    pub dumped_w: Vec<f64>,
}

impl Stations {
    /// The return temperature each station takes its flow at, °C.
    pub fn return_in_c(&self) -> &[f64] {
        &self.return_in_c
    }

    /// Most heat station `s`'s plants can give this tick, W (infinite for a fixed source).
    pub fn heat_limit_w(&self) -> &[f64] {
        &self.heat_limit_w
    }

    /// Hook for the thermal domain, after the return arrived: station `s`'s plants heat the
    /// return `T_r` that came back this tick, so its supply is `min(T_set, T_r + Q_max/(ṁ·c_p))`,
    /// not the temperature the dispatch set from last tick's return. Sets it and returns the heat
    /// the water that left got beyond that this tick, J (`ṁ·c_p·(T_out,dispatch − T_out)·Δt`;
    /// negative when the return came back warmer and a capacity-bound station sends more), which
    /// the thermal pass takes out of (or adds to) the water that left the station.
    pub fn hold_to_capacity(&mut self, s: usize, cp: f64, dt: f64) -> f64 {
        let m = self.mass_flow_kg_s[s];
        let cap = self.heat_limit_w[s];
        if m <= 0.0 || !cap.is_finite() {
            return 0.0;
        }
        let t_out = self.setpoint_c[s].min(self.return_in_c[s] + cap / (m * cp));
        let excess_j = m * cp * (self.supply_out_c[s] - t_out) * dt;
        self.supply_out_c[s] = t_out;
        excess_j
    }

    /// Hook for the thermal domain: the mixed return temperature station `s` takes its flow at.
    pub fn set_return_in(&mut self, s: usize, temp_c: f64) {
        self.return_in_c[s] = temp_c;
    }

    /// Hook for the operator: station `s`'s supply set-point (`None`: the outdoor reset curve);
    /// gives the one before.
    pub fn set_setpoint_override(&mut self, s: usize, temp_c: Option<f64>) -> Option<f64> {
        std::mem::replace(&mut self.setpoint_override_c[s], temp_c)
    }

    /// Hook for the faults domain: asks, for each plant of station `s` by id, whether it can run
    /// (heat pumps, boilers, the tank).
    pub fn set_plant_availability(
        &mut self,
        s: usize,
        heat_pump: impl Fn(&str) -> bool,
        boiler: impl Fn(&str) -> bool,
        tank: impl Fn(&str) -> bool,
    ) {
        for h in self.heat_pumps[s].iter_mut() {
            h.available = heat_pump(&h.id);
        }
        for b in self.boilers[s].iter_mut() {
            b.available = boiler(&b.id);
        }
        if let Some(t) = self.tank[s].as_mut() {
            t.available = tank(&t.id);
        }
    }

    /// A plant's parameters changed (a what-if edit on a running world): heat pumps' capacity and
    /// Carnot fraction, boilers' capacity and efficiency follow the scene's entry.
    pub fn apply_plant(&mut self, plant: &Plant) {
        match plant {
            Plant::HeatPump {
                id,
                capacity_w,
                carnot_fraction,
                ..
            } => {
                for hp in self.heat_pumps.iter_mut().flatten().filter(|h| h.id == *id) {
                    hp.capacity_w = *capacity_w;
                    hp.carnot_fraction = *carnot_fraction;
                }
            }
            Plant::GasBoiler {
                id,
                capacity_w,
                efficiency,
                ..
            } => {
                for b in self.boilers.iter_mut().flatten().filter(|b| b.id == *id) {
                    b.capacity_w = *capacity_w;
                    b.efficiency = *efficiency;
                }
            }
            _ => {}
        }
    }

    /// Stations without a running pump (`pumping[s]` false, or standing on a node cut off by
    /// closed valves): a satellite sends nothing; at a reference station its part of the network
    /// loses its circulation and its substations get no flow. The reference station's flow is
    /// then set again to close the mass balance, and its supply temperature to what its plants can
    /// heat at that flow (as the dispatch does).
    pub fn limit_to_running_pumps(
        &mut self,
        net: &Network,
        c: &mut Consumers,
        pumping: &[bool],
        node_connected: &[bool],
    ) {
        let st = self;
        let stopped = |s: usize| !pumping[s] || !node_connected[st.node[s] as usize];
        if !(0..st.len()).any(stopped) {
            return;
        }
        let ncomp = net.component_root.len();
        let mut dead = vec![false; ncomp];
        for s in 0..st.len() {
            if st.is_reference[s] && !pumping[s] {
                dead[net.component[st.node[s] as usize] as usize] = true;
            }
        }
        for i in 0..c.len() {
            if let Some(n) = c.node[i]
                && dead[net.component[n as usize] as usize]
            {
                c.cut_off(i);
            }
        }
        let mut flow = vec![0.0; ncomp];
        for (i, n) in c.node.iter().enumerate() {
            if let Some(n) = n {
                flow[net.component[*n as usize] as usize] += c.mass_flow_kg_s[i];
            }
        }
        for (n, &m) in net.node_leak_kg_s().iter().enumerate() {
            flow[net.component[n] as usize] += m;
        }
        let stopped: Vec<bool> = (0..st.len()).map(stopped).collect();
        for (s, &stop) in stopped.iter().enumerate() {
            let comp = net.component[st.node[s] as usize] as usize;
            if !st.is_reference[s] {
                if stop || dead[comp] {
                    st.mass_flow_kg_s[s] = 0.0;
                }
                flow[comp] -= st.mass_flow_kg_s[s];
            }
        }
        st.set_reference_flows(net, &flow);
    }

    /// Each reference station sends what its part of the network still needs (`flow_by_part`,
    /// kg/s: substations and leaks less the satellites), at the supply temperature its plants can
    /// heat that flow to (as the dispatch does).
    fn set_reference_flows(&mut self, net: &Network, flow_by_part: &[f64]) {
        let st = self;
        let cp = net.cp_j_kg_k;
        for s in 0..st.len() {
            if !st.is_reference[s] {
                continue;
            }
            let comp = net.component[st.node[s] as usize] as usize;
            let m = flow_by_part[comp].max(0.0);
            st.mass_flow_kg_s[s] = m;
            let cap = st.heat_limit_w[s];
            st.supply_out_c[s] = if m > 0.0 && cap.is_finite() {
                st.setpoint_c[s].min(st.return_in_c[s] + cap / (m * cp))
            } else {
                st.setpoint_c[s]
            };
        }
    }

    /// The hydraulics limited substations' flows (pumps at their largest head): each reference
    /// station's flow closes its part's balance again with the substations' flows as they are now.
    pub fn rebalance_references(&mut self, net: &Network, c: &Consumers) {
        let mut flow = vec![0.0; net.component_root.len()];
        for (i, n) in c.node.iter().enumerate() {
            if let Some(n) = n {
                flow[net.component[*n as usize] as usize] += c.mass_flow_kg_s[i];
            }
        }
        for (n, &m) in net.node_leak_kg_s().iter().enumerate() {
            flow[net.component[n] as usize] += m;
        }
        for s in 0..self.len() {
            if !self.is_reference[s] {
                flow[net.component[self.node[s] as usize] as usize] -= self.mass_flow_kg_s[s];
            }
        }
        self.set_reference_flows(net, &flow);
    }

    pub fn from_scene(scene: &Scene, net: &Network, sites: &Sites) -> Self {
        let mut s = Stations::default();
        let mut station_of_node = std::collections::HashMap::new();
        for p in scene.plants.iter().filter(|p| p.is_heat_source()) {
            let Some(node) = net.node(p.node()) else {
                continue;
            };
            station_of_node.entry(node).or_insert_with(|| {
                s.node.push(node);
                s.node.len() - 1
            });
        }
        let n = s.node.len();
        s.is_reference = s
            .node
            .iter()
            .map(|&nd| net.root_of(nd) == Some(nd))
            .collect();
        s.heat_pumps = vec![Vec::new(); n];
        s.boilers = vec![Vec::new(); n];
        s.tank = vec![None; n];
        s.fixed_source_c = vec![None; n];
        s.pump_efficiency = vec![0.65; n];
        s.pump_max_head_pa = vec![f64::INFINITY; n];
        s.setpoint_override_c = vec![None; n];
        let cp = scene.heat_capacity_j_kg_k();
        let rho = scene.density_kg_m3();
        for p in &scene.plants {
            let Some(node) = net.node(p.node()) else {
                continue;
            };
            let Some(&st) = station_of_node.get(&node) else {
                continue; // a pump or tank at a node without a heat source: inert
            };
            match p {
                Plant::HeatPump {
                    id,
                    site,
                    capacity_w,
                    carnot_fraction,
                    ..
                } => {
                    if let Some(si) = sites.ids.iter().position(|x| x == site) {
                        s.heat_pumps[st].push(HeatPumpUnit {
                            id: id.clone(),
                            site: si as u32,
                            capacity_w: *capacity_w,
                            carnot_fraction: *carnot_fraction,
                            available: true,
                            cop: 0.0,
                            potential_w: 0.0,
                        });
                    }
                }
                Plant::GasBoiler {
                    id,
                    capacity_w,
                    efficiency,
                    ..
                } => s.boilers[st].push(BoilerUnit {
                    id: id.clone(),
                    capacity_w: *capacity_w,
                    efficiency: *efficiency,
                    available: true,
                }),
                Plant::Storage {
                    id,
                    volume_m3,
                    max_power_w,
                    delta_t_k,
                    loss_w_k,
                    initial_soc,
                    ..
                } => {
                    let cap = volume_m3 * rho * cp * delta_t_k;
                    s.tank[st] = Some(TankUnit {
                        id: id.clone(),
                        capacity_j: cap,
                        max_power_w: *max_power_w,
                        loss_w_k: *loss_w_k,
                        delta_t_k: *delta_t_k,
                        energy_j: cap * initial_soc,
                        available: true,
                    });
                }
                Plant::CirculationPump {
                    efficiency,
                    max_head_pa,
                    ..
                } => {
                    s.pump_efficiency[st] = *efficiency;
                    s.pump_max_head_pa[st] = if s.pump_max_head_pa[st].is_finite() {
                        s.pump_max_head_pa[st].max(*max_head_pa)
                    } else {
                        *max_head_pa
                    };
                }
                Plant::FixedSource { supply_temp_c, .. } => {
                    s.fixed_source_c[st] = Some(*supply_temp_c)
                }
            }
        }
        let z = vec![0.0; n];
        s.setpoint_c = vec![scene.heat_network.supply_temp_c; n];
        s.mass_flow_kg_s = z.clone();
        s.supply_out_c = s.setpoint_c.clone();
        s.return_in_c = vec![scene.heat_network.return_temp_c; n];
        s.heat_w = z.clone();
        s.hp_cop = z.clone();
        s.hp_potential_w = z.clone();
        s.heat_limit_w = z.clone();
        s.hp_heat_w = z.clone();
        s.hp_electricity_w = z.clone();
        s.hp_source_w = z.clone();
        s.boiler_heat_w = z.clone();
        s.boiler_gas_w = z.clone();
        s.source_heat_w = z.clone();
        s.tank_charge_w = z.clone();
        s.tank_loss_w = z.clone();
        s.dumped_w = z;
        s
    }
    pub fn len(&self) -> usize {
        self.node.len()
    }
    pub fn is_empty(&self) -> bool {
        self.node.is_empty()
    }
    /// Total stored heat in tanks, J.
    pub fn tank_energy_j(&self) -> f64 {
        self.tank.iter().flatten().map(|t| t.energy_j).sum()
    }
}

/// Capacity of a station's boilers that can fire now, W.
pub fn available_boiler_w(boilers: &[BoilerUnit]) -> f64 {
    boilers
        .iter()
        .filter(|b| b.available)
        .map(|b| b.capacity_w)
        .sum()
}

/// Carnot-fraction COP of a heat pump between a source at `source_c` and a sink at `sink_c`.
pub fn heat_pump_cop(carnot_fraction: f64, source_c: f64, sink_c: f64) -> f64 {
    let th = sink_c + APPROACH_K + 273.15;
    let tc = source_c - APPROACH_K + 273.15;
    if th - tc <= 1.0 {
        return 10.0;
    }
    (carnot_fraction * th / (th - tc)).clamp(1.5, 10.0)
}

/// Heating limit of the outdoor reset curve (defined with the scene format, which validates the
/// design temperature against it).
pub use crate::scene::HEATING_LIMIT_C;

/// Supply set-point from the outdoor reset curve.
pub fn supply_setpoint_c(net: &crate::scene::HeatNetwork, outdoor_c: f64) -> f64 {
    match net.supply_temp_at_design_c {
        None => net.supply_temp_c,
        Some(design) => {
            let mild = HEATING_LIMIT_C;
            let f = ((mild - outdoor_c) / (mild - net.design_outdoor_temp_c)).clamp(0.0, 1.0);
            net.supply_temp_c + f * (design - net.supply_temp_c)
        }
    }
}

pub struct PlantsPlugin;

impl Plugin for PlantsPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(FixedUpdate, dispatch.in_set(SimSet::Plants))
            .add_systems(FixedUpdate, settle.in_set(SimSet::Settle));
    }
}

// The dispatch walks parallel per-station arrays by index; iterators over five of them at once
// would read worse.
#[allow(clippy::needless_range_loop)]
fn dispatch(
    spec: Res<SceneSpec>,
    clock: Res<SimClock>,
    weather: Res<WeatherNow>,
    net: Res<Network>,
    sites: Res<Sites>,
    consumers: Res<Consumers>,
    mut st: ResMut<Stations>,
) {
    let cp = net.cp_j_kg_k;
    let dt = clock.tick_s;
    let setpoint = supply_setpoint_c(&spec.scene.heat_network, weather.outdoor_temp_c);
    let st = &mut *st;
    let n = st.len();
    // Potentials. What each site has left of its recoverable heat: heat pumps on one site share
    // it, the first in station order taking first.
    let mut site_left_w = sites.recoverable_w.clone();
    let mut free_w = vec![0.0; n];
    let mut cap_w = vec![0.0; n];
    for s in 0..n {
        let sp = st.fixed_source_c[s]
            .or(st.setpoint_override_c[s])
            .unwrap_or(setpoint);
        st.setpoint_c[s] = sp;
        let mut pot = 0.0;
        let mut cop_sum = 0.0;
        for hp in st.heat_pumps[s].iter_mut() {
            hp.cop = 0.0;
            hp.potential_w = 0.0;
            if !hp.available {
                continue;
            }
            let si = hp.site as usize;
            let cop = heat_pump_cop(hp.carnot_fraction, sites.water_temp_c[si], sp);
            let p = (site_left_w[si].max(0.0) * cop / (cop - 1.0)).min(hp.capacity_w);
            site_left_w[si] -= p - p / cop;
            hp.cop = cop;
            hp.potential_w = p;
            pot += p;
            cop_sum += cop * p;
        }
        st.hp_potential_w[s] = pot;
        st.hp_cop[s] = if pot > 0.0 { cop_sum / pot } else { 0.0 };
        let discharge = st.tank[s]
            .as_ref()
            .filter(|t| t.available)
            .map(|t| t.max_power_w.min(t.energy_j / dt))
            .unwrap_or(0.0);
        free_w[s] = pot + discharge;
        let boilers = available_boiler_w(&st.boilers[s]);
        cap_w[s] = if st.fixed_source_c[s].is_some() {
            f64::INFINITY
        } else {
            pot + discharge + boilers
        };
        st.heat_limit_w[s] = cap_w[s];
    }
    // Flow each part of the network asks for.
    let ncomp = net.component_root.len();
    let mut demand_flow = vec![0.0; ncomp];
    for (c, node) in consumers.node.iter().enumerate() {
        if let Some(node) = node {
            demand_flow[net.component[*node as usize] as usize] += consumers.mass_flow_kg_s[c];
        }
    }
    // Water lost through leaks is made up at the stations too (see the faults domain).
    for (node, &m) in net.node_leak_kg_s().iter().enumerate() {
        if m > 0.0 {
            demand_flow[net.component[node] as usize] += m;
        }
    }
    // Free heat first: every non-reference station sends what its heat pumps and tank can give.
    let mut free_flow = vec![0.0; ncomp];
    let mut boiler_cap = vec![0.0; ncomp];
    let mut free_m = vec![0.0; n];
    for s in 0..n {
        let c = net.component[st.node[s] as usize] as usize;
        boiler_cap[c] += available_boiler_w(&st.boilers[s]);
        if !st.is_reference[s] {
            let dt_k = (st.setpoint_c[s] - st.return_in_c[s]).max(5.0);
            free_m[s] = free_w[s] / (cp * dt_k);
            free_flow[c] += free_m[s];
        }
    }
    for s in 0..n {
        let c = net.component[st.node[s] as usize] as usize;
        // Too much free heat for the demand: all free stations turn down together.
        let scale = if free_flow[c] > demand_flow[c] && free_flow[c] > 0.0 {
            demand_flow[c] / free_flow[c]
        } else {
            1.0
        };
        let rest = (demand_flow[c] - free_flow[c]).max(0.0);
        let cap = available_boiler_w(&st.boilers[s]);
        // The rest is shared by the boiler stations in proportion to their capacity; the
        // reference's share is its estimate (the hydraulics closes the balance exactly).
        let boiler_share = if boiler_cap[c] > 0.0 {
            rest * cap / boiler_cap[c]
        } else {
            0.0
        };
        st.mass_flow_kg_s[s] = if st.is_reference[s] {
            if boiler_cap[c] > 0.0 {
                boiler_share
            } else {
                rest
            }
        } else {
            free_m[s] * scale + boiler_share
        };
    }
    for s in 0..n {
        let m = st.mass_flow_kg_s[s];
        st.supply_out_c[s] = if m > 0.0 && cap_w[s].is_finite() {
            st.setpoint_c[s].min(st.return_in_c[s] + cap_w[s] / (m * cp))
        } else {
            st.setpoint_c[s]
        };
    }
}

/// Splits each station's actual heat among its plants, after the thermal pass.
pub fn settle(
    clock: Res<SimClock>,
    net: Res<Network>,
    weather: Res<WeatherNow>,
    mut st: ResMut<Stations>,
    mut sites: ResMut<Sites>,
) {
    let cp = net.cp_j_kg_k;
    let dt = clock.tick_s;
    let st = &mut *st;
    for s in 0..st.len() {
        let q = st.mass_flow_kg_s[s] * cp * (st.supply_out_c[s] - st.return_in_c[s]);
        st.heat_w[s] = q;
        let (mut hp, mut boiler, mut source, mut charge, mut dumped) = (0.0, 0.0, 0.0, 0.0, 0.0);
        // The thermal pass held the heat to the plants' limit (`hold_to_capacity`); what is left
        // over here is rounding.
        let need = q.max(0.0).min(st.heat_limit_w[s]);
        if q < 0.0 {
            dumped = -q;
        }
        if st.fixed_source_c[s].is_some() {
            source = need;
        } else {
            let pot = st.hp_potential_w[s];
            hp = need.min(pot);
            let mut rest = need - hp;
            if let Some(t) = st.tank[s].as_mut().filter(|t| t.available) {
                if rest > 0.0 {
                    let d = rest.min(t.max_power_w).min(t.energy_j / dt);
                    charge = -d;
                    rest -= d;
                } else {
                    let c = (pot - hp)
                        .min(t.max_power_w)
                        .min((t.capacity_j - t.energy_j) / dt)
                        .max(0.0);
                    charge = c;
                    hp += c;
                }
            }
            let boilers_w = available_boiler_w(&st.boilers[s]);
            if boilers_w > 0.0 {
                boiler = rest;
            } else if hp > 0.0 || charge >= 0.0 {
                // Rounding only (`need` is within the limit).
                hp += rest;
            } else {
                charge -= rest;
            }
        }
        // Each heat pump in turn, up to its potential: its electricity `Q/COP` and the waste heat
        // it took, `Q − Q/COP`, credited to its own site.
        let mut left = hp;
        let (mut elec, mut src) = (0.0, 0.0);
        let units = st.heat_pumps[s].len();
        for (k, u) in st.heat_pumps[s].iter().enumerate() {
            if u.potential_w <= 0.0 || left <= 0.0 {
                continue;
            }
            // The last unit with potential takes any rounding left.
            let last = st.heat_pumps[s][k + 1..units]
                .iter()
                .all(|v| v.potential_w <= 0.0);
            let h = if last { left } else { left.min(u.potential_w) };
            left -= h;
            let e = h / u.cop;
            elec += e;
            src += h - e;
            sites.recovered_w[u.site as usize] += h - e;
        }
        st.hp_heat_w[s] = hp;
        st.hp_electricity_w[s] = elec;
        st.hp_source_w[s] = src;
        st.boiler_heat_w[s] = boiler;
        let cap = available_boiler_w(&st.boilers[s]);
        st.boiler_gas_w[s] = if cap > 0.0 {
            st.boilers[s]
                .iter()
                .filter(|b| b.available)
                .map(|b| boiler * b.capacity_w / cap / b.efficiency)
                .sum()
        } else {
            0.0
        };
        st.source_heat_w[s] = source;
        st.tank_charge_w[s] = charge;
        st.dumped_w[s] = dumped;
        st.tank_loss_w[s] = 0.0;
        if let Some(t) = st.tank[s].as_mut() {
            let soc = if t.capacity_j > 0.0 {
                t.energy_j / t.capacity_j
            } else {
                0.0
            };
            let t_tank = st.return_in_c[s] + soc * t.delta_t_k;
            let loss = (t.loss_w_k * (t_tank - TANK_AMBIENT_C))
                .max(0.0)
                .min((t.energy_j / dt + charge).max(0.0));
            st.tank_loss_w[s] = loss;
            t.energy_j = (t.energy_j + (charge - loss) * dt).max(0.0);
        }
    }
    // What the heat pumps did not take goes to the sites' dry coolers and chillers.
    sites.update_cooling(weather.outdoor_temp_c);
}

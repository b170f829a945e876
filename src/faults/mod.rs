//! Faults: failures of the heat network, its plants, the quantum sites, the grid, the fibre and
//! the sensors — each with its physics — and their repair.
//!
//! # Failures and what they do to the simulation
//! | failure | physics (where) |
//! | --- | --- |
//! | [`FaultKind::PipeLeak`], [`FaultKind::PipeBurst`] | water leaves the supply pipe through an orifice, `ṁ = C_d·A·√(2ρ·p)` with `p` the pipe's gauge pressure (mean of its ends, last tick), half at each end node ([`crate::network::Network::node_leak_kg_s`]); the reference station makes the flow up; its heat `ṁ·c_p·(T_s − T_mu)` is counted in the ledger's balance (the thermal domain); the pressurisation feeds make-up water up to its capacity, beyond which its expansion vessel drains and the static pressure falls; below [`FaultsConfig::low_pressure_trip_share`] of nominal the circulation pumps trip on low suction pressure. Closing the pipe's valves (isolating the stretch) stops the leak. A burst is a leak through a large hole. |
//! | [`FaultKind::PumpTrip`] | the duty pump stops; at a reference station the network loses its differential pressure and circulation stops (every flow of its part of the network goes to 0; the satellites' small pumps cannot hold it); at a satellite station its heat pumps' flow stops. A standby starts after `standby_after_s` if given, or when the operator starts it. |
//! | [`FaultKind::HeatPumpTrip`], [`FaultKind::BoilerFailure`], [`FaultKind::StorageFault`] | the plant is unavailable to the dispatch ([`crate::plants`]): its station sends out what the others can heat. |
//! | [`FaultKind::CompressorFailure`] | the site's pulse-tube compressor stops: its mixing chamber warms on the curve of [`crate::quantum::cryostat`] (100 mK in ≈ 10 min, 4 K in ≈ 2.5 h), error rates rise with it, above `too_warm_k` the site takes no jobs and its queue fails over; after the repair the cool-down takes hours. |
//! | [`FaultKind::SitePowerOutage`] | the site loses its grid supply and runs on its UPS ([`FaultsConfig::ups_autonomy_s`] at full load); when the UPS is empty it goes down hard (jobs aborted, compressor stopped). A safe shutdown (servers and electronics off, compressor on) stretches the UPS. |
//! | [`FaultKind::FeederOutage`] | every bus beyond the feeder (radially from the connection) loses power: its loads are unserved, its PV and wind disconnect, its sites run on UPS, heat pumps and pumps on it stop ([`crate::grid`]). |
//! | [`FaultKind::FibreCut`] | the site is unreachable: its running job is lost, its queue re-routes to other sites, it takes no new jobs ([`crate::quantum::schedule`]). |
//! | [`FaultKind::QkdFibreCut`] | the site's QKD links deliver no keys: they fall back to `data_links.qkd.fallback` (hybrid, or classical and flagged) at their next key exchange ([`crate::links`]). |
//! | [`FaultKind::KeyExchangeFailure`] | key exchanges of the scheme fail on the service's links: they close, the service's jobs go to other sites or are rejected, until the operator switches the links' scheme ([`crate::links`]). |
//! | [`FaultKind::SensorDrift`], [`FaultKind::SensorFreeze`] | the measured value (the alarms domain) drifts away from the truth at a rate, or stays at the value it had; the physics is untouched. |
//!
//! # Schedule, injection and repair
//! Failures come from the scenario's timeline ([`Faults::schedule`], times in s of simulated
//! time) or are injected live (the operator's `InstructorCommand::Inject`). A failure with
//! [`Repair::Crew`] is repaired `repair_s` after the operator dispatches a crew
//! (the operator's `OperatorAction::DispatchRepair`); one with [`Repair::Auto`] `repair_s` after
//! it began. The instructor can also clear a failure at once.
//!
//! # Order in the tick
//! [`crate::base::SimSet::Faults`] (first): commands, timeline, repairs, then every hook is
//! derived from the failures and the operator's equipment states ([`Equipment`]).
//! [`crate::base::SimSet::Curtail`] (after demand): consumers cut off by closed valves get no flow,
//! heat and electricity shedding. [`crate::base::SimSet::Limits`] (after the plants' dispatch):
//! stations without a running pump. [`crate::base::SimSet::Monitor`] (after the grid): pressures
//! lowered by the pressurisation's deficit, pump heads of stopped pumps.
//!
//! Units: s, kg, kg/s, Pa, m, W, J.
//!
//! References: orifice discharge coefficient 0.6–0.65 for sharp-edged holes (Idelchik, *Handbook
//! of Hydraulic Resistance*, 3rd ed. (1994), ch. 4); pressurisation and make-up of district-heating
//! networks (Frederiksen & Werner, *District Heating and Cooling* (2013), ch. 5.6; Euroheat &
//! Power, *Guidelines for District Heating Substations* (2008)); low-suction-pressure pump
//! protection (NPSH) in hot-water networks.

use std::collections::BTreeSet;

use bevy::prelude::*;
use serde::{Deserialize, Serialize};

use crate::base::{SimClock, SimSet};
use crate::demand::{Buildings, ConsumerKind, Consumers};
use crate::grid::GridState;
use crate::hydraulics::{CLOSED_VALVE_FACTOR, HydraulicState};
use crate::network::Network;
use crate::plants::Stations;
use crate::quantum::Sites;
pub use crate::scene::failures::{FaultKind, FaultSpec, Repair, check_failures};
use crate::scene::{BuildingUse, Plant, Scene};

/// A site's state the operator sets (see [`Equipment::set_site_flag`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteFlag {
    /// No new jobs are sent to it.
    Drained,
    /// It runs on its UPS although the grid is there (a test of the UPS).
    OnBattery,
    /// Servers and electronics off, compressor on (a safe shutdown).
    ShutDown,
}

/// A failure that began, and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRecord {
    pub spec: FaultSpec,
    pub started_s: f64,
    pub crew_dispatched_s: Option<f64>,
    pub repaired_s: Option<f64>,
}

impl FaultRecord {
    pub fn active(&self) -> bool {
        self.repaired_s.is_none()
    }
    /// When the repair will be done, if it is under way.
    pub fn repair_due_s(&self) -> Option<f64> {
        match self.spec.repair {
            Repair::Auto => Some(self.started_s + self.spec.repair_s),
            Repair::Crew => self.crew_dispatched_s.map(|t| t + self.spec.repair_s),
        }
    }
}

/// Constants of the failure physics (a scenario may override them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultsConfig {
    /// Discharge coefficient of a leak's hole.
    pub discharge_coefficient: f64,
    /// Equivalent hole diameter of a leak, m.
    pub leak_hole_m: f64,
    /// Equivalent hole diameter of a burst, m.
    pub burst_hole_m: f64,
    /// Most make-up water the pressurisation can feed, kg/s.
    pub makeup_capacity_kg_s: f64,
    /// Water the expansion vessel holds at nominal pressure, kg.
    pub vessel_water_kg: f64,
    /// Below this share of the nominal static pressure the circulation pumps trip.
    pub low_pressure_trip_share: f64,
    /// Minutes a site's UPS carries its full load, s.
    pub ups_autonomy_s: f64,
    /// Time to recharge an empty UPS, s.
    pub ups_recharge_s: f64,
}

impl Default for FaultsConfig {
    fn default() -> Self {
        Self {
            discharge_coefficient: 0.62,
            leak_hole_m: 0.005,
            burst_hole_m: 0.03,
            makeup_capacity_kg_s: 2.0,
            vessel_water_kg: 10_000.0,
            low_pressure_trip_share: 0.3,
            ups_autonomy_s: 900.0,
            ups_recharge_s: 4.0 * 3600.0,
        }
    }
}

/// The failures: the timeline still to come, every failure that began, the pressurisation.
#[derive(Resource, Debug, Clone, Default, Serialize, Deserialize)]
pub struct Faults {
    pub config: FaultsConfig,
    /// Scheduled failures not yet begun, by time.
    pub schedule: Vec<FaultSpec>,
    /// Every failure ever scheduled (the timeline as given; for snapshot files).
    pub timeline: Vec<FaultSpec>,
    pub records: Vec<FaultRecord>,
    /// Water in the expansion vessel, kg.
    pub vessel_kg: f64,
    /// Static pressure the pressurisation holds now, Pa (gauge), and its nominal value.
    pub static_pressure_pa: f64,
    pub nominal_static_pa: f64,
    /// Make-up water fed this tick, kg/s.
    pub makeup_kg_s: f64,
    /// Total leak flow this tick, kg/s.
    pub leak_kg_s: f64,
}

impl Faults {
    pub fn new(scene: &Scene, config: FaultsConfig) -> Self {
        Self {
            vessel_kg: config.vessel_water_kg,
            static_pressure_pa: scene.heat_network.return_pressure_pa,
            nominal_static_pa: scene.heat_network.return_pressure_pa,
            config,
            ..Default::default()
        }
    }
    /// Failures active now.
    pub fn active(&self) -> impl Iterator<Item = &FaultRecord> {
        self.records.iter().filter(|r| r.active())
    }
    /// Whether an active failure matches.
    pub fn any_active(&self, f: impl Fn(&FaultKind) -> bool) -> bool {
        self.active().any(|r| f(&r.spec.kind))
    }
    pub fn record(&self, id: &str) -> Option<&FaultRecord> {
        self.records.iter().rev().find(|r| r.spec.id == id)
    }
    /// Adds failures to the timeline (kept in time order, stable).
    /// The operator dispatches a repair crew to active failure `id` at `now_s`; gives how long
    /// the repair takes, or why not.
    pub fn dispatch_crew(&mut self, id: &str, now_s: f64) -> Result<f64, String> {
        match self
            .records
            .iter_mut()
            .rev()
            .find(|r| r.spec.id == id && r.active())
        {
            Some(r) if r.crew_dispatched_s.is_some() => Err("a crew is already on it".into()),
            Some(r) => {
                r.crew_dispatched_s = Some(now_s);
                Ok(r.spec.repair_s)
            }
            None => Err(format!("no active failure {id}")),
        }
    }

    pub fn schedule_all(&mut self, specs: impl IntoIterator<Item = FaultSpec>) {
        let specs: Vec<FaultSpec> = specs.into_iter().collect();
        self.timeline.extend(specs.iter().cloned());
        self.schedule.extend(specs);
        self.schedule.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
    }
}

/// A circulation pump: a duty pump and an identical standby.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PumpUnit {
    pub id: String,
    /// Station it pushes for (index into [`Stations`]), if its node has one.
    pub station: Option<u32>,
    pub max_head_pa: f64,
    pub duty_on: bool,
    pub standby_on: bool,
    /// Tripped on low suction pressure (both pumps stopped; restart by hand).
    pub low_pressure_tripped: bool,
}

/// The operator-set state of the equipment, and what the failures leave of it this tick.
#[derive(Resource, Debug, Clone, Serialize, Deserialize)]
pub struct Equipment {
    /// Whether each pipe's valves are open.
    pipe_open: Vec<bool>,
    pub pumps: Vec<PumpUnit>,
    /// Plants (boilers, heat pumps) the operator stopped.
    plants_off: BTreeSet<String>,
    /// Sites the operator drains, shut down safely, or put on battery.
    site_drained: Vec<bool>,
    site_shut_down: Vec<bool>,
    site_on_battery: Vec<bool>,
    /// UPS energy of each site, J, and its capacity.
    pub ups_j: Vec<f64>,
    pub ups_capacity_j: Vec<f64>,
    /// Share of the heat demand shed (all consumers but hospitals), 0–1.
    heat_shed_share: f64,
    /// Share of the buildings' electricity shed on each bus, 0–1.
    electricity_shed_share: Vec<f64>,
    // ---- derived each tick ----
    /// Whether each node is reached from its part's reference station through open pipes.
    pub node_connected: Vec<bool>,
    /// The valve states `node_connected` was last worked out for (it changes only with them).
    #[serde(default)]
    pub connected_for: Vec<bool>,
    /// Whether each station has a running circulation pump (stations without a pump count as running).
    pub station_pumping: Vec<bool>,
    /// What the failures last made of each site's `online` and `compressor_on`: these two are
    /// written only when that changes, so a value set from outside (a test, a what-if) stands
    /// until a failure or repair concerns it.
    pub site_online_derived: Vec<bool>,
    pub compressor_derived: Vec<bool>,
}

impl Equipment {
    pub fn new(
        scene: &Scene,
        net: &Network,
        stations: &Stations,
        sites: &Sites,
        cfg: &FaultsConfig,
    ) -> Self {
        let pumps = scene
            .plants
            .iter()
            .filter_map(|p| match p {
                Plant::CirculationPump {
                    id,
                    node,
                    max_head_pa,
                    ..
                } => {
                    let n = net.node(node);
                    Some(PumpUnit {
                        id: id.clone(),
                        station: n
                            .and_then(|n| stations.node.iter().position(|&x| x == n))
                            .map(|s| s as u32),
                        max_head_pa: *max_head_pa,
                        duty_on: true,
                        standby_on: false,
                        low_pressure_tripped: false,
                    })
                }
                _ => None,
            })
            .collect();
        let ups: Vec<f64> = (0..sites.len())
            .map(|i| sites.full_power_w(i) * cfg.ups_autonomy_s)
            .collect();
        let nb = scene.grid.as_ref().map_or(0, |g| g.buses.len());
        Self {
            pipe_open: vec![true; net.pipe_count()],
            pumps,
            plants_off: BTreeSet::new(),
            site_drained: vec![false; sites.len()],
            site_shut_down: vec![false; sites.len()],
            site_on_battery: vec![false; sites.len()],
            ups_j: ups.clone(),
            ups_capacity_j: ups,
            heat_shed_share: 0.0,
            electricity_shed_share: vec![0.0; nb],
            node_connected: vec![true; net.node_count()],
            connected_for: Vec::new(),
            station_pumping: vec![true; stations.len()],
            site_online_derived: vec![true; sites.len()],
            compressor_derived: vec![true; sites.len()],
        }
    }
    /// The operator opens (`true`) or closes pipe `k`'s valves; gives the position before.
    pub fn set_pipe_open(&mut self, k: usize, open: bool) -> bool {
        std::mem::replace(&mut self.pipe_open[k], open)
    }

    /// The operator starts pump unit `i` (its standby unit when the duty pump is tripped); gives
    /// whether anything changed.
    pub fn start_pump(&mut self, i: usize, duty_tripped: bool) -> bool {
        let p = &mut self.pumps[i];
        let before = (p.duty_on, p.standby_on);
        p.low_pressure_tripped = false;
        if duty_tripped {
            p.standby_on = true;
        } else {
            p.duty_on = true;
        }
        before != (p.duty_on, p.standby_on)
    }

    /// The operator stops pump unit `i` (duty and standby); gives whether it was running.
    pub fn stop_pump(&mut self, i: usize) -> bool {
        let p = &mut self.pumps[i];
        let was = p.duty_on || p.standby_on;
        p.duty_on = false;
        p.standby_on = false;
        was
    }

    /// The operator stops (`off`) or starts a boiler or heat pump; gives whether it was off.
    pub fn set_plant_off(&mut self, id: &str, off: bool) -> bool {
        let was_off = self.plants_off.contains(id);
        if off {
            self.plants_off.insert(id.to_string());
        } else {
            self.plants_off.remove(id);
        }
        was_off
    }

    /// The operator's heat shedding (share 0–1 of every non-hospital substation's flow); gives
    /// the share before.
    pub fn set_heat_shed(&mut self, share: f64) -> f64 {
        std::mem::replace(&mut self.heat_shed_share, share.clamp(0.0, 1.0))
    }

    /// The operator's electricity shedding on bus `b` (share 0–1); gives the share before.
    pub fn set_electricity_shed(&mut self, b: usize, share: f64) -> f64 {
        std::mem::replace(&mut self.electricity_shed_share[b], share.clamp(0.0, 1.0))
    }

    /// The operator sets one of site `i`'s flags; gives its value before.
    pub fn set_site_flag(&mut self, i: usize, flag: SiteFlag, value: bool) -> bool {
        let v = match flag {
            SiteFlag::Drained => &mut self.site_drained,
            SiteFlag::OnBattery => &mut self.site_on_battery,
            SiteFlag::ShutDown => &mut self.site_shut_down,
        };
        std::mem::replace(&mut v[i], value)
    }

    /// The sites changed size (a what-if edit on a running world): each UPS is sized again for its
    /// site's full load and keeps its state of charge.
    pub fn resize_ups(&mut self, sites: &Sites, cfg: &FaultsConfig) {
        for i in 0..sites.len().min(self.ups_j.len()) {
            let cap = sites.full_power_w(i) * cfg.ups_autonomy_s;
            let soc = if self.ups_capacity_j[i] > 0.0 {
                self.ups_j[i] / self.ups_capacity_j[i]
            } else {
                1.0
            };
            self.ups_capacity_j[i] = cap;
            self.ups_j[i] = soc * cap;
        }
    }

    pub fn pump(&self, id: &str) -> Option<usize> {
        self.pumps.iter().position(|p| p.id == id)
    }
}

/// The faults' part of a world built from a scene.
pub fn insert_resources(world: &mut World, scene: &Scene, cfg: FaultsConfig) {
    let eq = Equipment::new(
        scene,
        world.resource::<Network>(),
        world.resource::<Stations>(),
        world.resource::<Sites>(),
        &cfg,
    );
    world.insert_resource(eq);
    let mut faults = Faults::new(scene, cfg);
    // Failures the scene schedules itself.
    faults.schedule_all(scene.failures.iter().cloned());
    world.insert_resource(faults);
}

pub struct FaultsPlugin;

impl Plugin for FaultsPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(
            FixedUpdate,
            (timeline_and_repairs, derive_hooks)
                .chain()
                .in_set(SimSet::Faults),
        )
        .add_systems(FixedUpdate, curtail.in_set(SimSet::Curtail))
        .add_systems(FixedUpdate, limit_flows.in_set(SimSet::Limits))
        .add_systems(FixedUpdate, adjust_pressures.in_set(SimSet::Pressurise));
    }
}

/// Starts the failures that are due and ends those whose repair is done.
pub fn timeline_and_repairs(clock: Res<SimClock>, mut faults: ResMut<Faults>) {
    let now = clock.time_s;
    let f = &mut *faults;
    while f.schedule.first().is_some_and(|s| s.at_s <= now) {
        let spec = f.schedule.remove(0);
        f.records.push(FaultRecord {
            spec,
            started_s: now,
            crew_dispatched_s: None,
            repaired_s: None,
        });
    }
    for r in f.records.iter_mut().filter(|r| r.active()) {
        if r.repair_due_s().is_some_and(|t| t <= now) {
            r.repaired_s = Some(now);
        }
    }
}

/// Derives this tick's hooks from the failures and the operator's equipment states.
#[allow(clippy::too_many_arguments)]
pub fn derive_hooks(
    clock: Res<SimClock>,
    mut faults: ResMut<Faults>,
    mut eq: ResMut<Equipment>,
    mut net: ResMut<Network>,
    hs: Res<HydraulicState>,
    mut st: ResMut<Stations>,
    mut sites: ResMut<Sites>,
    mut grid: ResMut<GridState>,
    links: Option<ResMut<crate::links::DataLinkState>>,
) {
    let now = clock.time_s;
    let dt = clock.tick_s;
    let f = &mut *faults;
    let eq = &mut *eq;
    let active: Vec<FaultRecord> = f.active().cloned().collect();
    let is = |pred: &dyn Fn(&FaultKind) -> bool| active.iter().any(|r| pred(&r.spec.kind));

    // Valves, and the nodes reached from their part's reference through open pipes (worked out
    // again only when a valve moved).
    if eq.connected_for != eq.pipe_open {
        for (k, open) in eq.pipe_open.iter().enumerate() {
            net.set_valves_open(k, *open, CLOSED_VALVE_FACTOR);
        }
        let nn = net.node_count();
        let mut adj: Vec<Vec<u32>> = vec![Vec::new(); nn];
        for k in 0..net.pipe_count() {
            if eq.pipe_open[k] {
                let (a, b) = (net.pipe_from[k], net.pipe_to[k]);
                adj[a as usize].push(b);
                adj[b as usize].push(a);
            }
        }
        eq.node_connected.iter_mut().for_each(|x| *x = false);
        for root in net.component_root.iter().flatten() {
            let mut stack = vec![*root];
            eq.node_connected[*root as usize] = true;
            while let Some(u) = stack.pop() {
                for &v in &adj[u as usize] {
                    if !eq.node_connected[v as usize] {
                        eq.node_connected[v as usize] = true;
                        stack.push(v);
                    }
                }
            }
        }
        eq.connected_for.clone_from(&eq.pipe_open);
    }

    // Buses cut off by feeder outages (radially beyond the feeder).
    if grid.present {
        let out: Vec<usize> = active
            .iter()
            .filter_map(|r| match &r.spec.kind {
                FaultKind::FeederOutage { feeder } => {
                    grid.feeder_ids.iter().position(|x| x == feeder)
                }
                _ => None,
            })
            .collect();
        grid.set_feeders_out(&out);
    }
    let bus_live = |b: Option<u32>| {
        b.is_none_or(|b| grid.bus_energised.get(b as usize).copied().unwrap_or(true))
    };

    // Sites: compressor, power supply and UPS, fibre, operator states.
    for i in 0..sites.len() {
        let id = sites.ids[i].clone();
        let compressor =
            !is(&|k| matches!(k, FaultKind::CompressorFailure { site } if *site == id));
        if compressor != eq.compressor_derived[i] {
            sites.set_compressor(i, compressor);
            eq.compressor_derived[i] = compressor;
        }
        let grid_ok = bus_live(sites.bus[i])
            && !is(&|k| matches!(k, FaultKind::SitePowerOutage { site } if *site == id));
        let on_ups = !grid_ok || eq.site_on_battery[i];
        // The UPS gave last tick's electricity if the site ran on it, else it recharges.
        if sites.on_ups(i) && sites.online[i] {
            eq.ups_j[i] = (eq.ups_j[i] - sites.electricity_w[i] * dt).max(0.0);
        } else if grid_ok {
            eq.ups_j[i] = (eq.ups_j[i] + eq.ups_capacity_j[i] / f.config.ups_recharge_s * dt)
                .min(eq.ups_capacity_j[i]);
        }
        let online = !on_ups || eq.ups_j[i] > 0.0;
        let changed = online != eq.site_online_derived[i];
        sites.set_power(i, on_ups, changed.then_some(online));
        eq.site_online_derived[i] = online;
        sites.set_service(
            i,
            !is(&|k| matches!(k, FaultKind::FibreCut { site } if *site == id)),
            !eq.site_drained[i],
            !eq.site_shut_down[i],
        );
    }

    // Data links: QKD dark fibres, broken key exchanges.
    if let Some(mut links) = links {
        for (i, id) in sites.ids.iter().enumerate() {
            links.set_qkd_fibre_cut(
                i,
                is(&|k| matches!(k, FaultKind::QkdFibreCut { site } if site == id)),
            );
        }
        for k in 0..links.links.len() {
            let service = links.links[k].service.name();
            let broken = active.iter().find_map(|r| match &r.spec.kind {
                FaultKind::KeyExchangeFailure { service: s, scheme } if s == service => {
                    Some(*scheme)
                }
                _ => None,
            });
            links.set_kex_fault(k, broken);
        }
    }

    // Plants.
    let st = &mut *st;
    for s in 0..st.len() {
        let station_bus = st.heat_pumps[s]
            .first()
            .and_then(|h| sites.bus[h.site as usize]);
        let live = bus_live(station_bus);
        st.set_plant_availability(
            s,
            |id| {
                live && !eq.plants_off.contains(id)
                    && !is(&|k| matches!(k, FaultKind::HeatPumpTrip { plant } if plant == id))
            },
            |id| {
                !eq.plants_off.contains(id)
                    && !is(&|k| matches!(k, FaultKind::BoilerFailure { plant } if plant == id))
            },
            |id| !is(&|k| matches!(k, FaultKind::StorageFault { plant } if plant == id)),
        );
    }

    // Pumps: trips, automatic standby, buses.
    eq.station_pumping.iter_mut().for_each(|x| *x = true);
    for p in eq.pumps.iter_mut() {
        let trip = active
            .iter()
            .find(|r| matches!(&r.spec.kind, FaultKind::PumpTrip { pump, .. } if *pump == p.id));
        if let Some(r) = trip
            && let FaultKind::PumpTrip {
                standby_after_s: Some(d),
                ..
            } = r.spec.kind
            && now >= r.started_s + d
            && !p.low_pressure_tripped
            && !p.standby_on
        {
            p.standby_on = true;
        }
        let live = p.station.is_none_or(|s| {
            let s = s as usize;
            bus_live(
                st.heat_pumps[s]
                    .first()
                    .and_then(|h| sites.bus[h.site as usize]),
            )
        });
        let running =
            live && !p.low_pressure_tripped && ((p.duty_on && trip.is_none()) || p.standby_on);
        if let Some(s) = p.station {
            eq.station_pumping[s as usize] = running;
        }
    }

    // Leaks (orifice law at last tick's pressure) and the pressurisation.
    net.clear_leaks();
    let rho = net.density_kg_m3;
    let mut leak_total = 0.0;
    for r in &active {
        let (pipe, hole) = match &r.spec.kind {
            FaultKind::PipeLeak {
                pipe,
                hole_diameter_m,
            } => (pipe, hole_diameter_m.unwrap_or(f.config.leak_hole_m)),
            FaultKind::PipeBurst {
                pipe,
                hole_diameter_m,
            } => (pipe, hole_diameter_m.unwrap_or(f.config.burst_hole_m)),
            _ => continue,
        };
        let Some(k) = net.pipe_ids.iter().position(|x| x == pipe) else {
            continue;
        };
        let (a, b) = (net.pipe_from[k] as usize, net.pipe_to[k] as usize);
        if !eq.pipe_open[k] || !eq.node_connected[a] || !eq.node_connected[b] {
            continue; // isolated: the stretch is emptied and the leak stops
        }
        let p = 0.5 * (hs.supply_pressure_pa[a] + hs.supply_pressure_pa[b]);
        let area = std::f64::consts::PI * 0.25 * hole * hole;
        let m = f.config.discharge_coefficient * area * (2.0 * rho * p.max(0.0)).sqrt();
        net.add_leak(a, 0.5 * m);
        net.add_leak(b, 0.5 * m);
        leak_total += m;
    }
    let cap = f.config.makeup_capacity_kg_s;
    let vessel_cap = f.config.vessel_water_kg;
    f.makeup_kg_s = if leak_total > 0.0 || f.vessel_kg < vessel_cap {
        cap.min(leak_total + (vessel_cap - f.vessel_kg) / dt)
    } else {
        0.0
    };
    f.vessel_kg = (f.vessel_kg + (f.makeup_kg_s - leak_total) * dt).clamp(0.0, vessel_cap);
    f.leak_kg_s = leak_total;
    f.static_pressure_pa = f.nominal_static_pa
        * if vessel_cap > 0.0 {
            f.vessel_kg / vessel_cap
        } else {
            1.0
        };
    if f.static_pressure_pa < f.config.low_pressure_trip_share * f.nominal_static_pa {
        for p in eq.pumps.iter_mut() {
            if p.duty_on || p.standby_on {
                p.low_pressure_tripped = true;
                p.duty_on = false;
                p.standby_on = false;
            }
        }
        eq.station_pumping.iter_mut().for_each(|x| *x = false);
    }
}

/// Consumers cut off by closed valves get no flow; the operator's heat and electricity shedding.
pub fn curtail(eq: Res<Equipment>, mut c: ResMut<Consumers>, mut b: ResMut<Buildings>) {
    let shed = eq.heat_shed_share.clamp(0.0, 1.0);
    let all_connected = eq.node_connected.iter().all(|&x| x);
    if shed > 0.0 || !all_connected {
        for i in 0..c.len() {
            let Some(node) = c.node[i] else { continue };
            if !eq.node_connected[node as usize] {
                c.cut_off(i);
            } else if shed > 0.0 {
                let hospital = matches!(c.kind[i], ConsumerKind::Building(bi) if b.use_[bi as usize] == BuildingUse::Hospital);
                if !hospital {
                    c.shed(i, shed);
                }
            }
        }
    }
    if eq.electricity_shed_share.iter().any(|&s| s > 0.0) {
        b.shed_electricity(&eq.electricity_shed_share);
    }
}

/// Stations without a running pump: a satellite sends nothing; at a reference station the part
/// of the network loses its circulation. Isolated satellites send nothing either. The reference
/// station's flow is then set again to close the mass balance.
pub fn limit_flows(
    net: Res<Network>,
    eq: Res<Equipment>,
    mut c: ResMut<Consumers>,
    mut st: ResMut<Stations>,
) {
    st.limit_to_running_pumps(&net, &mut c, &eq.station_pumping, &eq.node_connected);
}

/// Pressures lowered by the pressurisation's deficit; heads of stations without a running pump.
pub fn adjust_pressures(
    faults: Res<Faults>,
    eq: Res<Equipment>,
    net: Res<Network>,
    st: Res<Stations>,
    mut hs: ResMut<HydraulicState>,
) {
    let deficit = faults.nominal_static_pa - faults.static_pressure_pa;
    hs.apply_pressurisation(
        deficit,
        &net,
        &st.node,
        &st.is_reference,
        &eq.station_pumping,
    );
}

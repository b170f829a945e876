//! The bottom layer of the simulation: the tick order, the clock, the scene a world was built from
//! and the ids of its objects. It imports no domain; every domain imports it.
//!
//! Every domain is a Bevy plugin whose systems run in `FixedUpdate`, in one chained order of
//! [`SimSet`]s. One run of `FixedUpdate` is one tick of `tick_s` simulated seconds:
//!
//! 0. [`SimSet::Faults`] — operator and instructor commands, the failures' timeline and repairs,
//!    then the hooks the domains read: valve positions, plant and pump availability, site power,
//!    fibre and UPS, bus supply, leak flows and the pressurisation (`operator`, `faults`).
//! 1. [`SimSet::Weather`] — outdoor and ground temperature, irradiance, wind (`weather`).
//! 2. [`SimSet::Demand`] — each building's heat and electricity demand and its substation's flow
//!    request at the supply temperature it saw last tick (`demand`).
//!    [`SimSet::Curtail`] — consumers cut off by closed valves get no flow; heat and electricity
//!    shedding (`faults`).
//!    [`SimSet::Links`] — the data links' key exchanges (a session per link, renewed when it
//!    expires); links without a working key exchange are closed to dispatch (`links`).
//! 3. [`SimSet::Quantum`] — micro quantum sites: the job schedule (arrivals, queues, runs
//!    simulated on the statevector simulator), cryostats, then load, electricity, waste heat
//!    (`quantum`).
//!    [`SimSet::Transfers`] — the completed jobs' data sealed over their links; added latency,
//!    quantum-safe share, exposure (`links`).
//! 4. [`SimSet::Plants`] — dispatch of the stations: supply set-point, each station's share of the
//!    flow, heat-pump potential (`plants`).
//!    [`SimSet::Limits`] — stations without a running pump send nothing; without the reference
//!    station's pump the circulation stops (`faults`).
//! 5. [`SimSet::Hydraulics`] — mass flows of the meshed network, pressures, pump power (`hydraulics`).
//! 6. [`SimSet::Thermal`] — plug flow through the pipes, heat to consumers, return temperatures;
//!    then ([`SimSet::Settle`]) the stations' plants settle who produced the heat, and each
//!    building's indoor temperature moves with the space heat its substation actually delivered
//!    (`thermal`, `plants`, `demand`: the heat delivered is known only after the thermal pass, so
//!    the indoor update of a tick comes after it; the next tick's demand reads it).
//! 7. [`SimSet::Grid`] — PV, wind, loads, battery, import/export, feeder loading, carbon (`grid`).
//!    [`SimSet::Monitor`] — pressures lowered by the pressurisation's deficit; sensors (true and
//!    measured values) and alarms (`faults`, `alarms`).
//! 8. [`SimSet::Ledger`] — energy balance of the tick and running KPIs (`ledger`); then the clock
//!    moves on by one tick.
//! 9. [`SimSet::Record`] — the training session's log, time series and score, and the automatic
//!    rewind snapshots (`training`, `snapshot`).
//!
//! The simulation keeps hot state in compact arrays (resources) built from the ECS once, indexed in
//! the same order as the scene's lists; the ECS holds one entity per scene object with its
//! [`SceneId`] and index, so the view can find any object's live values.
//!
//! The simulation never reads the wall clock and never touches the view. Randomness is seeded by
//! the scene's seed (or the run's override). Systems run on Bevy's single-threaded executor;
//! per-building work may fan out on rayon as a pure map, so results do not depend on thread count.

mod disjoint;
pub use disjoint::{Disjoint, parallel_ok};

use bevy::prelude::*;

use crate::scene::Scene;

/// The chained order of a tick. See the module doc.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimSet {
    Commands,
    Faults,
    Weather,
    Demand,
    Curtail,
    Links,
    Quantum,
    Transfers,
    Plants,
    Limits,
    Hydraulics,
    Thermal,
    Settle,
    Grid,
    Pressurise,
    Monitor,
    Ledger,
    Record,
}

impl SimSet {
    /// Every set in the tick's order: the composition (the `sim` module) chains the tick by this
    /// list and its `timing` puts its stamps between neighbours.
    pub const ALL: [SimSet; 18] = [
        SimSet::Commands,
        SimSet::Faults,
        SimSet::Weather,
        SimSet::Demand,
        SimSet::Curtail,
        SimSet::Links,
        SimSet::Quantum,
        SimSet::Transfers,
        SimSet::Plants,
        SimSet::Limits,
        SimSet::Hydraulics,
        SimSet::Thermal,
        SimSet::Settle,
        SimSet::Grid,
        SimSet::Pressurise,
        SimSet::Monitor,
        SimSet::Ledger,
        SimSet::Record,
    ];
}

/// Simulated time.
#[derive(Resource, Debug, Clone)]
pub struct SimClock {
    /// Ticks completed.
    pub tick: u64,
    /// Length of a tick, s.
    pub tick_s: f64,
    /// Simulated seconds since the start (at the start of the tick being computed).
    pub time_s: f64,
    /// Day of the year at time 0 (1 = 1 January).
    pub start_day_of_year: u32,
}

impl SimClock {
    /// Seconds since 1 January 00:00 of the first year at the middle of the current tick.
    pub fn abs_seconds(&self) -> f64 {
        (self.start_day_of_year as f64 - 1.0) * 86_400.0 + self.time_s + 0.5 * self.tick_s
    }
    /// Seconds since 1 January 00:00 at the middle of the current tick, wrapping at a year.
    pub fn seconds_of_year(&self) -> f64 {
        self.abs_seconds().rem_euclid(365.0 * 86_400.0)
    }
    /// Hour of the day, 0–24, at the middle of the current tick.
    pub fn hour_of_day(&self) -> f64 {
        (self.seconds_of_year() / 3600.0).rem_euclid(24.0)
    }
    /// Fractional day of the year, 0–365.
    pub fn day_of_year(&self) -> f64 {
        self.seconds_of_year() / 86_400.0
    }
}

/// The scene the world was built from, and the run's seed.
#[derive(Resource, Debug, Clone)]
pub struct SceneSpec {
    pub scene: Scene,
    pub seed: u64,
}

/// The kind of a scene object that has an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Building,
    Node,
    Pipe,
    Consumer,
    Plant,
    Site,
    Bus,
    Feeder,
    Pv,
    Wind,
    Battery,
}

/// A scene object's stable id and its index in its kind's arrays.
#[derive(Component, Debug, Clone, PartialEq, Eq, Hash)]
pub struct SceneId {
    pub kind: Kind,
    pub id: String,
    pub index: u32,
}

/// Read access to a simulation's world, for code that reports on one (a [`World`] itself, or the
/// composition's `Simulation`, which implements it).
pub trait SimWorld {
    fn world(&self) -> &World;
    /// A resource of the world (panics if it is missing: every simulation world has all of them).
    fn res<R: Resource>(&self) -> &R {
        self.world().resource::<R>()
    }
}

impl SimWorld for World {
    fn world(&self) -> &World {
        self
    }
}

//! The simulation's spine: the tick order, the clock, and the world built from a scene.
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
//! 3. [`SimSet::Quantum`] — micro quantum sites: the job schedule (arrivals, queues, runs
//!    simulated on the statevector simulator), cryostats, then load, electricity, waste heat
//!    (`quantum`).
//! 4. [`SimSet::Plants`] — dispatch of the stations: supply set-point, each station's share of the
//!    flow, heat-pump potential (`plants`).
//!    [`SimSet::Limits`] — stations without a running pump send nothing; without the reference
//!    station's pump the circulation stops (`faults`).
//! 5. [`SimSet::Hydraulics`] — mass flows of the meshed network, pressures, pump power (`hydraulics`).
//! 6. [`SimSet::Thermal`] — plug flow through the pipes, heat to consumers, return temperatures;
//!    then the stations' plants settle who produced the heat (`thermal`, `plants`).
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

use bevy::prelude::*;

use crate::scene::{Scene, SceneError, validate};

/// The chained order of a tick. See the module doc.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimSet {
    Faults,
    Weather,
    Demand,
    Curtail,
    Quantum,
    Plants,
    Limits,
    Hydraulics,
    Thermal,
    Grid,
    Monitor,
    Ledger,
    Record,
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

/// Adds every sim domain and orders them.
pub struct SimulationPlugin;

impl Plugin for SimulationPlugin {
    fn build(&self, app: &mut App) {
        // The tick is one chain: a single-threaded executor runs it without scheduling overhead
        // (the view's build enables bevy's multi-threaded executor for everything else).
        app.edit_schedule(FixedUpdate, |s| {
            s.set_executor(bevy::ecs::schedule::SingleThreadedExecutor::new());
        });
        app.configure_sets(
            FixedUpdate,
            (
                SimSet::Faults,
                SimSet::Weather,
                SimSet::Demand,
                SimSet::Curtail,
                SimSet::Quantum,
                SimSet::Plants,
                SimSet::Limits,
                SimSet::Hydraulics,
                SimSet::Thermal,
                SimSet::Grid,
                SimSet::Monitor,
                SimSet::Ledger,
                SimSet::Record,
            )
                .chain(),
        )
        .add_plugins((
            crate::weather::WeatherPlugin,
            crate::demand::DemandPlugin,
            crate::quantum::QuantumPlugin,
            crate::plants::PlantsPlugin,
            crate::hydraulics::HydraulicsPlugin,
            crate::thermal::ThermalPlugin,
            crate::grid::GridPlugin,
            crate::ledger::LedgerPlugin,
        ))
        .add_plugins((
            crate::operator::OperatorPlugin,
            crate::faults::FaultsPlugin,
            crate::alarms::AlarmsPlugin,
            crate::training::TrainingPlugin,
        ));
    }
}

/// Options of a run that may override the scene's own settings.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub seed: Option<u64>,
    pub tick_s: Option<f64>,
    /// Constants of the failure physics (default [`crate::faults::FaultsConfig::default`]).
    pub faults: Option<crate::faults::FaultsConfig>,
}

/// Builds every resource and entity of the simulation from a scene into `world`.
pub fn spawn_scene(world: &mut World, scene: &Scene, opts: &RunOptions) {
    let seed = opts.seed.unwrap_or(scene.seed);
    let tick_s = opts.tick_s.unwrap_or(scene.sim.tick_s);
    world.insert_resource(SimClock {
        tick: 0,
        tick_s,
        time_s: 0.0,
        start_day_of_year: scene.sim.start_day_of_year,
    });
    world.insert_resource(SceneSpec {
        scene: scene.clone(),
        seed,
    });

    let spawn_all = |world: &mut World, kind: Kind, ids: Vec<&str>| {
        world.spawn_batch(ids.into_iter().enumerate().map(move |(i, id)| SceneId {
            kind,
            id: id.to_string(),
            index: i as u32,
        }));
    };
    let net = &scene.heat_network;
    spawn_all(
        world,
        Kind::Building,
        scene.buildings.iter().map(|b| b.id.as_str()).collect(),
    );
    spawn_all(
        world,
        Kind::Node,
        net.nodes.iter().map(|b| b.id.as_str()).collect(),
    );
    spawn_all(
        world,
        Kind::Pipe,
        net.pipes.iter().map(|b| b.id.as_str()).collect(),
    );
    spawn_all(
        world,
        Kind::Consumer,
        net.consumers.iter().map(|b| b.id.as_str()).collect(),
    );
    spawn_all(
        world,
        Kind::Plant,
        scene.plants.iter().map(|b| b.id()).collect(),
    );
    spawn_all(
        world,
        Kind::Site,
        scene.quantum_sites.iter().map(|b| b.id.as_str()).collect(),
    );
    if let Some(g) = &scene.grid {
        spawn_all(
            world,
            Kind::Bus,
            g.buses.iter().map(|b| b.id.as_str()).collect(),
        );
        spawn_all(
            world,
            Kind::Feeder,
            g.feeders.iter().map(|b| b.id.as_str()).collect(),
        );
        spawn_all(
            world,
            Kind::Pv,
            g.pv.iter().map(|b| b.id.as_str()).collect(),
        );
        spawn_all(
            world,
            Kind::Wind,
            g.wind.iter().map(|b| b.id.as_str()).collect(),
        );
        spawn_all(
            world,
            Kind::Battery,
            g.batteries.iter().map(|b| b.id.as_str()).collect(),
        );
    }

    let weather = crate::weather::WeatherModel::new(&scene.climate, seed);
    world.insert_resource(weather);
    world.insert_resource(crate::weather::WeatherNow::default());
    let network = crate::hydraulics::Network::from_scene(scene);
    let buildings = crate::demand::Buildings::from_scene(scene, &network);
    let consumers = crate::demand::Consumers::from_scene(scene, &network, &buildings);
    let sites = crate::quantum::Sites::from_scene(scene, &network);
    let stations = crate::plants::Stations::from_scene(scene, &network, &sites);
    let hydraulic = crate::hydraulics::HydraulicState::new(&network, &stations);
    let thermal = crate::thermal::ThermalState::new(scene, &network);
    let grid = crate::grid::GridState::from_scene(scene);
    world.insert_resource(crate::ledger::Ledger::new(stations.tank_energy_j()));
    world.insert_resource(buildings);
    world.insert_resource(consumers);
    world.insert_resource(sites);
    world.insert_resource(crate::quantum::schedule::QuantumScheduler::from_scene(
        scene, seed,
    ));
    world.insert_resource(crate::quantum::schedule::JobLog::default());
    world.insert_resource(stations);
    world.insert_resource(hydraulic);
    world.insert_resource(thermal);
    world.insert_resource(grid);
    world.insert_resource(network);
    crate::faults::insert_resources(world, scene, opts.faults.clone().unwrap_or_default());
    crate::alarms::insert_resources(world);
}

/// A simulation world without any view: an `App` with `MinimalPlugins` and every sim domain.
///
/// `step()` runs one tick (`FixedUpdate` once). The interactive view runs the same schedule
/// through Bevy's fixed clock instead.
pub struct Simulation {
    pub app: App,
}

impl Simulation {
    /// Validates the scene and builds the world.
    pub fn new(scene: &Scene, opts: &RunOptions) -> Result<Self, SceneError> {
        validate(scene).map_err(SceneError::Invalid)?;
        Ok(Self::new_unchecked(scene, opts))
    }

    /// Builds the world from a scene the caller has validated (or deliberately not).
    pub fn new_unchecked(scene: &Scene, opts: &RunOptions) -> Self {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins)
            .add_plugins(SimulationPlugin);
        spawn_scene(app.world_mut(), scene, opts);
        app.finish();
        app.cleanup();
        Self { app }
    }

    /// Runs one tick.
    pub fn step(&mut self) {
        self.app.world_mut().run_schedule(FixedUpdate);
    }

    /// Runs `n` ticks.
    pub fn run_ticks(&mut self, n: u64) {
        let world = self.app.world_mut();
        let run = |world: &mut World| {
            for _ in 0..n {
                world.run_schedule(FixedUpdate);
            }
        };
        // With several rayon threads the ticks run on one of rayon's workers: the parallel parts
        // of a tick (quantum trajectories, pipe pressure drops) then share the pool with the tick
        // instead of being handed to it from outside, and no third thread competes for the cores.
        #[cfg(not(target_arch = "wasm32"))]
        if rayon::current_num_threads() > 1 && rayon::current_thread_index().is_none() {
            rayon::scope(|_| run(world));
            return;
        }
        run(world);
    }

    pub fn world(&self) -> &World {
        self.app.world()
    }
    pub fn world_mut(&mut self) -> &mut World {
        self.app.world_mut()
    }
    pub fn res<R: Resource>(&self) -> &R {
        self.app.world().resource::<R>()
    }
    pub fn res_mut<R: Resource<Mutability = bevy::ecs::component::Mutable>>(
        &mut self,
    ) -> Mut<'_, R> {
        self.app.world_mut().resource_mut::<R>()
    }
    pub fn clock(&self) -> &SimClock {
        self.res::<SimClock>()
    }
}

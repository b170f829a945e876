//! The composition: every domain's plugin in the tick order of [`crate::base`], the world built
//! from a scene ([`spawn_scene`]) and a headless [`Simulation`] to step it.
//!
//! This module sits on top of the domains: it imports all of them and none imports it. Sessions
//! built on a simulation (training, snapshots, what-if runs) and the front ends (command line,
//! view) sit above it. The tick order and its documentation live in [`crate::base`].

use bevy::prelude::*;

pub mod timing;

pub use crate::base::{Kind, SceneId, SceneSpec, SimClock, SimSet, SimWorld};
use crate::scene::{Scene, SceneError, validate};

/// Adds every sim domain and orders them.
pub struct SimulationPlugin;

impl Plugin for SimulationPlugin {
    fn build(&self, app: &mut App) {
        // The tick is one chain: a single-threaded executor runs it without scheduling overhead
        // (the view's build enables bevy's multi-threaded executor for everything else).
        app.edit_schedule(FixedUpdate, |s| {
            s.set_executor(bevy::ecs::schedule::SingleThreadedExecutor::new());
        });
        // The chain of the tick, in `SimSet::ALL`'s order (each set after the one before it).
        for w in SimSet::ALL.windows(2) {
            app.configure_sets(FixedUpdate, w[1].after(w[0]));
        }
        app.add_plugins((
            crate::weather::WeatherPlugin,
            crate::demand::DemandPlugin,
            crate::quantum::QuantumPlugin,
            crate::links::LinksPlugin,
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

    let network = crate::network::Network::from_scene(scene);
    let weather = crate::weather::WeatherModel::new(&scene.climate, seed)
        .with_ground_depths(network.burial_depths_m.clone());
    world.insert_resource(weather);
    world.insert_resource(crate::weather::WeatherNow::default());
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
    world.insert_resource(crate::links::DataLinkState::from_scene(
        scene,
        seed,
        world.resource::<crate::quantum::schedule::QuantumScheduler>(),
    ));
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
        Self::new_unchecked_with(scene, opts, |_| {})
    }

    /// Validates the scene and builds the world with `extend` adding plugins of the layers above
    /// (a training session's recorder, say) before the app is finished.
    pub fn new_with(
        scene: &Scene,
        opts: &RunOptions,
        extend: impl FnOnce(&mut App),
    ) -> Result<Self, SceneError> {
        validate(scene).map_err(SceneError::Invalid)?;
        Ok(Self::new_unchecked_with(scene, opts, extend))
    }

    fn new_unchecked_with(scene: &Scene, opts: &RunOptions, extend: impl FnOnce(&mut App)) -> Self {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins)
            .add_plugins(SimulationPlugin);
        extend(&mut app);
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
        // The ticks run on one of rayon's workers: the parallel parts of a tick (quantum
        // trajectories, pipe pressure drops) then share the pool with the tick instead of being
        // handed to it from outside, and no third thread competes for the cores. With one thread
        // too: from outside the pool each parallel call would wake its one worker and sleep until
        // it finished (measured: ~70 µs a tick of the 10k city, most of it in the quantum jobs).
        #[cfg(not(target_arch = "wasm32"))]
        if rayon::current_thread_index().is_none() {
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

impl SimWorld for Simulation {
    fn world(&self) -> &World {
        self.app.world()
    }
}

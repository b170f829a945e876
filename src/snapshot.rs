//! Snapshots: the whole simulation state, saved and restored exactly.
//!
//! Two forms, both exact (continuing from a snapshot gives bit-for-bit the results of never
//! having stopped; `tests/snapshot.rs`):
//!
//! - **In memory** — [`WorldSnapshot`] holds a copy of every resource that carries simulation
//!   state (every domain's arrays, the water parcels, the job schedule and its random streams,
//!   the ledger, failures, equipment, sensors, alarms, the action log, the training session).
//!   (The weather generator is not copied: it is a pure function of the scene, the seed and the
//!   time.) [`WorldSnapshot::capture`] and [`WorldSnapshot::restore`] copy them out of and back into a
//!   world built from the same scene. [`RewindStore`] takes one automatically every
//!   [`RewindStore::every_s`] of simulated time (default 5 min, the latest 72 kept): the
//!   instructor's rewind.
//! - **As a file** — [`SnapshotFile`] (JSON) is *event-sourced*: the scene, the seed, the tick,
//!   the failure physics' constants, the failures' timeline, the training session's setup and
//!   every command that reached the simulation with its tick ([`crate::operator::InputLog`]).
//!   Restoring rebuilds the world and replays it; as the simulation is deterministic, the state
//!   is the same bit for bit. The file is small (the scene plus a few lines per action) and
//!   holds no platform-dependent float text; restoring costs the simulated time again
//!   (riverside ≈ 7,000 ticks/s: an 8-hour session in about a second).

use std::collections::VecDeque;

use bevy::prelude::*;
use serde::{Deserialize, Serialize};

use crate::alarms::{Alarms, Sensors};
use crate::base::{SceneSpec, SimClock, SimSet};
use crate::demand::{Buildings, Consumers};
use crate::faults::{Equipment, FaultSpec, Faults, FaultsConfig};
use crate::grid::GridState;
use crate::hydraulics::HydraulicState;
use crate::ledger::Ledger;
use crate::network::Network;
use crate::operator::{ActionLog, Command, CommandQueue, InputLog};
use crate::plants::Stations;
use crate::quantum::Sites;
use crate::quantum::schedule::{JobLog, QuantumScheduler};
use crate::scene::Scene;
use crate::sim::{RunOptions, Simulation};
use crate::thermal::ThermalState;
use crate::training::TrainingSession;
use crate::weather::WeatherNow;

macro_rules! snapshot_struct {
    ($($field:ident : $ty:ty),* $(,)?) => {
        /// A copy of every resource that carries simulation state.
        #[derive(Clone)]
        pub struct WorldSnapshot {
            $(pub $field: $ty,)*
            pub training: Option<TrainingSession>,
        }

        impl WorldSnapshot {
            /// Copies the state out of a world.
            pub fn capture(world: &World) -> Self {
                Self {
                    $($field: world.resource::<$ty>().clone(),)*
                    training: world.get_resource::<TrainingSession>().cloned(),
                }
            }
            /// Every resource of the state by name, written out in full (`Debug`: floats in
            /// their shortest exact form, so equal text means equal bits), for comparing two
            /// worlds resource by resource.
            pub fn describe(&self) -> Vec<(&'static str, String)> {
                vec![$((stringify!($field), format!("{:?}", self.$field)),)*]
            }
            /// Puts the state back into a world built from the same scene.
            pub fn restore(&self, world: &mut World) {
                $(world.insert_resource(self.$field.clone());)*
                match &self.training {
                    Some(t) => world.insert_resource(t.clone()),
                    None => {
                        world.remove_resource::<TrainingSession>();
                    }
                }
            }
        }
    };
}

snapshot_struct! {
    clock: SimClock,
    spec: SceneSpec,
    weather_now: WeatherNow,
    network: Network,
    buildings: Buildings,
    consumers: Consumers,
    sites: Sites,
    scheduler: QuantumScheduler,
    jobs: JobLog,
    links: crate::links::DataLinkState,
    stations: Stations,
    hydraulics: HydraulicState,
    thermal: ThermalState,
    grid: GridState,
    ledger: Ledger,
    faults: Faults,
    equipment: Equipment,
    sensors: Sensors,
    alarms: Alarms,
    queue: CommandQueue,
    actions: ActionLog,
    inputs: InputLog,
}

impl WorldSnapshot {
    /// Simulated time of the snapshot, s.
    pub fn time_s(&self) -> f64 {
        self.clock.time_s
    }
}

/// Automatic rewind points.
#[derive(Resource)]
pub struct RewindStore {
    /// Simulated time between snapshots, s.
    pub every_s: f64,
    /// Most snapshots kept (the oldest go first).
    pub keep: usize,
    pub points: VecDeque<WorldSnapshot>,
}

impl Default for RewindStore {
    fn default() -> Self {
        Self {
            every_s: 300.0,
            keep: 72,
            points: VecDeque::new(),
        }
    }
}

impl RewindStore {
    /// Simulated times of the rewind points, s.
    pub fn times(&self) -> Vec<f64> {
        self.points.iter().map(|p| p.time_s()).collect()
    }
    /// The latest point at or before `time_s`.
    pub fn at_or_before(&self, time_s: f64) -> Option<&WorldSnapshot> {
        self.points
            .iter()
            .rev()
            .find(|p| p.time_s() <= time_s + 1e-9)
    }
}

/// Rewinds the world to the latest automatic snapshot at or before `time_s`; later points are
/// dropped (the session goes on from there). Returns the time rewound to.
pub fn rewind(world: &mut World, time_s: f64) -> Option<f64> {
    let snap = world
        .get_resource::<RewindStore>()?
        .at_or_before(time_s)?
        .clone();
    snap.restore(world);
    let t = snap.time_s();
    let mut store = world.resource_mut::<RewindStore>();
    store.points.retain(|p| p.time_s() <= t + 1e-9);
    Some(t)
}

/// Adds the automatic rewind points (the app adds it; headless runs may).
pub struct RewindPlugin;

impl Plugin for RewindPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<RewindStore>().add_systems(
            FixedUpdate,
            auto_snapshot
                .in_set(SimSet::Record)
                .after(crate::training::record),
        );
    }
}

/// Turns automatic rewind points on in a headless simulation (one every `every_s`).
pub fn enable_rewind(sim: &mut Simulation, every_s: f64) {
    sim.app.insert_resource(RewindStore {
        every_s,
        ..Default::default()
    });
    sim.app.add_systems(
        FixedUpdate,
        auto_snapshot
            .in_set(SimSet::Record)
            .after(crate::training::record),
    );
}

/// Takes a rewind point when the clock reaches a multiple of `every_s` (after the tick).
pub fn auto_snapshot(world: &mut World) {
    let t = world.resource::<SimClock>().time_s;
    let tick = world.resource::<SimClock>().tick_s;
    let every = world.resource::<RewindStore>().every_s;
    if every <= 0.0 || (t / every).floor() == ((t - tick) / every).floor() {
        return;
    }
    let snap = WorldSnapshot::capture(world);
    let mut store = world.resource_mut::<RewindStore>();
    store.points.push_back(snap);
    while store.points.len() > store.keep {
        store.points.pop_front();
    }
}

/// The snapshot file's format version.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;

/// A snapshot as a file (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotFile {
    pub format_version: u32,
    pub qtwin_version: String,
    pub scene: Scene,
    pub seed: u64,
    pub tick_s: f64,
    /// Ticks run.
    pub ticks: u64,
    pub faults_config: FaultsConfig,
    pub timeline: Vec<FaultSpec>,
    pub session: Option<TrainingSession>,
    /// Every command with the tick it took effect in.
    pub inputs: Vec<(u64, Command)>,
    /// Commands queued for the next tick.
    #[serde(default)]
    pub pending: Vec<Command>,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot format_version {0}, this qtwin reads {SNAPSHOT_FORMAT_VERSION}")]
    Version(u32),
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Scene(String),
}

impl SnapshotFile {
    /// The snapshot of a running simulation.
    pub fn from_sim(sim: &Simulation) -> Self {
        let spec = sim.res::<SceneSpec>();
        let faults = sim.res::<Faults>();
        let mut session = sim.world().get_resource::<TrainingSession>().cloned();
        if let Some(s) = session.as_mut() {
            // Only the set-up: the replay measures the rest again.
            let fresh = TrainingSession {
                series: Vec::new(),
                out_of_limits_s: 0.0,
                unmet_heat_j: 0.0,
                normal: true,
                normal_since_s: s.start_s,
                ..s.clone()
            };
            *s = fresh;
        }
        SnapshotFile {
            format_version: SNAPSHOT_FORMAT_VERSION,
            qtwin_version: env!("CARGO_PKG_VERSION").to_string(),
            scene: spec.scene.clone(),
            seed: spec.seed,
            tick_s: sim.clock().tick_s,
            ticks: sim.clock().tick,
            faults_config: faults.config.clone(),
            timeline: faults.timeline.clone(),
            session,
            inputs: sim.res::<InputLog>().entries.clone(),
            pending: sim.res::<CommandQueue>().pending.clone(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a snapshot serialises")
    }

    pub fn from_json(text: &str) -> Result<Self, SnapshotError> {
        let f: SnapshotFile = serde_json::from_str(text)?;
        if f.format_version != SNAPSHOT_FORMAT_VERSION {
            return Err(SnapshotError::Version(f.format_version));
        }
        Ok(f)
    }

    /// Rebuilds the world and replays it to the snapshot's tick.
    pub fn restore(&self) -> Result<Simulation, SnapshotError> {
        let opts = RunOptions {
            seed: Some(self.seed),
            tick_s: Some(self.tick_s),
            faults: Some(self.faults_config.clone()),
        };
        let mut sim = Simulation::new_with(&self.scene, &opts, |app| {
            app.add_plugins(crate::training::TrainingPlugin);
        })
        .map_err(|e| SnapshotError::Scene(e.to_string()))?;
        sim.res_mut::<Faults>()
            .schedule_all(self.timeline.iter().cloned());
        if let Some(s) = &self.session {
            sim.world_mut().insert_resource(s.clone());
        }
        let mut next = 0;
        while sim.clock().tick < self.ticks {
            let t = sim.clock().tick;
            while next < self.inputs.len() && self.inputs[next].0 == t {
                sim.res_mut::<CommandQueue>()
                    .pending
                    .push(self.inputs[next].1.clone());
                next += 1;
            }
            sim.step();
        }
        sim.res_mut::<CommandQueue>()
            .pending
            .extend(self.pending.iter().cloned());
        Ok(sim)
    }
}

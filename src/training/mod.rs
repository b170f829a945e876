//! Training: scenarios, scripted trainees, the session log and the score.
//!
//! # Scenarios (`scenes/training/*.ron`)
//! A [`Scenario`] names a base scene (a path relative to the scenario file), the starting state
//! ([`StartState`]: day of the year, a warm-up run before the session so the network is in a
//! steady state, a factor on the quantum job rates), the session's length, a timeline of
//! failures ([`crate::faults::FaultSpec`], `at_s` in s since the session began), objectives
//! ([`Objectives`]), scoring weights ([`ScoreWeights`]) and hints. A scripted trainee is a list
//! of [`ScheduledAction`]s (`*.actions.ron`): operator actions at session times.
//!
//! # The session log and the score
//! While a [`TrainingSession`] is in the world, [`record`] (in [`crate::base::SimSet::Record`])
//! follows the session tick by tick: time out of limits (any consumer that asks for heat gets no
//! flow, or a supply below `min_supply_temp_c`, true values), unmet heat, when the system was
//! last restored to normal (consumers within limits, every site up, every bus fed, static
//! pressure above 80 %), and a time series of key values, measured and true, each minute. The
//! [`TrainingReport`] adds the failures, alarms, floods and actions with their times (session
//! seconds), jobs missed (deadline missed or rejected) and the response time to alarms (mean time
//! from a high or critical alarm's raise to its acknowledgement; never acknowledged counts to the
//! session's end), and scores:
//!
//! `score = 100 − w_t·(minutes out of limits) − w_u·(MWh unmet) − w_j·(jobs missed)
//!          − w_r·(mean response, min) − w_h·(hints) − w_l·(minutes restored late)
//!          − w_c·(buildings that got cold) − w_ch·(building-hours cold)`
//!
//! where "restored late" is the restore time beyond `restore_within_s` (to the session's end if
//! never restored), and "cold" is an indoor temperature below 18 °C (the WHO's minimum; see
//! `demand::indoor`): the buildings that fell below it at any tick of the session, and the hours
//! they spent below it summed over buildings. The score can fall below zero.
//!
//! Units: s, kWh/MWh, °C, counts.

use std::path::{Path, PathBuf};

use bevy::prelude::*;
use serde::{Deserialize, Serialize};

use crate::alarms::{AlarmEvent, AlarmEventKind, Alarms, Flood, Priority, Quantity, Sensors};
use crate::base::{SceneSpec, SimClock, SimSet};
use crate::demand::Consumers;
use crate::faults::{FaultRecord, FaultSpec, Faults, FaultsConfig};
use crate::operator::{ActionEntry, ActionLog, Command, CommandQueue, OperatorAction};
use crate::quantum::Sites;
use crate::quantum::schedule::{JobEventKind, JobLog, QuantumScheduler, SiteStatus};
use crate::scene::{Scene, load_scene, scene_hash};
use crate::sim::{RunOptions, Simulation};
use crate::thermal::ThermalState;

/// The scenario format's version.
pub const SCENARIO_FORMAT_VERSION: u32 = 1;

fn one() -> f64 {
    1.0
}
fn warmup() -> f64 {
    3600.0
}

/// The starting state of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartState {
    /// Day of the year the run starts (default: the scene's), at 00:00.
    #[serde(default)]
    pub start_day_of_year: Option<u32>,
    /// Simulated time run before the session begins, s (the network settles; not scored).
    #[serde(default = "warmup")]
    pub warmup_s: f64,
    /// Factor on every service's job arrival rates (a busy day).
    #[serde(default = "one")]
    pub job_rate_factor: f64,
}

impl Default for StartState {
    fn default() -> Self {
        Self {
            start_day_of_year: None,
            warmup_s: warmup(),
            job_rate_factor: 1.0,
        }
    }
}

/// What the trainee must achieve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Objectives {
    /// Every consumer's supply at least this, °C.
    pub min_supply_temp_c: f64,
    /// Back to normal within this time of the first failure, s.
    pub restore_within_s: f64,
    /// No job misses its deadline or is rejected.
    pub no_job_lost: bool,
}

impl Default for Objectives {
    fn default() -> Self {
        Self {
            min_supply_temp_c: 55.0,
            restore_within_s: 1800.0,
            no_job_lost: true,
        }
    }
}

/// Penalty points per unit (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoreWeights {
    pub per_minute_out_of_limits: f64,
    pub per_mwh_unmet: f64,
    pub per_job_missed: f64,
    pub per_minute_response: f64,
    pub per_hint: f64,
    pub per_minute_late_restore: f64,
    /// Per building (home, school, hospital …) whose indoor temperature fell below 18 °C.
    pub per_building_cold: f64,
    /// Per building-hour below 18 °C.
    pub per_building_hour_cold: f64,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        Self {
            per_minute_out_of_limits: 0.2,
            per_mwh_unmet: 5.0,
            per_job_missed: 1.0,
            per_minute_response: 1.0,
            per_hint: 2.0,
            per_minute_late_restore: 0.2,
            per_building_cold: 0.5,
            per_building_hour_cold: 0.2,
        }
    }
}

/// A hint the trainee can ask for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hint {
    /// Session time from which it applies, s.
    pub after_s: f64,
    pub text: String,
}

/// A training scenario (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub format_version: u32,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The base scene, relative to the scenario file.
    pub scene: String,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub start: StartState,
    /// Length of the session, s.
    pub duration_s: f64,
    #[serde(default)]
    pub failures: Vec<FaultSpec>,
    #[serde(default)]
    pub objectives: Objectives,
    #[serde(default)]
    pub weights: ScoreWeights,
    #[serde(default)]
    pub hints: Vec<Hint>,
    #[serde(default)]
    pub faults_config: Option<FaultsConfig>,
    /// The base scene's data links replaced for the session (a migration state to train on).
    #[serde(default)]
    pub data_links: Option<crate::scene::DataLinks>,
}

/// An operator action at a session time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledAction {
    pub at_s: f64,
    pub action: OperatorAction,
}

#[derive(Debug, thiserror::Error)]
pub enum TrainingError {
    #[error("{0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error(transparent)]
    Limited(crate::limits::ReadError),
    #[error("{0}: {1}")]
    Parse(PathBuf, ron::error::SpannedError),
    #[error("{0}: scenario format_version {1}, this qtwin reads {SCENARIO_FORMAT_VERSION}")]
    Version(PathBuf, u32),
    #[error("scene: {0}")]
    Scene(String),
}

fn read_ron<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, TrainingError> {
    let text = crate::limits::read_text_limited(path, crate::limits::MAX_SCRIPT_BYTES)
        .map_err(TrainingError::Limited)?;
    ron::from_str(&text).map_err(|e| TrainingError::Parse(path.into(), e))
}

/// Reads a scenario and its base scene (with the starting state's changes applied).
pub fn load_scenario(path: &Path) -> Result<(Scenario, Scene), TrainingError> {
    let sc: Scenario = read_ron(path)?;
    if sc.format_version != SCENARIO_FORMAT_VERSION {
        return Err(TrainingError::Version(path.into(), sc.format_version));
    }
    let scene_path = path.parent().unwrap_or(Path::new(".")).join(&sc.scene);
    let scene = load_scene(&scene_path).map_err(|e| TrainingError::Scene(e.to_string()))?;
    let scene = scenario_scene(&sc, scene);
    let mut problems = crate::faults::check_failures(&scene, &sc.failures);
    problems.extend(check_scenario(&sc));
    if !problems.is_empty() {
        let list: Vec<String> = problems
            .iter()
            .map(|(at, m)| format!("{at}: {m}"))
            .collect();
        return Err(TrainingError::Scene(format!(
            "{}: {}",
            path.display(),
            list.join("; ")
        )));
    }
    Ok((sc, scene))
}

/// Reads a scripted trainee's actions.
pub fn load_actions(path: &Path) -> Result<Vec<ScheduledAction>, TrainingError> {
    read_ron(path)
}

/// Ranges of a scenario's own numbers (the failures are checked by
/// [`crate::faults::check_failures`]): every one finite; `duration_s` in (0, 30 d], `warmup_s`
/// in [0, 30 d], `start_day_of_year` 1–365, `job_rate_factor` 0–100, `min_supply_temp_c` 0–150,
/// `restore_within_s` in [0, 30 d], score weights 0–1e6, hints' `after_s` in [0, 30 d].
pub fn check_scenario(sc: &Scenario) -> Vec<(String, String)> {
    const MONTH_S: f64 = 30.0 * 86_400.0;
    let mut out = Vec::new();
    let mut range = |at: &str, name: &str, v: f64, lo: f64, hi: f64, open_lo: bool| {
        if !v.is_finite() || v < lo || v > hi || (open_lo && v <= lo) {
            out.push((
                at.to_string(),
                format!(
                    "{name} = {v} is outside {}{lo}, {hi}]",
                    if open_lo { "(" } else { "[" }
                ),
            ));
        }
    };
    range("scenario", "duration_s", sc.duration_s, 0.0, MONTH_S, true);
    range("start", "warmup_s", sc.start.warmup_s, 0.0, MONTH_S, false);
    if let Some(d) = sc.start.start_day_of_year {
        range("start", "start_day_of_year", d as f64, 1.0, 365.0, false);
    }
    range(
        "start",
        "job_rate_factor",
        sc.start.job_rate_factor,
        0.0,
        100.0,
        false,
    );
    let o = &sc.objectives;
    range(
        "objectives",
        "min_supply_temp_c",
        o.min_supply_temp_c,
        0.0,
        150.0,
        false,
    );
    range(
        "objectives",
        "restore_within_s",
        o.restore_within_s,
        0.0,
        MONTH_S,
        false,
    );
    let w = &sc.weights;
    for (name, v) in [
        ("per_minute_out_of_limits", w.per_minute_out_of_limits),
        ("per_mwh_unmet", w.per_mwh_unmet),
        ("per_job_missed", w.per_job_missed),
        ("per_minute_response", w.per_minute_response),
        ("per_hint", w.per_hint),
        ("per_minute_late_restore", w.per_minute_late_restore),
        ("per_building_cold", w.per_building_cold),
        ("per_building_hour_cold", w.per_building_hour_cold),
    ] {
        range("weights", name, v, 0.0, 1e6, false);
    }
    for (i, h) in sc.hints.iter().enumerate() {
        range(
            &format!("hints[{i}]"),
            "after_s",
            h.after_s,
            0.0,
            MONTH_S,
            false,
        );
    }
    out
}

/// The base scene with the scenario's starting state applied.
pub fn scenario_scene(sc: &Scenario, mut scene: Scene) -> Scene {
    if let Some(d) = sc.start.start_day_of_year {
        scene.sim.start_day_of_year = d;
    }
    if let Some(d) = &sc.data_links {
        scene.data_links = Some(d.clone());
    }
    if sc.start.job_rate_factor != 1.0 {
        let mut q = scene.quantum_jobs.clone().unwrap_or_default();
        for s in [&mut q.traffic, &mut q.grid_balancing, &mut q.sensing] {
            s.day_rate_per_h *= sc.start.job_rate_factor;
            s.night_rate_per_h *= sc.start.job_rate_factor;
        }
        scene.quantum_jobs = Some(q);
    }
    scene
}

/// The session being trained and what it has measured so far.
#[derive(Resource, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSession {
    pub scenario: String,
    /// Simulated time the session begins and ends, s.
    pub start_s: f64,
    pub end_s: f64,
    pub objectives: Objectives,
    pub weights: ScoreWeights,
    pub hints: Vec<Hint>,
    /// Seconds of the session with a consumer out of limits.
    pub out_of_limits_s: f64,
    pub unmet_heat_j: f64,
    /// Whether the system is in its normal state at the last tick, and since when.
    pub normal: bool,
    pub normal_since_s: f64,
    pub series: Vec<SeriesRow>,
    pub series_every_s: f64,
    /// Which buildings fell below 18 °C during the session, the building-seconds they spent there
    /// and the most at once.
    #[serde(default)]
    pub got_cold: Vec<bool>,
    #[serde(default)]
    pub cold_building_s: f64,
    #[serde(default)]
    pub cold_buildings_max: u32,
}

impl TrainingSession {
    pub fn new(sc: &Scenario) -> Self {
        Self {
            scenario: sc.name.clone(),
            start_s: sc.start.warmup_s,
            end_s: sc.start.warmup_s + sc.duration_s,
            objectives: sc.objectives.clone(),
            weights: sc.weights.clone(),
            hints: sc.hints.clone(),
            out_of_limits_s: 0.0,
            unmet_heat_j: 0.0,
            normal: true,
            normal_since_s: sc.start.warmup_s,
            series: Vec::new(),
            series_every_s: 60.0,
            got_cold: Vec::new(),
            cold_building_s: 0.0,
            cold_buildings_max: 0,
        }
    }
}

/// One minute of the session's time series (session seconds; measured and true values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesRow {
    pub time_s: f64,
    /// Lowest supply temperature at a node serving consumers, °C.
    pub min_supply_temp_c_true: f64,
    pub min_supply_temp_c_measured: f64,
    pub unmet_heat_w: f64,
    pub heat_delivered_w: f64,
    /// Flow the stations send out, kg/s.
    pub network_flow_kg_s: f64,
    pub static_pressure_pa_true: f64,
    pub static_pressure_pa_measured: f64,
    pub leak_kg_s: f64,
    pub makeup_kg_s: f64,
    /// Each site's mixing-chamber temperature, K.
    pub mixing_chamber_k_true: Vec<f64>,
    pub mixing_chamber_k_measured: Vec<f64>,
    pub consumers_out_of_limits: u32,
    /// Buildings below 18 °C, and the lowest indoor temperature, °C.
    #[serde(default)]
    pub buildings_cold: u32,
    #[serde(default)]
    pub min_indoor_temp_c: f64,
    pub alarms_active: u32,
    pub alarms_unacknowledged: u32,
    pub jobs_open: u32,
}

pub struct TrainingPlugin;

impl Plugin for TrainingPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(
            FixedUpdate,
            record
                .run_if(resource_exists::<TrainingSession>)
                .in_set(SimSet::Record),
        );
    }
}

/// Follows the session after each tick (see the module doc).
#[allow(clippy::too_many_arguments)]
pub fn record(
    clock: Res<SimClock>,
    c: Res<Consumers>,
    th: Res<ThermalState>,
    sites: Res<Sites>,
    sched: Res<QuantumScheduler>,
    grid: Res<crate::grid::GridState>,
    faults: Res<Faults>,
    sensors: Res<Sensors>,
    alarms: Res<Alarms>,
    stations: Res<crate::plants::Stations>,
    jobs: Res<JobLog>,
    buildings: Res<crate::demand::Buildings>,
    mut s: ResMut<TrainingSession>,
) {
    // The clock has moved past the tick: it ran from time_s − tick_s to time_s.
    let end = clock.time_s;
    let begin = end - clock.tick_s;
    if begin < s.start_s || begin >= s.end_s {
        return;
    }
    let dt = clock.tick_s;
    let min_c = s.objectives.min_supply_temp_c;
    let mut out = 0u32;
    let mut unmet = 0.0;
    for i in 0..c.len() {
        unmet += c.unmet_w()[i];
        if c.demand_w[i] <= 0.0 {
            continue;
        }
        let bad = match c.node[i] {
            Some(n) => c.mass_flow_kg_s[i] <= 0.0 || th.supply_node_temp_c[n as usize] < min_c,
            None => false,
        };
        out += bad as u32;
    }
    if out > 0 {
        s.out_of_limits_s += dt;
    }
    s.unmet_heat_j += unmet * dt;
    let indoor = buildings.indoor_temp_c();
    if s.got_cold.len() != indoor.len() {
        s.got_cold = vec![false; indoor.len()];
    }
    let mut cold = 0u32;
    let mut lowest = f64::INFINITY;
    for (i, &t) in indoor.iter().enumerate() {
        lowest = lowest.min(t);
        if t < crate::demand::indoor::COLD_THRESHOLD_C {
            cold += 1;
            s.got_cold[i] = true;
        }
    }
    s.cold_building_s += f64::from(cold) * dt;
    s.cold_buildings_max = s.cold_buildings_max.max(cold);
    let normal = out == 0
        && sched
            .devices
            .iter()
            .all(|d| matches!(d.status, SiteStatus::Up | SiteStatus::Draining))
        && grid.bus_energised.iter().all(|&x| x)
        && faults.static_pressure_pa >= 0.8 * faults.nominal_static_pa;
    if normal && !s.normal {
        s.normal_since_s = end;
    }
    s.normal = normal;
    let rel = end - s.start_s;
    if (rel / s.series_every_s).fract().abs() < 1e-9 || s.series.is_empty() {
        let node_temps = |v: &[f64]| {
            sensors
                .sensors
                .iter()
                .enumerate()
                .filter(|(_, x)| matches!(x.quantity, Quantity::NodeSupplyTempC(_)))
                .map(|(i, _)| v[i])
                .fold(f64::INFINITY, f64::min)
        };
        let site_k = |v: &[f64]| {
            sensors
                .sensors
                .iter()
                .enumerate()
                .filter(|(_, x)| matches!(x.quantity, Quantity::MixingChamberK(_)))
                .map(|(i, _)| v[i])
                .collect::<Vec<f64>>()
        };
        let static_i = sensors.index("network/static_pressure_pa");
        let row = SeriesRow {
            time_s: rel,
            min_supply_temp_c_true: node_temps(&sensors.truth),
            min_supply_temp_c_measured: node_temps(&sensors.measured),
            unmet_heat_w: unmet,
            heat_delivered_w: c.delivered_w().iter().sum(),
            network_flow_kg_s: stations.mass_flow_kg_s.iter().sum(),
            static_pressure_pa_true: static_i.map_or(0.0, |i| sensors.truth[i]),
            static_pressure_pa_measured: static_i.map_or(0.0, |i| sensors.measured[i]),
            leak_kg_s: faults.leak_kg_s,
            makeup_kg_s: faults.makeup_kg_s,
            mixing_chamber_k_true: site_k(&sensors.truth),
            mixing_chamber_k_measured: site_k(&sensors.measured),
            consumers_out_of_limits: out,
            buildings_cold: cold,
            min_indoor_temp_c: if lowest.is_finite() { lowest } else { 0.0 },
            alarms_active: alarms.active_count(Priority::Low) as u32,
            alarms_unacknowledged: alarms
                .status
                .iter()
                .filter(|a| !a.acknowledged && a.shelved_until_s.is_none())
                .count() as u32,
            jobs_open: jobs.open() as u32,
        };
        s.series.push(row);
    }
    let _ = sites;
}

/// The score's terms, in penalty points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Penalties {
    pub out_of_limits: f64,
    pub unmet_heat: f64,
    pub jobs_missed: f64,
    pub response_time: f64,
    pub hints: f64,
    pub late_restore: f64,
    #[serde(default)]
    pub buildings_cold: f64,
    #[serde(default)]
    pub building_hours_cold: f64,
}

/// What the session measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub minutes_out_of_limits: f64,
    pub unmet_heat_kwh: f64,
    /// Jobs that missed their deadline or were rejected during the session.
    pub jobs_missed: u64,
    /// Running jobs aborted (their site went down or too warm) during the session.
    pub jobs_aborted: u64,
    pub jobs_completed: u64,
    /// Mean estimated success probability of the jobs completed during the session.
    pub mean_job_success_probability: f64,
    /// High and critical alarms raised during the session, and how many were acknowledged.
    pub important_alarms: u64,
    pub important_alarms_acknowledged: u64,
    /// Mean time from a high or critical alarm to its acknowledgement, s.
    pub mean_response_s: f64,
    pub alarms_raised: u64,
    pub floods: u64,
    pub hints_used: u64,
    pub actions: u64,
    /// From the first failure to the return to normal, s (`None`: not restored).
    pub restore_time_s: Option<f64>,
    pub leak_water_kg: f64,
    pub leak_heat_kwh: f64,
    /// Buildings whose indoor temperature fell below 18 °C during the session, the
    /// building-hours below 18 °C, and the most below it at once.
    #[serde(default)]
    pub buildings_cold: u64,
    #[serde(default)]
    pub building_hours_cold: f64,
    #[serde(default)]
    pub most_buildings_cold_at_once: u32,
}

/// The objectives, met or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectivesMet {
    pub supply_kept_above_min: bool,
    pub no_job_lost: bool,
    pub restored_in_time: bool,
}

/// Everything the debrief needs (times in s since the session began).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionLog {
    pub failures: Vec<FaultRecord>,
    pub alarms: Vec<AlarmEvent>,
    pub floods: Vec<Flood>,
    pub actions: Vec<ActionEntry>,
    pub series: Vec<SeriesRow>,
}

/// The result of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    pub qtwin_version: String,
    pub scenario: String,
    pub scene_hash: String,
    pub seed: u64,
    pub duration_s: f64,
    pub score: f64,
    pub penalties: Penalties,
    pub metrics: Metrics,
    pub objectives_met: ObjectivesMet,
    pub log: SessionLog,
}

impl TrainingReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serialises")
    }

    /// The report of the session in `sim` (at any time; the session need not be over).
    pub fn from_sim(sim: &Simulation) -> Self {
        Self::from_world(sim.world())
    }

    /// The report of the session in a world (the app's).
    pub fn from_world(world: &World) -> Self {
        let s = world.resource::<TrainingSession>();
        let t0 = s.start_s;
        let t_end = world
            .resource::<crate::base::SimClock>()
            .time_s
            .min(s.end_s);
        let in_session = |t: f64| t >= t0 && t < s.end_s + 1e-9;
        let faults = world.resource::<Faults>();
        let alarms = world.resource::<Alarms>();
        let actions = world.resource::<ActionLog>();
        let jobs = world.resource::<JobLog>();
        let ledger = world.resource::<crate::ledger::Ledger>();
        let spec = world.resource::<SceneSpec>();

        let (mut missed, mut aborted, mut completed, mut p_sum) = (0u64, 0u64, 0u64, 0.0);
        for r in &jobs.records {
            for e in &r.events {
                if !in_session(e.time_s) {
                    continue;
                }
                match e.kind {
                    JobEventKind::MissedDeadline | JobEventKind::Rejected => missed += 1,
                    JobEventKind::Aborted { .. } => aborted += 1,
                    JobEventKind::Completed => {
                        completed += 1;
                        p_sum += r.success_probability.unwrap_or(0.0);
                    }
                    _ => {}
                }
            }
        }
        // Response: each high or critical raise to its next acknowledgement.
        let mut responses = Vec::new();
        let mut important = 0u64;
        let mut acked = 0u64;
        for (i, e) in alarms.events.iter().enumerate() {
            if e.kind != AlarmEventKind::Raised
                || e.priority < Priority::High
                || !in_session(e.time_s)
            {
                continue;
            }
            important += 1;
            let ack = alarms.events[i + 1..].iter().find(|x| {
                x.alarm == e.alarm
                    && matches!(
                        x.kind,
                        AlarmEventKind::Acknowledged | AlarmEventKind::Raised
                    )
            });
            match ack {
                Some(x) if x.kind == AlarmEventKind::Acknowledged && x.time_s <= t_end => {
                    acked += 1;
                    responses.push(x.time_s - e.time_s);
                }
                _ => responses.push(t_end - e.time_s),
            }
        }
        let mean_response = if responses.is_empty() {
            0.0
        } else {
            responses.iter().sum::<f64>() / responses.len() as f64
        };
        let first_failure = faults
            .records
            .iter()
            .map(|r| r.started_s)
            .filter(|&t| in_session(t))
            .fold(f64::INFINITY, f64::min);
        let restore_time_s = if !first_failure.is_finite() {
            Some(0.0)
        } else if s.normal {
            Some((s.normal_since_s - first_failure).max(0.0))
        } else {
            None
        };
        let hints = actions
            .entries
            .iter()
            .filter(|a| {
                matches!(a.command, Command::Operator(OperatorAction::Hint)) && in_session(a.time_s)
            })
            .count() as u64;
        let w = &s.weights;
        let minutes_out = s.out_of_limits_s / 60.0;
        let unmet_kwh = s.unmet_heat_j / 3.6e6;
        let late_s = match restore_time_s {
            Some(t) => (t - s.objectives.restore_within_s).max(0.0),
            None => (t_end - first_failure - s.objectives.restore_within_s).max(0.0),
        };
        let buildings_cold = s.got_cold.iter().filter(|&&c| c).count() as u64;
        let building_hours_cold = s.cold_building_s / 3600.0;
        let penalties = Penalties {
            out_of_limits: w.per_minute_out_of_limits * minutes_out,
            unmet_heat: w.per_mwh_unmet * unmet_kwh / 1000.0,
            jobs_missed: w.per_job_missed * missed as f64,
            response_time: w.per_minute_response * mean_response / 60.0,
            hints: w.per_hint * hints as f64,
            late_restore: w.per_minute_late_restore * late_s / 60.0,
            buildings_cold: w.per_building_cold * buildings_cold as f64,
            building_hours_cold: w.per_building_hour_cold * building_hours_cold,
        };
        let score = 100.0
            - penalties.out_of_limits
            - penalties.unmet_heat
            - penalties.jobs_missed
            - penalties.response_time
            - penalties.hints
            - penalties.late_restore
            - penalties.buildings_cold
            - penalties.building_hours_cold;
        let shift = |t: f64| t - t0;
        let log = SessionLog {
            failures: faults
                .records
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    r.started_s = shift(r.started_s);
                    r.spec.at_s = shift(r.spec.at_s);
                    r.crew_dispatched_s = r.crew_dispatched_s.map(shift);
                    r.repaired_s = r.repaired_s.map(shift);
                    r
                })
                .collect(),
            alarms: alarms
                .events
                .iter()
                .filter(|e| in_session(e.time_s))
                .map(|e| AlarmEvent {
                    time_s: shift(e.time_s),
                    ..e.clone()
                })
                .collect(),
            floods: alarms
                .floods
                .iter()
                .filter(|f| in_session(f.start_s))
                .map(|f| Flood {
                    start_s: shift(f.start_s),
                    end_s: f.end_s.map(shift),
                    peak_count: f.peak_count,
                })
                .collect(),
            actions: actions
                .entries
                .iter()
                .map(|a| ActionEntry {
                    time_s: shift(a.time_s),
                    ..a.clone()
                })
                .collect(),
            series: s.series.clone(),
        };
        let metrics = Metrics {
            minutes_out_of_limits: minutes_out,
            unmet_heat_kwh: unmet_kwh,
            jobs_missed: missed,
            jobs_aborted: aborted,
            jobs_completed: completed,
            mean_job_success_probability: if completed > 0 {
                p_sum / completed as f64
            } else {
                0.0
            },
            important_alarms: important,
            important_alarms_acknowledged: acked,
            mean_response_s: mean_response,
            alarms_raised: log
                .alarms
                .iter()
                .filter(|e| e.kind == AlarmEventKind::Raised)
                .count() as u64,
            floods: log.floods.len() as u64,
            hints_used: hints,
            actions: log.actions.len() as u64,
            restore_time_s,
            leak_water_kg: ledger.makeup_water_kg,
            leak_heat_kwh: ledger.leak_heat_j / 3.6e6,
            buildings_cold,
            building_hours_cold,
            most_buildings_cold_at_once: s.cold_buildings_max,
        };
        TrainingReport {
            qtwin_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: s.scenario.clone(),
            scene_hash: scene_hash(&spec.scene),
            seed: spec.seed,
            duration_s: t_end - t0,
            score,
            objectives_met: ObjectivesMet {
                supply_kept_above_min: s.out_of_limits_s == 0.0,
                no_job_lost: missed == 0,
                restored_in_time: restore_time_s
                    .is_some_and(|t| t <= s.objectives.restore_within_s),
            },
            penalties,
            metrics,
            log,
        }
    }
}

/// Builds the world of a scenario: the scene, its failures' timeline, the session.
pub fn start_session(sc: &Scenario, scene: &Scene) -> Result<Simulation, TrainingError> {
    let opts = RunOptions {
        seed: sc.seed,
        faults: sc.faults_config.clone(),
        ..Default::default()
    };
    let mut sim = Simulation::new_with(scene, &opts, |app| {
        app.add_plugins(TrainingPlugin);
    })
    .map_err(|e| TrainingError::Scene(e.to_string()))?;
    let warm = sc.start.warmup_s;
    sim.res_mut::<Faults>()
        .schedule_all(sc.failures.iter().map(|f| FaultSpec {
            at_s: f.at_s + warm,
            ..f.clone()
        }));
    sim.world_mut().insert_resource(TrainingSession::new(sc));
    Ok(sim)
}

/// Runs the session with a scripted trainee to its end and reports.
pub fn run_scenario(
    sc: &Scenario,
    scene: &Scene,
    actions: &[ScheduledAction],
) -> Result<TrainingReport, TrainingError> {
    let mut sim = start_session(sc, scene)?;
    run_until(&mut sim, actions, f64::INFINITY);
    Ok(TrainingReport::from_sim(&sim))
}

/// Steps the session (queueing the scripted actions when due) until its end or `until_s` of
/// simulated time.
pub fn run_until(sim: &mut Simulation, actions: &[ScheduledAction], until_s: f64) {
    let (start, end) = {
        let s = sim.res::<TrainingSession>();
        (s.start_s, s.end_s)
    };
    let mut sorted: Vec<&ScheduledAction> = actions.iter().collect();
    sorted.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
    let tick = sim.clock().tick_s;
    loop {
        let now = sim.clock().time_s;
        if now >= end.min(until_s) - 1e-9 {
            break;
        }
        // An action takes effect at the start of the first tick at or after its time.
        for a in &sorted {
            let t = start + a.at_s;
            if t > now - tick + 1e-9 && t <= now + 1e-9 {
                sim.res_mut::<CommandQueue>().operator(a.action.clone());
            }
        }
        sim.step();
    }
}

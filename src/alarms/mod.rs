//! Alarms: what the operator sees — measured values (which a failed sensor can falsify) and
//! alarms raised from them, after ISA-18.2.
//!
//! # Measured values
//! Every [`Sensor`] reads one true value of the simulation each tick ([`Quantity`]): supply
//! temperatures and the differential pressure at the nodes that serve consumers, station flows
//! and supply temperatures, pump and plant states, the static pressure and make-up flow of the
//! pressurisation, storage state of charge, each site's mixing-chamber temperature, compressor,
//! UPS and fibre link, each bus's supply and each feeder's loading. A sensor with an active
//! [`FaultKind::SensorDrift`] reads `truth + rate·t` (t since the drift began); one
//! with [`FaultKind::SensorFreeze`] keeps the value it read when it froze. The view
//! shows [`Sensors::measured`]; the debrief has both ([`Sensors::truth`]).
//!
//! # Alarms (ANSI/ISA-18.2-2016, *Management of Alarm Systems for the Process Industries*)
//! An [`AlarmDef`] compares one measured value with a limit (high or low) and has a priority, a
//! deadband and the object it concerns. An alarm is *raised* when the value crosses the limit
//! and *cleared* when it is back beyond the limit by the deadband. Its state is the ISA-18.2
//! state: normal; unacknowledged (active, not acknowledged); acknowledged (active); returned to
//! normal unacknowledged; shelved (suppressed by the operator for a time, then re-annunciated if
//! still active). Every raise, clear, acknowledgement, shelve and unshelve is an [`AlarmEvent`]
//! with its time.
//!
//! **Floods**: more than [`FLOOD_START`] alarms raised within [`FLOOD_WINDOW_S`] (10 per 10
//! minutes: EEMUA 191 and ISA-18.2's "alarm flood") start a flood; it ends when fewer than
//! [`FLOOD_END`] were raised in the window. Floods are logged ([`Alarms::floods`]).
//!
//! Measuring runs in [`crate::base::SimSet::Monitor`], after the grid; timestamps are the end of
//! the tick. Units: those of each sensor (°C, Pa, kg/s, K, 0–1; states are 1 = yes, 0 = no).

use bevy::prelude::*;
use serde::{Deserialize, Serialize};

use crate::base::{SimClock, SimSet};
use crate::demand::Consumers;
use crate::faults::{Equipment, Faults};
use crate::grid::GridState;
use crate::hydraulics::HydraulicState;
use crate::network::Network;
use crate::plants::Stations;
use crate::quantum::Sites;
use crate::quantum::schedule::QuantumScheduler;
use crate::scene::FaultKind;
use crate::thermal::ThermalState;

/// Alarms raised within the window that start a flood (more than this many).
pub const FLOOD_START: usize = 10;
/// A flood ends when fewer than this many were raised within the window.
pub const FLOOD_END: usize = 5;
/// Window of the flood rate, s.
pub const FLOOD_WINDOW_S: f64 = 600.0;

/// What a sensor measures (indices into the domain's arrays).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Quantity {
    NodeSupplyTempC(u32),
    /// Supply minus return pressure at a node, Pa.
    NodeDiffPressurePa(u32),
    StationFlowKgS(u32),
    StationSupplyTempC(u32),
    PumpRunning(u32),
    BoilerAvailable(u32, u32),
    HeatPumpAvailable(u32, u32),
    TankSoc(u32),
    StaticPressurePa,
    MakeupFlowKgS,
    MixingChamberK(u32),
    CompressorRunning(u32),
    SiteOnUps(u32),
    UpsSoc(u32),
    SiteLinkUp(u32),
    /// Whether data link `k` (of the links domain) has a working key exchange.
    LinkKeyExchangeOk(u32),
    /// Whether QKD link `k` runs on its fallback scheme (1), 0 on QKD keys.
    LinkQkdFallback(u32),
    BusEnergised(u32),
    FeederLoading(u32),
}

/// A measuring point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sensor {
    /// Stable id: `object/quantity`.
    pub id: String,
    /// Scene id of the object it measures (`network` for the pressurisation).
    pub object: String,
    pub quantity: Quantity,
    pub unit: String,
}

/// Every sensor, its true and measured value this tick.
#[derive(Resource, Debug, Clone, Default, Serialize, Deserialize)]
pub struct Sensors {
    pub sensors: Vec<Sensor>,
    pub truth: Vec<f64>,
    pub measured: Vec<f64>,
    /// Value a frozen sensor keeps.
    pub frozen: Vec<Option<f64>>,
}

impl Sensors {
    pub fn index(&self, id: &str) -> Option<usize> {
        self.sensors.iter().position(|s| s.id == id)
    }
    /// (measured, true) of a sensor by id.
    pub fn value(&self, id: &str) -> Option<(f64, f64)> {
        self.index(id).map(|i| (self.measured[i], self.truth[i]))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Priority {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Limit {
    High,
    Low,
}

/// One configured alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmDef {
    /// Stable id: `sensor id:HI|LO|LOLO|HIHI`.
    pub id: String,
    pub sensor: u32,
    pub object: String,
    pub limit: Limit,
    pub setpoint: f64,
    pub deadband: f64,
    pub priority: Priority,
    pub message: String,
}

/// ISA-18.2 alarm states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlarmState {
    Normal,
    Unacknowledged,
    Acknowledged,
    ReturnedUnacknowledged,
    Shelved,
}

/// The live state of one alarm.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AlarmStatus {
    /// The process condition (value beyond the limit).
    pub active: bool,
    pub acknowledged: bool,
    pub raised_s: Option<f64>,
    pub acknowledged_s: Option<f64>,
    pub cleared_s: Option<f64>,
    pub shelved_until_s: Option<f64>,
}

impl AlarmStatus {
    pub fn state(&self) -> AlarmState {
        match (
            self.shelved_until_s.is_some(),
            self.active,
            self.acknowledged,
        ) {
            (true, _, _) => AlarmState::Shelved,
            (_, true, false) => AlarmState::Unacknowledged,
            (_, true, true) => AlarmState::Acknowledged,
            (_, false, false) => AlarmState::ReturnedUnacknowledged,
            (_, false, true) => AlarmState::Normal,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlarmEventKind {
    Raised,
    Cleared,
    Acknowledged,
    Shelved,
    Unshelved,
}

/// One line of the alarm journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmEvent {
    pub time_s: f64,
    pub alarm: String,
    pub object: String,
    pub priority: Priority,
    pub kind: AlarmEventKind,
    /// Measured value at the event.
    pub value: f64,
}

/// A flood: when it began and ended, and the most alarms raised within the window during it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flood {
    pub start_s: f64,
    pub end_s: Option<f64>,
    pub peak_count: usize,
}

/// One row of the alarm list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmRow {
    pub id: String,
    pub object: String,
    pub priority: Priority,
    pub state: AlarmState,
    pub message: String,
    pub raised_s: Option<f64>,
    pub value: f64,
}

/// The alarm system: definitions, states, journal, floods.
#[derive(Resource, Debug, Clone, Default, Serialize, Deserialize)]
pub struct Alarms {
    pub defs: Vec<AlarmDef>,
    pub status: Vec<AlarmStatus>,
    pub events: Vec<AlarmEvent>,
    pub floods: Vec<Flood>,
    /// Times of recent raises (within the flood window).
    recent: Vec<f64>,
    /// Measured value of each alarm's sensor at the last tick.
    last_value: Vec<f64>,
    /// Per alarm, what [`evaluate`] needs to see that nothing changes (most alarms, most ticks),
    /// packed: derived from `defs` and `status`, rebuilt when empty (after loading, shelving).
    #[serde(skip)]
    hot: Vec<AlarmHot>,
}

/// An alarm's trip test in 24 bytes: its sensor, side, set-point and return point, and whether it
/// is active or shelved.
#[derive(Debug, Clone, Copy)]
struct AlarmHot {
    sensor: u32,
    high: bool,
    active: bool,
    shelved: bool,
    setpoint: f64,
    /// Set-point ∓ deadband: the value at which an active alarm clears.
    back_at: f64,
}

impl AlarmHot {
    fn of(d: &AlarmDef, st: &AlarmStatus) -> Self {
        let high = d.limit == Limit::High;
        Self {
            sensor: d.sensor,
            high,
            active: st.active,
            shelved: st.shelved_until_s.is_some(),
            setpoint: d.setpoint,
            back_at: if high {
                d.setpoint - d.deadband
            } else {
                d.setpoint + d.deadband
            },
        }
    }
    /// Whether this tick's value `v` leaves the alarm as it is: not shelved, and neither raised
    /// (inactive, not beyond the limit) nor cleared (active, not back within the deadband). The
    /// same comparisons, on the same numbers, as the full test in [`evaluate`].
    #[inline]
    fn unchanged(&self, v: f64) -> bool {
        if self.shelved {
            return false;
        }
        if self.active {
            !(if self.high {
                v <= self.back_at
            } else {
                v >= self.back_at
            })
        } else {
            !(if self.high {
                v > self.setpoint
            } else {
                v < self.setpoint
            })
        }
    }
}

impl Alarms {
    fn index(&self, id: &str) -> Option<usize> {
        self.defs.iter().position(|d| d.id == id)
    }
    fn event(&mut self, i: usize, time_s: f64, kind: AlarmEventKind) {
        let d = &self.defs[i];
        self.events.push(AlarmEvent {
            time_s,
            alarm: d.id.clone(),
            object: d.object.clone(),
            priority: d.priority,
            kind,
            value: self.last_value.get(i).copied().unwrap_or(f64::NAN),
        });
    }
    /// Acknowledges an alarm that needs it; false if it does not.
    pub fn acknowledge(&mut self, id: &str, now: f64) -> bool {
        let Some(i) = self.index(id) else {
            return false;
        };
        let s = &mut self.status[i];
        if s.acknowledged || s.raised_s.is_none() {
            return false;
        }
        s.acknowledged = true;
        s.acknowledged_s = Some(now);
        self.event(i, now, AlarmEventKind::Acknowledged);
        true
    }
    /// Acknowledges every alarm that needs it; returns how many.
    pub fn acknowledge_all(&mut self, now: f64) -> usize {
        let ids: Vec<String> = self
            .defs
            .iter()
            .zip(&self.status)
            .filter(|(_, s)| !s.acknowledged && s.raised_s.is_some() && s.shelved_until_s.is_none())
            .map(|(d, _)| d.id.clone())
            .collect();
        ids.iter().filter(|id| self.acknowledge(id, now)).count()
    }
    pub fn shelve(&mut self, id: &str, now: f64, duration_s: f64) -> bool {
        let Some(i) = self.index(id) else {
            return false;
        };
        self.status[i].shelved_until_s = Some(now + duration_s.max(0.0));
        self.hot.clear();
        self.event(i, now, AlarmEventKind::Shelved);
        true
    }
    pub fn unshelve(&mut self, id: &str, now: f64) -> bool {
        let Some(i) = self.index(id) else {
            return false;
        };
        if self.status[i].shelved_until_s.take().is_none() {
            return false;
        }
        self.hot.clear();
        self.event(i, now, AlarmEventKind::Unshelved);
        true
    }
    /// The alarm list: every alarm not in the normal state, highest priority first, then newest.
    pub fn list(&self) -> Vec<AlarmRow> {
        let mut rows: Vec<AlarmRow> = self
            .defs
            .iter()
            .zip(&self.status)
            .enumerate()
            .filter(|(_, (_, s))| s.state() != AlarmState::Normal)
            .map(|(i, (d, s))| AlarmRow {
                id: d.id.clone(),
                object: d.object.clone(),
                priority: d.priority,
                state: s.state(),
                message: d.message.clone(),
                raised_s: s.raised_s,
                value: self.last_value[i],
            })
            .collect();
        rows.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then(
                    b.raised_s
                        .unwrap_or(0.0)
                        .total_cmp(&a.raised_s.unwrap_or(0.0)),
                )
                .then(a.id.cmp(&b.id))
        });
        rows
    }
    /// Whether an alarm flood is going on.
    pub fn flooding(&self) -> bool {
        self.floods.last().is_some_and(|f| f.end_s.is_none())
    }
    /// Alarms raised within the flood window before the last measurement.
    pub fn recent_rate(&self) -> usize {
        self.recent.len()
    }
    pub fn active_count(&self, min: Priority) -> usize {
        self.defs
            .iter()
            .zip(&self.status)
            .filter(|(d, s)| s.active && d.priority >= min && s.shelved_until_s.is_none())
            .count()
    }
}

/// Builds the sensors and the alarm configuration of a scene's world.
pub fn insert_resources(world: &mut World) {
    let net = world.resource::<Network>();
    let st = world.resource::<Stations>();
    let c = world.resource::<Consumers>();
    let sites = world.resource::<Sites>();
    let grid = world.resource::<GridState>();
    let eq = world.resource::<Equipment>();
    let sched = world.resource::<QuantumScheduler>();
    let spec = &world.resource::<crate::base::SceneSpec>().scene;
    let hn = &spec.heat_network;
    let mut sensors: Vec<Sensor> = Vec::new();
    let mut defs: Vec<AlarmDef> = Vec::new();
    let add =
        |sensors: &mut Vec<Sensor>, object: &str, q: Quantity, name: &str, unit: &str| -> u32 {
            sensors.push(Sensor {
                id: format!("{object}/{name}"),
                object: object.to_string(),
                quantity: q,
                unit: unit.to_string(),
            });
            (sensors.len() - 1) as u32
        };
    #[allow(clippy::too_many_arguments)]
    fn alarm(
        defs: &mut Vec<AlarmDef>,
        sensors: &[Sensor],
        s: u32,
        tag: &str,
        limit: Limit,
        setpoint: f64,
        deadband: f64,
        priority: Priority,
        message: String,
    ) {
        let sn = &sensors[s as usize];
        defs.push(AlarmDef {
            id: format!("{}:{tag}", sn.id),
            sensor: s,
            object: sn.object.clone(),
            limit,
            setpoint,
            deadband,
            priority,
            message,
        });
    }
    let mut serves = vec![false; net.node_count()];
    for n in c.node.iter().flatten() {
        serves[*n as usize] = true;
    }
    let dhw = hn.dhw_min_supply_temp_c;
    for (i, id) in net.node_ids.iter().enumerate().filter(|(i, _)| serves[*i]) {
        let s = add(
            &mut sensors,
            id,
            Quantity::NodeSupplyTempC(i as u32),
            "supply_temp_c",
            "°C",
        );
        alarm(
            &mut defs,
            &sensors,
            s,
            "LO",
            Limit::Low,
            dhw + 5.0,
            1.0,
            Priority::Medium,
            format!("supply at {id} below {:.0} °C", dhw + 5.0),
        );
        alarm(
            &mut defs,
            &sensors,
            s,
            "LOLO",
            Limit::Low,
            dhw,
            1.0,
            Priority::High,
            format!("supply at {id} below {dhw:.0} °C: hot water not met"),
        );
        let s = add(
            &mut sensors,
            id,
            Quantity::NodeDiffPressurePa(i as u32),
            "diff_pressure_pa",
            "Pa",
        );
        let dp = 0.5 * hn.min_substation_dp_pa;
        alarm(
            &mut defs,
            &sensors,
            s,
            "LO",
            Limit::Low,
            dp,
            0.1 * dp,
            Priority::High,
            format!("differential pressure at {id} below {:.1} bar", dp / 1e5),
        );
    }
    for s in 0..st.len() {
        let node = &net.node_ids[st.node[s] as usize];
        add(
            &mut sensors,
            node,
            Quantity::StationFlowKgS(s as u32),
            "station_flow_kg_s",
            "kg/s",
        );
        let x = add(
            &mut sensors,
            node,
            Quantity::StationSupplyTempC(s as u32),
            "station_supply_temp_c",
            "°C",
        );
        if st.is_reference[s] {
            alarm(
                &mut defs,
                &sensors,
                x,
                "LO",
                Limit::Low,
                dhw + 5.0,
                1.0,
                Priority::High,
                format!("station {node} sends out below {:.0} °C", dhw + 5.0),
            );
        }
        for (k, b) in st.boilers[s].iter().enumerate() {
            let x = add(
                &mut sensors,
                &b.id,
                Quantity::BoilerAvailable(s as u32, k as u32),
                "available",
                "",
            );
            alarm(
                &mut defs,
                &sensors,
                x,
                "TRIP",
                Limit::Low,
                0.5,
                0.0,
                Priority::High,
                format!("boiler {} not available", b.id),
            );
        }
        for (k, h) in st.heat_pumps[s].iter().enumerate() {
            let x = add(
                &mut sensors,
                &h.id,
                Quantity::HeatPumpAvailable(s as u32, k as u32),
                "available",
                "",
            );
            alarm(
                &mut defs,
                &sensors,
                x,
                "TRIP",
                Limit::Low,
                0.5,
                0.0,
                Priority::Medium,
                format!("heat pump {} not available", h.id),
            );
        }
        if let Some(t) = &st.tank[s] {
            add(&mut sensors, &t.id, Quantity::TankSoc(s as u32), "soc", "");
        }
    }
    for (i, p) in eq.pumps.iter().enumerate() {
        let x = add(
            &mut sensors,
            &p.id,
            Quantity::PumpRunning(i as u32),
            "running",
            "",
        );
        let critical = p.station.is_some_and(|s| st.is_reference[s as usize]);
        alarm(
            &mut defs,
            &sensors,
            x,
            "TRIP",
            Limit::Low,
            0.5,
            0.0,
            if critical {
                Priority::Critical
            } else {
                Priority::Medium
            },
            format!("pump {} stopped", p.id),
        );
    }
    let p0 = hn.return_pressure_pa;
    let x = add(
        &mut sensors,
        "network",
        Quantity::StaticPressurePa,
        "static_pressure_pa",
        "Pa",
    );
    alarm(
        &mut defs,
        &sensors,
        x,
        "LO",
        Limit::Low,
        0.8 * p0,
        0.02 * p0,
        Priority::High,
        "static pressure low: water loss beyond make-up".into(),
    );
    let x = add(
        &mut sensors,
        "network",
        Quantity::MakeupFlowKgS,
        "makeup_kg_s",
        "kg/s",
    );
    alarm(
        &mut defs,
        &sensors,
        x,
        "HI",
        Limit::High,
        0.1,
        0.02,
        Priority::Medium,
        "make-up water flowing: leak suspected".into(),
    );
    let too_warm = sched.cfg.cryostat.too_warm_k;
    for (i, id) in sites.ids.iter().enumerate() {
        let x = add(
            &mut sensors,
            id,
            Quantity::MixingChamberK(i as u32),
            "mixing_chamber_k",
            "K",
        );
        alarm(
            &mut defs,
            &sensors,
            x,
            "HI",
            Limit::High,
            0.02,
            0.002,
            Priority::Medium,
            format!("cryostat of {id} warming"),
        );
        alarm(
            &mut defs,
            &sensors,
            x,
            "HIHI",
            Limit::High,
            too_warm,
            0.005,
            Priority::High,
            format!("cryostat of {id} too warm for jobs"),
        );
        let x = add(
            &mut sensors,
            id,
            Quantity::CompressorRunning(i as u32),
            "compressor_running",
            "",
        );
        alarm(
            &mut defs,
            &sensors,
            x,
            "TRIP",
            Limit::Low,
            0.5,
            0.0,
            Priority::High,
            format!("compressor of {id} stopped"),
        );
        let x = add(
            &mut sensors,
            id,
            Quantity::SiteOnUps(i as u32),
            "on_ups",
            "",
        );
        alarm(
            &mut defs,
            &sensors,
            x,
            "ON",
            Limit::High,
            0.5,
            0.0,
            Priority::High,
            format!("{id} runs on its UPS"),
        );
        let x = add(&mut sensors, id, Quantity::UpsSoc(i as u32), "ups_soc", "");
        alarm(
            &mut defs,
            &sensors,
            x,
            "LO",
            Limit::Low,
            0.25,
            0.05,
            Priority::Critical,
            format!("UPS of {id} below 25 %"),
        );
        let x = add(
            &mut sensors,
            id,
            Quantity::SiteLinkUp(i as u32),
            "link_up",
            "",
        );
        alarm(
            &mut defs,
            &sensors,
            x,
            "DOWN",
            Limit::Low,
            0.5,
            0.0,
            Priority::High,
            format!("fibre link to {id} down"),
        );
    }
    if let Some(links) = world.get_resource::<crate::links::DataLinkState>() {
        for (k, l) in links.links.iter().enumerate() {
            let (svc, id) = (l.service.name(), &sites.ids[l.site]);
            let x = add(
                &mut sensors,
                id,
                Quantity::LinkKeyExchangeOk(k as u32),
                &format!("kex_{svc}"),
                "",
            );
            alarm(
                &mut defs,
                &sensors,
                x,
                "FAIL",
                Limit::Low,
                0.5,
                0.0,
                Priority::High,
                format!("key exchange failing on the {svc} link to {id}: its jobs go elsewhere"),
            );
            if l.scheme == crate::scene::LinkScheme::Qkd {
                let fb = links.cfg.qkd.fallback;
                let x = add(
                    &mut sensors,
                    id,
                    Quantity::LinkQkdFallback(k as u32),
                    &format!("qkd_fallback_{svc}"),
                    "",
                );
                alarm(
                    &mut defs,
                    &sensors,
                    x,
                    "FALLBACK",
                    Limit::High,
                    0.5,
                    0.0,
                    if fb.quantum_safe() {
                        Priority::Medium
                    } else {
                        Priority::High
                    },
                    format!(
                        "QKD link {svc} → {id} without keys: on {} key exchange{}",
                        fb.name(),
                        if fb.quantum_safe() {
                            ""
                        } else {
                            " (data exposed)"
                        }
                    ),
                );
            }
        }
    }
    if grid.present {
        for (i, id) in grid.bus_ids.iter().enumerate() {
            let x = add(
                &mut sensors,
                id,
                Quantity::BusEnergised(i as u32),
                "energised",
                "",
            );
            alarm(
                &mut defs,
                &sensors,
                x,
                "DEAD",
                Limit::Low,
                0.5,
                0.0,
                Priority::High,
                format!("bus {id} without supply"),
            );
        }
        for (i, id) in grid.feeder_ids.iter().enumerate() {
            let x = add(
                &mut sensors,
                id,
                Quantity::FeederLoading(i as u32),
                "loading",
                "",
            );
            alarm(
                &mut defs,
                &sensors,
                x,
                "HI",
                Limit::High,
                1.0,
                0.05,
                Priority::Medium,
                format!("feeder {id} overloaded"),
            );
        }
    }
    let n = sensors.len();
    let na = defs.len();
    world.insert_resource(Sensors {
        sensors,
        truth: vec![0.0; n],
        measured: vec![0.0; n],
        frozen: vec![None; n],
    });
    world.insert_resource(Alarms {
        defs,
        status: vec![
            AlarmStatus {
                acknowledged: true,
                ..Default::default()
            };
            na
        ],
        last_value: vec![0.0; na],
        ..Default::default()
    });
}

pub struct AlarmsPlugin;

impl Plugin for AlarmsPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(
            FixedUpdate,
            (measure, evaluate).chain().in_set(SimSet::Monitor),
        );
    }
}

fn b(x: bool) -> f64 {
    if x { 1.0 } else { 0.0 }
}

/// Reads every sensor: the truth, then what the sensor reports.
#[allow(clippy::too_many_arguments)]
/// From this many sensors their readings are gathered on rayon, in chunks of [`SENSOR_CHUNK`].
const PARALLEL_SENSORS_FROM: usize = 16_384;
const SENSOR_CHUNK: usize = 4096;

pub fn measure(
    clock: Res<SimClock>,
    th: Res<ThermalState>,
    hs: Res<HydraulicState>,
    st: Res<Stations>,
    sites: Res<Sites>,
    grid: Res<GridState>,
    eq: Res<Equipment>,
    faults: Res<Faults>,
    links: Option<Res<crate::links::DataLinkState>>,
    mut s: ResMut<Sensors>,
) {
    let s = &mut *s;
    let now = clock.time_s + clock.tick_s;
    let read = |q: &Quantity| -> f64 {
        match *q {
            Quantity::NodeSupplyTempC(n) => th.supply_node_temp_c[n as usize],
            Quantity::NodeDiffPressurePa(n) => {
                hs.supply_pressure_pa[n as usize] - hs.return_pressure_pa[n as usize]
            }
            Quantity::StationFlowKgS(k) => st.mass_flow_kg_s[k as usize],
            Quantity::StationSupplyTempC(k) => st.supply_out_c[k as usize],
            Quantity::PumpRunning(p) => {
                let p = &eq.pumps[p as usize];
                b(p.station.map_or(p.duty_on || p.standby_on, |k| {
                    eq.station_pumping[k as usize]
                }))
            }
            Quantity::BoilerAvailable(k, j) => b(st.boilers[k as usize][j as usize].available),
            Quantity::HeatPumpAvailable(k, j) => b(st.heat_pumps[k as usize][j as usize].available),
            Quantity::TankSoc(k) => st.tank[k as usize]
                .as_ref()
                .map_or(0.0, |t| t.energy_j / t.capacity_j.max(1.0)),
            Quantity::StaticPressurePa => faults.static_pressure_pa,
            Quantity::MakeupFlowKgS => faults.makeup_kg_s,
            Quantity::MixingChamberK(k) => sites.mixing_chamber_k[k as usize],
            Quantity::CompressorRunning(k) => {
                b(sites.compressor_on[k as usize] && sites.online[k as usize])
            }
            Quantity::SiteOnUps(k) => b(sites.on_ups(k as usize) && sites.online[k as usize]),
            Quantity::UpsSoc(k) => eq.ups_j[k as usize] / eq.ups_capacity_j[k as usize].max(1.0),
            Quantity::SiteLinkUp(k) => b(sites.reachable(k as usize)),
            Quantity::LinkKeyExchangeOk(k) => {
                b(links.as_ref().is_none_or(|l| l.links[k as usize].open()))
            }
            Quantity::LinkQkdFallback(k) => b(links.as_ref().is_some_and(|l| {
                let x = &l.links[k as usize];
                x.session
                    .as_ref()
                    .is_some_and(|s| s.scheme != crate::scene::LinkScheme::Qkd)
            })),
            Quantity::BusEnergised(k) => b(grid.bus_energised[k as usize]),
            Quantity::FeederLoading(k) => grid.feeder_loading[k as usize],
        }
    };
    // A gather per sensor: in fixed chunks on rayon for big cities (the same values either way).
    let sensors = &s.sensors;
    if sensors.len() >= PARALLEL_SENSORS_FROM
        && cfg!(not(target_arch = "wasm32"))
        && rayon::current_num_threads() > 1
    {
        use rayon::prelude::*;
        s.truth[..sensors.len()]
            .par_chunks_mut(SENSOR_CHUNK)
            .zip(sensors.par_chunks(SENSOR_CHUNK))
            .for_each(|(t, sn)| {
                for (t, sn) in t.iter_mut().zip(sn) {
                    *t = read(&sn.quantity);
                }
            });
    } else {
        for (t, sn) in s.truth.iter_mut().zip(sensors) {
            *t = read(&sn.quantity);
        }
    }
    // Sensor faults are rare: without one active, every sensor reads the truth.
    let sensor_faults = faults.active().any(|r| {
        matches!(
            r.spec.kind,
            FaultKind::SensorDrift { .. } | FaultKind::SensorFreeze { .. }
        )
    });
    if !sensor_faults {
        s.measured.copy_from_slice(&s.truth);
        s.frozen.iter_mut().for_each(|f| *f = None);
        return;
    }
    for i in 0..s.sensors.len() {
        let id = &s.sensors[i].id;
        let mut v = s.truth[i];
        let mut frozen = false;
        for r in faults.active() {
            match &r.spec.kind {
                FaultKind::SensorDrift { sensor, rate_per_h } if sensor == id => {
                    v += rate_per_h * (now - r.started_s) / 3600.0;
                }
                FaultKind::SensorFreeze { sensor } if sensor == id => frozen = true,
                _ => {}
            }
        }
        if frozen {
            let last = s.measured[i];
            v = *s.frozen[i].get_or_insert(last);
        } else {
            s.frozen[i] = None;
        }
        s.measured[i] = v;
    }
}

/// Raises and clears alarms from the measured values; shelving expiry; floods.
pub fn evaluate(clock: Res<SimClock>, s: Res<Sensors>, mut a: ResMut<Alarms>) {
    let now = clock.time_s + clock.tick_s;
    let a = &mut *a;
    if a.hot.len() != a.defs.len() {
        a.hot = a
            .defs
            .iter()
            .zip(&a.status)
            .map(|(d, st)| AlarmHot::of(d, st))
            .collect();
    }
    for i in 0..a.defs.len() {
        let h = a.hot[i];
        let v = s.measured[h.sensor as usize];
        a.last_value[i] = v;
        if h.unchanged(v) {
            continue;
        }
        let d = &a.defs[i];
        let st = &a.status[i];
        let beyond = match d.limit {
            Limit::High => v > d.setpoint,
            Limit::Low => v < d.setpoint,
        };
        let back = match d.limit {
            Limit::High => v <= d.setpoint - d.deadband,
            Limit::Low => v >= d.setpoint + d.deadband,
        };
        let was = st.active;
        if st.shelved_until_s.is_some_and(|t| now >= t) {
            a.status[i].shelved_until_s = None;
            a.event(i, now, AlarmEventKind::Unshelved);
            if was {
                // Re-annunciated if still active.
                a.status[i].acknowledged = false;
                a.status[i].raised_s = Some(now);
            }
        }
        if !was && beyond {
            let st = &mut a.status[i];
            st.active = true;
            st.acknowledged = false;
            st.raised_s = Some(now);
            st.acknowledged_s = None;
            st.cleared_s = None;
            if st.shelved_until_s.is_none() {
                a.event(i, now, AlarmEventKind::Raised);
                a.recent.push(now);
            }
        } else if was && back {
            a.status[i].active = false;
            a.status[i].cleared_s = Some(now);
            if a.status[i].shelved_until_s.is_none() {
                a.event(i, now, AlarmEventKind::Cleared);
            }
        }
        a.hot[i] = AlarmHot::of(&a.defs[i], &a.status[i]);
    }
    a.recent.retain(|&t| t > now - FLOOD_WINDOW_S);
    let n = a.recent.len();
    match a.floods.last_mut() {
        Some(f) if f.end_s.is_none() => {
            f.peak_count = f.peak_count.max(n);
            if n < FLOOD_END {
                f.end_s = Some(now);
            }
        }
        _ => {
            if n > FLOOD_START {
                a.floods.push(Flood {
                    start_s: now,
                    end_s: None,
                    peak_count: n,
                });
            }
        }
    }
}

//! Failures as a scene or a training scenario states them: what fails, when, and how it is
//! repaired. The physics of each failure is the faults domain's; this module is
//! only the file format and its checks against a scene.

use serde::{Deserialize, Serialize};

use super::{Plant, Scene};

/// One kind of failure and the object it concerns (stable scene ids).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FaultKind {
    /// A small leak in a supply pipe; `hole_diameter_m` default: the failure physics' leak hole (`faults::FaultsConfig::leak_hole_m`).
    PipeLeak {
        pipe: String,
        #[serde(default)]
        hole_diameter_m: Option<f64>,
    },
    /// A burst: a leak through a hole of the failure physics' burst hole (`faults::FaultsConfig::burst_hole_m`) unless given.
    PipeBurst {
        pipe: String,
        #[serde(default)]
        hole_diameter_m: Option<f64>,
    },
    /// A circulation pump trips; a standby starts by itself after `standby_after_s` if given.
    PumpTrip {
        pump: String,
        #[serde(default)]
        standby_after_s: Option<f64>,
    },
    HeatPumpTrip {
        plant: String,
    },
    BoilerFailure {
        plant: String,
    },
    StorageFault {
        plant: String,
    },
    CompressorFailure {
        site: String,
    },
    SitePowerOutage {
        site: String,
    },
    FeederOutage {
        feeder: String,
    },
    FibreCut {
        site: String,
    },
    /// The dark fibre of the site's QKD links is cut: they deliver no keys and fall back
    /// (`data_links.qkd.fallback`); the data fibre still works.
    QkdFibreCut {
        site: String,
    },
    /// Key exchanges of `scheme` fail on every link of `service` (a middlebox that drops the large
    /// post-quantum key shares, a software update that breaks that group): those links close
    /// until the operator switches them to another scheme.
    KeyExchangeFailure {
        service: String,
        scheme: super::LinkScheme,
    },
    /// The sensor's reading drifts from the truth by `rate_per_h` (its unit per hour).
    SensorDrift {
        sensor: String,
        rate_per_h: f64,
    },
    /// The sensor's reading stays at its value when the fault began.
    SensorFreeze {
        sensor: String,
    },
}

impl FaultKind {
    /// Id of the object the failure concerns.
    pub fn object(&self) -> &str {
        match self {
            FaultKind::PipeLeak { pipe, .. } | FaultKind::PipeBurst { pipe, .. } => pipe,
            FaultKind::PumpTrip { pump, .. } => pump,
            FaultKind::HeatPumpTrip { plant }
            | FaultKind::BoilerFailure { plant }
            | FaultKind::StorageFault { plant } => plant,
            FaultKind::CompressorFailure { site }
            | FaultKind::SitePowerOutage { site }
            | FaultKind::FibreCut { site }
            | FaultKind::QkdFibreCut { site } => site,
            FaultKind::KeyExchangeFailure { service, .. } => service,
            FaultKind::FeederOutage { feeder } => feeder,
            FaultKind::SensorDrift { sensor, .. } | FaultKind::SensorFreeze { sensor } => sensor,
        }
    }
}

/// How a failure is repaired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Repair {
    /// `repair_s` after the operator dispatches a crew.
    #[default]
    Crew,
    /// `repair_s` after the failure began.
    Auto,
}

fn default_repair_s() -> f64 {
    3600.0
}

/// A failure to inject: now (live) or at `at_s` (s of simulated time since the start of the run;
/// a scenario's timeline gives it in s since the start of the session and the runner shifts it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultSpec {
    pub id: String,
    pub kind: FaultKind,
    #[serde(default)]
    pub at_s: f64,
    #[serde(default = "default_repair_s")]
    pub repair_s: f64,
    #[serde(default)]
    pub repair: Repair,
}

/// Checks failures against a scene: unique ids, the object each concerns exists and has the
/// right kind, times and hole sizes in range. Each problem is `(at, message)`.
pub fn check_failures(scene: &Scene, failures: &[FaultSpec]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let plant = |id: &str| scene.plants.iter().find(|p| p.id() == id);
    for f in failures {
        let at = format!("failures[{}]", f.id);
        let mut bad = |m: String| out.push((at.clone(), m));
        if !seen.insert(f.id.as_str()) {
            bad("duplicate id".into());
        }
        // Times within 100 years (3.2e9 s): finite, so no infinity reaches the clock or a report.
        if !(f.at_s.is_finite() && (0.0..=3.2e9).contains(&f.at_s)) {
            bad(format!("at_s = {} must be in [0, 3.2e9] s", f.at_s));
        }
        if !(f.repair_s.is_finite() && f.repair_s > 0.0 && f.repair_s <= 3.2e9) {
            bad(format!("repair_s = {} must be in (0, 3.2e9] s", f.repair_s));
        }
        match &f.kind {
            FaultKind::PumpTrip {
                standby_after_s: Some(t),
                ..
            } if !(t.is_finite() && (0.0..=3.2e9).contains(t)) => {
                bad(format!("standby_after_s = {t} must be in [0, 3.2e9] s"))
            }
            FaultKind::SensorDrift { rate_per_h, .. }
                if !(rate_per_h.is_finite() && rate_per_h.abs() <= 1e9) =>
            {
                bad(format!(
                    "rate_per_h = {rate_per_h} must be finite, |rate| ≤ 1e9"
                ))
            }
            _ => {}
        }
        let object = f.kind.object();
        let ok = match &f.kind {
            FaultKind::PipeLeak {
                hole_diameter_m, ..
            }
            | FaultKind::PipeBurst {
                hole_diameter_m, ..
            } => {
                if let Some(d) = hole_diameter_m
                    && !(*d > 0.0 && *d <= 1.0)
                {
                    bad(format!("hole_diameter_m = {d} is outside (0, 1] m"));
                }
                scene.heat_network.pipes.iter().any(|p| p.id == object)
            }
            FaultKind::PumpTrip { .. } => {
                matches!(plant(object), Some(Plant::CirculationPump { .. }))
            }
            FaultKind::HeatPumpTrip { .. } => matches!(plant(object), Some(Plant::HeatPump { .. })),
            FaultKind::BoilerFailure { .. } => {
                matches!(plant(object), Some(Plant::GasBoiler { .. }))
            }
            FaultKind::StorageFault { .. } => matches!(plant(object), Some(Plant::Storage { .. })),
            FaultKind::CompressorFailure { .. }
            | FaultKind::SitePowerOutage { .. }
            | FaultKind::FibreCut { .. }
            | FaultKind::QkdFibreCut { .. } => scene.quantum_sites.iter().any(|s| s.id == object),
            FaultKind::KeyExchangeFailure { .. } => super::links::LINK_SERVICES.contains(&object),
            FaultKind::FeederOutage { .. } => scene
                .grid
                .as_ref()
                .is_some_and(|g| g.feeders.iter().any(|x| x.id == object)),
            // Sensor ids are derived from the scene by the alarm system; checked when it starts.
            FaultKind::SensorDrift { .. } | FaultKind::SensorFreeze { .. } => true,
        };
        if !ok {
            bad(format!(
                "\"{object}\" is not a {} of the scene",
                match &f.kind {
                    FaultKind::PipeLeak { .. } | FaultKind::PipeBurst { .. } => "pipe",
                    FaultKind::PumpTrip { .. } => "circulation pump",
                    FaultKind::HeatPumpTrip { .. } => "heat pump",
                    FaultKind::BoilerFailure { .. } => "gas boiler",
                    FaultKind::StorageFault { .. } => "storage tank",
                    FaultKind::FeederOutage { .. } => "feeder",
                    FaultKind::KeyExchangeFailure { .. } => "city service",
                    _ => "quantum site",
                }
            ));
        }
    }
    out
}

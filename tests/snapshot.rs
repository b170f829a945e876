//! Snapshots: rewinding and continuing, and restoring a snapshot file and continuing, give the
//! same results bit for bit as never having stopped.

use std::path::Path;

use qtwin::ledger::report::Report;
use qtwin::snapshot::{SnapshotFile, WorldSnapshot, enable_rewind, rewind};
use qtwin::training::{TrainingReport, load_actions, load_scenario, run_until, start_session};

const SCENARIO: &str = "scenes/training/pipe_burst_loop.ron";
const ACTIONS: &str = "scenes/training/pipe_burst_loop.actions.ron";

fn reports(sim: &qtwin::sim::Simulation) -> (String, String) {
    (
        TrainingReport::from_sim(sim).to_json(),
        Report::from_sim(sim).to_json(),
    )
}

#[test]
fn rewind_then_continue_is_bit_identical() {
    let (sc, scene) = load_scenario(Path::new(SCENARIO)).unwrap();
    let acts = load_actions(Path::new(ACTIONS)).unwrap();
    let mut straight = start_session(&sc, &scene).unwrap();
    run_until(&mut straight, &acts, f64::INFINITY);
    let expected = reports(&straight);

    let mut sim = start_session(&sc, &scene).unwrap();
    enable_rewind(&mut sim, 300.0);
    let start = sc.start.warmup_s;
    // Into the burst: the valve is closed at 780 s, the vessel refills.
    run_until(&mut sim, &acts, start + 1500.0);
    let manual = WorldSnapshot::capture(sim.world());
    run_until(&mut sim, &acts, start + 7000.0);
    let points = sim
        .world()
        .resource::<qtwin::snapshot::RewindStore>()
        .times();
    assert!(points.len() >= 20, "{points:?}");
    // The instructor rewinds to 10 min after the burst (a point taken automatically) …
    let t = rewind(sim.world_mut(), start + 1200.0).unwrap();
    assert_eq!(t, start + 1200.0);
    assert_eq!(sim.clock().time_s, start + 1200.0);
    run_until(&mut sim, &acts, f64::INFINITY);
    assert_eq!(reports(&sim), expected);

    // … and a manual snapshot put back into a world that ran on gives the same too.
    manual.restore(sim.world_mut());
    run_until(&mut sim, &acts, f64::INFINITY);
    assert_eq!(reports(&sim), expected);
}

/// The instructor injects a sensor drift live at 1000 s.
fn inject_drift(sim: &mut qtwin::sim::Simulation) {
    use qtwin::faults::{FaultKind, FaultSpec, Repair};
    use qtwin::operator::{CommandQueue, InstructorCommand};
    sim.res_mut::<CommandQueue>()
        .instructor(InstructorCommand::Inject(FaultSpec {
            id: "drift".into(),
            kind: FaultKind::SensorDrift {
                sensor: "network/static_pressure_pa".into(),
                rate_per_h: -30_000.0,
            },
            at_s: 0.0,
            repair_s: 1800.0,
            repair: Repair::Auto,
        }));
}

#[test]
fn snapshot_file_restores_exactly() {
    let (sc, scene) = load_scenario(Path::new(SCENARIO)).unwrap();
    let acts = load_actions(Path::new(ACTIONS)).unwrap();
    let start = sc.start.warmup_s;
    let mut straight = start_session(&sc, &scene).unwrap();
    run_until(&mut straight, &acts, start + 1000.0);
    inject_drift(&mut straight);
    run_until(&mut straight, &acts, f64::INFINITY);
    let expected = reports(&straight);
    assert!(expected.0.contains("SensorDrift"));

    let mut sim = start_session(&sc, &scene).unwrap();
    run_until(&mut sim, &acts, start + 1000.0);
    inject_drift(&mut sim);
    run_until(&mut sim, &acts, start + 2400.0);
    // The live injection is in the file's inputs.
    let text = SnapshotFile::from_sim(&sim).to_json();
    assert!(text.len() < 4_000_000, "{} bytes", text.len());
    let file = SnapshotFile::from_json(&text).unwrap();
    let mut restored = file.restore().unwrap();
    assert_eq!(restored.clock().tick, sim.clock().tick);
    assert_eq!(reports(&restored), reports(&sim));
    run_until(&mut restored, &acts, f64::INFINITY);
    assert_eq!(reports(&restored), expected);
}

/// Indoor temperatures are state: captured mid-outage (the pump trip, no response, buildings
/// cooling), put back and continued, they follow the same path bit for bit.
#[test]
fn indoor_temperatures_continue_exactly_after_a_restore() {
    use qtwin::demand::Buildings;
    let (sc, scene) = load_scenario(Path::new("scenes/training/pump_trip_winter.ron")).unwrap();
    let start = sc.start.warmup_s;
    let mut sim = start_session(&sc, &scene).unwrap();
    // 80 min into the session: the pump tripped at 10 min, nobody acted.
    run_until(&mut sim, &[], start + 4800.0);
    let t_set = scene.sim.indoor_setpoint_c;
    let mid = sim.res::<Buildings>().indoor_temp_c().to_vec();
    let cooling = mid.iter().filter(|&&t| t < t_set).count();
    assert!(
        cooling * 10 > mid.len() * 9,
        "{cooling} of {} cooling",
        mid.len()
    );
    let snap = WorldSnapshot::capture(sim.world());
    assert!(
        snap.describe()
            .iter()
            .any(|(name, text)| *name == "buildings" && text.contains(&format!("{:?}", mid[0])))
    );
    run_until(&mut sim, &[], start + 7200.0);
    let straight = sim.res::<Buildings>().indoor_temp_c().to_vec();
    let colder = straight.iter().zip(&mid).filter(|(a, b)| a < b).count();
    assert!(colder * 10 > mid.len() * 9, "{colder} colder");
    snap.restore(sim.world_mut());
    assert_eq!(sim.res::<Buildings>().indoor_temp_c(), &mid[..]);
    run_until(&mut sim, &[], start + 7200.0);
    let again = sim.res::<Buildings>().indoor_temp_c();
    assert!(
        straight
            .iter()
            .zip(again)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
}

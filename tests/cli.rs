//! The command line as a user runs it: `check` on broken scenes, `run` reports and determinism.

use std::path::PathBuf;
use std::process::Command;

fn qtwin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_qtwin"))
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qtwin-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn check(path: &str) -> (i32, String) {
    let out = qtwin().args(["check", path]).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout),
    )
}

#[test]
fn check_accepts_the_shipped_scenes() {
    for p in ["scenes/riverside.ron", "tests/scenes/single_pipe.ron"] {
        let (code, msg) = check(p);
        assert_eq!(code, 0, "{p}: {msg}");
        assert!(msg.contains("ok"));
    }
}

#[test]
fn check_reports_parse_errors_with_line_and_column() {
    let (code, msg) = check("tests/scenes/broken/syntax.ron");
    assert_eq!(code, 2);
    assert!(
        msg.contains("tests/scenes/broken/syntax.ron:10:22:"),
        "{msg}"
    );
    let (code, msg) = check("tests/scenes/broken/version.ron");
    assert_eq!(code, 2);
    assert!(msg.contains("format_version 99 is not supported"), "{msg}");
}

#[test]
fn check_lists_every_semantic_error() {
    let (code, msg) = check("tests/scenes/broken/semantic.ron");
    assert_eq!(code, 2, "{msg}");
    for expected in [
        "13 problem(s)",
        "heat_network.pipes[p1]: duplicate id",
        "heat_network.pipes[p2]: joins node \"b\" to itself",
        "heat_network.pipes[p3]: to = \"ghost\" is not a node",
        "heat_network.pipes[p4]: length_m = -5 must be positive",
        "heat_network.pipes[p4]: inner diameter (m) = 0 is outside",
        "DN77 is not a known nominal size",
        "insulation series 4 must be 1, 2 or 3",
        "buildings[b1]: node = \"nowhere\" is not a node",
        "buildings[b2]: footprint needs at least 3 corners",
        "buildings[b2]: energy class 'Q' must be A to G",
        "plants[boiler]: efficiency = 1.7 is outside [0.3, 1.1]",
        "plants[hp]: site = \"no_such_site\" is not a quantum site",
    ] {
        assert!(msg.contains(expected), "missing {expected:?} in:\n{msg}");
    }
    let (code, msg) = check("tests/scenes/broken/island.ron");
    assert_eq!(code, 2);
    assert!(
        msg.contains("heat_network.consumers[k2]: node \"d\" lies on a part of the heat network with consumers but no heat source"),
        "{msg}"
    );
    // `run` refuses an invalid scene the same way.
    let out = qtwin()
        .args(["run", "tests/scenes/broken/island.ron", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn run_report(scene: &str, extra: &[&str], name: &str) -> String {
    let report = tmp(name);
    let out = qtwin()
        .args(["run", scene, "-q", "--report"])
        .arg(&report)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(report).unwrap()
}

#[test]
fn reports_are_bit_identical_across_runs_and_thread_counts() {
    let a = run_report(
        "scenes/riverside.ron",
        &["--days", "2", "--threads", "1"],
        "r1.json",
    );
    let b = run_report(
        "scenes/riverside.ron",
        &["--days", "2", "--threads", "2"],
        "r2.json",
    );
    let c = run_report(
        "scenes/riverside.ron",
        &["--days", "2", "--threads", "1"],
        "r3.json",
    );
    assert_eq!(a, b);
    assert_eq!(a, c);
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(v["seed"], 7);
    assert_eq!(v["ticks"], 2880);
    assert_eq!(v["scene_hash"].as_str().unwrap().len(), 64);
    for key in [
        "heat_demand_kwh",
        "heat_delivered_kwh",
        "unmet_heat_kwh",
        "waste_heat_recovered_kwh",
        "waste_heat_share",
        "boiler_heat_kwh",
        "heat_pump_electricity_kwh",
        "pump_electricity_kwh",
        "heat_losses_kwh",
        "quantum_site_electricity_kwh",
        "grid_import_kwh",
        "grid_export_kwh",
        "renewable_share",
        "co2_kg",
        "co2_baseline_kg",
        "max_energy_balance_error_rel",
    ] {
        assert!(v["kpis"][key].is_number(), "kpis.{key} missing");
    }
    // Another seed gives other weather, so another report.
    let d = run_report(
        "scenes/riverside.ron",
        &["--days", "2", "--seed", "8"],
        "r4.json",
    );
    assert_ne!(a, d);
}

/// A large generated city: still bit-identical for 1 and 2 threads. 6,000 buildings give 1,125
/// pipes, above `PARALLEL_DROPS_FROM`: the pipes' pressure drops are computed on rayon.
#[test]
fn large_city_reports_are_identical_across_thread_counts() {
    const { assert!(qtwin::hydraulics::solver::PARALLEL_DROPS_FROM <= 1125) };
    let city = tmp("city6000.ron");
    let out = qtwin()
        .args([
            "generate",
            "--buildings",
            "6000",
            "--sites",
            "3",
            "--seed",
            "5",
            "--out",
        ])
        .arg(&city)
        .output()
        .unwrap();
    assert!(out.status.success());
    let city = city.to_str().unwrap();
    let a = run_report(city, &["--hours", "6", "--threads", "1"], "c1.json");
    let b = run_report(city, &["--hours", "6", "--threads", "2"], "c2.json");
    assert_eq!(a, b);
}

#[test]
fn run_writes_state_and_timeseries() {
    let state = tmp("state.json");
    let series = tmp("series.csv");
    let out = qtwin()
        .args([
            "run",
            "scenes/riverside.ron",
            "--hours",
            "3",
            "--tick",
            "120",
            "-q",
            "--state",
        ])
        .arg(&state)
        .arg("--timeseries")
        .arg(&series)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap();
    assert_eq!(v["ticks"], 90);
    let pipes = v["pipes"].as_array().unwrap();
    assert_eq!(pipes.len(), 61);
    assert!(
        pipes
            .iter()
            .any(|p| p["mass_flow_kg_s"].as_f64().unwrap().abs() > 1.0)
    );
    let nodes = v["nodes"].as_array().unwrap();
    assert!(
        nodes
            .iter()
            .all(|n| n["supply_temp_c"].as_f64().unwrap() > n["return_temp_c"].as_f64().unwrap())
    );
    assert_eq!(v["quantum_sites"].as_array().unwrap().len(), 3);
    let csv = std::fs::read_to_string(series).unwrap();
    assert_eq!(csv.lines().count(), 91);
    assert!(csv.starts_with("time_s,outdoor_temp_c"));
}

/// `bench render generated:N` checks N before it builds a city or looks for a GPU.
#[test]
fn bench_render_rejects_impossible_city_sizes() {
    for arg in [
        "generated:0",
        "generated:2000000",
        "generated:x",
        "generated:-5",
    ] {
        let out = qtwin().args(["bench", "render", arg]).output().unwrap();
        let msg = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{arg}: {msg}");
        if cfg!(feature = "view") {
            assert!(msg.contains(arg), "{arg}: {msg}");
        }
    }
}

//! Hostile input: every limit of issue 14 is hit on purpose and must end in a clear error (or, for
//! the site placed inside a building, in a clear move), never in a panic, an abort, a stack
//! overflow, a hang or memory exhaustion. The random search is in tests/fuzz.rs.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use qtwin::quantum::qasm::{self, QasmLimits, run_qasm};
use qtwin::scene::{self, Scene, load_scene, validate};

fn qtwin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_qtwin"))
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qtwin-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Exit code and stderr + stdout of the binary.
fn cli(args: &[&str]) -> (i32, String) {
    let out = qtwin().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout),
    )
}

const HEAD: &str = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\n";

// ---- OpenQASM -------------------------------------------------------------------------------

#[test]
fn qubits_are_limited_by_the_memory_they_need() {
    let d = QasmLimits::default();
    assert_eq!(d.max_memory_bytes, 2 << 30);
    assert_eq!(d.max_qubits(), 26);
    let one_gib = QasmLimits {
        max_memory_bytes: 1 << 30,
        ..Default::default()
    };
    assert_eq!(one_gib.max_qubits(), 25);
    for n in ["27", "40", "59", "64", "1000000", "999999999999999"] {
        let src = format!("{HEAD}qreg q[{n}];\nh q;\n");
        let t = Instant::now();
        let e = qasm::parse(&src).unwrap_err();
        assert!(t.elapsed().as_secs_f64() < 0.5, "{n}: slow");
        assert_eq!((e.line, e.col), (3, 1), "{e}");
        assert!(
            e.msg.contains("for the state vector")
                && e.msg.contains("at most 26 qubits")
                && e.msg.contains("--max-memory"),
            "{e}"
        );
    }
    // Two registers add up.
    let e = qasm::parse(&format!("{HEAD}qreg a[20];\nqreg b[7];\n")).unwrap_err();
    assert_eq!(e.line, 4, "{e}");
    assert!(e.msg.contains("27 qubits need 2 GiB"), "{e}");
    // 26 qubits parse (nothing is allocated while parsing).
    assert_eq!(
        qasm::parse(&format!("{HEAD}qreg q[26];\n"))
            .unwrap()
            .num_qubits,
        26
    );
    // The whole run's estimate: 26 qubits with noise need two vectors (2 GiB + more).
    let e = run_qasm(
        &format!("{HEAD}qreg q[26];\nh q[0];\n"),
        10,
        1,
        "default",
        true,
        &d,
    )
    .unwrap_err();
    assert!(e.msg.contains("more than the memory limit of 2 GiB"), "{e}");
    // A small budget: 1 MiB allows 15 qubits (a 512 KiB vector), and noise needs two vectors.
    let small = QasmLimits {
        max_memory_bytes: 1 << 20,
        ..Default::default()
    };
    let e = qasm::parse_program_with(&format!("{HEAD}qreg q[16];\n"), &small).unwrap_err();
    assert!(e.msg.contains("at most 15 qubits"), "{e}");
    let e = run_qasm(
        &format!("{HEAD}qreg q[15];\nh q;\n"),
        100,
        1,
        "default",
        true,
        &small,
    )
    .unwrap_err();
    assert!(e.msg.contains("more than the memory limit of 1 MiB"), "{e}");
    assert!(
        run_qasm(
            &format!("{HEAD}qreg q[15];\nh q;\n"),
            100,
            1,
            "ideal",
            true,
            &small
        )
        .is_ok()
    );
    let run = run_qasm(
        &format!("{HEAD}qreg q[12];\nh q;\n"),
        100,
        1,
        "ideal",
        true,
        &small,
    )
    .unwrap();
    assert_eq!(run.statevector.num_qubits(), 12);
}

#[test]
fn classical_registers_and_broadcasts_stay_small() {
    let e = qasm::parse(&format!("{HEAD}creg c[100000000000];\n")).unwrap_err();
    assert!(e.msg.contains("over the limit of 4096"), "{e}");
    // A broadcast over the largest register allowed, and an argument list that never ends.
    let many = "q[0], ".repeat(200_000);
    let t = Instant::now();
    let e = qasm::parse(&format!("{HEAD}qreg q[2];\ncx {many}q[1];\n")).unwrap_err();
    assert!(e.msg.contains("acts on 2 qubit(s), more given"), "{e}");
    // A barrier over the same register 200,000 times is one barrier on its qubits.
    let bars = "q, ".repeat(200_000);
    let c = qasm::parse(&format!("{HEAD}qreg q[3];\nbarrier {bars}q;\n")).unwrap();
    assert_eq!(c.ops.len(), 1);
    assert!(t.elapsed().as_secs_f64() < 5.0);
}

#[test]
fn deep_expressions_are_refused_not_overflowing_the_stack() {
    for (what, expr) in [
        (
            "parentheses",
            format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)),
        ),
        ("minus signs", format!("{}1", "-".repeat(100_000))),
        ("plus signs", format!("{}1", "+".repeat(100_000))),
        ("powers", format!("{}1", "2^".repeat(100_000))),
        (
            "functions",
            format!("{}1{}", "sin(".repeat(100_000), ")".repeat(100_000)),
        ),
        ("a chain", format!("1{}", "+1".repeat(100_000))),
    ] {
        let src = format!("{HEAD}qreg q[1];\nrx({expr}) q[0];\n");
        let e = qasm::parse(&src).unwrap_err();
        assert!(e.msg.contains("deep (the limit)"), "{what}: {e}");
        assert_eq!(e.line, 4, "{what}: {e}");
        // Also inside a gate body.
        let src = format!("{HEAD}qreg q[1];\ngate g(t) a {{ rx({expr}*t) a; }}\n");
        let e = qasm::parse(&src).unwrap_err();
        assert!(e.msg.contains("deep (the limit)"), "{what} in a body: {e}");
    }
    // 100 levels are fine.
    let ok = format!("{}1{}", "(".repeat(98), ")".repeat(98));
    assert_eq!(
        qasm::parse(&format!("{HEAD}qreg q[1];\nrx({ok}) q[0];\n"))
            .unwrap()
            .ops
            .len(),
        1
    );
}

#[test]
fn exponentially_expanding_gates_are_counted_before_expanding() {
    let mut src = format!("{HEAD}qreg q[2];\ngate g0 a, b {{ cx a, b; }}\n");
    for k in 1..=64 {
        src += &format!("gate g{k} a, b {{ g{} a, b; g{} b, a; }}\n", k - 1, k - 1);
    }
    // 2^20 operations: fine; 2^24 > 10,000,000: refused at once.
    let t = Instant::now();
    let c = qasm::parse(&format!("{src}g20 q[0], q[1];\n")).unwrap();
    assert_eq!(c.ops.len(), 1 << 20);
    for k in [24, 40, 64] {
        let e = qasm::parse(&format!("{src}g{k} q[0], q[1];\n")).unwrap_err();
        assert!(
            e.msg
                .contains("over the limit of 10000000 expanded operations"),
            "{e}"
        );
        assert_eq!(e.line, 3 + 65 + 1, "{e}");
    }
    assert!(t.elapsed().as_secs_f64() < 10.0, "{:?}", t.elapsed());
    // A chain of definitions nested deeper than 100.
    let mut src = format!("{HEAD}qreg q[1];\ngate h0 a {{ x a; }}\n");
    for k in 1..=150 {
        src += &format!("gate h{k} a {{ h{} a; }}\n", k - 1);
    }
    let e = qasm::parse(&src).unwrap_err();
    assert!(e.msg.contains("nested more than 100 levels"), "{e}");
}

#[test]
fn shots_and_work_are_capped_with_and_without_noise() {
    let bell = format!("{HEAD}qreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n");
    let d = QasmLimits::default();
    let e = run_qasm(&bell, 1_000_000_000_000, 1, "ideal", true, &d).unwrap_err();
    assert!(e.msg.contains("over the limit of 100000000 shots"), "{e}");
    // With noise every shot is a trajectory: 20 qubits × 10^7 shots is far over the work limit.
    let wide = format!("{HEAD}qreg q[20];\ncreg c[20];\nh q;\nmeasure q -> c;\n");
    let e = run_qasm(&wide, 10_000_000, 1, "default", true, &d).unwrap_err();
    assert!(
        e.msg.contains("amplitude updates") && e.msg.contains("noise"),
        "{e}"
    );
    // The same without noise is one run and sampling.
    let t = Instant::now();
    let run = run_qasm(&wide, 100_000, 1, "ideal", true, &d).unwrap();
    assert_eq!(run.counts.values().sum::<u64>(), 100_000);
    assert!(t.elapsed().as_secs_f64() < 30.0);
}

#[test]
fn program_text_is_limited_and_read_in_place() {
    let small = QasmLimits {
        max_source_bytes: 100,
        ..Default::default()
    };
    let src = format!("{HEAD}qreg q[1];\n{}", "h q[0];\n".repeat(20));
    let e = qasm::parse_program_with(&src, &small).unwrap_err();
    assert!(e.msg.contains("over the limit of 100 B"), "{e}");
    // Columns count characters, not bytes, after non-ASCII text in a comment.
    let e = qasm::parse(&format!("{HEAD}/* äöü → ✓ */ qreg q[1]; h q[5];\n")).unwrap_err();
    assert_eq!((e.line, e.col), (3, 30), "{e}");
    let e = qasm::parse(&format!("{HEAD}qreg q[1];\n  ✓ q[0];\n")).unwrap_err();
    assert_eq!((e.line, e.col), (4, 3), "{e}");
    assert!(e.msg.contains("unexpected character '✓'"), "{e}");
}

#[test]
fn parse_bytes_reads_sizes() {
    assert_eq!(qasm::parse_bytes("2GiB").unwrap(), 2 << 30);
    assert_eq!(qasm::parse_bytes("512 MiB").unwrap(), 512 << 20);
    assert_eq!(qasm::parse_bytes("1e9").unwrap(), 1_000_000_000);
    assert_eq!(qasm::parse_bytes("1.5GB").unwrap(), 1_500_000_000);
    for bad in ["", "-1GiB", "inf", "NaN", "1 parsec", "1e30"] {
        assert!(qasm::parse_bytes(bad).is_err(), "{bad}");
    }
}

#[test]
fn qasm_command_line_limits() {
    let f = tmp("wide.qasm");
    std::fs::write(&f, format!("{HEAD}qreg q[30];\nh q;\n")).unwrap();
    let (code, msg) = cli(&["qasm", f.to_str().unwrap()]);
    assert_eq!(code, 2, "{msg}");
    assert!(
        msg.contains("line 3, column 1") && msg.contains("at most 26 qubits"),
        "{msg}"
    );
    let (code, msg) = cli(&["qasm", f.to_str().unwrap(), "--max-memory", "8GiB"]);
    assert_eq!(code, 2, "{msg}");
    assert!(msg.contains("at most 28 qubits"), "{msg}");
    let (code, msg) = cli(&["qasm", f.to_str().unwrap(), "--max-memory", "lots"]);
    assert_eq!(code, 2, "{msg}");
    assert!(msg.contains("--max-memory"), "{msg}");
    let bell = tmp("bell.qasm");
    std::fs::write(
        &bell,
        format!("{HEAD}qreg q[2];\ncreg c[2];\nh q[0];\nmeasure q -> c;\n"),
    )
    .unwrap();
    let (code, msg) = cli(&[
        "qasm",
        bell.to_str().unwrap(),
        "--shots",
        "18446744073709551615",
    ]);
    assert_eq!(code, 2, "{msg}");
    assert!(msg.contains("shots"), "{msg}");
    let (code, msg) = cli(&[
        "qasm",
        bell.to_str().unwrap(),
        "--shots",
        "100",
        "--noise",
        "warm",
    ]);
    assert_eq!(code, 0, "{msg}");
    // An endless file.
    #[cfg(unix)]
    {
        let (code, msg) = cli(&["qasm", "/dev/zero"]);
        assert_eq!(code, 2, "{msg}");
        assert!(msg.contains("larger than the limit of 64 MiB"), "{msg}");
    }
}

// ---- Scenes ---------------------------------------------------------------------------------

fn riverside() -> Scene {
    load_scene(std::path::Path::new("scenes/riverside.ron")).unwrap()
}

/// The problems of a scene, one string each.
fn problems(s: &Scene) -> Vec<String> {
    match validate(s) {
        Ok(()) => Vec::new(),
        Err(v) => v.iter().map(|i| i.to_string()).collect(),
    }
}

#[test]
fn every_number_must_be_finite_and_in_range() {
    type Poke = fn(&mut Scene, f64);
    let pokes: Vec<(&str, Poke)> = vec![
        ("buildings[", |s, v| s.buildings[0].footprint[1][0] = v),
        ("heat_network.nodes[", |s, v| {
            s.heat_network.nodes[3].pos[1] = v
        }),
        ("elevation_m", |s, v| {
            s.heat_network.nodes[3].elevation_m = v
        }),
        ("quantum_sites[", |s, v| s.quantum_sites[0].pos[0] = v),
        ("quantum_sites[", |s, v| {
            if s.quantum_sites[0].footprint.is_empty() {
                s.quantum_sites[0].footprint = vec![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
            }
            s.quantum_sites[0].footprint[0][1] = v
        }),
        ("map[", |s, v| match &mut s.map[0] {
            scene::MapFeature::Street { points, .. } | scene::MapFeature::River { points, .. } => {
                points[0][0] = v
            }
            scene::MapFeature::Park { polygon }
            | scene::MapFeature::Water { polygon }
            | scene::MapFeature::Outbuilding { polygon, .. } => polygon[0][0] = v,
        }),
        ("dhw_min_supply_temp_c", |s, v| {
            s.heat_network.dhw_min_supply_temp_c = v
        }),
        ("return_pressure_pa", |s, v| {
            s.heat_network.return_pressure_pa = v
        }),
        ("supply_pressure_pa", |s, v| {
            s.heat_network.supply_pressure_pa = v
        }),
        ("grid.buses[", |s, v| {
            s.grid.as_mut().unwrap().buses[0].pos[0] = v
        }),
        ("tick_s", |s, v| s.sim.tick_s = v),
        ("cp_j_kg_k", |s, v| s.fluid.cp_j_kg_k = v),
        ("mean_temp_c", |s, v| match &mut s.climate {
            scene::Climate::Monthly(m) => m.mean_temp_c[5] = v,
            scene::Climate::Fixed(f) => f.outdoor_temp_c = v,
        }),
        ("route", |s, v| {
            let p = &mut s.heat_network.pipes[0];
            p.route = vec![[0.0, 0.0], [v, 1.0], [2.0, 2.0]];
        }),
        ("quantum_jobs", |s, v| {
            let mut q = s.quantum_jobs.clone().unwrap_or_default();
            q.cryostat.warm_knee_k = v;
            s.quantum_jobs = Some(q);
        }),
    ];
    let base = riverside();
    assert!(problems(&base).is_empty());
    for (what, poke) in &pokes {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, -1e300] {
            let mut s = base.clone();
            poke(&mut s, v);
            let p = problems(&s);
            assert!(
                p.iter().any(|m| m.contains(what)),
                "{what} = {v} was not refused: {p:?}"
            );
        }
    }
    // Positions beyond 100 km, elevations beyond the range.
    let mut s = base.clone();
    s.heat_network.nodes[0].pos = [100_001.0, 0.0];
    s.heat_network.nodes[1].elevation_m = 9000.0;
    let p = problems(&s).join("\n");
    assert!(p.contains("within 100000 m of the origin"), "{p}");
    assert!(
        p.contains("elevation_m = 9000 is outside [-500, 5000]"),
        "{p}"
    );
}

#[test]
fn design_outdoor_temperature_at_the_heating_limit_is_refused() {
    let mut s = riverside();
    assert!(s.heat_network.supply_temp_at_design_c.is_some());
    s.heat_network.design_outdoor_temp_c = qtwin::plants::HEATING_LIMIT_C;
    let p = problems(&s).join("\n");
    assert!(
        p.contains("design_outdoor_temp_c = 15 is outside [-60, 14]"),
        "{p}"
    );
}

#[test]
fn check_lists_non_finite_numbers_of_a_file() {
    let (code, msg) = cli(&["check", "tests/scenes/broken/nonfinite.ron"]);
    assert_eq!(code, 2, "{msg}");
    for expected in [
        "buildings[b1]: footprint[0] = (NaN, 0) is not a finite point",
        "buildings[b2]: footprint[1] = (1000000000, 0) is not a finite point within 100000 m",
        "heat_network: design_outdoor_temp_c = 15 is outside [-60, 14]",
        "heat_network: return_pressure_pa = inf is outside [0, 4000000]",
        "heat_network: dhw_min_supply_temp_c = NaN is outside [20, 95]",
        "heat_network.nodes[a]: elevation_m = NaN is outside",
        "heat_network.nodes[b]: pos = (100, inf) is not a finite point",
        "heat_network.pipes[p1]: route[1] = (-inf, 5) is not a finite point",
        "quantum_sites[q1]: pos = (NaN, 0) is not a finite point",
        "quantum_sites[q1]: footprint[1] = (inf, 0) is not a finite point",
        "map[0]: points[1] = (NaN, 3) is not a finite point",
        "map[1]: polygon[1] = (200000, 0) is not a finite point",
    ] {
        assert!(msg.contains(expected), "missing {expected:?} in:\n{msg}");
    }
}

#[test]
fn scene_files_are_read_with_a_size_limit() {
    #[cfg(unix)]
    {
        let t = Instant::now();
        let (code, msg) = cli(&["check", "/dev/zero"]);
        assert_eq!(code, 2, "{msg}");
        assert!(
            msg.contains("/dev/zero: the file is larger than the limit of 256 MiB"),
            "{msg}"
        );
        eprintln!("check /dev/zero: {:.2} s", t.elapsed().as_secs_f64());
    }
    let e = load_scene(std::path::Path::new("tests/scenes/no_such.ron"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("tests/scenes/no_such.ron"), "{e}");
}

// ---- Command line ---------------------------------------------------------------------------

#[test]
fn durations_ticks_and_threads_are_checked() {
    let scene = "tests/scenes/single_pipe.ron";
    for (args, expected) in [
        (
            vec!["--days", "inf"],
            "--days inf: must be a positive, finite number",
        ),
        (
            vec!["--days", "nan"],
            "--days NaN: must be a positive, finite number",
        ),
        (
            vec!["--days=-1"],
            "--days -1: must be a positive, finite number",
        ),
        (
            vec!["--hours", "0"],
            "--hours 0: must be a positive, finite number",
        ),
        (vec!["--hours", "0.001"], "shorter than one tick"),
        (vec!["--hours", "1e12"], "over the limit of 10000000 ticks"),
        (
            vec!["--tick", "0"],
            "--tick 0: must be between 0.1 and 3600 s",
        ),
        (
            vec!["--tick", "NaN"],
            "--tick NaN: must be between 0.1 and 3600 s",
        ),
        (
            vec!["--threads", "0"],
            "--threads 0: must be between 1 and 1024",
        ),
        (
            vec!["--threads", "100000"],
            "--threads 100000: must be between 1 and 1024",
        ),
    ] {
        let mut a = vec!["run", scene, "-q"];
        a.extend(&args);
        let (code, msg) = cli(&a);
        assert_eq!(code, 2, "{args:?}: {msg}");
        assert!(msg.contains(expected), "{args:?}: {msg}");
    }
    let (code, msg) = cli(&["run", scene, "-q", "--hours", "1", "--threads", "1"]);
    assert_eq!(code, 0, "{msg}");
    for args in [
        vec!["compare", scene, scene, "--days=-2"],
        vec!["suggest", "scenes/riverside.ron", "--days", "inf"],
        vec!["suggest", "scenes/riverside.ron", "--spacing", "0"],
        vec!["suggest", "scenes/riverside.ron", "--top", "1000000"],
        vec![
            "sweep",
            scene,
            "--param",
            "network.supply_temp_c=60",
            "--days",
            "NaN",
            "--out",
            "/dev/null",
        ],
        vec![
            "generate",
            "--buildings",
            "1000000000000",
            "--out",
            "/dev/null",
        ],
        vec!["bench", "--threads", "0"],
    ] {
        let (code, msg) = cli(&args);
        assert_eq!(code, 2, "{args:?}: {msg}");
    }
}

#[test]
fn the_candidate_grid_of_a_huge_city_is_laid_coarser() {
    use qtwin::whatif::siting::{MAX_CANDIDATES, grid_candidates, grid_spacing_m};
    let mut s = riverside();
    assert_eq!(grid_spacing_m(&s, 50.0), 50.0);
    // A node at the far corner of the allowed extent: 10^10 points at 1 m.
    s.heat_network.nodes[0].pos = [99_000.0, 99_000.0];
    s.heat_network.nodes[1].pos = [-99_000.0, -99_000.0];
    assert!(grid_candidates(&s, 1.0) > 10_000_000_000);
    let used = grid_spacing_m(&s, 1.0);
    assert!(grid_candidates(&s, used) <= MAX_CANDIDATES);
    assert!(used > 600.0 && used < 700.0, "{used}");
    // Even without validation (1e300 m apart) the spacing widens and ends.
    s.heat_network.nodes[0].pos = [1e300, 1e300];
    let used = grid_spacing_m(&s, 50.0);
    assert!(grid_candidates(&s, used) <= MAX_CANDIDATES);
}

#[test]
fn a_site_asked_for_inside_a_building_is_moved_outside() {
    let s = riverside();
    let inside = |p: [f64; 2], poly: &[[f64; 2]]| {
        let mut c = false;
        for i in 0..poly.len() {
            let (a, b) = (poly[i], poly[(i + poly.len() - 1) % poly.len()]);
            if (a[1] > p[1]) != (b[1] > p[1])
                && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
            {
                c = !c;
            }
        }
        c
    };
    // The README's example lands inside b0122.
    assert!(
        s.buildings
            .iter()
            .any(|b| b.id == "b0122" && inside([0.0, 200.0], &b.footprint))
    );
    let e = qtwin::whatif::param::edit_for(&s, "sites.q4.pos", "0:200").unwrap();
    let d = e.describe();
    assert!(
        d.contains("asked for at (0, 200) m, which is inside building b0122: moved"),
        "{d}"
    );
    let mut t = s.clone();
    e.apply(&mut t).unwrap();
    let q4 = t.quantum_sites.iter().find(|q| q.id == "q4").unwrap();
    assert_ne!(q4.pos, [0.0, 200.0]);
    for b in &t.buildings {
        assert!(
            !inside(q4.pos, &b.footprint),
            "q4 at {:?} is inside {}",
            q4.pos,
            b.id
        );
        for c in &q4.footprint {
            assert!(
                !inside(*c, &b.footprint),
                "a corner of q4 is inside {}",
                b.id
            );
        }
    }
    let moved = ((q4.pos[0]).powi(2) + (q4.pos[1] - 200.0).powi(2)).sqrt();
    assert!(moved < 100.0, "moved {moved} m");
    assert!(validate(&t).is_ok());
    // A place that is free stays where it was asked for, with no note.
    let free =
        qtwin::whatif::param::edit_for(&s, "sites.q4.pos", &format!("{}:{}", q4.pos[0], q4.pos[1]))
            .unwrap();
    assert!(
        !free.describe().contains("asked for"),
        "{}",
        free.describe()
    );
    // The command line prints the move.
    let (code, msg) = cli(&[
        "edit",
        "scenes/riverside.ron",
        "--set",
        "sites.q4.pos=0:200",
    ]);
    assert_eq!(code, 0, "{msg}");
    assert!(msg.contains("inside building b0122"), "{msg}");
    // A non-finite place is refused.
    let (code, msg) = cli(&[
        "edit",
        "scenes/riverside.ron",
        "--set",
        "sites.q4.pos=NaN:200",
    ]);
    assert_eq!(code, 2, "{msg}");
}

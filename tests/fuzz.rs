//! Fuzzing kept in the repository and run by CI (issue 14): seeded property tests that mutate
//! the real scenes and generate hostile OpenQASM, and require every case to end in `Ok` or an
//! error — never a panic, an abort, a hang or a non-finite number in a report. Cases are drawn
//! from ChaCha8 streams (the crate's own RNG; a property-testing crate would change the features
//! of dependencies the simulation shares and rebuild them for tests), one seed per case, so a
//! failure names its seed and reproduces exactly.
//!
//! - **Scene text**: `scenes/riverside.ron`, `tests/scenes/single_pipe.ron` and the training
//!   scenarios and actions of `scenes/training/` with numbers replaced by NaN, ±inf, ±1e308, 0,
//!   −1, huge integers; ids swapped; lines dropped; the text cut and spliced. Each scene case is
//!   read ([`load_scene_str`]) and checked ([`validate`]); a valid one is run for a few ticks
//!   ([`Simulation`], the library entry point of `qtwin run`) in a fraction of the cases
//!   ([`RUN_ONE_IN`]) within a time budget, and its report must hold finite numbers only.
//! - **Scene structs**: riverside through a serde round trip (`serde_json::Value`), numeric fields
//!   perturbed to finite hostile values (non-finite values are the text fuzzer's: JSON has no
//!   NaN), then as above.
//! - **OpenQASM from its grammar** with hostile sizes (registers up to 10^15, deep expressions,
//!   doubling gate chains, huge shot counts) and **token soup**, through
//!   [`qasm::run_qasm`] with a small memory and work budget.
//!
//! Cases: `QTWIN_FUZZ_CASES` (default 11,000 in all) is split over the five properties in the
//! proportions below; e.g. `QTWIN_FUZZ_CASES=200000 cargo test --release --test fuzz` for a
//! longer run; `QTWIN_FUZZ_SEED` (default 14) picks other cases: case `i` of a property uses
//! seed `QTWIN_FUZZ_SEED × 2^32 + i`. A failure prints the property, the seed and the input
//! (copy it into tests/hostile.rs once fixed).

use std::cell::{Cell, RefCell};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use qtwin::ledger::report::Report;
use qtwin::quantum::qasm::{self, QasmLimits};
use qtwin::scene::{Scene, load_scene_str, validate};
use qtwin::sim::{RunOptions, Simulation};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One valid mutated scene in this many is run (a few ticks); the rest are read and checked.
const RUN_ONE_IN: u32 = 10;
/// Ticks of a run.
const RUN_TICKS: u64 = 3;
/// Longest a run of a few ticks may take before the case counts as a hang.
const RUN_BUDGET: Duration = Duration::from_secs(60);

/// Total cases, split over the properties (see the module doc).
fn total_cases() -> u32 {
    std::env::var("QTWIN_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(11_000)
}

fn cases(share_of_11000: u32) -> u32 {
    ((total_cases() as u64 * share_of_11000 as u64) / 11_000).max(1) as u32
}

fn base_seed() -> u64 {
    std::env::var("QTWIN_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(14)
}

/// Runs `n` cases of a property: case `i` gets its own RNG; a panic or an `Err` fails the test
/// with the case's seed and `Err`'s message (which carries the input).
fn run_cases(name: &str, n: u32, case: impl Fn(&mut ChaCha8Rng) -> Result<(), String>) {
    let mut failure = None;
    for i in 0..n {
        let seed = (base_seed() << 32) + i as u64;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&mut rng)));
        let msg = match r {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e,
            Err(p) => format!("panic: {}", panic_text(&p)),
        };
        failure = Some(format!("fuzz {name}: case {i} (seed {seed}) failed: {msg}"));
        break;
    }
    if let Some(f) = failure {
        panic!("{f}");
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

struct Seeds {
    scenes: Vec<(&'static str, String)>,
    scripts: Vec<(String, String)>,
    riverside: Scene,
}

fn seeds() -> &'static Seeds {
    static S: OnceLock<Seeds> = OnceLock::new();
    S.get_or_init(|| {
        let read = |p: &str| std::fs::read_to_string(p).unwrap();
        let scenes = vec![
            ("scenes/riverside.ron", read("scenes/riverside.ron")),
            (
                "tests/scenes/single_pipe.ron",
                read("tests/scenes/single_pipe.ron"),
            ),
        ];
        let mut scripts = Vec::new();
        let mut dir: Vec<_> = std::fs::read_dir("scenes/training")
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        dir.sort();
        for p in dir {
            scripts.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
        assert!(scripts.len() >= 8, "the training scenarios and actions");
        let riverside = load_scene_str(&scenes[0].1, "riverside").unwrap();
        Seeds {
            scenes,
            scripts,
            riverside,
        }
    })
}

// ---- text mutations -------------------------------------------------------------------------

const HOSTILE_NUMBERS: &[&str] = &[
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "0",
    "0.0",
    "-0.0",
    "-1",
    "-1.0",
    "1e-320",
    "4294967296",
    "18446744073709551615",
    "99999999999999999999999",
    "-9223372036854775808",
    "65536",
    "1e9",
];

#[derive(Debug, Clone)]
enum TextOp {
    /// Replace the k-th number (k taken modulo their count) by `HOSTILE_NUMBERS[v]`.
    Number(usize, usize),
    /// Swap the k-th and l-th quoted strings (ids, references).
    SwapStrings(usize, usize),
    /// Drop the k-th line (a field, an entry, a bracket).
    DropLine(usize),
    /// Cut the text at a fraction of its length.
    Cut(u16),
    /// Copy a slice (start, length fractions) to another place.
    Splice(u16, u16, u16),
}

fn text_op(rng: &mut ChaCha8Rng) -> TextOp {
    match rng.random_range(0..12) {
        0..6 => TextOp::Number(
            rng.random::<u32>() as usize,
            rng.random_range(0..HOSTILE_NUMBERS.len()),
        ),
        6..8 => TextOp::SwapStrings(rng.random::<u32>() as usize, rng.random::<u32>() as usize),
        8..10 => TextOp::DropLine(rng.random::<u32>() as usize),
        10 => TextOp::Cut(rng.random()),
        _ => TextOp::Splice(rng.random(), rng.random(), rng.random()),
    }
}

fn text_ops(rng: &mut ChaCha8Rng, max: usize) -> Vec<TextOp> {
    let n = rng.random_range(1..=max);
    (0..n).map(|_| text_op(rng)).collect()
}

/// Byte ranges of number tokens (ASCII digits with sign, dot and exponent) outside comments.
fn number_spans(t: &str) -> Vec<(usize, usize)> {
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            i += 1;
        } else if b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
        {
            let start = if i > 0 && b[i - 1] == b'-' { i - 1 } else { i };
            while i < b.len()
                && (b[i].is_ascii_digit() || matches!(b[i], b'.' | b'e' | b'E' | b'+' | b'-'))
            {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

fn string_spans(t: &str) -> Vec<(usize, usize)> {
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let s = i;
            i += 1;
            while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                i += 1;
            }
            if i < b.len() && b[i] == b'"' {
                out.push((s, i + 1));
            }
        }
        i += 1;
    }
    out
}

fn floor_boundary(t: &str, mut i: usize) -> usize {
    i = i.min(t.len());
    while !t.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(text: &str, ops: &[TextOp]) -> String {
    let mut t = text.to_string();
    for op in ops {
        match *op {
            TextOp::Number(k, v) => {
                let spans = number_spans(&t);
                if let Some(&(a, b)) = spans.get(k % spans.len().max(1)) {
                    t.replace_range(a..b, HOSTILE_NUMBERS[v]);
                }
            }
            TextOp::SwapStrings(k, l) => {
                let spans = string_spans(&t);
                if spans.len() >= 2 {
                    let (x, y) = (spans[k % spans.len()], spans[l % spans.len()]);
                    let (first, second) = if x.0 <= y.0 { (x, y) } else { (y, x) };
                    if first.1 <= second.0 {
                        let (s1, s2) = (
                            t[first.0..first.1].to_string(),
                            t[second.0..second.1].to_string(),
                        );
                        t.replace_range(second.0..second.1, &s1);
                        t.replace_range(first.0..first.1, &s2);
                    }
                }
            }
            TextOp::DropLine(k) => {
                let lines: Vec<&str> = t.lines().collect();
                if !lines.is_empty() {
                    let k = k % lines.len();
                    t = lines
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != k)
                        .map(|(_, l)| *l)
                        .collect::<Vec<_>>()
                        .join("\n");
                }
            }
            TextOp::Cut(f) => {
                let at = floor_boundary(&t, t.len() * f as usize / 65_536);
                t.truncate(at);
            }
            TextOp::Splice(a, l, to) => {
                let n = t.len();
                let s = floor_boundary(&t, n * a as usize / 65_536);
                let e = floor_boundary(&t, s + (n - s) * l as usize / 65_536 / 16);
                let to = floor_boundary(&t, n * to as usize / 65_536);
                let piece = t[s..e].to_string();
                t.insert_str(to, &piece);
            }
        }
    }
    t
}

// ---- running a scene ------------------------------------------------------------------------

/// Walks a report's JSON: a `null` is a non-finite number (a report has no optional field).
fn non_finite_paths(v: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Null => out.push(path.to_string()),
        serde_json::Value::Number(n) if n.as_f64().is_some_and(|x| !x.is_finite()) => {
            out.push(path.to_string());
        }
        serde_json::Value::Number(_) => {}
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                non_finite_paths(x, &format!("{path}[{i}]"), out);
            }
        }
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                non_finite_paths(x, &format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// Runs a valid scene for [`RUN_TICKS`] on a worker thread within [`RUN_BUDGET`]; the report's
/// numbers must all be finite. A panic in the run is caught and returned as an error message.
fn run_briefly(scene: Scene) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("fuzz-run".into())
        .spawn(move || {
            let r = std::panic::catch_unwind(move || {
                let mut sim = Simulation::new(&scene, &RunOptions::default())
                    .map_err(|e| format!("validated scene refused: {e}"))?;
                sim.run_ticks(RUN_TICKS);
                let v = serde_json::to_value(Report::from_sim(&sim)).unwrap();
                let mut bad = Vec::new();
                non_finite_paths(&v, "report", &mut bad);
                if bad.is_empty() {
                    Ok(())
                } else {
                    Err(format!("non-finite numbers in the report: {bad:?}"))
                }
            });
            let _ =
                tx.send(r.unwrap_or_else(|p| Err(format!("panic in the run: {}", panic_text(&p)))));
        })
        .unwrap();
    match rx.recv_timeout(RUN_BUDGET) {
        Ok(r) => r,
        Err(_) => Err(format!(
            "a run of {RUN_TICKS} ticks took more than {RUN_BUDGET:?}"
        )),
    }
}

/// What a scene case did, for the statistics printed at the end.
#[derive(Default, Debug)]
struct Tally {
    parse_errors: u64,
    invalid: u64,
    valid: u64,
    runs: u64,
}

fn check_scene(s: Scene, run: bool, tally: &RefCell<Tally>) -> Result<(), String> {
    match validate(&s) {
        Err(issues) => {
            if issues.is_empty() {
                return Err("validate gave Err with no issue".into());
            }
            tally.borrow_mut().invalid += 1;
        }
        Ok(()) => {
            tally.borrow_mut().valid += 1;
            if run {
                tally.borrow_mut().runs += 1;
                run_briefly(s)?;
            }
        }
    }
    Ok(())
}

fn report(name: &str, n: u32, t0: Instant, tally: Option<&Tally>) {
    eprintln!(
        "fuzz {name}: {n} cases in {:.1} s, 0 panics{}",
        t0.elapsed().as_secs_f64(),
        tally.map_or(String::new(), |t| format!(
            " ({} parse errors, {} invalid, {} valid, {} run {RUN_TICKS} ticks)",
            t.parse_errors, t.invalid, t.valid, t.runs
        ))
    );
}

#[test]
fn fuzz_scene_text() {
    let n = cases(3_500);
    let t0 = Instant::now();
    let tally = RefCell::new(Tally::default());
    run_cases("scene text", n, |rng| {
        let (name, text) = &seeds().scenes[rng.random_range(0..2)];
        let ops = text_ops(rng, 4);
        let run = rng.random_range(0..RUN_ONE_IN) == 0;
        let mutated = mutate(text, &ops);
        match load_scene_str(&mutated, name) {
            Err(e) => {
                if e.to_string().is_empty() {
                    return Err(format!("an empty error for {name} with {ops:?}"));
                }
                tally.borrow_mut().parse_errors += 1;
                Ok(())
            }
            Ok(s) => check_scene(s, run, &tally).map_err(|e| format!("{name} with {ops:?}: {e}")),
        }
    });
    let tally = tally.into_inner();
    report("scene text", n, t0, Some(&tally));
    assert!(
        tally.valid > 0 && tally.invalid > 0 && tally.parse_errors > 0,
        "{tally:?}"
    );
}

#[test]
fn fuzz_training_scripts_text() {
    use qtwin::training::{Scenario, ScheduledAction, check_scenario, scenario_scene};
    let n = cases(1_000);
    let t0 = Instant::now();
    let nscripts = seeds().scripts.len();
    run_cases("training scripts", n, |rng| {
        let (name, text) = &seeds().scripts[rng.random_range(0..nscripts)];
        let mutated = mutate(text, &text_ops(rng, 3));
        if name.ends_with(".actions.ron") {
            let _ = ron::from_str::<Vec<ScheduledAction>>(&mutated);
        } else if let Ok(sc) = ron::from_str::<Scenario>(&mutated) {
            let scene = scenario_scene(&sc, seeds().riverside.clone());
            let _ = check_scenario(&sc);
            let _ = qtwin::faults::check_failures(&scene, &sc.failures);
            let _ = validate(&scene);
        }
        Ok(())
    });
    report("training scripts", n, t0, None);
}

/// Finite hostile values for the struct-level fuzzer.
const HOSTILE_FINITE: &[f64] = &[
    0.0,
    -0.0,
    -1.0,
    1e308,
    -1e308,
    1e-308,
    4294967296.0,
    1e12,
    -1e12,
    0.5,
];

fn numeric_paths(v: &serde_json::Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        serde_json::Value::Number(_) => out.push(path.clone()),
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(i.to_string());
                numeric_paths(x, path, out);
                path.pop();
            }
        }
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                path.push(k.clone());
                numeric_paths(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at_path<'a>(v: &'a mut serde_json::Value, path: &[String]) -> &'a mut serde_json::Value {
    path.iter().fold(v, |v, k| match v {
        serde_json::Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
        serde_json::Value::Object(o) => o.get_mut(k).unwrap(),
        _ => unreachable!("a path leads through arrays and objects"),
    })
}

#[test]
fn fuzz_scene_struct() {
    let n = cases(2_000);
    let t0 = Instant::now();
    let base = serde_json::to_value(&seeds().riverside).unwrap();
    let mut paths = Vec::new();
    numeric_paths(&base, &mut Vec::new(), &mut paths);
    assert!(paths.len() > 1000, "{} numeric fields", paths.len());
    let tally = RefCell::new(Tally::default());
    run_cases("scene struct", n, |rng| {
        let pokes: Vec<(usize, usize)> = (0..rng.random_range(1..4))
            .map(|_| {
                (
                    rng.random_range(0..paths.len()),
                    rng.random_range(0..HOSTILE_FINITE.len()),
                )
            })
            .collect();
        let run = rng.random_range(0..RUN_ONE_IN) == 0;
        let mut v = base.clone();
        for (p, h) in &pokes {
            *at_path(&mut v, &paths[*p]) = serde_json::json!(HOSTILE_FINITE[*h]);
        }
        match serde_json::from_value::<Scene>(v) {
            // An integer field given a float, or a u8 given 1e308.
            Err(_) => {
                tally.borrow_mut().parse_errors += 1;
                Ok(())
            }
            Ok(s) => check_scene(s, run, &tally).map_err(|e| {
                let at: Vec<String> = pokes
                    .iter()
                    .map(|(p, h)| format!("{} = {}", paths[*p].join("."), HOSTILE_FINITE[*h]))
                    .collect();
                format!("{at:?}: {e}")
            }),
        }
    });
    let tally = tally.into_inner();
    report("scene struct", n, t0, Some(&tally));
    assert!(tally.valid > 0 && tally.invalid > 0, "{tally:?}");
}

// ---- OpenQASM ---------------------------------------------------------------------------------

/// The budget of a fuzzed run: 256 KiB (13 qubits), 5,000 operations, 10^7 amplitude updates.
fn fuzz_limits() -> QasmLimits {
    QasmLimits {
        max_memory_bytes: 256 << 10,
        max_ops: 5_000,
        max_work: 10_000_000,
        ..Default::default()
    }
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

fn register_size(rng: &mut ChaCha8Rng) -> u64 {
    match rng.random_range(0..40) {
        0..34 => 6,
        34 => 13,
        35 => 30,
        36 => 64,
        37 => 1_000_000,
        38 => 999_999_999_999_999,
        _ => u64::MAX,
    }
}

/// A parameter expression from the grammar, up to `depth` levels, sometimes absurdly deep.
fn expr(rng: &mut ChaCha8Rng, depth: u32) -> String {
    let leaf = |rng: &mut ChaCha8Rng| match rng.random_range(0..5) {
        0 => "pi".to_string(),
        1 => "t".to_string(),
        2 => format!("{}", rng.random_range(-1e3..1e3)),
        3 => "1e308".to_string(),
        _ => "0".to_string(),
    };
    if depth == 0 {
        return leaf(rng);
    }
    match rng.random_range(0..12) {
        0..3 => leaf(rng),
        3 => {
            let (a, b) = (expr(rng, depth - 1), expr(rng, depth - 1));
            format!("{a}{}{b}", pick(rng, &["+", "-", "*", "/", "^"]))
        }
        4 => format!("-({})", expr(rng, depth - 1)),
        5 => format!(
            "{}({})",
            pick(rng, &["sin", "cos", "tan", "exp", "ln", "sqrt"]),
            expr(rng, depth - 1)
        ),
        6 => {
            let k = rng.random_range(1..300);
            format!("{}1{}", "(".repeat(k), ")".repeat(k))
        }
        _ => format!("{}1", "-".repeat(rng.random_range(1..300))),
    }
}

fn statement(rng: &mut ChaCha8Rng) -> String {
    let q = |rng: &mut ChaCha8Rng| format!("q[{}]", rng.random_range(0..6));
    match rng.random_range(0..15) {
        0..3 => {
            let g = pick(rng, &["h", "x", "y", "z", "s", "t", "sdg", "tdg", "id"]);
            format!("{g} {};", q(rng))
        }
        3..5 => {
            let g = pick(rng, &["rx", "ry", "rz", "u1", "p"]);
            format!("{g}({}) {};", expr(rng, 2).replace('t', "1"), q(rng))
        }
        5..7 => {
            let g = pick(rng, &["cx", "cz", "swap"]);
            format!("{g} {},{};", q(rng), q(rng))
        }
        7 => "h q;".to_string(),
        8 => "cx q, r;".to_string(),
        9 => format!("measure {} -> c[{}];", q(rng), rng.random_range(0..6)),
        10 => "measure q -> c;".to_string(),
        11 => format!("reset {};", q(rng)),
        12 => format!("barrier {}q;", "q, ".repeat(rng.random_range(1..50))),
        13 => format!("g{} q[0], q[1];", rng.random_range(0..8)),
        _ => format!(
            "d{}({}) q[0];",
            rng.random_range(0..8),
            expr(rng, 3).replace('t', "2")
        ),
    }
}

/// A program from the grammar with hostile sizes, its shots and noise profile.
fn program(rng: &mut ChaCha8Rng) -> (String, u64, &'static str) {
    let (nq, nr, nc) = (register_size(rng), register_size(rng), register_size(rng));
    let chain = if rng.random_bool(0.8) {
        rng.random_range(0..6)
    } else {
        rng.random_range(0..70)
    };
    let mut s = String::from("OPENQASM 2.0;\ninclude \"qelib1.inc\";\n");
    s += &format!("qreg q[{nq}];\nqreg r[{nr}];\ncreg c[{nc}];\n");
    // A chain of gates each calling the previous twice (2^k operations at g_k).
    s += "gate g0 a, b { cx a, b; }\n";
    for k in 1..chain {
        s += &format!("gate g{k} a, b {{ g{} a, b; g{} b, a; }}\n", k - 1, k - 1);
    }
    s += &format!("gate d0(t) a {{ rx({}) a; }}\n", expr(rng, 3));
    for k in 1..chain {
        s += &format!(
            "gate d{k}(t) a {{ d{}(t*2) a; d{}(-t) a; }}\n",
            k - 1,
            k - 1
        );
    }
    for _ in 0..rng.random_range(0..25) {
        s += &statement(rng);
        s.push('\n');
    }
    let shots = match rng.random_range(0..12) {
        0..10 => rng.random_range(0..64),
        10 => 100_000_000,
        _ => u64::MAX,
    };
    let noise = *pick(rng, &["ideal", "ideal", "default", "warm", "tepid"]);
    (s, shots, noise)
}

#[test]
fn fuzz_qasm_grammar() {
    let n = cases(3_000);
    let t0 = Instant::now();
    let limits = fuzz_limits();
    let (ok, errors) = (Cell::new(0u64), Cell::new(0u64));
    run_cases("qasm grammar", n, |rng| {
        let (src, shots, noise) = program(rng);
        let r = std::panic::catch_unwind(|| qasm::run_qasm(&src, shots, 7, noise, true, &limits));
        let fail = |m: String| {
            Err(format!(
                "{m}\n--- shots {shots}, noise {noise}, program:\n{src}"
            ))
        };
        match r {
            Err(p) => fail(format!("panic: {}", panic_text(&p))),
            Ok(Ok(run)) => {
                ok.set(ok.get() + 1);
                if run.statevector.num_qubits() > limits.max_qubits()
                    || !run
                        .statevector
                        .amplitudes()
                        .iter()
                        .all(|a| a.re.is_finite() && a.im.is_finite())
                {
                    return fail("too many qubits or a non-finite amplitude".into());
                }
                Ok(())
            }
            Ok(Err(e)) => {
                errors.set(errors.get() + 1);
                if e.msg.is_empty() {
                    return fail("an empty error".into());
                }
                Ok(())
            }
        }
    });
    eprintln!(
        "fuzz qasm grammar: {n} cases in {:.1} s, 0 panics ({} ran, {} errors)",
        t0.elapsed().as_secs_f64(),
        ok.get(),
        errors.get()
    );
    assert!(ok.get() > 0 && errors.get() > 0);
}

#[test]
fn fuzz_qasm_tokens() {
    let n = cases(1_500);
    let t0 = Instant::now();
    let limits = fuzz_limits();
    const TOKENS: &[&str] = &[
        "OPENQASM",
        "2.0",
        ";",
        "include",
        "\"qelib1.inc\"",
        "qreg",
        "creg",
        "q",
        "c",
        "[",
        "]",
        "3",
        "99999999999999999999",
        "(",
        ")",
        "{",
        "}",
        ",",
        "->",
        "gate",
        "measure",
        "reset",
        "barrier",
        "h",
        "cx",
        "rx",
        "u3",
        "pi",
        "+",
        "-",
        "*",
        "/",
        "^",
        "sin",
        "1e400",
        ".5",
        "/*",
        "*/",
        "//",
        "\n",
        " ",
        "é",
        "\"",
        "if",
        "opaque",
        "==",
    ];
    run_cases("qasm tokens", n, |rng| {
        let len = rng.random_range(0..200);
        let src: Vec<&str> = (0..len).map(|_| *pick(rng, TOKENS)).collect();
        let src = src.join(" ");
        match std::panic::catch_unwind(|| qasm::run_qasm(&src, 8, 1, "ideal", true, &limits)) {
            Ok(_) => Ok(()),
            Err(p) => Err(format!("panic: {}\n--- program:\n{src}", panic_text(&p))),
        }
    });
    eprintln!(
        "fuzz qasm tokens: {n} cases in {:.1} s, 0 panics",
        t0.elapsed().as_secs_f64()
    );
}

//! The `qtwin` command line: `check`, `run`, `train`, `generate`, `bench`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use crate::ledger::Ledger;
use crate::ledger::report::{Report, state_json, write_timeseries_csv};
use crate::scene::{self, Scene, SceneError, load_scene, validate};
use crate::sim::{RunOptions, Simulation};

#[derive(Parser, Debug)]
#[command(
    name = "qtwin",
    version,
    about = "A digital twin of a city warmed by its micro quantum data centres"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate a scene: parse errors with file:line:column, then every semantic error (exit 2).
    Check { scene: PathBuf },
    /// Run a scene headless and report.
    Run(RunArgs),
    /// Run a training scenario headless with a scripted trainee and write the score.
    Train {
        /// Scenario (RON, e.g. scenes/training/pump_trip_winter.ron).
        scenario: PathBuf,
        /// The scripted trainee: operator actions at session times (RON); none: no response.
        #[arg(long)]
        actions: Option<PathBuf>,
        /// Write the training report (score, metrics, session log) as JSON.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Write a snapshot file of the session's end state.
        #[arg(long)]
        snapshot: Option<PathBuf>,
    },
    /// Write a generated city.
    Generate {
        #[arg(long, default_value_t = 1000)]
        buildings: usize,
        #[arg(long, default_value_t = 3)]
        sites: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Open a scene in the 3D view (needs the `view` feature, on by default).
    #[cfg(feature = "view")]
    View {
        /// Scene to open (default: scenes/riverside.ron).
        scene: Option<PathBuf>,
        /// Render, save a PNG and exit.
        #[arg(long)]
        screenshot: Option<PathBuf>,
        /// Window size, WIDTHxHEIGHT.
        #[arg(long, default_value = "1280x720")]
        size: String,
        /// Simulated ticks to run before the first frame.
        #[arg(long, default_value_t = 0)]
        after_ticks: u64,
        /// Map layer: supply, demand, quantum, unmet, feeders, carbon, jobs.
        #[arg(long)]
        layer: Option<String>,
    },
    /// Run an OpenQASM 2.0 circuit on the statevector simulator and print its counts.
    Qasm {
        file: PathBuf,
        #[arg(long, default_value_t = 1024)]
        shots: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Noise profile: ideal, default (a 12 mK device of today), warm (150 mK mixing chamber).
        #[arg(long, default_value = "ideal")]
        noise: String,
        /// Write the noiseless final statevector as JSON (Qiskit index order).
        #[arg(long)]
        statevector: Option<PathBuf>,
        /// Apply every gate on its own (for comparisons).
        #[arg(long)]
        no_fusion: bool,
    },
    /// Measure simulated ticks per second (riverside and a generated city); `bench render`
    /// times the 3D view rendered offscreen.
    Bench {
        #[command(subcommand)]
        what: Option<BenchWhat>,
        /// Scene to time (default: scenes/riverside.ron).
        #[arg(long)]
        scene: Option<PathBuf>,
        /// Also time a generated city of this many buildings (0 = skip).
        #[arg(long, default_value_t = 10_000)]
        generated_buildings: usize,
        /// Simulated days per timing.
        #[arg(long, default_value_t = 2.0)]
        days: f64,
        #[arg(long)]
        threads: Option<usize>,
    },
}

#[derive(Subcommand, Debug)]
pub enum BenchWhat {
    /// Frame times of the 3D view rendered offscreen (no window, no display).
    Render {
        /// Scene (default scenes/riverside.ron); `generated:N` for a generated city of N buildings.
        scene: Option<String>,
        #[arg(long, default_value = "1280x720")]
        size: String,
        #[arg(long, default_value_t = 120)]
        frames: usize,
        #[arg(long, default_value_t = 30)]
        warmup: usize,
    },
}

#[derive(Args, Debug)]
pub struct RunArgs {
    pub scene: PathBuf,
    /// Simulated days (default 7).
    #[arg(long, conflicts_with = "hours")]
    pub days: Option<f64>,
    /// Simulated hours.
    #[arg(long)]
    pub hours: Option<f64>,
    /// Tick length, s (default: the scene's, 60 s).
    #[arg(long)]
    pub tick: Option<f64>,
    /// Seed (default: the scene's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Rayon threads (results do not depend on it).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Write the report as JSON.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Write one CSV row per tick.
    #[arg(long)]
    pub timeseries: Option<PathBuf>,
    /// Write the final state by id as JSON.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// No progress bar or table.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    // `qtwin` alone opens the demo in the view (when built with it).
    #[cfg(feature = "view")]
    if std::env::args().len() == 1 {
        let exit = crate::view::run_view(crate::view::ViewOptions {
            scene: PathBuf::from("scenes/riverside.ron"),
            screenshot: None,
            size: (1600, 900),
            after_ticks: 0,
            layer: None,
        });
        return if exit.is_success() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
    }
    let cli = Cli::parse();
    match run_cli(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn set_threads(n: Option<usize>) {
    if let Some(n) = n {
        // Fails only if a pool exists already; then it is kept.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
}

/// Loads and validates a scene; on failure prints every problem and returns exit code 2.
pub fn load_checked(path: &Path) -> Result<Scene, (ExitCode, String)> {
    let scene = load_scene(path).map_err(|e| (ExitCode::from(2), e.to_string()))?;
    validate(&scene).map_err(|issues| {
        (
            ExitCode::from(2),
            format!("{}: {}", path.display(), SceneError::Invalid(issues)),
        )
    })?;
    Ok(scene)
}

fn run_cli(cli: Cli) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match cli.command {
        Command::Train {
            scenario,
            actions,
            report,
            snapshot,
        } => {
            let (sc, scene) = match crate::training::load_scenario(&scenario) {
                Ok(x) => x,
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let acts = match &actions {
                Some(p) => match crate::training::load_actions(p) {
                    Ok(a) => a,
                    Err(e) => {
                        eprintln!("{e}");
                        return Ok(ExitCode::from(2));
                    }
                },
                None => Vec::new(),
            };
            let mut sim = crate::training::start_session(&sc, &scene)?;
            crate::training::run_until(&mut sim, &acts, f64::INFINITY);
            let r = crate::training::TrainingReport::from_sim(&sim);
            let m = &r.metrics;
            println!("{}: score {:.1}", r.scenario, r.score);
            println!(
                "  out of limits {:.1} min, unmet {:.0} kWh, jobs missed {} (aborted {}), mean response {:.0} s, restore {}, hints {}, alarms {} ({} floods), actions {}",
                m.minutes_out_of_limits,
                m.unmet_heat_kwh,
                m.jobs_missed,
                m.jobs_aborted,
                m.mean_response_s,
                m.restore_time_s.map_or("never".to_string(), |t| format!("{t:.0} s")),
                m.hints_used,
                m.alarms_raised,
                m.floods,
                m.actions
            );
            println!("  penalties {:?}", r.penalties);
            if let Some(p) = report {
                std::fs::write(&p, r.to_json())?;
            }
            if let Some(p) = snapshot {
                std::fs::write(&p, crate::snapshot::SnapshotFile::from_sim(&sim).to_json())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { scene } => match load_checked(&scene) {
            Ok(s) => {
                println!(
                    "{}: ok — \"{}\": {} buildings, {} nodes, {} pipes, {} plants, {} quantum sites",
                    scene.display(),
                    s.name,
                    s.buildings.len(),
                    s.heat_network.nodes.len(),
                    s.heat_network.pipes.len(),
                    s.plants.len(),
                    s.quantum_sites.len()
                );
                Ok(ExitCode::SUCCESS)
            }
            Err((code, msg)) => {
                eprintln!("{msg}");
                Ok(code)
            }
        },
        Command::Run(args) => run_command(args),
        #[cfg(feature = "view")]
        Command::View {
            scene,
            screenshot,
            size,
            after_ticks,
            layer,
        } => {
            let size =
                parse_size(&size).ok_or_else(|| format!("--size {size}: expected WIDTHxHEIGHT"))?;
            let layer = match layer.as_deref() {
                None => None,
                Some(l) => {
                    Some(parse_layer(l).ok_or_else(|| format!("--layer {l}: unknown layer"))?)
                }
            };
            let exit = crate::view::run_view(crate::view::ViewOptions {
                scene: scene.unwrap_or_else(|| PathBuf::from("scenes/riverside.ron")),
                screenshot,
                size,
                after_ticks,
                layer,
            });
            Ok(if exit.is_success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Qasm {
            file,
            shots,
            seed,
            noise,
            statevector,
            no_fusion,
        } => {
            let src =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            match crate::quantum::qasm::run_qasm_cli(&src, shots, seed, &noise, !no_fusion) {
                Ok(run) => {
                    print!("{}", run.format_counts());
                    if let Some(p) = statevector {
                        let f = std::io::BufWriter::new(std::fs::File::create(&p)?);
                        crate::quantum::qasm::write_statevector_json(&run.statevector, f)?;
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{}: {e}", file.display());
                    Ok(ExitCode::from(2))
                }
            }
        }
        Command::Generate {
            buildings,
            sites,
            seed,
            out,
        } => {
            let t = Instant::now();
            let s = scene::generate::generate_city(&scene::generate::GenerateOptions {
                buildings,
                sites,
                seed,
            });
            std::fs::write(&out, scene::to_ron(&s))?;
            println!(
                "{}: {} buildings, {} nodes, {} pipes, {} quantum sites ({:.2} s)",
                out.display(),
                s.buildings.len(),
                s.heat_network.nodes.len(),
                s.heat_network.pipes.len(),
                s.quantum_sites.len(),
                t.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            what,
            scene,
            generated_buildings,
            days,
            threads,
        } => {
            #[cfg(feature = "view")]
            if let Some(BenchWhat::Render {
                scene,
                size,
                frames,
                warmup,
            }) = what
            {
                let size = parse_size(&size)
                    .ok_or_else(|| format!("--size {size}: expected WIDTHxHEIGHT"))?;
                let (name, s) = match scene.as_deref() {
                    Some(g) if g.starts_with("generated:") => {
                        let n: usize = g["generated:".len()..]
                            .parse()
                            .map_err(|_| format!("{g}: expected generated:N"))?;
                        let s = scene::generate::generate_city(&scene::generate::GenerateOptions {
                            buildings: n,
                            sites: 5,
                            seed: 1,
                        });
                        (g.to_string(), s)
                    }
                    other => {
                        let p = PathBuf::from(other.unwrap_or("scenes/riverside.ron"));
                        match load_checked(&p) {
                            Ok(s) => (p.display().to_string(), s),
                            Err((code, msg)) => {
                                eprintln!("{msg}");
                                return Ok(code);
                            }
                        }
                    }
                };
                let st = crate::view::bench::bench_render(&s, size.0, size.1, warmup, frames);
                println!(
                    "{name}: {} buildings, {}x{}, {} frames: median {:.2} ms, p95 {:.2} ms, mean {:.2} ms ({:.0} fps) on {}",
                    s.buildings.len(),
                    size.0,
                    size.1,
                    st.frames,
                    st.median_ms,
                    st.p95_ms,
                    st.mean_ms,
                    1e3 / st.median_ms.max(1e-9),
                    st.adapter
                );
                return Ok(ExitCode::SUCCESS);
            }
            #[cfg(not(feature = "view"))]
            if what.is_some() {
                eprintln!("this qtwin was built without the `view` feature");
                return Ok(ExitCode::from(2));
            }
            set_threads(threads);
            let path = scene.unwrap_or_else(|| PathBuf::from("scenes/riverside.ron"));
            let s = match load_checked(&path) {
                Ok(s) => s,
                Err((code, msg)) => {
                    eprintln!("{msg}");
                    return Ok(code);
                }
            };
            println!("{}", bench_line(&s.name, &s, days));
            if generated_buildings > 0 {
                let g = scene::generate::generate_city(&scene::generate::GenerateOptions {
                    buildings: generated_buildings,
                    sites: 5,
                    seed: 1,
                });
                println!(
                    "{}",
                    bench_line(&format!("generated {generated_buildings}"), &g, days)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(feature = "view")]
fn parse_size(s: &str) -> Option<(u32, u32)> {
    let (w, h) = s.split_once(['x', 'X'])?;
    Some((w.trim().parse().ok()?, h.trim().parse().ok()?))
}

#[cfg(feature = "view")]
fn parse_layer(s: &str) -> Option<crate::view::world3d::Layer> {
    use crate::view::world3d::Layer;
    Some(match s {
        "supply" => Layer::SupplyTemperature,
        "demand" => Layer::HeatDemand,
        "quantum" => Layer::QuantumHeatShare,
        "unmet" => Layer::UnmetHeat,
        "feeders" => Layer::FeederLoading,
        "carbon" => Layer::Carbon,
        "jobs" => Layer::JobLoad,
        _ => return None,
    })
}

/// Times a whole run (world build included) and formats the result.
pub fn bench_line(name: &str, s: &Scene, days: f64) -> String {
    let r = bench_scene(s, days);
    format!(
        "{name:<20} {:>6} buildings {:>6} pipes {:>4} loops ({:.1} Newton it./tick, {:.1} parcels/pipe)  {:>7} ticks in {:>7.3} s  = {:>9.0} ticks/s  (build {:.3} s)",
        s.buildings.len(),
        s.heat_network.pipes.len(),
        r.loops,
        r.newton_per_tick,
        r.parcels_per_pipe,
        r.ticks,
        r.run_s,
        r.ticks as f64 / r.run_s,
        r.build_s
    )
}

/// Result of a timing.
pub struct BenchResult {
    pub ticks: u64,
    pub build_s: f64,
    pub run_s: f64,
    pub loops: usize,
    pub newton_per_tick: f64,
    pub parcels_per_pipe: f64,
}

pub fn bench_scene(s: &Scene, days: f64) -> BenchResult {
    let t0 = Instant::now();
    let mut sim = Simulation::new_unchecked(s, &RunOptions::default());
    let build_s = t0.elapsed().as_secs_f64();
    let ticks = (days * 86_400.0 / sim.clock().tick_s).round() as u64;
    let t1 = Instant::now();
    sim.run_ticks(ticks);
    let run_s = t1.elapsed().as_secs_f64();
    BenchResult {
        ticks,
        build_s,
        run_s,
        loops: sim.res::<crate::hydraulics::Network>().loops.len(),
        newton_per_tick: sim
            .res::<crate::hydraulics::HydraulicState>()
            .iterations_total as f64
            / ticks.max(1) as f64,
        parcels_per_pipe: {
            let th = sim.res::<crate::thermal::ThermalState>();
            let n = th.supply.len() + th.ret.len();
            th.supply
                .iter()
                .chain(&th.ret)
                .map(|p| p.len())
                .sum::<usize>() as f64
                / n.max(1) as f64
        },
    }
}

fn run_command(args: RunArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    set_threads(args.threads);
    let scene = match load_checked(&args.scene) {
        Ok(s) => s,
        Err((code, msg)) => {
            eprintln!("{msg}");
            return Ok(code);
        }
    };
    let opts = RunOptions {
        seed: args.seed,
        tick_s: args.tick,
        ..Default::default()
    };
    if let Some(t) = args.tick
        && !(0.1..=3600.0).contains(&t)
    {
        eprintln!("--tick {t} is outside [0.1, 3600] s");
        return Ok(ExitCode::from(2));
    }
    let mut sim = Simulation::new(&scene, &opts)?;
    if args.timeseries.is_some() {
        sim.res_mut::<Ledger>().record_series();
    }
    let seconds = match (args.days, args.hours) {
        (_, Some(h)) => h * 3600.0,
        (Some(d), None) => d * 86_400.0,
        (None, None) => 7.0 * 86_400.0,
    };
    let ticks = (seconds / sim.clock().tick_s).round().max(0.0) as u64;
    let bar = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(ticks);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:40}] {pos}/{len} ticks  {per_sec}  eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        b
    };
    let t0 = Instant::now();
    let chunk = (ticks / 200).max(1);
    let mut done = 0;
    while done < ticks {
        let n = chunk.min(ticks - done);
        sim.run_ticks(n);
        done += n;
        bar.set_position(done);
    }
    bar.finish_and_clear();
    let wall = t0.elapsed().as_secs_f64();
    let report = Report::from_sim(&sim);
    if !args.quiet {
        print!("{}", report.summary_table());
        println!(
            "  ({:.2} s wall, {:.0} ticks/s)",
            wall,
            if wall > 0.0 { ticks as f64 / wall } else { 0.0 }
        );
    }
    if let Some(p) = &args.report {
        std::fs::write(p, report.to_json())?;
    }
    if let Some(p) = &args.state {
        std::fs::write(p, serde_json::to_string_pretty(&state_json(&sim))? + "\n")?;
    }
    if let Some(p) = &args.timeseries {
        let f = std::fs::File::create(p)?;
        write_timeseries_csv(sim.res::<Ledger>(), std::io::BufWriter::new(f))?;
    }
    Ok(ExitCode::SUCCESS)
}

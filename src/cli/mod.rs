//! The `qtwin` command line: `check`, `run`, `train`, `generate`, `bench`, the what-if commands
//! `edit`, `compare`, `sweep`, `suggest` (see [`crate::whatif`]), `proposal encode`/`decode` for
//! proposal links (see [`crate::whatif::proposal`]), and `import`/`export` for real district data
//! and GIS (see [`crate::import`]).
//!
//! # Limits on the arguments
//! Every number given on the command line is checked before anything runs; a value outside its
//! range ends with a message naming the flag and exit code 2:
//!
//! | argument | accepted |
//! | --- | --- |
//! | `--days`, `--hours` | finite, positive, at least one tick, at most [`MAX_RUN_TICKS`] (10,000,000) ticks |
//! | `--tick` | 0.1–3600 s |
//! | `--threads` | 1–[`MAX_THREADS`] (1024) |
//! | `generate --buildings`, `bench --generated-buildings` | at most [`MAX_GENERATED_BUILDINGS`] (1,000,000); `--sites` at most 1000 |
//! | `view --after-ticks` | at most [`MAX_RUN_TICKS`] |
//! | `suggest --spacing` | finite, ≥ 1 m; a grid of more than 100,000 candidates is laid coarser and the spacing used is printed ([`crate::whatif::siting::grid_spacing_m`]) |
//! | `suggest --top` | at most 100 |
//! | `qasm --shots`, `--max-memory` | see [`crate::quantum::qasm`] (default 2 GiB) |
//!
//! Files are read with a size limit ([`crate::limits`]).

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
        /// Map layer: supply, demand, quantum, unmet, indoor, feeders, carbon, jobs, links.
        #[arg(long)]
        layer: Option<String>,
        /// Start the guided tour (loops until any input).
        #[arg(long)]
        demo: bool,
        /// Train on a scenario (scenes/training/*.ron): alarms, actions, instructor, debrief.
        #[arg(long)]
        train: Option<PathBuf>,
        /// A what-if edit applied live at the start (repeatable), e.g. `--set sites.q4.pos=0:200`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// Open the KPI panel for residents: what a household would notice, in plain words.
        #[arg(long)]
        plain: bool,
        /// Language of the panels, the tour and the residents' panel: en or de.
        #[arg(long, default_value = "en")]
        lang: String,
        /// The embeddable page: no panels or tool buttons; the guided tour, or with --camera or
        /// --layer that fixed view and one large number.
        #[arg(long)]
        embed: bool,
        /// Open looking at X,Y (scene metres) from DISTANCE metres: `--camera 120,-40,600`.
        #[arg(long, value_name = "X,Y[,DISTANCE]")]
        camera: Option<String>,
        /// Run ahead to this day of the year first (fractions for the time of day: 15.5).
        #[arg(long, value_name = "DAY")]
        at: Option<String>,
        /// A proposal link (`qtwin proposal encode`, the page's Share button): its edits applied
        /// live at the start (after any --set) and the comparison with the baseline started.
        #[arg(long, value_name = "LINK")]
        proposal: Option<String>,
    },
    /// Edit a scene with parameter paths (`--set PATH=VALUE`, see the README) and save it with
    /// its edit history; `--undo N` undoes the last N edits of a saved scene.
    Edit {
        scene: PathBuf,
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// Undo this many of the scene's saved edits (before any --set).
        #[arg(long, default_value_t = 0)]
        undo: usize,
        /// Write the edited scene (with its `edits` list) here.
        #[arg(long)]
        save_as: Option<PathBuf>,
    },
    /// Proposal links: what-if edits as a short code in a link (`…#p=CODE`) that opens them on
    /// the same scene, in the view (`qtwin view --proposal`) or the browser page.
    Proposal {
        #[command(subcommand)]
        what: ProposalWhat,
    },
    /// Run two scenes over the same period and weather; both reports and the KPIs' differences.
    Compare {
        base: PathBuf,
        variant: PathBuf,
        #[arg(long, default_value_t = 7.0)]
        days: f64,
        /// Seed of both runs (default: the base scene's).
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Run a grid of variants in parallel, one CSV row per variant.
    Sweep {
        scene: PathBuf,
        /// PATH=V1,V2,... (repeat for a grid; the first varies slowest).
        #[arg(long = "param", value_name = "PATH=V1,V2,...", required = true)]
        params: Vec<String>,
        #[arg(long, default_value_t = 7.0)]
        days: f64,
        #[arg(long)]
        seed: Option<u64>,
        /// Run only slice i (0-based) of N: `--shard i/N`.
        #[arg(long)]
        shard: Option<String>,
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, short)]
        quiet: bool,
    },
    /// Score places for a new micro quantum site and simulate the best few.
    Suggest {
        scene: PathBuf,
        #[arg(long, default_value_t = 3)]
        top: usize,
        #[arg(long, default_value_t = 2.0)]
        days: f64,
        /// Grid spacing of the candidates, m.
        #[arg(long, default_value_t = 50.0)]
        spacing: f64,
        /// Write the suitability layer and the suggestions as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
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
        /// Memory the run may use (state vectors, shots, counts, operations), e.g. 512MiB, 8GiB;
        /// the default 2 GiB allows 26 qubits.
        #[arg(long, default_value = "2GiB")]
        max_memory: String,
    },
    /// Import real district data (OpenStreetMap XML/PBF, GeoJSON, CityJSON) and lay out its heat
    /// network along the streets, its plant, quantum sites and grid (exit 2 on bad input).
    Import(ImportArgs),
    /// Export a georeferenced scene (and a run's state/report) as GeoJSON layers in WGS84 and CSV.
    Export {
        scene: PathBuf,
        /// A run's final state (`qtwin run --state`): per-object results joined by id.
        #[arg(long)]
        state: Option<PathBuf>,
        /// A run report (`qtwin run --report`) or comparison (`qtwin compare --report`): KPIs.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Folder for buildings/pipes/nodes/plants/sites `.geojson`.
        #[arg(long)]
        geojson: PathBuf,
        /// Folder for the same tables as CSV keyed by id.
        #[arg(long)]
        csv: Option<PathBuf>,
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
        /// Also print where the tick's time goes: wall-clock time per step of the tick (the
        /// `SimSet`s, in tick order), µs a tick and share.
        #[arg(long)]
        sets: bool,
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
        /// Pause the simulation for the timed frames (nothing changes: what a still frame costs).
        #[arg(long)]
        paused: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ProposalWhat {
    /// Make the link of edits (`--set PATH=VALUE`, as `qtwin edit` takes them) on a scene.
    Encode {
        scene: PathBuf,
        #[arg(long = "set", value_name = "PATH=VALUE", required = true)]
        set: Vec<String>,
        /// The page's address the link opens (default: the code as a bare fragment, `#p=CODE`).
        #[arg(long)]
        page: Option<String>,
        /// Write a QR code of the link as SVG (for print and posters).
        #[arg(long)]
        qr: Option<PathBuf>,
    },
    /// Read a link (or its code) made for a scene: its edits, applied; `--compare` runs the edited
    /// city against the baseline.
    Decode {
        scene: PathBuf,
        link: String,
        /// Run both worlds over `--days` and print heat, CO₂, unmet heat and homes that got colder.
        #[arg(long)]
        compare: bool,
        /// Days of the comparison (the planner panel's and the page's default: 2).
        #[arg(long, default_value_t = 2.0)]
        days: f64,
        /// Write the comparison as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

/// `qtwin import` flags.
#[derive(Args, Debug, Default)]
pub struct ImportArgs {
    /// Input files (their formats detected by content).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The scene to write.
    #[arg(long)]
    pub out: PathBuf,
    /// auto, osm, pbf, geojson or cityjson.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// Coordinate reference system of projected input, e.g. EPSG:28992.
    #[arg(long)]
    pub crs: Option<String>,
    /// Keep objects inside minlon,minlat,maxlon,maxlat (WGS84).
    #[arg(long, conflicts_with = "clip")]
    pub bbox: Option<String>,
    /// Keep objects inside the polygon of this GeoJSON file.
    #[arg(long)]
    pub clip: Option<PathBuf>,
    /// The plant's position, lon,lat (default: at the load centre).
    #[arg(long)]
    pub plant: Option<String>,
    /// A micro quantum site at lon,lat (repeatable).
    #[arg(long = "site", value_name = "LON,LAT")]
    pub sites: Vec<String>,
    /// A typology table (CSV) replacing the shipped one.
    #[arg(long)]
    pub typology: Option<PathBuf>,
    /// Attribute mapping for GeoJSON input: floors=COLUMN,height=COLUMN,... (repeatable).
    #[arg(long = "map", value_name = "KEY=COLUMN,...")]
    pub map: Vec<String>,
    /// Stop with a clear message past this many buildings.
    #[arg(long)]
    pub max_buildings: Option<usize>,
    /// Close loops between nearby branches of the network.
    #[arg(long)]
    pub loops: bool,
    /// Write the import report (what was read, repaired, defaulted, connected) as JSON.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Seed of the scene (sites' equipment, PV roofs).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
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
            demo: false,
            training: None,
            edits: Vec::new(),
            audience: Default::default(),
            camera: None,
            at_day: None,
            compare_at_start: false,
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

/// Longest run a command accepts, ticks (19 years of 60 s ticks).
pub const MAX_RUN_TICKS: u64 = 10_000_000;
/// Most buildings `qtwin generate` and `bench --generated-buildings` make.
pub const MAX_GENERATED_BUILDINGS: usize = 1_000_000;
/// Most rayon threads a command accepts.
pub const MAX_THREADS: usize = 1024;

/// Checks a duration flag (`--days`, `--hours`) and gives its ticks at `tick_s`.
pub fn duration_ticks(flag: &str, value: f64, unit_s: f64, tick_s: f64) -> Result<u64, String> {
    if !value.is_finite() || value <= 0.0 {
        return Err(format!("{flag} {value}: must be a positive, finite number"));
    }
    let ticks = (value * unit_s / tick_s).round();
    if ticks < 1.0 {
        return Err(format!(
            "{flag} {value}: shorter than one tick of {tick_s} s"
        ));
    }
    if ticks > MAX_RUN_TICKS as f64 {
        return Err(format!(
            "{flag} {value}: {ticks:.3e} ticks of {tick_s} s, over the limit of {MAX_RUN_TICKS} ticks ({:.1} years at this tick)",
            MAX_RUN_TICKS as f64 * tick_s / (365.0 * 86_400.0)
        ));
    }
    Ok(ticks as u64)
}

/// Checks `--threads`.
pub fn check_threads(n: Option<usize>) -> Result<(), String> {
    match n {
        Some(n) if n == 0 || n > MAX_THREADS => Err(format!(
            "--threads {n}: must be between 1 and {MAX_THREADS}"
        )),
        _ => Ok(()),
    }
}

/// Checks `--tick`.
pub fn check_tick(t: Option<f64>) -> Result<(), String> {
    match t {
        Some(t) if !(0.1..=3600.0).contains(&t) => {
            Err(format!("--tick {t}: must be between 0.1 and 3600 s"))
        }
        _ => Ok(()),
    }
}

/// Prints a usage error and gives exit code 2.
fn usage(msg: String) -> Result<ExitCode, Box<dyn std::error::Error>> {
    eprintln!("{msg}");
    Ok(ExitCode::from(2))
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
                m.restore_time_s
                    .map_or("never".to_string(), |t| format!("{t:.0} s")),
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
        Command::Import(args) => import_command(&args),
        Command::Export {
            scene,
            state,
            report,
            geojson,
            csv,
        } => export_command(
            &scene,
            state.as_deref(),
            report.as_deref(),
            &geojson,
            csv.as_deref(),
        ),
        Command::Edit {
            scene,
            set,
            undo,
            save_as,
        } => edit_command(&scene, &set, undo, save_as.as_deref()),
        Command::Proposal { what } => proposal_command(what),
        Command::Compare {
            base,
            variant,
            days,
            seed,
            report,
        } => {
            if let Err(e) = duration_ticks("--days", days, 86_400.0, 60.0) {
                return usage(e);
            }
            compare_command(&base, &variant, days, seed, report.as_deref())
        }
        Command::Sweep {
            scene,
            params,
            days,
            seed,
            shard,
            threads,
            out,
            quiet,
        } => {
            if let Err(e) = check_threads(threads)
                .and_then(|_| duration_ticks("--days", days, 86_400.0, 60.0).map(|_| ()))
            {
                return usage(e);
            }
            set_threads(threads);
            sweep_command(&scene, &params, days, seed, shard.as_deref(), &out, quiet)
        }
        Command::Suggest {
            scene,
            top,
            days,
            spacing,
            json,
        } => {
            if let Err(e) = duration_ticks("--days", days, 86_400.0, 60.0) {
                return usage(e);
            }
            if !spacing.is_finite() || spacing < 1.0 {
                return usage(format!(
                    "--spacing {spacing}: must be a finite number of metres, at least 1"
                ));
            }
            if top > 100 {
                return usage(format!(
                    "--top {top}: at most 100 suggestions are simulated"
                ));
            }
            suggest_command(&scene, top, days, spacing, json.as_deref())
        }
        #[cfg(feature = "view")]
        Command::View {
            scene,
            screenshot,
            size,
            after_ticks,
            layer,
            demo,
            train,
            set,
            plain,
            lang,
            embed,
            camera,
            at,
            proposal,
        } => {
            if after_ticks > MAX_RUN_TICKS {
                return usage(format!(
                    "--after-ticks {after_ticks}: over the limit of {MAX_RUN_TICKS} ticks"
                ));
            }
            let mut edits = Vec::new();
            for a in &set {
                let Some((k, v)) = a.split_once('=') else {
                    eprintln!("--set {a}: expected PATH=VALUE");
                    return Ok(ExitCode::from(2));
                };
                edits.push((k.trim().to_string(), v.trim().to_string()));
            }
            let compare_at_start = proposal.is_some();
            if let Some(l) = &proposal {
                let path = scene
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("scenes/riverside.ron"));
                if train.is_some() {
                    return usage(
                        "--proposal: not with --train (a scenario brings its own scene)".into(),
                    );
                }
                // The link was made for the scene as the file holds it: its edits come first.
                match proposal_edits_for_view(&path, l) {
                    Ok(e) => edits.splice(0..0, e).for_each(drop),
                    Err((code, msg)) => {
                        eprintln!("--proposal: {msg}");
                        return Ok(code);
                    }
                }
            }
            let size =
                parse_size(&size).ok_or_else(|| format!("--size {size}: expected WIDTHxHEIGHT"))?;
            let layer = match layer.as_deref() {
                None => None,
                Some(l) => {
                    Some(parse_layer(l).ok_or_else(|| format!("--layer {l}: unknown layer"))?)
                }
            };
            let lang = crate::view::plain::Lang::parse(&lang)
                .ok_or_else(|| format!("--lang {lang}: expected en or de"))?;
            let camera = match camera.as_deref() {
                None => None,
                Some(c) => Some(crate::view::CameraSpec::parse(c).map_err(|e| format!("--{e}"))?),
            };
            let at_day = match at.as_deref() {
                None => None,
                Some(d) => Some(crate::view::parse_day(d).map_err(|e| format!("--{e}"))?),
            };
            let exit = crate::view::run_view(crate::view::ViewOptions {
                scene: scene.unwrap_or_else(|| PathBuf::from("scenes/riverside.ron")),
                screenshot,
                size,
                after_ticks,
                layer,
                demo,
                training: train,
                edits,
                audience: crate::view::Audience { plain, lang, embed },
                camera,
                at_day,
                compare_at_start,
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
            max_memory,
        } => {
            use crate::quantum::qasm;
            let limits = match qasm::parse_bytes(&max_memory) {
                Ok(b) => qasm::QasmLimits {
                    max_memory_bytes: b,
                    ..Default::default()
                },
                Err(e) => return usage(format!("--max-memory {e}")),
            };
            let src = match crate::limits::read_text_limited(&file, limits.max_source_bytes as u64)
            {
                Ok(s) => s,
                Err(e) => return usage(e.to_string()),
            };
            match qasm::run_qasm(&src, shots, seed, &noise, !no_fusion, &limits) {
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
            if buildings > MAX_GENERATED_BUILDINGS || sites > 1000 {
                return usage(format!(
                    "generate: at most {MAX_GENERATED_BUILDINGS} buildings and 1000 sites ({buildings} and {sites} asked for)"
                ));
            }
            let t = Instant::now();
            let s = crate::generate::generate_city(&crate::generate::GenerateOptions {
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
            sets,
        } => {
            #[cfg(feature = "view")]
            if let Some(BenchWhat::Render {
                scene,
                size,
                frames,
                warmup,
                paused,
            }) = what
            {
                let size = parse_size(&size)
                    .ok_or_else(|| format!("--size {size}: expected WIDTHxHEIGHT"))?;
                let (name, s) = match scene.as_deref() {
                    Some(g) if g.starts_with("generated:") => {
                        let Ok(n) = g["generated:".len()..].parse::<usize>() else {
                            return usage(format!("{g}: expected generated:N"));
                        };
                        if !(1..=MAX_GENERATED_BUILDINGS).contains(&n) {
                            return usage(format!(
                                "{g}: from 1 to {MAX_GENERATED_BUILDINGS} buildings"
                            ));
                        }
                        let s = crate::generate::generate_city(&crate::generate::GenerateOptions {
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
                let st =
                    crate::view::bench::bench_render(&s, size.0, size.1, warmup, frames, paused);
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
                println!(
                    "  {}main world (view systems, ticks, transforms, visibility): median {:.2} ms, p95 {:.2} ms, of it the view's systems median {:.2} ms, p95 {:.2} ms; \
                     app and world built in {:.1} s, first frame (spawn + render) {:.1} s, {} warm-up frames in {:.1} s; \
                     {} meshes ({} buildings, {} tube segments, {} particles); colouring: {} passes, {} buildings visited in the timed frames",
                    if paused { "paused; " } else { "" },
                    st.main_median_ms,
                    st.main_p95_ms,
                    st.view_median_ms,
                    st.view_p95_ms,
                    st.build_s,
                    st.first_frame_s,
                    st.warmup_frames,
                    st.warmup_s,
                    st.meshes,
                    st.buildings,
                    st.tubes,
                    st.particles,
                    st.colour_passes,
                    st.buildings_visited
                );
                let each: Vec<String> = st.frames_ms.iter().map(|t| format!("{t:.0}")).collect();
                println!("  frames, ms: {}", each.join(" "));
                return Ok(ExitCode::SUCCESS);
            }
            #[cfg(not(feature = "view"))]
            if what.is_some() {
                eprintln!("this qtwin was built without the `view` feature");
                return Ok(ExitCode::from(2));
            }
            if let Err(e) = check_threads(threads)
                .and_then(|_| duration_ticks("--days", days, 86_400.0, 60.0).map(|_| ()))
            {
                return usage(e);
            }
            if generated_buildings > MAX_GENERATED_BUILDINGS {
                return usage(format!(
                    "--generated-buildings {generated_buildings}: at most {MAX_GENERATED_BUILDINGS}"
                ));
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
            println!("{}", bench_line(&s.name, &s, days, sets));
            if generated_buildings > 0 {
                let g = crate::generate::generate_city(&crate::generate::GenerateOptions {
                    buildings: generated_buildings,
                    sites: 5,
                    seed: 1,
                });
                println!(
                    "{}",
                    bench_line(&format!("generated {generated_buildings}"), &g, days, sets)
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
    crate::view::world3d::Layer::parse(s)
}

/// Times a whole run (world build included) and formats the result; with `sets`, the time per
/// step of the tick follows on further lines.
pub fn bench_line(name: &str, s: &Scene, days: f64, sets: bool) -> String {
    let r = bench_scene(s, days, sets);
    let line = format!(
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
    );
    match r.sets {
        Some(t) => format!("{line}\n{}", t.table().trim_end()),
        None => line,
    }
}

/// Result of a timing.
pub struct BenchResult {
    pub ticks: u64,
    pub build_s: f64,
    pub run_s: f64,
    pub loops: usize,
    pub newton_per_tick: f64,
    pub parcels_per_pipe: f64,
    /// Time per step of the tick, when asked for (the stamps add ~20 ns each between steps).
    pub sets: Option<crate::sim::timing::SetTimes>,
}

pub fn bench_scene(s: &Scene, days: f64, sets: bool) -> BenchResult {
    let t0 = Instant::now();
    let mut sim = Simulation::new_unchecked(s, &RunOptions::default());
    if sets {
        crate::sim::timing::SetTimes::install(&mut sim.app);
    }
    let build_s = t0.elapsed().as_secs_f64();
    let ticks = (days * 86_400.0 / sim.clock().tick_s).round() as u64;
    let t1 = Instant::now();
    sim.run_ticks(ticks);
    let run_s = t1.elapsed().as_secs_f64();
    BenchResult {
        ticks,
        build_s,
        run_s,
        loops: sim.res::<crate::network::Network>().loops.len(),
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
        sets: sets.then(|| sim.res::<crate::sim::timing::SetTimes>().clone()),
    }
}

fn run_command(args: RunArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    if let Err(e) = check_threads(args.threads).and_then(|_| check_tick(args.tick)) {
        return usage(e);
    }
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
    let tick_s = args.tick.unwrap_or(scene.sim.tick_s);
    let ticks = match (args.days, args.hours) {
        (_, Some(h)) => duration_ticks("--hours", h, 3600.0, tick_s),
        (Some(d), None) => duration_ticks("--days", d, 86_400.0, tick_s),
        (None, None) => duration_ticks("--days", 7.0, 86_400.0, tick_s),
    };
    let ticks = match ticks {
        Ok(t) => t,
        Err(e) => return usage(e),
    };
    let mut sim = Simulation::new(&scene, &opts)?;
    if args.timeseries.is_some() {
        sim.res_mut::<Ledger>().record_series();
    }
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
    // Warnings go to stderr even with --quiet: results resting on them need a second look.
    let k = &report.kpis;
    if k.hydraulic_nonconverged_ticks > 0 {
        eprintln!(
            "warning: the network solve did not converge in {} ticks (worst loop residual {:.3e} Pa): those ticks' flows are not a solution",
            k.hydraulic_nonconverged_ticks, k.max_loop_residual_pa
        );
    }
    if k.pump_head_limited_ticks > 0 {
        eprintln!(
            "warning: pumps at their largest head in {} ticks (the network needed up to {:.2} bar; lowest substation dp {:.2} bar at {}): substations got less flow",
            k.pump_head_limited_ticks,
            k.max_pump_head_needed_pa / 1e5,
            k.min_substation_dp_pa / 1e5,
            report.critical_substation.as_deref().unwrap_or("-")
        );
    }
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

/// Loads a scene that may carry saved edits: the scene and its edit stack (checked).
fn load_edited(path: &Path) -> Result<(Scene, crate::whatif::EditStack), (ExitCode, String)> {
    let saved = load_checked(path)?;
    crate::whatif::EditStack::from_saved(&saved)
        .map_err(|e| (ExitCode::from(2), format!("{}: {e}", path.display())))
}

fn edit_command(
    path: &Path,
    set: &[String],
    undo: usize,
    save_as: Option<&Path>,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let (mut scene, mut stack) = match load_edited(path) {
        Ok(x) => x,
        Err((code, msg)) => {
            eprintln!("{msg}");
            return Ok(code);
        }
    };
    for _ in 0..undo {
        match stack.undo(&mut scene)? {
            Some(r) => println!("undone: {}", r.description),
            None => {
                eprintln!(
                    "--undo {undo}: the scene has only {} edits",
                    stack.undone.len()
                );
                return Ok(ExitCode::from(2));
            }
        }
    }
    for a in set {
        let (p, v) = crate::whatif::param::parse_assignment(a)?;
        if v.len() != 1 {
            eprintln!("--set {a}: one value (lists are for `qtwin sweep`)");
            return Ok(ExitCode::from(2));
        }
        let e = match crate::whatif::param::edit_for(&scene, &p, &v[0]) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("--set {a}: {e}");
                return Ok(ExitCode::from(2));
            }
        };
        stack.push(&mut scene, e)?;
    }
    if let Err(issues) = validate(&scene) {
        eprintln!(
            "the edited scene is not valid: {}",
            SceneError::Invalid(issues)
        );
        return Ok(ExitCode::from(2));
    }
    println!("{} edit(s):", stack.done.len());
    for (i, r) in stack.done.iter().enumerate() {
        println!("  {}. {}", i + 1, r.description);
    }
    if let Some(out) = save_as {
        std::fs::write(out, stack.save_ron(&scene))?;
        println!("saved {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The edits of proposal `link` checked against the scene file at `path` (for `qtwin view
/// --proposal`): every edit must apply to it.
#[cfg(feature = "view")]
fn proposal_edits_for_view(
    path: &Path,
    link: &str,
) -> Result<Vec<(String, String)>, (ExitCode, String)> {
    if !path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("ron"))
    {
        return Err((
            ExitCode::from(2),
            format!(
                "{}: a proposal opens on a scene file (.ron); `qtwin import` writes one",
                path.display()
            ),
        ));
    }
    let scene = load_checked(path)?;
    crate::whatif::proposal::open(&scene, link)
        .map(|o| o.proposal.edits)
        .map_err(|e| (ExitCode::from(2), e.to_string()))
}

fn proposal_command(what: ProposalWhat) -> Result<ExitCode, Box<dyn std::error::Error>> {
    use crate::whatif::proposal;
    match what {
        ProposalWhat::Encode {
            scene,
            set,
            page,
            qr,
        } => {
            let base = match load_checked(&scene) {
                Ok(s) => s,
                Err((code, msg)) => {
                    eprintln!("{msg}");
                    return Ok(code);
                }
            };
            let mut edits = Vec::new();
            for a in &set {
                let Some((k, v)) = a.split_once('=') else {
                    return usage(format!("--set {a}: expected PATH=VALUE"));
                };
                edits.push((k.trim().to_string(), v.trim().to_string()));
            }
            // Made only if it opens: every edit applies to this scene and the result validates.
            let code = match proposal::encode(&base, &edits)
                .and_then(|c| proposal::open(&base, &c).map(|_| c))
            {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let link = proposal::link(page.as_deref().unwrap_or(""), &code);
            println!("{link}");
            eprintln!(
                "{} edit(s) in a code of {} characters (link {} characters) for scene {}",
                edits.len(),
                code.len(),
                link.len(),
                &scene::scene_hash(&base)[..16]
            );
            if let Some(p) = qr {
                let (svg, n) = proposal::qr_svg(&link)?;
                std::fs::write(&p, svg)?;
                eprintln!("QR code {n}×{n} modules: {}", p.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        ProposalWhat::Decode {
            scene,
            link,
            compare,
            days,
            json,
        } => {
            if compare && let Err(e) = duration_ticks("--days", days, 86_400.0, 60.0) {
                return usage(e);
            }
            let base = match load_checked(&scene) {
                Ok(s) => s,
                Err((code, msg)) => {
                    eprintln!("{msg}");
                    return Ok(code);
                }
            };
            let o = match proposal::open(&base, &link) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("{}: {e}", scene.display());
                    return Ok(ExitCode::from(2));
                }
            };
            println!(
                "proposal (format {}) for scene {}: {} edit(s)",
                o.proposal.version,
                o.proposal.scene_hash,
                o.proposal.edits.len()
            );
            for (i, ((p, v), r)) in o.proposal.edits.iter().zip(&o.stack.done).enumerate() {
                let what = r.edit.describe();
                println!("  {}. {p}={v}  ({what})", i + 1);
            }
            if compare {
                let c = proposal::compare(&base, &o.variant, days)?;
                println!(
                    "{:<26} {:>14} {:>14} {:>14}",
                    format!("over {days} day(s)"),
                    "baseline",
                    "proposal",
                    "difference"
                );
                for (k, a, b) in c.headline() {
                    println!("{k:<26} {a:>14.3} {b:>14.3} {:>+14.3}", b - a);
                }
                println!(
                    "homes that got colder: {} (more than {} kWh more unmet heat), warmer: {}, of {}",
                    c.homes_colder,
                    proposal::COLDER_THRESHOLD_KWH,
                    c.homes_warmer,
                    base.buildings.len()
                );
                if let Some(p) = json {
                    std::fs::write(p, serde_json::to_string_pretty(&c.to_json())? + "\n")?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn compare_command(
    base: &Path,
    variant: &Path,
    days: f64,
    seed: Option<u64>,
    report: Option<&Path>,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let (a, b) = match (load_checked(base), load_checked(variant)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err((code, msg)), _) | (_, Err((code, msg))) => {
            eprintln!("{msg}");
            return Ok(code);
        }
    };
    let spec = crate::whatif::runs::RunSpec {
        days,
        seed,
        tick_s: None,
    };
    let v = crate::whatif::runs::compare(&a, &b, &spec)?;
    println!(
        "{:<34} {:>16} {:>16} {:>14} {:>9}",
        "kpi", "base", "variant", "difference", "rel."
    );
    if let Some(d) = v["diff"].as_object() {
        for (k, x) in d {
            let f = |key: &str| x[key].as_f64().unwrap_or(0.0);
            let rel = x["rel"]
                .as_f64()
                .map_or("—".to_string(), |r| format!("{:+.2} %", 100.0 * r));
            println!(
                "{k:<34} {:>16.3} {:>16.3} {:>+14.3} {rel:>9}",
                f("base"),
                f("variant"),
                f("abs")
            );
        }
    }
    if let Some(p) = report {
        std::fs::write(p, serde_json::to_string_pretty(&v)? + "\n")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn sweep_command(
    path: &Path,
    params: &[String],
    days: f64,
    seed: Option<u64>,
    shard: Option<&str>,
    out: &Path,
    quiet: bool,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    use crate::whatif::runs::*;
    let scene = match load_checked(path) {
        Ok(s) => s,
        Err((code, msg)) => {
            eprintln!("{msg}");
            return Ok(code);
        }
    };
    let mut ps = Vec::new();
    for p in params {
        match p.parse::<SweepParam>() {
            Ok(x) => ps.push(x),
            Err(e) => {
                eprintln!("--param {p}: {e}");
                return Ok(ExitCode::from(2));
            }
        }
    }
    let total = variant_count(&ps);
    let range = match shard {
        None => 0..total,
        Some(s) => match parse_shard(s) {
            Ok((i, n)) => shard_range(total, i, n),
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitCode::from(2));
            }
        },
    };
    let spec = RunSpec {
        days,
        seed,
        tick_s: None,
    };
    let n = range.len();
    let bar = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(n as u64 * ticks_of(&scene, &spec));
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:40}] {percent}%  variants {msg}  {per_sec}  eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        b.set_message(format!("{}..{} of {total}", range.start, range.end));
        b
    };
    let t0 = Instant::now();
    let rows = run_sweep(&scene, &ps, range, &spec, &|t| bar.inc(t));
    bar.finish_and_clear();
    let f = std::fs::File::create(out)?;
    write_sweep_csv(&ps, &rows, std::io::BufWriter::new(f))?;
    let failed = rows.iter().filter(|r| r.result.is_err()).count();
    if !quiet {
        eprintln!(
            "{}: {} variants ({} failed) of {} days in {:.1} s",
            out.display(),
            rows.len(),
            failed,
            days,
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn suggest_command(
    path: &Path,
    top: usize,
    days: f64,
    spacing: f64,
    json_out: Option<&Path>,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    use crate::whatif::siting::*;
    let scene = match load_checked(path) {
        Ok(s) => s,
        Err((code, msg)) => {
            eprintln!("{msg}");
            return Ok(code);
        }
    };
    let template = crate::whatif::SiteTemplate::from_scene(&scene);
    let used = grid_spacing_m(&scene, spacing);
    if used != spacing {
        println!(
            "--spacing {spacing} m would lay {} candidates over this city; the grid is laid at {used:.0} m ({} candidates, the limit is {MAX_CANDIDATES})",
            grid_candidates(&scene, spacing),
            grid_candidates(&scene, used)
        );
    }
    let opts = SuitabilityOptions {
        spacing_m: used,
        ..Default::default()
    };
    let spec = crate::whatif::runs::RunSpec {
        days,
        seed: None,
        tick_s: None,
    };
    let (base, sugg) = suggest(&scene, &template, &opts, top, 200.0, &spec)?;
    let w = opts.weights;
    println!(
        "weights: heat demand density {}, network distance {}, spare capacity {}, feeder headroom {}, fibre latency {}",
        w.heat_demand_density,
        w.network_distance,
        w.network_spare_capacity,
        w.feeder_headroom,
        w.fibre_latency
    );
    println!(
        "base ({days} days): waste heat recovered {:.0} kWh, CO2 {:.0} kg, boiler gas {:.0} kWh",
        base.waste_heat_recovered_kwh, base.co2_kg, base.boiler_gas_kwh
    );
    for s in &sugg {
        let c = &s.candidate;
        let d = |k: &str| s.diff[k]["abs"].as_f64().unwrap_or(0.0);
        println!(
            "#{} ({:.0}, {:.0}) score {:.3}  [demand {:.2} ({:.1} W/m2), distance {:.2} ({:.0} m to {}), spare {:.2} ({:.1} MW), feeder {:.2} ({:.1} MW {}), latency {:.2} ({:.3} ms)]",
            s.rank,
            c.pos[0],
            c.pos[1],
            c.score,
            c.terms[0],
            c.heat_density_w_m2,
            c.terms[1],
            c.pipe_distance_m,
            c.nearest_pipe,
            c.terms[2],
            c.network_spare_w / 1e6,
            c.terms[3],
            c.feeder_headroom_w / 1e6,
            c.feeder.as_deref().or(c.bus.as_deref()).unwrap_or("-"),
            c.terms[4],
            c.mean_rtt_ms
        );
        println!("    {}", s.description);
        println!(
            "    simulated: waste heat recovered {:+.0} kWh, CO2 {:+.0} kg, boiler gas {:+.0} kWh, heat losses {:+.0} kWh, unmet {:+.1} kWh",
            d("waste_heat_recovered_kwh"),
            d("co2_kg"),
            d("boiler_gas_kwh"),
            d("heat_losses_kwh"),
            d("unmet_heat_kwh")
        );
    }
    if let Some(p) = json_out {
        let loads = NetworkLoads::from_run(
            &scene,
            &crate::whatif::runs::RunSpec {
                days: days.min(1.0),
                ..spec
            },
        )?;
        let layer = suitability(&scene, &template, Some(&loads), &opts);
        let v = serde_json::json!({"suitability": layer, "base_kpis": base, "suggestions": sugg});
        std::fs::write(p, serde_json::to_string_pretty(&v)? + "\n")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses `lon,lat` (WGS84 degrees; longitude in [−180, 180], latitude in [−90, 90]).
pub fn parse_lonlat(flag: &str, s: &str) -> Result<[f64; 2], String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let bad = || format!("{flag} {s}: expected LON,LAT in degrees, e.g. 6.0512,50.7801");
    if parts.len() != 2 {
        return Err(bad());
    }
    let lon: f64 = parts[0].parse().map_err(|_| bad())?;
    let lat: f64 = parts[1].parse().map_err(|_| bad())?;
    if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
        return Err(format!(
            "{flag} {s}: longitude {lon} is outside [-180, 180]"
        ));
    }
    if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
        return Err(format!(
            "{flag} {s}: latitude {lat} is outside [-90, 90] (longitude comes first)"
        ));
    }
    Ok([lon, lat])
}

/// Parses `--bbox minlon,minlat,maxlon,maxlat`.
pub fn parse_bbox(s: &str) -> Result<[f64; 4], String> {
    let v: Result<Vec<f64>, _> = s.split(',').map(|x| x.trim().parse::<f64>()).collect();
    let v = v.map_err(|_| format!("--bbox {s}: expected minlon,minlat,maxlon,maxlat"))?;
    if v.len() != 4 || v.iter().any(|x| !x.is_finite()) {
        return Err(format!(
            "--bbox {s}: expected four numbers minlon,minlat,maxlon,maxlat"
        ));
    }
    parse_lonlat("--bbox", &format!("{},{}", v[0], v[1]))?;
    parse_lonlat("--bbox", &format!("{},{}", v[2], v[3]))?;
    if v[0] >= v[2] || v[1] >= v[3] {
        return Err(format!(
            "--bbox {s}: the minimum must be below the maximum (minlon,minlat,maxlon,maxlat)"
        ));
    }
    Ok([v[0], v[1], v[2], v[3]])
}

/// Parses `--format`.
pub fn parse_format(s: &str) -> Result<crate::import::Format, String> {
    use crate::import::Format;
    Ok(match s.to_ascii_lowercase().as_str() {
        "auto" => Format::Auto,
        "osm" | "xml" => Format::Osm,
        "pbf" => Format::Pbf,
        "geojson" | "json" => Format::GeoJson,
        "cityjson" => Format::CityJson,
        _ => {
            return Err(format!(
                "--format {s}: expected auto, osm, pbf, geojson or cityjson"
            ));
        }
    })
}

/// Parses `--map KEY=COLUMN,...` (repeatable) into pairs.
pub fn parse_map(items: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for item in items {
        for part in item.split(',').filter(|p| !p.trim().is_empty()) {
            let Some((k, v)) = part.split_once('=') else {
                return Err(format!(
                    "--map {item}: expected KEY=COLUMN, e.g. floors=n_floors"
                ));
            };
            let (k, v) = (k.trim(), v.trim());
            if k.is_empty() || v.is_empty() {
                return Err(format!("--map {item}: empty key or column in \"{part}\""));
            }
            out.push((k.to_string(), v.to_string()));
        }
    }
    Ok(out)
}

/// Reads the outer ring of the first Polygon (or MultiPolygon part) of a GeoJSON file, as
/// lon/lat points, for `--clip`.
pub fn read_clip(path: &Path) -> Result<Vec<[f64; 2]>, String> {
    let p = path.display();
    let text = crate::limits::read_text_limited(path, crate::limits::MAX_SCRIPT_BYTES)
        .map_err(|e| format!("--clip {e}"))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("--clip {p}:{}:{}: {e}", e.line(), e.column()))?;
    fn first_ring(v: &serde_json::Value) -> Option<&serde_json::Value> {
        match v.get("type")?.as_str()? {
            "FeatureCollection" => v.get("features")?.as_array()?.iter().find_map(first_ring),
            "Feature" => first_ring(v.get("geometry")?),
            "Polygon" => v.get("coordinates")?.get(0),
            "MultiPolygon" => v.get("coordinates")?.get(0)?.get(0),
            _ => None,
        }
    }
    let ring = first_ring(&v).and_then(|r| r.as_array()).ok_or_else(|| {
        format!("--clip {p}: no Polygon or MultiPolygon found (expected a GeoJSON polygon)")
    })?;
    let mut pts = Vec::with_capacity(ring.len());
    for (i, q) in ring.iter().enumerate() {
        let xy = q
            .as_array()
            .filter(|a| a.len() >= 2)
            .and_then(|a| Some([a[0].as_f64()?, a[1].as_f64()?]))
            .ok_or_else(|| format!("--clip {p}: point {i} of the ring is not [lon, lat]"))?;
        parse_lonlat("--clip", &format!("{},{}", xy[0], xy[1]))
            .map_err(|e| format!("{e} (point {i} of {p})"))?;
        pts.push(xy);
    }
    if pts.len() < 3 {
        return Err(format!(
            "--clip {p}: the polygon has fewer than three points"
        ));
    }
    Ok(pts)
}

/// The import flags as reading and layout options (every bad flag a clear message).
pub fn import_options(
    a: &ImportArgs,
) -> Result<
    (
        crate::import::ReadOptions,
        crate::import::layout::LayoutOptions,
    ),
    String,
> {
    use crate::import::ReadOptions;
    use crate::import::layout::LayoutOptions;
    let typology_csv = match &a.typology {
        Some(p) => Some(
            crate::limits::read_text_limited(p, crate::limits::MAX_SCRIPT_BYTES)
                .map_err(|e| format!("--typology {e}"))?,
        ),
        None => None,
    };
    if let Some(c) = &a.crs {
        let ok = c
            .strip_prefix("EPSG:")
            .or_else(|| c.strip_prefix("epsg:"))
            .is_some_and(|n| !n.is_empty() && n.chars().all(|x| x.is_ascii_digit()));
        if !ok {
            return Err(format!("--crs {c}: expected EPSG:<code>, e.g. EPSG:28992"));
        }
    }
    if a.max_buildings == Some(0) {
        return Err("--max-buildings 0: give at least 1".into());
    }
    let ropts = ReadOptions {
        format: parse_format(&a.format)?,
        crs: a.crs.clone(),
        bbox: a.bbox.as_deref().map(parse_bbox).transpose()?,
        clip: a.clip.as_deref().map(read_clip).transpose()?,
        typology_csv,
        map: parse_map(&a.map)?,
        max_buildings: a.max_buildings,
    };
    let stem = a
        .files
        .first()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let lopts = LayoutOptions {
        name: format!("Imported district ({stem})"),
        plant_lonlat: a
            .plant
            .as_deref()
            .map(|s| parse_lonlat("--plant", s))
            .transpose()?,
        sites_lonlat: a
            .sites
            .iter()
            .map(|s| parse_lonlat("--site", s))
            .collect::<Result<_, _>>()?,
        loops: a.loops,
        seed: a.seed,
    };
    Ok((ropts, lopts))
}

fn import_command(a: &ImportArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let (ropts, lopts) = match import_options(a) {
        Ok(x) => x,
        Err(msg) => {
            eprintln!("{msg}");
            return Ok(ExitCode::from(2));
        }
    };
    match crate::import::read::read_paths(&a.files, &ropts) {
        Ok(d) => import_district(d, &lopts, &a.out, a.report.as_deref()),
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::from(2))
        }
    }
}

/// The layout half of `qtwin import`: lays out a district read from files, writes the scene
/// and the import report, prints a summary. Exit 2 when the layout fails.
pub fn import_district(
    d: crate::import::District,
    lopts: &crate::import::layout::LayoutOptions,
    out: &Path,
    report: Option<&Path>,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let read = d.report.clone();
    let t0 = Instant::now();
    let (scene, lr) = match crate::import::layout::layout(d, lopts) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(2));
        }
    };
    std::fs::write(out, scene::to_ron(&scene)).map_err(|e| format!("{}: {e}", out.display()))?;
    println!(
        "{}: {} buildings ({} connected), {} streets; network {} nodes, {} pipes ({:.0} m mains, {:.0} m service, {} loops), {} site(s); laid out in {:.2} s",
        out.display(),
        lr.buildings,
        lr.buildings_connected,
        lr.streets,
        lr.nodes,
        lr.pipes,
        lr.mains_length_m,
        lr.service_length_m,
        lr.loops,
        lr.sites.len(),
        t0.elapsed().as_secs_f64()
    );
    for m in lr.unconnected.iter().take(10) {
        println!("  {m}");
    }
    if lr.unconnected.len() > 10 {
        println!(
            "  … and {} more (see the report)",
            lr.unconnected.len() - 10
        );
    }
    for m in &lr.next_steps {
        println!("  next: {m}");
    }
    if let Some(p) = report {
        let v = serde_json::json!({"read": read, "layout": lr});
        std::fs::write(p, serde_json::to_string_pretty(&v)? + "\n")
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn export_command(
    path: &Path,
    state: Option<&Path>,
    report: Option<&Path>,
    geojson: &Path,
    csv: Option<&Path>,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let scene = match load_checked(path) {
        Ok(s) => s,
        Err((code, msg)) => {
            eprintln!("{msg}");
            return Ok(code);
        }
    };
    let read_json = |flag: &str, p: &Path| -> Result<serde_json::Value, String> {
        let text = crate::limits::read_text_limited(p, crate::limits::MAX_SNAPSHOT_BYTES)
            .map_err(|e| format!("{flag} {e}"))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{flag} {}:{}:{}: {e}", p.display(), e.line(), e.column()))
    };
    let st = match state.map(|p| read_json("--state", p)).transpose() {
        Ok(v) => v,
        Err(m) => {
            eprintln!("{m}");
            return Ok(ExitCode::from(2));
        }
    };
    let rep = match report.map(|p| read_json("--report", p)).transpose() {
        Ok(v) => v,
        Err(m) => {
            eprintln!("{m}");
            return Ok(ExitCode::from(2));
        }
    };
    let ex = match crate::import::export::build(&scene, st.as_ref(), rep.as_ref()) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            return Ok(ExitCode::from(2));
        }
    };
    let files = crate::import::export::write(&ex, geojson, csv)?;
    for f in &files {
        println!("wrote {}", f.display());
    }
    for n in &ex.notes {
        println!("note: {n}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod import_flag_tests {
    use super::*;

    #[test]
    fn lonlat_bbox_format_and_map_flags() {
        assert_eq!(
            parse_lonlat("--site", "6.05, 50.78").unwrap(),
            [6.05, 50.78]
        );
        let e = parse_lonlat("--site", "50.78,196.05").unwrap_err();
        assert!(e.contains("latitude 196.05 is outside"), "{e}");
        assert!(
            parse_lonlat("--plant", "6.05")
                .unwrap_err()
                .contains("expected LON,LAT")
        );
        assert_eq!(
            parse_bbox("6.0,50.7,6.1,50.8").unwrap(),
            [6.0, 50.7, 6.1, 50.8]
        );
        assert!(
            parse_bbox("6.1,50.7,6.0,50.8")
                .unwrap_err()
                .contains("minimum")
        );
        assert!(parse_bbox("6,50,7").unwrap_err().contains("four numbers"));
        assert_eq!(parse_format("PBF").unwrap(), crate::import::Format::Pbf);
        assert!(parse_format("shp").unwrap_err().contains("expected auto"));
        assert_eq!(
            parse_map(&["floors=n_floors,height=h".into()]).unwrap(),
            vec![
                ("floors".to_string(), "n_floors".to_string()),
                ("height".to_string(), "h".to_string())
            ]
        );
        assert!(
            parse_map(&["floors".into()])
                .unwrap_err()
                .contains("KEY=COLUMN")
        );
        let a = ImportArgs {
            files: vec!["x.osm".into()],
            crs: Some("28992".into()),
            format: "auto".into(),
            ..Default::default()
        };
        assert!(import_options(&a).unwrap_err().contains("EPSG:<code>"));
        let a = ImportArgs {
            files: vec!["campus.osm".into()],
            format: "auto".into(),
            sites: vec!["6.05,50.78".into(), "6.06,50.79".into()],
            plant: Some("6.04,50.77".into()),
            loops: true,
            ..Default::default()
        };
        let (r, l) = import_options(&a).unwrap();
        assert_eq!(r.format, crate::import::Format::Auto);
        assert_eq!(l.sites_lonlat.len(), 2);
        assert_eq!(l.plant_lonlat, Some([6.04, 50.77]));
        assert!(l.loops && l.name.contains("campus.osm"));
    }

    #[test]
    fn clip_reads_a_geojson_polygon() {
        let dir = std::env::temp_dir().join(format!("qtwin-clip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("area.geojson");
        std::fs::write(
            &p,
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},
               "geometry":{"type":"Polygon","coordinates":[[[6.0,50.7],[6.1,50.7],[6.1,50.8],[6.0,50.7]]]}}]}"#,
        )
        .unwrap();
        assert_eq!(read_clip(&p).unwrap().len(), 4);
        std::fs::write(&p, r#"{"type":"Point","coordinates":[6.0,50.7]}"#).unwrap();
        assert!(read_clip(&p).unwrap_err().contains("no Polygon"));
        std::fs::write(&p, "{ nope").unwrap();
        assert!(read_clip(&p).unwrap_err().contains("area.geojson:1:"));
        std::fs::remove_dir_all(&dir).ok();
    }
}

//! The browser build (`wasm32-unknown-unknown`, feature `web`): the same app as the native view,
//! rendered into the page's `<canvas id="qtwin">` with WebGL2.
//!
//! The page (`web/index.html`) fetches the scene (the shipped demo, `?scene=URL`, or a file dropped
//! on the page) and hands its text over in `window.QTWIN_SCENE` (name in `QTWIN_SCENE_NAME`) before
//! it starts the module. A scene that does not parse or validate is shown with its errors, on the
//! canvas and in the page's `#errors` element.
//!
//! Hostile input never stops the page: text over [`MAX_SCENE_BYTES`] (the native reader's limit) is
//! refused before it is parsed, and the running module exports [`check_scene`] (`checkScene` in
//! JavaScript), which the page calls on a dropped file before it reloads with it — a file that
//! does not load is reported and the city already open keeps running.
//!
//! What the page and its test can read, on `<body>` as data attributes:
//! - `data-frames` — frames rendered; `data-first-frame-ms` — `performance.now()` at the first one;
//! - `data-sim-time-s`, `data-sim-ticks` — simulated time and ticks so far;
//! - `data-tour-step` — the guided tour's step (or `-1`); `data-tour-try` — while the tour's last
//!   step shows "try it yourself", its button as `x,y,width,height` in the canvas' CSS pixels;
//! - `data-planner-open` (`1`/`0`) and `data-planner-mode` (`off`, `new-site`, `move-site`) — the
//!   what-if panel, and what a click on the map does;
//! - `data-scene-name`, `data-buildings` — the loaded scene's name and building count (or
//!   `data-scene-error="1"`); for district data imported in the page also
//!   `data-imported-buildings` (the import report's count) and `data-scene-sha256` (the hash of the
//!   scene as `qtwin import --out` writes it, so the test can compare it with a native import);
//! - with `?bench=TICKS`: the simulation is first run headless for TICKS ticks, twice (cold, then
//!   with the engine's optimised code; no rendering), and `data-bench-ticks-per-s`, `data-bench-ms`,
//!   `data-bench-cold-ticks-per-s`, `data-bench-cold-ms`, `data-report-sha256` and `window.QTWIN_REPORT` (the
//!   report JSON, as `qtwin run --report` writes it) are set before the app starts.
//!
//! Proposal links ([`crate::whatif::proposal`]): a page opened with `#p=CODE` decodes it against
//! its scene before the app starts. A link that opens applies its edits live on the planner's
//! stack and starts the comparison with the baseline; `data-proposal-status` is `applied` and
//! `data-proposal-edits` its edit count. A damaged, too long, newer or other scene's link sets
//! `data-proposal-status="error"` and `data-proposal-error`, shows the message in `#proposal-banner`
//! and opens the unchanged city. When a comparison finishes (a link's, or one asked for with
//! `startCompare()`), `data-compare` holds its JSON (as `qtwin proposal decode --compare --json`
//! writes it) and `data-compare-homes-colder` the homes that got colder. The page's Share button
//! reads `proposalCode()` (the code of the planner's edits, kept in `data-proposal-code` too) and
//! draws `proposalQrSvg(link)`; `applyEdit(path, value)` makes a planner edit from the page.
//!
//! Threads: rayon's global pool cannot start threads here, so rayon runs every parallel iterator on
//! the calling thread; results are the same as natively (they never depend on the thread count).

use bevy::prelude::*;
use sha2::{Digest, Sha256};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use super::planner::{PlaceMode, PlanRequest, Planner};
use super::tour::Tour;
use super::{AppConfig, build_app};
use crate::base::SimClock;
use crate::import::layout::LayoutReport;
use crate::ledger::report::Report;
use crate::limits::{MAX_SCENE_BYTES, fmt_bytes};
use crate::scene::{Scene, SceneError, load_scene_str, to_ron, validate};
use crate::sim::{RunOptions, Simulation};
use crate::whatif::proposal;

fn window() -> web_sys::Window {
    web_sys::window().expect("a browser window")
}

fn global_string(name: &str) -> Option<String> {
    js_sys::Reflect::get(&window(), &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_string())
}

fn set_data(key: &str, value: &str) {
    if let Some(body) = window().document().and_then(|d| d.body()) {
        let _ = body.set_attribute(&format!("data-{key}"), value);
    }
}

/// A message in the page's banner (`#errors`) and the console; the page goes on.
fn banner(msg: &str) {
    if let Some(el) = window()
        .document()
        .and_then(|d| d.get_element_by_id("errors"))
    {
        let old = el.text_content().unwrap_or_default();
        let text = if old.is_empty() {
            msg.to_string()
        } else {
            format!("{old}\n{msg}")
        };
        el.set_text_content(Some(&text));
        let _ = el.set_attribute("class", "shown");
    }
    web_sys::console::warn_1(&JsValue::from_str(msg));
}

fn query_param(name: &str) -> Option<String> {
    let search = window().location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    params.get(name)
}

/// `performance.now()`: ms since the page started loading (through js-sys, so the build keeps the
/// web-sys feature set bevy already uses).
fn now_ms() -> f64 {
    let perf = js_sys::Reflect::get(&window(), &JsValue::from_str("performance")).ok();
    perf.and_then(|p| {
        let now = js_sys::Reflect::get(&p, &JsValue::from_str("now")).ok()?;
        let f: js_sys::Function = now.into();
        f.call0(&p).ok()?.as_f64()
    })
    .unwrap_or(0.0)
}

/// Parses and validates the scene text — or imports it, when it is district data (OpenStreetMap
/// XML, GeoJSON, CityJSON dropped on the page: the same importer as `qtwin import`, with its
/// default options, so the same file gives the same scene as natively); errors as the page shows
/// them. Text over [`MAX_SCENE_BYTES`] is refused unread, as the native reader refuses the file.
pub fn load_text(text: &str, name: &str) -> Result<Scene, String> {
    load(text, name).map(|(scene, _)| scene)
}

/// [`load_text`], with the import report when the text was district data.
fn load(text: &str, name: &str) -> Result<(Scene, Option<LayoutReport>), String> {
    if text.len() as u64 > MAX_SCENE_BYTES {
        return Err(format!(
            "{name}: the file is larger than the limit of {} (at least {})",
            fmt_bytes(MAX_SCENE_BYTES as u128),
            fmt_bytes(text.len() as u128)
        ));
    }
    let checked = |scene: Scene| {
        validate(&scene)
            .map(|_| scene)
            .map_err(|issues| format!("{name}: {}", SceneError::Invalid(issues)))
    };
    if let Some(imported) = crate::import::scene_from_file(name, text.as_bytes().to_vec()) {
        let t0 = now_ms();
        let (scene, report) = imported.map_err(|e| e.to_string())?;
        info!(
            "imported {name} in {:.0} ms: {} buildings ({} connected), {} pipes",
            now_ms() - t0,
            report.buildings,
            report.buildings_connected,
            report.pipes
        );
        return checked(scene).map(|s| (s, Some(report)));
    }
    load_scene_str(text, name)
        .map_err(|e| e.to_string())
        .and_then(checked)
        .map(|s| (s, None))
}

/// For the page, before it reloads with a dropped file: `undefined` when `text` loads (parses and
/// validates, or imports), else the message the page shows. The module must be running (the page
/// calls it once its city is up); it touches nothing of the running app.
#[wasm_bindgen(js_name = checkScene)]
pub fn check_scene(text: &str, name: &str) -> Option<String> {
    load(text, name).err()
}

/// The largest scene or district file the page takes, bytes ([`MAX_SCENE_BYTES`]).
#[wasm_bindgen(js_name = maxSceneBytes)]
pub fn max_scene_bytes() -> f64 {
    MAX_SCENE_BYTES as f64
}

/// Runs `ticks` ticks headless twice, each time from a fresh world, and publishes the speeds and
/// the report's hash. The first run is the cold one: the browser's WebAssembly engine starts on its
/// baseline compiler and optimises hot functions while the run goes on. The second run, the same
/// work with the code optimised, is the simulation's speed (`bench-ticks-per-s`); the cold one is
/// `bench-cold-ticks-per-s`. Both runs give the same report.
fn bench(scene: &Scene, ticks: u64) {
    let run = || {
        let mut sim = Simulation::new_unchecked(scene, &RunOptions::default());
        let t0 = now_ms();
        sim.run_ticks(ticks);
        (sim, now_ms() - t0)
    };
    let tps = |ms: f64| format!("{:.1}", ticks as f64 / (ms / 1e3).max(1e-9));
    let (_, cold_ms) = run();
    set_data("bench-cold-ms", &format!("{cold_ms:.1}"));
    set_data("bench-cold-ticks-per-s", &tps(cold_ms));
    let (sim, ms) = run();
    let json = Report::from_sim(&sim).to_json();
    let hash = format!("{:x}", Sha256::digest(json.as_bytes()));
    let _ = js_sys::Reflect::set(
        &window(),
        &JsValue::from_str("QTWIN_REPORT"),
        &JsValue::from_str(&json),
    );
    set_data("bench-ms", &format!("{ms:.1}"));
    set_data("bench-ticks-per-s", &tps(ms));
    set_data("report-sha256", &hash);
    info!("bench: {ticks} ticks in {ms:.0} ms ({cold_ms:.0} ms cold), report sha256 {hash}");
}

thread_local! {
    /// Edits asked for by the page (`applyEdit`), handed to the planner by [`page_requests`].
    static PAGE_EDITS: std::cell::RefCell<Vec<(String, String)>> = const { std::cell::RefCell::new(Vec::new()) };
    /// `startCompare()` was called.
    static PAGE_COMPARE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The proposal code of the planner's edits, or why there is none.
    static CODE: std::cell::RefCell<Result<String, String>> =
        std::cell::RefCell::new(Err("no edits to share yet: make some in the “What if…” panel".into()));
}

/// The code of the edits made in the page so far, for its Share button (throws the reason when
/// there is none: no edits, or an edit that cannot be shared).
#[wasm_bindgen(js_name = proposalCode)]
pub fn proposal_code() -> Result<String, JsValue> {
    CODE.with(|c| c.borrow().clone())
        .map_err(|e| JsValue::from_str(&e))
}

/// A QR code of `text` as SVG (error correction level M), for print and posters.
#[wasm_bindgen(js_name = proposalQrSvg)]
pub fn proposal_qr_svg(text: &str) -> Result<String, JsValue> {
    proposal::qr_svg(text)
        .map(|(svg, _)| svg)
        .map_err(|e| JsValue::from_str(&e.to_string()))
}

/// A planner edit `PATH=VALUE` from the page (as the panel makes them), applied next frame.
#[wasm_bindgen(js_name = applyEdit)]
pub fn apply_edit(path: &str, value: &str) {
    PAGE_EDITS.with(|e| e.borrow_mut().push((path.to_string(), value.to_string())));
}

/// Starts the planner's comparison with the baseline once pending edits are applied.
#[wasm_bindgen(js_name = startCompare)]
pub fn start_compare() {
    PAGE_COMPARE.with(|c| c.set(true));
}

/// This page's address with `#p=CODE` (its `?scene=` and other parameters kept).
pub fn proposal_link(code: &str) -> String {
    proposal::link(&window().location().href().unwrap_or_default(), code)
}

/// The page's requests handed to the planner.
fn page_requests(mut planner: ResMut<Planner>) {
    for (p, v) in PAGE_EDITS.with(|e| std::mem::take(&mut *e.borrow_mut())) {
        planner.requests.push(PlanRequest::Set(p, v));
    }
    if PAGE_COMPARE.with(|c| c.replace(false)) {
        planner.compare_when_applied = true;
    }
}

/// The planner's proposal code (when its edits change) and a finished comparison, for the page.
fn publish_proposal(
    planner: Option<Res<Planner>>,
    mut seen: Local<Option<Vec<Option<(String, String)>>>>,
    mut compared: Local<Option<(f64, f64, f64)>>,
) {
    let Some(p) = planner else { return };
    if seen.as_ref() != Some(&p.shared) {
        *seen = Some(p.shared.clone());
        let code = p.proposal_code();
        set_data("proposal-code", code.as_deref().unwrap_or(""));
        CODE.with(|c| *c.borrow_mut() = code);
    }
    let r = p.compare.lock().expect("compare lock");
    let (Some(a), Some(b)) = (&r.base, &r.variant) else {
        return;
    };
    let key = (r.days, a.heat_delivered_kwh, b.heat_delivered_kwh);
    if r.progress < 1.0 || *compared == Some(key) {
        return;
    }
    *compared = Some(key);
    let tick_s = p.scene.sim.tick_s;
    let ticks = (r.days * 86_400.0 / tick_s).round().max(1.0) as u64;
    let c =
        proposal::Comparison::from_parts(r.days, ticks, a.clone(), b.clone(), r.unmet_kwh.clone());
    set_data("compare", &c.to_json().to_string());
    set_data("compare-homes-colder", &c.homes_colder.to_string());
    info!("comparison over {} days: {}", r.days, c.to_json());
}

/// A proposal link in the page's fragment, opened on `scene`: its edits, or `None` (no link, or
/// a bad one: said on the page, and the city opens unchanged).
fn proposal_from_fragment(
    scene: &Scene,
    lang: super::plain::Lang,
) -> Option<Vec<(String, String)>> {
    let hash = window().location().hash().ok()?;
    let fragment = hash.trim_start_matches('#');
    if !fragment.split('&').any(|p| p.starts_with("p=")) {
        return None;
    }
    let banner = |msg: &str, class: &str| {
        if let Some(el) = window()
            .document()
            .and_then(|d| d.get_element_by_id("proposal-banner"))
        {
            el.set_text_content(Some(msg));
            let _ = el.set_attribute("class", class);
        }
    };
    match proposal::open(scene, fragment) {
        Ok(o) => {
            let n = o.proposal.edits.len();
            set_data("proposal-status", "applied");
            set_data("proposal-edits", &n.to_string());
            banner(&super::words::proposal_opened(lang, n), "shown ok");
            info!("proposal link: {n} edit(s)");
            Some(o.proposal.edits)
        }
        Err(e) => {
            let msg = super::words::proposal_failed(lang, &e);
            set_data("proposal-status", "error");
            set_data("proposal-error", &msg);
            banner(&msg, "shown");
            web_sys::console::warn_1(&JsValue::from_str(&msg));
            None
        }
    }
}

/// The module's entry point (the binary's `main` on wasm32).
pub fn main() {
    init_log();
    // The page always fetches a scene first (web/index.html); nothing is compiled in.
    let text = global_string("QTWIN_SCENE").unwrap_or_default();
    let name = global_string("QTWIN_SCENE_NAME").unwrap_or_else(|| "riverside.ron".to_string());
    let loaded = load(&text, &name).map(|(scene, report)| {
        set_data("scene-name", &scene.name);
        set_data("buildings", &scene.buildings.len().to_string());
        if let Some(r) = report {
            set_data("imported-buildings", &r.buildings.to_string());
            let hash = Sha256::digest(to_ron(&scene).as_bytes());
            set_data("scene-sha256", &format!("{hash:x}"));
        }
        scene
    });
    match &loaded {
        Err(msg) => {
            set_data("scene-error", "1");
            if let Some(el) = window()
                .document()
                .and_then(|d| d.get_element_by_id("errors"))
            {
                el.set_text_content(Some(msg));
                let _ = el.set_attribute("class", "shown");
            }
            web_sys::console::warn_1(&JsValue::from_str(msg));
        }
        Ok(scene) => {
            if let Some(n) = query_param("bench").and_then(|v| v.parse::<u64>().ok()) {
                bench(scene, n);
            }
        }
    }
    let lang = query_param("lang").map(|l| {
        super::plain::Lang::parse(&l).unwrap_or_else(|| {
            banner(&format!("lang {l:?}: not shipped (en, de); English it is"));
            super::plain::Lang::En
        })
    });
    let edits = loaded
        .as_ref()
        .ok()
        .and_then(|s| proposal_from_fragment(s, lang.unwrap_or_default()))
        .unwrap_or_default();
    let compare_at_start = !edits.is_empty();
    let demo = query_param("demo").is_some();
    // The embed page's chosen view: a bad value is said in the banner and ignored.
    let layer = query_param("layer").and_then(|l| {
        let got = super::world3d::Layer::parse(&l);
        if got.is_none() {
            banner(&format!(
                "layer {l:?}: unknown (supply, demand, quantum, unmet, indoor, feeders, carbon, jobs, links)"
            ));
        }
        got
    });
    let camera = query_param("camera")
        .and_then(|c| super::CameraSpec::parse(&c).map_err(|e| banner(&e)).ok());
    let at_day = query_param("at").and_then(|d| super::parse_day(&d).map_err(|e| banner(&e)).ok());
    let mut app = build_app(
        loaded,
        &AppConfig {
            size: (1280, 720),
            no_vsync: false,
            after_ticks: 0,
            layer,
            demo,
            canvas: Some("#qtwin".to_string()),
            training: None,
            edits,
            audience: super::Audience {
                plain: query_param("plain").is_some(),
                lang: lang.unwrap_or_default(),
                embed: query_param("embed").is_some(),
            },
            camera,
            at_day,
            compare_at_start,
        },
    );
    app.add_systems(Last, (publish_progress, publish_numbers, publish_proposal));
    if app.world().contains_resource::<Planner>() {
        app.add_systems(Update, page_requests.before(super::planner::apply_requests));
    }
    app.run();
}

/// The page's log, in place of bevy's `LogPlugin` (disabled in [`build_app`] on wasm32): events go
/// to the browser console through tracing-wasm, and `log` records (wgpu's) through `LogTracer`, as
/// bevy's plugin sends them, with its default levels (info; wgpu errors only, naga warnings up; a
/// release build has compiled out everything below warnings, see `Cargo.toml`) but
/// filtered by target with `Targets` instead of an `EnvFilter`, whose directive parser and regex
/// matchers the page never used (the browser has no `RUST_LOG`). Set first thing, so the scene's
/// loading and `?bench` log too; a second call (none today) would keep the first.
fn init_log() {
    use tracing::Level;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    let filter = Targets::new()
        .with_default(Level::INFO)
        .with_target("wgpu", Level::ERROR)
        .with_target("naga", Level::WARN);
    let subscriber = tracing_subscriber::registry()
        .with(tracing_wasm::WASMLayer::new(
            tracing_wasm::WASMLayerConfig::default(),
        ))
        .with(filter);
    let _ = tracing_log::LogTracer::init();
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// The numbers the canvas draws, as text in the page's `#numbers` region (`aria-live`), every
/// 3 s: the residents' lines in the page's language and the tour's caption while it runs.
#[allow(clippy::too_many_arguments)]
fn publish_numbers(
    mut last_ms: Local<f64>,
    audience: Option<Res<super::Audience>>,
    ledger: Option<Res<crate::ledger::Ledger>>,
    clock: Option<Res<SimClock>>,
    spec: Option<Res<crate::base::SceneSpec>>,
    buildings: Option<Res<crate::demand::Buildings>>,
    consumers: Option<Res<crate::demand::Consumers>>,
    sites: Option<Res<crate::quantum::Sites>>,
    stations: Option<Res<crate::plants::Stations>>,
    thermal: Option<Res<crate::thermal::ThermalState>>,
    weather: Option<Res<crate::weather::WeatherNow>>,
    tour: Option<Res<Tour>>,
) {
    let now = now_ms();
    if *last_ms > 0.0 && now - *last_ms < 3000.0 {
        return;
    }
    let (
        Some(a),
        Some(l),
        Some(clock),
        Some(spec),
        Some(b),
        Some(c),
        Some(s),
        Some(st),
        Some(th),
        Some(w),
    ) = (
        audience, ledger, clock, spec, buildings, consumers, sites, stations, thermal, weather,
    )
    else {
        return;
    };
    *last_ms = now;
    let k = crate::ledger::report::Kpis::from_ledger(&l);
    let lines = super::plain::lines_now(&l, clock.tick_s, &spec.scene, &b, a.lang);
    let caption = tour.filter(|t| t.active).map(|t| {
        super::tour::caption_in(
            t.step,
            &super::tour::TourValues {
                buildings: &b,
                consumers: &c,
                sites: &s,
                stations: &st,
                thermal: &th,
                weather: &w,
                kpis: k.clone(),
            },
            a.lang,
        )
    });
    let text = super::plain::text_alternative(&lines, caption.as_ref());
    if let Some(el) = window()
        .document()
        .and_then(|d| d.get_element_by_id("numbers"))
    {
        el.set_text_content(Some(&text));
    }
    if let Some(html) = window().document().and_then(|d| d.document_element()) {
        let _ = html.set_attribute("lang", a.lang.code());
    }
}

/// Frame count, first-frame time and simulated time on `<body>` for the page and its test.
fn publish_progress(
    mut frames: Local<u64>,
    mut last_ms: Local<f64>,
    clock: Option<Res<SimClock>>,
    tour: Option<Res<Tour>>,
    planner: Option<Res<Planner>>,
    selection: Option<Res<super::ui::Selection>>,
) {
    *frames += 1;
    let now = now_ms();
    if *frames == 1 {
        set_data("first-frame-ms", &format!("{now:.0}"));
    }
    // Every frame for the first few, then five times a second is plenty (by time, not frame count:
    // software WebGL may draw only a frame or two a second).
    if *frames > 10 && now - *last_ms < 200.0 {
        return;
    }
    *last_ms = now;
    set_data("frames", &frames.to_string());
    if let Some(c) = clock {
        set_data("sim-time-s", &format!("{:.0}", c.time_s));
        set_data("sim-ticks", &c.tick.to_string());
    }
    let step = tour
        .as_ref()
        .filter(|t| t.active)
        .map_or(-1, |t| t.step as i64);
    set_data("tour-step", &step.to_string());
    let try_rect = tour
        .as_ref()
        .and_then(|t| t.try_rect)
        .map_or(String::new(), |r| {
            format!("{:.0},{:.0},{:.0},{:.0}", r[0], r[1], r[2], r[3])
        });
    set_data("tour-try", &try_rect);
    // What the inspector shows: `kind:index`, empty when nothing is selected.
    let picked = selection
        .and_then(|s| s.pick)
        .map_or(String::new(), |p| format!("{:?}:{}", p.kind, p.index));
    set_data("selected", &picked);
    if let Some(p) = planner {
        let mode = match p.mode {
            PlaceMode::Off => "off",
            PlaceMode::NewSite => "new-site",
            PlaceMode::MoveSite(_) => "move-site",
        };
        set_data("planner-mode", mode);
        set_data("planner-open", if p.open { "1" } else { "0" });
    }
}

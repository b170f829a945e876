//! The planner's panel (what-if in the app): edits applied to the running world with an
//! undo/redo stack and its named edit list, save-as; a comparison of the edited city against the
//! baseline (both run over the same days and weather, off the UI thread natively), with a KPI
//! table, overlaid plots and a map layer of where the city got warmer or colder; the suitability
//! layer for a new quantum site and "suggest a site".
//!
//! Every edit goes through [`crate::whatif`]: the panels build `PATH=VALUE` edits
//! ([`crate::whatif::param::edit_for`]) or site edits, push them on the [`EditStack`] and apply
//! them live ([`apply_live`]); undo and redo rebuild the world from the scene they give back, keeping
//! the clock. When the world is rebuilt (a site placed, moved or removed, undo, redo) the city's
//! meshes are spawned again.

use std::sync::{Arc, Mutex};

use bevy::ecs::system::RunSystemOnce;
use bevy::picking::prelude::*;
use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};
use egui_plot::{Legend, Plot};

use super::camera::{MapPress, PointerOverUi};
use super::plain::Lang;
use super::ui::Selection;
use super::words::{tf, tr};
use super::world3d::{self, to3};
use crate::base::{Kind, SceneSpec, SimClock};
use crate::ledger::Ledger;
use crate::ledger::report::Kpis;
use crate::scene::Scene;
use crate::sim::{RunOptions, Simulation};
use crate::whatif::siting::{self, Suggestion, Suitability, SuitabilityOptions};
use crate::whatif::{
    EditStack, LiveEdit, LiveEdits, LiveOutcome, SiteTemplate, apply_live, param::edit_for,
    rebuild_keeping_clock,
};

/// Where a click on the map places a site.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum PlaceMode {
    #[default]
    Off,
    NewSite,
    MoveSite(String),
}

/// A request from the panel, carried out by [`apply_requests`] (which needs the whole world).
#[derive(Debug, Clone)]
// A handful of requests per click: their size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum PlanRequest {
    /// `PATH=VALUE` edit.
    Set(String, String),
    /// A prepared edit (a suggested site).
    Edit(crate::whatif::Edit),
    Undo,
    Redo,
}

/// A "suggest" run's result slot, filled by the thread that runs it.
pub type SuggestJob = Arc<Mutex<Option<Result<Vec<Suggestion>, String>>>>;

/// One finished or running comparison.
#[derive(Debug, Default, Clone)]
pub struct CompareResult {
    pub days: f64,
    /// Progress 0–1.
    pub progress: f64,
    pub base: Option<Kpis>,
    pub variant: Option<Kpis>,
    /// Every quarter hour: time (h), and per world heat delivered (MW), unmet (kW), waste heat (MW).
    pub t_h: Vec<f64>,
    pub series: [[Vec<f64>; 3]; 2],
    /// Per building, mean supply temperature at its node over the run, °C (base, variant).
    pub supply_c: [Vec<f64>; 2],
    pub unmet_kwh: [Vec<f64>; 2],
    pub error: Option<String>,
    /// Which finished comparison this is (1, 2, …; 0 while none has finished).
    pub generation: u64,
}

/// The planner's state.
#[derive(Resource)]
pub struct Planner {
    pub open: bool,
    /// The edited scene (the world's `SceneSpec` after every edit).
    pub scene: Scene,
    pub stack: EditStack,
    pub mode: PlaceMode,
    pub status: String,
    pub save_path: String,
    /// The planner's name for the last edit (shown in the list and saved).
    pub edit_name: String,
    pub requests: Vec<PlanRequest>,
    pub supply_shift_k: f64,
    pub return_temp_c: f64,
    pub carbon_scale: f64,
    pub insulation: usize,
    pub stretch: (String, String),
    pub site_fields: Option<(String, [f64; 5])>,
    /// The selected site's heat pump: (site id hash, capacity W, Carnot fraction).
    pub heat_pump_fields: Option<(u64, f64, f64)>,
    /// The last weather seed drawn from the panel.
    pub weather_seed: u64,
    pub suitability: Option<Suitability>,
    pub show_suitability: bool,
    pub suggestions: Vec<Suggestion>,
    /// A "suggest" run under way on a background thread (in the browser: done at once); its
    /// result lands here.
    pub suggest_job: Option<SuggestJob>,
    pub compare_days: f64,
    pub compare: Arc<Mutex<CompareResult>>,
    pub compare_running: bool,
    /// The comparison's map layer is on.
    pub compare_layer: bool,
    /// Each done edit as `PATH=VALUE` (parallel to `stack.done`; `None`: an edit made otherwise,
    /// a suggested site), for the proposal link ([`Planner::proposal_code`]).
    pub shared: Vec<Option<(String, String)>>,
    /// The same for `stack.undone`.
    pub shared_undone: Vec<Option<(String, String)>>,
    /// Start the comparison once the pending requests are applied (a proposal link opened).
    pub compare_when_applied: bool,
    /// The last link made with "share".
    pub share_link: Option<String>,
}

impl Planner {
    pub fn new(scene: &Scene) -> Self {
        Self {
            open: false,
            scene: scene.clone(),
            stack: EditStack::default(),
            mode: PlaceMode::Off,
            status: String::new(),
            save_path: "variant.ron".into(),
            edit_name: String::new(),
            requests: Vec::new(),
            supply_shift_k: -10.0,
            return_temp_c: scene.heat_network.return_temp_c,
            carbon_scale: 1.0,
            insulation: 2,
            stretch: (String::new(), String::new()),
            site_fields: None,
            heat_pump_fields: None,
            weather_seed: scene.seed,
            suitability: None,
            show_suitability: false,
            suggestions: Vec::new(),
            suggest_job: None,
            compare_days: 2.0,
            compare: Arc::new(Mutex::new(CompareResult::default())),
            compare_running: false,
            compare_layer: false,
            shared: Vec::new(),
            shared_undone: Vec::new(),
            compare_when_applied: false,
            share_link: None,
        }
    }
}

impl Planner {
    /// The proposal code of the done edits (see [`crate::whatif::proposal`]), for the base
    /// scene (the scene with every edit undone).
    pub fn proposal_code(&self) -> Result<String, String> {
        use crate::whatif::proposal;
        let mut edits = Vec::new();
        for (i, s) in self.shared.iter().enumerate() {
            match s {
                Some(e) => edits.push(e.clone()),
                None => {
                    return Err(format!(
                        "edit {} ({}) was not made with a parameter path and cannot be shared",
                        i + 1,
                        self.stack
                            .done
                            .get(i)
                            .map_or("?", |r| r.description.as_str())
                    ));
                }
            }
        }
        if edits.is_empty() {
            return Err("no edits to share".into());
        }
        let base = self.stack.base(&self.scene).map_err(|e| e.to_string())?;
        proposal::encode(&base, &edits).map_err(|e| e.to_string())
    }
}

/// The link of a proposal code: the page's own address in the browser, a bare fragment natively.
fn proposal_link(code: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        super::web::proposal_link(code)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crate::whatif::proposal::link("", code)
    }
}

/// Adds the planner (panel, requests, respawning the city after a rebuild, the map click).
pub fn add_planner(app: &mut App, scene: &Scene) {
    app.insert_resource(Planner::new(scene))
        .add_systems(Update, (apply_requests, respawn_city_after_rebuild).chain())
        .add_systems(Update, draw_suitability)
        .add_systems(
            bevy_egui::EguiPrimaryContextPass,
            planner_panel.run_if(super::not_embedded),
        )
        .add_observer(place_on_release);
}

/// Carries out the panel's requests on the world.
pub fn apply_requests(world: &mut World) {
    let requests = std::mem::take(&mut world.resource_mut::<Planner>().requests);
    let lang = page_lang(world);
    for r in requests {
        let (done0, undone0) = {
            let p = world.resource::<Planner>();
            (p.stack.done.len(), p.stack.undone.len())
        };
        let (kind, shared) = match &r {
            PlanRequest::Set(path, value) => (0, Some((path.clone(), value.clone()))),
            PlanRequest::Edit(_) => (0, None),
            PlanRequest::Undo => (1, None),
            PlanRequest::Redo => (2, None),
        };
        let msg = match r {
            PlanRequest::Set(path, value) => {
                let scene = world.resource::<Planner>().scene.clone();
                match edit_for(&scene, &path, &value) {
                    Ok(edit) => push_live(world, edit, lang),
                    Err(e) => format!("{path}={value}: {e}"),
                }
            }
            PlanRequest::Edit(edit) => push_live(world, edit, lang),
            PlanRequest::Undo | PlanRequest::Redo => {
                let undo = matches!(r, PlanRequest::Undo);
                let mut p = world.resource_mut::<Planner>();
                let p = &mut *p;
                let done = if undo {
                    p.stack
                        .undo(&mut p.scene)
                        .map(|r| r.map(|r| r.description.clone()))
                } else {
                    p.stack
                        .redo(&mut p.scene)
                        .map(|r| r.map(|r| r.description.clone()))
                };
                match done {
                    Ok(Some(desc)) => {
                        let scene = p.scene.clone();
                        rebuild_keeping_clock(world, &scene);
                        let clock = world.resource::<SimClock>().clone();
                        let what = format!(
                            "{} {desc}",
                            if undo {
                                tr(lang, "undo:")
                            } else {
                                tr(lang, "redo:")
                            }
                        );
                        let mut log = world.get_resource_or_insert_with(LiveEdits::default);
                        log.generation += 1;
                        log.log.push(LiveEdit {
                            tick: clock.tick,
                            time_s: clock.time_s,
                            description: what.clone(),
                            outcome: LiveOutcome::Rebuilt,
                        });
                        what
                    }
                    Ok(None) => tr(lang, "nothing to undo or redo").into(),
                    Err(e) => format!("{e}"),
                }
            }
        };
        let mut p = world.resource_mut::<Planner>();
        // Keep the edits' `PATH=VALUE` in step with the stack (for the proposal link).
        let (done, undone) = (p.stack.done.len(), p.stack.undone.len());
        match kind {
            0 if done == done0 + 1 => {
                p.shared.push(shared);
                p.shared_undone.clear();
            }
            1 if done + 1 == done0 => {
                let s = p.shared.pop().flatten();
                p.shared_undone.push(s);
            }
            2 if done == done0 + 1 && undone + 1 == undone0 => {
                let s = p.shared_undone.pop().flatten();
                p.shared.push(s);
            }
            _ => {}
        }
        p.share_link = None;
        p.status = msg;
    }
    let mut p = world.resource_mut::<Planner>();
    if p.compare_when_applied && p.requests.is_empty() {
        p.compare_when_applied = false;
        if !p.stack.done.is_empty() && !p.compare_running {
            start_compare(&mut p);
            // The map of what changed: where the supply got warmer or colder than the baseline.
            p.compare_layer = true;
        }
    }
}

/// Applies `edit` to the running world and, if that worked, pushes it on the stack.
/// The page's language, for the planner's status line.
fn page_lang(world: &World) -> Lang {
    world
        .get_resource::<super::Audience>()
        .map_or(Lang::En, |a| a.lang)
}

fn push_live(world: &mut World, edit: crate::whatif::Edit, lang: Lang) -> String {
    match apply_live(world, &edit) {
        Ok(outcome) => {
            let mut p = world.resource_mut::<Planner>();
            let p = &mut *p;
            match p.stack.push(&mut p.scene, edit) {
                Ok(r) => format!(
                    "{} ({})",
                    r.description,
                    match outcome {
                        LiveOutcome::InPlace => tr(lang, "applied to the running city"),
                        LiveOutcome::Rebuilt => tr(
                            lang,
                            "the network changed: the city was rebuilt, clock kept"
                        ),
                    }
                ),
                Err(e) => format!("{e}"),
            }
        }
        Err(e) => tf(lang, "not applied: {}", &[&e]),
    }
}

/// After a rebuild, the city's meshes are spawned again from the new scene.
pub fn respawn_city_after_rebuild(world: &mut World, mut seen: Local<u64>) {
    let generation = world
        .get_resource::<LiveEdits>()
        .map_or(0, |l| l.generation);
    if generation == *seen {
        return;
    }
    *seen = generation;
    let old: Vec<Entity> = world
        .query_filtered::<Entity, (With<Mesh3d>, Without<Camera>)>()
        .iter(world)
        .collect();
    for e in old {
        world.despawn(e);
    }
    world.resource_mut::<Selection>().pick = None;
    // Rewind points hold the old network: they cannot be restored into the new one.
    if let Some(mut store) = world.get_resource_mut::<crate::snapshot::RewindStore>() {
        store.points.clear();
    }
    let _ = world.run_system_once(world3d::spawn_city);
}

/// A click on the map ([`MapPress`]) while placing or moving a site puts it where the pointer is
/// released.
fn place_on_release(
    release: On<Pointer<Release>>,
    over_ui: Res<PointerOverUi>,
    press: Res<MapPress>,
    mut taken: Local<u64>,
    mut planner: ResMut<Planner>,
) {
    if !press.is_click(&release, *taken) {
        return;
    }
    *taken = press.seq();
    if over_ui.0 || planner.mode == PlaceMode::Off {
        return;
    }
    let Some(p) = release.hit.position else {
        return;
    };
    if let Some(r) = placement(&mut planner, p) {
        planner.requests.push(r);
    }
}

/// The edit that puts the site being placed or moved at the map point `p` (bevy's coordinates:
/// scene `x`, height, `−y`), ending the placing mode; `None` when not placing.
fn placement(planner: &mut Planner, p: Vec3) -> Option<PlanRequest> {
    let pos = format!("{:.0}:{:.0}", p.x, -p.z);
    let id = match std::mem::take(&mut planner.mode) {
        PlaceMode::MoveSite(id) => id,
        PlaceMode::NewSite => {
            let mut n = planner.scene.quantum_sites.len() + 1;
            while planner
                .scene
                .quantum_sites
                .iter()
                .any(|s| s.id == format!("q{n}"))
            {
                n += 1;
            }
            format!("q{n}")
        }
        PlaceMode::Off => return None,
    };
    Some(PlanRequest::Set(format!("sites.{id}.pos"), pos))
}

/// The suitability layer: a square per candidate, coloured by score.
fn draw_suitability(planner: Res<Planner>, mut gizmos: Gizmos) {
    let Some(s) = planner
        .suitability
        .as_ref()
        .filter(|_| planner.show_suitability)
    else {
        return;
    };
    let cmap = super::colormap::QUANTUM;
    let half = (s.spacing_m * 0.45) as f32;
    for c in &s.candidates {
        let centre = to3(c.pos, 1.5);
        let col = cmap.color(c.score as f32);
        gizmos.rect(
            Isometry3d::new(centre, Quat::from_rotation_x(-std::f32::consts::FRAC_PI_2)),
            Vec2::splat(2.0 * half),
            col,
        );
    }
    for (i, sg) in planner.suggestions.iter().enumerate() {
        let p = to3(sg.candidate.pos, 2.0);
        gizmos.circle(
            Isometry3d::new(p, Quat::from_rotation_x(-std::f32::consts::FRAC_PI_2)),
            30.0 + 6.0 * i as f32,
            Color::srgb(1.0, 0.85, 0.1),
        );
    }
}

/// Colours buildings by the comparison's difference of supply temperature while its layer is on:
/// when it is turned on, when a new comparison arrives and when the map layer painted over the
/// buildings; a frame where none of that happened touches no building. Turned off, it hands the
/// buildings back to the map layer.
pub fn color_compare_layer(
    planner: Res<Planner>,
    assets: Option<Res<world3d::ViewAssets>>,
    mut paint: ResMut<world3d::LayerPaint>,
    mut shown: Local<Option<u64>>,
    mut q: Query<(&world3d::BuildingVis, &mut MeshMaterial3d<StandardMaterial>)>,
) {
    if !planner.compare_layer {
        if shown.take().is_some() {
            paint.repaint = true;
        }
        return;
    }
    let Some(assets) = assets else { return };
    let r = planner.compare.lock().expect("compare lock");
    if r.supply_c[0].is_empty() || r.supply_c[1].len() != r.supply_c[0].len() {
        return;
    }
    if *shown == Some(r.generation) && !paint.painted_now && !assets.is_changed() {
        return;
    }
    *shown = Some(r.generation);
    let mut visited = 0u64;
    for (bv, mut mat) in &mut q {
        visited += 1;
        let i = bv.index as usize;
        let Some((a, b)) = r.supply_c[0].get(i).zip(r.supply_c[1].get(i)) else {
            continue;
        };
        // −10 K … +10 K on the thermal palette: blue colder, red warmer than the baseline.
        let x = (((b - a) / 20.0) + 0.5).clamp(0.0, 1.0) as f32;
        let h = assets.thermal.get(x);
        if mat.0 != *h {
            mat.0 = h.clone();
        }
    }
    paint.buildings_visited += visited;
}

/// Numbers the comparisons run in this process (a finished one is painted once, not every frame).
static COMPARE_RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Runs base and variant over the same days (same seed, so the same weather), recording series.
pub fn run_compare(base: Scene, variant: Scene, days: f64, out: Arc<Mutex<CompareResult>>) {
    let seed = base.seed;
    let mk = |s: &Scene| {
        Simulation::new(
            s,
            &RunOptions {
                seed: Some(seed),
                ..Default::default()
            },
        )
    };
    let (mut a, mut b) = match (mk(&base), mk(&variant)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            out.lock().expect("compare lock").error = Some(e.to_string());
            return;
        }
    };
    let ticks = (days * 86_400.0 / a.clock().tick_s).round().max(1.0) as u64;
    let every = (900.0 / a.clock().tick_s).max(1.0) as u64;
    let nb = base.buildings.len();
    let mut supply = [vec![0.0; nb], vec![0.0; nb]];
    let mut unmet = [vec![0.0; nb], vec![0.0; nb]];
    let mut res = CompareResult {
        days,
        ..Default::default()
    };
    for t in 0..ticks {
        for (w, sim) in [&mut a, &mut b].into_iter().enumerate() {
            sim.step();
            let th = sim.res::<crate::thermal::ThermalState>();
            let c = sim.res::<crate::demand::Consumers>();
            let dt_h = sim.clock().tick_s / 3600.0;
            for i in 0..nb.min(c.node.len()) {
                if let Some(n) = c.node[i] {
                    supply[w][i] += th.supply_node_temp_c[n as usize];
                }
                unmet[w][i] += c.unmet_w()[i] / 1e3 * dt_h;
            }
            if t % every == 0 {
                let st = sim.res::<crate::plants::Stations>();
                res.series[w][0].push(st.heat_w.iter().sum::<f64>() / 1e6);
                res.series[w][1].push(c.unmet_w().iter().sum::<f64>() / 1e3);
                res.series[w][2].push(st.hp_source_w.iter().sum::<f64>() / 1e6);
            }
        }
        if t % every == 0 {
            res.t_h.push(a.clock().time_s / 3600.0);
        }
        if t % 240 == 0 {
            let mut o = out.lock().expect("compare lock");
            o.progress = t as f64 / ticks as f64;
        }
    }
    for x in supply.iter_mut().flatten() {
        *x /= ticks as f64;
    }
    res.base = Some(Kpis::from_ledger(a.res::<Ledger>()));
    res.variant = Some(Kpis::from_ledger(b.res::<Ledger>()));
    res.supply_c = supply;
    res.unmet_kwh = unmet;
    res.progress = 1.0;
    res.generation = 1 + COMPARE_RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    *out.lock().expect("compare lock") = res;
}

fn start_compare(p: &mut Planner) {
    let base = match p.stack.base(&p.scene) {
        Ok(b) => b,
        Err(e) => {
            p.status = format!("{e}");
            return;
        }
    };
    let variant = p.scene.clone();
    let days = p.compare_days;
    *p.compare.lock().expect("compare lock") = CompareResult {
        days,
        ..Default::default()
    };
    let out = p.compare.clone();
    p.compare_running = true;
    in_background(move || run_compare(base, variant, days, out));
}

/// Runs `work` on a background thread so the window stays live; the browser has no threads, so
/// there it runs at once (a day of riverside takes seconds).
fn in_background(work: impl FnOnce() + Send + 'static) {
    #[cfg(not(target_arch = "wasm32"))]
    std::thread::spawn(work);
    #[cfg(target_arch = "wasm32")]
    work();
}

fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// Starts "suggest 3 sites": each candidate is judged by a 1-day run against the base, which takes
/// seconds, so it runs in the background.
fn start_suggest(p: &mut Planner, lang: Lang) {
    let scene = p.scene.clone();
    let job = Arc::new(Mutex::new(None));
    let out = job.clone();
    let work = move || {
        let t = SiteTemplate::from_scene(&scene);
        let spec = crate::whatif::runs::RunSpec {
            days: 1.0,
            ..Default::default()
        };
        let r = siting::suggest(&scene, &t, &SuitabilityOptions::default(), 3, 200.0, &spec)
            .map(|(_, s)| s)
            .map_err(|e| e.to_string());
        *out.lock().expect("suggest lock") = Some(r);
    };
    in_background(work);
    p.suggest_job = Some(job);
    p.status = tr(lang, "suggesting sites: 1-day runs of the best candidates…").into();
}

/// The request that places a suggested site: its `sites.<id>.pos=X:Y` edit, which builds the
/// suggestion's site (both are `add_site` at the candidate with the scene's first site as template),
/// so a proposal link can carry it (`{}` writes the position so that it parses back exactly). An
/// edit of another kind (none today) is pushed as it is and cannot be shared.
fn place_suggestion(edit: &crate::whatif::Edit, pos: [f64; 2]) -> PlanRequest {
    match edit {
        crate::whatif::Edit::AddSite { bundle, .. } => PlanRequest::Set(
            format!("sites.{}.pos", bundle.site.1.id),
            format!("{}:{}", pos[0], pos[1]),
        ),
        other => PlanRequest::Edit(other.clone()),
    }
}

/// Takes a finished "suggest" run's result.
fn poll_suggest(p: &mut Planner, lang: Lang) {
    let Some(job) = &p.suggest_job else { return };
    let Some(r) = job.lock().expect("suggest lock").take() else {
        return;
    };
    p.suggest_job = None;
    match r {
        Ok(s) => {
            p.status = tf(lang, "{} suggestions from 1-day runs", &[&s.len()]);
            p.suggestions = s;
            p.show_suitability = true;
        }
        Err(e) => p.status = e,
    }
}

/// Where the planner's button leaves its width for the control room's toggles (egui's memory).
pub const PLANNER_BUTTON_W: &str = "planner_button_width";

const INSULATION: [&str; 3] = ["Series1", "Series2", "Series3"];

#[allow(clippy::too_many_arguments)]
fn planner_panel(
    mut contexts: EguiContexts,
    mut planner: ResMut<Planner>,
    sel: Res<Selection>,
    spec: Res<SceneSpec>,
    live: Option<Res<LiveEdits>>,
    clock: Res<SimClock>,
    net: Res<crate::network::Network>,
    mut over_ui: ResMut<PointerOverUi>,
    tour: Option<Res<super::tour::Tour>>,
    right_w: Res<super::camera::RightPanelWidth>,
    audience: Res<super::Audience>,
) -> Result {
    let lang = audience.lang;
    let ctx = contexts.ctx_mut()?.clone();
    // The guided tour has the screen to itself.
    if tour.is_some_and(|t| t.active) {
        return Ok(());
    }
    let p = &mut *planner;
    let button = egui::Area::new(egui::Id::new("planner_button"))
        .anchor(
            egui::Align2::RIGHT_BOTTOM,
            egui::vec2(-12.0 - right_w.0, -12.0),
        )
        .show(&ctx, |ui| {
            super::ui::toolbar_frame().show(ui, |ui| {
                if ui
                    .selectable_label(
                        p.open,
                        egui::RichText::new(tr(lang, "✏ What if…")).size(16.0),
                    )
                    .clicked()
                {
                    p.open = !p.open;
                }
            });
        });
    // The control room's toggles sit left of this button, whose width depends on the language.
    ctx.data_mut(|d| {
        d.insert_temp(
            egui::Id::new(PLANNER_BUTTON_W),
            button.response.rect.width(),
        )
    });
    poll_suggest(p, lang);
    if !p.open {
        return Ok(());
    }
    if p.compare_running && p.compare.lock().expect("compare lock").progress >= 1.0 {
        p.compare_running = false;
    }
    let mut open = p.open;
    egui::Window::new(tr(lang, "What if"))
        .open(&mut open)
        .default_pos(egui::pos2(240.0, 420.0))
        .default_width(420.0)
        .vscroll(true)
        .show(&ctx, |ui| {
            // --- status and the edit list
            if let Some((t, what)) = live.as_ref().and_then(|l| l.mixed_since()) {
                ui.colored_label(
                    egui::Color32::from_rgb(230, 140, 30),
                    tf(lang, "⚠ KPIs since the start mix results from before and after “{}” (made at {:.1} h): compare for clean numbers", &[&what, &(t / 3600.0)]),
                );
            }
            if !p.status.is_empty() {
                ui.label(egui::RichText::new(&p.status).italics());
            }
            ui.horizontal(|ui| {
                if ui.add_enabled(!p.stack.done.is_empty(), egui::Button::new(tr(lang, "undo"))).clicked() {
                    p.requests.push(PlanRequest::Undo);
                }
                if ui.add_enabled(!p.stack.undone.is_empty(), egui::Button::new(tr(lang, "redo"))).clicked() {
                    p.requests.push(PlanRequest::Redo);
                }
                ui.label(tf(lang, "{} edit(s)", &[&(p.stack.done.len())]));
                if ui
                    .add_enabled(!p.stack.done.is_empty(), egui::Button::new(tr(lang, "share link")))
                    .on_hover_text(tr(lang, "copy a link that opens these edits on this scene"))
                    .clicked()
                {
                    match p.proposal_code() {
                        Ok(code) => {
                            let link = proposal_link(&code);
                            ui.ctx().copy_text(link.clone());
                            p.status = tf(lang, "link copied ({} characters): open it in the page, or with `qtwin view SCENE --proposal LINK`", &[&(link.len())]);
                            p.share_link = Some(link);
                        }
                        Err(e) => p.status = tf(lang, "cannot share: {}", &[&e]),
                    }
                }
            });
            if let Some(l) = &p.share_link {
                ui.label(egui::RichText::new(l).small().monospace());
            }
            for (i, r) in p.stack.done.iter().enumerate() {
                ui.label(egui::RichText::new(format!("{}. {}", i + 1, r.description)).small());
            }
            if !p.stack.done.is_empty() {
                ui.horizontal(|ui| {
                    ui.label(tr(lang, "name the last edit"));
                    ui.add(egui::TextEdit::singleline(&mut p.edit_name).desired_width(180.0));
                    if ui.button(tr(lang, "rename")).clicked() && !p.edit_name.trim().is_empty() {
                        let name = p.edit_name.trim().to_string();
                        if let Some(r) = p.stack.done.last_mut() {
                            r.description = name;
                        }
                        p.edit_name.clear();
                    }
                });
            }
            #[cfg(not(target_arch = "wasm32"))]
            ui.horizontal(|ui| {
                ui.label(tr(lang, "save as"));
                ui.text_edit_singleline(&mut p.save_path);
                if ui.button(tr(lang, "save")).clicked() {
                    let text = p.stack.save_ron(&p.scene);
                    p.status = match std::fs::write(&p.save_path, text) {
                        Ok(()) => tf(lang, "saved {} with {} edit(s)", &[&p.save_path, &(p.stack.done.len())]),
                        Err(e) => format!("{}: {e}", p.save_path),
                    };
                }
            });

            ui.separator();
            // --- network
            egui::CollapsingHeader::new(tr(lang, "Network temperatures")).default_open(true).show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.add(egui::Slider::new(&mut p.supply_shift_k, -25.0..=15.0).text(tr(lang, "supply shift, K")));
                    if ui.button(tr(lang, "apply")).clicked() {
                        p.requests.push(PlanRequest::Set("network.supply_shift_k".into(), format!("{}", p.supply_shift_k)));
                    }
                });
                ui.horizontal(|ui| {
                    ui.add(egui::Slider::new(&mut p.return_temp_c, 20.0..=60.0).text(tr(lang, "return, °C")));
                    if ui.button(tr(lang, "apply")).clicked() {
                        p.requests.push(PlanRequest::Set("network.return_temp_c".into(), format!("{}", p.return_temp_c)));
                    }
                });
                ui.label(tf(lang, "now: supply {:.0} °C at mild weather{}, return {:.0} °C", &[&spec.scene.heat_network.supply_temp_c, &(spec.scene
                        .heat_network
                        .supply_temp_at_design_c
                        .map_or(String::new(), |t| tf(lang, ", {:.0} °C at design", &[&t]))), &spec.scene.heat_network.return_temp_c]));
            });
            // --- pipes
            egui::CollapsingHeader::new(tr(lang, "Pipe insulation")).show(ui, |ui| {
                ui.horizontal(|ui| {
                    for (i, n) in INSULATION.iter().enumerate() {
                        ui.radio_value(&mut p.insulation, i, *n);
                    }
                });
                let ins = INSULATION[p.insulation];
                let picked_pipe = sel.pick.filter(|k| k.kind == Kind::Pipe).and_then(|k| net.pipe_ids.get(k.index as usize).cloned());
                if let Some(id) = picked_pipe {
                    if ui.button(tf(lang, "apply to the selected pipe {}", &[&id])).clicked() {
                        p.requests.push(PlanRequest::Set(format!("pipes.{id}.insulation"), ins.into()));
                    }
                } else {
                    ui.label(egui::RichText::new(tr(lang, "select a pipe on the map to insulate it alone")).small());
                }
                ui.horizontal(|ui| {
                    ui.label(tr(lang, "stretch from node"));
                    ui.add(egui::TextEdit::singleline(&mut p.stretch.0).desired_width(60.0));
                    ui.label(tr(lang, "to"));
                    ui.add(egui::TextEdit::singleline(&mut p.stretch.1).desired_width(60.0));
                    if ui.button(tr(lang, "apply")).clicked() {
                        p.requests.push(PlanRequest::Set(format!("pipes.{}..{}.insulation", p.stretch.0.trim(), p.stretch.1.trim()), ins.into()));
                    }
                });
                if ui.button(tf(lang, "apply to every pipe ({})", &[&ins])).clicked() {
                    p.requests.push(PlanRequest::Set("pipes.*.insulation".into(), ins.into()));
                }
            });
            // --- sites
            egui::CollapsingHeader::new(tr(lang, "Quantum sites")).default_open(true).show(ui, |ui| {
                ui.horizontal(|ui| {
                    if ui.selectable_label(p.mode == PlaceMode::NewSite, tr(lang, "➕ place a new site")).clicked() {
                        p.mode = if p.mode == PlaceMode::NewSite { PlaceMode::Off } else { PlaceMode::NewSite };
                    }
                    if p.mode != PlaceMode::Off {
                        ui.colored_label(egui::Color32::from_rgb(255, 200, 60), tr(lang, "click on the map"));
                    }
                });
                let picked_site = sel.pick.filter(|k| k.kind == Kind::Site).and_then(|k| spec.scene.quantum_sites.get(k.index as usize).cloned());
                match picked_site {
                    None => {
                        ui.label(egui::RichText::new(tr(lang, "select a site on the map to resize, move or remove it")).small());
                    }
                    Some(s) => {
                        if p.site_fields.as_ref().is_none_or(|(id, _)| *id != s.id) {
                            p.site_fields = Some((
                                s.id.clone(),
                                [s.qubits as f64, s.compressor_power_w, s.servers_power_w, s.recoverable_heat_share, s.recovered_water_temp_c],
                            ));
                        }
                        let (id, f) = p.site_fields.as_mut().expect("just set");
                        let id = id.clone();
                        ui.label(egui::RichText::new(tf(lang, "site {}", &[&id])).strong());
                        ui.add(egui::Slider::new(&mut f[0], 5.0..=2000.0).text(tr(lang, "qubits")).integer());
                        ui.add(egui::Slider::new(&mut f[1], 5e3..=100e3).text(tr(lang, "compressor, W")));
                        ui.add(egui::Slider::new(&mut f[2], 0.0..=200e3).text(tr(lang, "servers, W")));
                        ui.add(egui::Slider::new(&mut f[3], 0.0..=0.95).text(tr(lang, "recoverable heat share")));
                        ui.add(egui::Slider::new(&mut f[4], 15.0..=60.0).text(tr(lang, "water, °C")));
                        let f = *f;
                        // Its heat pump.
                        let hp = crate::whatif::heat_pumps_of_site(&spec.scene, &id)
                            .first()
                            .and_then(|p| match p {
                                crate::scene::Plant::HeatPump { capacity_w, carnot_fraction, .. } => Some((*capacity_w, *carnot_fraction)),
                                _ => None,
                            });
                        if let Some((cap, carnot)) = hp {
                            if p.heat_pump_fields.is_none_or(|(sid, _, _)| sid != id_hash(&id)) {
                                p.heat_pump_fields = Some((id_hash(&id), cap, carnot));
                            }
                            if let Some((_, c, k)) = p.heat_pump_fields.as_mut() {
                                ui.add(egui::Slider::new(c, 50e3..=3e6).text(tr(lang, "heat pump capacity, W")));
                                ui.add(egui::Slider::new(k, 0.3..=0.7).text(tr(lang, "heat pump Carnot fraction")));
                                let (c, k) = (*c, *k);
                                if ui.button(tr(lang, "apply heat pump")).clicked() {
                                    if c != cap {
                                        p.requests.push(PlanRequest::Set(format!("sites.{id}.heat_pump.capacity_w"), format!("{c}")));
                                    }
                                    if k != carnot {
                                        p.requests.push(PlanRequest::Set(format!("sites.{id}.heat_pump.carnot_fraction"), format!("{k}")));
                                    }
                                }
                            }
                        }
                        ui.horizontal(|ui| {
                            if ui.button(tr(lang, "apply size")).clicked() {
                                let fields = ["qubits", "compressor_power_w", "servers_power_w", "recoverable_heat_share", "recovered_water_temp_c"];
                                let olds = [s.qubits as f64, s.compressor_power_w, s.servers_power_w, s.recoverable_heat_share, s.recovered_water_temp_c];
                                for ((name, new), old) in fields.iter().zip(f).zip(olds) {
                                    if new != old {
                                        let v = if *name == "qubits" { format!("{}", new.round()) } else { format!("{new}") };
                                        p.requests.push(PlanRequest::Set(format!("sites.{id}.{name}"), v));
                                    }
                                }
                            }
                            if ui.button(tr(lang, "move")).clicked() {
                                p.mode = PlaceMode::MoveSite(id.clone());
                            }
                            if ui.button(tr(lang, "remove")).clicked() {
                                p.requests.push(PlanRequest::Set(format!("sites.{id}.remove"), "true".into()));
                            }
                        });
                    }
                }
            });
            // --- PV, weather, carbon
            egui::CollapsingHeader::new(tr(lang, "PV, weather year, grid carbon")).show(ui, |ui| {
                let picked_b = sel.pick.filter(|k| k.kind == Kind::Building).and_then(|k| spec.scene.buildings.get(k.index as usize).map(|b| b.id.clone()));
                match picked_b {
                    Some(b) => {
                        ui.horizontal(|ui| {
                            if ui.button(tf(lang, "PV on the roof of {}", &[&b])).clicked() {
                                p.requests.push(PlanRequest::Set(format!("pv.{b}.peak_w"), "auto".into()));
                            }
                            if ui.button(tr(lang, "remove its PV")).clicked() {
                                p.requests.push(PlanRequest::Set(format!("pv.{b}.peak_w"), "0".into()));
                            }
                        });
                    }
                    None => {
                        ui.label(egui::RichText::new(tr(lang, "select a building to put PV on its roof")).small());
                    }
                }
                ui.horizontal(|ui| {
                    ui.label(tr(lang, "weather year"));
                    for (y, label) in [("mild", tr(lang, "mild")), ("typical", tr(lang, "typical")), ("cold", tr(lang, "cold"))] {
                        if ui.button(label).clicked() {
                            p.requests.push(PlanRequest::Set("weather.year".into(), y.into()));
                        }
                    }
                    if ui.button(tr(lang, "another draw")).on_hover_text(tr(lang, "the same climate with another seed of its weather noise")).clicked() {
                        p.weather_seed += 1;
                        p.requests.push(PlanRequest::Set("weather.seed".into(), format!("{}", p.weather_seed)));
                    }
                });
                ui.horizontal(|ui| {
                    ui.add(egui::Slider::new(&mut p.carbon_scale, 0.0..=2.0).text(tr(lang, "grid carbon ×")));
                    if ui.button(tr(lang, "apply")).clicked() {
                        p.requests.push(PlanRequest::Set("grid.carbon_scale".into(), format!("{}", p.carbon_scale)));
                    }
                });
            });

            ui.separator();
            // --- compare
            egui::CollapsingHeader::new(tr(lang, "Compare with the baseline")).default_open(true).show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.add(egui::Slider::new(&mut p.compare_days, 0.5..=14.0).text(tr(lang, "days")));
                    if ui.add_enabled(!p.compare_running && !p.stack.done.is_empty(), egui::Button::new(tr(lang, "run"))).clicked() {
                        start_compare(p);
                    }
                });
                let cmp = p.compare.clone();
                let r = cmp.lock().expect("compare lock");
                if p.compare_running {
                    ui.add(egui::ProgressBar::new(r.progress as f32).text(tr(lang, "running both worlds…")));
                }
                if let Some(e) = &r.error {
                    ui.colored_label(egui::Color32::RED, e);
                }
                if let (Some(a), Some(b)) = (&r.base, &r.variant) {
                    ui.checkbox(&mut p.compare_layer, tr(lang, "map: Δ supply temperature (blue colder, red warmer)"));
                    let rows: [(&str, f64, f64, &str); 9] = [
                        (tr(lang, "heat delivered"), a.heat_delivered_kwh / 1e3, b.heat_delivered_kwh / 1e3, "MWh"),
                        (tr(lang, "unmet heat"), a.unmet_heat_kwh, b.unmet_heat_kwh, "kWh"),
                        (tr(lang, "waste heat recovered"), a.waste_heat_recovered_kwh / 1e3, b.waste_heat_recovered_kwh / 1e3, "MWh"),
                        (tr(lang, "heat from quantum sites"), 100.0 * a.waste_heat_share, 100.0 * b.waste_heat_share, "%"),
                        (tr(lang, "boiler gas"), a.boiler_gas_kwh / 1e3, b.boiler_gas_kwh / 1e3, "MWh"),
                        (tr(lang, "heat losses"), a.heat_losses_kwh / 1e3, b.heat_losses_kwh / 1e3, "MWh"),
                        (tr(lang, "heat-pump electricity"), a.heat_pump_electricity_kwh / 1e3, b.heat_pump_electricity_kwh / 1e3, "MWh"),
                        ("CO₂", a.co2_kg / 1e3, b.co2_kg / 1e3, "t"),
                        (tr(lang, "renewable share"), 100.0 * a.renewable_share, 100.0 * b.renewable_share, "%"),
                    ];
                    egui::Grid::new("cmp").striped(true).show(ui, |ui| {
                        ui.strong(tr(lang, "KPI"));
                        ui.strong(tr(lang, "base"));
                        ui.strong(tr(lang, "variant"));
                        ui.strong(tr(lang, "Δ"));
                        ui.strong(tr(lang, "Δ %"));
                        ui.end_row();
                        for (name, x, y, unit) in rows {
                            ui.label(format!("{name} ({unit})"));
                            ui.label(tf(lang, "{:.2}", &[&x]));
                            ui.label(tf(lang, "{:.2}", &[&y]));
                            ui.label(tf(lang, "{:+.2}", &[&(y - x)]));
                            ui.label(if x != 0.0 { tf(lang, "{:+.1}", &[&(100.0 * (y - x) / x.abs())]) } else { "—".into() });
                            ui.end_row();
                        }
                    });
                    let worse = r.unmet_kwh[0].iter().zip(&r.unmet_kwh[1]).filter(|(a, b)| **b > **a + 0.1).count();
                    let better = r.unmet_kwh[0].iter().zip(&r.unmet_kwh[1]).filter(|(a, b)| **b + 0.1 < **a).count();
                    ui.label(tf(lang, "{} buildings with less unmet heat, {} with more (over {:.1} days)", &[&better, &worse, &r.days]));
                    for (k, name) in [tr(lang, "heat delivered (MW)"), tr(lang, "unmet heat (kW)"), tr(lang, "waste heat recovered (MW)")].iter().enumerate() {
                        ui.label(*name);
                        Plot::new(format!("cmp{k}")).height(90.0).legend(Legend::default()).show(ui, |pl| {
                            pl.line(super::ui::line(tr(lang, "base"), &r.t_h, &r.series[0][k]));
                            pl.line(super::ui::line(tr(lang, "variant"), &r.t_h, &r.series[1][k]));
                        });
                    }
                }
            });

            ui.separator();
            // --- siting
            egui::CollapsingHeader::new(tr(lang, "Where to put a new site")).show(ui, |ui| {
                let w = SuitabilityOptions::default().weights;
                ui.label(egui::RichText::new(tf(lang, "score = weighted mean of heat demand density ({:.2}), distance to the network ({:.2}), spare pipe capacity ({:.2}), feeder headroom ({:.2}), fibre latency ({:.2})", &[&w.heat_demand_density, &w.network_distance, &w.network_spare_capacity, &w.feeder_headroom, &w.fibre_latency])).small());
                ui.horizontal(|ui| {
                    if ui.button(tr(lang, "show suitability")).clicked() {
                        let t = SiteTemplate::from_scene(&p.scene);
                        p.suitability = Some(siting::suitability(&p.scene, &t, None, &SuitabilityOptions::default()));
                        p.show_suitability = true;
                    }
                    ui.checkbox(&mut p.show_suitability, tr(lang, "layer"));
                    if ui
                        .add_enabled(p.suggest_job.is_none(), egui::Button::new(tr(lang, "suggest 3 sites (1-day runs)")))
                        .clicked()
                    {
                        start_suggest(p, lang);
                    }
                    if p.suggest_job.is_some() {
                        ui.spinner();
                    }
                });
                let mut place = None;
                for s in &p.suggestions {
                    let d = |k: &str| s.diff.get(k).and_then(|v| v.get("abs")).and_then(|v| v.as_f64()).unwrap_or(0.0);
                    ui.horizontal_wrapped(|ui| {
                        ui.label(tf(lang, "#{} at ({:.0}, {:.0}) score {:.2}: waste heat {:+.0} kWh, gas {:+.0} kWh, CO₂ {:+.0} kg", &[&s.rank, &s.candidate.pos[0], &s.candidate.pos[1], &s.candidate.score, &(d("waste_heat_recovered_kwh")), &(d("boiler_gas_kwh")), &(d("co2_kg"))]));
                        if ui.button(tr(lang, "place")).clicked() {
                            place = Some(place_suggestion(&s.edit, s.candidate.pos));
                        }
                    });
                }
                if let Some(r) = place {
                    p.requests.push(r);
                    p.suggestions.clear();
                }
            });
            ui.label(egui::RichText::new(tf(lang, "simulated day {:.2}", &[&(clock.time_s / 86_400.0)])).small().weak());
        });
    p.open = open;
    over_ui.0 |= ctx.is_pointer_over_egui();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::whatif::proposal;

    fn riverside() -> Scene {
        crate::scene::load_scene(std::path::Path::new("scenes/riverside.ron")).unwrap()
    }

    fn request(world: &mut World, r: PlanRequest) {
        world.resource_mut::<Planner>().requests.push(r);
        apply_requests(world);
    }

    /// A click on the map gives the new site the next free id, or moves the chosen one, at the
    /// point clicked (bevy's −z is the scene's y), and ends the placing mode.
    #[test]
    fn a_click_on_the_map_places_or_moves_a_site() {
        let base = riverside();
        let mut p = Planner::new(&base);
        assert!(
            placement(&mut p, Vec3::new(1.0, 0.0, 2.0)).is_none(),
            "not placing"
        );
        p.mode = PlaceMode::NewSite;
        let n = base.quantum_sites.len() + 1;
        let Some(PlanRequest::Set(path, value)) = placement(&mut p, Vec3::new(135.4, 0.06, -46.5))
        else {
            panic!()
        };
        assert_eq!(
            (path, value),
            (format!("sites.q{n}.pos"), "135:46".to_string())
        );
        assert_eq!(p.mode, PlaceMode::Off);
        p.mode = PlaceMode::MoveSite("q1".into());
        let Some(PlanRequest::Set(path, value)) = placement(&mut p, Vec3::new(-10.0, 3.0, 20.2))
        else {
            panic!()
        };
        assert_eq!((path.as_str(), value.as_str()), ("sites.q1.pos", "-10:-20"));
        assert_eq!(p.mode, PlaceMode::Off);
    }

    /// A suggested site is placed by its path, builds the site the suggestion judged, and can be
    /// shared: its link opens the same scene.
    #[test]
    fn a_suggested_site_is_placed_by_its_path_and_its_link_opens_it() {
        let base = riverside();
        let pos = [123.456_789_012_345, -45.25];
        let template = crate::whatif::SiteTemplate::from_scene(&base);
        let prepared = crate::whatif::add_site(&base, "q4", pos, &template).unwrap();
        let mut direct = base.clone();
        crate::whatif::EditStack::default()
            .push(&mut direct, prepared.clone())
            .unwrap();
        let r = place_suggestion(&prepared, pos);
        let PlanRequest::Set(path, value) = &r else {
            panic!("{r:?}")
        };
        assert_eq!(
            (path.as_str(), value.as_str()),
            ("sites.q4.pos", "123.456789012345:-45.25")
        );
        let mut sim = Simulation::new(&base, &RunOptions::default()).unwrap();
        let w = sim.world_mut();
        w.insert_resource(Planner::new(&base));
        request(w, r);
        let p = w.resource::<Planner>();
        assert_eq!(p.stack.done.len(), 1, "{}", p.status);
        assert_eq!(p.scene, direct);
        let site = p.scene.quantum_sites.iter().find(|s| s.id == "q4").unwrap();
        assert_eq!(site.pos, pos);
        let o = proposal::open(&base, &p.proposal_code().unwrap()).unwrap();
        assert_eq!(o.variant, direct);
    }

    /// The planner keeps each edit's `PATH=VALUE` through undo and redo; its link opens the
    /// same edited scene; the link's comparison gives the numbers of the panel's comparison.
    #[test]
    fn the_planners_link_opens_its_edits_and_compares_as_the_panel_does() {
        let base = riverside();
        let mut sim = Simulation::new(&base, &RunOptions::default()).unwrap();
        let w = sim.world_mut();
        w.insert_resource(Planner::new(&base));
        assert_eq!(
            w.resource::<Planner>().proposal_code().unwrap_err(),
            "no edits to share"
        );
        for (k, v) in [
            ("sites.q4.pos", "0:200"),
            ("network.supply_shift_k", "-10"),
            ("pv.b0001.peak_w", "auto"),
        ] {
            request(w, PlanRequest::Set(k.into(), v.into()));
        }
        request(w, PlanRequest::Undo);
        let p = w.resource::<Planner>();
        assert_eq!((p.stack.done.len(), p.shared.len()), (2, 2));
        assert_eq!(p.shared_undone.len(), 1);
        let code = p.proposal_code().unwrap();
        let o = proposal::open(&base, &code).unwrap();
        assert_eq!(
            o.proposal.edits,
            vec![
                ("sites.q4.pos".to_string(), "0:200".to_string()),
                ("network.supply_shift_k".to_string(), "-10".to_string())
            ]
        );
        assert_eq!(o.variant, p.scene);
        request(w, PlanRequest::Redo);
        let p = w.resource::<Planner>();
        let o3 = proposal::open(&base, &p.proposal_code().unwrap()).unwrap();
        assert_eq!(o3.proposal.edits.len(), 3);
        assert_eq!(o3.proposal.edits[2].0, "pv.b0001.peak_w");
        assert_eq!(o3.variant, p.scene);
        // A failed edit changes nothing; an edit made without a path cannot be shared.
        request(w, PlanRequest::Set("sites.q9.qubits".into(), "1".into()));
        assert_eq!(w.resource::<Planner>().shared.len(), 3);
        let scene = w.resource::<Planner>().scene.clone();
        let e = edit_for(&scene, "grid.carbon_scale", "0.5").unwrap();
        request(w, PlanRequest::Edit(e));
        let err = w.resource::<Planner>().proposal_code().unwrap_err();
        assert!(
            err.starts_with("edit 4 (") && err.ends_with("cannot be shared"),
            "{err}"
        );

        // The panel's comparison and the link's: the same numbers.
        let out = Arc::new(Mutex::new(CompareResult::default()));
        run_compare(base.clone(), o.variant.clone(), 0.25, out.clone());
        let panel = out.lock().unwrap().clone();
        let link = proposal::compare(&base, &o.variant, 0.25).unwrap();
        assert_eq!(panel.base.as_ref(), Some(&link.base));
        assert_eq!(panel.variant.as_ref(), Some(&link.variant));
        assert_eq!(panel.unmet_kwh, link.unmet_kwh);
    }
}

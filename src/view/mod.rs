//! The 3D view (feature `view`): the city rendered with Bevy's PBR renderer, the simulation running
//! in `FixedUpdate` behind it, egui panels to control time, pick layers, read KPIs and inspect.
//!
//! The view only reads the simulation's resources and writes its controls (speed, pause, step,
//! jump); the simulation never depends on it. One simulated tick per `FixedUpdate`: the fixed
//! timestep is the tick (60 s) and virtual time runs at the chosen speed (1×, 60×, 600×, 3600×).
//! Bevy clamps each frame's virtual time to 250 ms of real time, so at most that much simulated
//! time (15 ticks at 3600×) is computed per frame: the app never freezes, and the top bar says
//! when it is falling behind the chosen speed.
//!
//! `qtwin view SCENE --screenshot FILE.png [--size WxH] [--after-ticks N]` renders, saves a PNG
//! and exits (used by the README's picture and by the rendering test under Xvfb).

#[cfg(not(target_arch = "wasm32"))]
pub mod bench;
pub mod camera;
pub mod colormap;
pub mod control_room;
pub mod fonts;
pub mod links_layer;
pub mod picking;
pub mod plain;
pub mod planner;
pub mod tour;
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod web;
pub mod words;
pub mod world3d;

use std::path::PathBuf;
use std::time::Duration;

use bevy::diagnostic::FrameTimeDiagnosticsPlugin;
use bevy::picking::prelude::*;
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};
use bevy::window::{PresentMode, WindowResolution};
use bevy_egui::{EguiPlugin, EguiPrimaryContextPass};

use crate::base::{SimClock, SimSet};
use crate::scene::{Scene, SceneError, load_scene, validate};
use crate::sim::{RunOptions, SimulationPlugin, spawn_scene};
use camera::{OrbitCamera, PointerOverUi};
use ui::{KpiHistory, SceneErrors, Selection, SimControl};
use world3d::{CityBounds, MapSettings, Pick};

/// Options of `qtwin view`.
#[derive(Debug, Clone)]
pub struct ViewOptions {
    pub scene: PathBuf,
    pub screenshot: Option<PathBuf>,
    pub size: (u32, u32),
    pub after_ticks: u64,
    pub layer: Option<world3d::Layer>,
    /// Start the guided tour (`--demo`; `?demo` in the browser).
    pub demo: bool,
    /// Train on this scenario (`--train SCENARIO`): the scene comes from it.
    pub training: Option<PathBuf>,
    /// What-if edits (`--set PATH=VALUE`) applied live at the start, on the planner's stack.
    pub edits: Vec<(String, String)>,
    /// `--plain`, `--lang`, `--embed`: the residents' KPI panel and its language, the embed page.
    pub audience: Audience,
    /// `--camera X,Y[,DISTANCE]`.
    pub camera: Option<CameraSpec>,
    /// `--at DAY`.
    pub at_day: Option<f64>,
    /// Compare with the baseline once the edits are applied (`--proposal LINK`).
    pub compare_at_start: bool,
}

/// How the app is set up, whatever the platform.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub size: (u32, u32),
    /// No vsync (screenshots and benchmarks).
    pub no_vsync: bool,
    pub after_ticks: u64,
    pub layer: Option<world3d::Layer>,
    pub demo: bool,
    /// Render into this canvas (browser): a CSS selector.
    pub canvas: Option<String>,
    /// A training scenario: its failures are scheduled and its session recorded and scored.
    pub training: Option<crate::training::Scenario>,
    /// What-if edits applied live at the start (the planner panel opens with them).
    pub edits: Vec<(String, String)>,
    /// Who the panels speak to: the plain-language KPI panel and its language, the embed page.
    pub audience: Audience,
    /// A chosen camera at the start.
    pub camera: Option<CameraSpec>,
    /// Run ahead to this day of the year at the start.
    pub at_day: Option<f64>,
    /// Start the planner's comparison with the baseline once they are applied (a proposal link).
    pub compare_at_start: bool,
}

/// The KPI panel's mode: for residents in plain words ([`plain`]) or the engineers' details, and
/// the language of the plain mode and the tour.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Audience {
    pub plain: bool,
    pub lang: plain::Lang,
    /// The embeddable page (`--embed`, `?embed`): no panels, no time bar, no tool buttons; the
    /// guided tour (unless a camera or layer was asked for) or one large number.
    pub embed: bool,
}

/// Run condition: the full app's panels (everything but the embedded page).
pub fn not_embedded(a: Res<Audience>) -> bool {
    !a.embed
}

/// Run condition: the embedded page.
pub fn embedded(a: Res<Audience>) -> bool {
    a.embed
}

/// A chosen view at the start (`--camera X,Y[,DISTANCE]`, `?camera=`): the point of the scene the
/// camera looks at, m, and its distance, m (default: the opening view's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CameraSpec {
    pub x_m: f64,
    pub y_m: f64,
    pub distance_m: Option<f64>,
}

impl CameraSpec {
    /// `X,Y` or `X,Y,DISTANCE`, in scene metres; distances from 20 m to 20 km.
    pub fn parse(s: &str) -> Result<CameraSpec, String> {
        let v: Vec<&str> = s.split(',').map(str::trim).collect();
        if !(2..=3).contains(&v.len()) {
            return Err(format!(
                "camera {s:?}: expected X,Y or X,Y,DISTANCE in metres"
            ));
        }
        let num = |t: &str| -> Result<f64, String> {
            t.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && x.abs() <= 1e7)
                .ok_or_else(|| format!("camera {s:?}: {t:?} is not a coordinate in metres"))
        };
        let distance_m = match v.get(2) {
            None => None,
            Some(t) => {
                let d = num(t)?;
                if !(20.0..=20_000.0).contains(&d) {
                    return Err(format!(
                        "camera {s:?}: distance {d} m is outside 20 m to 20 km"
                    ));
                }
                Some(d)
            }
        };
        Ok(CameraSpec {
            x_m: num(v[0])?,
            y_m: num(v[1])?,
            distance_m,
        })
    }
}

/// `--at DAY`, `?at=DAY`: a day of the year (1–365, fractions for the time of day).
pub fn parse_day(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|d| (1.0..366.0).contains(d))
        .ok_or_else(|| {
            format!("at {s:?}: expected a day of the year from 1 to 365 (15.5: noon of day 15)")
        })
}

/// Screenshot mode state.
#[derive(Resource, Debug)]
struct ShotPlan {
    path: PathBuf,
    frames: u32,
    requested: bool,
    done: bool,
}

#[derive(Resource, Default)]
struct ShotDone(bool);

/// A scene file, or district data (OpenStreetMap, GeoJSON, CityJSON) imported on the fly with
/// the default options of `qtwin import`.
fn load_or_import(path: &std::path::Path) -> Result<Scene, String> {
    let name = path.display().to_string();
    let is_scene = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("ron"));
    if !is_scene {
        let len = std::fs::metadata(path)
            .map_err(|e| format!("{name}: {e}"))?
            .len();
        if len > crate::limits::MAX_SCENE_BYTES {
            return Err(format!(
                "{name}: {:.0} MB is too large to open here: cut it with `qtwin import --bbox`",
                len as f64 / 1e6
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| format!("{name}: {e}"))?;
        let t0 = std::time::Instant::now();
        eprintln!("importing {name} …");
        if let Some(imported) = crate::import::scene_from_file(&name, bytes) {
            let (scene, report) = imported.map_err(|e| e.to_string())?;
            eprintln!(
                "imported {name} in {:.1} s: {} buildings ({} connected), {} pipes; `qtwin import` \
                 writes it as a scene with more options",
                t0.elapsed().as_secs_f64(),
                report.buildings,
                report.buildings_connected,
                report.pipes
            );
            return Ok(scene);
        }
    }
    load_scene(path).map_err(|e| e.to_string())
}

/// Loads the scene (or its errors) and runs the windowed app until it is closed.
pub fn run_view(opts: ViewOptions) -> AppExit {
    let mut training = None;
    let loaded: Result<Scene, String> = match &opts.training {
        Some(path) => crate::training::load_scenario(path)
            .map(|(sc, scene)| {
                training = Some(sc);
                scene
            })
            .map_err(|e| e.to_string()),
        None => load_or_import(&opts.scene),
    }
    .and_then(|s| {
        validate(&s)
            .map(|_| s)
            .map_err(|issues| format!("{}: {}", opts.scene.display(), SceneError::Invalid(issues)))
    });
    if let Err(msg) = &loaded {
        eprintln!("{msg}");
    }
    let mut app = build_app(
        loaded,
        &AppConfig {
            size: opts.size,
            no_vsync: opts.screenshot.is_some(),
            after_ticks: opts.after_ticks,
            layer: opts.layer,
            demo: opts.demo,
            canvas: None,
            training,
            edits: opts.edits.clone(),
            audience: opts.audience,
            camera: opts.camera,
            at_day: opts.at_day,
            compare_at_start: opts.compare_at_start,
        },
    );
    if let Some(path) = opts.screenshot {
        app.insert_resource(ShotPlan {
            path,
            frames: 0,
            requested: false,
            done: false,
        })
        .add_systems(Update, screenshot_driver);
        // Hold the simulation still so the picture shows the state after `after_ticks`.
        app.world_mut().resource_mut::<SimControl>().paused = true;
    }
    app.run()
}

/// The app for a loaded scene (or for the page that lists its errors), on any platform.
pub fn build_app(loaded: Result<Scene, String>, cfg: &AppConfig) -> App {
    let title = match &loaded {
        Ok(s) => format!("qtwin — {}", s.name),
        Err(_) => "qtwin — scene errors".to_string(),
    };
    let mut app = App::new();
    let plugins = DefaultPlugins.set(WindowPlugin {
        primary_window: Some(Window {
            title,
            resolution: WindowResolution::new(cfg.size.0, cfg.size.1),
            present_mode: if cfg.no_vsync {
                PresentMode::AutoNoVsync
            } else {
                PresentMode::AutoVsync
            },
            canvas: cfg.canvas.clone(),
            fit_canvas_to_parent: true,
            ..default()
        }),
        ..default()
    });
    // The page logs through its own subscriber (`web::init_log`), without bevy's EnvFilter.
    #[cfg(target_arch = "wasm32")]
    let plugins = plugins.disable::<bevy::log::LogPlugin>();
    app.add_plugins(plugins)
        .add_plugins((
            EguiPlugin::default(),
            picking::CachedMeshPickingPlugin,
            FrameTimeDiagnosticsPlugin::default(),
        ))
        .insert_resource(ClearColor(Color::srgb(0.62, 0.76, 0.90)))
        .insert_resource(bevy::light::GlobalAmbientLight {
            color: Color::srgb(0.85, 0.9, 1.0),
            brightness: 900.0,
            ..default()
        })
        .init_resource::<PointerOverUi>()
        .init_resource::<camera::MapPress>()
        .add_observer(camera::record_map_press)
        .init_resource::<camera::RightPanelWidth>()
        .insert_resource(cfg.audience)
        .init_resource::<MapSettings>()
        .init_resource::<SimControl>()
        .init_resource::<Selection>()
        .init_resource::<ShotDone>()
        .add_systems(Update, camera::orbit_camera);
    // egui's fonts plus a fallback for arrows; the browser build's are subsets (fonts.rs).
    app.add_observer(fonts::install_fonts);

    if let Some(l) = cfg.layer {
        app.insert_resource(MapSettings {
            layer: l,
            ..default()
        });
    }
    match loaded {
        Err(msg) => {
            app.insert_resource(SceneErrors(Some(msg)))
                .add_systems(Startup, spawn_error_camera)
                .add_systems(EguiPrimaryContextPass, ui::error_panel);
        }
        Ok(scene) => {
            app.add_plugins((SimulationPlugin, crate::training::TrainingPlugin))
                .init_resource::<SceneErrors>()
                .init_resource::<KpiHistory>()
                .init_resource::<world3d::LayerPaint>()
                .add_systems(
                    Startup,
                    (world3d::spawn_city, spawn_camera_and_light).chain(),
                )
                .add_systems(
                    Update,
                    (
                        drive_time,
                        world3d::color_layers,
                        planner::color_compare_layer.after(world3d::color_layers),
                        world3d::move_particles,
                        world3d::site_glow,
                        world3d::spin_rotors,
                        world3d::draw_grid,
                    ),
                )
                .add_systems(FixedUpdate, ui::sample_history.after(SimSet::Ledger))
                .add_systems(
                    EguiPrimaryContextPass,
                    (
                        (ui::panels, ui::time_keys).run_if(not_embedded),
                        ui::embed_panel.run_if(embedded),
                    ),
                )
                .add_observer(on_click);
            // The embedded page runs the tour as a kiosk, unless it was asked for a fixed view.
            let embed_tour = cfg.audience.embed && cfg.camera.is_none() && cfg.layer.is_none();
            tour::add_tour(&mut app, cfg.demo || embed_tour);
            links_layer::add_links_layer(&mut app);
            planner::add_planner(&mut app, &scene);
            if !cfg.edits.is_empty() {
                let mut p = app.world_mut().resource_mut::<planner::Planner>();
                p.open = true;
                p.compare_when_applied = cfg.compare_at_start;
                for (k, v) in &cfg.edits {
                    p.requests
                        .push(planner::PlanRequest::Set(k.clone(), v.clone()));
                }
            }
            control_room::add_control_room(&mut app);
            match &cfg.training {
                None => spawn_scene(app.world_mut(), &scene, &RunOptions::default()),
                Some(sc) => start_training(app.world_mut(), sc, &scene),
            }
            let tick = app.world().resource::<SimClock>().tick_s;
            app.insert_resource(Time::<Fixed>::from_seconds(tick));
            if let Some(day) = cfg.at_day {
                let clock = app.world().resource::<SimClock>();
                let target = (day - clock.start_day_of_year as f64).max(0.0) * 86_400.0;
                if target > clock.time_s {
                    app.world_mut().resource_mut::<SimControl>().jump_to_s = Some(target);
                }
            }
            if let Some(c) = cfg.camera {
                app.insert_resource(StartCamera(c));
            }
            // Warm up the world before the first frame if asked (screenshots of a running city).
            for _ in 0..cfg.after_ticks {
                app.world_mut().run_schedule(FixedUpdate);
            }
        }
    }
    app
}

/// Builds the scenario's world in the app: its seed and failure physics, its failures on the
/// timeline, the session; the warm-up runs ahead at once.
fn start_training(world: &mut World, sc: &crate::training::Scenario, scene: &Scene) {
    let opts = RunOptions {
        seed: sc.seed,
        faults: sc.faults_config.clone(),
        ..Default::default()
    };
    spawn_scene(world, scene, &opts);
    let warm = sc.start.warmup_s;
    world
        .resource_mut::<crate::faults::Faults>()
        .schedule_all(sc.failures.iter().map(|f| crate::faults::FaultSpec {
            at_s: f.at_s + warm,
            ..f.clone()
        }));
    world.insert_resource(crate::training::TrainingSession::new(sc));
    let mut ctl = world.resource_mut::<SimControl>();
    ctl.jump_to_s = Some(warm);
    ctl.speed = 60.0;
    world
        .resource_mut::<control_room::ControlRoom>()
        .alarms_open = true;
}

fn spawn_error_camera(mut commands: Commands) {
    commands.spawn(Camera2d);
}

/// The camera a scene opens with: framed on the whole district.
pub fn initial_camera(bounds: &CityBounds) -> OrbitCamera {
    OrbitCamera::new(bounds.centre, bounds.radius * 1.75)
}

/// Where a ground point of the scene appears in the opening view of a `width`×`height` window,
/// in pixels from the top left (`None` if behind the camera). Uses Bevy's default perspective
/// (vertical field of view π/4).
pub fn initial_screen_position(
    scene: &Scene,
    p: [f64; 2],
    h: f32,
    width: u32,
    height: u32,
) -> Option<Vec2> {
    let net = crate::network::Network::from_scene(scene);
    let cam = initial_camera(&world3d::city_bounds(scene, &net));
    let view = cam.transform().to_matrix().inverse();
    let proj = Mat4::perspective_infinite_reverse_rh(
        std::f32::consts::FRAC_PI_4,
        width as f32 / height as f32,
        0.1,
    );
    let clip = proj * view * world3d::to3(p, h).extend(1.0);
    if clip.w <= 0.0 {
        return None;
    }
    let ndc = clip.truncate() / clip.w;
    Some(Vec2::new(
        (ndc.x + 1.0) * 0.5 * width as f32,
        (1.0 - ndc.y) * 0.5 * height as f32,
    ))
}

/// Render to this target instead of the window (offscreen benchmark).
#[derive(Resource, Clone)]
pub struct OffscreenTarget(pub bevy::camera::RenderTarget);

/// The chosen view at the start, if one was asked for.
#[derive(Resource, Debug, Clone, Copy)]
struct StartCamera(CameraSpec);

/// The camera of a chosen view (it is also where `R` returns to).
pub fn chosen_camera(bounds: &CityBounds, c: &CameraSpec) -> OrbitCamera {
    let d = c.distance_m.map_or(bounds.radius * 1.75, |d| d as f32);
    OrbitCamera::new(world3d::to3([c.x_m, c.y_m], 0.0), d)
}

fn spawn_camera_and_light(
    mut commands: Commands,
    bounds: Res<CityBounds>,
    offscreen: Option<Res<OffscreenTarget>>,
    start: Option<Res<StartCamera>>,
) {
    let cam = match start {
        Some(c) => chosen_camera(&bounds, &c.0),
        None => initial_camera(&bounds),
    };
    let mut camera = commands.spawn((
        Camera3d::default(),
        Msaa::Sample4,
        cam.transform(),
        cam,
        DistanceFog {
            color: Color::srgba(0.70, 0.80, 0.92, 1.0),
            falloff: FogFalloff::Linear {
                start: bounds.radius * 3.0,
                end: bounds.radius * 9.0,
            },
            ..default()
        },
    ));
    if let Some(t) = offscreen {
        camera.insert(t.0.clone());
    }
    // The browser build ships without the tonemapping LUTs that bevy's default (TonyMcMapface) needs.
    #[cfg(target_arch = "wasm32")]
    camera.insert(bevy::core_pipeline::tonemapping::Tonemapping::SomewhatBoringDisplayTransform);
    commands.spawn((
        DirectionalLight {
            illuminance: 9_000.0,
            shadow_maps_enabled: true,
            ..default()
        },
        bevy::light::CascadeShadowConfigBuilder {
            num_cascades: 3,
            maximum_distance: bounds.radius * 4.0,
            first_cascade_far_bound: bounds.radius * 0.6,
            ..default()
        }
        .build(),
        Transform::from_xyz(0.0, 0.0, 0.0).looking_at(Vec3::new(-0.55, -0.45, -0.7), Vec3::Y),
    ));
}

/// Speed, pause, single step and jump-ahead, with a wall-time budget per frame.
fn drive_time(world: &mut World) {
    let real_dt = world.resource::<Time<Real>>().delta_secs_f64();
    let ctl = world.resource::<SimControl>().clone();
    {
        let mut v = world.resource_mut::<Time<Virtual>>();
        if ctl.paused || ctl.jump_to_s.is_some() {
            if !v.is_paused() {
                v.pause();
            }
        } else {
            if v.is_paused() {
                v.unpause();
            }
            v.set_relative_speed_f64(ctl.speed);
            v.set_max_delta(Duration::from_millis(250));
        }
    }
    if ctl.step_requested {
        world.run_schedule(FixedUpdate);
        world.resource_mut::<SimControl>().step_requested = false;
    }
    if let Some(target) = ctl.jump_to_s {
        let start = bevy::platform::time::Instant::now();
        while world.resource::<SimClock>().time_s < target && start.elapsed().as_secs_f64() < 0.04 {
            world.run_schedule(FixedUpdate);
        }
        if world.resource::<SimClock>().time_s >= target {
            world.resource_mut::<SimControl>().jump_to_s = None;
        }
    }
    // Achieved speed: simulated seconds per real second over this frame (FixedUpdate ran before
    // Update this frame, so the clock moved by the fixed steps of the frame as well).
    let now = world.resource::<SimClock>().time_s;
    let mut last = world.get_resource_or_insert_with(|| LastSimTime(now));
    let advanced = now - last.0;
    last.0 = now;
    if real_dt > 0.0 {
        let mut c = world.resource_mut::<SimControl>();
        let inst = advanced / real_dt;
        c.achieved_speed = 0.9 * c.achieved_speed + 0.1 * inst;
    }
}

#[derive(Resource)]
struct LastSimTime(f64);

/// A click on the map ([`camera::MapPress`]) selects the object under the release for the
/// inspector; a double click also flies the camera to it.
#[allow(clippy::too_many_arguments)]
fn on_click(
    release: On<Pointer<Release>>,
    picks: Query<(&Pick, &GlobalTransform)>,
    time: Res<Time<Real>>,
    over_ui: Res<PointerOverUi>,
    press: Res<camera::MapPress>,
    mut taken: Local<u64>,
    mut sel: ResMut<Selection>,
    mut cams: Query<&mut OrbitCamera>,
    mut last: Local<(Option<Entity>, f32)>,
) {
    if over_ui.0 || !press.is_click(&release, *taken) {
        return;
    }
    // The release bubbles from the object hit up its parents: the first with a pick is selected.
    let e = release.entity;
    let Ok((pick, gt)) = picks.get(e) else { return };
    *taken = press.seq();
    if sel.pick != Some(*pick) {
        sel.history.clear();
    }
    sel.pick = Some(*pick);
    let now = time.elapsed_secs();
    if last.0 == Some(e) && now - last.1 < 0.4 {
        for mut cam in &mut cams {
            let size = gt.scale().length().clamp(10.0, 400.0);
            cam.target = Some((gt.translation(), (size * 4.0).clamp(60.0, 1500.0)));
        }
    }
    *last = (Some(e), now);
}

fn screenshot_driver(
    mut commands: Commands,
    mut plan: ResMut<ShotPlan>,
    done: Res<ShotDone>,
    mut exit: MessageWriter<AppExit>,
) {
    plan.frames += 1;
    // Give the renderer time to build its pipelines (software Vulkan compiles shaders slowly).
    if !plan.requested && plan.frames >= 40 {
        plan.requested = true;
        commands
            .spawn(Screenshot::primary_window())
            .observe(save_to_disk(plan.path.clone()))
            .observe(|_: On<ScreenshotCaptured>, mut done: ResMut<ShotDone>| done.0 = true);
    }
    if done.0 && !plan.done {
        plan.done = true;
        println!("saved {}", plan.path.display());
    } else if plan.done {
        exit.write(AppExit::Success);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camera_and_day_arguments_are_checked() {
        assert_eq!(
            CameraSpec::parse("120, -40.5,600"),
            Ok(CameraSpec {
                x_m: 120.0,
                y_m: -40.5,
                distance_m: Some(600.0)
            })
        );
        assert_eq!(CameraSpec::parse("1,2").unwrap().distance_m, None);
        for bad in [
            "", "1", "1,2,3,4", "a,2", "1,NaN", "1,2,5", "1,2,1e9", "inf,0",
        ] {
            assert!(CameraSpec::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(
            CameraSpec::parse("1,2,5")
                .unwrap_err()
                .contains("outside 20 m to 20 km")
        );
        assert_eq!(parse_day("15.5"), Ok(15.5));
        assert_eq!(parse_day(" 1 "), Ok(1.0));
        for bad in ["0", "366", "-3", "x", "NaN"] {
            assert!(parse_day(bad).is_err(), "{bad:?} accepted");
        }
        let b = world3d::CityBounds {
            centre: Vec3::ZERO,
            radius: 400.0,
        };
        let c = chosen_camera(&b, &CameraSpec::parse("100,50").unwrap());
        // Scene y is north: Bevy's −z.
        assert_eq!((c.focus, c.distance), (Vec3::new(100.0, 0.0, -50.0), 700.0));
        assert_eq!(
            world3d::Layer::parse("links"),
            Some(world3d::Layer::DataLinks)
        );
        assert_eq!(world3d::Layer::parse("heat"), None);
    }
}

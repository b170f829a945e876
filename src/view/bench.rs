//! `qtwin bench render`: frame times of the 3D view rendered offscreen, to an image target, with no
//! window or display (as bevy's `headless_renderer` example does), so it runs under Mesa's
//! software Vulkan here and on a GPU machine without a display.

use std::time::{Duration, Instant};

use bevy::camera::RenderTarget;
use bevy::prelude::*;
use bevy::render::RenderApp;
use bevy::render::pipelined_rendering::PipelinedRenderingPlugin;
use bevy::render::render_resource::{PipelineCache, TextureFormat};
use bevy::window::ExitCondition;
use bevy::winit::WinitPlugin;

use super::world3d::{self, MapSettings};
use super::{OffscreenTarget, spawn_camera_and_light};
use crate::scene::Scene;
use crate::sim::{RunOptions, SimulationPlugin, spawn_scene};

/// Frame-time statistics, ms, and what the city and its first frames cost.
#[derive(Debug, Clone)]
pub struct FrameStats {
    pub frames: usize,
    pub median_ms: f64,
    pub p95_ms: f64,
    pub mean_ms: f64,
    /// The main world's share of each timed frame (every `Update` system of the view, the
    /// simulation's ticks, transforms and visibility, before the render world extracts): median
    /// and 95th percentile, ms.
    pub main_median_ms: f64,
    pub main_p95_ms: f64,
    /// The view's own `Update` systems (colouring, particles, glow, rotors, feeders), run one
    /// after the other: median and 95th percentile, ms.
    pub view_median_ms: f64,
    pub view_p95_ms: f64,
    pub adapter: String,
    /// Building the app and the simulation's world from the scene, s.
    pub build_s: f64,
    /// The first frame: spawning the city's meshes (`Startup`) and rendering it once, s.
    pub first_frame_s: f64,
    /// Warm-up frames run until no render pipeline was still compiling (at least `warmup`), and
    /// their time, s.
    pub warmup_frames: usize,
    pub warmup_s: f64,
    /// Entities with a mesh, of them buildings, tube segments and flow particles.
    pub meshes: usize,
    pub buildings: usize,
    pub tubes: usize,
    pub particles: usize,
    /// Over the timed frames: passes of the layer colouring and the buildings they visited.
    pub colour_passes: u64,
    pub buildings_visited: u64,
    /// Every timed frame, ms, in order.
    pub frames_ms: Vec<f64>,
}

/// Most warm-up frames beyond `warmup` spent waiting for pipelines to compile.
const MAX_EXTRA_WARMUP: usize = 200;

/// Renders `frames` frames of `scene` at `width`×`height` after at least `warmup` frames (more
/// while the render pipelines still compile) and times each. Rendering is not pipelined here: a
/// frame's time is the main world's and then the render world's, one after the other.
pub fn bench_render(
    scene: &Scene,
    width: u32,
    height: u32,
    warmup: usize,
    frames: usize,
    paused: bool,
) -> FrameStats {
    let t_build = Instant::now();
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: None,
                exit_condition: ExitCondition::DontExit,
                ..default()
            })
            .disable::<WinitPlugin>()
            .disable::<PipelinedRenderingPlugin>(),
    )
    .add_plugins(SimulationPlugin)
    .insert_resource(ClearColor(Color::srgb(0.62, 0.76, 0.90)))
    .insert_resource(bevy::light::GlobalAmbientLight {
        color: Color::srgb(0.85, 0.9, 1.0),
        brightness: 900.0,
        ..default()
    })
    .insert_resource(MapSettings::default())
    .init_resource::<world3d::LayerPaint>()
    .init_resource::<MainWorldTime>()
    .add_systems(First, main_world_start)
    .add_systems(Last, main_world_end)
    .init_resource::<ViewSystemsTime>()
    .add_systems(
        Startup,
        (setup_target, world3d::spawn_city, spawn_camera_and_light).chain(),
    )
    .add_systems(
        Update,
        (
            view_systems_start,
            (
                world3d::color_layers,
                world3d::move_particles,
                world3d::site_glow,
                world3d::spin_rotors,
                world3d::draw_grid,
            ),
            view_systems_end,
        )
            .chain(),
    );
    app.world_mut().insert_resource(BenchSize(width, height));
    spawn_scene(app.world_mut(), scene, &RunOptions::default());
    let tick = app.world().resource::<crate::base::SimClock>().tick_s;
    app.insert_resource(Time::<Fixed>::from_seconds(tick));
    app.finish();
    app.cleanup();
    // One simulated tick per second of virtual time at 60×: the sim barely costs anything here.
    app.world_mut()
        .resource_mut::<Time<Virtual>>()
        .set_relative_speed(60.0);
    let build_s = t_build.elapsed().as_secs_f64();
    let t_first = Instant::now();
    app.update();
    let first_frame_s = t_first.elapsed().as_secs_f64();

    let t_warm = Instant::now();
    let mut warmup_frames = 0;
    let mut idle = 0;
    while warmup_frames < warmup + MAX_EXTRA_WARMUP && (warmup_frames < warmup || idle < 2) {
        app.update();
        warmup_frames += 1;
        let waiting = app
            .get_sub_app(RenderApp)
            .and_then(|r| r.world().get_resource::<PipelineCache>())
            .map_or(0, |c| c.waiting_pipelines().count());
        idle = if waiting == 0 { idle + 1 } else { 0 };
    }
    let warmup_s = t_warm.elapsed().as_secs_f64();
    if paused {
        // The simulation stands still: no tick, nothing moves, nothing to recolour.
        app.world_mut().resource_mut::<Time<Virtual>>().pause();
    }

    let paint0 = paint_counts(app.world());
    let mut times = Vec::with_capacity(frames);
    let mut main = Vec::with_capacity(frames);
    let mut view = Vec::with_capacity(frames);
    for _ in 0..frames {
        let t = Instant::now();
        app.update();
        times.push(t.elapsed());
        main.push(app.world().resource::<MainWorldTime>().last);
        view.push(app.world().resource::<ViewSystemsTime>().last);
    }
    let paint1 = paint_counts(app.world());
    let adapter = app
        .world()
        .get_resource::<bevy::render::renderer::RenderAdapterInfo>()
        .map(|a| format!("{} ({:?})", a.name, a.backend))
        .unwrap_or_else(|| "unknown adapter".into());
    let world = app.world_mut();
    let count = |world: &mut World, f: fn(&World, Entity) -> bool| {
        let es: Vec<Entity> = world
            .query_filtered::<Entity, With<Mesh3d>>()
            .iter(world)
            .collect();
        es.into_iter().filter(|&e| f(world, e)).count()
    };
    let meshes = count(world, |_, _| true);
    let buildings = count(world, |w, e| w.get::<world3d::BuildingVis>(e).is_some());
    let tubes = count(world, |w, e| w.get::<world3d::PipeVis>(e).is_some());
    let particles = count(world, |w, e| w.get::<world3d::FlowParticle>(e).is_some());
    let (t, m, v) = (summary(&times), summary(&main), summary(&view));
    FrameStats {
        frames: times.len(),
        median_ms: t.0,
        p95_ms: t.1,
        mean_ms: t.2,
        main_median_ms: m.0,
        main_p95_ms: m.1,
        view_median_ms: v.0,
        view_p95_ms: v.1,
        adapter,
        build_s,
        first_frame_s,
        warmup_frames,
        warmup_s,
        meshes,
        buildings,
        tubes,
        particles,
        colour_passes: paint1.0 - paint0.0,
        buildings_visited: paint1.1 - paint0.1,
        frames_ms: times.iter().map(|d| d.as_secs_f64() * 1e3).collect(),
    }
}

fn paint_counts(world: &World) -> (u64, u64) {
    world
        .get_resource::<world3d::LayerPaint>()
        .map_or((0, 0), |p| (p.passes, p.buildings_visited))
}

/// The main world's time of the last frame (from `First` to `Last`).
#[derive(Resource, Default)]
struct MainWorldTime {
    start: Option<Instant>,
    last: Duration,
}

fn main_world_start(mut t: ResMut<MainWorldTime>) {
    t.start = Some(Instant::now());
}

fn main_world_end(mut t: ResMut<MainWorldTime>) {
    if let Some(s) = t.start.take() {
        t.last = s.elapsed();
    }
}

/// The view's `Update` systems' time in the last frame.
#[derive(Resource, Default)]
struct ViewSystemsTime {
    start: Option<Instant>,
    last: Duration,
}

fn view_systems_start(mut t: ResMut<ViewSystemsTime>) {
    t.start = Some(Instant::now());
}

fn view_systems_end(mut t: ResMut<ViewSystemsTime>) {
    if let Some(s) = t.start.take() {
        t.last = s.elapsed();
    }
}

/// Median, 95th percentile and mean, ms.
fn summary(times: &[Duration]) -> (f64, f64, f64) {
    let s = stats(times);
    (s.median_ms, s.p95_ms, s.mean_ms)
}

struct Quantiles {
    median_ms: f64,
    p95_ms: f64,
    mean_ms: f64,
}

fn stats(times: &[Duration]) -> Quantiles {
    let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let n = ms.len().max(1);
    let pick = |q: f64| {
        ms.get(((n - 1) as f64 * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Quantiles {
        median_ms: pick(0.5),
        p95_ms: pick(0.95),
        mean_ms: ms.iter().sum::<f64>() / n as f64,
    }
}

#[derive(Resource)]
struct BenchSize(u32, u32);

fn setup_target(mut commands: Commands, size: Res<BenchSize>, mut images: ResMut<Assets<Image>>) {
    let image = Image::new_target_texture(size.0, size.1, TextureFormat::Rgba8UnormSrgb, None);
    let handle = images.add(image);
    commands.insert_resource(OffscreenTarget(RenderTarget::Image(handle.into())));
}

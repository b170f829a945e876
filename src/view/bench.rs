//! `qtwin bench render`: frame times of the 3D view rendered offscreen, to an image target, with no
//! window or display (as bevy's `headless_renderer` example does), so it runs under Mesa's
//! software Vulkan here and on a GPU machine without a display.

use std::time::{Duration, Instant};

use bevy::camera::RenderTarget;
use bevy::prelude::*;
use bevy::render::render_resource::TextureFormat;
use bevy::window::ExitCondition;
use bevy::winit::WinitPlugin;

use super::world3d::{self, MapSettings};
use super::{OffscreenTarget, spawn_camera_and_light};
use crate::scene::Scene;
use crate::sim::{RunOptions, SimulationPlugin, spawn_scene};

/// Frame-time statistics, ms.
#[derive(Debug, Clone)]
pub struct FrameStats {
    pub frames: usize,
    pub median_ms: f64,
    pub p95_ms: f64,
    pub mean_ms: f64,
    pub adapter: String,
}

/// Renders `frames` frames of `scene` at `width`×`height` after `warmup` frames and times each.
pub fn bench_render(
    scene: &Scene,
    width: u32,
    height: u32,
    warmup: usize,
    frames: usize,
) -> FrameStats {
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: None,
                exit_condition: ExitCondition::DontExit,
                ..default()
            })
            .disable::<WinitPlugin>(),
    )
    .add_plugins(SimulationPlugin)
    .insert_resource(ClearColor(Color::srgb(0.62, 0.76, 0.90)))
    .insert_resource(bevy::light::GlobalAmbientLight {
        color: Color::srgb(0.85, 0.9, 1.0),
        brightness: 900.0,
        ..default()
    })
    .insert_resource(MapSettings::default())
    .add_systems(
        Startup,
        (setup_target, world3d::spawn_city, spawn_camera_and_light).chain(),
    )
    .add_systems(
        Update,
        (
            world3d::color_layers,
            world3d::move_particles,
            world3d::site_glow,
            world3d::spin_rotors,
            world3d::draw_grid,
        ),
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
    let mut times = Vec::with_capacity(frames);
    for i in 0..warmup + frames {
        let t = Instant::now();
        app.update();
        if i >= warmup {
            times.push(t.elapsed());
        }
    }
    let adapter = app
        .world()
        .get_resource::<bevy::render::renderer::RenderAdapterInfo>()
        .map(|a| format!("{} ({:?})", a.name, a.backend))
        .unwrap_or_else(|| "unknown adapter".into());
    stats(&times, adapter)
}

fn stats(times: &[Duration], adapter: String) -> FrameStats {
    let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let n = ms.len().max(1);
    let pick = |q: f64| {
        ms.get(((n - 1) as f64 * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    FrameStats {
        frames: ms.len(),
        median_ms: pick(0.5),
        p95_ms: pick(0.95),
        mean_ms: ms.iter().sum::<f64>() / n as f64,
        adapter,
    }
}

#[derive(Resource)]
struct BenchSize(u32, u32);

fn setup_target(mut commands: Commands, size: Res<BenchSize>, mut images: ResMut<Assets<Image>>) {
    let image = Image::new_target_texture(size.0, size.1, TextureFormat::Rgba8UnormSrgb, None);
    let handle = images.add(image);
    commands.insert_resource(OffscreenTarget(RenderTarget::Image(handle.into())));
}

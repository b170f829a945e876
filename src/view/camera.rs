//! An orbit camera for a city: orbit, pan and zoom with mouse, keyboard and touch; focus on an
//! object; reset.
//!
//! - Left drag (or one finger): orbit. Right or middle drag, or Shift + left drag (or two fingers):
//!   pan. Wheel (or pinch): zoom.
//! - Keys: W/A/S/D or arrows pan, Q/E orbit, Z/X or +/− zoom, R resets the view.

use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll, MouseScrollUnit};
use bevy::input::touch::Touches;
use bevy::prelude::*;

/// The orbit state: the camera looks at `focus` from `distance` m away at `yaw`/`pitch` radians.
#[derive(Component, Debug, Clone)]
pub struct OrbitCamera {
    pub focus: Vec3,
    pub distance: f32,
    pub yaw: f32,
    pub pitch: f32,
    /// Where `R` returns to.
    pub home: (Vec3, f32, f32, f32),
    /// A focus the camera glides towards (double click).
    pub target: Option<(Vec3, f32)>,
}

impl OrbitCamera {
    pub fn new(focus: Vec3, distance: f32) -> Self {
        let (yaw, pitch) = (-0.6, 0.52);
        Self {
            focus,
            distance,
            yaw,
            pitch,
            home: (focus, distance, yaw, pitch),
            target: None,
        }
    }
    pub fn transform(&self) -> Transform {
        let rot = Quat::from_euler(EulerRot::YXZ, self.yaw, -self.pitch, 0.0);
        let pos = self.focus + rot * Vec3::new(0.0, 0.0, self.distance);
        Transform::from_translation(pos).looking_at(self.focus, Vec3::Y)
    }
}

/// Whether the pointer is over a UI panel this frame (set by the UI so drags don't leak through).
#[derive(Resource, Default)]
pub struct PointerOverUi(pub bool);

/// The last press of the primary button over the city (screen px), numbered, for clicks on the
/// map: placing a site ([`super::planner`]) and selecting an object for the inspector. A click is
/// a press and a release within [`CLICK_SLOP_PX`] of each other, whatever each hit; more is a
/// drag (the camera's). Not bevy's `Click`, which needs the press and the release on the same
/// entity: while the camera still glides (after the tour) or on a slow machine's second-long
/// frames, the ray moves between the two and the first click on the map did nothing.
#[derive(Resource, Default)]
pub struct MapPress {
    at: Option<Vec2>,
    seq: u64,
}

/// How far the pointer may move between press and release for a click on the map, px.
pub const CLICK_SLOP_PX: f32 = 6.0;

impl MapPress {
    /// Whether `release` ends a click on the map begun by the last press, one that a handler
    /// which last took press number `taken` has not taken yet (a release bubbles up the parents
    /// of the entity hit and reaches each handler once per entity).
    pub fn is_click(&self, release: &Pointer<Release>, taken: u64) -> bool {
        self.seq != taken
            && release.button == PointerButton::Primary
            && self
                .at
                .is_some_and(|at| at.distance(release.pointer_location.position) <= CLICK_SLOP_PX)
    }
    /// The last press's number, for a handler to mark it taken.
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

/// Records each press (once, at the entity hit: not again as it bubbles up its parents).
pub fn record_map_press(
    press: On<Pointer<Press>>,
    over_ui: Res<PointerOverUi>,
    mut map: ResMut<MapPress>,
) {
    if press.entity != press.original_event_target() {
        return;
    }
    map.seq += 1;
    map.at = (press.button == PointerButton::Primary && !over_ui.0)
        .then_some(press.pointer_location.position);
}

/// Width of the right-hand KPI panel this frame, px (0 when folded), so floating buttons sit
/// beside it.
#[derive(Resource, Default)]
pub struct RightPanelWidth(pub f32);

#[allow(clippy::too_many_arguments)]
pub fn orbit_camera(
    time: Res<Time<Real>>,
    buttons: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
    touches: Res<Touches>,
    over_ui: Res<PointerOverUi>,
    mut q: Query<(&mut OrbitCamera, &mut Transform)>,
) {
    let dt = time.delta_secs().min(0.1);
    for (mut cam, mut tf) in &mut q {
        let shift = keys.pressed(KeyCode::ShiftLeft) || keys.pressed(KeyCode::ShiftRight);
        let mut orbit = Vec2::ZERO;
        let mut pan = Vec2::ZERO;
        let mut zoom = 0.0f32;
        if !over_ui.0 {
            let d = motion.delta;
            if buttons.pressed(MouseButton::Left) && !shift {
                orbit += d * 0.005;
            }
            if buttons.pressed(MouseButton::Right)
                || buttons.pressed(MouseButton::Middle)
                || (buttons.pressed(MouseButton::Left) && shift)
            {
                pan += d;
            }
            let lines = match scroll.unit {
                MouseScrollUnit::Line => scroll.delta.y,
                MouseScrollUnit::Pixel => scroll.delta.y / 40.0,
            };
            zoom -= lines * 0.12;
            // Touch: one finger orbits, two pan and pinch.
            let t: Vec<_> = touches.iter().collect();
            if t.len() == 1 {
                orbit += t[0].delta() * 0.005;
            } else if t.len() >= 2 {
                let (a, b) = (t[0], t[1]);
                pan += (a.delta() + b.delta()) * 0.5;
                let before = (a.previous_position() - b.previous_position()).length();
                let now = (a.position() - b.position()).length();
                if before > 1.0 {
                    zoom -= (now / before).ln();
                }
            }
        }
        // Keyboard.
        let k = |c: KeyCode| if keys.pressed(c) { 1.0 } else { 0.0 };
        pan += Vec2::new(
            k(KeyCode::KeyA) + k(KeyCode::ArrowLeft) - k(KeyCode::KeyD) - k(KeyCode::ArrowRight),
            k(KeyCode::KeyW) + k(KeyCode::ArrowUp) - k(KeyCode::KeyS) - k(KeyCode::ArrowDown),
        ) * 600.0
            * dt;
        orbit.x += (k(KeyCode::KeyE) - k(KeyCode::KeyQ)) * 1.5 * dt;
        zoom += (k(KeyCode::KeyX) + k(KeyCode::Minus) - k(KeyCode::KeyZ) - k(KeyCode::Equal))
            * 1.5
            * dt;

        if keys.just_pressed(KeyCode::KeyR) {
            let (f, d, y, p) = cam.home;
            cam.target = None;
            cam.focus = f;
            cam.distance = d;
            cam.yaw = y;
            cam.pitch = p;
        }
        if orbit != Vec2::ZERO || pan != Vec2::ZERO || zoom != 0.0 {
            cam.target = None;
        }
        cam.yaw -= orbit.x;
        cam.pitch = (cam.pitch + orbit.y).clamp(0.08, 1.5);
        cam.distance = (cam.distance * zoom.exp()).clamp(15.0, 20_000.0);
        if pan != Vec2::ZERO {
            // Pan in the ground plane, scaled by distance.
            let right = Vec3::new(cam.yaw.cos(), 0.0, -cam.yaw.sin());
            let forward = Vec3::new(-cam.yaw.sin(), 0.0, -cam.yaw.cos());
            let s = cam.distance * 0.0015;
            let delta = (-right * pan.x + forward * pan.y) * s;
            cam.focus += delta;
        }
        if let Some((f, d)) = cam.target {
            let a = 1.0 - (-6.0 * dt).exp();
            cam.focus = cam.focus.lerp(f, a);
            cam.distance += (d - cam.distance) * a;
            if cam.focus.distance(f) < 0.5 && (cam.distance - d).abs() < 0.5 {
                cam.target = None;
            }
        }
        *tf = cam.transform();
    }
}

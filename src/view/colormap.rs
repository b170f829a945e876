//! Colour maps for the layers, and the shared materials that keep thousands of objects batched.

use bevy::prelude::*;

/// A piecewise-linear colour map on [0, 1] through sRGB stops.
#[derive(Debug, Clone, Copy)]
pub struct ColorMap(pub &'static [(f32, [u8; 3])]);

/// Cold blue → cyan → yellow → red: temperatures.
pub const THERMAL: ColorMap = ColorMap(&[
    (0.0, [40, 70, 180]),
    (0.3, [40, 170, 220]),
    (0.55, [250, 220, 80]),
    (0.8, [240, 120, 40]),
    (1.0, [200, 30, 30]),
]);
/// Viridis-like: demand, loading.
pub const SEQUENTIAL: ColorMap = ColorMap(&[
    (0.0, [68, 1, 84]),
    (0.25, [59, 82, 139]),
    (0.5, [33, 145, 140]),
    (0.75, [94, 201, 98]),
    (1.0, [253, 231, 37]),
]);
/// White → violet: quantum waste-heat share and job load.
pub const QUANTUM: ColorMap = ColorMap(&[
    (0.0, [225, 222, 215]),
    (0.3, [190, 160, 235]),
    (0.7, [140, 80, 230]),
    (1.0, [90, 20, 200]),
]);
/// Light grey → red: unmet heat, carbon.
pub const ALARM: ColorMap = ColorMap(&[
    (0.0, [222, 222, 218]),
    (0.2, [250, 200, 120]),
    (0.6, [235, 90, 50]),
    (1.0, [170, 10, 30]),
]);

impl ColorMap {
    pub fn rgb(&self, x: f32) -> [u8; 3] {
        let x = if x.is_finite() {
            x.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let s = self.0;
        for w in s.windows(2) {
            let (a, b) = (w[0], w[1]);
            if x <= b.0 {
                let t = (x - a.0) / (b.0 - a.0).max(1e-6);
                let mix =
                    |i: usize| (a.1[i] as f32 + t * (b.1[i] as f32 - a.1[i] as f32)).round() as u8;
                return [mix(0), mix(1), mix(2)];
            }
        }
        s[s.len() - 1].1
    }
    pub fn color(&self, x: f32) -> Color {
        let [r, g, b] = self.rgb(x);
        Color::srgb_u8(r, g, b)
    }
}

/// Number of shared materials per colour map.
pub const STEPS: usize = 32;

/// Shared materials sampling a colour map at [`STEPS`] points.
#[derive(Debug, Clone)]
pub struct Palette {
    pub map: ColorMap,
    pub materials: Vec<Handle<StandardMaterial>>,
}

impl Palette {
    pub fn new(
        map: ColorMap,
        mats: &mut Assets<StandardMaterial>,
        emissive: f32,
        roughness: f32,
    ) -> Self {
        let materials = (0..STEPS)
            .map(|i| {
                let c = map.color(i as f32 / (STEPS - 1) as f32);
                mats.add(StandardMaterial {
                    base_color: c,
                    emissive: c.to_linear() * emissive,
                    perceptual_roughness: roughness,
                    ..default()
                })
            })
            .collect();
        Self { map, materials }
    }
    /// The material for a value in [0, 1].
    pub fn at(&self, x: f32) -> Handle<StandardMaterial> {
        self.get(x).clone()
    }
    /// The material for a value in [0, 1], borrowed (no handle is cloned to compare it).
    pub fn get(&self, x: f32) -> &Handle<StandardMaterial> {
        let x = if x.is_finite() {
            x.clamp(0.0, 1.0)
        } else {
            0.0
        };
        &self.materials[(x * (STEPS - 1) as f32).round() as usize]
    }
}

//! The 3D city: ground, river, parks and streets; buildings extruded to their floors; the heat
//! network as supply and return tubes coloured by temperature, with particles moving at the
//! water's speed; stations, quantum sites, wind turbines and PV; layer colouring.
//!
//! Scene coordinates (x east, y north, metres) map to Bevy's as `(x, height, −y)`.
//! Buildings, tubes and particles share a handful of meshes (a unit cube, a unit cylinder, a
//! sphere) and per-colour materials, so Bevy batches thousands of them into few draw calls.

use bevy::asset::RenderAssetUsages;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;

use super::colormap::{ALARM, Palette, QUANTUM, SEQUENTIAL, THERMAL};
use crate::base::{Kind, SceneSpec};
use crate::demand::{Buildings, Consumers};
use crate::grid::GridState;
use crate::hydraulics::HydraulicState;
use crate::network::Network;
use crate::plants::Stations;
use crate::quantum::Sites;
use crate::scene::{MapFeature, Plant, Scene};
use crate::thermal::ThermalState;

/// Scene point to Bevy position at height `h`.
pub fn to3(p: [f64; 2], h: f32) -> Vec3 {
    Vec3::new(p[0] as f32, h, -p[1] as f32)
}

/// What a rendered object stands for: the kind and index of the scene object.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    pub kind: Kind,
    pub index: u32,
}

/// A building's box: its index in the scene and its network node, resolved once at spawn (so the
/// layer colouring does no name look-up per building).
#[derive(Component, Debug, Clone, Copy)]
pub struct BuildingVis {
    pub index: u32,
    pub node: Option<u32>,
}
#[derive(Component)]
pub struct PipeVis {
    pub index: u32,
    pub supply: bool,
}
#[derive(Component)]
pub struct SiteVis(pub u32);
#[derive(Component)]
pub struct SiteGlow(pub u32);
#[derive(Component)]
pub struct Rotor {
    pub turbine: u32,
    pub angle: f32,
}
#[derive(Component)]
pub struct FlowParticle {
    pub pipe: u32,
    pub s: f32,
}

/// The map layers of the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layer {
    #[default]
    SupplyTemperature,
    HeatDemand,
    QuantumHeatShare,
    UnmetHeat,
    IndoorTemperature,
    FeederLoading,
    Carbon,
    JobLoad,
    /// The data links from the city services to the sites, by key exchange
    /// ([`super::links_layer`]).
    DataLinks,
}

impl Layer {
    pub const ALL: [Layer; 9] = [
        Layer::SupplyTemperature,
        Layer::HeatDemand,
        Layer::QuantumHeatShare,
        Layer::UnmetHeat,
        Layer::IndoorTemperature,
        Layer::FeederLoading,
        Layer::Carbon,
        Layer::JobLoad,
        Layer::DataLinks,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Layer::SupplyTemperature => "Supply temperature",
            Layer::HeatDemand => "Heat demand",
            Layer::QuantumHeatShare => "Heat from quantum sites",
            Layer::UnmetHeat => "Unmet heat",
            Layer::IndoorTemperature => "Indoor temperature",
            Layer::FeederLoading => "Feeder loading",
            Layer::Carbon => "Carbon of heat",
            Layer::JobLoad => "Job load per site",
            Layer::DataLinks => "Data links: key exchange",
        }
    }
    /// From its short name (`--layer`, `?layer=`): supply, demand, quantum, unmet, indoor,
    /// feeders, carbon, jobs, links.
    pub fn parse(s: &str) -> Option<Layer> {
        Some(match s.trim() {
            "supply" => Layer::SupplyTemperature,
            "demand" => Layer::HeatDemand,
            "quantum" => Layer::QuantumHeatShare,
            "unmet" => Layer::UnmetHeat,
            "indoor" => Layer::IndoorTemperature,
            "feeders" => Layer::FeederLoading,
            "carbon" => Layer::Carbon,
            "jobs" => Layer::JobLoad,
            "links" => Layer::DataLinks,
            _ => return None,
        })
    }
    /// The legend: colour map, value at 0 and 1, unit.
    pub fn legend(self) -> (super::colormap::ColorMap, f32, f32, &'static str) {
        match self {
            Layer::SupplyTemperature => (THERMAL, 40.0, 95.0, "°C"),
            Layer::HeatDemand => (SEQUENTIAL, 0.0, 80.0, "W/m²"),
            Layer::QuantumHeatShare => (QUANTUM, 0.0, 100.0, "%"),
            Layer::UnmetHeat => (ALARM, 0.0, 100.0, "% of demand"),
            // 12 °C (blue, cold) … 22 °C (red); the 18 °C comfort limit sits at 0.6 (yellow).
            Layer::IndoorTemperature => (THERMAL, 12.0, 22.0, "°C"),
            Layer::FeederLoading => (SEQUENTIAL, 0.0, 120.0, "% of capacity"),
            Layer::Carbon => (ALARM, 0.0, 300.0, "g CO₂/kWh"),
            Layer::JobLoad => (QUANTUM, 0.0, 100.0, "% busy"),
            // Categories, not a ramp: the panel draws the links' own legend.
            Layer::DataLinks => (QUANTUM, 0.0, 1.0, ""),
        }
    }
}

/// Settings of the map.
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct MapSettings {
    pub layer: Layer,
    pub show_pipes: bool,
    pub show_particles: bool,
    pub show_grid: bool,
}

impl Default for MapSettings {
    fn default() -> Self {
        Self {
            layer: Layer::SupplyTemperature,
            show_pipes: true,
            show_particles: true,
            show_grid: true,
        }
    }
}

/// Shared meshes and materials.
#[derive(Resource)]
pub struct ViewAssets {
    pub thermal: Palette,
    pub sequential: Palette,
    pub quantum: Palette,
    pub alarm: Palette,
    pub tubes: Palette,
    pub neutral: Handle<StandardMaterial>,
    pub particle: Handle<StandardMaterial>,
}

/// Where the city lies: centre and radius, m (Bevy coordinates).
#[derive(Resource, Debug, Clone, Copy)]
pub struct CityBounds {
    pub centre: Vec3,
    pub radius: f32,
}

/// Oriented box of a footprint: centre, angle of its longest edge (rad), length along it, width.
pub fn footprint_box(poly: &[[f64; 2]]) -> ([f64; 2], f64, f64, f64) {
    let n = poly.len();
    let mut best = (0.0, 0.0);
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + 1) % n]);
        let l = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        if l > best.0 {
            best = (l, (b[1] - a[1]).atan2(b[0] - a[0]));
        }
    }
    let th = best.1;
    let (c, s) = (th.cos(), th.sin());
    let (mut u0, mut u1, mut v0, mut v1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in poly {
        let u = p[0] * c + p[1] * s;
        let v = -p[0] * s + p[1] * c;
        u0 = u0.min(u);
        u1 = u1.max(u);
        v0 = v0.min(v);
        v1 = v1.max(v);
    }
    let (uc, vc) = (0.5 * (u0 + u1), 0.5 * (v0 + v1));
    ([uc * c - vc * s, uc * s + vc * c], th, u1 - u0, v1 - v0)
}

fn flat_mesh(positions: Vec<[f32; 3]>, indices: Vec<u32>) -> Mesh {
    let n = positions.len();
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::default(),
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
    .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, vec![[0.0, 1.0, 0.0]; n])
    .with_inserted_attribute(Mesh::ATTRIBUTE_UV_0, vec![[0.0, 0.0]; n])
    .with_inserted_indices(Indices::U32(indices))
}

/// A flat ribbon along a polyline, `width` wide, at height `h`.
fn ribbon(points: &[[f64; 2]], width: f64, h: f32) -> Mesh {
    let mut pos = Vec::new();
    let mut idx = Vec::new();
    let n = points.len();
    for i in 0..n {
        let prev = points[i.saturating_sub(1)];
        let next = points[(i + 1).min(n - 1)];
        let (dx, dy) = (next[0] - prev[0], next[1] - prev[1]);
        let l = (dx * dx + dy * dy).sqrt().max(1e-9);
        let (nx, ny) = (-dy / l * width * 0.5, dx / l * width * 0.5);
        let p = points[i];
        pos.push([(p[0] + nx) as f32, h, -(p[1] + ny) as f32]);
        pos.push([(p[0] - nx) as f32, h, -(p[1] - ny) as f32]);
        if i + 1 < n {
            let k = (2 * i) as u32;
            idx.extend_from_slice(&[k, k + 1, k + 2, k + 1, k + 3, k + 2]);
        }
    }
    // Both windings, so the ribbon shows from above whatever the polyline's direction.
    let back: Vec<u32> = idx.chunks(3).flat_map(|t| [t[0], t[2], t[1]]).collect();
    idx.extend(back);
    flat_mesh(pos, idx)
}

/// A flat polygon (ear clipping) at height `h`.
fn polygon(poly: &[[f64; 2]], h: f32) -> Mesh {
    let pos: Vec<[f32; 3]> = poly
        .iter()
        .map(|p| [p[0] as f32, h, -p[1] as f32])
        .collect();
    let mut rest: Vec<usize> = (0..poly.len()).collect();
    // Orientation (shoelace) to know which turn is convex.
    let area: f64 = (0..poly.len())
        .map(|i| {
            let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum();
    let ccw = area > 0.0;
    let mut idx = Vec::new();
    let cross = |a: [f64; 2], b: [f64; 2], c: [f64; 2]| {
        (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    };
    let mut guard = 0;
    while rest.len() > 3 && guard < 10_000 {
        guard += 1;
        let m = rest.len();
        let mut clipped = false;
        for i in 0..m {
            let (ia, ib, ic) = (rest[(i + m - 1) % m], rest[i], rest[(i + 1) % m]);
            let (a, b, c) = (poly[ia], poly[ib], poly[ic]);
            let cr = cross(a, b, c);
            if (cr > 0.0) != ccw {
                continue;
            }
            let inside = rest.iter().any(|&j| {
                if j == ia || j == ib || j == ic {
                    return false;
                }
                let p = poly[j];
                let (d1, d2, d3) = (cross(a, b, p), cross(b, c, p), cross(c, a, p));
                if ccw {
                    d1 > 0.0 && d2 > 0.0 && d3 > 0.0
                } else {
                    d1 < 0.0 && d2 < 0.0 && d3 < 0.0
                }
            });
            if inside {
                continue;
            }
            idx.extend_from_slice(&[ia as u32, ib as u32, ic as u32]);
            rest.remove(i);
            clipped = true;
            break;
        }
        if !clipped {
            break;
        }
    }
    if rest.len() == 3 {
        idx.extend(rest.iter().map(|&i| i as u32));
    }
    let back: Vec<u32> = idx.chunks(3).flat_map(|t| [t[0], t[2], t[1]]).collect();
    idx.extend(back);
    flat_mesh(pos, idx)
}

/// Centre and radius of everything placed in a scene (buildings and network nodes).
pub fn city_bounds(scene: &Scene, net: &Network) -> CityBounds {
    let mut pts: Vec<[f64; 2]> = net.node_pos.clone();
    pts.extend(scene.buildings.iter().map(|b| b.centre()));
    if pts.is_empty() {
        pts.push([0.0, 0.0]);
    }
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in &pts {
        x0 = x0.min(p[0]);
        x1 = x1.max(p[0]);
        y0 = y0.min(p[1]);
        y1 = y1.max(p[1]);
    }
    let centre = [(x0 + x1) * 0.5, (y0 + y1) * 0.5];
    let radius = (((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt() * 0.5).max(100.0) as f32;
    CityBounds {
        centre: to3(centre, 0.0),
        radius,
    }
}

/// Visual radius of a tube for an inner diameter (exaggerated so a city-wide network reads).
pub fn tube_radius_m(d: f64) -> f32 {
    (0.7 + 6.0 * d) as f32
}

/// Every pipe's polyline in the view's space (its `route`, else straight between its nodes),
/// with cumulative lengths: where the tubes are drawn and the flow particles run.
#[derive(Resource, Default)]
pub struct PipeRoutes {
    pub points: Vec<Vec<Vec3>>,
    /// Cumulative length at each point, m.
    pub along: Vec<Vec<f32>>,
}

impl PipeRoutes {
    pub fn new(scene: &Scene, net: &Network) -> Self {
        let by_id: std::collections::HashMap<&str, &Vec<[f64; 2]>> = scene
            .heat_network
            .pipes
            .iter()
            .map(|p| (p.id.as_str(), &p.route))
            .collect();
        let mut out = PipeRoutes::default();
        for k in 0..net.pipe_count() {
            let pts: Vec<Vec3> = match by_id.get(net.pipe_ids[k].as_str()) {
                Some(r) if r.len() >= 2 => r.iter().map(|p| to3(*p, 0.0)).collect(),
                _ => vec![
                    to3(net.node_pos[net.pipe_from[k] as usize], 0.0),
                    to3(net.node_pos[net.pipe_to[k] as usize], 0.0),
                ],
            };
            let mut along = Vec::with_capacity(pts.len());
            let mut acc = 0.0;
            for (i, p) in pts.iter().enumerate() {
                if i > 0 {
                    acc += (*p - pts[i - 1]).length();
                }
                along.push(acc);
            }
            out.points.push(pts);
            out.along.push(along);
        }
        out
    }
    /// Length of pipe `k`'s polyline, m.
    pub fn length(&self, k: usize) -> f32 {
        self.along[k].last().copied().unwrap_or(0.0)
    }
    /// The point `s` metres along pipe `k` and the direction there.
    pub fn at(&self, k: usize, s: f32) -> (Vec3, Vec3) {
        let (pts, along) = (&self.points[k], &self.along[k]);
        let i = along
            .partition_point(|a| *a <= s)
            .clamp(1, pts.len().max(2) - 1);
        let (a, b) = (pts[i - 1], pts[i]);
        let seg = (along[i] - along[i - 1]).max(1e-6);
        let t = ((s - along[i - 1]) / seg).clamp(0.0, 1.0);
        let d = (b - a).normalize_or_zero();
        (a + (b - a) * t, d)
    }
}

/// Spawns the whole city from the scene.
#[allow(clippy::too_many_arguments)]
pub fn spawn_city(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut mats: ResMut<Assets<StandardMaterial>>,
    spec: Res<SceneSpec>,
    net: Res<Network>,
) {
    let scene: &Scene = &spec.scene;
    let cube = meshes.add(Cuboid::new(1.0, 1.0, 1.0));
    let cyl = meshes.add(Cylinder::new(1.0, 1.0));
    // Tubes and flow particles are many and thin (a few metres across at city scale): coarser
    // meshes than the stations' (12 sides instead of 32, an 80-face sphere instead of 320), since
    // a software rasteriser's frame time follows the triangles of a large city.
    let tube = meshes.add(Cylinder::new(1.0, 1.0).mesh().resolution(12));
    let sphere = meshes.add(Sphere::new(1.0).mesh().ico(1).expect("small ico sphere"));

    let assets = ViewAssets {
        thermal: Palette::new(THERMAL, &mut mats, 0.0, 0.85),
        sequential: Palette::new(SEQUENTIAL, &mut mats, 0.0, 0.85),
        quantum: Palette::new(QUANTUM, &mut mats, 0.0, 0.85),
        alarm: Palette::new(ALARM, &mut mats, 0.0, 0.85),
        tubes: Palette::new(THERMAL, &mut mats, 0.6, 0.4),
        neutral: mats.add(StandardMaterial {
            base_color: Color::srgb(0.86, 0.85, 0.82),
            perceptual_roughness: 0.9,
            ..default()
        }),
        particle: mats.add(StandardMaterial {
            base_color: Color::WHITE,
            emissive: LinearRgba::rgb(3.0, 3.0, 3.0),
            unlit: true,
            ..default()
        }),
    };

    let bounds = city_bounds(scene, &net);
    let (centre, radius) = (
        [bounds.centre.x as f64, -bounds.centre.z as f64],
        bounds.radius,
    );
    commands.insert_resource(bounds);

    // Ground.
    let ground = mats.add(StandardMaterial {
        base_color: Color::srgb(0.55, 0.62, 0.50),
        perceptual_roughness: 1.0,
        ..default()
    });
    commands.spawn((
        Mesh3d(meshes.add(Plane3d::default().mesh().size(radius * 5.0, radius * 5.0))),
        MeshMaterial3d(ground),
        Transform::from_translation(to3(centre, 0.0)),
    ));
    // Map features.
    let street_mat = mats.add(StandardMaterial {
        base_color: Color::srgb(0.36, 0.36, 0.38),
        perceptual_roughness: 0.95,
        ..default()
    });
    let river_mat = mats.add(StandardMaterial {
        base_color: Color::srgb(0.20, 0.42, 0.62),
        perceptual_roughness: 0.15,
        metallic: 0.1,
        ..default()
    });
    let park_mat = mats.add(StandardMaterial {
        base_color: Color::srgb(0.33, 0.55, 0.28),
        perceptual_roughness: 1.0,
        ..default()
    });
    let outbuilding_mat = mats.add(StandardMaterial {
        base_color: Color::srgb(0.62, 0.62, 0.60),
        perceptual_roughness: 0.9,
        ..default()
    });
    for f in &scene.map {
        match f {
            MapFeature::Street { points, width_m } if points.len() >= 2 => {
                commands.spawn((
                    Mesh3d(meshes.add(ribbon(points, *width_m, 0.06))),
                    MeshMaterial3d(street_mat.clone()),
                ));
            }
            MapFeature::River { points, width_m } if points.len() >= 2 => {
                commands.spawn((
                    Mesh3d(meshes.add(ribbon(points, *width_m, 0.03))),
                    MeshMaterial3d(river_mat.clone()),
                ));
            }
            MapFeature::Park { polygon: poly } if poly.len() >= 3 => {
                commands.spawn((
                    Mesh3d(meshes.add(polygon(poly, 0.04))),
                    MeshMaterial3d(park_mat.clone()),
                ));
            }
            MapFeature::Water { polygon: poly } if poly.len() >= 3 => {
                commands.spawn((
                    Mesh3d(meshes.add(polygon(poly, 0.03))),
                    MeshMaterial3d(river_mat.clone()),
                ));
            }
            // Unheated buildings (garages, sheds): plain grey boxes, not coloured by any layer.
            MapFeature::Outbuilding {
                polygon: poly,
                height_m,
            } if poly.len() >= 3 => {
                let (c, th, l, w) = footprint_box(poly);
                let h = height_m.max(1.0) as f32;
                commands.spawn((
                    Mesh3d(cube.clone()),
                    MeshMaterial3d(outbuilding_mat.clone()),
                    Transform {
                        translation: to3(c, h * 0.5),
                        rotation: Quat::from_rotation_y(th as f32),
                        scale: Vec3::new(l.max(1.0) as f32, h, w.max(1.0) as f32),
                    },
                ));
            }
            _ => {}
        }
    }

    // Buildings: a shared unit cube scaled to each footprint's oriented box.
    for (i, b) in scene.buildings.iter().enumerate() {
        if b.footprint.len() < 3 {
            continue;
        }
        let (c, th, l, w) = footprint_box(&b.footprint);
        let h = (b.floors as f64 * b.floor_height_m) as f32;
        commands.spawn((
            Mesh3d(cube.clone()),
            MeshMaterial3d(assets.neutral.clone()),
            Transform {
                translation: to3(c, h * 0.5),
                rotation: Quat::from_rotation_y(th as f32),
                scale: Vec3::new(l.max(2.0) as f32, h, w.max(2.0) as f32),
            },
            BuildingVis {
                index: i as u32,
                node: b.node.as_ref().and_then(|n| net.node(n)),
            },
            Pick {
                kind: Kind::Building,
                index: i as u32,
            },
        ));
    }
    // PV on roofs.
    let pv_mat = mats.add(StandardMaterial {
        base_color: Color::srgb(0.08, 0.12, 0.30),
        perceptual_roughness: 0.2,
        metallic: 0.5,
        ..default()
    });
    if let Some(g) = &scene.grid {
        // By id, once: a search through the buildings per panel is quadratic in a large city.
        let by_id: std::collections::HashMap<&str, &crate::scene::Building> =
            scene.buildings.iter().map(|b| (b.id.as_str(), b)).collect();
        for pv in &g.pv {
            let Some(&b) = pv.building.as_ref().and_then(|id| by_id.get(id.as_str())) else {
                continue;
            };
            let (c, th, l, w) = footprint_box(&b.footprint);
            let h = (b.floors as f64 * b.floor_height_m) as f32;
            commands.spawn((
                Mesh3d(cube.clone()),
                MeshMaterial3d(pv_mat.clone()),
                Transform {
                    translation: to3(c, h + 0.35),
                    rotation: Quat::from_rotation_y(th as f32),
                    scale: Vec3::new((l * 0.7) as f32, 0.3, (w * 0.6) as f32),
                },
            ));
        }
        // Wind turbines: tower, nacelle, rotor.
        let white = mats.add(StandardMaterial {
            base_color: Color::srgb(0.95, 0.95, 0.95),
            perceptual_roughness: 0.5,
            ..default()
        });
        for (k, t) in g.wind.iter().enumerate() {
            let hub = t.hub_height_m as f32;
            let base = to3(t.pos, 0.0);
            commands.spawn((
                Mesh3d(cyl.clone()),
                MeshMaterial3d(white.clone()),
                Transform::from_translation(base + Vec3::Y * hub * 0.5)
                    .with_scale(Vec3::new(2.0, hub, 2.0)),
                Pick {
                    kind: Kind::Wind,
                    index: k as u32,
                },
            ));
            commands.spawn((
                Mesh3d(cube.clone()),
                MeshMaterial3d(white.clone()),
                Transform::from_translation(base + Vec3::new(0.0, hub, 0.0))
                    .with_scale(Vec3::new(4.0, 4.0, 10.0)),
            ));
            let rotor = commands
                .spawn((
                    Transform::from_translation(base + Vec3::new(0.0, hub, 5.5)),
                    Visibility::default(),
                    Rotor {
                        turbine: k as u32,
                        angle: k as f32,
                    },
                ))
                .id();
            for j in 0..3 {
                let a = j as f32 * std::f32::consts::TAU / 3.0;
                let blade = commands
                    .spawn((
                        Mesh3d(cube.clone()),
                        MeshMaterial3d(white.clone()),
                        Transform {
                            translation: Vec3::new(a.sin(), a.cos(), 0.0) * hub * 0.27,
                            rotation: Quat::from_rotation_z(-a),
                            scale: Vec3::new(2.2, hub * 0.55, 0.6),
                        },
                    ))
                    .id();
                commands.entity(rotor).add_child(blade);
            }
        }
    }

    // Heat network: supply and return tubes side by side, segment by segment along each pipe's
    // route (the streets, for imported scenes) or straight between its nodes.
    let routes = PipeRoutes::new(scene, &net);
    for k in 0..net.pipe_count() {
        let r = tube_radius_m(net.pipe_diameter_m[k]);
        let pts = &routes.points[k];
        for w in pts.windows(2) {
            let (pa, pb) = (w[0], w[1]);
            let dir = pb - pa;
            let len = dir.length();
            if len < 1e-3 {
                continue;
            }
            let d = dir / len;
            let side = Vec3::new(-d.z, 0.0, d.x);
            for supply in [true, false] {
                let off = side * (r + 0.4) * if supply { 1.0 } else { -1.0 };
                commands.spawn((
                    Mesh3d(tube.clone()),
                    MeshMaterial3d(assets.tubes.at(0.5)),
                    Transform {
                        translation: (pa + pb) * 0.5 + off + Vec3::Y * (r + 0.3),
                        rotation: Quat::from_rotation_arc(Vec3::Y, d),
                        scale: Vec3::new(r, len, r),
                    },
                    PipeVis {
                        index: k as u32,
                        supply,
                    },
                    Pick {
                        kind: Kind::Pipe,
                        index: k as u32,
                    },
                ));
            }
        }
        // Particles on the supply tube.
        let len = routes.length(k);
        let n = ((len / 45.0).round() as usize).clamp(1, 6);
        for j in 0..n {
            commands.spawn((
                Mesh3d(sphere.clone()),
                MeshMaterial3d(assets.particle.clone()),
                Transform::from_translation(pts[0]).with_scale(Vec3::splat(r * 0.9)),
                FlowParticle {
                    pipe: k as u32,
                    s: j as f32 / n as f32,
                },
                bevy::picking::Pickable::IGNORE,
                // Glowing dots (unlit): their shadows are not seen, only paid for.
                bevy::light::NotShadowCaster,
            ));
        }
    }
    commands.insert_resource(routes);

    // Stations: boilers with a chimney, tanks, pumps.
    let plant_mat = mats.add(StandardMaterial {
        base_color: Color::srgb(0.55, 0.52, 0.50),
        perceptual_roughness: 0.7,
        ..default()
    });
    let tank_mat = mats.add(StandardMaterial {
        base_color: Color::srgb(0.75, 0.30, 0.22),
        perceptual_roughness: 0.5,
        metallic: 0.3,
        ..default()
    });
    let hp_mat = mats.add(StandardMaterial {
        base_color: Color::srgb(0.25, 0.65, 0.75),
        perceptual_roughness: 0.4,
        metallic: 0.4,
        ..default()
    });
    for (pi, p) in scene.plants.iter().enumerate() {
        let Some(node) = net.node(p.node()) else {
            continue;
        };
        let at = net.node_pos[node as usize];
        let pick = Pick {
            kind: Kind::Plant,
            index: pi as u32,
        };
        match p {
            Plant::GasBoiler { .. } => {
                let c = to3([at[0] + 18.0, at[1] + 12.0], 0.0);
                commands.spawn((
                    Mesh3d(cube.clone()),
                    MeshMaterial3d(plant_mat.clone()),
                    Transform::from_translation(c + Vec3::Y * 7.0)
                        .with_scale(Vec3::new(26.0, 14.0, 18.0)),
                    pick,
                ));
                commands.spawn((
                    Mesh3d(cyl.clone()),
                    MeshMaterial3d(plant_mat.clone()),
                    Transform::from_translation(c + Vec3::new(8.0, 22.0, 0.0))
                        .with_scale(Vec3::new(1.8, 44.0, 1.8)),
                    pick,
                ));
            }
            Plant::Storage { volume_m3, .. } => {
                let r = ((volume_m3 / (std::f64::consts::PI * 2.0)).cbrt() as f32).max(2.0);
                commands.spawn((
                    Mesh3d(cyl.clone()),
                    MeshMaterial3d(tank_mat.clone()),
                    Transform::from_translation(to3([at[0] - 16.0, at[1] + 14.0], r))
                        .with_scale(Vec3::new(r, 2.0 * r, r)),
                    pick,
                ));
            }
            Plant::HeatPump { .. } => {
                commands.spawn((
                    Mesh3d(cube.clone()),
                    MeshMaterial3d(hp_mat.clone()),
                    Transform::from_translation(to3([at[0] + 6.0, at[1] - 8.0], 2.0))
                        .with_scale(Vec3::new(9.0, 4.0, 5.0)),
                    pick,
                ));
            }
            Plant::CirculationPump { .. } => {
                commands.spawn((
                    Mesh3d(cube.clone()),
                    MeshMaterial3d(hp_mat.clone()),
                    Transform::from_translation(to3([at[0] - 5.0, at[1] - 6.0], 1.2))
                        .with_scale(Vec3::new(3.0, 2.4, 3.0)),
                    pick,
                ));
            }
            Plant::FixedSource { .. } => {
                commands.spawn((
                    Mesh3d(cube.clone()),
                    MeshMaterial3d(plant_mat.clone()),
                    Transform::from_translation(to3(at, 4.0)).with_scale(Vec3::splat(8.0)),
                    pick,
                ));
            }
        }
    }

    // Quantum sites: a distinct violet building with a glowing cryostat dome on the roof.
    for (i, s) in scene.quantum_sites.iter().enumerate() {
        let site_mat = mats.add(StandardMaterial {
            base_color: Color::srgb(0.42, 0.30, 0.75),
            emissive: LinearRgba::rgb(0.3, 0.15, 0.8),
            perceptual_roughness: 0.3,
            metallic: 0.2,
            ..default()
        });
        let glow = mats.add(StandardMaterial {
            base_color: Color::srgb(0.6, 0.9, 1.0),
            emissive: LinearRgba::rgb(2.0, 6.0, 10.0),
            ..default()
        });
        let (c, th, l, w, h) = if s.footprint.len() >= 3 {
            let (c, th, l, w) = footprint_box(&s.footprint);
            (c, th, l, w, 12.0)
        } else {
            (s.pos, 0.0, 30.0, 22.0, 12.0)
        };
        let pick = Pick {
            kind: Kind::Site,
            index: i as u32,
        };
        commands.spawn((
            Mesh3d(cube.clone()),
            MeshMaterial3d(site_mat),
            Transform {
                translation: to3(c, h * 0.5),
                rotation: Quat::from_rotation_y(th as f32),
                scale: Vec3::new(l as f32, h, w as f32),
            },
            SiteVis(i as u32),
            pick,
        ));
        // Cryostats: one dome per ~100 qubits.
        let n = (s.qubits as usize).div_ceil(100).clamp(1, 4);
        for j in 0..n {
            let off = (j as f32 - (n as f32 - 1.0) * 0.5) * 7.0;
            let dir = Vec3::new((th as f32).cos(), 0.0, -(th as f32).sin());
            commands.spawn((
                Mesh3d(cyl.clone()),
                MeshMaterial3d(glow.clone()),
                Transform::from_translation(to3(c, h + 3.0) + dir * off)
                    .with_scale(Vec3::new(2.2, 6.0, 2.2)),
                SiteGlow(i as u32),
                pick,
            ));
        }
    }

    commands.insert_resource(assets);
    commands.init_resource::<LayerPaint>();
}

/// Fraction of each node's supply water that came from heat-pump stations (quantum waste heat
/// lifted), by mixing along this tick's flow (a steady tracer, no transit delay).
pub fn quantum_share_by_node(net: &Network, hs: &HydraulicState, st: &Stations) -> Vec<f64> {
    let n = net.node_count();
    let mut in_m = vec![0.0; n];
    let mut in_q = vec![0.0; n];
    for s in 0..st.len() {
        let node = st.node[s] as usize;
        let m = st.mass_flow_kg_s[s].max(0.0);
        let q = st.heat_w[s].max(0.0);
        let share = if q > 0.0 {
            (st.hp_heat_w[s] / q).clamp(0.0, 1.0)
        } else {
            0.0
        };
        in_m[node] += m;
        in_q[node] += m * share;
    }
    // Flow order: nodes sorted by supply pressure, highest first (flow runs downhill).
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| hs.supply_pressure_pa[b].total_cmp(&hs.supply_pressure_pa[a]));
    let mut share = vec![0.0; n];
    let mut out: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for k in 0..net.pipe_count() {
        let q = hs.pipe_flow_kg_s[k];
        let (a, b) = (net.pipe_from[k] as usize, net.pipe_to[k] as usize);
        if q > 1e-9 {
            out[a].push((b, q));
        } else if q < -1e-9 {
            out[b].push((a, -q));
        }
    }
    for &u in &order {
        if in_m[u] > 0.0 {
            share[u] = in_q[u] / in_m[u];
        }
        for &(v, q) in &out[u] {
            in_m[v] += q;
            in_q[v] += q * share[u];
        }
    }
    share
}

/// What the map layer last painted, and the work that took (read by the tests and the bench).
///
/// The colouring walks the buildings and pipes only when something they show changed: the
/// simulation's state (a tick, a rewind, a live edit), the map settings, or the city itself (a
/// respawn); a frame where nothing changed touches no building.
#[derive(Resource, Debug, Default)]
pub struct LayerPaint {
    /// Another system painted over the buildings (the planner's comparison layer, now off):
    /// repaint them at the next frame whatever the throttle says.
    pub repaint: bool,
    /// The last frame's [`color_layers`] repainted the buildings (a layer drawn over them, the
    /// planner's comparison, then paints again).
    pub painted_now: bool,
    /// Passes over the buildings and pipes so far, and the entities they visited and recoloured.
    pub passes: u64,
    pub buildings_visited: u64,
    pub pipes_visited: u64,
    pub recoloured: u64,
}

/// [`color_layers`]'s memory: the settings it last painted with, when, and whether the
/// simulation changed since.
#[derive(Default)]
pub struct PaintMemory {
    settings: Option<MapSettings>,
    last_s: Option<f32>,
    pending: bool,
}

/// The simulation's state the layers show (read only).
#[derive(bevy::ecs::system::SystemParam)]
pub struct LayerInputs<'w> {
    pub spec: Res<'w, SceneSpec>,
    pub clock: Res<'w, crate::base::SimClock>,
    pub net: Res<'w, Network>,
    pub hs: Res<'w, HydraulicState>,
    pub th: Res<'w, ThermalState>,
    pub st: Res<'w, Stations>,
    pub c: Res<'w, Consumers>,
    pub b: Res<'w, Buildings>,
    pub grid: Res<'w, GridState>,
}

impl LayerInputs<'_> {
    /// Whether anything the layers show changed since the system last ran.
    fn changed(&self) -> bool {
        self.spec.is_changed()
            || self.clock.is_changed()
            || self.net.is_changed()
            || self.hs.is_changed()
            || self.th.is_changed()
            || self.st.is_changed()
            || self.c.is_changed()
            || self.b.is_changed()
            || self.grid.is_changed()
    }
}

/// Shortest time between two recolourings while the simulation runs, s of real time.
pub const RECOLOUR_EVERY_S: f32 = 0.25;

/// Recolours buildings and tubes for the current layer: at once when the settings or the city
/// changed, else at most every [`RECOLOUR_EVERY_S`] while the simulation's state changes, and not
/// at all while it stands still.
pub fn color_layers(
    time: Res<Time<Real>>,
    mut memory: Local<PaintMemory>,
    settings: Res<MapSettings>,
    assets: Option<Res<ViewAssets>>,
    input: LayerInputs,
    mut paint: ResMut<LayerPaint>,
    mut q_b: Query<(&BuildingVis, &mut MeshMaterial3d<StandardMaterial>), Without<PipeVis>>,
    mut q_p: Query<
        (
            &PipeVis,
            &mut MeshMaterial3d<StandardMaterial>,
            &mut Visibility,
        ),
        Without<BuildingVis>,
    >,
) {
    if paint.painted_now {
        paint.painted_now = false;
    }
    let Some(assets) = assets else { return };
    if input.changed() {
        memory.pending = true;
    }
    let now = time.elapsed_secs();
    let forced =
        assets.is_changed() || paint.repaint || memory.settings.as_ref() != Some(&*settings);
    let due = memory.last_s.is_none_or(|t| now - t >= RECOLOUR_EVERY_S);
    if !(forced || (memory.pending && due)) {
        return;
    }
    memory.pending = false;
    memory.last_s = Some(now);
    memory.settings = Some(settings.clone());
    paint.repaint = false;
    paint.painted_now = true;
    paint.passes += 1;

    let LayerInputs {
        net,
        hs,
        th,
        st,
        c,
        b,
        grid,
        ..
    } = &input;
    let (_, lo, hi, _) = settings.layer.legend();
    let norm = |v: f64| ((v as f32 - lo) / (hi - lo)).clamp(0.0, 1.0);
    let share = if matches!(settings.layer, Layer::QuantumHeatShare | Layer::Carbon) {
        quantum_share_by_node(net, hs, st)
    } else {
        Vec::new()
    };
    // Carbon of network heat: gas at 0.202 kg/kWh over 0.92 vs heat-pump electricity at the grid's
    // intensity over a COP of about 3.
    let gas_g = 202.0 / 0.92;
    let hp_g = grid.carbon_now_g_kwh / 3.0;
    let indoor = b.indoor_temp_c();
    let unmet = c.unmet_w();
    let mut visited = 0u64;
    let mut recoloured = 0u64;
    for (bv, mut mat) in &mut q_b {
        visited += 1;
        let i = bv.index as usize;
        let node = bv.node.map(|n| n as usize);
        let handle: &Handle<StandardMaterial> = match settings.layer {
            Layer::SupplyTemperature => match node {
                Some(n) => assets.thermal.get(norm(th.supply_node_temp_c[n])),
                None => &assets.neutral,
            },
            Layer::HeatDemand => {
                let w = b.space_heat_w[i] + b.dhw_w[i] + b.cooling_heat_w[i];
                assets
                    .sequential
                    .get(norm(w / b.heated_area_m2[i].max(1.0)))
            }
            Layer::QuantumHeatShare => match node {
                Some(n) => assets.quantum.get(norm(100.0 * share[n])),
                None => &assets.neutral,
            },
            Layer::UnmetHeat => {
                let d = c.demand_w[i];
                let u = if d > 0.0 { unmet[i] / d } else { 0.0 };
                assets.alarm.get(norm(100.0 * u))
            }
            Layer::IndoorTemperature => match node {
                Some(_) => assets.thermal.get(norm(indoor[i])),
                None => &assets.neutral,
            },
            Layer::FeederLoading => {
                let bus = b.bus[i].map(|x| x as usize);
                let load = bus
                    .and_then(|x| grid.parent_feeder.get(x).copied())
                    .filter(|&f| f != u32::MAX)
                    .map(|f| grid.feeder_loading[f as usize])
                    .unwrap_or(0.0);
                assets.sequential.get(norm(100.0 * load))
            }
            Layer::Carbon => match node {
                Some(n) => {
                    let s = share[n];
                    assets.alarm.get(norm(s * hp_g + (1.0 - s) * gas_g))
                }
                None => &assets.neutral,
            },
            Layer::JobLoad | Layer::DataLinks => &assets.neutral,
        };
        // Only a changed bucket is written: an unchanged material is not re-extracted.
        if mat.0 != *handle {
            mat.0 = handle.clone();
            recoloured += 1;
        }
    }
    paint.buildings_visited += visited;
    let want = if settings.show_pipes {
        Visibility::Inherited
    } else {
        Visibility::Hidden
    };
    let mut pipes = 0u64;
    for (pv, mut mat, mut vis) in &mut q_p {
        pipes += 1;
        let k = pv.index as usize;
        let t = if pv.supply {
            0.5 * (th.supply_in_c[k] + th.supply_out_c[k])
        } else {
            0.5 * (th.return_in_c[k] + th.return_out_c[k])
        };
        let h = assets.tubes.get(((t as f32 - 40.0) / 55.0).clamp(0.0, 1.0));
        if mat.0 != *h {
            mat.0 = h.clone();
            recoloured += 1;
        }
        if *vis != want {
            *vis = want;
        }
    }
    paint.pipes_visited += pipes;
    paint.recoloured += recoloured;
}

/// Moves flow particles along their pipes at the water's speed (× 60, so a walk becomes visible).
/// While time stands still (paused) or the particles are hidden, and neither the flow nor the
/// settings changed, nothing moves and no particle is visited.
#[allow(clippy::too_many_arguments)]
pub fn move_particles(
    time: Res<Time<Real>>,
    virt: Res<Time<Virtual>>,
    settings: Res<MapSettings>,
    net: Res<Network>,
    hs: Res<HydraulicState>,
    routes: Option<Res<PipeRoutes>>,
    mut shown_before: Local<Option<(bool, bool)>>,
    mut q: Query<(&mut FlowParticle, &mut Transform, &mut Visibility)>,
) {
    let Some(routes) = routes else { return };
    let dt = if virt.is_paused() {
        0.0
    } else {
        time.delta_secs().min(0.1)
    };
    let shown = (settings.show_particles, settings.show_pipes);
    let may_change = *shown_before != Some(shown) || hs.is_changed() || routes.is_changed();
    *shown_before = Some(shown);
    if !may_change && (dt == 0.0 || !(shown.0 && shown.1)) {
        return;
    }
    for (mut p, mut tf, mut vis) in &mut q {
        let k = p.pipe as usize;
        let v = hs.velocity_m_s(&net, k) as f32;
        let show = shown.0 && shown.1 && v.abs() > 1e-4;
        let want = if show {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        };
        if *vis != want {
            *vis = want;
        }
        if !show || dt == 0.0 && !may_change {
            continue;
        }
        if k >= routes.points.len() {
            continue;
        }
        let len = routes.length(k).max(0.1);
        p.s = (p.s + v * 60.0 * dt / len).rem_euclid(1.0);
        let (at, d) = routes.at(k, p.s * len);
        let r = tube_radius_m(net.pipe_diameter_m[k]);
        let side = Vec3::new(-d.z, 0.0, d.x) * (r + 0.4);
        tf.translation = at + side + Vec3::Y * (2.0 * r + 0.5);
    }
}

/// Site glow: brightness follows the site's load, colour its mixing chamber's state; a pulse
/// whose rate follows the load.
pub fn site_glow(
    time: Res<Time<Real>>,
    sites: Res<Sites>,
    settings: Res<MapSettings>,
    assets: Option<Res<ViewAssets>>,
    mut mats: ResMut<Assets<StandardMaterial>>,
    q_glow: Query<(&SiteGlow, &MeshMaterial3d<StandardMaterial>)>,
    mut q_site: Query<(&SiteVis, &mut MeshMaterial3d<StandardMaterial>), Without<SiteGlow>>,
    mut site_mats: Local<Vec<Option<Handle<StandardMaterial>>>>,
) {
    let t = time.elapsed_secs();
    for (g, m) in &q_glow {
        let i = g.0 as usize;
        if i >= sites.len() {
            continue;
        }
        let u = sites.utilisation[i] as f32;
        let on = sites.online[i];
        let pulse = 0.5 + 0.5 * (t * (1.0 + 5.0 * u)).sin();
        if let Some(mut mat) = mats.get_mut(&m.0) {
            mat.emissive = if on {
                LinearRgba::rgb(1.0, 3.0, 6.0) * (0.6 + 2.5 * u * (0.6 + 0.4 * pulse))
            } else {
                LinearRgba::rgb(2.5, 0.3, 0.2) * (0.5 + 0.5 * pulse)
            };
        }
    }
    // In the job-load layer, the site buildings take the load colour.
    if site_mats.len() < sites.len() {
        site_mats.resize(sites.len(), None);
    }
    let Some(assets) = assets else { return };
    for (sv, mut mat) in &mut q_site {
        let i = sv.0 as usize;
        if site_mats[i].is_none() {
            site_mats[i] = Some(mat.0.clone());
        }
        let want = if settings.layer == Layer::JobLoad {
            assets.quantum.at(sites.utilisation[i] as f32)
        } else {
            site_mats[i].clone().unwrap_or_else(|| mat.0.clone())
        };
        if mat.0 != want {
            mat.0 = want;
        }
    }
}

/// Turns the rotors with the wind turbines' output.
pub fn spin_rotors(
    time: Res<Time<Real>>,
    virt: Res<Time<Virtual>>,
    grid: Res<GridState>,
    mut q: Query<(&mut Rotor, &mut Transform)>,
) {
    if virt.is_paused() {
        return;
    }
    let dt = time.delta_secs();
    let rated: f64 = grid.wind.iter().map(|x| x.1).sum::<f64>().max(1.0);
    for (mut r, mut tf) in &mut q {
        let k = r.turbine as usize;
        let frac = grid
            .wind
            .get(k)
            .map(|w| (grid.wind_w / rated) as f32 * (w.1 > 0.0) as u8 as f32)
            .unwrap_or(0.0);
        r.angle += dt * 2.0 * frac;
        tf.rotation = Quat::from_rotation_z(r.angle);
    }
}

/// [`draw_grid`]'s memory: the feeders' ends (resolved once per scene), the retained gizmo and
/// what it was last drawn with.
#[derive(Default)]
pub struct GridLines {
    ends: Vec<Option<(Vec3, Vec3)>>,
    buses: Vec<Vec3>,
    entity: Option<Entity>,
    shown: Option<bool>,
    last_s: Option<f32>,
    pending: bool,
}

/// Feeders as lines between buses, coloured by loading: a retained gizmo, rebuilt when the
/// loading changed (at most every [`RECOLOUR_EVERY_S`]) or the settings did, not drawn anew
/// every frame.
#[allow(clippy::too_many_arguments)]
pub fn draw_grid(
    mut commands: Commands,
    mut gizmo_assets: ResMut<Assets<GizmoAsset>>,
    time: Res<Time<Real>>,
    settings: Res<MapSettings>,
    spec: Res<SceneSpec>,
    grid: Res<GridState>,
    mut lines: Local<GridLines>,
) {
    if spec.is_changed() {
        lines.ends.clear();
        lines.buses.clear();
        if let Some(g) = &spec.scene.grid {
            let at: std::collections::HashMap<&str, Vec3> = g
                .buses
                .iter()
                .map(|b| (b.id.as_str(), to3(b.pos, 30.0)))
                .collect();
            lines.ends = g
                .feeders
                .iter()
                .map(|f| {
                    at.get(f.from.as_str())
                        .copied()
                        .zip(at.get(f.to.as_str()).copied())
                })
                .collect();
            lines.buses = g.buses.iter().map(|b| to3(b.pos, 30.0)).collect();
        }
        lines.pending = true;
    }
    if grid.is_changed() {
        lines.pending = true;
    }
    let now = time.elapsed_secs();
    let forced = lines.shown != Some(settings.show_grid) || lines.entity.is_none();
    let due = lines.last_s.is_none_or(|t| now - t >= RECOLOUR_EVERY_S);
    if !(forced || (lines.pending && due)) {
        return;
    }
    lines.pending = false;
    lines.last_s = Some(now);
    lines.shown = Some(settings.show_grid);
    let mut gizmo = GizmoAsset::default();
    if settings.show_grid {
        for (k, e) in lines.ends.iter().enumerate() {
            let Some((a, b)) = *e else { continue };
            let load = grid.feeder_loading.get(k).copied().unwrap_or(0.0) as f32;
            gizmo.line(a, b, SEQUENTIAL.color((load / 1.2).clamp(0.0, 1.0)));
        }
        for &p in &lines.buses {
            gizmo.sphere(
                Isometry3d::from_translation(p),
                4.0,
                Color::srgb(0.95, 0.85, 0.2),
            );
        }
    }
    let component = Gizmo {
        handle: gizmo_assets.add(gizmo),
        ..default()
    };
    match lines.entity {
        Some(e) => {
            commands.entity(e).insert(component);
        }
        None => lines.entity = Some(commands.spawn(component).id()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bevy::ecs::system::RunSystemOnce;

    use super::*;
    use crate::sim::{RunOptions, Simulation};

    /// Riverside's world with the city's meshes spawned as the view spawns them (no renderer).
    fn riverside_city() -> Simulation {
        let scene = crate::scene::load_scene(std::path::Path::new("scenes/riverside.ron")).unwrap();
        let mut sim = Simulation::new_with(&scene, &RunOptions::default(), |app| {
            app.add_plugins(bevy::asset::AssetPlugin::default())
                .init_asset::<Mesh>()
                .init_asset::<StandardMaterial>()
                .init_resource::<MapSettings>()
                // The renderer's plugins give every mesh a visibility; none runs here.
                .register_required_components::<Mesh3d, Visibility>();
        })
        .unwrap();
        sim.world_mut().run_system_once(spawn_city).unwrap();
        sim
    }

    fn later(w: &mut World, s: f32) {
        w.resource_mut::<Time<Real>>()
            .update_with_duration(Duration::from_secs_f32(s));
    }

    fn counts(w: &World) -> (u64, u64, u64) {
        let p = w.resource::<LayerPaint>();
        (p.passes, p.buildings_visited, p.pipes_visited)
    }

    /// The layer colouring walks the buildings only when something it shows changed: a frame with
    /// no tick and no settings change touches none; a tick makes it recolour (throttled), a layer
    /// change at once; the colours are the simulation's, through the node cached at spawn.
    #[test]
    fn colouring_touches_no_building_unless_something_changed() {
        let mut sim = riverside_city();
        let w = sim.world_mut();
        let nb = w.query::<&BuildingVis>().iter(w).count() as u64;
        let np = w.query::<&PipeVis>().iter(w).count() as u64;
        assert!(nb > 100 && np > 100, "{nb} buildings, {np} tubes");
        let mut frame = Schedule::default();
        frame.add_systems(color_layers);

        // The first frame paints everything.
        frame.run(w);
        assert_eq!(counts(w), (1, nb, np));
        // Frames later, nothing changed: no building, no pipe visited; neither when the settings
        // were only borrowed mutably (as the panel's checkboxes do every frame).
        for _ in 0..3 {
            later(w, 1.0);
            w.resource_mut::<MapSettings>().set_changed();
            frame.run(w);
        }
        assert_eq!(counts(w), (1, nb, np));

        // A tick: recoloured at the next frame past the throttle, once.
        w.run_schedule(FixedUpdate);
        later(w, 1.0);
        frame.run(w);
        assert_eq!(counts(w), (2, 2 * nb, 2 * np));
        later(w, 1.0);
        frame.run(w);
        assert_eq!(counts(w), (2, 2 * nb, 2 * np));

        // A tick right after a recolouring waits for the throttle, then is shown without any
        // further change.
        w.run_schedule(FixedUpdate);
        later(w, 1.0);
        frame.run(w);
        assert_eq!(counts(w).0, 3);
        w.run_schedule(FixedUpdate);
        later(w, 0.5 * RECOLOUR_EVERY_S);
        frame.run(w);
        assert_eq!(counts(w).0, 3);
        later(w, RECOLOUR_EVERY_S);
        frame.run(w);
        assert_eq!(counts(w).0, 4);

        // Every building shows its node's supply temperature (the node resolved at spawn).
        {
            let spec = w.resource::<SceneSpec>().scene.clone();
            let net = w.resource::<Network>().clone();
            let th = w.resource::<ThermalState>().supply_node_temp_c.clone();
            let assets = w.resource::<ViewAssets>();
            let (thermal, neutral) = (assets.thermal.clone(), assets.neutral.clone());
            let (_, lo, hi, _) = Layer::SupplyTemperature.legend();
            let mut coloured = 0;
            let mut q = w.query::<(&BuildingVis, &MeshMaterial3d<StandardMaterial>)>();
            for (bv, mat) in q.iter(w) {
                let want_node = spec.buildings[bv.index as usize]
                    .node
                    .as_ref()
                    .and_then(|n| net.node(n));
                assert_eq!(bv.node, want_node);
                let want = match want_node {
                    Some(n) => {
                        coloured += 1;
                        thermal.at(((th[n as usize] as f32 - lo) / (hi - lo)).clamp(0.0, 1.0))
                    }
                    None => neutral.clone(),
                };
                assert_eq!(mat.0, want, "building {}", bv.index);
            }
            assert!(coloured > 100, "{coloured} buildings on the network");
        }

        // Another layer: at once, without waiting for the throttle.
        w.resource_mut::<MapSettings>().layer = Layer::HeatDemand;
        frame.run(w);
        assert_eq!(counts(w).0, 5);
        frame.run(w);
        assert_eq!(counts(w).0, 5);
    }
}

//! Where a new or moved micro quantum site goes: the nearest pipe and bus, the free spot when
//! the place asked for lies inside a building, and the site's heat pump and service pipe.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// Building edits

/// Size and make of a new site: the site's parameters (its id and place are set when placed) and
/// its heat pump's Carnot fraction; the heat pump's capacity is sized from the site.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteTemplate {
    pub site: QuantumSite,
    pub carnot_fraction: f64,
    pub pump_efficiency: f64,
    pub pump_max_head_pa: f64,
}

impl SiteTemplate {
    /// The scene's first site and its heat pump, or a 200-qubit site of typical numbers.
    pub fn from_scene(scene: &Scene) -> Self {
        let site = scene.quantum_sites.first().cloned().unwrap_or(QuantumSite {
            id: String::new(),
            pos: [0.0, 0.0],
            qubits: 200,
            compressor_power_w: 36_000.0,
            electronics_w_per_qubit: 60.0,
            servers_power_w: 300_000.0,
            idle_share: 0.4,
            recoverable_heat_share: 0.8,
            recovered_water_temp_c: 35.0,
            utilisation: 0.6,
            node: None,
            bus: None,
            footprint: Vec::new(),
        });
        let carnot_fraction = scene
            .plants
            .iter()
            .find_map(|p| match p {
                Plant::HeatPump {
                    site: s,
                    carnot_fraction,
                    ..
                } if *s == site.id => Some(*carnot_fraction),
                _ => None,
            })
            .unwrap_or(0.5);
        Self {
            site,
            carnot_fraction,
            pump_efficiency: 0.6,
            pump_max_head_pa: 5.0e5,
        }
    }
}

pub(super) fn dist(a: [f64; 2], b: [f64; 2]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// Distance from `p` to segment `a`–`b` and the parameter (0–1) of the nearest point.
pub fn segment_distance(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> (f64, f64) {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let l2 = dx * dx + dy * dy;
    let t = if l2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (dist(p, [a[0] + t * dx, a[1] + t * dy]), t)
}

/// The nearest pipe to `pos` (index, distance m, nearer end's node index), skipping service
/// pipes of `skip_site`.
pub fn nearest_pipe(
    scene: &Scene,
    pos: [f64; 2],
    skip_site: Option<&str>,
) -> Option<(usize, f64, usize)> {
    let net = &scene.heat_network;
    let idx: std::collections::HashMap<&str, usize> = net
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let skip = skip_site.map(|s| format!("{s}_p"));
    let mut best: Option<(usize, f64, usize)> = None;
    for (k, p) in net.pipes.iter().enumerate() {
        if skip.as_deref() == Some(p.id.as_str()) {
            continue;
        }
        let (Some(&a), Some(&b)) = (idx.get(p.from.as_str()), idx.get(p.to.as_str())) else {
            continue;
        };
        let (d, t) = segment_distance(pos, net.nodes[a].pos, net.nodes[b].pos);
        if best.is_none_or(|x| d < x.1) {
            best = Some((k, d, if t <= 0.5 { a } else { b }));
        }
    }
    best
}

/// Nearest bus to `pos`: (index, distance m).
pub fn nearest_bus(scene: &Scene, pos: [f64; 2]) -> Option<(usize, f64)> {
    let g = scene.grid.as_ref()?;
    g.buses
        .iter()
        .enumerate()
        .map(|(i, b)| (i, dist(pos, b.pos)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// The feeder that supplies `bus` from the grid connection (radial), if any.
pub fn feeder_of_bus(scene: &Scene, bus: &str) -> Option<usize> {
    let g = scene.grid.as_ref()?;
    let gs = crate::grid::GridState::from_scene(scene);
    let b = g.buses.iter().position(|x| x.id == bus)?;
    let f = gs.parent_feeder.get(b).copied()?;
    (f != u32::MAX).then_some(f as usize)
}

/// Largest power a site of `template`'s size draws, W.
pub fn site_peak_power_w(s: &QuantumSite) -> f64 {
    s.compressor_power_w + s.qubits as f64 * s.electronics_w_per_qubit + s.servers_power_w
}

/// Plans a new site `id` at `pos` of `template`'s size in `scene` (which is not changed): the site
/// with its service node and pipe to the nearest pipe's nearer end, a heat pump sized for its
/// largest recoverable heat at the design supply temperature, a circulation pump, and the nearest
/// bus. The bundle's positions are the ends of the scene's lists.
pub fn plan_site(
    scene: &Scene,
    id: &str,
    pos: [f64; 2],
    template: &SiteTemplate,
) -> Result<(SiteBundle, Connection), EditError> {
    if id.is_empty() || scene.quantum_sites.iter().any(|s| s.id == id) {
        return err(format!("\"{id}\" is not a new quantum site id"));
    }
    if !(pos[0].is_finite() && pos[1].is_finite()) {
        return err(format!(
            "position ({}, {}) is not a finite point",
            pos[0], pos[1]
        ));
    }
    let requested = pos;
    let (pos, inside) = free_spot(scene, pos, &template.site)?;
    let net = &scene.heat_network;
    let Some((pk, _, tap)) = nearest_pipe(scene, pos, Some(id)) else {
        return err("the scene has no heat network pipe to connect to");
    };
    let tap_node = &net.nodes[tap];
    let service_m = dist(pos, tap_node.pos);
    let mut site = template.site.clone();
    site.id = id.to_string();
    // The footprint moves with the site.
    let (ox, oy) = (pos[0] - site.pos[0], pos[1] - site.pos[1]);
    site.footprint.iter_mut().for_each(|p| {
        p[0] += ox;
        p[1] += oy;
    });
    site.pos = pos;
    // Heat pump: the site's largest recoverable heat lifted to the design supply temperature.
    let t_design = net.supply_temp_at_design_c.unwrap_or(net.supply_temp_c);
    let cop = crate::plants::heat_pump_cop(
        template.carnot_fraction,
        site.recovered_water_temp_c,
        t_design,
    );
    let q_src = site_peak_power_w(&site) * site.recoverable_heat_share;
    let capacity_w = (q_src * cop / (cop - 1.0) / 1e4).ceil() * 1e4;
    let mut nodes = Vec::new();
    let mut pipes = Vec::new();
    let (node_id, dn) = if service_m > 1.0 {
        let nid = format!("{id}_n");
        let pid = format!("{id}_p");
        if net.nodes.iter().any(|n| n.id == nid) || net.pipes.iter().any(|p| p.id == pid) {
            return err(format!("node {nid} or pipe {pid} exists already"));
        }
        // DN for the heat pump's flow at the design spread: the crate's sizing rule (≤ 1.5 m/s,
        // at least DN32).
        let dt_k = (t_design - net.return_temp_c).max(10.0);
        let m = capacity_w / (scene.fluid.cp_j_kg_k * dt_k);
        let dn = crate::hydraulics::sizing::smallest_dn_for(m, scene.fluid.density_kg_m3);
        nodes.push((
            net.nodes.len(),
            Node {
                id: nid.clone(),
                pos,
                elevation_m: tap_node.elevation_m,
            },
        ));
        pipes.push((
            net.pipes.len(),
            Pipe {
                id: pid,
                from: tap_node.id.clone(),
                to: nid.clone(),
                length_m: None,
                size: PipeSize::Dn(dn),
                insulation: PipeInsulation::Series(2),
                roughness_m: 4.5e-5,
                burial_depth_m: 0.8,
                route: Vec::new(),
            },
        ));
        (nid, Some(dn))
    } else {
        (tap_node.id.clone(), None)
    };
    site.node = Some(node_id.clone());
    let (bus, bus_distance_m, feeder, feeder_capacity_w) = match nearest_bus(scene, pos) {
        Some((b, d)) => {
            let g = scene.grid.as_ref().expect("a bus implies a grid");
            let bid = g.buses[b].id.clone();
            let f = feeder_of_bus(scene, &bid);
            (
                Some(bid),
                d,
                f.map(|f| g.feeders[f].id.clone()),
                f.map(|f| g.feeders[f].capacity_w),
            )
        }
        None => (None, 0.0, None, None),
    };
    site.bus = bus.clone();
    let mut plants = Vec::new();
    let hp_id = unique_plant_id(scene, &format!("hp_{id}"));
    let pump_id = unique_plant_id(scene, &format!("pump_{id}"));
    let n0 = scene.plants.len();
    plants.push((
        n0,
        Plant::HeatPump {
            id: hp_id,
            node: node_id.clone(),
            site: id.to_string(),
            capacity_w,
            carnot_fraction: template.carnot_fraction,
        },
    ));
    let has_pump = scene
        .plants
        .iter()
        .any(|p| matches!(p, Plant::CirculationPump { node, .. } if *node == node_id));
    if !has_pump {
        plants.push((
            n0 + 1,
            Plant::CirculationPump {
                id: pump_id,
                node: node_id.clone(),
                efficiency: template.pump_efficiency,
                max_head_pa: template.pump_max_head_pa,
            },
        ));
    }
    let bundle = SiteBundle {
        site: (scene.quantum_sites.len(), site),
        plants,
        nodes,
        pipes,
        links: Vec::new(),
    };
    let connection = Connection {
        tap_node: tap_node.id.clone(),
        nearest_pipe: net.pipes[pk].id.clone(),
        service_pipe_m: if service_m > 1.0 { service_m } else { 0.0 },
        service_dn: dn,
        bus,
        bus_distance_m,
        feeder,
        feeder_capacity_w,
        moved: inside.map(|inside| Relocation { requested, inside }),
    };
    Ok((bundle, connection))
}

/// Farthest a site is moved from where it was asked for, m.
pub const MAX_RELOCATION_M: f64 = 2000.0;

/// An obstacle for a new site: what it is, its outline and its bounding box.
type Obstacle<'a> = (String, &'a [[f64; 2]], [f64; 4]);

/// Where a site shaped like `site` (its footprint moves with it) can stand nearest to `pos`:
/// `pos` itself when the site's position and footprint are clear of every building and every
/// other site; otherwise the first clear point on rings around `pos` every 5 m (72+ directions a
/// ring, from east counter-clockwise) up to [`MAX_RELOCATION_M`], with the name of what stood at
/// `pos`. An error when nothing within that distance is clear.
pub fn free_spot(
    scene: &Scene,
    pos: [f64; 2],
    site: &QuantumSite,
) -> Result<([f64; 2], Option<String>), EditError> {
    let obstacles: Vec<Obstacle> = scene
        .buildings
        .iter()
        .map(|b| (format!("building {}", b.id), b.footprint.as_slice()))
        .chain(
            scene
                .quantum_sites
                .iter()
                .filter(|q| q.id != site.id)
                .map(|q| (format!("site {}", q.id), q.footprint.as_slice())),
        )
        .filter(|(_, f)| f.len() >= 3)
        .map(|(n, f)| {
            let b = bbox(f);
            (n, f, b)
        })
        .collect();
    let shape = |p: [f64; 2]| -> Vec<[f64; 2]> {
        site.footprint
            .iter()
            .map(|c| [c[0] - site.pos[0] + p[0], c[1] - site.pos[1] + p[1]])
            .collect()
    };
    let blocker = |p: [f64; 2]| -> Option<&str> {
        let f = shape(p);
        let fb = if f.len() >= 3 {
            bbox(&f)
        } else {
            [p[0], p[1], p[0], p[1]]
        };
        let near = |b: &[f64; 4]| fb[0] <= b[2] && b[0] <= fb[2] && fb[1] <= b[3] && b[1] <= fb[3];
        // What stands at the point itself first, then what the footprint overlaps.
        obstacles
            .iter()
            .find(|(_, poly, b)| near(b) && siting::point_in_polygon(p, poly))
            .or_else(|| {
                obstacles
                    .iter()
                    .find(|(_, poly, b)| near(b) && f.len() >= 3 && polygons_overlap(&f, poly))
            })
            .map(|(name, _, _)| name.as_str())
    };
    let Some(what) = blocker(pos) else {
        return Ok((pos, None));
    };
    let step = 5.0;
    let mut r = step;
    while r <= MAX_RELOCATION_M {
        let n = ((2.0 * std::f64::consts::PI * r / step).ceil() as usize).max(72);
        for k in 0..n {
            let a = 2.0 * std::f64::consts::PI * k as f64 / n as f64;
            let (sa, ca) = crate::math::Det::sin_cos_d(a);
            let p = [pos[0] + r * ca, pos[1] + r * sa];
            if blocker(p).is_none() {
                return Ok((p, Some(what.to_string())));
            }
        }
        r += step;
    }
    err(format!(
        "({:.0}, {:.0}) m is inside {what} and no free spot lies within {MAX_RELOCATION_M:.0} m",
        pos[0], pos[1]
    ))
}

/// `[min x, min y, max x, max y]` of a polygon.
pub(super) fn bbox(poly: &[[f64; 2]]) -> [f64; 4] {
    poly.iter().fold(
        [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
        |b, p| {
            [
                b[0].min(p[0]),
                b[1].min(p[1]),
                b[2].max(p[0]),
                b[3].max(p[1]),
            ]
        },
    )
}

/// Whether two simple polygons overlap: a corner of one inside the other, or two edges crossing.
pub(super) fn polygons_overlap(a: &[[f64; 2]], b: &[[f64; 2]]) -> bool {
    if a.iter().any(|p| siting::point_in_polygon(*p, b))
        || b.iter().any(|p| siting::point_in_polygon(*p, a))
    {
        return true;
    }
    let cross = |o: [f64; 2], p: [f64; 2], q: [f64; 2]| {
        (p[0] - o[0]) * (q[1] - o[1]) - (p[1] - o[1]) * (q[0] - o[0])
    };
    let edges = |poly: &[[f64; 2]]| -> Vec<([f64; 2], [f64; 2])> {
        (0..poly.len())
            .map(|i| (poly[i], poly[(i + 1) % poly.len()]))
            .collect()
    };
    let eb = edges(b);
    edges(a).iter().any(|&(p, q)| {
        eb.iter().any(|&(r, s)| {
            let (d1, d2) = (cross(p, q, r), cross(p, q, s));
            let (d3, d4) = (cross(r, s, p), cross(r, s, q));
            d1 * d2 < 0.0 && d3 * d4 < 0.0
        })
    })
}

pub(super) fn unique_plant_id(scene: &Scene, base: &str) -> String {
    let mut id = base.to_string();
    let mut k = 2;
    while scene.plants.iter().any(|p| p.id() == id) {
        id = format!("{base}_{k}");
        k += 1;
    }
    id
}

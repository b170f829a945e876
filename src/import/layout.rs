//! From an imported [`District`] to a scene: the heat network laid along the real streets, its
//! plant, quantum sites and electrical grid ([`layout`]).
//!
//! # Network
//! * **Street graph** ([`super::streets`]): split at shared nodes and T-junctions, ends snapped,
//!   fragments bridged.
//! * **Service connections**: each heated building connects from the point of its footprint
//!   nearest to a street to the nearest street point (a tap node splitting the street edge);
//!   a building more than [`MAX_SERVICE_M`] from every street is reported and left unconnected
//!   (`node: None`: its demand counts as unmet), never dropped. A building within
//!   [`DIRECT_TAP_M`] of the street is connected at the tap itself.
//! * **Plant**: at `--plant lon,lat` (attached to the nearest street point), else at the street
//!   node nearest to the connected buildings' design-load-weighted centre. A central plant keeps
//!   the trunk short and its pipes small (the opposite of the generator's edge-of-town main
//!   station, which models a grown city fed from its outskirts); a planner who knows the real
//!   site gives `--plant`.
//! * **Route**: a Steiner tree over the street graph joining the plant, every tap and every
//!   quantum site ([`super::steiner`], Mehlhorn's 2-approximation). Scene nodes stand at the
//!   plant, the taps, the sites and every tree vertex of degree ≠ 2; chains of degree-2 vertices
//!   become one pipe carrying its street polyline as `route` (its length is the route's).
//! * **Loops** (`--loops`): street edges off the tree whose two ends lie on it and are far
//!   apart along it (tree distance ≥ max(4 × the edge, 150 m)), longest detour first, at most
//!   `min(40, 3 + buildings/250)` (as the generator), midpoints at least 180 m apart.
//!
//! # Sizing
//! Each building's design heat load ([`design_heat_load_w`], −12 °C outdoor, 20 °C indoor) as a
//! design mass flow at 90/40 °C is summed down the tree toward the plant. Each pipe gets the
//! smallest DN whose velocity stays ≤ 1.5 m/s and whose pressure gradient stays ≤ 150 Pa/m
//! (Darcy–Weisbach with the crate's friction factor, roughness 0.045 mm:
//! [`smallest_dn_within_gradient`], the gradient-limited variant of the crate's DN rule in
//! [`crate::hydraulics::sizing`]), the usual design limits for distribution pipes
//! (Frederiksen & Werner, *District Heating and Cooling*, 2013, ch. 5: 100–200 Pa/m); a service
//! pipe is sized for its building's own flow. Loop-closing pipes take the smaller DN of the pipes
//! at their ends. The plant is the generator's main station for the total design load
//! (boiler, storage tank, pump set whose head covers the worst path's design pressure drop:
//! [`generate::design_pump_head_pa`]); every site is a station with the generator's heat pump and
//! pump set. Insulation EN 253 series 2, 0.8 m cover.
//!
//! The boiler is then checked on the district's own **design day** ([`design_day_peak_w`]): the
//! laid-out scene is simulated for a day at the design outdoor temperature (5-minute ticks,
//! ground at 5 °C, no sun) and the boiler gets at least 1.1 × the largest heat demand plus
//! network losses of any tick after the first hour, rounded up to 100 kW — the same margin as
//! the rule of thumb above, but on the peak the demand model actually produces (the morning
//! hot-water peak of offices and schools lies well above twice the mean hot water that
//! [`design_heat_load_w`] counts). The boiler covers the whole peak on its own, so the district
//! stays warm with every quantum site down (n − 1 for the heat supply).
//!
//! # Grid and climate
//! The generator's grid ([`generate::design_grid`]): district buses of at most 150 buildings,
//! the substation bus next to the plant, radial feeders rated from the loads, PV on a share of
//! roofs, one battery, the grid connection; no wind turbines (an imported district has none
//! unless the data says so). Climate: the generator's temperate climate with the district's
//! latitude.
//!
//! Coordinates are rounded to millimetres and nothing iterates a hash map, so the same district
//! and options give the same RON bytes.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::steiner::steiner_tree;
use super::streets::{Attachment, P, StreetGraph, dist, polyline_length, round_mm};
use super::{District, ImportError};
use crate::generate::{self, HEAT_PUMP_DESIGN_COP, design_heat_load_w, site_heat_pump_capacity_w};
use crate::hydraulics::sizing::{
    DESIGN_ROUGHNESS_M, MIN_DN, pressure_gradient_pa_m, smallest_dn_within_gradient,
};
use crate::scene::{
    Climate, Fluid, HeatNetwork, MapFeature, Node, Pipe, PipeInsulation, PipeSize, Plant,
    SCENE_FORMAT_VERSION, Scene, SimSettings, dn_entry,
};

/// Farthest a building may stand from a street and still be connected, m.
pub const MAX_SERVICE_M: f64 = 150.0;
/// Farthest `--plant` or `--site` may lie from a street, m.
pub const MAX_PLACE_M: f64 = 500.0;
/// A building this close to the street is connected at the tap, without a service pipe, m.
pub const DIRECT_TAP_M: f64 = 0.5;
/// Footprint of a quantum site's building placed by `--site`, m (east × north).
pub const SITE_FOOTPRINT_M: [f64; 2] = [24.0, 16.0];
/// Pipe roughness, m.
const ROUGHNESS_M: f64 = DESIGN_ROUGHNESS_M;
/// Design temperatures: supply at mild weather, supply at design, return, outdoor, °C.
const T_SUPPLY: f64 = 75.0;
const T_DESIGN: f64 = 90.0;
const T_RETURN: f64 = 40.0;
const T_OUT: f64 = -12.0;

/// What `qtwin import` asks of the layout.
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutOptions {
    /// The scene's name.
    pub name: String,
    /// Where the plant stands (WGS84 lon, lat); `None`: at the load centre (see the module page).
    pub plant_lonlat: Option<[f64; 2]>,
    /// Micro quantum sites to place (WGS84 lon, lat), `--site`.
    pub sites_lonlat: Vec<[f64; 2]>,
    /// Close loops between nearby branches (`--loops`).
    pub loops: bool,
    /// Seed of the scene (and of the sites' equipment and the PV roofs drawn here).
    pub seed: u64,
}

impl Default for LayoutOptions {
    fn default() -> Self {
        Self {
            name: "Imported district".into(),
            plant_lonlat: None,
            sites_lonlat: Vec::new(),
            loops: false,
            seed: 1,
        }
    }
}

/// A placed plant or site, for the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    pub id: String,
    pub node: String,
    /// Scene metres.
    pub pos: [f64; 2],
    /// WGS84 longitude, latitude.
    pub lonlat: [f64; 2],
    /// `given` (from the command line) or how it was chosen.
    pub how: String,
}

/// What the layout did (part of `--report import.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayoutReport {
    pub buildings: usize,
    pub buildings_connected: usize,
    /// One line per building left unconnected, with the reason.
    pub unconnected: Vec<String>,
    pub streets: usize,
    pub street_edges: usize,
    pub street_length_m: f64,
    /// Street repairs, bridges and parts left out.
    pub street_messages: Vec<String>,
    pub nodes: usize,
    pub pipes: usize,
    pub service_pipes: usize,
    pub loops: usize,
    /// Route length of the mains (street pipes, loops included), m.
    pub mains_length_m: f64,
    /// Route length of the service pipes, m.
    pub service_length_m: f64,
    pub plant: Placement,
    pub sites: Vec<Placement>,
    /// Sum of the connected buildings' design heat loads, W.
    pub design_load_w: f64,
    pub design_flow_kg_s: f64,
    /// Largest heat demand plus network losses of the simulated design day, W
    /// ([`design_day_peak_w`]).
    pub design_day_peak_w: f64,
    /// The main boiler's capacity, W: 1.1 × the larger of the design load and the design-day peak.
    pub boiler_capacity_w: f64,
    /// Largest DN laid.
    pub largest_dn: u32,
    /// Design pressure drop of the worst path (supply only), Pa.
    pub worst_path_dp_pa: f64,
    pub pump_head_pa: f64,
    /// What to do next (e.g. where to put quantum sites).
    pub next_steps: Vec<String>,
}

fn design_flow_kg_s(load_w: f64, fluid: &Fluid) -> f64 {
    load_w / (fluid.cp_j_kg_k * (T_DESIGN - T_RETURN))
}

fn r3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// A pipe laid by the import: twin pipe of size `dn` along `route`, EN 253 series 2 insulation,
/// 0.8 m cover.
fn laid_pipe(id: String, from: String, to: String, dn: u32, route: Vec<P>) -> Pipe {
    Pipe {
        id,
        from,
        to,
        length_m: None,
        size: PipeSize::Dn(dn),
        insulation: PipeInsulation::Series(2),
        roughness_m: ROUGHNESS_M,
        burial_depth_m: 0.8,
        route,
    }
}

/// Lays out the district's heat network, plant, sites and grid (see the module page).
pub fn layout(d: District, opts: &LayoutOptions) -> Result<(Scene, LayoutReport), ImportError> {
    let District {
        georef,
        mut buildings,
        streets,
        map,
        report: _,
    } = d;
    let fluid = Fluid::default();
    let sim = SimSettings::default();
    if buildings.is_empty() {
        return Err(ImportError::Other(
            "the district has no heated building to connect".into(),
        ));
    }
    for b in &mut buildings {
        b.footprint = b.footprint.iter().map(|p| round_mm(*p)).collect();
        b.node = None;
        b.bus = None;
    }
    let mut g = StreetGraph::build(&streets);
    if g.edges.is_empty() {
        return Err(ImportError::Other(format!(
            "the district has no usable street ({} read): the network is laid along streets",
            streets.len()
        )));
    }
    let street_edges = g.edges.len();
    let street_length_m: f64 = g.edges.iter().map(|e| e.length_m).sum();

    // Places given on the command line.
    let site_pos: Vec<P> = opts
        .sites_lonlat
        .iter()
        .map(|ll| round_mm(super::geo::LocalTm::from_georef(&georef).to_local(ll[0], ll[1])))
        .collect();
    let site_fp: Vec<Vec<P>> = site_pos
        .iter()
        .map(|c| {
            let (hx, hy) = (SITE_FOOTPRINT_M[0] / 2.0, SITE_FOOTPRINT_M[1] / 2.0);
            [[-hx, -hy], [hx, -hy], [hx, hy], [-hx, hy]]
                .iter()
                .map(|o| round_mm([c[0] + o[0], c[1] + o[1]]))
                .collect()
        })
        .collect();

    // Service connections.
    let shapes: Vec<Vec<P>> = buildings.iter().map(|b| b.footprint.clone()).collect();
    let b_att = g.attach(&shapes, MAX_SERVICE_M);
    let s_att = g.attach(&site_fp, MAX_PLACE_M);
    let mut unconnected = Vec::new();
    for (b, a) in buildings.iter().zip(&b_att) {
        if let Err(dm) = a {
            unconnected.push(if dm.is_finite() {
                format!(
                    "{}: {dm:.0} m from the nearest street (limit {MAX_SERVICE_M} m); not connected",
                    b.id
                )
            } else {
                format!("{}: no street to connect to; not connected", b.id)
            });
        }
    }
    for (k, a) in s_att.iter().enumerate() {
        if let Err(dm) = a {
            let ll = opts.sites_lonlat[k];
            return Err(ImportError::Other(format!(
                "--site {},{}: {dm:.0} m from the nearest street (limit {MAX_PLACE_M} m); a site must be connected to the network",
                ll[0], ll[1]
            )));
        }
    }
    let loads: Vec<f64> = buildings
        .iter()
        .map(|b| design_heat_load_w(b, sim.indoor_setpoint_c, T_OUT))
        .collect();

    // The plant.
    let (plant_v, plant_how) = match opts.plant_lonlat {
        Some(ll) => {
            let p = round_mm(super::geo::LocalTm::from_georef(&georef).to_local(ll[0], ll[1]));
            match g.attach(&[vec![p]], MAX_PLACE_M).remove(0) {
                Ok(a) => (a.node, "given (--plant), on the nearest street".to_string()),
                Err(dm) => {
                    return Err(ImportError::Other(format!(
                        "--plant {},{}: {dm:.0} m from the nearest street (limit {MAX_PLACE_M} m)",
                        ll[0], ll[1]
                    )));
                }
            }
        }
        None => {
            let (mut sx, mut sy, mut sw) = (0.0, 0.0, 0.0);
            for ((b, a), q) in buildings.iter().zip(&b_att).zip(&loads) {
                if a.is_ok() {
                    let c = b.centre();
                    sx += c[0] * q;
                    sy += c[1] * q;
                    sw += q;
                }
            }
            let c = if sw > 0.0 {
                [sx / sw, sy / sw]
            } else {
                [0.0, 0.0]
            };
            let v = g
                .nearest_node(c)
                .ok_or_else(|| ImportError::Other("the street graph has no node".into()))?;
            (
                v,
                "the street node nearest to the buildings' design-load centre".to_string(),
            )
        }
    };

    // Steiner tree.
    let mut terminals = vec![plant_v];
    terminals.extend(b_att.iter().flatten().map(|a| a.node));
    terminals.extend(s_att.iter().flatten().map(|a| a.node));
    let nv = g.nodes.len();
    let wedges = g.weighted_edges();
    let tree = steiner_tree(nv, &wedges, &terminals)
        .map_err(|e| ImportError::Other(format!("no network along the streets: {e}")))?;

    // Tree structure from the plant.
    let mut tadj: Vec<Vec<usize>> = vec![Vec::new(); nv];
    for &e in &tree.edges {
        tadj[wedges[e].0].push(e);
        tadj[wedges[e].1].push(e);
    }
    let other = |e: usize, v: usize| {
        if wedges[e].0 == v {
            wedges[e].1
        } else {
            wedges[e].0
        }
    };
    let mut parent: Vec<Option<usize>> = vec![None; nv];
    let mut in_tree = vec![false; nv];
    let mut order = vec![plant_v];
    in_tree[plant_v] = true;
    let mut depth_m = vec![0.0; nv];
    let mut depth = vec![0usize; nv];
    let mut i = 0;
    while i < order.len() {
        let u = order[i];
        i += 1;
        for &e in &tadj[u] {
            let v = other(e, u);
            if !in_tree[v] {
                in_tree[v] = true;
                parent[v] = Some(e);
                depth_m[v] = depth_m[u] + wedges[e].2;
                depth[v] = depth[u] + 1;
                order.push(v);
            }
        }
    }
    let mut is_edge_in_tree = vec![false; wedges.len()];
    for &e in &tree.edges {
        is_edge_in_tree[e] = true;
    }

    // Loops.
    let n_connected = b_att.iter().filter(|a| a.is_ok()).count();
    let mut loop_edges: Vec<usize> = Vec::new();
    if opts.loops {
        let n_loops = (3 + n_connected / 250).min(40);
        let mut cands: Vec<(f64, usize)> = Vec::new();
        for (e, &(a, b, w)) in wedges.iter().enumerate() {
            if is_edge_in_tree[e] || !in_tree[a] || !in_tree[b] || w <= 0.0 || a == b {
                continue;
            }
            let (mut x, mut y) = (a, b);
            while x != y {
                if depth[x] >= depth[y] {
                    x = other(parent[x].expect("below the root"), x);
                } else {
                    y = other(parent[y].expect("below the root"), y);
                }
            }
            let tree_d = depth_m[a] + depth_m[b] - 2.0 * depth_m[x];
            if tree_d >= (4.0 * w).max(150.0) {
                cands.push((tree_d - w, e));
            }
        }
        cands.sort_by(|p, q| q.0.total_cmp(&p.0).then(p.1.cmp(&q.1)));
        let mid = |e: usize| {
            let pts = &g.edges[e].points;
            let a = pts[0];
            let b = pts[pts.len() - 1];
            [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]
        };
        for &(_, e) in &cands {
            if loop_edges.len() >= n_loops {
                break;
            }
            if loop_edges.iter().all(|&l| dist(mid(l), mid(e)) >= 180.0) {
                loop_edges.push(e);
            }
        }
    }

    // Scene nodes: plant, taps, sites, loop ends and tree vertices of degree ≠ 2.
    let mut is_node = vec![false; nv];
    for &t in &terminals {
        is_node[t] = true;
    }
    for &e in &loop_edges {
        is_node[wedges[e].0] = true;
        is_node[wedges[e].1] = true;
    }
    for v in 0..nv {
        if in_tree[v] && tadj[v].len() != 2 {
            is_node[v] = true;
        }
    }
    let n_scene_nodes = order.iter().filter(|v| is_node[**v]).count();
    let w_n = (n_scene_nodes + buildings.len() + site_pos.len())
        .to_string()
        .len()
        .max(3);
    let mut node_id: Vec<Option<String>> = vec![None; nv];
    let mut nodes: Vec<Node> = Vec::new();
    for &v in &order {
        if is_node[v] {
            let id = format!("n{:0w_n$}", nodes.len() + 1);
            nodes.push(Node {
                id: id.clone(),
                pos: g.nodes[v],
                elevation_m: 0.0,
            });
            node_id[v] = Some(id);
        }
    }

    // Design flows: own flow at each vertex, summed up the tree.
    let mut own = vec![0.0; nv];
    for ((a, q), b) in b_att.iter().zip(&loads).zip(&buildings) {
        if let Ok(a) = a {
            own[a.node] += design_flow_kg_s(*q, &fluid);
            let _ = b;
        }
    }
    let mut flow = own.clone();
    for &v in order.iter().rev() {
        if let Some(e) = parent[v] {
            let u = other(e, v);
            flow[u] += flow[v];
        }
    }

    // Mains: one pipe per chain, from the plant side.
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); nv];
    for &v in &order {
        if let Some(e) = parent[v] {
            children[other(e, v)].push(e);
        }
    }
    let oriented = |e: usize, from: usize| -> Vec<P> {
        let ed = &g.edges[e];
        if ed.a == from {
            ed.points.clone()
        } else {
            ed.points.iter().rev().copied().collect()
        }
    };
    let mut pipes: Vec<Pipe> = Vec::new();
    let mut dp_at = vec![0.0; nv]; // design pressure drop from the plant, Pa (supply only)
    let mut dn_in = vec![0u32; nv]; // DN of the pipe feeding a scene node
    let mut mains_length_m = 0.0;
    let mut largest_dn = 0u32;
    let w_p = (nv + buildings.len() + 10).to_string().len().max(3);
    for &u in &order {
        if !is_node[u] {
            continue;
        }
        for &e0 in &children[u] {
            let mut route = oriented(e0, u);
            let mut v = other(e0, u);
            while !is_node[v] {
                let &e = children[v].first().expect("a chain vertex has one child");
                let more = oriented(e, v);
                route.extend_from_slice(&more[1..]);
                v = other(e, v);
            }
            let dn = smallest_dn_within_gradient(flow[v], &fluid);
            let d = dn_entry(dn).map(|x| x.1).unwrap_or(0.1);
            let len = polyline_length(&route);
            dp_at[v] = dp_at[u] + pressure_gradient_pa_m(flow[v], d, &fluid) * len;
            dn_in[v] = dn;
            largest_dn = largest_dn.max(dn);
            mains_length_m += len;
            pipes.push(laid_pipe(
                format!("p{:0w_p$}", pipes.len() + 1),
                node_id[u].clone().expect("scene node"),
                node_id[v].clone().expect("scene node"),
                dn,
                route,
            ));
        }
    }
    dn_in[plant_v] = children[plant_v]
        .iter()
        .map(|&e| {
            let mut v = other(e, plant_v);
            while !is_node[v] {
                v = other(children[v][0], v);
            }
            dn_in[v]
        })
        .max()
        .unwrap_or(MIN_DN);
    for &e in &loop_edges {
        let (a, b, _) = wedges[e];
        let dn = dn_in[a].min(dn_in[b]).max(MIN_DN);
        let route = oriented(e, a);
        mains_length_m += polyline_length(&route);
        pipes.push(laid_pipe(
            format!("p{:0w_p$}", pipes.len() + 1),
            node_id[a].clone().expect("loop end is a node"),
            node_id[b].clone().expect("loop end is a node"),
            dn,
            route,
        ));
    }

    // Service pipes to the buildings and sites.
    let mut service_length_m = 0.0;
    let mut service_pipes = 0usize;
    let mut dp_worst: f64 = 0.0;
    let mut service = |id: &str,
                       att: &Attachment,
                       kg_s: f64,
                       nodes: &mut Vec<Node>,
                       pipes: &mut Vec<Pipe>|
     -> String {
        let tap = node_id[att.node].clone().expect("taps are nodes");
        if att.distance_m < DIRECT_TAP_M {
            dp_worst = dp_worst.max(dp_at[att.node]);
            return tap;
        }
        let nid = format!("h_{id}");
        nodes.push(Node {
            id: nid.clone(),
            pos: att.from,
            elevation_m: 0.0,
        });
        let dn = smallest_dn_within_gradient(kg_s, &fluid);
        let d = dn_entry(dn).map(|x| x.1).unwrap_or(0.1);
        let route = vec![g.nodes[att.node], att.from];
        let len = polyline_length(&route);
        dp_worst = dp_worst.max(dp_at[att.node] + pressure_gradient_pa_m(kg_s, d, &fluid) * len);
        service_length_m += len;
        service_pipes += 1;
        pipes.push(laid_pipe(format!("svc_{id}"), tap, nid.clone(), dn, route));
        nid
    };
    for ((b, a), q) in buildings.iter_mut().zip(&b_att).zip(&loads) {
        if let Ok(a) = a {
            let id = b.id.clone();
            b.node = Some(service(
                &id,
                a,
                design_flow_kg_s(*q, &fluid),
                &mut nodes,
                &mut pipes,
            ));
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut sites = Vec::new();
    let mut hp_caps = Vec::new();
    for (k, ((pos, fp), a)) in site_pos.iter().zip(&site_fp).zip(&s_att).enumerate() {
        let a = a.as_ref().expect("checked above");
        let id = format!("q{}", k + 1);
        let mut s = generate::random_site(&id, *pos, fp.clone(), &mut rng);
        let cap = site_heat_pump_capacity_w(&s);
        s.node = Some(service(
            &id,
            a,
            design_flow_kg_s(cap, &fluid),
            &mut nodes,
            &mut pipes,
        ));
        hp_caps.push(cap);
        sites.push(s);
    }

    // Plants.
    let design_load_w: f64 = buildings
        .iter()
        .zip(&loads)
        .filter(|(b, _)| b.node.is_some())
        .map(|(_, q)| q)
        .sum();
    let min_dp = 5.0e4;
    let head = generate::design_pump_head_pa(dp_worst, min_dp);
    let plant_node = node_id[plant_v].clone().expect("the plant is a node");
    let mut plants =
        generate::main_station_plants(&plant_node, design_load_w, head, &fluid, T_SUPPLY, T_RETURN);
    let mut hp_elec = Vec::new();
    for (s, &cap) in sites.iter().zip(&hp_caps) {
        let node = s.node.clone().expect("set above");
        hp_elec.push(cap / HEAT_PUMP_DESIGN_COP);
        plants.push(Plant::HeatPump {
            id: format!("hp_{}", s.id),
            node: node.clone(),
            site: s.id.clone(),
            capacity_w: cap,
            carnot_fraction: 0.5,
        });
        if node != plant_node {
            plants.push(Plant::CirculationPump {
                id: format!("pump_{}", s.id),
                node,
                efficiency: 0.6,
                max_head_pa: head,
            });
        }
    }
    let plant_pos = g.nodes[plant_v];
    let grid = generate::design_grid(
        &mut buildings,
        &mut sites,
        &hp_elec,
        plant_pos,
        &[],
        &mut rng,
    );

    let climate = match generate::temperate_climate() {
        Climate::Monthly(mut m) => {
            m.latitude_deg = georef.origin_lat_deg;
            Climate::Monthly(m)
        }
        c => c,
    };
    let mut map_out: Vec<MapFeature> = streets
        .iter()
        .filter_map(|s| {
            let pts: Vec<P> = s
                .points
                .iter()
                .filter(|p| p[0].is_finite() && p[1].is_finite())
                .map(|p| round_mm(*p))
                .collect();
            (pts.len() >= 2).then(|| MapFeature::Street {
                points: pts,
                width_m: r3(s.width_m),
            })
        })
        .collect();
    map_out.extend(map);

    let buildings_connected = buildings.iter().filter(|b| b.node.is_some()).count();
    let n_nodes = nodes.len();
    let n_pipes = pipes.len();
    let mut scene = Scene {
        format_version: SCENE_FORMAT_VERSION,
        name: opts.name.clone(),
        description: format!(
            "An imported district of {} buildings ({} connected) at {:.5}° N, {:.5}° E: a heat \
             network of {:.0} m of mains along the streets (a Steiner tree from the plant) and \
             {:.0} m of service pipes, {} micro quantum site(s). Laid out by `qtwin import`.",
            buildings.len(),
            buildings_connected,
            georef.origin_lat_deg,
            georef.origin_lon_deg,
            mains_length_m,
            service_length_m,
            sites.len()
        ),
        seed: opts.seed,
        sim,
        fluid: fluid.clone(),
        climate,
        buildings,
        heat_network: HeatNetwork {
            supply_temp_c: T_SUPPLY,
            supply_temp_at_design_c: Some(T_DESIGN),
            design_outdoor_temp_c: T_OUT,
            return_temp_c: T_RETURN,
            supply_pressure_pa: 6.0e5,
            return_pressure_pa: 2.0e5,
            min_substation_dp_pa: min_dp,
            dhw_min_supply_temp_c: 55.0,
            nodes,
            pipes,
            consumers: Vec::new(),
        },
        plants,
        quantum_sites: sites,
        grid: Some(grid),
        map: map_out,
        quantum_jobs: None,
        data_links: None,
        edits: Vec::new(),
        failures: Vec::new(),
        georef: Some(georef),
    };
    if let Err(issues) = crate::scene::validate(&scene) {
        return Err(ImportError::Other(format!(
            "the laid-out scene does not pass `qtwin check` (a bug in the layout): {}",
            crate::scene::SceneError::Invalid(issues)
        )));
    }

    let place = |id: &str, node: &str, pos: P, how: &str| {
        let ll = super::geo::LocalTm::from_georef(&georef).to_lonlat(pos);
        Placement {
            id: id.to_string(),
            node: node.to_string(),
            pos,
            lonlat: [(ll[0] * 1e7).round() / 1e7, (ll[1] * 1e7).round() / 1e7],
            how: how.to_string(),
        }
    };
    let mut next_steps = Vec::new();
    if scene.quantum_sites.is_empty() {
        next_steps.push(
            "no --site given: `qtwin suggest SCENE` scores places for micro quantum sites; \
             import again with --site lon,lat for the ones you choose"
                .to_string(),
        );
    }
    if !unconnected.is_empty() {
        next_steps.push(format!(
            "{} building(s) lie farther than {MAX_SERVICE_M} m from any street and are not connected \
             (their heat demand counts as unmet)",
            unconnected.len()
        ));
    }
    let design_day_peak_w = design_day_peak_w(&scene);
    let mut boiler_capacity_w = 0.0;
    for p in &mut scene.plants {
        if let Plant::GasBoiler { capacity_w, .. } = p {
            *capacity_w = capacity_w.max(generate::boiler_capacity_w(design_day_peak_w));
            boiler_capacity_w = *capacity_w;
        }
    }
    let report = LayoutReport {
        buildings: scene.buildings.len(),
        buildings_connected,
        unconnected,
        streets: streets.len(),
        street_edges,
        street_length_m: r3(street_length_m),
        street_messages: g.messages.clone(),
        nodes: n_nodes,
        pipes: n_pipes,
        service_pipes,
        loops: loop_edges.len(),
        mains_length_m: r3(mains_length_m),
        service_length_m: r3(service_length_m),
        plant: place("boiler_main", &plant_node, plant_pos, &plant_how),
        sites: scene
            .quantum_sites
            .iter()
            .map(|s| {
                place(
                    &s.id,
                    s.node.as_deref().unwrap_or(""),
                    s.pos,
                    "given (--site)",
                )
            })
            .collect(),
        design_load_w: r3(design_load_w),
        design_flow_kg_s: r3(design_flow_kg_s(design_load_w, &fluid)),
        design_day_peak_w: r3(design_day_peak_w),
        boiler_capacity_w,
        largest_dn,
        worst_path_dp_pa: r3(dp_worst),
        pump_head_pa: head,
        next_steps,
    };
    Ok((scene, report))
}

/// The largest heat demand plus network losses over a simulated design day, W: the laid-out
/// scene for 24 h at its design outdoor temperature (ground 5 °C, no sun, 3 m/s wind),
/// 5-minute ticks, the first hour left out (the network starts below its design temperature).
pub fn design_day_peak_w(scene: &Scene) -> f64 {
    let mut day = scene.clone();
    day.climate = Climate::Fixed(crate::scene::FixedClimate {
        outdoor_temp_c: scene.heat_network.design_outdoor_temp_c,
        ground_temp_c: 5.0,
        irradiance_w_m2: 0.0,
        wind_m_s: 3.0,
    });
    day.quantum_jobs = Some(crate::scene::QuantumJobs {
        enabled: false,
        ..Default::default()
    });
    let tick_s = 300.0;
    let mut sim = crate::sim::Simulation::new_unchecked(
        &day,
        &crate::sim::RunOptions {
            tick_s: Some(tick_s),
            ..Default::default()
        },
    );
    let ticks = (24.0 * 3600.0 / tick_s) as u64;
    let skip = (3600.0 / tick_s) as u64;
    let (mut peak, mut prev_demand, mut prev_loss) = (0.0_f64, 0.0, 0.0);
    for t in 0..ticks {
        sim.step();
        let l = sim.res::<crate::ledger::Ledger>();
        let demand = l.heat_demand_j - prev_demand;
        let loss = l.pipe_losses_j - prev_loss;
        (prev_demand, prev_loss) = (l.heat_demand_j, l.pipe_losses_j);
        if t >= skip {
            peak = peak.max((demand + loss) / tick_s);
        }
    }
    peak
}

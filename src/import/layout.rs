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
//! * **Stations**: one boiler station feeds at most [`station_capacity_w`] of design load (the
//!   design flow a [`MAX_STATION_DN`] = DN400 trunk carries within the sizing limits below: about
//!   37 MW at 90/40 °C). A district above that gets several stations, **each with its own
//!   network** (its own boiler, pump set and pressure holding; no pipe joins two stations'
//!   networks): the route below, a tree from the root (`--plant lon,lat` attached to the nearest
//!   street point, else the street node nearest to the connected buildings' design-load-weighted
//!   centre), is cut into connected parts of at most a station's capacity each, every path below
//!   a part's top within [`MAX_PATH_DP_PA`] = 3 bar of design pressure drop ([`crate::network::partition`]: Kundu & Misra's bottom-up rule, the heaviest branch cut
//!   first, then the one with the largest drop), and each part's station stands at its
//!   load-weighted median on the tree (no branch from it
//!   carries more than half the part's load: trunks of half the capacity, short paths). The part
//!   holding the root keeps its station there when `--plant` was given (it is honoured as one of
//!   the stations, the only one if the district fits). At most [`MAX_STATIONS`]. A central plant
//!   keeps the trunk short and its pipes small (the opposite of the generator's edge-of-town main
//!   station, which models a grown city fed from its outskirts); a planner who knows the real
//!   site gives `--plant`. DN400 as the largest distribution pipe is our planning assumption
//!   (transmission lines are larger, but a district's stations are usually placed so that its
//!   distribution mains stay at or below DN300–400; Frederiksen & Werner 2013, ch. 5).
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
//! at their ends. The main station is the generator's main station for its part's
//! design load (boiler, storage tank, pump set); the others have a boiler and a pump set
//! ([`generate::satellite_station_plants`]); every site is a station with the generator's heat
//! pump and pump set. Insulation EN 253 series 2, 0.8 m cover.
//!
//! Boilers and pumps are then checked on the district's own **design day** ([`design_day`]): the
//! laid-out scene is simulated for a day at the design outdoor temperature (5-minute ticks,
//! ground at 5 °C, no sun, pumps unlimited) and each station's boiler gets at least 1.1 × the
//! largest heat demand of its own network's substations plus that network's share (by demand) of
//! the tick's losses, over the ticks after the first hour, rounded up to 100 kW — the same margin as the rule of thumb, but on the
//! peak the demand model actually produces (the morning hot-water peak of offices and schools
//! lies well above twice the mean hot water that [`design_heat_load_w`] counts). The boilers
//! cover the whole peak on their own, so the district stays warm with every quantum site down
//! (n − 1 for the heat supply). Every pump set gets the larger of the rule-of-thumb head on its
//! own network's design flows ([`generate::design_pump_head_pa`]) and 1.2 × the largest head its
//! network's reference pump needed on the design day ([`design_day_head_pa`]): the design flows alone left the pumps at their limit at the
//! morning peak (substations then get less than they ask).
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

use crate::math::Det;
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
    /// Every boiler station, the main one (`plant`) first.
    pub stations: Vec<Placement>,
    /// Design heat load of each station's part, W.
    pub station_load_w: Vec<f64>,
    /// The most design load one station feeds, W ([`station_capacity_w`]).
    #[serde(default)]
    pub station_capacity_w: f64,
    /// Each station's pump head, Pa (its pump sets' largest head, sized on its own network's
    /// design day).
    #[serde(default)]
    pub station_pump_head_pa: Vec<f64>,
    /// Each station's largest pipe (its trunk).
    #[serde(default)]
    pub station_largest_dn: Vec<u32>,
    /// Each station's network's peak heat on the design day (demand plus its share of the
    /// losses), W.
    #[serde(default)]
    pub station_design_day_peak_w: Vec<f64>,
    /// Pipes tying two stations' parts into one network: always 0 (every station has its own
    /// network; kept for the report's readers).
    pub ties: usize,
    /// End-of-line bypasses laid ([`add_bypasses`]) and their summed flow, kg/s.
    pub bypasses: usize,
    pub bypass_flow_kg_s: f64,
    pub sites: Vec<Placement>,
    /// Sum of the connected buildings' design heat loads, W.
    pub design_load_w: f64,
    pub design_flow_kg_s: f64,
    /// Largest heat demand plus network losses of the simulated design day, W
    /// ([`design_day_peak_w`]).
    pub design_day_peak_w: f64,
    /// The boilers' capacity, W (summed over the stations): each 1.1 × the larger of its part's
    /// design load and its share of the design-day peak.
    pub boiler_capacity_w: f64,
    /// Largest DN laid.
    pub largest_dn: u32,
    /// Design pressure drop of the worst path (supply only), Pa.
    pub worst_path_dp_pa: f64,
    /// Every pump set's largest head, Pa ([`design_day_head_pa`]).
    pub pump_head_pa: f64,
    /// The largest head the reference pump needed on the simulated design day, Pa.
    pub design_day_head_needed_pa: f64,
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

    // The stations: how many (the fewest that keep every pipe within MAX_STATION_DN, starting
    // from the design load over a station's share) and where (k-means on the design load).
    let conn: Vec<usize> = (0..buildings.len()).filter(|&i| b_att[i].is_ok()).collect();
    let total_load_w: f64 = conn.iter().map(|&i| loads[i]).sum();
    let plant_given = match opts.plant_lonlat {
        Some(ll) => {
            let p = round_mm(super::geo::LocalTm::from_georef(&georef).to_local(ll[0], ll[1]));
            match g.attach(&[vec![p]], MAX_PLACE_M).remove(0) {
                Ok(a) => Some(a.node),
                Err(dm) => {
                    return Err(ImportError::Other(format!(
                        "--plant {},{}: {dm:.0} m from the nearest street (limit {MAX_PLACE_M} m)",
                        ll[0], ll[1]
                    )));
                }
            }
        }
        None => None,
    };
    let centre = {
        let (mut sx, mut sy, mut sw) = (0.0, 0.0, 0.0);
        for &i in &conn {
            let c = buildings[i].centre();
            sx += c[0] * loads[i];
            sy += c[1] * loads[i];
            sw += loads[i];
        }
        if sw > 0.0 {
            [sx / sw, sy / sw]
        } else {
            [0.0, 0.0]
        }
    };
    let nv = g.nodes.len();
    let wedges = g.weighted_edges();
    // Design flows: own flow at each vertex.
    let mut own = vec![0.0; nv];
    for (a, q) in b_att.iter().zip(&loads) {
        if let Ok(a) = a {
            own[a.node] += design_flow_kg_s(*q, &fluid);
        }
    }
    let mut base_terminals: Vec<usize> = b_att.iter().flatten().map(|a| a.node).collect();
    base_terminals.extend(s_att.iter().flatten().map(|a| a.node));
    let n_connected = conn.len();
    // The route: a Steiner tree from the plant (given, or at the design-load centre) to every
    // tap and site, then cut into station parts of at most a station's capacity
    // ([`crate::network::partition`]), each its own network.
    let root = match plant_given {
        Some(v) => v,
        None => g
            .nearest_node(centre)
            .ok_or_else(|| ImportError::Other("the street graph has no node".into()))?,
    };
    let mut terminals = vec![root];
    terminals.extend_from_slice(&base_terminals);
    let tree = steiner_tree(nv, &wedges, &terminals)
        .map_err(|e| ImportError::Other(format!("no network along the streets: {e}")))?;
    let mut vload = vec![0.0; nv];
    for (a, q) in b_att.iter().zip(&loads) {
        if let Ok(a) = a {
            vload[a.node] += q;
        }
    }
    let mut is_terminal = vec![false; nv];
    for &t in &base_terminals {
        is_terminal[t] = true;
    }
    let capacity_w = station_capacity_w(&fluid);
    let edge_dp = |e: usize, load_w: f64| {
        let m = design_flow_kg_s(load_w, &fluid);
        let dn = smallest_dn_within_gradient(m, &fluid);
        let d = dn_entry(dn).map(|x| x.1).unwrap_or(0.1);
        pressure_gradient_pa_m(m, d, &fluid) * wedges[e].2
    };
    let part = crate::network::partition::partition_tree(
        nv,
        &wedges,
        &tree.edges,
        root,
        &vload,
        &is_terminal,
        capacity_w,
        &edge_dp,
        MAX_PATH_DP_PA,
        plant_given.is_some(),
    );
    if part.stations.len() > MAX_STATIONS {
        return Err(ImportError::Other(format!(
            "the district's design load of {:.0} MW needs {} stations of at most {:.1} MW each \
             (limit {MAX_STATIONS}): import a smaller area",
            total_load_w / 1e6,
            part.stations.len(),
            capacity_w / 1e6
        )));
    }
    let stations = part.stations.clone();
    let m = lay_mains(
        &g,
        &wedges,
        &part.edges,
        &base_terminals,
        &stations,
        part.owner,
        &own,
        opts.loops,
        n_connected,
        buildings.len() + site_pos.len(),
        &fluid,
    );
    let plant_v = stations[0];
    let plant_how = if plant_given.is_some() {
        "given (--plant), on the nearest street".to_string()
    } else if stations.len() == 1 {
        "the street node nearest to the buildings' design-load centre".to_string()
    } else {
        "the load-weighted median of its part of the network".to_string()
    };
    let other_how = "the load-weighted median of its part of the network".to_string();
    let Mains {
        mut nodes,
        mut pipes,
        node_id,
        dp_at,
        owner,
        largest_dn,
        mains_length_m,
        loops: n_loops,
    } = m;

    // Service pipes to the buildings and sites.
    let mut service_length_m = 0.0;
    let mut service_pipes = 0usize;
    // Design pressure drop of each part's worst path (supply only), Pa.
    let mut dp_worst = vec![0.0_f64; stations.len()];
    let mut service = |id: &str,
                       att: &Attachment,
                       kg_s: f64,
                       nodes: &mut Vec<Node>,
                       pipes: &mut Vec<Pipe>|
     -> String {
        let tap = node_id[att.node].clone().expect("taps are nodes");
        let k = owner[att.node];
        if att.distance_m < DIRECT_TAP_M {
            dp_worst[k] = dp_worst[k].max(dp_at[att.node]);
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
        dp_worst[k] =
            dp_worst[k].max(dp_at[att.node] + pressure_gradient_pa_m(kg_s, d, &fluid) * len);
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
    // Each station's pump set: the rule-of-thumb head on its own part's worst path.
    let head: Vec<f64> = dp_worst
        .iter()
        .map(|&dp| generate::design_pump_head_pa(dp, min_dp))
        .collect();
    let plant_node = node_id[plant_v].clone().expect("the plant is a node");
    let station_nodes: Vec<String> = stations
        .iter()
        .map(|&v| node_id[v].clone().expect("stations are nodes"))
        .collect();
    // Each station's design load: its part's buildings.
    let mut station_load_w = vec![0.0; stations.len()];
    for (a, q) in b_att.iter().zip(&loads) {
        if let Ok(a) = a {
            station_load_w[owner[a.node]] += q;
        }
    }
    let mut plants = generate::main_station_plants(
        &plant_node,
        station_load_w[0],
        head[0],
        &fluid,
        T_SUPPLY,
        T_RETURN,
    );
    for (k, node) in station_nodes.iter().enumerate().skip(1) {
        plants.extend(generate::satellite_station_plants(
            k + 1,
            node,
            generate::boiler_capacity_w(station_load_w[k]),
            head[k],
        ));
    }
    // The part each pump set's node lies in (the stations', the sites').
    let mut part_of_node: std::collections::BTreeMap<String, usize> = station_nodes
        .iter()
        .enumerate()
        .map(|(k, n)| (n.clone(), k))
        .collect();
    let mut hp_elec = Vec::new();
    for ((s, &cap), a) in sites.iter().zip(&hp_caps).zip(&s_att) {
        let k = owner[a.as_ref().expect("checked above").node];
        part_of_node
            .entry(s.node.clone().expect("set above"))
            .or_insert(k);
        let node = s.node.clone().expect("set above");
        hp_elec.push(cap / HEAT_PUMP_DESIGN_COP);
        plants.push(Plant::HeatPump {
            id: format!("hp_{}", s.id),
            node: node.clone(),
            site: s.id.clone(),
            capacity_w: cap,
            carnot_fraction: 0.5,
        });
        if !station_nodes.contains(&node) {
            plants.push(Plant::CirculationPump {
                id: format!("pump_{}", s.id),
                node,
                efficiency: 0.6,
                max_head_pa: head[k],
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
        // Sized with water at about 70 °C; run with each pipe's water at its own temperature.
        fluid: Fluid {
            properties: crate::scene::FluidProperties::WaterIf97,
            ..fluid.clone()
        },
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
    let (bypass_n, bypass_kg_s) = add_bypasses(&mut scene, &[], &station_nodes, &loads);
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
    let day = design_day(&scene);
    let design_day_peak_w = day.peak_w;
    // Each station's boiler covers its own network's peak on the design day (its substations'
    // largest demand plus its share of the losses); its pump sets get the head that network
    // needed, with margin ([`design_day_head_pa`]).
    let day_of = |k: usize| {
        day.parts
            .iter()
            .find(|p| p.station_nodes.contains(&station_nodes[k]))
    };
    let station_head_pa: Vec<f64> = (0..stations.len())
        .map(|k| design_day_head_pa(head[k], day_of(k).map_or(0.0, |p| p.head_needed_pa)))
        .collect();
    let station_peak_w: Vec<f64> = (0..stations.len())
        .map(|k| day_of(k).map_or(0.0, |p| p.peak_w))
        .collect();
    let mut boiler_capacity_w = 0.0;
    for p in &mut scene.plants {
        match p {
            Plant::GasBoiler { id, capacity_w, .. } => {
                let k = id
                    .strip_prefix("boiler_main")
                    .and_then(|t| t.parse::<usize>().ok())
                    .unwrap_or(1)
                    .clamp(1, station_nodes.len())
                    - 1;
                *capacity_w = capacity_w.max(generate::boiler_capacity_w(station_peak_w[k]));
                boiler_capacity_w += *capacity_w;
            }
            Plant::CirculationPump {
                node, max_head_pa, ..
            } => {
                if let Some(&k) = part_of_node.get(node.as_str()) {
                    *max_head_pa = station_head_pa[k];
                }
            }
            _ => {}
        }
    }
    let pump_head_pa = station_head_pa.iter().copied().fold(0.0, f64::max);
    // Each station's largest pipe (its trunk).
    let mut station_largest_dn = vec![0u32; stations.len()];
    {
        let part_of: std::collections::BTreeMap<&str, usize> = node_id
            .iter()
            .zip(&owner)
            .filter_map(|(id, &o)| Some((id.as_deref()?, o)))
            .filter(|(_, o)| *o != usize::MAX)
            .collect();
        for p in &scene.heat_network.pipes {
            if let (Some(&k), PipeSize::Dn(dn)) = (part_of.get(p.from.as_str()), &p.size) {
                station_largest_dn[k] = station_largest_dn[k].max(*dn);
            }
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
        loops: n_loops,
        mains_length_m: r3(mains_length_m),
        service_length_m: r3(service_length_m),
        plant: place("boiler_main", &plant_node, plant_pos, &plant_how),
        stations: stations
            .iter()
            .zip(&station_nodes)
            .enumerate()
            .map(|(k, (&v, node))| {
                let id = if k == 0 {
                    "boiler_main".to_string()
                } else {
                    format!("boiler_main{}", k + 1)
                };
                place(
                    &id,
                    node,
                    g.nodes[v],
                    if k == 0 { &plant_how } else { &other_how },
                )
            })
            .collect(),
        station_load_w: station_load_w.iter().map(|w| r3(*w)).collect(),
        station_capacity_w: r3(capacity_w),
        station_pump_head_pa: station_head_pa,
        station_largest_dn,
        station_design_day_peak_w: station_peak_w.iter().map(|w| r3(*w)).collect(),
        ties: 0,
        bypasses: bypass_n,
        bypass_flow_kg_s: r3(bypass_kg_s),
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
        worst_path_dp_pa: r3(dp_worst.iter().copied().fold(0.0, f64::max)),
        pump_head_pa,
        design_day_head_needed_pa: r3(day.head_needed_pa),
        next_steps,
    };
    Ok((scene, report))
}

/// Largest drop of the design supply temperature from a station to a substation, K, before the
/// layout adds an end-of-line bypass ([`add_bypasses`]).
pub const MAX_SUPPLY_DROP_K: f64 = 5.0;
/// Ground temperature of the design-day check, °C (as [`design_day`]).
const DESIGN_GROUND_C: f64 = 5.0;

/// End-of-line bypasses. Along a long branch that feeds only a small building the design flow is
/// tiny (a 3 kW hut at 90/40 °C asks 0.014 kg/s: 1 cm/s in DN32), and the supply cools on its way
/// as `T = T_g + (T_in − T_g)·e^{−U'·L/(ṁ·c_p)}`; a substation then cannot meet its load within its
/// largest flow (1.25 × its design flow needs at least 80 °C at design) and hot water fails below
/// 55 °C. As district-heating networks do at line ends (a bypass from supply to return that keeps
/// the branch warm: Tol & Svendsen, *Energy Conversion and Management* 64 (2012) 551–561,
/// branched networks with end-consumer bypasses; Brand, DTU PhD thesis R-296 (2013), bypasses in
/// substations), the layout places at each building whose design supply (design flows, 90 °C at
/// the stations, ground at 5 °C, ties and loop pipes left out) lies more than
/// [`MAX_SUPPLY_DROP_K`] below the stations' the smallest constant flow from supply to return
/// (`MassFlowDeltaT` with ΔT = 0: it takes no heat and returns at the supply temperature) that
/// brings it back within the limit, worst building first, rounded up to 1 g/s. The 5 K limit is
/// our assumption (it keeps 85 °C at design, 5 K above what a substation needs for its full load).
/// The bypass runs all year (a fixed orifice; thermostatic bypasses, which open only when the
/// water cools, are not modelled); its heat shows as network losses. Returns how many and their
/// summed flow, kg/s.
fn add_bypasses(
    scene: &mut Scene,
    skip_pipes: &[usize],
    stations: &[String],
    loads: &[f64],
) -> (usize, f64) {
    let hn = &scene.heat_network;
    let cp = scene.fluid.cp_j_kg_k;
    let index: std::collections::BTreeMap<&str, usize> = hn
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let nn = hn.nodes.len();
    let mut skip = vec![false; hn.pipes.len()];
    for &k in skip_pipes {
        skip[k] = true;
    }
    let mut adj: Vec<Vec<(usize, usize)>> = vec![Vec::new(); nn];
    for (k, p) in hn.pipes.iter().enumerate() {
        if let (false, Some(&a), Some(&b)) = (
            skip[k],
            index.get(p.from.as_str()),
            index.get(p.to.as_str()),
        ) {
            adj[a].push((b, k));
            adj[b].push((a, k));
        }
    }
    // Forest from the stations (breadth first).
    let mut parent: Vec<Option<(usize, usize)>> = vec![None; nn];
    let mut seen = vec![false; nn];
    let mut order: Vec<usize> = stations
        .iter()
        .filter_map(|s| index.get(s.as_str()).copied())
        .collect();
    for &v in &order {
        seen[v] = true;
    }
    let mut i = 0;
    while i < order.len() {
        let u = order[i];
        i += 1;
        for &(v, k) in &adj[u] {
            if !seen[v] {
                seen[v] = true;
                parent[v] = Some((u, k));
                order.push(v);
            }
        }
    }
    // Each pipe's decay exponent times its flow, U'·L/c_p (kg/s).
    let decay: Vec<f64> = hn
        .pipes
        .iter()
        .map(|p| p.linear_loss_w_mk().unwrap_or(0.0) * polyline_length(&p.route) / cp)
        .collect();
    let mut own = vec![0.0; nn];
    for (b, q) in scene.buildings.iter().zip(loads) {
        if let Some(&v) = b.node.as_deref().and_then(|n| index.get(n)) {
            own[v] += design_flow_kg_s(*q, &scene.fluid);
        }
    }
    let mut bypass = vec![0.0; nn];
    let limit = T_DESIGN - MAX_SUPPLY_DROP_K;
    let step = |t_in: f64, x: f64, m: f64| {
        DESIGN_GROUND_C + (t_in - DESIGN_GROUND_C) * (-x / m.max(1e-9)).exp_d()
    };
    for _ in 0..nn {
        let mut flow = vec![0.0; nn];
        for &v in order.iter().rev() {
            flow[v] += own[v] + bypass[v];
            if let Some((u, _)) = parent[v] {
                flow[u] += flow[v];
            }
        }
        let mut temp = vec![T_DESIGN; nn];
        for &v in &order {
            if let Some((u, k)) = parent[v] {
                temp[v] = step(temp[u], decay[k], flow[v]);
            }
        }
        let Some(worst) = (0..nn)
            .filter(|&v| seen[v] && own[v] > 0.0 && temp[v] < limit - 1e-9)
            .min_by(|a, b| temp[*a].total_cmp(&temp[*b]).then(a.cmp(b)))
        else {
            break;
        };
        let mut path = Vec::new();
        let mut v = worst;
        while let Some((u, k)) = parent[v] {
            path.push((v, k));
            v = u;
        }
        let at = |extra: f64| {
            path.iter()
                .rev()
                .fold(T_DESIGN, |t, &(w, k)| step(t, decay[k], flow[w] + extra))
        };
        let mut hi = 0.001;
        while at(hi) < limit && hi < 100.0 {
            hi *= 2.0;
        }
        let mut lo = 0.0;
        for _ in 0..50 {
            let mid = 0.5 * (lo + hi);
            if at(mid) < limit {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        bypass[worst] += (hi * 1000.0).ceil() / 1000.0;
    }
    let mut n = 0;
    let mut total = 0.0;
    for (v, &m) in bypass.iter().enumerate() {
        if m > 0.0 {
            n += 1;
            total += m;
            let node = scene.heat_network.nodes[v].id.clone();
            scene.heat_network.consumers.push(crate::scene::Consumer {
                id: format!("bypass_{}", node.trim_start_matches("h_")),
                node,
                demand: crate::scene::ConsumerDemand::MassFlowDeltaT {
                    mass_flow_kg_s: r3(m),
                    delta_t_k: 0.0,
                },
                return_temp_c: None,
            });
        }
    }
    (n, total)
}

pub use crate::hydraulics::sizing::{MAX_PATH_DP_PA, MAX_STATION_DN, station_capacity_w};

/// Most boiler stations an import lays out (256 × [`station_capacity_w`]: about 9.6 GW of design
/// load; a larger district is refused with a clear message).
pub const MAX_STATIONS: usize = 256;

/// First guess of the number of stations for a design load: ⌈load / [`station_capacity_w`]⌉,
/// within 1 … [`MAX_STATIONS`].
pub fn stations_for(load_w: f64, fluid: &Fluid) -> usize {
    ((load_w / station_capacity_w(fluid)).ceil() as usize).clamp(1, MAX_STATIONS)
}

/// The heat network's mains as laid by [`lay_mains`].
struct Mains {
    nodes: Vec<Node>,
    pipes: Vec<Pipe>,
    /// Scene node id of each street vertex that is one.
    node_id: Vec<Option<String>>,
    /// Design pressure drop from the vertex's station (supply only), Pa.
    dp_at: Vec<f64>,
    /// Station each tree vertex is fed from (index into the stations; `usize::MAX` off the
    /// tree).
    owner: Vec<usize>,
    largest_dn: u32,
    mains_length_m: f64,
    loops: usize,
}

/// The mains along the tree `tree` (street edges, every station's part of it: see
/// [`crate::network::partition`]), each vertex of it in the part `owner[v]` whose station is
/// `stations[owner[v]]`: pipes sized on the design flows summed toward their station, and loops
/// within a part if asked (see the module page). `terminals`: the taps and sites (scene nodes).
/// `extra_ids`: how many more nodes the scene will get (for the width of the ids).
#[allow(clippy::too_many_arguments)]
fn lay_mains(
    g: &StreetGraph,
    wedges: &[(usize, usize, f64)],
    tree: &[usize],
    terminals_in: &[usize],
    stations: &[usize],
    owner: Vec<usize>,
    own: &[f64],
    loops: bool,
    n_connected: usize,
    extra_ids: usize,
    fluid: &Fluid,
) -> Mains {
    let nv = g.nodes.len();
    let mut terminals = stations.to_vec();
    terminals.extend_from_slice(terminals_in);

    // Tree structure: each part rooted at its station.
    let mut tadj: Vec<Vec<usize>> = vec![Vec::new(); nv];
    for &e in tree {
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
    let mut order = stations.to_vec();
    for &s in stations {
        in_tree[s] = true;
    }
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
    for &e in tree {
        is_edge_in_tree[e] = true;
    }
    // Loops.
    let mut loop_edges: Vec<usize> = Vec::new();
    if loops {
        let n_loops = (3 + n_connected / 250).min(40);
        let mut cands: Vec<(f64, usize)> = Vec::new();
        for (e, &(a, b, w)) in wedges.iter().enumerate() {
            if is_edge_in_tree[e]
                || !in_tree[a]
                || !in_tree[b]
                || owner[a] != owner[b]
                || w <= 0.0
                || a == b
            {
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

    // Scene nodes: stations, taps, sites, loop ends and tree vertices of degree ≠ 2.
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
    let w_n = (n_scene_nodes + extra_ids).to_string().len().max(3);
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

    // Design flows: own flow at each vertex, summed up the tree toward its station.
    let mut flow = own.to_vec();
    for &v in order.iter().rev() {
        if let Some(e) = parent[v] {
            let u = other(e, v);
            flow[u] += flow[v];
        }
    }

    // Mains: one pipe per chain, from the station side.
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
    let mut dp_at = vec![0.0; nv]; // design pressure drop from the station, Pa (supply only)
    let mut dn_in = vec![0u32; nv]; // DN of the pipe feeding a scene node
    let mut mains_length_m = 0.0;
    let mut largest_dn = 0u32;
    let w_p = (nv + extra_ids + 10).to_string().len().max(3);
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
            let dn = smallest_dn_within_gradient(flow[v], fluid);
            let d = dn_entry(dn).map(|x| x.1).unwrap_or(0.1);
            let len = polyline_length(&route);
            dp_at[v] = dp_at[u] + pressure_gradient_pa_m(flow[v], d, fluid) * len;
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
    for &s in stations {
        dn_in[s] = children[s]
            .iter()
            .map(|&e| {
                let mut v = other(e, s);
                while !is_node[v] {
                    v = other(children[v][0], v);
                }
                dn_in[v]
            })
            .max()
            .unwrap_or(MIN_DN);
    }
    // Loops: the smaller DN of the pipes at their ends.
    for &e in &loop_edges {
        let (a, b, _) = wedges[e];
        let dn = dn_in[a].min(dn_in[b]).max(MIN_DN);
        let route = oriented(e, a);
        mains_length_m += polyline_length(&route);
        pipes.push(laid_pipe(
            format!("p{:0w_p$}", pipes.len() + 1),
            node_id[a].clone().expect("loop ends are nodes"),
            node_id[b].clone().expect("loop ends are nodes"),
            dn,
            route,
        ));
    }
    Mains {
        nodes,
        pipes,
        node_id,
        dp_at,
        owner,
        largest_dn,
        mains_length_m,
        loops: loop_edges.len(),
    }
}

/// The largest heat demand plus network losses over a simulated design day, W: the laid-out
/// scene for 24 h at its design outdoor temperature (ground 5 °C, no sun, 3 m/s wind),
/// 5-minute ticks, the first hour left out (the network starts below its design temperature).
pub fn design_day_peak_w(scene: &Scene) -> f64 {
    design_day(scene).peak_w
}

/// What the simulated design day asks of the plants ([`design_day`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DesignDay {
    /// Largest heat demand plus network losses of a tick, W.
    pub peak_w: f64,
    /// Largest head a reference pump needed to give every substation its flow, Pa (the largest
    /// of the parts').
    pub head_needed_pa: f64,
    /// The same for each separate network (connected part with a heat source), in the order of
    /// their reference nodes.
    pub parts: Vec<PartDay>,
}

/// What the design day asks of one separate network ([`DesignDay::parts`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PartDay {
    /// Node ids of every station in the part (boilers, heat pumps, pumps).
    pub station_nodes: Vec<String>,
    /// Largest heat demand of its substations plus its share (by demand) of the tick's network
    /// losses, W.
    pub peak_w: f64,
    /// Largest head its reference pump needed, Pa.
    pub head_needed_pa: f64,
}

/// The pump sets' head: the rule-of-thumb head on the design flows (`rule_pa`,
/// [`generate::design_pump_head_pa`]) or 1.2 × the largest head the simulated design day needed
/// (its morning hot-water peak asks up to 1.25 × the design flow of a substation, so the pressure
/// drops rise up to 1.56-fold), whichever is more, rounded up to 0.5 bar, at most 25 bar (PN25).
pub fn design_day_head_pa(rule_pa: f64, needed_pa: f64) -> f64 {
    let margin = ((1.2 * needed_pa / 5.0e4).ceil() * 5.0e4).min(2.5e6);
    rule_pa.max(margin)
}

/// The laid-out scene for 24 h at its design outdoor temperature (as [`design_day_peak_w`]),
/// with the pumps unlimited: its peak heat and the largest head it needed.
pub fn design_day(scene: &Scene) -> DesignDay {
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
    // Unlimited pumps: the head asked is the head needed, and the solve never takes the
    // head-limited (pressure-driven) path, which is far slower on a large district. The scene
    // is run unchecked, so the infinite head never reaches validation.
    for p in &mut day.plants {
        if let Plant::CirculationPump { max_head_pa, .. } = p {
            *max_head_pa = f64::INFINITY;
        }
    }
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
    // The separate networks: each station's part, and each consumer's.
    let (station_part, consumer_part, nparts) = {
        let net = sim.res::<crate::network::Network>();
        let st = sim.res::<crate::plants::Stations>();
        let cons = sim.res::<crate::demand::Consumers>();
        let ncomp = net.component_root.len();
        let sp: Vec<usize> = st
            .node
            .iter()
            .map(|&n| net.component[n as usize] as usize)
            .collect();
        let cp: Vec<Option<usize>> = cons
            .node
            .iter()
            .map(|n| n.map(|n| net.component[n as usize] as usize))
            .collect();
        (sp, cp, ncomp)
    };
    let (mut peak, mut prev_demand, mut prev_loss) = (0.0_f64, 0.0, 0.0);
    let mut head_needed: f64 = 0.0;
    let mut part_peak = vec![0.0_f64; nparts];
    let mut part_head = vec![0.0_f64; nparts];
    for t in 0..ticks {
        sim.step();
        let l = sim.res::<crate::ledger::Ledger>();
        let demand = l.heat_demand_j - prev_demand;
        let loss = l.pipe_losses_j - prev_loss;
        (prev_demand, prev_loss) = (l.heat_demand_j, l.pipe_losses_j);
        if t >= skip {
            peak = peak.max((demand + loss) / tick_s);
            let hs = sim.res::<crate::hydraulics::HydraulicState>();
            head_needed = head_needed.max(hs.head_needed_pa);
            let st = sim.res::<crate::plants::Stations>();
            for (s, &c) in station_part.iter().enumerate() {
                if st.is_reference[s] {
                    part_head[c] = part_head[c].max(hs.station_head_pa[s]);
                }
            }
            let cons = sim.res::<crate::demand::Consumers>();
            let mut d = vec![0.0; nparts];
            for (i, c) in consumer_part.iter().enumerate() {
                if let Some(c) = c {
                    d[*c] += cons.demand_w[i];
                }
            }
            let total: f64 = d.iter().sum();
            let with_loss = if total > 0.0 {
                1.0 + loss / tick_s / total
            } else {
                1.0
            };
            for (p, x) in part_peak.iter_mut().zip(&d) {
                *p = p.max(x * with_loss);
            }
        }
    }
    let mut parts: Vec<PartDay> = Vec::new();
    {
        let net = sim.res::<crate::network::Network>();
        let st = sim.res::<crate::plants::Stations>();
        for c in 0..nparts {
            let station_nodes: Vec<String> = station_part
                .iter()
                .enumerate()
                .filter(|(_, p)| **p == c)
                .map(|(s, _)| net.node_ids[st.node[s] as usize].clone())
                .collect();
            if !station_nodes.is_empty() {
                parts.push(PartDay {
                    station_nodes,
                    peak_w: part_peak[c],
                    head_needed_pa: part_head[c],
                });
            }
        }
    }
    DesignDay {
        peak_w: peak,
        head_needed_pa: head_needed,
        parts,
    }
}

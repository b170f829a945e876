//! From a plan to a scene: the heat network on the streets, the stations and their plants, the
//! quantum sites with their heat pumps, the electrical grid.
//!
//! [`assemble`] runs the steps in a fixed order (the random draws of buildings, insulation, sites
//! and the grid come from one stream, so the order is part of the output): the street graph
//! ([`street_adjacency`]), the main station's shortest-path tree, the buildings
//! ([`connect_buildings`]) and sites ([`connect_sites`]) on their nodes, the stations and their
//! separate networks ([`split_stations`]), the design flows and pruning ([`tree_flows`]), the
//! nodes ([`number_nodes`]), the tree's pipes and design pressure drops ([`lay_tree_pipes`]), the
//! loop-closing pipes ([`choose_loops`], [`lay_loop_pipes`]), the stations' plants
//! ([`station_plants`]), the quantum sites ([`site_plants`]) and the grid.

use super::blocks::make_building;
use super::geometry::{P, VertexIndex, dist, lerp, mean, rp};
use super::grid::design_grid;
use super::network::{
    Forest, boiler_capacity_w, design_pump_head_pa, main_station_plants, satellite_station_plants,
    shortest_forest,
};
use super::sizing::{
    HEAT_PUMP_DESIGN_COP, design_heat_load_w, random_site, site_heat_pump_capacity_w,
    temperate_climate,
};
use super::streets::{Plan, StreetEdge};
use crate::hydraulics::sizing::{MIN_DN, smallest_dn_for};
use crate::hydraulics::solver::friction_factor;
use crate::scene::*;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

pub(super) struct Header {
    pub(super) name: String,
    pub(super) description: String,
    pub(super) seed: u64,
    pub(super) main_vertex: usize,
    pub(super) wind_pos: Vec<P>,
    pub(super) n_loops: usize,
    /// Street segments (vertex pairs) that close a loop whatever their flow (a second river
    /// crossing).
    pub(super) force_loops: Vec<(usize, usize)>,
}

/// Design temperatures of a generated network, °C.
#[derive(Clone, Copy)]
struct DesignTemps {
    /// Supply temperature in mild weather.
    supply: f64,
    /// Supply temperature at the design outdoor temperature.
    design: f64,
    ret: f64,
    outdoor: f64,
}

pub(super) fn assemble(plan: Plan, hdr: Header, rng: &mut ChaCha8Rng) -> Scene {
    let nv = plan.verts.len();
    let fluid = Fluid::default();
    let sim = SimSettings::default();
    let (t_supply, t_design, t_return, t_out) = (75.0, 90.0, 40.0, -12.0);
    let temps = DesignTemps {
        supply: t_supply,
        design: t_design,
        ret: t_return,
        outdoor: t_out,
    };

    // Street graph and shortest-path tree from the main station.
    let adj = street_adjacency(&plan);
    let root = hdr.main_vertex;
    let first = shortest_forest(&plan, &adj, &[root], &[0.0]);

    // Buildings and sites on their nodes.
    let index = VertexIndex::new(&plan.verts, &first.done, 80.0);
    let Connected {
        mut buildings,
        bvertex,
        own_flow,
        mut own_use,
        station_load: total_load,
    } = connect_buildings(
        &plan,
        &index,
        &first.owner,
        root,
        1,
        &sim,
        &fluid,
        temps,
        rng,
    );
    let mut station_of: Vec<Option<usize>> = vec![None; nv];
    station_of[root] = Some(0);
    let site_vertex = connect_sites(&plan, &index, &station_of, root, &mut own_use);

    // The stations: the tree cut into parts of at most a station's capacity, each its own
    // network ([`crate::network::partition`]); the main station keeps its place.
    let (forest, stations, station_load) =
        split_stations(&plan, first, root, &own_flow, &own_use, &fluid, temps);
    if stations.len() == 1 {
        debug_assert!((station_load[0] - total_load[0]).abs() <= 1e-6 * total_load[0].max(1.0));
    }
    let mut station_of: Vec<Option<usize>> = vec![None; nv];
    for (k, &s) in stations.iter().enumerate() {
        station_of[s] = Some(k);
    }
    for &s in &stations {
        own_use[s] = true;
    }

    let (flow, keep) = tree_flows(&forest, &own_flow, &own_use);
    let (node_id, nodes) = number_nodes(&keep, &forest.done, &plan.verts);

    let TreePipes {
        mut pipes,
        pipe_dn,
        in_tree,
        dp_to,
    } = lay_tree_pipes(&plan, &forest, &flow, &keep, &node_id, &fluid, rng);
    // A station's DN: that of its largest pipe.
    let station_dn: Vec<u32> = stations
        .iter()
        .map(|&s| {
            (0..nv)
                .filter(|v| forest.parent[*v].is_some_and(|(u, _)| u == s) && keep[*v])
                .map(|v| pipe_dn[v])
                .max()
                .unwrap_or(MIN_DN)
        })
        .collect();
    let dn_at = |v: usize| match station_of[v] {
        Some(k) => station_dn[k],
        None => pipe_dn[v],
    };

    let loops = choose_loops(&plan, &hdr, &forest, &keep, &in_tree, &flow, root);
    lay_loop_pipes(&plan, &loops, &dn_at, &node_id, &mut pipes, rng);
    for (b, &v) in buildings.iter_mut().zip(&bvertex) {
        b.node = node_id[v].clone();
    }

    // Stations: the main one with the storage tank, then the others.
    let main = nid(&node_id, root);
    let station_nodes: Vec<String> = stations.iter().map(|&s| nid(&node_id, s)).collect();
    // Each station's pump set: the rule-of-thumb head on its own network's worst path.
    let mut dp_worst = vec![0.0_f64; stations.len()];
    for (v, &dp) in dp_to.iter().enumerate() {
        if forest.done[v] && keep[v] {
            let k = forest.owner[v];
            dp_worst[k] = dp_worst[k].max(dp);
        }
    }
    let min_dp = 5.0e4;
    let head: Vec<f64> = dp_worst
        .iter()
        .map(|&dp| design_pump_head_pa(dp, min_dp))
        .collect();
    let mut plants = station_plants(&main, &station_nodes, &station_load, &head, &fluid, temps);

    // Quantum sites and their heat pumps.
    let (mut sites, hp_elec) = site_plants(
        &plan,
        &site_vertex,
        &node_id,
        &main,
        &station_nodes,
        &|v: usize| head[if forest.done[v] { forest.owner[v] } else { 0 }],
        &mut plants,
        rng,
    );

    let grid = design_grid(
        &mut buildings,
        &mut sites,
        &hp_elec,
        plan.verts[root],
        &hdr.wind_pos,
        rng,
    );

    Scene {
        edits: Vec::new(),
        format_version: SCENE_FORMAT_VERSION,
        name: hdr.name,
        description: hdr.description,
        seed: hdr.seed,
        sim,
        // Sizing above takes water at about 70 °C (`Fluid::default`); the run takes each pipe's
        // water at its own temperature.
        fluid: Fluid {
            properties: FluidProperties::WaterIf97,
            ..fluid
        },
        climate: temperate_climate(),
        buildings,
        heat_network: HeatNetwork {
            supply_temp_c: t_supply,
            supply_temp_at_design_c: Some(t_design),
            design_outdoor_temp_c: t_out,
            return_temp_c: t_return,
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
        map: plan.map,
        quantum_jobs: None,
        data_links: None,
        failures: Vec::new(),
        georef: None,
    }
}

/// The stations and the forest they feed. The main station's shortest-path tree `first` (its
/// vertices that serve something) is cut into the fewest parts of at most a station's capacity
/// of design load ([`crate::hydraulics::sizing::station_capacity_w`], the design flow of a DN400
/// trunk), Kundu and Misra's rule ([`crate::network::partition`]); the main station keeps its
/// part, every other part gets a station at its load-weighted median, and each part is its own
/// network, re-rooted at its station (breadth first along the tree, parents before children).
/// A city within one station's capacity keeps `first` as it is. Returns the forest, the
/// stations (the main one first) and each one's design load, W.
fn split_stations(
    plan: &Plan,
    first: Forest,
    root: usize,
    own_flow: &[f64],
    own_use: &[bool],
    fluid: &Fluid,
    temps: DesignTemps,
) -> (Forest, Vec<usize>, Vec<f64>) {
    let nv = plan.verts.len();
    let w_per_kg_s = fluid.cp_j_kg_k * (temps.design - temps.ret);
    let load: Vec<f64> = own_flow.iter().map(|f| f * w_per_kg_s).collect();
    let (_, used) = tree_flows(&first, own_flow, own_use);
    let edges: Vec<(usize, usize, f64)> = plan
        .edges
        .iter()
        .map(|e| (e.a, e.b, dist(plan.verts[e.a], plan.verts[e.b])))
        .collect();
    let tree: Vec<usize> = first
        .order
        .iter()
        .filter(|&&v| used[v])
        .filter_map(|&v| first.parent[v].map(|(_, e)| e))
        .collect();
    let cap = crate::hydraulics::sizing::station_capacity_w(fluid);
    // The design pressure drop along an edge carrying `load_w`, as `lay_tree_pipes` sizes it.
    let edge_dp = |e: usize, load_w: f64| {
        let m = load_w / w_per_kg_s;
        let dn = smallest_dn_for(m, fluid.density_kg_m3);
        let d = dn_entry(dn).map(|x| x.1).unwrap_or(0.1);
        let vel = m / (fluid.density_kg_m3 * std::f64::consts::PI * d * d / 4.0);
        let re = fluid.density_kg_m3 * vel * d / fluid.viscosity_pa_s;
        friction_factor(re, 4.5e-5 / d) * edges[e].2 / d * 0.5 * fluid.density_kg_m3 * vel * vel
    };
    let part = crate::network::partition::partition_tree(
        nv,
        &edges,
        &tree,
        root,
        &load,
        own_use,
        cap,
        &edge_dp,
        crate::hydraulics::sizing::MAX_PATH_DP_PA,
        true,
    );
    if part.stations.len() <= 1 {
        let total = load.iter().sum();
        return (first, vec![root], vec![total]);
    }
    let mut tadj: Vec<Vec<usize>> = vec![Vec::new(); nv];
    for &e in &part.edges {
        tadj[edges[e].0].push(e);
        tadj[edges[e].1].push(e);
    }
    let mut parent: Vec<Option<(usize, usize)>> = vec![None; nv];
    let mut owner = vec![0usize; nv];
    let mut done = vec![false; nv];
    let mut order = Vec::with_capacity(nv);
    for (k, &s) in part.stations.iter().enumerate() {
        done[s] = true;
        owner[s] = k;
        order.push(s);
    }
    let mut i = 0;
    while i < order.len() {
        let u = order[i];
        i += 1;
        for &e in &tadj[u] {
            let w = if edges[e].0 == u {
                edges[e].1
            } else {
                edges[e].0
            };
            if !done[w] {
                done[w] = true;
                parent[w] = Some((u, e));
                owner[w] = owner[u];
                order.push(w);
            }
        }
    }
    (
        Forest {
            parent,
            owner,
            order,
            done,
        },
        part.stations,
        part.load,
    )
}

/// Adjacency of the street graph: for each vertex, its neighbours and the street edges leading
/// there (self-loops left out).
fn street_adjacency(plan: &Plan) -> Vec<Vec<(usize, usize)>> {
    let mut adj: Vec<Vec<(usize, usize)>> = vec![Vec::new(); plan.verts.len()];
    for (k, e) in plan.edges.iter().enumerate() {
        if e.a != e.b {
            adj[e.a].push((e.b, k));
            adj[e.b].push((e.a, k));
        }
    }
    adj
}

/// The buildings made from the plan and what they ask of the network.
struct Connected {
    buildings: Vec<Building>,
    /// Vertex each building is connected to.
    bvertex: Vec<usize>,
    /// Design mass flow of the buildings at each vertex, kg/s.
    own_flow: Vec<f64>,
    /// Whether something (a building, a site, a station) stands at the vertex.
    own_use: Vec<bool>,
    /// Design heat load of the buildings each station feeds, W.
    station_load: Vec<f64>,
}

/// Makes the buildings (numbered `b0001`, …) and connects each to the nearest reachable node on
/// its own side; sums their design loads per station and their design flows per vertex.
#[allow(clippy::too_many_arguments)]
fn connect_buildings(
    plan: &Plan,
    index: &VertexIndex,
    owner: &[usize],
    root: usize,
    n_stations: usize,
    sim: &SimSettings,
    fluid: &Fluid,
    temps: DesignTemps,
    rng: &mut ChaCha8Rng,
) -> Connected {
    let nv = plan.verts.len();
    let mut buildings: Vec<Building> = Vec::with_capacity(plan.buildings.len());
    let mut bvertex: Vec<usize> = Vec::with_capacity(plan.buildings.len());
    let width = plan.buildings.len().max(1).to_string().len().max(4);
    let mut own_flow = vec![0.0; nv];
    let mut own_use = vec![false; nv];
    let mut station_load = vec![0.0; n_stations];
    for (k, (p, zone)) in plan.buildings.iter().enumerate() {
        let b = make_building(format!("b{:0width$}", k + 1), p, rng);
        let c = b.centre();
        let v = index
            .nearest(&plan.verts, c, |v| plan.vzone[v] == *zone)
            .or_else(|| index.nearest(&plan.verts, c, |_| true))
            .unwrap_or(root);
        let q = design_heat_load_w(&b, sim.indoor_setpoint_c, temps.outdoor);
        station_load[owner[v]] += q;
        own_flow[v] += q / (fluid.cp_j_kg_k * (temps.design - temps.ret));
        own_use[v] = true;
        bvertex.push(v);
        buildings.push(b);
    }
    Connected {
        buildings,
        bvertex,
        own_flow,
        own_use,
        station_load,
    }
}

/// Sites: the nearest free node (no station, no other site) on their side; marks it used.
fn connect_sites(
    plan: &Plan,
    index: &VertexIndex,
    station_of: &[Option<usize>],
    root: usize,
    own_use: &mut [bool],
) -> Vec<usize> {
    let mut site_vertex: Vec<usize> = Vec::new();
    for (fp, zone) in &plan.sites {
        let c = mean(fp);
        let v = index
            .nearest(&plan.verts, c, |v| {
                plan.vzone[v] == *zone && station_of[v].is_none() && !site_vertex.contains(&v)
            })
            .or_else(|| {
                index.nearest(&plan.verts, c, |v| {
                    station_of[v].is_none() && !site_vertex.contains(&v)
                })
            })
            .unwrap_or(root);
        site_vertex.push(v);
        own_use[v] = true;
    }
    site_vertex
}

/// Flows through the tree and pruning of dead ends: the design flow through each vertex's pipe
/// to its parent (its own and its descendants'), and whether anything is fed through it.
fn tree_flows(forest: &Forest, own_flow: &[f64], own_use: &[bool]) -> (Vec<f64>, Vec<bool>) {
    let mut flow = own_flow.to_vec();
    let mut keep = own_use.to_vec();
    for &v in forest.order.iter().rev() {
        if let Some((u, _)) = forest.parent[v] {
            flow[u] += flow[v];
            keep[u] |= keep[v];
        }
    }
    (flow, keep)
}

/// Node ids in vertex order (`n001`, …) of the kept vertices a station reaches.
fn number_nodes(keep: &[bool], done: &[bool], verts: &[P]) -> (Vec<Option<String>>, Vec<Node>) {
    let nv = verts.len();
    let mut node_id: Vec<Option<String>> = vec![None; nv];
    let mut nodes = Vec::new();
    let nk = keep
        .iter()
        .filter(|k| **k)
        .count()
        .max(1)
        .to_string()
        .len()
        .max(3);
    for v in 0..nv {
        if keep[v] && done[v] {
            let id = format!("n{:0nk$}", nodes.len() + 1);
            nodes.push(Node {
                id: id.clone(),
                pos: rp(verts[v]),
                elevation_m: 0.0,
            });
            node_id[v] = Some(id);
        }
    }
    (node_id, nodes)
}

/// The node id of a kept vertex.
fn nid(node_id: &[Option<String>], v: usize) -> String {
    node_id[v].clone().expect("kept vertex has a node")
}

/// Width of the pipes' numbers (`p001`, …).
fn pipe_id_width(nv: usize) -> usize {
    (nv + 50).to_string().len().max(3)
}

/// Insulation of a pipe between vertices `a` and `b`: series 1 for 60 % of the old town's pipes
/// (one draw from `rng` there), series 2 otherwise.
fn insulation(plan: &Plan, a: usize, b: usize, rng: &mut ChaCha8Rng) -> PipeInsulation {
    if plan.vold[a] && plan.vold[b] && rng.random::<f64>() < 0.6 {
        PipeInsulation::Series(1)
    } else {
        PipeInsulation::Series(2)
    }
}

/// A generated pipe: twin pipe of size `dn`, 0.045 mm roughness, 0.8 m cover.
fn pipe(id: String, from: String, to: String, dn: u32, insulation: PipeInsulation) -> Pipe {
    Pipe {
        id,
        from,
        to,
        length_m: None,
        size: PipeSize::Dn(dn),
        insulation,
        roughness_m: 4.5e-5,
        burial_depth_m: 0.8,
        route: Vec::new(),
    }
}

/// The pipes of the stations' forest and what the rest of the design needs of them.
struct TreePipes {
    pipes: Vec<Pipe>,
    /// DN of the pipe from a vertex to its parent (0 where there is none).
    pipe_dn: Vec<u32>,
    /// Street edges the forest's pipes follow.
    in_tree: Vec<bool>,
    /// Design pressure drop from the vertex's station to the vertex, one pipe (supply only), Pa.
    dp_to: Vec<f64>,
}

/// One pipe per kept vertex to its parent, parents first, each of the smallest DN for its design
/// flow ([`smallest_dn_for`]), with the design pressure drop along the tree (Darcy–Weisbach).
fn lay_tree_pipes(
    plan: &Plan,
    forest: &Forest,
    flow: &[f64],
    keep: &[bool],
    node_id: &[Option<String>],
    fluid: &Fluid,
    rng: &mut ChaCha8Rng,
) -> TreePipes {
    let nv = plan.verts.len();
    let len_of = |e: &StreetEdge| dist(plan.verts[e.a], plan.verts[e.b]);
    let dn_of_vertex = |v: usize| smallest_dn_for(flow[v], fluid.density_kg_m3);
    let mut pipes: Vec<Pipe> = Vec::new();
    let mut pipe_dn: Vec<u32> = vec![0; nv]; // DN of the pipe from a vertex to its parent
    let mut in_tree = vec![false; plan.edges.len()];
    let np = pipe_id_width(nv);
    // Design pressure drop along the tree (per unit of one pipe, supply only).
    let mut dp_to = vec![0.0; nv];
    for &v in &forest.order {
        let Some((u, e)) = forest.parent[v] else {
            continue;
        };
        if !keep[v] {
            continue;
        }
        in_tree[e] = true;
        let dn = dn_of_vertex(v);
        pipe_dn[v] = dn;
        let d = dn_entry(dn).map(|x| x.1).unwrap_or(0.1);
        let vel = flow[v] / (fluid.density_kg_m3 * std::f64::consts::PI * d * d / 4.0);
        let re = fluid.density_kg_m3 * vel * d / fluid.viscosity_pa_s;
        let l = len_of(&plan.edges[e]);
        let fr = friction_factor(re, 4.5e-5 / d);
        dp_to[v] = dp_to[u] + fr * l / d * 0.5 * fluid.density_kg_m3 * vel * vel;
        let id = format!("p{:0np$}", pipes.len() + 1);
        let ins = insulation(plan, u, v, rng);
        pipes.push(pipe(id, nid(node_id, u), nid(node_id, v), dn, ins));
    }
    TreePipes {
        pipes,
        pipe_dn,
        in_tree,
        dp_to,
    }
}

/// Loop-closing pipes on the trunk, spread out: the forced loops, then the street segments off
/// the forest whose ends carry the most flow and are fed by the same station (no pipe joins two
/// stations' networks), at least a spacing apart (the city's radius / 15, at least 180 m; then
/// 90 m; then any), up to `hdr.n_loops`.
#[allow(clippy::too_many_arguments)]
fn choose_loops(
    plan: &Plan,
    hdr: &Header,
    forest: &Forest,
    keep: &[bool],
    in_tree: &[bool],
    flow: &[f64],
    root: usize,
) -> Vec<usize> {
    let done = &forest.done;
    let flow_at = |v: usize| flow[v];
    let mut cands: Vec<(f64, usize)> = plan
        .edges
        .iter()
        .enumerate()
        .filter(|(k, e)| {
            !in_tree[*k]
                && e.a != e.b
                && keep[e.a]
                && keep[e.b]
                && done[e.a]
                && done[e.b]
                && forest.owner[e.a] == forest.owner[e.b]
        })
        .map(|(k, e)| (flow_at(e.a).min(flow_at(e.b)), k))
        .collect();
    cands.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let n_loops = hdr.n_loops;
    let mut loops: Vec<usize> = Vec::new();
    for &(a, b) in &hdr.force_loops {
        if let Some(&(_, k)) = cands.iter().find(|(_, k)| {
            let e = &plan.edges[*k];
            (e.a, e.b) == (a, b) || (e.a, e.b) == (b, a)
        }) {
            loops.push(k);
        }
    }
    let city_r = plan
        .verts
        .iter()
        .map(|p| dist(*p, plan.verts[root]))
        .fold(0.0, f64::max);
    for spacing in [(city_r / 15.0).max(180.0), 90.0, 0.0] {
        for &(_, k) in &cands {
            if loops.len() >= n_loops {
                break;
            }
            let e = &plan.edges[k];
            let mid = lerp(plan.verts[e.a], plan.verts[e.b], 0.5);
            let dup = loops.iter().any(|&l| {
                let f = &plan.edges[l];
                l == k || (f.a.min(f.b), f.a.max(f.b)) == (e.a.min(e.b), e.a.max(e.b))
            });
            let near = loops.iter().any(|&l| {
                let f = &plan.edges[l];
                dist(mid, lerp(plan.verts[f.a], plan.verts[f.b], 0.5)) < spacing
            });
            if !dup && !near {
                loops.push(k);
            }
        }
    }
    loops
}

/// The loop-closing pipes, each of the smaller DN of the pipes at its ends (`dn_at`).
fn lay_loop_pipes(
    plan: &Plan,
    loops: &[usize],
    dn_at: &impl Fn(usize) -> u32,
    node_id: &[Option<String>],
    pipes: &mut Vec<Pipe>,
    rng: &mut ChaCha8Rng,
) {
    let np = pipe_id_width(plan.verts.len());
    for &k in loops {
        let e = &plan.edges[k];
        let dn = dn_at(e.a).min(dn_at(e.b)).max(MIN_DN);
        let id = format!("p{:0np$}", pipes.len() + 1);
        let ins = insulation(plan, e.a, e.b, rng);
        pipes.push(pipe(id, nid(node_id, e.a), nid(node_id, e.b), dn, ins));
    }
}

/// The stations' plants: the main one's ([`main_station_plants`]), then a boiler
/// (`boiler_main2`, …) and a pump set (`pump_main2`, …) at each other station.
fn station_plants(
    main: &str,
    station_nodes: &[String],
    station_load: &[f64],
    head: &[f64],
    fluid: &Fluid,
    temps: DesignTemps,
) -> Vec<Plant> {
    let boiler_of = |k: usize| boiler_capacity_w(station_load[k]);
    let mut plants = main_station_plants(
        main,
        station_load[0],
        head[0],
        fluid,
        temps.supply,
        temps.ret,
    );
    for (k, node) in station_nodes.iter().enumerate().skip(1) {
        plants.extend(satellite_station_plants(k + 1, node, boiler_of(k), head[k]));
    }
    plants
}

/// The quantum sites (`q1`, …) with their drawn equipment, each on its node (the main station's
/// if its vertex has none), with its heat pump and, off the stations, a pump set (the head of
/// its network's station, `head_at(vertex)`); returns the
/// sites and each heat pump's electrical power at design, W.
#[allow(clippy::too_many_arguments)]
fn site_plants(
    plan: &Plan,
    site_vertex: &[usize],
    node_id: &[Option<String>],
    main: &str,
    station_nodes: &[String],
    head_at: &dyn Fn(usize) -> f64,
    plants: &mut Vec<Plant>,
    rng: &mut ChaCha8Rng,
) -> (Vec<QuantumSite>, Vec<f64>) {
    let mut sites = Vec::new();
    let mut hp_elec = Vec::new();
    for (k, ((fp, _), &v)) in plan.sites.iter().zip(site_vertex).enumerate() {
        let id = format!("q{}", k + 1);
        let mut s = random_site(&id, rp(mean(fp)), fp.clone(), rng);
        s.node = node_id[v].clone();
        if s.node.is_none() {
            s.node = Some(main.to_string());
        }
        let cap = site_heat_pump_capacity_w(&s);
        hp_elec.push(cap / HEAT_PUMP_DESIGN_COP);
        let node = s.node.clone().expect("set above");
        plants.push(Plant::HeatPump {
            id: format!("hp_{id}"),
            node: node.clone(),
            site: id.clone(),
            capacity_w: cap,
            carnot_fraction: 0.5,
        });
        if !station_nodes.contains(&node) {
            plants.push(Plant::CirculationPump {
                id: format!("pump_{id}"),
                node,
                efficiency: 0.6,
                max_head_pa: head_at(v),
            });
        }
        s.footprint = s.footprint.iter().map(|p| rp(*p)).collect();
        sites.push(s);
    }
    (sites, hp_elec)
}

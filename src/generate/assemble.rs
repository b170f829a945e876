//! From a plan to a scene: the heat network on the streets, the stations and their plants, the
//! quantum sites with their heat pumps, the electrical grid.

use super::blocks::make_building;
use super::geometry::{P, VertexIndex, dist, lerp, mean, rp};
use super::grid::design_grid;
use super::network::{
    Forest, MIN_DN, boiler_capacity_w, design_pump_head_pa, friction_factor, main_station_plants,
    shortest_forest, smallest_dn_for, station_vertices,
};
use super::sizing::{
    HEAT_PUMP_DESIGN_COP, design_heat_load_w, random_site, site_heat_pump_capacity_w,
    temperate_climate,
};
use super::streets::{Plan, StreetEdge};
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

pub(super) fn assemble(plan: Plan, hdr: Header, rng: &mut ChaCha8Rng) -> Scene {
    let nv = plan.verts.len();
    let fluid = Fluid::default();
    let sim = SimSettings::default();
    let (t_supply, t_design, t_return, t_out) = (75.0, 90.0, 40.0, -12.0);
    let len_of = |e: &StreetEdge| dist(plan.verts[e.a], plan.verts[e.b]);

    // Street graph and shortest-path tree from the main station.
    let mut adj: Vec<Vec<(usize, usize)>> = vec![Vec::new(); nv];
    for (k, e) in plan.edges.iter().enumerate() {
        if e.a != e.b {
            adj[e.a].push((e.b, k));
            adj[e.b].push((e.a, k));
        }
    }
    let root = hdr.main_vertex;
    let (stations, offsets) = station_vertices(&plan, &adj, root);
    let mut station_of: Vec<Option<usize>> = vec![None; nv];
    for (k, &s) in stations.iter().enumerate() {
        station_of[s] = Some(k);
    }
    // Shortest-path forest from the stations: each intersection is fed by its nearest station.
    let Forest {
        parent,
        owner,
        order,
        done,
    } = shortest_forest(&plan, &adj, &stations, &offsets);

    // Buildings: loads and nearest reachable node on their own side.
    let index = VertexIndex::new(&plan.verts, &done, 80.0);
    let mut buildings: Vec<Building> = Vec::with_capacity(plan.buildings.len());
    let mut bvertex: Vec<usize> = Vec::with_capacity(plan.buildings.len());
    let width = plan.buildings.len().max(1).to_string().len().max(4);
    let mut own_flow = vec![0.0; nv];
    let mut own_use = vec![false; nv];
    let mut station_load = vec![0.0; stations.len()];
    for (k, (p, zone)) in plan.buildings.iter().enumerate() {
        let b = make_building(format!("b{:0width$}", k + 1), p, rng);
        let c = b.centre();
        let v = index
            .nearest(&plan.verts, c, |v| plan.vzone[v] == *zone)
            .or_else(|| index.nearest(&plan.verts, c, |_| true))
            .unwrap_or(root);
        let q = design_heat_load_w(&b, sim.indoor_setpoint_c, t_out);
        station_load[owner[v]] += q;
        own_flow[v] += q / (fluid.cp_j_kg_k * (t_design - t_return));
        own_use[v] = true;
        bvertex.push(v);
        buildings.push(b);
    }
    // Sites: nearest free node on their side.
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
    for &s in &stations {
        own_use[s] = true;
    }

    // Flows through the tree and pruning of dead ends.
    let mut flow = own_flow.clone();
    let mut keep = own_use.clone();
    for &v in order.iter().rev() {
        if let Some((u, _)) = parent[v] {
            flow[u] += flow[v];
            keep[u] |= keep[v];
        }
    }
    let dn_of_vertex = |v: usize| smallest_dn_for(flow[v], fluid.density_kg_m3);

    // Ties between the stations' trees (one network): street segments between two trees, the
    // pair of ends carrying the most flow first, joined Kruskal-wise; their ends and the paths
    // from there to the stations are kept.
    let mut ties: Vec<usize> = Vec::new();
    if stations.len() > 1 {
        let mut cross: Vec<(f64, usize)> = plan
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| e.a != e.b && done[e.a] && done[e.b] && owner[e.a] != owner[e.b])
            .map(|(k, e)| (flow[e.a].min(flow[e.b]), k))
            .collect();
        cross.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut dsu = validate::Dsu::new(stations.len());
        for &(_, k) in &cross {
            let e = &plan.edges[k];
            if dsu.union(owner[e.a], owner[e.b]) {
                ties.push(k);
                for end in [e.a, e.b] {
                    let mut v = end;
                    while !keep[v] {
                        keep[v] = true;
                        match parent[v] {
                            Some((u, _)) => v = u,
                            None => break,
                        }
                    }
                }
            }
        }
    }

    // Node ids in vertex order.
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
                pos: rp(plan.verts[v]),
                elevation_m: 0.0,
            });
            node_id[v] = Some(id);
        }
    }
    let nid = |v: usize| node_id[v].clone().expect("kept vertex has a node");

    let mut pipes: Vec<Pipe> = Vec::new();
    let mut pipe_dn: Vec<u32> = vec![0; nv]; // DN of the pipe from a vertex to its parent
    let mut in_tree = vec![false; plan.edges.len()];
    let np = (nv + 50).to_string().len().max(3);
    let insulation = |a: usize, b: usize, rng: &mut ChaCha8Rng| {
        if plan.vold[a] && plan.vold[b] && rng.random::<f64>() < 0.6 {
            PipeInsulation::Series(1)
        } else {
            PipeInsulation::Series(2)
        }
    };
    // Design pressure drop along the tree (per unit of one pipe, supply only).
    let mut dp_to = vec![0.0; nv];
    for &v in &order {
        let Some((u, e)) = parent[v] else { continue };
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
        pipes.push(Pipe {
            id: format!("p{:0np$}", pipes.len() + 1),
            from: nid(u),
            to: nid(v),
            length_m: None,
            size: PipeSize::Dn(dn),
            insulation: insulation(u, v, rng),
            roughness_m: 4.5e-5,
            burial_depth_m: 0.8,
            route: Vec::new(),
        });
    }
    // A station's DN: that of its largest pipe.
    let station_dn: Vec<u32> = stations
        .iter()
        .map(|&s| {
            (0..nv)
                .filter(|v| parent[*v].is_some_and(|(u, _)| u == s) && keep[*v])
                .map(|v| pipe_dn[v])
                .max()
                .unwrap_or(MIN_DN)
        })
        .collect();
    let dn_at = |v: usize| match station_of[v] {
        Some(k) => station_dn[k],
        None => pipe_dn[v],
    };
    let flow_at = |v: usize| flow[v];

    // Loop-closing pipes on the trunk, spread out.
    let mut cands: Vec<(f64, usize)> = plan
        .edges
        .iter()
        .enumerate()
        .filter(|(k, e)| {
            !in_tree[*k] && e.a != e.b && keep[e.a] && keep[e.b] && done[e.a] && done[e.b]
        })
        .map(|(k, e)| (flow_at(e.a).min(flow_at(e.b)), k))
        .collect();
    cands.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut loops: Vec<usize> = ties.clone();
    let n_loops = hdr.n_loops + ties.len();
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
    for &k in &loops {
        let e = &plan.edges[k];
        let dn = dn_at(e.a).min(dn_at(e.b)).max(MIN_DN);
        pipes.push(Pipe {
            id: format!("p{:0np$}", pipes.len() + 1),
            from: nid(e.a),
            to: nid(e.b),
            length_m: None,
            size: PipeSize::Dn(dn),
            insulation: insulation(e.a, e.b, rng),
            roughness_m: 4.5e-5,
            burial_depth_m: 0.8,
            route: Vec::new(),
        });
    }
    for (b, &v) in buildings.iter_mut().zip(&bvertex) {
        b.node = node_id[v].clone();
    }

    // Stations: the main one with the storage tank, then the others.
    let main = nid(root);
    let station_nodes: Vec<String> = stations.iter().map(|&s| nid(s)).collect();
    let dp_worst = dp_to.iter().copied().fold(0.0, f64::max);
    let min_dp = 5.0e4;
    let head = design_pump_head_pa(dp_worst, min_dp);
    let boiler_of = |k: usize| boiler_capacity_w(station_load[k]);
    let mut plants = main_station_plants(&main, station_load[0], head, &fluid, t_supply, t_return);
    for (k, node) in station_nodes.iter().enumerate().skip(1) {
        plants.push(Plant::GasBoiler {
            id: format!("boiler_main{}", k + 1),
            node: node.clone(),
            capacity_w: boiler_of(k),
            efficiency: 0.92,
        });
        plants.push(Plant::CirculationPump {
            id: format!("pump_main{}", k + 1),
            node: node.clone(),
            efficiency: 0.72,
            max_head_pa: head,
        });
    }

    // Quantum sites and their heat pumps.
    let mut sites = Vec::new();
    let mut hp_elec = Vec::new();
    for (k, ((fp, _), &v)) in plan.sites.iter().zip(&site_vertex).enumerate() {
        let id = format!("q{}", k + 1);
        let mut s = random_site(&id, rp(mean(fp)), fp.clone(), rng);
        s.node = node_id[v].clone();
        if s.node.is_none() {
            s.node = Some(main.clone());
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
                max_head_pa: head,
            });
        }
        s.footprint = s.footprint.iter().map(|p| rp(*p)).collect();
        sites.push(s);
    }

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
        fluid,
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
        failures: Vec::new(),
        georef: None,
    }
}

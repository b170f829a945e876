//! The heat network's shape as compact arrays, built once from the scene: nodes, pipes, their
//! sizes and heat-loss coefficients, the water's properties, connected parts, the spanning tree
//! from each part's reference node and the fundamental loops. Every domain of the network
//! (demand's substations, quantum sites' taps, plants, hydraulics, thermal) reads it; it sits below
//! them all.
//!
//! Two per-tick **hooks** live here because several domains read them and the faults domain sets
//! them: [`Network::pipe_resistance_factor`] (closed valves) and [`Network::node_leak_kg_s`]
//! (leaks).
//!
//! Units: m, kg, kg/m³, Pa·s, J/(kg·K), W/(m·K).

pub mod partition;

use std::collections::BTreeMap;

use bevy::prelude::*;

use crate::scene::{Plant, Scene};

/// The static shape of the heat network as compact arrays, built once from the scene.
#[derive(Resource, Debug, Clone)]
pub struct Network {
    pub node_ids: Vec<String>,
    pub node_pos: Vec<[f64; 2]>,
    pub node_elevation_m: Vec<f64>,
    pub pipe_ids: Vec<String>,
    pub pipe_from: Vec<u32>,
    pub pipe_to: Vec<u32>,
    pub pipe_length_m: Vec<f64>,
    pub pipe_diameter_m: Vec<f64>,
    pub pipe_roughness_m: Vec<f64>,
    /// Linear heat-loss coefficient, W/(m·K).
    pub pipe_loss_w_mk: Vec<f64>,
    /// Multiplies each pipe's pressure drop (1: as built; hydraulics' `CLOSED_VALVE_FACTOR`: its valves are
    /// closed). Set by the faults domain from the operator's valve positions.
    pipe_resistance_factor: Vec<f64>,
    /// Water leaving the supply network through leaks at each node, kg/s (a hook: set by the
    /// faults domain before the plants' dispatch; the reference station makes it up).
    node_leak_kg_s: Vec<f64>,
    /// Water held by each supply pipe, kg (for temperature-dependent water: at the supply
    /// set-point's density; else the fixed density).
    pub pipe_mass_kg: Vec<f64>,
    /// Water held by each return pipe, kg (at the design return temperature's density).
    pub pipe_return_mass_kg: Vec<f64>,
    /// Depth of each pipe's axis, m, as an index into [`Self::burial_depths_m`].
    pub pipe_depth_index: Vec<u32>,
    /// The distinct burial depths, ascending ([`Scene::burial_depths_m`]).
    pub burial_depths_m: Vec<f64>,
    /// The one density, viscosity and heat capacity of the water where one is needed
    /// ([`Scene::density_kg_m3`], [`Scene::viscosity_pa_s`], [`Scene::heat_capacity_j_kg_k`]; the
    /// heat balance's c_p).
    pub density_kg_m3: f64,
    pub viscosity_pa_s: f64,
    pub cp_j_kg_k: f64,
    /// Whether the water's density and viscosity follow its temperature in each pipe
    /// (`FluidProperties::WaterIf97`), and the temperatures the pipes' water masses are taken at,
    /// °C (supply set-point, design return).
    pub temperature_dependent: bool,
    pub supply_design_temp_c: f64,
    pub return_design_temp_c: f64,
    /// Connected part of each node.
    pub component: Vec<u32>,
    /// The reference (slack) node of each part, if the part has a heat source.
    pub component_root: Vec<Option<u32>>,
    /// Nodes in breadth-first order from each part's root (roots first).
    pub bfs_order: Vec<u32>,
    /// Tree parent of each node (u32::MAX for a root).
    pub parent: Vec<u32>,
    pub parent_pipe: Vec<u32>,
    /// +1 when the parent pipe runs parent→node in its from→to sense, −1 otherwise.
    pub parent_sign: Vec<f64>,
    /// Fundamental loops: (pipe, sign of the pipe along the loop's orientation).
    pub loops: Vec<Vec<(u32, f64)>>,
    /// For each pipe, the loops it belongs to, with its sign in each.
    pub pipe_loops: Vec<Vec<(u32, f64)>>,
    /// Where each part's nodes begin in [`Network::bfs_order`] (one more entry than parts: part
    /// `c` is `bfs_order[bfs_part_start[c]..bfs_part_start[c + 1]]`; the parts' breadth-first
    /// searches run one after the other, in part order).
    pub bfs_part_start: Vec<u32>,
    /// The pipes on at least one loop, in index order.
    pub loop_pipes: Vec<u32>,
    pub node_index: BTreeMap<String, u32>,
}

impl Network {
    /// Multiplier of each pipe's pressure drop (1: as built; large: its valves are closed).
    pub fn pipe_resistance_factor(&self) -> &[f64] {
        &self.pipe_resistance_factor
    }

    /// Water leaving the supply network through leaks at each node this tick, kg/s.
    pub fn node_leak_kg_s(&self) -> &[f64] {
        &self.node_leak_kg_s
    }

    /// Hook for the faults domain: pipe `k`'s valves open (factor 1) or closed (its pressure drop
    /// times `closed_factor`).
    pub fn set_valves_open(&mut self, k: usize, open: bool, closed_factor: f64) {
        self.pipe_resistance_factor[k] = if open { 1.0 } else { closed_factor };
    }

    /// Hook for the faults domain: no leaks (called before this tick's leaks are added).
    pub fn clear_leaks(&mut self) {
        self.node_leak_kg_s.iter_mut().for_each(|x| *x = 0.0);
    }

    /// Hook for the faults domain: `kg_s` more water leaves the supply network at `node`.
    pub fn add_leak(&mut self, node: usize, kg_s: f64) {
        self.node_leak_kg_s[node] += kg_s;
    }

    /// Pipes' insulation changed (a what-if edit on a running world): every pipe's heat-loss
    /// coefficient follows the scene.
    pub fn refresh_pipe_losses(&mut self, scene: &Scene) {
        let fresh = Network::from_scene(scene);
        if fresh.pipe_ids == self.pipe_ids {
            self.pipe_loss_w_mk = fresh.pipe_loss_w_mk;
        }
    }

    pub fn from_scene(scene: &Scene) -> Self {
        let net = &scene.heat_network;
        let n = net.nodes.len();
        let node_index: BTreeMap<String, u32> = net
            .nodes
            .iter()
            .enumerate()
            .map(|(i, nd)| (nd.id.clone(), i as u32))
            .collect();
        let temperature_dependent = !scene.fluid.properties.is_fixed();
        let rho = scene.density_kg_m3();
        // The pipes' water masses: each side at its own design temperature.
        let (rho_s, rho_r) = if temperature_dependent {
            (
                crate::water::density_kg_m3(net.supply_temp_c),
                crate::water::density_kg_m3(net.return_temp_c),
            )
        } else {
            (rho, rho)
        };
        let burial_depths_m = scene.burial_depths_m();
        let mut s = Network {
            node_ids: net.nodes.iter().map(|n| n.id.clone()).collect(),
            node_pos: net.nodes.iter().map(|n| n.pos).collect(),
            node_elevation_m: net.nodes.iter().map(|n| n.elevation_m).collect(),
            pipe_ids: Vec::new(),
            pipe_from: Vec::new(),
            pipe_to: Vec::new(),
            pipe_length_m: Vec::new(),
            pipe_diameter_m: Vec::new(),
            pipe_roughness_m: Vec::new(),
            pipe_loss_w_mk: Vec::new(),
            pipe_resistance_factor: Vec::new(),
            node_leak_kg_s: vec![0.0; n],
            pipe_mass_kg: Vec::new(),
            pipe_return_mass_kg: Vec::new(),
            pipe_depth_index: Vec::new(),
            burial_depths_m,
            density_kg_m3: rho,
            viscosity_pa_s: scene.viscosity_pa_s(),
            cp_j_kg_k: scene.heat_capacity_j_kg_k(),
            temperature_dependent,
            supply_design_temp_c: net.supply_temp_c,
            return_design_temp_c: net.return_temp_c,
            component: vec![u32::MAX; n],
            component_root: Vec::new(),
            bfs_order: Vec::with_capacity(n),
            parent: vec![u32::MAX; n],
            parent_pipe: vec![u32::MAX; n],
            parent_sign: vec![0.0; n],
            loops: Vec::new(),
            pipe_loops: Vec::new(),
            bfs_part_start: Vec::new(),
            loop_pipes: Vec::new(),
            node_index,
        };
        let positions = scene.node_positions();
        for p in &net.pipes {
            let (Some(&a), Some(&b)) = (s.node_index.get(&p.from), s.node_index.get(&p.to)) else {
                continue; // an invalid scene: validation reports it
            };
            if a == b {
                continue;
            }
            let d = p.inner_diameter_m().unwrap_or(0.1);
            let l = Scene::pipe_length_m(&positions, p).unwrap_or(1.0).max(1e-3);
            s.pipe_ids.push(p.id.clone());
            s.pipe_from.push(a);
            s.pipe_to.push(b);
            s.pipe_length_m.push(l);
            s.pipe_diameter_m.push(d);
            s.pipe_roughness_m.push(p.roughness_m);
            s.pipe_loss_w_mk.push(p.linear_loss_w_mk().unwrap_or(0.0));
            s.pipe_resistance_factor.push(1.0);
            s.pipe_mass_kg
                .push(rho_s * std::f64::consts::PI * 0.25 * d * d * l);
            s.pipe_return_mass_kg
                .push(rho_r * std::f64::consts::PI * 0.25 * d * d * l);
            let depth = s
                .burial_depths_m
                .binary_search_by(|x| x.total_cmp(&p.burial_depth_m))
                .unwrap_or(0);
            s.pipe_depth_index.push(depth as u32);
        }
        s.pipe_loops = vec![Vec::new(); s.pipe_ids.len()];

        // Roots: the node of the strongest heat source of each part is found after the parts are
        // known; first label the parts.
        let mut adj: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
        for (k, (&a, &b)) in s.pipe_from.iter().zip(&s.pipe_to).enumerate() {
            adj[a as usize].push((b, k as u32));
            adj[b as usize].push((a, k as u32));
        }
        let mut ncomp = 0u32;
        for start in 0..n {
            if s.component[start] != u32::MAX {
                continue;
            }
            let mut stack = vec![start as u32];
            s.component[start] = ncomp;
            while let Some(u) = stack.pop() {
                for &(v, _) in &adj[u as usize] {
                    if s.component[v as usize] == u32::MAX {
                        s.component[v as usize] = ncomp;
                        stack.push(v);
                    }
                }
            }
            ncomp += 1;
        }
        // Rank of a plant as reference: fixed source > boiler > heat pump, then capacity.
        let mut best: Vec<Option<(u8, f64, u32)>> = vec![None; ncomp as usize];
        for p in &scene.plants {
            let Some(&node) = s.node_index.get(p.node()) else {
                continue;
            };
            let rank = match p {
                Plant::FixedSource { .. } => (3u8, f64::INFINITY),
                Plant::GasBoiler { capacity_w, .. } => (2, *capacity_w),
                Plant::HeatPump { capacity_w, .. } => (1, *capacity_w),
                _ => continue,
            };
            let c = s.component[node as usize] as usize;
            let better = match best[c] {
                None => true,
                Some((r, cap, _)) => (rank.0, rank.1) > (r, cap),
            };
            if better {
                best[c] = Some((rank.0, rank.1, node));
            }
        }
        s.component_root = best.iter().map(|b| b.map(|x| x.2)).collect();

        // Spanning trees by BFS from each root (parts without a source get an arbitrary root so
        // every node has an order; their flows stay zero).
        let mut visited = vec![false; n];
        let mut in_tree = vec![false; s.pipe_ids.len()];
        let mut roots: Vec<u32> = Vec::new();
        for c in 0..ncomp as usize {
            let r = s.component_root[c].unwrap_or_else(|| {
                s.component.iter().position(|&x| x as usize == c).unwrap() as u32
            });
            roots.push(r);
        }
        let mut depth = vec![0u32; n];
        for &r in &roots {
            let mut queue = std::collections::VecDeque::from([r]);
            visited[r as usize] = true;
            while let Some(u) = queue.pop_front() {
                s.bfs_order.push(u);
                for &(v, k) in &adj[u as usize] {
                    if !visited[v as usize] {
                        visited[v as usize] = true;
                        in_tree[k as usize] = true;
                        s.parent[v as usize] = u;
                        s.parent_pipe[v as usize] = k;
                        s.parent_sign[v as usize] = if s.pipe_from[k as usize] == u {
                            1.0
                        } else {
                            -1.0
                        };
                        depth[v as usize] = depth[u as usize] + 1;
                        queue.push_back(v);
                    }
                }
            }
        }
        // Fundamental loops: chord u→v, then the tree path v → LCA → u.
        for k in (0..s.pipe_ids.len()).filter(|&k| !in_tree[k]) {
            let (u, v) = (s.pipe_from[k], s.pipe_to[k]);
            let mut lp = vec![(k as u32, 1.0)];
            // Walk up from v (loop goes v → parent: against the parent→v orientation) and from u
            // (loop arrives at u from its parent: along parent→u) until they meet.
            let (mut a, mut b) = (v, u);
            let mut tail: Vec<(u32, f64)> = Vec::new();
            while a != b {
                if depth[a as usize] >= depth[b as usize] {
                    lp.push((s.parent_pipe[a as usize], -s.parent_sign[a as usize]));
                    a = s.parent[a as usize];
                } else {
                    tail.push((s.parent_pipe[b as usize], s.parent_sign[b as usize]));
                    b = s.parent[b as usize];
                }
            }
            lp.extend(tail.into_iter().rev());
            let li = s.loops.len() as u32;
            for &(p, sg) in &lp {
                s.pipe_loops[p as usize].push((li, sg));
            }
            s.loops.push(lp);
        }
        s.loop_pipes = (0..s.pipe_ids.len() as u32)
            .filter(|&k| !s.pipe_loops[k as usize].is_empty())
            .collect();
        // Each root's search took exactly its part's nodes (a part is its root's connected set).
        s.bfs_part_start = vec![0];
        for c in 0..roots.len() {
            let start = *s.bfs_part_start.last().unwrap() as usize;
            let end = s.bfs_order[start..]
                .iter()
                .position(|&u| s.component[u as usize] as usize != c)
                .map_or(s.bfs_order.len(), |i| start + i);
            s.bfs_part_start.push(end as u32);
        }
        debug_assert_eq!(
            *s.bfs_part_start.last().unwrap() as usize,
            s.bfs_order.len(),
            "every part's nodes follow the part before"
        );
        s
    }

    pub fn node_count(&self) -> usize {
        self.node_ids.len()
    }
    pub fn pipe_count(&self) -> usize {
        self.pipe_ids.len()
    }
    pub fn node(&self, id: &str) -> Option<u32> {
        self.node_index.get(id).copied()
    }
    /// Whether a node's part of the network has a heat source.
    pub fn is_supplied(&self, node: u32) -> bool {
        self.component_root[self.component[node as usize] as usize].is_some()
    }
    /// Reference (slack) node of a node's part.
    pub fn root_of(&self, node: u32) -> Option<u32> {
        self.component_root[self.component[node as usize] as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parts' ranges of the breadth-first order hold exactly each part's nodes, root first,
    /// and the loop pipes are the pipes with a loop, in index order (what the hydraulic passes per
    /// part and the loop solve rely on).
    #[test]
    fn parts_ranges_and_loop_pipes_match_the_topology() {
        let scene = crate::generate::generate_city(&crate::generate::GenerateOptions {
            buildings: 10_000,
            sites: 5,
            seed: 1,
        });
        let net = Network::from_scene(&scene);
        let nparts = net.component_root.len();
        assert!(nparts >= 2, "{nparts} parts");
        assert_eq!(net.bfs_part_start.len(), nparts + 1);
        assert_eq!(net.bfs_part_start[nparts] as usize, net.node_count());
        for c in 0..nparts {
            let nodes =
                &net.bfs_order[net.bfs_part_start[c] as usize..net.bfs_part_start[c + 1] as usize];
            let in_part = net.component.iter().filter(|&&x| x as usize == c).count();
            assert_eq!(nodes.len(), in_part, "part {c}");
            assert!(
                nodes
                    .iter()
                    .all(|&u| net.component[u as usize] as usize == c)
            );
            assert_eq!(
                net.parent[nodes[0] as usize],
                u32::MAX,
                "part {c} starts at its root"
            );
        }
        let with_loops: Vec<u32> = (0..net.pipe_count() as u32)
            .filter(|&k| !net.pipe_loops[k as usize].is_empty())
            .collect();
        assert!(!with_loops.is_empty());
        assert_eq!(net.loop_pipes, with_loops);
    }
}

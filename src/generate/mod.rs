//! Procedural cities: `qtwin generate` ([`generate_city`]) and the shipped demo district
//! ([`riverside`]).
//!
//! Everything here is deterministic: the only randomness is a `ChaCha8Rng` seeded from the scene's
//! seed and `noise` Perlin/fBm fields seeded from it, and nothing iterates a hash map, so the same
//! options give a byte-identical RON file.
//!
//! # Street layout
//! A city is made of *patches*: grids of street lines whose intersections are moved by a smooth
//! fBm warp (gently curving streets and slowly rotating blocks) and a small per-vertex jitter, with
//! block sizes drawn per line (smaller blocks in the centre, as in a grown European town). The
//! generator uses one patch and takes blocks in order of a noisy distance from the centre until it
//! has the buildings it was asked for, so the edge of the city is ragged and every block touches one
//! taken before (the street graph is connected). The radius fraction reached so far picks the
//! block's style: perimeter blocks of 4–7 floors with L-shaped corner houses in the old centre,
//! lower perimeter blocks and apartment slabs around it, slabs of 2–4 floors further out, detached
//! houses of 1–3 floors at the edge, an industrial quarter on the side of the main station, parks
//! (about 6 % of blocks), schools and hospitals. Footprints are laid out in each block's own
//! frame (along its four streets, behind a pavement) and mapped onto the block's quadrilateral, so
//! every building is turned to its street and none overlaps a street or another building.
//! [`riverside`] builds two patches on the banks of a curving river, joined by two bridges.
//!
//! # Heat network
//! Nodes stand at street intersections; pipes follow street segments (twin pipes, see [`crate::scene`]).
//! Every building is connected to the nearest node on its side of the river. The network starts
//! as the shortest-path tree of the street graph from the main station at the edge (arterials
//! counted 30 % shorter, so the trunks follow them), with the intersections that serve nothing
//! and lead nowhere pruned. A city whose design load exceeds what one station's DN400 trunk
//! carries ([`crate::hydraulics::sizing::station_capacity_w`], about 37 MW at 90/40 °C) gets several
//! gas-boiler stations, the way large cities are fed by several heat-only boiler plants: the tree
//! is cut into parts within that capacity whose paths drop at most 3 bar at design
//! ([`crate::network::partition`], the heaviest branch first, then the one with the largest drop;
//! [`crate::hydraulics::sizing::MAX_PATH_DP_PA`]), the main station keeps its part, every other part gets a station at its
//! load-weighted median, and **each part is its own network** (its own boiler, pump set and
//! pressure holding; no pipe joins two stations' networks): 100,000 buildings get 148 stations
//! with pumps of at most 12.5 bar instead of one network whose pumps would need hundreds of bar. The networks get
//! `min(40, 3 + buildings/250)` loop-closing pipes in all: the street segments off the forest
//! whose two ends carry the most flow (the trunk) and belong to the same station's network, kept
//! at least 180 m apart (more in a large city), the way real networks mesh their trunks for
//! supply security while distribution stays branched (which keeps the hydraulic solver fast).
//!
//! # Sizing
//! * Design heat load of a building ([`design_heat_load_w`]): heat-loss coefficient × (indoor set
//!   point − design outdoor temperature) + hot water. The coefficient is the energy class's
//!   W/(m²·K) ([`ENERGY_CLASS_W_M2K`], transmission + ventilation per m² of heated floor) × heated
//!   area. Hot water adds twice its mean power, the mean following from `hot_water_share` of the
//!   annual heat, with the annual space heat taken as the coefficient × 3,600 K·d (the G20/15
//!   heating degree days of Hamburg, DWD; the monthly climate below gives 3,630 K·d).
//! * Pipes: each building's design mass flow `Q / (c_p (T_supply,design − T_return))` (90/40 °C)
//!   is summed through the forest toward its station (the quantum sites' heat pumps are
//!   small and left out); each pipe gets the smallest DN of [`DN_TABLE`] (at least DN32) whose
//!   velocity stays ≤ 1.5 m/s (ρ = 977.8 kg/m³), the usual design limit for distribution pipes
//!   (e.g. Frederiksen & Werner, *District Heating and Cooling*, 2013, ch. 5); DN600 where even
//!   that is exceeded: the crate's one sizing rule,
//!   [`crate::hydraulics::sizing::smallest_dn_for`]. A loop-closing pipe takes the smaller DN of
//!   the pipes at its ends. EN 253 series 2 insulation (series 1 for part of the old
//!   centre), 0.8 m cover.
//! * Stations: a gas boiler of 1.1 × the sum of the design loads of the buildings the station
//!   feeds and a pump set whose head is 1.3 × (the design pressure drop of the worst path in its
//!   own network, supply and return, by Darcy–Weisbach with the solver's friction factor
//!   ([`crate::hydraulics::solver::friction_factor`]), plus the smallest substation differential
//!   pressure) + 0.5 bar for the station itself, within 3–25 bar; the main station (`boiler_main`,
//!   `pump_main`; the others `boiler_main2`, `pump_main2`, …) also has a storage tank holding one
//!   hour of a quarter of its feed at 75/40 °C.
//! * Quantum sites ("micro quantum data centres", hybrid quantum–classical): 100–400 qubits, 2–4
//!   dilution refrigerators with ~12.5 kW pulse-tube compressors (25–50 kW; Bluefors/Cryomech
//!   data), 40–80 W of room-temperature control electronics per qubit, 150–600 kW of co-located
//!   classical servers, 75–85 % of the heat recovered to 30–40 °C water (liquid-cooled racks and
//!   compressor water circuits). Each is a station with a heat pump of capacity = recoverable heat
//!   × COP/(COP − 1) at COP 3.5, rounded up to 10 kW, and a small pump set.
//! * Grid: one bus per district of 50–150 buildings (recursive median split) plus the substation
//!   bus next to the main station; radial feeders along a minimum spanning tree from the
//!   substation, each rated 1.5 × the peak electrical load it carries (buildings 10–25 W/m² of
//!   heated area by use, sites at full power, heat pumps' electricity at COP 3.5). PV on a share
//!   of roofs at 150 W/m² on 40 % of the roof, 1–3 wind turbines of 2–3 MW outside the city, one
//!   battery at the substation, and a grid connection with an hourly carbon intensity of a
//!   northern European grid (lowest at midday solar, highest in the evening peak, dirtier in
//!   winter).
//! * Climate: Hamburg-like monthly means (DWD 1991–2020: temperature, daily swing, global
//!   irradiation, 10 m wind).

mod assemble;
mod blocks;
mod geometry;
mod grid;
mod network;
mod riverside;
mod sizing;
mod streets;

pub use geometry::polyline_distance;
pub(crate) use grid::design_grid;
pub(crate) use network::{
    boiler_capacity_w, design_pump_head_pa, main_station_plants, satellite_station_plants,
};
pub use riverside::riverside;
pub use sizing::{
    ABSORPTION_COP, DESIGN_HEATING_DEGREE_DAYS_K_D, ENERGY_CLASS_W_M2K, HEAT_PUMP_DESIGN_COP,
    HOT_WATER_PEAK_FACTOR, design_heat_load_w, energy_class_w_m2k, heat_loss_coefficient_w_k,
    site_full_power_w, site_recoverable_heat_w, temperate_climate,
};
pub(crate) use sizing::{random_site, site_heat_pump_capacity_w};

use crate::math::Det;
use crate::scene::*;
use assemble::{Header, assemble};
use blocks::{Proto, Style, Zone, fill_block};
use geometry::{P, add, mean, mul, norm, rp};
use noise::{Fbm, MultiFractal, NoiseFn, Perlin};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use streets::{Patch, Plan, site_capable, spread_choice, take_site_building};

/// What `qtwin generate` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Number of (heated) buildings.
    pub buildings: usize,
    /// Number of micro quantum sites.
    pub sites: usize,
    /// Seed of every random choice (and stored as the scene's seed).
    pub seed: u64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            buildings: 500,
            sites: 3,
            seed: 1,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The generator's layout

/// Generates a city of `opts.buildings` buildings and `opts.sites` quantum sites.
pub fn generate_city(opts: &GenerateOptions) -> Scene {
    let n = opts.buildings;
    let m = opts.sites;
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let seed32 = (opts.seed ^ (opts.seed >> 32)) as u32;
    let warp = Fbm::<Perlin>::new(seed32).set_octaves(2);
    let ragged = Perlin::new(seed32.wrapping_add(17));

    // Grid large enough for ~11 buildings a block and some parks, with margin.
    let blocks_est = (n + m) as f64 / 11.0 / 0.92 + 4.0;
    let r_est = (blocks_est * 100.0 * 80.0 / std::f64::consts::PI).sqrt();
    let half = 1.6 * r_est + 250.0;
    let lines = |lo: f64, hi: f64, rng: &mut ChaCha8Rng| -> Vec<f64> {
        let scale = |x: f64| 0.7 + 0.3 * (x.abs() / r_est).min(1.0);
        let mut pos = vec![0.0];
        let mut x = 0.0;
        while x < half {
            x += rng.random_range(lo..hi) * scale(x);
            pos.push(x);
        }
        let mut neg = Vec::new();
        let mut x = 0.0;
        while x > -half {
            x -= rng.random_range(lo..hi) * scale(x);
            neg.push(x);
        }
        neg.reverse();
        neg.extend(pos);
        neg
    };
    let xs = lines(85.0, 135.0, &mut rng);
    let ys = lines(65.0, 100.0, &mut rng);
    let (ni, nj) = (xs.len(), ys.len());
    let i0 = xs.iter().position(|x| *x == 0.0).unwrap_or(ni / 2);
    let j0 = ys.iter().position(|y| *y == 0.0).unwrap_or(nj / 2);
    let theta: f64 = rng.random_range(-0.35..0.35);
    let (st, ct) = theta.sin_cos_d();
    let mut pos = Vec::with_capacity(ni * nj);
    for &y in &ys {
        for &x in &xs {
            let wx = 35.0 * warp.get([x / 900.0 + 0.31, y / 900.0 + 0.77]);
            let wy = 35.0 * warp.get([x / 900.0 + 5.13, y / 900.0 + 2.29]);
            let jx = rng.random_range(-5.0..5.0);
            let jy = rng.random_range(-5.0..5.0);
            let (px, py) = (x + wx + jx, y + wy + jy);
            pos.push([px * ct - py * st, px * st + py * ct]);
        }
    }
    let arterial = |k: usize, k0: usize| k.abs_diff(k0).is_multiple_of(5);
    let col_w: Vec<f64> = (0..ni)
        .map(|i| if arterial(i, i0) { 18.0 } else { 11.0 })
        .collect();
    let row_w: Vec<f64> = (0..nj)
        .map(|j| if arterial(j, j0) { 18.0 } else { 11.0 })
        .collect();
    let mut patch = Patch::new(ni, nj, pos, col_w, row_w, 0);

    // Blocks in order of a noisy distance from the centre.
    let mut order: Vec<(f64, usize, usize)> = Vec::new();
    for j in 0..nj - 1 {
        for i in 0..ni - 1 {
            let c = mean(&patch.quad(i, j));
            let k = 1.0 / (0.6 * r_est + 300.0);
            let d = norm(c) * (1.0 + 0.22 * ragged.get([c[0] * k + 0.5, c[1] * k + 0.5]));
            order.push((d, i, j));
        }
    }
    order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));

    let station_angle: f64 = rng.random_range(0.0..std::f64::consts::TAU);
    let station_dir = [station_angle.cos_d(), station_angle.sin_d()];
    let target = n + m;
    let n_schools = if n >= 150 { (n / 1000).max(1) } else { 0 };
    let n_hospitals = if n >= 4000 {
        2
    } else if n >= 300 {
        1
    } else {
        0
    };
    let (mut schools, mut hospitals) = (0usize, 0usize);
    let mut used_vert = vec![false; ni * nj];
    let mut count = 0usize;
    let mut chosen: Vec<(usize, usize, Style, Vec<Proto>)> = Vec::new();
    for &(_, i, j) in &order {
        if count >= target && !chosen.is_empty() {
            break;
        }
        let corners = [
            patch.v(i, j),
            patch.v(i + 1, j),
            patch.v(i + 1, j + 1),
            patch.v(i, j + 1),
        ];
        if !chosen.is_empty() && !corners.iter().any(|v| used_vert[*v]) {
            continue;
        }
        let rel = (count as f64 / target as f64).sqrt();
        let q = patch.quad(i, j);
        let c = mean(&q);
        let toward_station = {
            let l = norm(c).max(1.0);
            (c[0] * station_dir[0] + c[1] * station_dir[1]) / l > 0.75
        };
        let x: f64 = rng.random();
        let style = if chosen.len() > 1 && rel > 0.1 && x < 0.06 {
            Style::Park
        } else if hospitals < n_hospitals && rel > 0.3 + 0.35 * hospitals as f64 {
            hospitals += 1;
            Style::Hospital
        } else if schools < n_schools && rel > 0.3 + 0.6 * (schools as f64 + 0.5) / n_schools as f64
        {
            schools += 1;
            Style::School
        } else if rel > 0.72 && toward_station && x < 0.7 {
            Style::Industrial
        } else if rel < 0.35 {
            Style::Perimeter {
                zone: Zone::Old,
                front: (11.0, 24.0),
                depth: rng.random_range(11.5..14.0),
                floors: (4, 7),
            }
        } else if rel < 0.6 {
            if x < 0.1 {
                Style::Offices { floors: (4, 8) }
            } else if x < 0.55 {
                Style::Perimeter {
                    zone: Zone::Inner,
                    front: (14.0, 30.0),
                    depth: rng.random_range(11.0..13.0),
                    floors: (3, 5),
                }
            } else {
                Style::Slabs {
                    zone: Zone::Inner,
                    floors: (3, 6),
                }
            }
        } else if rel < 0.8 {
            Style::Slabs {
                zone: Zone::Modern,
                floors: (2, 4),
            }
        } else {
            Style::Houses { floors: (1, 3) }
        };
        let (mut protos, park) = fill_block(&q, patch.widths(i, j), style, &mut rng);
        if let Some(poly) = park {
            patch.map_park(poly);
        } else if protos.is_empty() {
            continue;
        }
        for p in &mut protos {
            if p.use_ == BuildingUse::Residential
                && p.zone == Zone::Suburb
                && p.floors == 3
                && rng.random::<f64>() < 0.6
            {
                p.floors = 2;
            }
        }
        for v in corners {
            used_vert[v] = true;
        }
        count += protos.len();
        let b = patch.b(i, j);
        patch.used[b] = true;
        patch.old[b] = matches!(
            style,
            Style::Perimeter {
                zone: Zone::Old,
                ..
            }
        );
        chosen.push((i, j, style, protos));
    }

    // Main station: the city's outermost intersection toward the station side.
    let main_pos = (0..ni * nj)
        .filter(|v| used_vert[*v])
        .map(|v| patch.pos[v])
        .max_by(|a, b| {
            (a[0] * station_dir[0] + a[1] * station_dir[1])
                .total_cmp(&(b[0] * station_dir[0] + b[1] * station_dir[1]))
        })
        .unwrap_or([0.0, 0.0]);

    // Quantum sites, spread over the city, in converted buildings.
    let cands: Vec<(P, usize)> = chosen
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.3.iter().any(site_capable) && !matches!(c.2, Style::Hospital | Style::School)
        })
        .map(|(k, c)| (mean(&patch.quad(c.0, c.1)), k))
        .collect();
    let mut plan = Plan::default();
    for ci in spread_choice(&cands, m, [0.0, 0.0], main_pos) {
        let (c, k) = cands[ci];
        if let Some(fp) = take_site_building(&mut chosen[k].3, c) {
            plan.sites.push((fp, 0));
        }
    }
    // A small town with many sites: more than one site to a block.
    'more: for &(c, k) in cands.iter().cycle().take(cands.len() * m) {
        if plan.sites.len() >= m {
            break 'more;
        }
        if let Some(fp) = take_site_building(&mut chosen[k].3, c) {
            plan.sites.push((fp, 0));
        }
    }
    // Exactly n buildings: drop the surplus from the outermost blocks.
    let mut total: usize = chosen.iter().map(|c| c.3.len()).sum();
    for c in chosen.iter_mut().rev() {
        while total > n && !c.3.is_empty() {
            c.3.pop();
            total -= 1;
        }
    }
    let gid = plan.add_patch(&patch);
    plan.map.append(&mut patch.parks);
    for c in &chosen {
        for p in &c.3 {
            plan.buildings.push((p.clone(), 0));
        }
    }
    let main_vertex = gid[(0..ni * nj)
        .filter(|v| gid[*v].is_some())
        .max_by(|a, b| {
            let pa = patch.pos[*a];
            let pb = patch.pos[*b];
            (pa[0] * station_dir[0] + pa[1] * station_dir[1])
                .total_cmp(&(pb[0] * station_dir[0] + pb[1] * station_dir[1]))
                .then(b.cmp(a))
        })
        .unwrap_or(0)]
    .unwrap_or(0);

    // Wind turbines in the fields beyond the city, to the side of the main station.
    let city_r = plan.verts.iter().map(|p| norm(*p)).fold(0.0, f64::max);
    let n_wind = 1 + usize::from(n >= 300) + usize::from(n >= 3000);
    let wdir = [-station_dir[1], station_dir[0]];
    let wind_pos: Vec<P> = (0..n_wind)
        .map(|k| {
            let base = mul(wdir, city_r + 700.0);
            rp(add(
                base,
                mul(
                    station_dir,
                    (k as f64 - 0.5 * (n_wind as f64 - 1.0)) * 450.0,
                ),
            ))
        })
        .collect();

    let mut scene = assemble(
        plan,
        Header {
            name: format!(
                "Generated city ({n} buildings, {m} sites, seed {})",
                opts.seed
            ),
            description: String::new(),
            seed: opts.seed,
            main_vertex,
            wind_pos,
            n_loops: (3 + n / 250).min(40),
            force_loops: Vec::new(),
        },
        &mut rng,
    );
    let stations = scene
        .plants
        .iter()
        .filter(|p| matches!(p, Plant::GasBoiler { .. }))
        .count();
    scene.description = format!(
        "A procedurally generated temperate city of {n} buildings around a noisy street grid, \
         heated by {stations} and {m} micro \
         quantum data centres whose waste heat feeds heat pumps. Generated by `qtwin generate \
         --buildings {n} --sites {m} --seed {}`.",
        opts.seed,
        stations = match stations {
            1 => "a district-heating network with a gas-boiler main station".to_string(),
            k => format!(
                "{k} district-heating networks, each fed by its own gas-boiler station (the main \
                 one with a storage tank),"
            ),
        },
    );
    scene
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::hydraulics::sizing::MAX_DESIGN_VELOCITY_M_S;

    /// Independent loops of a scene's heat network (pipes + components − nodes).
    pub(super) fn independent_loops(s: &Scene) -> usize {
        let net = &s.heat_network;
        let idx: HashMap<&str, usize> = net
            .nodes
            .iter()
            .enumerate()
            .map(|(k, n)| (n.id.as_str(), k))
            .collect();
        let mut dsu = validate::Dsu::new(net.nodes.len());
        let mut components = net.nodes.len();
        for p in &net.pipes {
            if dsu.union(idx[p.from.as_str()], idx[p.to.as_str()]) {
                components -= 1;
            }
        }
        net.pipes.len() + components - net.nodes.len()
    }

    /// Design velocity of each pipe of the stations' forest, m/s, computed as the sizing does:
    /// each building's design mass flow summed toward its station through the forest (the first
    /// `nodes − stations` pipes, each from a parent to a child, parents first).
    fn tree_velocities(s: &Scene) -> Vec<(String, f64)> {
        let net = &s.heat_network;
        let t_design = net
            .supply_temp_at_design_c
            .expect("design supply temperature");
        let mut flow: HashMap<&str, f64> = HashMap::new();
        for b in &s.buildings {
            let q = design_heat_load_w(b, s.sim.indoor_setpoint_c, net.design_outdoor_temp_c);
            *flow
                .entry(b.node.as_deref().expect("connected"))
                .or_default() += q / (s.fluid.cp_j_kg_k * (t_design - net.return_temp_c));
        }
        let stations = s
            .plants
            .iter()
            .filter(|p| matches!(p, Plant::GasBoiler { .. }))
            .count();
        let tree = &net.pipes[..net.nodes.len() - stations];
        let mut children = std::collections::HashSet::new();
        let mut out = Vec::new();
        for p in tree.iter().rev() {
            assert!(children.insert(p.to.as_str()), "{}: second parent", p.to);
            let f = flow.get(p.to.as_str()).copied().unwrap_or(0.0);
            *flow.entry(p.from.as_str()).or_default() += f;
            let d = p.inner_diameter_m().expect("a DN of the table");
            let area = std::f64::consts::PI * d * d / 4.0;
            out.push((p.id.clone(), f / (s.fluid.density_kg_m3 * area)));
        }
        out
    }

    #[test]
    fn large_city_has_several_stations_within_design_velocity() {
        let s = generate_city(&GenerateOptions {
            buildings: 10_000,
            sites: 5,
            seed: 4,
        });
        validate(&s).expect("validates");
        let boilers: Vec<&Plant> = s
            .plants
            .iter()
            .filter(|p| matches!(p, Plant::GasBoiler { .. }))
            .collect();
        // At least ⌈load / capacity⌉ stations, more where long paths are cut at the pressure-drop
        // limit (`hydraulics::sizing::MAX_PATH_DP_PA`), at most twice that.
        let cap = crate::hydraulics::sizing::station_capacity_w(&Fluid::default());
        let load: f64 = s
            .buildings
            .iter()
            .map(|b| {
                design_heat_load_w(
                    b,
                    s.sim.indoor_setpoint_c,
                    s.heat_network.design_outdoor_temp_c,
                )
            })
            .sum();
        let least = (load / cap).ceil() as usize;
        assert!(least >= 5, "{load} W");
        assert!(
            boilers.len() >= least && boilers.len() <= 2 * least,
            "{} boiler stations for {least} × the capacity",
            boilers.len()
        );
        for p in &boilers {
            let pumps = s
                .plants
                .iter()
                .filter(|q| matches!(q, Plant::CirculationPump { .. }) && q.node() == p.node())
                .count();
            assert_eq!(pumps, 1, "{}: {pumps} pumps", p.id());
        }
        // Each station its own network: one boiler per connected part, every building on one,
        // each part's design load within the capacity (and each boiler 1.1 × it).
        let net = &s.heat_network;
        let idx: HashMap<&str, usize> = net
            .nodes
            .iter()
            .enumerate()
            .map(|(k, n)| (n.id.as_str(), k))
            .collect();
        let mut dsu = validate::Dsu::new(net.nodes.len());
        for p in &net.pipes {
            dsu.union(idx[p.from.as_str()], idx[p.to.as_str()]);
        }
        let mut part_boiler: HashMap<usize, (f64, usize)> = HashMap::new();
        for p in &boilers {
            if let Plant::GasBoiler {
                node, capacity_w, ..
            } = p
            {
                let e = part_boiler.entry(dsu.find(idx[node.as_str()])).or_default();
                e.0 = *capacity_w;
                e.1 += 1;
            }
        }
        assert!(
            part_boiler.values().all(|e| e.1 == 1),
            "two boilers on one network"
        );
        let mut part_load: HashMap<usize, f64> = HashMap::new();
        for b in &s.buildings {
            let r = dsu.find(idx[b.node.as_deref().expect("connected")]);
            assert!(
                part_boiler.contains_key(&r),
                "{} on a network without a boiler",
                b.id
            );
            *part_load.entry(r).or_default() +=
                design_heat_load_w(b, s.sim.indoor_setpoint_c, net.design_outdoor_temp_c);
        }
        assert_eq!(part_load.len(), boilers.len());
        for (r, l) in &part_load {
            assert!(*l <= cap, "{l} W on one station");
            assert!(part_boiler[r].0 >= 1.1 * l - 1.0);
        }
        // No pipe above DN400, every pump within 3–25 bar.
        for p in &net.pipes {
            let dn = match p.size {
                PipeSize::Dn(dn) => dn,
                _ => 0,
            };
            assert!(dn <= 400, "{}: DN{dn}", p.id);
        }
        for p in &s.plants {
            if let Plant::CirculationPump {
                id, max_head_pa, ..
            } = p
            {
                assert!(
                    (3.0e5..=2.5e6).contains(max_head_pa),
                    "{id}: {max_head_pa} Pa"
                );
            }
        }
        let v = tree_velocities(&s);
        assert!(v.len() > 1000);
        for (id, v) in v {
            assert!(v <= MAX_DESIGN_VELOCITY_M_S + 1e-9, "{id}: {v:.2} m/s");
        }
        // A town within one station's capacity keeps one station.
        let small = generate_city(&GenerateOptions {
            buildings: 1000,
            sites: 2,
            seed: 3,
        });
        let n = small
            .plants
            .iter()
            .filter(|p| matches!(p, Plant::GasBoiler { .. }))
            .count();
        assert_eq!(n, 1);
        for (id, v) in tree_velocities(&small) {
            assert!(v <= MAX_DESIGN_VELOCITY_M_S + 1e-9, "{id}: {v:.2} m/s");
        }
    }

    #[test]
    fn same_seed_same_ron() {
        let o = GenerateOptions {
            buildings: 400,
            sites: 3,
            seed: 42,
        };
        assert_eq!(to_ron(&generate_city(&o)), to_ron(&generate_city(&o)));
        let other = GenerateOptions {
            seed: 43,
            ..o.clone()
        };
        assert_ne!(to_ron(&generate_city(&o)), to_ron(&generate_city(&other)));
        assert_eq!(to_ron(&riverside()), to_ron(&riverside()));
    }

    #[test]
    fn generated_cities_validate() {
        for (n, m, seed) in [(50, 1, 1), (500, 3, 2), (2000, 4, 3), (10_000, 5, 4)] {
            let s = generate_city(&GenerateOptions {
                buildings: n,
                sites: m,
                seed,
            });
            if let Err(issues) = validate(&s) {
                panic!("{n} buildings: {issues:?}");
            }
            assert_eq!(s.buildings.len(), n);
            assert_eq!(s.quantum_sites.len(), m);
            let loops = independent_loops(&s);
            assert!((3..=40).contains(&loops), "{n} buildings: {loops} loops");
            // Round trip through the file format.
            let back = load_scene_str(&to_ron(&s), "generated").expect("parses");
            assert_eq!(back, s);
        }
    }
}

//! The electrical grid of a generated city: districts and buses, radial feeders, PV, wind, a
//! battery and the grid connection.

use super::geometry::{P, add, dist, mean, mul, norm, round_up, rp};
use super::sizing::{CARBON_G_KWH, CARBON_MONTHLY, elec_w_m2, site_full_power_w};
use crate::scene::*;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The electrical grid of a city (see the module page): one bus per district of at most 150
/// buildings (recursive median split) plus the substation bus 60 m outward of `root_pos` (the
/// main station); radial feeders along Prim's tree from the substation rated 1.5 × the peak they
/// carry; PV on a share of roofs; wind turbines at `wind_pos`; one battery at the substation;
/// the grid connection. Sets the buildings' and sites' `bus`. `hp_elec` is each site's heat
/// pump's electrical power at design, W.
pub(crate) fn design_grid(
    buildings: &mut [Building],
    sites: &mut [QuantumSite],
    hp_elec: &[f64],
    root_pos: P,
    wind_pos: &[P],
    rng: &mut ChaCha8Rng,
) -> Grid {
    // Electrical grid: districts by recursive median split.
    let centres: Vec<P> = buildings.iter().map(|b| b.centre()).collect();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut stack = vec![(0..buildings.len()).collect::<Vec<usize>>()];
    while let Some(mut g) = stack.pop() {
        if g.len() <= 150 {
            if !g.is_empty() {
                groups.push(g);
            }
            continue;
        }
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for &k in &g {
            for a in 0..2 {
                lo[a] = lo[a].min(centres[k][a]);
                hi[a] = hi[a].max(centres[k][a]);
            }
        }
        let axis = if hi[0] - lo[0] >= hi[1] - lo[1] { 0 } else { 1 };
        g.sort_by(|a, b| {
            centres[*a][axis]
                .total_cmp(&centres[*b][axis])
                .then(a.cmp(b))
        });
        let right = g.split_off(g.len() / 2);
        stack.push(right);
        stack.push(g);
    }
    let nd = groups.len();
    let bus_pos: Vec<P> = groups
        .iter()
        .map(|g| rp(mean(&g.iter().map(|k| centres[*k]).collect::<Vec<_>>())))
        .collect();
    let bus_ids: Vec<String> = (0..nd).map(|d| format!("bus_d{:02}", d + 1)).collect();
    let out_dir = {
        let l = norm(root_pos);
        if l > 1.0 {
            mul(root_pos, 1.0 / l)
        } else {
            [1.0, 0.0]
        }
    };
    let sub_pos = rp(add(root_pos, mul(out_dir, 60.0)));
    let mut load = vec![0.0; nd];
    for (d, g) in groups.iter().enumerate() {
        for &k in g {
            buildings[k].bus = Some(bus_ids[d].clone());
            load[d] += elec_w_m2(buildings[k].use_) * buildings[k].heated_area();
        }
    }
    for (s, e) in sites.iter_mut().zip(hp_elec) {
        let d = (0..nd)
            .min_by(|a, b| dist(bus_pos[*a], s.pos).total_cmp(&dist(bus_pos[*b], s.pos)))
            .unwrap_or(0);
        if nd > 0 {
            s.bus = Some(bus_ids[d].clone());
            load[d] += site_full_power_w(s) + e;
        }
    }
    // Radial feeders: Prim's tree from the substation.
    let mut in_tree_bus = vec![false; nd];
    let mut link: Vec<(f64, Option<usize>)> =
        bus_pos.iter().map(|p| (dist(*p, sub_pos), None)).collect();
    let mut feeder_parent: Vec<Option<usize>> = vec![None; nd];
    let mut bus_order = Vec::new();
    for _ in 0..nd {
        let Some(d) = (0..nd)
            .filter(|d| !in_tree_bus[*d])
            .min_by(|a, b| link[*a].0.total_cmp(&link[*b].0).then(a.cmp(b)))
        else {
            break;
        };
        in_tree_bus[d] = true;
        feeder_parent[d] = link[d].1;
        bus_order.push(d);
        for e in 0..nd {
            if !in_tree_bus[e] {
                let l = dist(bus_pos[d], bus_pos[e]);
                if l < link[e].0 {
                    link[e] = (l, Some(d));
                }
            }
        }
    }
    let mut carried = load.clone();
    for &d in bus_order.iter().rev() {
        if let Some(p) = feeder_parent[d] {
            carried[p] += carried[d];
        }
    }
    let mut buses = vec![Bus {
        id: "bus_sub".into(),
        pos: sub_pos,
    }];
    buses.extend((0..nd).map(|d| Bus {
        id: bus_ids[d].clone(),
        pos: bus_pos[d],
    }));
    let feeders: Vec<Feeder> = bus_order
        .iter()
        .map(|&d| Feeder {
            id: format!("f_d{:02}", d + 1),
            from: feeder_parent[d]
                .map(|p| bus_ids[p].clone())
                .unwrap_or_else(|| "bus_sub".into()),
            to: bus_ids[d].clone(),
            capacity_w: round_up(1.5 * carried[d], 1.0e5),
        })
        .collect();
    let mut pv = Vec::new();
    for b in buildings.iter() {
        let zone_p: f64 = match b.envelope {
            Envelope::EnergyClass('A' | 'B') => 0.45,
            Envelope::EnergyClass('C') => 0.3,
            _ => 0.12,
        };
        let p = match b.use_ {
            BuildingUse::School | BuildingUse::Industrial | BuildingUse::Retail => zone_p.max(0.5),
            _ => zone_p,
        };
        if rng.random::<f64>() < p
            && let Some(bus) = &b.bus
        {
            pv.push(PvArray {
                id: format!("pv_{}", b.id),
                bus: bus.clone(),
                peak_w: round_up(150.0 * 0.4 * b.footprint_area_m2(), 100.0),
                performance_ratio: 0.8,
                building: Some(b.id.clone()),
            });
        }
    }
    let wind: Vec<WindTurbine> = wind_pos
        .iter()
        .enumerate()
        .map(|(k, p)| WindTurbine {
            id: format!("wt{}", k + 1),
            bus: "bus_sub".into(),
            pos: *p,
            rated_w: [2.0e6, 2.3e6, 2.5e6, 3.0e6][rng.random_range(0..4usize)],
            hub_height_m: 100.0,
            cut_in_m_s: 3.0,
            rated_speed_m_s: 12.0,
            cut_out_m_s: 25.0,
        })
        .collect();
    let peak: f64 = load.iter().sum();
    let battery_wh = round_up((0.15 * peak).clamp(2.0e6, 6.0e6), 5.0e5);
    let gen_w: f64 =
        pv.iter().map(|p| p.peak_w).sum::<f64>() + wind.iter().map(|w| w.rated_w).sum::<f64>();
    let import = round_up(1.2 * peak, 1.0e6);
    Grid {
        buses,
        feeders,
        pv,
        wind,
        batteries: vec![Battery {
            id: "bat1".into(),
            bus: "bus_sub".into(),
            capacity_wh: battery_wh,
            max_power_w: battery_wh / 2.0,
            round_trip_efficiency: 0.88,
            initial_soc: 0.5,
        }],
        connection: GridConnection {
            bus: "bus_sub".into(),
            import_capacity_w: import,
            export_capacity_w: round_up(gen_w.max(0.5 * import), 1.0e6),
            carbon_intensity_g_kwh: CARBON_G_KWH,
            monthly_factor: CARBON_MONTHLY,
        },
    }
}

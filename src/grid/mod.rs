//! Grid: the city's electricity — PV, wind, loads, batteries, import and export at the grid
//! connection, feeder loading and carbon.
//!
//! # Model (active power, one balance per tick)
//! - **PV**: `P = P_peak · GHI/1000 W/m² · PR` (horizontal-equivalent, performance ratio PR).
//! - **Wind**: hub-height speed by the power law `v_h = v₁₀·(h/10)^{1/7}`; power curve
//!   `P = P_r·(v³ − v_ci³)/(v_r³ − v_ci³)` between cut-in and rated speed, `P_r` up to cut-out, 0 beyond.
//! - **Loads** per bus: buildings' electricity, quantum sites and their cooling (dry coolers and
//!   chillers, [`crate::quantum::cooling`]), their heat pumps (on the site's bus),
//!   circulation pumps (on the station's site bus, or the connection bus).
//! - **Batteries** absorb the city's surplus and cover its deficit within their power and energy,
//!   with the round-trip efficiency split evenly between charging and discharging.
//! - **Connection** imports or exports the rest within its capacities; beyond them import is
//!   unserved and export curtailed (both counted).
//! - **Feeders** are operated radially from the connection bus: each feeder's flow is the net
//!   injection of the buses beyond it; loading = |P| / capacity.
//! - **Outages** (the faults domain): a bus cut off by a feeder outage (`bus_energised` false)
//!   serves none of its loads (counted as unserved) and its PV and wind inverters disconnect; a
//!   site running on its own UPS (`Sites::on_ups`) draws nothing from the grid.
//! - **Carbon**: imports × the hour's intensity × the month's factor. Exports are not credited.
//!
//! Units: W, Wh, J, g/kWh.

use crate::math::Det;
use bevy::prelude::*;

use crate::base::{SimClock, SimSet};
use crate::demand::Buildings;
use crate::hydraulics::HydraulicState;
use crate::plants::Stations;
use crate::quantum::Sites;
use crate::scene::Scene;
use crate::weather::WeatherNow;

#[derive(Debug, Clone)]
pub struct BatteryUnit {
    pub bus: u32,
    pub capacity_j: f64,
    pub max_power_w: f64,
    pub one_way_eff: f64,
    pub energy_j: f64,
}

#[derive(Resource, Debug, Clone, Default)]
pub struct GridState {
    pub present: bool,
    pub bus_ids: Vec<String>,
    pub feeder_ids: Vec<String>,
    /// Radial order from the connection bus (root first), parent feeder and its orientation.
    pub order: Vec<u32>,
    pub parent: Vec<u32>,
    pub parent_feeder: Vec<u32>,
    pub feeder_capacity_w: Vec<f64>,
    pub connection_bus: u32,
    pub import_capacity_w: f64,
    pub export_capacity_w: f64,
    pub carbon_g_kwh: [f64; 24],
    pub monthly_factor: [f64; 12],
    pub pv: Vec<(u32, f64, f64)>,
    /// (bus, rated W, hub m, cut-in, rated speed, cut-out)
    pub wind: Vec<(u32, f64, f64, f64, f64, f64)>,
    pub batteries: Vec<BatteryUnit>,
    /// Whether each bus is fed (false beyond a feeder in outage; set by the faults domain).
    pub bus_energised: Vec<bool>,
    // ---- per tick ----
    pub bus_load_w: Vec<f64>,
    pub bus_gen_w: Vec<f64>,
    pub feeder_flow_w: Vec<f64>,
    pub feeder_loading: Vec<f64>,
    pub pv_w: f64,
    pub wind_w: f64,
    pub load_w: f64,
    /// Battery power, W: + charging, − discharging (at the grid side).
    pub battery_w: f64,
    pub import_w: f64,
    pub export_w: f64,
    pub unserved_w: f64,
    pub curtailed_w: f64,
    /// Carbon intensity of imports this tick, g/kWh.
    pub carbon_now_g_kwh: f64,
    /// Battery energy change this tick's losses, W.
    pub battery_loss_w: f64,
}

impl GridState {
    /// Hook for the faults domain: the feeders in outage (by index); every bus radially beyond
    /// one of them loses its supply.
    pub fn set_feeders_out(&mut self, out: &[usize]) {
        self.bus_energised.iter_mut().for_each(|x| *x = true);
        for oi in 0..self.order.len() {
            let u = self.order[oi] as usize;
            let p = self.parent[u];
            if p != u32::MAX
                && (out.contains(&(self.parent_feeder[u] as usize))
                    || !self.bus_energised[p as usize])
            {
                self.bus_energised[u] = false;
            }
        }
    }

    /// The grid's carbon intensity by hour changed (a what-if edit on a running world).
    pub fn set_carbon_intensity(&mut self, g_per_kwh: [f64; 24]) {
        self.carbon_g_kwh = g_per_kwh;
    }

    /// The PV arrays changed (a what-if edit on a running world).
    pub fn refresh_pv(&mut self, scene: &Scene) {
        self.pv = GridState::from_scene(scene).pv;
    }

    pub fn from_scene(scene: &Scene) -> Self {
        let Some(g) = &scene.grid else {
            return GridState {
                carbon_g_kwh: [0.0; 24],
                monthly_factor: [1.0; 12],
                ..Default::default()
            };
        };
        let buses = g.bus_indices();
        let idx = |id: &str| buses.get(id).copied().unwrap_or(0);
        let nb = g.buses.len();
        let root = idx(&g.connection.bus);
        let mut adj: Vec<Vec<(u32, u32)>> = vec![Vec::new(); nb];
        for (k, f) in g.feeders.iter().enumerate() {
            let (a, b) = (idx(&f.from), idx(&f.to));
            adj[a as usize].push((b, k as u32));
            adj[b as usize].push((a, k as u32));
        }
        let mut parent = vec![u32::MAX; nb];
        let mut parent_feeder = vec![u32::MAX; nb];
        let mut seen = vec![false; nb];
        let mut order = Vec::with_capacity(nb);
        let mut q = std::collections::VecDeque::from([root]);
        seen[root as usize] = true;
        while let Some(u) = q.pop_front() {
            order.push(u);
            for &(v, k) in &adj[u as usize] {
                if !seen[v as usize] {
                    seen[v as usize] = true;
                    parent[v as usize] = u;
                    parent_feeder[v as usize] = k;
                    q.push_back(v);
                }
            }
        }
        GridState {
            present: true,
            bus_ids: g.buses.iter().map(|b| b.id.clone()).collect(),
            feeder_ids: g.feeders.iter().map(|f| f.id.clone()).collect(),
            order,
            parent,
            parent_feeder,
            feeder_capacity_w: g.feeders.iter().map(|f| f.capacity_w).collect(),
            connection_bus: root,
            import_capacity_w: g.connection.import_capacity_w,
            export_capacity_w: g.connection.export_capacity_w,
            carbon_g_kwh: g.connection.carbon_intensity_g_kwh,
            monthly_factor: g.connection.monthly_factor,
            pv: g
                .pv
                .iter()
                .map(|p| (idx(&p.bus), p.peak_w, p.performance_ratio))
                .collect(),
            wind: g
                .wind
                .iter()
                .map(|w| {
                    (
                        idx(&w.bus),
                        w.rated_w,
                        w.hub_height_m,
                        w.cut_in_m_s,
                        w.rated_speed_m_s,
                        w.cut_out_m_s,
                    )
                })
                .collect(),
            batteries: g
                .batteries
                .iter()
                .map(|b| BatteryUnit {
                    bus: idx(&b.bus),
                    capacity_j: b.capacity_wh * 3600.0,
                    max_power_w: b.max_power_w,
                    one_way_eff: b.round_trip_efficiency.sqrt(),
                    energy_j: b.capacity_wh * 3600.0 * b.initial_soc,
                })
                .collect(),
            bus_energised: vec![true; nb],
            bus_load_w: vec![0.0; nb],
            bus_gen_w: vec![0.0; nb],
            feeder_flow_w: vec![0.0; g.feeders.len()],
            feeder_loading: vec![0.0; g.feeders.len()],
            ..Default::default()
        }
    }
}

/// Wind turbine power at 10 m wind speed `v10`.
pub fn wind_power_w(
    v10: f64,
    rated_w: f64,
    hub_m: f64,
    cut_in: f64,
    rated_speed: f64,
    cut_out: f64,
) -> f64 {
    let v = v10 * (hub_m / 10.0).powf_d(1.0 / 7.0);
    if v < cut_in || v >= cut_out {
        0.0
    } else if v >= rated_speed {
        rated_w
    } else {
        rated_w * (v.powi(3) - cut_in.powi(3)) / (rated_speed.powi(3) - cut_in.powi(3))
    }
}

pub struct GridPlugin;

impl Plugin for GridPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(FixedUpdate, grid_balance.in_set(SimSet::Grid));
    }
}

#[allow(clippy::too_many_arguments)]
fn grid_balance(
    clock: Res<SimClock>,
    weather: Res<WeatherNow>,
    buildings: Res<Buildings>,
    sites: Res<Sites>,
    stations: Res<Stations>,
    hs: Res<HydraulicState>,
    mut g: ResMut<GridState>,
) {
    let g = &mut *g;
    let dt = clock.tick_s;
    let nb = g.bus_ids.len();
    let root = g.connection_bus as usize;
    let on_bus = |b: Option<u32>| b.map(|x| x as usize).filter(|&x| x < nb).unwrap_or(root);
    g.bus_load_w.iter_mut().for_each(|x| *x = 0.0);
    g.bus_gen_w.iter_mut().for_each(|x| *x = 0.0);
    let mut load = 0.0;
    let mut dead_load = 0.0;
    let mut add_load = |g: &mut GridState, bus: usize, w: f64| {
        if bus < g.bus_energised.len() && !g.bus_energised[bus] {
            dead_load += w;
            return;
        }
        if bus < g.bus_load_w.len() {
            g.bus_load_w[bus] += w;
        }
        load += w;
    };
    for i in 0..buildings.len() {
        add_load(g, on_bus(buildings.bus[i]), buildings.electricity_w[i]);
    }
    for i in 0..sites.len() {
        if !sites.on_ups(i) {
            add_load(
                g,
                on_bus(sites.bus[i]),
                sites.electricity_w[i] + sites.cooling_w[i],
            );
        }
    }
    for s in 0..stations.len() {
        let site_bus = stations.heat_pumps[s]
            .first()
            .and_then(|h| sites.bus[h.site as usize]);
        let bus = on_bus(site_bus);
        add_load(
            g,
            bus,
            stations.hp_electricity_w[s] + hs.station_pump_power_w[s],
        );
    }
    g.load_w = load;
    let mut pv = 0.0;
    for k in 0..g.pv.len() {
        let (bus, peak, pr) = g.pv[k];
        if !g.bus_energised[bus as usize] {
            continue;
        }
        let p = peak * weather.ghi_w_m2 / 1000.0 * pr;
        g.bus_gen_w[bus as usize] += p;
        pv += p;
    }
    let mut wind = 0.0;
    for k in 0..g.wind.len() {
        let (bus, rated, hub, ci, rs, co) = g.wind[k];
        if !g.bus_energised[bus as usize] {
            continue;
        }
        let p = wind_power_w(weather.wind_m_s, rated, hub, ci, rs, co);
        g.bus_gen_w[bus as usize] += p;
        wind += p;
    }
    g.pv_w = pv;
    g.wind_w = wind;
    // Batteries take the surplus or cover the deficit.
    let mut net = load - pv - wind;
    let mut battery_w = 0.0;
    let mut battery_loss = 0.0;
    for b in g.batteries.iter_mut() {
        if net < 0.0 {
            let room_w = (b.capacity_j - b.energy_j) / dt / b.one_way_eff;
            let p = (-net).min(b.max_power_w).min(room_w.max(0.0));
            b.energy_j += p * b.one_way_eff * dt;
            battery_loss += p * (1.0 - b.one_way_eff);
            battery_w += p;
            net += p;
            if (b.bus as usize) < nb {
                g.bus_load_w[b.bus as usize] += p;
            }
        } else if net > 0.0 {
            let avail_w = b.energy_j / dt * b.one_way_eff;
            let p = net.min(b.max_power_w).min(avail_w.max(0.0));
            b.energy_j = (b.energy_j - p / b.one_way_eff * dt).max(0.0);
            battery_loss += p / b.one_way_eff - p;
            battery_w -= p;
            net -= p;
            if (b.bus as usize) < nb {
                g.bus_gen_w[b.bus as usize] += p;
            }
        }
    }
    g.battery_w = battery_w;
    g.battery_loss_w = battery_loss;
    let (mut import, mut export, mut unserved, mut curtailed) = (0.0, 0.0, 0.0, 0.0);
    // Without a grid, nothing can be imported or exported.
    let (imp_cap, exp_cap) = if g.present {
        (g.import_capacity_w, g.export_capacity_w)
    } else {
        (0.0, 0.0)
    };
    if net > 0.0 {
        import = net.min(imp_cap);
        unserved = net - import;
    } else {
        export = (-net).min(exp_cap);
        curtailed = -net - export;
    }
    g.import_w = import;
    g.export_w = export;
    g.unserved_w = unserved + dead_load;
    g.curtailed_w = curtailed;
    let hour = (weather.hour_of_day.floor() as usize).min(23);
    g.carbon_now_g_kwh = g.carbon_g_kwh[hour] * g.monthly_factor[weather.month.min(11)];
    // Feeder flows: net injection beyond each feeder, accumulated towards the connection.
    let mut sub: Vec<f64> = (0..nb).map(|i| g.bus_gen_w[i] - g.bus_load_w[i]).collect();
    for &u in g.order.iter().rev() {
        let ui = u as usize;
        let p = g.parent[ui];
        if p == u32::MAX {
            continue;
        }
        let k = g.parent_feeder[ui] as usize;
        g.feeder_flow_w[k] = sub[ui];
        g.feeder_loading[k] = sub[ui].abs() / g.feeder_capacity_w[k];
        sub[p as usize] += sub[ui];
    }
}

//! Demand: each building's heat (space heating, hot water, absorption cooling) and electricity,
//! and the flow its substation asks of the heat network.
//!
//! # Model (quasi-steady, one value per tick)
//! - **Space heating** `Q_sh = max(0, H·(T_set − T_out) − Q_int − Q_sol)` with `H` the building's
//!   heat-loss coefficient (transmission + ventilation, W/K) — given, or from its energy class as
//!   [`ENERGY_CLASS_W_M2K`] × heated area; internal gains `Q_int` = use-dependent W/m² × area ×
//!   occupancy (EN ISO 13790 / SIA 2024 typical values); solar gains `Q_sol = 0.02·GHI·area`
//!   (window-to-floor 0.15 × g-value 0.5 × shading and frame 0.27).
//! - **Hot water** has a daily profile by use (normalised to a mean of 1); its mean is set so that
//!   hot water is `hot_water_share` of the building's annual heat demand in the scene's climate.
//!   It needs a supply of at least `dhw_min_supply_temp_c`; below, it is unmet.
//! - **Absorption cooling**: cooling load `peak·clamp((T_out − 22)/10, 0, 1)·occupancy`, driven by
//!   network heat at a single-effect LiBr COP of 0.7.
//! - **Electricity**: use-dependent W/m² with occupied and unoccupied levels.
//! - **Substation**: asks for `ṁ = Q/(c_p·(T_s − T_r))` with `T_s` the supply temperature it saw last
//!   tick and `T_r` its design return temperature, capped at 1.25 × its design flow (design heat load
//!   at the design outdoor temperature and design supply temperature).
//! - **Thermal mass** ([`indoor`]): each building's indoor temperature is state (1R1C, EN ISO
//!   13790:2008); a building below its set-point asks for the heat that lifts it back (the reheat
//!   part, bounded by what its substation's largest flow carries); the space heat actually
//!   delivered moves the indoor temperature after the thermal pass ([`crate::base::SimSet::Settle`]).
//!   At the set-point the request is the steady `Q_sh` above, unchanged.
//!
//! Explicit consumers of test networks (`scene::ConsumerDemand`) take
//! - `MassFlowKgS(ṁ)`: a fixed mass flow, returning at their fixed `return_temp_c`;
//! - `HeatW(Q)`: a fixed heat demand, asking `ṁ = Q/(c_p·(T_s − T_r))` like a substation (its
//!   largest flow `Q/(c_p·5 K)`), returning at `T_s − Q/(ṁ·c_p)`;
//! - `MassFlowDeltaT(ṁ, ΔT)`: a fixed mass flow with a fixed temperature drop: demand
//!   `Q = ṁ·c_p·ΔT`, return `T_s − ΔT`;
//! - `HeatDeltaT(Q, ΔT)`: a fixed heat with a fixed temperature drop: `ṁ = Q/(c_p·ΔT)` whatever the
//!   supply temperature (validation keeps it at most 1e4 kg/s), return `T_s − ΔT`.
//!
//! The ΔT forms are how published district-heating benchmarks give consumers (pandapipes'
//! `heat_consumer`, v0.10+, is set by two of heat `qext_w`, mass flow `controlled_mdot_kg_per_s`,
//! temperature drop `deltat_k` and return temperature `treturn_k`); their return follows the supply.
//!
//! Units: W, kg/s, °C.

use bevy::prelude::*;
use rayon::prelude::*;

use crate::base::{SimClock, SimSet, parallel_ok};
use crate::network::Network;
use crate::scene::{BuildingUse, ConsumerDemand, Envelope, Scene};
use crate::weather::WeatherNow;

pub mod indoor;

/// Heat-loss coefficient per m² of heated floor for energy classes A–G, W/(m²·K). Chosen so that the
/// design heat load at ΔT = 32 K spans ~15 W/m² (A, near passive house) to ~90 W/m² (G, unrenovated
/// pre-1950 stock), as in the TABULA/EPISCOPE building typologies.
pub const ENERGY_CLASS_W_M2K: [(char, f64); 7] = [
    ('A', 0.45),
    ('B', 0.7),
    ('C', 1.0),
    ('D', 1.35),
    ('E', 1.75),
    ('F', 2.2),
    ('G', 2.8),
];

/// W/(m²·K) of an energy class (D for an unknown letter).
pub fn energy_class_w_m2k(class: char) -> f64 {
    ENERGY_CLASS_W_M2K
        .iter()
        .find(|(c, _)| *c == class)
        .map(|(_, v)| *v)
        .unwrap_or(1.35)
}

/// Single-effect LiBr absorption chiller COP.
pub const ABSORPTION_COP: f64 = 0.7;
/// Share of GHI × floor area that enters as solar gain.
const SOLAR_GAIN_FACTOR: f64 = 0.02;

/// Per-use constants: internal gains when occupied (W/m²), electricity occupied and unoccupied
/// (W/m²), occupied hours [start, end), weekdays only.
struct UseProfile {
    gains_w_m2: f64,
    elec_occupied_w_m2: f64,
    elec_idle_w_m2: f64,
    hours: (f64, f64),
    weekdays_only: bool,
    dhw: [f64; 24],
}

const FLAT: [f64; 24] = [1.0; 24];
const DHW_HOME: [f64; 24] = [
    0.3, 0.2, 0.2, 0.2, 0.3, 0.8, 2.0, 2.6, 1.8, 1.0, 0.8, 0.8, 1.0, 0.9, 0.7, 0.7, 0.9, 1.3, 1.8,
    1.9, 1.6, 1.2, 0.7, 0.4,
];
const DHW_DAY: [f64; 24] = [
    0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.6, 1.6, 2.2, 2.0, 1.9, 2.1, 2.3, 2.0, 1.8, 1.7, 1.5, 1.0, 0.5,
    0.3, 0.2, 0.2, 0.1, 0.1,
];

const ALL_USES: [BuildingUse; 6] = [
    BuildingUse::Residential,
    BuildingUse::Office,
    BuildingUse::Retail,
    BuildingUse::School,
    BuildingUse::Hospital,
    BuildingUse::Industrial,
];

fn profile(u: BuildingUse) -> &'static UseProfile {
    &PROFILES[u as usize]
}

static PROFILES: [UseProfile; 6] = [
    UseProfile {
        gains_w_m2: 3.5,
        elec_occupied_w_m2: 4.5,
        elec_idle_w_m2: 2.5,
        hours: (6.0, 23.0),
        weekdays_only: false,
        dhw: DHW_HOME,
    },
    UseProfile {
        gains_w_m2: 9.0,
        elec_occupied_w_m2: 14.0,
        elec_idle_w_m2: 3.0,
        hours: (7.0, 19.0),
        weekdays_only: true,
        dhw: DHW_DAY,
    },
    UseProfile {
        gains_w_m2: 10.0,
        elec_occupied_w_m2: 18.0,
        elec_idle_w_m2: 4.0,
        hours: (8.0, 20.0),
        weekdays_only: false,
        dhw: DHW_DAY,
    },
    UseProfile {
        gains_w_m2: 8.0,
        elec_occupied_w_m2: 9.0,
        elec_idle_w_m2: 2.0,
        hours: (7.5, 16.5),
        weekdays_only: true,
        dhw: DHW_DAY,
    },
    UseProfile {
        gains_w_m2: 6.0,
        elec_occupied_w_m2: 14.0,
        elec_idle_w_m2: 14.0,
        hours: (0.0, 24.0),
        weekdays_only: false,
        dhw: FLAT,
    },
    UseProfile {
        gains_w_m2: 6.0,
        elec_occupied_w_m2: 20.0,
        elec_idle_w_m2: 6.0,
        hours: (6.0, 22.0),
        weekdays_only: true,
        dhw: DHW_DAY,
    },
];

/// Normalises a 24-hour profile to a mean of 1.
fn normalised(p: &[f64; 24]) -> [f64; 24] {
    let m = p.iter().sum::<f64>() / 24.0;
    let mut out = *p;
    out.iter_mut().for_each(|x| *x /= m);
    out
}

/// Every building, as compact arrays.
#[derive(Resource, Debug, Clone, Default)]
pub struct Buildings {
    pub ids: Vec<String>,
    pub use_: Vec<BuildingUse>,
    pub heated_area_m2: Vec<f64>,
    /// Heat-loss coefficient, W/K.
    pub h_w_k: Vec<f64>,
    /// Mean hot-water power, W.
    pub dhw_mean_w: Vec<f64>,
    pub cooling_peak_w: Vec<f64>,
    /// Design heat load, W (space heating at the design outdoor temperature plus mean hot water).
    pub design_heat_w: Vec<f64>,
    pub bus: Vec<Option<u32>>,
    /// Internal heat capacity `C`, J/K (see [`indoor`]).
    pub heat_capacity_j_k: Vec<f64>,
    // ---- state ----
    /// Indoor temperature at the end of the last tick, °C.
    indoor_temp_c: Vec<f64>,
    // ---- per tick ----
    /// Steady space-heating demand `max(0, H·(T_set − T_out) − Q_g)`, W.
    pub space_heat_w: Vec<f64>,
    /// Extra heat a building below its set-point asks for to reheat this tick, W (0 at the
    /// set-point).
    pub reheat_w: Vec<f64>,
    /// Internal plus solar gains `Q_g`, W.
    pub gains_w: Vec<f64>,
    pub dhw_w: Vec<f64>,
    pub cooling_heat_w: Vec<f64>,
    pub electricity_w: Vec<f64>,
    // ---- cached per tick length (see [`indoor::tick_constants`]) ----
    mass_dt_s: f64,
    mass_decay: Vec<f64>,
    mass_reheat_w_k: Vec<f64>,
}

impl Buildings {
    /// Hook for the faults domain (the operator's load shedding): each building's electricity is
    /// cut by its bus's share (`share_by_bus`, 0–1).
    pub fn shed_electricity(&mut self, share_by_bus: &[f64]) {
        for i in 0..self.len() {
            if let Some(bus) = self.bus[i] {
                let s = share_by_bus.get(bus as usize).copied().unwrap_or(0.0);
                self.electricity_w[i] *= 1.0 - s.clamp(0.0, 1.0);
            }
        }
    }

    pub fn from_scene(scene: &Scene, _net: &Network) -> Self {
        let n = scene.buildings.len();
        let t_set = scene.sim.indoor_setpoint_c;
        let monthly: Option<[f64; 12]> = match &scene.climate {
            crate::scene::Climate::Monthly(m) => Some(m.mean_temp_c),
            crate::scene::Climate::Fixed(f) => Some([f.outdoor_temp_c; 12]),
        };
        let buses = scene.grid.as_ref().map(|g| g.bus_indices());
        let bus_index =
            |b: &Option<String>| -> Option<u32> { buses.as_ref()?.get(b.as_deref()?).copied() };
        let mut s = Buildings {
            indoor_temp_c: vec![t_set; n],
            space_heat_w: vec![0.0; n],
            reheat_w: vec![0.0; n],
            gains_w: vec![0.0; n],
            dhw_w: vec![0.0; n],
            cooling_heat_w: vec![0.0; n],
            electricity_w: vec![0.0; n],
            ..Default::default()
        };
        for b in &scene.buildings {
            let area = b.heated_area();
            let h = match b.envelope {
                Envelope::HeatLossWK(h) => h,
                Envelope::EnergyClass(c) => energy_class_w_m2k(c) * area,
            };
            let prof = profile(b.use_);
            let occ_share = occupied_share(prof);
            let gains_mean = prof.gains_w_m2 * area * occ_share;
            // Mean space-heating power over a year of monthly means.
            let mean_sh = monthly
                .map(|m| {
                    m.iter()
                        .map(|t| (h * (t_set - t) - gains_mean).max(0.0))
                        .sum::<f64>()
                        / 12.0
                })
                .unwrap_or(0.0);
            let share = b.hot_water_share.clamp(0.0, 0.95);
            let dhw_mean = share / (1.0 - share) * mean_sh;
            s.ids.push(b.id.clone());
            s.use_.push(b.use_);
            s.heated_area_m2.push(area);
            s.h_w_k.push(h);
            s.dhw_mean_w.push(dhw_mean);
            s.cooling_peak_w.push(b.absorption_cooling_peak_w);
            s.design_heat_w
                .push(h * (t_set - scene.heat_network.design_outdoor_temp_c) + dhw_mean);
            s.bus.push(bus_index(&b.bus));
            s.heat_capacity_j_k
                .push(indoor::heat_capacity_j_m2k(b.construction) * area);
        }
        s.refresh_mass_constants(scene.sim.tick_s);
        s
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

fn occupied_share(p: &UseProfile) -> f64 {
    let h = (p.hours.1 - p.hours.0) / 24.0;
    if p.weekdays_only { h * 5.0 / 7.0 } else { h }
}

/// What an explicit or building consumer is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConsumerKind {
    Building(u32),
    Fixed(ConsumerDemand),
}

/// Every heat consumer (buildings first, in scene order, then explicit consumers).
#[derive(Resource, Debug, Clone, Default)]
pub struct Consumers {
    pub kind: Vec<ConsumerKind>,
    pub node: Vec<Option<u32>>,
    pub return_temp_c: Vec<f64>,
    pub max_mass_flow_kg_s: Vec<f64>,
    // ---- per tick ----
    /// Heat asked for, W (all of it, hot water included).
    pub demand_w: Vec<f64>,
    /// Part of the demand that is hot water (needs the minimum supply temperature), W.
    pub dhw_w: Vec<f64>,
    /// Requested (and granted) mass flow, kg/s.
    pub mass_flow_kg_s: Vec<f64>,
    /// Heat a building below its set-point asks for on top of its demand to reheat, W (bounded by
    /// its largest flow; 0 at the set-point). Asked for, not counted in the demand or as unmet.
    pub reheat_w: Vec<f64>,
    /// Space heating asked for: a building's steady space demand plus its reheat, W.
    pub space_w: Vec<f64>,
    delivered_w: Vec<f64>,
    space_delivered_w: Vec<f64>,
    unmet_w: Vec<f64>,
    /// Return temperature actually leaving the substation, °C.
    return_out_c: Vec<f64>,
}

impl Consumers {
    pub fn from_scene(scene: &Scene, net: &Network, buildings: &Buildings) -> Self {
        let hn = &scene.heat_network;
        let cp = scene.heat_capacity_j_kg_k();
        let t_sup_design = hn.supply_temp_at_design_c.unwrap_or(hn.supply_temp_c);
        let mut s = Consumers::default();
        for (i, b) in scene.buildings.iter().enumerate() {
            let t_ret = b.return_temp_c.unwrap_or(hn.return_temp_c);
            let node = b.node.as_ref().and_then(|n| net.node(n));
            s.kind.push(ConsumerKind::Building(i as u32));
            s.node.push(node);
            s.return_temp_c.push(t_ret);
            let design_q =
                buildings.design_heat_w[i] + b.absorption_cooling_peak_w / ABSORPTION_COP;
            s.max_mass_flow_kg_s
                .push(1.25 * design_q / (cp * (t_sup_design - t_ret).max(5.0)));
        }
        for c in &hn.consumers {
            s.kind.push(ConsumerKind::Fixed(c.demand));
            s.node.push(net.node(&c.node));
            // The ΔT forms return at the supply temperature minus ΔT: at the design supply until
            // the thermal pass says otherwise.
            s.return_temp_c.push(match c.demand.delta_t_k() {
                Some(dt_k) => hn.supply_temp_c - dt_k,
                None => c.return_temp_c.unwrap_or(hn.return_temp_c),
            });
            s.max_mass_flow_kg_s.push(match c.demand {
                ConsumerDemand::MassFlowKgS(m) => m,
                ConsumerDemand::HeatW(q) => q / (cp * 5.0),
                ConsumerDemand::MassFlowDeltaT { mass_flow_kg_s, .. } => mass_flow_kg_s,
                ConsumerDemand::HeatDeltaT { heat_w, delta_t_k } => heat_w / (cp * delta_t_k),
            });
        }
        let n = s.kind.len();
        s.demand_w = vec![0.0; n];
        s.dhw_w = vec![0.0; n];
        s.mass_flow_kg_s = vec![0.0; n];
        s.space_w = vec![0.0; n];
        s.reheat_w = vec![0.0; n];
        s.delivered_w = vec![0.0; n];
        s.space_delivered_w = vec![0.0; n];
        s.unmet_w = vec![0.0; n];
        s.return_out_c = s.return_temp_c.clone();
        s
    }
    pub fn len(&self) -> usize {
        self.kind.len()
    }
    pub fn is_empty(&self) -> bool {
        self.kind.is_empty()
    }
}

pub struct DemandPlugin;

impl Plugin for DemandPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(FixedUpdate, building_demand.in_set(SimSet::Demand))
            .add_systems(
                FixedUpdate,
                indoor::indoor_temperatures.in_set(SimSet::Settle),
            );
    }
}

/// Above this many buildings the per-building loop runs on rayon, in fixed chunks (a pure map:
/// same results for any thread count).
const PARALLEL_THRESHOLD: usize = 50_000;
const CHUNK: usize = 4096;

/// From this many substations their passes ([`Consumers::update_requests`],
/// [`Consumers::take_heat`]) run on rayon in fixed chunks of [`CONSUMER_CHUNK`] (pure maps; the
/// heat delivered summed per chunk and the chunks in order on either path: the same bits for any
/// number of threads).
pub const PARALLEL_CONSUMERS_FROM: usize = 50_000;
const CONSUMER_CHUNK: usize = 2048;

/// This tick's per-use factors: everything in a building's demand that does not depend on the
/// building itself.
#[derive(Clone, Copy, Default)]
struct UseFactors {
    /// Internal plus solar gains per m² of heated floor, W/m².
    gains_w_m2: f64,
    dhw_factor: f64,
    /// Occupancy (0 or 1) times the cooling load fraction.
    cooling_factor: f64,
    elec_w_m2: f64,
}

/// Internal plus solar gains per m² of heated floor of a building of use `u`, W/m²: what the
/// space-heating demand subtracts from `H·(T_set − T_out)` at this weather and hour (for
/// calibrations outside the simulation, e.g. the typology table of `qtwin import`).
pub fn gains_w_m2(u: BuildingUse, t_out: f64, ghi: f64, hour_f: f64, weekend: bool) -> f64 {
    use_factors(t_out, ghi, hour_f, weekend)[u as usize].gains_w_m2
}

fn use_factors(t_out: f64, ghi: f64, hour_f: f64, weekend: bool) -> [UseFactors; 6] {
    let hour = (hour_f.floor() as usize).min(23);
    ALL_USES.map(|u| {
        let p = profile(u);
        let occupied = hour_f >= p.hours.0 && hour_f < p.hours.1 && !(p.weekdays_only && weekend);
        let occ = if occupied { 1.0 } else { 0.0 };
        UseFactors {
            gains_w_m2: p.gains_w_m2 * occ + SOLAR_GAIN_FACTOR * ghi,
            dhw_factor: normalised(&p.dhw)[hour],
            cooling_factor: ((t_out - 22.0) / 10.0).clamp(0.0, 1.0) * occ / ABSORPTION_COP,
            elec_w_m2: if occupied {
                p.elec_occupied_w_m2
            } else {
                p.elec_idle_w_m2
            },
        }
    })
}

pub fn building_demand(
    clock: Res<SimClock>,
    weather: Res<WeatherNow>,
    spec: Res<crate::base::SceneSpec>,
    mut b: ResMut<Buildings>,
) {
    let day_index = (clock.abs_seconds() / 86_400.0).floor() as i64;
    // Day 0 of the year is taken as a Monday.
    let weekend = day_index.rem_euclid(7) >= 5;
    let f = use_factors(
        weather.outdoor_temp_c,
        weather.ghi_w_m2,
        weather.hour_of_day,
        weekend,
    );
    let t_set = spec.scene.sim.indoor_setpoint_c;
    let dt_in_out = t_set - weather.outdoor_temp_c;
    b.refresh_mass_constants(clock.tick_s);
    let b = &mut *b;
    let n = b.ids.len();
    let Buildings {
        use_,
        heated_area_m2,
        h_w_k,
        dhw_mean_w,
        cooling_peak_w,
        indoor_temp_c,
        mass_reheat_w_k,
        space_heat_w,
        reheat_w,
        gains_w,
        dhw_w,
        cooling_heat_w,
        electricity_w,
        ..
    } = b;
    // Outputs, per building: steady space heat, reheat, gains, hot water, cooling, electricity.
    let kernel = |r: std::ops::Range<usize>, out: [&mut [f64]; 6]| {
        let [sh, rh, gw, dh, ch, el] = out;
        // Every slice cut to the same length up front, so the loop runs without bounds checks.
        let n = sh.len();
        let (rh, gw, dh, ch, el) = (
            &mut rh[..n],
            &mut gw[..n],
            &mut dh[..n],
            &mut ch[..n],
            &mut el[..n],
        );
        let use_ = &use_[r.start..r.start + n];
        let area_ = &heated_area_m2[r.start..r.start + n];
        let h_ = &h_w_k[r.start..r.start + n];
        let dhw_ = &dhw_mean_w[r.start..r.start + n];
        let cool_ = &cooling_peak_w[r.start..r.start + n];
        let t_in_ = &indoor_temp_c[r.start..r.start + n];
        let r_ = &mass_reheat_w_k[r.start..r.start + n];
        for j in 0..n {
            let u = &f[use_[j] as usize];
            let area = area_[j];
            let gains = u.gains_w_m2 * area;
            let steady = h_[j] * dt_in_out - gains;
            sh[j] = steady.max(0.0);
            // At the set-point the reheat term is exactly 0 and so is `rh`.
            rh[j] = (steady + r_[j] * (t_set - t_in_[j])).max(0.0) - sh[j];
            gw[j] = gains;
            dh[j] = dhw_[j] * u.dhw_factor;
            ch[j] = cool_[j] * u.cooling_factor;
            el[j] = area * u.elec_w_m2;
        }
    };
    if n >= PARALLEL_THRESHOLD && cfg!(not(target_arch = "wasm32")) {
        space_heat_w
            .par_chunks_mut(CHUNK)
            .zip(reheat_w.par_chunks_mut(CHUNK))
            .zip(gains_w.par_chunks_mut(CHUNK))
            .zip(dhw_w.par_chunks_mut(CHUNK))
            .zip(cooling_heat_w.par_chunks_mut(CHUNK))
            .zip(electricity_w.par_chunks_mut(CHUNK))
            .enumerate()
            .for_each(|(c, (((((sh, rh), gw), dh), ch), el))| {
                let start = c * CHUNK;
                kernel(start..start + sh.len(), [sh, rh, gw, dh, ch, el])
            });
    } else {
        kernel(
            0..n,
            [
                space_heat_w,
                reheat_w,
                gains_w,
                dhw_w,
                cooling_heat_w,
                electricity_w,
            ],
        );
    }
}

impl Consumers {
    /// Each substation takes its heat at the supply temperature of its node
    /// (`supply_node_temp_c`, computed by the thermal domain this tick): a fixed-flow test consumer
    /// `Q = ṁ·c_p·(T_s − T_r)`; a fixed-ΔT one `Q = ṁ·c_p·ΔT`, returning at `T_s − ΔT`; a building
    /// or fixed-heat consumer `Q = min(demand + reheat, ṁ·c_p·(T_s − T_r,design))`, without hot water when
    /// `T_s` is below `dhw_min_c`, returning at `T_s − Q/(ṁ·c_p)`. What is not delivered is unmet;
    /// a shortfall is shared pro rata by space heating and the rest ([`Consumers::space_delivered_w`]).
    /// Gives the heat delivered over the tick, J.
    pub fn take_heat(
        &mut self,
        supply_node_temp_c: &[f64],
        cp: f64,
        dhw_min_c: f64,
        dt: f64,
    ) -> f64 {
        let dhw_min = dhw_min_c;
        let Consumers {
            kind,
            node,
            return_temp_c,
            demand_w,
            dhw_w,
            mass_flow_kg_s,
            space_w,
            reheat_w,
            delivered_w,
            space_delivered_w,
            unmet_w,
            return_out_c,
            ..
        } = self;
        // Every per-consumer slice cut to the same length up front: no bounds checks in the loop.
        let n = kind.len();
        let (node, return_temp_c, demand_w, dhw_w, mass_flow_kg_s, space_w, reheat_w) = (
            &node[..n],
            &return_temp_c[..n],
            &demand_w[..n],
            &dhw_w[..n],
            &mass_flow_kg_s[..n],
            &space_w[..n],
            &reheat_w[..n],
        );
        let (delivered_w, unmet_w, return_out_c, space_delivered_w) = (
            &mut delivered_w[..n],
            &mut unmet_w[..n],
            &mut return_out_c[..n],
            &mut space_delivered_w[..n],
        );
        // One chunk of substations: `o` its first index, the outputs its slices. The heat is summed
        // per chunk of `CONSUMER_CHUNK` and the chunks' sums in order, on either path.
        let kernel = |o: usize,
                      delivered_w: &mut [f64],
                      unmet_w: &mut [f64],
                      return_out_c: &mut [f64],
                      space_delivered_w: &mut [f64]|
         -> f64 {
            let mut delivered_j = 0.0;
            // Every slice cut to the chunk up front: no bounds checks in the loop.
            let r = o..o + delivered_w.len();
            let len = r.len();
            let (kind, node, return_temp_c, demand_w, dhw_w, mass_flow_kg_s, space_w, reheat_w) = (
                &kind[r.clone()],
                &node[r.clone()],
                &return_temp_c[r.clone()],
                &demand_w[r.clone()],
                &dhw_w[r.clone()],
                &mass_flow_kg_s[r.clone()],
                &space_w[r.clone()],
                &reheat_w[r],
            );
            let (unmet_w, return_out_c, space_delivered_w) = (
                &mut unmet_w[..len],
                &mut return_out_c[..len],
                &mut space_delivered_w[..len],
            );
            for i in 0..len {
                let m = mass_flow_kg_s[i];
                let node = match node[i] {
                    Some(n) if m > 0.0 => n as usize,
                    _ => {
                        delivered_w[i] = 0.0;
                        space_delivered_w[i] = 0.0;
                        unmet_w[i] = demand_w[i];
                        return_out_c[i] = return_temp_c[i];
                        continue;
                    }
                };
                let t_s = supply_node_temp_c[node];
                let (q, t_r) = match kind[i] {
                    ConsumerKind::Fixed(ConsumerDemand::MassFlowKgS(_)) => {
                        (m * cp * (t_s - return_temp_c[i]), return_temp_c[i])
                    }
                    ConsumerKind::Fixed(
                        ConsumerDemand::MassFlowDeltaT { delta_t_k, .. }
                        | ConsumerDemand::HeatDeltaT { delta_t_k, .. },
                    ) => {
                        let t_r = t_s - delta_t_k;
                        (m * cp * (t_s - t_r), t_r)
                    }
                    _ => {
                        // Demand plus reheat (`+ 0.0` at the set-point), less hot water it cannot
                        // make.
                        let want =
                            demand_w[i] + reheat_w[i] - if t_s < dhw_min { dhw_w[i] } else { 0.0 };
                        let can = m * cp * (t_s - return_temp_c[i]);
                        let q = want.min(can).max(0.0);
                        space_delivered_w[i] = if q >= want {
                            space_w[i]
                        } else if want > 0.0 {
                            space_w[i] * (q / want)
                        } else {
                            0.0
                        };
                        (q, t_s - q / (m * cp))
                    }
                };
                delivered_w[i] = q;
                unmet_w[i] = match kind[i] {
                    ConsumerKind::Fixed(
                        ConsumerDemand::MassFlowKgS(_) | ConsumerDemand::MassFlowDeltaT { .. },
                    ) => 0.0,
                    _ => (demand_w[i] - q).max(0.0),
                };
                return_out_c[i] = t_r;
                delivered_j += q * dt;
            }
            delivered_j
        };
        let sums: Vec<f64> = if n >= PARALLEL_CONSUMERS_FROM && parallel_ok() {
            delivered_w
                .par_chunks_mut(CONSUMER_CHUNK)
                .zip(unmet_w.par_chunks_mut(CONSUMER_CHUNK))
                .zip(return_out_c.par_chunks_mut(CONSUMER_CHUNK))
                .zip(space_delivered_w.par_chunks_mut(CONSUMER_CHUNK))
                .enumerate()
                .map(|(c, (((d, u), r), sd))| kernel(c * CONSUMER_CHUNK, d, u, r, sd))
                .collect()
        } else {
            delivered_w
                .chunks_mut(CONSUMER_CHUNK)
                .zip(unmet_w.chunks_mut(CONSUMER_CHUNK))
                .zip(return_out_c.chunks_mut(CONSUMER_CHUNK))
                .zip(space_delivered_w.chunks_mut(CONSUMER_CHUNK))
                .enumerate()
                .map(|(c, (((d, u), r), sd))| kernel(c * CONSUMER_CHUNK, d, u, r, sd))
                .collect()
        };
        sums.iter().sum()
    }

    /// Heat each substation took this tick, W.
    pub fn delivered_w(&self) -> &[f64] {
        &self.delivered_w
    }
    /// Space heat each substation delivered this tick (its share of [`Consumers::delivered_w`]), W.
    pub fn space_delivered_w(&self) -> &[f64] {
        &self.space_delivered_w
    }
    /// Heat each substation asked for and did not get this tick, W.
    pub fn unmet_w(&self) -> &[f64] {
        &self.unmet_w
    }
    /// Temperature each substation's return leaves at, °C.
    pub fn return_out_c(&self) -> &[f64] {
        &self.return_out_c
    }

    /// Hook for the faults domain: substation `i` gets no flow (its node is cut off).
    pub fn cut_off(&mut self, i: usize) {
        self.mass_flow_kg_s[i] = 0.0;
    }

    /// Hook for the hydraulics: substation `i` passes only `share` (0–1) of its requested flow
    /// (its control valve is wide open and the differential pressure it gets is too low).
    pub fn limit_flow(&mut self, i: usize, share: f64) {
        self.mass_flow_kg_s[i] *= share;
    }

    /// Hook for the faults domain (the operator's heat shedding): substation `i` takes `share`
    /// (0–1) less flow.
    pub fn shed(&mut self, i: usize, share: f64) {
        self.mass_flow_kg_s[i] *= 1.0 - share;
    }

    /// The network's design temperatures changed (a what-if edit on a running world): each
    /// substation's design return temperature and largest flow follow.
    pub fn refresh_design(&mut self, scene: &Scene, net: &Network, b: &Buildings) {
        let fresh = Consumers::from_scene(scene, net, b);
        self.return_temp_c = fresh.return_temp_c;
        self.max_mass_flow_kg_s = fresh.max_mass_flow_kg_s;
    }

    /// Each substation's heat demand and the flow it requests at the supply temperature it saw at
    /// its node last tick (`supply_node_temp_c`, by network node; the thermal domain calls this
    /// with its state): `ṁ = Q / (c_p·(T_s − T_r))`, capped at its largest flow, and the largest flow
    /// when the supply is within 5 K of the return. A building below its set-point adds its reheat
    /// ([`Buildings::reheat_w`]) up to what its largest flow carries, `ṁ_max·c_p·(T_s − T_r)`.
    pub fn update_requests(&mut self, b: &Buildings, net: &Network, supply_node_temp_c: &[f64]) {
        let cp = net.cp_j_kg_k;
        let Consumers {
            kind,
            node,
            return_temp_c,
            max_mass_flow_kg_s,
            demand_w,
            dhw_w,
            mass_flow_kg_s,
            space_w,
            reheat_w,
            ..
        } = self;
        // Every per-consumer slice cut to the same length up front: no bounds checks in the loop.
        let n = kind.len();
        let (node, return_temp_c, max_mass_flow_kg_s) =
            (&node[..n], &return_temp_c[..n], &max_mass_flow_kg_s[..n]);
        let (demand_w, dhw_w, mass_flow_kg_s, space_w, reheat_w) = (
            &mut demand_w[..n],
            &mut dhw_w[..n],
            &mut mass_flow_kg_s[..n],
            &mut space_w[..n],
            &mut reheat_w[..n],
        );
        // One chunk of substations: `o` its first index, the outputs its slices (a pure map).
        let kernel = |o: usize,
                      demand_w: &mut [f64],
                      dhw_w: &mut [f64],
                      mass_flow_kg_s: &mut [f64],
                      space_w: &mut [f64],
                      reheat_w: &mut [f64]| {
            // Every slice cut to the chunk up front: no bounds checks in the loop.
            let r = o..o + demand_w.len();
            let len = r.len();
            let (kind, node, return_temp_c, max_mass_flow_kg_s) = (
                &kind[r.clone()],
                &node[r.clone()],
                &return_temp_c[r.clone()],
                &max_mass_flow_kg_s[r],
            );
            let (dhw_w, mass_flow_kg_s, space_w, reheat_w) = (
                &mut dhw_w[..len],
                &mut mass_flow_kg_s[..len],
                &mut space_w[..len],
                &mut reheat_w[..len],
            );
            for i in 0..len {
                let (demand, dhw, space, reheat) = match kind[i] {
                    ConsumerKind::Building(bi) => {
                        let bi = bi as usize;
                        let steady = b.space_heat_w[bi] + b.dhw_w[bi] + b.cooling_heat_w[bi];
                        // The reheat, up to what the largest flow carries at this supply temperature
                        // (0 at the set-point: then the demand is the steady one, bit for bit).
                        let reheat = match node[i] {
                            Some(nd) if b.reheat_w[bi] > 0.0 => {
                                let dt_k =
                                    (supply_node_temp_c[nd as usize] - return_temp_c[i]).max(0.0);
                                b.reheat_w[bi]
                                    .min((max_mass_flow_kg_s[i] * cp * dt_k - steady).max(0.0))
                            }
                            _ => 0.0,
                        };
                        (steady, b.dhw_w[bi], b.space_heat_w[bi] + reheat, reheat)
                    }
                    ConsumerKind::Fixed(ConsumerDemand::HeatW(q)) => (q, 0.0, 0.0, 0.0),
                    ConsumerKind::Fixed(ConsumerDemand::MassFlowKgS(_)) => (0.0, 0.0, 0.0, 0.0),
                    ConsumerKind::Fixed(ConsumerDemand::MassFlowDeltaT {
                        mass_flow_kg_s,
                        delta_t_k,
                    }) => (mass_flow_kg_s * cp * delta_t_k, 0.0, 0.0, 0.0),
                    ConsumerKind::Fixed(ConsumerDemand::HeatDeltaT { heat_w, .. }) => {
                        (heat_w, 0.0, 0.0, 0.0)
                    }
                };
                demand_w[i] = demand;
                dhw_w[i] = dhw;
                space_w[i] = space;
                reheat_w[i] = reheat;
                // What the substation asks for: its demand and its reheat (`+ 0.0` at the set-point).
                let demand = demand + reheat;
                let flow = match node[i] {
                    Some(node) if net.is_supplied(node) => match kind[i] {
                        ConsumerKind::Fixed(ConsumerDemand::MassFlowKgS(m)) => m,
                        ConsumerKind::Fixed(ConsumerDemand::MassFlowDeltaT {
                            mass_flow_kg_s,
                            ..
                        }) => mass_flow_kg_s,
                        // Whatever the supply temperature: the drop is fixed (validated: at most
                        // 1e4 kg/s).
                        ConsumerKind::Fixed(ConsumerDemand::HeatDeltaT { heat_w, delta_t_k }) => {
                            heat_w / (cp * delta_t_k)
                        }
                        _ => {
                            let dt = supply_node_temp_c[node as usize] - return_temp_c[i];
                            if demand <= 0.0 {
                                0.0
                            } else if dt < 5.0 {
                                max_mass_flow_kg_s[i]
                            } else {
                                (demand / (cp * dt)).min(max_mass_flow_kg_s[i])
                            }
                        }
                    },
                    _ => 0.0,
                };
                mass_flow_kg_s[i] = flow;
            }
        };
        if n >= PARALLEL_CONSUMERS_FROM && parallel_ok() {
            demand_w
                .par_chunks_mut(CONSUMER_CHUNK)
                .zip(dhw_w.par_chunks_mut(CONSUMER_CHUNK))
                .zip(mass_flow_kg_s.par_chunks_mut(CONSUMER_CHUNK))
                .zip(space_w.par_chunks_mut(CONSUMER_CHUNK))
                .zip(reheat_w.par_chunks_mut(CONSUMER_CHUNK))
                .enumerate()
                .for_each(|(c, ((((d, h), m), sp), r))| kernel(c * CONSUMER_CHUNK, d, h, m, sp, r));
        } else {
            kernel(0, demand_w, dhw_w, mass_flow_kg_s, space_w, reheat_w);
        }
    }
}

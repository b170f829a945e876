//! Ledger: the energy balance of every tick, running totals and the KPIs a planner reads.
//!
//! # Heat balance (checked every tick)
//! `generation = delivered + pipe losses + leaks + tank losses + dumped + ΔE_pipes + ΔE_tanks`, where
//! generation is the heat of heat pumps, boilers and fixed sources, `ΔE_pipes = c_p·Δ(Σ m·T)` over
//! all water parcels, and `ΔE_tanks` the tanks' stored heat. Every term is computed independently
//! (node mixing, consumer extraction, parcel decay, tank state), so the balance checks the whole
//! thermal bookkeeping; the relative error is `|residual| / max(|terms|)`.
//!
//! # Conservation check, independent of the dispatch ([`conservation_check`])
//! The water's energy content recomputed from its state (every parcel's mass and mean
//! temperature, [`crate::thermal::water_energy_j`], and the tanks' stored heat) against the flows
//! across the network's boundary, computed from the water's flows and temperatures there and
//! summed tick by tick:
//! `ΔE_pipes = Σ ṁ_s·c_p·(T_out − T_r) − Σ ṁ_c·c_p·(T_s − T_r) − Σ ṁ_L·c_p·(T_s − T_mu) − L_ground`,
//! and for the plants `G = Σ ṁ_s·c_p·(T_out − T_r) + ΔE_tanks + L_tanks + D`. Its worst relative
//! residual is the report's `max_conservation_error_rel` (the first tick, and the first after a
//! what-if edit rebuilt the world, set its starting point). The water's state is summed every
//! [`CONSERVATION_INTERVAL_TICKS`] ticks (an hour of one-minute ticks), the boundary flows every
//! tick: summing every parcel of a city's network each tick was 9–13 % of its tick. The report
//! closes the interval a run ended in ([`Ledger::conservation_error_rel_now`]);
//! [`Ledger::conservation_interval_ticks`] = 1 checks every tick.
//!
//! # CO₂
//! - Scenario: gas burnt by boilers × 0.202 kg/kWh (natural gas, IPCC 2006: 56.1 t/TJ) plus grid
//!   imports × the hour's carbon intensity. Exports are not credited.
//! - Baseline ([`GAS_BOILER_EFFICIENCY`], [`REMOTE_DC_PUE`]): the same city, the heat the network
//!   delivered met by individual gas boilers at 90 % efficiency; its buildings' electricity from
//!   the same grid after the same PV and wind (no battery, no heat pumps, no network pumps); and
//!   the same quantum computing done in a remote data centre on the same grid, drawing the sites'
//!   electricity × PUE 1.4, its heat wasted. The baseline meets the delivered heat, not the
//!   demand, so a run that leaves homes cold does not look greener; the gas CO₂ the unmet heat
//!   would have cost is its own line (`co2_unmet_heat_kg`).
//! - The sites' cooling electricity ([`crate::quantum::cooling`]) is part of the grid's load (and
//!   so of the scenario's imports); it and the heat pumps' electricity are also charged at the
//!   hour's carbon intensity for the report's local-vs-remote comparison.
//!
//! # Quantum jobs
//! The job log's totals (see [`crate::quantum::schedule`]) are copied every tick; the sites'
//! electricity is also charged with the grid's carbon intensity of its tick
//! (`quantum_site_co2_kg`) for the report's comparison with a remote data centre. The data
//! links' totals (quantum-safe share, exposure, added latency: [`crate::links`]) likewise.
//!
//! # Comfort
//! From each building's indoor temperature at the end of each tick (`demand::indoor`):
//! degree-hours below the set-point `Σ max(0, T_set − T_i)·Δt/3600` (K·h), building-hours below
//! 18 °C, the buildings below 18 °C now and the most at any tick, and the lowest indoor temperature.
//!
//! Units: J internally; the report is in kWh, kg and shares (0–1).

pub mod report;

use bevy::prelude::*;

use crate::base::{SimClock, SimSet};
use crate::demand::{Buildings, Consumers};
use crate::grid::GridState;
use crate::hydraulics::HydraulicState;
use crate::plants::Stations;
use crate::quantum::Sites;
use crate::quantum::schedule::JobLog;
use crate::thermal::ThermalState;
use crate::weather::WeatherNow;

/// kg CO₂ per kWh of natural gas burnt (lower heating value).
pub const GAS_CO2_KG_KWH: f64 = 0.202;
/// Efficiency of the baseline's individual gas boilers.
pub const GAS_BOILER_EFFICIENCY: f64 = 0.9;
/// Power usage effectiveness of the baseline's remote data centre.
pub const REMOTE_DC_PUE: f64 = 1.4;
const J_PER_KWH: f64 = 3.6e6;

/// Running totals, J (or kg for CO₂).
#[derive(Resource, Debug, Clone, Default)]
pub struct Ledger {
    pub ticks: u64,
    pub heat_demand_j: f64,
    pub heat_delivered_j: f64,
    pub unmet_heat_j: f64,
    pub waste_heat_recovered_j: f64,
    pub waste_heat_available_j: f64,
    pub heat_pump_heat_j: f64,
    pub boiler_heat_j: f64,
    pub boiler_gas_j: f64,
    pub source_heat_j: f64,
    pub heat_pump_electricity_j: f64,
    pub pump_electricity_j: f64,
    pub pipe_losses_j: f64,
    pub tank_losses_j: f64,
    pub dumped_j: f64,
    /// Heat carried away by leaked water (relative to the make-up water), J.
    pub leak_heat_j: f64,
    /// Make-up water fed to replace leaks, kg.
    pub makeup_water_kg: f64,
    pub quantum_site_electricity_j: f64,
    pub building_electricity_j: f64,
    pub electricity_load_j: f64,
    pub pv_j: f64,
    pub wind_j: f64,
    pub grid_import_j: f64,
    pub grid_export_j: f64,
    pub unserved_j: f64,
    pub curtailed_j: f64,
    pub co2_kg: f64,
    pub co2_baseline_kg: f64,
    /// CO₂ of the quantum sites' electricity at the grid's carbon intensity of each tick, kg.
    pub quantum_site_co2_kg: f64,
    /// The job log's totals after the last tick.
    pub quantum_jobs: crate::quantum::schedule::JobTotals,
    /// The data links' totals after the last tick (see [`crate::links`]).
    pub links: crate::links::LinkTotals,
    pub max_balance_error_rel: f64,
    /// The independent conservation check ([`conservation_check`]): its worst relative residual
    /// over the run, and the last tick's residual, J.
    pub max_conservation_error_rel: f64,
    pub last_conservation_residual_j: f64,
    /// Electricity of the quantum sites' dry coolers and chillers, J, and its CO₂ at the grid's
    /// carbon intensity of each tick, kg.
    pub site_cooling_electricity_j: f64,
    pub site_cooling_co2_kg: f64,
    /// CO₂ of the heat pumps' electricity at the grid's carbon intensity of each tick, kg.
    pub heat_pump_co2_kg: f64,
    /// Gas-boiler CO₂ the unmet heat would have cost (what the baseline does not charge), kg.
    pub co2_unmet_heat_kg: f64,
    /// Hydraulics: the largest loop residual a solve left, Pa, and the ticks whose solve did not
    /// converge (stopped at its iteration limit).
    pub max_loop_residual_pa: f64,
    pub nonconverged_ticks: u64,
    /// Ticks in which a reference pump ran at its largest head, and the largest head any would
    /// have needed, Pa.
    pub head_limited_ticks: u64,
    pub max_head_needed_pa: f64,
    /// The lowest differential pressure a substation asking for flow had, Pa, and which one
    /// (consumer index), over the run.
    pub min_substation_dp: Option<(f64, u32)>,
    /// Comfort: degree-hours below the set-point, K·h; building-seconds below 18 °C; buildings below
    /// 18 °C after the last tick and the most at any tick; the lowest indoor temperature, °C.
    pub comfort_deficit_kh: f64,
    pub cold_building_s: f64,
    pub cold_buildings_now: u32,
    pub cold_buildings_max: u32,
    pub min_indoor_temp_c: Option<f64>,
    /// Balance residual of the last tick, J, and its relative size.
    pub last_residual_j: f64,
    pub last_error_rel: f64,
    /// Optional per-tick time series.
    pub series: Option<Vec<TickRecord>>,
    prev_tank_j: Option<f64>,
    /// Energy content of the water in pipes and of the tanks at the last checkpoint of the
    /// conservation check, J.
    prev_water_j: Option<(f64, f64)>,
    /// Ticks between two checkpoints of the conservation check (0 or 1: every tick).
    pub conservation_interval_ticks: u32,
    /// The boundary flows summed since the last checkpoint, and over how many ticks.
    conservation_acc: ConservationTerms,
    conservation_acc_ticks: u32,
}

/// Ticks between two sums of the water's state for the conservation check (see the module doc).
pub const CONSERVATION_INTERVAL_TICKS: u32 = 60;

/// One row of the time series.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TickRecord {
    pub time_s: f64,
    pub outdoor_temp_c: f64,
    pub ground_temp_c: f64,
    pub supply_setpoint_c: f64,
    pub heat_demand_w: f64,
    pub heat_delivered_w: f64,
    pub unmet_heat_w: f64,
    pub heat_pump_heat_w: f64,
    pub waste_heat_recovered_w: f64,
    pub boiler_heat_w: f64,
    pub heat_losses_w: f64,
    pub tank_energy_kwh: f64,
    pub pump_power_w: f64,
    pub quantum_site_power_w: f64,
    pub pv_w: f64,
    pub wind_w: f64,
    pub electricity_load_w: f64,
    pub battery_w: f64,
    pub grid_import_w: f64,
    pub grid_export_w: f64,
    pub carbon_g_kwh: f64,
    pub balance_error_rel: f64,
}

impl Ledger {
    /// An empty ledger whose tanks start holding `tank_energy_j`.
    pub fn new(tank_energy_j: f64) -> Self {
        Self {
            prev_tank_j: Some(tank_energy_j),
            conservation_interval_ticks: CONSERVATION_INTERVAL_TICKS,
            ..Default::default()
        }
    }
    /// The worst relative residual of the conservation check, including the interval still open
    /// (the ticks since its last checkpoint) checked against `water_now`, the energy content of
    /// the pipes' water and of the tanks now, J (see [`crate::thermal::ThermalState::water_energy_from_parcels_j`]).
    pub fn conservation_error_rel_now(&self, water_now: (f64, f64)) -> f64 {
        match self.prev_water_j {
            Some(before) if self.conservation_acc_ticks > 0 => {
                let t = self.conservation_acc.between(before, water_now);
                self.max_conservation_error_rel
                    .max(conservation_check(&t).1)
            }
            _ => self.max_conservation_error_rel,
        }
    }
    /// Ticks since the conservation check's last checkpoint.
    pub fn conservation_ticks_open(&self) -> u32 {
        self.conservation_acc_ticks
    }
    /// Starts recording a per-tick time series.
    /// Forgets the tanks' energy of the last tick, so the next tick's heat balance starts from
    /// the tanks as they are (after a what-if edit rebuilt the world).
    pub fn restart_balance(&mut self) {
        self.prev_tank_j = None;
        self.prev_water_j = None;
    }
    pub fn record_series(&mut self) {
        self.series = Some(Vec::new());
    }
}

pub struct LedgerPlugin;

impl Plugin for LedgerPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(
            FixedUpdate,
            (account, finish_tick).chain().in_set(SimSet::Ledger),
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn account(
    clock: Res<SimClock>,
    weather: Res<WeatherNow>,
    th: Res<ThermalState>,
    st: Res<Stations>,
    hs: Res<HydraulicState>,
    net: Res<crate::network::Network>,
    consumers: Res<Consumers>,
    buildings: Res<Buildings>,
    sites: Res<Sites>,
    grid: Res<GridState>,
    jobs: Option<Res<JobLog>>,
    spec: Res<crate::base::SceneSpec>,
    links: Option<Res<crate::links::DataLinkState>>,
    mut l: ResMut<Ledger>,
) {
    let dt = clock.tick_s;
    // The buildings' comfort and electricity in one pass over them (and the substations' demand
    // and unmet heat in one below): each sum is still added in index order, so the bits are those
    // of separate passes, but the independent sums overlap instead of each waiting out its own
    // chain of additions (a pass of 10,000 additions is latency-bound at ~13 µs).
    let comfort = comfort_tick(
        buildings.indoor_temp_c(),
        spec.scene.sim.indoor_setpoint_c,
        &buildings.electricity_w,
    );
    apply_comfort(&mut l, comfort, dt);
    let sum = |v: &[f64]| v.iter().sum::<f64>();
    let hp = sum(&st.hp_heat_w) * dt;
    let boiler = sum(&st.boiler_heat_w) * dt;
    let source = sum(&st.source_heat_w) * dt;
    let generation = hp + boiler + source;
    let tank_loss = sum(&st.tank_loss_w) * dt;
    let dumped = sum(&st.dumped_w) * dt;
    let tank_now = st.tank_energy_j();
    let tank_before = l.prev_tank_j.unwrap_or(tank_now);
    let d_tank = tank_now - tank_before;
    let d_pipes = th.stored_j - th.stored_before_j;
    let out = th.delivered_j + th.loss_j + th.leak_j + tank_loss + dumped + d_pipes + d_tank;
    let residual = generation - out;
    let scale = [
        generation,
        th.delivered_j,
        th.loss_j,
        th.leak_j.abs(),
        d_pipes.abs(),
        d_tank.abs(),
        tank_loss,
        dumped,
    ]
    .into_iter()
    .fold(1.0, f64::max);
    let rel = residual.abs() / scale;
    l.prev_tank_j = Some(tank_now);
    l.last_residual_j = residual;
    l.last_error_rel = rel;
    l.max_balance_error_rel = l.max_balance_error_rel.max(rel);

    // The independent conservation check, from the water's state and the boundary flows: the
    // flows every tick, the water's state at each checkpoint.
    let cp = net.cp_j_kg_k;
    let water_now = || (th.water_energy_from_parcels_j(cp), tank_now);
    match l.prev_water_j {
        None => {
            l.prev_water_j = Some(water_now());
            l.conservation_acc = ConservationTerms::default();
            l.conservation_acc_ticks = 0;
        }
        Some(water_before) => {
            let tick = ConservationTerms::from_state(
                &st,
                &consumers,
                &net,
                &th,
                hs.makeup_temp_c,
                dt,
                (0.0, 0.0),
                (0.0, 0.0),
            );
            l.conservation_acc.add_flows(&tick);
            l.conservation_acc_ticks += 1;
            if l.conservation_acc_ticks >= l.conservation_interval_ticks.max(1) {
                let now = water_now();
                let terms = l.conservation_acc.between(water_before, now);
                let (res, rel) = conservation_check(&terms);
                l.last_conservation_residual_j = res;
                l.max_conservation_error_rel = l.max_conservation_error_rel.max(rel);
                l.prev_water_j = Some(now);
                l.conservation_acc = ConservationTerms::default();
                l.conservation_acc_ticks = 0;
            }
        }
    }

    let (demand_w, unmet_w) = sum2(&consumers.demand_w, consumers.unmet_w());
    let demand = demand_w * dt;
    let delivered = th.delivered_j;
    let unmet = unmet_w * dt;
    let recovered = sum(&sites.recovered_w) * dt;
    let site_elec = sum(&sites.electricity_w) * dt;
    let bldg_elec = comfort.other_sum * dt;
    let ci_kg_per_j = grid.carbon_now_g_kwh / 1000.0 / J_PER_KWH;
    let gas = sum(&st.boiler_gas_w) * dt;

    l.ticks += 1;
    l.heat_demand_j += demand;
    l.heat_delivered_j += delivered;
    l.unmet_heat_j += unmet;
    l.waste_heat_recovered_j += recovered;
    l.waste_heat_available_j += sum(&sites.recoverable_w) * dt;
    l.heat_pump_heat_j += hp;
    l.boiler_heat_j += boiler;
    l.boiler_gas_j += gas;
    l.source_heat_j += source;
    l.heat_pump_electricity_j += sum(&st.hp_electricity_w) * dt;
    l.pump_electricity_j += hs.pump_power_w * dt;
    l.max_loop_residual_pa = l.max_loop_residual_pa.max(hs.max_loop_residual_pa);
    l.nonconverged_ticks += u64::from(!hs.converged);
    l.head_limited_ticks += u64::from(hs.head_limited);
    l.max_head_needed_pa = l.max_head_needed_pa.max(hs.head_needed_pa);
    if let Some(c) = hs.critical_consumer
        && l.min_substation_dp
            .is_none_or(|(dp, _)| hs.critical_dp_pa < dp)
    {
        l.min_substation_dp = Some((hs.critical_dp_pa, c));
    }
    l.pipe_losses_j += th.loss_j;
    l.tank_losses_j += tank_loss;
    l.dumped_j += dumped;
    l.leak_heat_j += th.leak_j;
    l.makeup_water_kg += net.node_leak_kg_s().iter().sum::<f64>() * dt;
    l.quantum_site_electricity_j += site_elec;
    l.building_electricity_j += bldg_elec;
    l.electricity_load_j += grid.load_w * dt;
    l.pv_j += grid.pv_w * dt;
    l.wind_j += grid.wind_w * dt;
    l.grid_import_j += grid.import_w * dt;
    l.grid_export_j += grid.export_w * dt;
    l.unserved_j += grid.unserved_w * dt;
    l.curtailed_j += grid.curtailed_w * dt;
    l.co2_kg += gas / J_PER_KWH * GAS_CO2_KG_KWH + grid.import_w * dt * ci_kg_per_j;
    l.quantum_site_co2_kg += site_elec * ci_kg_per_j;
    if let Some(j) = jobs {
        l.quantum_jobs = j.totals.clone();
    }
    let cooling = sum(&sites.cooling_w) * dt;
    let hp_elec = sum(&st.hp_electricity_w) * dt;
    l.site_cooling_electricity_j += cooling;
    l.site_cooling_co2_kg += cooling * ci_kg_per_j;
    l.heat_pump_co2_kg += hp_elec * ci_kg_per_j;
    // The baseline's boilers make the heat the network delivered (a run that leaves homes cold
    // does not buy itself a larger baseline); the unmet heat's boiler CO₂ is counted apart.
    if let Some(d) = links {
        l.links = d.totals.clone();
    }
    let baseline_import = (bldg_elec - (grid.pv_w + grid.wind_w) * dt).max(0.0);
    l.co2_baseline_kg += delivered / GAS_BOILER_EFFICIENCY / J_PER_KWH * GAS_CO2_KG_KWH
        + (baseline_import + site_elec * REMOTE_DC_PUE) * ci_kg_per_j;
    l.co2_unmet_heat_kg += unmet / GAS_BOILER_EFFICIENCY / J_PER_KWH * GAS_CO2_KG_KWH;

    if let Some(series) = l.series.as_mut() {
        series.push(TickRecord {
            time_s: clock.time_s,
            outdoor_temp_c: weather.outdoor_temp_c,
            ground_temp_c: weather.ground_temp_c,
            supply_setpoint_c: st.setpoint_c.first().copied().unwrap_or(0.0),
            heat_demand_w: demand / dt,
            heat_delivered_w: delivered / dt,
            unmet_heat_w: unmet / dt,
            heat_pump_heat_w: hp / dt,
            waste_heat_recovered_w: recovered / dt,
            boiler_heat_w: boiler / dt,
            heat_losses_w: (th.loss_j + tank_loss) / dt,
            tank_energy_kwh: tank_now / J_PER_KWH,
            pump_power_w: hs.pump_power_w,
            quantum_site_power_w: site_elec / dt,
            pv_w: grid.pv_w,
            wind_w: grid.wind_w,
            electricity_load_w: grid.load_w,
            battery_w: grid.battery_w,
            grid_import_w: grid.import_w,
            grid_export_w: grid.export_w,
            carbon_g_kwh: grid.carbon_now_g_kwh,
            balance_error_rel: rel,
        });
    }
}

/// The terms of one tick's independent conservation check, J.
///
/// The water (pipes and tanks) is the control volume. Its energy content `E` is recomputed from
/// its state every tick — each pipe parcel's mass and mean temperature
/// ([`crate::thermal::water_energy_j`]) plus the tanks' stored heat — and the flows across its
/// boundary from the water's flows and temperatures there: at each station `ṁ·c_p·(T_out − T_r)`,
/// at each substation `ṁ·c_p·(T_s − T_r)`, at each leak `ṁ·c_p·(T_s − T_mu)`, and the loss of every
/// pipe to the ground. Two identities must hold:
/// - water: `ΔE_pipes = H_stations − H_substations − H_leaks − L_ground`;
/// - plants: `G = H_stations + ΔE_tanks + L_tanks + D`, with `G` the heat the plants booked (heat
///   pumps, boilers, fixed sources) and `D` the heat a station could not place.
///
/// Neither uses the dispatch's split to explain itself: a plant booked wrongly, a substation
/// whose booked heat differs from what its water gave, or a parcel that lost energy fail one of
/// them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ConservationTerms {
    /// Energy content of the water in the pipes, and of the tanks, before and after the tick.
    pub pipes_before_j: f64,
    pub pipes_after_j: f64,
    pub tanks_before_j: f64,
    pub tanks_after_j: f64,
    pub stations_j: f64,
    pub substations_j: f64,
    pub leaks_j: f64,
    pub ground_loss_j: f64,
    /// Heat the plants booked (heat pumps + boilers + fixed sources).
    pub plants_booked_j: f64,
    pub tank_loss_j: f64,
    pub dumped_j: f64,
}

impl ConservationTerms {
    /// The terms from the state after a tick; `before` and `after` are the energy contents
    /// (pipes, tanks) at the end of last tick and of this one.
    #[allow(clippy::too_many_arguments)]
    pub fn from_state(
        st: &Stations,
        c: &Consumers,
        net: &crate::network::Network,
        th: &ThermalState,
        makeup_temp_c: f64,
        dt: f64,
        before: (f64, f64),
        after: (f64, f64),
    ) -> Self {
        let cp = net.cp_j_kg_k;
        let stations_j: f64 = (0..st.len())
            .map(|s| st.mass_flow_kg_s[s] * dt * cp * (st.supply_out_c[s] - st.return_in_c()[s]))
            .sum();
        // Summed per chunk of substations and the chunks in order (on rayon for big cities): the
        // same bits for any number of threads.
        let chunk = |r: std::ops::Range<usize>| -> f64 {
            r.filter_map(|i| {
                let m = c.mass_flow_kg_s[i];
                let n = c.node[i]? as usize;
                (m > 0.0).then(|| m * dt * cp * (th.supply_node_temp_c[n] - c.return_out_c()[i]))
            })
            .sum()
        };
        const CHUNK: usize = 4096;
        let chunks = c.len().div_ceil(CHUNK);
        let range = |k: usize| k * CHUNK..((k + 1) * CHUNK).min(c.len());
        let sums: Vec<f64> = if c.len() >= crate::demand::PARALLEL_CONSUMERS_FROM
            && cfg!(not(target_arch = "wasm32"))
            && rayon::current_num_threads() > 1
        {
            use rayon::prelude::*;
            (0..chunks)
                .into_par_iter()
                .map(|k| chunk(range(k)))
                .collect()
        } else {
            (0..chunks).map(|k| chunk(range(k))).collect()
        };
        let substations_j: f64 = sums.iter().sum();
        let leaks_j: f64 = net
            .node_leak_kg_s()
            .iter()
            .enumerate()
            .filter(|&(_, &m)| m > 0.0)
            .map(|(n, &m)| m * dt * cp * (th.supply_node_temp_c[n] - makeup_temp_c))
            .sum();
        let ground_loss_j = th.pipe_loss_w.iter().sum::<f64>() * dt;
        let sum = |v: &[f64]| v.iter().sum::<f64>();
        let tank_loss_j = sum(&st.tank_loss_w) * dt;
        Self {
            pipes_before_j: before.0,
            pipes_after_j: after.0,
            tanks_before_j: before.1,
            tanks_after_j: after.1,
            stations_j,
            substations_j,
            leaks_j,
            ground_loss_j,
            plants_booked_j: (sum(&st.hp_heat_w) + sum(&st.boiler_heat_w) + sum(&st.source_heat_w))
                * dt,
            tank_loss_j,
            dumped_j: sum(&st.dumped_w) * dt,
        }
    }
}

impl ConservationTerms {
    /// These flows with the energy contents (pipes, tanks) `before` and `after` them, J.
    pub fn between(&self, before: (f64, f64), after: (f64, f64)) -> Self {
        Self {
            pipes_before_j: before.0,
            tanks_before_j: before.1,
            pipes_after_j: after.0,
            tanks_after_j: after.1,
            ..*self
        }
    }
    /// Adds the flows across the boundary of `t` (not its energy contents) to these.
    pub fn add_flows(&mut self, t: &ConservationTerms) {
        self.stations_j += t.stations_j;
        self.substations_j += t.substations_j;
        self.leaks_j += t.leaks_j;
        self.ground_loss_j += t.ground_loss_j;
        self.plants_booked_j += t.plants_booked_j;
        self.tank_loss_j += t.tank_loss_j;
        self.dumped_j += t.dumped_j;
    }
}

/// The conservation check of one tick (or of an interval, its flows summed): the larger of the two identities' residuals of
/// [`ConservationTerms`], J, and relative to the largest term.
pub fn conservation_check(t: &ConservationTerms) -> (f64, f64) {
    let d_tanks = t.tanks_after_j - t.tanks_before_j;
    let d_pipes = t.pipes_after_j - t.pipes_before_j;
    let water = d_pipes - (t.stations_j - t.substations_j - t.leaks_j - t.ground_loss_j);
    let plants = t.plants_booked_j - (t.stations_j + d_tanks + t.tank_loss_j + t.dumped_j);
    let scale = [
        t.stations_j.abs(),
        t.substations_j.abs(),
        t.leaks_j.abs(),
        t.ground_loss_j.abs(),
        t.plants_booked_j.abs(),
        d_pipes.abs(),
        d_tanks.abs(),
        t.tank_loss_j,
        t.dumped_j,
    ]
    .into_iter()
    .fold(1.0, f64::max);
    let res = if water.abs() >= plants.abs() {
        water
    } else {
        plants
    };
    (res, res.abs() / scale)
}

/// Adds one tick's comfort figures (indoor temperatures at its end, °C; set-point, °C; tick, s).
pub fn account_comfort(l: &mut Ledger, indoor_c: &[f64], t_set_c: f64, dt: f64) {
    apply_comfort(l, comfort_tick(indoor_c, t_set_c, &[]), dt);
}

/// One tick's comfort figures over the buildings, and the sum of `other` (a per-building array
/// of the same length, or empty) taken in the same pass.
#[derive(Debug, Clone, Copy)]
struct ComfortTick {
    deficit_k: f64,
    n_cold: u32,
    lowest_c: f64,
    other_sum: f64,
}

fn comfort_tick(indoor_c: &[f64], t_set_c: f64, other: &[f64]) -> ComfortTick {
    let cold = crate::demand::indoor::COLD_THRESHOLD_C;
    // `-0.0` is where `Iterator::sum` of f64 starts: the same bits as `other.iter().sum()`.
    let (mut deficit_k, mut n_cold, mut lowest, mut other_sum) = (0.0, 0u32, f64::INFINITY, -0.0);
    let mut one = |t: f64| {
        deficit_k += (t_set_c - t).max(0.0);
        n_cold += u32::from(t < cold);
        lowest = lowest.min(t);
    };
    if other.len() == indoor_c.len() {
        for (&t, &x) in indoor_c.iter().zip(other) {
            one(t);
            other_sum += x;
        }
    } else {
        indoor_c.iter().for_each(|&t| one(t));
        other_sum = other.iter().sum();
    }
    ComfortTick {
        deficit_k,
        n_cold,
        lowest_c: lowest,
        other_sum,
    }
}

/// `(Σa, Σb)`, each added in index order (the bits of `a.iter().sum()`), in one pass when the
/// two have the same length.
fn sum2(a: &[f64], b: &[f64]) -> (f64, f64) {
    if a.len() != b.len() {
        return (a.iter().sum(), b.iter().sum());
    }
    a.iter()
        .zip(b)
        .fold((-0.0, -0.0), |(sa, sb), (&x, &y)| (sa + x, sb + y))
}

fn apply_comfort(l: &mut Ledger, c: ComfortTick, dt: f64) {
    let ComfortTick {
        deficit_k,
        n_cold,
        lowest_c: lowest,
        ..
    } = c;
    l.comfort_deficit_kh += deficit_k * dt / 3600.0;
    l.cold_building_s += f64::from(n_cold) * dt;
    l.cold_buildings_now = n_cold;
    l.cold_buildings_max = l.cold_buildings_max.max(n_cold);
    if lowest.is_finite() {
        l.min_indoor_temp_c = Some(l.min_indoor_temp_c.map_or(lowest, |m| m.min(lowest)));
    }
}

/// Moves the clock past the tick just computed.
fn finish_tick(mut clock: ResMut<SimClock>) {
    clock.tick += 1;
    clock.time_s = clock.tick as f64 * clock.tick_s;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values whose sum depends on the order of the additions (magnitudes from 1e-3 to 1e12,
    /// both signs): the fused passes must give the bits of the separate ones.
    fn awkward(n: usize, seed: u64) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let z = crate::quantum::jobs::mix64(seed ^ i as u64);
                let mag = 10f64.powi((z % 16) as i32 - 3);
                let sign = if z & 1 << 40 == 0 { 1.0 } else { -1.0 };
                sign * mag * (1.0 + (z >> 12) as f64 / (1u64 << 52) as f64)
            })
            .collect()
    }

    #[test]
    fn fused_sums_have_the_bits_of_separate_passes() {
        let (a, b) = (awkward(10_007, 1), awkward(10_007, 2));
        let (sa, sb) = sum2(&a, &b);
        assert_eq!(sa.to_bits(), a.iter().sum::<f64>().to_bits());
        assert_eq!(sb.to_bits(), b.iter().sum::<f64>().to_bits());
        // A different order gives other bits for these values: the test can tell.
        let rev: f64 = a.iter().rev().sum();
        assert_ne!(rev.to_bits(), sa.to_bits());
        // Unequal lengths fall back to the separate passes.
        let (sa, sb) = sum2(&a, &b[1..]);
        assert_eq!(sa.to_bits(), a.iter().sum::<f64>().to_bits());
        assert_eq!(sb.to_bits(), b[1..].iter().sum::<f64>().to_bits());
        assert_eq!(
            sum2(&[], &[]).0.to_bits(),
            [0.0f64; 0].iter().sum::<f64>().to_bits()
        );

        let indoor: Vec<f64> = awkward(10_007, 3).iter().map(|x| 15.0 + x % 8.0).collect();
        let c = comfort_tick(&indoor, 20.0, &b);
        assert_eq!(c.other_sum.to_bits(), b.iter().sum::<f64>().to_bits());
        let alone = comfort_tick(&indoor, 20.0, &[]);
        assert_eq!(c.deficit_k.to_bits(), alone.deficit_k.to_bits());
        assert_eq!(c.lowest_c.to_bits(), alone.lowest_c.to_bits());
        assert_eq!(c.n_cold, alone.n_cold);
        let deficit: f64 = indoor.iter().fold(0.0, |s, &t| s + (20.0 - t).max(0.0));
        assert_eq!(c.deficit_k.to_bits(), deficit.to_bits());
        let cold = crate::demand::indoor::COLD_THRESHOLD_C;
        assert_eq!(
            c.n_cold as usize,
            indoor.iter().filter(|&&t| t < cold).count()
        );
        assert!(c.n_cold > 0 && (c.n_cold as usize) < indoor.len());
    }
}

//! The run report (JSON), the final state by id (JSON), the time series (CSV) and the summary
//! table printed after a headless run.
//!
//! The report holds no wall-clock time or host detail, so the same scene, seed and tick give the
//! same bytes on any machine and thread count.

use serde::Serialize;
use serde_json::{Value, json};

use super::{GAS_BOILER_EFFICIENCY, GAS_CO2_KG_KWH, Ledger, REMOTE_DC_PUE};
use crate::base::{SceneSpec, SimClock, SimWorld};
use crate::demand::{ConsumerKind, Consumers};
use crate::grid::GridState;
use crate::hydraulics::HydraulicState;
use crate::network::Network;
use crate::plants::Stations;
use crate::quantum::Sites;
use crate::scene::scene_hash;
use crate::thermal::ThermalState;

const J_PER_KWH: f64 = 3.6e6;

/// The KPIs of a run, in the units their names say.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Kpis {
    pub heat_demand_kwh: f64,
    pub heat_delivered_kwh: f64,
    pub unmet_heat_kwh: f64,
    pub waste_heat_recovered_kwh: f64,
    /// Recovered quantum waste heat over delivered heat.
    pub waste_heat_share: f64,
    /// Heat-pump heat (waste heat plus the heat pumps' electricity) over generated heat.
    pub heat_pump_share: f64,
    pub boiler_heat_kwh: f64,
    pub boiler_gas_kwh: f64,
    pub heat_pump_electricity_kwh: f64,
    pub pump_electricity_kwh: f64,
    /// Pipe and tank losses to the ground and surroundings.
    pub heat_losses_kwh: f64,
    pub quantum_site_electricity_kwh: f64,
    pub building_electricity_kwh: f64,
    pub electricity_load_kwh: f64,
    pub pv_kwh: f64,
    pub wind_kwh: f64,
    pub grid_import_kwh: f64,
    pub grid_export_kwh: f64,
    /// Share of the city's electricity load met by local PV and wind (directly or via batteries).
    pub renewable_share: f64,
    pub co2_kg: f64,
    pub co2_baseline_kg: f64,
    pub max_energy_balance_error_rel: f64,
    // ---- quantum jobs (0 when there were none; means over completed jobs) ----
    #[serde(default)]
    pub quantum_jobs_submitted: u64,
    #[serde(default)]
    pub quantum_jobs_completed: u64,
    #[serde(default)]
    pub quantum_jobs_missed_deadline: u64,
    #[serde(default)]
    pub quantum_jobs_rejected: u64,
    /// From submission to start, s.
    #[serde(default)]
    pub mean_job_wait_s: f64,
    /// Estimated from the calibration the job ran under.
    #[serde(default)]
    pub mean_job_success_probability: f64,
    /// Mean sampled cut over maximum cut of the traffic (QAOA MaxCut) jobs.
    #[serde(default)]
    pub mean_qaoa_approximation_ratio: f64,
    /// Round trip between a job's district and the site that ran it, ms.
    #[serde(default)]
    pub mean_latency_ms_local: f64,
    /// Round trip of the same jobs to a remote cloud data centre, ms.
    #[serde(default)]
    pub mean_latency_ms_remote: f64,
    /// The sites' electricity over the run per completed job.
    #[serde(default)]
    pub quantum_energy_per_job_kwh: f64,
    // ---- data links (crate::links; over completed jobs) ----
    /// Share of the job data sent over quantum-safe links (hybrid, ML-KEM, QKD).
    #[serde(default)]
    pub link_quantum_safe_share: f64,
    /// "Harvest now, decrypt later" exposure: job data sent over classical links of services
    /// whose secrecy lifetime plus the migration time exceeds the quantum-computer horizon, MB.
    #[serde(default)]
    pub link_exposed_mb: f64,
    #[serde(default)]
    pub link_exposed_jobs: u64,
    #[serde(default)]
    pub link_handshakes: u64,
    /// Key exchanges that failed (each closes its link for a tick).
    #[serde(default)]
    pub link_kex_failures: u64,
    /// Sessions of QKD links that fell back to classical key exchange (flagged).
    #[serde(default)]
    pub link_classical_fallback_sessions: u64,
    /// Latency the key exchange and record protection add to a job, ms: mean over all jobs and
    /// by scheme (0 for a scheme that carried none).
    #[serde(default)]
    pub link_added_latency_ms_mean: f64,
    #[serde(default)]
    pub link_added_latency_ms_classical: f64,
    #[serde(default)]
    pub link_added_latency_ms_hybrid: f64,
    #[serde(default)]
    pub link_added_latency_ms_pure_mlkem: f64,
    #[serde(default)]
    pub link_added_latency_ms_qkd: f64,
    // ---- hydraulics ----
    /// The largest loop residual a network solve left, Pa (converged solves: below 1 Pa).
    #[serde(default)]
    pub max_loop_residual_pa: f64,
    /// Ticks whose network solve stopped at its iteration limit without closing every loop.
    #[serde(default)]
    pub hydraulic_nonconverged_ticks: u64,
    /// Ticks in which a reference pump ran at its largest head (substations short of pressure).
    #[serde(default)]
    pub pump_head_limited_ticks: u64,
    /// The largest pump head the network would have needed to give every substation its minimum
    /// differential pressure, Pa.
    #[serde(default)]
    pub max_pump_head_needed_pa: f64,
    /// The lowest differential pressure a substation asking for flow had over the run, Pa (the
    /// substation is the report's `critical_substation`).
    #[serde(default)]
    pub min_substation_dp_pa: f64,
    // ---- accounting (issue 13) ----
    /// Gas-boiler CO₂ the unmet heat would have cost; the baseline is on delivered heat and does
    /// not include it.
    #[serde(default)]
    pub co2_unmet_heat_kg: f64,
    /// Electricity of the quantum sites' dry coolers and chillers.
    #[serde(default)]
    pub site_cooling_electricity_kwh: f64,
    /// The sites' electricity with their cooling over their electricity without it.
    #[serde(default)]
    pub local_pue: f64,
    /// The worst relative residual of the independent conservation check (the water's energy
    /// content against the flows across the network's boundary; see `ledger::conservation_check`).
    #[serde(default)]
    pub max_conservation_error_rel: f64,
    // ---- comfort (buildings' indoor temperature; see `demand::indoor`) ----
    /// Degree-hours below the indoor set-point, summed over buildings, K·h.
    #[serde(default)]
    pub comfort_deficit_kh: f64,
    /// Building-hours below 18 °C.
    #[serde(default)]
    pub building_hours_below_18c: f64,
    /// Buildings below 18 °C at the end of the run, and the most at any tick.
    #[serde(default)]
    pub buildings_below_18c_end: u32,
    #[serde(default)]
    pub buildings_below_18c_max: u32,
    /// The lowest indoor temperature of any building at any tick, °C.
    #[serde(default)]
    pub min_indoor_temp_c: f64,
}

impl Kpis {
    pub fn from_ledger(l: &Ledger) -> Self {
        let kwh = |j: f64| j / J_PER_KWH;
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let generation = l.heat_pump_heat_j + l.boiler_heat_j + l.source_heat_j;
        let q = &l.quantum_jobs;
        let done = q.completed as f64;
        let link_ms = |i: usize| {
            let b = &l.links.by_scheme[i];
            1e3 * ratio(b.added_latency_s_sum, b.jobs as f64)
        };
        Kpis {
            heat_demand_kwh: kwh(l.heat_demand_j),
            heat_delivered_kwh: kwh(l.heat_delivered_j),
            unmet_heat_kwh: kwh(l.unmet_heat_j),
            waste_heat_recovered_kwh: kwh(l.waste_heat_recovered_j),
            waste_heat_share: ratio(l.waste_heat_recovered_j, l.heat_delivered_j),
            heat_pump_share: ratio(l.heat_pump_heat_j, generation),
            boiler_heat_kwh: kwh(l.boiler_heat_j),
            boiler_gas_kwh: kwh(l.boiler_gas_j),
            heat_pump_electricity_kwh: kwh(l.heat_pump_electricity_j),
            pump_electricity_kwh: kwh(l.pump_electricity_j),
            heat_losses_kwh: kwh(l.pipe_losses_j + l.tank_losses_j),
            quantum_site_electricity_kwh: kwh(l.quantum_site_electricity_j),
            building_electricity_kwh: kwh(l.building_electricity_j),
            electricity_load_kwh: kwh(l.electricity_load_j),
            pv_kwh: kwh(l.pv_j),
            wind_kwh: kwh(l.wind_j),
            grid_import_kwh: kwh(l.grid_import_j),
            grid_export_kwh: kwh(l.grid_export_j),
            renewable_share: ratio(
                (l.electricity_load_j - l.grid_import_j - l.unserved_j).max(0.0),
                l.electricity_load_j,
            ),
            co2_kg: l.co2_kg,
            co2_baseline_kg: l.co2_baseline_kg,
            max_energy_balance_error_rel: l.max_balance_error_rel,
            quantum_jobs_submitted: q.submitted,
            quantum_jobs_completed: q.completed,
            quantum_jobs_missed_deadline: q.missed_deadline,
            quantum_jobs_rejected: q.rejected,
            mean_job_wait_s: ratio(q.wait_s_sum, done),
            mean_job_success_probability: ratio(q.success_probability_sum, done),
            mean_qaoa_approximation_ratio: ratio(q.qaoa_ratio_sum, q.qaoa_jobs as f64),
            max_loop_residual_pa: l.max_loop_residual_pa,
            hydraulic_nonconverged_ticks: l.nonconverged_ticks,
            pump_head_limited_ticks: l.head_limited_ticks,
            max_pump_head_needed_pa: l.max_head_needed_pa,
            min_substation_dp_pa: l.min_substation_dp.map_or(0.0, |(dp, _)| dp),
            comfort_deficit_kh: l.comfort_deficit_kh,
            building_hours_below_18c: l.cold_building_s / 3600.0,
            buildings_below_18c_end: l.cold_buildings_now,
            buildings_below_18c_max: l.cold_buildings_max,
            min_indoor_temp_c: l.min_indoor_temp_c.unwrap_or(0.0),
            mean_latency_ms_local: 1e3 * ratio(q.latency_local_s_sum, done),
            mean_latency_ms_remote: 1e3 * ratio(q.latency_remote_s_sum, done),
            quantum_energy_per_job_kwh: ratio(kwh(l.quantum_site_electricity_j), done),
            co2_unmet_heat_kg: l.co2_unmet_heat_kg,
            site_cooling_electricity_kwh: kwh(l.site_cooling_electricity_j),
            local_pue: local_pue(l),
            max_conservation_error_rel: l.max_conservation_error_rel,
            link_quantum_safe_share: l.links.quantum_safe_share(),
            link_exposed_mb: l.links.exposed_bytes as f64 / 1e6,
            link_exposed_jobs: l.links.exposed_jobs,
            link_handshakes: l.links.handshakes,
            link_kex_failures: l.links.kex_failures,
            link_classical_fallback_sessions: l.links.classical_fallback_sessions,
            link_added_latency_ms_mean: 1e3 * l.links.mean_added_latency_s(),
            link_added_latency_ms_classical: link_ms(0),
            link_added_latency_ms_hybrid: link_ms(1),
            link_added_latency_ms_pure_mlkem: link_ms(2),
            link_added_latency_ms_qkd: link_ms(3),
        }
    }
}

/// The quantum sites' PUE: their electricity with their cooling over their electricity (0 with no
/// site electricity).
pub fn local_pue(l: &Ledger) -> f64 {
    if l.quantum_site_electricity_j > 0.0 {
        (l.quantum_site_electricity_j + l.site_cooling_electricity_j) / l.quantum_site_electricity_j
    } else {
        0.0
    }
}

/// "A small quantum data centre in the city vs a traditional remote one", for the same jobs.
///
/// - Energy, on the same footing: the sites' electricity with their own cooling (dry coolers and
///   chillers; `local_pue` = with / without) plus the heat pumps' electricity that lifts their
///   waste heat into the network, against the same computing in a remote data centre drawing the
///   sites' electricity × PUE [`REMOTE_DC_PUE`] (its cooling included; the ledger's baseline).
/// - Latency: mean round trip of the completed jobs to the site that ran them, against the
///   remote data centre (fibre and routing from the scene's `quantum_jobs.network`).
/// - Heat: the heat pumps' heat (the sites' waste heat plus the heat pumps' electricity) put into
///   the network, against none (a remote data centre's heat is wasted); it stands in for
///   gas-boiler heat ([`GAS_BOILER_EFFICIENCY`], [`GAS_CO2_KG_KWH`]).
/// - Security: the data links' quantum-safe share, exposure and added latency
///   ([`crate::links`]); the remote side sends the same jobs with the same schemes over its
///   longer round trip (QKD cannot reach it and counts as its fallback).
/// - CO₂: both electricity demands at the grid's carbon intensity of each hour (the baseline's
///   assumption that the remote data centre sits on a grid like this one), then net of the gas
///   the reused heat saves.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QuantumVsDatacentre {
    pub jobs_completed: u64,
    pub local: DatacentreSide,
    pub remote: DatacentreSide,
    pub remote_pue: f64,
    /// The sites' PUE with their own cooling (see [`local_pue`]).
    pub local_pue: f64,
    /// The local side's electricity by use: the sites' (IT), their cooling, their heat pumps.
    pub local_it_electricity_kwh: f64,
    pub local_cooling_electricity_kwh: f64,
    pub local_heat_pump_electricity_kwh: f64,
    pub remote_fibre_km: f64,
    pub remote_routing_rtt_ms: f64,
}

/// One side of [`QuantumVsDatacentre`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DatacentreSide {
    pub electricity_kwh: f64,
    /// Per completed job (0 without jobs).
    pub energy_per_job_kwh: f64,
    pub mean_latency_ms: f64,
    /// Heat put into the heat network (the heat pumps' heat: waste heat plus their electricity).
    pub heat_reused_kwh: f64,
    /// CO₂ of the electricity.
    pub co2_kg: f64,
    /// Gas-boiler CO₂ the reused heat avoids.
    pub co2_avoided_by_heat_reuse_kg: f64,
    pub net_co2_kg: f64,
    /// Security: share of the job data sent over quantum-safe links, the harvest-now-decrypt-later
    /// exposure (MB) and the latency the key exchange adds per job (ms). The remote side uses
    /// the same schemes, except QKD, which cannot reach it (its fallback instead).
    pub quantum_safe_share: f64,
    pub exposed_mb: f64,
    pub link_added_latency_ms: f64,
}

impl QuantumVsDatacentre {
    pub fn from_ledger(l: &Ledger, net: &crate::scene::FibreNetwork) -> Self {
        let k = Kpis::from_ledger(l);
        let per_job = |e: f64| {
            if k.quantum_jobs_completed > 0 {
                e / k.quantum_jobs_completed as f64
            } else {
                0.0
            }
        };
        let it = l.quantum_site_electricity_j / J_PER_KWH;
        let cooling = l.site_cooling_electricity_j / J_PER_KWH;
        let hp_elec = l.heat_pump_electricity_j / J_PER_KWH;
        let elec = it + cooling + hp_elec;
        let local_co2 = l.quantum_site_co2_kg + l.site_cooling_co2_kg + l.heat_pump_co2_kg;
        let heat = l.heat_pump_heat_j / J_PER_KWH;
        let avoided = heat / GAS_BOILER_EFFICIENCY * GAS_CO2_KG_KWH;
        let remote_elec = it * REMOTE_DC_PUE;
        let remote_co2 = l.quantum_site_co2_kg * REMOTE_DC_PUE;
        QuantumVsDatacentre {
            jobs_completed: k.quantum_jobs_completed,
            local: DatacentreSide {
                electricity_kwh: elec,
                energy_per_job_kwh: per_job(elec),
                mean_latency_ms: k.mean_latency_ms_local,
                heat_reused_kwh: heat,
                co2_kg: local_co2,
                co2_avoided_by_heat_reuse_kg: avoided,
                net_co2_kg: local_co2 - avoided,
                quantum_safe_share: k.link_quantum_safe_share,
                exposed_mb: k.link_exposed_mb,
                link_added_latency_ms: k.link_added_latency_ms_mean,
            },
            remote: DatacentreSide {
                electricity_kwh: remote_elec,
                energy_per_job_kwh: per_job(remote_elec),
                mean_latency_ms: if k.quantum_jobs_completed > 0 {
                    k.mean_latency_ms_remote
                } else {
                    0.0
                },
                heat_reused_kwh: 0.0,
                co2_kg: remote_co2,
                co2_avoided_by_heat_reuse_kg: 0.0,
                net_co2_kg: remote_co2,
                quantum_safe_share: l.links.remote_quantum_safe_share(),
                exposed_mb: l.links.remote_exposed_bytes as f64 / 1e6,
                link_added_latency_ms: 1e3 * l.links.remote_mean_added_latency_s(),
            },
            remote_pue: REMOTE_DC_PUE,
            local_pue: local_pue(l),
            local_it_electricity_kwh: it,
            local_cooling_electricity_kwh: cooling,
            local_heat_pump_electricity_kwh: hp_elec,
            remote_fibre_km: net.remote_fibre_m / 1e3,
            remote_routing_rtt_ms: net.remote_routing_rtt_s * 1e3,
        }
    }
}

/// What a run writes with `--report`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub qtwin_version: String,
    pub scene: String,
    pub scene_hash: String,
    pub seed: u64,
    pub tick_s: f64,
    pub ticks: u64,
    pub simulated_s: f64,
    pub start_day_of_year: u32,
    pub kpis: Kpis,
    /// The substation with the lowest differential pressure over the run (its building's id, or
    /// the consumer's), where the network is tightest.
    pub critical_substation: Option<String>,
    pub quantum_vs_datacentre: QuantumVsDatacentre,
}

impl Report {
    pub fn from_sim(sim: &impl SimWorld) -> Self {
        let spec = sim.res::<SceneSpec>();
        let clock = sim.res::<SimClock>();
        let mut kpis = Kpis::from_ledger(sim.res::<Ledger>());
        // The conservation check's interval the run ended in, closed against the water now.
        let w = sim.world();
        if let (Some(th), Some(st), Some(net)) = (
            w.get_resource::<crate::thermal::ThermalState>(),
            w.get_resource::<crate::plants::Stations>(),
            w.get_resource::<crate::network::Network>(),
        ) {
            let water_now = (
                th.water_energy_from_parcels_j(net.cp_j_kg_k),
                st.tank_energy_j(),
            );
            kpis.max_conservation_error_rel =
                sim.res::<Ledger>().conservation_error_rel_now(water_now);
        }
        Report {
            qtwin_version: env!("CARGO_PKG_VERSION").to_string(),
            scene: spec.scene.name.clone(),
            scene_hash: scene_hash(&spec.scene),
            seed: spec.seed,
            tick_s: clock.tick_s,
            ticks: clock.tick,
            simulated_s: clock.time_s,
            start_day_of_year: clock.start_day_of_year,
            kpis,
            critical_substation: sim.res::<Ledger>().min_substation_dp.and_then(|(_, c)| {
                // Substations are the buildings' (in scene order), then explicit consumers.
                let (c, nb) = (c as usize, spec.scene.buildings.len());
                match spec.scene.buildings.get(c) {
                    Some(b) => Some(b.id.clone()),
                    None => spec
                        .scene
                        .heat_network
                        .consumers
                        .get(c - nb)
                        .map(|x| x.id.clone()),
                }
            }),
            quantum_vs_datacentre: QuantumVsDatacentre::from_ledger(
                sim.res::<Ledger>(),
                &spec.scene.quantum_jobs.clone().unwrap_or_default().network,
            ),
        }
    }
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises") + "\n"
    }
    /// The summary table printed after a run.
    pub fn summary_table(&self) -> String {
        let k = &self.kpis;
        let rows: Vec<(&str, String)> = vec![
            ("heat demand", format!("{:.0} kWh", k.heat_demand_kwh)),
            ("heat delivered", format!("{:.0} kWh", k.heat_delivered_kwh)),
            ("unmet heat", format!("{:.1} kWh", k.unmet_heat_kwh)),
            (
                "waste heat recovered",
                format!("{:.0} kWh", k.waste_heat_recovered_kwh),
            ),
            (
                "waste heat share of delivered",
                format!("{:.1} %", 100.0 * k.waste_heat_share),
            ),
            (
                "heat-pump share of heat",
                format!("{:.1} %", 100.0 * k.heat_pump_share),
            ),
            ("boiler heat", format!("{:.0} kWh", k.boiler_heat_kwh)),
            (
                "heat-pump electricity",
                format!("{:.0} kWh", k.heat_pump_electricity_kwh),
            ),
            (
                "pump electricity",
                format!("{:.0} kWh", k.pump_electricity_kwh),
            ),
            ("heat losses", format!("{:.0} kWh", k.heat_losses_kwh)),
            (
                "quantum-site electricity",
                format!("{:.0} kWh", k.quantum_site_electricity_kwh),
            ),
            (
                "site cooling / local PUE",
                format!(
                    "{:.0} kWh / {:.3}",
                    k.site_cooling_electricity_kwh, k.local_pue
                ),
            ),
            (
                "grid import / export",
                format!("{:.0} / {:.0} kWh", k.grid_import_kwh, k.grid_export_kwh),
            ),
            (
                "renewable share",
                format!("{:.1} %", 100.0 * k.renewable_share),
            ),
            (
                "CO2 / baseline",
                format!("{:.0} / {:.0} kg", k.co2_kg, k.co2_baseline_kg),
            ),
            (
                "CO2 of unmet heat (gas)",
                format!("{:.0} kg", k.co2_unmet_heat_kg),
            ),
            (
                "quantum jobs done/missed/rej.",
                format!(
                    "{} / {} / {} of {}",
                    k.quantum_jobs_completed,
                    k.quantum_jobs_missed_deadline,
                    k.quantum_jobs_rejected,
                    k.quantum_jobs_submitted
                ),
            ),
            (
                "job wait / success probability",
                format!(
                    "{:.1} s / {:.3}",
                    k.mean_job_wait_s, k.mean_job_success_probability
                ),
            ),
            (
                "QAOA approximation ratio",
                format!("{:.3}", k.mean_qaoa_approximation_ratio),
            ),
            (
                "job latency local / remote",
                format!(
                    "{:.2} / {:.1} ms",
                    k.mean_latency_ms_local, k.mean_latency_ms_remote
                ),
            ),
            (
                "links quantum-safe / exposed",
                format!(
                    "{:.1} % / {:.2} MB",
                    100.0 * k.link_quantum_safe_share,
                    k.link_exposed_mb
                ),
            ),
            (
                "link latency added / kex fail",
                format!(
                    "{:.3} ms / {}",
                    k.link_added_latency_ms_mean, k.link_kex_failures
                ),
            ),
            (
                "quantum energy per job",
                format!("{:.2} kWh", k.quantum_energy_per_job_kwh),
            ),
            (
                "max energy-balance error",
                format!("{:.2e}", k.max_energy_balance_error_rel),
            ),
            (
                "max conservation error",
                format!("{:.2e}", k.max_conservation_error_rel),
            ),
            (
                "pump head needed / limited",
                format!(
                    "{:.2} bar / {} ticks",
                    k.max_pump_head_needed_pa / 1e5,
                    k.pump_head_limited_ticks
                ),
            ),
            (
                "lowest substation dp",
                format!(
                    "{:.2} bar ({})",
                    k.min_substation_dp_pa / 1e5,
                    self.critical_substation.as_deref().unwrap_or("-")
                ),
            ),
            (
                "comfort: K·h below set-point",
                format!(
                    "{:.1} K·h, lowest {:.1} °C",
                    k.comfort_deficit_kh, k.min_indoor_temp_c
                ),
            ),
            (
                "buildings < 18 °C end/most/hours",
                format!(
                    "{} / {} / {:.1} h",
                    k.buildings_below_18c_end,
                    k.buildings_below_18c_max,
                    k.building_hours_below_18c
                ),
            ),
            (
                "network solve: worst residual",
                format!(
                    "{:.2e} Pa, {} ticks not converged",
                    k.max_loop_residual_pa, k.hydraulic_nonconverged_ticks
                ),
            ),
        ];
        let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let mut s = format!(
            "{} — {} ticks of {} s ({:.1} days), seed {}\n",
            self.scene,
            self.ticks,
            self.tick_s,
            self.simulated_s / 86_400.0,
            self.seed
        );
        for (name, v) in rows {
            s += &format!("  {name:<w$}  {v:>18}\n");
        }
        s
    }
}

/// The final state of the world by id (`--state`).
pub fn state_json(sim: &impl SimWorld) -> Value {
    let net = sim.res::<Network>();
    let hs = sim.res::<HydraulicState>();
    let th = sim.res::<ThermalState>();
    let c = sim.res::<Consumers>();
    let buildings = sim.res::<crate::demand::Buildings>();
    let st = sim.res::<Stations>();
    let sites = sim.res::<Sites>();
    let grid = sim.res::<GridState>();
    let spec = sim.res::<SceneSpec>();
    let clock = sim.res::<SimClock>();
    let nodes: Vec<Value> = (0..net.node_count())
        .map(|i| {
            json!({
                "id": net.node_ids[i],
                "supply_temp_c": th.supply_node_temp_c[i],
                "return_temp_c": th.return_node_temp_c[i],
                "supply_pressure_pa": hs.supply_pressure_pa[i],
                "return_pressure_pa": hs.return_pressure_pa[i],
            })
        })
        .collect();
    let pipes: Vec<Value> = (0..net.pipe_count())
        .map(|k| {
            json!({
                "id": net.pipe_ids[k],
                "mass_flow_kg_s": hs.pipe_flow_kg_s[k],
                "velocity_m_s": hs.velocity_m_s(net, k),
                "supply_inlet_temp_c": th.supply_in_c[k],
                "supply_outlet_temp_c": th.supply_out_c[k],
                "return_inlet_temp_c": th.return_in_c[k],
                "return_outlet_temp_c": th.return_out_c[k],
                "heat_loss_w": th.pipe_loss_w[k],
            })
        })
        .collect();
    let scene = &spec.scene;
    let consumers: Vec<Value> = (0..c.len())
        .map(|i| {
            let (kind, id) = match c.kind[i] {
                ConsumerKind::Building(b) => ("building", scene.buildings[b as usize].id.clone()),
                ConsumerKind::Fixed(_) => (
                    "consumer",
                    scene.heat_network.consumers[i - scene.buildings.len()]
                        .id
                        .clone(),
                ),
            };
            json!({
                "id": id,
                "kind": kind,
                "demand_w": c.demand_w[i],
                "delivered_w": c.delivered_w()[i],
                "unmet_w": c.unmet_w()[i],
                "mass_flow_kg_s": c.mass_flow_kg_s[i],
                "return_temp_c": c.return_out_c()[i],
                "indoor_temp_c": match c.kind[i] {
                    ConsumerKind::Building(b) => Some(buildings.indoor_temp_c()[b as usize]),
                    ConsumerKind::Fixed(_) => None,
                },
            })
        })
        .collect();
    let sched = sim
        .world()
        .get_resource::<crate::quantum::schedule::QuantumScheduler>();
    let sites_v: Vec<Value> = (0..sites.len())
        .map(|i| {
            let dev = sched.and_then(|s| s.devices.get(i));
            json!({
                "id": sites.ids[i],
                "online": sites.online[i],
                "compressor_on": sites.compressor_on[i],
                "mixing_chamber_mk": sites.mixing_chamber_k[i] * 1e3,
                "status": dev.map(|d| d.status),
                "queued_jobs": dev.map(|d| d.queue.len()),
                "running_job": dev.and_then(|d| d.running.as_ref().map(|r| r.job)),
                "t1_us": dev.map(|d| d.calibration.effective_t1_s() * 1e6),
                "t2_us": dev.map(|d| d.calibration.effective_t2_s() * 1e6),
                "readout_error": dev.map(|d| d.calibration.readout_error),
                "utilisation": sites.utilisation[i],
                "electricity_w": sites.electricity_w[i],
                "heat_w": sites.heat_w[i],
                "recoverable_heat_w": sites.recoverable_w[i],
                "recovered_heat_w": sites.recovered_w[i],
            })
        })
        .collect();
    let stations: Vec<Value> = (0..st.len())
        .map(|s| {
            let plants: Vec<String> = st.heat_pumps[s]
                .iter()
                .map(|h| h.id.clone())
                .chain(st.boilers[s].iter().map(|b| b.id.clone()))
                .chain(st.tank[s].iter().map(|t| t.id.clone()))
                .collect();
            json!({
                "node": net.node_ids[st.node[s] as usize],
                "plants": plants,
                "reference": st.is_reference[s],
                "mass_flow_kg_s": st.mass_flow_kg_s[s],
                "supply_temp_c": st.supply_out_c[s],
                "return_temp_c": st.return_in_c()[s],
                "heat_w": st.heat_w[s],
                "heat_pump_heat_w": st.hp_heat_w[s],
                "heat_pump_cop": st.hp_cop[s],
                "heat_pump_electricity_w": st.hp_electricity_w[s],
                "boiler_heat_w": st.boiler_heat_w[s],
                "boiler_gas_w": st.boiler_gas_w[s],
                "tank_charge_w": st.tank_charge_w[s],
                "tank_energy_kwh": st.tank[s].as_ref().map(|t| t.energy_j / J_PER_KWH),
                "pump_head_pa": hs.station_head_pa[s],
                "pump_power_w": hs.station_pump_power_w[s],
            })
        })
        .collect();
    let feeders: Vec<Value> = (0..grid.feeder_ids.len())
        .map(|k| {
            json!({
                "id": grid.feeder_ids[k],
                "power_w": grid.feeder_flow_w[k],
                "loading": grid.feeder_loading[k],
            })
        })
        .collect();
    json!({
        "time_s": clock.time_s,
        "ticks": clock.tick,
        "nodes": nodes,
        "pipes": pipes,
        "consumers": consumers,
        "quantum_sites": sites_v,
        "stations": stations,
        "grid": {
            "pv_w": grid.pv_w,
            "wind_w": grid.wind_w,
            "load_w": grid.load_w,
            "battery_w": grid.battery_w,
            "import_w": grid.import_w,
            "export_w": grid.export_w,
            "feeders": feeders,
        },
    })
}

/// Writes the ledger's time series as CSV.
pub fn write_timeseries_csv(l: &Ledger, w: impl std::io::Write) -> Result<(), csv::Error> {
    let mut wr = csv::Writer::from_writer(w);
    for r in l.series.iter().flatten() {
        wr.serialize(r)?;
    }
    wr.flush()?;
    Ok(())
}

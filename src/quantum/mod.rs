//! Micro quantum sites: their electricity and where it ends up as heat.
//!
//! # Model
//! A site draws `P = P_compressor + (P_electronics + P_servers)·(s_idle + (1 − s_idle)·u)` with
//! `P_electronics = qubits × electronics_w_per_qubit`, `s_idle` the idle share and `u` the
//! utilisation (0–1). The pulse-tube compressors run continuously (their load barely depends on
//! the qubits' work). All electricity ends as heat (the cryostat's few watts at 4 K and microwatts
//! at 10 mK are themselves lifted to room temperature by the compressor). The share
//! `recoverable_heat_share` (water-cooled compressors, liquid-cooled racks) is available as warm
//! water at `recovered_water_temp_c` to the site's heat pump; what the heat pump does not take, and
//! the rest, goes to air through dry coolers (or chillers on hot days), whose electricity the
//! site draws too ([`cooling`]).
//!
//! The utilisation is set every tick by the job schedule ([`schedule`]): the site's background
//! load (the scene's `utilisation`: work for customers outside the city, which keeps a hybrid
//! site's servers busy) plus the city's jobs' busy share of the rest of the tick,
//! `u = u_base + (1 − u_base)·busy`. The compressor runs while the site is online and [`Sites::compressor_on`]; a site
//! whose compressor is stopped draws no compressor power and its cryostat warms.
//!
//! # The quantum part of the twin
//! - [`schedule`] — jobs from city services (Poisson arrivals), queues, policies (FIFO, EDF,
//!   fidelity-aware), calibration windows, failover, the job log; systems in
//!   [`crate::base::SimSet::Quantum`]: [`schedule::run_jobs`], then [`step_cryostats`], then
//!   [`site_power`].
//! - [`jobs`] — the services' problems and circuits (QAOA MaxCut, unit-commitment QAOA,
//!   hardware-efficient ansatz), run times, latencies, execution under noise.
//! - [`cryostat`] — the mixing-chamber temperature as a state (cool-down, warm-up).
//! - [`qaoa`] — QAOA MaxCut circuits, cut values and approximation ratios for the jobs.
//! - [`noise`], [`statevector`], [`qasm`] — the simulator.
//!
//! Typical numbers: a dilution refrigerator's pulse-tube compressor draws 7–12 kW (Bluefors,
//! Oxford Instruments data sheets), room-temperature control electronics 20–100 W per qubit
//! (Krinner et al., EPJ Quantum Technology 6, 2 (2019)); classical co-processing servers dominate
//! the power of a hybrid site.
//!
//! Units: W, °C.

pub mod cooling;
pub mod cryostat;
pub mod jobs;
pub mod noise;
pub mod qaoa;
pub mod qasm;
pub mod schedule;
pub mod statevector;

use bevy::prelude::*;

use crate::base::SimSet;
use crate::network::Network;
use crate::scene::Scene;

/// Every micro quantum site, as compact arrays.
#[derive(Resource, Debug, Clone, Default)]
pub struct Sites {
    pub ids: Vec<String>,
    pub qubits: Vec<u32>,
    pub compressor_w: Vec<f64>,
    pub electronics_w: Vec<f64>,
    pub servers_w: Vec<f64>,
    pub idle_share: Vec<f64>,
    pub recoverable_share: Vec<f64>,
    pub water_temp_c: Vec<f64>,
    pub node: Vec<Option<u32>>,
    pub bus: Vec<Option<u32>>,
    /// Position on the map, m.
    pub pos: Vec<[f64; 2]>,
    /// Whether the pulse-tube compressor runs (it also stops while the site is offline).
    pub compressor_on: Vec<bool>,
    /// Mixing-chamber temperature of the cryostat, K (a state; see [`cryostat`]).
    pub mixing_chamber_k: Vec<f64>,
    /// Whether the site takes new jobs (false while the operator drains it: its queue moves to
    /// other sites, its running job finishes). Set by the faults domain.
    accepting_jobs: Vec<bool>,
    /// Whether the city's fibre reaches the site (false after a fibre cut: its jobs re-route).
    reachable: Vec<bool>,
    /// Whether its servers and control electronics run (false after a safe shutdown: only the
    /// compressor runs, to keep the cryostat cold).
    it_on: Vec<bool>,
    /// Whether the site runs from its own UPS battery instead of the grid.
    on_ups: Vec<bool>,
    // ---- per tick ----
    /// Utilisation, 0–1 (set by the job schedule; the scene's value until then).
    pub utilisation: Vec<f64>,
    /// Background utilisation from the scene (work from outside the city), 0–1.
    pub base_utilisation: Vec<f64>,
    /// Whether the site is running (a site that is down draws and gives nothing).
    pub online: Vec<bool>,
    pub electricity_w: Vec<f64>,
    /// All of it ends as heat, W.
    pub heat_w: Vec<f64>,
    /// Heat available as warm water to the heat pump, W.
    pub recoverable_w: Vec<f64>,
    /// Heat the heat pump actually took, W (set when the stations settle).
    pub recovered_w: Vec<f64>,
    /// Electricity of the site's dry coolers and chillers for the heat the heat pump did not
    /// take, W (see [`cooling`]; set when the stations settle).
    pub cooling_w: Vec<f64>,
}

impl Sites {
    pub fn from_scene(scene: &Scene, net: &Network) -> Self {
        let mut s = Sites::default();
        let base_k = scene.quantum_jobs.as_ref().map_or_else(
            || crate::scene::Cryostat::default().base_temp_k,
            |q| q.cryostat.base_temp_k,
        );
        let buses = scene.grid.as_ref().map(|g| g.bus_indices());
        let bus_index =
            |b: &Option<String>| -> Option<u32> { buses.as_ref()?.get(b.as_deref()?).copied() };
        for q in &scene.quantum_sites {
            s.ids.push(q.id.clone());
            s.qubits.push(q.qubits);
            s.compressor_w.push(q.compressor_power_w);
            s.electronics_w
                .push(q.qubits as f64 * q.electronics_w_per_qubit);
            s.servers_w.push(q.servers_power_w);
            s.idle_share.push(q.idle_share);
            s.recoverable_share.push(q.recoverable_heat_share);
            s.water_temp_c.push(q.recovered_water_temp_c);
            s.node.push(q.node.as_ref().and_then(|n| net.node(n)));
            s.bus.push(bus_index(&q.bus));
            s.utilisation.push(q.utilisation);
            s.base_utilisation.push(q.utilisation);
            s.online.push(true);
            s.pos.push(q.pos);
            s.compressor_on.push(true);
            s.accepting_jobs.push(true);
            s.reachable.push(true);
            s.it_on.push(true);
            s.on_ups.push(false);
            s.mixing_chamber_k.push(base_k);
        }
        let n = s.ids.len();
        s.electricity_w = vec![0.0; n];
        s.heat_w = vec![0.0; n];
        s.recoverable_w = vec![0.0; n];
        s.recovered_w = vec![0.0; n];
        s.cooling_w = vec![0.0; n];
        s
    }
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
    /// Electricity of site `i` at full load with everything running, W (what its UPS is sized
    /// for).
    pub fn full_power_w(&self, i: usize) -> f64 {
        let load = self.idle_share[i] + (1.0 - self.idle_share[i]) * 1.0;
        self.compressor_w[i] + (self.electronics_w[i] + self.servers_w[i]) * load
    }

    /// A site's parameters changed (a what-if edit on a running world): its size, loads, heat
    /// recovery and utilisation follow the scene's entry; its state (online, cryostat, jobs) stays.
    pub fn apply_site(&mut self, site: &crate::scene::QuantumSite) {
        let Some(i) = self.ids.iter().position(|x| *x == site.id) else {
            return;
        };
        self.qubits[i] = site.qubits;
        self.compressor_w[i] = site.compressor_power_w;
        self.electronics_w[i] = site.qubits as f64 * site.electronics_w_per_qubit;
        self.servers_w[i] = site.servers_power_w;
        self.idle_share[i] = site.idle_share;
        self.recoverable_share[i] = site.recoverable_heat_share;
        self.water_temp_c[i] = site.recovered_water_temp_c;
        self.base_utilisation[i] = site.utilisation;
    }

    /// Whether site `i` runs on its UPS (set by the faults domain).
    pub fn on_ups(&self, i: usize) -> bool {
        self.on_ups[i]
    }
    /// Whether site `i` is reachable over its fibre (set by the faults domain).
    pub fn reachable(&self, i: usize) -> bool {
        self.reachable[i]
    }

    /// Hook for the faults domain: whether the cryostat's compressor runs.
    pub fn set_compressor(&mut self, i: usize, on: bool) {
        self.compressor_on[i] = on;
    }

    /// Hook for the faults domain: the site's power supply — on its UPS or not, and whether it
    /// has power at all.
    pub fn set_power(&mut self, i: usize, on_ups: bool, online: Option<bool>) {
        self.on_ups[i] = on_ups;
        if let Some(o) = online {
            self.online[i] = o;
        }
    }

    /// Hook for the faults and operator domains: whether the site is reachable over its fibre,
    /// accepts new jobs (not drained) and has its IT (servers, electronics) on.
    pub fn set_service(&mut self, i: usize, reachable: bool, accepting_jobs: bool, it_on: bool) {
        self.reachable[i] = reachable;
        self.accepting_jobs[i] = accepting_jobs;
        self.it_on[i] = it_on;
    }

    /// Electricity of site `i` at utilisation `u`, W (the compressor's only while it runs).
    pub fn power_at(&self, i: usize, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        let load = self.idle_share[i] + (1.0 - self.idle_share[i]) * u;
        let compressor = if self.compressor_on[i] {
            self.compressor_w[i]
        } else {
            0.0
        };
        if !self.it_on[i] {
            return compressor;
        }
        compressor + (self.electronics_w[i] + self.servers_w[i]) * load
    }
}

pub struct QuantumPlugin;

impl Plugin for QuantumPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(
            FixedUpdate,
            (schedule::run_jobs, step_cryostats, site_power)
                .chain()
                .in_set(SimSet::Quantum),
        );
    }
}

/// Moves every site's mixing-chamber temperature on by one tick: towards base while its
/// compressor runs (online and `compressor_on`), warming otherwise.
pub fn step_cryostats(
    clock: Res<crate::base::SimClock>,
    sched: Res<schedule::QuantumScheduler>,
    mut sites: ResMut<Sites>,
) {
    let c = &sched.cfg.cryostat;
    let s = &mut *sites;
    for i in 0..s.ids.len() {
        let on = s.online[i] && s.compressor_on[i];
        s.mixing_chamber_k[i] = cryostat::step(c, s.mixing_chamber_k[i], on, clock.tick_s);
    }
}

/// Electricity and heat of every site from its utilisation.
pub fn site_power(mut sites: ResMut<Sites>) {
    let s = &mut *sites;
    for i in 0..s.ids.len() {
        let p = if s.online[i] {
            s.power_at(i, s.utilisation[i])
        } else {
            0.0
        };
        s.electricity_w[i] = p;
        s.heat_w[i] = p;
        s.recoverable_w[i] = p * s.recoverable_share[i];
        s.recovered_w[i] = 0.0;
        s.cooling_w[i] = 0.0;
    }
}

//! Buildings that cool down: each building's indoor temperature, a lumped thermal model with one
//! resistance and one capacitance (1R1C).
//!
//! # Model
//! One node per building holds the indoor air and the building's internal thermal mass together:
//!
//! `C·dT_i/dt = Q_h + Q_g − H·(T_i − T_out)`
//!
//! - `H` (W/K): the building's heat-loss coefficient, transmission plus ventilation — the same
//!   value the steady demand uses (from its envelope: given, or energy class × heated area).
//! - `C = κ_m·A_f` (J/K): its internal heat capacity, with `A_f` the heated floor area (m²) and
//!   `κ_m` (J/(m²·K)) by construction class from EN ISO 13790:2008, Table 12 (simple hourly
//!   method): very light 80,000, light 110,000, medium 165,000, heavy 260,000, very heavy
//!   370,000 ([`INTERNAL_HEAT_CAPACITY_J_M2K`]; default medium).
//! - `Q_g` (W): internal plus solar gains of the tick, the same as the steady demand subtracts.
//! - `Q_h` (W): the space heat its substation actually delivered this tick (after the thermal pass,
//!   [`crate::demand::Consumers::take_heat`]).
//!
//! This is the 5R1C network of EN ISO 13790:2008 §C.2 (and of EN ISO 52016-1:2017's simplified
//! hourly method) with its air, surface and mass nodes merged (`H_tr,is`, `H_tr,ms` → ∞): right for
//! the hours-to-days response of a building whose heating fails, not for the minutes in which air
//! and walls part. Time constant `τ = C/H`: for a medium building, `κ_m/U` with `U` the energy
//! class's W/(m²·K) — 102 h (A) … 34 h (D) … 16 h (G).
//!
//! # Exact update over a tick of `Δt`
//! With `Q_h`, `Q_g` and `T_out` constant over the tick, `T_eq = T_out + (Q_h + Q_g)/H` and
//!
//! `T_i(t + Δt) = T_eq + (T_i(t) − T_eq)·e`, `e = exp(−Δt/τ)`
//!
//! — the exact solution, stable at any tick length (no explicit Euler step). With no heat a
//! building cools as `T_out + (T_0 − T_out)·exp(−t/τ)`.
//!
//! # The request, and the same demand as before in steady weather
//! A building asks for the heat that brings it to the set-point `T_set` by the end of the tick:
//!
//! `Q_req = max(0, H·(T_set − T_out) − Q_g + R·(T_set − T_i))`, `R = H·e/(1 − e)` (W/K)
//!
//! (`R → C/Δt` for `Δt ≪ τ`: the heat to lift the mass back in one tick). At `T_i = T_set` the
//! reheat term is exactly 0 and the request is the steady `max(0, H·(T_set − T_out) − Q_g)` of the
//! model without thermal mass, bit for bit; the reheat part `Q_req − Q_steady` is what a cooled
//! building asks for on top, bounded by what its substation's largest flow can carry,
//! `ṁ_max·c_p·(T_s − T_r)` ([`crate::demand::Consumers::update_requests`]). The reheat is asked
//! for (flow) and delivered, but it is not demand: the heat demand stays the steady demand and
//! unmet heat the steady demand not delivered at the time, so an outage is not counted twice
//! (once as unmet, again as unmet catch-up); its after-effect shows in the comfort figures and in
//! heat delivered above demand while buildings recover.
//!
//! When the substation delivers the whole request (to within [`SATISFIED_REL`], rounding) the
//! building ends the tick at `T_set` exactly;
//! when it delivers less, the exact update above. The indoor temperature is capped at `T_set`:
//! gains beyond the losses are assumed vented or shaded away (there is no overheating model), so
//! a building never banks free heat and the steady demand stays what it was. A building not
//! connected to the network (`node: None`) is heated by means outside the model: it stays at
//! `T_set` and is left out of the comfort figures.
//!
//! Space heat delivered: a substation short of heat shares the shortfall pro rata between space
//! heating, hot water and absorption cooling (hot water not at all when the supply is below its
//! minimum temperature: then it is unmet).
//!
//! # Comfort
//! [`COLD_THRESHOLD_C`] = 18 °C, the WHO Housing and Health Guidelines' (2018) minimum indoor
//! temperature in cold seasons. The ledger counts degree-hours below the set-point
//! `Σ_buildings Σ_ticks max(0, T_set − T_i)·Δt/3600` (K·h, with `T_i` at the end of each tick) and
//! buildings below 18 °C.
//!
//! Units: °C, W, W/K, J/K, s.

use bevy::prelude::*;

use super::{Buildings, Consumers};
use crate::base::{SceneSpec, SimClock};
use crate::math::Det;
use crate::scene::Construction;
use crate::weather::WeatherNow;

/// Internal heat capacity per m² of heated floor by construction class, J/(m²·K)
/// (EN ISO 13790:2008, Table 12).
pub const INTERNAL_HEAT_CAPACITY_J_M2K: [(Construction, f64); 5] = [
    (Construction::VeryLight, 80_000.0),
    (Construction::Light, 110_000.0),
    (Construction::Medium, 165_000.0),
    (Construction::Heavy, 260_000.0),
    (Construction::VeryHeavy, 370_000.0),
];

/// Below this indoor temperature a building counts as cold, °C (WHO Housing and Health
/// Guidelines, 2018: 18 °C minimum in cold seasons).
pub const COLD_THRESHOLD_C: f64 = 18.0;

/// A substation that delivers its request to within this share counts as having delivered it
/// (the flow asked for at last tick's supply temperature carries `ṁ·c_p·ΔT` back to within
/// rounding): the building ends the tick at its set-point, not 1e-15 K below it.
pub const SATISFIED_REL: f64 = 1e-9;

/// J/(m²·K) of a construction class (`None` = medium).
pub fn heat_capacity_j_m2k(c: Option<Construction>) -> f64 {
    let c = c.unwrap_or(Construction::Medium);
    INTERNAL_HEAT_CAPACITY_J_M2K
        .iter()
        .find(|(k, _)| *k == c)
        .map_or(165_000.0, |(_, v)| *v)
}

/// The constants of one building's update over a tick of `dt` s: `e = exp(−Δt·H/C)` and the
/// reheat coefficient `R = H·e/(1 − e)`, W/K (`C/Δt` when `H = 0`; 0 without mass).
pub fn tick_constants(h_w_k: f64, c_j_k: f64, dt: f64) -> (f64, f64) {
    if c_j_k <= 0.0 || dt <= 0.0 {
        return (0.0, 0.0);
    }
    let x = dt * h_w_k / c_j_k;
    if x <= 0.0 {
        return (1.0, c_j_k / dt);
    }
    let e = (-x).exp_d();
    let one_minus_e = -(-x).exp_m1_d();
    (e, h_w_k * e / one_minus_e)
}

/// The indoor temperature after a tick of `dt` s with heat `q_w` (heating plus gains, W) at the
/// outdoor temperature `t_out_c`, from `t_in_c` — the exact solution of `C·dT/dt = q − H·(T − T_out)`
/// (`decay` = `e` of [`tick_constants`]).
pub fn step_indoor(
    t_in_c: f64,
    t_out_c: f64,
    q_w: f64,
    h_w_k: f64,
    c_j_k: f64,
    dt: f64,
    decay: f64,
) -> f64 {
    if h_w_k > 0.0 {
        let t_eq = t_out_c + q_w / h_w_k;
        t_eq + (t_in_c - t_eq) * decay
    } else if c_j_k > 0.0 {
        t_in_c + q_w * dt / c_j_k
    } else {
        t_in_c
    }
}

impl Buildings {
    /// Recomputes the per-building tick constants when the tick length changed.
    pub(super) fn refresh_mass_constants(&mut self, dt: f64) {
        if self.mass_dt_s.to_bits() == dt.to_bits() && self.mass_decay.len() == self.len() {
            return;
        }
        let n = self.len();
        self.mass_decay.resize(n, 0.0);
        self.mass_reheat_w_k.resize(n, 0.0);
        for i in 0..n {
            let (e, r) = tick_constants(self.h_w_k[i], self.heat_capacity_j_k[i], dt);
            self.mass_decay[i] = e;
            self.mass_reheat_w_k[i] = r;
        }
        self.mass_dt_s = dt;
    }

    /// Each building's indoor temperature, °C (state).
    pub fn indoor_temp_c(&self) -> &[f64] {
        &self.indoor_temp_c
    }

    /// Time constant `τ = C/H` of building `i`, s (infinite without losses).
    pub fn time_constant_s(&self, i: usize) -> f64 {
        if self.h_w_k[i] > 0.0 {
            self.heat_capacity_j_k[i] / self.h_w_k[i]
        } else {
            f64::INFINITY
        }
    }

    /// Hook for a what-if edit or a test: sets building `i`'s indoor temperature, °C.
    pub fn set_indoor_temp(&mut self, i: usize, t_c: f64) {
        if let Some(t) = self.indoor_temp_c.get_mut(i) {
            *t = t_c;
        }
    }
}

/// After the thermal pass has delivered the tick's heat: each building's indoor temperature at the
/// end of the tick (see the module doc). Runs in [`crate::base::SimSet::Settle`].
pub fn indoor_temperatures(
    clock: Res<SimClock>,
    weather: Res<WeatherNow>,
    spec: Res<SceneSpec>,
    c: Res<Consumers>,
    mut b: ResMut<Buildings>,
) {
    let dt = clock.tick_s;
    let t_set = spec.scene.sim.indoor_setpoint_c;
    let t_out = weather.outdoor_temp_c;
    b.refresh_mass_constants(dt);
    let b = &mut *b;
    let n = b.len();
    let space_delivered = c.space_delivered_w();
    let Buildings {
        indoor_temp_c,
        space_heat_w,
        reheat_w,
        gains_w,
        h_w_k,
        heat_capacity_j_k,
        mass_decay,
        ..
    } = b;
    // One chunk of buildings from index `o` (a pure map per building).
    let kernel = |o: usize, t_in: &mut [f64]| {
        // Every slice cut to the chunk up front: no bounds checks in the loop.
        let r = o..o + t_in.len();
        let (space_heat_w, reheat_w, gains_w, h_w_k, heat_capacity_j_k, mass_decay) = (
            &space_heat_w[r.clone()],
            &reheat_w[r.clone()],
            &gains_w[r.clone()],
            &h_w_k[r.clone()],
            &heat_capacity_j_k[r.clone()],
            &mass_decay[r],
        );
        for (j, t) in t_in.iter_mut().enumerate() {
            let i = o + j;
            // Buildings are the first consumers, in scene order.
            let on_network = c.node.get(i).is_some_and(|n| n.is_some());
            let q_h = space_delivered.get(i).copied().unwrap_or(0.0);
            let (space_heat_w, reheat_w, gains_w, h_w_k, heat_capacity_j_k, mass_decay) = (
                space_heat_w[j],
                reheat_w[j],
                gains_w[j],
                h_w_k[j],
                heat_capacity_j_k[j],
                mass_decay[j],
            );
            let need = space_heat_w + reheat_w;
            *t = if !on_network || q_h >= need * (1.0 - SATISFIED_REL) {
                t_set
            } else {
                step_indoor(
                    *t,
                    t_out,
                    q_h + gains_w,
                    h_w_k,
                    heat_capacity_j_k,
                    dt,
                    mass_decay,
                )
                .min(t_set)
            };
        }
    };
    let t_in = &mut indoor_temp_c[..n];
    if n >= super::PARALLEL_THRESHOLD && super::parallel_ok() {
        use rayon::prelude::*;
        t_in.par_chunks_mut(super::CHUNK)
            .enumerate()
            .for_each(|(k, ch)| kernel(k * super::CHUNK, ch));
    } else {
        kernel(0, t_in);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medium_class_d_building_has_a_time_constant_of_34_hours() {
        // κ = 165,000 J/(m²K), U = 1.35 W/(m²K): τ = 122,222 s = 33.95 h.
        let (a, h) = (1000.0, 1.35 * 1000.0);
        let c = heat_capacity_j_m2k(None) * a;
        assert!((c / h / 3600.0 - 33.950617).abs() < 1e-5);
        // One hour with no heat from 20 °C at 0 °C outdoors: 20·exp(−1/33.95) = 19.4195 °C.
        let (e, _) = tick_constants(h, c, 3600.0);
        let t = step_indoor(20.0, 0.0, 0.0, h, c, 3600.0, e);
        assert!((t - 19.419_500).abs() < 1e-5, "{t}");
    }

    #[test]
    fn the_reheat_request_lands_on_the_set_point() {
        let (h, c, dt) = (500.0, 2.0e7, 600.0);
        let (e, r) = tick_constants(h, c, dt);
        // From 16 °C at 5 °C outdoors, 1 kW of gains.
        let q = h * (20.0 - 5.0) - 1000.0 + r * (20.0 - 16.0);
        let t = step_indoor(16.0, 5.0, q + 1000.0, h, c, dt, e);
        assert!((t - 20.0).abs() < 1e-9, "{t}");
        // R ≈ C/Δt − H/2 for Δt ≪ τ: 33,333 − 250 = 33,083 W/K.
        assert!((r - (c / dt - h / 2.0)).abs() < 1.0, "{r}");
    }
}

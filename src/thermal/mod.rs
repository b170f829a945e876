//! Thermal: temperatures travelling with the water through supply and return pipes, mixing at
//! nodes, heat to consumers, and heat lost to the ground.
//!
//! # Model
//! **Plug flow** (Lagrangian, as the IBPSA/Modelica `PlugFlowPipe`, van der Heijde et al. 2017):
//! each pipe holds a queue of water parcels, each with a mass and a temperature profile. In a tick with
//! mass flow ṁ, a parcel of ṁ·Δt enters at the upstream node's temperature and the same mass leaves
//! from the other end, oldest first, so a temperature front travels at the water's speed and reaches
//! the outlet after `L/v` (the pipe's mass over the flow), not at once. Water that passes right
//! through in one tick leaves after exactly its residence time `M/ṁ`.
//!
//! **Heat loss**: water relaxes towards the ground temperature `T_g` as
//! `T(t) = T_g + (T₀ − T_g)·e^{−t/τ}` with `τ = ρ·A·c_p/U'` (`U'` the linear heat-loss coefficient,
//! W/(m·K); a coefficient per inner surface `U` gives `U' = U·π·d`). A parcel is not one
//! temperature: the water that entered during a tick at flow ṁ has, at the end of the tick, the
//! profile `T_g + (T_in − T_g)·e^{−β·z}` (`z` the mass from its newest end, `β = 1/(ṁ·τ)`), and the
//! parcel keeps that shape ([`Parcel`]). Each element of water that leaves decays until the moment
//! it leaves (`y/ṁ` into the tick, `y` the mass out before it); along the part of a parcel that
//! leaves, the exponent is linear in the position, so its mean exit temperature is exact:
//! `T_g + ΔT_base·ē(β·y, β·(y+m)) + ΔT_amp·ē(e₁, e₂)` with `ē(a, b) = e^{−min(a,b)}·φ(|a − b|)`,
//! `φ(x) = (1 − e^{−x})/x`. At steady flow every element spends exactly `M/ṁ` in the pipe, at any
//! tick length, so the outlet is the analytic `T(L) = T_g + (T_in − T_g)·exp(−U'·L/(ṁ·c_p))` to
//! rounding (`tests/physics.rs::steady_outlet_is_exact_at_any_tick_length`: 1–600 s ticks,
//! pipes crossed in under a tick to thousands of ticks, within 1e-10 K).
//!
//! (Before issue 13 a parcel had one temperature, the mean over its entry times, and the mean of
//! its exit decay was multiplied by it: the mean of a product taken as the product of means,
//! `φ(x)²` for `e^{−x}`, an error of about `ΔT·x²/12` per pass with `x = Δt/τ`: up to 2 K on short
//! small pipes at 600 s ticks. Merging at the inlet also turned the inlet parcel of a slow pipe into
//! a mixing tank: 0.1 K at residences over 256 ticks.)
//!
//! **Nodes** have no volume: they mix their inflows by mass flow. They are processed in the
//! topological order of this tick's flow (a potential flow has no directed cycle), so pipes whose
//! water passes through within one tick pass on this tick's temperature.
//!
//! **Consumers** (the demand domain's substation model, `Consumers::take_heat`, called here with
//! this tick's supply temperatures) take `ṁ` at their node's supply temperature and give back
//! `T_r = T_s − Q/(ṁ·c_p)` with `Q = min(demand, ṁ·c_p·(T_s − T_r,design))`; hot water is not
//! delivered when `T_s` is below `dhw_min_supply_temp_c`. What is not delivered is counted as unmet.
//! Fixed-flow test consumers (`MassFlowKgS`) return at their fixed temperature. The fixed-ΔT forms
//! (`MassFlowDeltaT`, `HeatDeltaT`) return at `T_r = T_s − ΔT` and take `Q = ṁ·c_p·ΔT`; for
//! `HeatDeltaT` that is its `Q` whenever its flow `Q/(c_p·ΔT)` is granted (what a fault or the
//! operator's shedding withholds is unmet). No minimum supply temperature applies to them.
//!
//! **Leaks** (the faults domain) take `ṁ_L` of supply water at their node's temperature; as the
//! return network mirrors the supply's flows, the make-up water that replaces it enters the
//! return at that node at the make-up temperature `T_mu`, so the tick's leak heat is
//! `ṁ_L·c_p·(T_s − T_mu)·Δt` ([`ThermalState::leak_j`]) and the balance stays exact.
//!
//! The return network mirrors the supply's flows backwards; its nodes mix consumer returns with
//! arriving return pipes, and stations take their flow at the mixed return temperature.
//!
//! **Parcels at the inlet.** The water entering in a tick continues the inlet parcel when the
//! two profiles meet exactly (same ground, same flow, same inlet temperature: steady flow keeps one
//! parcel per pipe whatever the number of ticks); otherwise it joins it as one uniform parcel if
//! every end of both is within 1 mK of their mean and they hold at most 1/8 of the pipe's water (a
//! uniform parcel is a small mixing tank: the share keeps it from mixing the whole pipe), else it is
//! queued. A pipe keeps at most [`MAX_PARCELS`] by merging the two at its inlet into one uniform
//! parcel. Every join and merge conserves energy exactly (mass-weighted means).
//!
//! **Ground and water.** Each pipe loses heat to the ground at its own burial depth
//! ([`pipe_ground_temp_c`]: the weather's Kusuda temperature at that depth). With
//! temperature-dependent water (`FluidProperties::WaterIf97`) a supply pipe holds the water mass
//! of the supply set-point's density and a return pipe that of the design return temperature
//! (980–990 kg/m³ against 970–975: the return holds about 2 % more), each with its own `τ`; the
//! heat in every term of the balance is `c̄_p·m·T` with the one heat capacity of the network,
//! the IF97 enthalpy secant between those two temperatures (`Scene::heat_capacity_j_kg_k`), i.e.
//! the enthalpy `h(T)` linearised through both design temperatures: exact there; for a 40/80 °C
//! design `c̄_p·(T_s − T_r)` is within 0.06–0.13 % of IF97's `h(T_s) − h(T_r)` for 40/70 and 50/90 °C
//! and within 0.3 % for any pair in 10–110 °C (`crate::water`); and the same `h(T)` on both
//! sides, so mixing, leaks and make-up water conserve it and the per-tick balance closes to
//! rounding as with fixed properties. After each pass the pipes' temperatures go to the hydraulics
//! (`HydraulicState::set_water_temps`), whose next solve takes each side's density and viscosity
//! there.
//!
//! Units: kg, kg/s, °C, W, J.

use crate::math::Det;
use std::collections::VecDeque;

use bevy::prelude::*;

use crate::base::{Disjoint, SceneSpec, SimClock, SimSet};
use crate::demand::Consumers;
use crate::hydraulics::HydraulicState;
use crate::network::Network;
use crate::plants::Stations;
use crate::scene::Scene;
use crate::weather::WeatherNow;

/// Most parcels one pipe keeps.
pub const MAX_PARCELS: usize = 256;
/// Neighbouring parcels whose ends are all within this of their mean are merged into one
/// uniform parcel, K (when their profiles do not continue each other exactly)…
const MERGE_TOLERANCE_K: f64 = 1e-3;
/// …if the merged parcel holds at most this share of the pipe's water: a uniform parcel is a
/// little mixing tank, and one that kept taking in the inflow would mix the whole pipe.
const MERGE_MAX_SHARE: f64 = 1.0 / 8.0;
/// Flows below this are taken as no flow, kg/s.
const NO_FLOW_KG_S: f64 = 1e-9;

/// A parcel of water: the water that entered in one tick (or several, joined), with the
/// temperature profile it has along its length.
///
/// Water that entered during one tick at flow ṁ has, at the end of the tick, decayed by
/// `e^{−z·β}` where `z` is its mass distance from the newest end and `β = 1/(ṁ·τ)` (per kg): its
/// temperature is `T_g + (T_in − T_g)·e^{−β·z}`, not one value. A parcel keeps that shape:
/// `θ(z) = base + amp·e^{−rate·z}` in the pipe's transformed temperature (`T = D·θ + C`, see
/// [`PipeWater`]), `z ∈ [0, m]` measured from its newest end. The sign of `rate` says which end
/// that is: `rate ≥ 0` the front (`from` end; water that entered with the flow from→to), `rate < 0`
/// the back. A uniform parcel has `amp = 0` and `rate = 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parcel {
    pub mass_kg: f64,
    base: f64,
    amp: f64,
    rate: f64,
}

/// One pipe's water, from its `from` end (front) to its `to` end (back).
///
/// Every parcel in a pipe relaxes towards the same ground temperature by the same factor each
/// tick, so the decay is kept as one affine map per pipe, `T = D·θ + C`: a tick multiplies `D` by
/// `f = e^{−Δt/τ}` and sets `C ← f·C + (1 − f)·T_g`, in O(1) whatever the number of parcels. The
/// sums `Σm` and `Σm·θ̄` give the stored heat and the tick's loss in O(1) too; they are recomputed
/// exactly from the parcels now and then so rounding cannot drift.
#[derive(Debug, Clone)]
pub struct PipeWater {
    parcels: VecDeque<Parcel>,
    d: f64,
    c: f64,
    sum_m: f64,
    sum_m_theta: f64,
    ops: u32,
}

/// What flowed out of a pipe in a tick.
#[derive(Debug, Clone, Copy, Default)]
struct Outflow {
    mass_kg: f64,
    /// Mass × temperature, kg·K (times c_p gives energy).
    mass_temp: f64,
    /// Heat lost to the ground this tick, J / c_p (kg·K).
    loss_mass_temp: f64,
}

/// e^{−x} for x ≥ 0; below 0.02 its Taylor polynomial to x⁶ (truncation < x⁷/7! ≈ 2.5·10⁻¹⁶;
/// pipes' Δt/τ is usually that small) with constant coefficients, evaluated by Estrin's scheme
/// (no divisions, a short dependency chain: this and [`phi`] are most of a pipe's advance), the
/// library's exp above.
#[inline]
fn exp_neg(x: f64) -> f64 {
    if x < 0.02 {
        const C: [f64; 7] = [
            1.0,
            -1.0,
            1.0 / 2.0,
            -1.0 / 6.0,
            1.0 / 24.0,
            -1.0 / 120.0,
            1.0 / 720.0,
        ];
        let x2 = x * x;
        let x4 = x2 * x2;
        (C[0] + C[1] * x) + x2 * (C[2] + C[3] * x) + x4 * ((C[4] + C[5] * x) + x2 * C[6])
    } else {
        (-x).exp_d()
    }
}

/// (1 − e^{−x})/x, the mean of e^{−s} over s ∈ [0, x] (x ≥ 0); below 0.02 its Taylor polynomial
/// to x⁶ (truncation < x⁷/8! ≈ 3·10⁻¹⁷), as [`exp_neg`].
#[inline]
fn phi(x: f64) -> f64 {
    if x < 0.02 {
        const C: [f64; 7] = [
            1.0,
            -1.0 / 2.0,
            1.0 / 6.0,
            -1.0 / 24.0,
            1.0 / 120.0,
            -1.0 / 720.0,
            1.0 / 5040.0,
        ];
        let x2 = x * x;
        let x4 = x2 * x2;
        (C[0] + C[1] * x) + x2 * (C[2] + C[3] * x) + x4 * ((C[4] + C[5] * x) + x2 * C[6])
    } else {
        -(-x).exp_m1_d() / x
    }
}

/// Mean of `e^{−s}` over `s` running linearly from `a` to `b` (both ≥ 0):
/// `e^{−min(a,b)}·φ(|a − b|)`, which neither overflows nor loses digits whatever the two are.
#[inline]
fn mean_exp(a: f64, b: f64) -> f64 {
    exp_neg(a.min(b)) * phi((a - b).abs())
}

/// Largest mismatch, K, at which a new parcel still continues the one at the inlet exactly (same
/// ground, same flow, the profiles meeting): rounding only.
const JOIN_TOLERANCE_K: f64 = 1e-9;
/// Largest relative difference of the profiles' rates for an exact join.
const JOIN_RATE_TOLERANCE: f64 = 1e-9;

impl Parcel {
    /// A parcel at one temperature (transformed).
    fn uniform(mass_kg: f64, theta: f64) -> Self {
        Self {
            mass_kg,
            base: theta,
            amp: 0.0,
            rate: 0.0,
        }
    }

    /// Mean transformed temperature.
    #[inline]
    fn mean_theta(&self) -> f64 {
        if self.amp == 0.0 {
            self.base
        } else {
            self.base + self.amp * phi(self.rate.abs() * self.mass_kg)
        }
    }

    /// Transformed temperature at the front (`from`) end or the back end.
    #[inline]
    fn end_theta(&self, front: bool) -> f64 {
        if (self.rate >= 0.0) == front {
            self.base + self.amp
        } else {
            self.base + self.amp * exp_neg(self.rate.abs() * self.mass_kg)
        }
    }
}

impl PipeWater {
    fn filled(mass_kg: f64, temp_c: f64) -> Self {
        Self {
            parcels: VecDeque::from([Parcel::uniform(mass_kg, temp_c)]),
            d: 1.0,
            c: 0.0,
            sum_m: mass_kg,
            sum_m_theta: mass_kg * temp_c,
            ops: 0,
        }
    }

    /// The parcels from the `from` end to the `to` end: (mass kg, mean temperature °C).
    pub fn parcels(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.parcels
            .iter()
            .map(|p| (p.mass_kg, self.d * p.mean_theta() + self.c))
    }

    /// Number of parcels held.
    pub fn len(&self) -> usize {
        self.parcels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.parcels.is_empty()
    }

    /// Heat content relative to 0 °C divided by c_p, kg·K.
    pub fn mass_temp(&self) -> f64 {
        self.d * self.sum_m_theta + self.c * self.sum_m
    }

    /// Temperature at the `to` end (back) or `from` end (front).
    pub fn end_temp(&self, at_to_end: bool) -> f64 {
        let p = if at_to_end {
            self.parcels.back()
        } else {
            self.parcels.front()
        };
        p.map(|p| self.d * p.end_theta(!at_to_end) + self.c)
            .unwrap_or(0.0)
    }

    /// Puts a new parcel `np` (its newest end at the inlet) at the inlet end: it continues the
    /// inlet parcel exactly if their profiles meet (steady flow: one parcel, whatever the number of
    /// ticks), else joins it as one uniform parcel if all their ends are within
    /// `MERGE_TOLERANCE_K` of the mean and the two hold at most `MERGE_MAX_SHARE` of the pipe's
    /// water `pipe_mass`, else is queued. Energy is conserved exactly either way.
    ///
    /// `np_phi` and `np_decay` are `φ` and `e^{−x}` of the new parcel's exponent `|rate|·m`
    /// (the caller has them: for water that entered over the whole tick, the pipe's constants for
    /// the tick).
    fn push(&mut self, forward: bool, np: Parcel, pipe_mass: f64, np_phi: f64, np_decay: f64) {
        let mean_n = np.base + np.amp * np_phi;
        self.sum_m += np.mass_kg;
        self.sum_m_theta += np.mass_kg * mean_n;
        let d = self.d;
        let inlet = if forward {
            self.parcels.front_mut()
        } else {
            self.parcels.back_mut()
        };
        let mut queued = false;
        match inlet {
            Some(p) => {
                let m = p.mass_kg + np.mass_kg;
                let mean_p = p.mean_theta();
                let mean = (p.mass_kg * mean_p + np.mass_kg * mean_n) / m;
                let k = np.rate.abs();
                // The old parcel's newest end faces the inlet, and the new profile, continued over
                // the new parcel's length, lands on it.
                let exact = (p.rate >= 0.0) == (np.rate >= 0.0)
                    && (p.rate.abs() - k).abs() <= JOIN_RATE_TOLERANCE * k
                    && ((p.base - np.base) * d).abs() <= JOIN_TOLERANCE_K
                    && ((np.amp * np_decay - p.amp) * d).abs() <= JOIN_TOLERANCE_K;
                if exact {
                    // The base takes up the rounding, so that the energy is exactly the sum.
                    let base = mean - np.amp * phi(k * m);
                    *p = Parcel {
                        mass_kg: m,
                        base,
                        amp: np.amp,
                        rate: np.rate,
                    };
                } else {
                    let near = |x: f64| ((x - mean) * d).abs() < MERGE_TOLERANCE_K;
                    if m <= pipe_mass * MERGE_MAX_SHARE
                        && near(p.end_theta(true))
                        && near(p.end_theta(false))
                        && near(np.end_theta(true))
                        && near(np.end_theta(false))
                    {
                        *p = Parcel::uniform(m, mean);
                    } else {
                        queued = true;
                    }
                }
            }
            None => queued = true,
        }
        if queued {
            if forward {
                self.parcels.push_front(np);
            } else {
                self.parcels.push_back(np);
            }
        }
        if self.parcels.len() > MAX_PARCELS {
            // Merge the two parcels at the inlet into one uniform parcel (O(1)); reached only by
            // very slow, unsteady flows.
            let (a, b) = if forward {
                (
                    self.parcels.pop_front().unwrap(),
                    self.parcels.pop_front().unwrap(),
                )
            } else {
                (
                    self.parcels.pop_back().unwrap(),
                    self.parcels.pop_back().unwrap(),
                )
            };
            let m = a.mass_kg + b.mass_kg;
            let np = Parcel::uniform(
                m,
                (a.mass_kg * a.mean_theta() + b.mass_kg * b.mean_theta()) / m,
            );
            if forward {
                self.parcels.push_front(np);
            } else {
                self.parcels.push_back(np);
            }
        }
    }

    /// Takes `mass_temp` (kg·K: energy / c_p; negative: adds it) out of the parcel at the inlet
    /// (the `from` end when `forward`), shifting it uniformly: water a station sent hotter (or
    /// colder) than its plants made of this tick's return (see [`Stations::hold_to_capacity`]).
    /// Energy is exact; the parcel keeps its shape.
    fn adjust_inlet_heat(&mut self, forward: bool, mass_temp: f64) {
        let d = self.d;
        let p = if forward {
            self.parcels.front_mut()
        } else {
            self.parcels.back_mut()
        };
        let Some(p) = p else { return };
        if p.mass_kg <= 0.0 {
            return;
        }
        let dtheta = mass_temp / (d * p.mass_kg);
        p.base -= dtheta;
        self.sum_m_theta -= p.mass_kg * dtheta;
    }

    /// Applies one tick's decay to every parcel held (O(1)); returns the loss, kg·K.
    fn decay_all(&mut self, f: f64, t_g: f64) -> f64 {
        let loss = (1.0 - f) * (self.mass_temp() - t_g * self.sum_m);
        self.d *= f;
        self.c = f * self.c + (1.0 - f) * t_g;
        if self.d < 1e-100 {
            self.renormalise();
        }
        loss
    }

    /// Folds `D` and `C` into the parcels and recomputes the sums exactly.
    fn renormalise(&mut self) {
        let (d, c) = (self.d, self.c);
        for p in self.parcels.iter_mut() {
            p.base = d * p.base + c;
            p.amp *= d;
        }
        self.d = 1.0;
        self.c = 0.0;
        self.sum_m = self.parcels.iter().map(|p| p.mass_kg).sum();
        self.sum_m_theta = self
            .parcels
            .iter()
            .map(|p| p.mass_kg * p.mean_theta())
            .sum();
        self.ops = 0;
    }

    /// Advances the pipe by one tick: `flow` (kg/s) in the from→to sense, `t_in` the temperature
    /// entering at the upstream end, `pipe_mass` its water, `inv_tau` 1/τ, `t_g` the ground.
    /// `full` is `exp_neg(dt·inv_tau)` and `stay_phi` is `phi(dt·inv_tau)` (the pipe's constants
    /// for this tick length, computed once).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn advance(
        &mut self,
        flow: f64,
        t_in: f64,
        dt: f64,
        pipe_mass: f64,
        inv_tau: f64,
        t_g: f64,
        full: f64,
        stay_phi: f64,
    ) -> Outflow {
        let mut out = Outflow::default();
        let q = flow.abs();
        self.ops += 1;
        if self.ops > 4096 {
            self.renormalise();
        }
        if q < NO_FLOW_KG_S {
            out.loss_mass_temp = self.decay_all(full, t_g);
            return out;
        }
        let forward = flow > 0.0;
        let m_in = q * dt;
        // Decay exponent per kg of water that has flowed past since the tick began: water `y` kg
        // from the outlet leaves at `y/ṁ` s.
        let beta = inv_tau / q;
        // Old water leaves from the downstream end, oldest first; each element decays until it
        // leaves. Along the part of a parcel that leaves, both the decay it had before (its
        // profile) and the time it leaves at are linear in its position, so the exit temperature
        // is exactly a mean of exponentials of a linear function.
        let mut y = 0.0; // mass already out
        let leave = m_in.min(pipe_mass);
        while y < leave * (1.0 - 1e-15) {
            let p = if forward {
                self.parcels.back_mut()
            } else {
                self.parcels.front_mut()
            };
            let Some(p) = p else { break };
            let take = p.mass_kg.min(leave - y);
            let whole = take >= p.mass_kg * (1.0 - 1e-15);
            let k = p.rate.abs();
            // Exponents of the profile's decay at the outlet end of the part that leaves and at
            // its inner end, and the part's mean transformed temperature now.
            let newest_at_outlet = (p.rate >= 0.0) != forward;
            let (e_out, e_in, mean_theta) = if p.amp == 0.0 {
                (0.0, 0.0, p.base)
            } else if newest_at_outlet {
                let mt = p.base + p.amp * phi(k * take);
                (0.0, k * take, mt)
            } else {
                let (e_out, e_in) = (k * p.mass_kg, k * (p.mass_kg - take));
                (e_out, e_in, p.base + p.amp * mean_exp(e_out, e_in))
            };
            let t_now = self.d * mean_theta + self.c;
            // The first part to leave starts leaving at the tick's start (`y = 0`: no decay
            // before); when it is all that leaves, its exponent is the tick's `Δt/τ`.
            let ground_mean = if y > 0.0 {
                mean_exp(beta * y, beta * (y + take))
            } else if take == m_in {
                stay_phi
            } else {
                phi(beta * take)
            };
            let ground_part = (self.d * p.base + self.c - t_g) * ground_mean;
            let profile_part = if p.amp == 0.0 {
                0.0
            } else {
                self.d * p.amp * mean_exp(e_out + beta * y, e_in + beta * (y + take))
            };
            let t_exit = t_g + ground_part + profile_part;
            out.mass_kg += take;
            out.mass_temp += take * t_exit;
            out.loss_mass_temp += take * (t_now - t_exit);
            y += take;
            self.sum_m -= take;
            self.sum_m_theta -= take * mean_theta;
            if whole {
                if forward {
                    self.parcels.pop_back();
                } else {
                    self.parcels.pop_front();
                }
            } else {
                if newest_at_outlet && p.amp != 0.0 {
                    p.amp *= exp_neg(k * take);
                }
                p.mass_kg -= take;
            }
        }
        if self.parcels.is_empty() {
            self.sum_m = 0.0;
            self.sum_m_theta = 0.0;
        }
        // What stays decays for the whole tick.
        out.loss_mass_temp += self.decay_all(full, t_g);
        // New water: if more than the pipe holds enters, the surplus passes right through after
        // exactly the residence time M/ṁ.
        let (m_stay, stay_decay, end_decay) = if m_in > pipe_mass {
            let through = m_in - pipe_mass;
            let e = exp_neg(beta * pipe_mass);
            let t_exit = t_g + (t_in - t_g) * e;
            out.mass_kg += through;
            out.mass_temp += through * t_exit;
            out.loss_mass_temp += through * (t_in - t_exit);
            (pipe_mass, phi(beta * pipe_mass), e)
        } else {
            (m_in, stay_phi, full)
        };
        // What stays entered over the last `m_stay/ṁ` s: `T_g + (T_in − T_g)·e^{−β·z}` from the
        // inlet, its mean `T_g + (T_in − T_g)·φ(β·m_stay)`.
        let t_stay = t_g + (t_in - t_g) * stay_decay;
        out.loss_mass_temp += m_stay * (t_in - t_stay);
        let np = Parcel {
            mass_kg: m_stay,
            base: (t_g - self.c) / self.d,
            amp: (t_in - t_g) / self.d,
            rate: if forward { beta } else { -beta },
        };
        self.push(forward, np, pipe_mass, stay_decay, end_decay);
        out
    }
}

/// Temperatures of the network and the energy terms of the last tick.
#[derive(Resource, Debug, Clone)]
pub struct ThermalState {
    pub supply: Vec<PipeWater>,
    pub ret: Vec<PipeWater>,
    pub supply_node_temp_c: Vec<f64>,
    pub return_node_temp_c: Vec<f64>,
    /// Per pipe: inlet and outlet temperature of the supply and return pipe this tick, °C.
    pub supply_in_c: Vec<f64>,
    pub supply_out_c: Vec<f64>,
    pub return_in_c: Vec<f64>,
    pub return_out_c: Vec<f64>,
    /// Heat lost to the ground by each pipe pair (supply + return) this tick, W.
    pub pipe_loss_w: Vec<f64>,
    /// Energy terms of the last tick, J.
    pub loss_j: f64,
    pub delivered_j: f64,
    pub station_heat_j: f64,
    /// Heat carried away by leaked water, relative to the make-up water that replaces it, J.
    pub leak_j: f64,
    /// Water energy in all pipes relative to 0 °C (c_p·Σ m·T), J, at the end of the last tick and before it.
    pub stored_j: f64,
    pub stored_before_j: f64,
    inv_tau: Vec<f64>,
    inv_tau_ret: Vec<f64>,
    /// Per supply pipe, together in one cache line: its water mass, 1/τ, and for the tick length
    /// `decay_dt`, `exp_neg(dt/τ)` and `phi(dt/τ)`; the same for the return pipes.
    pipe_k: Vec<[f64; 4]>,
    pipe_k_ret: Vec<[f64; 4]>,
    decay_dt: f64,
    order: Vec<u32>,
    order_signs: Vec<i8>,
    /// Per node (CSR): supply pipes leaving it along the flow, and supply pipes arriving (the
    /// return pipes leaving it).
    out_start: Vec<u32>,
    out_list: Vec<u32>,
    in_start: Vec<u32>,
    in_list: Vec<u32>,
    in_mass: Vec<f64>,
    in_mt: Vec<f64>,
    /// The network's parts (its independent networks, [`Network::component`]) for the passes:
    /// per part (CSR), its nodes in this tick's topological order, its pipes in the order the
    /// supply pass and the return pass advance them, and its pipes without flow.
    part_nodes_start: Vec<u32>,
    part_nodes: Vec<u32>,
    part_seq_start: Vec<u32>,
    part_supply_seq: Vec<u32>,
    part_return_seq: Vec<u32>,
    part_still_start: Vec<u32>,
    part_still: Vec<u32>,
}

/// Reference temperature of the water's energy content, °C.
pub const WATER_ENERGY_REFERENCE_C: f64 = 0.0;

/// Energy content of `mass_kg` of water at the mean temperature `temp_c` relative to
/// [`WATER_ENERGY_REFERENCE_C`], J: `m·c_p·(T − T_ref)`. The one place the water's energy content
/// is computed from its temperature (the ledger's conservation check sums it over every parcel):
/// with a temperature-dependent `c_p` this becomes the enthalpy difference `m·(h(T) − h(T_ref))`.
pub fn water_energy_j(mass_kg: f64, temp_c: f64, cp_j_kg_k: f64) -> f64 {
    mass_kg * cp_j_kg_k * (temp_c - WATER_ENERGY_REFERENCE_C)
}

/// 1/τ of each supply and each return pipe's exponential decay towards the ground, 1/s:
/// `U/(ρ·A·c_p)`, with each side's water density (the one of the network, or for
/// temperature-dependent water the density at the side's design temperature, as its mass).
fn pipe_inv_tau(net: &Network) -> (Vec<f64>, Vec<f64>) {
    let (rho_s, rho_r) = if net.temperature_dependent {
        (
            crate::water::density_kg_m3(net.supply_design_temp_c),
            crate::water::density_kg_m3(net.return_design_temp_c),
        )
    } else {
        (net.density_kg_m3, net.density_kg_m3)
    };
    let side = |rho: f64| {
        (0..net.pipe_count())
            .map(|k| {
                let d = net.pipe_diameter_m[k];
                let area = std::f64::consts::PI * 0.25 * d * d;
                net.pipe_loss_w_mk[k] / (rho * area * net.cp_j_kg_k)
            })
            .collect()
    };
    (side(rho_s), side(rho_r))
}

impl ThermalState {
    /// Recomputes the pipes' decay constants after their heat-loss coefficients changed (a
    /// what-if edit of the insulation); the water in the pipes is kept.
    pub fn refresh_pipe_constants(&mut self, net: &Network) {
        (self.inv_tau, self.inv_tau_ret) = pipe_inv_tau(net);
        // The per-pipe decay factors are cached per tick length: recompute them next tick.
        self.decay_dt = f64::NAN;
    }

    pub fn new(scene: &Scene, net: &Network) -> Self {
        let hn = &scene.heat_network;
        let np = net.pipe_count();
        let nn = net.node_count();
        let cp = net.cp_j_kg_k;
        let (inv_tau, inv_tau_ret) = pipe_inv_tau(net);
        let supply: Vec<PipeWater> = (0..np)
            .map(|k| PipeWater::filled(net.pipe_mass_kg[k], hn.supply_temp_c))
            .collect();
        let ret: Vec<PipeWater> = (0..np)
            .map(|k| PipeWater::filled(net.pipe_return_mass_kg[k], hn.return_temp_c))
            .collect();
        let stored = cp
            * supply
                .iter()
                .chain(&ret)
                .map(|p| p.mass_temp())
                .sum::<f64>();
        Self {
            supply,
            ret,
            supply_node_temp_c: vec![hn.supply_temp_c; nn],
            return_node_temp_c: vec![hn.return_temp_c; nn],
            supply_in_c: vec![hn.supply_temp_c; np],
            supply_out_c: vec![hn.supply_temp_c; np],
            return_in_c: vec![hn.return_temp_c; np],
            return_out_c: vec![hn.return_temp_c; np],
            pipe_loss_w: vec![0.0; np],
            loss_j: 0.0,
            delivered_j: 0.0,
            station_heat_j: 0.0,
            leak_j: 0.0,
            stored_j: stored,
            stored_before_j: stored,
            inv_tau,
            inv_tau_ret,
            pipe_k: vec![[0.0; 4]; np],
            pipe_k_ret: vec![[0.0; 4]; np],
            decay_dt: f64::NAN,
            order: Vec::new(),
            order_signs: Vec::new(),
            out_start: Vec::new(),
            out_list: Vec::new(),
            in_start: Vec::new(),
            in_list: Vec::new(),
            in_mass: vec![0.0; nn],
            in_mt: vec![0.0; nn],
            part_nodes_start: Vec::new(),
            part_nodes: Vec::new(),
            part_seq_start: Vec::new(),
            part_supply_seq: Vec::new(),
            part_return_seq: Vec::new(),
            part_still_start: Vec::new(),
            part_still: Vec::new(),
        }
    }
}

impl ThermalState {
    /// Energy content of the water in every supply and return pipe, J, summed parcel by parcel
    /// ([`water_energy_j`] of each parcel's mass and mean temperature) — from the water's state,
    /// not from the running sums behind [`ThermalState::stored_j`].
    pub fn water_energy_from_parcels_j(&self, cp_j_kg_k: f64) -> f64 {
        self.supply
            .iter()
            .chain(&self.ret)
            .map(|p| {
                p.parcels()
                    .map(|(m, t)| water_energy_j(m, t, cp_j_kg_k))
                    .sum::<f64>()
            })
            .sum()
    }
}

pub struct ThermalPlugin;

impl Plugin for ThermalPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(FixedUpdate, thermal_pass.in_set(SimSet::Thermal))
            .add_systems(
                FixedUpdate,
                substation_requests
                    .in_set(SimSet::Demand)
                    .after(crate::demand::building_demand),
            );
    }
}

/// Recomputes the topological order of nodes along this tick's supply flow if the flow pattern
/// changed (Kahn's algorithm; nodes on a directed cycle, which a converged potential flow cannot
/// have, are appended in index order).
fn update_order(th: &mut ThermalState, net: &Network, flow: &[f64]) {
    let signs: Vec<i8> = flow
        .iter()
        .map(|&q| {
            if q > NO_FLOW_KG_S {
                1
            } else if q < -NO_FLOW_KG_S {
                -1
            } else {
                0
            }
        })
        .collect();
    if signs == th.order_signs && !th.order.is_empty() {
        return;
    }
    let nn = net.node_count();
    let mut indeg = vec![0u32; nn];
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); nn];
    for (k, &sg) in signs.iter().enumerate() {
        let (a, b) = (net.pipe_from[k], net.pipe_to[k]);
        let (u, v) = match sg {
            1 => (a, b),
            -1 => (b, a),
            _ => continue,
        };
        out[u as usize].push(v);
        indeg[v as usize] += 1;
    }
    let mut order = Vec::with_capacity(nn);
    let mut stack: Vec<u32> = (0..nn as u32)
        .rev()
        .filter(|&i| indeg[i as usize] == 0)
        .collect();
    while let Some(u) = stack.pop() {
        order.push(u);
        for &v in &out[u as usize] {
            indeg[v as usize] -= 1;
            if indeg[v as usize] == 0 {
                stack.push(v);
            }
        }
    }
    if order.len() < nn {
        let mut seen = vec![false; nn];
        order.iter().for_each(|&u| seen[u as usize] = true);
        order.extend((0..nn as u32).filter(|&u| !seen[u as usize]));
    }
    th.order = order;
    // CSR lists of pipes leaving and entering each node along the flow.
    let mut out_start = vec![0u32; nn + 1];
    let mut in_start = vec![0u32; nn + 1];
    for (k, &sg) in signs.iter().enumerate() {
        let (a, b) = (net.pipe_from[k] as usize, net.pipe_to[k] as usize);
        match sg {
            1 => {
                out_start[a + 1] += 1;
                in_start[b + 1] += 1;
            }
            -1 => {
                out_start[b + 1] += 1;
                in_start[a + 1] += 1;
            }
            _ => {}
        }
    }
    for i in 0..nn {
        out_start[i + 1] += out_start[i];
        in_start[i + 1] += in_start[i];
    }
    let mut out_list = vec![0u32; out_start[nn] as usize];
    let mut in_list = vec![0u32; in_start[nn] as usize];
    let (mut oc, mut ic) = (out_start.clone(), in_start.clone());
    for (k, &sg) in signs.iter().enumerate() {
        let (a, b) = (net.pipe_from[k] as usize, net.pipe_to[k] as usize);
        let (u, v) = match sg {
            1 => (a, b),
            -1 => (b, a),
            _ => continue,
        };
        out_list[oc[u] as usize] = k as u32;
        oc[u] += 1;
        in_list[ic[v] as usize] = k as u32;
        ic[v] += 1;
    }
    th.out_start = out_start;
    th.out_list = out_list;
    th.in_start = in_start;
    th.in_list = in_list;
    th.order_signs = signs;
    // Per part (independent network): its nodes in topological order, its pipes in the order
    // each pass advances them (for prefetching), its pipes without flow.
    let nparts = net.component_root.len();
    let part_of_node = |u: u32| net.component[u as usize] as usize;
    let mut count = vec![0u32; nparts + 1];
    for &u in &th.order {
        count[part_of_node(u) + 1] += 1;
    }
    for c in 0..nparts {
        count[c + 1] += count[c];
    }
    let mut fill = count.clone();
    let mut part_nodes = vec![0u32; nn];
    for &u in &th.order {
        let c = part_of_node(u);
        part_nodes[fill[c] as usize] = u;
        fill[c] += 1;
    }
    th.part_nodes_start = count;
    th.part_nodes = part_nodes;
    th.part_supply_seq.clear();
    th.part_return_seq.clear();
    th.part_seq_start = vec![0];
    for c in 0..nparts {
        let nodes =
            &th.part_nodes[th.part_nodes_start[c] as usize..th.part_nodes_start[c + 1] as usize];
        for &u in nodes {
            let u = u as usize;
            th.part_supply_seq.extend_from_slice(
                &th.out_list[th.out_start[u] as usize..th.out_start[u + 1] as usize],
            );
        }
        for &u in nodes.iter().rev() {
            let u = u as usize;
            th.part_return_seq.extend_from_slice(
                &th.in_list[th.in_start[u] as usize..th.in_start[u + 1] as usize],
            );
        }
        th.part_seq_start.push(th.part_supply_seq.len() as u32);
    }
    let mut still_count = vec![0u32; nparts + 1];
    for (k, &sg) in th.order_signs.iter().enumerate() {
        if sg == 0 {
            still_count[part_of_node(net.pipe_from[k]) + 1] += 1;
        }
    }
    for c in 0..nparts {
        still_count[c + 1] += still_count[c];
    }
    let mut fill = still_count.clone();
    let mut still = vec![0u32; still_count[nparts] as usize];
    for (k, &sg) in th.order_signs.iter().enumerate() {
        if sg == 0 {
            let c = part_of_node(net.pipe_from[k]);
            still[fill[c] as usize] = k as u32;
            fill[c] += 1;
        }
    }
    th.part_still_start = still_count;
    th.part_still = still;
}

/// How many pipes ahead the passes prefetch a pipe's water (its parcels, constants and flow); its
/// state, which says where the parcels are, is prefetched twice as far ahead, so that reading it
/// then does not stall.
const PREFETCH_AHEAD: usize = 6;

/// Asks the CPU to bring the cache line at `p` in (a hint only; nothing is read).
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and reads nothing, whatever the address.
    #[allow(unused_unsafe)]
    unsafe {
        core::arch::x86_64::_mm_prefetch(p as *const i8, core::arch::x86_64::_MM_HINT_T0)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// The ground temperature pipe `k` loses heat to this tick, °C: the weather's at its burial depth
/// (the reference depth's where the weather has no value for it).
#[inline]
pub fn pipe_ground_temp_c(net: &Network, weather: &WeatherNow, k: usize) -> f64 {
    weather
        .ground_temp_by_depth_c
        .get(net.pipe_depth_index[k] as usize)
        .copied()
        .unwrap_or(weather.ground_temp_c)
}

/// Substations ask for their flows at the supply temperature this domain computed last tick (the
/// rule is the demand domain's, [`Consumers::update_requests`]).
pub fn substation_requests(
    b: Res<crate::demand::Buildings>,
    net: Res<Network>,
    th: Res<ThermalState>,
    mut c: ResMut<Consumers>,
) {
    c.update_requests(&b, &net, &th.supply_node_temp_c);
}

/// Supply pass, consumers, return pass; then the energy terms of the tick.
pub fn thermal_pass(
    clock: Res<SimClock>,
    spec: Res<SceneSpec>,
    weather: Res<WeatherNow>,
    net: Res<Network>,
    mut hs: ResMut<HydraulicState>,
    mut consumers: ResMut<Consumers>,
    mut st: ResMut<Stations>,
    mut th: ResMut<ThermalState>,
) {
    let th = &mut *th;
    let st = &mut *st;
    let hs = &mut *hs;
    let c = &mut *consumers;
    let dt = clock.tick_s;
    let cp = net.cp_j_kg_k;
    let dhw_min = spec.scene.heat_network.dhw_min_supply_temp_c;
    let flow = &hs.pipe_flow_kg_s;
    update_order(th, &net, flow);
    if th.decay_dt.to_bits() != dt.to_bits() {
        for k in 0..net.pipe_count() {
            let it = th.inv_tau[k];
            th.pipe_k[k] = [net.pipe_mass_kg[k], it, exp_neg(dt * it), phi(dt * it)];
            let it = th.inv_tau_ret[k];
            th.pipe_k_ret[k] = [
                net.pipe_return_mass_kg[k],
                it,
                exp_neg(dt * it),
                phi(dt * it),
            ];
        }
        th.decay_dt = dt;
    }
    let np = net.pipe_count();
    let mut loss_mt = 0.0;
    th.pipe_loss_w.iter_mut().for_each(|x| *x = 0.0);

    // ---- supply ----
    th.in_mass.iter_mut().for_each(|x| *x = 0.0);
    th.in_mt.iter_mut().for_each(|x| *x = 0.0);
    for s in 0..st.len() {
        let n = st.node[s] as usize;
        let m = st.mass_flow_kg_s[s] * dt;
        th.in_mass[n] += m;
        th.in_mt[n] += m * st.supply_out_c[s];
    }
    let nparts = th.part_nodes_start.len() - 1;
    let parallel = nparts > 1
        && cfg!(not(target_arch = "wasm32"))
        && rayon::current_num_threads() > 1
        && np >= PARALLEL_PARTS_FROM_PIPES;
    let consts = PassConsts {
        net: &net,
        weather: &weather,
        flow,
        dt,
        cp,
    };
    loss_mt += {
        let side = th.side(true);
        run_parts(nparts, parallel, |c| side.pass(c, &consts))
    };

    // ---- consumers: the substations take their heat (the demand domain's substation model) ----
    th.in_mass.iter_mut().for_each(|x| *x = 0.0);
    th.in_mt.iter_mut().for_each(|x| *x = 0.0);
    let delivered_j = c.take_heat(&th.supply_node_temp_c, cp, dhw_min, dt);
    // Their returns enter the return network at their nodes.
    for i in 0..c.len() {
        let m = c.mass_flow_kg_s[i];
        if let Some(node) = c.node[i]
            && m > 0.0
        {
            let node = node as usize;
            th.in_mass[node] += m * dt;
            th.in_mt[node] += m * dt * c.return_out_c()[i];
        }
    }

    // ---- leaks: supply water out, make-up water into the return at the same node ----
    let mut leak_j = 0.0;
    for (node, &m) in net.node_leak_kg_s().iter().enumerate() {
        if m > 0.0 {
            let t_mu = hs.makeup_temp_c;
            leak_j += m * dt * cp * (th.supply_node_temp_c[node] - t_mu);
            th.in_mass[node] += m * dt;
            th.in_mt[node] += m * dt * t_mu;
        }
    }

    // ---- return: flows run backwards, so the reverse order is topological ----
    loss_mt += {
        let side = th.side(false);
        run_parts(nparts, parallel, |c| side.pass(c, &consts))
    };
    // Stations take their flow at the mixed return temperature of their node. A station's
    // plants heat the return that came back this tick: its supply is `min(T_set, T_r +
    // Q_max/(ṁ·c_p))` with this tick's `T_r`, not the dispatch's estimate from last tick's; the
    // difference in heat is taken out of (or added to) the water that left the station node this
    // tick (the newest parcels of its outgoing supply pipes, by flow; substations at the station's
    // own node took theirs at the node's temperature as mixed). A station whose node has no
    // outgoing pipe with flow keeps the dispatch's temperature.
    let mut station_j = 0.0;
    for s in 0..st.len() {
        let n = st.node[s] as usize;
        if st.mass_flow_kg_s[s] > 0.0 {
            st.set_return_in(s, th.return_node_temp_c[n]);
            let pipes = &th.out_list[th.out_start[n] as usize..th.out_start[n + 1] as usize];
            let out_flow: f64 = pipes.iter().map(|&k| flow[k as usize].abs()).sum();
            if out_flow > 0.0 {
                let excess_j = st.hold_to_capacity(s, cp, dt);
                if excess_j != 0.0 {
                    for &k in pipes {
                        let k = k as usize;
                        let share = flow[k].abs() / out_flow;
                        th.supply[k].adjust_inlet_heat(flow[k] > 0.0, excess_j * share / cp);
                    }
                }
            }
        }
        station_j += st.mass_flow_kg_s[s] * dt * cp * (st.supply_out_c[s] - st.return_in_c()[s]);
    }

    // The hydraulics of the next tick take each pipe side's water properties at its temperature.
    if net.temperature_dependent {
        hs.set_water_temps(
            &th.supply_in_c,
            &th.supply_out_c,
            &th.return_in_c,
            &th.return_out_c,
        );
    }

    th.loss_j = loss_mt * cp;
    th.delivered_j = delivered_j;
    th.leak_j = leak_j;
    th.station_heat_j = station_j;
    th.stored_before_j = th.stored_j;
    th.stored_j = cp
        * th.supply
            .iter()
            .chain(&th.ret)
            .map(|p| p.mass_temp())
            .sum::<f64>();
}

/// Networks of at least this many pipes run their parts' passes on rayon (when it has several
/// threads); each part's pass is the same arithmetic on either path, so the bits do not depend on
/// it.
const PARALLEL_PARTS_FROM_PIPES: usize = 512;

/// Runs `pass` on every part (on rayon when `parallel`) and sums the parts' results in part
/// order: the same sum, bit for bit, whatever the number of threads.
fn run_parts<F: Fn(usize) -> f64 + Sync>(nparts: usize, parallel: bool, pass: F) -> f64 {
    if parallel {
        use rayon::prelude::*;
        let parts: Vec<f64> = (0..nparts).into_par_iter().map(&pass).collect();
        parts.iter().sum()
    } else {
        (0..nparts).map(pass).sum()
    }
}

/// What every part's pass reads: the network, the weather, this tick's flows, the tick, c_p.
struct PassConsts<'a> {
    net: &'a Network,
    weather: &'a WeatherNow,
    flow: &'a [f64],
    dt: f64,
    cp: f64,
}

/// One side (supply, or return) of the network for the parts' passes: the lists by part, and
/// the arrays the passes write.
struct Side<'a> {
    /// Supply (water along the flow, nodes in topological order) or return (against it, nodes
    /// in reverse order).
    forward: bool,
    nodes_start: &'a [u32],
    nodes: &'a [u32],
    /// Per node (CSR): the pipes that leave it along this side's flow.
    adj_start: &'a [u32],
    adj: &'a [u32],
    seq_start: &'a [u32],
    seq: &'a [u32],
    still_start: &'a [u32],
    still: &'a [u32],
    pipe_k: &'a [[f64; 4]],
    water: Disjoint<'a, PipeWater>,
    node_temp: Disjoint<'a, f64>,
    in_mass: Disjoint<'a, f64>,
    in_mt: Disjoint<'a, f64>,
    in_c: Disjoint<'a, f64>,
    out_c: Disjoint<'a, f64>,
    loss_w: Disjoint<'a, f64>,
}

impl ThermalState {
    /// The supply side (`forward`) or the return side for the parts' passes: its lists by part
    /// and the arrays its passes write.
    fn side(&mut self, forward: bool) -> Side<'_> {
        let (adj_start, adj, seq, pipe_k) = if forward {
            (
                &self.out_start,
                &self.out_list,
                &self.part_supply_seq,
                &self.pipe_k,
            )
        } else {
            (
                &self.in_start,
                &self.in_list,
                &self.part_return_seq,
                &self.pipe_k_ret,
            )
        };
        let (water, node_temp, in_c, out_c) = if forward {
            (
                &mut self.supply,
                &mut self.supply_node_temp_c,
                &mut self.supply_in_c,
                &mut self.supply_out_c,
            )
        } else {
            (
                &mut self.ret,
                &mut self.return_node_temp_c,
                &mut self.return_in_c,
                &mut self.return_out_c,
            )
        };
        Side {
            forward,
            nodes_start: &self.part_nodes_start,
            nodes: &self.part_nodes,
            adj_start,
            adj,
            seq_start: &self.part_seq_start,
            seq,
            still_start: &self.part_still_start,
            still: &self.part_still,
            pipe_k,
            water: Disjoint::new(water),
            node_temp: Disjoint::new(node_temp),
            in_mass: Disjoint::new(&mut self.in_mass),
            in_mt: Disjoint::new(&mut self.in_mt),
            in_c: Disjoint::new(in_c),
            out_c: Disjoint::new(out_c),
            loss_w: Disjoint::new(&mut self.pipe_loss_w),
        }
    }
}

impl Side<'_> {
    /// Part `c`'s pass: its nodes in order (mixing what arrived), the pipes leaving each along
    /// the flow, then its pipes without flow. Returns the part's loss, kg·K.
    fn pass(&self, c: usize, k: &PassConsts) -> f64 {
        let net = k.net;
        let pipe = |p: usize| {
            let [mass_kg, inv_tau, full, stay_phi] = self.pipe_k[p];
            PipeConst {
                dt: k.dt,
                cp: k.cp,
                t_g: pipe_ground_temp_c(net, k.weather, p),
                mass_kg,
                inv_tau,
                full,
                stay_phi,
            }
        };
        let nodes = &self.nodes[self.nodes_start[c] as usize..self.nodes_start[c + 1] as usize];
        let seq = &self.seq[self.seq_start[c] as usize..self.seq_start[c + 1] as usize];
        let mut loss_mt = 0.0;
        let mut pos = 0;
        let mut visit = |ui: usize, loss_mt: &mut f64| {
            // SAFETY (every `at` below): node `ui`, the pipes leaving it and the nodes they reach
            // are part `c`'s, which only this pass touches (see `Disjoint`).
            let (m_in, mt_in) = unsafe { (*self.in_mass.at(ui), *self.in_mt.at(ui)) };
            let t_node = unsafe { self.node_temp.at(ui) };
            if m_in > 0.0 {
                *t_node = mt_in / m_in;
            }
            let t_u = *t_node;
            for j in self.adj_start[ui]..self.adj_start[ui + 1] {
                let p = self.adj[j as usize] as usize;
                self.prefetch_ahead(seq, pos, k.flow);
                pos += 1;
                let q = k.flow[p];
                let (to, q) = if self.forward {
                    (
                        if q > 0.0 {
                            net.pipe_to[p]
                        } else {
                            net.pipe_from[p]
                        },
                        q,
                    )
                } else {
                    (
                        if q > 0.0 {
                            net.pipe_from[p]
                        } else {
                            net.pipe_to[p]
                        },
                        -q,
                    )
                };
                let to = to as usize;
                let pc = pipe(p);
                let o = unsafe { self.water.at(p) }.advance(
                    q,
                    t_u,
                    pc.dt,
                    pc.mass_kg,
                    pc.inv_tau,
                    pc.t_g,
                    pc.full,
                    pc.stay_phi,
                );
                unsafe {
                    *self.in_mass.at(to) += o.mass_kg;
                    *self.in_mt.at(to) += o.mass_temp;
                    *self.in_c.at(p) = t_u;
                    if o.mass_kg > 0.0 {
                        *self.out_c.at(p) = o.mass_temp / o.mass_kg;
                    }
                    *self.loss_w.at(p) += o.loss_mass_temp * pc.cp / pc.dt;
                }
                *loss_mt += o.loss_mass_temp;
            }
        };
        if self.forward {
            for &u in nodes {
                visit(u as usize, &mut loss_mt);
            }
        } else {
            for &u in nodes.iter().rev() {
                visit(u as usize, &mut loss_mt);
            }
        }
        // Pipes without flow still cool.
        for &p in &self.still[self.still_start[c] as usize..self.still_start[c + 1] as usize] {
            let p = p as usize;
            // SAFETY: pipe `p` is part `c`'s.
            let (water, in_c, out_c, loss_w) = unsafe {
                (
                    self.water.at(p),
                    self.in_c.at(p),
                    self.out_c.at(p),
                    self.loss_w.at(p),
                )
            };
            loss_mt += cool_still(water, !self.forward, (in_c, out_c), loss_w, &pipe(p));
        }
        loss_mt
    }

    /// The prefetches due at position `pos` of the part's pipe sequence `seq`: the state of the
    /// pipe `2·PREFETCH_AHEAD` ahead, the parcels (and the rest) of the one `PREFETCH_AHEAD` ahead.
    #[inline(always)]
    fn prefetch_ahead(&self, seq: &[u32], pos: usize, flow: &[f64]) {
        if let Some(&kf) = seq.get(pos + 2 * PREFETCH_AHEAD) {
            prefetch(self.water.addr(kf as usize));
        }
        if let Some(&ka) = seq.get(pos + PREFETCH_AHEAD) {
            let ka = ka as usize;
            // SAFETY: pipe `ka` is in this part's sequence: only this pass touches it, and the
            // reference ends within this statement.
            let w = unsafe { &*self.water.at(ka) };
            let (a, b) = w.parcels.as_slices();
            prefetch(a.as_ptr());
            prefetch(if b.is_empty() {
                a.as_ptr_range().end.wrapping_sub(1)
            } else {
                b.as_ptr_range().end.wrapping_sub(1)
            });
            prefetch(&self.pipe_k[ka]);
            prefetch(&flow[ka]);
        }
    }
}

/// What one pipe's advance needs besides its water: the tick, c_p, the ground, its mass and 1/τ.
struct PipeConst {
    dt: f64,
    cp: f64,
    t_g: f64,
    mass_kg: f64,
    inv_tau: f64,
    full: f64,
    stay_phi: f64,
}

/// Cools a pipe without flow for one tick; its end temperatures are read from its water (`inlet_at_to`:
/// whether the pipe's inlet, as drawn, is its `to` end, as for return pipes). Returns the loss in kg·K.
fn cool_still(
    water: &mut PipeWater,
    inlet_at_to: bool,
    (in_c, out_c): (&mut f64, &mut f64),
    loss_w: &mut f64,
    p: &PipeConst,
) -> f64 {
    let o = water.advance(
        0.0, 0.0, p.dt, p.mass_kg, p.inv_tau, p.t_g, p.full, p.stay_phi,
    );
    *loss_w += o.loss_mass_temp * p.cp / p.dt;
    *in_c = water.end_temp(inlet_at_to);
    *out_c = water.end_temp(!inlet_at_to);
    o.loss_mass_temp
}

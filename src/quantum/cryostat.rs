//! The mixing-chamber temperature of a site's dilution refrigerator as a state.
//!
//! # Model
//! With the pulse-tube compressor running the mixing chamber relaxes towards its base
//! temperature `T_b` (≈ 12 mK) with a time constant that grows with temperature:
//!
//! `dT/dt = −(T − T_b)/τ(T)`, `τ(T) = τ_low + τ_high · T⁴/(T⁴ + T_knee⁴)`,
//!
//! with `τ_low` = 20 min (the mixing chamber and its plate near base), `τ_high` = 13 h (above
//! `T_knee` ≈ 0.7 K the mixture has to be recondensed and the plates re-thermalised) — a full
//! cool-down from 4 K to within 1 mK of base takes ≈ 26 h, a recovery from 150 mK ≈ 1.7 h (to
//! below the 50 mK "too warm" threshold ≈ 26 min).
//!
//! With the compressor stopped (the site offline, or `Sites::compressor_on` false) the 4 K stage
//! loses its cooling and the mixing chamber warms quickly at first and ever slower as the heat
//! capacities grow:
//!
//! `d ln T/dt = k / (1 + T/T_w)`, `k` = 0.3 /min, `T_w` = 0.1 K,
//!
//! i.e. `ln T + T/T_w = k t + const`: from 12 mK to 100 mK in 10 min, to 4 K in ≈ 2.5 h. The model
//! stops at 4 K (the 4 K plate's temperature): a warm-up to room temperature (days) is outside
//! the stops this twin considers.
//!
//! Both laws are integrated with sub-steps of at most 10 s, so the state does not depend on the
//! tick length beyond rounding.
//!
//! # References
//! - Bluefors LD/XLD data: base temperature < 10–20 mK, cool-down from room temperature to base
//!   ≈ 24–36 h, a few hours from 4 K once the mixture is condensed.
//! - F. Pobell, *Matter and Methods at Low Temperatures*, 3rd ed., Springer (2007), ch. 7
//!   (dilution refrigeration, heat capacities at low temperature).
//! - S. Krinner et al., "Engineering cryogenic setups for 100-qubit scale superconducting circuit
//!   systems", EPJ Quantum Technology 6, 2 (2019).
//!
//! Units: K, s.

use crate::math::Det;
use crate::scene::Cryostat;

/// Longest explicit sub-step, s.
const SUBSTEP_S: f64 = 10.0;

/// Cool-down time constant at `temp_k`, s.
pub fn cool_tau_s(c: &Cryostat, temp_k: f64) -> f64 {
    let t4 = temp_k.powi(4);
    c.cool_tau_low_s + c.cool_tau_high_s * t4 / (t4 + c.cool_knee_k.powi(4))
}

/// Rate of `ln T` with the compressor off at `temp_k`, 1/s.
pub fn warm_rate_per_s(c: &Cryostat, temp_k: f64) -> f64 {
    c.warm_rate_per_s / (1.0 + temp_k / c.warm_knee_k)
}

/// The mixing-chamber temperature `dt_s` seconds after `temp_k`, with the compressor on or off.
pub fn step(c: &Cryostat, temp_k: f64, compressor_on: bool, dt_s: f64) -> f64 {
    if dt_s <= 0.0 {
        return temp_k;
    }
    let n = (dt_s / SUBSTEP_S).ceil().max(1.0);
    let h = dt_s / n;
    let mut t = temp_k;
    for _ in 0..n as u64 {
        if compressor_on {
            // Exact for the time constant of the sub-step's midpoint.
            let mid = c.base_temp_k + (t - c.base_temp_k) * (-0.5 * h / cool_tau_s(c, t)).exp_d();
            t = c.base_temp_k + (t - c.base_temp_k) * (-h / cool_tau_s(c, mid)).exp_d();
        } else {
            // Midpoint rule on ln T.
            let mid = t * (0.5 * h * warm_rate_per_s(c, t)).exp_d();
            t = (t * (h * warm_rate_per_s(c, mid)).exp_d()).min(c.warm_limit_k);
        }
    }
    t.max(c.base_temp_k.min(temp_k))
}

/// Seconds until a cryostat at `from_k` crosses `to_k` (compressor on when cooling, off when
/// warming), found by stepping; `None` if not within `limit_s`.
pub fn time_to_reach(c: &Cryostat, from_k: f64, to_k: f64, limit_s: f64) -> Option<f64> {
    let warming = to_k > from_k;
    let mut t = from_k;
    let mut elapsed = 0.0;
    while elapsed < limit_s {
        t = step(c, t, !warming, SUBSTEP_S);
        elapsed += SUBSTEP_S;
        if (warming && t >= to_k) || (!warming && t <= to_k) {
            return Some(elapsed);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_times_hold() {
        let c = Cryostat::default();
        let h = 3600.0;
        let to_100mk = time_to_reach(&c, 0.012, 0.100, 10.0 * h).unwrap();
        assert!((6.0 * 60.0..=12.0 * 60.0).contains(&to_100mk), "{to_100mk}");
        let to_4k = time_to_reach(&c, 0.012, 3.99, 10.0 * h).unwrap();
        assert!((1.5 * h..=4.0 * h).contains(&to_4k), "{to_4k}");
        let full = time_to_reach(&c, 4.0, 0.013, 60.0 * h).unwrap();
        assert!((24.0 * h..=36.0 * h).contains(&full), "{}", full / h);
        let recover = time_to_reach(&c, 0.150, 0.013, 10.0 * h).unwrap();
        assert!((1.0 * h..=2.0 * h).contains(&recover), "{}", recover / h);
        let usable = time_to_reach(&c, 0.150, c.too_warm_k, 10.0 * h).unwrap();
        assert!((15.0 * 60.0..=40.0 * 60.0).contains(&usable), "{usable}");
    }

    #[test]
    fn step_does_not_depend_on_the_tick() {
        let c = Cryostat::default();
        let mut a = 0.012;
        for _ in 0..60 {
            a = step(&c, a, false, 60.0);
        }
        let b = step(&c, 0.012, false, 3600.0);
        assert!((a - b).abs() < 1e-9 * b, "{a} {b}");
        assert_eq!(step(&c, c.base_temp_k, true, 600.0), c.base_temp_k);
    }
}

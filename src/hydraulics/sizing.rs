//! Pipe sizing: the standard DN a design flow needs, for every part of the crate that lays
//! pipes (the city generator, the OpenStreetMap import's layout, the what-if site placement).
//!
//! # Rule
//! A pipe carrying the design mass flow `ṁ` (kg/s) gets the smallest DN of
//! [`DN_TABLE`] (at least [`MIN_DN`]) whose mean velocity `v = ṁ / (ρ·π·d²/4)` (inner diameter
//! `d`) stays ≤ [`MAX_DESIGN_VELOCITY_M_S`] = 1.5 m/s, the usual design limit for distribution
//! pipes; the largest DN (DN600) where even that is exceeded ([`smallest_dn_for`]).
//!
//! The import's layout adds a second limit on purpose (its networks have long mains): the design
//! pressure gradient `R = f·(1/d)·ρv²/2` (Darcy–Weisbach with the crate's friction factor,
//! [`friction_factor`], roughness [`DESIGN_ROUGHNESS_M`]) must also stay ≤
//! [`MAX_GRADIENT_PA_M`] = 150 Pa/m ([`smallest_dn_within_gradient`], which starts from
//! [`smallest_dn_for`]).
//!
//! Units: kg/s, kg/m³, m, m/s, Pa/m. Reference: Frederiksen & Werner, *District Heating and
//! Cooling* (2013), ch. 5 (design velocities about 1–2 m/s in distribution pipes, pressure
//! gradients 100–200 Pa/m).

use super::solver::friction_factor;
use crate::scene::{DN_TABLE, Fluid};

/// Largest design velocity in a pipe, m/s.
pub const MAX_DESIGN_VELOCITY_M_S: f64 = 1.5;
/// Smallest pipe laid (generated, imported or placed networks).
pub const MIN_DN: u32 = 32;
/// Largest design pressure gradient of a pipe in [`smallest_dn_within_gradient`], Pa/m.
pub const MAX_GRADIENT_PA_M: f64 = 150.0;
/// Roughness of the steel pipes at design, m (0.045 mm).
pub const DESIGN_ROUGHNESS_M: f64 = 4.5e-5;

/// Smallest DN (≥ [`MIN_DN`]) that carries `kg_s` at ≤ [`MAX_DESIGN_VELOCITY_M_S`]; the largest
/// DN if none does. The crate's one DN sizing rule (see the module page).
pub fn smallest_dn_for(kg_s: f64, density_kg_m3: f64) -> u32 {
    DN_TABLE
        .iter()
        .filter(|e| e.0 >= MIN_DN)
        .find(|e| {
            let area = std::f64::consts::PI * e.1 * e.1 / 4.0;
            kg_s / (density_kg_m3 * area) <= MAX_DESIGN_VELOCITY_M_S
        })
        .unwrap_or(DN_TABLE.last().expect("DN table is not empty"))
        .0
}

/// Design pressure gradient of water flowing at `kg_s` in a pipe of inner diameter `d_m`, Pa/m
/// (roughness [`DESIGN_ROUGHNESS_M`]).
pub fn pressure_gradient_pa_m(kg_s: f64, d_m: f64, fluid: &Fluid) -> f64 {
    let area = std::f64::consts::PI * d_m * d_m / 4.0;
    let v = kg_s.abs() / (fluid.density_kg_m3 * area);
    let re = fluid.density_kg_m3 * v * d_m / fluid.viscosity_pa_s;
    if re <= 0.0 {
        return 0.0;
    }
    friction_factor(re, DESIGN_ROUGHNESS_M / d_m) / d_m * 0.5 * fluid.density_kg_m3 * v * v
}

/// The variant with a pressure-gradient limit: the smallest DN (at least [`smallest_dn_for`]'s,
/// i.e. ≥ DN32 and ≤ 1.5 m/s) whose design pressure gradient is at most
/// [`MAX_GRADIENT_PA_M`]; the largest DN if none is.
pub fn smallest_dn_within_gradient(kg_s: f64, fluid: &Fluid) -> u32 {
    let start = smallest_dn_for(kg_s, fluid.density_kg_m3);
    DN_TABLE
        .iter()
        .filter(|e| e.0 >= start)
        .find(|e| pressure_gradient_pa_m(kg_s, e.1, fluid) <= MAX_GRADIENT_PA_M)
        .unwrap_or(DN_TABLE.last().expect("DN table is not empty"))
        .0
}

/// Largest pipe an import or a generated city lays (the trunk of a station): DN400. Above it a
/// district gets more stations (see the import's layout module).
pub const MAX_STATION_DN: u32 = 400;

/// The largest design heat load one station feeds, W: the design flow at 90/40 °C that a
/// [`MAX_STATION_DN`] pipe carries within the sizing limits (1.5 m/s, 150 Pa/m), so that a
/// station sending its whole load down one trunk still needs no larger pipe.
pub fn station_capacity_w(fluid: &Fluid) -> f64 {
    let (mut lo, mut hi) = (0.0_f64, 1.0e4_f64);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if smallest_dn_within_gradient(mid, fluid) <= MAX_STATION_DN {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo * fluid.cp_j_kg_k * (90.0 - 40.0)
}

/// Largest design pressure drop (supply only, mains) from a station's part's top to any of its
/// taps, Pa: 3 bar. A longer path is cut off into a part of its own
/// (`crate::network::partition`), so that the pumps stay near 10 bar (1.3 × (2 × 3 bar + the
/// substation's 0.5 bar) + 0.5 bar = 9 bar by the rule of thumb, some 12 bar at the design day's
/// morning peak) instead of approaching PN25 on long dead-end streets. Our planning assumption
/// (Frederiksen & Werner 2013, ch. 5: distribution networks are planned for pump heads of some
/// 6–16 bar).
pub const MAX_PATH_DP_PA: f64 = 3.0e5;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::dn_entry;

    #[test]
    fn velocity_rule_picks_the_smallest_dn_within_1_5_m_s() {
        let rho = Fluid::default().density_kg_m3;
        for kg_s in [0.0, 0.05, 0.5, 1.0, 2.0, 10.0, 40.0, 150.0, 400.0] {
            let dn = smallest_dn_for(kg_s, rho);
            assert!(dn >= MIN_DN);
            let d = dn_entry(dn).unwrap().1;
            let v = kg_s / (rho * std::f64::consts::PI * d * d / 4.0);
            if dn < DN_TABLE.last().unwrap().0 {
                assert!(
                    v <= MAX_DESIGN_VELOCITY_M_S,
                    "{kg_s} kg/s: DN{dn} at {v} m/s"
                );
            }
            if let Some(prev) = DN_TABLE.iter().rev().find(|e| e.0 < dn && e.0 >= MIN_DN) {
                let v = kg_s / (rho * std::f64::consts::PI * prev.1 * prev.1 / 4.0);
                assert!(
                    v > MAX_DESIGN_VELOCITY_M_S,
                    "{kg_s} kg/s: DN{} would do",
                    prev.0
                );
            }
        }
        // Beyond DN600's capacity: DN600.
        assert_eq!(smallest_dn_for(1.0e4, rho), 600);
    }

    #[test]
    fn gradient_variant_keeps_both_limits() {
        let f = Fluid::default();
        for kg_s in [0.05, 0.5, 2.0, 10.0, 40.0, 150.0] {
            let dn = smallest_dn_within_gradient(kg_s, &f);
            let d = dn_entry(dn).unwrap().1;
            assert!(
                pressure_gradient_pa_m(kg_s, d, &f) <= MAX_GRADIENT_PA_M,
                "{kg_s} {dn}"
            );
            let v = kg_s / (f.density_kg_m3 * std::f64::consts::PI * d * d / 4.0);
            assert!(v <= 1.5);
            assert!(dn >= smallest_dn_for(kg_s, f.density_kg_m3));
            // The next smaller DN breaks a limit (unless it is the smallest allowed).
            if let Some(prev) = DN_TABLE.iter().rev().find(|e| e.0 < dn && e.0 >= MIN_DN) {
                let v = kg_s / (f.density_kg_m3 * std::f64::consts::PI * prev.1 * prev.1 / 4.0);
                assert!(pressure_gradient_pa_m(kg_s, prev.1, &f) > MAX_GRADIENT_PA_M || v > 1.5);
            }
        }
        // 1 kg/s (about 210 kW at 90/40 °C): DN32 keeps 1.5 m/s but not 150 Pa/m (~300 Pa/m).
        assert_eq!(smallest_dn_for(1.0, f.density_kg_m3), 32);
        assert!(smallest_dn_within_gradient(1.0, &f) > 32);
    }
}

//! Properties of liquid water as functions of temperature: density, dynamic viscosity, isobaric
//! heat capacity and specific enthalpy, for networks whose scene says
//! `fluid: (…, properties: WaterIf97)` (see `scene::FluidProperties`).
//!
//! # Formulations
//! - **Reference**: IAPWS-IF97 region 1 (compressed liquid; Wagner et al., *J. Eng. Gas Turbines
//!   Power* 122 (2000) 150–182; IAPWS R7-97(2012)), the dimensionless Gibbs free energy
//!   `γ(π, τ) = Σᵢ nᵢ·(7.1 − π)^Iᵢ·(τ − 1.222)^Jᵢ` (34 terms, `π = p/16.53 MPa`,
//!   `τ = 1386 K/T`): `v = (R·T/p)·π·γ_π`, `h = R·T·τ·γ_τ`, `c_p = −R·τ²·γ_ττ`, `R = 461.526 J/(kg·K)`
//!   ([`if97_region1`]); and the viscosity of IAPWS R12-08 (Huber et al., *J. Phys. Chem. Ref.
//!   Data* 38 (2009) 101–125), `μ = μ₀(T̄)·μ₁(T̄, ρ̄)` without the critical enhancement (which is 1
//!   for liquid water far from the critical point), `μ₀ = 100·√T̄ / Σᵢ Hᵢ/T̄ⁱ`,
//!   `μ₁ = exp(ρ̄·Σᵢ (1/T̄ − 1)ⁱ·Σⱼ Hᵢⱼ·(ρ̄ − 1)ʲ)`, `T̄ = T/647.096 K`, `ρ̄ = ρ/322 kg/m³`,
//!   in µPa·s ([`iapws2008_viscosity_pa_s`]). Both reproduce the check values printed in their
//!   releases (tests below).
//! - **What the simulation evaluates** per pipe and tick: polynomials fitted (weighted least
//!   squares, relative error, every 0.5 K) to that reference at the fixed pressure
//!   [`FIT_PRESSURE_PA`] = 0.5 MPa (about 4 bar gauge, the middle of a network's pressures), in
//!   `x = (t − 75 °C)/75 °C`, valid **0–150 °C** (inputs outside are clamped to it; water at
//!   150 °C boils below 0.476 MPa):
//!   `ρ(t) = Σ₀⁶ aₖxᵏ` ([`density_kg_m3`]), `c_p(t) = Σ₀⁸ bₖxᵏ` ([`heat_capacity_j_kg_k`]),
//!   `1/μ(t) = Σ₀⁸ cₖxᵏ` ([`viscosity_pa_s`]: the fluidity, nearly linear in t, fits far better
//!   than μ itself). No transcendental function: a handful of multiply-adds and one division.
//!
//! # Errors
//! Largest relative error of the fits against the reference over 0–150 °C at 0.5 MPa (every
//! 0.5 K): density 1.8·10⁻⁵ (0.018 kg/m³, at 0 °C), heat capacity 4.1·10⁻⁵ (0.17 J/(kg·K), at
//! 0 °C), viscosity 1.5·10⁻⁶. Against the IAPWS-95 values tabulated at about 1 bar the fits differ
//! mostly by the pressure (liquid water is compressed by 4.6·10⁻¹⁰/Pa): 10/40/80/100 °C give
//! ρ = 999.885/992.400/971.984/958.542 kg/m³ (tabulated 999.70/992.22/971.79/958.35, +0.02 %),
//! μ = 1.30554/0.652781/0.354165/0.281693 mPa·s (1.3059/0.6527/0.3540/0.2816, ≤ 0.04 %),
//! c_p = 4193.96/4177.61/4194.67/4215.71 J/(kg·K) (4192.1/4178.6/4196.5/4215.7; IF97 region 1
//! itself differs from IAPWS-95 by up to 0.08 % at 10 °C). The reference functions at 0.101325 MPa
//! (0.101418 MPa, saturation, at 100 °C) give ρ = 999.702/992.224/971.803/958.354 kg/m³,
//! μ = 1.30590/0.652731/0.354058/0.281585 mPa·s and c_p = 4195.4/4178.6/4195.5/4216.6 J/(kg·K).
//!
//! Units: °C for the fits, K and Pa for the reference functions; kg/m³, Pa·s, J/(kg·K), J/kg.

use crate::math::Det;

/// The pressure the fits are made at, Pa (absolute).
pub const FIT_PRESSURE_PA: f64 = 5.0e5;
/// The fits' temperature range, °C.
pub const FIT_MIN_C: f64 = 0.0;
pub const FIT_MAX_C: f64 = 150.0;

/// Density fit, kg/m³, in `x = (t − 75)/75` (lowest power first).
const RHO: [f64; 7] = [
    975.0342755138327,
    -44.78773231676358,
    -14.750082505673516,
    2.375797004644531,
    -1.1941502663933536,
    0.8851169048430967,
    -0.5515639195435575,
];
/// Heat-capacity fit, J/(kg·K).
const CP: [f64; 9] = [
    4190.684269527059,
    55.94292400515182,
    57.5402910214787,
    -4.320811552382132,
    8.319174384682425,
    16.696183441996183,
    -10.593525552718585,
    -21.811869343244535,
    17.826088858351188,
];
/// Fluidity (1/μ) fit, 1/(Pa·s).
const FLUIDITY: [f64; 9] = [
    2648.8003544812696,
    2597.2610995822174,
    368.4346875944979,
    -150.4667431059979,
    -0.9348247303422061,
    15.008693361621589,
    -0.7581635484056577,
    -3.015489201927637,
    1.636269341457089,
];

#[inline]
fn x_of(t_c: f64) -> f64 {
    (t_c.clamp(FIT_MIN_C, FIT_MAX_C) - 75.0) * (1.0 / 75.0)
}

#[inline]
fn horner(c: &[f64], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |s, &v| s * x + v)
}

/// Density of liquid water at `t_c` (°C, clamped to 0–150), kg/m³ (fit to IAPWS-IF97 at 0.5 MPa).
#[inline]
pub fn density_kg_m3(t_c: f64) -> f64 {
    horner(&RHO, x_of(t_c))
}

/// Dynamic viscosity at `t_c` (°C, clamped to 0–150), Pa·s (fit to IAPWS 2008 at IF97's density).
#[inline]
pub fn viscosity_pa_s(t_c: f64) -> f64 {
    1.0 / horner(&FLUIDITY, x_of(t_c))
}

/// Isobaric heat capacity at `t_c` (°C, clamped to 0–150), J/(kg·K) (fit to IAPWS-IF97 at 0.5 MPa).
#[inline]
pub fn heat_capacity_j_kg_k(t_c: f64) -> f64 {
    horner(&CP, x_of(t_c))
}

/// Density, specific enthalpy and isobaric heat capacity from IAPWS-IF97 region 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct If97 {
    pub density_kg_m3: f64,
    pub enthalpy_j_kg: f64,
    pub cp_j_kg_k: f64,
}

const R1_I: [i32; 34] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 8, 8, 21, 23, 29,
    30, 31, 32,
];
const R1_J: [i32; 34] = [
    -2, -1, 0, 1, 2, 3, 4, 5, -9, -7, -1, 0, 1, 3, -3, 0, 1, 3, 17, -4, 0, 6, -5, -2, 10, -8, -11,
    -6, -29, -31, -38, -39, -40, -41,
];
const R1_N: [f64; 34] = [
    0.14632971213167,
    -0.84548187169114,
    -0.37563603672040e1,
    0.33855169168385e1,
    -0.95791963387872,
    0.15772038513228,
    -0.16616417199501e-1,
    0.81214629983568e-3,
    0.28319080123804e-3,
    -0.60706301565874e-3,
    -0.18990068218419e-1,
    -0.32529748770505e-1,
    -0.21841717175414e-1,
    -0.52838357969930e-4,
    -0.47184321073267e-3,
    -0.30001780793026e-3,
    0.47661393906987e-4,
    -0.44141845330846e-5,
    -0.72694996297594e-15,
    -0.31679644845054e-4,
    -0.28270797985312e-5,
    -0.85205128120103e-9,
    -0.22425281908000e-5,
    -0.65171222895601e-6,
    -0.14341729937924e-12,
    -0.40516996860117e-6,
    -0.12734301741641e-8,
    -0.17424871230634e-9,
    -0.68762131295531e-18,
    0.14478307828521e-19,
    0.26335781662795e-22,
    -0.11947622640071e-22,
    0.18228094581404e-23,
    -0.93537087292458e-25,
];
/// Specific gas constant of water in IF97, J/(kg·K).
const R_IF97: f64 = 461.526;

/// IAPWS-IF97 region 1 at pressure `p_pa` (Pa, absolute) and temperature `t_k` (K): valid for
/// 273.15 K ≤ T ≤ 623.15 K and p_sat(T) ≤ p ≤ 100 MPa.
pub fn if97_region1(p_pa: f64, t_k: f64) -> If97 {
    let pi = p_pa / 16.53e6;
    let tau = 1386.0 / t_k;
    let (a, b) = (7.1 - pi, tau - 1.222);
    let (mut g_p, mut g_t, mut g_tt) = (0.0, 0.0, 0.0);
    for ((&i, &j), &n) in R1_I.iter().zip(&R1_J).zip(&R1_N) {
        let (fi, fj) = (f64::from(i), f64::from(j));
        if i > 0 {
            g_p -= n * fi * a.powi(i - 1) * b.powi(j);
        }
        g_t += n * a.powi(i) * fj * b.powi(j - 1);
        g_tt += n * a.powi(i) * fj * (fj - 1.0) * b.powi(j - 2);
    }
    let v = R_IF97 * t_k / p_pa * pi * g_p;
    If97 {
        density_kg_m3: 1.0 / v,
        enthalpy_j_kg: R_IF97 * t_k * tau * g_t,
        cp_j_kg_k: -R_IF97 * tau * tau * g_tt,
    }
}

const VISC_H0: [f64; 4] = [1.67752, 2.20462, 0.6366564, -0.241605];
const VISC_H: [[f64; 7]; 6] = [
    [
        0.520094, 0.222531, -0.281378, 0.161913, -0.0325372, 0.0, 0.0,
    ],
    [0.0850895, 0.999115, -0.906851, 0.257399, 0.0, 0.0, 0.0],
    [-1.08374, 1.88797, -0.772479, 0.0, 0.0, 0.0, 0.0],
    [
        -0.289555,
        1.26613,
        -0.489837,
        0.0,
        0.0698452,
        0.0,
        -0.00435673,
    ],
    [0.0, 0.0, -0.25704, 0.0, 0.0, 0.00872102, 0.0],
    [0.0, 0.120573, 0.0, 0.0, 0.0, 0.0, -0.000593264],
];

/// Viscosity of water at density `rho_kg_m3` and temperature `t_k` (K), Pa·s: IAPWS R12-08
/// (Huber et al. 2009) without the critical enhancement.
pub fn iapws2008_viscosity_pa_s(rho_kg_m3: f64, t_k: f64) -> f64 {
    let tb = t_k / 647.096;
    let rb = rho_kg_m3 / 322.0;
    let mu0 = 100.0 * tb.sqrt()
        / VISC_H0
            .iter()
            .enumerate()
            .map(|(i, h)| h / tb.powi(i as i32))
            .sum::<f64>();
    let mut s = 0.0;
    for (i, row) in VISC_H.iter().enumerate() {
        let ti = (1.0 / tb - 1.0).powi(i as i32);
        for (j, h) in row.iter().enumerate() {
            s += ti * h * (rb - 1.0).powi(j as i32);
        }
    }
    mu0 * (rb * s).exp_d() * 1e-6
}

/// Mean heat capacity of water between `t_lo_c` and `t_hi_c` (°C) at [`FIT_PRESSURE_PA`], J/(kg·K):
/// the enthalpy difference over the temperature difference from IAPWS-IF97 region 1 (the secant of
/// h(T)); `c_p` at the temperature when the two are within 0.1 K. Temperatures clamped to 0–150 °C.
pub fn mean_heat_capacity_j_kg_k(t_lo_c: f64, t_hi_c: f64) -> f64 {
    let (a, b) = (
        t_lo_c.clamp(FIT_MIN_C, FIT_MAX_C),
        t_hi_c.clamp(FIT_MIN_C, FIT_MAX_C),
    );
    if (b - a).abs() < 0.1 {
        return if97_region1(FIT_PRESSURE_PA, 0.5 * (a + b) + 273.15).cp_j_kg_k;
    }
    let h = |t: f64| if97_region1(FIT_PRESSURE_PA, t + 273.15).enthalpy_j_kg;
    (h(b) - h(a)) / (b - a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    /// IAPWS-IF97 Table 5: v, h, c_p at (3 MPa, 300 K), (80 MPa, 300 K), (3 MPa, 500 K).
    #[test]
    fn if97_region1_reproduces_the_releases_check_values() {
        for (p_mpa, t, v, h_kj, cp_kj) in [
            (3.0, 300.0, 0.100215168e-2, 0.115331273e3, 0.417301218e1),
            (80.0, 300.0, 0.971180894e-3, 0.184142828e3, 0.401008987e1),
            (3.0, 500.0, 0.120241800e-2, 0.975542239e3, 0.465580682e1),
        ] {
            let s = if97_region1(p_mpa * 1e6, t);
            assert!(rel(1.0 / s.density_kg_m3, v) < 1e-8, "v {p_mpa} {t}: {s:?}");
            assert!(
                rel(s.enthalpy_j_kg, h_kj * 1e3) < 1e-8,
                "h {p_mpa} {t}: {s:?}"
            );
            assert!(
                rel(s.cp_j_kg_k, cp_kj * 1e3) < 1e-8,
                "cp {p_mpa} {t}: {s:?}"
            );
        }
    }

    /// IAPWS R12-08 Table 4 (no critical enhancement needed at these points).
    #[test]
    fn iapws2008_viscosity_reproduces_the_releases_check_values() {
        for (t, rho, mu_upas) in [
            (298.15, 998.0, 889.735100),
            (298.15, 1200.0, 1437.649467),
            (373.15, 1000.0, 307.883622),
            (433.15, 1000.0, 217.685358),
        ] {
            let mu = iapws2008_viscosity_pa_s(rho, t) * 1e6;
            assert!((mu - mu_upas).abs() < 1e-5, "{t} K {rho} kg/m3: {mu}");
        }
    }

    /// The tabulated values at about 1 bar (IAPWS-95, as printed in engineering tables; 100 °C at
    /// saturation): the reference formulation at that pressure and the fits (at 0.5 MPa).
    #[test]
    fn properties_match_tabulated_iapws_values() {
        let table = [
            // t °C, p MPa, ρ kg/m³, μ Pa·s, c_p J/(kg·K)
            (10.0, 0.101325, 999.70, 1.3059e-3, 4192.1),
            (40.0, 0.101325, 992.22, 6.527e-4, 4178.6),
            (80.0, 0.101325, 971.79, 3.540e-4, 4196.5),
            (100.0, 0.101418, 958.35, 2.816e-4, 4215.7),
        ];
        for (t, p, rho, mu, cp) in table {
            let s = if97_region1(p * 1e6, t + 273.15);
            assert!((s.density_kg_m3 - rho).abs() < 0.015, "{t}: {s:?}");
            assert!(rel(iapws2008_viscosity_pa_s(s.density_kg_m3, t + 273.15), mu) < 3e-4);
            // IF97 region 1 differs from IAPWS-95 by up to 0.08 % in c_p near 10 °C.
            assert!(rel(s.cp_j_kg_k, cp) < 1e-3, "{t}: {s:?}");
            // The fits hold 0.5 MPa: ρ +0.02 %, the rest as close.
            assert!(
                rel(density_kg_m3(t), rho) < 2.5e-4,
                "{t}: {}",
                density_kg_m3(t)
            );
            assert!(
                rel(viscosity_pa_s(t), mu) < 6e-4,
                "{t}: {}",
                viscosity_pa_s(t)
            );
            assert!(rel(heat_capacity_j_kg_k(t), cp) < 1e-3, "{t}");
        }
        // The values the module page quotes.
        assert!((density_kg_m3(40.0) - 992.400).abs() < 5e-4);
        assert!((viscosity_pa_s(80.0) - 0.354165e-3).abs() < 1e-9);
        assert!((heat_capacity_j_kg_k(100.0) - 4215.71).abs() < 0.01);
    }

    /// The fits against the reference every 0.5 K over 0–150 °C at 0.5 MPa.
    #[test]
    fn fits_stay_within_their_stated_error_of_the_reference() {
        let (mut e_rho, mut e_mu, mut e_cp) = (0.0f64, 0.0f64, 0.0f64);
        for i in 0..=300 {
            let t = i as f64 * 0.5;
            let s = if97_region1(FIT_PRESSURE_PA, t + 273.15);
            let mu = iapws2008_viscosity_pa_s(s.density_kg_m3, t + 273.15);
            e_rho = e_rho.max(rel(density_kg_m3(t), s.density_kg_m3));
            e_mu = e_mu.max(rel(viscosity_pa_s(t), mu));
            e_cp = e_cp.max(rel(heat_capacity_j_kg_k(t), s.cp_j_kg_k));
        }
        assert!(e_rho < 1.9e-5 && e_rho > 1e-6, "density {e_rho}");
        assert!(e_mu < 1.6e-6, "viscosity {e_mu}");
        assert!(e_cp < 4.2e-5 && e_cp > 1e-6, "heat capacity {e_cp}");
        // Outside the range the fits hold the end values.
        assert_eq!(density_kg_m3(-5.0), density_kg_m3(0.0));
        assert_eq!(viscosity_pa_s(200.0), viscosity_pa_s(150.0));
    }

    /// The secant heat capacity is the enthalpy difference: 40→80 °C at 0.5 MPa.
    #[test]
    fn mean_heat_capacity_is_the_enthalpy_secant() {
        let h40 = if97_region1(FIT_PRESSURE_PA, 313.15).enthalpy_j_kg;
        let h80 = if97_region1(FIT_PRESSURE_PA, 353.15).enthalpy_j_kg;
        assert!((h40 - 167_977.64).abs() < 0.01 && (h80 - 335_308.88).abs() < 0.01);
        let c = mean_heat_capacity_j_kg_k(40.0, 80.0);
        assert!((c - (335_308.88 - 167_977.64) / 40.0).abs() < 1e-3, "{c}");
        // Between the heat capacities at the ends, near the one at the middle.
        assert!(c > heat_capacity_j_kg_k(40.0) && c < heat_capacity_j_kg_k(80.0));
        assert!((c - heat_capacity_j_kg_k(60.0)).abs() < 2.0);
    }
}

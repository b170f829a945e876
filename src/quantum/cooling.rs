//! Site cooling: the electricity a micro quantum site spends rejecting the heat its heat pump
//! does not take.
//!
//! # Model
//! A site's heat (all its electricity, see [`super`]) leaves by two loops:
//! - the **recovered-water loop** at `recovered_water_temp_c` (`T_w`: water-cooled pulse-tube
//!   compressors and liquid-cooled racks), carrying the recoverable share; what the heat pump
//!   takes (`Sites::recovered_w`) is gone, the rest `Q_w = Q_rec − Q_hp` must be rejected;
//! - the **room-air loop** at [`AIR_LOOP_TEMP_C`] (the coil water of the air-cooled equipment),
//!   carrying the heat that is not recoverable, `Q_a = Q − Q_rec`.
//!
//! Each loop's heat goes to outdoor air through dry coolers. A dry cooler can cool its loop while
//! the outdoor air is at least its approach [`DRY_COOLER_APPROACH_K`] below the loop
//! (`T_out + ΔT_app ≤ T_loop`, "free cooling"); its fans draw `f·Q` with `f` =
//! [`DRY_COOLER_FAN_SHARE`]. Above that, a chiller lifts the loop's heat: its COP is a Carnot
//! fraction [`CHILLER_CARNOT_FRACTION`] of the ideal between the loop less 3 K (evaporator) and the
//! outdoor air plus the approach (condenser), `COP_c = η·T_c/(T_h − T_c)` in kelvin, kept within
//! 1.5–10; it draws `Q/COP_c` and its dry cooler then rejects `Q·(1 + 1/COP_c)`:
//!
//! `P_cool = Σ_loops  f·Q_l` (free cooling) or `Q_l/COP_c + f·Q_l·(1 + 1/COP_c)` (chiller).
//!
//! The local PUE of a site is `(P_IT + P_cool)/P_IT` (the heat pumps' electricity is counted
//! apart: it makes heat for the network, not cooling).
//!
//! # Values (assumptions, stated plainly)
//! - Fan power 3 % of the heat rejected: dry coolers' fans are typically quoted at 2–4 % of their
//!   rated capacity (manufacturers' data; e.g. the ASHRAE Handbook — HVAC Systems and Equipment,
//!   chapter on cooling towers and fluid coolers, for the method); 3 % is our assumption.
//! - Approach 6 K between the loop and the outdoor air: a typical design value for dry coolers
//!   (assumption).
//! - The room-air loop at 24 °C: ASHRAE TC 9.9 (Thermal Guidelines for Data Processing
//!   Environments) recommends server inlet air of 18–27 °C; a coil loop at 24 °C is our assumption.
//! - Chiller Carnot fraction 0.5: water-cooled chillers reach about half the Carnot COP (the same
//!   range as the network's heat pumps, David et al., Energies 10(4) 578 (2017)).
//!
//! For comparison, the baseline's remote data centre runs at PUE 1.4 (its cooling and power
//! conversion; Uptime Institute Global Data Center Survey 2023 reports an average of 1.58, large
//! new facilities 1.2–1.4).
//!
//! Units: W, °C.

use super::Sites;

/// Fan power of a dry cooler as a share of the heat it rejects (assumption, 2–4 % range).
pub const DRY_COOLER_FAN_SHARE: f64 = 0.03;
/// Temperature difference a dry cooler needs between its loop and the outdoor air, K.
pub const DRY_COOLER_APPROACH_K: f64 = 6.0;
/// Temperature of the loop that carries a site's non-recoverable heat (room air's coils), °C.
pub const AIR_LOOP_TEMP_C: f64 = 24.0;
/// Fraction of the Carnot COP a chiller reaches.
pub const CHILLER_CARNOT_FRACTION: f64 = 0.5;
/// Evaporator approach of a chiller, K.
const CHILLER_EVAPORATOR_APPROACH_K: f64 = 3.0;

/// Cooling COP of a chiller lifting heat from a loop at `loop_c` to dry coolers in outdoor air at
/// `outdoor_c`: `η·T_c/(T_h − T_c)` with `T_c = T_loop − 3 K`, `T_h = T_out + approach`, within
/// 1.5–10.
pub fn chiller_cop(loop_c: f64, outdoor_c: f64) -> f64 {
    let tc = loop_c - CHILLER_EVAPORATOR_APPROACH_K + 273.15;
    let th = outdoor_c + DRY_COOLER_APPROACH_K + 273.15;
    if th - tc <= 1.0 {
        return 10.0;
    }
    (CHILLER_CARNOT_FRACTION * tc / (th - tc)).clamp(1.5, 10.0)
}

/// Electricity to reject `heat_w` from a loop at `loop_c` with outdoor air at `outdoor_c`, W:
/// fans alone while free cooling is possible, else a chiller and the fans for its heat too.
pub fn rejection_power_w(heat_w: f64, loop_c: f64, outdoor_c: f64) -> f64 {
    let q = heat_w.max(0.0);
    if q == 0.0 {
        return 0.0;
    }
    if outdoor_c + DRY_COOLER_APPROACH_K <= loop_c {
        DRY_COOLER_FAN_SHARE * q
    } else {
        let w = q / chiller_cop(loop_c, outdoor_c);
        w + DRY_COOLER_FAN_SHARE * (q + w)
    }
}

impl Sites {
    /// Sets every site's cooling electricity for this tick from the heat its heat pump did not
    /// take (`recovered_w`, set when the stations settle) and the outdoor temperature. Called by
    /// the plants domain once the stations have settled.
    pub fn update_cooling(&mut self, outdoor_c: f64) {
        for i in 0..self.len() {
            let water = (self.recoverable_w[i] - self.recovered_w[i]).max(0.0);
            let air = (self.heat_w[i] - self.recoverable_w[i]).max(0.0);
            self.cooling_w[i] = rejection_power_w(water, self.water_temp_c[i], outdoor_c)
                + rejection_power_w(air, AIR_LOOP_TEMP_C, outdoor_c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Free cooling: 3 % of the heat; with a chiller, by hand: a 35 °C loop on a 32 °C day,
    /// `T_c` = 305.15 K, `T_h` = 311.15 K, COP = 0.5·305.15/6 = 25.43 → 10 (the cap); 100 kW
    /// needs 10 kW + 3 % of 110 kW = 13.3 kW. The 24 °C air loop on a 25 °C day: `T_c` = 294.15 K,
    /// `T_h` = 304.15 K, COP = 0.5·294.15/10 = 14.71 → 10; on a 35 °C day: `T_h` = 314.15 K,
    /// COP = 0.5·294.15/20 = 7.354.
    #[test]
    fn rejection_power_by_hand() {
        assert!((rejection_power_w(100e3, 35.0, 10.0) - 3e3).abs() < 1e-9);
        // 29 °C + 6 K = 35 °C: still free.
        assert!((rejection_power_w(100e3, 35.0, 29.0) - 3e3).abs() < 1e-9);
        assert!((rejection_power_w(100e3, 35.0, 32.0) - 13.3e3).abs() < 1e-9);
        assert!((chiller_cop(24.0, 35.0) - 0.5 * 294.15 / 20.0).abs() < 1e-12);
        let cop = 0.5 * 294.15 / 20.0;
        let want = 50e3 / cop + 0.03 * (50e3 + 50e3 / cop);
        assert!((rejection_power_w(50e3, 24.0, 35.0) - want).abs() < 1e-9);
        assert_eq!(rejection_power_w(0.0, 24.0, 35.0), 0.0);
        assert_eq!(rejection_power_w(-5.0, 24.0, 35.0), 0.0);
    }
}

//! Sizing rules for buildings, quantum sites and the grid: energy classes and heat-loss
//! coefficients, design heat loads, the sites' equipment and heat pumps, buildings' electrical
//! loads, the design climate and the grid's carbon intensity (see the module page).

use super::geometry::{P, round_up};
use crate::scene::*;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Heat-loss coefficient per m² of heated floor of each energy class: the demand model's table.
pub use crate::demand::ENERGY_CLASS_W_M2K;

/// W/(m²·K) of an energy class (None for a letter outside A–G).
pub fn energy_class_w_m2k(class: char) -> Option<f64> {
    ENERGY_CLASS_W_M2K
        .iter()
        .find(|e| e.0 == class.to_ascii_uppercase())
        .map(|e| e.1)
}

/// A building's heat-loss coefficient, W/K.
pub fn heat_loss_coefficient_w_k(b: &Building) -> f64 {
    match b.envelope {
        Envelope::HeatLossWK(h) => h,
        Envelope::EnergyClass(c) => energy_class_w_m2k(c).unwrap_or(2.8) * b.heated_area(),
    }
}

/// Heating degree days (20 °C indoor, 15 °C heating limit) of the design climate, K·d.
pub const DESIGN_HEATING_DEGREE_DAYS_K_D: f64 = 3600.0;
/// Peak over mean of hot-water heat at a substation with a small storage tank.
pub const HOT_WATER_PEAK_FACTOR: f64 = 2.0;

/// COP at which the quantum sites' heat pumps are sized.
pub const HEAT_PUMP_DESIGN_COP: f64 = 3.5;
/// Absorption chillers' heat in over cold out.
pub const ABSORPTION_COP: f64 = 0.7;

/// Design heat load of a building, W: heat-loss coefficient × (indoor − design outdoor) plus hot
/// water at [`HOT_WATER_PEAK_FACTOR`] × its mean power, or the heat of its absorption chiller at
/// peak cooling plus hot water if that is larger.
pub fn design_heat_load_w(b: &Building, indoor_c: f64, design_outdoor_c: f64) -> f64 {
    let h = heat_loss_coefficient_w_k(b);
    let space = h * (indoor_c - design_outdoor_c).max(0.0);
    let share = b.hot_water_share.clamp(0.0, 0.6);
    let annual_space_wh = h * DESIGN_HEATING_DEGREE_DAYS_K_D * 24.0;
    let dhw_mean_w = share / (1.0 - share) * annual_space_wh / 8760.0;
    let dhw = HOT_WATER_PEAK_FACTOR * dhw_mean_w;
    (space + dhw).max(b.absorption_cooling_peak_w / ABSORPTION_COP + dhw)
}

/// Electrical power of a quantum site at full load, W.
pub fn site_full_power_w(s: &QuantumSite) -> f64 {
    s.compressor_power_w + s.electronics_w_per_qubit * s.qubits as f64 + s.servers_power_w
}

/// Heat a quantum site gives to water at full load, W.
pub fn site_recoverable_heat_w(s: &QuantumSite) -> f64 {
    s.recoverable_heat_share * site_full_power_w(s)
}

/// A micro quantum site with the generator's randomly drawn equipment (2–4 cryostats, 100–400
/// qubits, 40–80 W per qubit, 150–600 kW of servers, 75–85 % recovered at 30–40 °C); no node or
/// bus yet.
pub(crate) fn random_site(
    id: &str,
    pos: P,
    footprint: Vec<P>,
    rng: &mut ChaCha8Rng,
) -> QuantumSite {
    let cryostats = rng.random_range(2..=4u32);
    QuantumSite {
        id: id.to_string(),
        pos,
        qubits: rng.random_range(10..=40u32) * 10,
        compressor_power_w: cryostats as f64 * 12_500.0,
        electronics_w_per_qubit: rng.random_range(8..=16u32) as f64 * 5.0,
        servers_power_w: rng.random_range(6..=24u32) as f64 * 25_000.0,
        idle_share: 0.4,
        recoverable_heat_share: rng.random_range(15..=17u32) as f64 / 20.0,
        recovered_water_temp_c: rng.random_range(30..=40u32) as f64,
        utilisation: 0.6,
        node: None,
        bus: None,
        footprint,
    }
}

/// Capacity of a site's heat pump, W: recoverable heat × COP/(COP − 1) at
/// [`HEAT_PUMP_DESIGN_COP`], rounded up to 10 kW.
pub(crate) fn site_heat_pump_capacity_w(s: &QuantumSite) -> f64 {
    let cop = HEAT_PUMP_DESIGN_COP;
    round_up(site_recoverable_heat_w(s) * cop / (cop - 1.0), 1.0e4)
}

/// Peak electrical load of a building per m² of heated area, W/m².
pub(super) fn elec_w_m2(u: BuildingUse) -> f64 {
    match u {
        BuildingUse::Residential => 10.0,
        BuildingUse::Office => 25.0,
        BuildingUse::Retail => 25.0,
        BuildingUse::School => 15.0,
        BuildingUse::Hospital => 25.0,
        BuildingUse::Industrial => 20.0,
    }
}

/// A Hamburg-like temperate climate at 53.5° N (generated cities' climate; imported districts
/// are calibrated against it, see the import module's typology).
pub fn temperate_climate() -> Climate {
    Climate::Monthly(MonthlyClimate {
        latitude_deg: 53.55,
        mean_temp_c: [
            1.0, 1.5, 4.2, 8.4, 12.9, 15.9, 18.1, 17.8, 14.3, 10.0, 5.6, 2.2,
        ],
        diurnal_swing_k: [4.0, 4.8, 6.3, 8.2, 8.8, 8.6, 8.4, 8.3, 7.3, 5.8, 4.4, 3.9],
        daily_irradiation_kwh_m2: [0.6, 1.2, 2.3, 3.7, 4.9, 5.3, 5.1, 4.3, 2.8, 1.6, 0.8, 0.5],
        mean_wind_m_s: [5.0, 4.8, 4.7, 4.3, 4.0, 3.8, 3.7, 3.6, 3.9, 4.3, 4.6, 4.9],
        temp_noise_k: 3.0,
        ground_temp_c: None,
        year: None,
    })
}

/// Carbon intensity of imported electricity by hour, g/kWh: a wind-and-gas northern European grid,
/// lowest at midday (solar), highest in the evening peak.
pub(super) const CARBON_G_KWH: [f64; 24] = [
    235.0, 228.0, 222.0, 218.0, 217.0, 222.0, 240.0, 262.0, 270.0, 258.0, 238.0, 216.0, 198.0,
    190.0, 194.0, 210.0, 238.0, 275.0, 308.0, 318.0, 305.0, 283.0, 262.0, 246.0,
];
pub(super) const CARBON_MONTHLY: [f64; 12] = [
    1.18, 1.15, 1.08, 0.98, 0.9, 0.85, 0.84, 0.86, 0.93, 1.02, 1.1, 1.17,
];

//! Weather: outdoor air temperature, ground temperature at pipe depth, global horizontal
//! irradiance and wind, each tick, from the scene's climate plus seeded smooth noise.
//!
//! # Model
//! - **Monthly means** (temperature, diurnal swing, daily irradiation, wind) are given for each
//!   month and interpolated linearly between mid-months, periodically over the year.
//! - **Air temperature** `T = T̄(d) + ½·swing(d)·cos(2π(h − 15)/24) + σ·n(t)`: the daily maximum at
//!   15:00 solar time, and a day-to-day anomaly `n(t)` from fractal Perlin noise (`noise` crate,
//!   seeded) with a time scale of about three days, scaled to unit standard deviation, times
//!   `temp_noise_k`.
//! - **Irradiance**: the sun's elevation α from latitude φ, declination
//!   δ = 23.44°·sin(2π(284 + n)/365) (Cooper 1969) and hour angle ω = 15°·(h − 12);
//!   `GHI(t) = H_day · max(0, sin α) / ∫ max(0, sin α) dt`, so each day's irradiation equals the
//!   month's mean times a seeded cloudiness factor (mean 1, range 0.25–1.6).
//! - **Wind** at 10 m: the month's mean times (1 + 0.6·n_w(t)), never negative.
//! - **Ground** at pipe depth z: Kusuda & Achenbach (1965),
//!   `T_g = T̄_year − A·e^{−z√(π/(365α))}·cos(2π/365·(d − d₀ − z/2·√(365/(πα))))`, soil diffusivity
//!   α = 0.05 m²/day, A the half range of monthly means, d₀ the coldest day; or a fixed value. It is
//!   computed at each distinct burial depth of the scene's pipes ([`WeatherModel::with_ground_depths`],
//!   [`WeatherNow::ground_temp_by_depth_c`]; a few depths per scene, so a few evaluations per
//!   tick), and each pipe loses heat to the ground at its own depth (the thermal domain);
//!   [`WeatherNow::ground_temp_c`] is the value at the reference depth [`PIPE_DEPTH_M`] = 0.8 m
//!   (reports, the view).
//!
//! A `Fixed` climate gives constant conditions and no noise (engineering test networks).
//!
//! A monthly climate may name a **weather year** (`year: Some((kind: Cold, seed: 11))`): every
//! month's mean temperature shifted by the year's offset (mild +1.5 K, typical 0, cold −2 K;
//! [`crate::scene::YearKind::temp_offset_k`]) and the noise drawn with the year's own seed.
//!
//! Units: °C, W/m², m/s; time in seconds of the simulated year.

use crate::math::Det;
use bevy::prelude::*;
use noise::{Fbm, MultiFractal, NoiseFn, Perlin};

use crate::base::{SimClock, SimSet};
use crate::scene::Climate;

/// This tick's weather.
#[derive(Resource, Debug, Clone, Default)]
pub struct WeatherNow {
    pub outdoor_temp_c: f64,
    /// Ground temperature at the reference depth [`PIPE_DEPTH_M`], °C.
    pub ground_temp_c: f64,
    /// Ground temperature at each of the model's depths ([`WeatherModel::with_ground_depths`]),
    /// °C, in the same order.
    pub ground_temp_by_depth_c: Vec<f64>,
    /// Global horizontal irradiance, W/m².
    pub ghi_w_m2: f64,
    /// Wind speed at 10 m, m/s.
    pub wind_m_s: f64,
    /// Hour of the day, 0–24.
    pub hour_of_day: f64,
    /// Day of the year, 0–365.
    pub day_of_year: f64,
    /// Month, 0 = January.
    pub month: usize,
}

/// The weather generator of a scene.
#[derive(Resource)]
pub struct WeatherModel {
    climate: Climate,
    temp_noise: Fbm<Perlin>,
    cloud_noise: Perlin,
    wind_noise: Fbm<Perlin>,
    /// Cached (day index, ∫ max(0, sin α) dt over that day in s).
    day_integral: (i64, f64),
    /// Depths the ground temperature is given at besides the reference depth, m.
    ground_depths_m: Vec<f64>,
}

const DEG: f64 = std::f64::consts::PI / 180.0;
/// Middle of each month as a day of the year (0-based).
const MID_MONTH: [f64; 12] = [
    15.5, 45.0, 74.5, 105.0, 135.5, 166.0, 196.5, 227.5, 258.0, 288.5, 319.0, 349.5,
];
/// Noise standard deviation of an Fbm<Perlin> sampled along a line, measured over 10⁵ samples;
/// dividing by it gives unit variance.
const FBM_STD: f64 = 0.28;
/// Soil thermal diffusivity, m²/day.
const SOIL_DIFFUSIVITY_M2_DAY: f64 = 0.05;
/// Reference depth of the ground temperature [`WeatherNow::ground_temp_c`], m (the default burial
/// depth of a pipe's axis).
pub const PIPE_DEPTH_M: f64 = 0.8;

/// Linear interpolation of monthly values at fractional day `d` (0–365), periodic.
pub fn monthly_interp(values: &[f64; 12], d: f64) -> f64 {
    let d = d.rem_euclid(365.0);
    let mut i = 11;
    for (k, m) in MID_MONTH.iter().enumerate() {
        if d < *m {
            i = (k + 11) % 12;
            break;
        }
        i = k;
    }
    let j = (i + 1) % 12;
    let (a, mut b) = (MID_MONTH[i], MID_MONTH[j]);
    let mut x = d;
    if b <= a {
        b += 365.0;
        if x < a {
            x += 365.0;
        }
    }
    let f = (x - a) / (b - a);
    values[i] * (1.0 - f) + values[j] * f
}

/// sin of the solar elevation at latitude `lat_deg`, day of year `day` (0-based), solar hour `h`.
pub fn sin_solar_elevation(lat_deg: f64, day: f64, h: f64) -> f64 {
    let decl = 23.44 * DEG * (2.0 * std::f64::consts::PI * (284.0 + day + 1.0) / 365.0).sin_d();
    let omega = 15.0 * DEG * (h - 12.0);
    let phi = lat_deg * DEG;
    phi.sin_d() * decl.sin_d() + phi.cos_d() * decl.cos_d() * omega.cos_d()
}

impl WeatherModel {
    pub fn new(climate: &Climate, seed: u64) -> Self {
        // A weather year: its own noise seed and shifted monthly means (ground temperatures
        // follow through Kusuda's model).
        let mut climate = climate.clone();
        let mut seed = seed;
        if let Climate::Monthly(m) = &mut climate
            && let Some(y) = m.year
        {
            seed = y.seed;
            let dt = y.kind.temp_offset_k();
            m.mean_temp_c.iter_mut().for_each(|t| *t += dt);
        }
        // Three independent 32-bit seeds from the 64-bit seed (splitmix64 finaliser).
        let mix = |k: u64| {
            let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(k + 1));
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) & 0xFFFF_FFFF) as u32
        };
        Self {
            climate,
            temp_noise: Fbm::<Perlin>::new(mix(0)).set_octaves(4),
            cloud_noise: Perlin::new(mix(1)),
            wind_noise: Fbm::<Perlin>::new(mix(2)).set_octaves(3),
            day_integral: (i64::MIN, 0.0),
            ground_depths_m: Vec::new(),
        }
    }

    /// The same model, also giving the ground temperature at each of `depths_m` (m; the scene's
    /// distinct burial depths, `Scene::burial_depths_m`) every tick.
    pub fn with_ground_depths(mut self, depths_m: Vec<f64>) -> Self {
        self.ground_depths_m = depths_m;
        self
    }

    /// The weather at `abs_s` seconds since 1 January 00:00 of the first simulated year (not
    /// wrapped, so the noise does not repeat each year).
    pub fn sample(&mut self, abs_s: f64) -> WeatherNow {
        let seconds_of_year = abs_s.rem_euclid(365.0 * 86_400.0);
        let day = seconds_of_year / 86_400.0;
        let hour = (seconds_of_year / 3600.0).rem_euclid(24.0);
        let month = ((day / 365.0 * 12.0) as usize).min(11);
        let climate = self.climate.clone();
        match &climate {
            Climate::Fixed(f) => WeatherNow {
                outdoor_temp_c: f.outdoor_temp_c,
                ground_temp_c: f.ground_temp_c,
                ground_temp_by_depth_c: vec![f.ground_temp_c; self.ground_depths_m.len()],
                ghi_w_m2: f.irradiance_w_m2,
                wind_m_s: f.wind_m_s,
                hour_of_day: hour,
                day_of_year: day,
                month,
            },
            Climate::Monthly(m) => {
                let t_days = abs_s / 86_400.0;
                let anomaly = self.temp_noise.get([t_days / 3.0, 0.37]) / FBM_STD;
                let mean = monthly_interp(&m.mean_temp_c, day);
                let swing = monthly_interp(&m.diurnal_swing_k, day);
                let outdoor = mean
                    + 0.5 * swing * (2.0 * std::f64::consts::PI * (hour - 15.0) / 24.0).cos_d()
                    + m.temp_noise_k * anomaly;

                // Irradiance: the day's irradiation spread over the sun's path.
                let day_index = (t_days).floor() as i64;
                let integral = self.day_integral_s(m.latitude_deg, day.floor(), day_index);
                let sin_alpha = sin_solar_elevation(m.latitude_deg, day, hour).max(0.0);
                let cloud = (1.0
                    + 0.9 * self.cloud_noise.get([day_index as f64 * 0.61, 0.5]) / 0.35)
                    .clamp(0.25, 1.6);
                let h_day_j = monthly_interp(&m.daily_irradiation_kwh_m2, day) * 3.6e6 * cloud;
                let ghi = if integral > 0.0 {
                    h_day_j * sin_alpha / integral
                } else {
                    0.0
                };

                let wind = (monthly_interp(&m.mean_wind_m_s, day)
                    * (1.0 + 0.6 * self.wind_noise.get([t_days * 2.0, 0.13]) / FBM_STD))
                    .max(0.0);

                let ground_at = |z: f64| {
                    m.ground_temp_c
                        .unwrap_or_else(|| kusuda_ground_temp_c(&m.mean_temp_c, day, z))
                };
                WeatherNow {
                    outdoor_temp_c: outdoor,
                    ground_temp_c: ground_at(PIPE_DEPTH_M),
                    ground_temp_by_depth_c: self
                        .ground_depths_m
                        .iter()
                        .map(|&z| ground_at(z))
                        .collect(),
                    ghi_w_m2: ghi,
                    wind_m_s: wind,
                    hour_of_day: hour,
                    day_of_year: day,
                    month,
                }
            }
        }
    }

    fn day_integral_s(&mut self, lat: f64, day_floor: f64, day_index: i64) -> f64 {
        let (cached_day, v) = self.day_integral;
        if cached_day == day_index {
            return v;
        }
        // Midpoint rule over 288 five-minute steps.
        let n = 288;
        let dt = 86_400.0 / n as f64;
        let sum: f64 = (0..n)
            .map(|i| {
                sin_solar_elevation(
                    lat,
                    day_floor + 0.5 / 86_400.0,
                    (i as f64 + 0.5) * dt / 3600.0,
                )
                .max(0.0)
            })
            .sum::<f64>()
            * dt;
        self.day_integral = (day_index, sum);
        sum
    }
}

/// Ground temperature at depth `z_m` on day `day`, Kusuda & Achenbach (1965).
pub fn kusuda_ground_temp_c(monthly_mean_c: &[f64; 12], day: f64, z_m: f64) -> f64 {
    let mean = monthly_mean_c.iter().sum::<f64>() / 12.0;
    let (imin, tmin) = monthly_mean_c
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, t)| (i, *t))
        .unwrap_or((0, mean));
    let tmax = monthly_mean_c.iter().cloned().fold(f64::MIN, f64::max);
    let amp = 0.5 * (tmax - tmin);
    let a = SOIL_DIFFUSIVITY_M2_DAY;
    let damp = (-z_m * (std::f64::consts::PI / (365.0 * a)).sqrt()).exp_d();
    let lag = 0.5 * z_m * (365.0 / (std::f64::consts::PI * a)).sqrt();
    let d0 = MID_MONTH[imin];
    mean - amp * damp * (2.0 * std::f64::consts::PI / 365.0 * (day - d0 - lag)).cos_d()
}

pub struct WeatherPlugin;

impl Plugin for WeatherPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(FixedUpdate, update_weather.in_set(SimSet::Weather));
    }
}

fn update_weather(
    clock: Res<SimClock>,
    mut model: ResMut<WeatherModel>,
    mut now: ResMut<WeatherNow>,
) {
    *now = model.sample(clock.abs_seconds());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::MonthlyClimate;

    fn hamburg() -> Climate {
        Climate::Monthly(MonthlyClimate {
            latitude_deg: 53.5,
            mean_temp_c: [
                1.0, 1.5, 4.2, 8.4, 12.9, 15.9, 18.1, 17.8, 14.3, 10.0, 5.6, 2.2,
            ],
            diurnal_swing_k: [4.0, 5.0, 6.5, 8.0, 9.0, 9.0, 9.0, 8.5, 7.5, 6.0, 4.5, 4.0],
            daily_irradiation_kwh_m2: [0.6, 1.2, 2.3, 3.7, 4.9, 5.3, 5.1, 4.3, 2.8, 1.6, 0.8, 0.5],
            mean_wind_m_s: [5.0, 4.8, 4.6, 4.2, 3.9, 3.7, 3.6, 3.6, 3.9, 4.3, 4.7, 5.0],
            temp_noise_k: 3.0,
            ground_temp_c: None,
            year: None,
        })
    }

    #[test]
    fn interpolation_hits_monthly_means_at_mid_month() {
        let v = [
            1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0,
        ];
        for (k, d) in MID_MONTH.iter().enumerate() {
            assert!((monthly_interp(&v, *d) - v[k]).abs() < 1e-12);
        }
        // Wraps from December to January.
        let dec_jan = monthly_interp(&v, 0.0);
        assert!(dec_jan > 1.0 && dec_jan < 12.0);
    }

    #[test]
    fn a_year_of_weather_matches_the_climate() {
        let mut model = WeatherModel::new(&hamburg(), 11);
        let mut jan = Vec::new();
        let mut jul = Vec::new();
        let mut june_irr_j = 0.0;
        let dt = 600.0;
        for i in 0..(365 * 144) {
            let t = i as f64 * dt + 0.5 * dt;
            let w = model.sample(t);
            assert!(w.outdoor_temp_c.is_finite() && w.ghi_w_m2 >= 0.0 && w.wind_m_s >= 0.0);
            match w.month {
                0 => jan.push(w.outdoor_temp_c),
                6 => jul.push(w.outdoor_temp_c),
                5 => june_irr_j += w.ghi_w_m2 * dt,
                _ => {}
            }
        }
        let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
        // A month's mean lies within a few kelvin of the climate (the anomaly has σ = 3 K and a
        // three-day time scale, so a month averages it down to about ±1.5 K).
        assert!(
            (mean(&jan) - 1.0).abs() < 3.5,
            "January mean {}",
            mean(&jan)
        );
        assert!((mean(&jul) - 18.1).abs() < 3.5, "July mean {}", mean(&jul));
        // June's irradiation is about 30 days × 5.3 kWh/m² (cloudiness varies it).
        let june_kwh = june_irr_j / 3.6e6;
        assert!(
            june_kwh > 0.6 * 30.0 * 5.3 && june_kwh < 1.4 * 30.0 * 5.3,
            "{june_kwh}"
        );
    }

    #[test]
    fn same_seed_same_weather_other_seed_other_weather() {
        let mut a = WeatherModel::new(&hamburg(), 1);
        let mut b = WeatherModel::new(&hamburg(), 1);
        let mut c = WeatherModel::new(&hamburg(), 2);
        let ta = a.sample(1e6).outdoor_temp_c;
        assert_eq!(ta.to_bits(), b.sample(1e6).outdoor_temp_c.to_bits());
        assert_ne!(ta.to_bits(), c.sample(1e6).outdoor_temp_c.to_bits());
    }

    /// Each burial depth gets Kusuda's value at that depth, by hand: T̄ = 9.325 °C, A = 8.55 K,
    /// d₀ = 15.5; z = 0.5 m: damping e^{−0.5·√(π/18.25)} = 0.81265, lag 0.25·√(365/(0.05π)) =
    /// 12.051 d; z = 2 m: 0.43614, 48.204 d. On day 30.5: 9.325 − 8.55·0.81265·cos(2π/365·(30.5 −
    /// 15.5 − 12.051)) = 2.38576 °C and 9.325 − 8.55·0.43614·cos(2π/365·(−33.204)) = 6.18878 °C.
    #[test]
    fn ground_temperature_at_each_burial_depth_is_kusudas() {
        let mut model = WeatherModel::new(&hamburg(), 11).with_ground_depths(vec![0.5, 2.0]);
        for (day, want) in [(30.5, [2.38576, 6.18878]), (200.25, [16.17453, 11.94678])] {
            let w = model.sample(day * 86_400.0);
            assert_eq!(w.ground_temp_by_depth_c.len(), 2);
            for (got, want) in w.ground_temp_by_depth_c.iter().zip(want) {
                assert!((got - want).abs() < 1e-5, "day {day}: {got} vs {want}");
            }
            // The reference depth (0.8 m) as before: 3.20665 °C and 15.19821 °C.
            let at_08 = if day < 100.0 { 3.20665 } else { 15.19821 };
            assert!(
                (w.ground_temp_c - at_08).abs() < 1e-5,
                "{}",
                w.ground_temp_c
            );
        }
    }

    #[test]
    fn ground_is_damped_and_lags_the_air() {
        let m = [
            1.0, 1.5, 4.2, 8.4, 12.9, 15.9, 18.1, 17.8, 14.3, 10.0, 5.6, 2.2,
        ];
        let temps: Vec<f64> = (0..365)
            .map(|d| kusuda_ground_temp_c(&m, d as f64, 0.8))
            .collect();
        let max = temps.iter().cloned().fold(f64::MIN, f64::max);
        let min = temps.iter().cloned().fold(f64::MAX, f64::min);
        assert!(max - min < 17.1 - 1.0 && max - min > 5.0);
        let coldest_day = temps
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert!(coldest_day > 20 && coldest_day < 80, "{coldest_day}");
    }
}

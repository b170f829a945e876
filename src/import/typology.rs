//! Heat demand of imported buildings from a building typology, mapped onto the scene envelope.
//!
//! # The table
//! Age band × size class → specific space-heating demand, kWh per m² of heated floor and year,
//! from `assets/typology/tabula_de.csv` (shipped, read with `include_str!`) or a table given with
//! `qtwin import --typology` ([`super::ReadOptions::typology_csv`]). The shipped residential
//! values are based on the German residential typology of TABULA/EPISCOPE: T. Loga, B. Stein,
//! N. Diefenbach, R. Born, *Deutsche Wohngebäudetypologie*, 2nd ed., IWU Darmstadt, 2015 —
//! transcribed from its existing-state figures as best known without access to the publication
//! when this was written (see the CSV's header); they are overridable. Non-residential uses take
//! the multi-family value times a documented factor (rows of their own in the CSV).
//!
//! Size class ([`size_class`]): single-family/terraced when the heated area is at most
//! [`SINGLE_FAMILY_MAX_AREA_M2`] and the building has at most [`SINGLE_FAMILY_MAX_FLOORS`]
//! floors, else multi-family/apartment block.
//!
//! # The mapping onto the envelope ([`Calibration`])
//! The scene gives a building a heat-loss coefficient `H` (W/K); `crate::demand` computes its
//! space heating each tick as `max(0, H·(T_set − T_out) − g·A)` with `g` the use's internal plus
//! solar gains per m² (`crate::demand::gains_w_m2`). The annual space heat per m² is therefore a
//! function of `u = H/A` alone, for a given use and climate:
//! `q(u) = Σ_t max(0, u·ΔT_t − g_t)·Δt` — convex and piecewise linear in `u` with a break at
//! each `g_t/ΔT_t`. [`Calibration`] samples the weather model of the climate every
//! [`CALIBRATION_STEP_S`] over whole years for several weather seeds, sorts the breaks and keeps
//! prefix sums, so `q(u)` and its inverse are exact for those samples (a binary search). Each
//! building gets `H = u(q_table)·A`, rounded to mW/K. The shipped temperate climate
//! (`crate::generate::temperate_climate`, Hamburg-like) is the reference; the test
//! `typology_calibration_reproduces_the_table` (tests/import_read.rs) runs the simulation for a
//! year and checks the result.
//!
//! Units: kWh/(m²·a), W/K, W/(m²·K), m², °C.

use std::collections::BTreeMap;

use super::ImportError;
use crate::scene::{BuildingUse, Climate};
use crate::weather::WeatherModel;

/// The shipped table (see the module doc and the CSV's header).
pub const SHIPPED_CSV: &str = include_str!("../../assets/typology/tabula_de.csv");
/// Largest heated area of a single-family or terraced house, m².
pub const SINGLE_FAMILY_MAX_AREA_M2: f64 = 400.0;
/// Most floors of a single-family or terraced house.
pub const SINGLE_FAMILY_MAX_FLOORS: u32 = 3;
/// Weather sampling step of the calibration, s.
pub const CALIBRATION_STEP_S: f64 = 900.0;
/// Weather seeds whose years the calibration averages.
pub const CALIBRATION_SEEDS: [u64; 4] = [0, 1, 2, 3];

/// Building size class of the typology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SizeClass {
    /// Detached, semi-detached and terraced houses (TABULA EFH/RH).
    SingleFamily,
    /// Multi-family houses and apartment blocks (TABULA MFH/GMH).
    MultiFamily,
    /// Any size (non-residential rows).
    Any,
}

impl SizeClass {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "single_family" => Some(Self::SingleFamily),
            "multi_family" => Some(Self::MultiFamily),
            "any" => Some(Self::Any),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Self::SingleFamily => "single_family",
            Self::MultiFamily => "multi_family",
            Self::Any => "any",
        }
    }
}

/// The size class of a building of `heated_area_m2` and `floors`.
pub fn size_class(heated_area_m2: f64, floors: u32) -> SizeClass {
    if heated_area_m2 <= SINGLE_FAMILY_MAX_AREA_M2 && floors <= SINGLE_FAMILY_MAX_FLOORS {
        SizeClass::SingleFamily
    } else {
        SizeClass::MultiFamily
    }
}

fn use_name(u: BuildingUse) -> &'static str {
    match u {
        BuildingUse::Residential => "residential",
        BuildingUse::Office => "office",
        BuildingUse::Retail => "retail",
        BuildingUse::School => "school",
        BuildingUse::Hospital => "hospital",
        BuildingUse::Industrial => "industrial",
    }
}

fn parse_use(s: &str) -> Option<BuildingUse> {
    ALL_USES.iter().copied().find(|u| use_name(*u) == s)
}

const ALL_USES: [BuildingUse; 6] = [
    BuildingUse::Residential,
    BuildingUse::Office,
    BuildingUse::Retail,
    BuildingUse::School,
    BuildingUse::Hospital,
    BuildingUse::Industrial,
];

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct TypologyRow {
    pub use_: BuildingUse,
    pub size: SizeClass,
    /// First and last year of the band (inclusive).
    pub year_from: i32,
    pub year_to: i32,
    pub specific_heat_kwh_m2a: f64,
    /// The class's code, for reference.
    pub code: String,
}

/// A typology table: age band × size class (× use) → specific space-heating demand.
#[derive(Debug, Clone, PartialEq)]
pub struct Typology {
    pub rows: Vec<TypologyRow>,
}

/// The earliest and latest years a residential table must cover.
const COVER_FROM: i32 = 1000;
const COVER_TO: i32 = 2100;

impl Typology {
    /// The shipped table.
    pub fn shipped() -> Self {
        Self::from_csv(SHIPPED_CSV, "assets/typology/tabula_de.csv")
            .expect("the shipped typology table is valid (tested)")
    }

    /// Parses and checks a table (`name` for messages). Lines starting with `#` are comments.
    pub fn from_csv(text: &str, name: &str) -> Result<Self, ImportError> {
        let at = |line: u64, msg: String| ImportError::At {
            file: name.to_string(),
            line: line as usize,
            col: 1,
            msg,
        };
        let mut rdr = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = rdr
            .headers()
            .map_err(|e| ImportError::File {
                file: name.to_string(),
                msg: format!("not a CSV table: {e}"),
            })?
            .clone();
        let col = |c: &str| {
            headers
                .iter()
                .position(|h| h == c)
                .ok_or_else(|| ImportError::File {
                    file: name.to_string(),
                    msg: format!(
                        "typology table has no column `{c}` (needs use, size_class, year_from, \
                         year_to, specific_heat_kwh_m2a; found: {})",
                        headers.iter().collect::<Vec<_>>().join(", ")
                    ),
                })
        };
        let (cu, cs, cf, ct, cv) = (
            col("use")?,
            col("size_class")?,
            col("year_from")?,
            col("year_to")?,
            col("specific_heat_kwh_m2a")?,
        );
        let cc = headers.iter().position(|h| h == "code");
        let mut rows = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                at(line, format!("bad CSV row: {e}"))
            })?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let get = |i: usize| rec.get(i).unwrap_or("");
            let use_ = parse_use(get(cu)).ok_or_else(|| {
                at(
                    line,
                    format!(
                        "unknown use `{}` (residential, office, retail, school, hospital, industrial)",
                        get(cu)
                    ),
                )
            })?;
            let size = SizeClass::parse(get(cs)).ok_or_else(|| {
                at(
                    line,
                    format!(
                        "unknown size_class `{}` (single_family, multi_family, any)",
                        get(cs)
                    ),
                )
            })?;
            let year = |i: usize, open: i32| -> Result<i32, ImportError> {
                let s = get(i);
                if s.is_empty() {
                    return Ok(open);
                }
                s.parse::<i32>()
                    .map_err(|_| at(line, format!("year `{s}` is not a whole number")))
            };
            let year_from = year(cf, i32::MIN)?;
            let year_to = year(ct, i32::MAX)?;
            if year_to < year_from {
                return Err(at(
                    line,
                    format!("year_to {year_to} is before year_from {year_from}"),
                ));
            }
            let v: f64 = get(cv).replace(',', ".").parse().map_err(|_| {
                at(
                    line,
                    format!("specific_heat_kwh_m2a `{}` is not a number", get(cv)),
                )
            })?;
            if !(v.is_finite() && (0.0..=2000.0).contains(&v)) {
                return Err(at(
                    line,
                    format!("specific_heat_kwh_m2a {v} is outside 0–2000 kWh/(m²·a)"),
                ));
            }
            rows.push(TypologyRow {
                use_,
                size,
                year_from,
                year_to,
                specific_heat_kwh_m2a: v,
                code: cc.map(|c| get(c).to_string()).unwrap_or_default(),
            });
        }
        // Overlaps within one use and size class, and coverage of the residential classes.
        let mut groups: BTreeMap<(usize, SizeClass), Vec<&TypologyRow>> = BTreeMap::new();
        for r in &rows {
            groups.entry((r.use_ as usize, r.size)).or_default().push(r);
        }
        for ((u, s), g) in &groups {
            let mut g = g.clone();
            g.sort_by_key(|r| r.year_from);
            for w in g.windows(2) {
                if w[1].year_from <= w[0].year_to {
                    return Err(ImportError::File {
                        file: name.to_string(),
                        msg: format!(
                            "typology rows overlap: {} {} from {} and from {}",
                            use_name(ALL_USES[*u]),
                            s.name(),
                            w[0].year_from,
                            w[1].year_from
                        ),
                    });
                }
            }
        }
        let t = Typology { rows };
        for size in [SizeClass::SingleFamily, SizeClass::MultiFamily] {
            for y in COVER_FROM..=COVER_TO {
                if t.row(BuildingUse::Residential, size, y).is_none() {
                    return Err(ImportError::File {
                        file: name.to_string(),
                        msg: format!(
                            "typology table has no residential {} row for year {y} (residential \
                             rows must cover {COVER_FROM}–{COVER_TO})",
                            size.name()
                        ),
                    });
                }
            }
        }
        Ok(t)
    }

    /// The row for a use, size class and year (a row of the size class first, then `any`).
    pub fn row(&self, use_: BuildingUse, size: SizeClass, year: i32) -> Option<&TypologyRow> {
        let find = |s: SizeClass| {
            self.rows
                .iter()
                .find(|r| r.use_ == use_ && r.size == s && r.year_from <= year && year <= r.year_to)
        };
        find(size).or_else(|| find(SizeClass::Any))
    }

    /// Specific space-heating demand of a building, kWh/(m²·a): its use's row, else (a use the
    /// table has no row for) the residential row of its size class.
    pub fn specific_heat_kwh_m2a(&self, use_: BuildingUse, size: SizeClass, year: i32) -> f64 {
        self.row(use_, size, year)
            .or_else(|| self.row(BuildingUse::Residential, size, year))
            .or_else(|| self.row(BuildingUse::Residential, SizeClass::MultiFamily, year))
            .map(|r| r.specific_heat_kwh_m2a)
            .unwrap_or(0.0)
    }
}

/// The demand model's annual space heat per m² as a function of `u = H/A`, for each use, in a
/// climate (see the module doc).
#[derive(Debug, Clone)]
pub struct Calibration {
    /// Per use: the breaks `g_t/ΔT_t` sorted, with prefix sums of ΔT_t and g_t (K·h and
    /// W·h/m² per year).
    per_use: Vec<UseCurve>,
}

#[derive(Debug, Clone, Default)]
struct UseCurve {
    breaks: Vec<f64>,
    /// Σ ΔT·Δt over the first k breaks, K·h per year (k = index + 1).
    cum_dt: Vec<f64>,
    /// Σ g·Δt over the first k breaks, W·h/m² per year.
    cum_g: Vec<f64>,
}

impl UseCurve {
    /// Annual space heat at `u` W/(m²·K), kWh/m².
    fn q_kwh(&self, u: f64) -> f64 {
        // Number of samples whose break lies below u.
        let k = self.breaks.partition_point(|b| *b < u);
        if k == 0 {
            return 0.0;
        }
        (u * self.cum_dt[k - 1] - self.cum_g[k - 1]) / 1000.0
    }

    /// The u giving `q_kwh` kWh/m² a year.
    fn u_for(&self, q_kwh: f64) -> f64 {
        if q_kwh <= 0.0 || self.breaks.is_empty() {
            return 0.0;
        }
        let target_wh = q_kwh * 1000.0;
        // q at break k (with the first k samples active) is breaks[k]·cum_dt[k−1] − cum_g[k−1].
        let at = |k: usize| self.breaks[k] * self.cum_dt[k - 1] - self.cum_g[k - 1];
        let n = self.breaks.len();
        // First k ≥ 1 whose break's q exceeds the target: the answer lies before break k.
        let (mut lo, mut hi) = (1usize, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if at(mid) > target_wh {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        let k = lo; // samples 0..k are active
        (target_wh + self.cum_g[k - 1]) / self.cum_dt[k - 1]
    }
}

impl Calibration {
    /// Samples the weather of `climate` every [`CALIBRATION_STEP_S`] over one year for each of
    /// `seeds` (averaged), with indoor set-point `setpoint_c`.
    pub fn new(climate: &Climate, setpoint_c: f64, seeds: &[u64]) -> Self {
        let steps = (365.0 * 86_400.0 / CALIBRATION_STEP_S) as usize;
        let years = seeds.len().max(1) as f64;
        let dt_h = CALIBRATION_STEP_S / 3600.0;
        // Per use: (break, ΔT·Δt, g·Δt) for every sample with ΔT > 0.
        let mut samples: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new(); 6];
        for &seed in seeds {
            let mut w = WeatherModel::new(climate, seed);
            for i in 0..steps {
                let t = i as f64 * CALIBRATION_STEP_S;
                let now = w.sample(t);
                let dt_k = setpoint_c - now.outdoor_temp_c;
                if dt_k <= 0.0 {
                    continue;
                }
                let weekend = ((t / 86_400.0).floor() as i64).rem_euclid(7) >= 5;
                for u in ALL_USES {
                    let g = crate::demand::gains_w_m2(
                        u,
                        now.outdoor_temp_c,
                        now.ghi_w_m2,
                        now.hour_of_day,
                        weekend,
                    );
                    samples[u as usize].push((g / dt_k, dt_k * dt_h / years, g * dt_h / years));
                }
            }
        }
        let per_use = samples
            .into_iter()
            .map(|mut s| {
                s.sort_by(|a, b| a.0.total_cmp(&b.0));
                let mut c = UseCurve::default();
                let (mut sd, mut sg) = (0.0, 0.0);
                for (b, d, g) in s {
                    sd += d;
                    sg += g;
                    c.breaks.push(b);
                    c.cum_dt.push(sd);
                    c.cum_g.push(sg);
                }
                c
            })
            .collect();
        Calibration { per_use }
    }

    /// The calibration for the shipped temperate climate at the default set-point.
    pub fn temperate() -> Self {
        Self::new(
            &crate::generate::temperate_climate(),
            crate::scene::SimSettings::default().indoor_setpoint_c,
            &CALIBRATION_SEEDS,
        )
    }

    /// Annual space heat of a building of use `use_` with `u_w_m2k` = H/A, kWh/(m²·a).
    pub fn annual_space_heat_kwh_m2a(&self, use_: BuildingUse, u_w_m2k: f64) -> f64 {
        self.per_use[use_ as usize].q_kwh(u_w_m2k)
    }

    /// The H/A, W/(m²·K), at which the demand model gives `q_kwh_m2a` a year.
    pub fn heat_loss_w_m2k(&self, use_: BuildingUse, q_kwh_m2a: f64) -> f64 {
        self.per_use[use_ as usize].u_for(q_kwh_m2a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_is_valid_and_covers_every_band() {
        let t = Typology::shipped();
        assert_eq!(t.rows.len(), 24 + 5 * 12);
        let sfh = |y| t.specific_heat_kwh_m2a(BuildingUse::Residential, SizeClass::SingleFamily, y);
        let mfh = |y| t.specific_heat_kwh_m2a(BuildingUse::Residential, SizeClass::MultiFamily, y);
        assert_eq!(sfh(1800), 222.0);
        assert_eq!(sfh(1859), 222.0);
        assert_eq!(sfh(1860), 203.0);
        assert_eq!(sfh(1955), 214.0);
        assert_eq!(sfh(2016), 49.0);
        assert_eq!(mfh(1970), 145.0);
        assert_eq!(mfh(2030), 42.0);
        // Non-residential: the multi-family value times the use's factor.
        assert_eq!(
            t.specific_heat_kwh_m2a(BuildingUse::Office, SizeClass::MultiFamily, 1970),
            123.0
        );
        assert_eq!(
            t.specific_heat_kwh_m2a(BuildingUse::Hospital, SizeClass::SingleFamily, 1970),
            167.0
        );
        assert_eq!(size_class(150.0, 2), SizeClass::SingleFamily);
        assert_eq!(size_class(150.0, 5), SizeClass::MultiFamily);
        assert_eq!(size_class(900.0, 2), SizeClass::MultiFamily);
    }

    #[test]
    fn bad_tables_say_what_is_wrong() {
        let head = "use,size_class,year_from,year_to,specific_heat_kwh_m2a\n";
        let h = |rows: &str| format!("{head}{rows}");
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "no column `use`"),
            (
                "use,size\nresidential,any\n".into(),
                "no column `size_class`",
            ),
            (h("villa,any,,,100\n"), ":2:1: unknown use `villa`"),
            (h("residential,big,,,100\n"), "unknown size_class `big`"),
            (h("residential,any,1900,1800,100\n"), "before year_from"),
            (h("residential,any,,,lots\n"), "`lots` is not a number"),
            (h("residential,any,,,-5\n"), "outside 0–2000"),
            (h("residential,any,x,,5\n"), "year `x`"),
            (
                h("residential,any,,1950,100\nresidential,any,1940,,80\n"),
                "rows overlap",
            ),
            (
                h("residential,any,,1950,100\nresidential,any,1960,,80\n"),
                "no residential single_family row for year 1951",
            ),
        ];
        for (csv, want) in cases {
            let e = Typology::from_csv(&csv, "t.csv").unwrap_err().to_string();
            assert!(e.contains(want), "{csv:?}: {e}");
            assert!(e.starts_with("t.csv"), "{e}");
        }
        // A comma decimal and an `any` row are fine.
        let t = Typology::from_csv(&format!("{head}residential,any,,,\"99,5\"\n"), "t").unwrap();
        assert_eq!(
            t.specific_heat_kwh_m2a(BuildingUse::School, SizeClass::MultiFamily, 1990),
            99.5
        );
    }

    /// The inverse is exact on the curve, and the curve is what its definition says.
    #[test]
    fn calibration_curve_and_inverse() {
        let c = Calibration::temperate();
        for use_ in ALL_USES {
            for q in [40.0, 100.0, 222.0] {
                let u = c.heat_loss_w_m2k(use_, q);
                let back = c.annual_space_heat_kwh_m2a(use_, u);
                assert!((back - q).abs() < 1e-9 * q, "{use_:?} {q}: u {u} → {back}");
            }
            // Monotone.
            assert!(c.heat_loss_w_m2k(use_, 100.0) < c.heat_loss_w_m2k(use_, 150.0));
        }
        // A sanity value: an unrenovated old house (222 kWh/(m²·a)) needs H/A near the demand
        // model's class G (2.8 W/(m²·K)) in this climate.
        let u = c.heat_loss_w_m2k(BuildingUse::Residential, 222.0);
        assert!((2.0..3.5).contains(&u), "{u}");
    }
}

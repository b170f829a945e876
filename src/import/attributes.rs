//! A building's floors, use, year of construction and heated-or-not, from its tags.
//!
//! Tags are OpenStreetMap's (other formats map their attributes onto these names, see
//! [`super::Tags`]). Each value records how it was obtained ([`Source`]):
//! - **Floors**: `building:levels` (+ `roof:levels`, − `building:min_level`) → measured; else
//!   (`height` − `min_height`) ÷ [`FLOOR_HEIGHT_M`] (or a 3D model's height) → derived; else the
//!   district's median of the measured and derived values → defaulted; else
//!   [`DEFAULT_FLOORS`] → defaulted.
//! - **Height** strings cope with units (`12 m`, `12m`, `40'`, `40'6"`, `12.5 ft`), comma decimals
//!   (`12,5`) and junk (→ ignored, reported by the caller as not measured).
//! - **Year** from `start_date`, then `construction_date`, `building:start_date`, `year_built`:
//!   a year or an ISO date (`1905`, `1905-05-03`) → measured; approximations (`~1900`,
//!   `c. 1900`, `1860s`, `C19`, `before 1855`, `after 1900`, `1914..1918`, `1914-1918`,
//!   `mid 19th century`, `early 20th century`) → derived: their middle (a decade's 5th year, a
//!   century's 50th, `before X` → X − 5, `after X` → X + 5); else the district median → defaulted.
//! - **Use** from `building`, then `amenity`, `shop`, `office`, `healthcare`: onto
//!   [`BuildingUse`] → measured; `building=yes` and unknown values → the district's most common
//!   use → defaulted (residential if none).
//! - **Unheated**: garages, sheds, carports, roofs, huts, parking, transformer towers and the
//!   like ([`unheated_reason`]), and footprints under [`MIN_HEATED_FOOTPRINT_M2`], become map
//!   features instead of heated buildings.

use super::Tags;
use crate::scene::{BuildingUse, Source};

/// Storey height for floors from a height, m (and the scene's default floor height).
pub const FLOOR_HEIGHT_M: f64 = 3.2;
/// Floors when neither the building nor the district says anything.
pub const DEFAULT_FLOORS: u32 = 3;
/// Footprints smaller than this are not heated buildings (kiosks, bins, substations), m².
pub const MIN_HEATED_FOOTPRINT_M2: f64 = 20.0;
/// Year of construction when neither the building nor the district says anything.
pub const DEFAULT_YEAR: i32 = 1970;
/// The most floors taken from data (taller values are clamped and reported).
pub const MAX_FLOORS: u32 = 100;

/// A length in metres from an OSM-style string: `12`, `12 m`, `12m`, `12,5`, `40'`, `40'6"`,
/// `12.5 ft`, `12 meters`. `None` for junk, negatives, NaN and values over 1000 m.
pub fn parse_length_m(s: &str) -> Option<f64> {
    let t = s.trim().to_ascii_lowercase();
    if t.is_empty() {
        return None;
    }
    // Feet and inches: 40'6" or 40'.
    if let Some((ft, rest)) = t.split_once('\'') {
        let ft: f64 = parse_num(ft.trim())?;
        let rest = rest.trim().trim_end_matches('"').trim();
        let inches = if rest.is_empty() {
            0.0
        } else {
            parse_num(rest)?
        };
        return finite_len(ft * 0.3048 + inches * 0.0254);
    }
    let num_end = t
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == ',' || *c == '-' || *c == '+'))
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(num_end);
    let v = parse_num(num.trim())?;
    let factor = match unit.trim() {
        "" | "m" | "meter" | "meters" | "metre" | "metres" => 1.0,
        "ft" | "feet" | "foot" => 0.3048,
        "cm" => 0.01,
        _ => return None,
    };
    finite_len(v * factor)
}

fn finite_len(v: f64) -> Option<f64> {
    (v.is_finite() && (0.0..=1000.0).contains(&v)).then_some(v)
}

/// A decimal number with a point or a comma (`12.5`, `12,5`).
fn parse_num(s: &str) -> Option<f64> {
    if s.is_empty() || s.matches([',', '.']).count() > 1 {
        return None;
    }
    let v: f64 = s.replace(',', ".").parse().ok()?;
    v.is_finite().then_some(v)
}

/// A number of levels: `3`, `3.5`, `3,5`; a list `3;4` gives its largest. `None` for junk and
/// negatives.
pub fn parse_levels(s: &str) -> Option<f64> {
    s.split(';')
        .filter_map(|p| parse_num(p.trim()))
        .filter(|v| (0.0..=1000.0).contains(v))
        .reduce(f64::max)
}

/// Floors of a building as far as its own data say: `(floors, source, floor height)`, or `None`
/// when it says nothing usable (the district median applies). The floor height is the measured
/// height over the levels when both are given (2.4–6 m), else [`FLOOR_HEIGHT_M`].
pub fn floors_from_tags(tags: &Tags, model_height_m: Option<f64>) -> Option<(u32, Source, f64)> {
    let levels = tags.get("building:levels").and_then(|s| parse_levels(s));
    let roof = tags
        .get("roof:levels")
        .and_then(|s| parse_levels(s))
        .unwrap_or(0.0);
    let min_level = tags
        .get("building:min_level")
        .and_then(|s| parse_levels(s))
        .unwrap_or(0.0);
    let height = tags
        .get("height")
        .or_else(|| tags.get("building:height"))
        .and_then(|s| parse_length_m(s))
        .or(model_height_m.filter(|h| h.is_finite() && *h > 0.0));
    let min_h = tags
        .get("min_height")
        .and_then(|s| parse_length_m(s))
        .unwrap_or(0.0);
    let height = height.map(|h| h - min_h).filter(|h| *h > 0.5);
    if let Some(l) = levels {
        let n = (l + roof - min_level).round();
        if n >= 1.0 {
            let floors = (n as u32).min(MAX_FLOORS);
            let fh = height
                .map(|h| (h / floors as f64).clamp(2.4, 6.0))
                .unwrap_or(FLOOR_HEIGHT_M);
            return Some((floors, Source::Measured, super::geo::round_mm(fh)));
        }
    }
    let h = height?;
    let floors = ((h / FLOOR_HEIGHT_M).round().max(1.0) as u32).min(MAX_FLOORS);
    Some((floors, Source::Derived, FLOOR_HEIGHT_M))
}

/// A year of construction from a date string: `(year, Measured)` for a year or ISO date,
/// `(year, Derived)` for an approximation (see the module doc), `None` for junk.
pub fn parse_year(s: &str) -> Option<(i32, Source)> {
    let t = s.trim().to_ascii_lowercase();
    if t.is_empty() {
        return None;
    }
    let ok = |y: i32| (1000..=2100).contains(&y);
    // A plain year or an ISO date (1905, 1905-05, 1905-05-03).
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.len() == 4 {
        let rest = &t[4..];
        let y: i32 = digits.parse().ok()?;
        let b = rest.as_bytes();
        let two_digits = |i: usize| b[i].is_ascii_digit() && b[i + 1].is_ascii_digit();
        // -MM or -MM-DD (a date), not -YYYY (a range).
        let is_date = b.is_empty()
            || (b.len() == 3 && b[0] == b'-' && two_digits(1))
            || (b.len() == 6 && b[0] == b'-' && two_digits(1) && b[3] == b'-' && two_digits(4));
        if is_date && ok(y) {
            return Some((y, Source::Measured));
        }
        // 1860s
        if rest == "s" && ok(y) {
            return Some((y + 5, Source::Derived));
        }
        // Ranges 1914..1918, 1914-1918, 1914–1918, 1914/1918.
        for sep in ["..", "–", "-", "/"] {
            if let Some(r) = rest.strip_prefix(sep) {
                let r = r.trim();
                if let Ok(y2) = r.get(..4).unwrap_or("").parse::<i32>()
                    && ok(y)
                    && ok(y2)
                    && y2 >= y
                {
                    return Some(((y + y2) / 2, Source::Derived));
                }
            }
        }
        // 1900~, 1900?
        if (rest == "~" || rest == "?") && ok(y) {
            return Some((y, Source::Derived));
        }
        return None;
    }
    // ~1900, c. 1900, ca. 1900, circa 1900, before 1855, after 1900, early/mid/late …
    for (prefix, delta) in [
        ("~", 0),
        ("circa", 0),
        ("ca.", 0),
        ("ca", 0),
        ("c.", 0),
        ("about", 0),
        ("before", -5),
        ("after", 5),
    ] {
        if let Some(r) = t.strip_prefix(prefix)
            && let Some((y, _)) = parse_year(r)
        {
            return Some((y + delta, Source::Derived));
        }
    }
    // C19 (the 19th century), and spelled-out centuries with early/mid/late.
    if let Some(r) = t.strip_prefix('c')
        && let Ok(c) = r.trim().parse::<i32>()
        && (11..=21).contains(&c)
    {
        return Some(((c - 1) * 100 + 50, Source::Derived));
    }
    let (part, rest) = if let Some(r) = t.strip_prefix("early") {
        (20, r)
    } else if let Some(r) = t.strip_prefix("mid") {
        (50, r)
    } else if let Some(r) = t.strip_prefix("late") {
        (85, r)
    } else {
        (50, t.as_str())
    };
    let rest = rest.trim_start_matches([' ', '-']);
    let num: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    if !num.is_empty()
        && rest[num.len()..]
            .trim_start_matches(['s', 't', 'n', 'r', 'd', 'h'])
            .trim()
            == "century"
        && let Ok(c) = num.parse::<i32>()
        && (11..=21).contains(&c)
    {
        return Some(((c - 1) * 100 + part, Source::Derived));
    }
    None
}

/// The year of construction a building's tags state, if any (see [`parse_year`]).
pub fn year_from_tags(tags: &Tags) -> Option<(i32, Source)> {
    [
        "start_date",
        "construction_date",
        "building:start_date",
        "year_built",
        "building:year",
    ]
    .iter()
    .find_map(|k| tags.get(*k).and_then(|v| parse_year(v)))
}

/// What a building is used for according to its tags; `None` for `building=yes` and values
/// that say nothing (the district's most common use applies).
pub fn use_from_tags(tags: &Tags) -> Option<BuildingUse> {
    use BuildingUse::*;
    let b = tags.get("building").map(String::as_str).unwrap_or("");
    let from_building = match b {
        "house" | "residential" | "apartments" | "detached" | "semidetached_house" | "terrace"
        | "dormitory" | "bungalow" | "farm" | "cabin" | "static_caravan" | "houseboat" => {
            Some(Residential)
        }
        "office" | "commercial" | "government" | "civic" | "public" | "bank" | "townhall"
        | "fire_station" | "police" => Some(Office),
        "retail" | "supermarket" | "shop" | "kiosk" | "mall" | "restaurant" | "hotel" => {
            Some(Retail)
        }
        "school" | "university" | "college" | "kindergarten" | "library" | "museum"
        | "research" | "laboratory" | "sports_hall" | "gymnasium" | "church" | "chapel"
        | "mosque" | "synagogue" | "temple" | "cathedral" => Some(School),
        "hospital" | "clinic" | "healthcare" | "nursing_home" => Some(Hospital),
        "industrial" | "warehouse" | "manufacture" | "factory" | "data_center" | "works"
        | "hangar" | "barn" | "greenhouse" | "storage_tank" | "boathouse" => Some(Industrial),
        _ => None,
    };
    if from_building.is_some() {
        return from_building;
    }
    if let Some(a) = tags.get("amenity") {
        let u = match a.as_str() {
            "school" | "university" | "college" | "kindergarten" | "library"
            | "research_institute" | "place_of_worship" | "community_centre" | "arts_centre"
            | "theatre" => Some(School),
            "hospital" | "clinic" | "doctors" | "nursing_home" => Some(Hospital),
            "restaurant" | "cafe" | "fast_food" | "pub" | "bar" | "marketplace" | "cinema" => {
                Some(Retail)
            }
            "townhall" | "bank" | "police" | "fire_station" | "courthouse" | "post_office" => {
                Some(Office)
            }
            _ => None,
        };
        if u.is_some() {
            return u;
        }
    }
    if tags.contains_key("shop") {
        return Some(Retail);
    }
    if tags.contains_key("office") {
        return Some(Office);
    }
    if tags.contains_key("healthcare") {
        return Some(Hospital);
    }
    None
}

/// Why a building is not heated (a map feature instead), from its tags; `None` if it may be.
pub fn unheated_reason(tags: &Tags) -> Option<&'static str> {
    let b = tags.get("building").map(String::as_str).unwrap_or("");
    let r = match b {
        "garage" | "garages" => "garage",
        "shed" => "shed",
        "carport" => "carport",
        "roof" => "roof",
        "hut" => "hut",
        "parking" => "parking",
        "service" => "service building",
        "transformer_tower" => "transformer tower",
        "bunker" => "bunker",
        "ruins" => "ruins",
        "construction" => "under construction",
        "container" => "container",
        "toilets" => "toilets",
        "bridge" => "bridge",
        "tent" => "tent",
        "silo" => "silo",
        "stable" | "sty" | "cowshed" => "stable",
        "water_tower" | "tower" => "tower",
        "gatehouse" if tags.get("amenity").is_none() => "gatehouse",
        "no" => "not a building",
        _ => {
            if tags.get("amenity").map(String::as_str) == Some("parking")
                || tags.get("parking").is_some()
            {
                "parking"
            } else if tags.get("power").is_some() {
                "power installation"
            } else if tags.get("abandoned:building").is_some()
                || tags.get("disused").map(String::as_str) == Some("yes")
            {
                "disused"
            } else {
                return None;
            }
        }
    };
    Some(r)
}

/// The median of a list of values (the lower middle for an even count); `None` when empty.
pub fn median<T: Copy + Ord>(values: &[T]) -> Option<T> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    Some(v[(v.len() - 1) / 2])
}

/// The most common use among those measured (ties → the earlier in [`BuildingUse`]'s order);
/// residential when there are none.
pub fn most_common_use(uses: &[BuildingUse]) -> BuildingUse {
    let mut counts = [0usize; 6];
    for u in uses {
        counts[*u as usize] += 1;
    }
    let all = [
        BuildingUse::Residential,
        BuildingUse::Office,
        BuildingUse::Retail,
        BuildingUse::School,
        BuildingUse::Hospital,
        BuildingUse::Industrial,
    ];
    let mut best = 0;
    for i in 1..6 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    all[best]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(kv: &[(&str, &str)]) -> Tags {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn heights_with_units_commas_and_junk() {
        assert_eq!(parse_length_m("12"), Some(12.0));
        assert_eq!(parse_length_m("12 m"), Some(12.0));
        assert_eq!(parse_length_m("12m"), Some(12.0));
        assert_eq!(parse_length_m("12,5"), Some(12.5));
        assert_eq!(parse_length_m(" 12.5 metres "), Some(12.5));
        assert!((parse_length_m("40'").unwrap() - 12.192).abs() < 1e-9);
        assert!((parse_length_m("40'6\"").unwrap() - 12.3444).abs() < 1e-9);
        assert!((parse_length_m("12.5 ft").unwrap() - 3.81).abs() < 1e-9);
        for junk in [
            "",
            "tall",
            "12,5,3",
            "1.2.3",
            "-4",
            "NaN",
            "inf",
            "12 storeys",
            "1e9",
        ] {
            assert_eq!(parse_length_m(junk), None, "{junk}");
        }
    }

    #[test]
    fn floors_from_levels_height_or_nothing() {
        let t = tags(&[("building:levels", "4"), ("roof:levels", "1")]);
        assert_eq!(
            floors_from_tags(&t, None),
            Some((5, Source::Measured, FLOOR_HEIGHT_M))
        );
        // Both levels and height: the storey height follows.
        let t = tags(&[("building:levels", "5"), ("height", "17,5")]);
        assert_eq!(floors_from_tags(&t, None), Some((5, Source::Measured, 3.5)));
        let t = tags(&[("height", "12,5 m"), ("min_height", "3")]);
        assert_eq!(
            floors_from_tags(&t, None),
            Some((3, Source::Derived, FLOOR_HEIGHT_M))
        );
        assert_eq!(
            floors_from_tags(&tags(&[]), Some(7.0)),
            Some((2, Source::Derived, FLOOR_HEIGHT_M))
        );
        assert_eq!(floors_from_tags(&tags(&[("height", "high")]), None), None);
        assert_eq!(
            floors_from_tags(&tags(&[("building:levels", "0")]), None),
            None
        );
        assert_eq!(parse_levels("3;4"), Some(4.0));
    }

    #[test]
    fn years_and_their_approximations() {
        use Source::*;
        let cases = [
            ("1905", Some((1905, Measured))),
            ("1905-05-03", Some((1905, Measured))),
            ("1905-05", Some((1905, Measured))),
            ("~1900", Some((1900, Derived))),
            ("c. 1900", Some((1900, Derived))),
            ("circa 1900", Some((1900, Derived))),
            ("1900~", Some((1900, Derived))),
            ("1860s", Some((1865, Derived))),
            ("C19", Some((1850, Derived))),
            ("before 1855", Some((1850, Derived))),
            ("after 1900", Some((1905, Derived))),
            ("1914..1918", Some((1916, Derived))),
            ("1914-1918", Some((1916, Derived))),
            ("mid 19th century", Some((1850, Derived))),
            ("early 20th century", Some((1920, Derived))),
            ("late 19th century", Some((1885, Derived))),
            ("yesterday", None),
            ("19", None),
            ("0001", None),
            ("", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_year(s), want, "{s}");
        }
        let t = tags(&[("construction_date", "1971")]);
        assert_eq!(year_from_tags(&t), Some((1971, Measured)));
    }

    #[test]
    fn uses_and_unheated_objects() {
        use BuildingUse::*;
        assert_eq!(
            use_from_tags(&tags(&[("building", "apartments")])),
            Some(Residential)
        );
        assert_eq!(
            use_from_tags(&tags(&[("building", "university")])),
            Some(School)
        );
        assert_eq!(
            use_from_tags(&tags(&[("building", "yes"), ("amenity", "hospital")])),
            Some(Hospital)
        );
        assert_eq!(
            use_from_tags(&tags(&[("building", "yes"), ("shop", "bakery")])),
            Some(Retail)
        );
        assert_eq!(
            use_from_tags(&tags(&[("building", "yes"), ("office", "it")])),
            Some(Office)
        );
        assert_eq!(use_from_tags(&tags(&[("building", "yes")])), None);
        assert_eq!(
            unheated_reason(&tags(&[("building", "garages")])),
            Some("garage")
        );
        assert_eq!(
            unheated_reason(&tags(&[("building", "transformer_tower")])),
            Some("transformer tower")
        );
        assert_eq!(unheated_reason(&tags(&[("building", "house")])), None);
        assert_eq!(most_common_use(&[Office, School, School]), School);
        assert_eq!(most_common_use(&[]), Residential);
        assert_eq!(median(&[5, 1, 3, 2]), Some(2));
    }
}

//! The reading half's common finishing step: from the readers' WGS84 [`RawFeatures`] to a
//! [`District`] on the scene's local plane; and the entry points that detect formats and read
//! files.
//!
//! # What [`finish`] does, in order
//! 1. **Coordinates checked**: values beyond ±180°/±90° are explained — projected coordinates
//!    (metres) without `--crs`, latitude and longitude swapped — or reported with the object.
//! 2. **Filtered** to `--bbox`/`--clip` (an object is kept when the mean of its outer ring's
//!    points, or any point of a line, lies inside); a box that only makes sense swapped is
//!    explained; past `--max-buildings` a clear error.
//! 3. **Projected** with [`LocalTm`] about the centre of the buildings' bounding box (rounded to
//!    1e-7°), every coordinate rounded to 1 mm ([`round_point_mm`]).
//! 4. **Repaired**: non-finite points dropped, repeated points dropped, rings closed (a scene
//!    footprint is stored open: the last corner is not repeated), counter-clockwise; objects with
//!    fewer than 3 distinct points skipped; invalid (self-intersecting) footprints repaired with
//!    geo's `MakeValid` (constrained Delaunay, "prepair"): one part → that part; several parts
//!    (a bow-tie) → their convex hull; reported. Multipolygons: the largest outer ring is the
//!    footprint, the heated area counts every outer ring minus the holes.
//! 5. **Attributes** ([`super::attributes`]): floors, use, year with their [`Source`], district
//!    medians for what is missing; unheated buildings and footprints under 20 m² become
//!    [`MapFeature::Outbuilding`]s.
//! 6. **Duplicates and overlaps**: identical footprints kept once; when two footprints overlap
//!    by more than half of the smaller one's area, the smaller is dropped; both reported.
//! 7. **Envelope** from the typology ([`super::typology`]): heated area
//!    `(outer − holes) × floors × 0.85`, `H` from the table's kWh/(m²·a) via the demand model's
//!    calibration in the shipped temperate climate.
//! 8. **Streets**: `highway` classes `motorway`…`residential`, `*_link`, `living_street`,
//!    `service`, `unclassified`, `road` become [`Street`]s (width from a `width` tag, else by
//!    class, [`street_width_m`]); footways, paths, cycleways, steps, pedestrian areas are not
//!    pipe routes (counted). Rivers and canals, parks and water become map features.
//!
//! Buildings get ids from their source ids (`way/4711` → `w4711`, `relation/12` → `r12`, other
//! ids with every character outside `[A-Za-z0-9_-]` replaced by `_`) and come out sorted by
//! kind then number, so repeated imports give identical output.
//!
//! Units: m, m², degrees (WGS84).

use std::collections::{BTreeMap, BTreeSet};

use ::geo::{
    Area, BooleanOps, ConvexHull, Coord, LineString, MakeValid, MultiPoint, Point, Polygon,
    Validation,
};

use super::attributes::{self, MIN_HEATED_FOOTPRINT_M2};
use super::geo::{LocalTm, round_deg7, round_mm, round_point_mm};
use super::typology::{Calibration, Typology, size_class};
use super::{
    District, Format, ImportError, RawArea, RawFeatures, ReadOptions, ReadReport, SourceCounts,
    Street,
};
use crate::scene::{Building, BuildingUse, Envelope, MapFeature, Provenance, Source};

/// Share of the footprint area × floors that is heated floor area.
pub const HEATED_SHARE: f64 = 0.85;
/// Largest file [`read_paths`] reads without `--bbox`/`--clip`, bytes.
pub const MAX_FILE_BYTES_WITHOUT_BBOX: u64 = 256 * 1024 * 1024;
/// Largest file read at all, bytes (the whole file is held in memory).
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Overlap (share of the smaller footprint) above which the smaller of two buildings is dropped.
pub const HEAVY_OVERLAP_SHARE: f64 = 0.5;

/// Carriageway width of a street class, m (for the view and for nothing physical).
pub fn street_width_m(class: &str) -> Option<f64> {
    let base = class.strip_suffix("_link").unwrap_or(class);
    let w = match base {
        "motorway" => 25.0,
        "trunk" => 20.0,
        "primary" => 14.0,
        "secondary" => 12.0,
        "tertiary" => 10.0,
        "unclassified" | "residential" | "road" => 7.0,
        "living_street" => 6.0,
        "service" => 4.5,
        _ => return None,
    };
    Some(if class.ends_with("_link") { 7.0 } else { w })
}

/// What a file's content is (then its extension); `None` if neither says.
pub fn detect(name: &str, bytes: &[u8]) -> Option<Format> {
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with("<?xml") || t.starts_with("<osm") {
        return Some(Format::Osm);
    }
    // PBF: a 4-byte big-endian header length, then a BlobHeader whose first field is the type
    // string "OSMHeader".
    if bytes.len() > 16 && bytes[4] == 0x0a && bytes[6..].starts_with(b"OSMHeader") {
        return Some(Format::Pbf);
    }
    if t.starts_with('{') {
        if t.contains("\"CityJSON\"") {
            return Some(Format::CityJson);
        }
        if t.contains("\"type\"") {
            return Some(Format::GeoJson);
        }
    }
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".osm.pbf") || lower.ends_with(".pbf") {
        Some(Format::Pbf)
    } else if lower.ends_with(".osm") || lower.ends_with(".xml") {
        Some(Format::Osm)
    } else if lower.ends_with(".city.json") || lower.ends_with(".cityjson") {
        Some(Format::CityJson)
    } else if lower.ends_with(".geojson") || lower.ends_with(".json") {
        Some(Format::GeoJson)
    } else {
        None
    }
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Auto => "auto",
        Format::Osm => "osm",
        Format::Pbf => "pbf",
        Format::GeoJson => "geojson",
        Format::CityJson => "cityjson",
    }
}

/// Reads one file's features.
fn read_one(
    name: &str,
    bytes: &[u8],
    opts: &ReadOptions,
) -> Result<(RawFeatures, Format), ImportError> {
    let f = match opts.format {
        Format::Auto => {
            if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                return Err(ImportError::File {
                    file: name.to_string(),
                    msg: "the file is empty".into(),
                });
            }
            detect(name, bytes).ok_or_else(|| ImportError::File {
                file: name.to_string(),
                msg: "format not recognised: not OpenStreetMap XML (`<?xml`/`<osm`), PBF \
                      (`OSMHeader`), GeoJSON or CityJSON; name it with --format"
                    .into(),
            })?
        }
        f => f,
    };
    let raw = match f {
        Format::Osm => super::osm::read(name, bytes)?,
        Format::Pbf => super::pbf::read(name, bytes)?,
        Format::GeoJson => super::geojson::read(name, bytes, opts)?,
        Format::CityJson => super::cityjson::read(name, bytes, opts)?,
        Format::Auto => unreachable!("resolved above"),
    };
    Ok((raw, f))
}

/// Reads files (name, bytes) — several are merged, objects present in more than one (the same
/// source id, e.g. two overlapping OSM extracts) kept once — and finishes them into a district.
pub fn read_files(
    files: &[(String, Vec<u8>)],
    opts: &ReadOptions,
) -> Result<District, ImportError> {
    if files.is_empty() {
        return Err(ImportError::Other("no input files".into()));
    }
    let mut all = RawFeatures::default();
    let mut formats = BTreeSet::new();
    let mut seen_b = BTreeSet::new();
    let mut seen_a = BTreeSet::new();
    let mut seen_l = BTreeSet::new();
    for (name, bytes) in files {
        let (raw, f) = read_one(name, bytes, opts)?;
        formats.insert(format_name(f));
        let prefix = |m: String| {
            if files.len() > 1 {
                format!("{name}: {m}")
            } else {
                m
            }
        };
        all.messages.extend(raw.messages.into_iter().map(prefix));
        for b in raw.buildings {
            if seen_b.insert(b.source_id.clone()) {
                all.buildings.push(b);
            }
        }
        for a in raw.areas {
            if seen_a.insert(a.source_id.clone()) {
                all.areas.push(a);
            }
        }
        for l in raw.lines {
            if seen_l.insert(l.source_id.clone()) {
                all.lines.push(l);
            }
        }
    }
    let format = formats.into_iter().collect::<Vec<_>>().join("+");
    finish(
        all,
        opts,
        files.iter().map(|(n, _)| n.clone()).collect(),
        &format,
    )
}

/// Reads files from disk (see [`read_files`]). Files over [`MAX_FILE_BYTES_WITHOUT_BBOX`] need
/// `--bbox` or `--clip`; files over [`MAX_FILE_BYTES`] are refused.
#[cfg(not(target_arch = "wasm32"))]
pub fn read_paths<P: AsRef<std::path::Path>>(
    paths: &[P],
    opts: &ReadOptions,
) -> Result<District, ImportError> {
    let mut files = Vec::new();
    for p in paths {
        let p = p.as_ref();
        let name = p.display().to_string();
        let io = |e: std::io::Error| ImportError::File {
            file: name.clone(),
            msg: format!("cannot read: {e}"),
        };
        let meta = std::fs::metadata(p).map_err(io)?;
        if !meta.is_file() {
            return Err(ImportError::File {
                file: name,
                msg: "not a file".into(),
            });
        }
        let len = meta.len();
        if len > MAX_FILE_BYTES {
            return Err(ImportError::File {
                file: name,
                msg: format!(
                    "{:.0} MB is more than the {} MB this importer holds in memory: cut an \
                     extract first (osmium extract, Overpass)",
                    len as f64 / 1e6,
                    MAX_FILE_BYTES / 1_000_000
                ),
            });
        }
        if len > MAX_FILE_BYTES_WITHOUT_BBOX && opts.bbox.is_none() && opts.clip.is_none() {
            return Err(ImportError::File {
                file: name,
                msg: format!(
                    "{:.0} MB is more than {} MB: give --bbox or --clip to import a part of it",
                    len as f64 / 1e6,
                    MAX_FILE_BYTES_WITHOUT_BBOX / 1_000_000
                ),
            });
        }
        let bytes = std::fs::read(p).map_err(io)?;
        files.push((name, bytes));
    }
    read_files(&files, opts)
}

/// Whether a point lies inside a ring (even-odd rule).
fn point_in_ring(p: [f64; 2], ring: &[[f64; 2]]) -> bool {
    let mut inside = false;
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let mut j = n - 1;
    for i in 0..n {
        let (a, b) = (ring[i], ring[j]);
        if (a[1] > p[1]) != (b[1] > p[1])
            && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
        {
            inside = !inside;
        }
        j = i;
    }
    inside
}

fn finite(p: &[f64; 2]) -> bool {
    p[0].is_finite() && p[1].is_finite()
}

/// Mean of the finite points of a ring.
fn ring_mean(r: &[[f64; 2]]) -> Option<[f64; 2]> {
    let pts: Vec<_> = r.iter().filter(|p| finite(p)).collect();
    if pts.is_empty() {
        return None;
    }
    let n = pts.len() as f64;
    Some([
        pts.iter().map(|p| p[0]).sum::<f64>() / n,
        pts.iter().map(|p| p[1]).sum::<f64>() / n,
    ])
}

/// Signed area of an open or closed ring (shoelace), m²; positive counter-clockwise.
pub fn signed_area(r: &[[f64; 2]]) -> f64 {
    let n = r.len();
    if n < 3 {
        return 0.0;
    }
    let mut s = 0.0;
    for i in 0..n {
        let (a, b) = (r[i], r[(i + 1) % n]);
        s += a[0] * b[1] - b[0] * a[1];
    }
    0.5 * s
}

/// Checks that the coordinates are WGS84 longitude/latitude, explaining what they look like
/// when they are not.
fn check_wgs84(raw: &RawFeatures, opts: &ReadOptions) -> Result<(), ImportError> {
    let pts: Vec<(&str, [f64; 2])> = raw
        .buildings
        .iter()
        .chain(raw.areas.iter())
        .flat_map(|a| {
            a.outers
                .iter()
                .chain(a.holes.iter())
                .flatten()
                .map(move |p| (a.source_id.as_str(), *p))
        })
        .chain(
            raw.lines
                .iter()
                .flat_map(|l| l.points.iter().map(move |p| (l.source_id.as_str(), *p))),
        )
        .filter(|(_, p)| finite(p))
        .collect();
    let bad: Vec<&(&str, [f64; 2])> = pts
        .iter()
        .filter(|(_, p)| p[0].abs() > 180.0 || p[1].abs() > 90.0)
        .collect();
    if let Some((id, p)) = bad.first() {
        if pts
            .iter()
            .any(|(_, p)| p[0].abs() > 1000.0 || p[1].abs() > 1000.0)
        {
            return Err(ImportError::Other(format!(
                "the coordinates look projected, not WGS84 longitude/latitude (e.g. {id}: \
                 {}, {}): name the file's coordinate system with --crs EPSG:n (e.g. \
                 EPSG:25832 for UTM zone 32N, EPSG:28992 for the Dutch RD)",
                p[0], p[1]
            )));
        }
        if bad.len() * 2 > pts.len()
            && pts
                .iter()
                .all(|(_, p)| p[0].abs() <= 90.0 && p[1].abs() <= 180.0)
        {
            return Err(ImportError::Other(format!(
                "latitude and longitude look swapped: {} of {} points have a latitude beyond \
                 ±90° (e.g. {id}: lon {}, lat {}) and every point would be valid the other way \
                 round; coordinates must be [longitude, latitude]",
                bad.len(),
                pts.len(),
                p[0],
                p[1]
            )));
        }
        return Err(ImportError::Other(format!(
            "{id}: coordinates (lon {}, lat {}) are outside ±180°/±90°",
            p[0], p[1]
        )));
    }
    if let Some([x0, y0, x1, y1]) = opts.bbox {
        let inside = |p: [f64; 2]| p[0] >= x0 && p[0] <= x1 && p[1] >= y0 && p[1] <= y1;
        let cents: Vec<[f64; 2]> = raw
            .buildings
            .iter()
            .filter_map(|b| b.outers.first().and_then(|r| ring_mean(r)))
            .collect();
        let n_in = cents.iter().filter(|c| inside(**c)).count();
        let n_sw = cents.iter().filter(|c| inside([c[1], c[0]])).count();
        if !cents.is_empty() && n_in == 0 && n_sw > 0 {
            return Err(ImportError::Other(format!(
                "no building lies inside --bbox {x0},{y0},{x1},{y1} but {n_sw} would with \
                 longitude and latitude exchanged: the box is min lon, min lat, max lon, max lat"
            )));
        }
    }
    Ok(())
}

/// A ring projected, cleaned (non-finite and repeated points dropped, stored open) and
/// counter-clockwise; `None` with fewer than 3 distinct points. Notes what it repaired.
fn clean_ring(
    tm: &LocalTm,
    ring: &[[f64; 2]],
    notes: &mut Vec<&'static str>,
) -> Option<Vec<[f64; 2]>> {
    let finite_pts: Vec<[f64; 2]> = ring.iter().copied().filter(finite).collect();
    if finite_pts.len() < ring.len() {
        notes.push("non-finite points dropped");
    }
    let closed_in = finite_pts.len() >= 2 && finite_pts.first() == finite_pts.last();
    let mut pts: Vec<[f64; 2]> = Vec::with_capacity(finite_pts.len());
    let mut repeated = false;
    for p in finite_pts {
        let q = round_point_mm(tm.to_local(p[0], p[1]));
        if pts.last() == Some(&q) {
            repeated = true;
            continue;
        }
        pts.push(q);
    }
    if pts.len() >= 2 && pts.first() == pts.last() {
        pts.pop();
    } else if !pts.is_empty() && !closed_in {
        notes.push("ring closed");
    }
    if repeated {
        notes.push("repeated points dropped");
    }
    let distinct: BTreeSet<(i64, i64)> = pts
        .iter()
        .map(|p| {
            (
                (p[0] * 1000.0).round() as i64,
                (p[1] * 1000.0).round() as i64,
            )
        })
        .collect();
    if distinct.len() < 3 || signed_area(&pts).abs() < 1e-6 {
        return None;
    }
    if signed_area(&pts) < 0.0 {
        pts.reverse();
    }
    Some(pts)
}

fn to_geo(outer: &[[f64; 2]], holes: &[Vec<[f64; 2]>]) -> Polygon<f64> {
    let ls = |r: &[[f64; 2]]| {
        LineString::from(
            r.iter()
                .map(|p| Coord { x: p[0], y: p[1] })
                .collect::<Vec<_>>(),
        )
    };
    Polygon::new(ls(outer), holes.iter().map(|h| ls(h)).collect())
}

fn from_geo_ring(ls: &LineString<f64>) -> Vec<[f64; 2]> {
    let mut v: Vec<[f64; 2]> = ls.coords().map(|c| round_point_mm([c.x, c.y])).collect();
    if v.len() >= 2 && v.first() == v.last() {
        v.pop();
    }
    v.dedup();
    if signed_area(&v) < 0.0 {
        v.reverse();
    }
    v
}

/// A valid footprint for a self-intersecting ring: geo's `MakeValid`; one part → it, several →
/// their convex hull. Returns the ring and what was done.
fn repair(outer: &[[f64; 2]]) -> Option<(Vec<[f64; 2]>, &'static str)> {
    let poly = to_geo(outer, &[]);
    match poly.make_valid() {
        Ok(mp) if mp.0.len() == 1 => {
            let r = from_geo_ring(mp.0[0].exterior());
            (r.len() >= 3).then_some((r, "self-intersecting footprint repaired (make_valid)"))
        }
        _ => {
            let pts: MultiPoint<f64> = outer.iter().map(|p| Point::new(p[0], p[1])).collect();
            let hull = pts.convex_hull();
            let r = from_geo_ring(hull.exterior());
            (r.len() >= 3).then_some((r, "self-intersecting footprint replaced by its convex hull"))
        }
    }
}

/// A building id from its source id: `way/4711` → `w4711`, `relation/12` → `r12`.
pub fn building_id(source_id: &str) -> String {
    if let Some(n) = source_id.strip_prefix("way/") {
        return format!("w{n}");
    }
    if let Some(n) = source_id.strip_prefix("relation/") {
        return format!("r{n}");
    }
    if let Some(n) = source_id.strip_prefix("node/") {
        return format!("n{n}");
    }
    let s: String = source_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "b".into() } else { s }
}

/// Sort key: the id's letters, then its number, then the whole id.
fn id_key(id: &str) -> (String, u64, String) {
    let letters: String = id.chars().take_while(|c| !c.is_ascii_digit()).collect();
    let digits: String = id[letters.len()..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (letters, digits.parse().unwrap_or(u64::MAX), id.to_string())
}

/// A building on its way through the finishing step.
struct Cand {
    source_id: String,
    footprint: Vec<[f64; 2]>,
    /// Outer area minus holes (all outer rings), m².
    net_area_m2: f64,
    tags: super::Tags,
    model_height_m: Option<f64>,
    unheated: Option<&'static str>,
}

fn fmt_notes(id: &str, notes: &[&str]) -> String {
    let mut n: Vec<&str> = notes.to_vec();
    n.dedup();
    format!("{id}: {}", n.join(", "))
}

/// The common finishing step (see the module doc).
pub fn finish(
    raw: RawFeatures,
    opts: &ReadOptions,
    files: Vec<String>,
    format: &str,
) -> Result<District, ImportError> {
    let mut report = ReadReport {
        files: files.clone(),
        format: format.to_string(),
        messages: raw.messages.clone(),
        ..Default::default()
    };
    let typology = match &opts.typology_csv {
        Some(t) => {
            report.typology = "--typology".into();
            Typology::from_csv(t, "--typology")?
        }
        None => {
            report.typology = "assets/typology/tabula_de.csv".into();
            Typology::shipped()
        }
    };
    check_wgs84(&raw, opts)?;

    // ---- filter to the box / clip polygon ----
    let inside = |p: [f64; 2]| -> bool {
        if let Some([x0, y0, x1, y1]) = opts.bbox
            && !(p[0] >= x0 && p[0] <= x1 && p[1] >= y0 && p[1] <= y1)
        {
            return false;
        }
        if let Some(c) = &opts.clip
            && !point_in_ring(p, c)
        {
            return false;
        }
        true
    };
    let area_inside = |a: &RawArea| -> bool {
        a.outers
            .first()
            .and_then(|r| ring_mean(r))
            .is_some_and(inside)
    };
    let filtered = opts.bbox.is_some() || opts.clip.is_some();
    let n_before = raw.buildings.len();
    let buildings: Vec<RawArea> = raw
        .buildings
        .into_iter()
        .filter(|b| !filtered || area_inside(b))
        .collect();
    let areas: Vec<RawArea> = raw
        .areas
        .into_iter()
        .filter(|a| !filtered || area_inside(a))
        .collect();
    let lines: Vec<super::RawLine> = raw
        .lines
        .into_iter()
        .filter(|l| !filtered || l.points.iter().any(|p| finite(p) && inside(*p)))
        .collect();
    if filtered && buildings.len() < n_before {
        report.messages.push(format!(
            "{} of {n_before} buildings outside --bbox/--clip (left out)",
            n_before - buildings.len()
        ));
    }
    report.buildings_read = buildings.len();
    if let Some(max) = opts.max_buildings
        && buildings.len() > max
    {
        return Err(ImportError::Other(format!(
            "{} buildings are more than --max-buildings {max}: import a smaller area (--bbox, \
             --clip) or raise the limit",
            buildings.len()
        )));
    }

    // ---- origin and projection ----
    let mut lo = [f64::INFINITY; 2];
    let mut hi = [f64::NEG_INFINITY; 2];
    for p in buildings
        .iter()
        .flat_map(|b| b.outers.iter().flatten())
        .filter(|p| finite(p))
    {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    if !lo[0].is_finite() {
        let hint = report
            .messages
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        return Err(ImportError::Other(format!(
            "no buildings in {}{}",
            files.join(", "),
            if hint.is_empty() {
                String::new()
            } else {
                format!(" ({hint})")
            }
        )));
    }
    let tm = LocalTm::new(
        round_deg7(0.5 * (lo[0] + hi[0])),
        round_deg7(0.5 * (lo[1] + hi[1])),
    );

    // ---- geometry ----
    let mut cands: Vec<Cand> = Vec::new();
    for b in buildings {
        let mut notes: Vec<&'static str> = Vec::new();
        let mut outers: Vec<Vec<[f64; 2]>> = b
            .outers
            .iter()
            .filter_map(|r| clean_ring(&tm, r, &mut notes))
            .collect();
        let holes: Vec<Vec<[f64; 2]>> = b
            .holes
            .iter()
            .filter_map(|r| clean_ring(&tm, r, &mut notes))
            .collect();
        if outers.is_empty() {
            report.buildings_skipped += 1;
            report.messages.push(format!(
                "{}: fewer than 3 distinct points{} (skipped)",
                b.source_id,
                if notes.is_empty() {
                    String::new()
                } else {
                    format!(" after {}", notes.join(", "))
                }
            ));
            continue;
        }
        // Invalid rings repaired one by one.
        for r in outers.iter_mut() {
            if !to_geo(r, &[]).is_valid() {
                match repair(r) {
                    Some((fixed, what)) => {
                        *r = fixed;
                        notes.push(what);
                    }
                    None => {
                        r.clear();
                        notes.push("an unrepairable ring dropped");
                    }
                }
            }
        }
        outers.retain(|r| r.len() >= 3);
        if outers.is_empty() {
            report.buildings_skipped += 1;
            report.messages.push(fmt_notes(
                &b.source_id,
                &[&notes[..], &["skipped"]].concat(),
            ));
            continue;
        }
        outers.sort_by(|a, b| signed_area(b).total_cmp(&signed_area(a)));
        if outers.len() > 1 {
            notes.push("several outer rings: footprint = the largest, heated area counts all");
        }
        let outer_area: f64 = outers.iter().map(|r| signed_area(r)).sum();
        let hole_area: f64 = holes.iter().map(|r| signed_area(r)).sum();
        let net = (outer_area - hole_area).max(0.0);
        if !notes.is_empty() {
            report.buildings_repaired += 1;
            report.messages.push(fmt_notes(&b.source_id, &notes));
        }
        let footprint = outers.swap_remove(0);
        let unheated = attributes::unheated_reason(&b.tags)
            .or((net < MIN_HEATED_FOOTPRINT_M2).then_some("footprint under 20 m²"));
        cands.push(Cand {
            source_id: b.source_id,
            footprint,
            net_area_m2: net,
            tags: b.tags,
            model_height_m: b.model_height_m,
            unheated,
        });
    }
    // Stable order: by id.
    cands.sort_by_cached_key(|c| id_key(&building_id(&c.source_id)));

    // ---- exact duplicates and heavy overlaps ----
    let mut dropped = vec![false; cands.len()];
    {
        let canon = |r: &[[f64; 2]]| -> Vec<(i64, i64)> {
            let v: Vec<(i64, i64)> = r
                .iter()
                .map(|p| {
                    (
                        (p[0] * 1000.0).round() as i64,
                        (p[1] * 1000.0).round() as i64,
                    )
                })
                .collect();
            let i = (0..v.len()).min_by_key(|i| v[*i]).unwrap_or(0);
            let mut out = v[i..].to_vec();
            out.extend_from_slice(&v[..i]);
            out
        };
        let mut seen: BTreeMap<Vec<(i64, i64)>, usize> = BTreeMap::new();
        for (i, c) in cands.iter().enumerate() {
            let key = canon(&c.footprint);
            if let Some(j) = seen.get(&key) {
                dropped[i] = true;
                report.messages.push(format!(
                    "{}: the same footprint as {} (duplicate removed)",
                    c.source_id, cands[*j].source_id
                ));
            } else {
                seen.insert(key, i);
            }
        }
        // Heavy overlaps among heated candidates: a sweep over x.
        let bbox = |r: &[[f64; 2]]| {
            let mut b = [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ];
            for p in r {
                b[0] = b[0].min(p[0]);
                b[1] = b[1].min(p[1]);
                b[2] = b[2].max(p[0]);
                b[3] = b[3].max(p[1]);
            }
            b
        };
        let boxes: Vec<[f64; 4]> = cands.iter().map(|c| bbox(&c.footprint)).collect();
        let mut order: Vec<usize> = (0..cands.len())
            .filter(|i| !dropped[*i] && cands[*i].unheated.is_none())
            .collect();
        order.sort_by(|a, b| boxes[*a][0].total_cmp(&boxes[*b][0]).then(a.cmp(b)));
        let polys: BTreeMap<usize, Polygon<f64>> = order
            .iter()
            .map(|i| (*i, to_geo(&cands[*i].footprint, &[])))
            .collect();
        for (k, &i) in order.iter().enumerate() {
            for &j in &order[k + 1..] {
                if boxes[j][0] > boxes[i][2] {
                    break;
                }
                if dropped[i]
                    || dropped[j]
                    || boxes[j][1] > boxes[i][3]
                    || boxes[j][3] < boxes[i][1]
                {
                    continue;
                }
                let inter = polys[&i].intersection(&polys[&j]).unsigned_area();
                let (ai, aj) = (polys[&i].unsigned_area(), polys[&j].unsigned_area());
                let small = ai.min(aj);
                if small > 0.0 && inter > HEAVY_OVERLAP_SHARE * small {
                    let (drop, keep) = if ai < aj || (ai == aj && i > j) {
                        (i, j)
                    } else {
                        (j, i)
                    };
                    dropped[drop] = true;
                    report.messages.push(format!(
                        "{}: overlaps {} by {:.0} % of its area (the smaller dropped)",
                        cands[drop].source_id,
                        cands[keep].source_id,
                        100.0 * inter / small
                    ));
                }
            }
        }
    }
    let n_dup = dropped.iter().filter(|d| **d).count();
    report.buildings_skipped += n_dup;
    let cands: Vec<Cand> = cands
        .into_iter()
        .zip(dropped)
        .filter(|(_, d)| !d)
        .map(|(c, _)| c)
        .collect();

    // ---- attributes: own data first, then district medians ----
    struct Attr {
        floors: Option<(u32, Source, f64)>,
        use_: Option<BuildingUse>,
        year: Option<(i32, Source)>,
    }
    let attrs: Vec<Attr> = cands
        .iter()
        .map(|c| Attr {
            floors: attributes::floors_from_tags(&c.tags, c.model_height_m),
            use_: attributes::use_from_tags(&c.tags),
            year: attributes::year_from_tags(&c.tags),
        })
        .collect();
    let heated_idx: Vec<usize> = (0..cands.len())
        .filter(|i| cands[*i].unheated.is_none())
        .collect();
    let med_floors = attributes::median(
        &heated_idx
            .iter()
            .filter_map(|i| attrs[*i].floors.map(|f| f.0))
            .collect::<Vec<_>>(),
    );
    let med_year = attributes::median(
        &heated_idx
            .iter()
            .filter_map(|i| attrs[*i].year.map(|y| y.0))
            .collect::<Vec<_>>(),
    );
    let common_use = attributes::most_common_use(
        &heated_idx
            .iter()
            .filter_map(|i| attrs[*i].use_)
            .collect::<Vec<_>>(),
    );
    let calibration = Calibration::temperate();

    let mut out_buildings: Vec<Building> = Vec::new();
    let mut map: Vec<MapFeature> = Vec::new();
    let mut counts: BTreeMap<String, SourceCounts> = BTreeMap::new();
    let mut used_ids: BTreeSet<String> = BTreeSet::new();
    for (c, a) in cands.iter().zip(&attrs) {
        let (floors, floors_src, floor_h) = a.floors.unwrap_or((
            med_floors.unwrap_or(attributes::DEFAULT_FLOORS),
            Source::Defaulted,
            attributes::FLOOR_HEIGHT_M,
        ));
        if let Some(reason) = c.unheated {
            report.buildings_unheated += 1;
            report.messages.push(format!(
                "{}: {reason} (not heated: a map feature)",
                c.source_id
            ));
            map.push(MapFeature::Outbuilding {
                polygon: c.footprint.clone(),
                height_m: round_mm(floors as f64 * floor_h),
            });
            continue;
        }
        let (use_, use_src) = match a.use_ {
            Some(u) => (u, Source::Measured),
            None => (common_use, Source::Defaulted),
        };
        let (year, year_src) = a.year.unwrap_or_else(|| {
            (
                med_year.unwrap_or(attributes::DEFAULT_YEAR),
                Source::Defaulted,
            )
        });
        counts.entry("floors".into()).or_default().add(floors_src);
        counts.entry("use".into()).or_default().add(use_src);
        counts.entry("year".into()).or_default().add(year_src);
        let heated_area = (c.net_area_m2 * floors as f64 * HEATED_SHARE * 100.0).round() / 100.0;
        let size = size_class(heated_area, floors);
        let q = typology.specific_heat_kwh_m2a(use_, size, year);
        let u = calibration.heat_loss_w_m2k(use_, q);
        let h = (u * heated_area * 1000.0).round() / 1000.0;
        let mut id = building_id(&c.source_id);
        if !used_ids.insert(id.clone()) {
            let mut k = 2;
            while used_ids.contains(&format!("{id}_{k}")) {
                k += 1;
            }
            report
                .messages
                .push(format!("{}: id {id} taken, renamed {id}_{k}", c.source_id));
            id = format!("{id}_{k}");
            used_ids.insert(id.clone());
        }
        out_buildings.push(Building {
            id,
            footprint: c.footprint.clone(),
            floors,
            floor_height_m: floor_h,
            use_,
            heated_area_m2: Some(heated_area),
            envelope: Envelope::HeatLossWK(h),
            hot_water_share: 0.2,
            absorption_cooling_peak_w: 0.0,
            node: None,
            bus: None,
            return_temp_c: None,
            provenance: Some(Provenance {
                source_id: c.source_id.clone(),
                floors: floors_src,
                use_: use_src,
                year_built: year,
                year: year_src,
                specific_heat_kwh_m2a: q,
            }),
            construction: None,
        });
    }
    report.buildings_heated = out_buildings.len();
    if out_buildings.is_empty() {
        return Err(ImportError::Other(format!(
            "no heated buildings in {} ({} read, {} unheated, {} skipped)",
            files.join(", "),
            report.buildings_read,
            report.buildings_unheated,
            report.buildings_skipped
        )));
    }

    // ---- streets and other lines ----
    let mut streets: Vec<Street> = Vec::new();
    let mut sorted_lines = lines;
    sorted_lines.sort_by_cached_key(|l| id_key(&building_id(&l.source_id)));
    for l in sorted_lines {
        let mut pts: Vec<[f64; 2]> = Vec::new();
        for p in l.points.iter().filter(|p| finite(p)) {
            let q = round_point_mm(tm.to_local(p[0], p[1]));
            if pts.last() != Some(&q) {
                pts.push(q);
            }
        }
        let class = l.tags.get("highway").cloned();
        let water = l.tags.get("waterway").cloned();
        if pts.len() < 2 {
            report.messages.push(format!(
                "{}: fewer than 2 distinct points (skipped)",
                l.source_id
            ));
            continue;
        }
        if let Some(class) = class {
            match street_width_m(&class) {
                Some(w) => {
                    let width = l
                        .tags
                        .get("width")
                        .and_then(|s| attributes::parse_length_m(s))
                        .filter(|w| (2.0..=60.0).contains(w))
                        .unwrap_or(w);
                    streets.push(Street {
                        source_id: l.source_id.clone(),
                        points: pts,
                        class,
                        width_m: width,
                    });
                }
                None => report.lines_not_streets += 1,
            }
        } else if let Some(w) = water {
            let width = match w.as_str() {
                "river" => 15.0,
                "canal" => 10.0,
                "stream" => 3.0,
                _ => continue,
            };
            map.push(MapFeature::River {
                points: pts,
                width_m: width,
            });
        }
    }
    report.streets_read = streets.len();

    // ---- parks and water ----
    let mut sorted_areas = areas;
    sorted_areas.sort_by_cached_key(|a| id_key(&building_id(&a.source_id)));
    for a in sorted_areas {
        let mut notes = Vec::new();
        let Some(ring) = a
            .outers
            .first()
            .and_then(|r| clean_ring(&tm, r, &mut notes))
        else {
            continue;
        };
        let t = |k: &str| a.tags.get(k).map(String::as_str);
        let water = t("natural") == Some("water")
            || t("water").is_some()
            || matches!(t("landuse"), Some("basin" | "reservoir"));
        map.push(if water {
            MapFeature::Water { polygon: ring }
        } else {
            MapFeature::Park { polygon: ring }
        });
    }
    report.map_features = map.len();
    report.sources = counts;
    Ok(District {
        georef: tm.georef(),
        buildings: out_buildings,
        streets,
        map,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_their_order() {
        assert_eq!(building_id("way/4711"), "w4711");
        assert_eq!(building_id("relation/12"), "r12");
        assert_eq!(building_id("feature 7"), "feature_7");
        let mut ids = vec!["w10", "r2", "w9", "w100"];
        ids.sort_by_key(|i| id_key(i));
        assert_eq!(ids, vec!["r2", "w9", "w10", "w100"]);
    }

    #[test]
    fn detection_by_content_then_name() {
        assert_eq!(
            detect("x", b"  <?xml version='1.0'?><osm/>"),
            Some(Format::Osm)
        );
        assert_eq!(detect("x", b"<osm version='0.6'/>"), Some(Format::Osm));
        assert_eq!(
            detect("x", b"{\"type\":\"CityJSON\",\"version\":\"2.0\"}"),
            Some(Format::CityJson)
        );
        assert_eq!(
            detect("x", b"{\"type\":\"FeatureCollection\",\"features\":[]}"),
            Some(Format::GeoJson)
        );
        let mut pbf = vec![0, 0, 0, 13, 0x0a, 9];
        pbf.extend_from_slice(b"OSMHeader\x18\x7b");
        pbf.extend_from_slice(&[0; 8]);
        assert_eq!(detect("x", &pbf), Some(Format::Pbf));
        assert_eq!(detect("a.osm.pbf", b"??"), Some(Format::Pbf));
        assert_eq!(detect("a.txt", b"hello"), None);
    }

    fn raw_square(lon: f64, lat: f64, d: f64) -> RawFeatures {
        RawFeatures {
            buildings: vec![RawArea {
                source_id: "feature 1".into(),
                outers: vec![vec![
                    [lon, lat],
                    [lon + d, lat],
                    [lon + d, lat + d],
                    [lon, lat + d],
                ]],
                holes: vec![],
                model_height_m: Some(9.0),
                tags: [("building".to_string(), "house".to_string())].into(),
            }],
            ..Default::default()
        }
    }

    /// Projected coordinates and swapped axes from any reader are explained.
    #[test]
    fn projected_and_swapped_coordinates_are_explained() {
        let o = ReadOptions::default();
        let e = finish(
            raw_square(293_456.0, 5_629_871.0, 10.0),
            &o,
            vec![],
            "geojson",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("look projected") && e.contains("--crs EPSG:"),
            "{e}"
        );
        let e = finish(raw_square(50.78, 116.39, 0.0002), &o, vec![], "geojson")
            .unwrap_err()
            .to_string();
        assert!(e.contains("latitude and longitude look swapped"), "{e}");
        // The same square the right way round: one building, floors from the model height.
        let d = finish(
            raw_square(116.39, 39.9, 0.0002),
            &o,
            vec!["x".into()],
            "geojson",
        )
        .unwrap();
        assert_eq!(d.buildings.len(), 1);
        assert_eq!(d.buildings[0].id, "feature_1");
        assert_eq!(d.buildings[0].floors, 3);
        assert_eq!(d.georef.origin_lon_deg, 116.3901);
        assert_eq!(d.georef.origin_lat_deg, 39.9001);
        // Round trip of a corner through the scene plane, within 1 cm.
        let tm = LocalTm::from_georef(&d.georef);
        let corner = d.buildings[0]
            .footprint
            .iter()
            .find(|p| p[0] < 0.0 && p[1] < 0.0)
            .unwrap();
        let ll = tm.to_lonlat(*corner);
        let back = tm.to_local(116.39, 39.9);
        assert!((back[0] - corner[0]).abs() < 0.01 && (back[1] - corner[1]).abs() < 0.01);
        assert!((ll[0] - 116.39).abs() < 1e-7 && (ll[1] - 39.9).abs() < 1e-7);
    }

    #[test]
    fn street_widths() {
        assert_eq!(street_width_m("residential"), Some(7.0));
        assert_eq!(street_width_m("primary_link"), Some(7.0));
        assert_eq!(street_width_m("service"), Some(4.5));
        assert_eq!(street_width_m("footway"), None);
        assert_eq!(street_width_m("cycleway"), None);
        assert_eq!(street_width_m("steps"), None);
        assert_eq!(street_width_m("pedestrian"), None);
    }

    #[test]
    fn rings_cleaned_and_bow_ties_repaired() {
        let tm = LocalTm::new(6.0, 50.0);
        let d = 0.0002; // ~14 m of latitude
        let mut notes = Vec::new();
        // Clockwise, unclosed, one repeated point.
        let cw = [
            [6.0, 50.0],
            [6.0, 50.0 + d],
            [6.0, 50.0 + d],
            [6.0 + d, 50.0 + d],
            [6.0 + d, 50.0],
        ];
        let r = clean_ring(&tm, &cw, &mut notes).unwrap();
        assert_eq!(r.len(), 4);
        assert!(signed_area(&r) > 0.0);
        assert_eq!(notes, vec!["ring closed", "repeated points dropped"]);
        // A bow-tie: its convex hull, the square.
        let bow = [[0.0, 0.0], [10.0, 10.0], [10.0, 0.0], [0.0, 10.0]];
        assert!(!to_geo(&bow, &[]).is_valid());
        let (fixed, what) = repair(&bow).unwrap();
        assert!(what.contains("convex hull"), "{what}");
        assert!((signed_area(&fixed) - 100.0).abs() < 1e-9, "{fixed:?}");
        // Too few points.
        let mut notes = Vec::new();
        assert!(
            clean_ring(
                &tm,
                &[[6.0, 50.0], [6.0, 50.0], [f64::NAN, 1.0]],
                &mut notes
            )
            .is_none()
        );
    }
}

//! `qtwin import`: real district data (OpenStreetMap XML/PBF, GeoJSON, CityJSON) to a scene.
//!
//! The pipeline has two halves that meet at [`District`]:
//! 1. **Reading** ([`read`]): parse the files (format detected by content), project every
//!    coordinate onto the scene's local plane ([`geo::LocalTm`]), repair or skip bad geometry,
//!    derive each building's floors, use, year of construction and envelope (typology table), and
//!    record how each value was obtained ([`Provenance`]). Streets come out as polylines with
//!    their class.
//! 2. **Layout** ([`layout`]): the street graph, each building's service connection, the heat
//!    network as a Steiner tree over the streets, pipe sizing, plants, quantum sites and the
//!    electrical grid, assembled into a [`crate::scene::Scene`] that passes `qtwin check`.
//!
//! Both halves are deterministic (no hash-map iteration order reaches the output; coordinates are
//! rounded to millimetres), so the same input gives the same RON bytes on every platform.

pub mod attributes;
pub mod cityjson;
pub mod crs;
pub mod export;
pub mod geo;
pub mod geojson;
pub mod layout;
pub mod osm;
pub mod pbf;
pub mod read;
pub mod steiner;
pub mod streets;
pub mod typology;

use serde::{Deserialize, Serialize};

#[cfg(not(target_arch = "wasm32"))]
pub use read::read_paths;
pub use read::{finish, read_files};

use crate::scene::{Building, GeoRef, MapFeature};

pub use crate::scene::Source;

/// One street of the input, in scene metres.
#[derive(Debug, Clone, PartialEq)]
pub struct Street {
    /// Where it came from, e.g. `way/4711` or `feature 12`.
    pub source_id: String,
    /// The polyline, m (at least two distinct points).
    pub points: Vec<[f64; 2]>,
    /// The `highway=*` class (or the GeoJSON attribute mapped to it).
    pub class: String,
    /// Carriageway width for the view, m.
    pub width_m: f64,
}

/// A district read from files, on the scene's local plane: what [`layout`] turns into a scene.
#[derive(Debug, Clone, PartialEq)]
pub struct District {
    /// Origin and projection of the local plane.
    pub georef: GeoRef,
    /// Heated buildings, ready for the scene except `node` and `bus` (set by the layout): sorted
    /// by id (`r12`, `w9`, `w10`: kind, then number), envelope `HeatLossWK` from the typology,
    /// `heated_area_m2` and `provenance` set.
    pub buildings: Vec<Building>,
    /// Streets that may carry pipes (drivable and service classes; no footways).
    pub streets: Vec<Street>,
    /// Map features drawn but not heated: garages, sheds, small footprints
    /// ([`MapFeature::Outbuilding`]), parks, water, rivers. The streets are not repeated here
    /// (the layout draws them from [`District::streets`]).
    pub map: Vec<MapFeature>,
    /// What the reader did: counts, repairs, skips, defaults (goes into the import report).
    pub report: ReadReport,
}

/// What reading did, for the import report (`--report import.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadReport {
    pub files: Vec<String>,
    pub format: String,
    pub buildings_read: usize,
    pub buildings_heated: usize,
    pub buildings_unheated: usize,
    pub streets_read: usize,
    /// One line per repaired, skipped or suspicious object: `"way/123: ring closed"`.
    pub messages: Vec<String>,
    /// Buildings in the input that were skipped (unusable geometry, duplicates, overlaps).
    #[serde(default)]
    pub buildings_skipped: usize,
    /// Footprints repaired (ring closed, self-intersection resolved, repeated points dropped).
    #[serde(default)]
    pub buildings_repaired: usize,
    /// Lines that are not pipe routes (footways, paths, cycleways, steps, …) and were dropped.
    #[serde(default)]
    pub lines_not_streets: usize,
    /// Map features written (parks, water, rivers, outbuildings).
    #[serde(default)]
    pub map_features: usize,
    /// How each attribute of the heated buildings was obtained: `floors`, `use`, `year`.
    #[serde(default)]
    pub sources: std::collections::BTreeMap<String, SourceCounts>,
    /// The typology table used (`assets/typology/tabula_de.csv` or the file given).
    #[serde(default)]
    pub typology: String,
}

/// How many values of one attribute were measured, derived and defaulted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCounts {
    pub measured: usize,
    pub derived: usize,
    pub defaulted: usize,
}

impl SourceCounts {
    pub fn add(&mut self, s: Source) {
        match s {
            Source::Measured => self.measured += 1,
            Source::Derived => self.derived += 1,
            Source::Defaulted => self.defaulted += 1,
        }
    }
    /// Shares (measured, derived, defaulted), each 0–1 (all 0 when there are no values).
    pub fn shares(&self) -> [f64; 3] {
        let n = (self.measured + self.derived + self.defaulted) as f64;
        if n == 0.0 {
            return [0.0; 3];
        }
        [
            self.measured as f64 / n,
            self.derived as f64 / n,
            self.defaulted as f64 / n,
        ]
    }
}

/// The input format; `Auto` detects it from the content (then the extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Auto,
    Osm,
    Pbf,
    GeoJson,
    CityJson,
}

/// What the reader is asked to do (the `qtwin import` flags that concern reading).
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub format: Format,
    /// Coordinate reference system of projected input, e.g. `EPSG:28992` (default: WGS84, or
    /// the CRS a CityJSON file names).
    pub crs: Option<String>,
    /// Keep only objects inside this box: min lon, min lat, max lon, max lat (WGS84).
    pub bbox: Option<[f64; 4]>,
    /// Keep only objects inside this polygon (WGS84 lon/lat ring), e.g. from `--clip area.geojson`.
    pub clip: Option<Vec<[f64; 2]>>,
    /// A typology table (CSV) replacing the shipped one.
    pub typology_csv: Option<String>,
    /// Attribute mapping `floors=COLUMN,...` for GeoJSON input.
    pub map: Vec<(String, String)>,
    /// Stop with a clear error past this many buildings.
    pub max_buildings: Option<usize>,
}

/// Why an import failed: always says where (file, and position where there is one) and what.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {msg}")]
    File { file: String, msg: String },
    #[error("{file}:{line}:{col}: {msg}")]
    At {
        file: String,
        line: usize,
        col: usize,
        msg: String,
    },
    #[error("{0}")]
    Other(String),
}

/// Tags of an object, OpenStreetMap style (`building`, `building:levels`, `height`,
/// `start_date`, `highway`, …). Readers of other formats map their attributes onto these names
/// (GeoJSON presets and `--map`, CityJSON attributes), so one set of rules derives every value.
pub type Tags = std::collections::BTreeMap<String, String>;

/// A building or area as read, before projection and derivation: WGS84 longitude/latitude,
/// degrees. Readers of projected data reproject to WGS84 first.
#[derive(Debug, Clone, PartialEq)]
pub struct RawArea {
    /// Stable id in the source: `way/4711`, `relation/12`, `feature 7`, or the CityJSON key.
    pub source_id: String,
    /// Outer rings (a multipolygon has several), each `[lon, lat]`, as read (maybe unclosed,
    /// maybe with repeated points: the common finishing step repairs or skips them).
    pub outers: Vec<Vec<[f64; 2]>>,
    /// Inner rings (holes).
    pub holes: Vec<Vec<[f64; 2]>>,
    /// Height of the object from a 3D model, m, where the format gives geometry in 3D.
    pub model_height_m: Option<f64>,
    pub tags: Tags,
}

/// A line (street, river) as read: WGS84 `[lon, lat]` points.
#[derive(Debug, Clone, PartialEq)]
pub struct RawLine {
    pub source_id: String,
    pub points: Vec<[f64; 2]>,
    pub tags: Tags,
}

/// Everything a reader found, in WGS84, before the common finishing step
/// (projection, repair, derivation of floors, use, year and envelope).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawFeatures {
    /// Objects with a `building` (or `building:part`) tag.
    pub buildings: Vec<RawArea>,
    /// Other areas worth drawing (parks, water): `leisure`, `landuse`, `natural` tags.
    pub areas: Vec<RawArea>,
    /// Lines with a `highway` or `waterway` tag.
    pub lines: Vec<RawLine>,
    /// What the reader repaired or skipped, one line each.
    pub messages: Vec<String>,
}

/// A scene straight from district data with the default options (`qtwin view district.osm`, a
/// file dropped on the browser page): `None` when the file is not one of the import formats
/// (a RON scene, say), else the imported scene or why the import failed.
pub fn scene_from_file(
    name: &str,
    bytes: Vec<u8>,
) -> Option<Result<(crate::scene::Scene, layout::LayoutReport), ImportError>> {
    read::detect(name, &bytes)?;
    let stem = name.rsplit(['/', '\\']).next().unwrap_or(name).to_string();
    let files = [(name.to_string(), bytes)];
    Some(
        read::read_files(&files, &ReadOptions::default()).and_then(|d| {
            layout::layout(
                d,
                &layout::LayoutOptions {
                    name: format!("Imported district ({stem})"),
                    ..Default::default()
                },
            )
        }),
    )
}

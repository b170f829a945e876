//! GeoJSON reader: FeatureCollections from QGIS, overpass-turbo and CityEnergyAnalyst to
//! [`RawFeatures`] (WGS84 longitude/latitude, OpenStreetMap-style tags).
//!
//! Parsed with `serde_json` into a value tree and walked by hand rather than with the `geojson`
//! crate: a file that does not parse reports its name, line, column and what was expected (serde's
//! position), and one bad feature is skipped with a line in the report instead of failing the
//! whole collection (the `geojson` crate rejects the collection).
//!
//! **Geometry.** Polygon and MultiPolygon become areas (first ring of each polygon an outer, the
//! others holes); LineString and MultiLineString lines (one per part); a closed LineString with a
//! `building` tag a building; GeometryCollections are read member by member; Points and
//! MultiPoints are ignored (counted in the report). Positions may carry a third value (ignored).
//!
//! **Attributes** become tags by presets:
//! - OpenStreetMap tag names as they are (`building`, `building:levels`, `height`, `start_date`,
//!   `highway`, …), also when overpass-turbo nests them under `tags`; ids from the feature's `id`
//!   or the properties' `@id`/`id` (`way/123`); keys starting with `@` are metadata.
//! - CityEnergyAnalyst `zone` files (recognised by a `floors_ag` or `height_ag` column):
//!   `Name` → id and `name`, `floors_ag` → `building:levels`, `height_ag` → `height` (m), `YEAR`
//!   (or `year`) → `start_date`, `1ST_USE` (or `use_type1`) → `building` by [`cea_use`]; every
//!   polygon is a building.
//! - `--map KEY=COLUMN` pairs ([`MAP_KEYS`]): `floors`/`levels` → `building:levels`,
//!   `roof_levels` → `roof:levels`, `height` → `height`, `year` → `start_date`, `use` →
//!   `building`, `name` → `name`, `id` → the source id, `highway` → `highway`. Mapping any of
//!   floors, levels, height, year or use makes every polygon a building. Columns match exactly,
//!   else ignoring case (shapefiles upper-case them). Mapped numbers may be strings (`"4"`,
//!   `"12,5"`, as QGIS writes them) and are checked (floors 0–200, height 0–1000 m, year
//!   1000–2100): a value outside is dropped with a line in the report.
//!
//! **Which features are buildings:** those with a `building` (or `building:part`) tag, and every
//! polygon of a CEA zone file or when `--map` maps a building attribute; other polygons with a
//! `leisure`, `landuse`, `natural` or `water` tag are areas; lines with `highway` or `waterway`
//! are lines; everything else is counted and ignored.
//!
//! **Coordinates.** RFC 7946 WGS84 longitude/latitude, unless `--crs` names another CRS or the
//! file carries the legacy (2008) member `"crs": {"type": "name", "properties": {"name":
//! "urn:ogc:def:crs:EPSG::25832"}}`; then reprojected by [`super::crs`]. A file without a CRS whose
//! coordinates are mostly outside longitude/latitude ranges is refused with a message that says
//! it looks projected and to pass `--crs EPSG:n`; a few such coordinates skip their features.

use serde_json::{Map, Value};

use super::crs::Reprojector;
use super::{ImportError, RawArea, RawFeatures, RawLine, ReadOptions, Tags};

/// The keys `--map KEY=COLUMN` accepts.
pub const MAP_KEYS: &[&str] = &[
    "floors",
    "levels",
    "roof_levels",
    "height",
    "year",
    "use",
    "name",
    "id",
    "highway",
];

/// Reads a GeoJSON file (`name` for messages) into WGS84 features with OSM-style tags.
pub fn read(name: &str, bytes: &[u8], opts: &ReadOptions) -> Result<RawFeatures, ImportError> {
    let root = parse_json(name, bytes)?;
    let file_err = |msg: String| ImportError::File {
        file: name.to_string(),
        msg,
    };
    let obj = root.as_object().ok_or_else(|| {
        file_err(format!(
            "expected a GeoJSON object {{\"type\": \"FeatureCollection\", …}}, found {}",
            kind_of(&root)
        ))
    })?;
    let ty = obj.get("type").and_then(Value::as_str).ok_or_else(|| {
        file_err("not GeoJSON: the top-level object has no \"type\" member".into())
    })?;
    // The features, as (feature object, geometry, properties).
    let single;
    let features: Vec<&Value> = match ty {
        "FeatureCollection" => match obj.get("features") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(v) => {
                return Err(file_err(format!(
                    "\"features\" must be an array, found {}",
                    kind_of(v)
                )));
            }
            None => return Err(file_err("FeatureCollection without \"features\"".into())),
        },
        "Feature" => vec![&root],
        t if GEOMETRY_TYPES.contains(&t) => {
            single = Value::Object(Map::from_iter([
                ("type".to_string(), Value::String("Feature".into())),
                ("geometry".to_string(), root.clone()),
            ]));
            vec![&single]
        }
        t => {
            return Err(file_err(format!(
                "GeoJSON type \"{t}\" not understood: expected FeatureCollection, Feature or a \
                 geometry"
            )));
        }
    };

    let mapping = Mapping::new(name, &opts.map, &features)?;
    let reproject = match (&opts.crs, legacy_crs(obj)) {
        (Some(c), _) => Some(Reprojector::from_crs(c).map_err(|e| file_err(e.to_string()))?),
        (None, Some(c)) => Some(
            Reprojector::from_crs(&c).map_err(|e| file_err(format!("its \"crs\" member: {e}")))?,
        ),
        (None, None) => None,
    }
    // WGS84 named explicitly: checked like a file that names no CRS.
    .filter(|r| !r.is_identity());

    let mut out = RawFeatures::default();
    let mut counts = Counts::default();
    let mut unprojected_bad = 0usize;
    let mut first_bad: Option<[f64; 2]> = None;
    for (i, f) in features.iter().enumerate() {
        let Some(fo) = f.as_object() else {
            out.messages.push(format!(
                "feature {i}: not an object ({}), skipped",
                kind_of(f)
            ));
            continue;
        };
        if fo.get("type").and_then(Value::as_str) != Some("Feature") {
            out.messages
                .push(format!("feature {i}: \"type\" is not \"Feature\", skipped"));
            continue;
        }
        let (id, tags, is_building_file) = mapping.tags_of(i, fo, &mut out.messages);
        let Some(geom) = fo.get("geometry").filter(|g| !g.is_null()) else {
            counts.no_geometry += 1;
            continue;
        };
        let mut polys: Vec<Vec<Vec<[f64; 2]>>> = Vec::new();
        let mut lines: Vec<Vec<[f64; 2]>> = Vec::new();
        if let Err(msg) = collect_geometry(geom, &mut polys, &mut lines, &mut counts, 0) {
            out.messages.push(format!("{id}: {msg}; skipped"));
            continue;
        }
        // A closed LineString tagged as a building is its outline.
        if polys.is_empty() && tags.contains_key("building") {
            for l in std::mem::take(&mut lines) {
                if l.len() >= 4 && l.first() == l.last() {
                    polys.push(vec![l]);
                } else {
                    lines.push(l);
                }
            }
        }
        // Coordinates to WGS84.
        let convert = |pts: &mut Vec<[f64; 2]>| -> Result<(), String> {
            for p in pts.iter_mut() {
                match &reproject {
                    Some(r) => *p = r.to_wgs84(p[0], p[1]).map_err(|e| e.to_string())?,
                    None => {
                        if !(p[0].abs() <= 180.0 && p[1].abs() <= 90.0) {
                            return Err(format!(
                                "coordinate ({}, {}) is not a longitude/latitude",
                                p[0], p[1]
                            ));
                        }
                    }
                }
            }
            Ok(())
        };
        let mut bad = None;
        for ring in polys.iter_mut().flatten().chain(lines.iter_mut()) {
            if let Err(m) = convert(ring) {
                if reproject.is_none() && first_bad.is_none() {
                    first_bad = ring
                        .iter()
                        .copied()
                        .find(|p| !(p[0].abs() <= 180.0 && p[1].abs() <= 90.0));
                }
                bad = Some(m);
                break;
            }
        }
        if let Some(m) = bad {
            if reproject.is_none() {
                unprojected_bad += 1;
            }
            out.messages.push(format!("{id}: {m}; skipped"));
            continue;
        }
        counts.with_geometry += 1;

        let building = ["building", "building:part"]
            .iter()
            .any(|k| tags.get(*k).is_some_and(|v| v != "no"));
        if !polys.is_empty() {
            let is_area = ["leisure", "landuse", "natural", "water"]
                .iter()
                .any(|k| tags.contains_key(*k));
            let mut tags = tags.clone();
            let target = if building {
                Some(true)
            } else if is_area {
                Some(false)
            } else if is_building_file && tags.get("building").is_none_or(|v| v != "no") {
                tags.insert("building".into(), "yes".into());
                Some(true)
            } else {
                None
            };
            match target {
                Some(is_b) => {
                    let mut area = RawArea {
                        source_id: id.clone(),
                        outers: Vec::new(),
                        holes: Vec::new(),
                        model_height_m: None,
                        tags,
                    };
                    for mut poly in polys {
                        let mut rings = poly.drain(..);
                        if let Some(o) = rings.next() {
                            area.outers.push(o);
                        }
                        area.holes.extend(rings);
                    }
                    if is_b {
                        out.buildings.push(area);
                        if let Some(max) = opts.max_buildings
                            && out.buildings.len() > max
                        {
                            return Err(file_err(format!(
                                "more than {max} buildings (--max-buildings {max}); clip the \
                                 input with --bbox or --clip, or raise the limit"
                            )));
                        }
                    } else {
                        out.areas.push(area);
                    }
                }
                None => counts.untagged_polygons += 1,
            }
        }
        if !lines.is_empty() {
            if tags.contains_key("highway") || tags.contains_key("waterway") {
                let n = lines.len();
                for (k, points) in lines.into_iter().enumerate() {
                    out.lines.push(RawLine {
                        source_id: if n == 1 {
                            id.clone()
                        } else {
                            format!("{id} part {k}")
                        },
                        points,
                        tags: tags.clone(),
                    });
                }
            } else {
                counts.untagged_lines += 1;
            }
        }
    }
    if reproject.is_none()
        && unprojected_bad > 0
        && unprojected_bad * 2 > counts.with_geometry + unprojected_bad
    {
        let eg = first_bad
            .map(|p| format!(" (e.g. {}, {})", p[0], p[1]))
            .unwrap_or_default();
        return Err(file_err(format!(
            "the file looks projected: {unprojected_bad} features have coordinates outside \
             longitude/latitude ranges{eg} and it names no CRS; pass --crs EPSG:n with its \
             coordinate reference system (e.g. EPSG:25832 for ETRS89 / UTM 32N, EPSG:28992 for \
             the Dutch RD New)"
        )));
    }
    counts.report(&mut out.messages);
    Ok(out)
}

/// The GeoJSON geometry types.
const GEOMETRY_TYPES: &[&str] = &[
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
];

/// Parses JSON, reporting a syntax error with its line and column. Shared with the CityJSON
/// reader.
pub(super) fn parse_json(name: &str, bytes: &[u8]) -> Result<Value, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    serde_json::from_slice(bytes).map_err(|e| json_error(name, &e, 0))
}

/// A serde_json error as an [`ImportError::At`], its line shifted by `line_offset`.
pub(super) fn json_error(name: &str, e: &serde_json::Error, line_offset: usize) -> ImportError {
    let full = e.to_string();
    // serde_json appends " at line L column C"; the position goes into the error's own fields.
    let what = match full.rfind(" at line ") {
        Some(k) => &full[..k],
        None => full.as_str(),
    };
    let msg = match e.classify() {
        serde_json::error::Category::Eof => {
            format!("not valid JSON: {what} (the file is cut short)")
        }
        _ => format!("not valid JSON: {what}"),
    };
    ImportError::At {
        file: name.to_string(),
        line: e.line() + line_offset,
        col: e.column(),
        msg,
    }
}

/// What a JSON value is, for messages.
pub(super) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The CRS a legacy `crs` member names (`{"type": "name", "properties": {"name": …}}`, or the
/// 2008 draft's `{"type": "EPSG", "properties": {"code": n}}`).
fn legacy_crs(obj: &Map<String, Value>) -> Option<String> {
    let crs = obj.get("crs")?.as_object()?;
    let props = crs.get("properties")?.as_object()?;
    if let Some(n) = props.get("name").and_then(Value::as_str) {
        return Some(n.to_string());
    }
    match props.get("code") {
        Some(Value::Number(n)) => Some(format!("EPSG:{n}")),
        Some(Value::String(s)) => Some(format!("EPSG:{s}")),
        _ => None,
    }
}

/// Counts for the report's summary lines.
#[derive(Default)]
struct Counts {
    points: usize,
    no_geometry: usize,
    with_geometry: usize,
    untagged_polygons: usize,
    untagged_lines: usize,
}

impl Counts {
    fn report(&self, m: &mut Vec<String>) {
        if self.points > 0 {
            m.push(format!(
                "{} points ignored (buildings are read from polygons, streets from lines)",
                self.points
            ));
        }
        if self.no_geometry > 0 {
            m.push(format!(
                "{} features without geometry ignored",
                self.no_geometry
            ));
        }
        if self.untagged_polygons > 0 {
            m.push(format!(
                "{} polygons without a building, landuse, leisure or natural tag ignored (map a \
                 column with --map use=COLUMN to read them as buildings)",
                self.untagged_polygons
            ));
        }
        if self.untagged_lines > 0 {
            m.push(format!(
                "{} lines without a highway or waterway tag ignored (--map highway=COLUMN reads \
                 a street class)",
                self.untagged_lines
            ));
        }
    }
}

/// Collects a geometry's polygons (rings) and lines, in source coordinates.
fn collect_geometry(
    g: &Value,
    polys: &mut Vec<Vec<Vec<[f64; 2]>>>,
    lines: &mut Vec<Vec<[f64; 2]>>,
    counts: &mut Counts,
    depth: usize,
) -> Result<(), String> {
    let go = g
        .as_object()
        .ok_or_else(|| format!("geometry is {}, not an object", kind_of(g)))?;
    let ty = go
        .get("type")
        .and_then(Value::as_str)
        .ok_or("geometry without \"type\"")?;
    if ty == "GeometryCollection" {
        if depth > 8 {
            return Err("GeometryCollections nested too deep".into());
        }
        let members = go
            .get("geometries")
            .and_then(Value::as_array)
            .ok_or("GeometryCollection without \"geometries\" array")?;
        for m in members {
            collect_geometry(m, polys, lines, counts, depth + 1)?;
        }
        return Ok(());
    }
    let c = go
        .get("coordinates")
        .ok_or_else(|| format!("{ty} without \"coordinates\""))?;
    match ty {
        "Point" | "MultiPoint" => counts.points += 1,
        "LineString" => lines.push(positions(c, "coordinates")?),
        "MultiLineString" => {
            for (k, l) in array(c, "coordinates")?.iter().enumerate() {
                lines.push(positions(l, &format!("coordinates[{k}]"))?);
            }
        }
        "Polygon" => polys.push(rings(c, "coordinates")?),
        "MultiPolygon" => {
            for (k, p) in array(c, "coordinates")?.iter().enumerate() {
                polys.push(rings(p, &format!("coordinates[{k}]"))?);
            }
        }
        t => return Err(format!("geometry type \"{t}\" not understood")),
    }
    Ok(())
}

fn array<'a>(v: &'a Value, at: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("{at} is {}, expected an array", kind_of(v)))
}

fn rings(v: &Value, at: &str) -> Result<Vec<Vec<[f64; 2]>>, String> {
    array(v, at)?
        .iter()
        .enumerate()
        .map(|(k, r)| positions(r, &format!("{at}[{k}]")))
        .collect()
}

fn positions(v: &Value, at: &str) -> Result<Vec<[f64; 2]>, String> {
    array(v, at)?
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let xy = p.as_array().and_then(|a| {
                Some([a.first()?.as_f64()?, a.get(1)?.as_f64()?]).filter(|_| a.len() <= 4)
            });
            xy.filter(|xy| xy[0].is_finite() && xy[1].is_finite())
                .ok_or_else(|| format!("{at}[{k}] is not a position [x, y]"))
        })
        .collect()
}

/// How a file's attributes become tags: the presets and `--map`.
struct Mapping {
    /// `--map` pairs: (key, column).
    map: Vec<(String, String)>,
    /// A CityEnergyAnalyst zone file.
    cea: bool,
    /// Every polygon is a building (CEA, or `--map` maps a building attribute).
    all_polygons_buildings: bool,
}

impl Mapping {
    fn new(
        name: &str,
        pairs: &[(String, String)],
        features: &[&Value],
    ) -> Result<Self, ImportError> {
        let mut map = Vec::new();
        for (k, col) in pairs {
            let key = k.trim().to_ascii_lowercase();
            if !MAP_KEYS.contains(&key.as_str()) {
                return Err(ImportError::Other(format!(
                    "--map {k}={col}: unknown key \"{k}\"; known keys: {}",
                    MAP_KEYS.join(", ")
                )));
            }
            if col.trim().is_empty() {
                return Err(ImportError::Other(format!("--map {k}=: no column named")));
            }
            map.push((key, col.trim().to_string()));
        }
        fn props<'a>(f: &&'a Value) -> Option<&'a Map<String, Value>> {
            f.get("properties").and_then(Value::as_object)
        }
        // A mapped column that no feature has is a typing error: say which columns there are.
        for (k, col) in &map {
            let found = features
                .iter()
                .filter_map(props)
                .any(|p| find_column(p, col).is_some());
            if !found && !features.is_empty() {
                let mut seen: Vec<String> = features
                    .iter()
                    .take(100)
                    .filter_map(props)
                    .flat_map(|p| p.keys().cloned())
                    .collect();
                seen.sort();
                seen.dedup();
                seen.truncate(40);
                return Err(ImportError::File {
                    file: name.to_string(),
                    msg: format!(
                        "--map {k}={col}: no feature has a property \"{col}\" (properties: {})",
                        seen.join(", ")
                    ),
                });
            }
        }
        let cea = features.iter().take(1000).any(|f| {
            f.get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| p.contains_key("floors_ag") || p.contains_key("height_ag"))
        });
        let all_polygons_buildings = cea
            || map
                .iter()
                .any(|(k, _)| ["floors", "levels", "height", "year", "use"].contains(&k.as_str()));
        Ok(Mapping {
            map,
            cea,
            all_polygons_buildings,
        })
    }

    /// The source id and tags of feature `i`, and whether its polygons are buildings regardless
    /// of tags.
    fn tags_of(
        &self,
        i: usize,
        f: &Map<String, Value>,
        messages: &mut Vec<String>,
    ) -> (String, Tags, bool) {
        let empty = Map::new();
        let props = f
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut tags = Tags::new();
        let mut put = |k: &str, v: &Value| {
            if let Some(s) = value_text(v) {
                tags.insert(k.to_string(), s);
            }
        };
        for (k, v) in props {
            if k.starts_with('@') || k == "id" || k == "tags" {
                continue;
            }
            put(k, v);
        }
        // overpass-turbo (osmtogeojson) nests the OSM tags under `tags`.
        if let Some(nested) = props.get("tags").and_then(Value::as_object) {
            for (k, v) in nested {
                put(k, v);
            }
        }
        let mut id = [f.get("id"), props.get("@id"), props.get("id")]
            .into_iter()
            .flatten()
            .find_map(value_text)
            .unwrap_or_else(|| format!("feature {i}"));
        // CEA `zone` columns: their names are not OSM tags.
        if self.cea {
            for col in [
                "Name",
                "floors_ag",
                "floors_bg",
                "height_ag",
                "height_bg",
                "YEAR",
                "year",
                "1ST_USE",
                "use_type1",
                "REFERENCE",
                "reference",
            ] {
                tags.remove(col);
            }
            if let Some(n) = props.get("Name").and_then(value_text) {
                id = n.clone();
                tags.insert("name".into(), n);
            }
            if let Some(v) = props.get("floors_ag") {
                self.set_number(&mut tags, "building:levels", "floors_ag", v, &id, messages);
            }
            if let Some(v) = props.get("height_ag") {
                self.set_number(&mut tags, "height", "height_ag", v, &id, messages);
            }
            for col in ["YEAR", "year"] {
                if let Some(v) = props.get(col) {
                    self.set_number(&mut tags, "start_date", col, v, &id, messages);
                }
            }
            for col in ["1ST_USE", "use_type1"] {
                if let Some(u) = props.get(col).and_then(value_text) {
                    set_use(&mut tags, &u);
                }
            }
        }
        // The id first, so that messages name the feature by it.
        for (k, col) in &self.map {
            if k == "id"
                && let Some(s) = find_column(props, col).and_then(|(_, v)| value_text(v))
            {
                id = s;
            }
        }
        for (k, col) in &self.map {
            let Some((col, v)) = find_column(props, col) else {
                continue;
            };
            match k.as_str() {
                "floors" | "levels" => {
                    self.set_number(&mut tags, "building:levels", col, v, &id, messages)
                }
                "roof_levels" => self.set_number(&mut tags, "roof:levels", col, v, &id, messages),
                "height" => self.set_number(&mut tags, "height", col, v, &id, messages),
                "year" => self.set_number(&mut tags, "start_date", col, v, &id, messages),
                "use" => {
                    if let Some(u) = value_text(v) {
                        set_use(&mut tags, &u);
                    }
                }
                "name" => {
                    if let Some(s) = value_text(v) {
                        tags.insert("name".into(), s);
                    }
                }
                "highway" => {
                    if let Some(s) = value_text(v) {
                        tags.insert("highway".into(), s.to_ascii_lowercase());
                    }
                }
                _ => {}
            }
        }
        (id, tags, self.all_polygons_buildings)
    }

    /// A numeric attribute onto `tag`, checked against the tag's plausible range.
    fn set_number(
        &self,
        tags: &mut Tags,
        tag: &str,
        col: &str,
        v: &Value,
        id: &str,
        messages: &mut Vec<String>,
    ) {
        if v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()) {
            return;
        }
        let (lo, hi) = match tag {
            "building:levels" | "roof:levels" => (0.0, 200.0),
            "height" => (0.0, 1000.0),
            _ => (1000.0, 2100.0), // start_date
        };
        match number_of(v) {
            Some(x) if x >= lo && x <= hi => {
                let text = if tag == "start_date" {
                    format!("{}", x.round() as i64)
                } else {
                    number_text(x)
                };
                tags.insert(tag.to_string(), text);
            }
            _ => messages.push(format!(
                "{id}: {col} = {} is not a plausible {} ({lo}..{hi}); ignored",
                value_text(v).unwrap_or_else(|| kind_of(v).to_string()),
                match tag {
                    "building:levels" => "number of floors",
                    "roof:levels" => "number of roof floors",
                    "height" => "height in metres",
                    _ => "year of construction",
                }
            )),
        }
    }
}

/// The property `col` (exact name, else ignoring case): its name in the file and its value.
fn find_column<'a>(props: &'a Map<String, Value>, col: &str) -> Option<(&'a str, &'a Value)> {
    props
        .get_key_value(col)
        .or_else(|| props.iter().find(|(k, _)| k.eq_ignore_ascii_case(col)))
        .map(|(k, v)| (k.as_str(), v))
}

/// A use attribute onto `building` (and `amenity` where OSM says it there): CEA names by
/// [`cea_use`], anything else lower-cased as an OSM `building` value.
fn set_use(tags: &mut Tags, u: &str) {
    let u = u.trim();
    if u.is_empty() {
        return;
    }
    match cea_use(u) {
        Some((building, extra)) => {
            tags.insert("building".into(), building.into());
            if let Some((k, v)) = extra {
                tags.insert(k.into(), v.into());
            }
        }
        None => {
            tags.insert("building".into(), u.to_ascii_lowercase().replace(' ', "_"));
        }
    }
}

/// A CityEnergyAnalyst use type (`MULTI_RES`, `OFFICE`, …; case-insensitive) as an OSM
/// `building` value and, where OSM puts the use elsewhere, one more tag.
pub fn cea_use(u: &str) -> Option<(&'static str, Option<(&'static str, &'static str)>)> {
    Some(match u.trim().to_ascii_uppercase().as_str() {
        "MULTI_RES" => ("apartments", None),
        "SINGLE_RES" => ("house", None),
        "OFFICE" => ("office", None),
        "RETAIL" => ("retail", None),
        "FOODSTORE" => ("retail", Some(("shop", "supermarket"))),
        "RESTAURANT" => ("commercial", Some(("amenity", "restaurant"))),
        "HOTEL" => ("hotel", None),
        "SCHOOL" => ("school", None),
        "UNIVERSITY" => ("university", None),
        "HOSPITAL" => ("hospital", None),
        "INDUSTRIAL" => ("industrial", None),
        "LIBRARY" => ("public", Some(("amenity", "library"))),
        "MUSEUM" => ("museum", None),
        "GYM" => ("sports_hall", None),
        "SWIMMING" => ("sports_hall", Some(("leisure", "swimming_pool"))),
        "SERVERROOM" => ("commercial", Some(("telecom", "data_center"))),
        "COOLROOM" => ("warehouse", None),
        "LAB" => ("commercial", Some(("amenity", "research_institute"))),
        "PARKING" => ("parking", None),
        _ => return None,
    })
}

/// A property value as tag text: strings as they are (trimmed), numbers without a needless
/// `.0`, booleans as yes/no; null, arrays and objects give nothing.
pub(super) fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(if let Some(i) = n.as_i64() {
            i.to_string()
        } else if let Some(u) = n.as_u64() {
            u.to_string()
        } else {
            number_text(n.as_f64()?)
        }),
        Value::Bool(b) => Some(if *b { "yes" } else { "no" }.to_string()),
        _ => None,
    }
}

/// A number as short text: `4`, `12.5`, `1e300` (no 300-digit expansions).
pub(super) fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else if x.abs() >= 1e15 || (x != 0.0 && x.abs() < 1e-6) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// A number from a JSON number or a string such as `"4"`, `"12,5"`, `" 7.0 "` (QGIS writes
/// numbers as strings); finite only.
pub(super) fn number_of(v: &Value) -> Option<f64> {
    let x = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => {
            let t = s.trim();
            // One comma and no dot: a decimal comma.
            let t = if t.matches(',').count() == 1 && !t.contains('.') {
                t.replace(',', ".")
            } else {
                t.to_string()
            };
            t.parse::<f64>().ok()?
        }
        _ => return None,
    };
    x.is_finite().then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> ReadOptions {
        ReadOptions::default()
    }

    #[test]
    fn numbers_and_text() {
        assert_eq!(number_of(&Value::String("12,5".into())), Some(12.5));
        assert_eq!(number_of(&Value::String(" 4 ".into())), Some(4.0));
        assert_eq!(number_of(&Value::String("inf".into())), None);
        assert_eq!(number_of(&Value::String("NaN".into())), None);
        assert_eq!(number_of(&serde_json::json!(1e300)), Some(1e300));
        assert_eq!(number_text(4.0), "4");
        assert_eq!(number_text(12.5), "12.5");
        assert_eq!(number_text(1e300), "1e300");
        assert_eq!(value_text(&serde_json::json!(true)).as_deref(), Some("yes"));
        assert_eq!(value_text(&serde_json::json!(3.0)).as_deref(), Some("3"));
        assert_eq!(value_text(&serde_json::json!(null)), None);
    }

    #[test]
    fn a_single_polygon_feature_with_string_numbers() {
        let src = br#"{"type":"Feature","properties":{"STOREYS":"4","BJ":"1965","NUTZUNG":"MULTI_RES","H":"1e300"},
            "geometry":{"type":"Polygon","coordinates":[[[6.0,50.0],[6.001,50.0],[6.001,50.001],[6.0,50.0]]]}}"#;
        let mut o = opts();
        o.map = vec![
            ("floors".into(), "storeys".into()),
            ("year".into(), "BJ".into()),
            ("use".into(), "NUTZUNG".into()),
            ("height".into(), "H".into()),
        ];
        let r = read("one.geojson", src, &o).unwrap();
        assert_eq!(r.buildings.len(), 1);
        let b = &r.buildings[0];
        assert_eq!(b.source_id, "feature 0");
        assert_eq!(b.tags["building:levels"], "4");
        assert_eq!(b.tags["start_date"], "1965");
        assert_eq!(b.tags["building"], "apartments");
        assert!(!b.tags.contains_key("height"));
        assert!(
            r.messages
                .iter()
                .any(|m| m.contains("H = 1e300 is not a plausible height")),
            "{:?}",
            r.messages
        );
        assert_eq!(b.outers[0][1], [6.001, 50.0]);
    }

    #[test]
    fn map_errors() {
        let src = br#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":1},"geometry":null}]}"#;
        let mut o = opts();
        o.map = vec![("storeys".into(), "a".into())];
        let e = read("m.geojson", src, &o).unwrap_err().to_string();
        assert!(e.contains("unknown key \"storeys\""), "{e}");
        assert!(e.contains("floors, levels"), "{e}");
        o.map = vec![("floors".into(), "b".into())];
        let e = read("m.geojson", src, &o).unwrap_err().to_string();
        assert!(
            e.contains("m.geojson: --map floors=b: no feature has a property \"b\""),
            "{e}"
        );
        assert!(e.contains("(properties: a)"), "{e}");
    }

    #[test]
    fn building_no_and_an_explicit_wgs84_crs() {
        let src = br#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"features":[
            {"type":"Feature","properties":{"building":"no","landuse":"grass"},"geometry":{"type":"Polygon","coordinates":[[[6.0,50.0],[6.001,50.0],[6.001,50.001],[6.0,50.0]]]}},
            {"type":"Feature","properties":{"building":"no"},"geometry":{"type":"Polygon","coordinates":[[[6.0,50.0],[6.001,50.0],[6.001,50.001],[6.0,50.0]]]}}
        ]}"#;
        let r = read("no.geojson", src, &opts()).unwrap();
        assert!(r.buildings.is_empty());
        assert_eq!(r.areas.len(), 1);
        // Projected coordinates under a CRS84 label: the same "looks projected" refusal.
        let src = br#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"features":[
            {"type":"Feature","properties":{"building":"yes"},"geometry":{"type":"Polygon","coordinates":[[[294000.0,5628000.0],[294020.0,5628000.0],[294020.0,5628012.0],[294000.0,5628000.0]]]}}
        ]}"#;
        let e = read("p.geojson", src, &opts()).unwrap_err().to_string();
        assert!(e.contains("p.geojson: the file looks projected"), "{e}");
    }

    #[test]
    fn max_buildings_stops() {
        let f = r#"{"type":"Feature","properties":{"building":"yes"},"geometry":{"type":"Polygon","coordinates":[[[6.0,50.0],[6.001,50.0],[6.001,50.001],[6.0,50.0]]]}}"#;
        let src = format!(r#"{{"type":"FeatureCollection","features":[{f},{f},{f}]}}"#);
        let mut o = opts();
        o.max_buildings = Some(2);
        let e = read("big.geojson", src.as_bytes(), &o)
            .unwrap_err()
            .to_string();
        assert!(e.contains("big.geojson: more than 2 buildings"), "{e}");
        o.max_buildings = Some(3);
        assert_eq!(
            read("big.geojson", src.as_bytes(), &o)
                .unwrap()
                .buildings
                .len(),
            3
        );
    }

    #[test]
    fn bad_features_are_skipped_not_fatal() {
        let src = br#"{"type":"FeatureCollection","features":[
            {"type":"Feature","id":"way/1","properties":{"building":"yes"},"geometry":{"type":"Polygon","coordinates":[[[6.0,50.0],[6.001],[6.001,50.001],[6.0,50.0]]]}},
            {"type":"Feature","id":"way/2","properties":{"building":"yes"},"geometry":{"type":"Polygon","coordinates":[[[6.0,50.0],[6.001,50.0],[6.001,50.001],[6.0,50.0]]]}},
            {"type":"Feature","id":"way/3","properties":{"building":"yes"},"geometry":{"type":"Polygon","coordinates":[[[6.0,50.0],[600.1,50.0],[6.001,50.001],[6.0,50.0]]]}},
            {"type":"Feature","id":"way/4","properties":{"building":"yes"},"geometry":{"type":"Circle","coordinates":[6.0,50.0]}},
            7
        ]}"#;
        let r = read("mixed.geojson", src, &opts()).unwrap();
        assert_eq!(r.buildings.len(), 1);
        assert_eq!(r.buildings[0].source_id, "way/2");
        let all = r.messages.join("\n");
        assert!(
            all.contains("way/1: coordinates[0][1] is not a position [x, y]; skipped"),
            "{all}"
        );
        assert!(
            all.contains("way/3: coordinate (600.1, 50) is not a longitude/latitude; skipped"),
            "{all}"
        );
        assert!(
            all.contains("way/4: geometry type \"Circle\" not understood; skipped"),
            "{all}"
        );
        assert!(
            all.contains("feature 4: not an object (a number), skipped"),
            "{all}"
        );
    }
}

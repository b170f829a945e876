//! CityJSON reader: LoD0–LoD2 city models (the Dutch 3D BAG, German LoD2 state models) to
//! [`RawFeatures`] in WGS84 longitude/latitude with OpenStreetMap-style tags.
//!
//! Reads CityJSON 1.0, 1.1 and 2.0 (<https://www.cityjson.org/specs/2.0.1/>), and CityJSONSeq
//! (a `CityJSON` header line followed by `CityJSONFeature` lines, each with its own vertices).
//! Any other version is refused.
//!
//! **Vertices** are integers scaled and translated by `transform` (`x = i·scale + translate`,
//! metres in the file's CRS); without `transform` (1.0) they are real coordinates. Every boundary
//! index is checked against the vertex list: an index out of range is an error naming the object.
//!
//! **Buildings.** Each `Building` becomes one building. Its `BuildingPart` children are merged
//! into it (one building per cadastral building, one substation, as the 3D BAG models a `Pand`
//! as a Building whose geometry sits in a single part): the parent's own geometry counts when it
//! has some, else the parts' geometries, each part's footprint an outer ring. A `BuildingPart`
//! whose parent is missing is read as a building of its own. Other city objects (roads, terrain,
//! vegetation, …) are counted in the report and ignored.
//!
//! **Geometry** of any LoD and type (`MultiSurface`, `CompositeSurface`, `Solid`, `MultiSolid`,
//! `CompositeSolid`; template instances are skipped). The footprint comes from
//! 1. the LoD0 surfaces if the object has a LoD0 geometry, else
//! 2. from the lowest LoD ≥ 1 geometry: its `GroundSurface`s where it has semantics, else its
//!    horizontal surfaces lying at the geometry's minimum height (every vertex within 0.1 m), else
//! 3. the 2D convex hull of all its vertices (reported).
//!
//! Each surface's first ring is an outer, the others holes (as read; ground surfaces of a solid
//! wind clockwise seen from above: the common finishing step orients rings).
//!
//! **Height** (`model_height_m`): max z − min z of the highest-LoD geometry when that spans at
//! least 0.5 m; else (LoD0 only) from the attributes: `measuredHeight`, or the 3D BAG's
//! `b3_h_70p − b3_h_maaiveld` (the 70th percentile of the roof, as the 3D BAG's own LoD1.2),
//! or `b3_h_dak_max − b3_h_maaiveld`. `measuredHeight` is also written as the `height` tag.
//!
//! **Attributes** onto tags: `yearOfConstruction` / `oorspronkelijkbouwjaar` → `start_date`;
//! `storeysAboveGround` / `b3_bouwlagen` → `building:levels`; `roofType`/`name` kept; `function`
//! / `usage` → `building` where [`use_of_function`] knows the value, else `building=yes`.
//!
//! **CRS** from `metadata.referenceSystem` (an OGC URL or URN; a compound CRS such as 7415 =
//! RD New + NAP counts by its horizontal part), `--crs` overriding it; reprojected by
//! [`super::crs`]. A file without one must already be in longitude/latitude.

use serde_json::{Map, Value};

use super::crs::Reprojector;
use super::geojson::{json_error, kind_of, number_of, number_text, parse_json, value_text};
use super::{ImportError, RawArea, RawFeatures, ReadOptions, Tags};

/// Reads a CityJSON (or CityJSONSeq) file (`name` for messages) into WGS84 buildings.
pub fn read(name: &str, bytes: &[u8], opts: &ReadOptions) -> Result<RawFeatures, ImportError> {
    let file_err = |msg: String| ImportError::File {
        file: name.to_string(),
        msg,
    };
    // One JSON document, or CityJSONSeq: one per line.
    let docs: Vec<Value> = match parse_json(name, bytes) {
        Ok(v) => vec![v],
        Err(whole) => match parse_seq(name, bytes) {
            Some(Ok(docs)) => docs,
            Some(Err(e)) => return Err(e),
            None => return Err(whole),
        },
    };
    let header = docs[0].as_object().ok_or_else(|| {
        file_err(format!(
            "expected a CityJSON object, found {}",
            kind_of(&docs[0])
        ))
    })?;
    match header.get("type").and_then(Value::as_str) {
        Some("CityJSON") => {}
        Some(t) => {
            return Err(file_err(format!(
                "not a CityJSON file: \"type\" is \"{t}\", expected \"CityJSON\""
            )));
        }
        None => {
            return Err(file_err(
                "not a CityJSON file: no \"type\": \"CityJSON\"".into(),
            ));
        }
    }
    let version = header
        .get("version")
        .and_then(Value::as_str)
        .ok_or_else(|| file_err("CityJSON without a \"version\"".into()))?;
    if !["1.0", "1.1", "2.0"]
        .iter()
        .any(|v| version == *v || version.starts_with(&format!("{v}.")))
    {
        return Err(file_err(format!(
            "CityJSON version \"{version}\" is not supported (1.0, 1.1 and 2.0 are)"
        )));
    }
    let transform = read_transform(header).map_err(file_err)?;
    let crs_name = opts.crs.clone().or_else(|| {
        header
            .get("metadata")
            .and_then(|m| m.get("referenceSystem"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let reproject = match &crs_name {
        Some(c) => Some(Reprojector::from_crs(c).map_err(|e| file_err(e.to_string()))?),
        None => None,
    };
    let mut ctx = Ctx {
        name,
        reproject,
        transform,
        opts,
        out: RawFeatures::default(),
        ignored: std::collections::BTreeMap::new(),
        hulls: 0,
        at: String::new(),
    };
    ctx.read_objects(header)?;
    for (k, doc) in docs.iter().enumerate().skip(1) {
        let o = doc
            .as_object()
            .filter(|o| o.get("type").and_then(Value::as_str) == Some("CityJSONFeature"));
        let Some(o) = o else {
            return Err(ImportError::At {
                file: name.to_string(),
                line: k + 1,
                col: 1,
                msg: "expected a CityJSONFeature object".into(),
            });
        };
        ctx.at = format!("line {}: ", k + 1);
        ctx.read_objects(o)?;
    }
    if ctx.hulls > 0 {
        ctx.out.messages.push(format!(
            "{} buildings without a ground surface: footprint taken as the convex hull of their \
             vertices",
            ctx.hulls
        ));
    }
    if !ctx.ignored.is_empty() {
        let list: Vec<String> = ctx
            .ignored
            .iter()
            .map(|(t, n)| format!("{n} {t}"))
            .collect();
        ctx.out
            .messages
            .push(format!("city objects ignored: {}", list.join(", ")));
    }
    Ok(ctx.out)
}

/// CityJSONSeq: every non-empty line a JSON object; `None` if the first line is not a CityJSON
/// header (then the whole-file parse error stands).
fn parse_seq(name: &str, bytes: &[u8]) -> Option<Result<Vec<Value>, ImportError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut docs = Vec::new();
    for (k, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(v) => {
                if docs.is_empty() && v.get("type").and_then(Value::as_str) != Some("CityJSON") {
                    return None;
                }
                docs.push(v);
            }
            Err(_) if docs.is_empty() => return None,
            Err(e) => return Some(Err(json_error(name, &e, k))),
        }
    }
    (docs.len() > 1).then_some(Ok(docs))
}

/// `transform`: scale and translate, or the identity.
fn read_transform(o: &Map<String, Value>) -> Result<([f64; 3], [f64; 3]), String> {
    let Some(t) = o.get("transform") else {
        return Ok(([1.0; 3], [0.0; 3]));
    };
    let three = |key: &str| -> Result<[f64; 3], String> {
        let a = t
            .get(key)
            .and_then(Value::as_array)
            .filter(|a| a.len() == 3)
            .ok_or_else(|| format!("transform.{key} must be an array of 3 numbers"))?;
        let mut r = [0.0; 3];
        for (i, v) in a.iter().enumerate() {
            r[i] = v
                .as_f64()
                .filter(|x| x.is_finite() && x.abs() < 1e12)
                .ok_or_else(|| format!("transform.{key}[{i}] is not a usable number"))?;
        }
        Ok(r)
    };
    let scale = three("scale")?;
    if scale.contains(&0.0) {
        return Err("transform.scale has a zero".into());
    }
    Ok((scale, three("translate")?))
}

/// Rings of `[x, y]` points.
type Rings = Vec<Vec<[f64; 2]>>;

/// One surface of a geometry: rings of vertex indices and its semantic type.
struct Surface {
    rings: Vec<Vec<usize>>,
    semantic: Option<String>,
}

/// One geometry of a city object, flattened to surfaces.
struct Geom {
    lod: f64,
    surfaces: Vec<Surface>,
}

struct Ctx<'a> {
    name: &'a str,
    reproject: Option<Reprojector>,
    transform: ([f64; 3], [f64; 3]),
    opts: &'a ReadOptions,
    out: RawFeatures,
    /// Ignored object types and their counts.
    ignored: std::collections::BTreeMap<String, usize>,
    hulls: usize,
    /// Where in the file, for messages: `""`, or `"line 7: "` in a CityJSONSeq.
    at: String,
}

impl Ctx<'_> {
    fn err(&self, msg: String) -> ImportError {
        ImportError::File {
            file: self.name.to_string(),
            msg: format!("{}{msg}", self.at),
        }
    }

    /// Reads the `CityObjects` and `vertices` of the file (or of one CityJSONFeature).
    fn read_objects(&mut self, doc: &Map<String, Value>) -> Result<(), ImportError> {
        let at = self.at.clone();
        let vertices = self.vertices(doc)?;
        let objects = match doc.get("CityObjects") {
            Some(Value::Object(m)) => m,
            Some(v) => {
                return Err(self.err(format!(
                    "\"CityObjects\" is {}, expected an object",
                    kind_of(v)
                )));
            }
            None => return Err(self.err("no \"CityObjects\"".to_string())),
        };
        // Sorted keys: the output does not depend on serde_json's map order.
        let mut keys: Vec<&String> = objects.keys().collect();
        keys.sort();
        for key in keys {
            let obj = &objects[key];
            let Some(o) = obj.as_object() else {
                return Err(self.err(format!(
                    "CityObject \"{key}\" is {}, expected an object",
                    kind_of(obj)
                )));
            };
            let ty = o.get("type").and_then(Value::as_str).unwrap_or("(no type)");
            let parent_present = || {
                o.get("parents")
                    .and_then(Value::as_array)
                    .is_some_and(|ps| {
                        ps.iter()
                            .filter_map(Value::as_str)
                            .any(|p| objects.contains_key(p))
                    })
            };
            let is_root_building = ty == "Building" || (ty == "BuildingPart" && !parent_present());
            if !is_root_building {
                if ty != "BuildingPart" {
                    *self.ignored.entry(ty.to_string()).or_default() += 1;
                }
                continue;
            }
            // The object's own geometries, else its parts'.
            let mut geoms = self.geometries(key, o, &vertices)?;
            if geoms.iter().all(|g| g.surfaces.is_empty()) {
                geoms.clear();
                let children = o
                    .get("children")
                    .and_then(Value::as_array)
                    .map(|c| {
                        c.iter()
                            .filter_map(Value::as_str)
                            .filter(|c| {
                                objects
                                    .get(*c)
                                    .and_then(|o| o.get("type"))
                                    .and_then(Value::as_str)
                                    == Some("BuildingPart")
                            })
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                let mut children = children;
                children.sort();
                for c in children {
                    if let Some(co) = objects.get(c).and_then(Value::as_object) {
                        let mut part = self.geometries(c, co, &vertices)?;
                        // Keep the parts apart: each contributes its own footprint.
                        geoms.push(Geom {
                            lod: f64::NAN,
                            surfaces: Vec::new(),
                        });
                        geoms.append(&mut part);
                    }
                }
            }
            let mut tags = attribute_tags(o.get("attributes"), &mut self.out.messages, key);
            let attr_height = attribute_height(o.get("attributes"));
            if let Some(h) = o
                .get("attributes")
                .and_then(|a| a.get("measuredHeight"))
                .and_then(number_of)
                .filter(|h| *h > 0.0 && *h < 1000.0)
            {
                tags.insert("height".into(), number_text(h));
            }
            let parts = split_parts(geoms);
            if parts.iter().all(|p| p.is_empty()) {
                self.out
                    .messages
                    .push(format!("{at}{key}: {ty} without geometry; skipped"));
                continue;
            }
            let mut area = RawArea {
                source_id: key.clone(),
                outers: Vec::new(),
                holes: Vec::new(),
                model_height_m: None,
                tags,
            };
            let mut zmin = f64::INFINITY;
            let mut zmax = f64::NEG_INFINITY;
            for part in &parts {
                if part.is_empty() {
                    continue;
                }
                let (outers, holes) = self.footprint(part, &vertices);
                let to_ll = |ring: Vec<[f64; 2]>| -> Result<Vec<[f64; 2]>, ImportError> {
                    ring.into_iter().map(|p| self.to_wgs84(p, key)).collect()
                };
                let mut o2 = Vec::new();
                for r in outers {
                    o2.push(to_ll(r)?);
                }
                let mut h2 = Vec::new();
                for r in holes {
                    h2.push(to_ll(r)?);
                }
                area.outers.extend(o2);
                area.holes.extend(h2);
                // Height from the highest LoD of this part.
                let top = part
                    .iter()
                    .filter(|g| !g.surfaces.is_empty())
                    .max_by(|a, b| a.lod.total_cmp(&b.lod));
                if let Some(g) = top {
                    for s in &g.surfaces {
                        for &i in s.rings.iter().flatten() {
                            zmin = zmin.min(vertices[i][2]);
                            zmax = zmax.max(vertices[i][2]);
                        }
                    }
                }
            }
            let span = zmax - zmin;
            area.model_height_m = if span.is_finite() && span >= 0.5 {
                Some(span)
            } else {
                attr_height
            };
            self.out.buildings.push(area);
            if let Some(max) = self.opts.max_buildings
                && self.out.buildings.len() > max
            {
                return Err(self.err(format!(
                    "more than {max} buildings (--max-buildings {max}); clip the input with \
                     --bbox or --clip, or raise the limit"
                )));
            }
        }
        Ok(())
    }

    fn to_wgs84(&self, p: [f64; 2], key: &str) -> Result<[f64; 2], ImportError> {
        match &self.reproject {
            Some(r) => r
                .to_wgs84(p[0], p[1])
                .map_err(|e| self.err(format!("CityObject \"{key}\": {e}"))),
            None if p[0].abs() <= 180.0 && p[1].abs() <= 90.0 => Ok(p),
            None => Err(self.err(format!(
                "CityObject \"{key}\": coordinate ({}, {}) is not a longitude/latitude and the \
                 file names no CRS (metadata.referenceSystem); pass --crs EPSG:n (e.g. \
                 EPSG:28992 for the Dutch RD New)",
                p[0], p[1]
            ))),
        }
    }

    /// The vertices in real coordinates (the transform applied).
    fn vertices(&self, doc: &Map<String, Value>) -> Result<Vec<[f64; 3]>, ImportError> {
        let raw = match doc.get("vertices") {
            Some(Value::Array(a)) => a,
            Some(v) => {
                return Err(self.err(format!("\"vertices\" is {}, expected an array", kind_of(v))));
            }
            None => return Err(self.err("no \"vertices\"".to_string())),
        };
        let (scale, translate) = self.transform;
        raw.iter()
            .enumerate()
            .map(|(i, v)| {
                let xyz = v
                    .as_array()
                    .filter(|a| a.len() == 3)
                    .and_then(|a| Some([a[0].as_f64()?, a[1].as_f64()?, a[2].as_f64()?]));
                let xyz = xyz.ok_or_else(|| {
                    self.err(format!("vertices[{i}] is not [x, y, z] (three numbers)"))
                })?;
                let real = [
                    xyz[0] * scale[0] + translate[0],
                    xyz[1] * scale[1] + translate[1],
                    xyz[2] * scale[2] + translate[2],
                ];
                if real.iter().all(|c| c.is_finite() && c.abs() < 1e12) {
                    Ok(real)
                } else {
                    Err(self.err(format!("vertices[{i}] is out of any plausible range")))
                }
            })
            .collect()
    }

    /// The object's geometries flattened to surfaces, every index checked.
    fn geometries(
        &mut self,
        key: &str,
        o: &Map<String, Value>,
        vertices: &[[f64; 3]],
    ) -> Result<Vec<Geom>, ImportError> {
        let Some(list) = o.get("geometry").and_then(Value::as_array) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (gi, g) in list.iter().enumerate() {
            let ty = g.get("type").and_then(Value::as_str).unwrap_or("(no type)");
            let where_ =
                |msg: String| self.err(format!("CityObject \"{key}\" geometry {gi} ({ty}): {msg}"));
            let depth = match ty {
                "MultiSurface" | "CompositeSurface" => 1,
                "Solid" => 2,
                "MultiSolid" | "CompositeSolid" => 3,
                "GeometryInstance" => {
                    self.out.messages.push(format!(
                        "{key}: geometry {gi} is a template instance; not read"
                    ));
                    continue;
                }
                "MultiPoint" | "MultiLineString" => continue,
                t => return Err(where_(format!("geometry type \"{t}\" not understood"))),
            };
            let lod = match g.get("lod") {
                Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
                Some(Value::Number(n)) => n.as_f64(),
                _ => None,
            }
            .filter(|l| l.is_finite())
            .ok_or_else(|| where_("no valid \"lod\"".into()))?;
            let boundaries = g
                .get("boundaries")
                .ok_or_else(|| where_("no \"boundaries\"".into()))?;
            // Semantic surface types, by index.
            let sem = g.get("semantics");
            let sem_types: Vec<Option<String>> = sem
                .and_then(|s| s.get("surfaces"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|s| s.get("type").and_then(Value::as_str).map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let values = sem.and_then(|s| s.get("values"));
            let mut surfaces = Vec::new();
            walk(
                boundaries,
                values,
                depth,
                vertices.len(),
                &sem_types,
                &mut surfaces,
                "boundaries",
            )
            .map_err(where_)?;
            out.push(Geom { lod, surfaces });
        }
        Ok(out)
    }

    /// The footprint of one part's geometries: (outer rings, holes) in source x, y.
    fn footprint(&mut self, geoms: &[Geom], v: &[[f64; 3]]) -> (Rings, Rings) {
        let xy = |ring: &[usize]| ring.iter().map(|&i| [v[i][0], v[i][1]]).collect::<Vec<_>>();
        let from_surfaces = |ss: &[&Surface]| {
            let mut outers = Vec::new();
            let mut holes = Vec::new();
            for s in ss {
                let mut rings = s.rings.iter();
                if let Some(o) = rings.next() {
                    outers.push(xy(o));
                }
                holes.extend(rings.map(|r| xy(r)));
            }
            (outers, holes)
        };
        let with_surfaces = || geoms.iter().filter(|g| !g.surfaces.is_empty());
        // 1. LoD0.
        if let Some(g) = with_surfaces().find(|g| g.lod < 1.0) {
            let ss: Vec<&Surface> = g.surfaces.iter().collect();
            return from_surfaces(&ss);
        }
        // 2. The lowest LoD ≥ 1: ground surfaces, else the horizontal ones at its minimum height.
        let Some(g) = with_surfaces().min_by(|a, b| a.lod.total_cmp(&b.lod)) else {
            return (Vec::new(), Vec::new());
        };
        let ground: Vec<&Surface> = g
            .surfaces
            .iter()
            .filter(|s| s.semantic.as_deref() == Some("GroundSurface"))
            .collect();
        if !ground.is_empty() {
            return from_surfaces(&ground);
        }
        let zmin = g
            .surfaces
            .iter()
            .flat_map(|s| s.rings.iter().flatten())
            .map(|&i| v[i][2])
            .fold(f64::INFINITY, f64::min);
        let low: Vec<&Surface> = g
            .surfaces
            .iter()
            .filter(|s| {
                s.rings.first().is_some_and(|r| r.len() >= 3)
                    && s.rings
                        .iter()
                        .flatten()
                        .all(|&i| (v[i][2] - zmin).abs() <= 0.1)
            })
            .collect();
        if !low.is_empty() {
            return from_surfaces(&low);
        }
        // 3. The convex hull.
        self.hulls += 1;
        let pts: Vec<[f64; 2]> = g
            .surfaces
            .iter()
            .flat_map(|s| s.rings.iter().flatten())
            .map(|&i| [v[i][0], v[i][1]])
            .collect();
        (vec![convex_hull(pts)], Vec::new())
    }
}

/// Splits a list of geometries into parts at the NaN-LoD separators (see `read_objects`).
fn split_parts(geoms: Vec<Geom>) -> Vec<Vec<Geom>> {
    let mut parts = vec![Vec::new()];
    for g in geoms {
        if g.lod.is_nan() {
            parts.push(Vec::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(g);
        }
    }
    parts
}

/// Walks nested boundaries `depth` levels above surfaces (1: array of surfaces; 2: shells of
/// surfaces; 3: solids of shells), with the semantic values alongside, checking every index.
fn walk(
    b: &Value,
    values: Option<&Value>,
    depth: usize,
    nverts: usize,
    sem_types: &[Option<String>],
    out: &mut Vec<Surface>,
    at: &str,
) -> Result<(), String> {
    let arr = b
        .as_array()
        .ok_or_else(|| format!("{at} is {}, expected an array", kind_of(b)))?;
    if depth == 0 {
        // A surface: rings of indices.
        let mut rings = Vec::with_capacity(arr.len());
        for (r, ring) in arr.iter().enumerate() {
            let ra = ring.as_array().ok_or_else(|| {
                format!("{at}[{r}] is {}, expected a ring of indices", kind_of(ring))
            })?;
            let mut idx = Vec::with_capacity(ra.len());
            for (k, i) in ra.iter().enumerate() {
                let n = i
                    .as_u64()
                    .ok_or_else(|| format!("{at}[{r}][{k}] = {i} is not a vertex index"))?;
                if n >= nverts as u64 {
                    return Err(format!(
                        "boundary index {n} at {at}[{r}][{k}] is out of range (the file has \
                         {nverts} vertices)"
                    ));
                }
                idx.push(n as usize);
            }
            rings.push(idx);
        }
        let semantic = values
            .and_then(Value::as_u64)
            .and_then(|i| sem_types.get(i as usize).cloned().flatten());
        out.push(Surface { rings, semantic });
        return Ok(());
    }
    for (k, child) in arr.iter().enumerate() {
        let v = values.and_then(|v| v.as_array()).and_then(|a| a.get(k));
        walk(
            child,
            v,
            depth - 1,
            nverts,
            sem_types,
            out,
            &format!("{at}[{k}]"),
        )?;
    }
    Ok(())
}

/// The 2D convex hull (Andrew's monotone chain), counter-clockwise, closed.
fn convex_hull(mut pts: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: [f64; 2], a: [f64; 2], b: [f64; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut hull: Vec<[f64; 2]> = Vec::with_capacity(2 * pts.len());
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &[f64; 2]>> = if pass == 0 {
            Box::new(pts.iter())
        } else {
            Box::new(pts.iter().rev())
        };
        for &p in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    if let Some(&first) = hull.first() {
        hull.push(first);
    }
    hull
}

/// The building's height from its attributes, m.
fn attribute_height(attrs: Option<&Value>) -> Option<f64> {
    let a = attrs?.as_object()?;
    let get = |k: &str| a.get(k).and_then(number_of);
    let plausible = |h: f64| (h > 0.0 && h < 1000.0).then_some(h);
    if let Some(h) = get("measuredHeight").and_then(plausible) {
        return Some(h);
    }
    let ground = get("b3_h_maaiveld")?;
    get("b3_h_70p")
        .map(|r| r - ground)
        .and_then(plausible)
        .or_else(|| get("b3_h_dak_max").map(|r| r - ground).and_then(plausible))
}

/// CityJSON (CityGML and 3D BAG) attributes as OSM-style tags.
fn attribute_tags(attrs: Option<&Value>, messages: &mut Vec<String>, key: &str) -> Tags {
    let mut tags = Tags::new();
    tags.insert("building".into(), "yes".into());
    let Some(a) = attrs.and_then(Value::as_object) else {
        return tags;
    };
    for k in ["yearOfConstruction", "oorspronkelijkbouwjaar"] {
        if let Some(v) = a.get(k).filter(|v| !v.is_null()) {
            match number_of(v).filter(|y| (1000.0..=2100.0).contains(y)) {
                Some(y) => {
                    tags.insert("start_date".into(), format!("{}", y.round() as i64));
                }
                None => messages.push(format!(
                    "{key}: {k} = {} is not a year; ignored",
                    value_text(v).unwrap_or_else(|| kind_of(v).into())
                )),
            }
        }
    }
    for k in ["storeysAboveGround", "b3_bouwlagen"] {
        if let Some(v) = a.get(k).filter(|v| !v.is_null()) {
            match number_of(v).filter(|n| (0.0..=200.0).contains(n)) {
                Some(n) => {
                    tags.insert("building:levels".into(), number_text(n));
                }
                None => messages.push(format!(
                    "{key}: {k} = {} is not a number of floors; ignored",
                    value_text(v).unwrap_or_else(|| kind_of(v).into())
                )),
            }
        }
    }
    for k in ["function", "usage"] {
        if let Some(u) = a
            .get(k)
            .and_then(value_text)
            .as_deref()
            .and_then(use_of_function)
        {
            tags.insert("building".into(), u.into());
            break;
        }
    }
    for (k, t) in [("name", "name"), ("roofType", "roof:shape")] {
        if let Some(v) = a.get(k).and_then(value_text) {
            tags.insert(t.into(), v);
        }
    }
    tags
}

/// An OSM `building` value for a CityGML `function`/`usage` value: English and Dutch words,
/// CityEnergyAnalyst names, and the German ALKIS building function codes (`31001_1000`, `1000`:
/// 1xxx residential, 2xxx commercial, 3xxx public).
pub fn use_of_function(f: &str) -> Option<&'static str> {
    let s = f.trim().to_ascii_lowercase();
    if let Some((b, _)) = super::geojson::cea_use(&s) {
        return Some(b);
    }
    let code = s.strip_prefix("31001_").unwrap_or(&s);
    if code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit()) {
        return match &code[..1] {
            "1" => Some("residential"),
            "2" if code.starts_with("202") => Some("office"),
            "2" => Some("commercial"),
            "3" if code.starts_with("302") => Some("school"),
            "3" => Some("public"),
            _ => None,
        };
    }
    let words: &[(&[&str], &str)] = &[
        (
            &["residential", "wonen", "woonfunctie", "dwelling", "wohn"],
            "residential",
        ),
        (&["office", "kantoor", "büro", "buero"], "office"),
        (&["school", "onderwijs", "education"], "school"),
        (&["hospital", "gezondheidszorg", "health"], "hospital"),
        (&["industr"], "industrial"),
        (&["retail", "winkel", "shop"], "retail"),
        (&["hotel", "logies"], "hotel"),
        (&["sport"], "sports_hall"),
        (&["bijeenkomst", "public"], "public"),
    ];
    words
        .iter()
        .find(|(ws, _)| ws.iter().any(|w| s.contains(w)))
        .map(|(_, b)| *b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hull_of_a_square_with_inner_points() {
        let h = convex_hull(vec![
            [0.0, 0.0],
            [2.0, 0.0],
            [1.0, 1.0],
            [2.0, 2.0],
            [0.0, 2.0],
            [1.0, 0.5],
        ]);
        assert_eq!(
            h,
            vec![[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0], [0.0, 0.0]]
        );
    }

    #[test]
    fn cityjson_1_1_multisolid_in_rd_new_by_urn() {
        // A 10 m cube (LoD 1 as a number, a MultiSolid, no semantics) at Amersfoort, RD's origin.
        let src = br#"{"type":"CityJSON","version":"1.1",
            "metadata":{"referenceSystem":"urn:ogc:def:crs:EPSG::28992"},
            "transform":{"scale":[0.01,0.01,0.01],"translate":[155000.0,463000.0,0.0]},
            "CityObjects":{"cube":{"type":"Building","attributes":{"storeysAboveGround":3,"yearOfConstruction":"1890"},
              "geometry":[{"type":"MultiSolid","lod":1,"boundaries":[[[
                [[0,3,2,1]],[[4,5,6,7]],[[0,1,5,4]],[[1,2,6,5]],[[2,3,7,6]],[[3,0,4,7]]]]]}]}},
            "vertices":[[0,0,0],[1000,0,0],[1000,1000,0],[0,1000,0],[0,0,1000],[1000,0,1000],[1000,1000,1000],[0,1000,1000]]}"#;
        let r = read("cube.city.json", src, &ReadOptions::default()).unwrap();
        assert_eq!(r.buildings.len(), 1);
        let b = &r.buildings[0];
        assert_eq!(b.outers, vec![b.outers[0].clone()]);
        assert_eq!(b.outers[0].len(), 4);
        let p = b.outers[0][0];
        // RDNAPTRANS: 52.15517440 N, 5.38720621 E; proj4rs's 7-parameter shift is 0.29 m off.
        assert!(
            (p[0] - 5.38720621).abs() < 6e-6 && (p[1] - 52.15517440).abs() < 4e-6,
            "{p:?}"
        );
        assert_eq!(b.model_height_m, Some(10.0));
        assert_eq!(b.tags["building:levels"], "3");
        assert_eq!(b.tags["start_date"], "1890");
        // --crs overrides the file's CRS: read as web mercator it lands near (1.392° E, 4.156° N).
        let o = ReadOptions {
            crs: Some("EPSG:3857".into()),
            ..ReadOptions::default()
        };
        let p = read("cube.city.json", src, &o).unwrap().buildings[0].outers[0][0];
        assert!(
            (p[0] - 1.3924).abs() < 1e-3 && (p[1] - 4.1556).abs() < 1e-3,
            "{p:?}"
        );
    }

    #[test]
    fn functions_to_uses() {
        assert_eq!(use_of_function("31001_1010"), Some("residential"));
        assert_eq!(use_of_function("2020"), Some("office"));
        assert_eq!(use_of_function("woonfunctie"), Some("residential"));
        assert_eq!(use_of_function("MULTI_RES"), Some("apartments"));
        assert_eq!(use_of_function("something"), None);
    }

    #[test]
    fn seq_and_lod0_footprint_in_lon_lat() {
        // CityJSONSeq in WGS84 degrees (no CRS), a LoD0 footprint and measuredHeight.
        let src = concat!(
            r#"{"type":"CityJSON","version":"2.0","transform":{"scale":[0.000001,0.000001,0.01],"translate":[6.0,50.0,0.0]},"CityObjects":{},"vertices":[]}"#,
            "\n",
            r#"{"type":"CityJSONFeature","id":"a","CityObjects":{"a":{"type":"Building","attributes":{"measuredHeight":"12,5","yearOfConstruction":1970},"geometry":[{"type":"MultiSurface","lod":"0","boundaries":[[[0,1,2,3]]]}]}},"vertices":[[0,0,0],[1000,0,0],[1000,1000,0],[0,1000,0]]}"#,
            "\n",
            r#"{"type":"CityJSONFeature","id":"b","CityObjects":{"b":{"type":"Building","geometry":[{"type":"MultiSurface","lod":"0","boundaries":[[[0,1,7]]]}]}},"vertices":[[0,0,0],[1000,0,0],[1000,1000,0]]}"#,
            "\n"
        );
        let e = read("s.city.jsonl", src.as_bytes(), &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("s.city.jsonl: line 3: ") || e.contains("boundary index 7"),
            "{e}"
        );
        assert!(e.contains("CityObject \"b\" geometry 0 (MultiSurface): boundary index 7 at boundaries[0][0][2] is out of range (the file has 3 vertices)"), "{e}");
        let ok: String = src.lines().take(2).map(|l| format!("{l}\n")).collect();
        let r = read("s.city.jsonl", ok.as_bytes(), &ReadOptions::default()).unwrap();
        assert_eq!(r.buildings.len(), 1);
        let b = &r.buildings[0];
        assert_eq!(b.source_id, "a");
        assert_eq!(b.model_height_m, Some(12.5));
        assert_eq!(b.tags["height"], "12.5");
        assert_eq!(b.tags["start_date"], "1970");
        assert!(
            (b.outers[0][2][0] - 6.001).abs() < 1e-12 && (b.outers[0][2][1] - 50.001).abs() < 1e-12
        );
    }
}

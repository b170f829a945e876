//! OpenStreetMap XML (`.osm`, what Overpass returns) → [`RawFeatures`].
//!
//! The reader streams the bytes with quick-xml (no DOM), keeping nodes as (id, lon, lat) in
//! 1e-7 degrees (OSM's resolution: the same integers the PBF format stores, so XML and PBF of the
//! same data give bit-identical features, see [`super::pbf`]) and ways and relations with the
//! tags the import uses ([`keep_tag`]). Then [`assemble`] — shared with the PBF reader — builds:
//! - **buildings** from ways with a `building=*` tag (closed or not: the finishing step closes
//!   rings and reports it) and from `type=multipolygon` relations with one (outer and inner rings
//!   joined from the member ways' ends); `building:part` ways are not buildings (the outline is);
//! - **areas** (parks, water) from ways and multipolygons with `leisure`, `landuse`, `natural`
//!   or `water` tags;
//! - **lines** from ways with `highway=*` or `waterway=*`.
//!
//! Missing nodes (a way cut at the extract's edge, or a node whose coordinates were not
//! numbers) are dropped with a message; the finishing step skips what is left with fewer than
//! three distinct points. Errors name the file and `line:col`. Coordinates out of range are
//! explained: swapped latitude/longitude (most latitudes beyond ±90° but all valid the other way
//! round, or every node outside the file's `<bounds>` but inside them swapped) or a single bad
//! node with its position.

use std::collections::BTreeMap;

use quick_xml::events::{BytesStart, Event};

use super::{ImportError, RawArea, RawFeatures, RawLine, Tags};

/// A node: id and position in 1e-7 degrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct OsmNode {
    pub id: i64,
    pub lon_e7: i32,
    pub lat_e7: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OsmWay {
    pub id: i64,
    pub refs: Vec<i64>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind {
    Node,
    Way,
    Relation,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OsmMember {
    pub kind: MemberKind,
    pub id: i64,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OsmRelation {
    pub id: i64,
    pub members: Vec<OsmMember>,
    pub tags: Tags,
}

/// A node whose coordinates are outside ±180/±90: where, for the explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct BadNode {
    pub id: i64,
    pub lon: f64,
    pub lat: f64,
    /// `line:col` in the file (XML) or empty (PBF).
    pub at: String,
}

/// What an OSM file holds, as far as the import uses it (the same from XML and PBF).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OsmData {
    pub nodes: Vec<OsmNode>,
    pub ways: Vec<OsmWay>,
    pub relations: Vec<OsmRelation>,
    /// `<bounds>` of the file: min lon, min lat, max lon, max lat.
    pub bounds: Option<[f64; 4]>,
    /// Nodes with coordinates out of range (kept for the explanation, not used).
    pub bad_nodes: Vec<BadNode>,
    /// Nodes whose coordinates were not finite numbers (dropped): id and position.
    pub messages: Vec<String>,
}

/// Whether a tag is kept (the keys the import reads; everything else is dropped while reading,
/// to keep memory small on big files).
pub fn keep_tag(key: &str) -> bool {
    matches!(
        key,
        "building"
            | "building:levels"
            | "building:min_level"
            | "building:height"
            | "building:start_date"
            | "building:year"
            | "building:use"
            | "roof:levels"
            | "height"
            | "min_height"
            | "start_date"
            | "construction_date"
            | "year_built"
            | "amenity"
            | "shop"
            | "office"
            | "healthcare"
            | "parking"
            | "power"
            | "disused"
            | "abandoned:building"
            | "highway"
            | "service"
            | "area"
            | "width"
            | "lanes"
            | "waterway"
            | "leisure"
            | "landuse"
            | "natural"
            | "water"
            | "type"
            | "name"
            | "layer"
            | "tunnel"
    )
}

/// 1-based line and column of byte `pos` in `bytes`.
pub fn line_col(bytes: &[u8], pos: usize) -> (usize, usize) {
    let pos = pos.min(bytes.len());
    let before = &bytes[..pos];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    // Columns in characters, not bytes.
    let col = String::from_utf8_lossy(&bytes[line_start..pos])
        .chars()
        .count()
        + 1;
    (line, col)
}

/// An object a JOSM file marks deleted (`action="delete"`) or a history file invisible.
fn deleted(a: &[(String, String)]) -> bool {
    get(a, "action") == Some("delete") || get(a, "visible") == Some("false")
}

/// Where an element under construction is.
enum Open {
    None,
    Node,
    Way(OsmWay),
    Relation(OsmRelation),
}

/// Reads OSM XML from bytes (`name` for messages).
pub fn read_osm_data(name: &str, bytes: &[u8]) -> Result<OsmData, ImportError> {
    let at = |pos: u64, msg: String| {
        let (line, col) = line_col(bytes, pos as usize);
        ImportError::At {
            file: name.to_string(),
            line,
            col,
            msg,
        }
    };
    let lc = |pos: u64| line_col(bytes, pos as usize);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ImportError::File {
            file: name.to_string(),
            msg: "the file is empty".into(),
        });
    }
    let mut reader = quick_xml::Reader::from_reader(bytes);
    reader.config_mut().trim_text(true);
    reader.config_mut().check_end_names = true;
    let mut data = OsmData::default();
    let mut open = Open::None;
    let mut stack: Vec<String> = Vec::new();
    let mut seen_root = false;
    loop {
        // Start of this event, for messages (skip the whitespace before the `<`).
        let mut start = reader.buffer_position() as usize;
        while start < bytes.len() && bytes[start].is_ascii_whitespace() {
            start += 1;
        }
        let start = start as u64;
        let ev = reader
            .read_event()
            .map_err(|e| at(reader.error_position(), format!("not well-formed XML: {e}")))?;
        let (e, empty) = match &ev {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                let closed = stack.pop();
                if let Some(tag) = closed {
                    finish_element(&tag, &mut open, &mut data);
                }
                continue;
            }
            Event::Eof => break,
            Event::Text(t) => {
                if !seen_root {
                    let txt: &str = t.as_ref();
                    let preview: String = txt.chars().take(30).collect();
                    return Err(at(
                        start,
                        format!(
                            "not an OpenStreetMap XML file: text `{preview}` where an <osm> \
                             element was expected"
                        ),
                    ));
                }
                continue;
            }
            _ => continue,
        };
        let tag: String = {
            let ln = e.local_name();
            let n: &str = ln.as_ref();
            n.to_string()
        };
        if !seen_root {
            if tag != "osm" {
                return Err(at(
                    start,
                    format!(
                        "not an OpenStreetMap XML file: the root element is <{tag}>, not <osm>"
                    ),
                ));
            }
            seen_root = true;
        } else {
            element(&tag, e, start, &at, &lc, &mut open, &mut data)?;
        }
        if empty {
            finish_element(&tag, &mut open, &mut data);
        } else {
            stack.push(tag);
        }
    }
    if !seen_root {
        return Err(ImportError::File {
            file: name.to_string(),
            msg: "not an OpenStreetMap XML file: no <osm> element".into(),
        });
    }
    if let Some(open_tag) = stack.last() {
        return Err(at(
            bytes.len() as u64,
            format!(
                "the file ends inside <{open_tag}> (truncated?): expected `</{}>`",
                stack.first().map(String::as_str).unwrap_or("osm")
            ),
        ));
    }
    Ok(data)
}

/// Attributes of an element as (key, value) strings.
fn attrs(
    e: &BytesStart,
    start: u64,
    at: &dyn Fn(u64, String) -> ImportError,
) -> Result<Vec<(String, String)>, ImportError> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| at(start, format!("bad attribute: {err}")))?;
        let k: String = {
            let n: &str = a.key.as_ref();
            n.to_string()
        };
        let v = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|err| at(start, format!("bad value of `{k}`: {err}")))?
            .into_owned();
        out.push((k, v));
    }
    Ok(out)
}

fn get<'a>(a: &'a [(String, String)], k: &str) -> Option<&'a str> {
    a.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.as_str())
}

fn element(
    tag: &str,
    e: &BytesStart,
    start: u64,
    at: &dyn Fn(u64, String) -> ImportError,
    lc: &dyn Fn(u64) -> (usize, usize),
    open: &mut Open,
    data: &mut OsmData,
) -> Result<(), ImportError> {
    let need_id = |a: &[(String, String)], what: &str| -> Result<i64, ImportError> {
        let s = get(a, "id").ok_or_else(|| at(start, format!("<{what}> without an id")))?;
        s.trim()
            .parse::<i64>()
            .map_err(|_| at(start, format!("<{what}> id `{s}` is not a whole number")))
    };
    match tag {
        "bounds" => {
            let a = attrs(e, start, at)?;
            let f = |k| get(&a, k).and_then(|s| s.trim().parse::<f64>().ok());
            if let (Some(a0), Some(a1), Some(a2), Some(a3)) =
                (f("minlon"), f("minlat"), f("maxlon"), f("maxlat"))
            {
                data.bounds = Some([a0, a1, a2, a3]);
            }
        }
        "node" => {
            let a = attrs(e, start, at)?;
            let id = need_id(&a, "node")?;
            *open = Open::Node;
            if deleted(&a) {
                return Ok(());
            }
            let coord = |k: &str| -> Result<f64, ImportError> {
                let s = get(&a, k).ok_or_else(|| at(start, format!("node {id} has no {k}")))?;
                s.trim()
                    .parse::<f64>()
                    .map_err(|_| at(start, format!("node {id}: {k} `{s}` is not a number")))
            };
            let (lat, lon) = (coord("lat")?, coord("lon")?);
            if !(lat.is_finite() && lon.is_finite()) {
                let (line, col) = lc(start);
                data.messages.push(format!(
                    "node/{id} (line {line}:{col}): coordinates are not finite numbers \
                     (node dropped)"
                ));
            } else if lat.abs() > 90.0 || lon.abs() > 180.0 {
                let (line, col) = lc(start);
                data.bad_nodes.push(BadNode {
                    id,
                    lon,
                    lat,
                    at: format!("{line}:{col}"),
                });
            } else {
                data.nodes.push(OsmNode {
                    id,
                    lon_e7: (lon * 1e7).round() as i32,
                    lat_e7: (lat * 1e7).round() as i32,
                });
            }
        }
        "way" => {
            let a = attrs(e, start, at)?;
            if deleted(&a) {
                *open = Open::None;
                return Ok(());
            }
            *open = Open::Way(OsmWay {
                id: need_id(&a, "way")?,
                refs: Vec::new(),
                tags: Tags::new(),
            });
        }
        "relation" => {
            let a = attrs(e, start, at)?;
            if deleted(&a) {
                *open = Open::None;
                return Ok(());
            }
            *open = Open::Relation(OsmRelation {
                id: need_id(&a, "relation")?,
                members: Vec::new(),
                tags: Tags::new(),
            });
        }
        "nd" => {
            if let Open::Way(w) = open {
                let a = attrs(e, start, at)?;
                let s = get(&a, "ref")
                    .ok_or_else(|| at(start, format!("way {}: <nd> without ref", w.id)))?;
                let r = s.trim().parse::<i64>().map_err(|_| {
                    at(
                        start,
                        format!("way {}: node ref `{s}` is not a whole number", w.id),
                    )
                })?;
                w.refs.push(r);
            }
        }
        "tag" => {
            let tags = match open {
                Open::Way(w) => &mut w.tags,
                Open::Relation(r) => &mut r.tags,
                _ => return Ok(()),
            };
            let a = attrs(e, start, at)?;
            if let (Some(k), Some(v)) = (get(&a, "k"), get(&a, "v"))
                && keep_tag(k)
            {
                tags.insert(k.to_string(), v.to_string());
            }
        }
        "member" => {
            if let Open::Relation(r) = open {
                let a = attrs(e, start, at)?;
                let kind = match get(&a, "type") {
                    Some("node") => MemberKind::Node,
                    Some("way") => MemberKind::Way,
                    Some("relation") => MemberKind::Relation,
                    other => {
                        return Err(at(
                            start,
                            format!(
                                "relation {}: member type `{}` is not node, way or relation",
                                r.id,
                                other.unwrap_or("")
                            ),
                        ));
                    }
                };
                let s = get(&a, "ref").unwrap_or("");
                let id = s.trim().parse::<i64>().map_err(|_| {
                    at(
                        start,
                        format!("relation {}: member ref `{s}` is not a whole number", r.id),
                    )
                })?;
                r.members.push(OsmMember {
                    kind,
                    id,
                    role: get(&a, "role").unwrap_or("").to_string(),
                });
            }
        }
        _ => {}
    }
    Ok(())
}

fn finish_element(tag: &str, open: &mut Open, data: &mut OsmData) {
    match (tag, std::mem::replace(open, Open::None)) {
        ("way", Open::Way(w)) => data.ways.push(w),
        ("relation", Open::Relation(r)) => data.relations.push(r),
        ("node", _) => {}
        (_, o) => *open = o, // a child (<tag>, <nd>, <member>) closed: keep the parent open
    }
}

/// Reads OSM XML into features.
pub fn read(name: &str, bytes: &[u8]) -> Result<RawFeatures, ImportError> {
    let data = read_osm_data(name, bytes)?;
    assemble(name, data)
}

/// Whether a way or relation is an area worth drawing (park, water).
fn is_map_area(tags: &Tags) -> bool {
    let t = |k: &str| tags.get(k).map(String::as_str);
    matches!(
        t("leisure"),
        Some("park" | "garden" | "playground" | "pitch" | "common" | "nature_reserve")
    ) || matches!(
        t("landuse"),
        Some(
            "grass"
                | "meadow"
                | "forest"
                | "recreation_ground"
                | "village_green"
                | "basin"
                | "reservoir"
                | "cemetery"
                | "allotments"
        )
    ) || matches!(
        t("natural"),
        Some("water" | "wood" | "scrub" | "grassland" | "heath" | "wetland")
    ) || t("water").is_some()
}

/// Checks coordinates, then builds buildings, areas and lines (shared by XML and PBF).
pub fn assemble(name: &str, mut data: OsmData) -> Result<RawFeatures, ImportError> {
    check_coordinates(name, &data)?;
    data.nodes.sort();
    data.nodes.dedup_by_key(|n| n.id);
    data.ways.sort_by_key(|w| w.id);
    data.relations.sort_by_key(|r| r.id);
    let node = |id: i64| -> Option<[f64; 2]> {
        data.nodes
            .binary_search_by_key(&id, |n| n.id)
            .ok()
            .map(|i| {
                let n = data.nodes[i];
                [n.lon_e7 as f64 / 1e7, n.lat_e7 as f64 / 1e7]
            })
    };
    let mut out = RawFeatures {
        messages: std::mem::take(&mut data.messages),
        ..Default::default()
    };
    // Coordinates of a way, missing nodes dropped (with a message).
    let coords = |kind: &str, id: i64, refs: &[i64], msgs: &mut Vec<String>| -> Vec<[f64; 2]> {
        let pts: Vec<[f64; 2]> = refs.iter().filter_map(|r| node(*r)).collect();
        if pts.len() < refs.len() {
            msgs.push(format!(
                "{kind}/{id}: {} of {} node(s) missing from the file (dropped)",
                refs.len() - pts.len(),
                refs.len()
            ));
        }
        pts
    };
    for w in &data.ways {
        let b = w.tags.get("building").map(String::as_str);
        let is_building = b.is_some_and(|v| v != "no");
        let is_line = w.tags.contains_key("highway") || w.tags.contains_key("waterway");
        let is_area = !is_building && !is_line && is_map_area(&w.tags);
        if !(is_building || is_line || is_area) {
            continue;
        }
        let pts = coords("way", w.id, &w.refs, &mut out.messages);
        let source_id = format!("way/{}", w.id);
        if is_building || is_area {
            let a = RawArea {
                source_id,
                outers: vec![pts],
                holes: Vec::new(),
                model_height_m: None,
                tags: w.tags.clone(),
            };
            if is_building {
                out.buildings.push(a);
            } else {
                out.areas.push(a);
            }
        } else {
            out.lines.push(RawLine {
                source_id,
                points: pts,
                tags: w.tags.clone(),
            });
        }
    }
    for r in &data.relations {
        if r.tags.get("type").map(String::as_str) != Some("multipolygon") {
            continue;
        }
        let is_building = r.tags.get("building").is_some_and(|v| v != "no");
        if !is_building && !is_map_area(&r.tags) {
            continue;
        }
        let way = |id: i64| {
            data.ways
                .binary_search_by_key(&id, |w| w.id)
                .ok()
                .map(|i| &data.ways[i])
        };
        let mut outer_ways = Vec::new();
        let mut inner_ways = Vec::new();
        let mut missing = 0;
        for m in &r.members {
            if m.kind != MemberKind::Way {
                continue;
            }
            match way(m.id) {
                Some(w) if m.role == "inner" => inner_ways.push(w.refs.clone()),
                Some(w) => outer_ways.push(w.refs.clone()),
                None => missing += 1,
            }
        }
        if missing > 0 {
            out.messages.push(format!(
                "relation/{}: {missing} member way(s) missing from the file",
                r.id
            ));
        }
        let ring_coords = |rings: Vec<Vec<i64>>, what: &str, msgs: &mut Vec<String>| {
            let mut out = Vec::new();
            for ring in rings {
                let p = coords("relation", r.id, &ring, msgs);
                if p.len() < 3 {
                    msgs.push(format!(
                        "relation/{}: an {what} ring with fewer than 3 nodes (dropped)",
                        r.id
                    ));
                } else {
                    out.push(p);
                }
            }
            out
        };
        let (outers, open_o) = join_rings(outer_ways);
        let (inners, open_i) = join_rings(inner_ways);
        if open_o + open_i > 0 {
            out.messages.push(format!(
                "relation/{}: {} ring(s) whose member ways do not join into a closed ring \
                 (dropped)",
                r.id,
                open_o + open_i
            ));
        }
        let outers = ring_coords(outers, "outer", &mut out.messages);
        let holes = ring_coords(inners, "inner", &mut out.messages);
        if outers.is_empty() {
            out.messages.push(format!(
                "relation/{}: multipolygon without a usable outer ring (skipped)",
                r.id
            ));
            continue;
        }
        let a = RawArea {
            source_id: format!("relation/{}", r.id),
            outers,
            holes,
            model_height_m: None,
            tags: r.tags.clone(),
        };
        if is_building {
            out.buildings.push(a);
        } else {
            out.areas.push(a);
        }
    }
    Ok(out)
}

/// Joins way node lists into closed rings by their end nodes (reversing ways where needed), in
/// member order. Returns the closed rings and the number of pieces that would not close.
pub fn join_rings(mut ways: Vec<Vec<i64>>) -> (Vec<Vec<i64>>, usize) {
    ways.retain(|w| !w.is_empty());
    let mut rings = Vec::new();
    let mut open = 0;
    while !ways.is_empty() {
        let mut ring = ways.remove(0);
        while ring.first() != ring.last() || ring.len() < 2 {
            let end = *ring.last().expect("not empty");
            let Some(i) = ways
                .iter()
                .position(|w| w.first() == Some(&end) || w.last() == Some(&end))
            else {
                break;
            };
            let mut w = ways.remove(i);
            if w.first() != Some(&end) {
                w.reverse();
            }
            ring.extend_from_slice(&w[1..]);
        }
        if ring.len() >= 4 && ring.first() == ring.last() {
            rings.push(ring);
        } else {
            open += 1;
        }
    }
    (rings, open)
}

/// Out-of-range coordinates: swapped latitude/longitude, or a bad node, explained.
pub fn check_coordinates(name: &str, data: &OsmData) -> Result<(), ImportError> {
    let file = name.to_string();
    let total = data.nodes.len() + data.bad_nodes.len();
    if let Some(b) = data.bad_nodes.first() {
        let all_ok_swapped = data
            .nodes
            .iter()
            .map(|n| (n.lon_e7 as f64 / 1e7, n.lat_e7 as f64 / 1e7))
            .chain(data.bad_nodes.iter().map(|b| (b.lon, b.lat)))
            .all(|(lon, lat)| lon.abs() <= 90.0 && lat.abs() <= 180.0);
        if all_ok_swapped && data.bad_nodes.len() * 2 > total {
            return Err(ImportError::File {
                file,
                msg: format!(
                    "latitude and longitude look swapped: {} of {total} nodes have a latitude \
                     beyond ±90° (e.g. node {} at {}: lat={}, lon={}), and every node would be \
                     valid the other way round; OSM files give lat= (north) and lon= (east)",
                    data.bad_nodes.len(),
                    b.id,
                    if b.at.is_empty() { "?" } else { &b.at },
                    b.lat,
                    b.lon
                ),
            });
        }
        let what = if b.lat.abs() > 90.0 {
            format!("latitude {} is outside −90…90°", b.lat)
        } else {
            format!("longitude {} is outside −180…180°", b.lon)
        };
        return Err(match b.at.split_once(':') {
            Some((l, c)) => ImportError::At {
                file,
                line: l.parse().unwrap_or(0),
                col: c.parse().unwrap_or(0),
                msg: format!("node {}: {what}", b.id),
            },
            None => ImportError::File {
                file,
                msg: format!("node {}: {what}", b.id),
            },
        });
    }
    // All in range, but outside the file's own bounds and inside them swapped.
    if let Some([x0, y0, x1, y1]) = data.bounds
        && !data.nodes.is_empty()
    {
        let inside = |lon: f64, lat: f64, b: [f64; 4]| {
            let m = 1e-3;
            lon >= b[0] - m && lon <= b[2] + m && lat >= b[1] - m && lat <= b[3] + m
        };
        let pts: Vec<(f64, f64)> = data
            .nodes
            .iter()
            .map(|n| (n.lon_e7 as f64 / 1e7, n.lat_e7 as f64 / 1e7))
            .collect();
        let n_in = pts
            .iter()
            .filter(|p| inside(p.0, p.1, [x0, y0, x1, y1]))
            .count();
        let n_sw = pts
            .iter()
            .filter(|p| inside(p.1, p.0, [x0, y0, x1, y1]))
            .count();
        if n_in == 0 && n_sw * 2 > pts.len() {
            return Err(ImportError::File {
                file,
                msg: format!(
                    "latitude and longitude look swapped: no node lies inside the file's \
                     <bounds> (lon {x0}…{x1}, lat {y0}…{y1}) but {n_sw} of {} do with lat and \
                     lon exchanged",
                    pts.len()
                ),
            });
        }
    }
    Ok(())
}

/// Counts of what a file holds (for messages and tests).
pub fn summary(data: &OsmData) -> BTreeMap<&'static str, usize> {
    BTreeMap::from([
        ("nodes", data.nodes.len()),
        ("ways", data.ways.len()),
        ("relations", data.relations.len()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_join_by_their_ends() {
        // Two halves of a square, the second reversed, and a dangling piece.
        let (rings, open) = join_rings(vec![vec![1, 2, 3], vec![1, 4, 3], vec![7, 8]]);
        assert_eq!(rings, vec![vec![1, 2, 3, 4, 1]]);
        assert_eq!(open, 1);
        let (rings, open) = join_rings(vec![vec![5, 6, 7, 5]]);
        assert_eq!((rings.len(), open), (1, 0));
    }

    #[test]
    fn deleted_objects_are_left_out() {
        let xml = br#"<osm version="0.6">
 <node id="1" lat="50.0" lon="6.0"/><node id="2" lat="50.0" lon="6.001"/>
 <node id="3" lat="50.001" lon="6.001" action="delete"/>
 <way id="10" action="delete"><nd ref="1"/><nd ref="2"/><tag k="highway" v="service"/></way>
 <way id="11"><nd ref="1"/><nd ref="2"/><tag k="highway" v="service"/></way>
</osm>"#;
        let d = read_osm_data("t.osm", xml).unwrap();
        assert_eq!(d.nodes.len(), 2);
        assert_eq!(d.ways.len(), 1);
        assert_eq!(d.ways[0].id, 11);
        assert_eq!(d.ways[0].tags.get("highway").unwrap(), "service");
    }

    #[test]
    fn line_and_column() {
        let b = b"ab\ncd\n  ef";
        assert_eq!(line_col(b, 0), (1, 1));
        assert_eq!(line_col(b, 4), (2, 2));
        assert_eq!(line_col(b, 8), (3, 3));
    }

    #[test]
    fn a_small_file() {
        let xml = br#"<?xml version="1.0"?>
<osm version="0.6">
 <node id="1" lat="50.0" lon="6.0"/>
 <node id="2" lat="50.0" lon="6.001"/>
 <node id="3" lat="50.001" lon="6.001"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>
  <tag k="building" v="house"/><tag k="note" v="dropped"/></way>
 <way id="11"><nd ref="1"/><nd ref="9"/><nd ref="3"/><tag k="highway" v="residential"/></way>
</osm>"#;
        let f = read("t.osm", xml).unwrap();
        assert_eq!(f.buildings.len(), 1);
        assert_eq!(f.buildings[0].source_id, "way/10");
        assert_eq!(f.buildings[0].outers[0].len(), 4);
        assert_eq!(f.buildings[0].outers[0][1], [6.001, 50.0]);
        assert_eq!(f.buildings[0].tags.len(), 1);
        assert_eq!(f.lines.len(), 1);
        assert_eq!(f.lines[0].points.len(), 2);
        assert_eq!(
            f.messages,
            vec!["way/11: 1 of 3 node(s) missing from the file (dropped)".to_string()]
        );
    }
}

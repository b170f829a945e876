//! The GeoJSON and CityJSON readers on small hand-written files (tests/import/) and the broken
//! corpus (tests/import/broken/): decoded coordinates, heights, tags and error messages.

use qtwin::import::crs::Reprojector;
use qtwin::import::{ReadOptions, cityjson, geojson};

fn file(rel: &str) -> (String, Vec<u8>) {
    let path = format!("{}/tests/import/{rel}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    (rel.rsplit('/').next().unwrap().to_string(), bytes)
}

fn close(a: [f64; 2], b: [f64; 2], tol: f64) -> bool {
    (a[0] - b[0]).abs() <= tol && (a[1] - b[1]).abs() <= tol
}

/// The Schreutelkamp & Strang van Hees approximation RD → WGS84 (better than 0.25 m): an
/// independent check of the pinned values below.
fn rd_approx(x: f64, y: f64) -> [f64; 2] {
    let dx = (x - 155_000.0) * 1e-5;
    let dy = (y - 463_000.0) * 1e-5;
    let k = [
        (0, 1, 3235.65389),
        (2, 0, -32.58297),
        (0, 2, -0.24750),
        (2, 1, -0.84978),
        (0, 3, -0.06550),
        (2, 2, -0.01709),
        (1, 0, -0.00738),
        (4, 0, 0.00530),
        (2, 3, -0.00039),
        (4, 1, 0.00033),
        (1, 1, -0.00012),
    ];
    let l = [
        (1, 0, 5260.52916),
        (1, 1, 105.94684),
        (1, 2, 2.45656),
        (3, 0, -0.81885),
        (1, 3, 0.05594),
        (3, 1, -0.05607),
        (0, 1, 0.01199),
        (3, 2, -0.00256),
        (1, 4, 0.00128),
        (0, 2, 0.00022),
        (2, 0, -0.00022),
        (5, 0, 0.00026),
    ];
    let s = |c: &[(i32, i32, f64)]| {
        c.iter()
            .map(|&(p, q, v)| v * dx.powi(p) * dy.powi(q))
            .sum::<f64>()
            / 3600.0
    };
    [5.38720621 + s(&l), 52.15517440 + s(&k)]
}

#[test]
fn overpass_turbo_export() {
    let (name, bytes) = file("overpass.geojson");
    let r = geojson::read(&name, &bytes, &ReadOptions::default()).unwrap();
    assert_eq!(r.buildings.len(), 2);
    let a = &r.buildings[0];
    assert_eq!(a.source_id, "way/1001");
    assert_eq!(a.tags["building"], "apartments");
    assert_eq!(a.tags["building:levels"], "4");
    assert_eq!(a.tags["roof:levels"], "1");
    assert_eq!(a.tags["start_date"], "~1965");
    assert_eq!(a.tags["addr:street"], "Forckenbeckstraße");
    assert!(!a.tags.contains_key("@id"));
    assert_eq!(a.outers.len(), 1);
    assert_eq!(a.outers[0].len(), 5);
    assert_eq!(a.outers[0][2], [6.0486, 50.7794]);
    assert!(a.holes.is_empty());
    assert_eq!(a.model_height_m, None);
    // Tags nested under `tags` (older osmtogeojson), the id from the feature.
    let b = &r.buildings[1];
    assert_eq!(b.source_id, "way/1002");
    assert_eq!(b.tags["building"], "university");
    assert_eq!(b.tags["height"], "14,5 m");
    assert_eq!(b.tags["name"], "Hörsaal");
    assert!(!b.tags.contains_key("meta") && !b.tags.contains_key("relations"));
    // Streets: every highway line (the finishing step picks the pipe-carrying classes).
    assert_eq!(r.lines.len(), 2);
    assert_eq!(r.lines[0].source_id, "way/2001");
    assert_eq!(r.lines[0].tags["highway"], "residential");
    assert_eq!(r.lines[0].points.len(), 3);
    assert_eq!(r.lines[1].tags["highway"], "footway");
    // The park is an area; the bench point is reported.
    assert_eq!(r.areas.len(), 1);
    assert_eq!(r.areas[0].source_id, "relation/4001");
    assert_eq!(r.areas[0].tags["leisure"], "park");
    assert!(
        r.messages.iter().any(|m| m.starts_with("1 points ignored")),
        "{:?}",
        r.messages
    );
}

#[test]
fn qgis_export_in_etrs89_utm32_with_a_legacy_crs_member() {
    let (name, bytes) = file("qgis_25832.geojson");
    let opts = ReadOptions {
        map: vec![
            ("floors".into(), "geschosse".into()),
            ("year".into(), "BAUJAHR".into()), // matched ignoring case
            ("height".into(), "hoehe".into()),
            ("use".into(), "nutzung".into()),
            ("id".into(), "fid".into()),
        ],
        ..ReadOptions::default()
    };
    let r = geojson::read(&name, &bytes, &opts).unwrap();
    assert_eq!(r.buildings.len(), 2, "{:?}", r.messages);
    let a = &r.buildings[0];
    assert_eq!(a.source_id, "1");
    assert_eq!(a.tags["building:levels"], "3");
    assert_eq!(a.tags["start_date"], "1972");
    assert_eq!(a.tags["height"], "10.5");
    assert_eq!(a.tags["building"], "apartments");
    // 294000, 5628000 in ETRS89 / UTM 32N (proj4rs; checked against an independent Krüger
    // series to < 1 mm in the crs unit tests).
    let p0 = a.outers[0][0];
    assert!(close(p0, [6.0786008, 50.7671399], 1e-6), "{p0:?}");
    // 20 m along the grid's x axis: 20 m / k on the ground, k = 1.00013 at 206 km from the
    // central meridian (grid convergence turns it 2.3° off east; the distance is what counts).
    let p1 = a.outers[0][1];
    let lat = 50.7671399_f64.to_radians();
    let east_m = (p1[0] - p0[0]) * (111_412.8 * lat.cos() - 93.5 * (3.0 * lat).cos());
    let north_m = (p1[1] - p0[1]) * 111_229.0;
    let d = east_m.hypot(north_m);
    assert!((d - 19.997).abs() < 0.01, "{d}");
    let b = &r.buildings[1];
    assert_eq!(b.source_id, "2");
    assert_eq!(b.tags["building"], "office");
    assert_eq!(b.tags["height"], "7.25");
    assert!(!b.tags.contains_key("start_date"));
    assert!(!b.tags.contains_key("building:levels"));
    let all = r.messages.join("\n");
    assert!(
        all.contains("2: baujahr = unbekannt is not a plausible year of construction"),
        "{all}"
    );
    assert!(all.contains("1 features without geometry ignored"), "{all}");
    // --crs overrides the member (WGS 84 / UTM 32N: the same grid to well under 1e-7°).
    let opts = ReadOptions {
        crs: Some("EPSG:32632".into()),
        ..opts
    };
    let r2 = geojson::read(&name, &bytes, &opts).unwrap();
    assert!(close(r2.buildings[0].outers[0][0], p0, 1e-7));
}

#[test]
fn cea_zone_file() {
    let (name, bytes) = file("cea_zone.geojson");
    let r = geojson::read(&name, &bytes, &ReadOptions::default()).unwrap();
    assert_eq!(r.buildings.len(), 3);
    let ids: Vec<&str> = r.buildings.iter().map(|b| b.source_id.as_str()).collect();
    assert_eq!(ids, ["B1000", "B1001", "B1002"]);
    let a = &r.buildings[0];
    assert_eq!(a.tags["building"], "apartments");
    assert_eq!(a.tags["building:levels"], "5");
    assert_eq!(a.tags["height"], "16.5");
    assert_eq!(a.tags["start_date"], "1978");
    assert_eq!(a.tags["name"], "B1000");
    assert!(!a.tags.contains_key("floors_ag") && !a.tags.contains_key("1ST_USE"));
    let b = &r.buildings[1];
    assert_eq!(b.tags["building"], "office");
    assert_eq!(b.tags["building:levels"], "2");
    assert_eq!(b.tags["height"], "6");
    assert_eq!(b.tags["start_date"], "2005");
    let c = &r.buildings[2];
    assert_eq!(c.tags["building"], "commercial");
    assert_eq!(c.tags["telecom"], "data_center");
    assert_eq!(c.outers[0][0], [8.5420, 47.3700]);
}

#[test]
fn multipolygon_with_a_hole_and_what_is_not_a_building() {
    let (name, bytes) = file("multipolygon_hole.geojson");
    let r = geojson::read(&name, &bytes, &ReadOptions::default()).unwrap();
    assert_eq!(r.buildings.len(), 1);
    let s = &r.buildings[0];
    assert_eq!(s.source_id, "relation/77");
    assert_eq!(s.tags["building"], "school");
    assert_eq!(s.tags["building:levels"], "3");
    assert_eq!(s.outers.len(), 2);
    assert_eq!(s.holes.len(), 1);
    assert_eq!(s.holes[0][0], [6.0603, 50.7803]);
    assert_eq!(s.outers[1][2], [6.0625, 50.7804]);
    assert_eq!(r.areas.len(), 1);
    assert_eq!(r.areas[0].tags["landuse"], "grass");
    // The service road's two parts.
    assert_eq!(r.lines.len(), 2);
    assert_eq!(r.lines[0].source_id, "feature 4 part 0");
    assert_eq!(
        r.lines[1].points,
        vec![[6.0650, 50.7795], [6.0650, 50.7785]]
    );
    let all = r.messages.join("\n");
    assert!(all.contains("1 polygons without a building"), "{all}");
    assert!(
        all.contains("1 lines without a highway or waterway tag ignored"),
        "{all}"
    );
    // With a building attribute mapped, the untagged polygon is a building too (the grass is not).
    let opts = ReadOptions {
        map: vec![("levels".into(), "fid".into())],
        ..ReadOptions::default()
    };
    let r = geojson::read(&name, &bytes, &opts).unwrap();
    assert_eq!(r.buildings.len(), 2);
    assert_eq!(r.buildings[1].tags["building"], "yes");
    assert_eq!(r.buildings[1].tags["building:levels"], "9");
    assert_eq!(r.areas.len(), 1);
}

#[test]
fn cityjson_rd_new_with_transform_lod2_semantics_and_lod1_parts() {
    let (name, bytes) = file("delft.city.json");
    let r = cityjson::read(&name, &bytes, &ReadOptions::default()).unwrap();
    assert_eq!(r.buildings.len(), 3, "{:?}", r.messages);
    let ids: Vec<&str> = r.buildings.iter().map(|b| b.source_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "NL.IMBAG.Pand.0599100000000001",
            "NL.IMBAG.Pand.0599100000000002",
            "NL.IMBAG.Pand.0599100000000003"
        ]
    );
    // LoD2.2 solid: the footprint is its GroundSurface [0, 3, 2, 1]; height from the model,
    // ground at −0.5 m NAP to the ridge at 9.0 m.
    let a = &r.buildings[0];
    assert_eq!(a.outers.len(), 1);
    assert_eq!(a.outers[0].len(), 4);
    let v0 = a.outers[0][0]; // RD 85000, 446000
    let v2 = a.outers[0][2]; // RD 85010, 446008
    assert!(close(v0, [4.3678878, 51.9979621], 1e-6), "{v0:?}");
    assert!(close(v2, [4.3680318, 51.9980353], 1e-6), "{v2:?}");
    for (got, x, y) in [(v0, 85_000.0, 446_000.0), (v2, 85_010.0, 446_008.0)] {
        let reference = rd_approx(x, y);
        let e_m = ((got[0] - reference[0]) * 68_700.0).hypot((got[1] - reference[1]) * 111_250.0);
        assert!(e_m < 1.0, "({x}, {y}): {got:?} vs {reference:?}: {e_m} m");
    }
    assert!((a.model_height_m.unwrap() - 9.5).abs() < 1e-9);
    assert_eq!(a.tags["start_date"], "1932");
    assert_eq!(a.tags["building:levels"], "2");
    assert_eq!(a.tags["building"], "yes");
    assert_eq!(a.tags["roof:shape"], "gabled");
    // LoD1.2 in a BuildingPart merged into its parent: the footprint is the bottom face at the
    // minimum height; 12 m from the model; the parent's attributes.
    let b = &r.buildings[1];
    assert_eq!(b.outers.len(), 1);
    assert_eq!(b.outers[0].len(), 4);
    let w0 = b.outers[0][0]; // RD 85020, 446000
    assert!(close(w0, [4.3681790, 51.9979646], 1e-6), "{w0:?}");
    assert!((b.model_height_m.unwrap() - 12.0).abs() < 1e-9);
    assert_eq!(b.tags["start_date"], "1965");
    assert_eq!(b.tags["building:levels"], "4");
    assert_eq!(b.tags["building"], "residential");
    assert_eq!(b.tags["height"], "12");
    // Only sloped roof surfaces: the convex hull of its vertices, reported.
    let c = &r.buildings[2];
    assert_eq!(c.tags["building"], "office");
    assert_eq!(c.outers[0].len(), 5);
    assert!((c.model_height_m.unwrap() - 3.0).abs() < 1e-9);
    let all = r.messages.join("\n");
    assert!(
        all.contains("1 buildings without a ground surface"),
        "{all}"
    );
    assert!(all.contains("city objects ignored: 1 TINRelief"), "{all}");
    // The same file read twice gives the same features.
    assert_eq!(
        cityjson::read(&name, &bytes, &ReadOptions::default()).unwrap(),
        r
    );
}

#[test]
fn reprojector_is_public() {
    let r = Reprojector::from_crs("EPSG:28992").unwrap();
    let p = r.to_wgs84(85_000.0, 446_000.0).unwrap();
    assert!(close(p, [4.3678878, 51.9979621], 1e-6), "{p:?}");
}

/// Each broken file and the message it must give (file name and what).
#[test]
fn broken_corpus() {
    let cases: &[(&str, &[&str])] = &[
        (
            "not_json.geojson",
            &["not_json.geojson:1:1: not valid JSON: expected value"],
        ),
        (
            "line3col5.geojson",
            &["line3col5.geojson:3:5: not valid JSON: key must be a string"],
        ),
        (
            "wrong_type.geojson",
            &["wrong_type.geojson: GeoJSON type \"Topology\" not understood"],
        ),
        (
            "projected_no_crs.geojson",
            &[
                "projected_no_crs.geojson: the file looks projected",
                "(e.g. 294000, 5628000)",
                "pass --crs EPSG:n",
            ],
        ),
        (
            "bad_index.city.json",
            &[
                "bad_index.city.json: CityObject \"b1\" geometry 0 (MultiSurface)",
                "boundary index 99 at boundaries[0][0][3] is out of range (the file has 4 vertices)",
            ],
        ),
        (
            "version.city.json",
            &["version.city.json: CityJSON version \"3.0\" is not supported"],
        ),
        (
            "cut_short.city.json",
            &["cut_short.city.json:1:", "the file is cut short"],
        ),
        (
            "wrong_type.city.json",
            &["wrong_type.city.json: not a CityJSON file: \"type\" is \"FeatureCollection\""],
        ),
    ];
    let dir = format!("{}/tests/import/broken", env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        // The folder also holds the OpenStreetMap corpus (tests/import_read.rs).
        if !(name.ends_with(".geojson") || name.ends_with(".city.json")) {
            continue;
        }
        let (_, expected) = cases
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{name}: no expected message in this test"));
        let bytes = std::fs::read(&path).unwrap();
        let result = if name.ends_with(".city.json") {
            cityjson::read(&name, &bytes, &ReadOptions::default())
        } else {
            geojson::read(&name, &bytes, &ReadOptions::default())
        };
        let msg = result.expect_err(&name).to_string();
        for e in *expected {
            assert!(msg.contains(e), "{name}: {msg:?} lacks {e:?}");
        }
        seen += 1;
    }
    assert_eq!(seen, cases.len());
}

/// Random bytes and truncations of the good files never panic.
#[test]
fn truncated_and_mangled_input_never_panics() {
    for f in [
        "overpass.geojson",
        "qgis_25832.geojson",
        "cea_zone.geojson",
        "multipolygon_hole.geojson",
        "delft.city.json",
    ] {
        let (name, bytes) = file(f);
        for cut in (0..bytes.len()).step_by(7) {
            let _ = geojson::read(&name, &bytes[..cut], &ReadOptions::default());
            let _ = cityjson::read(&name, &bytes[..cut], &ReadOptions::default());
        }
        // Digits replaced by 9s: huge numbers and indices everywhere.
        let mangled: Vec<u8> = bytes
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if b.is_ascii_digit() && i % 3 == 0 {
                    b'9'
                } else {
                    b
                }
            })
            .collect();
        let _ = geojson::read(&name, &mangled, &ReadOptions::default());
        let _ = cityjson::read(&name, &mangled, &ReadOptions::default());
    }
}

/// 10,000 buildings in a projected CRS through each reader: counts asserted, time printed (a
/// measurement, not a timed test).
#[test]
fn ten_thousand_buildings() {
    let n = 10_000;
    let mut g = String::from(
        r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::25832"}},"features":["#,
    );
    let mut c = String::from(
        r#"{"type":"CityJSON","version":"2.0","metadata":{"referenceSystem":"https://www.opengis.net/def/crs/EPSG/0/7415"},"transform":{"scale":[0.001,0.001,0.001],"translate":[85000.0,446000.0,0.0]},"CityObjects":{"#,
    );
    let mut verts = Vec::new();
    for i in 0..n {
        let (x, y) = (
            294_000.0 + 25.0 * (i % 100) as f64,
            5_628_000.0 + 25.0 * (i / 100) as f64,
        );
        if i > 0 {
            g.push(',');
            c.push(',');
        }
        g.push_str(&format!(
            r#"{{"type":"Feature","properties":{{"building":"yes","building:levels":"{}"}},"geometry":{{"type":"Polygon","coordinates":[[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]]}}}}"#,
            1 + i % 6,
            x + 15.0,
            x + 15.0,
            y + 12.0,
            y + 12.0
        ));
        let b = 8 * i;
        c.push_str(&format!(
            r#""b{i}":{{"type":"Building","geometry":[{{"type":"Solid","lod":"1.2","boundaries":[[[[{b},{},{},{}]],[[{},{},{},{}]],[[{b},{},{},{}]],[[{},{},{},{}]],[[{},{},{},{}]],[[{},{b},{},{}]]]]}}]}}"#,
            b + 3, b + 2, b + 1,
            b + 4, b + 5, b + 6, b + 7,
            b + 1, b + 5, b + 4,
            b + 1, b + 2, b + 6, b + 5,
            b + 2, b + 3, b + 7, b + 6,
            b + 3, b + 4, b + 7
        ));
        let (x0, y0) = (25_000 * (i % 100) as i64, 25_000 * (i / 100) as i64);
        for z in [0, 9_000] {
            for (dx, dy) in [(0, 0), (15_000, 0), (15_000, 12_000), (0, 12_000)] {
                verts.push(format!("[{},{},{z}]", x0 + dx, y0 + dy));
            }
        }
    }
    g.push_str("]}");
    c.push_str(r#"},"vertices":["#);
    c.push_str(&verts.join(","));
    c.push_str("]}");
    let t = std::time::Instant::now();
    let r = geojson::read("big.geojson", g.as_bytes(), &ReadOptions::default()).unwrap();
    let tg = t.elapsed();
    assert_eq!(r.buildings.len(), n);
    let t = std::time::Instant::now();
    let rc = cityjson::read("big.city.json", c.as_bytes(), &ReadOptions::default()).unwrap();
    let tc = t.elapsed();
    assert_eq!(rc.buildings.len(), n);
    assert!(
        rc.buildings
            .iter()
            .all(|b| b.model_height_m == Some(9.0) && b.outers[0].len() == 4)
    );
    eprintln!(
        "10,000 buildings: GeoJSON in EPSG:25832 ({:.1} MB) {:.0} ms, CityJSON in EPSG:7415 ({:.1} MB) {:.0} ms",
        g.len() as f64 / 1e6,
        tg.as_secs_f64() * 1e3,
        c.len() as f64 / 1e6,
        tc.as_secs_f64() * 1e3
    );
}

//! `qtwin import`, the reading half: hand-written OSM files, the broken-input corpus, the real
//! campus extract (XML and PBF), and the typology's calibration against the demand model.

use std::path::{Path, PathBuf};

use qtwin::demand::Buildings;
use qtwin::import::typology::{Calibration, SizeClass, Typology};
use qtwin::import::{District, ReadOptions, read_files, read_paths};
use qtwin::scene::{BuildingUse, Envelope, MapFeature, Source};
use qtwin::sim::{RunOptions, Simulation};

fn small() -> District {
    read_paths(&["tests/import/small.osm"], &ReadOptions::default()).unwrap()
}

fn building<'a>(d: &'a District, id: &str) -> &'a qtwin::scene::Building {
    d.buildings
        .iter()
        .find(|b| b.id == id)
        .unwrap_or_else(|| panic!("no building {id}"))
}

fn has_message(d: &District, id: &str, what: &str) -> bool {
    d.report
        .messages
        .iter()
        .any(|m| m.starts_with(&format!("{id}:")) && m.contains(what))
}

#[test]
fn small_file_buildings_and_their_values() {
    let d = small();
    let ids: Vec<&str> = d.buildings.iter().map(|b| b.id.as_str()).collect();
    // Sorted by kind then number; the garage, the kiosk and the duplicate are not heated.
    assert_eq!(ids, ["r1", "w104", "w105", "w106", "w107", "w108", "w109"]);
    let r = &d.report;
    assert_eq!(r.buildings_read, 10);
    assert_eq!(r.buildings_heated, 7);
    assert_eq!(r.buildings_unheated, 2);
    assert_eq!(r.buildings_skipped, 1);
    assert_eq!(r.streets_read, 2);
    assert_eq!(r.lines_not_streets, 1);
    assert_eq!(r.format, "osm");

    // The multipolygon with a hole: heated area = (outer − hole) × floors × 0.85.
    let s = building(&d, "r1");
    assert_eq!(s.use_, BuildingUse::School);
    assert_eq!(s.floors, 3);
    let outer = s.footprint_area_m2();
    assert!(
        (outer - 5.0 * 7.04 * 3.0 * 11.13).abs() / outer < 0.01,
        "{outer}"
    );
    let hole = 7.04 * 11.13;
    let want = (outer - hole) * 3.0 * 0.85;
    let got = s.heated_area_m2.unwrap();
    assert!((got - want).abs() / want < 0.01, "{got} vs {want}");
    let p = s.provenance.as_ref().unwrap();
    assert_eq!((p.year_built, p.year), (1905, Source::Measured));
    assert_eq!(p.floors, Source::Measured);
    assert_eq!(p.source_id, "relation/1");

    // `building=yes`: the district's most common use (residential), floors from "12,5" m.
    let y = building(&d, "w104");
    assert_eq!(y.use_, BuildingUse::Residential);
    let p = y.provenance.as_ref().unwrap();
    assert_eq!(p.use_, Source::Defaulted);
    assert_eq!((y.floors, p.floors), (4, Source::Derived));
    assert_eq!((p.year_built, p.year), (1900, Source::Derived));

    let p = building(&d, "w105").provenance.clone().unwrap();
    assert_eq!((p.year_built, p.year), (1865, Source::Derived));
    let a = building(&d, "w106");
    assert_eq!(a.floors, 5); // 4 levels + 1 roof level
    assert_eq!(a.provenance.as_ref().unwrap().year_built, 1916);

    // The unclosed way: closed, reported; floors the district median (3 of 2, 3, 4, 5).
    let u = building(&d, "w107");
    assert!(has_message(&d, "way/107", "ring closed"));
    assert_eq!(u.footprint.len(), 4);
    let p = u.provenance.as_ref().unwrap();
    assert_eq!((u.floors, p.floors), (3, Source::Defaulted));
    assert_eq!((p.year_built, p.year), (1850, Source::Derived));

    // The way with a missing node and a NaN node: both dropped, the building kept.
    assert!(has_message(&d, "way/108", "2 of 7 node(s) missing"));
    assert!(
        r.messages
            .iter()
            .any(|m| m.contains("coordinates are not finite numbers"))
    );
    assert_eq!(building(&d, "w108").footprint.len(), 4);
    // Its year: the district median of the stated years.
    let p = building(&d, "w108").provenance.clone().unwrap();
    assert_eq!((p.year_built, p.year), (1865, Source::Defaulted));

    // The bow-tie: repaired to its convex hull, the rectangle.
    let b = building(&d, "w109");
    assert!(has_message(&d, "way/109", "convex hull"));
    assert!((b.footprint_area_m2() - 2.0 * 7.04 * 11.13).abs() < 2.0);
    assert_eq!(b.use_, BuildingUse::Office);

    // Unheated: the garage and the 7 m² kiosk; the duplicate of w105 dropped.
    assert!(has_message(&d, "way/103", "garage"));
    assert!(has_message(&d, "way/110", "under 20 m²"));
    assert!(has_message(&d, "way/111", "duplicate"));
    let outbuildings = d
        .map
        .iter()
        .filter(|m| matches!(m, MapFeature::Outbuilding { .. }))
        .count();
    let parks = d
        .map
        .iter()
        .filter(|m| matches!(m, MapFeature::Park { .. }))
        .count();
    let water = d
        .map
        .iter()
        .filter(|m| matches!(m, MapFeature::Water { .. }))
        .count();
    assert_eq!((outbuildings, parks, water), (2, 1, 1));

    // Streets: the residential street and the service road (width from its tag), no footway.
    let classes: Vec<(&str, f64)> = d
        .streets
        .iter()
        .map(|s| (s.class.as_str(), s.width_m))
        .collect();
    assert_eq!(classes, [("residential", 7.0), ("service", 5.0)]);

    // Every footprint counter-clockwise, at millimetres, origin near the buildings' centre.
    for b in &d.buildings {
        assert!(b.footprint_area_m2() > 0.0, "{}", b.id);
        for p in &b.footprint {
            for v in p {
                assert_eq!((v * 1000.0).round() / 1000.0, *v);
            }
        }
        let Envelope::HeatLossWK(h) = b.envelope else {
            panic!("{}: not a heat-loss coefficient", b.id)
        };
        assert!(h > 0.0);
    }
    assert!((d.georef.origin_lon_deg - 6.0541).abs() < 1e-3);
    assert!((d.georef.origin_lat_deg - 50.7802).abs() < 1e-3);

    // Provenance shares in the report.
    let f = d.report.sources["floors"];
    assert_eq!((f.measured, f.derived, f.defaulted), (3, 1, 3));
    let u = d.report.sources["use"];
    assert_eq!((u.measured, u.defaulted), (6, 1));
}

#[test]
fn repeated_reads_are_identical_and_options_apply() {
    assert_eq!(small(), small());
    // A box around the western half: r1 (x 0–5) and w104 (x 20–23) of the heated buildings.
    let opts = ReadOptions {
        bbox: Some([6.0495, 50.7795, 6.0525, 50.781]),
        ..Default::default()
    };
    let d = read_paths(&["tests/import/small.osm"], &opts).unwrap();
    let ids: Vec<&str> = d.buildings.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, ["r1", "w104"]);
    // The same box with lon and lat exchanged is explained.
    let opts = ReadOptions {
        bbox: Some([50.7795, 6.0495, 50.781, 6.0525]),
        ..Default::default()
    };
    let e = read_paths(&["tests/import/small.osm"], &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("longitude and latitude exchanged"), "{e}");
    // --max-buildings.
    let opts = ReadOptions {
        max_buildings: Some(5),
        ..Default::default()
    };
    let e = read_paths(&["tests/import/small.osm"], &opts)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("10 buildings are more than --max-buildings 5"),
        "{e}"
    );
    // A typology table of one's own.
    let opts = ReadOptions {
        typology_csv: Some(
            "use,size_class,year_from,year_to,specific_heat_kwh_m2a\nresidential,any,,,100\n"
                .into(),
        ),
        ..Default::default()
    };
    let d = read_paths(&["tests/import/small.osm"], &opts).unwrap();
    assert!(
        d.buildings
            .iter()
            .all(|b| b.provenance.as_ref().unwrap().specific_heat_kwh_m2a == 100.0)
    );
    // Two files, one of them twice: merged, each object once.
    let bytes = std::fs::read("tests/import/small.osm").unwrap();
    let two = read_files(
        &[("a.osm".into(), bytes.clone()), ("b.osm".into(), bytes)],
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(two.buildings, small().buildings);
    assert_eq!(two.report.files, ["a.osm", "b.osm"]);
}

#[test]
fn broken_inputs_are_explained() {
    let cases = [
        (
            "truncated.osm",
            "truncated.osm:6:1: the file ends inside <way>",
        ),
        (
            "truncated_tag.osm",
            "truncated_tag.osm:4:2: not well-formed XML",
        ),
        (
            "not_xml.osm",
            "not an OpenStreetMap XML file: text `this is not XML",
        ),
        ("empty.osm", "empty.osm: the file is empty"),
        (
            "lat91.osm",
            "lat91.osm:4:2: node 2: latitude 91 is outside −90…90°",
        ),
        (
            "swapped.osm",
            "latitude and longitude look swapped: 4 of 4 nodes",
        ),
        (
            "missing_nodes.osm",
            "(way/10: 4 of 4 node(s) missing from the file",
        ),
        ("wrong_root.osm", "the root element is <gpx>, not <osm>"),
        (
            "bad_number.osm",
            "bad_number.osm:3:2: node 1: lat `fifty` is not a number",
        ),
        ("mismatched.osm", "mismatched.osm:5:2: not well-formed XML"),
    ];
    for (file, want) in cases {
        let path = format!("tests/import/broken/{file}");
        let got = read_paths(&[&path], &ReadOptions::default())
            .map(|_| "no error".to_string())
            .unwrap_or_else(|e| e.to_string());
        assert!(got.contains(want), "{file}: got `{got}`, want `{want}`");
    }
    // Not a file at all; content that no reader claims.
    let e = read_paths(&["tests/import/nothing.osm"], &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("tests/import/nothing.osm: cannot read"), "{e}");
    let e = read_files(
        &[("x.txt".into(), b"hello".to_vec())],
        &ReadOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("x.txt: format not recognised"), "{e}");
}

fn campus(ext: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../shared/data/osm/campus_melaten.{ext}"));
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "{} not found: skipping (CI has ../shared beside the checkout)",
            p.display()
        );
        None
    }
}

/// Golden facts of the real extract, and XML and PBF giving the same district.
#[test]
fn campus_melaten_xml_and_pbf() {
    let (Some(xml), Some(pbf)) = (campus("osm"), campus("osm.pbf")) else {
        return;
    };
    let opts = ReadOptions::default();
    let a = read_paths(&[&xml], &opts).unwrap();
    let b = read_paths(&[&pbf], &opts).unwrap();
    assert_eq!(a.buildings, b.buildings);
    assert_eq!(a.streets, b.streets);
    assert_eq!(a.map, b.map);
    assert_eq!(a.georef, b.georef);
    assert_eq!(a.report.messages, b.report.messages);
    assert_eq!(a, read_paths(&[&xml], &opts).unwrap());
    // A PBF cut short, and one with a corrupted blob: errors, not panics.
    let bytes = std::fs::read(&pbf).unwrap();
    for (name, cut) in [
        ("cut.osm.pbf", bytes[..bytes.len() / 2].to_vec()),
        ("header_only.osm.pbf", bytes[..40.min(bytes.len())].to_vec()),
        ("flipped.osm.pbf", {
            let mut b = bytes.clone();
            let n = b.len();
            for x in &mut b[n / 3..n / 3 + 64] {
                *x ^= 0x5a;
            }
            b
        }),
    ] {
        let e = read_files(&[(name.to_string(), cut)], &opts)
            .map(|_| "no error".to_string())
            .unwrap_or_else(|e| e.to_string());
        println!("{name}: {e}");
        assert!(e.starts_with(name), "{name}: {e}");
    }
    let r = &a.report;
    println!(
        "campus: read {} heated {} unheated {} skipped {} repaired {} streets {} not streets {} \
         map {} sources {:?} origin {:?}",
        r.buildings_read,
        r.buildings_heated,
        r.buildings_unheated,
        r.buildings_skipped,
        r.buildings_repaired,
        r.streets_read,
        r.lines_not_streets,
        r.map_features,
        r.sources,
        a.georef
    );
    for m in &r.messages {
        println!("  {m}");
    }
    // Golden facts, as measured when the reader was written (see the NOTICE of the extract):
    // 125 footprints (one of them a multipolygon relation), 22 of them not heated (garages,
    // roofs, stables, power installations, parking, 8 footprints under 20 m²).
    assert_eq!(r.buildings_read, 125);
    assert_eq!(r.buildings_heated, 103);
    assert_eq!(r.buildings_unheated, 22);
    assert_eq!(r.buildings_skipped, 0);
    assert_eq!(r.streets_read, 234);
    assert_eq!(r.lines_not_streets, 219);
    assert_eq!(r.map_features, 82);
    let f = r.sources["floors"];
    assert_eq!((f.measured, f.derived, f.defaulted), (23, 3, 77));
    let u = r.sources["use"];
    assert_eq!((u.measured, u.derived, u.defaulted), (54, 0, 49));
    assert_eq!(r.sources["year"].defaulted, 103); // the extract has no start_date
    assert_eq!(a.georef.origin_lon_deg, 6.0486913);
    assert_eq!(a.georef.origin_lat_deg, 50.7830695);
    assert!(a.buildings.iter().any(|b| b.id.starts_with('r')));
    // Within the extract's bounds (50.7746–50.7916 N, 6.0454–6.0522 E): about 1.9 km × 0.5 km.
    for b in &a.buildings {
        for p in &b.footprint {
            assert!(p[0].abs() < 400.0 && p[1].abs() < 1000.0, "{}: {p:?}", b.id);
        }
        assert!(b.footprint_area_m2() >= 20.0);
    }
}

/// The typology's envelope reproduces the table in the demand model: a year of simulation at
/// hourly ticks, each building's space heat per m² against its table value.
#[test]
fn typology_calibration_reproduces_the_table() {
    let mut scene = qtwin::generate::generate_city(&qtwin::generate::GenerateOptions {
        buildings: 12,
        sites: 0,
        seed: 5,
    });
    scene.sim.tick_s = 3600.0;
    let table = Typology::shipped();
    let cal = Calibration::temperate();
    let uses = [
        BuildingUse::Residential,
        BuildingUse::Office,
        BuildingUse::Retail,
        BuildingUse::School,
        BuildingUse::Hospital,
        BuildingUse::Industrial,
    ];
    let years = [
        1850, 1900, 1935, 1955, 1965, 1975, 1980, 1990, 1998, 2005, 2012, 2020,
    ];
    let mut want = Vec::new();
    for (i, b) in scene.buildings.iter_mut().enumerate() {
        let use_ = uses[i % 6];
        let size = if i % 2 == 0 {
            SizeClass::SingleFamily
        } else {
            SizeClass::MultiFamily
        };
        let q = table.specific_heat_kwh_m2a(use_, size, years[i % years.len()]);
        let area = b.heated_area();
        b.use_ = use_;
        b.heated_area_m2 = Some(area);
        b.envelope = Envelope::HeatLossWK(cal.heat_loss_w_m2k(use_, q) * area);
        want.push((b.id.clone(), q, area));
    }
    let mut sim = Simulation::new(&scene, &RunOptions::default()).unwrap();
    let mut kwh = vec![0.0; want.len()];
    for _ in 0..8760 {
        sim.step();
        let b = sim.res::<Buildings>();
        for (k, w) in kwh.iter_mut().zip(&b.space_heat_w) {
            *k += w * 3600.0 / 3.6e6;
        }
    }
    let mut worst = 0.0f64;
    for ((id, q, area), k) in want.iter().zip(&kwh) {
        let got = k / area;
        let rel = (got - q) / q;
        println!(
            "{id}: table {q:.0} kWh/(m²·a), simulated {got:.1} ({:+.1} %)",
            100.0 * rel
        );
        worst = worst.max(rel.abs());
    }
    // The calibration averages four weather years (seeds 0–3) at 15-minute samples; this run is
    // another year (seed 5) at hourly ticks: 0.8–2.4 % above the table when this was written.
    assert!(worst < 0.04, "worst relative error {worst}");
    // H/A of the residential bands, W/(m²·K), for the record.
    for size in [SizeClass::SingleFamily, SizeClass::MultiFamily] {
        let line: Vec<String> = years
            .iter()
            .map(|y| {
                let q = table.specific_heat_kwh_m2a(BuildingUse::Residential, size, *y);
                format!(
                    "{y}: {q:.0} → {:.3}",
                    cal.heat_loss_w_m2k(BuildingUse::Residential, q)
                )
            })
            .collect();
        println!("{size:?}: {}", line.join(", "));
    }
}

/// A generated OSM extract of `n × n` buildings on a street grid (for the timing below).
fn generated_osm(n: usize) -> Vec<u8> {
    let mut s = String::from("<?xml version=\"1.0\"?>\n<osm version=\"0.6\">\n");
    let (lon0, lat0) = (6.0, 50.0);
    let (dlon, dlat) = (0.0004, 0.00025); // ~28 m × 28 m cells
    let mut id = 0u64;
    let mut ways = String::new();
    for i in 0..n {
        for j in 0..n {
            let (x, y) = (lon0 + i as f64 * dlon, lat0 + j as f64 * dlat);
            let first = id + 1;
            for (a, b) in [(0.1, 0.1), (0.7, 0.1), (0.7, 0.7), (0.1, 0.7)] {
                id += 1;
                s.push_str(&format!(
                    " <node id=\"{id}\" lat=\"{:.7}\" lon=\"{:.7}\"/>\n",
                    y + b * dlat,
                    x + a * dlon
                ));
            }
            ways.push_str(&format!(
                " <way id=\"{}\"><nd ref=\"{first}\"/><nd ref=\"{}\"/><nd ref=\"{}\"/><nd ref=\"{}\"/><nd ref=\"{first}\"/><tag k=\"building\" v=\"{}\"/><tag k=\"building:levels\" v=\"{}\"/></way>\n",
                i * n + j + 1,
                first + 1,
                first + 2,
                first + 3,
                if (i + j) % 3 == 0 { "apartments" } else { "yes" },
                2 + (i * j) % 4
            ));
        }
    }
    // One street along each row of cells.
    for j in 0..=n {
        let first = id + 1;
        for i in [0, n] {
            id += 1;
            s.push_str(&format!(
                " <node id=\"{id}\" lat=\"{:.7}\" lon=\"{:.7}\"/>\n",
                lat0 + j as f64 * dlat,
                lon0 + i as f64 * dlon
            ));
        }
        ways.push_str(&format!(
            " <way id=\"{}\"><nd ref=\"{first}\"/><nd ref=\"{}\"/><tag k=\"highway\" v=\"residential\"/></way>\n",
            1_000_000 + j,
            first + 1
        ));
    }
    s.push_str(&ways);
    s.push_str("</osm>\n");
    s.into_bytes()
}

/// Import of a 10,000-building extract, reading and layout (a measurement printed, not a timed
/// test; the target is ≤ 10 s on a 2-core machine).
#[test]
fn import_10k_buildings() {
    let bytes = generated_osm(100);
    let t = std::time::Instant::now();
    let d = read_files(
        &[("gen.osm".into(), bytes.clone())],
        &ReadOptions::default(),
    )
    .unwrap();
    let read_s = t.elapsed().as_secs_f64();
    assert_eq!(d.buildings.len(), 10_000);
    let streets = d.streets.len();
    let t = std::time::Instant::now();
    let (scene, r) = qtwin::import::layout::layout(d, &Default::default()).unwrap();
    println!(
        "import of {} bytes: {} buildings, {streets} streets read in {read_s:.2} s; laid out in \
         {:.2} s: {} connected, {} pipes, {:.0} m mains",
        bytes.len(),
        r.buildings,
        t.elapsed().as_secs_f64(),
        r.buildings_connected,
        r.pipes,
        r.mains_length_m
    );
    println!(
        "  largest DN{}, design-day peak {:.1} MW, pump head {:.1} bar (design day needed {:.1} bar), \
         {} bypasses of {:.2} kg/s",
        r.largest_dn,
        r.design_day_peak_w / 1e6,
        r.pump_head_pa / 1e5,
        r.design_day_head_needed_pa / 1e5,
        r.bypasses,
        r.bypass_flow_kg_s
    );
    let heads: Vec<String> = r
        .station_pump_head_pa
        .iter()
        .map(|h| format!("{:.1}", h / 1e5))
        .collect();
    let loads: Vec<String> = r
        .station_load_w
        .iter()
        .map(|w| format!("{:.1}", w / 1e6))
        .collect();
    println!(
        "  {} stations (capacity {:.1} MW each): loads {} MW, pump heads {} bar, trunks DN{:?}",
        r.stations.len(),
        r.station_capacity_w / 1e6,
        loads.join(" "),
        heads.join(" "),
        r.station_largest_dn
    );
    assert_eq!(r.buildings_connected, 10_000, "{:?}", r.unconnected.first());
    qtwin::scene::validate(&scene).unwrap();
    // Several stations, each within its capacity, no pipe above DN400, pumps within PN25. The
    // extract's 101 streets are 2.8 km dead ends with no cross street, so the 3-bar limit on a
    // part's path (`layout::MAX_PATH_DP_PA`) gives about one station per one or two streets.
    let least = (r.design_load_w / r.station_capacity_w).ceil() as usize;
    assert!(least >= 5 && r.stations.len() >= least && r.stations.len() <= 101);
    assert!(r.station_load_w.iter().all(|w| *w <= r.station_capacity_w));
    assert!(r.largest_dn <= 400, "DN{}", r.largest_dn);
    assert!(r.station_pump_head_pa.iter().all(|h| *h <= 2.5e6));
    assert!(r.pump_head_pa <= 1.6e6, "{} Pa", r.pump_head_pa);
    assert!(r.design_day_head_needed_pa < 2.5e6);
}

/// The district's buildings and map features in a scene: `check` clean, and through RON and back
/// unchanged (the new map features and the provenance included).
#[test]
fn district_buildings_pass_the_scene_checks_and_round_trip_through_ron() {
    let d = match campus("osm") {
        Some(p) => read_paths(&[p], &ReadOptions::default()).unwrap(),
        None => small(),
    };
    let mut scene = qtwin::generate::generate_city(&qtwin::generate::GenerateOptions {
        buildings: 4,
        sites: 0,
        seed: 1,
    });
    scene.buildings = d.buildings.clone();
    scene.grid = None; // its PV names the generated buildings
    scene.map.extend(d.map.iter().cloned());
    scene.georef = Some(d.georef);
    if let Err(issues) = qtwin::scene::validate(&scene) {
        panic!("{issues:#?}");
    }
    let text = qtwin::scene::to_ron(&scene);
    let back = qtwin::scene::load_scene_str(&text, "district.ron").unwrap();
    assert_eq!(back.buildings, d.buildings);
    assert_eq!(back.georef, Some(d.georef));
    assert_eq!(back.map, scene.map);
    assert_eq!(qtwin::scene::to_ron(&back), text);
}

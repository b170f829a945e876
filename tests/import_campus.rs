//! `qtwin import` end to end on a real extract: RWTH Aachen Campus Melaten (OpenStreetMap, ODbL;
//! `../shared/data/osm/`, not copied into the repository). Reading, layout, `check`, a week's run,
//! the design day, export to GeoJSON and back, and identical bytes from XML, PBF and repeated
//! imports. Outside CI, where `../shared` may be absent, each test says so and skips.

use std::path::{Path, PathBuf};

use qtwin::demand::{ConsumerKind, Consumers};
use qtwin::import::geo::LocalTm;
use qtwin::import::layout::{LayoutOptions, LayoutReport, layout};
use qtwin::import::{ReadOptions, export, geojson, read_paths};
use qtwin::ledger::Ledger;
use qtwin::ledger::report::{Report, state_json};
use qtwin::scene::{self, Climate, FixedClimate, Scene};
use qtwin::sim::{RunOptions, Simulation};

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

fn import(path: &Path, opts: &LayoutOptions) -> (Scene, LayoutReport) {
    let d = read_paths(&[path], &ReadOptions::default()).unwrap();
    layout(d, opts).unwrap()
}

fn opts() -> LayoutOptions {
    LayoutOptions {
        name: "Campus Melaten".into(),
        // A micro quantum site on the campus (a lab block north of the centre).
        sites_lonlat: vec![[6.0497, 50.7838]],
        ..Default::default()
    }
}

#[test]
fn campus_imports_to_the_same_bytes_from_xml_pbf_and_again() {
    let (Some(xml), Some(pbf)) = (campus("osm"), campus("osm.pbf")) else {
        return;
    };
    let (a, ra) = import(&xml, &opts());
    let ron_a = scene::to_ron(&a);
    assert_eq!(ron_a, scene::to_ron(&import(&xml, &opts()).0));
    assert_eq!(ron_a, scene::to_ron(&import(&pbf, &opts()).0));
    // Golden facts of the extract.
    assert_eq!(ra.buildings, 103, "{ra:?}");
    assert_eq!(ra.buildings_connected, 103);
    assert!(ra.unconnected.is_empty());
    assert_eq!(ra.sites.len(), 1);
    assert!(
        (ra.mains_length_m - 8300.0).abs() < 150.0,
        "mains {} m",
        ra.mains_length_m
    );
    assert!(ra.service_length_m > 500.0 && ra.service_length_m < 1500.0);
    // `qtwin check` is clean, and every heated building has a node.
    scene::validate(&a).unwrap();
    assert!(a.buildings.iter().all(|b| b.node.is_some()));
    assert!(a.buildings.iter().all(|b| b.provenance.is_some()));
    // Pipes follow the streets: each one's length is its route's.
    let routed = a
        .heat_network
        .pipes
        .iter()
        .filter(|p| p.route.len() >= 2)
        .count();
    assert_eq!(routed, a.heat_network.pipes.len());
    // The saved scene reads back to the same bytes.
    let back = scene::load_scene_str(&ron_a, "campus.ron").unwrap();
    assert_eq!(scene::to_ron(&back), ron_a);
}

#[test]
fn campus_runs_a_week_balanced_and_meets_the_design_load() {
    let Some(xml) = campus("osm") else { return };
    let (s, r) = import(&xml, &opts());
    // One station (the campus's design load is far below a station's share), its pumps sized on
    // the design day, a bypass at each long thin branch end.
    assert_eq!(r.stations.len(), 1, "{:?}", r.stations);
    assert_eq!(r.ties, 0);
    assert!(r.pump_head_pa >= 1.2 * r.design_day_head_needed_pa - 1.0);
    assert!(
        r.bypasses >= 1 && r.bypasses <= 20,
        "{} bypasses",
        r.bypasses
    );
    println!(
        "campus layout: largest DN{}, pump head {:.1} bar (design day needed {:.2} bar), {} bypasses \
         of {:.3} kg/s in all",
        r.largest_dn,
        r.pump_head_pa / 1e5,
        r.design_day_head_needed_pa / 1e5,
        r.bypasses,
        r.bypass_flow_kg_s
    );
    // A January week in the district's climate: the energy balance closes every tick.
    let mut w = Simulation::new(&s, &RunOptions::default()).unwrap();
    let mut worst: f64 = 0.0;
    for _ in 0..7 * 24 * 60 {
        w.step();
        worst = worst.max(w.res::<Ledger>().last_error_rel);
    }
    assert!(worst <= 1e-9, "balance {worst:e}");
    let k = Report::from_sim(&w).kpis;
    assert!(
        k.heat_demand_kwh > 1e5 && k.waste_heat_recovered_kwh > 0.0,
        "{k:?}"
    );
    println!(
        "campus week: demand {:.0} kWh, unmet {:.1} kWh, recovered {:.0} kWh, losses {:.0} kWh",
        k.heat_demand_kwh, k.unmet_heat_kwh, k.waste_heat_recovered_kwh, k.heat_losses_kwh
    );
    // A day at the design outdoor temperature, after the first hour (the network starts below
    // its design temperature): no building goes short.
    let mut d = s.clone();
    d.climate = Climate::Fixed(FixedClimate {
        outdoor_temp_c: s.heat_network.design_outdoor_temp_c,
        ground_temp_c: 5.0,
        irradiance_w_m2: 0.0,
        wind_m_s: 3.0,
    });
    let mut w = Simulation::new(&d, &RunOptions::default()).unwrap();
    let (mut unmet_j, mut demand_j) = (0.0, 0.0);
    let mut by_building = vec![(0.0, 0.0, 0usize); d.buildings.len()];
    for t in 0..24 * 60 {
        w.step();
        let c = w.res::<Consumers>();
        for i in 0..c.kind.len() {
            if let ConsumerKind::Building(b) = c.kind[i]
                && t >= 60
            {
                unmet_j += c.unmet_w()[i] * 60.0;
                demand_j += c.demand_w[i] * 60.0;
                let e = &mut by_building[b as usize];
                e.0 += c.unmet_w()[i] * 60.0;
                e.1 += c.demand_w[i] * 60.0;
                e.2 += (c.unmet_w()[i] > 1.0) as usize;
            }
        }
        assert!(w.res::<Ledger>().last_error_rel <= 1e-9);
    }
    println!("campus design day: unmet {unmet_j:.0} J of {demand_j:.0} J");
    let mut worst: Vec<_> = by_building.iter().enumerate().collect();
    worst.sort_by(|a, b| b.1.0.total_cmp(&a.1.0));
    for (i, (u, q, n)) in worst.iter().take(4) {
        println!(
            "  {}: unmet {u:.0} J of {q:.0} J in {n} ticks",
            d.buildings[*i].id
        );
    }
    // Measured: 5.9e-6 of the day's demand, spread thinly over large buildings at the morning
    // peak (was 1.5e-4 before the layout's end-of-line bypasses and its design-day pump head:
    // hot water at the ends of long thin branches, a 33 m² hut at the end of a 138 m DN32 stub
    // at 1 cm/s, its supply at 50–59 °C, and four others at 78 °C, below the 80 °C their largest
    // flow needs). The boiler covers the design day's peak (sized on it: `layout::design_day`).
    assert!(demand_j > 0.0);
    assert!(
        unmet_j <= 1e-5 * demand_j,
        "unmet {unmet_j} J of {demand_j} J"
    );
    // No building goes short by more than 1 % of its day.
    let short = by_building.iter().filter(|e| e.0 > 1e-2 * e.1).count();
    assert_eq!(short, 0, "{short} buildings short by more than 1 %");
}

#[test]
fn campus_export_reimports_within_a_centimetre() {
    let Some(xml) = campus("osm") else { return };
    let (s, _) = import(&xml, &opts());
    let mut w = Simulation::new(&s, &RunOptions::default()).unwrap();
    w.run_ticks(60);
    let state = state_json(&w);
    let ex = export::build(&s, Some(&state), None).unwrap();
    let layer = ex.layers.iter().find(|l| l.name == "buildings").unwrap();
    let text = export::to_geojson(layer);
    // Read the exported file back with the GeoJSON reader (as a planner's QGIS file would be).
    let ropts = ReadOptions {
        map: vec![("floors".into(), "floors".into())],
        ..Default::default()
    };
    let raw = geojson::read("buildings.geojson", text.as_bytes(), &ropts).unwrap();
    assert_eq!(raw.buildings.len(), s.buildings.len());
    let tm = LocalTm::from_georef(s.georef.as_ref().unwrap());
    let mut worst: f64 = 0.0;
    for (r, b) in raw.buildings.iter().zip(&s.buildings) {
        let ring = &r.outers[0];
        for (q, p) in ring.iter().zip(&b.footprint) {
            let x = tm.to_local(q[0], q[1]);
            worst = worst.max(((x[0] - p[0]).powi(2) + (x[1] - p[1]).powi(2)).sqrt());
        }
    }
    println!("campus export round trip: worst {worst:.4} m");
    assert!(worst < 0.01, "{worst} m");
}

//! The layout half of `qtwin import`: a hand-made district (a street grid with a gap to snap, a
//! T-junction, a fragment to bridge, a dozen buildings and one far from any street) laid out,
//! checked, run and exported; and the layout of a 10,000-building district (timed, not asserted).

use qtwin::demand::{ConsumerKind, Consumers};
use qtwin::import::export;
use qtwin::import::geo::LocalTm;
use qtwin::import::layout::{LayoutOptions, LayoutReport, layout};
use qtwin::import::streets::polyline_length;
use qtwin::import::{District, ReadReport, Street};
use qtwin::ledger::Ledger;
use qtwin::ledger::report::{Report, state_json};
use qtwin::scene::{
    self, Building, BuildingUse, Climate, Envelope, FixedClimate, GeoRef, MapFeature, Scene,
};
use qtwin::sim::{RunOptions, Simulation};

const GEO: GeoRef = GeoRef {
    origin_lon_deg: 6.05,
    origin_lat_deg: 50.78,
};

/// The scene's projection (`geo::LocalTm`, as `--site` and export use it).
fn lonlat_to_local(lon: f64, lat: f64) -> [f64; 2] {
    LocalTm::from_georef(&GEO).to_local(lon, lat)
}
fn local_to_lonlat(p: [f64; 2]) -> [f64; 2] {
    LocalTm::from_georef(&GEO).to_lonlat(p)
}

fn street(id: &str, pts: &[[f64; 2]]) -> Street {
    Street {
        source_id: id.into(),
        points: pts.to_vec(),
        class: "residential".into(),
        width_m: 9.0,
    }
}

fn house(id: &str, c: [f64; 2], floors: u32) -> Building {
    let (hx, hy) = (7.0, 5.0);
    Building {
        id: id.into(),
        footprint: vec![
            [c[0] - hx, c[1] - hy],
            [c[0] + hx, c[1] - hy],
            [c[0] + hx, c[1] + hy],
            [c[0] - hx, c[1] + hy],
        ],
        floors,
        floor_height_m: 3.0,
        use_: BuildingUse::Residential,
        heated_area_m2: None,
        envelope: Envelope::EnergyClass('D'),
        hot_water_share: 0.15,
        absorption_cooling_peak_w: 0.0,
        node: None,
        bus: None,
        return_temp_c: None,
        provenance: None,
        construction: None,
    }
}

/// Streets: three east-west streets (y = 0, 100, 200) and four north-south ones; the one at
/// x = 300 starts 1.3 m off the corner (snapped); one at x = 150 runs between the middle and the
/// top street with its lower end 0.3 m off the middle one (a T-junction); a fragment 30 m north
/// of the top street (bridged). Twelve houses along the streets and one 370 m away.
fn district() -> District {
    let streets = vec![
        street(
            "way/1",
            &[[0.0, 0.0], [100.0, 0.0], [200.0, 0.0], [300.0, 0.0]],
        ),
        street("way/2", &[[0.0, 100.0], [300.0, 100.0]]),
        street("way/3", &[[0.0, 200.0], [150.0, 200.0], [300.0, 200.0]]),
        street("way/4", &[[0.0, 0.0], [0.0, 100.0], [0.0, 200.0]]),
        street("way/5", &[[100.0, 0.0], [100.0, 100.0]]),
        street("way/6", &[[200.0, 0.0], [200.0, 100.0], [200.0, 200.0]]),
        street("way/7", &[[300.8, 1.0], [300.0, 100.0], [300.0, 200.0]]),
        street("way/8", &[[150.0, 100.3], [150.0, 200.0]]),
        street("way/9", &[[160.0, 230.0], [260.0, 230.0]]),
    ];
    let centres = [
        [30.0, 17.0],
        [70.0, 17.0],
        [130.0, 17.0],
        [170.0, 17.0],
        [230.0, 17.0],
        [270.0, 17.0],
        [30.0, 117.0],
        [125.0, 83.0],
        [230.0, 117.0],
        [60.0, 183.0],
        [260.0, 183.0],
        [210.0, 245.0],
    ];
    let mut buildings: Vec<Building> = centres
        .iter()
        .enumerate()
        .map(|(k, c)| house(&format!("b{:02}", k + 1), *c, 2 + (k as u32 % 4)))
        .collect();
    buildings.push(house("b13", [150.0, 600.0], 3));
    District {
        georef: GEO,
        buildings,
        streets,
        map: vec![MapFeature::Park {
            polygon: vec![[110.0, 110.0], [140.0, 110.0], [140.0, 140.0]],
        }],
        report: ReadReport::default(),
    }
}

fn is_service(p: &scene::Pipe) -> bool {
    p.id.starts_with("svc_")
}

fn laid(opts: &LayoutOptions) -> (Scene, LayoutReport) {
    layout(district(), opts).expect("the district lays out")
}

#[test]
fn hand_made_district_lays_out_checks_and_is_a_tree() {
    let (s, r) = laid(&LayoutOptions::default());
    scene::validate(&s).expect("passes qtwin check");
    assert_eq!(s.georef, Some(GEO));
    // Every house but the far one connected; the far one reported with its distance.
    assert_eq!(r.buildings, 13);
    assert_eq!(r.buildings_connected, 12);
    for b in &s.buildings {
        assert_eq!(b.node.is_some(), b.id != "b13", "{}", b.id);
        assert!(b.bus.is_some());
    }
    assert_eq!(r.unconnected.len(), 1);
    assert!(
        r.unconnected[0].starts_with("b13: 365 m from the nearest street"),
        "{}",
        r.unconnected[0]
    );
    assert!(r.next_steps.iter().any(|m| m.contains("qtwin suggest")));
    // The gap was snapped, the T joined and the fragment bridged.
    assert!(
        r.street_messages.iter().any(|m| m.contains("snapped")),
        "{:?}",
        r.street_messages
    );
    assert!(r.street_messages.iter().any(|m| m.contains("T-junction")));
    assert!(r.street_messages.iter().any(|m| m.contains("bridged")));
    // Route lengths: each pipe's length is its route's, and they add up to the report's.
    let pos = s.node_positions();
    let (mut mains, mut services) = (0.0, 0.0);
    for p in &s.heat_network.pipes {
        assert!(p.route.len() >= 2, "{}", p.id);
        assert_eq!(p.length_m, None);
        let l = scene::Scene::pipe_length_m(&pos, p).unwrap();
        assert!((l - polyline_length(&p.route)).abs() < 1e-9);
        // The route starts and ends at the pipe's nodes.
        assert_eq!(p.route[0], pos[p.from.as_str()]);
        assert_eq!(*p.route.last().unwrap(), pos[p.to.as_str()]);
        if is_service(p) {
            services += l;
            assert!(l <= 150.0);
        } else {
            mains += l;
        }
    }
    assert!(
        (mains - r.mains_length_m).abs() < 1e-3,
        "{mains} vs {}",
        r.mains_length_m
    );
    assert!((services - r.service_length_m).abs() < 1e-3);
    // Nine houses stand 12 m off their street, the one by the fragment 10 m, and two 11.24 m
    // and 11.63 m off the street whose end was snapped 1.28 m north-east (so it slants).
    assert_eq!(r.service_pipes, 12);
    let slant = |x: f64| 12.0 - x / 100.8;
    let want = 9.0 * 12.0
        + 10.0
        + slant(237.0 - 200.0) * 100.8 / 100.805
        + slant(277.0 - 200.0) * 100.8 / 100.805;
    assert!((services - want).abs() < 0.01, "{services} vs {want}");
    // The mains are a tree: |V| − 1 pipes, connected.
    let mut verts = std::collections::BTreeSet::new();
    let mains_pipes: Vec<_> = s
        .heat_network
        .pipes
        .iter()
        .filter(|p| !is_service(p))
        .collect();
    for p in &mains_pipes {
        verts.insert(p.from.clone());
        verts.insert(p.to.clone());
    }
    assert_eq!(mains_pipes.len() + 1, verts.len());
    assert_eq!(r.loops, 0);
    // A tree reaching 12 taps along a 300 m × 200 m grid is far shorter than the grid (1,730 m).
    assert!(
        r.mains_length_m > 300.0 && r.mains_length_m < 1200.0,
        "{}",
        r.mains_length_m
    );
    // Plant, storage and pump at one node; the grid's substation next to it.
    let plant_node = &r.plant.node;
    for id in ["boiler_main", "storage_main", "pump_main"] {
        assert!(
            s.plants
                .iter()
                .any(|p| p.id() == id && p.node() == plant_node)
        );
    }
    assert!(r.pump_head_pa >= 3.0e5);
    if let Climate::Monthly(m) = &s.climate {
        assert_eq!(m.latitude_deg, GEO.origin_lat_deg);
    } else {
        panic!("monthly climate expected");
    }
    // Streets on the map, the district's park kept.
    let n_streets = s
        .map
        .iter()
        .filter(|m| matches!(m, MapFeature::Street { .. }))
        .count();
    assert_eq!(n_streets, 9);
    assert!(s.map.iter().any(|m| matches!(m, MapFeature::Park { .. })));
}

#[test]
fn layout_is_deterministic_to_the_byte() {
    let opts = LayoutOptions {
        sites_lonlat: vec![local_to_lonlat([250.0, 60.0])],
        loops: true,
        ..Default::default()
    };
    let a = scene::to_ron(&laid(&opts).0);
    let b = scene::to_ron(&laid(&opts).0);
    assert_eq!(a, b);
    let back = scene::load_scene_str(&a, "laid.ron").unwrap();
    assert_eq!(scene::to_ron(&back), a);
}

/// Sum of the connected buildings' unmet and demanded heat now, W.
fn unmet_connected(w: &Simulation, s: &Scene) -> (f64, f64) {
    let c = w.res::<Consumers>();
    let (mut unmet, mut demand) = (0.0, 0.0);
    for i in 0..c.kind.len() {
        if let ConsumerKind::Building(b) = c.kind[i]
            && s.buildings[b as usize].node.is_some()
        {
            unmet += c.unmet_w()[i];
            demand += c.demand_w[i];
        }
    }
    (unmet, demand)
}

#[test]
fn two_days_balance_and_no_unmet_heat_at_design_load() {
    let opts = LayoutOptions {
        sites_lonlat: vec![local_to_lonlat([250.0, 60.0])],
        ..Default::default()
    };
    let (s, r) = laid(&opts);
    assert_eq!(r.sites.len(), 1);
    let site = &s.quantum_sites[0];
    assert!(
        s.plants
            .iter()
            .any(|p| p.id() == "hp_q1" && p.node() == site.node.as_deref().unwrap())
    );
    // Two January days in the district's climate: the balance closes every tick.
    let mut w = Simulation::new(&s, &RunOptions::default()).unwrap();
    let mut worst: f64 = 0.0;
    for _ in 0..2 * 24 * 60 {
        w.step();
        worst = worst.max(w.res::<Ledger>().last_error_rel);
    }
    assert!(worst <= 1e-9, "balance {worst:e}");
    let k = Report::from_sim(&w).kpis;
    assert!(
        k.heat_demand_kwh > 0.0 && k.waste_heat_recovered_kwh > 0.0,
        "{k:?}"
    );
    // At the design outdoor temperature for a day: no connected building goes short.
    let mut d = s.clone();
    d.climate = Climate::Fixed(FixedClimate {
        outdoor_temp_c: s.heat_network.design_outdoor_temp_c,
        ground_temp_c: 5.0,
        irradiance_w_m2: 0.0,
        wind_m_s: 3.0,
    });
    let mut w = Simulation::new(&d, &RunOptions::default()).unwrap();
    let (mut unmet_j, mut demand_j) = (0.0, 0.0);
    let mut worst_after_start: f64 = 0.0;
    for t in 0..24 * 60 {
        w.step();
        let (u, q) = unmet_connected(&w, &d);
        unmet_j += u * 60.0;
        demand_j += q * 60.0;
        if t >= 60 {
            worst_after_start = worst_after_start.max(u / q);
        }
        assert!(w.res::<Ledger>().last_error_rel <= 1e-9);
    }
    // Measured: 0.077 % of the day's demand, most of it in the first hour (the network starts
    // below its design temperature) and at the morning hot-water peak (demand 1.3 × the day's
    // mean, above the substations' 1.25 × design-flow limit where long thin branches have
    // cooled the supply to ~80 °C); a few watts otherwise.
    assert!(demand_j > 0.0);
    assert!(
        unmet_j <= 1e-3 * demand_j,
        "unmet {unmet_j} J of {demand_j} J"
    );
    assert!(worst_after_start <= 0.01, "{worst_after_start}");
}

#[test]
fn loops_close_between_far_branches() {
    // A long ladder: two parallel streets 40 m apart, joined at the west end and by a rung
    // every 100 m; houses along both; the tree leaves rungs out that loops may close.
    let mut streets = vec![
        street("n", &[[0.0, 40.0], [1000.0, 40.0]]),
        street("s", &[[0.0, 0.0], [1000.0, 0.0]]),
    ];
    for k in 0..=10 {
        let x = 100.0 * k as f64;
        streets.push(street(&format!("r{k}"), &[[x, 0.0], [x, 40.0]]));
    }
    let mut buildings = Vec::new();
    for k in 0..20 {
        let x = 25.0 + 50.0 * k as f64;
        buildings.push(house(&format!("s{k:02}"), [x, -15.0], 3));
        buildings.push(house(&format!("n{k:02}"), [x, 55.0], 3));
    }
    let d = District {
        georef: GEO,
        buildings,
        streets,
        map: Vec::new(),
        report: ReadReport::default(),
    };
    let opts = LayoutOptions {
        plant_lonlat: Some(local_to_lonlat([0.0, 20.0])),
        loops: true,
        ..Default::default()
    };
    let (s, r) = layout(d, &opts).unwrap();
    scene::validate(&s).unwrap();
    assert!(r.plant.how.starts_with("given"));
    assert!(r.loops >= 1, "{r:?}");
    let mains = s
        .heat_network
        .pipes
        .iter()
        .filter(|p| !is_service(p))
        .count();
    let mut verts = std::collections::BTreeSet::new();
    for p in s.heat_network.pipes.iter().filter(|p| !is_service(p)) {
        verts.insert(p.from.clone());
        verts.insert(p.to.clone());
    }
    assert_eq!(mains, verts.len() - 1 + r.loops);
    let mut w = Simulation::new(&s, &RunOptions::default()).unwrap();
    w.run_ticks(6 * 60);
    assert!(Report::from_sim(&w).kpis.max_energy_balance_error_rel <= 1e-9);
}

#[test]
fn export_round_trips_coordinates_and_joins_the_state() {
    let opts = LayoutOptions {
        sites_lonlat: vec![local_to_lonlat([250.0, 60.0])],
        ..Default::default()
    };
    let (s, _) = laid(&opts);
    let mut w = Simulation::new(&s, &RunOptions::default()).unwrap();
    w.run_ticks(120);
    let state = state_json(&w);
    let report: serde_json::Value = serde_json::from_str(&Report::from_sim(&w).to_json()).unwrap();
    let ex = export::build(&s, Some(&state), Some(&report)).unwrap();
    let layer = |n: &str| ex.layers.iter().find(|l| l.name == n).unwrap();
    // Nodes: parse the GeoJSON back, project back, within 1 cm.
    let nodes: serde_json::Value =
        serde_json::from_str(&export::to_geojson(layer("nodes"))).unwrap();
    assert_eq!(nodes["type"], "FeatureCollection");
    let feats = nodes["features"].as_array().unwrap();
    assert_eq!(feats.len(), s.heat_network.nodes.len());
    for (f, n) in feats.iter().zip(&s.heat_network.nodes) {
        assert_eq!(f["id"], n.id.as_str());
        let c = f["geometry"]["coordinates"].as_array().unwrap();
        let p = lonlat_to_local(c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
        let err = ((p[0] - n.pos[0]).powi(2) + (p[1] - n.pos[1]).powi(2)).sqrt();
        assert!(err < 0.01, "{}: {err} m", n.id);
        assert!(f["properties"]["supply_temp_c"].as_f64().unwrap() > 30.0);
    }
    // Buildings: closed counter-clockwise rings; the run's values joined by id.
    let b: serde_json::Value =
        serde_json::from_str(&export::to_geojson(layer("buildings"))).unwrap();
    for f in b["features"].as_array().unwrap() {
        let ring = f["geometry"]["coordinates"][0].as_array().unwrap();
        assert_eq!(ring.first(), ring.last());
        let pts: Vec<[f64; 2]> = ring
            .iter()
            .map(|q| [q[0].as_f64().unwrap(), q[1].as_f64().unwrap()])
            .collect();
        let area: f64 = pts
            .windows(2)
            .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
            .sum();
        assert!(area > 0.0);
        let p = &f["properties"];
        assert!(p["demand_w"].as_f64().unwrap() > 0.0, "{p}");
        assert!(p["delivered_w"].is_number() && p["unmet_w"].is_number());
        assert!(p["design_heat_load_w"].as_f64().unwrap() > 1e3);
    }
    // Pipes follow their routes; sites and plants carry their run values.
    let pipes: serde_json::Value =
        serde_json::from_str(&export::to_geojson(layer("pipes"))).unwrap();
    for (f, p) in pipes["features"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&s.heat_network.pipes)
    {
        assert_eq!(f["geometry"]["type"], "LineString");
        assert_eq!(
            f["geometry"]["coordinates"].as_array().unwrap().len(),
            p.route.len()
        );
        assert!(f["properties"]["mass_flow_kg_s"].is_number());
    }
    let sites = layer("sites");
    assert!(sites.features[0].properties["recovered_heat_w"].is_number());
    let plants = layer("plants");
    assert!(
        plants
            .features
            .iter()
            .any(|f| f.id == "boiler_main" && f.properties["station_heat_w"].is_number())
    );
    // CSV keyed by id; the report's KPIs, with a note that it has no per-object values.
    let csv = export::to_csv(layer("buildings")).unwrap();
    assert!(csv.starts_with("id,lon,lat,"));
    assert_eq!(csv.lines().count(), 1 + s.buildings.len());
    assert!(ex.kpis.iter().any(|r| r[0] == "heat_demand_kwh"));
    assert!(ex.notes.iter().any(|n| n.contains("KPIs only")));
    // Written to disk.
    let dir = std::env::temp_dir().join(format!("qtwin-export-{}", std::process::id()));
    let files = export::write(&ex, &dir.join("geo"), Some(&dir.join("csv"))).unwrap();
    assert_eq!(files.len(), 5 + 5 + 1);
    std::fs::remove_dir_all(&dir).ok();
    // A scene without a georeference: a clear error.
    let mut bare = s.clone();
    bare.georef = None;
    let e = export::build(&bare, None, None).unwrap_err().to_string();
    assert!(e.contains("no georeference"), "{e}");
}

/// The separate networks of a laid-out scene: for each building, the index of the boiler of the
/// connected part its node lies on (`None`: no boiler there, or more than one), by union-find
/// over the pipes.
fn boiler_of_each_building(s: &Scene) -> Vec<Option<usize>> {
    let ids: std::collections::BTreeMap<&str, usize> = s
        .heat_network
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let mut up: Vec<usize> = (0..ids.len()).collect();
    fn find(up: &mut [usize], mut x: usize) -> usize {
        while up[x] != x {
            up[x] = up[up[x]];
            x = up[x];
        }
        x
    }
    for p in &s.heat_network.pipes {
        let (a, b) = (
            find(&mut up, ids[p.from.as_str()]),
            find(&mut up, ids[p.to.as_str()]),
        );
        up[a.max(b)] = a.min(b);
    }
    let mut boilers_in: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (k, p) in s.plants.iter().enumerate() {
        if let scene::Plant::GasBoiler { node, .. } = p {
            let r = find(&mut up, ids[node.as_str()]);
            boilers_in.entry(r).or_default().push(k);
        }
    }
    s.buildings
        .iter()
        .map(|b| {
            let r = find(&mut up, ids[b.node.as_deref()?]);
            match boilers_in.get(&r).map(|v| v.as_slice()) {
                Some([k]) => Some(*k),
                _ => None,
            }
        })
        .collect()
}

/// A 10,000-building district from the generator (its buildings and street lines): several
/// stations, each with its own network within a station's capacity, no pipe above DN400, pump
/// heads within PN25, the same bytes twice; `--plant` is one of the stations. The layout time is
/// printed (target ≤ 10 s for import + layout on a 2-core machine), not asserted.
#[test]
fn layout_of_ten_thousand_buildings() {
    let g = qtwin::generate::generate_city(&qtwin::generate::GenerateOptions {
        buildings: 10_000,
        sites: 0,
        seed: 1,
    });
    let streets: Vec<Street> = g
        .map
        .iter()
        .enumerate()
        .filter_map(|(k, m)| match m {
            MapFeature::Street { points, width_m } => Some(Street {
                source_id: format!("street {k}"),
                points: points.clone(),
                class: "residential".into(),
                width_m: *width_m,
            }),
            _ => None,
        })
        .collect();
    let buildings: Vec<Building> = g
        .buildings
        .iter()
        .map(|b| Building {
            node: None,
            bus: None,
            ..b.clone()
        })
        .collect();
    let d = District {
        georef: GEO,
        buildings,
        streets,
        map: Vec::new(),
        report: ReadReport::default(),
    };
    let n_streets = d.streets.len();
    let t0 = std::time::Instant::now();
    let (s, r) = layout(d.clone(), &LayoutOptions::default()).unwrap();
    let t = t0.elapsed().as_secs_f64();
    println!(
        "layout of {} buildings, {} streets ({} street edges, {:.0} m): {:.2} s — {} connected, {} nodes, {} pipes, mains {:.0} m, services {:.0} m, largest DN{}",
        r.buildings,
        n_streets,
        r.street_edges,
        r.street_length_m,
        t,
        r.buildings_connected,
        r.nodes,
        r.pipes,
        r.mains_length_m,
        r.service_length_m,
        r.largest_dn
    );
    println!(
        "  {} stations (capacity {:.1} MW): loads {:?} MW, pump heads {:?} bar, trunks DN{:?}, design day needed up to {:.1} bar",
        r.stations.len(),
        r.station_capacity_w / 1e6,
        r.station_load_w
            .iter()
            .map(|w| (w / 1e5).round() / 10.0)
            .collect::<Vec<_>>(),
        r.station_pump_head_pa
            .iter()
            .map(|h| h / 1e5)
            .collect::<Vec<_>>(),
        r.station_largest_dn,
        r.design_day_head_needed_pa / 1e5
    );
    assert_eq!(s.buildings.len(), 10_000);
    assert!(r.buildings_connected >= 9_900, "{}", r.buildings_connected);
    scene::validate(&s).unwrap();
    // At least ⌈load / capacity⌉ stations, more where the streets do not split evenly or long
    // paths are cut at the 3-bar pressure-drop limit (at most twice that); each station's design
    // load within its capacity.
    let cap = r.station_capacity_w;
    assert!((3.6e7..3.9e7).contains(&cap), "capacity {cap}");
    let least = (r.design_load_w / cap).ceil() as usize;
    assert!(least >= 5, "design load {} W", r.design_load_w);
    assert!(
        r.stations.len() >= least && r.stations.len() <= 2 * least,
        "{} stations for {least} × the capacity",
        r.stations.len()
    );
    assert_eq!(r.station_load_w.len(), r.stations.len());
    assert!(
        r.station_load_w.iter().all(|w| *w > 0.0 && *w <= cap),
        "{:?}",
        r.station_load_w
    );
    let summed: f64 = r.station_load_w.iter().sum();
    assert!((summed - r.design_load_w).abs() <= 1e-6 * r.design_load_w);
    assert_eq!(r.ties, 0);
    // Every connected building on exactly one station's network, every station's boiler on a
    // network of its own.
    let boiler_of = boiler_of_each_building(&s);
    for (b, k) in s.buildings.iter().zip(&boiler_of) {
        assert_eq!(b.node.is_some(), k.is_some(), "{}: {:?}", b.id, b.node);
    }
    let fed: std::collections::BTreeSet<usize> = boiler_of.iter().flatten().copied().collect();
    assert_eq!(fed.len(), r.stations.len(), "every station feeds buildings");
    // No pipe above DN400 (the trunks stay at DN300 with the stations at their parts' medians),
    // every pump within PN25.
    let dn_max = s
        .heat_network
        .pipes
        .iter()
        .filter_map(|p| match p.size {
            scene::PipeSize::Dn(dn) => Some(dn),
            _ => None,
        })
        .max()
        .unwrap();
    assert_eq!(dn_max, r.largest_dn);
    assert!(dn_max <= 400, "DN{dn_max}");
    assert_eq!(r.station_largest_dn.iter().copied().max(), Some(dn_max));
    for p in &s.plants {
        if let scene::Plant::CirculationPump {
            id, max_head_pa, ..
        } = p
        {
            assert!(
                *max_head_pa <= 2.5e6 && *max_head_pa >= 3.0e5,
                "{id}: {max_head_pa} Pa"
            );
        }
    }
    // With no path below a part's top dropping more than 3 bar at design, the pumps stay near
    // 10 bar (measured: 3.5–12 bar, 9.6 bar needed on the design day).
    assert!(
        r.pump_head_pa <= 1.3e6 && r.design_day_head_needed_pa < 1.1e6,
        "{r:?}"
    );
    // A day at the design outdoor temperature (5-minute ticks, after the first hour) with the
    // pumps and boilers as sized: every station's network gets its flow and its heat.
    let mut day = s.clone();
    day.climate = Climate::Fixed(FixedClimate {
        outdoor_temp_c: s.heat_network.design_outdoor_temp_c,
        ground_temp_c: 5.0,
        irradiance_w_m2: 0.0,
        wind_m_s: 3.0,
    });
    let mut w = Simulation::new(
        &day,
        &RunOptions {
            tick_s: Some(300.0),
            ..Default::default()
        },
    )
    .unwrap();
    let (mut unmet_j, mut demand_j, mut worst_bal) = (0.0, 0.0, 0.0_f64);
    let (mut limited, mut at_capacity) = (0, 0);
    for t in 0..288 {
        w.step();
        worst_bal = worst_bal.max(w.res::<Ledger>().last_error_rel);
        if t < 12 {
            continue;
        }
        let c = w.res::<Consumers>();
        for i in 0..c.kind.len() {
            if let ConsumerKind::Building(_) = c.kind[i] {
                unmet_j += c.unmet_w()[i] * 300.0;
                demand_j += c.demand_w[i] * 300.0;
            }
        }
        limited += w.res::<qtwin::hydraulics::HydraulicState>().head_limited as usize;
        let st = w.res::<qtwin::plants::Stations>();
        at_capacity += (0..st.node.len())
            .filter(|&k| st.heat_w[k] >= 0.999 * st.heat_limit_w()[k])
            .count();
    }
    println!(
        "  design day: unmet {:.2e} of the demand, {limited} head-limited ticks, {at_capacity} \
         station-ticks at capacity, balance {worst_bal:.1e}",
        unmet_j / demand_j
    );
    // No pump at its limit, no station at its capacity: the networks carry what is asked. What
    // goes unmet (measured 3.0e-3 of the day) is the 7–8 h hot-water peak in most buildings at
    // once (23 MW short in some 7,700 buildings with every supply at 90 °C), where a
    // substation's demand exceeds what its largest flow (1.25 × its design flow) carries: a
    // property of the substations' sizing, not of the network.
    assert_eq!(limited, 0);
    assert_eq!(at_capacity, 0);
    assert!(
        demand_j > 0.0 && unmet_j <= 5e-3 * demand_j,
        "unmet {unmet_j} J of {demand_j} J"
    );
    assert!(worst_bal <= 1e-9, "balance {worst_bal:e}");
    // The same bytes twice.
    let (s2, r2) = layout(d.clone(), &LayoutOptions::default()).unwrap();
    assert_eq!(scene::to_ron(&s), scene::to_ron(&s2));
    assert_eq!(r, r2);
    // A plant given at the district's edge is one of the stations (the first, where given).
    let corner = s
        .buildings
        .iter()
        .map(|b| b.centre())
        .min_by(|a, b| (a[0] + a[1]).total_cmp(&(b[0] + b[1])))
        .unwrap();
    let (sp, rp) = layout(
        d,
        &LayoutOptions {
            plant_lonlat: Some(local_to_lonlat(corner)),
            ..Default::default()
        },
    )
    .unwrap();
    scene::validate(&sp).unwrap();
    assert!(rp.plant.how.starts_with("given"), "{}", rp.plant.how);
    assert_eq!(rp.stations[0].node, rp.plant.node);
    assert!(
        ((rp.plant.pos[0] - corner[0]).powi(2) + (rp.plant.pos[1] - corner[1]).powi(2)).sqrt()
            < 150.0,
        "plant at {:?}, given {corner:?}",
        rp.plant.pos
    );
    assert!(rp.stations.len() >= least && rp.stations.len() <= 2 * least);
    assert!(rp.station_load_w.iter().all(|w| *w <= cap));
    assert!(rp.largest_dn <= 400);
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("qtwin-import-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn qtwin(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qtwin"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout),
    )
}

/// The command line: the import's layout half writes a scene that `check`, `run` and `export`
/// take; bad flags and a scene without georeference exit 2 with a clear message.
#[test]
fn cli_import_district_run_and_export() {
    let scene_path = tmp("district.ron");
    let report_path = tmp("import.json");
    let code = qtwin::cli::import_district(
        district(),
        &LayoutOptions::default(),
        &scene_path,
        Some(&report_path),
    )
    .unwrap();
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    let rep: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(rep["layout"]["buildings_connected"], 12);
    assert!(rep["read"].is_object());
    let sp = scene_path.to_str().unwrap();
    let (code, msg) = qtwin(&["check", sp]);
    assert_eq!(code, 0, "{msg}");
    let (st, rp) = (tmp("state.json"), tmp("run.json"));
    let (code, msg) = qtwin(&[
        "run",
        sp,
        "--hours",
        "2",
        "-q",
        "--state",
        st.to_str().unwrap(),
        "--report",
        rp.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{msg}");
    let (gdir, cdir) = (tmp("geo"), tmp("csv"));
    let (code, msg) = qtwin(&[
        "export",
        sp,
        "--state",
        st.to_str().unwrap(),
        "--report",
        rp.to_str().unwrap(),
        "--geojson",
        gdir.to_str().unwrap(),
        "--csv",
        cdir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{msg}");
    assert!(msg.contains("KPIs only"), "{msg}");
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(gdir.join("buildings.geojson")).unwrap())
            .unwrap();
    assert_eq!(b["features"].as_array().unwrap().len(), 13);
    assert!(b["features"][0]["properties"]["delivered_w"].is_number());
    assert!(cdir.join("pipes.csv").exists() && cdir.join("kpis.csv").exists());
    // A scene without georeference, a bad --site, a bad --bbox: exit 2, said clearly.
    let (code, msg) = qtwin(&[
        "export",
        "scenes/riverside.ron",
        "--geojson",
        gdir.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(msg.contains("no georeference"), "{msg}");
    let out = tmp("x.ron");
    let (code, msg) = qtwin(&[
        "import",
        "a.osm",
        "--out",
        out.to_str().unwrap(),
        "--site",
        "200,50",
    ]);
    assert_eq!(code, 2);
    assert!(msg.contains("longitude 200 is outside"), "{msg}");
    let (code, msg) = qtwin(&[
        "import",
        "a.osm",
        "--out",
        out.to_str().unwrap(),
        "--bbox",
        "6.1,50,6.0,51",
    ]);
    assert_eq!(code, 2);
    assert!(msg.contains("minimum must be below"), "{msg}");
    std::fs::remove_dir_all(scene_path.parent().unwrap()).ok();
}

//! What-if planning: edits and their exact undo, saved edit histories, edits on a running world,
//! compare, sweep shards, and the physical direction of each edit's effect on the KPIs.

use qtwin::ledger::report::Kpis;
use qtwin::scene::{Scene, load_scene, load_scene_str, to_ron};
use qtwin::sim::{RunOptions, Simulation};
use qtwin::whatif::runs::{
    RunSpec, SweepParam, compare, run_scene, run_sweep, shard_range, variant_count, write_sweep_csv,
};
use qtwin::whatif::{self, Edit, EditStack, LiveOutcome, apply_live, param::edit_for};

fn riverside() -> Scene {
    load_scene(std::path::Path::new("scenes/riverside.ron")).unwrap()
}

fn kpis(scene: &Scene, days: f64) -> Kpis {
    run_scene(
        scene,
        &RunSpec {
            days,
            seed: None,
            tick_s: None,
        },
        &|_| {},
    )
    .unwrap()
    .kpis
}

fn edited(base: &Scene, path: &str, value: &str) -> Scene {
    let mut s = base.clone();
    edit_for(&s, path, value).unwrap().apply(&mut s).unwrap();
    qtwin::scene::validate(&s).unwrap();
    s
}

/// Every kind of edit, made one after another through the stack.
fn every_edit(scene: &mut Scene, stack: &mut EditStack) {
    let sets = [
        ("network.supply_shift_k", "-10"),
        ("network.return_temp_c", "35"),
        ("pipes.n001..n020.insulation", "Series3"),
        ("pipes.p001+p002.insulation", "LinearWmK(0.21)"),
        ("sites.q4.pos", "0:200"),
        ("sites.q2.pos", "150:250"),
        ("sites.q2.qubits", "300"),
        ("sites.*.recoverable_heat_share", "0.9"),
        ("sites.q3.heat_pump.capacity_w", "600000"),
        ("sites.q1.remove", "true"),
        ("pv.b0001+b0002.peak_w", "auto"),
        ("pv.b0007.peak_w", "9000"),
        ("pv.b0008.peak_w", "0"),
        ("pv.*.scale", "1.5"),
        ("weather.year", "cold"),
        ("weather.seed", "99"),
        ("grid.carbon_scale", "0.5"),
    ];
    for (p, v) in sets {
        let e = edit_for(scene, p, v).unwrap_or_else(|e| panic!("{p}={v}: {e}"));
        stack
            .push(scene, e)
            .unwrap_or_else(|e| panic!("{p}={v}: {e}"));
        qtwin::scene::validate(scene).unwrap_or_else(|e| panic!("{p}={v}: {e:?}"));
    }
}

#[test]
fn an_unedited_scene_writes_the_same_bytes_as_before() {
    // The `edits` list and the weather `year` are optional and not written when empty, so the
    // format of existing scenes is unchanged.
    let text = std::fs::read_to_string("scenes/riverside.ron").unwrap();
    let s = load_scene_str(&text, "riverside").unwrap();
    assert!(s.edits.is_empty());
    assert_eq!(to_ron(&s), text);
}

#[test]
fn undo_of_every_edit_returns_the_exact_original_scene() {
    let base = riverside();
    let base_ron = to_ron(&base);
    let mut s = base.clone();
    let mut stack = EditStack::default();
    every_edit(&mut s, &mut stack);
    assert_eq!(stack.done.len(), 17);
    let edited_ron = to_ron(&s);
    assert_ne!(edited_ron, base_ron);
    assert_eq!(s.quantum_sites.len(), 3); // q4 added, q1 removed
    assert!(s.quantum_sites.iter().any(|q| q.id == "q4"));

    // Undo one by one: each step is the exact inverse.
    while stack.undo(&mut s).unwrap().is_some() {}
    assert_eq!(s, base);
    assert_eq!(to_ron(&s), base_ron);
    // Redo gives the edited scene back exactly.
    while stack.redo(&mut s).unwrap().is_some() {}
    assert_eq!(to_ron(&s), edited_ron);

    // Saved with its history and read back: the same scene, the same edits, the same base.
    let saved = stack.save_ron(&s);
    assert!(saved.contains("edits: ["));
    // (0, 200) lies inside building b0122: the site stands at the nearest free spot and says so.
    assert!(saved.contains("add quantum site q4 at (14, 206) m (asked for at (0, 200) m, which is inside building b0122"));
    let loaded = load_scene_str(&saved, "saved").unwrap();
    let (scene2, stack2) = EditStack::from_saved(&loaded).unwrap();
    assert_eq!(to_ron(&scene2), edited_ron);
    assert_eq!(stack2.done, stack.done);
    assert_eq!(to_ron(&stack2.base(&scene2).unwrap()), base_ron);
    // The edit history is not physics: the saved scene hashes like the edited one.
    assert_eq!(
        qtwin::scene::scene_hash(&loaded),
        qtwin::scene::scene_hash(&s)
    );
}

#[test]
fn an_edit_refuses_a_scene_it_was_not_made_for() {
    let base = riverside();
    let e = edit_for(&base, "network.supply_temp_c", "60").unwrap();
    let mut s = base.clone();
    e.apply(&mut s).unwrap();
    // Applying twice finds 60 °C where it expects 75 °C and leaves the scene untouched.
    let before = s.clone();
    assert!(e.apply(&mut s).is_err());
    assert_eq!(s, before);
    let r = whatif::remove_site(&base, "q1").unwrap();
    let mut t = base.clone();
    r.apply(&mut t).unwrap();
    let t_before = t.clone();
    assert!(r.apply(&mut t).is_err());
    assert_eq!(t, t_before);
    assert!(edit_for(&base, "network.nonsense", "1").is_err());
    assert!(edit_for(&base, "sites.q9.qubits", "10").is_err());
}

#[test]
fn a_new_site_connects_to_the_nearest_pipe_and_feeder_and_says_so() {
    let base = riverside();
    let e = edit_for(&base, "sites.q4.pos", "0:200").unwrap();
    let Edit::AddSite { bundle, connection } = &e else {
        panic!("expected AddSite, got {e:?}");
    };
    // The nearest pipe to where the site stands (moved out of building b0122), by brute force.
    let at = bundle.site.1.pos;
    let pos = base.node_positions();
    let best = base
        .heat_network
        .pipes
        .iter()
        .map(|p| {
            let d = whatif::segment_distance(at, pos[p.from.as_str()], pos[p.to.as_str()]).0;
            (d, p.id.clone())
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap();
    assert_eq!(connection.nearest_pipe, best.1);
    assert!(connection.service_pipe_m > 0.0);
    assert_eq!(bundle.pipes.len(), 1);
    assert_eq!(bundle.pipes[0].1.from, connection.tap_node);
    assert!(connection.bus.is_some() && connection.feeder.is_some());
    let d = e.describe();
    assert!(
        d.contains(&connection.tap_node) && d.contains(connection.feeder.as_deref().unwrap()),
        "{d}"
    );
    // The heat pump is sized for the site's recoverable heat and the site runs.
    let mut s = base.clone();
    e.apply(&mut s).unwrap();
    let k = kpis(&s, 0.5);
    let k0 = kpis(&base, 0.5);
    assert!(k.waste_heat_recovered_kwh > k0.waste_heat_recovered_kwh * 1.2);
    assert!(k.max_energy_balance_error_rel < 1e-9);
}

#[test]
fn compare_of_a_scene_with_itself_gives_zero_difference() {
    let s = riverside();
    let v = compare(
        &s,
        &s,
        &RunSpec {
            days: 0.5,
            seed: None,
            tick_s: None,
        },
    )
    .unwrap();
    let d = v["diff"].as_object().unwrap();
    assert!(d.len() >= 30);
    assert!(d["heat_delivered_kwh"]["base"].as_f64().unwrap() > 1000.0);
    for (k, x) in d {
        assert_eq!(x["abs"].as_f64().unwrap(), 0.0, "{k}");
        if !x["rel"].is_null() {
            assert_eq!(x["rel"].as_f64().unwrap(), 0.0, "{k}");
        }
    }
    assert_eq!(v["base"]["kpis"], v["variant"]["kpis"]);
}

#[test]
fn each_edit_moves_the_kpis_in_the_physically_expected_direction() {
    let base = riverside();
    let days = 1.0;
    let k0 = kpis(&base, days);
    let cop = |k: &Kpis| {
        (k.waste_heat_recovered_kwh + k.heat_pump_electricity_kwh) / k.heat_pump_electricity_kwh
    };

    // Better insulation → lower pipe losses (and worse → higher).
    let k = kpis(&edited(&base, "pipes.*.insulation", "Series3"), days);
    assert!(
        k.heat_losses_kwh < 0.9 * k0.heat_losses_kwh,
        "{} vs {}",
        k.heat_losses_kwh,
        k0.heat_losses_kwh
    );
    let k = kpis(&edited(&base, "pipes.*.insulation", "Series1"), days);
    assert!(k.heat_losses_kwh > k0.heat_losses_kwh);

    // Lower supply temperature → higher heat-pump COP, lower losses.
    let k = kpis(&edited(&base, "network.supply_shift_k", "-10"), days);
    assert!(cop(&k) > cop(&k0) + 0.1, "COP {} vs {}", cop(&k), cop(&k0));
    assert!(k.heat_losses_kwh < k0.heat_losses_kwh);

    // A site removed → less waste heat recovered.
    let k = kpis(&edited(&base, "sites.q1.remove", "true"), days);
    assert!(k.waste_heat_recovered_kwh < 0.8 * k0.waste_heat_recovered_kwh);
    assert!(k.quantum_site_electricity_kwh < k0.quantum_site_electricity_kwh);

    // A colder year → more heat demand; a milder one → less.
    let kc = kpis(&edited(&base, "weather.year", "cold"), days);
    let km = kpis(&edited(&base, "weather.year", "mild"), days);
    assert!(kc.heat_demand_kwh > k0.heat_demand_kwh && k0.heat_demand_kwh > km.heat_demand_kwh);
    // Typical with the scene's own seed is the climate as given: same weather, same results.
    let kt = kpis(&edited(&base, "weather.year", "typical"), days);
    assert_eq!(kt, k0);

    // A cleaner grid → less CO₂ for the same imports.
    let k = kpis(&edited(&base, "grid.carbon_scale", "0.5"), days);
    assert_eq!(k.grid_import_kwh, k0.grid_import_kwh);
    assert!(k.co2_kg < k0.co2_kg);

    // More PV → more PV energy, less import.
    let roofs: Vec<String> = base
        .buildings
        .iter()
        .take(40)
        .map(|b| b.id.clone())
        .collect();
    let k = kpis(
        &edited(&base, &format!("pv.{}.peak_w", roofs.join("+")), "auto"),
        days,
    );
    assert!(k.pv_kwh > k0.pv_kwh && k.grid_import_kwh < k0.grid_import_kwh);
}

#[test]
fn sweep_shards_give_the_same_rows_as_one_run() {
    let base = riverside();
    let params: Vec<SweepParam> = [
        "network.supply_shift_k=-5,0",
        "pipes.*.insulation=Series1,Series3",
        "sites.q1.qubits=100,330,nonsense",
    ]
    .iter()
    .map(|p| p.parse().unwrap())
    .collect();
    let total = variant_count(&params);
    assert_eq!(total, 12);
    let spec = RunSpec {
        days: 0.25,
        seed: None,
        tick_s: None,
    };
    let all = run_sweep(&base, &params, 0..total, &spec, &|_| {});
    assert_eq!(
        all.iter().map(|r| r.variant).collect::<Vec<_>>(),
        (0..12).collect::<Vec<_>>()
    );
    // The last parameter varies fastest; a bad value fails its variant only.
    assert_eq!(all[4].values[2].1, "330");
    assert_eq!(all[5].values[2].1, "nonsense");
    assert!(all[5].result.is_err() && all[4].result.is_ok());
    let mut whole = Vec::new();
    write_sweep_csv(&params, &all, &mut whole).unwrap();
    for n in [2, 5] {
        let mut rows = Vec::new();
        for i in 0..n {
            rows.extend(run_sweep(
                &base,
                &params,
                shard_range(total, i, n),
                &spec,
                &|_| {},
            ));
        }
        assert_eq!(rows, all, "{n} shards");
        let mut csv = Vec::new();
        write_sweep_csv(&params, &rows, &mut csv).unwrap();
        assert_eq!(csv, whole);
    }
}

/// A world with an in-place live edit at tick 0 runs exactly like a world built from the edited
/// scene: the edit reaches every resource the tick reads.
#[test]
fn live_edits_in_place_match_a_world_built_from_the_edited_scene() {
    let base = riverside();
    let ticks = 360;
    for (p, v) in [
        ("pipes.*.insulation", "Series3"),
        ("grid.carbon_scale", "0.7"),
        ("pv.b0001+b0007.peak_w", "12000"),
        ("weather.year", "cold"),
        ("sites.q2.qubits", "150"),
        ("sites.*.recovered_water_temp_c", "40"),
        ("sites.q3.heat_pump.capacity_w", "300000"),
    ] {
        let e = edit_for(&base, p, v).unwrap();
        let mut live = Simulation::new(&base, &RunOptions::default()).unwrap();
        assert_eq!(
            apply_live(live.world_mut(), &e).unwrap(),
            LiveOutcome::InPlace,
            "{p}"
        );
        live.run_ticks(ticks);
        let mut s = base.clone();
        e.apply(&mut s).unwrap();
        let mut fresh = Simulation::new(&s, &RunOptions::default()).unwrap();
        fresh.run_ticks(ticks);
        let a = Kpis::from_ledger(live.res::<qtwin::ledger::Ledger>());
        let b = Kpis::from_ledger(fresh.res::<qtwin::ledger::Ledger>());
        assert_eq!(a, b, "{p}={v}");
        assert_eq!(live.res::<qtwin::sim::SceneSpec>().scene, s);
        // Made at tick 0: the results are not a mix.
        assert!(live.res::<whatif::LiveEdits>().mixed_since().is_none());
    }
}

#[test]
fn a_live_edit_that_changes_the_topology_rebuilds_the_world_and_keeps_the_clock() {
    let base = riverside();
    let mut sim = Simulation::new(&base, &RunOptions::default()).unwrap();
    sim.run_ticks(240);
    let before = Kpis::from_ledger(sim.res::<qtwin::ledger::Ledger>());
    let e = edit_for(&base, "sites.q4.pos", "20:104").unwrap();
    assert_eq!(
        apply_live(sim.world_mut(), &e).unwrap(),
        LiveOutcome::Rebuilt
    );
    assert_eq!(sim.clock().tick, 240);
    assert_eq!(sim.res::<qtwin::quantum::Sites>().len(), 4);
    let log = sim.res::<whatif::LiveEdits>();
    assert_eq!(log.generation, 1);
    let (t, what) = log.mixed_since().unwrap();
    assert_eq!(t, 240.0 * 60.0);
    assert!(what.contains("q4"));
    // The ledger goes on from where it was; the heat balance still closes.
    sim.run_ticks(240);
    let after = Kpis::from_ledger(sim.res::<qtwin::ledger::Ledger>());
    assert!(after.heat_delivered_kwh > before.heat_delivered_kwh);
    assert!(after.quantum_jobs_submitted > before.quantum_jobs_submitted);
    assert!(
        after.max_energy_balance_error_rel < 1e-6,
        "{}",
        after.max_energy_balance_error_rel
    );
    // A supply temperature change is live too (in place).
    let e = edit_for(
        &sim.res::<qtwin::sim::SceneSpec>().scene,
        "network.supply_temp_c",
        "70",
    )
    .unwrap();
    assert_eq!(
        apply_live(sim.world_mut(), &e).unwrap(),
        LiveOutcome::InPlace
    );
    // An edit made for another scene is refused and changes nothing.
    assert!(apply_live(sim.world_mut(), &e).is_err());
}

#[test]
fn suitability_scores_are_weighted_terms_and_suggestions_are_simulated() {
    use qtwin::whatif::siting::*;
    let base = riverside();
    let t = whatif::SiteTemplate::from_scene(&base);
    let opts = SuitabilityOptions {
        spacing_m: 80.0,
        ..Default::default()
    };
    let s = suitability(&base, &t, None, &opts);
    assert!(s.candidates.len() > 50);
    let w = opts.weights;
    let ws = [
        w.heat_demand_density,
        w.network_distance,
        w.network_spare_capacity,
        w.feeder_headroom,
        w.fibre_latency,
    ];
    for c in &s.candidates {
        let expect: f64 =
            c.terms.iter().zip(ws).map(|(a, b)| a * b).sum::<f64>() / ws.iter().sum::<f64>();
        assert!((c.score - expect).abs() < 1e-12);
        assert!(c.terms.iter().all(|x| (0.0..=1.0).contains(x)));
        assert!(c.pipe_distance_m <= 500.0);
    }
    // The densest place scores 1 on demand; a place far from the network scores low on distance.
    assert!(s.candidates.iter().any(|c| c.terms[0] == 1.0));
    let (k0, sug) = suggest(
        &base,
        &t,
        &opts,
        2,
        200.0,
        &RunSpec {
            days: 0.5,
            seed: None,
            tick_s: None,
        },
    )
    .unwrap();
    assert_eq!(sug.len(), 2);
    assert!(sug[0].candidate.score >= sug[1].candidate.score);
    for x in &sug {
        assert!(x.kpis.waste_heat_recovered_kwh > k0.waste_heat_recovered_kwh);
        assert_eq!(
            x.diff["waste_heat_recovered_kwh"]["abs"].as_f64().unwrap(),
            x.kpis.waste_heat_recovered_kwh - k0.waste_heat_recovered_kwh
        );
        // One click: the suggestion's edit places the site.
        let mut s2 = base.clone();
        x.edit.apply(&mut s2).unwrap();
        assert_eq!(s2.quantum_sites.len(), 4);
    }
}

/// The whole state, not only the ledger: a world live-edited at tick 0 and a world built from the
/// edited scene hold the same value in every resource that snapshots and `--state` cover, through
/// a day in which the edited site loses its grid supply for two hours (so its UPS, which the
/// faults domain sizes from the site, is drained and recharged).
#[test]
fn live_edits_match_a_rebuilt_world_in_every_resource_through_a_site_power_outage() {
    use qtwin::faults::Faults;
    use qtwin::scene::{FaultKind, FaultSpec, Repair};
    use qtwin::snapshot::WorldSnapshot;
    let base = riverside();
    let outage = |sim: &mut Simulation, site: &str| {
        sim.res_mut::<Faults>().schedule_all([FaultSpec {
            id: "outage".into(),
            kind: FaultKind::SitePowerOutage { site: site.into() },
            at_s: 6.0 * 3600.0,
            repair_s: 2.0 * 3600.0,
            repair: Repair::Auto,
        }]);
    };
    let ticks = 24 * 60;
    // (Not the network temperatures: a live world keeps the water in its pipes at the old
    // temperatures, where a world built from the edited scene starts at the new ones.)
    for (p, v, site) in [
        ("sites.q2.qubits", "150", "q2"),
        ("sites.q2.servers_power_w", "60000", "q2"),
        ("sites.*.recovered_water_temp_c", "40", "q1"),
        ("sites.q3.heat_pump.capacity_w", "300000", "q3"),
        ("pipes.*.insulation", "Series3", "q1"),
        ("grid.carbon_scale", "0.7", "q1"),
        ("pv.b0001+b0007.peak_w", "12000", "q1"),
    ] {
        let e = edit_for(&base, p, v).unwrap();
        let mut live = Simulation::new(&base, &RunOptions::default()).unwrap();
        assert_eq!(apply_live(live.world_mut(), &e).unwrap(), LiveOutcome::InPlace, "{p}");
        outage(&mut live, site);
        live.run_ticks(ticks);
        let mut s = base.clone();
        e.apply(&mut s).unwrap();
        let mut fresh = Simulation::new(&s, &RunOptions::default()).unwrap();
        outage(&mut fresh, site);
        fresh.run_ticks(ticks);
        let a = WorldSnapshot::capture(live.world()).describe();
        let b = WorldSnapshot::capture(fresh.world()).describe();
        assert_eq!(a.len(), b.len());
        let differ: Vec<&str> = a
            .iter()
            .zip(&b)
            .filter(|(x, y)| x.1 != y.1)
            .map(|(x, _)| x.0)
            .collect();
        for (x, y) in a.iter().zip(&b).filter(|(x, y)| x.1 != y.1) {
            let i = x.1.bytes().zip(y.1.bytes()).take_while(|(u, w)| u == w).count();
            let w = |t: &str| t[i.saturating_sub(150)..(i + 80).min(t.len())].to_string();
            eprintln!("{p}={v}: {} differs at byte {i}:\n  live:  {}\n  fresh: {}", x.0, w(&x.1), w(&y.1));
        }
        assert!(differ.is_empty(), "{p}={v}: resources differ: {differ:?}");
        // The outage really drained a UPS: the faults domain's record says when it ended.
        let f = live.res::<Faults>();
        assert!(f.record("outage").is_some_and(|r| r.repaired_s.is_some()), "{p}");
    }
}

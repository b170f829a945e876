//! The guided tour's captions read the running simulation: every number on screen is computed.
#![cfg(feature = "view")]

use qtwin::demand::{Buildings, Consumers};
use qtwin::ledger::Ledger;
use qtwin::ledger::report::Kpis;
use qtwin::plants::Stations;
use qtwin::quantum::Sites;
use qtwin::scene::load_scene;
use qtwin::sim::{RunOptions, Simulation};
use qtwin::thermal::ThermalState;
use qtwin::view::tour::{STEPS, TourValues, caption};
use qtwin::weather::WeatherNow;

/// Riverside after `ticks` one-minute ticks of its January day.
fn riverside_after(ticks: u64) -> Simulation {
    let scene = load_scene(std::path::Path::new("scenes/riverside.ron")).unwrap();
    let mut sim = Simulation::new(&scene, &RunOptions::default()).unwrap();
    sim.run_ticks(ticks);
    sim
}

/// What the tour's captions read from a running world.
fn values(sim: &Simulation) -> TourValues<'_> {
    TourValues {
        buildings: sim.res::<Buildings>(),
        consumers: sim.res::<Consumers>(),
        sites: sim.res::<Sites>(),
        stations: sim.res::<Stations>(),
        thermal: sim.res::<ThermalState>(),
        weather: sim.res::<WeatherNow>(),
        kpis: Kpis::from_ledger(sim.res::<Ledger>()),
    }
}

#[test]
fn captions_show_live_numbers() {
    let sim = riverside_after(6 * 60); // six hours of a January morning
    let v = values(&sim);
    let kpis = v.kpis.clone();
    let caps: Vec<_> = (0..STEPS).map(|i| caption(i, &v)).collect();
    for (i, c) in caps.iter().enumerate() {
        assert!(
            !c.title.is_empty() && !c.text.is_empty(),
            "step {i} is empty"
        );
        assert!(
            !c.number.contains("NaN") && !c.text.contains("NaN"),
            "step {i}: {}",
            c.number
        );
    }
    // Step 1: the heat flowing now, from the stations.
    let heat_mw: f64 = v.stations.heat_w.iter().sum::<f64>() / 1e6;
    assert!(heat_mw > 0.5, "a winter morning needs heat: {heat_mw} MW");
    assert_eq!(caps[0].number, format!("{heat_mw:.1} MW"));
    assert!(caps[0].text.starts_with("296 buildings"));
    // Step 4: the share of quantum waste heat so far, from the ledger.
    assert!(kpis.waste_heat_share > 0.01);
    assert_eq!(
        caps[3].number,
        format!("{:.0} %", 100.0 * kpis.waste_heat_share)
    );
    // Step 2: the biggest site's electricity now.
    let s = v.sites;
    let i = (0..s.ids.len())
        .max_by(|&a, &b| {
            let p = |i: usize| s.compressor_w[i] + s.electronics_w[i] + s.servers_w[i];
            p(a).total_cmp(&p(b))
        })
        .unwrap();
    assert!(s.electricity_w[i] > 10e3);
    assert_eq!(
        caps[1].number,
        format!("{:.0} kW", s.electricity_w[i] / 1e3)
    );
    assert!(caps[1].title.ends_with(&s.ids[i]));
    // Step 7: CO₂ avoided so far is the baseline minus the twin.
    assert!(kpis.co2_baseline_kg > kpis.co2_kg);
    assert_eq!(
        caps[6].number,
        format!("{:.0} kg CO₂", kpis.co2_baseline_kg - kpis.co2_kg)
    );
}

/// The data-links step (8 of 9) reads the links' KPIs: riverside's half-done migration sends a
/// share of its job data quantum-safe and exposes grid balancing's data to q3 (Mosca).
#[test]
fn data_links_step_shows_the_quantum_safe_share_and_the_exposure() {
    let sim = riverside_after(6 * 60);
    let v = values(&sim);
    let kpis = v.kpis.clone();
    assert_eq!(STEPS, 9);
    let c = caption(7, &v);
    assert!(kpis.link_quantum_safe_share > 0.0 && kpis.link_quantum_safe_share < 1.0);
    assert_eq!(
        c.number,
        format!("{:.0} %", 100.0 * kpis.link_quantum_safe_share)
    );
    assert!(
        kpis.link_exposed_jobs > 0,
        "grid balancing to q3 is classical"
    );
    assert!(
        c.text
            .contains(&format!("in {} jobs", kpis.link_exposed_jobs)),
        "{}",
        c.text
    );
    assert!(c.text.contains(&qtwin::view::ui::human_bytes(
        kpis.link_exposed_mb * 1e6,
        qtwin::view::plain::Lang::En
    )));
    // The last step is still the site outage.
    assert!(
        caption(STEPS - 1, &v)
            .title
            .starts_with("What if a site fails?")
    );
}

/// The German tour: every step has its own German title and text, from the same live values, and
/// the same large number with a decimal comma.
#[test]
fn german_captions_carry_the_same_numbers() {
    use qtwin::view::plain::Lang;
    use qtwin::view::tour::caption_in;
    let sim = riverside_after(3 * 60);
    let v = values(&sim);
    for i in 0..STEPS {
        let en = caption(i, &v);
        let de = caption_in(i, &v, Lang::De);
        assert_eq!(de.number, en.number.replace('.', ","), "step {i}");
        assert_ne!(de.title, en.title, "step {i}");
        assert_ne!(de.text, en.text, "step {i}");
        assert!(!de.text.contains("NaN"), "step {i}: {}", de.text);
        assert_eq!(caption_in(i, &v, Lang::En).text, en.text);
    }
    assert!(
        caption_in(0, &v, Lang::De)
            .text
            .starts_with("296 Gebäude teilen ein Wärmenetz")
    );
}

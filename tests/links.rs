//! The data links on the running twin: sessions, exposure and quantum-safe share recomputed by
//! hand from the job log, latency terms, faults, QKD fallback, what-if migration, validation.

use qtwin::ledger::report::Report;
use qtwin::links::{DataLinkState, LatencyTerms, payload_bytes};
use qtwin::quantum::jobs::Service;
use qtwin::quantum::schedule::{JobLog, JobState};
use qtwin::scene::{
    DataLinks, FaultKind, FaultSpec, LinkScheme, QuantumJobs, Repair, Scene, load_scene, validate,
};
use qtwin::sim::{RunOptions, Simulation};

const HOUR: u64 = 60; // ticks of 60 s

/// A failure from the start that lasts the whole test (a crew is never sent).
fn fault(id: &str, kind: FaultKind) -> FaultSpec {
    FaultSpec {
        id: id.into(),
        kind,
        at_s: 0.0,
        repair_s: 1e9,
        repair: Repair::Crew,
    }
}

/// Riverside with fewer simulated shots (the links do not depend on them).
fn riverside() -> Scene {
    let mut s = load_scene(std::path::Path::new("scenes/riverside.ron")).unwrap();
    s.quantum_jobs = Some(QuantumJobs {
        max_simulated_shots: 16,
        trajectories: 2,
        ..QuantumJobs::default()
    });
    s
}

fn run(s: &Scene, ticks: u64) -> Simulation {
    let mut w = Simulation::new(s, &RunOptions::default()).unwrap();
    w.run_ticks(ticks);
    w
}

#[test]
fn riverside_ships_a_migration_half_done() {
    let s = riverside();
    let d = s.data_links.as_ref().expect("riverside has data links");
    assert_eq!(d.scheme("grid_balancing", "q1"), LinkScheme::Qkd);
    assert_eq!(d.scheme("grid_balancing", "q2"), LinkScheme::Hybrid);
    assert_eq!(d.scheme("grid_balancing", "q3"), LinkScheme::Classical);
    assert_eq!(d.scheme("traffic", "q3"), LinkScheme::Hybrid);
    assert_eq!(d.scheme("traffic", "q1"), LinkScheme::Classical);
    assert_eq!(d.scheme("sensing", "q2"), LinkScheme::Classical);
    // Mosca with the defaults (z = 15, y = 5): grid balancing 25 + 5 > 15 is at risk, traffic
    // 5 + 5 and sensing 2 + 5 are not.
    assert!(d.secrecy_years("grid_balancing") + d.migration_years > d.crqc_horizon_years);
    assert!(d.secrecy_years("traffic") + d.migration_years <= d.crqc_horizon_years);
    assert!(d.secrecy_years("sensing") + d.migration_years <= d.crqc_horizon_years);
}

/// Six hours of Riverside: every completed job's transfer, the sessions, the exposure and the
/// quantum-safe share, recomputed from the job log and the scene.
#[test]
fn exposure_share_sessions_and_latency_recomputed_by_hand() {
    let s = riverside();
    let w = run(&s, 6 * HOUR);
    let log = w.res::<JobLog>();
    let st = w.res::<DataLinkState>();
    let d = s.data_links.clone().unwrap();
    let done: Vec<_> = log
        .records
        .iter()
        .filter(|r| r.state == JobState::Completed)
        .collect();
    assert!(done.len() > 50, "{} jobs", done.len());
    assert_eq!(st.transfers.len(), done.len());
    let (mut total, mut safe, mut exposed) = (0u64, 0u64, 0u64);
    for r in &done {
        let site = &s.quantum_sites[r.site.unwrap() as usize].id;
        let scheme = d.scheme(r.service.name(), site);
        let (req, res) = payload_bytes(r.qubits, r.depth, r.shots);
        let b = (req + res) as u64;
        total += b;
        if scheme != LinkScheme::Classical {
            safe += b;
        }
        if scheme == LinkScheme::Classical && r.service == Service::GridBalancing {
            exposed += b;
        }
        let t = st.transfers.iter().find(|t| t.job == r.id).unwrap();
        // Riverside's QKD link (q1, about 0.5 km) is well within reach: no fallback.
        assert_eq!(t.scheme, scheme, "job {}", r.id);
        // 22 B per record of at most 16 384 B, each way.
        let rec = qtwin::links::handshake::record_overhead_bytes(req)
            + qtwin::links::handshake::record_overhead_bytes(res);
        assert_eq!(t.record_overhead_bytes, rec);
        let want = LatencyTerms::of(
            scheme,
            t.handshake,
            r.latency_local_s.unwrap(),
            1e9,
            req + res,
            rec,
        );
        assert_eq!(t.latency, want);
    }
    let tot = &st.totals;
    assert_eq!(tot.payload_bytes, total);
    assert_eq!(tot.quantum_safe_bytes, safe);
    assert_eq!(tot.exposed_bytes, exposed);
    assert!(exposed > 0 && safe > 0 && safe < total);
    // Sessions: 9 links, each renewed at 0 h, 1 h, …, 5 h.
    assert_eq!(tot.handshakes, 9 * 6);
    assert_eq!(tot.kex_failures, 0);
    // Each session's first job, and only it, bore a handshake.
    let with_hs = st.transfers.iter().filter(|t| t.handshake).count() as u64;
    assert!(with_hs <= tot.handshakes && with_hs > 0);
    let k = Report::from_sim(&w).kpis;
    assert_eq!(k.link_quantum_safe_share, safe as f64 / total as f64);
    assert_eq!(k.link_exposed_mb, exposed as f64 / 1e6);
    // A handshake costs one fibre round trip (a few tens of µs in the city) and its CPU time;
    // the mean added latency is below a millisecond, the remote data centre's far more (its
    // round trip is about 28 ms).
    assert!(k.link_added_latency_ms_mean > 0.0 && k.link_added_latency_ms_mean < 1.0);
    let cmp = Report::from_sim(&w).quantum_vs_datacentre;
    assert!(cmp.remote.link_added_latency_ms > 5.0 * cmp.local.link_added_latency_ms);
    // The remote data centre cannot take QKD: the quay site's grid jobs go hybrid there.
    assert_eq!(cmp.remote.exposed_mb, cmp.local.exposed_mb);
    assert_eq!(cmp.remote.quantum_safe_share, cmp.local.quantum_safe_share);
}

#[test]
fn same_seed_gives_the_same_sessions_and_transfers() {
    let s = riverside();
    let a = run(&s, 2 * HOUR);
    let b = run(&s, 2 * HOUR);
    let (x, y) = (a.res::<DataLinkState>(), b.res::<DataLinkState>());
    assert_eq!(format!("{:?}", x.links), format!("{:?}", y.links));
    assert_eq!(x.transfers, y.transfers);
    let mut s2 = s.clone();
    s2.seed += 1;
    let c = run(&s2, 2 * HOUR);
    let z = c.res::<DataLinkState>();
    assert_ne!(format!("{:?}", x.links), format!("{:?}", z.links));
}

/// A fault that breaks the hybrid key exchange on every grid-balancing link: those links close,
/// the grid jobs that need them are dropped, until the links are switched to another scheme.
#[test]
fn a_key_exchange_fault_drops_jobs_until_the_scheme_is_switched() {
    let mut s = riverside();
    let mut d = s.data_links.clone().unwrap();
    for q in ["q1", "q2", "q3"] {
        d.set_scheme("grid_balancing", q, LinkScheme::Hybrid);
    }
    s.data_links = Some(d);
    s.failures = vec![fault(
        "kex",
        FaultKind::KeyExchangeFailure {
            service: "grid_balancing".into(),
            scheme: LinkScheme::Hybrid,
        },
    )];
    let mut w = Simulation::new(&s, &RunOptions::default()).unwrap();
    w.run_ticks(3 * HOUR);
    let dropped = |w: &Simulation| {
        w.res::<JobLog>()
            .records
            .iter()
            .filter(|r| r.reason == Some("no working key exchange to an up site"))
            .count()
    };
    let grid_done = |w: &Simulation| {
        w.res::<JobLog>()
            .records
            .iter()
            .filter(|r| r.service == Service::GridBalancing && r.state == JobState::Completed)
            .count()
    };
    let n = dropped(&w);
    assert!(n > 0);
    assert_eq!(grid_done(&w), 0);
    // Every tick tries again on each of the three links: 3 × 180 failures.
    assert_eq!(w.res::<DataLinkState>().totals.kex_failures, 3 * 3 * HOUR);
    {
        let mut st = w.app.world_mut().resource_mut::<DataLinkState>();
        for site in 0..3 {
            let k = st.index(Service::GridBalancing, site);
            st.set_scheme(k, LinkScheme::PureMlKem);
        }
    }
    w.run_ticks(3 * HOUR);
    assert_eq!(dropped(&w), n, "no more jobs dropped");
    assert!(grid_done(&w) > 0);
    assert_eq!(w.res::<DataLinkState>().totals.kex_failures, 3 * 3 * HOUR);
}

#[test]
fn a_cut_qkd_fibre_falls_back_to_hybrid_or_flagged_classical() {
    for fallback in [LinkScheme::Hybrid, LinkScheme::Classical] {
        let mut s = riverside();
        let mut d = s.data_links.clone().unwrap();
        d.qkd.fallback = fallback;
        s.data_links = Some(d);
        s.failures = vec![fault("qkd", FaultKind::QkdFibreCut { site: "q1".into() })];
        let w = run(&s, 2 * HOUR);
        let st = w.res::<DataLinkState>();
        // The QKD link (grid_balancing → q1) opened its two sessions on the fallback.
        assert_eq!(st.totals.qkd_fallback_sessions, 2);
        let classical = u64::from(fallback == LinkScheme::Classical);
        assert_eq!(st.totals.classical_fallback_sessions, 2 * classical);
        let k = st.index(Service::GridBalancing, 0);
        assert!(
            st.transfers
                .iter()
                .filter(|t| t.link == k as u32)
                .all(|t| t.scheme == fallback)
        );
        let kpis = Report::from_sim(&w).kpis;
        assert_eq!(kpis.link_classical_fallback_sessions, 2 * classical);
    }
}

#[test]
fn a_qkd_link_beyond_its_reach_falls_back() {
    let mut s = riverside();
    let mut d = s.data_links.clone().unwrap();
    d.links
        .iter_mut()
        .find(|l| l.scheme == LinkScheme::Qkd)
        .unwrap()
        .fibre_m = Some(150e3);
    s.data_links = Some(d);
    let w = run(&s, HOUR);
    let st = w.res::<DataLinkState>();
    let k = st.index(Service::GridBalancing, 0);
    assert_eq!(st.links[k].qkd_key_rate_bit_s, 0.0);
    assert_eq!(st.totals.qkd_fallback_sessions, 1);
}

#[test]
fn migrating_every_link_to_hybrid_removes_the_exposure() {
    use qtwin::whatif::param::edit_for;
    let s = riverside();
    let e = edit_for(&s, "links.*.*.scheme", "Hybrid").unwrap();
    let mut m = s.clone();
    e.apply(&mut m).unwrap();
    validate(&m).unwrap();
    let base = Report::from_sim(&run(&s, 3 * HOUR)).kpis;
    let mig = Report::from_sim(&run(&m, 3 * HOUR)).kpis;
    assert!(base.link_exposed_mb > 0.0);
    assert_eq!(mig.link_exposed_mb, 0.0);
    assert_eq!(mig.link_quantum_safe_share, 1.0);
    // The jobs and their latency outside the links are the same.
    assert_eq!(base.quantum_jobs_completed, mig.quantum_jobs_completed);
    assert_eq!(base.mean_latency_ms_local, mig.mean_latency_ms_local);
    // Per service and site.
    let e = edit_for(&s, "links.grid_balancing.q3.scheme", "PureMlKem").unwrap();
    let mut g = s.clone();
    e.apply(&mut g).unwrap();
    assert_eq!(
        g.data_links
            .as_ref()
            .unwrap()
            .scheme("grid_balancing", "q3"),
        LinkScheme::PureMlKem
    );
    e.revert(&mut g).unwrap();
    assert_eq!(g, s);
    assert!(edit_for(&s, "links.parking.q1.scheme", "Hybrid").is_err());
    assert!(edit_for(&s, "links.traffic.q9.scheme", "Hybrid").is_err());
    assert!(edit_for(&s, "links.traffic.q1.scheme", "Rot13").is_err());
}

#[test]
fn hostile_link_settings_are_refused_with_their_place() {
    let mut s = riverside();
    let mut d = DataLinks {
        crqc_horizon_years: f64::NAN,
        bandwidth_bit_s: 0.0,
        ..DataLinks::default()
    };
    d.set_scheme("parking", "q1", LinkScheme::Hybrid);
    d.set_scheme("traffic", "nowhere", LinkScheme::Hybrid);
    d.qkd.fallback = LinkScheme::Qkd;
    s.data_links = Some(d);
    let issues = validate(&s).unwrap_err();
    let text: Vec<String> = issues
        .iter()
        .map(|i| format!("{}: {}", i.at, i.msg))
        .collect();
    let has = |a: &str, m: &str| text.iter().any(|t| t.starts_with(a) && t.contains(m));
    assert!(has("data_links", "crqc_horizon_years = NaN"), "{text:?}");
    assert!(has("data_links", "bandwidth_bit_s = 0"), "{text:?}");
    assert!(has("data_links.qkd", "fallback"), "{text:?}");
    assert!(has("data_links.links[0]", "parking"), "{text:?}");
    assert!(has("data_links.links[1]", "nowhere"), "{text:?}");
    // An old scene without data links still loads and runs with every link classical.
    let mut old = riverside();
    old.data_links = None;
    validate(&old).unwrap();
    let w = run(&old, HOUR);
    assert_eq!(w.res::<DataLinkState>().totals.quantum_safe_bytes, 0);
}

/// Writes `scenes/riverside.ron` from the generator (run after changing it):
/// `cargo test --release --no-default-features --test links regenerate_riverside -- --ignored`.
#[test]
#[ignore]
fn regenerate_riverside() {
    let s = qtwin::generate::riverside();
    std::fs::write("scenes/riverside.ron", qtwin::scene::to_ron(&s)).unwrap();
}

//! The quantum job schedule on the running twin: accounting, policies, failover, cryostats, and
//! jobs really executed on the statevector simulator.

use std::collections::HashSet;

use qtwin::ledger::report::Report;
use qtwin::quantum::Sites;
use qtwin::quantum::jobs::{self, Job, JobContext, Problem, Service};
use qtwin::quantum::noise::{self, QubitCalibration};
use qtwin::quantum::qaoa;
use qtwin::quantum::schedule::{JobEventKind, JobLog, JobState, QuantumScheduler, SiteStatus};
use qtwin::scene::{QuantumJobs, Scene, SchedulingPolicy, load_scene};
use qtwin::sim::{RunOptions, Simulation};

const HOUR: u64 = 60; // ticks of 60 s

fn riverside() -> Scene {
    load_scene(std::path::Path::new("scenes/riverside.ron")).unwrap()
}

/// Riverside with its job settings changed by `f` (starting from the defaults, with fewer
/// simulated shots to keep the tests quick).
fn riverside_with(f: impl FnOnce(&mut QuantumJobs)) -> Scene {
    let mut s = riverside();
    let mut q = QuantumJobs {
        max_simulated_shots: 64,
        trajectories: 8,
        ..QuantumJobs::default()
    };
    f(&mut q);
    s.quantum_jobs = Some(q);
    s
}

/// Heavy load: long jobs and tight traffic deadlines, so queues build up.
fn congested(q: &mut QuantumJobs) {
    q.max_simulated_shots = 16;
    q.trajectories = 4;
    q.traffic.day_rate_per_h = 200.0;
    q.traffic.night_rate_per_h = 200.0;
    q.traffic.shots = 1_500_000;
    q.traffic.deadline_s = 90.0;
    q.grid_balancing.day_rate_per_h = 80.0;
    q.grid_balancing.night_rate_per_h = 80.0;
    q.grid_balancing.shots = 2_000_000;
    q.grid_balancing.deadline_s = 240.0;
    q.sensing.day_rate_per_h = 150.0;
    q.sensing.night_rate_per_h = 150.0;
    q.sensing.shots = 8_000_000;
    q.sensing.deadline_s = 3600.0;
}

fn sim(s: &Scene) -> Simulation {
    Simulation::new(s, &RunOptions::default()).unwrap()
}

/// Every job is accounted for exactly once, its events tell a consistent story, and the
/// report's KPIs are the log's.
fn check_accounting(w: &Simulation) {
    let log = w.res::<JobLog>();
    let t = &log.totals;
    let n = log.records.len() as u64;
    assert_eq!(t.submitted, n);
    let ids: HashSet<u64> = log.records.iter().map(|r| r.id).collect();
    assert_eq!(ids.len() as u64, n, "an id twice");
    assert!(
        log.records
            .iter()
            .enumerate()
            .all(|(i, r)| r.id == i as u64)
    );
    let count = |s: JobState| log.records.iter().filter(|r| r.state == s).count() as u64;
    assert_eq!(count(JobState::Completed), t.completed);
    assert_eq!(count(JobState::MissedDeadline), t.missed_deadline);
    assert_eq!(count(JobState::Rejected), t.rejected);
    let open = count(JobState::Queued) + count(JobState::Running);
    assert_eq!(
        t.submitted,
        t.completed + t.missed_deadline + t.rejected + open
    );

    let sched = w.res::<QuantumScheduler>();
    let mut in_queues: Vec<u64> = sched
        .devices
        .iter()
        .flat_map(|d| {
            d.queue
                .iter()
                .copied()
                .chain(d.running.as_ref().map(|r| r.job))
        })
        .collect();
    in_queues.sort_unstable();
    let mut open_ids: Vec<u64> = log
        .records
        .iter()
        .filter(|r| matches!(r.state, JobState::Queued | JobState::Running))
        .map(|r| r.id)
        .collect();
    open_ids.sort_unstable();
    assert_eq!(in_queues, open_ids, "open jobs are exactly those in queues");

    for r in &log.records {
        assert_eq!(r.events[0].kind, JobEventKind::Submitted, "{r:?}");
        let ends = r
            .events
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    JobEventKind::Completed | JobEventKind::MissedDeadline | JobEventKind::Rejected
                )
            })
            .count();
        let started = r
            .events
            .iter()
            .filter(|e| matches!(e.kind, JobEventKind::Started { .. }))
            .count();
        let aborted = r
            .events
            .iter()
            .filter(|e| matches!(e.kind, JobEventKind::Aborted { .. }))
            .count();
        match r.state {
            JobState::Completed => {
                assert_eq!(ends, 1);
                assert_eq!(started, aborted + 1, "{r:?}");
                assert!(r.finished_s.unwrap() >= r.started_s.unwrap() + r.run_s - 1e-6);
                assert!(r.finished_s.unwrap() + r.latency_local_s.unwrap() <= r.deadline_s);
                assert!(r.events.windows(2).all(|e| e[0].time_s <= e[1].time_s));
            }
            JobState::MissedDeadline | JobState::Rejected => {
                assert_eq!(ends, 1);
                assert_eq!(started, aborted, "{r:?}");
                assert!(r.reason.is_some(), "{r:?}");
            }
            JobState::Running => {
                assert_eq!(ends, 0);
                assert_eq!(started, aborted + 1);
            }
            JobState::Queued => {
                assert_eq!(ends, 0);
                assert_eq!(started, aborted);
            }
        }
    }
    let k = Report::from_sim(w).kpis;
    assert_eq!(k.quantum_jobs_submitted, t.submitted);
    assert_eq!(k.quantum_jobs_completed, t.completed);
    assert_eq!(k.quantum_jobs_missed_deadline, t.missed_deadline);
    assert_eq!(k.quantum_jobs_rejected, t.rejected);
}

/// A week of riverside with one site offline for two hours on the third day: every job is
/// accounted for exactly once; the site's queue moved; QAOA ratios come from sampled bitstrings.
#[test]
fn a_week_of_riverside_accounts_for_every_job() {
    let s = riverside_with(|_| {});
    let mut w = sim(&s);
    w.run_ticks((2 * 24 + 10) * HOUR);
    w.res_mut::<Sites>().online[1] = false;
    w.run_ticks(2 * HOUR);
    assert_eq!(w.res::<Sites>().utilisation[1], 0.0);
    assert_eq!(w.res::<Sites>().electricity_w[1], 0.0);
    w.res_mut::<Sites>().online[1] = true;
    w.run_ticks((4 * 24 + 12) * HOUR);
    assert_eq!(w.clock().tick, 7 * 24 * HOUR);
    check_accounting(&w);

    let log = w.res::<JobLog>();
    let t = &log.totals;
    // About 19 jobs an hour by default, all of them done: the sites are far from busy.
    assert!((2500..4500).contains(&t.submitted), "{t:?}");
    assert!(t.completed as f64 > 0.99 * t.submitted as f64, "{t:?}");
    // Nothing ran on site 1 while it was offline.
    let (off, on) = (58.0 * 3600.0, 60.0 * 3600.0);
    for r in &log.records {
        for e in &r.events {
            if let JobEventKind::Started { site: 1 } = e.kind {
                assert!(e.time_s < off || e.time_s >= on, "{r:?}");
            }
        }
    }
    // Every site ran jobs, one at a time.
    for site in 0..3u32 {
        let mut runs: Vec<(f64, f64)> = log
            .records
            .iter()
            .filter(|r| r.state == JobState::Completed && r.site == Some(site))
            .map(|r| (r.started_s.unwrap(), r.finished_s.unwrap()))
            .collect();
        assert!(runs.len() > 100, "site {site}: {} runs", runs.len());
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(runs.windows(2).all(|p| p[0].1 <= p[1].0 + 1e-9));
    }
    // Calibration windows: no job runs in any site's daily window.
    let sched = w.res::<QuantumScheduler>();
    for r in log
        .records
        .iter()
        .filter(|r| r.state == JobState::Completed)
    {
        let site = r.site.unwrap() as usize;
        let (ws, _) = sched.window(site, r.started_s.unwrap()).unwrap();
        assert!(r.finished_s.unwrap() <= ws + 1e-9, "{r:?}");
    }

    // QAOA approximation ratios, from the sampled bitstrings, are in (0.5, 1] and vary.
    let ratios: Vec<f64> = log
        .records
        .iter()
        .filter(|r| r.service == Service::Traffic && r.state == JobState::Completed)
        .map(|r| r.approximation_ratio.unwrap())
        .collect();
    assert!(ratios.len() > 500);
    assert!(ratios.iter().all(|&a| a > 0.5 && a <= 1.0), "{ratios:?}");
    let distinct: HashSet<u64> = ratios.iter().map(|a| a.to_bits()).collect();
    assert!(distinct.len() > 50);

    let k = Report::from_sim(&w).kpis;
    assert!(k.mean_qaoa_approximation_ratio > 0.6 && k.mean_qaoa_approximation_ratio < 0.95);
    assert!(k.mean_job_success_probability > 0.5 && k.mean_job_success_probability < 1.0);
    assert!(
        k.mean_latency_ms_local > 0.1 && k.mean_latency_ms_local < 1.0,
        "{k:?}"
    );
    assert!(k.mean_latency_ms_remote > 15.0 && k.mean_latency_ms_remote < 40.0);
    assert!(k.quantum_energy_per_job_kwh > 0.0);
    let cmp = Report::from_sim(&w).quantum_vs_datacentre;
    assert!(cmp.remote.electricity_kwh > cmp.local.electricity_kwh);
    assert!(cmp.local.heat_reused_kwh > 0.0 && cmp.remote.heat_reused_kwh == 0.0);
    assert!(cmp.local.net_co2_kg < cmp.remote.net_co2_kg);
}

#[test]
fn qaoa_ratio_is_that_of_the_sampled_bitstrings() {
    let s = riverside();
    let ctx = JobContext {
        origins: s
            .buildings
            .iter()
            .map(|b| (b.id.clone(), b.centre()))
            .collect(),
        intersections: s.heat_network.nodes.iter().map(|n| n.pos).collect(),
    };
    let cfg = QuantumJobs::default();
    let cal = QubitCalibration::default();
    for id in 0..6 {
        let job = Job::new(id, Service::Traffic, 0.0, &cfg, &ctx, 7, &cal);
        let Problem::MaxCut { nodes, edges } = &job.problem else {
            panic!("a traffic job is a MaxCut")
        };
        assert!((6..=10).contains(nodes));
        let r = jobs::execute(&job, &cal, 256, 32, id);
        assert_eq!(r.counts.values().sum::<u64>(), 256);
        let a = r.approximation_ratio.unwrap();
        assert_eq!(Some(a), qaoa::approximation_ratio(&r.counts, *nodes, edges));
        assert!(a > 0.5 && a <= 1.0, "{a}");
        // The same job with the same seed gives the same bitstrings; another seed others.
        assert_eq!(r, jobs::execute(&job, &cal, 256, 32, id));
        assert_ne!(
            r.counts,
            jobs::execute(&job, &cal, 256, 32, id + 100).counts
        );
    }
}

/// Same arrivals (same seed); EDF misses no more deadlines than FIFO under congestion, and the
/// fidelity-aware policy keeps every job accounted for too.
#[test]
fn edf_misses_no_more_deadlines_than_fifo() {
    let run = |policy: SchedulingPolicy| {
        let s = riverside_with(|q| {
            congested(q);
            q.policy = policy;
        });
        let mut w = sim(&s);
        w.run_ticks(8 * HOUR);
        check_accounting(&w);
        w
    };
    let fifo = run(SchedulingPolicy::Fifo);
    let edf = run(SchedulingPolicy::EarliestDeadlineFirst);
    let fid = run(SchedulingPolicy::FidelityAware);
    let arrivals = |w: &Simulation| -> Vec<(Service, u64, u32)> {
        w.res::<JobLog>()
            .records
            .iter()
            .map(|r| (r.service, r.submitted_s.to_bits(), r.qubits))
            .collect()
    };
    assert_eq!(arrivals(&fifo), arrivals(&edf));
    assert_eq!(arrivals(&fifo), arrivals(&fid));
    let (tf, te) = (&fifo.res::<JobLog>().totals, &edf.res::<JobLog>().totals);
    assert!(tf.submitted > 2500, "{tf:?}");
    assert!(tf.missed_deadline > 50, "not congested: {tf:?}");
    assert!(
        te.missed_deadline <= tf.missed_deadline,
        "EDF {te:?}\nFIFO {tf:?}"
    );
    // Missed jobs say why.
    let log = fifo.res::<JobLog>();
    assert!(
        log.records
            .iter()
            .any(|r| r.reason == Some("deadline passed in queue")
                || r.reason == Some("cannot finish before its deadline"))
    );
}

/// A site going down mid-run: its running job is aborted and its queue fails over; every one of
/// those jobs ends up queued or run elsewhere, or rejected with a reason — none is lost.
#[test]
fn a_site_going_down_moves_its_queue() {
    let s = riverside_with(congested);
    let mut w = sim(&s);
    w.run_ticks(HOUR);
    // Wait for a tick at which site 0 has a queue and a running job.
    while w.res::<QuantumScheduler>().devices[0].queue.len() < 3
        || w.res::<QuantumScheduler>().devices[0].running.is_none()
    {
        w.step();
        assert!(w.clock().tick < 4 * HOUR, "site 0 never built a queue");
    }
    let moved: Vec<u64> = {
        let d = &w.res::<QuantumScheduler>().devices[0];
        d.queue
            .iter()
            .copied()
            .chain(d.running.as_ref().map(|r| r.job))
            .collect()
    };
    let aborted = w.res::<QuantumScheduler>().devices[0]
        .running
        .as_ref()
        .unwrap()
        .job;
    w.res_mut::<Sites>().online[0] = false;
    w.step();
    {
        let sched = w.res::<QuantumScheduler>();
        assert_eq!(sched.devices[0].status, SiteStatus::Down);
        assert!(sched.devices[0].queue.is_empty() && sched.devices[0].running.is_none());
        let log = w.res::<JobLog>();
        for &id in &moved {
            let r = &log.records[id as usize];
            match r.state {
                JobState::Queued | JobState::Running | JobState::Completed => {
                    assert_ne!(r.site, Some(0), "{r:?}")
                }
                JobState::MissedDeadline | JobState::Rejected => assert!(r.reason.is_some()),
            }
        }
        let r = &log.records[aborted as usize];
        assert!(
            r.events
                .iter()
                .any(|e| e.kind == JobEventKind::Aborted { site: 0 })
        );
    }
    w.run_ticks(2 * HOUR);
    check_accounting(&w);
    let log = w.res::<JobLog>();
    let elsewhere = moved
        .iter()
        .filter(|&&id| {
            let r = &log.records[id as usize];
            r.state == JobState::Completed && r.site != Some(0)
        })
        .count();
    assert!(elsewhere > 0, "no moved job ran elsewhere");
    assert!(
        log.records[aborted as usize]
            .events
            .iter()
            .filter(|e| e.kind == JobEventKind::Completed)
            .count()
            <= 1
    );
    // With every site down, jobs are rejected with a reason, not lost.
    for o in w.res_mut::<Sites>().online.iter_mut() {
        *o = false;
    }
    let before = w.res::<JobLog>().totals.rejected;
    w.run_ticks(30);
    let log = w.res::<JobLog>();
    assert!(log.totals.rejected > before + 10);
    assert!(
        log.records
            .iter()
            .any(|r| r.reason == Some("all sites down or too warm"))
    );
    check_accounting(&w);
    // Jobs bigger than every site are rejected as such.
    let mut small = riverside_with(|q| q.traffic.min_qubits = 8);
    for q in small.quantum_sites.iter_mut() {
        q.qubits = 7;
    }
    let mut w = sim(&small);
    w.run_ticks(6 * HOUR);
    check_accounting(&w);
    let log = w.res::<JobLog>();
    assert!(log.records.iter().any(|r| r.service == Service::Traffic));
    for r in log.records.iter().filter(|r| r.service == Service::Traffic) {
        assert_eq!(r.reason, Some("no site with enough qubits"));
    }
}

/// A warmer mixing chamber gives lower success probabilities, in the noise model and on the
/// running twin.
#[test]
fn warmer_mixing_chamber_lowers_success_probability() {
    let base = QubitCalibration::default();
    let job = Job::new(
        3,
        Service::Sensing,
        0.0,
        &QuantumJobs::default(),
        &JobContext::default(),
        1,
        &base,
    );
    let p = |t: f64| {
        noise::estimated_success_probability(
            &job.stats,
            &QuantumScheduler::calibration_at(&base, t),
        )
    };
    assert!(p(0.012) > p(0.040) && p(0.040) > p(0.080) && p(0.080) > p(0.150));
    assert!(noise::t1_at_temperature(base.t1_s, 0.150) < 0.5 * base.t1_s);

    let run = |base_k: f64| {
        let s = riverside_with(|q| {
            q.cryostat.base_temp_k = base_k;
        });
        let mut w = sim(&s);
        w.run_ticks(24 * HOUR);
        let k = Report::from_sim(&w).kpis;
        assert!(k.quantum_jobs_completed > 300);
        k.mean_job_success_probability
    };
    let (cold, warm) = (run(0.012), run(0.045));
    assert!(warm < cold - 0.02, "cold {cold}, warm {warm}");
}

/// A compressor stop warms the mixing chamber past 100 mK within minutes (the site stops taking
/// jobs and its queue moves); after a long stop the cool-down takes many hours.
#[test]
fn cryostat_warms_in_minutes_and_cools_in_hours() {
    let s = riverside_with(|_| {});
    let mut w = sim(&s);
    w.run_ticks(9 * HOUR);
    let base = w.res::<Sites>().mixing_chamber_k[2];
    assert!((base - 0.012).abs() < 1e-9);
    let p_on = w.res::<Sites>().electricity_w[2];
    w.res_mut::<Sites>().compressor_on[2] = false;
    w.run_ticks(3);
    let early = w.res::<Sites>().mixing_chamber_k[2];
    w.run_ticks(9);
    let ten_min = w.res::<Sites>().mixing_chamber_k[2];
    assert!(early > 0.02 && early < 0.1, "{early}");
    assert!(ten_min > 0.1 && ten_min < 0.5, "{ten_min}");
    assert_eq!(
        w.res::<QuantumScheduler>().devices[2].status,
        SiteStatus::TooWarm
    );
    assert!(w.res::<QuantumScheduler>().devices[2].queue.is_empty());
    assert_eq!(w.res::<Sites>().utilisation[2], 0.0);
    assert!(p_on - w.res::<Sites>().electricity_w[2] > 0.9 * s.quantum_sites[2].compressor_power_w);
    let stopped_at = w.clock().time_s;
    // A short stop: back in service within about an hour of the restart.
    w.res_mut::<Sites>().compressor_on[2] = true;
    let mut back = None;
    for _ in 0..3 * HOUR {
        w.step();
        if w.res::<QuantumScheduler>().devices[2].status == SiteStatus::Up {
            back = Some(w.clock().time_s - stopped_at);
            break;
        }
    }
    let back = back.expect("the site recovers");
    assert!(back > 10.0 * 60.0 && back < 1.5 * 3600.0, "{back}");
    let resumed = w.clock().time_s;
    w.run_ticks(2 * HOUR);
    assert!(w.res::<JobLog>().records.iter().any(|r| {
        r.events
            .iter()
            .any(|e| e.kind == JobEventKind::Started { site: 2 } && e.time_s >= resumed)
    }));
    // A long stop: 4 K within hours, and the cool-down back to below 50 mK takes a day.
    w.res_mut::<Sites>().compressor_on[2] = false;
    w.run_ticks(4 * HOUR);
    assert!(w.res::<Sites>().mixing_chamber_k[2] > 3.9);
    w.res_mut::<Sites>().compressor_on[2] = true;
    w.run_ticks(12 * HOUR);
    let half_day = w.res::<Sites>().mixing_chamber_k[2];
    assert!(half_day > 0.1, "{half_day}");
    w.run_ticks(18 * HOUR);
    assert!(w.res::<Sites>().mixing_chamber_k[2] < 0.05);
    check_accounting(&w);
}

/// At light load the fidelity-aware policy sends jobs to the better-calibrated devices: a higher
/// mean success probability than EDF for the same jobs, at a small cost in waiting.
#[test]
fn fidelity_aware_policy_raises_success_probability() {
    let run = |policy: SchedulingPolicy| {
        let s = riverside_with(|q| q.policy = policy);
        let mut w = sim(&s);
        w.run_ticks(24 * HOUR);
        check_accounting(&w);
        Report::from_sim(&w).kpis
    };
    let (edf, fid) = (
        run(SchedulingPolicy::EarliestDeadlineFirst),
        run(SchedulingPolicy::FidelityAware),
    );
    assert_eq!(edf.quantum_jobs_submitted, fid.quantum_jobs_submitted);
    assert_eq!(fid.quantum_jobs_missed_deadline, 0);
    assert!(
        fid.mean_job_success_probability > edf.mean_job_success_probability + 0.003,
        "EDF {} vs fidelity-aware {}",
        edf.mean_job_success_probability,
        fid.mean_job_success_probability
    );
    assert!(fid.mean_job_wait_s >= edf.mean_job_wait_s);
}

/// The new scene section is optional, round-trips through RON and is checked.
#[test]
fn quantum_jobs_section_parses_and_is_validated() {
    let s = riverside();
    assert!(s.quantum_jobs.is_none());
    let text = r#"(enabled: true, policy: FidelityAware, traffic: (day_rate_per_h: 30.0),
        cryostat: (too_warm_k: 0.08))"#;
    let q: QuantumJobs = ron::from_str(text).unwrap();
    assert_eq!(q.policy, SchedulingPolicy::FidelityAware);
    assert_eq!(q.traffic.day_rate_per_h, 30.0);
    // A service given in part takes the generic defaults for the rest.
    assert_eq!(
        q.traffic.deadline_s,
        qtwin::scene::JobService::default().deadline_s
    );
    assert_eq!(q.sensing, QuantumJobs::default().sensing);
    assert_eq!(q.cryostat.base_temp_k, 0.012);
    let mut with = s.clone();
    with.quantum_jobs = Some(q);
    let back = qtwin::scene::load_scene_str(&qtwin::scene::to_ron(&with), "x").unwrap();
    assert_eq!(back, with);
    qtwin::scene::validate(&with).unwrap();
    let mut bad = s.clone();
    bad.quantum_jobs = Some(QuantumJobs {
        traffic: qtwin::scene::JobService {
            min_qubits: 12,
            max_qubits: 20,
            ..QuantumJobs::default().traffic
        },
        cryostat: qtwin::scene::Cryostat {
            too_warm_k: 0.005,
            ..Default::default()
        },
        ..QuantumJobs::default()
    });
    let issues = qtwin::scene::validate(&bad).unwrap_err();
    let text: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
    assert!(
        text.iter()
            .any(|t| t.contains("quantum_jobs.traffic: max_qubits = 20")),
        "{text:?}"
    );
    assert!(
        text.iter().any(|t| t.contains("too_warm_k = 0.005")),
        "{text:?}"
    );
}

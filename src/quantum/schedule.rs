//! The job schedule: arrivals from the city's services, the sites' queues and devices, the
//! policies, failover, and the job log.
//!
//! # Model
//! - **Arrivals** — each service submits jobs as a Poisson process whose rate (jobs per hour)
//!   is the scene's day rate from 06:00 to 22:00 and its night rate otherwise; the count of a
//!   tick is drawn from one ChaCha8 stream seeded by the scene seed, the submission times are
//!   uniform within the tick. A job's problem, origin and results come from its own stream
//!   (scene seed and job id), so the arrivals are the same whatever the policy. A scene without
//!   quantum sites submits no jobs.
//! - **Sites** — each site is one device (one job at a time) with the site's qubit count and a
//!   calibration ([`QubitCalibration`]): the scene's nominal T1, T2 and gate and readout errors
//!   × a fixed per-chip log-normal factor (σ = `calibration_spread`) × a daily one (σ/2), redrawn
//!   at the end of every calibration window; the mixing-chamber temperature of the site's
//!   cryostat ([`super::cryostat`]) shortens T1 and T2 through thermal quasiparticles
//!   ([`noise::t1_at_temperature`]) and adds its thermal excited population (state preparation)
//!   to the readout error. Calibration windows of `calibration_duration_s` start daily at
//!   `calibration_hour`, one site after another (so they never overlap); no job runs in them,
//!   and a job starts only if it ends before the next one.
//! - **Status** — a site is *down* when offline, unreachable (fibre cut) or shut down, *too warm* when its mixing chamber is above
//!   `too_warm_k` (as after a compressor stop), *draining* when the operator drains it (its queue
//!   fails over, its running job finishes, it takes nothing new), else *up*. Only up sites take and run jobs; when
//!   a site is down or too warm at the start of a tick, its running job is aborted (it has not
//!   completed, so it is run again in full elsewhere) and its queue fails over: every job is
//!   sent again, in id order, to the other sites by the policy.
//! - **Dispatch** (on arrival or failover) — among the up sites with enough qubits: `Fifo` and
//!   `EarliestDeadlineFirst` take the site where the job would start soonest (queue backlog,
//!   running job and calibration windows; ties: the nearer site); `FidelityAware` takes the site
//!   with the highest [`noise::estimated_success_probability`] among those where it would be
//!   back before its deadline (round-trip latency, queue, run), else the one where it would be
//!   back soonest. With no capable site the job is rejected ("no site with enough qubits"),
//!   with none up ("all sites down or too warm").
//! - **Queues** — `Fifo` runs jobs in submission order; the other policies by deadline, then
//!   priority (higher first), then id. A job that can no longer be back by its deadline when
//!   its turn comes is dropped as `missed_deadline` ("deadline passed in queue", or "cannot
//!   finish before its deadline") rather than run late.
//! - **Time** — within a tick the schedule is event driven (arrivals, starts, completions at
//!   their own times); a site's utilisation for the tick is the busy share of the tick
//!   (running jobs), which drives its electricity and heat ([`super::site_power`]).
//! - **Execution** — every job that completes in a tick is simulated ([`super::jobs::execute`])
//!   with the calibration it started under, on rayon, results applied in id order.
//!
//! Every job ends `Completed`, `MissedDeadline` or `Rejected`, or is still `Queued`/`Running`
//! at the end of a run; it is never run to completion twice. [`JobLog`] keeps every job's
//! record and events; its [`JobTotals`] feed the ledger's KPIs.
//!
//! At the default rates (about 19 jobs an hour for the whole city, each about a second of
//! device time) the sites are busy well under 1 % of the time: their electricity is then
//! almost all idle load (compressor, idle electronics and servers).
//!
//! # Units
//! Times in s since the start of the run (the clock's `time_s`), temperatures in K,
//! probabilities 0–1.
//!
//! # References
//! - C. L. Liu, J. W. Layland, "Scheduling algorithms for multiprogramming in a hard-real-time
//!   environment", J. ACM 20, 46 (1973) (earliest deadline first).
//! - P. Krantz et al., "A quantum engineer's guide to superconducting qubits", Appl. Phys. Rev. 6,
//!   021318 (2019) (T1, T2, gate and readout errors; thermal population).
//! - P. V. Klimov et al., "Fluctuations of energy-relaxation times in superconducting qubits",
//!   PRL 121, 090502 (2018); J. J. Burnett et al., "Decoherence benchmarking of superconducting
//!   qubits", npj Quantum Inf. 5, 54 (2019) (calibration drift between calibrations).
//! - G. S. Ravi, K. N. Smith, P. Gokhale, F. T. Chong, "Quantum computing in the cloud:
//!   analyzing job and machine characteristics", IISWC 2021 (job run times, queueing,
//!   fidelity-aware machine choice).

use crate::math::Det;
use std::collections::BTreeMap;

use bevy::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use super::Sites;
use super::jobs::{self, Job, JobContext, Service};
use super::noise::{self, QubitCalibration};
use crate::base::SimClock;
use crate::scene::{QuantumJobs, Scene, SchedulingPolicy};

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum JobState {
    Queued,
    Running,
    Completed,
    MissedDeadline,
    Rejected,
}

/// A step of a job's life; `site` is the site's index.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum JobEventKind {
    Submitted,
    Queued {
        site: u32,
    },
    Started {
        site: u32,
    },
    /// The site went down or too warm while it ran; the partial run is discarded.
    Aborted {
        site: u32,
    },
    /// The site went down or too warm while the job waited in its queue.
    FailedOver {
        from: u32,
    },
    Completed,
    MissedDeadline,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct JobEvent {
    /// s since the start of the run.
    pub time_s: f64,
    pub kind: JobEventKind,
}

/// One job's life and results (times in s since the start of the run).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRecord {
    pub id: u64,
    pub service: Service,
    pub origin: String,
    pub origin_pos: [f64; 2],
    pub qubits: u32,
    pub depth: u32,
    pub shots: u64,
    pub priority: u8,
    pub submitted_s: f64,
    pub deadline_s: f64,
    /// Device time it needs, s.
    pub run_s: f64,
    pub state: JobState,
    /// Why it was rejected or missed its deadline.
    pub reason: Option<&'static str>,
    /// Index of the site it is queued at, runs on or ran on.
    pub site: Option<u32>,
    pub started_s: Option<f64>,
    pub finished_s: Option<f64>,
    /// From submission to the start of the run that completed, s.
    pub wait_s: Option<f64>,
    /// Estimated success probability on the device as calibrated when it started.
    pub success_probability: Option<f64>,
    /// Mixing-chamber temperature when it started, K.
    pub mixing_chamber_k: Option<f64>,
    pub approximation_ratio: Option<f64>,
    pub optimum_share: Option<f64>,
    pub expectation: Option<f64>,
    /// Round trip between its origin and the site that ran it, s.
    pub latency_local_s: Option<f64>,
    /// Round trip to the remote data centre for the same job, s.
    pub latency_remote_s: Option<f64>,
    pub events: Vec<JobEvent>,
}

/// Running totals of the job log (sums over completed jobs unless said otherwise).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct JobTotals {
    pub submitted: u64,
    pub completed: u64,
    pub missed_deadline: u64,
    pub rejected: u64,
    pub wait_s_sum: f64,
    pub success_probability_sum: f64,
    pub qaoa_ratio_sum: f64,
    pub qaoa_jobs: u64,
    pub latency_local_s_sum: f64,
    pub latency_remote_s_sum: f64,
}

/// Every job's record, by id (ids count from 0), and the totals.
#[derive(Resource, Debug, Clone, Default)]
pub struct JobLog {
    pub records: Vec<JobRecord>,
    pub totals: JobTotals,
    /// Ids of the jobs that completed in the last tick, in id order.
    completed_tick: Vec<u64>,
}

impl JobLog {
    /// Ids of the jobs that completed in the last tick, in id order (what the links domain sends
    /// back to the services).
    pub fn completed_this_tick(&self) -> &[u64] {
        &self.completed_tick
    }
    /// Jobs still waiting or running.
    pub fn open(&self) -> usize {
        self.records
            .iter()
            .filter(|r| matches!(r.state, JobState::Queued | JobState::Running))
            .count()
    }
    fn event(&mut self, id: u64, time_s: f64, kind: JobEventKind) {
        self.records[id as usize]
            .events
            .push(JobEvent { time_s, kind });
    }
    /// Ends job `id` without a run: a missed deadline or a rejection, with the reason.
    fn end(&mut self, id: u64, time_s: f64, missed: bool, reason: &'static str) {
        let (state, kind) = if missed {
            self.totals.missed_deadline += 1;
            (JobState::MissedDeadline, JobEventKind::MissedDeadline)
        } else {
            self.totals.rejected += 1;
            (JobState::Rejected, JobEventKind::Rejected)
        };
        let r = &mut self.records[id as usize];
        r.state = state;
        r.reason = Some(reason);
        r.finished_s = Some(time_s);
        self.event(id, time_s, kind);
    }
}

/// A site's status for the current tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SiteStatus {
    Up,
    /// The operator drains it: no new jobs, its queue fails over, its running job finishes.
    Draining,
    TooWarm,
    /// Offline, unreachable (fibre cut) or shut down.
    Down,
}

/// A job on a device.
#[derive(Debug, Clone)]
pub struct Running {
    pub job: u64,
    pub start_s: f64,
    pub end_s: f64,
    pub calibration: QubitCalibration,
}

/// One site's device.
#[derive(Debug, Clone)]
pub struct Device {
    /// Job ids waiting, in arrival order.
    pub queue: Vec<u64>,
    pub running: Option<Running>,
    /// Calibration now (at the mixing chamber's temperature).
    pub calibration: QubitCalibration,
    /// Calibration at base temperature from the last calibration window.
    pub base_calibration: QubitCalibration,
    pub status: SiteStatus,
    /// Start of the calibration window within the day, s after midnight.
    pub window_offset_s: f64,
    /// Index of the calibration in force.
    epoch: i64,
    /// Fixed log-normal factors of the chip: T1, T2, 1q error, 2q error, readout error.
    chip: [f64; 5],
    /// Busy time in the current tick, s.
    pub busy_s: f64,
}

/// The job schedule's state.
#[derive(Resource, Debug, Clone)]
pub struct QuantumScheduler {
    pub cfg: QuantumJobs,
    /// Whether jobs are generated (enabled and at least one site).
    pub active: bool,
    pub seed: u64,
    arrivals: ChaCha8Rng,
    pub ctx: JobContext,
    /// Nominal calibration (gate times for run times).
    pub nominal: QubitCalibration,
    /// Seconds from 1 January 00:00 to the start of the run.
    abs_offset_s: f64,
    pub next_id: u64,
    pub devices: Vec<Device>,
    pub site_pos: Vec<[f64; 2]>,
    pub site_qubits: Vec<u32>,
    /// Jobs submitted and not finished, by id.
    pub live: BTreeMap<u64, Job>,
    /// (service, site) pairs whose data link has no working key exchange this tick: the
    /// service's jobs are not sent there (set by the links domain).
    link_closed: std::collections::BTreeSet<(Service, usize)>,
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln_d()).sqrt() * (std::f64::consts::TAU * u2).cos_d()
}

/// Poisson count of mean `lambda` (Knuth's method on chunks of at most 30).
fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> u64 {
    let mut n = 0;
    let mut rest = lambda.max(0.0);
    while rest > 0.0 {
        let l = rest.min(30.0);
        rest -= l;
        let limit = (-l).exp_d();
        let mut p = 1.0;
        loop {
            p *= rng.random::<f64>();
            if p <= limit {
                break;
            }
            n += 1;
        }
    }
    n
}

impl QuantumScheduler {
    /// A site's size changed (a what-if edit): jobs are placed by its new qubit count.
    pub fn set_site_qubits(&mut self, site: usize, qubits: u32) {
        if let Some(q) = self.site_qubits.get_mut(site) {
            *q = qubits;
        }
    }

    /// Hook for the links domain: whether `service`'s data link to `site` has a working key
    /// exchange (a closed link gets none of the service's new jobs).
    pub fn set_link_open(&mut self, service: Service, site: usize, open: bool) {
        if open {
            self.link_closed.remove(&(service, site));
        } else {
            self.link_closed.insert((service, site));
        }
    }

    /// The schedule of a scene (its `quantum_jobs`, or the defaults), seeded by `seed`.
    pub fn from_scene(scene: &Scene, seed: u64) -> Self {
        let cfg = scene.quantum_jobs.clone().unwrap_or_default();
        let d = &cfg.device;
        let nominal = QubitCalibration {
            t1_s: d.t1_s,
            t2_s: d.t2_s,
            freq_hz: d.freq_hz,
            readout_error: d.readout_error,
            gate_time_1q_s: d.gate_time_1q_s,
            gate_time_2q_s: d.gate_time_2q_s,
            readout_time_s: d.readout_time_s,
            error_1q: d.error_1q,
            error_2q: d.error_2q,
            mixing_chamber_temp_k: cfg.cryostat.base_temp_k,
        };
        let mut origins: Vec<(String, [f64; 2])> = scene
            .buildings
            .iter()
            .map(|b| (b.id.clone(), b.centre()))
            .collect();
        if origins.is_empty() {
            origins = scene
                .heat_network
                .nodes
                .iter()
                .map(|n| (n.id.clone(), n.pos))
                .collect();
        }
        let ctx = JobContext {
            origins,
            intersections: scene.heat_network.nodes.iter().map(|n| n.pos).collect(),
        };
        let mut arrivals = ChaCha8Rng::seed_from_u64(jobs::mix64(seed ^ 0x5EED_0FA8_81BA));
        arrivals.set_stream(1);
        let abs_offset_s = (scene.sim.start_day_of_year as f64 - 1.0) * 86_400.0;
        let devices = (0..scene.quantum_sites.len())
            .map(|i| {
                let mut rng = ChaCha8Rng::seed_from_u64(jobs::mix64(seed ^ 0xC41B_0000));
                rng.set_stream(i as u64 + 1);
                let s = cfg.calibration_spread;
                let chip = std::array::from_fn(|_| (s * normal(&mut rng)).exp_d());
                let offset = (cfg.calibration_hour * 3600.0
                    + i as f64 * cfg.calibration_duration_s)
                    .rem_euclid(86_400.0);
                Device {
                    queue: Vec::new(),
                    running: None,
                    calibration: nominal.clone(),
                    base_calibration: nominal.clone(),
                    status: SiteStatus::Up,
                    window_offset_s: offset,
                    epoch: i64::MIN,
                    chip,
                    busy_s: 0.0,
                }
            })
            .collect();
        Self {
            active: cfg.enabled && !scene.quantum_sites.is_empty(),
            cfg,
            seed,
            arrivals,
            ctx,
            nominal,
            abs_offset_s,
            next_id: 0,
            devices,
            site_pos: scene.quantum_sites.iter().map(|q| q.pos).collect(),
            site_qubits: scene.quantum_sites.iter().map(|q| q.qubits).collect(),
            live: BTreeMap::new(),
            link_closed: Default::default(),
        }
    }

    /// Takes over from the scheduler of a world that an edit rebuilt (a site added, moved or
    /// removed): the arrival stream and job numbering go on where `old` left them; the jobs that
    /// were queued or running in `old` end as rejected ("world rebuilt by an edit") at `time_s`.
    pub fn continue_from(&mut self, old: QuantumScheduler, log: &mut JobLog, time_s: f64) {
        self.arrivals = old.arrivals;
        self.next_id = old.next_id;
        for id in old.live.keys() {
            if (*id as usize) < log.records.len() {
                log.end(*id, time_s, false, "world rebuilt by an edit");
            }
        }
    }

    /// The calibration window of site `i` that ends after `t` (it may have begun), as
    /// `(start, end)` in s since the start of the run; `None` without windows.
    pub fn window(&self, i: usize, t: f64) -> Option<(f64, f64)> {
        let dur = self.cfg.calibration_duration_s;
        if dur <= 0.0 {
            return None;
        }
        let off = self.devices[i].window_offset_s - self.abs_offset_s;
        let k = ((t - off) / 86_400.0).floor();
        let mut ws = k * 86_400.0 + off;
        if ws + dur <= t {
            ws += 86_400.0;
        }
        Some((ws, ws + dur))
    }

    /// Earliest time ≥ `ready` at which site `i` can run a job of `run_s` outside its
    /// calibration windows.
    pub fn earliest_start(&self, i: usize, ready: f64, run_s: f64) -> f64 {
        let mut s = ready;
        if run_s >= 86_400.0 - self.cfg.calibration_duration_s {
            return s;
        }
        while let Some((ws, we)) = self.window(i, s) {
            if s >= ws || s + run_s > ws {
                s = we;
            } else {
                break;
            }
        }
        s
    }

    /// Whether site `i` is inside a calibration window at `t`.
    pub fn calibrating(&self, i: usize, t: f64) -> bool {
        self.window(i, t).is_some_and(|(ws, _)| t >= ws)
    }

    /// Draws the calibration of site `i` for epoch `epoch` (the count of windows ended).
    fn draw_calibration(&self, i: usize, epoch: i64) -> QubitCalibration {
        let mut rng = ChaCha8Rng::seed_from_u64(jobs::mix64(
            self.seed ^ jobs::mix64(epoch as u64) ^ 0x0CA1_1B8A,
        ));
        rng.set_stream(i as u64 + 1);
        let s = 0.5 * self.cfg.calibration_spread;
        let chip = self.devices[i].chip;
        let mut f = [0.0; 5];
        for (k, v) in f.iter_mut().enumerate() {
            *v = chip[k] * (s * normal(&mut rng)).exp_d();
        }
        let n = &self.nominal;
        let t1 = n.t1_s * f[0];
        QubitCalibration {
            t1_s: t1,
            t2_s: (n.t2_s * f[1]).min(2.0 * t1),
            error_1q: (n.error_1q / f[2]).min(0.5),
            error_2q: (n.error_2q / f[3]).min(0.5),
            readout_error: (n.readout_error / f[4]).min(0.5),
            ..n.clone()
        }
    }

    /// Site `i`'s calibration at mixing-chamber temperature `temp_k`: T1 and T2 through
    /// [`QubitCalibration::effective_t1_s`] (thermal quasiparticles), readout error plus the
    /// thermal excited population.
    pub fn calibration_at(base: &QubitCalibration, temp_k: f64) -> QubitCalibration {
        let mut c = base.clone().with_temperature(temp_k);
        c.readout_error = (base.readout_error + c.excited_population()).min(0.5);
        c
    }

    /// Estimated success probability of `job` on site `i` now.
    pub fn success_probability(&self, job: &Job, i: usize) -> f64 {
        noise::estimated_success_probability(&job.stats, &self.devices[i].calibration)
    }

    fn rtt_s(&self, job: &Job, i: usize) -> f64 {
        let p = self.site_pos[i];
        let d = ((p[0] - job.origin_pos[0]).powi(2) + (p[1] - job.origin_pos[1]).powi(2)).sqrt();
        jobs::city_rtt_s(&self.cfg.network, d)
    }

    /// Queue order of the policy: smaller key runs first.
    fn queue_key(&self, id: u64) -> (f64, i32, u64) {
        let j = &self.live[&id];
        match self.cfg.policy {
            SchedulingPolicy::Fifo => (j.submitted_s, 0, id),
            SchedulingPolicy::EarliestDeadlineFirst | SchedulingPolicy::FidelityAware => {
                (j.deadline_s, -(j.priority as i32), id)
            }
        }
    }

    /// The job site `i` runs next.
    fn next_job(&self, i: usize) -> Option<(usize, u64)> {
        let q = &self.devices[i].queue;
        (0..q.len())
            .min_by(|&a, &b| {
                let (ka, kb) = (self.queue_key(q[a]), self.queue_key(q[b]));
                ka.0.total_cmp(&kb.0)
                    .then(ka.1.cmp(&kb.1))
                    .then(ka.2.cmp(&kb.2))
            })
            .map(|k| (k, q[k]))
    }

    fn free_at(&self, i: usize, now: f64) -> f64 {
        self.devices[i]
            .running
            .as_ref()
            .map_or(now, |r| r.end_s.max(now))
    }

    /// Sends job `id` to a site at time `t` (or rejects it).
    fn dispatch(&mut self, id: u64, t: f64, log: &mut JobLog) {
        let job = &self.live[&id];
        let n = self.devices.len();
        let capable: Vec<usize> = (0..n)
            .filter(|&i| self.site_qubits[i] >= job.qubits)
            .collect();
        if capable.is_empty() {
            self.live.remove(&id);
            log.end(id, t, false, "no site with enough qubits");
            return;
        }
        // (site, estimated start, round trip, back-by time)
        let up = capable
            .iter()
            .any(|&i| self.devices[i].status == SiteStatus::Up);
        let options: Vec<(usize, f64, f64, f64)> = capable
            .into_iter()
            .filter(|&i| {
                self.devices[i].status == SiteStatus::Up
                    && !self.link_closed.contains(&(job.service, i))
            })
            .map(|i| {
                let backlog: f64 = self.devices[i]
                    .queue
                    .iter()
                    .map(|q| self.live[q].run_s)
                    .sum();
                let start = self.earliest_start(i, self.free_at(i, t) + backlog, job.run_s);
                let rtt = self.rtt_s(job, i);
                (i, start, rtt, start + job.run_s + rtt)
            })
            .collect();
        if options.is_empty() {
            self.live.remove(&id);
            let reason = if up {
                "no working key exchange to an up site"
            } else {
                "all sites down or too warm"
            };
            log.end(id, t, false, reason);
            return;
        }
        let soonest = |a: &&(usize, f64, f64, f64), b: &&(usize, f64, f64, f64)| {
            a.1.total_cmp(&b.1)
                .then(a.2.total_cmp(&b.2))
                .then(a.0.cmp(&b.0))
        };
        let site = match self.cfg.policy {
            SchedulingPolicy::Fifo | SchedulingPolicy::EarliestDeadlineFirst => {
                options.iter().min_by(soonest).map(|o| o.0)
            }
            SchedulingPolicy::FidelityAware => {
                let feasible: Vec<(usize, f64, f64)> = options
                    .iter()
                    .filter(|o| o.3 <= job.deadline_s)
                    .map(|o| (o.0, self.success_probability(job, o.0), o.3))
                    .collect();
                if feasible.is_empty() {
                    options
                        .iter()
                        .min_by(|a, b| a.3.total_cmp(&b.3).then(a.0.cmp(&b.0)))
                        .map(|o| o.0)
                } else {
                    feasible
                        .iter()
                        .max_by(|a, b| {
                            a.1.total_cmp(&b.1)
                                .then(b.2.total_cmp(&a.2))
                                .then(b.0.cmp(&a.0))
                        })
                        .map(|o| o.0)
                }
            }
        }
        .expect("at least one option");
        self.devices[site].queue.push(id);
        let r = &mut log.records[id as usize];
        r.site = Some(site as u32);
        r.state = JobState::Queued;
        log.event(id, t, JobEventKind::Queued { site: site as u32 });
    }
}

/// A run that completed in this tick, to be simulated.
struct Done {
    job: u64,
    site: usize,
    end_s: f64,
    calibration: QubitCalibration,
}

/// One tick of the schedule (see the module doc). Runs before the cryostats step and before
/// [`super::site_power`].
pub fn run_jobs(
    clock: Res<SimClock>,
    mut sites: ResMut<Sites>,
    mut sched: ResMut<QuantumScheduler>,
    mut log: ResMut<JobLog>,
) {
    let sched = &mut *sched;
    let log = &mut *log;
    log.completed_tick.clear();
    if !sched.active {
        return;
    }
    let t0 = clock.time_s;
    let dt = clock.tick_s;
    let t1 = t0 + dt;
    let n = sched.devices.len();
    let cfg_too_warm = sched.cfg.cryostat.too_warm_k;
    let dur = sched.cfg.calibration_duration_s;

    // 1. Calibration and status at the start of the tick.
    for i in 0..n {
        let off = sched.devices[i].window_offset_s - sched.abs_offset_s;
        let epoch = ((t0 - off - dur) / 86_400.0).floor() as i64;
        if epoch != sched.devices[i].epoch {
            let c = sched.draw_calibration(i, epoch);
            let d = &mut sched.devices[i];
            d.base_calibration = c;
            d.epoch = epoch;
        }
        let temp = sites.mixing_chamber_k[i];
        let d = &mut sched.devices[i];
        d.calibration = QuantumScheduler::calibration_at(&d.base_calibration, temp);
        d.status = if !sites.online[i] || !sites.reachable[i] || !sites.it_on[i] {
            SiteStatus::Down
        } else if temp > cfg_too_warm {
            SiteStatus::TooWarm
        } else if !sites.accepting_jobs[i] {
            SiteStatus::Draining
        } else {
            SiteStatus::Up
        };
        d.busy_s = 0.0;
    }

    // 2. Runs carried over from the last tick; failover of sites that are not up.
    let mut resend: Vec<u64> = Vec::new();
    for i in 0..n {
        let d = &mut sched.devices[i];
        if matches!(d.status, SiteStatus::Up | SiteStatus::Draining) {
            if let Some(r) = &d.running {
                d.busy_s += r.end_s.min(t1) - t0;
            }
            if d.status == SiteStatus::Up {
                continue;
            }
        } else if let Some(r) = d.running.take() {
            log.event(r.job, t0, JobEventKind::Aborted { site: i as u32 });
            let rec = &mut log.records[r.job as usize];
            rec.started_s = None;
            rec.success_probability = None;
            rec.mixing_chamber_k = None;
            resend.push(r.job);
        }
        for id in std::mem::take(&mut d.queue) {
            log.event(id, t0, JobEventKind::FailedOver { from: i as u32 });
            resend.push(id);
        }
    }
    resend.sort_unstable();
    for id in resend {
        sched.dispatch(id, t0, log);
    }

    // 3. Arrivals of this tick.
    let hour = ((sched.abs_offset_s + t0) / 3600.0).rem_euclid(24.0);
    let day = (6.0..22.0).contains(&hour);
    let mut arrivals: Vec<(f64, Service)> = Vec::new();
    for s in Service::ALL {
        let spec_s = s.spec(&sched.cfg);
        let rate = if day {
            spec_s.day_rate_per_h
        } else {
            spec_s.night_rate_per_h
        };
        let k = poisson(&mut sched.arrivals, rate * dt / 3600.0);
        for _ in 0..k {
            arrivals.push((t0 + sched.arrivals.random::<f64>() * dt, s));
        }
    }
    arrivals.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));

    // 4. Events of the tick in time order.
    let mut done: Vec<Done> = Vec::new();
    let mut now = t0;
    let mut next_arrival = 0;
    loop {
        let arrival_t = arrivals.get(next_arrival).map_or(f64::INFINITY, |a| a.0);
        let mut start: Option<(f64, usize, usize, u64)> = None;
        for i in 0..n {
            if sched.devices[i].status != SiteStatus::Up {
                continue;
            }
            if let Some((k, id)) = sched.next_job(i) {
                let s = sched.earliest_start(i, sched.free_at(i, now), sched.live[&id].run_s);
                if start.is_none_or(|b| s < b.0) {
                    start = Some((s, i, k, id));
                }
            }
        }
        let start_t = start.map_or(f64::INFINITY, |s| s.0);
        if arrival_t < t1 && arrival_t <= start_t {
            now = arrival_t;
            let service = arrivals[next_arrival].1;
            next_arrival += 1;
            let id = sched.next_id;
            sched.next_id += 1;
            let job = Job::new(
                id,
                service,
                now,
                &sched.cfg,
                &sched.ctx,
                sched.seed,
                &sched.nominal,
            );
            log.records.push(JobRecord {
                id,
                service,
                origin: job.origin.clone(),
                origin_pos: job.origin_pos,
                qubits: job.qubits,
                depth: job.depth,
                shots: job.shots,
                priority: job.priority,
                submitted_s: now,
                deadline_s: job.deadline_s,
                run_s: job.run_s,
                state: JobState::Queued,
                reason: None,
                site: None,
                started_s: None,
                finished_s: None,
                wait_s: None,
                success_probability: None,
                mixing_chamber_k: None,
                approximation_ratio: None,
                optimum_share: None,
                expectation: None,
                latency_local_s: None,
                latency_remote_s: None,
                events: vec![JobEvent {
                    time_s: now,
                    kind: JobEventKind::Submitted,
                }],
            });
            log.totals.submitted += 1;
            sched.live.insert(id, job);
            sched.dispatch(id, now, log);
            continue;
        }
        let Some((s, i, k, id)) = start.filter(|s| s.0 < t1) else {
            break;
        };
        now = s;
        sched.devices[i].queue.remove(k);
        if let Some(r) = sched.devices[i].running.take() {
            done.push(Done {
                job: r.job,
                site: i,
                end_s: r.end_s,
                calibration: r.calibration,
            });
        }
        let job = &sched.live[&id];
        let rtt = sched.rtt_s(job, i);
        if s + job.run_s + rtt > job.deadline_s {
            let reason = if s >= job.deadline_s {
                "deadline passed in queue"
            } else {
                "cannot finish before its deadline"
            };
            sched.live.remove(&id);
            log.end(id, s, true, reason);
            continue;
        }
        let p = sched.success_probability(job, i);
        let run_s = job.run_s;
        let submitted = job.submitted_s;
        let d = &mut sched.devices[i];
        d.running = Some(Running {
            job: id,
            start_s: s,
            end_s: s + run_s,
            calibration: d.calibration.clone(),
        });
        d.busy_s += (s + run_s).min(t1) - s;
        let rec = &mut log.records[id as usize];
        rec.state = JobState::Running;
        rec.site = Some(i as u32);
        rec.started_s = Some(s);
        rec.wait_s = Some(s - submitted);
        rec.success_probability = Some(p);
        rec.mixing_chamber_k = Some(d.calibration.mixing_chamber_temp_k);
        log.event(id, s, JobEventKind::Started { site: i as u32 });
    }
    for (i, d) in sched.devices.iter_mut().enumerate() {
        if d.running.as_ref().is_some_and(|r| r.end_s <= t1) {
            let r = d.running.take().expect("checked");
            done.push(Done {
                job: r.job,
                site: i,
                end_s: r.end_s,
                calibration: r.calibration,
            });
        }
    }

    // 5. Execute what completed, in parallel, and log it in id order.
    done.sort_by_key(|d| d.job);
    let max_shots = sched.cfg.max_simulated_shots as u64;
    let trajectories = sched.cfg.trajectories;
    let results: Vec<jobs::JobResult> = {
        let live = &sched.live;
        let seed = sched.seed;
        done.par_iter()
            .map(|d| {
                jobs::execute(
                    &live[&d.job],
                    &d.calibration,
                    max_shots,
                    trajectories,
                    jobs::job_seed(seed, d.job) ^ 0xE7EC,
                )
            })
            .collect()
    };
    let remote = jobs::remote_rtt_s(&sched.cfg.network);
    for (d, r) in done.iter().zip(results) {
        let job = sched.live.remove(&d.job).expect("a running job is live");
        let local = sched.rtt_s(&job, d.site);
        let rec = &mut log.records[d.job as usize];
        rec.state = JobState::Completed;
        rec.finished_s = Some(d.end_s);
        rec.approximation_ratio = r.approximation_ratio;
        rec.optimum_share = r.optimum_share;
        rec.expectation = r.expectation;
        rec.latency_local_s = Some(local);
        rec.latency_remote_s = Some(remote);
        let (wait, p) = (
            rec.wait_s.unwrap_or(0.0),
            rec.success_probability.unwrap_or(0.0),
        );
        log.event(d.job, d.end_s, JobEventKind::Completed);
        log.completed_tick.push(d.job);
        let t = &mut log.totals;
        t.completed += 1;
        t.wait_s_sum += wait;
        t.success_probability_sum += p;
        if let Some(a) = r.approximation_ratio {
            t.qaoa_ratio_sum += a;
            t.qaoa_jobs += 1;
        }
        t.latency_local_s_sum += local;
        t.latency_remote_s_sum += remote;
    }

    // 6. Utilisation: the site's background load (classical and quantum work from outside the
    //    city, the scene's `utilisation`) plus the city's jobs on the rest of the tick.
    for i in 0..n {
        sites.utilisation[i] = if matches!(
            sched.devices[i].status,
            SiteStatus::Up | SiteStatus::Draining
        ) {
            let busy = (sched.devices[i].busy_s / dt).clamp(0.0, 1.0);
            let base = sites.base_utilisation[i];
            base + (1.0 - base) * busy
        } else {
            0.0
        };
    }
}

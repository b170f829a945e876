//! The city's data links to the quantum sites: key exchange really performed, its cost in each
//! job's latency, the share of data that is quantum-safe and the "harvest now, decrypt later"
//! exposure.
//!
//! # Model
//! - **Links** — every city service (`traffic`, `grid_balancing`, `sensing`: the job sources)
//!   reaches every site over one link with a key-exchange scheme ([`LinkScheme`]): `Classical`
//!   (X25519 ECDHE, RFC 7748), `Hybrid` (X25519 + ML-KEM-768, the TLS 1.3 group X25519MLKEM768 of
//!   draft-ietf-tls-ecdhe-mlkem), `PureMlKem` (ML-KEM-768, FIPS 203) or `Qkd` (a key from quantum
//!   key distribution over dark fibre). The payload is AES-256-GCM in every case.
//! - **Sessions** — a link keeps one session and reuses its key for `session_lifetime_s` (TLS 1.3
//!   resumption allows up to 7 days, RFC 8446 §4.6.1; one hour here). At the start of a tick in
//!   which a link has no live session a full key exchange is performed ([`handshake`]) with the
//!   real primitives and ChaCha20 randomness seeded by the scene seed, the link and the count of
//!   its handshakes, so the same seed gives the same bytes. A failed key exchange closes the link
//!   for the tick: the quantum schedule sends it none of the service's jobs (they go to another
//!   site, or are rejected "no working key exchange to an up site"); it is tried again next tick.
//!   One handshake per link and hour instead of one per job keeps the cost to a few handshakes
//!   per hour however many jobs run.
//! - **Transfers** — every completed job's request (`256 + 16·qubits·depth` B: header and gate
//!   list) and result (`64 + shots·⌈qubits/8⌉` B: every shot's bitstring) — sizes are assumptions —
//!   are sealed into AES-256-GCM records with the session key and opened at the other end — the
//!   first 64 KiB of each direction for real, the rest of a larger result counted record by
//!   record (same overhead, same modelled AEAD time) so a job of millions of shots does not
//!   encrypt megabytes in the tick (a
//!   failed tag would be a bug: it panics in tests, never in a run, see [`secure_transfers`]).
//! - **Added latency** of a job, s (next to the quantum schedule's fibre round trip and queue):
//!   `Δt = [first job of a session] (RTT + 8·B_hs/bw + t_cpu,hs) + 8·B_rec/bw + t_aead·B_payload`,
//!   with RTT the job's fibre round trip (one round trip for a TLS 1.3 full handshake, RFC 8446
//!   §2), `B_hs` the handshake's bytes ([`HandshakeBytes`]), `B_rec` the records' overhead
//!   (22 B per record), `bw` the link's bandwidth, and the CPU times modelled constants
//!   ([`HANDSHAKE_CPU_S`], [`AEAD_S_PER_BYTE`], measured once with
//!   `cargo test --release --lib links::tests::cpu_benchmark -- --ignored --nocapture`; not the
//!   wall clock, so reports stay bit-identical). The same jobs at the remote data centre get the
//!   same terms with its round trip; a QKD link cannot reach it (hundreds of km beyond the QKD
//!   limit) and counts as its fallback scheme there.
//! - **QKD** — key rate `R(L) = R_ref · 10^(−α(L − L_ref)/10)` over `L` of fibre, up to
//!   `max_fibre_m`; `R_ref` = 13.72 Mbit/s at 10 km (Z. Yuan et al., "10-Mb/s quantum key
//!   distribution", J. Lightwave Technol. 36, 3427 (2018)), α = 0.2 dB/km (ITU-T G.652 fibre at
//!   1550 nm, typical). The 100 km limit is an assumption within the 70–120 km that metro QKD
//!   systems are specified for (field networks: J. F. Dynes et al., "Cambridge quantum network",
//!   npj Quantum Inf. 5, 101 (2019)); real rates fall faster than the exponential near the limit
//!   (detector dark counts). A session needs 256 bits of key; a link longer than the limit, whose
//!   rate cannot give 256 bits in a session lifetime, or whose dark fibre is cut, falls back to
//!   `qkd.fallback` (`Hybrid`, or `Classical`, flagged in the KPIs). The QKD physics is not
//!   simulated: the delivered key is drawn from a seeded stream, the same at both ends.
//! - **Exposure** (Mosca's inequality, M. Mosca, "Cybersecurity in an era with quantum
//!   computers: will we be ready?", IEEE Security & Privacy 16(5), 38 (2018)): data is at risk
//!   when `x + y > z`, with `x` the years it must stay secret (per service), `y` the years the
//!   migration to quantum-safe key exchange takes and `z` the years until a cryptographically
//!   relevant quantum computer. The exposure is the payload sent over classical links of a
//!   service with `x + y > z`. Default `z` = 15 years: in the Global Risk Institute's Quantum
//!   Threat Timeline Report 2023 (M. Mosca, M. Piani) most experts put the chance of such a
//!   machine within 15 years at 50 % or more; default `y` = 5 years (NIST IR 8547 (draft, 2024)
//!   deprecates quantum-vulnerable key exchange after 2030). Secrecy lifetimes (assumptions):
//!   traffic 5 years (mobility patterns, personal data), grid balancing 25 years (critical
//!   infrastructure: the grid's units and costs), sensing 2 years (published as open data).
//!
//! # Units
//! Bytes (B), bit/s, s, years. KPIs: MB = 10⁶ B, ms.
//!
//! # References
//! NIST FIPS 203 (ML-KEM, 2024); RFC 7748 (X25519); RFC 8446 (TLS 1.3);
//! draft-ietf-tls-ecdhe-mlkem (X25519MLKEM768); NIST SP 800-38D (GCM); ETSI GS QKD 014 (key
//! delivery); Mosca 2018 (above).

pub mod handshake;

use bevy::prelude::*;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::Serialize;

use crate::base::{SimClock, SimSet};
use crate::quantum::jobs::{self, Service};
use crate::quantum::schedule::{JobLog, QuantumScheduler};
use crate::scene::{DataLinks, LinkScheme, Scene};
pub use handshake::{HandshakeBytes, KexError, Session, Tamper};

/// CPU time of one full key exchange, both ends together, s, by [`LinkScheme::index`]: key
/// generation, encapsulation or Diffie–Hellman, decapsulation, key derivation and both
/// Finished messages. Measured with this crate's primitives (release build, x86-64, one thread
/// on the 2-core development machine while it was shared with other builds, load average 5:
/// best of 5 runs of 200 handshakes; see the module doc). A quiet core is likely about twice as
/// fast; the ratios between schemes are what matters here.
pub const HANDSHAKE_CPU_S: [f64; 4] = [394e-6, 843e-6, 483e-6, 2.2e-6];
/// CPU time of AES-256-GCM, sealing and opening together, s per byte of payload (measured as
/// above on 8 KiB records: 1.46 ns/B).
pub const AEAD_S_PER_BYTE: f64 = 1.46e-9;

/// One link's state.
#[derive(Debug, Clone)]
pub struct LinkState {
    pub service: Service,
    pub site: usize,
    /// The scheme it is configured for.
    pub scheme: LinkScheme,
    /// Its fibre, m.
    pub fibre_m: f64,
    /// QKD key rate over its fibre, bit/s (0 beyond the limit).
    pub qkd_key_rate_bit_s: f64,
    /// The session in force (`None`: none, or the last key exchange failed).
    pub session: Option<Session>,
    pub session_expires_s: f64,
    /// The session's handshake has not yet been charged to a job.
    fresh: bool,
    /// Handshakes tried so far (successful or not); seeds the next one.
    pub attempts: u64,
    /// A fault breaks key exchanges of this scheme on the link (a middlebox that mangles them, a
    /// bad certificate), until the link's scheme changes.
    kex_fault: Option<LinkScheme>,
    /// The QKD dark fibre is cut.
    qkd_fibre_cut: bool,
}

impl LinkState {
    /// The scheme the next handshake uses: the configured one, or the QKD fallback.
    pub fn effective_scheme(&self, cfg: &DataLinks) -> LinkScheme {
        if self.scheme == LinkScheme::Qkd && !self.qkd_available(cfg) {
            cfg.qkd.fallback
        } else {
            self.scheme
        }
    }
    /// Whether QKD can give a session key: fibre within the limit and not cut, and at least 256
    /// bits of key per session lifetime.
    pub fn qkd_available(&self, cfg: &DataLinks) -> bool {
        !self.qkd_fibre_cut && self.qkd_key_rate_bit_s * cfg.session_lifetime_s >= 256.0
    }
    /// Whether the link has a working session.
    pub fn open(&self) -> bool {
        self.session.is_some()
    }
    /// Whether a fault breaks the key exchange the link now uses (its jobs are dropped until an
    /// operator switches its scheme).
    pub fn kex_failing(&self, cfg: &DataLinks) -> bool {
        self.kex_fault
            .is_some_and(|f| f == self.effective_scheme(cfg))
    }
    /// Whether the link's QKD dark fibre is cut.
    pub fn qkd_fibre_cut(&self) -> bool {
        self.qkd_fibre_cut
    }
}

/// What one scheme carried.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SchemeTotals {
    pub jobs: u64,
    pub payload_bytes: u64,
    pub handshakes: u64,
    pub handshake_bytes: u64,
    pub record_overhead_bytes: u64,
    pub added_latency_s_sum: f64,
}

/// Running totals of the links (over completed jobs).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LinkTotals {
    pub jobs: u64,
    pub payload_bytes: u64,
    pub quantum_safe_bytes: u64,
    /// Payload over classical links of services with `x + y > z`.
    pub exposed_bytes: u64,
    pub exposed_jobs: u64,
    pub handshakes: u64,
    pub kex_failures: u64,
    /// Sessions a QKD link opened on its fallback scheme, and those of them classical.
    pub qkd_fallback_sessions: u64,
    pub classical_fallback_sessions: u64,
    pub added_latency_s_sum: f64,
    /// The same jobs' added latency at the remote data centre.
    pub remote_added_latency_s_sum: f64,
    /// Payload the remote data centre would receive classically with `x + y > z`.
    pub remote_exposed_bytes: u64,
    pub remote_quantum_safe_bytes: u64,
    /// By [`LinkScheme::index`].
    pub by_scheme: [SchemeTotals; 4],
}

impl LinkTotals {
    /// Share of the job data sent over quantum-safe links (0 without data).
    pub fn quantum_safe_share(&self) -> f64 {
        ratio(self.quantum_safe_bytes as f64, self.payload_bytes as f64)
    }
    pub fn mean_added_latency_s(&self) -> f64 {
        ratio(self.added_latency_s_sum, self.jobs as f64)
    }
    pub fn remote_quantum_safe_share(&self) -> f64 {
        ratio(
            self.remote_quantum_safe_bytes as f64,
            self.payload_bytes as f64,
        )
    }
    pub fn remote_mean_added_latency_s(&self) -> f64 {
        ratio(self.remote_added_latency_s_sum, self.jobs as f64)
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// The terms of a job's added latency, s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencyTerms {
    pub handshake_rtt_s: f64,
    pub handshake_bytes_s: f64,
    pub handshake_cpu_s: f64,
    pub record_bytes_s: f64,
    pub aead_cpu_s: f64,
}

impl LatencyTerms {
    pub fn total_s(&self) -> f64 {
        self.handshake_rtt_s
            + self.handshake_bytes_s
            + self.handshake_cpu_s
            + self.record_bytes_s
            + self.aead_cpu_s
    }
    /// The terms for a job of `payload` bytes with `record_overhead` bytes of record overhead,
    /// over a link of `bandwidth_bit_s` with round trip `rtt_s`; `handshake` when the job opens
    /// the session.
    pub fn of(
        scheme: LinkScheme,
        handshake: bool,
        rtt_s: f64,
        bandwidth_bit_s: f64,
        payload: usize,
        record_overhead: usize,
    ) -> Self {
        let hs = HandshakeBytes::of(scheme).total();
        let (rtt, bytes, cpu) = if handshake {
            (
                rtt_s,
                8.0 * hs as f64 / bandwidth_bit_s,
                HANDSHAKE_CPU_S[scheme.index()],
            )
        } else {
            (0.0, 0.0, 0.0)
        };
        Self {
            handshake_rtt_s: rtt,
            handshake_bytes_s: bytes,
            handshake_cpu_s: cpu,
            record_bytes_s: 8.0 * record_overhead as f64 / bandwidth_bit_s,
            aead_cpu_s: AEAD_S_PER_BYTE * payload as f64,
        }
    }
}

/// One completed job's transfer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transfer {
    pub job: u64,
    /// Index into [`DataLinkState::links`].
    pub link: u32,
    pub scheme: LinkScheme,
    pub request_bytes: usize,
    pub result_bytes: usize,
    pub record_overhead_bytes: usize,
    /// Whether it bore its session's handshake.
    pub handshake: bool,
    pub latency: LatencyTerms,
    pub remote_added_s: f64,
    pub exposed: bool,
}

/// Bytes of each direction of a transfer that are really sealed and opened (4 records); the rest
/// of a larger payload is counted, not encrypted (see [`DataLinkState`]'s transfer).
pub const REAL_TRANSFER_BYTES: usize = 4 * handshake::RECORD_PLAINTEXT_BYTES;

/// Request and result sizes of a job, B (see the module doc).
pub fn payload_bytes(qubits: u32, depth: u32, shots: u64) -> (usize, usize) {
    let request = 256 + 16 * qubits as usize * depth as usize;
    let result = 64 + shots as usize * (qubits as usize).div_ceil(8);
    (request, result)
}

/// The links domain's state.
#[derive(Resource, Debug, Clone)]
pub struct DataLinkState {
    pub cfg: DataLinks,
    pub seed: u64,
    /// Link `k` joins service `Service::ALL[k / sites]` and site `k % sites`.
    pub links: Vec<LinkState>,
    pub sites: usize,
    pub totals: LinkTotals,
    /// Every completed job's transfer, in completion order.
    pub transfers: Vec<Transfer>,
}

impl DataLinkState {
    /// The links of a scene (`data_links`, or the defaults), seeded by `seed`; fibre lengths
    /// default to the route from the centre of the schedule's job origins.
    pub fn from_scene(scene: &Scene, seed: u64, sched: &QuantumScheduler) -> Self {
        let cfg = scene.data_links.clone().unwrap_or_default();
        let net = scene.quantum_jobs.clone().unwrap_or_default().network;
        let origins = &sched.ctx.origins;
        let centre = if origins.is_empty() {
            [0.0, 0.0]
        } else {
            let n = origins.len() as f64;
            let s = origins
                .iter()
                .fold([0.0, 0.0], |a, o| [a[0] + o.1[0], a[1] + o.1[1]]);
            [s[0] / n, s[1] / n]
        };
        let mut links = Vec::new();
        for s in Service::ALL {
            for (i, q) in scene.quantum_sites.iter().enumerate() {
                let l = cfg.link(s.name(), &q.id);
                let d = ((q.pos[0] - centre[0]).powi(2) + (q.pos[1] - centre[1]).powi(2)).sqrt();
                let fibre_m = l.and_then(|l| l.fibre_m).unwrap_or(net.route_factor * d);
                links.push(LinkState {
                    service: s,
                    site: i,
                    scheme: cfg.scheme(s.name(), &q.id),
                    fibre_m,
                    qkd_key_rate_bit_s: qkd_key_rate_bit_s(&cfg, fibre_m),
                    session: None,
                    session_expires_s: f64::NEG_INFINITY,
                    fresh: false,
                    attempts: 0,
                    kex_fault: None,
                    qkd_fibre_cut: false,
                });
            }
        }
        Self {
            cfg,
            seed,
            links,
            sites: scene.quantum_sites.len(),
            totals: LinkTotals::default(),
            transfers: Vec::new(),
        }
    }

    /// Index of the link from `service` to site `site`.
    pub fn index(&self, service: Service, site: usize) -> usize {
        service as usize * self.sites + site
    }

    /// Takes over the totals and transfers of a world that an edit rebuilt.
    pub fn continue_from(&mut self, old: DataLinkState) {
        self.totals = old.totals;
        self.transfers = old.transfers;
    }

    /// Hook for the operator and what-if edits: link `k`'s scheme (a new session follows at the
    /// next tick; a fault of the old scheme no longer applies).
    pub fn set_scheme(&mut self, k: usize, scheme: LinkScheme) {
        if let Some(l) = self.links.get_mut(k)
            && l.scheme != scheme
        {
            l.scheme = scheme;
            l.session = None;
        }
    }
    /// Hook for the faults domain: key exchanges of `scheme` on link `k` fail (`None`: repaired).
    pub fn set_kex_fault(&mut self, k: usize, scheme: Option<LinkScheme>) {
        if let Some(l) = self.links.get_mut(k)
            && l.kex_fault != scheme
        {
            l.kex_fault = scheme;
            if scheme == Some(l.scheme) || scheme == Some(l.effective_scheme(&self.cfg)) {
                l.session = None;
            }
        }
    }
    /// Hook for the faults domain: the QKD dark fibre of site `site` is cut (or repaired).
    pub fn set_qkd_fibre_cut(&mut self, site: usize, cut: bool) {
        for l in self.links.iter_mut().filter(|l| l.site == site) {
            if l.qkd_fibre_cut != cut {
                l.qkd_fibre_cut = cut;
                if l.scheme == LinkScheme::Qkd {
                    l.session = None;
                }
            }
        }
    }

    /// Opens a session on link `k` at `t` if it has none that lives (see the module doc).
    fn renew(&mut self, k: usize, t: f64) {
        let cfg = &self.cfg;
        let l = &mut self.links[k];
        let scheme = l.effective_scheme(cfg);
        if l.session.as_ref().is_some_and(|s| s.scheme == scheme) && t < l.session_expires_s {
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(jobs::mix64(
            self.seed ^ 0x11A4_5EC0 ^ jobs::mix64(k as u64) ^ jobs::mix64(l.attempts << 20),
        ));
        l.attempts += 1;
        let qkd_key = (scheme == LinkScheme::Qkd).then(|| {
            let mut key = [0u8; 32];
            rng.fill_bytes(&mut key);
            key
        });
        let tamper = if l.kex_fault == Some(scheme) {
            Tamper::ClientShare
        } else {
            Tamper::None
        };
        let t_ = &mut self.totals;
        match handshake::handshake(scheme, &mut rng, qkd_key, tamper) {
            Ok(s) => {
                if l.scheme == LinkScheme::Qkd && scheme != LinkScheme::Qkd {
                    t_.qkd_fallback_sessions += 1;
                    if scheme == LinkScheme::Classical {
                        t_.classical_fallback_sessions += 1;
                    }
                }
                t_.handshakes += 1;
                t_.by_scheme[scheme.index()].handshakes += 1;
                t_.by_scheme[scheme.index()].handshake_bytes += s.bytes.total() as u64;
                l.session = Some(s);
                l.session_expires_s = t + cfg.session_lifetime_s;
                l.fresh = true;
            }
            Err(_) => {
                t_.kex_failures += 1;
                l.session = None;
            }
        }
    }

    /// Whether the data of `service` over a link of `scheme` is exposed (Mosca: `x + y > z`).
    pub fn exposed(&self, service: Service, scheme: LinkScheme) -> bool {
        !scheme.quantum_safe()
            && self.cfg.secrecy_years(service.name()) + self.cfg.migration_years
                > self.cfg.crqc_horizon_years
    }

    /// Seals and opens job `id`'s request and result over its link, and adds its terms.
    fn transfer(&mut self, log: &JobLog, id: u64) {
        let r = &log.records[id as usize];
        let Some(site) = r.site else { return };
        let k = self.index(r.service, site as usize);
        let remote_scheme = {
            let s = self.links[k].scheme;
            if s == LinkScheme::Qkd {
                self.cfg.qkd.fallback
            } else {
                s
            }
        };
        let bw = self.cfg.bandwidth_bit_s;
        let exposed_remote = self.exposed(r.service, remote_scheme);
        let (request, result) = payload_bytes(r.qubits, r.depth, r.shots);
        // Each direction's first records are sealed and opened for real; the rest of a large
        // result (millions of shots: megabytes) is counted — its records, overhead and AEAD time
        // are the same formula — so one job costs at most a few AES-GCM records of CPU.
        let (req_real, res_real) = (
            request.min(REAL_TRANSFER_BYTES),
            result.min(REAL_TRANSFER_BYTES),
        );
        let records = |n: usize| n.div_ceil(handshake::RECORD_PLAINTEXT_BYTES).max(1) as u64;
        let mut payload = vec![0u8; req_real + res_real];
        let mut rng = ChaCha20Rng::seed_from_u64(jobs::job_seed(self.seed, id) ^ 0x7A5F_E700);
        rng.fill_bytes(&mut payload);
        let l = &mut self.links[k];
        // A job completes only where its link was open when it was sent; a link whose session
        // was dropped since (a fault, a scheme change) sends the result over a fresh session
        // at the next renewal — counted on the session it had.
        let Some(session) = l.session.as_mut() else {
            return;
        };
        let scheme = session.scheme;
        let up = session.seal_records(&payload[..req_real]);
        session.skip_records(records(request) - up.len() as u64);
        let down = session.seal_records(&payload[req_real..]);
        session.skip_records(records(result) - down.len() as u64);
        let overhead =
            handshake::record_overhead_bytes(request) + handshake::record_overhead_bytes(result);
        let ok_up = session
            .open_records(&up)
            .is_ok_and(|p| p == payload[..req_real]);
        let ok_down = session
            .open_records(&down)
            .is_ok_and(|p| p == payload[req_real..]);
        debug_assert!(
            ok_up && ok_down,
            "a record sealed with a session's key opens"
        );
        let handshake = std::mem::take(&mut l.fresh);
        let rtt = r.latency_local_s.unwrap_or(0.0);
        let latency = LatencyTerms::of(scheme, handshake, rtt, bw, request + result, overhead);
        let remote = LatencyTerms::of(
            remote_scheme,
            handshake,
            r.latency_remote_s.unwrap_or(0.0),
            bw,
            request + result,
            overhead,
        )
        .total_s();
        let exposed = self.exposed(r.service, scheme);
        let bytes = (request + result) as u64;
        let t = &mut self.totals;
        t.jobs += 1;
        t.payload_bytes += bytes;
        if scheme.quantum_safe() {
            t.quantum_safe_bytes += bytes;
        }
        if exposed {
            t.exposed_bytes += bytes;
            t.exposed_jobs += 1;
        }
        if remote_scheme.quantum_safe() {
            t.remote_quantum_safe_bytes += bytes;
        }
        if exposed_remote {
            t.remote_exposed_bytes += bytes;
        }
        t.added_latency_s_sum += latency.total_s();
        t.remote_added_latency_s_sum += remote;
        let b = &mut t.by_scheme[scheme.index()];
        b.jobs += 1;
        b.payload_bytes += bytes;
        b.record_overhead_bytes += overhead as u64;
        b.added_latency_s_sum += latency.total_s();
        self.transfers.push(Transfer {
            job: id,
            link: k as u32,
            scheme,
            request_bytes: request,
            result_bytes: result,
            record_overhead_bytes: overhead,
            handshake,
            latency,
            remote_added_s: remote,
            exposed,
        });
    }
}

/// QKD secret key rate over `fibre_m` of fibre, bit/s (0 beyond the limit).
pub fn qkd_key_rate_bit_s(cfg: &DataLinks, fibre_m: f64) -> f64 {
    let q = &cfg.qkd;
    if fibre_m > q.max_fibre_m {
        return 0.0;
    }
    use crate::math::Det;
    let db = q.loss_db_per_km * (fibre_m - q.ref_fibre_m) / 1e3;
    q.ref_key_rate_bit_s * 10f64.powf_d(-db / 10.0)
}

pub struct LinksPlugin;

impl Plugin for LinksPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(FixedUpdate, open_links.in_set(SimSet::Links))
            .add_systems(FixedUpdate, secure_transfers.in_set(SimSet::Transfers));
    }
}

/// Renews every link's session that has expired (or was dropped), and tells the schedule which
/// links are open.
pub fn open_links(
    clock: Res<SimClock>,
    mut st: ResMut<DataLinkState>,
    mut sched: ResMut<QuantumScheduler>,
) {
    if !sched.active {
        return;
    }
    for k in 0..st.links.len() {
        st.renew(k, clock.time_s);
        let l = &st.links[k];
        sched.set_link_open(l.service, l.site, l.open());
    }
}

/// Sends the data of every job that completed this tick over its link.
pub fn secure_transfers(mut st: ResMut<DataLinkState>, log: Res<JobLog>) {
    for &id in log.completed_this_tick() {
        st.transfer(&log, id);
    }
}

#[cfg(test)]
mod tests;

//! Site selection: how suitable each place of the city is for a new micro quantum site, and the
//! best few places with their simulated KPIs.
//!
//! # The suitability score
//! Candidates are the centres of a square grid (`spacing_m`, default 50 m) over the city, except
//! points inside a building, on a river, or more than `max_pipe_distance_m` (500 m) from the heat
//! network. The grid has at most [`MAX_CANDIDATES`] (100,000) points: over a larger city the
//! spacing is widened in steps of 10 % until it fits ([`grid_spacing_m`]). For a candidate at
//! `x` and a new site of the template's size (peak electricity `P_site`, heat pump capacity
//! `Q_hp`) five terms, each 0–1:
//!
//! - **heat demand density** `t_d = D(x)/max D`, with `D(x)` = the design heat demand of the
//!   buildings within `radius_m` (250 m) over the disc's area, W/m²;
//! - **distance to the heat network** `t_n = exp(−d/d₀)`, `d` the distance to the nearest pipe,
//!   `d₀` = 150 m (a service pipe's cost and losses grow with its length);
//! - **spare capacity of the network there** `t_s = clamp(S/Q_hp, 0, 1)`, `S = (ṁ_max − ṁ_peak)·c_p·ΔT`
//!   of the nearest pipe: `ṁ_max` at 2 m/s, `ṁ_peak` its largest flow in a base run
//!   ([`NetworkLoads`]; 0 without one), `ΔT` the design supply–return spread;
//! - **feeder headroom** `t_f = clamp(H/P_site, 0, 1)`, `H = C·(1 − L_peak)` of the feeder that
//!   supplies the nearest bus (capacity `C`, peak loading `L_peak` in the base run; the grid
//!   connection's import capacity for the connection's own bus);
//! - **fibre latency** `t_l = (RTT_max − RTT(x))/(RTT_max − RTT_min)` over the candidates, `RTT(x)`
//!   the mean round trip to the buildings (the districts that send jobs; every building sends
//!   alike), by [`crate::quantum::jobs::city_rtt_s`].
//!
//! `score = Σ wᵢ·tᵢ / Σ wᵢ` with the weights of [`SuitabilityWeights`] (default 0.35, 0.25, 0.15,
//! 0.15, 0.10: heat first, since a site's value to the city is the heat it gives).
//!
//! # Suggesting sites
//! [`suggest`] takes the best-scoring candidates at least `min_separation_m` (200 m) apart and from
//! existing sites, places a site of the template's size at each ([`super::add_site`]), and runs
//! the base and every candidate for a few days: the expected KPIs come from simulation, not from
//! the score.
//!
//! Units: m, W, W/m², ms.

use crate::math::Det;
use rayon::prelude::*;
use serde::Serialize;

use super::runs::{RunSpec, kpi_diff, run_scene};
use super::{
    Edit, SiteTemplate, add_site, dist, feeder_of_bus, nearest_bus, nearest_pipe, site_peak_power_w,
};
use crate::ledger::report::Kpis;
use crate::scene::{MapFeature, Scene};
use crate::sim::Simulation;

/// Weights of the score's terms (see the module doc). They need not sum to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SuitabilityWeights {
    pub heat_demand_density: f64,
    pub network_distance: f64,
    pub network_spare_capacity: f64,
    pub feeder_headroom: f64,
    pub fibre_latency: f64,
}

impl Default for SuitabilityWeights {
    fn default() -> Self {
        Self {
            heat_demand_density: 0.35,
            network_distance: 0.25,
            network_spare_capacity: 0.15,
            feeder_headroom: 0.15,
            fibre_latency: 0.10,
        }
    }
}

/// Settings of the candidate grid.
#[derive(Debug, Clone, PartialEq)]
pub struct SuitabilityOptions {
    pub weights: SuitabilityWeights,
    pub spacing_m: f64,
    pub radius_m: f64,
    pub distance_scale_m: f64,
    pub max_pipe_distance_m: f64,
    pub max_velocity_m_s: f64,
}

impl Default for SuitabilityOptions {
    fn default() -> Self {
        Self {
            weights: SuitabilityWeights::default(),
            spacing_m: 50.0,
            radius_m: 250.0,
            distance_scale_m: 150.0,
            max_pipe_distance_m: 500.0,
            max_velocity_m_s: 2.0,
        }
    }
}

/// Peak loads of the heat network and the grid in a base run, for the spare-capacity terms.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NetworkLoads {
    /// Largest |mass flow| of each pipe, kg/s (scene order).
    pub pipe_peak_flow_kg_s: Vec<f64>,
    /// Largest loading of each feeder, 0–1+ (scene order).
    pub feeder_peak_loading: Vec<f64>,
    /// Largest import at the connection, W.
    pub peak_import_w: f64,
}

impl NetworkLoads {
    /// Runs `scene` for `spec` and keeps every pipe's and feeder's peak.
    pub fn from_run(scene: &Scene, spec: &RunSpec) -> Result<Self, crate::scene::SceneError> {
        let mut sim = Simulation::new(scene, &spec.run_options())?;
        let ticks = super::runs::ticks_of(scene, spec);
        let mut l = NetworkLoads::default();
        for _ in 0..ticks {
            sim.step();
            l.update(sim.world());
        }
        Ok(l)
    }
    /// Takes the running world's current flows and loadings into the peaks (a view can call it
    /// every tick).
    pub fn update(&mut self, world: &bevy::prelude::World) {
        let hs = world.resource::<crate::hydraulics::HydraulicState>();
        let g = world.resource::<crate::grid::GridState>();
        self.pipe_peak_flow_kg_s
            .resize(hs.pipe_flow_kg_s.len(), 0.0);
        for (p, f) in self.pipe_peak_flow_kg_s.iter_mut().zip(&hs.pipe_flow_kg_s) {
            *p = p.max(f.abs());
        }
        self.feeder_peak_loading.resize(g.feeder_loading.len(), 0.0);
        for (p, f) in self.feeder_peak_loading.iter_mut().zip(&g.feeder_loading) {
            *p = p.max(*f);
        }
        self.peak_import_w = self.peak_import_w.max(g.import_w);
    }
}

/// One candidate place with its raw values, terms and score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub pos: [f64; 2],
    /// Design heat demand within the radius over the disc's area, W/m².
    pub heat_density_w_m2: f64,
    pub pipe_distance_m: f64,
    pub nearest_pipe: String,
    /// Spare heat-transport capacity of the nearest pipe, W.
    pub network_spare_w: f64,
    pub bus: Option<String>,
    pub feeder: Option<String>,
    /// Electrical headroom of the feeder supplying the nearest bus, W.
    pub feeder_headroom_w: f64,
    /// Mean round trip to the buildings, ms.
    pub mean_rtt_ms: f64,
    /// Terms, 0–1: heat demand density, network distance, spare capacity, feeder headroom, latency.
    pub terms: [f64; 5],
    pub score: f64,
}

/// The suitability layer: every candidate of the grid with its score (row-major from the
/// south-west corner), and what it was computed with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suitability {
    pub weights: SuitabilityWeights,
    pub spacing_m: f64,
    pub site_peak_w: f64,
    pub heat_pump_capacity_w: f64,
    pub candidates: Vec<Candidate>,
}

/// Whether `p` lies inside `poly` (even-odd rule).
pub(crate) fn point_in_polygon(p: [f64; 2], poly: &[[f64; 2]]) -> bool {
    let mut inside = false;
    let n = poly.len();
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + n - 1) % n]);
        if (a[1] > p[1]) != (b[1] > p[1])
            && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
        {
            inside = !inside;
        }
    }
    inside
}

/// Most candidates of the grid: a larger grid is made coarser ([`grid_spacing_m`]), so a city
/// spread over 200 km × 200 km (the largest extent a scene may have) is scored in seconds, not
/// days.
pub const MAX_CANDIDATES: u64 = 100_000;

/// The bounding box of the buildings' centres and the network's nodes, m (infinite when empty).
fn grid_bounds(scene: &Scene) -> ([f64; 2], [f64; 2]) {
    let pts = scene
        .buildings
        .iter()
        .map(|b| b.centre())
        .chain(scene.heat_network.nodes.iter().map(|n| n.pos));
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in pts {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    (lo, hi)
}

/// Columns and rows of the grid at `spacing_m` (`None` for an empty or non-finite box).
fn grid_size(lo: [f64; 2], hi: [f64; 2], spacing_m: f64) -> Option<(usize, usize)> {
    if !(lo[0].is_finite() && lo[1].is_finite() && hi[0].is_finite() && hi[1].is_finite()) {
        return None;
    }
    let n = |k: usize| ((hi[k] - lo[k]) / spacing_m).floor().min(1e12) as usize + 1;
    Some((n(0), n(1)))
}

/// Candidates of the grid at `spacing_m` (saturating).
pub fn grid_candidates(scene: &Scene, spacing_m: f64) -> u64 {
    let (lo, hi) = grid_bounds(scene);
    grid_size(lo, hi, spacing_m.max(1.0))
        .map_or(0, |(nx, ny)| (nx as u64).saturating_mul(ny as u64))
}

/// The spacing the grid is laid at: `requested_m` (at least 1 m; 50 m when not a finite
/// number), widened in steps of 10 % until the grid has at most [`MAX_CANDIDATES`] points.
pub fn grid_spacing_m(scene: &Scene, requested_m: f64) -> f64 {
    let mut s = if requested_m.is_finite() {
        requested_m.max(1.0)
    } else {
        50.0
    };
    while grid_candidates(scene, s) > MAX_CANDIDATES {
        s *= 1.1;
    }
    s
}

/// Scores a grid of candidate places for a new site of `template`'s size (at most
/// [`MAX_CANDIDATES`]: see [`grid_spacing_m`]; the spacing used is in the result).
pub fn suitability(
    scene: &Scene,
    template: &SiteTemplate,
    loads: Option<&NetworkLoads>,
    opts: &SuitabilityOptions,
) -> Suitability {
    let net = crate::network::Network::from_scene(scene);
    let buildings = crate::demand::Buildings::from_scene(scene, &net);
    let centres: Vec<[f64; 2]> = scene.buildings.iter().map(|b| b.centre()).collect();
    let fibre = scene.quantum_jobs.clone().unwrap_or_default().network;
    let hn = &scene.heat_network;
    let t_design = hn.supply_temp_at_design_c.unwrap_or(hn.supply_temp_c);
    let dt_k = (t_design - hn.return_temp_c).max(10.0);
    let site_peak_w = site_peak_power_w(&template.site);
    let cop = crate::plants::heat_pump_cop(
        template.carnot_fraction,
        template.site.recovered_water_temp_c,
        t_design,
    );
    let hp_w = site_peak_w * template.site.recoverable_heat_share * cop / (cop - 1.0);

    // The grid over buildings and nodes.
    let (lo, hi) = grid_bounds(scene);
    let s = grid_spacing_m(scene, opts.spacing_m);
    let mut points = Vec::new();
    if let Some((nx, ny)) = grid_size(lo, hi, s) {
        for j in 0..ny {
            for i in 0..nx {
                points.push([lo[0] + i as f64 * s, lo[1] + j as f64 * s]);
            }
        }
    }
    let on_river = |p: [f64; 2]| {
        scene.map.iter().any(|f| match f {
            MapFeature::River { points, width_m } => points
                .windows(2)
                .any(|w| super::segment_distance(p, w[0], w[1]).0 < 0.5 * width_m + 5.0),
            _ => false,
        })
    };
    let in_building = |p: [f64; 2]| {
        scene
            .buildings
            .iter()
            .any(|b| point_in_polygon(p, &b.footprint))
            || scene
                .quantum_sites
                .iter()
                .any(|q| point_in_polygon(p, &q.footprint))
    };
    let area = std::f64::consts::PI * opts.radius_m * opts.radius_m;
    let gs = crate::grid::GridState::from_scene(scene);
    let mut cands: Vec<Candidate> = points
        .par_iter()
        .filter_map(|&p| {
            let (pk, d, _) = nearest_pipe(scene, p, None)?;
            if d > opts.max_pipe_distance_m || in_building(p) || on_river(p) {
                return None;
            }
            let demand: f64 = centres
                .iter()
                .zip(&buildings.design_heat_w)
                .filter(|(c, _)| dist(**c, p) <= opts.radius_m)
                .map(|(_, w)| *w)
                .sum();
            let dia = net.pipe_diameter_m[pk];
            let m_max =
                net.density_kg_m3 * std::f64::consts::PI * 0.25 * dia * dia * opts.max_velocity_m_s;
            let peak = loads
                .and_then(|l| l.pipe_peak_flow_kg_s.get(pk).copied())
                .unwrap_or(0.0);
            let spare_w = (m_max - peak).max(0.0) * net.cp_j_kg_k * dt_k;
            let (bus, feeder, headroom_w) = match (nearest_bus(scene, p), scene.grid.as_ref()) {
                (Some((b, _)), Some(g)) => {
                    let bid = g.buses[b].id.clone();
                    match feeder_of_bus(scene, &bid) {
                        Some(f) => {
                            let load = loads
                                .and_then(|l| l.feeder_peak_loading.get(f).copied())
                                .unwrap_or(0.0);
                            (
                                Some(bid),
                                Some(g.feeders[f].id.clone()),
                                gs.feeder_capacity_w[f] * (1.0 - load).max(0.0),
                            )
                        }
                        None => {
                            let imp = loads.map_or(0.0, |l| l.peak_import_w);
                            (Some(bid), None, (gs.import_capacity_w - imp).max(0.0))
                        }
                    }
                }
                _ => (None, None, 0.0),
            };
            let rtt = if centres.is_empty() {
                0.0
            } else {
                centres
                    .iter()
                    .map(|c| crate::quantum::jobs::city_rtt_s(&fibre, dist(*c, p)))
                    .sum::<f64>()
                    / centres.len() as f64
            };
            Some(Candidate {
                pos: p,
                heat_density_w_m2: demand / area,
                pipe_distance_m: d,
                nearest_pipe: hn.pipes[pk].id.clone(),
                network_spare_w: spare_w,
                bus,
                feeder,
                feeder_headroom_w: headroom_w,
                mean_rtt_ms: rtt * 1e3,
                terms: [
                    0.0,
                    (-d / opts.distance_scale_m).exp_d(),
                    (spare_w / hp_w.max(1.0)).clamp(0.0, 1.0),
                    (headroom_w / site_peak_w.max(1.0)).clamp(0.0, 1.0),
                    0.0,
                ],
                score: 0.0,
            })
        })
        .collect();
    let max_d = cands
        .iter()
        .map(|c| c.heat_density_w_m2)
        .fold(0.0, f64::max);
    let (rmin, rmax) = cands.iter().fold((f64::INFINITY, 0.0f64), |(a, b), c| {
        (a.min(c.mean_rtt_ms), b.max(c.mean_rtt_ms))
    });
    let w = opts.weights;
    let ws = [
        w.heat_demand_density,
        w.network_distance,
        w.network_spare_capacity,
        w.feeder_headroom,
        w.fibre_latency,
    ];
    let wsum: f64 = ws.iter().sum::<f64>().max(1e-12);
    for c in &mut cands {
        c.terms[0] = if max_d > 0.0 {
            c.heat_density_w_m2 / max_d
        } else {
            0.0
        };
        c.terms[4] = if rmax > rmin {
            (rmax - c.mean_rtt_ms) / (rmax - rmin)
        } else {
            1.0
        };
        c.score = c.terms.iter().zip(ws).map(|(t, w)| t * w).sum::<f64>() / wsum;
    }
    Suitability {
        weights: w,
        spacing_m: s,
        site_peak_w,
        heat_pump_capacity_w: hp_w,
        candidates: cands,
    }
}

/// A suggested place with the edit that places a site there and its simulated KPIs.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub rank: usize,
    pub candidate: Candidate,
    /// What the planner applies with one click ([`super::EditStack::push`] or
    /// [`super::apply_live`]).
    pub edit: Edit,
    pub description: String,
    pub kpis: Kpis,
    /// `{kpi: {base, variant, abs, rel}}` against the scene without the new site.
    pub diff: serde_json::Value,
}

/// The best `top_k` places (at least `min_separation_m` apart and from existing sites) with
/// their KPIs from runs of `spec`; also the base run's KPIs.
pub fn suggest(
    scene: &Scene,
    template: &SiteTemplate,
    opts: &SuitabilityOptions,
    top_k: usize,
    min_separation_m: f64,
    spec: &RunSpec,
) -> Result<(Kpis, Vec<Suggestion>), crate::scene::SceneError> {
    let spec = RunSpec {
        seed: Some(spec.seed.unwrap_or(scene.seed)),
        ..*spec
    };
    let loads = NetworkLoads::from_run(
        scene,
        &RunSpec {
            days: spec.days.min(1.0),
            ..spec
        },
    )?;
    let suit = suitability(scene, template, Some(&loads), opts);
    let mut order: Vec<usize> = (0..suit.candidates.len()).collect();
    order.sort_by(|&a, &b| {
        suit.candidates[b]
            .score
            .total_cmp(&suit.candidates[a].score)
            .then(a.cmp(&b))
    });
    let mut picked: Vec<(Candidate, Edit)> = Vec::new();
    let mut n = scene.quantum_sites.len() + 1;
    for i in order {
        if picked.len() >= top_k {
            break;
        }
        let c = &suit.candidates[i];
        let taken = picked
            .iter()
            .map(|p| p.0.pos)
            .chain(scene.quantum_sites.iter().map(|q| q.pos));
        if taken.into_iter().any(|q| dist(q, c.pos) < min_separation_m) {
            continue;
        }
        let id = loop {
            let id = format!("q{n}");
            n += 1;
            if !scene.quantum_sites.iter().any(|q| q.id == id) {
                break id;
            }
        };
        if let Ok(e) = add_site(scene, &id, c.pos, template) {
            picked.push((c.clone(), e));
        }
    }
    let base = run_scene(scene, &spec, &|_| {})?;
    let runs: Vec<Result<Suggestion, crate::scene::SceneError>> = picked
        .into_par_iter()
        .enumerate()
        .map(|(rank, (candidate, edit))| {
            let mut s = scene.clone();
            edit.apply(&mut s).expect("planned on this scene");
            let r = run_scene(&s, &spec, &|_| {})?;
            Ok(Suggestion {
                rank: rank + 1,
                candidate,
                description: edit.describe(),
                edit,
                diff: kpi_diff(&base.kpis, &r.kpis),
                kpis: r.kpis,
            })
        })
        .collect();
    let mut out = Vec::new();
    for r in runs {
        out.push(r?);
    }
    Ok((base.kpis, out))
}

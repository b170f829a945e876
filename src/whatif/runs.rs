//! Headless runs of scene variants: one run, a comparison of two scenes (both reports and the
//! difference of every KPI), and a sweep over a grid of parameter values in parallel (rayon),
//! optionally one shard of it.
//!
//! Every run is deterministic (same scene, seed and period ⇒ same bits), so a variant gives the
//! same row whichever thread, shard or machine runs it. Variants are numbered in the grid's
//! order: the first `--param` varies slowest, the last fastest.

use rayon::prelude::*;
use serde_json::{Map, Value, json};

use super::{EditError, EditStack, param};
use crate::ledger::report::{Kpis, Report};
use crate::scene::{Scene, SceneError, validate};
use crate::sim::{RunOptions, Simulation};

/// The period and seed of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunSpec {
    /// Simulated days.
    pub days: f64,
    /// Seed; `None` = the scene's.
    pub seed: Option<u64>,
    /// Tick, s; `None` = the scene's.
    pub tick_s: Option<f64>,
}

impl RunSpec {
    /// The simulation options of a run of this spec.
    pub fn run_options(&self) -> RunOptions {
        RunOptions {
            seed: self.seed,
            tick_s: self.tick_s,
            ..Default::default()
        }
    }
}

impl Default for RunSpec {
    fn default() -> Self {
        Self {
            days: 7.0,
            seed: None,
            tick_s: None,
        }
    }
}

/// Runs `scene` (validated) for the spec's period; `progress` is told the ticks done so far
/// every few hundred ticks.
pub fn run_scene(
    scene: &Scene,
    spec: &RunSpec,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Report, SceneError> {
    let mut sim = Simulation::new(scene, &spec.run_options())?;
    let ticks = (spec.days * 86_400.0 / sim.clock().tick_s).round().max(0.0) as u64;
    let mut done = 0;
    while done < ticks {
        let n = 240.min(ticks - done);
        sim.run_ticks(n);
        done += n;
        progress(n);
    }
    Ok(Report::from_sim(&sim))
}

/// The KPIs as (key, JSON number) in the report's key order.
pub fn kpi_entries(k: &Kpis) -> Vec<(String, Value)> {
    match serde_json::to_value(k) {
        Ok(Value::Object(m)) => m.into_iter().collect(),
        _ => Vec::new(),
    }
}

/// `variant − base` of every KPI: `{key: {base, variant, abs, rel}}`, `rel` = abs/|base| (null when
/// the base is 0).
pub fn kpi_diff(base: &Kpis, variant: &Kpis) -> Value {
    let b = kpi_entries(base);
    let v: Map<String, Value> = kpi_entries(variant).into_iter().collect();
    let mut out = Map::new();
    for (k, bv) in b {
        let x = bv.as_f64().unwrap_or(0.0);
        let y = v.get(&k).and_then(Value::as_f64).unwrap_or(0.0);
        let abs = y - x;
        let rel = if x != 0.0 {
            json!(abs / x.abs())
        } else {
            Value::Null
        };
        let val = json!({"base": bv, "variant": v.get(&k), "abs": abs, "rel": rel});
        out.insert(k, val);
    }
    Value::Object(out)
}

/// Runs both scenes over the same period with the same seed (the base's unless the spec sets
/// one, so both see the same weather noise and job arrivals) and returns
/// `{base: report, variant: report, diff: {...}}`.
pub fn compare(base: &Scene, variant: &Scene, spec: &RunSpec) -> Result<Value, SceneError> {
    let spec = RunSpec {
        seed: Some(spec.seed.unwrap_or(base.seed)),
        ..*spec
    };
    let (a, b) = rayon::join(
        || run_scene(base, &spec, &|_| {}),
        || run_scene(variant, &spec, &|_| {}),
    );
    let (a, b) = (a?, b?);
    let diff = kpi_diff(&a.kpis, &b.kpis);
    Ok(json!({
        "base": a,
        "variant": b,
        "diff": diff,
    }))
}

/// One swept parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepParam {
    pub path: String,
    pub values: Vec<String>,
}

impl std::str::FromStr for SweepParam {
    type Err = EditError;
    fn from_str(s: &str) -> Result<Self, EditError> {
        let (path, values) = param::parse_assignment(s)?;
        Ok(SweepParam { path, values })
    }
}

/// Number of variants of the grid.
pub fn variant_count(params: &[SweepParam]) -> usize {
    params.iter().map(|p| p.values.len()).product()
}

/// The parameter values of variant `index` (first parameter slowest).
pub fn variant_values(params: &[SweepParam], mut index: usize) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), String::new()); params.len()];
    for (k, p) in params.iter().enumerate().rev() {
        let n = p.values.len();
        out[k] = (p.path.clone(), p.values[index % n].clone());
        index /= n;
    }
    out
}

/// The variant indices of shard `i` of `n` (0-based): contiguous slices of near-equal size.
pub fn shard_range(total: usize, i: usize, n: usize) -> std::ops::Range<usize> {
    let n = n.max(1);
    let i = i.min(n - 1);
    (total * i / n)..(total * (i + 1) / n)
}

/// Parses `i/N`.
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("--shard {s}: expected i/N"))?;
    let (i, n): (usize, usize) = (
        i.trim()
            .parse()
            .map_err(|_| format!("--shard {s}: i is not a number"))?,
        n.trim()
            .parse()
            .map_err(|_| format!("--shard {s}: N is not a number"))?,
    );
    if n == 0 || i >= n {
        return Err(format!("--shard {s}: need 0 <= i < N"));
    }
    Ok((i, n))
}

/// One variant's result.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRow {
    pub variant: usize,
    pub values: Vec<(String, String)>,
    /// The KPIs, or why the variant could not be built or run.
    pub result: Result<Kpis, String>,
}

/// Builds variant `index` of the grid from `base`.
pub fn build_variant(base: &Scene, params: &[SweepParam], index: usize) -> Result<Scene, String> {
    let values = variant_values(params, index);
    let mut s = base.clone();
    let mut stack = EditStack::default();
    param::apply_assignments(&mut s, &mut stack, &values).map_err(|e| e.to_string())?;
    validate(&s).map_err(|i| SceneError::Invalid(i).to_string())?;
    Ok(s)
}

/// Runs the variants `range` of the grid in parallel; rows in variant order. `progress` is told
/// ticks as they are done (of `ticks_per_variant` each).
pub fn run_sweep(
    base: &Scene,
    params: &[SweepParam],
    range: std::ops::Range<usize>,
    spec: &RunSpec,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<SweepRow> {
    let spec = RunSpec {
        seed: Some(spec.seed.unwrap_or(base.seed)),
        ..*spec
    };
    range
        .into_par_iter()
        .map(|i| {
            let values = variant_values(params, i);
            let result = build_variant(base, params, i).and_then(|s| {
                run_scene(&s, &spec, progress)
                    .map(|r| r.kpis)
                    .map_err(|e| e.to_string())
            });
            SweepRow {
                variant: i,
                values,
                result,
            }
        })
        .collect()
}

/// Ticks a run of `spec` takes for `scene`.
pub fn ticks_of(scene: &Scene, spec: &RunSpec) -> u64 {
    (spec.days * 86_400.0 / spec.tick_s.unwrap_or(scene.sim.tick_s))
        .round()
        .max(0.0) as u64
}

/// Writes the rows as CSV: `variant`, one column per parameter path, `status`, then every KPI.
/// Numbers are written in Rust's shortest round-trip form, so equal results give equal bytes.
pub fn write_sweep_csv(
    params: &[SweepParam],
    rows: &[SweepRow],
    w: impl std::io::Write,
) -> Result<(), csv::Error> {
    let mut wr = csv::Writer::from_writer(w);
    let kpi_keys: Vec<String> = kpi_entries(&Kpis::from_ledger(&crate::ledger::Ledger::new(0.0)))
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let mut header = vec!["variant".to_string()];
    header.extend(params.iter().map(|p| p.path.clone()));
    header.push("status".into());
    header.extend(kpi_keys.iter().cloned());
    wr.write_record(&header)?;
    for r in rows {
        let mut rec = vec![r.variant.to_string()];
        rec.extend(r.values.iter().map(|(_, v)| v.clone()));
        match &r.result {
            Ok(k) => {
                rec.push("ok".into());
                let m: Map<String, Value> = kpi_entries(k).into_iter().collect();
                rec.extend(kpi_keys.iter().map(|key| match m.get(key) {
                    Some(Value::Number(n)) => n.to_string(),
                    Some(v) => v.to_string(),
                    None => String::new(),
                }));
            }
            Err(e) => {
                rec.push(format!("error: {e}"));
                rec.extend(kpi_keys.iter().map(|_| String::new()));
            }
        }
        wr.write_record(&rec)?;
    }
    wr.flush()?;
    Ok(())
}

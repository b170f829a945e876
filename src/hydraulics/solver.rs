//! The loop-flow Newton solver and the pipe friction law (see the parent module's doc).

use crate::base::{Disjoint, parallel_ok};
use crate::math::Det;
use crate::network::Network;

/// Darcy friction factor at Reynolds number `re` and relative roughness `rel_rough` (ε/d).
pub fn friction_factor(re: f64, rel_rough: f64) -> f64 {
    friction_factor_and_exponent(re, rel_rough).0
}

/// The friction factor and its local exponent `d ln f / d ln Re` (for an exact Newton slope).
fn friction_factor_and_exponent(re: f64, rel_rough: f64) -> (f64, f64) {
    friction_factor_and_exponent_a(re, rel_rough / 3.7)
}

/// [`friction_factor_and_exponent`] with the relative roughness given over 3.7 (`a`).
#[inline]
fn friction_factor_and_exponent_a(re: f64, a: f64) -> (f64, f64) {
    friction_with(re, |re| turbulent_friction(re, a))
}

/// Swamee–Jain, f = 0.25 / L², L = log10(a + b·Re^-0.9), blended linearly into Hagen–Poiseuille
/// over Re 2,000–4,000, with the turbulent branch `turb`.
#[inline]
fn friction_with(re: f64, turb: impl Fn(f64) -> (f64, f64)) -> (f64, f64) {
    if re < 2000.0 {
        (64.0 / re.max(1e-9), -1.0)
    } else if re > 4000.0 {
        turb(re)
    } else {
        let w = (re - 2000.0) / 2000.0;
        let (ft, _) = turb(4000.0);
        let fl = 64.0 / 2000.0;
        let f = (1.0 - w) * fl + w * ft;
        // d f / d Re of the blend, as an exponent.
        let e = (ft - fl) / 2000.0 * re / f;
        (f, e)
    }
}

/// Swamee–Jain tabulated for one relative roughness (`a` = ε/d/3.7): the turbulent friction
/// factor at Reynolds numbers from [`FrictionTable::RE_MIN`] to [`FrictionTable::RE_MAX`] from
/// cubic Hermite interpolation between nodes 1/64 of an octave apart, where the direct law costs
/// three transcendentals (two `ln`, one `exp`, through `libm`: a fifth of a city's tick). The
/// node of a Reynolds number and its position in the segment come from the bits of the float
/// (exponent and top six bits of the mantissa), so a lookup has no logarithm and no division.
/// The interpolation's relative error is below 1e-9 for every roughness the scenes use
/// (`tabulated_friction_matches_swamee_jain`); the Newton slope's exponent is the interpolant's
/// own derivative (within 1e-6 of the law's). Pure `f64` arithmetic on tables built with
/// `libm`: the same bits natively and in the browser.
#[derive(Debug, Clone)]
pub(crate) struct FrictionTable {
    a: f64,
    /// Per node: `f` and `df/dRe`.
    nodes: Box<[[f64; 2]]>,
}

impl FrictionTable {
    /// 2¹², the table's first node (the turbulent law holds from Re 4,000).
    pub const RE_MIN: f64 = 4096.0;
    /// 2²⁷ ≈ 1.3·10⁸, past any district-heating pipe; above it the law itself is used.
    pub const RE_MAX: f64 = 134_217_728.0;
    /// Mantissa bits below the segment index: the top 6 index 64 segments per octave.
    const SHIFT: u32 = 46;
    const SEGMENT_BITS: u64 = 52 - Self::SHIFT as u64;

    fn new(a: f64) -> Self {
        let first = Self::RE_MIN.to_bits() >> Self::SHIFT;
        let last = Self::RE_MAX.to_bits() >> Self::SHIFT;
        let nodes = (first..=last)
            .map(|i| {
                let re = f64::from_bits(i << Self::SHIFT);
                let (f, e) = turbulent_friction(re, a);
                // d f / d Re = e·f/Re.
                [f, e * f / re]
            })
            .collect();
        Self { a, nodes }
    }

    /// The friction factor and its exponent `d ln f / d ln Re` at `re` (turbulent, above 4,000).
    #[inline]
    fn turbulent(&self, re: f64) -> (f64, f64) {
        if !(Self::RE_MIN..Self::RE_MAX).contains(&re) {
            return turbulent_friction(re, self.a);
        }
        let bits = re.to_bits();
        let i = ((bits >> Self::SHIFT) - (Self::RE_MIN.to_bits() >> Self::SHIFT)) as usize;
        // Position in the segment, exactly: the mantissa bits below the index over 2⁴⁶.
        let t = (bits & ((1u64 << Self::SHIFT) - 1)) as f64 * (1.0 / (1u64 << Self::SHIFT) as f64);
        // The segment's width is 2^(E − 6) for the exponent E of `re` (a power of two made from
        // the bits; the last segment of an octave ends at a node of the next one, whose own
        // segment is twice as wide, so the slopes are scaled here and not stored scaled).
        let e_biased = bits >> 52;
        let w = f64::from_bits((e_biased - Self::SEGMENT_BITS) << 52);
        let inv_w = f64::from_bits((2046 + Self::SEGMENT_BITS - e_biased) << 52);
        let [f0, d0] = self.nodes[i];
        let [f1, d1] = self.nodes[i + 1];
        let (m0, m1) = (w * d0, w * d1);
        let t2 = t * t;
        let t3 = t2 * t;
        let f = (2.0 * t3 - 3.0 * t2 + 1.0) * f0
            + (t3 - 2.0 * t2 + t) * m0
            + (3.0 * t2 - 2.0 * t3) * f1
            + (t3 - t2) * m1;
        // d f / d Re = (d f / d t) / w.
        let df_dt = (6.0 * t2 - 6.0 * t) * (f0 - f1)
            + (3.0 * t2 - 4.0 * t + 1.0) * m0
            + (3.0 * t2 - 2.0 * t) * m1;
        (f, df_dt * inv_w * re / f)
    }
}

/// The turbulent branch of Swamee–Jain at `re` for `a` = ε/d/3.7: the friction factor and its
/// exponent `d ln f / d ln Re`.
#[inline]
fn turbulent_friction(re: f64, a: f64) -> (f64, f64) {
    let bre = 5.74 * (-0.9 * re.ln_d()).exp_d();
    // log10 through ln: libm's log10 costs twice its ln (the same on every platform).
    let l = (a + bre).ln_d() * (1.0 / std::f64::consts::LN_10);
    let f = 0.25 / (l * l);
    let e = 1.8 * bre / (std::f64::consts::LN_10 * (a + bre) * l);
    (f, e)
}

/// Pressure drop along pipe `k` for mass flow `q` (kg/s) in its from→to sense, Pa (signed like
/// `q`), with the network's one density and viscosity ([`Network::density_kg_m3`]).
pub fn pressure_drop_pa(net: &Network, k: usize, q: f64) -> f64 {
    pressure_drop_and_slope(net, k, q, net.density_kg_m3, net.viscosity_pa_s).0
}

/// Pressure drop along pipe `k` for mass flow `q` (kg/s, from→to), Pa, for water of density `rho`
/// (kg/m³) and viscosity `mu` (Pa·s) (e.g. a side's from [`PipeProps`]).
pub fn pressure_drop_with_pa(net: &Network, k: usize, q: f64, rho: f64, mu: f64) -> f64 {
    pressure_drop_and_slope(net, k, q, rho, mu).0
}

/// Pressure drop and its derivative with respect to the mass flow, for water of density `rho`
/// and viscosity `mu`.
#[inline]
pub(crate) fn pressure_drop_and_slope(
    net: &Network,
    k: usize,
    q: f64,
    rho: f64,
    mu: f64,
) -> (f64, f64) {
    drop_and_slope(
        &PipeGeom::of(net, k),
        None,
        net.pipe_resistance_factor()[k],
        q,
        rho,
        mu,
    )
}

/// A pipe's geometry as the friction law uses it (constant while the network is; computed once
/// per pipe, so that a pipe's drop costs two divisions instead of eight).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PipeGeom {
    /// `128·L/(π·d⁴)`: the Hagen–Poiseuille resistance is `factor·μ/ρ` times this, Pa per kg/s.
    lam: f64,
    /// `d/A`: the Reynolds number is `|ṁ|/μ` times this.
    re: f64,
    /// `L/(2·d·A²)`: the turbulent drop is `factor·f/ρ·ṁ|ṁ|` times this.
    k2: f64,
    /// Relative roughness over 3.7 (Swamee–Jain's first term).
    rough: f64,
    /// Its friction table in [`PipeProps`] (`u32::MAX`: none, the law itself).
    table: u32,
}

impl PipeGeom {
    pub(crate) fn of(net: &Network, k: usize) -> Self {
        let d = net.pipe_diameter_m[k];
        let l = net.pipe_length_m[k];
        let area = std::f64::consts::PI * 0.25 * d * d;
        Self {
            lam: 128.0 * l / (std::f64::consts::PI * d.powi(4)),
            re: d / area,
            k2: l / (2.0 * d * area * area),
            rough: net.pipe_roughness_m[k] / d / 3.7,
            table: u32::MAX,
        }
    }
}

/// [`pressure_drop_and_slope`] from a pipe's [`PipeGeom`], its friction table (if any) and its
/// resistance factor.
#[inline]
fn drop_and_slope(
    g: &PipeGeom,
    table: Option<&FrictionTable>,
    factor: f64,
    q: f64,
    rho: f64,
    mu: f64,
) -> (f64, f64) {
    let inv_rho = 1.0 / rho;
    // Hagen–Poiseuille resistance, Pa per kg/s: the laminar limit and the floor of the slope.
    let r_lam = factor * g.lam * mu * inv_rho;
    let aq = q.abs();
    let re = aq * g.re / mu;
    if re < 2000.0 {
        return (r_lam * q, r_lam);
    }
    let (f, e) = match table {
        Some(t) => friction_with(re, |re| t.turbulent(re)),
        None => friction_factor_and_exponent_a(re, g.rough),
    };
    let k2 = factor * f * g.k2 * inv_rho;
    let dp = k2 * aq * q;
    // d(f·q|q|)/dq = f|q|·(2 + d ln f/d ln Re); never below the laminar slope.
    (dp, ((2.0 + e) * k2 * aq).max(r_lam))
}

/// The water's density and viscosity in each pipe's supply and return side this tick.
#[derive(Debug, Clone, Default)]
pub struct PipeProps {
    pub supply_density_kg_m3: Vec<f64>,
    pub supply_viscosity_pa_s: Vec<f64>,
    pub return_density_kg_m3: Vec<f64>,
    pub return_viscosity_pa_s: Vec<f64>,
    /// Whether both sides have the same properties (fixed ones): the return's drops are then the
    /// supply's, bit for bit, and are not computed twice.
    pub mirrored: bool,
    /// Each pipe's geometry for the friction law.
    geom: Vec<PipeGeom>,
    /// The friction tables of the pipes' roughnesses (one per distinct ε/d, at most
    /// [`MAX_FRICTION_TABLES`]; pipes beyond use the law itself).
    tables: std::sync::Arc<[FrictionTable]>,
}

/// Distinct relative roughnesses that get a friction table (15 kB each).
pub const MAX_FRICTION_TABLES: usize = 64;

impl PipeProps {
    /// The network's fixed properties in every pipe.
    pub fn fixed(net: &Network) -> Self {
        let n = net.pipe_count();
        let mut geom: Vec<PipeGeom> = (0..n).map(|k| PipeGeom::of(net, k)).collect();
        let mut tables: Vec<FrictionTable> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for g in &mut geom {
            let key = g.rough.to_bits();
            let t = match index.get(&key) {
                Some(&t) => t,
                None if tables.len() < MAX_FRICTION_TABLES && g.rough.is_finite() => {
                    tables.push(FrictionTable::new(g.rough));
                    index.insert(key, tables.len() as u32 - 1);
                    tables.len() as u32 - 1
                }
                None => u32::MAX,
            };
            g.table = t;
        }
        Self {
            supply_density_kg_m3: vec![net.density_kg_m3; n],
            supply_viscosity_pa_s: vec![net.viscosity_pa_s; n],
            return_density_kg_m3: vec![net.density_kg_m3; n],
            return_viscosity_pa_s: vec![net.viscosity_pa_s; n],
            mirrored: true,
            geom,
            tables: tables.into(),
        }
    }

    /// Each side of each pipe at its water's temperature (°C): [`crate::water`]'s fits.
    /// A pure map per pipe side: on rayon in fixed chunks for networks of at least
    /// [`PARALLEL_TREE_PASSES_FROM`] pipes (below, waking a worker costs more than the fits).
    pub fn set_temperatures(&mut self, supply_c: &[f64], return_c: &[f64]) {
        self.mirrored = false;
        let n = supply_c.len().min(return_c.len());
        let parallel = n >= PARALLEL_TREE_PASSES_FROM && parallel_ok();
        let map = |out: &mut [f64], temp_c: &[f64], f: fn(f64) -> f64| {
            let (out, temp_c) = (&mut out[..n], &temp_c[..n]);
            if parallel {
                use rayon::prelude::*;
                out.par_chunks_mut(DROP_CHUNK)
                    .zip(temp_c.par_chunks(DROP_CHUNK))
                    .for_each(|(o, t)| o.iter_mut().zip(t).for_each(|(o, &t)| *o = f(t)));
            } else {
                out.iter_mut().zip(temp_c).for_each(|(o, &t)| *o = f(t));
            }
        };
        use crate::water::{density_kg_m3, viscosity_pa_s};
        map(&mut self.supply_density_kg_m3, supply_c, density_kg_m3);
        map(&mut self.supply_viscosity_pa_s, supply_c, viscosity_pa_s);
        map(&mut self.return_density_kg_m3, return_c, density_kg_m3);
        map(&mut self.return_viscosity_pa_s, return_c, viscosity_pa_s);
    }

    /// Supply and return pressure drops of pipe `k` at flow `q` (from→to), and their slopes.
    #[inline]
    pub(crate) fn drops(&self, net: &Network, k: usize, q: f64) -> PipeDrop {
        let g = &self.geom[k];
        let table = self.tables.get(g.table as usize);
        let factor = net.pipe_resistance_factor()[k];
        let (ds, ss) = drop_and_slope(
            g,
            table,
            factor,
            q,
            self.supply_density_kg_m3[k],
            self.supply_viscosity_pa_s[k],
        );
        let (dr, sr) = if self.mirrored {
            (ds, ss)
        } else {
            drop_and_slope(
                g,
                table,
                factor,
                q,
                self.return_density_kg_m3[k],
                self.return_viscosity_pa_s[k],
            )
        };
        PipeDrop {
            flow: q,
            dp: [ds, dr],
            slope: [ss, sr],
        }
    }
}

/// One pipe's pressure drops (supply, return) at `flow` and their slopes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PipeDrop {
    /// The flow the drops were computed at (NaN where none was).
    pub flow: f64,
    pub dp: [f64; 2],
    pub slope: [f64; 2],
}

impl PipeDrop {
    const NONE: PipeDrop = PipeDrop {
        flow: f64::NAN,
        dp: [0.0; 2],
        slope: [0.0; 2],
    };
    /// The loop equations' drop: the mean of supply and return (both close each loop together;
    /// with fixed properties exactly the supply's).
    #[inline]
    pub fn loop_dp(&self) -> f64 {
        0.5 * (self.dp[0] + self.dp[1])
    }
    #[inline]
    pub fn loop_slope(&self) -> f64 {
        0.5 * (self.slope[0] + self.slope[1])
    }
}

/// Networks with at least this many pipes compute all their pipes' pressure drops on rayon (when
/// it has several threads), in fixed chunks of [`DROP_CHUNK`]: a pure map per pipe, so the same
/// bits for any number of threads.
pub const PARALLEL_DROPS_FROM: usize = 1024;
const DROP_CHUNK: usize = 256;

impl Scratch {
    /// Computes the pressure drops and slopes of every pipe at `flow` (or of the loop pipes only),
    /// except where the drops at exactly that flow are known already.
    pub fn fill_drops(&mut self, net: &Network, flow: &[f64], loop_pipes_only: bool) {
        let props = &self.props;
        let one = |k: usize, d: &mut PipeDrop| {
            let q = flow[k];
            if d.flow.to_bits() == q.to_bits() {
                return;
            }
            *d = props.drops(net, k, q);
        };
        let n = net.pipe_count();
        let drops = &mut self.drops[..n];
        if loop_pipes_only {
            // The loop pipes from their list (each drop is a pure function of its pipe and flow:
            // on rayon in fixed chunks or in order, the same bits).
            let lp = &net.loop_pipes;
            if lp.len() >= DROP_CHUNK && n >= PARALLEL_DROPS_FROM && parallel_ok() {
                use rayon::prelude::*;
                let drops = Disjoint::new(drops);
                lp.par_chunks(DROP_CHUNK).for_each(|chunk| {
                    for &k in chunk {
                        let k = k as usize;
                        // SAFETY: each loop pipe is listed once, so each chunk writes its own.
                        one(k, unsafe { drops.at(k) });
                    }
                });
            } else {
                for &k in lp {
                    let k = k as usize;
                    one(k, &mut drops[k]);
                }
            }
            return;
        }
        if n >= PARALLEL_DROPS_FROM && parallel_ok() {
            use rayon::prelude::*;
            drops
                .par_chunks_mut(DROP_CHUNK)
                .enumerate()
                .for_each(|(c, chunk)| {
                    for (i, d) in chunk.iter_mut().enumerate() {
                        one(c * DROP_CHUNK + i, d);
                    }
                });
            return;
        }
        for (k, d) in drops.iter_mut().enumerate() {
            one(k, d);
        }
    }

    /// Supply and return pressure drops along pipe `k` for mass flow `q` in its from→to sense,
    /// Pa: the last solve's values when computed at exactly this flow (loop pipes, once
    /// converged), else computed. The same numbers either way.
    #[inline]
    pub fn pressure_drops_pa(&self, net: &Network, k: usize, q: f64) -> [f64; 2] {
        let d = &self.drops[k];
        if d.flow.to_bits() == q.to_bits() {
            d.dp
        } else {
            self.props.drops(net, k, q).dp
        }
    }

    /// The loop equations' slope of pipe `k` at flow `q` (mean of supply and return).
    pub(crate) fn loop_slope(&self, net: &Network, k: usize, q: f64) -> f64 {
        self.props.drops(net, k, q).loop_slope()
    }
}

/// Reusable buffers of the solver, and the pipes' water properties.
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    subtree: Vec<f64>,
    tree_flow: Vec<f64>,
    drops: Vec<PipeDrop>,
    resid: Vec<f64>,
    jac: Vec<f64>,
    pub(crate) props: PipeProps,
}

impl Default for PipeDrop {
    fn default() -> Self {
        Self::NONE
    }
}

impl Scratch {
    pub fn new(net: &Network) -> Self {
        let l = net.loops.len();
        Self {
            subtree: vec![0.0; net.node_count()],
            tree_flow: vec![0.0; net.pipe_count()],
            drops: vec![PipeDrop::NONE; net.pipe_count()],
            resid: vec![0.0; l],
            jac: vec![0.0; l * l],
            props: PipeProps::fixed(net),
        }
    }
}

/// Part `c`'s nodes in breadth-first order from its root.
#[inline]
pub(crate) fn part_nodes(net: &Network, c: usize) -> &[u32] {
    &net.bfs_order[net.bfs_part_start[c] as usize..net.bfs_part_start[c + 1] as usize]
}

/// Networks of at least this many pipes run the tree passes per part on rayon (when it has
/// several threads). A tree pass is ~10 flops a node: below this, waking a worker costs more than
/// it saves (the 10k city, 1,799 pipes: its Hydraulics stage 194–200 → 220–257 µs at 2 threads
/// with the passes on rayon).
pub const PARALLEL_TREE_PASSES_FROM: usize = 8192;

/// Whether the passes per part run on rayon: several parts, a network of at least
/// [`PARALLEL_TREE_PASSES_FROM`] pipes, and several threads (never in the browser).
pub(crate) fn parts_in_parallel(net: &Network) -> bool {
    net.component_root.len() > 1 && net.pipe_count() >= PARALLEL_TREE_PASSES_FROM && parallel_ok()
}

/// Runs `pass` for every part of the network (on rayon where [`parts_in_parallel`]).
pub(crate) fn for_each_part(net: &Network, pass: impl Fn(usize) + Sync + Send) {
    let n = net.component_root.len();
    if parts_in_parallel(net) {
        use rayon::prelude::*;
        (0..n).into_par_iter().for_each(pass);
    } else {
        (0..n).for_each(pass);
    }
}

/// Loops close when every loop's pressure residual is below this, Pa.
pub const LOOP_TOLERANCE_PA: f64 = 1.0;
/// Newton iterations a solve may take at most (unless the state sets fewer).
pub const MAX_ITERATIONS: u32 = 50;

/// Solves the pipe flows for the given node injections (the root of each part takes the rest).
/// `loop_flow` is the warm start and is updated; at most `max_iterations` Newton steps. Returns
/// (iterations, largest residual in Pa).
pub fn solve(
    net: &Network,
    injection: &[f64],
    loop_flow: &mut [f64],
    flow: &mut [f64],
    s: &mut Scratch,
    max_iterations: u32,
) -> (u32, f64) {
    // Nothing of an earlier solve is reused (the pipes' constants may have changed since).
    s.drops.iter_mut().for_each(|d| d.flow = f64::NAN);
    // Tree flows forced by continuity: accumulate subtrees from the leaves up, each part on its
    // own (on rayon for large networks: a part's pass touches only its own nodes and pipes, and
    // does the same arithmetic in the same order on either path).
    s.subtree.copy_from_slice(injection);
    s.tree_flow.iter_mut().for_each(|x| *x = 0.0);
    {
        let subtree = Disjoint::new(&mut s.subtree);
        let tree_flow = Disjoint::new(&mut s.tree_flow);
        for_each_part(net, |c| {
            let nodes = part_nodes(net, c);
            for &u in nodes.iter().rev() {
                let ui = u as usize;
                let par = net.parent[ui];
                if par == u32::MAX {
                    continue;
                }
                // Net injection of the subtree flows out through the parent pipe, towards the
                // parent.
                let k = net.parent_pipe[ui] as usize;
                // SAFETY: node `ui`, its parent and its parent pipe are part `c`'s, which only
                // this pass touches (see `Disjoint`).
                unsafe {
                    let sub = *subtree.at(ui);
                    *tree_flow.at(k) = -sub * net.parent_sign[ui];
                    *subtree.at(par as usize) += sub;
                }
            }
            // Parts without a source carry nothing.
            if net.component_root[c].is_none() {
                for &u in nodes {
                    if net.parent[u as usize] != u32::MAX {
                        // SAFETY: as above.
                        unsafe { *tree_flow.at(net.parent_pipe[u as usize] as usize) = 0.0 };
                    }
                }
            }
        });
    }
    let nl = net.loops.len();
    let apply = |flow: &mut [f64], tree: &[f64], loop_flow: &[f64]| {
        flow.copy_from_slice(tree);
        for (l, lp) in net.loops.iter().enumerate() {
            let x = loop_flow[l];
            for &(p, sg) in lp {
                flow[p as usize] += sg * x;
            }
        }
    };
    for (l, lp) in net.loops.iter().enumerate() {
        // A loop in a part without a source carries nothing either.
        let p0 = lp[0].0 as usize;
        if net.component_root[net.component[net.pipe_from[p0] as usize] as usize].is_none() {
            loop_flow[l] = 0.0;
        }
    }
    apply(flow, &s.tree_flow, loop_flow);
    if nl == 0 {
        return (0, 0.0);
    }
    let mut iters = 0;
    let mut max_r;
    loop {
        // Residuals and slopes.
        s.fill_drops(net, flow, true);
        max_r = 0.0f64;
        for (l, lp) in net.loops.iter().enumerate() {
            let r: f64 = lp
                .iter()
                .map(|&(p, sg)| sg * s.drops[p as usize].loop_dp())
                .sum();
            s.resid[l] = r;
            max_r = max_r.max(r.abs());
        }
        if max_r < LOOP_TOLERANCE_PA || iters >= max_iterations {
            break;
        }
        // Jacobian J_lk = Σ_p s_lp s_kp slope_p.
        s.jac.iter_mut().for_each(|x| *x = 0.0);
        for (k, loops) in net.pipe_loops.iter().enumerate() {
            let sl = s.drops[k].loop_slope();
            for &(a, sa) in loops {
                for &(b, sb) in loops {
                    s.jac[a as usize * nl + b as usize] += sa * sb * sl;
                }
            }
        }
        cholesky_solve(&mut s.jac, &mut s.resid, nl);
        for (q, r) in loop_flow.iter_mut().zip(&s.resid[..nl]) {
            *q -= r;
        }
        apply(flow, &s.tree_flow, loop_flow);
        iters += 1;
    }
    (iters, max_r)
}

/// Solves `A x = b` in place (`b` becomes `x`) for a symmetric positive definite `A` (n×n, row
/// major), by Cholesky factorisation. A non-positive pivot (a degenerate loop) is floored.
pub(crate) fn cholesky_solve(a: &mut [f64], b: &mut [f64], n: usize) {
    cholesky_factor(a, n);
    cholesky_substitute(a, b, n);
}

/// Cholesky factor `L` of the symmetric positive definite `a` (n×n, row major), in place in its
/// lower triangle; a non-positive pivot is floored.
pub(crate) fn cholesky_factor(a: &mut [f64], n: usize) {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        let d = d.max(1e-300).sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut v = a[i * n + j];
            for k in 0..j {
                v -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = v / d;
        }
    }
}

/// Solves `L·Lᵀ·x = b` in place with the factor from [`cholesky_factor`].
pub(crate) fn cholesky_substitute(l: &[f64], b: &mut [f64], n: usize) {
    for i in 0..n {
        let mut v = b[i];
        for k in 0..i {
            v -= l[i * n + k] * b[k];
        }
        b[i] = v / l[i * n + i];
    }
    for i in (0..n).rev() {
        let mut v = b[i];
        for k in i + 1..n {
            v -= l[k * n + i] * b[k];
        }
        b[i] = v / l[i * n + i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tabulated law against the law itself over the table's whole range, for relative
    /// roughnesses from a DN1000 steel pipe's (4.5e-5 m / 1 m) to a rough small one's (1e-3).
    #[test]
    fn tabulated_friction_matches_swamee_jain() {
        let mut worst_f = 0.0_f64;
        let mut worst_e = 0.0_f64;
        let mut n = 0;
        for rel in [
            4.5e-5,
            1e-5 / 0.02,
            4.5e-5 / 0.025,
            4.5e-5 / 0.3,
            2e-4,
            1e-3,
        ] {
            let a = rel / 3.7;
            let t = FrictionTable::new(a);
            // 20,000 Reynolds numbers spread geometrically from just below the table to past it,
            // off the nodes (a node itself is exact).
            let steps = 20_000;
            for j in 0..=steps {
                let re = 4000.0 * (2.0e8_f64 / 4000.0).powf(j as f64 / steps as f64) * 1.000_013;
                let (fd, ed) = turbulent_friction(re, a);
                let (ft, et) = t.turbulent(re);
                worst_f = worst_f.max((ft / fd - 1.0).abs());
                worst_e = worst_e.max((et - ed).abs() / ed.abs().max(1e-3));
                n += 1;
            }
            // At a node the table gives the law's own value, bit for bit.
            let node =
                f64::from_bits(FrictionTable::RE_MIN.to_bits() + (37 << FrictionTable::SHIFT));
            assert_eq!(t.turbulent(node).0, turbulent_friction(node, a).0);
        }
        assert!(n > 100_000);
        eprintln!("friction factor within {worst_f:e}, exponent within {worst_e:e} (relative)");
        assert!(
            worst_f < 1e-9,
            "friction factor off by {worst_f:e} (relative)"
        );
        assert!(worst_e < 1e-6, "exponent off by {worst_e:e} (relative)");
    }

    /// Pipes share a table per roughness, and a pipe's drop from the table is the law's within
    /// the table's error.
    #[test]
    fn pipes_share_tables_and_drops_match_the_law() {
        let scene = crate::scene::load_scene(std::path::Path::new("scenes/riverside.ron")).unwrap();
        let net = Network::from_scene(&scene);
        let props = PipeProps::fixed(&net);
        assert!(!props.tables.is_empty() && props.tables.len() <= MAX_FRICTION_TABLES);
        assert!(
            props.tables.len() < net.pipe_count(),
            "{} tables",
            props.tables.len()
        );
        for k in 0..net.pipe_count() {
            for q in [0.01, 0.5, 3.0, 40.0, -12.0] {
                let d = props.drops(&net, k, q);
                let (law, slope) =
                    pressure_drop_and_slope(&net, k, q, net.density_kg_m3, net.viscosity_pa_s);
                assert!(
                    (d.dp[0] - law).abs() <= 1e-9 * law.abs(),
                    "pipe {k} q {q}: {} vs {law}",
                    d.dp[0]
                );
                assert_eq!(d.dp[0].signum(), q.signum());
                assert!(
                    (d.slope[0] - slope).abs() <= 1e-5 * slope.abs(),
                    "pipe {k} q {q}"
                );
            }
        }
    }
}

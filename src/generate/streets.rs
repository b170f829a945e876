//! The street grid: patches of warped street lines, the plan of streets (graph and map) and
//! buildings that the network is designed on, and the choice of blocks for quantum sites.

use super::blocks::Proto;
use super::geometry::{P, dist, mean, rp};
use crate::scene::*;

/// A grid of streets: `ni` × `nj` intersections (i east, j north), block (i, j) between them.
pub(super) struct Patch {
    pub(super) ni: usize,
    pub(super) nj: usize,
    pub(super) pos: Vec<P>,
    /// Street width of each column line (ni) and row line (nj), m.
    pub(super) col_w: Vec<f64>,
    pub(super) row_w: Vec<f64>,
    /// Blocks that belong to the city (their streets exist).
    pub(super) used: Vec<bool>,
    /// Blocks of the old town (for old pipes).
    pub(super) old: Vec<bool>,
    /// Side of the river (buildings connect to nodes of their own side).
    pub(super) zone: u8,
    /// Park polygons of its blocks.
    pub(super) parks: Vec<MapFeature>,
}

impl Patch {
    pub(super) fn new(
        ni: usize,
        nj: usize,
        pos: Vec<P>,
        col_w: Vec<f64>,
        row_w: Vec<f64>,
        zone: u8,
    ) -> Self {
        let nb = (ni - 1) * (nj - 1);
        Self {
            ni,
            nj,
            pos,
            col_w,
            row_w,
            used: vec![false; nb],
            old: vec![false; nb],
            zone,
            parks: Vec::new(),
        }
    }
    pub(super) fn v(&self, i: usize, j: usize) -> usize {
        i + j * self.ni
    }
    pub(super) fn b(&self, i: usize, j: usize) -> usize {
        i + j * (self.ni - 1)
    }
    pub(super) fn quad(&self, i: usize, j: usize) -> [P; 4] {
        [
            self.pos[self.v(i, j)],
            self.pos[self.v(i + 1, j)],
            self.pos[self.v(i + 1, j + 1)],
            self.pos[self.v(i, j + 1)],
        ]
    }
    pub(super) fn widths(&self, i: usize, j: usize) -> [f64; 4] {
        [
            self.row_w[j],
            self.col_w[i + 1],
            self.row_w[j + 1],
            self.col_w[i],
        ]
    }
    pub(super) fn is_used(&self, i: isize, j: isize) -> bool {
        i >= 0
            && j >= 0
            && (i as usize) < self.ni - 1
            && (j as usize) < self.nj - 1
            && self.used[self.b(i as usize, j as usize)]
    }
    pub(super) fn is_old(&self, i: isize, j: isize) -> bool {
        self.is_used(i, j) && self.old[self.b(i as usize, j as usize)]
    }
}

pub(super) struct StreetEdge {
    pub(super) a: usize,
    pub(super) b: usize,
    /// Street width, m: trunks prefer wide streets.
    pub(super) width: f64,
}

/// A city before its networks are designed.
#[derive(Default)]
pub(super) struct Plan {
    pub(super) verts: Vec<P>,
    pub(super) vzone: Vec<u8>,
    pub(super) vold: Vec<bool>,
    pub(super) edges: Vec<StreetEdge>,
    pub(super) map: Vec<MapFeature>,
    /// Buildings with their zone (side of the river).
    pub(super) buildings: Vec<(Proto, u8)>,
    /// Quantum sites' footprints with their zone.
    pub(super) sites: Vec<(Vec<P>, u8)>,
}

impl Plan {
    /// Adds the streets of the used blocks of a patch; returns global vertex ids.
    pub(super) fn add_patch(&mut self, p: &Patch) -> Vec<Option<usize>> {
        let mut gid: Vec<Option<usize>> = vec![None; p.ni * p.nj];
        let mut vertex = |plan: &mut Plan, i: usize, j: usize| -> usize {
            let k = p.v(i, j);
            if let Some(g) = gid[k] {
                return g;
            }
            let (ii, jj) = (i as isize, j as isize);
            let old = p.is_old(ii, jj)
                || p.is_old(ii - 1, jj)
                || p.is_old(ii, jj - 1)
                || p.is_old(ii - 1, jj - 1);
            plan.verts.push(p.pos[k]);
            plan.vzone.push(p.zone);
            plan.vold.push(old);
            gid[k] = Some(plan.verts.len() - 1);
            plan.verts.len() - 1
        };
        // Row lines.
        for j in 0..p.nj {
            let mut run: Vec<P> = Vec::new();
            for i in 0..p.ni {
                let exists = i + 1 < p.ni
                    && (p.is_used(i as isize, j as isize) || p.is_used(i as isize, j as isize - 1));
                if exists {
                    let a = vertex(self, i, j);
                    let b = vertex(self, i + 1, j);
                    self.edges.push(StreetEdge {
                        a,
                        b,
                        width: p.row_w[j],
                    });
                    if run.is_empty() {
                        run.push(rp(p.pos[p.v(i, j)]));
                    }
                    run.push(rp(p.pos[p.v(i + 1, j)]));
                } else if !run.is_empty() {
                    self.map.push(MapFeature::Street {
                        points: std::mem::take(&mut run),
                        width_m: p.row_w[j],
                    });
                }
            }
        }
        // Column lines.
        for i in 0..p.ni {
            let mut run: Vec<P> = Vec::new();
            for j in 0..p.nj {
                let exists = j + 1 < p.nj
                    && (p.is_used(i as isize, j as isize) || p.is_used(i as isize - 1, j as isize));
                if exists {
                    let a = vertex(self, i, j);
                    let b = vertex(self, i, j + 1);
                    self.edges.push(StreetEdge {
                        a,
                        b,
                        width: p.col_w[i],
                    });
                    if run.is_empty() {
                        run.push(rp(p.pos[p.v(i, j)]));
                    }
                    run.push(rp(p.pos[p.v(i, j + 1)]));
                } else if !run.is_empty() {
                    self.map.push(MapFeature::Street {
                        points: std::mem::take(&mut run),
                        width_m: p.col_w[i],
                    });
                }
            }
        }
        gid
    }
}

/// Farthest-point choice of `m` blocks for quantum sites among `cands` (centre, index), starting
/// near `start` and keeping away from `avoid`.
pub(super) fn spread_choice(cands: &[(P, usize)], m: usize, start: P, avoid: P) -> Vec<usize> {
    let mut chosen: Vec<usize> = Vec::new();
    let mut pts: Vec<P> = vec![avoid];
    for k in 0..m.min(cands.len()) {
        let best = cands
            .iter()
            .enumerate()
            .filter(|(ci, _)| !chosen.contains(ci))
            .map(|(ci, c)| {
                let score = if k == 0 {
                    -dist(c.0, start)
                } else {
                    pts.iter()
                        .map(|p| dist(*p, c.0))
                        .fold(f64::INFINITY, f64::min)
                };
                (ci, score)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        if let Some((ci, _)) = best {
            chosen.push(ci);
            pts.push(cands[ci].0);
        }
    }
    chosen
}

/// Whether a building can house a micro quantum site (a rectangle of at least 150 m²).
pub(super) fn site_capable(p: &Proto) -> bool {
    p.poly.len() == 4 && polygon_area(&p.poly) >= 150.0
}

/// Takes the largest building of `protos` that can house a site out (ties: nearest `target`), as
/// the site's footprint.
pub(super) fn take_site_building(protos: &mut Vec<Proto>, target: P) -> Option<Vec<P>> {
    let k = protos
        .iter()
        .enumerate()
        .filter(|(_, p)| site_capable(p))
        .max_by(|a, b| {
            polygon_area(&a.1.poly)
                .total_cmp(&polygon_area(&b.1.poly))
                .then(dist(mean(&b.1.poly), target).total_cmp(&dist(mean(&a.1.poly), target)))
        })
        .map(|(k, _)| k)?;
    Some(protos.remove(k).poly)
}

impl Patch {
    pub(super) fn map_park(&mut self, poly: Vec<P>) {
        self.parks.push(MapFeature::Park { polygon: poly });
    }
}

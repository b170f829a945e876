//! 2D geometry helpers for the generator: points as `[x, y]` in metres, vector arithmetic,
//! rounding, distances to segments and polylines, quadrilaterals, and a nearest-vertex index.

use crate::scene::*;
use std::collections::HashMap;

pub(super) type P = [f64; 2];

pub(super) fn add(a: P, b: P) -> P {
    [a[0] + b[0], a[1] + b[1]]
}
fn sub(a: P, b: P) -> P {
    [a[0] - b[0], a[1] - b[1]]
}
pub(super) fn mul(a: P, k: f64) -> P {
    [a[0] * k, a[1] * k]
}
pub(super) fn cross(a: P, b: P) -> f64 {
    a[0] * b[1] - a[1] * b[0]
}
pub(super) fn norm(a: P) -> f64 {
    (a[0] * a[0] + a[1] * a[1]).sqrt()
}
pub(super) fn dist(a: P, b: P) -> f64 {
    norm(sub(a, b))
}
pub(super) fn lerp(a: P, b: P, t: f64) -> P {
    add(a, mul(sub(b, a), t))
}
pub(super) fn mean(ps: &[P]) -> P {
    let n = ps.len().max(1) as f64;
    let s = ps.iter().fold([0.0, 0.0], |s, p| add(s, *p));
    mul(s, 1.0 / n)
}
/// Rounds to centimetres (keeps the files short and stable).
pub(super) fn r2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
pub(super) fn rp(p: P) -> P {
    [r2(p[0]), r2(p[1])]
}
/// Rounds a power up to a multiple of `step`.
pub(super) fn round_up(v: f64, step: f64) -> f64 {
    (v / step).ceil() * step
}

/// Distance from `p` to the segment `a`–`b`.
fn seg_dist(p: P, a: P, b: P) -> f64 {
    let ab = sub(b, a);
    let l2 = ab[0] * ab[0] + ab[1] * ab[1];
    let t = if l2 > 0.0 {
        (((p[0] - a[0]) * ab[0] + (p[1] - a[1]) * ab[1]) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    dist(p, add(a, mul(ab, t)))
}

/// Distance from `p` to a polyline.
pub fn polyline_distance(p: [f64; 2], line: &[[f64; 2]]) -> f64 {
    match line.len() {
        0 => f64::INFINITY,
        1 => dist(p, line[0]),
        _ => line
            .windows(2)
            .map(|w| seg_dist(p, w[0], w[1]))
            .fold(f64::INFINITY, f64::min),
    }
}

/// Point of a bilinear quadrilateral (corners SW, SE, NE, NW) at (u, v) ∈ [0, 1]².
pub(super) fn bilinear(q: &[P; 4], u: f64, v: f64) -> P {
    add(
        lerp(q[0], q[1], u),
        mul(sub(lerp(q[3], q[2], u), lerp(q[0], q[1], u)), v),
    )
}

pub(super) fn convex_ccw(q: &[P]) -> bool {
    let n = q.len();
    (0..n).all(|k| {
        cross(
            sub(q[(k + 1) % n], q[k]),
            sub(q[(k + 2) % n], q[(k + 1) % n]),
        ) > 0.0
    })
}

/// Moves each side of a counter-clockwise quadrilateral inward by its own distance.
pub(super) fn inset_quad(q: &[P; 4], d: [f64; 4]) -> Option<[P; 4]> {
    let mut lines = [([0.0; 2], [0.0; 2]); 4];
    for k in 0..4 {
        let a = q[k];
        let e = sub(q[(k + 1) % 4], a);
        let l = norm(e);
        if l < 1e-6 {
            return None;
        }
        let n = [-e[1] / l, e[0] / l];
        lines[k] = (add(a, mul(n, d[k])), e);
    }
    let mut out = [[0.0; 2]; 4];
    for k in 0..4 {
        let (a, u) = lines[(k + 3) % 4];
        let (b, v) = lines[k];
        let c = cross(u, v);
        if c.abs() < 1e-9 {
            return None;
        }
        out[k] = add(a, mul(u, cross(sub(b, a), v) / c));
    }
    (convex_ccw(&out) && polygon_area(&out) > 150.0).then_some(out)
}

/// Nearest-vertex search on a uniform grid of cells.
pub(super) struct VertexIndex {
    pub(super) cell: f64,
    pub(super) cells: HashMap<(i64, i64), Vec<usize>>,
}

impl VertexIndex {
    pub(super) fn new(pts: &[P], ok: &[bool], cell: f64) -> Self {
        let mut cells: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
        for (k, p) in pts.iter().enumerate() {
            if ok[k] {
                cells.entry(Self::key(*p, cell)).or_default().push(k);
            }
        }
        Self { cell, cells }
    }
    pub(super) fn key(p: P, cell: f64) -> (i64, i64) {
        ((p[0] / cell).floor() as i64, (p[1] / cell).floor() as i64)
    }
    /// Nearest vertex passing `filter`, ties to the lowest index.
    pub(super) fn nearest(&self, pts: &[P], p: P, filter: impl Fn(usize) -> bool) -> Option<usize> {
        let (cx, cy) = Self::key(p, self.cell);
        let mut best: Option<(f64, usize)> = None;
        for r in 0i64..400 {
            for dx in -r..=r {
                for dy in -r..=r {
                    if dx.abs() != r && dy.abs() != r {
                        continue;
                    }
                    if let Some(list) = self.cells.get(&(cx + dx, cy + dy)) {
                        for &k in list {
                            if !filter(k) {
                                continue;
                            }
                            let d = dist(pts[k], p);
                            if best.is_none_or(|(bd, bk)| d < bd || (d == bd && k < bk)) {
                                best = Some((d, k));
                            }
                        }
                    }
                }
            }
            // Every point of ring r + 1 is at least r·cell away.
            if let Some((bd, _)) = best
                && bd <= r as f64 * self.cell
            {
                break;
            }
        }
        best.map(|b| b.1)
    }
}

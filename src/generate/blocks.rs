//! City blocks and their buildings: zones and block styles, footprints laid out in a block's own
//! frame along its streets, and the buildings made from them (use, floors, energy class).

use super::geometry::{P, bilinear, convex_ccw, dist, inset_quad, r2, round_up, rp};
use crate::scene::*;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Age and character of a part of town; sets energy classes and uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Zone {
    Old,
    Inner,
    Modern,
    Suburb,
    Industrial,
}

/// How a block is built up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Style {
    Park,
    /// Closed perimeter block with a courtyard; frontage range, depth, floors.
    Perimeter {
        zone: Zone,
        front: (f64, f64),
        depth: f64,
        floors: (u32, u32),
    },
    /// Rows of apartment slabs or terraces along the two long sides.
    Slabs {
        zone: Zone,
        floors: (u32, u32),
    },
    /// Detached and semi-detached houses.
    Houses {
        floors: (u32, u32),
    },
    /// Large office buildings.
    Offices {
        floors: (u32, u32),
    },
    School,
    Hospital,
    Industrial,
}

/// A building before it is numbered and connected.
#[derive(Debug, Clone)]
pub(super) struct Proto {
    pub(super) poly: Vec<P>,
    pub(super) floors: u32,
    pub(super) use_: BuildingUse,
    pub(super) zone: Zone,
}

/// The block's own frame: W east, H north, origin at the inset south-west corner.
struct Frame {
    pub(super) quad: [P; 4],
    pub(super) w: f64,
    pub(super) h: f64,
}

impl Frame {
    pub(super) fn new(quad: [P; 4]) -> Self {
        let w = 0.5 * (dist(quad[0], quad[1]) + dist(quad[3], quad[2]));
        let h = 0.5 * (dist(quad[0], quad[3]) + dist(quad[1], quad[2]));
        Self { quad, w, h }
    }
    /// Length of side `s` (0 south, 1 east, 2 north, 3 west) and the depth behind it.
    pub(super) fn side(&self, s: usize) -> (f64, f64) {
        if s.is_multiple_of(2) {
            (self.w, self.h)
        } else {
            (self.h, self.w)
        }
    }
    /// Side frame (t along the street, counter-clockwise; n inward) to block frame.
    pub(super) fn local(&self, s: usize, t: f64, n: f64) -> P {
        match s {
            0 => [t, n],
            1 => [self.w - n, t],
            2 => [self.w - t, self.h - n],
            _ => [n, self.h - t],
        }
    }
    pub(super) fn world(&self, p: P) -> P {
        let u = (p[0] / self.w).clamp(0.0, 1.0);
        let v = (p[1] / self.h).clamp(0.0, 1.0);
        rp(bilinear(&self.quad, u, v))
    }
    /// A polygon given in side frame `s`, in world coordinates.
    pub(super) fn poly(&self, s: usize, pts: &[P]) -> Vec<P> {
        pts.iter()
            .map(|p| self.world(self.local(s, p[0], p[1])))
            .collect()
    }
    pub(super) fn rect(&self, s: usize, t0: f64, t1: f64, n0: f64, n1: f64) -> Vec<P> {
        self.poly(s, &[[t0, n0], [t1, n0], [t1, n1], [t0, n1]])
    }
    /// An L: a front wing t0..t1 × n0..n0+d and a back wing t0..t0+w2 × n0+d..n0+d+e.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn ell(
        &self,
        s: usize,
        t0: f64,
        t1: f64,
        n0: f64,
        d: f64,
        w2: f64,
        e: f64,
    ) -> Vec<P> {
        self.poly(
            s,
            &[
                [t0, n0],
                [t1, n0],
                [t1, n0 + d],
                [t0 + w2, n0 + d],
                [t0 + w2, n0 + d + e],
                [t0, n0 + d + e],
            ],
        )
    }
}

/// Splits `len` metres of street front into buildings of `lo..hi` metres, with a gap of 3–6 m
/// after a building with probability `gap_p`; the last building ends at `len`.
fn split_front(
    len: f64,
    lo: f64,
    hi: f64,
    gap_p: f64,
    gap: (f64, f64),
    rng: &mut ChaCha8Rng,
) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    if len < 0.7 * lo {
        return out;
    }
    if len < lo {
        out.push((0.0, len));
        return out;
    }
    let mut x = 0.0;
    while len - x >= lo - 1e-9 {
        let mut w = rng.random_range(lo..hi);
        if len - x - w < lo {
            w = len - x;
        }
        out.push((x, x + w));
        x += w;
        if rng.random::<f64>() < gap_p {
            let g = rng.random_range(gap.0..gap.1);
            if len - x - g >= lo {
                x += g;
            }
        }
    }
    out
}

fn floors_in(r: (u32, u32), rng: &mut ChaCha8Rng) -> u32 {
    rng.random_range(r.0..=r.1.max(r.0))
}

fn use_for(zone: Zone, rng: &mut ChaCha8Rng) -> BuildingUse {
    let x: f64 = rng.random();
    match zone {
        Zone::Old => {
            if x < 0.68 {
                BuildingUse::Residential
            } else if x < 0.86 {
                BuildingUse::Retail
            } else {
                BuildingUse::Office
            }
        }
        Zone::Inner => {
            if x < 0.72 {
                BuildingUse::Residential
            } else if x < 0.9 {
                BuildingUse::Office
            } else {
                BuildingUse::Retail
            }
        }
        Zone::Modern => {
            if x < 0.8 {
                BuildingUse::Residential
            } else if x < 0.94 {
                BuildingUse::Office
            } else {
                BuildingUse::Retail
            }
        }
        Zone::Suburb => BuildingUse::Residential,
        Zone::Industrial => BuildingUse::Industrial,
    }
}

/// Builds up one block; returns its buildings and, for a park, its polygon.
pub(super) fn fill_block(
    quad: &[P; 4],
    widths: [f64; 4],
    style: Style,
    rng: &mut ChaCha8Rng,
) -> (Vec<Proto>, Option<Vec<P>>) {
    let mut out = Vec::new();
    let d = widths.map(|w| 0.5 * w + 2.5);
    let Some(inner) = inset_quad(quad, d) else {
        return (out, None);
    };
    let f = Frame::new(inner);
    let (w, h) = (f.w, f.h);
    let mut push = |poly: Vec<P>, floors: u32, use_: BuildingUse, zone: Zone| {
        if polygon_area(&poly) > 20.0 && convex_or_ell(&poly) {
            out.push(Proto {
                poly,
                floors: floors.max(1),
                use_,
                zone,
            });
        }
    };
    match style {
        Style::Park => {
            let p = inner.iter().map(|p| rp(*p)).collect();
            return (out, Some(p));
        }
        Style::Perimeter {
            zone,
            front,
            depth,
            floors,
        } => {
            if w < 2.0 * depth + 6.0 || h < 2.0 * depth + 6.0 {
                // Too small for a courtyard: one solid house, or a pair.
                if w * h < 1400.0 {
                    push(
                        f.rect(0, 0.0, w, 0.0, h),
                        floors_in(floors, rng),
                        use_for(zone, rng),
                        zone,
                    );
                } else if w >= h {
                    let m = w * rng.random_range(0.4..0.6);
                    push(
                        f.rect(0, 0.0, m, 0.0, h),
                        floors_in(floors, rng),
                        use_for(zone, rng),
                        zone,
                    );
                    push(
                        f.rect(0, m, w, 0.0, h),
                        floors_in(floors, rng),
                        use_for(zone, rng),
                        zone,
                    );
                } else {
                    let m = h * rng.random_range(0.4..0.6);
                    push(
                        f.rect(1, 0.0, m, 0.0, w),
                        floors_in(floors, rng),
                        use_for(zone, rng),
                        zone,
                    );
                    push(
                        f.rect(1, m, h, 0.0, w),
                        floors_in(floors, rng),
                        use_for(zone, rng),
                        zone,
                    );
                }
            } else {
                // Each side owns its start corner: t ∈ [0, L − depth].
                let gap_p = if zone == Zone::Old { 0.08 } else { 0.2 };
                let segs: Vec<Vec<(f64, f64)>> = (0..4)
                    .map(|s| {
                        split_front(
                            f.side(s).0 - depth,
                            front.0,
                            front.1,
                            gap_p,
                            (3.0, 6.0),
                            rng,
                        )
                    })
                    .collect();
                // L-shaped corner houses: the first house of a side takes the last of the previous.
                let mut ell_arm = [None::<f64>; 4];
                let mut dropped_last = [false; 4];
                for s in 0..4 {
                    let prev = (s + 3) % 4;
                    let (Some(first), Some(last)) = (segs[s].first(), segs[prev].last()) else {
                        continue;
                    };
                    let prev_len = f.side(prev).0 - depth;
                    let last_is_own_first = segs[prev].len() == 1 && ell_arm[prev].is_some();
                    if rng.random::<f64>() < 0.45
                        && first.1 > depth + 4.0
                        && (last.1 - prev_len).abs() < 1e-6
                        && !last_is_own_first
                        && !(segs[s].len() == 1 && dropped_last[s])
                    {
                        ell_arm[s] = Some(last.1 - last.0);
                        dropped_last[prev] = true;
                    }
                }
                for s in 0..4 {
                    let n = segs[s].len();
                    for (k, &(t0, t1)) in segs[s].iter().enumerate() {
                        if k + 1 == n && dropped_last[s] {
                            continue;
                        }
                        let fl = floors_in(floors, rng);
                        let u = use_for(zone, rng);
                        match (k, ell_arm[s]) {
                            (0, Some(arm)) => {
                                push(f.ell(s, 0.0, t1, 0.0, depth, depth, arm), fl, u, zone)
                            }
                            _ => push(f.rect(s, t0, t1, 0.0, depth), fl, u, zone),
                        }
                    }
                }
            }
        }
        Style::Slabs { zone, floors } => {
            let sides = if w >= h { [0, 2] } else { [1, 3] };
            let (len, inward) = f.side(sides[0]);
            let setback = rng.random_range(2.0..5.0);
            let depth = rng.random_range(10.0..13.5);
            let two = inward >= 2.0 * (setback + depth) + 8.0;
            let (lo, hi, gap_p) = if zone == Zone::Modern {
                (16.0, 36.0, 0.7)
            } else {
                (12.0, 28.0, 0.35)
            };
            for (k, &s) in sides.iter().enumerate() {
                if k == 1 && !two {
                    break;
                }
                for (t0, t1) in split_front(len - 4.0, lo, hi, gap_p, (5.0, 11.0), rng) {
                    let fl = floors_in(floors, rng);
                    push(
                        f.rect(s, t0 + 2.0, t1 + 2.0, setback, setback + depth),
                        fl,
                        use_for(zone, rng),
                        zone,
                    );
                }
            }
            // Deep blocks get a slab across the middle.
            if inward > 2.0 * (setback + depth) + 40.0 && len > 50.0 {
                let c = 0.5 * inward;
                let l = rng.random_range(0.35..0.6) * len;
                let t0 = 0.5 * (len - l);
                let fl = floors_in(floors, rng);
                push(
                    f.rect(sides[0], t0, t0 + l, c - 0.5 * depth, c + 0.5 * depth),
                    fl,
                    use_for(zone, rng),
                    zone,
                );
            }
        }
        Style::Houses { floors } => {
            let sides = if w >= h { [0, 2] } else { [1, 3] };
            let (len, inward) = f.side(sides[0]);
            for (k, &s) in sides.iter().enumerate() {
                if k == 1 && inward < 40.0 {
                    break;
                }
                let lot_depth = if inward < 40.0 { inward } else { 0.5 * inward };
                for (t0, t1) in split_front(len, 13.0, 20.0, 0.0, (0.0, 1.0), rng) {
                    let lot = t1 - t0;
                    let hw = rng.random_range(8.0..12.0f64).min(lot - 4.0);
                    let hd = rng.random_range(8.0..11.0f64).min(lot_depth - 8.0);
                    let sb = rng.random_range(4.0..7.0f64).min(lot_depth - hd - 2.0);
                    if hw < 6.0 || hd < 6.0 || sb < 1.0 {
                        continue;
                    }
                    let tc = 0.5 * (t0 + t1) + rng.random_range(-1.0..1.0) * 0.5 * (lot - 4.0 - hw);
                    let a = tc - 0.5 * hw;
                    let fl = floors_in(floors, rng);
                    let x: f64 = rng.random();
                    let poly = if x < 0.12 && lot_depth - sb - hd > 10.0 {
                        let w2 = rng.random_range(0.4..0.6) * hw;
                        f.ell(s, a, a + hw, sb, hd, w2, rng.random_range(4.0..7.0))
                    } else {
                        f.rect(s, a, a + hw, sb, sb + hd)
                    };
                    push(poly, fl, BuildingUse::Residential, Zone::Suburb);
                }
            }
        }
        Style::Offices { floors } => {
            let sides = if w >= h { [0, 2] } else { [1, 3] };
            let (len, inward) = f.side(sides[0]);
            let depth = rng.random_range(14.0..18.0f64).min(0.4 * inward);
            for (k, &s) in sides.iter().enumerate() {
                if k == 1 && inward < 2.0 * depth + 16.0 {
                    break;
                }
                for (t0, t1) in split_front(len - 4.0, 24.0, 45.0, 0.8, (8.0, 15.0), rng) {
                    let u = if rng.random::<f64>() < 0.85 {
                        BuildingUse::Office
                    } else {
                        BuildingUse::Retail
                    };
                    let fl = floors_in(floors, rng);
                    push(
                        f.rect(s, t0 + 2.0, t1 + 2.0, 3.0, 3.0 + depth),
                        fl,
                        u,
                        Zone::Modern,
                    );
                }
            }
        }
        Style::School => {
            if w >= 60.0 && h >= 50.0 {
                let l = (0.6 * w).min(70.0);
                let arm = (0.45 * h).min(40.0);
                push(
                    f.ell(0, 4.0, 4.0 + l, 4.0, 14.0, 14.0, arm),
                    rng.random_range(2..=3),
                    BuildingUse::School,
                    Zone::Inner,
                );
                push(
                    f.rect(2, 4.0, 34.0, 4.0, 24.0),
                    1,
                    BuildingUse::School,
                    Zone::Inner,
                );
            } else {
                push(
                    f.rect(0, 3.0, w - 3.0, 3.0, (h - 3.0).min(18.0)),
                    3,
                    BuildingUse::School,
                    Zone::Inner,
                );
            }
        }
        Style::Hospital => {
            push(
                f.rect(0, 0.1 * w, 0.9 * w, 0.1 * h, 0.45 * h),
                rng.random_range(5..=6),
                BuildingUse::Hospital,
                Zone::Inner,
            );
            push(
                f.rect(0, 0.15 * w, 0.3 * w, 0.45 * h, 0.85 * h),
                rng.random_range(3..=4),
                BuildingUse::Hospital,
                Zone::Inner,
            );
            push(
                f.rect(0, 0.7 * w, 0.85 * w, 0.45 * h, 0.85 * h),
                rng.random_range(3..=4),
                BuildingUse::Hospital,
                Zone::Inner,
            );
        }
        Style::Industrial => {
            let sides = if w >= h { [0, 2] } else { [1, 3] };
            let (len, inward) = f.side(sides[0]);
            for (t0, t1) in split_front(len - 8.0, 30.0, 60.0, 1.0, (8.0, 14.0), rng) {
                let dep = rng.random_range(0.45..0.75) * (inward - 12.0);
                let fl = rng.random_range(1..=2);
                push(
                    f.rect(sides[0], t0 + 4.0, t1 + 4.0, 6.0, 6.0 + dep),
                    fl,
                    BuildingUse::Industrial,
                    Zone::Industrial,
                );
            }
        }
    }
    (out, None)
}

/// Rectangles and L-shapes only (guards against a degenerate mapping).
fn convex_or_ell(poly: &[P]) -> bool {
    poly.iter().all(|p| p[0].is_finite() && p[1].is_finite())
        && (poly.len() != 4 || convex_ccw(poly))
}

fn pick_class(zone: Zone, use_: BuildingUse, rng: &mut ChaCha8Rng) -> char {
    let x: f64 = rng.random();
    let table: &[(f64, char)] = match (zone, use_) {
        (_, BuildingUse::Hospital) => &[(0.5, 'C'), (1.0, 'D')],
        (_, BuildingUse::School) => &[(0.4, 'C'), (1.0, 'D')],
        (Zone::Old, _) => &[(0.35, 'D'), (0.75, 'E'), (1.0, 'F')],
        (Zone::Inner, _) => &[(0.25, 'C'), (0.7, 'D'), (1.0, 'E')],
        (Zone::Modern, _) => &[(0.1, 'A'), (0.6, 'B'), (1.0, 'C')],
        (Zone::Suburb, _) => &[(0.55, 'B'), (1.0, 'C')],
        (Zone::Industrial, _) => &[(0.5, 'D'), (1.0, 'E')],
    };
    table.iter().find(|e| x < e.0).map(|e| e.1).unwrap_or('D')
}

/// Turns a proto into a building (unconnected: node and bus come later).
pub(super) fn make_building(id: String, p: &Proto, rng: &mut ChaCha8Rng) -> Building {
    let class = pick_class(p.zone, p.use_, rng);
    let floor_height_m = match (p.use_, p.zone) {
        (BuildingUse::Residential, Zone::Old) => 3.4,
        (BuildingUse::Residential, _) => 3.0,
        (BuildingUse::Office, _) => 3.6,
        (BuildingUse::Retail, _) => 4.0,
        (BuildingUse::School, _) | (BuildingUse::Hospital, _) => 3.8,
        (BuildingUse::Industrial, _) => 6.0,
    };
    let hot_water_share = match p.use_ {
        BuildingUse::Residential => r2(rng.random_range(0.22..0.3)),
        BuildingUse::Hospital => 0.3,
        BuildingUse::School => 0.18,
        _ => 0.15,
    };
    let mut b = Building {
        id,
        footprint: p.poly.clone(),
        floors: p.floors,
        floor_height_m,
        use_: p.use_,
        heated_area_m2: None,
        envelope: Envelope::EnergyClass(class),
        hot_water_share,
        absorption_cooling_peak_w: 0.0,
        node: None,
        bus: None,
        return_temp_c: None,
        provenance: None,
        construction: None,
    };
    let area = b.heated_area();
    b.absorption_cooling_peak_w = match p.use_ {
        BuildingUse::Hospital => round_up(25.0 * area, 1000.0),
        BuildingUse::Office if area > 1500.0 && rng.random::<f64>() < 0.5 => {
            round_up(18.0 * area, 1000.0)
        }
        _ => 0.0,
    };
    b
}

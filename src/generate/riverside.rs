//! Riverside, the shipped demo district (`scenes/riverside.ron`): two hand-laid street patches
//! on the banks of a curving river, joined by two bridges.

use super::assemble::{Header, assemble};
use super::blocks::{Proto, Style, Zone, fill_block};
use super::geometry::{P, mean, rp};
use super::streets::{Patch, Plan, StreetEdge, take_site_building};
use crate::math::Det;
use crate::scene::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Centreline of Riverside's river (flowing west to east), y at x, m.
fn riverside_river_y(x: f64) -> f64 {
    0.12 * x + 38.0 * (x / 230.0 + 0.5).sin_d() + 14.0 * (x / 95.0 + 1.3).sin_d()
}

/// Width of Riverside's river, m.
const RIVERSIDE_RIVER_W: f64 = 50.0;

/// A park strip along the river between `x0` and `x1`: from `off_a` to `off_b` metres off the
/// river's centreline (negative: south), with the bank street `street` (a polyline) as the
/// landward limit.
fn river_strip(x0: f64, x1: f64, water_off: f64, street: &[P], street_gap: f64) -> Vec<P> {
    let n = ((x1 - x0) / 15.0).ceil().max(1.0) as usize;
    let street_y = |x: f64| {
        let k = street
            .windows(2)
            .position(|w| x >= w[0][0] && x <= w[1][0])
            .unwrap_or(0);
        let (a, b) = (street[k], street[(k + 1).min(street.len() - 1)]);
        let t = if b[0] != a[0] {
            (x - a[0]) / (b[0] - a[0])
        } else {
            0.0
        };
        a[1] + t * (b[1] - a[1])
    };
    let xs: Vec<f64> = (0..=n)
        .map(|k| x0 + (x1 - x0) * k as f64 / n as f64)
        .collect();
    let water: Vec<P> = xs
        .iter()
        .map(|&x| rp([x, riverside_river_y(x) + water_off]))
        .collect();
    let land: Vec<P> = xs
        .iter()
        .map(|&x| rp([x, street_y(x) + street_gap]))
        .collect();
    // Counter-clockwise: the southern edge west→east, then the northern edge east→west.
    let (south, north) = if water_off < 0.0 {
        (land, water)
    } else {
        (water, land)
    };
    let mut poly = south;
    poly.extend(north.into_iter().rev());
    poly
}

/// The shipped demo district: an old town and a newer quarter on the two banks of a river.
pub fn riverside() -> Scene {
    let seed = 7;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let ry = riverside_river_y;

    // North bank: the old town (irregular, narrow lanes) and a 19th-century quarter to the east.
    let xs_n = [
        -330.0, -262.0, -200.0, -135.0, -60.0, 10.0, 85.0, 180.0, 270.0, 360.0,
    ];
    let (ni, nj) = (xs_n.len(), 4);
    let bridges_n = [4usize, 8];
    let mut pos = Vec::with_capacity(ni * nj);
    let old_rows = [0.0, 68.0, 134.0, 206.0];
    let new_rows = [0.0, 96.0, 192.0, 288.0];
    for j in 0..nj {
        for (i, &x0) in xs_n.iter().enumerate() {
            let old = x0 <= 85.0;
            let (jx, jy) = if old { (9.0, 8.0) } else { (2.0, 2.0) };
            let mut x = x0;
            if !bridges_n.contains(&i) && i > 0 && i + 1 < ni {
                x += rng.random_range(-jx..jx);
            }
            let y = if j == 0 {
                ry(x) + 60.0
            } else {
                let rows = if old { old_rows } else { new_rows };
                ry(x) * (1.0 - 0.15 * j as f64) + 60.0 + rows[j] + rng.random_range(-jy..jy)
            };
            pos.push([x, y]);
        }
    }
    let col_w: Vec<f64> = (0..ni)
        .map(|i| match i {
            4 => 18.0,
            8 => 14.0,
            _ if xs_n[i] <= 85.0 => 9.0,
            _ => 12.0,
        })
        .collect();
    let mut north = Patch::new(ni, nj, pos, col_w, vec![14.0, 10.0, 12.0, 10.0], 1);
    let north_style = |i: usize, j: usize, rng: &mut ChaCha8Rng| -> Option<Style> {
        match (i, j) {
            (0, 2) | (5, 2) => None,
            (3, 1) => Some(Style::Park), // the market square
            (0..=5, _) => Some(Style::Perimeter {
                zone: Zone::Old,
                front: (10.0, 17.0),
                depth: rng.random_range(10.5..13.0),
                floors: (3, 6),
            }),
            (8, 0) => Some(Style::Offices { floors: (5, 8) }),
            (6..=8, 0..=1) => Some(Style::Perimeter {
                zone: Zone::Inner,
                front: (18.0, 30.0),
                depth: 13.0,
                floors: (4, 5),
            }),
            _ => None,
        }
    };

    // South bank: a riverside park, then a newer quarter on a regular grid.
    let xs_s = [-170.0, -60.0, 50.0, 160.0, 270.0, 380.0];
    let (si, sj) = (xs_s.len(), 4);
    let emb = |x: f64| ry(x) - 110.0;
    let base = xs_s
        .iter()
        .map(|&x| emb(x) - 0.12 * x)
        .fold(f64::INFINITY, f64::min);
    let mut spos = vec![[0.0; 2]; si * sj];
    for (i, &x) in xs_s.iter().enumerate() {
        let straight = 0.12 * x + base - 80.0;
        spos[i + 3 * si] = [x, emb(x)];
        spos[i + 2 * si] = [x, 0.5 * (emb(x) - 80.0) + 0.5 * straight];
        spos[i + si] = [x, straight - 85.0];
        spos[i] = [x, straight - 170.0];
    }
    let mut south = Patch::new(
        si,
        sj,
        spos,
        vec![10.0, 18.0, 10.0, 10.0, 14.0, 10.0],
        vec![10.0, 10.0, 12.0, 12.0],
        2,
    );
    let south_style = |i: usize, j: usize| -> Option<Style> {
        match (i, j) {
            (4, 2) => Some(Style::Industrial), // the utility's yard: main station
            (1, 2) => Some(Style::Offices { floors: (5, 8) }),
            (_, 2) => Some(Style::Slabs {
                zone: Zone::Modern,
                floors: (4, 6),
            }),
            (0, 1) => Some(Style::School),
            (2, 1) => Some(Style::Park),
            (3, 1) => Some(Style::Hospital),
            (_, 1) => Some(Style::Slabs {
                zone: Zone::Modern,
                floors: (3, 5),
            }),
            (0..=3, 0) => Some(Style::Houses { floors: (1, 2) }),
            _ => None,
        }
    };

    let mut blocks: Vec<(u8, usize, usize, Vec<Proto>)> = Vec::new();
    for j in 0..nj - 1 {
        for i in 0..ni - 1 {
            if let Some(style) = north_style(i, j, &mut rng) {
                let (protos, park) =
                    fill_block(&north.quad(i, j), north.widths(i, j), style, &mut rng);
                if let Some(p) = park {
                    north.map_park(p);
                }
                let b = north.b(i, j);
                north.used[b] = true;
                north.old[b] = matches!(
                    style,
                    Style::Perimeter {
                        zone: Zone::Old,
                        ..
                    }
                );
                blocks.push((1, i, j, protos));
            }
        }
    }
    for j in 0..sj - 1 {
        for i in 0..si - 1 {
            if let Some(style) = south_style(i, j) {
                let (protos, park) =
                    fill_block(&south.quad(i, j), south.widths(i, j), style, &mut rng);
                if let Some(p) = park {
                    south.map_park(p);
                }
                let b = south.b(i, j);
                south.used[b] = true;
                blocks.push((2, i, j, protos));
            }
        }
    }

    // Three micro quantum sites: an old warehouse on the north quay, the university quarter to
    // the north-east, and the new quarter next to the hospital.
    let mut plan = Plan::default();
    for (zone, i, j) in [(1u8, 1usize, 0usize), (1, 7, 1), (2, 1, 1)] {
        let patch = if zone == 1 { &north } else { &south };
        let c = mean(&patch.quad(i, j));
        if let Some(k) = blocks.iter().position(|b| (b.0, b.1, b.2) == (zone, i, j))
            && let Some(fp) = take_site_building(&mut blocks[k].3, c)
        {
            plan.sites.push((fp, zone));
        }
    }
    // Water first, then parks, then streets, so a view can draw them in order.
    let river: Vec<P> = (-30..=30)
        .map(|k| rp([k as f64 * 30.0, ry(k as f64 * 30.0)]))
        .collect();
    plan.map.push(MapFeature::River {
        points: river,
        width_m: RIVERSIDE_RIVER_W,
    });
    let quay_n: Vec<P> = (0..ni).map(|i| north.pos[north.v(i, 0)]).collect();
    let quay_s: Vec<P> = (0..si).map(|i| south.pos[south.v(i, 3)]).collect();
    let water = 0.5 * RIVERSIDE_RIVER_W + 4.0;
    for (a, b) in [(-330.0, -71.0), (-49.0, 262.0), (278.0, 360.0)] {
        plan.map.push(MapFeature::Park {
            polygon: river_strip(a, b, water, &quay_n, -9.0),
        });
    }
    for (a, b) in [(-170.0, -71.0), (-49.0, 262.0), (278.0, 380.0)] {
        plan.map.push(MapFeature::Park {
            polygon: river_strip(a, b, -water, &quay_s, 8.0),
        });
    }
    plan.map.append(&mut north.parks);
    plan.map.append(&mut south.parks);
    let gn = plan.add_patch(&north);
    let gs = plan.add_patch(&south);
    // Bridges: the main street and the eastern bridge; the network crosses at both.
    let mut force_loops = Vec::new();
    for (i_n, i_s, w) in [(4usize, 1usize, 18.0), (8, 4, 14.0)] {
        if let (Some(a), Some(b)) = (gn[north.v(i_n, 0)], gs[south.v(i_s, 3)]) {
            force_loops.push((a, b));
            plan.edges.push(StreetEdge { a, b, width: w });
            plan.map.push(MapFeature::Street {
                points: vec![rp(plan.verts[a]), rp(plan.verts[b])],
                width_m: w,
            });
        }
    }
    for b in &blocks {
        for p in &b.3 {
            plan.buildings.push((p.clone(), b.0));
        }
    }
    let n_buildings = plan.buildings.len();
    let main_vertex = gs[south.v(5, 3)].unwrap_or(0);
    let mut scene = assemble(
        plan,
        Header {
            name: "Riverside".into(),
            description: format!(
                "Riverside is a district of {n_buildings} buildings on both banks of a curving river. \
                 North of it lies the old town: narrow lanes, tall and irregular perimeter blocks around \
                 a market square, poorly insulated; to its east a 19th-century quarter. Two bridges, one \
                 carrying the main street, lead across the river and its park to a newer quarter on a \
                 regular grid with apartment slabs, offices, a school, a hospital and houses at its \
                 southern edge. A meshed district-heating network is fed by a gas-boiler plant with a \
                 storage tank in the municipal utility yard at the eastern end and by heat pumps on the waste \
                 heat of three micro quantum data centres."
            ),
            seed,
            main_vertex,
            wind_pos: vec![[-950.0, -720.0], [-1280.0, -600.0]],
            n_loops: (3 + n_buildings / 250).clamp(4, 40),
            force_loops,
        },
        &mut rng,
    );
    scene.data_links = Some(riverside_links(&scene));
    scene
}

/// Riverside's data links, a city half-way through its migration: the utility's grid balancing
/// went hybrid first, with QKD over a dark fibre to the quay site, but its link to the
/// new-quarter site is still classical; traffic control is hybrid only to the new quarter;
/// environmental sensing (open data) stays classical.
fn riverside_links(scene: &Scene) -> DataLinks {
    let ids: Vec<&str> = scene.quantum_sites.iter().map(|q| q.id.as_str()).collect();
    let mut d = DataLinks::default();
    for (k, id) in ids.iter().enumerate() {
        let last = k + 1 == ids.len();
        let grid = match k {
            0 => LinkScheme::Qkd,
            _ if last => LinkScheme::Classical,
            _ => LinkScheme::Hybrid,
        };
        d.set_scheme("grid_balancing", id, grid);
        if last {
            d.set_scheme("traffic", id, LinkScheme::Hybrid);
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::super::tests::independent_loops;
    use super::*;
    use crate::generate::polyline_distance;

    /// `scenes/riverside.ron` is exactly what [`riverside`] writes (regenerate the file when the
    /// generator's output changes on purpose).
    #[test]
    fn shipped_riverside_file_is_the_generator_output() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/riverside.ron");
        let file = std::fs::read_to_string(path).expect("scenes/riverside.ron");
        assert!(
            to_ron(&riverside()) == file,
            "scenes/riverside.ron differs from the generator's riverside()"
        );
    }

    #[test]
    fn riverside_is_a_meshed_district_on_land() {
        let s = riverside();
        validate(&s).expect("riverside validates");
        assert_eq!(s.name, "Riverside");
        assert!(
            (200..=320).contains(&s.buildings.len()),
            "{} buildings",
            s.buildings.len()
        );
        assert!(s.quantum_sites.len() >= 3);
        assert!(independent_loops(&s) >= 3);
        let nodes: std::collections::HashSet<&str> =
            s.heat_network.nodes.iter().map(|n| n.id.as_str()).collect();
        let (river, width) = s
            .map
            .iter()
            .find_map(|f| match f {
                MapFeature::River { points, width_m } => Some((points.clone(), *width_m)),
                _ => None,
            })
            .expect("a river");
        for b in &s.buildings {
            let node = b.node.as_deref().expect("connected");
            assert!(nodes.contains(node), "{}: node {node}", b.id);
            for p in &b.footprint {
                assert!(
                    polyline_distance(*p, &river) > width,
                    "{} stands in the river",
                    b.id
                );
            }
        }
        for q in &s.quantum_sites {
            for p in &q.footprint {
                assert!(
                    polyline_distance(*p, &river) > width,
                    "{} stands in the river",
                    q.id
                );
            }
        }
        let grid = s.grid.as_ref().expect("grid");
        assert!(!grid.pv.is_empty() && !grid.wind.is_empty() && !grid.batteries.is_empty());
    }
}

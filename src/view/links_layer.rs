//! The map's data-links layer (issue 17): every link from a city service to a quantum site drawn
//! as an arc, coloured by the key exchange it uses now — quantum-safe (hybrid X25519 + ML-KEM-768,
//! pure ML-KEM-768, QKD), QKD on its fallback, classical with data at risk by Mosca's inequality,
//! classical without, or a key exchange that fails (its jobs are dropped: dashed and blinking).
//!
//! Services have no place in the scene: the links' fibre lengths are measured from the centre of
//! the job origins ([`crate::links::DataLinkState::from_scene`]), so the three services' hubs are
//! drawn around that centre, [`HUB_SPREAD_M`] apart, each with its own marker shape.
//! Everything here reads [`DataLinkState`]; nothing is written back.

use bevy::prelude::*;

use super::world3d::{Layer, MapSettings, to3};
use crate::links::DataLinkState;
use crate::quantum::Sites;
use crate::quantum::jobs::Service;
use crate::quantum::schedule::QuantumScheduler;
use crate::scene::LinkScheme;

/// Distance of each service's hub from the centre of the job origins, m (drawing only).
pub const HUB_SPREAD_M: f64 = 45.0;

/// What a link looks like on the map: one category per colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkLook {
    /// X25519 + ML-KEM-768.
    Hybrid,
    /// ML-KEM-768 alone.
    PureMlKem,
    /// Quantum key distribution over dark fibre.
    Qkd,
    /// Configured for QKD but on its fallback (fibre cut, or too long for the key rate).
    QkdOnFallback,
    /// Classical key exchange for a service whose data must stay secret longer than the quantum
    /// horizon allows (`x + y > z`): recorded today, readable later.
    ClassicalExposed,
    /// Classical key exchange for data whose secrecy lifetime ends before that.
    Classical,
    /// The key exchange fails (a fault): no session, the link carries no jobs.
    Failing,
}

impl LinkLook {
    pub const ALL: [LinkLook; 7] = [
        LinkLook::Hybrid,
        LinkLook::PureMlKem,
        LinkLook::Qkd,
        LinkLook::QkdOnFallback,
        LinkLook::ClassicalExposed,
        LinkLook::Classical,
        LinkLook::Failing,
    ];
    /// Legend text.
    pub fn name(self) -> &'static str {
        match self {
            LinkLook::Hybrid => "hybrid X25519 + ML-KEM-768",
            LinkLook::PureMlKem => "ML-KEM-768",
            LinkLook::Qkd => "QKD on dark fibre",
            LinkLook::QkdOnFallback => "QKD on its fallback",
            LinkLook::ClassicalExposed => "classical, data at risk",
            LinkLook::Classical => "classical, data short-lived",
            LinkLook::Failing => "key exchange failing",
        }
    }
    /// sRGB colour, 0–255.
    pub fn rgb(self) -> [u8; 3] {
        match self {
            LinkLook::Hybrid => [60, 200, 110],
            LinkLook::PureMlKem => [40, 170, 230],
            LinkLook::Qkd => [185, 110, 255],
            LinkLook::QkdOnFallback => [230, 200, 255],
            LinkLook::ClassicalExposed => [235, 60, 45],
            LinkLook::Classical => [240, 175, 50],
            LinkLook::Failing => [255, 20, 20],
        }
    }
    pub fn color(self) -> Color {
        let [r, g, b] = self.rgb();
        Color::srgb_u8(r, g, b)
    }
    pub fn quantum_safe(self) -> bool {
        matches!(self, LinkLook::Hybrid | LinkLook::PureMlKem | LinkLook::Qkd)
    }
}

/// How link `k` looks now. A QKD link on its fallback counts as [`LinkLook::QkdOnFallback`]
/// whatever the fallback, a failing key exchange wins over everything.
pub fn link_look(st: &DataLinkState, k: usize) -> LinkLook {
    let l = &st.links[k];
    if l.kex_failing(&st.cfg) {
        return LinkLook::Failing;
    }
    let scheme = l.effective_scheme(&st.cfg);
    if l.scheme == LinkScheme::Qkd && scheme != LinkScheme::Qkd {
        return LinkLook::QkdOnFallback;
    }
    match scheme {
        LinkScheme::Hybrid => LinkLook::Hybrid,
        LinkScheme::PureMlKem => LinkLook::PureMlKem,
        LinkScheme::Qkd => LinkLook::Qkd,
        LinkScheme::Classical if st.exposed(l.service, scheme) => LinkLook::ClassicalExposed,
        LinkScheme::Classical => LinkLook::Classical,
    }
}

/// How many links look each way, in [`LinkLook::ALL`]'s order.
pub fn look_counts(st: &DataLinkState) -> [usize; 7] {
    let mut n = [0; 7];
    for k in 0..st.links.len() {
        let look = link_look(st, k);
        n[LinkLook::ALL.iter().position(|&x| x == look).unwrap_or(0)] += 1;
    }
    n
}

/// Where each service's hub is drawn: [`HUB_SPREAD_M`] from `centre`, 120° apart, in
/// [`Service::ALL`]'s order.
pub fn service_hubs(centre: [f64; 2]) -> [[f64; 2]; 3] {
    std::array::from_fn(|i| {
        let a = std::f64::consts::FRAC_PI_2 + i as f64 * std::f64::consts::TAU / 3.0;
        [
            centre[0] + HUB_SPREAD_M * a.cos(),
            centre[1] + HUB_SPREAD_M * a.sin(),
        ]
    })
}

/// Centre of the job origins (where the links' fibre lengths are measured from).
pub fn origins_centre(sched: &QuantumScheduler) -> [f64; 2] {
    let o = &sched.ctx.origins;
    if o.is_empty() {
        return [0.0, 0.0];
    }
    let s = o
        .iter()
        .fold([0.0, 0.0], |a, (_, p)| [a[0] + p[0], a[1] + p[1]]);
    [s[0] / o.len() as f64, s[1] / o.len() as f64]
}

/// An arc from `a` to `b` (view space), `n` segments, raised in the middle by a tenth of its
/// length plus 20 m, so links from one hub to many sites fan out over the roofs.
pub fn arc(a: Vec3, b: Vec3, n: usize) -> Vec<Vec3> {
    let lift = 0.1 * (b - a).length() + 20.0;
    (0..=n)
        .map(|i| {
            let t = i as f32 / n as f32;
            a.lerp(b, t) + Vec3::Y * (4.0 * lift * t * (1.0 - t))
        })
        .collect()
}

/// The links layer's gizmos (drawn thicker than the feeders').
#[derive(Default, Reflect, GizmoConfigGroup)]
pub struct LinkGizmos;

/// Registers the layer.
pub fn add_links_layer(app: &mut App) {
    app.init_gizmo_group::<LinkGizmos>()
        .add_systems(Startup, |mut store: ResMut<GizmoConfigStore>| {
            store.config_mut::<LinkGizmos>().0.line.width = 3.5;
        })
        .add_systems(Update, draw_links);
}

/// Height of the hubs and of the arcs' ends over the sites, m.
const HUB_H: f32 = 30.0;
const SITE_H: f32 = 26.0;

/// Draws the links when the layer is shown.
pub fn draw_links(
    mut gizmos: Gizmos<LinkGizmos>,
    time: Res<Time<Real>>,
    settings: Res<MapSettings>,
    links: Option<Res<DataLinkState>>,
    sites: Option<Res<Sites>>,
    sched: Option<Res<QuantumScheduler>>,
) {
    if settings.layer != Layer::DataLinks {
        return;
    }
    let (Some(st), Some(sites), Some(sched)) = (links, sites, sched) else {
        return;
    };
    let hubs = service_hubs(origins_centre(&sched));
    let blink = (time.elapsed_secs() * 3.0).sin() > 0.0;
    for (k, l) in st.links.iter().enumerate() {
        let (Some(&site), Some(&hub)) = (sites.pos.get(l.site), hubs.get(l.service as usize))
        else {
            continue;
        };
        let look = link_look(&st, k);
        let pts = arc(to3(hub, HUB_H), to3(site, SITE_H), 24);
        let c = look.color();
        match look {
            LinkLook::Failing => {
                // Dashed, blinking: every other segment, half the time.
                if blink {
                    for (i, w) in pts.windows(2).enumerate() {
                        if i % 2 == 0 {
                            gizmos.line(w[0], w[1], c);
                        }
                    }
                }
            }
            _ => gizmos.linestrip(pts.iter().copied(), c),
        }
        if look == LinkLook::QkdOnFallback {
            // The cut fibre: a cross at the arc's top.
            let m = pts[pts.len() / 2];
            let d = 6.0;
            gizmos.line(m + Vec3::new(-d, -d, 0.0), m + Vec3::new(d, d, 0.0), c);
            gizmos.line(m + Vec3::new(-d, d, 0.0), m + Vec3::new(d, -d, 0.0), c);
        }
    }
    // The hubs: a circle for traffic, a square for grid balancing, a triangle for sensing.
    let white = Color::srgb(0.95, 0.95, 0.98);
    for (s, hub) in Service::ALL.iter().zip(hubs) {
        let p = to3(hub, HUB_H);
        let r = 9.0;
        let iso = Isometry3d::new(p, Quat::from_rotation_x(-std::f32::consts::FRAC_PI_2));
        match s {
            Service::Traffic => {
                gizmos.circle(iso, r, white);
            }
            Service::GridBalancing => {
                gizmos.rect(iso, Vec2::splat(2.0 * r), white);
            }
            Service::Sensing => {
                let v: Vec<Vec3> = (0..=3)
                    .map(|i| {
                        let a = i as f32 * std::f32::consts::TAU / 3.0;
                        p + Vec3::new(r * a.sin(), 0.0, -r * a.cos())
                    })
                    .collect();
                gizmos.linestrip(v, white);
            }
        }
        gizmos.line(p, p - Vec3::Y * HUB_H, white);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Riverside's half-done migration as the layer draws it: 9 links (3 services × 3 sites);
    /// grid balancing (25-year secrets) QKD to q1, hybrid to q2, classical — at risk — to q3;
    /// traffic hybrid to q3; the other five classical with short-lived data. A cut QKD fibre and a
    /// failing key exchange change the look of exactly their links.
    #[test]
    fn riverside_links_look_as_configured_and_follow_faults() {
        use crate::scene::load_scene;
        use crate::sim::{RunOptions, Simulation};
        let scene = load_scene(std::path::Path::new("scenes/riverside.ron")).unwrap();
        let mut sim = Simulation::new(&scene, &RunOptions::default()).unwrap();
        sim.run_ticks(5);
        let st = sim.res::<DataLinkState>();
        assert_eq!(st.links.len(), 9);
        assert_eq!(look_counts(st), [2, 0, 1, 0, 1, 5, 0]);
        let q3 = scene
            .quantum_sites
            .iter()
            .position(|q| q.id == "q3")
            .unwrap();
        let q1 = scene
            .quantum_sites
            .iter()
            .position(|q| q.id == "q1")
            .unwrap();
        let grid_q3 = st.index(Service::GridBalancing, q3);
        assert_eq!(link_look(st, grid_q3), LinkLook::ClassicalExposed);
        assert_eq!(
            link_look(st, st.index(Service::Traffic, q3)),
            LinkLook::Hybrid
        );
        assert_eq!(
            link_look(st, st.index(Service::GridBalancing, q1)),
            LinkLook::Qkd
        );
        // The fibre to q1 is cut: its QKD link falls back (to hybrid), the others do not change.
        sim.res_mut::<DataLinkState>().set_qkd_fibre_cut(q1, true);
        let st = sim.res::<DataLinkState>();
        assert_eq!(
            link_look(st, st.index(Service::GridBalancing, q1)),
            LinkLook::QkdOnFallback
        );
        assert_eq!(look_counts(st), [2, 0, 0, 1, 1, 5, 0]);
        // Traffic's hybrid key exchange to q3 breaks: that link fails until its scheme changes.
        let k = st.index(Service::Traffic, q3);
        sim.res_mut::<DataLinkState>()
            .set_kex_fault(k, Some(LinkScheme::Hybrid));
        assert_eq!(link_look(sim.res::<DataLinkState>(), k), LinkLook::Failing);
        sim.res_mut::<DataLinkState>()
            .set_scheme(k, LinkScheme::PureMlKem);
        let st = sim.res::<DataLinkState>();
        assert_eq!(link_look(st, k), LinkLook::PureMlKem);
        assert_eq!(look_counts(st), [1, 1, 0, 1, 1, 5, 0]);
        // Colours are distinct, so the legend reads.
        for (i, a) in LinkLook::ALL.iter().enumerate() {
            for b in &LinkLook::ALL[i + 1..] {
                assert_ne!(a.rgb(), b.rgb());
            }
        }
    }

    #[test]
    fn hubs_sit_around_the_centre() {
        let h = service_hubs([100.0, -50.0]);
        for p in h {
            let d = ((p[0] - 100.0).powi(2) + (p[1] + 50.0).powi(2)).sqrt();
            assert!((d - HUB_SPREAD_M).abs() < 1e-9);
        }
        // Traffic's hub north of the centre.
        assert!((h[0][0] - 100.0).abs() < 1e-9 && (h[0][1] - (-50.0 + HUB_SPREAD_M)).abs() < 1e-9);
    }

    #[test]
    fn arcs_join_their_ends_and_rise_in_the_middle() {
        let (a, b) = (Vec3::new(0.0, 30.0, 0.0), Vec3::new(400.0, 26.0, 0.0));
        let p = arc(a, b, 24);
        assert_eq!(p.len(), 25);
        assert!((p[0] - a).length() < 1e-4 && (p[24] - b).length() < 1e-4);
        // Lift at the middle: a tenth of 400 m plus 20 m above the chord.
        assert!((p[12].y - (28.0 + 60.0)).abs() < 1e-2, "{}", p[12].y);
    }
}

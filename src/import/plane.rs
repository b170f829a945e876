//! The one place where layout and export meet the georeference: lon/lat (WGS84, degrees) ↔ the
//! scene's plane (m), for `--plant`/`--site` and for GIS export.
//!
//! The projection itself is [`super::geo::LocalTm`] (a transverse Mercator with scale 1 at the
//! origin). geo: merged by the integrator — until `geo.rs` is merged into this branch, the two
//! functions below use a stand-in (a local equirectangular projection on a sphere of the WGS84
//! mean radius: exact inverses of each other, true to about 1e-4 over a district); the
//! integrator replaces each body by the `LocalTm` line in its comment.

use crate::math::Det;
use crate::scene::GeoRef;

/// Mean Earth radius (IUGG), m: the stand-in's sphere.
const R_M: f64 = 6_371_008.8;

/// lon/lat (degrees) → scene metres.
pub(crate) fn to_local(g: &GeoRef, lon_deg: f64, lat_deg: f64) -> [f64; 2] {
    // geo: merged by the integrator —
    // super::geo::LocalTm::from_georef(g).to_local(lon_deg, lat_deg)
    let k = std::f64::consts::PI / 180.0;
    let c = (g.origin_lat_deg * k).cos_d();
    [
        R_M * c * (lon_deg - g.origin_lon_deg) * k,
        R_M * (lat_deg - g.origin_lat_deg) * k,
    ]
}

/// Scene metres → lon/lat (degrees).
pub(crate) fn to_lonlat(g: &GeoRef, p: [f64; 2]) -> [f64; 2] {
    // geo: merged by the integrator —
    // super::geo::LocalTm::from_georef(g).to_lonlat(p)
    let k = std::f64::consts::PI / 180.0;
    let c = (g.origin_lat_deg * k).cos_d();
    [
        g.origin_lon_deg + p[0] / (R_M * c) / k,
        g.origin_lat_deg + p[1] / R_M / k,
    ]
}

//! Reprojection of national and projected coordinate reference systems to WGS84 longitude/latitude.
//!
//! Input in a national grid (the Dutch RD New of the 3D BAG, ETRS89 / UTM of German cadastres, Swiss
//! LV95, British National Grid, web mercator) is reprojected with [`proj4rs`], a pure-Rust port of
//! PROJ.4 (no C library, so the browser build keeps working). A CRS is named as
//! - an EPSG code: `EPSG:28992`, `epsg:28992`, `28992`, `urn:ogc:def:crs:EPSG::28992`,
//!   `urn:ogc:def:crs:EPSG:6.18:3:28992`, `http(s)://www.opengis.net/def/crs/EPSG/0/28992`
//!   (CityJSON's `referenceSystem`), a compound `urn:ogc:def:crs,crs:EPSG::28992,crs:EPSG::5709`
//!   (the first, horizontal part counts);
//! - WGS84 longitude/latitude: `CRS84`, `OGC:CRS84`, `urn:ogc:def:crs:OGC:1.3:CRS84`, `EPSG:4326`;
//! - or a PROJ string, `+proj=… ` (any CRS proj4rs knows), for codes not in the table below.
//!
//! **Which EPSG codes.** A small documented table ([`proj_string_for_epsg`]) rather than the
//! `crs-definitions` crate: that crate carries all ~6,200 EPSG definitions (690 kB of strings), a
//! tenth of the browser build's remaining size budget, for codes a district planner never meets.
//! The strings are the EPSG registry's definitions as PROJ.4 strings (the same as epsg.io and
//! `crs-definitions` give them). Supported:
//! - geographic: 4326 WGS 84, 4258 ETRS89 (taken as WGS84: they differ by < 1 m in Europe), CRS84;
//! - 3857 (also 900913, 3785) web mercator;
//! - 28992 Amersfoort / RD New (with its 7-parameter `towgs84`, EPSG transformation 15739: stated
//!   accuracy 1 m), compound 7415 (RD New + NAP height) → 28992;
//! - 25828–25838 ETRS89 / UTM zones 28N–38N; 4647 and 5650 (UTM 32N/33N with the zone number
//!   prefixed to the easting, German state surveys); compound 5555/5556 (UTM 32N/33N + DHHN92);
//! - 32601–32660 and 32701–32760 WGS 84 / UTM north and south zones;
//! - 31466–31469 DHDN / 3-degree Gauss-Krüger zones 2–5 (datum Potsdam: the PROJ.4 `towgs84`,
//!   accurate to ~3 m; PROJ's BETA2007 grid is not available in pure Rust);
//! - 2056 CH1903+ / LV95 and 21781 CH1903 / LV03 (3-parameter shift, ~1–2 m);
//! - 27700 OSGB 1936 / British National Grid (7-parameter shift, ~2–5 m; OSTN15 is a grid);
//! - 2154 RGF93 / Lambert-93, 3035 ETRS89-extended / LAEA Europe, 31370 Belgian Lambert 72,
//!   3006 SWEREF99 TM, 2180 ETRS89 / Poland CS92.
//!
//! Geographic input is taken as longitude, latitude (x east, y north), as GeoJSON and CityJSON
//! write it, whatever the axis order of the EPSG definition.
//!
//! **Units and accuracy.** Projected input in metres; output `[lon, lat]` in degrees on WGS84.
//! Measured errors at control points are in the unit tests (RD New: 0.2 m at Amersfoort against
//! RDNAPTRANS; UTM: < 1 mm against an independent Krüger-series projection).
//!
//! **Determinism.** proj4rs uses `std`'s `sin`, `atan`, … (the platform's C library natively, a
//! Rust port of musl's libm on wasm32), so a reprojected coordinate may differ natively and in the
//! browser in its last bit (~1e-15 degrees, ~1e-10 m). The importer rounds scene coordinates to
//! millimetres after its own (libm) local projection, so the bytes differ only where a coordinate
//! falls within ~1e-10 m of a rounding boundary: about one coordinate in 10⁷.

use proj4rs::proj::Proj;

use super::ImportError;

/// A CRS known to proj4rs, ready to reproject its coordinates to WGS84 longitude/latitude.
#[derive(Clone)]
pub struct Reprojector {
    /// What the user named, for messages.
    name: String,
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    /// Already WGS84 (or ETRS89) longitude/latitude in degrees: nothing to do.
    Wgs84,
    /// A CRS proj4rs transforms to `wgs84`.
    Proj {
        src: Box<Proj>,
        dst: Box<Proj>,
        /// The source is geographic (its input is degrees, proj4rs wants radians).
        src_latlong: bool,
    },
}

impl std::fmt::Debug for Reprojector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reprojector({})", self.name)
    }
}

const WGS84_LONLAT: &str = "+proj=longlat +datum=WGS84 +no_defs";

impl Reprojector {
    /// The reprojection from the CRS `code` names (see the module documentation for the forms
    /// accepted) to WGS84 longitude/latitude.
    pub fn from_crs(code: &str) -> Result<Self, ImportError> {
        let name = code.trim().to_string();
        let proj_string = if name.starts_with('+') {
            name.clone()
        } else {
            match parse_crs_name(&name)? {
                CrsName::Wgs84 => {
                    return Ok(Reprojector {
                        name,
                        kind: Kind::Wgs84,
                    });
                }
                CrsName::Epsg(n) => match proj_string_for_epsg(n) {
                    Some(EpsgDef::Wgs84) => {
                        return Ok(Reprojector {
                            name,
                            kind: Kind::Wgs84,
                        });
                    }
                    Some(EpsgDef::Proj(s)) => s,
                    None => {
                        return Err(ImportError::Other(format!(
                            "CRS {name}: EPSG:{n} is not in qtwin's table of coordinate reference \
                             systems ({}); pass its PROJ string instead, e.g. --crs \"+proj=utm \
                             +zone=32 +ellps=GRS80 +units=m\" (epsg.io lists it under \"PROJ.4\")",
                            SUPPORTED_SUMMARY
                        )));
                    }
                },
            }
        };
        let src = Proj::from_proj_string(&proj_string).map_err(|e| {
            ImportError::Other(format!("CRS {name}: cannot use \"{proj_string}\": {e}"))
        })?;
        let dst = Proj::from_proj_string(WGS84_LONLAT)
            .map_err(|e| ImportError::Other(format!("WGS84 definition: {e}")))?;
        let src_latlong = src.is_latlong();
        Ok(Reprojector {
            name,
            kind: Kind::Proj {
                src: Box::new(src),
                dst: Box::new(dst),
                src_latlong,
            },
        })
    }

    /// The CRS as the user named it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether coordinates pass through unchanged (WGS84 or ETRS89 longitude/latitude).
    pub fn is_identity(&self) -> bool {
        matches!(self.kind, Kind::Wgs84)
    }

    /// `(x, y)` in the source CRS (metres east/north, or degrees lon/lat for a geographic one) to
    /// WGS84 `[lon, lat]`, degrees. Non-finite input or a point the projection cannot invert
    /// (far outside its area) is an error.
    pub fn to_wgs84(&self, x: f64, y: f64) -> Result<[f64; 2], ImportError> {
        if !x.is_finite() || !y.is_finite() {
            return Err(ImportError::Other(format!(
                "coordinate ({x}, {y}) is not a finite number"
            )));
        }
        // Far beyond any projected grid on Earth (the largest false eastings are ~3.3e7 m).
        if x.abs() > 1e9 || y.abs() > 1e9 {
            return Err(ImportError::Other(format!(
                "coordinate ({x}, {y}) is far outside any map projection of the Earth ({})",
                self.name
            )));
        }
        match &self.kind {
            Kind::Wgs84 if x.abs() <= 180.0 && y.abs() <= 90.0 => Ok([x, y]),
            Kind::Wgs84 => Err(ImportError::Other(format!(
                "coordinate ({x}, {y}) is not a longitude/latitude ({} names WGS84)",
                self.name
            ))),
            Kind::Proj {
                src,
                dst,
                src_latlong,
            } => {
                let mut p = if *src_latlong {
                    (x.to_radians(), y.to_radians(), 0.0)
                } else {
                    (x, y, 0.0)
                };
                proj4rs::transform::transform(src, dst, &mut p).map_err(|e| {
                    ImportError::Other(format!(
                        "coordinate ({x}, {y}) cannot be reprojected from {}: {e}",
                        self.name
                    ))
                })?;
                let lon = p.0.to_degrees();
                let lat = p.1.to_degrees();
                if !lon.is_finite() || !lat.is_finite() || lat.abs() > 90.0 || lon.abs() > 540.0 {
                    return Err(ImportError::Other(format!(
                        "coordinate ({x}, {y}) lies outside the area of {} (reprojects to \
                         {lon}, {lat})",
                        self.name
                    )));
                }
                let lon = if lon > 180.0 {
                    lon - 360.0
                } else if lon < -180.0 {
                    lon + 360.0
                } else {
                    lon
                };
                Ok([lon, lat])
            }
        }
    }
}

/// What a CRS name denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrsName {
    /// WGS84 longitude/latitude (`CRS84`).
    Wgs84,
    /// An EPSG code (horizontal part of a compound).
    Epsg(u32),
}

/// Reads a CRS name: an EPSG code in any of its usual spellings, or CRS84 (see the module
/// documentation). A PROJ string (`+proj=…`) is not a name: [`Reprojector::from_crs`] takes it.
pub fn parse_crs_name(name: &str) -> Result<CrsName, ImportError> {
    let s = name.trim();
    let upper = s.to_ascii_uppercase();
    if upper.ends_with("CRS84") || upper == "WGS84" || upper == "WGS 84" {
        return Ok(CrsName::Wgs84);
    }
    // Compound URNs: the first component is the horizontal CRS.
    let first = if upper.starts_with("URN:OGC:DEF:CRS,") {
        upper
            .split(',')
            .nth(1)
            .map(|c| c.trim_start_matches("CRS:").to_string())
            .unwrap_or_default()
    } else {
        upper.clone()
    };
    let bad = || {
        ImportError::Other(format!(
            "CRS \"{name}\" not understood: expected EPSG:n (e.g. EPSG:28992), an OGC URN or URL \
             naming an EPSG code, CRS84, or a PROJ string starting with +proj="
        ))
    };
    let digits: &str = if let Some(rest) = first.strip_prefix("EPSG:") {
        // EPSG:28992, or the URN tail EPSG::28992 / EPSG:6.18:3:28992.
        rest.rsplit(':').next().unwrap_or("")
    } else if first.starts_with("URN:OGC:DEF:CRS:EPSG:") || first.contains("/DEF/CRS/EPSG/") {
        first.rsplit([':', '/']).next().unwrap_or("")
    } else if first.starts_with("URN:OGC:DEF:CRS:OGC:") || first.contains("/DEF/CRS/OGC/") {
        return Err(bad());
    } else {
        first.as_str()
    };
    let digits = digits.trim();
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let code: u32 = digits.parse().map_err(|_| bad())?;
    Ok(CrsName::Epsg(code))
}

/// An EPSG definition from the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EpsgDef {
    /// WGS84 (or ETRS89) longitude/latitude: no reprojection.
    Wgs84,
    /// A PROJ string.
    Proj(String),
}

const SUPPORTED_SUMMARY: &str = "supported: 4326, 4258, 3857, 28992, 7415, 25828-25838, 4647, \
     5650, 5555, 5556, 32601-32660, 32701-32760, 31466-31469, 2056, 21781, 27700, 2154, 3035, \
     31370, 3006, 2180";

/// The PROJ string of an EPSG code in qtwin's table (see the module documentation), or `None`.
pub fn proj_string_for_epsg(code: u32) -> Option<EpsgDef> {
    let etrs_utm = |zone: u32| {
        format!("+proj=utm +zone={zone} +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs")
    };
    let rd_new = "+proj=sterea +lat_0=52.15616055555555 +lon_0=5.38763888888889 +k=0.9999079 \
                  +x_0=155000 +y_0=463000 +ellps=bessel \
                  +towgs84=565.2369,50.0087,465.658,-0.406857,0.350733,-1.87035,4.0812 \
                  +units=m +no_defs";
    let s = match code {
        4326 | 4258 | 4979 | 4937 => return Some(EpsgDef::Wgs84),
        3857 | 3785 | 900913 => "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 \
                                 +y_0=0 +k=1 +units=m +nadgrids=@null +no_defs"
            .to_string(),
        28992 | 7415 => rd_new.to_string(),
        25828..=25838 => etrs_utm(code - 25800),
        5555 => etrs_utm(32),
        5556 => etrs_utm(33),
        4647 => "+proj=tmerc +lat_0=0 +lon_0=9 +k=0.9996 +x_0=32500000 +y_0=0 +ellps=GRS80 \
                 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs"
            .to_string(),
        5650 => "+proj=tmerc +lat_0=0 +lon_0=15 +k=0.9996 +x_0=33500000 +y_0=0 +ellps=GRS80 \
                 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs"
            .to_string(),
        32601..=32660 => format!(
            "+proj=utm +zone={} +datum=WGS84 +units=m +no_defs",
            code - 32600
        ),
        32701..=32760 => format!(
            "+proj=utm +zone={} +south +datum=WGS84 +units=m +no_defs",
            code - 32700
        ),
        31466..=31469 => {
            let zone = code - 31464; // 31466 → zone 2 (lon_0 = 6°), … 31469 → zone 5 (15°)
            format!(
                "+proj=tmerc +lat_0=0 +lon_0={} +k=1 +x_0={}500000 +y_0=0 +datum=potsdam \
                 +units=m +no_defs",
                3 * zone,
                zone
            )
        }
        2056 => "+proj=somerc +lat_0=46.95240555555556 +lon_0=7.439583333333333 +k_0=1 \
                 +x_0=2600000 +y_0=1200000 +ellps=bessel +towgs84=674.374,15.056,405.346,0,0,0,0 \
                 +units=m +no_defs"
            .to_string(),
        21781 => "+proj=somerc +lat_0=46.95240555555556 +lon_0=7.439583333333333 +k_0=1 \
                  +x_0=600000 +y_0=200000 +ellps=bessel +towgs84=674.374,15.056,405.346,0,0,0,0 \
                  +units=m +no_defs"
            .to_string(),
        27700 => "+proj=tmerc +lat_0=49 +lon_0=-2 +k=0.9996012717 +x_0=400000 +y_0=-100000 \
                  +ellps=airy +towgs84=446.448,-125.157,542.06,0.15,0.247,0.842,-20.489 \
                  +units=m +no_defs"
            .to_string(),
        2154 => "+proj=lcc +lat_1=49 +lat_2=44 +lat_0=46.5 +lon_0=3 +x_0=700000 +y_0=6600000 \
                 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs"
            .to_string(),
        3035 => "+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 +ellps=GRS80 \
                 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs"
            .to_string(),
        31370 => "+proj=lcc +lat_1=51.16666723333333 +lat_2=49.8333339 +lat_0=90 \
                  +lon_0=4.367486666666666 +x_0=150000.013 +y_0=5400088.438 +ellps=intl \
                  +towgs84=-106.8686,52.2978,-103.7239,0.3366,-0.457,1.8422,-1.2747 +units=m \
                  +no_defs"
            .to_string(),
        3006 => {
            "+proj=utm +zone=33 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs".to_string()
        }
        2180 => "+proj=tmerc +lat_0=0 +lon_0=19 +k=0.9993 +x_0=500000 +y_0=-5300000 \
                 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs"
            .to_string(),
        _ => return None,
    };
    Some(EpsgDef::Proj(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::Det;

    /// Metres per degree of latitude and longitude near `lat_deg` (for stating errors in metres).
    fn err_m(a: [f64; 2], b: [f64; 2]) -> f64 {
        let lat = b[1].to_radians();
        let dy = (a[1] - b[1]) * 111_132.0;
        let dx = (a[0] - b[0]) * 111_320.0 * lat.cos_d();
        (dx * dx + dy * dy).sqrt()
    }

    #[test]
    fn names_are_parsed() {
        for s in [
            "EPSG:28992",
            "epsg:28992",
            "28992",
            "urn:ogc:def:crs:EPSG::28992",
            "urn:ogc:def:crs:EPSG:6.18:3:28992",
            "https://www.opengis.net/def/crs/EPSG/0/28992",
            "http://www.opengis.net/def/crs/EPSG/0/28992",
            "urn:ogc:def:crs,crs:EPSG::28992,crs:EPSG::5709",
        ] {
            assert_eq!(parse_crs_name(s).unwrap(), CrsName::Epsg(28992), "{s}");
        }
        for s in [
            "urn:ogc:def:crs:OGC:1.3:CRS84",
            "OGC:CRS84",
            "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        ] {
            assert_eq!(parse_crs_name(s).unwrap(), CrsName::Wgs84, "{s}");
        }
        for s in ["", "EPSG:", "EPSG:abc", "Amersfoort", "EPSG:99999999999"] {
            let e = parse_crs_name(s).unwrap_err().to_string();
            assert!(e.contains("not understood"), "{s}: {e}");
        }
        let e = Reprojector::from_crs("EPSG:9999").unwrap_err().to_string();
        assert!(e.contains("EPSG:9999 is not in qtwin's table"), "{e}");
        assert!(e.contains("+proj="), "{e}");
        let e = Reprojector::from_crs("+proj=nonsense")
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot use"), "{e}");
    }

    #[test]
    fn wgs84_and_etrs89_pass_through() {
        for c in ["EPSG:4326", "EPSG:4258", "CRS84"] {
            let r = Reprojector::from_crs(c).unwrap();
            assert!(r.is_identity());
            assert_eq!(r.to_wgs84(6.06, 50.78).unwrap(), [6.06, 50.78]);
        }
        let r = Reprojector::from_crs("EPSG:4326").unwrap();
        assert!(r.to_wgs84(f64::NAN, 1.0).is_err());
        assert!(r.to_wgs84(1e300, 1.0).is_err());
    }

    /// RD New's origin, Amersfoort (Onze Lieve Vrouwetoren): 155000, 463000 is 52.15517440 N,
    /// 5.38720621 E in ETRS89 (RDNAPTRANS; the origin of the Schreutelkamp & Strang van Hees
    /// approximation). proj4rs with EPSG's 7-parameter shift: measured error 0.12 m.
    #[test]
    fn rd_new_at_amersfoort() {
        for code in ["EPSG:28992", "https://www.opengis.net/def/crs/EPSG/0/7415"] {
            let r = Reprojector::from_crs(code).unwrap();
            let got = r.to_wgs84(155_000.0, 463_000.0).unwrap();
            let e = err_m(got, [5.38720621, 52.15517440]);
            eprintln!("RD New at Amersfoort via {code}: {e:.3} m");
            assert!(e < 0.5, "{code}: {got:?} is {e} m off");
        }
    }

    /// The Schreutelkamp & Strang van Hees approximation RD → WGS84 (published accuracy better
    /// than 0.25 m over the Netherlands), an independent reference away from the origin.
    fn rd_approx(x: f64, y: f64) -> [f64; 2] {
        let dx = (x - 155_000.0) * 1e-5;
        let dy = (y - 463_000.0) * 1e-5;
        // The published coefficients, seconds of arc: K_pq (latitude) and L_pq (longitude)
        // multiply dx^p dy^q.
        let kp: [(i32, i32, f64); 11] = [
            (0, 1, 3235.65389),
            (2, 0, -32.58297),
            (0, 2, -0.24750),
            (2, 1, -0.84978),
            (0, 3, -0.06550),
            (2, 2, -0.01709),
            (1, 0, -0.00738),
            (4, 0, 0.00530),
            (2, 3, -0.00039),
            (4, 1, 0.00033),
            (1, 1, -0.00012),
        ];
        let lp: [(i32, i32, f64); 12] = [
            (1, 0, 5260.52916),
            (1, 1, 105.94684),
            (1, 2, 2.45656),
            (3, 0, -0.81885),
            (1, 3, 0.05594),
            (3, 1, -0.05607),
            (0, 1, 0.01199),
            (3, 2, -0.00256),
            (1, 4, 0.00128),
            (0, 2, 0.00022),
            (2, 0, -0.00022),
            (5, 0, 0.00026),
        ];
        let lat = 52.15517440
            + kp.iter()
                .map(|&(p, q, c)| c * dx.powi(p) * dy.powi(q))
                .sum::<f64>()
                / 3600.0;
        let lon = 5.38720621
            + lp.iter()
                .map(|&(p, q, c)| c * dx.powi(p) * dy.powi(q))
                .sum::<f64>()
                / 3600.0;
        [lon, lat]
    }

    #[test]
    fn rd_new_across_the_netherlands() {
        let r = Reprojector::from_crs("EPSG:28992").unwrap();
        // Rotterdam, Groningen, Maastricht, Den Helder.
        for (x, y) in [
            (92_000.0, 437_000.0),
            (233_000.0, 582_000.0),
            (176_000.0, 318_000.0),
            (114_000.0, 551_000.0),
        ] {
            let got = r.to_wgs84(x, y).unwrap();
            let reference = rd_approx(x, y);
            let e = err_m(got, reference);
            eprintln!("RD New ({x}, {y}) vs the approximation: {e:.3} m");
            assert!(e < 1.0, "({x}, {y}): {got:?} vs {reference:?}: {e} m");
        }
    }

    /// Forward transverse Mercator by Krüger's series in n (Karney 2011, eq. 35–36, to n⁴:
    /// sub-millimetre within a UTM zone): an implementation independent of proj4rs.
    fn utm_forward(lon_deg: f64, lat_deg: f64, lon0_deg: f64) -> [f64; 2] {
        let a: f64 = 6_378_137.0;
        let f: f64 = 1.0 / 298.257_223_563; // GRS80's differs in the 9th digit: ~0.1 mm here
        let k0 = 0.9996;
        let n = f / (2.0 - f);
        let a_hat = a / (1.0 + n) * (1.0 + n * n / 4.0 + n.powi(4) / 64.0);
        let alpha = [
            n / 2.0 - 2.0 * n * n / 3.0 + 5.0 * n.powi(3) / 16.0 + 41.0 * n.powi(4) / 180.0,
            13.0 * n * n / 48.0 - 3.0 * n.powi(3) / 5.0 + 557.0 * n.powi(4) / 1440.0,
            61.0 * n.powi(3) / 240.0 - 103.0 * n.powi(4) / 140.0,
            49561.0 * n.powi(4) / 161280.0,
        ];
        let phi = lat_deg.to_radians();
        let lam = (lon_deg - lon0_deg).to_radians();
        let e = (f * (2.0 - f)).sqrt();
        let t = (phi.sin_d().atanh() - e * (e * phi.sin_d()).atanh()).sinh();
        let xi_p = t.atan2_d(lam.cos_d());
        let eta_p = (lam.sin_d() / (1.0 + t * t).sqrt()).atanh();
        let mut xi = xi_p;
        let mut eta = eta_p;
        for (j, al) in alpha.iter().enumerate() {
            let k = 2.0 * (j as f64 + 1.0);
            xi += al * (k * xi_p).sin_d() * (k * eta_p).cosh();
            eta += al * (k * xi_p).cos_d() * (k * eta_p).sinh();
        }
        [500_000.0 + k0 * a_hat * eta, k0 * a_hat * xi]
    }

    #[test]
    fn utm_against_kruger_series() {
        // The zone's origin: a published identity.
        let r32 = Reprojector::from_crs("EPSG:25832").unwrap();
        let o = r32.to_wgs84(500_000.0, 0.0).unwrap();
        assert!((o[0] - 9.0).abs() < 1e-12 && o[1].abs() < 1e-12, "{o:?}");
        // Aachen (Campus Melaten, at the west edge of zone 32), Cologne, Munich; Berlin in 33N.
        let cases = [
            ("EPSG:25832", 9.0, 6.0485, 50.7797),
            ("EPSG:32632", 9.0, 6.9583, 50.9413),
            ("EPSG:25832", 9.0, 11.5755, 48.1374),
            ("EPSG:25833", 15.0, 13.4050, 52.5200),
            ("EPSG:32633", 15.0, 13.4050, 52.5200),
        ];
        for (code, lon0, lon, lat) in cases {
            let [x, y] = utm_forward(lon, lat, lon0);
            let got = Reprojector::from_crs(code).unwrap().to_wgs84(x, y).unwrap();
            let e = err_m(got, [lon, lat]);
            eprintln!("{code} ({lon}, {lat}) vs Krüger series: {e:.2e} m");
            assert!(e < 0.001, "{code} ({lon}, {lat}): {got:?}, {e} m");
        }
        // 4647: the same grid with 32 prefixed to the easting.
        let [x, y] = utm_forward(6.0485, 50.7797, 9.0);
        let got = Reprojector::from_crs("EPSG:4647")
            .unwrap()
            .to_wgs84(x + 32_000_000.0, y)
            .unwrap();
        assert!(err_m(got, [6.0485, 50.7797]) < 0.001, "{got:?}");
    }

    /// Spherical web mercator: x = R λ, y = R ln tan(π/4 + φ/2), exactly.
    #[test]
    fn web_mercator_exact() {
        let r = Reprojector::from_crs("EPSG:3857").unwrap();
        let (lon, lat) = (6.0485_f64, 50.7797_f64);
        let rr = 6_378_137.0;
        let x = rr * lon.to_radians();
        let y = rr
            * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
                .tan()
                .ln();
        let got = r.to_wgs84(x, y).unwrap();
        assert!(
            (got[0] - lon).abs() < 1e-9 && (got[1] - lat).abs() < 1e-9,
            "{got:?}"
        );
    }

    /// Swiss LV95: swisstopo's approximate formulas (published accuracy ~1 m) at two points; the
    /// 3-parameter datum shift itself is good to ~1–2 m.
    #[test]
    fn swiss_lv95_against_swisstopo_formulas() {
        let r = Reprojector::from_crs("EPSG:2056").unwrap();
        for (e, n) in [(2_600_000.0, 1_200_000.0), (2_683_000.0, 1_248_000.0)] {
            let y = (e - 2_600_000.0) / 1e6;
            let x = (n - 1_200_000.0) / 1e6;
            let lam = 2.6779094 + 4.728982 * y + 0.791484 * y * x + 0.1306 * y * x * x
                - 0.0436 * y * y * y;
            let phi = 16.9023892 + 3.238272 * x
                - 0.270978 * y * y
                - 0.002528 * x * x
                - 0.0447 * y * y * x
                - 0.0140 * x * x * x;
            let reference = [lam * 100.0 / 36.0, phi * 100.0 / 36.0];
            let got = r.to_wgs84(e, n).unwrap();
            let err = err_m(got, reference);
            eprintln!("LV95 ({e}, {n}) vs swisstopo's formulas: {err:.3} m");
            assert!(err < 3.0, "({e}, {n}): {got:?} vs {reference:?}: {err} m");
        }
    }

    #[test]
    fn gauss_kruger_and_national_grids_land_where_they_should() {
        // DHDN / GK zone 3, zone 2 (Aachen) and BNG: plausible, in their country (the datum
        // shifts are accurate to metres; the exact values come from the projection's own tests).
        let gk3 = Reprojector::from_crs("EPSG:31467").unwrap();
        // On the central meridian; the Potsdam → WGS84 shift moves it ~75 m west.
        let p = gk3.to_wgs84(3_500_000.0, 5_600_000.0).unwrap();
        let shift_m = err_m(p, [9.0, p[1]]);
        assert!(p[0] < 9.0 && (50.0..150.0).contains(&shift_m), "{p:?}");
        assert!((p[1] - 50.5357).abs() < 0.001, "{p:?}");
        let bng = Reprojector::from_crs("EPSG:27700").unwrap();
        // The true origin 49° N 2° W is at 400000, -100000 in OSGB36; WGS84 differs by ~100 m.
        let p = bng.to_wgs84(400_000.0, -100_000.0).unwrap();
        assert!(err_m(p, [-2.0, 49.0]) < 150.0, "{p:?}");
        assert!(err_m(p, [-2.0, 49.0]) > 50.0, "{p:?}");
        let p = Reprojector::from_crs("EPSG:32733")
            .unwrap()
            .to_wgs84(500_000.0, 10_000_000.0)
            .unwrap();
        assert!((p[0] - 15.0).abs() < 1e-9 && p[1].abs() < 1e-9, "{p:?}");
    }

    /// An import may run on a worker thread (the view imports in the background).
    #[test]
    fn reprojector_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Reprojector>();
    }

    #[test]
    fn outside_the_projection_is_an_error() {
        let r = Reprojector::from_crs("EPSG:3857").unwrap();
        assert!(r.to_wgs84(1e12, 0.0).is_err());
        let r = Reprojector::from_crs("EPSG:28992").unwrap();
        assert!(r.to_wgs84(f64::INFINITY, 0.0).is_err());
        let e = Reprojector::from_crs("CRS84")
            .unwrap()
            .to_wgs84(294_000.0, 5_628_000.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a longitude/latitude"), "{e}");
    }
}

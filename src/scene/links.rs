//! The city's data links as a scene holds them (`data_links`): the key-exchange scheme of each
//! link between a city service and a quantum site, the services' data sensitivity, the threat
//! horizon. The model that uses them is the links domain's (`src/links`); this is only the format.

use serde::{Deserialize, Serialize};

/// How a link agrees the key that protects its data (the payload is AES-256-GCM in every case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LinkScheme {
    /// Elliptic-curve Diffie–Hellman on X25519 (RFC 7748), as TLS 1.3 does today. Broken by a
    /// cryptographically relevant quantum computer (Shor's algorithm).
    Classical,
    /// X25519 and ML-KEM-768 together (the TLS 1.3 group X25519MLKEM768,
    /// draft-ietf-tls-ecdhe-mlkem): safe while either part holds.
    Hybrid,
    /// ML-KEM-768 alone (FIPS 203).
    PureMlKem,
    /// Quantum key distribution over a dark fibre (keys delivered to both ends by the QKD
    /// system's key management, ETSI GS QKD 014); limited in distance.
    Qkd,
}

impl LinkScheme {
    pub const ALL: [LinkScheme; 4] = [
        LinkScheme::Classical,
        LinkScheme::Hybrid,
        LinkScheme::PureMlKem,
        LinkScheme::Qkd,
    ];
    /// Whether data sent with this scheme stays secret against a quantum computer.
    pub fn quantum_safe(self) -> bool {
        self != LinkScheme::Classical
    }
    pub fn name(self) -> &'static str {
        match self {
            LinkScheme::Classical => "Classical",
            LinkScheme::Hybrid => "Hybrid",
            LinkScheme::PureMlKem => "PureMlKem",
            LinkScheme::Qkd => "Qkd",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|x| x.name().eq_ignore_ascii_case(s.trim()))
    }
    /// Index in [`Self::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One link: a city service (`traffic`, `grid_balancing`, `sensing`) to a quantum site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataLink {
    pub service: String,
    pub site: String,
    pub scheme: LinkScheme,
    /// Length of its fibre, m (what limits QKD); absent: the route from the centre of the city's
    /// job origins to the site (`quantum_jobs.network.route_factor` × the straight distance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fibre_m: Option<f64>,
}

/// How long one service's data must stay secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSensitivity {
    pub service: String,
    /// Years its data must stay secret (Mosca's x).
    pub secrecy_years: f64,
}

/// QKD over dark fibre: key rate `R(L) = R_ref · 10^(−α (L − L_ref)/10)` up to `max_fibre_m`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QkdSpec {
    /// Secret key rate at `ref_fibre_m`, bit/s.
    pub ref_key_rate_bit_s: f64,
    pub ref_fibre_m: f64,
    /// Fibre attenuation, dB/km.
    pub loss_db_per_km: f64,
    /// Longest fibre a QKD link works over, m.
    pub max_fibre_m: f64,
    /// What a QKD link falls back to when it cannot deliver keys (too long, fibre cut): `Hybrid`
    /// (quantum-safe) or `Classical` (flagged: its data is then exposed).
    pub fallback: LinkScheme,
}

impl Default for QkdSpec {
    fn default() -> Self {
        Self {
            ref_key_rate_bit_s: 13.72e6,
            ref_fibre_m: 10e3,
            loss_db_per_km: 0.2,
            max_fibre_m: 100e3,
            fallback: LinkScheme::Hybrid,
        }
    }
}

/// The city's data links. See the links domain for the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataLinks {
    /// Years from now until a cryptographically relevant quantum computer (Mosca's z).
    pub crqc_horizon_years: f64,
    /// Years the city needs to migrate a link to quantum-safe key exchange (Mosca's y).
    pub migration_years: f64,
    /// A session's key is reused for this long before a new key exchange, s.
    pub session_lifetime_s: f64,
    /// Bandwidth of every link, bit/s.
    pub bandwidth_bit_s: f64,
    /// Scheme of the (service, site) pairs that `links` does not list.
    pub default_scheme: LinkScheme,
    /// Secrecy lifetimes; a service not listed uses its documented default.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sensitivity: Vec<ServiceSensitivity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<DataLink>,
    pub qkd: QkdSpec,
}

impl Default for DataLinks {
    fn default() -> Self {
        Self {
            crqc_horizon_years: 15.0,
            migration_years: 5.0,
            session_lifetime_s: 3600.0,
            bandwidth_bit_s: 1e9,
            default_scheme: LinkScheme::Classical,
            sensitivity: Vec::new(),
            links: Vec::new(),
            qkd: QkdSpec::default(),
        }
    }
}

/// The services a link may name (the quantum job sources).
pub const LINK_SERVICES: [&str; 3] = ["traffic", "grid_balancing", "sensing"];

/// Default secrecy lifetime of a service's data, years (assumptions, see the links domain).
pub fn default_secrecy_years(service: &str) -> f64 {
    match service {
        "traffic" => 5.0,
        "grid_balancing" => 25.0,
        _ => 2.0,
    }
}

impl DataLinks {
    /// The secrecy lifetime of `service`'s data, years.
    pub fn secrecy_years(&self, service: &str) -> f64 {
        self.sensitivity
            .iter()
            .find(|s| s.service == service)
            .map_or_else(|| default_secrecy_years(service), |s| s.secrecy_years)
    }
    /// The scheme of the link from `service` to `site`.
    pub fn scheme(&self, service: &str, site: &str) -> LinkScheme {
        self.link(service, site)
            .map_or(self.default_scheme, |l| l.scheme)
    }
    pub fn link(&self, service: &str, site: &str) -> Option<&DataLink> {
        self.links
            .iter()
            .find(|l| l.service == service && l.site == site)
    }
    /// Sets the scheme of the link from `service` to `site` (adding it to `links` if needed).
    pub fn set_scheme(&mut self, service: &str, site: &str, scheme: LinkScheme) {
        match self
            .links
            .iter_mut()
            .find(|l| l.service == service && l.site == site)
        {
            Some(l) => l.scheme = scheme,
            None => self.links.push(DataLink {
                service: service.to_string(),
                site: site.to_string(),
                scheme,
                fibre_m: None,
            }),
        }
    }
}

//! The scene format: what a city is made of, as a RON file with stable string ids.
//!
//! A scene is plain data (`serde`), read by [`load_scene_str`], checked by [`validate`] and turned
//! into an ECS world by the simulation's composition (`sim::spawn_scene`). Positions are metres on a local plane (x east,
//! y north). Every entity has a string id that is stable across edits and unique within its kind;
//! references between entities use those ids. The file carries a `format_version`
//! ([`SCENE_FORMAT_VERSION`]); a file of another version is refused with a clear message.
//!
//! Units are SI and the field names say them (`length_m`, `power_w`, `temp_c`, `kg_s`).
//!
//! # Layout of the heat network
//! The district-heating network is given once as nodes and pipes; each pipe stands for a supply pipe
//! and a return pipe laid side by side on the same route (the usual twin-pipe layout), with the same
//! length and diameter. The hydraulics of the return mirror the supply; the temperatures of the two
//! are computed separately, each losing heat to the ground.
//!
//! Heat enters at **stations**: nodes where plants stand (heat pumps on a quantum site's waste heat,
//! gas boilers, storage tanks, or an ideal fixed-temperature source for engineering test networks).
//! Heat leaves at **consumers**: buildings (demand from the building model) and, for test networks,
//! explicit consumers at a fixed mass flow or a fixed heat demand with a fixed return temperature,
//! or (the form of published benchmarks) a fixed mass flow or heat with a fixed temperature drop,
//! returning at the supply temperature minus it ([`ConsumerDemand`]).

pub mod edits;
pub mod failures;
pub mod links;
pub mod validate;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use failures::{FaultKind, FaultSpec, Repair};
pub use links::{DataLink, DataLinks, LinkScheme, QkdSpec, ServiceSensitivity};
pub use validate::{SceneError, ValidationIssue, validate};

/// The version of the scene format this build reads and writes.
pub const SCENE_FORMAT_VERSION: u32 = 1;

/// A whole scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    pub format_version: u32,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Seed of every random process in the scene (weather noise, quantum job arrivals and runs).
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub sim: SimSettings,
    #[serde(default)]
    pub fluid: Fluid,
    pub climate: Climate,
    #[serde(default)]
    pub buildings: Vec<Building>,
    pub heat_network: HeatNetwork,
    #[serde(default)]
    pub plants: Vec<Plant>,
    #[serde(default)]
    pub quantum_sites: Vec<QuantumSite>,
    #[serde(default)]
    pub grid: Option<Grid>,
    /// Map features drawn by the view (streets, river, parks); no physics.
    #[serde(default)]
    pub map: Vec<MapFeature>,
    /// City services' quantum jobs and how the sites run them; `None` = the documented defaults
    /// ([`QuantumJobs::default`]), so every scene with quantum sites runs jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantum_jobs: Option<QuantumJobs>,
    /// The city services' data links to the sites (key exchange, data sensitivity, threat
    /// horizon); `None` = the documented defaults ([`DataLinks::default`]: every link classical).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_links: Option<DataLinks>,
    /// The what-if edits that turned a base scene into this one, oldest first (see
    /// the what-if module): each holds its old and new values, so undoing them all in reverse
    /// order gives the base scene back exactly. Empty (and not written) for an unedited scene.
    /// The edits are history only: the scene's physics is the rest of the file, and
    /// [`scene_hash`] leaves them out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<edits::EditRecord>,
    /// Failures scheduled at `at_s` seconds of simulated time since the start, each repaired
    /// `repair_s` after it began (`Auto`) or after a crew is dispatched (`Crew`); see
    /// the faults domain. Empty (and not written) for most scenes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<FaultSpec>,
    /// Where the local plane lies on the Earth (scenes made by `qtwin import`); `None` (and not
    /// written) for generated and hand-written scenes. Export to GIS needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub georef: Option<GeoRef>,
}

/// The georeference of a scene's local plane: a transverse Mercator projection of the WGS84
/// ellipsoid whose central meridian passes through the origin, with scale 1 there, false easting
/// and northing 0 at the origin (x east, y north, metres). Over a district of a few kilometres the
/// scale error stays below 1e-6 (it grows as (distance from the central meridian)² / 2R²).
/// `qtwin import` writes it (its projection: `LocalTm` in the import module's `geo`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoRef {
    /// Longitude of the origin, degrees east (WGS84).
    pub origin_lon_deg: f64,
    /// Latitude of the origin, degrees north (WGS84).
    pub origin_lat_deg: f64,
}

/// How a value of an imported building was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Source {
    /// Read from the data (a tag or attribute that states the value).
    Measured,
    /// Computed from another measured value (e.g. floors from the height).
    Derived,
    /// Not in the data: a district median or a documented default.
    Defaulted,
}

/// Where an imported building's values came from, so a planner sees how much of a result rests on
/// defaults. Absent (and not written) for generated and hand-written buildings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The object in the source data, e.g. `way/4711`, `relation/12`, `feature 7`.
    pub source_id: String,
    pub floors: Source,
    #[serde(rename = "use")]
    pub use_: Source,
    /// Year of construction used for the typology.
    pub year_built: i32,
    pub year: Source,
    /// Specific space-heating demand from the typology table, kWh/(m²·a) of heated area.
    pub specific_heat_kwh_m2a: f64,
}

/// Simulation settings stored with the scene; the command line may override them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimSettings {
    /// Length of one simulation tick, s.
    pub tick_s: f64,
    /// Day of the year (1 = 1 January) at which the simulation starts, at midnight.
    pub start_day_of_year: u32,
    /// Indoor set-point of heated buildings, °C.
    pub indoor_setpoint_c: f64,
}

impl Default for SimSettings {
    fn default() -> Self {
        Self {
            tick_s: 60.0,
            start_day_of_year: 15,
            indoor_setpoint_c: 20.0,
        }
    }
}

/// Properties of the network water: constant (the three values; engineering test networks), or,
/// with `properties: WaterIf97`, water's own as functions of its temperature ([`crate::water`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fluid {
    pub cp_j_kg_k: f64,
    pub density_kg_m3: f64,
    /// Dynamic viscosity, Pa·s.
    pub viscosity_pa_s: f64,
    /// Where the properties come from (default and not written: the three values above).
    #[serde(skip_serializing_if = "FluidProperties::is_fixed")]
    pub properties: FluidProperties,
}

/// Where the network water's properties come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FluidProperties {
    /// `cp_j_kg_k`, `density_kg_m3` and `viscosity_pa_s` as given, everywhere.
    #[default]
    Fixed,
    /// Liquid water (IAPWS-IF97 fits, [`crate::water`]): each pipe's supply and return water has
    /// the density and viscosity of its own temperature in the hydraulics; the pipes hold the
    /// water's mass at the supply set-point (supply pipes) and the design return temperature
    /// (return pipes); the heat balance uses one heat capacity, the IF97 enthalpy secant between
    /// those two temperatures ([`Scene::heat_capacity_j_kg_k`]). The three fixed values are not
    /// used.
    WaterIf97,
}

impl FluidProperties {
    pub fn is_fixed(&self) -> bool {
        *self == FluidProperties::Fixed
    }
}

impl Default for Fluid {
    fn default() -> Self {
        // Water at about 70 °C (IAPWS-IF97): ρ = 977.8 kg/m³, μ = 4.04e-4 Pa·s; c_p of 4182 J/(kg·K)
        // as used by pandapipes' reference cases.
        Self {
            cp_j_kg_k: 4182.0,
            density_kg_m3: 977.8,
            viscosity_pa_s: 4.04e-4,
            properties: FluidProperties::Fixed,
        }
    }
}

/// The weather the city lives in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// One climate per scene: the size of the monthly variant costs nothing, and boxing it would make
// every scene literal and match noisier.
#[allow(clippy::large_enum_variant)]
pub enum Climate {
    /// A real climate: monthly means, a diurnal swing and seeded smooth noise.
    Monthly(MonthlyClimate),
    /// Constant conditions for engineering test networks: no weather at all.
    Fixed(FixedClimate),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthlyClimate {
    /// Latitude, degrees north (for the sun's path).
    pub latitude_deg: f64,
    /// Monthly mean outdoor air temperature, January first, °C.
    pub mean_temp_c: [f64; 12],
    /// Monthly mean peak-to-peak daily temperature swing, K.
    pub diurnal_swing_k: [f64; 12],
    /// Monthly mean daily global horizontal irradiation, kWh/(m²·day).
    pub daily_irradiation_kwh_m2: [f64; 12],
    /// Monthly mean wind speed at 10 m, m/s.
    pub mean_wind_m_s: [f64; 12],
    /// Standard deviation of the day-to-day temperature anomaly, K.
    #[serde(default = "default_temp_noise")]
    pub temp_noise_k: f64,
    /// Ground temperature at pipe depth: if set, fixed; otherwise from the Kusuda model.
    #[serde(default)]
    pub ground_temp_c: Option<f64>,
    /// A particular weather year drawn from this climate (mild, typical, cold, with its own
    /// noise seed); `None` = the climate as given with the scene's seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<WeatherYear>,
}

/// A weather year drawn from a monthly climate: every month's mean air temperature shifted by
/// [`YearKind::temp_offset_k`] and the weather noise drawn with `seed` instead of the scene's.
/// The demand model keeps calibrating hot water on the climate as given (hot water does not
/// depend on the year's weather).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeatherYear {
    pub kind: YearKind,
    /// Seed of this year's weather noise (temperature anomalies, clouds, wind).
    pub seed: u64,
}

/// How a weather year compares with the climate's mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum YearKind {
    Mild,
    Typical,
    Cold,
}

impl YearKind {
    /// Shift of every month's mean air temperature, K: mild +1.5 K, typical 0, cold −2 K.
    ///
    /// An assumption of this model, of the order of one standard deviation of the year-to-year
    /// anomaly of winter mean temperature in a temperate maritime climate (about 1.5–2 K); the
    /// cold shift is larger because cold winters deviate further than mild ones.
    pub fn temp_offset_k(self) -> f64 {
        match self {
            YearKind::Mild => 1.5,
            YearKind::Typical => 0.0,
            YearKind::Cold => -2.0,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            YearKind::Mild => "mild",
            YearKind::Typical => "typical",
            YearKind::Cold => "cold",
        }
    }
}

fn default_temp_noise() -> f64 {
    3.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedClimate {
    pub outdoor_temp_c: f64,
    pub ground_temp_c: f64,
    #[serde(default)]
    pub irradiance_w_m2: f64,
    #[serde(default)]
    pub wind_m_s: f64,
}

/// What a building is used for; sets internal gains, hot-water and electricity profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BuildingUse {
    Residential,
    Office,
    Retail,
    School,
    Hospital,
    Industrial,
}

/// How well a building keeps its heat.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Envelope {
    /// Heat-loss coefficient (transmission + ventilation), W/K.
    HeatLossWK(f64),
    /// An energy class, A (best) to G; mapped to W/(m²·K) of heated area (see `demand`).
    EnergyClass(char),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Building {
    pub id: String,
    /// Footprint polygon, counter-clockwise, m.
    pub footprint: Vec<[f64; 2]>,
    pub floors: u32,
    #[serde(default = "default_floor_height")]
    pub floor_height_m: f64,
    #[serde(rename = "use")]
    pub use_: BuildingUse,
    /// Heated floor area, m²; default 85 % of footprint area × floors.
    #[serde(default)]
    pub heated_area_m2: Option<f64>,
    pub envelope: Envelope,
    /// Domestic hot water's share of the building's annual heat demand (0–0.6).
    #[serde(default = "default_dhw_share")]
    pub hot_water_share: f64,
    /// Peak cooling load served by a heat-driven absorption chiller, W (0 = none).
    #[serde(default)]
    pub absorption_cooling_peak_w: f64,
    /// Heat-network node of its substation; `None` = not connected (all heat demand unmet).
    pub node: Option<String>,
    /// Electrical bus it draws from.
    #[serde(default)]
    pub bus: Option<String>,
    /// Design return temperature of its substation, °C (default: network's).
    #[serde(default)]
    pub return_temp_c: Option<f64>,
    /// Where the values of an imported building came from (see [`Provenance`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    /// How heavy its construction is: its internal heat capacity (see `demand::indoor`);
    /// `None` = [`Construction::Medium`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub construction: Option<Construction>,
}

/// A building's construction class by internal heat capacity (EN ISO 13790:2008, Table 12):
/// from very light (timber frame, suspended ceilings) to very heavy (solid masonry or concrete,
/// floors and walls exposed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Construction {
    VeryLight,
    Light,
    Medium,
    Heavy,
    VeryHeavy,
}

fn default_floor_height() -> f64 {
    3.2
}
fn default_dhw_share() -> f64 {
    0.2
}

impl Building {
    /// Footprint area by the shoelace formula, m².
    pub fn footprint_area_m2(&self) -> f64 {
        polygon_area(&self.footprint)
    }
    /// Heated floor area, m².
    pub fn heated_area(&self) -> f64 {
        self.heated_area_m2
            .unwrap_or_else(|| 0.85 * self.footprint_area_m2() * self.floors as f64)
    }
    /// Centroid of the footprint (vertex mean), m.
    pub fn centre(&self) -> [f64; 2] {
        let n = self.footprint.len().max(1) as f64;
        let (sx, sy) = self
            .footprint
            .iter()
            .fold((0.0, 0.0), |(a, b), p| (a + p[0], b + p[1]));
        [sx / n, sy / n]
    }
}

/// Area of a simple polygon, m² (absolute value of the shoelace sum).
pub fn polygon_area(poly: &[[f64; 2]]) -> f64 {
    let n = poly.len();
    if n < 3 {
        return 0.0;
    }
    let mut s = 0.0;
    for i in 0..n {
        let a = poly[i];
        let b = poly[(i + 1) % n];
        s += a[0] * b[1] - b[0] * a[1];
    }
    0.5 * s.abs()
}

/// The district-heating network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeatNetwork {
    /// Supply temperature set-point at the stations, °C.
    pub supply_temp_c: f64,
    /// Outdoor reset: supply set-point rises linearly to this value at `design_outdoor_temp_c`.
    #[serde(default)]
    pub supply_temp_at_design_c: Option<f64>,
    /// Design outdoor temperature (for the reset curve and substation sizing), °C.
    #[serde(default = "default_design_outdoor")]
    pub design_outdoor_temp_c: f64,
    /// Design return temperature of substations, °C.
    pub return_temp_c: f64,
    /// Pressure held at the reference station's supply outlet, Pa (gauge).
    #[serde(default = "default_supply_pressure")]
    pub supply_pressure_pa: f64,
    /// Pressure held at the reference station's return inlet, Pa (gauge).
    #[serde(default = "default_return_pressure")]
    pub return_pressure_pa: f64,
    /// Smallest differential pressure a substation needs, Pa.
    #[serde(default = "default_min_dp")]
    pub min_substation_dp_pa: f64,
    /// Hot water needs at least this supply temperature, °C (Legionella, tap at 50 °C+).
    #[serde(default = "default_dhw_min")]
    pub dhw_min_supply_temp_c: f64,
    pub nodes: Vec<Node>,
    pub pipes: Vec<Pipe>,
    /// Explicit consumers (engineering test networks).
    #[serde(default)]
    pub consumers: Vec<Consumer>,
}

fn default_design_outdoor() -> f64 {
    -12.0
}
fn default_supply_pressure() -> f64 {
    6.0e5
}
fn default_return_pressure() -> f64 {
    2.0e5
}
fn default_min_dp() -> f64 {
    5.0e4
}
fn default_dhw_min() -> f64 {
    55.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub id: String,
    pub pos: [f64; 2],
    #[serde(default)]
    pub elevation_m: f64,
}

/// Pipe size: an inner diameter or a nominal size (DN, EN 253 steel service pipe).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum PipeSize {
    InnerDiameterM(f64),
    Dn(u32),
}

/// How a pipe loses heat.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum PipeInsulation {
    /// EN 253 pre-insulated series 1, 2 or 3 (3 = thickest insulation).
    Series(u8),
    /// Linear heat-loss coefficient, W/(m·K), between water and ground.
    LinearWmK(f64),
    /// Heat-transfer coefficient per inner surface area, W/(m²·K).
    SurfaceWm2K(f64),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pipe {
    pub id: String,
    pub from: String,
    pub to: String,
    /// Route length, m; default the straight distance between the nodes.
    #[serde(default)]
    pub length_m: Option<f64>,
    pub size: PipeSize,
    pub insulation: PipeInsulation,
    /// Absolute roughness, m.
    #[serde(default = "default_roughness")]
    pub roughness_m: f64,
    /// Depth of the pipe's axis below ground, m.
    #[serde(default = "default_burial")]
    pub burial_depth_m: f64,
    /// The pipe's route from `from` to `to` along the streets, m (both ends included); empty (and
    /// not written) = the straight line. When given and `length_m` is not, the length is the
    /// route's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route: Vec<[f64; 2]>,
}

fn default_roughness() -> f64 {
    1.0e-5 * 4.5
}
fn default_burial() -> f64 {
    0.8
}

/// What an explicit consumer takes from the network.
///
/// In RON: `MassFlowKgS(1.0)`, `HeatW(50000.0)` (both with the consumer's `return_temp_c`), or the
/// forms of published district-heating benchmarks, `MassFlowDeltaT(mass_flow_kg_s: 1.0,
/// delta_t_k: 30.0)` and `HeatDeltaT(heat_w: 50000.0, delta_t_k: 30.0)`, whose return temperature is
/// the supply temperature at the node minus `delta_t_k` (no `return_temp_c`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ConsumerDemand {
    /// A fixed mass flow, kg/s, returning at the consumer's fixed `return_temp_c`.
    MassFlowKgS(f64),
    /// A fixed heat demand, W, returning at the consumer's fixed `return_temp_c`.
    HeatW(f64),
    /// A fixed mass flow with a fixed temperature drop: returns at `T_s − ΔT` and takes
    /// `Q = ṁ·c_p·ΔT`.
    MassFlowDeltaT { mass_flow_kg_s: f64, delta_t_k: f64 },
    /// A fixed heat with a fixed temperature drop: takes `ṁ = Q/(c_p·ΔT)` and returns at `T_s − ΔT`.
    HeatDeltaT { heat_w: f64, delta_t_k: f64 },
}

impl ConsumerDemand {
    /// The fixed temperature drop of the ΔT forms, K (`None` for the forms with a fixed return
    /// temperature).
    pub fn delta_t_k(&self) -> Option<f64> {
        match *self {
            ConsumerDemand::MassFlowDeltaT { delta_t_k, .. }
            | ConsumerDemand::HeatDeltaT { delta_t_k, .. } => Some(delta_t_k),
            ConsumerDemand::MassFlowKgS(_) | ConsumerDemand::HeatW(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consumer {
    pub id: String,
    pub node: String,
    pub demand: ConsumerDemand,
    /// Fixed return temperature, °C: given (as a plain number, `return_temp_c: 20.0`) for
    /// `MassFlowKgS` and `HeatW`, left out for the ΔT forms, whose return follows the supply.
    #[serde(
        default,
        deserialize_with = "plain_f64_to_some",
        serialize_with = "some_f64_to_plain",
        skip_serializing_if = "Option::is_none"
    )]
    pub return_temp_c: Option<f64>,
}

/// Reads a plain number into `Some` (RON would otherwise want `Some(20.0)`, and scenes written
/// before the field became optional say `20.0`).
fn plain_f64_to_some<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    f64::deserialize(d).map(Some)
}

/// Writes `Some(x)` as the plain number `x` (the field is skipped when `None`).
fn some_f64_to_plain<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) => s.serialize_f64(*x),
        None => s.serialize_none(),
    }
}

/// A plant at a heat-network node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Plant {
    /// A heat pump lifting a quantum site's recoverable waste heat to the supply temperature.
    HeatPump {
        id: String,
        node: String,
        /// The quantum site whose waste heat is its source.
        site: String,
        /// Maximum heat output, W.
        capacity_w: f64,
        /// Fraction of the Carnot COP reached (typically 0.45–0.6).
        carnot_fraction: f64,
    },
    /// A gas boiler.
    GasBoiler {
        id: String,
        node: String,
        capacity_w: f64,
        /// Heat out over gas in (lower heating value).
        efficiency: f64,
    },
    /// A hot-water storage tank at a station, charged by surplus heat-pump heat.
    Storage {
        id: String,
        node: String,
        volume_m3: f64,
        max_power_w: f64,
        /// Temperature spread between charged and empty, K.
        delta_t_k: f64,
        /// Heat-loss coefficient of the tank to its surroundings, W/K.
        loss_w_k: f64,
        /// State of charge at start, 0–1.
        initial_soc: f64,
    },
    /// The circulation pump set of a station.
    CirculationPump {
        id: String,
        node: String,
        /// Wire-to-water efficiency.
        efficiency: f64,
        /// Largest differential pressure it can give, Pa.
        max_head_pa: f64,
    },
    /// An ideal source at a fixed supply temperature (engineering test networks).
    FixedSource {
        id: String,
        node: String,
        supply_temp_c: f64,
    },
}

impl Plant {
    pub fn id(&self) -> &str {
        match self {
            Plant::HeatPump { id, .. }
            | Plant::GasBoiler { id, .. }
            | Plant::Storage { id, .. }
            | Plant::CirculationPump { id, .. }
            | Plant::FixedSource { id, .. } => id,
        }
    }
    pub fn node(&self) -> &str {
        match self {
            Plant::HeatPump { node, .. }
            | Plant::GasBoiler { node, .. }
            | Plant::Storage { node, .. }
            | Plant::CirculationPump { node, .. }
            | Plant::FixedSource { node, .. } => node,
        }
    }
    /// Whether the plant makes heat (so its node is a station).
    pub fn is_heat_source(&self) -> bool {
        matches!(
            self,
            Plant::HeatPump { .. } | Plant::GasBoiler { .. } | Plant::FixedSource { .. }
        )
    }
}

/// A micro quantum site: a small quantum data centre in the city.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantumSite {
    pub id: String,
    pub pos: [f64; 2],
    pub qubits: u32,
    /// Electrical power of the cryostat's pulse-tube compressor(s), W.
    pub compressor_power_w: f64,
    /// Room-temperature control electronics per qubit at full load, W.
    pub electronics_w_per_qubit: f64,
    /// Classical servers (control, compilation, error mitigation) at full load, W.
    pub servers_power_w: f64,
    /// Share of the electronics' and servers' power drawn when idle (0–1).
    #[serde(default = "default_idle_share")]
    pub idle_share: f64,
    /// Share of all heat recoverable to water (compressor and liquid-cooled racks), 0–1.
    pub recoverable_heat_share: f64,
    /// Temperature of that recovered water, °C.
    pub recovered_water_temp_c: f64,
    /// Background utilisation (0–1): work for customers outside the city that keeps the site's
    /// servers and control electronics busy; the city's jobs add to it.
    #[serde(default = "default_utilisation")]
    pub utilisation: f64,
    /// Heat-network node of its heat pump (if any).
    #[serde(default)]
    pub node: Option<String>,
    /// Electrical bus it draws from.
    #[serde(default)]
    pub bus: Option<String>,
    /// Footprint of its building, for the view (m); the site draws no space heat.
    #[serde(default)]
    pub footprint: Vec<[f64; 2]>,
}

fn default_idle_share() -> f64 {
    0.4
}
fn default_utilisation() -> f64 {
    0.6
}

/// How a site orders its queue and where a job is sent (see the quantum domain's scheduler).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SchedulingPolicy {
    /// First come, first served; a job goes to the site where it would start soonest.
    Fifo,
    /// Earliest deadline first (then higher priority); sites chosen as for `Fifo`.
    #[default]
    EarliestDeadlineFirst,
    /// The site with the highest estimated success probability among those that meet the
    /// deadline (latency and queue included); queues ordered by deadline.
    FidelityAware,
}

/// The quantum jobs of the city's services and the devices that run them. Every field has a
/// default (see the quantum domain for the model and the sources of the numbers). A service left
/// out takes its own defaults ([`QuantumJobs::default`]: traffic 12/h by day and 3/h by night,
/// 6–10 qubits, p = 1, 20 000 shots, 120 s; grid balancing 6/h, 4–8 qubits, p = 2, 10 000 shots,
/// 300 s; sensing 8/h and 4/h, 6–10 qubits, 3 layers, 50 000 shots, 30 min); a service given
/// in part takes [`JobService::default`] for the fields it leaves out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuantumJobs {
    /// `false`: no jobs; the sites keep the scene's `utilisation`.
    pub enabled: bool,
    pub policy: SchedulingPolicy,
    /// Traffic-signal coordination: QAOA MaxCut over a district's intersections.
    pub traffic: JobService,
    /// Grid balancing: QAOA on a small unit-commitment QUBO.
    pub grid_balancing: JobService,
    /// Environmental sensing: a hardware-efficient variational circuit (RY layers, CX chain).
    pub sensing: JobService,
    /// Per-job compilation, loading and result hand-back on the site's servers, s.
    pub overhead_s: f64,
    /// Active reset of the qubits after every shot, s.
    pub reset_s: f64,
    /// At most this many shots of a job are simulated (the job still occupies the device for
    /// all its shots).
    pub max_simulated_shots: u32,
    /// Noise trajectories per simulated job; the simulated shots are drawn from their final states.
    pub trajectories: u32,
    /// Hour of the day at which the first site's daily calibration starts; the others follow
    /// one after another.
    pub calibration_hour: f64,
    /// Length of a calibration window (no jobs run), s.
    pub calibration_duration_s: f64,
    /// Log-normal spread (σ of ln) of a site's T1, T2 and gate errors around `device`: a fixed
    /// part per chip and half of it redrawn at every calibration.
    pub calibration_spread: f64,
    /// Nominal qubits of every site at base temperature.
    pub device: QuantumDevice,
    pub cryostat: Cryostat,
    pub network: FibreNetwork,
}

impl Default for QuantumJobs {
    fn default() -> Self {
        Self {
            enabled: true,
            policy: SchedulingPolicy::default(),
            traffic: JobService {
                day_rate_per_h: 12.0,
                night_rate_per_h: 3.0,
                min_qubits: 6,
                max_qubits: 10,
                layers: 1,
                shots: 20_000,
                deadline_s: 120.0,
                priority: 2,
            },
            grid_balancing: JobService {
                day_rate_per_h: 6.0,
                night_rate_per_h: 6.0,
                min_qubits: 4,
                max_qubits: 8,
                layers: 2,
                shots: 10_000,
                deadline_s: 300.0,
                priority: 3,
            },
            sensing: JobService {
                day_rate_per_h: 8.0,
                night_rate_per_h: 4.0,
                min_qubits: 6,
                max_qubits: 10,
                layers: 3,
                shots: 50_000,
                deadline_s: 1800.0,
                priority: 1,
            },
            overhead_s: 1.0,
            reset_s: 1e-6,
            max_simulated_shots: 128,
            trajectories: 16,
            calibration_hour: 3.0,
            calibration_duration_s: 1200.0,
            calibration_spread: 0.15,
            device: QuantumDevice::default(),
            cryostat: Cryostat::default(),
            network: FibreNetwork::default(),
        }
    }
}

/// One city service's stream of quantum jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobService {
    /// Mean arrivals per hour from 06:00 to 22:00 (Poisson).
    pub day_rate_per_h: f64,
    /// Mean arrivals per hour from 22:00 to 06:00.
    pub night_rate_per_h: f64,
    /// Qubits of a job: uniform in `[min_qubits, max_qubits]`.
    pub min_qubits: u32,
    pub max_qubits: u32,
    /// QAOA layers `p` (traffic, grid balancing) or ansatz layers (sensing).
    pub layers: u32,
    /// Shots a job asks for.
    pub shots: u64,
    /// Time from submission by which the result must be back, s.
    pub deadline_s: f64,
    /// Larger = more important (breaks deadline ties).
    pub priority: u8,
}

impl Default for JobService {
    fn default() -> Self {
        Self {
            day_rate_per_h: 0.0,
            night_rate_per_h: 0.0,
            min_qubits: 6,
            max_qubits: 8,
            layers: 1,
            shots: 1000,
            deadline_s: 300.0,
            priority: 1,
        }
    }
}

/// Nominal base-temperature calibration of a site's (identical) qubits
/// (the quantum domain's noise model turns it into a qubit calibration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuantumDevice {
    pub t1_s: f64,
    pub t2_s: f64,
    pub freq_hz: f64,
    /// Readout error at base temperature (the thermal excited population is added on top).
    pub readout_error: f64,
    pub gate_time_1q_s: f64,
    pub gate_time_2q_s: f64,
    pub readout_time_s: f64,
    pub error_1q: f64,
    pub error_2q: f64,
}

impl Default for QuantumDevice {
    fn default() -> Self {
        // Typical of current superconducting devices (2024–2025 heavy-hex/transmon chips).
        Self {
            t1_s: 200e-6,
            t2_s: 150e-6,
            freq_hz: 5e9,
            readout_error: 0.015,
            gate_time_1q_s: 35e-9,
            gate_time_2q_s: 300e-9,
            readout_time_s: 1e-6,
            error_1q: 2.5e-4,
            error_2q: 3e-3,
        }
    }
}

/// Heating limit of the outdoor reset curve, °C: at and above it the supply set-point is the
/// mild-weather one. A scene's `design_outdoor_temp_c` must lie below it (validated), or the
/// curve's slope would be 0/0.
pub const HEATING_LIMIT_C: f64 = 15.0;

/// The dilution refrigerator of every site (see the quantum domain's cryostat model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Cryostat {
    /// Mixing-chamber base temperature with the compressor running, K.
    pub base_temp_k: f64,
    /// Above this mixing-chamber temperature a site takes no jobs, K.
    pub too_warm_k: f64,
    /// Cool-down time constant near base temperature, s.
    pub cool_tau_low_s: f64,
    /// Extra cool-down time constant well above `cool_knee_k` (recondensing the mixture), s.
    pub cool_tau_high_s: f64,
    /// Temperature at which the cool-down slows from the low to the high time constant, K.
    pub cool_knee_k: f64,
    /// Warm-up rate of ln T with the compressor stopped, at low temperature, 1/s.
    pub warm_rate_per_s: f64,
    /// Temperature scale at which the warm-up of ln T slows (heat capacity grows), K.
    pub warm_knee_k: f64,
    /// Highest temperature the model follows, K (the 4 K plate's).
    pub warm_limit_k: f64,
}

impl Default for Cryostat {
    fn default() -> Self {
        Self {
            base_temp_k: 0.012,
            too_warm_k: 0.050,
            cool_tau_low_s: 1200.0,
            cool_tau_high_s: 13.0 * 3600.0,
            cool_knee_k: 0.7,
            warm_rate_per_s: 0.3 / 60.0,
            warm_knee_k: 0.1,
            warm_limit_k: 4.0,
        }
    }
}

/// The city's fibre network and the remote data centre the report compares with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FibreNetwork {
    /// Fibre route length over straight distance (streets are not straight).
    pub route_factor: f64,
    /// Speed of light in fibre, m/s (5 µs/km).
    pub fibre_speed_m_s: f64,
    /// Switching delay per hop, s.
    pub hop_delay_s: f64,
    /// Hops between a district and a site in the city.
    pub city_hops: u32,
    /// Fibre length to the remote data centre, m.
    pub remote_fibre_m: f64,
    /// Extra round-trip time of internet routing and queueing to the remote data centre, s.
    pub remote_routing_rtt_s: f64,
}

impl Default for FibreNetwork {
    fn default() -> Self {
        Self {
            route_factor: 1.4,
            fibre_speed_m_s: 2.0e8,
            hop_delay_s: 50e-6,
            city_hops: 3,
            remote_fibre_m: 800e3,
            remote_routing_rtt_s: 0.020,
        }
    }
}

/// The electrical grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    pub buses: Vec<Bus>,
    /// Feeders between buses; operated radially from the connection bus.
    pub feeders: Vec<Feeder>,
    #[serde(default)]
    pub pv: Vec<PvArray>,
    #[serde(default)]
    pub wind: Vec<WindTurbine>,
    #[serde(default)]
    pub batteries: Vec<Battery>,
    pub connection: GridConnection,
}

impl Grid {
    /// The index of each bus by its id (the first bus of an id, as a search from the front would
    /// find it): one lookup per building instead of a search through every bus, which at 100,000
    /// buildings and 1,800 buses had been half of building the world.
    pub fn bus_indices(&self) -> std::collections::HashMap<&str, u32> {
        let mut m = std::collections::HashMap::with_capacity(self.buses.len());
        for (i, b) in self.buses.iter().enumerate() {
            m.entry(b.id.as_str()).or_insert(i as u32);
        }
        m
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bus {
    pub id: String,
    pub pos: [f64; 2],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feeder {
    pub id: String,
    pub from: String,
    pub to: String,
    pub capacity_w: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PvArray {
    pub id: String,
    pub bus: String,
    /// Peak power at 1000 W/m², W.
    pub peak_w: f64,
    /// Performance ratio (inverter, temperature, soiling), 0–1.
    #[serde(default = "default_pr")]
    pub performance_ratio: f64,
    /// Where it stands (e.g. a roof), for the view.
    #[serde(default)]
    pub building: Option<String>,
}

fn default_pr() -> f64 {
    0.8
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindTurbine {
    pub id: String,
    pub bus: String,
    pub pos: [f64; 2],
    pub rated_w: f64,
    pub hub_height_m: f64,
    #[serde(default = "default_cut_in")]
    pub cut_in_m_s: f64,
    #[serde(default = "default_rated_speed")]
    pub rated_speed_m_s: f64,
    #[serde(default = "default_cut_out")]
    pub cut_out_m_s: f64,
}

fn default_cut_in() -> f64 {
    3.0
}
fn default_rated_speed() -> f64 {
    12.0
}
fn default_cut_out() -> f64 {
    25.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Battery {
    pub id: String,
    pub bus: String,
    pub capacity_wh: f64,
    pub max_power_w: f64,
    /// Round-trip efficiency, 0–1 (split evenly between charge and discharge).
    pub round_trip_efficiency: f64,
    pub initial_soc: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridConnection {
    pub bus: String,
    pub import_capacity_w: f64,
    pub export_capacity_w: f64,
    /// Carbon intensity of imported electricity for each hour of the day, g CO₂/kWh.
    pub carbon_intensity_g_kwh: [f64; 24],
    /// Monthly factor on that profile (winter grids are dirtier), January first.
    #[serde(default = "default_monthly_factor")]
    pub monthly_factor: [f64; 12],
}

fn default_monthly_factor() -> [f64; 12] {
    [1.0; 12]
}

/// Things drawn on the map that carry no physics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MapFeature {
    Street {
        points: Vec<[f64; 2]>,
        width_m: f64,
    },
    River {
        points: Vec<[f64; 2]>,
        width_m: f64,
    },
    Park {
        polygon: Vec<[f64; 2]>,
    },
    /// Open water (a pond, a basin, a wide river's area), counter-clockwise polygon, m.
    Water {
        polygon: Vec<[f64; 2]>,
    },
    /// A building that is not heated (garage, shed, carport, a footprint under 20 m²): drawn,
    /// no physics. Counter-clockwise polygon, m; height, m.
    Outbuilding {
        polygon: Vec<[f64; 2]>,
        height_m: f64,
    },
}

/// A scene file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{col}: {msg}")]
    Parse {
        path: String,
        line: usize,
        col: usize,
        msg: String,
    },
    /// Too large, not UTF-8, or unreadable (see [`crate::limits::read_text_limited`]).
    #[error(transparent)]
    Read(#[from] crate::limits::ReadError),
    #[error(
        "{path}: format_version {found} is not supported (this qtwin reads version {SCENE_FORMAT_VERSION})"
    )]
    Version { path: String, found: u32 },
}

/// Parses a scene from RON text; `path` is used in messages only.
pub fn load_scene_str(text: &str, path: &str) -> Result<Scene, LoadError> {
    let scene: Scene = ron::Options::default()
        .from_str(text)
        .map_err(|e| LoadError::Parse {
            path: path.to_string(),
            line: e.position.line,
            col: e.position.col,
            msg: e.code.to_string(),
        })?;
    if scene.format_version != SCENE_FORMAT_VERSION {
        return Err(LoadError::Version {
            path: path.to_string(),
            found: scene.format_version,
        });
    }
    Ok(scene)
}

/// Reads and parses a scene file.
pub fn load_scene(path: &std::path::Path) -> Result<Scene, LoadError> {
    let p = path.display().to_string();
    let text = crate::limits::read_text_limited(path, crate::limits::MAX_SCENE_BYTES)?;
    load_scene_str(&text, &p)
}

/// Writes a scene as pretty RON.
pub fn to_ron(scene: &Scene) -> String {
    let cfg = ron::ser::PrettyConfig::new()
        .depth_limit(4)
        .separate_tuple_members(false)
        .compact_arrays(true);
    ron::ser::to_string_pretty(scene, cfg).expect("a scene always serialises")
}

/// SHA-256 of the scene's canonical serialisation (independent of the file's formatting), hex.
pub fn scene_hash(scene: &Scene) -> String {
    // The edit history is not part of the physics: an edited scene hashes like the same scene
    // written out by hand.
    let canonical = if scene.edits.is_empty() {
        ron::ser::to_string(scene)
    } else {
        let mut s = scene.clone();
        s.edits.clear();
        ron::ser::to_string(&s)
    }
    .expect("a scene always serialises");
    let digest = Sha256::digest(canonical.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// EN 253 steel service pipe: nominal size → (inner diameter m, linear heat-loss coefficient W/(m·K)
/// for insulation series 1, 2, 3). Diameters from EN 10217/EN 253 outer diameters and wall
/// thicknesses; heat-loss coefficients for a single buried pipe at 0.8 m depth, after Logstor's
/// and Isoplus' published catalogue values (λ_PUR = 0.026 W/(m·K), λ_soil = 1.5 W/(m·K)).
pub const DN_TABLE: &[(u32, f64, [f64; 3])] = &[
    (20, 0.0217, [0.130, 0.110, 0.100]),
    (25, 0.0285, [0.149, 0.126, 0.112]),
    (32, 0.0372, [0.172, 0.142, 0.126]),
    (40, 0.0431, [0.189, 0.152, 0.134]),
    (50, 0.0545, [0.210, 0.168, 0.146]),
    (65, 0.0703, [0.240, 0.190, 0.162]),
    (80, 0.0825, [0.254, 0.201, 0.172]),
    (100, 0.1071, [0.271, 0.216, 0.183]),
    (125, 0.1325, [0.309, 0.242, 0.204]),
    (150, 0.1603, [0.357, 0.275, 0.229]),
    (200, 0.2101, [0.383, 0.297, 0.248]),
    (250, 0.2630, [0.410, 0.317, 0.265]),
    (300, 0.3127, [0.454, 0.347, 0.289]),
    (350, 0.3444, [0.462, 0.360, 0.298]),
    (400, 0.3938, [0.501, 0.382, 0.316]),
    (500, 0.4954, [0.545, 0.417, 0.344]),
    (600, 0.5958, [0.585, 0.449, 0.369]),
];

/// Looks up a nominal size.
pub fn dn_entry(dn: u32) -> Option<&'static (u32, f64, [f64; 3])> {
    DN_TABLE.iter().find(|e| e.0 == dn)
}

impl Pipe {
    /// Inner diameter, m (None for an unknown DN).
    pub fn inner_diameter_m(&self) -> Option<f64> {
        match self.size {
            PipeSize::InnerDiameterM(d) => Some(d),
            PipeSize::Dn(dn) => dn_entry(dn).map(|e| e.1),
        }
    }
    /// Linear heat-loss coefficient, W/(m·K) (None when it cannot be determined).
    pub fn linear_loss_w_mk(&self) -> Option<f64> {
        let d = self.inner_diameter_m()?;
        match self.insulation {
            PipeInsulation::LinearWmK(u) => Some(u),
            PipeInsulation::SurfaceWm2K(u) => Some(u * std::f64::consts::PI * d),
            PipeInsulation::Series(s) => {
                let idx = (s as usize).checked_sub(1).filter(|i| *i < 3)?;
                match self.size {
                    PipeSize::Dn(dn) => dn_entry(dn).map(|e| e.2[idx]),
                    // Nearest DN by inner diameter.
                    PipeSize::InnerDiameterM(d) => DN_TABLE
                        .iter()
                        .min_by(|a, b| (a.1 - d).abs().total_cmp(&(b.1 - d).abs()))
                        .map(|e| e.2[idx]),
                }
            }
        }
    }
}

impl Scene {
    /// Heat capacity of the network water in the heat balance, J/(kg·K): `fluid.cp_j_kg_k`, or for
    /// [`FluidProperties::WaterIf97`] the IF97 enthalpy secant between the design return
    /// temperature and the supply set-point ([`crate::water::mean_heat_capacity_j_kg_k`]: the
    /// enthalpy h(T) linearised through those two temperatures, exact at both).
    pub fn heat_capacity_j_kg_k(&self) -> f64 {
        match self.fluid.properties {
            FluidProperties::Fixed => self.fluid.cp_j_kg_k,
            FluidProperties::WaterIf97 => crate::water::mean_heat_capacity_j_kg_k(
                self.heat_network.return_temp_c,
                self.heat_network.supply_temp_c,
            ),
        }
    }

    /// The one density of the network water where one is needed (tanks, sizing), kg/m³:
    /// `fluid.density_kg_m3`, or water's at the mean of the design return and the supply set-point.
    pub fn density_kg_m3(&self) -> f64 {
        match self.fluid.properties {
            FluidProperties::Fixed => self.fluid.density_kg_m3,
            FluidProperties::WaterIf97 => crate::water::density_kg_m3(self.mean_design_temp_c()),
        }
    }

    /// The one viscosity of the network water where one is needed, Pa·s (as [`Self::density_kg_m3`]).
    pub fn viscosity_pa_s(&self) -> f64 {
        match self.fluid.properties {
            FluidProperties::Fixed => self.fluid.viscosity_pa_s,
            FluidProperties::WaterIf97 => crate::water::viscosity_pa_s(self.mean_design_temp_c()),
        }
    }

    fn mean_design_temp_c(&self) -> f64 {
        0.5 * (self.heat_network.return_temp_c + self.heat_network.supply_temp_c)
    }

    /// The distinct burial depths of the scene's pipes, m, ascending: the depths the weather
    /// gives ground temperatures at (each pipe reads the one at its depth).
    pub fn burial_depths_m(&self) -> Vec<f64> {
        let mut d: Vec<f64> = self
            .heat_network
            .pipes
            .iter()
            .map(|p| p.burial_depth_m)
            .filter(|d| d.is_finite())
            .collect();
        d.sort_by(f64::total_cmp);
        d.dedup_by(|a, b| a.to_bits() == b.to_bits());
        d
    }

    /// Positions of the heat network's nodes by id.
    pub fn node_positions(&self) -> std::collections::HashMap<&str, [f64; 2]> {
        self.heat_network
            .nodes
            .iter()
            .map(|n| (n.id.as_str(), n.pos))
            .collect()
    }

    /// A pipe's length: given, or the straight distance between its nodes (`None` if a node is
    /// unknown). `positions` is [`Scene::node_positions`].
    pub fn pipe_length_m(
        positions: &std::collections::HashMap<&str, [f64; 2]>,
        pipe: &Pipe,
    ) -> Option<f64> {
        if let Some(l) = pipe.length_m {
            return Some(l);
        }
        if pipe.route.len() >= 2 {
            return Some(
                pipe.route
                    .windows(2)
                    .map(|w| ((w[1][0] - w[0][0]).powi(2) + (w[1][1] - w[0][1]).powi(2)).sqrt())
                    .sum(),
            );
        }
        let a = positions.get(pipe.from.as_str())?;
        let b = positions.get(pipe.to.as_str())?;
        Some(((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt())
    }
}

#[cfg(test)]
mod bus_index_tests {
    use super::*;

    /// Every bus is found at its own index, and an id given twice at its first bus (what a search
    /// from the front returned before the map).
    #[test]
    fn bus_indices_find_each_bus_and_the_first_of_a_repeated_id() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/riverside.ron");
        let scene = load_scene(std::path::Path::new(path)).expect("riverside loads");
        let mut g = scene.grid.expect("riverside has a grid");
        assert!(g.buses.len() >= 2, "{} buses", g.buses.len());
        let m = g.bus_indices();
        for (i, b) in g.buses.iter().enumerate() {
            assert_eq!(m[b.id.as_str()], i as u32);
        }
        assert_eq!(m.len(), g.buses.len());
        let first = g.buses[1].clone();
        g.buses.push(first.clone());
        assert_eq!(g.bus_indices()[first.id.as_str()], 1);
    }
}

//! What-if edits as a saved scene holds them (its `edits` list): each edit with the values it
//! replaces and the values it sets. Applying, reverting and describing them is the what-if
//! module's; this module is only the file format.

use serde::{Deserialize, Serialize};

#[allow(unused_imports)]
use super::*;
use super::{DataLink, Node, Pipe, Plant, PvArray, QuantumSite};

/// The supply and return temperatures of the heat network.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NetworkTemps {
    /// Supply set-point at mild weather, °C.
    pub supply_temp_c: f64,
    /// Supply set-point at the design outdoor temperature (outdoor reset), °C.
    pub supply_temp_at_design_c: Option<f64>,
    /// Design return temperature of substations, °C.
    pub return_temp_c: f64,
}

/// A quantum site with everything that belongs to it, each with its index in its scene list
/// (ascending), so removing and re-inserting them restores the lists exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteBundle {
    pub site: (usize, QuantumSite),
    /// Its heat pump(s) and the circulation pump of its station.
    pub plants: Vec<(usize, Plant)>,
    /// Its service node, when it does not stand on the network.
    pub nodes: Vec<(usize, Node)>,
    /// Its service pipe.
    pub pipes: Vec<(usize, Pipe)>,
    /// The data links that reach it (`data_links.links`; empty when the scene lists none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<(usize, DataLink)>,
}

/// Where a new or moved site was connected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    /// The network node it taps.
    pub tap_node: String,
    /// The pipe nearest to the site (the tap is its nearer end).
    pub nearest_pipe: String,
    /// Length of the service pipe from the site to the tap node, m (0: the site stands on it).
    pub service_pipe_m: f64,
    /// Nominal size of the service pipe.
    pub service_dn: Option<u32>,
    /// The electrical bus it draws from, its distance (m) and the feeder that supplies that bus.
    pub bus: Option<String>,
    pub bus_distance_m: f64,
    pub feeder: Option<String>,
    pub feeder_capacity_w: Option<f64>,
    /// Set when the place asked for lay inside a building (or another site): the site was moved
    /// to the nearest free spot ([`free_spot`]). Absent (and not written) otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved: Option<Relocation>,
}

/// A site asked for inside a building and placed at the nearest free spot instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relocation {
    /// Where it was asked for, m.
    pub requested: [f64; 2],
    /// The building (or site) that stood there.
    pub inside: String,
}

/// One what-if edit with its old and new values. See the module doc.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Edit {
    /// A new micro quantum site with its heat pump, pump and service connection.
    AddSite {
        bundle: SiteBundle,
        connection: Connection,
    },
    /// A site moved (same id and size), reconnected at its new place.
    MoveSite {
        old: SiteBundle,
        new: SiteBundle,
        connection: Connection,
    },
    RemoveSite {
        bundle: SiteBundle,
    },
    /// A site's size and water (qubits, powers, recoverable share, water temperature, …); its
    /// place and connections stay.
    SetSite {
        old: QuantumSite,
        new: QuantumSite,
    },
    /// A plant's parameters (a heat pump's capacity or Carnot fraction, a boiler's size, …).
    SetPlant {
        old: Plant,
        new: Plant,
    },
    /// The insulation of a stretch of pipes: each pipe's id and old insulation, and the new one.
    SetPipeInsulation {
        pipes: Vec<(String, PipeInsulation)>,
        new: PipeInsulation,
    },
    SetNetworkTemps {
        old: NetworkTemps,
        new: NetworkTemps,
    },
    /// PV on a building's roof: added (`old` None), changed, or removed (`new` None); each with
    /// its position in the grid's PV list.
    SetPv {
        building: String,
        old: Option<(usize, PvArray)>,
        new: Option<(usize, PvArray)>,
    },
    /// The climate (a weather year, another noise seed).
    SetClimate {
        old: Climate,
        new: Climate,
    },
    /// The grid connection's hourly carbon intensity, g CO₂/kWh.
    SetCarbonIntensity {
        old: [f64; 24],
        new: [f64; 24],
    },
    /// The city's data links (schemes of the links between services and sites); `None` = the
    /// defaults.
    SetDataLinks {
        old: Option<super::DataLinks>,
        new: Option<super::DataLinks>,
    },
    /// Several edits as one (applied in order, reverted in reverse order).
    Batch {
        name: String,
        edits: Vec<Edit>,
    },
}

/// An edit as stored in a saved scene: what it does in words (written for the reader; ignored
/// when loading) and the edit itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditRecord {
    pub description: String,
    pub edit: Edit,
}

//! What-if planning: edits of a scene as commands with their old and new values, an undo/redo
//! stack, edits applied to a running world, and the runs that compare variants.
//!
//! # The edit model
//! An [`Edit`] changes one thing of a [`Scene`] and carries both the value it replaces and the
//! value it sets, so [`Edit::apply`] and [`Edit::revert`] are exact inverses: reverting every edit
//! of a stack in reverse order gives back the base scene bit for bit (and byte for byte through
//! [`crate::scene::to_ron`]). `apply` checks that the scene holds the old value first and refuses
//! otherwise ([`EditError`]), so an edit never lands on a scene it was not made for.
//!
//! Structural edits hold whole entries with their list positions ([`SiteBundle`]): a micro quantum
//! site with its heat pump, its circulation pump and, when it does not stand on the network, its
//! service node and pipe (`<site>_n`, `<site>_p`). A new or moved site connects to the nearest
//! pipe of the heat network (the nearer end of it, by a service pipe sized for the heat pump by
//! the crate's DN rule, [`crate::hydraulics::sizing::smallest_dn_for`]: ≤ 1.5 m/s, at least
//! DN32) and to the nearest electrical bus, and says so ([`Connection`]).
//!
//! An [`EditStack`] holds the edits done and undone. [`EditStack::save_scene`] writes the edited
//! scene with its edits in the scene's `edits` list; [`EditStack::from_saved`] reads them back,
//! checks that undoing them and redoing them reproduces the file, and gives the stack again.
//!
//! # Edits on a running world
//! [`apply_live`] applies an edit to a world built by [`crate::sim::spawn_scene`]. Parameters the
//! tick reads from resources (temperatures, insulation, carbon intensity, PV, weather, site and
//! heat-pump sizes) change in place and take effect from the next tick. Edits that change the
//! topology (a site added, moved or removed) rebuild the world from the edited scene while keeping
//! the clock, the KPI ledger and the job log ([`LiveOutcome::Rebuilt`]); the network's water then
//! starts again from the design temperatures. Either way the ledger's totals since the start mix
//! before and after the edit: [`LiveEdits::mixed_since`] says so.
//!
//! # Comparing and sweeping
//! [`param`] parses the parameter paths shared by `qtwin edit`, `qtwin sweep` and the view
//! (`network.supply_temp_c=65`, `pipes.*.insulation=Series3`, …). [`runs`] runs scenes headless
//! for `compare`, `sweep` and `suggest`; [`siting`] scores places for a new site.
//!
//! Units: SI as in [`crate::scene`] (W, °C, m, g CO₂/kWh).

pub mod param;
pub mod runs;
pub mod siting;

use bevy::prelude::*;
use serde::{Deserialize, Serialize};

use crate::scene::{
    Climate, HeatNetwork, Node, Pipe, PipeInsulation, PipeSize, Plant, PvArray, QuantumSite, Scene,
};

/// An edit could not be applied or reverted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct EditError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, EditError> {
    Err(EditError(msg.into()))
}

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

impl NetworkTemps {
    pub fn of(net: &HeatNetwork) -> Self {
        Self {
            supply_temp_c: net.supply_temp_c,
            supply_temp_at_design_c: net.supply_temp_at_design_c,
            return_temp_c: net.return_temp_c,
        }
    }
    fn set(&self, net: &mut HeatNetwork) {
        net.supply_temp_c = self.supply_temp_c;
        net.supply_temp_at_design_c = self.supply_temp_at_design_c;
        net.return_temp_c = self.return_temp_c;
    }
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
}

fn insert_all<T: Clone>(list: &mut Vec<T>, items: &[(usize, T)]) -> Result<(), EditError> {
    for (i, x) in items {
        if *i > list.len() {
            return err(format!(
                "position {i} is beyond the list's {} entries",
                list.len()
            ));
        }
        list.insert(*i, x.clone());
    }
    Ok(())
}

fn remove_all<T: Clone + PartialEq>(
    list: &mut Vec<T>,
    items: &[(usize, T)],
) -> Result<(), EditError> {
    // Check first, so a refused edit leaves the scene untouched.
    let mut shadow: Vec<usize> = (0..list.len()).collect();
    for (i, x) in items.iter().rev() {
        if *i >= shadow.len() || list[shadow[*i]] != *x {
            return err("the scene does not hold the entry this edit removes");
        }
        shadow.remove(*i);
    }
    for (i, _) in items.iter().rev() {
        list.remove(*i);
    }
    Ok(())
}

impl SiteBundle {
    pub fn id(&self) -> &str {
        &self.site.1.id
    }
    fn insert(&self, scene: &mut Scene) -> Result<(), EditError> {
        if scene.quantum_sites.iter().any(|s| s.id == self.site.1.id) {
            return err(format!(
                "a quantum site \"{}\" exists already",
                self.site.1.id
            ));
        }
        insert_all(&mut scene.heat_network.nodes, &self.nodes)?;
        insert_all(&mut scene.heat_network.pipes, &self.pipes)?;
        insert_all(&mut scene.quantum_sites, std::slice::from_ref(&self.site))?;
        insert_all(&mut scene.plants, &self.plants)
    }
    fn remove(&self, scene: &mut Scene) -> Result<(), EditError> {
        let mut s = scene.clone();
        remove_all(&mut s.plants, &self.plants)?;
        remove_all(&mut s.quantum_sites, std::slice::from_ref(&self.site))?;
        remove_all(&mut s.heat_network.pipes, &self.pipes)?;
        remove_all(&mut s.heat_network.nodes, &self.nodes)?;
        *scene = s;
        Ok(())
    }
    /// The bundle of an existing site in `scene`.
    pub fn of(scene: &Scene, id: &str) -> Result<Self, EditError> {
        let Some(si) = scene.quantum_sites.iter().position(|s| s.id == id) else {
            return err(format!("no quantum site \"{id}\""));
        };
        let site = scene.quantum_sites[si].clone();
        let mut plants: Vec<(usize, Plant)> = Vec::new();
        let mut hp_nodes: Vec<String> = Vec::new();
        for (i, p) in scene.plants.iter().enumerate() {
            if let Plant::HeatPump { site: s, node, .. } = p
                && s == id
            {
                plants.push((i, p.clone()));
                hp_nodes.push(node.clone());
            }
        }
        // The circulation pump goes with the station when no other heat source stays there.
        for node in &hp_nodes {
            let other_source = scene.plants.iter().any(|p| {
                p.node() == node
                    && p.is_heat_source()
                    && !matches!(p, Plant::HeatPump { site: s, .. } if s == id)
            });
            if !other_source {
                for (i, p) in scene.plants.iter().enumerate() {
                    if matches!(p, Plant::CirculationPump { node: n, .. } if n == node)
                        && !plants.iter().any(|(j, _)| *j == i)
                    {
                        plants.push((i, p.clone()));
                    }
                }
            }
        }
        plants.sort_by_key(|(i, _)| *i);
        let net = &scene.heat_network;
        let (sn, sp) = (format!("{id}_n"), format!("{id}_p"));
        let nodes = net
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.id == sn)
            .map(|(i, n)| (i, n.clone()))
            .collect();
        let pipes = net
            .pipes
            .iter()
            .enumerate()
            .filter(|(_, p)| p.id == sp)
            .map(|(i, p)| (i, p.clone()))
            .collect();
        Ok(SiteBundle {
            site: (si, site),
            plants,
            nodes,
            pipes,
        })
    }
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

impl Connection {
    /// ` (asked for at (x, y) m, inside building b: moved d m to the nearest free spot)`, or
    /// nothing when the site stands where it was asked for.
    pub fn moved_note(&self, placed: [f64; 2]) -> String {
        match &self.moved {
            Some(m) => format!(
                " (asked for at ({:.0}, {:.0}) m, which is inside {}: moved {:.0} m to the nearest free spot)",
                m.requested[0],
                m.requested[1],
                m.inside,
                dist(m.requested, placed)
            ),
            None => String::new(),
        }
    }

    pub fn describe(&self) -> String {
        let heat = if self.service_pipe_m > 0.0 {
            format!(
                "a {:.0} m DN{} service pipe to node {} (nearest pipe {})",
                self.service_pipe_m,
                self.service_dn.unwrap_or(0),
                self.tap_node,
                self.nearest_pipe
            )
        } else {
            format!("node {} (on pipe {})", self.tap_node, self.nearest_pipe)
        };
        let power = match &self.bus {
            Some(b) => format!(
                "bus {b} ({:.0} m){}",
                self.bus_distance_m,
                match (&self.feeder, self.feeder_capacity_w) {
                    (Some(f), Some(c)) => format!(" fed by {f} ({:.1} MW)", c / 1e6),
                    _ => " (the grid connection's bus)".to_string(),
                }
            ),
            None => "no electrical bus (the scene has no grid)".to_string(),
        };
        format!("heat via {heat}; power from {power}")
    }
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

impl From<Edit> for EditRecord {
    fn from(edit: Edit) -> Self {
        Self {
            description: edit.describe(),
            edit,
        }
    }
}

fn site_index(scene: &Scene, id: &str) -> Result<usize, EditError> {
    scene
        .quantum_sites
        .iter()
        .position(|s| s.id == id)
        .ok_or_else(|| EditError(format!("no quantum site \"{id}\"")))
}

fn plant_index(scene: &Scene, id: &str) -> Result<usize, EditError> {
    scene
        .plants
        .iter()
        .position(|p| p.id() == id)
        .ok_or_else(|| EditError(format!("no plant \"{id}\"")))
}

/// Field-by-field differences of two values of one serialisable type, as `name a → b`.
fn field_changes<T: Serialize>(old: &T, new: &T) -> String {
    let (a, b) = (
        serde_json::to_value(old).unwrap_or_default(),
        serde_json::to_value(new).unwrap_or_default(),
    );
    // Enum struct variants serialise as {"Variant": {...}}.
    let unwrap = |v: serde_json::Value| match v {
        serde_json::Value::Object(m) if m.len() == 1 && m.values().all(|x| x.is_object()) => {
            m.into_iter().next().map(|(_, x)| x).unwrap_or_default()
        }
        v => v,
    };
    let (a, b) = (unwrap(a), unwrap(b));
    match (a, b) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            let parts: Vec<String> = a
                .iter()
                .filter(|(k, v)| b.get(*k) != Some(v))
                .map(|(k, v)| format!("{k} {v} → {}", b.get(k).cloned().unwrap_or_default()))
                .collect();
            if parts.is_empty() {
                "no change".into()
            } else {
                parts.join(", ")
            }
        }
        (a, b) => format!("{a} → {b}"),
    }
}

fn insulation_name(i: &PipeInsulation) -> String {
    match i {
        PipeInsulation::Series(s) => format!("EN 253 series {s}"),
        PipeInsulation::LinearWmK(u) => format!("{u} W/(m·K)"),
        PipeInsulation::SurfaceWm2K(u) => format!("{u} W/(m²·K) of inner surface"),
    }
}

fn climate_name(c: &Climate) -> String {
    match c {
        Climate::Fixed(f) => format!("fixed {} °C", f.outdoor_temp_c),
        Climate::Monthly(m) => match m.year {
            None => "the climate as given".into(),
            Some(y) => format!(
                "a {} year ({:+} K, weather seed {})",
                y.kind.name(),
                y.kind.temp_offset_k(),
                y.seed
            ),
        },
    }
}

impl Edit {
    /// What the edit does, in words.
    pub fn describe(&self) -> String {
        match self {
            Edit::AddSite { bundle, connection } => {
                let s = &bundle.site.1;
                format!(
                    "add quantum site {} at ({:.0}, {:.0}) m{}: {} qubits; {}",
                    s.id,
                    s.pos[0],
                    s.pos[1],
                    connection.moved_note(s.pos),
                    s.qubits,
                    connection.describe()
                )
            }
            Edit::MoveSite {
                old,
                new,
                connection,
            } => format!(
                "move quantum site {} from ({:.0}, {:.0}) to ({:.0}, {:.0}) m{}; {}",
                new.id(),
                old.site.1.pos[0],
                old.site.1.pos[1],
                new.site.1.pos[0],
                new.site.1.pos[1],
                connection.moved_note(new.site.1.pos),
                connection.describe()
            ),
            Edit::RemoveSite { bundle } => format!(
                "remove quantum site {} (with {} plant(s){})",
                bundle.id(),
                bundle.plants.len(),
                if bundle.pipes.is_empty() {
                    ""
                } else {
                    " and its service pipe"
                }
            ),
            Edit::SetSite { old, new } => {
                format!("quantum site {}: {}", new.id, field_changes(old, new))
            }
            Edit::SetPlant { old, new } => {
                format!("plant {}: {}", new.id(), field_changes(old, new))
            }
            Edit::SetPipeInsulation { pipes, new } => {
                let ids: Vec<&str> = pipes.iter().map(|p| p.0.as_str()).collect();
                let shown = if ids.len() > 6 {
                    format!(
                        "{} … {} ({} pipes)",
                        ids[..3].join(", "),
                        ids[ids.len() - 1],
                        ids.len()
                    )
                } else {
                    ids.join(", ")
                };
                format!("insulation of {shown} → {}", insulation_name(new))
            }
            Edit::SetNetworkTemps { old, new } => {
                format!("network temperatures: {}", field_changes(old, new))
            }
            Edit::SetPv { building, old, new } => match (old, new) {
                (None, Some((_, p))) => format!(
                    "add {:.1} kWp PV on building {building} (bus {})",
                    p.peak_w / 1e3,
                    p.bus
                ),
                (Some((_, p)), None) => {
                    format!(
                        "remove the {:.1} kWp PV of building {building}",
                        p.peak_w / 1e3
                    )
                }
                (Some((_, a)), Some((_, b))) => {
                    format!("PV of building {building}: {}", field_changes(a, b))
                }
                (None, None) => format!("no PV change on {building}"),
            },
            Edit::SetClimate { old, new } => {
                format!("weather: {} → {}", climate_name(old), climate_name(new))
            }
            Edit::SetCarbonIntensity { old, new } => {
                let mean = |a: &[f64; 24]| a.iter().sum::<f64>() / 24.0;
                format!(
                    "grid carbon intensity: mean {:.0} → {:.0} g/kWh",
                    mean(old),
                    mean(new)
                )
            }
            Edit::Batch { name, edits } => format!("{name} ({} edits)", edits.len()),
        }
    }

    /// Applies the edit to `scene`; refuses (leaving it untouched) when the scene does not hold
    /// the edit's old value.
    pub fn apply(&self, scene: &mut Scene) -> Result<(), EditError> {
        self.exchange(scene, true)
    }

    /// Undoes the edit on `scene` (which must hold its new value).
    pub fn revert(&self, scene: &mut Scene) -> Result<(), EditError> {
        self.exchange(scene, false)
    }

    fn exchange(&self, scene: &mut Scene, forward: bool) -> Result<(), EditError> {
        match self {
            Edit::AddSite { bundle, .. } => {
                if forward {
                    bundle.insert(scene)
                } else {
                    bundle.remove(scene)
                }
            }
            Edit::RemoveSite { bundle } => {
                if forward {
                    bundle.remove(scene)
                } else {
                    bundle.insert(scene)
                }
            }
            Edit::MoveSite { old, new, .. } => {
                let (from, to) = if forward { (old, new) } else { (new, old) };
                let mut s = scene.clone();
                from.remove(&mut s)?;
                to.insert(&mut s)?;
                *scene = s;
                Ok(())
            }
            Edit::SetSite { old, new } => {
                let (from, to) = if forward { (old, new) } else { (new, old) };
                let i = site_index(scene, &from.id)?;
                if scene.quantum_sites[i] != *from || from.id != to.id {
                    return err(format!(
                        "quantum site {} is not as this edit expects",
                        from.id
                    ));
                }
                scene.quantum_sites[i] = to.clone();
                Ok(())
            }
            Edit::SetPlant { old, new } => {
                let (from, to) = if forward { (old, new) } else { (new, old) };
                let i = plant_index(scene, from.id())?;
                if scene.plants[i] != *from || from.id() != to.id() {
                    return err(format!("plant {} is not as this edit expects", from.id()));
                }
                scene.plants[i] = to.clone();
                Ok(())
            }
            Edit::SetPipeInsulation { pipes, new } => {
                let pipes_list = &scene.heat_network.pipes;
                let mut idx = Vec::with_capacity(pipes.len());
                for (id, old) in pipes {
                    let Some(k) = pipes_list.iter().position(|p| &p.id == id) else {
                        return err(format!("no pipe \"{id}\""));
                    };
                    let expect = if forward { old } else { new };
                    if pipes_list[k].insulation != *expect {
                        return err(format!(
                            "pipe {id}'s insulation is not as this edit expects"
                        ));
                    }
                    idx.push(k);
                }
                for ((_, old), k) in pipes.iter().zip(idx) {
                    scene.heat_network.pipes[k].insulation = if forward { *new } else { *old };
                }
                Ok(())
            }
            Edit::SetNetworkTemps { old, new } => {
                let (from, to) = if forward { (old, new) } else { (new, old) };
                if NetworkTemps::of(&scene.heat_network) != *from {
                    return err("the network temperatures are not as this edit expects");
                }
                to.set(&mut scene.heat_network);
                Ok(())
            }
            Edit::SetPv { old, new, .. } => {
                let (from, to) = if forward { (old, new) } else { (new, old) };
                let Some(g) = scene.grid.as_mut() else {
                    return err("the scene has no grid");
                };
                let mut pv = g.pv.clone();
                if let Some(f) = from {
                    remove_all(&mut pv, std::slice::from_ref(f))?;
                }
                if let Some(t) = to {
                    insert_all(&mut pv, std::slice::from_ref(t))?;
                }
                g.pv = pv;
                Ok(())
            }
            Edit::SetClimate { old, new } => {
                let (from, to) = if forward { (old, new) } else { (new, old) };
                if scene.climate != *from {
                    return err("the climate is not as this edit expects");
                }
                scene.climate = to.clone();
                Ok(())
            }
            Edit::SetCarbonIntensity { old, new } => {
                let (from, to) = if forward { (old, new) } else { (new, old) };
                let Some(g) = scene.grid.as_mut() else {
                    return err("the scene has no grid");
                };
                if g.connection.carbon_intensity_g_kwh != *from {
                    return err("the carbon intensity is not as this edit expects");
                }
                g.connection.carbon_intensity_g_kwh = *to;
                Ok(())
            }
            Edit::Batch { edits, .. } => {
                let mut s = scene.clone();
                if forward {
                    for e in edits {
                        e.apply(&mut s)?;
                    }
                } else {
                    for e in edits.iter().rev() {
                        e.revert(&mut s)?;
                    }
                }
                *scene = s;
                Ok(())
            }
        }
    }

    /// Whether applying the edit to a running world needs the world rebuilt (the topology of the
    /// heat network, the list of sites or of stations changes).
    pub fn needs_rebuild(&self) -> bool {
        match self {
            Edit::AddSite { .. } | Edit::MoveSite { .. } | Edit::RemoveSite { .. } => true,
            Edit::SetPlant { new, .. } => {
                !matches!(new, Plant::HeatPump { .. } | Plant::GasBoiler { .. })
            }
            Edit::SetPv { old, new, .. } => old.is_some() && new.is_none(),
            Edit::Batch { edits, .. } => edits.iter().any(Edit::needs_rebuild),
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Building edits

/// Size and make of a new site: the site's parameters (its id and place are set when placed) and
/// its heat pump's Carnot fraction; the heat pump's capacity is sized from the site.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteTemplate {
    pub site: QuantumSite,
    pub carnot_fraction: f64,
    pub pump_efficiency: f64,
    pub pump_max_head_pa: f64,
}

impl SiteTemplate {
    /// The scene's first site and its heat pump, or a 200-qubit site of typical numbers.
    pub fn from_scene(scene: &Scene) -> Self {
        let site = scene.quantum_sites.first().cloned().unwrap_or(QuantumSite {
            id: String::new(),
            pos: [0.0, 0.0],
            qubits: 200,
            compressor_power_w: 36_000.0,
            electronics_w_per_qubit: 60.0,
            servers_power_w: 300_000.0,
            idle_share: 0.4,
            recoverable_heat_share: 0.8,
            recovered_water_temp_c: 35.0,
            utilisation: 0.6,
            node: None,
            bus: None,
            footprint: Vec::new(),
        });
        let carnot_fraction = scene
            .plants
            .iter()
            .find_map(|p| match p {
                Plant::HeatPump {
                    site: s,
                    carnot_fraction,
                    ..
                } if *s == site.id => Some(*carnot_fraction),
                _ => None,
            })
            .unwrap_or(0.5);
        Self {
            site,
            carnot_fraction,
            pump_efficiency: 0.6,
            pump_max_head_pa: 5.0e5,
        }
    }
}

fn dist(a: [f64; 2], b: [f64; 2]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// Distance from `p` to segment `a`–`b` and the parameter (0–1) of the nearest point.
pub fn segment_distance(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> (f64, f64) {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let l2 = dx * dx + dy * dy;
    let t = if l2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (dist(p, [a[0] + t * dx, a[1] + t * dy]), t)
}

/// The nearest pipe to `pos` (index, distance m, nearer end's node index), skipping service
/// pipes of `skip_site`.
pub fn nearest_pipe(
    scene: &Scene,
    pos: [f64; 2],
    skip_site: Option<&str>,
) -> Option<(usize, f64, usize)> {
    let net = &scene.heat_network;
    let idx: std::collections::HashMap<&str, usize> = net
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let skip = skip_site.map(|s| format!("{s}_p"));
    let mut best: Option<(usize, f64, usize)> = None;
    for (k, p) in net.pipes.iter().enumerate() {
        if skip.as_deref() == Some(p.id.as_str()) {
            continue;
        }
        let (Some(&a), Some(&b)) = (idx.get(p.from.as_str()), idx.get(p.to.as_str())) else {
            continue;
        };
        let (d, t) = segment_distance(pos, net.nodes[a].pos, net.nodes[b].pos);
        if best.is_none_or(|x| d < x.1) {
            best = Some((k, d, if t <= 0.5 { a } else { b }));
        }
    }
    best
}

/// Nearest bus to `pos`: (index, distance m).
pub fn nearest_bus(scene: &Scene, pos: [f64; 2]) -> Option<(usize, f64)> {
    let g = scene.grid.as_ref()?;
    g.buses
        .iter()
        .enumerate()
        .map(|(i, b)| (i, dist(pos, b.pos)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// The feeder that supplies `bus` from the grid connection (radial), if any.
pub fn feeder_of_bus(scene: &Scene, bus: &str) -> Option<usize> {
    let g = scene.grid.as_ref()?;
    let gs = crate::grid::GridState::from_scene(scene);
    let b = g.buses.iter().position(|x| x.id == bus)?;
    let f = gs.parent_feeder.get(b).copied()?;
    (f != u32::MAX).then_some(f as usize)
}

/// Largest power a site of `template`'s size draws, W.
pub fn site_peak_power_w(s: &QuantumSite) -> f64 {
    s.compressor_power_w + s.qubits as f64 * s.electronics_w_per_qubit + s.servers_power_w
}

/// Plans a new site `id` at `pos` of `template`'s size in `scene` (which is not changed): the site
/// with its service node and pipe to the nearest pipe's nearer end, a heat pump sized for its
/// largest recoverable heat at the design supply temperature, a circulation pump, and the nearest
/// bus. The bundle's positions are the ends of the scene's lists.
pub fn plan_site(
    scene: &Scene,
    id: &str,
    pos: [f64; 2],
    template: &SiteTemplate,
) -> Result<(SiteBundle, Connection), EditError> {
    if id.is_empty() || scene.quantum_sites.iter().any(|s| s.id == id) {
        return err(format!("\"{id}\" is not a new quantum site id"));
    }
    if !(pos[0].is_finite() && pos[1].is_finite()) {
        return err(format!(
            "position ({}, {}) is not a finite point",
            pos[0], pos[1]
        ));
    }
    let requested = pos;
    let (pos, inside) = free_spot(scene, pos, &template.site)?;
    let net = &scene.heat_network;
    let Some((pk, _, tap)) = nearest_pipe(scene, pos, Some(id)) else {
        return err("the scene has no heat network pipe to connect to");
    };
    let tap_node = &net.nodes[tap];
    let service_m = dist(pos, tap_node.pos);
    let mut site = template.site.clone();
    site.id = id.to_string();
    // The footprint moves with the site.
    let (ox, oy) = (pos[0] - site.pos[0], pos[1] - site.pos[1]);
    site.footprint.iter_mut().for_each(|p| {
        p[0] += ox;
        p[1] += oy;
    });
    site.pos = pos;
    // Heat pump: the site's largest recoverable heat lifted to the design supply temperature.
    let t_design = net.supply_temp_at_design_c.unwrap_or(net.supply_temp_c);
    let cop = crate::plants::heat_pump_cop(
        template.carnot_fraction,
        site.recovered_water_temp_c,
        t_design,
    );
    let q_src = site_peak_power_w(&site) * site.recoverable_heat_share;
    let capacity_w = (q_src * cop / (cop - 1.0) / 1e4).ceil() * 1e4;
    let mut nodes = Vec::new();
    let mut pipes = Vec::new();
    let (node_id, dn) = if service_m > 1.0 {
        let nid = format!("{id}_n");
        let pid = format!("{id}_p");
        if net.nodes.iter().any(|n| n.id == nid) || net.pipes.iter().any(|p| p.id == pid) {
            return err(format!("node {nid} or pipe {pid} exists already"));
        }
        // DN for the heat pump's flow at the design spread: the crate's sizing rule (≤ 1.5 m/s,
        // at least DN32).
        let dt_k = (t_design - net.return_temp_c).max(10.0);
        let m = capacity_w / (scene.fluid.cp_j_kg_k * dt_k);
        let dn = crate::hydraulics::sizing::smallest_dn_for(m, scene.fluid.density_kg_m3);
        nodes.push((
            net.nodes.len(),
            Node {
                id: nid.clone(),
                pos,
                elevation_m: tap_node.elevation_m,
            },
        ));
        pipes.push((
            net.pipes.len(),
            Pipe {
                id: pid,
                from: tap_node.id.clone(),
                to: nid.clone(),
                length_m: None,
                size: PipeSize::Dn(dn),
                insulation: PipeInsulation::Series(2),
                roughness_m: 4.5e-5,
                burial_depth_m: 0.8,
                route: Vec::new(),
            },
        ));
        (nid, Some(dn))
    } else {
        (tap_node.id.clone(), None)
    };
    site.node = Some(node_id.clone());
    let (bus, bus_distance_m, feeder, feeder_capacity_w) = match nearest_bus(scene, pos) {
        Some((b, d)) => {
            let g = scene.grid.as_ref().expect("a bus implies a grid");
            let bid = g.buses[b].id.clone();
            let f = feeder_of_bus(scene, &bid);
            (
                Some(bid),
                d,
                f.map(|f| g.feeders[f].id.clone()),
                f.map(|f| g.feeders[f].capacity_w),
            )
        }
        None => (None, 0.0, None, None),
    };
    site.bus = bus.clone();
    let mut plants = Vec::new();
    let hp_id = unique_plant_id(scene, &format!("hp_{id}"));
    let pump_id = unique_plant_id(scene, &format!("pump_{id}"));
    let n0 = scene.plants.len();
    plants.push((
        n0,
        Plant::HeatPump {
            id: hp_id,
            node: node_id.clone(),
            site: id.to_string(),
            capacity_w,
            carnot_fraction: template.carnot_fraction,
        },
    ));
    let has_pump = scene
        .plants
        .iter()
        .any(|p| matches!(p, Plant::CirculationPump { node, .. } if *node == node_id));
    if !has_pump {
        plants.push((
            n0 + 1,
            Plant::CirculationPump {
                id: pump_id,
                node: node_id.clone(),
                efficiency: template.pump_efficiency,
                max_head_pa: template.pump_max_head_pa,
            },
        ));
    }
    let bundle = SiteBundle {
        site: (scene.quantum_sites.len(), site),
        plants,
        nodes,
        pipes,
    };
    let connection = Connection {
        tap_node: tap_node.id.clone(),
        nearest_pipe: net.pipes[pk].id.clone(),
        service_pipe_m: if service_m > 1.0 { service_m } else { 0.0 },
        service_dn: dn,
        bus,
        bus_distance_m,
        feeder,
        feeder_capacity_w,
        moved: inside.map(|inside| Relocation { requested, inside }),
    };
    Ok((bundle, connection))
}

/// Farthest a site is moved from where it was asked for, m.
pub const MAX_RELOCATION_M: f64 = 2000.0;

/// Where a site shaped like `site` (its footprint moves with it) can stand nearest to `pos`:
/// `pos` itself when the site's position and footprint are clear of every building and every
/// other site; otherwise the first clear point on rings around `pos` every 5 m (72+ directions a
/// ring, from east counter-clockwise) up to [`MAX_RELOCATION_M`], with the name of what stood at
/// `pos`. An error when nothing within that distance is clear.
pub fn free_spot(
    scene: &Scene,
    pos: [f64; 2],
    site: &QuantumSite,
) -> Result<([f64; 2], Option<String>), EditError> {
    let obstacles: Vec<(String, &[[f64; 2]], [f64; 4])> = scene
        .buildings
        .iter()
        .map(|b| (format!("building {}", b.id), b.footprint.as_slice()))
        .chain(
            scene
                .quantum_sites
                .iter()
                .filter(|q| q.id != site.id)
                .map(|q| (format!("site {}", q.id), q.footprint.as_slice())),
        )
        .filter(|(_, f)| f.len() >= 3)
        .map(|(n, f)| {
            let b = bbox(f);
            (n, f, b)
        })
        .collect();
    let shape = |p: [f64; 2]| -> Vec<[f64; 2]> {
        site.footprint
            .iter()
            .map(|c| [c[0] - site.pos[0] + p[0], c[1] - site.pos[1] + p[1]])
            .collect()
    };
    let blocker = |p: [f64; 2]| -> Option<&str> {
        let f = shape(p);
        let fb = if f.len() >= 3 {
            bbox(&f)
        } else {
            [p[0], p[1], p[0], p[1]]
        };
        let near = |b: &[f64; 4]| fb[0] <= b[2] && b[0] <= fb[2] && fb[1] <= b[3] && b[1] <= fb[3];
        // What stands at the point itself first, then what the footprint overlaps.
        obstacles
            .iter()
            .find(|(_, poly, b)| near(b) && siting::point_in_polygon(p, poly))
            .or_else(|| {
                obstacles
                    .iter()
                    .find(|(_, poly, b)| near(b) && f.len() >= 3 && polygons_overlap(&f, poly))
            })
            .map(|(name, _, _)| name.as_str())
    };
    let Some(what) = blocker(pos) else {
        return Ok((pos, None));
    };
    let step = 5.0;
    let mut r = step;
    while r <= MAX_RELOCATION_M {
        let n = ((2.0 * std::f64::consts::PI * r / step).ceil() as usize).max(72);
        for k in 0..n {
            let a = 2.0 * std::f64::consts::PI * k as f64 / n as f64;
            let (sa, ca) = crate::math::Det::sin_cos_d(a);
            let p = [pos[0] + r * ca, pos[1] + r * sa];
            if blocker(p).is_none() {
                return Ok((p, Some(what.to_string())));
            }
        }
        r += step;
    }
    err(format!(
        "({:.0}, {:.0}) m is inside {what} and no free spot lies within {MAX_RELOCATION_M:.0} m",
        pos[0], pos[1]
    ))
}

/// `[min x, min y, max x, max y]` of a polygon.
fn bbox(poly: &[[f64; 2]]) -> [f64; 4] {
    poly.iter().fold(
        [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
        |b, p| {
            [
                b[0].min(p[0]),
                b[1].min(p[1]),
                b[2].max(p[0]),
                b[3].max(p[1]),
            ]
        },
    )
}

/// Whether two simple polygons overlap: a corner of one inside the other, or two edges crossing.
fn polygons_overlap(a: &[[f64; 2]], b: &[[f64; 2]]) -> bool {
    if a.iter().any(|p| siting::point_in_polygon(*p, b))
        || b.iter().any(|p| siting::point_in_polygon(*p, a))
    {
        return true;
    }
    let cross = |o: [f64; 2], p: [f64; 2], q: [f64; 2]| {
        (p[0] - o[0]) * (q[1] - o[1]) - (p[1] - o[1]) * (q[0] - o[0])
    };
    let edges = |poly: &[[f64; 2]]| -> Vec<([f64; 2], [f64; 2])> {
        (0..poly.len())
            .map(|i| (poly[i], poly[(i + 1) % poly.len()]))
            .collect()
    };
    let eb = edges(b);
    edges(a).iter().any(|&(p, q)| {
        eb.iter().any(|&(r, s)| {
            let (d1, d2) = (cross(p, q, r), cross(p, q, s));
            let (d3, d4) = (cross(r, s, p), cross(r, s, q));
            d1 * d2 < 0.0 && d3 * d4 < 0.0
        })
    })
}

fn unique_plant_id(scene: &Scene, base: &str) -> String {
    let mut id = base.to_string();
    let mut k = 2;
    while scene.plants.iter().any(|p| p.id() == id) {
        id = format!("{base}_{k}");
        k += 1;
    }
    id
}

/// Edit: a new site `id` at `pos` of `template`'s size.
pub fn add_site(
    scene: &Scene,
    id: &str,
    pos: [f64; 2],
    template: &SiteTemplate,
) -> Result<Edit, EditError> {
    let (bundle, connection) = plan_site(scene, id, pos, template)?;
    Ok(Edit::AddSite { bundle, connection })
}

/// Edit: remove site `id` with its heat pump, its station's pump and its service pipe.
pub fn remove_site(scene: &Scene, id: &str) -> Result<Edit, EditError> {
    Ok(Edit::RemoveSite {
        bundle: SiteBundle::of(scene, id)?,
    })
}

/// Edit: move site `id` to `pos` (same size, same heat pump), reconnected there.
pub fn move_site(scene: &Scene, id: &str, pos: [f64; 2]) -> Result<Edit, EditError> {
    let old = SiteBundle::of(scene, id)?;
    let mut without = scene.clone();
    old.remove(&mut without)?;
    let hp = old.plants.iter().find_map(|(_, p)| match p {
        Plant::HeatPump {
            carnot_fraction, ..
        } => Some(*carnot_fraction),
        _ => None,
    });
    let pump = old.plants.iter().find_map(|(_, p)| match p {
        Plant::CirculationPump {
            efficiency,
            max_head_pa,
            ..
        } => Some((*efficiency, *max_head_pa)),
        _ => None,
    });
    let template = SiteTemplate {
        site: old.site.1.clone(),
        carnot_fraction: hp.unwrap_or(0.5),
        pump_efficiency: pump.map_or(0.6, |p| p.0),
        pump_max_head_pa: pump.map_or(5.0e5, |p| p.1),
    };
    let (mut new, connection) = plan_site(&without, id, pos, &template)?;
    // Same place in the site list (job routing and calibration streams follow the index), and
    // the heat pump keeps its id and capacity.
    new.site.0 = old.site.0;
    for (_, p) in &mut new.plants {
        if let (
            Plant::HeatPump {
                id: nid,
                capacity_w: nc,
                ..
            },
            Some((
                _,
                Plant::HeatPump {
                    id: oid,
                    capacity_w: oc,
                    ..
                },
            )),
        ) = (
            &mut *p,
            old.plants
                .iter()
                .find(|(_, q)| matches!(q, Plant::HeatPump { .. })),
        ) {
            *nid = oid.clone();
            *nc = *oc;
        }
    }
    Ok(Edit::MoveSite {
        old,
        new,
        connection,
    })
}

/// Edit: set site `id`'s parameters with `f` (its id, place and connections are kept).
pub fn set_site(
    scene: &Scene,
    id: &str,
    f: impl FnOnce(&mut QuantumSite),
) -> Result<Edit, EditError> {
    let old = scene.quantum_sites[site_index(scene, id)?].clone();
    let mut new = old.clone();
    f(&mut new);
    new.id = old.id.clone();
    new.pos = old.pos;
    new.node = old.node.clone();
    new.bus = old.bus.clone();
    Ok(Edit::SetSite { old, new })
}

/// Edit: set plant `id`'s parameters with `f` (its id, node and site are kept).
pub fn set_plant(scene: &Scene, id: &str, f: impl FnOnce(&mut Plant)) -> Result<Edit, EditError> {
    let old = scene.plants[plant_index(scene, id)?].clone();
    let mut new = old.clone();
    f(&mut new);
    if std::mem::discriminant(&old) != std::mem::discriminant(&new)
        || old.id() != new.id()
        || old.node() != new.node()
    {
        return err(format!("plant {id}: only its parameters may change"));
    }
    Ok(Edit::SetPlant { old, new })
}

/// The heat pump(s) of site `id`.
pub fn heat_pumps_of_site<'a>(scene: &'a Scene, id: &str) -> Vec<&'a Plant> {
    scene
        .plants
        .iter()
        .filter(|p| matches!(p, Plant::HeatPump { site, .. } if site == id))
        .collect()
}

/// Edit: insulation `new` on the given pipes.
pub fn set_pipe_insulation(
    scene: &Scene,
    pipe_ids: &[String],
    new: PipeInsulation,
) -> Result<Edit, EditError> {
    let mut pipes = Vec::new();
    for id in pipe_ids {
        let Some(p) = scene.heat_network.pipes.iter().find(|p| &p.id == id) else {
            return err(format!("no pipe \"{id}\""));
        };
        pipes.push((id.clone(), p.insulation));
    }
    Ok(Edit::SetPipeInsulation { pipes, new })
}

/// The pipes along the shortest route (by length) between two nodes: a "stretch" to select.
pub fn pipes_between(scene: &Scene, from: &str, to: &str) -> Result<Vec<String>, EditError> {
    let net = &scene.heat_network;
    let pos = scene.node_positions();
    let idx: std::collections::HashMap<&str, usize> = net
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let (Some(&a), Some(&b)) = (idx.get(from), idx.get(to)) else {
        return err(format!("no node \"{from}\" or \"{to}\""));
    };
    let n = net.nodes.len();
    let mut adj: Vec<Vec<(usize, usize, f64)>> = vec![Vec::new(); n];
    for (k, p) in net.pipes.iter().enumerate() {
        if let (Some(&u), Some(&v)) = (idx.get(p.from.as_str()), idx.get(p.to.as_str())) {
            let l = Scene::pipe_length_m(&pos, p).unwrap_or(1.0);
            adj[u].push((v, k, l));
            adj[v].push((u, k, l));
        }
    }
    // Dijkstra (O(n²): networks here have at most a few thousand nodes).
    let mut d = vec![f64::INFINITY; n];
    let mut prev: Vec<Option<(usize, usize)>> = vec![None; n];
    let mut done = vec![false; n];
    d[a] = 0.0;
    for _ in 0..n {
        let Some(u) = (0..n)
            .filter(|&i| !done[i] && d[i].is_finite())
            .min_by(|&x, &y| d[x].total_cmp(&d[y]))
        else {
            break;
        };
        done[u] = true;
        if u == b {
            break;
        }
        for &(v, k, l) in &adj[u] {
            if d[u] + l < d[v] {
                d[v] = d[u] + l;
                prev[v] = Some((u, k));
            }
        }
    }
    if !d[b].is_finite() {
        return err(format!("nodes {from} and {to} are not connected"));
    }
    let mut out = Vec::new();
    let mut v = b;
    while let Some((u, k)) = prev[v] {
        out.push(net.pipes[k].id.clone());
        v = u;
    }
    out.reverse();
    Ok(out)
}

/// Edit: new network temperatures.
pub fn set_network_temps(scene: &Scene, f: impl FnOnce(&mut NetworkTemps)) -> Edit {
    let old = NetworkTemps::of(&scene.heat_network);
    let mut new = old;
    f(&mut new);
    Edit::SetNetworkTemps { old, new }
}

/// PV peak power a roof takes, W: half the footprint covered by modules of 200 W/m² (20 %
/// efficient modules; the other half is left for set-backs, orientation and shade).
pub fn roof_pv_peak_w(b: &crate::scene::Building) -> f64 {
    (0.5 * b.footprint_area_m2() * 200.0 / 100.0).round() * 100.0
}

/// Edit: PV of `peak_w` on building `building`'s roof (added, or its array resized); `None`
/// removes it; `peak_w` of `None` inside `Some` sizes it from the roof.
pub fn set_pv(
    scene: &Scene,
    building: &str,
    peak_w: Option<Option<f64>>,
) -> Result<Edit, EditError> {
    let Some(g) = scene.grid.as_ref() else {
        return err("the scene has no grid to connect PV to");
    };
    let Some(b) = scene.buildings.iter().find(|b| b.id == building) else {
        return err(format!("no building \"{building}\""));
    };
    let old =
        g.pv.iter()
            .enumerate()
            .find(|(_, p)| p.building.as_deref() == Some(building))
            .map(|(i, p)| (i, p.clone()));
    let new = match peak_w {
        None => None,
        Some(w) => {
            let peak_w = w.unwrap_or_else(|| roof_pv_peak_w(b));
            Some(match &old {
                Some((i, p)) => (
                    *i,
                    PvArray {
                        peak_w,
                        ..p.clone()
                    },
                ),
                None => {
                    let bus = b
                        .bus
                        .clone()
                        .or_else(|| {
                            nearest_bus(scene, b.centre()).map(|(i, _)| g.buses[i].id.clone())
                        })
                        .ok_or_else(|| EditError("the grid has no bus".into()))?;
                    let mut id = format!("pv_{building}");
                    while g.pv.iter().any(|p| p.id == id) {
                        id.push('_');
                    }
                    (
                        g.pv.len(),
                        PvArray {
                            id,
                            bus,
                            peak_w,
                            performance_ratio: 0.8,
                            building: Some(building.to_string()),
                        },
                    )
                }
            })
        }
    };
    Ok(Edit::SetPv {
        building: building.to_string(),
        old,
        new,
    })
}

/// Edit: a weather year of `kind` drawn with `seed` (the scene's seed when `None`).
pub fn set_weather_year(
    scene: &Scene,
    kind: crate::scene::YearKind,
    seed: Option<u64>,
) -> Result<Edit, EditError> {
    let old = scene.climate.clone();
    let Climate::Monthly(mut m) = old.clone() else {
        return err("a fixed climate has no weather years");
    };
    m.year = Some(crate::scene::WeatherYear {
        kind,
        seed: seed.unwrap_or(scene.seed),
    });
    Ok(Edit::SetClimate {
        old,
        new: Climate::Monthly(m),
    })
}

/// Edit: the grid's carbon intensity times `scale`.
pub fn scale_carbon(scene: &Scene, scale: f64) -> Result<Edit, EditError> {
    let Some(g) = scene.grid.as_ref() else {
        return err("the scene has no grid");
    };
    let old = g.connection.carbon_intensity_g_kwh;
    Ok(Edit::SetCarbonIntensity {
        old,
        new: old.map(|c| c * scale),
    })
}

// ---------------------------------------------------------------------------------------------
// The stack

/// Edits done and undone, on top of a base scene.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EditStack {
    pub done: Vec<EditRecord>,
    pub undone: Vec<EditRecord>,
}

impl EditStack {
    /// Applies `edit` to `scene` and pushes it (clearing the redo list).
    pub fn push(&mut self, scene: &mut Scene, edit: Edit) -> Result<&EditRecord, EditError> {
        self.push_named(scene, edit, None)
    }
    /// As [`Self::push`], with the planner's name for the edit (instead of its description).
    pub fn push_named(
        &mut self,
        scene: &mut Scene,
        edit: Edit,
        name: Option<String>,
    ) -> Result<&EditRecord, EditError> {
        edit.apply(scene)?;
        let mut r = EditRecord::from(edit);
        if let Some(n) = name {
            r.description = n;
        }
        self.done.push(r);
        self.undone.clear();
        Ok(self.done.last().expect("just pushed"))
    }
    /// Undoes the last edit; `None` when there is none.
    pub fn undo(&mut self, scene: &mut Scene) -> Result<Option<&EditRecord>, EditError> {
        let Some(r) = self.done.pop() else {
            return Ok(None);
        };
        if let Err(e) = r.edit.revert(scene) {
            self.done.push(r);
            return Err(e);
        }
        self.undone.push(r);
        Ok(self.undone.last())
    }
    /// Redoes the last undone edit.
    pub fn redo(&mut self, scene: &mut Scene) -> Result<Option<&EditRecord>, EditError> {
        let Some(r) = self.undone.pop() else {
            return Ok(None);
        };
        if let Err(e) = r.edit.apply(scene) {
            self.undone.push(r);
            return Err(e);
        }
        self.done.push(r);
        Ok(self.done.last())
    }
    /// The edited scene with its edit history, as saved with `--save-as`.
    pub fn saved_scene(&self, scene: &Scene) -> Scene {
        let mut s = scene.clone();
        s.edits = self.done.clone();
        s
    }
    /// The RON of [`Self::saved_scene`].
    pub fn save_ron(&self, scene: &Scene) -> String {
        crate::scene::to_ron(&self.saved_scene(scene))
    }
    /// Reads a saved scene back: the scene without its history and the stack of its edits, after
    /// checking that undoing them all and redoing them all reproduces it exactly.
    pub fn from_saved(saved: &Scene) -> Result<(Scene, EditStack), EditError> {
        let mut scene = saved.clone();
        scene.edits.clear();
        let stack = EditStack {
            done: saved.edits.clone(),
            undone: Vec::new(),
        };
        let base = stack.base(&scene)?;
        let mut again = base;
        for r in &stack.done {
            r.edit.apply(&mut again)?;
        }
        if again != scene {
            return err("the saved edits do not reproduce the saved scene");
        }
        Ok((scene, stack))
    }
    /// The base scene: `scene` with every done edit undone.
    pub fn base(&self, scene: &Scene) -> Result<Scene, EditError> {
        let mut s = scene.clone();
        s.edits.clear();
        for r in self.done.iter().rev() {
            r.edit.revert(&mut s)?;
        }
        Ok(s)
    }
}

// ---------------------------------------------------------------------------------------------
// Live edits

/// What [`apply_live`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveOutcome {
    /// The running world's resources were changed in place.
    InPlace,
    /// The world was rebuilt from the edited scene, keeping the clock, ledger and job log.
    Rebuilt,
}

/// One edit made while the world was running.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEdit {
    /// Ticks done when it was made.
    pub tick: u64,
    pub time_s: f64,
    pub description: String,
    pub outcome: LiveOutcome,
}

/// Edits made to the running world, in order. `generation` counts rebuilds, so a view can tell
/// when the world's scene objects (entities) were spawned again.
#[derive(Resource, Debug, Clone, Default)]
pub struct LiveEdits {
    pub log: Vec<LiveEdit>,
    pub generation: u64,
}

impl LiveEdits {
    /// When the KPIs accumulated since tick 0 mix results from before and after an edit: the time
    /// (s) of the last edit made after the start, with its description.
    pub fn mixed_since(&self) -> Option<(f64, &str)> {
        self.log
            .iter()
            .rev()
            .find(|e| e.tick > 0)
            .map(|e| (e.time_s, e.description.as_str()))
    }
}

/// Applies `edit` to a running world (built by [`crate::sim::spawn_scene`]): the scene in
/// [`crate::sim::SceneSpec`] is edited (and validated) and the resources the tick reads are
/// changed in place, or the world is rebuilt when the topology changes. On error nothing changes.
pub fn apply_live(world: &mut World, edit: &Edit) -> Result<LiveOutcome, EditError> {
    use crate::sim::{SceneSpec, SimClock};
    let mut scene = world.resource::<SceneSpec>().scene.clone();
    edit.apply(&mut scene)?;
    if let Err(issues) = crate::scene::validate(&scene) {
        return err(format!(
            "the edited scene is not valid: {}",
            crate::scene::SceneError::Invalid(issues)
        ));
    }
    let outcome = if edit.needs_rebuild() {
        rebuild_keeping_clock(world, &scene);
        LiveOutcome::Rebuilt
    } else {
        patch_in_place(world, edit, &scene);
        world.resource_mut::<SceneSpec>().scene = scene;
        LiveOutcome::InPlace
    };
    let clock = world.resource::<SimClock>().clone();
    let mut log = world.get_resource_or_insert_with(LiveEdits::default);
    if outcome == LiveOutcome::Rebuilt {
        log.generation += 1;
    }
    log.log.push(LiveEdit {
        tick: clock.tick,
        time_s: clock.time_s,
        description: edit.describe(),
        outcome,
    });
    Ok(outcome)
}

fn patch_in_place(world: &mut World, edit: &Edit, scene: &Scene) {
    use crate::demand::{Buildings, Consumers};
    use crate::hydraulics::Network;
    match edit {
        Edit::SetNetworkTemps { .. } => {
            // The set-point is read from the scene every tick; substations' design return
            // temperatures and largest flows follow the new design temperatures.
            let fresh = {
                let net = world.resource::<Network>();
                let b = world.resource::<Buildings>();
                Consumers::from_scene(scene, net, b)
            };
            let mut c = world.resource_mut::<Consumers>();
            c.return_temp_c = fresh.return_temp_c;
            c.max_mass_flow_kg_s = fresh.max_mass_flow_kg_s;
        }
        Edit::SetPipeInsulation { pipes, .. } => {
            let fresh = Network::from_scene(scene);
            {
                let mut net = world.resource_mut::<Network>();
                for (id, _) in pipes {
                    if let Some(k) = net.pipe_ids.iter().position(|p| p == id) {
                        net.pipe_loss_w_mk[k] = fresh.pipe_loss_w_mk[k];
                    }
                }
            }
            // The thermal state keeps its water; only its decay constants are recomputed.
            let net = world.resource::<Network>().clone();
            let mut th = world.resource_mut::<crate::thermal::ThermalState>();
            th.refresh_pipe_constants(&net);
        }
        Edit::SetCarbonIntensity { new, .. } => {
            world.resource_mut::<crate::grid::GridState>().carbon_g_kwh = *new;
        }
        Edit::SetPv { .. } => {
            let fresh = crate::grid::GridState::from_scene(scene);
            world.resource_mut::<crate::grid::GridState>().pv = fresh.pv;
            respawn_kind(
                world,
                crate::sim::Kind::Pv,
                scene
                    .grid
                    .as_ref()
                    .map(|g| g.pv.iter().map(|p| p.id.clone()).collect())
                    .unwrap_or_default(),
            );
        }
        Edit::SetClimate { new, .. } => {
            let seed = world.resource::<crate::sim::SceneSpec>().seed;
            world.insert_resource(crate::weather::WeatherModel::new(new, seed));
        }
        Edit::SetSite { new, .. } => {
            let mut sites = world.resource_mut::<crate::quantum::Sites>();
            if let Some(i) = sites.ids.iter().position(|x| *x == new.id) {
                sites.qubits[i] = new.qubits;
                sites.compressor_w[i] = new.compressor_power_w;
                sites.electronics_w[i] = new.qubits as f64 * new.electronics_w_per_qubit;
                sites.servers_w[i] = new.servers_power_w;
                sites.idle_share[i] = new.idle_share;
                sites.recoverable_share[i] = new.recoverable_heat_share;
                sites.water_temp_c[i] = new.recovered_water_temp_c;
                sites.base_utilisation[i] = new.utilisation;
                let mut sched = world.resource_mut::<crate::quantum::schedule::QuantumScheduler>();
                if let Some(q) = sched.site_qubits.get_mut(i) {
                    *q = new.qubits;
                }
            }
        }
        Edit::SetPlant { new, .. } => {
            let mut st = world.resource_mut::<crate::plants::Stations>();
            match new {
                Plant::HeatPump {
                    id,
                    capacity_w,
                    carnot_fraction,
                    ..
                } => {
                    for hp in st.heat_pumps.iter_mut().flatten().filter(|h| h.id == *id) {
                        hp.capacity_w = *capacity_w;
                        hp.carnot_fraction = *carnot_fraction;
                    }
                }
                Plant::GasBoiler {
                    id,
                    capacity_w,
                    efficiency,
                    ..
                } => {
                    for b in st.boilers.iter_mut().flatten().filter(|b| b.id == *id) {
                        b.capacity_w = *capacity_w;
                        b.efficiency = *efficiency;
                    }
                }
                _ => {}
            }
        }
        Edit::Batch { edits, .. } => {
            // Each part against the scene as it was after it (only in-place parts get here).
            let mut s = world.resource::<crate::sim::SceneSpec>().scene.clone();
            for e in edits {
                if e.apply(&mut s).is_ok() {
                    patch_in_place(world, e, &s);
                }
            }
        }
        Edit::AddSite { .. } | Edit::MoveSite { .. } | Edit::RemoveSite { .. } => {}
    }
}

fn respawn_kind(world: &mut World, kind: crate::sim::Kind, ids: Vec<String>) {
    use crate::sim::SceneId;
    let old: Vec<Entity> = world
        .query::<(Entity, &SceneId)>()
        .iter(world)
        .filter(|(_, s)| s.kind == kind)
        .map(|(e, _)| e)
        .collect();
    for e in old {
        world.despawn(e);
    }
    world.spawn_batch(ids.into_iter().enumerate().map(move |(i, id)| SceneId {
        kind,
        id,
        index: i as u32,
    }));
}

/// Rebuilds every simulation resource and scene entity of `world` from `scene`, keeping the
/// clock, the run's seed and tick, the KPI ledger and the job log (jobs queued or running end as
/// rejected; the arrival stream goes on). Entities without a [`crate::sim::SceneId`] (a view's)
/// are left alone.
pub fn rebuild_keeping_clock(world: &mut World, scene: &Scene) {
    use crate::quantum::schedule::{JobLog, QuantumScheduler};
    use crate::sim::{RunOptions, SceneId, SceneSpec, SimClock};
    let clock = world.resource::<SimClock>().clone();
    let seed = world.resource::<SceneSpec>().seed;
    let ledger = world.remove_resource::<crate::ledger::Ledger>();
    let mut log = world.remove_resource::<JobLog>().unwrap_or_default();
    let old_sched = world.remove_resource::<QuantumScheduler>();
    let old_stations = world.get_resource::<crate::plants::Stations>().cloned();
    let ents: Vec<Entity> = world
        .query_filtered::<Entity, With<SceneId>>()
        .iter(world)
        .collect();
    for e in ents {
        world.despawn(e);
    }
    crate::sim::spawn_scene(
        world,
        scene,
        &RunOptions {
            seed: Some(seed),
            tick_s: Some(clock.tick_s),
            ..Default::default()
        },
    );
    world.insert_resource(clock.clone());
    // Tanks keep their charge (by plant id).
    if let Some(old) = &old_stations {
        let mut st = world.resource_mut::<crate::plants::Stations>();
        for t in st.tank.iter_mut().flatten() {
            if let Some(o) = old.tank.iter().flatten().find(|o| o.id == t.id) {
                t.energy_j = o.energy_j.min(t.capacity_j);
            }
        }
    }
    if let Some(mut l) = ledger {
        // The balance of the next tick starts from the tanks as they are now.
        l.restart_balance();
        world.insert_resource(l);
    }
    if let Some(old) = old_sched {
        let mut s = world.resource_mut::<QuantumScheduler>();
        s.continue_from(old, &mut log, clock.time_s);
    }
    world.insert_resource(log);
}

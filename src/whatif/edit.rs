//! The edit model: applying an edit to a scene, reverting it, and saying what it does in words
//! (see the parent module's doc).

#[allow(unused_imports)]
use super::*;
use serde::Serialize;

/// An edit could not be applied or reverted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct EditError(pub String);

pub(super) fn err<T>(msg: impl Into<String>) -> Result<T, EditError> {
    Err(EditError(msg.into()))
}

impl NetworkTemps {
    pub fn of(net: &HeatNetwork) -> Self {
        Self {
            supply_temp_c: net.supply_temp_c,
            supply_temp_at_design_c: net.supply_temp_at_design_c,
            return_temp_c: net.return_temp_c,
        }
    }
    pub(super) fn set(&self, net: &mut HeatNetwork) {
        net.supply_temp_c = self.supply_temp_c;
        net.supply_temp_at_design_c = self.supply_temp_at_design_c;
        net.return_temp_c = self.return_temp_c;
    }
}

pub(super) fn insert_all<T: Clone>(
    list: &mut Vec<T>,
    items: &[(usize, T)],
) -> Result<(), EditError> {
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

pub(super) fn remove_all<T: Clone + PartialEq>(
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
    pub(super) fn insert(&self, scene: &mut Scene) -> Result<(), EditError> {
        if scene.quantum_sites.iter().any(|s| s.id == self.site.1.id) {
            return err(format!(
                "a quantum site \"{}\" exists already",
                self.site.1.id
            ));
        }
        insert_all(&mut scene.heat_network.nodes, &self.nodes)?;
        insert_all(&mut scene.heat_network.pipes, &self.pipes)?;
        insert_all(&mut scene.quantum_sites, std::slice::from_ref(&self.site))?;
        insert_all(&mut scene.plants, &self.plants)?;
        if !self.links.is_empty() {
            let Some(dl) = scene.data_links.as_mut() else {
                return err("the scene has no data links to put this site's back into");
            };
            insert_all(&mut dl.links, &self.links)?;
        }
        Ok(())
    }
    pub(super) fn remove(&self, scene: &mut Scene) -> Result<(), EditError> {
        let mut s = scene.clone();
        remove_all(&mut s.plants, &self.plants)?;
        remove_all(&mut s.quantum_sites, std::slice::from_ref(&self.site))?;
        remove_all(&mut s.heat_network.pipes, &self.pipes)?;
        remove_all(&mut s.heat_network.nodes, &self.nodes)?;
        if !self.links.is_empty() {
            let Some(dl) = s.data_links.as_mut() else {
                return err("the scene has no data links to remove this site's from");
            };
            remove_all(&mut dl.links, &self.links)?;
        }
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
        // Its data links go with it (a link to a site that is gone would not validate).
        let links = scene
            .data_links
            .iter()
            .flat_map(|dl| dl.links.iter().enumerate())
            .filter(|(_, l)| l.site == id)
            .map(|(i, l)| (i, l.clone()))
            .collect();
        Ok(SiteBundle {
            site: (si, site),
            plants,
            nodes,
            pipes,
            links,
        })
    }
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

impl From<Edit> for EditRecord {
    fn from(edit: Edit) -> Self {
        Self {
            description: edit.describe(),
            edit,
        }
    }
}

pub(super) fn site_index(scene: &Scene, id: &str) -> Result<usize, EditError> {
    scene
        .quantum_sites
        .iter()
        .position(|s| s.id == id)
        .ok_or_else(|| EditError(format!("no quantum site \"{id}\"")))
}

pub(super) fn plant_index(scene: &Scene, id: &str) -> Result<usize, EditError> {
    scene
        .plants
        .iter()
        .position(|p| p.id() == id)
        .ok_or_else(|| EditError(format!("no plant \"{id}\"")))
}

/// Field-by-field differences of two values of one serialisable type, as `name a → b`.
pub(super) fn field_changes<T: Serialize>(old: &T, new: &T) -> String {
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

pub(super) fn insulation_name(i: &PipeInsulation) -> String {
    match i {
        PipeInsulation::Series(s) => format!("EN 253 series {s}"),
        PipeInsulation::LinearWmK(u) => format!("{u} W/(m·K)"),
        PipeInsulation::SurfaceWm2K(u) => format!("{u} W/(m²·K) of inner surface"),
    }
}

pub(super) fn climate_name(c: &Climate) -> String {
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
            Edit::SetDataLinks { old, new } => {
                let (a, b) = (
                    old.clone().unwrap_or_default(),
                    new.clone().unwrap_or_default(),
                );
                let changed: Vec<String> = crate::scene::links::LINK_SERVICES
                    .iter()
                    .flat_map(|s| {
                        let mut sites: Vec<&str> = a
                            .links
                            .iter()
                            .chain(&b.links)
                            .filter(|l| l.service == *s)
                            .map(|l| l.site.as_str())
                            .collect();
                        sites.sort_unstable();
                        sites.dedup();
                        let (a, b) = (&a, &b);
                        sites.into_iter().filter_map(move |site| {
                            let (x, y) = (a.scheme(s, site), b.scheme(s, site));
                            (x != y).then(|| format!("{s}→{site} {} → {}", x.name(), y.name()))
                        })
                    })
                    .collect();
                if changed.is_empty() {
                    "data links: unchanged schemes".to_string()
                } else {
                    format!("data links: {}", changed.join(", "))
                }
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

    pub(super) fn exchange(&self, scene: &mut Scene, forward: bool) -> Result<(), EditError> {
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
            Edit::SetDataLinks { old, new } => {
                let (from, to) = if forward { (old, new) } else { (new, old) };
                if scene.data_links != *from {
                    return err("the data links are not as this edit expects");
                }
                scene.data_links = to.clone();
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

//! Edit constructors: the edits a planner makes, each built against the scene it will apply to
//! (so it carries the old values it replaces).

#[allow(unused_imports)]
use super::*;

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
    // Its data links stay as they were (same places in the list; their fibre is re-routed only
    // where the scene gives no length).
    new.links = old.links.clone();
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

//! Edits applied to a running world (see the parent module's doc).

#[allow(unused_imports)]
use super::*;
use bevy::prelude::*;

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
/// [`crate::base::SceneSpec`] is edited (and validated) and the resources the tick reads are
/// changed in place, or the world is rebuilt when the topology changes. On error nothing changes.
pub fn apply_live(world: &mut World, edit: &Edit) -> Result<LiveOutcome, EditError> {
    use crate::base::{SceneSpec, SimClock};
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

/// Brings the running world's resources in line with the edited scene, each through the method
/// its domain defines for that (so a derived value, such as a site's UPS size, is never left
/// stale).
pub(super) fn patch_in_place(world: &mut World, edit: &Edit, scene: &Scene) {
    use crate::demand::{Buildings, Consumers};
    use crate::network::Network;
    match edit {
        Edit::SetNetworkTemps { .. } => {
            // The set-point is read from the scene every tick; substations' design return
            // temperatures and largest flows follow the new design temperatures.
            world.resource_scope(|world, mut c: Mut<Consumers>| {
                c.refresh_design(
                    scene,
                    world.resource::<Network>(),
                    world.resource::<Buildings>(),
                );
            });
        }
        Edit::SetPipeInsulation { .. } => {
            world.resource_mut::<Network>().refresh_pipe_losses(scene);
            // The thermal state keeps its water; only its decay constants are recomputed.
            world.resource_scope(|world, mut th: Mut<crate::thermal::ThermalState>| {
                th.refresh_pipe_constants(world.resource::<Network>());
            });
        }
        Edit::SetDataLinks { new, .. } => {
            let cfg = new.clone().unwrap_or_default();
            let names: Vec<String> = scene.quantum_sites.iter().map(|q| q.id.clone()).collect();
            let mut st = world.resource_mut::<crate::links::DataLinkState>();
            for k in 0..st.links.len() {
                let (service, site) = (st.links[k].service, st.links[k].site);
                let scheme = cfg.scheme(service.name(), &names[site]);
                st.set_scheme(k, scheme);
            }
            st.cfg = cfg;
        }
        Edit::SetCarbonIntensity { new, .. } => {
            world
                .resource_mut::<crate::grid::GridState>()
                .set_carbon_intensity(*new);
        }
        Edit::SetPv { .. } => {
            world
                .resource_mut::<crate::grid::GridState>()
                .refresh_pv(scene);
            respawn_kind(
                world,
                crate::base::Kind::Pv,
                scene
                    .grid
                    .as_ref()
                    .map(|g| g.pv.iter().map(|p| p.id.clone()).collect())
                    .unwrap_or_default(),
            );
        }
        Edit::SetClimate { new, .. } => {
            let seed = world.resource::<crate::base::SceneSpec>().seed;
            let depths = world
                .resource::<crate::network::Network>()
                .burial_depths_m
                .clone();
            world.insert_resource(
                crate::weather::WeatherModel::new(new, seed).with_ground_depths(depths),
            );
        }
        Edit::SetSite { new, .. } => {
            let mut sites = world.resource_mut::<crate::quantum::Sites>();
            sites.apply_site(new);
            let i = sites.ids.iter().position(|x| *x == new.id);
            if let Some(i) = i {
                world
                    .resource_mut::<crate::quantum::schedule::QuantumScheduler>()
                    .set_site_qubits(i, new.qubits);
            }
            // The faults domain sizes each site's UPS from the site.
            world.resource_scope(|world, mut eq: Mut<crate::faults::Equipment>| {
                let cfg = &world.resource::<crate::faults::Faults>().config;
                eq.resize_ups(world.resource::<crate::quantum::Sites>(), cfg);
            });
        }
        Edit::SetPlant { new, .. } => {
            world
                .resource_mut::<crate::plants::Stations>()
                .apply_plant(new);
        }
        Edit::Batch { edits, .. } => {
            // Each part against the scene as it was after it (only in-place parts get here).
            let mut s = world.resource::<crate::base::SceneSpec>().scene.clone();
            for e in edits {
                if e.apply(&mut s).is_ok() {
                    patch_in_place(world, e, &s);
                }
            }
        }
        Edit::AddSite { .. } | Edit::MoveSite { .. } | Edit::RemoveSite { .. } => {}
    }
}

pub(super) fn respawn_kind(world: &mut World, kind: crate::base::Kind, ids: Vec<String>) {
    use crate::base::SceneId;
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
/// clock, the run's seed and tick, the KPI ledger, the job log (jobs queued or running end as
/// rejected; the arrival stream goes on), tanks' charge and buildings' indoor temperatures. Entities without a [`crate::base::SceneId`] (a view's)
/// are left alone.
pub fn rebuild_keeping_clock(world: &mut World, scene: &Scene) {
    use crate::base::{SceneId, SceneSpec, SimClock};
    use crate::quantum::schedule::{JobLog, QuantumScheduler};
    use crate::sim::RunOptions;
    let clock = world.resource::<SimClock>().clone();
    let seed = world.resource::<SceneSpec>().seed;
    let ledger = world.remove_resource::<crate::ledger::Ledger>();
    let mut log = world.remove_resource::<JobLog>().unwrap_or_default();
    let old_sched = world.remove_resource::<QuantumScheduler>();
    let old_links = world.remove_resource::<crate::links::DataLinkState>();
    let old_stations = world.get_resource::<crate::plants::Stations>().cloned();
    let old_indoor: Option<std::collections::HashMap<String, f64>> =
        world.get_resource::<crate::demand::Buildings>().map(|b| {
            b.ids
                .iter()
                .cloned()
                .zip(b.indoor_temp_c().iter().copied())
                .collect()
        });
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
    // Buildings keep their indoor temperature (by building id), below the set-point at most.
    if let Some(old) = &old_indoor {
        let t_set = scene.sim.indoor_setpoint_c;
        let mut b = world.resource_mut::<crate::demand::Buildings>();
        for i in 0..b.len() {
            if let Some(&t) = old.get(&b.ids[i]) {
                b.set_indoor_temp(i, t.min(t_set));
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
    if let Some(old) = old_links {
        world
            .resource_mut::<crate::links::DataLinkState>()
            .continue_from(old);
    }
}

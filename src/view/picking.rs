//! Mesh picking that casts a pointer's ray only when the ray or the city changed.
//!
//! Bevy's mesh picking backend casts every pointer's ray every frame, and a cast tests the ray
//! against the bounding box of every mesh in the city: at 100,000 buildings (and their tubes)
//! that is hundreds of thousands of box tests a frame while the mouse rests over the map. This
//! backend does the same cast (the same filter and early exit as `MeshPickingPlugin`'s) but keeps
//! each ray's hits and sends them again while the ray is bit-for-bit the same (neither the pointer
//! nor the camera moved) and the city was not respawned nor its map settings changed (pipes shown
//! or hidden). Moving meshes (the rotors' blades) are not picked objects; the flow particles are
//! not pickable at all.

use std::collections::HashMap;

use bevy::camera::visibility::RenderLayers;
use bevy::math::Ray3d;
use bevy::picking::PickingSystems;
use bevy::picking::backend::ray::{RayId, RayMap};
use bevy::picking::backend::{HitData, PointerHits};
use bevy::picking::mesh_picking::ray_cast::{MeshRayCast, MeshRayCastSettings};
use bevy::picking::mesh_picking::{MeshPickingCamera, MeshPickingSettings};
use bevy::picking::prelude::*;
use bevy::prelude::*;

use super::world3d::{MapSettings, ViewAssets};

/// The picking backend of the view (instead of `MeshPickingPlugin`).
pub struct CachedMeshPickingPlugin;

impl Plugin for CachedMeshPickingPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<MeshPickingSettings>()
            .init_resource::<PickCache>()
            .add_systems(PreUpdate, update_hits.in_set(PickingSystems::Backend));
    }
}

/// A ray as last cast (its ray and its length) and the hits it found.
type CachedRay = (Ray3d, f32, Vec<(Entity, HitData)>);

/// Each ray's last hits, and how often a ray was cast or its hits reused (tests, diagnostics).
#[derive(Resource, Debug, Default)]
pub struct PickCache {
    rays: HashMap<RayId, CachedRay>,
    settings: Option<MapSettings>,
    pub casts: u64,
    pub reused: u64,
}

/// Casts the rays that changed into the scene and sends every ray's hits, as Bevy's
/// `mesh_picking::update_hits` does.
#[allow(clippy::too_many_arguments)]
pub fn update_hits(
    backend_settings: Res<MeshPickingSettings>,
    ray_map: Res<RayMap>,
    map: Option<Res<MapSettings>>,
    city: Option<Res<ViewAssets>>,
    mut cache: ResMut<PickCache>,
    picking_cameras: Query<(&Camera, Has<MeshPickingCamera>, Option<&RenderLayers>)>,
    pickables: Query<&Pickable>,
    marked_targets: Query<&Pickable>,
    layers: Query<&RenderLayers>,
    mut ray_cast: MeshRayCast,
    mut pointer_hits_writer: MessageWriter<PointerHits>,
) {
    let cache = &mut *cache;
    // A respawned city (its shared assets are inserted anew) or other map settings: cast again.
    let settings = map.as_deref().cloned();
    if city.as_ref().is_some_and(|c| c.is_changed())
        || backend_settings.is_changed()
        || cache.settings != settings
    {
        cache.rays.clear();
        cache.settings = settings;
    }
    cache.rays.retain(|id, _| ray_map.map.contains_key(id));
    for (&ray_id, &ray) in ray_map.iter() {
        if let Some((cached, order, picks)) = cache.rays.get(&ray_id)
            && cached.origin == ray.origin
            && cached.direction == ray.direction
        {
            cache.reused += 1;
            if !picks.is_empty() {
                pointer_hits_writer.write(PointerHits::new(ray_id.pointer, picks.clone(), *order));
            }
            continue;
        }
        let Ok((camera, cam_can_pick, cam_layers)) = picking_cameras.get(ray_id.camera) else {
            continue;
        };
        if backend_settings.require_markers && !cam_can_pick {
            continue;
        }
        let cam_layers = cam_layers.to_owned().unwrap_or_default();
        let settings = MeshRayCastSettings {
            visibility: backend_settings.ray_cast_visibility,
            filter: &|entity| {
                let marker_requirement =
                    !backend_settings.require_markers || marked_targets.get(entity).is_ok();
                // Entities without render layers are on the default layer 0.
                let entity_layers = layers.get(entity).cloned().unwrap_or_default();
                let render_layers_match = cam_layers.intersects(&entity_layers);
                let is_pickable = pickables.get(entity).ok().is_none_or(|p| p.is_hoverable);
                marker_requirement && render_layers_match && is_pickable
            },
            early_exit_test: &|entity_hit| {
                pickables
                    .get(entity_hit)
                    .is_ok_and(|pickable| pickable.should_block_lower)
            },
        };
        cache.casts += 1;
        let picks: Vec<(Entity, HitData)> = ray_cast
            .cast_ray(ray, &settings)
            .iter()
            .map(|(entity, hit)| {
                let hit_data = HitData::new(
                    ray_id.camera,
                    hit.distance,
                    Some(hit.point),
                    Some(hit.normal),
                );
                (*entity, hit_data)
            })
            .collect();
        let order = camera.order as f32;
        if !picks.is_empty() {
            pointer_hits_writer.write(PointerHits::new(ray_id.pointer, picks.clone(), order));
        }
        cache.rays.insert(ray_id, (ray, order, picks));
    }
}

#[cfg(test)]
mod tests {
    use bevy::camera::primitives::Aabb;
    use bevy::ecs::message::Messages;
    use bevy::picking::mesh_picking::ray_cast::RayCastVisibility;
    use bevy::picking::pointer::PointerId;

    use super::*;

    fn sent(world: &mut World) -> Vec<Entity> {
        world
            .resource_mut::<Messages<PointerHits>>()
            .drain()
            .flat_map(|h| h.picks.into_iter().map(|(e, _)| e))
            .collect()
    }

    fn cast_and_reused(world: &World) -> (u64, u64) {
        let c = world.resource::<PickCache>();
        (c.casts, c.reused)
    }

    /// A ray that did not move is cast once and its hits sent again every frame; a moved ray, a
    /// respawned city and changed map settings cast again; a miss is remembered as a miss.
    #[test]
    fn a_resting_ray_is_cast_once_and_its_hits_sent_every_frame() {
        let mut app = App::new();
        app.add_plugins((MinimalPlugins, bevy::asset::AssetPlugin::default()))
            .init_asset::<Mesh>()
            .add_message::<PointerHits>()
            .init_resource::<RayMap>()
            .insert_resource(MeshPickingSettings {
                require_markers: false,
                ray_cast_visibility: RayCastVisibility::Any,
            })
            .init_resource::<PickCache>()
            .init_resource::<MapSettings>();
        let world = app.world_mut();
        let cube = world
            .resource_mut::<Assets<Mesh>>()
            .add(Cuboid::new(1.0, 1.0, 1.0));
        let mut spawn_box = |x: f32| {
            world
                .spawn((
                    Mesh3d(cube.clone()),
                    Aabb::from_min_max(Vec3::splat(-0.5), Vec3::splat(0.5)),
                    GlobalTransform::from_xyz(x, 0.0, 0.0),
                    InheritedVisibility::VISIBLE,
                    ViewVisibility::default(),
                ))
                .id()
        };
        let (a, b) = (spawn_box(0.0), spawn_box(10.0));
        let camera = world.spawn(Camera::default()).id();
        let id = RayId::new(camera, PointerId::Mouse);
        let down = |x: f32| Ray3d::new(Vec3::new(x, 10.0, 0.0), Dir3::NEG_Y);
        let mut frame = Schedule::default();
        frame.add_systems(update_hits);
        let mut aim = |world: &mut World, x: f32| {
            world.resource_mut::<RayMap>().map.insert(id, down(x));
            frame.run(world);
            sent(world)
        };

        assert_eq!(aim(world, 0.0), vec![a]);
        assert_eq!(cast_and_reused(world), (1, 0));
        for _ in 0..3 {
            assert_eq!(aim(world, 0.0), vec![a]);
        }
        assert_eq!(cast_and_reused(world), (1, 3));
        assert_eq!(aim(world, 10.0), vec![b]);
        assert_eq!(cast_and_reused(world), (2, 3));
        // Pipes hidden (other map settings): the same ray is cast again.
        world.resource_mut::<MapSettings>().show_pipes = false;
        assert_eq!(aim(world, 10.0), vec![b]);
        assert_eq!(cast_and_reused(world), (3, 3));
        // Only borrowed mutably (the panel does that every frame): not cast again.
        world.resource_mut::<MapSettings>().set_changed();
        assert_eq!(aim(world, 10.0), vec![b]);
        assert_eq!(cast_and_reused(world), (3, 4));
        // A miss is cast once, and stays a miss.
        assert!(aim(world, 5.0).is_empty());
        assert!(aim(world, 5.0).is_empty());
        assert_eq!(cast_and_reused(world), (4, 5));
    }
}

//! The control room (operator training in the app): the alarm list (ISA-18.2 states, acknowledge,
//! shelve, flood banner, jump to the object) with the alarmed objects flashing on the map; operator
//! actions on the selected object and on the network; the instructor's controls (inject a failure
//! on the selected object, clear one, freeze, rewind to an automatic snapshot, replay at speed);
//! and, for a training scenario (`qtwin view --train SCENARIO`), its objectives, hints, live score
//! and the debrief.
//!
//! Everything goes through the simulation: actions and injections are queued on
//! [`crate::operator::CommandQueue`] and take effect at the next tick, logged with their time;
//! what the operator sees are the sensors' *measured* values, the debrief shows the truth beside.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};
use egui_plot::{Legend, Line, Plot, PlotPoints};

use super::camera::{OrbitCamera, PointerOverUi};
use super::ui::{Selection, SimControl};
use super::words::{tf, tr};
use super::world3d::to3;
use crate::alarms::{AlarmRow, AlarmState, Alarms, Priority};
use crate::base::{Kind, SceneSpec, SimClock};
use crate::faults::{FaultKind, FaultSpec, Faults, Repair};
use crate::network::Network;
use crate::operator::{ActionLog, CommandQueue, InstructorCommand, OperatorAction};
use crate::scene::{Plant, Scene};
use crate::snapshot::RewindStore;
use crate::training::{TrainingReport, TrainingSession};

/// The control room's panel state.
#[derive(Resource, Debug)]
pub struct ControlRoom {
    pub alarms_open: bool,
    pub instructor_open: bool,
    pub repair_s: f64,
    pub fault_seq: u32,
    pub rewind_to_s: f64,
    pub shed_heat: f64,
    pub supply_setpoint_c: f64,
    pub pump_dp_kpa: f64,
    pub status: String,
    pub debrief_open: bool,
    pub debrief_shown: bool,
    /// Hints the trainee has opened.
    pub hints_shown: usize,
}

impl Default for ControlRoom {
    fn default() -> Self {
        Self {
            alarms_open: true,
            instructor_open: false,
            repair_s: 1800.0,
            fault_seq: 1,
            rewind_to_s: 0.0,
            shed_heat: 0.1,
            supply_setpoint_c: 80.0,
            pump_dp_kpa: 150.0,
            status: String::new(),
            debrief_open: false,
            debrief_shown: false,
            hints_shown: 0,
        }
    }
}

/// The training session's report, recomputed about once a second of real time.
#[derive(Resource, Debug, Default)]
pub struct LiveScore(pub Option<TrainingReport>);

fn update_score(world: &mut World, mut last: Local<f64>) {
    if world.get_resource::<TrainingSession>().is_none() {
        return;
    }
    let now = world.resource::<Time<Real>>().elapsed_secs_f64();
    if now - *last < 1.0 && world.resource::<LiveScore>().0.is_some() {
        return;
    }
    *last = now;
    let r = TrainingReport::from_world(world);
    world.resource_mut::<LiveScore>().0 = Some(r);
}

/// A request that needs the whole world: rewind to a time, and whether to replay from there.
#[derive(Resource, Debug, Default)]
pub struct RewindRequest(pub Option<(f64, bool)>);

/// A replay under way: the session's commands with their ticks, fed back to the simulation at
/// the same ticks after a rewind (the run is deterministic, so it unfolds as it did), until the
/// tick the replay was asked at.
#[derive(Resource, Debug, Default)]
pub struct Replay {
    pub inputs: Vec<(u64, crate::operator::Command)>,
    pub next: usize,
    pub until_tick: u64,
    pub active: bool,
}

/// Queues the recorded commands due this tick (before they are applied).
fn feed_replay(
    clock: Res<SimClock>,
    mut replay: ResMut<Replay>,
    mut queue: ResMut<CommandQueue>,
    mut ctl: ResMut<SimControl>,
) {
    if !replay.active {
        return;
    }
    while replay.next < replay.inputs.len() && replay.inputs[replay.next].0 <= clock.tick {
        let (t, cmd) = replay.inputs[replay.next].clone();
        if t == clock.tick {
            queue.pending.push(cmd);
        }
        replay.next += 1;
    }
    if clock.tick + 1 >= replay.until_tick {
        replay.active = false;
        ctl.paused = true;
        ctl.speed = 60.0;
    }
}

/// Adds the control room.
pub fn add_control_room(app: &mut App) {
    app.init_resource::<ControlRoom>()
        .init_resource::<RewindRequest>()
        .init_resource::<LiveScore>()
        .init_resource::<Replay>()
        .add_systems(
            FixedUpdate,
            feed_replay
                .in_set(crate::base::SimSet::Commands)
                .before(crate::operator::apply_commands),
        )
        .add_plugins(crate::snapshot::RewindPlugin)
        .add_systems(Update, (do_rewind, update_score, flash_alarmed_objects))
        .add_systems(
            bevy_egui::EguiPrimaryContextPass,
            control_room_panel.run_if(super::not_embedded),
        );
}

fn do_rewind(world: &mut World) {
    let Some((t, replay)) = world.resource_mut::<RewindRequest>().0.take() else {
        return;
    };
    let inputs = world
        .resource::<crate::operator::InputLog>()
        .entries
        .clone();
    let until_tick = world.resource::<SimClock>().tick;
    let lang = world
        .get_resource::<super::Audience>()
        .map_or(super::plain::Lang::En, |a| a.lang);
    let msg = match crate::snapshot::rewind(world, t) {
        Some(at) => {
            if replay {
                let from = world.resource::<SimClock>().tick;
                let next = inputs
                    .iter()
                    .position(|(k, _)| *k >= from)
                    .unwrap_or(inputs.len());
                *world.resource_mut::<Replay>() = Replay {
                    inputs,
                    next,
                    until_tick,
                    active: true,
                };
                tf(
                    lang,
                    "replaying from {:.1} h at 3600×, the session's actions as they were made",
                    &[&(at / 3600.0)],
                )
            } else {
                world.resource_mut::<Replay>().active = false;
                tf(lang, "rewound to {:.1} h", &[&(at / 3600.0)])
            }
        }
        None => tr(lang, "no snapshot at or before that time").to_string(),
    };
    world.resource_mut::<ControlRoom>().status = msg;
}

/// Where an object of the scene stands, by id (sites, buildings, nodes, pipes, plants, buses).
pub fn object_position(scene: &Scene, net: &Network, id: &str) -> Option<Vec3> {
    if let Some(s) = scene.quantum_sites.iter().find(|s| s.id == id) {
        return Some(to3(s.pos, 6.0));
    }
    if let Some(b) = scene.buildings.iter().find(|b| b.id == id) {
        return Some(to3(b.centre(), 6.0));
    }
    if let Some(n) = net.node(id) {
        return Some(to3(net.node_pos[n as usize], 2.0));
    }
    if let Some(k) = net.pipe_ids.iter().position(|p| p == id) {
        let (a, b) = (net.pipe_from[k] as usize, net.pipe_to[k] as usize);
        return Some((to3(net.node_pos[a], 2.0) + to3(net.node_pos[b], 2.0)) * 0.5);
    }
    if let Some(p) = scene.plants.iter().find(|p| p.id() == id) {
        return net
            .node(p.node())
            .map(|n| to3(net.node_pos[n as usize], 4.0));
    }
    if let Some(g) = &scene.grid {
        if let Some(b) = g.buses.iter().find(|b| b.id == id) {
            return Some(to3(b.pos, 4.0));
        }
        if let Some(f) = g.feeders.iter().find(|f| f.id == id) {
            let pa = g.buses.iter().find(|b| b.id == f.from)?.pos;
            let pb = g.buses.iter().find(|b| b.id == f.to)?.pos;
            return Some((to3(pa, 4.0) + to3(pb, 4.0)) * 0.5);
        }
    }
    None
}

/// [`flash_alarmed_objects`]'s memory: where the unacknowledged alarms' objects stand, found again
/// only when the alarms or the scene changed (not every frame), with the buildings by id.
#[derive(Default)]
pub struct FlashMemory {
    buildings: std::collections::HashMap<String, Vec3>,
    marks: Vec<(Vec3, Color)>,
    seen: Option<bevy::ecs::change_detection::Tick>,
}

/// Objects with an unacknowledged alarm flash on the map (red for high and critical).
fn flash_alarmed_objects(
    time: Res<Time<Real>>,
    alarms: Option<Res<Alarms>>,
    spec: Res<SceneSpec>,
    net: Res<Network>,
    mut memory: Local<FlashMemory>,
    mut gizmos: Gizmos,
) {
    let Some(alarms) = alarms else { return };
    if spec.is_changed() {
        memory.buildings = spec
            .scene
            .buildings
            .iter()
            .map(|b| (b.id.clone(), to3(b.centre(), 6.0)))
            .collect();
        memory.seen = None;
    }
    if net.is_changed() {
        memory.seen = None;
    }
    if memory.seen != Some(alarms.last_changed()) {
        memory.seen = Some(alarms.last_changed());
        let FlashMemory {
            buildings, marks, ..
        } = &mut *memory;
        marks.clear();
        for row in alarms.list() {
            if !matches!(
                row.state,
                AlarmState::Unacknowledged | AlarmState::ReturnedUnacknowledged
            ) {
                continue;
            }
            let at = if spec.scene.quantum_sites.iter().any(|s| s.id == row.object) {
                object_position(&spec.scene, &net, &row.object)
            } else {
                // Buildings and nodes (most alarms) without a search; the rest as the panel does.
                buildings
                    .get(&row.object)
                    .copied()
                    .or_else(|| {
                        net.node(&row.object)
                            .map(|n| to3(net.node_pos[n as usize], 2.0))
                    })
                    .or_else(|| object_position(&spec.scene, &net, &row.object))
            };
            let Some(p) = at else { continue };
            let col = priority_color(row.priority);
            marks.push((p, Color::srgb_u8(col.r(), col.g(), col.b())));
        }
    }
    let on = (time.elapsed_secs() * 2.5).fract() < 0.6;
    if !on {
        return;
    }
    for &(p, c) in &memory.marks {
        gizmos.sphere(Isometry3d::from_translation(p), 18.0, c);
        gizmos.circle(
            Isometry3d::new(p, Quat::from_rotation_x(-std::f32::consts::FRAC_PI_2)),
            28.0,
            c,
        );
    }
}

fn priority_color(p: Priority) -> egui::Color32 {
    match p {
        Priority::Critical => egui::Color32::from_rgb(220, 30, 30),
        Priority::High => egui::Color32::from_rgb(240, 110, 20),
        Priority::Medium => egui::Color32::from_rgb(230, 190, 30),
        Priority::Low => egui::Color32::from_rgb(80, 150, 230),
    }
}

fn hm(t: f64) -> String {
    let m = (t / 60.0).floor() as i64;
    format!("{}:{:02}", m / 60, m % 60)
}

fn series_line(name: &str, pts: Vec<[f64; 2]>) -> Line<'static> {
    Line::new(name.to_string(), PlotPoints::from(pts))
}

/// The training session's resources the control room panel shows.
type SessionView<'w> = (
    Option<Res<'w, TrainingSession>>,
    Res<'w, LiveScore>,
    Option<Res<'w, crate::alarms::Sensors>>,
    Option<Res<'w, super::tour::Tour>>,
    Res<'w, super::camera::RightPanelWidth>,
    Res<'w, super::Audience>,
);

#[allow(clippy::too_many_arguments)]
fn control_room_panel(
    mut contexts: EguiContexts,
    mut room: ResMut<ControlRoom>,
    mut queue: ResMut<CommandQueue>,
    mut ctl: ResMut<SimControl>,
    mut rewind: ResMut<RewindRequest>,
    mut cams: Query<&mut OrbitCamera>,
    mut over_ui: ResMut<PointerOverUi>,
    (sel, spec, net, clock): (Res<Selection>, Res<SceneSpec>, Res<Network>, Res<SimClock>),
    (alarms, faults, log, store): (
        Res<Alarms>,
        Res<Faults>,
        Res<ActionLog>,
        Option<Res<RewindStore>>,
    ),
    (session, score, sensors, tour, right_w, audience): SessionView<'_>,
    mut listed: Local<(Option<bevy::ecs::change_detection::Tick>, Vec<AlarmRow>)>,
) -> Result {
    let lang = audience.lang;
    let ctx = contexts.ctx_mut()?.clone();
    // The guided tour has the screen to itself.
    if tour.is_some_and(|t| t.active) {
        return Ok(());
    }
    let room = &mut *room;
    // The list walks every configured alarm (thousands in a large city): only when they changed.
    if listed.0 != Some(alarms.last_changed()) {
        *listed = (Some(alarms.last_changed()), alarms.list());
    }
    let rows = &listed.1;
    let unacked = rows
        .iter()
        .filter(|r| {
            matches!(
                r.state,
                AlarmState::Unacknowledged | AlarmState::ReturnedUnacknowledged
            )
        })
        .count();
    // The toggles, bottom right beside the planner's.
    let planner_w = ctx
        .data(|d| d.get_temp::<f32>(egui::Id::new(super::planner::PLANNER_BUTTON_W)))
        .unwrap_or(120.0);
    egui::Area::new(egui::Id::new("control_room_buttons"))
        .anchor(
            egui::Align2::RIGHT_BOTTOM,
            egui::vec2(-12.0 - planner_w - 8.0 - right_w.0, -12.0),
        )
        .show(&ctx, |ui| {
            super::ui::toolbar_frame().show(ui, |ui| {
                ui.horizontal(|ui| {
                    let label = if unacked > 0 {
                        egui::RichText::new(tf(lang, "🔔 Alarms ({})", &[&unacked]))
                            .size(16.0)
                            .color(egui::Color32::from_rgb(240, 80, 40))
                    } else {
                        egui::RichText::new(tf(lang, "🔔 Alarms ({})", &[&(rows.len())])).size(16.0)
                    };
                    if ui.selectable_label(room.alarms_open, label).clicked() {
                        room.alarms_open = !room.alarms_open;
                    }
                    if ui
                        .selectable_label(
                            room.instructor_open,
                            egui::RichText::new(tr(lang, "🛠 Operate")).size(16.0),
                        )
                        .clicked()
                    {
                        room.instructor_open = !room.instructor_open;
                    }
                })
            });
        });

    // ---- the alarm list
    if room.alarms_open && (!rows.is_empty() || alarms.flooding()) {
        egui::Window::new(tf(lang, "Alarms — {} active, {} unacknowledged", &[&rows.len(), &unacked]))
            .default_pos(egui::pos2(240.0, 60.0))
            .default_size(egui::vec2(700.0, 160.0))
            .vscroll(true)
            .show(&ctx, |ui| {
                if alarms.flooding() {
                    ui.colored_label(
                        egui::Color32::from_rgb(220, 30, 30),
                        egui::RichText::new(tf(lang, "ALARM FLOOD: {:.0} alarms in the last 10 minutes — deal with the critical ones first", &[&(alarms.recent_rate())]))
                        .strong(),
                    );
                }
                ui.horizontal(|ui| {
                    if ui.button(tr(lang, "acknowledge all")).clicked() {
                        queue.operator(OperatorAction::AcknowledgeAll);
                    }
                    ui.label(egui::RichText::new(tr(lang, "values are as measured: sensors can drift or freeze")).small().weak());
                });
                egui::Grid::new("alarms").striped(true).show(ui, |ui| {
                    for r in rows {
                        let col = priority_color(r.priority);
                        let flashing = matches!(r.state, AlarmState::Unacknowledged | AlarmState::ReturnedUnacknowledged);
                        ui.colored_label(col, tr(lang, &format!("{:?}", r.priority)).to_string());
                        ui.label(r.raised_s.map_or("—".into(), hm));
                        let text = egui::RichText::new(format!("{} · {}", r.object, r.message));
                        ui.label(if flashing { text.strong() } else { text });
                        ui.label(tf(lang, "{:.1}", &[&r.value]));
                        ui.label(tr(lang, &format!("{:?}", r.state)).to_string());
                        ui.horizontal(|ui| {
                            if ui.small_button(tr(lang, "ack")).clicked() {
                                queue.operator(OperatorAction::Acknowledge(r.id.clone()));
                            }
                            if r.state == AlarmState::Shelved {
                                if ui.small_button(tr(lang, "unshelve")).clicked() {
                                    queue.operator(OperatorAction::Unshelve(r.id.clone()));
                                }
                            } else if ui.small_button(tr(lang, "shelve")).on_hover_text(tr(lang, "30 minutes")).clicked() {
                                queue.operator(OperatorAction::Shelve { alarm: r.id.clone(), duration_s: 1800.0 });
                            }
                            if ui.small_button(tr(lang, "go to")).clicked()
                                && let Some(p) = object_position(&spec.scene, &net, &r.object)
                            {
                                for mut cam in &mut cams {
                                    cam.target = Some((p, 220.0));
                                }
                            }
                        });
                        ui.end_row();
                    }
                });
            });
    }

    // ---- operator actions and instructor controls
    if room.instructor_open {
        let picked = sel.pick;
        let picked_id: Option<(Kind, String)> = picked.and_then(|p| {
            let i = p.index as usize;
            let id = match p.kind {
                Kind::Pipe => net.pipe_ids.get(i).cloned(),
                Kind::Site => spec.scene.quantum_sites.get(i).map(|s| s.id.clone()),
                Kind::Plant => spec.scene.plants.get(i).map(|p| p.id().to_string()),
                Kind::Building => spec.scene.buildings.get(i).map(|b| b.id.clone()),
                Kind::Node => net.node_ids.get(i).cloned(),
                _ => None,
            }?;
            Some((p.kind, id))
        });
        egui::Window::new(tr(lang, "Operate"))
            .default_pos(egui::pos2(240.0, 420.0))
            .default_width(420.0)
            .vscroll(true)
            .show(&ctx, |ui| {
                if !room.status.is_empty() {
                    ui.label(egui::RichText::new(&room.status).italics());
                }
                ui.heading(tr(lang, "Operator"));
                match &picked_id {
                    None => {
                        ui.label(tr(lang, "select a pipe, site or plant on the map for its actions"));
                    }
                    Some((kind, id)) => {
                        ui.label(egui::RichText::new(format!("{} {id}", tr(lang, &format!("{kind:?}")))).strong());
                        ui.horizontal_wrapped(|ui| match kind {
                            Kind::Pipe => {
                                if ui.button(tr(lang, "close valves (isolate)")).clicked() {
                                    queue.operator(OperatorAction::CloseValve(id.clone()));
                                }
                                if ui.button(tr(lang, "open valves")).clicked() {
                                    queue.operator(OperatorAction::OpenValve(id.clone()));
                                }
                            }
                            Kind::Site => {
                                for (label, a) in [
                                    (tr(lang, "drain jobs"), OperatorAction::DrainSite(id.clone())),
                                    (tr(lang, "resume jobs"), OperatorAction::ResumeSite(id.clone())),
                                    (tr(lang, "on battery"), OperatorAction::SiteOnBattery(id.clone())),
                                    (tr(lang, "off battery"), OperatorAction::SiteOffBattery(id.clone())),
                                    (tr(lang, "safe shutdown"), OperatorAction::ShutDownSite(id.clone())),
                                    (tr(lang, "start"), OperatorAction::StartSite(id.clone())),
                                ] {
                                    if ui.button(label).clicked() {
                                        queue.operator(a);
                                    }
                                }
                            }
                            Kind::Plant => {
                                let is_pump = spec.scene.plants.iter().any(|p| p.id() == id && matches!(p, Plant::CirculationPump { .. }));
                                let (start, stop) = if is_pump {
                                    (OperatorAction::StartPump(id.clone()), OperatorAction::StopPump(id.clone()))
                                } else {
                                    (OperatorAction::StartPlant(id.clone()), OperatorAction::StopPlant(id.clone()))
                                };
                                if ui.button(tr(lang, "start")).clicked() {
                                    queue.operator(start);
                                }
                                if ui.button(tr(lang, "stop")).clicked() {
                                    queue.operator(stop);
                                }
                                ui.add(egui::DragValue::new(&mut room.supply_setpoint_c).range(50.0..=110.0).suffix(" °C"));
                                if ui.button(tr(lang, "set supply temperature")).clicked() {
                                    queue.operator(OperatorAction::SetSupplyTemp { plant: id.clone(), temp_c: room.supply_setpoint_c });
                                }
                                if ui.button(tr(lang, "back to the curve")).clicked() {
                                    queue.operator(OperatorAction::ResetSupplyTemp(id.clone()));
                                }
                            }
                            _ => {
                                ui.label(tr(lang, "no operator action on this object"));
                            }
                        });
                    }
                }
                ui.horizontal(|ui| {
                    ui.add(egui::DragValue::new(&mut room.pump_dp_kpa).range(30.0..=600.0).suffix(" kPa"));
                    if ui.button(tr(lang, "set pump Δp")).clicked() {
                        queue.operator(OperatorAction::SetPumpDp(room.pump_dp_kpa * 1e3));
                    }
                    if ui.button(tr(lang, "reset")).clicked() {
                        queue.operator(OperatorAction::ResetPumpDp);
                    }
                });
                ui.horizontal(|ui| {
                    ui.add(egui::Slider::new(&mut room.shed_heat, 0.0..=0.5).text(tr(lang, "shed heat")));
                    if ui.button(tr(lang, "shed")).clicked() {
                        queue.operator(OperatorAction::ShedHeat(room.shed_heat));
                    }
                });
                let active: Vec<_> = faults.active().cloned().collect();
                if !active.is_empty() {
                    ui.label(egui::RichText::new(tr(lang, "Failures")).strong());
                }
                for f in &active {
                    ui.horizontal_wrapped(|ui| {
                        ui.label(tf(lang, "{} on {} since {}", &[&f.spec.id, &(f.spec.kind.object()), &(hm(f.started_s))]));
                        match f.repair_due_s() {
                            Some(t) => {
                                ui.label(tf(lang, "repair due {}", &[&(hm(t))]));
                            }
                            None => {
                                if ui.button(tr(lang, "dispatch a crew")).clicked() {
                                    queue.operator(OperatorAction::DispatchRepair(f.spec.id.clone()));
                                }
                            }
                        }
                    });
                }
                ui.collapsing(tf(lang, "action log ({})", &[&(log.entries.len())]), |ui| {
                    for e in log.entries.iter().rev().take(30) {
                        ui.horizontal_wrapped(|ui| {
                            ui.label(format!("{} {:?}{}", hm(e.time_s), e.command, if e.done { "" } else { tr(lang, " (not done)") }));
                            if let Some(u) = &e.undo
                                && ui.small_button(tr(lang, "undo")).clicked()
                            {
                                queue.operator(u.clone());
                            }
                        });
                    }
                });

                ui.separator();
                ui.heading(tr(lang, "Instructor"));
                ui.horizontal(|ui| {
                    if ui.button(if ctl.paused { tr(lang, "▶ run") } else { tr(lang, "❄ freeze") }).clicked() {
                        ctl.paused = !ctl.paused;
                    }
                    ui.add(egui::DragValue::new(&mut room.repair_s).range(60.0..=86_400.0).suffix(tr(lang, " s repair")));
                });
                if let Some((kind, id)) = &picked_id {
                    let mut kinds: Vec<(&str, FaultKind)> = Vec::new();
                    match kind {
                        Kind::Pipe => {
                            kinds.push(("leak", FaultKind::PipeLeak { pipe: id.clone(), hole_diameter_m: None }));
                            kinds.push(("burst", FaultKind::PipeBurst { pipe: id.clone(), hole_diameter_m: None }));
                        }
                        Kind::Site => {
                            kinds.push(("compressor failure", FaultKind::CompressorFailure { site: id.clone() }));
                            kinds.push(("power outage", FaultKind::SitePowerOutage { site: id.clone() }));
                            kinds.push(("fibre cut", FaultKind::FibreCut { site: id.clone() }));
                        }
                        Kind::Plant => match spec.scene.plants.iter().find(|p| p.id() == id) {
                            Some(Plant::CirculationPump { .. }) => kinds.push(("pump trip", FaultKind::PumpTrip { pump: id.clone(), standby_after_s: None })),
                            Some(Plant::HeatPump { .. }) => kinds.push(("heat-pump trip", FaultKind::HeatPumpTrip { plant: id.clone() })),
                            Some(Plant::GasBoiler { .. }) => kinds.push(("boiler failure", FaultKind::BoilerFailure { plant: id.clone() })),
                            Some(Plant::Storage { .. }) => kinds.push(("storage fault", FaultKind::StorageFault { plant: id.clone() })),
                            _ => {}
                        },
                        _ => {}
                    }
                    // Sensors of the object: drift and freeze.
                    if let Some(sensors) = &sensors {
                        for s in sensors.sensors.iter().filter(|s| s.object == *id).take(3) {
                            kinds.push(("sensor freeze", FaultKind::SensorFreeze { sensor: s.id.clone() }));
                            kinds.push(("sensor drift", FaultKind::SensorDrift { sensor: s.id.clone(), rate_per_h: 5.0 }));
                        }
                    }
                    ui.horizontal_wrapped(|ui| {
                        ui.label(tf(lang, "inject on {}:", &[id]));
                        for (label, k) in kinds {
                            let tip = match &k {
                                FaultKind::SensorFreeze { sensor } | FaultKind::SensorDrift { sensor, .. } => sensor.clone(),
                                _ => String::new(),
                            };
                            let label = tr(lang, label);
                            if ui.button(label).on_hover_text(tip).clicked() {
                                let fid = format!("f{}", room.fault_seq);
                                room.fault_seq += 1;
                                queue.instructor(InstructorCommand::Inject(FaultSpec {
                                    id: fid.clone(),
                                    kind: k,
                                    at_s: 0.0,
                                    repair_s: room.repair_s,
                                    repair: Repair::Crew,
                                }));
                                room.status = tf(lang, "injected {}: {} on {}", &[&fid, &label, id]);
                            }
                        }
                    });
                }
                if let Some(g) = &spec.scene.grid {
                    ui.horizontal_wrapped(|ui| {
                        ui.label(tr(lang, "feeder outage:"));
                        for f in g.feeders.iter().take(12) {
                            if ui.small_button(&f.id).clicked() {
                                let fid = format!("f{}", room.fault_seq);
                                room.fault_seq += 1;
                                queue.instructor(InstructorCommand::Inject(FaultSpec {
                                    id: fid.clone(),
                                    kind: FaultKind::FeederOutage { feeder: f.id.clone() },
                                    at_s: 0.0,
                                    repair_s: room.repair_s,
                                    repair: Repair::Crew,
                                }));
                                room.status = tf(lang, "injected {}: outage of feeder {}", &[&fid, &f.id]);
                            }
                        }
                    });
                }
                for f in &active {
                    if ui.small_button(tf(lang, "clear {} now", &[&f.spec.id])).clicked() {
                        queue.instructor(InstructorCommand::Clear(f.spec.id.clone()));
                    }
                }
                if let Some(store) = &store {
                    let times = store.times();
                    if let (Some(first), Some(last)) = (times.first(), times.last()) {
                        ui.horizontal(|ui| {
                            room.rewind_to_s = room.rewind_to_s.clamp(*first, *last);
                            ui.add(
                                egui::Slider::new(&mut room.rewind_to_s, *first..=*last)
                                    .custom_formatter(|v, _| hm(v))
                                    .text(tr(lang, "rewind to")),
                            );
                            if ui.button(tr(lang, "⏮ rewind")).on_hover_text(tr(lang, "go back and take over from there")).clicked() {
                                rewind.0 = Some((room.rewind_to_s, false));
                                ctl.paused = true;
                            }
                            if ui.button(tr(lang, "⏩ replay")).on_hover_text(tr(lang, "go back and replay the session at 3600×, with its actions, up to now")).clicked() {
                                rewind.0 = Some((room.rewind_to_s, true));
                                ctl.paused = false;
                                ctl.speed = 3600.0;
                            }
                        });
                        ui.label(egui::RichText::new(tf(lang, "{} snapshots, every {:.0} simulated minutes", &[&(times.len()), &(store.every_s / 60.0)])).small());
                    }
                }
            });
    }

    // ---- the training session: objectives, hints, score, debrief
    if let Some(s) = &session {
        let t = clock.time_s - s.start_s;
        let over = clock.time_s >= s.end_s - 1e-9;
        if over && !room.debrief_shown {
            room.debrief_shown = true;
            room.debrief_open = true;
            ctl.paused = true;
        }
        egui::Window::new(tf(lang, "Training: {}", &[&s.scenario]))
            .default_pos(egui::pos2(
                240.0,
                (ctx.content_rect().height() - 330.0).max(240.0),
            ))
            .default_width(360.0)
            .show(&ctx, |ui| {
                if t < 0.0 {
                    ui.label(tf(
                        lang,
                        "warming up the city… the session starts in {:.0} min",
                        &[&(-t / 60.0)],
                    ));
                    return;
                }
                ui.label(tf(
                    lang,
                    "session time {} of {}",
                    &[&(hm(t.max(0.0))), &(hm(s.end_s - s.start_s))],
                ));
                ui.label(tf(
                    lang,
                    "objectives: every consumer's supply ≥ {:.0} °C · restore within {:.0} min{}",
                    &[
                        &s.objectives.min_supply_temp_c,
                        &(s.objectives.restore_within_s / 60.0),
                        &(if s.objectives.no_job_lost {
                            tr(lang, " · no quantum job lost")
                        } else {
                            ""
                        }),
                    ],
                ));
                let Some(r) = &score.0 else { return };
                ui.label(
                    egui::RichText::new(tf(lang, "score so far {:.1}", &[&r.score]))
                        .size(20.0)
                        .strong(),
                );
                ui.label(tf(
                    lang,
                    "{:.0} min out of limits · {:.1} kWh unmet · {} jobs missed · {} hints",
                    &[
                        &r.metrics.minutes_out_of_limits,
                        &r.metrics.unmet_heat_kwh,
                        &r.metrics.jobs_missed,
                        &r.metrics.hints_used,
                    ],
                ));
                let available: Vec<_> = s.hints.iter().filter(|h| h.after_s <= t).collect();
                if room.hints_shown < available.len()
                    && ui
                        .button(tf(
                            lang,
                            "💡 hint ({} available, costs points)",
                            &[&(available.len() - room.hints_shown)],
                        ))
                        .clicked()
                {
                    room.hints_shown += 1;
                    queue.operator(OperatorAction::Hint);
                }
                for h in available.iter().take(room.hints_shown) {
                    ui.label(egui::RichText::new(format!("💡 {}", h.text)).italics());
                }
                if ui.button(tr(lang, "debrief")).clicked() {
                    room.debrief_open = true;
                }
            });
        if room.debrief_open
            && let Some(r) = score.0.clone()
        {
            let mut open = room.debrief_open;
            egui::Window::new(tr(lang, "Debrief"))
                .open(&mut open)
                .default_width(620.0)
                .vscroll(true)
                .show(&ctx, |ui| {
                    ui.label(egui::RichText::new(tf(lang, "{} — score {:.1}", &[&s.scenario, &r.score])).size(22.0).strong());
                    let ok = |b: bool| if b { "✔" } else { "✖" };
                    ui.label(tf(lang, "{} supply kept above {:.0} °C · {} no job lost · {} restored within {:.0} min", &[&(ok(r.objectives_met.supply_kept_above_min)), &s.objectives.min_supply_temp_c, &(ok(r.objectives_met.no_job_lost)), &(ok(r.objectives_met.restored_in_time)), &(s.objectives.restore_within_s / 60.0)]));
                    let p = &r.penalties;
                    egui::Grid::new("penalties").striped(true).show(ui, |ui| {
                        for (name, v) in [
                            (tr(lang, "time out of limits"), p.out_of_limits),
                            (tr(lang, "unmet heat"), p.unmet_heat),
                            (tr(lang, "jobs missed"), p.jobs_missed),
                            (tr(lang, "response time to alarms"), p.response_time),
                            (tr(lang, "hints used"), p.hints),
                            (tr(lang, "late restore"), p.late_restore),
                        ] {
                            ui.label(name);
                            ui.label(tf(lang, "−{:.1}", &[&v]));
                            ui.end_row();
                        }
                    });
                    let m = &r.metrics;
                    ui.label(tf(lang, "restored after {} · mean alarm response {:.0} s ({} of {} important alarms acknowledged) · {} floods · leak {:.0} kg of water", &[&(m.restore_time_s.map_or(tr(lang, "— (not restored)").into(), |x| tf(lang, "{:.0} min", &[&(x / 60.0)]))), &m.mean_response_s, &m.important_alarms_acknowledged, &m.important_alarms, &m.floods, &m.leak_water_kg]));
                    ui.separator();
                    ui.label(egui::RichText::new(tr(lang, "Timeline")).strong());
                    let mut lines: Vec<(f64, String)> = Vec::new();
                    for f in &faults.records {
                        lines.push((f.started_s, tf(lang, "FAILURE {} ({})", &[&f.spec.id, &format!("{:?}", f.spec.kind)])));
                        if let Some(t) = f.repaired_s {
                            lines.push((t, tf(lang, "repaired {}", &[&f.spec.id])));
                        }
                    }
                    for e in alarms.events.iter().filter(|e| e.priority >= Priority::High).take(200) {
                        lines.push((e.time_s, tf(lang, "alarm {} {} {}", &[&format!("{:?}", e.kind), &e.alarm, &tr(lang, &format!("{:?}", e.priority))])));
                    }
                    for e in &log.entries {
                        lines.push((e.time_s, tf(lang, "ACTION {}", &[&format!("{:?}", e.command)])));
                    }
                    lines.sort_by(|a, b| a.0.total_cmp(&b.0));
                    egui::ScrollArea::vertical().max_height(180.0).show(ui, |ui| {
                        for (t, l) in &lines {
                            ui.label(egui::RichText::new(format!("{} {l}", hm(t - s.start_s))).monospace().small());
                        }
                    });
                    ui.separator();
                    let th = |f: &dyn Fn(&crate::training::SeriesRow) -> f64| -> Vec<[f64; 2]> {
                        s.series.iter().map(|x| [(x.time_s - s.start_s) / 60.0, f(x)]).collect()
                    };
                    ui.label(tr(lang, "lowest supply temperature at a consumer (°C): true and as measured; minutes"));
                    Plot::new("deb_supply").height(120.0).legend(Legend::default()).show(ui, |pl| {
                        pl.line(series_line(tr(lang, "true"), th(&|x| x.min_supply_temp_c_true)));
                        pl.line(series_line(tr(lang, "measured"), th(&|x| x.min_supply_temp_c_measured)));
                    });
                    ui.label(tr(lang, "unmet heat (kW) and network flow (kg/s)"));
                    Plot::new("deb_unmet").height(110.0).legend(Legend::default()).show(ui, |pl| {
                        pl.line(series_line(tr(lang, "unmet kW"), th(&|x| x.unmet_heat_w / 1e3)));
                        pl.line(series_line(tr(lang, "flow kg/s"), th(&|x| x.network_flow_kg_s)));
                    });
                    ui.label(tr(lang, "static pressure (bar): true and measured; alarms unacknowledged"));
                    Plot::new("deb_p").height(110.0).legend(Legend::default()).show(ui, |pl| {
                        pl.line(series_line(tr(lang, "true"), th(&|x| x.static_pressure_pa_true / 1e5)));
                        pl.line(series_line(tr(lang, "measured"), th(&|x| x.static_pressure_pa_measured / 1e5)));
                        pl.line(series_line(tr(lang, "unacked alarms"), th(&|x| x.alarms_unacknowledged as f64)));
                    });
                });
            room.debrief_open = open;
        }
    }
    over_ui.0 |= ctx.is_pointer_over_egui();
    Ok(())
}

//! Operator actions and instructor commands: how people act on the running twin.
//!
//! # Model
//! An [`OperatorAction`] is what a control-room operator of the heat network or of a quantum
//! site can do: open or close a pipe's valves (isolate a stretch, reroute through a loop), start
//! and stop pumps, boilers and heat pumps, change the network's differential-pressure set-point
//! and a station's supply-temperature set-point, drain a site's jobs (they move to other sites),
//! put a site on its UPS battery or shut it down safely (servers and electronics off, compressor
//! on so the cryostat stays cold), shed heat or electrical load, dispatch a repair crew, and
//! handle alarms (acknowledge, shelve). An [`InstructorCommand`] injects or clears a failure.
//!
//! Each takes effect through the simulation at the start of the next tick
//! ([`crate::base::SimSet::Faults`]): a closed valve changes the hydraulics, a stopped boiler the
//! dispatch, a drained site the job schedule. Every command is logged with its time in
//! [`ActionLog`] (with whether it could be carried out and, where a real operator could undo it,
//! the action that undoes it: [`OperatorAction::Undo`]) and in [`InputLog`], the record a
//! session is replayed from (the snapshots).
//!
//! Commands arrive as Bevy messages ([`OperatorCommand`], [`InstructorCommandMessage`]) or are
//! pushed on [`CommandQueue`] directly (headless runs).
//!
//! Units: s, Pa, °C, shares 0–1.

use bevy::prelude::*;
use serde::{Deserialize, Serialize};

use crate::alarms::Alarms;
use crate::base::{SimClock, SimSet};
use crate::faults::{Equipment, FaultRecord, FaultSpec, Faults, SiteFlag};
use crate::hydraulics::HydraulicState;
use crate::plants::Stations;
use crate::quantum::Sites;

/// What an operator can do (objects by their scene ids; alarms by their ids).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OperatorAction {
    /// Close the valves at both ends of a pipe (isolates the stretch).
    CloseValve(String),
    OpenValve(String),
    /// Start a circulation pump (its standby if the duty pump has tripped).
    StartPump(String),
    StopPump(String),
    /// Start or stop a boiler or a heat pump.
    StartPlant(String),
    StopPlant(String),
    /// Differential-pressure set-point at the worst substation, Pa.
    SetPumpDp(f64),
    /// Back to the scene's set-point.
    ResetPumpDp,
    /// Supply-temperature set-point of the station of a plant (any plant at that node), °C.
    SetSupplyTemp {
        plant: String,
        temp_c: f64,
    },
    /// Back to the outdoor reset curve.
    ResetSupplyTemp(String),
    /// Take no new jobs and move the queued ones to other sites.
    DrainSite(String),
    ResumeSite(String),
    /// Run the site from its UPS battery.
    SiteOnBattery(String),
    SiteOffBattery(String),
    /// Safe shutdown: queue moved, servers and electronics off, compressor kept running.
    ShutDownSite(String),
    StartSite(String),
    /// Shed this share of the heat demand (all consumers but hospitals), 0–1.
    ShedHeat(f64),
    /// Shed this share of the buildings' electricity on a bus, 0–1.
    ShedElectricity {
        bus: String,
        share: f64,
    },
    /// Switch the key exchange of a service's data link to a site (`site` may be `*`: every
    /// site); a new session follows at the next tick.
    SetLinkScheme {
        service: String,
        site: String,
        scheme: crate::scene::LinkScheme,
    },
    /// Send a repair crew to a failure (its repair time starts now).
    DispatchRepair(String),
    Acknowledge(String),
    AcknowledgeAll,
    Shelve {
        alarm: String,
        duration_s: f64,
    },
    Unshelve(String),
    /// The trainee asked for a hint (counted in the score).
    Hint,
    /// Undo the logged action with this sequence number.
    Undo(u64),
}

/// What an instructor can do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InstructorCommand {
    /// Inject a failure now (its `at_s` is ignored).
    Inject(FaultSpec),
    /// Clear a failure at once (repaired).
    Clear(String),
}

/// Any command, as logged and replayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    Operator(OperatorAction),
    Instructor(InstructorCommand),
}

#[derive(Message, Debug, Clone)]
pub struct OperatorCommand(pub OperatorAction);

#[derive(Message, Debug, Clone)]
pub struct InstructorCommandMessage(pub InstructorCommand);

/// Commands waiting for the next tick.
#[derive(Resource, Debug, Clone, Default)]
pub struct CommandQueue {
    pub pending: Vec<Command>,
}

impl CommandQueue {
    pub fn operator(&mut self, a: OperatorAction) {
        self.pending.push(Command::Operator(a));
    }
    pub fn instructor(&mut self, c: InstructorCommand) {
        self.pending.push(Command::Instructor(c));
    }
}

/// One logged command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionEntry {
    pub seq: u64,
    /// Simulated time it took effect, s.
    pub time_s: f64,
    pub command: Command,
    /// Whether it could be carried out.
    pub done: bool,
    /// Why not, or what happened.
    pub note: String,
    /// The action that undoes it, where a real operator could.
    pub undo: Option<OperatorAction>,
}

/// Every command with its time.
#[derive(Resource, Debug, Clone, Default, Serialize, Deserialize)]
pub struct ActionLog {
    pub entries: Vec<ActionEntry>,
}

/// Every command that reached the simulation, by the tick it took effect in (for replay).
#[derive(Resource, Debug, Clone, Default, Serialize, Deserialize)]
pub struct InputLog {
    pub entries: Vec<(u64, Command)>,
}

pub struct OperatorPlugin;

impl Plugin for OperatorPlugin {
    fn build(&self, app: &mut App) {
        app.add_message::<OperatorCommand>()
            .add_message::<InstructorCommandMessage>()
            .init_resource::<CommandQueue>()
            .init_resource::<ActionLog>()
            .init_resource::<InputLog>()
            .add_systems(
                FixedUpdate,
                (collect_messages, apply_commands)
                    .chain()
                    .in_set(SimSet::Commands),
            );
    }
}

/// Moves commands sent as messages onto the queue.
pub fn collect_messages(
    mut op: MessageReader<OperatorCommand>,
    mut ins: MessageReader<InstructorCommandMessage>,
    mut q: ResMut<CommandQueue>,
) {
    for m in op.read() {
        q.operator(m.0.clone());
    }
    for m in ins.read() {
        q.instructor(m.0.clone());
    }
}

/// Applies the queued commands, in order, and logs them.
pub fn apply_commands(world: &mut World) {
    let pending = std::mem::take(&mut world.resource_mut::<CommandQueue>().pending);
    if pending.is_empty() {
        return;
    }
    let (tick, now) = {
        let c = world.resource::<SimClock>();
        (c.tick, c.time_s)
    };
    for cmd in pending {
        world
            .resource_mut::<InputLog>()
            .entries
            .push((tick, cmd.clone()));
        let (done, note, undo) = match &cmd {
            Command::Operator(a) => apply_action(world, a, now),
            Command::Instructor(c) => apply_instructor(world, c, now),
        };
        let mut log = world.resource_mut::<ActionLog>();
        let seq = log.entries.len() as u64;
        log.entries.push(ActionEntry {
            seq,
            time_s: now,
            command: cmd,
            done,
            note,
            undo,
        });
    }
}

type Outcome = (bool, String, Option<OperatorAction>);

fn ok(undo: Option<OperatorAction>) -> Outcome {
    (true, String::new(), undo)
}
fn refused(why: impl Into<String>) -> Outcome {
    (false, why.into(), None)
}

fn apply_instructor(world: &mut World, c: &InstructorCommand, now: f64) -> Outcome {
    let mut f = world.resource_mut::<Faults>();
    match c {
        InstructorCommand::Inject(spec) => {
            if f.active().any(|r| r.spec.id == spec.id) {
                return refused(format!("failure {} is already active", spec.id));
            }
            let mut spec = spec.clone();
            spec.at_s = now;
            f.records.push(FaultRecord {
                spec,
                started_s: now,
                crew_dispatched_s: None,
                repaired_s: None,
            });
            ok(None)
        }
        InstructorCommand::Clear(id) => {
            match f
                .records
                .iter_mut()
                .rev()
                .find(|r| &r.spec.id == id && r.active())
            {
                Some(r) => {
                    r.repaired_s = Some(now);
                    ok(None)
                }
                None => refused(format!("no active failure {id}")),
            }
        }
    }
}

fn site_index(world: &World, id: &str) -> Option<usize> {
    world.resource::<Sites>().ids.iter().position(|x| x == id)
}

/// Applies one operator action; returns whether it was done, a note, and its undo.
pub fn apply_action(world: &mut World, a: &OperatorAction, now: f64) -> Outcome {
    use OperatorAction as A;
    match a {
        A::CloseValve(p) | A::OpenValve(p) => {
            let open = matches!(a, A::OpenValve(_));
            let Some(k) = world
                .resource::<crate::network::Network>()
                .pipe_ids
                .iter()
                .position(|x| x == p)
            else {
                return refused(format!("no pipe {p}"));
            };
            let was = world.resource_mut::<Equipment>().set_pipe_open(k, open);
            ok(Some(if was {
                A::OpenValve(p.clone())
            } else {
                A::CloseValve(p.clone())
            }))
        }
        A::StartPump(id) | A::StopPump(id) => {
            let start = matches!(a, A::StartPump(_));
            let (tripped, low_static) = {
                let f = world.resource::<Faults>();
                (
                    f.any_active(|k| matches!(k, crate::scene::FaultKind::PumpTrip { pump, .. } if pump == id)),
                    f.static_pressure_pa < f.config.low_pressure_trip_share * f.nominal_static_pa,
                )
            };
            let mut eq = world.resource_mut::<Equipment>();
            let Some(i) = eq.pump(id) else {
                return refused(format!("no pump {id}"));
            };
            if start {
                if low_static {
                    return refused("static pressure too low: the pump would trip again");
                }
                let changed = eq.start_pump(i, tripped);
                let note = if tripped { "standby pump started" } else { "" };
                (true, note.into(), changed.then(|| A::StopPump(id.clone())))
            } else {
                let was_running = eq.stop_pump(i);
                ok(was_running.then(|| A::StartPump(id.clone())))
            }
        }
        A::StartPlant(id) | A::StopPlant(id) => {
            let known = world
                .resource::<Stations>()
                .boilers
                .iter()
                .flatten()
                .any(|b| &b.id == id)
                || world
                    .resource::<Stations>()
                    .heat_pumps
                    .iter()
                    .flatten()
                    .any(|h| &h.id == id);
            if !known {
                return refused(format!("no boiler or heat pump {id}"));
            }
            let was_off = world
                .resource_mut::<Equipment>()
                .set_plant_off(id, matches!(a, A::StopPlant(_)));
            ok(Some(if was_off {
                A::StopPlant(id.clone())
            } else {
                A::StartPlant(id.clone())
            }))
        }
        A::SetPumpDp(_) | A::ResetPumpDp => {
            if let A::SetPumpDp(pa) = a
                && !(pa.is_finite() && *pa > 0.0)
            {
                return refused("set-point must be positive");
            }
            let before = world
                .resource_mut::<HydraulicState>()
                .set_dp_setpoint_override(match a {
                    A::SetPumpDp(pa) => Some(*pa),
                    _ => None,
                });
            ok(Some(before.map_or(A::ResetPumpDp, A::SetPumpDp)))
        }
        A::SetSupplyTemp { plant, .. } | A::ResetSupplyTemp(plant) => {
            let node = {
                let spec = world.resource::<crate::base::SceneSpec>();
                spec.scene
                    .plants
                    .iter()
                    .find(|p| p.id() == plant)
                    .map(|p| p.node().to_string())
            };
            let Some(node) =
                node.and_then(|n| world.resource::<crate::network::Network>().node(&n))
            else {
                return refused(format!("no plant {plant}"));
            };
            let mut st = world.resource_mut::<Stations>();
            let Some(s) = st.node.iter().position(|&x| x == node) else {
                return refused(format!("{plant} is not at a station"));
            };
            let new = match a {
                A::SetSupplyTemp { temp_c, .. } => {
                    if !(20.0..=130.0).contains(temp_c) {
                        return refused("supply set-point outside 20–130 °C");
                    }
                    Some(*temp_c)
                }
                _ => None,
            };
            let before = st.set_setpoint_override(s, new);
            ok(Some(match before {
                Some(t) => A::SetSupplyTemp {
                    plant: plant.clone(),
                    temp_c: t,
                },
                None => A::ResetSupplyTemp(plant.clone()),
            }))
        }
        A::DrainSite(id) | A::ResumeSite(id) => site_flag(
            world,
            id,
            SiteFlag::Drained,
            matches!(a, A::DrainSite(_)),
            A::DrainSite,
            A::ResumeSite,
        ),
        A::SiteOnBattery(id) | A::SiteOffBattery(id) => site_flag(
            world,
            id,
            SiteFlag::OnBattery,
            matches!(a, A::SiteOnBattery(_)),
            A::SiteOnBattery,
            A::SiteOffBattery,
        ),
        A::ShutDownSite(id) | A::StartSite(id) => site_flag(
            world,
            id,
            SiteFlag::ShutDown,
            matches!(a, A::ShutDownSite(_)),
            A::ShutDownSite,
            A::StartSite,
        ),
        A::ShedHeat(share) => {
            let before = world.resource_mut::<Equipment>().set_heat_shed(*share);
            ok(Some(A::ShedHeat(before)))
        }
        A::ShedElectricity { bus, share } => {
            let b = world
                .resource::<crate::grid::GridState>()
                .bus_ids
                .iter()
                .position(|x| x == bus);
            let Some(b) = b else {
                return refused(format!("no bus {bus}"));
            };
            let before = world
                .resource_mut::<Equipment>()
                .set_electricity_shed(b, *share);
            ok(Some(A::ShedElectricity {
                bus: bus.clone(),
                share: before,
            }))
        }
        A::SetLinkScheme {
            service,
            site,
            scheme,
        } => {
            let Some(svc) = crate::quantum::jobs::Service::ALL
                .into_iter()
                .find(|s| s.name() == service)
            else {
                return refused(format!("no city service {service}"));
            };
            let ids = world.resource::<Sites>().ids.clone();
            let chosen: Vec<usize> = if site == "*" {
                (0..ids.len()).collect()
            } else {
                match ids.iter().position(|x| x == site) {
                    Some(i) => vec![i],
                    None => return refused(format!("no quantum site {site}")),
                }
            };
            let Some(mut links) = world.get_resource_mut::<crate::links::DataLinkState>() else {
                return refused("no data links");
            };
            let mut old = Vec::new();
            for i in chosen {
                let k = links.index(svc, i);
                old.push(links.links[k].scheme);
                links.set_scheme(k, *scheme);
            }
            // Undo: the old scheme, when the links had one.
            let undo =
                (!old.is_empty() && old.iter().all(|s| *s == old[0])).then(|| A::SetLinkScheme {
                    service: service.clone(),
                    site: site.clone(),
                    scheme: old[0],
                });
            ok(undo)
        }
        A::DispatchRepair(id) => match world.resource_mut::<Faults>().dispatch_crew(id, now) {
            Ok(repair_s) => (true, format!("repair done in {repair_s:.0} s"), None),
            Err(msg) => refused(msg),
        },
        A::Acknowledge(id) => match world.resource_mut::<Alarms>().acknowledge(id, now) {
            true => ok(None),
            false => refused(format!("alarm {id} needs no acknowledgement")),
        },
        A::AcknowledgeAll => {
            let n = world.resource_mut::<Alarms>().acknowledge_all(now);
            (true, format!("{n} acknowledged"), None)
        }
        A::Shelve { alarm, duration_s } => {
            match world
                .resource_mut::<Alarms>()
                .shelve(alarm, now, *duration_s)
            {
                true => ok(Some(A::Unshelve(alarm.clone()))),
                false => refused(format!("no alarm {alarm}")),
            }
        }
        A::Unshelve(alarm) => match world.resource_mut::<Alarms>().unshelve(alarm, now) {
            true => ok(None),
            false => refused(format!("alarm {alarm} is not shelved")),
        },
        A::Hint => ok(None),
        A::Undo(seq) => {
            let entry = world
                .resource::<ActionLog>()
                .entries
                .get(*seq as usize)
                .cloned();
            match entry.and_then(|e| e.undo) {
                Some(u) => {
                    let (done, note, _) = apply_action(world, &u, now);
                    (done, format!("undo of #{seq}: {u:?} {note}"), None)
                }
                None => refused(format!("action #{seq} cannot be undone")),
            }
        }
    }
}

fn site_flag(
    world: &mut World,
    id: &str,
    flag: SiteFlag,
    value: bool,
    on: fn(String) -> OperatorAction,
    off: fn(String) -> OperatorAction,
) -> Outcome {
    let Some(i) = site_index(world, id) else {
        return refused(format!("no site {id}"));
    };
    let before = world
        .resource_mut::<Equipment>()
        .set_site_flag(i, flag, value);
    ok(Some(if before {
        on(id.to_string())
    } else {
        off(id.to_string())
    }))
}

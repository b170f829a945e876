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
//! [`apply_live`] applies an edit to a world built by the composition (`sim::spawn_scene`). Parameters the
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
//! # Where things are
//! - the edit types themselves are part of the scene format (`crate::scene::edits`: a saved scene
//!   holds its edits); here: `edit` — applying, reverting and describing them; `make` — the
//!   constructors a planner calls (add, move, remove a site, insulation, temperatures, PV, weather,
//!   carbon); `placement` — where a new site goes and how it is connected; `stack` — undo/redo and
//!   saving; `live` — edits on a running world.
//!
//! Units: SI as in [`crate::scene`] (W, °C, m, g CO₂/kWh).

mod edit;
mod live;
mod make;
pub mod param;
mod placement;
pub mod proposal;
pub mod runs;
pub mod siting;
mod stack;

pub use crate::scene::edits::{Connection, Edit, EditRecord, NetworkTemps, Relocation, SiteBundle};
pub use edit::*;
pub use live::*;
pub use make::*;
pub use placement::*;
pub use stack::*;

use crate::scene::{
    Climate, HeatNetwork, Node, Pipe, PipeInsulation, PipeSize, Plant, PvArray, QuantumSite, Scene,
};

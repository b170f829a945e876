//! # qtwin — a digital twin of a city warmed by its micro quantum data centres
//!
//! Small quantum data centres ("micro quantum sites") sit inside the city. Their waste heat is
//! lifted by heat pumps into a district-heating network that warms buildings; an electrical grid
//! with PV, wind, batteries and an import connection powers them; city services send them quantum
//! jobs. This crate holds the scene format, the simulation (a Bevy ECS world run headless under
//! `MinimalPlugins`) and the command line.
//!
//! ## Layout
//! - [`scene`] — the RON scene format and its validation (the bottom layer: plain data).
//! - [`generate`] — the city generator (`qtwin generate`) and the Riverside demo district; it
//!   sits above the domains and writes scenes.
//! - [`sim`] — the tick order ([`sim::SimSet`]), the clock, building a world from a scene.
//! - One plugin per domain, in tick order: [`weather`], [`demand`], [`quantum`], [`links`], [`plants`],
//!   [`hydraulics`], [`thermal`], [`grid`], [`ledger`].
//! - [`whatif`] — edits with undo/redo, live edits, compare, sweep, site suitability.
//! - Training: [`faults`] (failures with their physics, repair), [`operator`] (actions,
//!   instructor commands, the action log), [`alarms`] (measured values, ISA-18.2 alarms, floods),
//!   [`training`] (scenarios, scripted trainees, the session log, scoring), [`snapshot`]
//!   (rewind and snapshot files).
//! - [`cli`] — `qtwin check | run | train | generate | bench | edit | compare | sweep | suggest`.
//!
//! ## Glossary
//! - **Node** — a junction of the heat network; **pipe** — a supply/return pipe pair between nodes.
//! - **Station** — a node where plants make heat (heat pumps, boilers, fixed sources) and pumps push
//!   the water; the **reference station** of a connected part holds its pressure and closes its
//!   mass balance.
//! - **Consumer** — a building's substation (or a test consumer) taking heat from the network.
//! - **Substation** — the heat exchanger of a building; asks for a mass flow to meet its demand.
//! - **Waste heat recovered** — heat the heat pumps took from quantum sites' warm water.
//! - **Tick** — one step of simulated time (default 60 s), one run of `FixedUpdate`.
//!
//! ## Conventions
//! SI units; names carry them (`power_w`, `temp_c`, `mass_flow_kg_s`). Scene objects have stable
//! string ids. Randomness is seeded only; the same scene and seed give bit-identical reports.

pub mod alarms;
pub mod base;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod demand;
pub mod faults;
pub mod generate;
pub mod grid;
pub mod hydraulics;
pub mod import;
pub mod ledger;
pub mod limits;
pub mod links;
pub mod math;
pub mod network;
pub mod operator;
pub mod plants;
pub mod quantum;
pub mod scene;
pub mod sim;
pub mod snapshot;
pub mod thermal;
pub mod training;
#[cfg(feature = "view-core")]
pub mod view;
pub mod water;
pub mod weather;
pub mod whatif;

pub use bevy;

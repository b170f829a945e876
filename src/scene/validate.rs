//! Semantic checks of a parsed scene: every problem is listed, none panics.
//!
//! The checks: duplicate and unknown ids, a pipe joining a node to itself, non-positive lengths and
//! diameters, values outside their physical range, plants and sites that reference the wrong kind
//! of thing, a connected part of the heat network that has consumers but no heat source, and the
//! ranges of the quantum job settings (`quantum_jobs`).
//!
//! # Every number is finite and in range
//! A scene is read from files that people pass around, so every number of the format is checked
//! to be finite and inside a physical range: one NaN or infinity would otherwise turn a whole run
//! into NaN. Positions (building and site footprints, nodes, sites, buses, wind turbines, pipe
//! routes, map features) must lie within [`MAX_EXTENT_M`] of the origin. The ranges (closed
//! unless marked; "> 0" means positive):
//!
//! | field | range | unit |
//! | --- | --- | --- |
//! | every position's x and y | −100,000 … 100,000 | m |
//! | `sim.tick_s` | 0.1 … 3600 | s |
//! | `sim.start_day_of_year` | 1 … 365 | d |
//! | `sim.indoor_setpoint_c` | 5 … 30 | °C |
//! | `fluid.cp_j_kg_k`, `density_kg_m3`, `viscosity_pa_s` | 1000 … 6000, 500 … 1200, 1e-5 … 0.1 | SI |
//! | `fluid.properties` | `Fixed` or `WaterIf97` (the network's 10 … 140 °C lie in its 0 … 150 °C) | – |
//! | monthly climate: latitude, mean temperature, diurnal swing, irradiation, wind, noise, ground | −90 … 90, −60 … 50, 0 … 40, 0 … 12 kWh/m²d, 0 … 40, 0 … 20, −30 … 50 | °, °C, K, –, m/s, K, °C |
//! | fixed climate: outdoor, ground, irradiance, wind | −60 … 60, −30 … 60, 0 … 1400 W/m², 0 … 60 m/s | |
//! | `heat_network.supply_temp_c`, `supply_temp_at_design_c` | 10 … 140 | °C |
//! | `heat_network.return_temp_c` | 5 … supply | °C |
//! | `heat_network.design_outdoor_temp_c` | −60 … heating limit − 1 (14; [`super::HEATING_LIMIT_C`]) | °C |
//! | `heat_network.supply_pressure_pa`, `return_pressure_pa` | 0 … 4e6, supply ≥ return | Pa |
//! | `heat_network.min_substation_dp_pa` | 0 … 1e6 | Pa |
//! | `heat_network.dhw_min_supply_temp_c` | 20 … 95 | °C |
//! | node `elevation_m` | −500 … 5000 | m |
//! | pipe `length_m` (given or from its route or nodes) | > 0 … 1e6 | m |
//! | pipe inner diameter, roughness, burial depth | 0.005 … 2, 0 … 0.01, 0 … 10 | m |
//! | pipe linear / surface heat loss | 0 … 50 W/(m·K), 0 … 500 W/(m²·K) | |
//! | consumer mass flow, heat, return temperature | 0 … 1e4 kg/s, 0 … 1e9 W, 0 … 140 °C | return temperature required for `MassFlowKgS`/`HeatW`, not given for the ΔT forms |
//! | consumer `delta_t_k` (`MassFlowDeltaT` 0 … 100 K, 0 a bypass; `HeatDeltaT`) | 0.1 … 100 K | `HeatDeltaT`'s flow `heat_w/(c_p·delta_t_k)` at most 1e4 kg/s |
//! | building floors, floor height, heated area | 1 … 200, 2 … 10 m, > 0 … 1e7 m² | |
//! | building heat-loss coefficient, hot-water share, absorption cooling, return temperature | 0 … 1e7 W/K, 0 … 0.6, 0 … 1e8 W, 5 … 100 °C | |
//! | building footprint | ≥ 3 corners, area > 0 | |
//! | imported building's specific heat | 0 … 2000 | kWh/(m²·a) |
//! | `georef` longitude, latitude | −180 … 180, −85 … 85 | ° |
//! | site qubits, compressor, electronics per qubit, servers | 1 … 10,000, 0 … 1e6 W, 0 … 1e4 W, 0 … 1e7 W | |
//! | site idle share, recoverable share, utilisation, recovered water | 0 … 1, 0 … 1, 0 … 1, 5 … 90 °C | |
//! | plant capacities, storage and pump powers | > 0 … 1e10 | W |
//! | heat pump Carnot fraction, boiler efficiency, pump efficiency | 0.05 … 0.9, 0.3 … 1.1, 0.05 … 1 | |
//! | storage volume, ΔT, loss, initial SOC | > 0 … 1e6 m³, 1 … 100 K, 0 … 1e5 W/K, 0 … 1 | |
//! | pump max head | > 0 … 4e6 | Pa |
//! | fixed source supply temperature | 0 … 150 | °C |
//! | feeder capacity | > 0 … 1e10 | W |
//! | PV peak, performance ratio | 0 … 1e9 W, 0.1 … 1 | |
//! | wind rated power, hub height, cut-in < rated < cut-out | 0 … 2e7 W, 5 … 250 m, 0 … 100 m/s | |
//! | battery capacity, power, efficiency, SOC | > 0 … 1e12 Wh, > 0 … 1e10 W, 0.3 … 1, 0 … 1 | |
//! | grid import / export capacity, carbon intensity, monthly factor | 0 … 1e10 W, 0 … 2000 g/kWh, 0 … 5 | |
//! | map street/river width | 0 … 1000 | m |
//! | quantum jobs: rates, qubits, layers, shots, deadline | 0 … 1e4 /h, 2 … 14, 1 … 10, 1 … 1e10, > 0 … 1e7 s | |
//! | quantum jobs: overhead, reset, simulated shots, trajectories, calibration hour, duration, spread | 0 … 3600 s, 0 … 1e-3 s, 1 … 1e5, 1 … 1e4, 0 … 24 h, 0 … 6 h, 0 … 1 | |
//! | device T1, T2 (≤ 2·T1), frequency, errors, gate and readout times | > 0 … 10 s, 1e8 … 1e11 Hz, 0 … 0.5, 1e-10 … 1e-5 / 1e-4 s, 1e-9 … 1e-3 s | |
//! | cryostat base, too warm (> base), warm limit (≥ too warm), knees, time constants, warm rate | 0.001 … 1 K, … 300 K, > 0 … 300 K, > 0 … 1e7 s, > 0 … 1 /s | |
//! | fibre route factor, speed, hop delay, hops, remote fibre, remote RTT | 1 … 5, 1e8 … 3e8 m/s, 0 … 0.1 s, 0 … 100, 0 … 4e7 m, 0 … 10 s | |
//! | failures: `at_s`, `repair_s`, `standby_after_s`, hole diameter, drift rate | 0 … 3.2e9 s, > 0 … 3.2e9 s, 0 … 3.2e9 s, > 0 … 1 m, abs ≤ 1e9 /h | ([`super::failures::check_failures`]) |

use super::*;
use std::collections::{HashMap, HashSet};

/// Largest |x| or |y| of any position in a scene, m (100 km: a city, with room to spare).
pub const MAX_EXTENT_M: f64 = 100_000.0;

/// One semantic problem, with the entity it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationIssue {
    /// Dotted path of the offending entity, e.g. `heat_network.pipes[p12]`.
    pub at: String,
    pub msg: String,
}

impl std::fmt::Display for ValidationIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.msg)
    }
}

/// Everything that can be wrong with a scene file.
#[derive(Debug, thiserror::Error)]
pub enum SceneError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{} problem(s):\n{}", .0.len(), .0.iter().map(|i| format!("  {i}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<ValidationIssue>),
}

struct Checker {
    issues: Vec<ValidationIssue>,
}

impl Checker {
    fn err(&mut self, at: impl Into<String>, msg: impl Into<String>) {
        self.issues.push(ValidationIssue {
            at: at.into(),
            msg: msg.into(),
        });
    }
    fn range(&mut self, at: &str, name: &str, v: f64, lo: f64, hi: f64) {
        if !v.is_finite() || v < lo || v > hi {
            self.err(at, format!("{name} = {v} is outside [{lo}, {hi}]"));
        }
    }
    /// Positive and at most `hi`.
    fn positive_max(&mut self, at: &str, name: &str, v: f64, hi: f64) {
        if !v.is_finite() || v <= 0.0 || v > hi {
            self.err(at, format!("{name} = {v} is outside (0, {hi}]"));
        }
    }
    /// A position: finite and within [`MAX_EXTENT_M`].
    fn point(&mut self, at: &str, name: &str, p: [f64; 2]) {
        if !(p[0].is_finite() && p[1].is_finite())
            || p[0].abs() > MAX_EXTENT_M
            || p[1].abs() > MAX_EXTENT_M
        {
            self.err(
                at,
                format!(
                    "{name} = ({}, {}) is not a finite point within {MAX_EXTENT_M} m of the origin",
                    p[0], p[1]
                ),
            );
        }
    }
    /// Every point of a list (one problem per list: the first bad point).
    fn points(&mut self, at: &str, name: &str, ps: &[[f64; 2]]) {
        if let Some((i, p)) = ps.iter().enumerate().find(|(_, p)| {
            !(p[0].is_finite() && p[1].is_finite())
                || p[0].abs() > MAX_EXTENT_M
                || p[1].abs() > MAX_EXTENT_M
        }) {
            self.point(at, &format!("{name}[{i}]"), *p);
        }
    }
    fn ids<'a>(&mut self, kind: &str, ids: impl Iterator<Item = &'a str>) -> HashSet<&'a str> {
        let mut seen = HashSet::new();
        for id in ids {
            if id.is_empty() {
                self.err(kind, "an id is empty");
            } else if !seen.insert(id) {
                self.err(format!("{kind}[{id}]"), "duplicate id");
            }
        }
        seen
    }
}

/// Checks a scene; `Ok(())` or every problem found.
pub fn validate(scene: &Scene) -> Result<(), Vec<ValidationIssue>> {
    let mut c = Checker { issues: Vec::new() };
    let s = &scene.sim;
    c.range("sim", "tick_s", s.tick_s, 0.1, 3600.0);
    c.range(
        "sim",
        "start_day_of_year",
        s.start_day_of_year as f64,
        1.0,
        365.0,
    );
    c.range("sim", "indoor_setpoint_c", s.indoor_setpoint_c, 5.0, 30.0);
    c.range("fluid", "cp_j_kg_k", scene.fluid.cp_j_kg_k, 1000.0, 6000.0);
    c.range(
        "fluid",
        "density_kg_m3",
        scene.fluid.density_kg_m3,
        500.0,
        1200.0,
    );
    c.range(
        "fluid",
        "viscosity_pa_s",
        scene.fluid.viscosity_pa_s,
        1e-5,
        1e-1,
    );

    match &scene.climate {
        Climate::Monthly(m) => {
            c.range("climate", "latitude_deg", m.latitude_deg, -90.0, 90.0);
            for i in 0..12 {
                c.range("climate", "mean_temp_c", m.mean_temp_c[i], -60.0, 50.0);
                c.range(
                    "climate",
                    "diurnal_swing_k",
                    m.diurnal_swing_k[i],
                    0.0,
                    40.0,
                );
                c.range(
                    "climate",
                    "daily_irradiation_kwh_m2",
                    m.daily_irradiation_kwh_m2[i],
                    0.0,
                    12.0,
                );
                c.range("climate", "mean_wind_m_s", m.mean_wind_m_s[i], 0.0, 40.0);
            }
            c.range("climate", "temp_noise_k", m.temp_noise_k, 0.0, 20.0);
            if let Some(g) = m.ground_temp_c {
                c.range("climate", "ground_temp_c", g, -30.0, 50.0);
            }
        }
        Climate::Fixed(f) => {
            c.range("climate", "outdoor_temp_c", f.outdoor_temp_c, -60.0, 60.0);
            c.range("climate", "ground_temp_c", f.ground_temp_c, -30.0, 60.0);
            c.range("climate", "irradiance_w_m2", f.irradiance_w_m2, 0.0, 1400.0);
            c.range("climate", "wind_m_s", f.wind_m_s, 0.0, 60.0);
        }
    }

    if let Some(g) = &scene.georef {
        c.range("georef", "origin_lon_deg", g.origin_lon_deg, -180.0, 180.0);
        c.range("georef", "origin_lat_deg", g.origin_lat_deg, -85.0, 85.0);
    }
    for (i, f) in scene.map.iter().enumerate() {
        let at = format!("map[{i}]");
        match f {
            MapFeature::Street { points, width_m } | MapFeature::River { points, width_m } => {
                c.points(&at, "points", points);
                c.range(&at, "width_m", *width_m, 0.0, 1000.0);
            }
            MapFeature::Park { polygon } | MapFeature::Water { polygon } => {
                c.points(&at, "polygon", polygon)
            }
            MapFeature::Outbuilding { polygon, height_m } => {
                c.points(&at, "polygon", polygon);
                c.range(&at, "height_m", *height_m, 0.0, 1000.0);
            }
        }
    }

    let net = &scene.heat_network;
    c.range(
        "heat_network",
        "supply_temp_c",
        net.supply_temp_c,
        10.0,
        140.0,
    );
    c.range(
        "heat_network",
        "design_outdoor_temp_c",
        net.design_outdoor_temp_c,
        -60.0,
        HEATING_LIMIT_C - 1.0,
    );
    c.range(
        "heat_network",
        "supply_pressure_pa",
        net.supply_pressure_pa,
        0.0,
        4e6,
    );
    c.range(
        "heat_network",
        "return_pressure_pa",
        net.return_pressure_pa,
        0.0,
        4e6,
    );
    if net.supply_pressure_pa < net.return_pressure_pa {
        c.err(
            "heat_network",
            format!(
                "supply_pressure_pa = {} is below return_pressure_pa = {}",
                net.supply_pressure_pa, net.return_pressure_pa
            ),
        );
    }
    c.range(
        "heat_network",
        "dhw_min_supply_temp_c",
        net.dhw_min_supply_temp_c,
        20.0,
        95.0,
    );
    c.range(
        "heat_network",
        "return_temp_c",
        net.return_temp_c,
        5.0,
        net.supply_temp_c.max(5.0),
    );
    if let Some(t) = net.supply_temp_at_design_c {
        c.range("heat_network", "supply_temp_at_design_c", t, 10.0, 140.0);
    }
    c.range(
        "heat_network",
        "min_substation_dp_pa",
        net.min_substation_dp_pa,
        0.0,
        1e6,
    );

    let node_ids = c.ids(
        "heat_network.nodes",
        net.nodes.iter().map(|n| n.id.as_str()),
    );
    c.ids(
        "heat_network.pipes",
        net.pipes.iter().map(|p| p.id.as_str()),
    );
    for n in &net.nodes {
        let at = format!("heat_network.nodes[{}]", n.id);
        c.point(&at, "pos", n.pos);
        c.range(&at, "elevation_m", n.elevation_m, -500.0, 5000.0);
    }
    let positions = scene.node_positions();
    for p in &net.pipes {
        let at = format!("heat_network.pipes[{}]", p.id);
        for (end, id) in [("from", &p.from), ("to", &p.to)] {
            if !node_ids.contains(id.as_str()) {
                c.err(&at, format!("{end} = \"{id}\" is not a node"));
            }
        }
        if p.from == p.to {
            c.err(&at, format!("joins node \"{}\" to itself", p.from));
        }
        c.points(&at, "route", &p.route);
        match Scene::pipe_length_m(&positions, p) {
            Some(l) if l.is_finite() && l > 0.0 && l <= 1e6 => {}
            Some(l) if l > 1e6 => c.err(&at, format!("length_m = {l} is over 1e6 m")),
            Some(l) => c.err(&at, format!("length_m = {l} must be positive")),
            None => {}
        }
        match p.size {
            PipeSize::InnerDiameterM(d) => c.range(&at, "inner diameter (m)", d, 0.005, 2.0),
            PipeSize::Dn(dn) => {
                if dn_entry(dn).is_none() {
                    c.err(&at, format!("DN{dn} is not a known nominal size"));
                }
            }
        }
        match p.insulation {
            PipeInsulation::Series(s) if !(1..=3).contains(&s) => {
                c.err(&at, format!("insulation series {s} must be 1, 2 or 3"))
            }
            PipeInsulation::LinearWmK(u) => {
                c.range(&at, "linear heat loss (W/(m·K))", u, 0.0, 50.0)
            }
            PipeInsulation::SurfaceWm2K(u) => {
                c.range(&at, "surface heat transfer (W/(m²·K))", u, 0.0, 500.0)
            }
            _ => {}
        }
        c.range(&at, "roughness_m", p.roughness_m, 0.0, 0.01);
        c.range(&at, "burial_depth_m", p.burial_depth_m, 0.0, 10.0);
    }
    c.ids(
        "heat_network.consumers",
        net.consumers.iter().map(|p| p.id.as_str()),
    );
    for k in &net.consumers {
        let at = format!("heat_network.consumers[{}]", k.id);
        if !node_ids.contains(k.node.as_str()) {
            c.err(&at, format!("node = \"{}\" is not a node", k.node));
        }
        match k.demand {
            ConsumerDemand::MassFlowKgS(m) => c.range(&at, "mass flow (kg/s)", m, 0.0, 1e4),
            ConsumerDemand::HeatW(q) => c.range(&at, "heat demand (W)", q, 0.0, 1e9),
            ConsumerDemand::MassFlowDeltaT {
                mass_flow_kg_s,
                delta_t_k,
            } => {
                c.range(&at, "mass_flow_kg_s", mass_flow_kg_s, 0.0, 1e4);
                // ΔT = 0: a bypass from supply to return (the import's line-end bypasses).
                c.range(&at, "delta_t_k", delta_t_k, 0.0, 100.0);
            }
            ConsumerDemand::HeatDeltaT { heat_w, delta_t_k } => {
                c.range(&at, "heat_w", heat_w, 0.0, 1e9);
                c.range(&at, "delta_t_k", delta_t_k, 0.1, 100.0);
                let flow = heat_w / (scene.fluid.cp_j_kg_k * delta_t_k);
                if heat_w.is_finite() && delta_t_k >= 0.1 && flow > 1e4 {
                    c.err(
                        &at,
                        format!(
                            "heat_w / (c_p·delta_t_k) = {flow:.4e} kg/s is over 1e4 kg/s: \
                             raise delta_t_k or lower heat_w"
                        ),
                    );
                }
            }
        }
        match (k.demand.delta_t_k(), k.return_temp_c) {
            (None, Some(t)) => c.range(&at, "return_temp_c", t, 0.0, 140.0),
            (None, None) => c.err(
                &at,
                "return_temp_c is missing: a MassFlowKgS or HeatW consumer returns at a fixed \
                 temperature"
                    .to_string(),
            ),
            (Some(_), Some(t)) => c.err(
                &at,
                format!(
                    "return_temp_c = {t} is not used by a ΔT consumer (its return is the supply \
                     temperature minus delta_t_k): leave it out"
                ),
            ),
            (Some(_), None) => {}
        }
    }

    let bus_ids: HashSet<&str> = match &scene.grid {
        Some(g) => c.ids("grid.buses", g.buses.iter().map(|b| b.id.as_str())),
        None => HashSet::new(),
    };
    let check_bus = |c: &mut Checker, at: &str, bus: &Option<String>| {
        if let Some(b) = bus {
            if scene.grid.is_none() {
                c.err(at, format!("bus = \"{b}\" but the scene has no grid"));
            } else if !bus_ids.contains(b.as_str()) {
                c.err(at, format!("bus = \"{b}\" is not a bus"));
            }
        }
    };

    let building_ids = c.ids("buildings", scene.buildings.iter().map(|b| b.id.as_str()));
    for b in &scene.buildings {
        let at = format!("buildings[{}]", b.id);
        c.points(&at, "footprint", &b.footprint);
        if b.footprint.len() < 3 {
            c.err(&at, "footprint needs at least 3 corners");
        } else if b.footprint_area_m2().partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            c.err(&at, "footprint has zero area");
        }
        if let Some(pv) = &b.provenance {
            c.range(
                &at,
                "provenance.specific_heat_kwh_m2a",
                pv.specific_heat_kwh_m2a,
                0.0,
                2000.0,
            );
        }
        c.range(&at, "floors", b.floors as f64, 1.0, 200.0);
        c.range(&at, "floor_height_m", b.floor_height_m, 2.0, 10.0);
        if let Some(a) = b.heated_area_m2 {
            c.positive_max(&at, "heated_area_m2", a, 1e7);
        }
        match b.envelope {
            Envelope::HeatLossWK(h) => c.range(&at, "heat-loss coefficient (W/K)", h, 0.0, 1e7),
            Envelope::EnergyClass(k) => {
                if !('A'..='G').contains(&k) {
                    c.err(&at, format!("energy class '{k}' must be A to G"));
                }
            }
        }
        c.range(&at, "hot_water_share", b.hot_water_share, 0.0, 0.6);
        c.range(
            &at,
            "absorption_cooling_peak_w",
            b.absorption_cooling_peak_w,
            0.0,
            1e8,
        );
        if let Some(n) = &b.node
            && !node_ids.contains(n.as_str())
        {
            c.err(&at, format!("node = \"{n}\" is not a node"));
        }
        if let Some(t) = b.return_temp_c {
            c.range(&at, "return_temp_c", t, 5.0, 100.0);
        }
        check_bus(&mut c, &at, &b.bus);
    }

    let site_ids = c.ids(
        "quantum_sites",
        scene.quantum_sites.iter().map(|s| s.id.as_str()),
    );
    for s in &scene.quantum_sites {
        let at = format!("quantum_sites[{}]", s.id);
        c.point(&at, "pos", s.pos);
        c.points(&at, "footprint", &s.footprint);
        c.range(&at, "qubits", s.qubits as f64, 1.0, 10_000.0);
        c.range(&at, "compressor_power_w", s.compressor_power_w, 0.0, 1e6);
        c.range(
            &at,
            "electronics_w_per_qubit",
            s.electronics_w_per_qubit,
            0.0,
            1e4,
        );
        c.range(&at, "servers_power_w", s.servers_power_w, 0.0, 1e7);
        c.range(&at, "idle_share", s.idle_share, 0.0, 1.0);
        c.range(
            &at,
            "recoverable_heat_share",
            s.recoverable_heat_share,
            0.0,
            1.0,
        );
        c.range(
            &at,
            "recovered_water_temp_c",
            s.recovered_water_temp_c,
            5.0,
            90.0,
        );
        c.range(&at, "utilisation", s.utilisation, 0.0, 1.0);
        if let Some(n) = &s.node
            && !node_ids.contains(n.as_str())
        {
            c.err(&at, format!("node = \"{n}\" is not a node"));
        }
        check_bus(&mut c, &at, &s.bus);
    }

    if let Some(q) = &scene.quantum_jobs {
        check_quantum_jobs(&mut c, q);
    }
    if let Some(d) = &scene.data_links {
        check_data_links(&mut c, d, &site_ids);
    }

    c.ids("plants", scene.plants.iter().map(|p| p.id()));
    let mut pumps_at: HashMap<&str, usize> = HashMap::new();
    for p in &scene.plants {
        let at = format!("plants[{}]", p.id());
        if !node_ids.contains(p.node()) {
            c.err(&at, format!("node = \"{}\" is not a node", p.node()));
        }
        match p {
            Plant::HeatPump {
                site,
                capacity_w,
                carnot_fraction,
                ..
            } => {
                if !site_ids.contains(site.as_str()) {
                    c.err(&at, format!("site = \"{site}\" is not a quantum site"));
                }
                c.positive_max(&at, "capacity_w", *capacity_w, 1e10);
                c.range(&at, "carnot_fraction", *carnot_fraction, 0.05, 0.9);
            }
            Plant::GasBoiler {
                capacity_w,
                efficiency,
                ..
            } => {
                c.positive_max(&at, "capacity_w", *capacity_w, 1e10);
                c.range(&at, "efficiency", *efficiency, 0.3, 1.1);
            }
            Plant::Storage {
                volume_m3,
                max_power_w,
                delta_t_k,
                loss_w_k,
                initial_soc,
                ..
            } => {
                c.positive_max(&at, "volume_m3", *volume_m3, 1e6);
                c.positive_max(&at, "max_power_w", *max_power_w, 1e10);
                c.range(&at, "delta_t_k", *delta_t_k, 1.0, 100.0);
                c.range(&at, "loss_w_k", *loss_w_k, 0.0, 1e5);
                c.range(&at, "initial_soc", *initial_soc, 0.0, 1.0);
            }
            Plant::CirculationPump {
                efficiency,
                max_head_pa,
                node,
                ..
            } => {
                c.range(&at, "efficiency", *efficiency, 0.05, 1.0);
                c.positive_max(&at, "max_head_pa", *max_head_pa, 4e6);
                *pumps_at.entry(node.as_str()).or_default() += 1;
            }
            Plant::FixedSource { supply_temp_c, .. } => {
                c.range(&at, "supply_temp_c", *supply_temp_c, 0.0, 150.0)
            }
        }
    }
    for (node, n) in pumps_at {
        if n > 1 {
            c.err(
                format!("plants@{node}"),
                format!("{n} circulation pumps at one node; give one pump set per station"),
            );
        }
    }

    if let Some(g) = &scene.grid {
        for b in &g.buses {
            c.point(&format!("grid.buses[{}]", b.id), "pos", b.pos);
        }
        c.ids("grid.feeders", g.feeders.iter().map(|f| f.id.as_str()));
        for f in &g.feeders {
            let at = format!("grid.feeders[{}]", f.id);
            for (end, id) in [("from", &f.from), ("to", &f.to)] {
                if !bus_ids.contains(id.as_str()) {
                    c.err(&at, format!("{end} = \"{id}\" is not a bus"));
                }
            }
            if f.from == f.to {
                c.err(&at, format!("joins bus \"{}\" to itself", f.from));
            }
            c.positive_max(&at, "capacity_w", f.capacity_w, 1e10);
        }
        let mut seen = HashSet::new();
        for (kind, id, bus) in
            g.pv.iter()
                .map(|p| ("grid.pv", &p.id, &p.bus))
                .chain(g.wind.iter().map(|w| ("grid.wind", &w.id, &w.bus)))
                .chain(
                    g.batteries
                        .iter()
                        .map(|b| ("grid.batteries", &b.id, &b.bus)),
                )
        {
            let at = format!("{kind}[{id}]");
            if !seen.insert(id.as_str()) {
                c.err(&at, "duplicate id");
            }
            if !bus_ids.contains(bus.as_str()) {
                c.err(&at, format!("bus = \"{bus}\" is not a bus"));
            }
        }
        for p in &g.pv {
            let at = format!("grid.pv[{}]", p.id);
            c.range(&at, "peak_w", p.peak_w, 0.0, 1e9);
            c.range(&at, "performance_ratio", p.performance_ratio, 0.1, 1.0);
            if let Some(b) = &p.building
                && !building_ids.contains(b.as_str())
            {
                c.err(&at, format!("building = \"{b}\" is not a building"));
            }
        }
        for w in &g.wind {
            let at = format!("grid.wind[{}]", w.id);
            c.point(&at, "pos", w.pos);
            c.range(&at, "cut_out_m_s", w.cut_out_m_s, 0.0, 100.0);
            c.range(&at, "rated_w", w.rated_w, 0.0, 2e7);
            c.range(&at, "hub_height_m", w.hub_height_m, 5.0, 250.0);
            if !(0.0 <= w.cut_in_m_s
                && w.cut_in_m_s < w.rated_speed_m_s
                && w.rated_speed_m_s < w.cut_out_m_s)
            {
                c.err(&at, "wind speeds must satisfy 0 ≤ cut_in < rated < cut_out");
            }
        }
        for b in &g.batteries {
            let at = format!("grid.batteries[{}]", b.id);
            c.positive_max(&at, "capacity_wh", b.capacity_wh, 1e12);
            c.positive_max(&at, "max_power_w", b.max_power_w, 1e10);
            c.range(
                &at,
                "round_trip_efficiency",
                b.round_trip_efficiency,
                0.3,
                1.0,
            );
            c.range(&at, "initial_soc", b.initial_soc, 0.0, 1.0);
        }
        let k = &g.connection;
        if !bus_ids.contains(k.bus.as_str()) {
            c.err(
                "grid.connection",
                format!("bus = \"{}\" is not a bus", k.bus),
            );
        }
        c.range(
            "grid.connection",
            "import_capacity_w",
            k.import_capacity_w,
            0.0,
            1e10,
        );
        c.range(
            "grid.connection",
            "export_capacity_w",
            k.export_capacity_w,
            0.0,
            1e10,
        );
        for v in k.carbon_intensity_g_kwh {
            c.range("grid.connection", "carbon_intensity_g_kwh", v, 0.0, 2000.0);
        }
        for v in k.monthly_factor {
            c.range("grid.connection", "monthly_factor", v, 0.0, 5.0);
        }
        // Radial operation: the feeders must form a forest (no loop).
        let index: HashMap<&str, usize> = g
            .buses
            .iter()
            .enumerate()
            .map(|(i, b)| (b.id.as_str(), i))
            .collect();
        let mut dsu = Dsu::new(g.buses.len());
        for f in &g.feeders {
            if let (Some(&a), Some(&b)) = (index.get(f.from.as_str()), index.get(f.to.as_str()))
                && a != b
                && !dsu.union(a, b)
            {
                c.err(
                    format!("grid.feeders[{}]", f.id),
                    "closes a loop; the grid is operated radially (open one feeder of each loop)",
                );
            }
        }
    }

    // Islands of the heat network that have consumers but no heat source.
    if c.issues
        .iter()
        .all(|i| !i.at.starts_with("heat_network.pipes"))
    {
        let index: HashMap<&str, usize> = net
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.as_str(), i))
            .collect();
        let mut dsu = Dsu::new(net.nodes.len());
        for p in &net.pipes {
            dsu.union(index[p.from.as_str()], index[p.to.as_str()]);
        }
        let mut has_source = vec![false; net.nodes.len()];
        for p in scene.plants.iter().filter(|p| p.is_heat_source()) {
            if let Some(&i) = index.get(p.node()) {
                let r = dsu.find(i);
                has_source[r] = true;
            }
        }
        let mut reported = HashSet::new();
        let consumers = scene
            .buildings
            .iter()
            .filter_map(|b| {
                b.node
                    .as_deref()
                    .map(|n| (format!("buildings[{}]", b.id), n))
            })
            .chain(
                net.consumers
                    .iter()
                    .map(|k| (format!("heat_network.consumers[{}]", k.id), k.node.as_str())),
            );
        for (at, node) in consumers {
            if let Some(&i) = index.get(node) {
                let r = dsu.find(i);
                if !has_source[r] && reported.insert(r) {
                    c.err(
                        at,
                        format!(
                            "node \"{node}\" lies on a part of the heat network with consumers but no heat source"
                        ),
                    );
                }
            }
        }
    }

    for (at, msg) in failures::check_failures(scene, &scene.failures) {
        c.err(at, msg);
    }
    if c.issues.is_empty() {
        Ok(())
    } else {
        Err(c.issues)
    }
}

/// Disjoint-set union with path halving.
pub(crate) struct Dsu {
    parent: Vec<usize>,
}

impl Dsu {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            parent: (0..n).collect(),
        }
    }
    pub(crate) fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    /// Joins two sets; false when they were already one.
    pub(crate) fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        self.parent[ra.max(rb)] = ra.min(rb);
        true
    }
}

/// The data links: horizon, migration, sessions, bandwidth, QKD; links and sensitivities name a
/// known service and site, once each.
fn check_data_links(c: &mut Checker, d: &super::DataLinks, site_ids: &HashSet<&str>) {
    use super::links::LINK_SERVICES;
    let at = "data_links";
    c.range(at, "crqc_horizon_years", d.crqc_horizon_years, 0.0, 1000.0);
    c.range(at, "migration_years", d.migration_years, 0.0, 1000.0);
    c.range(
        at,
        "session_lifetime_s",
        d.session_lifetime_s,
        1.0,
        7.0 * 86_400.0,
    );
    c.range(at, "bandwidth_bit_s", d.bandwidth_bit_s, 1e3, 1e13);
    let q = &d.qkd;
    let at = "data_links.qkd";
    c.positive_max(at, "ref_key_rate_bit_s", q.ref_key_rate_bit_s, 1e10);
    c.range(at, "ref_fibre_m", q.ref_fibre_m, 0.0, 1e6);
    c.range(at, "loss_db_per_km", q.loss_db_per_km, 0.0, 10.0);
    c.range(at, "max_fibre_m", q.max_fibre_m, 0.0, 1e6);
    if !matches!(
        q.fallback,
        super::LinkScheme::Hybrid | super::LinkScheme::Classical
    ) {
        c.err(
            at,
            format!("fallback = {:?}: expected Hybrid or Classical", q.fallback),
        );
    }
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    for (i, l) in d.links.iter().enumerate() {
        let at = format!("data_links.links[{i}]");
        if !LINK_SERVICES.contains(&l.service.as_str()) {
            c.err(
                &at,
                format!(
                    "service = \"{}\" is not one of {LINK_SERVICES:?}",
                    l.service
                ),
            );
        }
        if !site_ids.contains(l.site.as_str()) {
            c.err(&at, format!("site = \"{}\" is not a quantum site", l.site));
        }
        if !seen.insert((l.service.as_str(), l.site.as_str())) {
            c.err(
                &at,
                format!("a second link from {} to {}", l.service, l.site),
            );
        }
        if let Some(f) = l.fibre_m {
            c.range(&at, "fibre_m", f, 0.0, 1e6);
        }
    }
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, s) in d.sensitivity.iter().enumerate() {
        let at = format!("data_links.sensitivity[{i}]");
        if !LINK_SERVICES.contains(&s.service.as_str()) {
            c.err(
                &at,
                format!(
                    "service = \"{}\" is not one of {LINK_SERVICES:?}",
                    s.service
                ),
            );
        }
        if !seen.insert(s.service.as_str()) {
            c.err(&at, format!("a second sensitivity for {}", s.service));
        }
        c.range(&at, "secrecy_years", s.secrecy_years, 0.0, 1000.0);
    }
}

/// Ranges of the quantum job settings; jobs are simulated, so they must stay small.
fn check_quantum_jobs(c: &mut Checker, q: &QuantumJobs) {
    let at = "quantum_jobs";
    for (name, s) in [
        ("traffic", &q.traffic),
        ("grid_balancing", &q.grid_balancing),
        ("sensing", &q.sensing),
    ] {
        let at = format!("quantum_jobs.{name}");
        c.range(&at, "day_rate_per_h", s.day_rate_per_h, 0.0, 10_000.0);
        c.range(&at, "night_rate_per_h", s.night_rate_per_h, 0.0, 10_000.0);
        // The smallest problems need 2 qubits; the simulator keeps jobs to at most 14.
        c.range(&at, "min_qubits", s.min_qubits as f64, 2.0, 14.0);
        c.range(&at, "max_qubits", s.max_qubits as f64, 2.0, 14.0);
        if s.min_qubits > s.max_qubits {
            c.err(
                &at,
                format!(
                    "min_qubits = {} is more than max_qubits = {}",
                    s.min_qubits, s.max_qubits
                ),
            );
        }
        c.range(&at, "layers", s.layers as f64, 1.0, 10.0);
        c.range(&at, "shots", s.shots as f64, 1.0, 1e10);
        c.positive_max(&at, "deadline_s", s.deadline_s, 1e7);
    }
    c.range(at, "overhead_s", q.overhead_s, 0.0, 3600.0);
    c.range(at, "reset_s", q.reset_s, 0.0, 1e-3);
    c.range(
        at,
        "max_simulated_shots",
        q.max_simulated_shots as f64,
        1.0,
        1e5,
    );
    c.range(at, "trajectories", q.trajectories as f64, 1.0, 1e4);
    c.range(at, "calibration_hour", q.calibration_hour, 0.0, 24.0);
    c.range(
        at,
        "calibration_duration_s",
        q.calibration_duration_s,
        0.0,
        6.0 * 3600.0,
    );
    c.range(at, "calibration_spread", q.calibration_spread, 0.0, 1.0);
    let d = &q.device;
    let at = "quantum_jobs.device";
    c.positive_max(at, "t1_s", d.t1_s, 10.0);
    c.positive_max(at, "t2_s", d.t2_s, 20.0);
    if d.t2_s > 2.0 * d.t1_s {
        c.err(at, format!("t2_s = {} exceeds 2 × t1_s", d.t2_s));
    }
    c.range(at, "freq_hz", d.freq_hz, 1e8, 1e11);
    c.range(at, "readout_error", d.readout_error, 0.0, 0.5);
    c.range(at, "error_1q", d.error_1q, 0.0, 0.5);
    c.range(at, "error_2q", d.error_2q, 0.0, 0.5);
    c.range(at, "gate_time_1q_s", d.gate_time_1q_s, 1e-10, 1e-5);
    c.range(at, "gate_time_2q_s", d.gate_time_2q_s, 1e-10, 1e-4);
    c.range(at, "readout_time_s", d.readout_time_s, 1e-9, 1e-3);
    let k = &q.cryostat;
    let at = "quantum_jobs.cryostat";
    c.range(at, "base_temp_k", k.base_temp_k, 0.001, 1.0);
    if k.too_warm_k <= k.base_temp_k || !k.too_warm_k.is_finite() {
        c.err(
            at,
            format!(
                "too_warm_k = {} must be above base_temp_k = {}",
                k.too_warm_k, k.base_temp_k
            ),
        );
    }
    c.positive_max(at, "cool_tau_low_s", k.cool_tau_low_s, 1e7);
    c.range(at, "cool_tau_high_s", k.cool_tau_high_s, 0.0, 1e7);
    c.positive_max(at, "cool_knee_k", k.cool_knee_k, 300.0);
    c.positive_max(at, "warm_rate_per_s", k.warm_rate_per_s, 1.0);
    c.positive_max(at, "warm_knee_k", k.warm_knee_k, 300.0);
    c.range(at, "too_warm_k", k.too_warm_k, 0.001, 300.0);
    c.range(at, "warm_limit_k", k.warm_limit_k, 0.001, 300.0);
    if k.warm_limit_k < k.too_warm_k || !k.warm_limit_k.is_finite() {
        c.err(
            at,
            format!("warm_limit_k = {} is below too_warm_k", k.warm_limit_k),
        );
    }
    let n = &q.network;
    let at = "quantum_jobs.network";
    c.range(at, "route_factor", n.route_factor, 1.0, 5.0);
    c.range(at, "fibre_speed_m_s", n.fibre_speed_m_s, 1e8, 3e8);
    c.range(at, "hop_delay_s", n.hop_delay_s, 0.0, 0.1);
    c.range(at, "city_hops", n.city_hops as f64, 0.0, 100.0);
    c.range(at, "remote_fibre_m", n.remote_fibre_m, 0.0, 4e7);
    c.range(
        at,
        "remote_routing_rtt_s",
        n.remote_routing_rtt_s,
        0.0,
        10.0,
    );
}

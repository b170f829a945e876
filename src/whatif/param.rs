//! Parameter paths: one small language for `qtwin edit --set`, `qtwin sweep --param` and the
//! view, turning `PATH=VALUE` into an [`Edit`] against the scene as it is.
//!
//! | path | value | edit |
//! | --- | --- | --- |
//! | `network.supply_temp_c` | °C | supply set-point at mild weather |
//! | `network.supply_temp_at_design_c` | °C or `none` | set-point at the design outdoor temperature |
//! | `network.supply_shift_k` | K | both supply set-points shifted together |
//! | `network.return_temp_c` | °C | design return temperature |
//! | `sites.<id>.<field>` | number | `qubits`, `compressor_power_w`, `electronics_w_per_qubit`, `servers_power_w`, `idle_share`, `recoverable_heat_share`, `recovered_water_temp_c`, `utilisation` |
//! | `sites.<id>.heat_pump.capacity_w`, `….heat_pump.carnot_fraction` | number | the site's heat pump |
//! | `sites.<id>.pos` | `X:Y` (m) | move the site, or place a new site `<id>` there (sized like the scene's first site) |
//! | `sites.<id>.remove` | `true` / `false` | remove the site (with its heat pump, pump, service pipe) |
//! | `pipes.<sel>.insulation` | `Series1`–`Series3`, `Series(2)`, `LinearWmK(0.2)`, `SurfaceWm2K(5)` | insulation of the selected pipes |
//! | `pv.<buildings>.peak_w` | W, `auto` (half the roof at 200 W/m²) or `0` (remove) | PV on those roofs |
//! | `pv.*.scale` | factor | every PV array's peak power |
//! | `weather.year` | `mild`, `typical`, `cold` | a weather year (the scene's seed unless `weather.seed` was set) |
//! | `weather.seed` | integer | another draw of the weather noise |
//! | `grid.carbon_scale` | factor | the grid's hourly carbon intensity times the factor |
//! | `links.<service>.<site>.scheme` | `Classical`, `Hybrid`, `PureMlKem`, `Qkd` | key exchange of the data links (`<service>`: `traffic`, `grid_balancing`, `sensing` or `*`; `<site>`: id or `*`) |
//!
//! `<id>` may be `*` (every site); `<sel>` of pipes is `*`, ids joined by `+` (`p001+p002`), or a
//! stretch `NODE..NODE` (the pipes along the shortest route); `<buildings>` are ids joined by `+`.
//! An edit touching several objects is one [`Edit::Batch`] named by its `PATH=VALUE`.

use super::*;
use crate::scene::YearKind;

/// Splits `PATH=V1,V2,...` into the path and its values.
pub fn parse_assignment(s: &str) -> Result<(String, Vec<String>), EditError> {
    let Some((p, v)) = s.split_once('=') else {
        return err(format!("{s}: expected PATH=VALUE"));
    };
    let values: Vec<String> = v.split(',').map(|x| x.trim().to_string()).collect();
    if p.trim().is_empty() || values.iter().any(|x| x.is_empty()) {
        return err(format!("{s}: expected PATH=VALUE[,VALUE...]"));
    }
    Ok((p.trim().to_string(), values))
}

fn num(path: &str, v: &str) -> Result<f64, EditError> {
    v.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| EditError(format!("{path}={v}: not a number")))
}

fn batch(name: String, mut edits: Vec<Edit>) -> Edit {
    if edits.len() == 1 {
        edits.pop().expect("one")
    } else {
        Edit::Batch { name, edits }
    }
}

/// Parses an insulation value.
pub fn parse_insulation(v: &str) -> Option<PipeInsulation> {
    let v = v.trim();
    let inner = |pre: &str| -> Option<f64> {
        v.strip_prefix(pre)?
            .trim_start_matches('(')
            .trim_end_matches(')')
            .parse()
            .ok()
    };
    if let Some(s) = inner("Series") {
        return (1.0..=3.0)
            .contains(&s)
            .then_some(PipeInsulation::Series(s as u8));
    }
    if let Some(u) = inner("LinearWmK") {
        return Some(PipeInsulation::LinearWmK(u));
    }
    inner("SurfaceWm2K").map(PipeInsulation::SurfaceWm2K)
}

fn site_ids(scene: &Scene, sel: &str) -> Vec<String> {
    if sel == "*" {
        scene.quantum_sites.iter().map(|s| s.id.clone()).collect()
    } else {
        sel.split('+').map(str::to_string).collect()
    }
}

/// The edit that `path=value` makes on `scene` (which is not changed).
pub fn edit_for(scene: &Scene, path: &str, value: &str) -> Result<Edit, EditError> {
    let name = format!("{path}={value}");
    // A pipe selection may hold `..` (a stretch): take it whole.
    let parts: Vec<&str> = match path
        .strip_prefix("pipes.")
        .and_then(|r| r.strip_suffix(".insulation"))
    {
        Some(sel) => vec!["pipes", sel, "insulation"],
        None => path.split('.').collect(),
    };
    match parts.as_slice() {
        ["network", field] => {
            let v = value;
            let e = match *field {
                "supply_temp_c" => {
                    let x = num(path, v)?;
                    set_network_temps(scene, |t| t.supply_temp_c = x)
                }
                "supply_temp_at_design_c" => {
                    let x = if v == "none" {
                        None
                    } else {
                        Some(num(path, v)?)
                    };
                    set_network_temps(scene, |t| t.supply_temp_at_design_c = x)
                }
                "supply_shift_k" => {
                    let x = num(path, v)?;
                    set_network_temps(scene, |t| {
                        t.supply_temp_c += x;
                        t.supply_temp_at_design_c = t.supply_temp_at_design_c.map(|d| d + x);
                    })
                }
                "return_temp_c" => {
                    let x = num(path, v)?;
                    set_network_temps(scene, |t| t.return_temp_c = x)
                }
                _ => return err(format!("{path}: unknown network parameter")),
            };
            Ok(e)
        }
        ["sites", sel, "remove"] => {
            let yes = match value {
                "true" | "yes" | "1" => true,
                "false" | "no" | "0" => false,
                _ => return err(format!("{name}: expected true or false")),
            };
            let mut edits = Vec::new();
            if yes {
                let mut s = scene.clone();
                for id in site_ids(scene, sel) {
                    let e = remove_site(&s, &id)?;
                    e.apply(&mut s)?;
                    edits.push(e);
                }
            }
            Ok(batch(name, edits))
        }
        ["sites", id, "pos"] => {
            let Some((x, y)) = value.split_once(':') else {
                return err(format!("{name}: expected X:Y in metres"));
            };
            let pos = [num(path, x)?, num(path, y)?];
            if scene.quantum_sites.iter().any(|s| s.id == *id) {
                move_site(scene, id, pos)
            } else {
                add_site(scene, id, pos, &SiteTemplate::from_scene(scene))
            }
        }
        ["sites", sel, "heat_pump", field] => {
            let x = num(path, value)?;
            let mut edits = Vec::new();
            let mut s = scene.clone();
            for id in site_ids(scene, sel) {
                let hps: Vec<String> = heat_pumps_of_site(&s, &id)
                    .iter()
                    .map(|p| p.id().to_string())
                    .collect();
                if hps.is_empty() {
                    return err(format!("{name}: site {id} has no heat pump"));
                }
                for hp in hps {
                    let e = set_plant(&s, &hp, |p| {
                        if let Plant::HeatPump {
                            capacity_w,
                            carnot_fraction,
                            ..
                        } = p
                        {
                            match *field {
                                "capacity_w" => *capacity_w = x,
                                "carnot_fraction" => *carnot_fraction = x,
                                _ => {}
                            }
                        }
                    })?;
                    if !matches!(*field, "capacity_w" | "carnot_fraction") {
                        return err(format!("{path}: unknown heat-pump parameter"));
                    }
                    e.apply(&mut s)?;
                    edits.push(e);
                }
            }
            Ok(batch(name, edits))
        }
        ["sites", sel, field] => {
            let x = num(path, value)?;
            let known = [
                "qubits",
                "compressor_power_w",
                "electronics_w_per_qubit",
                "servers_power_w",
                "idle_share",
                "recoverable_heat_share",
                "recovered_water_temp_c",
                "utilisation",
            ];
            if !known.contains(field) {
                return err(format!("{path}: unknown site parameter"));
            }
            if *field == "qubits" && (x < 0.0 || x.fract() != 0.0) {
                return err(format!("{name}: qubits must be a whole number"));
            }
            let mut edits = Vec::new();
            let mut s = scene.clone();
            for id in site_ids(scene, sel) {
                let e = set_site(&s, &id, |q| match *field {
                    "qubits" => q.qubits = x as u32,
                    "compressor_power_w" => q.compressor_power_w = x,
                    "electronics_w_per_qubit" => q.electronics_w_per_qubit = x,
                    "servers_power_w" => q.servers_power_w = x,
                    "idle_share" => q.idle_share = x,
                    "recoverable_heat_share" => q.recoverable_heat_share = x,
                    "recovered_water_temp_c" => q.recovered_water_temp_c = x,
                    _ => q.utilisation = x,
                })?;
                e.apply(&mut s)?;
                edits.push(e);
            }
            Ok(batch(name, edits))
        }
        ["pipes", sel, "insulation"] => {
            let ins = parse_insulation(value)
                .ok_or_else(|| EditError(format!("{name}: unknown insulation")))?;
            let ids: Vec<String> = if *sel == "*" {
                scene
                    .heat_network
                    .pipes
                    .iter()
                    .map(|p| p.id.clone())
                    .collect()
            } else if let Some((a, b)) = sel.split_once("..") {
                pipes_between(scene, a, b)?
            } else {
                sel.split('+').map(str::to_string).collect()
            };
            set_pipe_insulation(scene, &ids, ins)
        }
        ["pv", "*", "scale"] => {
            let f = num(path, value)?;
            let mut edits = Vec::new();
            let mut s = scene.clone();
            let arrays: Vec<(Option<String>, f64)> = scene
                .grid
                .iter()
                .flat_map(|g| g.pv.iter().map(|p| (p.building.clone(), p.peak_w)))
                .collect();
            for (b, w) in arrays {
                let Some(b) = b else { continue };
                let e = set_pv(&s, &b, Some(Some(w * f)))?;
                e.apply(&mut s)?;
                edits.push(e);
            }
            Ok(batch(name, edits))
        }
        ["pv", sel, "peak_w"] => {
            let w = match value {
                "auto" => Some(None),
                v => {
                    let x = num(path, v)?;
                    if x <= 0.0 { None } else { Some(Some(x)) }
                }
            };
            let mut edits = Vec::new();
            let mut s = scene.clone();
            for b in sel.split('+') {
                let e = set_pv(&s, b, w)?;
                e.apply(&mut s)?;
                edits.push(e);
            }
            Ok(batch(name, edits))
        }
        ["weather", "year"] => {
            let kind = match value {
                "mild" => YearKind::Mild,
                "typical" => YearKind::Typical,
                "cold" => YearKind::Cold,
                _ => return err(format!("{name}: expected mild, typical or cold")),
            };
            let seed = match &scene.climate {
                Climate::Monthly(m) => m.year.map(|y| y.seed),
                _ => None,
            };
            set_weather_year(scene, kind, seed)
        }
        ["weather", "seed"] => {
            let seed: u64 = value
                .parse()
                .map_err(|_| EditError(format!("{name}: not an integer")))?;
            let kind = match &scene.climate {
                Climate::Monthly(m) => m.year.map_or(YearKind::Typical, |y| y.kind),
                _ => YearKind::Typical,
            };
            set_weather_year(scene, kind, Some(seed))
        }
        ["grid", "carbon_scale"] => scale_carbon(scene, num(path, value)?),
        ["links", service, site, "scheme"] => {
            use crate::scene::links::LINK_SERVICES;
            let Some(scheme) = crate::scene::LinkScheme::parse(value) else {
                return err(format!(
                    "{name}: expected Classical, Hybrid, PureMlKem or Qkd"
                ));
            };
            let services: Vec<&str> = if *service == "*" {
                LINK_SERVICES.to_vec()
            } else if LINK_SERVICES.contains(service) {
                vec![service]
            } else {
                return err(format!(
                    "{path}: unknown service {service} (one of {LINK_SERVICES:?} or *)"
                ));
            };
            let sites = site_ids(scene, site);
            if let Some(s) = sites
                .iter()
                .find(|s| !scene.quantum_sites.iter().any(|q| q.id == **s))
            {
                return err(format!("{path}: no quantum site \"{s}\""));
            }
            let mut new = scene.data_links.clone().unwrap_or_default();
            for s in &services {
                for q in &sites {
                    new.set_scheme(s, q, scheme);
                }
            }
            Ok(Edit::SetDataLinks {
                old: scene.data_links.clone(),
                new: Some(new),
            })
        }
        _ => err(format!(
            "{path}: unknown parameter path (see `qtwin sweep --help` or the README)"
        )),
    }
}

/// Applies `PATH=VALUE` assignments one after another to `scene`, pushing each edit on `stack`.
pub fn apply_assignments(
    scene: &mut Scene,
    stack: &mut EditStack,
    assignments: &[(String, String)],
) -> Result<(), EditError> {
    for (p, v) in assignments {
        let e = edit_for(scene, p, v)?;
        stack.push(scene, e)?;
    }
    Ok(())
}

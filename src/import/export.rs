//! `qtwin export`: a georeferenced scene (and optionally a run's state and report) as GIS layers.
//!
//! Writes RFC 7946 GeoJSON FeatureCollections in WGS84 (longitude, latitude; 7 decimals ≈ 1 cm;
//! polygon rings closed, outer rings counter-clockwise; no `crs` member, so QGIS opens them
//! without a dialog):
//! - `buildings.geojson`: footprints (Polygons) with use, floors, heated area, design heat load,
//!   node, bus and the import's provenance;
//! - `pipes.geojson`: LineStrings along each pipe's `route` (straight between its nodes when it has
//!   none) with DN, length and insulation;
//! - `nodes.geojson`, `plants.geojson` (Points at their node), `sites.geojson` (Points);
//!
//! each feature with its scene `id` (also a property). With `--state STATE.json` (from
//! `qtwin run --state`, see [`crate::ledger::report::state_json`]) every value the state holds
//! for an object is joined by id: buildings get demand, delivered, unmet heat, mass flow and
//! return temperature; pipes flow, velocity, temperatures and heat loss; nodes temperatures and
//! pressures; plants their station's heat, supply temperature, boiler and heat-pump heat; sites
//! their electricity, heat and recovered (waste) heat. The same tables are written as CSV keyed
//! by id (`--csv DIR`, with `lon`/`lat` of a point or a footprint's vertex mean).
//!
//! A run report (`qtwin run --report`) or a comparison (`qtwin compare --report`) holds KPIs
//! only, no per-object values: its KPIs (or the KPI differences base/variant/abs/rel) are
//! written as `kpis.csv`, and the export says so.

use super::geo::round_deg7;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::scene::{Envelope, PipeSize, Plant, Scene};

/// One feature of a layer: its id, GeoJSON geometry and properties.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub id: String,
    pub geometry: Value,
    /// A representative point (lon, lat) for the CSV tables.
    pub lonlat: [f64; 2],
    pub properties: Map<String, Value>,
}

/// One layer (file) of the export.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// File stem: `buildings`, `pipes`, `nodes`, `plants`, `sites`.
    pub name: String,
    pub features: Vec<Feature>,
}

/// Everything an export writes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Export {
    pub layers: Vec<Layer>,
    /// Rows of `kpis.csv` (header first), when a report was given.
    pub kpis: Vec<Vec<String>>,
    /// What the export could not do or wants said (e.g. a report without per-object values).
    pub notes: Vec<String>,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "{0}: the scene has no georeference (`georef`), so its coordinates cannot be placed on the Earth; only scenes made by `qtwin import` can be exported to GIS"
    )]
    NoGeoref(String),
    #[error("{0}")]
    Input(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Builds the layers of a scene, joining a run's state and report when given.
pub fn build(
    scene: &Scene,
    state: Option<&Value>,
    report: Option<&Value>,
) -> Result<Export, ExportError> {
    let g = scene
        .georef
        .ok_or_else(|| ExportError::NoGeoref(scene.name.clone()))?;
    let tm = super::geo::LocalTm::from_georef(&g);
    let ll = |p: [f64; 2]| {
        let q = tm.to_lonlat(p);
        [round_deg7(q[0]), round_deg7(q[1])]
    };
    let pt = |q: [f64; 2]| json!([q[0], q[1]]);
    // State objects by id, per kind.
    let by_id = |key: &str, id_field: &str| -> BTreeMap<String, Map<String, Value>> {
        let mut m = BTreeMap::new();
        if let Some(arr) = state.and_then(|s| s.get(key)).and_then(Value::as_array) {
            for o in arr {
                if let (Some(id), Some(obj)) =
                    (o.get(id_field).and_then(Value::as_str), o.as_object())
                {
                    let mut obj = obj.clone();
                    obj.remove(id_field);
                    m.insert(id.to_string(), obj);
                }
            }
        }
        m
    };
    let consumers = by_id("consumers", "id");
    let s_pipes = by_id("pipes", "id");
    let s_nodes = by_id("nodes", "id");
    let s_sites = by_id("quantum_sites", "id");
    let s_stations = by_id("stations", "node");
    let join =
        |props: &mut Map<String, Value>, extra: Option<&Map<String, Value>>, prefix: &str| {
            if let Some(x) = extra {
                for (k, v) in x {
                    if k != "kind" {
                        props.insert(format!("{prefix}{k}"), v.clone());
                    }
                }
            }
        };
    let positions = scene.node_positions();
    let node_pos = |id: &str| positions.get(id).copied();

    // Buildings.
    let sim = &scene.sim;
    let t_out = scene.heat_network.design_outdoor_temp_c;
    let mut buildings = Vec::new();
    for b in &scene.buildings {
        if b.footprint.len() < 3 {
            continue;
        }
        let mut ring: Vec<[f64; 2]> = b.footprint.iter().map(|p| ll(*p)).collect();
        let signed: f64 = (0..ring.len())
            .map(|i| {
                let (a, c) = (ring[i], ring[(i + 1) % ring.len()]);
                a[0] * c[1] - c[0] * a[1]
            })
            .sum();
        if signed < 0.0 {
            ring.reverse();
        }
        if ring.first() != ring.last() {
            ring.push(ring[0]);
        }
        let c = b.centre();
        let mut p = Map::new();
        p.insert("id".into(), json!(b.id));
        p.insert("use".into(), json!(format!("{:?}", b.use_)));
        p.insert("floors".into(), json!(b.floors));
        p.insert("heated_area_m2".into(), json!(b.heated_area()));
        p.insert(
            "energy_class".into(),
            match b.envelope {
                Envelope::EnergyClass(k) => json!(k.to_string()),
                Envelope::HeatLossWK(_) => Value::Null,
            },
        );
        p.insert(
            "design_heat_load_w".into(),
            json!(crate::generate::design_heat_load_w(
                b,
                sim.indoor_setpoint_c,
                t_out
            )),
        );
        p.insert("node".into(), json!(b.node));
        p.insert("connected".into(), json!(b.node.is_some()));
        p.insert("bus".into(), json!(b.bus));
        if let Some(pr) = &b.provenance {
            p.insert("source_id".into(), json!(pr.source_id));
            p.insert("floors_source".into(), json!(format!("{:?}", pr.floors)));
            p.insert("use_source".into(), json!(format!("{:?}", pr.use_)));
            p.insert("year_built".into(), json!(pr.year_built));
            p.insert("year_source".into(), json!(format!("{:?}", pr.year)));
            p.insert(
                "specific_heat_kwh_m2a".into(),
                json!(pr.specific_heat_kwh_m2a),
            );
        }
        join(&mut p, consumers.get(&b.id), "");
        buildings.push(Feature {
            id: b.id.clone(),
            geometry: json!({"type": "Polygon", "coordinates": [ring.iter().map(|q| pt(*q)).collect::<Vec<_>>()]}),
            lonlat: ll(c),
            properties: p,
        });
    }

    // Pipes.
    let mut pipes = Vec::new();
    for pi in &scene.heat_network.pipes {
        let pts: Vec<[f64; 2]> = if pi.route.len() >= 2 {
            pi.route.clone()
        } else {
            match (node_pos(&pi.from), node_pos(&pi.to)) {
                (Some(a), Some(b)) => vec![a, b],
                _ => continue,
            }
        };
        let line: Vec<[f64; 2]> = pts.iter().map(|p| ll(*p)).collect();
        let mut p = Map::new();
        p.insert("id".into(), json!(pi.id));
        p.insert("from".into(), json!(pi.from));
        p.insert("to".into(), json!(pi.to));
        match pi.size {
            PipeSize::Dn(dn) => p.insert("dn".into(), json!(dn)),
            PipeSize::InnerDiameterM(_) => p.insert("dn".into(), Value::Null),
        };
        p.insert("inner_diameter_m".into(), json!(pi.inner_diameter_m()));
        p.insert(
            "length_m".into(),
            json!(crate::scene::Scene::pipe_length_m(&positions, pi)),
        );
        p.insert("linear_loss_w_mk".into(), json!(pi.linear_loss_w_mk()));
        join(&mut p, s_pipes.get(&pi.id), "");
        let mid = line[line.len() / 2];
        pipes.push(Feature {
            id: pi.id.clone(),
            geometry: json!({"type": "LineString", "coordinates": line.iter().map(|q| pt(*q)).collect::<Vec<_>>()}),
            lonlat: mid,
            properties: p,
        });
    }

    // Nodes.
    let nodes: Vec<Feature> = scene
        .heat_network
        .nodes
        .iter()
        .map(|n| {
            let q = ll(n.pos);
            let mut p = Map::new();
            p.insert("id".into(), json!(n.id));
            p.insert("elevation_m".into(), json!(n.elevation_m));
            join(&mut p, s_nodes.get(&n.id), "");
            Feature {
                id: n.id.clone(),
                geometry: json!({"type": "Point", "coordinates": pt(q)}),
                lonlat: q,
                properties: p,
            }
        })
        .collect();

    // Plants.
    let mut plants = Vec::new();
    for pl in &scene.plants {
        let Some(pos) = node_pos(pl.node()) else {
            continue;
        };
        let q = ll(pos);
        let mut p = Map::new();
        p.insert("id".into(), json!(pl.id()));
        p.insert("node".into(), json!(pl.node()));
        let (kind, cap) = match pl {
            Plant::HeatPump { capacity_w, .. } => ("heat_pump", Some(*capacity_w)),
            Plant::GasBoiler { capacity_w, .. } => ("gas_boiler", Some(*capacity_w)),
            Plant::Storage { max_power_w, .. } => ("storage", Some(*max_power_w)),
            Plant::CirculationPump { .. } => ("circulation_pump", None),
            Plant::FixedSource { .. } => ("fixed_source", None),
        };
        p.insert("kind".into(), json!(kind));
        p.insert("capacity_w".into(), json!(cap));
        if let Plant::HeatPump { site, .. } = pl {
            p.insert("site".into(), json!(site));
        }
        join(&mut p, s_stations.get(pl.node()), "station_");
        plants.push(Feature {
            id: pl.id().to_string(),
            geometry: json!({"type": "Point", "coordinates": pt(q)}),
            lonlat: q,
            properties: p,
        });
    }

    // Sites.
    let sites: Vec<Feature> = scene
        .quantum_sites
        .iter()
        .map(|s| {
            let q = ll(s.pos);
            let mut p = Map::new();
            p.insert("id".into(), json!(s.id));
            p.insert("qubits".into(), json!(s.qubits));
            p.insert("node".into(), json!(s.node));
            p.insert("bus".into(), json!(s.bus));
            p.insert(
                "full_power_w".into(),
                json!(crate::generate::site_full_power_w(s)),
            );
            p.insert(
                "recoverable_heat_w".into(),
                json!(crate::generate::site_recoverable_heat_w(s)),
            );
            join(&mut p, s_sites.get(&s.id), "");
            Feature {
                id: s.id.clone(),
                geometry: json!({"type": "Point", "coordinates": pt(q)}),
                lonlat: q,
                properties: p,
            }
        })
        .collect();

    let mut out = Export {
        layers: vec![
            Layer {
                name: "buildings".into(),
                features: buildings,
            },
            Layer {
                name: "pipes".into(),
                features: pipes,
            },
            Layer {
                name: "nodes".into(),
                features: nodes,
            },
            Layer {
                name: "plants".into(),
                features: plants,
            },
            Layer {
                name: "sites".into(),
                features: sites,
            },
        ],
        kpis: Vec::new(),
        notes: Vec::new(),
    };
    if let Some(st) = state
        && st.get("consumers").is_none()
    {
        out.notes.push(
            "the state has no `consumers`: is it a `qtwin run --state` file? nothing joined".into(),
        );
    }
    if let Some(r) = report {
        let num = |v: &Value| match v {
            Value::Number(n) => n.to_string(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        if let Some(diff) = r.get("diff").and_then(Value::as_object) {
            out.kpis.push(
                ["kpi", "base", "variant", "abs", "rel"]
                    .map(String::from)
                    .to_vec(),
            );
            for (k, v) in diff {
                out.kpis.push(vec![
                    k.clone(),
                    num(&v["base"]),
                    num(&v["variant"]),
                    num(&v["abs"]),
                    num(&v["rel"]),
                ]);
            }
            out.notes.push(
                "the comparison report holds KPI differences only, no per-building values: \
                 they are written to kpis.csv (export each run's --state for per-object maps)"
                    .into(),
            );
        } else if let Some(k) = r.get("kpis").and_then(Value::as_object) {
            out.kpis.push(vec!["kpi".into(), "value".into()]);
            for (name, v) in k {
                out.kpis.push(vec![name.clone(), num(v)]);
            }
            out.notes.push(
                "the run report holds KPIs only, no per-object values: they are written to \
                 kpis.csv (give --state for per-object results)"
                    .into(),
            );
        } else {
            return Err(ExportError::Input(
                "the report has neither `kpis` (qtwin run --report) nor `diff` (qtwin compare --report)"
                    .into(),
            ));
        }
    }
    Ok(out)
}

/// A layer as an RFC 7946 FeatureCollection.
pub fn to_geojson(layer: &Layer) -> String {
    let features: Vec<Value> = layer
        .features
        .iter()
        .map(|f| {
            json!({
                "type": "Feature",
                "id": f.id,
                "geometry": f.geometry,
                "properties": f.properties,
            })
        })
        .collect();
    let fc = json!({"type": "FeatureCollection", "name": layer.name, "features": features});
    serde_json::to_string_pretty(&fc).expect("JSON values always serialise") + "\n"
}

fn csv_field(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// A layer as CSV: `id, lon, lat`, then every property (sorted by name).
pub fn to_csv(layer: &Layer) -> Result<String, csv::Error> {
    let keys: BTreeSet<&String> = layer
        .features
        .iter()
        .flat_map(|f| f.properties.keys())
        .filter(|k| k.as_str() != "id")
        .collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head = vec!["id".to_string(), "lon".into(), "lat".into()];
    head.extend(keys.iter().map(|k| k.to_string()));
    w.write_record(&head)?;
    for f in &layer.features {
        let mut row = vec![
            f.id.clone(),
            f.lonlat[0].to_string(),
            f.lonlat[1].to_string(),
        ];
        row.extend(
            keys.iter()
                .map(|k| f.properties.get(*k).map(csv_field).unwrap_or_default()),
        );
        w.write_record(&row)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8"))
}

/// Writes the layers as `DIR/NAME.geojson` (and `CSV_DIR/NAME.csv`, `kpis.csv`); returns the
/// files written.
pub fn write(
    ex: &Export,
    geojson_dir: &Path,
    csv_dir: Option<&Path>,
) -> Result<Vec<PathBuf>, ExportError> {
    let io = |path: &Path, source: std::io::Error| ExportError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    std::fs::create_dir_all(geojson_dir).map_err(|e| io(geojson_dir, e))?;
    for l in &ex.layers {
        let p = geojson_dir.join(format!("{}.geojson", l.name));
        std::fs::write(&p, to_geojson(l)).map_err(|e| io(&p, e))?;
        files.push(p);
    }
    if let Some(dir) = csv_dir {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        for l in &ex.layers {
            let p = dir.join(format!("{}.csv", l.name));
            let text = to_csv(l).map_err(|e| ExportError::Input(e.to_string()))?;
            std::fs::write(&p, text).map_err(|e| io(&p, e))?;
            files.push(p);
        }
    }
    if !ex.kpis.is_empty() {
        let dir = csv_dir.unwrap_or(geojson_dir);
        let p = dir.join("kpis.csv");
        let mut w = csv::Writer::from_writer(Vec::new());
        for r in &ex.kpis {
            w.write_record(r)
                .map_err(|e| ExportError::Input(e.to_string()))?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| ExportError::Input(e.to_string()))?;
        std::fs::write(&p, bytes).map_err(|e| io(&p, e))?;
        files.push(p);
    }
    Ok(files)
}

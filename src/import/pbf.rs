//! OpenStreetMap PBF (`.osm.pbf`) → [`RawFeatures`], with the `osmpbf` crate from bytes in
//! memory (no file mapping, so it runs in the browser too).
//!
//! Blobs are decoded one after the other (no thread pool: the order of elements is the file's),
//! node positions kept in 1e-7 degrees (PBF's own integers at the default granularity), ways and
//! relations with the tags the import uses ([`super::osm::keep_tag`]); then the XML reader's
//! [`super::osm::assemble`] builds the features, so XML and PBF of the same data give identical
//! features.

use super::osm::{
    BadNode, MemberKind, OsmData, OsmMember, OsmNode, OsmRelation, OsmWay, assemble, keep_tag,
};
use super::{ImportError, RawFeatures, Tags};
use osmpbf::{BlobDecode, BlobReader, Element, RelMemberType};

/// Reads PBF bytes into the OSM data model (`name` for messages).
pub fn read_osm_data(name: &str, bytes: &[u8]) -> Result<OsmData, ImportError> {
    let err = |msg: String| ImportError::File {
        file: name.to_string(),
        msg,
    };
    if bytes.is_empty() {
        return Err(err("the file is empty".into()));
    }
    let mut data = OsmData::default();
    let mut seen_header = false;
    for (i, blob) in BlobReader::new(std::io::Cursor::new(bytes)).enumerate() {
        let blob = blob.map_err(|e| err(format!("not a valid OSM PBF file (blob {i}): {e}")))?;
        let decoded = blob
            .decode()
            .map_err(|e| err(format!("blob {i} does not decode: {e}")))?;
        match decoded {
            BlobDecode::OsmHeader(h) => {
                seen_header = true;
                if let Some(b) = h.bbox() {
                    data.bounds = Some([b.left, b.bottom, b.right, b.top]);
                }
                for f in h.required_features() {
                    if !matches!(f.as_str(), "OsmSchema-V0.6" | "DenseNodes") {
                        return Err(err(format!(
                            "the file needs the PBF feature `{f}`, which this reader lacks"
                        )));
                    }
                }
            }
            BlobDecode::OsmData(block) => {
                if !seen_header {
                    return Err(err("no OSMHeader blob before the data".into()));
                }
                let mut utf8_err = None;
                block.for_each_element(|el| match el {
                    Element::Node(n) => {
                        push_node(&mut data, n.id(), n.decimicro_lon(), n.decimicro_lat())
                    }
                    Element::DenseNode(n) => {
                        push_node(&mut data, n.id(), n.decimicro_lon(), n.decimicro_lat())
                    }
                    Element::Way(w) => data.ways.push(OsmWay {
                        id: w.id(),
                        refs: w.refs().collect(),
                        tags: tags(w.tags()),
                    }),
                    Element::Relation(r) => {
                        let mut members = Vec::new();
                        for m in r.members() {
                            let role = match m.role() {
                                Ok(s) => s.to_string(),
                                Err(e) => {
                                    utf8_err = Some(format!("relation {}: {e}", r.id()));
                                    String::new()
                                }
                            };
                            members.push(OsmMember {
                                kind: match m.member_type {
                                    RelMemberType::Node => MemberKind::Node,
                                    RelMemberType::Way => MemberKind::Way,
                                    RelMemberType::Relation => MemberKind::Relation,
                                },
                                id: m.member_id,
                                role,
                            });
                        }
                        data.relations.push(OsmRelation {
                            id: r.id(),
                            members,
                            tags: tags(r.tags()),
                        });
                    }
                });
                if let Some(e) = utf8_err {
                    return Err(err(e));
                }
            }
            BlobDecode::Unknown(_) => {}
        }
    }
    if !seen_header {
        return Err(err("not an OSM PBF file: no OSMHeader blob".into()));
    }
    Ok(data)
}

fn push_node(data: &mut OsmData, id: i64, lon_e7: i32, lat_e7: i32) {
    let (lon, lat) = (lon_e7 as f64 / 1e7, lat_e7 as f64 / 1e7);
    if lat.abs() > 90.0 || lon.abs() > 180.0 {
        data.bad_nodes.push(BadNode {
            id,
            lon,
            lat,
            at: String::new(),
        });
    } else {
        data.nodes.push(OsmNode { id, lon_e7, lat_e7 });
    }
}

fn tags<'a>(it: impl Iterator<Item = (&'a str, &'a str)>) -> Tags {
    it.filter(|(k, _)| keep_tag(k))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Reads PBF bytes into features.
pub fn read(name: &str, bytes: &[u8]) -> Result<RawFeatures, ImportError> {
    let data = read_osm_data(name, bytes)?;
    assemble(name, data)
}

//! Proposal links: a set of what-if edits as a short code in a URL fragment
//! (`https://…/#p=CODE`), made for one base scene, that anyone can open to see the edits applied
//! and compared with the baseline.
//!
//! # What a code holds
//! The edits are the parameter paths of [`super::param`] (`PATH=VALUE`, the language of
//! `qtwin edit --set`, `qtwin view --set` and the planner panel), in the order they were made: a
//! new site at a place (`sites.q4.pos=0:200`), insulation (`pipes.*.insulation=Series3`), a colder
//! network (`network.supply_shift_k=-10`), PV on roofs (`pv.b0001+b0002.peak_w=auto`), …. Opening a
//! code re-makes each edit against the base scene with [`super::param::edit_for`], so every edit
//! carries the old values of the scene it lands on and a code made for another scene is refused
//! before anything applies.
//!
//! The bytes, then base64url without padding (RFC 4648 §5: `A–Z a–z 0–9 - _`, nothing a URL
//! needs to escape):
//!
//! | bytes | what |
//! | --- | --- |
//! | 1 | format version ([`PROPOSAL_VERSION`]) |
//! | 8 | the first 8 bytes of the base scene's SHA-256 ([`crate::scene::scene_hash`]: its canonical RON without the edit history) |
//! | 1 | how the edits are packed: 0 as they are, 1 raw DEFLATE (RFC 1951, level 10), whichever is shorter |
//! | … | the edits: UTF-8 lines `PATH=VALUE`, each of the [`TOKENS`] of the parameter language (`sites.`, `.pos=`, `network.supply_shift_k=`, `Series`, …) written as one control byte |
//! | 4 | the first 4 bytes of the SHA-256 of everything before them |
//!
//! Deflate alone barely shortens a few short lines (its codes cost as much as it saves); the tokens
//! halve them, and deflate still packs a long proposal further.
//!
//! The check comes last in every version, so a damaged code (a character changed, cut short) is
//! told apart from a code of a newer version or of another scene: the check is verified first,
//! then the version, then the scene.
//!
//! # Limits (hostile links)
//! A code over [`MAX_PROPOSAL_CHARS`] characters is refused before it is decoded, and `encode`
//! refuses to make one; its edits may inflate to at most [`MAX_PROPOSAL_TEXT_BYTES`] (a deflate
//! "bomb" stops there) and hold at most [`MAX_PROPOSAL_EDITS`] edits. Every failure is a
//! [`ProposalError`] that says what is wrong; nothing panics.
//!
//! # The comparison
//! [`compare`] runs the base and the edited scene over the same days with the base's seed (the
//! same weather and job arrivals), as the planner panel's "compare with the baseline" does, and
//! gives the numbers a proposal is judged by: heat delivered, CO₂, unmet heat, and the homes that
//! got colder (buildings with more than [`COLDER_THRESHOLD_KWH`] more unmet heat than in the
//! baseline), with each building's unmet heat in both worlds for the map.

use sha2::{Digest, Sha256};

use super::{EditStack, param};
use crate::ledger::Ledger;
use crate::ledger::report::Kpis;
pub use crate::limits::{MAX_PROPOSAL_CHARS, MAX_PROPOSAL_EDITS, MAX_PROPOSAL_TEXT_BYTES};
use crate::scene::{Scene, SceneError, scene_hash, validate};
use crate::sim::{RunOptions, Simulation};

/// The format version this qtwin writes and reads.
pub const PROPOSAL_VERSION: u8 = 1;
/// The key of the code in a link's fragment: `#p=CODE`.
pub const FRAGMENT_KEY: &str = "p";
/// A building "got colder" when the variant leaves it this much more heat unmet over the
/// comparison than the baseline does, kWh (the planner panel's threshold).
pub const COLDER_THRESHOLD_KWH: f64 = 0.1;

const HASH_BYTES: usize = 8;
const CHECK_BYTES: usize = 4;
const HEADER_BYTES: usize = 1 + HASH_BYTES + 1;
/// Packing byte: the tokenised edits as they are.
const PACK_RAW: u8 = 0;
/// Packing byte: the tokenised edits deflated.
const PACK_DEFLATE: u8 = 1;

/// The words of the parameter language written as one byte each in a code (format 1): byte `k`
/// for `TOKENS[k - 1]`, skipping `\n` (0x0A), which separates the edits. Part of the format:
/// never reorder, only a new format version may change it.
pub const TOKENS: [&str; 30] = [
    "network.supply_shift_k=",          // 0x01
    "network.supply_temp_c=",           // 0x02
    "network.supply_temp_at_design_c=", // 0x03
    "network.return_temp_c=",           // 0x04
    "sites.",                           // 0x05
    ".pos=",                            // 0x06
    ".remove=true",                     // 0x07
    ".heat_pump.capacity_w=",           // 0x08
    ".heat_pump.carnot_fraction=",      // 0x09
    ".qubits=",                         // 0x0B
    ".recoverable_heat_share=",         // 0x0C
    ".recovered_water_temp_c=",         // 0x0D
    ".utilisation=",                    // 0x0E
    "pipes.",                           // 0x0F
    ".insulation=",                     // 0x10
    "Series",                           // 0x11
    "LinearWmK(",                       // 0x12
    "pv.",                              // 0x13
    ".peak_w=",                         // 0x14
    "auto",                             // 0x15
    "weather.year=",                    // 0x16
    "weather.seed=",                    // 0x17
    "grid.carbon_scale=",               // 0x18
    "links.",                           // 0x19
    ".scheme=",                         // 0x1A
    "pv.*.scale=",                      // 0x1B
    ".compressor_power_w=",             // 0x1C
    ".servers_power_w=",                // 0x1D
    "000",                              // 0x1E
    ".electronics_w_per_qubit=",        // 0x1F
];

fn token_byte(k: usize) -> u8 {
    let b = k as u8 + 1;
    if b >= b'\n' { b + 1 } else { b }
}

fn token_of(b: u8) -> Option<&'static str> {
    let k = match b {
        0x01..=0x09 => b - 1,
        0x0B..=0x1F => b - 2,
        _ => return None,
    };
    TOKENS.get(k as usize).copied()
}

/// The edits' text with each token replaced by its byte (the longest token first, left to right).
fn tokenise(text: &str) -> Vec<u8> {
    let mut by_len: Vec<usize> = (0..TOKENS.len()).collect();
    by_len.sort_by_key(|&k| std::cmp::Reverse(TOKENS[k].len()));
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match by_len
            .iter()
            .find(|&&k| bytes[i..].starts_with(TOKENS[k].as_bytes()))
        {
            Some(&k) => {
                out.push(token_byte(k));
                i += TOKENS[k].len();
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

/// The text of tokenised edits, at most [`MAX_PROPOSAL_TEXT_BYTES`] long.
fn detokenise(bytes: &[u8]) -> Result<Vec<u8>, ProposalError> {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        match token_of(b) {
            Some(t) => out.extend_from_slice(t.as_bytes()),
            None if b < 0x20 && b != b'\n' => {
                return Err(ProposalError::Damaged(format!(
                    "byte {b:#04x} in its edits"
                )));
            }
            None => out.push(b),
        }
        if out.len() > MAX_PROPOSAL_TEXT_BYTES {
            return Err(ProposalError::Damaged(format!(
                "its edits expand to more than {}",
                crate::limits::fmt_bytes(MAX_PROPOSAL_TEXT_BYTES as u128)
            )));
        }
    }
    Ok(out)
}

/// What is wrong with a proposal link.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProposalError {
    #[error(
        "the proposal link is too long: its code has {chars} characters, over the limit of {limit}"
    )]
    TooLong { chars: usize, limit: usize },
    #[error("the proposal link is damaged ({0}); copy the whole link again")]
    Damaged(String),
    #[error(
        "the proposal link was made by a newer qtwin (link format {found}; this one reads format {PROPOSAL_VERSION}): update qtwin to open it"
    )]
    NewerVersion { found: u8 },
    #[error(
        "the proposal link has an unknown format {found} (this qtwin reads format {PROPOSAL_VERSION})"
    )]
    UnknownVersion { found: u8 },
    #[error(
        "the proposal link was made for another scene (the link's scene {link}, this scene {scene}): open it with the scene it was made for"
    )]
    OtherScene { link: String, scene: String },
    #[error("the proposal holds {count} edits, over the limit of {limit}")]
    TooManyEdits { count: usize, limit: usize },
    #[error("edit {index} of the proposal ({path}={value}) does not apply to this scene: {msg}")]
    Edit {
        /// 1-based.
        index: usize,
        path: String,
        value: String,
        msg: String,
    },
    #[error("the proposal's edits give a scene that is not valid: {0}")]
    Invalid(String),
    #[error("cannot share edit {path}={value}: {msg}")]
    Unshareable {
        path: String,
        value: String,
        msg: String,
    },
}

/// A decoded proposal: the base scene's hash prefix and the edits.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub version: u8,
    /// The first 8 bytes of the base scene's SHA-256, hex (16 digits).
    pub scene_hash: String,
    /// The edits, `(PATH, VALUE)`, in order.
    pub edits: Vec<(String, String)>,
}

/// The first 8 bytes of [`scene_hash`] of `scene`.
pub fn scene_hash_prefix(scene: &Scene) -> [u8; HASH_BYTES] {
    let hex = scene_hash(scene);
    let mut out = [0u8; HASH_BYTES];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn check(bytes: &[u8]) -> [u8; CHECK_BYTES] {
    let d = Sha256::digest(bytes);
    [d[0], d[1], d[2], d[3]]
}

/// The edits as the lines a code deflates, after checking each can be written on one line.
fn edits_text(edits: &[(String, String)]) -> Result<String, ProposalError> {
    if edits.len() > MAX_PROPOSAL_EDITS {
        return Err(ProposalError::TooManyEdits {
            count: edits.len(),
            limit: MAX_PROPOSAL_EDITS,
        });
    }
    let mut text = String::new();
    for (p, v) in edits {
        let (p, v) = (p.trim(), v.trim());
        let bad = |msg: &str| ProposalError::Unshareable {
            path: p.to_string(),
            value: v.to_string(),
            msg: msg.to_string(),
        };
        if p.is_empty() || v.is_empty() {
            return Err(bad("an empty path or value"));
        }
        if p.contains('=') || p.contains(char::is_control) || v.contains(char::is_control) {
            return Err(bad(
                "a path holds no '=', and neither a line break nor another control character",
            ));
        }
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(p);
        text.push('=');
        text.push_str(v);
    }
    Ok(text)
}

/// The code of `edits` made on a base scene whose [`scene_hash_prefix`] is `hash`.
pub fn encode_for_hash(
    hash: [u8; HASH_BYTES],
    edits: &[(String, String)],
) -> Result<String, ProposalError> {
    use base64::Engine;
    let text = edits_text(edits)?;
    let mut bytes = Vec::with_capacity(HEADER_BYTES + text.len() + CHECK_BYTES);
    bytes.push(PROPOSAL_VERSION);
    bytes.extend_from_slice(&hash);
    let tokens = tokenise(&text);
    let deflated = miniz_oxide::deflate::compress_to_vec(&tokens, 10);
    if deflated.len() < tokens.len() {
        bytes.push(PACK_DEFLATE);
        bytes.extend_from_slice(&deflated);
    } else {
        bytes.push(PACK_RAW);
        bytes.extend_from_slice(&tokens);
    }
    let c = check(&bytes);
    bytes.extend_from_slice(&c);
    let code = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
    if code.len() > MAX_PROPOSAL_CHARS {
        return Err(ProposalError::TooLong {
            chars: code.len(),
            limit: MAX_PROPOSAL_CHARS,
        });
    }
    Ok(code)
}

/// The code of `edits` made on `base` (the scene they apply to, before any of them).
pub fn encode(base: &Scene, edits: &[(String, String)]) -> Result<String, ProposalError> {
    encode_for_hash(scene_hash_prefix(base), edits)
}

/// `page` + `#p=` + `code` (whatever fragment `page` had is replaced).
pub fn link(page: &str, code: &str) -> String {
    let page = page.split('#').next().unwrap_or("");
    format!("{page}#{FRAGMENT_KEY}={code}")
}

/// The code in `input`: a whole link (`…#p=CODE`, other `&`-separated fragment parameters
/// ignored), a fragment (`#p=CODE`, `p=CODE`), or the code alone. Surrounding white space is
/// ignored.
pub fn code_of(input: &str) -> &str {
    let s = input.trim();
    let fragment = match s.split_once('#') {
        Some((_, f)) => f,
        None => s,
    };
    let key = format!("{FRAGMENT_KEY}=");
    fragment
        .split('&')
        .find_map(|part| part.strip_prefix(key.as_str()))
        .unwrap_or(fragment)
        .trim()
}

/// Decodes a link or code without checking the scene (see [`open`] for that).
pub fn decode(input: &str) -> Result<Proposal, ProposalError> {
    use base64::Engine;
    let code = code_of(input);
    if code.len() > MAX_PROPOSAL_CHARS {
        return Err(ProposalError::TooLong {
            chars: code.len(),
            limit: MAX_PROPOSAL_CHARS,
        });
    }
    if code.is_empty() {
        return Err(ProposalError::Damaged(
            "the link holds no proposal code".into(),
        ));
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(code)
        .map_err(|e| ProposalError::Damaged(format!("not a proposal code: {e}")))?;
    if bytes.len() < HEADER_BYTES + CHECK_BYTES {
        return Err(ProposalError::Damaged(format!(
            "{} bytes, shorter than any proposal",
            bytes.len()
        )));
    }
    let (body, tail) = bytes.split_at(bytes.len() - CHECK_BYTES);
    if check(body) != tail {
        return Err(ProposalError::Damaged(
            "its check does not match: characters were changed, added or cut off".into(),
        ));
    }
    match body[0] {
        PROPOSAL_VERSION => {}
        v if v > PROPOSAL_VERSION => return Err(ProposalError::NewerVersion { found: v }),
        v => return Err(ProposalError::UnknownVersion { found: v }),
    }
    let hash = hex(&body[1..1 + HASH_BYTES]);
    let packed = &body[HEADER_BYTES..];
    let tokens = match body[HEADER_BYTES - 1] {
        PACK_RAW => packed.to_vec(),
        PACK_DEFLATE => inflate(packed)?,
        m => {
            return Err(ProposalError::Damaged(format!(
                "unknown packing {m} of its edits"
            )));
        }
    };
    let text = detokenise(&tokens)?;
    let text = String::from_utf8(text)
        .map_err(|_| ProposalError::Damaged("its edits are not UTF-8 text".into()))?;
    let mut edits = Vec::new();
    for line in text.split('\n').filter(|l| !l.is_empty()) {
        if edits.len() == MAX_PROPOSAL_EDITS {
            return Err(ProposalError::TooManyEdits {
                count: text.split('\n').filter(|l| !l.is_empty()).count(),
                limit: MAX_PROPOSAL_EDITS,
            });
        }
        let Some((p, v)) = line.split_once('=') else {
            return Err(ProposalError::Damaged(format!(
                "edit {} is not PATH=VALUE",
                edits.len() + 1
            )));
        };
        edits.push((p.to_string(), v.to_string()));
    }
    Ok(Proposal {
        version: body[0],
        scene_hash: hash,
        edits,
    })
}

/// Inflates deflated edits, refusing more than [`MAX_PROPOSAL_TEXT_BYTES`].
fn inflate(packed: &[u8]) -> Result<Vec<u8>, ProposalError> {
    match miniz_oxide::inflate::decompress_to_vec_with_limit(packed, MAX_PROPOSAL_TEXT_BYTES) {
        Ok(t) => Ok(t),
        Err(e) if e.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
            Err(ProposalError::Damaged(format!(
                "its edits inflate to more than {}",
                crate::limits::fmt_bytes(MAX_PROPOSAL_TEXT_BYTES as u128)
            )))
        }
        Err(e) => Err(ProposalError::Damaged(format!(
            "its edits do not inflate ({:?})",
            e.status
        ))),
    }
}

/// A proposal opened on its base scene: the edits applied.
#[derive(Debug, Clone)]
pub struct Opened {
    pub proposal: Proposal,
    /// The base scene with the edits applied (validated).
    pub variant: Scene,
    /// The edits as the undo stack holds them (descriptions, old and new values).
    pub stack: EditStack,
}

impl Proposal {
    /// Checks that the proposal was made for `base`.
    pub fn check_scene(&self, base: &Scene) -> Result<(), ProposalError> {
        let scene = hex(&scene_hash_prefix(base));
        if scene != self.scene_hash {
            return Err(ProposalError::OtherScene {
                link: self.scene_hash.clone(),
                scene,
            });
        }
        Ok(())
    }

    /// Applies the edits to `base` (which must be the proposal's scene: see
    /// [`Self::check_scene`]), one after another, and validates the result.
    pub fn apply(&self, base: &Scene) -> Result<(Scene, EditStack), ProposalError> {
        let mut scene = base.clone();
        let mut stack = EditStack::default();
        for (i, (p, v)) in self.edits.iter().enumerate() {
            let fail = |msg: String| ProposalError::Edit {
                index: i + 1,
                path: p.clone(),
                value: v.clone(),
                msg,
            };
            let e = param::edit_for(&scene, p, v).map_err(|e| fail(e.to_string()))?;
            stack
                .push_named(&mut scene, e, Some(format!("{p}={v}")))
                .map_err(|e| fail(e.to_string()))?;
        }
        validate(&scene)
            .map_err(|issues| ProposalError::Invalid(SceneError::Invalid(issues).to_string()))?;
        Ok((scene, stack))
    }
}

/// Decodes `input`, checks it was made for `base` and applies its edits.
pub fn open(base: &Scene, input: &str) -> Result<Opened, ProposalError> {
    let proposal = decode(input)?;
    proposal.check_scene(base)?;
    let (variant, stack) = proposal.apply(base)?;
    Ok(Opened {
        proposal,
        variant,
        stack,
    })
}

/// A proposal against its baseline over the same days and weather.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub days: f64,
    pub ticks: u64,
    pub base: Kpis,
    pub variant: Kpis,
    /// Each building's unmet heat over the run, kWh: `[base, variant]` (the scene's building
    /// order).
    pub unmet_kwh: [Vec<f64>; 2],
    /// Buildings with more than [`COLDER_THRESHOLD_KWH`] more unmet heat than in the baseline.
    pub homes_colder: usize,
    /// Buildings with more than [`COLDER_THRESHOLD_KWH`] less.
    pub homes_warmer: usize,
}

impl Comparison {
    /// The headline numbers, `(key, base, variant)`: heat delivered (kWh), CO₂ (kg), unmet
    /// heat (kWh), boiler gas (kWh), recovered waste heat (kWh).
    pub fn headline(&self) -> [(&'static str, f64, f64); 5] {
        let (a, b) = (&self.base, &self.variant);
        [
            (
                "heat_delivered_kwh",
                a.heat_delivered_kwh,
                b.heat_delivered_kwh,
            ),
            ("co2_kg", a.co2_kg, b.co2_kg),
            ("unmet_heat_kwh", a.unmet_heat_kwh, b.unmet_heat_kwh),
            ("boiler_gas_kwh", a.boiler_gas_kwh, b.boiler_gas_kwh),
            (
                "waste_heat_recovered_kwh",
                a.waste_heat_recovered_kwh,
                b.waste_heat_recovered_kwh,
            ),
        ]
    }

    /// The comparison as JSON: the headline numbers `{key: {base, variant}}`, the homes that got
    /// colder and warmer, days and ticks (what `qtwin proposal decode --compare --json` prints and
    /// the page publishes).
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for (k, a, b) in self.headline() {
            m.insert(k.into(), serde_json::json!({"base": a, "variant": b}));
        }
        serde_json::json!({
            "days": self.days,
            "ticks": self.ticks,
            "kpis": m,
            "homes_colder": self.homes_colder,
            "homes_warmer": self.homes_warmer,
        })
    }
}

/// Runs `base` and `variant` for `days` with the base's seed, tick by tick side by side (the
/// planner panel's comparison: the same ticks, the same per-building sums), and compares them.
pub fn compare(base: &Scene, variant: &Scene, days: f64) -> Result<Comparison, SceneError> {
    let opts = RunOptions {
        seed: Some(base.seed),
        ..Default::default()
    };
    let nb = base.buildings.len();
    let run = |scene: &Scene| -> Result<(Kpis, Vec<f64>, u64), SceneError> {
        let mut sim = Simulation::new(scene, &opts)?;
        let ticks = (days * 86_400.0 / sim.clock().tick_s).round().max(1.0) as u64;
        let mut unmet = vec![0.0; nb];
        for _ in 0..ticks {
            sim.step();
            let c = sim.res::<crate::demand::Consumers>();
            let dt_h = sim.clock().tick_s / 3600.0;
            for (i, u) in unmet.iter_mut().enumerate().take(c.node.len()) {
                *u += c.unmet_w()[i] / 1e3 * dt_h;
            }
        }
        Ok((Kpis::from_ledger(sim.res::<Ledger>()), unmet, ticks))
    };
    let (a, b) = rayon::join(|| run(base), || run(variant));
    let ((ka, ua, ticks), (kb, ub, _)) = (a?, b?);
    Ok(Comparison::from_parts(days, ticks, ka, kb, [ua, ub]))
}

impl Comparison {
    /// The comparison of two finished runs: their KPIs and each building's unmet heat (kWh).
    pub fn from_parts(
        days: f64,
        ticks: u64,
        base: Kpis,
        variant: Kpis,
        unmet_kwh: [Vec<f64>; 2],
    ) -> Self {
        let pairs = || unmet_kwh[0].iter().zip(&unmet_kwh[1]);
        let homes_colder = pairs()
            .filter(|(x, y)| **y > **x + COLDER_THRESHOLD_KWH)
            .count();
        let homes_warmer = pairs()
            .filter(|(x, y)| **y + COLDER_THRESHOLD_KWH < **x)
            .count();
        Self {
            days,
            ticks,
            base,
            variant,
            unmet_kwh,
            homes_colder,
            homes_warmer,
        }
    }
}

/// A QR code of `text` (a link) as an SVG image: black modules on white with the standard
/// four-module quiet zone, error correction level M (about 15 % of the code may be unreadable:
/// print and posters). Also the code's size in modules.
pub fn qr_svg(text: &str) -> Result<(String, i32), ProposalError> {
    use qrcodegen::{QrCode, QrCodeEcc};
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).map_err(|_| ProposalError::TooLong {
        chars: text.len(),
        limit: MAX_PROPOSAL_CHARS,
    })?;
    let n = qr.size();
    let border = 4;
    let mut path = String::new();
    for y in 0..n {
        for x in 0..n {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let dim = n + 2 * border;
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 {dim} {dim}\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/><path d=\"{path}\" fill=\"#000000\"/></svg>\n"
    );
    Ok((svg, n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn riverside() -> Scene {
        crate::scene::load_scene(std::path::Path::new("scenes/riverside.ron")).unwrap()
    }

    fn edits(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(p, v)| (p.to_string(), v.to_string()))
            .collect()
    }

    /// A typical proposal: a new site placed on the map, insulation of the whole network, a
    /// colder network, PV on two roofs.
    fn typical() -> Vec<(String, String)> {
        edits(&[
            ("sites.q4.pos", "0:200"),
            ("pipes.*.insulation", "Series3"),
            ("network.supply_shift_k", "-10"),
            ("pv.b0001+b0002.peak_w", "auto"),
        ])
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
    /// A code of any `version` with `payload` deflated, and a correct check.
    fn forged(version: u8, hash: [u8; 8], payload: &[u8]) -> String {
        forged_packed(
            version,
            hash,
            PACK_DEFLATE,
            &miniz_oxide::deflate::compress_to_vec(payload, 10),
        )
    }
    fn forged_packed(version: u8, hash: [u8; 8], pack: u8, packed: &[u8]) -> String {
        let mut bytes = vec![version];
        bytes.extend_from_slice(&hash);
        bytes.push(pack);
        bytes.extend_from_slice(packed);
        let c = check(&bytes);
        bytes.extend_from_slice(&c);
        b64(&bytes)
    }

    #[test]
    fn a_typical_proposal_round_trips_and_applies_like_the_same_edits_by_hand() {
        let base = riverside();
        let e = typical();
        let code = encode(&base, &e).unwrap();
        // Four edits in 60 characters (45 bytes: 14 of header and check, 31 of tokenised edits,
        // which deflate would not shorten): base64url only, no padding.
        assert_eq!(code.len(), 60, "{code}");
        assert!(
            code.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{code}"
        );
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&code)
            .unwrap();
        assert_eq!((bytes.len(), bytes[0], bytes[9]), (45, 1, PACK_RAW));
        // PV on 40 roofs: there deflate shortens the tokens, and the code says so.
        let pv: Vec<(String, String)> = (1..=40)
            .map(|i| (format!("pv.b{i:04}.peak_w"), "5000".to_string()))
            .collect();
        let long = encode(&base, &pv).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&long)
            .unwrap();
        assert_eq!(bytes[9], PACK_DEFLATE);
        let raw = tokenise(&edits_text(&pv).unwrap()).len() + 14;
        assert!(bytes.len() < raw / 2, "{} vs {raw} bytes", bytes.len());
        assert_eq!(decode(&long).unwrap().edits, pv);
        // Deterministic: the same edits give the same code.
        assert_eq!(encode(&base, &e).unwrap(), code);
        let url = link("https://example.org/qtwin/?scene=riverside.ron#old", &code);
        assert_eq!(
            url,
            format!("https://example.org/qtwin/?scene=riverside.ron#p={code}")
        );
        for input in [
            code.clone(),
            url.clone(),
            format!("#p={code}"),
            format!("p={code}"),
            format!("  {url}\n"),
            format!("https://x/#a=1&p={code}&b=2"),
        ] {
            let p = decode(&input).unwrap();
            assert_eq!(p.edits, e, "{input}");
            assert_eq!(p.version, PROPOSAL_VERSION);
            assert_eq!(p.scene_hash, scene_hash(&base)[..16]);
        }
        let o = open(&base, &url).unwrap();
        // The same edits made by hand, as `qtwin edit --set` makes them.
        let mut by_hand = base.clone();
        let mut stack = EditStack::default();
        param::apply_assignments(&mut by_hand, &mut stack, &e).unwrap();
        assert_eq!(o.variant, by_hand);
        assert_eq!(o.stack.done.len(), 4);
        assert_eq!(o.stack.done[0].description, "sites.q4.pos=0:200");
        assert_eq!(o.variant.quantum_sites.len(), base.quantum_sites.len() + 1);
        // (0, 200) lies in a building: the site stands at the nearest free spot, 15 m away.
        let q4 = o
            .variant
            .quantum_sites
            .iter()
            .find(|q| q.id == "q4")
            .unwrap();
        let d = (q4.pos[0].powi(2) + (q4.pos[1] - 200.0).powi(2)).sqrt();
        assert!((14.0..16.0).contains(&d), "{:?}", q4.pos);
        match &o.stack.done[0].edit {
            crate::whatif::Edit::AddSite { connection, .. } => {
                assert_eq!(connection.moved.as_ref().unwrap().requested, [0.0, 200.0])
            }
            other => panic!("{other:?}"),
        }
        assert!(
            o.variant
                .heat_network
                .pipes
                .iter()
                .all(|p| p.insulation == crate::scene::PipeInsulation::Series(3))
        );
        assert_eq!(
            o.variant.heat_network.supply_temp_c,
            base.heat_network.supply_temp_c - 10.0
        );
        let pv = &o.variant.grid.as_ref().unwrap().pv;
        assert!(pv.iter().any(|p| p.building.as_deref() == Some("b0001")));
        assert!(pv.iter().any(|p| p.building.as_deref() == Some("b0002")));
    }

    #[test]
    fn every_kind_of_edit_round_trips() {
        let base = riverside();
        let e = edits(&[
            ("sites.q4.pos", "-120.5:310.25"),
            ("sites.q2.qubits", "300"),
            ("sites.q3.heat_pump.capacity_w", "600000"),
            ("sites.q1.remove", "true"),
            ("pipes.n001..n020.insulation", "Series3"),
            ("pipes.p001+p002.insulation", "LinearWmK(0.21)"),
            ("network.supply_temp_c", "70"),
            ("network.return_temp_c", "35"),
            ("pv.b0007.peak_w", "9000"),
            ("pv.*.scale", "1.5"),
            ("weather.year", "cold"),
            ("grid.carbon_scale", "0.8"),
            ("links.*.*.scheme", "Hybrid"),
        ]);
        let code = encode(&base, &e).unwrap();
        assert_eq!(decode(&code).unwrap().edits, e);
        let o = open(&base, &code).unwrap();
        assert_eq!(o.stack.done.len(), e.len());
        assert!(!o.variant.quantum_sites.iter().any(|q| q.id == "q1"));
        assert_eq!(o.variant.heat_network.return_temp_c, 35.0);
    }

    #[test]
    fn a_damaged_link_is_told_apart_and_never_applied() {
        let base = riverside();
        let code = encode(&base, &typical()).unwrap();
        let damaged = |c: &str| match decode(c) {
            Err(ProposalError::Damaged(m)) => m,
            other => panic!("{c}: expected damaged, got {other:?}"),
        };
        // Every single character changed, anywhere in the code (header, edits, check): damaged,
        // never another scene or version.
        for i in 0..code.len() {
            let mut b = code.clone().into_bytes();
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            let c = String::from_utf8(b).unwrap();
            let m = damaged(&c);
            assert!(
                m.contains("check does not match") || m.contains("not a proposal code"),
                "{i}: {m}"
            );
        }
        // Cut short by one to eight characters (base64 of a cut length or a cut check), by half.
        for cut in (1..=8).chain([code.len() / 2]) {
            let m = damaged(&code[..code.len() - cut]);
            assert!(
                m.contains("check does not match") || m.contains("not a proposal code"),
                "{cut}: {m}"
            );
        }
        assert!(damaged(&code[..12]).contains("9 bytes, shorter than any proposal"));
        assert!(damaged("https://x/#p=").contains("no proposal code"));
        // Characters outside base64url (a mail program's line break, a '+').
        assert!(damaged(&format!("{}+{}", &code[..5], &code[6..])).contains("not a proposal code"));
        let e = decode(&code[..code.len() - 1]).unwrap_err().to_string();
        assert!(e.starts_with("the proposal link is damaged ("), "{e}");
    }

    #[test]
    fn a_link_for_another_scene_says_so_with_both_hashes() {
        let base = riverside();
        let code = encode(&base, &typical()).unwrap();
        let mut other = base.clone();
        other.heat_network.supply_temp_c += 1.0;
        let e = open(&other, &code).unwrap_err();
        let (link_h, scene_h) = (&scene_hash(&base)[..16], &scene_hash(&other)[..16]);
        assert_eq!(
            e,
            ProposalError::OtherScene {
                link: link_h.to_string(),
                scene: scene_h.to_string()
            }
        );
        let msg = e.to_string();
        assert!(msg.contains(link_h) && msg.contains(scene_h), "{msg}");
        // The edit history is not part of the scene: a saved scene with edits of its own is
        // another scene only if its physics differ.
        let mut saved = base.clone();
        saved.edits = open(&base, &code).unwrap().stack.done;
        assert!(decode(&code).unwrap().check_scene(&saved).is_ok());
    }

    #[test]
    fn a_newer_or_unknown_version_is_refused_clearly() {
        let base = riverside();
        let hash = scene_hash_prefix(&base);
        let payload: &[u8] = b"network.supply_shift_k=-10";
        assert_eq!(
            decode(&forged(2, hash, payload)).unwrap_err(),
            ProposalError::NewerVersion { found: 2 }
        );
        let e = decode(&forged(0, hash, payload)).unwrap_err();
        assert_eq!(e, ProposalError::UnknownVersion { found: 0 });
        assert!(e.to_string().contains("unknown format 0"));
        // The same forged bytes as version 1 open.
        let p = open(&base, &forged(1, hash, payload)).unwrap();
        assert_eq!(
            p.proposal.edits,
            edits(&[("network.supply_shift_k", "-10")])
        );
        let msg = ProposalError::NewerVersion { found: 2 }.to_string();
        assert!(
            msg.contains("newer qtwin") && msg.contains("format 2"),
            "{msg}"
        );
    }

    #[test]
    fn too_long_links_are_refused_before_decoding_and_not_made() {
        let base = riverside();
        // Over the limit by one character: refused from its length (it is not even base64).
        let long = "!".repeat(MAX_PROPOSAL_CHARS + 1);
        assert_eq!(
            decode(&format!("https://x/#p={long}")).unwrap_err(),
            ProposalError::TooLong {
                chars: MAX_PROPOSAL_CHARS + 1,
                limit: MAX_PROPOSAL_CHARS
            }
        );
        // Edits that do not deflate to a short code are not encoded: 200 edits of 20 random digits
        // each (a linear congruential generator).
        let mut x: u64 = 1;
        let many: Vec<(String, String)> = (0..MAX_PROPOSAL_EDITS)
            .map(|i| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (format!("pv.b{:04}.peak_w", i % 40 + 1), format!("{x}"))
            })
            .collect();
        match encode(&base, &many) {
            Err(ProposalError::TooLong { chars, limit }) => {
                assert!(chars > limit && limit == MAX_PROPOSAL_CHARS, "{chars}")
            }
            other => panic!("{other:?}"),
        }
        let too_many =
            vec![("network.supply_shift_k".to_string(), "-1".to_string()); MAX_PROPOSAL_EDITS + 1];
        assert_eq!(
            encode(&base, &too_many).unwrap_err(),
            ProposalError::TooManyEdits {
                count: MAX_PROPOSAL_EDITS + 1,
                limit: MAX_PROPOSAL_EDITS
            }
        );
        // ... and a forged code that holds too many (short) edits is refused on decoding.
        let text = vec!["a=1"; MAX_PROPOSAL_EDITS + 1].join("\n");
        let c = forged(1, scene_hash_prefix(&base), text.as_bytes());
        assert!(c.len() <= MAX_PROPOSAL_CHARS);
        assert_eq!(
            decode(&c).unwrap_err(),
            ProposalError::TooManyEdits {
                count: MAX_PROPOSAL_EDITS + 1,
                limit: MAX_PROPOSAL_EDITS
            }
        );
    }

    #[test]
    fn a_deflate_bomb_stops_at_the_limit() {
        // 1 MiB of one letter deflates to about a thousand bytes, a code under the length limit,
        // that would inflate 16 times past the text limit.
        let text = vec![b'a'; 1 << 20];
        let code = forged(1, [0; 8], &text);
        assert!(code.len() <= MAX_PROPOSAL_CHARS, "{}", code.len());
        assert_eq!(
            decode(&code).unwrap_err(),
            ProposalError::Damaged("its edits inflate to more than 64 KiB".into())
        );
        // Tokens that expand past the limit: 3000 bytes of the 32-character token 0x03.
        let code = forged(1, [0; 8], &[0x03; 3000]);
        assert!(code.len() <= MAX_PROPOSAL_CHARS, "{}", code.len());
        assert_eq!(
            decode(&code).unwrap_err(),
            ProposalError::Damaged("its edits expand to more than 64 KiB".into())
        );
        // Not deflate, an unknown packing, a control byte that is no token, not UTF-8, not
        // PATH=VALUE: damaged, each with its reason.
        let e = decode(&forged_packed(1, [0; 8], PACK_DEFLATE, &[0xff; 16])).unwrap_err();
        assert!(e.to_string().contains("do not inflate"), "{e}");
        assert_eq!(
            decode(&forged_packed(1, [0; 8], 7, b"a=1")).unwrap_err(),
            ProposalError::Damaged("unknown packing 7 of its edits".into())
        );
        assert_eq!(
            decode(&forged_packed(1, [0; 8], PACK_RAW, b"a=\x001")).unwrap_err(),
            ProposalError::Damaged("byte 0x00 in its edits".into())
        );
        assert_eq!(
            decode(&forged(1, [0; 8], &[0xc3, 0x28])).unwrap_err(),
            ProposalError::Damaged("its edits are not UTF-8 text".into())
        );
        assert_eq!(
            decode(&forged(1, [0; 8], b"network.supply_shift_k")).unwrap_err(),
            ProposalError::Damaged("edit 1 is not PATH=VALUE".into())
        );
        // A raw packing with the tokens: the same edits as the encoder's.
        let raw = forged_packed(1, [0; 8], PACK_RAW, b"\x05q4\x060:200\n\x01-10");
        assert_eq!(
            decode(&raw).unwrap().edits,
            edits(&[("sites.q4.pos", "0:200"), ("network.supply_shift_k", "-10")])
        );
    }

    #[test]
    fn tokens_are_thirty_distinct_words_on_the_control_bytes_but_the_line_break() {
        let bytes: Vec<u8> = (0..TOKENS.len()).map(token_byte).collect();
        assert_eq!(bytes.first(), Some(&0x01));
        assert_eq!(bytes.last(), Some(&0x1f));
        assert!(!bytes.contains(&b'\n'));
        for (k, &b) in bytes.iter().enumerate() {
            assert_eq!(token_of(b), Some(TOKENS[k]));
        }
        let mut sorted = TOKENS.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 30);
        // The longest token wins: `pv.*.scale=` is one byte, not `pv.` and the rest.
        assert_eq!(tokenise("pv.*.scale=1.5"), b"\x1b1.5");
        assert_eq!(
            tokenise("sites.q3.heat_pump.capacity_w=600000"),
            b"\x05q3\x086\x1e00"
        );
        assert_eq!(
            detokenise(&tokenise("sites.q3.heat_pump.capacity_w=600000")).unwrap(),
            b"sites.q3.heat_pump.capacity_w=600000"
        );
    }

    #[test]
    fn an_edit_that_does_not_apply_names_itself_and_leaves_the_scene_alone() {
        let base = riverside();
        let e = edits(&[("network.supply_shift_k", "-10"), ("sites.q9.qubits", "10")]);
        let code = encode(&base, &e).unwrap();
        match open(&base, &code).unwrap_err() {
            ProposalError::Edit {
                index, path, msg, ..
            } => {
                assert_eq!((index, path.as_str()), (2, "sites.q9.qubits"));
                assert!(msg.contains("q9"), "{msg}");
            }
            other => panic!("{other:?}"),
        }
        // Edits that cannot be written in a link are refused when encoding.
        for (p, v) in [("a=b", "1"), ("a", "1\n2"), ("", "1"), ("a", " ")] {
            assert!(
                matches!(
                    encode(&base, &edits(&[(p, v)])),
                    Err(ProposalError::Unshareable { .. })
                ),
                "{p:?}={v:?}"
            );
        }
    }

    #[test]
    fn the_comparison_matches_the_planner_panels_and_a_new_site_adds_waste_heat() {
        let base = riverside();
        let code = encode(
            &base,
            &edits(&[("sites.q4.pos", "0:200"), ("network.supply_shift_k", "-10")]),
        )
        .unwrap();
        let o = open(&base, &code).unwrap();
        let c = compare(&base, &o.variant, 0.25).unwrap();
        assert_eq!(c.ticks, 360);
        assert_eq!(c.unmet_kwh[0].len(), base.buildings.len());
        // A fourth site recovers more waste heat; a colder network loses less heat.
        assert!(
            c.variant.waste_heat_recovered_kwh > c.base.waste_heat_recovered_kwh,
            "{:?}",
            c.headline()
        );
        assert!(c.variant.heat_losses_kwh < c.base.heat_losses_kwh);
        // The base world alone, run as `qtwin run` runs it: the same KPIs.
        let alone = crate::whatif::runs::run_scene(
            &base,
            &crate::whatif::runs::RunSpec {
                days: 0.25,
                seed: Some(base.seed),
                tick_s: None,
            },
            &|_| {},
        )
        .unwrap();
        assert_eq!(alone.kpis.heat_delivered_kwh, c.base.heat_delivered_kwh);
        assert_eq!(alone.kpis.co2_kg, c.base.co2_kg);
        let j = c.to_json();
        assert_eq!(j["ticks"], 360);
        assert_eq!(j["kpis"]["co2_kg"]["variant"], c.variant.co2_kg);
        assert_eq!(j["homes_colder"], c.homes_colder);
        // The unmet heat per building sums to the KPI.
        let sum: f64 = c.unmet_kwh[1].iter().sum();
        assert!(
            (sum - c.variant.unmet_heat_kwh).abs() <= 1e-6 * (1.0 + sum.abs()),
            "{sum} vs {}",
            c.variant.unmet_heat_kwh
        );
    }

    #[test]
    fn a_qr_code_of_a_typical_link_is_small_enough_for_a_poster() {
        let base = riverside();
        let url = link(
            "https://example.org/qtwin/",
            &encode(&base, &typical()).unwrap(),
        );
        let (svg, n) = qr_svg(&url).unwrap();
        // 89 characters at level M: version 6, 41 × 41 modules.
        assert_eq!(url.len(), 89);
        assert_eq!(n, 41);
        assert!(svg.starts_with("<svg ") && svg.contains("viewBox=\"0 0 49 49\""));
        assert_eq!(qr_svg(&url).unwrap().0, svg);
        // The longest code a link may hold still fits a QR code.
        let longest = link(
            "https://example.org/qtwin/",
            &"A".repeat(MAX_PROPOSAL_CHARS),
        );
        assert!(qr_svg(&longest).is_ok());
    }
}

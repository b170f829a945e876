//! Limits on the input qtwin reads: files are read with a size limit and a clear message, so a
//! huge or endless file (a device, a pipe, a mistaken path) ends in an error, not in memory
//! exhaustion.
//!
//! | what | limit | constant |
//! | --- | --- | --- |
//! | a scene file (`check`, `run`, `edit`, `compare`, `sweep`, `suggest`, `view`, a scenario's base scene) | 256 MiB (a generated city of 10,000 buildings is about 10 MiB) | [`MAX_SCENE_BYTES`] |
//! | a training scenario or a scripted trainee's actions | 16 MiB | [`MAX_SCRIPT_BYTES`] |
//! | a snapshot file | 256 MiB | [`MAX_SNAPSHOT_BYTES`] |
//! | an OpenQASM program | 64 MiB | `QasmLimits::max_source_bytes` in the quantum module's `qasm` |
//! | a proposal link's code (`#p=…`) | 2,000 characters (a QR code at level M holds the link) | [`MAX_PROPOSAL_CHARS`] |
//! | a proposal's edits, inflated | 64 KiB, at most 200 edits | [`MAX_PROPOSAL_TEXT_BYTES`], [`MAX_PROPOSAL_EDITS`] |
//!
//! The limits on the content of each format are documented where it is checked: scenes in the
//! scene module's `validate`, OpenQASM in the quantum module's `qasm`, the command line's
//! durations, ticks and candidate grid in the `cli` module. This module sits at the bottom of
//! the crate: it imports none of them.

use std::io::Read;
use std::path::Path;

/// Largest scene file read, bytes.
pub const MAX_SCENE_BYTES: u64 = 256 << 20;
/// Largest training scenario or actions file read, bytes.
pub const MAX_SCRIPT_BYTES: u64 = 16 << 20;
/// Largest snapshot file read, bytes.
pub const MAX_SNAPSHOT_BYTES: u64 = 256 << 20;
/// Longest proposal code (`#p=…` of a proposal link) decoded or made, characters. A link of
/// that many plus its page's address still fits a QR code at error correction level M (2,331
/// bytes at version 40).
pub const MAX_PROPOSAL_CHARS: usize = 2000;
/// Most bytes a proposal's deflated edits may inflate to (a deflate "bomb" stops there).
pub const MAX_PROPOSAL_TEXT_BYTES: usize = 64 << 10;
/// Most edits a proposal holds.
pub const MAX_PROPOSAL_EDITS: usize = 200;

/// A file that could not be read as text within its limit.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: the file is larger than the limit of {limit} (at least {size})")]
    TooLarge {
        path: String,
        size: String,
        limit: String,
    },
    #[error("{path}: not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 { path: String, offset: usize },
}

/// Reads `path` as UTF-8 text, refusing anything over `max_bytes` with a message that names the
/// file and the limit. Reads at most `max_bytes + 1` bytes, so a device or a growing file cannot
/// exhaust memory either.
pub fn read_text_limited(path: &Path, max_bytes: u64) -> Result<String, ReadError> {
    let p = || path.display().to_string();
    let io = |source| ReadError::Io { path: p(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let too_large = |size: u64| ReadError::TooLarge {
        path: p(),
        size: fmt_bytes(size as u128),
        limit: fmt_bytes(max_bytes as u128),
    };
    let hint = match file.metadata() {
        Ok(m) if m.is_file() => {
            if m.len() > max_bytes {
                return Err(too_large(m.len()));
            }
            m.len() as usize
        }
        _ => 0,
    };
    let mut bytes = Vec::with_capacity(hint);
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        path: p(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// `bytes` in B, KiB, MiB, GiB, TiB, … (three significant digits).
pub fn fmt_bytes(bytes: u128) -> String {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else if v >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.3} {}", UNITS[u]).replace(".000", "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The browser page refuses a dropped or fetched file over the same limit as the native
    /// reader, before it reads it: its constant must be this one.
    #[test]
    fn the_page_refuses_scenes_over_the_same_limit() {
        let page = include_str!("../web/index.html");
        let line = page
            .lines()
            .find(|l| l.starts_with("const MAX_SCENE_BYTES = "))
            .expect("web/index.html states MAX_SCENE_BYTES");
        assert_eq!(line, format!("const MAX_SCENE_BYTES = {MAX_SCENE_BYTES};"));
        assert_eq!(fmt_bytes(MAX_SCENE_BYTES as u128), "256 MiB");
    }

    #[test]
    fn reads_within_the_limit_and_refuses_above_it() {
        let dir = std::env::temp_dir().join(format!("qtwin-limits-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("ten.txt");
        std::fs::write(&f, "0123456789").unwrap();
        assert_eq!(read_text_limited(&f, 10).unwrap(), "0123456789");
        let e = read_text_limited(&f, 9).unwrap_err().to_string();
        assert!(
            e.contains("ten.txt") && e.contains("larger than the limit of 9 B"),
            "{e}"
        );
        std::fs::write(&f, [b'a', 0xff, b'b']).unwrap();
        let e = read_text_limited(&f, 10).unwrap_err().to_string();
        assert!(
            e.contains("not UTF-8 text (invalid byte at offset 1)"),
            "{e}"
        );
        let e = read_text_limited(&dir.join("missing"), 10)
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing"), "{e}");
        // A device without a size: the limit still holds.
        #[cfg(unix)]
        {
            let e = read_text_limited(Path::new("/dev/zero"), 1000)
                .unwrap_err()
                .to_string();
            assert!(e.contains("larger than the limit of 1000 B"), "{e}");
        }
    }
}

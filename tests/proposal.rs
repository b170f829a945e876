//! Proposal links on the command line: `qtwin proposal encode` makes a link, `qtwin proposal
//! decode` reads it back and compares it with the baseline, `qtwin view --proposal` refuses a
//! bad link before it opens a window.

use std::path::PathBuf;
use std::process::Command;

use qtwin::whatif::proposal;

fn qtwin(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_qtwin"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qtwin-proposal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

const SCENE: &str = "scenes/riverside.ron";

fn encode(sets: &[&str], extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["proposal", "encode", SCENE];
    for s in sets {
        args.extend(["--set", s]);
    }
    args.extend(extra);
    qtwin(&args)
}

#[test]
fn a_link_made_on_the_command_line_decodes_and_compares() {
    let qr = tmp("proposal-qr.svg");
    let (code, out, err) = encode(
        &[
            "sites.q4.pos=0:200",
            "pipes.*.insulation=Series3",
            "network.supply_shift_k=-10",
            "pv.b0001+b0002.peak_w=auto",
        ],
        &[
            "--page",
            "https://example.org/qtwin/",
            "--qr",
            qr.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let link = out.trim();
    assert!(link.starts_with("https://example.org/qtwin/#p="), "{link}");
    assert_eq!(link.len(), 89, "{link}");
    assert!(
        err.contains("4 edit(s) in a code of 60 characters (link 89 characters)"),
        "{err}"
    );
    assert!(err.contains("QR code 41×41 modules"), "{err}");
    let svg = std::fs::read_to_string(&qr).unwrap();
    assert!(svg.starts_with("<svg ") && svg.contains("viewBox=\"0 0 49 49\""));
    // The same code as the library makes.
    let base = qtwin::scene::load_scene(std::path::Path::new(SCENE)).unwrap();
    let lib = proposal::decode(link).unwrap();
    assert_eq!(
        proposal::encode(&base, &lib.edits).unwrap(),
        proposal::code_of(link)
    );

    let json = tmp("proposal-compare.json");
    let (code, out, err) = qtwin(&[
        "proposal",
        "decode",
        SCENE,
        link,
        "--compare",
        "--days",
        "0.25",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("4 edit(s)"), "{out}");
    assert!(out.contains("  1. sites.q4.pos=0:200  ("), "{out}");
    assert!(out.contains("homes that got colder: "), "{out}");
    // The numbers are the library's comparison of the same scenes.
    let o = proposal::open(&base, link).unwrap();
    let c = proposal::compare(&base, &o.variant, 0.25).unwrap();
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(written, c.to_json());
    assert_eq!(written["ticks"], 360);
    let co2 = format!(
        "{:<26} {:>14.3} {:>14.3}",
        "co2_kg", c.base.co2_kg, c.variant.co2_kg
    );
    assert!(out.contains(&co2), "{out}\n{co2}");
}

#[test]
fn bad_links_and_bad_edits_end_in_a_clear_message() {
    let (code, out, _) = encode(&["network.supply_shift_k=-10"], &[]);
    assert_eq!(code, 0);
    let link = out.trim().to_string();
    assert!(link.starts_with("#p="), "{link}");
    let c = proposal::code_of(&link).to_string();
    let flipped = format!(
        "{}{}{}",
        &c[..12],
        if &c[12..13] == "A" { "B" } else { "A" },
        &c[13..]
    );
    for (bad, expect) in [
        (flipped.as_str(), "the proposal link is damaged"),
        (&c[..c.len() - 3], "the proposal link is damaged"),
    ] {
        let (code, _, err) = qtwin(&["proposal", "decode", SCENE, bad]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(expect), "{err}");
        // The view refuses it before it opens a window.
        let (code, _, err) = qtwin(&["view", SCENE, "--proposal", bad]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("--proposal: ") && err.contains(expect),
            "{err}"
        );
    }
    let long = format!("#p={}", "A".repeat(2001));
    let (code, _, err) = qtwin(&["view", SCENE, "--proposal", &long]);
    assert_eq!(code, 2);
    assert!(
        err.contains("its code has 2001 characters, over the limit of 2000"),
        "{err}"
    );
    // A link for riverside opened on another scene.
    let (code, _, err) = qtwin(&["view", "tests/scenes/single_pipe.ron", "--proposal", &link]);
    assert_eq!(code, 2);
    assert!(err.contains("was made for another scene"), "{err}");
    // An edit that does not apply is refused when the link is made.
    let (code, _, err) = encode(&["sites.q9.qubits=10"], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("edit 1 of the proposal (sites.q9.qubits=10) does not apply"),
        "{err}"
    );
}

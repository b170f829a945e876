//! The browser build's fonts: egui's four default fonts cut down to the characters the UI can show
//! (`assets/fonts/subset.sh` makes them; its comment lists the Unicode ranges). They save 1.06 MB of
//! the page's module (0.66 MB gzipped) against egui's full fonts, which the native build keeps.
//!
//! Same families, fallback order and tweaks as egui's defaults (`epaint::FontDefinitions::default`),
//! so the page looks like the native window, with one change on both: the proportional family falls
//! back last to Hack, whose arrows (→ in "supply in → out") Ubuntu Light lacks; egui's defaults drew
//! them as a missing-glyph square.

use std::sync::Arc;

use bevy::prelude::*;
use bevy_egui::EguiContext;
use bevy_egui::egui::{FontData, FontDefinitions, FontFamily, FontTweak};

const UBUNTU_LIGHT: &[u8] = include_bytes!("../../assets/fonts/Ubuntu-Light.subset.ttf");
const HACK: &[u8] = include_bytes!("../../assets/fonts/Hack-Regular.subset.ttf");
const NOTO_EMOJI: &[u8] = include_bytes!("../../assets/fonts/NotoEmoji-Regular.subset.ttf");
const EMOJI_ICON: &[u8] = include_bytes!("../../assets/fonts/emoji-icon-font.subset.ttf");

/// The subset fonts as egui font definitions.
pub fn subset_fonts() -> FontDefinitions {
    let mut defs = FontDefinitions::empty();
    let tweak = |scale| FontTweak {
        scale,
        ..Default::default()
    };
    defs.font_data
        .insert("Hack".into(), Arc::new(FontData::from_static(HACK)));
    defs.font_data.insert(
        "NotoEmoji-Regular".into(),
        Arc::new(FontData::from_static(NOTO_EMOJI).tweak(tweak(0.81))),
    );
    defs.font_data.insert(
        "Ubuntu-Light".into(),
        Arc::new(FontData::from_static(UBUNTU_LIGHT)),
    );
    defs.font_data.insert(
        "emoji-icon-font".into(),
        Arc::new(FontData::from_static(EMOJI_ICON).tweak(tweak(0.90))),
    );
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    defs.families.insert(
        FontFamily::Monospace,
        names(&[
            "Hack",
            "Ubuntu-Light",
            "NotoEmoji-Regular",
            "emoji-icon-font",
        ]),
    );
    defs.families.insert(
        FontFamily::Proportional,
        names(&[
            "Ubuntu-Light",
            "NotoEmoji-Regular",
            "emoji-icon-font",
            "Hack",
        ]),
    );
    defs
}

/// The fonts the app uses: egui's full default fonts where the build has them (native), else the
/// subset ones (browser); both with Hack as the proportional family's last fallback.
pub fn ui_fonts() -> FontDefinitions {
    #[cfg(feature = "view")]
    {
        let mut defs = FontDefinitions::default();
        if let Some(chain) = defs.families.get_mut(&FontFamily::Proportional) {
            chain.push("Hack".into());
        }
        defs
    }
    #[cfg(not(feature = "view"))]
    subset_fonts()
}

/// Gives every new egui context its fonts before its first pass, so no frame is drawn without
/// them (the browser build has no others).
pub fn install_fonts(add: On<Add, EguiContext>, mut contexts: Query<&mut EguiContext>) {
    if let Ok(mut ctx) = contexts.get_mut(add.entity) {
        ctx.get_mut().set_fonts(ui_fonts());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bevy_egui::egui;

    /// Every character the UI's source lines use has a glyph in the fonts, in both families; a
    /// character outside them (CJK here) has none, so the check can fail.
    #[test]
    fn subset_fonts_cover_the_ui() {
        fonts_cover_the_ui(subset_fonts());
    }

    #[test]
    fn app_fonts_cover_the_ui() {
        fonts_cover_the_ui(ui_fonts());
    }

    fn fonts_cover_the_ui(defs: FontDefinitions) {
        let ctx = egui::Context::default();
        ctx.set_fonts(defs);
        let mut ui_chars = String::new();
        for src in [
            include_str!("ui.rs"),
            include_str!("tour.rs"),
            include_str!("planner.rs"),
            include_str!("control_room.rs"),
            include_str!("mod.rs"),
            include_str!("world3d.rs"),
            include_str!("links_layer.rs"),
            include_str!("plain.rs"),
        ] {
            for line in src.lines().filter(|l| !l.trim_start().starts_with("//")) {
                ui_chars.extend(line.chars().filter(|c| !c.is_ascii()));
            }
        }
        assert!(
            ui_chars.contains('▶') && ui_chars.contains('°'),
            "scan found the UI symbols"
        );
        // Fonts load at the start of a pass. A character no font has is drawn as egui's
        // replacement square; compare each character's atlas glyph with that one.
        let _ = ctx.run_ui(egui::RawInput::default(), |_| {});
        ctx.fonts_mut(|fonts| {
            for family in [FontFamily::Proportional, FontFamily::Monospace] {
                let id = egui::FontId::new(14.0, family.clone());
                let mut uv = |c: char| {
                    let g = fonts.layout_no_wrap(c.to_string(), id.clone(), egui::Color32::WHITE);
                    g.rows[0].row.glyphs[0].uv_rect
                };
                let missing = uv('日');
                assert_eq!(
                    missing,
                    uv('\u{25fb}'),
                    "CJK is not in the subset: drawn as the square"
                );
                assert_ne!(missing, uv('A'));
                for c in ui_chars.chars().chain("Zürich Δp ≤ 3 °C CO₂ ×".chars()) {
                    if c.is_whitespace() || c == '\u{25fb}' {
                        continue;
                    }
                    assert_ne!(
                        uv(c),
                        missing,
                        "no glyph for {c:?} (U+{:04X}) in {family:?}",
                        c as u32
                    );
                }
            }
        });
    }
}

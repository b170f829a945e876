//! The scene reader and checker on arbitrary bytes: `load_scene_str` then `validate` must return
//! `Ok` or an error, never panic. Seed the corpus with the real scenes:
//! `mkdir -p corpus/scene && cp ../scenes/*.ron ../tests/scenes/*.ron ../tests/scenes/broken/*.ron corpus/scene/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(scene) = qtwin::scene::load_scene_str(text, "fuzz")
    {
        let _ = qtwin::scene::validate(&scene);
    }
});

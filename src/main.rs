#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    qtwin::cli::main()
}

/// In the browser the page is the command line: `web/index.html` starts this, and the app reads
/// its scene from the page (the shipped demo, `?scene=URL` or a dropped file).
#[cfg(target_arch = "wasm32")]
fn main() {
    qtwin::view::web::main();
}

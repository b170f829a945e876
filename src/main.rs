fn main() -> std::process::ExitCode {
    qtwin::cli::main()
}

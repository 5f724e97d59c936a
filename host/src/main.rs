fn main() -> std::process::ExitCode {
    hatchery_host::cli::main()
}

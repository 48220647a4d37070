//! `dtops`: the DataTools ops CLI. Everything lives in the library; see `dtops --help`.

fn main() -> std::process::ExitCode {
    dtops::main()
}

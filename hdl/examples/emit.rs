//! Writes the Verilog of every RTL configuration into a directory (default `verilog/`).
//!
//! Usage: `cargo run -p pelab-hdl --example emit -- [DIR] [PE]`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = std::path::PathBuf::from(args.first().map_or("verilog", |s| s.as_str()));
    for pe in pelab_hdl::registry() {
        if args.get(1).is_some_and(|want| want != pe.id()) {
            continue;
        }
        for cfg in pe.configs() {
            let m = pe.verilog(&cfg)?;
            let path = pelab_hdl::emit::write_module(&dir, &m)?;
            println!("{}", path.display());
        }
    }
    Ok(())
}

//! The lint gate on every configuration of every PE: Verilator -Wall and the Yosys check.

use pelab_hdl::emit::write_module;
use pelab_hdl::registry;
use pelab_hdl::tools::{lint_verilator, lint_yosys};

#[test]
fn every_configuration_passes_the_lint_gate() {
    let dir = std::env::temp_dir().join(format!("pelab-hdl-lint-{}", std::process::id()));
    let mut n = 0;
    let mut failures = Vec::new();
    for pe in registry() {
        for cfg in pe.configs() {
            let m = pe
                .verilog(&cfg)
                .unwrap_or_else(|e| panic!("{} {cfg:?}: {e}", pe.id()));
            assert_eq!(m.name, pe.module_name(&cfg));
            let path = write_module(&dir, &m).unwrap();
            if let Err(e) = lint_verilator(&path).and_then(|_| lint_yosys(&path, &m.name)) {
                failures.push(e.to_string());
            }
            n += 1;
        }
    }
    println!("{n} configurations linted");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    std::fs::remove_dir_all(&dir).unwrap();
}

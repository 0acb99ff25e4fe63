//! Reads the ports of a user's Verilog module with Yosys (`read_verilog; hierarchy; write_json`),
//! so that a hand-written DUT is checked against the port conventions before any simulation.

use crate::run::yosys_script;
use crate::tb::DutPort;
use pelab_sim::{Error, Result};
use std::path::{Path, PathBuf};

/// The ports of module `top` in `files`.
pub fn read_ports(files: &[PathBuf], top: &str, work: &Path) -> Result<Vec<DutPort>> {
    for f in files {
        if !f.is_file() {
            return Err(Error::new(format!(
                "RTL file {} does not exist",
                f.display()
            )));
        }
    }
    let json = work.join("ports.json");
    let mut script = String::new();
    for f in files {
        let abs =
            std::fs::canonicalize(f).map_err(|e| Error::new(format!("{}: {e}", f.display())))?;
        script.push_str(&format!("read_verilog -sv \"{}\"; ", abs.display()));
    }
    script.push_str(&format!(
        "hierarchy -check -top {top}; proc; write_json \"{}\"",
        json.display()
    ));
    yosys_script(&script)?.map_err(|msg| {
        Error::new(format!(
            "yosys could not read module {top} from the given RTL: {}",
            msg.lines()
                .filter(|l| l.contains("ERROR"))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })?;
    let text = std::fs::read_to_string(&json).map_err(|e| Error::new(e.to_string()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::new(e.to_string()))?;
    let m = &v["modules"][top]["ports"];
    let Some(ports) = m.as_object() else {
        return Err(Error::new(format!(
            "module {top} not found in the given RTL"
        )));
    };
    Ok(ports
        .iter()
        .map(|(name, p)| DutPort {
            name: name.clone(),
            width: p["bits"].as_array().map_or(0, |b| b.len()) as u32,
            output: p["direction"] == "output",
        })
        .collect())
}

//! Stage 1: every PE configuration's Verilog, and the configuration subsets the later stages
//! take (the first configuration per format, the quick set).

use super::{parallel, Progress};
use pelab_hdl::{PeRtl, RtlConfig};
use pelab_sim::Result;
use pelab_testbench::Pe;
use std::path::Path;

/// Formats verified and synthesized by the quick run when a PE has several (one 8-bit format:
/// exhaustive vectors, and the cheapest Verilator builds).
pub(crate) const QUICK_FORMATS: [&str; 1] = ["e4m3"];

/// An emitted configuration.
pub(crate) struct Module {
    pub pe: Pe,
    pub cfg: RtlConfig,
    pub name: String,
}

/// Emits every configuration of every PE under `dir`.
pub(crate) fn emit_all(dir: &Path, progress: &dyn Progress) -> Result<Vec<Module>> {
    let mut jobs = Vec::new();
    for pe in pelab_testbench::pes() {
        for cfg in pe.rtl.configs() {
            jobs.push((pe, cfg));
        }
    }
    progress.stage("emit", jobs.len() as u64);
    let r = parallel(&jobs, |(pe, cfg)| -> Result<Module> {
        let m = pe.rtl.verilog(cfg)?;
        pelab_hdl::emit::write_module(dir, &m)?;
        progress.step(&m.name);
        Ok(Module {
            pe: *pe,
            cfg: cfg.clone(),
            name: m.name,
        })
    });
    progress.done();
    r.into_iter().collect()
}

/// The first pipeline-0 configuration of each format and variant of a PE (its default policy).
pub(crate) fn first_per_format(pe: &dyn PeRtl) -> Vec<RtlConfig> {
    let mut v: Vec<RtlConfig> = Vec::new();
    for c in pe.configs().into_iter().filter(|c| c.pipeline == 0) {
        if !v
            .iter()
            .any(|x| x.format == c.format && x.variant == c.variant)
        {
            v.push(c);
        }
    }
    v
}

/// The quick set: [`first_per_format`], restricted to [`QUICK_FORMATS`] when a PE has several
/// formats.
pub(crate) fn quick_set(pe: &dyn PeRtl) -> Vec<RtlConfig> {
    let all = first_per_format(pe);
    let mut formats: Vec<&str> = all.iter().map(|c| c.format.as_str()).collect();
    formats.dedup();
    if formats.len() <= 1 {
        return all;
    }
    all.into_iter()
        .filter(|c| QUICK_FORMATS.contains(&c.format.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_set_is_pipeline_0_and_covers_every_pe() {
        for pe in pelab_testbench::pes() {
            let q = quick_set(pe.rtl);
            assert!(!q.is_empty(), "{}", pe.id());
            assert!(q.iter().all(|c| c.pipeline == 0));
            let all = first_per_format(pe.rtl);
            assert!(q.iter().all(|c| all.contains(c)));
            if all.iter().any(|c| c.format != all[0].format) {
                assert!(q.iter().all(|c| QUICK_FORMATS.contains(&c.format.as_str())));
            }
        }
    }
}

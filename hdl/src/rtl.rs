//! The RTL face of a processing element: the [`PeRtl`] trait every PE implements once, its
//! configurations ([`RtlConfig`]) and the naming and validation helpers the PEs share. The list
//! of PEs is [`crate::pe::registry`].

use crate::emit::RtlModule;
use crate::{Error, Result};
use serde::Serialize;

/// One buildable configuration of a PE.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct RtlConfig {
    /// Number format (`e4m3`, `bf16`, ...; `int16` for the integer PE).
    pub format: String,
    /// Overflow / accumulation policy (`saturate`, `ieee`, `wrap`).
    pub policy: String,
    /// Register stages (0 = combinational) for PEs that offer pipelining; else 0.
    pub pipeline: u32,
    /// PE-specific structure (`core`, `mac`, ...); empty when the PE has only one.
    pub variant: String,
}

impl RtlConfig {
    /// A configuration with no variant.
    pub fn new(format: &str, policy: &str, pipeline: u32) -> RtlConfig {
        RtlConfig {
            format: format.into(),
            policy: policy.into(),
            pipeline,
            variant: String::new(),
        }
    }

    /// The same configuration with `variant` set.
    pub fn with_variant(mut self, variant: &str) -> RtlConfig {
        self.variant = variant.into();
        self
    }

    /// `key=value` pairs for headers and listings.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut v = vec![("format".to_string(), self.format.clone())];
        if !self.variant.is_empty() {
            v.push(("variant".into(), self.variant.clone()));
        }
        v.push(("policy".into(), self.policy.clone()));
        v.push(("pipeline".into(), self.pipeline.to_string()));
        v
    }
}

/// Short form of a policy in module names.
pub fn policy_tag(policy: &str) -> &str {
    match policy {
        "saturate" => "sat",
        other => other,
    }
}

/// Configurations of a two-operand float PE (`lmul`, `fpmul`): every RTL format x `policies`
/// (in that order; formats without Inf or NaN only saturate) x 0, 1 or 2 register stages.
pub fn float_configs(policies: [crate::format::Overflow; 2]) -> Vec<RtlConfig> {
    use crate::format::{rtl_format, Kind, Overflow, RTL_FORMATS};
    let mut v = Vec::new();
    for name in RTL_FORMATS {
        let f = rtl_format(name).expect("RTL formats parse");
        for pol in policies {
            if f.kind == Kind::Finite && pol == Overflow::Ieee {
                continue;
            }
            for p in 0..=2 {
                v.push(RtlConfig::new(name, pol.name(), p));
            }
        }
    }
    v
}

/// Module name of a two-operand float PE: `pelab_<pe>_<format>_<policy>[_p<N>]`.
pub fn float_module_name(pe: &str, cfg: &RtlConfig) -> String {
    let mut n = format!("pelab_{pe}_{}_{}", cfg.format, policy_tag(&cfg.policy));
    if cfg.pipeline > 0 {
        n.push_str(&format!("_p{}", cfg.pipeline));
    }
    n
}

/// The RTL of one PE, as the other layers see it.
pub trait PeRtl: Sync {
    /// PE identifier, the same as the reference model's (`lmul`, `int16fma`, ...).
    fn id(&self) -> &'static str;
    /// One-line description of the hardware.
    fn summary(&self) -> &'static str;
    /// Every configuration that has RTL; the first one per format is the default.
    fn configs(&self) -> Vec<RtlConfig>;
    /// Module (and file) name of a configuration. Call only with a configuration listed by
    /// [`PeRtl::configs`]; [`PeRtl::verilog`] checks that.
    fn module_name(&self, cfg: &RtlConfig) -> String;
    /// Builds the rust-hdl block of `cfg` and emits its Verilog.
    fn verilog(&self, cfg: &RtlConfig) -> Result<RtlModule>;
    /// Runs the configuration's rust-hdl block in rust-hdl's own simulator (no Verilog).
    ///
    /// `rows` holds, per row, one value per input port in port order (`clock` excluded); the
    /// result holds, per row, one value per output port in port order: for combinational and
    /// pipelined PEs the result of that row's operation (rows stream one per cycle), for
    /// stateful PEs the outputs right after that row's rising clock edge.
    fn simulate(&self, cfg: &RtlConfig, rows: &[Vec<u64>]) -> Result<Vec<Vec<u64>>> {
        let _ = rows;
        Err(Error::new(format!(
            "{} {}: no in-process rust-hdl simulation for this PE",
            self.id(),
            cfg.format
        )))
    }
}

fn uniq<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = Vec::new();
    for x in items {
        if !v.contains(&x) {
            v.push(x);
        }
    }
    v
}

/// Checks that `cfg` is one of `pe`'s configurations; the error lists what is valid.
pub fn validate(pe: &dyn PeRtl, cfg: &RtlConfig) -> Result<()> {
    let all = pe.configs();
    if all.contains(cfg) {
        return Ok(());
    }
    let pipelines: Vec<String> = all.iter().map(|c| c.pipeline.to_string()).collect();
    let mut msg = format!(
        "{} has no RTL for format={} policy={} pipeline={}",
        pe.id(),
        cfg.format,
        cfg.policy,
        cfg.pipeline
    );
    let variants = uniq(
        all.iter()
            .map(|c| c.variant.as_str())
            .filter(|v| !v.is_empty()),
    );
    if !variants.is_empty() || !cfg.variant.is_empty() {
        msg.push_str(&format!(" variant={}", cfg.variant));
    }
    msg.push_str(&format!(
        "; formats: {}; policies: {}; pipeline stages: {}",
        uniq(all.iter().map(|c| c.format.as_str())).join(", "),
        uniq(all.iter().map(|c| c.policy.as_str())).join(", "),
        uniq(pipelines.iter().map(|s| s.as_str())).join(", ")
    ));
    if !variants.is_empty() {
        msg.push_str(&format!("; variants: {}", variants.join(", ")));
    }
    let same_format: Vec<&RtlConfig> = all.iter().filter(|c| c.format == cfg.format).collect();
    if !same_format.is_empty() && !same_format.iter().any(|c| c.policy == cfg.policy) {
        msg.push_str(&format!(
            " (format {} supports policies: {})",
            cfg.format,
            uniq(same_format.iter().map(|c| c.policy.as_str())).join(", ")
        ));
    }
    Err(Error::new(msg))
}

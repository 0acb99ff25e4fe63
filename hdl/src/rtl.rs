//! The RTL face of a processing element: the [`PeRtl`] trait every PE implements once, its
//! configurations ([`RtlConfig`]) and the naming and validation helpers the PEs share. The list
//! of PEs is [`crate::pe::registry`].
//!
//! The two-operand float products (`lmul`, `fpmul`) also share their header text
//! ([`product_spec`]) and, through the `two_stage_product!` macro, their three register
//! placements and their registry entry: each PE writes only its front and back stage.

use crate::emit::{ModuleSpec, Port, RtlModule};
use crate::format::{overflow_result, Format, Kind, Overflow};
use crate::sim::{check_rows, stream_ab, ClockOf};
use crate::{Error, Result};
use rust_hdl::prelude::Block;
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

/// Checks that the overflow policy of a two-operand float PE (`pe`) exists for `format`:
/// kinds without Inf or NaN only saturate.
pub fn check_float_policy(pe: &str, format: &Format, overflow: Overflow) -> Result<()> {
    if format.kind == Kind::Finite && overflow == Overflow::Ieee {
        return Err(Error::new(format!(
            "{pe} {}: overflow policy 'ieee' needs Inf or NaN, which {} does not have; \
             valid: saturate",
            format.name(),
            format.name()
        )));
    }
    Ok(())
}

/// What a two-operand float product gives on overflow, as its header says it
/// (`saturate: ...` or `ieee: ...`).
pub fn overflow_text(f: &Format, overflow: Overflow) -> String {
    let (ovf, _) = overflow_result(f, overflow);
    match (overflow, f.kind) {
        (Overflow::Saturate, _) => format!("saturate: sign | largest finite magnitude 0x{ovf:X}"),
        (Overflow::Ieee, Kind::Ieee) => format!("ieee: sign | Inf (0x{ovf:X})"),
        _ => format!("ieee: canonical NaN 0x{ovf:X} (the format has no Inf)"),
    }
}

/// The header sentence on NaN inputs of a two-operand float product (none for formats
/// without NaN).
pub fn nan_input_text(f: &Format) -> Option<String> {
    (f.kind != Kind::Finite).then(|| {
        format!(
            "Any NaN input gives the canonical NaN 0x{:X}.",
            f.canonical_nan().unwrap_or(0)
        )
    })
}

/// The module description of a two-operand float product `pe` (ports `clock` when pipelined,
/// `a`, `b` and `y`, codes of format `f`) with `cfg.pipeline` register stages;
/// `p2_registers` says where pipeline 2 puts its registers.
pub fn product_spec(
    pe: &dyn PeRtl,
    cfg: &RtlConfig,
    f: &Format,
    semantics: Vec<String>,
    p2_registers: &str,
) -> ModuleSpec {
    let w = f.width() as usize;
    let mut ports = Vec::new();
    if cfg.pipeline > 0 {
        ports.push(Port::input("clock", 1, "clock, rising edge"));
    }
    let timing = match cfg.pipeline {
        0 => "Combinational: y follows a and b.".to_string(),
        1 => "y holds the product of the a and b sampled at the previous rising edge of clock \
              (output register)."
            .to_string(),
        _ => format!(
            "y holds the product of the a and b sampled two rising edges earlier; one operation \
             per cycle ({p2_registers})."
        ),
    };
    ports.push(Port::input("a", w, format!("operand a, {} code", f.name())));
    ports.push(Port::input("b", w, format!("operand b, {} code", f.name())));
    ports.push(Port::output("y", w, format!("product, {} code", f.name())));
    ModuleSpec {
        name: pe.module_name(cfg),
        pe: pe.id().into(),
        config: cfg.pairs(),
        semantics,
        latency: cfg.pipeline,
        timing,
        ports,
    }
}

/// Checks that every row holds the two operands `a` and `b` of a `width`-bit product `pe`
/// configuration.
pub fn check_product_rows(
    pe: &dyn PeRtl,
    cfg: &RtlConfig,
    width: u32,
    rows: &[Vec<u64>],
) -> Result<()> {
    check_rows(&pe.module_name(cfg), rows, &[("a", width), ("b", width)])
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

/// A two-operand product block as rust-hdl's simulator drives it: operands `a`, `b`, product
/// `y` and, when pipelined, a clock. The `two_stage_product!` macro implements it.
pub trait ProductPorts: Block + Sized {
    /// Rising clock edges from the operands to their product (0 = combinational).
    const LATENCY: u32;
    /// Sets the operands.
    fn set_ab(&mut self, a: u64, b: u64);
    /// The product code.
    fn y(&self) -> u64;
    /// The clock input, when the block has one.
    fn clock_of() -> Option<ClockOf<Self>>;
}

/// Streams `(a, b)` rows through `uut`, one per clock cycle, and returns each row's product
/// (see [`stream_ab`]).
pub fn stream_product<B: ProductPorts>(mut uut: B, rows: &[Vec<u64>]) -> Result<Vec<Vec<u64>>> {
    stream_ab(&mut uut, B::LATENCY, rows, B::set_ab, B::y, B::clock_of())
}

/// One register placement of a two-stage product block (see [`two_stage_product`]): the
/// `front` stage's `registers` signals pass through a register each, its `wires` signals go
/// straight to the `back` stage, and `y` is read from `y_from` (`back.y`, or an output
/// register named in `output`).
macro_rules! product_block {
    (
        $name:ident<$($g:ident),+>,
        { $params:ty, $code:ty, $front:ty, $back:ty },
        doc $doc:expr, y_doc $y_doc:literal,
        latency $lat:literal, clock [$($clock:ident)?] $clock_of:expr,
        registers [$($sig_r:ident => $reg:ident: $ty:ty),*], wires [$($sig_w:ident),*],
        output [$($y_reg:ident)?] $($y_from:ident).+
    ) => {
        #[doc = $doc]
        #[derive(LogicBlock)]
        pub struct $name<$(const $g: usize),+> {
            $(
                /// Clock; every register samples on its rising edge.
                pub $clock: Signal<In, Clock>,
            )?
            /// Operand a.
            pub a: Signal<In, $code>,
            /// Operand b.
            pub b: Signal<In, $code>,
            #[doc = $y_doc]
            pub y: Signal<Out, $code>,
            front: $front,
            back: $back,
            $($reg: DFF<$ty>,)*
            $($y_reg: DFF<$code>,)?
        }

        impl<$(const $g: usize),+> $name<$($g),+> {
            /// Builds the block for `p`.
            pub fn new(p: &$params) -> Self {
                Self {
                    $($clock: Default::default(),)?
                    a: Default::default(),
                    b: Default::default(),
                    y: Default::default(),
                    front: <$front>::new(p),
                    back: <$back>::new(p),
                    $($reg: Default::default(),)*
                    $($y_reg: Default::default(),)?
                }
            }
        }

        impl<$(const $g: usize),+> Logic for $name<$($g),+> {
            #[hdl_gen]
            fn update(&mut self) {
                $(self.$reg.clock.next = self.clock.val();)*
                $(self.$y_reg.clock.next = self.clock.val();)?
                self.front.a.next = self.a.val();
                self.front.b.next = self.b.val();
                $(self.$reg.d.next = self.front.$sig_r.val();)*
                $(self.back.$sig_w.next = self.front.$sig_w.val();)*
                $(self.back.$sig_r.next = self.$reg.q.val();)*
                $(self.$y_reg.d.next = self.back.y.val();)?
                self.y.next = self.$($y_from).+.val();
            }
        }

        impl<$(const $g: usize),+> $crate::rtl::ProductPorts for $name<$($g),+> {
            const LATENCY: u32 = $lat;
            fn set_ab(&mut self, a: u64, b: u64) {
                self.a.next = bits(a);
                self.b.next = bits(b);
            }
            fn y(&self) -> u64 {
                self.y.val().to_u64()
            }
            fn clock_of() -> Option<$crate::sim::ClockOf<Self>> {
                $clock_of
            }
        }
    };
}
pub(crate) use product_block;

/// Defines a two-operand product PE built from a front and a back stage, which exchange the
/// signals listed under `registers after`: its entry `$rtl` in the RTL registry ([`PeRtl`],
/// with id `$id` and summary `$summary`) and its three register placements,
///
/// - `$p0`: the stages joined (combinational);
/// - `$p1`: an output register `y_reg` (latency 1);
/// - `$p2`: also a register on each exchanged signal, named after `=>` (latency 2).
///
/// Each block has inputs `a`, `b` and output `y` (all of type `operands`), a `clock` input
/// when pipelined, a constructor `new(&params)` and [`ProductPorts`]. The configurations are
/// [`float_configs`] of `policies`; `params` is built by `$params::new(format, overflow)`, the
/// header by an inherent method `$rtl::spec(&self, &RtlConfig, &$params) -> ModuleSpec`, and
/// `$widths!(format, |generics| body)` binds the const generics of a format. `$title` names
/// the PE in the docs. The invoking module must import `rust_hdl::prelude::*`.
macro_rules! two_stage_product {
    (
        pe: $rtl:ident ($id:literal, $title:literal, $summary:literal),
        policies: $policies:expr, widths: $widths:ident,
        blocks: $p0:ident, $p1:ident, $p2:ident <$($g:ident),+>,
        params: $params:ty, operands: $code:ty,
        stages: $front:ty, then $back:ty,
        registers after $after:literal:
            { $($sig:ident => $reg:ident: $ty:ty),+ $(,)? } $(,)?
    ) => {
        $crate::rtl::product_block! {
            $p0<$($g),+>, { $params, $code, $front, $back },
            doc concat!("Combinational ", $title, " (pipeline 0)."), y_doc "Product code.",
            latency 0, clock [] None, registers [], wires [$($sig),+], output [] back.y
        }
        $crate::rtl::product_block! {
            $p1<$($g),+>, { $params, $code, $front, $back },
            doc concat!($title, " with an output register (pipeline 1, latency 1)."),
            y_doc "Product code of the operands sampled at the previous rising edge.",
            latency 1, clock [clock] Some(|u| &mut u.clock),
            registers [], wires [$($sig),+], output [y_reg] y_reg.q
        }
        $crate::rtl::product_block! {
            $p2<$($g),+>, { $params, $code, $front, $back },
            doc concat!($title, " with a register after ", $after,
                " and one on the output (pipeline 2, latency 2)."),
            y_doc "Product code of the operands sampled two rising edges earlier.",
            latency 2, clock [clock] Some(|u| &mut u.clock),
            registers [$($sig => $reg: $ty),+], wires [], output [y_reg] y_reg.q
        }

        #[doc = concat!("The ", $title, " PE in the RTL registry.")]
        pub struct $rtl;

        impl $rtl {
            /// Parses and checks the format and policy of a configuration.
            fn params(&self, cfg: &$crate::rtl::RtlConfig) -> $crate::Result<$params> {
                $crate::rtl::validate(self, cfg)?;
                <$params>::new(
                    $crate::format::rtl_format(&cfg.format)?,
                    $crate::format::Overflow::parse(&cfg.policy)?,
                )
            }
        }

        impl $crate::rtl::PeRtl for $rtl {
            fn id(&self) -> &'static str {
                $id
            }
            fn summary(&self) -> &'static str {
                $summary
            }
            fn configs(&self) -> Vec<$crate::rtl::RtlConfig> {
                $crate::rtl::float_configs($policies)
            }
            fn module_name(&self, cfg: &$crate::rtl::RtlConfig) -> String {
                $crate::rtl::float_module_name($id, cfg)
            }
            fn verilog(&self, cfg: &$crate::rtl::RtlConfig) -> $crate::Result<$crate::RtlModule> {
                use $crate::emit::emit_block;
                let p = self.params(cfg)?;
                let spec = self.spec(cfg, &p);
                $widths!(p.format, |$($g),+| match cfg.pipeline {
                    0 => emit_block(&mut $p0::<$($g),+>::new(&p), &spec),
                    1 => emit_block(&mut $p1::<$($g),+>::new(&p), &spec),
                    _ => emit_block(&mut $p2::<$($g),+>::new(&p), &spec),
                })
            }
            fn simulate(
                &self,
                cfg: &$crate::rtl::RtlConfig,
                rows: &[Vec<u64>],
            ) -> $crate::Result<Vec<Vec<u64>>> {
                let p = self.params(cfg)?;
                $crate::rtl::check_product_rows(self, cfg, p.format.width(), rows)?;
                $widths!(p.format, |$($g),+| match cfg.pipeline {
                    0 => $crate::rtl::stream_product($p0::<$($g),+>::new(&p), rows),
                    1 => $crate::rtl::stream_product($p1::<$($g),+>::new(&p), rows),
                    _ => $crate::rtl::stream_product($p2::<$($g),+>::new(&p), rows),
                })
            }
        }
    };
}
pub(crate) use two_stage_product;

//! The accumulator register of the streaming MACs, and the streaming block around a PE's
//! combinational core (`acc_streaming!`).

use crate::k;
use rust_hdl::prelude::*;

/// `N`-bit accumulator register. At each rising edge of `clock` the first matching rule
/// applies: `reset` loads 0, `clear` loads 0, `en` loads `d`; else the register holds. `q` is
/// the register itself.
#[derive(LogicBlock)]
pub struct AccReg<const N: usize> {
    /// Clock; the register samples on its rising edge.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset, active high, highest priority.
    pub reset: Signal<In, Bit>,
    /// Synchronous clear, active high.
    pub clear: Signal<In, Bit>,
    /// Load enable, active high.
    pub en: Signal<In, Bit>,
    /// The next accumulator value.
    pub d: Signal<In, Bits<N>>,
    /// The register.
    pub q: Signal<Out, Bits<N>>,
    state: DFF<Bits<N>>,
    zero: Constant<Bits<N>>,
}

impl<const N: usize> AccReg<N> {
    /// Builds the register.
    pub fn new() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            clear: Default::default(),
            en: Default::default(),
            d: Default::default(),
            q: Default::default(),
            state: Default::default(),
            zero: k(0),
        }
    }
}

impl<const N: usize> Default for AccReg<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Logic for AccReg<N> {
    #[hdl_gen]
    fn update(&mut self) {
        self.state.clock.next = self.clock.val();
        if self.reset.val() | self.clear.val() {
            self.state.d.next = self.zero.val();
        } else if self.en.val() {
            self.state.d.next = self.d.val();
        } else {
            self.state.d.next = self.state.q.val();
        }
        self.q.next = self.state.q.val();
    }
}

/// How the header of a streaming accumulator PE words its register's cycle rule.
pub struct AccText {
    /// The value that reset and clear load (`0`, `+0`).
    pub zero: &'static str,
    /// What a clear leaves out, with its verb (`operands are`, `x is`).
    pub dropped: &'static str,
    /// What `en` loads (`acc_next`).
    pub next: &'static str,
    /// What `acc` includes (`operands`, `addends`).
    pub inputs: &'static str,
}

impl AccText {
    /// The semantics sentence of the register.
    pub fn semantics(&self) -> String {
        let AccText {
            zero,
            dropped,
            next,
            ..
        } = self;
        format!(
            "Accumulator register, at each rising edge of clock: reset -> {zero}, else clear -> \
             {zero} (that cycle's {dropped} not accumulated), else en -> {next}, else hold. The \
             output acc is the register itself."
        )
    }

    /// The timing sentence (latency 1).
    pub fn timing(&self) -> String {
        format!(
            "acc includes the {} presented before the rising edge that accumulated them; no \
             combinational path from any input to acc.",
            self.inputs
        )
    }
}

/// Defines a streaming accumulator PE block: a combinational `core` (input `acc`, output `y`,
/// and one input per operand) in front of a 32-bit [`AccReg`].
///
/// The block has the ports `clock`, `reset`, `clear`, `en`, the operands (in the given order,
/// each `width` bits wide) and the output `acc`, the register itself: at each rising edge of
/// `clock` the first matching rule applies, `reset` loads 0, `clear` loads 0 (that cycle's
/// operands are not accumulated), `en` loads the core's `y`; else the register holds. Besides
/// the block, `new(args)` builds it (with `Default` when it takes no arguments), `INPUTS`
/// lists its inputs, `spec` writes its header and `stream` drives it in rust-hdl's simulator.
/// The invoking module must import `rust_hdl::prelude::*`.
///
/// ```text
/// acc_streaming! {
///     /// Block documentation.
///     Name(constructor arguments) {
///         core: CoreType = core constructor expression,
///         inputs: [/// Port documentation.
///                  port: width = "port description in the header", ...],
///         acc: "acc description in the header",
///     }
/// }
/// ```
macro_rules! acc_streaming {
    (
        $(#[$doc:meta])*
        $name:ident() {
            core: $core:ty = $core_new:expr,
            $($rest:tt)*
        }
    ) => {
        $crate::blocks::accreg::acc_streaming! {
            $(#[$doc])*
            $name() { core: $core = $core_new, $($rest)* } @block
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }
    };
    (
        $(#[$doc:meta])*
        $name:ident($($arg:ident: $arg_ty:ty),*) {
            core: $core:ty = $core_new:expr,
            inputs: [$($(#[$input_doc:meta])* $input:ident: $width:literal = $port_doc:literal),+ $(,)?],
            acc: $acc_doc:literal $(,)?
        } $(@block)?
    ) => {
        $(#[$doc])*
        #[derive(LogicBlock)]
        pub struct $name {
            /// Clock; the accumulator samples on its rising edge.
            pub clock: Signal<In, Clock>,
            /// Synchronous reset, active high, highest priority: the accumulator becomes zero.
            pub reset: Signal<In, Bit>,
            /// Synchronous clear, active high: the accumulator becomes zero (a new sum starts).
            pub clear: Signal<In, Bit>,
            /// Accumulate enable, active high.
            pub en: Signal<In, Bit>,
            $(
                $(#[$input_doc])*
                pub $input: Signal<In, Bits<$width>>,
            )+
            /// The accumulator register.
            pub acc: Signal<Out, Bits<32>>,
            core: $core,
            acc_reg: $crate::blocks::AccReg<32>,
        }

        impl $name {
            /// The input ports in port order (`clock` excluded): name and width.
            pub const INPUTS: &'static [(&'static str, u32)] =
                &[("reset", 1), ("clear", 1), ("en", 1), $((stringify!($input), $width)),+];

            /// Builds the block.
            pub fn new($($arg: $arg_ty),*) -> Self {
                Self {
                    clock: Default::default(),
                    reset: Default::default(),
                    clear: Default::default(),
                    en: Default::default(),
                    $($input: Default::default(),)+
                    acc: Default::default(),
                    core: $core_new,
                    acc_reg: $crate::blocks::AccReg::new(),
                }
            }

            /// The header of `pe`'s configuration `cfg` built on this block: `semantics` (the
            /// step), then the register's rule as `text` words it; latency 1.
            pub fn spec(
                pe: &dyn $crate::rtl::PeRtl,
                cfg: &$crate::rtl::RtlConfig,
                mut semantics: Vec<String>,
                text: &$crate::blocks::accreg::AccText,
            ) -> $crate::emit::ModuleSpec {
                use $crate::emit::Port;
                semantics.push(text.semantics());
                let ports = vec![
                    Port::input("clock", 1, "clock, rising edge"),
                    Port::input(
                        "reset",
                        1,
                        "synchronous reset, active high, highest priority",
                    ),
                    Port::input("clear", 1, "synchronous clear, active high"),
                    Port::input("en", 1, "accumulate enable, active high"),
                    $(Port::input(stringify!($input), $width, $port_doc),)+
                    Port::output("acc", 32, $acc_doc),
                ];
                $crate::emit::ModuleSpec {
                    name: pe.module_name(cfg),
                    pe: pe.id().into(),
                    config: cfg.pairs(),
                    semantics,
                    latency: 1,
                    timing: text.timing(),
                    ports,
                }
            }

            /// Drives the block in rust-hdl's simulator, one row of [`Self::INPUTS`] values
            /// per clock cycle; returns the register after each rising edge. `module` names
            /// the configuration in errors.
            pub fn stream(
                mut self,
                module: &str,
                rows: &[Vec<u64>],
            ) -> $crate::Result<Vec<Vec<u64>>> {
                $crate::sim::check_rows(module, rows, Self::INPUTS)?;
                self.connect_all();
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    self.reset.next = r[0] == 1;
                    self.clear.next = r[1] == 1;
                    self.en.next = r[2] == 1;
                    let mut operands = r[3..].iter();
                    $(self.$input.next = bits(*operands.next().unwrap_or(&0));)+
                    $crate::sim::tick(&mut self, |u| &mut u.clock)?;
                    out.push(vec![self.acc.val().to_u64()]);
                }
                Ok(out)
            }
        }

        impl Logic for $name {
            #[hdl_gen]
            fn update(&mut self) {
                self.acc_reg.clock.next = self.clock.val();
                self.core.acc.next = self.acc_reg.q.val();
                $(self.core.$input.next = self.$input.val();)+
                self.acc_reg.reset.next = self.reset.val();
                self.acc_reg.clear.next = self.clear.val();
                self.acc_reg.en.next = self.en.val();
                self.acc_reg.d.next = self.core.y.val();
                self.acc.next = self.acc_reg.q.val();
            }
        }
    };
}
pub(crate) use acc_streaming;

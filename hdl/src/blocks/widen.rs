//! Exact widening of a float code to FP32: the FP32 code of the same value.
//!
//! Every format with at most 8 exponent and 23 mantissa bits whose values lie in FP32's range
//! widens exactly ([`widen_mode`] says which and how). Signed zeros keep their sign, Inf stays
//! the signed Inf, any NaN becomes the canonical FP32 NaN `0x7FC00000`. Subnormals of a format
//! with fewer exponent bits than FP32 become normal FP32 numbers: their significand is
//! normalized by [`FpLeadNorm`] and the exponent absorbs the shift. A format with FP32's own
//! exponent field (8 bits, bias 127, as bf16) keeps its exponent field as it is, subnormals
//! included (they are FP32 subnormals), and only pads the mantissa.
//!
//! [`FpWiden`] holds only connections: [`WidenUnpack`] (fields, effective exponent and the
//! special results), [`FpLeadNorm`] and [`WidenPack`] (FP32 exponent, fraction and the result
//! multiplexer), so that no always block both drives a child and reads what the child computes.

use super::FpLeadNorm;
use crate::format::{inf_code, nan_masks, Format, Kind};
use crate::k;
use crate::{Error, Result};
use rust_hdl::prelude::*;

/// The canonical FP32 NaN.
pub const FP32_NAN: u32 = 0x7FC0_0000;

/// How a format widens exactly to FP32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WidenMode {
    /// Fewer exponent bits than FP32: every finite nonzero value is a normal FP32 number;
    /// subnormal significands are normalized and the exponent is rebiased.
    Normalize,
    /// FP32's exponent field (8 bits, bias 127): the exponent field is kept, subnormals
    /// included, and the mantissa is padded with zeros.
    Direct,
}

/// Checks that every code of `f` has an FP32 code of the same value and says how the widening
/// works; the error names the format and what would be needed.
pub fn widen_mode(f: &Format) -> Result<WidenMode> {
    let name = f.name();
    let fail = |why: String| {
        Err(Error::new(format!(
            "format {name} does not widen exactly to FP32: {why}; exact widening needs at most \
             8 exponent bits and 23 mantissa bits, with every finite value inside FP32's range"
        )))
    };
    if f.e > 8 {
        return fail(format!("{} exponent bits (more than FP32's 8)", f.e));
    }
    if f.m > 23 || f.m == 0 {
        return fail(format!(
            "{} mantissa bits (FP32 has 23; at least 1 is needed)",
            f.m
        ));
    }
    if f.e == 8 {
        if f.bias != 127 {
            return fail(format!(
                "8 exponent bits with bias {} (FP32's is 127)",
                f.bias
            ));
        }
        return Ok(WidenMode::Direct);
    }
    // Exponent of the smallest subnormal and of the largest finite value.
    let lo = 1 - f.bias - f.m as i32;
    let top_field = match f.kind {
        Kind::Ieee => (1i32 << f.e) - 2,
        Kind::FiniteNan | Kind::Finite => (1i32 << f.e) - 1,
    };
    let hi = top_field - f.bias;
    if lo < -126 || hi > 127 {
        return fail(format!(
            "values from 2^{lo} to 2^{} need FP32 exponents outside -126..=127",
            hi + 1
        ));
    }
    Ok(WidenMode::Normalize)
}

/// Decode of the code to widen: sign, exponent field, significand and the special results.
#[derive(LogicBlock)]
pub struct WidenUnpack<const W: usize, const E: usize, const M: usize, const S: usize> {
    /// The code to widen.
    pub a: Signal<In, Bits<W>>,
    /// Sign bit.
    pub sign: Signal<Out, Bit>,
    /// Mantissa field.
    pub man: Signal<Out, Bits<M>>,
    /// Significand: the mantissa with the hidden bit (0 when the exponent field is 0).
    pub sig: Signal<Out, Bits<S>>,
    /// Exponent field, zero-extended to 8 bits.
    pub field: Signal<Out, Bits<8>>,
    /// Effective exponent: the field, or 1 when the field is 0.
    pub eff: Signal<Out, Bits<8>>,
    /// The code is a NaN or an Inf.
    pub special: Signal<Out, Bit>,
    /// Its FP32 code (valid when `special`): the canonical NaN or the signed Inf.
    pub special_y: Signal<Out, Bits<32>>,
    fe: Signal<Local, Bits<E>>,
    ez: Signal<Local, Bit>,
    abs: Signal<Local, Bits<W>>,
    nan: Signal<Local, Bit>,
    inf: Signal<Local, Bit>,
    man_s: Signal<Local, Bits<S>>,
    sign_mask: Constant<Bits<W>>,
    abs_mask: Constant<Bits<W>>,
    nan_sel: Constant<Bits<W>>,
    nan_any: Constant<Bits<W>>,
    inf_code: Constant<Bits<W>>,
    m_off: Constant<Bits<32>>,
    hidden: Constant<Bits<S>>,
    one8: Constant<Bits<8>>,
    nan32: Constant<Bits<32>>,
    inf32: Constant<Bits<32>>,
    neg_inf32: Constant<Bits<32>>,
}

impl<const W: usize, const E: usize, const M: usize, const S: usize> WidenUnpack<W, E, M, S> {
    /// Builds the decoder for `f` (the const generics must be its widths).
    pub fn new(f: &Format) -> Self {
        check_generics::<W, E, M, S>(f);
        let (nan_sel, nan_any) = nan_masks(f);
        Self {
            a: Default::default(),
            sign: Default::default(),
            man: Default::default(),
            sig: Default::default(),
            field: Default::default(),
            eff: Default::default(),
            special: Default::default(),
            special_y: Default::default(),
            fe: Default::default(),
            ez: Default::default(),
            abs: Default::default(),
            nan: Default::default(),
            inf: Default::default(),
            man_s: Default::default(),
            sign_mask: k(f.sign_bit()),
            abs_mask: k(f.mag_mask()),
            nan_sel: k(nan_sel),
            nan_any: k(nan_any),
            inf_code: k(inf_code(f)),
            m_off: k(M as u64),
            hidden: k(1 << M),
            one8: k(1),
            nan32: k(FP32_NAN as u64),
            inf32: k(0x7F80_0000),
            neg_inf32: k(0xFF80_0000),
        }
    }
}

impl<const W: usize, const E: usize, const M: usize, const S: usize> Logic
    for WidenUnpack<W, E, M, S>
{
    #[hdl_gen]
    fn update(&mut self) {
        self.sign.next = (self.a.val() & self.sign_mask.val()).any();
        self.man.next = self.a.val().get_bits::<M>(0);
        self.fe.next = self.a.val().get_bits::<E>(self.m_off.val().index());
        self.ez.next = !self.fe.val().any();
        self.field.next = bit_cast::<8, E>(self.fe.val());
        if self.ez.val() {
            self.eff.next = self.one8.val();
        } else {
            self.eff.next = self.field.val();
        }
        self.man_s.next = bit_cast::<S, M>(self.man.val());
        if self.ez.val() {
            self.sig.next = self.man_s.val();
        } else {
            self.sig.next = self.man_s.val() | self.hidden.val();
        }
        self.abs.next = self.a.val() & self.abs_mask.val();
        self.nan.next = ((self.a.val() & self.nan_sel.val()) == self.nan_sel.val())
            & (self.a.val() & self.nan_any.val()).any();
        self.inf.next = self.abs.val() == self.inf_code.val();
        self.special.next = self.nan.val() | self.inf.val();
        if self.nan.val() {
            self.special_y.next = self.nan32.val();
        } else if self.sign.val() {
            self.special_y.next = self.neg_inf32.val();
        } else {
            self.special_y.next = self.inf32.val();
        }
    }
}

/// The FP32 code: exponent, fraction, zero and the special results.
#[derive(LogicBlock)]
pub struct WidenPack<const M: usize, const S: usize> {
    /// Sign bit.
    pub sign: Signal<In, Bit>,
    /// Mantissa field (used as it is in [`WidenMode::Direct`]).
    pub man: Signal<In, Bits<M>>,
    /// Exponent field (used as it is in [`WidenMode::Direct`]).
    pub field: Signal<In, Bits<8>>,
    /// Effective exponent (field, or 1 for subnormals).
    pub eff: Signal<In, Bits<8>>,
    /// Normalized significand (top bit set; zero for a zero code).
    pub norm: Signal<In, Bits<S>>,
    /// Leading zeros of the significand.
    pub lz: Signal<In, Bits<8>>,
    /// The code is a NaN or an Inf.
    pub special: Signal<In, Bit>,
    /// Its FP32 code.
    pub special_y: Signal<In, Bits<32>>,
    /// The FP32 code of the same value.
    pub y: Signal<Out, Bits<32>>,
    nonzero: Signal<Local, Bit>,
    exp: Signal<Local, Bits<8>>,
    frac: Signal<Local, Bits<M>>,
    frac23: Signal<Local, Bits<23>>,
    frac_top: Signal<Local, Bits<23>>,
    exp32: Signal<Local, Bits<32>>,
    frac32: Signal<Local, Bits<32>>,
    sign32: Signal<Local, Bits<32>>,
    direct: Constant<Bit>,
    rebias: Constant<Bits<8>>,
    hidden: Constant<Bits<S>>,
    pad: Constant<Bits<5>>,
    eoff: Constant<Bits<5>>,
    s_sign: Constant<Bits<32>>,
    s_zero: Constant<Bits<32>>,
}

impl<const M: usize, const S: usize> WidenPack<M, S> {
    /// Builds the packer for `f` (`M` its mantissa bits, `S = M + 1`), which must widen
    /// exactly ([`widen_mode`]).
    pub fn new(f: &Format) -> Self {
        assert_eq!(
            (M, S),
            (f.m as usize, f.m as usize + 1),
            "M, S of the format"
        );
        let mode = widen_mode(f).unwrap_or_else(|e| panic!("{e}"));
        Self {
            sign: Default::default(),
            man: Default::default(),
            field: Default::default(),
            eff: Default::default(),
            norm: Default::default(),
            lz: Default::default(),
            special: Default::default(),
            special_y: Default::default(),
            y: Default::default(),
            nonzero: Default::default(),
            exp: Default::default(),
            frac: Default::default(),
            frac23: Default::default(),
            frac_top: Default::default(),
            exp32: Default::default(),
            frac32: Default::default(),
            sign32: Default::default(),
            direct: Constant::new(mode == WidenMode::Direct),
            rebias: k(((127 - f.bias as i64) as u64) & 0xFF),
            hidden: k(1 << M),
            pad: k(23 - M as u64),
            eoff: k(23),
            s_sign: k(0x8000_0000),
            s_zero: k(0),
        }
    }
}

impl<const M: usize, const S: usize> Logic for WidenPack<M, S> {
    #[hdl_gen]
    fn update(&mut self) {
        // A zero code has a zero significand, whose "normalized" form stays zero.
        self.nonzero.next = (self.norm.val() & self.hidden.val()).any();
        if self.direct.val() {
            self.exp.next = self.field.val();
            self.frac.next = self.man.val();
        } else {
            // FP32 exponent field = effective exponent - shift + (127 - bias), in 1..=254.
            self.exp.next = (self.eff.val() + self.rebias.val()) - self.lz.val();
            self.frac.next = self.norm.val().get_bits::<M>(0);
        }
        self.frac23.next = bit_cast::<23, M>(self.frac.val());
        self.frac_top.next = self.frac23.val() << self.pad.val();
        self.exp32.next = bit_cast::<32, 8>(self.exp.val());
        self.frac32.next = bit_cast::<32, 23>(self.frac_top.val());
        if self.sign.val() {
            self.sign32.next = self.s_sign.val();
        } else {
            self.sign32.next = self.s_zero.val();
        }
        if self.special.val() {
            self.y.next = self.special_y.val();
        } else if self.nonzero.val() {
            self.y.next =
                (self.sign32.val() | (self.exp32.val() << self.eoff.val())) | self.frac32.val();
        } else {
            self.y.next = self.sign32.val();
        }
    }
}

/// Exact widening of a code of an `eEmM` format to FP32 (see the module documentation).
///
/// Const generics: `W = 1 + E + M` the code width, `E` exponent bits, `M` mantissa bits,
/// `S = M + 1`. The format must widen exactly ([`widen_mode`]).
#[derive(LogicBlock)]
pub struct FpWiden<const W: usize, const E: usize, const M: usize, const S: usize> {
    /// The code to widen.
    pub a: Signal<In, Bits<W>>,
    /// The FP32 code of the same value (NaN: `0x7FC00000`).
    pub y: Signal<Out, Bits<32>>,
    unpack: WidenUnpack<W, E, M, S>,
    lead: FpLeadNorm<S, 8>,
    pack: WidenPack<M, S>,
}

impl<const W: usize, const E: usize, const M: usize, const S: usize> FpWiden<W, E, M, S> {
    /// Builds the widening of format `f`; panics unless the const generics are its widths and
    /// it widens exactly (check with [`widen_mode`] first).
    pub fn new(f: &Format) -> Self {
        Self {
            a: Default::default(),
            y: Default::default(),
            unpack: WidenUnpack::new(f),
            lead: FpLeadNorm::new(),
            pack: WidenPack::new(f),
        }
    }
}

impl<const W: usize, const E: usize, const M: usize, const S: usize> Logic for FpWiden<W, E, M, S> {
    #[hdl_gen]
    fn update(&mut self) {
        self.unpack.a.next = self.a.val();
        self.lead.sig.next = self.unpack.sig.val();
        self.pack.sign.next = self.unpack.sign.val();
        self.pack.man.next = self.unpack.man.val();
        self.pack.field.next = self.unpack.field.val();
        self.pack.eff.next = self.unpack.eff.val();
        self.pack.norm.next = self.lead.norm.val();
        self.pack.lz.next = self.lead.lz.val();
        self.pack.special.next = self.unpack.special.val();
        self.pack.special_y.next = self.unpack.special_y.val();
        self.y.next = self.pack.y.val();
    }
}

/// Panics unless `(W, E, M, S)` are the widths of `f`.
fn check_generics<const W: usize, const E: usize, const M: usize, const S: usize>(f: &Format) {
    assert_eq!(
        (W, E, M, S),
        (
            f.width() as usize,
            f.e as usize,
            f.m as usize,
            f.m as usize + 1
        ),
        "const generics (W, E, M, S) must be the widths of the format"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{rtl_format, RTL_FORMATS};

    #[test]
    fn every_rtl_format_widens_and_wide_ones_do_not() {
        for n in RTL_FORMATS {
            let f = rtl_format(n).unwrap();
            let want = if f.e == 8 {
                WidenMode::Direct
            } else {
                WidenMode::Normalize
            };
            assert_eq!(widen_mode(&f).unwrap(), want, "{n}");
        }
        for (name, what) in [("e9m3", "9 exponent bits"), ("e5m30", "30 mantissa bits")] {
            let e = widen_mode(&Format::parse(name).unwrap())
                .unwrap_err()
                .to_string();
            assert!(e.contains(name) && e.contains(what), "{e}");
        }
        let odd = Format::new(8, 7, 100, Kind::Ieee);
        assert!(widen_mode(&odd)
            .unwrap_err()
            .to_string()
            .contains("bias 100"));
        let far = Format::new(7, 23, 63, Kind::Ieee);
        assert!(widen_mode(&far).is_ok(), "2^-85 .. 2^64 fit");
    }
}

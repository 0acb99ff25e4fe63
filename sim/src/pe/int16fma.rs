//! The `int16fma` PE: two INT16 x INT16 products added into an INT32 accumulator, as the x86
//! instructions VPDPWSSD (wrapping) and VPDPWSSDS (saturating) do per 32-bit lane, plus the
//! accumulator register of a streaming MAC and the Dynamic Fixed Point (DFP-16) tensor format
//! that feeds it (Das et al., ICLR 2018).
//!
//! Semantics are stated in `docs/int16fma.md`.

use crate::error::{Error, Result};
use crate::model::{hex, parse_hex, pick_policy, Evaluation, PeModel, TableOps};

/// How the INT32 accumulator treats a sum outside [-2^31, 2^31-1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Keep the low 32 bits (two's complement, mod 2^32): VPDPWSSD.
    Wrap,
    /// Clamp the exact sum to [-2^31, 2^31-1]: VPDPWSSDS.
    Saturate,
}

impl Mode {
    /// Both modes, wrap first (the default policy).
    pub const ALL: [Mode; 2] = [Mode::Wrap, Mode::Saturate];

    /// The policy name used on the command line (`wrap` or `saturate`).
    pub fn policy_name(self) -> &'static str {
        match self {
            Mode::Wrap => "wrap",
            Mode::Saturate => "saturate",
        }
    }

    /// The x86 instruction with this behaviour (`VPDPWSSD` or `VPDPWSSDS`).
    pub fn instruction(self) -> &'static str {
        match self {
            Mode::Wrap => "VPDPWSSD",
            Mode::Saturate => "VPDPWSSDS",
        }
    }

    /// Parses a policy name; the error lists the valid names.
    pub fn from_policy(name: &str) -> Result<Mode> {
        Mode::ALL
            .into_iter()
            .find(|m| m.policy_name() == name)
            .ok_or_else(|| {
                Error::new(format!(
                    "unknown int16fma policy '{name}'; valid: wrap, saturate"
                ))
            })
    }

    /// One lane of the instruction in this mode: [`vpdpwssd`] or [`vpdpwssds`].
    #[inline]
    pub fn apply(self, acc: i32, a: [i16; 2], b: [i16; 2]) -> i32 {
        match self {
            Mode::Wrap => vpdpwssd(acc, a, b),
            Mode::Saturate => vpdpwssds(acc, a, b),
        }
    }
}

/// The exact value of `acc + a0*b0 + a1*b1` (never overflows an `i64`).
#[inline]
pub fn dp_exact(acc: i32, a: [i16; 2], b: [i16; 2]) -> i64 {
    acc as i64 + a[0] as i64 * b[0] as i64 + a[1] as i64 * b[1] as i64
}

/// True when `x` lies outside the INT32 range [-2^31, 2^31-1].
#[inline]
pub fn outside_int32(x: i64) -> bool {
    x < i32::MIN as i64 || x > i32::MAX as i64
}

/// VPDPWSSD, one lane: `acc + a0*b0 + a1*b1`, products sign-extended, result mod 2^32.
#[inline]
pub fn vpdpwssd(acc: i32, a: [i16; 2], b: [i16; 2]) -> i32 {
    // Each product fits in an i32 (|p| <= 2^30); only the sums can wrap.
    let p0 = a[0] as i32 * b[0] as i32;
    let p1 = a[1] as i32 * b[1] as i32;
    acc.wrapping_add(p0.wrapping_add(p1))
}

/// VPDPWSSDS, one lane: the exact `acc + a0*b0 + a1*b1` clamped to [-2^31, 2^31-1].
#[inline]
pub fn vpdpwssds(acc: i32, a: [i16; 2], b: [i16; 2]) -> i32 {
    dp_exact(acc, a, b).clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// Checks the lane layout of the slice kernels.
fn check_lanes(acc: usize, a: usize, b: usize) {
    assert!(
        a == 2 * acc && b == 2 * acc,
        "lane layout: a and b must hold 2 values per accumulator lane \
         (acc has {acc} lanes, a has {a} values, b has {b})"
    );
}

/// Runs one instruction on every lane: `acc[i] = op(acc[i], a[2i..2i+2], b[2i..2i+2])`.
///
/// # Panics
/// When `a.len()` or `b.len()` differs from `2 * acc.len()`.
pub fn dpwssd_slice(mode: Mode, acc: &mut [i32], a: &[i16], b: &[i16]) {
    match mode {
        Mode::Wrap => dpwssd_wrap_slice(acc, a, b),
        Mode::Saturate => dpwssd_sat_slice(acc, a, b),
    }
}

/// VPDPWSSD over lanes; a loop without branches the compiler turns into PMADDWD + PADDD.
///
/// # Panics
/// When `a.len()` or `b.len()` differs from `2 * acc.len()`.
pub fn dpwssd_wrap_slice(acc: &mut [i32], a: &[i16], b: &[i16]) {
    check_lanes(acc.len(), a.len(), b.len());
    for ((s, x), y) in acc.iter_mut().zip(a.chunks_exact(2)).zip(b.chunks_exact(2)) {
        *s = vpdpwssd(*s, [x[0], x[1]], [y[0], y[1]]);
    }
}

/// VPDPWSSDS over lanes, computed in 32-bit lanes so the compiler can vectorize it.
///
/// The product pair `p = a0*b0 + a1*b1` lies in [-2^31 + 65536, 2^31]; in 32 bits it wraps
/// only when it is exactly 2^31 (both products (-32768)^2), which shows as `i32::MIN`. Every
/// other `p` fits, and `acc + p` clamped equals a saturating 32-bit add.
///
/// # Panics
/// When `a.len()` or `b.len()` differs from `2 * acc.len()`.
pub fn dpwssd_sat_slice(acc: &mut [i32], a: &[i16], b: &[i16]) {
    check_lanes(acc.len(), a.len(), b.len());
    for ((s, x), y) in acc.iter_mut().zip(a.chunks_exact(2)).zip(b.chunks_exact(2)) {
        let p = (x[0] as i32 * y[0] as i32).wrapping_add(x[1] as i32 * y[1] as i32);
        let normal = s.saturating_add(p);
        // p = 2^31: acc + 2^31 fits exactly when acc < 0, else it clamps to i32::MAX.
        let huge = if *s < 0 {
            s.wrapping_add(i32::MIN)
        } else {
            i32::MAX
        };
        *s = if p == i32::MIN { huge } else { normal };
    }
}

/// The inputs of the streaming MAC during one clock cycle (one value per RTL port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MacInputs {
    /// Synchronous reset, active high; highest priority.
    pub reset: bool,
    /// Synchronous clear, active high; beats `en`, the operands of that cycle are ignored.
    pub clear: bool,
    /// Accumulate enable, active high; when low (and no reset/clear) the register holds.
    pub en: bool,
    /// Operands `a0`, `a1`.
    pub a: [i16; 2],
    /// Operands `b0`, `b1`.
    pub b: [i16; 2],
}

/// The streaming MAC: one INT32 accumulator register updated by one VPDPWSSD(S) per clock.
///
/// The output `acc` is the register itself; what happens at each rising edge is given by
/// [`StreamingMac::clock`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamingMac {
    mode: Mode,
    acc: i32,
}

impl StreamingMac {
    /// A MAC in the given mode, accumulator at its reset value 0.
    pub fn new(mode: Mode) -> Self {
        StreamingMac { mode, acc: 0 }
    }

    /// The mode (an elaboration-time parameter of the RTL).
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The accumulator register (the `acc` output port).
    pub fn acc(&self) -> i32 {
        self.acc
    }

    /// One rising clock edge. Priority: `reset`, then `clear` (both load 0), then `en`
    /// (load `op(acc, a, b)`); otherwise the register holds. Returns the new `acc`.
    pub fn clock(&mut self, inp: &MacInputs) -> i32 {
        if inp.reset || inp.clear {
            self.acc = 0;
        } else if inp.en {
            self.acc = self.mode.apply(self.acc, inp.a, inp.b);
        }
        self.acc
    }

    /// One cycle with `clear` high: the accumulator becomes 0.
    pub fn clear(&mut self) {
        self.clock(&MacInputs {
            clear: true,
            ..MacInputs::default()
        });
    }

    /// One cycle with `en` high: `acc = op(acc, a, b)`; returns the new `acc`.
    pub fn step(&mut self, a: [i16; 2], b: [i16; 2]) -> i32 {
        self.clock(&MacInputs {
            en: true,
            a,
            b,
            ..MacInputs::default()
        })
    }
}

/// Dynamic Fixed Point with 16-bit mantissas (DFP-16): a tensor of INT16 values sharing one
/// scale factor, and the chunked INT32-accumulating dot product built on VPDPWSSD(S).
pub mod dfp {
    use super::{outside_int32, Mode};
    use crate::error::{Error, Result};

    /// Default headroom in bits (the value used by libxsmm's DFP training code).
    pub const DEFAULT_HEADROOM: u32 = 2;
    /// Largest accepted headroom.
    pub const MAX_HEADROOM: u32 = 4;

    /// A DFP-16 tensor: element `i` stands for `q[i] * 2^-scf`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct DfpTensor {
        /// The INT16 mantissas.
        pub q: Vec<i16>,
        /// The shared scale factor: values are `q * 2^-scf`.
        pub scf: i32,
    }

    /// Splits a finite `x` into `m * 2^e` with `0.5 <= |m| < 1` (subnormals included);
    /// `frexp(0) = (0, 0)`.
    pub fn frexp(x: f32) -> (f32, i32) {
        if x == 0.0 || !x.is_finite() {
            return (x, 0);
        }
        let bits = x.to_bits();
        let exp_field = ((bits >> 23) & 0xFF) as i32;
        if exp_field == 0 {
            // Subnormal: scale into the normal range first (exact).
            let (m, e) = frexp(x * f32::from_bits(0x4B80_0000)); // 2^24
            return (m, e - 24);
        }
        let e = exp_field - 126;
        let m = f32::from_bits((bits & 0x807F_FFFF) | (126 << 23));
        (m, e)
    }

    /// `x * 2^n` rounded once to f32 (like C `ldexpf`): overflow gives a signed infinity,
    /// underflow a signed zero or subnormal.
    pub fn ldexp_f32(x: f32, n: i32) -> f32 {
        // Any finite nonzero f32 lies in [2^-149, 2^128), so beyond |n| = 400 the f32 result
        // is already infinite or zero; the clamp keeps 2^n exact in f64.
        (x as f64 * pow2(n.clamp(-400, 400))) as f32
    }

    /// `2^n` as an f64, exact for -1022 <= n <= 1023.
    fn pow2(n: i32) -> f64 {
        f64::from_bits(((1023 + n as i64) as u64) << 52)
    }

    /// The scale factor DFP-16 picks for a tensor whose largest magnitude is `max_abs`:
    /// `15 - headroom - e` with `max_abs = m * 2^e` (frexp); `e = 0` when `max_abs` is 0.
    pub fn scale_factor(max_abs: f32, headroom: u32) -> i32 {
        let (_, e) = frexp(max_abs);
        15 - headroom as i32 - e
    }

    /// Quantizes `x` to DFP-16 with `headroom` bits (0..=4): `scf` from [`scale_factor`] of
    /// `max|x|`, `q = round_nearest_even(x * 2^scf)` clamped to [-32768, 32767]. An all-zero
    /// or empty tensor gets `scf = 15 - headroom` and all-zero `q`. NaN or infinite values
    /// are an error.
    pub fn quantize(x: &[f32], headroom: u32) -> Result<DfpTensor> {
        if headroom > MAX_HEADROOM {
            return Err(Error::new(format!(
                "DFP-16 headroom {headroom} out of range; expected 0..={MAX_HEADROOM}"
            )));
        }
        let mut max_abs = 0.0f32;
        for (i, v) in x.iter().enumerate() {
            if !v.is_finite() {
                return Err(Error::new(format!(
                    "DFP-16 quantize: element {i} is {v}; only finite values can be quantized"
                )));
            }
            max_abs = max_abs.max(v.abs());
        }
        let scf = scale_factor(max_abs, headroom);
        let s = pow2(scf);
        let q = x
            .iter()
            .map(|&v| {
                // v * 2^scf is exact in f64: |scf| stays far inside the f64 exponent range.
                (v as f64 * s)
                    .round_ties_even()
                    .clamp(i16::MIN as f64, i16::MAX as f64) as i16
            })
            .collect();
        Ok(DfpTensor { q, scf })
    }

    /// The values `q * 2^-scf`, each rounded once to f32 (exact unless it lands in the f32
    /// subnormal range or beyond f32's range).
    pub fn dequantize(t: &DfpTensor) -> Vec<f32> {
        t.q.iter().map(|&q| ldexp_f32(q as f32, -t.scf)).collect()
    }

    /// The outcome of [`dot`].
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct DotResult {
        /// The FP32 sum of the scaled chunk results.
        pub value: f32,
        /// Number of chunks processed.
        pub chunks: usize,
        /// Chunks whose exact sum lies outside INT32 (their INT32 result is wrong in both modes).
        pub overflowed_chunks: usize,
        /// Chunks where the exact running sum left INT32 after at least one instruction
        /// (includes `overflowed_chunks`; in saturate mode such a chunk may be wrong even when
        /// its final exact sum fits).
        pub transient_overflow_chunks: usize,
    }

    /// The chunked DFP-16 dot product of `a` and `b` (same length).
    ///
    /// An odd length gets one zero element appended to both tensors. The elements are taken
    /// in pairs `(a[2k], a[2k+1]) x (b[2k], b[2k+1])`, one VPDPWSSD(S) in `mode` per pair; a
    /// chunk holds `chunk` consecutive elements (`chunk` even, >= 2; the last chunk may be
    /// shorter) and starts from an accumulator of 0. Each chunk's INT32 result is converted
    /// to f32 (round to nearest even), scaled by `2^-(a.scf + b.scf)` (one rounding), and
    /// added in chunk order to an f32 sum starting at +0.0.
    pub fn dot(a: &DfpTensor, b: &DfpTensor, chunk: usize, mode: Mode) -> Result<DotResult> {
        if a.q.len() != b.q.len() {
            return Err(Error::new(format!(
                "DFP-16 dot: tensors differ in length ({} and {})",
                a.q.len(),
                b.q.len()
            )));
        }
        if chunk < 2 || !chunk.is_multiple_of(2) {
            return Err(Error::new(format!(
                "DFP-16 dot: chunk length {chunk} must be an even number of elements, at least 2"
            )));
        }
        let shift = a.scf.saturating_add(b.scf).saturating_neg();
        let at = |q: &[i16], i: usize| q.get(i).copied().unwrap_or(0);
        let n = a.q.len();
        let mut res = DotResult {
            value: 0.0,
            chunks: 0,
            overflowed_chunks: 0,
            transient_overflow_chunks: 0,
        };
        let mut start = 0;
        while start < n {
            let end = (start + chunk).min(n + n % 2);
            let mut acc = 0i32;
            let mut exact = 0i64;
            let mut transient = false;
            for i in (start..end).step_by(2) {
                let pa = [at(&a.q, i), at(&a.q, i + 1)];
                let pb = [at(&b.q, i), at(&b.q, i + 1)];
                acc = mode.apply(acc, pa, pb);
                exact += pa[0] as i64 * pb[0] as i64 + pa[1] as i64 * pb[1] as i64;
                transient |= outside_int32(exact);
            }
            res.chunks += 1;
            res.overflowed_chunks += outside_int32(exact) as usize;
            res.transient_overflow_chunks += transient as usize;
            res.value += ldexp_f32(acc as f32, shift);
            start = end;
        }
        Ok(res)
    }
}

/// The CPU's own VNNI and AVX2 instructions over the same lane layout as [`dpwssd_slice`],
/// for timing the reference against them and checking it.
pub mod hw {
    use crate::error::{Error, Result};

    /// True when this CPU runs AVX512-VNNI (with AVX512F).
    pub fn vnni_available() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx512vnni")
                && std::arch::is_x86_feature_detected!("avx512f")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// True when this CPU runs AVX2.
    pub fn avx2_available() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx2")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    fn check(acc: usize, a: usize, b: usize) -> Result<()> {
        if a != 2 * acc || b != 2 * acc {
            return Err(Error::new(format!(
                "lane layout: a and b must hold 2 values per accumulator lane \
                 (acc has {acc} lanes, a has {a} values, b has {b})"
            )));
        }
        Ok(())
    }

    /// Checks the lane layout, and that the CPU has `feature` (`available`).
    fn ready(acc: &[i32], a: &[i16], b: &[i16], available: bool, feature: &str) -> Result<()> {
        check(acc.len(), a.len(), b.len())?;
        if !available {
            return Err(Error::new(format!("{feature} not available on this CPU")));
        }
        Ok(())
    }

    /// `_mm512_dpwssd_epi32` (VPDPWSSD) on every lane; an error when the CPU lacks AVX512-VNNI
    /// or the lane layout is wrong.
    pub fn dpwssd_vnni(acc: &mut [i32], a: &[i16], b: &[i16]) -> Result<()> {
        vnni_checked(false, acc, a, b)
    }

    /// `_mm512_dpwssds_epi32` (VPDPWSSDS) on every lane; an error when the CPU lacks
    /// AVX512-VNNI or the lane layout is wrong.
    pub fn dpwssds_vnni(acc: &mut [i32], a: &[i16], b: &[i16]) -> Result<()> {
        vnni_checked(true, acc, a, b)
    }

    /// VPDPWSSDS (`sat`) or VPDPWSSD on every lane, after [`ready`].
    fn vnni_checked(sat: bool, acc: &mut [i32], a: &[i16], b: &[i16]) -> Result<()> {
        ready(acc, a, b, vnni_available(), "avx512vnni")?;
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX512F and AVX512-VNNI were detected above; lengths were checked.
        unsafe {
            x86::vnni(sat, acc, a, b)
        };
        Ok(())
    }

    /// `_mm256_madd_epi16` (VPMADDWD) then `_mm256_add_epi32` on every lane, which equals
    /// VPDPWSSD; an error when the CPU lacks AVX2 or the lane layout is wrong.
    pub fn dpwssd_avx2(acc: &mut [i32], a: &[i16], b: &[i16]) -> Result<()> {
        ready(acc, a, b, avx2_available(), "avx2")?;
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 was detected above; lengths were checked.
        unsafe {
            x86::avx2(acc, a, b)
        };
        Ok(())
    }

    #[cfg(target_arch = "x86_64")]
    mod x86 {
        use std::arch::x86_64::*;

        /// Lanes per 512-bit register.
        const L512: usize = 16;
        /// Lanes per 256-bit register.
        const L256: usize = 8;

        /// Runs `$call` on the accumulator lanes `s` and the operands `x`, `y` of each block of
        /// `$l` lanes of `$acc`, `$a`, `$b`; the tail runs on zero-padded copies. Expanded in
        /// place, so that the block stays inlined in its `target_feature` function.
        macro_rules! by_blocks {
            ($l:expr, $acc:ident, $a:ident, $b:ident, |$s:ident, $x:ident, $y:ident| $call:expr) => {{
                let full = $acc.len() / $l * $l;
                for i in (0..full).step_by($l) {
                    let ($s, $x, $y) = (
                        $acc.as_mut_ptr().add(i),
                        $a.as_ptr().add(2 * i),
                        $b.as_ptr().add(2 * i),
                    );
                    $call;
                }
                let rest = $acc.len() - full;
                if rest > 0 {
                    let mut s = [0i32; $l];
                    let mut x = [0i16; 2 * $l];
                    let mut y = [0i16; 2 * $l];
                    s[..rest].copy_from_slice(&$acc[full..]);
                    x[..2 * rest].copy_from_slice(&$a[2 * full..]);
                    y[..2 * rest].copy_from_slice(&$b[2 * full..]);
                    let ($s, $x, $y) = (s.as_mut_ptr(), x.as_ptr(), y.as_ptr());
                    $call;
                    $acc[full..].copy_from_slice(&s[..rest]);
                }
            }};
        }

        /// VPDPWSSD(S) over all lanes; the tail runs through the instruction on padded copies.
        ///
        /// Safety: AVX512F + AVX512-VNNI present, `a.len() == b.len() == 2 * acc.len()`.
        #[target_feature(enable = "avx512f,avx512vnni")]
        pub(super) unsafe fn vnni(sat: bool, acc: &mut [i32], a: &[i16], b: &[i16]) {
            #[target_feature(enable = "avx512f,avx512vnni")]
            unsafe fn block(sat: bool, s: *mut i32, x: *const i16, y: *const i16) {
                let vs = _mm512_loadu_si512(s as *const _);
                let vx = _mm512_loadu_si512(x as *const _);
                let vy = _mm512_loadu_si512(y as *const _);
                let r = if sat {
                    _mm512_dpwssds_epi32(vs, vx, vy)
                } else {
                    _mm512_dpwssd_epi32(vs, vx, vy)
                };
                _mm512_storeu_si512(s as *mut _, r);
            }
            by_blocks!(L512, acc, a, b, |s, x, y| block(sat, s, x, y));
        }

        /// VPMADDWD + VPADDD over all lanes; the tail runs through the instructions on padded
        /// copies.
        ///
        /// Safety: AVX2 present, `a.len() == b.len() == 2 * acc.len()`.
        #[target_feature(enable = "avx2")]
        pub(super) unsafe fn avx2(acc: &mut [i32], a: &[i16], b: &[i16]) {
            #[target_feature(enable = "avx2")]
            unsafe fn block(s: *mut i32, x: *const i16, y: *const i16) {
                let vs = _mm256_loadu_si256(s as *const __m256i);
                let vx = _mm256_loadu_si256(x as *const __m256i);
                let vy = _mm256_loadu_si256(y as *const __m256i);
                let r = _mm256_add_epi32(vs, _mm256_madd_epi16(vx, vy));
                _mm256_storeu_si256(s as *mut __m256i, r);
            }
            by_blocks!(L256, acc, a, b, |s, x, y| block(s, x, y));
        }
    }
}

/// The int16fma PE in the registry.
pub struct Int16FmaPe;

/// Operand names in `pelab eval` order, with their widths in bits.
const OPERANDS: [(&str, u32); 5] = [("ACC", 32), ("A0", 16), ("A1", 16), ("B0", 16), ("B1", 16)];

impl PeModel for Int16FmaPe {
    fn table_ops(&self, _format: &str, _accumulate: bool) -> Result<TableOps> {
        Ok((
            vec![("int_mult", 16), ("int_add", 32)],
            "a 16-bit multiply and a 32-bit add per MAC".into(),
        ))
    }

    fn id(&self) -> &'static str {
        "int16fma"
    }
    fn summary(&self) -> &'static str {
        "INT32 acc + two INT16 x INT16 products (VPDPWSSD / VPDPWSSDS), Dynamic Fixed Point MAC"
    }
    fn formats(&self) -> Vec<String> {
        vec!["int16".to_string()]
    }
    fn policies(&self) -> &'static [&'static str] {
        &["wrap", "saturate"]
    }
    fn operand_syntax(&self) -> &'static str {
        "ACC A0 A1 B0 B1 (hex two's complement: ACC 32-bit, A0 A1 B0 B1 16-bit)"
    }
    fn eval(&self, format: &str, policy: Option<&str>, operands: &[String]) -> Result<Evaluation> {
        if format != "int16" {
            crate::bail!("int16fma takes format int16 (got '{format}')");
        }
        let mode = Mode::from_policy(pick_policy(self, policy)?)?;
        if operands.len() != OPERANDS.len() {
            crate::bail!(
                "int16fma expects 5 operands: {}; got {}",
                self.operand_syntax(),
                operands.len()
            );
        }
        let mut v = [0u64; 5];
        for (slot, ((name, bits), tok)) in v.iter_mut().zip(OPERANDS.iter().zip(operands)) {
            *slot = parse_hex(name, tok, *bits)?;
        }
        let acc = v[0] as u32 as i32;
        let a = [v[1] as u16 as i16, v[2] as u16 as i16];
        let b = [v[3] as u16 as i16, v[4] as u16 as i16];
        let r = mode.apply(acc, a, b);
        let exact = dp_exact(acc, a, b);
        let details = vec![
            ("instruction".to_string(), mode.instruction().to_string()),
            ("acc".to_string(), acc.to_string()),
            ("a0*b0".to_string(), (a[0] as i32 * b[0] as i32).to_string()),
            ("a1*b1".to_string(), (a[1] as i32 * b[1] as i32).to_string()),
            ("exact_sum".to_string(), exact.to_string()),
            (
                "left_int32".to_string(),
                if outside_int32(exact) { "yes" } else { "no" }.to_string(),
            ),
        ];
        Ok(Evaluation {
            hex: hex(r as u32 as u64, 32),
            value: r.to_string(),
            details,
        })
    }
}

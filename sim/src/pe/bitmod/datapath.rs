//! The bit-accurate model of the BitMoD PE datapath (the RTL matches it bit for bit).
//!
//! Widths with the default [`PeConfig`] (`G` guard bits = 3, `W` accumulator bits = 16, `B`
//! scale bits = 8); `docs/bitmod.md` has the full definition and the error bound.
//!
//! Per cycle, lane `i` holds an FP16 activation `x_i` (sign `s_i`, exponent `e_i` = field or 1,
//! 11-bit significand `m_i`) and one weight term `t_i` (sign, 2-bit `exp_i`, present bit); the
//! cycle's significance `sig` is 0 for the first term of a weight and 1 for the second.
//! 1. lane exponent `le_i = e_i + exp_i` (6 bits) for present terms, 0 for absent ones;
//!    `E = max_i le_i`.
//! 2. aligned lane `a_i = floor(m_i · 2^G / 2^(E - le_i))` (`11 + G` bits, bits shifted out are
//!    dropped), 0 for absent terms; signed by `s_i XOR sign(t_i)`.
//! 3. partial sum `P = Σ ±a_i` (`14 + G` bits, exact) at exponent `Ep = E + sig`; its LSB weighs
//!    `2^(Ep - 25 - G)` code units.
//! 4. group accumulator `(Am: W-bit signed, Ae: 6-bit)`, value `Am · 2^(Ae - 25 - G)`:
//!    `X = max(Ae, Ep)`; the operand with the smaller exponent is shifted right to `X`, rounded
//!    half up (the last bit shifted out is the adder's carry-in); `S = A' + P' + r`; if `S` does
//!    not fit `W` signed bits it is shifted right (arithmetic, toward -inf) by the least `k`
//!    that makes it fit, and `Ae = X + k`.
//! 5. after the group, the dequantizer computes `D = Am · int_scale` bit-serially, MSB first
//!    (`D = 2D + (Am if bit)`, `W + B` bits, exact) at exponent `Ae`.

use super::datatype::Datatype;
use super::quant::QuantChannel;
use super::reference::{exact_group_units, fp16_units, Fp16Parts};
use super::terms::{decompose, Term};
use crate::bail;
use crate::error::{Error, Result};

/// Lanes of the PE (weights processed side by side).
pub const LANES: usize = 4;
/// Most weights in one group (the quantizer's default group size).
pub const MAX_GROUP: usize = 128;
/// Width of the lane, partial-sum and accumulator exponents.
pub const EXP_BITS: u32 = 6;
/// Width of an FP16 significand with its hidden bit.
pub const SIG_BITS: u32 = 11;
/// The LSB of an aligned lane at exponent `E` weighs `2^(E - LSB_BIAS - guard_bits)`.
pub const LSB_BIAS: i32 = 25;

/// The widths of the PE. The RTL implements [`PeConfig::default`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeConfig {
    /// Guard bits kept below the 11-bit significand when aligning lanes (0..=8; default 3).
    pub guard_bits: u32,
    /// Width of the signed group-accumulator mantissa (12..=32; default 16).
    pub acc_bits: u32,
    /// Width of the unsigned integer group scale = dequantizer cycles (1..=16; default 8).
    pub scale_bits: u32,
}

impl Default for PeConfig {
    fn default() -> Self {
        PeConfig {
            guard_bits: 3,
            acc_bits: 16,
            scale_bits: 8,
        }
    }
}

/// One computed group, as the PE outputs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupOutput {
    /// The dequantizer result `D = acc_mantissa · int_scale` (`acc_bits + scale_bits` bits).
    pub mantissa: i64,
    /// The accumulator exponent `Ae` (6 bits); `D` weighs `2^(Ae - 25 - guard_bits)`.
    pub exponent: u32,
    /// The final group-accumulator mantissa `Am` before dequantization.
    pub acc_mantissa: i64,
    /// The integer scale the group was dequantized with.
    pub int_scale: u32,
    /// True when an activation of the group was Inf or NaN (the result is then meaningless).
    pub special: bool,
    /// Compute cycles: 2 per beat of 4 weights.
    pub compute_cycles: u32,
    /// Dequantizer cycles (`scale_bits`).
    pub dequant_cycles: u32,
    /// The widths used.
    pub config: PeConfig,
}

/// The state of one compute cycle, for comparing with RTL waveforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CycleTrace {
    /// Cycle index within the group (0-based).
    pub cycle: u32,
    /// Beat (group of 4 weights) processed.
    pub beat: u32,
    /// Term significance of the cycle (0 or 1).
    pub significance: u32,
    /// Term code `{present, sign, exp[1:0]}` of each lane.
    pub terms: [u8; LANES],
    /// Lane exponents `le_i` (0 for absent terms).
    pub lane_exp: [u32; LANES],
    /// `E`, the largest lane exponent.
    pub max_exp: u32,
    /// Signed aligned lane values.
    pub aligned: [i64; LANES],
    /// The partial sum `P`.
    pub partial_sum: i64,
    /// Its exponent `Ep = E + significance`.
    pub partial_exp: u32,
    /// Accumulator mantissa after the cycle.
    pub acc_mantissa: i64,
    /// Accumulator exponent after the cycle.
    pub acc_exp: u32,
}

/// A dot product of one quantized channel with FP16 activations through the PE.
#[derive(Debug, Clone, PartialEq)]
pub struct DotOutput {
    /// `f32(channel_scale · f32-sum of the group results)`.
    pub value: f32,
    /// Every group's PE output.
    pub groups: Vec<GroupOutput>,
    /// Total cycles until the last group's result is valid (see [`PeConfig::dot_cycles`]).
    pub cycles: u64,
    /// True when any activation was Inf or NaN.
    pub special: bool,
}

/// Arithmetic shift right by any amount (amounts of 63 and more give the sign).
fn asr(v: i64, s: u32) -> i64 {
    v >> s.min(63)
}

/// Bit `k` of the two's-complement `v` (sign-extended beyond 63).
fn bit(v: i64, k: u32) -> i64 {
    asr(v, k) & 1
}

/// Compute cycles for a group of `n` weights: 2 per beat of [`LANES`] weights.
pub fn compute_cycles(n: usize) -> u32 {
    2 * n.div_ceil(LANES) as u32
}

impl GroupOutput {
    /// Weight of the mantissa LSB in code units: `2^(exponent - 25 - guard_bits)`.
    pub fn lsb(&self) -> f64 {
        2f64.powi(self.exponent as i32 - LSB_BIAS - self.config.guard_bits as i32)
    }

    /// The result in code units: `mantissa · lsb` (exact).
    pub fn value(&self) -> f64 {
        self.mantissa as f64 * self.lsb()
    }

    /// The result as FP32 (exact for the default widths, otherwise round to nearest even).
    pub fn to_f32(&self) -> f32 {
        self.value() as f32
    }

    /// Cycles from the first compute cycle to the cycle in which the result is valid.
    pub fn latency(&self) -> u32 {
        self.compute_cycles + self.dequant_cycles
    }

    /// The output word `{exponent[5:0], mantissa[W+B-1:0]}` (mantissa in two's complement).
    pub fn packed(&self) -> u64 {
        let w = self.config.acc_bits + self.config.scale_bits;
        (self.exponent as u64) << w | (self.mantissa as u64 & ((1u64 << w) - 1))
    }

    /// Bound on `|value - int_scale · exact group sum|` from the output exponent:
    /// `int_scale · (3C + 2) · lsb` with `C` the compute cycles.
    pub fn error_bound(&self) -> f64 {
        self.int_scale as f64 * (3.0 * self.compute_cycles as f64 + 2.0) * self.lsb()
    }
}

impl PeConfig {
    /// Checks the widths are in the supported ranges.
    pub fn validate(&self) -> Result<()> {
        if self.guard_bits > 8 {
            bail!("guard_bits = {}; expected 0..=8", self.guard_bits);
        }
        if !(12..=32).contains(&self.acc_bits) {
            bail!("acc_bits = {}; expected 12..=32", self.acc_bits);
        }
        if !(1..=16).contains(&self.scale_bits) {
            bail!("scale_bits = {}; expected 1..=16", self.scale_bits);
        }
        Ok(())
    }

    /// Width of an aligned lane significand: `11 + guard_bits`.
    pub fn aligned_bits(&self) -> u32 {
        SIG_BITS + self.guard_bits
    }

    /// Width of the signed 4-lane partial sum: `14 + guard_bits`.
    pub fn partial_bits(&self) -> u32 {
        SIG_BITS + self.guard_bits + 3
    }

    /// Width of the signed dequantizer register: `acc_bits + scale_bits`.
    pub fn dequant_bits(&self) -> u32 {
        self.acc_bits + self.scale_bits
    }

    /// Width of the output word `{exponent, mantissa}`.
    pub fn output_bits(&self) -> u32 {
        EXP_BITS + self.dequant_bits()
    }

    /// Runs one group of 1..=128 weights through the PE. Weight `i` goes to lane `i % 4` of
    /// beat `i / 4`; a last partial beat is padded with code 0 and activation `+0`.
    pub fn run_group(
        &self,
        dtype: &Datatype,
        codes: &[u8],
        acts: &[u16],
        int_scale: u32,
    ) -> Result<GroupOutput> {
        self.run(dtype, codes, acts, int_scale, None)
    }

    /// [`Self::run_group`], also returning the state of every compute cycle.
    pub fn run_group_traced(
        &self,
        dtype: &Datatype,
        codes: &[u8],
        acts: &[u16],
        int_scale: u32,
    ) -> Result<(GroupOutput, Vec<CycleTrace>)> {
        let mut trace = Vec::new();
        let out = self.run(dtype, codes, acts, int_scale, Some(&mut trace))?;
        Ok((out, trace))
    }

    fn check_group(
        &self,
        dtype: &Datatype,
        codes: &[u8],
        acts: &[u16],
        int_scale: u32,
    ) -> Result<Vec<[Term; 2]>> {
        self.validate()?;
        if codes.is_empty() || codes.len() > MAX_GROUP {
            bail!(
                "a group has {} weights; expected 1..={MAX_GROUP}",
                codes.len()
            );
        }
        if codes.len() != acts.len() {
            bail!(
                "{} weight codes but {} activations; expected one activation per weight",
                codes.len(),
                acts.len()
            );
        }
        if !dtype.pe_decomposable() {
            bail!(
                "the PE cannot evaluate {}: some of its values need more than two terms",
                dtype.name
            );
        }
        if int_scale >> self.scale_bits != 0 {
            bail!(
                "integer scale {int_scale} is wider than {} bits",
                self.scale_bits
            );
        }
        codes
            .iter()
            .enumerate()
            .map(|(i, &c)| match dtype.value(c as u32) {
                Some(v) => Ok(decompose(v).expect("checked decomposable")),
                None => Err(Error::new(format!(
                    "weight code W{i} = {c:X} is wider than {} bits ({})",
                    dtype.bits, dtype.name
                ))),
            })
            .collect()
    }

    fn run(
        &self,
        dtype: &Datatype,
        codes: &[u8],
        acts: &[u16],
        int_scale: u32,
        mut trace: Option<&mut Vec<CycleTrace>>,
    ) -> Result<GroupOutput> {
        let terms = self.check_group(dtype, codes, acts, int_scale)?;
        let g = self.guard_bits;
        let w = self.acc_bits;
        let (lo, hi) = (-(1i64 << (w - 1)), (1i64 << (w - 1)) - 1);
        let n = codes.len();
        let beats = n.div_ceil(LANES);
        let special = acts.iter().any(|&x| Fp16Parts::from_bits(x).special);
        let (mut am, mut ae) = (0i64, 0u32);
        let mut cycle = 0u32;
        for beat in 0..beats {
            for sig in 0..2u32 {
                let mut lane_exp = [0u32; LANES];
                let mut parts = [Fp16Parts::from_bits(0); LANES];
                let mut lane_terms = [Term::default(); LANES];
                for l in 0..LANES {
                    let i = beat * LANES + l;
                    if i < n {
                        parts[l] = Fp16Parts::from_bits(acts[i]);
                        lane_terms[l] = terms[i][sig as usize];
                    }
                    if lane_terms[l].present {
                        lane_exp[l] = parts[l].exp + lane_terms[l].exp as u32;
                    }
                }
                let e = lane_exp.iter().copied().max().unwrap_or(0);
                let mut aligned = [0i64; LANES];
                for l in 0..LANES {
                    if lane_terms[l].present {
                        let a = ((parts[l].significand as i64) << g) >> (e - lane_exp[l]);
                        aligned[l] = if parts[l].sign != lane_terms[l].sign {
                            -a
                        } else {
                            a
                        };
                    }
                }
                let p: i64 = aligned.iter().sum();
                let ep = e + sig;
                // Group accumulator.
                let x = ae.max(ep);
                let (sa, sp) = (x - ae, x - ep);
                let r = if sa > 0 {
                    bit(am, sa - 1)
                } else if sp > 0 {
                    bit(p, sp - 1)
                } else {
                    0
                };
                let s = asr(am, sa) + asr(p, sp) + r;
                let mut k = 0;
                while !(lo..=hi).contains(&asr(s, k)) {
                    k += 1;
                }
                am = asr(s, k);
                ae = x + k;
                if ae >> EXP_BITS != 0 {
                    bail!("accumulator exponent {ae} overflowed {EXP_BITS} bits");
                }
                if let Some(t) = trace.as_deref_mut() {
                    t.push(CycleTrace {
                        cycle,
                        beat: beat as u32,
                        significance: sig,
                        terms: lane_terms.map(|t| t.bits()),
                        lane_exp,
                        max_exp: e,
                        aligned,
                        partial_sum: p,
                        partial_exp: ep,
                        acc_mantissa: am,
                        acc_exp: ae,
                    });
                }
                cycle += 1;
            }
        }
        // Bit-serial dequantizer, MSB first.
        let mut d = 0i64;
        for j in (0..self.scale_bits).rev() {
            d = 2 * d + if (int_scale >> j) & 1 == 1 { am } else { 0 };
        }
        Ok(GroupOutput {
            mantissa: d,
            exponent: ae,
            acc_mantissa: am,
            int_scale,
            special,
            compute_cycles: cycle,
            dequant_cycles: self.scale_bits,
            config: *self,
        })
    }

    /// Bound on `|PE value - int_scale · exact group sum|` from the inputs alone:
    /// `int_scale · (3C + 2) · max(2^(Emax - 25 - G), T / (2^(W-2) - 3C - 2))`, where `C` is the
    /// compute cycles, `T = Σ |value_i · x_i|` and `Emax` the largest `e_i + k_i` over nonzero
    /// weights (`k_i` the highest set bit of `|value_i|`; 1 when every weight is zero).
    pub fn input_error_bound(
        &self,
        dtype: &Datatype,
        codes: &[u8],
        acts: &[u16],
        int_scale: u32,
    ) -> Result<f64> {
        self.check_group(dtype, codes, acts, int_scale)?;
        let mut emax = 1u32;
        let mut t_units = 0i64;
        for (i, (&c, &x)) in codes.iter().zip(acts).enumerate() {
            let Some(u) = fp16_units(x) else {
                bail!("activation X{i} = {x:04X} is Inf or NaN; no error bound applies");
            };
            let v = dtype.values[c as usize];
            t_units += v.unsigned_abs() as i64 * u.abs();
            if v != 0 {
                let e = Fp16Parts::from_bits(x).exp;
                emax = emax.max(e + 31 - v.unsigned_abs().leading_zeros());
            }
        }
        let t = t_units as f64 * 2f64.powi(-24);
        let c = compute_cycles(codes.len()) as f64;
        let k = 3.0 * c + 2.0;
        let denom = 2f64.powi(self.acc_bits as i32 - 2) - k;
        let u_exp = 2f64.powi(emax as i32 - LSB_BIAS - self.guard_bits as i32);
        Ok(int_scale as f64 * k * u_exp.max(t / denom))
    }

    /// Total cycles of a dot product whose groups hold `group_lens` weights: the first group's
    /// compute cycles, then `max(C_g, scale_bits)` per further group (the dequantizer of one
    /// group overlaps the next group's compute; a group shorter than the dequantizer waits),
    /// then the last `scale_bits` dequantizer cycles. For `n` groups of 128: `64·n + 8`.
    pub fn dot_cycles(&self, group_lens: &[usize]) -> u64 {
        let b = self.scale_bits as u64;
        let mut total = 0u64;
        for (g, &n) in group_lens.iter().enumerate() {
            let c = compute_cycles(n) as u64;
            total += if g == 0 { c } else { c.max(b) };
        }
        if group_lens.is_empty() {
            0
        } else {
            total + b
        }
    }

    /// Runs every group of `channel` through the PE and combines them as the FP32 logic
    /// outside the PE does: each group result converted to FP32, summed in group order with
    /// FP32 additions (round to nearest even, starting from +0), then multiplied by the channel
    /// scale (FP32, round to nearest even).
    pub fn run_dot(&self, channel: &QuantChannel, acts: &[u16]) -> Result<DotOutput> {
        if acts.len() != channel.len() {
            bail!(
                "{} activations for a channel of {} weights",
                acts.len(),
                channel.len()
            );
        }
        let mut groups = Vec::with_capacity(channel.groups.len());
        let mut at = 0;
        let mut sum = 0f32;
        for (g, (grp, &s)) in channel.groups.iter().zip(&channel.int_scales).enumerate() {
            let n = grp.codes.len();
            let out = self
                .run_group(grp.datatype, &grp.codes, &acts[at..at + n], s)
                .map_err(|e| Error::new(format!("group {g}: {e}")))?;
            sum += out.to_f32();
            groups.push(out);
            at += n;
        }
        let lens: Vec<usize> = channel.groups.iter().map(|g| g.codes.len()).collect();
        Ok(DotOutput {
            value: sum * channel.channel_scale,
            special: groups.iter().any(|g| g.special),
            cycles: self.dot_cycles(&lens),
            groups,
        })
    }

    /// Bound on `|run_dot value - exact_dot|` from the inputs:
    /// `cs · (Σ_g B_g + (γ_n + 2^-23) · Σ_g (int_g·|S_g| + B_g)) + 2^-149`, with `B_g` the
    /// [`Self::input_error_bound`] of group `g`, `S_g` its exact sum, `n` the number of groups
    /// and `γ_n = n·2^-24 / (1 - n·2^-24)` (FP32 conversion and summation), `2^-23` covering the
    /// final multiplication and `2^-149` FP32 underflow.
    pub fn dot_error_bound(&self, channel: &QuantChannel, acts: &[u16]) -> Result<f64> {
        if acts.len() != channel.len() {
            bail!(
                "{} activations for a channel of {} weights",
                acts.len(),
                channel.len()
            );
        }
        let (mut sum_b, mut sum_a) = (0f64, 0f64);
        let mut at = 0;
        for (grp, &s) in channel.groups.iter().zip(&channel.int_scales) {
            let n = grp.codes.len();
            let x = &acts[at..at + n];
            let b = self.input_error_bound(grp.datatype, &grp.codes, x, s)?;
            let exact = exact_group_units(grp.datatype, &grp.codes, x)? as f64 * 2f64.powi(-24);
            sum_b += b;
            sum_a += s as f64 * exact.abs() + b;
            at += n;
        }
        let n = channel.groups.len() as f64;
        let u = 2f64.powi(-24);
        let gamma = n * u / (1.0 - n * u);
        Ok(channel.channel_scale as f64 * (sum_b + (gamma + 2.0 * u) * sum_a) + 2f64.powi(-149))
    }
}

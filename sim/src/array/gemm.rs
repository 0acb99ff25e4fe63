//! The reference GEMM of an array cell: `C = A·B` with the order of accumulation every array
//! must reproduce bit for bit.
//!
//! `C[i][j]` is the fold over the steps `t = 0..K'` (`K' = ceil(K/d)`) of
//! `acc <- step(acc, A[i][t*d .. t*d+d], B[t*d .. t*d+d][j])`, starting from the code 0 (+0 for
//! the float cells). Lanes beyond `K` carry the code 0 (only the integer cell has `d > 1`,
//! where that is exact). The fold is sequential in `k`, never a tree.

use super::cell::Cell;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::samples::special_codes;
use rand::Rng;

/// The most lanes a cell has (`bitmod`: 4).
pub const MAX_LANES: usize = 4;

/// `K' = ceil(K/d)`: the steps of one dot product of length `k` with `d` lanes per step.
pub fn k_steps(k: usize, d: usize) -> usize {
    k.div_ceil(d)
}

/// Checks the operands of an `m x k` by `k x n` product for `cell`: nonzero dimensions, `a`
/// of `m*k` codes (row-major), `b` of `k*n` codes (row-major), every code within the lane
/// width. The error names the matrix, the index and the width.
pub fn check_operands(
    cell: &Cell,
    m: usize,
    k: usize,
    n: usize,
    a: &[u64],
    b: &[u64],
) -> Result<()> {
    if m == 0 || k == 0 || n == 0 {
        return Err(Error::new(format!(
            "GEMM dimensions must be at least 1; got M={m} K={k} N={n}"
        )));
    }
    if cell.lanes > MAX_LANES {
        return Err(Error::new(format!(
            "cell {} has {} lanes; at most {MAX_LANES} are supported",
            cell.name(),
            cell.lanes
        )));
    }
    for (name, codes, rows, cols, width) in
        [("A", a, m, k, cell.a_width), ("B", b, k, n, cell.b_width)]
    {
        let want = rows
            .checked_mul(cols)
            .ok_or_else(|| Error::new(format!("{name} of {rows} x {cols} codes is too large")))?;
        if codes.len() != want {
            return Err(Error::new(format!(
                "{name} must hold {rows} x {cols} = {want} codes (row-major), got {}",
                codes.len()
            )));
        }
        if let Some(p) = codes.iter().position(|&c| c >> width != 0) {
            return Err(Error::new(format!(
                "{name}[{}][{}] = {:X} is wider than the {}-bit operand of cell {}",
                p / cols,
                p % cols,
                codes[p],
                width,
                cell.name()
            )));
        }
    }
    if cell.is_sequential() {
        super::bitmod::check_operands(m, k, n, a, b)?;
    }
    Ok(())
}

/// The lanes of step `t` of row `i` of the row-major `rows x k` matrix `x`, code 0 beyond
/// `k` (and for a row beyond `rows`), written to `out[0..d]`.
#[inline]
pub fn row_lanes(x: &[u64], rows: usize, k: usize, i: usize, t: usize, out: &mut [u64]) {
    let d = out.len();
    for (l, o) in out.iter_mut().enumerate() {
        let kk = t * d + l;
        *o = if i < rows && kk < k { x[i * k + kk] } else { 0 };
    }
}

/// The lanes of step `t` of column `j` of the row-major `k x cols` matrix `x`, code 0 beyond
/// `k` (and for a column beyond `cols`), written to `out[0..d]`.
#[inline]
pub fn col_lanes(x: &[u64], k: usize, cols: usize, j: usize, t: usize, out: &mut [u64]) {
    let d = out.len();
    for (l, o) in out.iter_mut().enumerate() {
        let kk = t * d + l;
        *o = if j < cols && kk < k {
            x[kk * cols + j]
        } else {
            0
        };
    }
}

/// The reference product: `C` (`m x n`, row-major, 32-bit codes) of `a` (`m x k`, row-major)
/// and `b` (`k x n`, row-major), each element folded in `k` order from 0 (module docs).
///
/// # Panics
/// When the operands fail [`check_operands`] (with its message).
pub fn gemm(cell: &Cell, m: usize, k: usize, n: usize, a: &[u64], b: &[u64]) -> Vec<u32> {
    if let Err(e) = check_operands(cell, m, k, n, a, b) {
        panic!("gemm: {e}");
    }
    if cell.is_sequential() {
        return super::bitmod::gemm(m, k, n, a, b);
    }
    let d = cell.lanes;
    let ks = k_steps(k, d);
    let mut c = vec![0u32; m * n];
    let (mut la, mut lb) = ([0u64; MAX_LANES], [0u64; MAX_LANES]);
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0u32;
            for t in 0..ks {
                row_lanes(a, m, k, i, t, &mut la[..d]);
                col_lanes(b, k, n, j, t, &mut lb[..d]);
                acc = cell.step(acc, &la[..d], &lb[..d]);
            }
            c[i * n + j] = acc;
        }
    }
    c
}

/// Random operands `(A, B)` of an `m x k` by `k x n` product for `cell`: [`random_operands`]
/// for each matrix, or for `bitmod` weights with a random type and scale per group
/// ([`super::bitmod::random_operands`]).
pub fn random_gemm<R: Rng>(
    cell: &Cell,
    r: &mut R,
    m: usize,
    k: usize,
    n: usize,
    special_one_in: u32,
) -> (Vec<u64>, Vec<u64>) {
    if cell.is_sequential() {
        return super::bitmod::random_operands(r, m, k, n, special_one_in);
    }
    let a = random_operands(cell, r, m * k, special_one_in);
    let b = random_operands(cell, r, k * n, special_one_in);
    (a, b)
}

/// One random operand code for `cell` (not `bitmod`, whose weights need [`random_gemm`]): for floats mostly normal values near 1 (so sums stay
/// finite and cancel now and then), one in `special_one_in` a special or boundary code (zeros,
/// subnormals, max, Inf, NaN); for int16 half full-range values (sums saturate), half small.
pub fn random_operand<R: Rng>(cell: &Cell, r: &mut R, special_one_in: u32) -> u64 {
    match (cell.pe != "int16fma").then(|| Format::parse(&cell.format)) {
        None => {
            if r.gen_bool(0.5) {
                r.gen::<u16>() as u64
            } else {
                (r.gen_range(-300i16..=300) as u16) as u64
            }
        }
        Some(f) => {
            let f = f.expect("a cell's format parses");
            if r.gen_ratio(1, special_one_in) {
                let sp = special_codes(&f);
                return sp[r.gen_range(0..sp.len())];
            }
            let top = (1i64 << f.e) - 2;
            let ef = (f.bias as i64 + r.gen_range(-3..=3)).clamp(1, top.max(1)) as u64;
            let man = r.gen::<u64>() & f.man_mask();
            let s = if r.gen() { f.sign_bit() } else { 0 };
            s | (ef << f.m) | man
        }
    }
}

/// `len` random operands for `cell`.
pub fn random_operands<R: Rng>(
    cell: &Cell,
    r: &mut R,
    len: usize,
    special_one_in: u32,
) -> Vec<u64> {
    (0..len)
        .map(|_| random_operand(cell, r, special_one_in))
        .collect()
}

//! Golden-vector files: layout, generation from the reference models, writing and parsing.
//!
//! Text format (in the spirit of Berkeley TestFloat): `#` header lines of `key=value`, then one
//! row per line, uppercase hex fields separated by single spaces, inputs first, then expected
//! outputs (then, for PEs whose outputs are not always defined, a `CARE` mask). A packed
//! companion (`.mem`) holds each row as one hex word (fields concatenated, first field in the
//! most significant bits), ready for `$readmemh`.

use crate::codec::PeVectors;
pub use crate::layout::{Field, Layout, Timing};
use pelab_hdl::RtlConfig;
use pelab_sim::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// Which cases a vector set holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CaseSet {
    /// Every case of the PE's input space.
    Exhaustive,
    /// The corner set, then seeded random cases, `n` cases in all.
    Count(u64),
}

/// One part of a split set: `k` of `n` (1-based), contiguous and jointly complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shard {
    /// Part number, 1..=n.
    pub k: u64,
    /// Number of parts.
    pub n: u64,
}

impl Shard {
    /// The whole set.
    pub const ALL: Shard = Shard { k: 1, n: 1 };

    /// Parses `k/N`.
    pub fn parse(s: &str) -> Result<Shard> {
        let bad = || {
            Error::new(format!(
                "--shard '{s}': expected k/N with 1 <= k <= N, e.g. 3/8"
            ))
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (u64, u64) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        if n == 0 || k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }

    /// The index range of this part of `total` cases.
    pub fn range(&self, total: u64) -> std::ops::Range<u64> {
        let lo = (total as u128 * (self.k - 1) as u128 / self.n as u128) as u64;
        let hi = (total as u128 * self.k as u128 / self.n as u128) as u64;
        lo..hi
    }
}

/// The vector-set policy of a whole-library verification run (`pelab verify --all`,
/// `pelab report`): every case where the input space is small, else a fixed count of cases
/// (whole transactions for the cycle-by-cycle PEs). Callers print [`DefaultSets::describe`]
/// instead of restating the numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DefaultSets {
    /// Exhaustive where the input space has at most this many cases.
    pub exhaustive_max: u64,
    /// Otherwise this many cases for PEs that stream one operation per row.
    pub stream_cases: u64,
    /// Otherwise this many transactions for the cycle-by-cycle PEs.
    pub cycle_cases: u64,
}

impl DefaultSets {
    /// The full run's sets.
    pub const FULL: DefaultSets = DefaultSets {
        exhaustive_max: 1 << 16,
        stream_cases: 20_000,
        cycle_cases: 1_000,
    };
    /// The quick report's sets.
    pub const QUICK: DefaultSets = DefaultSets {
        exhaustive_max: 1 << 16,
        stream_cases: 2_000,
        cycle_cases: 50,
    };

    /// The set for `cfg` of `pe` under this policy.
    pub fn choose(&self, pe: &dyn PeVectors, cfg: &RtlConfig) -> Result<CaseSet> {
        let cycles = matches!(pe.layout(cfg)?.timing, Timing::Cycles);
        Ok(match pe.exhaustive_size(cfg) {
            Some(n) if n <= self.exhaustive_max => CaseSet::Exhaustive,
            _ if cycles => CaseSet::Count(self.cycle_cases),
            _ => CaseSet::Count(self.stream_cases),
        })
    }

    /// The policy in words, e.g. "exhaustive where the input space has at most 2^16 cases,
    /// else 20000 cases (1000 transactions for the cycle-by-cycle PEs)".
    pub fn describe(&self) -> String {
        let max = if self.exhaustive_max.is_power_of_two() {
            format!("2^{}", self.exhaustive_max.trailing_zeros())
        } else {
            self.exhaustive_max.to_string()
        };
        format!(
            "exhaustive where the input space has at most {max} cases, else {} cases ({} \
             transactions for the cycle-by-cycle PEs)",
            self.stream_cases, self.cycle_cases
        )
    }
}

/// A set of golden vectors with its header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VectorSet {
    /// PE id.
    pub pe: String,
    /// The configuration.
    pub config: RtlConfig,
    /// Columns and timing.
    pub layout: Layout,
    /// Cases asked for.
    pub set: CaseSet,
    /// Random seed.
    pub seed: u64,
    /// Part of the set.
    pub shard: Shard,
    /// Number of cases (a case is one operation, or one transaction of several rows).
    pub cases: u64,
    /// Rows: every column of [`Layout::columns`].
    pub rows: Vec<Vec<u64>>,
}

/// Largest number of rows pelab writes into one vector file.
pub const MAX_FILE_ROWS: u64 = 1 << 26;

/// Generates the vectors of `cfg` from the reference model.
pub fn generate(
    pe: &dyn PeVectors,
    cfg: &RtlConfig,
    set: CaseSet,
    seed: u64,
    shard: Shard,
) -> Result<VectorSet> {
    let layout = pe.layout(cfg)?;
    let total = match set {
        CaseSet::Exhaustive => pe.exhaustive_size(cfg).ok_or_else(|| {
            Error::new(format!(
                "{} {} has no exhaustive vector set (its input space is too large); use --count N",
                pe.id(),
                cfg.format
            ))
        })?,
        CaseSet::Count(n) => n,
    };
    let range = shard.range(total);
    if range.end - range.start > MAX_FILE_ROWS {
        return Err(Error::new(format!(
            "{} cases in one set is more than pelab writes to a file ({MAX_FILE_ROWS}); split it \
             with --shard k/N",
            range.end - range.start
        )));
    }
    let mut rows = Vec::new();
    let mut push = |inputs: Vec<Vec<u64>>| -> Result<()> {
        let outs = pe.expected(cfg, &inputs)?;
        for (mut row, (o, care)) in inputs.into_iter().zip(outs) {
            row.extend(o);
            if layout.care {
                row.push(care);
            }
            rows.push(row);
        }
        Ok(())
    };
    match set {
        CaseSet::Exhaustive => {
            for i in range.clone() {
                push(pe.exhaustive_case(cfg, i))?;
            }
        }
        CaseSet::Count(_) => {
            // Case i is the same whatever the shard: corners first, then random cases drawn
            // from a generator seeded per block of cases, so shards need not replay the others.
            let corners = pe.corner_cases(cfg)?;
            const BLOCK: u64 = 4096;
            let mut i = range.start;
            while i < range.end {
                if (i as usize) < corners.len() {
                    push(corners[i as usize].clone())?;
                    i += 1;
                    continue;
                }
                let block = i / BLOCK;
                let mut rng =
                    ChaCha8Rng::seed_from_u64(seed ^ block.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let start = block * BLOCK;
                for j in start..(start + BLOCK).min(range.end) {
                    let case = pe.random_case(cfg, &mut rng)?;
                    if j >= i && j >= corners.len() as u64 {
                        push(case)?;
                    }
                }
                i = (start + BLOCK).min(range.end);
            }
        }
    }
    Ok(VectorSet {
        pe: pe.id().into(),
        config: cfg.clone(),
        layout,
        set,
        seed,
        shard,
        cases: range.end - range.start,
        rows,
    })
}

fn hex_digits(width: u32) -> usize {
    width.div_ceil(4) as usize
}

impl VectorSet {
    /// The `#` header lines (without the trailing newline of the last one).
    pub fn header(&self) -> Vec<(String, String)> {
        let set = match self.set {
            CaseSet::Exhaustive => "exhaustive".to_string(),
            CaseSet::Count(n) => format!("count:{n}"),
        };
        let mut h = vec![
            ("pe".to_string(), self.pe.clone()),
            ("format".into(), self.config.format.clone()),
            ("policy".into(), self.config.policy.clone()),
            ("variant".into(), self.config.variant.clone()),
            ("pipeline".into(), self.config.pipeline.to_string()),
            ("set".into(), set),
            ("seed".into(), self.seed.to_string()),
            ("shard".into(), format!("{}/{}", self.shard.k, self.shard.n)),
            ("count".into(), self.cases.to_string()),
            ("rows".into(), self.rows.len().to_string()),
            ("inputs".into(), self.layout.describe(false)),
            ("outputs".into(), self.layout.describe(true)),
            (
                "care".into(),
                if self.layout.care { "yes" } else { "no" }.into(),
            ),
            ("timing".into(), self.layout.timing_text()),
            (
                "generator".into(),
                format!("pelab {}", env!("CARGO_PKG_VERSION")),
            ),
        ];
        if self.config.variant.is_empty() {
            h.retain(|(k, _)| k != "variant");
        }
        h
    }

    /// The text file.
    pub fn to_text(&self) -> String {
        let mut s = String::with_capacity(self.rows.len() * 24 + 512);
        s.push_str("# pelab golden vectors: one case per line, uppercase hex, inputs then expected outputs\n");
        for (k, v) in self.header() {
            let _ = writeln!(s, "# {k}={v}");
        }
        let cols = self.layout.columns();
        for row in &self.rows {
            for (i, (v, f)) in row.iter().zip(&cols).enumerate() {
                if i > 0 {
                    s.push(' ');
                }
                let _ = write!(s, "{:0w$X}", v, w = hex_digits(f.width));
            }
            s.push('\n');
        }
        s
    }

    /// The packed `$readmemh` companion: one hex word per row.
    pub fn to_mem(&self) -> String {
        pack_mem(&self.layout, &self.rows)
    }

    /// Writes the text file and its `.mem` companion atomically.
    pub fn write(&self, path: &Path) -> Result<std::path::PathBuf> {
        pelab_hdl::emit::write_atomic(path, self.to_text())?;
        let mem = path.with_extension("mem");
        pelab_hdl::emit::write_atomic(&mem, self.to_mem())?;
        Ok(mem)
    }
}

fn put_bits(word: &mut Vec<u64>, at: u32, width: u32, v: u64) {
    for i in 0..width {
        let bit = at + i;
        let limb = (bit / 64) as usize;
        while word.len() <= limb {
            word.push(0);
        }
        if (v >> i) & 1 == 1 {
            word[limb] |= 1 << (bit % 64);
        }
    }
    let top = ((at + width).div_ceil(64)) as usize;
    while word.len() < top.max(1) {
        word.push(0);
    }
}

/// Reads a vector file written by [`VectorSet::to_text`] (or by hand in the same format) and
/// checks it against the expected PE, configuration and layout: every error names the file,
/// the line and what was expected.
pub fn parse(path: &Path, pe: &dyn PeVectors, cfg: &RtlConfig) -> Result<VectorSet> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::new(format!("cannot read vector file {}: {e}", path.display())))?;
    parse_bytes(&bytes, &path.display().to_string(), pe, cfg)
}

/// Parses the bytes of a vector file as [`parse`] does; `file` names it in messages.
pub fn parse_bytes(
    bytes: &[u8],
    file: &str,
    pe: &dyn PeVectors,
    cfg: &RtlConfig,
) -> Result<VectorSet> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        Error::new(format!(
            "{file}:{line}: byte {at} is not UTF-8 text; expected a pelab vector file"
        ))
    })?;
    let layout = pe.layout(cfg)?;
    let cols = layout.columns();
    let mut header = std::collections::BTreeMap::new();
    let mut rows = Vec::new();
    // Line of the first row and of the `rows=` header.
    let (mut first_row, mut rows_line) = (0, 0);
    let lines = text.lines().count();
    let unterminated = !text.is_empty() && !text.ends_with('\n');
    for (n, line) in text.lines().enumerate() {
        let lineno = n + 1;
        let at = |msg: String| Error::new(format!("{file}:{lineno}: {msg}"));
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(h) = line.strip_prefix('#') {
            if let Some((k, v)) = h.trim().split_once('=') {
                let (k, v) = (k.trim(), v.trim());
                let want = match k {
                    "pe" => Some(pe.id().to_string()),
                    "format" => Some(cfg.format.clone()),
                    "policy" => Some(cfg.policy.clone()),
                    "variant" => Some(cfg.variant.clone()),
                    "pipeline" => Some(cfg.pipeline.to_string()),
                    _ => None,
                };
                if let Some(w) = want {
                    if w != v {
                        return Err(at(format!(
                            "header says {k}={v}, but the run is for {k}={w}"
                        )));
                    }
                }
                if k == "rows" {
                    if v.parse::<u64>().is_err() {
                        return Err(at(format!("header rows={v} is not a row count")));
                    }
                    rows_line = lineno;
                }
                header.insert(k.to_string(), v.to_string());
            }
            continue;
        }
        if first_row == 0 {
            first_row = lineno;
        }
        let toks: Vec<&str> = line.split_whitespace().collect();
        if toks.len() != cols.len() {
            let names: Vec<String> = cols.iter().map(|f| f.name.to_uppercase()).collect();
            return Err(at(format!(
                "{} columns, expected {} ({})",
                toks.len(),
                cols.len(),
                names.join(" ")
            )));
        }
        let mut row = Vec::with_capacity(cols.len());
        for (t, f) in toks.iter().zip(&cols) {
            if !t.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(at(format!(
                    "field {} = '{t}' is not hex",
                    f.name.to_uppercase()
                )));
            }
            let v = u128::from_str_radix(t, 16)
                .ok()
                .filter(|v| f.width >= 128 || v >> f.width == 0);
            let Some(v) = v else {
                return Err(at(format!(
                    "field {} = '{t}' is wider than {} bits",
                    f.name.to_uppercase(),
                    f.width
                )));
            };
            row.push(v as u64);
        }
        // A row cut short in its last field still has every column: only the missing
        // newline tells.
        if unterminated && lineno == lines {
            return Err(at(
                "the last row ends without a newline; the file looks truncated".into(),
            ));
        }
        rows.push(row);
    }
    for k in ["pe", "format"] {
        if !header.contains_key(k) {
            return Err(Error::new(format!(
                "{file}:{}: header line '# {k}=...' missing before the first row",
                if first_row > 0 {
                    first_row
                } else {
                    lines.max(1)
                }
            )));
        }
    }
    if rows.is_empty() {
        return Err(Error::new(format!(
            "{file}:{}: no vectors before the end of the file",
            lines.max(1)
        )));
    }
    if let Some(want) = header.get("rows").and_then(|s| s.parse::<u64>().ok()) {
        if want != rows.len() as u64 {
            return Err(Error::new(format!(
                "{file}:{rows_line}: header says rows={want}, but the file has {} rows{}",
                rows.len(),
                if (rows.len() as u64) < want {
                    "; it looks truncated"
                } else {
                    ""
                }
            )));
        }
    }
    let seed = header.get("seed").and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok(VectorSet {
        pe: pe.id().into(),
        config: cfg.clone(),
        layout,
        set: CaseSet::Count(rows.len() as u64),
        seed,
        shard: Shard::ALL,
        cases: header
            .get("count")
            .and_then(|s| s.parse().ok())
            .unwrap_or(rows.len() as u64),
        rows,
    })
}

/// The packed `$readmemh` text of `rows` in `layout` (one hex word per row, first column in
/// the top bits), as the testbenches read it.
pub fn pack_mem(layout: &Layout, rows: &[Vec<u64>]) -> String {
    let cols = layout.columns();
    let width = layout.row_width();
    let mut s = String::with_capacity(rows.len() * (hex_digits(width) + 1) + 64);
    let _ = writeln!(
        s,
        "// pelab packed vectors: {} rows of {width} bits ({})",
        rows.len(),
        {
            let v: Vec<String> = cols
                .iter()
                .map(|f| format!("{}:{}", f.name, f.width))
                .collect();
            v.join(" ")
        }
    );
    for row in rows {
        let mut word: Vec<u64> = Vec::new(); // little-endian 64-bit limbs
        let mut bits = 0u32;
        for (v, f) in row.iter().zip(&cols).rev() {
            put_bits(&mut word, bits, f.width, *v);
            bits += f.width;
        }
        let mut hex = String::new();
        for limb in word.iter().rev() {
            let _ = write!(hex, "{limb:016X}");
        }
        let digits = hex_digits(width);
        let _ = writeln!(s, "{}", &hex[hex.len() - digits..]);
    }
    s
}

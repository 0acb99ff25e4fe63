//! Accuracy studies: how far L-Mul, BitMoD's weight quantizer and DFP-16 land from exact
//! arithmetic on values drawn from a distribution or read from a `.npy` file.
//!
//! Each study returns [`Table`]s; their provenance lines name the value source, the sizes, the
//! seed, the reference model and the conversions used. `docs/accuracy.md` defines every
//! column. Studies are found by name ([`study`], [`STUDIES`]), so the command line names none.
//! Each study has its module (`lmul`, `bitmod`, `dfp`); the value sources and `.npy` reading
//! are in `source`, the printing in `render`.

mod bitmod;
mod dfp;
mod lmul;
mod render;
mod source;

pub use bitmod::bitmod_study;
pub use dfp::dfp_study;
pub use lmul::{exact_dot, lmul_study};
pub use render::{render, Style};
pub use source::{read_npy, read_npy_any, write_npy, NpyAny, NpyArray, NpyKind, NpyValues, Source};

use crate::Table;
use pelab_sim::{Error, Result};

/// The studies, by name.
pub const STUDIES: &[&str] = &["lmul", "bitmod", "dfp"];

/// How the lmul study scales each tensor before converting it into a format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scale {
    /// The values as they are.
    #[default]
    None,
    /// Per tensor (all x values, all y values) and format, the largest power of two 2^s with
    /// (amax * 2^s)^2 <= the format's largest finite value, so that no product of two scaled
    /// values exceeds it; results are divided by both scales (docs/accuracy.md).
    Amax,
}

impl Scale {
    /// The names, as `--scale` takes them.
    pub const NAMES: [&'static str; 2] = ["none", "amax"];

    /// `none` or `amax`; the error lists both.
    pub fn parse(s: &str) -> Result<Scale> {
        match s {
            "none" => Ok(Scale::None),
            "amax" => Ok(Scale::Amax),
            _ => Err(Error::new(format!(
                "unknown scale '{s}'; valid: {}",
                Scale::NAMES.join(", ")
            ))),
        }
    }

    /// The name, as [`Scale::parse`] takes it.
    pub fn name(self) -> &'static str {
        match self {
            Scale::None => "none",
            Scale::Amax => "amax",
        }
    }
}

/// Options shared by the studies.
#[derive(Debug, Clone, PartialEq)]
pub struct Opts {
    /// Where the values come from.
    pub source: Source,
    /// How many values the study draws (each study says how it uses them; see
    /// [`default_samples`]).
    pub samples: usize,
    /// Seed of the random source (ChaCha8).
    pub seed: u64,
    /// Scaling of the tensors before conversion: the lmul study only; the other studies
    /// reject [`Scale::Amax`] (they scale their own groups or tensors).
    pub scale: Scale,
}

/// The default `samples` of a study: lmul 1,000,000 pairs, bitmod 128 x 4096 weights, dfp
/// 2 x 256 x 4096 values (256 dot products of two vectors of 4096).
pub fn default_samples(study: &str) -> Result<usize> {
    match study {
        "lmul" => Ok(lmul::DEFAULT_SAMPLES),
        "bitmod" => Ok(bitmod::DEFAULT_SAMPLES),
        "dfp" => Ok(dfp::DEFAULT_SAMPLES),
        _ => Err(unknown_study(study)),
    }
}

fn unknown_study(name: &str) -> Error {
    Error::new(format!(
        "unknown study '{name}'; valid: {}",
        STUDIES.join(", ")
    ))
}

/// Runs a study by name (one of [`STUDIES`]); the error lists them.
pub fn study(name: &str, o: &Opts) -> Result<Vec<Table>> {
    match name {
        "lmul" => lmul_study(o),
        "bitmod" => bitmod_study(o),
        "dfp" => dfp_study(o),
        _ => Err(unknown_study(name)),
    }
}

/// `o.samples`, which must be at least 1.
fn check_samples(o: &Opts) -> Result<usize> {
    if o.samples == 0 {
        return Err(Error::new("samples must be at least 1"));
    }
    Ok(o.samples)
}

/// An error unless `o.scale` is [`Scale::None`]: `study` has its own scaling, `how`.
fn unscaled(o: &Opts, study: &str, how: &str) -> Result<()> {
    match o.scale {
        Scale::None => Ok(()),
        s => Err(Error::new(format!(
            "--scale {} applies to the lmul study only; the {study} study scales {how} itself \
             (use --scale none)",
            s.name()
        ))),
    }
}

/// Provenance lines every table of a study starts with.
fn common_provenance(o: &Opts, what: &str) -> Vec<String> {
    vec![
        format!("source: {}", o.source.describe()),
        format!("samples: {what}"),
        format!("seed: {} (ChaCha8; unused for file sources)", o.seed),
    ]
}

/// Values as f32, each checked finite; an error names `what` and the value.
fn to_f32(v: &[f64], what: &str) -> Result<Vec<f32>> {
    v.iter()
        .enumerate()
        .map(|(i, &x)| {
            let w = x as f32;
            if w.is_finite() {
                Ok(w)
            } else {
                Err(Error::new(format!(
                    "{what}: value {i} is {x}, which is not a finite float32"
                )))
            }
        })
        .collect()
}

/// Count, sum, least and largest of a stream of numbers.
#[derive(Debug, Clone, Copy)]
struct Tally {
    n: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl Tally {
    /// No number yet.
    const EMPTY: Tally = Tally {
        n: 0,
        sum: 0.0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
    };

    /// One more number.
    fn add(mut self, v: f64) -> Self {
        self.n += 1;
        self.sum += v;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self
    }

    /// The tally of both streams.
    fn merge(self, o: Self) -> Self {
        Tally {
            n: self.n + o.n,
            sum: self.sum + o.sum,
            min: self.min.min(o.min),
            max: self.max.max(o.max),
        }
    }

    /// The mean, NaN when empty.
    fn mean(&self) -> f64 {
        if self.n == 0 {
            f64::NAN
        } else {
            self.sum / self.n as f64
        }
    }

    /// The largest number, NaN when empty.
    fn largest(&self) -> f64 {
        if self.n == 0 {
            f64::NAN
        } else {
            self.max
        }
    }
}

/// Error statistics of a set of dot products (errors already normalized): the finite errors
/// and how many dots were excluded.
#[derive(Debug, Clone, Copy)]
struct DotStats {
    err: Tally,
    excluded: u64,
}

impl DotStats {
    /// No dot product yet.
    const EMPTY: DotStats = DotStats {
        err: Tally::EMPTY,
        excluded: 0,
    };

    /// One dot product's error; `None` or a non-finite error counts it as excluded.
    fn add(mut self, err: Option<f64>) -> Self {
        match err {
            Some(e) if e.is_finite() => self.err = self.err.add(e),
            _ => self.excluded += 1,
        }
        self
    }

    /// The statistics of both sets.
    fn merge(self, o: Self) -> Self {
        DotStats {
            err: self.err.merge(o.err),
            excluded: self.excluded + o.excluded,
        }
    }
}

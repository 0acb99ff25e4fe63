//! Where a study's values come from: a distribution or a `.npy` file.

use pelab_sim::samples::Dist;
use pelab_sim::{Error, Result};
use rand::Rng;
use std::path::{Path, PathBuf};

/// The value sources [`Source::parse`] accepts, for messages.
const SOURCES: &str = "gaussian, uniform, loguniform, student-t:NU (NU > 0), file:PATH.npy";

/// Where a study's real values come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// One of the operand distributions of `pelab_sim::samples`.
    Dist(Dist),
    /// Student's t distribution with `nu` degrees of freedom (heavy tails for small `nu`).
    StudentT(f64),
    /// The values of a `.npy` file (float32 or float64), in file order.
    Npy(PathBuf),
}

impl Source {
    /// Parses `gaussian`, `uniform`, `loguniform`, `student-t:NU` or `file:PATH.npy`; the
    /// error lists the valid forms.
    pub fn parse(s: &str) -> Result<Source> {
        if let Some(nu) = s.strip_prefix("student-t:") {
            return match nu.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && v > 0.0 => Ok(Source::StudentT(v)),
                _ => Err(Error::new(format!(
                    "'{s}': the degrees of freedom NU of student-t:NU must be a positive \
                     number, e.g. student-t:3"
                ))),
            };
        }
        if let Some(p) = s.strip_prefix("file:") {
            if p.is_empty() {
                return Err(Error::new(
                    format!("'file:' needs the path of a .npy file (file:PATH.npy); valid sources: {SOURCES}"),
                ));
            }
            return Ok(Source::Npy(PathBuf::from(p)));
        }
        Dist::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .map(Source::Dist)
            .ok_or_else(|| Error::new(format!("unknown value source '{s}'; valid: {SOURCES}")))
    }

    /// One line saying what the values are.
    pub fn describe(&self) -> String {
        match self {
            Source::Dist(Dist::Gaussian) => "gaussian: N(0, 1)".into(),
            Source::Dist(Dist::Uniform) => "uniform: U[-1, 1)".into(),
            Source::Dist(Dist::LogUniform) => {
                "loguniform: random sign, magnitude 2^u with u ~ U[-8, 8)".into()
            }
            Source::StudentT(nu) => {
                format!("student-t:{nu}: Student's t with {nu} degrees of freedom")
            }
            Source::Npy(p) => format!("file {}: its values in file order", p.display()),
        }
    }

    /// `n` values: drawn from the distribution with `rng`, or a file's values in file order,
    /// cycled when the file holds fewer than `n`.
    pub fn sample<R: Rng>(&self, n: usize, rng: &mut R) -> Result<Vec<f64>> {
        match self {
            Source::Dist(d) => Ok((0..n).map(|_| d.value(rng)).collect()),
            Source::StudentT(nu) => {
                use rand_distr::Distribution;
                let t = rand_distr::StudentT::new(*nu).map_err(|e| {
                    Error::new(format!("student-t with {nu} degrees of freedom: {e}"))
                })?;
                Ok((0..n).map(|_| t.sample(rng)).collect())
            }
            Source::Npy(p) => {
                let a = read_npy(p)?;
                if a.data.is_empty() {
                    return Err(Error::new(format!(
                        "{}: the array holds no value (shape {:?}); expected at least one",
                        p.display(),
                        a.shape
                    )));
                }
                Ok(a.data.iter().copied().cycle().take(n).collect())
            }
        }
    }
}

/// What a `.npy` file must hold, for messages.
const NPY_EXPECTED: &str = "expected a NumPy .npy file holding a float32 or float64 array";

/// An array read from a `.npy` file, its values widened to `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The shape as written in the header.
    pub shape: Vec<usize>,
    /// The NumPy type string (`<f4`, `<f8`, `>f4`...).
    pub dtype: String,
    /// True when the file stores the array in Fortran (column-major) order.
    pub fortran_order: bool,
    /// The values in file (storage) order.
    pub data: Vec<f64>,
}

impl NpyArray {
    /// The rows of a 2-D array (row `r` holds elements `[r, 0..cols]`) as `f32`; any other
    /// rank, an empty dimension or a float64 value beyond the float32 range is an error that
    /// names `path`.
    pub fn rows(&self, path: &Path) -> Result<Vec<Vec<f32>>> {
        let p = path.display();
        let [rows, cols] = self.shape[..] else {
            return Err(Error::new(format!(
                "{p}: a {}-D array of shape {:?}; expected a 2-D weight matrix \
                 (rows = output channels, columns = inputs)",
                self.shape.len(),
                self.shape
            )));
        };
        if rows == 0 || cols == 0 {
            return Err(Error::new(format!(
                "{p}: the matrix has shape {:?}; expected at least one row and one column",
                self.shape
            )));
        }
        let at = |r: usize, c: usize| {
            if self.fortran_order {
                self.data[c * rows + r]
            } else {
                self.data[r * cols + c]
            }
        };
        (0..rows)
            .map(|r| {
                (0..cols)
                    .map(|c| {
                        let v = at(r, c);
                        let w = v as f32;
                        if w.is_finite() {
                            Ok(w)
                        } else {
                            Err(Error::new(format!(
                                "{p}: element [{r}, {c}] is {v}; weights must be finite \
                                 float32 values"
                            )))
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// Reads a `.npy` file holding a float32 or float64 array (any byte order, C or Fortran
/// order). A missing file, a malformed header, another dtype, or a data section shorter or
/// longer than the header announces is an error naming the file and what was expected.
pub fn read_npy(path: &Path) -> Result<NpyArray> {
    let p = path.display();
    let bytes = std::fs::read(path)
        .map_err(|e| Error::new(format!("cannot read {p}: {e} ({NPY_EXPECTED})")))?;
    NpyArray::from_bytes(&bytes, path)
}

/// The longest header NumPy reads without being told to trust the file.
const NPY_MAX_HEADER: usize = 10_000;
/// The deepest nesting of brackets in a header; a float array's header nests two deep.
const NPY_MAX_NESTING: usize = 8;

/// Checks the parts of a `.npy` preamble and header that npyz trusts: the magic and version,
/// a header length within the file (and NumPy's limit), bracket nesting, and a shape whose
/// element count fits in 64 bits. Returns the header's byte range; errors name byte offsets.
fn npy_header_range(
    bytes: &[u8],
    p: &dyn std::fmt::Display,
    expected: &str,
) -> Result<std::ops::Range<usize>> {
    let fail = |msg: String| Err(Error::new(format!("{p}: {msg}; {expected}")));
    if !bytes.starts_with(b"\x93NUMPY") {
        return fail("bytes 0..6 are not the .npy magic \\x93NUMPY".into());
    }
    let start = match bytes.get(6) {
        Some(1) => 10,
        Some(2 | 3) => 12,
        Some(v) => {
            return fail(format!(
                "byte 6: .npy format version {v}; expected 1, 2 or 3"
            ))
        }
        None => return fail("the file ends at byte 6, before the format version".into()),
    };
    let Some(len) = bytes.get(8..start) else {
        return fail(format!(
            "the file ends at byte {}, before the header length (bytes 8..{start})",
            bytes.len()
        ));
    };
    let len = len.iter().rev().fold(0usize, |a, &b| a << 8 | b as usize);
    let end = start + len;
    if end > bytes.len() {
        return fail(format!(
            "bytes 8..{start}: the header length {len} runs past the end of the file ({} bytes)",
            bytes.len()
        ));
    }
    if len > NPY_MAX_HEADER {
        return fail(format!(
            "bytes {start}..{end}: a header of {len} bytes is longer than NumPy reads \
             ({NPY_MAX_HEADER})"
        ));
    }
    let header = &bytes[start..end];
    let mut depth = 0usize;
    for (i, &b) in header.iter().enumerate() {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > NPY_MAX_NESTING {
            return fail(format!(
                "byte {}: the header nests brackets more than {NPY_MAX_NESTING} deep",
                start + i
            ));
        }
    }
    // npyz multiplies the dimensions unchecked: refuse a shape whose product overflows.
    let text = std::str::from_utf8(header).unwrap_or("");
    if let Ok(py_literal::Value::Dict(items)) = text.trim_end().parse::<py_literal::Value>() {
        let shape = items.iter().find_map(|(k, v)| match (k, v) {
            (
                py_literal::Value::String(k),
                py_literal::Value::Tuple(d) | py_literal::Value::List(d),
            ) if k == "shape" => Some(d),
            _ => None,
        });
        let dims = shape.into_iter().flatten().filter_map(|d| match d {
            py_literal::Value::Integer(n) => n.to_string().parse::<u64>().ok(),
            _ => None,
        });
        let mut n = 1u64;
        for d in dims.filter(|&d| d > 0) {
            n = match n.checked_mul(d) {
                Some(n) => n,
                None => {
                    return fail(format!(
                        "bytes {start}..{end}: the header's shape has more than 2^64 elements"
                    ))
                }
            };
        }
    }
    Ok(start..end)
}

/// What [`NpyArray::from_bytes_any`] takes, for messages.
const NPY_ANY_EXPECTED: &str = "expected a NumPy .npy file holding a float32, float64, unsigned \
                                integer or signed integer array";

/// The kind of a `.npy` array's elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpyKind {
    /// IEEE binary floats (`f4`, `f8`).
    Float,
    /// Unsigned integers (`u1`, `u2`, `u4`, `u8`).
    Unsigned,
    /// Two's complement signed integers (`i1`, `i2`, `i4`, `i8`).
    Signed,
}

/// The values of a `.npy` array in file (storage) order, widened by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyValues {
    /// float32 or float64 values.
    Float(Vec<f64>),
    /// Unsigned integers of any width.
    Unsigned(Vec<u64>),
    /// Signed integers of any width.
    Signed(Vec<i64>),
}

impl NpyValues {
    /// The number of values.
    pub fn len(&self) -> usize {
        match self {
            NpyValues::Float(v) => v.len(),
            NpyValues::Unsigned(v) => v.len(),
            NpyValues::Signed(v) => v.len(),
        }
    }

    /// Whether there is no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An array read from a `.npy` file of any dtype [`NpyArray::from_bytes_any`] takes.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyAny {
    /// The shape as written in the header.
    pub shape: Vec<usize>,
    /// The NumPy type string (`<f4`, `|u1`, `>i2`...).
    pub dtype: String,
    /// The kind of the elements.
    pub kind: NpyKind,
    /// Bytes per element.
    pub size: usize,
    /// True when the file stores the array in Fortran (column-major) order.
    pub fortran_order: bool,
    /// The values in file (storage) order.
    pub values: NpyValues,
}

impl NpyAny {
    /// The NumPy name of the element type: `float32`, `uint8`, `int16`...
    pub fn type_name(&self) -> String {
        let kind = match self.kind {
            NpyKind::Float => "float",
            NpyKind::Unsigned => "uint",
            NpyKind::Signed => "int",
        };
        format!("{kind}{}", 8 * self.size)
    }
}

/// Reads a `.npy` file of any dtype [`NpyArray::from_bytes_any`] takes (any byte order, C or
/// Fortran order), with the checks of [`read_npy`].
pub fn read_npy_any(path: &Path) -> Result<NpyAny> {
    let p = path.display();
    let bytes = std::fs::read(path)
        .map_err(|e| Error::new(format!("cannot read {p}: {e} ({NPY_ANY_EXPECTED})")))?;
    NpyArray::from_bytes_any(&bytes, path)
}

/// Parses `bytes` (the `.npy` file `path`) when its dtype passes `accept(kind, size)`:
/// `expected` says what the reader takes and `dtypes` its dtype strings, for messages.
fn parse_npy(
    bytes: &[u8],
    path: &Path,
    expected: &str,
    dtypes: &str,
    accept: fn(NpyKind, u64) -> bool,
) -> Result<NpyAny> {
    let p = path.display();
    let range = npy_header_range(bytes, &p, expected)?;
    let file = npyz::NpyFile::new(bytes).map_err(|e| {
        Error::new(format!(
            "{p} is not a valid .npy file: {e} in the header (bytes {}..{}) ({expected})",
            range.start, range.end
        ))
    })?;
    let header = file.header().clone();
    let kind_of = |ts: &npyz::TypeStr| match ts.type_char() {
        npyz::TypeChar::Float => Some(NpyKind::Float),
        npyz::TypeChar::Uint => Some(NpyKind::Unsigned),
        npyz::TypeChar::Int => Some(NpyKind::Signed),
        _ => None,
    };
    let (dtype, kind, size) = match header.dtype() {
        npyz::DType::Plain(ts) if kind_of(&ts).is_some_and(|k| accept(k, ts.size_field())) => (
            ts.to_string(),
            kind_of(&ts).expect("checked"),
            ts.size_field() as usize,
        ),
        other => {
            let what = match other {
                npyz::DType::Plain(ts) => format!("dtype '{ts}'"),
                _ => format!("a structured dtype {}", other.descr()),
            };
            return Err(Error::new(format!(
                "{p}: {what} in the header (bytes {}..{}); {expected} ({dtypes})",
                range.start, range.end
            )));
        }
    };
    let shape: Vec<usize> = header.shape().iter().map(|&d| d as usize).collect();
    let fortran_order = header.order() == npyz::Order::Fortran;
    let rest: &[u8] = file.into_inner();
    // The length is checked before any allocation: a header may announce far more data
    // than the file holds.
    let need = (header.len() as usize).checked_mul(size);
    if need != Some(rest.len()) {
        let (need, why) = match need {
            Some(n) if rest.len() < n => (n.to_string(), "the file is truncated"),
            Some(n) => (n.to_string(), "extra bytes follow the data"),
            None => ("too many".to_string(), "the shape is too large"),
        };
        return Err(Error::new(format!(
            "{p}: the header announces shape {shape:?} of {dtype} ({need} data bytes) but \
             {} data bytes follow it from byte {} ({why}); {expected}",
            rest.len(),
            range.end
        )));
    }
    let data_err = |e: std::io::Error| {
        Error::new(format!(
            "{p}: cannot decode the data from byte {}: {e}",
            range.end
        ))
    };
    let f = npyz::NpyFile::with_header(header, rest);
    fn widen<T, U: From<T>>(v: Vec<T>) -> Vec<U> {
        v.into_iter().map(U::from).collect()
    }
    let values = match (kind, size) {
        (NpyKind::Float, 4) => NpyValues::Float(widen(f.into_vec::<f32>().map_err(data_err)?)),
        (NpyKind::Float, _) => NpyValues::Float(f.into_vec::<f64>().map_err(data_err)?),
        (NpyKind::Unsigned, 1) => NpyValues::Unsigned(widen(f.into_vec::<u8>().map_err(data_err)?)),
        (NpyKind::Unsigned, 2) => {
            NpyValues::Unsigned(widen(f.into_vec::<u16>().map_err(data_err)?))
        }
        (NpyKind::Unsigned, 4) => {
            NpyValues::Unsigned(widen(f.into_vec::<u32>().map_err(data_err)?))
        }
        (NpyKind::Unsigned, _) => NpyValues::Unsigned(f.into_vec::<u64>().map_err(data_err)?),
        (NpyKind::Signed, 1) => NpyValues::Signed(widen(f.into_vec::<i8>().map_err(data_err)?)),
        (NpyKind::Signed, 2) => NpyValues::Signed(widen(f.into_vec::<i16>().map_err(data_err)?)),
        (NpyKind::Signed, 4) => NpyValues::Signed(widen(f.into_vec::<i32>().map_err(data_err)?)),
        (NpyKind::Signed, _) => NpyValues::Signed(f.into_vec::<i64>().map_err(data_err)?),
    };
    Ok(NpyAny {
        shape,
        dtype,
        kind,
        size,
        fortran_order,
        values,
    })
}

impl NpyArray {
    /// Parses the bytes of a `.npy` file as [`read_npy`] does; `path` names it in messages.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<NpyArray> {
        let a = parse_npy(
            bytes,
            path,
            NPY_EXPECTED,
            "dtype '<f4' or '<f8'",
            |k, size| k == NpyKind::Float && matches!(size, 4 | 8),
        )?;
        let NpyValues::Float(data) = a.values else {
            unreachable!("only float dtypes are accepted")
        };
        Ok(NpyArray {
            shape: a.shape,
            dtype: a.dtype,
            fortran_order: a.fortran_order,
            data,
        })
    }

    /// Parses the bytes of a `.npy` file of float32, float64, unsigned (`u1`, `u2`, `u4`, `u8`)
    /// or signed (`i1`, `i2`, `i4`, `i8`) integers, any byte order, C or Fortran order, with
    /// every check of [`NpyArray::from_bytes`]; `path` names it in messages.
    pub fn from_bytes_any(bytes: &[u8], path: &Path) -> Result<NpyAny> {
        parse_npy(
            bytes,
            path,
            NPY_ANY_EXPECTED,
            "dtype '<f4', '<f8', '<u1'..'<u8' or '<i1'..'<i8'",
            |k, size| match k {
                NpyKind::Float => matches!(size, 4 | 8),
                NpyKind::Unsigned | NpyKind::Signed => matches!(size, 1 | 2 | 4 | 8),
            },
        )
    }
}

/// Writes `data` (in C order) as a `.npy` file of shape `shape` and the little-endian dtype of
/// `T` (`f32`: `<f4`, `i32`: `<i4`...), atomically: a temporary file in the same directory, then
/// a rename. Errors name the file.
pub fn write_npy<T: npyz::AutoSerialize + Copy>(
    path: &Path,
    shape: &[usize],
    data: &[T],
) -> Result<()> {
    let p = path.display();
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| Error::new(format!("{p}: shape {shape:?} is too large to write")))?;
    if count != data.len() {
        return Err(Error::new(format!(
            "{p}: shape {shape:?} holds {count} values but {} were given",
            data.len()
        )));
    }
    let dtype = match T::default_dtype() {
        npyz::DType::Plain(ts) => npyz::DType::Plain(
            ts.to_string()
                .replace('>', "<")
                .parse()
                .map_err(|e| Error::new(format!("{p}: dtype {ts}: {e}")))?,
        ),
        other => other,
    };
    let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut buf = Vec::new();
    let io = |e: std::io::Error| Error::new(format!("cannot encode {p}: {e}"));
    {
        use npyz::WriterBuilder;
        let mut w = npyz::WriteOptions::new()
            .dtype(dtype)
            .shape(&dims)
            .writer(&mut buf)
            .begin_nd()
            .map_err(io)?;
        w.extend(data.iter().copied()).map_err(io)?;
        w.finish().map_err(io)?;
    }
    pelab_hdl::emit::write_atomic(path, &buf)
}

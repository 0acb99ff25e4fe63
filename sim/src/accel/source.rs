//! TOML and JSON files read into one tree of values that keeps each value's line and column,
//! so that every error about a file names the file, the line and what was expected.
//!
//! Syntax errors come from the `toml` and `serde_json` parsers with their positions. The
//! tree is then built from `toml`'s spanned document (`toml::de::DeTable`) or from
//! `serde_json`'s borrowed raw values, whose place in the text gives their position.

use crate::{Error, Result};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;
use std::path::Path;

/// Deepest nesting of arrays and tables accepted.
pub const MAX_DEPTH: usize = 32;

/// A place in a file (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// Line.
    pub line: usize,
    /// Column, in characters.
    pub col: usize,
}

/// A value of the file.
#[derive(Debug, Clone)]
pub enum Value {
    /// An integer (JSON integers beyond `i128` are not representable and are refused).
    Int(i128),
    /// A number with a fraction or an exponent, as written.
    Float(String),
    /// A string.
    Str(String),
    /// `true` or `false`.
    Bool(bool),
    /// An array.
    Array(Vec<Item>),
    /// A table (JSON object) in file order.
    Table(Vec<(String, Item)>),
    /// Anything else (TOML date-times, JSON `null`), by name.
    Other(&'static str),
}

impl Value {
    /// What the value is, for messages: "an integer", "a string"...
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number with a fraction",
            Value::Str(_) => "a string",
            Value::Bool(_) => "a boolean",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
            Value::Other(k) => k,
        }
    }
}

/// A value and where it is.
#[derive(Debug, Clone)]
pub struct Item {
    /// The value.
    pub value: Value,
    /// Where it starts.
    pub pos: Pos,
}

/// The two formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// TOML.
    Toml,
    /// JSON.
    Json,
}

impl Format {
    /// The format of `path` by its extension (`.toml` or `.json`).
    pub fn of_path(path: &Path) -> Result<Format> {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("toml") => Ok(Format::Toml),
            Some(e) if e.eq_ignore_ascii_case("json") => Ok(Format::Json),
            _ => Err(Error::new(format!(
                "{}: unknown file type (expected a .toml or .json file)",
                path.display()
            ))),
        }
    }
}

/// A parsed file: its name (for messages) and its root value.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The file name shown in messages.
    pub file: String,
    /// The root value.
    pub root: Item,
}

impl Doc {
    /// Parses `text`, naming it `file` in messages.
    pub fn parse(file: &str, text: &str, format: Format) -> Result<Doc> {
        let root = match format {
            Format::Toml => toml_doc(file, text)?,
            Format::Json => json_doc(file, text)?,
        };
        Ok(Doc {
            file: file.to_string(),
            root,
        })
    }

    /// An error at `pos`: `file:line:col: msg`.
    pub fn err(&self, pos: Pos, msg: impl fmt::Display) -> Error {
        Error::new(format!("{}:{}:{}: {msg}", self.file, pos.line, pos.col))
    }
}

/// The line and column of byte `offset` of `text`.
pub fn position(text: &str, offset: usize) -> Pos {
    let mut off = offset.min(text.len());
    while !text.is_char_boundary(off) {
        off -= 1;
    }
    let before = &text[..off];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Pos {
        line,
        col: before[line_start..].chars().count() + 1,
    }
}

fn toml_doc(file: &str, text: &str) -> Result<Item> {
    use toml::de::{DeTable, DeValue};
    let doc = DeTable::parse(text).map_err(|e| {
        let pos = position(text, e.span().map_or(0, |s| s.start));
        Error::new(format!(
            "{file}:{}:{}: TOML syntax: {}",
            pos.line,
            pos.col,
            e.message().trim()
        ))
    })?;
    fn table(file: &str, text: &str, t: &DeTable<'_>, pos: Pos, depth: usize) -> Result<Item> {
        let mut out = Vec::with_capacity(t.len());
        for (k, v) in t.iter() {
            out.push((k.get_ref().to_string(), value(file, text, v, depth + 1)?));
        }
        Ok(Item {
            value: Value::Table(out),
            pos,
        })
    }
    fn value(file: &str, text: &str, v: &toml::Spanned<DeValue<'_>>, depth: usize) -> Result<Item> {
        let pos = position(text, v.span().start);
        if depth > MAX_DEPTH {
            return Err(Error::new(format!(
                "{file}:{}:{}: arrays or tables nested deeper than {MAX_DEPTH} levels",
                pos.line, pos.col
            )));
        }
        let value = match v.get_ref() {
            DeValue::String(s) => Value::Str(s.to_string()),
            DeValue::Integer(i) => match i128::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Value::Int(n),
                Err(_) => Value::Float(i.to_string()),
            },
            DeValue::Float(f) => Value::Float(f.as_str().to_string()),
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Datetime(_) => Value::Other("a date-time"),
            DeValue::Array(a) => Value::Array(
                a.iter()
                    .map(|e| value(file, text, e, depth + 1))
                    .collect::<Result<_>>()?,
            ),
            DeValue::Table(t) => return table(file, text, t, pos, depth),
        };
        Ok(Item { value, pos })
    }
    table(file, text, doc.get_ref(), Pos { line: 1, col: 1 }, 0)
}

/// A JSON object's entries in file order, values left raw.
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Entries<'de>, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// `serde_json`'s message without its trailing "at line L column C".
fn json_message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    s.strip_suffix(&suffix).unwrap_or(&s).to_string()
}

fn json_doc(file: &str, text: &str) -> Result<Item> {
    let raw: &RawValue = serde_json::from_str(text).map_err(|e| {
        Error::new(format!(
            "{file}:{}:{}: JSON syntax: {}",
            e.line(),
            e.column(),
            json_message(&e)
        ))
    })?;
    json_value(file, text, raw, 0)
}

fn json_value(file: &str, text: &str, raw: &RawValue, depth: usize) -> Result<Item> {
    let s = raw.get();
    let offset = (s.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    let pos = position(text, offset);
    let fail = |e: serde_json::Error| {
        Error::new(format!(
            "{file}:{}:{}: JSON: {}",
            pos.line,
            pos.col,
            json_message(&e)
        ))
    };
    if depth > MAX_DEPTH {
        return Err(Error::new(format!(
            "{file}:{}:{}: arrays or objects nested deeper than {MAX_DEPTH} levels",
            pos.line, pos.col
        )));
    }
    let value = match s.as_bytes().first() {
        Some(b'{') => {
            let Entries(entries) = serde_json::from_str(s).map_err(fail)?;
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                out.push((k, json_value(file, text, v, depth + 1)?));
            }
            Value::Table(out)
        }
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(s).map_err(fail)?;
            Value::Array(
                items
                    .into_iter()
                    .map(|v| json_value(file, text, v, depth + 1))
                    .collect::<Result<_>>()?,
            )
        }
        Some(b'"') => Value::Str(serde_json::from_str(s).map_err(fail)?),
        Some(b't') => Value::Bool(true),
        Some(b'f') => Value::Bool(false),
        Some(b'n') => Value::Other("null"),
        _ => match s.parse::<i128>() {
            Ok(n) => Value::Int(n),
            Err(_) => Value::Float(s.to_string()),
        },
    };
    Ok(Item { value, pos })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_in_both_formats() {
        let t = Doc::parse("a.toml", "x = 1\n\n[t]\ny = \"s\"\n", Format::Toml).unwrap();
        let Value::Table(root) = &t.root.value else {
            panic!()
        };
        let x = &root.iter().find(|(k, _)| k == "x").unwrap().1;
        assert_eq!(x.pos, Pos { line: 1, col: 5 });
        let j = Doc::parse("a.json", "{\n  \"x\": [1,\n 2.5]\n}", Format::Json).unwrap();
        let Value::Table(root) = &j.root.value else {
            panic!()
        };
        let Value::Array(a) = &root[0].1.value else {
            panic!()
        };
        assert_eq!(a[1].pos, Pos { line: 3, col: 2 });
        assert!(matches!(a[1].value, Value::Float(_)));
        let e = Doc::parse("b.json", "{\n\"x\": }", Format::Json).unwrap_err();
        assert!(e.0.starts_with("b.json:2:"), "{e}");
        let e = Doc::parse("b.toml", "x = \n", Format::Toml).unwrap_err();
        assert!(e.0.starts_with("b.toml:1:"), "{e}");
    }
}

//! The studies' tables printed as aligned text, JSON or CSV.

use crate::Table;
use serde_json::Value;

/// How [`render`] prints tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Aligned text: a title line, the columns, the rows, then the provenance lines.
    Text,
    /// A JSON array of [`Table::to_json`].
    Json,
    /// Each table as CSV after a `# name` line, tables separated by a blank line.
    Csv,
}

/// Tables as text, JSON or CSV (ending with a newline).
pub fn render(tables: &[Table], style: Style) -> String {
    match style {
        Style::Json => {
            let v = Value::Array(tables.iter().map(Table::to_json).collect());
            serde_json::to_string_pretty(&v).expect("JSON of plain values") + "\n"
        }
        Style::Csv => tables
            .iter()
            .map(|t| format!("# {}\n{}", t.name, t.to_csv()))
            .collect::<Vec<_>>()
            .join("\n"),
        Style::Text => tables.iter().map(text).collect::<Vec<_>>().join("\n"),
    }
}

/// A cell for people: integers as they are, other numbers with 4 significant digits.
fn cell(v: &Value) -> (String, bool) {
    match v {
        Value::Null => ("-".into(), true),
        Value::String(s) => (s.clone(), false),
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap();
            let s = if x == 0.0 {
                "0".into()
            } else if (1e-3..1e6).contains(&x.abs()) {
                let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
                format!("{x:.digits$}")
            } else {
                format!("{x:.3e}")
            };
            (s, true)
        }
        other => (other.to_string(), true),
    }
}

/// One table as aligned text.
fn text(t: &Table) -> String {
    let cells: Vec<Vec<(String, bool)>> = t
        .rows
        .iter()
        .map(|r| r.iter().map(cell).collect())
        .collect();
    let widths: Vec<usize> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].0.len())
                .max()
                .unwrap_or(0)
                .max(c.len())
        })
        .collect();
    let mut s = format!("{}: {}\n", t.name, t.title);
    let line = |items: Vec<(String, bool)>| -> String {
        let parts: Vec<String> = items
            .iter()
            .zip(&widths)
            .map(|((v, right), &w)| {
                if *right {
                    format!("{v:>w$}")
                } else {
                    format!("{v:<w$}")
                }
            })
            .collect();
        parts.join("  ").trim_end().to_string() + "\n"
    };
    let numeric: Vec<bool> = (0..t.columns.len())
        .map(|i| cells.iter().all(|r| r[i].1))
        .collect();
    s += &line(
        t.columns
            .iter()
            .zip(&numeric)
            .map(|(c, &n)| (c.clone(), n))
            .collect(),
    );
    for r in cells {
        s += &line(r);
    }
    for p in &t.provenance {
        s += &format!("  # {p}\n");
    }
    s
}

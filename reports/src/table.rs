//! A result table: named columns, rows of values, and the provenance of its numbers; written
//! as CSV or JSON, atomically.

use pelab_sim::{Error, Result};
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

/// A table of results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Short name (also the CSV file stem).
    pub name: String,
    /// What the table shows, one line.
    pub title: String,
    /// Column names.
    pub columns: Vec<String>,
    /// Rows (one value per column: numbers, strings, booleans or null).
    pub rows: Vec<Vec<Value>>,
    /// Where the numbers come from (estimator, library, distribution, samples, seed...).
    pub provenance: Vec<String>,
}

impl Table {
    /// An empty table.
    pub fn new(name: &str, title: &str, columns: &[&str]) -> Table {
        Table {
            name: name.into(),
            title: title.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
            provenance: Vec::new(),
        }
    }

    /// Appends a row; its length must match the columns.
    pub fn push(&mut self, row: Vec<Value>) -> Result<()> {
        if row.len() != self.columns.len() {
            return Err(Error::new(format!(
                "table {}: a row of {} values for {} columns",
                self.name,
                row.len(),
                self.columns.len()
            )));
        }
        self.rows.push(row);
        Ok(())
    }

    /// Index of a column.
    pub fn col(&self, name: &str) -> Result<usize> {
        self.columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| Error::new(format!("table {} has no column {name}", self.name)))
    }

    /// The table as CSV (RFC 4180, header line first; null cells empty).
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let cell = |v: &Value| -> String {
            match v {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }
        };
        // Writing to memory cannot fail.
        w.write_record(&self.columns).expect("in-memory CSV");
        for r in &self.rows {
            w.write_record(r.iter().map(cell)).expect("in-memory CSV");
        }
        String::from_utf8(w.into_inner().expect("in-memory CSV")).expect("UTF-8 CSV")
    }

    /// The table as JSON (rows as objects keyed by column).
    pub fn to_json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                Value::Object(
                    self.columns
                        .iter()
                        .cloned()
                        .zip(r.iter().cloned())
                        .collect(),
                )
            })
            .collect();
        serde_json::json!({
            "name": self.name,
            "title": self.title,
            "columns": self.columns,
            "rows": rows,
            "provenance": self.provenance,
        })
    }

    /// Writes `<dir>/<name>.csv` atomically.
    pub fn write_csv(&self, dir: &Path) -> Result<std::path::PathBuf> {
        let p = dir.join(format!("{}.csv", self.name));
        pelab_hdl::emit::write_atomic(&p, self.to_csv())?;
        Ok(p)
    }
}

// ---------------------------------------------------------------------------------------------
// Cells, lookups and Markdown, shared by the report's stages and studies.

/// A finite number as JSON, else null.
pub(crate) fn fnum(v: f64) -> Value {
    if v.is_finite() {
        serde_json::json!(v)
    } else {
        Value::Null
    }
}

/// A cell as text (strings bare, null empty).
pub(crate) fn cell_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        o => o.to_string(),
    }
}

/// Rows of `t` whose columns equal the given texts.
pub(crate) fn rows<'a>(t: &'a Table, want: &[(&str, &str)]) -> Result<Vec<&'a [Value]>> {
    let idx = want
        .iter()
        .map(|(c, v)| Ok((t.col(c)?, *v)))
        .collect::<Result<Vec<_>>>()?;
    Ok(t.rows
        .iter()
        .filter(|r| idx.iter().all(|(i, v)| cell_str(&r[*i]) == *v))
        .map(|r| r.as_slice())
        .collect())
}

/// Column `col` of the first row matching `want`, as a number.
pub(crate) fn one(t: &Table, want: &[(&str, &str)], col: &str) -> Result<Option<f64>> {
    let c = t.col(col)?;
    Ok(rows(t, want)?.first().and_then(|r| r[c].as_f64()))
}

/// Column `col` of the first row matching `want`, as text.
pub(crate) fn one_text(t: &Table, want: &[(&str, &str)], col: &str) -> Result<Option<String>> {
    let c = t.col(col)?;
    Ok(rows(t, want)?.first().map(|r| cell_str(&r[c])))
}

/// The distinct whole numbers of column `col`, ascending.
pub(crate) fn distinct_u64(t: &Table, col: usize) -> Vec<u64> {
    let mut v: Vec<u64> = t.rows.iter().filter_map(|r| r[col].as_u64()).collect();
    v.sort();
    v.dedup();
    v
}

/// A fraction as a percentage with 3 significant digits.
pub(crate) fn pct(x: f64) -> String {
    format!("{}%", crate::plots::short(x * 100.0))
}

/// [`pct`], or "no figure".
pub(crate) fn opt_pct(x: Option<f64>) -> String {
    x.map_or("no figure".into(), pct)
}

/// A number with 3 significant digits, or a dash.
pub(crate) fn opt_short(v: Option<f64>) -> String {
    v.map_or("—".into(), crate::plots::short)
}

/// The text with its first letter in upper case.
pub(crate) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// A Markdown table cell: pipes escaped, no line breaks.
pub(crate) fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A Markdown table row.
pub(crate) fn md_row(cells: &[String]) -> String {
    let c: Vec<String> = cells.iter().map(|c| md(c)).collect();
    format!("| {} |\n", c.join(" | "))
}

/// A Markdown table header with its rule.
pub(crate) fn md_head(cols: &[&str]) -> String {
    let mut s = format!("| {} |\n", cols.join(" | "));
    s.push_str(&format!("|{}\n", "---|".repeat(cols.len())));
    s
}

/// How a column of [`md_table`] shows its cells; a cell that is not a number shows as a dash
/// in the numeric forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shown {
    /// The cell as it is ([`cell_str`]).
    Text,
    /// A number with 3 significant digits ([`opt_short`]).
    Short,
    /// A number with this many decimals.
    Fixed(usize),
    /// A number in scientific notation with 3 decimals.
    Sci,
}

impl Shown {
    /// The cell as Markdown text.
    fn show(self, v: &Value) -> String {
        match self {
            Shown::Text => cell_str(v),
            Shown::Short => opt_short(v.as_f64()),
            Shown::Fixed(d) => v.as_f64().map_or("—".into(), |x| format!("{x:.d$}")),
            Shown::Sci => v.as_f64().map_or("—".into(), |x| format!("{x:.3e}")),
        }
    }
}

/// Every row of `t` as a Markdown table, header included: one column per `(header, table
/// column, how it is shown)`.
pub(crate) fn md_table(t: &Table, columns: &[(&str, &str, Shown)]) -> Result<String> {
    let heads: Vec<&str> = columns.iter().map(|c| c.0).collect();
    let cols = columns
        .iter()
        .map(|&(_, name, shown)| Ok((t.col(name)?, shown)))
        .collect::<Result<Vec<_>>>()?;
    let mut s = md_head(&heads);
    for r in &t.rows {
        let cells: Vec<String> = cols.iter().map(|&(i, shown)| shown.show(&r[i])).collect();
        s.push_str(&md_row(&cells));
    }
    Ok(s)
}

/// The indices of the columns `names` of `t`.
pub(crate) fn cols<const N: usize>(t: &Table, names: [&str; N]) -> Result<[usize; N]> {
    let mut v = [0; N];
    for (i, n) in v.iter_mut().zip(names) {
        *i = t.col(n)?;
    }
    Ok(v)
}

/// A table's provenance as a Markdown list, then its CSV file.
pub(crate) fn provenance_md(t: &Table) -> String {
    let mut s = String::from("\n");
    for p in &t.provenance {
        s.push_str(&format!("- {}\n", p));
    }
    s.push_str(&format!("\nData: `{}.csv`.\n\n", t.name));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_quotes_and_checks_widths() {
        let mut t = Table::new("t", "test", &["a", "b"]);
        t.push(vec![json!(1.5), json!("x,y")]).unwrap();
        t.push(vec![Value::Null, json!("q\"")]).unwrap();
        assert!(t.push(vec![json!(1)]).is_err());
        let csv = t.to_csv();
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<Vec<String>> = r
            .records()
            .map(|x| x.unwrap().iter().map(String::from).collect())
            .collect();
        assert_eq!(rows, vec![vec!["1.5", "x,y"], vec!["", "q\""]]);
        assert_eq!(t.to_json()["rows"][0]["b"], "x,y");
        assert_eq!(md("a | b\nc"), "a \\| b c");
        assert_eq!(pct(0.9534), "95.3%");
    }
}

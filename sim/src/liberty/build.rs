//! Interpretation: turns the generic `library` group into a [`Library`], reading units,
//! nominal voltage, table templates, cells, pins, flip-flops, latches and
//! `internal_power` tables, and skipping everything pelab does not use.

use std::collections::{BTreeMap, HashMap};

use super::parser::{Group, Item, Val};
use super::{Cell, Direction, Expr, Ff, Library, Pin, PowerArc, Table, TimingArc, Units};
use crate::{bail, Error, Result};

fn number(v: &Val, path: &str, what: &str) -> Result<f64> {
    match v.text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => bail!(
            "{path}:{}: expected a number for {what}, found \"{}\"",
            v.line,
            v.text
        ),
    }
}

fn boolean(v: &Val, path: &str, what: &str) -> Result<bool> {
    match v.text.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => bail!(
            "{path}:{}: expected true or false for {what}, found \"{other}\"",
            v.line
        ),
    }
}

/// Comma- (or blank-) separated numbers in one string, as in `index_1("1, 2, 3")`.
fn number_list(v: &Val, path: &str, what: &str, out: &mut Vec<f64>) -> Result<()> {
    for part in v
        .text
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|s| !s.is_empty())
    {
        match part.parse::<f64>() {
            Ok(x) if x.is_finite() => out.push(x),
            _ => bail!(
                "{path}:{}: expected a number in {what}, found \"{part}\"",
                v.line
            ),
        }
    }
    Ok(())
}

/// The numbers of complex attribute `n` of `g` (`index_1 ("1, 2, 3")`), or `None` when
/// `g` has no such attribute.
fn number_attr(g: &Group, path: &str, n: &str) -> Result<Option<Vec<f64>>> {
    let Some((args, _)) = g.complex(n) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for a in args {
        number_list(a, path, n, &mut out)?;
    }
    Ok(Some(out))
}

/// Splits a unit like "1ns" or "10 ps" into its number and lower-cased suffix.
fn split_unit(text: &str) -> Option<(f64, String)> {
    let t = text.trim();
    let cut = t.find(|c: char| c.is_ascii_alphabetic())?;
    let num = t[..cut].trim();
    let num = if num.is_empty() {
        1.0
    } else {
        num.parse::<f64>().ok()?
    };
    Some((num, t[cut..].trim().to_ascii_lowercase()))
}

fn unit_scale(v: &Val, path: &str, what: &str, table: &[(&str, f64)]) -> Result<f64> {
    if let Some((n, suffix)) = split_unit(&v.text) {
        if let Some(&(_, f)) = table.iter().find(|(s, _)| *s == suffix) {
            return Ok(n * f);
        }
    }
    let choices: Vec<&str> = table.iter().map(|(s, _)| *s).collect();
    bail!(
        "{path}:{}: expected {what} like \"1{}\" (units {}), found \"{}\"",
        v.line,
        table[0].0,
        choices.join(", "),
        v.text
    )
}

const TIME_UNITS: &[(&str, f64)] = &[("ns", 1.0), ("ps", 1e-3), ("us", 1e3), ("fs", 1e-6)];
const VOLT_UNITS: &[(&str, f64)] = &[("v", 1.0), ("mv", 1e-3)];
const POWER_UNITS: &[(&str, f64)] = &[
    ("nw", 1.0),
    ("pw", 1e-3),
    ("uw", 1e3),
    ("mw", 1e6),
    ("w", 1e9),
    ("fw", 1e-6),
];
const CAP_UNITS: &[(&str, f64)] = &[("pf", 1e3), ("ff", 1.0), ("nf", 1e6)];

fn build_units(lib: &Group, path: &str) -> Result<Units> {
    let time_ns = match lib.simple("time_unit") {
        Some(v) => unit_scale(v, path, "time_unit", TIME_UNITS)?,
        None => 1.0,
    };
    let volt_v = match lib.simple("voltage_unit") {
        Some(v) => unit_scale(v, path, "voltage_unit", VOLT_UNITS)?,
        None => 1.0,
    };
    let leakage_nw = match lib.simple("leakage_power_unit") {
        Some(v) => unit_scale(v, path, "leakage_power_unit", POWER_UNITS)?,
        None => bail!(
            "{path}:{}: library '{}' has no leakage_power_unit: expected e.g. leakage_power_unit : \"1nW\";",
            lib.line,
            lib.arg0().unwrap_or("")
        ),
    };
    let cap_ff = match lib.complex("capacitive_load_unit") {
        Some((args, line)) => {
            if args.len() != 2 {
                bail!("{path}:{line}: expected capacitive_load_unit (number, ff|pf)");
            }
            let n = number(&args[0], path, "capacitive_load_unit")?;
            match CAP_UNITS
                .iter()
                .find(|(s, _)| args[1].text.trim().eq_ignore_ascii_case(s))
            {
                Some(&(_, f)) => n * f,
                None => bail!(
                    "{path}:{line}: expected capacitive_load_unit unit ff or pf, found \"{}\"",
                    args[1].text
                ),
            }
        }
        None => bail!(
            "{path}:{}: library '{}' has no capacitive_load_unit: expected e.g. capacitive_load_unit (1, pf);",
            lib.line,
            lib.arg0().unwrap_or("")
        ),
    };
    Ok(Units {
        time_ns,
        cap_ff,
        leakage_nw,
        energy_fj: cap_ff * volt_v * volt_v,
    })
}

fn build_nom_voltage(lib: &Group, path: &str) -> Result<f64> {
    if let Some(v) = lib.simple("nom_voltage") {
        return number(v, path, "nom_voltage");
    }
    let conds: Vec<&Group> = lib.groups("operating_conditions").collect();
    let chosen = match lib.simple("default_operating_conditions") {
        Some(d) => match conds.iter().find(|g| g.arg0() == Some(d.text.as_ref())) {
            Some(g) => Some(*g),
            None => bail!(
                "{path}:{}: default_operating_conditions names '{}', but no operating_conditions group has that name",
                d.line,
                d.text
            ),
        },
        None if conds.len() == 1 => Some(conds[0]),
        None => None,
    };
    match chosen.and_then(|g| g.simple("voltage")) {
        Some(v) => number(v, path, "operating_conditions voltage"),
        None => bail!(
            "{path}:{}: library '{}' has no nominal voltage: expected nom_voltage or a default operating_conditions group with a voltage",
            lib.line,
            lib.arg0().unwrap_or("")
        ),
    }
}

/// A `lu_table_template` or `power_lut_template`.
struct Template {
    var1: String,
    var2: Option<String>,
    index_1: Vec<f64>,
    index_2: Vec<f64>,
}

fn build_template(g: &Group, path: &str) -> Result<Template> {
    let var = |n: &str| g.simple(n).map(|v| v.text.trim().to_string());
    let index = |n: &str| -> Result<Vec<f64>> { Ok(number_attr(g, path, n)?.unwrap_or_default()) };
    Ok(Template {
        var1: var("variable_1").unwrap_or_default(),
        var2: var("variable_2"),
        index_1: index("index_1")?,
        index_2: index("index_2")?,
    })
}

struct Ctx<'t> {
    path: &'t str,
    units: Units,
    power_templates: HashMap<String, Template>,
    lu_templates: HashMap<String, Template>,
}

impl Ctx<'_> {
    fn table(&self, g: &Group, cell: &str, pin: &str) -> Result<Table> {
        let path = self.path;
        let tname = g.arg0().unwrap_or("").trim();
        let template = if tname == "scalar" {
            None
        } else {
            match self
                .power_templates
                .get(tname)
                .or_else(|| self.lu_templates.get(tname))
            {
                Some(t) => Some(t),
                None => bail!(
                    "{path}:{}: cell '{cell}' pin '{pin}': table '{}' uses template '{tname}', which is not defined by a power_lut_template or lu_table_template group",
                    g.line,
                    g.name
                ),
            }
        };
        let own_index = |n: &str| number_attr(g, path, n);
        let (var1, var2, index_1, index_2) = match template {
            None => (String::new(), None, Vec::new(), Vec::new()),
            Some(t) => {
                let i1 = own_index("index_1")?.unwrap_or_else(|| t.index_1.clone());
                let i2 = match &t.var2 {
                    Some(_) => own_index("index_2")?.unwrap_or_else(|| t.index_2.clone()),
                    None => Vec::new(),
                };
                (t.var1.clone(), t.var2.clone(), i1, i2)
            }
        };
        for (n, ix) in [("index_1", &index_1), ("index_2", &index_2)] {
            if ix.windows(2).any(|w| w[1] <= w[0]) {
                bail!(
                    "{path}:{}: cell '{cell}' pin '{pin}': {n} of table '{}' must be increasing",
                    g.line,
                    g.name
                );
            }
        }
        let (vargs, vline) = match g.complex("values") {
            Some(v) => v,
            None => bail!(
                "{path}:{}: cell '{cell}' pin '{pin}': expected values (...) in table '{}'",
                g.line,
                g.name
            ),
        };
        // No capacity from the indices: their product may be far larger than the file.
        let mut values = Vec::new();
        for a in vargs {
            number_list(a, path, "values", &mut values)?;
        }
        let want = index_1.len().max(1) * index_2.len().max(1);
        if values.len() != want {
            bail!(
                "{path}:{vline}: cell '{cell}' pin '{pin}': table '{}' has {} values, but its indices call for {} x {} = {want}",
                g.name,
                values.len(),
                index_1.len().max(1),
                index_2.len().max(1)
            );
        }
        Ok(Table {
            var1,
            var2,
            index_1,
            index_2,
            values,
            units: self.units,
        })
    }

    fn expr(&self, v: &Val, cell: &str, owner: &str, what: &str) -> Result<Expr> {
        Expr::parse(&v.text).map_err(|e| {
            Error::new(format!(
                "{}:{}: cell '{cell}' {owner}: bad {what} \"{}\": {e}",
                self.path, v.line, v.text
            ))
        })
    }

    fn power_arc(&self, g: &Group, cell: &str, pin: &str) -> Result<PowerArc> {
        let mut arc = PowerArc {
            related_pin: g.simple("related_pin").map(|v| v.text.trim().to_string()),
            when: g.simple("when").map(|v| v.text.trim().to_string()),
            rise: None,
            fall: None,
        };
        for it in &g.items {
            if let Item::Group(t) = it {
                match t.name {
                    "rise_power" => arc.rise = Some(self.table(t, cell, pin)?),
                    "fall_power" => arc.fall = Some(self.table(t, cell, pin)?),
                    "power" => {
                        let table = self.table(t, cell, pin)?;
                        arc.rise = Some(table.clone());
                        arc.fall = Some(table);
                    }
                    _ => {}
                }
            }
        }
        Ok(arc)
    }

    fn timing_arc(&self, g: &Group, cell: &str, pin: &str) -> Result<TimingArc> {
        let text = |n: &str| g.simple(n).map(|v| v.text.trim().to_string());
        let mut arc = TimingArc {
            line: g.line,
            related_pin: text("related_pin"),
            timing_type: text("timing_type").unwrap_or_else(|| "combinational".into()),
            timing_sense: text("timing_sense"),
            when: text("when"),
            cell_rise: None,
            cell_fall: None,
            rise_transition: None,
            fall_transition: None,
        };
        for it in &g.items {
            if let Item::Group(t) = it {
                let slot = match t.name {
                    "cell_rise" => &mut arc.cell_rise,
                    "cell_fall" => &mut arc.cell_fall,
                    "rise_transition" => &mut arc.rise_transition,
                    "fall_transition" => &mut arc.fall_transition,
                    _ => continue,
                };
                *slot = Some(self.table(t, cell, pin)?);
            }
        }
        Ok(arc)
    }

    /// One `pin` group, which may name several pins sharing its attributes.
    fn pins(&self, g: &Group, cell: &str, out: &mut Vec<Pin>) -> Result<()> {
        let path = self.path;
        if g.args.is_empty() {
            bail!(
                "{path}:{}: cell '{cell}': expected a pin name in 'pin ( )'",
                g.line
            );
        }
        let first = g.args[0].text.trim().to_string();
        let direction = match g.simple("direction") {
            Some(v) => match v.text.trim() {
                "input" => Direction::Input,
                "output" => Direction::Output,
                "inout" => Direction::Inout,
                "internal" => Direction::Internal,
                other => bail!(
                    "{path}:{}: cell '{cell}' pin '{first}': expected direction input, output, inout or internal, found \"{other}\"",
                    v.line
                ),
            },
            None => bail!(
                "{path}:{}: cell '{cell}' pin '{first}': expected a 'direction' attribute",
                g.line
            ),
        };
        let capacitance_ff = match g.simple("capacitance") {
            Some(v) => Some(
                number(
                    v,
                    path,
                    &format!("the capacitance of cell '{cell}' pin '{first}'"),
                )? * self.units.cap_ff,
            ),
            None => None,
        };
        let owner = format!("pin '{first}'");
        let function = match g.simple("function") {
            Some(v) => Some(self.expr(v, cell, &owner, "function")?),
            None => None,
        };
        let three_state = g.simple("three_state").map(|v| v.text.trim().to_string());
        let clock = match g.simple("clock") {
            Some(v) => boolean(v, path, &format!("clock of cell '{cell}' pin '{first}'"))?,
            None => false,
        };
        let internal_power = g
            .groups("internal_power")
            .map(|ip| self.power_arc(ip, cell, &first))
            .collect::<Result<Vec<_>>>()?;
        let timing = g
            .groups("timing")
            .map(|t| self.timing_arc(t, cell, &first))
            .collect::<Result<Vec<_>>>()?;
        for name in &g.args {
            let name = name.text.trim().to_string();
            if out.iter().any(|p| p.name == name) {
                bail!(
                    "{path}:{}: cell '{cell}': pin '{name}' is defined twice",
                    g.line
                );
            }
            out.push(Pin {
                name,
                direction,
                capacitance_ff,
                function: function.clone(),
                three_state: three_state.clone(),
                clock,
                internal_power: internal_power.clone(),
                timing: timing.clone(),
            });
        }
        Ok(())
    }

    fn ff(&self, g: &Group, cell: &str) -> Result<Ff> {
        let path = self.path;
        if g.args.len() != 2 {
            bail!(
                "{path}:{}: cell '{cell}': expected ff (IQ, IQN) with two names, found {}",
                g.line,
                g.args.len()
            );
        }
        let required = |n: &str| -> Result<Expr> {
            match g.simple(n) {
                Some(v) => self.expr(v, cell, "ff", n),
                None => bail!(
                    "{path}:{}: cell '{cell}': expected '{n}' in the ff group",
                    g.line
                ),
            }
        };
        let optional = |n: &str| -> Result<Option<Expr>> {
            g.simple(n).map(|v| self.expr(v, cell, "ff", n)).transpose()
        };
        Ok(Ff {
            iq: g.args[0].text.trim().to_string(),
            iqn: g.args[1].text.trim().to_string(),
            clocked_on: required("clocked_on")?,
            next_state: required("next_state")?,
            clear: optional("clear")?,
            preset: optional("preset")?,
        })
    }

    fn cell(&self, g: &Group) -> Result<Cell> {
        let path = self.path;
        let name = match g.arg0() {
            Some(n) if !n.trim().is_empty() => n.trim().to_string(),
            _ => bail!("{path}:{}: expected a cell name in 'cell ( )'", g.line),
        };
        let mut cell = Cell {
            name: name.clone(),
            line: g.line,
            area: 0.0,
            leakage_nw: None,
            dont_use: false,
            pins: Vec::new(),
            ff: None,
            latch: false,
            latch_vars: Vec::new(),
        };
        for it in &g.items {
            match it {
                Item::Simple { name: a, value, .. } => match *a {
                    "area" => {
                        cell.area = number(value, path, &format!("the area of cell '{name}'"))?
                    }
                    "cell_leakage_power" => {
                        cell.leakage_nw = Some(
                            number(
                                value,
                                path,
                                &format!("the cell_leakage_power of cell '{name}'"),
                            )? * self.units.leakage_nw,
                        )
                    }
                    "dont_use" => {
                        cell.dont_use = boolean(value, path, &format!("dont_use of cell '{name}'"))?
                    }
                    _ => {}
                },
                Item::Complex { .. } => {}
                Item::Group(sub) => match sub.name {
                    "pin" => self.pins(sub, &name, &mut cell.pins)?,
                    "bus" | "bundle" => bail!(
                        "{path}:{}: cell '{name}': {} pins are not supported",
                        sub.line,
                        sub.name
                    ),
                    "ff" => {
                        if cell.ff.is_some() {
                            bail!(
                                "{path}:{}: cell '{name}': more than one ff group is not supported",
                                sub.line
                            );
                        }
                        cell.ff = Some(self.ff(sub, &name)?);
                    }
                    "latch" => {
                        cell.latch = true;
                        for a in &sub.args {
                            cell.latch_vars.push(a.text.trim().to_string());
                        }
                    }
                    "statetable" => {
                        cell.latch = true;
                        if let Some(nodes) = sub.args.get(1) {
                            for n in nodes.text.split_whitespace() {
                                cell.latch_vars.push(n.to_string());
                            }
                        }
                    }
                    "latch_bank" | "ff_bank" => cell.latch = true,
                    _ => {}
                },
            }
        }
        Ok(cell)
    }
}

/// Builds the [`Library`] from the top-level `library` group.
pub(super) fn build_library(lib: &Group, path: &str) -> Result<Library> {
    let name = lib.arg0().unwrap_or("").trim().to_string();
    let units = build_units(lib, path)?;
    let nom_voltage = build_nom_voltage(lib, path)?;
    let mut ctx = Ctx {
        path,
        units,
        power_templates: HashMap::new(),
        lu_templates: HashMap::new(),
    };
    for it in &lib.items {
        if let Item::Group(g) = it {
            let map = match g.name {
                "power_lut_template" => &mut ctx.power_templates,
                "lu_table_template" => &mut ctx.lu_templates,
                _ => continue,
            };
            let tname = g.arg0().unwrap_or("").trim().to_string();
            map.insert(tname, build_template(g, path)?);
        }
    }
    let mut cells = BTreeMap::new();
    for g in lib.groups("cell") {
        let cell = ctx.cell(g)?;
        if let Some(old) = cells.get(&cell.name) {
            let old: &Cell = old;
            bail!(
                "{path}:{}: cell '{}' is defined twice (first at line {})",
                g.line,
                cell.name,
                old.line
            );
        }
        cells.insert(cell.name.clone(), cell);
    }
    Ok(Library {
        name,
        path: path.to_string(),
        units,
        nom_voltage,
        cells,
    })
}

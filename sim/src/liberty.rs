//! Liberty (`.lib`) reader: the cells, pins, logic functions, flip-flops, units and
//! internal-power tables that the gate-level energy model needs.
//!
//! The reader is hand-written: a tokenizer that keeps line numbers, a recursive parser
//! that turns the text into generic groups and attributes, and an interpreter that picks
//! out what pelab uses and skips everything else (timing arcs, wire loads, `pg_pin`,
//! `test_cell`, unknown groups and attributes). Every error names the file and the line.
//!
//! ```no_run
//! let lib = pelab_sim::liberty::read(std::path::Path::new("cells.lib.gz"))?;
//! let nand = lib.cell("NAND2_X1")?;
//! for pin in nand.outputs() {
//!     println!("{} = {:?}", pin.name, pin.function);
//! }
//! # Ok::<(), pelab_sim::Error>(())
//! ```

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;

use crate::{bail, Error, Result};

// ---------------------------------------------------------------------------------------
// Public data model
// ---------------------------------------------------------------------------------------

/// A Liberty library: its units, nominal voltage and cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Library {
    /// The name given in `library (name)`.
    pub name: String,
    /// The path (or label) the library was read from; used in error messages.
    pub path: String,
    /// The library's units, as scale factors to ns, fF, nW and fJ.
    pub units: Units,
    /// Nominal supply voltage in volts: `nom_voltage`, or else the `voltage` of the default
    /// (or only) `operating_conditions` group.
    pub nom_voltage: f64,
    /// Cells by name.
    pub cells: BTreeMap<String, Cell>,
}

/// Scale factors from the library's units to the units pelab works in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Units {
    /// One `time_unit` in nanoseconds.
    pub time_ns: f64,
    /// One `capacitive_load_unit` in femtofarads.
    pub cap_ff: f64,
    /// One `leakage_power_unit` in nanowatts.
    pub leakage_nw: f64,
    /// One unit of an `internal_power` table in femtojoules: capacitive load unit times
    /// voltage unit squared (pF x V^2 = pJ gives 1000.0).
    pub energy_fj: f64,
}

/// One cell of a library.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Cell name.
    pub name: String,
    /// Line of the `cell (...)` group in the library file.
    pub line: usize,
    /// `area`, in the library's area unit (0.0 when absent).
    pub area: f64,
    /// `cell_leakage_power` scaled to nW; `None` when the cell has none.
    pub leakage_nw: Option<f64>,
    /// `dont_use : true`.
    pub dont_use: bool,
    /// Signal pins in file order (`pg_pin` groups are not included).
    pub pins: Vec<Pin>,
    /// The cell's `ff` group, if any.
    pub ff: Option<Ff>,
    /// True when the cell has a `latch`, `latch_bank`, `ff_bank` or `statetable` group:
    /// sequential behaviour that pelab's callers do not model.
    pub latch: bool,
    /// State variable names declared by `latch` groups and the internal nodes of
    /// `statetable` groups, so that functions naming them can be told apart from typos.
    pub latch_vars: Vec<String>,
}

/// Direction of a pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `direction : input`.
    Input,
    /// `direction : output`.
    Output,
    /// `direction : inout`.
    Inout,
    /// `direction : internal`.
    Internal,
}

/// One signal pin of a cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Pin {
    /// Pin name.
    pub name: String,
    /// Pin direction.
    pub direction: Direction,
    /// `capacitance` scaled to fF; `None` when absent.
    pub capacitance_ff: Option<f64>,
    /// Parsed `function`; `None` when absent.
    pub function: Option<Expr>,
    /// `three_state` condition as written in the library (the output is high impedance
    /// when it is true).
    pub three_state: Option<String>,
    /// `clock : true`.
    pub clock: bool,
    /// The pin's `internal_power` groups in file order.
    pub internal_power: Vec<PowerArc>,
}

/// One `internal_power` group of a pin.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerArc {
    /// `related_pin`, as written (may name several pins separated by spaces).
    pub related_pin: Option<String>,
    /// `when` condition, as written.
    pub when: Option<String>,
    /// `rise_power` table (or the `power` table, which stands for both).
    pub rise: Option<Table>,
    /// `fall_power` table (or the `power` table, which stands for both).
    pub fall: Option<Table>,
}

/// A lookup table (`rise_power`, `fall_power`, `power`) with its template's variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// `variable_1` of the template (empty for a `scalar` table).
    pub var1: String,
    /// `variable_2` of the template, if it has one.
    pub var2: Option<String>,
    /// Breakpoints of the first variable, in library units (empty for a scalar table).
    pub index_1: Vec<f64>,
    /// Breakpoints of the second variable, in library units (empty for 0-D and 1-D tables).
    pub index_2: Vec<f64>,
    /// Values row-major: `index_1.len()` rows of `index_2.len()` columns (one column for a
    /// 1-D table, a single value for a scalar table), in the table's raw unit.
    pub values: Vec<f64>,
    /// The library's units, used by [`Table::lookup`] to convert its arguments.
    pub units: Units,
}

/// A flip-flop (`ff (IQ, IQN) { ... }`).
#[derive(Debug, Clone, PartialEq)]
pub struct Ff {
    /// Name of the state variable (first argument of `ff`).
    pub iq: String,
    /// Name of the inverted state variable (second argument of `ff`).
    pub iqn: String,
    /// `clocked_on`: the state is loaded on this expression's rising edge.
    pub clocked_on: Expr,
    /// `next_state`: the value loaded.
    pub next_state: Expr,
    /// `clear`: asynchronous clear condition.
    pub clear: Option<Expr>,
    /// `preset`: asynchronous preset condition.
    pub preset: Option<Expr>,
}

/// A Boolean expression in Liberty `function` syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `0` or `1`.
    Const(bool),
    /// A pin or state variable name.
    Var(String),
    /// `!x` or `x'`.
    Not(Box<Expr>),
    /// `x & y`, `x * y` or `x y`.
    And(Box<Expr>, Box<Expr>),
    /// `x | y` or `x + y`.
    Or(Box<Expr>, Box<Expr>),
    /// `x ^ y`.
    Xor(Box<Expr>, Box<Expr>),
}

// ---------------------------------------------------------------------------------------
// Public functions and methods
// ---------------------------------------------------------------------------------------

/// Reads a Liberty file, gunzipping it when it starts with the gzip magic bytes.
pub fn read(path: &Path) -> Result<Library> {
    let shown = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| Error::new(format!("{shown}: cannot read: {e}")))?;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(bytes.len() * 6);
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::new(format!("{shown}: cannot decompress gzip data: {e}")))?;
        out
    } else {
        bytes
    };
    let text = String::from_utf8_lossy(&bytes);
    parse_str(&text, &shown)
}

/// Parses Liberty text; `path` is used only in error messages and [`Library::path`].
pub fn parse_str(text: &str, path: &str) -> Result<Library> {
    let mut parser = Parser {
        lex: Lexer::new(text, path),
        peeked: None,
    };
    let top = parser.parse_top()?;
    build_library(&top, path)
}

impl Library {
    /// The cell called `name`, or an error naming the cell and the library file.
    pub fn cell(&self, name: &str) -> Result<&Cell> {
        self.cells.get(name).ok_or_else(|| {
            Error::new(format!(
                "cell '{name}' not found in library '{}' ({})",
                self.name, self.path
            ))
        })
    }
}

impl Cell {
    /// The pin called `name`.
    pub fn pin(&self, name: &str) -> Option<&Pin> {
        self.pins.iter().find(|p| p.name == name)
    }

    /// Pins that drive a value: `output` and `inout` pins.
    pub fn outputs(&self) -> impl Iterator<Item = &Pin> {
        self.pins
            .iter()
            .filter(|p| matches!(p.direction, Direction::Output | Direction::Inout))
    }

    /// Pins that receive a value: `input` and `inout` pins.
    pub fn inputs(&self) -> impl Iterator<Item = &Pin> {
        self.pins
            .iter()
            .filter(|p| matches!(p.direction, Direction::Input | Direction::Inout))
    }
}

/// What a table variable measures, as far as [`Table::lookup`] is concerned.
#[derive(Clone, Copy, PartialEq, Eq)]
enum VarKind {
    Slew,
    Load,
    Unknown,
}

fn var_kind(name: &str) -> VarKind {
    if name.contains("transition") {
        VarKind::Slew
    } else if name.contains("capacitance") {
        VarKind::Load
    } else {
        VarKind::Unknown
    }
}

/// Position of `x` on the breakpoints `ix`: the two bracketing indices and the fraction
/// between them (outside the ends, the first or last segment, extrapolated linearly).
fn axis_position(ix: &[f64], x: f64) -> (usize, usize, f64) {
    if ix.len() < 2 {
        return (0, 0, 0.0);
    }
    let above = ix.partition_point(|&v| v <= x);
    let lo = above.saturating_sub(1).min(ix.len() - 2);
    let hi = lo + 1;
    let span = ix[hi] - ix[lo];
    let t = if span == 0.0 {
        0.0
    } else {
        (x - ix[lo]) / span
    };
    (lo, hi, t)
}

impl Table {
    /// Value at input slew `slew_ns` (ns) and output load `load_ff` (fF), in the table's raw
    /// unit. Interpolates bilinearly and extrapolates linearly beyond the table's ends.
    ///
    /// The template's variable names decide which index is the slew (names containing
    /// `transition`) and which is the load (names containing `capacitance`); a variable
    /// with another name takes the slew when it is `variable_1` and the load when it is
    /// `variable_2`. A scalar table returns its one value.
    pub fn lookup(&self, slew_ns: f64, load_ff: f64) -> f64 {
        if self.values.len() == 1 {
            return self.values[0];
        }
        let slew = slew_ns / self.units.time_ns;
        let load = load_ff / self.units.cap_ff;
        let arg = |var: &str, first: bool| match var_kind(var) {
            VarKind::Slew => slew,
            VarKind::Load => load,
            VarKind::Unknown if first => slew,
            VarKind::Unknown => load,
        };
        let (i0, i1, t) = axis_position(&self.index_1, arg(&self.var1, true));
        let (j0, j1, u) = match &self.var2 {
            Some(v) if !self.index_2.is_empty() => axis_position(&self.index_2, arg(v, false)),
            _ => (0, 0, 0.0),
        };
        let cols = self.index_2.len().max(1);
        let at = |i: usize, j: usize| self.values.get(i * cols + j).copied().unwrap_or(0.0);
        at(i0, j0) * (1.0 - t) * (1.0 - u)
            + at(i1, j0) * t * (1.0 - u)
            + at(i0, j1) * (1.0 - t) * u
            + at(i1, j1) * t * u
    }
}

// ---------------------------------------------------------------------------------------
// Boolean expressions
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum ETok {
    Name(String),
    Not,
    Postfix,
    And,
    Or,
    Xor,
    LParen,
    RParen,
    End,
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'[' | b']' | b'.' | b'$')
}

struct ExprParser<'s> {
    src: &'s str,
    pos: usize,
    tok: ETok,
    tok_pos: usize,
}

impl<'s> ExprParser<'s> {
    fn advance(&mut self) -> Result<()> {
        let b = self.src.as_bytes();
        while self.pos < b.len() && b[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        self.tok_pos = self.pos;
        if self.pos == b.len() {
            self.tok = ETok::End;
            return Ok(());
        }
        let c = b[self.pos];
        self.pos += 1;
        self.tok = match c {
            b'!' => ETok::Not,
            b'\'' => ETok::Postfix,
            b'&' | b'*' => ETok::And,
            b'|' | b'+' => ETok::Or,
            b'^' => ETok::Xor,
            b'(' => ETok::LParen,
            b')' => ETok::RParen,
            c if is_name_byte(c) => {
                let start = self.pos - 1;
                while self.pos < b.len() && is_name_byte(b[self.pos]) {
                    self.pos += 1;
                }
                ETok::Name(self.src[start..self.pos].to_string())
            }
            _ => {
                let ch = self.src[self.tok_pos..].chars().next().unwrap_or('?');
                // Step over the whole character so that slicing stays on a boundary.
                self.pos = self.tok_pos + ch.len_utf8();
                bail!(
                    "unexpected character '{ch}' at position {} of \"{}\"",
                    self.tok_pos + 1,
                    self.src
                )
            }
        };
        Ok(())
    }

    fn err<T>(&self, expected: &str) -> Result<T> {
        let found = match &self.tok {
            ETok::End => "the end".to_string(),
            ETok::Name(n) => format!("'{n}'"),
            _ => format!("'{}'", &self.src[self.tok_pos..self.pos]),
        };
        bail!(
            "expected {expected} at position {} of \"{}\", found {found}",
            self.tok_pos + 1,
            self.src
        )
    }

    fn or(&mut self) -> Result<Expr> {
        let mut left = self.xor()?;
        while self.tok == ETok::Or {
            self.advance()?;
            let right = self.xor()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn xor(&mut self) -> Result<Expr> {
        let mut left = self.and()?;
        while self.tok == ETok::Xor {
            self.advance()?;
            let right = self.and()?;
            left = Expr::Xor(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr> {
        let mut left = self.unary()?;
        loop {
            match self.tok {
                ETok::And => self.advance()?,
                // Juxtaposition: an operand right after an operand is an AND.
                ETok::Name(_) | ETok::Not | ETok::LParen => {}
                _ => break,
            }
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr> {
        if self.tok == ETok::Not {
            self.advance()?;
            let inner = self.unary()?;
            return Ok(Expr::Not(Box::new(inner)));
        }
        let mut e = self.primary()?;
        while self.tok == ETok::Postfix {
            self.advance()?;
            e = Expr::Not(Box::new(e));
        }
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr> {
        match std::mem::replace(&mut self.tok, ETok::End) {
            ETok::Name(n) => {
                let e = match n.as_str() {
                    "0" => Expr::Const(false),
                    "1" => Expr::Const(true),
                    _ if n.as_bytes()[0].is_ascii_digit() => {
                        self.tok = ETok::Name(n.clone());
                        return self.err("a pin name or the constant 0 or 1");
                    }
                    _ => Expr::Var(n),
                };
                self.advance()?;
                Ok(e)
            }
            ETok::LParen => {
                self.advance()?;
                let e = self.or()?;
                if self.tok != ETok::RParen {
                    return self.err("')'");
                }
                self.advance()?;
                Ok(e)
            }
            other => {
                self.tok = other;
                self.err("a pin name, a constant, '!' or '('")
            }
        }
    }
}

impl Expr {
    /// Parses a Liberty Boolean expression: `!x` and `x'` (NOT), `&`, `*` and juxtaposition
    /// (AND), `^` (XOR), `|` and `+` (OR), parentheses and the constants `0` and `1`.
    /// Precedence from tightest: NOT, AND, XOR, OR.
    pub fn parse(s: &str) -> Result<Expr> {
        let mut p = ExprParser {
            src: s,
            pos: 0,
            tok: ETok::End,
            tok_pos: 0,
        };
        p.advance()?;
        let e = p.or()?;
        if p.tok != ETok::End {
            return p.err("an operator or the end");
        }
        Ok(e)
    }

    /// Evaluates the expression, asking `env` for the value of each variable.
    pub fn eval(&self, env: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Expr::Const(b) => *b,
            Expr::Var(v) => env(v),
            Expr::Not(a) => !a.eval(env),
            Expr::And(a, b) => a.eval(env) && b.eval(env),
            Expr::Or(a, b) => a.eval(env) || b.eval(env),
            Expr::Xor(a, b) => a.eval(env) ^ b.eval(env),
        }
    }

    /// The variable names used, sorted and without repeats.
    pub fn vars(&self) -> Vec<String> {
        fn walk<'e>(e: &'e Expr, out: &mut BTreeSet<&'e str>) {
            match e {
                Expr::Const(_) => {}
                Expr::Var(v) => {
                    out.insert(v);
                }
                Expr::Not(a) => walk(a, out),
                Expr::And(a, b) | Expr::Or(a, b) | Expr::Xor(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
            }
        }
        let mut set = BTreeSet::new();
        walk(self, &mut set);
        set.into_iter().map(str::to_string).collect()
    }
}

// ---------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    /// An unquoted word: identifier, number, or anything else without delimiters.
    Word(&'a str),
    /// A quoted string, without its quotes.
    Str(Cow<'a, str>),
    LParen,
    RParen,
    LBrace,
    RBrace,
    Colon,
    Semi,
    Comma,
    Eof,
}

impl Tok<'_> {
    fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("'{w}'"),
            Tok::Str(s) => format!("\"{s}\""),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::LBrace => "'{'".into(),
            Tok::RBrace => "'}'".into(),
            Tok::Colon => "':'".into(),
            Tok::Semi => "';'".into(),
            Tok::Comma => "','".into(),
            Tok::Eof => "the end of the file".into(),
        }
    }
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
    path: &'a str,
}

fn is_word_byte(b: u8) -> bool {
    !b.is_ascii_whitespace() && !matches!(b, b'(' | b')' | b'{' | b'}' | b':' | b';' | b',' | b'"')
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str, path: &'a str) -> Self {
        Lexer {
            src,
            pos: 0,
            line: 1,
            path,
        }
    }

    /// Skips whitespace, comments and backslash line continuations.
    fn skip_blank(&mut self) -> Result<()> {
        let b = self.src.as_bytes();
        while self.pos < b.len() {
            match b[self.pos] {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                c if c.is_ascii_whitespace() => self.pos += 1,
                b'\\' => {
                    // A continuation: backslash, optional blanks, newline.
                    let mut p = self.pos + 1;
                    while p < b.len() && matches!(b[p], b' ' | b'\t' | b'\r') {
                        p += 1;
                    }
                    // The newline itself is left for the next turn, which counts it.
                    if p == b.len() || b[p] == b'\n' {
                        self.pos = p;
                    } else {
                        bail!(
                            "{}:{}: expected a newline after '\\' (line continuation)",
                            self.path,
                            self.line
                        );
                    }
                }
                b'/' if b.get(self.pos + 1) == Some(&b'*') => {
                    let start = self.line;
                    let body = &self.src[self.pos + 2..];
                    match body.find("*/") {
                        Some(end) => {
                            self.line += body[..end].bytes().filter(|&c| c == b'\n').count();
                            self.pos += 2 + end + 2;
                        }
                        None => bail!(
                            "{}:{}: unterminated comment: expected '*/' before the end of the file",
                            self.path,
                            start
                        ),
                    }
                }
                b'/' if b.get(self.pos + 1) == Some(&b'/') => {
                    while self.pos < b.len() && b[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
        Ok(())
    }

    /// The next token and the line it starts on.
    fn next(&mut self) -> Result<(Tok<'a>, usize)> {
        self.skip_blank()?;
        let b = self.src.as_bytes();
        let line = self.line;
        if self.pos >= b.len() {
            return Ok((Tok::Eof, line));
        }
        let c = b[self.pos];
        let single = match c {
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b'{' => Some(Tok::LBrace),
            b'}' => Some(Tok::RBrace),
            b':' => Some(Tok::Colon),
            b';' => Some(Tok::Semi),
            b',' => Some(Tok::Comma),
            _ => None,
        };
        if let Some(t) = single {
            self.pos += 1;
            return Ok((t, line));
        }
        if c == b'"' {
            return self.string(line);
        }
        let start = self.pos;
        while self.pos < b.len() && is_word_byte(b[self.pos]) {
            if b[self.pos] == b'/' && matches!(b.get(self.pos + 1), Some(b'*') | Some(b'/')) {
                break;
            }
            if b[self.pos] == b'\\' {
                break;
            }
            self.pos += 1;
        }
        if self.pos == start {
            // Only a backslash that is not a continuation can get here.
            bail!("{}:{}: unexpected character '\\'", self.path, line);
        }
        Ok((Tok::Word(&self.src[start..self.pos]), line))
    }

    fn string(&mut self, line: usize) -> Result<(Tok<'a>, usize)> {
        let b = self.src.as_bytes();
        let start = self.pos + 1;
        let mut p = start;
        let mut plain = true;
        while p < b.len() {
            match b[p] {
                b'"' => break,
                b'\\' => {
                    plain = false;
                    p += 2;
                }
                b'\n' => {
                    self.line += 1;
                    p += 1;
                }
                _ => p += 1,
            }
        }
        if p >= b.len() {
            bail!(
                "{}:{}: unterminated string: expected '\"' before the end of the file",
                self.path,
                line
            );
        }
        let raw = &self.src[start..p];
        self.pos = p + 1;
        if plain {
            return Ok((Tok::Str(Cow::Borrowed(raw)), line));
        }
        // Escapes: backslash-newline joins lines, backslash-quote is a quote.
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.chars().peekable();
        while let Some(ch) = chars.next() {
            if ch != '\\' {
                out.push(ch);
                continue;
            }
            match chars.peek().copied() {
                Some('\n') => {
                    chars.next();
                }
                Some('\r') => {
                    chars.next();
                    if chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                }
                Some('"') | Some('\\') => out.push(chars.next().unwrap_or('\\')),
                _ => out.push('\\'),
            }
        }
        Ok((Tok::Str(Cow::Owned(out)), line))
    }
}

// ---------------------------------------------------------------------------------------
// Generic parser: groups, simple and complex attributes
// ---------------------------------------------------------------------------------------

/// A value in an attribute or a group's argument list, with the line it is on.
#[derive(Debug, Clone)]
struct Val<'a> {
    text: Cow<'a, str>,
    line: usize,
}

#[derive(Debug)]
enum Item<'a> {
    /// `name : value ;`
    Simple { name: &'a str, value: Val<'a> },
    /// `name ( args ) ;`
    Complex {
        name: &'a str,
        args: Vec<Val<'a>>,
        line: usize,
    },
    /// `name ( args ) { items }`
    Group(Group<'a>),
}

#[derive(Debug)]
struct Group<'a> {
    name: &'a str,
    args: Vec<Val<'a>>,
    line: usize,
    items: Vec<Item<'a>>,
}

impl<'a> Group<'a> {
    fn simple(&self, name: &str) -> Option<&Val<'a>> {
        self.items.iter().rev().find_map(|it| match it {
            Item::Simple { name: n, value, .. } if *n == name => Some(value),
            _ => None,
        })
    }

    fn complex(&self, name: &str) -> Option<(&[Val<'a>], usize)> {
        self.items.iter().rev().find_map(|it| match it {
            Item::Complex {
                name: n,
                args,
                line,
            } if *n == name => Some((args.as_slice(), *line)),
            _ => None,
        })
    }

    fn groups<'g>(&'g self, name: &'g str) -> impl Iterator<Item = &'g Group<'a>> + 'g {
        self.items.iter().filter_map(move |it| match it {
            Item::Group(g) if g.name == name => Some(g),
            _ => None,
        })
    }

    fn arg0(&self) -> Option<&str> {
        self.args.first().map(|v| v.text.as_ref())
    }
}

struct Parser<'a> {
    lex: Lexer<'a>,
    peeked: Option<(Tok<'a>, usize)>,
}

impl<'a> Parser<'a> {
    fn next(&mut self) -> Result<(Tok<'a>, usize)> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.lex.next(),
        }
    }

    fn peek(&mut self) -> Result<&(Tok<'a>, usize)> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lex.next()?);
        }
        Ok(self.peeked.as_ref().expect("just filled"))
    }

    fn path(&self) -> &'a str {
        self.lex.path
    }

    /// The whole file: one `library (...) { ... }` group and nothing after it.
    fn parse_top(&mut self) -> Result<Group<'a>> {
        let (tok, line) = self.next()?;
        let lib = match tok {
            Tok::Word(name) => match self.statement(name, line)? {
                Item::Group(g) if g.name == "library" => g,
                _ => bail!(
                    "{}:{}: expected 'library (name) {{ ... }}' at the start of the file",
                    self.path(),
                    line
                ),
            },
            other => bail!(
                "{}:{}: expected 'library (name) {{ ... }}', found {}",
                self.path(),
                line,
                other.describe()
            ),
        };
        let (tok, line) = self.next()?;
        if tok != Tok::Eof {
            bail!(
                "{}:{}: expected the end of the file after the library group, found {}",
                self.path(),
                line,
                tok.describe()
            );
        }
        Ok(lib)
    }

    /// One statement whose leading name has been read.
    fn statement(&mut self, name: &'a str, line: usize) -> Result<Item<'a>> {
        let (tok, tline) = self.next()?;
        match tok {
            Tok::Colon => {
                let (vt, vline) = self.next()?;
                let text = match vt {
                    Tok::Word(w) => Cow::Borrowed(w),
                    Tok::Str(s) => s,
                    other => bail!(
                        "{}:{}: expected a value after '{name} :', found {}",
                        self.path(),
                        vline,
                        other.describe()
                    ),
                };
                let (st, _) = self.next()?;
                if st != Tok::Semi {
                    bail!(
                        "{}:{}: expected ';' after attribute '{name}'",
                        self.path(),
                        vline
                    );
                }
                Ok(Item::Simple {
                    name,
                    value: Val { text, line: vline },
                })
            }
            Tok::LParen => {
                let args = self.args(name, line)?;
                if self.peek()?.0 == Tok::LBrace {
                    self.next()?;
                    let items = self.body(name, line)?;
                    Ok(Item::Group(Group {
                        name,
                        args,
                        line,
                        items,
                    }))
                } else {
                    if self.peek()?.0 == Tok::Semi {
                        self.next()?;
                    }
                    Ok(Item::Complex { name, args, line })
                }
            }
            other => bail!(
                "{}:{}: expected ':' or '(' after '{name}', found {}",
                self.path(),
                tline,
                other.describe()
            ),
        }
    }

    /// Arguments after '(' up to and including ')'.
    fn args(&mut self, name: &str, line: usize) -> Result<Vec<Val<'a>>> {
        let mut args = Vec::new();
        loop {
            let (tok, tline) = self.next()?;
            match tok {
                Tok::RParen => return Ok(args),
                Tok::Comma => {}
                Tok::Word(w) => args.push(Val {
                    text: Cow::Borrowed(w),
                    line: tline,
                }),
                Tok::Str(s) => args.push(Val {
                    text: s,
                    line: tline,
                }),
                Tok::Eof => bail!(
                    "{}:{}: expected ')' to close '{name} (' before the end of the file",
                    self.path(),
                    line
                ),
                other => bail!(
                    "{}:{}: expected ')' to close '{name} (', found {}",
                    self.path(),
                    tline,
                    other.describe()
                ),
            }
        }
    }

    /// Items after '{' up to and including '}'.
    fn body(&mut self, name: &str, line: usize) -> Result<Vec<Item<'a>>> {
        let mut items = Vec::new();
        loop {
            let (tok, tline) = self.next()?;
            match tok {
                Tok::RBrace => return Ok(items),
                Tok::Semi => {}
                Tok::Word(w) => items.push(self.statement(w, tline)?),
                Tok::Eof => bail!(
                    "{}:{}: group '{name}' is not closed: expected '}}' before the end of the file",
                    self.path(),
                    line
                ),
                other => bail!(
                    "{}:{}: expected an attribute or group name in '{name}', found {}",
                    self.path(),
                    tline,
                    other.describe()
                ),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Interpretation
// ---------------------------------------------------------------------------------------

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
    let index = |n: &str| -> Result<Vec<f64>> {
        let mut out = Vec::new();
        if let Some((args, _)) = g.complex(n) {
            for a in args {
                number_list(a, path, n, &mut out)?;
            }
        }
        Ok(out)
    };
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
        let own_index = |n: &str| -> Result<Option<Vec<f64>>> {
            match g.complex(n) {
                Some((args, _)) => {
                    let mut out = Vec::new();
                    for a in args {
                        number_list(a, path, n, &mut out)?;
                    }
                    Ok(Some(out))
                }
                None => Ok(None),
            }
        };
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
        let mut values = Vec::with_capacity(index_1.len().max(1) * index_2.len().max(1));
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

fn build_library(lib: &Group, path: &str) -> Result<Library> {
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

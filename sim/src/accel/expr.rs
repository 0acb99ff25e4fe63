//! Integer expressions of model files: `h`, `kvd`, `h*3`, `(h/heads)*kv_heads`, `t`.
//!
//! Grammar: integers, names, `+ - * /` (usual precedence, left to right) and parentheses.
//! Division must be exact (`h/3` with `h = 4096` is an error, not 1365). Arithmetic is
//! checked; the names allowed depend on where the expression stands and are checked when it
//! is read.

use serde::{Serialize, Serializer};
use std::fmt;

/// Longest expression text accepted.
pub const MAX_LEN: usize = 256;
/// Deepest nesting of parentheses accepted.
pub const MAX_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Num(i128),
    Var(String),
    Bin(Box<Node>, u8, Box<Node>),
}

/// A parsed expression with its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formula {
    text: String,
    node: Node,
}

impl Formula {
    /// The constant `n`.
    pub fn constant(n: u64) -> Self {
        Formula {
            text: n.to_string(),
            node: Node::Num(i128::from(n)),
        }
    }

    /// Parses `text`; every name must be one of `names`.
    pub fn parse(text: &str, names: &[&str]) -> Result<Self, String> {
        if text.len() > MAX_LEN {
            return Err(format!(
                "the expression is {} characters long (at most {MAX_LEN})",
                text.len()
            ));
        }
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
            names,
        };
        let node = p.expr(0)?;
        p.skip_ws();
        if p.i < p.s.len() {
            return Err(format!(
                "`{text}`: unexpected `{}` at character {}",
                char::from(p.s[p.i]).escape_default(),
                p.i + 1
            ));
        }
        Ok(Formula {
            text: text.to_string(),
            node,
        })
    }

    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The constant value, when the expression has no names.
    pub fn as_constant(&self) -> Option<i128> {
        eval(&self.node, &|_| None).ok()
    }

    /// Evaluates with `env` giving each name's value.
    pub fn eval(&self, env: &dyn Fn(&str) -> Option<i128>) -> Result<i128, String> {
        eval(&self.node, env).map_err(|e| format!("`{}`: {e}", self.text))
    }
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Formula {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (&self.node, self.as_constant()) {
            (Node::Num(_), Some(n)) => s.serialize_i128(n),
            _ => s.serialize_str(&self.text),
        }
    }
}

fn eval(n: &Node, env: &dyn Fn(&str) -> Option<i128>) -> Result<i128, String> {
    match n {
        Node::Num(v) => Ok(*v),
        Node::Var(name) => env(name).ok_or_else(|| format!("`{name}` has no value here")),
        Node::Bin(a, op, b) => {
            let (x, y) = (eval(a, env)?, eval(b, env)?);
            let r = match op {
                b'+' => x.checked_add(y),
                b'-' => x.checked_sub(y),
                b'*' => x.checked_mul(y),
                _ => {
                    if y == 0 {
                        return Err("division by zero".into());
                    }
                    if x % y != 0 {
                        return Err(format!(
                            "{x} / {y} is not exact (division must leave no remainder)"
                        ));
                    }
                    x.checked_div(y)
                }
            };
            r.ok_or_else(|| "the value overflows".to_string())
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    names: &'a [&'a str],
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.i).copied()
    }

    fn expr(&mut self, depth: usize) -> Result<Node, String> {
        let mut left = self.term(depth)?;
        while let Some(op @ (b'+' | b'-')) = self.peek() {
            self.i += 1;
            let right = self.term(depth)?;
            left = Node::Bin(Box::new(left), op, Box::new(right));
        }
        Ok(left)
    }

    fn term(&mut self, depth: usize) -> Result<Node, String> {
        let mut left = self.factor(depth)?;
        while let Some(op @ (b'*' | b'/')) = self.peek() {
            self.i += 1;
            let right = self.factor(depth)?;
            left = Node::Bin(Box::new(left), op, Box::new(right));
        }
        Ok(left)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(self.s).into_owned()
    }

    fn factor(&mut self, depth: usize) -> Result<Node, String> {
        match self.peek() {
            Some(b'(') => {
                if depth >= MAX_DEPTH {
                    return Err(format!(
                        "`{}`: parentheses nested deeper than {MAX_DEPTH}",
                        self.text()
                    ));
                }
                self.i += 1;
                let inner = self.expr(depth + 1)?;
                if self.peek() != Some(b')') {
                    return Err(format!("`{}`: missing `)`", self.text()));
                }
                self.i += 1;
                Ok(inner)
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                    self.i += 1;
                }
                let digits = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                digits
                    .parse::<i128>()
                    .ok()
                    .filter(|v| *v <= i128::from(u64::MAX))
                    .map(Node::Num)
                    .ok_or_else(|| format!("`{}`: the number {digits} is too large", self.text()))
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
                {
                    self.i += 1;
                }
                let name = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                if !self.names.contains(&name) {
                    return Err(format!(
                        "`{}`: unknown name `{name}` (expected one of: {})",
                        self.text(),
                        self.names.join(", ")
                    ));
                }
                Ok(Node::Var(name.to_string()))
            }
            Some(c) => Err(format!(
                "`{}`: expected a number, a name or `(` at character {}, found `{}`",
                self.text(),
                self.i + 1,
                char::from(c).escape_default()
            )),
            None => Err(format!(
                "`{}`: expected a number, a name or `(`, found the end of the expression",
                self.text()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<i128> {
        match name {
            "h" => Some(4096),
            "heads" => Some(32),
            "kv_heads" => Some(8),
            _ => None,
        }
    }

    #[test]
    fn evaluates() {
        let names = ["h", "heads", "kv_heads"];
        let f = Formula::parse("(h / heads) * kv_heads", &names).unwrap();
        assert_eq!(f.eval(&env).unwrap(), 1024);
        let f = Formula::parse("h*3-1+2", &names).unwrap();
        assert_eq!(f.eval(&env).unwrap(), 4096 * 3 + 1);
        assert!(Formula::parse("h/3", &names).unwrap().eval(&env).is_err());
        assert!(Formula::parse("h/0", &names).unwrap().eval(&env).is_err());
        assert!(Formula::parse("x", &names).is_err());
        assert!(Formula::parse("(h", &names).is_err());
        assert!(Formula::parse("h h", &names).is_err());
        assert!(Formula::parse(&"(".repeat(100), &names).is_err());
        let big = Formula::parse("18446744073709551615*18446744073709551615*4", &names).unwrap();
        assert!(big.eval(&env).is_err());
    }
}

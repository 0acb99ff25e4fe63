//! The Liberty `function` expression syntax: a tokenizer and a precedence-climbing parser
//! producing [`Expr`], and the evaluator and variable walk on it.

use std::collections::BTreeSet;

use super::Expr;
use crate::{bail, Result};

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

/// Most operators and names in one expression. Real cell functions have a few dozen; the
/// limit bounds the depth of the tree, which is dropped, evaluated and compiled recursively.
const MAX_NODES: usize = 1000;
/// Deepest nesting of parentheses and prefix `!` the recursive parser descends into.
const MAX_NESTING: usize = 100;

struct ExprParser<'s> {
    src: &'s str,
    pos: usize,
    tok: ETok,
    tok_pos: usize,
    /// Nodes built so far.
    nodes: usize,
    /// Parentheses and prefix `!` open around the current token.
    nesting: usize,
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

    /// Counts one more node of the tree.
    fn node(&mut self, e: Expr) -> Result<Expr> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            bail!(
                "more than {MAX_NODES} names and operators at position {} of \"{}\"",
                self.tok_pos + 1,
                self.src
            );
        }
        Ok(e)
    }

    /// Enters one more level of parentheses or prefix `!`.
    fn nest(&mut self) -> Result<()> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            bail!(
                "nested more than {MAX_NESTING} deep at position {} of \"{}\"",
                self.tok_pos + 1,
                self.src
            );
        }
        Ok(())
    }

    /// A left-associative chain of `operand`s joined by `op`, each pair combined by `make`.
    fn chain(
        &mut self,
        op: ETok,
        operand: fn(&mut Self) -> Result<Expr>,
        make: fn(Box<Expr>, Box<Expr>) -> Expr,
    ) -> Result<Expr> {
        let mut left = operand(self)?;
        while self.tok == op {
            self.advance()?;
            let right = operand(self)?;
            left = self.node(make(Box::new(left), Box::new(right)))?;
        }
        Ok(left)
    }

    fn or(&mut self) -> Result<Expr> {
        self.chain(ETok::Or, Self::xor, Expr::Or)
    }

    fn xor(&mut self) -> Result<Expr> {
        self.chain(ETok::Xor, Self::and, Expr::Xor)
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
            left = self.node(Expr::And(Box::new(left), Box::new(right)))?;
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr> {
        if self.tok == ETok::Not {
            self.nest()?;
            self.advance()?;
            let inner = self.unary()?;
            self.nesting -= 1;
            return self.node(Expr::Not(Box::new(inner)));
        }
        let mut e = self.primary()?;
        while self.tok == ETok::Postfix {
            self.advance()?;
            e = self.node(Expr::Not(Box::new(e)))?;
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
                self.node(e)
            }
            ETok::LParen => {
                self.nest()?;
                self.advance()?;
                let e = self.or()?;
                if self.tok != ETok::RParen {
                    return self.err("')'");
                }
                self.nesting -= 1;
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
            nodes: 0,
            nesting: 0,
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

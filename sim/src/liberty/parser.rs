//! Generic Liberty parser: turns tokens into groups, simple attributes (`name : value ;`)
//! and complex attributes (`name ( args ) ;`) without interpreting them.

use std::borrow::Cow;

use super::lexer::{Lexer, Tok};
use crate::{bail, Result};

/// A value in an attribute or a group's argument list, with the line it is on.
#[derive(Debug, Clone)]
pub(super) struct Val<'a> {
    pub(super) text: Cow<'a, str>,
    pub(super) line: usize,
}

/// One statement in a group's body.
#[derive(Debug)]
pub(super) enum Item<'a> {
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

/// `name ( args ) { items }`, with the line of its name.
#[derive(Debug)]
pub(super) struct Group<'a> {
    pub(super) name: &'a str,
    pub(super) args: Vec<Val<'a>>,
    pub(super) line: usize,
    pub(super) items: Vec<Item<'a>>,
}

impl<'a> Group<'a> {
    /// The value of the last simple attribute `name`.
    pub(super) fn simple(&self, name: &str) -> Option<&Val<'a>> {
        self.items.iter().rev().find_map(|it| match it {
            Item::Simple { name: n, value, .. } if *n == name => Some(value),
            _ => None,
        })
    }

    /// The arguments and line of the last complex attribute `name`.
    pub(super) fn complex(&self, name: &str) -> Option<(&[Val<'a>], usize)> {
        self.items.iter().rev().find_map(|it| match it {
            Item::Complex {
                name: n,
                args,
                line,
            } if *n == name => Some((args.as_slice(), *line)),
            _ => None,
        })
    }

    /// The sub-groups called `name`, in file order.
    pub(super) fn groups<'g>(&'g self, name: &'g str) -> impl Iterator<Item = &'g Group<'a>> + 'g {
        self.items.iter().filter_map(move |it| match it {
            Item::Group(g) if g.name == name => Some(g),
            _ => None,
        })
    }

    /// The group's first argument.
    pub(super) fn arg0(&self) -> Option<&str> {
        self.args.first().map(|v| v.text.as_ref())
    }
}

/// How deep groups may nest. Real libraries nest a handful of levels (library, cell, pin,
/// internal_power, table); the limit bounds the tree, whose drop is recursive.
pub(super) const MAX_DEPTH: usize = 1000;

/// A statement whose leading name has been read: a whole attribute, or the head of a group
/// whose '{' has been read.
enum Stmt<'a> {
    Item(Item<'a>),
    Open(Group<'a>),
}

/// Parser over a [`Lexer`], with one token of look-ahead. Nested groups are kept on an
/// explicit stack, so nesting costs no machine stack.
pub(super) struct Parser<'a> {
    lex: Lexer<'a>,
    peeked: Option<(Tok<'a>, usize)>,
}

impl<'a> Parser<'a> {
    /// A parser at the start of `text`; `path` labels error messages.
    pub(super) fn new(text: &'a str, path: &'a str) -> Self {
        Parser {
            lex: Lexer::new(text, path),
            peeked: None,
        }
    }

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
    pub(super) fn parse_top(&mut self) -> Result<Group<'a>> {
        let (tok, line) = self.next()?;
        let Tok::Word(name) = tok else {
            bail!(
                "{}:{}: expected 'library (name) {{ ... }}', found {}",
                self.path(),
                line,
                tok.describe()
            );
        };
        let top = match self.statement(name, line)? {
            Stmt::Open(g) => Some(self.group(g)?),
            Stmt::Item(_) => None,
        };
        let Some(lib) = top.filter(|g| g.name == "library") else {
            bail!(
                "{}:{}: expected 'library (name) {{ ... }}' at the start of the file",
                self.path(),
                line
            );
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
    fn statement(&mut self, name: &'a str, line: usize) -> Result<Stmt<'a>> {
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
                Ok(Stmt::Item(Item::Simple {
                    name,
                    value: Val { text, line: vline },
                }))
            }
            Tok::LParen => {
                let args = self.args(name, line)?;
                if self.peek()?.0 == Tok::LBrace {
                    self.next()?;
                    Ok(Stmt::Open(Group {
                        name,
                        args,
                        line,
                        items: Vec::new(),
                    }))
                } else {
                    if self.peek()?.0 == Tok::Semi {
                        self.next()?;
                    }
                    Ok(Stmt::Item(Item::Complex { name, args, line }))
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

    /// The items of the open group `top` up to and including its '}', groups nested in it
    /// included.
    fn group(&mut self, top: Group<'a>) -> Result<Group<'a>> {
        let mut open = vec![top];
        loop {
            let (tok, tline) = self.next()?;
            let g = open.last_mut().expect("a group is open");
            match tok {
                Tok::RBrace => {
                    let done = open.pop().expect("a group is open");
                    match open.last_mut() {
                        Some(parent) => parent.items.push(Item::Group(done)),
                        None => return Ok(done),
                    }
                }
                Tok::Semi => {}
                Tok::Word(w) => match self.statement(w, tline)? {
                    Stmt::Item(it) => g.items.push(it),
                    Stmt::Open(inner) => {
                        if open.len() == MAX_DEPTH {
                            bail!(
                                "{}:{}: group '{}' is nested more than {MAX_DEPTH} groups deep",
                                self.path(),
                                inner.line,
                                inner.name
                            );
                        }
                        open.push(inner);
                    }
                },
                Tok::Eof => bail!(
                    "{}:{}: group '{}' is not closed: expected '}}' before the end of the file",
                    self.path(),
                    g.line,
                    g.name
                ),
                other => bail!(
                    "{}:{}: expected an attribute or group name in '{}', found {}",
                    self.path(),
                    tline,
                    g.name,
                    other.describe()
                ),
            }
        }
    }
}

//! Liberty tokenizer: words, quoted strings and punctuation, with line numbers, comments
//! and backslash line continuations.

use std::borrow::Cow;

use crate::{bail, Result};

/// One Liberty token.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok<'a> {
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
    /// The token as an error message shows it.
    pub(super) fn describe(&self) -> String {
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

/// Tokenizer over Liberty text; `path` labels error messages.
pub(super) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
    pub(super) path: &'a str,
}

fn is_word_byte(b: u8) -> bool {
    !b.is_ascii_whitespace() && !matches!(b, b'(' | b')' | b'{' | b'}' | b':' | b';' | b',' | b'"')
}

impl<'a> Lexer<'a> {
    /// A tokenizer at the start of `src`.
    pub(super) fn new(src: &'a str, path: &'a str) -> Self {
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
    pub(super) fn next(&mut self) -> Result<(Tok<'a>, usize)> {
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
                    // An escaped newline still ends a line of the file.
                    if b.get(p + 1) == Some(&b'\n') {
                        self.line += 1;
                    }
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

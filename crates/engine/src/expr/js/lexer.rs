//! Tokens of the JavaScript subset.

use super::{syntax, unsupported, R};
use std::rc::Rc;

/// A template literal piece: cooked text or the tokens of a `${...}` substitution.
#[derive(Debug, Clone, PartialEq)]
pub enum TplPart {
    Str(Rc<str>),
    Expr(Vec<Token>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Num(f64),
    Str(Rc<str>),
    Template(Vec<TplPart>),
    /// Identifiers and keywords.
    Ident(Rc<str>),
    Punct(&'static str),
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    /// A line terminator precedes this token (automatic semicolon insertion).
    pub nl_before: bool,
}

const PUNCTS: &[&str] = &[
    ">>>=", "...", "===", "!==", "**=", "<<=", ">>=", ">>>", "&&=", "||=", "??=", "=>", "==", "!=",
    "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
    "**", "<<", ">>", "{", "}", "(", ")", "[", "]", ";", ",", "<", ">", "+", "-", "*", "/", "%",
    "&", "|", "^", "!", "~", "?", ":", "=", ".", "@", "#",
];

/// Keywords after which a `/` starts a regular expression rather than a division.
const EXPR_KEYWORDS: &[&str] = &[
    "return",
    "typeof",
    "instanceof",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
    "case",
    "do",
    "else",
    "yield",
    "await",
];

const MAX_TEMPLATE_NESTING: usize = 16;

fn is_id_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$' || (!c.is_ascii() && c.is_alphabetic())
}

fn is_id_part(c: char) -> bool {
    is_id_start(c)
        || c.is_ascii_digit()
        || (!c.is_ascii() && c.is_alphanumeric())
        || c == '\u{200c}'
        || c == '\u{200d}'
}

fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

pub struct Lexer<'a> {
    chars: &'a [char],
    pos: usize,
    nesting: usize,
}

/// Tokenises a whole source text (the last token is `Eof`).
pub fn tokenize(src: &str) -> R<Vec<Token>> {
    let chars: Vec<char> = src.chars().collect();
    let mut lx = Lexer {
        chars: &chars,
        pos: 0,
        nesting: 0,
    };
    lx.run(false)
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.pos + k).copied()
    }

    /// Lexes tokens until the end (or, inside a template substitution, its closing `}`).
    fn run(&mut self, in_template: bool) -> R<Vec<Token>> {
        let mut out: Vec<Token> = Vec::new();
        let mut braces = 0usize;
        loop {
            let nl_before = self.skip_trivia()?;
            let Some(c) = self.peek(0) else {
                if in_template {
                    return Err(syntax("Unterminated template literal"));
                }
                out.push(Token {
                    tok: Tok::Eof,
                    nl_before: true,
                });
                return Ok(out);
            };
            let tok = if c.is_ascii_digit()
                || (c == '.' && self.peek(1).is_some_and(|d| d.is_ascii_digit()))
            {
                self.number()?
            } else if c == '"' || c == '\'' {
                self.string(c)?
            } else if c == '`' {
                self.template()?
            } else if is_id_start(c) {
                let start = self.pos;
                while self.peek(0).is_some_and(is_id_part) {
                    self.pos += 1;
                }
                if self.peek(0) == Some('\\') {
                    return Err(unsupported("unicode escapes in identifiers"));
                }
                Tok::Ident(
                    self.chars[start..self.pos]
                        .iter()
                        .collect::<String>()
                        .into(),
                )
            } else if c == '\\' {
                return Err(unsupported("unicode escapes in identifiers"));
            } else {
                let p = self.punct()?;
                if p == "/" || p == "/=" {
                    let regex_allowed = match out.last().map(|t| &t.tok) {
                        None => true,
                        Some(Tok::Num(_) | Tok::Str(_) | Tok::Template(_)) => false,
                        Some(Tok::Ident(name)) => EXPR_KEYWORDS.contains(&&**name),
                        Some(Tok::Punct(q)) => !matches!(*q, ")" | "]" | "}" | "++" | "--"),
                        Some(Tok::Eof) => true,
                    };
                    if regex_allowed {
                        return Err(unsupported("regular expression literals"));
                    }
                }
                if in_template {
                    if p == "{" {
                        braces += 1;
                    } else if p == "}" {
                        if braces == 0 {
                            out.push(Token {
                                tok: Tok::Eof,
                                nl_before: true,
                            });
                            return Ok(out);
                        }
                        braces -= 1;
                    }
                }
                Tok::Punct(p)
            };
            out.push(Token { tok, nl_before });
        }
    }

    /// Skips white space and comments; reports whether a line terminator was crossed.
    fn skip_trivia(&mut self) -> R<bool> {
        let mut nl = false;
        while let Some(c) = self.peek(0) {
            if is_line_terminator(c) {
                nl = true;
                self.pos += 1;
            } else if c.is_whitespace() || c == '\u{feff}' {
                self.pos += 1;
            } else if c == '/' && self.peek(1) == Some('/') {
                while self.peek(0).is_some_and(|c| !is_line_terminator(c)) {
                    self.pos += 1;
                }
            } else if c == '/' && self.peek(1) == Some('*') {
                self.pos += 2;
                loop {
                    match self.peek(0) {
                        None => return Err(syntax("Invalid or unexpected token")),
                        Some('*') if self.peek(1) == Some('/') => {
                            self.pos += 2;
                            break;
                        }
                        Some(c) => {
                            nl |= is_line_terminator(c);
                            self.pos += 1;
                        }
                    }
                }
            } else {
                break;
            }
        }
        Ok(nl)
    }

    fn punct(&mut self) -> R<&'static str> {
        for p in PUNCTS {
            let n = p.chars().count();
            if self.pos + n <= self.chars.len()
                && self.chars[self.pos..self.pos + n]
                    .iter()
                    .copied()
                    .eq(p.chars())
            {
                // `?.` followed by a digit is `?` then a number (`a?.5:1`).
                if *p == "?." && self.peek(2).is_some_and(|d| d.is_ascii_digit()) {
                    continue;
                }
                self.pos += n;
                return match *p {
                    "@" => Err(unsupported("decorators")),
                    "#" => Err(unsupported("private names")),
                    p => Ok(p),
                };
            }
        }
        Err(syntax("Invalid or unexpected token"))
    }

    fn number(&mut self) -> R<Tok> {
        let start = self.pos;
        let c0 = self.peek(0);
        let c1 = self.peek(1).map(|c| c.to_ascii_lowercase());
        let value = if c0 == Some('0') && matches!(c1, Some('x' | 'o' | 'b')) {
            let radix = match c1 {
                Some('x') => 16,
                Some('o') => 8,
                _ => 2,
            };
            self.pos += 2;
            let digits_start = self.pos;
            let mut acc = 0f64;
            while let Some(d) = self.peek(0).and_then(|c| c.to_digit(radix)) {
                acc = acc * f64::from(radix) + f64::from(d);
                self.pos += 1;
            }
            if self.pos == digits_start {
                return Err(syntax("Invalid or unexpected token"));
            }
            acc
        } else {
            if c0 == Some('0') && self.peek(1).is_some_and(|c| c.is_ascii_digit()) {
                return Err(unsupported("legacy octal literals"));
            }
            while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            if self.peek(0) == Some('.') {
                self.pos += 1;
                while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
            if matches!(self.peek(0), Some('e' | 'E')) {
                let save = self.pos;
                self.pos += 1;
                if matches!(self.peek(0), Some('+' | '-')) {
                    self.pos += 1;
                }
                if !self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                    self.pos = save;
                    return Err(syntax("Invalid or unexpected token"));
                }
                while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
            let text: String = self.chars[start..self.pos].iter().collect();
            text.parse::<f64>()
                .map_err(|_| syntax("Invalid or unexpected token"))?
        };
        match self.peek(0) {
            Some('_') => Err(unsupported("numeric separators")),
            Some('n') => Err(unsupported("BigInt literals")),
            Some(c) if is_id_start(c) || c.is_ascii_digit() => {
                Err(syntax("Invalid or unexpected token"))
            }
            _ => Ok(Tok::Num(value)),
        }
    }

    fn hex_digits(&mut self, n: usize) -> R<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let d = self
                .peek(0)
                .and_then(|c| c.to_digit(16))
                .ok_or_else(|| syntax("Invalid hexadecimal escape sequence"))?;
            v = v * 16 + d;
            self.pos += 1;
        }
        Ok(v)
    }

    /// Reads one escape sequence (after the backslash) into `out` as UTF-16 units.
    fn escape(&mut self, out: &mut Vec<u16>) -> R<()> {
        let c = self
            .peek(0)
            .ok_or_else(|| syntax("Invalid or unexpected token"))?;
        self.pos += 1;
        let unit = |ch: char, out: &mut Vec<u16>| {
            let mut buf = [0u16; 2];
            out.extend_from_slice(ch.encode_utf16(&mut buf));
        };
        match c {
            'n' => out.push(0x0a),
            't' => out.push(0x09),
            'r' => out.push(0x0d),
            'b' => out.push(0x08),
            'f' => out.push(0x0c),
            'v' => out.push(0x0b),
            '0' if !self.peek(0).is_some_and(|d| d.is_ascii_digit()) => out.push(0),
            '0'..='9' => return Err(unsupported("octal escape sequences")),
            'x' => {
                let v = self.hex_digits(2)?;
                out.push(v as u16);
            }
            'u' => {
                if self.peek(0) == Some('{') {
                    self.pos += 1;
                    let mut v = 0u32;
                    let mut n = 0;
                    while let Some(d) = self.peek(0).and_then(|c| c.to_digit(16)) {
                        v = v.saturating_mul(16).saturating_add(d);
                        self.pos += 1;
                        n += 1;
                    }
                    if n == 0 || self.peek(0) != Some('}') || v > 0x10ffff {
                        return Err(syntax("Invalid Unicode escape sequence"));
                    }
                    self.pos += 1;
                    match char::from_u32(v) {
                        Some(ch) => unit(ch, out),
                        None => out.push(v as u16),
                    }
                } else {
                    let v = self.hex_digits(4)?;
                    out.push(v as u16);
                }
            }
            '\r' => {
                if self.peek(0) == Some('\n') {
                    self.pos += 1;
                }
            }
            '\n' | '\u{2028}' | '\u{2029}' => {}
            other => unit(other, out),
        }
        Ok(())
    }

    fn string(&mut self, quote: char) -> R<Tok> {
        self.pos += 1;
        let mut units: Vec<u16> = Vec::new();
        loop {
            let c = self
                .peek(0)
                .ok_or_else(|| syntax("Invalid or unexpected token"))?;
            self.pos += 1;
            if c == quote {
                break;
            }
            match c {
                '\\' => self.escape(&mut units)?,
                '\n' | '\r' => return Err(syntax("Invalid or unexpected token")),
                c => {
                    let mut buf = [0u16; 2];
                    units.extend_from_slice(c.encode_utf16(&mut buf));
                }
            }
        }
        Ok(Tok::Str(cook(&units)?))
    }

    fn template(&mut self) -> R<Tok> {
        self.nesting += 1;
        if self.nesting > MAX_TEMPLATE_NESTING {
            return Err(super::limit("template literals nested too deeply"));
        }
        self.pos += 1;
        let mut parts = Vec::new();
        let mut units: Vec<u16> = Vec::new();
        loop {
            let c = self
                .peek(0)
                .ok_or_else(|| syntax("Unterminated template literal"))?;
            self.pos += 1;
            match c {
                '`' => break,
                '\\' => self.escape(&mut units)?,
                '$' if self.peek(0) == Some('{') => {
                    self.pos += 1;
                    parts.push(TplPart::Str(cook(&units)?));
                    units.clear();
                    parts.push(TplPart::Expr(self.run(true)?));
                }
                '\r' => {
                    if self.peek(0) == Some('\n') {
                        self.pos += 1;
                    }
                    units.push(0x0a);
                }
                c => {
                    let mut buf = [0u16; 2];
                    units.extend_from_slice(c.encode_utf16(&mut buf));
                }
            }
        }
        parts.push(TplPart::Str(cook(&units)?));
        self.nesting -= 1;
        Ok(Tok::Template(parts))
    }
}

/// UTF-16 units → string; lone surrogates cannot be represented.
fn cook(units: &[u16]) -> R<Rc<str>> {
    String::from_utf16(units)
        .map(Into::into)
        .map_err(|_| unsupported("strings with lone surrogates"))
}

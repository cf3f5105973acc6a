//! Recursive-descent / Pratt parser of the JavaScript subset, with JavaScript's automatic
//! semicolon insertion (a newline ends a statement only where the next token cannot continue it).

use super::ast::*;
use super::lexer::{tokenize, Tok, Token};
use super::{limit, syntax, unsupported, R};
use std::rc::Rc;

mod expr;

/// Maximum syntactic nesting (parentheses, operators chained, statements).
pub const MAX_DEPTH: usize = 48;

/// Keywords that start constructs outside the subset.
const UNSUPPORTED_KEYWORDS: &[&str] = &[
    "function",
    "class",
    "new",
    "this",
    "super",
    "import",
    "export",
    "yield",
    "await",
    "with",
    "debugger",
    "arguments",
];

const RESERVED: &[&str] = &[
    "break",
    "case",
    "catch",
    "const",
    "continue",
    "default",
    "do",
    "else",
    "enum",
    "extends",
    "finally",
    "for",
    "if",
    "in",
    "instanceof",
    "return",
    "switch",
    "throw",
    "try",
    "var",
    "while",
    "typeof",
    "void",
    "delete",
];

pub struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    loops: usize,
    function_mode: bool,
}

fn unsupported_statement(name: &str) -> super::ScriptError {
    unsupported(&format!("'{name}' statements"))
}

fn unexpected(t: &Tok) -> super::ScriptError {
    match t {
        Tok::Eof => syntax("Unexpected end of input"),
        Tok::Num(_) => syntax("Unexpected number"),
        Tok::Str(_) => syntax("Unexpected string"),
        Tok::Template(_) => syntax("Unexpected template string"),
        Tok::Ident(n) if RESERVED.contains(&&**n) => syntax(&format!("Unexpected token '{n}'")),
        Tok::Ident(_) => syntax("Unexpected identifier"),
        Tok::Punct(p) => syntax(&format!("Unexpected token '{p}'")),
    }
}

/// Parses a whole program (a code step; `function_mode` = wrapped as a function body).
pub fn parse_program(src: &str, function_mode: bool) -> R<Vec<Stmt>> {
    let mut p = Parser {
        toks: tokenize(src)?,
        pos: 0,
        depth: 0,
        loops: 0,
        function_mode,
    };
    let mut body = Vec::new();
    while !p.at_eof() {
        body.push(p.statement()?);
    }
    check_early_errors(&body)?;
    Ok(body)
}

/// Parses one expression (an optional trailing `;` is allowed).
pub fn parse_expression(src: &str) -> R<Expr> {
    let mut p = Parser {
        toks: tokenize(src)?,
        pos: 0,
        depth: 0,
        loops: 0,
        function_mode: false,
    };
    // The reference `eval`s the text: a leading `{` would be a block, not an object literal.
    if p.is_punct("{") {
        return Err(unsupported(
            "an expression starting with '{' (a block when evaluated)",
        ));
    }
    let e = p.expression()?;
    let semicolon = p.eat_punct(";");
    if !p.at_eof() {
        return Err(if semicolon || p.nl_before() {
            unsupported("several statements in an expression")
        } else {
            unexpected(p.tok())
        });
    }
    Ok(e)
}

impl Parser {
    fn tok(&self) -> &Tok {
        self.toks.get(self.pos).map(|t| &t.tok).unwrap_or(&Tok::Eof)
    }
    fn peek_at(&self, k: usize) -> &Tok {
        self.toks
            .get(self.pos + k)
            .map(|t| &t.tok)
            .unwrap_or(&Tok::Eof)
    }
    fn nl_before(&self) -> bool {
        self.toks.get(self.pos).is_none_or(|t| t.nl_before)
    }
    fn at_eof(&self) -> bool {
        matches!(self.tok(), Tok::Eof)
    }
    fn advance(&mut self) -> Tok {
        let t = self.tok().clone();
        self.pos += 1;
        t
    }
    fn is_punct(&self, p: &str) -> bool {
        matches!(self.tok(), Tok::Punct(q) if *q == p)
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.tok(), Tok::Ident(q) if &**q == w)
    }
    fn eat_punct(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, p: &str) -> R<()> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            Err(unexpected(self.tok()))
        }
    }
    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(limit("expression or statement nesting too deep"));
        }
        Ok(())
    }
    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Ends a statement: `;`, or before `}` / end of input / a newline.
    fn semicolon(&mut self) -> R<()> {
        if self.eat_punct(";") || self.is_punct("}") || self.at_eof() || self.nl_before() {
            return Ok(());
        }
        Err(unexpected(self.tok()))
    }

    // ----- statements -----

    fn statement(&mut self) -> R<Stmt> {
        self.enter()?;
        let s = self.statement_inner()?;
        self.leave();
        Ok(s)
    }

    fn statement_inner(&mut self) -> R<Stmt> {
        let name = match self.tok() {
            Tok::Punct("{") => return self.block_statement(),
            Tok::Punct(";") => {
                self.advance();
                return Ok(Stmt::Empty);
            }
            Tok::Ident(n) => n.clone(),
            _ => return self.expression_statement(),
        };
        if matches!(self.peek_at(1), Tok::Punct(":")) && !RESERVED.contains(&&*name) {
            return Err(unsupported("labelled statements"));
        }
        match &*name {
            "var" => self.declaration_statement(DeclKind::Var),
            "const" => self.declaration_statement(DeclKind::Const),
            "let" if matches!(self.peek_at(1), Tok::Ident(_) | Tok::Punct("[" | "{")) => {
                self.declaration_statement(DeclKind::Let)
            }
            "if" => self.if_statement(),
            "while" => self.while_statement(),
            "do" => self.do_while_statement(),
            "for" => self.for_statement(),
            "break" => self.jump_statement(true),
            "continue" => self.jump_statement(false),
            "return" => self.return_statement(),
            "throw" => self.throw_statement(),
            "switch" | "try" | "function" | "class" | "import" | "export" | "with" | "debugger" => {
                Err(unsupported_statement(&name))
            }
            "async"
                if matches!(self.peek_at(1), Tok::Ident(_))
                    && !self.toks.get(self.pos + 1).is_some_and(|t| t.nl_before) =>
            {
                Err(unsupported("async functions"))
            }
            _ => self.expression_statement(),
        }
    }

    fn block_statement(&mut self) -> R<Stmt> {
        self.advance();
        let mut body = Vec::new();
        while !self.is_punct("}") {
            if self.at_eof() {
                return Err(syntax("Unexpected end of input"));
            }
            body.push(self.statement()?);
        }
        self.advance();
        Ok(Stmt::Block(body))
    }

    fn declaration_statement(&mut self, kind: DeclKind) -> R<Stmt> {
        self.advance();
        let decls = self.declarations(kind)?;
        self.semicolon()?;
        Ok(Stmt::Decl(kind, decls))
    }

    fn paren_expression(&mut self) -> R<Expr> {
        self.expect("(")?;
        let test = self.expression()?;
        self.expect(")")?;
        Ok(test)
    }

    fn if_statement(&mut self) -> R<Stmt> {
        self.advance();
        let test = self.paren_expression()?;
        let then = Box::new(self.sub_statement()?);
        let otherwise = if self.is_word("else") {
            self.advance();
            Some(Box::new(self.sub_statement()?))
        } else {
            None
        };
        Ok(Stmt::If(test, then, otherwise))
    }

    fn while_statement(&mut self) -> R<Stmt> {
        self.advance();
        let test = self.paren_expression()?;
        let body = Box::new(self.loop_body()?);
        Ok(Stmt::While(test, body))
    }

    fn do_while_statement(&mut self) -> R<Stmt> {
        self.advance();
        let body = Box::new(self.loop_body()?);
        if !self.is_word("while") {
            return Err(unexpected(self.tok()));
        }
        self.advance();
        let test = self.paren_expression()?;
        self.eat_punct(";");
        Ok(Stmt::DoWhile(body, test))
    }

    fn jump_statement(&mut self, is_break: bool) -> R<Stmt> {
        self.advance();
        if matches!(self.tok(), Tok::Ident(_)) && !self.nl_before() {
            return Err(unsupported("labelled break/continue"));
        }
        if self.loops == 0 {
            return Err(syntax(if is_break {
                "Illegal break statement"
            } else {
                "Illegal continue statement: no surrounding iteration statement"
            }));
        }
        self.semicolon()?;
        Ok(if is_break {
            Stmt::Break
        } else {
            Stmt::Continue
        })
    }

    fn return_statement(&mut self) -> R<Stmt> {
        if !self.function_mode {
            return Err(syntax("Illegal return statement"));
        }
        self.advance();
        let value = if self.is_punct(";") || self.is_punct("}") || self.at_eof() || self.nl_before()
        {
            None
        } else {
            Some(self.expression()?)
        };
        self.semicolon()?;
        Ok(Stmt::Return(value))
    }

    fn throw_statement(&mut self) -> R<Stmt> {
        self.advance();
        if self.nl_before() {
            return Err(syntax("Illegal newline after throw"));
        }
        let value = self.expression()?;
        self.semicolon()?;
        Ok(Stmt::Throw(value))
    }

    /// The body of `if`/`else`: no lexical declarations allowed there.
    fn sub_statement(&mut self) -> R<Stmt> {
        if self.is_word("const")
            || (self.is_word("let") && matches!(self.peek_at(1), Tok::Ident(_) | Tok::Punct("[")))
        {
            return Err(syntax(
                "Lexical declaration cannot appear in a single-statement context",
            ));
        }
        self.statement()
    }

    fn loop_body(&mut self) -> R<Stmt> {
        self.loops += 1;
        let body = self.sub_statement();
        self.loops -= 1;
        body
    }

    fn expression_statement(&mut self) -> R<Stmt> {
        let e = self.expression()?;
        self.semicolon()?;
        Ok(Stmt::Expr(e))
    }

    fn binding_name(&mut self) -> R<Rc<str>> {
        match self.tok().clone() {
            Tok::Ident(n) if UNSUPPORTED_KEYWORDS.contains(&&*n) => {
                Err(unsupported(&format!("'{n}' as a name")))
            }
            Tok::Ident(n) if !RESERVED.contains(&&*n) && &*n != "let" => {
                self.advance();
                Ok(n)
            }
            Tok::Punct("[" | "{") => Err(unsupported("destructuring")),
            t => Err(unexpected(&t)),
        }
    }

    fn declarations(&mut self, kind: DeclKind) -> R<Vec<(Rc<str>, Option<Expr>)>> {
        let mut out = Vec::new();
        loop {
            let name = self.binding_name()?;
            let init = if self.eat_punct("=") {
                Some(self.assignment()?)
            } else if kind == DeclKind::Const {
                return Err(syntax("Missing initializer in const declaration"));
            } else {
                None
            };
            out.push((name, init));
            if !self.eat_punct(",") {
                return Ok(out);
            }
        }
    }

    fn for_statement(&mut self) -> R<Stmt> {
        self.advance();
        if self.is_word("await") {
            return Err(unsupported("for await"));
        }
        self.expect("(")?;
        let decl_kind = match self.tok() {
            Tok::Ident(n) if &**n == "var" => Some(DeclKind::Var),
            Tok::Ident(n) if &**n == "const" => Some(DeclKind::Const),
            Tok::Ident(n)
                if &**n == "let"
                    && matches!(self.peek_at(1), Tok::Ident(_) | Tok::Punct("[" | "{")) =>
            {
                Some(DeclKind::Let)
            }
            _ => None,
        };
        let skip = usize::from(decl_kind.is_some());
        if let (Tok::Ident(name), Tok::Ident(kw)) =
            (self.peek_at(skip).clone(), self.peek_at(skip + 1).clone())
        {
            if (&*kw == "of" || &*kw == "in") && !RESERVED.contains(&&*name) {
                self.pos += skip + 2;
                let of = &*kw == "of";
                let iter = if of {
                    self.assignment()?
                } else {
                    self.expression()?
                };
                self.expect(")")?;
                let body = Box::new(self.loop_body()?);
                return Ok(Stmt::ForEach {
                    decl: decl_kind,
                    name,
                    of,
                    iter,
                    body,
                });
            }
        }
        let init = if self.is_punct(";") {
            None
        } else if let Some(kind) = decl_kind {
            self.advance();
            let mut decls = Vec::new();
            loop {
                let name = self.binding_name()?;
                let init = if self.eat_punct("=") {
                    Some(self.assignment()?)
                } else {
                    None
                };
                if init.is_none() && kind == DeclKind::Const {
                    return Err(syntax("Missing initializer in const declaration"));
                }
                decls.push((name, init));
                if !self.eat_punct(",") {
                    break;
                }
            }
            Some(ForInit::Decl(kind, decls))
        } else {
            let e = self.expression()?;
            if self.is_word("of") || self.is_word("in") {
                return Err(unsupported("for-in/of with a complex target"));
            }
            Some(ForInit::Expr(e))
        };
        self.expect(";")?;
        let test = if self.is_punct(";") {
            None
        } else {
            Some(self.expression()?)
        };
        self.expect(";")?;
        let update = if self.is_punct(")") {
            None
        } else {
            Some(self.expression()?)
        };
        self.expect(")")?;
        let body = Box::new(self.loop_body()?);
        Ok(Stmt::For {
            init,
            test,
            update,
            body,
        })
    }
}

//! Recursive-descent / Pratt parser of the JavaScript subset, with JavaScript's automatic
//! semicolon insertion (a newline ends a statement only where the next token cannot continue it).

use super::ast::*;
use super::lexer::{tokenize, Tok, Token, TplPart};
use super::{limit, syntax, unsupported, R};
use crate::engine::expr::jsvalue::number_to_string;
use std::rc::Rc;

/// Maximum syntactic nesting (parentheses, operators chained, statements).
pub const MAX_DEPTH: usize = 64;

/// Keywords that start constructs outside the subset.
const UNSUPPORTED_KEYWORDS: &[&str] =
    &["function", "class", "new", "this", "super", "import", "export", "yield", "await", "with", "debugger", "arguments"];

const RESERVED: &[&str] = &[
    "break", "case", "catch", "const", "continue", "default", "do", "else", "enum", "extends", "finally", "for", "if",
    "in", "instanceof", "return", "switch", "throw", "try", "var", "while", "typeof", "void", "delete",
];

pub struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    loops: usize,
    function_mode: bool,
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
    let mut p = Parser { toks: tokenize(src)?, pos: 0, depth: 0, loops: 0, function_mode };
    let mut body = Vec::new();
    while !p.at_eof() {
        body.push(p.statement()?);
    }
    check_block(&body, &[])?;
    Ok(body)
}

/// Parses one expression (an optional trailing `;` is allowed).
pub fn parse_expression(src: &str) -> R<Expr> {
    let mut p = Parser { toks: tokenize(src)?, pos: 0, depth: 0, loops: 0, function_mode: false };
    let e = p.expression()?;
    p.eat_punct(";");
    if !p.at_eof() {
        return Err(match p.tok() {
            Tok::Punct(";") | Tok::Ident(_) if p.nl_before() => unsupported("several statements in an expression"),
            t => unexpected(t),
        });
    }
    Ok(e)
}

/// Early errors: `let`/`const` declared twice in a block or also declared with `var` inside it.
fn check_block(stmts: &[Stmt], extra_lexical: &[Rc<str>]) -> R<()> {
    let mut lexical: Vec<Rc<str>> = extra_lexical.to_vec();
    for (name, _) in lexical_names(stmts) {
        if lexical.contains(&name) {
            return Err(syntax(&format!("Identifier '{name}' has already been declared")));
        }
        lexical.push(name);
    }
    let mut vars = Vec::new();
    var_names(stmts, &mut vars);
    if let Some(n) = vars.iter().find(|v| lexical.contains(v)) {
        return Err(syntax(&format!("Identifier '{n}' has already been declared")));
    }
    stmts.iter().try_for_each(check_stmt)
}

fn check_stmt(s: &Stmt) -> R<()> {
    match s {
        Stmt::Block(b) => check_block(b, &[]),
        Stmt::If(_, a, b) => {
            check_stmt(a)?;
            b.as_deref().map_or(Ok(()), check_stmt)
        }
        Stmt::While(_, b) | Stmt::DoWhile(b, _) => check_stmt(b),
        Stmt::For { init: Some(ForInit::Decl(kind @ (DeclKind::Let | DeclKind::Const), decls)), body, .. } => {
            let _ = kind;
            let names: Vec<Rc<str>> = decls.iter().map(|(n, _)| n.clone()).collect();
            check_block(std::slice::from_ref(body.as_ref()), &names)
        }
        Stmt::ForEach { decl: Some(DeclKind::Let | DeclKind::Const), name, body, .. } => {
            check_block(std::slice::from_ref(body.as_ref()), std::slice::from_ref(name))
        }
        Stmt::For { body, .. } | Stmt::ForEach { body, .. } => check_stmt(body),
        _ => Ok(()),
    }
}

impl Parser {
    fn tok(&self) -> &Tok {
        self.toks.get(self.pos).map(|t| &t.tok).unwrap_or(&Tok::Eof)
    }
    fn peek_at(&self, k: usize) -> &Tok {
        self.toks.get(self.pos + k).map(|t| &t.tok).unwrap_or(&Tok::Eof)
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
            Tok::Punct("{") => {
                self.advance();
                let mut body = Vec::new();
                while !self.is_punct("}") {
                    if self.at_eof() {
                        return Err(syntax("Unexpected end of input"));
                    }
                    body.push(self.statement()?);
                }
                self.advance();
                return Ok(Stmt::Block(body));
            }
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
            "var" | "const" => {
                self.advance();
                let kind = if &*name == "var" { DeclKind::Var } else { DeclKind::Const };
                let decls = self.declarations(kind)?;
                self.semicolon()?;
                Ok(Stmt::Decl(kind, decls))
            }
            "let" if matches!(self.peek_at(1), Tok::Ident(_) | Tok::Punct("[" | "{")) => {
                self.advance();
                let decls = self.declarations(DeclKind::Let)?;
                self.semicolon()?;
                Ok(Stmt::Decl(DeclKind::Let, decls))
            }
            "if" => {
                self.advance();
                self.expect("(")?;
                let test = self.expression()?;
                self.expect(")")?;
                let then = self.sub_statement()?;
                let otherwise = if self.is_word("else") {
                    self.advance();
                    Some(Box::new(self.sub_statement()?))
                } else {
                    None
                };
                Ok(Stmt::If(test, Box::new(then), otherwise))
            }
            "while" => {
                self.advance();
                self.expect("(")?;
                let test = self.expression()?;
                self.expect(")")?;
                Ok(Stmt::While(test, Box::new(self.loop_body()?)))
            }
            "do" => {
                self.advance();
                let body = self.loop_body()?;
                if !self.is_word("while") {
                    return Err(unexpected(self.tok()));
                }
                self.advance();
                self.expect("(")?;
                let test = self.expression()?;
                self.expect(")")?;
                self.eat_punct(";");
                Ok(Stmt::DoWhile(Box::new(body), test))
            }
            "for" => self.for_statement(),
            "break" | "continue" => {
                self.advance();
                if matches!(self.tok(), Tok::Ident(_)) && !self.nl_before() {
                    return Err(unsupported("labelled break/continue"));
                }
                if self.loops == 0 {
                    return Err(syntax(if &*name == "break" {
                        "Illegal break statement"
                    } else {
                        "Illegal continue statement: no surrounding iteration statement"
                    }));
                }
                self.semicolon()?;
                Ok(if &*name == "break" { Stmt::Break } else { Stmt::Continue })
            }
            "return" => {
                if !self.function_mode {
                    return Err(syntax("Illegal return statement"));
                }
                self.advance();
                let value = if self.is_punct(";") || self.is_punct("}") || self.at_eof() || self.nl_before() {
                    None
                } else {
                    Some(self.expression()?)
                };
                self.semicolon()?;
                Ok(Stmt::Return(value))
            }
            "throw" => {
                self.advance();
                if self.nl_before() {
                    return Err(syntax("Illegal newline after throw"));
                }
                let value = self.expression()?;
                self.semicolon()?;
                Ok(Stmt::Throw(value))
            }
            "switch" | "try" | "function" | "class" | "import" | "export" | "with" | "debugger" => {
                Err(unsupported(&format!("'{name}' statements")))
            }
            "async" if matches!(self.peek_at(1), Tok::Ident(_)) && !self.toks.get(self.pos + 1).is_some_and(|t| t.nl_before) => {
                Err(unsupported("async functions"))
            }
            _ => self.expression_statement(),
        }
    }

    /// The body of `if`/`else`: no lexical declarations allowed there.
    fn sub_statement(&mut self) -> R<Stmt> {
        if self.is_word("const") || (self.is_word("let") && matches!(self.peek_at(1), Tok::Ident(_) | Tok::Punct("["))) {
            return Err(syntax("Lexical declaration cannot appear in a single-statement context"));
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
            Tok::Ident(n) if UNSUPPORTED_KEYWORDS.contains(&&*n) => Err(unsupported(&format!("'{n}' as a name"))),
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
            Tok::Ident(n) if &**n == "let" && matches!(self.peek_at(1), Tok::Ident(_) | Tok::Punct("[" | "{")) => {
                Some(DeclKind::Let)
            }
            _ => None,
        };
        let skip = usize::from(decl_kind.is_some());
        if let (Tok::Ident(name), Tok::Ident(kw)) = (self.peek_at(skip).clone(), self.peek_at(skip + 1).clone()) {
            if (&*kw == "of" || &*kw == "in") && !RESERVED.contains(&&*name) {
                self.pos += skip + 2;
                let of = &*kw == "of";
                let iter = if of { self.assignment()? } else { self.expression()? };
                self.expect(")")?;
                let body = Box::new(self.loop_body()?);
                return Ok(Stmt::ForEach { decl: decl_kind, name, of, iter, body });
            }
        }
        let init = if self.is_punct(";") {
            None
        } else if let Some(kind) = decl_kind {
            self.advance();
            let mut decls = Vec::new();
            loop {
                let name = self.binding_name()?;
                let init = if self.eat_punct("=") { Some(self.assignment()?) } else { None };
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
        let test = if self.is_punct(";") { None } else { Some(self.expression()?) };
        self.expect(";")?;
        let update = if self.is_punct(")") { None } else { Some(self.expression()?) };
        self.expect(")")?;
        let body = Box::new(self.loop_body()?);
        Ok(Stmt::For { init, test, update, body })
    }

    // ----- expressions -----

    pub fn expression(&mut self) -> R<Expr> {
        let first = self.assignment()?;
        if !self.is_punct(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_punct(",") {
            items.push(self.assignment()?);
        }
        Ok(Expr::Seq(items))
    }

    fn assignment(&mut self) -> R<Expr> {
        self.enter()?;
        if matches!(self.tok(), Tok::Ident(_)) && matches!(self.peek_at(1), Tok::Punct("=>")) {
            return Err(unsupported("arrow functions"));
        }
        if self.is_word("async") && matches!(self.peek_at(1), Tok::Ident(_)) {
            return Err(unsupported("async functions"));
        }
        let left = self.conditional()?;
        if self.is_punct("=>") {
            return Err(unsupported("arrow functions"));
        }
        let op = match self.tok() {
            Tok::Punct(p) => match *p {
                "=" => Some(AssignOp::Plain),
                "+=" => Some(AssignOp::Arith(BinOp::Add)),
                "-=" => Some(AssignOp::Arith(BinOp::Sub)),
                "*=" => Some(AssignOp::Arith(BinOp::Mul)),
                "/=" => Some(AssignOp::Arith(BinOp::Div)),
                "%=" => Some(AssignOp::Arith(BinOp::Rem)),
                "**=" => Some(AssignOp::Arith(BinOp::Pow)),
                "<<=" => Some(AssignOp::Arith(BinOp::Shl)),
                ">>=" => Some(AssignOp::Arith(BinOp::Shr)),
                ">>>=" => Some(AssignOp::Arith(BinOp::UShr)),
                "&=" => Some(AssignOp::Arith(BinOp::BitAnd)),
                "|=" => Some(AssignOp::Arith(BinOp::BitOr)),
                "^=" => Some(AssignOp::Arith(BinOp::BitXor)),
                "&&=" => Some(AssignOp::Logic(LogicOp::And)),
                "||=" => Some(AssignOp::Logic(LogicOp::Or)),
                "??=" => Some(AssignOp::Logic(LogicOp::Nullish)),
                _ => None,
            },
            _ => None,
        };
        let out = match op {
            None => left,
            Some(op) => {
                if op == AssignOp::Plain && matches!(left, Expr::Array(_) | Expr::Object(_)) {
                    return Err(unsupported("destructuring assignment"));
                }
                let target = simple_target(left).ok_or_else(|| syntax("Invalid left-hand side in assignment"))?;
                self.advance();
                let value = self.assignment()?;
                Expr::Assign(op, Box::new(target), Box::new(value))
            }
        };
        self.leave();
        Ok(out)
    }

    fn conditional(&mut self) -> R<Expr> {
        let test = self.binary(1)?;
        if !self.eat_punct("?") {
            return Ok(test);
        }
        let yes = self.assignment()?;
        self.expect(":")?;
        let no = self.assignment()?;
        Ok(Expr::Cond(Box::new(test), Box::new(yes), Box::new(no)))
    }

    fn binop(&self) -> R<Option<(u8, Result<BinOp, LogicOp>)>> {
        let t = match self.tok() {
            Tok::Punct(p) => *p,
            Tok::Ident(n) if &**n == "in" => "in",
            Tok::Ident(n) if &**n == "instanceof" => return Err(unsupported("instanceof")),
            _ => return Ok(None),
        };
        use BinOp::*;
        Ok(Some(match t {
            "??" => (1, Err(LogicOp::Nullish)),
            "||" => (2, Err(LogicOp::Or)),
            "&&" => (3, Err(LogicOp::And)),
            "|" => (4, Ok(BitOr)),
            "^" => (5, Ok(BitXor)),
            "&" => (6, Ok(BitAnd)),
            "==" => (7, Ok(Eq)),
            "!=" => (7, Ok(Ne)),
            "===" => (7, Ok(StrictEq)),
            "!==" => (7, Ok(StrictNe)),
            "<" => (8, Ok(Lt)),
            ">" => (8, Ok(Gt)),
            "<=" => (8, Ok(Le)),
            ">=" => (8, Ok(Ge)),
            "in" => (8, Ok(In)),
            "<<" => (9, Ok(Shl)),
            ">>" => (9, Ok(Shr)),
            ">>>" => (9, Ok(UShr)),
            "+" => (10, Ok(Add)),
            "-" => (10, Ok(Sub)),
            "*" => (11, Ok(Mul)),
            "/" => (11, Ok(Div)),
            "%" => (11, Ok(Rem)),
            "**" => (12, Ok(Pow)),
            _ => return Ok(None),
        }))
    }

    fn binary(&mut self, min: u8) -> R<Expr> {
        self.enter()?;
        let saved = self.depth;
        let mut left = self.unary()?;
        while let Some((prec, op)) = self.binop()? {
            if prec < min {
                break;
            }
            if op == Ok(BinOp::Pow) && matches!(left, Expr::Unary(..)) {
                return Err(syntax(
                    "Unary operator used immediately before exponentiation expression. Parenthesis must be used to disambiguate operator precedence",
                ));
            }
            self.advance();
            self.enter()?;
            let right = self.binary(if op == Ok(BinOp::Pow) { prec } else { prec + 1 })?;
            let mixes = |e: &Expr, nullish: bool| match e {
                Expr::Logic(LogicOp::Nullish, ..) => !nullish,
                Expr::Logic(..) => nullish,
                _ => false,
            };
            left = match op {
                Ok(b) => Expr::Binary(b, Box::new(left), Box::new(right)),
                Err(l) => {
                    let nullish = l == LogicOp::Nullish;
                    if mixes(&left, nullish) || mixes(&right, nullish) {
                        return Err(syntax("Unexpected token '??'"));
                    }
                    Expr::Logic(l, Box::new(left), Box::new(right))
                }
            };
        }
        self.depth = saved;
        self.leave();
        Ok(left)
    }

    fn unary(&mut self) -> R<Expr> {
        let op = match self.tok() {
            Tok::Punct("!") => Some(UnaryOp::Not),
            Tok::Punct("-") => Some(UnaryOp::Neg),
            Tok::Punct("+") => Some(UnaryOp::Plus),
            Tok::Punct("~") => Some(UnaryOp::BitNot),
            Tok::Ident(n) if &**n == "typeof" => Some(UnaryOp::TypeOf),
            Tok::Ident(n) if &**n == "void" => Some(UnaryOp::Void),
            Tok::Ident(n) if &**n == "delete" => Some(UnaryOp::Delete),
            Tok::Ident(n) if &**n == "await" => return Err(unsupported("await")),
            Tok::Punct(p @ ("++" | "--")) => {
                let inc = *p == "++";
                self.advance();
                self.enter()?;
                let operand = self.unary()?;
                self.leave();
                let target = simple_target(operand).ok_or_else(|| {
                    syntax("Invalid left-hand side expression in prefix operation")
                })?;
                return Ok(Expr::Update { inc, prefix: true, target: Box::new(target) });
            }
            _ => None,
        };
        let Some(op) = op else { return self.postfix() };
        self.advance();
        self.enter()?;
        let operand = self.unary()?;
        self.leave();
        Ok(Expr::Unary(op, Box::new(operand)))
    }

    fn postfix(&mut self) -> R<Expr> {
        let e = self.call_member()?;
        if let Tok::Punct(p @ ("++" | "--")) = self.tok() {
            if !self.nl_before() {
                let inc = *p == "++";
                let target =
                    simple_target(e).ok_or_else(|| syntax("Invalid left-hand side expression in postfix operation"))?;
                self.advance();
                return Ok(Expr::Update { inc, prefix: false, target: Box::new(target) });
            }
        }
        Ok(e)
    }

    fn property_name(&mut self) -> R<Rc<str>> {
        match self.advance() {
            Tok::Ident(n) => Ok(n),
            Tok::Punct("#") => Err(unsupported("private names")),
            t => Err(unexpected(&t)),
        }
    }

    fn call_member(&mut self) -> R<Expr> {
        let saved = self.depth;
        let mut e = self.primary()?;
        let mut optional_chain = false;
        loop {
            e = match self.tok() {
                Tok::Punct(".") => {
                    self.advance();
                    let name = self.property_name()?;
                    Expr::Member { obj: Box::new(e), prop: Prop::Name(name), optional: false }
                }
                Tok::Punct("?.") => {
                    self.advance();
                    optional_chain = true;
                    if self.eat_punct("(") {
                        let args = self.arguments()?;
                        Expr::Call { callee: Box::new(e), args, optional: true }
                    } else if self.eat_punct("[") {
                        let key = self.expression()?;
                        self.expect("]")?;
                        Expr::Member { obj: Box::new(e), prop: Prop::Computed(Box::new(key)), optional: true }
                    } else {
                        let name = self.property_name()?;
                        Expr::Member { obj: Box::new(e), prop: Prop::Name(name), optional: true }
                    }
                }
                Tok::Punct("[") => {
                    self.advance();
                    let key = self.expression()?;
                    self.expect("]")?;
                    Expr::Member { obj: Box::new(e), prop: Prop::Computed(Box::new(key)), optional: false }
                }
                Tok::Punct("(") => {
                    self.advance();
                    let args = self.arguments()?;
                    Expr::Call { callee: Box::new(e), args, optional: false }
                }
                Tok::Template(_) => return Err(unsupported("tagged templates")),
                _ => break,
            };
            self.enter()?;
        }
        self.depth = saved;
        Ok(if optional_chain { Expr::OptChain(Box::new(e)) } else { e })
    }

    /// Call arguments after the `(`.
    fn arguments(&mut self) -> R<Vec<Expr>> {
        let mut args = Vec::new();
        while !self.eat_punct(")") {
            if self.is_punct("...") {
                return Err(unsupported("spread arguments"));
            }
            args.push(self.assignment()?);
            if !self.eat_punct(",") {
                self.expect(")")?;
                break;
            }
        }
        Ok(args)
    }

    fn primary(&mut self) -> R<Expr> {
        let t = self.advance();
        Ok(match t {
            Tok::Num(x) => Expr::Num(x),
            Tok::Str(s) => Expr::Str(s),
            Tok::Template(parts) => self.template(parts)?,
            Tok::Ident(n) => match &*n {
                "true" => Expr::Bool(true),
                "false" => Expr::Bool(false),
                "null" => Expr::Null,
                "let" | "async" | "static" | "of" | "get" | "set" => Expr::Ident(n),
                k if UNSUPPORTED_KEYWORDS.contains(&k) => return Err(unsupported(&format!("'{k}'"))),
                k if RESERVED.contains(&k) => return Err(syntax(&format!("Unexpected token '{k}'"))),
                _ => Expr::Ident(n),
            },
            Tok::Punct("(") => {
                if self.is_punct(")") {
                    return Err(if matches!(self.peek_at(1), Tok::Punct("=>")) {
                        unsupported("arrow functions")
                    } else {
                        syntax("Unexpected token ')'")
                    });
                }
                if self.is_punct("...") {
                    return Err(unsupported("arrow functions"));
                }
                let e = self.expression()?;
                self.expect(")")?;
                Expr::Paren(Box::new(e))
            }
            Tok::Punct("[") => {
                let mut items = Vec::new();
                loop {
                    if self.eat_punct("]") {
                        break;
                    }
                    if self.eat_punct(",") {
                        items.push(None);
                        continue;
                    }
                    if self.is_punct("...") {
                        return Err(unsupported("spread elements"));
                    }
                    items.push(Some(self.assignment()?));
                    if !self.eat_punct(",") {
                        self.expect("]")?;
                        break;
                    }
                }
                Expr::Array(items)
            }
            Tok::Punct("{") => self.object()?,
            t => return Err(unexpected(&t)),
        })
    }

    fn object(&mut self) -> R<Expr> {
        let mut props = Vec::new();
        while !self.eat_punct("}") {
            let key_tok = self.advance();
            let next_is_value = matches!(self.tok(), Tok::Punct(":" | "," | "}" | "(" | "="));
            let key = match &key_tok {
                Tok::Ident(n) if matches!(&**n, "get" | "set" | "async") && !next_is_value => {
                    return Err(unsupported("accessors and async methods"))
                }
                Tok::Ident(n) | Tok::Str(n) => Prop::Name(n.clone()),
                Tok::Num(x) => Prop::Name(number_to_string(*x).into()),
                Tok::Punct("[") => {
                    let k = self.assignment()?;
                    self.expect("]")?;
                    Prop::Computed(Box::new(k))
                }
                Tok::Punct("...") => return Err(unsupported("object spread")),
                Tok::Punct("*") => return Err(unsupported("generator methods")),
                t => return Err(unexpected(t)),
            };
            let value = if self.eat_punct(":") {
                self.assignment()?
            } else if self.is_punct("(") {
                return Err(unsupported("methods in object literals"));
            } else if self.is_punct("=") {
                return Err(unsupported("destructuring"));
            } else {
                match &key_tok {
                    Tok::Ident(n) if !RESERVED.contains(&&**n) && (self.is_punct(",") || self.is_punct("}")) => {
                        Expr::Ident(n.clone())
                    }
                    _ => return Err(unexpected(self.tok())),
                }
            };
            if key == Prop::Name("__proto__".into()) {
                return Err(unsupported("__proto__"));
            }
            props.push((key, value));
            if !self.eat_punct(",") {
                self.expect("}")?;
                break;
            }
        }
        Ok(Expr::Object(props))
    }

    fn template(&mut self, parts: Vec<TplPart>) -> R<Expr> {
        let mut pieces = Vec::new();
        for part in parts {
            match part {
                TplPart::Str(s) => pieces.push(TplPiece::Str(s)),
                TplPart::Expr(toks) => {
                    let mut sub = Parser { toks, pos: 0, depth: self.depth, loops: 0, function_mode: false };
                    let e = sub.expression()?;
                    if !sub.at_eof() {
                        return Err(unexpected(sub.tok()));
                    }
                    pieces.push(TplPiece::Expr(e));
                }
            }
        }
        Ok(Expr::Template(pieces))
    }
}

/// An assignment target: an identifier or a non-optional member (parentheses allowed).
fn simple_target(e: Expr) -> Option<Expr> {
    match e {
        Expr::Ident(_) | Expr::Member { optional: false, .. } => Some(e),
        Expr::Paren(inner) => simple_target(*inner),
        _ => None,
    }
}

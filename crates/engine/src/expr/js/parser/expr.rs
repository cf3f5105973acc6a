//! Expression parsing (precedence climbing for binary operators).

use super::super::ast::*;
use super::super::lexer::{Tok, TplPart};
use super::super::{syntax, unsupported, R};
use super::{unexpected, Parser, RESERVED, UNSUPPORTED_KEYWORDS};
use crate::expr::jsvalue::number_to_string;
use std::rc::Rc;

impl Parser {
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

    pub(super) fn assignment(&mut self) -> R<Expr> {
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
                let target = simple_target(left)
                    .ok_or_else(|| syntax("Invalid left-hand side in assignment"))?;
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
                return Ok(Expr::Update {
                    inc,
                    prefix: true,
                    target: Box::new(target),
                });
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
                let target = simple_target(e).ok_or_else(|| {
                    syntax("Invalid left-hand side expression in postfix operation")
                })?;
                self.advance();
                return Ok(Expr::Update {
                    inc,
                    prefix: false,
                    target: Box::new(target),
                });
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
                    Expr::Member {
                        obj: Box::new(e),
                        prop: Prop::Name(name),
                        optional: false,
                    }
                }
                Tok::Punct("?.") => {
                    self.advance();
                    optional_chain = true;
                    if self.eat_punct("(") {
                        let args = self.arguments()?;
                        Expr::Call {
                            callee: Box::new(e),
                            args,
                            optional: true,
                        }
                    } else if self.eat_punct("[") {
                        let key = self.expression()?;
                        self.expect("]")?;
                        Expr::Member {
                            obj: Box::new(e),
                            prop: Prop::Computed(Box::new(key)),
                            optional: true,
                        }
                    } else {
                        let name = self.property_name()?;
                        Expr::Member {
                            obj: Box::new(e),
                            prop: Prop::Name(name),
                            optional: true,
                        }
                    }
                }
                Tok::Punct("[") => {
                    self.advance();
                    let key = self.expression()?;
                    self.expect("]")?;
                    Expr::Member {
                        obj: Box::new(e),
                        prop: Prop::Computed(Box::new(key)),
                        optional: false,
                    }
                }
                Tok::Punct("(") => {
                    self.advance();
                    let args = self.arguments()?;
                    Expr::Call {
                        callee: Box::new(e),
                        args,
                        optional: false,
                    }
                }
                Tok::Template(_) => return Err(unsupported("tagged templates")),
                _ => break,
            };
            self.enter()?;
        }
        self.depth = saved;
        Ok(if optional_chain {
            Expr::OptChain(Box::new(e))
        } else {
            e
        })
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
                k if UNSUPPORTED_KEYWORDS.contains(&k) => {
                    return Err(unsupported(&format!("'{k}'")))
                }
                k if RESERVED.contains(&k) => {
                    return Err(syntax(&format!("Unexpected token '{k}'")))
                }
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
                    Tok::Ident(n)
                        if !RESERVED.contains(&&**n)
                            && (self.is_punct(",") || self.is_punct("}")) =>
                    {
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
                    let mut sub = Parser {
                        toks,
                        pos: 0,
                        depth: self.depth,
                        loops: 0,
                        function_mode: false,
                    };
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
        Expr::Ident(_)
        | Expr::Member {
            optional: false, ..
        } => Some(e),
        Expr::Paren(inner) => simple_target(*inner),
        _ => None,
    }
}

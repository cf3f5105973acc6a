//! Syntax tree of the JavaScript subset.

use super::{syntax, R};
use std::rc::Rc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
    Lt,
    Gt,
    Le,
    Ge,
    Eq,
    Ne,
    StrictEq,
    StrictNe,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    UShr,
    In,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicOp {
    And,
    Or,
    Nullish,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
    Plus,
    BitNot,
    TypeOf,
    Void,
    Delete,
}

/// `=`, an arithmetic compound assignment (`+=`) or a logical one (`||=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignOp {
    Plain,
    Arith(BinOp),
    Logic(LogicOp),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Prop {
    Name(Rc<str>),
    Computed(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TplPiece {
    Str(Rc<str>),
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    Str(Rc<str>),
    Bool(bool),
    Null,
    Template(Vec<TplPiece>),
    Ident(Rc<str>),
    /// Array literal; `None` is a hole (`[1, , 2]`).
    Array(Vec<Option<Expr>>),
    Object(Vec<(Prop, Expr)>),
    Paren(Box<Expr>),
    Member {
        obj: Box<Expr>,
        prop: Prop,
        optional: bool,
    },
    Call {
        callee: Box<Expr>,
        args: Vec<Expr>,
        optional: bool,
    },
    /// The extent of an optional chain (`a?.b.c`): a short-circuit yields `undefined` here.
    OptChain(Box<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Update {
        inc: bool,
        prefix: bool,
        target: Box<Expr>,
    },
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Logic(LogicOp, Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Assign(AssignOp, Box<Expr>, Box<Expr>),
    Seq(Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclKind {
    Var,
    Let,
    Const,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ForInit {
    Decl(DeclKind, Vec<(Rc<str>, Option<Expr>)>),
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Empty,
    Expr(Expr),
    Decl(DeclKind, Vec<(Rc<str>, Option<Expr>)>),
    Block(Vec<Stmt>),
    If(Expr, Box<Stmt>, Option<Box<Stmt>>),
    While(Expr, Box<Stmt>),
    DoWhile(Box<Stmt>, Expr),
    For {
        init: Option<ForInit>,
        test: Option<Expr>,
        update: Option<Expr>,
        body: Box<Stmt>,
    },
    /// `for (x of xs)` (`of = true`) or `for (k in obj)`.
    ForEach {
        decl: Option<DeclKind>,
        name: Rc<str>,
        of: bool,
        iter: Expr,
        body: Box<Stmt>,
    },
    Break,
    Continue,
    Return(Option<Expr>),
    Throw(Expr),
}

/// Names declared with `let`/`const` directly in a statement list.
pub fn lexical_names(stmts: &[Stmt]) -> Vec<(Rc<str>, bool)> {
    let mut out = Vec::new();
    for s in stmts {
        if let Stmt::Decl(kind @ (DeclKind::Let | DeclKind::Const), decls) = s {
            for (name, _) in decls {
                out.push((name.clone(), *kind == DeclKind::Const));
            }
        }
    }
    out
}

/// Names declared with `var` anywhere in a statement list (not crossing functions: there are none).
pub fn var_names(stmts: &[Stmt], out: &mut Vec<Rc<str>>) {
    for s in stmts {
        var_names_stmt(s, out);
    }
}

fn var_names_stmt(s: &Stmt, out: &mut Vec<Rc<str>>) {
    let mut push = |n: &Rc<str>| {
        if !out.contains(n) {
            out.push(n.clone());
        }
    };
    match s {
        Stmt::Decl(DeclKind::Var, decls)
        | Stmt::For {
            init: Some(ForInit::Decl(DeclKind::Var, decls)),
            ..
        } => {
            decls.iter().for_each(|(n, _)| push(n));
            if let Stmt::For { body, .. } = s {
                var_names_stmt(body, out);
            }
        }
        Stmt::ForEach {
            decl: Some(DeclKind::Var),
            name,
            body,
            ..
        } => {
            push(name);
            var_names_stmt(body, out);
        }
        Stmt::Block(b) => var_names(b, out),
        Stmt::If(_, a, b) => {
            var_names_stmt(a, out);
            if let Some(b) = b {
                var_names_stmt(b, out);
            }
        }
        Stmt::While(_, b)
        | Stmt::DoWhile(b, _)
        | Stmt::For { body: b, .. }
        | Stmt::ForEach { body: b, .. } => var_names_stmt(b, out),
        _ => {}
    }
}

/// Early errors of a program (reported before anything runs, like JavaScript).
pub fn check_early_errors(body: &[Stmt]) -> R<()> {
    check_block(body, &[])
}

/// Early errors: `let`/`const` declared twice in a block or also declared with `var` inside it.
fn check_block(stmts: &[Stmt], extra_lexical: &[Rc<str>]) -> R<()> {
    let mut lexical: Vec<Rc<str>> = extra_lexical.to_vec();
    for (name, _) in lexical_names(stmts) {
        if lexical.contains(&name) {
            return Err(syntax(&format!(
                "Identifier '{name}' has already been declared"
            )));
        }
        lexical.push(name);
    }
    let mut vars = Vec::new();
    var_names(stmts, &mut vars);
    if let Some(n) = vars.iter().find(|v| lexical.contains(v)) {
        return Err(syntax(&format!(
            "Identifier '{n}' has already been declared"
        )));
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
        Stmt::For {
            init: Some(ForInit::Decl(kind @ (DeclKind::Let | DeclKind::Const), decls)),
            body,
            ..
        } => {
            let _ = kind;
            let names: Vec<Rc<str>> = decls.iter().map(|(n, _)| n.clone()).collect();
            check_block(std::slice::from_ref(body.as_ref()), &names)
        }
        Stmt::ForEach {
            decl: Some(DeclKind::Let | DeclKind::Const),
            name,
            body,
            ..
        } => check_block(
            std::slice::from_ref(body.as_ref()),
            std::slice::from_ref(name),
        ),
        Stmt::For { body, .. } | Stmt::ForEach { body, .. } => check_stmt(body),
        _ => Ok(()),
    }
}

//! Statement execution. Each statement kind has its own function so that the recursive
//! `exec` frame stays small (deeply nested statements recurse through it).

use super::super::ast::*;
use super::super::{thrown, R};
use super::{describe, Binding, Flow, Interp};
use crate::expr::jsvalue::{truthy, JsValue};
use crate::expr::ScriptError;
use std::rc::Rc;

impl Interp {
    pub fn exec(&mut self, s: &Stmt) -> R<Flow> {
        self.tick()?;
        match s {
            Stmt::Empty => Ok(Flow::Normal),
            Stmt::Expr(e) => self.eval(e).map(|_| Flow::Normal),
            Stmt::Decl(kind, decls) => self.declare(*kind, decls).map(|_| Flow::Normal),
            Stmt::Block(b) => self.exec_block(b),
            Stmt::If(test, yes, no) => self.exec_if(test, yes, no.as_deref()),
            Stmt::While(test, body) => self.exec_while(test, body),
            Stmt::DoWhile(body, test) => self.exec_do_while(body, test),
            Stmt::For {
                init,
                test,
                update,
                body,
            } => self.exec_for(init.as_ref(), test.as_ref(), update.as_ref(), body),
            Stmt::ForEach {
                decl,
                name,
                of,
                iter,
                body,
            } => self.for_each(*decl, name, *of, iter, body),
            Stmt::Break => Ok(Flow::Break),
            Stmt::Continue => Ok(Flow::Continue),
            Stmt::Return(e) => self.exec_return(e.as_ref()),
            Stmt::Throw(e) => self.exec_throw(e),
        }
    }

    fn exec_block(&mut self, stmts: &[Stmt]) -> R<Flow> {
        let scope = lexical_names(stmts)
            .into_iter()
            .map(|(name, constant)| Binding {
                name,
                value: None,
                constant,
            })
            .collect();
        self.scopes.push(scope);
        let out = self.exec_list(stmts);
        self.scopes.pop();
        out
    }

    fn exec_list(&mut self, stmts: &[Stmt]) -> R<Flow> {
        for s in stmts {
            match self.exec(s)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn exec_if(&mut self, test: &Expr, yes: &Stmt, no: Option<&Stmt>) -> R<Flow> {
        if truthy(&self.eval(test)?) {
            self.exec(yes)
        } else if let Some(no) = no {
            self.exec(no)
        } else {
            Ok(Flow::Normal)
        }
    }

    fn exec_while(&mut self, test: &Expr, body: &Stmt) -> R<Flow> {
        while truthy(&self.eval(test)?) {
            if let Some(flow) = self.loop_body(body)? {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn exec_do_while(&mut self, body: &Stmt, test: &Expr) -> R<Flow> {
        loop {
            if let Some(flow) = self.loop_body(body)? {
                return Ok(flow);
            }
            if !truthy(&self.eval(test)?) {
                return Ok(Flow::Normal);
            }
        }
    }

    fn exec_return(&mut self, e: Option<&Expr>) -> R<Flow> {
        let v = match e {
            Some(e) => self.eval(e)?,
            None => JsValue::Undefined,
        };
        Ok(Flow::Return(v))
    }

    fn exec_throw(&mut self, e: &Expr) -> R<Flow> {
        let v = self.eval(e)?;
        let text = self.heap.to_str(&v)?;
        Err(ScriptError::Thrown(format!("Uncaught {text}")))
    }

    pub(super) fn declare(&mut self, kind: DeclKind, decls: &[(Rc<str>, Option<Expr>)]) -> R<()> {
        for (name, init) in decls {
            match (kind, init) {
                (DeclKind::Var, None) => {}
                (DeclKind::Var, Some(e)) => {
                    let v = self.eval(e)?;
                    self.set_var(name, v)?;
                }
                (_, init) => {
                    let v = match init {
                        Some(e) => self.eval(e)?,
                        None => JsValue::Undefined,
                    };
                    self.init_lexical(name, v);
                }
            }
        }
        Ok(())
    }

    /// Runs a loop body; `Some(flow)` when the loop must stop with that flow.
    fn loop_body(&mut self, body: &Stmt) -> R<Option<Flow>> {
        Ok(match self.exec(body)? {
            Flow::Break => Some(Flow::Normal),
            Flow::Return(v) => Some(Flow::Return(v)),
            Flow::Normal | Flow::Continue => None,
        })
    }

    fn exec_for(
        &mut self,
        init: Option<&ForInit>,
        test: Option<&Expr>,
        update: Option<&Expr>,
        body: &Stmt,
    ) -> R<Flow> {
        let scope = match init {
            Some(ForInit::Decl(kind @ (DeclKind::Let | DeclKind::Const), decls)) => decls
                .iter()
                .map(|(n, _)| Binding {
                    name: n.clone(),
                    value: None,
                    constant: *kind == DeclKind::Const,
                })
                .collect(),
            _ => Vec::new(),
        };
        self.scopes.push(scope);
        let out = self.exec_for_in_scope(init, test, update, body);
        self.scopes.pop();
        out
    }

    fn exec_for_in_scope(
        &mut self,
        init: Option<&ForInit>,
        test: Option<&Expr>,
        update: Option<&Expr>,
        body: &Stmt,
    ) -> R<Flow> {
        match init {
            Some(ForInit::Decl(kind, decls)) => self.declare(*kind, decls)?,
            Some(ForInit::Expr(e)) => {
                self.eval(e)?;
            }
            None => {}
        }
        loop {
            match test {
                Some(t) => {
                    if !truthy(&self.eval(t)?) {
                        return Ok(Flow::Normal);
                    }
                }
                None => self.tick()?,
            }
            if let Some(flow) = self.loop_body(body)? {
                return Ok(flow);
            }
            if let Some(u) = update {
                self.eval(u)?;
            }
        }
    }

    fn for_each(
        &mut self,
        decl: Option<DeclKind>,
        name: &Rc<str>,
        of: bool,
        iter: &Expr,
        body: &Stmt,
    ) -> R<Flow> {
        let coll = self.eval(iter)?;
        // Items are read live for arrays (like JavaScript) and snapshotted otherwise.
        let snapshot: Option<Vec<JsValue>> = match (&coll, of) {
            (JsValue::Arr(_), true) => None,
            (JsValue::Str(s), true) => {
                Some(s.chars().map(|c| JsValue::str(c.to_string())).collect())
            }
            (_, true) => {
                return Err(thrown(
                    "TypeError",
                    &format!("{} is not iterable", describe(iter)),
                ));
            }
            (JsValue::Obj(id), false) => {
                Some(self.heap.keys(*id).into_iter().map(JsValue::Str).collect())
            }
            (JsValue::Arr(id), false) => Some(
                (0..self.heap.array(*id).len())
                    .map(|i| JsValue::str(i.to_string()))
                    .collect(),
            ),
            (JsValue::Str(s), false) => Some(
                (0..s.encode_utf16().count())
                    .map(|i| JsValue::str(i.to_string()))
                    .collect(),
            ),
            (_, false) => Some(Vec::new()),
        };
        let mut i = 0usize;
        loop {
            self.tick()?;
            let item = match (&snapshot, &coll) {
                (Some(items), _) => items.get(i).cloned(),
                (None, JsValue::Arr(id)) => self.heap.array(*id).get(i).cloned(),
                _ => None,
            };
            let Some(item) = item else {
                return Ok(Flow::Normal);
            };
            i += 1;
            let flow = match decl {
                Some(kind @ (DeclKind::Let | DeclKind::Const)) => {
                    self.scopes.push(vec![Binding {
                        name: name.clone(),
                        value: Some(item),
                        constant: kind == DeclKind::Const,
                    }]);
                    let flow = self.loop_body(body);
                    self.scopes.pop();
                    flow?
                }
                _ => {
                    self.set_var(name, item)?;
                    self.loop_body(body)?
                }
            };
            if let Some(flow) = flow {
                return Ok(flow);
            }
        }
    }
}

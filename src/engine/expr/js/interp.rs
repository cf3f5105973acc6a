//! Tree-walking evaluator of the JavaScript subset.

use super::ast::*;
use super::builtins;
use super::{limit, thrown, unsupported, R};
use crate::engine::expr::jsvalue::{
    array_index, js_pow, js_rem, number_to_string, strict_eq, to_int32, to_uint32, truthy, type_of, Heap, JsValue,
};
use crate::engine::state::Vars;
use std::collections::HashMap;
use std::rc::Rc;

/// Evaluation steps (expression nodes + statements) before `Limit`.
pub const MAX_STEPS: u64 = 1_000_000;
/// How far past the end of an array an index assignment may write (holes are `undefined`).
const MAX_ARRAY_GAP: usize = 100_000;

/// A property key: an array index or a name.
#[derive(Debug, Clone)]
pub enum Key {
    Index(usize),
    Name(Rc<str>),
}

impl Key {
    pub fn from_str(s: Rc<str>) -> Key {
        match array_index(&s) {
            Some(i) => Key::Index(i as usize),
            None => Key::Name(s),
        }
    }
    pub fn text(&self) -> Rc<str> {
        match self {
            Key::Index(i) => i.to_string().into(),
            Key::Name(n) => n.clone(),
        }
    }
    pub fn is(&self, name: &str) -> bool {
        matches!(self, Key::Name(n) if &**n == name)
    }
}

struct Binding {
    name: Rc<str>,
    /// `None` while in the temporal dead zone.
    value: Option<JsValue>,
    constant: bool,
}

pub enum Flow {
    Normal,
    Break,
    Continue,
    Return(JsValue),
}

pub struct Interp {
    pub heap: Heap,
    pub globals: HashMap<Rc<str>, JsValue>,
    scopes: Vec<Vec<Binding>>,
    steps: u64,
}

/// A readable form of a callee for error messages (`a.b.c`).
pub fn describe(e: &Expr) -> String {
    match e {
        Expr::Ident(n) => n.to_string(),
        Expr::Member { obj, prop: Prop::Name(n), .. } => format!("{}.{n}", describe(obj)),
        Expr::Member { obj, .. } => format!("{}[...]", describe(obj)),
        Expr::Paren(inner) | Expr::OptChain(inner) => describe(inner),
        Expr::Str(s) => format!("\"{s}\""),
        Expr::Num(x) => number_to_string(*x),
        _ => "expression".into(),
    }
}

impl Interp {
    /// A fresh interpreter with every variable as a global (deep copies).
    pub fn new(vars: &Vars) -> R<Interp> {
        let mut heap = Heap::new();
        let mut globals = HashMap::with_capacity(vars.len());
        for (k, v) in vars {
            globals.insert(Rc::from(k.as_str()), heap.from_json(v)?);
        }
        Ok(Interp { heap, globals, scopes: vec![Vec::new()], steps: 0 })
    }

    pub fn tick(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(limit("step limit exceeded (infinite loop?)"));
        }
        Ok(())
    }

    /// Runs a program; `Some(value)` when a `return` ran.
    pub fn run_program(&mut self, body: &[Stmt], function_mode: bool) -> R<Option<JsValue>> {
        let mut vars = Vec::new();
        var_names(body, &mut vars);
        let mut scope = Vec::new();
        for name in vars {
            if function_mode {
                scope.push(Binding { name, value: Some(JsValue::Undefined), constant: false });
            } else {
                self.globals.entry(name).or_insert(JsValue::Undefined);
            }
        }
        for (name, constant) in lexical_names(body) {
            scope.push(Binding { name, value: None, constant });
        }
        self.scopes = vec![scope];
        for s in body {
            match self.exec(s)? {
                Flow::Return(v) => return Ok(Some(v)),
                Flow::Normal | Flow::Break | Flow::Continue => {}
            }
        }
        Ok(None)
    }

    // ----- variables -----

    fn find(&self, name: &str) -> Option<(usize, usize)> {
        for (si, scope) in self.scopes.iter().enumerate().rev() {
            if let Some(bi) = scope.iter().position(|b| &*b.name == name) {
                return Some((si, bi));
            }
        }
        None
    }

    fn shadowed(&self, name: &str) -> bool {
        self.find(name).is_some() || self.globals.contains_key(name)
    }

    pub fn get_var(&self, name: &str) -> R<JsValue> {
        if let Some((si, bi)) = self.find(name) {
            return self.scopes[si][bi]
                .value
                .clone()
                .ok_or_else(|| thrown("ReferenceError", &format!("Cannot access '{name}' before initialization")));
        }
        if let Some(v) = self.globals.get(name) {
            return Ok(v.clone());
        }
        match name {
            "undefined" => Ok(JsValue::Undefined),
            "NaN" => Ok(JsValue::Num(f64::NAN)),
            "Infinity" => Ok(JsValue::Num(f64::INFINITY)),
            n if builtins::is_known_global(n) => Err(unsupported(&format!("'{n}' used as a value"))),
            n => Err(thrown("ReferenceError", &format!("{n} is not defined"))),
        }
    }

    pub fn set_var(&mut self, name: &Rc<str>, v: JsValue) -> R<()> {
        if let Some((si, bi)) = self.find(name) {
            let b = &mut self.scopes[si][bi];
            if b.value.is_none() {
                return Err(thrown("ReferenceError", &format!("Cannot access '{name}' before initialization")));
            }
            if b.constant {
                return Err(thrown("TypeError", "Assignment to constant variable."));
            }
            b.value = Some(v);
            return Ok(());
        }
        if !self.globals.contains_key(name) && matches!(&**name, "undefined" | "NaN" | "Infinity") {
            return Ok(());
        }
        self.globals.insert(name.clone(), v);
        Ok(())
    }

    fn init_lexical(&mut self, name: &Rc<str>, v: JsValue) {
        if let Some((si, bi)) = self.find(name) {
            self.scopes[si][bi].value = Some(v);
        }
    }

    fn with_scope<T>(&mut self, scope: Vec<Binding>, f: impl FnOnce(&mut Self) -> R<T>) -> R<T> {
        self.scopes.push(scope);
        let out = f(self);
        self.scopes.pop();
        out
    }

    // ----- statements -----

    fn exec_block(&mut self, stmts: &[Stmt]) -> R<Flow> {
        let scope = lexical_names(stmts)
            .into_iter()
            .map(|(name, constant)| Binding { name, value: None, constant })
            .collect();
        self.with_scope(scope, |it| {
            for s in stmts {
                match it.exec(s)? {
                    Flow::Normal => {}
                    other => return Ok(other),
                }
            }
            Ok(Flow::Normal)
        })
    }

    fn declare(&mut self, kind: DeclKind, decls: &[(Rc<str>, Option<Expr>)]) -> R<()> {
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

    pub fn exec(&mut self, s: &Stmt) -> R<Flow> {
        self.tick()?;
        match s {
            Stmt::Empty => {}
            Stmt::Expr(e) => {
                self.eval(e)?;
            }
            Stmt::Decl(kind, decls) => self.declare(*kind, decls)?,
            Stmt::Block(b) => return self.exec_block(b),
            Stmt::If(test, yes, no) => {
                if truthy(&self.eval(test)?) {
                    return self.exec(yes);
                } else if let Some(no) = no {
                    return self.exec(no);
                }
            }
            Stmt::While(test, body) => {
                while truthy(&self.eval(test)?) {
                    if let Some(flow) = self.loop_body(body)? {
                        return Ok(flow);
                    }
                }
            }
            Stmt::DoWhile(body, test) => loop {
                if let Some(flow) = self.loop_body(body)? {
                    return Ok(flow);
                }
                if !truthy(&self.eval(test)?) {
                    break;
                }
            },
            Stmt::For { init, test, update, body } => {
                let scope = match init {
                    Some(ForInit::Decl(DeclKind::Let | DeclKind::Const, decls)) => decls
                        .iter()
                        .map(|(n, _)| Binding {
                            name: n.clone(),
                            value: None,
                            constant: matches!(init, Some(ForInit::Decl(DeclKind::Const, _))),
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                return self.with_scope(scope, |it| {
                    match init {
                        Some(ForInit::Decl(kind, decls)) => it.declare(*kind, decls)?,
                        Some(ForInit::Expr(e)) => {
                            it.eval(e)?;
                        }
                        None => {}
                    }
                    loop {
                        if let Some(t) = test {
                            if !truthy(&it.eval(t)?) {
                                break;
                            }
                        } else {
                            it.tick()?;
                        }
                        if let Some(flow) = it.loop_body(body)? {
                            return Ok(flow);
                        }
                        if let Some(u) = update {
                            it.eval(u)?;
                        }
                    }
                    Ok(Flow::Normal)
                });
            }
            Stmt::ForEach { decl, name, of, iter, body } => return self.for_each(*decl, name, *of, iter, body),
            Stmt::Break => return Ok(Flow::Break),
            Stmt::Continue => return Ok(Flow::Continue),
            Stmt::Return(e) => {
                let v = match e {
                    Some(e) => self.eval(e)?,
                    None => JsValue::Undefined,
                };
                return Ok(Flow::Return(v));
            }
            Stmt::Throw(e) => {
                let v = self.eval(e)?;
                let text = self.heap.to_str(&v)?;
                return Err(super::ScriptError::Thrown(format!("Uncaught {text}")));
            }
        }
        Ok(Flow::Normal)
    }

    fn for_each(&mut self, decl: Option<DeclKind>, name: &Rc<str>, of: bool, iter: &Expr, body: &Stmt) -> R<Flow> {
        let coll = self.eval(iter)?;
        // Items are produced lazily for arrays (live length, like JS) and eagerly otherwise.
        let snapshot: Option<Vec<JsValue>> = match (&coll, of) {
            (JsValue::Arr(_), true) => None,
            (JsValue::Str(s), true) => Some(s.chars().map(|c| JsValue::str(c.to_string())).collect()),
            (_, true) => {
                return Err(thrown("TypeError", &format!("{} is not iterable", describe(iter))));
            }
            (JsValue::Obj(id), false) => Some(self.heap.keys(*id).into_iter().map(JsValue::Str).collect()),
            (JsValue::Arr(id), false) => {
                Some((0..self.heap.array(*id).len()).map(|i| JsValue::str(i.to_string())).collect())
            }
            (JsValue::Str(s), false) => Some((0..s.encode_utf16().count()).map(|i| JsValue::str(i.to_string())).collect()),
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
            let Some(item) = item else { break };
            i += 1;
            let flow = match decl {
                Some(kind @ (DeclKind::Let | DeclKind::Const)) => {
                    let scope =
                        vec![Binding { name: name.clone(), value: Some(item), constant: kind == DeclKind::Const }];
                    self.with_scope(scope, |it| it.loop_body(body))?
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
        Ok(Flow::Normal)
    }

    // ----- expressions -----

    pub fn eval(&mut self, e: &Expr) -> R<JsValue> {
        self.tick()?;
        Ok(match e {
            Expr::Num(x) => JsValue::Num(*x),
            Expr::Str(s) => JsValue::Str(s.clone()),
            Expr::Bool(b) => JsValue::Bool(*b),
            Expr::Null => JsValue::Null,
            Expr::Template(pieces) => self.template(pieces)?,
            Expr::Ident(n) => self.get_var(n)?,
            Expr::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(match item {
                        Some(e) => self.eval(e)?,
                        None => JsValue::Undefined,
                    });
                }
                self.heap.new_array(out)?
            }
            Expr::Object(props) => {
                let obj = self.heap.new_object(Vec::new())?;
                if let JsValue::Obj(id) = obj {
                    for (prop, value) in props {
                        let key = self.prop_key(prop)?.text();
                        let v = self.eval(value)?;
                        if &*key == "__proto__" {
                            return Err(unsupported("__proto__"));
                        }
                        self.heap.set_prop(id, &key, v)?;
                    }
                }
                obj
            }
            Expr::Paren(inner) => self.eval(inner)?,
            Expr::Member { .. } | Expr::Call { .. } => self.chain(e)?.unwrap_or(JsValue::Undefined),
            Expr::OptChain(inner) => self.chain(inner)?.unwrap_or(JsValue::Undefined),
            Expr::Unary(op, x) => self.unary(*op, x)?,
            Expr::Update { inc, prefix, target } => self.update(*inc, *prefix, target)?,
            Expr::Binary(op, a, b) => {
                let a = self.eval(a)?;
                let b = self.eval(b)?;
                self.binary(*op, &a, &b)?
            }
            Expr::Logic(op, a, b) => {
                let a = self.eval(a)?;
                if short_circuits(*op, &a) {
                    a
                } else {
                    self.eval(b)?
                }
            }
            Expr::Cond(t, a, b) => {
                if truthy(&self.eval(t)?) {
                    self.eval(a)?
                } else {
                    self.eval(b)?
                }
            }
            Expr::Assign(op, target, value) => self.assign(*op, target, value)?,
            Expr::Seq(items) => {
                let mut last = JsValue::Undefined;
                for item in items {
                    last = self.eval(item)?;
                }
                last
            }
        })
    }

    fn template(&mut self, pieces: &[TplPiece]) -> R<JsValue> {
        let mut out = String::new();
        for p in pieces {
            match p {
                TplPiece::Str(s) => out.push_str(s),
                TplPiece::Expr(e) => {
                    let v = self.eval(e)?;
                    out.push_str(&self.heap.to_str(&v)?);
                }
            }
            self.heap.charge(out.len() / 8)?;
        }
        self.heap.new_str(out)
    }

    pub fn prop_key(&mut self, prop: &Prop) -> R<Key> {
        match prop {
            Prop::Name(n) => Ok(Key::from_str(n.clone())),
            Prop::Computed(e) => {
                let v = self.eval(e)?;
                if let JsValue::Num(x) = v {
                    if x >= 0.0 && x.fract() == 0.0 && x < 4_294_967_295.0 {
                        return Ok(Key::Index(x as usize));
                    }
                }
                Ok(Key::from_str(self.heap.to_str(&v)?))
            }
        }
    }

    /// Evaluates a member/call chain; `None` when an optional link short-circuited.
    fn chain(&mut self, e: &Expr) -> R<Option<JsValue>> {
        match e {
            Expr::Member { obj, prop, optional } => {
                if let (Expr::Ident(ns), Prop::Name(name)) = (obj.as_ref(), prop) {
                    if builtins::is_namespace(ns) && !self.shadowed(ns) {
                        return builtins::static_value(ns, name).map(Some);
                    }
                }
                let Some(o) = self.chain(obj)? else { return Ok(None) };
                if *optional && o.is_nullish() {
                    return Ok(None);
                }
                let key = self.prop_key(prop)?;
                self.get_member(&o, &key).map(Some)
            }
            Expr::Call { callee, args, optional } => self.call(callee, args, *optional),
            other => self.eval(other).map(Some),
        }
    }

    fn args(&mut self, args: &[Expr]) -> R<Vec<JsValue>> {
        args.iter().map(|a| self.eval(a)).collect()
    }

    fn call(&mut self, callee: &Expr, args: &[Expr], optional: bool) -> R<Option<JsValue>> {
        let not_a_function = || thrown("TypeError", &format!("{} is not a function", describe(callee)));
        match callee {
            Expr::Member { obj, prop, optional: member_optional } => {
                if let (Expr::Ident(ns), Prop::Name(name)) = (obj.as_ref(), prop) {
                    if builtins::is_namespace(ns) && !self.shadowed(ns) {
                        let argv = self.args(args)?;
                        return builtins::call_static(self, ns, name, argv).map(Some);
                    }
                }
                let Some(recv) = self.chain(obj)? else { return Ok(None) };
                if *member_optional && recv.is_nullish() {
                    return Ok(None);
                }
                let key = self.prop_key(prop)?;
                let argv = self.args(args)?;
                match builtins::call_method(self, &recv, &key, argv)? {
                    Some(v) => Ok(Some(v)),
                    None if optional => Ok(None),
                    None => Err(not_a_function()),
                }
            }
            Expr::Ident(name) if !self.shadowed(name) => {
                let argv = self.args(args)?;
                builtins::call_global(self, name, argv).map(Some)
            }
            other => {
                let Some(v) = self.chain(other)? else { return Ok(None) };
                if optional && v.is_nullish() {
                    return Ok(None);
                }
                Err(not_a_function())
            }
        }
    }

    pub fn get_member(&mut self, o: &JsValue, key: &Key) -> R<JsValue> {
        match o {
            JsValue::Undefined | JsValue::Null => Err(thrown(
                "TypeError",
                &format!("Cannot read properties of {} (reading '{}')", type_name(o), key.text()),
            )),
            JsValue::Str(s) => match key {
                Key::Index(i) => match s.encode_utf16().nth(*i) {
                    None => Ok(JsValue::Undefined),
                    Some(u) => Ok(JsValue::Str(builtins::from_units(&[u])?)),
                },
                k if k.is("length") => Ok(JsValue::Num(s.encode_utf16().count() as f64)),
                Key::Name(n) => builtins::property_of_primitive("String", n),
            },
            JsValue::Arr(id) => match key {
                Key::Index(i) => Ok(self.heap.array(*id).get(*i).cloned().unwrap_or(JsValue::Undefined)),
                k if k.is("length") => Ok(JsValue::Num(self.heap.array(*id).len() as f64)),
                Key::Name(n) => builtins::property_of_primitive("Array", n),
            },
            JsValue::Obj(id) => {
                let k = key.text();
                match self.heap.get_prop(*id, &k) {
                    Some(v) => Ok(v),
                    None => builtins::property_of_primitive("Object", &k),
                }
            }
            JsValue::Num(_) => builtins::property_of_primitive("Number", &key.text()),
            JsValue::Bool(_) => builtins::property_of_primitive("Boolean", &key.text()),
        }
    }

    pub fn set_member(&mut self, o: &JsValue, key: &Key, v: JsValue) -> R<()> {
        match o {
            JsValue::Undefined | JsValue::Null => Err(thrown(
                "TypeError",
                &format!("Cannot set properties of {} (setting '{}')", type_name(o), key.text()),
            )),
            JsValue::Obj(id) => {
                let k = key.text();
                if &*k == "__proto__" {
                    return Err(unsupported("__proto__"));
                }
                self.heap.set_prop(*id, &k, v)
            }
            JsValue::Arr(id) => {
                let len = self.heap.array(*id).len();
                let (index, value) = match key {
                    Key::Index(i) => (*i, Some(v)),
                    k if k.is("length") => {
                        let n = self.heap.to_number(&v)?;
                        if n < 0.0 || n.fract() != 0.0 || n >= 4_294_967_296.0 || n.is_nan() {
                            return Err(thrown("RangeError", "Invalid array length"));
                        }
                        (n as usize, None)
                    }
                    Key::Name(n) => return Err(unsupported(&format!("named property '{n}' on an array"))),
                };
                let new_len = if value.is_some() { index + 1 } else { index };
                if new_len > len {
                    if new_len - len > MAX_ARRAY_GAP {
                        return Err(limit("sparse array too large"));
                    }
                    self.heap.charge(16 * (new_len - len))?;
                }
                if let Some(arr) = self.heap.array_mut(*id) {
                    match value {
                        Some(v) => {
                            if index >= arr.len() {
                                arr.resize(index + 1, JsValue::Undefined);
                            }
                            arr[index] = v;
                        }
                        None => arr.resize(index, JsValue::Undefined),
                    }
                }
                Ok(())
            }
            // Primitives: silently ignored in sloppy mode.
            _ => Ok(()),
        }
    }

    fn unary(&mut self, op: UnaryOp, x: &Expr) -> R<JsValue> {
        match op {
            UnaryOp::TypeOf => {
                if let Expr::Ident(n) = x {
                    if !self.shadowed(n) && !matches!(&**n, "undefined" | "NaN" | "Infinity") {
                        return builtins::typeof_global(n).map(JsValue::str);
                    }
                }
                let v = self.eval(x)?;
                Ok(JsValue::str(type_of(&v)))
            }
            UnaryOp::Delete => self.delete(x),
            _ => {
                let v = self.eval(x)?;
                Ok(match op {
                    UnaryOp::Not => JsValue::Bool(!truthy(&v)),
                    UnaryOp::Neg => JsValue::Num(-self.heap.to_number(&v)?),
                    UnaryOp::Plus => JsValue::Num(self.heap.to_number(&v)?),
                    UnaryOp::BitNot => JsValue::Num(f64::from(!to_int32(self.heap.to_number(&v)?))),
                    _ => JsValue::Undefined,
                })
            }
        }
    }

    fn delete(&mut self, x: &Expr) -> R<JsValue> {
        match x {
            Expr::Member { obj, prop, optional: false } => {
                let o = self.eval(obj)?;
                let key = self.prop_key(prop)?;
                match &o {
                    JsValue::Undefined | JsValue::Null => {
                        Err(thrown("TypeError", "Cannot convert undefined or null to object"))
                    }
                    JsValue::Obj(id) => {
                        let k = key.text();
                        if let Some(props) = self.heap.props_mut(*id) {
                            props.retain(|(name, _)| **name != *k);
                        }
                        Ok(JsValue::Bool(true))
                    }
                    JsValue::Arr(id) => match key {
                        Key::Index(i) => {
                            if let Some(slot) = self.heap.array_mut(*id).and_then(|a| a.get_mut(i)) {
                                *slot = JsValue::Undefined;
                            }
                            Ok(JsValue::Bool(true))
                        }
                        k => Ok(JsValue::Bool(!k.is("length"))),
                    },
                    JsValue::Str(s) => Ok(JsValue::Bool(match key {
                        Key::Index(i) => i >= s.encode_utf16().count(),
                        k => !k.is("length"),
                    })),
                    _ => Ok(JsValue::Bool(true)),
                }
            }
            Expr::Paren(inner) => self.delete(inner),
            Expr::Ident(_) | Expr::OptChain(_) | Expr::Member { .. } => {
                Err(unsupported("delete of a variable or optional chain"))
            }
            other => {
                self.eval(other)?;
                Ok(JsValue::Bool(true))
            }
        }
    }

    pub fn binary(&mut self, op: BinOp, a: &JsValue, b: &JsValue) -> R<JsValue> {
        let h = &mut self.heap;
        Ok(match op {
            BinOp::Add => h.add(a, b)?,
            BinOp::Sub => JsValue::Num(h.to_number(a)? - h.to_number(b)?),
            BinOp::Mul => JsValue::Num(h.to_number(a)? * h.to_number(b)?),
            BinOp::Div => JsValue::Num(h.to_number(a)? / h.to_number(b)?),
            BinOp::Rem => JsValue::Num(js_rem(h.to_number(a)?, h.to_number(b)?)),
            BinOp::Pow => JsValue::Num(js_pow(h.to_number(a)?, h.to_number(b)?)),
            BinOp::Lt => JsValue::Bool(h.compare("<", a, b)?),
            BinOp::Gt => JsValue::Bool(h.compare(">", a, b)?),
            BinOp::Le => JsValue::Bool(h.compare("<=", a, b)?),
            BinOp::Ge => JsValue::Bool(h.compare(">=", a, b)?),
            BinOp::Eq => JsValue::Bool(h.loose_eq(a, b)?),
            BinOp::Ne => JsValue::Bool(!h.loose_eq(a, b)?),
            BinOp::StrictEq => JsValue::Bool(strict_eq(a, b)),
            BinOp::StrictNe => JsValue::Bool(!strict_eq(a, b)),
            BinOp::BitAnd => JsValue::Num(f64::from(to_int32(h.to_number(a)?) & to_int32(h.to_number(b)?))),
            BinOp::BitOr => JsValue::Num(f64::from(to_int32(h.to_number(a)?) | to_int32(h.to_number(b)?))),
            BinOp::BitXor => JsValue::Num(f64::from(to_int32(h.to_number(a)?) ^ to_int32(h.to_number(b)?))),
            BinOp::Shl => {
                JsValue::Num(f64::from(to_int32(h.to_number(a)?).wrapping_shl(to_uint32(h.to_number(b)?) & 31)))
            }
            BinOp::Shr => {
                JsValue::Num(f64::from(to_int32(h.to_number(a)?).wrapping_shr(to_uint32(h.to_number(b)?) & 31)))
            }
            BinOp::UShr => {
                JsValue::Num(f64::from(to_uint32(h.to_number(a)?).wrapping_shr(to_uint32(h.to_number(b)?) & 31)))
            }
            BinOp::In => {
                let key = match a {
                    JsValue::Num(x) if *x >= 0.0 && x.fract() == 0.0 && *x < 4_294_967_295.0 => Key::Index(*x as usize),
                    other => Key::from_str(self.heap.to_str(other)?),
                };
                JsValue::Bool(builtins::has_property(self, b, &key)?)
            }
        })
    }

    fn update(&mut self, inc: bool, prefix: bool, target: &Expr) -> R<JsValue> {
        let delta = if inc { 1.0 } else { -1.0 };
        let (old, new) = match target {
            Expr::Ident(n) => {
                let old = self.heap.to_number(&self.get_var(n)?)?;
                self.set_var(n, JsValue::Num(old + delta))?;
                (old, old + delta)
            }
            Expr::Member { obj, prop, .. } => {
                let o = self.eval(obj)?;
                let key = self.prop_key(prop)?;
                let cur = self.get_member(&o, &key)?;
                let old = self.heap.to_number(&cur)?;
                self.set_member(&o, &key, JsValue::Num(old + delta))?;
                (old, old + delta)
            }
            _ => return Err(super::syntax("Invalid left-hand side expression in update operation")),
        };
        Ok(JsValue::Num(if prefix { new } else { old }))
    }

    fn assign(&mut self, op: AssignOp, target: &Expr, value: &Expr) -> R<JsValue> {
        match target {
            Expr::Ident(n) => {
                let v = match op {
                    AssignOp::Plain => self.eval(value)?,
                    AssignOp::Arith(b) => {
                        let cur = self.get_var(n)?;
                        let r = self.eval(value)?;
                        self.binary(b, &cur, &r)?
                    }
                    AssignOp::Logic(l) => {
                        let cur = self.get_var(n)?;
                        if short_circuits(l, &cur) {
                            return Ok(cur);
                        }
                        self.eval(value)?
                    }
                };
                self.set_var(n, v.clone())?;
                Ok(v)
            }
            Expr::Member { obj, prop, .. } => {
                let o = self.eval(obj)?;
                let key = self.prop_key(prop)?;
                if o.is_nullish() {
                    return Err(thrown(
                        "TypeError",
                        &format!("Cannot set properties of {} (setting '{}')", type_name(&o), key.text()),
                    ));
                }
                let v = match op {
                    AssignOp::Plain => self.eval(value)?,
                    AssignOp::Arith(b) => {
                        let cur = self.get_member(&o, &key)?;
                        let r = self.eval(value)?;
                        self.binary(b, &cur, &r)?
                    }
                    AssignOp::Logic(l) => {
                        let cur = self.get_member(&o, &key)?;
                        if short_circuits(l, &cur) {
                            return Ok(cur);
                        }
                        self.eval(value)?
                    }
                };
                self.set_member(&o, &key, v.clone())?;
                Ok(v)
            }
            _ => Err(super::syntax("Invalid left-hand side in assignment")),
        }
    }
}

/// Whether `a op b` is `a` without evaluating `b`.
fn short_circuits(op: LogicOp, a: &JsValue) -> bool {
    match op {
        LogicOp::And => !truthy(a),
        LogicOp::Or => truthy(a),
        LogicOp::Nullish => !a.is_nullish(),
    }
}

fn type_name(v: &JsValue) -> &'static str {
    if matches!(v, JsValue::Null) {
        "null"
    } else {
        "undefined"
    }
}

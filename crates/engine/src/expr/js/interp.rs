//! Tree-walking evaluator of the JavaScript subset.

use super::ast::*;
use super::builtins;
use super::{limit, thrown, unsupported, R};
use crate::expr::jsvalue::{
    array_index, js_pow, js_rem, number_to_string, strict_eq, to_int32, to_uint32, truthy, type_of,
    Heap, JsValue,
};
use crate::state::Vars;
use std::collections::HashMap;
use std::rc::Rc;

mod exec;
mod members;

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
        Expr::Member {
            obj,
            prop: Prop::Name(n),
            ..
        } => format!("{}.{n}", describe(obj)),
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
            globals.insert(Rc::from(k.as_str()), heap.load_json(v)?);
        }
        Ok(Interp {
            heap,
            globals,
            scopes: vec![Vec::new()],
            steps: 0,
        })
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
                scope.push(Binding {
                    name,
                    value: Some(JsValue::Undefined),
                    constant: false,
                });
            } else {
                self.globals.entry(name).or_insert(JsValue::Undefined);
            }
        }
        for (name, constant) in lexical_names(body) {
            scope.push(Binding {
                name,
                value: None,
                constant,
            });
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
            return self.scopes[si][bi].value.clone().ok_or_else(|| {
                thrown(
                    "ReferenceError",
                    &format!("Cannot access '{name}' before initialization"),
                )
            });
        }
        // Non-writable globals: a variable of that name cannot replace them.
        match name {
            "undefined" => return Ok(JsValue::Undefined),
            "NaN" => return Ok(JsValue::Num(f64::NAN)),
            "Infinity" => return Ok(JsValue::Num(f64::INFINITY)),
            _ => {}
        }
        if let Some(v) = self.globals.get(name) {
            return Ok(v.clone());
        }
        match name {
            n if builtins::is_known_global(n) => {
                Err(unsupported(&format!("'{n}' used as a value")))
            }
            n => Err(thrown("ReferenceError", &format!("{n} is not defined"))),
        }
    }

    pub fn set_var(&mut self, name: &Rc<str>, v: JsValue) -> R<()> {
        if let Some((si, bi)) = self.find(name) {
            let b = &mut self.scopes[si][bi];
            if b.value.is_none() {
                return Err(thrown(
                    "ReferenceError",
                    &format!("Cannot access '{name}' before initialization"),
                ));
            }
            if b.constant {
                return Err(thrown("TypeError", "Assignment to constant variable."));
            }
            b.value = Some(v);
            return Ok(());
        }
        if matches!(&**name, "undefined" | "NaN" | "Infinity") {
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

    // ----- expressions -----

    pub fn eval(&mut self, e: &Expr) -> R<JsValue> {
        self.tick()?;
        match e {
            Expr::Num(x) => Ok(JsValue::Num(*x)),
            Expr::Str(s) => Ok(JsValue::Str(s.clone())),
            Expr::Bool(b) => Ok(JsValue::Bool(*b)),
            Expr::Null => Ok(JsValue::Null),
            Expr::Template(pieces) => self.template(pieces),
            Expr::Ident(n) => self.get_var(n),
            Expr::Array(items) => self.array_literal(items),
            Expr::Object(props) => self.object_literal(props),
            Expr::Paren(inner) => self.eval(inner),
            Expr::Member { .. } | Expr::Call { .. } => {
                self.chain(e).map(|v| v.unwrap_or(JsValue::Undefined))
            }
            Expr::OptChain(inner) => self.chain(inner).map(|v| v.unwrap_or(JsValue::Undefined)),
            Expr::Unary(op, x) => self.unary(*op, x),
            Expr::Update {
                inc,
                prefix,
                target,
            } => self.update(*inc, *prefix, target),
            Expr::Binary(op, a, b) => self.eval_binary(*op, a, b),
            Expr::Logic(op, a, b) => self.eval_logic(*op, a, b),
            Expr::Cond(t, a, b) => self.eval_cond(t, a, b),
            Expr::Assign(op, target, value) => self.assign(*op, target, value),
            Expr::Seq(items) => self.eval_seq(items),
        }
    }

    fn array_literal(&mut self, items: &[Option<Expr>]) -> R<JsValue> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(match item {
                Some(e) => self.eval(e)?,
                None => JsValue::Undefined,
            });
        }
        self.heap.new_array(out)
    }

    fn object_literal(&mut self, props: &[(Prop, Expr)]) -> R<JsValue> {
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
        Ok(obj)
    }

    fn eval_binary(&mut self, op: BinOp, a: &Expr, b: &Expr) -> R<JsValue> {
        let a = self.eval(a)?;
        let b = self.eval(b)?;
        self.binary(op, &a, &b)
    }

    fn eval_logic(&mut self, op: LogicOp, a: &Expr, b: &Expr) -> R<JsValue> {
        let a = self.eval(a)?;
        if short_circuits(op, &a) {
            Ok(a)
        } else {
            self.eval(b)
        }
    }

    fn eval_cond(&mut self, t: &Expr, a: &Expr, b: &Expr) -> R<JsValue> {
        if truthy(&self.eval(t)?) {
            self.eval(a)
        } else {
            self.eval(b)
        }
    }

    fn eval_seq(&mut self, items: &[Expr]) -> R<JsValue> {
        let mut last = JsValue::Undefined;
        for item in items {
            last = self.eval(item)?;
        }
        Ok(last)
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
            Expr::Member {
                obj,
                prop,
                optional,
            } => {
                if let (Expr::Ident(ns), Prop::Name(name)) = (obj.as_ref(), prop) {
                    if builtins::is_namespace(ns) && !self.shadowed(ns) {
                        return builtins::static_value(ns, name).map(Some);
                    }
                }
                let Some(o) = self.chain(obj)? else {
                    return Ok(None);
                };
                if *optional && o.is_nullish() {
                    return Ok(None);
                }
                let key = self.prop_key(prop)?;
                self.get_member(&o, &key).map(Some)
            }
            Expr::Call {
                callee,
                args,
                optional,
            } => self.call(callee, args, *optional),
            other => self.eval(other).map(Some),
        }
    }

    fn args(&mut self, args: &[Expr]) -> R<Vec<JsValue>> {
        args.iter().map(|a| self.eval(a)).collect()
    }

    fn call(&mut self, callee: &Expr, args: &[Expr], optional: bool) -> R<Option<JsValue>> {
        let not_a_function = || {
            thrown(
                "TypeError",
                &format!("{} is not a function", describe(callee)),
            )
        };
        match callee {
            Expr::Member {
                obj,
                prop,
                optional: member_optional,
            } => {
                if let (Expr::Ident(ns), Prop::Name(name)) = (obj.as_ref(), prop) {
                    if builtins::is_namespace(ns) && !self.shadowed(ns) {
                        let argv = self.args(args)?;
                        return builtins::call_static(self, ns, name, argv).map(Some);
                    }
                }
                let Some(recv) = self.chain(obj)? else {
                    return Ok(None);
                };
                if *member_optional && recv.is_nullish() {
                    return Ok(None);
                }
                let key = self.prop_key(prop)?;
                // An own property of an object is a data value, never a function.
                if let JsValue::Obj(id) = &recv {
                    if let Some(v) = self.heap.get_prop(*id, &key.text()) {
                        if optional && v.is_nullish() {
                            return Ok(None);
                        }
                        self.args(args)?;
                        return Err(not_a_function());
                    }
                }
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
                let Some(v) = self.chain(other)? else {
                    return Ok(None);
                };
                if optional && v.is_nullish() {
                    return Ok(None);
                }
                Err(not_a_function())
            }
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
            BinOp::BitAnd => JsValue::Num(f64::from(
                to_int32(h.to_number(a)?) & to_int32(h.to_number(b)?),
            )),
            BinOp::BitOr => JsValue::Num(f64::from(
                to_int32(h.to_number(a)?) | to_int32(h.to_number(b)?),
            )),
            BinOp::BitXor => JsValue::Num(f64::from(
                to_int32(h.to_number(a)?) ^ to_int32(h.to_number(b)?),
            )),
            BinOp::Shl => JsValue::Num(f64::from(
                to_int32(h.to_number(a)?).wrapping_shl(to_uint32(h.to_number(b)?) & 31),
            )),
            BinOp::Shr => JsValue::Num(f64::from(
                to_int32(h.to_number(a)?).wrapping_shr(to_uint32(h.to_number(b)?) & 31),
            )),
            BinOp::UShr => JsValue::Num(f64::from(
                to_uint32(h.to_number(a)?).wrapping_shr(to_uint32(h.to_number(b)?) & 31),
            )),
            BinOp::In => {
                let key = match a {
                    JsValue::Num(x) if *x >= 0.0 && x.fract() == 0.0 && *x < 4_294_967_295.0 => {
                        Key::Index(*x as usize)
                    }
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
            _ => {
                return Err(super::syntax(
                    "Invalid left-hand side expression in update operation",
                ))
            }
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
                        &format!(
                            "Cannot set properties of {} (setting '{}')",
                            type_name(&o),
                            key.text()
                        ),
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

//! What every context gets before the variables: `global` (the global object), `Promise = null`
//! (as the reference), and the deterministic clock and random source of the turn: `Date.now()`
//! and `new Date()` read `ScriptEnv::now_ms`, `Math.random` draws from a generator seeded with
//! `ScriptEnv::seed`.

use flowdm_engine::ScriptEnv;
use rand::{Rng, SeedableRng};
use rquickjs::{Ctx, Function, Object};
use std::cell::RefCell;
use std::rc::Rc;

/// Replaces `Date` by a constructor that defaults to the turn's instant; every other use (with
/// arguments, statics, the prototype and its methods) is the built-in one.
const DATE: &str = r#"(function (instant) {
  const Real = globalThis.Date;
  function Date(...args) {
    if (new.target === undefined) return new Real(instant).toString();
    return Reflect.construct(Real, args.length === 0 ? [instant] : args, new.target);
  }
  Object.setPrototypeOf(Date, Real);
  Date.prototype = Real.prototype;
  Object.defineProperty(Real.prototype, 'constructor', { value: Date, writable: true, configurable: true });
  Object.defineProperty(Date, 'now', { value: function now() { return instant; }, writable: true, configurable: true });
  Object.defineProperty(globalThis, 'Date', { value: Date, writable: true, configurable: true });
})"#;

pub fn install<'js>(ctx: &Ctx<'js>, env: &ScriptEnv) -> rquickjs::Result<()> {
    let globals = ctx.globals();
    globals.set("global", globals.clone())?;
    globals.set("Promise", rquickjs::Value::new_null(ctx.clone()))?;
    let date: Function = ctx.eval(DATE)?;
    date.call::<_, ()>((env.now_ms as f64,))?;
    let rng = Rc::new(RefCell::new(rand::rngs::SmallRng::seed_from_u64(env.seed)));
    let random =
        Function::new(ctx.clone(), move || rng.borrow_mut().gen::<f64>())?.with_name("random")?;
    let math: Object = globals.get("Math")?;
    math.set("random", random)?;
    Ok(())
}

//! The setup of a thread's context, run once: `Date` and `Math.random` made deterministic (they
//! read the clock and the generator that `engine.rs` sets before every call, [`DETERMINISTIC`],
//! also all a function step's fresh context gets); `global` (the global object) and
//! `Promise = null` as in the reference; then every built-in is frozen and
//! the built-in globals move to a frozen prototype of the global object, so no script can change
//! what the next one sees, and [`setup`] returns the function that deletes the globals a call
//! added. (Assigning to a built-in's name, e.g. `escape = 1`, is therefore silently ignored.)

use rquickjs::{Ctx, Function};

/// Called with `(instant, draw)`: `instant()` is the turn's time in milliseconds, `draw()` the
/// next random number. Replaces `Date` and `Math.random` and deletes the built-ins whose
/// behaviour depends on the machine or the garbage collector.
const DETERMINISTIC: &str = r#"(function (instant, draw) {
  'use strict';
  const g = globalThis;
  const hidden = (o, k, value) => Object.defineProperty(o, k, { value, writable: true, configurable: true });

  const Real = g.Date;
  function Date(...args) {
    if (new.target === undefined) return new Real(instant()).toString();
    return Reflect.construct(Real, args.length === 0 ? [instant()] : args, new.target);
  }
  Object.setPrototypeOf(Date, Real);
  Date.prototype = Real.prototype;
  hidden(Real.prototype, 'constructor', Date);
  hidden(Date, 'now', function now() { return instant(); });
  hidden(g, 'Date', Date);
  hidden(Math, 'random', function random() { return draw(); });
  for (const name of ['performance', 'WeakRef', 'FinalizationRegistry']) {
    Reflect.deleteProperty(g, name);
  }
})"#;

/// Run after [`DETERMINISTIC`] in the reused context. Returns `reset()`: it deletes every global
/// the call added and answers whether the global object is clean (as after the setup).
const SETUP: &str = r#"(function () {
  'use strict';
  const g = globalThis;
  const { create, defineProperty, freeze, getOwnPropertyDescriptor, getPrototypeOf, isExtensible, setPrototypeOf } = Object;
  const { ownKeys, deleteProperty } = Reflect;
  deleteProperty(g, 'queueMicrotask');
  g.global = g;

  const seen = new Set();
  const harden = (o) => {
    if ((typeof o !== 'object' && typeof o !== 'function') || o === null || o === g || seen.has(o)) return;
    seen.add(o);
    freeze(o);
    harden(getPrototypeOf(o));
    for (const k of ownKeys(o)) {
      const d = getOwnPropertyDescriptor(o, k);
      harden(d.value);
      harden(d.get);
      harden(d.set);
    }
  };
  const hiddenRoots = [
    function* () {}, async function () {}, async function* () {}, [][Symbol.iterator](),
    ''[Symbol.iterator](), new Map().entries(), new Set().values(), /a/[Symbol.matchAll](''),
    (async () => {})(), Int8Array,
  ];
  for (const root of hiddenRoots) harden(getPrototypeOf(root));
  for (const k of ownKeys(g)) harden(getOwnPropertyDescriptor(g, k).value);
  g.Promise = null;

  // The built-in globals move to a frozen prototype of the global object: identifiers still
  // resolve to them, and the global object's own properties are only what a call added (cheap to
  // list and delete). A few properties cannot be moved (`undefined`, `NaN`, `Infinity`).
  const builtins = create(getPrototypeOf(g));
  for (const k of ownKeys(g)) {
    const d = getOwnPropertyDescriptor(g, k);
    if (d.configurable) {
      defineProperty(builtins, k, d);
      deleteProperty(g, k);
    }
  }
  freeze(builtins);
  setPrototypeOf(g, builtins);
  const kept = ownKeys(g);
  return function reset() {
    const keys = ownKeys(g);
    for (let i = 0; i < keys.length; i++) {
      if (!kept.includes(keys[i]) && !deleteProperty(g, keys[i])) return false;
    }
    return isExtensible(g) && getPrototypeOf(g) === builtins;
  };
})"#;

/// Makes `Date` and `Math.random` of `ctx` deterministic (see [`DETERMINISTIC`]).
pub fn deterministic<'js>(
    ctx: &Ctx<'js>,
    instant: Function<'js>,
    draw: Function<'js>,
) -> rquickjs::Result<()> {
    let setup: Function = ctx.eval(DETERMINISTIC)?;
    setup.call((instant, draw))
}

/// Sets the reused context up (see [`DETERMINISTIC`] and [`SETUP`]) and returns its `reset`
/// function.
pub fn setup<'js>(
    ctx: &Ctx<'js>,
    instant: Function<'js>,
    draw: Function<'js>,
) -> rquickjs::Result<Function<'js>> {
    deterministic(ctx, instant, draw)?;
    let setup: Function = ctx.eval(SETUP)?;
    setup.call(())
}

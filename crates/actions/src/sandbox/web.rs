//! The web globals of a function step's context: `fetch`, `Headers`, `Response` and a silent
//! `console`, written in JavaScript over one native function, `record`.
//!
//! `fetch` cannot call the Rust callback itself (closures given to QuickJS must be `'static`,
//! the callback borrows the turn), so it only records the request (`record` returns its number,
//! or a negative code for a URL that is not absolute `http`/`https` or for one request too
//! many) and keeps the promise's `resolve` and `reject` under that number. `function.rs` asks the callback between drains of the job queue
//! and answers through the `settle` function that [`install`] returns. A request never settled
//! stays pending: the user's code cannot observe that its answer is not known yet.
//!
//! Not provided: timers (`setTimeout` …: the run has no notion of waiting), `Request`, streams
//! and `arrayBuffer`/`blob`/`formData` bodies.

use rquickjs::{Ctx, Function};

/// Called with `(record)`; returns `settle(id, true, status, statusText, headers, body, url)` for
/// an answer (`headers` a flat `[name, value, …]` list) or `settle(id, false, message)` for a
/// failure.
const WEB: &str = r#"(function (record) {
  'use strict';
  const g = globalThis;
  const hidden = (o, k, value) => Object.defineProperty(o, k, { value, writable: true, configurable: true });

  const silent = {};
  for (const k of ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table']) {
    silent[k] = function () {};
  }
  hidden(g, 'console', silent);
  hidden(g, 'global', g);

  // Headers: a list of [name as given, value] in insertion order; names compare in lower case.
  const lists = new WeakMap();
  const low = (name) => String(name).toLowerCase();
  const trim = (value) => String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
  const listOf = (h) => {
    const list = lists.get(h);
    if (list === undefined) throw new TypeError('Illegal invocation');
    return list;
  };
  class Headers {
    constructor(init) {
      lists.set(this, []);
      if (init === undefined || init === null) return;
      if (lists.has(init)) {
        for (const [k, v] of lists.get(init)) this.append(k, v);
      } else if (typeof init === 'object' && typeof init[Symbol.iterator] === 'function') {
        for (const pair of init) {
          const kv = [...pair];
          if (kv.length !== 2) throw new TypeError("Failed to construct 'Headers': Invalid value");
          this.append(kv[0], kv[1]);
        }
      } else if (typeof init === 'object') {
        for (const k of Object.keys(init)) this.append(k, init[k]);
      } else {
        throw new TypeError("Failed to construct 'Headers': The provided value is not of type 'HeadersInit'");
      }
    }
    append(name, value) { listOf(this).push([String(name), trim(value)]); }
    delete(name) {
      const n = low(name);
      lists.set(this, listOf(this).filter(([k]) => low(k) !== n));
    }
    get(name) {
      const n = low(name);
      const values = listOf(this).filter(([k]) => low(k) === n).map(([, v]) => v);
      return values.length === 0 ? null : values.join(', ');
    }
    has(name) {
      const n = low(name);
      return listOf(this).some(([k]) => low(k) === n);
    }
    set(name, value) {
      const n = low(name);
      const list = listOf(this);
      const at = list.findIndex(([k]) => low(k) === n);
      if (at < 0) { this.append(name, value); return; }
      list[at] = [list[at][0], trim(value)];
      lists.set(this, list.filter(([k], i) => i === at || low(k) !== n));
    }
    // Iteration as WHATWG: names in lower case, sorted, the values of one name combined.
    *entries() {
      const names = [...new Set(listOf(this).map(([k]) => low(k)))].sort();
      for (const n of names) yield [n, this.get(n)];
    }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    forEach(callback, thisArg) {
      for (const [k, v] of this.entries()) callback.call(thisArg, v, k, this);
    }
    [Symbol.iterator]() { return this.entries(); }
    get [Symbol.toStringTag]() { return 'Headers'; }
  }

  const bodies = new WeakMap();
  class Response {
    constructor(body, init) {
      const options = init === undefined || init === null ? {} : init;
      bodies.set(this, { text: body === undefined || body === null ? '' : String(body), used: false });
      this.status = options.status === undefined ? 200 : Number(options.status);
      this.statusText = options.statusText === undefined ? '' : String(options.statusText);
      this.ok = this.status >= 200 && this.status <= 299;
      this.headers = new Headers(options.headers);
      this.url = '';
      this.redirected = false;
      this.type = 'default';
    }
    get bodyUsed() { return bodies.get(this).used; }
    text() {
      const body = bodies.get(this);
      if (body === undefined) return Promise.reject(new TypeError('Illegal invocation'));
      if (body.used) return Promise.reject(new TypeError('Body is unusable: Body has already been read'));
      body.used = true;
      return Promise.resolve(body.text);
    }
    json() { return this.text().then((text) => JSON.parse(text)); }
    clone() {
      const body = bodies.get(this);
      if (body.used) throw new TypeError('Response.clone: Body has already been consumed.');
      const copy = new Response(body.text, this);
      copy.url = this.url;
      return copy;
    }
    get [Symbol.toStringTag]() { return 'Response'; }
  }

  const waiting = new Map();
  function fetch(resource, init) {
    return new Promise((resolve, reject) => {
      const options = init === undefined || init === null ? {} : init;
      const url = String(resource);
      const method = options.method === undefined ? 'GET' : String(options.method).toUpperCase();
      const flat = [];
      for (const [k, v] of listOf(new Headers(options.headers))) flat.push(k, v);
      const body = options.body === undefined || options.body === null ? null : String(options.body);
      if (body !== null && (method === 'GET' || method === 'HEAD')) {
        throw new TypeError('Request with GET/HEAD method cannot have body.');
      }
      const id = record(method, url, flat, body);
      if (id === -1) throw new TypeError('Failed to parse URL from ' + url);
      if (id === -2) throw new TypeError('fetch: too many requests in one function run');
      waiting.set(id, { resolve, reject });
    });
  }
  hidden(g, 'fetch', fetch);
  hidden(g, 'Headers', Headers);
  hidden(g, 'Response', Response);

  return function settle(id, ok, status, statusText, headers, body, url) {
    const w = waiting.get(id);
    if (w === undefined) return;
    waiting.delete(id);
    if (!ok) {
      const error = new TypeError('fetch failed');
      hidden(error, 'cause', new Error(status));
      w.reject(error);
      return;
    }
    const pairs = [];
    for (let i = 0; i + 1 < headers.length; i += 2) pairs.push([headers[i], headers[i + 1]]);
    const response = new Response(body, { status, statusText, headers: pairs });
    response.url = url;
    w.resolve(response);
  };
})"#;

/// Installs the web globals in `ctx` (see [`WEB`]) and returns `settle`.
pub fn install<'js>(ctx: &Ctx<'js>, record: Function<'js>) -> rquickjs::Result<Function<'js>> {
    let setup: Function = ctx.eval(WEB)?;
    setup.call((record,))
}

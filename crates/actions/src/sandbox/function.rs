//! Function steps (`spec/dm-api.md` §5.6.24): the code is a real ES module, run in a fresh
//! context of the thread's runtime (`engine::with_fresh_context`); its default export is called
//! with `args`, and the job queue is driven until nothing is left to do, answering the `fetch`es
//! (`web.rs`) from the callback in between.
//!
//! A request the callback cannot answer yet (`None`) stays pending forever, and the run reports
//! [`FunctionRun::Fetching`] with the first such request even when `main` settled without it (a
//! fire-and-forget `fetch` is still performed): the engine performs it and replays the whole run
//! with the answer in its log, so the same requests happen again in the same order. Requests
//! made after a waiting one are not offered to the callback (its log is sequential: it cannot
//! know them either).

use super::convert::{to_js, to_json};
use super::engine::{describe, with_fresh_context, Failure, MEMORY_LIMIT};
use super::web;
use flowdm_engine::effects::{HttpBody, HttpRequest, HttpResponse};
use flowdm_engine::expr::ScriptError;
use flowdm_engine::{Fetch, FunctionRun, ScriptEnv};
use rquickjs::promise::PromiseState;
use rquickjs::{Ctx, Function, Module, Promise, Value as JsValue};
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;

/// Requests one run may make: every one costs the turn an HTTP call and a replay of the run.
pub const MAX_FETCHES: usize = 64;

/// What `record` answers `fetch` (`web.rs`) instead of a request's number.
const BAD_URL: i64 = -1;
const TOO_MANY: i64 = -2;

/// The requests `fetch` made, in order (a request's number is its index).
#[derive(Default)]
struct Recorded {
    requests: Vec<HttpRequest>,
    /// Bytes of URLs, headers and bodies so far: they live outside QuickJS's memory limit.
    bytes: usize,
    over_limit: bool,
}

/// Runs `code`'s default export with `args` (see the module documentation).
pub fn run(
    code: &str,
    args: &Value,
    env: &ScriptEnv,
    fetch: &mut Fetch<'_>,
) -> Result<FunctionRun, ScriptError> {
    // Only a `throw` or a rejection can make `null` the error (otherwise it means out of memory).
    let may_throw_null = code.contains("throw") || code.contains("reject");
    with_fresh_context(env, |ctx| {
        let recorded: Rc<RefCell<Recorded>> = Rc::default();
        let settle = web::install(ctx, recorder(ctx, recorded.clone())?)?;
        let mut driver = Driver {
            ctx,
            settle,
            recorded: recorded.clone(),
            asked: 0,
            waiting: None,
        };
        let module = Module::declare(ctx.clone(), "function.js", code)
            .map_err(|e| describe(ctx, e, may_throw_null))?;
        // Evaluating the module runs its top level, which may `fetch` (and `await` it).
        let evaluated = module.eval().map_err(|e| describe(ctx, e, may_throw_null));
        driver.drive(fetch)?;
        let settled = match evaluated {
            Err(e) => Some(Err(e)),
            Ok((module, evaluated)) => match evaluated.state() {
                PromiseState::Resolved => {
                    let main: JsValue = module.namespace()?.get("default")?;
                    match main.into_function() {
                        Some(main) => call(ctx, &main, args, may_throw_null, &mut driver, fetch)?,
                        None => Some(Err(ScriptError::Thrown(
                            "TypeError: the module has no default export function".into(),
                        ))),
                    }
                }
                PromiseState::Rejected => Some(Err(rejection(ctx, &evaluated, may_throw_null))),
                PromiseState::Pending => None,
            },
        };
        if recorded.borrow().over_limit {
            return Err(ScriptError::Limit(format!(
                "fetch: the function made more than {MAX_FETCHES} requests or sent more than {} MB",
                MEMORY_LIMIT / (1024 * 1024)
            ))
            .into());
        }
        if let Some(request) = driver.waiting {
            return Ok(FunctionRun::Fetching(request));
        }
        match settled {
            Some(Ok(value)) => Ok(FunctionRun::Returned(value)),
            Some(Err(e)) => Err(e.into()),
            None => Err(ScriptError::Thrown(
                "the function never finished (its promise is still pending)".into(),
            )
            .into()),
        }
    })
}

/// How `main` ended: `None` while its promise is pending.
type Settled = Option<Result<Value, ScriptError>>;

/// Calls `main(args)` and drives the jobs (also after a synchronous throw: a `fetch` made before
/// it is still performed).
fn call<'js>(
    ctx: &Ctx<'js>,
    main: &Function<'js>,
    args: &Value,
    may_throw_null: bool,
    driver: &mut Driver<'_, 'js>,
    fetch: &mut Fetch<'_>,
) -> Result<Settled, Failure> {
    let returned = main
        .call::<_, JsValue>((to_js(ctx, args)?,))
        .map_err(|e| describe(ctx, e, may_throw_null));
    driver.drive(fetch)?;
    let returned = match returned {
        Ok(returned) => returned,
        Err(e) => return Ok(Some(Err(e))),
    };
    let Some(promise) = returned.as_promise() else {
        return Ok(Some(Ok(to_json(ctx, returned)?)));
    };
    Ok(match promise.state() {
        PromiseState::Pending => None,
        PromiseState::Resolved => {
            let value: JsValue = match promise.result() {
                Some(Ok(value)) => value,
                _ => JsValue::new_undefined(ctx.clone()),
            };
            Some(Ok(to_json(ctx, value)?))
        }
        PromiseState::Rejected => Some(Err(rejection(ctx, promise, may_throw_null))),
    })
}

/// The reason of a rejected promise, as a thrown error.
fn rejection<'js>(ctx: &Ctx<'js>, promise: &Promise<'js>, may_throw_null: bool) -> ScriptError {
    match promise.result::<JsValue>() {
        Some(Err(e)) => describe(ctx, e, may_throw_null),
        _ => ScriptError::Thrown("InternalError: the promise did not reject".into()),
    }
}

/// The native `record(method, url, headers, body)` of `web.rs`: checks the URL and stores the
/// request, answering its number (or [`BAD_URL`], [`TOO_MANY`]).
fn recorder<'js>(
    ctx: &Ctx<'js>,
    recorded: Rc<RefCell<Recorded>>,
) -> rquickjs::Result<Function<'js>> {
    Function::new(
        ctx.clone(),
        move |method: String, url: String, headers: Vec<String>, body: Option<String>| -> i64 {
            let Some(url) = absolute_http(&url) else {
                return BAD_URL;
            };
            let mut recorded = recorded.borrow_mut();
            let size = method.len()
                + url.len()
                + headers.iter().map(String::len).sum::<usize>()
                + body.as_ref().map_or(0, String::len);
            recorded.bytes += size;
            if recorded.requests.len() >= MAX_FETCHES || recorded.bytes > MEMORY_LIMIT {
                recorded.over_limit = true;
                return TOO_MANY;
            }
            let headers = headers
                .chunks_exact(2)
                .filter_map(|pair| match pair {
                    [name, value] => Some((name.clone(), value.clone())),
                    _ => None,
                })
                .collect();
            recorded.requests.push(HttpRequest {
                method,
                url,
                headers,
                body: body.map_or(HttpBody::None, HttpBody::Raw),
                policy: flowdm_engine::CallPolicy {
                    origin: flowdm_engine::HttpOrigin::Fetch,
                    ..flowdm_engine::CallPolicy::default()
                },
            });
            recorded.requests.len() as i64 - 1
        },
    )
}

/// `url` normalized, when it is an absolute `http`/`https` URL.
fn absolute_http(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.into())
}

/// Drives the job queue and answers the recorded requests.
struct Driver<'a, 'js> {
    ctx: &'a Ctx<'js>,
    settle: Function<'js>,
    recorded: Rc<RefCell<Recorded>>,
    /// Requests offered to the callback (or skipped after a waiting one) so far.
    asked: usize,
    /// The first request the callback could not answer.
    waiting: Option<HttpRequest>,
}

impl<'js> Driver<'_, 'js> {
    /// Runs jobs until none is left, answering one new request at a time, until no job and no
    /// new request is left. (After the deadline every job fails at once, so this ends.)
    fn drive(&mut self, fetch: &mut Fetch<'_>) -> Result<(), Failure> {
        loop {
            while self.ctx.execute_pending_job() {}
            let id = self.asked;
            let Some(request) = self.recorded.borrow().requests.get(id).cloned() else {
                return Ok(());
            };
            self.asked += 1;
            if self.waiting.is_some() {
                continue;
            }
            match fetch(&request) {
                None => self.waiting = Some(request),
                Some(Ok(response)) => self.answer(id, &request, response)?,
                Some(Err(message)) => self.settle.call::<_, ()>((id, false, message))?,
            }
        }
    }

    fn answer(
        &self,
        id: usize,
        request: &HttpRequest,
        response: HttpResponse,
    ) -> Result<(), Failure> {
        let status_text = reqwest::StatusCode::from_u16(response.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let headers: Vec<String> = response
            .headers
            .into_iter()
            .flat_map(|(name, value)| [name, value])
            .collect();
        self.settle.call::<_, ()>((
            id,
            true,
            response.status,
            status_text,
            headers,
            response.body,
            request.url.as_str(),
        ))?;
        Ok(())
    }
}

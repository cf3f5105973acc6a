//! The server's metrics (`GET /metrics`, `docs/observability.md`): one [`Metrics`] per process,
//! in [`crate::http::AppState`], recorded by the request middleware, the turn service, the
//! effects, the session store ([`store::MeteredStore`]) and the NLU route, and encoded with
//! `prometheus-client` (the Prometheus org's Rust client). Labels are low-cardinality only:
//! route patterns, methods, status codes, kinds and outcomes — never a user id, a project id or
//! a raw path.
//!
//! [`active::ActiveSessions`] counts the distinct sessions that had a turn in the last
//! [`ACTIVE_WINDOW`] (in this process; bounded memory).

pub mod active;
pub mod store;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::HashSet;
use std::time::Duration;

/// How long a session counts as active after its last turn.
pub const ACTIVE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Most sessions [`active::ActiveSessions`] tracks (16 bytes each plus the map's overhead).
pub const ACTIVE_CAP: usize = 200_000;

/// The route label of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// Request latencies (seconds): sub-millisecond turns up to the 20 s request timeout.
const REQUEST_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Effect latencies (seconds): outbound calls and AI completions.
const EFFECT_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Store round trips (seconds): in memory (microseconds) to Redis (milliseconds).
const STORE_BUCKETS: [f64; 12] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0,
];
/// NLU confidences, 0 to 1.
const CONFIDENCE_BUCKETS: [f64; 10] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn request_histogram() -> Histogram {
    Histogram::new(REQUEST_BUCKETS)
}
fn effect_histogram() -> Histogram {
    Histogram::new(EFFECT_BUCKETS)
}
fn store_histogram() -> Histogram {
    Histogram::new(STORE_BUCKETS)
}
fn confidence_histogram() -> Histogram {
    Histogram::new(CONFIDENCE_BUCKETS)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
    method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteKindLabels {
    route_kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModeLabels {
    mode: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindOutcomeLabels {
    kind: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreOpLabels {
    store: &'static str,
    op: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreOpDurationLabels {
    store: &'static str,
    op: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    store: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NluLabels {
    source: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    source: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    handler: &'static str,
    result: &'static str,
}

/// Where an NLU prediction was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NluSource {
    /// A `text` request of a turn.
    Turn,
    /// `GET /nlu/project/{projectID}/version/{versionID}/inference`.
    Inference,
}

impl NluSource {
    fn label(self) -> &'static str {
        match self {
            NluSource::Turn => "turn",
            NluSource::Inference => "inference",
        }
    }
}

/// Every metric of the process (see the module's documentation).
pub struct Metrics {
    /// Tells this instance's handles apart in the per-thread caches ([`local`]).
    id: u64,
    enabled: bool,
    registry: Registry,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: Histograms<RouteLabels>,
    turn_duration: Histograms<RouteKindLabels>,
    engine_runs: Family<ModeLabels, Counter>,
    effect_duration: Histograms<KindLabels>,
    effects: Family<KindOutcomeLabels, Counter>,
    store_ops: Family<StoreOpLabels, Counter>,
    store_duration: Histograms<StoreOpDurationLabels>,
    store_errors: Family<StoreLabels, Counter>,
    session_conflicts: Family<ReasonLabels, Counter>,
    active_gauge: Gauge,
    active: active::ActiveSessions,
    nlu_predictions: Family<NluLabels, Counter>,
    nlu_confidence: Histograms<SourceLabels>,
    custom_actions: Family<ActionLabels, Counter>,
}

impl Metrics {
    /// The metrics; `enabled: false` (`--no-metrics`) records nothing and `/metrics` answers
    /// 404.
    pub fn new(enabled: bool) -> Metrics {
        let mut registry = Registry::default();
        let m = Metrics {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            enabled,
            registry: Registry::default(),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(request_histogram),
            turn_duration: Family::new_with_constructor(request_histogram),
            engine_runs: Family::default(),
            effect_duration: Family::new_with_constructor(effect_histogram),
            effects: Family::default(),
            store_ops: Family::default(),
            store_duration: Family::new_with_constructor(store_histogram),
            store_errors: Family::default(),
            session_conflicts: Family::default(),
            active_gauge: Gauge::default(),
            active: active::ActiveSessions::new(ACTIVE_WINDOW, ACTIVE_CAP),
            nlu_predictions: Family::default(),
            nlu_confidence: Family::new_with_constructor(confidence_histogram),
            custom_actions: Family::default(),
        };
        registry.register(
            "flowdm_http_requests",
            "HTTP requests answered, by route pattern, method and status code",
            m.http_requests.clone(),
        );
        registry.register(
            "flowdm_http_request_duration_seconds",
            "Time from a request's arrival to its answer's head, by route pattern and method",
            m.http_duration.clone(),
        );
        registry.register(
            "flowdm_turn_duration_seconds",
            "Time of one turn (engine runs and the effects they wait on; no lock, no store), by kind of route",
            m.turn_duration.clone(),
        );
        registry.register(
            "flowdm_engine_runs",
            "Engine runs: inline (finished on the HTTP worker), over_budget (abandoned there), blocking (on the blocking pool)",
            m.engine_runs.clone(),
        );
        registry.register(
            "flowdm_effect_duration_seconds",
            "Time to perform one effect of a turn, by kind",
            m.effect_duration.clone(),
        );
        registry.register(
            "flowdm_effects",
            "Effects performed for turns, by kind and outcome (ok, error, refused)",
            m.effects.clone(),
        );
        registry.register(
            "flowdm_store_operations",
            "Session store round trips, by store, operation and outcome",
            m.store_ops.clone(),
        );
        registry.register(
            "flowdm_store_operation_duration_seconds",
            "Session store round trip time, by store and operation",
            m.store_duration.clone(),
        );
        registry.register(
            "flowdm_store_errors",
            "Session store unavailable (answered 503), by store",
            m.store_errors.clone(),
        );
        registry.register(
            "flowdm_session_conflicts",
            "Session transactions refused with 409: lock_timeout (the lock wait ran out) or conflict (the lock was lost before the commit)",
            m.session_conflicts.clone(),
        );
        registry.register(
            "flowdm_active_sessions",
            "Distinct sessions with a turn in the last 15 minutes, in this process",
            m.active_gauge.clone(),
        );
        registry.register(
            "flowdm_nlu_predictions",
            "NLU predictions of text requests (source turn) and of the inference route, by outcome (intent, none; button: a text that matched a button's label)",
            m.nlu_predictions.clone(),
        );
        registry.register(
            "flowdm_nlu_confidence",
            "Confidence of the NLU predictions that had one",
            m.nlu_confidence.clone(),
        );
        registry.register(
            "flowdm_custom_actions",
            "Custom actions run by the server in turns, by handler and result",
            m.custom_actions.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Whether metrics are recorded and served.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// One answered request: `route` is the matched route pattern ([`intern`]ed; [`UNMATCHED`]
    /// for none).
    pub fn request(&self, route: &'static str, method: &str, status: u16, elapsed: Duration) {
        if !self.enabled {
            return;
        }
        let method = method_label(method);
        let make = || {
            let count = RequestLabels {
                route,
                method,
                status,
            };
            let time = RouteLabels { route, method };
            (
                self.http_requests.get_or_create_owned(&count),
                self.http_duration.get_or_create_owned(&time),
            )
        };
        local(
            &REQUESTS,
            (self.id, route, method, status),
            make,
            |(count, time)| {
                count.inc();
                time.observe(elapsed.as_secs_f64());
            },
        );
    }

    /// One turn of a route of kind `route_kind` ([`route_kind`]).
    pub fn turn(&self, route_kind: &'static str, elapsed: Duration) {
        if self.enabled {
            let make = || {
                self.turn_duration
                    .get_or_create_owned(&RouteKindLabels { route_kind })
            };
            local(&TURNS, (self.id, route_kind), make, |h| {
                h.observe(elapsed.as_secs_f64())
            });
        }
    }

    /// One engine run (`inline`, `over_budget`, `blocking`).
    pub fn engine_run(&self, mode: &'static str) {
        if self.enabled {
            let make = || self.engine_runs.get_or_create_owned(&ModeLabels { mode });
            local(&RUNS, (self.id, mode), make, |c| {
                c.inc();
            });
        }
    }

    /// One effect of kind `kind` performed with `outcome` (`ok`, `error`, `refused`).
    pub fn effect(&self, kind: &'static str, outcome: &'static str, elapsed: Duration) {
        if !self.enabled {
            return;
        }
        self.effects
            .get_or_create(&KindOutcomeLabels { kind, outcome })
            .inc();
        self.effect_duration
            .get_or_create(&KindLabels { kind })
            .observe(elapsed.as_secs_f64());
    }

    /// One store round trip.
    pub fn store_op(
        &self,
        store: &'static str,
        op: &'static str,
        outcome: &'static str,
        elapsed: Duration,
    ) {
        if !self.enabled {
            return;
        }
        let make = || {
            (
                self.store_ops
                    .get_or_create_owned(&StoreOpLabels { store, op, outcome }),
                self.store_duration
                    .get_or_create_owned(&StoreOpDurationLabels { store, op }),
            )
        };
        local(
            &STORE_OPS,
            (self.id, store, op, outcome),
            make,
            |(count, time)| {
                count.inc();
                time.observe(elapsed.as_secs_f64());
            },
        );
    }

    /// The store did not answer (a 503).
    pub fn store_error(&self, store: &'static str) {
        if self.enabled {
            self.store_errors
                .get_or_create(&StoreLabels { store })
                .inc();
        }
    }

    /// A session transaction refused with 409 (`lock_timeout`, `conflict`).
    pub fn session_conflict(&self, reason: &'static str) {
        if self.enabled {
            self.session_conflicts
                .get_or_create(&ReasonLabels { reason })
                .inc();
        }
    }

    /// The key of the session `(project, user)` for [`Metrics::session_active`] (a hash; `None`
    /// when metrics are off).
    pub fn session_key(&self, project_id: &str, user_id: &str) -> Option<u64> {
        self.enabled.then(|| self.active.key(project_id, user_id))
    }

    /// A turn of the session of `key` ([`Metrics::session_key`]).
    pub fn session_active(&self, key: u64) {
        if self.enabled {
            self.active.touch(key);
        }
    }

    /// One NLU prediction: the intent (`None` for none) and its confidence, if any.
    pub fn nlu(&self, source: NluSource, intent: Option<&str>, confidence: Option<f64>) {
        if !self.enabled {
            return;
        }
        let outcome = match intent {
            Some(name) if !name.is_empty() && name != flowdm_nlu::NONE_INTENT => "intent",
            _ => "none",
        };
        let source = source.label();
        self.nlu_predictions
            .get_or_create(&NluLabels { source, outcome })
            .inc();
        if let Some(c) = confidence.filter(|c| c.is_finite()) {
            self.nlu_confidence
                .get_or_create(&SourceLabels { source })
                .observe(c);
        }
    }

    /// A text request that matched a waiting button's label (no NLU prediction).
    pub fn nlu_button(&self) {
        if self.enabled {
            let labels = NluLabels {
                source: NluSource::Turn.label(),
                outcome: "button",
            };
            self.nlu_predictions.get_or_create(&labels).inc();
        }
    }

    /// One custom action run by the server: its handler and result (`docs/observability.md`).
    pub fn custom_action(&self, handler: &'static str, result: &'static str) {
        if self.enabled {
            self.custom_actions
                .get_or_create(&ActionLabels { handler, result })
                .inc();
        }
    }

    /// The metrics in the OpenMetrics text format (`openmetrics: true`) or the Prometheus text
    /// format 0.0.4.
    pub fn encode(&self, openmetrics: bool) -> Result<String, std::fmt::Error> {
        self.active_gauge.set(self.active.count() as i64);
        let mut text = String::with_capacity(16 * 1024);
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(if openmetrics {
            text
        } else {
            prometheus_text(&text)
        })
    }
}

/// The OpenMetrics text as the Prometheus text format 0.0.4: a counter's `HELP` and `TYPE`
/// name its samples' name (`…_total`), no `UNIT` lines, no `# EOF`.
fn prometheus_text(open: &str) -> String {
    let counters: HashSet<&str> = open
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(open.len() + 64 * counters.len());
    for line in open.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (p, rest)));
        if let Some((prefix, rest)) = meta {
            let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            if counters.contains(name) {
                out.push_str(prefix);
                out.push_str(name);
                out.push_str("_total ");
                out.push_str(tail);
                out.push('\n');
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Route patterns as `&'static str`: the patterns of the registered routes, each allocated once
/// for the life of the process (so the labels and the request context copy no string).
static ROUTES: std::sync::OnceLock<
    std::sync::RwLock<std::collections::HashMap<String, &'static str>>,
> = std::sync::OnceLock::new();

/// Most distinct patterns interned (the routes are fewer); past it, [`UNMATCHED`].
const MAX_ROUTES: usize = 512;

/// `pattern` as a `&'static str` (see [`ROUTES`]; each thread remembers the ones it saw, so a
/// request takes no shared lock).
pub fn intern(pattern: &str) -> &'static str {
    thread_local! {
        static SEEN: Cache<String, &'static str> = Default::default();
    }
    if let Some(p) = SEEN.with(|s| s.try_borrow().ok()?.get(pattern).copied()) {
        return p;
    }
    let interned = intern_shared(pattern);
    SEEN.with(|s| {
        if let Ok(mut seen) = s.try_borrow_mut() {
            if seen.len() < MAX_ROUTES {
                seen.insert(pattern.to_string(), interned);
            }
        }
    });
    interned
}

fn intern_shared(pattern: &str) -> &'static str {
    let routes = ROUTES.get_or_init(Default::default);
    if let Ok(known) = routes.read() {
        if let Some(p) = known.get(pattern) {
            return p;
        }
    }
    let Ok(mut known) = routes.write() else {
        return UNMATCHED;
    };
    if let Some(p) = known.get(pattern) {
        return p;
    }
    if known.len() >= MAX_ROUTES {
        return UNMATCHED;
    }
    let leaked: &'static str = Box::leak(pattern.to_string().into_boxed_str());
    known.insert(pattern.to_string(), leaked);
    leaked
}

/// Numbers [`Metrics`] instances (several servers may run in one process, in tests).
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

type Cache<K, V> = std::cell::RefCell<std::collections::HashMap<K, V>>;

thread_local! {
    // The hot metrics' handles per thread (an HTTP worker), by instance and labels: a request
    // then touches only its counters and histograms, not each family's lock (measured: the
    // shared locks cost several percent of a short turn's throughput).
    static REQUESTS: Cache<(u64, &'static str, &'static str, u16), (Counter, Histogram)> =
        Default::default();
    static TURNS: Cache<(u64, &'static str), Histogram> = Default::default();
    static RUNS: Cache<(u64, &'static str), Counter> = Default::default();
    static STORE_OPS: Cache<(u64, &'static str, &'static str, &'static str), (Counter, Histogram)> =
        Default::default();
}

/// Runs `f` on this thread's handle of `key` in `cache` (made by `make` the first time).
fn local<K: std::hash::Hash + Eq, V>(
    cache: &'static std::thread::LocalKey<Cache<K, V>>,
    key: K,
    make: impl FnOnce() -> V,
    f: impl FnOnce(&V),
) {
    cache.with(|c| {
        if let Ok(mut map) = c.try_borrow_mut() {
            f(map.entry(key).or_insert_with(make));
        }
    });
}

/// A method as a label: the standard ones, else `other`.
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// The kind of a route pattern, for the turn latency: `state` (`/state/…`, the legacy forms
/// too), `stop_resume`, `stateless` (`/interact…`), `public`, `v4`, `socket`, `stream` (every
/// Server-Sent Events route), `custom_action` (`/api/…`), else `other`.
pub fn route_kind(pattern: &str) -> &'static str {
    if pattern.ends_with("/stream") {
        "stream"
    } else if pattern.starts_with("/v4/interact/socket") {
        "socket"
    } else if pattern.starts_with("/v4/") {
        "v4"
    } else if pattern.contains("/stops/") {
        "stop_resume"
    } else if pattern.starts_with("/state/") {
        "state"
    } else if pattern.starts_with("/interact") {
        "stateless"
    } else if pattern.starts_with("/public/") || pattern.starts_with("/v2/public/") {
        "public"
    } else if pattern.starts_with("/api/") {
        "custom_action"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_names_counters_by_their_samples() {
        let m = Metrics::new(true);
        m.request(
            "/state/user/{userID}/interact",
            "POST",
            200,
            Duration::from_millis(3),
        );
        m.nlu(NluSource::Turn, Some("None"), Some(0.2));
        let text = m.encode(false).unwrap();
        assert!(
            text.contains("# TYPE flowdm_http_requests_total counter\n"),
            "{text}"
        );
        assert!(text.contains(
            "flowdm_http_requests_total{route=\"/state/user/{userID}/interact\",method=\"POST\",status=\"200\"} 1\n"
        ), "{text}");
        assert!(text.contains("# TYPE flowdm_http_request_duration_seconds histogram"));
        assert!(text.contains("flowdm_nlu_predictions_total{source=\"turn\",outcome=\"none\"} 1"));
        assert!(!text.contains("# EOF"));
        let open = m.encode(true).unwrap();
        assert!(open.ends_with("# EOF\n"));
        assert!(open.contains("# TYPE flowdm_http_requests counter\n"));
    }

    #[test]
    fn disabled_records_nothing() {
        let m = Metrics::new(false);
        m.request("/health", "GET", 200, Duration::ZERO);
        assert!(!m.encode(false).unwrap().contains("route="));
    }

    #[test]
    fn route_kinds() {
        assert_eq!(route_kind("/state/user/{userID}/interact"), "state");
        assert_eq!(
            route_kind("/state/{versionID}/user/{userID}/stops/{stopID}/resume"),
            "stop_resume"
        );
        assert_eq!(route_kind("/interact/{versionID}"), "stateless");
        assert_eq!(
            route_kind("/v2/public/project/{projectID}/user/{userID}/interact/stream"),
            "stream"
        );
        assert_eq!(
            route_kind("/public/{projectID}/state/user/{userID}/interact"),
            "public"
        );
        assert_eq!(route_kind("/v4/interact"), "v4");
        assert_eq!(route_kind("/v4/interact/socket/"), "socket");
        assert_eq!(route_kind(""), "other");
    }
}

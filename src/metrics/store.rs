//! [`MeteredStore`]: a [`SessionStore`] that times every round trip of the store it wraps and
//! counts its outcomes (`flowdm_store_operations_total`, `flowdm_store_errors_total`,
//! `flowdm_session_conflicts_total`), so the store crate stays free of metrics.

use super::Metrics;
use flowdm_engine::State;
use flowdm_store::{
    BeginOptions, Begun, SessionKey, SessionStore, SessionTxn, StoreError, StoreFuture,
};
use serde_json::{Map, Value};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The wrapped store and the metrics it records into.
pub struct MeteredStore {
    inner: Arc<dyn SessionStore>,
    metrics: Arc<Metrics>,
}

impl MeteredStore {
    pub fn new(inner: Arc<dyn SessionStore>, metrics: Arc<Metrics>) -> MeteredStore {
        MeteredStore { inner, metrics }
    }

    /// Runs `op` of the wrapped store, timed and counted.
    fn metered<'a, T: Send + 'a>(
        &'a self,
        op: &'static str,
        fut: impl Future<Output = Result<T, StoreError>> + Send + 'a,
        ok: impl Fn(&T) -> &'static str + Send + 'a,
    ) -> StoreFuture<'a, T> {
        Box::pin(async move {
            let started = Instant::now();
            let result = fut.await;
            let outcome = match &result {
                Ok(v) => ok(v),
                Err(e) => self.failed(e),
            };
            self.record(op, outcome, started.elapsed());
            result
        })
    }

    fn record(&self, op: &'static str, outcome: &'static str, elapsed: Duration) {
        self.metrics
            .store_op(self.inner.name(), op, outcome, elapsed);
    }

    /// The outcome label of an error (and the error counters).
    fn failed(&self, e: &StoreError) -> &'static str {
        match e {
            StoreError::Unavailable(_) => {
                self.metrics.store_error(self.inner.name());
                "unavailable"
            }
            StoreError::LockTimeout { .. } => {
                self.metrics.session_conflict("lock_timeout");
                "lock_timeout"
            }
            StoreError::Conflict(_) => {
                self.metrics.session_conflict("conflict");
                "conflict"
            }
            StoreError::TooLarge { .. } => "too_large",
            StoreError::Corrupt(_) => "corrupt",
        }
    }
}

fn ok<T>(_: &T) -> &'static str {
    "ok"
}

impl SessionStore for MeteredStore {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn ready(&self) -> StoreFuture<'_, ()> {
        self.metered("ready", self.inner.ready(), ok)
    }

    fn begin<'a>(&'a self, key: &'a SessionKey, opts: BeginOptions<'a>) -> StoreFuture<'a, Begun> {
        self.metered("begin", self.inner.begin(key, opts), |b| match b {
            Begun::Txn(_) => "ok",
            Begun::Replay(_) => "replay",
        })
    }

    fn commit<'a>(&'a self, txn: SessionTxn, state: Option<State>) -> StoreFuture<'a, ()> {
        self.metered("commit", self.inner.commit(txn, state), ok)
    }

    fn release_held(&self) -> StoreFuture<'_, usize> {
        self.inner.release_held()
    }

    fn renew_every(&self) -> Option<Duration> {
        self.inner.renew_every()
    }

    fn renew<'a>(&'a self, txn: &'a mut SessionTxn) -> StoreFuture<'a, ()> {
        self.metered("renew", self.inner.renew(txn), ok)
    }

    fn get<'a>(&'a self, key: &'a SessionKey) -> StoreFuture<'a, Option<State>> {
        self.metered("get", self.inner.get(key), ok)
    }

    fn upsert_transcript<'a>(
        &'a self,
        project_id: &'a str,
        session_id: &'a str,
        fields: Map<String, Value>,
        now: &'a str,
    ) -> StoreFuture<'a, Value> {
        let fut = self
            .inner
            .upsert_transcript(project_id, session_id, fields, now);
        self.metered("upsert_transcript", fut, ok)
    }

    fn transcripts<'a>(&'a self, project_id: &'a str) -> StoreFuture<'a, Vec<Value>> {
        self.metered("transcripts", self.inner.transcripts(project_id), ok)
    }

    fn add_feedback<'a>(&'a self, project_id: &'a str, feedback: Value) -> StoreFuture<'a, ()> {
        self.metered(
            "add_feedback",
            self.inner.add_feedback(project_id, feedback),
            ok,
        )
    }

    fn feedback<'a>(&'a self, project_id: &'a str) -> StoreFuture<'a, Vec<Value>> {
        self.metered("feedback", self.inner.feedback(project_id), ok)
    }
}

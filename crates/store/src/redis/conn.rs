//! The store's connections: a node's or the cluster's multiplexed connection ([`Conn`]), the
//! pool it comes from, and the long-lived lanes that hold one each (the parent module's doc).

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, RedisFuture, Value as RValue};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use tokio::time::Instant;

/// A connection to a node or to the cluster (both multiplexed and cheap to clone).
#[derive(Clone)]
pub(crate) enum Conn {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, RValue> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<RValue>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

pub(super) enum Pool {
    Single(deadpool_redis::Pool),
    Cluster(deadpool_redis::cluster::Pool),
}

/// A connection checked out of the pool for as long as its lane uses it.
pub(super) enum Held {
    Single(deadpool_redis::Connection),
    Cluster(deadpool_redis::cluster::Connection),
}

impl Held {
    pub(super) fn conn(&self) -> Conn {
        match self {
            Held::Single(c) => Conn::Single((**c).clone()),
            Held::Cluster(c) => Conn::Cluster((**c).clone()),
        }
    }

    /// Removes a broken connection from the pool (it is closed when its last clone is dropped).
    pub(super) fn discard(self) {
        match self {
            Held::Single(c) => drop(deadpool_redis::Connection::take(c)),
            Held::Cluster(c) => drop(deadpool_redis::cluster::Connection::take(c)),
        }
    }
}

#[derive(Default)]
pub(super) struct LaneState {
    pub(super) conn: Option<(Conn, u64)>,
    pub(super) held: Option<Held>,
    pub(super) next_id: u64,
    pub(super) retry_at: Option<Instant>,
}

/// One long-lived connection slot.
#[derive(Default)]
pub(super) struct Lane {
    pub(super) state: Mutex<LaneState>,
    pub(super) connecting: tokio::sync::Mutex<()>,
}

impl Lane {
    pub(super) fn current(&self) -> Option<(Conn, u64)> {
        self.state.lock().ok()?.conn.clone()
    }

    /// Throws away connection `id` (if it is still the lane's).
    pub(super) fn invalidate(&self, id: u64) {
        let held = match self.state.lock() {
            Ok(mut s) if s.conn.as_ref().map(|c| c.1) == Some(id) => {
                s.conn = None;
                s.held.take()
            }
            _ => None,
        };
        if let Some(h) = held {
            h.discard();
        }
    }
}

thread_local! {
    /// This thread's lane number (assigned on first use, round robin).
    static LANE_SEED: Cell<Option<usize>> = const { Cell::new(None) };
}
static NEXT_LANE: AtomicUsize = AtomicUsize::new(0);

pub(super) fn lane_index(lanes: usize) -> usize {
    LANE_SEED.with(|c| {
        let seed = c.get().unwrap_or_else(|| {
            let s = NEXT_LANE.fetch_add(1, Ordering::Relaxed);
            c.set(Some(s));
            s
        });
        seed % lanes
    })
}

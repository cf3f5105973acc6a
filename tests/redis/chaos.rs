//! Chaos: a Redis Cluster of three primaries, each with a replica, loses a primary under load
//! (SIGKILL). The replica is promoted; the turns of the sessions on it are answered 503 (or
//! 409 while a lock is in doubt) until then, and correctly after; no answered turn is lost and
//! none is applied twice: every user's final count is exactly the number of turns answered 200.
//! The server waits for one replica per commit (`--redis-wait-replicas 1`) and the clients
//! retry a refused turn with the same `Idempotency-Key`. Bounded: the load stops 8 s after the
//! kill (a refused turn is retried at most 10 s more).

use crate::support::server::*;
use crate::support::traces::messages;
use serde_json::json;
use std::process::Command;
use std::time::{Duration, Instant};

const USERS: usize = 9;

/// A private cluster (3 primaries + 3 replicas, 1 s failure detection), stopped on drop.
struct Cluster {
    dir: tempfile::TempDir,
    urls: String,
}

impl Cluster {
    fn start() -> Option<Cluster> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/redis-cluster");
        let dir = tempfile::tempdir().ok()?;
        let out = Command::new(script)
            .args([
                "start",
                &dir.path().join("c").display().to_string(),
                "3",
                "1",
            ])
            .env("NODE_TIMEOUT", "1000")
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "SKIPPED chaos: no cluster ({})",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        let urls = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Some(Cluster { dir, urls })
    }

    fn ports(&self) -> Vec<u16> {
        self.urls
            .split(',')
            .filter_map(|u| u.rsplit(':').next()?.parse().ok())
            .collect()
    }

    /// The port of the primary serving `slot`.
    fn primary_of(&self, slot: u16) -> u16 {
        let port = self.ports()[0];
        let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}"))
            .unwrap()
            .get_connection()
            .unwrap();
        let nodes: String = redis::cmd("CLUSTER").arg("NODES").query(&mut c).unwrap();
        for line in nodes.lines() {
            let f: Vec<&str> = line.split(' ').collect();
            if !f[2].contains("master") {
                continue;
            }
            for range in &f[8..] {
                let (lo, hi) = range.split_once('-').unwrap_or((range, range));
                let (lo, hi): (u16, u16) = (lo.parse().unwrap_or(1), hi.parse().unwrap_or(0));
                if (lo..=hi).contains(&slot) {
                    let addr = f[1].split('@').next().unwrap();
                    return addr.rsplit(':').next().unwrap().parse().unwrap();
                }
            }
        }
        panic!("no primary serves slot {slot}:\n{nodes}");
    }

    fn slot(&self, key: &str) -> u16 {
        let port = self.ports()[0];
        let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}"))
            .unwrap()
            .get_connection()
            .unwrap();
        redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query(&mut c)
            .unwrap()
    }

    fn kill(&self, port: u16) {
        let pid =
            std::fs::read_to_string(self.dir.path().join("c").join(format!("redis-{port}.pid")))
                .expect("pid file");
        let ok = Command::new("kill")
            .args(["-9", pid.trim()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -9 {pid}");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/redis-cluster");
        let _ = Command::new(script)
            .args(["stop", &self.dir.path().join("c").display().to_string()])
            .status();
    }
}

/// One user's load: ticks one at a time, a refused tick retried with its key, until `stop`.
/// Gives (ticks answered 200, answers 503/409, answers after the kill, wrong answers).
async fn user_load(
    url: String,
    user: String,
    stop: Instant,
    killed: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> (u64, u64, u64, Vec<String>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let (mut acked, mut refused, mut after, mut wrong) = (0u64, 0u64, 0u64, Vec::new());
    // A refused tick's outcome is unknown until its retry answers: the last one is retried
    // past `stop` (for at most 10 s more).
    let mut pending = false;
    let give_up = stop + Duration::from_secs(10);
    while Instant::now() < stop || (pending && Instant::now() < give_up) {
        let key = format!("{user}-{}", acked + 1);
        let r = client
            .post(format!("{url}/state/user/{user}/interact"))
            .header("versionID", COUNTER_VERSION)
            .header("Idempotency-Key", &key)
            .json(&json!({"action": {"type": "tick"}}))
            .send()
            .await;
        let Ok(r) = r else {
            refused += 1;
            pending = true;
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        match status {
            200 => {
                let said = serde_json::from_str(&text)
                    .map(|v| messages(&v))
                    .unwrap_or_default();
                let want = format!("count {}", acked + 1);
                if said != [want.clone()] {
                    wrong.push(format!("{user}: {said:?} for {want}"));
                }
                acked += 1;
                pending = false;
                if killed.load(std::sync::atomic::Ordering::SeqCst) {
                    after += 1;
                }
            }
            503 | 409 => {
                refused += 1;
                pending = true;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => wrong.push(format!("{user}: {other} {text}")),
        }
    }
    if pending {
        wrong.push(format!("{user}: a refused turn never answered"));
    }
    (acked, refused, after, wrong)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_primary_killed_under_load_loses_no_answered_turn() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let prefix = format!("chaos{}:", std::process::id());
    let server = Server::builder()
        .files(&[("counter.vfr", counter_agent())])
        .args(&[
            "--redis-cluster",
            "--redis",
            &cluster.urls,
            "--redis-prefix",
            &prefix,
        ])
        .args(&["--redis-wait-replicas", "1", "--redis-timeout-ms", "500"])
        .args(&["--lock-wait-ms", "1000", "--redis-lock-ttl-ms", "3000"])
        .start();
    let users: Vec<String> = (0..USERS).map(|i| format!("chaos-{i}")).collect();
    for u in &users {
        let r = send(
            reqwest::Method::POST,
            &server.url(&format!("/state/user/{u}/interact")),
            &[("versionID", COUNTER_VERSION)],
            Some(&json!({"action": {"type": "launch"}})),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    // The primary of the first user's session.
    let victim = cluster.primary_of(cluster.slot(&format!("{{{COUNTER_PROJECT}:{}}}", users[0])));
    let killed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let kill_at = Instant::now() + Duration::from_millis(1500);
    let stop = kill_at + Duration::from_secs(8);
    let loads: Vec<_> = users
        .iter()
        .map(|u| tokio::spawn(user_load(server.url(""), u.clone(), stop, killed.clone())))
        .collect();
    tokio::time::sleep_until(kill_at.into()).await;
    cluster.kill(victim);
    killed.store(true, std::sync::atomic::Ordering::SeqCst);

    let mut wrong = Vec::new();
    let mut acked = Vec::new();
    let mut refused_total = 0;
    for (u, load) in users.iter().zip(loads) {
        let (n, refused, after, w) = load.await.unwrap();
        wrong.extend(w);
        refused_total += refused;
        assert!(after > 0, "{u}: no turn answered after the kill (failover)");
        acked.push((u.clone(), n));
    }
    assert!(
        wrong.is_empty(),
        "answers neither correct nor 503: {wrong:#?}"
    );
    // Nothing answered is lost, nothing applied twice.
    for (u, n) in acked {
        let st = User::new(&server, &u, COUNTER_VERSION).state().await;
        assert_eq!(st["variables"]["count"], json!(n), "{u}: {st}");
    }
    eprintln!("chaos: {refused_total} refused answers while the replica took over");
}

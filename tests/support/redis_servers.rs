//! Helpers for the Redis tests: the Redis that `scripts/test` started (`REDIS_URL`, and
//! `REDIS_CLUSTER_URLS` for the cluster), unique key prefixes so tests run in parallel, direct
//! Redis access for checks, and a private `redis-server` a test can stop and start.
//!
//! Without the variables (plain `cargo test`) a Redis test prints why and returns; CI runs
//! `scripts/test`, which always sets them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// `REDIS_URL`, or `None` (with a message) when the tests were not started by `scripts/test`.
pub fn redis_url(test: &str) -> Option<String> {
    match std::env::var("REDIS_URL") {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ => {
            eprintln!("SKIPPED {test}: REDIS_URL is not set (run scripts/test, which starts a private redis-server)");
            None
        }
    }
}

/// `REDIS_CLUSTER_URLS` (comma separated), or `None` with a message.
pub fn cluster_urls(test: &str) -> Option<String> {
    match std::env::var("REDIS_CLUSTER_URLS") {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ => {
            eprintln!("SKIPPED {test}: REDIS_CLUSTER_URLS is not set (run scripts/test, which starts a private Redis Cluster)");
            None
        }
    }
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A key prefix no other test (or earlier run) uses.
pub fn unique_prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "test:{test}:{}:{nanos}:{}:",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// A synchronous connection for checks (single node).
pub fn connect(url: &str) -> redis::Connection {
    redis::Client::open(url)
        .expect("redis url")
        .get_connection_with_timeout(Duration::from_secs(5))
        .expect("connect to redis")
}

/// A synchronous cluster connection for checks.
pub fn connect_cluster(urls: &str) -> redis::cluster::ClusterConnection {
    let nodes: Vec<&str> = urls.split(',').collect();
    redis::cluster::ClusterClient::new(nodes)
        .expect("cluster urls")
        .get_connection()
        .expect("connect to the cluster")
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A `redis-server` of this test alone, on a free port, persisting to its own directory with an
/// fsync'ed append-only file, so it can be killed and started again with its data. Killed on
/// drop.
pub struct PrivateRedis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts one, or `None` (with a message) when `redis-server` is not on PATH.
    pub fn start(test: &str) -> Option<PrivateRedis> {
        if Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            eprintln!("SKIPPED {test}: redis-server is not installed (scripts/test installs it)");
            return None;
        }
        let mut r = PrivateRedis {
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            child: None,
        };
        r.restart();
        Some(r)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// (Re)starts the server on the same port and directory and waits until it answers.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(self.dir.path().join("redis.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        self.child = Some(child);
        let started = Instant::now();
        loop {
            if let Ok(c) = redis::Client::open(self.url()) {
                if let Ok(mut conn) = c.get_connection_with_timeout(Duration::from_millis(200)) {
                    if redis::cmd("PING").query::<String>(&mut conn).is_ok() {
                        return;
                    }
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start; log:\n{}",
                std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server (SIGKILL: a crash; the fsync'ed AOF keeps every acknowledged write).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing is answered.
    pub fn pause(&self) {
        signal(self.pid().expect("running"), "STOP");
    }

    /// Resumes a frozen server (SIGCONT).
    pub fn resume(&self) {
        signal(self.pid().expect("running"), "CONT");
    }

    pub fn connect(&self) -> redis::Connection {
        connect(&self.url())
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill -{sig} {pid} failed");
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            // A frozen server ignores SIGTERM; SIGKILL always works.
            let _ = Command::new("kill")
                .args(["-CONT", &pid.to_string()])
                .status();
        }
        self.kill();
    }
}

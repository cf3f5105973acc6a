//! `rediss://`: the session store over TLS, against a private `redis-server` that only listens
//! with TLS (a self-signed certificate made here). `#insecure` skips the certificate check for
//! this self-signed one; a real deployment's certificate is checked against the system's roots
//! (docs/redis.md).

use crate::support::redis_servers::free_port;
use crate::support::server::*;
use crate::support::traces::messages;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct TlsRedis {
    port: u16,
    _dir: tempfile::TempDir,
    child: Child,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_tls_redis() -> Option<TlsRedis> {
    let supports_tls = Command::new("redis-server")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !supports_tls {
        eprintln!("SKIPPED rediss: redis-server is not installed (scripts/test installs it)");
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("cert");
    std::fs::write(dir.path().join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), cert.key_pair.serialize_pem()).unwrap();
    let port = free_port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(["--tls-port", &port.to_string()])
        .arg("--tls-cert-file")
        .arg(dir.path().join("cert.pem"))
        .arg("--tls-key-file")
        .arg(dir.path().join("key.pem"))
        .args(["--tls-auth-clients", "no"])
        .arg("--dir")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "TLS redis-server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(TlsRedis {
        port,
        _dir: dir,
        child,
    })
}

#[tokio::test]
async fn sessions_over_rediss() {
    let Some(redis) = start_tls_redis() else {
        return;
    };
    let url = format!("rediss://127.0.0.1:{}/#insecure", redis.port);
    let server = Server::builder().args(&["--redis", &url]).start();
    let r = send(reqwest::Method::GET, &server.url("/ready"), &[], None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let u = User::new(&server, "tls-user", PAYMENT_VERSION);
    let t = u.act(json!({"type": "launch"})).await;
    assert!(!messages(&t).is_empty(), "{t}");
    // Another server on the same TLS Redis sees the session.
    let other = Server::builder().args(&["--redis", &url]).start();
    let st = User::new(&other, "tls-user", PAYMENT_VERSION).state().await;
    assert!(
        st["stack"].as_array().is_some_and(|s| !s.is_empty()),
        "{st}"
    );

    // Plain `redis://` to the TLS port is not a working store: /ready says so.
    let plain = Server::builder()
        .args(&[
            "--redis",
            &format!("redis://127.0.0.1:{}", redis.port),
            "--redis-timeout-ms",
            "300",
        ])
        .start();
    let r = send(reqwest::Method::GET, &plain.url("/ready"), &[], None).await;
    assert_eq!(r.status, 503, "{}", r.text);
}

//! An open-loop HTTP load generator for the Redis benchmark (`bench/redis/run.sh`): sends
//! `POST {url}/state/user/{prefix}{n}/interact` at a fixed rate, whatever the latency (a slow
//! server cannot slow the generator down: no coordinated omission). Each request is timed from
//! the moment it is sent; the generator's own lag behind the schedule (tokio's timer has a 1 ms
//! resolution) is reported separately, so a generator that falls behind shows.
//!
//! ```console
//! $ cargo run --release --example loadgen -- --url http://127.0.0.1:3000 --rate 2000 \
//!     --duration 10 --users 400 --version c0ffee000000000000000002
//! ```
//!
//! Only loopback addresses are accepted; the run stops by itself after `--duration` seconds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Opts {
    url: String,
    rate: f64,
    duration: f64,
    users: usize,
    user_prefix: String,
    version: String,
    body: String,
    max_in_flight: usize,
}

fn parse() -> Result<Opts, String> {
    let mut o = Opts {
        url: String::new(),
        rate: 2000.0,
        duration: 10.0,
        users: 400,
        user_prefix: "load-0-".into(),
        version: "c0ffee000000000000000002".into(),
        body: r#"{"action":{"type":"tick"}}"#.into(),
        max_in_flight: 1024,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut v = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--url" => o.url = v()?,
            "--rate" => o.rate = v()?.parse().map_err(|e| format!("--rate: {e}"))?,
            "--duration" => o.duration = v()?.parse().map_err(|e| format!("--duration: {e}"))?,
            "--users" => o.users = v()?.parse().map_err(|e| format!("--users: {e}"))?,
            "--user-prefix" => o.user_prefix = v()?,
            "--version" => o.version = v()?,
            "--body" => o.body = v()?,
            "--max-in-flight" => {
                o.max_in_flight = v()?.parse().map_err(|e| format!("--max-in-flight: {e}"))?
            }
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    let host = o
        .url
        .strip_prefix("http://")
        .ok_or("--url must be http://127.x.x.x:PORT or http://localhost:PORT")?;
    if !(host.starts_with("127.") || host.starts_with("localhost:") || host.starts_with("[::1]")) {
        return Err("only loopback targets are allowed".into());
    }
    if o.rate <= 0.0 || o.duration <= 0.0 || o.duration > 600.0 || o.users == 0 {
        return Err("--rate and --users must be positive, --duration in (0, 600]".into());
    }
    Ok(o)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(o.max_in_flight)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let urls: Arc<Vec<String>> = Arc::new(
        (0..o.users)
            .map(|u| format!("{}/state/user/{}{u}/interact", o.url, o.user_prefix))
            .collect(),
    );
    let latencies = Arc::new(Mutex::new(Vec::<u64>::with_capacity(
        (o.rate * o.duration) as usize + 16,
    )));
    let statuses = Arc::new(Mutex::new(std::collections::BTreeMap::<u16, usize>::new()));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let skipped = Arc::new(AtomicUsize::new(0));
    let total = (o.rate * o.duration).round() as usize;
    let period = Duration::from_secs_f64(1.0 / o.rate);
    let start = Instant::now();
    let mut handles = Vec::with_capacity(total);
    let mut lags = Vec::with_capacity(total);
    for i in 0..total {
        let due = start + period.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let sent = Instant::now();
        lags.push(sent.duration_since(due).as_micros() as u64);
        if in_flight.load(Ordering::Relaxed) >= o.max_in_flight {
            skipped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        in_flight.fetch_add(1, Ordering::Relaxed);
        let req = client
            .post(&urls[i % urls.len()])
            .header("versionID", &o.version)
            .header("content-type", "application/json")
            .body(o.body.clone());
        let (latencies, statuses, in_flight) =
            (latencies.clone(), statuses.clone(), in_flight.clone());
        handles.push(tokio::spawn(async move {
            let status = match req.send().await {
                Ok(r) => {
                    let s = r.status().as_u16();
                    let _ = r.bytes().await;
                    s
                }
                Err(_) => 0,
            };
            let micros = sent.elapsed().as_micros() as u64;
            in_flight.fetch_sub(1, Ordering::Relaxed);
            if let Ok(mut l) = latencies.lock() {
                l.push(micros);
            }
            if let Ok(mut s) = statuses.lock() {
                *s.entry(status).or_default() += 1;
            }
        }));
    }
    let sent_for = start.elapsed();
    for h in handles {
        let _ = h.await;
    }
    let mut l = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    l.sort_unstable();
    let statuses = statuses.lock().map(|s| s.clone()).unwrap_or_default();
    let ok = statuses.get(&200).copied().unwrap_or(0);
    println!(
        "offered {:.0} req/s for {:.1} s: {} requests sent ({:.0} req/s), {} skipped (over {} in flight)",
        o.rate,
        sent_for.as_secs_f64(),
        l.len(),
        l.len() as f64 / sent_for.as_secs_f64(),
        skipped.load(Ordering::Relaxed),
        o.max_in_flight
    );
    println!("statuses {statuses:?} (0 = connection error); {ok} ok");
    println!(
        "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        percentile(&l, 50.0),
        percentile(&l, 90.0),
        percentile(&l, 99.0),
        percentile(&l, 99.9),
        percentile(&l, 100.0)
    );
    lags.sort_unstable();
    println!(
        "generator lag behind schedule ms: p50 {:.2}  p99 {:.2}  max {:.2}",
        percentile(&lags, 50.0),
        percentile(&lags, 99.0),
        percentile(&lags, 100.0)
    );
}

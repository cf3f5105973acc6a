//! Helpers for the HTTP integration tests: start the real application on port 0 — inside the
//! test process ([`ServerBuilder::start`], `Application::build` on a thread of its own), or, for
//! the tests of the command line itself (its environment variables, its logs), as the
//! `flowdm serve` binary ([`ServerBuilder::start_process`]) — then talk HTTP with reqwest and
//! normalise traces.

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

pub use super::traces::{messages, types};

pub const PAYMENT_PROJECT: &str = "64a1f0000000000000000001";
pub const PAYMENT_VERSION: &str = "64a1f0000000000000000002";
pub const HANDOFF_PROJECT: &str = "64b2f0000000000000000001";
pub const HANDOFF_VERSION: &str = "64b2f0000000000000000002";
pub const CATALOGUE_PROJECT: &str = "64c3f0000000000000000001";
pub const CATALOGUE_VERSION: &str = "64c3f0000000000000000002";

/// API keys of [`ServerBuilder::test_keys_file`].
pub const PAY_KEY: &str = "VF.DM.paykey.s3cr3t-payment";
pub const HANDOFF_KEY: &str = "VF.DM.hokey.s3cr3t-handoff";

/// `POST /state/user/auth-user/interact` with a launch and these headers.
pub async fn launch_with(server: &Server, headers: &[(&str, &str)]) -> Resp {
    send(
        Method::POST,
        &server.url("/state/user/auth-user/interact"),
        headers,
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await
}

/// Environment variables the server reads; removed so the machine's environment cannot change
/// what a test sees.
const SERVER_ENV: [&str; 35] = [
    "REDIS_URL",
    "FLOWDM_NLU_VECTORS",
    "FLOWDM_AI_URL",
    "FLOWDM_AI_API_KEY",
    "FLOWDM_AI_MODELS",
    "FLOWDM_AI_DEFAULT_MODEL",
    "FLOWDM_AI_TIMEOUT_MS",
    "FLOWDM_AI_RETRIES",
    "FLOWDM_AI_TEMPERATURE",
    "FLOWDM_AI_MAX_TOKENS",
    "FLOWDM_AI_MAX_TOKENS_PER_TURN",
    "FLOWDM_NLU_EMBEDDINGS_URL",
    "FLOWDM_NLU_EMBEDDINGS_MODEL",
    "FLOWDM_NLU_EMBEDDINGS_TIMEOUT_MS",
    "FLOWDM_NLU_EMBEDDINGS_WEIGHT",
    "FLOWDM_NLU_API_KEY",
    "FLOWDM_KEYS",
    "FLOWDM_API_KEYS",
    "PORT",
    "HOST",
    "ALLOWED_PUBLIC_ORIGINS",
    "ERROR_RESPONSE_MS",
    "FLOWDM_WORKERS",
    "NODE_ENV",
    "FLOWDM_KB_DIR",
    "FLOWDM_WIDGET_BUNDLE",
    "FLOWDM_WIDGET_URL",
    "FLOWDM_LOG_FORMAT",
    "FLOWDM_NO_METRICS",
    "FLOWDM_NO_WATCH",
    "FLOWDM_RETIRED_TTL",
    "FLOWDM_SHUTDOWN_TIMEOUT",
    "FLOWDM_REDIS_WAIT_REPLICAS",
    "FLOWDM_RATE_LIMIT_KEY",
    "FLOWDM_RATE_LIMIT_USER",
];

pub fn diagrams_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("diagrams")
}

/// A `flowdm serve` command with a clean environment.
pub fn flowdm_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowdm"));
    for var in SERVER_ENV {
        cmd.env_remove(var);
    }
    // Not the word vectors a machine may have installed (`--nlu-vectors DIR` still wins).
    cmd.env("FLOWDM_NLU_VECTORS", "off");
    cmd.env("RUST_LOG", "info,actix_server=warn");
    cmd
}

/// How a test server runs.
enum Running {
    /// `Application::build` + `run_until_stopped` on a thread with its own actix system.
    InProcess {
        handle: actix_web::dev::ServerHandle,
        thread: Option<std::thread::JoinHandle<()>>,
    },
    /// The `flowdm serve` binary.
    Process {
        child: Child,
        stderr: Arc<Mutex<String>>,
    },
}

/// A running server; stopped on drop.
pub struct Server {
    running: Running,
    pub base: String,
    _dir: Option<tempfile::TempDir>,
}

/// How to start a server.
pub struct ServerBuilder {
    dir: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    temp: Option<tempfile::TempDir>,
    keys_dir: Option<tempfile::TempDir>,
    /// `FLOWDM_NLU_API_KEY` (the environment for a process, the configuration in process).
    nlu_api_key: Option<String>,
}

impl ServerBuilder {
    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }
    pub fn env(mut self, k: &str, v: impl Into<String>) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }
    /// Serves a temporary directory holding `files` (name → contents) instead of `diagrams/`.
    pub fn files(mut self, files: &[(&str, String)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("write agent");
        }
        self.dir = dir.path().to_path_buf();
        self.temp = Some(dir);
        self
    }
    /// Copies example agents into the temporary directory.
    pub fn with_example(self, name: &str) -> Self {
        let text = std::fs::read_to_string(diagrams_dir().join(name)).expect("example agent");
        let dir = match &self.temp {
            Some(d) => d.path().to_path_buf(),
            None => return self.files(&[(name, text)]),
        };
        std::fs::write(dir.join(name), text).expect("copy");
        self
    }
    /// `--keys` with a keys file giving [`PAY_KEY`] the payment project and [`HANDOFF_KEY`]
    /// the hand-off project (read at start-up: the file is removed when the builder is).
    pub fn test_keys_file(self) -> Self {
        let keys = json!({"keys": [
            {"key": PAY_KEY, "projectID": PAYMENT_PROJECT, "name": "payment tests"},
            {"key": HANDOFF_KEY, "projectID": HANDOFF_PROJECT}
        ]});
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("keys.json");
        std::fs::write(&path, keys.to_string()).expect("write keys");
        let mut b = self.arg("--keys").arg(path.display().to_string());
        b.keys_dir = Some(dir);
        b
    }

    /// An embeddings provider for the NLU: `--nlu-embeddings-url`, `--nlu-embeddings-model`,
    /// and the key as `FLOWDM_NLU_API_KEY` would give it. The stubs listen on 127.0.0.1, which
    /// the SSRF guard refuses unless allowed: `--allow-outbound 127.0.0.1/32`.
    pub fn nlu_provider(self, url: &str, model: &str, key: Option<&str>) -> Self {
        self.nlu_provider_guarded(url, model, key)
            .args(&["--allow-outbound", "127.0.0.1/32"])
    }

    /// [`ServerBuilder::nlu_provider`] without the allow-list: the guard applies in full.
    pub fn nlu_provider_guarded(mut self, url: &str, model: &str, key: Option<&str>) -> Self {
        self.nlu_api_key = key.map(str::to_string);
        self.args(&["--nlu-embeddings-url", url, "--nlu-embeddings-model", model])
    }

    pub fn temp_path(&self) -> Option<PathBuf> {
        self.temp.as_ref().map(|d| d.path().to_path_buf())
    }

    /// Starts the application inside the test process: the arguments are parsed the way
    /// `flowdm serve` parses them (the environment is not read).
    pub fn start(self) -> Server {
        assert!(
            self.env.is_empty(),
            "environment variables need the binary: use start_process()"
        );
        let mut args = vec![
            "--port".to_string(),
            "0".to_string(),
            "--diagrams".to_string(),
            self.dir.display().to_string(),
        ];
        args.extend(self.args.iter().cloned());
        let mut config = flowdm::cli::ServeArgs::parse_args(&args)
            .unwrap_or_else(|e| panic!("bad server arguments {args:?}: {e}"))
            .into_config();
        // Signals are the test process's: this server stops through its handle.
        config.handle_signals = false;
        // Not the word vectors this machine may have installed: only `--nlu-vectors DIR`.
        if !args.iter().any(|a| a == "--nlu-vectors") {
            config.nlu_vectors = None;
        }
        if let Some(e) = config.nlu_embeddings.as_mut() {
            e.api_key = self.nlu_api_key.clone().map(flowdm::config::Secret);
        }
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                match flowdm::app::Application::build(config) {
                    Ok(app) => {
                        let _ = tx.send(Ok((app.port(), app.handle())));
                        let _ = app.run_until_stopped().await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                    }
                }
            })
        });
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Ok((port, handle))) => Server {
                running: Running::InProcess {
                    handle,
                    thread: Some(thread),
                },
                base: format!("http://127.0.0.1:{port}"),
                _dir: self.temp,
            },
            Ok(Err(e)) => panic!("the application did not start: {e}"),
            Err(_) => panic!("the application did not start within 20 s"),
        }
    }

    /// Starts the `flowdm serve` binary (for tests of the command line: its environment
    /// variables and its logs).
    pub fn start_process(self) -> Server {
        let mut cmd = flowdm_command();
        cmd.arg("serve")
            .arg("--port")
            .arg("0")
            .arg("--diagrams")
            .arg(&self.dir);
        cmd.args(&self.args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        if let Some(key) = &self.nlu_api_key {
            cmd.env("FLOWDM_NLU_API_KEY", key);
        }
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        let mut child = cmd.spawn().expect("spawn flowdm");
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr_pipe = child.stderr.take().expect("stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Some(addr) = line.strip_prefix("listening on ") {
                        let _ = tx.send(addr.trim().to_string());
                        sent = true;
                    }
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(base) => Server {
                running: Running::Process { child, stderr },
                base,
                _dir: self.temp,
            },
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                let log = stderr.lock().map(|s| s.clone()).unwrap_or_default();
                panic!("flowdm did not print its address; stderr:\n{log}");
            }
        }
    }
}

impl Server {
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            dir: diagrams_dir(),
            args: Vec::new(),
            env: Vec::new(),
            temp: None,
            keys_dir: None,
            nlu_api_key: None,
        }
    }

    /// The example agents of `diagrams/`, no keys.
    pub fn start() -> Server {
        Server::builder().start()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// What the server wrote on stderr so far (its logs; servers started with
    /// [`ServerBuilder::start_process`] only).
    pub fn logs(&self) -> String {
        match &self.running {
            Running::Process { stderr, .. } => stderr.lock().map(|s| s.clone()).unwrap_or_default(),
            Running::InProcess { .. } => panic!("logs need the binary: use start_process()"),
        }
    }

    /// Waits until the logs contain `needle` (logs are written asynchronously).
    pub fn wait_for_log(&self, needle: &str) -> String {
        for _ in 0..100 {
            let l = self.logs();
            if l.contains(needle) {
                return l;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("log line {needle:?} not found in:\n{}", self.logs());
    }
}

impl Server {
    /// Sends `signal` (`TERM`, `INT`, …) to a server started with [`ServerBuilder::start_process`].
    pub fn signal(&self, signal: &str) {
        let Running::Process { child, .. } = &self.running else {
            panic!("signals need a server process: use start_process()");
        };
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits (at most `timeout`) for the server process to exit: its status.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let Running::Process { child, .. } = &mut self.running else {
            panic!("only a server process exits: use start_process()");
        };
        let until = std::time::Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if std::time::Instant::now() >= until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        match &mut self.running {
            Running::InProcess { handle, thread } => {
                // `stop` sends the command at once; the returned future only waits for it.
                drop(handle.stop(false));
                if let Some(t) = thread.take() {
                    let _ = t.join();
                }
            }
            Running::Process { child, .. } => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Sends one request with a JSON body (`None` = no body).
pub async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Resp {
    let mut rb = request(method, url, headers);
    if let Some(b) = body {
        rb = rb
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    resp(rb).await
}

/// Sends a raw body (malformed JSON, huge bodies).
pub async fn send_raw(method: Method, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Resp {
    resp(request(method, url, headers).body(body)).await
}

/// A request with headers.
fn request(method: Method, url: &str, headers: &[(&str, &str)]) -> reqwest::RequestBuilder {
    let mut rb = client().request(method, url);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb
}

/// Sends the request and reads the whole answer.
async fn resp(rb: reqwest::RequestBuilder) -> Resp {
    let res = rb.send().await.expect("request sent");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.expect("body");
    Resp {
        status,
        headers,
        text,
    }
}

/// A DM API user talking to one project through the stateful routes.
pub struct User<'a> {
    pub server: &'a Server,
    pub id: String,
    pub headers: Vec<(String, String)>,
}

impl<'a> User<'a> {
    /// A user sending `versionID: <version>`.
    pub fn new(server: &'a Server, id: &str, version: &str) -> User<'a> {
        User {
            server,
            id: id.into(),
            headers: vec![("versionID".into(), version.into())],
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
    fn hdrs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
    /// `POST /state/user/{id}/interact` with a full body; panics unless 200.
    pub async fn interact_body(&self, body: Value) -> Value {
        let r = self.raw(Method::POST, "/interact", Some(&body)).await;
        assert_eq!(r.status, 200, "interact {body} -> {}", r.text);
        r.json()
    }
    /// Sends `{"action": action}` and returns the normalised traces.
    pub async fn act(&self, action: Value) -> Value {
        normalize(self.interact_body(json!({ "action": action })).await)
    }
    /// A request on `/state/user/{id}{suffix}`.
    pub async fn raw(&self, method: Method, suffix: &str, body: Option<&Value>) -> Resp {
        let url = self
            .server
            .url(&format!("/state/user/{}{}", self.id, suffix));
        send(method, &url, &self.hdrs(), body).await
    }
    /// `POST` with a JSON body to `/state/user/{id}<suffix>`.
    pub async fn post(&self, suffix: &str, body: &Value) -> Resp {
        self.raw(Method::POST, suffix, Some(body)).await
    }
    pub async fn state(&self) -> Value {
        let r = self.raw(Method::GET, "", None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()
    }
}

/// Replaces volatile values (`time`, `timestamp`, Slate ids) in any JSON, recursively.
pub fn redact(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    match k.as_str() {
                        "time" if x.is_number() => *x = json!("[time]"),
                        "timestamp" if x.is_number() => *x = json!("[timestamp]"),
                        // The agent file's content hash (docs/reload.md).
                        "flowdm:revision" if x.is_string() => *x = json!("[revision]"),
                        _ => walk(x),
                    }
                }
                if let Some(Value::Object(slate)) = o.get_mut("slate") {
                    if slate.get("id").map(Value::is_string).unwrap_or(false) {
                        slate.insert("id".into(), json!("[id]"));
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

/// Traces without `time` and a stop's random `stopID` and `resume` (`tests/http/stops.rs`
/// checks those), Slate ids replaced (comparable across runs).
pub fn normalize(traces: Value) -> Value {
    let mut v = redact(traces);
    if let Some(list) = v.as_array_mut() {
        for t in list {
            if let Some(o) = t.as_object_mut() {
                o.remove("time");
                o.remove("stopID");
                o.remove("resume");
            }
        }
    }
    v
}

/// The trace of a type (first).
pub fn trace_of<'v>(traces: &'v Value, ty: &str) -> &'v Value {
    traces
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|t| t.get("type").and_then(Value::as_str) == Some(ty))
        })
        .unwrap_or_else(|| panic!("no {ty} trace in {traces}"))
}

/// Checks an error body has the ErrorObject shape with `data`.
pub fn assert_error_object(r: &Resp, status: u16, data: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    let b = r.json();
    assert_eq!(b["code"], json!(status), "{b}");
    assert_eq!(b["data"], json!(data), "{b}");
    assert!(
        b["status"].is_string() && b["dateTime"].is_string() && b["timestamp"].is_number(),
        "{b}"
    );
}

/// Checks an error body has the VoiceflowError shape with `message`.
pub fn assert_verror(r: &Resp, status: u16, message: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    let b = r.json();
    assert_eq!(b["name"], json!("verror"), "{b}");
    assert_eq!(b["message"], json!(message), "{b}");
    assert!(b["requestID"].is_string(), "{b}");
}

/// Checks an error body has the validation shape with an entry for `field`.
pub fn assert_validation(r: &Resp, field: &str) {
    assert_eq!(r.status, 400, "{}", r.text);
    let b = r.json();
    assert!(
        b["errors"][field]["message"].is_string(),
        "expected a validation error on {field}: {b}"
    );
}

/// The tiny counting agent (`tests/support/counter.vfr`, also used by the load benchmark):
/// `launch` waits; every `{"type":"tick"}` adds one to `count` and says `count N`.
pub fn counter_agent() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/counter.vfr"
    ))
    .expect("counter.vfr")
}

/// A server on the counter agent with the Redis store at `url` (and two workers).
pub fn counter_redis_server(url: &str) -> ServerBuilder {
    Server::builder()
        .files(&[("counter.vfr", counter_agent())])
        .arg("--redis")
        .arg(url)
        .arg("--workers")
        .arg("2")
}

/// Spawns one `tick` turn of the counter agent at `url` (a user's interact route); the task
/// checks the turn answered 200 and yields its messages.
pub fn spawn_tick(url: String) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let r = send(
            Method::POST,
            &url,
            &[("versionID", COUNTER_VERSION)],
            Some(&json!({"action": {"type": "tick"}})),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        messages(&r.json())
    })
}

pub const COUNTER_PROJECT: &str = "c0ffee000000000000000001";
pub const COUNTER_VERSION: &str = "c0ffee000000000000000002";

/// The statuses `openapi.yaml` documents for the route `path` (as written there, e.g.
/// `/knowledge-base/query`).
pub fn documented_statuses(path: &str) -> Vec<u16> {
    let doc = include_str!("../../openapi.yaml");
    let start = doc
        .find(&format!("\n  {path}:\n"))
        .unwrap_or_else(|| panic!("{path} is not in openapi.yaml"));
    let block = &doc[start + 1..];
    let end = block[2..]
        .find("\n  /")
        .or_else(|| block.find("\ncomponents:"))
        .unwrap_or(block.len());
    block[..end]
        .lines()
        .filter_map(|l| l.trim().strip_prefix('\'')?.get(..3)?.parse().ok())
        .collect()
}

//! Start-up: loading a directory of agents, reporting bad files, the CLI, health and OpenAPI.

use crate::support::server::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn bad_files_are_reported_and_the_others_served() {
    let server = Server::builder()
        .files(&[
            ("broken.vfr", "{ \"version\": ".to_string()),
            (
                "noprograms.vfr",
                json!({"version": {"_id": "v"}, "programs": {}}).to_string(),
            ),
            ("creator.vf", "{}".to_string()),
            ("README.md", "# not an agent".to_string()),
        ])
        .with_example("payment.vf")
        .start_process();
    let logs = server.wait_for_log("noprograms.vfr");
    assert!(
        logs.contains("broken.vfr") && logs.contains("invalid JSON"),
        "{logs}"
    );
    assert!(logs.contains("no programs included"), "{logs}");
    assert!(
        logs.contains("creator.vf") && logs.contains("not a Voiceflow export"),
        "{logs}"
    );
    assert!(!logs.contains("README.md"), "{logs}");
    assert!(logs.contains("no API keys configured"), "{logs}");
    let u = User::new(&server, "u", PAYMENT_VERSION);
    assert_eq!(
        messages(&u.act(json!({"type": "launch"})).await)[0],
        "Hi there! Welcome to the payment demo."
    );
}

#[tokio::test]
async fn empty_directory_still_starts() {
    let server = Server::builder().files(&[]).start_process();
    server.wait_for_log("no agent loaded");
    assert_eq!(
        send(Method::GET, &server.url("/health"), &[], None)
            .await
            .status,
        200
    );
    let r = send(
        Method::GET,
        &server.url("/state/user/u"),
        &[("versionID", "x")],
        None,
    )
    .await;
    assert_verror(&r, 400, "Could not resolve project with version ID x");
}

#[test]
fn a_bad_redis_url_is_refused_without_echoing_it() {
    for (flag, env) in [
        (Some("http://user:hunter2@127.0.0.1:6379"), None),
        (None, Some("redis://user:hunter2@[::1")),
    ] {
        let mut cmd = flowdm_command();
        cmd.args(["serve", "--port", "0", "--diagrams"])
            .arg(diagrams_dir());
        if let Some(f) = flag {
            cmd.args(["--redis", f]);
        }
        if let Some(e) = env {
            cmd.env("REDIS_URL", e);
        }
        let out = cmd.output().expect("run");
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("invalid Redis URL"), "{err}");
        assert!(
            !err.contains("hunter2"),
            "the URL may hold a password: {err}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_redis_is_not_ready_and_answers_503() {
    // Nothing listens there: the server starts anyway, is alive but not ready, and answers 503
    // (it connects by itself once Redis is there, see tests/redis/fault.rs).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let server = Server::builder()
        .arg("--redis")
        .arg(format!("redis://127.0.0.1:{port}"))
        .arg("--redis-timeout-ms")
        .arg("300")
        .start_process();
    let r = send(Method::GET, &server.url("/health"), &[], None).await;
    assert_eq!(r.status, 200);
    let r = send(Method::GET, &server.url("/ready"), &[], None).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert!(r.json()["data"]
        .as_str()
        .is_some_and(|d| d.starts_with("session store unavailable")));
    let r = send(
        Method::POST,
        &server.url("/state/user/u/interact"),
        &[("versionID", PAYMENT_VERSION)],
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.json()["code"], json!(503));
    assert!(!server.logs().contains(&format!("127.0.0.1:{port}")));
}

#[test]
fn missing_directory_fails() {
    let out = flowdm_command()
        .args(["serve", "--port", "0", "--diagrams", "/nonexistent/dir"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the diagrams directory"));
}

#[test]
fn help_lists_the_commands_and_options() {
    let out = flowdm_command().arg("--help").output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("serve"), "{text}");
    let out = flowdm_command()
        .args(["serve", "--help"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    for opt in [
        "--diagrams",
        "--port",
        "--host",
        "--redis",
        "--keys",
        "--api-keys",
        "PORT",
        "REDIS_URL",
        "FLOWDM_KEYS",
        "--allow-outbound",
        "FLOWDM_ALLOW_OUTBOUND",
        "--library-dir",
        "FLOWDM_LIBRARY_DIR",
        "--widget-bundle",
        "--widget-url",
        "--no-metrics",
        "FLOWDM_NO_METRICS",
        "--log-format",
        "FLOWDM_LOG_FORMAT",
    ] {
        assert!(text.contains(opt), "{opt} missing from:\n{text}");
    }
}

#[test]
fn the_outbound_allow_list_is_parsed_and_checked_at_start() {
    let config = flowdm::cli::ServeArgs::parse_args([
        "--allow-outbound",
        " 127.0.0.1/32, 10.1.0.0/16 ,intranet.example",
    ])
    .expect("parse")
    .into_config();
    assert!(config
        .outbound
        .check_ip("127.0.0.1".parse().unwrap())
        .is_ok());
    assert!(config
        .outbound
        .check_ip("10.1.2.3".parse().unwrap())
        .is_ok());
    assert!(config
        .outbound
        .check_ip("10.2.0.1".parse().unwrap())
        .is_err());
    assert!(config.outbound.allows_host("intranet.example"));
    let default = flowdm::cli::ServeArgs::parse_args(Vec::<String>::new())
        .expect("parse")
        .into_config();
    assert!(default.outbound.is_strict());

    let out = flowdm_command()
        .args(["serve", "--allow-outbound", "10.0.0.0/33"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("10.0.0.0/33"), "{err}");
}

#[tokio::test]
async fn health_openapi_and_request_ids() {
    let server = Server::builder().start_process();
    let r = send(Method::GET, &server.url("/health"), &[], None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, "production Healthy");
    let id = r.header("x-request-id").expect("request id").to_string();
    assert_eq!(id.len(), 10);

    let r = send(Method::GET, &server.url("/openapi.yaml"), &[], None).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap_or("").contains("yaml"));
    let file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
        .expect("openapi.yaml");
    assert_eq!(r.text, file);

    let server = Server::builder()
        .env("NODE_ENV", "development")
        .start_process();
    let r = send(Method::GET, &server.url("/health"), &[], None).await;
    assert_eq!(r.text, "development Healthy");
}

#[tokio::test]
async fn several_versions_of_one_project_share_sessions() {
    // A second file with another version of the payment project (its own devVersion).
    let mut dev: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(diagrams_dir().join("payment.vf")).expect("read"),
    )
    .expect("json");
    let new_version = "64a1f0000000000000000003";
    dev["version"]["_id"] = json!(new_version);
    dev["project"]["devVersion"] = json!(new_version);
    let server = Server::builder()
        .files(&[("payment-dev.vf", dev.to_string())])
        .with_example("payment.vf")
        .start_process();
    // `payment.vf` still says devVersion = …02; `payment-dev.vf` (loaded first) sets the
    // project's metadata: development → …03, production → …02.
    let u = User::new(&server, "multi", new_version);
    u.act(json!({"type": "launch"})).await;
    let st = u.state().await;
    assert_eq!(st["stack"][0]["diagramID"], json!(new_version));
    let live = User::new(&server, "multi", PAYMENT_VERSION);
    assert_eq!(live.state().await, st, "one session per (project, user)");
    // Continuing on the other version restarts on that version's base program.
    live.act(json!({"type": "text", "payload": "pay"})).await;
    assert_eq!(
        live.state().await["stack"][0]["diagramID"],
        json!(PAYMENT_VERSION)
    );
    let r = send(
        Method::GET,
        &server.url(&format!("/public/{PAYMENT_PROJECT}/publishing")),
        &[("versionID", "development")],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn logs_name_the_request_project_and_user() {
    // DEBUG: every request has a span with id, project, version and user (hashed: the first 16
    // hex digits of the SHA-256 of "log-user").
    let server = Server::builder()
        .env("RUST_LOG", "flowdm=debug")
        .start_process();
    let u = User::new(&server, "log-user", PAYMENT_VERSION);
    u.act(json!({"type": "launch"})).await;
    let logs = server.wait_for_log(&format!(
        "user={}",
        flowdm::http::context::user_hash("log-user")
    ));
    assert!(!logs.contains("log-user"), "{logs}");
    assert!(
        logs.contains(&format!("project={PAYMENT_PROJECT}")),
        "{logs}"
    );
    assert!(logs.contains("request{id="), "{logs}");
    // INFO (default): no per-request lines, but a failed request (5xx; here the session store is
    // a Redis nobody listens on) names its request, project, user.
    let server = Server::builder()
        .env("RUST_LOG", "info")
        .args(&["--redis", "redis://127.0.0.1:1"])
        .start_process();
    let u = User::new(&server, "bad-user", PAYMENT_VERSION);
    let r = u
        .post("/interact", &json!({"action": {"type": "launch"}}))
        .await;
    assert_eq!(r.status, 503, "{}", r.text);
    let id = r.header("x-request-id").expect("id").to_string();
    let logs = server.wait_for_log("request failed");
    assert!(logs.contains(&format!("request_id={id}")), "{logs}");
    let hash = flowdm::http::context::user_hash("bad-user");
    assert!(
        logs.contains(&format!("user={hash}")) && logs.contains(PAYMENT_PROJECT),
        "{logs}"
    );
    assert!(!logs.contains("bad-user"), "{logs}");
}

#[test]
fn openapi_documents_every_route() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
        .expect("openapi.yaml");
    assert!(doc.starts_with("openapi: 3.1"));
    for route in [
        "/health:",
        "/ready:",
        "/openapi.yaml:",
        "/:",
        "/chat/{projectID}:",
        "/chat/assets/widget.js:",
        "/chat/assets/extensions.js:",
        "/metrics:",
        "/state/user/{userID}/interact:",
        "/state/user/{userID}:",
        "/state/user/{userID}/variables:",
        "/state/{versionID}/user/{userID}/interact:",
        "/state/{versionID}/user/{userID}:",
        "/state/{versionID}/user/{userID}/variables:",
        "/state/{versionID}/user/{userID}/stops/{stopID}/resume:",
        "/interact:",
        "/interact/state:",
        "/interact/{versionID}:",
        "/interact/{versionID}/state:",
        "/public/{projectID}/state/user/{userID}/interact:",
        "/public/{projectID}/publishing:",
        "/public/{projectID}/transcripts:",
        "/feedback/{projectID}/user/{userID}:",
        "/nlu/project/{projectID}/version/{versionID}/inference:",
        "/knowledge-base/query:",
        "/v2beta1/interact/{projectID}/{tag}/stream:",
        "/v2/project/{projectID}/user/{userID}/interact/stream:",
        "/v2/public/project/{projectID}/user/{userID}/interact/stream:",
        "/v4/project/{projectID}/session:",
        "/v4/interact:",
        "/v4/interact/stream:",
        "/v4/interact/socket/:",
        "/admin/reload:",
    ] {
        assert!(
            doc.contains(&format!("\n  {route}\n")),
            "{route} missing from openapi.yaml"
        );
    }
    for schema in [
        "ErrorObject:",
        "ValidationError:",
        "VoiceflowError:",
        "TextTrace:",
        "ChoiceTrace:",
        "CarouselTrace:",
        "CustomActionTrace:",
    ] {
        assert!(doc.contains(schema), "{schema}");
    }
}

//! `?logs=` on the stateful and stateless interact routes produces `log` traces.

use crate::support::server::*;
use reqwest::Method;
use serde_json::{json, Value};

fn log_kinds(traces: &Value) -> Vec<String> {
    traces
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|t| t["type"] == "log")
                .filter_map(|t| t["payload"]["kind"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn logs_query_adds_log_traces() {
    let server = Server::start();
    let u = User::new(&server, "logs-user", PAYMENT_VERSION);
    let r = u
        .post(
            "/interact?logs=info",
            &json!({ "action": { "type": "launch" } }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let kinds = log_kinds(&r.json());
    assert_eq!(
        kinds[..2],
        ["global.conversation_start", "step.start"],
        "{kinds:?}"
    );
    assert!(kinds.contains(&"step.set".to_string()), "{kinds:?}");
    assert!(kinds.contains(&"step.text".to_string()), "{kinds:?}");

    // `logs=off` (what voiceflow-cli sends) and no parameter: none.
    let r = u
        .post(
            "/interact?logs=off",
            &json!({ "action": { "type": "launch" } }),
        )
        .await;
    assert!(log_kinds(&r.json()).is_empty());

    // Stateless route honours it too.
    let url = server.url(&format!("/interact/{PAYMENT_VERSION}?logs=true"));
    let r = send(
        Method::POST,
        &url,
        &[],
        Some(&json!({ "request": { "type": "launch" } })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(log_kinds(&r.json()["trace"]).contains(&"step.start".to_string()));
}

/// The server's logs while requests carry every kind of secret (API keys, the AI and NLU
/// providers' keys sent to failing providers, the admin key, a v4 session key, a stop's resume
/// token) for users whose ids must not appear either: in both log formats, at DEBUG, none of
/// them is in the logs, and each request's lines carry its id, project and hashed user.
mod secrets {
    use crate::ai_steps::wizard;
    use crate::support::embeddings_stub::{EmbeddingsStub, Mode};
    use crate::support::llm_stub::LlmStub;
    use crate::support::server::*;
    use crate::support::stops::{stops_agent, STOPS_PROJECT, STOPS_VERSION};
    use reqwest::Method;
    use serde_json::{json, Value};
    use sha2::{Digest, Sha256};

    const AI_KEY: &str = "sk-ai-provider-5ecr3t-AAAA";
    const NLU_KEY: &str = "sk-nlu-provider-5ecr3t-BBBB";
    const ADMIN_KEY: &str = "admin-5ecr3t-CCCC";
    const WRONG_ADMIN_KEY: &str = "admin-guess-5ecr3t-DDDD";
    const WIZARD_KEY: &str = "VF.DM.wizkey.5ecr3t-wizard-EEEE";
    const STOPS_KEY: &str = "VF.DM.stopkey.5ecr3t-stops-FFFF";
    const WRONG_KEY: &str = "VF.DM.paykey.5ecr3t-guessed-GGGG";
    const EMAIL: &str = "grace.hopper@example.com";
    const WIZARD_USER: &str = "wizard-user-9f3a77";
    const STOPS_USER: &str = "stops-user-51c0de";

    fn hashed(user: &str) -> String {
        Sha256::digest(user.as_bytes())
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    async fn post(server: &Server, path: &str, headers: &[(&str, &str)], body: Value) -> Resp {
        send(Method::POST, &server.url(path), headers, Some(&body)).await
    }

    /// The requests of one run: (request id, the user it was for), and the secrets used.
    async fn drive(
        server: &Server,
        llm: &LlmStub,
        nlu: &EmbeddingsStub,
    ) -> (Vec<(String, &'static str)>, Vec<String>) {
        let mut seen = Vec::new();
        let mut secrets: Vec<String> = [
            PAY_KEY,
            AI_KEY,
            NLU_KEY,
            ADMIN_KEY,
            WRONG_ADMIN_KEY,
            WIZARD_KEY,
            STOPS_KEY,
            WRONG_KEY,
            EMAIL,
            WIZARD_USER,
            STOPS_USER,
        ]
        .map(str::to_string)
        .to_vec();
        // The secret parts of the API keys alone.
        secrets.extend(
            [
                "s3cr3t-payment",
                "5ecr3t-wizard",
                "5ecr3t-stops",
                "5ecr3t-guessed",
            ]
            .map(str::to_string),
        );
        let mut id = |r: &Resp, user: &'static str| {
            seen.push((r.header("x-request-id").unwrap().to_string(), user));
        };
        let state = format!("/state/user/{}/interact", "grace.hopper%40example.com");
        let pay = [("Authorization", PAY_KEY), ("versionID", PAYMENT_VERSION)];
        let r = post(server, &state, &pay, json!({"action": {"type": "launch"}})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        id(&r, EMAIL);
        // A text while the embeddings provider fails (its key as a bearer token).
        nlu.set_mode(Mode::Fail);
        let r = post(
            server,
            &state,
            &pay,
            json!({"action": {"type": "text", "payload": "help"}}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        id(&r, EMAIL);
        // A wrong API key.
        let wrong = [("Authorization", WRONG_KEY), ("versionID", PAYMENT_VERSION)];
        let r = post(
            server,
            &state,
            &wrong,
            json!({"action": {"type": "launch"}}),
        )
        .await;
        assert_eq!(r.status, 401, "{}", r.text);
        // An AI step while the AI provider fails (its key as a bearer token).
        let wiz = [("Authorization", WIZARD_KEY)];
        let path = format!("/state/user/{WIZARD_USER}/interact");
        let r = post(server, &path, &wiz, json!({"action": {"type": "launch"}})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(!llm.requests().is_empty());
        assert_eq!(
            llm.requests()[0].authorization.as_deref(),
            Some(format!("Bearer {AI_KEY}").as_str())
        );
        id(&r, WIZARD_USER);
        // The admin key, right and wrong.
        let bearer = format!("Bearer {ADMIN_KEY}");
        let r = send(
            Method::GET,
            &server.url("/api/custom-actions"),
            &[("Authorization", bearer.as_str())],
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let bearer = format!("Bearer {WRONG_ADMIN_KEY}");
        let r = send(
            Method::GET,
            &server.url("/api/custom-actions"),
            &[("Authorization", bearer.as_str())],
            None,
        )
        .await;
        assert!(r.status == 401 || r.status == 403, "{}", r.text);
        // A v4 session key.
        let r = post(
            server,
            &format!("/v4/project/{PAYMENT_PROJECT}/session"),
            &[("Authorization", PAY_KEY)],
            json!({"userID": EMAIL}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        id(&r, EMAIL);
        let session_key = r.json()["sessionKey"].as_str().unwrap().to_string();
        let r = post(
            server,
            "/v4/interact",
            &[("Authorization", session_key.as_str())],
            json!({"action": {"type": "launch"}}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        id(&r, EMAIL);
        secrets.push(session_key);
        // A stop's resume token.
        let stops = [("Authorization", STOPS_KEY), ("versionID", STOPS_VERSION)];
        let path = format!("/state/user/{STOPS_USER}/interact");
        let r = post(server, &path, &stops, json!({"action": {"type": "launch"}})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        id(&r, STOPS_USER);
        let trace = r
            .json()
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "Pay")
            .cloned()
            .unwrap();
        let token = trace["resume"]["token"].as_str().unwrap().to_string();
        let url = trace["resume"]["url"].as_str().unwrap().to_string();
        let bearer = format!("Bearer {token}");
        let r = post(
            server,
            &url,
            &[("Authorization", bearer.as_str())],
            json!({ "type": "success" }),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        id(&r, STOPS_USER);
        secrets.push(token);
        (seen, secrets)
    }

    fn start(format: &str, llm: &LlmStub, nlu: &EmbeddingsStub) -> Server {
        Server::builder()
            .files(&[
                ("wizard.vfr", wizard("gpt-4o")),
                ("stops.vfr", stops_agent()),
            ])
            .with_example("payment.vf")
            .test_keys_file()
            .nlu_provider(&nlu.base, "stub-embed", Some(NLU_KEY))
            .args(&[
                "--ai-url",
                llm.base.as_str(),
                "--ai-retries",
                "0",
                "--admin-key",
                ADMIN_KEY,
                "--registry-db",
                ":memory:",
                "--log-format",
                format,
            ])
            .env("FLOWDM_AI_API_KEY", AI_KEY)
            .env(
                "FLOWDM_API_KEYS",
                format!("{WIZARD_KEY}=aip,{STOPS_KEY}={STOPS_PROJECT}"),
            )
            .env("RUST_LOG", "debug")
            .start_process()
    }

    /// Waits until the logs hold the last request's end.
    fn logs_after(server: &Server, last: &str) -> String {
        server.wait_for_log(last);
        std::thread::sleep(std::time::Duration::from_millis(200));
        server.logs()
    }

    fn no_secret(logs: &str, secrets: &[String]) {
        assert!(logs.len() > 1000, "{logs}");
        for s in secrets {
            assert!(!logs.contains(s.as_str()), "{s} in the logs:\n{logs}");
        }
    }

    #[tokio::test]
    async fn text_logs_hold_no_secret_and_name_the_request_and_hashed_user() {
        let llm = LlmStub::start();
        llm.fail_next(1000, 500);
        let nlu = EmbeddingsStub::start();
        let server = start("text", &llm, &nlu);
        let (seen, secrets) = drive(&server, &llm, &nlu).await;
        let logs = logs_after(&server, &seen.last().unwrap().0);
        no_secret(&logs, &secrets);
        for (id, user) in &seen {
            let lines: Vec<&str> = logs
                .lines()
                .filter(|l| l.contains(&format!("request{{id={id} ")))
                .collect();
            assert!(!lines.is_empty(), "no line of {id}:\n{logs}");
            let done = lines
                .iter()
                .find(|l| l.ends_with(" done") || l.contains(" done "))
                .unwrap_or_else(|| panic!("{lines:#?}"));
            assert!(done.contains(&format!("user={}", hashed(user))), "{done}");
            assert!(done.contains("project="), "{done}");
            assert!(done.contains("route=/"), "{done}");
        }
        // Every line of a request names it.
        for line in logs.lines().filter(|l| l.contains("request{")) {
            assert!(line.contains("request{id="), "{line}");
        }
    }

    #[tokio::test]
    async fn json_logs_hold_no_secret_and_name_the_request_and_hashed_user() {
        let llm = LlmStub::start();
        llm.fail_next(1000, 500);
        let nlu = EmbeddingsStub::start();
        let server = start("json", &llm, &nlu);
        let (seen, secrets) = drive(&server, &llm, &nlu).await;
        let logs = logs_after(&server, &seen.last().unwrap().0);
        no_secret(&logs, &secrets);
        let lines: Vec<Value> = logs
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        for (id, user) in &seen {
            let mine: Vec<&Value> = lines
                .iter()
                // `spans`: every span of the line, the request's first.
                .filter(|l| l["spans"][0]["id"] == json!(id))
                .collect();
            assert!(!mine.is_empty(), "no line of {id}:\n{logs}");
            let done = mine
                .iter()
                .find(|l| l["fields"]["message"] == "done")
                .unwrap_or_else(|| panic!("{mine:#?}"));
            assert_eq!(done["span"]["user"], json!(hashed(user)), "{done}");
            assert!(done["span"]["project"].is_string(), "{done}");
            assert_eq!(done["span"]["name"], "request");
            assert!(
                done["span"]["route"]
                    .as_str()
                    .is_some_and(|r| r.starts_with('/')),
                "{done}"
            );
        }
        // The lines inside the AI provider's call (its own span) still name the request and the
        // hashed user.
        let wizard = &seen.iter().find(|(_, u)| *u == WIZARD_USER).unwrap().0;
        let llm: Vec<&Value> = lines
            .iter()
            .filter(|l| l["span"]["name"] == "llm")
            .collect();
        assert!(!llm.is_empty(), "{logs}");
        for l in llm {
            assert_eq!(l["spans"][0]["id"], json!(wizard), "{l}");
            assert_eq!(l["spans"][0]["user"], json!(hashed(WIZARD_USER)), "{l}");
        }
        for l in lines.iter().filter(|l| l["spans"][0]["name"] == "request") {
            assert!(l["spans"][0]["id"].is_string(), "{l}");
        }
    }
}

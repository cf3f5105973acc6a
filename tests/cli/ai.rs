//! The AI provider's `flowdm serve` options as an operator gives them: the provider is logged
//! at start without its key or credentials, and a URL that is not one stops the server.

use crate::support::server::*;

const KEY: &str = "sk-ai-5ecr3t-for-the-log-test";

#[tokio::test]
async fn the_provider_is_logged_without_its_key() {
    let server = Server::builder()
        .args(&[
            "--ai-url",
            "https://user:pw@llm.example/v1?token=q",
            "--ai-model",
            "gpt-4o=llama3.1:8b",
        ])
        .env("FLOWDM_AI_API_KEY", KEY)
        .env("RUST_LOG", "debug")
        .start_process();
    let logs = server.wait_for_log("AI provider");
    assert!(logs.contains("https://llm.example/v1"), "{logs}");
    assert!(logs.contains("key=yes"), "{logs}");
    assert!(logs.contains("gpt-4o=llama3.1:8b"), "{logs}");
    for secret in [KEY, "pw@", "token=q"] {
        assert!(!logs.contains(secret), "{secret} in logs:\n{logs}");
    }
}

#[test]
fn an_ai_url_without_a_scheme_stops_the_server() {
    let out = flowdm_command()
        .args(["serve", "--ai-url", "127.0.0.1:11434/v1"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--ai-url") && err.contains("not an absolute URL"),
        "{err}"
    );
}

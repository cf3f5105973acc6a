//! API keys as the command line reads them: from the environment, a broken configuration
//! that stops the server, and keys that never reach the logs.

use crate::support::server::*;

/// The binary with the test keys file, logging at debug level.
fn keyed_process() -> Server {
    Server::builder()
        .test_keys_file()
        .env("RUST_LOG", "debug")
        .start_process()
}

async fn launch(server: &Server, headers: &[(&str, &str)]) -> Resp {
    launch_with(server, headers).await
}

#[tokio::test]
async fn secrets_are_never_logged() {
    let server = keyed_process();
    launch(&server, &[("authorization", PAY_KEY)]).await;
    launch(
        &server,
        &[
            ("versionID", PAYMENT_VERSION),
            ("authorization", "VF.DM.paykey.wrong-secret"),
        ],
    )
    .await;
    let logs = server.wait_for_log("Invalid API key");
    assert!(logs.contains("API keys required"), "{logs}");
    for secret in ["s3cr3t-payment", "s3cr3t-handoff", "wrong-secret"] {
        assert!(!logs.contains(secret), "secret {secret} in logs:\n{logs}");
    }
}

#[tokio::test]
async fn keys_from_the_environment() {
    let list = format!("{PAY_KEY}={PAYMENT_PROJECT}, VF.DM.cat.meow={CATALOGUE_PROJECT}");
    let server = Server::builder()
        .env("FLOWDM_API_KEYS", list)
        .start_process();
    let r = launch(&server, &[]).await;
    assert_error_object(&r, 401, "Auth Key Required");
    let r = launch(&server, &[("authorization", "VF.DM.cat.meow")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        messages(&normalize(r.json()))[0],
        "Welcome to the Acme store! All prices are in USD."
    );
    let r = launch(
        &server,
        &[("authorization", PAY_KEY), ("versionID", "production")],
    )
    .await;
    assert_eq!(
        messages(&normalize(r.json()))[0],
        "Hi there! Welcome to the payment demo."
    );
}

#[tokio::test]
async fn unpublished_project_and_unknown_key_project() {
    let mut agent: serde_json::Value = serde_json::from_str(&counter_agent()).expect("json");
    agent["project"]
        .as_object_mut()
        .expect("project")
        .remove("liveVersion");
    let server = Server::builder()
        .files(&[("counter.vfr", agent.to_string())])
        .env(
            "FLOWDM_API_KEYS",
            format!("VF.DM.c.k={COUNTER_PROJECT},VF.DM.ghost.k=000000000000000000000000"),
        )
        .start_process();
    let r = launch(
        &server,
        &[("authorization", "VF.DM.c.k"), ("versionID", "production")],
    )
    .await;
    assert_verror(&r, 400, "Voiceflow project was not published to production");
    let r = launch(
        &server,
        &[("authorization", "VF.DM.c.k"), ("versionID", "development")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = launch(&server, &[("authorization", "VF.DM.ghost.k")]).await;
    assert_verror(
        &r,
        400,
        "Cannot resolve project version, please verify that your API key is correct.",
    );
    server.wait_for_log("API key for a project that is not loaded");
}

#[tokio::test]
async fn bad_keys_configuration_stops_the_server() {
    let out = flowdm_command()
        .args(["serve", "--port", "0", "--diagrams"])
        .arg(diagrams_dir())
        .env("FLOWDM_API_KEYS", "VF.DM.broken")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("FLOWDM_API_KEYS"), "{err}");
    let out = flowdm_command()
        .args([
            "serve",
            "--port",
            "0",
            "--keys",
            "/nonexistent/keys.json",
            "--diagrams",
        ])
        .arg(diagrams_dir())
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read keys file"));
}

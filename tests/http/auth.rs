//! API keys (keys file and environment) and `versionID` alias resolution with a key
//! (`spec/dm-api.md` §1.2).

use crate::support::server::*;
use reqwest::Method;
use serde_json::json;

/// A server with the test keys file.
fn keyed_server() -> Server {
    Server::builder().test_keys_file().start()
}

async fn launch(server: &Server, headers: &[(&str, &str)]) -> Resp {
    launch_with(server, headers).await
}

#[tokio::test]
async fn a_key_is_required_when_keys_are_configured() {
    let server = keyed_server();
    let body = json!({"action": {"type": "launch"}});
    for (m, path) in [
        (Method::POST, "/state/user/u/interact"),
        (Method::GET, "/state/user/u"),
        (Method::PUT, "/state/user/u"),
        (Method::DELETE, "/state/user/u"),
        (Method::POST, "/state/user/u"),
        (Method::PATCH, "/state/user/u/variables"),
        (Method::POST, "/interact"),
        (Method::GET, "/interact/state"),
    ] {
        let r = send(
            m.clone(),
            &server.url(path),
            &[("versionID", PAYMENT_VERSION)],
            Some(&body),
        )
        .await;
        assert_error_object(&r, 401, "Auth Key Required");
    }
    let legacy = format!("/state/{PAYMENT_VERSION}/user/u/interact");
    let r = send(Method::POST, &server.url(&legacy), &[], Some(&body)).await;
    assert_error_object(&r, 401, "Auth Key Required");
    let r = send(
        Method::POST,
        &server.url(&format!("/interact/{PAYMENT_VERSION}")),
        &[],
        Some(&body),
    )
    .await;
    assert_error_object(&r, 401, "Auth Key Required");
    // Public routes need no key.
    let r = send(
        Method::POST,
        &server.url(&format!("/public/{PAYMENT_PROJECT}/state/user/u/interact")),
        &[],
        Some(&body),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Health needs nothing.
    assert_eq!(
        send(Method::GET, &server.url("/health"), &[], None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn wrong_keys_are_refused() {
    let server = keyed_server();
    let v = ("versionID", PAYMENT_VERSION);
    for key in [
        "VF.DM.paykey.wrong",
        "VF.DM.paykey.s3cr3t-paymenX",
        "VF.DM.nokey.s3cr3t-payment",
        "garbage",
    ] {
        let r = launch(&server, &[v, ("authorization", key)]).await;
        assert_error_object(&r, 401, "Invalid API key");
    }
    // The handoff key does not open the payment project.
    let r = launch(&server, &[v, ("authorization", HANDOFF_KEY)]).await;
    assert_error_object(
        &r,
        401,
        &format!("API key is not valid for project {PAYMENT_PROJECT}"),
    );
    // An unknown DM key with an alias: the reference's lookup failure.
    let r = launch(
        &server,
        &[
            ("versionID", "production"),
            ("authorization", "VF.DM.nokey.x"),
        ],
    )
    .await;
    assert_verror(
        &r,
        400,
        "Cannot resolve project version, please verify that your API key is correct.",
    );
    // Unknown version with a wrong key: 401 first (does not tell which versions exist).
    let r = launch(
        &server,
        &[("versionID", "nope"), ("authorization", "VF.DM.nokey.x")],
    )
    .await;
    assert_error_object(&r, 401, "Invalid API key");
}

#[tokio::test]
async fn aliases_resolve_through_the_key() {
    let server = keyed_server();
    for (key, greeting) in [
        (PAY_KEY, "Hi there! Welcome to the payment demo."),
        (
            HANDOFF_KEY,
            "Welcome to support, Alex! How can we help you today?",
        ),
    ] {
        for headers in [
            vec![("versionID", "production"), ("authorization", key)],
            vec![("versionID", "development"), ("authorization", key)],
            vec![("authorization", key)], // missing versionID = development
        ] {
            let r = launch(&server, &headers).await;
            assert_eq!(r.status, 200, "{headers:?}: {}", r.text);
            assert_eq!(messages(&normalize(r.json()))[0], greeting, "{headers:?}");
        }
    }
    // Explicit version with its key, the `Bearer` form, and the old `VF.<id>.<secret>` form
    // (runtime-client-js only accepts keys with two dots).
    for key in [
        PAY_KEY.to_string(),
        format!("Bearer {PAY_KEY}"),
        "VF.paykey.s3cr3t-payment".to_string(),
    ] {
        let r = launch(
            &server,
            &[
                ("versionID", PAYMENT_VERSION),
                ("authorization", key.as_str()),
            ],
        )
        .await;
        assert_eq!(r.status, 200, "{key}: {}", r.text);
    }
    // Bearer + alias: not a DM key for the alias middleware.
    let bearer = format!("Bearer {PAY_KEY}");
    let r = launch(
        &server,
        &[
            ("versionID", "production"),
            ("authorization", bearer.as_str()),
        ],
    )
    .await;
    assert_verror(&r, 400, "Cannot resolve version alias");
    // Alias on the legacy and stateless routes.
    let r = send(
        Method::GET,
        &server.url("/state/production/user/auth-user"),
        &[("authorization", PAY_KEY)],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["variables"]["user_id"], json!("auth-user"));
    let r = send(
        Method::GET,
        &server.url("/interact/production/state"),
        &[("authorization", HANDOFF_KEY)],
        None,
    )
    .await;
    assert_eq!(r.json()["variables"]["user_name"], json!("Alex"));
}

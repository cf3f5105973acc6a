//! Library sub-flows over HTTP: one entry of `--library-dir` (the example `confirm-order`) used
//! by two agents through the example `subflow` action of `--actions-dir`, each waiting for the
//! sub-flow's buttons across requests.

use crate::support::library::shop;
use crate::support::server::*;
use serde_json::json;
use std::path::Path;

const YES: &str = "path-64d4b0000000000000000001";
const NO: &str = "path-64d4b0000000000000000002";

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
}

#[tokio::test]
async fn two_agents_use_the_same_library_sub_flow() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let library = tempfile::tempdir().unwrap();
    for file in ["confirm-order.json", "confirm-order.vf"] {
        copy(
            &examples.join("library").join(file),
            &library.path().join(file),
        );
    }
    // A file that does not load is skipped.
    std::fs::write(library.path().join("broken.json"), "{").unwrap();
    let actions = tempfile::tempdir().unwrap();
    copy(
        &examples.join("actions/confirm-order.json"),
        &actions.path().join("confirm-order.json"),
    );
    let server = Server::builder()
        .files(&[
            (
                "shop.vfr",
                shop("shop", "shop-v", 25, json!({ "currency": "USD" })),
            ),
            ("cafe.vfr", shop("cafe", "cafe-v", 4, json!({}))),
        ])
        .args(&[
            "--library-dir",
            library.path().to_str().unwrap(),
            "--actions-dir",
            actions.path().to_str().unwrap(),
        ])
        .start();

    let shopper = User::new(&server, "ada", "shop-v");
    let t = shopper.act(json!({ "type": "launch" })).await;
    assert_eq!(messages(&t), ["Confirm the order of 25 USD?"], "{t}");
    let state = shopper.state().await;
    assert_eq!(
        state["stack"].as_array().unwrap().last().unwrap()["diagramID"],
        "lib:confirm-order@1:64d4d0000000000000000002"
    );
    let t = shopper.act(json!({ "type": YES })).await;
    assert_eq!(messages(&t), ["shop: confirmed R-25."], "{t}");

    // The other agent: no currency in its payload, the entry's default.
    let guest = User::new(&server, "bob", "cafe-v");
    let t = guest.act(json!({ "type": "launch" })).await;
    assert_eq!(messages(&t), ["Confirm the order of 4 EUR?"], "{t}");
    let t = guest.act(json!({ "type": "text", "payload": "No" })).await;
    assert_eq!(messages(&t), ["cafe: cancelled."], "{t}");
    let t = guest.act(json!({ "type": "launch" })).await;
    assert_eq!(messages(&t), ["Confirm the order of 4 EUR?"], "{t}");
    let t = guest.act(json!({ "type": NO })).await;
    assert_eq!(messages(&t), ["cafe: cancelled."], "{t}");
}

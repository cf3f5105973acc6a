//! One behaviour of every registry store (`flowdm_store::RegistryStore`): versions and
//! history, the optimistic check, names unique per scope and kind, delete, the generation.

use flowdm::store::{RegistryError, RegistryStore};
use serde_json::{json, Value};

fn rec(id: &str, name: &str, project: Option<&str>, extra: i64) -> Value {
    json!({ "id": id, "name": name, "project_id": project, "n": extra })
}

pub async fn registry_behaves(store: &dyn RegistryStore) {
    let g0 = store.generation().await.unwrap();
    assert_eq!(store.list("actions").await.unwrap(), Vec::<Value>::new());
    let a1 = store
        .put("actions", rec("a", "Pay", None, 1), 0)
        .await
        .unwrap();
    assert_eq!(a1["version"], 1);
    assert_ne!(store.generation().await.unwrap(), g0);
    // Create of an existing id; a name taken in the same scope; fine in another scope/kind.
    assert_eq!(
        store.put("actions", rec("a", "Other", None, 1), 0).await,
        Err(RegistryError::IdTaken("a".into()))
    );
    assert!(matches!(
        store.put("actions", rec("b", "Pay", None, 1), 0).await,
        Err(RegistryError::NameTaken { .. })
    ));
    store
        .put("actions", rec("b", "Pay", Some("p1"), 1), 0)
        .await
        .unwrap();
    assert!(matches!(
        store
            .put("actions", rec("c", "Pay", Some("p1"), 1), 0)
            .await,
        Err(RegistryError::NameTaken { .. })
    ));
    store
        .put("library", rec("a", "Pay", None, 1), 0)
        .await
        .unwrap();

    // Updates: the expected version, appended to the history.
    let a2 = store
        .put("actions", rec("a", "Pay", None, 2), 1)
        .await
        .unwrap();
    assert_eq!(a2["version"], 2);
    assert_eq!(
        store.put("actions", rec("a", "Pay", None, 3), 1).await,
        Err(RegistryError::Stale { current: 2 })
    );
    assert_eq!(
        store.put("actions", rec("zz", "Z", None, 3), 4).await,
        Err(RegistryError::NotFound("zz".into()))
    );
    assert!(matches!(
        store
            .put("actions", rec("a", "Pay", Some("p1"), 3), 2)
            .await,
        Err(RegistryError::NameTaken { .. })
    ));
    let history = store.history("actions", "a").await.unwrap();
    assert_eq!(
        history.iter().map(|v| v["n"].clone()).collect::<Vec<_>>(),
        [json!(1), json!(2)]
    );
    assert_eq!(
        store.get_version("actions", "a", 1).await.unwrap(),
        Some(a1.clone())
    );
    assert_eq!(store.get_version("actions", "a", 3).await.unwrap(), None);
    assert_eq!(store.get("actions", "a").await.unwrap(), Some(a2.clone()));
    let ids: Vec<Value> = store
        .list("actions")
        .await
        .unwrap()
        .iter()
        .map(|v| v["id"].clone())
        .collect();
    assert_eq!(ids, [json!("a"), json!("b")]);
    assert_eq!(store.list("library").await.unwrap().len(), 1);

    // Delete: the record and its history; the name is free again.
    let g = store.generation().await.unwrap();
    assert!(store.delete("actions", "a").await.unwrap());
    assert!(!store.delete("actions", "a").await.unwrap());
    assert_ne!(store.generation().await.unwrap(), g);
    assert_eq!(store.get("actions", "a").await.unwrap(), None);
    assert!(store.history("actions", "a").await.unwrap().is_empty());
    store
        .put("actions", rec("c", "Pay", None, 1), 0)
        .await
        .unwrap();
    assert_eq!(
        store.get("library", "a").await.unwrap().unwrap()["version"],
        1
    );
}

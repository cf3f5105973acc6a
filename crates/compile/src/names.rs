//! Id → name lookups: variables (CMS `variables`), entities/slots and intents (platformData,
//! CMS tables, prototype model). Newer data references everything by id, older data by name.

use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Names {
    variables: HashMap<String, String>,
    entities: HashMap<String, String>,
    intents: HashMap<String, String>,
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

impl Names {
    pub fn add_variable(&mut self, id: &str, name: &str) {
        self.variables.insert(id.to_string(), name.to_string());
    }

    /// Builds the lookups from the whole `.vf` document.
    pub fn from_doc(doc: &Value) -> Names {
        let mut n = Names::default();
        for v in doc
            .get("variables")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(id), Some(name)) = (str_field(v, "id"), str_field(v, "name")) {
                n.add_variable(id, name);
            }
        }
        for e in doc
            .get("entities")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(id), Some(name)) = (str_field(e, "id"), str_field(e, "name")) {
                n.entities.insert(id.into(), name.into());
            }
        }
        let version = doc.get("version").unwrap_or(&Value::Null);
        let pd = version.get("platformData").unwrap_or(&Value::Null);
        let model = version
            .get("prototype")
            .and_then(|p| p.get("model"))
            .unwrap_or(&Value::Null);
        for list in [pd.get("slots"), model.get("slots")].into_iter().flatten() {
            for s in list.as_array().into_iter().flatten() {
                if let (Some(key), Some(name)) = (str_field(s, "key"), str_field(s, "name")) {
                    n.entities.entry(key.into()).or_insert_with(|| name.into());
                }
            }
        }
        for i in doc
            .get("intents")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(id), Some(name)) = (str_field(i, "id"), str_field(i, "name")) {
                n.intents.insert(id.into(), name.into());
            }
        }
        for list in [pd.get("intents"), model.get("intents")]
            .into_iter()
            .flatten()
        {
            for i in list.as_array().into_iter().flatten() {
                if let (Some(key), Some(name)) = (str_field(i, "key"), str_field(i, "name")) {
                    n.intents.entry(key.into()).or_insert_with(|| name.into());
                }
            }
        }
        n
    }

    /// The name of a variable referenced by id (`None` when the id is not a known id).
    pub fn variable_by_id(&self, id: &str) -> Option<&str> {
        self.variables.get(id).map(String::as_str)
    }

    /// A variable reference (id in newer data, name in older data) as a name.
    pub fn variable<'a>(&'a self, id_or_name: &'a str) -> &'a str {
        self.variable_by_id(id_or_name).unwrap_or(id_or_name)
    }

    /// Every (id, name) pair of the CMS variables table.
    pub fn variable_names(&self) -> impl Iterator<Item = &str> {
        self.variables.values().map(String::as_str)
    }

    pub fn entity_name(&self, id: &str) -> Option<&str> {
        self.entities.get(id).map(String::as_str)
    }

    /// An intent reference (key/id, or already a name) as a name; `None` if unknown.
    pub fn intent_name(&self, key: &str) -> Option<&str> {
        self.intents.get(key).map(String::as_str)
    }

    /// Whether some intent is called `name`.
    pub fn is_intent_name(&self, name: &str) -> bool {
        self.intents.values().any(|n| n == name)
    }
}

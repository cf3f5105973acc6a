//! Function steps (`spec/dm-api.md` §5.6.24): the definitions a version carries
//! (`prototype.surveyorContext.functionDefinitions`) and a step's invocation of one.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// A function: its code (an ES module whose default export is `main(args)`), its declared
/// variables and the path codes `next: {path}` may name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionDefinition {
    pub code: String,
    /// Declared input variables and their types (`string`, `number`, `boolean`).
    pub input_vars: Vec<(String, String)>,
    /// Declared output variables: only these are read from `outputVars`.
    pub output_vars: Vec<String>,
    pub path_codes: Vec<String>,
}

impl FunctionDefinition {
    /// `{code, inputVars: {name: {type}}, outputVars: {name: {type}}, pathCodes: [...]}`.
    pub fn parse(v: &Value) -> Option<FunctionDefinition> {
        let code = v.get("code")?.as_str()?.to_string();
        let vars = |key: &str| -> Vec<(String, String)> {
            v.get(key)
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(name, decl)| {
                            let ty = decl.get("type").and_then(Value::as_str).unwrap_or("string");
                            (name.clone(), ty.to_string())
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        Some(FunctionDefinition {
            code,
            input_vars: vars("inputVars"),
            output_vars: vars("outputVars").into_iter().map(|(n, _)| n).collect(),
            path_codes: super::string_list(v.get("pathCodes")),
        })
    }
}

/// The definitions of a version, by function id.
pub type FunctionDefinitions = HashMap<String, Arc<FunctionDefinition>>;

/// `prototype.surveyorContext.functionDefinitions`; entries that do not parse are left out (the
/// step that uses one then reports it missing).
pub fn parse_definitions(v: Option<&Value>) -> FunctionDefinitions {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(id, d)| Some((id.clone(), Arc::new(FunctionDefinition::parse(d)?))))
                .collect()
        })
        .unwrap_or_default()
}

/// `{key: nodeId | null}` (function and agent ports by key).
pub(crate) fn paths_by_key(v: Option<&Value>) -> HashMap<String, Option<String>> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string)))
                .collect()
        })
        .unwrap_or_default()
}

/// Which function a step runs.
#[derive(Debug, Clone, PartialEq)]
pub enum FunctionRef {
    /// `definition: {functionId}`: one of the version's definitions.
    Id(String),
    /// A definition inlined in the step.
    Inline(Arc<FunctionDefinition>),
    /// Neither: the step reports it.
    Invalid,
}

/// A function step: `data: {definition, invocation: {inputVars, outputVars, paths}}`.
#[derive(Debug, Clone)]
pub struct Function {
    pub definition: FunctionRef,
    /// Function input name → markup (`{var}` replaced when the step runs).
    pub input_vars: Vec<(String, String)>,
    /// Function output name → diagram variable.
    pub output_vars: Vec<(String, String)>,
    /// Path code (and `__vf__default`) → node.
    pub paths: HashMap<String, Option<String>>,
    /// The `__vf__default` path (also `nextId`).
    pub next: Option<String>,
}

impl Function {
    pub(crate) fn parse(n: &Value, next: Option<String>) -> Function {
        let data = n.get("data").unwrap_or(&Value::Null);
        let definition = match data.get("definition") {
            Some(d) => match d.get("functionId").and_then(Value::as_str) {
                Some(id) => FunctionRef::Id(id.to_string()),
                None => FunctionDefinition::parse(d)
                    .map(|d| FunctionRef::Inline(Arc::new(d)))
                    .unwrap_or(FunctionRef::Invalid),
            },
            None => FunctionRef::Invalid,
        };
        let invocation = data.get("invocation").unwrap_or(&Value::Null);
        let pairs = |key: &str| -> Vec<(String, String)> {
            invocation
                .get(key)
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default()
        };
        let paths = paths_by_key(invocation.get("paths"));
        let next = paths.get("__vf__default").cloned().flatten().or(next);
        Function {
            definition,
            input_vars: pairs("inputVars"),
            output_vars: pairs("outputVars"),
            paths,
            next,
        }
    }
}

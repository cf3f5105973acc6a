//! Runtime logs: `log` traces produced when the interact call asks for them with `?logs=`
//! (`spec/dm-api.md` §4.5).

use super::runtime::Runtime;
use flowdm_model::Node;
use serde_json::{Map, Value};
use std::time::{Duration, UNIX_EPOCH};

/// Maximum log level of a turn; `Off` (the default) produces no `log` traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum LogLevel {
    #[default]
    Off,
    Error,
    Warn,
    Info,
    Verbose,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Off => "off",
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Verbose => "verbose",
        }
    }

    /// Parses the `logs` query value: a level name or a boolean (`true` = `info`).
    pub fn parse(s: &str) -> Option<LogLevel> {
        Some(match s {
            "off" | "false" => LogLevel::Off,
            "error" => LogLevel::Error,
            "warn" => LogLevel::Warn,
            "info" | "true" => LogLevel::Info,
            "verbose" => LogLevel::Verbose,
            _ => return None,
        })
    }
}

/// A reference to the step a log is about: `{stepID, componentName}`.
pub(crate) fn step_ref(node: &Node) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("stepID".into(), Value::String(node.id.clone()));
    m.insert("componentName".into(), Value::String(component_name(node)));
    m
}

fn component_name(node: &Node) -> String {
    if node.type_name.is_empty() {
        "start".into()
    } else {
        node.type_name.clone()
    }
}

impl Runtime<'_, '_> {
    /// Whether a log of `level` would be emitted.
    pub(crate) fn logs_at(&self, level: LogLevel) -> bool {
        self.log_level != LogLevel::Off && level <= self.log_level
    }

    /// Emits a `log` trace `{kind, level, message, timestamp}` when the level is enabled.
    pub(crate) fn log(
        &mut self,
        level: LogLevel,
        kind: &str,
        message: impl FnOnce() -> Map<String, Value>,
    ) {
        if !self.logs_at(level) {
            return;
        }
        let timestamp =
            humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(self.now_ms))
                .to_string();
        let mut payload = Map::new();
        payload.insert("kind".into(), Value::String(kind.to_string()));
        payload.insert("level".into(), Value::String(level.as_str().to_string()));
        payload.insert("message".into(), Value::Object(message()));
        payload.insert("timestamp".into(), Value::String(timestamp));
        self.trace("log", Value::Object(payload));
    }

    /// A step log at `info` with the step reference and `fields`.
    pub(crate) fn step_log(
        &mut self,
        node: &Node,
        kind: &str,
        fields: impl FnOnce() -> Vec<(&'static str, Value)>,
    ) {
        self.log(LogLevel::Info, &format!("step.{kind}"), || {
            let mut m = step_ref(node);
            for (k, v) in fields() {
                m.insert(k.to_string(), v);
            }
            m
        });
    }

    /// `{var: {before, after}}` for variables whose value changed.
    pub(crate) fn changed_variables(
        before: &Map<String, Value>,
        after: &[(String, Value)],
    ) -> Value {
        let mut changed = Map::new();
        for (k, v) in after {
            let old = before.get(k).cloned().unwrap_or(Value::Null);
            if &old != v {
                let mut entry = Map::new();
                entry.insert("before".into(), old);
                entry.insert("after".into(), v.clone());
                changed.insert(k.clone(), Value::Object(entry));
            }
        }
        Value::Object(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::LogLevel;

    #[test]
    fn parses_levels_and_orders_them() {
        assert_eq!(LogLevel::parse("true"), Some(LogLevel::Info));
        assert_eq!(LogLevel::parse("verbose"), Some(LogLevel::Verbose));
        assert_eq!(LogLevel::parse("loud"), None);
        assert!(LogLevel::Error < LogLevel::Info);
    }
}

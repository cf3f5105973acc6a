//! Custom actions the server runs itself (`design.md` § Custom actions, `docs/custom-actions.md`):
//! when the client does not stop on a custom-action step and an active action of its name is
//! registered, the server runs it — a webhook as an HTTP effect, JavaScript in the sandbox (its
//! `fetch`es effects too) — and the turn follows the path its result names; a name that is no
//! path of the step takes the step's default path, as the reference does for an unknown resume.
//! A `debug` trace says which action ran and what it answered.

use super::Call;
use crate::effects::{CallPolicy, Effect, EffectResult, HttpBody, HttpRequest};
use crate::interpolate::Lookup;
use crate::runtime::{Runtime, Step};
use crate::trace::{Payload, Trace};
use flowdm_model::{
    CustomAction, FunctionDefinition, Handler, JavaScript, OpenUrl, ServerAction, Webhook,
};
use serde_json::{json, Map, Value};

/// The path a failed webhook call takes (when the step has one of that name).
pub const ERROR_PATH: &str = "error";

/// The trace type of a `url` action: the shape of a button's `open_url` action.
pub const OPEN_URL: &str = "open_url";

/// `{{name}}` replaced: `user.id`, `project.id`, `payload.key` (the step's payload), else a
/// session variable; unknown names become empty.
pub(super) fn template(
    text: &str,
    vars: &dyn Lookup,
    user: &str,
    project: &str,
    payload: &Value,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start + 2..].find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = rest[start + 2..start + 2 + end].trim();
        let value = match name {
            "user.id" => Some(Value::String(user.into())),
            "project.id" => Some(Value::String(project.into())),
            _ => match name.strip_prefix("payload.") {
                Some(key) => payload.get(key).cloned(),
                None => vars.lookup(name).cloned(),
            },
        };
        match value {
            Some(Value::String(s)) => out.push_str(&s),
            Some(Value::Null) | None => {}
            Some(other) => out.push_str(&other.to_string()),
        }
        rest = &rest[start + 2 + end + 2..];
    }
    out.push_str(rest);
    out
}

fn status_path(w: &Webhook, status: u16) -> Option<String> {
    let exact = status.to_string();
    let class = format!("{}xx", status / 100);
    w.status_paths
        .iter()
        .find(|(k, _)| *k == exact)
        .or_else(|| {
            w.status_paths
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&class))
        })
        .map(|(_, p)| p.clone())
}

/// A parameter value of the declared type.
fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "string" => v.is_string(),
        "number" | "integer" => v.is_number(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        _ => true,
    }
}

/// The step's payload validated against `js`'s parameters (defaults filled in).
fn params(js: &JavaScript, payload: &Value) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for p in &js.parameters {
        match payload
            .get(&p.key)
            .filter(|v| !v.is_null())
            .or(p.default.as_ref())
        {
            Some(v) if type_ok(&p.ty, v) => {
                out.insert(p.key.clone(), v.clone());
            }
            Some(v) => return Err(format!("parameter {:?} must be {} (got {v})", p.key, p.ty)),
            None if p.required => return Err(format!("parameter {:?} is required", p.key)),
            None => {}
        }
    }
    Ok(out)
}

impl Runtime<'_, '_> {
    /// Runs `server` for the custom-action step `action`, whose trace (the client's, not sent)
    /// carries the rendered payload.
    pub(crate) fn run_server_action(
        &mut self,
        action: &CustomAction,
        server: &ServerAction,
        trace: Trace,
    ) -> Step {
        // The payload as the client would get it; a JSON text (older steps) is read as JSON.
        let payload = match trace.payload {
            Some(Payload::Json(Value::String(text))) => {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            }
            Some(Payload::Json(p)) => p,
            _ => Value::Null,
        };
        let handler = match &server.handler {
            Handler::Webhook(_) => "webhook",
            Handler::JavaScript(_) => "javascript",
            Handler::Url(_) => "url",
            Handler::Subflow(_) => "subflow",
        };
        let outcome = match &server.handler {
            Handler::Subflow(sub) => {
                self.ran_action(handler, "started");
                return self.run_subflow(action, sub, &payload);
            }
            _ => self.call_server_action(server, &payload),
        };
        let (event, failed) = match outcome {
            Call::Pending => return Step::Wait,
            Call::Done(Ok(event)) => {
                let failed = event.as_deref() == Some(ERROR_PATH);
                (event, failed)
            }
            Call::Done(Err(why)) => {
                self.debug(Some("custom-action"), || {
                    format!("server action {:?} failed: {why}", server.name)
                });
                (None, true)
            }
        };
        let path = event.as_deref().and_then(|e| {
            action
                .paths
                .iter()
                .find(|p| matches!(&p.event, flowdm_model::Event::General(t) if t == e))
        });
        let result = match (failed, path.is_some()) {
            (true, _) => "error",
            (false, true) => "path",
            (false, false) => "default",
        };
        self.ran_action(handler, result);
        self.debug(Some("custom-action"), || {
            format!(
                "server action {:?} answered {:?}: {}",
                server.name,
                event.as_deref().unwrap_or(""),
                if path.is_some() {
                    "its path"
                } else {
                    "the default path"
                }
            )
        });
        match path {
            Some(p) => Step::Next(p.next_id.clone()),
            None => Step::Next(action.default_next().map(str::to_string)),
        }
    }

    /// Records a custom action run (`crate::turn::ActionRun`).
    fn ran_action(&mut self, handler: &'static str, result: &'static str) {
        self.action_runs
            .push(crate::turn::ActionRun { handler, result });
    }

    /// Runs `server`'s handler with the step's `payload`: the event it names (or none), or
    /// why it failed; pending while an effect is out (also [`crate::run_action`]'s core).
    pub(crate) fn call_server_action(
        &mut self,
        server: &ServerAction,
        payload: &Value,
    ) -> Call<Option<String>> {
        match &server.handler {
            Handler::Webhook(w) => self.run_webhook(w, payload),
            Handler::JavaScript(js) => self.run_javascript(js, payload),
            Handler::Url(u) => self.run_open_url(u, payload),
            // A sub-flow runs as frames of a dialog turn: nothing to run alone.
            Handler::Subflow(_) => {
                Call::Done(Err("a subflow action runs only inside a dialog turn".into()))
            }
        }
    }

    /// The webhook's call as an HTTP effect; its answer mapped, and the path it names.
    fn run_webhook(&mut self, w: &Webhook, payload: &Value) -> Call<Option<String>> {
        let call = self.effect_call(EffectResult::into_http, |rt| {
            let user = rt.user_id.clone().unwrap_or_default();
            let project = rt.project.version.project_id.clone();
            let scope = rt.scope();
            let fill = |t: &str| template(t, &scope, &user, &project, payload);
            Effect::Http(HttpRequest {
                method: w.method.clone(),
                url: fill(&w.url),
                headers: w
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), fill(v)))
                    .collect(),
                body: match (&w.body, w.method.as_str()) {
                    (Some(b), m) if m != "GET" => HttpBody::Raw(fill(b)),
                    _ => HttpBody::None,
                },
                policy: CallPolicy {
                    timeout_ms: w.timeout_ms,
                    retries: w.retries,
                    origin: crate::effects::HttpOrigin::Webhook,
                },
            })
        });
        let result = match call {
            Call::Pending => return Call::Pending,
            Call::Done(result) => result,
        };
        let response = match result {
            Ok(r) => r,
            Err(why) => {
                self.debug(Some("custom-action"), || format!("webhook failed: {why}"));
                return Call::Done(Ok(Some(ERROR_PATH.into())));
            }
        };
        let data: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
        let mapped: Vec<(String, Value)> = w
            .mappings
            .iter()
            .filter_map(|(path, var)| Some((var.clone(), self.walk(&data, path)?)))
            .collect();
        for (var, value) in mapped {
            self.set_var(&var, value);
        }
        let named = w
            .path_field
            .as_deref()
            .and_then(|f| self.walk(&data, f))
            .and_then(|v| v.as_str().map(str::to_string));
        Call::Done(Ok(named.or_else(|| status_path(w, response.status))))
    }

    /// An `open_url` trace (`{url, target}`, the URL templated like a webhook's) for the
    /// client to open; the step then takes its default path.
    fn run_open_url(&mut self, u: &OpenUrl, payload: &Value) -> Call<Option<String>> {
        let user = self.user_id.clone().unwrap_or_default();
        let project = self.project.version.project_id.clone();
        let url = template(&u.url, &self.scope(), &user, &project, payload);
        if url.trim().is_empty() {
            return Call::Done(Err("the URL is empty once filled in".into()));
        }
        self.push_trace(Trace::new(
            OPEN_URL,
            json!({ "url": url, "target": u.target }),
            self.now_ms,
        ));
        Call::Done(Ok(None))
    }

    /// The JavaScript action in the sandbox: `main({params, variables})` → `{event, variables}`;
    /// invalid parameters or an undeclared event are errors.
    fn run_javascript(&mut self, js: &JavaScript, payload: &Value) -> Call<Option<String>> {
        let params = match params(js, payload) {
            Ok(p) => p,
            Err(why) => return Call::Done(Err(why)),
        };
        let def = FunctionDefinition {
            code: js.code.clone(),
            ..FunctionDefinition::default()
        };
        let mut inputs = Map::new();
        inputs.insert("params".into(), Value::Object(params));
        inputs.insert(
            "variables".into(),
            Value::Object(self.combined_vars().into_iter().collect()),
        );
        let returned = match self.execute_function_with(&def, json!(inputs)) {
            Call::Pending => return Call::Pending,
            Call::Done(Ok(v)) => v,
            Call::Done(Err(why)) => return Call::Done(Err(why)),
        };
        let event = returned
            .get("event")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(e) = &event {
            if !js.events.is_empty() && !js.events.contains(e) {
                return Call::Done(Err(format!("event {e:?} is not one of {:?}", js.events)));
            }
        }
        if let Some(Value::Object(vars)) = returned.get("variables") {
            for (k, v) in vars {
                self.set_var(k, v.clone());
            }
        }
        Call::Done(Ok(event))
    }
}

#[cfg(test)]
mod tests {
    use super::template;
    use serde_json::{json, Map};

    #[test]
    fn templates_fill_variables_user_project_and_payload() {
        let mut vars = Map::new();
        vars.insert("amount".into(), json!(25));
        vars.insert("name".into(), json!("Ada"));
        let payload = json!({ "card": "visa" });
        let out = template(
            "{{ name }} pays {{amount}} by {{payload.card}} ({{user.id}}/{{project.id}}){{missing}} {{open",
            &vars,
            "u1",
            "p1",
            &payload,
        );
        assert_eq!(out, "Ada pays 25 by visa (u1/p1) {{open");
    }
}

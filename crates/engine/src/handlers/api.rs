//! The API step (`integrations` Custom API, `spec/dm-api.md` §5.6.13): builds the request with
//! `{var}` replaced, yields it as an effect, then maps the answer into variables and follows
//! `success_id` (2xx) or `fail_id`.

use crate::effects::{CallPolicy, Effect, HttpBody, HttpRequest, HttpResponse};
use crate::interpolate::{number, replace};
use crate::runtime::{Runtime, Step};
use flowdm_model::{Api, ApiRequest, Node};
use jsonpath_rust::JsonPath;
use serde_json::{json, Value};

/// The reference's default `User-Agent`.
pub const USER_AGENT: &str = "Voiceflow/1.0.0 (+https://voiceflow.com)";
/// Numeric strings shorter than this become numbers when mapped.
const NUMERIC_MAX_LEN: usize = 16;

impl Runtime<'_, '_> {
    pub(crate) fn handle_api(&mut self, node: &Node, n: &Api) -> Step {
        if let Some(result) = self.take_effect_result() {
            return self.api_answer(node, n, result.into_http());
        }
        match self.api_request(&n.request) {
            Ok(request) => {
                self.suspend(Effect::Http(request));
                Step::Wait
            }
            Err(why) => {
                self.debug(Some("api"), || format!("API step: {why}"));
                Step::Next(n.fail.clone())
            }
        }
    }

    /// The request: `{var}` replaced everywhere, empty headers and params dropped, the params
    /// in the query, the reference's `User-Agent` unless one is given.
    fn api_request(&self, r: &ApiRequest) -> Result<HttpRequest, String> {
        let scope = self.scope();
        let sub = |s: &str| replace(s, &scope, false);
        let mut url = url::Url::parse(sub(&r.url).trim())
            .map_err(|e| format!("the URL does not parse ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("the URL scheme {:?} is not http(s)", url.scheme()));
        }
        for (k, v) in &r.params {
            if !k.is_empty() {
                url.query_pairs_mut().append_pair(&sub(k), &sub(v));
            }
        }
        let mut headers: Vec<(String, String)> = r
            .headers
            .iter()
            .map(|(k, v)| (sub(k), sub(v)))
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
            .collect();
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
        {
            headers.push(("User-Agent".into(), USER_AGENT.into()));
        }
        let pairs = || -> Vec<(String, String)> {
            r.body
                .iter()
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (sub(k), sub(v)))
                .collect()
        };
        let body = if r.method == "GET" {
            HttpBody::None
        } else {
            match r.body_type.as_str() {
                "urlEncoded" => HttpBody::Form(pairs()),
                "formData" => HttpBody::Multipart(pairs()),
                _ => r
                    .content
                    .as_deref()
                    .map_or(HttpBody::None, |c| HttpBody::Raw(sub(c))),
            }
        };
        Ok(HttpRequest {
            method: r.method.clone(),
            url: url.to_string(),
            headers,
            body,
            policy: CallPolicy::default(),
        })
    }

    /// Maps the answer (even a failed status's) and picks the port; no answer → `fail_id`.
    fn api_answer(&mut self, node: &Node, n: &Api, result: Result<HttpResponse, String>) -> Step {
        let HttpResponse { status, body, .. } = match result {
            Ok(r) => r,
            Err(why) => {
                self.debug(Some("api"), || format!("API step: {why}"));
                return Step::Next(n.fail.clone());
            }
        };
        let data: Value = serde_json::from_str(&body).unwrap_or_else(|_| json!({}));
        let mapped: Vec<(String, Value)> = n
            .request
            .mapping
            .iter()
            .filter_map(|(path, var)| Some((var.clone(), self.walk(&data, path)?)))
            .collect();
        if !mapped.is_empty() {
            self.assign(node, "api", mapped);
        }
        if (200..300).contains(&status) {
            Step::Next(n.success.clone())
        } else {
            Step::Next(n.fail.clone())
        }
    }

    /// A mapping path: JSONPath (`$…`), else the reference's `a.b[0].c` (a leading `response.`
    /// optional, `{random}` a random element), numeric strings becoming numbers.
    pub(crate) fn walk(&mut self, data: &Value, path: &str) -> Option<Value> {
        let path = path.trim();
        if path.starts_with('$') {
            let found = data.query(path).ok()?;
            return found.first().map(|v| numeric(v));
        }
        let path = path.strip_prefix("response.").unwrap_or(path);
        let path = if path == "response" { "" } else { path };
        let mut at = data;
        for segment in path.replace('[', ".").replace(']', "").split('.') {
            if segment.is_empty() {
                continue;
            }
            at = match (at, segment) {
                (Value::Array(items), "{random}") if !items.is_empty() => {
                    &items[self.env.rng.index(items.len())]
                }
                (Value::Array(items), _) => items.get(segment.parse::<usize>().ok()?)?,
                (Value::Object(map), _) => map.get(segment)?,
                _ => return None,
            };
        }
        Some(numeric(at))
    }
}

/// The mapped value: a numeric string shorter than 16 characters becomes the number.
fn numeric(v: &Value) -> Value {
    match v {
        Value::String(s) if s.len() < NUMERIC_MAX_LEN && !s.trim().is_empty() => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map_or_else(|| v.clone(), number),
        _ => v.clone(),
    }
}

//! The chat pages (docs/clients.md § Chat page): the real web chat widget
//! (`@voiceflow/react-chat` 1.65.2) embedded in a page this server serves, talking to this
//! server through the public routes.
//!
//! - `GET /`: the loaded public agents, each with a link to its chat page (HTML);
//! - `GET /chat/{projectID}`: a page that loads the widget bundle and calls
//!   `window.voiceflow.chat.load({verify: {projectID}, url: location.origin, …})`, with the
//!   extension example of [`EXTENSIONS_JS`];
//! - `GET /chat/assets/widget.js`: the bundle file of `--widget-bundle` (404 when missing);
//! - `GET /chat/assets/extensions.js`: the widget extensions of the chat pages.
//!
//! A project that is not loaded answers 404 (VError), one that is not public 401, like the widget
//! routes ([`super::widget`]). Every name written into a page is HTML-escaped; values given to the
//! page's script travel as JSON in a `<script type="application/json">` element.

use super::auth::loaded_public_entry;
use super::errors::ApiError;
use super::paths::ProjectPath;
use super::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use std::io::ErrorKind;

/// The widget extensions of the chat pages (`window.flowdmChatExtensions`).
pub const EXTENSIONS_JS: &str = include_str!("chat/extensions.js");

/// Where the chat page loads the bundle from when it is served by this server.
const BUNDLE_ROUTE: &str = "/chat/assets/widget.js";

/// What the page says when the bundle is not installed.
const NO_BUNDLE: &str = "The web chat bundle is not installed. Run scripts/clients from the \
flowdm repository (it installs @voiceflow/react-chat 1.65.2 and copies its dist/bundle.mjs to \
target/clients/widget/bundle.js), or start flowdm serve with --widget-bundle PATH or \
--widget-url URL.";

/// A 1×1 transparent GIF: the widget's avatar and image, so it fetches nothing from a CDN.
const PIXEL: &str =
    "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==";

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON safe inside a `<script>` element (no `</script>`, no `<!--`).
fn script_json(v: &serde_json::Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;padding:16px;color:#1f2430}\
h1{font-size:20px;margin:0 0 12px}a{color:#2453d4}\
table{border-collapse:collapse}td,th{padding:4px 12px 4px 0;text-align:left}\
code{font-size:13px}.notice{background:#fff4d6;border:1px solid #e8c860;padding:12px;max-width:640px}\
#flowdm-chat{width:420px;height:640px;border:1px solid #d9dce3}";

fn page(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
            escape_html(title)
        ))
}

/// `GET /`: the loaded public agents with links to their chat pages. Agents that are not public
/// are only counted (the widget cannot use them, and their names are not shown).
pub async fn index(data: web::Data<AppState>) -> HttpResponse {
    let mut rows = String::new();
    let mut hidden = 0usize;
    for entry in data.agents.registry().projects() {
        if !entry.is_public() {
            hidden += 1;
            continue;
        }
        let id = &entry.info.id;
        rows.push_str(&format!(
            "<tr><td><a href=\"/chat/{}\">{}</a></td><td><code>{}</code></td></tr>\n",
            escape_html(&super::stops::segment(id)),
            escape_html(&entry.info.name),
            escape_html(id),
        ));
    }
    let mut body = String::from("<h1>flowdm agents</h1>\n");
    if rows.is_empty() {
        body.push_str("<p>No public agent is loaded.</p>\n");
    } else {
        body.push_str("<table>\n<tr><th>Agent (chat page)</th><th>Project ID</th></tr>\n");
        body.push_str(&rows);
        body.push_str("</table>\n");
    }
    if hidden > 0 {
        body.push_str(&format!(
            "<p>{hidden} other loaded agent(s) are not public (<code>apiPrivacy</code>) and have \
             no chat page.</p>\n"
        ));
    }
    body.push_str("<p>The API is described at <a href=\"/openapi.yaml\">/openapi.yaml</a>.</p>\n");
    page("flowdm agents", &body)
}

/// Where the page's script tag points: `--widget-url`, else this server's bundle route when the
/// bundle file exists.
fn bundle_src(data: &AppState) -> Option<String> {
    match &data.chat.widget_url {
        Some(url) => Some(url.clone()),
        None => data
            .chat
            .widget_bundle
            .is_file()
            .then(|| BUNDLE_ROUTE.to_string()),
    }
}

/// `GET /chat/{projectID}`: the chat page of one public agent.
pub async fn chat_page(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<ProjectPath>,
) -> Result<HttpResponse, ApiError> {
    let project_id = &path.project_id;
    let entry = loaded_public_entry(&data, &req, project_id, false)?;
    let name = &entry.info.name;
    let mut body = format!(
        "<p><a href=\"/\">All agents</a></p>\n<h1>{}</h1>\n",
        escape_html(name)
    );
    let Some(src) = bundle_src(&data) else {
        tracing::warn!(bundle = %data.chat.widget_bundle.display(), "chat page: the web chat bundle is missing");
        body.push_str(&format!(
            "<p class=\"notice\" id=\"flowdm-no-bundle\">{}</p>\n",
            escape_html(NO_BUNDLE)
        ));
        return Ok(page(&format!("{name} — flowdm chat"), &body));
    };
    let config = json!({
        "projectID": project_id,
        "versionID": "production",
        "image": PIXEL,
    });
    body.push_str(&format!(
        "<div id=\"flowdm-chat\"></div>\n\
         <script id=\"flowdm-chat-config\" type=\"application/json\">{}</script>\n\
         <script src=\"/chat/assets/extensions.js\"></script>\n\
         <script src=\"{}\"></script>\n\
         <script>\n{LOAD_JS}</script>\n",
        script_json(&config),
        escape_html(&src),
    ));
    Ok(page(&format!("{name} — flowdm chat"), &body))
}

/// The page's call of the widget: public mode against this server's origin.
const LOAD_JS: &str = r#"(function () {
  var cfg = JSON.parse(document.getElementById('flowdm-chat-config').textContent);
  window.voiceflow.chat.load({
    verify: { projectID: cfg.projectID },
    url: location.origin,
    versionID: cfg.versionID,
    render: { mode: 'embedded', target: document.getElementById('flowdm-chat') },
    autostart: true,
    assistant: {
      persistence: 'localStorage',
      image: cfg.image,
      avatar: cfg.image,
      extensions: window.flowdmChatExtensions || [],
    },
  });
})();
"#;

/// `GET /chat/assets/widget.js`: the `--widget-bundle` file, read on each request (so
/// `scripts/clients` can install it while the server runs); 404 when it is missing.
pub async fn widget_bundle(data: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let path = data.chat.widget_bundle.clone();
    let read = web::block(move || std::fs::read(path))
        .await
        .map_err(|e| ApiError::internal(format!("reading the web chat bundle: {e}")))?;
    match read {
        Ok(bytes) => Ok(HttpResponse::Ok()
            .content_type("application/javascript; charset=utf-8")
            .insert_header(("cache-control", "no-cache"))
            .body(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::IsADirectory => {
            tracing::warn!(bundle = %data.chat.widget_bundle.display(), "the web chat bundle is missing");
            Err(ApiError::verror(StatusCode::NOT_FOUND, NO_BUNDLE))
        }
        Err(e) => {
            tracing::warn!(bundle = %data.chat.widget_bundle.display(), error = %e, "cannot read the web chat bundle");
            Err(ApiError::internal("cannot read the web chat bundle"))
        }
    }
}

/// `GET /chat/assets/extensions.js`: the chat pages' widget extensions.
pub async fn extensions() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/javascript; charset=utf-8")
        .body(EXTENSIONS_JS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape_html(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn script_json_cannot_close_the_script() {
        let s = script_json(&json!({"projectID": "</script><script>alert(1)</script>"}));
        assert!(!s.contains('<') && !s.contains('>'), "{s}");
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["projectID"], "</script><script>alert(1)</script>");
    }

    #[test]
    fn segments_are_percent_encoded() {
        let encode_segment = super::super::stops::segment;
        assert_eq!(encode_segment("64a1f0"), "64a1f0");
        assert_eq!(encode_segment("a b/c?"), "a%20b%2Fc%3F");
    }
}

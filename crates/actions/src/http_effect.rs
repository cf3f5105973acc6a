//! The HTTP effect (`flowdm_engine::Effect::Http`, the API step) performed by the guarded
//! [`OutboundClient`] (for [`crate::effects::Effects`]): method, headers, the body as the step asked (raw, form-encoded or
//! multipart), and the answer as text.

use crate::outbound::header::{HeaderValue, CONTENT_TYPE};
use crate::outbound::{Method, OutboundClient, OutboundRequest};
use flowdm_engine::{HttpBody, HttpRequest, HttpResponse};

/// Sends `r`; any failure (refused address, timeout, too large, …) is its message.
pub(crate) async fn send(client: &OutboundClient, r: &HttpRequest) -> Result<HttpResponse, String> {
    let method = Method::from_bytes(r.method.as_bytes())
        .map_err(|_| format!("unknown HTTP method {:?}", r.method))?;
    let mut out = OutboundRequest::new(method, r.url.clone());
    for (name, value) in &r.headers {
        out = out.try_header(name, value).map_err(|e| e.to_string())?;
    }
    let has_type = r
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    let typed = |out: OutboundRequest, ty: &str| match HeaderValue::from_str(ty) {
        Ok(v) if !has_type => out.header(CONTENT_TYPE, v),
        _ => out,
    };
    out = match &r.body {
        HttpBody::None => out,
        HttpBody::Raw(text) => out.body(text.clone().into_bytes()),
        HttpBody::Form(pairs) => {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            typed(out, "application/x-www-form-urlencoded").body(body.into_bytes())
        }
        HttpBody::Multipart(pairs) => {
            let (boundary, body) = multipart(pairs);
            typed(out, &format!("multipart/form-data; boundary={boundary}")).body(body)
        }
    };
    let answer = client.send(out).await.map_err(|e| e.to_string())?;
    let headers = answer
        .headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_string(), value)
        })
        .collect();
    Ok(HttpResponse {
        status: answer.status.as_u16(),
        headers,
        body: String::from_utf8_lossy(&answer.body).into_owned(),
    })
}

/// A `multipart/form-data` body of text fields, and its boundary (one no value contains).
fn multipart(pairs: &[(String, String)]) -> (String, Vec<u8>) {
    let mut boundary = String::from("flowdm-form-boundary");
    while pairs
        .iter()
        .any(|(k, v)| k.contains(&boundary) || v.contains(&boundary))
    {
        boundary.push('x');
    }
    let mut body = Vec::new();
    for (name, value) in pairs {
        let name = name.replace(['"', '\r', '\n'], "");
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (boundary, body)
}

#[cfg(test)]
mod tests {
    use super::multipart;

    #[test]
    fn multipart_bodies_have_a_boundary_no_value_contains() {
        let (b, body) = multipart(&[
            ("a".into(), "1".into()),
            ("b".into(), "flowdm-form-boundary".into()),
        ]);
        assert_eq!(b, "flowdm-form-boundaryx");
        let text = String::from_utf8(body).unwrap();
        assert!(text.starts_with(
            "--flowdm-form-boundaryx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
        ));
        assert!(text.ends_with("--flowdm-form-boundaryx--\r\n"));
    }
}

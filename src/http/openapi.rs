//! `GET /openapi.yaml`: the OpenAPI 3.1 document of every route served. The repository's
//! `openapi.yaml` is embedded at build time; when the server starts, the `enum`s of the
//! `LoadedVersionID` and `LoadedProjectID` schemas are set to the agents it loaded, so the served
//! contract names exactly the ids this server accepts.

use super::state::AppState;
use crate::projects::Registry;
use actix_web::web;
use actix_web::HttpResponse;

pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

/// Replaces the block `enum:` list of the schema whose first line is `schema` with `ids`.
/// Without ids the `enum` is left out (any string).
fn set_enum(doc: &str, schema: &str, ids: &[String]) -> String {
    let mut out = String::with_capacity(doc.len());
    let (mut in_schema, mut in_enum) = (false, false);
    for line in doc.lines() {
        in_schema = line == schema || (in_schema && line.starts_with("      "));
        if in_enum && line.starts_with("        - ") {
            continue;
        }
        in_enum = false;
        if in_schema && line == "      enum:" {
            in_enum = true;
            if !ids.is_empty() {
                out.push_str("      enum:\n");
                for id in ids {
                    out.push_str(&format!("        - '{}'\n", id.replace('\'', "''")));
                }
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids.dedup();
    ids
}

/// The document this server serves: the loaded version ids then project ids (a project id
/// resolves to its default version) for `LoadedVersionID`, the project ids for
/// `LoadedProjectID`.
pub fn document(registry: &Registry) -> String {
    let projects = sorted(registry.projects().map(|p| p.info.id.clone()).collect());
    let mut versions = sorted(
        registry
            .projects()
            .flat_map(|p| p.versions.iter().map(|v| v.version.id.clone()))
            .collect(),
    );
    versions.extend(projects.iter().cloned());
    let doc = set_enum(OPENAPI_YAML, "    LoadedVersionID:", &versions);
    set_enum(&doc, "    LoadedProjectID:", &projects)
}

pub async fn openapi(data: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml; charset=utf-8")
        .body(data.agents.openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_are_replaced_or_dropped() {
        let doc = "  schemas:\n    LoadedVersionID:\n      type: string\n      enum:\n        - 'a'\n        - 'b'\n    Other:\n      enum:\n        - 'x'\n";
        assert_eq!(
            set_enum(doc, "    LoadedVersionID:", &["v1".into(), "it's".into()]),
            "  schemas:\n    LoadedVersionID:\n      type: string\n      enum:\n        - 'v1'\n        - 'it''s'\n    Other:\n      enum:\n        - 'x'\n"
        );
        assert_eq!(
            set_enum(doc, "    LoadedVersionID:", &[]),
            "  schemas:\n    LoadedVersionID:\n      type: string\n    Other:\n      enum:\n        - 'x'\n"
        );
    }

    #[test]
    fn the_file_lists_the_example_agents() {
        // Served on diagrams/, the document is the file as it is.
        let (registry, _) =
            Registry::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("diagrams"))
                .expect("diagrams");
        assert_eq!(document(&registry), OPENAPI_YAML);
    }
}

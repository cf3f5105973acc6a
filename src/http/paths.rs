//! The path parameters of the routes.

use serde::Deserialize;

/// `{userID}` and, on legacy routes, `{versionID}`.
#[derive(Debug, Deserialize)]
pub struct UserPath {
    #[serde(rename = "versionID", default)]
    pub version_id: Option<String>,
    #[serde(rename = "userID")]
    pub user_id: String,
}

/// `{versionID}` of the legacy stateless forms.
#[derive(Debug, Deserialize)]
pub struct VersionPath {
    #[serde(rename = "versionID", default)]
    pub version_id: Option<String>,
}

/// `{projectID}` and `{userID}` of the public user routes.
#[derive(Debug, Deserialize)]
pub struct PublicUserPath {
    #[serde(rename = "projectID")]
    pub project_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
}

/// `{projectID}` of the public project routes.
#[derive(Debug, Deserialize)]
pub struct ProjectPath {
    #[serde(rename = "projectID")]
    pub project_id: String,
}

/// `{projectID}` and `{versionID}` of the NLU routes.
#[derive(Debug, Deserialize)]
pub struct ProjectVersionPath {
    #[serde(rename = "projectID")]
    pub project_id: String,
    #[serde(rename = "versionID")]
    pub version_id: String,
}

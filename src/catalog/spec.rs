//! Placeholder: replaced by the full derivation (in progress).

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{0}")]
    Unusable(String),
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    pub endpoint_id: String,
    pub category: Option<String>,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Field {
    pub name: String,
    pub default: Option<Value>,
}

pub fn derive_spec(
    endpoint_id: &str,
    _doc: &Value,
    catalog_category: Option<&str>,
) -> Result<Spec, SpecError> {
    Ok(Spec {
        endpoint_id: endpoint_id.to_owned(),
        category: catalog_category.map(str::to_owned),
        fields: Vec::new(),
    })
}

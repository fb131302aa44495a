//! Form specs derived from a fal endpoint's OpenAPI document, and validation of user params.
//!
//! The document is untrusted input (fetched from fal, or stored by a third party with its own
//! additions), so every lookup here is fallible and every recursion is bounded: a broken or hostile
//! document becomes `SpecError::Unusable` or a degraded field, never a panic.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Nesting we follow through `$ref`/`allOf`/`anyOf` and nested objects. Real fal inputs are at
/// most three levels deep; anything deeper is either a cycle we failed to spot or hostile.
const MAX_DEPTH: usize = 24;

/// Total schema nodes flattened per document. `$ref`s form a DAG that can fan out exponentially
/// (A has ten properties of type B, B ten of type C, ...), which a depth limit alone won't stop.
const MAX_NODES: usize = 4_000;

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{0}")]
    Unusable(String),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    pub endpoint_id: String,
    pub output_kind: OutputKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub fields: Vec<Field>,
    #[serde(default)]
    pub buckets: Buckets,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OutputKind {
    Image,
    Video,
    Audio,
    #[serde(rename = "3d")]
    ThreeD,
    Text,
    Unknown,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(rename = "enum", default, skip_serializing_if = "Option::is_none")]
    pub enum_values: Option<Vec<Value>>,
    /// The field also takes a custom object (described by `fields`), like `image_size`'s
    /// `{width, height}` next to its presets.
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_custom: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_minimum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_maximum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub examples: Option<Vec<Value>>,
    pub group: Group,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<MediaKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub fields: Option<Vec<Field>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub items: Option<Box<Field>>,
    #[serde(default)]
    pub nullable: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Text,
    Integer,
    Number,
    Boolean,
    Enum,
    Array,
    Object,
    File,
    Files,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    Main,
    Advanced,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Any,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Buckets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub general_references: Option<BucketTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_frame: Option<BucketTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_frame: Option<BucketTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storyboard_reference: Option<BucketTarget>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BucketTarget {
    pub field: String,
    pub multiple: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldIssue {
    pub field: String,
    pub message: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Spec {
    /// The multipart field names the browser uploads under (see DESIGN.md "Upload buckets").
    pub const BUCKET_NAMES: [&'static str; 4] = [
        "generalReferences",
        "firstFrame",
        "lastFrame",
        "storyboardReference",
    ];

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn bucket(&self, bucket_name: &str) -> Option<&BucketTarget> {
        match bucket_name {
            "generalReferences" => self.buckets.general_references.as_ref(),
            "firstFrame" => self.buckets.first_frame.as_ref(),
            "lastFrame" => self.buckets.last_frame.as_ref(),
            "storyboardReference" => self.buckets.storyboard_reference.as_ref(),
            _ => None,
        }
    }
}

impl Field {
    fn new(name: &str, kind: FieldType) -> Self {
        Field {
            name: name.to_owned(),
            kind,
            required: false,
            default: None,
            enum_values: None,
            allow_custom: false,
            minimum: None,
            maximum: None,
            exclusive_minimum: None,
            exclusive_maximum: None,
            min_length: None,
            max_length: None,
            min_items: None,
            max_items: None,
            title: None,
            description: None,
            examples: None,
            group: Group::Advanced,
            accept: None,
            fields: None,
            items: None,
            nullable: false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Deriving
// ---------------------------------------------------------------------------------------------

pub fn derive_spec(
    endpoint_id: &str,
    doc: &Value,
    catalog_category: Option<&str>,
) -> Result<Spec, SpecError> {
    let id = endpoint_id.trim_matches('/');
    let unusable = |what: &str| {
        SpecError::Unusable(format!("fal's OpenAPI document for {endpoint_id} {what}"))
    };

    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| unusable("has no paths"))?;
    let post = find_submit_operation(paths, id).map_err(|e| unusable(&e))?;

    let mut ctx = Ctx::new(doc);
    let body = post.get("requestBody").map(|b| ctx.follow_refs(b));
    let schema = body.and_then(json_content_schema).ok_or_else(|| {
        unusable(&format!(
            "has no POST /{id} request body schema (requestBody.content.application/json.schema)"
        ))
    })?;

    let input = ctx.flatten(schema, 0);
    if !input.is_object_like() {
        return Err(match ctx.problem.take() {
            Some(problem) => unusable(&format!("has an unusable input schema: {problem}")),
            None => unusable("has an input schema that is not an object"),
        });
    }
    let fields = ctx.object_fields(&input, 0);

    let category = catalog_category
        .filter(|c| !c.trim().is_empty())
        .map(str::to_owned)
        .or_else(|| {
            doc.pointer("/info/x-fal-metadata/category")
                .and_then(Value::as_str)
                .filter(|c| !c.trim().is_empty())
                .map(str::to_owned)
        });

    let output_kind = find_result_schema(paths, id)
        .and_then(|schema| {
            let mut out_ctx = Ctx::new(doc);
            let flat = out_ctx.flatten(schema, 0);
            output_kind_from_properties(&flat.properties)
        })
        .or_else(|| category.as_deref().and_then(output_kind_from_category))
        .unwrap_or(OutputKind::Unknown);

    let buckets = derive_buckets(&fields, output_kind, category.as_deref());
    Ok(Spec {
        endpoint_id: endpoint_id.to_owned(),
        output_kind,
        category,
        fields,
        buckets,
    })
}

fn is_request_path(path: &str) -> bool {
    path.contains("/requests/") || path.ends_with("/requests")
}

/// The submit operation is `POST /<id>`; the imgly-stored documents keep that key, but an id
/// given with a different alias should still work when the document has one obvious candidate.
fn find_submit_operation<'a>(paths: &'a Map<String, Value>, id: &str) -> Result<&'a Value, String> {
    let exact = format!("/{id}");
    if let Some(post) = paths.get(&exact).and_then(|p| p.get("post")) {
        return Ok(post);
    }
    let mut candidates = paths
        .iter()
        .filter(|(path, item)| !is_request_path(path) && item.get("post").is_some())
        .filter_map(|(_, item)| item.get("post"));
    match (candidates.next(), candidates.next()) {
        (Some(post), None) => Ok(post),
        (None, _) => Err(format!("has no POST /{id} submit path")),
        (Some(_), Some(_)) => Err(format!("has several POST paths and none of them is /{id}")),
    }
}

fn find_result_schema<'a>(paths: &'a Map<String, Value>, id: &str) -> Option<&'a Value> {
    let exact = format!("/{id}/requests/{{request_id}}");
    let item = paths.get(&exact).or_else(|| {
        paths
            .iter()
            .find(|(path, item)| {
                path.ends_with("/requests/{request_id}") && item.get("get").is_some()
            })
            .map(|(_, item)| item)
    })?;
    let response = item.pointer("/get/responses/200")?;
    json_content_schema(response)
}

/// `content.application/json.schema`, tolerating `application/json; charset=utf-8` and friends.
fn json_content_schema(holder: &Value) -> Option<&Value> {
    let content = holder.get("content")?.as_object()?;
    content
        .get("application/json")
        .or_else(|| {
            content
                .iter()
                .find(|(k, _)| k.contains("json"))
                .map(|(_, v)| v)
        })?
        .get("schema")
}

/// A schema with `$ref`s, `allOf` and nullable unions merged into one view. It borrows from the
/// document so that a wide DAG of `$ref`s costs no copies.
#[derive(Default)]
struct Flat<'a> {
    /// Annotation and constraint keywords; later sources override earlier ones.
    keys: Vec<(&'a str, &'a Value)>,
    properties: Vec<(&'a str, &'a Value)>,
    required: Vec<&'a str>,
    order: Option<&'a Vec<Value>>,
    /// Presets gathered from several union branches (owned because they come from several places).
    union_enum: Option<Vec<Value>>,
    /// Type resolved from a 3.1 type array such as `["string", "null"]`.
    type_name: Option<&'a str>,
    nullable: bool,
    /// The object branch of a `scalar | object` union (`image_size`).
    custom: Option<Box<Flat<'a>>>,
    /// A `$ref` could not be followed (missing target, cycle, or limits reached).
    broken: bool,
    /// The `$ref`s this view was expanded from; they are the ancestry of its children, so a
    /// property leading back to one of them is a cycle.
    refs: Vec<&'a str>,
}

impl<'a> Flat<'a> {
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.keys
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    fn str_key(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(Value::as_str)
    }

    fn set(&mut self, key: &'a str, value: &'a Value) {
        self.keys.retain(|(k, _)| *k != key);
        self.keys.push((key, value));
    }

    fn add_property(&mut self, name: &'a str, schema: &'a Value) {
        match self.properties.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = schema,
            None => self.properties.push((name, schema)),
        }
    }

    fn add_required(&mut self, name: &'a str) {
        if !self.required.contains(&name) {
            self.required.push(name);
        }
    }

    fn ty(&self) -> Option<&'a str> {
        self.type_name.or_else(|| self.str_key("type"))
    }

    fn is_object_like(&self) -> bool {
        self.ty() == Some("object") || !self.properties.is_empty()
    }

    fn enum_values(&self) -> Option<Vec<Value>> {
        if let Some(values) = &self.union_enum {
            return Some(values.clone()).filter(|v| !v.is_empty());
        }
        if let Some(values) = self.get("enum").and_then(Value::as_array) {
            // A nullable enum written as `enum: [..., null]` lists null as a choice; the
            // `nullable` flag carries that meaning instead.
            let values: Vec<Value> = values.iter().filter(|v| !v.is_null()).cloned().collect();
            return Some(values).filter(|v| !v.is_empty());
        }
        self.get("const")
            .filter(|c| !c.is_null())
            .map(|c| vec![c.clone()])
    }

    /// Merge `other` under what is already here, the way `allOf` parts and a `$ref` base combine.
    fn absorb(&mut self, other: Flat<'a>, with_defaults: bool) {
        for (k, v) in other.keys {
            if with_defaults || (k != "default" && k != "examples" && k != "example") {
                self.set(k, v);
            }
        }
        for (n, s) in other.properties {
            self.add_property(n, s);
        }
        for r in other.required {
            self.add_required(r);
        }
        if other.order.is_some() {
            self.order = other.order;
        }
        if other.union_enum.is_some() {
            self.union_enum = other.union_enum;
        }
        if other.type_name.is_some() {
            self.type_name = other.type_name;
        }
        if other.custom.is_some() {
            self.custom = other.custom;
        }
        self.nullable |= other.nullable;
        self.broken |= other.broken;
        self.refs.extend(other.refs);
    }
}

struct Ctx<'a> {
    doc: &'a Value,
    /// `$ref`s being expanded on the current branch; meeting one again is a cycle.
    stack: Vec<&'a str>,
    budget: usize,
    /// The first reason a `$ref` could not be followed, for the user-facing error.
    problem: Option<String>,
}

impl<'a> Ctx<'a> {
    fn new(doc: &'a Value) -> Self {
        Ctx {
            doc,
            stack: Vec::new(),
            budget: MAX_NODES,
            problem: None,
        }
    }

    fn note_problem(&mut self, problem: String) {
        if self.problem.is_none() {
            self.problem = Some(problem);
        }
    }

    fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let pointer = reference.strip_prefix('#')?;
        if pointer.is_empty() {
            return None;
        }
        self.doc.pointer(pointer)
    }

    /// Follows a chain of bare `$ref`s (e.g. `#/components/requestBodies/X`), bounded.
    fn follow_refs(&self, mut value: &'a Value) -> &'a Value {
        for _ in 0..MAX_DEPTH {
            match value
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| self.resolve(r))
            {
                Some(target) => value = target,
                None => break,
            }
        }
        value
    }

    fn flatten(&mut self, schema: &'a Value, depth: usize) -> Flat<'a> {
        let mut out = Flat::default();
        let Some(obj) = schema.as_object() else {
            return out;
        };
        if depth > MAX_DEPTH || self.budget == 0 {
            self.note_problem("it nests too deeply".to_owned());
            out.broken = true;
            return out;
        }
        self.budget -= 1;

        if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
            if self.stack.contains(&reference) {
                self.note_problem(format!("{reference} refers back to itself"));
                out.broken = true;
            } else if let Some(target) = self.resolve(reference) {
                self.stack.push(reference);
                let base = self.flatten(target, depth + 1);
                self.stack.pop();
                out.refs.push(reference);
                out.absorb(base, true);
            } else {
                self.note_problem(format!(
                    "it refers to {reference}, which the document does not define"
                ));
                out.broken = true;
            }
        }

        if let Some(parts) = obj.get("allOf").and_then(Value::as_array) {
            for part in parts {
                let flat = self.flatten(part, depth + 1);
                out.absorb(flat, true);
            }
        }

        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = obj.get(key).and_then(Value::as_array) {
                let union = self.flatten_union(branches, depth);
                let single = !union.1;
                out.absorb(union.0, single);
            }
        }

        for (key, value) in obj {
            match key.as_str() {
                "$ref" | "allOf" | "anyOf" | "oneOf" => {}
                "properties" => {
                    if let Some(props) = value.as_object() {
                        for (name, prop) in props {
                            out.add_property(name, prop);
                        }
                    }
                }
                "required" => {
                    for name in value.as_array().into_iter().flatten() {
                        if let Some(name) = name.as_str() {
                            out.add_required(name);
                        }
                    }
                }
                "x-fal-order-properties" => out.order = value.as_array().or(out.order),
                "nullable" => out.nullable |= value.as_bool() == Some(true),
                "type" => {
                    if let Some(types) = value.as_array() {
                        // OpenAPI 3.1 `type: ["integer", "null"]`.
                        let mut named = types.iter().filter_map(Value::as_str);
                        out.nullable |= types.iter().any(|t| t.as_str() == Some("null"));
                        out.type_name = named.find(|t| *t != "null");
                    } else {
                        out.type_name = None;
                        out.set(key, value);
                    }
                }
                _ => out.set(key, value),
            }
        }
        out
    }

    /// Returns the merged view of a union and whether it had several real (non-null) branches.
    fn flatten_union(&mut self, branches: &'a [Value], depth: usize) -> (Flat<'a>, bool) {
        let mut out = Flat::default();
        let mut real: Vec<Flat<'a>> = Vec::new();
        for branch in branches {
            if is_null_schema(branch) {
                out.nullable = true;
            } else {
                real.push(self.flatten(branch, depth + 1));
            }
        }
        let several = real.len() > 1;
        if !several {
            if let Some(only) = real.pop() {
                out.absorb(only, true);
            }
            return (out, false);
        }

        let (objects, scalars): (Vec<Flat<'a>>, Vec<Flat<'a>>) =
            real.into_iter().partition(Flat::is_object_like);
        let mut objects = objects.into_iter();
        let first_object = objects.next();
        if scalars.is_empty() {
            // Several object shapes: the form can show only one, so the first one wins.
            if let Some(object) = first_object {
                out.absorb(object, false);
            }
            return (out, true);
        }

        let all_enums = scalars.iter().all(|s| s.enum_values().is_some());
        let mut presets: Vec<Value> = Vec::new();
        if all_enums {
            for s in &scalars {
                for v in s.enum_values().into_iter().flatten() {
                    if !presets.contains(&v) {
                        presets.push(v);
                    }
                }
            }
        }
        let mut scalars = scalars.into_iter();
        if let Some(first) = scalars.next() {
            out.absorb(first, false);
        }
        if all_enums {
            out.union_enum = Some(presets);
        }
        out.custom = first_object.map(Box::new);
        (out, true)
    }

    /// Converts the properties of an object view to fields, in display order.
    fn object_fields(&mut self, flat: &Flat<'a>, depth: usize) -> Vec<Field> {
        if depth > MAX_DEPTH {
            return Vec::new();
        }
        let mark = self.stack.len();
        self.stack.extend(flat.refs.iter().copied());
        let mut ordered: Vec<(&'a str, &'a Value)> = Vec::with_capacity(flat.properties.len());
        for name in flat.order.into_iter().flatten().filter_map(Value::as_str) {
            let listed = flat.properties.iter().find(|(n, _)| *n == name);
            if let Some(&(n, s)) = listed
                && !ordered.iter().any(|(o, _)| *o == n)
            {
                ordered.push((n, s));
            }
        }
        for &(n, s) in &flat.properties {
            if !ordered.iter().any(|(o, _)| *o == n) {
                ordered.push((n, s));
            }
        }
        let fields = ordered
            .into_iter()
            .map(|(name, schema)| {
                let required = flat.required.contains(&name);
                let nested = self.flatten(schema, depth + 1);
                self.field_from_flat(name, &nested, required, depth + 1)
            })
            .collect();
        self.stack.truncate(mark);
        fields
    }

    fn field_from_flat(
        &mut self,
        name: &str,
        flat: &Flat<'a>,
        required: bool,
        depth: usize,
    ) -> Field {
        let mark = self.stack.len();
        self.stack.extend(flat.refs.iter().copied());
        let field = self.convert(name, flat, required, depth);
        self.stack.truncate(mark);
        field
    }

    fn convert(&mut self, name: &str, flat: &Flat<'a>, required: bool, depth: usize) -> Field {
        let lname = name.to_ascii_lowercase();
        let description = flat.str_key("description").map(str::to_owned);
        let enum_values = flat.enum_values();
        let ty = flat.ty();

        let items_flat = match flat.get("items") {
            Some(items) if ty == Some("array") || ty.is_none() => {
                Some(self.flatten(items, depth + 1))
            }
            _ => None,
        };

        let kind = if enum_values.is_some() {
            FieldType::Enum
        } else if flat.custom.is_some() && ty != Some("object") {
            // A free string next to a custom object (the imgly seedream edit `image_size`).
            FieldType::String
        } else {
            match ty {
                Some("string") => {
                    if is_single_file(&lname, flat, description.as_deref()) {
                        FieldType::File
                    } else if is_long_text(&lname, flat) {
                        FieldType::Text
                    } else {
                        FieldType::String
                    }
                }
                Some("integer") => FieldType::Integer,
                Some("number") => FieldType::Number,
                Some("boolean") => FieldType::Boolean,
                Some("array") => {
                    let is_files = items_flat.as_ref().is_some_and(|items| {
                        is_file_list(&lname, flat, items, description.as_deref())
                    });
                    if is_files {
                        FieldType::Files
                    } else {
                        FieldType::Array
                    }
                }
                Some("object") => FieldType::Object,
                _ if !flat.properties.is_empty() => FieldType::Object,
                _ if items_flat.is_some() => FieldType::Array,
                // A `$ref` we could not follow almost always pointed at an object model.
                _ if flat.broken => FieldType::Object,
                _ => FieldType::String,
            }
        };

        let mut field = Field::new(name, kind);
        field.required = required;
        field.nullable = flat.nullable;
        field.default = flat.get("default").filter(|d| !d.is_null()).cloned();
        field.enum_values = enum_values;
        field.title = flat.str_key("title").map(str::to_owned);
        field.description = description;
        field.examples = examples_of(flat);
        apply_bounds(&mut field, flat);

        match kind {
            FieldType::File | FieldType::Files => {
                field.accept = Some(media_kind(&lname, field.description.as_deref()));
            }
            FieldType::Object => {
                field.fields = Some(self.object_fields(flat, depth)).filter(|f| !f.is_empty());
            }
            _ => {}
        }
        if let Some(custom) = &flat.custom {
            field.allow_custom = true;
            field.fields = Some(self.object_fields(custom, depth)).filter(|f| !f.is_empty());
        }
        if let Some(items) = items_flat {
            let mut item = self.field_from_flat("items", &items, false, depth + 1);
            if kind == FieldType::Files {
                item.kind = FieldType::File;
                item.accept = field.accept;
                item.group = group_of("items", &item);
            }
            if matches!(kind, FieldType::Files | FieldType::Array) {
                field.items = Some(Box::new(item));
            }
        }
        field.group = group_of(&lname, &field);
        field
    }
}

fn is_null_schema(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(ts)) => !ts.is_empty() && ts.iter().all(|t| t.as_str() == Some("null")),
        _ => false,
    }
}

fn examples_of(flat: &Flat<'_>) -> Option<Vec<Value>> {
    match flat.get("examples") {
        Some(Value::Array(list)) if !list.is_empty() => Some(list.clone()),
        // OpenAPI 3.0 spells a single example `example`.
        _ => flat.get("example").map(|e| vec![e.clone()]),
    }
}

fn as_count(value: Option<&Value>) -> Option<u64> {
    let v = value?;
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f <= u64::MAX as f64)
            .map(|f| f as u64)
    })
}

fn apply_bounds(field: &mut Field, flat: &Flat<'_>) {
    let num = |key: &str| flat.get(key).and_then(Value::as_f64);
    field.minimum = num("minimum");
    field.maximum = num("maximum");
    // OpenAPI 3.0 marks `minimum` itself exclusive with a boolean; 3.1 (and pydantic output
    // labelled 3.0, like fal's) gives the exclusive bound as a number.
    match flat.get("exclusiveMinimum") {
        Some(Value::Bool(true)) => field.exclusive_minimum = field.minimum.take(),
        Some(v) => field.exclusive_minimum = v.as_f64(),
        None => {}
    }
    match flat.get("exclusiveMaximum") {
        Some(Value::Bool(true)) => field.exclusive_maximum = field.maximum.take(),
        Some(v) => field.exclusive_maximum = v.as_f64(),
        None => {}
    }
    field.min_length = as_count(flat.get("minLength"));
    field.max_length = as_count(flat.get("maxLength"));
    field.min_items = as_count(flat.get("minItems"));
    field.max_items = as_count(flat.get("maxItems"));
}

const MEDIA_WORDS: [&str; 5] = ["image", "video", "audio", "mask", "frame"];
const URI_FORMATS: [&str; 3] = ["uri", "binary", "data-url"];

fn mentions_media(name: &str, description: Option<&str>) -> bool {
    let desc = description.unwrap_or_default().to_ascii_lowercase();
    MEDIA_WORDS
        .iter()
        .any(|w| name.contains(w) || desc.contains(w))
}

fn has_uri_format(flat: &Flat<'_>) -> bool {
    flat.str_key("format")
        .is_some_and(|f| URI_FORMATS.contains(&f))
}

fn is_single_file(name: &str, flat: &Flat<'_>, description: Option<&str>) -> bool {
    name.ends_with("_url") || (has_uri_format(flat) && mentions_media(name, description))
}

fn is_file_list(name: &str, flat: &Flat<'_>, items: &Flat<'_>, description: Option<&str>) -> bool {
    let string_items = items.ty() == Some("string");
    string_items
        && (name.ends_with("_urls")
            || ((has_uri_format(items) || has_uri_format(flat))
                && mentions_media(name, description)))
}

fn is_long_text(name: &str, flat: &Flat<'_>) -> bool {
    name.contains("prompt")
        || as_count(flat.get("maxLength")).is_some_and(|n| n > 200)
        || flat.str_key("format") == Some("textarea")
}

/// Video and audio words are checked before image words so that e.g. `reference_video_url`
/// is a video; the name decides before the description, which often mentions the output.
fn media_kind(name: &str, description: Option<&str>) -> MediaKind {
    fn classify(text: &str) -> Option<MediaKind> {
        if text.contains("video") {
            Some(MediaKind::Video)
        } else if ["audio", "speech", "voice", "music", "sound"]
            .iter()
            .any(|w| text.contains(w))
        {
            Some(MediaKind::Audio)
        } else if ["image", "frame", "mask", "reference", "photo", "picture"]
            .iter()
            .any(|w| text.contains(w))
        {
            Some(MediaKind::Image)
        } else {
            None
        }
    }
    classify(name)
        .or_else(|| description.and_then(|d| classify(&d.to_ascii_lowercase())))
        .unwrap_or(MediaKind::Any)
}

const MAIN_NAMES: [&str; 11] = [
    "prompt",
    "negative_prompt",
    "image_size",
    "aspect_ratio",
    "resolution",
    "duration",
    "num_images",
    "num_frames",
    "style",
    "text",
    "input",
];

fn group_of(name: &str, field: &Field) -> Group {
    if field.required
        || matches!(field.kind, FieldType::File | FieldType::Files)
        || MAIN_NAMES.contains(&name)
    {
        Group::Main
    } else {
        Group::Advanced
    }
}

fn output_kind_from_properties(properties: &[(&str, &Value)]) -> Option<OutputKind> {
    let names: Vec<String> = properties
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    let has = |wanted: &[&str]| names.iter().any(|n| wanted.contains(&n.as_str()));
    // 3D results often carry preview renders or turntable videos, and video results sometimes a
    // thumbnail image, so the rarer, more specific kinds are checked first.
    if names
        .iter()
        .any(|n| n.contains("mesh") || n.contains("glb") || n.contains("3d"))
    {
        Some(OutputKind::ThreeD)
    } else if has(&["video", "videos"]) {
        Some(OutputKind::Video)
    } else if has(&["images", "image"]) {
        Some(OutputKind::Image)
    } else if has(&["audio", "audio_file", "audio_url", "audios"]) {
        Some(OutputKind::Audio)
    } else if has(&["output", "text"]) {
        Some(OutputKind::Text)
    } else {
        None
    }
}

fn output_kind_from_category(category: &str) -> Option<OutputKind> {
    let c = category.to_ascii_lowercase();
    if c.ends_with("-to-image") || c == "image-to-image" {
        Some(OutputKind::Image)
    } else if c.ends_with("-to-video") {
        Some(OutputKind::Video)
    } else if c.ends_with("-to-audio") || c.ends_with("-to-speech") {
        Some(OutputKind::Audio)
    } else if c.ends_with("-to-3d") {
        Some(OutputKind::ThreeD)
    } else if c.ends_with("-to-text") {
        Some(OutputKind::Text)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Buckets
// ---------------------------------------------------------------------------------------------

fn url_stem(name: &str) -> &str {
    name.strip_suffix("_urls")
        .or_else(|| name.strip_suffix("_url"))
        .unwrap_or(name)
}

fn is_first_frame_name(n: &str) -> bool {
    [
        "first_frame",
        "start_frame",
        "first_image",
        "start_image",
        "initial_frame",
    ]
    .iter()
    .any(|w| n.contains(w))
}

fn is_last_frame_name(n: &str) -> bool {
    [
        "last_frame",
        "end_frame",
        "tail_frame",
        "final_frame",
        "last_image",
        "end_image",
        "tail_image",
    ]
    .iter()
    .any(|w| n.contains(w))
}

fn is_reference_name(n: &str) -> bool {
    n.contains("reference") || n.starts_with("ref_") || n.contains("_ref_")
}

fn is_plain_image_name(n: &str) -> bool {
    matches!(
        url_stem(n),
        "image" | "images" | "input_image" | "input_images" | "source_image" | "source_images"
    )
}

/// Lower is better when several reference lists compete.
fn reference_rank(n: &str) -> u8 {
    match url_stem(n) {
        "image" | "images" => 0,
        _ if is_reference_name(n) => 1,
        _ if is_plain_image_name(n) => 2,
        _ => 3,
    }
}

fn pick<'f>(used: &mut Vec<&'f str>, found: Option<&'f Field>) -> Option<BucketTarget> {
    found.map(|f| {
        used.push(&f.name);
        BucketTarget {
            field: f.name.clone(),
            multiple: f.kind == FieldType::Files,
        }
    })
}

fn derive_buckets(fields: &[Field], output: OutputKind, category: Option<&str>) -> Buckets {
    // Lowercased names of the fields a bucket may target: uploads, not video/audio, not masks.
    let candidates: Vec<(String, &Field)> = fields
        .iter()
        .filter(|f| matches!(f.kind, FieldType::File | FieldType::Files))
        .filter(|f| {
            matches!(
                f.accept,
                Some(MediaKind::Image) | Some(MediaKind::Any) | None
            )
        })
        .map(|f| (f.name.to_ascii_lowercase(), f))
        .filter(|(n, _)| !n.contains("mask"))
        .collect();
    let mut used: Vec<&str> = Vec::new();
    let free = |used: &[&str], f: &Field| !used.contains(&f.name.as_str());
    let is_image = |f: &Field| f.accept == Some(MediaKind::Image);

    let storyboard = candidates
        .iter()
        .find(|(n, _)| n.contains("storyboard"))
        .map(|(_, f)| *f);
    let storyboard_reference = pick(&mut used, storyboard);

    let last = candidates
        .iter()
        .find(|(n, f)| free(&used, f) && is_last_frame_name(n))
        .map(|(_, f)| *f);
    let last_frame = pick(&mut used, last);

    let video_endpoint = output == OutputKind::Video
        || category.is_some_and(|c| c.eq_ignore_ascii_case("image-to-video"));
    let mut first = candidates
        .iter()
        .find(|(n, f)| free(&used, f) && is_first_frame_name(n))
        .map(|(_, f)| *f);
    if first.is_none() && video_endpoint {
        // An image-to-video model's lone input image is its first frame, whatever it is called.
        let singles: Vec<&Field> = candidates
            .iter()
            .filter(|(n, f)| {
                free(&used, f)
                    && f.kind == FieldType::File
                    && is_image(f)
                    && !is_reference_name(n)
                    && !n.contains("storyboard")
            })
            .map(|(_, f)| *f)
            .collect();
        first = singles
            .iter()
            .find(|f| is_plain_image_name(&f.name.to_ascii_lowercase()))
            .copied()
            .or(match singles.as_slice() {
                [only] => Some(*only),
                _ => None,
            });
    }
    let first_frame = pick(&mut used, first);

    let general_ok = |n: &str, f: &Field| {
        is_image(f)
            && !is_first_frame_name(n)
            && !is_last_frame_name(n)
            && !n.contains("storyboard")
            && (is_reference_name(n) || is_plain_image_name(n))
    };
    let list = candidates
        .iter()
        .filter(|(n, f)| f.kind == FieldType::Files && free(&used, f) && general_ok(n, f))
        .min_by_key(|(n, _)| reference_rank(n))
        .map(|(_, f)| *f);
    let single = || {
        let singles = || {
            candidates
                .iter()
                .filter(|(n, f)| f.kind == FieldType::File && free(&used, f) && general_ok(n, f))
        };
        singles()
            .find(|(n, _)| is_reference_name(n))
            .or_else(|| singles().find(|_| output == OutputKind::Image))
            .map(|(_, f)| *f)
    };
    let general = list.or_else(single);
    let general_references = pick(&mut used, general);

    Buckets {
        general_references,
        first_frame,
        last_frame,
        storyboard_reference,
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

pub fn validate_params(spec: &Spec, params: &Map<String, Value>) -> Vec<FieldIssue> {
    let mut issues: Vec<FieldIssue> = spec
        .fields
        .iter()
        .filter_map(|field| {
            check_field(field, params.get(&field.name)).map(|message| FieldIssue {
                field: field.name.clone(),
                message,
            })
        })
        .collect();
    issues.extend(
        params
            .keys()
            .filter(|key| spec.field(key).is_none())
            .map(|key| FieldIssue {
                field: key.clone(),
                message: "not a parameter of this model".to_owned(),
            }),
    );
    issues
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The first problem with one field's value, as a short sentence without the field name.
fn check_field(field: &Field, value: Option<&Value>) -> Option<String> {
    let Some(value) = value else {
        return field.required.then(|| "is required".to_owned());
    };
    if value.is_null() && field.nullable {
        return None;
    }
    if field.required && is_blank(value) {
        return Some("is required".to_owned());
    }
    check_value(field, value, 0)
}

fn check_value(field: &Field, value: &Value, depth: usize) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    if value.is_null() && field.nullable {
        return None;
    }
    match field.kind {
        FieldType::Integer => match value.as_f64() {
            Some(n) if n.fract() == 0.0 => check_range(field, n),
            _ => Some("must be a whole number".to_owned()),
        },
        FieldType::Number => match value.as_f64() {
            Some(n) => check_range(field, n),
            None => Some("must be a number".to_owned()),
        },
        FieldType::Boolean => (!value.is_boolean()).then(|| "must be true or false".to_owned()),
        FieldType::String | FieldType::Text => match value {
            Value::String(s) => check_length(field, s),
            Value::Object(obj) if field.allow_custom => check_object(field, obj, depth),
            _ => Some("must be text".to_owned()),
        },
        FieldType::File => match value.as_str() {
            Some(s) => check_file(field, s),
            None => Some("must be a file URL".to_owned()),
        },
        FieldType::Files => {
            let Some(list) = value.as_array() else {
                return Some("must be a list of file URLs".to_owned());
            };
            if list.iter().any(|v| !v.is_string()) {
                return Some("must be a list of file URLs".to_owned());
            }
            check_count(field, list.len()).or_else(|| {
                list.iter()
                    .filter_map(Value::as_str)
                    .find_map(|s| check_file(field, s))
            })
        }
        FieldType::Enum => {
            let listed = field
                .enum_values
                .iter()
                .flatten()
                .any(|v| same_value(v, value));
            if listed {
                None
            } else if let (true, Some(obj)) = (field.allow_custom, value.as_object()) {
                check_object(field, obj, depth)
            } else {
                Some(enum_message(field))
            }
        }
        FieldType::Array => {
            let Some(list) = value.as_array() else {
                return Some("must be a list".to_owned());
            };
            check_count(field, list.len()).or_else(|| {
                let items = field.items.as_deref()?;
                list.iter().enumerate().find_map(|(i, item)| {
                    check_value(items, item, depth + 1)
                        .map(|m| format!("item {} {m}", i.saturating_add(1)))
                })
            })
        }
        FieldType::Object => match value.as_object() {
            Some(obj) => check_object(field, obj, depth),
            None => Some("must be an object".to_owned()),
        },
    }
}

fn check_object(field: &Field, obj: &Map<String, Value>, depth: usize) -> Option<String> {
    field.fields.iter().flatten().find_map(|nested| {
        let problem = match obj.get(&nested.name) {
            None if nested.required => Some("is required".to_owned()),
            None => None,
            Some(v) if v.is_null() && nested.nullable => None,
            Some(v) if nested.required && is_blank(v) => Some("is required".to_owned()),
            Some(v) => check_value(nested, v, depth + 1),
        };
        problem.map(|m| format!("{} {m}", nested.name))
    })
}

fn check_file(field: &Field, url: &str) -> Option<String> {
    if url.trim().is_empty() {
        return Some("must be a file URL".to_owned());
    }
    // Inline `data:` URIs are far longer than the URL limits fal states (kling's 2083), and fal
    // accepts them anyway; we upload those before submitting.
    if url.starts_with("data:") {
        return None;
    }
    check_length(field, url)
}

fn check_range(field: &Field, n: f64) -> Option<String> {
    if let Some(min) = field.minimum
        && n < min
    {
        return Some(format!("must be at least {min}"));
    }
    if let Some(max) = field.maximum
        && n > max
    {
        return Some(format!("must be at most {max}"));
    }
    if let Some(min) = field.exclusive_minimum
        && n <= min
    {
        return Some(format!("must be greater than {min}"));
    }
    if let Some(max) = field.exclusive_maximum
        && n >= max
    {
        return Some(format!("must be less than {max}"));
    }
    None
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn check_length(field: &Field, s: &str) -> Option<String> {
    let len = u64::try_from(s.chars().count()).unwrap_or(u64::MAX);
    if let Some(min) = field.min_length
        && len < min
    {
        return Some(format!(
            "must be at least {} long",
            plural(min, "character")
        ));
    }
    if let Some(max) = field.max_length
        && len > max
    {
        return Some(format!("must be at most {} long", plural(max, "character")));
    }
    None
}

fn check_count(field: &Field, len: usize) -> Option<String> {
    let len = u64::try_from(len).unwrap_or(u64::MAX);
    if let Some(min) = field.min_items
        && len < min
    {
        return Some(format!("must have at least {}", plural(min, "item")));
    }
    if let Some(max) = field.max_items
        && len > max
    {
        return Some(format!("must have at most {}", plural(max, "item")));
    }
    None
}

/// `5` and `5.0` are the same choice to a person typing a number.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn enum_message(field: &Field) -> String {
    let choices: Vec<String> = field
        .enum_values
        .iter()
        .flatten()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let mut message = format!("must be one of: {}", choices.join(", "));
    if field.allow_custom {
        let names: Vec<&str> = field
            .fields
            .iter()
            .flatten()
            .map(|f| f.name.as_str())
            .collect();
        if !names.is_empty() {
            message.push_str(&format!(", or a custom {}", names.join(" and ")));
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    macro_rules! fixture {
        ($file:literal) => {
            serde_json::from_str::<Value>(include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/fixtures/fal-schemas/",
                $file,
                ".json"
            )))
            .unwrap()
        };
    }

    const SEEDREAM_T2I: &str = "fal-ai/bytedance/seedream/v4/text-to-image";
    const SEEDREAM_EDIT: &str = "fal-ai/bytedance/seedream/v4/edit";
    const NANO_BANANA_EDIT: &str = "fal-ai/nano-banana/edit";
    const KONTEXT: &str = "fal-ai/flux-pro/kontext";
    const KLING: &str = "fal-ai/kling-video/v2.1/master/image-to-video";
    const HAILUO: &str = "fal-ai/minimax/hailuo-02/standard/image-to-video";
    const VEO31_FLF: &str = "fal-ai/veo3.1/first-last-frame-to-video";
    const VEO3: &str = "fal-ai/veo3";

    fn real_documents() -> Vec<(&'static str, Value)> {
        vec![
            (
                SEEDREAM_T2I,
                fixture!("fal-ai__bytedance__seedream__v4__text-to-image"),
            ),
            (
                SEEDREAM_EDIT,
                fixture!("fal-ai__bytedance__seedream__v4__edit"),
            ),
            (NANO_BANANA_EDIT, fixture!("fal-ai__nano-banana__edit")),
            (KONTEXT, fixture!("fal-ai__flux-pro__kontext")),
            (
                KLING,
                fixture!("fal-ai__kling-video__v2.1__master__image-to-video"),
            ),
            (
                HAILUO,
                fixture!("fal-ai__minimax__hailuo-02__standard__image-to-video"),
            ),
            (
                VEO31_FLF,
                fixture!("fal-ai__veo3.1__first-last-frame-to-video"),
            ),
            (VEO3, fixture!("fal-ai__veo3")),
        ]
    }

    fn real(id: &str) -> Spec {
        let (_, doc) = real_documents()
            .into_iter()
            .find(|(i, _)| *i == id)
            .unwrap();
        derive_spec(id, &doc, None).unwrap()
    }

    fn names(spec: &Spec) -> Vec<&str> {
        spec.fields.iter().map(|f| f.name.as_str()).collect()
    }

    fn required(spec: &Spec) -> Vec<&str> {
        spec.fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name.as_str())
            .collect()
    }

    fn field<'s>(spec: &'s Spec, name: &str) -> &'s Field {
        spec.field(name)
            .unwrap_or_else(|| panic!("no field {name} in {:?}", names(spec)))
    }

    fn target(field: &str, multiple: bool) -> Option<BucketTarget> {
        Some(BucketTarget {
            field: field.to_owned(),
            multiple,
        })
    }

    fn strings(values: &[&str]) -> Option<Vec<Value>> {
        Some(values.iter().map(|v| json!(v)).collect())
    }

    const TEST_ID: &str = "acme/model";

    /// A minimal fal-shaped document for `acme/model` with the given input and output schemas.
    fn synthetic(input: Value, output: Value, schemas: Value, category: Option<&str>) -> Value {
        let mut info = json!({"title": "test"});
        if let Some(c) = category {
            info["x-fal-metadata"] = json!({"endpointId": TEST_ID, "category": c});
        }
        json!({
            "openapi": "3.0.4",
            "info": info,
            "components": {"schemas": schemas},
            "paths": {
                "/acme/model/requests/{request_id}/status": {"get": {"responses": {}}},
                "/acme/model/requests/{request_id}/cancel": {"put": {"responses": {}}},
                "/acme/model": {"post": {"requestBody": {"content": {
                    "application/json": {"schema": input}}}}},
                "/acme/model/requests/{request_id}": {"get": {"responses": {"200": {"content": {
                    "application/json": {"schema": output}}}}}}
            }
        })
    }

    fn image_output() -> Value {
        json!({"type": "object", "properties": {"images": {"type": "array", "items": {"type": "object"}}}})
    }

    fn video_output() -> Value {
        json!({"type": "object", "properties": {"video": {"type": "object"}}})
    }

    fn synthetic_spec(properties: Value, output: Value) -> Spec {
        let input = json!({"type": "object", "properties": properties});
        derive_spec(TEST_ID, &synthetic(input, output, json!({}), None), None).unwrap()
    }

    fn url_props(names: &[&str]) -> Value {
        let mut props = Map::new();
        props.insert("prompt".into(), json!({"type": "string"}));
        for n in names {
            let schema = if n.ends_with("_urls") {
                json!({"type": "array", "items": {"type": "string"}})
            } else {
                json!({"type": "string"})
            };
            props.insert((*n).to_owned(), schema);
        }
        Value::Object(props)
    }

    // ---- the eight real documents ------------------------------------------------------------

    #[test]
    fn seedream_text_to_image_follows_the_documented_order_and_has_no_buckets() {
        let spec = real(SEEDREAM_T2I);
        assert_eq!(
            names(&spec),
            [
                "prompt",
                "image_size",
                "num_images",
                "max_images",
                "seed",
                "sync_mode",
                "enable_safety_checker"
            ]
        );
        assert_eq!(required(&spec), ["prompt"]);
        assert_eq!(spec.output_kind, OutputKind::Image);
        assert_eq!(spec.category.as_deref(), Some("text-to-image"));
        assert_eq!(spec.buckets, Buckets::default());

        let prompt = field(&spec, "prompt");
        assert_eq!(prompt.kind, FieldType::Text);
        assert_eq!(prompt.group, Group::Main);
        assert_eq!(prompt.title.as_deref(), Some("Prompt"));
        assert_eq!(prompt.examples.as_ref().map(Vec::len), Some(1));

        let size = field(&spec, "image_size");
        assert_eq!(size.kind, FieldType::Enum);
        assert!(size.allow_custom);
        assert_eq!(
            size.enum_values,
            strings(&[
                "square_hd",
                "square",
                "portrait_4_3",
                "portrait_16_9",
                "landscape_4_3",
                "landscape_16_9",
                "auto",
                "auto_2K",
                "auto_4K"
            ])
        );
        assert_eq!(size.default, Some(json!({"height": 2048, "width": 2048})));
        assert_eq!(size.group, Group::Main);
        assert!(!size.nullable);
        let custom = size.fields.as_ref().unwrap();
        let custom_names: Vec<&str> = custom.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(custom_names, ["width", "height"]);
        for f in custom {
            assert_eq!(f.kind, FieldType::Integer);
            assert_eq!(f.maximum, Some(14142.0));
            assert_eq!(f.exclusive_minimum, Some(0.0));
            assert_eq!(f.minimum, None);
            assert_eq!(f.default, Some(json!(512)));
        }

        let num = field(&spec, "num_images");
        assert_eq!(
            (
                num.kind,
                num.minimum,
                num.maximum,
                num.default.clone(),
                num.group
            ),
            (
                FieldType::Integer,
                Some(1.0),
                Some(6.0),
                Some(json!(1)),
                Group::Main
            )
        );
        assert_eq!(field(&spec, "max_images").group, Group::Advanced);
        let seed = field(&spec, "seed");
        assert_eq!(
            (seed.kind, seed.group, seed.default.clone()),
            (FieldType::Integer, Group::Advanced, None)
        );
        let sync = field(&spec, "sync_mode");
        assert_eq!(
            (sync.kind, sync.default.clone()),
            (FieldType::Boolean, Some(json!(false)))
        );
        let safety = field(&spec, "enable_safety_checker");
        assert_eq!(safety.default, Some(json!(true)));
        assert_eq!(safety.examples, Some(vec![json!(true)]));
        assert_eq!(safety.group, Group::Advanced);
    }

    #[test]
    fn seedream_edit_sends_references_to_its_required_list_not_the_extra_single_url() {
        let spec = real(SEEDREAM_EDIT);
        assert_eq!(
            names(&spec),
            [
                "image_url",
                "prompt",
                "image_urls",
                "num_images",
                "image_size",
                "max_images",
                "seed",
                "sync_mode",
                "enable_safety_checker"
            ]
        );
        assert_eq!(required(&spec), ["prompt", "image_urls"]);
        assert_eq!(spec.output_kind, OutputKind::Image);
        assert_eq!(spec.category, None);

        let prompt = field(&spec, "prompt");
        assert_eq!(
            (prompt.kind, prompt.min_length, prompt.max_length),
            (FieldType::Text, Some(1), Some(5000))
        );

        let single = field(&spec, "image_url");
        assert_eq!(
            (single.kind, single.accept, single.group, single.required),
            (FieldType::File, Some(MediaKind::Image), Group::Main, false)
        );
        let list = field(&spec, "image_urls");
        assert_eq!(
            (list.kind, list.accept, list.max_items),
            (FieldType::Files, Some(MediaKind::Image), Some(10))
        );
        assert_eq!(list.items.as_ref().map(|i| i.kind), Some(FieldType::File));

        // The imgly copy makes image_size `oneOf [free string, {width, height}]` with no presets.
        let size = field(&spec, "image_size");
        assert_eq!(size.kind, FieldType::String);
        assert!(size.allow_custom);
        assert_eq!(size.enum_values, None);
        assert_eq!(size.default, None);
        let custom = size.fields.as_ref().unwrap();
        assert_eq!(custom.len(), 2);
        assert_eq!(custom[0].name, "width");
        assert_eq!(
            (custom[0].minimum, custom[0].maximum, custom[0].required),
            (Some(256.0), Some(4096.0), true)
        );
        assert_eq!(custom[1].name, "height");

        assert_eq!(spec.buckets.general_references, target("image_urls", true));
        assert_eq!(spec.buckets.first_frame, None);
        assert_eq!(spec.buckets.last_frame, None);
        assert_eq!(spec.buckets.storyboard_reference, None);
    }

    #[test]
    fn nano_banana_edit_prefers_the_image_list() {
        let spec = real(NANO_BANANA_EDIT);
        assert_eq!(
            names(&spec),
            [
                "image_url",
                "prompt",
                "image_urls",
                "strength",
                "guidance_scale",
                "num_inference_steps",
                "seed"
            ]
        );
        assert_eq!(required(&spec), ["prompt"]);
        assert_eq!(spec.output_kind, OutputKind::Image);
        let list = field(&spec, "image_urls");
        assert_eq!(
            (list.kind, list.min_items, list.max_items),
            (FieldType::Files, Some(1), Some(10))
        );
        let strength = field(&spec, "strength");
        assert_eq!(
            (
                strength.kind,
                strength.minimum,
                strength.maximum,
                strength.default.clone(),
                strength.group
            ),
            (
                FieldType::Number,
                Some(0.0),
                Some(1.0),
                Some(json!(0.75)),
                Group::Advanced
            )
        );
        let steps = field(&spec, "num_inference_steps");
        assert_eq!(
            (
                steps.kind,
                steps.minimum,
                steps.maximum,
                steps.default.clone(),
                steps.group
            ),
            (
                FieldType::Integer,
                Some(1.0),
                Some(100.0),
                Some(json!(20)),
                Group::Advanced
            )
        );
        assert_eq!(field(&spec, "guidance_scale").default, Some(json!(7.5)));
        assert_eq!(spec.buckets.general_references, target("image_urls", true));
        assert_eq!(spec.buckets.first_frame, None);
    }

    #[test]
    fn flux_kontext_uses_the_submit_paths_schema_and_its_single_image() {
        let spec = real(KONTEXT);
        assert_eq!(
            names(&spec),
            [
                "image_url",
                "prompt",
                "aspect_ratio",
                "num_images",
                "output_format",
                "sync_mode",
                "safety_tolerance",
                "guidance_scale",
                "seed"
            ]
        );
        assert_eq!(required(&spec), ["image_url", "prompt"]);
        assert_eq!(spec.output_kind, OutputKind::Image);
        assert_eq!(spec.category.as_deref(), Some("image-to-image"));

        let prompt = field(&spec, "prompt");
        assert_eq!(
            (prompt.kind, prompt.min_length, prompt.max_length),
            (FieldType::Text, Some(3), Some(5000))
        );
        let image = field(&spec, "image_url");
        assert_eq!(
            (image.kind, image.accept, image.required),
            (FieldType::File, Some(MediaKind::Image), true)
        );
        let ratio = field(&spec, "aspect_ratio");
        assert_eq!(ratio.kind, FieldType::Enum);
        assert_eq!(
            ratio.enum_values,
            strings(&[
                "21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21"
            ])
        );
        assert_eq!((ratio.default.clone(), ratio.group), (None, Group::Main));
        let format = field(&spec, "output_format");
        assert_eq!(format.enum_values, strings(&["jpeg", "png"]));
        assert_eq!(
            (format.default.clone(), format.group),
            (Some(json!("jpeg")), Group::Advanced)
        );
        let tolerance = field(&spec, "safety_tolerance");
        assert_eq!(
            tolerance.enum_values,
            strings(&["1", "2", "3", "4", "5", "6"])
        );
        assert_eq!(tolerance.default, Some(json!("2")));
        let cfg = field(&spec, "guidance_scale");
        assert_eq!(
            (
                cfg.kind,
                cfg.minimum,
                cfg.maximum,
                cfg.default.clone(),
                cfg.title.as_deref()
            ),
            (
                FieldType::Number,
                Some(1.0),
                Some(20.0),
                Some(json!(3.5)),
                Some("Guidance scale (CFG)")
            )
        );
        assert_eq!(field(&spec, "num_images").maximum, Some(4.0));

        assert_eq!(spec.buckets.general_references, target("image_url", false));
        assert_eq!(spec.buckets.first_frame, None);
    }

    #[test]
    fn kling_image_to_video_takes_its_image_as_first_frame() {
        let spec = real(KLING);
        assert_eq!(
            names(&spec),
            [
                "image_url",
                "prompt",
                "duration",
                "cfg_scale",
                "negative_prompt"
            ]
        );
        assert_eq!(required(&spec), ["image_url", "prompt"]);
        // No x-fal-metadata in this copy: the kind comes from the result schema alone.
        assert_eq!(spec.category, None);
        assert_eq!(spec.output_kind, OutputKind::Video);

        let image = field(&spec, "image_url");
        assert_eq!(
            (image.kind, image.accept, image.min_length, image.max_length),
            (FieldType::File, Some(MediaKind::Image), Some(1), Some(2083))
        );
        let duration = field(&spec, "duration");
        assert_eq!(duration.enum_values, strings(&["5", "10"]));
        assert_eq!(
            (duration.default.clone(), duration.group),
            (Some(json!("5")), Group::Main)
        );
        let cfg = field(&spec, "cfg_scale");
        assert_eq!(
            (cfg.minimum, cfg.maximum, cfg.default.clone(), cfg.group),
            (Some(0.0), Some(1.0), Some(json!(0.5)), Group::Advanced)
        );
        let negative = field(&spec, "negative_prompt");
        assert_eq!(
            (
                negative.kind,
                negative.max_length,
                negative.default.clone(),
                negative.group
            ),
            (
                FieldType::Text,
                Some(2500),
                Some(json!("blur, distort, and low quality")),
                Group::Main
            )
        );

        assert_eq!(spec.buckets.first_frame, target("image_url", false));
        assert_eq!(spec.buckets.general_references, None);
        assert_eq!(spec.buckets.last_frame, None);
    }

    #[test]
    fn hailuo_image_to_video_takes_its_image_as_first_frame() {
        let spec = real(HAILUO);
        assert_eq!(
            names(&spec),
            [
                "image_url",
                "prompt",
                "duration",
                "resolution",
                "prompt_optimizer"
            ]
        );
        assert_eq!(required(&spec), ["image_url", "prompt"]);
        assert_eq!(spec.output_kind, OutputKind::Video);
        assert_eq!(spec.category.as_deref(), Some("image-to-video"));
        // A boolean whose name contains "prompt" is still a boolean.
        let optimizer = field(&spec, "prompt_optimizer");
        assert_eq!(
            (optimizer.kind, optimizer.default.clone(), optimizer.group),
            (FieldType::Boolean, Some(json!(true)), Group::Advanced)
        );
        let resolution = field(&spec, "resolution");
        assert_eq!(resolution.enum_values, strings(&["512P", "768P"]));
        assert_eq!(
            (resolution.default.clone(), resolution.group),
            (Some(json!("768P")), Group::Main)
        );
        assert_eq!(field(&spec, "duration").enum_values, strings(&["6", "10"]));
        assert_eq!(field(&spec, "prompt").max_length, Some(2000));
        assert_eq!(spec.buckets.first_frame, target("image_url", false));
        assert_eq!(spec.buckets.general_references, None);
    }

    #[test]
    fn veo31_first_last_frame_maps_both_frames() {
        let spec = real(VEO31_FLF);
        // `duration` is missing from x-fal-order-properties, so it comes last.
        assert_eq!(
            names(&spec),
            [
                "first_frame_url",
                "last_frame_url",
                "prompt",
                "aspect_ratio",
                "resolution",
                "generate_audio",
                "duration"
            ]
        );
        assert_eq!(
            required(&spec),
            ["first_frame_url", "last_frame_url", "prompt"]
        );
        assert_eq!(spec.output_kind, OutputKind::Video);
        for name in ["first_frame_url", "last_frame_url"] {
            let f = field(&spec, name);
            assert_eq!(
                (f.kind, f.accept, f.group),
                (FieldType::File, Some(MediaKind::Image), Group::Main),
                "{name}"
            );
        }
        let ratio = field(&spec, "aspect_ratio");
        assert_eq!(ratio.enum_values, strings(&["auto", "9:16", "16:9", "1:1"]));
        assert_eq!(ratio.default, Some(json!("auto")));
        let duration = field(&spec, "duration");
        assert_eq!(duration.enum_values, strings(&["8s", "16s"]));
        assert_eq!(duration.default, Some(json!("8s")));
        let audio = field(&spec, "generate_audio");
        assert_eq!(
            (audio.kind, audio.default.clone(), audio.group),
            (FieldType::Boolean, Some(json!(false)), Group::Advanced)
        );

        assert_eq!(spec.buckets.first_frame, target("first_frame_url", false));
        assert_eq!(spec.buckets.last_frame, target("last_frame_url", false));
        assert_eq!(spec.buckets.general_references, None);
        assert_eq!(spec.buckets.storyboard_reference, None);
    }

    #[test]
    fn veo3_text_to_video_skips_order_names_that_are_not_properties() {
        let spec = real(VEO3);
        assert_eq!(
            names(&spec),
            ["prompt", "aspect_ratio", "duration", "generate_audio"]
        );
        assert_eq!(required(&spec), ["prompt"]);
        assert_eq!(spec.output_kind, OutputKind::Video);
        assert_eq!(spec.category.as_deref(), Some("text-to-video"));
        assert_eq!(spec.buckets, Buckets::default());
        let duration = field(&spec, "duration");
        assert_eq!(duration.kind, FieldType::Enum);
        assert_eq!(duration.enum_values, strings(&["8s"]));
        assert_eq!(
            field(&spec, "aspect_ratio").enum_values,
            strings(&["16:9", "9:16", "1:1"])
        );
        assert_eq!(field(&spec, "generate_audio").default, Some(json!(true)));
        assert_eq!(field(&spec, "prompt").min_length, Some(1));
    }

    #[test]
    fn the_catalog_category_wins_over_the_documents() {
        let (_, doc) = real_documents()
            .into_iter()
            .find(|(i, _)| *i == KONTEXT)
            .unwrap();
        let spec = derive_spec(KONTEXT, &doc, Some("image-editing")).unwrap();
        assert_eq!(spec.category.as_deref(), Some("image-editing"));
        let spec = derive_spec(KONTEXT, &doc, Some("")).unwrap();
        assert_eq!(spec.category.as_deref(), Some("image-to-image"));
    }

    #[test]
    fn the_spec_serializes_in_the_documented_wire_shape() {
        let spec = real(SEEDREAM_T2I);
        let wire = serde_json::to_value(&spec).unwrap();
        assert_eq!(wire["endpointId"], json!(SEEDREAM_T2I));
        assert_eq!(wire["outputKind"], json!("image"));
        assert_eq!(wire["buckets"], json!({}));
        let size = &wire["fields"][1];
        assert_eq!(size["type"], json!("enum"));
        assert_eq!(size["allowCustom"], json!(true));
        assert_eq!(size["enum"][0], json!("square_hd"));
        assert_eq!(size["group"], json!("main"));
        assert_eq!(size["fields"][0]["exclusiveMinimum"], json!(0.0));
        let prompt = wire["fields"][0].as_object().unwrap();
        assert!(!prompt.contains_key("allowCustom"));
        assert!(!prompt.contains_key("default"));
        assert!(!prompt.contains_key("fields"));
        assert_eq!(prompt["required"], json!(true));
        assert_eq!(prompt["nullable"], json!(false));

        let video = serde_json::to_value(real(VEO31_FLF)).unwrap();
        assert_eq!(
            video["buckets"],
            json!({"firstFrame": {"field": "first_frame_url", "multiple": false},
                   "lastFrame": {"field": "last_frame_url", "multiple": false}})
        );
        assert_eq!(
            serde_json::to_value(OutputKind::ThreeD).unwrap(),
            json!("3d")
        );
        let back: Spec = serde_json::from_value(video).unwrap();
        assert_eq!(back, real(VEO31_FLF));
    }

    #[test]
    fn bucket_lookup_uses_the_wire_names() {
        let spec = real(VEO31_FLF);
        assert_eq!(
            spec.bucket("firstFrame").map(|b| b.field.as_str()),
            Some("first_frame_url")
        );
        assert_eq!(
            spec.bucket("lastFrame").map(|b| b.field.as_str()),
            Some("last_frame_url")
        );
        assert_eq!(spec.bucket("generalReferences"), None);
        assert_eq!(spec.bucket("first_frame"), None);
        for name in Spec::BUCKET_NAMES {
            let _ = spec.bucket(name);
        }
        assert_eq!(Spec::BUCKET_NAMES.len(), 4);
    }

    #[test]
    fn serde_json_keeps_document_order() {
        // Without serde_json's `preserve_order` feature, properties missing from
        // x-fal-order-properties would come out alphabetically instead of as fal wrote them.
        let map: Map<String, Value> = serde_json::from_str(r#"{"b": 1, "a": 2}"#).unwrap();
        assert_eq!(
            map.keys().collect::<Vec<_>>(),
            ["b", "a"],
            "enable serde_json's preserve_order feature"
        );
    }

    // ---- synthetic documents -------------------------------------------------------------

    #[test]
    fn start_and_end_images_are_first_and_last_frames() {
        let spec = synthetic_spec(
            url_props(&["start_image_url", "end_image_url"]),
            video_output(),
        );
        assert_eq!(spec.buckets.first_frame, target("start_image_url", false));
        assert_eq!(spec.buckets.last_frame, target("end_image_url", false));
        assert_eq!(spec.buckets.general_references, None);
    }

    #[test]
    fn a_tail_image_is_the_last_frame_and_the_plain_image_the_first() {
        let spec = synthetic_spec(url_props(&["image_url", "tail_image_url"]), video_output());
        assert_eq!(spec.buckets.first_frame, target("image_url", false));
        assert_eq!(spec.buckets.last_frame, target("tail_image_url", false));
    }

    #[test]
    fn reference_lists_are_general_references_even_on_video_models() {
        let spec = synthetic_spec(
            url_props(&["image_url", "reference_image_urls"]),
            video_output(),
        );
        assert_eq!(spec.buckets.first_frame, target("image_url", false));
        assert_eq!(
            spec.buckets.general_references,
            target("reference_image_urls", true)
        );
        assert_eq!(
            field(&spec, "reference_image_urls").accept,
            Some(MediaKind::Image)
        );

        let spec = synthetic_spec(url_props(&["ref_image_urls"]), image_output());
        assert_eq!(
            spec.buckets.general_references,
            target("ref_image_urls", true)
        );
    }

    #[test]
    fn input_image_lists_are_general_references() {
        let spec = synthetic_spec(url_props(&["input_image_urls"]), image_output());
        assert_eq!(
            spec.buckets.general_references,
            target("input_image_urls", true)
        );
        assert_eq!(field(&spec, "input_image_urls").kind, FieldType::Files);
    }

    #[test]
    fn video_audio_and_mask_inputs_stay_plain_files() {
        let spec = synthetic_spec(
            url_props(&["image_url", "mask_url", "video_url", "audio_url"]),
            image_output(),
        );
        let kinds: Vec<(FieldType, Option<MediaKind>)> = ["mask_url", "video_url", "audio_url"]
            .iter()
            .map(|n| (field(&spec, n).kind, field(&spec, n).accept))
            .collect();
        assert_eq!(
            kinds,
            [
                (FieldType::File, Some(MediaKind::Image)),
                (FieldType::File, Some(MediaKind::Video)),
                (FieldType::File, Some(MediaKind::Audio))
            ]
        );
        assert_eq!(spec.buckets.general_references, target("image_url", false));
        assert_eq!(spec.buckets.first_frame, None);

        // A video-to-video or lipsync model has nothing a bucket could hold.
        let spec = synthetic_spec(
            url_props(&["video_url", "audio_url", "mask_url"]),
            video_output(),
        );
        assert_eq!(spec.buckets, Buckets::default());
    }

    #[test]
    fn storyboards_get_their_own_bucket() {
        let spec = synthetic_spec(
            url_props(&["storyboard_image_urls", "image_urls"]),
            video_output(),
        );
        assert_eq!(
            spec.buckets.storyboard_reference,
            target("storyboard_image_urls", true)
        );
        assert_eq!(spec.buckets.general_references, target("image_urls", true));
        assert_eq!(spec.buckets.first_frame, None);
    }

    #[test]
    fn each_field_lands_in_at_most_one_bucket() {
        let spec = synthetic_spec(url_props(&["first_frame_url", "image_url"]), video_output());
        assert_eq!(spec.buckets.first_frame, target("first_frame_url", false));
        // image_url is neither a frame nor (on a video model) a reference.
        assert_eq!(spec.buckets.general_references, None);
        let used: Vec<String> = Spec::BUCKET_NAMES
            .iter()
            .filter_map(|b| spec.bucket(b).map(|t| t.field.clone()))
            .collect();
        assert_eq!(used, ["first_frame_url"]);
    }

    #[test]
    fn the_image_to_video_category_alone_makes_the_image_a_first_frame() {
        let input = json!({"type": "object", "properties": url_props(&["image_url"])});
        let doc = synthetic(input, json!({"type": "object"}), json!({}), None);
        let spec = derive_spec(TEST_ID, &doc, Some("image-to-video")).unwrap();
        assert_eq!(spec.output_kind, OutputKind::Video);
        assert_eq!(spec.buckets.first_frame, target("image_url", false));
    }

    #[test]
    fn uri_formatted_strings_about_media_are_files() {
        let spec = synthetic_spec(
            json!({
                "source": {"type": "string", "format": "uri", "description": "The photo frame to upscale"},
                "clips": {"type": "array", "items": {"type": "string", "format": "uri"}, "description": "Video clips"},
                "homepage": {"type": "string", "format": "uri", "description": "A link"},
                "callback_url": {"type": "string"}
            }),
            image_output(),
        );
        assert_eq!(
            (field(&spec, "source").kind, field(&spec, "source").accept),
            (FieldType::File, Some(MediaKind::Image))
        );
        assert_eq!(
            (field(&spec, "clips").kind, field(&spec, "clips").accept),
            (FieldType::Files, Some(MediaKind::Video))
        );
        assert_eq!(field(&spec, "homepage").kind, FieldType::String);
        // Every `*_url` is a file; with no media word it accepts anything.
        assert_eq!(field(&spec, "callback_url").accept, Some(MediaKind::Any));
    }

    #[test]
    fn long_or_prompt_strings_are_text_others_are_strings() {
        let spec = synthetic_spec(
            json!({
                "style": {"type": "string", "maxLength": 50},
                "lyrics": {"type": "string", "maxLength": 3000},
                "notes": {"type": "string", "format": "textarea"},
                "system_prompt": {"type": "string"},
                "voice_id": {"type": "string", "maxLength": 200}
            }),
            image_output(),
        );
        let kinds: Vec<FieldType> = spec.fields.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                FieldType::String,
                FieldType::Text,
                FieldType::Text,
                FieldType::Text,
                FieldType::String
            ]
        );
        assert_eq!(field(&spec, "style").group, Group::Main);
        assert_eq!(field(&spec, "voice_id").group, Group::Advanced);
    }

    #[test]
    fn a_nullable_enum_keeps_its_choices() {
        let spec = synthetic_spec(
            json!({
                "acceleration": {"anyOf": [{"enum": ["none", "regular"], "type": "string"}, {"type": "null"}],
                                  "default": "regular", "title": "Acceleration"},
                "loras": {"type": ["array", "null"], "items": {"type": "string"}},
                "strength": {"oneOf": [{"type": "number", "minimum": 0}, {"type": "null"}]}
            }),
            image_output(),
        );
        let acc = field(&spec, "acceleration");
        assert_eq!(
            (acc.kind, acc.nullable, acc.default.clone()),
            (FieldType::Enum, true, Some(json!("regular")))
        );
        assert_eq!(acc.enum_values, strings(&["none", "regular"]));
        assert_eq!(acc.title.as_deref(), Some("Acceleration"));
        let loras = field(&spec, "loras");
        assert_eq!((loras.kind, loras.nullable), (FieldType::Array, true));
        let strength = field(&spec, "strength");
        assert_eq!(
            (strength.kind, strength.nullable, strength.minimum),
            (FieldType::Number, true, Some(0.0))
        );
        let issues = validate_params(
            &spec,
            &json!({"acceleration": null, "strength": null})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(issues, []);
    }

    #[test]
    fn nested_objects_become_object_fields() {
        let schemas = json!({
            "Camera": {"type": "object", "required": ["pan"], "properties": {
                "pan": {"type": "number", "minimum": -1, "maximum": 1},
                "zoom": {"type": "number"}}},
            "Lora": {"type": "object", "properties": {"path": {"type": "string"}, "scale": {"type": "number", "default": 1}}}
        });
        let input = json!({"type": "object", "properties": {
            "prompt": {"type": "string"},
            "camera": {"$ref": "#/components/schemas/Camera", "description": "Camera motion"},
            "loras": {"type": "array", "items": {"$ref": "#/components/schemas/Lora"}, "maxItems": 3},
            "inline": {"properties": {"a": {"type": "boolean"}}}
        }});
        let spec = derive_spec(
            TEST_ID,
            &synthetic(input, image_output(), schemas, None),
            None,
        )
        .unwrap();
        let camera = field(&spec, "camera");
        assert_eq!(
            (camera.kind, camera.description.as_deref()),
            (FieldType::Object, Some("Camera motion"))
        );
        let nested = camera.fields.as_ref().unwrap();
        assert_eq!(
            nested
                .iter()
                .map(|f| (f.name.as_str(), f.required))
                .collect::<Vec<_>>(),
            [("pan", true), ("zoom", false)]
        );
        assert_eq!(
            (nested[0].minimum, nested[0].maximum),
            (Some(-1.0), Some(1.0))
        );
        let loras = field(&spec, "loras");
        assert_eq!((loras.kind, loras.max_items), (FieldType::Array, Some(3)));
        let item = loras.items.as_ref().unwrap();
        assert_eq!(
            (item.name.as_str(), item.kind),
            ("items", FieldType::Object)
        );
        assert_eq!(item.fields.as_ref().map(Vec::len), Some(2));
        assert_eq!(field(&spec, "inline").kind, FieldType::Object);
    }

    #[test]
    fn all_of_parts_are_merged() {
        let schemas = json!({
            "Base": {"type": "object", "required": ["prompt"], "x-fal-order-properties": ["prompt", "seed"],
                     "properties": {"prompt": {"type": "string"}, "seed": {"type": "integer"}}},
            "Input": {"allOf": [{"$ref": "#/components/schemas/Base"},
                                {"required": ["image_url"], "properties": {"image_url": {"type": "string"}}}]}
        });
        let doc = synthetic(
            json!({"$ref": "#/components/schemas/Input"}),
            image_output(),
            schemas,
            None,
        );
        let spec = derive_spec(TEST_ID, &doc, None).unwrap();
        assert_eq!(names(&spec), ["prompt", "seed", "image_url"]);
        assert_eq!(required(&spec), ["prompt", "image_url"]);
        assert_eq!(field(&spec, "image_url").kind, FieldType::File);
    }

    #[test]
    fn ref_cycles_end_as_empty_objects() {
        let schemas = json!({
            "Node": {"type": "object", "properties": {
                "label": {"type": "string"},
                "child": {"$ref": "#/components/schemas/Node"},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                "other": {"$ref": "#/components/schemas/Other"}}},
            "Other": {"type": "object", "properties": {"back": {"$ref": "#/components/schemas/Node"}}},
            "Loop": {"$ref": "#/components/schemas/Loop"},
            "Ping": {"$ref": "#/components/schemas/Pong"},
            "Pong": {"allOf": [{"$ref": "#/components/schemas/Ping"}]}
        });
        let doc = synthetic(
            json!({"$ref": "#/components/schemas/Node"}),
            image_output(),
            schemas.clone(),
            None,
        );
        let spec = derive_spec(TEST_ID, &doc, None).unwrap();
        assert_eq!(names(&spec), ["label", "child", "children", "other"]);
        let child = field(&spec, "child");
        assert_eq!(
            (child.kind, child.fields.is_none()),
            (FieldType::Object, true)
        );
        let children = field(&spec, "children");
        assert_eq!(
            children
                .items
                .as_ref()
                .map(|i| (i.kind, i.fields.is_none())),
            Some((FieldType::Object, true))
        );
        let other = field(&spec, "other").fields.as_ref().unwrap();
        assert_eq!(
            (
                other[0].name.as_str(),
                other[0].kind,
                other[0].fields.is_none()
            ),
            ("back", FieldType::Object, true)
        );

        for looped in ["Loop", "Ping"] {
            let reference = format!("#/components/schemas/{looped}");
            let doc = synthetic(
                json!({"$ref": reference}),
                image_output(),
                schemas.clone(),
                None,
            );
            let Err(SpecError::Unusable(message)) = derive_spec(TEST_ID, &doc, None) else {
                panic!("{looped} should be unusable");
            };
            assert!(message.contains("refers back to itself"), "{message}");
        }
    }

    #[test]
    fn exclusive_bounds_in_both_openapi_forms() {
        let spec = synthetic_spec(
            json!({
                "v31": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                "v30": {"type": "integer", "minimum": 0, "exclusiveMinimum": true, "maximum": 10, "exclusiveMaximum": false},
                "v30_max": {"type": "number", "maximum": 5, "exclusiveMaximum": true}
            }),
            image_output(),
        );
        let b = |n: &str| {
            let f = field(&spec, n);
            (
                f.minimum,
                f.exclusive_minimum,
                f.maximum,
                f.exclusive_maximum,
            )
        };
        assert_eq!(b("v31"), (None, Some(0.0), None, Some(1.0)));
        assert_eq!(b("v30"), (None, Some(0.0), Some(10.0), None));
        assert_eq!(b("v30_max"), (None, None, None, Some(5.0)));
    }

    #[test]
    fn order_properties_skip_unknown_names_and_duplicates() {
        let input = json!({"type": "object",
            "x-fal-order-properties": ["c", "ghost", "a", "c", 7],
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"}, "d": {"type": "string"}}});
        let spec = derive_spec(
            TEST_ID,
            &synthetic(input, image_output(), json!({}), None),
            None,
        )
        .unwrap();
        assert_eq!(names(&spec), ["c", "a", "b", "d"]);
    }

    #[test]
    fn an_inline_input_schema_works_and_unknown_extensions_are_ignored() {
        let input = json!({"type": "object", "x-imgly-builder": {"x": 1}, "required": ["text"],
            "properties": {"text": {"type": "string", "x-imgly-enum-labels": {"a": "A"}, "example": "hello"}}});
        let spec = derive_spec(
            TEST_ID,
            &synthetic(input, json!({"properties": {"audio": {}}}), json!({}), None),
            None,
        )
        .unwrap();
        assert_eq!(names(&spec), ["text"]);
        assert_eq!(field(&spec, "text").examples, Some(vec![json!("hello")]));
        assert_eq!(spec.output_kind, OutputKind::Audio);
    }

    #[test]
    fn an_input_schema_with_no_properties_gives_an_empty_form() {
        let spec = derive_spec(
            TEST_ID,
            &synthetic(json!({"type": "object"}), image_output(), json!({}), None),
            None,
        )
        .unwrap();
        assert_eq!(spec.fields, []);
    }

    #[test]
    fn output_kind_from_result_fields_then_category() {
        let kind = |output: Value, catalog: Option<&str>, info: Option<&str>| {
            let input = json!({"type": "object", "properties": {}});
            derive_spec(TEST_ID, &synthetic(input, output, json!({}), info), catalog)
                .unwrap()
                .output_kind
        };
        let props = |names: &[&str]| {
            let map: Map<String, Value> = names
                .iter()
                .map(|n| ((*n).to_owned(), json!({"type": "object"})))
                .collect();
            json!({"type": "object", "properties": map})
        };
        assert_eq!(
            kind(props(&["image", "seed"]), None, None),
            OutputKind::Image
        );
        assert_eq!(kind(props(&["audio_file"]), None, None), OutputKind::Audio);
        assert_eq!(kind(props(&["audio_url"]), None, None), OutputKind::Audio);
        assert_eq!(
            kind(props(&["model_mesh", "timings"]), None, None),
            OutputKind::ThreeD
        );
        assert_eq!(kind(props(&["model_glb"]), None, None), OutputKind::ThreeD);
        assert_eq!(
            kind(props(&["video", "thumbnail"]), None, None),
            OutputKind::Video
        );
        assert_eq!(kind(props(&["output"]), None, None), OutputKind::Text);
        assert_eq!(kind(props(&["seed"]), None, None), OutputKind::Unknown);
        assert_eq!(
            kind(props(&["seed"]), None, Some("text-to-speech")),
            OutputKind::Audio
        );
        assert_eq!(
            kind(
                props(&["seed"]),
                Some("image-to-3d"),
                Some("text-to-speech")
            ),
            OutputKind::ThreeD
        );
        assert_eq!(
            kind(props(&["seed"]), Some("image-to-image"), None),
            OutputKind::Image
        );
        assert_eq!(
            kind(props(&["seed"]), Some("text-to-audio"), None),
            OutputKind::Audio
        );
        assert_eq!(
            kind(props(&["seed"]), Some("video-to-video"), None),
            OutputKind::Video
        );
        assert_eq!(
            kind(props(&["seed"]), Some("training"), None),
            OutputKind::Unknown
        );
    }

    #[test]
    fn the_submit_path_is_found_by_fallback_when_the_id_differs() {
        let input = json!({"type": "object", "properties": {"prompt": {"type": "string"}}});
        let doc = synthetic(input, image_output(), json!({}), None);
        let spec = derive_spec("acme/model-alias", &doc, None).unwrap();
        assert_eq!(names(&spec), ["prompt"]);
        assert_eq!(spec.endpoint_id, "acme/model-alias");
        assert_eq!(spec.output_kind, OutputKind::Image);

        let mut doc = doc;
        doc["paths"]["/acme/other"] = json!({"post": {}});
        let Err(SpecError::Unusable(message)) = derive_spec("acme/model-alias", &doc, None) else {
            panic!("two candidate submit paths should be refused");
        };
        assert!(message.contains("several POST paths"), "{message}");
    }

    #[test]
    fn unusable_documents_say_what_is_missing() {
        let ok_input = json!({"type": "object", "properties": {}});
        let mut no_body = synthetic(ok_input.clone(), image_output(), json!({}), None);
        no_body["paths"]["/acme/model"] = json!({"post": {"responses": {}}});
        let mut no_post = synthetic(ok_input, image_output(), json!({}), None);
        no_post["paths"]["/acme/model"] = json!({"get": {}});
        let cases = [
            ("no paths", json!({"openapi": "3.0.0"}), "has no paths"),
            ("not an object", json!([1, 2]), "has no paths"),
            (
                "no request body",
                no_body,
                "has no POST /acme/model request body schema",
            ),
            ("no POST", no_post, "has no POST /acme/model submit path"),
            (
                "missing ref",
                synthetic(
                    json!({"$ref": "#/components/schemas/Gone"}),
                    image_output(),
                    json!({}),
                    None,
                ),
                "#/components/schemas/Gone, which the document does not define",
            ),
            (
                "string input",
                synthetic(json!({"type": "string"}), image_output(), json!({}), None),
                "input schema that is not an object",
            ),
        ];
        for (case, doc, expected) in cases {
            match derive_spec(TEST_ID, &doc, None) {
                Err(SpecError::Unusable(message)) => {
                    assert!(
                        message.starts_with("fal's OpenAPI document for acme/model "),
                        "{case}: {message}"
                    );
                    assert!(message.contains(expected), "{case}: {message}");
                }
                Ok(spec) => panic!("{case}: expected an error, got {spec:?}"),
            }
        }
    }

    #[test]
    fn a_request_body_behind_a_ref_is_followed() {
        let mut doc = synthetic(json!({}), image_output(), json!({}), None);
        doc["components"]["requestBodies"] = json!({"Body": {"content": {"application/json": {
            "schema": {"type": "object", "properties": {"prompt": {"type": "string"}}}}}}});
        doc["paths"]["/acme/model"]["post"]["requestBody"] =
            json!({"$ref": "#/components/requestBodies/Body"});
        let spec = derive_spec(TEST_ID, &doc, None).unwrap();
        assert_eq!(names(&spec), ["prompt"]);
    }

    // ---- validate_params -------------------------------------------------------------------

    fn params(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    /// (field, message) pairs, in the order `validate_params` reports them.
    type Issues = Vec<(String, String)>;

    fn issues_for(spec: &Spec, value: Value) -> Issues {
        validate_params(spec, &params(value))
            .into_iter()
            .map(|i| (i.field, i.message))
            .collect()
    }

    fn one(field: &str, message: &str) -> Issues {
        vec![(field.to_owned(), message.to_owned())]
    }

    #[test]
    fn validation_table_for_seedream_text_to_image() {
        let spec = real(SEEDREAM_T2I);
        let presets = "must be one of: square_hd, square, portrait_4_3, portrait_16_9, landscape_4_3, \
                       landscape_16_9, auto, auto_2K, auto_4K, or a custom width and height";
        let cases: Vec<(&str, Value, Issues)> = vec![
            ("minimal", json!({"prompt": "a cat"}), vec![]),
            (
                "everything",
                json!({"prompt": "a cat", "image_size": "square_hd", "num_images": 2,
                "max_images": 6, "seed": 42, "sync_mode": true, "enable_safety_checker": false}),
                vec![],
            ),
            ("missing prompt", json!({}), one("prompt", "is required")),
            (
                "empty prompt",
                json!({"prompt": "  "}),
                one("prompt", "is required"),
            ),
            (
                "null prompt",
                json!({"prompt": null}),
                one("prompt", "is required"),
            ),
            (
                "prompt not text",
                json!({"prompt": 3}),
                one("prompt", "must be text"),
            ),
            (
                "too few images",
                json!({"prompt": "x", "num_images": 0}),
                one("num_images", "must be at least 1"),
            ),
            (
                "too many images",
                json!({"prompt": "x", "num_images": 7}),
                one("num_images", "must be at most 6"),
            ),
            (
                "fractional count",
                json!({"prompt": "x", "num_images": 1.5}),
                one("num_images", "must be a whole number"),
            ),
            (
                "count as string",
                json!({"prompt": "x", "num_images": "2"}),
                one("num_images", "must be a whole number"),
            ),
            (
                "count written 2.0",
                json!({"prompt": "x", "num_images": 2.0}),
                vec![],
            ),
            (
                "null seed",
                json!({"prompt": "x", "seed": null}),
                one("seed", "must be a whole number"),
            ),
            (
                "unknown preset",
                json!({"prompt": "x", "image_size": "huge"}),
                one("image_size", presets),
            ),
            (
                "custom size",
                json!({"prompt": "x", "image_size": {"width": 1024, "height": 768}}),
                vec![],
            ),
            (
                "zero width",
                json!({"prompt": "x", "image_size": {"width": 0, "height": 768}}),
                one("image_size", "width must be greater than 0"),
            ),
            (
                "huge height",
                json!({"prompt": "x", "image_size": {"width": 10, "height": 20000}}),
                one("image_size", "height must be at most 14142"),
            ),
            (
                "size as number",
                json!({"prompt": "x", "image_size": 5}),
                one("image_size", presets),
            ),
            (
                "bool as string",
                json!({"prompt": "x", "sync_mode": "yes"}),
                one("sync_mode", "must be true or false"),
            ),
            (
                "unknown field",
                json!({"prompt": "x", "steps": 3}),
                one("steps", "not a parameter of this model"),
            ),
            (
                "several at once",
                json!({"num_images": 9, "foo": 1}),
                vec![
                    ("prompt".into(), "is required".into()),
                    ("num_images".into(), "must be at most 6".into()),
                    ("foo".into(), "not a parameter of this model".into()),
                ],
            ),
        ];
        for (case, value, expected) in cases {
            assert_eq!(issues_for(&spec, value), expected, "case: {case}");
        }
    }

    #[test]
    fn validation_table_for_files_enums_and_lengths() {
        let kontext = real(KONTEXT);
        let edit = real(SEEDREAM_EDIT);
        let kling = real(KLING);
        let long_url = format!("https://example.com/{}", "a".repeat(2100));
        let data_uri = format!("data:image/png;base64,{}", "A".repeat(5000));
        let eleven: Vec<String> = (0..11).map(|i| format!("https://x/{i}.png")).collect();
        let cases: Vec<(&str, &Spec, Value, Issues)> = vec![
            (
                "kontext ok",
                &kontext,
                json!({"prompt": "add a hat", "image_url": "https://x/a.png", "safety_tolerance": "5"}),
                vec![],
            ),
            (
                "kontext missing image",
                &kontext,
                json!({"prompt": "add a hat"}),
                one("image_url", "is required"),
            ),
            (
                "image not a string",
                &kontext,
                json!({"prompt": "add a hat", "image_url": 5}),
                one("image_url", "must be a file URL"),
            ),
            (
                "prompt too short",
                &kontext,
                json!({"prompt": "ab", "image_url": "https://x/a.png"}),
                one("prompt", "must be at least 3 characters long"),
            ),
            (
                "tolerance as number",
                &kontext,
                json!({"prompt": "abc", "image_url": "u", "safety_tolerance": 2}),
                one("safety_tolerance", "must be one of: 1, 2, 3, 4, 5, 6"),
            ),
            (
                "guidance as text",
                &kontext,
                json!({"prompt": "abc", "image_url": "u", "guidance_scale": "x"}),
                one("guidance_scale", "must be a number"),
            ),
            (
                "guidance too low",
                &kontext,
                json!({"prompt": "abc", "image_url": "u", "guidance_scale": 0.5}),
                one("guidance_scale", "must be at least 1"),
            ),
            (
                "ratio not listed",
                &kontext,
                json!({"prompt": "abc", "image_url": "u", "aspect_ratio": "5:4"}),
                one(
                    "aspect_ratio",
                    "must be one of: 21:9, 16:9, 4:3, 3:2, 1:1, 2:3, 3:4, 9:16, 9:21",
                ),
            ),
            (
                "edit ok",
                &edit,
                json!({"prompt": "p", "image_urls": ["https://x/1.png"], "image_size": "2048x2048"}),
                vec![],
            ),
            (
                "edit custom size",
                &edit,
                json!({"prompt": "p", "image_urls": ["u"], "image_size": {"width": 100, "height": 300}}),
                one("image_size", "width must be at least 256"),
            ),
            (
                "edit custom size missing height",
                &edit,
                json!({"prompt": "p", "image_urls": ["u"], "image_size": {"width": 300}}),
                one("image_size", "height is required"),
            ),
            (
                "empty list",
                &edit,
                json!({"prompt": "p", "image_urls": []}),
                one("image_urls", "is required"),
            ),
            (
                "list with a number",
                &edit,
                json!({"prompt": "p", "image_urls": ["u", 3]}),
                one("image_urls", "must be a list of file URLs"),
            ),
            (
                "single url for a list",
                &edit,
                json!({"prompt": "p", "image_urls": "u"}),
                one("image_urls", "must be a list of file URLs"),
            ),
            (
                "too many files",
                &edit,
                json!({"prompt": "p", "image_urls": eleven}),
                one("image_urls", "must have at most 10 items"),
            ),
            (
                "url too long",
                &kling,
                json!({"prompt": "p", "image_url": long_url}),
                one("image_url", "must be at most 2083 characters long"),
            ),
            (
                "inline data uri",
                &kling,
                json!({"prompt": "p", "image_url": data_uri}),
                vec![],
            ),
            (
                "duration as number",
                &kling,
                json!({"prompt": "p", "image_url": "u", "duration": 5}),
                one("duration", "must be one of: 5, 10"),
            ),
        ];
        for (case, spec, value, expected) in cases {
            assert_eq!(issues_for(spec, value), expected, "case: {case}");
        }
    }

    #[test]
    fn validation_of_nested_objects_arrays_and_exclusive_bounds() {
        let spec = synthetic_spec(
            json!({
                "camera": {"type": "object", "required": ["pan"], "properties": {"pan": {"type": "number", "exclusiveMaximum": 1}}},
                "weights": {"type": "array", "minItems": 2, "items": {"type": "number", "minimum": 0}},
                "ratio": {"type": "number", "exclusiveMinimum": 0},
                "choice": {"enum": [1, 2]}
            }),
            image_output(),
        );
        let cases: Vec<(&str, Value, Issues)> = vec![
            (
                "all fine",
                json!({"camera": {"pan": 0.5}, "weights": [0, 1], "ratio": 0.1, "choice": 2.0}),
                vec![],
            ),
            (
                "camera not object",
                json!({"camera": [1]}),
                one("camera", "must be an object"),
            ),
            (
                "camera missing pan",
                json!({"camera": {}}),
                one("camera", "pan is required"),
            ),
            (
                "pan at bound",
                json!({"camera": {"pan": 1}}),
                one("camera", "pan must be less than 1"),
            ),
            (
                "one weight",
                json!({"weights": [1]}),
                one("weights", "must have at least 2 items"),
            ),
            (
                "negative weight",
                json!({"weights": [1, -1]}),
                one("weights", "item 2 must be at least 0"),
            ),
            (
                "ratio zero",
                json!({"ratio": 0}),
                one("ratio", "must be greater than 0"),
            ),
            (
                "choice missing",
                json!({"choice": 3}),
                one("choice", "must be one of: 1, 2"),
            ),
        ];
        for (case, value, expected) in cases {
            assert_eq!(issues_for(&spec, value), expected, "case: {case}");
        }
    }

    // ---- never panics --------------------------------------------------------------------

    const KEYWORDS: [&str; 40] = [
        "$ref",
        "type",
        "properties",
        "allOf",
        "anyOf",
        "oneOf",
        "items",
        "enum",
        "required",
        "default",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "format",
        "nullable",
        "x-fal-order-properties",
        "paths",
        "post",
        "get",
        "requestBody",
        "content",
        "application/json",
        "schema",
        "responses",
        "200",
        "components",
        "schemas",
        "A",
        "B",
        "image_url",
        "image_urls",
        "/acme/model",
        "/acme/model/requests/{request_id}",
        "const",
        "examples",
    ];
    const WORDS: [&str; 14] = [
        "#/components/schemas/A",
        "#/components/schemas/B",
        "#",
        "#/",
        "object",
        "string",
        "array",
        "integer",
        "number",
        "boolean",
        "null",
        "uri",
        "image_url",
        "",
    ];

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            prop::sample::select(WORDS.to_vec()).prop_map(Value::from),
            prop::sample::select(KEYWORDS.to_vec()).prop_map(Value::from),
        ];
        leaf.prop_recursive(6, 96, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((prop::sample::select(KEYWORDS.to_vec()), inner), 0..6)
                    .prop_map(|pairs| {
                        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                    }),
            ]
        })
    }

    /// Replaces or (with `None`) deletes one subtree, chosen by walking down with `seed`.
    fn mutate(doc: &mut Value, mut seed: u64, depth: u32, replacement: Option<Value>) {
        let mut next = move |len: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(seed >> 33).unwrap() % len
        };
        let mut node = doc;
        for level in 0..=depth {
            let last = level == depth;
            let container = match &*node {
                Value::Object(map) => !map.is_empty(),
                Value::Array(list) => !list.is_empty(),
                _ => false,
            };
            if !container {
                if let Some(r) = replacement {
                    *node = r;
                }
                return;
            }
            match node {
                Value::Object(map) if !map.is_empty() => {
                    let key = map.keys().nth(next(map.len())).unwrap().clone();
                    if last {
                        match replacement {
                            Some(r) => map[&key] = r,
                            None => map.retain(|k, _| *k != key),
                        }
                        return;
                    }
                    node = map.get_mut(&key).unwrap();
                }
                Value::Array(list) if !list.is_empty() => {
                    let i = next(list.len());
                    if last {
                        match replacement {
                            Some(r) => list[i] = r,
                            None => {
                                list.remove(i);
                            }
                        }
                        return;
                    }
                    node = &mut list[i];
                }
                _ => return,
            }
        }
    }

    fn exercise(id: &str, doc: &Value, params: &Map<String, Value>) {
        if let Ok(spec) = derive_spec(id, doc, Some("image-to-video")) {
            let _ = validate_params(&spec, params);
            let _ = serde_json::to_string(&spec).unwrap();
        }
        let _ = derive_spec(id, doc, None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn deriving_any_json_never_panics(doc in arb_json(), params in prop::collection::btree_map(prop::sample::select(KEYWORDS.to_vec()), arb_json(), 0..4)) {
            let params: Map<String, Value> = params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            exercise(TEST_ID, &doc, &params);
        }

        #[test]
        fn deriving_random_schemas_in_a_fal_shaped_document_never_panics(
            input in arb_json(), a in arb_json(), b in arb_json(), output in arb_json(),
            params in prop::collection::btree_map(prop::sample::select(KEYWORDS.to_vec()), arb_json(), 0..4),
        ) {
            let doc = synthetic(input, output, json!({"A": a, "B": b}), Some("text-to-image"));
            let params: Map<String, Value> = params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            exercise(TEST_ID, &doc, &params);
        }

        #[test]
        fn deriving_mutated_real_documents_never_panics(
            doc_index in 0usize..8,
            mutations in prop::collection::vec((any::<u64>(), 0u32..12, prop::option::of(arb_json())), 1..6),
            params in prop::collection::btree_map(prop::sample::select(KEYWORDS.to_vec()), arb_json(), 0..4),
        ) {
            let (id, mut doc) = real_documents().swap_remove(doc_index);
            for (seed, depth, replacement) in mutations {
                mutate(&mut doc, seed, depth, replacement);
            }
            let params: Map<String, Value> = params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            exercise(id, &doc, &params);
        }

        #[test]
        fn validating_arbitrary_params_against_real_specs_never_panics(
            doc_index in 0usize..8,
            params in prop::collection::btree_map(
                prop::sample::select(vec!["prompt", "image_size", "image_url", "image_urls", "num_images", "seed", "duration", "x"]),
                arb_json(), 0..6),
        ) {
            let (id, doc) = real_documents().swap_remove(doc_index);
            let spec = derive_spec(id, &doc, None).unwrap();
            let params: Map<String, Value> = params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            let issues = validate_params(&spec, &params);
            prop_assert!(issues.len() <= spec.fields.len() + params.len());
        }
    }

    #[test]
    fn a_wide_ref_fan_out_stays_bounded() {
        // Each level has eight properties of the next level's type: 8^12 fields if expanded.
        let mut schemas = Map::new();
        for level in 0..12 {
            let next = json!({"$ref": format!("#/components/schemas/L{}", level + 1)});
            let props: Map<String, Value> =
                (0..8).map(|i| (format!("p{i}"), next.clone())).collect();
            schemas.insert(
                format!("L{level}"),
                json!({"type": "object", "properties": props}),
            );
        }
        schemas.insert("L12".into(), json!({"type": "string"}));
        let doc = synthetic(
            json!({"$ref": "#/components/schemas/L0"}),
            image_output(),
            Value::Object(schemas),
            None,
        );
        let spec = derive_spec(TEST_ID, &doc, None).unwrap();
        assert_eq!(spec.fields.len(), 8);
    }

    #[test]
    fn a_very_deep_inline_schema_is_cut_off_not_overflowed() {
        let mut schema = json!({"type": "string"});
        for _ in 0..200 {
            schema = json!({"type": "object", "properties": {"x": schema}, "allOf": [{"anyOf": [{"type": "null"}]}]});
        }
        let doc = synthetic(schema, image_output(), json!({}), None);
        let spec = derive_spec(TEST_ID, &doc, None).unwrap();
        assert_eq!(names(&spec), ["x"]);
    }
}

//! One view of a schema: `$ref`s followed, `allOf` parts merged, nullable unions and
//! `scalar | object` unions folded, every step bounded (depth and node budget) because the
//! document is untrusted.

use serde_json::Value;

use super::MAX_DEPTH;

/// Total schema nodes flattened per document. `$ref`s form a DAG that can fan out exponentially
/// (A has ten properties of type B, B ten of type C, ...), which a depth limit alone won't stop.
const MAX_NODES: usize = 4_000;

/// A schema with `$ref`s, `allOf` and nullable unions merged into one view. It borrows from the
/// document so that a wide DAG of `$ref`s costs no copies.
#[derive(Default)]
pub(super) struct Flat<'a> {
    /// Annotation and constraint keywords; later sources override earlier ones.
    keys: Vec<(&'a str, &'a Value)>,
    pub(super) properties: Vec<(&'a str, &'a Value)>,
    pub(super) required: Vec<&'a str>,
    pub(super) order: Option<&'a Vec<Value>>,
    /// Presets gathered from several union branches (owned because they come from several places).
    union_enum: Option<Vec<Value>>,
    /// Type resolved from a 3.1 type array such as `["string", "null"]`.
    type_name: Option<&'a str>,
    pub(super) nullable: bool,
    /// The object branch of a `scalar | object` union (`image_size`).
    pub(super) custom: Option<Box<Flat<'a>>>,
    /// A `$ref` could not be followed (missing target, cycle, or limits reached).
    pub(super) broken: bool,
    /// The `$ref`s this view was expanded from; they are the ancestry of its children, so a
    /// property leading back to one of them is a cycle.
    pub(super) refs: Vec<&'a str>,
}

impl<'a> Flat<'a> {
    pub(super) fn get(&self, key: &str) -> Option<&'a Value> {
        self.keys
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    pub(super) fn str_key(&self, key: &str) -> Option<&'a str> {
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

    pub(super) fn ty(&self) -> Option<&'a str> {
        self.type_name.or_else(|| self.str_key("type"))
    }

    pub(super) fn is_object_like(&self) -> bool {
        self.ty() == Some("object") || !self.properties.is_empty()
    }

    pub(super) fn enum_values(&self) -> Option<Vec<Value>> {
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

pub(super) struct Ctx<'a> {
    doc: &'a Value,
    /// `$ref`s being expanded on the current branch; meeting one again is a cycle.
    pub(super) stack: Vec<&'a str>,
    budget: usize,
    /// The first reason a `$ref` could not be followed, for the user-facing error.
    pub(super) problem: Option<String>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(doc: &'a Value) -> Self {
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
    pub(super) fn follow_refs(&self, mut value: &'a Value) -> &'a Value {
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

    pub(super) fn flatten(&mut self, schema: &'a Value, depth: usize) -> Flat<'a> {
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
}

fn is_null_schema(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(ts)) => !ts.is_empty() && ts.iter().all(|t| t.as_str() == Some("null")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::spec::test_support::*;
    use crate::catalog::spec::*;
    use proptest::prelude::*;
    use serde_json::{Map, json};

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
}

//! The OpenAPI document of our own HTTP API. Each module's router registers its handlers with
//! `utoipa_axum::routes!`, which adds the handler's `#[utoipa::path]` description as it adds the
//! route, so a route cannot be served without being described. This module holds what is common
//! to every operation: the title, the session cookie, and the error shape.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use utoipa::{
    Modify, OpenApi,
    openapi::{
        ContentBuilder, HttpMethod, RefOr, ResponseBuilder,
        path::OperationBuilder,
        security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme},
    },
};

use crate::{SESSION_COOKIE, error::ErrorEnvelope};

pub const DOCUMENT_PATH: &str = "/api/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "fal-studio",
        description = "The HTTP API of a fal-studio server: accounts, the fal model catalog, \
            generations, the gallery and share links. Every operation except signing up and \
            signing in needs the session cookie that those two set. Writes from a browser must \
            come from the studio's own origin. Every error has the body \
            `{\"error\": {\"category\", \"message\", \"details\"?}}`: `category` is for code, \
            `message` is for people and says what to do.",
        license(name = "MIT"),
    ),
    tags(
        (name = "auth", description = "Sign up, sign in and out"),
        (name = "account", description = "The user's fal key, credits and budget"),
        (name = "models", description = "fal's model catalog, derived forms, prices, favourites"),
        (name = "generations", description = "Jobs sent to fal, their groups, events and spend"),
        (name = "gallery", description = "Stored outputs: list, search, download, delete"),
        (name = "shares", description = "Share links of single assets"),
        (name = "admin", description = "For admins only (404 to members): accounts, the studio key, budgets, retention at fal, usage"),
        (name = "operations", description = "Health and this document"),
    ),
    components(schemas(ErrorEnvelope)),
    modifiers(&SessionCookie),
)]
pub struct ApiDoc;

const SECURITY_SCHEME: &str = "session";

/// Bytes of a stored file or an archive, in their own content type.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // Describes streamed bodies; never built.
pub struct FileBytes(Vec<u8>);

/// The session cookie is the only credential. It is required everywhere unless an operation
/// says `security(())`.
struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SECURITY_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "Set by signing up or signing in; HttpOnly.",
            ))),
        );
        openapi.security = Some(vec![SecurityRequirement::new(
            SECURITY_SCHEME,
            Vec::<String>::new(),
        )]);
    }
}

/// Any operation can meet the generic failures (not signed in, a malformed body, a cross-site
/// write, a body over the limit, a fault on our side), and they all share one body. Operations
/// list the specific cases that matter to them; these ranges cover the rest.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let error = || {
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "ErrorEnvelope",
                ))))
                .build()
        };
        let client = ResponseBuilder::new()
            .description(
                "The request cannot be served as sent: `error.category` says why \
                 (unauthorized, invalid_request, not_found, conflict, too_large, rate_limited, ...) \
                 and `error.message` what to do.",
            )
            .content("application/json", error())
            .build();
        let server = ResponseBuilder::new()
            .description(
                "fal or our storage failed (provider_error, network), or a fault on our side \
                 (internal). Nothing half-done is kept.",
            )
            .content("application/json", error())
            .build();
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                let responses = &mut op.responses.responses;
                for (status, response) in responses.iter_mut() {
                    name_if_undescribed(status, response);
                }
                responses
                    .entry("4XX".into())
                    .or_insert_with(|| client.clone().into());
                responses
                    .entry("5XX".into())
                    .or_insert_with(|| server.clone().into());
            }
        }
    }
}

/// OpenAPI requires a description on every response; where a handler gave none, the status's
/// reason phrase says enough ("OK", "Created").
fn name_if_undescribed(status: &str, response: &mut RefOr<utoipa::openapi::Response>) {
    if let RefOr::T(response) = response
        && response.description.is_empty()
    {
        response.description = status
            .parse::<u16>()
            .ok()
            .and_then(|code| StatusCode::from_u16(code).ok())
            .and_then(|code| code.canonical_reason())
            .unwrap_or("Success")
            .to_owned();
    }
}

/// The finished document, rendered once at start-up and shared by every response.
#[derive(Clone)]
pub struct Document(Bytes);

impl Document {
    pub fn new(mut openapi: utoipa::openapi::OpenApi) -> anyhow::Result<Self> {
        // Over every operation, so it runs here on the finished paths, not as an ApiDoc
        // modifier (those run before the routers have added any path).
        CommonErrors.modify(&mut openapi);
        describe_itself(&mut openapi);
        openapi.info.version = env!("CARGO_PKG_VERSION").to_owned();
        Ok(Document(Bytes::from(openapi.to_json()?)))
    }

    pub fn response(&self) -> Response {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.0.clone(),
        )
            .into_response()
    }
}

/// This document is served from the rendered text, outside the routers that describe
/// themselves, so its own entry is added here.
fn describe_itself(openapi: &mut utoipa::openapi::OpenApi) {
    let operation = OperationBuilder::new()
        .tag("operations")
        .operation_id(Some("getOpenApiDocument"))
        .summary(Some("This document (OpenAPI 3.1)."))
        .security(SecurityRequirement::default())
        .response(
            "200",
            ResponseBuilder::new()
                .description("The OpenAPI document of this server's API.")
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(utoipa::openapi::schema::Object::new()))
                        .build(),
                ),
        )
        .build();
    openapi
        .paths
        .add_path_operation(DOCUMENT_PATH, vec![HttpMethod::Get], operation);
}

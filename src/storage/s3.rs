//! S3-compatible object storage (AWS S3, MinIO, R2, moto...) spoken directly over `reqwest`
//! with AWS Signature Version 4 (`sigv4.rs`).
//!
//! Why not `aws-sdk-s3`: it and `aws-config` add well over a hundred crates and minutes to a
//! cold build, for the nine calls we make. Those calls, plus SigV4 (checked below against AWS's
//! published examples), are a few hundred lines on crates the app already has (`reqwest`,
//! `hmac`, `sha2`, `time`). What we give up: credentials come only from the configuration or the
//! `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` variables, not from instance
//! roles or `~/.aws` profiles.
//!
//! Payloads are sent as `UNSIGNED-PAYLOAD`: hashing each body before sending would mean holding
//! or reading it twice, and TLS already protects it in transit.

use std::{io, sync::Arc, time::Duration};

use axum::body::Body;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use reqwest::{
    Method, RequestBuilder, Response, StatusCode,
    header::{self, HeaderMap, HeaderValue},
};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use url::Url;

use super::{
    ByteRange, GetResult, ObjectInfo, PutResult, StorageError, hex,
    sigv4::{SigningRequest, amz_date, authorization, canonical_query, uri_encode},
};
use crate::config::{S3Config, Secret};

/// Objects that end below this size go up in one PutObject; larger ones in parts of this size.
/// 8 MiB is above S3's 5 MiB minimum part size and keeps at most one part in memory per upload.
pub const PART_SIZE: usize = 8 * 1024 * 1024;
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// Generous: a part is at most 8 MiB, so only a stalled connection gets near this.
const WRITE_TIMEOUT: Duration = Duration::from_secs(300);
const ERROR_BODY_LIMIT: usize = 16 * 1024;

#[derive(Debug, Clone)]
pub struct S3Storage {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    bucket: String,
    region: String,
    /// Addresses the bucket: `endpoint/bucket` (path style) or `bucket.endpoint` (virtual host).
    base: Url,
    /// Path of the bucket root within `base`, without a trailing slash ("" for virtual hosts).
    base_path: String,
    /// For messages: scheme, host and port only, never user info.
    endpoint_label: String,
    credentials: Credentials,
}

#[derive(Debug)]
struct Credentials {
    access_key_id: String,
    secret_access_key: Secret,
    session_token: Option<Secret>,
}

impl S3Storage {
    pub(super) async fn connect(config: &S3Config) -> Result<S3Storage, StorageError> {
        let storage = S3Storage::new(config, resolve_credentials(config)?)?;
        storage.ensure_bucket().await?;
        Ok(storage)
    }

    fn new(config: &S3Config, credentials: Credentials) -> Result<S3Storage, StorageError> {
        if config.bucket.is_empty() {
            return Err(StorageError::Other("S3_BUCKET is empty".into()));
        }
        let endpoint = match &config.endpoint {
            Some(url) => url.clone(),
            None => {
                Url::parse(&format!("https://s3.{}.amazonaws.com", config.region)).map_err(|e| {
                    StorageError::Other(format!("S3_REGION does not make a valid host name: {e}"))
                })?
            }
        };
        let endpoint_label = match (endpoint.host_str(), endpoint.port()) {
            (Some(host), Some(port)) => format!("{}://{host}:{port}", endpoint.scheme()),
            (Some(host), None) => format!("{}://{host}", endpoint.scheme()),
            (None, _) => {
                return Err(StorageError::Other(
                    "S3_ENDPOINT has no host name".to_string(),
                ));
            }
        };
        let prefix = endpoint.path().trim_end_matches('/').to_string();
        let mut base = endpoint.clone();
        // User info in S3_ENDPOINT would make reqwest add its own Authorization header.
        let _ = base.set_username("");
        let _ = base.set_password(None);
        base.set_query(None);
        base.set_fragment(None);
        let base_path = if config.force_path_style {
            format!("{prefix}/{}", uri_encode(&config.bucket, true))
        } else {
            let host = format!(
                "{}.{}",
                config.bucket,
                endpoint.host_str().unwrap_or_default()
            );
            base.set_host(Some(&host)).map_err(|e| {
                StorageError::Other(format!(
                    "the bucket name does not make a valid host name ({e}); set S3_FORCE_PATH_STYLE=true"
                ))
            })?;
            prefix
        };

        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // Per read, so long downloads are fine but a stalled server is noticed.
            .read_timeout(Duration::from_secs(60))
            // A signature is bound to its host: a followed redirect could only fail, after
            // sending the Authorization header to wherever the redirect pointed.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("fal-studio/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StorageError::Other(format!("cannot build the HTTP client: {e}")))?;

        Ok(S3Storage {
            inner: Arc::new(Inner {
                client,
                bucket: config.bucket.clone(),
                region: config.region.clone(),
                base,
                base_path,
                endpoint_label,
                credentials,
            }),
        })
    }

    pub fn bucket(&self) -> &str {
        &self.inner.bucket
    }

    async fn ensure_bucket(&self) -> Result<(), StorageError> {
        let inner = &self.inner;
        let response = self.send("HeadBucket", self.head_bucket_request()).await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        if status != StatusCode::NOT_FOUND {
            return Err(self.bucket_error(response).await);
        }

        tracing::info!(bucket = %inner.bucket, endpoint = %inner.endpoint_label, "creating the S3 bucket");
        // us-east-1 is the default location and refuses to be named explicitly.
        let body = if inner.region == "us-east-1" {
            String::new()
        } else {
            format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                xml_escape(&inner.region)
            )
        };
        let request = self
            .request(Method::PUT, &self.bucket_path(), &[])
            .timeout(WRITE_TIMEOUT)
            .body(body);
        let response = self.send("CreateBucket", request).await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let error = S3ErrorBody::read(response).await;
        // Another instance may have created it between our two calls.
        if error.code.as_deref() == Some("BucketAlreadyOwnedByYou") {
            return Ok(());
        }
        let cause = classify("CreateBucket", status, &error);
        Err(match cause {
            StorageError::Unavailable(message) => StorageError::Unavailable(message),
            other => StorageError::Other(format!(
                "the S3 bucket `{}` at {} does not exist and could not be created ({}); \
                 create it, or give these credentials permission to (s3:CreateBucket)",
                inner.bucket,
                inner.endpoint_label,
                other_detail(&other)
            )),
        })
    }

    /// A clear start-up or health message for a bucket we cannot use.
    async fn bucket_error(&self, response: Response) -> StorageError {
        let inner = &self.inner;
        let status = response.status();
        let bucket_region = response
            .headers()
            .get("x-amz-bucket-region")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if let Some(actual) = bucket_region
            && actual != inner.region
        {
            return StorageError::Other(format!(
                "the S3 bucket `{}` is in region {actual}, not {}; set S3_REGION={actual}",
                inner.bucket, inner.region
            ));
        }
        match status {
            StatusCode::NOT_FOUND => StorageError::Other(format!(
                "the S3 bucket `{}` does not exist at {}",
                inner.bucket, inner.endpoint_label
            )),
            StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => StorageError::Other(format!(
                "S3 at {} refused access to the bucket `{}` ({status}); check the access key, \
                 the secret key, the region and the bucket's permissions",
                inner.endpoint_label, inner.bucket
            )),
            _ => classify("HeadBucket", status, &S3ErrorBody::read(response).await),
        }
    }

    fn head_bucket_request(&self) -> RequestBuilder {
        self.request(Method::HEAD, &self.bucket_path(), &[])
    }

    pub(super) async fn check(&self) -> Result<(), StorageError> {
        let response = self
            .send(
                "HeadBucket",
                self.head_bucket_request().timeout(CHECK_TIMEOUT),
            )
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(self.bucket_error(response).await)
        }
    }

    pub(super) async fn put_stream<S>(
        &self,
        key: &str,
        content_type: &str,
        mut body: S,
        max_bytes: u64,
    ) -> Result<PutResult, StorageError>
    where
        S: Stream<Item = Result<Bytes, io::Error>> + Send + Unpin,
    {
        // The type comes from fal or the browser; a value that is not a valid header must not
        // fail the upload.
        let content_type = HeaderValue::from_str(content_type)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
        let mut upload = None;
        let result = self
            .upload(key, &content_type, &mut body, max_bytes, &mut upload)
            .await;
        if result.is_err()
            && let Some(upload) = upload
        {
            upload.abort().await;
        }
        result
    }

    async fn upload<S>(
        &self,
        key: &str,
        content_type: &HeaderValue,
        body: &mut S,
        max_bytes: u64,
        upload: &mut Option<MultipartUpload>,
    ) -> Result<PutResult, StorageError>
    where
        S: Stream<Item = Result<Bytes, io::Error>> + Send + Unpin,
    {
        let mut hasher = Sha256::new();
        let mut byte_size: u64 = 0;
        let mut buffer: Vec<u8> = Vec::new();

        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| StorageError::SourceFailed(e.to_string()))?;
            byte_size += chunk.len() as u64;
            if byte_size > max_bytes {
                return Err(StorageError::TooLarge { limit: max_bytes });
            }
            hasher.update(&chunk);
            reserve_bounded(&mut buffer, chunk.len());
            buffer.extend_from_slice(&chunk);

            // Strictly greater: a body that ends at exactly PART_SIZE still goes up in one put.
            while buffer.len() > PART_SIZE {
                let rest = buffer.split_off(PART_SIZE);
                let part = Bytes::from(std::mem::replace(&mut buffer, rest));
                let multipart = match upload {
                    Some(multipart) => multipart,
                    None => upload.insert(self.create_multipart(key, content_type).await?),
                };
                multipart.upload_part(part).await?;
            }
        }

        match upload {
            None => {
                self.put_object(key, content_type, Bytes::from(buffer))
                    .await?
            }
            Some(multipart) => {
                // Never empty here: a part is only cut while more bytes follow it.
                multipart.upload_part(Bytes::from(buffer)).await?;
                multipart.complete().await?;
            }
        }
        Ok(PutResult {
            byte_size,
            sha256_hex: hex(&hasher.finalize()),
        })
    }

    async fn put_object(
        &self,
        key: &str,
        content_type: &HeaderValue,
        body: Bytes,
    ) -> Result<(), StorageError> {
        let request = self
            .request(Method::PUT, &self.object_path(key), &[])
            .header(header::CONTENT_TYPE, content_type.clone())
            .timeout(WRITE_TIMEOUT)
            .body(body);
        self.expect_success("PutObject", request).await.map(drop)
    }

    async fn create_multipart(
        &self,
        key: &str,
        content_type: &HeaderValue,
    ) -> Result<MultipartUpload, StorageError> {
        let request = self
            .request(Method::POST, &self.object_path(key), &[("uploads", "")])
            .header(header::CONTENT_TYPE, content_type.clone());
        let response = self
            .expect_success("CreateMultipartUpload", request)
            .await?;
        let text = response
            .text()
            .await
            .map_err(|e| network_error("CreateMultipartUpload", e))?;
        let upload_id = xml_text(&text, "UploadId")
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                StorageError::Other("S3 CreateMultipartUpload answered without an UploadId".into())
            })?;
        Ok(MultipartUpload {
            storage: self.clone(),
            key: key.to_string(),
            upload_id,
            etags: Vec::new(),
            finished: false,
        })
    }

    pub(super) async fn get(
        &self,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<GetResult, StorageError> {
        if let Some(r) = range
            && r.start > r.end_inclusive
        {
            let size = self.head(key).await?.size;
            return Err(StorageError::RangeNotSatisfiable { size });
        }
        let mut request = self.request(Method::GET, &self.object_path(key), &[]);
        if let Some(r) = range {
            request = request.header(
                header::RANGE,
                format!("bytes={}-{}", r.start, r.end_inclusive),
            );
        }
        let response = self.send("GetObject", request).await?;
        let status = response.status();
        let (size, content_length, served) = match status {
            StatusCode::OK => {
                let size = header_u64(response.headers(), header::CONTENT_LENGTH)?;
                (size, size, None)
            }
            StatusCode::PARTIAL_CONTENT => {
                let (start, end, size) = response
                    .headers()
                    .get(header::CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_content_range)
                    .ok_or_else(|| {
                        StorageError::Other(
                            "S3 answered a range request without a valid Content-Range".into(),
                        )
                    })?;
                (size, end - start + 1, Some((start, end)))
            }
            StatusCode::RANGE_NOT_SATISFIABLE => {
                let size = match response
                    .headers()
                    .get(header::CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("bytes */"))
                    .and_then(|v| v.parse().ok())
                {
                    Some(size) => size,
                    None => self.head(key).await?.size,
                };
                return Err(StorageError::RangeNotSatisfiable { size });
            }
            _ => return Err(self.error_from("GetObject", response).await),
        };
        let stream = response
            .bytes_stream()
            .map(|chunk| chunk.map_err(|e| io::Error::other(e.without_url())));
        Ok(GetResult {
            body: Body::from_stream(stream),
            size,
            content_length,
            range: served,
        })
    }

    pub(super) async fn head(&self, key: &str) -> Result<ObjectInfo, StorageError> {
        let request = self.request(Method::HEAD, &self.object_path(key), &[]);
        let response = self.expect_success("HeadObject", request).await?;
        // From the header: a HEAD response has no body, so the body's length would say 0.
        let size = header_u64(response.headers(), header::CONTENT_LENGTH)?;
        Ok(ObjectInfo { size })
    }

    pub(super) async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let request = self.request(Method::DELETE, &self.object_path(key), &[]);
        match self.expect_success("DeleteObject", request).await {
            Ok(_) | Err(StorageError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn bucket_path(&self) -> String {
        if self.inner.base_path.is_empty() {
            "/".to_string()
        } else {
            self.inner.base_path.clone()
        }
    }

    fn object_path(&self, key: &str) -> String {
        format!("{}/{}", self.inner.base_path, uri_encode(key, false))
    }

    /// A signed request. `path` must already be URI-encoded; `query` is raw.
    fn request(&self, method: Method, path: &str, query: &[(&str, &str)]) -> RequestBuilder {
        self.request_at(method, path, query, OffsetDateTime::now_utc())
    }

    fn request_at(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        now: OffsetDateTime,
    ) -> RequestBuilder {
        let inner = &self.inner;
        let mut url = inner.base.clone();
        url.set_path(path);
        let canonical_query = canonical_query(query);
        url.set_query(
            Some(&canonical_query)
                .filter(|q| !q.is_empty())
                .map(String::as_str),
        );
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            (None, _) => String::new(),
        };
        let amz_date = amz_date(now);
        let token = inner.credentials.session_token.as_ref().map(Secret::expose);

        let mut headers = vec![
            ("host", host.as_str()),
            ("x-amz-content-sha256", UNSIGNED_PAYLOAD),
            ("x-amz-date", amz_date.as_str()),
        ];
        if let Some(token) = token {
            headers.push(("x-amz-security-token", token));
        }
        let authorization = authorization(&SigningRequest {
            method: method.as_str(),
            canonical_uri: url.path(),
            canonical_query: &canonical_query,
            headers: &headers,
            payload_hash: UNSIGNED_PAYLOAD,
            amz_date: &amz_date,
            region: &inner.region,
            access_key_id: &inner.credentials.access_key_id,
            secret_access_key: inner.credentials.secret_access_key.expose(),
        });

        let mut request = inner
            .client
            .request(method, url)
            // Set explicitly so the signed host is exactly the one sent.
            .header(header::HOST, &host)
            .header("x-amz-content-sha256", UNSIGNED_PAYLOAD)
            .header("x-amz-date", &amz_date)
            .header(header::AUTHORIZATION, authorization);
        if let Some(token) = token {
            request = request.header("x-amz-security-token", token);
        }
        request
    }

    async fn send(&self, what: &str, request: RequestBuilder) -> Result<Response, StorageError> {
        request.send().await.map_err(|e| network_error(what, e))
    }

    async fn expect_success(
        &self,
        what: &str,
        request: RequestBuilder,
    ) -> Result<Response, StorageError> {
        let response = self.send(what, request).await?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(self.error_from(what, response).await)
        }
    }

    async fn error_from(&self, what: &str, response: Response) -> StorageError {
        let status = response.status();
        let error = S3ErrorBody::read(response).await;
        if error.code.as_deref() == Some("NoSuchBucket") {
            return StorageError::Other(format!(
                "the S3 bucket `{}` does not exist at {}",
                self.inner.bucket, self.inner.endpoint_label
            ));
        }
        classify(what, status, &error)
    }
}

/// An upload in parts. Aborted explicitly on every error; if the future driving it is dropped
/// (a cancelled request), `Drop` starts the abort in the background so S3 does not keep — and
/// bill for — the orphaned parts.
struct MultipartUpload {
    storage: S3Storage,
    key: String,
    upload_id: String,
    etags: Vec<String>,
    finished: bool,
}

impl MultipartUpload {
    fn path(&self) -> String {
        self.storage.object_path(&self.key)
    }

    async fn upload_part(&mut self, part: Bytes) -> Result<(), StorageError> {
        let number = (self.etags.len() + 1).to_string();
        let request = self
            .storage
            .request(
                Method::PUT,
                &self.path(),
                &[("partNumber", &number), ("uploadId", &self.upload_id)],
            )
            .timeout(WRITE_TIMEOUT)
            .body(part);
        let response = self.storage.expect_success("UploadPart", request).await?;
        let etag = response
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| StorageError::Other("S3 UploadPart answered without an ETag".into()))?;
        self.etags.push(etag.to_string());
        Ok(())
    }

    async fn complete(&mut self) -> Result<(), StorageError> {
        let mut body = String::from("<CompleteMultipartUpload>");
        for (i, etag) in self.etags.iter().enumerate() {
            body.push_str(&format!(
                "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
                i + 1,
                xml_escape(etag)
            ));
        }
        body.push_str("</CompleteMultipartUpload>");
        let request = self
            .storage
            .request(Method::POST, &self.path(), &[("uploadId", &self.upload_id)])
            .header(header::CONTENT_TYPE, "application/xml")
            .timeout(WRITE_TIMEOUT)
            .body(body);
        let response = self
            .storage
            .expect_success("CompleteMultipartUpload", request)
            .await?;
        // S3 may answer 200 and still fail: the error then comes in the body.
        let text = response
            .text()
            .await
            .map_err(|e| network_error("CompleteMultipartUpload", e))?;
        if text.contains("<Error>") {
            let error = S3ErrorBody::parse(&text);
            return Err(classify(
                "CompleteMultipartUpload",
                StatusCode::INTERNAL_SERVER_ERROR,
                &error,
            ));
        }
        self.finished = true;
        Ok(())
    }

    async fn abort(mut self) {
        self.finished = true;
        abort_upload(&self.storage, &self.key, &self.upload_id).await;
    }
}

impl Drop for MultipartUpload {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let storage = self.storage.clone();
            let key = std::mem::take(&mut self.key);
            let upload_id = std::mem::take(&mut self.upload_id);
            runtime.spawn(async move { abort_upload(&storage, &key, &upload_id).await });
        }
    }
}

async fn abort_upload(storage: &S3Storage, key: &str, upload_id: &str) {
    let request = storage.request(
        Method::DELETE,
        &storage.object_path(key),
        &[("uploadId", upload_id)],
    );
    match storage
        .expect_success("AbortMultipartUpload", request)
        .await
    {
        Ok(_) | Err(StorageError::NotFound) => {}
        Err(e) => tracing::warn!(
            key,
            error = %e,
            "could not abort an S3 multipart upload; a lifecycle rule \
             (AbortIncompleteMultipartUpload) will clean it up"
        ),
    }
}

/// Grows `buffer` for `additional` more bytes without letting the usual doubling overshoot a part
/// by up to another 8 MiB.
fn reserve_bounded(buffer: &mut Vec<u8>, additional: usize) {
    let needed = buffer.len() + additional;
    if needed <= buffer.capacity() {
        return;
    }
    let target = (buffer.capacity() * 2).clamp(needed, needed.max(PART_SIZE + additional));
    buffer.reserve_exact(target - buffer.len());
}

fn resolve_credentials(config: &S3Config) -> Result<Credentials, StorageError> {
    match (&config.access_key_id, &config.secret_access_key) {
        (Some(id), Some(secret)) => Ok(Credentials {
            access_key_id: id.clone(),
            secret_access_key: secret.clone(),
            session_token: None,
        }),
        (None, None) => {
            let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
            match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
                (Some(id), Some(secret)) => Ok(Credentials {
                    access_key_id: id,
                    secret_access_key: Secret::new(secret),
                    session_token: var("AWS_SESSION_TOKEN").map(Secret::new),
                }),
                _ => Err(StorageError::Other(
                    "no S3 credentials: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or \
                     AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); instance roles and ~/.aws \
                     profiles are not read"
                        .into(),
                )),
            }
        }
        _ => Err(StorageError::Other(
            "set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither".into(),
        )),
    }
}

fn network_error(what: &str, error: reqwest::Error) -> StorageError {
    // Without the URL: presigned or not, URLs are not for logs, and the chain below says enough.
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    StorageError::Unavailable(format!("S3 {what} failed: {message}"))
}

fn header_u64(headers: &HeaderMap, name: header::HeaderName) -> Result<u64, StorageError> {
    headers
        .get(&name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| StorageError::Other(format!("S3 answered without a valid {name} header")))
}

/// `bytes START-END/SIZE` -> (start, end, size).
fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (span, size) = rest.split_once('/')?;
    let (start, end) = span.split_once('-')?;
    let (start, end, size) = (
        start.trim().parse().ok()?,
        end.trim().parse().ok()?,
        size.trim().parse().ok()?,
    );
    (start <= end && end < size).then_some((start, end, size))
}

/// The `Code` and `Message` of an S3 error document, when there is one (HEAD answers have none).
#[derive(Debug, Default)]
struct S3ErrorBody {
    code: Option<String>,
    message: Option<String>,
}

impl S3ErrorBody {
    async fn read(mut response: Response) -> S3ErrorBody {
        let mut body = Vec::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            body.extend_from_slice(&chunk);
            if body.len() >= ERROR_BODY_LIMIT {
                break;
            }
        }
        S3ErrorBody::parse(&String::from_utf8_lossy(&body))
    }

    fn parse(text: &str) -> S3ErrorBody {
        S3ErrorBody {
            code: xml_text(text, "Code"),
            message: xml_text(text, "Message"),
        }
    }
}

fn classify(what: &str, status: StatusCode, error: &S3ErrorBody) -> StorageError {
    let code = error.code.as_deref();
    if status == StatusCode::NOT_FOUND && matches!(code, None | Some("NoSuchKey")) {
        return StorageError::NotFound;
    }
    let mut detail = status.to_string();
    if let Some(code) = code {
        detail.push_str(&format!(", {code}"));
    }
    if let Some(message) = &error.message {
        detail.push_str(&format!(": {message}"));
    }
    let retryable = status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || matches!(
            code,
            Some("SlowDown" | "RequestTimeout" | "InternalError" | "ServiceUnavailable")
        );
    if retryable {
        StorageError::Unavailable(format!("S3 {what} failed ({detail})"))
    } else if status == StatusCode::FORBIDDEN {
        StorageError::Other(format!(
            "S3 refused {what} ({detail}); check the credentials and the bucket's permissions"
        ))
    } else {
        StorageError::Other(format!("S3 {what} failed ({detail})"))
    }
}

fn other_detail(error: &StorageError) -> String {
    match error {
        StorageError::Other(message) | StorageError::Unavailable(message) => message.clone(),
        other => other.to_string(),
    }
}

/// The text of the first `<tag>...</tag>`. S3's documents are flat enough that this is all the
/// XML reading we need.
fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(xml_unescape(&xml[start..end]))
}

fn xml_unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    fn test_config(endpoint: Option<&str>, force_path_style: bool) -> S3Config {
        S3Config {
            bucket: "media".into(),
            endpoint: endpoint.map(|e| Url::parse(e).expect("endpoint")),
            region: "eu-west-1".into(),
            access_key_id: Some(ACCESS_KEY.into()),
            secret_access_key: Some(Secret::new(SECRET_KEY.into())),
            force_path_style,
        }
    }

    /// Expected values computed with botocore's `S3SigV4Auth` (payload signing off) for the same
    /// request, time and credentials: the whole path from key to wire, including a session token
    /// and an encoded key and upload id.
    #[test]
    fn requests_are_addressed_and_signed_like_botocore_does() {
        let config = test_config(Some("http://127.0.0.1:9000"), true);
        let credentials = Credentials {
            access_key_id: ACCESS_KEY.into(),
            secret_access_key: Secret::new(SECRET_KEY.into()),
            session_token: Some(Secret::new("session/token+x=".into())),
        };
        let storage = S3Storage::new(&config, credentials).expect("storage");
        let at = OffsetDateTime::from_unix_timestamp(1_704_164_645).expect("timestamp");
        let cases = [
            (
                Method::PUT,
                "assets/u1/a bü.png",
                vec![("partNumber", "2"), ("uploadId", "abc/def=")],
                "http://127.0.0.1:9000/media/assets/u1/a%20b%C3%BC.png?partNumber=2&uploadId=abc%2Fdef%3D",
                "1c410fa4b978be3ebbb39f87a6a6a638514d5332fb863da80a2f910c13d93367",
            ),
            (
                Method::POST,
                "assets/u1/x.png",
                vec![("uploads", "")],
                "http://127.0.0.1:9000/media/assets/u1/x.png?uploads=",
                "5c8873fb25a906bb0e7ed8fac44b108951e63520c2edf6c89bd0f135919de98f",
            ),
        ];
        for (method, key, query, url, expected_signature) in cases {
            let request = storage
                .request_at(method, &storage.object_path(key), &query, at)
                .build()
                .expect("request");
            assert_eq!(request.url().as_str(), url, "case {key}");
            let header = |name: &str| {
                request
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string()
            };
            assert_eq!(header("host"), "127.0.0.1:9000");
            assert_eq!(header("x-amz-security-token"), "session/token+x=");
            assert_eq!(
                header("authorization"),
                format!(
                    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240102/eu-west-1/s3/aws4_request, \
                     SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, \
                     Signature={expected_signature}"
                ),
                "case {key}"
            );
        }
    }

    #[test]
    fn virtual_host_style_puts_the_bucket_in_the_host_name() {
        let storage = S3Storage::new(
            &test_config(None, false),
            resolve_credentials(&test_config(None, false)).expect("credentials"),
        )
        .expect("storage");
        let request = storage
            .request(Method::GET, &storage.object_path("a/b.png"), &[])
            .build()
            .expect("request");
        assert_eq!(
            request.url().as_str(),
            "https://media.s3.eu-west-1.amazonaws.com/a/b.png"
        );
        let bucket = storage
            .request(Method::HEAD, &storage.bucket_path(), &[])
            .build()
            .expect("request");
        assert_eq!(
            bucket.url().as_str(),
            "https://media.s3.eu-west-1.amazonaws.com/"
        );
    }

    #[test]
    fn content_range_answers_are_read_and_checked() {
        assert_eq!(parse_content_range("bytes 0-99/1000"), Some((0, 99, 1000)));
        assert_eq!(parse_content_range("bytes 5-5/6"), Some((5, 5, 6)));
        for bad in [
            "bytes */1000",
            "bytes 9-5/1000",
            "bytes 0-1000/1000",
            "0-9/10",
            "",
        ] {
            assert_eq!(parse_content_range(bad), None, "case {bad:?}");
        }
    }

    #[test]
    fn error_documents_are_read_and_classified() {
        let body = S3ErrorBody::parse(
            "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code>\
             <Message>Please reduce your request rate &amp; retry.</Message></Error>",
        );
        assert_eq!(body.code.as_deref(), Some("SlowDown"));
        assert_eq!(
            body.message.as_deref(),
            Some("Please reduce your request rate & retry.")
        );

        let none = S3ErrorBody::default();
        let cases: &[(StatusCode, Option<&str>, &str)] = &[
            (StatusCode::NOT_FOUND, None, "not_found"),
            (StatusCode::NOT_FOUND, Some("NoSuchKey"), "not_found"),
            (StatusCode::SERVICE_UNAVAILABLE, Some("SlowDown"), "retry"),
            (StatusCode::INTERNAL_SERVER_ERROR, None, "retry"),
            (StatusCode::TOO_MANY_REQUESTS, None, "retry"),
            (StatusCode::BAD_REQUEST, Some("RequestTimeout"), "retry"),
            (
                StatusCode::FORBIDDEN,
                Some("SignatureDoesNotMatch"),
                "other",
            ),
            (StatusCode::BAD_REQUEST, Some("InvalidArgument"), "other"),
        ];
        for (status, code, expected) in cases {
            let error = S3ErrorBody {
                code: code.map(str::to_owned),
                ..S3ErrorBody::default()
            };
            let got = match classify("Op", *status, &error) {
                StorageError::NotFound => "not_found",
                StorageError::Unavailable(_) => "retry",
                StorageError::Other(_) => "other",
                other => panic!("unexpected {other:?}"),
            };
            assert_eq!(got, *expected, "case {status} {code:?}");
        }
        assert!(
            classify("Op", StatusCode::FORBIDDEN, &none)
                .to_string()
                .contains("check the credentials")
        );
    }

    #[test]
    fn xml_text_unescapes_and_escape_round_trips() {
        assert_eq!(
            xml_text("<a><UploadId>x&amp;y</UploadId></a>", "UploadId").as_deref(),
            Some("x&y")
        );
        assert_eq!(xml_text("<a></a>", "UploadId"), None);
        let etag = "\"abc<&>'\"";
        assert_eq!(xml_unescape(&xml_escape(etag)), etag);
    }

    #[test]
    fn the_part_buffer_never_grows_far_past_one_part() {
        let mut buffer = Vec::new();
        let chunk = 64 * 1024;
        while buffer.len() <= PART_SIZE {
            reserve_bounded(&mut buffer, chunk);
            buffer.extend(std::iter::repeat_n(0u8, chunk));
            assert!(
                buffer.capacity() <= PART_SIZE + chunk,
                "{}",
                buffer.capacity()
            );
        }
    }

    #[test]
    fn credentials_from_the_configuration_win_and_half_pairs_are_refused() {
        let mut config = S3Config {
            bucket: "b".into(),
            endpoint: None,
            region: "us-east-1".into(),
            access_key_id: Some("id".into()),
            secret_access_key: Some(Secret::new("hunter2".into())),
            force_path_style: false,
        };
        let credentials = resolve_credentials(&config).expect("credentials");
        assert_eq!(credentials.access_key_id, "id");
        assert!(!format!("{credentials:?}").contains("hunter2"));

        config.secret_access_key = None;
        assert!(resolve_credentials(&config).is_err());
    }
}

//! S3-compatible object storage (AWS S3, SeaweedFS, Garage, R2, moto...) through `aws-sdk-s3`.
//!
//! The SDK brings what a hand-written client could not reasonably keep up with: the whole AWS
//! credential chain (environment, `~/.aws` profiles, web identity, ECS and instance roles, SSO
//! caches), request signing, and standard retries with backoff. What stays ours: streaming an
//! upload into bounded parts while hashing it, aborting unfinished multipart uploads, and
//! mapping the SDK's errors onto `StorageError` without secrets, URLs or local paths in them.
//!
//! Payloads are sent unsigned (`UNSIGNED-PAYLOAD`) and without the SDK's default CRC32 trailer:
//! hashing each part once more for the signature would double the CPU per byte for nothing TLS
//! does not already give, and S3-compatible servers vary in their support for trailing checksums.

use std::{io, time::Duration};

use aws_config::{BehaviorVersion, Region, retry::RetryConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_s3::{
    Client,
    config::{
        Credentials, RequestChecksumCalculation, ResponseChecksumValidation,
        SharedCredentialsProvider, StalledStreamProtectionConfig, http::HttpResponse,
        timeout::TimeoutConfig,
    },
    error::{ProvideErrorMetadata, SdkError},
    operation::{get_object::GetObjectError, head_object::HeadObjectError},
    primitives::ByteStream,
    types::{
        BucketLocationConstraint, CompletedMultipartUpload, CompletedPart,
        CreateBucketConfiguration,
    },
};
use aws_smithy_http_client::tls;
use axum::body::Body;
use axum::http::HeaderValue;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};

use super::{ByteRange, GetResult, ObjectInfo, PutResult, StorageError, hex};
use crate::config::S3Config;

/// Objects that end below this size go up in one PutObject; larger ones in parts of this size.
/// 8 MiB is above S3's 5 MiB minimum part size and keeps at most one part in memory per upload.
pub const PART_SIZE: usize = 8 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// One try of one call, up to the response's headers (a download's body streams on past it).
/// Generous: a part is at most 8 MiB, so only a stalled connection gets near this.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(300);
/// All tries of one call together, so retries cannot stretch a call without end.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(900);
/// A health probe answers quickly or counts as down; it is not retried.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// A body that moves less than a byte a second for this long is given up on.
const STALL_GRACE: Duration = Duration::from_secs(30);
/// Without S3_REGION and without a region in the AWS configuration: MinIO and most
/// S3-compatible servers accept this one, and it is where AWS puts buckets by default.
const FALLBACK_REGION: &str = "us-east-1";

#[derive(Debug, Clone)]
pub struct S3Storage {
    client: Client,
    bucket: String,
    region: String,
    /// For messages: scheme, host and port only, never user info.
    endpoint_label: String,
}

impl S3Storage {
    pub(super) async fn connect(config: &S3Config) -> Result<S3Storage, StorageError> {
        let storage = S3Storage::new(config).await?;
        storage.ensure_bucket().await?;
        Ok(storage)
    }

    async fn new(config: &S3Config) -> Result<S3Storage, StorageError> {
        if config.bucket.is_empty() {
            return Err(StorageError::Other("S3_BUCKET is empty".into()));
        }
        let endpoint = match &config.endpoint {
            None => None,
            Some(url) => {
                let mut url = url.clone();
                // User info in S3_ENDPOINT would otherwise travel in every request line and
                // error; the credentials are configured separately.
                let _ = url.set_username("");
                let _ = url.set_password(None);
                url.set_query(None);
                url.set_fragment(None);
                Some(url)
            }
        };
        let endpoint_label = match &endpoint {
            None => "AWS S3".to_string(),
            Some(url) => match (url.host_str(), url.port()) {
                (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
                (Some(host), None) => format!("{}://{host}", url.scheme()),
                (None, _) => {
                    return Err(StorageError::Other("S3_ENDPOINT has no host name".into()));
                }
            },
        };

        // ring, which rustls already uses for the rest of the app, rather than the SDK's
        // default aws-lc: one crypto library less to build and ship.
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client)
            .retry_config(RetryConfig::standard())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            )
            .stalled_stream_protection(
                StalledStreamProtectionConfig::enabled()
                    .grace_period(STALL_GRACE)
                    .build(),
            );
        // Without S3_REGION the loader's own chain (AWS_REGION, the profile, IMDS) is asked; a
        // separate RegionProviderChain would not get the HTTP client configured here.
        if let Some(region) = &config.region {
            loader = loader.region(Region::new(region.clone()));
        }
        // Keys in the studio's own settings win; without them the SDK's default chain decides.
        if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
            loader = loader.credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                id,
                secret.expose(),
                None,
                None,
                "S3_ACCESS_KEY_ID",
            )));
        }
        let shared = loader.load().await;
        let region = shared
            .region()
            .cloned()
            .unwrap_or_else(|| Region::from_static(FALLBACK_REGION));

        let mut s3 = aws_sdk_s3::config::Builder::from(&shared)
            .region(region.clone())
            .force_path_style(config.force_path_style)
            // Only where S3 insists: see the module comment.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(url) = &endpoint {
            s3 = s3.endpoint_url(url.as_str().trim_end_matches('/'));
        }
        Ok(S3Storage {
            client: Client::from_conf(s3.build()),
            bucket: config.bucket.clone(),
            region: region.to_string(),
            endpoint_label,
        })
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn ensure_bucket(&self) -> Result<(), StorageError> {
        let error = match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => return Ok(()),
            Err(error) => error,
        };
        if status_of(&error) != Some(404) {
            return Err(self.bucket_error(error));
        }

        tracing::info!(bucket = %self.bucket, endpoint = %self.endpoint_label, "creating the S3 bucket");
        let mut create = self.client.create_bucket().bucket(&self.bucket);
        // us-east-1 is the default location and refuses to be named explicitly.
        if self.region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                    .build(),
            );
        }
        let error = match create.send().await {
            Ok(_) => return Ok(()),
            Err(error) => error,
        };
        // Another instance may have created it between our two calls.
        if error
            .as_service_error()
            .and_then(ProvideErrorMetadata::code)
            == Some("BucketAlreadyOwnedByYou")
        {
            return Ok(());
        }
        Err(match sdk_error("CreateBucket", error) {
            StorageError::Unavailable(message) => StorageError::Unavailable(message),
            other => StorageError::Other(format!(
                "the S3 bucket `{}` at {} does not exist and could not be created ({}); \
                 create it, or give these credentials permission to (s3:CreateBucket)",
                self.bucket,
                self.endpoint_label,
                other_detail(&other)
            )),
        })
    }

    /// A clear start-up or health message for a bucket we cannot use.
    fn bucket_error<E>(&self, error: SdkError<E, HttpResponse>) -> StorageError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let bucket_region = error
            .raw_response()
            .and_then(|r| r.headers().get("x-amz-bucket-region"))
            .map(str::to_owned);
        if let Some(actual) = bucket_region
            && actual != self.region
        {
            return StorageError::Other(format!(
                "the S3 bucket `{}` is in region {actual}, not {}; set S3_REGION={actual}",
                self.bucket, self.region
            ));
        }
        match status_of(&error) {
            Some(404) => StorageError::Other(format!(
                "the S3 bucket `{}` does not exist at {}",
                self.bucket, self.endpoint_label
            )),
            Some(status @ (401 | 403)) => StorageError::Other(format!(
                "S3 at {} refused access to the bucket `{}` ({status}); check the access key, \
                 the secret key, the region and the bucket's permissions",
                self.endpoint_label, self.bucket
            )),
            _ => sdk_error("HeadBucket", error),
        }
    }

    pub(super) async fn check(&self) -> Result<(), StorageError> {
        let probe = self
            .client
            .head_bucket()
            .bucket(&self.bucket)
            .customize()
            .config_override(
                aws_sdk_s3::config::Builder::new()
                    .retry_config(RetryConfig::standard().with_max_attempts(1))
                    .timeout_config(
                        TimeoutConfig::builder()
                            .operation_timeout(CHECK_TIMEOUT)
                            .build(),
                    ),
            )
            .send()
            .await;
        probe.map(drop).map_err(|e| self.bucket_error(e))
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
        let content_type = if HeaderValue::from_str(content_type).is_ok() {
            content_type
        } else {
            "application/octet-stream"
        };
        let mut upload = None;
        let result = self
            .upload(key, content_type, &mut body, max_bytes, &mut upload)
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
        content_type: &str,
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
                self.client
                    .put_object()
                    .bucket(&self.bucket)
                    .key(key)
                    .content_type(content_type)
                    .body(ByteStream::from(Bytes::from(buffer)))
                    .customize()
                    .disable_payload_signing()
                    .send()
                    .await
                    .map_err(|e| self.op_error("PutObject", e))?;
            }
            Some(multipart) => {
                // Never empty here: a part is only cut while more bytes follow it.
                multipart.upload_part(Bytes::from(buffer)).await?;
                multipart.complete(byte_size).await?;
            }
        }
        Ok(PutResult {
            byte_size,
            sha256_hex: hex(&hasher.finalize()),
        })
    }

    async fn create_multipart(
        &self,
        key: &str,
        content_type: &str,
    ) -> Result<MultipartUpload, StorageError> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .send()
            .await
            .map_err(|e| self.op_error("CreateMultipartUpload", e))?;
        let upload_id = created
            .upload_id
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                StorageError::Other("S3 CreateMultipartUpload answered without an UploadId".into())
            })?;
        Ok(MultipartUpload {
            storage: self.clone(),
            key: key.to_string(),
            upload_id,
            parts: Vec::new(),
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
        let mut request = self.client.get_object().bucket(&self.bucket).key(key);
        if let Some(r) = range {
            request = request.range(format!("bytes={}-{}", r.start, r.end_inclusive));
        }
        let output = match request.send().await {
            Ok(output) => output,
            Err(error) => {
                if status_of(&error) == Some(416) {
                    let size = match error
                        .raw_response()
                        .and_then(|r| r.headers().get("content-range"))
                        .and_then(|v| v.strip_prefix("bytes */"))
                        .and_then(|v| v.parse().ok())
                    {
                        Some(size) => size,
                        None => self.head(key).await?.size,
                    };
                    return Err(StorageError::RangeNotSatisfiable { size });
                }
                if matches!(error.as_service_error(), Some(GetObjectError::NoSuchKey(_))) {
                    return Err(StorageError::NotFound);
                }
                return Err(self.op_error("GetObject", error));
            }
        };
        let length = output
            .content_length
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| {
                StorageError::Other("S3 answered without a valid Content-Length".into())
            })?;
        // A server that ignores the Range header answers with the whole object and no
        // Content-Range; that is served as the whole object.
        let (size, served) = match output.content_range.as_deref() {
            Some(value) if range.is_some() => {
                let (start, end, size) = parse_content_range(value).ok_or_else(|| {
                    StorageError::Other(
                        "S3 answered a range request without a valid Content-Range".into(),
                    )
                })?;
                if end - start + 1 != length {
                    return Err(StorageError::Other(
                        "S3's Content-Range does not match its Content-Length".into(),
                    ));
                }
                (size, Some((start, end)))
            }
            _ => (length, None),
        };
        Ok(GetResult {
            body: Body::from_stream(byte_stream(output.body)),
            size,
            content_length: length,
            range: served,
        })
    }

    pub(super) async fn head(&self, key: &str) -> Result<ObjectInfo, StorageError> {
        let output = match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => output,
            Err(error)
                if matches!(error.as_service_error(), Some(HeadObjectError::NotFound(_))) =>
            {
                return Err(StorageError::NotFound);
            }
            Err(error) => return Err(self.op_error("HeadObject", error)),
        };
        let size = output
            .content_length
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| {
                StorageError::Other("S3 answered without a valid Content-Length".into())
            })?;
        Ok(ObjectInfo { size })
    }

    pub(super) async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let result = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        match result.map_err(|e| self.op_error("DeleteObject", e)) {
            Ok(_) | Err(StorageError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// An error of a call on an object. A missing bucket is named as such: it is a
    /// configuration problem, not a missing object.
    fn op_error<E>(&self, what: &str, error: SdkError<E, HttpResponse>) -> StorageError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if error
            .as_service_error()
            .and_then(ProvideErrorMetadata::code)
            == Some("NoSuchBucket")
        {
            return StorageError::Other(format!(
                "the S3 bucket `{}` does not exist at {}",
                self.bucket, self.endpoint_label
            ));
        }
        sdk_error(what, error)
    }
}

/// The download as the stream `Body` wants, ending after the first error: the SDK's stream
/// does not promise what comes after one.
fn byte_stream(body: ByteStream) -> impl Stream<Item = Result<Bytes, io::Error>> + Send {
    futures_util::stream::unfold(Some(body), |state| async move {
        let mut body = state?;
        match body.next().await {
            None => None,
            Some(Ok(chunk)) => Some((Ok(chunk), Some(body))),
            Some(Err(e)) => Some((
                Err(io::Error::other(format!(
                    "S3 download broke off: {}",
                    chain(&e)
                ))),
                None,
            )),
        }
    })
}

/// An upload in parts. Aborted explicitly on every error; if the future driving it is dropped
/// (a cancelled request), `Drop` starts the abort in the background so S3 does not keep — and
/// bill for — the orphaned parts.
struct MultipartUpload {
    storage: S3Storage,
    key: String,
    upload_id: String,
    parts: Vec<CompletedPart>,
    finished: bool,
}

impl MultipartUpload {
    async fn upload_part(&mut self, part: Bytes) -> Result<(), StorageError> {
        let number = i32::try_from(self.parts.len() + 1)
            .map_err(|_| StorageError::Other("too many parts for one S3 upload".into()))?;
        let storage = &self.storage;
        let output = storage
            .client
            .upload_part()
            .bucket(&storage.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .part_number(number)
            .body(ByteStream::from(part))
            .customize()
            .disable_payload_signing()
            .send()
            .await
            .map_err(|e| storage.op_error("UploadPart", e))?;
        let etag = output
            .e_tag
            .ok_or_else(|| StorageError::Other("S3 UploadPart answered without an ETag".into()))?;
        self.parts.push(
            CompletedPart::builder()
                .part_number(number)
                .e_tag(etag)
                .build(),
        );
        Ok(())
    }

    async fn complete(&mut self, byte_size: u64) -> Result<(), StorageError> {
        let storage = &self.storage;
        // The SDK turns S3's "200 with an error document" answer into an error as well.
        let answer = storage
            .client
            .complete_multipart_upload()
            .bucket(&storage.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(self.parts.clone()))
                    .build(),
            )
            .send()
            .await;
        if let Err(error) = answer {
            let unreadable_success = error.as_service_error().is_some_and(|e| e.code().is_none())
                && error.raw_response().map(|r| r.status().as_u16()) == Some(200);
            let failure = storage.op_error("CompleteMultipartUpload", error);
            // A 200 whose body the SDK could not read (seen once from moto under load) may
            // still mean the object was assembled; S3's own advice is to check before
            // calling the upload failed. The assembled object has this upload's size and an
            // ETag ending in "-<parts>".
            if !(unreadable_success && self.was_assembled(byte_size).await) {
                return Err(failure);
            }
            tracing::warn!(key = %self.key, error = %failure, "S3 CompleteMultipartUpload answered unreadably; the object was found whole");
        }
        self.finished = true;
        Ok(())
    }

    async fn was_assembled(&self, byte_size: u64) -> bool {
        let storage = &self.storage;
        let Ok(head) = storage
            .client
            .head_object()
            .bucket(&storage.bucket)
            .key(&self.key)
            .send()
            .await
        else {
            return false;
        };
        let parts_suffix = format!("-{}\"", self.parts.len());
        head.content_length.and_then(|n| u64::try_from(n).ok()) == Some(byte_size)
            && head.e_tag.is_some_and(|etag| etag.ends_with(&parts_suffix))
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
    let result = storage
        .client
        .abort_multipart_upload()
        .bucket(&storage.bucket)
        .key(key)
        .upload_id(upload_id)
        .send()
        .await;
    match result.map_err(|e| storage.op_error("AbortMultipartUpload", e)) {
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

fn status_of<E>(error: &SdkError<E, HttpResponse>) -> Option<u16> {
    error.raw_response().map(|r| r.status().as_u16())
}

/// `StorageError` for an SDK error. Retryable (`Unavailable`) when the trouble may pass: no
/// connection, a timeout, throttling, a 5xx, a credential source that did not answer.
fn sdk_error<E>(what: &str, error: SdkError<E, HttpResponse>) -> StorageError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let Some(credentials) = credentials_error(&error) {
        return credentials;
    }
    match &error {
        SdkError::ServiceError(context) => {
            // Without a code the SDK could not read the answer; why it could not is the only
            // clue to what the store sent.
            let unreadable = context.err().code().is_none().then(|| chain(context.err()));
            classify(
                what,
                context.raw().status().as_u16(),
                context.err().code(),
                context.err().message().or(unreadable.as_deref()),
            )
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StorageError::Unavailable(format!("S3 {what} failed: {}", chain(&error)))
        }
        _ => StorageError::Other(format!("S3 {what} failed: {}", chain(&error))),
    }
}

/// Credentials the chain could not produce. Only the kind of failure is told: the provider's own
/// detail can name files and, for a `credential_process`, a command line.
fn credentials_error<E>(error: &SdkError<E, HttpResponse>) -> Option<StorageError>
where
    E: std::error::Error + 'static,
{
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(credentials) = cause.downcast_ref::<CredentialsError>() {
            return Some(match credentials {
                CredentialsError::ProviderTimedOut(_) | CredentialsError::ProviderError(_) => {
                    StorageError::Unavailable(
                        "the AWS credential provider did not answer; S3 cannot be signed in to"
                            .into(),
                    )
                }
                CredentialsError::CredentialsNotLoaded(_) => StorageError::Other(
                    "no S3 credentials: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or \
                     provide them the AWS way (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, \
                     AWS_PROFILE and ~/.aws files, web identity, an ECS or instance role)"
                        .into(),
                ),
                _ => StorageError::Other(
                    "the AWS credential configuration is invalid (check AWS_PROFILE and the \
                     ~/.aws files)"
                        .into(),
                ),
            });
        }
        source = cause.source();
    }
    None
}

/// An error and its causes on one line. The SDK's connection errors carry neither URLs nor
/// credentials.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // The SDK repeats a cause's text in its wrapper now and then.
        if !message.ends_with(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
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

fn classify(what: &str, status: u16, code: Option<&str>, message: Option<&str>) -> StorageError {
    if status == 404 && matches!(code, None | Some("NoSuchKey" | "NotFound")) {
        return StorageError::NotFound;
    }
    let mut detail = status.to_string();
    if let Some(code) = code {
        detail.push_str(&format!(", {code}"));
    }
    if let Some(message) = message {
        detail.push_str(&format!(": {message}"));
    }
    let retryable = status >= 500
        || status == 429
        || matches!(
            code,
            Some("SlowDown" | "RequestTimeout" | "InternalError" | "ServiceUnavailable")
        );
    if retryable {
        StorageError::Unavailable(format!("S3 {what} failed ({detail})"))
    } else if status == 403 {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn errors_are_classified() {
        let cases: &[(u16, Option<&str>, &str)] = &[
            (404, None, "not_found"),
            (404, Some("NoSuchKey"), "not_found"),
            (404, Some("NoSuchUpload"), "other"),
            (503, Some("SlowDown"), "retry"),
            (500, None, "retry"),
            (429, None, "retry"),
            (400, Some("RequestTimeout"), "retry"),
            (403, Some("SignatureDoesNotMatch"), "other"),
            (400, Some("InvalidArgument"), "other"),
        ];
        for (status, code, expected) in cases {
            let got = match classify("Op", *status, *code, None) {
                StorageError::NotFound => "not_found",
                StorageError::Unavailable(_) => "retry",
                StorageError::Other(_) => "other",
                other => panic!("unexpected {other:?}"),
            };
            assert_eq!(got, *expected, "case {status} {code:?}");
        }
        let forbidden = classify("Op", 403, None, Some("Access Denied")).to_string();
        assert!(forbidden.contains("check the credentials"), "{forbidden}");
        assert!(forbidden.contains("Access Denied"), "{forbidden}");
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
}

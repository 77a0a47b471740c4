//! A storage location opened as an object store, with the operations ark needs and errors that
//! name the location and the key.

use std::sync::Arc;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::aws::{AwsTarget, ObjectStoreCredentials};
use crate::config::{ConfigError, LocationUrl, StorageLocation, parse_location_url};
use crate::model::ResourceName;

#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// The config names no such location (or none is the default).
    #[error(transparent)]
    Location(#[from] ConfigError),
    #[error("storage location {location}: {problem}")]
    Config { location: String, problem: String },
    #[error("open storage location {location} ({url})")]
    Open { location: String, url: String, source: object_store::Error },
    #[error("storage location {location} is read-only; refusing to write {key}")]
    ReadOnly { location: String, key: String },
    #[error("{op} {key} in storage location {location}: {problem}")]
    Object { op: &'static str, key: String, location: String, problem: String, not_found: bool },
    #[error("{key} in storage location {location} is not valid JSON")]
    Decode { key: String, location: String, source: serde_json::Error },
}

impl StoreError {
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, Self::Object { not_found: true, .. })
    }

    /// Errors in what the user asked for (a location that is not configured), as opposed to
    /// failures while using one.
    pub(crate) fn is_usage(&self) -> bool {
        matches!(self, Self::Location(_))
    }
}

/// An object being downloaded: its size, and its bytes as they arrive.
pub(crate) struct Download {
    pub(crate) size: u64,
    pub(crate) chunks: BoxStream<'static, Result<Bytes, StoreError>>,
}

impl Download {
    /// The bytes as an `AsyncRead`, for readers that want one (a failed chunk is an I/O error
    /// carrying the store's message).
    pub(crate) fn into_async_read(self) -> impl tokio::io::AsyncRead + Send + Unpin + 'static {
        tokio_util::io::StreamReader::new(self.chunks.map(|chunk| chunk.map_err(std::io::Error::other)))
    }
}

/// An opened storage location. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    pub(crate) name: ResourceName,
    pub(crate) url: String,
    pub(crate) read_only: bool,
    store: Arc<dyn ObjectStore>,
    /// For `file://` locations, the directory: deleting its last object leaves an empty
    /// directory, which would still be listed as a backup (or restore) without a record.
    local_dir: Option<std::path::PathBuf>,
}

impl Bucket {
    /// Builds the client for `location`. No request is made yet, except for `file://`, whose
    /// directory is created (mode 0700) when missing.
    pub(crate) async fn open(name: &ResourceName, location: &StorageLocation) -> Result<Self, StoreError> {
        let config_err = |problem: String| StoreError::Config { location: name.to_string(), problem };
        let open_err = |source| StoreError::Open { location: name.to_string(), url: location.url.clone(), source };
        let parsed = parse_location_url(&location.url).map_err(config_err)?;
        let local_dir = match &parsed {
            LocationUrl::File { path } => Some(path.clone()),
            _ => None,
        };
        let (store, prefix): (Arc<dyn ObjectStore>, String) = match parsed {
            LocationUrl::File { path } => {
                if !location.read_only {
                    crate::fsutil::create_private_dir(&path)
                        .map_err(|e| config_err(format!("create directory {}: {e}", path.display())))?;
                }
                let fs = object_store::local::LocalFileSystem::new_with_prefix(&path).map_err(open_err)?;
                (Arc::new(fs), String::new())
            }
            LocationUrl::S3 { bucket, prefix } => {
                (Arc::new(open_s3(&bucket, location).await.map_err(open_err)?), prefix)
            }
            LocationUrl::Gcs { bucket, prefix } => {
                let gcs = object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .map_err(open_err)?;
                (Arc::new(gcs), prefix)
            }
            LocationUrl::Azure { container, prefix } => {
                let az = object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_container_name(container)
                    .build()
                    .map_err(open_err)?;
                (Arc::new(az), prefix)
            }
        };
        let store: Arc<dyn ObjectStore> =
            if prefix.is_empty() { store } else { Arc::new(PrefixStore::new(store, prefix.as_str())) };
        Ok(Self { name: name.clone(), url: location.url.clone(), read_only: location.read_only, store, local_dir })
    }

    fn object_err(&self, op: &'static str, key: &Path) -> impl FnOnce(object_store::Error) -> StoreError {
        let (key, location) = (key.to_string(), self.name.to_string());
        move |source| StoreError::Object {
            op,
            key,
            location,
            not_found: matches!(source, object_store::Error::NotFound { .. }),
            problem: concise(&source),
        }
    }

    /// For errors object_store hands over wrapped in an `io::Error` (its buffered writer's).
    fn io_err(&self, op: &'static str, key: &Path, error: &std::io::Error) -> StoreError {
        let inner = error.get_ref().and_then(|e| e.downcast_ref::<object_store::Error>());
        StoreError::Object {
            op,
            key: key.to_string(),
            location: self.name.to_string(),
            not_found: error.kind() == std::io::ErrorKind::NotFound,
            problem: inner.map_or_else(|| error.to_string(), concise),
        }
    }

    pub(crate) fn ensure_writable(&self, key: &Path) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly { location: self.name.to_string(), key: key.to_string() });
        }
        Ok(())
    }

    pub(crate) async fn put(&self, key: &Path, bytes: Bytes) -> Result<(), StoreError> {
        self.ensure_writable(key)?;
        self.store.put(key, PutPayload::from_bytes(bytes)).await.map_err(self.object_err("upload", key))?;
        Ok(())
    }

    pub(crate) async fn get(&self, key: &Path) -> Result<Bytes, StoreError> {
        let result = self.store.get(key).await.map_err(self.object_err("download", key))?;
        result.bytes().await.map_err(self.object_err("download", key))
    }

    /// A streaming download of `key`, for objects too large to hold (archives).
    pub(crate) async fn get_stream(&self, key: &Path) -> Result<Download, StoreError> {
        let result = self.store.get(key).await.map_err(self.object_err("download", key))?;
        let size = result.meta.size;
        let (key, location) = (key.to_string(), self.name.to_string());
        let chunks = result
            .into_stream()
            .map_err(move |source| StoreError::Object {
                op: "download",
                key: key.clone(),
                location: location.clone(),
                not_found: false,
                problem: concise(&source),
            })
            .boxed();
        Ok(Download { size, chunks })
    }

    /// Uploads the chunks `chunks` yields as they come, as one multipart upload to `key`, for
    /// objects too large to hold (archives); returns how many bytes went up. Nothing is visible at
    /// `key` until the last chunk is in, and a failed upload is aborted.
    pub(crate) async fn put_stream(
        &self,
        key: &Path,
        mut chunks: impl futures::Stream<Item = Vec<u8>> + Unpin,
    ) -> Result<u64, StoreError> {
        use tokio::io::AsyncWriteExt;
        self.ensure_writable(key)?;
        let mut upload =
            object_store::buffered::BufWriter::with_capacity(Arc::clone(&self.store), key.clone(), 8 * 1024 * 1024);
        let mut bytes = 0u64;
        while let Some(chunk) = chunks.next().await {
            bytes += chunk.len() as u64;
            if let Err(e) = upload.write_all(&chunk).await {
                let _ = upload.abort().await;
                return Err(self.io_err("upload", key, &e));
            }
        }
        upload.shutdown().await.map_err(|e| self.io_err("upload", key, &e))?;
        Ok(bytes)
    }

    /// Uploads `data` gzip-compressed (logs).
    pub(crate) async fn put_gz(&self, key: &Path, data: &[u8]) -> Result<(), StoreError> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let compressed = encoder.write_all(data).and_then(|()| encoder.finish());
        // Compressing into memory only fails when memory does.
        self.put(key, compressed.unwrap_or_default().into()).await
    }

    /// Uploads `value` as gzip-compressed JSON (resource lists, snapshot lists, results).
    pub(crate) async fn put_gz_json<T: serde::Serialize>(&self, key: &Path, value: &T) -> Result<(), StoreError> {
        let json = serde_json::to_vec(value).map_err(|source| StoreError::Decode {
            key: key.to_string(),
            location: self.name.to_string(),
            source,
        })?;
        self.put_gz(key, &json).await
    }

    /// Downloads gzip-compressed content and returns it decompressed.
    pub(crate) async fn get_gz(&self, key: &Path) -> Result<Vec<u8>, StoreError> {
        use std::io::Read;
        let bytes = self.get(key).await?;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out).map_err(|e| StoreError::Object {
            op: "decompress",
            key: key.to_string(),
            location: self.name.to_string(),
            problem: e.to_string(),
            not_found: false,
        })?;
        Ok(out)
    }

    /// Downloads gzip-compressed JSON (resource lists, snapshot lists, results) and decodes it.
    pub(crate) async fn get_gz_json<T: serde::de::DeserializeOwned>(&self, key: &Path) -> Result<T, StoreError> {
        let bytes = self.get_gz(key).await?;
        self.decode(key, &bytes)
    }

    pub(crate) async fn put_json<T: serde::Serialize>(&self, key: &Path, value: &T) -> Result<(), StoreError> {
        let json = serde_json::to_vec_pretty(value).map_err(|source| StoreError::Decode {
            key: key.to_string(),
            location: self.name.to_string(),
            source,
        })?;
        self.put(key, json.into()).await
    }

    pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(&self, key: &Path) -> Result<T, StoreError> {
        let bytes = self.get(key).await?;
        self.decode(key, &bytes)
    }

    fn decode<T: serde::de::DeserializeOwned>(&self, key: &Path, bytes: &[u8]) -> Result<T, StoreError> {
        serde_json::from_slice(bytes).map_err(|source| StoreError::Decode {
            key: key.to_string(),
            location: self.name.to_string(),
            source,
        })
    }

    pub(crate) async fn delete(&self, key: &Path) -> Result<(), StoreError> {
        self.ensure_writable(key)?;
        match self.store.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(self.object_err("delete", key)(e)),
        }
        if let Some(root) = &self.local_dir {
            // Object stores have no directories; a local one must not keep empty ones behind.
            let mut parts: Vec<&str> = key.as_ref().split('/').collect();
            parts.pop();
            while !parts.is_empty() && std::fs::remove_dir(parts.iter().fold(root.clone(), |d, p| d.join(p))).is_ok() {
                parts.pop();
            }
        }
        Ok(())
    }

    /// The names of the "directories" directly under `prefix` (`backups/` -> backup names).
    pub(crate) async fn list_dirs(&self, prefix: &Path) -> Result<Vec<String>, StoreError> {
        let listing = self.store.list_with_delimiter(Some(prefix)).await.map_err(self.object_err("list", prefix))?;
        Ok(listing.common_prefixes.iter().filter_map(|p| p.filename().map(str::to_owned)).collect())
    }

    /// Every key under `prefix`, recursively.
    pub(crate) async fn list_keys(&self, prefix: &Path) -> Result<Vec<Path>, StoreError> {
        self.store
            .list(Some(prefix))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(self.object_err("list", prefix))
    }

    /// Writes, reads back and deletes a probe object: proves the location is reachable, the
    /// credentials work and the bucket exists, before any real work depends on it.
    pub(crate) async fn check(&self) -> Result<(), StoreError> {
        let key = Path::from_iter([
            ".ark-check",
            &format!("{}-{}", std::process::id(), chrono::Utc::now().timestamp_micros()),
        ]);
        if self.read_only {
            self.list_dirs(&Path::from(super::BucketLayout::BACKUPS)).await?;
            return Ok(());
        }
        let probe = Bytes::from_static(b"ark storage location check\n");
        self.put(&key, probe.clone()).await?;
        let back = self.get(&key).await?;
        self.delete(&key).await?;
        if back != probe {
            return Err(StoreError::Config {
                location: self.name.to_string(),
                problem: format!("object {key} read back different bytes than were written"),
            });
        }
        Ok(())
    }
}

/// object_store's messages nest the same text several times and, for S3, whole XML bodies;
/// keep the innermost cause, and of an S3 error document only its code and message.
fn concise(error: &object_store::Error) -> String {
    let mut innermost: &dyn std::error::Error = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    let text = innermost.to_string();
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let end = start + text[start..].find(&format!("</{name}>"))?;
        Some(text[start..end].to_owned())
    };
    let status = text.split("status code: ").nth(1).and_then(|s| s.split(':').next()).map(str::to_owned);
    match (tag("Code"), tag("Message")) {
        (Some(code), Some(message)) => match status {
            Some(status) => format!("{code}: {message} (HTTP {status})"),
            None => format!("{code}: {message}"),
        },
        _ => text.lines().next().unwrap_or_default().to_owned(),
    }
}

async fn open_s3(bucket: &str, location: &StorageLocation) -> object_store::Result<object_store::aws::AmazonS3> {
    let endpoint = location
        .endpoint
        .clone()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok())
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
    let sdk = crate::aws::sdk_config(&AwsTarget {
        region: location.region.as_deref(),
        profile: location.profile.as_deref(),
        endpoint: None,
    })
    .await;
    let region = sdk.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".to_owned());
    let mut builder = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(region)
        .with_virtual_hosted_style_request(!location.path_style);
    if let Some(provider) = sdk.credentials_provider() {
        builder = builder.with_credentials(Arc::new(ObjectStoreCredentials::new(provider)));
    }
    if let Some(endpoint) = endpoint {
        builder = builder.with_allow_http(endpoint.starts_with("http://")).with_endpoint(endpoint);
    }
    builder.build()
}

//! The archive's way out: listers send batches of objects into a bounded channel; one writer
//! thread turns them into tar.gz (and the resource list) in 1 MiB chunks; the chunks flow
//! through a second bounded channel into one multipart upload. Memory stays bounded however
//! many objects there are. Also the ticker that reports how far the writer got.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use object_store::path::Path;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::BackupFailure;
use super::events::{BackupEvent, BackupObserver};
use crate::archive::{ArchiveWriter, ResourceList};
use crate::model::ResourceType;
use crate::store::{Bucket, StoreError};

/// One object on its way into the archive.
pub(super) struct ArchiveItem {
    resource: Arc<ResourceType>,
    namespace: Option<String>,
    name: String,
    json: Vec<u8>,
}

impl ArchiveItem {
    /// An object as a LIST returned it; `has_type_meta` says whether it has its apiVersion and
    /// kind (the items of a typed LIST come without, and get them back here).
    pub(super) fn listed(
        resource: &Arc<ResourceType>,
        namespace: Option<String>,
        name: String,
        raw: &RawValue,
        has_type_meta: bool,
    ) -> Self {
        let json = if has_type_meta {
            raw.get().as_bytes().to_vec()
        } else {
            with_type_meta(raw.get(), &resource.api_version(), &resource.kind)
        };
        Self {
            resource: Arc::clone(resource),
            namespace: if resource.namespaced { namespace } else { None },
            name,
            json,
        }
    }
}

/// Puts apiVersion and kind into an object, as a GET would show them, without re-serialising it.
fn with_type_meta(raw: &str, api_version: &str, kind: &str) -> Vec<u8> {
    let body = raw.trim_start().strip_prefix('{').unwrap_or(raw);
    let separator = if body.trim_start().starts_with('}') { "" } else { "," };
    let mut out = Vec::with_capacity(raw.len() + 64);
    out.extend_from_slice(b"{\"apiVersion\":");
    out.extend_from_slice(serde_json::Value::from(api_version).to_string().as_bytes());
    out.extend_from_slice(b",\"kind\":");
    out.extend_from_slice(serde_json::Value::from(kind).to_string().as_bytes());
    out.extend_from_slice(separator.as_bytes());
    out.extend_from_slice(body.as_bytes());
    out
}

/// What the pipeline wrote.
pub(super) struct WrittenArchive {
    pub(super) list: ResourceList,
    /// Compressed, as uploaded.
    pub(super) bytes: u64,
}

type Upload<'a> = Pin<Box<dyn Future<Output = Result<u64, StoreError>> + Send + 'a>>;

/// A running pipeline: the writer thread and the upload it feeds.
pub(super) struct ArchivePipeline<'a> {
    writer: tokio::task::JoinHandle<std::io::Result<ResourceList>>,
    upload: Upload<'a>,
    written: Arc<AtomicU64>,
}

impl<'a> ArchivePipeline<'a> {
    /// Starts the writer thread and the upload to `key`; returns the pipeline and where to send
    /// the objects (the archive ends when the sender is dropped). `mtime` stamps every entry;
    /// `level` is gzip's.
    pub(super) fn start(
        bucket: &'a Bucket,
        key: &'a Path,
        mtime: u64,
        level: u32,
    ) -> Result<(Self, mpsc::Sender<Vec<ArchiveItem>>), StoreError> {
        bucket.ensure_writable(key)?;
        let (item_tx, item_rx) = mpsc::channel::<Vec<ArchiveItem>>(4);
        let (chunk_tx, chunk_rx) = mpsc::channel::<Vec<u8>>(4);
        let written = Arc::new(AtomicU64::new(0));
        let writer = spawn_writer(item_rx, chunk_tx, mtime, level, Arc::clone(&written));
        let upload = Box::pin(bucket.put_stream(key, receiver_stream(chunk_rx)));
        Ok((Self { writer, upload, written }, item_tx))
    }

    /// How many objects the writer has written so far.
    pub(super) fn written(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.written)
    }

    /// Waits until the archive is written and uploaded. Run it alongside whatever sends the
    /// objects: the chunks must flow out while the objects flow in, or the bounded channels fill
    /// up and everything waits.
    pub(super) async fn finish(self) -> Result<WrittenArchive, BackupFailure> {
        let (written, uploaded) = tokio::join!(self.writer, self.upload);
        let list = match written {
            Ok(Ok(list)) => list,
            Ok(Err(e)) => return Err(BackupFailure::WriteArchive(e)),
            Err(e) => return Err(BackupFailure::WriterStopped(e)),
        };
        Ok(WrittenArchive { list, bytes: uploaded? })
    }
}

/// The receiving end of a channel as a stream, for `put_stream`.
fn receiver_stream(mut rx: mpsc::Receiver<Vec<u8>>) -> impl futures::Stream<Item = Vec<u8>> + Unpin {
    Box::pin(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)))
}

fn spawn_writer(
    mut item_rx: mpsc::Receiver<Vec<ArchiveItem>>,
    chunk_tx: mpsc::Sender<Vec<u8>>,
    mtime: u64,
    level: u32,
    written: Arc<AtomicU64>,
) -> tokio::task::JoinHandle<std::io::Result<ResourceList>> {
    tokio::task::spawn_blocking(move || {
        let mut archive = ArchiveWriter::new(ChunkWriter::new(chunk_tx), mtime, level)?;
        while let Some(batch) = item_rx.blocking_recv() {
            for item in batch {
                archive.add_item(&item.resource, item.namespace.as_deref(), &item.name, &item.json)?;
            }
            written.store(archive.items(), Ordering::Relaxed);
        }
        let (mut out, list) = archive.finish()?;
        out.flush()?;
        Ok(list)
    })
}

/// A `Write` that hands fixed-size chunks to the async upload, blocking when it falls behind.
struct ChunkWriter {
    buffer: Vec<u8>,
    tx: mpsc::Sender<Vec<u8>>,
}

const CHUNK: usize = 1024 * 1024;

impl ChunkWriter {
    fn new(tx: mpsc::Sender<Vec<u8>>) -> Self {
        Self { buffer: Vec::with_capacity(CHUNK), tx }
    }

    fn send(&mut self) -> std::io::Result<()> {
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        self.tx.blocking_send(chunk).map_err(|_| std::io::Error::other("the upload stopped"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buffer.is_empty() {
            self.send()?;
        }
        Ok(())
    }
}

/// Reports the writer's progress at most a few times a second, however many pages arrive.
pub(super) struct ProgressTicker<'a> {
    observer: &'a dyn BackupObserver,
    items: Arc<AtomicU64>,
    last: std::sync::Mutex<Instant>,
}

impl<'a> ProgressTicker<'a> {
    pub(super) fn new(observer: &'a dyn BackupObserver, items: Arc<AtomicU64>) -> Self {
        Self { observer, items, last: std::sync::Mutex::new(Instant::now()) }
    }

    pub(super) fn tick(&self) {
        let Ok(mut last) = self.last.lock() else { return };
        if last.elapsed() >= Duration::from_millis(200) {
            *last = Instant::now();
            self.observer.on_event(BackupEvent::Progress { items: self.items.load(Ordering::Relaxed), bytes: 0 });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_meta_is_added_without_reserialising() {
        let out = with_type_meta(r#"{"metadata":{"name":"a"}}"#, "apps/v1", "Deployment");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["apiVersion"], "apps/v1");
        assert_eq!(v["kind"], "Deployment");
        assert_eq!(v["metadata"]["name"], "a");
        let empty = with_type_meta("{}", "v1", "ConfigMap");
        assert_eq!(String::from_utf8(empty).unwrap(), r#"{"apiVersion":"v1","kind":"ConfigMap"}"#);
    }

    #[tokio::test]
    async fn objects_go_through_the_writer_thread_into_one_upload() {
        let dir = tempfile::tempdir().unwrap();
        let location = crate::config::StorageLocation::directory(dir.path());
        let bucket = Bucket::open(&crate::model::ResourceName::parse("local").unwrap(), &location).await.unwrap();
        let key = Path::from("backups/b/b.tar.gz");
        let (pipeline, items) = ArchivePipeline::start(&bucket, &key, 0, 1).unwrap();
        let configmaps = Arc::new(ResourceType::for_tests("", "configmaps", "ConfigMap", true));
        let raw = RawValue::from_string(r#"{"metadata":{"name":"a"}}"#.into()).unwrap();
        let send = async move {
            // More than the channels hold, so that the upload must run alongside.
            for i in 0..64 {
                let batch = vec![ArchiveItem::listed(&configmaps, Some("ns".into()), format!("c{i}"), &raw, false)];
                items.send(batch).await.unwrap();
            }
        };
        let ((), written) = tokio::join!(send, pipeline.finish());
        let written = written.unwrap();
        assert_eq!(written.list.items(), 64);
        assert_eq!(written.bytes, bucket.get(&key).await.unwrap().len() as u64);
    }
}

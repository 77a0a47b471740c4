//! Writing the archive: tar entries through gzip into any `Write`, one object at a time, so the
//! archive never has to be held in memory, and its resource list beside it. Synchronous on
//! purpose: it runs on a blocking thread fed by the listers, and is unit-tested without a
//! runtime.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

use super::{FORMAT_VERSION, ItemPath, ResourceList};
use crate::model::ResourceType;

pub(crate) struct ArchiveWriter<W: Write> {
    tar: tar::Builder<GzEncoder<W>>,
    mtime: u64,
    list: ResourceList,
}

impl<W: Write> ArchiveWriter<W> {
    /// Starts an archive with its `metadata/version` entry. `mtime` (seconds since the epoch)
    /// stamps every entry: the backup's start, so two archives of the same state are identical.
    /// `level` is gzip's, 1 (fastest) to 9 (smallest).
    pub(crate) fn new(out: W, mtime: u64, level: u32) -> std::io::Result<Self> {
        let gz = GzEncoder::new(out, Compression::new(level));
        let mut writer = Self { tar: tar::Builder::new(gz), mtime, list: ResourceList::default() };
        writer.append("metadata/version", FORMAT_VERSION.as_bytes())?;
        Ok(writer)
    }

    fn append(&mut self, path: &str, data: &[u8]) -> std::io::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(self.mtime);
        header.set_entry_type(tar::EntryType::Regular);
        // append_data writes GNU long-name records for paths over 100 bytes.
        self.tar.append_data(&mut header, path, data)
    }

    /// Adds one object, as JSON, under its group-resource path and again under its version's
    /// `-preferredversion` directory (Velero's 1.1.0 layout).
    pub(crate) fn add_item(
        &mut self,
        resource: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        json: &[u8],
    ) -> std::io::Result<()> {
        let mut path = ItemPath {
            group_resource: resource.group_resource(),
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
            version: None,
        };
        self.append(&path.render(), json)?;
        path.version = Some(resource.version.clone());
        self.append(&path.render(), json)?;
        self.list.add(resource, namespace, name);
        Ok(())
    }

    /// How many objects were added.
    pub(crate) fn items(&self) -> u64 {
        self.list.items()
    }

    /// Writes the tar trailer and the gzip footer, and returns the output and the resource list.
    pub(crate) fn finish(self) -> std::io::Result<(W, ResourceList)> {
        let gz = self.tar.into_inner()?;
        Ok((gz.finish()?, self.list))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn writes_version_and_both_copies_of_each_item() {
        let resource = ResourceType::for_tests("apps", "deployments", "Deployment", true);
        let mut writer = ArchiveWriter::new(Vec::new(), 1_700_000_000, 1).unwrap();
        let long_name = "x".repeat(200);
        writer.add_item(&resource, Some("shop"), "web", br#"{"kind":"Deployment"}"#).unwrap();
        writer.add_item(&resource, Some("shop"), &long_name, b"{}").unwrap();
        let (bytes, list) = writer.finish().unwrap();
        assert_eq!(list.items(), 2);

        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        let mut entries = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mut body = String::new();
            entry.read_to_string(&mut body).unwrap();
            entries.push((path, body));
        }
        assert_eq!(entries[0], ("metadata/version".into(), "1.1.0".into()));
        assert_eq!(entries[1].0, "resources/deployments.apps/namespaces/shop/web.json");
        assert_eq!(entries[1].1, r#"{"kind":"Deployment"}"#);
        assert_eq!(entries[2].0, "resources/deployments.apps/v1-preferredversion/namespaces/shop/web.json");
        assert_eq!(entries[3].0, format!("resources/deployments.apps/namespaces/shop/{long_name}.json"));
        assert_eq!(entries.len(), 5);
    }
}

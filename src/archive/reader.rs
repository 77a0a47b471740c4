//! Reading an archive back: every entry is checked before its content is trusted. Links,
//! devices, paths that could escape (`..`, absolute), oversized entries and unknown format
//! versions end the read with an error naming the entry. Synchronous, like the writer.

use std::io::Read;

use super::{FORMAT_VERSION, ItemPath, parse_item_path};

/// Objects larger than this are refused: etcd stores at most 1.5 MiB per object by default,
/// and a CRD with its schema stays well under this.
pub(crate) const MAX_ITEM_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ArchiveError {
    #[error("archive is corrupt or truncated: {0}")]
    Corrupt(std::io::Error),
    #[error("archive entry {0:?} is a link or special file; refusing the archive")]
    NotAFile(String),
    #[error("archive entry {0:?} has an unsafe or unknown path; refusing the archive")]
    UnsafePath(String),
    #[error("archive entry {path:?} is larger than {limit} bytes; refusing it")]
    TooLarge { path: String, limit: u64 },
    #[error("archive format version {0:?} is not supported (ark reads {FORMAT_VERSION})")]
    Version(String),
    #[error("archive has no metadata/version entry; it is not an ark or Velero backup")]
    NoVersion,
}

/// Calls `each` for every object in the archive (the `-preferredversion` copies are checked
/// and skipped). `each` may fail with its own error, which ends the read.
pub(crate) fn read_items<R: Read, E: From<ArchiveError>>(
    reader: R,
    mut each: impl FnMut(ItemPath, Vec<u8>) -> Result<(), E>,
) -> Result<u64, E> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(reader));
    let mut items = 0;
    let mut saw_version = false;
    for entry in archive.entries().map_err(ArchiveError::Corrupt)? {
        let mut entry = entry.map_err(ArchiveError::Corrupt)?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            if path.split('/').any(|p| p == "..") || path.starts_with('/') {
                return Err(ArchiveError::UnsafePath(path).into());
            }
            continue;
        }
        if !kind.is_file() {
            return Err(ArchiveError::NotAFile(path).into());
        }
        let mut body = Vec::new();
        (&mut entry).take(MAX_ITEM_BYTES + 1).read_to_end(&mut body).map_err(ArchiveError::Corrupt)?;
        if body.len() as u64 > MAX_ITEM_BYTES {
            return Err(ArchiveError::TooLarge { path, limit: MAX_ITEM_BYTES }.into());
        }
        if path == "metadata/version" {
            let version = String::from_utf8_lossy(&body).trim().to_owned();
            if version != FORMAT_VERSION {
                return Err(ArchiveError::Version(version).into());
            }
            saw_version = true;
            continue;
        }
        let item = parse_item_path(&path).ok_or_else(|| ArchiveError::UnsafePath(path.clone()))?;
        if item.version.is_some() {
            continue;
        }
        items += 1;
        each(item, body)?;
    }
    if !saw_version {
        return Err(ArchiveError::NoVersion.into());
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::ArchiveWriter;
    use crate::model::ResourceType;

    fn tar_gz(entries: &[(&str, &[u8], tar::EntryType)]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut builder = tar::Builder::new(gz);
        for (path, data, kind) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            // Write the raw name so that unsafe paths reach the reader as they would in a hostile archive.
            header.as_gnu_mut().unwrap().name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    fn read(bytes: &[u8]) -> Result<Vec<(ItemPath, Vec<u8>)>, ArchiveError> {
        let mut items = Vec::new();
        read_items::<_, ArchiveError>(bytes, |path, body| {
            items.push((path, body));
            Ok(())
        })?;
        Ok(items)
    }

    #[test]
    fn reads_back_what_the_writer_wrote() {
        let resource = ResourceType::for_tests("", "configmaps", "ConfigMap", true);
        let mut writer = ArchiveWriter::new(Vec::new(), 0, 1).unwrap();
        writer.add_item(&resource, Some("ns"), "a", b"{\"a\":1}").unwrap();
        let items = read(&writer.finish().unwrap().0).unwrap();
        assert_eq!(items.len(), 1, "preferred-version copy skipped");
        assert_eq!(items[0].0.name, "a");
        assert_eq!(items[0].1, b"{\"a\":1}");
    }

    #[test]
    fn hostile_and_broken_archives_are_refused() {
        let version: (&str, &[u8], tar::EntryType) = ("metadata/version", b"1.1.0", tar::EntryType::Regular);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                tar_gz(&[version, ("resources/pods/namespaces/../../etc/passwd.json", b"{}", tar::EntryType::Regular)]),
                "unsafe",
            ),
            (tar_gz(&[version, ("/resources/pods/cluster/x.json", b"{}", tar::EntryType::Regular)]), "unsafe"),
            (tar_gz(&[version, ("resources/pods/cluster/x.json", b"", tar::EntryType::Symlink)]), "link"),
            (tar_gz(&[("metadata/version", b"9.9.9", tar::EntryType::Regular)]), "not supported"),
            (tar_gz(&[("resources/pods/cluster/x.json", b"{}", tar::EntryType::Regular)]), "no metadata/version"),
            (b"not gzip at all".to_vec(), "corrupt"),
        ];
        for (bytes, needle) in cases {
            let err = read(&bytes).unwrap_err().to_string();
            assert!(err.contains(needle), "{needle}: {err}");
        }
        let whole = tar_gz(&[version, ("resources/pods/cluster/x.json", b"{}", tar::EntryType::Regular)]);
        let err = read(&whole[..whole.len() / 2]).unwrap_err().to_string();
        assert!(err.contains("corrupt or truncated"), "{err}");
    }
}

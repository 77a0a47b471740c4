//! The restore's local spool: the archive is read once, checked entry by entry, and its objects
//! are sorted into one file per resource type in a private temporary directory. Restore then
//! reads the types back in priority order. Memory holds one object at a time; disk holds the
//! uncompressed objects once.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;

use crate::archive::{ArchiveError, read_items};

#[derive(Debug, thiserror::Error)]
pub(crate) enum SpoolError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("write the restore spool in {dir}")]
    Io { dir: String, source: std::io::Error },
}

/// The archive's objects, one file per group-resource.
pub(crate) struct Spool {
    dir: tempfile::TempDir,
    /// group-resource -> (file, number of objects).
    types: BTreeMap<String, (PathBuf, u64)>,
}

impl Spool {
    /// Reads the whole archive from `reader` into a new spool; fails on the first bad entry,
    /// before anything has been restored.
    pub(crate) fn fill(reader: impl Read) -> Result<Self, SpoolError> {
        let dir = tempfile::Builder::new()
            .prefix("ark-restore-")
            .tempdir()
            .map_err(|source| SpoolError::Io { dir: std::env::temp_dir().display().to_string(), source })?;
        let dir_name = dir.path().display().to_string();
        let io = |source| SpoolError::Io { dir: dir_name.clone(), source };
        let mut writers: BTreeMap<String, (BufWriter<File>, PathBuf, u64)> = BTreeMap::new();
        read_items::<_, SpoolError>(reader, |item, body| {
            let gr = item.group_resource.to_string();
            if !writers.contains_key(&gr) {
                let path = dir.path().join(format!("{}.spool", writers.len()));
                let file = File::create(&path).map_err(io)?;
                writers.insert(gr.clone(), (BufWriter::new(file), path, 0));
            }
            if let Some((writer, _, count)) = writers.get_mut(&gr) {
                writer.write_all(&(body.len() as u32).to_le_bytes()).map_err(io)?;
                writer.write_all(&body).map_err(io)?;
                *count += 1;
            }
            Ok(())
        })?;
        let mut types = BTreeMap::new();
        for (gr, (mut writer, path, count)) in writers {
            writer.flush().map_err(io)?;
            types.insert(gr, (path, count));
        }
        Ok(Self { dir, types })
    }

    /// group-resource -> number of objects.
    pub(crate) fn types(&self) -> impl Iterator<Item = (&str, u64)> {
        self.types.iter().map(|(gr, (_, n))| (gr.as_str(), *n))
    }

    /// Reads the objects of one type, a batch at a time.
    pub(crate) fn reader(&self, group_resource: &str) -> Result<SpoolReader, SpoolError> {
        let dir = self.dir.path().display().to_string();
        let file = match self.types.get(group_resource) {
            Some((path, _)) => Some(BufReader::new(File::open(path).map_err(|source| SpoolError::Io { dir, source })?)),
            None => None,
        };
        Ok(SpoolReader { file })
    }
}

pub(crate) struct SpoolReader {
    file: Option<BufReader<File>>,
}

impl SpoolReader {
    /// Up to `max` objects; empty when the type is done.
    pub(crate) fn next_batch(&mut self, max: usize) -> std::io::Result<Vec<Vec<u8>>> {
        let mut batch = Vec::new();
        let Some(file) = self.file.as_mut() else { return Ok(batch) };
        while batch.len() < max {
            let mut len = [0u8; 4];
            match file.read_exact(&mut len) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(e),
            }
            let mut body = vec![0u8; u32::from_le_bytes(len) as usize];
            file.read_exact(&mut body)?;
            batch.push(body);
        }
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::ArchiveWriter;
    use crate::model::ResourceType;

    #[test]
    fn sorts_objects_by_type_and_reads_them_back_in_batches() {
        let t = |resource: &str, group: &str| ResourceType::for_tests(group, resource, "K", true);
        let mut writer = ArchiveWriter::new(Vec::new(), 0, 1).unwrap();
        for i in 0..5 {
            writer
                .add_item(&t("configmaps", ""), Some("ns"), &format!("c{i}"), format!("{{\"i\":{i}}}").as_bytes())
                .unwrap();
            writer.add_item(&t("deployments", "apps"), Some("ns"), &format!("d{i}"), b"{}").unwrap();
        }
        let spool = Spool::fill(writer.finish().unwrap().0.as_slice()).unwrap();
        let types: Vec<(&str, u64)> = spool.types().collect();
        assert_eq!(types, vec![("configmaps", 5), ("deployments.apps", 5)]);
        let mut reader = spool.reader("configmaps").unwrap();
        assert_eq!(reader.next_batch(3).unwrap().len(), 3);
        let rest = reader.next_batch(3).unwrap();
        assert_eq!(rest.len(), 2);
        assert_eq!(rest[1], b"{\"i\":4}");
        assert!(reader.next_batch(3).unwrap().is_empty());
        assert!(spool.reader("pods").unwrap().next_batch(3).unwrap().is_empty());
    }
}

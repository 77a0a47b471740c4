//! `restore-<name>-results.gz`: every object's outcome, written as gzipped JSON as it comes, so
//! a restore holds a few bytes per object rather than the whole list; with the counts, warnings
//! and errors (grouped by namespace) the record takes.

use std::collections::BTreeMap;
use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::model::{ItemOutcome, ItemResult, RestoreResults};

pub(super) struct ResultsWriter {
    items: GzEncoder<Vec<u8>>,
    pub(super) counts: BTreeMap<ItemOutcome, u64>,
    pub(super) warnings: BTreeMap<String, Vec<String>>,
    pub(super) errors: BTreeMap<String, Vec<String>>,
}

/// `restore-<name>-results.gz` as written: a gzipped `RestoreResults`.
pub(crate) struct GzResults(pub(super) bytes::Bytes);

impl GzResults {
    pub(crate) fn decode(&self) -> std::io::Result<RestoreResults> {
        Ok(serde_json::from_reader(flate2::read::GzDecoder::new(&self.0[..]))?)
    }
}

impl ResultsWriter {
    pub(super) fn new() -> Self {
        let mut items = GzEncoder::new(Vec::new(), Compression::fast());
        // Writing into memory only fails when memory does (here and below).
        let _ = items.write_all(br#"{"items":["#);
        Self { items, counts: BTreeMap::new(), warnings: BTreeMap::new(), errors: BTreeMap::new() }
    }

    pub(super) fn push(&mut self, item: &ItemResult) {
        if !self.counts.is_empty() {
            let _ = self.items.write_all(b",");
        }
        let _ = serde_json::to_writer(&mut self.items, item);
        *self.counts.entry(item.outcome).or_default() += 1;
        let namespace = item.namespace.clone().unwrap_or_default();
        match item.outcome {
            ItemOutcome::Failed => {
                let message = format!("{}: {}", what(item), item.message.as_deref().unwrap_or("failed"));
                self.errors.entry(namespace).or_default().push(message);
            }
            ItemOutcome::ExistsDifferent => {
                let message = format!("{} exists and differs from the backup", what(item));
                self.warnings.entry(namespace).or_default().push(message);
            }
            _ => {}
        }
    }

    /// A problem that is not one object's (a namespace that stayed Terminating, a CRD that
    /// never became Established); `namespace` is "" for the cluster.
    pub(super) fn error(&mut self, namespace: &str, message: String) {
        self.errors.entry(namespace.to_owned()).or_default().push(message);
    }

    pub(super) fn finish(mut self) -> GzResults {
        let _ = self.items.write_all(br#"],"warnings":"#);
        let _ = serde_json::to_writer(&mut self.items, &self.warnings);
        let _ = self.items.write_all(br#","errors":"#);
        let _ = serde_json::to_writer(&mut self.items, &self.errors);
        let _ = self.items.write_all(b"}");
        GzResults(self.items.finish().unwrap_or_default().into())
    }
}

/// `configmaps shop/a`: an object as messages name it.
pub(super) fn what(item: &ItemResult) -> String {
    match &item.namespace {
        Some(ns) => format!("{} {ns}/{}", item.resource, item.name),
        None => format!("{} {}", item.resource, item.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_written_as_they_come_read_back_whole() {
        let item = |name: &str, outcome, message: Option<&str>| ItemResult {
            resource: "configmaps".into(),
            namespace: Some("shop".into()),
            name: name.into(),
            outcome,
            message: message.map(str::to_owned),
        };
        let mut writer = ResultsWriter::new();
        writer.push(&item("a", ItemOutcome::Created, None));
        writer.push(&item("b", ItemOutcome::Failed, Some("denied")));
        writer.push(&item("c", ItemOutcome::ExistsDifferent, None));
        writer.error("", "CRD x never became Established".into());
        assert_eq!(writer.counts[&ItemOutcome::Created], 1);
        let results = writer.finish().decode().unwrap();
        assert_eq!(results.items.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(results.errors["shop"], ["configmaps shop/b: denied"]);
        assert_eq!(results.errors[""], ["CRD x never became Established"]);
        assert_eq!(results.warnings["shop"], ["configmaps shop/c exists and differs from the backup"]);
        assert!(ResultsWriter::new().finish().decode().unwrap().items.is_empty());
    }
}

//! The backup archive: a tar.gz with Velero's 1.1.0 tree, written from a stream of objects and
//! read back as one, and the resource list that says what it holds. Never follows paths outside
//! the archive and never trusts sizes in it.

mod paths;
mod reader;
mod resource_list;
mod writer;

pub(crate) use paths::{ItemPath, parse_item_path};
pub(crate) use reader::{ArchiveError, read_items};
pub(crate) use resource_list::ResourceList;
pub(crate) use writer::ArchiveWriter;

/// Written to `metadata/version`; Velero's format version, so archives are interchangeable.
pub(crate) const FORMAT_VERSION: &str = "1.1.0";

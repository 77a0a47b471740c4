//! The data directory, which is the plugin's whole state: no state file, nothing cached in memory.
//!
//! ```text
//! DATA/volumes/<volume id>/          the volume's files
//! DATA/volumes/<volume id>.json      its record: name, capacity, source, parameters
//! DATA/snapshots/<snapshot id>/      a copy of the source volume's files
//! DATA/snapshots/<snapshot id>.json  its record: source volume, size, creation time, parameters
//! ```
//!
//! A record is written last, after its directory is complete (temporary file, fsync, rename), and
//! deleted first, so an object exists exactly when its record does. Two plugins pointed at one
//! data directory therefore see each other's volumes and snapshots on their next call. The
//! records keep the field names and formats of the Go plugin this one replaced.
//!
//! This module knows files and records; it never decides what a CSI call answers.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use prost_types::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The two kinds of objects, each a subdirectory of the data directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Volume,
    Snapshot,
}

impl Kind {
    fn subdir(self) -> &'static str {
        match self {
            Kind::Volume => "volumes",
            Kind::Snapshot => "snapshots",
        }
    }
}

/// What a volume was created from. In the record: `"sourceKind": "snapshot" | "volume"` and
/// `"sourceId"`, both absent for an empty volume.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "sourceKind", content = "sourceId", rename_all = "lowercase")]
pub(crate) enum VolumeSource {
    Snapshot(String),
    Volume(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VolumeRecord {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) capacity_bytes: i64,
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub(crate) source: Option<VolumeSource>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) parameters: BTreeMap<String, String>,
    #[serde(with = "rfc3339")]
    pub(crate) created: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SnapshotRecord {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) source_volume_id: String,
    pub(crate) size_bytes: i64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) parameters: BTreeMap<String, String>,
    #[serde(with = "rfc3339")]
    pub(crate) created: Timestamp,
}

/// A failed file operation, with the path it concerned.
#[derive(Debug)]
pub(crate) struct PathError {
    path: PathBuf,
    source: io::Error,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for PathError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

type Result<T> = std::result::Result<T, PathError>;

fn at(path: &Path) -> impl FnOnce(io::Error) -> PathError + '_ {
    move |source| PathError { path: path.to_owned(), source }
}

/// Whether `id` can name a file in the data directory: the names the sidecars choose
/// (`pvc-<uid>`, `snapshot-<uid>`) can; `..`, slashes and empty strings cannot.
pub(crate) fn is_safe_id(id: &str) -> bool {
    let mut bytes = id.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphanumeric())
        && id.len() <= 128
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The id of the object a CreateVolume/CreateSnapshot `name` asks for: the name itself when it is
/// a safe file name, else a hash of it, so that the same name always gives the same object.
pub(crate) fn id_for(name: &str) -> String {
    if is_safe_id(name) {
        return name.to_owned();
    }
    let digest = Sha256::digest(name.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("h-{hex}")
}

#[derive(Clone, Debug)]
pub(crate) struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Opens (creating if needed) the data directory at `root`.
    pub(crate) fn open(root: impl Into<PathBuf>) -> Result<DataDir> {
        let root = root.into();
        for kind in [Kind::Volume, Kind::Snapshot] {
            let dir = root.join(kind.subdir());
            fs::create_dir_all(&dir).map_err(at(&dir))?;
        }
        Ok(DataDir { root })
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The directory holding the object's files. `id` must be safe ([`is_safe_id`]).
    pub(crate) fn dir(&self, kind: Kind, id: &str) -> PathBuf {
        self.root.join(kind.subdir()).join(id)
    }

    fn record_path(&self, kind: Kind, id: &str) -> PathBuf {
        self.root.join(kind.subdir()).join(format!("{id}.json"))
    }

    /// The object's record, or None when it does not exist (an unsafe id never does).
    pub(crate) fn read<T: DeserializeOwned>(&self, kind: Kind, id: &str) -> Result<Option<T>> {
        if !is_safe_id(id) {
            return Ok(None);
        }
        let path = self.record_path(kind, id);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(at(&path)(e)),
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| at(&path)(io::Error::new(io::ErrorKind::InvalidData, e)))
    }

    /// Makes a record appear whole: a temporary file, fsync, rename.
    pub(crate) fn write<T: Serialize>(&self, kind: Kind, id: &str, record: &T) -> Result<()> {
        let path = self.record_path(kind, id);
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut json = serde_json::to_vec_pretty(record).map_err(|e| at(&path)(io::Error::other(e)))?;
        json.push(b'\n');
        let written = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)
            .and_then(|mut file| {
                file.write_all(&json)?;
                file.sync_all()
            })
            .map_err(at(&tmp));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        fs::rename(&tmp, &path).map_err(at(&path))
    }

    /// Ids of every object of a kind that has a record, sorted.
    pub(crate) fn list(&self, kind: Kind) -> Result<Vec<String>> {
        let dir = self.root.join(kind.subdir());
        let mut ids = Vec::new();
        for entry in fs::read_dir(&dir).map_err(at(&dir))? {
            let name = entry.map_err(at(&dir))?.file_name();
            if let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".json")) {
                ids.push(id.to_owned());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Deletes an object: its record first, so a half-deleted object no longer exists, then its
    /// files. Deleting what does not exist succeeds.
    pub(crate) fn delete(&self, kind: Kind, id: &str) -> Result<()> {
        let record = self.record_path(kind, id);
        match fs::remove_file(&record) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(at(&record)(e)),
            _ => {}
        }
        remove_all(&self.dir(kind, id))
    }

    /// Makes the object's directory hold a copy of `from` (or nothing, mode 0777, when `from` is
    /// None), replacing whatever an interrupted earlier attempt left there.
    pub(crate) fn fill(&self, kind: Kind, id: &str, from: Option<&Path>) -> Result<()> {
        let target = self.dir(kind, id);
        let mut partial = target.clone().into_os_string();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        remove_all(&partial)?;
        let filled = match from {
            // A volume is written by whoever uses it, as any user: 0777 whatever the umask.
            None => fs::create_dir(&partial)
                .and_then(|()| fs::set_permissions(&partial, fs::Permissions::from_mode(0o777)))
                .map_err(at(&partial)),
            Some(from) => copy_tree(from, &partial),
        };
        if let Err(e) = filled {
            let _ = remove_all(&partial);
            return Err(e);
        }
        remove_all(&target)?;
        fs::rename(&partial, &target).map_err(at(&target))
    }
}

/// Removes a file or a directory tree; nothing there is not an error.
fn remove_all(path: &Path) -> Result<()> {
    let removed = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    };
    match removed {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(at(path)(e)),
        _ => Ok(()),
    }
}

/// Copies directories, regular files and symlinks (as links) from `src` into `dst`, which must not
/// exist yet, keeping permission bits. Sockets, fifos and devices are left out: no test volume
/// needs them.
fn copy_tree(src: &Path, dst: &Path) -> Result<()> {
    let mode = fs::metadata(src).map_err(at(src))?.permissions().mode() & 0o7777;
    fs::create_dir(dst).map_err(at(dst))?;
    // Owner rwx while filling it, as the Go plugin had; the bits are otherwise the source's.
    fs::set_permissions(dst, fs::Permissions::from_mode(mode | 0o700)).map_err(at(dst))?;
    for entry in fs::read_dir(src).map_err(at(src))? {
        let entry = entry.map_err(at(src))?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let file_type = entry.file_type().map_err(at(&from))?;
        if file_type.is_dir() {
            copy_tree(&from, &to)?;
        } else if file_type.is_symlink() {
            let link = fs::read_link(&from).map_err(at(&from))?;
            std::os::unix::fs::symlink(link, &to).map_err(at(&to))?;
        } else if file_type.is_file() {
            copy_file(&from, &to)?;
        }
    }
    Ok(())
}

fn copy_file(src: &Path, dst: &Path) -> Result<()> {
    let mode = fs::metadata(src).map_err(at(src))?.permissions().mode() & 0o7777;
    let mut input = fs::File::open(src).map_err(at(src))?;
    let mut output = fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(dst).map_err(at(dst))?;
    io::copy(&mut input, &mut output).map_err(at(dst))?;
    // The umask narrowed the mode at creation; a copy keeps the source's.
    output.set_permissions(fs::Permissions::from_mode(mode)).map_err(at(dst))
}

/// Timestamps as Go's encoding/json writes a UTC time.Time: RFC 3339 with the fraction of a
/// second in as few digits as it needs (none for whole seconds) and a `Z`. Any RFC 3339 time
/// reads back.
mod rfc3339 {
    use prost_types::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub(crate) fn format(ts: &Timestamp) -> String {
        let whole = Timestamp { seconds: ts.seconds, nanos: 0 }.to_string();
        let date_time = whole.strip_suffix('Z').unwrap_or(&whole);
        if ts.nanos == 0 {
            return format!("{date_time}Z");
        }
        let fraction = format!("{:09}", ts.nanos);
        format!("{date_time}.{}Z", fraction.trim_end_matches('0'))
    }

    pub(crate) fn serialize<S: Serializer>(ts: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(ts))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(|e| de::Error::custom(format!("time {text:?}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(seconds: i64, nanos: i32) -> Timestamp {
        Timestamp { seconds, nanos }
    }

    #[test]
    fn safe_ids_are_the_sidecars_names_and_nothing_that_escapes() {
        for id in ["pvc-8661909d-dd38-48f5-a82f-1a113e1a0b2b", "snapshot-x", "a", "A.b_c-d", &"a".repeat(128)] {
            assert!(is_safe_id(id), "{id}");
        }
        for id in ["", ".", "..", "../x", "a/b", "-a", ".a", "a b", "é", &"a".repeat(129)] {
            assert!(!is_safe_id(id), "{id}");
        }
    }

    #[test]
    fn unsafe_names_map_to_a_stable_hash() {
        assert_eq!(id_for("pvc-1"), "pvc-1");
        let hashed = id_for("a/b");
        assert_eq!(hashed, id_for("a/b"));
        assert_eq!(hashed.len(), 2 + 32);
        assert!(hashed.starts_with("h-") && is_safe_id(&hashed));
        // sha256("a/b") begins with these 16 bytes, as the Go plugin's hex.EncodeToString(sum[:16]).
        assert_eq!(hashed, "h-c14cddc033f64b9dea80ea675cf280a0");
    }

    #[test]
    fn times_are_written_as_go_writes_them() {
        assert_eq!(rfc3339::format(&ts(1_795_938_152, 44_707_809)), "2026-11-29T07:42:32.044707809Z");
        assert_eq!(rfc3339::format(&ts(1_795_938_152, 440_000_000)), "2026-11-29T07:42:32.44Z");
        assert_eq!(rfc3339::format(&ts(1_795_938_152, 0)), "2026-11-29T07:42:32Z");
    }

    #[test]
    fn records_written_by_the_go_plugin_read_back() {
        let go_volume = r#"{
  "id": "pvc-729bd9a1",
  "name": "pvc-729bd9a1",
  "capacityBytes": 1073741824,
  "sourceKind": "snapshot",
  "sourceId": "snapshot-cc05c72c",
  "parameters": {
    "csi.storage.k8s.io/pvc/name": "data-restored"
  },
  "created": "2026-11-29T07:42:40.12345Z"
}
"#;
        let volume: VolumeRecord = serde_json::from_str(go_volume).unwrap();
        assert_eq!(volume.source, Some(VolumeSource::Snapshot("snapshot-cc05c72c".into())));
        assert_eq!(volume.created, ts(1_795_938_160, 123_450_000));
        let mut written = serde_json::to_string_pretty(&volume).unwrap();
        written.push('\n');
        assert_eq!(written, go_volume);

        let empty: VolumeRecord = serde_json::from_str(
            r#"{"id":"v","name":"v","capacityBytes":5,"created":"2026-11-29T07:42:32.044707809Z"}"#,
        )
        .unwrap();
        assert_eq!(empty.source, None);
        assert!(empty.parameters.is_empty());
        let written = serde_json::to_string(&empty).unwrap();
        assert_eq!(written, r#"{"id":"v","name":"v","capacityBytes":5,"created":"2026-11-29T07:42:32.044707809Z"}"#);

        let go_snapshot = r#"{"id":"snapshot-cc05c72c","name":"snapshot-cc05c72c","sourceVolumeId":"pvc-8661909d","sizeBytes":1073741824,"created":"2026-11-29T07:42:32.044707809Z"}"#;
        let snapshot: SnapshotRecord = serde_json::from_str(go_snapshot).unwrap();
        assert_eq!(snapshot.source_volume_id, "pvc-8661909d");
        assert_eq!(serde_json::to_string(&snapshot).unwrap(), go_snapshot);
    }

    #[test]
    fn a_record_exists_once_written_and_not_after_delete() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::open(tmp.path()).unwrap();
        let record = SnapshotRecord {
            id: "s1".into(),
            name: "s1".into(),
            source_volume_id: "v1".into(),
            size_bytes: 7,
            parameters: BTreeMap::new(),
            created: ts(1, 0),
        };
        assert_eq!(data.read::<SnapshotRecord>(Kind::Snapshot, "s1").unwrap(), None);
        data.fill(Kind::Snapshot, "s1", None).unwrap();
        data.write(Kind::Snapshot, "s1", &record).unwrap();
        assert_eq!(data.read(Kind::Snapshot, "s1").unwrap(), Some(record));
        assert_eq!(data.list(Kind::Snapshot).unwrap(), ["s1"]);
        assert!(data.list(Kind::Volume).unwrap().is_empty());
        assert_eq!(data.read::<SnapshotRecord>(Kind::Snapshot, "../snapshots/s1").unwrap(), None);

        data.delete(Kind::Snapshot, "s1").unwrap();
        assert_eq!(data.read::<SnapshotRecord>(Kind::Snapshot, "s1").unwrap(), None);
        assert!(!data.dir(Kind::Snapshot, "s1").exists());
        data.delete(Kind::Snapshot, "s1").unwrap();
    }

    #[test]
    fn fill_copies_files_links_and_modes_and_replaces_leftovers() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::open(tmp.path()).unwrap();
        data.fill(Kind::Volume, "v", None).unwrap();
        let volume = data.dir(Kind::Volume, "v");
        assert_eq!(fs::metadata(&volume).unwrap().permissions().mode() & 0o777, 0o777);
        fs::create_dir(volume.join("sub")).unwrap();
        fs::write(volume.join("sub/n.txt"), "nested").unwrap();
        fs::write(volume.join("script"), "#!/bin/sh").unwrap();
        fs::set_permissions(volume.join("script"), fs::Permissions::from_mode(0o751)).unwrap();
        std::os::unix::fs::symlink("sub/n.txt", volume.join("link")).unwrap();

        // What an interrupted copy left behind goes.
        fs::create_dir(tmp.path().join("snapshots/s.partial")).unwrap();
        fs::write(tmp.path().join("snapshots/s.partial/stale"), "").unwrap();
        data.fill(Kind::Snapshot, "s", Some(&volume)).unwrap();

        let snapshot = data.dir(Kind::Snapshot, "s");
        assert_eq!(fs::read_to_string(snapshot.join("sub/n.txt")).unwrap(), "nested");
        assert_eq!(fs::read_link(snapshot.join("link")).unwrap(), Path::new("sub/n.txt"));
        assert_eq!(fs::metadata(snapshot.join("script")).unwrap().permissions().mode() & 0o7777, 0o751);
        assert_eq!(fs::metadata(&snapshot).unwrap().permissions().mode() & 0o777, 0o777);
        assert!(!snapshot.join("stale").exists());
        assert!(!tmp.path().join("snapshots/s.partial").exists());
    }
}

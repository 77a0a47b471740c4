//! The configuration file (`$XDG_CONFIG_HOME/ark/config.yaml`): storage locations, volume
//! snapshot locations and defaults. Owns reading, validating and rewriting it; knows nothing of
//! flags or environment variables beyond the XDG directories (the CLI layers those on top).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::{HumanDuration, ResourceName};

/// TTL given to backups when neither the flag nor the config names one (Velero's default too).
pub(crate) const DEFAULT_TTL_SECS: u64 = 720 * 3600;
/// Name of the storage location used when the config file defines none.
pub(crate) const IMPLICIT_LOCATION: &str = "default";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) default_location: Option<ResourceName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) default_snapshot_location: Option<ResourceName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) default_ttl: Option<HumanDuration>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) storage_locations: BTreeMap<ResourceName, StorageLocation>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) snapshot_locations: BTreeMap<ResourceName, SnapshotLocation>,
    #[serde(default, skip_serializing_if = "Tuning::is_default")]
    pub(crate) tuning: Tuning,
}

/// Where backups live: an object store URL plus what its client needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct StorageLocation {
    /// `file:///path`, `s3://bucket/prefix`, `gs://bucket/prefix` or `az://container/prefix`.
    pub(crate) url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) region: Option<String>,
    /// S3-compatible endpoint (MinIO, moto, Ceph...), e.g. `http://127.0.0.1:9000`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) endpoint: Option<String>,
    /// AWS credentials profile (from ~/.aws/config and ~/.aws/credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) profile: Option<String>,
    /// Address buckets as `endpoint/bucket` rather than `bucket.endpoint`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) path_style: bool,
    /// Never written to, never garbage-collected: the migration case, where a new cluster reads
    /// an old cluster's backups.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) read_only: bool,
}

impl StorageLocation {
    /// A local directory, written to.
    pub(crate) fn directory(path: &Path) -> Self {
        Self {
            url: format!("file://{}", path.display()),
            region: None,
            endpoint: None,
            profile: None,
            path_style: false,
            read_only: false,
        }
    }
}

/// Where volume snapshots are taken: a cloud provider's region and credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SnapshotLocation {
    pub(crate) provider: SnapshotProvider,
    pub(crate) region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) profile: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SnapshotProvider {
    Aws,
}

/// Bounds on concurrency and page sizes; the defaults suit a 2-core machine and a busy apiserver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub(crate) struct Tuning {
    /// Resource types listed at once during a backup.
    pub(crate) list_concurrency: usize,
    /// Objects per LIST page.
    pub(crate) page_size: u32,
    /// Objects created at once within one restore tier.
    pub(crate) restore_concurrency: usize,
    /// How long a backup waits for its volume snapshots to complete, and a restore for the
    /// volumes it makes from them to become available.
    pub(crate) snapshot_timeout: HumanDuration,
    /// Pods whose backup hooks run at once (each pod runs its own hooks in order).
    pub(crate) hook_concurrency: usize,
    /// Ask the apiserver to gzip its answers. Off by default: gzipping LIST pages costs the
    /// apiserver more CPU than the bytes saved are worth on a link faster than ~400 Mbit/s.
    pub(crate) compress_responses: bool,
    /// gzip level of backup archives, 1 (fastest) to 9 (smallest).
    pub(crate) compression_level: u32,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            list_concurrency: 4,
            page_size: 500,
            restore_concurrency: 16,
            snapshot_timeout: HumanDuration(std::time::Duration::from_secs(3600)),
            hook_concurrency: 8,
            compress_responses: false,
            compression_level: 1,
        }
    }
}

impl Tuning {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    #[error("read config file {path}")]
    Read { path: PathBuf, source: std::io::Error },
    /// serde_yaml's message names the field and the line: "storageLocations.prod: unknown field
    /// `urll` ... at line 4 column 5".
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid config file {path}: {field}: {problem}")]
    Invalid { path: PathBuf, field: String, problem: String },
    #[error(transparent)]
    Write(#[from] crate::fsutil::WriteError),
    #[error("storage location {name:?} is not configured (configured: {known}); add it with `ark config set-location`")]
    UnknownLocation { name: String, known: String },
    #[error("cannot find the home directory: set HOME or XDG_CONFIG_HOME")]
    NoHome,
}

/// The directories ark uses, following the XDG base directory spec.
#[derive(Debug, Clone)]
pub(crate) struct Dirs {
    pub(crate) config: PathBuf,
    pub(crate) data: PathBuf,
    /// Schedules and the cache of backup records (`state.json`), and the daemon's lock.
    pub(crate) state: PathBuf,
}

impl Dirs {
    pub(crate) fn from_env() -> Result<Self, ConfigError> {
        let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
        let xdg = |var: &str, fallback: &str| -> Result<PathBuf, ConfigError> {
            match std::env::var_os(var).filter(|v| !v.is_empty()) {
                Some(dir) => Ok(PathBuf::from(dir).join("ark")),
                None => Ok(home.clone().ok_or(ConfigError::NoHome)?.join(fallback).join("ark")),
            }
        };
        Ok(Self {
            config: xdg("XDG_CONFIG_HOME", ".config")?,
            data: xdg("XDG_DATA_HOME", ".local/share")?,
            state: xdg("XDG_STATE_HOME", ".local/state")?,
        })
    }

    pub(crate) fn config_file(&self) -> PathBuf {
        self.config.join("config.yaml")
    }

    pub(crate) fn default_backup_dir(&self) -> PathBuf {
        self.data.join("backups")
    }
}

impl Config {
    /// Reads and validates `path`; a missing file is an empty config.
    pub(crate) fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(ConfigError::Read { path: path.to_owned(), source }),
        };
        Self::parse(path, &text)
    }

    pub(crate) fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let config: Self = serde_yaml::from_str(text)
            .map_err(|e| ConfigError::Parse { path: path.to_owned(), message: e.to_string() })?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |field: String, problem: String| ConfigError::Invalid { path: path.to_owned(), field, problem };
        for (name, location) in &self.storage_locations {
            parse_location_url(&location.url)
                .map_err(|problem| invalid(format!("storageLocations.{name}.url"), problem))?;
            if let Some(endpoint) = &location.endpoint {
                check_endpoint(endpoint).map_err(|p| invalid(format!("storageLocations.{name}.endpoint"), p))?;
            }
        }
        for (name, location) in &self.snapshot_locations {
            if let Some(endpoint) = &location.endpoint {
                check_endpoint(endpoint).map_err(|p| invalid(format!("snapshotLocations.{name}.endpoint"), p))?;
            }
        }
        if let Some(name) = &self.default_location
            && !self.storage_locations.contains_key(name)
        {
            return Err(invalid("defaultLocation".into(), format!("no storage location is named {name:?}")));
        }
        if let Some(name) = &self.default_snapshot_location
            && !self.snapshot_locations.contains_key(name)
        {
            return Err(invalid(
                "defaultSnapshotLocation".into(),
                format!("no volume snapshot location is named {name:?}"),
            ));
        }
        let tuning = &self.tuning;
        if tuning.list_concurrency == 0
            || tuning.restore_concurrency == 0
            || tuning.hook_concurrency == 0
            || tuning.page_size == 0
        {
            return Err(invalid("tuning".into(), "concurrency and page size must be at least 1".into()));
        }
        if !(1..=9).contains(&tuning.compression_level) {
            return Err(invalid("tuning.compressionLevel".into(), "must be 1 (fastest) to 9 (smallest)".into()));
        }
        Ok(())
    }

    pub(crate) fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let text = serde_yaml::to_string(self).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            field: "(whole file)".into(),
            problem: e.to_string(),
        })?;
        crate::fsutil::write_atomic(path, text.as_bytes())?;
        Ok(())
    }

    pub(crate) fn ttl(&self) -> HumanDuration {
        self.default_ttl.unwrap_or(HumanDuration(std::time::Duration::from_secs(DEFAULT_TTL_SECS)))
    }

    /// The storage location named `name`, or the default one: the configured default, the only
    /// configured location, or (with none configured) a directory under `$XDG_DATA_HOME`.
    pub(crate) fn storage_location(
        &self,
        name: Option<&str>,
        dirs: &Dirs,
    ) -> Result<(ResourceName, StorageLocation), ConfigError> {
        let known = || join_names(self.storage_locations.keys());
        if let Some(name) = name {
            // The implicit location too: a schedule made without a config names it.
            return self
                .storage_locations(dirs)
                .into_iter()
                .find(|(n, _)| n.as_str() == name)
                .ok_or_else(|| ConfigError::UnknownLocation { name: name.to_owned(), known: known() });
        }
        if let Some(default) = &self.default_location {
            return self.storage_location(Some(default.as_str()), dirs);
        }
        if let Some((n, l)) = self.storage_locations.iter().next() {
            if self.storage_locations.len() == 1 {
                return Ok((n.clone(), l.clone()));
            }
            return Err(ConfigError::UnknownLocation { name: "(default)".into(), known: known() });
        }
        Ok((implicit_location_name(), implicit_location(dirs)))
    }

    /// Every storage location, the implicit one included when none is configured.
    pub(crate) fn storage_locations(&self, dirs: &Dirs) -> BTreeMap<ResourceName, StorageLocation> {
        if self.storage_locations.is_empty() {
            return BTreeMap::from([(implicit_location_name(), implicit_location(dirs))]);
        }
        self.storage_locations.clone()
    }

    /// The configuration as it applies: the file's content plus the implicit location and TTL.
    pub(crate) fn effective(&self, dirs: &Dirs) -> Self {
        let mut effective = self.clone();
        effective.storage_locations = self.storage_locations(dirs);
        if effective.default_location.is_none() && effective.storage_locations.len() == 1 {
            effective.default_location = effective.storage_locations.keys().next().cloned();
        }
        effective.default_ttl = Some(self.ttl());
        effective
    }
}

fn implicit_location_name() -> ResourceName {
    ResourceName::parse(IMPLICIT_LOCATION).unwrap_or_else(|_| unreachable!("\"default\" is a valid name"))
}

fn implicit_location(dirs: &Dirs) -> StorageLocation {
    StorageLocation::directory(&dirs.default_backup_dir())
}

fn join_names<'a>(names: impl Iterator<Item = &'a ResourceName>) -> String {
    let names: Vec<&str> = names.map(ResourceName::as_str).collect();
    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
}

/// What a storage location URL points at, parsed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LocationUrl {
    File { path: PathBuf },
    S3 { bucket: String, prefix: String },
    Gcs { bucket: String, prefix: String },
    Azure { container: String, prefix: String },
}

pub(crate) fn parse_location_url(raw: &str) -> Result<LocationUrl, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("{raw:?} is not a URL ({e})"))?;
    let bucket = || -> Result<String, String> {
        url.host_str()
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("{raw:?} names no bucket: use {}://BUCKET[/PREFIX]", url.scheme()))
    };
    let prefix = url.path().trim_matches('/').to_owned();
    match url.scheme() {
        "file" => {
            let path = url.to_file_path().map_err(|()| format!("{raw:?} is not an absolute file:// path"))?;
            Ok(LocationUrl::File { path })
        }
        "s3" => Ok(LocationUrl::S3 { bucket: bucket()?, prefix }),
        "gs" => Ok(LocationUrl::Gcs { bucket: bucket()?, prefix }),
        "az" | "azure" => Ok(LocationUrl::Azure { container: bucket()?, prefix }),
        other => Err(format!("unsupported scheme {other:?} in {raw:?}: use file://, s3://, gs:// or az://")),
    }
}

fn check_endpoint(raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("{raw:?} is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{raw:?} must be an http:// or https:// URL"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs() -> Dirs {
        Dirs { config: "/c/ark".into(), data: "/d/ark".into(), state: "/s/ark".into() }
    }

    #[test]
    fn empty_config_uses_a_local_directory() {
        let config = Config::parse(Path::new("c.yaml"), "").unwrap();
        let (name, location) = config.storage_location(None, &dirs()).unwrap();
        assert_eq!(name.as_str(), "default");
        assert_eq!(location.url, "file:///d/ark/backups");
        assert_eq!(config.ttl().0.as_secs(), 720 * 3600);
        assert_eq!(config.storage_location(Some("default"), &dirs()).unwrap().1, location);
        assert!(config.storage_location(Some("other"), &dirs()).is_err());
    }

    #[test]
    fn unknown_field_error_names_file_field_and_line() {
        let text = "storageLocations:\n  prod:\n    url: s3://b\n    regoin: eu-west-1\n";
        let err = Config::parse(Path::new("/etc/ark.yaml"), text).unwrap_err().to_string();
        assert!(err.contains("/etc/ark.yaml"), "{err}");
        assert!(err.contains("regoin"), "{err}");
        assert!(err.contains("line 4"), "{err}");
    }

    #[test]
    fn invalid_values_name_their_field() {
        let cases = [
            ("storageLocations:\n  prod:\n    url: ftp://b\n", "storageLocations.prod.url"),
            ("storageLocations:\n  prod:\n    url: s3:///nobucket\n", "storageLocations.prod.url"),
            ("defaultLocation: nope\n", "defaultLocation"),
            ("storageLocations:\n  Bad_Name:\n    url: s3://b\n", "Bad_Name"),
            ("defaultTtl: forever\n", "forever"),
            ("snapshotLocations:\n  a:\n    provider: gcp\n    region: r\n", "snapshotLocations.a.provider"),
            ("tuning:\n  compressionLevel: 0\n", "tuning.compressionLevel"),
        ];
        for (text, needle) in cases {
            let err = Config::parse(Path::new("c.yaml"), text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }

    #[test]
    fn round_trips_through_yaml() {
        let text = "defaultLocation: prod\ndefaultTtl: 48h\nstorageLocations:\n  prod:\n    url: s3://bucket/ark\n    region: eu-west-1\n    endpoint: http://127.0.0.1:9000\n    pathStyle: true\n";
        let config = Config::parse(Path::new("c.yaml"), text).unwrap();
        let again = Config::parse(Path::new("c.yaml"), &serde_yaml::to_string(&config).unwrap()).unwrap();
        assert_eq!(config, again);
        assert_eq!(config.storage_location(None, &dirs()).unwrap().0.as_str(), "prod");
    }

    #[test]
    fn parses_location_urls() {
        assert_eq!(
            parse_location_url("s3://bucket/a/b/").unwrap(),
            LocationUrl::S3 { bucket: "bucket".into(), prefix: "a/b".into() }
        );
        assert_eq!(parse_location_url("file:///tmp/x").unwrap(), LocationUrl::File { path: "/tmp/x".into() });
        assert!(parse_location_url("relative/path").is_err());
    }
}

//! Where things live in a bucket (DESIGN.md, "Bucket layout"). The only place that spells keys.

use object_store::path::Path;

use crate::model::ResourceName;

pub(crate) struct BucketLayout;

impl BucketLayout {
    pub(crate) const BACKUPS: &'static str = "backups";
    pub(crate) const RESTORES: &'static str = "restores";

    pub(crate) fn backup_dir(name: &ResourceName) -> Path {
        Path::from_iter([Self::BACKUPS, name.as_str()])
    }

    pub(crate) fn backup_record(name: &ResourceName) -> Path {
        Self::backup_dir(name).join("ark-backup.json")
    }

    pub(crate) fn archive(name: &ResourceName) -> Path {
        Self::backup_dir(name).join(format!("{name}.tar.gz"))
    }

    pub(crate) fn backup_log(name: &ResourceName) -> Path {
        Self::backup_dir(name).join(format!("{name}-logs.gz"))
    }

    pub(crate) fn resource_list(name: &ResourceName) -> Path {
        Self::backup_dir(name).join(format!("{name}-resource-list.json.gz"))
    }

    pub(crate) fn volume_snapshots(name: &ResourceName) -> Path {
        Self::backup_dir(name).join(format!("{name}-volumesnapshots.json.gz"))
    }

    pub(crate) fn restore_dir(name: &ResourceName) -> Path {
        Path::from_iter([Self::RESTORES, name.as_str()])
    }

    pub(crate) fn restore_record(name: &ResourceName) -> Path {
        Self::restore_dir(name).join("ark-restore.json")
    }

    pub(crate) fn restore_log(name: &ResourceName) -> Path {
        Self::restore_dir(name).join(format!("restore-{name}-logs.gz"))
    }

    pub(crate) fn restore_results(name: &ResourceName) -> Path {
        Self::restore_dir(name).join(format!("restore-{name}-results.gz"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_documented_layout() {
        let b = ResourceName::parse("nightly-20261124020000").unwrap();
        assert_eq!(BucketLayout::backup_record(&b).as_ref(), "backups/nightly-20261124020000/ark-backup.json");
        assert_eq!(BucketLayout::archive(&b).as_ref(), "backups/nightly-20261124020000/nightly-20261124020000.tar.gz");
        assert_eq!(
            BucketLayout::resource_list(&b).as_ref(),
            "backups/nightly-20261124020000/nightly-20261124020000-resource-list.json.gz"
        );
        let r = ResourceName::parse("r1").unwrap();
        assert_eq!(BucketLayout::restore_results(&r).as_ref(), "restores/r1/restore-r1-results.gz");
        assert_eq!(BucketLayout::restore_record(&r).as_ref(), "restores/r1/ark-restore.json");
    }
}

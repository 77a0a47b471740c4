//! EBS snapshots through the EC2 API (aws-sdk-ec2), with the standard AWS credential chain, an
//! optional profile, region and endpoint (moto, LocalStack, a VPC endpoint).

use std::collections::BTreeMap;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification, VolumeState, VolumeType};

use super::{SnapshotError, SnapshotState, SourceVolume, VolumeSnapshotter};
use crate::aws::{AwsTarget, sdk_config};
use crate::config::SnapshotLocation;
use crate::model::VolumeSnapshot;

/// EBS allows 50 tags per resource; ours come on top of the source volume's.
const MAX_TAGS: usize = 50;

pub(crate) struct AwsSnapshotter {
    client: Client,
    region: String,
}

impl AwsSnapshotter {
    pub(crate) async fn new(location: &SnapshotLocation) -> Self {
        let target = AwsTarget {
            region: Some(&location.region),
            profile: location.profile.as_deref(),
            endpoint: location.endpoint.as_deref(),
        };
        Self { client: Client::new(&sdk_config(&target).await), region: location.region.clone() }
    }

    fn error<E, R>(&self, op: impl Into<String>, e: SdkError<E, R>) -> SnapshotError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let code = e.code().map(str::to_owned);
        let message = match (&code, e.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.clone(),
            _ => format!("{} (region {})", DisplayErrorContext(&e), self.region),
        };
        SnapshotError { op: op.into(), not_found: code.as_deref().is_some_and(|c| c.ends_with(".NotFound")), message }
    }
}

fn tag_specification(kind: ResourceType, tags: &BTreeMap<String, String>) -> TagSpecification {
    let tags = tags.iter().take(MAX_TAGS).map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
    TagSpecification::builder().resource_type(kind).set_tags(Some(tags)).build()
}

#[async_trait::async_trait]
impl VolumeSnapshotter for AwsSnapshotter {
    async fn check(&self) -> Result<(), SnapshotError> {
        self.client
            .describe_availability_zones()
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error(format!("reach EC2 in region {}", self.region), e))
    }

    async fn describe_volume(&self, volume_id: &str) -> Result<SourceVolume, SnapshotError> {
        let op = || format!("describe EBS volume {volume_id}");
        let output =
            self.client.describe_volumes().volume_ids(volume_id).send().await.map_err(|e| self.error(op(), e))?;
        let volume = output.volumes().first().ok_or_else(|| SnapshotError {
            op: op(),
            message: "no such volume".into(),
            not_found: true,
        })?;
        let tags = volume
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
            .filter(|(k, _)| !k.starts_with("aws:"))
            .collect();
        Ok(SourceVolume {
            id: volume_id.to_owned(),
            availability_zone: volume.availability_zone().unwrap_or_default().to_owned(),
            volume_type: volume.volume_type().map(|t| t.as_str().to_owned()),
            iops: volume.iops(),
            throughput: volume.throughput(),
            encrypted: volume.encrypted().unwrap_or(false),
            kms_key_id: volume.kms_key_id().map(str::to_owned),
            size_gib: volume.size(),
            tags,
        })
    }

    async fn create_snapshot(
        &self,
        volume: &SourceVolume,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, SnapshotError> {
        let op = || format!("snapshot EBS volume {}", volume.id);
        let output = self
            .client
            .create_snapshot()
            .volume_id(&volume.id)
            .description(format!("ark backup of {}", volume.id))
            .tag_specifications(tag_specification(ResourceType::Snapshot, tags))
            .send()
            .await
            .map_err(|e| self.error(op(), e))?;
        output.snapshot_id().map(str::to_owned).ok_or_else(|| SnapshotError {
            op: op(),
            message: "EC2 returned no snapshot id".into(),
            not_found: false,
        })
    }

    async fn snapshot_states(&self, ids: &[String]) -> Result<BTreeMap<String, SnapshotState>, SnapshotError> {
        let mut states: BTreeMap<String, SnapshotState> =
            ids.iter().map(|id| (id.clone(), SnapshotState::Failed("the snapshot no longer exists".into()))).collect();
        let output = match self.client.describe_snapshots().set_snapshot_ids(Some(ids.to_vec())).send().await {
            Ok(output) => output,
            // One missing snapshot fails the whole call: ask about each on its own.
            Err(e) if ids.len() > 1 && e.code().is_some_and(|c| c.ends_with(".NotFound")) => {
                for id in ids {
                    states.extend(self.snapshot_states(std::slice::from_ref(id)).await?);
                }
                return Ok(states);
            }
            Err(e) if e.code().is_some_and(|c| c.ends_with(".NotFound")) => return Ok(states),
            Err(e) => return Err(self.error("describe EBS snapshots", e)),
        };
        for snapshot in output.snapshots() {
            let Some(id) = snapshot.snapshot_id() else { continue };
            use aws_sdk_ec2::types::SnapshotState as Ec2;
            let state = match snapshot.state() {
                Some(Ec2::Completed) => SnapshotState::Completed,
                Some(Ec2::Error) => {
                    SnapshotState::Failed(snapshot.state_message().unwrap_or("EC2 reports an error").to_owned())
                }
                _ => SnapshotState::Pending,
            };
            states.insert(id.to_owned(), state);
        }
        Ok(states)
    }

    async fn create_volume(
        &self,
        snapshot: &VolumeSnapshot,
        zone: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, SnapshotError> {
        let op = || format!("create an EBS volume from snapshot {} in {zone}", snapshot.snapshot_id);
        // gp3 and io1/io2 take IOPS (gp3 also throughput); other types refuse them.
        let volume_type = snapshot.volume_type.as_deref();
        let takes_iops = matches!(volume_type, Some("gp3" | "io1" | "io2"));
        let output = self
            .client
            .create_volume()
            .snapshot_id(&snapshot.snapshot_id)
            .availability_zone(zone)
            .set_volume_type(volume_type.map(VolumeType::from))
            .set_iops(snapshot.iops.filter(|_| takes_iops))
            .set_throughput(snapshot.throughput.filter(|_| volume_type == Some("gp3")))
            .encrypted(snapshot.encrypted)
            .set_kms_key_id(snapshot.kms_key_id.clone())
            .tag_specifications(tag_specification(ResourceType::Volume, tags))
            .send()
            .await
            .map_err(|e| self.error(op(), e))?;
        output.volume_id().map(str::to_owned).ok_or_else(|| SnapshotError {
            op: op(),
            message: "EC2 returned no volume id".into(),
            not_found: false,
        })
    }

    async fn volume_available(&self, volume_id: &str) -> Result<bool, SnapshotError> {
        let op = || format!("describe EBS volume {volume_id}");
        let output =
            self.client.describe_volumes().volume_ids(volume_id).send().await.map_err(|e| self.error(op(), e))?;
        match output.volumes().first().and_then(|v| v.state()) {
            Some(VolumeState::Available | VolumeState::InUse) => Ok(true),
            Some(VolumeState::Error) => {
                Err(SnapshotError { op: op(), message: "the volume is in state error".into(), not_found: false })
            }
            _ => Ok(false),
        }
    }

    async fn delete_snapshot(&self, snapshot_id: &str) -> Result<(), SnapshotError> {
        match self.client.delete_snapshot().snapshot_id(snapshot_id).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code().is_some_and(|c| c.ends_with(".NotFound")) => Ok(()),
            Err(e) => Err(self.error(format!("delete EBS snapshot {snapshot_id}"), e)),
        }
    }
}

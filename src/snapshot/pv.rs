//! Which disk a PersistentVolume uses, and pointing a PersistentVolume at another one.

use serde_json::Value;

const EBS_CSI_DRIVER: &str = "ebs.csi.aws.com";
/// Labels and node-affinity keys that name a volume's availability zone, most specific first.
const ZONE_KEYS: &[&str] =
    &["topology.ebs.csi.aws.com/zone", "topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"];

/// An EBS volume behind a PersistentVolume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiskRef {
    pub(crate) volume_id: String,
    /// The zone the PV says the volume is in, if it says.
    pub(crate) zone: Option<String>,
}

/// The EBS volume behind a PV (in-tree `awsElasticBlockStore` or the EBS CSI driver), or why
/// ark cannot snapshot it.
pub(crate) fn disk_of(pv: &Value) -> Result<DiskRef, String> {
    let spec = &pv["spec"];
    let (volume_id, zone_in_id) = if let Some(id) = spec["awsElasticBlockStore"]["volumeID"].as_str() {
        // `aws://us-east-1a/vol-0123` or just `vol-0123`.
        match id.strip_prefix("aws://") {
            Some(rest) => {
                let (zone, id) = rest.rsplit_once('/').unwrap_or(("", rest));
                (id.to_owned(), Some(zone.to_owned()).filter(|z| !z.is_empty()))
            }
            None => (id.to_owned(), None),
        }
    } else if let Some(csi) = spec["csi"].as_object() {
        let driver = csi.get("driver").and_then(Value::as_str).unwrap_or_default();
        if driver != EBS_CSI_DRIVER {
            return Err(format!("CSI driver {driver} is not supported (only {EBS_CSI_DRIVER})"));
        }
        (csi.get("volumeHandle").and_then(Value::as_str).unwrap_or_default().to_owned(), None)
    } else {
        let kind = spec
            .as_object()
            .and_then(|s| s.iter().find(|(k, v)| v.is_object() && !NOT_SOURCES.contains(&k.as_str())))
            .map(|(k, _)| k.as_str())
            .unwrap_or("unknown");
        return Err(format!("{kind} volumes cannot be snapshotted (only EBS volumes)"));
    };
    if volume_id.is_empty() {
        return Err("the PV names no EBS volume id".into());
    }
    Ok(DiskRef { volume_id, zone: zone_in_id.or_else(|| zone_of(pv)) })
}

/// Spec fields that are objects but not volume sources.
const NOT_SOURCES: &[&str] = &["capacity", "claimRef", "nodeAffinity", "mountOptions"];

fn zone_of(pv: &Value) -> Option<String> {
    let labels = &pv["metadata"]["labels"];
    ZONE_KEYS.iter().find_map(|key| labels[*key].as_str().map(str::to_owned)).or_else(|| {
        affinity_expressions(pv)
            .find(|e| ZONE_KEYS.contains(&e["key"].as_str().unwrap_or_default()))
            .and_then(|e| e["values"][0].as_str().map(str::to_owned))
    })
}

fn affinity_expressions(pv: &Value) -> impl Iterator<Item = &Value> {
    pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|term| term["matchExpressions"].as_array().into_iter().flatten())
}

/// Points a PV at another EBS volume in `zone`, in the form it already used (in-tree or CSI),
/// moving its zone labels and node affinity along.
pub(crate) fn point_at_volume(pv: &mut Value, volume_id: &str, zone: &str) {
    let spec = &mut pv["spec"];
    if let Some(ebs) = spec.get_mut("awsElasticBlockStore").and_then(Value::as_object_mut) {
        let was_url = ebs.get("volumeID").and_then(Value::as_str).is_some_and(|id| id.starts_with("aws://"));
        let id = if was_url { format!("aws://{zone}/{volume_id}") } else { volume_id.to_owned() };
        ebs.insert("volumeID".into(), Value::from(id));
    } else if let Some(csi) = spec.get_mut("csi").and_then(Value::as_object_mut) {
        csi.insert("volumeHandle".into(), Value::from(volume_id));
    }
    if let Some(labels) = pv["metadata"].get_mut("labels").and_then(Value::as_object_mut) {
        for key in ZONE_KEYS {
            if let Some(value) = labels.get_mut(*key) {
                *value = Value::from(zone);
            }
        }
    }
    // pointer_mut, not indexing: IndexMut would add the missing fields as nulls.
    let terms = pv.pointer_mut("/spec/nodeAffinity/required/nodeSelectorTerms").and_then(Value::as_array_mut);
    for term in terms.into_iter().flatten() {
        for expression in term["matchExpressions"].as_array_mut().into_iter().flatten() {
            if ZONE_KEYS.contains(&expression["key"].as_str().unwrap_or_default()) {
                expression["values"] = serde_json::json!([zone]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn in_tree_ids_lose_their_url_and_give_their_zone() {
        let pv = json!({"spec": {"awsElasticBlockStore": {"volumeID": "aws://us-east-1b/vol-1", "fsType": "ext4"}}});
        assert_eq!(disk_of(&pv), Ok(DiskRef { volume_id: "vol-1".into(), zone: Some("us-east-1b".into()) }));
        let pv = json!({"metadata": {"labels": {"failure-domain.beta.kubernetes.io/zone": "eu-west-1a"}},
            "spec": {"awsElasticBlockStore": {"volumeID": "vol-2"}}});
        assert_eq!(disk_of(&pv), Ok(DiskRef { volume_id: "vol-2".into(), zone: Some("eu-west-1a".into()) }));
    }

    #[test]
    fn csi_volumes_take_their_zone_from_node_affinity() {
        let pv = json!({"spec": {"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-3"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "topology.ebs.csi.aws.com/zone", "operator": "In", "values": ["us-west-2c"]}]}]}}}});
        assert_eq!(disk_of(&pv), Ok(DiskRef { volume_id: "vol-3".into(), zone: Some("us-west-2c".into()) }));
    }

    #[test]
    fn other_volumes_say_why_they_are_not_snapshotted() {
        let pv = json!({"spec": {"capacity": {"storage": "1Gi"}, "hostPath": {"path": "/data"}}});
        assert_eq!(disk_of(&pv).unwrap_err(), "hostPath volumes cannot be snapshotted (only EBS volumes)");
        let pv = json!({"spec": {"csi": {"driver": "pd.csi.storage.gke.io", "volumeHandle": "x"}}});
        assert!(disk_of(&pv).unwrap_err().contains("pd.csi.storage.gke.io"));
    }

    #[test]
    fn pointing_at_a_new_volume_keeps_the_form_and_moves_the_zone() {
        let mut pv = json!({"metadata": {"labels": {"topology.kubernetes.io/zone": "a"}},
            "spec": {"awsElasticBlockStore": {"volumeID": "aws://a/vol-1"}}});
        point_at_volume(&mut pv, "vol-9", "b");
        assert_eq!(
            pv,
            json!({"metadata": {"labels": {"topology.kubernetes.io/zone": "b"}},
            "spec": {"awsElasticBlockStore": {"volumeID": "aws://b/vol-9"}}})
        );
        let mut pv = json!({"spec": {"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "topology.ebs.csi.aws.com/zone", "operator": "In", "values": ["a"]}]}]}}}});
        point_at_volume(&mut pv, "vol-9", "b");
        assert_eq!(pv["spec"]["csi"]["volumeHandle"], "vol-9");
        assert_eq!(disk_of(&pv).unwrap().zone.as_deref(), Some("b"));
    }
}

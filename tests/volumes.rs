//! End-to-end: EBS volume snapshots through moto's EC2 API: taken by a backup, tagged and
//! recorded; turned into new volumes by a restore, with PVs that point at them and PVCs bound to
//! those PVs; deleted with their backup; and the ways a snapshot location can be wrong.

mod support;

use serde_json::{Value, json};
use support::{Ark, bucket_keys, delete_namespaces, ec2, kubectl, kubectl_create, stderr, unique, xml_values};

const CLASS: &str = "ark-test-manual";

fn create_volume(zone: &str) -> String {
    let xml = ec2(&[
        ("Action", "CreateVolume"),
        ("AvailabilityZone", zone),
        ("Size", "5"),
        ("VolumeType", "gp3"),
        ("Iops", "4000"),
        ("TagSpecification.1.ResourceType", "volume"),
        ("TagSpecification.1.Tag.1.Key", "team"),
        ("TagSpecification.1.Tag.1.Value", "db"),
    ]);
    xml_values(&xml, "volumeId").remove(0)
}

/// Snapshot ids tagged with the backup, and the whole answer.
fn snapshots_of(backup: &str) -> (Vec<String>, String) {
    let xml = ec2(&[
        ("Action", "DescribeSnapshots"),
        ("Filter.1.Name", "tag:ark.heptio.com/backup"),
        ("Filter.1.Value.1", backup),
    ]);
    (xml_values(&xml, "snapshotId"), xml)
}

fn get(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let out = kubectl(&all);
    assert!(out.status.success(), "kubectl {args:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn pv(name: &str, namespace: &str, claim: &str, source: Value) -> Value {
    let mut pv = json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {"capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain", "storageClassName": CLASS,
            "claimRef": {"namespace": namespace, "name": claim}}
    });
    pv["spec"].as_object_mut().unwrap().extend(source.as_object().unwrap().clone());
    pv
}

fn pvc(namespace: &str, name: &str, volume: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": namespace},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": CLASS, "volumeName": volume,
            "resources": {"requests": {"storage": "5Gi"}}}})
}

/// Waits until the claims are Bound; returns claim name -> PV name.
fn wait_bound(namespace: &str, claims: &[&str]) -> std::collections::BTreeMap<String, String> {
    for _ in 0..300 {
        let list = get(&["get", "pvc", "-n", namespace]);
        let bound: std::collections::BTreeMap<String, String> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"]["phase"] == "Bound")
            .map(|c| {
                (
                    c["metadata"]["name"].as_str().unwrap().to_owned(),
                    c["spec"]["volumeName"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        if claims.iter().all(|c| bound.contains_key(*c)) {
            return bound;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("claims {claims:?} in {namespace} never became Bound: {}", get(&["get", "pvc", "-n", namespace]));
}

fn delete_pvs(names: &[&str]) {
    for name in names {
        let _ = kubectl(&["delete", "pv", name, "--wait=false"]);
        let _ = kubectl(&["patch", "pv", name, "--type=merge", "-p", r#"{"metadata":{"finalizers":null}}"#]);
    }
    for _ in 0..300 {
        if names.iter().all(|n| !kubectl(&["get", "pv", n]).status.success()) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("persistent volumes {names:?} were not deleted");
}

/// The EBS volume id a PV points at, in either form.
fn volume_of(pv: &Value) -> String {
    let id = pv["spec"]["awsElasticBlockStore"]["volumeID"].as_str().or(pv["spec"]["csi"]["volumeHandle"].as_str());
    id.unwrap().rsplit('/').next().unwrap().to_owned()
}

fn setup(ark: &Ark) {
    ark.add_s3_location("s3", true);
    ark.add_snapshot_location("ebs", true);
}

#[test]
fn snapshots_are_taken_restored_into_new_volumes_and_deleted_with_the_backup() {
    let ark = Ark::new();
    setup(&ark);
    let ns = unique("vols");
    let (pv_a, pv_b, pv_c) = (unique("pv-intree"), unique("pv-csi"), unique("pv-hostpath"));
    let (vol_a, vol_b) = (create_volume("us-east-1a"), create_volume("us-east-1b"));
    assert!(kubectl(&["create", "namespace", &ns]).status.success());
    let mut in_tree = pv(
        &pv_a,
        &ns,
        "data-a",
        json!({"awsElasticBlockStore": {"volumeID": format!("aws://us-east-1a/{vol_a}"), "fsType": "ext4"}}),
    );
    in_tree["metadata"]["labels"] = json!({"topology.kubernetes.io/zone": "us-east-1a"});
    kubectl_create(ark.home(), &in_tree);
    kubectl_create(
        ark.home(),
        &pv(
            &pv_b,
            &ns,
            "data-b",
            json!({
        "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": vol_b, "fsType": "ext4"},
        "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "topology.ebs.csi.aws.com/zone", "operator": "In", "values": ["us-east-1b"]}]}]}}}),
        ),
    );
    kubectl_create(ark.home(), &pv(&pv_c, &ns, "data-c", json!({"hostPath": {"path": "/tmp/ark-test"}})));
    for (claim, volume) in [("data-a", &pv_a), ("data-b", &pv_b), ("data-c", &pv_c)] {
        kubectl_create(ark.home(), &pvc(&ns, claim, volume));
    }
    wait_bound(&ns, &["data-a", "data-b", "data-c"]);

    // The backup snapshots both EBS volumes, tagged, and says why the hostPath one is not.
    let backup = unique("with-volumes");
    let record: Value = serde_json::from_str(&ark.ok(&["backup", "create", &backup, "-n", &ns, "-o", "json"])).unwrap();
    assert_eq!(record["phase"], "Completed");
    assert_eq!(record["volumeSnapshotsAttempted"], 2);
    assert_eq!(record["volumeSnapshotsCompleted"], 2);
    assert_eq!(
        record["volumesNotSnapshotted"],
        json!([{"persistentVolume": pv_c, "reason": "hostPath volumes cannot be snapshotted (only EBS volumes)"}])
    );
    let (snapshots, xml) = snapshots_of(&backup);
    assert_eq!(snapshots.len(), 2, "{xml}");
    for expected in [pv_a.as_str(), pv_b.as_str(), "team", "db", "ark.heptio.com/cluster"] {
        assert!(xml.contains(expected), "snapshot tags lack {expected}: {xml}");
    }
    let described: Value =
        serde_json::from_str(&ark.ok(&["backup", "describe", &backup, "--details", "-o", "json"])).unwrap();
    let recorded = described["volumeSnapshots"].as_array().unwrap();
    let by_pv = |name: &str| recorded.iter().find(|s| s["persistentVolume"] == name).unwrap().clone();
    assert_eq!(by_pv(&pv_a)["volumeId"], vol_a.as_str());
    assert_eq!(by_pv(&pv_a)["availabilityZone"], "us-east-1a");
    assert_eq!(by_pv(&pv_b)["availabilityZone"], "us-east-1b");
    assert_eq!(by_pv(&pv_b)["volumeType"], "gp3");
    assert_eq!(by_pv(&pv_b)["iops"], 4000);
    let text = ark.ok(&["backup", "describe", &backup, "--details"]);
    assert!(text.contains(&vol_a) && text.contains(&format!("Not snapshotted: {pv_c}")), "{text}");

    // Restored beside the originals (which still exist): renamed PVs on new volumes, and the
    // mapped claims bound to them.
    let copy = format!("{ns}-copy");
    let restore = unique("copy");
    ark.ok(&["restore", "create", &restore, "--from-backup", &backup, "--namespace-mappings", &format!("{ns}:{copy}")]);
    let bound = wait_bound(&copy, &["data-a", "data-b"]);
    for (claim, original, old_volume) in [("data-a", &pv_a, &vol_a), ("data-b", &pv_b, &vol_b)] {
        let new_pv = &bound[claim];
        assert_ne!(new_pv, original, "a restored PV beside its original gets a new name");
        let restored = get(&["get", "pv", new_pv]);
        let volume = volume_of(&restored);
        assert_ne!(&volume, old_volume);
        let described = ec2(&[("Action", "DescribeVolumes"), ("VolumeId.1", &volume)]);
        let snapshot = by_pv(original)["snapshotId"].as_str().unwrap().to_owned();
        assert!(described.contains(&snapshot), "volume {volume} made from {snapshot}: {described}");
        assert_eq!(restored["spec"]["claimRef"]["namespace"], copy.as_str());
    }
    assert_eq!(volume_of(&get(&["get", "pv", &pv_a])), vol_a, "the original PV is untouched");

    // Lost namespace and PVs: the restore brings them back under their names, on new volumes.
    delete_namespaces(&[&ns, &copy]);
    let copies: Vec<String> = bound.values().cloned().collect();
    delete_pvs(&[&pv_a, &pv_b, &pv_c, &copies[0], &copies[1]]);
    let restore = unique("back");
    ark.ok(&["restore", "create", &restore, "--from-backup", &backup]);
    let bound = wait_bound(&ns, &["data-a", "data-b"]);
    assert_eq!(bound["data-a"], pv_a);
    assert_eq!(bound["data-b"], pv_b);
    let in_tree = get(&["get", "pv", &pv_a]);
    assert!(in_tree["spec"]["awsElasticBlockStore"]["volumeID"].as_str().unwrap().starts_with("aws://us-east-1a/vol-"));
    assert_ne!(volume_of(&in_tree), vol_a);
    assert_ne!(volume_of(&get(&["get", "pv", &pv_b])), vol_b);

    // Without snapshots: none taken, every PV listed as not snapshotted.
    let plain = unique("no-snapshots");
    let record: Value = serde_json::from_str(&ark.ok(&[
        "backup",
        "create",
        &plain,
        "-n",
        &ns,
        "--snapshot-volumes=false",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(record["volumeSnapshotsAttempted"], 0);
    assert_eq!(record["volumesNotSnapshotted"].as_array().unwrap().len(), 3);
    assert!(snapshots_of(&plain).0.is_empty());

    // Deleting the backup deletes its snapshots; one already gone is not an error.
    ec2(&[("Action", "DeleteSnapshot"), ("SnapshotId", &snapshots[0])]);
    ark.ok(&["backup", "delete", &backup, "--confirm"]);
    assert!(snapshots_of(&backup).0.is_empty(), "snapshots deleted with the backup");
    delete_namespaces(&[&ns]);
    delete_pvs(&[&pv_a, &pv_b, &pv_c]);
}

#[test]
fn a_wrong_snapshot_location_fails_before_anything_is_written() {
    let ark = Ark::new();
    let bucket = ark.add_s3_location("s3", true);
    let ns = unique("vols-bad");
    assert!(kubectl(&["create", "namespace", &ns]).status.success());

    let out = ark.run(&["backup", "create", "b1", "-n", &ns, "--volume-snapshot-location", "nowhere"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("nowhere") && stderr(&out).contains("set-snapshot-location"), "{}", stderr(&out));
    let out = ark.run(&["backup", "create", "b1", "-n", &ns, "--snapshot-volumes"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--volume-snapshot-location"), "{}", stderr(&out));

    ark.ok(&[
        "config",
        "set-snapshot-location",
        "down",
        "--provider",
        "aws",
        "--region",
        "us-east-1",
        "--endpoint",
        "http://127.0.0.1:9",
    ]);
    let out = ark.run(&["backup", "create", "b2", "-n", &ns, "--volume-snapshot-location", "down"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("volume snapshot location down"), "{}", stderr(&out));
    assert!(bucket_keys(&bucket, "ark/backups/").is_empty(), "nothing written");
    delete_namespaces(&[&ns]);
}

#[test]
fn a_volume_that_cannot_be_snapshotted_makes_the_backup_partially_failed_and_is_named() {
    let ark = Ark::new();
    setup(&ark);
    let ns = unique("vols-missing");
    let gone = unique("pv-gone");
    assert!(kubectl(&["create", "namespace", &ns]).status.success());
    kubectl_create(
        ark.home(),
        &pv(&gone, &ns, "data", json!({"awsElasticBlockStore": {"volumeID": "vol-0123456789abcdef0"}})),
    );
    kubectl_create(ark.home(), &pvc(&ns, "data", &gone));
    wait_bound(&ns, &["data"]);
    let backup = unique("missing-volume");
    let out = ark.run(&["backup", "create", &backup, "-n", &ns, "-o", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["phase"], "PartiallyFailed");
    assert_eq!(record["volumeSnapshotsAttempted"], 1);
    assert_eq!(record["volumeSnapshotsCompleted"], 0);
    let errors = record["errors"].to_string();
    assert!(errors.contains(&gone) && errors.contains("vol-0123456789abcdef0"), "{errors}");
    assert_eq!(record["resourceCounts"]["persistentvolumes"], 1, "the objects are backed up all the same");
    delete_namespaces(&[&ns]);
    delete_pvs(&[&gone]);
}

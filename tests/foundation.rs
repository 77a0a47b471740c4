//! End-to-end: ark reaches the real test cluster and real buckets with the generated config.

mod support;

use support::{Ark, bucket_keys, stderr, stdout};

#[test]
fn version_reports_client_and_real_server() {
    let ark = Ark::new();
    let text = ark.ok(&["version"]);
    assert!(text.contains(&format!("Client Version: v{}", env!("CARGO_PKG_VERSION"))), "{text}");
    assert!(text.contains(&format!("Server Version: {}", support::server_version())), "{text}");

    let json: serde_json::Value = serde_json::from_str(&ark.ok(&["version", "-o", "json"])).unwrap();
    assert_eq!(json["serverVersion"]["gitVersion"], support::server_version());
    assert_eq!(json["clientVersion"]["archiveFormat"], "1.1.0");
}

#[test]
fn version_with_a_missing_context_fails_clearly() {
    let ark = Ark::new();
    let out = ark.run(&["version", "--context", "no-such-context"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no-such-context"), "{}", stderr(&out));
}

#[test]
fn config_check_round_trips_objects_through_s3_and_file_locations() {
    let ark = Ark::new();
    let bucket = ark.add_s3_location("moto", true);
    let dir = ark.home().join("local-backups");
    let file_url = format!("file://{}", dir.display());
    ark.ok(&["config", "set-location", "local", &file_url]);

    let text = ark.ok(&["config", "check"]);
    assert!(text.lines().any(|l| l.starts_with("local") && l.ends_with("ok")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("moto") && l.ends_with("ok")), "{text}");
    // The probe object was written, read back and removed again.
    assert!(bucket_keys(&bucket, "ark/").is_empty(), "probe left in the bucket");
    assert!(dir.is_dir(), "file:// location directory created");

    let view: serde_json::Value = serde_json::from_str(&ark.ok(&["config", "view", "-o", "json"])).unwrap();
    assert_eq!(view["defaultLocation"], "moto");
    assert_eq!(view["storageLocations"]["moto"]["url"], format!("s3://{bucket}/ark"));
    assert_eq!(view["storageLocations"]["moto"]["pathStyle"], true);
    assert_eq!(view["defaultTtl"], "720h");
}

#[test]
fn config_check_names_a_missing_bucket() {
    let ark = Ark::new();
    let endpoint = ark.env().s3_endpoint().to_owned();
    ark.ok(&["config", "set-location", "gone", "s3://no-such-bucket-here", "--endpoint", &endpoint, "--path-style"]);
    let out = ark.run(&["config", "check", "gone", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let results: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(results[0]["ok"], false);
    let error = results[0]["error"].as_str().unwrap();
    assert!(error.contains("gone") && error.contains(".ark-check"), "{error}");
    assert!(stderr(&out).contains("1 of 1 storage locations failed"), "{}", stderr(&out));
}

#[test]
fn invalid_config_is_a_usage_error_naming_file_line_and_field() {
    let ark = Ark::new();
    let path = ark.home().join("config/ark/config.yaml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "storageLocations:\n  prod:\n    url: s3://bucket\n    regoin: eu-west-1\n").unwrap();
    let out = ark.run(&["config", "view"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&path.display().to_string()) && err.contains("regoin") && err.contains("line 4"), "{err}");
}

#[test]
fn config_set_location_rejects_bad_input_and_leaves_the_file_alone() {
    let ark = Ark::new();
    ark.ok(&["config", "set-location", "local", "file:///tmp/ark-x"]);
    let path = ark.home().join("config/ark/config.yaml");
    let before = std::fs::read_to_string(&path).unwrap();
    for args in [
        vec!["config", "set-location", "Bad_Name", "s3://b"],
        vec!["config", "set-location", "x", "ftp://b"],
        vec!["config", "set-location", "x", "s3://b", "--endpoint", "not a url"],
        vec!["config", "delete-location", "nope"],
    ] {
        let out = ark.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn without_config_backups_default_to_a_local_directory() {
    let ark = Ark::new();
    let view = ark.ok(&["config", "view"]);
    let want = format!("url: file://{}/data/ark/backups", ark.home().display());
    assert!(view.contains(&want), "{view}");
}

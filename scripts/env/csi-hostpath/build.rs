//! Generates the CSI messages and the Identity, Controller and Node service traits from the CSI
//! spec's `csi.proto`, read where the Go module cache holds it (csi.sh downloads the spec module
//! by version and names the file in `CSI_PROTO`). Nothing of the spec is kept in this repository.
//!
//! protox parses the .proto in Rust (its google/protobuf imports are built in), so no protoc is
//! needed; tonic-prost-build turns the descriptors into code. Only servers are generated, with
//! default methods answering UNIMPLEMENTED for the RPCs the plugin does not offer, as a Go
//! server embedding the Unimplemented*Server types does.

use std::env;
use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-env-changed=CSI_PROTO");
    let proto = PathBuf::from(env::var_os("CSI_PROTO").ok_or(
        "CSI_PROTO must name the CSI spec's csi.proto, for example \
         CSI_PROTO=\"$(go mod download -json github.com/container-storage-interface/spec@v1.13.0 | jq -r .Dir)/csi.proto\"",
    )?);
    println!("cargo::rerun-if-changed={}", proto.display());
    let include = proto.parent().ok_or("CSI_PROTO has no parent directory")?;
    let descriptors = protox::compile([&proto], [include]).map_err(|e| format!("compile {}: {e}", proto.display()))?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_transport(false)
        .generate_default_stubs(true)
        .compile_fds(descriptors)?;
    Ok(())
}

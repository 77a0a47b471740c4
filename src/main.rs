//! ark: back up and restore Kubernetes clusters from the outside.
//!
//! `main` only installs the process-wide TLS provider and hands over to the CLI layer; every
//! decision about arguments, output and exit codes lives in `cli`.

mod archive;
mod aws;
mod cli;
mod cluster;
mod config;
mod fsutil;
mod model;
mod ops;
mod poll;
mod snapshot;
mod state;
mod store;

fn main() -> std::process::ExitCode {
    // kube, object_store and the AWS SDK all speak rustls; one provider for the whole process
    // keeps rustls from refusing to choose between the ones its dependents enabled.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    cli::main()
}

//! Operations: backup, restore, schedules, garbage collection and sync, built from the cluster,
//! archive, store and state layers. Each reports progress through events the CLI renders.

//! Plain data shared by every layer: validated names, durations, resource identities, backup
//! and restore records, filters. Nothing here does I/O.

mod duration;
mod names;
mod resource;

pub(crate) use duration::{DurationError, HumanDuration};
pub(crate) use names::{NameError, ResourceName};
pub(crate) use resource::{GroupResource, ResourceType};

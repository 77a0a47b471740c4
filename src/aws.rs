//! One way to reach AWS for every client ark builds (S3 through object_store, EC2 through the
//! SDK): the standard credential chain (environment, profiles, SSO, IMDS), an optional named
//! profile, region and endpoint. Never logs credentials.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use tokio::sync::Mutex;

/// What a location says about reaching AWS; unset fields fall back to the standard chain.
#[derive(Debug, Clone, Default)]
pub(crate) struct AwsTarget<'a> {
    pub(crate) region: Option<&'a str>,
    pub(crate) profile: Option<&'a str>,
    pub(crate) endpoint: Option<&'a str>,
}

pub(crate) async fn sdk_config(target: &AwsTarget<'_>) -> aws_types::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = target.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = target.region {
        loader = loader.region(aws_types::region::Region::new(region.to_owned()));
    }
    if let Some(endpoint) = target.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// Lends the SDK's credential chain to object_store, caching each credential until shortly
/// before it expires (object_store asks before every request).
#[derive(Debug)]
pub(crate) struct ObjectStoreCredentials {
    provider: SharedCredentialsProvider,
    cached: Mutex<Option<(Arc<object_store::aws::AwsCredential>, Option<SystemTime>)>>,
}

impl ObjectStoreCredentials {
    pub(crate) fn new(provider: SharedCredentialsProvider) -> Self {
        Self { provider, cached: Mutex::new(None) }
    }
}

#[async_trait::async_trait]
impl object_store::CredentialProvider for ObjectStoreCredentials {
    type Credential = object_store::aws::AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<Self::Credential>> {
        let mut cached = self.cached.lock().await;
        let margin = Duration::from_secs(300);
        if let Some((credential, expiry)) = cached.as_ref()
            && expiry.is_none_or(|e| e > SystemTime::now() + margin)
        {
            return Ok(Arc::clone(credential));
        }
        let fresh = self.provider.provide_credentials().await.map_err(|e| object_store::Error::Generic {
            store: "S3",
            source: format!("no AWS credentials: {e} (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile)")
                .into(),
        })?;
        let credential = Arc::new(object_store::aws::AwsCredential {
            key_id: fresh.access_key_id().to_owned(),
            secret_key: fresh.secret_access_key().to_owned(),
            token: fresh.session_token().map(str::to_owned),
        });
        *cached = Some((Arc::clone(&credential), fresh.expiry()));
        Ok(credential)
    }
}

//! Capability `http`: the runtime's outbound requests, to the hosts the admin allowed.

use async_trait::async_trait;
use hatchery_runtime::outbound;
use hatchery_runtime::services::Http;
use hatchery_sdk::{HostError, OutgoingRequest, Response};

use super::HostServices;

#[async_trait]
impl Http for HostServices {
    async fn http_fetch(&self, request: OutgoingRequest) -> Result<Response, HostError> {
        outbound::fetch(&self.plugin_id, &self.grants.http, request).await
    }
}

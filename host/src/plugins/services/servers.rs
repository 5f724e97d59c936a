//! Capabilities `servers` (read servers and who may do what on them) and
//! `server_control` (power and console), through the same actions and policy as the
//! HTTP API.

use async_trait::async_trait;
use hatchery_runtime::services::Servers;
use hatchery_sdk::{HostError, Principal};

use super::{HostServices, host_error};
use crate::actions::{Actor, servers as server_actions};
use crate::db::servers::{self, Server};
use crate::db::{subusers, users};
use crate::policy;

/// A server as plugins see it.
fn to_plugin(server: Server) -> hatchery_sdk::Server {
    hatchery_sdk::Server {
        uuid: server.uuid,
        short_id: server.short_id,
        name: server.name,
        description: server.description,
        owner_id: server.owner_id,
        node_id: server.node_id,
        egg_id: server.egg_id,
        status: server.status.map(|status| status.as_str().to_string()),
        image: server.image,
        memory_mb: server.memory_mb,
        disk_mb: server.disk_mb,
        cpu_percent: server.cpu_percent,
    }
}

impl HostServices {
    /// The plugin itself, as the activity log names it.
    pub(super) fn actor(&self) -> Actor {
        Actor {
            user_id: None,
            name: format!("plugin:{}", self.plugin_id),
            impersonator_id: None,
            ip: None,
        }
    }

    pub(super) async fn server_record(&self, key: &str) -> Result<Server, HostError> {
        servers::find(&self.core.db, key)
            .await
            .map_err(host_error)?
            .ok_or_else(|| HostError::NotFound(format!("no server `{key}`")))
    }

    async fn user(&self, user_id: i64) -> Result<users::User, HostError> {
        users::find(&self.core.db, &user_id.to_string())
            .await
            .map_err(host_error)?
            .filter(|user| user.id == user_id)
            .ok_or_else(|| HostError::NotFound(format!("no user {user_id}")))
    }
}

#[async_trait]
impl Servers for HostServices {
    async fn server_get(&self, key: &str) -> Result<hatchery_sdk::Server, HostError> {
        self.require(self.grants.servers, "servers")?;
        self.server_record(key).await.map(to_plugin)
    }

    async fn servers_visible_to(
        &self,
        user_id: i64,
    ) -> Result<Vec<hatchery_sdk::Server>, HostError> {
        self.require(self.grants.servers, "servers")?;
        let user = self.user(user_id).await?;
        let visibility = match user.admin {
            true => servers::Visibility::All,
            false => servers::Visibility::AccessibleTo(user.id),
        };
        let listed = servers::accessible(&self.core.db, visibility)
            .await
            .map_err(host_error)?;
        Ok(listed.into_iter().map(to_plugin).collect())
    }

    async fn server_permissions(&self, user_id: i64, key: &str) -> Result<Vec<String>, HostError> {
        self.require(self.grants.servers, "servers")?;
        let user = self.user(user_id).await?;
        let server = self.server_record(key).await?;
        let principal = Principal {
            user_id: user.id,
            username: user.username.clone(),
            admin: user.admin,
            permissions: Vec::new(),
            key_scope: None,
        };
        let subuser = subusers::permissions(&self.core.db, server.id, user.id)
            .await
            .map_err(host_error)?;
        let access = policy::server_access(&principal, &server.uuid, server.owner_id, subuser)
            .map_err(|_| {
                HostError::NotFound(format!("user {user_id} has no part in server `{key}`"))
            })?;
        Ok(access.permissions())
    }

    async fn server_power(&self, key: &str, signal: &str) -> Result<(), HostError> {
        self.require(self.grants.server_control, "server_control")?;
        let signal = signal.parse().map_err(HostError::Invalid)?;
        let server = self.server_record(key).await?;
        server_actions::power(&self.core, &self.actor(), &server, signal)
            .await
            .map_err(host_error)
    }

    async fn server_command(&self, key: &str, line: &str) -> Result<(), HostError> {
        self.require(self.grants.server_control, "server_control")?;
        let server = self.server_record(key).await?;
        server_actions::send_command(&self.core, &self.actor(), &server, line)
            .await
            .map_err(host_error)
    }
}

//! Capability `identity`: find users, sign them in (sessions, with an impersonator),
//! and issue and revoke their API keys, for plugins that implement sign-in methods.
//! The cookie itself is set by the host, from the token a sign-in route answers with.

use async_trait::async_trait;
use hatchery_runtime::services::Identity;
use hatchery_sdk::{
    ApiKeyInfo, ApiKeyRequest, HostError, NewApiKey, NewSession, NewUser, SessionInfo,
    SessionOrigin, UserInfo,
};

use super::{HostServices, host_error};
use crate::actions::identity;
use crate::db::{sessions, users};
use crate::domain::networks::IpNetwork;

#[async_trait]
impl Identity for HostServices {
    async fn user_find(&self, key: &str) -> Result<Option<UserInfo>, HostError> {
        self.require(self.grants.identity, "identity")?;
        let Some(user) = users::find(&self.core.db, key).await.map_err(host_error)? else {
            return Ok(None);
        };
        let identity = users::identity(&self.core.db, user.id)
            .await
            .map_err(host_error)?;
        Ok(identity.map(|identity| UserInfo {
            permissions: identity.permissions(),
            id: identity.user.id,
            uuid: identity.user.uuid,
            username: identity.user.username,
            email: identity.user.email,
            admin: identity.user.admin,
            language: identity.user.language,
            role: identity.role_name,
        }))
    }

    async fn user_create(&self, new: NewUser) -> Result<UserInfo, HostError> {
        self.require(self.grants.identity, "identity")?;
        let user = identity::provision_user(
            &self.core,
            &self.actor(),
            &new.username,
            &new.email,
            new.role.as_deref(),
        )
        .await
        .map_err(host_error)?;
        self.user_find(&user.id.to_string())
            .await?
            .ok_or_else(|| HostError::Internal("the new account vanished".into()))
    }

    async fn session_create(
        &self,
        user_id: i64,
        origin: SessionOrigin,
    ) -> Result<NewSession, HostError> {
        self.require(self.grants.identity, "identity")?;
        let origin = sessions::SessionOrigin {
            ip: origin.ip,
            user_agent: origin.user_agent,
            impersonator_id: origin.impersonator_id,
        };
        let opened = identity::create_session(&self.core, &self.actor(), user_id, &origin)
            .await
            .map_err(host_error)?;
        Ok(NewSession {
            id: opened.id,
            token: opened.token,
            expires_at: opened.expires_at.timestamp(),
        })
    }

    async fn sessions_of(&self, user_id: i64) -> Result<Vec<SessionInfo>, HostError> {
        self.require(self.grants.identity, "identity")?;
        let listed = identity::list_sessions(&self.core, user_id)
            .await
            .map_err(host_error)?;
        Ok(listed
            .into_iter()
            .map(|session| SessionInfo {
                id: session.id,
                ip: session.ip,
                user_agent: session.user_agent,
                impersonator_id: session.impersonator_id,
                created_at: session.created_at.timestamp(),
                expires_at: session.expires_at.timestamp(),
                last_seen_at: session
                    .last_seen_at
                    .unwrap_or(session.created_at)
                    .timestamp(),
            })
            .collect())
    }

    async fn sessions_revoke(
        &self,
        user_id: i64,
        session_id: Option<i64>,
    ) -> Result<(), HostError> {
        self.require(self.grants.identity, "identity")?;
        identity::revoke_sessions(&self.core, &self.actor(), user_id, session_id)
            .await
            .map_err(host_error)
    }

    async fn api_key_issue(
        &self,
        user_id: i64,
        request: ApiKeyRequest,
    ) -> Result<NewApiKey, HostError> {
        self.require(self.grants.identity, "identity")?;
        let expires_at = request
            .expires_at
            .map(|seconds| {
                chrono::DateTime::from_timestamp(seconds, 0)
                    .ok_or_else(|| HostError::Invalid(format!("{seconds} is not a time")))
            })
            .transpose()?;
        let allowed_ips = request
            .allowed_ips
            .iter()
            .map(|network| IpNetwork::parse(network).map_err(HostError::Invalid))
            .collect::<Result<Vec<_>, _>>()?;
        let options = users::KeyOptions {
            description: request.description,
            expires_at,
            admin_power: request.admin,
            allowed_ips,
            scope: hatchery_sdk::KeyScope {
                servers: request.servers,
                permissions: request.permissions,
            },
        };
        let key = identity::issue_api_key(&self.core, &self.actor(), user_id, &options)
            .await
            .map_err(host_error)?;
        Ok(NewApiKey {
            identifier: key.identifier,
            token: key.token,
        })
    }

    async fn api_keys_of(&self, user_id: i64) -> Result<Vec<ApiKeyInfo>, HostError> {
        self.require(self.grants.identity, "identity")?;
        let keys = users::api_keys(&self.core.db, user_id)
            .await
            .map_err(host_error)?;
        Ok(keys
            .into_iter()
            .map(|key| {
                let scope = key.scope();
                ApiKeyInfo {
                    allowed_ips: key.allowed_ips(),
                    servers: scope.servers,
                    permissions: scope.permissions,
                    identifier: key.identifier,
                    description: key.description,
                    admin: key.admin_power,
                    created_at: key.created_at.timestamp(),
                    expires_at: key.expires_at.map(|at| at.timestamp()),
                    last_used_at: key.last_used_at.map(|at| at.timestamp()),
                }
            })
            .collect())
    }

    async fn api_key_revoke(&self, user_id: i64, identifier: &str) -> Result<(), HostError> {
        self.require(self.grants.identity, "identity")?;
        identity::revoke_api_key(&self.core, &self.actor(), user_id, identifier)
            .await
            .map_err(host_error)
    }
}

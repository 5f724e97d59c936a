//! Passwords belong to the sign-in plugins (providers of `auth-method`, core-auth by
//! default): the host never hashes or checks one. It hands them over — a password
//! typed at first start or into `hatchery user create`, a hash an import brought in —
//! and asks them whether a password is right. SSH keys are theirs too: the ones the
//! panel still holds go to the plugin serving `/api/client/account/ssh-keys`.

use hatchery_runtime::Login;
use hatchery_sdk::PasswordInput;

use super::manifest::{Provider, RouteScope};
use super::{MountedRoute, PluginHost};
use crate::db::{ssh_keys, users};
use crate::error::{Error, Result};

impl PluginHost {
    /// Creates a user and, when given, hands their password to the sign-in plugin. A
    /// password it refuses leaves no user behind.
    pub async fn create_user(
        &self,
        new: &users::NewUser,
        password: Option<String>,
    ) -> Result<users::User> {
        let user = users::create(&self.db, new).await?;
        if let Some(password) = password
            && let Err(err) = self
                .set_password(user.id, PasswordInput::Plain(password))
                .await
        {
            users::delete(&self.db, &user).await?;
            return Err(err);
        }
        Ok(user)
    }

    /// Gives a user a new password and signs out every browser they had.
    pub async fn change_password(&self, user: &users::User, password: String) -> Result<()> {
        self.set_password(user.id, PasswordInput::Plain(password))
            .await?;
        crate::db::sessions::delete_for_user(&self.db, user.id).await
    }

    /// Gives `password` to the first sign-in plugin that keeps passwords.
    pub async fn set_password(&self, user_id: i64, password: PasswordInput) -> Result<()> {
        for plugin in self.registry().providers(Provider::AuthMethod) {
            match plugin.code.set_password(user_id, password.clone()).await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(hatchery_runtime::Error::Refused(message)) => {
                    return Err(Error::bad_field("password", message));
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(Error::Conflict(
            "no enabled plugin keeps passwords: enable core-auth (`hatchery plugin enable core-auth`)"
                .into(),
        ))
    }

    /// Whether `password` is the password of `user`, as the sign-in plugins judge it.
    pub async fn password_matches(&self, user: &users::User, password: &str) -> Result<bool> {
        let login = Login::Password {
            username: user.username.clone(),
            password: password.to_string(),
        };
        for plugin in self.registry().providers(Provider::AuthMethod) {
            match plugin.code.check_login(&login).await {
                Ok(Some(user_id)) => return Ok(user_id == user.id),
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(plugin = %plugin.manifest.id, "a sign-in provider failed: {err}")
                }
            }
        }
        Ok(false)
    }

    /// Hands the password hashes the panel still holds (from before sign-in was a
    /// plugin, or brought in by an import) to the plugin that keeps passwords, and
    /// forgets each one it took. Safe to run at every start.
    pub async fn hand_over_password_hashes(&self) -> Result<usize> {
        if self.registry().providers(Provider::AuthMethod).is_empty() {
            return Ok(0);
        }
        let mut handed = 0;
        for (user_id, hash) in users::held_password_hashes(&self.db).await? {
            match self.set_password(user_id, PasswordInput::Hash(hash)).await {
                Ok(()) => {
                    users::forget_password_hash(&self.db, user_id).await?;
                    handed += 1;
                }
                Err(err) => {
                    tracing::warn!(
                        user = user_id,
                        "a stored password could not be handed to the sign-in plugin: {err}"
                    );
                }
            }
        }
        if handed > 0 {
            tracing::info!(
                users = handed,
                "handed stored passwords to the sign-in plugin"
            );
        }
        Ok(handed)
    }

    /// Hands the SSH keys the panel still holds (from before keys were a plugin's, or
    /// brought in by an import) to the plugin serving `POST /api/client/account/ssh-keys`,
    /// added as their owners would add them, and forgets each one it took. Safe to run
    /// at every start.
    pub async fn hand_over_ssh_keys(&self) -> Result<usize> {
        let held = ssh_keys::all(&self.db).await?;
        if held.is_empty() {
            return Ok(0);
        }
        let MountedRoute::Found { plugin, route, .. } =
            self.registry()
                .mounted_route(RouteScope::Account, "POST", "/ssh-keys")
        else {
            return Ok(0);
        };
        let mut handed = 0;
        for key in held {
            let Some(owner) = users::identity(&self.db, key.user_id).await? else {
                continue;
            };
            let body = serde_json::json!({ "name": key.name, "public_key": key.public_key });
            let request = hatchery_sdk::Request {
                method: "POST".into(),
                route: route.path.clone(),
                path: "/ssh-keys".into(),
                query: String::new(),
                params: Vec::new(),
                headers: vec![("content-type".into(), "application/json".into())],
                body: body.to_string().into_bytes(),
                principal: Some(owner.principal()),
            };
            match plugin.code.handle_request(request).await {
                // Added, or the plugin had it already.
                Ok(answer) if answer.status == 201 || answer.status == 409 => {
                    ssh_keys::delete(&self.db, key.user_id, &key.fingerprint).await?;
                    handed += 1;
                }
                Ok(answer) => tracing::warn!(
                    user = key.user_id,
                    status = answer.status,
                    "a stored SSH key was not taken by plugin {}: {}",
                    plugin.manifest.id,
                    String::from_utf8_lossy(&answer.body)
                ),
                Err(err) => tracing::warn!(
                    user = key.user_id,
                    "a stored SSH key could not be handed to plugin {}: {err}",
                    plugin.manifest.id
                ),
            }
        }
        if handed > 0 {
            tracing::info!(
                keys = handed,
                "handed stored SSH keys to the sign-in plugin"
            );
        }
        Ok(handed)
    }
}

//! Passwords belong to the sign-in plugins (providers of `auth-method`, core-auth by
//! default): the host never hashes or checks one. It hands them over — a password
//! typed at first start or into `hatchery user create`, a hash an import brought in —
//! and asks them whether a password is right.

use hatchery_runtime::Login;
use hatchery_sdk::PasswordInput;

use super::PluginHost;
use super::manifest::Provider;
use crate::db::users;
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
}

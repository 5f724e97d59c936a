//! Capability `activity`: entries in the activity log, under the plugin's namespace.

use async_trait::async_trait;
use hatchery_runtime::services;
use hatchery_sdk::{ActivityEntry, HostError};

use super::{HostServices, check_name, host_error};
use crate::actions::{Activity, Actor};
use crate::db::{servers, users};

/// Largest `properties` document an entry may carry.
const MAX_PROPERTIES_BYTES: usize = 16 * 1024;

#[async_trait]
impl services::Activity for HostServices {
    /// Records `<plugin-id>:<event>`, by the user the plugin acts for or by the plugin.
    async fn activity_record(&self, entry: ActivityEntry) -> Result<(), HostError> {
        self.require(self.grants.activity, "activity")?;
        check_name("activity event", &entry.event)?;
        let properties_size = entry.properties.to_string().len();
        if !entry.properties.is_object() || properties_size > MAX_PROPERTIES_BYTES {
            return Err(HostError::Invalid(format!(
                "properties must be a JSON object of at most {MAX_PROPERTIES_BYTES} bytes"
            )));
        }
        let actor = match entry.actor_id {
            None => self.actor(),
            Some(user_id) => {
                let user = users::find(&self.core.db, &user_id.to_string())
                    .await
                    .map_err(host_error)?
                    .filter(|user| user.id == user_id)
                    .ok_or_else(|| HostError::NotFound(format!("no user {user_id}")))?;
                Actor::user(user.id, &user.username, None, None)
            }
        };
        let mut activity =
            Activity::new(format!("{}:{}", self.plugin_id, entry.event)).with(entry.properties);
        if let Some(key) = &entry.server {
            let server = servers::find(&self.core.db, key)
                .await
                .map_err(host_error)?
                .ok_or_else(|| HostError::NotFound(format!("no server `{key}`")))?;
            activity = activity.on_server(server.id);
        }
        if let Some((kind, id)) = entry.subject {
            activity.subject = Some((kind, id));
        }
        match self.core.record(&actor, activity).await {
            Some(_) => Ok(()),
            None => Err(HostError::Unavailable(
                "the activity log could not be written".into(),
            )),
        }
    }
}

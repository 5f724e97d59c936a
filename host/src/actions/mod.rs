//! What users and admins do to the panel's domain, shared by the HTTP API and the CLI:
//! each action checks its input, changes the database, tells wings, and records who
//! did it in the activity log (which also goes out on the event bus for plugins).
//! Permission checks happen before, in [`crate::policy`].

pub mod files;
pub mod identity;
pub mod intents;
pub mod reconcile;
pub mod servers;

use std::sync::Arc;

use serde_json::{Value, json};

use crate::db::Database;
use crate::db::activity::{self, ActivityEntry, NewActivity};
use crate::db::nodes;
use crate::db::servers::Server;
use crate::error::{Error, Result};
use crate::events::{EventBus, host_event};
use crate::secrets::SecretBox;
use crate::wings_client::WingsClient;

/// What every action needs.
#[derive(Clone)]
pub struct Core {
    pub db: Database,
    pub secrets: Arc<SecretBox>,
    pub events: Arc<EventBus>,
    /// Hears of every recorded change: the serving panel's caches.
    pub observer: Option<Arc<dyn ChangeObserver>>,
}

/// Something that keeps copies derived from the panel's data (the HTTP layer's caches)
/// and must hear of every change, named by its activity event.
pub trait ChangeObserver: Send + Sync {
    fn changed(&self, event: &str);
}

impl Core {
    /// Tells the observer (if any) that `event` changed the panel's data.
    pub fn changed(&self, event: &str) {
        if let Some(observer) = &self.observer {
            observer.changed(event);
        }
    }

    /// A client for the wings of node `node_id`.
    pub async fn wings(&self, node_id: i64) -> Result<WingsClient> {
        self.wings_client(node_id, false).await
    }

    /// Like [`Core::wings`], but refuses while the node is in maintenance: users'
    /// actions wait, administrators' (sync, delete) go on.
    pub async fn wings_for_users(&self, node_id: i64) -> Result<WingsClient> {
        self.wings_client(node_id, true).await
    }

    async fn wings_client(&self, node_id: i64, refuse_maintenance: bool) -> Result<WingsClient> {
        let (node, token) = self.node_and_token(node_id, refuse_maintenance).await?;
        Ok(WingsClient::new(&node, &token))
    }

    /// Node `node_id` with its token unsealed (to sign tokens its wings accepts).
    pub async fn node_and_token(
        &self,
        node_id: i64,
        refuse_maintenance: bool,
    ) -> Result<(nodes::Node, String)> {
        let node = nodes::find(&self.db, &node_id.to_string())
            .await?
            .ok_or_else(|| Error::NotFound(format!("node {node_id} no longer exists")))?;
        if refuse_maintenance && node.maintenance {
            return Err(Error::Conflict(format!(
                "node {} is under maintenance; try again later",
                node.name
            )));
        }
        let token = nodes::token(&self.secrets, &node)?;
        Ok((node, token))
    }

    /// Ends a user's consoles and SFTP sessions at once: on `server` only, or on every
    /// node (a deleted or demoted user, a changed password). A node that cannot be told
    /// is logged; its sessions still end when their tokens expire.
    pub async fn end_sessions(&self, user_uuid: &str, server: Option<&Server>) {
        let targets: Vec<(i64, Vec<String>)> = match server {
            Some(server) => vec![(server.node_id, vec![server.uuid.clone()])],
            None => match nodes::list(&self.db).await {
                Ok(nodes) => nodes
                    .into_iter()
                    .map(|node| (node.id, Vec::new()))
                    .collect(),
                Err(err) => {
                    tracing::warn!(error = %err, "cannot list nodes to end a user's sessions");
                    return;
                }
            },
        };
        let calls = targets.into_iter().map(|(node_id, servers)| async move {
            let result = match self.wings(node_id).await {
                Ok(wings) => wings.deauthorize_user(user_uuid, &servers).await,
                Err(err) => Err(err),
            };
            if let Err(err) = result {
                tracing::warn!(node = node_id, error = %err, "wings was not told to end a user's sessions");
            }
        });
        futures_util::future::join_all(calls).await;
    }

    /// Records an activity and publishes it as `activity.<event>`. A failure to record
    /// is logged, not returned: the action itself has already happened.
    pub async fn record(&self, actor: &Actor, activity: Activity) -> Option<ActivityEntry> {
        let new = NewActivity {
            event: activity.event,
            actor_id: actor.user_id,
            actor: Some(actor.name.clone()),
            impersonator_id: actor.impersonator_id,
            ip: actor.ip.clone(),
            server_id: activity.server_id,
            subject_type: activity.subject.as_ref().map(|(kind, _)| kind.clone()),
            subject_id: activity.subject.map(|(_, id)| id),
            properties: activity.properties,
            created_at: None,
        };
        match self.record_entry(&new).await {
            Ok(entry) => Some(entry),
            Err(err) => {
                tracing::error!(event = %new.event, error = %err, "cannot record activity");
                None
            }
        }
    }

    /// Stores an entry as given (wings' reports carry their own actor and time),
    /// invalidates what it may have changed, and publishes it as `activity.<event>`.
    pub async fn record_entry(&self, new: &NewActivity) -> Result<ActivityEntry> {
        self.changed(&new.event);
        let entry = activity::record(&self.db, new).await?;
        let payload = serde_json::to_value(&entry).unwrap_or(Value::Null);
        if let Some((_, event)) = USER_EVENTS.iter().find(|(kind, _)| *kind == entry.event) {
            self.events.publish(host_event(event, payload.clone()));
        }
        self.events
            .publish(host_event(&format!("activity.{}", entry.event), payload));
        Ok(entry)
    }
}

/// Activities after which remembered credentials may be wrong.
/// Changes to accounts, published as `user.*` as well (with the activity entry):
/// sign-ins and keys publish their own `user.*` events in [`identity`].
const USER_EVENTS: &[(&str, &str)] = &[
    ("admin.user.create", "user.created"),
    ("auth.user.provision", "user.created"),
    ("admin.user.update", "user.updated"),
    ("user.account.update", "user.updated"),
    ("admin.user.delete", "user.deleted"),
];

/// Who acts: a signed-in user (perhaps impersonated by an admin), the CLI, or wings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
    pub impersonator_id: Option<i64>,
    pub ip: Option<String>,
}

impl Actor {
    /// Someone at the panel's command line (a machine administrator).
    pub fn cli() -> Actor {
        Actor {
            user_id: None,
            name: "cli".into(),
            impersonator_id: None,
            ip: None,
        }
    }

    pub fn user(
        user_id: i64,
        username: &str,
        impersonator_id: Option<i64>,
        ip: Option<String>,
    ) -> Actor {
        Actor {
            user_id: Some(user_id),
            name: username.to_string(),
            impersonator_id,
            ip,
        }
    }
}

/// One entry for the activity log.
#[derive(Debug, Clone)]
pub struct Activity {
    pub event: String,
    pub server_id: Option<i64>,
    /// What was acted on: (`server`, uuid), (`user`, uuid), (`node`, id), …
    pub subject: Option<(String, String)>,
    pub properties: Value,
}

impl Activity {
    pub fn new(event: impl Into<String>) -> Activity {
        Activity {
            event: event.into(),
            server_id: None,
            subject: None,
            properties: json!({}),
        }
    }

    pub fn on_server(mut self, server_id: i64) -> Activity {
        self.server_id = Some(server_id);
        self
    }

    pub fn subject(mut self, kind: impl Into<String>, id: impl ToString) -> Activity {
        self.subject = Some((kind.into(), id.to_string()));
        self
    }

    pub fn with(mut self, properties: Value) -> Activity {
        self.properties = properties;
        self
    }
}

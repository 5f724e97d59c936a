//! Who may do what: every permission decision of the host is made here.

use hatchery_sdk::Principal;

use crate::domain::vocabulary::{PowerSignal, ServerStatus};
use crate::error::{Error, Result};
use crate::plugins::manifest::RouteAuth;

/// Checks a caller against a route's declared `auth` and `permission`.
pub fn authorize(
    principal: Option<&Principal>,
    auth: RouteAuth,
    permission: Option<&str>,
) -> Result<()> {
    if auth == RouteAuth::Public && permission.is_none() {
        return Ok(());
    }
    let principal = principal.ok_or_else(|| {
        Error::Unauthenticated("sign in or send an API key as `Authorization: Bearer <key>`".into())
    })?;
    if auth == RouteAuth::Admin && !principal.admin {
        return Err(Error::Forbidden("this needs an administrator".into()));
    }
    if let Some(permission) = permission
        && !principal.can(permission)
    {
        return Err(Error::Forbidden(format!(
            "this needs the `{permission}` permission"
        )));
    }
    Ok(())
}

/// A plugin's server route: the caller may use the server (`access`), holds the
/// route's server permission, and the server takes requests (administrators still
/// reach suspended servers).
pub fn authorize_server_route(
    server_status: Option<ServerStatus>,
    access: &ServerAccess,
    permission: Option<&str>,
) -> Result<()> {
    if let Some(permission) = permission
        && !access.can(permission)
    {
        return Err(Error::Forbidden(format!(
            "this needs the `{permission}` permission on the server"
        )));
    }
    match server_status {
        Some(status @ (ServerStatus::Suspended | ServerStatus::Deleting))
            if *access != ServerAccess::Admin =>
        {
            Err(Error::Conflict(format!("the server is {status}")))
        }
        _ => Ok(()),
    }
}

/// A plugin's admin route: a root administrator, or staff whose role holds the route's
/// admin permission; with no permission, root administrators only.
pub fn authorize_admin_route(
    principal: Option<&Principal>,
    permission: Option<&str>,
) -> Result<()> {
    match permission {
        Some(permission) => require_admin_permission(principal, permission).map(drop),
        None => require_admin(principal).map(drop),
    }
}

/// Requires an administrator (the plugin admin API).
pub fn require_admin(principal: Option<&Principal>) -> Result<&Principal> {
    authorize(principal, RouteAuth::Admin, None)?;
    Ok(principal.expect("authorize demanded a principal"))
}

/// Requires a signed-in user.
pub fn require_user(principal: Option<&Principal>) -> Result<&Principal> {
    principal.ok_or_else(|| {
        Error::Unauthenticated("sign in or send an API key as `Authorization: Bearer <key>`".into())
    })
}

/// Requires a root administrator or a role holding `permission` (one of
/// [`ADMIN_PERMISSIONS`]).
pub fn require_admin_permission<'a>(
    principal: Option<&'a Principal>,
    permission: &str,
) -> Result<&'a Principal> {
    let principal = require_user(principal)?;
    if principal.can(permission) {
        Ok(principal)
    } else {
        Err(Error::Forbidden(format!(
            "this needs the `{permission}` admin permission; ask an administrator for a role that has it"
        )))
    }
}

/// Nobody hands out what they do not hold: giving someone a role, or changing or
/// deleting a user who holds one, needs every permission that role holds. (Otherwise
/// staff with `users.update` could move themselves into a stronger role, or reset the
/// password of someone who holds one and sign in as them.)
pub fn check_role_power(
    principal: &Principal,
    role_name: &str,
    permissions: &[String],
) -> Result<()> {
    match permissions
        .iter()
        .find(|permission| !principal.can(permission))
    {
        Some(permission) => Err(Error::Forbidden(format!(
            "role `{role_name}` holds `{permission}`, which you do not hold; only someone who \
             holds all of a role's permissions gives it or manages its members"
        ))),
        None => Ok(()),
    }
}

/// The server permission a power signal needs (Pterodactyl's: `kill` is a stop).
pub fn power_permission(signal: PowerSignal) -> &'static str {
    match signal {
        PowerSignal::Start => "control.start",
        PowerSignal::Stop | PowerSignal::Kill => "control.stop",
        PowerSignal::Restart => "control.restart",
    }
}

/// Root administrators are created only by root administrators.
pub fn check_user_create(caller: &Principal, making_admin: bool) -> Result<()> {
    match making_admin && !caller.admin {
        true => Err(Error::Forbidden(
            "only root administrators create root administrators".into(),
        )),
        false => Ok(()),
    }
}

/// A root administrator is changed only by root administrators, who alone give or
/// take the role; nobody takes away their own administrator rights.
pub fn check_user_change(
    caller: &Principal,
    target: (i64, bool),
    admin_change: Option<bool>,
) -> Result<()> {
    let (target_id, target_admin) = target;
    if (admin_change.is_some() || target_admin) && !caller.admin {
        return Err(Error::Forbidden(
            "only root administrators change root administrators".into(),
        ));
    }
    if admin_change == Some(false) && target_id == caller.user_id {
        return Err(Error::Forbidden(
            "you cannot take away your own administrator rights".into(),
        ));
    }
    Ok(())
}

/// Nobody deletes themselves; root administrators are deleted only by their peers.
pub fn check_user_delete(caller: &Principal, target: (i64, bool)) -> Result<()> {
    let (target_id, target_admin) = target;
    if target_id == caller.user_id {
        return Err(Error::Forbidden("you cannot delete yourself".into()));
    }
    if target_admin && !caller.admin {
        return Err(Error::Forbidden(
            "only root administrators delete root administrators".into(),
        ));
    }
    Ok(())
}

/// Whether `impersonator` may sign in as `target`: a root administrator, or staff
/// holding `users.impersonate`, and never as someone with more power than themselves
/// (a root administrator, or a role with a permission the impersonator lacks).
pub fn check_impersonation(impersonator: &Principal, target: &Principal) -> Result<()> {
    if impersonator.user_id == target.user_id {
        return Err(Error::bad_request("nobody needs to impersonate themselves"));
    }
    if !impersonator.can("users.impersonate") {
        return Err(Error::Forbidden(
            "signing in as another user needs the `users.impersonate` admin permission".into(),
        ));
    }
    if target.admin && !impersonator.admin {
        return Err(Error::Forbidden(
            "only a root administrator may act as another root administrator".into(),
        ));
    }
    match target
        .permissions
        .iter()
        .find(|permission| !impersonator.can(permission))
    {
        Some(permission) => Err(Error::Forbidden(format!(
            "{} holds `{permission}`, which you do not; nobody acts as someone with more power",
            target.username
        ))),
        None => Ok(()),
    }
}

/// The admin permissions a role can hold, with what they allow.
pub const ADMIN_PERMISSIONS: &[(&str, &str)] = &[
    ("users.read", "see users"),
    ("users.create", "create users"),
    ("users.update", "change users, their roles and passwords"),
    ("users.delete", "delete users"),
    (
        "users.impersonate",
        "sign in as users who hold no more than they do",
    ),
    ("roles.read", "see roles"),
    ("roles.manage", "create, change and delete roles"),
    ("nodes.read", "see nodes and allocations"),
    ("nodes.create", "create nodes"),
    (
        "nodes.update",
        "change nodes, reset their tokens, manage allocations",
    ),
    ("nodes.delete", "delete nodes"),
    ("eggs.read", "see eggs and nests"),
    ("eggs.import", "import and export eggs"),
    ("eggs.delete", "delete eggs"),
    ("servers.read", "see every server"),
    ("servers.create", "create servers"),
    ("servers.update", "change, suspend and reinstall any server"),
    ("servers.delete", "delete servers"),
    ("activity.read", "read the whole activity log"),
];

/// What a subuser can be given on a server (Pterodactyl's names).
pub const SERVER_PERMISSIONS: &[(&str, &str)] = &[
    ("websocket.connect", "open the console"),
    ("control.console", "send console commands"),
    ("control.start", "start the server"),
    ("control.stop", "stop and kill the server"),
    ("control.restart", "restart the server"),
    ("user.read", "see subusers"),
    ("user.create", "add subusers"),
    ("user.update", "change subusers' permissions"),
    ("user.delete", "remove subusers"),
    ("file.read", "list files"),
    ("file.read-content", "read and download files"),
    ("file.create", "create and upload files"),
    ("file.update", "change files"),
    ("file.delete", "delete files"),
    ("file.archive", "compress and decompress"),
    ("file.sftp", "use SFTP (with the file permissions above)"),
    ("backup.read", "see backups"),
    ("backup.create", "create backups"),
    ("backup.delete", "delete backups"),
    ("backup.download", "download backups"),
    ("backup.restore", "restore backups"),
    ("allocation.read", "see the server's addresses"),
    ("allocation.create", "add addresses"),
    ("allocation.update", "change the primary address and notes"),
    ("allocation.delete", "remove addresses"),
    ("startup.read", "see startup variables"),
    ("startup.update", "change startup variables"),
    ("startup.docker-image", "change the docker image"),
    ("database.read", "see databases"),
    ("database.create", "create databases"),
    ("database.update", "rotate database passwords"),
    ("database.delete", "delete databases"),
    ("database.view_password", "see database passwords"),
    ("schedule.read", "see schedules"),
    ("schedule.create", "create schedules"),
    ("schedule.update", "change schedules"),
    ("schedule.delete", "delete schedules"),
    ("settings.rename", "rename the server"),
    ("settings.reinstall", "reinstall the server"),
    ("activity.read", "read the server's activity"),
];

/// Plugins name their permissions `<plugin id>.<action>`; the host's own areas are
/// reserved, so a plugin cannot mint a permission that reads like a host one.
fn is_plugin_permission(permission: &str, host: &[(&str, &str)]) -> bool {
    let Some((area, action)) = permission.split_once('.') else {
        return false;
    };
    let well_formed = !area.is_empty()
        && !action.is_empty()
        && permission.len() <= 128
        && permission
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    let reserved = host.iter().any(|(known, _)| {
        known
            .split_once('.')
            .is_some_and(|(known_area, _)| known_area == area)
    });
    // Plugin permissions are `<plugin id>.…`; host namespaces such as `admin.` are
    // never a plugin's, so nobody can hand them out as one.
    well_formed && !reserved && crate::plugins::manifest::validate_id(area).is_ok()
}

fn check_permissions(permissions: &[String], host: &[(&str, &str)], kind: &str) -> Result<()> {
    for permission in permissions {
        if !host.iter().any(|(known, _)| known == permission)
            && !is_plugin_permission(permission, host)
        {
            return Err(Error::bad_field(
                "permissions",
                format!(
                    "`{permission}` is not a {kind} permission; GET /api/permissions lists them"
                ),
            ));
        }
    }
    Ok(())
}

pub fn check_admin_permissions(permissions: &[String]) -> Result<()> {
    check_permissions(permissions, ADMIN_PERMISSIONS, "admin")
}

/// Checks what a caller wants to give a subuser: known permissions, and only ones
/// the caller holds on this server themselves.
/// Every name is a server permission (the host's or a plugin's).
pub fn check_server_permissions(permissions: &[String]) -> Result<()> {
    check_permissions(permissions, SERVER_PERMISSIONS, "server")
}

pub fn check_subuser_grant(access: &ServerAccess, permissions: &[String]) -> Result<()> {
    check_permissions(permissions, SERVER_PERMISSIONS, "server")?;
    for permission in permissions {
        if !access.can(permission) {
            return Err(Error::Forbidden(format!(
                "you cannot give `{permission}`: you do not hold it on this server"
            )));
        }
    }
    Ok(())
}

/// How a caller may use one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerAccess {
    /// A root administrator: everything, including install output and internal errors.
    Admin,
    Owner,
    Subuser(Vec<String>),
}

impl ServerAccess {
    pub fn can(&self, permission: &str) -> bool {
        match self {
            ServerAccess::Admin => true,
            ServerAccess::Owner => !permission.starts_with("admin."),
            ServerAccess::Subuser(permissions) => permissions.iter().any(|p| p == permission),
        }
    }

    pub fn require(&self, permission: &str) -> Result<()> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "this needs the `{permission}` permission on this server"
            )))
        }
    }

    /// Administrators see the egg's hidden variables, and change variables and images
    /// beyond what the egg lets users choose.
    pub fn beyond_user_rules(&self) -> bool {
        matches!(self, ServerAccess::Admin)
    }

    /// The permissions written into console tokens and SFTP logins.
    pub fn permissions(&self) -> Vec<String> {
        match self {
            ServerAccess::Admin => vec![
                "*".into(),
                "admin.websocket.errors".into(),
                "admin.websocket.install".into(),
            ],
            ServerAccess::Owner => vec!["*".into()],
            ServerAccess::Subuser(permissions) => permissions.clone(),
        }
    }
}

/// Whether [`server_access`] needs `principal`'s subuser permissions on a server owned
/// by `owner_id` (administrators and the owner need none, so callers skip the lookup).
pub fn needs_subuser_permissions(principal: &Principal, owner_id: i64) -> bool {
    !principal.admin && principal.user_id != owner_id
}

/// How `principal` may use server `server_uuid` owned by `owner_id`, given the
/// subuser permissions they hold there (if any), within what their API key was limited
/// to. Anyone else is told the server does not exist.
pub fn server_access(
    principal: &Principal,
    server_uuid: &str,
    owner_id: i64,
    subuser_permissions: Option<Vec<String>>,
) -> Result<ServerAccess> {
    let access = account_access(principal, owner_id, subuser_permissions)?;
    let Some(scope) = &principal.key_scope else {
        return Ok(access);
    };
    if scope
        .servers
        .as_ref()
        .is_some_and(|servers| !servers.iter().any(|uuid| uuid == server_uuid))
    {
        return Err(Error::NotFound("no such server".into()));
    }
    Ok(match &scope.permissions {
        // A limited key acts like a subuser holding what both allow.
        Some(permissions) => ServerAccess::Subuser(
            permissions
                .iter()
                .filter(|permission| access.can(permission))
                .cloned()
                .collect(),
        ),
        None => access,
    })
}

/// How the account itself (not a key's limits) may use a server.
fn account_access(
    principal: &Principal,
    owner_id: i64,
    subuser_permissions: Option<Vec<String>>,
) -> Result<ServerAccess> {
    if principal.admin {
        Ok(ServerAccess::Admin)
    } else if principal.user_id == owner_id {
        Ok(ServerAccess::Owner)
    } else if let Some(permissions) = subuser_permissions {
        Ok(ServerAccess::Subuser(permissions))
    } else {
        Err(Error::NotFound("no such server".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(admin: bool, permissions: &[&str]) -> Principal {
        Principal {
            user_id: 1,
            username: "ada".into(),
            admin,
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
            key_scope: None,
        }
    }

    #[test]
    fn decisions() {
        assert!(authorize(None, RouteAuth::Public, None).is_ok());
        assert!(matches!(
            authorize(None, RouteAuth::User, None),
            Err(Error::Unauthenticated(_))
        ));
        assert!(matches!(
            authorize(None, RouteAuth::Public, Some("x.y")),
            Err(Error::Unauthenticated(_))
        ));
        assert!(authorize(Some(&user(false, &[])), RouteAuth::User, None).is_ok());
        assert!(matches!(
            authorize(Some(&user(false, &[])), RouteAuth::Admin, None),
            Err(Error::Forbidden(_))
        ));
        assert!(matches!(
            authorize(Some(&user(false, &[])), RouteAuth::User, Some("x.y")),
            Err(Error::Forbidden(_))
        ));
        assert!(authorize(Some(&user(false, &["x.y"])), RouteAuth::User, Some("x.y")).is_ok());
        assert!(authorize(Some(&user(true, &[])), RouteAuth::User, Some("x.y")).is_ok());
    }

    #[test]
    fn nobody_impersonates_someone_with_more_power() {
        let mut staff = user(false, &["users.impersonate", "servers.read"]);
        staff.user_id = 10;
        let plain = user(false, &[]);
        assert!(check_impersonation(&staff, &plain).is_ok());
        assert!(check_impersonation(&staff, &user(false, &["servers.read"])).is_ok());
        assert!(matches!(
            check_impersonation(&staff, &user(false, &["nodes.delete"])),
            Err(Error::Forbidden(_))
        ));
        assert!(matches!(
            check_impersonation(&staff, &user(true, &[])),
            Err(Error::Forbidden(_))
        ));
        let mut without = user(false, &["servers.read"]);
        without.user_id = 11;
        assert!(matches!(
            check_impersonation(&without, &plain),
            Err(Error::Forbidden(_))
        ));
        let mut root = user(true, &[]);
        root.user_id = 12;
        assert!(check_impersonation(&root, &user(true, &[])).is_ok());
        assert!(check_impersonation(&root, &root).is_err());
    }

    #[test]
    fn roles_grant_admin_permissions() {
        let moderator = user(false, &["nodes.read"]);
        assert!(require_admin_permission(Some(&moderator), "nodes.read").is_ok());
        assert!(matches!(
            require_admin_permission(Some(&moderator), "nodes.delete"),
            Err(Error::Forbidden(_))
        ));
        assert!(require_admin_permission(Some(&user(true, &[])), "nodes.delete").is_ok());
    }

    #[test]
    fn permission_names() {
        let ok = |p: &[&str]| {
            check_admin_permissions(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        };
        assert!(ok(&["nodes.read", "backups-s3.configure"]).is_ok());
        // Unknown host permissions and malformed names are refused, naming the culprit.
        let err = ok(&["nodes.fly"]).unwrap_err().to_string();
        assert!(err.contains("nodes.fly"), "{err}");
        assert!(ok(&["Nodes.Read"]).is_err());
        assert!(ok(&["*"]).is_err());
    }

    #[test]
    fn subusers_cannot_give_what_they_lack() {
        let access = ServerAccess::Subuser(vec!["control.console".into(), "user.create".into()]);
        let grant = |p: &str| check_subuser_grant(&access, &[p.to_string()]);
        assert!(grant("control.console").is_ok());
        assert!(matches!(grant("file.sftp"), Err(Error::Forbidden(_))));
        assert!(matches!(grant("file.fly"), Err(Error::BadRequest { .. })));
        assert!(check_subuser_grant(&ServerAccess::Owner, &["file.sftp".into()]).is_ok());
    }

    #[test]
    fn admin_permissions_are_never_a_subusers_or_a_plugins() {
        for permission in [
            "admin.websocket.install",
            "admin.websocket.errors",
            "admin.x",
        ] {
            assert!(
                check_subuser_grant(&ServerAccess::Owner, &[permission.into()]).is_err(),
                "{permission}"
            );
            assert!(!ServerAccess::Owner.can(permission));
        }
        assert!(ServerAccess::Admin.can("admin.websocket.install"));
    }

    #[test]
    fn roles_are_given_only_by_someone_holding_all_of_them() {
        let staff = user(false, &["users.update", "users.read"]);
        let strong = ["users.update".to_string(), "nodes.delete".to_string()];
        let err = check_role_power(&staff, "ops", &strong)
            .unwrap_err()
            .to_string();
        assert!(err.contains("nodes.delete"), "{err}");
        assert!(check_role_power(&staff, "helpdesk", &strong[..1]).is_ok());
        assert!(check_role_power(&user(true, &[]), "ops", &strong).is_ok());
    }
}

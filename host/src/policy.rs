//! Who may do what: every permission decision of the host is made here.

use hatchery_sdk::Principal;

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

/// Requires an administrator (the admin API).
pub fn require_admin(principal: Option<&Principal>) -> Result<&Principal> {
    authorize(principal, RouteAuth::Admin, None)?;
    Ok(principal.expect("authorize demanded a principal"))
}

/// The console and file permissions `principal` holds on a server owned by `owner_id`:
/// administrators hold everything (and see install output and internal errors), the
/// owner holds every server permission. Anyone else is told the server does not exist.
pub fn server_permissions(principal: &Principal, owner_id: i64) -> Result<Vec<String>> {
    if principal.admin {
        return Ok(vec![
            "*".into(),
            "admin.websocket.errors".into(),
            "admin.websocket.install".into(),
        ]);
    }
    if principal.user_id == owner_id {
        return Ok(vec!["*".into()]);
    }
    Err(Error::NotFound("no such server".into()))
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
}

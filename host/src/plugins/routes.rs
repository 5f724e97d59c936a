//! Where plugin routes are mounted, and the host's own routes there that no plugin
//! route may shadow.

use hatchery_runtime::manifest::RouteScope;
pub use hatchery_runtime::routes::RoutePattern;

/// The host's own paths below `/api/client/servers/{server}`, which no plugin's server
/// route may shadow (a test in `http::openapi` keeps the lists in step with the API).
pub const CORE_SERVER_ROUTES: &[&str] = &[
    "/",
    "/websocket",
    "/resources",
    "/power",
    "/command",
    "/settings/rename",
    "/settings/reinstall",
    "/settings/docker-image",
    "/startup",
    "/startup/variable",
    "/users",
    "/users/{user}",
    "/activity",
    "/network/allocations",
    "/network/allocations/{allocation}",
    "/network/allocations/{allocation}/primary",
];

/// The host's own paths below `/api/admin`.
pub const CORE_ADMIN_ROUTES: &[&str] = &[
    "/plugins",
    "/plugins/{id}",
    "/plugins/{id}/enable",
    "/plugins/{id}/disable",
    "/plugins/{id}/grants",
    "/plugins/{id}/settings",
    "/users",
    "/users/{user}",
    "/roles",
    "/roles/{role}",
    "/activity",
    "/nodes",
    "/nodes/{node}",
    "/nodes/{node}/configuration",
    "/nodes/{node}/health",
    "/nodes/{node}/reset-token",
    "/nodes/{node}/allocations",
    "/eggs",
    "/eggs/{egg}",
    "/eggs/{egg}/export",
    "/nests",
    "/servers",
    "/servers/{server}",
    "/servers/{server}/suspend",
    "/servers/{server}/unsuspend",
    "/servers/{server}/reinstall",
];

/// The host's own paths below `/api/auth`.
pub const CORE_AUTH_ROUTES: &[&str] = &["/logout", "/methods"];

/// The host's own paths below `/api/client/account`.
pub const CORE_ACCOUNT_ROUTES: &[&str] = &["/"];

/// Where a scope's routes are mounted, and the host's own routes there.
pub fn mount(scope: RouteScope) -> (&'static str, &'static [&'static str]) {
    match scope {
        RouteScope::Plugin => ("/api/plugins/{id}", &[]),
        RouteScope::Server => ("/api/client/servers/{server}", CORE_SERVER_ROUTES),
        RouteScope::Admin => ("/api/admin", CORE_ADMIN_ROUTES),
        RouteScope::Auth => ("/api/auth", CORE_AUTH_ROUTES),
        RouteScope::Account => ("/api/client/account", CORE_ACCOUNT_ROUTES),
    }
}

/// The host's route that `path` in `scope` would shadow, if any.
pub fn shadowed_core_route(scope: RouteScope, path: &str) -> Option<&'static str> {
    let pattern = RoutePattern::parse(path).ok()?;
    mount(scope)
        .1
        .iter()
        .copied()
        .find(|core| RoutePattern::parse(core).is_ok_and(|core| core.overlaps(&pattern)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_routes_are_not_shadowed() {
        let server = |path| shadowed_core_route(RouteScope::Server, path);
        assert_eq!(server("/power"), Some("/power"));
        assert_eq!(server("/{x}"), Some("/websocket"));
        assert_eq!(server("/files/list"), None);
        let admin = |path| shadowed_core_route(RouteScope::Admin, path);
        assert_eq!(admin("/users/{id}"), Some("/users/{user}"));
        assert_eq!(admin("/oauth-providers"), None);
        assert_eq!(
            shadowed_core_route(RouteScope::Auth, "/logout"),
            Some("/logout")
        );
    }
}

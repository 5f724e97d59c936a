//! The OpenAPI document, generated from the handlers' annotations.

use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{account, admin_eggs, admin_nodes, admin_servers, admin_users, client, public};

#[derive(OpenApi)]
#[openapi(
    info(title = "Hatchery panel API", description = "Users, nodes, eggs and servers of a Hatchery panel. Errors are always `{\"error\": {\"code\", \"message\", \"field\"?}}`; lists are paged with `?page=&per_page=` (at most 100) and answer `{\"data\": [...], \"meta\": {...}}`. Plugins add routes under `/api/plugins/{id}/...`."),
    paths(
        public::settings, public::setup, public::logout, public::permissions, public::sign_in_methods,
        account::show, account::update,
        client::list, client::show, client::websocket, client::resources, client::power, client::command, client::rename,
        client::reinstall, client::startup, client::update_variable, client::docker_image,
        client::subuser_list, client::subuser_create, client::subuser_update, client::subuser_delete,
        client::activity,
        client::allocation_list, client::allocation_claim, client::allocation_notes,
        client::allocation_primary, client::allocation_release,
        admin_users::user_list, admin_users::user_show, admin_users::user_create, admin_users::user_update,
        admin_users::user_delete, admin_users::role_list, admin_users::role_create, admin_users::role_update,
        admin_users::role_delete, admin_users::activity_list,
        admin_nodes::list, admin_nodes::show, admin_nodes::create, admin_nodes::update, admin_nodes::delete,
        admin_nodes::configuration, admin_nodes::health, admin_nodes::reset_token, admin_nodes::allocations, admin_nodes::allocate,
        admin_nodes::deallocate,
        admin_eggs::list, admin_eggs::nests, admin_eggs::show, admin_eggs::import, admin_eggs::export, admin_eggs::delete,
        admin_servers::list, admin_servers::show, admin_servers::create, admin_servers::update,
        admin_servers::suspend, admin_servers::unsuspend, admin_servers::reinstall, admin_servers::delete,
    ),
    modifiers(&Security),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("an API key, `hk_…`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                super::auth::SESSION_COOKIE,
            ))),
        );
    }
}

/// `GET /api/openapi.json`: the host's API, generated once from the handlers, and the
/// routes of every enabled plugin as they are now.
pub async fn document(
    axum::extract::State(state): axum::extract::State<super::AppState>,
) -> axum::response::Response {
    static CORE: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    let core = CORE.get_or_init(|| {
        let mut document = ApiDoc::openapi();
        document.info.version = crate::plugins::HOST_VERSION.to_string();
        serde_json::to_value(&document).expect("the OpenAPI document encodes")
    });
    let mut document = core.clone();
    add_plugin_routes(&mut document, &state.plugins.registry());
    axum::Json(document).into_response()
}

/// Each enabled plugin's routes at the path clients call, tagged with the plugin, with
/// the manifest's summary and who may call them.
fn add_plugin_routes(document: &mut serde_json::Value, registry: &crate::plugins::Registry) {
    use crate::plugins::manifest::{RouteAuth, RouteScope};
    use serde_json::json;
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    for plugin in registry.loaded_plugins() {
        let id = &plugin.manifest.id;
        for route in &plugin.manifest.routes {
            let (prefix, _) = crate::plugins::routes::mount(route.scope);
            let path = format!("{}{}", prefix.replace("{id}", id), route.path);
            let parameters: Vec<serde_json::Value> = path
                .split('/')
                .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
                .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
                .collect();
            // Server and admin routes always need a caller.
            let public = route.auth == RouteAuth::Public
                && matches!(route.scope, RouteScope::Auth | RouteScope::Plugin);
            let mut operation = json!({
                "tags": [format!("plugin: {id}")],
                "summary": route.summary.clone().unwrap_or_else(|| format!("{} route of plugin {id}", route.method.to_ascii_uppercase())),
                "parameters": parameters,
                "responses": { "default": { "description": "the plugin's answer; errors are `{\"error\": {\"code\", \"message\"}}`" } },
            });
            if !public {
                operation["security"] = json!([{ "api_key": [] }, { "session": [] }]);
            }
            if let Some(permission) = &route.permission {
                operation["description"] = json!(format!("Needs the `{permission}` permission."));
            }
            paths.entry(path).or_insert_with(|| json!({}))[route.method.to_ascii_lowercase()] =
                operation;
        }
    }
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    use crate::plugins::manifest::RouteScope;
    use crate::plugins::routes::mount;

    /// `/users/{user}` and `/users/{id}` are the same route.
    fn shape(path: &str) -> String {
        path.split('/')
            .map(|part| if part.starts_with('{') { "{}" } else { part })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Plugins may not shadow the host's routes at the shared mount points; the lists
    /// that say which routes those are must name every route the API documents there.
    #[test]
    fn the_core_route_lists_name_every_documented_route() {
        let document = super::ApiDoc::openapi();
        for scope in [
            RouteScope::Server,
            RouteScope::Admin,
            RouteScope::Auth,
            RouteScope::Account,
        ] {
            let (prefix, core) = mount(scope);
            let listed: Vec<String> = core.iter().map(|path| shape(path)).collect();
            for path in document.paths.paths.keys() {
                let Some(rest) = path.strip_prefix(prefix) else {
                    continue;
                };
                let rest = if rest.is_empty() { "/" } else { rest };
                assert!(
                    listed.contains(&shape(rest)),
                    "{path} is missing from the core routes of {prefix}"
                );
            }
        }
    }
}

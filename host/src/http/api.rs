//! Shapes every endpoint shares: `{"data": …}` bodies, pages with `meta`, the error
//! body, and lookups that turn "no such row" into a 404 naming what was missing.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::Page;
use crate::error::{Error, Result};

/// `?page=1&per_page=25&search=…` (at most 100 per page).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page number.
    pub page: Option<i64>,
    /// Rows per page, 1 to 100 (default 25).
    pub per_page: Option<i64>,
    /// Only rows whose name contains this (case-insensitive).
    pub search: Option<String>,
}

impl PageQuery {
    pub fn page(&self) -> Page {
        Page::new(self.page, self.per_page)
    }

    pub fn search(&self) -> Option<&str> {
        self.search
            .as_deref()
            .map(str::trim)
            .filter(|search| !search.is_empty())
    }
}

/// One object.
#[derive(Debug, Serialize, ToSchema)]
pub struct Data<T> {
    pub data: T,
}

pub fn data<T>(data: T) -> axum::Json<Data<T>> {
    axum::Json(Data { data })
}

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T> {
    pub data: Vec<T>,
    pub meta: PageMeta,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PageMeta {
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
    pub last_page: i64,
}

pub fn paginated<T>(data: Vec<T>, total: i64, page: Page) -> axum::Json<Paginated<T>> {
    axum::Json(Paginated {
        data,
        meta: PageMeta {
            page: page.number,
            per_page: page.per_page,
            total,
            last_page: page.last_page(total),
        },
    })
}

/// Every error: `{"error": {"code", "message", "field"?}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable kind: `bad_request`, `not_found`, `forbidden`, …
    pub code: String,
    pub message: String,
    /// The request field at fault, for `bad_request`.
    pub field: Option<String>,
}

/// `found` or a 404 saying which `what` was not found.
pub fn found<T>(found: Option<T>, what: &str, key: &str) -> Result<T> {
    found.ok_or_else(|| Error::NotFound(format!("no {what} `{key}`")))
}

/// A page of servers as JSON, from the list cache when it is fresh.
pub async fn cached_server_page(
    state: &super::AppState,
    visibility: crate::db::servers::Visibility,
    query: &PageQuery,
    principal: &hatchery_sdk::Principal,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    let page = query.page();
    // An API key limited to some servers lists only those.
    let only = principal
        .key_scope
        .as_ref()
        .and_then(|scope| scope.servers.as_deref());
    let key = format!(
        "servers|{visibility:?}|{:?}|{}|{}|{:?}",
        query.search(),
        page.number,
        page.per_page,
        only
    );
    let json = [(axum::http::header::CONTENT_TYPE, "application/json")];
    if let Some(body) = state.caches.lists.get(&key) {
        return Ok((json, body).into_response());
    }
    let generation = state.caches.lists.generation();
    let (rows, total) =
        crate::db::servers::page(&state.db, visibility, query.search(), &page, only).await?;
    let body = axum::body::Bytes::from(
        serde_json::to_vec(&paginated(rows, total, page).0).expect("JSON encodes"),
    );
    state.caches.lists.insert(key, generation, body.clone());
    Ok((json, body).into_response())
}

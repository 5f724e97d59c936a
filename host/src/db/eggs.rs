//! Nests and eggs. An egg's whole definition is stored as JSON (the canonical
//! [`Egg`]); the columns beside it are what lists and lookups need.

use chrono::{DateTime, Utc};

use super::{Database, on_pool};
use crate::domain::eggs::Egg;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Nest {
    pub id: i64,
    pub uuid: String,
    pub name: String,
    pub description: String,
}

/// An egg as stored, with its nest's name.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct EggRecord {
    pub id: i64,
    pub uuid: String,
    pub nest_id: i64,
    pub nest: String,
    pub name: String,
    pub author: String,
    pub description: String,
    pub source_format: String,
    #[serde(skip)]
    pub definition: String,
    pub updated_at: DateTime<Utc>,
}

impl EggRecord {
    pub fn egg(&self) -> Result<Egg> {
        serde_json::from_str(&self.definition)
            .map_err(|err| Error::Migration(format!("egg {} is stored damaged: {err}", self.uuid)))
    }
}

/// Whether an import created an egg or updated one that was already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    Created,
    Updated,
}

const EGG_COLUMNS: &str = "eggs.id, eggs.uuid, eggs.nest_id, nests.name AS nest, eggs.name, eggs.author, \
     eggs.description, eggs.source_format, eggs.definition, eggs.updated_at";

/// The nest called `name`, created when missing.
pub async fn ensure_nest(db: &Database, name: &str) -> Result<Nest> {
    let name = name.trim();
    if name.is_empty() || name.len() > 191 {
        return Err(Error::bad_field(
            "nest",
            "a nest name is 1 to 191 characters",
        ));
    }
    let now = Utc::now();
    let uuid = uuid::Uuid::new_v4().to_string();
    on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO nests (uuid, name, description, created_at, updated_at) VALUES ($1, $2, '', $3, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(&uuid)
        .bind(name)
        .bind(now)
        .execute(pool)
        .await?;
        Ok(sqlx::query_as::<_, Nest>("SELECT id, uuid, name, description FROM nests WHERE name = $1")
            .bind(name)
            .fetch_one(pool)
            .await?)
    })
}

pub async fn nests(db: &Database) -> Result<Vec<Nest>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, Nest>("SELECT id, uuid, name, description FROM nests ORDER BY name")
            .fetch_all(pool)
            .await?
    }))
}

/// Stores an egg in `nest`: a Pelican egg with a known uuid, or an egg of the same name
/// in the same nest, is updated in place (servers keep using it); otherwise it is new.
pub async fn import(db: &Database, nest: &str, egg: &Egg) -> Result<(EggRecord, Imported)> {
    let nest = ensure_nest(db, nest).await?;
    let definition = serde_json::to_string(egg).expect("an egg encodes");
    let now = Utc::now();
    let existing: Option<(i64,)> = on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT id FROM eggs WHERE uuid = $1 OR (nest_id = $2 AND name = $3) ORDER BY (uuid = $1) DESC LIMIT 1",
        )
        .bind(egg.uuid.as_deref().unwrap_or(""))
        .bind(nest.id)
        .bind(&egg.name)
        .fetch_optional(pool)
        .await?
    });
    let (id, imported) = match existing {
        Some((id,)) => {
            on_pool!(db, pool => {
                sqlx::query(
                    "UPDATE eggs SET nest_id = $1, name = $2, author = $3, description = $4, source_format = $5, \
                     definition = $6, updated_at = $7 WHERE id = $8",
                )
                .bind(nest.id)
                .bind(&egg.name)
                .bind(&egg.author)
                .bind(&egg.description)
                .bind(&egg.source_format)
                .bind(&definition)
                .bind(now)
                .bind(id)
                .execute(pool)
                .await
                .map(drop)
            })
            .map_err(conflict)?;
            (id, Imported::Updated)
        }
        None => {
            let uuid = egg
                .uuid
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let (id,): (i64,) = on_pool!(db, pool => {
                sqlx::query_as(
                    "INSERT INTO eggs (uuid, nest_id, name, author, description, source_format, definition, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                )
                .bind(&uuid)
                .bind(nest.id)
                .bind(&egg.name)
                .bind(&egg.author)
                .bind(&egg.description)
                .bind(&egg.source_format)
                .bind(&definition)
                .bind(now)
                .fetch_one(pool)
                .await
            })
            .map_err(conflict)?;
            (id, Imported::Created)
        }
    };
    let record = find(db, &id.to_string())
        .await?
        .expect("the egg was just stored");
    Ok((record, imported))
}

fn conflict(err: sqlx::Error) -> Error {
    match &err {
        sqlx::Error::Database(db_err) if db_err.is_unique_violation() => {
            Error::Conflict("another egg in that nest already has this name".into())
        }
        _ => Error::Database(err),
    }
}

/// Every egg, by nest and name.
pub async fn list(db: &Database) -> Result<Vec<EggRecord>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, EggRecord>(sqlx::AssertSqlSafe(format!(
            "SELECT {EGG_COLUMNS} FROM eggs JOIN nests ON nests.id = eggs.nest_id ORDER BY nests.name, eggs.name"
        )))
        .fetch_all(pool)
        .await?
    }))
}

/// An egg by id, uuid, or unique name.
pub async fn find(db: &Database, key: &str) -> Result<Option<EggRecord>> {
    let id: i64 = key.parse().unwrap_or(-1);
    let found = on_pool!(db, pool => {
        sqlx::query_as::<_, EggRecord>(sqlx::AssertSqlSafe(format!(
            "SELECT {EGG_COLUMNS} FROM eggs JOIN nests ON nests.id = eggs.nest_id \
             WHERE eggs.id = $1 OR eggs.uuid = $2 OR eggs.name = $2 ORDER BY eggs.id LIMIT 2"
        )))
        .bind(id)
        .bind(key)
        .fetch_all(pool)
        .await?
    });
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.into_iter().next()),
        _ => Err(Error::Conflict(format!(
            "more than one egg is called `{key}`; use its id or uuid"
        ))),
    }
}

/// Deletes an egg no server uses.
pub async fn delete(db: &Database, egg: &EggRecord) -> Result<()> {
    let result = on_pool!(db, pool => {
        sqlx::query("DELETE FROM eggs WHERE id = $1").bind(egg.id).execute(pool).await.map(drop)
    });
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(err)) if err.is_foreign_key_violation() => {
            Err(Error::Conflict(format!(
                "servers still use the egg {}; change their egg or delete them first",
                egg.name
            )))
        }
        Err(err) => Err(err.into()),
    }
}

//! Confines a plugin's SQL to its own tables.
//!
//! Every table, index and relation a statement names must start with the plugin's
//! prefix (`hello-wasm` → `hello_wasm__`), names may not be schema-qualified, only
//! data and table-definition statements are accepted, and only plain scalar and
//! aggregate functions may be called — so `ATTACH`, `PRAGMA`, `pg_read_file()` and
//! friends are refused before the database sees them.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, ObjectName, ObjectType, Statement, visit_expressions, visit_relations};
use sqlparser::dialect::{PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use super::Dialect;

/// Functions a plugin may call. Anything else (file access, settings, sleeps, dynamic
/// SQL) is refused.
const ALLOWED_FUNCTIONS: &[&str] = &[
    "abs",
    "avg",
    "char_length",
    "coalesce",
    "concat",
    "count",
    "current_date",
    "current_time",
    "current_timestamp",
    "date",
    "datetime",
    "group_concat",
    "ifnull",
    "instr",
    "json",
    "json_array",
    "json_build_array",
    "json_build_object",
    "json_extract",
    "json_object",
    "jsonb_build_object",
    "julianday",
    "length",
    "lower",
    "ltrim",
    "max",
    "min",
    "now",
    "nullif",
    "position",
    "printf",
    "random",
    "replace",
    "round",
    "rtrim",
    "string_agg",
    "strftime",
    "substr",
    "substring",
    "sum",
    "to_char",
    "total",
    "trim",
    "typeof",
    "unixepoch",
    "upper",
];

/// The prefix every table of `plugin_id` carries. Plugin ids never contain `--`, so
/// the first `__` of a table name tells its owner without ambiguity.
pub fn table_prefix(plugin_id: &str) -> String {
    format!("{}__", plugin_id.replace('-', "_"))
}

/// Whether the statement list may run: `single` demands exactly one statement.
pub fn check(dialect: Dialect, sql: &str, prefix: &str, single: bool) -> Result<(), String> {
    let statements = match dialect {
        Dialect::Sqlite => Parser::parse_sql(&SQLiteDialect {}, sql),
        Dialect::Postgres => Parser::parse_sql(&PostgreSqlDialect {}, sql),
    }
    .map_err(|err| format!("could not parse SQL: {err}"))?;
    if statements.is_empty() {
        return Err("no SQL statement given".into());
    }
    if single && statements.len() > 1 {
        return Err("send one statement per call".into());
    }
    for statement in &statements {
        check_statement(statement, prefix)?;
    }
    Ok(())
}

fn check_statement(statement: &Statement, prefix: &str) -> Result<(), String> {
    match statement {
        Statement::Query(_)
        | Statement::Insert(_)
        | Statement::Update { .. }
        | Statement::Delete(_)
        | Statement::AlterTable { .. } => {}
        Statement::CreateTable(create) => {
            if create.temporary {
                return Err("temporary tables are not allowed".into());
            }
            owned(&create.name, prefix, "table")?;
        }
        Statement::CreateIndex(index) => {
            let name = index
                .name
                .as_ref()
                .ok_or("give the index a name that starts with the plugin's table prefix")?;
            owned(name, prefix, "index")?;
        }
        Statement::Drop {
            object_type, names, ..
        } => {
            if !matches!(object_type, ObjectType::Table | ObjectType::Index) {
                return Err(format!(
                    "DROP {object_type} is not allowed; only tables and indexes"
                ));
            }
            for name in names {
                owned(name, prefix, "object")?;
            }
        }
        other => {
            let kind = other.to_string();
            let kind = kind.split_whitespace().next().unwrap_or("this statement");
            return Err(format!(
                "{kind} statements are not allowed; plugins may SELECT, INSERT, UPDATE, DELETE \
                 and CREATE, ALTER or DROP their own tables and indexes"
            ));
        }
    }

    let relations = visit_relations(statement, |name| match owned(name, prefix, "table") {
        Ok(()) => ControlFlow::Continue(()),
        Err(err) => ControlFlow::Break(err),
    });
    if let ControlFlow::Break(err) = relations {
        return Err(err);
    }

    let functions = visit_expressions(statement, |expr| {
        if let Expr::Function(function) = expr {
            let name = last_part(&function.name);
            if !ALLOWED_FUNCTIONS.contains(&name.as_str()) {
                return ControlFlow::Break(format!(
                    "function {name}() is not allowed in plugin SQL"
                ));
            }
            if function.name.0.len() > 1 {
                return ControlFlow::Break(format!(
                    "function {} must not be schema-qualified",
                    function.name
                ));
            }
        }
        ControlFlow::Continue(())
    });
    if let ControlFlow::Break(err) = functions {
        return Err(err);
    }
    Ok(())
}

fn owned(name: &ObjectName, prefix: &str, kind: &str) -> Result<(), String> {
    if name.0.len() != 1 {
        return Err(format!(
            "{kind} {name} must not be schema-qualified; plugins use unqualified names starting with {prefix}"
        ));
    }
    let bare = last_part(name);
    if !bare.starts_with(prefix) || bare.len() == prefix.len() {
        return Err(format!(
            "{kind} {bare} does not belong to this plugin; its tables and indexes start with {prefix}"
        ));
    }
    Ok(())
}

fn last_part(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|part| part.as_ident())
        .map(|ident| ident.value.to_ascii_lowercase())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "hello_wasm__";

    fn ok(dialect: Dialect, sql: &str) {
        check(dialect, sql, PREFIX, false).unwrap_or_else(|err| panic!("{sql}: {err}"));
    }

    fn refused(dialect: Dialect, sql: &str, needle: &str) {
        let err = check(dialect, sql, PREFIX, false).expect_err(sql);
        assert!(err.contains(needle), "{sql}: `{err}` lacks `{needle}`");
    }

    #[test]
    fn own_tables_are_usable_in_both_dialects() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            ok(
                dialect,
                "CREATE TABLE hello_wasm__greetings (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
            );
            ok(
                dialect,
                "CREATE INDEX hello_wasm__by_name ON hello_wasm__greetings (name)",
            );
            ok(
                dialect,
                "INSERT INTO hello_wasm__greetings (name) VALUES ($1)",
            );
            ok(
                dialect,
                "SELECT name, count(*) FROM hello_wasm__greetings WHERE id > $1 GROUP BY name",
            );
            ok(
                dialect,
                "UPDATE hello_wasm__greetings SET name = upper(name) WHERE id = $1",
            );
            ok(
                dialect,
                "DELETE FROM hello_wasm__greetings WHERE id IN (SELECT id FROM hello_wasm__old)",
            );
            ok(dialect, "DROP TABLE hello_wasm__old");
        }
    }

    #[test]
    fn other_tables_are_refused() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            refused(dialect, "SELECT * FROM users", "does not belong");
            refused(
                dialect,
                "SELECT g.name FROM hello_wasm__greetings g JOIN api_keys k ON k.id = g.id",
                "api_keys",
            );
            refused(
                dialect,
                "INSERT INTO hello_wasm__x SELECT * FROM plugins",
                "plugins",
            );
            refused(
                dialect,
                "DELETE FROM hello_native__greetings",
                "hello_native__greetings",
            );
            refused(dialect, "SELECT * FROM hello_wasm__", "does not belong");
            refused(
                dialect,
                "SELECT * FROM main.hello_wasm__greetings",
                "schema-qualified",
            );
            refused(
                dialect,
                "CREATE TABLE users2 (id INTEGER)",
                "does not belong",
            );
            refused(
                dialect,
                "CREATE INDEX idx ON hello_wasm__greetings (name)",
                "does not belong",
            );
            refused(
                dialect,
                "SELECT * FROM hello_wasm__a WHERE id IN (SELECT user_id FROM api_keys)",
                "api_keys",
            );
        }
    }

    #[test]
    fn dangerous_statements_and_functions_are_refused() {
        refused(
            Dialect::Sqlite,
            "ATTACH DATABASE '/etc/passwd' AS x",
            "not allowed",
        );
        refused(Dialect::Sqlite, "PRAGMA writable_schema = 1", "not allowed");
        refused(
            Dialect::Postgres,
            "SELECT pg_read_file('/etc/passwd')",
            "pg_read_file",
        );
        refused(Dialect::Postgres, "SELECT pg_sleep(100)", "pg_sleep");
        refused(Dialect::Postgres, "SET search_path = other", "not allowed");
        refused(
            Dialect::Postgres,
            "GRANT ALL ON hello_wasm__a TO public",
            "not allowed",
        );
        refused(
            Dialect::Sqlite,
            "SELECT load_extension('evil')",
            "load_extension",
        );
        refused(Dialect::Postgres, "DROP SCHEMA public", "not allowed");
    }

    #[test]
    fn single_mode_wants_one_statement() {
        let err = check(
            Dialect::Sqlite,
            "DELETE FROM hello_wasm__a; DELETE FROM hello_wasm__b",
            PREFIX,
            true,
        )
        .unwrap_err();
        assert!(err.contains("one statement"));
        assert!(check(Dialect::Sqlite, "", PREFIX, true).is_err());
    }

    #[test]
    fn prefixes_cannot_collide() {
        assert_eq!(table_prefix("hello-wasm"), "hello_wasm__");
        assert!(!"hello_wasm__t".starts_with(&table_prefix("hello")));
    }
}

//! Confines a plugin's SQL to its own tables.
//!
//! Every table, index and relation a statement names must start with the plugin's
//! prefix (`hello-wasm` → `hello_wasm__`), names may not be schema-qualified, only
//! data and table-definition statements are accepted, and only plain scalar and
//! aggregate functions may be called — so `ATTACH`, `PRAGMA`, `pg_read_file()` and
//! friends are refused before the database sees them.

use std::ops::ControlFlow;

use sqlparser::ast::{
    AlterTableOperation, ColumnDef, ColumnOption, CreateTableLikeKind, Expr, ObjectName,
    ObjectType, Query, RenameTableNameKind, SetExpr, Statement, TableConstraint, TableFactor,
    Visit, Visitor, visit_expressions, visit_relations,
};
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
        | Statement::Delete(_) => {}
        Statement::AlterTable { operations, .. } => {
            for operation in operations {
                check_alter(operation, prefix)?;
            }
        }
        Statement::CreateTable(create) => {
            if create.temporary {
                return Err("temporary tables are not allowed".into());
            }
            owned(&create.name, prefix, "table")?;
            if create.inherits.is_some() {
                return Err("INHERITS is not allowed in plugin SQL".into());
            }
            if create.clone.is_some() {
                return Err("CLONE is not allowed in plugin SQL".into());
            }
            match &create.like {
                Some(
                    CreateTableLikeKind::Parenthesized(like) | CreateTableLikeKind::Plain(like),
                ) => owned(&like.name, prefix, "table")?,
                None => {}
            }
            for column in &create.columns {
                check_column(column, prefix)?;
            }
            for constraint in &create.constraints {
                check_constraint(constraint, prefix)?;
            }
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

    if let ControlFlow::Break(err) = statement.visit(&mut FromClauses { prefix }) {
        return Err(err);
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

/// What `ALTER TABLE` may do: change the plugin's own columns and constraints, and
/// rename its tables to names it owns.
fn check_alter(operation: &AlterTableOperation, prefix: &str) -> Result<(), String> {
    match operation {
        AlterTableOperation::AddColumn { column_def, .. } => check_column(column_def, prefix),
        AlterTableOperation::AddConstraint { constraint, .. } => {
            check_constraint(constraint, prefix)
        }
        AlterTableOperation::RenameTable { table_name } => {
            let (RenameTableNameKind::As(name) | RenameTableNameKind::To(name)) = table_name;
            owned(name, prefix, "table")
        }
        AlterTableOperation::DropColumn { .. }
        | AlterTableOperation::RenameColumn { .. }
        | AlterTableOperation::DropConstraint { .. }
        | AlterTableOperation::AlterColumn { .. } => Ok(()),
        other => Err(format!(
            "ALTER TABLE … {} is not allowed; plugins may add, drop, rename and alter columns \
             and constraints, and rename their tables",
            other
                .to_string()
                .split_whitespace()
                .next()
                .unwrap_or("this")
        )),
    }
}

fn check_column(column: &ColumnDef, prefix: &str) -> Result<(), String> {
    for option in &column.options {
        if let ColumnOption::ForeignKey { foreign_table, .. } = &option.option {
            owned(foreign_table, prefix, "referenced table")?;
        }
    }
    Ok(())
}

fn check_constraint(constraint: &TableConstraint, prefix: &str) -> Result<(), String> {
    if let TableConstraint::ForeignKey { foreign_table, .. } = constraint {
        owned(foreign_table, prefix, "referenced table")?;
    }
    Ok(())
}

/// Refuses what can read rows without naming a table the relation visitor sees:
/// `TABLE name`, and table functions (`generate_series`, `query_to_xml` and kin,
/// `LATERAL` calls, `json_each`, `UNNEST`, …).
struct FromClauses<'a> {
    prefix: &'a str,
}

impl Visitor for FromClauses<'_> {
    type Break = String;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<String> {
        match set_expr_tables(&query.body, self.prefix) {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => ControlFlow::Break(err),
        }
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<String> {
        let refused = match factor {
            TableFactor::Table { args: Some(_), .. } => Some("table functions"),
            TableFactor::Table { .. }
            | TableFactor::Derived { .. }
            | TableFactor::NestedJoin { .. } => None,
            TableFactor::TableFunction { .. } | TableFactor::Function { .. } => {
                Some("table functions")
            }
            TableFactor::UNNEST { .. } => Some("UNNEST"),
            _ => Some("this kind of FROM item"),
        };
        match refused {
            Some(what) => ControlFlow::Break(format!(
                "{what} are not allowed in plugin SQL; select from the plugin's own tables"
            )),
            None => ControlFlow::Continue(()),
        }
    }
}

fn set_expr_tables(body: &SetExpr, prefix: &str) -> Result<(), String> {
    match body {
        SetExpr::Table(table) => {
            if table.schema_name.is_some() {
                return Err("TABLE names must not be schema-qualified".into());
            }
            let name = table
                .table_name
                .as_deref()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !name.starts_with(prefix) || name.len() == prefix.len() {
                return Err(format!(
                    "table {name} does not belong to this plugin; its tables and indexes start with {prefix}"
                ));
            }
            Ok(())
        }
        SetExpr::SetOperation { left, right, .. } => {
            set_expr_tables(left, prefix)?;
            set_expr_tables(right, prefix)
        }
        _ => Ok(()),
    }
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

    /// Each of these passed the guard before (some read core tables on PostgreSQL).
    #[test]
    fn reads_that_name_no_relation_are_refused() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            refused(
                dialect,
                "CREATE TABLE hello_wasm__k (id INTEGER) INHERITS (api_keys)",
                "INHERITS",
            );
            refused(
                dialect,
                "WITH hello_wasm__c AS (SELECT 1) TABLE users",
                "users does not belong",
            );
            // The parser does not read a bare `TABLE` statement at all: refused either way.
            refused(dialect, "TABLE api_keys", "");
            refused(
                dialect,
                "SELECT 1 FROM hello_wasm__a UNION TABLE users",
                "users does not belong",
            );
            refused(
                dialect,
                "CREATE TABLE hello_wasm__x (user_id INTEGER REFERENCES users (id))",
                "users does not belong",
            );
            refused(
                dialect,
                "CREATE TABLE hello_wasm__x (user_id INTEGER, FOREIGN KEY (user_id) REFERENCES users (id))",
                "users does not belong",
            );
            refused(
                dialect,
                "ALTER TABLE hello_wasm__x ADD COLUMN u INTEGER REFERENCES api_keys (id)",
                "api_keys does not belong",
            );
            refused(
                dialect,
                "ALTER TABLE hello_wasm__x ADD CONSTRAINT hello_wasm__fk FOREIGN KEY (u) REFERENCES users (id)",
                "users does not belong",
            );
            refused(
                dialect,
                "ALTER TABLE hello_wasm__x RENAME TO users",
                "users does not belong",
            );
        }
        for sql in [
            "SELECT * FROM query_to_xml('select * from api_keys', true, true, '')",
            "SELECT * FROM hello_wasm__a, LATERAL query_to_xml('select * from users', true, true, '') x",
            "SELECT * FROM generate_series(1, 10)",
            "SELECT * FROM unnest(ARRAY[1, 2])",
        ] {
            refused(Dialect::Postgres, sql, "not allowed");
        }
        refused(
            Dialect::Sqlite,
            "SELECT * FROM pragma_table_info('users')",
            "not allowed",
        );
        refused(
            Dialect::Sqlite,
            "SELECT * FROM json_each('[1]')",
            "not allowed",
        );
    }

    #[test]
    fn own_references_and_renames_are_fine() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            ok(
                dialect,
                "CREATE TABLE hello_wasm__b (a_id INTEGER REFERENCES hello_wasm__a (id))",
            );
            ok(dialect, "ALTER TABLE hello_wasm__b RENAME TO hello_wasm__c");
            ok(dialect, "ALTER TABLE hello_wasm__b ADD COLUMN note TEXT");
            ok(
                dialect,
                "WITH hello_wasm__n AS (SELECT 1 AS n) SELECT n FROM hello_wasm__n",
            );
        }
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

//! `rivulet dump`: every secret (as a placeholder), table and materialized
//! view of a running Rivulet as DDL, in the order they were created (so
//! each object comes after what it depends on), optionally with the
//! tables' rows as `COPY ... FROM stdin` blocks that psql replays.
//!
//! ```text
//! rivulet dump --data > dev.sql          # psql -f dev.sql into another Rivulet
//! rivulet dump --risingwave > dev.sql    # DDL a RisingWave cluster accepts
//! ```
//!
//! With `--risingwave` the options only Rivulet has (`INCLUDE header`,
//! delivery deduplication, verification handshakes) are left out of each
//! table, each named in a comment above it, and `--data` is refused: the
//! way to move events to a cluster is to post them again (see
//! docs/scaling-out.md).

use std::io::Write;

use anyhow::{bail, Context};
use clap::Args;
use futures::StreamExt;
use rivulet_expr::quote_ident;
use rivulet_sql::Statement;

/// Print the database's DDL (and rows) for another Rivulet or RisingWave.
#[derive(Args, Debug)]
pub struct DumpArgs {
    /// The Rivulet to dump (its PostgreSQL listener).
    #[arg(long, env = "RIVULET_PG_LISTEN", default_value = "127.0.0.1:4566")]
    pg: String,
    /// The password, when the server asks for one.
    #[arg(long, env = "RIVULET_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Also every table's rows, as COPY blocks.
    #[arg(long, conflicts_with = "risingwave")]
    data: bool,
    /// Leave out what only Rivulet accepts, for a RisingWave cluster.
    #[arg(long)]
    risingwave: bool,
}

/// Table options only Rivulet has.
const RIVULET_ONLY: &[&str] = &[
    "dedup_field",
    "dedup_header",
    "dedup_window",
    "url_verification",
    "verify_token",
];

/// One object to create, by catalog id.
enum Object {
    Secret(String),
    Table(String, String),
    /// A view or subscription: its definition, printed as it is.
    Ddl(String),
    /// A `COMMENT ON` statement.
    Comment(String),
}

/// A table's definition for RisingWave, and what was left out of it.
fn for_risingwave(definition: &str) -> anyhow::Result<(String, Vec<String>)> {
    let mut stmts = rivulet_sql::parse(definition).map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(Statement::CreateTable { include, with, .. }) = stmts.first_mut() else {
        return Ok((definition.to_string(), Vec::new()));
    };
    let mut left_out: Vec<String> = include.drain(..).map(|i| i.to_string()).collect();
    with.retain(|o| {
        let keep = !RIVULET_ONLY.contains(&o.name.as_str());
        if !keep {
            left_out.push(o.to_string());
        }
        keep
    });
    Ok((stmts[0].to_string(), left_out))
}

/// Runs `rivulet dump`, writing to standard output.
pub fn run(args: DumpArgs) -> anyhow::Result<i32> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(dump(args))?;
    Ok(0)
}

async fn dump(args: DumpArgs) -> anyhow::Result<()> {
    let (host, port) = args
        .pg
        .rsplit_once(':')
        .with_context(|| format!("--pg {:?} is not host:port", args.pg))?;
    let mut config = tokio_postgres::Config::new();
    config
        .host(host)
        .port(port.parse()?)
        .user("root")
        .dbname("dev");
    if let Some(p) = &args.password {
        config.password(p);
    }
    let (client, conn) = config
        .connect(tokio_postgres::NoTls)
        .await
        .with_context(|| format!("connecting to {}", args.pg))?;
    tokio::spawn(conn);

    let mut objects: Vec<(i64, Object)> = Vec::new();
    for row in client
        .query("SELECT id, name FROM rw_catalog.rw_secrets", &[])
        .await?
    {
        objects.push((i64::from(row.get::<_, i32>(0)), Object::Secret(row.get(1))));
    }
    for row in client
        .query("SELECT id, name, definition FROM rw_catalog.rw_tables", &[])
        .await?
    {
        let object = Object::Table(row.get(1), row.get(2));
        objects.push((i64::from(row.get::<_, i32>(0)), object));
    }
    for relations in ["rw_materialized_views", "rw_views"] {
        let sql = format!("SELECT id, definition FROM rw_catalog.{relations}");
        for row in client.query(sql.as_str(), &[]).await? {
            objects.push((i64::from(row.get::<_, i32>(0)), Object::Ddl(row.get(1))));
        }
    }
    for row in client
        .query(
            "SELECT id, definition FROM rw_catalog.rw_subscriptions",
            &[],
        )
        .await?
    {
        objects.push((i64::from(row.get::<_, i32>(0)), Object::Ddl(row.get(1))));
    }
    objects.sort_by_key(|(id, _)| *id);
    // Comments, after everything they may name.
    for row in client
        .query(
            "SELECT c.relkind, c.relname, a.attname, d.description \
             FROM pg_catalog.pg_description d \
             JOIN pg_catalog.pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_catalog.pg_class'::regclass \
             LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid \
             WHERE c.relnamespace = 'public'::regnamespace ORDER BY 2, d.objsubid",
            &[],
        )
        .await?
    {
        let kind: String = row.get(0);
        let relation = quote_ident(&row.get::<_, String>(1));
        let column: Option<String> = row.get(2);
        let text: String = row.get(3);
        let on = match (column, kind.as_str()) {
            (Some(c), _) => format!("COLUMN {relation}.{}", quote_ident(&c)),
            (None, "v") => format!("VIEW {relation}"),
            (None, "m") => format!("MATERIALIZED VIEW {relation}"),
            (None, _) => format!("TABLE {relation}"),
        };
        let sql = format!("COMMENT ON {on} IS '{}'", text.replace('\'', "''"));
        objects.push((i64::MAX, Object::Comment(sql)));
    }

    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(
        out,
        "-- Rivulet dump of database dev at {}, in creation order.",
        args.pg
    )?;
    writeln!(
        out,
        "-- Secret values are never dumped: replace each placeholder before running this."
    )?;
    for (_, object) in objects {
        writeln!(out)?;
        match object {
            Object::Secret(name) => writeln!(
                out,
                "CREATE SECRET {} WITH (backend = 'meta') AS '<value of {}>';",
                quote_ident(&name),
                name.replace('\'', "''")
            )?,
            Object::Ddl(definition) => writeln!(out, "{definition};")?,
            Object::Comment(sql) => writeln!(out, "{sql};")?,
            Object::Table(name, definition) => {
                if args.risingwave {
                    let (ddl, left_out) = for_risingwave(&definition)?;
                    for part in left_out {
                        writeln!(out, "-- Rivulet only, left out: {part}")?;
                    }
                    writeln!(out, "{ddl};")?;
                } else {
                    writeln!(out, "{definition};")?;
                }
                if args.data {
                    copy_rows(&client, &name, &mut out).await?;
                }
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// The table's rows as a `COPY ... FROM stdin` block (PostgreSQL's text
/// format, which the server's COPY TO writes and its COPY FROM reads).
async fn copy_rows(
    client: &tokio_postgres::Client,
    table: &str,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let name = quote_ident(table);
    writeln!(out, "COPY {name} FROM stdin;")?;
    let stream = client
        .copy_out(&format!("COPY {name} TO STDOUT"))
        .await
        .with_context(|| format!("reading the rows of {table}"))?;
    let mut stream = std::pin::pin!(stream);
    let mut last = b'\n';
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if let Some(&b) = chunk.last() {
            last = b;
        }
        out.write_all(&chunk)?;
    }
    if last != b'\n' {
        bail!("the rows of {table} did not end with a newline");
    }
    writeln!(out, "\\.")?;
    Ok(())
}

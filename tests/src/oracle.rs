//! The oracle: a real PostgreSQL 15 server started for a test, to compare
//! Rivulet's output with PostgreSQL's instead of guessing.
//!
//! `initdb` refuses to run as root, so when the tests run as root the
//! cluster belongs to the `postgres` user. The server listens on a free
//! loopback port with `TimeZone=UTC` and is stopped on drop.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};
use tokio_postgres::NoTls;

/// Finds a PostgreSQL program on PATH or in Debian's versioned directory.
fn pg_program(name: &str) -> Result<PathBuf> {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(name);
            if p.exists() {
                return Ok(p);
            }
        }
    }
    for version in ["15", "16", "17"] {
        let p = PathBuf::from(format!("/usr/lib/postgresql/{version}/bin/{name}"));
        if p.exists() {
            return Ok(p);
        }
    }
    bail!("{name} not found: install postgresql-15 (scripts/test.sh does)")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a shell command line, as `postgres` when we are root.
fn run_as_owner(cmdline: &str) -> Result<()> {
    let status = if is_root() {
        Command::new("su")
            .args(["postgres", "-s", "/bin/sh", "-c", cmdline])
            .status()?
    } else {
        Command::new("sh").args(["-c", cmdline]).status()?
    };
    if !status.success() {
        bail!("failed: {cmdline}");
    }
    Ok(())
}

/// A running PostgreSQL server.
pub struct Oracle {
    dir: PathBuf,
    pg_ctl: PathBuf,
    port: u16,
    /// A connection to it.
    pub client: tokio_postgres::Client,
}

impl Oracle {
    /// Initialises and starts a throwaway cluster, connects, and creates
    /// pgcrypto. It does not fsync: it answers questions, it does not keep
    /// data.
    pub async fn start() -> Result<Oracle> {
        Oracle::start_with("-c fsync=off").await
    }

    /// Like [`Oracle::start`], but durable as PostgreSQL is by default
    /// (`fsync` and `synchronous_commit` on), for comparing write speed.
    pub async fn start_durable() -> Result<Oracle> {
        Oracle::start_with("").await
    }

    async fn start_with(settings: &str) -> Result<Oracle> {
        let initdb = pg_program("initdb")?;
        let pg_ctl = pg_program("pg_ctl")?;
        // One directory per oracle of this process, whatever port it gets
        // (two oracles starting at once may be offered the same port).
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("rivulet-pg-oracle-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()?;
            if !status.success() {
                bail!("chown of {} failed", dir.display());
            }
        }
        let data = dir.join("data");
        run_as_owner(&format!(
            "'{}' -D '{}' -A trust -U postgres --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null",
            initdb.display(),
            data.display()
        ))
        .context("initdb")?;
        // A free port now may be taken by the time PostgreSQL binds it:
        // then try another.
        let mut attempt = 0;
        let port = loop {
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let started = run_as_owner(&format!(
                "'{}' -D '{}' -l '{}/log' -w -o \"-p {port} -k {} -c listen_addresses=127.0.0.1 -c TimeZone=UTC {settings}\" start >/dev/null",
                pg_ctl.display(),
                data.display(),
                dir.display(),
                dir.display()
            ));
            attempt += 1;
            match started {
                Ok(()) => break port,
                Err(e) if attempt >= 3 => return Err(e.context("pg_ctl start")),
                Err(_) => {}
            }
        };
        let (client, conn) = tokio_postgres::connect(
            &format!("host=127.0.0.1 port={port} user=postgres dbname=postgres"),
            NoTls,
        )
        .await
        .context("connecting to the oracle")?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        client
            .batch_execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")
            .await?;
        Ok(Oracle {
            dir,
            pg_ctl,
            port,
            client,
        })
    }

    /// The port it listens on (127.0.0.1, user `postgres`, no password).
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = run_as_owner(&format!(
            "'{}' -D '{}' -m immediate stop >/dev/null 2>&1",
            self.pg_ctl.display(),
            self.dir.join("data").display()
        ));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

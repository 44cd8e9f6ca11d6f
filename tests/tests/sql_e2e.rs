//! SQL behaviour over the wire: statements, errors with their SQLSTATEs,
//! incremental view maintenance from SQL writes, dependencies, restarts.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rivulet_tests::{rows, scalar, sql_error, Server, TempDir};

fn texts(v: &[&str]) -> Vec<Vec<Option<String>>> {
    v.iter().map(|s| vec![Some(s.to_string())]).collect()
}

#[tokio::test]
async fn errors_carry_sqlstates_and_leave_the_session_usable() {
    let dir = TempDir::new("sql-errors");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT); CREATE SECRET s AS 'hush'")
        .await
        .unwrap();
    let cases = [
        ("SELEC 1", "42601", "syntax error at or near \"SELEC\""),
        ("SELECT * FROM missing", "42P01", "relation \"missing\" does not exist"),
        ("SELECT nope FROM t", "42703", "column \"nope\" does not exist"),
        ("CREATE TABLE t (x int)", "42P07", "relation \"t\" already exists"),
        ("CREATE SECRET s AS 'again'", "42710", "secret \"s\" already exists"),
        ("SELECT frobnicate(1)", "42883", "function frobnicate(integer) does not exist"),
        ("SELECT 'x'::int", "22P02", "invalid input syntax for type integer: \"x\""),
        ("SELECT '{'::jsonb", "22P02", "invalid input syntax for type json"),
        ("SELECT hmac('k', 'd'::bytea, 'md5')", "22023", "unsupported hmac algorithm \"md5\" (expected sha1, sha224, sha256, sha384 or sha512)"),
        ("SELECT 1::nosuchtype", "42704", "type \"nosuchtype\" does not exist"),
        ("INSERT INTO t VALUES (NULL, 'x')", "23502", "null value in column \"id\" of relation \"t\" violates not-null constraint"),
        ("INSERT INTO t (id, zz) VALUES (1, 'x')", "42703", "column \"zz\" of relation \"t\" does not exist"),
        ("INSERT INTO t (id, name) VALUES (1)", "42601", "INSERT has more target columns than expressions"),
        ("INSERT INTO t VALUES (1, 'a'), (2)", "42601", "VALUES lists must all be the same length"),
        ("CREATE TABLE w (a JSONB, b JSONB) WITH (connector = 'webhook') VALIDATE AS secure_compare(convert_from(a, 'utf8'), 'x')", "42703", "column \"a\" does not exist"),
        ("CREATE TABLE w (data JSONB) WITH (connector = 'webhook') VALIDATE AS headers->>'a' = 'b'", "42P17", "The signature verification function must be SECURE_COMPARE()"),
        ("CREATE TABLE w (data JSONB) VALIDATE AS secure_compare('a', 'b')", "42P17", "VALIDATE is only supported on tables with connector = 'webhook'"),
        ("CREATE TABLE w (data JSONB) WITH (connector = 'webhook') VALIDATE SECRET nope AS secure_compare('a', 'b')", "42704", "secret \"nope\" does not exist"),
        ("SHOW nonsense_setting", "42704", "unrecognized configuration parameter \"nonsense_setting\""),
        ("SELECT 1 LIMIT -1", "2201W", "LIMIT must not be negative"),
        // A subquery's own error keeps its SQLSTATE and message.
        ("SELECT (SELECT 1/0)", "22012", "division by zero"),
        ("CREATE MATERIALIZED VIEW nv AS SELECT now() AS at FROM t", "0A000", "now is not allowed in a materialized view: a view's rows cannot depend on when or by whom it is read"),
        ("COPY t FROM STDIN; SELECT 1", "0A000", "COPY FROM STDIN must be the last statement of a query string"),
        ("COPY t FROM '/etc/passwd'", "42601", "COPY from a file is not supported; use COPY ... FROM STDIN (psql's \\copy)"),
        ("SELECT (SELECT nope FROM t)", "42703", "column \"nope\" does not exist"),
        ("CREATE MATERIALIZED VIEW cv AS SELECT id FROM t x WHERE EXISTS (SELECT 1 FROM t WHERE t.id < x.id)", "0A000", "an EXISTS subquery with a condition on the outer query other than an equality of an outer and an inner expression is not supported in a materialized view"),
        ("CREATE MATERIALIZED VIEW dv AS SELECT DISTINCT ON (name) id FROM t", "0A000", "DISTINCT ON in materialized views is not supported yet"),
        ("CREATE MATERIALIZED VIEW iv AS SELECT id, (SELECT max(id) FROM t) AS top FROM t", "0A000", "a materialized view supports subqueries only as [NOT] EXISTS (...) and [NOT] IN (...) conditions of its WHERE"),
    ];
    for (sql, code, msg) in cases {
        let (got_code, got_msg) = sql_error(&c, sql).await;
        assert_eq!((got_code.as_str(), got_msg.as_str()), (code, msg), "{sql}");
        // The session is still usable after every error.
        assert_eq!(scalar(&c, "SELECT 1").await.unwrap(), Some("1".into()));
    }
    // A syntax error anywhere means no statement of the string runs.
    let (code, _) = sql_error(&c, "INSERT INTO t VALUES (7, 'a'); SELEC").await;
    assert_eq!(code, "42601");
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM t").await.unwrap(),
        Some("0".into())
    );
    // A run-time error stops the statements after it, not those before.
    let (code, _) = sql_error(
        &c,
        "INSERT INTO t VALUES (8, 'a'); SELECT 'x'::int; INSERT INTO t VALUES (9, 'b')",
    )
    .await;
    assert_eq!(code, "22P02");
    assert_eq!(rows(&c, "SELECT id FROM t").await.unwrap(), texts(&["8"]));
}

#[tokio::test]
async fn views_follow_inserts_deletes_and_overwrites() {
    let dir = TempDir::new("sql-views");
    let mut s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(
        "
        CREATE TABLE users (id BIGINT PRIMARY KEY, plan TEXT, active BOOLEAN);
        INSERT INTO users VALUES (1, 'free', true), (2, 'pro', true), (3, 'pro', false);
        -- Back-filled from the rows already there.
        CREATE MATERIALIZED VIEW pro_users AS SELECT id, upper(plan) AS plan FROM users WHERE plan = 'pro' AND active;
        -- A view on a view.
        CREATE MATERIALIZED VIEW pro_ids AS SELECT id FROM pro_users WHERE id > 0;
        CREATE TABLE hooks (data JSONB) WITH (connector = 'webhook');
        CREATE MATERIALIZED VIEW hook_kinds AS SELECT data->>'kind' AS kind, (data->>'n')::int AS n FROM hooks;
        ",
    )
    .await
    .unwrap();
    assert_eq!(
        rows(&c, "SELECT id, plan FROM pro_users").await.unwrap(),
        vec![vec![Some("2".into()), Some("PRO".into())]]
    );

    // An overwrite moves a row into the view; a delete retracts one.
    c.batch_execute("INSERT INTO users VALUES (3, 'pro', true); DELETE FROM users WHERE id = 2")
        .await
        .unwrap();
    assert_eq!(
        rows(&c, "SELECT id FROM pro_ids ORDER BY id")
            .await
            .unwrap(),
        texts(&["3"])
    );
    c.batch_execute("INSERT INTO users VALUES (4, 'pro', true), (5, 'pro', true); INSERT INTO users VALUES (3, 'free', true)").await.unwrap();
    assert_eq!(
        rows(&c, "SELECT id FROM pro_ids ORDER BY id DESC")
            .await
            .unwrap(),
        texts(&["5", "4"])
    );

    // SQL inserts into a webhook table feed its views too; a value that does
    // not cast becomes NULL in the view instead of failing the write.
    c.batch_execute(
        r#"INSERT INTO hooks VALUES ('{"kind":"a","n":"1"}'), ('{"kind":"b","n":"x"}')"#,
    )
    .await
    .unwrap();
    assert_eq!(
        rows(&c, "SELECT kind, n FROM hook_kinds ORDER BY kind")
            .await
            .unwrap(),
        vec![
            vec![Some("a".into()), Some("1".into())],
            vec![Some("b".into()), None]
        ]
    );
    let r = c
        .simple_query("DELETE FROM hooks WHERE data->>'kind' = 'a'")
        .await
        .unwrap();
    assert!(matches!(
        r.last(),
        Some(tokio_postgres::SimpleQueryMessage::CommandComplete(1))
    ));
    assert_eq!(
        rows(&c, "SELECT kind FROM hook_kinds").await.unwrap(),
        texts(&["b"])
    );

    // Dependencies: a table with views cannot be dropped without CASCADE.
    let (code, msg) = sql_error(&c, "DROP TABLE users").await;
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "2BP01",
            "cannot drop table users because other objects depend on it"
        )
    );
    let (code, _) = sql_error(&c, "DROP MATERIALIZED VIEW pro_users").await;
    assert_eq!(code, "2BP01");
    let (code, _) = sql_error(&c, "INSERT INTO pro_users VALUES (1, 'x')").await;
    assert_eq!(code, "42809");
    let create = scalar(&c, "SELECT 1").await.unwrap();
    assert_eq!(create, Some("1".into()));
    let show = rows(&c, "SHOW CREATE MATERIALIZED VIEW pro_users")
        .await
        .unwrap();
    assert_eq!(show[0][1].as_deref(), Some("CREATE MATERIALIZED VIEW pro_users AS SELECT id, upper(plan) AS plan FROM users WHERE plan = 'pro' AND active"));

    // Clean restart (SIGTERM) keeps everything.
    let status = s.terminate().await.unwrap();
    assert!(status.success(), "clean shutdown: {status:?}");
    let mut s = s.restart().await.unwrap();
    let c = s.connect().await.unwrap();
    assert_eq!(
        rows(&c, "SELECT id FROM pro_ids ORDER BY id")
            .await
            .unwrap(),
        texts(&["4", "5"])
    );
    c.batch_execute("INSERT INTO users VALUES (6, 'pro', true)")
        .await
        .unwrap();
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM pro_ids").await.unwrap(),
        Some("3".into())
    );

    c.batch_execute("DROP TABLE users CASCADE").await.unwrap();
    assert_eq!(
        rows(&c, "SHOW MATERIALIZED VIEWS").await.unwrap(),
        texts(&["hook_kinds"])
    );
    let (code, _) = sql_error(&c, "SELECT * FROM pro_ids").await;
    assert_eq!(code, "42P01");

    // kill -9 right after the drop: it stays dropped.
    s.kill9().await.unwrap();
    let s = s.restart().await.unwrap();
    let c = s.connect().await.unwrap();
    assert_eq!(rows(&c, "SHOW TABLES").await.unwrap(), texts(&["hooks"]));
    // IF EXISTS / IF NOT EXISTS succeed with a notice.
    c.batch_execute("DROP TABLE IF EXISTS users; CREATE TABLE IF NOT EXISTS hooks (x int)")
        .await
        .unwrap();
}

#[tokio::test]
async fn selects_and_session_variables() {
    let dir = TempDir::new("sql-select");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(
        "CREATE TABLE n (i INT, t TEXT, d DOUBLE PRECISION, x NUMERIC, b BYTEA, ts TIMESTAMPTZ, ok BOOLEAN);
         INSERT INTO n VALUES (3, 'c', 1.5, 10.50, '\\x01', '2024-01-01T00:00:00Z', true),
                              (1, 'a', NULL, 2, 'ab', '2024-01-02 03:04:05.5+00', false),
                              (2, NULL, 0.1, NULL, NULL, NULL, NULL);",
    )
    .await
    .unwrap();
    assert_eq!(
        rows(&c, "SELECT i FROM n ORDER BY t DESC").await.unwrap(),
        texts(&["2", "3", "1"])
    );
    assert_eq!(
        rows(&c, "SELECT i FROM n ORDER BY 1 LIMIT 2 OFFSET 1")
            .await
            .unwrap(),
        texts(&["2", "3"])
    );
    assert_eq!(
        rows(&c, "SELECT i, t, d, x, b, ts, ok FROM n WHERE i = 1")
            .await
            .unwrap(),
        vec![vec![
            Some("1".into()),
            Some("a".into()),
            None,
            Some("2".into()),
            Some("\\x6162".into()),
            Some("2024-01-02 03:04:05.5+00".into()),
            Some("f".into())
        ]]
    );
    assert_eq!(
        scalar(&c, "SELECT count(t) FROM n").await.unwrap(),
        Some("2".into())
    );
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM n WHERE ok IS NULL")
            .await
            .unwrap(),
        Some("1".into())
    );
    assert_eq!(
        scalar(&c, "SHOW server_version").await.unwrap(),
        Some("15.0".into())
    );
    c.batch_execute("SET application_name = 'tests'; SET search_path TO public")
        .await
        .unwrap();
    assert_eq!(
        scalar(&c, "SHOW application_name").await.unwrap(),
        Some("tests".into())
    );
    c.batch_execute("RESET application_name").await.unwrap();
    assert_eq!(
        scalar(&c, "SHOW application_name").await.unwrap(),
        Some("".into())
    );
    c.batch_execute("BEGIN; SELECT 1; COMMIT").await.unwrap();
    // Qualified names.
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM public.n").await.unwrap(),
        Some("3".into())
    );
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM dev.public.n")
            .await
            .unwrap(),
        Some("3".into())
    );
    let (code, _) = sql_error(&c, "SELECT * FROM other.n").await;
    assert_eq!(code, "3F000");
}

#[tokio::test]
async fn psql_connects_and_queries() {
    let dir = TempDir::new("psql");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let (host, port) = s.pg_addr.rsplit_once(':').unwrap();
    let out = tokio::process::Command::new("psql")
        .args([
            "-h",
            host,
            "-p",
            port,
            "-d",
            "dev",
            "-U",
            "root",
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-A",
            "-t",
        ])
        .args([
            "-c",
            "CREATE TABLE p (data JSONB) WITH (connector = 'webhook')",
        ])
        .args(["-c", r#"INSERT INTO p VALUES ('{"b":2,"a":[1,2.50]}')"#])
        .args(["-c", "SELECT data, data->'a'->>1 FROM p"])
        .output()
        .await
        .expect("psql is installed (scripts/test.sh installs postgresql-client)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(r#"{"a": [1, 2.50], "b": 2}|2.50"#),
        "{stdout}"
    );
    // A wrong database is refused at connect time, as PostgreSQL does.
    let out = tokio::process::Command::new("psql")
        .args([
            "-h", host, "-p", port, "-d", "nodb", "-U", "root", "-X", "-c", "SELECT 1",
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("database \"nodb\" does not exist"));
}

#[tokio::test]
async fn explain_prints_plans_and_dataflows() {
    let dir = TempDir::new("explain");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(
        "CREATE TABLE events (data JSONB) WITH (connector = 'webhook');
         CREATE TABLE users (id TEXT PRIMARY KEY, plan TEXT);",
    )
    .await
    .unwrap();
    let plan = |r: Vec<Vec<Option<String>>>| {
        r.into_iter()
            .map(|l| l[0].clone().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        plan(rows(&c, "EXPLAIN CREATE MATERIALIZED VIEW revenue AS SELECT u.plan, count(*) AS n FROM events e JOIN users u ON e.data->>'userId' = u.id WHERE e.data->>'type' = 'track' GROUP BY u.plan HAVING count(*) > 1").await.unwrap()),
        vec![
            "Materialize: revenue",
            "└─ Project: #0, #1",
            "   └─ Filter: (#1 > 1)",
            "      └─ Aggregate: keys [#2], aggs [count(*)]",
            "         └─ Filter: ((#0 ->> 'type'::text) = 'track'::text)",
            "            └─ Join: [(#0 ->> 'userId'::text)] = [#0]",
            "               └─ Scan: events",
            "               └─ Scan: users",
        ]
    );
    assert_eq!(
        plan(
            rows(
                &c,
                "EXPLAIN SELECT DISTINCT data->>'type' FROM events ORDER BY 1 LIMIT 5"
            )
            .await
            .unwrap()
        ),
        vec![
            "TopN: order by #0 limit 5",
            "└─ Aggregate: keys [#0], aggs []",
            "   └─ Project: (#0 ->> 'type'::text)",
            "      └─ Scan: events",
        ]
    );
    // EXPLAIN does not create anything.
    assert!(rows(&c, "SHOW MATERIALIZED VIEWS")
        .await
        .unwrap()
        .is_empty());
}

/// Runs one psql meta-command and returns its output (failing on errors).
async fn psql(s: &Server, command: &str) -> String {
    let (host, port) = s.pg_addr.rsplit_once(':').unwrap();
    let out = tokio::process::Command::new("psql")
        .args([
            "-h",
            host,
            "-p",
            port,
            "-d",
            "dev",
            "-U",
            "root",
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
        ])
        .args(["-c", command])
        .output()
        .await
        .expect("psql is installed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("ERROR"),
        "{command}: {stderr}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn psql_meta_commands_show_real_objects() {
    let dir = TempDir::new("psql-meta");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(
        "CREATE TABLE events (data JSONB) WITH (connector = 'webhook');
         CREATE TABLE users (id TEXT PRIMARY KEY, plan TEXT, seen TIMESTAMPTZ);
         CREATE MATERIALIZED VIEW per_plan AS SELECT plan, count(*) AS n FROM users GROUP BY plan;",
    )
    .await
    .unwrap();

    let l = psql(&s, "\\l").await;
    assert!(l.contains(" dev ") && l.contains("UTF8"), "{l}");
    let dn = psql(&s, "\\dn").await;
    assert!(dn.contains("public") && !dn.contains("pg_catalog"), "{dn}");
    let dt = psql(&s, "\\dt").await;
    assert!(
        dt.contains("events") && dt.contains("users") && !dt.contains("per_plan"),
        "{dt}"
    );
    let dm = psql(&s, "\\dm").await;
    assert!(
        dm.contains("per_plan") && dm.contains("materialized view") && !dm.contains("users"),
        "{dm}"
    );
    let d = psql(&s, "\\d").await;
    assert!(
        d.contains("events") && d.contains("per_plan") && d.contains("(3 rows)"),
        "{d}"
    );
    let users = psql(&s, "\\d users").await;
    assert!(users.contains("Table \"public.users\""), "{users}");
    assert!(
        users.contains("id     | text                     |           | not null |"),
        "{users}"
    );
    assert!(
        users.contains("seen   | timestamp with time zone |"),
        "{users}"
    );
    let view = psql(&s, "\\d per_plan").await;
    assert!(
        view.contains("Materialized view \"public.per_plan\"") && view.contains("n      | bigint"),
        "{view}"
    );
    let info = psql(&s, "\\conninfo").await;
    assert!(info.contains("database \"dev\" as user \"root\""), "{info}");
    // The + forms and the function list run too.
    let dt_plus = psql(&s, "\\dt+").await;
    assert!(
        dt_plus.contains("users") && dt_plus.contains("Persistence"),
        "{dt_plus}"
    );
    let d_plus = psql(&s, "\\d+").await;
    assert!(d_plus.contains("per_plan"), "{d_plus}");
    let dm_plus = psql(&s, "\\dm+").await;
    assert!(dm_plus.contains("per_plan"), "{dm_plus}");
    let df = psql(&s, "\\df").await;
    assert!(df.contains("List of functions"), "{df}");
    let users_plus = psql(&s, "\\d+ users").await;
    assert!(
        users_plus.contains("Table \"public.users\"") && users_plus.contains("Storage"),
        "{users_plus}"
    );
    let view_plus = psql(&s, "\\d+ per_plan").await;
    assert!(
        view_plus.contains("View definition:") && view_plus.contains("GROUP BY"),
        "{view_plus}"
    );
    let du = psql(&s, "\\du").await;
    assert!(du.contains("root") && du.contains("Superuser"), "{du}");
    // \copy ... to a client-side file runs COPY ... TO STDOUT.
    let file = dir.0.join("per_plan.csv");
    let copied = psql(
        &s,
        &format!("\\copy per_plan to '{}' with csv header", file.display()),
    )
    .await;
    assert!(copied.starts_with("COPY "), "{copied}");
    let csv = std::fs::read_to_string(&file).unwrap();
    assert!(csv.starts_with("plan,n\n"), "{csv}");
}

#[tokio::test]
async fn scram_password_authentication() {
    let dir = TempDir::new("scram");
    let s = Server::start(&dir.0, &["--password", "s3cret pass"])
        .await
        .unwrap();
    let (host, port) = s.pg_addr.rsplit_once(':').unwrap();
    let connect = |password: &str| {
        let conn = format!("host={host} port={port} user=root dbname=dev password='{password}'");
        async move { tokio_postgres::connect(&conn, tokio_postgres::NoTls).await }
    };
    let (client, conn) = connect("s3cret pass").await.expect("right password");
    tokio::spawn(conn);
    assert_eq!(scalar(&client, "SELECT 1").await.unwrap(), Some("1".into()));
    let err = connect("wrong")
        .await
        .err()
        .expect("wrong password refused");
    assert_eq!(err.as_db_error().map(|e| e.code().code()), Some("28P01"));
    // Without a password the server asks for one, so the client cannot log in.
    assert!(tokio_postgres::connect(
        &format!("host={host} port={port} user=root dbname=dev"),
        tokio_postgres::NoTls
    )
    .await
    .is_err());
    // psql authenticates with SCRAM as well.
    let out = tokio::process::Command::new("psql")
        .args([
            "-h",
            host,
            "-p",
            port,
            "-d",
            "dev",
            "-U",
            "root",
            "-X",
            "-A",
            "-t",
            "-c",
            "SELECT 40 + 2",
        ])
        .env("PGPASSWORD", "s3cret pass")
        .output()
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "42",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn cancel_requests_and_many_sessions() {
    let dir = TempDir::new("cancel");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    // A cancel request (what Ctrl-C in psql sends) stops a running query.
    let token = c.cancel_token();
    let running = tokio::spawn(async move {
        let r = c.simple_query("SELECT pg_sleep(60)").await;
        (c, r)
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    token.cancel_query(tokio_postgres::NoTls).await.unwrap();
    let (c, r) = tokio::time::timeout(std::time::Duration::from_secs(20), running)
        .await
        .expect("cancelled promptly")
        .unwrap();
    let err = r.unwrap_err();
    assert_eq!(
        err.as_db_error().map(|e| e.code().code()),
        Some("57014"),
        "{err}"
    );
    // The session carries on.
    assert_eq!(scalar(&c, "SELECT 1").await.unwrap(), Some("1".into()));

    // statement_timeout stops a query that runs too long.
    c.batch_execute("SET statement_timeout = '200ms'")
        .await
        .unwrap();
    for sql in [
        "SELECT pg_sleep(30)",
        "SELECT (SELECT pg_sleep(30)) AS slow",
    ] {
        let (code, msg) = sql_error(&c, sql).await;
        assert_eq!(
            (code.as_str(), msg.as_str()),
            ("57014", "canceling statement due to statement timeout"),
            "{sql}"
        );
    }
    c.batch_execute("RESET statement_timeout").await.unwrap();
    assert_eq!(
        scalar(&c, "SHOW statement_timeout").await.unwrap(),
        Some("0".into())
    );

    // Many sessions at once, each with its own variables.
    c.batch_execute("CREATE TABLE hits (n INT)").await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let conn = s.connect().await.unwrap();
        tasks.push(tokio::spawn(async move {
            conn.batch_execute(&format!(
                "SET application_name = 'worker-{i}'; INSERT INTO hits VALUES ({i})"
            ))
            .await
            .unwrap();
            assert_eq!(
                scalar(&conn, "SHOW application_name").await.unwrap(),
                Some(format!("worker-{i}"))
            );
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM hits").await.unwrap(),
        Some("40".into())
    );
}

#[tokio::test]
async fn psql_tab_completion_queries() {
    let dir = TempDir::new("psql-complete");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(
        "CREATE TABLE events (data JSONB) WITH (connector = 'webhook');
         CREATE TABLE users (id TEXT PRIMARY KEY, plan TEXT);
         CREATE MATERIALIZED VIEW plans AS SELECT plan FROM users;",
    )
    .await
    .unwrap();
    // The queries psql 15 sends when TAB is pressed after `SELECT * FROM ev`,
    // after `DROP TABLE ` and after `SELECT * FROM users WHERE p`.
    let relations = r#"SELECT c.relname, NULL::pg_catalog.text FROM pg_catalog.pg_class c WHERE c.relkind IN ('r', 'S', 'v', 'm', 'f', 'p') AND (c.relname) LIKE 'ev%' AND pg_catalog.pg_table_is_visible(c.oid) AND c.relnamespace <> (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'pg_catalog')
UNION ALL
SELECT NULL::pg_catalog.text, n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname LIKE 'ev%' AND n.nspname NOT LIKE E'pg\\_%'
LIMIT 1000"#;
    assert_eq!(
        psql(&s, relations)
            .await
            .lines()
            .filter(|l| l.contains("events"))
            .count(),
        1
    );
    let tables = r#"SELECT c.relname, NULL::pg_catalog.text FROM pg_catalog.pg_class c WHERE c.relkind IN ('r', 'p') AND (c.relname) LIKE '%' AND pg_catalog.pg_table_is_visible(c.oid) AND c.relnamespace <> (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'pg_catalog')
UNION ALL
SELECT NULL::pg_catalog.text, n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname LIKE '%' AND n.nspname NOT LIKE E'pg\\_%'
LIMIT 1000"#;
    let out = psql(&s, tables).await;
    assert!(
        out.contains("events") && out.contains("users") && !out.contains("plans"),
        "{out}"
    );
    assert!(
        out.contains("public") && !out.contains("pg_catalog") && !out.contains("columns"),
        "{out}"
    );
    let columns = "SELECT a.attname, NULL::pg_catalog.text FROM pg_catalog.pg_attribute a, pg_catalog.pg_class c WHERE c.oid = a.attrelid and a.attnum > 0 and not a.attisdropped AND (a.attname) LIKE 'p%' AND c.relname = 'users' AND pg_catalog.pg_table_is_visible(c.oid)\nLIMIT 1000";
    let out = psql(&s, columns).await;
    assert!(out.contains(" plan ") && out.contains("(1 row)"), "{out}");
}

#[tokio::test]
async fn warns_when_listening_beyond_loopback_without_a_password() {
    use tokio::io::AsyncBufReadExt;
    let dir = TempDir::new("warn");
    let mut child = tokio::process::Command::new(rivulet_tests::rivulet_bin())
        .arg("--data-dir")
        .arg(&dir.0)
        .args([
            "--pg-listen",
            "0.0.0.0:0",
            "--webhook-listen",
            "127.0.0.1:0",
        ])
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut warned = false;
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line()).await
    {
        warned |= line.contains("WARN") && line.contains("without a password");
        if line.contains("rivulet listening") {
            break;
        }
    }
    assert!(
        warned,
        "no warning about an unauthenticated non-loopback listener"
    );
}

/// The RisingWave catalog relations dbt-risingwave reads, from the real
/// catalog, qualified or not.
#[tokio::test]
async fn rw_catalog_lists_relations_as_risingwave_does() {
    let dir = TempDir::new("rw-catalog");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(
        "CREATE SECRET k AS 'hidden-value'; \
         CREATE TABLE ev (data JSONB) WITH (connector = 'webhook') VALIDATE SECRET k AS secure_compare(headers->>'x', 'y'); \
         CREATE MATERIALIZED VIEW n AS SELECT count(*) AS c FROM ev",
    )
    .await
    .unwrap();
    let r = rows(
        &c,
        "SELECT r.name, r.relation_type, s.name FROM rw_catalog.rw_relations r JOIN rw_schemas s ON s.id = r.schema_id WHERE s.name = 'public' ORDER BY 1",
    )
    .await
    .unwrap();
    assert_eq!(
        r,
        vec![
            vec![
                Some("ev".into()),
                Some("table".into()),
                Some("public".into())
            ],
            vec![
                Some("n".into()),
                Some("materialized view".into()),
                Some("public".into())
            ],
        ]
    );
    assert_eq!(
        rows(&c, "SELECT name FROM rw_tables").await.unwrap(),
        texts(&["ev"])
    );
    let defs = rows(
        &c,
        "SELECT definition FROM rw_materialized_views WHERE name = 'n'",
    )
    .await
    .unwrap();
    assert_eq!(
        defs,
        texts(&["CREATE MATERIALIZED VIEW n AS SELECT count(*) AS c FROM ev"])
    );
    // Definitions never show a secret's value.
    let all = rows(
        &c,
        "SELECT definition FROM rw_relations WHERE definition IS NOT NULL",
    )
    .await
    .unwrap();
    assert!(!format!("{all:?}").contains("hidden-value"));
    // A view depends on what it reads.
    assert_eq!(
        rows(
            &c,
            "SELECT src.relname FROM pg_depend d JOIN pg_class v ON v.oid = d.objid JOIN pg_class src ON src.oid = d.refobjid WHERE v.relname = 'n'",
        )
        .await
        .unwrap(),
        texts(&["ev"])
    );
}

/// `COPY FROM STDIN` through a driver's copy API (tokio-postgres sends it
/// with the extended protocol): the rows land all at once, views follow,
/// a bad row stores nothing, and a copy the client aborts stores nothing.
#[tokio::test]
async fn copy_from_stdin_through_the_extended_protocol() {
    use futures::SinkExt;
    let dir = TempDir::new("sql-copy-in");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let c = server.connect().await.unwrap();
    c.batch_execute(
        "CREATE TABLE k (id int PRIMARY KEY, v text); \
         CREATE MATERIALIZED VIEW kn AS SELECT count(*) AS n FROM k",
    )
    .await
    .unwrap();
    let copy = |body: String| {
        let c = &c;
        async move {
            let sink = c.copy_in("COPY k FROM STDIN WITH (FORMAT csv)").await?;
            futures::pin_mut!(sink);
            // Split mid-line: a row may span CopyData messages.
            let (a, b) = body.split_at(body.len() / 2);
            sink.send(bytes::Bytes::from(a.to_string())).await?;
            sink.send(bytes::Bytes::from(b.to_string())).await?;
            sink.finish().await
        }
    };
    let body: String = (0..10_000).map(|i| format!("{i},\"row {i}\"\n")).collect();
    assert_eq!(copy(body).await.unwrap(), 10_000);
    assert_eq!(
        scalar(&c, "SELECT n FROM kn").await.unwrap(),
        Some("10000".into())
    );
    // One bad id: nothing of this copy is stored, and the session goes on.
    let err = copy("20000,a\nnope,b\n".into()).await.unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("22P02"), "{err}");
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM k").await.unwrap(),
        Some("10000".into())
    );
    // The client gives up half way: nothing stored.
    {
        let sink = c
            .copy_in::<_, bytes::Bytes>("COPY k FROM STDIN")
            .await
            .unwrap();
        futures::pin_mut!(sink);
        sink.send(bytes::Bytes::from("30000\tx\n")).await.unwrap();
        // Dropped without finish: tokio-postgres sends CopyFail.
    }
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM k").await.unwrap(),
        Some("10000".into())
    );
    let (code, _) = sql_error(&c, "COPY kn FROM STDIN").await;
    assert_eq!(code, "42809");
}

/// Catalog functions tools call in FROM (DBeaver lists keywords this way).
#[tokio::test]
async fn catalog_functions_read_in_from() {
    let dir = TempDir::new("catalog-functions");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    let words = rows(
        &c,
        "SELECT word, catcode FROM pg_catalog.pg_get_keywords() WHERE word IN ('select', 'from') ORDER BY 1",
    )
    .await
    .unwrap();
    let r = |w: &str| vec![Some(w.to_string()), Some("R".to_string())];
    assert_eq!(words, vec![r("from"), r("select")]);
}

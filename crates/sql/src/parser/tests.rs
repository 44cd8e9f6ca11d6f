//! Parser tests: round trips through `Display`, and error positions.

use super::*;

/// Parses `sql`, prints it, and checks the printed form parses to the same
/// tree and prints identically. Returns the printed form.
fn round_trip(sql: &str) -> String {
    let stmts = parse(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(stmts.len(), 1, "{sql}");
    let printed = stmts[0].to_string();
    let again = parse(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
    assert_eq!(again, stmts, "{printed}");
    printed
}

#[test]
fn risingwave_guide_statements() {
    let cases = [
        (
            "CREATE SECRET test_secret WITH ( backend = 'meta') AS 'TEST_WEBHOOK';",
            "CREATE SECRET test_secret WITH (backend = 'meta') AS '[REDACTED]'",
        ),
        (
            "create table wbhtable (data JSONB) WITH (connector = 'webhook') VALIDATE SECRET test_secret AS secure_compare(headers->>'x-signature', encode(hmac(test_secret, data, 'sha1'), 'hex'));",
            "CREATE TABLE wbhtable (data JSONB) WITH (connector = 'webhook') VALIDATE SECRET test_secret AS secure_compare(headers ->> 'x-signature', encode(hmac(test_secret, data, 'sha1'), 'hex'))",
        ),
        (
            "CREATE TABLE t (data JSONB PRIMARY KEY) WITH (connector = 'webhook', is_batched = true,) VALIDATE AS secure_compare(headers->>'x-hub-signature-256', 'sha256=' || encode(hmac('secret', data, 'sha256'), 'hex'))",
            "CREATE TABLE t (data JSONB PRIMARY KEY) WITH (connector = 'webhook', is_batched = true) VALIDATE AS secure_compare(headers ->> 'x-hub-signature-256', 'sha256=' || encode(hmac('secret', data, 'sha256'), 'hex'))",
        ),
        (
            "CREATE MATERIALIZED VIEW events AS SELECT data->>'action' AS action, data->'sender'->>'login' AS sender FROM wbhtable",
            "CREATE MATERIALIZED VIEW events AS SELECT data -> 'sender' ->> 'login' AS sender FROM wbhtable",
        ),
    ];
    // A secret's value never prints, so it cannot round-trip.
    assert_eq!(parse(cases[0].0).unwrap()[0].to_string(), cases[0].1);
    assert_eq!(round_trip(cases[1].0), cases[1].1);
    assert_eq!(round_trip(cases[2].0), cases[2].1);
    let mv = round_trip(cases[3].0);
    assert!(mv.contains("data ->> 'action' AS action, data -> 'sender' ->> 'login' AS sender"));
}

#[test]
fn expressions_print_with_minimal_parentheses() {
    let cases = [
        ("SELECT (a + b) * c", "SELECT (a + b) * c"),
        ("SELECT a + (b * c)", "SELECT a + b * c"),
        ("SELECT a - (b - c)", "SELECT a - (b - c)"),
        ("SELECT (a OR b) AND NOT c", "SELECT (a OR b) AND NOT c"),
        (
            "SELECT x IS NOT NULL AND y = 1",
            "SELECT x IS NOT NULL AND y = 1",
        ),
        ("SELECT (data->>'n')::int", "SELECT (data ->> 'n')::int"),
        ("SELECT -1, - x, (-1)::text", "SELECT -1, -x, (-1)::text"),
        (
            "SELECT CAST(x AS double precision)",
            "SELECT x::double precision",
        ),
        (
            "SELECT count(*) FROM t WHERE a <> 'it''s'",
            "SELECT count(*) FROM t WHERE a <> 'it''s'",
        ),
        (
            "select \"Weird Col\", \"select\" from \"T\"",
            "SELECT \"Weird Col\", \"select\" FROM \"T\"",
        ),
        (
            "SELECT * FROM s.t ORDER BY a DESC, b LIMIT 10 OFFSET 5",
            "SELECT * FROM s.t ORDER BY a DESC, b LIMIT 10 OFFSET 5",
        ),
        (
            "SELECT 1 -- comment\n /* block /* nested */ */ + 2",
            "SELECT 1 + 2",
        ),
        ("SELECT E'a\\nb'", "SELECT 'a\nb'"),
        (
            "SELECT x::numeric(10,2), y::timestamp with time zone",
            "SELECT x::numeric(10,2), y::timestamp with time zone",
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(round_trip(sql), expected, "{sql}");
    }
}

#[test]
fn other_statements() {
    for sql in [
        "INSERT INTO t (a, b) VALUES (1, 'x'), (2, NULL)",
        "DELETE FROM t WHERE a = 1",
        "UPDATE t SET a = a + 1, b = 'x' WHERE c IS NULL",
        "UPDATE s.t SET \"update\" = DEFAULT_VALUE",
        "SELECT * FROM a JOIN b USING (x, y) LEFT JOIN c USING (z)",
        "SELECT * FROM a JOIN (b JOIN c USING (k)) USING (x)",
        "SELECT row_number() OVER (), rank() OVER (PARTITION BY a, b ORDER BY c DESC), sum(x) OVER (ORDER BY t) FROM t",
        "SELECT lag(v, 2, 0) OVER (PARTITION BY g) + 1 FROM t ORDER BY count(*) OVER ()",
        "SELECT a FROM t ORDER BY a NULLS FIRST, b DESC NULLS LAST, c DESC",
        "SELECT rank() OVER (ORDER BY x DESC NULLS LAST), array_agg(y ORDER BY y NULLS FIRST) FROM t",
        "SELECT d #- '{a,b}', d - 'k', d - 1 FROM t",
        "SELECT d ?| ARRAY['a', 'b'], d ?& '{a}', d <@ e FROM t",
        "SELECT DISTINCT ON (a, b + 1) a, c FROM t ORDER BY a, b + 1, c DESC",
        "INSERT INTO t (a) SELECT x FROM s WHERE y > 1",
        "TRUNCATE TABLE a, s.b",
        "SELECT a FROM t INTERSECT ALL SELECT b FROM u EXCEPT SELECT c FROM v UNION SELECT 1 ORDER BY 1",
        "CREATE VIEW IF NOT EXISTS v (a, b) AS SELECT x, y FROM t WHERE z",
        "DROP VIEW IF EXISTS v, w CASCADE",
        "SELECT * FROM (SELECT 1 AS column1, 'a' AS column2 UNION ALL SELECT 2 AS column1, 'b' AS column2) AS v (x, y)",
        "DROP TABLE IF EXISTS a, b CASCADE",
        "DROP MATERIALIZED VIEW v",
        "DROP SECRET s",
        "SHOW TABLES",
        "SHOW MATERIALIZED VIEWS",
        "SHOW CREATE TABLE t",
        "SHOW CREATE MATERIALIZED VIEW v",
        "SET search_path = public",
        "CREATE TABLE IF NOT EXISTS p (id BIGINT PRIMARY KEY, name TEXT)",
    ] {
        round_trip(sql);
    }
    assert_eq!(
        round_trip("update t set (a, b) = (1, 2) where id = 3"),
        "UPDATE t SET a = 1, b = 2 WHERE id = 3"
    );
    let e = parse("UPDATE t SET (a, b) = (1)").unwrap_err();
    assert!(e.to_string().contains("number of columns"), "{e}");
    assert!(parse("UPDATE t SET").is_err());
    assert!(parse("SELECT * FROM a JOIN b USING ()").is_err());
    let e =
        parse("SELECT sum(x) OVER (ORDER BY t ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t")
            .unwrap_err();
    assert!(e.to_string().contains("frame"), "{e}");
    assert!(parse("SELECT sum(x) OVER w FROM t").is_err());
    assert_eq!(parse("begin; commit; ;; rollback").unwrap().len(), 3);
    assert_eq!(parse("SHOW TRANSACTION ISOLATION LEVEL").unwrap().len(), 1);
    assert_eq!(parse("  ").unwrap(), vec![]);
}

#[test]
fn errors_point_at_the_offending_token() {
    let check = |sql: &str, msg: &str, pos: usize| {
        let e = parse(sql).unwrap_err();
        assert_eq!(e.message, msg, "{sql}");
        assert_eq!(e.position(sql), pos, "{sql}");
        assert_eq!(e.sqlstate(), "42601");
    };
    check("SELEC 1", "syntax error at or near \"SELEC\"", 1);
    check("SELECT 1 +", "syntax error at end of input", 11);
    check("SELECT (1", "syntax error at end of input", 10);
    check(
        "CREATE TABLE t (data JSONB) WITH (connector 'webhook')",
        "syntax error at or near \"'\"",
        45,
    );
    check("SELECT 'abc", "unterminated quoted string", 8);
    check("SELECT 1 2", "syntax error at or near \"2\"", 10);
    check("SELECT 1; SELEC 2", "syntax error at or near \"SELEC\"", 11);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let sql = format!("SELECT {}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(parse(&sql).is_err());
    let sql = format!("SELECT {}1", "NOT ".repeat(100_000));
    assert!(parse(&sql).is_err());
    let sql = format!("SELECT {}1", "- ".repeat(100_000));
    assert!(parse(&sql).is_err());
}

/// A tiny deterministic generator, so the fuzz cases are reproducible.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn arbitrary_input_never_panics() {
    let pieces = [
        "SELECT", "select", "FROM", "t", "(", ")", "'", "\"", "é", "1", "1.5e", "1é", "--", "/*",
        "*/", "->>", "->", "::", "||", ",", ";", " ", "\n", "NOT", "IS", "NULL", "CREATE", "TABLE",
        "WITH", "=", "VALIDATE", "AS", "E'", "\\", "jsonb", "$", "😀", "[", "]", "-", "*",
    ];
    let mut state = 0x9e3779b97f4a7c15u64;
    for _ in 0..20_000 {
        let n = (next(&mut state) % 12) as usize;
        let sql: String = (0..n)
            .map(|_| pieces[(next(&mut state) % pieces.len() as u64) as usize])
            .collect();
        // Any result is fine; a panic is not.
        let _ = parse(&sql);
    }
    assert!(parse("SELECT 1é").is_err());
}

#[test]
fn streaming_sql_round_trips() {
    let cases = [
        (
            "SELECT date_trunc('minute', (data->>'timestamp')::timestamptz) AS minute, count(*) FROM events GROUP BY 1 HAVING count(*) > 1",
            "SELECT date_trunc('minute', (data ->> 'timestamp')::timestamptz) AS minute, count(*) FROM events GROUP BY 1 HAVING count(*) > 1",
        ),
        (
            "select e.data->>'userId' as u, p.plan from events e left outer join users as p on e.data->>'userId' = p.id where p.plan is not null",
            "SELECT e.data ->> 'userId' AS u, p.plan FROM events AS e LEFT JOIN users AS p ON e.data ->> 'userId' = p.id WHERE p.plan IS NOT NULL",
        ),
        (
            "SELECT CASE WHEN x > 1 THEN 'big' WHEN x IS NULL THEN NULL ELSE 'small' END, CASE x WHEN 1 THEN 'one' END FROM t",
            "SELECT CASE WHEN x > 1 THEN 'big' WHEN x IS NULL THEN NULL ELSE 'small' END, CASE x WHEN 1 THEN 'one' END FROM t",
        ),
        (
            "SELECT x NOT IN (1, 2), x BETWEEN 1 AND 2 + 3, s NOT LIKE 'a%', s ILIKE '%B_' FROM t",
            "SELECT x NOT IN (1, 2), x BETWEEN 1 AND 2 + 3, s NOT LIKE 'a%', s ILIKE '%B_' FROM t",
        ),
        (
            "SELECT DISTINCT count(DISTINCT a), extract(epoch from ts), substring(s from 2 for 3), position('b' in s), trim(both 'x' from s), trim(s) FROM t",
            "SELECT DISTINCT count(DISTINCT a), extract(epoch FROM ts), substring(s, 2, 3), position('b' IN s), btrim(s, 'x'), btrim(s) FROM t",
        ),
        (
            "SELECT data #> '{a,b}', data #>> '{a}', data ? 'k', data @> '{\"a\":1}', -x * (y + 2) % 3 FROM t",
            "SELECT data #> '{a,b}', data #>> '{a}', data ? 'k', data @> '{\"a\":1}', -x * (y + 2) % 3 FROM t",
        ),
        (
            "EXPLAIN CREATE MATERIALIZED VIEW v AS SELECT a, sum(b) FROM t JOIN u ON t.id = u.id GROUP BY a",
            "EXPLAIN CREATE MATERIALIZED VIEW v AS SELECT a, sum(b) FROM t JOIN u ON t.id = u.id GROUP BY a",
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(round_trip(sql), expected, "{sql}");
    }
}

#[test]
fn subscription_statements_round_trip() {
    let cases = [
        (
            "create subscription if not exists sub from public.mv with (retention = '1D')",
            "CREATE SUBSCRIPTION IF NOT EXISTS sub FROM public.mv WITH (retention = '1D')",
        ),
        (
            "drop subscription if exists a, b",
            "DROP SUBSCRIPTION IF EXISTS a, b",
        ),
        (
            "declare cur subscription cursor for sub",
            "DECLARE cur SUBSCRIPTION CURSOR FOR sub SINCE now()",
        ),
        (
            "declare cur subscription cursor for sub since proctime()",
            "DECLARE cur SUBSCRIPTION CURSOR FOR sub SINCE now()",
        ),
        (
            "declare cur subscription cursor for sub since begin()",
            "DECLARE cur SUBSCRIPTION CURSOR FOR sub SINCE begin()",
        ),
        (
            "declare cur subscription cursor for sub since 1715669376304",
            "DECLARE cur SUBSCRIPTION CURSOR FOR sub SINCE 1715669376304",
        ),
        (
            "declare cur subscription cursor for sub full",
            "DECLARE cur SUBSCRIPTION CURSOR FOR sub FULL",
        ),
        (
            "fetch next from cur with (timeout = '1s')",
            "FETCH FORWARD 1 FROM cur WITH (timeout = '1s')",
        ),
        ("fetch 10 from cur", "FETCH FORWARD 10 FROM cur"),
        ("show subscription cursors", "SHOW SUBSCRIPTION CURSORS"),
        ("show subscriptions", "SHOW SUBSCRIPTIONS"),
        (
            "copy (subscribe mv) to stdout",
            "COPY (SUBSCRIBE TO mv) TO STDOUT",
        ),
        (
            "copy (subscribe to mv with (snapshot = false)) to stdout with (format csv)",
            "COPY (SUBSCRIBE TO mv WITH (SNAPSHOT = false)) TO STDOUT WITH (FORMAT csv)",
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(round_trip(sql), expected, "{sql}");
    }
    for bad in [
        "declare cur subscription cursor for sub since tomorrow()",
        "declare cur subscription cursor for sub since -5",
        "fetch 1 from cur with (wait = '1s')",
        "copy (subscribe to mv with (progress = true)) to stdout",
    ] {
        assert!(parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn aggregate_order_by_and_any_over_arrays_round_trip() {
    let cases = [
        (
            "select first_value(x order by y desc, z) from t group by a",
            "SELECT first_value(x ORDER BY y DESC, z) FROM t GROUP BY a",
        ),
        (
            "select a is distinct from b, a is not distinct from b + 1 is not null from t",
            "SELECT a IS DISTINCT FROM b, (a IS NOT DISTINCT FROM b + 1) IS NOT NULL FROM t",
        ),
        (
            "select a from t where a.b = any(ix.indkey) and c <> all (d)",
            "SELECT a FROM t WHERE a.b = ANY (ix.indkey) AND c <> ALL (d)",
        ),
        (
            "select * from t, jsonb_array_elements(t.data -> 'items') item cross join lateral jsonb_each(item) as kv(k, v)",
            "SELECT * FROM t JOIN jsonb_array_elements(t.data -> 'items') AS item ON true JOIN jsonb_each(item) AS kv (k, v) ON true",
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(round_trip(sql), expected, "{sql}");
    }
}

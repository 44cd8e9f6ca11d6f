//! Differential suite: a corpus of materialized views over realistic
//! Segment events and a users table, maintained by Rivulet through batches
//! of signed-webhook inserts, primary-key overwrites and deletes, compared
//! after every batch with PostgreSQL 15 evaluating the same SELECTs over
//! the same rows (as multisets of rows in text form).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rivulet_tests::oracle::Oracle;
use rivulet_tests::{rows, Gen, Server, TempDir};

/// Views: (name, SELECT). Later views may read earlier ones. On the
/// PostgreSQL side each becomes a plain view of the same name.
const VIEWS: &[(&str, &str)] = &[
    // Set-returning functions in FROM, lateral to the events.
    ("v_items", "SELECT data->>'messageId' AS id, item->>'sku' AS sku, item FROM events, jsonb_array_elements(data->'properties'->'items') AS item"),
    ("v_item_counts", "SELECT item->>'sku' AS sku, count(*) AS n FROM events CROSS JOIN LATERAL jsonb_array_elements(data->'properties'->'items') AS item GROUP BY 1"),
    ("v_items_outer", "SELECT data->>'messageId' AS id, i.value->>'sku' AS sku FROM events LEFT JOIN LATERAL jsonb_array_elements(data->'properties'->'items') AS i ON true WHERE data->>'type' = 'track'"),
    ("v_context_keys", "SELECT k, count(*) AS n FROM events, jsonb_object_keys(data->'context') AS k GROUP BY k"),
    ("v_select_keys", "SELECT data->>'messageId' AS id, jsonb_object_keys(data->'context') AS k FROM events WHERE data->>'type' <> 'page'"),
    ("v_props_each", "SELECT data->>'messageId' AS id, p.key, p.value FROM events, jsonb_each_text(data->'properties') AS p WHERE p.key <> 'revenue'"),
    // Projections, casts and JSON access.
    ("v_flat", "SELECT data->>'messageId' AS id, data->>'type' AS type, data->>'userId' AS user_id, (data->>'timestamp')::timestamptz AS ts FROM events"),
    ("v_props", "SELECT data->>'messageId' AS id, (data->'properties'->>'revenue')::numeric AS revenue, (data->'properties'->>'quantity')::int AS qty, (data->'properties'->>'coupon') IS NOT NULL AS has_coupon FROM events WHERE data->>'type' = 'track'"),
    ("v_paths", "SELECT data->>'messageId' AS id, data #>> '{context,page,path}' AS path, data #> '{context,library}' AS lib, jsonb_typeof(data->'properties') AS pt FROM events"),
    ("v_json_ops", "SELECT data->>'messageId' AS id, data ? 'userId' AS has_user, data @> '{\"type\":\"page\"}' AS is_page, jsonb_extract_path_text(data, 'context', 'ip') AS ip, jsonb_array_length(coalesce(data->'properties'->'items', '[]'::jsonb)) AS n_items FROM events"),
    ("v_build", "SELECT data->>'messageId' AS id, jsonb_build_object('t', data->>'type', 'q', (data->'properties'->>'quantity')::int, 'ok', true) AS obj FROM events WHERE data->>'type' <> 'identify'"),
    ("v_case", "SELECT data->>'messageId' AS id, CASE WHEN (data->'properties'->>'revenue')::numeric >= 100 THEN 'big' WHEN (data->'properties'->>'revenue')::numeric > 0 THEN 'small' ELSE 'none' END AS size, CASE data->>'type' WHEN 'track' THEN 1 WHEN 'page' THEN 2 END AS code FROM events"),
    ("v_in_between", "SELECT data->>'messageId' AS id FROM events WHERE data->>'event' IN ('Order Completed', 'Product Viewed') AND (data->'properties'->>'quantity')::int BETWEEN 2 AND 4"),
    ("v_not_in", "SELECT data->>'messageId' AS id, data->>'event' AS event FROM events WHERE data->>'event' NOT IN ('Signed Up') AND data->>'type' = 'track'"),
    ("v_like", "SELECT data->>'messageId' AS id, data->>'event' AS event FROM events WHERE data->>'event' LIKE '%Order%' OR data->>'event' ILIKE 'product%'"),
    ("v_text", "SELECT data->>'messageId' AS id, lower(data->>'event') AS lo, upper(data->>'type') AS up, length(data->>'messageId') AS len, substr(data->>'messageId', 2, 3) AS sub, split_part(data #>> '{context,page,path}', '/', 2) AS seg, concat(data->>'type', ':', data->>'userId') AS tag, replace(data->>'type', 'a', 'A') AS rep, position('-' IN data->>'messageId') AS pos, btrim(' ' || (data->>'type') || ' ') AS trimmed FROM events"),
    ("v_arith", "SELECT data->>'messageId' AS id, (data->'properties'->>'quantity')::int * 3 + 1 AS q3, (data->'properties'->>'quantity')::int / 2 AS half, (data->'properties'->>'quantity')::int % 2 AS odd, (data->'properties'->>'revenue')::numeric * (data->'properties'->>'quantity')::int AS total, (data->'properties'->>'revenue')::numeric / 3 AS third, -(data->'properties'->>'revenue')::numeric AS neg FROM events WHERE data->>'type' = 'track'"),
    ("v_float", "SELECT data->>'messageId' AS id, (data->'properties'->>'revenue')::double precision * 2 AS dbl, (data->'properties'->>'quantity')::bigint + 10000000000 AS big FROM events WHERE data->>'type' = 'track'"),
    ("v_time", "SELECT data->>'messageId' AS id, date_trunc('minute', (data->>'timestamp')::timestamptz) AS minute, date_trunc('hour', (data->>'timestamp')::timestamptz) AS hour, extract(second FROM (data->>'timestamp')::timestamptz) AS sec, extract(epoch FROM (data->>'timestamp')::timestamptz) AS epoch, date_part('dow', (data->>'timestamp')::timestamptz) AS dow FROM events"),
    ("v_coalesce", "SELECT data->>'messageId' AS id, coalesce(data->>'userId', data->>'anonymousId') AS who, nullif(data->>'type', 'page') AS not_page, greatest((data->'properties'->>'quantity')::int, 2) AS g, least((data->'properties'->>'quantity')::int, 2) AS l FROM events"),
    ("v_bool_cast", "SELECT data->>'messageId' AS id, (data->'context'->>'active')::boolean AS active, (data->>'version')::text AS ver, (data->'context'->'library'->>'version') AS libver FROM events"),
    // Aggregates.
    ("a_count_type", "SELECT data->>'type' AS type, count(*) AS n FROM events GROUP BY data->>'type'"),
    ("a_global", "SELECT count(*) AS n, count(data->>'userId') AS with_user, count(DISTINCT data->>'userId') AS users FROM events"),
    ("a_revenue_by_plan", "SELECT data->'properties'->>'plan' AS plan, sum((data->'properties'->>'revenue')::numeric) AS revenue, avg((data->'properties'->>'revenue')::numeric) AS avg_revenue FROM events WHERE data->>'type' = 'track' GROUP BY 1"),
    ("a_minute", "SELECT date_trunc('minute', (data->>'timestamp')::timestamptz) AS minute, count(*) AS events, count(DISTINCT data->>'userId') AS users FROM events GROUP BY minute"),
    ("a_minmax", "SELECT data->>'userId' AS user_id, min((data->>'timestamp')::timestamptz) AS first_seen, max((data->>'timestamp')::timestamptz) AS last_seen, max(data->>'event') AS last_event, min((data->'properties'->>'quantity')::int) AS min_q FROM events GROUP BY 1"),
    ("a_sum_int", "SELECT data->>'event' AS event, sum((data->'properties'->>'quantity')::int) AS qty, avg((data->'properties'->>'quantity')::int) AS avg_qty, sum((data->'properties'->>'quantity')::bigint) AS qty_big FROM events WHERE data->>'type' = 'track' GROUP BY 1"),
    ("a_bool", "SELECT data->>'type' AS type, bool_and((data->'context'->>'active')::boolean) AS all_active, bool_or((data->'context'->>'active')::boolean) AS any_active FROM events GROUP BY 1"),
    ("a_having", "SELECT data->>'userId' AS user_id, count(*) AS n FROM events WHERE data->>'userId' IS NOT NULL GROUP BY 1 HAVING count(*) >= 3"),
    ("a_expr_over_aggs", "SELECT data->>'type' AS type, count(*) * 2 AS twice, sum((data->'properties'->>'quantity')::int) - count(*) AS diff, CASE WHEN count(*) > 10 THEN 'many' ELSE 'few' END AS bucket FROM events GROUP BY data->>'type'"),
    ("a_two_keys", "SELECT data->>'type' AS type, data->'properties'->>'plan' AS plan, count(*) AS n, max((data->'properties'->>'revenue')::numeric) AS top FROM events GROUP BY 1, 2"),
    ("a_distinct_sum", "SELECT data->>'type' AS type, sum(DISTINCT (data->'properties'->>'quantity')::int) AS dq, count(DISTINCT data->'properties'->>'plan') AS plans FROM events GROUP BY 1"),
    ("a_hour_extract", "SELECT extract(hour FROM (data->>'timestamp')::timestamptz) AS hour, count(*) AS n FROM events GROUP BY 1"),
    ("a_path_counts", "SELECT data #>> '{context,page,path}' AS path, count(*) AS views FROM events WHERE data->>'type' = 'page' GROUP BY 1"),
    ("a_global_empty_ok", "SELECT count(*) AS n, sum((data->'properties'->>'revenue')::numeric) AS s, max(data->>'event') AS m FROM events WHERE data->>'event' = 'Refunded'"),
    ("v_distinct", "SELECT DISTINCT data->>'type' AS type, data->'properties'->>'plan' AS plan FROM events"),
    ("a_object_agg", "SELECT data->>'userId' AS user_id, jsonb_object_agg(data->>'messageId', data->>'event') AS events FROM events WHERE data->>'type' = 'track' AND data->>'userId' IS NOT NULL GROUP BY 1"),
    ("a_string_agg", "SELECT data->>'type' AS t, string_agg(data->>'messageId', ',' ORDER BY data->>'messageId') AS ids, string_agg(DISTINCT data->>'userId', ' ' ORDER BY data->>'userId') AS users FROM events GROUP BY 1"),
    ("a_distinct_array", "SELECT data->>'type' AS t, jsonb_agg(DISTINCT data->>'event') AS events, count(DISTINCT data->>'event') AS n FROM events GROUP BY 1"),
    ("a_jsonb_agg", "SELECT data->>'userId' AS user_id, jsonb_agg(data->>'messageId' ORDER BY data->>'messageId') AS ids, json_agg((data->'properties'->>'quantity')::int ORDER BY data->>'messageId' DESC) AS qty FROM events WHERE data->>'type' = 'track' GROUP BY 1"),
    // Joins with the users dimension.
    ("j_inner", "SELECT e.data->>'messageId' AS id, u.plan, u.country FROM events e JOIN users u ON e.data->>'userId' = u.id"),
    ("j_left", "SELECT e.data->>'messageId' AS id, u.plan FROM events AS e LEFT JOIN users AS u ON e.data->>'userId' = u.id"),
    ("j_left_residual", "SELECT e.data->>'messageId' AS id, u.country FROM events e LEFT JOIN users u ON e.data->>'userId' = u.id AND u.country <> 'DE'"),
    ("j_revenue_by_plan", "SELECT u.plan, count(*) AS orders, sum((e.data->'properties'->>'revenue')::numeric) AS revenue FROM events e JOIN users u ON e.data->>'userId' = u.id WHERE e.data->>'event' = 'Order Completed' GROUP BY u.plan"),
    ("j_left_counts", "SELECT coalesce(u.plan, 'unknown') AS plan, count(*) AS n, count(u.id) AS matched FROM events e LEFT JOIN users u ON e.data->>'userId' = u.id GROUP BY 1"),
    ("j_users_activity", "SELECT u.id, u.plan, count(e.data) AS events FROM users u LEFT JOIN events e ON u.id = e.data->>'userId' GROUP BY u.id, u.plan"),
    // Views over views.
    ("vv_big_orders", "SELECT id, revenue FROM v_props WHERE revenue > 50"),
    ("vv_type_share", "SELECT type, n, n * 100 / (SELECT_TOTAL) AS pct FROM a_count_type"),
    ("vv_plan_rank", "SELECT plan, revenue, CASE WHEN revenue > 500 THEN 'top' ELSE 'rest' END AS tier FROM a_revenue_by_plan WHERE plan IS NOT NULL"),
    ("vv_active_users", "SELECT count(*) AS users, sum(n) AS events FROM a_having"),
    ("vv_joined_plans", "SELECT plan, count(*) AS n FROM j_left GROUP BY plan"),
    ("vv_minute_busy", "SELECT minute, events FROM a_minute WHERE events > 2"),
    ("vvv_summary", "SELECT count(*) AS busy_minutes, max(events) AS peak FROM vv_minute_busy"),
    // Dates and intervals.
    ("t_days", "SELECT (data->>'timestamp')::timestamptz::date AS day, count(*) AS n, min((data->>'timestamp')::timestamptz) - date_trunc('day', min((data->>'timestamp')::timestamptz)) AS first_after_midnight FROM events GROUP BY 1"),
    ("t_spans", "SELECT data->>'userId' AS user_id, max((data->>'timestamp')::timestamptz) - min((data->>'timestamp')::timestamptz) AS active_for, max((data->>'timestamp')::timestamptz) + interval '30 days' AS expires FROM events GROUP BY 1"),
    ("t_span_groups", "SELECT (data->>'timestamp')::timestamptz - date_trunc('hour', (data->>'timestamp')::timestamptz) AS into_hour, count(*) AS n FROM events GROUP BY 1"),
    // Subqueries in FROM and WITH, planned into the same operators.
    ("s_derived", "SELECT s.type, s.n * 2 AS twice FROM (SELECT data->>'type' AS type, count(*) AS n FROM events GROUP BY 1) AS s WHERE s.n > 1"),
    ("s_derived_renamed", "SELECT t, count(*) AS users FROM (SELECT data->>'type', data->>'userId' FROM events) AS x (t, u) GROUP BY t"),
    ("s_with", "WITH orders_done AS (SELECT data->>'userId' AS user_id, (data->'properties'->>'revenue')::numeric AS revenue FROM events WHERE data->>'event' = 'Order Completed'), per_user AS (SELECT user_id, sum(revenue) AS spent, count(*) AS n FROM orders_done GROUP BY user_id) SELECT CASE WHEN spent > 100 THEN 'big' ELSE 'small' END AS tier, count(*) AS users, sum(n) AS orders FROM per_user GROUP BY 1"),
    ("s_with_join", "WITH plans AS (SELECT id, plan FROM users WHERE plan IS NOT NULL) SELECT p.plan, count(*) AS events FROM events e JOIN plans p ON e.data->>'userId' = p.id GROUP BY p.plan"),
    ("s_nested", "SELECT max(n) AS most FROM (SELECT user_id, count(*) AS n FROM (SELECT data->>'userId' AS user_id FROM events WHERE data->>'userId' IS NOT NULL) AS u GROUP BY user_id) AS c"),
    // Subqueries in WHERE: semi- and anti-joins, maintained as either side
    // changes (NOT IN with SQL's NULL rules).
    ("q_exists", "SELECT e.data->>'messageId' AS id FROM events e WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = e.data->>'userId' AND u.plan <> 'free')"),
    ("q_not_exists", "SELECT data->>'messageId' AS id, data->>'userId' AS user_id FROM events e WHERE data->>'type' = 'track' AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = e.data->>'userId')"),
    ("q_in", "SELECT data->>'messageId' AS id FROM events WHERE data->>'userId' IN (SELECT id FROM users WHERE country = 'DE')"),
    ("q_in_cast", "SELECT data->>'messageId' AS id FROM events WHERE (data->'properties'->>'quantity')::bigint IN (SELECT id FROM orders WHERE region = 'eu')"),
    ("q_buyers_by_plan", "SELECT u.plan, count(*) AS n FROM users u WHERE EXISTS (SELECT 1 FROM events e WHERE e.data->>'userId' = u.id AND e.data->>'event' = 'Order Completed') GROUP BY u.plan"),
    ("q_not_in", "SELECT id, plan FROM users WHERE id NOT IN (SELECT data->>'userId' FROM events WHERE data->>'type' = 'identify' AND (data->>'timestamp')::timestamptz < '2015-12-12T19:02:00Z')"),
    ("q_exists_any", "SELECT id, amount FROM orders WHERE EXISTS (SELECT 1 FROM users WHERE plan = 'enterprise') AND amount > 1"),
    ("q_values_join", "SELECT e.data->>'messageId' AS id, m.weight FROM events e JOIN (VALUES ('track', 3), ('page', 1)) AS m(kind, weight) ON m.kind = e.data->>'type'"),
    ("q_except", "SELECT data->>'userId' AS u FROM events WHERE data->>'type' = 'track' EXCEPT SELECT id FROM users"),
    ("q_intersect_all", "SELECT data->>'type' AS t FROM events INTERSECT ALL SELECT data->>'type' FROM events WHERE data->>'userId' IS NULL"),
    ("q_union_then_all", "SELECT data->>'type' AS t FROM events UNION SELECT region FROM orders UNION ALL SELECT data->>'type' FROM events WHERE data->>'event' = 'Signed Up'"),
    ("q_except_all", "SELECT data->>'type' AS t FROM events EXCEPT ALL SELECT data->>'type' FROM events WHERE data->>'event' = 'Signed Up'"),
    ("q_in_numeric", "SELECT region, count(*) AS n FROM orders WHERE amount IN (SELECT (data->'properties'->>'quantity')::numeric FROM events WHERE data->>'type' = 'track') GROUP BY region"),
    // Numerics of different scales, overwritten and deleted: results keep
    // the scale recomputation gives.
    ("n_orders", "SELECT sum(amount) AS total, avg(amount) AS mean, min(amount) AS lo, max(amount) AS hi, count(DISTINCT amount) AS d, sum(DISTINCT amount) AS ds FROM orders"),
    ("n_orders_by_region", "SELECT region, sum(amount) AS total, avg(amount) AS mean, max(amount) AS hi, count(*) AS n FROM orders GROUP BY region"),
];

/// Order amounts of different scales. No two are equal: which of `12.5`
/// and `12.50` a min() or DISTINCT keeps depends on PostgreSQL's scan
/// order, which SQL leaves open.
const AMOUNTS: &[&str] = &["12.5", "20", "3.000", "0.10", "7", "1.25", "0.5000", "100"];

/// One Segment event (compact JSON, as Segment sends it).
fn event(g: &mut Gen, n: usize) -> String {
    let kind = g.pick(&["track", "track", "track", "page", "identify"]);
    let user = match g.below(6) {
        0 => serde_json::Value::Null,
        k => serde_json::Value::String(format!("user-{}", k + g.below(4))),
    };
    let minute = g.below(7);
    let second = g.below(60);
    let millis = g.below(1000);
    let mut e = serde_json::json!({
        "anonymousId": format!("anon-{}", g.below(5)),
        "context": {
            "active": g.below(3) != 0,
            "ip": format!("203.0.113.{}", g.below(20)),
            "library": {"name": "analytics.js", "version": g.pick(&["2.11.1", "2.11.2"])},
            "page": {"path": g.pick(&["/", "/pricing", "/docs/start", "/blog/post-1"])}
        },
        "messageId": format!("m-{n:05}"),
        "timestamp": format!("2015-12-12T19:{minute:02}:{second:02}.{millis:03}Z"),
        "type": kind,
        "userId": user,
        "version": 2
    });
    if kind == "track" {
        let revenue = format!("{}.{:02}", g.below(200), g.below(100));
        let mut props = serde_json::json!({
            "plan": g.pick(&["free", "pro", "team"]),
            "quantity": g.below(6),
            "revenue": "__REVENUE__",
        });
        if g.below(3) == 0 {
            props["coupon"] = serde_json::json!("WELCOME");
        }
        if g.below(2) == 0 {
            props["items"] = serde_json::json!([{"sku": "a"}, {"sku": "b"}]);
        }
        e["event"] = serde_json::json!(g.pick(&[
            "Order Completed",
            "Product Viewed",
            "Signed Up",
            "Refund Requested"
        ]));
        e["properties"] = props;
        // Keep the number's written digits (e.g. 12.50) in the payload.
        return e.to_string().replace("\"__REVENUE__\"", &revenue);
    }
    e.to_string()
}

/// The same events into both systems: by one NDJSON webhook request into
/// Rivulet, by one multi-row INSERT into PostgreSQL.
async fn load(server: &Server, pg: &tokio_postgres::Client, events: &[String]) {
    let (status, body) = server
        .post(
            "/webhook/dev/public/events",
            &[("content-type", "application/x-ndjson")],
            events.join("\n"),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let values = events
        .iter()
        .map(|e| format!("('{}'::jsonb)", e.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    pg.batch_execute(&format!("INSERT INTO events VALUES {values}"))
        .await
        .unwrap();
}

async fn sorted_rows(c: &tokio_postgres::Client, sql: &str) -> Vec<Vec<Option<String>>> {
    let mut r = rows(c, sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    r.sort();
    r
}

#[tokio::test]
async fn views_match_postgres_through_inserts_overwrites_and_deletes() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let pg = &oracle.client;
    let dir = TempDir::new("differential");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let rv = server.connect().await.unwrap();

    rv.batch_execute(
        "CREATE TABLE events (data JSONB) WITH (connector = 'webhook', is_batched = true);
         CREATE TABLE users (id TEXT PRIMARY KEY, plan TEXT, country TEXT);
         CREATE TABLE orders (id INT PRIMARY KEY, region TEXT, amount NUMERIC);",
    )
    .await
    .unwrap();
    pg.batch_execute(
        "CREATE TABLE events (data JSONB);
         CREATE TABLE users (id TEXT PRIMARY KEY, plan TEXT, country TEXT);
         CREATE TABLE orders (id INT PRIMARY KEY, region TEXT, amount NUMERIC);",
    )
    .await
    .unwrap();
    for (name, sql) in VIEWS {
        let sql = sql.replace("(SELECT_TOTAL)", "greatest(n, 1)");
        rv.batch_execute(&format!("CREATE MATERIALIZED VIEW {name} AS {sql}"))
            .await
            .unwrap_or_else(|e| panic!("rivulet refused {name}: {e:?}"));
        pg.batch_execute(&format!("CREATE VIEW {name} AS {sql}"))
            .await
            .unwrap_or_else(|e| panic!("postgres refused {name}: {e}"));
    }
    assert!(VIEWS.len() >= 40);

    let mut g = Gen(0x5eed_1234_abcd_9876);
    let mut sent = 0usize;
    let mut live: Vec<usize> = Vec::new();
    for batch in 0..6 {
        // Events arrive by webhook in Rivulet (NDJSON, one request), by
        // INSERT in PostgreSQL.
        let events: Vec<String> = (0..60)
            .map(|_| {
                sent += 1;
                live.push(sent);
                event(&mut g, sent)
            })
            .collect();
        load(&server, pg, &events).await;

        // Users: new ones, and overwrites of existing ones.
        for _ in 0..4 {
            let id = format!("user-{}", 1 + g.below(9));
            let plan = g.pick(&["free", "pro", "team", "enterprise"]);
            let country = g.pick(&["DE", "US", "FR"]);
            rv.batch_execute(&format!(
                "INSERT INTO users VALUES ('{id}', '{plan}', '{country}')"
            ))
            .await
            .unwrap();
            pg.batch_execute(&format!(
                "INSERT INTO users VALUES ('{id}', '{plan}', '{country}') ON CONFLICT (id) DO UPDATE SET plan = EXCLUDED.plan, country = EXCLUDED.country"
            ))
            .await
            .unwrap();
        }
        // Orders: inserts and overwrites of amounts with other scales.
        for _ in 0..6 {
            let id = g.below(8);
            let region = g.pick(&["eu", "us"]);
            let amount = g.pick(AMOUNTS);
            rv.batch_execute(&format!(
                "INSERT INTO orders VALUES ({id}, '{region}', {amount})"
            ))
            .await
            .unwrap();
            pg.batch_execute(&format!(
                "INSERT INTO orders VALUES ({id}, '{region}', {amount}) ON CONFLICT (id) DO UPDATE SET region = EXCLUDED.region, amount = EXCLUDED.amount"
            ))
            .await
            .unwrap();
        }
        // UPDATEs: a column of the rows a predicate picks, by a new value
        // or one computed from the old row; and a JSON document in place.
        let updates = [
            format!(
                "UPDATE orders SET amount = amount * 2 WHERE region = '{}'",
                g.pick(&["eu", "us"])
            ),
            format!(
                "UPDATE users SET plan = '{}' WHERE country = '{}'",
                g.pick(&["free", "pro", "team"]),
                g.pick(&["DE", "US", "FR"])
            ),
            format!(
                "UPDATE events SET data = data || '{{\"event\": \"Edited\"}}' WHERE data->>'messageId' = 'm-{:05}'",
                1 + g.below(sent as u64)
            ),
        ];
        for u in &updates {
            let n = rv.execute(u.as_str(), &[]).await.unwrap();
            assert_eq!(n, pg.execute(u.as_str(), &[]).await.unwrap(), "{u}");
        }
        if batch % 2 == 1 {
            let del = format!("DELETE FROM orders WHERE id = {}", g.below(8));
            rv.batch_execute(&del).await.unwrap();
            pg.batch_execute(&del).await.unwrap();
        }
        // Deletes: some events, sometimes a user.
        if batch > 0 {
            let mut ids = Vec::new();
            for _ in 0..15 {
                if live.is_empty() {
                    break;
                }
                let i = g.below(live.len() as u64) as usize;
                ids.push(format!("'m-{:05}'", live.swap_remove(i)));
            }
            let del = format!(
                "DELETE FROM events WHERE data->>'messageId' IN ({})",
                ids.join(", ")
            );
            rv.batch_execute(&del).await.unwrap();
            pg.batch_execute(&del).await.unwrap();
            if batch % 2 == 0 {
                let del = format!("DELETE FROM users WHERE id = 'user-{}'", 1 + g.below(9));
                rv.batch_execute(&del).await.unwrap();
                pg.batch_execute(&del).await.unwrap();
            }
        }

        let mut failures = Vec::new();
        for (name, _) in VIEWS {
            let sql = format!("SELECT * FROM {name}");
            let got = sorted_rows(&rv, &sql).await;
            let want = sorted_rows(pg, &sql).await;
            if got != want {
                let extra: Vec<_> = got.iter().filter(|r| !want.contains(r)).take(3).collect();
                let missing: Vec<_> = want.iter().filter(|r| !got.contains(r)).take(3).collect();
                failures.push(format!(
                    "batch {batch}, {name}: {} rows vs postgres {}\n  only in rivulet: {extra:?}\n  only in postgres: {missing:?}",
                    got.len(),
                    want.len()
                ));
            }
        }
        // The same SELECTs run ad hoc (not as views) must agree too.
        if batch == 5 {
            for (name, sql) in VIEWS {
                let sql = sql.replace("(SELECT_TOTAL)", "greatest(n, 1)");
                let got = sorted_rows(&rv, &sql).await;
                let want = sorted_rows(pg, &format!("SELECT * FROM {name}")).await;
                if got != want {
                    failures.push(format!(
                        "ad hoc {name}: {} rows vs postgres {}",
                        got.len(),
                        want.len()
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} views differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    // After a kill -9 the views are rebuilt from storage and stay equal.
    let mut server = server;
    server.kill9().await.unwrap();
    let server = server.restart().await.unwrap();
    let rv = server.connect().await.unwrap();
    let del = "DELETE FROM events WHERE data->>'type' = 'page'";
    rv.batch_execute(del).await.unwrap();
    pg.batch_execute(del).await.unwrap();
    for (name, _) in VIEWS {
        let sql = format!("SELECT * FROM {name}");
        assert_eq!(
            sorted_rows(&rv, &sql).await,
            sorted_rows(pg, &sql).await,
            "{name} after restart"
        );
    }

    // A kill -9 in the middle of a load: senders post events one per
    // request; the server dies under them. Every acknowledged event must
    // be there after the restart, and the views must equal PostgreSQL over
    // exactly the rows Rivulet kept.
    let mut acked = Vec::new();
    let mut tasks = Vec::new();
    for sender in 0..4 {
        let hook = server.hook();
        let bodies: Vec<(String, String)> = (0..200)
            .map(|i| {
                let n = 100_000 + sender * 1000 + i;
                (format!("m-{n:05}"), event(&mut g, n))
            })
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut ok = Vec::new();
            for (id, body) in bodies {
                match hook.post("/webhook/dev/public/events", &[], body).await {
                    Ok((200, _)) => ok.push(id),
                    _ => break,
                }
            }
            ok
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut server = server;
    server.kill9().await.unwrap();
    for t in tasks {
        acked.extend(t.await.unwrap());
    }
    let server = server.restart().await.unwrap();
    let rv = server.connect().await.unwrap();
    let stored = rows(
        &rv,
        "SELECT data->>'messageId', data FROM events WHERE (data->>'messageId') >= 'm-100000'",
    )
    .await
    .unwrap();
    let ids: std::collections::HashSet<String> =
        stored.iter().filter_map(|r| r[0].clone()).collect();
    assert!(
        !acked.is_empty(),
        "no event was acknowledged before the kill"
    );
    for id in &acked {
        assert!(ids.contains(id), "acknowledged event {id} lost");
    }
    assert_eq!(ids.len(), stored.len(), "an event was stored twice");
    for r in &stored {
        let doc = r[1].as_deref().unwrap_or("null").replace('\'', "''");
        pg.batch_execute(&format!("INSERT INTO events VALUES ('{doc}')"))
            .await
            .unwrap();
    }
    for (name, _) in VIEWS {
        let sql = format!("SELECT * FROM {name}");
        assert_eq!(
            sorted_rows(&rv, &sql).await,
            sorted_rows(pg, &sql).await,
            "{name} after kill -9 mid-load ({} acknowledged, {} kept)",
            acked.len(),
            stored.len()
        );
    }
}

/// Ad-hoc queries over a table large enough to be read on several threads
/// return what PostgreSQL returns.
#[tokio::test]
async fn large_scans_match_postgres() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let pg = &oracle.client;
    let dir = TempDir::new("differential-large");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let rv = server.connect().await.unwrap();
    rv.batch_execute(
        "CREATE TABLE events (data JSONB) WITH (connector = 'webhook', is_batched = true)",
    )
    .await
    .unwrap();
    pg.batch_execute("CREATE TABLE events (data JSONB)")
        .await
        .unwrap();
    let mut g = Gen(0x1a2b_3c4d_5e6f_7081);
    let total = 60_000;
    for start in (0..total).step_by(10_000) {
        let events: Vec<String> = (start..start + 10_000).map(|n| event(&mut g, n)).collect();
        load(&server, pg, &events).await;
    }
    for sql in [
        "SELECT count(*) FROM events",
        "SELECT sum((data->'properties'->>'revenue')::numeric), avg((data->'properties'->>'quantity')::int) FROM events",
        "SELECT data->>'type', count(*), count(DISTINCT data->>'userId'), min(data->>'timestamp'), max((data->'properties'->>'revenue')::numeric) FROM events GROUP BY 1",
        "SELECT data->'properties'->>'plan', sum((data->'properties'->>'revenue')::numeric) FROM events WHERE data->>'type' = 'track' GROUP BY 1 HAVING count(*) > 10",
        "SELECT count(*) FROM events WHERE data->>'event' = 'Order Completed'",
        "SELECT data->>'messageId', data->>'userId' FROM events WHERE (data->'properties'->>'quantity')::int = 5",
        "SELECT DISTINCT data #>> '{context,page,path}' FROM events",
        "SELECT count(*), count(data->>'userId'), sum((data->'properties'->>'quantity')::int), min(data->>'userId'), bool_or(data->>'type' = 'x') FROM events WHERE data->>'type' = 'nothing'",
        "SELECT data->>'type', bool_and((data->'context'->>'active')::boolean), bool_or((data->'context'->>'active')::boolean), max(data->>'timestamp'), sum((data->'properties'->>'quantity')::int8) FROM events GROUP BY 1",
    ] {
        assert_eq!(
            sorted_rows(&rv, sql).await,
            sorted_rows(pg, sql).await,
            "{sql}"
        );
    }

    // Rows arrive in batches and are stored several to an entry: deletes
    // that take some rows out of such entries, a view back-filled from
    // them over several chunks, and a restart that must continue the row
    // ids after the last entry.
    let delete = "DELETE FROM events WHERE (data->'properties'->>'quantity')::int = 3 OR data->>'type' = 'page'";
    rv.batch_execute(delete).await.unwrap();
    pg.batch_execute(delete).await.unwrap();
    let late = "SELECT data->>'userId' AS u, count(*) AS n, sum((data->'properties'->>'revenue')::numeric) AS r FROM events GROUP BY 1";
    rv.batch_execute(&format!("CREATE MATERIALIZED VIEW late AS {late}"))
        .await
        .unwrap();
    let mut server = server;
    server.kill9().await.unwrap();
    let server = server.restart().await.unwrap();
    let rv = server.connect().await.unwrap();
    let events: Vec<String> = (total..total + 5_000).map(|n| event(&mut g, n)).collect();
    load(&server, pg, &events).await;
    for (ours, theirs) in [
        ("SELECT * FROM late", late.to_string()),
        (
            "SELECT count(*) FROM events",
            "SELECT count(*) FROM events".into(),
        ),
        (
            "SELECT data->>'messageId' FROM events WHERE data->>'type' = 'identify'",
            "SELECT data->>'messageId' FROM events WHERE data->>'type' = 'identify'".into(),
        ),
    ] {
        assert_eq!(
            sorted_rows(&rv, ours).await,
            sorted_rows(pg, &theirs).await,
            "{ours}"
        );
    }
}

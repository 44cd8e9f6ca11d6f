//! Rivulet's text output compared with the real PostgreSQL 15's, value by
//! value: JSONB normalisation, JSON operators, numeric, float8, timestamptz,
//! bytea, hmac/encode (against pgcrypto) and NULL handling.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rivulet_tests::oracle::Oracle;
use rivulet_tests::{rows, Server, TempDir};

/// Expressions whose text output must match PostgreSQL's exactly.
const SAME_IN_BOTH: &[&str] = &[
    r#"'{"b":[1,2.50,"x"],"a":1}'::jsonb"#,
    r#"'{"aa":1,"b":2,"a":3}'::jsonb"#,
    r#"'{"a":1,"a":2}'::jsonb"#,
    r#"'[1e3, -0.0, 1.5E+1, 0.00, 1e-5, 123456789012345678901234567890]'::jsonb"#,
    r#"'  {  "nested" : { "z" : null , "y" : [ true , false ] } }  '::jsonb"#,
    r#"'"a\u00e9\n\"\\\/\t\u001f"'::jsonb"#,
    r#"'"\ud83d\ude00 unicode"'::jsonb"#,
    r#"'{"B":1,"a":2,"ä":3,"":4}'::jsonb"#,
    r#"'[]'::jsonb"#,
    r#"'{}'::jsonb"#,
    r#"'null'::jsonb"#,
    r#"'{"a":{"b":"x"}}'::jsonb -> 'a'"#,
    r#"'{"a":{"b":"x"}}'::jsonb -> 'a' ->> 'b'"#,
    r#"'{"a":{"b":"x"}}'::jsonb ->> 'a'"#,
    r#"'{"a":null}'::jsonb ->> 'a'"#,
    r#"'{"a":null}'::jsonb -> 'a'"#,
    r#"'{"a":2.50}'::jsonb ->> 'a'"#,
    r#"'[1,2,3]'::jsonb -> -1"#,
    r#"'[1,2,3]'::jsonb -> 5"#,
    r#"'[1,2,3]'::jsonb ->> 0"#,
    r#"'{"a":1}'::jsonb || '{"b":2,"a":3}'::jsonb"#,
    r#"'[1]'::jsonb || '2'::jsonb"#,
    r#"'12.50'::numeric"#,
    r#"'1e3'::numeric"#,
    r#"'-0.000'::numeric"#,
    r#"0.1::float8"#,
    r#"1e15::float8"#,
    r#"1e16::float8"#,
    r#"0.00001::float8"#,
    r#"'0.333333333333333314829616256247'::float8"#,
    r#"'2015-12-12T19:11:01.249Z'::timestamptz"#,
    r#"'2015-12-12 19:11:01+02:00'::timestamptz"#,
    r#"'2020-02-29T00:00:00.1234567Z'::timestamptz"#,
    r#"'\x00ff41'::bytea"#,
    r#"'abc'::bytea"#,
    r#"convert_to('é', 'UTF8')"#,
    r#"convert_from('\xc3a9'::bytea, 'UTF8')"#,
    r#"encode('\x00615cff'::bytea, 'hex')"#,
    r#"encode('\x00615cff'::bytea, 'base64')"#,
    r#"encode('\x00615c80ff'::bytea, 'escape')"#,
    r#"encode(convert_to(repeat_me, 'UTF8'), 'base64')"#,
    r#"decode('AGFc/w==', 'base64')"#,
    r#"decode('00ff', 'hex')"#,
    r#"encode(sha256('abc'::bytea), 'hex')"#,
    r#"lower('ÀB'), upper('àb'), length('héllo'), length('\x0102'::bytea)"#,
    r#"coalesce(NULL, 'x'), coalesce(NULL, NULL)"#,
    r#"'a' || NULL"#,
    r#"'a' || 1 || true"#,
    r#"1 = 1.0, 'a' < 'b', NULL = NULL, NULL IS NULL, 1 IS NOT NULL"#,
    r#"true AND NULL, false AND NULL, true OR NULL, NOT NULL::boolean"#,
    r#"'t'::boolean, 'off'::boolean, 1::boolean"#,
    r#"'42'::int, '42'::bigint, 2.5::int, 3.5::int, (-2.5)::int"#,
    r#"'{"n":12}'::jsonb -> 'n', ('{"n":12}'::jsonb -> 'n')::int, ('{"b":true}'::jsonb -> 'b')::boolean"#,
    r#"true::text, 12::text, 1.50::text"#,
    r#"7 / 2, -7 / 2, 7 % -3, -7 % 3, 1.0 / 3, 2.50 * 1.5, 10::numeric / 4, 123456789::numeric / 7"#,
    r#"0.001 / 7, 1e20::numeric + 1, 5.5 % 2, 100::bigint * 3, 1.5::float8 / 4, -(2.5)"#,
    r#"2147483647::bigint + 1, 0.1::numeric * 3, 1 + 2.5, 3 - 0.75::float8"#,
    r#"CASE WHEN 1 > 2 THEN 'a' WHEN NULL THEN 'b' ELSE 'c' END, CASE 2 WHEN 1 THEN 'x' END"#,
    r#"3 IN (1, 2, 3), 4 IN (1, NULL), 4 NOT IN (1, 2), 2 BETWEEN 1 AND 3, 5 NOT BETWEEN 1 AND 3"#,
    r#"'abc' LIKE 'a%', 'abc' LIKE '_b_', 'ABC' ILIKE 'a%c', 'a%c' LIKE 'a\%c', 'abc' NOT LIKE '%d'"#,
    r#"substr('héllo', 2, 3), substr('hello', 0, 3), substr('hello', 3), split_part('a/b/c', '/', 2), split_part('a/b/c', '/', -1)"#,
    r#"concat('a', NULL, 1, true), btrim('  x  '), ltrim('xxy', 'x'), rtrim('yxx', 'x'), replace('aaa', 'a', 'bb'), position('c' IN 'abc'), strpos('abc', 'z')"#,
    r#"'{"a":{"b":[1,2]}}'::jsonb #> '{a,b,1}', '{"a":{"b":[1,2]}}'::jsonb #>> '{a,b}', '{"a":1}'::jsonb ? 'a', '["a","b"]'::jsonb ? 'b'"#,
    r#"'{"a":1,"b":{"c":2}}'::jsonb @> '{"b":{"c":2}}', '[1,2,3]'::jsonb @> '[3,1]', '[1,2]'::jsonb @> '1', '{"a":1}'::jsonb @> '{"a":2}'"#,
    r#"jsonb_typeof('[1]'), jsonb_typeof('1.5'), jsonb_array_length('[1,[2],3]'), jsonb_extract_path_text('{"a":{"b":"x"}}', 'a', 'b')"#,
    r#"jsonb_build_object('a', 1, 'b', 'x', 'c', NULL, 'd', 2.50, 'e', true, 'a', 2)"#,
    r#"jsonb_build_object('t', '2015-12-12T19:11:01.249Z'::timestamptz, 'f', 1.5::float8)"#,
    r#"date_trunc('minute', '2015-12-12T19:11:01.249Z'::timestamptz), date_trunc('week', '2015-12-12T19:11:01Z'::timestamptz), date_trunc('month', '2016-02-29T23:00:00Z'::timestamptz)"#,
    r#"extract(epoch FROM '2015-12-12T19:11:01.249Z'::timestamptz), extract(second FROM '2015-12-12T19:11:01.249Z'::timestamptz), extract(dow FROM '2015-12-12T00:00:00Z'::timestamptz), extract(week FROM '2016-01-01T00:00:00Z'::timestamptz)"#,
    r#"date_part('hour', '2015-12-12T19:11:01Z'::timestamptz), date_part('epoch', '2015-12-12T19:11:01.5Z'::timestamptz), to_timestamp(1449947461.249)"#,
    r#"nullif(1, 1), nullif('a', 'b'), greatest(1, NULL, 3), least('b', 'a'), coalesce(NULL::int, 2)"#,
    r#"$$it's$$, $tag$a $$ b$tag$, $q$$q$, $_1$x$_1$ || 'y'"#,
    r#"'a_c' LIKE 'a#_c' ESCAPE '#', 'abc' LIKE 'a#_c' ESCAPE '#', 'a\c' LIKE 'a\c' ESCAPE '', 'a%' LIKE 'a!%' ESCAPE '!', 'A_B' ILIKE 'a/_b' ESCAPE '/'"#,
    r#"like_escape('a#_%\', '#'), like_escape('a\_', ''), 'x' NOT LIKE 'x!' ESCAPE '#'"#,
    r#"'r' = ANY (ARRAY['r', 'p']), 'x' = ANY (ARRAY['r', 'p']), 'x' <> ALL (ARRAY['r', 'p']), 2 = SOME (ARRAY[1, 2]), NULL = ANY (ARRAY[1])"#,
    r#"pg_size_pretty(0::bigint), pg_size_pretty(10239::bigint), pg_size_pretty(10240::bigint), pg_size_pretty(1000000::bigint), pg_size_pretty(123456789::bigint), pg_size_pretty(-123456789::bigint), pg_size_pretty(20971519::bigint), pg_size_pretty(9223372036854775807::bigint)"#,
    r#"floor(5), round(5), floor(-3.2), ceil(-3.2), ceiling(3.2), floor(-3.2::float8), ceil(2.0001::float8), round(2.5), round(-2.5), round(2.5::float8), round(3.5::float8), round(3.14159, 2), round(1234.5, -2), round(1250, -2), round(-1250.5, -2), round(5.5, 0)"#,
    r#"trunc(-3.7), trunc(3.789, 1), trunc(3.7, 3), trunc(1234.5, -2), trunc(-3.7::float8), trunc(0.5, -3), abs(-5), abs(-5::bigint), abs(-2.50), abs(-1.5::float8), sign(-3.2), sign(0.0), sign(7), floor(0.0), ceil(-0.5)"#,
    r#"floor(extract(epoch FROM '2015-12-12T19:11:01.249Z'::timestamptz) / 60) * 60, round((7::numeric / 3), 4), trunc(12345.6789, 2)"#,
    r#"interval '1 hour', interval '2 days 3 hours', interval '-1 day 2 hours', interval '1.5 days', interval '1 year 2 months', interval '10 minutes ago', '3h'::interval, interval '1 week', '00:00:01.5'::interval, interval '-1.5 days', interval '1 day -2 hours', interval '1.5 months', interval '1 year -1 mon', interval '-1 year', interval '0.5 sec', interval '-0.000001 sec', interval '100 years', interval '25 hours', '@ 3 days ago'::interval"#,
    r#"'2015-12-12T19:11:01Z'::timestamptz + interval '1 hour', '2015-12-12T19:11:01Z'::timestamptz - interval '1 day 2 hours', '2024-01-31T10:00:00Z'::timestamptz + interval '1 month', interval '1 year' + '2023-02-28T00:00:00Z'::timestamptz, '2020-01-02'::timestamptz - '2020-01-01 01:00'::timestamptz, '2020-03-01'::timestamptz - '2020-01-01'::timestamptz, interval '1 hour' + interval '30 minutes', interval '1 day' - interval '1 hour', - interval '1 day', interval '1 mon' = interval '30 days', interval '25 hours' > interval '1 day', '2015-12-12T19:11:01Z'::timestamptz + '1 hour', '2015-12-12T19:11:01Z'::timestamptz - '2015-12-12', interval '1 day' + '1 hour'"#,
    r#"extract(epoch FROM interval '1 year 1 mon 1 day 1 hour'), extract(hour FROM interval '25 hours'), date_part('day', interval '3 days'), extract(epoch FROM interval '90 minutes'), extract(minute FROM interval '90 minutes'), extract(second FROM interval '1.25 seconds'), extract(month FROM interval '14 months'), extract(year FROM interval '14 months')"#,
    // Editing documents.
    r#"jsonb_set('{"a":1,"b":{"c":2}}', '{b,c}', '3'), jsonb_set('{"a":1}', '{z}', '[1]'), jsonb_set('{"a":1}', '{z}', '2', false), jsonb_set('{"a":{"b":1}}', '{x,y}', '2'), jsonb_set('{}', '{a}', 'null')"#,
    r#"jsonb_set('[1,2,3]', '{1}', '"x"'), jsonb_set('[1,2,3]', '{-1}', '9'), jsonb_set('[1,2,3]', '{10}', '9'), jsonb_set('[1,2,3]', '{-10}', '9'), jsonb_set('[]', '{0}', '1'), jsonb_set('[1]', '{5}', '2', false), jsonb_set('{"a":[1,{"b":2}]}', '{a,1,b}', '{"c":true}'), jsonb_set('{"a":1}', '{}', '2'), jsonb_set('{"a":1}', ARRAY['a'], '"s"')"#,
    r#"jsonb_insert('{"a":[0,1,2]}', '{a,1}', '"new"'), jsonb_insert('{"a":[0,1,2]}', '{a,1}', '"new"', true), jsonb_insert('{"a":[0]}', '{a,-1}', '9'), jsonb_insert('{"a":[0]}', '{a,9}', '9'), jsonb_insert('{"a":[0]}', '{a,-9}', '9'), jsonb_insert('{"a":1}', '{b}', '2'), jsonb_insert('[]', '{0}', '1')"#,
    r#"'{"a":1,"b":2}'::jsonb - 'a', '["a","b","a",1]'::jsonb - 'a', '{"a":1,"b":2,"c":3}'::jsonb - ARRAY['a','c'], '{"a":1}'::jsonb - '{a,x}'::text[], '[1,2,3]'::jsonb - 1, '[1,2,3]'::jsonb - -1, '[1,2,3]'::jsonb - 5, '[1,2,3]'::jsonb - -5, '{}'::jsonb - 'a'"#,
    r#"'{"a":{"b":1,"c":2}}'::jsonb #- '{a,b}', '[1,[2,3]]'::jsonb #- '{1,0}', '{"a":1}'::jsonb #- '{x,y}', '[1,2]'::jsonb #- '{-1}', '[1,2]'::jsonb #- '{5}', '{"a":[1]}'::jsonb #- '{a,-5}', '{"a":1}'::jsonb #- '{}'"#,
    r#"jsonb_strip_nulls('{"a":null,"b":{"c":null,"d":1},"e":[null,{"f":null}]}'), jsonb_strip_nulls('[null]'), jsonb_strip_nulls('null')"#,
    r#"jsonb_pretty('{"a":{},"b":[1,{"c":null}],"d":"x/y","e":[]}'), jsonb_pretty('1'), jsonb_pretty('[[]]'), jsonb_pretty('"s"')"#,
    r#"to_jsonb(1), to_jsonb('x'::text), to_jsonb(2.50), to_jsonb(true), to_jsonb(1.5::float8), to_jsonb('{"a":1}'::jsonb), to_json('q"'::text), to_jsonb(NULL::text), to_jsonb('2015-12-12T19:11:01.249Z'::timestamptz), to_jsonb(date '2024-01-02'), to_jsonb(12345678901::bigint)"#,
    r#"'{"a":1,"b":2}'::jsonb ?| array['a','z'], '{"a":1}'::jsonb ?| '{x,y}', '["a","b"]'::jsonb ?& array['a','b'], '{"a":1}'::jsonb ?& array['a','z'], '{"a":1}'::jsonb ?& '{}', '{"a":1}'::jsonb <@ '{"a":1,"b":2}', '{"a":[1,2]}'::jsonb <@ '{"a":[1]}', '1'::jsonb <@ '[1]'"#,
    r#"jsonb_build_array(1, 'a', NULL, true, 2.50, '{"k":1}'::jsonb), json_build_array(), jsonb_build_array(jsonb_build_array()), json_typeof('[1]'), json_array_length('[1,2,3]')"#,
    r#"md5('abc'), md5(''), md5('\x00ff'::bytea), md5('héllo')"#,
    r#"regexp_replace('foobarbaz', 'b..', 'X'), regexp_replace('foobarbaz', 'b..', 'X', 'g'), regexp_replace('ABC', 'b', 'x', 'i'), regexp_replace('abc', '(b)(c)', '\2\1'), regexp_replace('abc', 'b', '[\&]'), regexp_replace('a.b', '\.', '$'), regexp_replace('aaa', 'a', 'b', 'g')"#,
    r#"current_date = now()::date, current_date - 1 < current_date, current_date::timestamptz <= now()"#,
    r#"pg_typeof(1), pg_typeof(1::bigint), pg_typeof(2.5), pg_typeof(2.5::float8), pg_typeof('x'::text), pg_typeof('{}'::jsonb), pg_typeof(now()), pg_typeof(true), pg_typeof(ARRAY[1]), pg_typeof(interval '1 day'), pg_typeof(date '2024-01-01'), pg_typeof('a'), pg_typeof(NULL)"#,
    r#"initcap('hello wORLD-foo bar_baz 2nd'), repeat('ab', 3), repeat('x', -1), left('abcde', 2), left('abcde', -2), right('abcde', 2), right('abcde', -4), left('ab', 9)"#,
    r#"lpad('a', 4, '*-'), lpad('abcdef', 3), rpad('a', 4), rpad('ab', 5, 'xy'), lpad('a', 3, ''), reverse('héllo'), starts_with('alpha', 'al'), starts_with('alpha', 'x'), chr(65), chr(233), ascii('A'), ascii('é'), ascii('')"#,
    r#"string_to_array('a,b,,c', ','), string_to_array('a,b,,c', ',', ''), string_to_array('abc', NULL), string_to_array('abc', ''), string_to_array('', ','), string_to_array(NULL, ','), array_length(string_to_array('x y z', ' '), 1)"#,
    r#"sqrt(16), sqrt(2::float8), ln(1), log(100), log10(1000), exp(0), exp(1::float8), power(2, 10), pow(2.0::float8, -1), power(-8, 3), pi(), mod(7, 3), mod(-7, 3), mod(7::bigint, -3), mod(7.5, 2), mod(10, 2.5)"#,
    r#"date '2024-02-29', '2024-02-29'::date + 1, 1 + date '2024-12-31', date '2024-03-01' - date '2024-02-01', date '2024-03-01' - 1, '2015-12-12T19:11:01Z'::timestamptz::date, date '2024-01-01'::timestamptz, date '2024-01-01' < '2024-01-01T01:00:00Z'::timestamptz, extract(year FROM date '2024-05-06'), extract(epoch FROM date '2020-01-01'), date_trunc('month', date '2024-05-06'), '2024-05-06 10:00:00'::date, date '0001-01-01' - 1"#,
];

/// `sql`'s rows from PostgreSQL and from Rivulet (sorted when the order
/// is not the query's); a description of the difference, if any.
async fn differs(
    oracle: &tokio_postgres::Client,
    rivulet: &tokio_postgres::Client,
    sql: &str,
    sort: bool,
) -> Option<String> {
    let mut expected = rows(oracle, sql)
        .await
        .unwrap_or_else(|e| panic!("oracle: {sql}: {e}"));
    match rows(rivulet, sql).await {
        Ok(mut got) => {
            if sort {
                expected.sort();
                got.sort();
            }
            (got != expected)
                .then(|| format!("{sql}\n  postgres: {expected:?}\n  rivulet:  {got:?}"))
        }
        Err(e) => Some(format!(
            "{sql}\n  postgres: {expected:?}\n  rivulet error: {e}"
        )),
    }
}

/// Replaces the placeholder used for a long input (base64 line wrapping).
fn expand(expr: &str) -> String {
    expr.replace("repeat_me", &format!("'{}'", "x".repeat(100)))
}

#[tokio::test]
async fn text_output_matches_postgres() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let dir = TempDir::new("oracle");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let rivulet = server.connect().await.unwrap();
    let mut failures = Vec::new();
    for expr in SAME_IN_BOTH {
        let sql = format!("SELECT {}", expand(expr));
        failures.extend(differs(&oracle.client, &rivulet, &sql, false).await);
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Inputs both must reject, with the same SQLSTATE.
#[tokio::test]
async fn errors_match_postgres() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let dir = TempDir::new("oracle-err");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let rivulet = server.connect().await.unwrap();
    let cases = [
        "SELECT '{'::jsonb",
        "SELECT '[1,]'::jsonb",
        "SELECT '01'::jsonb",
        "SELECT '\"\\u0000\"'::jsonb",
        "SELECT 'x'::int",
        "SELECT '3000000000'::int",
        "SELECT 'maybe'::boolean",
        "SELECT '2015-13-01'::timestamptz",
        "SELECT 'soon'::timestamptz",
        "SELECT 'x'::interval",
        "SELECT interval '1 fortnight'",
        "SELECT 'x'::date",
        "SELECT date '2023-02-29'",
        "SELECT date '2024-01-01' + interval '1 day' + 1",
        "SELECT interval '1 day' + 1",
        "SELECT 1 IN (SELECT 1, 2)",
        "SELECT (SELECT 1, 2)",
        "SELECT 1 IN (SELECT 'x'::text)",
        "SELECT EXISTS (SELECT nope)",
        "SELECT '2015-12-12T19:11:01Z'::timestamptz - '1 hour'",
        "SELECT convert_from('\\xff'::bytea, 'UTF8')",
        "SELECT decode('0g', 'hex')",
        "SELECT nosuchfunction(1)",
        "WITH RECURSIVE bad AS (SELECT n FROM bad UNION SELECT 1) SELECT * FROM bad",
        "SELECT string_agg(1, ',')",
        "SELECT 'nope'::regclass",
        "SELECT 'nope'::regtype",
        "SELECT 'nope'::regnamespace",
        "SELECT 'abc'::oid",
        "SELECT 4294967296::oid",
        "SELECT oid + 1 FROM pg_class",
        "SELECT (1).x",
        "SELECT (information_schema._pg_expandarray(ARRAY[1])).y",
        "SELECT 1.5 & 1",
        "SELECT string_agg('a')",
        "SELECT array_agg(DISTINCT x ORDER BY y) FROM (VALUES (1, 2)) t(x, y)",
        "SELECT has_table_privilege('nope', 'select')",
        "SELECT has_table_privilege('pg_class', 'fly')",
        "SELECT has_schema_privilege('nope', 'usage')",
        "INSERT INTO nope VALUES (1) RETURNING 1",
        "COMMENT ON TABLE nope IS 'x'",
        "COMMENT ON COLUMN nope.c IS 'x'",
        "WITH RECURSIVE t(a, b) AS (SELECT 1 UNION ALL SELECT a FROM t) SELECT * FROM t",
        "CREATE TABLE bad (a INT PRIMARY KEY, b TEXT, PRIMARY KEY (b))",
        "CREATE TABLE bad (a INT, b TEXT, PRIMARY KEY (b, a, b))",
        "SELECT 'a'::text = 1",
        "SELECT * FROM nosuchtable",
        "SELEC 1",
        "SELECT ('\"x\"'::jsonb)::int",
        "SELECT 1 / 0",
        "SELECT 1.5 / 0",
        "SELECT 2147483647 + 1",
        "SELECT jsonb_array_length('{}')",
        "SELECT split_part('a', ',', 0)",
        "SELECT substr('abc', 1, -1)",
        "SELECT date_trunc('fortnight', now_is_not_supported())",
        "SELECT 'a' + 1",
        "SELECT 'a' LIKE 'a' ESCAPE 'ab'",
        "SELECT 'ab' LIKE 'a#' ESCAPE '#'",
        "SELECT $$unterminated",
        "SELECT nope.* FROM pg_class",
        "SELECT abs(-2147483647 - 1)",
        "SELECT floor('x')",
        "SELECT * FROM jsonb_array_elements('{\"a\":1}')",
        "SELECT * FROM jsonb_array_elements_text('1')",
        "SELECT * FROM jsonb_object_keys('[1]')",
        "SELECT * FROM jsonb_each('1')",
        "SELECT * FROM jsonb_each_text('[]')",
        "SELECT * FROM jsonb_array_elements(1)",
        "SELECT * FROM jsonb_array_elements('[1]') AS x(a, b)",
        "SELECT * FROM generate_series(1, 3, 0)",
        "SELECT jsonb_set('1', '{a}', '2')",
        "SELECT jsonb_set('[1]', '{x}', '2')",
        "SELECT jsonb_set('{\"a\":[1]}', '{a,x}', '2')",
        "SELECT jsonb_set('{\"a\":1}', '{a,NULL}', '2')",
        "SELECT jsonb_insert('{\"a\":1}', '{a}', '2')",
        "SELECT jsonb_insert('\"s\"', '{0}', '2')",
        "SELECT '1'::jsonb - 'a'",
        "SELECT '{\"a\":1}'::jsonb - 1",
        "SELECT '2'::jsonb - 1",
        "SELECT '1'::jsonb #- '{a}'",
        "SELECT '[1]'::jsonb #- '{a}'",
        "SELECT '{}'::jsonb - 1.5",
        "SELECT regexp_replace('a', '(', 'x')",
        "SELECT regexp_replace('a', 'a', 'x', 'z')",
        "SELECT md5(1)",
        "SELECT jsonb_object_agg(NULL::text, 1)",
        "SELECT 1, 2 INTERSECT SELECT 1",
        "SELECT 1 EXCEPT SELECT 'a'::text",
        "SELECT '1'::jsonb ?| 'a'",
        "SELECT 1 <@ '1'::jsonb",
        "SELECT sqrt(-1)",
        "SELECT ln(0)",
        "SELECT log(-1)",
        "SELECT power(0, -1)",
        "SELECT power(-8, 0.5)",
        "SELECT exp(1000)",
        "SELECT mod(1, 0)",
        "SELECT chr(0)",
        "SELECT repeat('x', 'a')",
        "SELECT DISTINCT ON (a) b FROM (SELECT 1 AS a, 2 AS b) t ORDER BY b",
    ];
    let mut failures = Vec::new();
    for sql in cases {
        let pg = oracle.client.simple_query(sql).await.expect_err(sql);
        let pg_code = pg.as_db_error().map(|e| e.code().code().to_string());
        match rivulet.simple_query(sql).await {
            Ok(_) => failures.push(format!("{sql}: rivulet accepted it")),
            Err(e) => {
                let code = e.as_db_error().map(|e| e.code().code().to_string());
                if code != pg_code {
                    failures.push(format!(
                        "{sql}: postgres {pg_code:?}, rivulet {code:?} ({e})"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `sql` fails in PostgreSQL and (as `rivulet_sql`) in Rivulet with the
/// same SQLSTATE; a description of the difference, if any.
async fn same_error(
    oracle: &tokio_postgres::Client,
    rivulet: &tokio_postgres::Client,
    sql: &str,
    rivulet_sql: &str,
) -> Option<String> {
    let expected = oracle.batch_execute(sql).await.expect_err(sql);
    let got = match rivulet.batch_execute(rivulet_sql).await {
        Ok(()) => return Some(format!("{rivulet_sql}: rivulet accepted it")),
        Err(e) => e,
    };
    let code = |e: &tokio_postgres::Error| e.code().map(|c| c.code().to_string());
    (code(&expected) != code(&got))
        .then(|| format!("{rivulet_sql}\n  postgres: {expected:?}\n  rivulet:  {got:?}"))
}

/// RisingWave's hmac(key, data, algo) against pgcrypto's hmac(data, key, algo).
#[tokio::test]
async fn hmac_matches_pgcrypto() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let dir = TempDir::new("oracle-hmac");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let rivulet = server.connect().await.unwrap();
    for (key, data) in [
        ("your_secret_key", "your_webhook_payload"),
        ("abc123", "{\"cool\":true}"),
        ("", "empty key"),
        ("k", ""),
    ] {
        for algo in ["sha1", "sha256"] {
            let pg = rows(
                &oracle.client,
                &format!("SELECT encode(hmac('{data}'::bytea, '{key}'::bytea, '{algo}'), 'hex')"),
            )
            .await
            .unwrap();
            let rv = rows(
                &rivulet,
                &format!("SELECT encode(hmac('{key}', '{data}'::bytea, '{algo}'), 'hex')"),
            )
            .await
            .unwrap();
            assert_eq!(rv, pg, "{key} {data} {algo}");
        }
    }
}

/// A psql session's transcript: each step sent as its own simple query
/// over one connection (`-c` after `-c`), echoed (`-e`), then its command
/// tag, rows, notices and errors in the order psql prints them.
async fn psql_transcript(port: u16, user: &str, db: &str, steps: &[&str]) -> String {
    let mut args = String::new();
    for step in steps {
        args.push_str(" -c '");
        args.push_str(&step.replace('\'', "'\\''"));
        args.push('\'');
    }
    psql(port, user, db, &args).await
}

/// What psql, echoing each statement, prints (errors included) with the
/// shell-quoted `args`.
async fn psql(port: u16, user: &str, db: &str, args: &str) -> String {
    let cmd = format!("psql -h 127.0.0.1 -p {port} -U {user} -d {db} -X -e{args} 2>&1");
    let out = tokio::process::Command::new("sh")
        .args(["-c", &cmd])
        .output()
        .await
        .expect("psql is installed (scripts/test.sh installs postgresql-client)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// psql's transcripts of `steps` from PostgreSQL (as `postgres`) and
/// from Rivulet (as `root`) are the same, line by line.
async fn assert_same_psql(oracle: &Oracle, server: &Server, steps: &[&str]) {
    let port: u16 = server.pg_addr.rsplit_once(':').unwrap().1.parse().unwrap();
    let pg = psql_transcript(oracle.port(), "postgres", "postgres", steps).await;
    let rv = psql_transcript(port, "root", "dev", steps).await;
    assert_same_transcript(&rv, &pg);
}

/// Rivulet's transcript equals PostgreSQL's, line by line.
fn assert_same_transcript(rv: &str, pg: &str) {
    for (i, (r, p)) in rv.lines().zip(pg.lines()).enumerate() {
        assert_eq!(r, p, "line {i} differs\nrivulet:\n{rv}\npostgres:\n{pg}");
    }
    assert_eq!(
        rv.lines().count(),
        pg.lines().count(),
        "rivulet:\n{rv}\npostgres:\n{pg}"
    );
}

/// Statements client libraries send around their queries (transaction
/// blocks, savepoints, transaction modes, DISCARD, DEALLOCATE, REFRESH,
/// `alias.*`, dollar quotes, LIKE ... ESCAPE): the same command tags,
/// rows, warnings and errors as PostgreSQL, in one session.
#[tokio::test]
async fn client_statements_answer_like_postgres() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let dir = TempDir::new("oracle-stmts");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let setup = "CREATE TABLE t (id int, name text); INSERT INTO t VALUES (1, 'a'), (2, 'b'); \
                 CREATE MATERIALIZED VIEW v AS SELECT id FROM t";
    server
        .connect()
        .await
        .unwrap()
        .batch_execute(setup)
        .await
        .unwrap();
    oracle.client.batch_execute(setup).await.unwrap();
    let steps = [
        "SAVEPOINT outside",
        "COMMIT",
        "BEGIN ISOLATION LEVEL READ COMMITTED",
        "BEGIN",
        "SAVEPOINT s1",
        "SELECT x.* FROM t AS x ORDER BY id",
        "RELEASE SAVEPOINT s1",
        "RELEASE s1",
        "ROLLBACK",
        "START TRANSACTION READ WRITE",
        "SAVEPOINT s2",
        "SAVEPOINT s3",
        "ROLLBACK TO SAVEPOINT s2",
        "RELEASE s3",
        "ROLLBACK TO s2",
        "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
        "DISCARD ALL",
        "COMMIT",
        "SET TRANSACTION READ ONLY",
        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
        "SELECT t.*, t.id + 1 AS next FROM t ORDER BY 1",
        "SELECT $$dollar 'quoted'$$ AS s, $x$ $$ $x$ AS t",
        "REFRESH MATERIALIZED VIEW v",
        "REFRESH MATERIALIZED VIEW t",
        "SELECT count(*) FROM v",
        "DEALLOCATE ALL",
        "DISCARD ALL",
        "SELECT name FROM t WHERE name LIKE 'a' ESCAPE '!'",
        "-- only a comment",
        "SELECT * FROM (SELECT id, name FROM t WHERE id > 1) AS s ORDER BY id",
        "SELECT count(*) FROM (SELECT * FROM t) dbt_internal_test",
        "SELECT id FROM t WHERE id IN (SELECT id FROM t WHERE name = 'b') ORDER BY 1",
        "SELECT id FROM t WHERE id NOT IN (SELECT id FROM t WHERE id > 1) ORDER BY 1",
        "SELECT EXISTS (SELECT 1 FROM t WHERE id = 2) AS yes, NOT EXISTS (SELECT 1 FROM t WHERE id = 99) AS none",
        "SELECT 1 AS one WHERE 5 IN (SELECT id FROM t WHERE id > 100)",
        "SELECT 1 AS one WHERE NULL NOT IN (SELECT id FROM t WHERE id > 100)",
        "SELECT name FROM t WHERE id IN (WITH big AS (SELECT id FROM t WHERE id >= 2) SELECT id FROM big)",
        "SELECT 2 IN (SELECT id FROM t) AS found, 3 NOT IN (SELECT id FROM t) AS absent, '1' IN (SELECT id::text FROM t) AS texts",
        "SELECT id FROM t UNION ALL SELECT NULL ORDER BY 1",
        "SELECT 1 AS n UNION SELECT '2' ORDER BY 1",
        "SELECT 3 NOT IN (SELECT id FROM t UNION ALL SELECT NULL) AS unknown_too",
        "SELECT 3 NOT IN (SELECT nullif(id, 1) FROM t) AS unknown, 1 IN (SELECT nullif(id, 1) FROM t) AS also_unknown, 2 IN (SELECT nullif(id, 1) FROM t) AS found, 2.0 IN (SELECT id FROM t) AS widened",
        "WITH a AS (SELECT id FROM t), b (doubled) AS (SELECT id * 2 FROM a) SELECT sum(doubled) FROM b",
        "WITH a AS (SELECT 1 AS x) SELECT (SELECT x FROM a) + 1 AS y",
        "SELECT schemaname, tablename, tableowner IS NOT NULL AS owned FROM pg_tables WHERE schemaname = 'public' ORDER BY 2",
        "SELECT matviewname, ispopulated FROM pg_catalog.pg_matviews ORDER BY 1",
        "SELECT count(*) FROM pg_description WHERE objsubid > 100",
        "SELECT count(*) FROM pg_catalog.pg_sequence",
        "INSERT INTO t VALUES (3, 'tab\there, \"quoted\"\nnewline \\ slash'), (4, NULL), (5, '')",
        "COPY t TO STDOUT",
        "COPY (SELECT id, name FROM t ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)",
        "COPY t (name, id) TO STDOUT WITH CSV",
        "COPY (SELECT name FROM t WHERE id > 2 ORDER BY id) TO STDOUT WITH (DELIMITER '|', NULL 'none')",
        "SELECT current_setting('statement_timeout') AS st, current_setting('nope_setting', true) IS NULL AS missing",
        "SELECT set_config('application_name', 'rivulet-test', false)",
        "SHOW application_name",
        "SELECT now() IS NOT NULL AS has_now, now() = now() AS stable, current_timestamp <= now() AS ordered",
        "SELECT current_setting('nope_setting')",
        "BEGIN",
        "DECLARE c CURSOR FOR SELECT id, name FROM t ORDER BY id",
        "FETCH 2 FROM c",
        "FETCH NEXT FROM c",
        "FETCH ALL IN c",
        "FETCH 1 FROM c",
        "DECLARE c CURSOR FOR SELECT 1",
        "ROLLBACK",
        "FETCH 1 FROM c",
        "DECLARE d CURSOR FOR SELECT 1",
        "DECLARE h NO SCROLL CURSOR WITH HOLD FOR SELECT id FROM t WHERE id > 1 ORDER BY id",
        "FETCH FORWARD 2 FROM h",
        "CLOSE h",
        "CLOSE h",
        "CLOSE ALL",
        "PREPARE q (int) AS SELECT name FROM t WHERE id = $1",
        "EXECUTE q (2)",
        "EXECUTE q (99)",
        "PREPARE q AS SELECT 1",
        "PREPARE ins AS INSERT INTO t VALUES ($1, $2)",
        "EXECUTE ins (10, 'ten')",
        "EXECUTE q (5 * 2)",
        "EXECUTE nope",
        "EXECUTE q",
        "DEALLOCATE q",
        "EXECUTE q (1)",
        // What pg_dump sets up with next.
        "SELECT pg_catalog.pg_is_in_recovery()",
        "SET synchronize_seqscans TO off",
        "SET row_security = off",
        "SET quote_all_identifiers = true",
        "SHOW synchronize_seqscans",
        "SELECT current_setting('row_security') AS rs, current_setting('quote_all_identifiers') AS q",
        "SET synchronize_seqscans TO maybe",
        // pg_dump's first query; last, as it empties the search path.
        "SELECT set_config('search_path', '', false)",
    ];
    let port: u16 = server.pg_addr.rsplit_once(':').unwrap().1.parse().unwrap();
    let pg = psql_transcript(oracle.port(), "postgres", "postgres", &steps).await;
    let rv = psql_transcript(port, "root", "dev", &steps).await;
    assert_same_transcript(&rv, &pg);
}

/// `COPY ... FROM STDIN` in text and CSV, run by psql from a script with
/// the data inline, against both servers: the same tags, rows, errors and
/// CONTEXT lines, and a failed copy stores nothing.
#[tokio::test]
async fn copy_from_stdin_answers_like_postgres() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let dir = TempDir::new("oracle-copy");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let script = r#"CREATE TABLE c (id int, name text, amount numeric, at timestamptz, doc jsonb);
COPY c FROM STDIN;
1	plain	1.50	2024-01-01 10:00:00+00	{"b": 1, "a": [true, null]}
2	tab\there	\N	\N	[1, 2]
3	back\\slash \101\x42	-0.0	2024-02-29T00:00:00Z	"s"
\.
COPY c (id, name) FROM STDIN WITH (FORMAT csv, HEADER);
id,name
4,"quoted, with ""quotes"""
5,
6,""
7,"multi
line"
\.
COPY c (name, id) FROM STDIN WITH (DELIMITER '|', NULL 'none');
pipe|8
none|9
\.
SELECT * FROM c ORDER BY id;
COPY c FROM STDIN;
10	ok	1	\N	\N
11	bad	notanumber	\N	\N
\.
COPY c FROM STDIN;
12	too	few
\.
COPY c FROM STDIN;
13	a	1	\N	\N	extra
\.
COPY c (id, nosuch) FROM STDIN;
\.
COPY c FROM STDIN WITH (FORMAT csv);
14,x,1,,"{""k"": 2}"
15,y,,2024-13-01,
\.
SELECT count(*), sum(amount), max(id) FROM c;
"#;
    let path = dir.0.join("copy.sql");
    std::fs::write(&path, script).unwrap();
    let args = format!(" -f {}", path.display());
    let port: u16 = server.pg_addr.rsplit_once(':').unwrap().1.parse().unwrap();
    let pg = psql(oracle.port(), "postgres", "postgres", &args).await;
    let rv = psql(port, "root", "dev", &args).await;
    assert_same_transcript(&rv, &pg);
    assert!(rv.contains("COPY 3"), "{rv}");
}

/// Subqueries in ad-hoc queries — correlated scalar, `EXISTS` and `NOT
/// EXISTS` (run for each outer row), nested ones, and uncorrelated ones —
/// answer what PostgreSQL answers, through the simple protocol and, with
/// parameters, the extended one.
#[tokio::test]
async fn subqueries_match_postgres() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let dir = TempDir::new("oracle-subqueries");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let rivulet = server.connect().await.unwrap();
    let setup = "
        CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR, team INT);
        CREATE TABLE orders (id INT PRIMARY KEY, uid INT, amount NUMERIC, status VARCHAR);
        INSERT INTO users VALUES (1, 'ann', 1), (2, 'bob', 1), (3, 'cy', 2), (4, NULL, NULL);
        INSERT INTO orders VALUES (10, 1, 12.50, 'paid'), (11, 1, 3, 'open'), (12, 2, 7.25, 'paid'),
            (13, 3, 100, 'refunded'), (14, NULL, 1, 'paid'), (15, 2, NULL, 'open');";
    oracle.client.batch_execute(setup).await.unwrap();
    rivulet.batch_execute(setup).await.unwrap();
    let queries = [
        "SELECT u.id, (SELECT sum(o.amount) FROM orders o WHERE o.uid = u.id) AS total FROM users u",
        "SELECT id, (SELECT count(*) FROM orders WHERE uid = users.id AND status = 'paid') FROM users",
        "SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.uid = u.id AND o.amount > 5)",
        "SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.uid = u.id)",
        "SELECT name, CASE WHEN EXISTS (SELECT 1 FROM orders WHERE uid = users.id AND status = 'open') THEN 'open' ELSE 'none' END FROM users",
        "SELECT u.id, (SELECT max(o.amount) FROM orders o WHERE o.uid = u.id AND o.amount < (SELECT avg(amount) FROM orders)) FROM users u",
        "SELECT u.id, (SELECT count(*) FROM users v WHERE v.team = u.team AND v.id <> u.id) AS teammates FROM users u",
        "SELECT o.id, (SELECT name FROM users WHERE users.id = o.uid) FROM orders o",
        "SELECT id FROM users WHERE id IN (SELECT uid FROM orders WHERE status = 'paid')",
        "SELECT id FROM users WHERE id NOT IN (SELECT uid FROM orders WHERE uid IS NOT NULL)",
        "SELECT u.id FROM users u WHERE u.team IN (SELECT o.amount FROM orders o WHERE o.uid = u.id)",
        "SELECT u.id, 12.50 IN (SELECT o.amount FROM orders o WHERE o.uid = u.id), 3 NOT IN (SELECT o.amount FROM orders o WHERE o.uid = u.id) FROM users u",
        "SELECT (SELECT max(amount) FROM orders), (SELECT name FROM users WHERE id = 3)",
        "SELECT team, count(*) FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.uid = u.id) GROUP BY team",
        // Correlated EXISTS as joins: more than one, with other conditions,
        // over a join, and under an aggregate.
        "SELECT u.id FROM users u WHERE u.team = 1 AND EXISTS (SELECT 1 FROM orders o WHERE o.uid = u.id AND o.status = 'paid') AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.uid = u.id AND o.amount IS NULL)",
        "SELECT u.id, o.id FROM users u JOIN orders o ON o.uid = u.id WHERE EXISTS (SELECT 1 FROM users v WHERE v.team = u.team AND v.id <> 4)",
        "SELECT count(*), sum(o.amount) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = o.uid AND u.name IS NOT NULL)",
        "SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.uid = u.id LIMIT 1)",
        // NULLS FIRST / LAST, against and with the direction's default.
        "SELECT id, team FROM users ORDER BY team NULLS FIRST, id",
        "SELECT id, team FROM users ORDER BY team DESC NULLS LAST, id",
        "SELECT id, team FROM users ORDER BY team ASC NULLS LAST, id DESC NULLS FIRST",
        "SELECT id, name FROM users ORDER BY 2 DESC NULLS FIRST LIMIT 2",
        "SELECT amount, id FROM orders ORDER BY amount NULLS FIRST, id LIMIT 3",
        "SELECT uid FROM orders UNION SELECT team FROM users ORDER BY 1 NULLS FIRST",
        "SELECT id, rank() OVER (ORDER BY amount DESC NULLS LAST) FROM orders ORDER BY id",
        "SELECT status, array_agg(amount ORDER BY amount) FROM orders GROUP BY status ORDER BY status",
        "SELECT uid, jsonb_agg(amount ORDER BY id), json_agg(status ORDER BY id DESC) FROM orders GROUP BY uid ORDER BY uid NULLS FIRST",
        "SELECT jsonb_agg(jsonb_build_object('id', id, 'amount', amount) ORDER BY id) FROM orders WHERE uid = 1",
        "SELECT jsonb_agg(id) FROM orders WHERE false",
        // string_agg (ORDER BY, NULL values and delimiter, no rows) and
        // array_agg/jsonb_agg with DISTINCT.
        "SELECT uid, string_agg(status, ',' ORDER BY id) FROM orders GROUP BY uid ORDER BY uid NULLS FIRST",
        "SELECT string_agg(status, NULL ORDER BY status DESC) FROM orders",
        "SELECT string_agg(DISTINCT status, '|' ORDER BY status) FROM orders",
        "SELECT string_agg(status, ', ') FROM orders WHERE false",
        "SELECT uid, string_agg(NULL::text, ',') FROM orders GROUP BY uid ORDER BY uid NULLS FIRST",
        "SELECT array_agg(DISTINCT status), array_agg(DISTINCT uid ORDER BY uid DESC) FROM orders",
        "SELECT uid, array_agg(DISTINCT amount) FROM orders GROUP BY uid ORDER BY uid NULLS FIRST",
        "SELECT jsonb_agg(DISTINCT status) FROM orders",
        "SELECT uid, jsonb_object_agg(status, amount) FROM orders WHERE uid IS NOT NULL GROUP BY uid ORDER BY uid",
        "SELECT jsonb_object_agg(id, name) FROM users WHERE id < 3",
        "SELECT jsonb_object_agg(id, amount) FROM orders WHERE false",
        // DISTINCT ON: the first row of each set, in ORDER BY order.
        "SELECT DISTINCT ON (uid) uid, id, amount FROM orders ORDER BY uid, amount DESC NULLS LAST, id",
        "SELECT DISTINCT ON (status) status, id FROM orders ORDER BY status, id DESC",
        "SELECT DISTINCT ON (1) status, id FROM orders ORDER BY 1, 2",
        "SELECT DISTINCT ON (s) status AS s, id FROM orders ORDER BY s, id LIMIT 2",
        "SELECT DISTINCT ON (u.team) u.team, o.amount FROM users u JOIN orders o ON o.uid = u.id ORDER BY u.team NULLS FIRST, o.amount",
        "SELECT count(*) FROM (SELECT DISTINCT ON (uid) * FROM orders) t",
        // VALUES as a query, in FROM, in IN and as a scalar.
        "VALUES (1, 'a'), (2, NULL), (3, 'c') ORDER BY 1 DESC",
        "SELECT o.id, m.label FROM orders o JOIN (VALUES ('paid', 'done'), ('open', 'todo')) AS m(s, label) ON m.s = o.status ORDER BY o.id",
        "SELECT * FROM (VALUES (1.5), (2), (NULL)) v ORDER BY 1",
        "SELECT id FROM users WHERE id IN (VALUES (1), (3)) ORDER BY id",
        "SELECT (VALUES ('x')), column1 FROM (VALUES (1)) t",
        "VALUES (1) UNION VALUES (1), (2) ORDER BY 1",
        // INTERSECT and EXCEPT, with ALL, and their precedence over UNION.
        "SELECT uid FROM orders INTERSECT SELECT id FROM users ORDER BY 1",
        "SELECT uid FROM orders INTERSECT ALL SELECT uid FROM orders WHERE status = 'paid' ORDER BY 1 NULLS FIRST",
        "SELECT id FROM users EXCEPT SELECT uid FROM orders ORDER BY 1",
        "SELECT uid FROM orders EXCEPT ALL SELECT uid FROM orders WHERE amount > 5 ORDER BY 1 NULLS FIRST",
        "SELECT team FROM users UNION SELECT 7 EXCEPT SELECT 1 ORDER BY 1 NULLS FIRST",
        "SELECT id FROM users UNION ALL SELECT id FROM users INTERSECT SELECT 2 ORDER BY 1",
        "SELECT status, amount FROM orders INTERSECT SELECT status, amount FROM orders WHERE uid = 1 ORDER BY 1, 2",
        // WITH RECURSIVE: computed round by round; UNION stops at cycles.
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT * FROM t",
        "WITH RECURSIVE t(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM t WHERE n < 3) SELECT sum(n) FROM t",
        "WITH RECURSIVE r AS (SELECT 1 AS a, 'x'::text AS s UNION SELECT (a % 3) + 1, s || 'y' FROM r WHERE length(s) < 4) SELECT * FROM r ORDER BY 1, 2",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION SELECT (x % 3) + 1 FROM c) SELECT * FROM c ORDER BY 1",
        "WITH RECURSIVE fib(a, b) AS (SELECT 0::bigint, 1::bigint UNION ALL SELECT b, a + b FROM fib WHERE b < 100) SELECT a FROM fib",
        "WITH RECURSIVE e AS (SELECT 1 AS n WHERE false UNION ALL SELECT n FROM e) SELECT count(*) FROM e",
        "WITH RECURSIVE w AS (SELECT 1 AS n), v AS (SELECT n FROM w UNION ALL SELECT n + 1 FROM v WHERE n < 2) SELECT * FROM v",
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SELECT a.n, b.n FROM t a JOIN t b ON b.n = a.n + 1 ORDER BY 1",
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SELECT n, (SELECT count(*) FROM t t2 WHERE t2.n <= t.n) FROM t ORDER BY 1",
        "WITH RECURSIVE t(n) AS (SELECT 1.5 UNION SELECT n + 1 FROM t WHERE n < 3) SELECT * FROM t",
        "WITH RECURSIVE chain AS (SELECT id, team FROM users WHERE id = 1 UNION SELECT u.id, u.team FROM users u JOIN chain c ON u.id = c.id + 1) SELECT * FROM chain ORDER BY id",
        // UNION is left-associative: the ALL after a plain UNION keeps
        // duplicates of its own branch only.
        "SELECT team FROM users UNION SELECT team FROM users UNION ALL SELECT team FROM users ORDER BY 1 NULLS FIRST",
        "SELECT team FROM users UNION ALL SELECT team FROM users UNION SELECT 9 ORDER BY 1 NULLS FIRST",
        "SELECT 1 UNION ALL SELECT 1 UNION SELECT 2 UNION ALL SELECT 2 UNION ALL SELECT 1 ORDER BY 1",
        // Set-returning functions in FROM, named as PostgreSQL names them.
        "SELECT * FROM jsonb_array_elements('[1, \"a\", null, {\"b\": [2]}]')",
        "SELECT * FROM jsonb_array_elements_text('[1, \"a\", null, {\"b\": [2]}]') AS t",
        "SELECT * FROM jsonb_object_keys('{\"b\": 1, \"aa\": 2, \"a\": 3}')",
        "SELECT * FROM jsonb_object_keys('{\"b\": 1}') AS k",
        "SELECT * FROM jsonb_each('{\"b\": 1, \"a\": [true]}') AS kv",
        "SELECT kv.key, kv.value FROM jsonb_each_text('{\"b\": 1, \"a\": \"x\", \"c\": null}') AS kv",
        "SELECT x.e FROM jsonb_array_elements('[1, 2]') AS x(e)",
        "SELECT item FROM jsonb_array_elements('[1, 2]') AS item",
        "SELECT * FROM jsonb_array_elements(NULL)",
        "SELECT u.id, e.value FROM users u, jsonb_array_elements(jsonb_build_object('a', u.id, 'b', u.name) -> 'a' || '[0]'::jsonb) AS e",
        "SELECT u.id, k FROM users u CROSS JOIN LATERAL jsonb_object_keys(jsonb_build_object('n', u.name, 't', u.team)) AS k WHERE u.id < 3",
        "SELECT u.id, e FROM users u LEFT JOIN LATERAL jsonb_array_elements(CASE WHEN u.id < 3 THEN '[1, 2]'::jsonb END) AS e ON true",
        // IS [NOT] DISTINCT FROM: NULL as a value.
        "SELECT id, team IS DISTINCT FROM 1, team IS NOT DISTINCT FROM NULL, name IS DISTINCT FROM 'ann', NULL IS DISTINCT FROM NULL FROM users",
        "SELECT o.id FROM orders o, users u WHERE o.uid IS NOT DISTINCT FROM u.team",
        // Arrays: constructors, subscripts, ANY/ALL, functions, text forms.
        "SELECT ARRAY[1, 2, 3], ARRAY['a', 'b c', NULL, '', 'null', 'x\"y', 'back\\slash'], ARRAY[]::int[], (ARRAY[10, 20, 30])[2], (ARRAY[1, 2])[5]",
        "SELECT ARRAY[1.50, 2]::numeric[], ARRAY[true, false], ARRAY[date '2024-01-31'], '{1, 2 ,3}'::int[], '{\"a b\",c,NULL,\"NULL\"}'::text[]",
        "SELECT 2 = ANY (ARRAY[1, 2]), 3 = ANY ('{1,2,NULL}'::int[]), 3 <> ALL (ARRAY[1, 2]), NULL::int = ANY (ARRAY[1]), 1 = ANY (ARRAY[]::int[])",
        "SELECT array_to_string(ARRAY[1, NULL, 3], ','), array_to_string(ARRAY[1, NULL, 3], '-', '*'), array_length(ARRAY[1, 2], 1), array_length(ARRAY[]::int[], 1), cardinality(ARRAY['a']), array_position(ARRAY['a', 'b', 'b'], 'b'), array_upper(ARRAY[4, 5], 1), array_lower(ARRAY[4, 5], 1)",
        "SELECT current_schemas(false)",
        "SELECT relname FROM pg_class WHERE oid = 'users'::regclass OR oid = 'public.orders'::regclass OR oid = 'pg_catalog.pg_class'::regclass",
        "SELECT 'int4'::regtype::oid::bigint, 'text[]'::regtype::oid::bigint, 'jsonb'::regtype::oid::bigint, 'double precision'::regtype::oid::bigint",
        "SELECT id, CASE WHEN id > 1 THEN NULL ELSE id END, coalesce(NULL, team), CASE WHEN id = 1 THEN NULL WHEN id = 2 THEN 2.5 ELSE id END FROM users",
        "SELECT * FROM unnest(ARRAY[3, NULL, 1]) AS n",
        "SELECT * FROM generate_series(1, 10, 3)",
        "SELECT g FROM generate_series(5, 1, -2) AS g",
        "SELECT generate_series(1, 3), 'x'",
        "SELECT * FROM generate_series(3000000000, 3000000002)",
        "SELECT * FROM generate_series('2024-02-28'::timestamptz, '2024-03-02'::timestamptz, '1 day')",
        "SELECT * FROM generate_series('2024-01-31 10:00'::timestamptz, '2024-06-01'::timestamptz, '1 month')",
        "SELECT u.id, s FROM users u, generate_series(1, u.id) AS s",
        "SELECT count(*), sum(s) FROM generate_series(1, 100000) AS s",
        "SELECT u.id, t FROM users u, unnest(ARRAY[u.name, 'x']) AS t",
        "SELECT unnest(ARRAY['a', 'b']) AS x, 1",
        // Several set-returning functions in a select list run in
        // lockstep, the shorter padded with NULLs.
        "SELECT unnest(ARRAY[20, 10]) AS a, generate_subscripts(ARRAY[20, 10], 1) AS o",
        "SELECT unnest(ARRAY[1, 2, 3]) AS a, unnest(ARRAY['x']) AS b, generate_series(1, 2) AS g",
        "SELECT generate_subscripts(ARRAY['a', 'b', 'c'], 1, true) AS s",
        "SELECT * FROM generate_subscripts(ARRAY[5, 6], 1) AS s",
        "SELECT generate_subscripts(ARRAY[5, 6], 2)",
        "SELECT u.id, unnest(ARRAY[u.id, u.id + 1]) AS n, unnest(ARRAY['a']) AS v FROM users u ORDER BY 1, 2",
        "SELECT u.id, ARRAY(SELECT o.id FROM orders o WHERE o.uid = u.id ORDER BY o.id) FROM users u",
        "SELECT ARRAY(SELECT name FROM users WHERE name IS NOT NULL ORDER BY name)",
        "SELECT team, array_agg(id ORDER BY id DESC), array_to_string(array_agg(name ORDER BY name), ',') FROM users GROUP BY team",
        "SELECT uid, array_agg(amount ORDER BY id) FROM orders GROUP BY uid",
        "SELECT id FROM users WHERE id = ANY (ARRAY(SELECT uid FROM orders WHERE status = 'paid'))",
        // ORDER BY inside an aggregate call (it changes nothing here).
        "SELECT uid, sum(amount ORDER BY id DESC), count(*) FROM orders GROUP BY uid",
        // ... and in the select list.
        "SELECT id, jsonb_object_keys(jsonb_build_object('n', name, 'team', team)) FROM users",
        "SELECT jsonb_array_elements('[{\"a\": 1}, {\"a\": 2}]') ->> 'a'",
        "SELECT DISTINCT jsonb_array_elements_text('[\"x\", \"y\", \"x\"]') AS v",
        "SELECT id, jsonb_array_elements(CASE WHEN id % 2 = 0 THEN '[1, 2]'::jsonb ELSE '[]'::jsonb END) FROM users WHERE id > 1",
        // Window functions, with PostgreSQL's default frames and NULL order.
        "SELECT id, row_number() OVER (ORDER BY id DESC), rank() OVER (PARTITION BY status ORDER BY amount), dense_rank() OVER (PARTITION BY status ORDER BY amount DESC) FROM orders",
        "SELECT id, sum(amount) OVER (PARTITION BY uid ORDER BY amount), count(*) OVER (PARTITION BY status), avg(amount) OVER (), min(amount) OVER (ORDER BY id), max(amount) OVER (PARTITION BY uid), count(amount) OVER (ORDER BY uid) FROM orders",
        "SELECT id, lag(amount) OVER (ORDER BY id), lead(amount, 2, -1) OVER (ORDER BY id), lag(status, -1) OVER (PARTITION BY uid ORDER BY id), first_value(amount) OVER (PARTITION BY uid ORDER BY id DESC), last_value(amount) OVER (PARTITION BY status ORDER BY amount) FROM orders",
        "SELECT *, row_number() OVER (PARTITION BY team ORDER BY name) AS rn FROM users",
        "SELECT u.name, o.amount, rank() OVER (PARTITION BY u.id ORDER BY o.amount DESC) FROM users u JOIN orders o ON o.uid = u.id",
        "SELECT id FROM orders ORDER BY row_number() OVER (ORDER BY amount DESC, id) LIMIT 3",
        "SELECT * FROM (SELECT id, uid, row_number() OVER (PARTITION BY uid ORDER BY amount DESC) AS n FROM orders) t WHERE n = 1",
        "SELECT bool_and(amount > 5) OVER (PARTITION BY uid), sum(amount) OVER (PARTITION BY uid) / sum(amount) OVER () FROM orders",
    ];
    let mut failures = Vec::new();
    for sql in queries {
        // Rows in the query's order where it has a final ORDER BY.
        let ordered = sql.rfind("ORDER BY") > sql.rfind(')');
        failures.extend(differs(&oracle.client, &rivulet, sql, !ordered).await);
    }
    // The extended protocol plans subqueries at Parse to describe the
    // result, and runs them at Execute with the parameters' values.
    let with_params = "SELECT u.id, (SELECT count(*) FROM orders o WHERE o.uid = u.id AND o.amount > $1::int) AS n \
                       FROM users u WHERE u.id >= $2 ORDER BY u.id";
    let text = |rs: Vec<tokio_postgres::Row>| -> Vec<(i32, i64)> {
        rs.iter().map(|r| (r.get(0), r.get(1))).collect()
    };
    let amount = 5i32;
    let expected = text(
        oracle
            .client
            .query(with_params, &[&amount, &2i32])
            .await
            .unwrap(),
    );
    let got = text(rivulet.query(with_params, &[&amount, &2i32]).await.unwrap());
    if got != expected {
        failures.push(format!(
            "{with_params}\n  postgres: {expected:?}\n  rivulet:  {got:?}"
        ));
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Grafana's PostgreSQL data source expands its macros into SQL before it
/// sends a query (pkg/tsdb/grafana-postgresql-datasource/macros.go): the
/// same dashboard queries, expanded the same way for a fixed time range,
/// answer what PostgreSQL answers.
#[tokio::test]
async fn grafana_macro_queries_match_postgres() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let dir = TempDir::new("oracle-grafana");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let rivulet = server.connect().await.unwrap();
    let mut setup = String::from(
        "CREATE TABLE ev (id INT PRIMARY KEY, ts TIMESTAMPTZ, epoch BIGINT, amount NUMERIC, kind TEXT);\n",
    );
    for i in 0..200 {
        let secs = 1_795_000_000 + i * 97;
        setup.push_str(&format!(
            "INSERT INTO ev VALUES ({i}, to_timestamp({secs}), {secs}, {}.{:02}, '{}');\n",
            i % 17,
            (i * 7) % 100,
            ["signup", "order", "refund"][i as usize % 3]
        ));
    }
    oracle.client.batch_execute(&setup).await.unwrap();
    rivulet.batch_execute(&setup).await.unwrap();
    let from = 1_795_003_000_i64;
    let to = 1_795_015_000_i64;
    let queries = [
        "SELECT $__timeGroupAlias(ts, '5m'), count(*) AS value FROM ev WHERE $__timeFilter(ts) GROUP BY 1 ORDER BY 1",
        "SELECT $__timeGroup(ts, '1h') AS time, kind AS metric, sum(amount) FROM ev WHERE $__timeFilter(ts) GROUP BY 1, 2 ORDER BY 1, 2",
        "SELECT $__timeGroupAlias(ts, 30s), avg(amount) FROM ev GROUP BY 1 ORDER BY 1",
        "SELECT $__time(ts), amount AS value FROM ev WHERE $__timeFilter(ts) ORDER BY 1",
        "SELECT $__timeEpoch(ts), amount FROM ev WHERE kind = 'order' ORDER BY 1",
        "SELECT $__unixEpochGroupAlias(epoch, '10m'), count(*) FROM ev WHERE $__unixEpochFilter(epoch) GROUP BY 1 ORDER BY 1",
        "SELECT count(*), min(ts), max(ts) FROM ev WHERE ts >= $__timeFrom() AND ts < $__timeTo()",
        "SELECT kind, count(*) FROM ev WHERE ts > $__timeTo()::timestamptz - interval '1 hour' GROUP BY kind ORDER BY kind",
    ];
    let mut failures = Vec::new();
    for q in queries {
        let sql = grafana_expand(q, from, to);
        failures.extend(differs(&oracle.client, &rivulet, &sql, false).await);
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Grafana's macro expansion for a time range of Unix seconds, following
/// its documented rules: `$__timeGroup(col, 'interval')` floors
/// `extract(epoch from col)` to the interval (with `AS "time"` in its
/// Alias form), `$__timeFilter(col)` is a BETWEEN of RFC 3339 times, and
/// the epoch forms work on a column of Unix seconds.
fn grafana_expand(sql: &str, from: i64, to: i64) -> String {
    let rfc3339 = |secs: i64| {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // Civil date from days since 1970-01-01 (Howard Hinnant's method).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    };
    let seconds = |interval: &str| -> i64 {
        let t = interval.trim().trim_matches('\'');
        let (n, unit) = t.split_at(t.len() - 1);
        let n: i64 = n.parse().unwrap();
        n * match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            _ => 86_400,
        }
    };
    let mut out = String::new();
    let mut rest = sql;
    while let Some(at) = rest.find("$__") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 3..];
        let open = tail.find('(').unwrap();
        let close = tail.find(')').unwrap();
        let name = &tail[..open];
        let args: Vec<&str> = tail[open + 1..close].split(',').map(str::trim).collect();
        let group = |col: &str, iv: &str| {
            let s = seconds(iv);
            format!("floor(extract(epoch from {col})/{s})*{s}")
        };
        out.push_str(&match name {
            "time" => format!("{} AS \"time\"", args[0]),
            "timeEpoch" => format!("extract(epoch from {}) as \"time\"", args[0]),
            "timeFilter" => format!(
                "{} BETWEEN '{}' AND '{}'",
                args[0],
                rfc3339(from),
                rfc3339(to)
            ),
            "timeFrom" => format!("'{}'", rfc3339(from)),
            "timeTo" => format!("'{}'", rfc3339(to)),
            "timeGroup" => group(args[0], args[1]),
            "timeGroupAlias" => format!("{} AS \"time\"", group(args[0], args[1])),
            "unixEpochFilter" => format!("{0} >= {from} AND {0} <= {to}", args[0]),
            "unixEpochGroupAlias" => {
                let s = seconds(args[1]);
                format!("floor(({})/{s})*{s} AS \"time\"", args[0])
            }
            other => panic!("macro {other} is not expanded here"),
        });
        rest = &tail[close + 1..];
    }
    out.push_str(rest);
    out
}

/// UPDATE and JOIN ... USING, statement by statement beside PostgreSQL:
/// each UPDATE's count, the table after it, a view over it (refreshed in
/// PostgreSQL, always current in Rivulet), and USING joins' columns.
#[tokio::test]
async fn update_and_join_using_match_postgres() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let dir = TempDir::new("oracle-update");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let rivulet = server.connect().await.unwrap();
    // `events` has no primary key: its rows are stored in packs, and 100
    // rows span several.
    let setup = "
        CREATE TABLE accounts (id INT PRIMARY KEY, owner VARCHAR, balance NUMERIC, doc JSONB);
        CREATE TABLE events (n INT, kind VARCHAR, doc JSONB);
        INSERT INTO accounts VALUES (1, 'ann', 10, '{\"tier\": 1}'), (2, 'bob', 20.5, NULL), (3, 'cy', NULL, '{}');
        INSERT INTO events SELECT g, CASE WHEN g % 3 = 0 THEN 'a' ELSE 'b' END, NULL FROM generate_series(1, 100) AS g;
        CREATE MATERIALIZED VIEW by_kind AS SELECT kind, count(*) AS n, sum(n) AS total FROM events GROUP BY kind;
        CREATE MATERIALIZED VIEW rich AS SELECT id, owner FROM accounts WHERE balance > 15;";
    oracle.client.batch_execute(setup).await.unwrap();
    rivulet.batch_execute(setup).await.unwrap();
    let updates = [
        "UPDATE accounts SET balance = balance + 5 WHERE id = 1",
        "UPDATE accounts SET owner = upper(owner), doc = jsonb_build_object('was', balance) WHERE balance IS NOT NULL",
        "UPDATE accounts SET (owner, balance) = ('zed', 99) WHERE id = 3",
        "UPDATE accounts SET balance = NULL WHERE id = 42",
        "UPDATE accounts SET balance = balance WHERE id = 2",
        "UPDATE events SET kind = 'c' WHERE n % 10 = 0",
        "UPDATE events SET n = n * 2, doc = '{\"k\": true}' WHERE kind = 'a'",
        "UPDATE events SET kind = 'd'",
    ];
    let reads = [
        "SELECT * FROM accounts",
        "SELECT * FROM rich",
        "SELECT * FROM events",
        "SELECT * FROM by_kind",
    ];
    let mut failures = Vec::new();
    for u in updates {
        let expected = oracle.client.execute(u, &[]).await.unwrap();
        match rivulet.execute(u, &[]).await {
            Ok(got) if got == expected => {}
            Ok(got) => failures.push(format!("{u}: postgres {expected} rows, rivulet {got}")),
            Err(e) => failures.push(format!("{u}: rivulet error {e}")),
        }
        oracle
            .client
            .batch_execute("REFRESH MATERIALIZED VIEW by_kind; REFRESH MATERIALIZED VIEW rich")
            .await
            .unwrap();
        for r in reads {
            failures.extend(
                differs(&oracle.client, &rivulet, r, true)
                    .await
                    .map(|d| format!("after {u}: {d}")),
            );
        }
    }
    // With parameters, through the extended protocol.
    let with_params = "UPDATE accounts SET owner = $1 WHERE id = $2";
    for c in [&oracle.client, &rivulet] {
        let n = c
            .execute(with_params, &[&"bobby", &2i32])
            .await
            .unwrap_or_else(|e| panic!("{with_params}: {e}"));
        assert_eq!(n, 1);
    }
    failures.extend(differs(&oracle.client, &rivulet, "SELECT * FROM accounts", true).await);
    let joins = [
        "SELECT * FROM accounts a JOIN accounts b USING (id)",
        "SELECT * FROM (SELECT 1 AS k, 'x' AS v) l LEFT JOIN (SELECT 1 AS k, 2 AS w UNION ALL SELECT 3, 4) r USING (k)",
        "SELECT k, l.k, r.k, w FROM (SELECT 2 AS k) l LEFT JOIN (SELECT 1 AS k, 2 AS w) r USING (k)",
        "SELECT * FROM (SELECT 1 AS a, 2 AS b, 3 AS c) x JOIN (SELECT 3 AS c, 1 AS a, 9 AS d) y USING (a, c)",
        "SELECT r.* FROM (SELECT 1 AS k) l JOIN (SELECT 1 AS k, 5 AS w) r USING (k)",
        "SELECT * FROM (SELECT 1::bigint AS k) l JOIN (SELECT 1 AS k) r USING (k)",
        "SELECT count(*) FROM events JOIN events e2 USING (n)",
    ];
    for sql in joins {
        failures.extend(differs(&oracle.client, &rivulet, sql, true).await);
    }
    // Errors: the same SQLSTATEs.
    let errors = [
        "SELECT * FROM accounts a JOIN events e USING (nope)",
        "SELECT * FROM (SELECT 1 AS k, 2 AS k) l JOIN (SELECT 1 AS k) r USING (k)",
        "SELECT * FROM (SELECT 1 AS k) l JOIN (SELECT 'x'::text AS k) r USING (k)",
        "UPDATE accounts SET nope = 1",
        "UPDATE accounts SET owner = 'a', owner = 'b'",
        "UPDATE accounts SET (owner, balance) = ('a', 1, 2)",
        "UPDATE missing SET x = 1",
        "UPDATE rich SET owner = 'x'",
        "UPDATE accounts SET balance = 'abc'",
        "UPDATE accounts SET balance = 1 / 0",
        "SELECT id FROM accounts WHERE row_number() OVER () > 1",
        "SELECT lower(owner) OVER () FROM accounts",
        "SELECT count(DISTINCT id) OVER () FROM accounts",
        "SELECT row_number(1) OVER () FROM accounts",
    ];
    for sql in errors {
        failures.extend(same_error(&oracle.client, &rivulet, sql, sql).await);
    }
    // Windows are for queries: a view refuses them.
    let e = rivulet
        .batch_execute("CREATE MATERIALIZED VIEW ranked AS SELECT id, rank() OVER (ORDER BY balance) FROM accounts")
        .await
        .unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("0A000"), "{e:?}");
    // Rivulet, as RisingWave, never changes a row's key.
    let e = rivulet
        .batch_execute("UPDATE accounts SET id = 9 WHERE id = 1")
        .await
        .unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("0A000"), "{e:?}");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `[NOT] EXISTS` and `[NOT] IN` subqueries in materialized views: each
/// view, maintained through inserts, deletes and updates on both of its
/// sides, equals PostgreSQL's plain view of the same SELECT after every
/// step, and again after `kill -9` and a restart. `NOT IN` flips every row
/// when its subquery becomes empty or gains a NULL.
#[tokio::test]
async fn subqueries_in_views_match_postgres() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let dir = TempDir::new("oracle-semijoin");
    let mut server = Server::start(&dir.0, &[]).await.unwrap();
    let mut rivulet = server.connect().await.unwrap();
    let tables = "
        CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR, plan VARCHAR);
        CREATE TABLE orders (id INT PRIMARY KEY, user_id INT, amount INT);
        CREATE TABLE blocked (id INT PRIMARY KEY, uid INT);";
    let views = [
        ("buyers", "SELECT id, name FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.amount > 10)"),
        ("idle", "SELECT id, name FROM users u WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE u.id = o.user_id)"),
        ("in_orders", "SELECT id, name FROM users WHERE id IN (SELECT user_id FROM orders)"),
        ("not_blocked", "SELECT id, name FROM users WHERE id NOT IN (SELECT uid FROM blocked)"),
        ("plans", "SELECT plan, count(*) AS n FROM users u WHERE plan IS NOT NULL AND EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id) GROUP BY plan"),
        ("any_blocked", "SELECT id FROM orders WHERE EXISTS (SELECT 1 FROM blocked LIMIT 1)"),
        ("pro_unblocked", "SELECT o.id, o.amount FROM orders o WHERE o.user_id IN (SELECT id FROM users WHERE plan = 'pro') AND NOT EXISTS (SELECT 1 FROM blocked b WHERE b.uid = o.user_id)"),
        ("wide_key", "SELECT id FROM orders WHERE amount::bigint IN (SELECT id::bigint * 10 FROM users)"),
    ];
    oracle.client.batch_execute(tables).await.unwrap();
    rivulet.batch_execute(tables).await.unwrap();
    for (name, sql) in views {
        oracle
            .client
            .batch_execute(&format!("CREATE VIEW {name} AS {sql}"))
            .await
            .unwrap();
        rivulet
            .batch_execute(&format!("CREATE MATERIALIZED VIEW {name} AS {sql}"))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
    let steps = [
        "INSERT INTO users VALUES (1, 'ann', 'pro'), (2, 'bob', 'free'), (3, 'cy', NULL), (4, NULL, 'pro')",
        "INSERT INTO orders VALUES (10, 1, 5), (11, 1, 50), (12, 2, 7), (13, NULL, 100)",
        "INSERT INTO blocked VALUES (1, 2)",
        "DELETE FROM orders WHERE id = 11",
        "INSERT INTO orders VALUES (14, 3, 99), (15, 4, 40)",
        "UPDATE users SET plan = 'pro' WHERE id = 2",
        "UPDATE orders SET user_id = 4 WHERE id = 10",
        // A NULL in NOT IN's subquery: no user passes; gone again: all do.
        "INSERT INTO blocked VALUES (2, NULL)",
        "DELETE FROM blocked WHERE id = 2",
        // An empty subquery: NOT IN keeps every row, even a NULL key.
        "DELETE FROM blocked",
        "INSERT INTO users VALUES (5, 'dee', 'pro')",
        "INSERT INTO blocked VALUES (3, 5), (4, 5)",
        "DELETE FROM blocked WHERE id = 3",
        "UPDATE blocked SET uid = 1 WHERE id = 4",
        "DELETE FROM users WHERE id = 1",
        "DELETE FROM orders",
    ];
    let mut failures = Vec::new();
    for step in steps {
        oracle.client.batch_execute(step).await.unwrap();
        rivulet
            .batch_execute(step)
            .await
            .unwrap_or_else(|e| panic!("{step}: {e:?}"));
        for (name, _) in views {
            failures.extend(
                differs(
                    &oracle.client,
                    &rivulet,
                    &format!("SELECT * FROM {name}"),
                    true,
                )
                .await
                .map(|d| format!("after {step}: {d}")),
            );
        }
        if step.starts_with("UPDATE orders") {
            // The views' state is durable with every answer.
            server.kill9().await.unwrap();
            server = server.restart().await.unwrap();
            rivulet = server.connect().await.unwrap();
        }
    }
    rivulet
        .batch_execute("INSERT INTO orders VALUES (20, 2, 30), (21, 5, 50)")
        .await
        .unwrap();
    oracle
        .client
        .batch_execute("INSERT INTO orders VALUES (20, 2, 30), (21, 5, 50)")
        .await
        .unwrap();
    for (name, _) in views {
        failures.extend(
            differs(
                &oracle.client,
                &rivulet,
                &format!("SELECT * FROM {name}"),
                true,
            )
            .await,
        );
    }
    // What a view cannot maintain is refused with 0A000, not computed once.
    for sql in [
        "SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id > u.id)",
        "SELECT id FROM users u WHERE id IN (SELECT user_id FROM orders o WHERE o.amount = u.id)",
        "SELECT id FROM users u WHERE EXISTS (SELECT count(*) FROM orders o WHERE o.user_id = u.id)",
        "SELECT id FROM users WHERE id IN (SELECT user_id FROM orders LIMIT 2)",
        "SELECT id, (SELECT max(amount) FROM orders) FROM users",
    ] {
        let e = rivulet
            .batch_execute(&format!("CREATE MATERIALIZED VIEW refused AS {sql}"))
            .await
            .unwrap_err();
        assert_eq!(e.code().map(|c| c.code()), Some("0A000"), "{sql}: {e:?}");
    }
    // Errors inside the subquery keep their SQLSTATEs.
    for sql in [
        "SELECT id FROM users WHERE id IN (SELECT nope FROM orders)",
        "SELECT id FROM users WHERE id IN (SELECT id, user_id FROM orders)",
        "SELECT id FROM users WHERE name IN (SELECT id FROM orders)",
        "SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM missing m WHERE m.x = u.id)",
    ] {
        let as_view = format!("CREATE MATERIALIZED VIEW refused AS {sql}");
        failures.extend(same_error(&oracle.client, &rivulet, sql, &as_view).await);
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `INSERT INTO t [(columns)] SELECT ...`: the same counts, rows and view
/// contents as PostgreSQL, PostgreSQL's assignment conversions and errors,
/// and all or nothing when a row fails.
#[tokio::test]
async fn insert_select_matches_postgres() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let dir = TempDir::new("oracle-insert-select");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let rivulet = server.connect().await.unwrap();
    let setup = "
        CREATE TABLE src (id INT PRIMARY KEY, name VARCHAR, amount NUMERIC, doc JSONB);
        CREATE TABLE dst (id BIGINT PRIMARY KEY, label VARCHAR, n INT, doc JSONB);
        CREATE TABLE log (line VARCHAR, at INT);
        INSERT INTO src VALUES (1, 'ann', 12.5, '{\"k\": 1}'), (2, 'bob', NULL, NULL), (3, NULL, 7, '[]');";
    oracle.client.batch_execute(setup).await.unwrap();
    rivulet.batch_execute(setup).await.unwrap();
    let view = "CREATE MATERIALIZED VIEW totals AS SELECT count(*) AS rows, sum(n) AS n FROM dst";
    oracle
        .client
        .batch_execute(&view.replace("MATERIALIZED ", ""))
        .await
        .unwrap();
    rivulet.batch_execute(view).await.unwrap();
    let statements = [
        "INSERT INTO dst SELECT id, name, amount, doc FROM src",
        "INSERT INTO dst (id, n) SELECT g + 10, g * 2 FROM generate_series(1, 50) AS g",
        "INSERT INTO dst (label, id) SELECT 'x' || id, id + 100 FROM src WHERE amount IS NOT NULL",
        "INSERT INTO log SELECT name, id FROM src ORDER BY id LIMIT 2",
        "INSERT INTO log (at) SELECT count(*) FROM dst",
        "INSERT INTO log SELECT id, id FROM src WHERE false",
        "INSERT INTO log SELECT 'j', (doc->>'k')::int FROM src WHERE doc ? 'k'",
        "INSERT INTO dst (id, doc) SELECT 500 + id, jsonb_build_object('name', name) FROM src",
        "INSERT INTO log WITH w AS (SELECT 'with' AS l) SELECT l, 1 FROM w",
        "INSERT INTO dst SELECT id + 2000 FROM src",
        "INSERT INTO log VALUES ('short')",
        "INSERT INTO dst (id, doc, n) SELECT 3000, '{\"a\": [1]}', NULL",
    ];
    let mut failures = Vec::new();
    for s in statements {
        let expected = oracle.client.execute(s, &[]).await.unwrap();
        match rivulet.execute(s, &[]).await {
            Ok(got) if got == expected => {}
            Ok(got) => failures.push(format!("{s}: postgres {expected} rows, rivulet {got}")),
            Err(e) => failures.push(format!("{s}: rivulet error {e:?}")),
        }
    }
    for r in [
        "SELECT * FROM dst",
        "SELECT * FROM log",
        "SELECT * FROM totals",
    ] {
        failures.extend(differs(&oracle.client, &rivulet, r, true).await);
    }
    // With a parameter, through the extended protocol.
    let with_param = "INSERT INTO log SELECT name, id FROM src WHERE id = $1";
    for c in [&oracle.client, &rivulet] {
        assert_eq!(c.execute(with_param, &[&3i32]).await.unwrap(), 1);
    }
    failures.extend(differs(&oracle.client, &rivulet, "SELECT * FROM log", true).await);
    // Errors: the same SQLSTATEs, and nothing inserted.
    for s in [
        "INSERT INTO dst (id, doc) SELECT id, name FROM src",
        "INSERT INTO dst (id, n) SELECT id FROM src",
        "INSERT INTO log SELECT 'a', 1, 2",
        "INSERT INTO log (nope) SELECT 1",
        "INSERT INTO missing SELECT 1",
        "INSERT INTO dst (id, n) SELECT id + 900, 10 / (id - 2) FROM src",
        "INSERT INTO dst (id, n) SELECT 1000, 'x'::int",
    ] {
        failures.extend(same_error(&oracle.client, &rivulet, s, s).await);
    }
    failures.extend(differs(&oracle.client, &rivulet, "SELECT count(*) FROM dst", true).await);
    // TRUNCATE empties tables and their views; unknown names and views
    // are refused before anything is emptied.
    for s in ["TRUNCATE missing, log", "TRUNCATE TABLE totals"] {
        failures.extend(same_error(&oracle.client, &rivulet, s, s).await);
    }
    for s in ["TRUNCATE log", "TRUNCATE TABLE dst, log RESTART IDENTITY"] {
        oracle.client.batch_execute(s).await.unwrap();
        rivulet.batch_execute(s).await.unwrap();
        for r in [
            "SELECT * FROM dst",
            "SELECT * FROM log",
            "SELECT * FROM totals",
        ] {
            failures.extend(
                differs(&oracle.client, &rivulet, r, true)
                    .await
                    .map(|d| format!("after {s}: {d}")),
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `CREATE VIEW` / `DROP VIEW`: a psql session over views (on tables, on
/// views, with column names, read inside subqueries) prints what
/// PostgreSQL prints — rows, catalogs, dependency errors and their
/// details, cascade notices, hints. A materialized view over a view is
/// maintained through it, and both survive `kill -9`.
#[tokio::test]
async fn views_match_postgres() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let dir = TempDir::new("oracle-views");
    let mut server = Server::start(&dir.0, &[]).await.unwrap();
    let steps = [
        "CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR, plan VARCHAR)",
        "CREATE TABLE orders (id INT PRIMARY KEY, uid INT, amount NUMERIC)",
        "INSERT INTO users VALUES (1, 'ann', 'pro'), (2, 'bob', 'free'), (3, 'cy', NULL)",
        "INSERT INTO orders VALUES (10, 1, 5), (11, 1, 7.5), (12, 2, 3)",
        "CREATE VIEW pro_users AS SELECT id, name FROM users WHERE plan = 'pro'",
        "CREATE VIEW spend (user_id, total) AS SELECT uid, sum(amount) FROM orders GROUP BY uid",
        "CREATE VIEW pro_spend AS SELECT p.name, s.total FROM pro_users p JOIN spend s ON s.user_id = p.id",
        "SELECT * FROM pro_users ORDER BY id",
        "SELECT * FROM spend ORDER BY user_id",
        "SELECT * FROM pro_spend",
        "SELECT u.name, (SELECT total FROM spend WHERE user_id = u.id) FROM users u ORDER BY 1",
        "SELECT name FROM users WHERE id IN (SELECT id FROM pro_users)",
        "INSERT INTO orders VALUES (13, 1, 1)",
        "SELECT * FROM pro_spend",
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
        "SELECT viewname FROM pg_views WHERE schemaname = 'public' ORDER BY 1",
        "SELECT relname, relkind FROM pg_class WHERE relname LIKE '%spend%' ORDER BY 1",
        "DROP TABLE orders",
        "DROP VIEW spend",
        "DROP VIEW IF EXISTS nope",
        "DROP TABLE pro_users",
        "DROP VIEW spend CASCADE",
        "DROP VIEW pro_users, pro_users",
        "SELECT viewname FROM pg_views WHERE schemaname = 'public' ORDER BY 1",
        "CREATE VIEW bad (a, b, c) AS SELECT 1, 2",
        "CREATE VIEW users AS SELECT 1",
    ];
    let port: u16 = server.pg_addr.rsplit_once(':').unwrap().1.parse().unwrap();
    let pg = psql_transcript(oracle.port(), "postgres", "postgres", &steps).await;
    let rv = psql_transcript(port, "root", "dev", &steps).await;
    assert_same_transcript(&rv, &pg);

    // A materialized view reads a view's query: maintained, and kept.
    // (IF NOT EXISTS is RisingWave's, not PostgreSQL's.)
    let c = server.connect().await.unwrap();
    c.batch_execute("CREATE VIEW IF NOT EXISTS users AS SELECT 1")
        .await
        .unwrap();
    c.batch_execute(
        "CREATE VIEW paid AS SELECT id, uid, amount FROM orders WHERE amount > 4;
         CREATE MATERIALIZED VIEW paid_by_user AS SELECT uid, count(*) AS n, sum(amount) AS s FROM paid GROUP BY uid;
         INSERT INTO orders VALUES (20, 2, 50), (21, 2, 1);",
    )
    .await
    .unwrap();
    let read = |c: tokio_postgres::Client| async move {
        rivulet_tests::rows(&c, "SELECT * FROM paid_by_user ORDER BY uid")
            .await
            .unwrap()
    };
    let before = read(c).await;
    server.kill9().await.unwrap();
    server = server.restart().await.unwrap();
    let c = server.connect().await.unwrap();
    assert_eq!(
        rivulet_tests::rows(&c, "SELECT count(*) FROM paid")
            .await
            .unwrap(),
        [[Some("3".to_string())]]
    );
    c.batch_execute("DELETE FROM orders WHERE id = 10")
        .await
        .unwrap();
    let after = read(c).await;
    assert_eq!(
        before,
        [
            [Some("1".into()), Some("2".into()), Some("12.5".into())],
            [Some("2".into()), Some("1".into()), Some("50".into())]
        ]
    );
    assert_eq!(
        after,
        [
            [Some("1".into()), Some("1".into()), Some("7.5".into())],
            [Some("2".into()), Some("1".into()), Some("50".into())]
        ]
    );
    let c = server.connect().await.unwrap();
    let e = c.batch_execute("DROP VIEW paid").await.unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("2BP01"), "{e:?}");
}

/// Primary keys as clients reflect them: `PRIMARY KEY (b, a)` keeps its
/// order, `pg_constraint` and `pg_index` hold the key (with `indkey`
/// read through `unnest` and `generate_subscripts`, as SQLAlchemy
/// reads it), `pg_get_constraintdef`/`pg_get_indexdef` print it, and
/// psql's `\d` lists it under "Indexes" (bad definitions are in
/// `errors_match_postgres`). Columns declared `varchar` show as
/// `character varying`, with their length. The order survives a restart, since the key's order is
/// the order rows are stored in.
#[tokio::test]
async fn primary_keys_match_postgres() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let dir = TempDir::new("oracle-pkey");
    let mut server = Server::start(&dir.0, &[]).await.unwrap();
    let steps = [
        "CREATE TABLE pk2 (a INT, b TEXT, c JSONB, PRIMARY KEY (b, a))",
        "CREATE TABLE pk1 (id BIGINT PRIMARY KEY, \"Name\" TEXT)",
        "CREATE TABLE nokey (x INT, name VARCHAR, code VARCHAR(8), c CHARACTER VARYING, t TEXT)",
        "\\d nokey",
        "SELECT column_name, data_type, udt_name FROM information_schema.columns WHERE table_name = 'nokey' ORDER BY ordinal_position",
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), format_type(a.atttypid, NULL), t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = 'nokey'::regclass AND a.attnum > 0 ORDER BY a.attnum",
        "INSERT INTO pk2 VALUES (1, 'y', '{}'), (2, 'x', '{}'), (1, 'x', NULL)",
        "SELECT a, b FROM pk2 ORDER BY b, a",
        "\\d pk2",
        "\\d pk1",
        "\\d pk2_pkey",
        "SELECT r.relname, c.conname, c.contype, c.conkey, pg_get_constraintdef(c.oid), pg_get_constraintdef(c.oid, true) FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid WHERE r.relname LIKE 'pk%' OR r.relname = 'nokey' ORDER BY 1",
        "SELECT c.relname, c.relkind, c.relnatts, i.indnatts, i.indisprimary, i.indisunique, pg_get_indexdef(i.indexrelid), pg_get_indexdef(i.indexrelid, 2, true), pg_get_indexdef(i.indexrelid, 3, true) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname LIKE 'pk%' ORDER BY 1",
        "SELECT relname, relhasindex FROM pg_class WHERE relname IN ('pk1', 'pk2', 'nokey', 'pk1_pkey', 'pk2_pkey') ORDER BY 1",
        "SELECT k.conname, array_agg(a.attname::text ORDER BY k.ord) FROM (SELECT c.conname, c.conrelid, unnest(i.indkey) AS attnum, generate_subscripts(i.indkey, 1) AS ord FROM pg_constraint c JOIN pg_index i ON i.indexrelid = c.conindid WHERE c.contype = 'p' AND c.conname LIKE 'pk%') k JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.attnum GROUP BY k.conname ORDER BY 1",
        "SELECT pg_get_indexdef(0), pg_get_constraintdef(0)",
        "DROP TABLE pk1",
        "SELECT conname FROM pg_constraint WHERE conname LIKE 'pk%'",
    ];
    assert_same_psql(&oracle, &server, &steps).await;

    server.kill9().await.unwrap();
    server = server.restart().await.unwrap();
    let again = [
        "SELECT a, b FROM pk2 ORDER BY 2, 1",
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'pk2_pkey'",
        "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'pk2'::regclass",
    ];
    assert_same_psql(&oracle, &server, &again).await;
}

/// The OID types: catalog OID columns typed `oid`; `regclass`, `regtype`
/// and `regnamespace` printed as names and compared as OIDs, cast from
/// text, numbers and OIDs; the column names casts give; bitwise
/// operators; `information_schema._pg_expandarray`'s records and `(r).f`
/// field selection (pgJDBC's key queries); and a comma-joined catalog
/// query planned on its keys (the WHERE conditions moved into the joins).
#[tokio::test]
async fn oid_types_match_postgres() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let dir = TempDir::new("oracle-oid");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let steps = [
        "CREATE TABLE ot (a INT, b TEXT, c INT, PRIMARY KEY (c, a))",
        "CREATE VIEW otv AS SELECT b, count(*) AS n FROM ot GROUP BY b",
        "SELECT 'ot'::regclass, 'ot'::regclass::oid = (SELECT oid FROM pg_class WHERE relname = 'ot') AS same, 'pg_class'::regclass, 'pg_class'::regclass::oid, 'information_schema.tables'::regclass, 'ot_pkey'::regclass::text",
        "SELECT 26::regtype, 'int4'::regtype, 'varchar'::regtype, 'text[]'::regtype, 'public'::regnamespace, 11::regnamespace, 2200::regnamespace::oid, to_regtype('bigint'), to_regtype('nope') IS NULL AS none",
        "SELECT c.oid::regclass, c.relkind FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace ORDER BY c.relname",
        "SELECT a.attrelid::regclass, a.attname, a.atttypid::regtype, a.atttypid FROM pg_attribute a WHERE a.attrelid = 'otv'::regclass AND a.attnum > 0 ORDER BY a.attnum",
        "SELECT indexrelid::regclass, indrelid::regclass, indkey, indkey[0], indkey[1] FROM pg_index WHERE indrelid = 'ot'::regclass",
        "SELECT pg_typeof(oid), pg_typeof('ot'::regclass), pg_typeof(relnamespace), pg_typeof(relname::regclass) FROM pg_class WHERE relname = 'ot'",
        "SELECT '-1'::oid, (-1)::oid, 4294967295::oid, 1259::oid = 'pg_class'::regclass AS eq, 'pg_class'::regclass = 1259 AS eq2, 'ot'::regclass > 16383 AS user_oid",
        "SELECT obj_description('ot'::regclass, 'pg_class') IS NULL AS none, pg_get_indexdef('ot_pkey'::regclass)",
        "SELECT 5 & 3, 5 | 3, 5 # 3, 1 << 33, -16 >> 2, 5::int8 & 3, 1::int8 << 40, 6 & 3 | 8",
        "SELECT k, (k).x, (k).n FROM (SELECT information_schema._pg_expandarray(ARRAY[30, 10, 20]) AS k) s ORDER BY (k).n DESC",
        "SELECT information_schema._pg_expandarray(ARRAY['a b', 'c,d', NULL])",
        "SELECT * FROM information_schema._pg_expandarray(ARRAY['a', 'b']) e ORDER BY e.n DESC",
        "SELECT i.indexrelid::regclass, k.x, k.n FROM pg_index i, information_schema._pg_expandarray(i.indkey) k WHERE i.indrelid = 'ot'::regclass ORDER BY k.n",
        "SELECT 'pg_class'::regclass::oid, 1::int::text, '1'::integer, '1'::double precision, b::varchar, (CASE WHEN true THEN 1 END)::text, ARRAY[1]::text FROM ot",
        "SELECT ct.relname, a.attname, (information_schema._pg_expandarray(i.indkey)).n AS key_seq FROM pg_class ct, pg_attribute a, pg_namespace n, pg_index i WHERE ct.oid = a.attrelid AND n.oid = ct.relnamespace AND i.indrelid = ct.oid AND n.nspname = 'public' AND ct.relname = 'ot' AND a.attnum > 0 ORDER BY 3, 2",
        "SELECT r.relname, s.nspname FROM pg_namespace s, pg_class r LEFT JOIN pg_index x ON x.indrelid = r.oid AND x.indisprimary WHERE r.relnamespace = s.oid AND s.nspname = 'public' AND x.indexrelid IS NULL ORDER BY 1",
    ];
    assert_same_psql(&oracle, &server, &steps).await;
}

/// `pg_dump` runs to completion against Rivulet (the two RisingWave and
/// Rivulet catalog schemas excluded, as `-N` excludes any schema), with
/// `--schema-only` and with data, and what it prints restores into
/// PostgreSQL: the same tables with their keys and rows, and the views
/// and materialized views, whose definitions name their relations with
/// the schema as pg_dump's empty search path requires.
#[tokio::test]
async fn pg_dump_restores_into_postgres() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let dir = TempDir::new("oracle-pgdump");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let c = server.connect().await.unwrap();
    c.batch_execute(
        "CREATE SECRET s AS 'k';
         CREATE TABLE events (data JSONB) WITH (connector = 'webhook')
           VALIDATE SECRET s AS secure_compare(headers->>'x-signature', encode(hmac(s, data, 'sha1'), 'hex'));
         CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR, score NUMERIC, seen TIMESTAMPTZ);
         CREATE TABLE pairs (a INT, b TEXT, ok BOOLEAN, PRIMARY KEY (b, a));
         CREATE MATERIALIZED VIEW by_name AS SELECT name, count(*) AS n FROM users GROUP BY 1;
         CREATE VIEW named AS SELECT u.id, u.name FROM users u WHERE EXISTS (SELECT 1 FROM pairs p WHERE p.a = u.id);
         CREATE MATERIALIZED VIEW on_view AS WITH t AS (SELECT id FROM named) SELECT count(*) AS n FROM t;
         INSERT INTO users VALUES (1, 'ann', 1.50, '2024-01-02 03:04:05+00'), (2, 'b\tob', NULL, NULL);
         INSERT INTO pairs VALUES (1, 'x', true), (2, 'y', NULL);",
    )
    .await
    .unwrap();
    let port: u16 = server.pg_addr.rsplit_once(':').unwrap().1.parse().unwrap();
    let dump = |extra: &'static [&'static str]| async move {
        let out = tokio::process::Command::new("pg_dump")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "root",
                "-d",
                "dev",
            ])
            .args(["-N", "rw_catalog", "-N", "rivulet_catalog"])
            .args(extra)
            .output()
            .await
            .expect("pg_dump is installed (scripts/install-test-deps.sh)");
        assert!(
            out.status.success(),
            "pg_dump failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let schema = dump(&["--schema-only"]).await;
    assert!(
        schema.contains("ADD CONSTRAINT pairs_pkey PRIMARY KEY (b, a);"),
        "{schema}"
    );
    assert!(
        schema.contains("FROM public.users AS u WHERE EXISTS (SELECT 1 FROM public.pairs AS p"),
        "{schema}"
    );
    assert!(
        !schema.contains("CREATE SECRET") && !schema.contains("'k'"),
        "{schema}"
    );
    assert!(!schema.contains("COPY "), "{schema}");
    let text = dump(&[]).await;

    // Restored into an empty PostgreSQL database (with the owner role the
    // dump names), every statement runs.
    psql(
        oracle.port(),
        "postgres",
        "postgres",
        " -c 'CREATE ROLE root'",
    )
    .await;
    let file = dir.0.join("dump.sql");
    std::fs::write(&file, &text).unwrap();
    let restore = psql(
        oracle.port(),
        "postgres",
        "postgres",
        &format!(" -q -v ON_ERROR_STOP=1 -f {}", file.display()),
    )
    .await;
    assert!(!restore.contains("ERROR"), "{restore}\n{text}");
    let steps = [
        "\\d users",
        "\\d pairs",
        "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' ORDER BY 1",
        "SELECT matviewname FROM pg_matviews ORDER BY 1",
        "SELECT * FROM users ORDER BY id",
        "SELECT * FROM pairs ORDER BY a",
        "SELECT * FROM by_name ORDER BY 1",
        "SELECT * FROM named",
        "SELECT * FROM on_view",
    ];
    assert_same_psql(&oracle, &server, &steps).await;
}

/// `pg_settings` lists the session's own settings, as PostgreSQL's does:
/// names spelled as PostgreSQL spells them, the values `SET` gave, types
/// and whether a session may change each.
#[tokio::test]
async fn settings_match_postgres() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let dir = TempDir::new("oracle-settings");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let steps = [
        "SET application_name = 'tool'",
        "SET DateStyle = 'ISO, DMY'",
        "SELECT name, setting, vartype, context FROM pg_settings WHERE name IN ('DateStyle', 'TimeZone', 'standard_conforming_strings', 'application_name', 'client_encoding', 'integer_datetimes', 'statement_timeout', 'IntervalStyle', 'max_identifier_length') ORDER BY 1",
        "SELECT s.setting, s.unit FROM pg_catalog.pg_settings s WHERE s.name = 'statement_timeout'",
        "SELECT count(*) FROM pg_settings WHERE name = 'no_such_setting'",
    ];
    assert_same_psql(&oracle, &server, &steps).await;
}

/// `COMMENT ON TABLE | VIEW | MATERIALIZED VIEW | COLUMN ... IS ...`:
/// psql's `\d+`, `pg_description`, `obj_description` and
/// `col_description` show comments as PostgreSQL does; a new comment
/// replaces the old, NULL or '' removes it, wrong targets fail as in
/// PostgreSQL. Comments survive `kill -9` and go with their relation.
#[tokio::test]
async fn comments_match_postgres() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let dir = TempDir::new("oracle-comments");
    let mut server = Server::start(&dir.0, &[]).await.unwrap();
    let read = [
        "SELECT obj_description('c_t'::regclass, 'pg_class'), col_description('c_t'::regclass, 2), obj_description('c_v'::regclass), obj_description('c_m'::regclass, 'pg_class'), col_description('c_t'::regclass, 1)",
        "SELECT c.relname, d.objsubid, d.description FROM pg_description d JOIN pg_class c ON c.oid = d.objoid WHERE c.relname LIKE 'c\\_%' ORDER BY 1, 2",
    ];
    // (CREATE MATERIALIZED VIEW answers with a different tag in
    // PostgreSQL: set up outside the compared transcript.)
    let setup = [
        "CREATE TABLE c_t (id INT PRIMARY KEY, name VARCHAR)",
        "CREATE VIEW c_v AS SELECT id FROM c_t",
        "CREATE MATERIALIZED VIEW c_m AS SELECT count(*) AS n FROM c_t",
    ];
    let port: u16 = server.pg_addr.rsplit_once(':').unwrap().1.parse().unwrap();
    psql_transcript(oracle.port(), "postgres", "postgres", &setup).await;
    psql_transcript(port, "root", "dev", &setup).await;
    let mut steps = vec![
        "COMMENT ON TABLE c_t IS 'people'",
        "COMMENT ON COLUMN c_t.name IS 'what they''re called'",
        "COMMENT ON VIEW c_v IS 'ids'",
        "COMMENT ON MATERIALIZED VIEW c_m IS 'how many'",
        "\\d+ c_t",
    ];
    steps.extend(read);
    steps.extend([
        "COMMENT ON TABLE c_t IS 'persons'",
        "COMMENT ON COLUMN c_t.name IS NULL",
        "COMMENT ON VIEW c_v IS ''",
    ]);
    steps.extend(read);
    assert_same_psql(&oracle, &server, &steps).await;

    // Kept across kill -9; gone with their relations.
    server.kill9().await.unwrap();
    server = server.restart().await.unwrap();
    let mut after = read.to_vec();
    after.extend([
        "DROP MATERIALIZED VIEW c_m",
        "DROP VIEW c_v",
        "DROP TABLE c_t",
        "CREATE TABLE c_t (id INT)",
        "SELECT obj_description('c_t'::regclass, 'pg_class')",
    ]);
    after.push(read[1]);
    assert_same_psql(&oracle, &server, &after).await;
}

/// `INSERT ... [SELECT ...] RETURNING items`: psql's transcript (rows,
/// `INSERT 0 n`) is PostgreSQL's; over the extended protocol (prepared,
/// described, then executed) the returned rows and columns are too; an
/// error in the items writes nothing.
#[tokio::test]
async fn insert_returning_matches_postgres() {
    let oracle = Oracle::start().await.expect("start PostgreSQL 15");
    let dir = TempDir::new("oracle-returning");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let steps = [
        "CREATE TABLE rt (id INT PRIMARY KEY, name VARCHAR, score NUMERIC)",
        "INSERT INTO rt VALUES (1, 'a', 1.5), (2, 'b', NULL) RETURNING *",
        "INSERT INTO rt (id, name) VALUES (3, 'c') RETURNING id, upper(name) AS up, score IS NULL AS missing, rt.id * 10",
        "INSERT INTO rt SELECT id + 10, name || '!', score FROM rt WHERE id < 3 RETURNING id, name",
        "INSERT INTO rt VALUES (21, 'y', 2) RETURNING 1/0",
        "SELECT count(*) FROM rt WHERE id = 21",
        "INSERT INTO rt VALUES (22, 'z', 3) RETURNING rt.*, 'done'",
        "SELECT * FROM rt ORDER BY id",
    ];
    assert_same_psql(&oracle, &server, &steps).await;

    // Extended protocol: Parse, Describe (the RETURNING columns), Bind,
    // Execute.
    let rivulet = server.connect().await.unwrap();
    for c in [&oracle.client, &rivulet] {
        c.batch_execute("CREATE TABLE rx (id INT PRIMARY KEY, tag TEXT)")
            .await
            .unwrap();
    }
    let sql = "INSERT INTO rx VALUES ($1, $2), ($3, 'fixed') RETURNING tag, id + 1 AS next";
    let mut answers = Vec::new();
    for c in [&oracle.client, &rivulet] {
        let stmt = c.prepare(sql).await.unwrap();
        let columns: Vec<String> = stmt
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        let rows = c.query(&stmt, &[&1i32, &"one", &2i32]).await.unwrap();
        let values: Vec<(String, i32)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        answers.push((columns, values));
    }
    assert_eq!(answers[0], answers[1]);
}

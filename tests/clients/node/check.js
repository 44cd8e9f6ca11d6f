// node-postgres driving Rivulet as applications do: parameters (the
// extended protocol), LIMIT/OFFSET parameters, cursors reading in batches
// (portals with row limits), jsonb both ways, SQLSTATEs on errors and
// savepoints inside a transaction block.
//
// Usage: node check.js HOST PORT   (exits non-zero on failure)
const assert = require("assert/strict");
const { Client } = require("pg");
const Cursor = require("pg-cursor");

async function main() {
  const [host, port] = process.argv.slice(2);
  const client = new Client({ host, port: Number(port), user: "root", database: "dev" });
  await client.connect();

  await client.query("CREATE TABLE node_items (id BIGINT PRIMARY KEY, name TEXT, doc JSONB)");
  for (let i = 1; i <= 5; i++) {
    const r = await client.query("INSERT INTO node_items VALUES ($1, $2, $3)", [
      i,
      `item-${i}`,
      { n: i, tags: ["t" + i] },
    ]);
    assert.equal(r.rowCount, 1);
  }

  // LIMIT $1 OFFSET $2.
  const page = await client.query("SELECT id, name FROM node_items ORDER BY id LIMIT $1 OFFSET $2", [2, 1]);
  assert.deepEqual(page.rows, [
    { id: "2", name: "item-2" },
    { id: "3", name: "item-3" },
  ]);

  // jsonb comes back parsed; a jsonb parameter goes in as JSON text.
  const doc = await client.query("SELECT doc, doc->'tags'->>0 AS tag FROM node_items WHERE id = $1", [4]);
  assert.deepEqual(doc.rows[0], { doc: { n: 4, tags: ["t4"] }, tag: "t4" });

  // A cursor reads two rows at a time.
  const cursor = client.query(new Cursor("SELECT id FROM node_items ORDER BY id"));
  const batches = [];
  for (;;) {
    const rows = await cursor.read(2);
    if (rows.length === 0) break;
    batches.push(rows.map((r) => r.id));
  }
  await cursor.close();
  assert.deepEqual(batches, [["1", "2"], ["3", "4"], ["5"]]);

  // Errors carry their SQLSTATE and leave the connection usable.
  await assert.rejects(client.query("SELECT * FROM node_missing"), (e) => e.code === "42P01");
  await assert.rejects(client.query("SELECT $1::int", ["x"]), (e) => e.code === "22P02");

  // A transaction block with a savepoint, as ORMs open them.
  await client.query("BEGIN");
  await client.query("SAVEPOINT sp");
  await assert.rejects(client.query("SELECT 1/0"), (e) => e.code === "22012");
  await client.query("ROLLBACK TO SAVEPOINT sp");
  const inBlock = await client.query("SELECT count(*)::int AS n FROM node_items");
  assert.equal(inBlock.rows[0].n, 5);
  await client.query("COMMIT");

  // A materialized view is current as soon as the insert returns.
  await client.query("CREATE MATERIALIZED VIEW node_names AS SELECT name FROM node_items WHERE id > 3");
  await client.query("INSERT INTO node_items VALUES ($1, $2, NULL)", [6, "item-6"]);
  const names = await client.query("SELECT name FROM node_names ORDER BY name");
  assert.deepEqual(names.rows.map((r) => r.name), ["item-4", "item-5", "item-6"]);

  await client.end();
  console.log("node-postgres ok");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

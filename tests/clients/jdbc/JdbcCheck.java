// pgJDBC (Debian's libpostgresql-jdbc-java) against a server, the way Java
// applications and JDBC tools use it: prepared statements with parameters
// (LIMIT ? OFFSET ? too), batch inserts and their update counts, jsonb
// through getObject, numerics and booleans, transactions, a materialized
// view, and the DatabaseMetaData calls tools use to list schemas, tables,
// columns and types.
//
// Usage: java -cp postgresql.jar JdbcCheck.java JDBC_URL USER
//
// Prints one line per observation, so a run against Rivulet can be
// compared line by line with a run against PostgreSQL (lines starting
// "info:" are expected to differ); exits non-zero on the first failed
// expectation.

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

public class JdbcCheck {
    static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    static void say(String line) {
        System.out.println(line);
    }

    /** Every row of a result, its columns named by label, as one line each. */
    static List<String> rows(ResultSet rs, String... labels) throws SQLException {
        List<String> out = new ArrayList<>();
        while (rs.next()) {
            StringBuilder b = new StringBuilder();
            for (String l : labels) {
                if (b.length() > 0) {
                    b.append(" | ");
                }
                b.append(l).append('=').append(rs.getString(l));
            }
            out.add(b.toString());
        }
        rs.close();
        return out;
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        try (Connection c = DriverManager.getConnection(args[0], props)) {
            run(c);
        }
        say("jdbc ok");
    }

    static void run(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE jdbc_items (id INT PRIMARY KEY, name VARCHAR, price NUMERIC, "
                    + "active BOOLEAN, doc JSONB)");
        }

        // A batch of three inserts answers three counts of one row each.
        try (PreparedStatement p = c.prepareStatement(
                "INSERT INTO jdbc_items (id, name, price, active, doc) VALUES (?, ?, ?, ?, ?::jsonb)")) {
            Object[][] items = {
                {1, "ann", new BigDecimal("1.50"), true, "{\"tags\": [\"a\", \"b\"], \"n\": 1}"},
                {2, "bob", new BigDecimal("20"), false, "{\"n\": 2}"},
                {3, "cy", null, null, null},
            };
            for (Object[] it : items) {
                p.setInt(1, (Integer) it[0]);
                p.setString(2, (String) it[1]);
                p.setBigDecimal(3, (BigDecimal) it[2]);
                if (it[3] == null) {
                    p.setNull(4, java.sql.Types.BOOLEAN);
                } else {
                    p.setBoolean(4, (Boolean) it[3]);
                }
                p.setString(5, (String) it[4]);
                p.addBatch();
            }
            int[] counts = p.executeBatch();
            say("batch counts " + Arrays.toString(counts));
            check(Arrays.equals(counts, new int[] {1, 1, 1}), "batch counts " + Arrays.toString(counts));
        }

        try (Statement s = c.createStatement()) {
            int n = s.executeUpdate("INSERT INTO jdbc_items (id, name) VALUES (4, 'dee'), (5, 'eve')");
            say("insert count " + n);
            check(n == 2, "insert count " + n);
            n = s.executeUpdate("UPDATE jdbc_items SET price = 7 WHERE id >= 4");
            say("update count " + n);
            check(n == 2, "update count " + n);
            n = s.executeUpdate("DELETE FROM jdbc_items WHERE id = 5");
            say("delete count " + n);
            check(n == 1, "delete count " + n);
            try (PreparedStatement p = c.prepareStatement("UPDATE jdbc_items SET name = ? WHERE id = ?")) {
                p.setString(1, "dee2");
                p.setInt(2, 4);
                n = p.executeUpdate();
                say("prepared update count " + n);
                check(n == 1, "prepared update count " + n);
                p.setString(1, "dee");
                p.executeUpdate();
            }
            s.execute("CREATE MATERIALIZED VIEW jdbc_priced AS SELECT name, price FROM jdbc_items "
                    + "WHERE price IS NOT NULL");
        }

        // Parameters in LIMIT and OFFSET.
        try (PreparedStatement p = c.prepareStatement(
                "SELECT id, name FROM jdbc_items ORDER BY id LIMIT ? OFFSET ?")) {
            p.setInt(1, 2);
            p.setInt(2, 1);
            List<String> got = rows(p.executeQuery(), "id", "name");
            say("limit offset " + got);
            check(got.equals(List.of("id=2 | name=bob", "id=3 | name=cy")), "limit offset " + got);
        }

        // Typed reads: numeric, boolean, NULLs, jsonb as a PGobject.
        try (PreparedStatement p = c.prepareStatement(
                "SELECT price, active, doc, doc->'tags'->>1 AS tag FROM jdbc_items WHERE id = ?")) {
            for (int id : new int[] {1, 3}) {
                p.setInt(1, id);
                try (ResultSet rs = p.executeQuery()) {
                    check(rs.next(), "row " + id);
                    BigDecimal price = rs.getBigDecimal("price");
                    boolean active = rs.getBoolean("active");
                    boolean activeNull = rs.wasNull();
                    Object doc = rs.getObject("doc");
                    String docType = doc == null ? "null" : doc.getClass().getName();
                    String docText = doc == null ? "null" : doc.toString();
                    String pgType = doc instanceof org.postgresql.util.PGobject
                            ? ((org.postgresql.util.PGobject) doc).getType() : "-";
                    say("row " + id + " price=" + price + " active=" + active + " activeNull=" + activeNull
                            + " doc=" + docText + " docClass=" + docType + " docType=" + pgType
                            + " tag=" + rs.getString("tag"));
                    if (id == 1) {
                        check(new BigDecimal("1.50").equals(price), "price " + price);
                        check(active && !activeNull, "active");
                        check("jsonb".equals(pgType), "jsonb getObject type " + pgType);
                        check("{\"n\": 1, \"tags\": [\"a\", \"b\"]}".equals(docText), "jsonb text " + docText);
                        check("b".equals(rs.getString("tag")), "tag");
                    } else {
                        check(price == null && activeNull && doc == null, "NULLs");
                    }
                }
            }
        }

        // What a result's columns are, as tools display them.
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id, name, price, active, doc FROM jdbc_items LIMIT 0")) {
            ResultSetMetaData md = rs.getMetaData();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                // Informational: Rivulet stores VARCHAR as text and does
                // not name a result column's source table.
                say("info: result column " + md.getColumnLabel(i) + " " + md.getColumnTypeName(i) + " "
                        + md.getColumnType(i) + " " + md.getColumnClassName(i) + " table="
                        + md.getTableName(i));
            }
        }

        // Without autocommit the driver wraps statements in BEGIN ... COMMIT
        // (or ROLLBACK). Rivulet commits every statement on its own, so a
        // rollback here undoes nothing that was written: only reads are
        // rolled back.
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            rows(s.executeQuery("SELECT count(*) AS n FROM jdbc_items"), "n");
            c.rollback();
            s.executeUpdate("INSERT INTO jdbc_items (id, name, price) VALUES (11, 'kept', 3.25)");
            c.commit();
        }
        c.setAutoCommit(true);
        try (Statement s = c.createStatement()) {
            // Rivulet's views are always current; PostgreSQL's need refreshing.
            s.execute("REFRESH MATERIALIZED VIEW jdbc_priced");
            List<String> got = rows(s.executeQuery("SELECT name, price FROM jdbc_priced ORDER BY name"),
                    "name", "price");
            say("view " + got);
            check(got.equals(List.of("name=ann | price=1.50", "name=bob | price=20",
                    "name=dee | price=7", "name=kept | price=3.25")), "view " + got);
            got = rows(s.executeQuery("SELECT count(*) AS n FROM jdbc_items WHERE id >= 10"), "n");
            check(got.equals(List.of("n=1")), "committed " + got);
        }

        // An error is an SQLException with PostgreSQL's SQLSTATE, and the
        // connection goes on.
        try (Statement s = c.createStatement()) {
            s.executeQuery("SELECT * FROM jdbc_missing");
            check(false, "missing table");
        } catch (SQLException e) {
            say("missing table " + e.getSQLState());
            check("42P01".equals(e.getSQLState()), "SQLSTATE " + e.getSQLState());
        }

        DatabaseMetaData md = c.getMetaData();
        say("product " + md.getDatabaseProductName());
        check("PostgreSQL".equals(md.getDatabaseProductName()), "product name");
        check(md.getDatabaseMajorVersion() >= 9, "major version " + md.getDatabaseMajorVersion());

        List<String> schemas = rows(md.getSchemas(), "TABLE_SCHEM");
        check(schemas.contains("TABLE_SCHEM=public"), "schemas " + schemas);
        say("schema public listed");

        List<String> tables = rows(md.getTables(null, "public", "jdbc%",
                new String[] {"TABLE", "VIEW", "MATERIALIZED VIEW"}),
                "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE");
        say("tables " + tables);
        check(tables.equals(List.of(
                "TABLE_SCHEM=public | TABLE_NAME=jdbc_priced | TABLE_TYPE=MATERIALIZED VIEW",
                "TABLE_SCHEM=public | TABLE_NAME=jdbc_items | TABLE_TYPE=TABLE")),
                "tables " + tables);
        tables = rows(md.getTables(null, "public", "%", new String[] {"TABLE"}), "TABLE_NAME");
        say("only tables " + tables);

        // Rivulet types VARCHAR as text, so TYPE_NAME is informational.
        List<String> columns = rows(md.getColumns(null, "public", "jdbc_items", "%"),
                "COLUMN_NAME", "DATA_TYPE", "NULLABLE", "ORDINAL_POSITION", "IS_NULLABLE", "TYPE_NAME");
        for (String col : columns) {
            int at = col.lastIndexOf(" | TYPE_NAME=");
            say("column " + col.substring(0, at));
            say("info: column type " + col.substring(at + 3));
        }
        check(columns.size() == 5, "columns " + columns);
        check(columns.get(0).equals("COLUMN_NAME=id | DATA_TYPE=4 | NULLABLE=0 | ORDINAL_POSITION=1 "
                + "| IS_NULLABLE=NO | TYPE_NAME=int4"), "id column " + columns.get(0));

        // Keys: pgJDBC expands pg_index.indkey through
        // information_schema._pg_expandarray and reads its record's fields.
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE jdbc_keyed (a INT, b TEXT, c INT, PRIMARY KEY (c, a))");
        }
        for (String table : new String[] {"jdbc_items", "jdbc_keyed", "jdbc_priced"}) {
            for (String key : rows(md.getPrimaryKeys(null, "public", table),
                    "TABLE_NAME", "COLUMN_NAME", "KEY_SEQ", "PK_NAME")) {
                say("primary key " + key);
            }
            for (String index : rows(md.getIndexInfo(null, "public", table, false, false),
                    "TABLE_NAME", "NON_UNIQUE", "INDEX_NAME", "ORDINAL_POSITION", "COLUMN_NAME",
                    "ASC_OR_DESC")) {
                say("index " + index);
            }
            say("imported keys " + rows(md.getImportedKeys(null, "public", table), "FKCOLUMN_NAME"));
        }
        List<String> types = rows(md.getTypeInfo(), "TYPE_NAME", "DATA_TYPE");
        for (String t : new String[] {"TYPE_NAME=int4 | DATA_TYPE=4", "TYPE_NAME=text | DATA_TYPE=12",
                "TYPE_NAME=jsonb | DATA_TYPE=1111", "TYPE_NAME=numeric | DATA_TYPE=2",
                "TYPE_NAME=bool | DATA_TYPE=-7"}) {
            check(types.contains(t), "type info lacks " + t + ": " + types);
            say("type " + t);
        }
    }
}

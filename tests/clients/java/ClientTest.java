// pgJDBC against the gateway: PreparedStatement (server-prepared after prepareThreshold), types,
// setFetchSize in a transaction (portal suspension), CopyManager, DatabaseMetaData.
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.sql.*;
import java.time.*;
import java.util.*;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

public class ClientTest {
    static final String C = "java-pgjdbc";
    static int failed = 0;

    interface Body { void run() throws Exception; }

    static void emit(String feature, String status, String detail) {
        String d = detail == null ? "" : detail.replaceAll("\\s+", " ");
        if (d.length() > 400) d = d.substring(0, 400);
        System.out.println("RESULT\t" + C + "\t" + feature + "\t" + status + "\t" + d);
    }

    static boolean check(String feature, boolean gap, Body b) {
        try {
            b.run();
            emit(feature, "PASS", "");
            return true;
        } catch (Throwable e) {
            String state = e instanceof SQLException ? "[" + ((SQLException) e).getSQLState() + "] " : "";
            emit(feature, gap ? "GAP" : "FAIL", state + e.getClass().getSimpleName() + ": " + e.getMessage());
            if (!gap) failed++;
            return false;
        }
    }

    static void eq(String what, Object got, Object want) {
        if (!Objects.equals(got, want)) throw new AssertionError(what + ": got " + got + ", want " + want);
    }

    static Connection conn;

    static Connection connect(Properties extra) throws SQLException {
        Map<String, String> e = System.getenv();
        String url = "jdbc:postgresql://" + e.get("PGHOST") + ":" + e.get("PGPORT") + "/" + e.get("PGDATABASE");
        Properties p = new Properties();
        p.setProperty("user", e.get("PGUSER"));
        p.setProperty("password", e.get("PGPASSWORD"));
        p.setProperty("sslmode", "verify-full");
        p.setProperty("sslrootcert", e.get("PGSSLROOTCERT"));
        p.putAll(extra);
        return DriverManager.getConnection(url, p);
    }

    public static void main(String[] args) throws Exception {
        if (!check("connect+scram+tls", false, () -> {
            conn = connect(new Properties());
            try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("SELECT 41 + 1")) {
                rs.next();
                eq("select", rs.getInt(1), 42);
            }
            eq("product", conn.getMetaData().getDatabaseProductName(), "PostgreSQL");
        })) System.exit(1);

        check("types", false, () -> {
            try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT 1::SMALLINT, 2::INTEGER, 3000000000::BIGINT, 1.5::FLOAT, 2.25::DOUBLE,"
                    + " 12.34::DECIMAL(10,2), 'héllo'::TEXT, true, DATE '2024-01-02', TIME '12:34:56',"
                    + " TIMESTAMP '2024-01-02 03:04:05.123456', TIMESTAMPTZ '2024-01-02 03:04:05+00',"
                    + " UUID '12345678-1234-5678-1234-567812345678', '\\x01\\x02\\xFF'::BLOB,"
                    + " [1, 2, 3], NULL::INTEGER, INTERVAL '1 day 2 hours', '{\"a\":1}'::JSON")) {
                rs.next();
                ResultSetMetaData md = rs.getMetaData();
                List<String> tn = new ArrayList<>();
                for (int i = 1; i <= md.getColumnCount(); i++) tn.add(md.getColumnTypeName(i));
                eq("type names", tn, List.of("int2", "int4", "int8", "float4", "float8", "numeric", "text", "bool",
                        "date", "time", "timestamp", "timestamptz", "uuid", "bytea", "_int4", "int4", "interval", "json"));
                eq("short", rs.getShort(1), (short) 1);
                eq("int", rs.getInt(2), 2);
                eq("long", rs.getLong(3), 3000000000L);
                eq("float", rs.getFloat(4), 1.5f);
                eq("double", rs.getDouble(5), 2.25);
                eq("decimal", rs.getBigDecimal(6), new BigDecimal("12.34"));
                eq("text", rs.getString(7), "héllo");
                eq("bool", rs.getBoolean(8), true);
                eq("date", rs.getObject(9, LocalDate.class), LocalDate.of(2024, 1, 2));
                eq("time", rs.getObject(10, LocalTime.class), LocalTime.of(12, 34, 56));
                eq("timestamp", rs.getObject(11, LocalDateTime.class), LocalDateTime.of(2024, 1, 2, 3, 4, 5, 123456000));
                eq("timestamptz", rs.getObject(12, OffsetDateTime.class).toInstant(), Instant.parse("2024-01-02T03:04:05Z"));
                eq("uuid", rs.getObject(13), UUID.fromString("12345678-1234-5678-1234-567812345678"));
                eq("bytea", Arrays.toString(rs.getBytes(14)), Arrays.toString(new byte[]{1, 2, (byte) 255}));
                eq("array", Arrays.toString((Integer[]) rs.getArray(15).getArray()), "[1, 2, 3]");
                rs.getInt(16);
                eq("null", rs.wasNull(), true);
                eq("interval", rs.getString(17), "1 day 02:00:00");
                eq("json", rs.getString(18), "{\"a\":1}");
            }
        });

        check("PreparedStatement (server-prepared, binary)", false, () -> {
            try (Statement s = conn.createStatement()) {
                s.execute("CREATE OR REPLACE TABLE jdbc_t (id INTEGER, name VARCHAR, amount DECIMAL(12,3),"
                        + " ts TIMESTAMP, day DATE, data BLOB, u UUID, ok BOOLEAN, f DOUBLE)");
            }
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO jdbc_t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ((org.postgresql.PGStatement) ps).setPrepareThreshold(1);
                for (int i = 1; i <= 6; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "n'" + i);
                    ps.setBigDecimal(3, new BigDecimal(i + ".125"));
                    ps.setObject(4, LocalDateTime.of(2024, 5, i, 1, 2, 3, 4000));
                    ps.setObject(5, LocalDate.of(2020, 2, i));
                    ps.setBytes(6, new byte[]{(byte) i, 0, (byte) 255});
                    ps.setObject(7, new UUID(0, i));
                    if (i == 3) ps.setNull(8, Types.BOOLEAN); else ps.setBoolean(8, i % 2 == 0);
                    ps.setDouble(9, i / 4.0);
                    eq("update count", ps.executeUpdate(), 1);
                }
            }
            try (PreparedStatement ps = conn.prepareStatement("SELECT * FROM jdbc_t WHERE id = ?")) {
                for (int i = 1; i <= 6; i++) {  // past prepareThreshold (5): named statement, binary results
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) throw new AssertionError("no row " + i);
                        eq("name", rs.getString("name"), "n'" + i);
                        eq("amount", rs.getBigDecimal("amount"), new BigDecimal(i + ".125"));
                        eq("ts", rs.getObject("ts", LocalDateTime.class), LocalDateTime.of(2024, 5, i, 1, 2, 3, 4000));
                        eq("day", rs.getObject("day", LocalDate.class), LocalDate.of(2020, 2, i));
                        eq("data", Arrays.toString(rs.getBytes("data")), Arrays.toString(new byte[]{(byte) i, 0, (byte) 255}));
                        eq("uuid", rs.getObject("u"), new UUID(0, i));
                        rs.getBoolean("ok");
                        eq("ok null", rs.wasNull(), i == 3);
                        eq("f", rs.getDouble("f"), i / 4.0);
                    }
                }
            }
        });

        check("batch", false, () -> {
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO jdbc_t (id, name) VALUES (?, ?)")) {
                for (int i = 100; i < 150; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "b" + i);
                    ps.addBatch();
                }
                int[] counts = ps.executeBatch();
                eq("batch size", counts.length, 50);
            }
            try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM jdbc_t WHERE id >= 100")) {
                rs.next();
                eq("rows", rs.getLong(1), 50L);
            }
        });

        check("setFetchSize in transaction (portal suspension)", false, () -> {
            conn.setAutoCommit(false);
            try (PreparedStatement ps = conn.prepareStatement("SELECT i, 'row ' || i FROM range(100000) t(i) ORDER BY i")) {
                ps.setFetchSize(1000);
                long n = 0, sum = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        if (!rs.getString(2).equals("row " + rs.getLong(1))) throw new AssertionError("row " + n);
                        n++;
                        sum += rs.getLong(1);
                    }
                }
                eq("rows", n, 100000L);
                eq("sum", sum, 99999L * 100000L / 2);
                // another statement in the same transaction while a portal was open
                try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("SELECT 7")) {
                    rs.next();
                    eq("after", rs.getInt(1), 7);
                }
            }
            conn.commit();
            conn.setAutoCommit(true);
        });

        check("transactions", false, () -> {
            try (Statement s = conn.createStatement()) {
                s.execute("CREATE OR REPLACE TABLE jdbc_tx (a INTEGER)");
                conn.setAutoCommit(false);
                s.execute("INSERT INTO jdbc_tx VALUES (1)");
                conn.commit();
                s.execute("INSERT INTO jdbc_tx VALUES (2)");
                try {
                    s.execute("SELECT * FROM jdbc_missing");
                    throw new AssertionError("no error");
                } catch (SQLException e) {
                    eq("sqlstate", e.getSQLState(), "42P01");
                }
                conn.rollback();
                conn.setAutoCommit(true);
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM jdbc_tx")) {
                    rs.next();
                    eq("rows", rs.getLong(1), 1L);
                }
            }
        });

        check("CopyManager", false, () -> {
            try (Statement s = conn.createStatement()) {
                s.execute("CREATE OR REPLACE TABLE jdbc_copy (id INTEGER, name VARCHAR, d DATE)");
            }
            CopyManager cm = conn.unwrap(PGConnection.class).getCopyAPI();
            long n = cm.copyIn("COPY jdbc_copy FROM STDIN WITH (FORMAT csv)",
                    new StringReader("1,\"a, b\",2024-01-01\n2,,\n3,x,2024-12-31\n"));
            eq("copied", n, 3L);
            StringWriter out = new StringWriter();
            long m = cm.copyOut("COPY (SELECT * FROM jdbc_copy ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)", out);
            eq("copied out", m, 3L);
            eq("csv", out.toString(), "id,name,d\n1,\"a, b\",2024-01-01\n2,,\n3,x,2024-12-31\n");
        });

        check("set/show", false, () -> {
            try (Statement s = conn.createStatement()) {
                s.execute("SET application_name = 'jdbc-suite'");
                try (ResultSet rs = s.executeQuery("SHOW application_name")) {
                    rs.next();
                    eq("application_name", rs.getString(1), "jdbc-suite");
                }
                conn.setClientInfo("ApplicationName", "jdbc-client-info");
                try (ResultSet rs = s.executeQuery("SHOW application_name")) {
                    rs.next();
                    eq("ApplicationName", rs.getString(1), "jdbc-client-info");
                }
            }
        });

        DatabaseMetaData md = conn.getMetaData();
        check("DatabaseMetaData.getTables", true, () -> {
            List<String> names = new ArrayList<>();
            try (ResultSet rs = md.getTables(null, null, "jdbc_%", new String[]{"TABLE"})) {
                while (rs.next()) names.add(rs.getString("TABLE_NAME"));
            }
            Collections.sort(names);
            eq("tables", names, List.of("jdbc_copy", "jdbc_t", "jdbc_tx"));
        });
        check("DatabaseMetaData.getColumns", true, () -> {
            List<String> cols = new ArrayList<>();
            try (ResultSet rs = md.getColumns(null, null, "jdbc_copy", null)) {
                while (rs.next()) cols.add(rs.getString("COLUMN_NAME") + ":" + rs.getString("TYPE_NAME"));
            }
            eq("columns", cols, List.of("id:int4", "name:text", "d:date"));
        });
        check("DatabaseMetaData.getSchemas", false, () -> {
            List<String> schemas = new ArrayList<>();
            try (ResultSet rs = md.getSchemas()) {
                while (rs.next()) schemas.add(rs.getString("TABLE_SCHEM"));
            }
            // DuckDB's default schema main is PostgreSQL's public
            if (!schemas.contains("public") || schemas.contains("main")) throw new AssertionError("schemas " + schemas);
        });
        check("DatabaseMetaData with schema \"public\" (getTables, getColumns, getPrimaryKeys)", false, () -> {
            try (Statement s = conn.createStatement()) {
                s.execute("DROP TABLE IF EXISTS public.jdbc_pk");
                s.execute("CREATE TABLE \"public\".jdbc_pk (id INTEGER PRIMARY KEY, label VARCHAR)");
                s.execute("INSERT INTO public.jdbc_pk VALUES (1, 'a'), (2, 'b')");
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM public.jdbc_pk")) {
                    rs.next();
                    eq("rows", rs.getInt(1), 2);
                }
            }
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = md.getTables(null, "public", "jdbc_pk", new String[]{"TABLE"})) {
                while (rs.next()) tables.add(rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME"));
            }
            eq("getTables", tables, List.of("public.jdbc_pk"));
            List<String> cols = new ArrayList<>();
            try (ResultSet rs = md.getColumns(null, "public", "jdbc_pk", null)) {
                while (rs.next()) cols.add(rs.getString("TABLE_SCHEM") + ":" + rs.getString("COLUMN_NAME") + ":" + rs.getString("TYPE_NAME"));
            }
            eq("getColumns", cols, List.of("public:id:int4", "public:label:text"));
            List<String> keys = new ArrayList<>();
            try (ResultSet rs = md.getPrimaryKeys(null, "public", "jdbc_pk")) {
                while (rs.next()) keys.add(rs.getString("TABLE_SCHEM") + ":" + rs.getString("COLUMN_NAME") + ":" + rs.getString("PK_NAME"));
            }
            eq("getPrimaryKeys", keys, List.of("public:id:jdbc_pk_pkey"));
            try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("SELECT current_schema()")) {
                rs.next();
                eq("current_schema", rs.getString(1), "public");
            }
        });
        check("ResultSetMetaData.getTableName/isNullable", false, () -> {
            try (Statement s = conn.createStatement()) {
                s.execute("CREATE OR REPLACE TABLE jdbc_meta (id INTEGER NOT NULL, note VARCHAR)");
            }
            try (PreparedStatement ps = conn.prepareStatement("SELECT note, id, id + 1 AS next FROM jdbc_meta m");
                 ResultSet rs = ps.executeQuery()) {
                // RowDescription's table OID and attribute number, looked up by pgJDBC in
                // pg_class / pg_attribute
                ResultSetMetaData rmd = rs.getMetaData();
                org.postgresql.PGResultSetMetaData pg = rmd.unwrap(org.postgresql.PGResultSetMetaData.class);
                eq("base table", pg.getBaseTableName(2), "jdbc_meta");
                eq("base column", pg.getBaseColumnName(1), "note");
                eq("base schema", pg.getBaseSchemaName(2), "public");
                eq("getTableName", rmd.getTableName(1), "jdbc_meta");
                eq("isNullable id", rmd.isNullable(2), ResultSetMetaData.columnNoNulls);
                eq("isNullable note", rmd.isNullable(1), ResultSetMetaData.columnNullable);
                // an expression has no table
                eq("expression's table", pg.getBaseTableName(3), "");
            }
        });
        conn.close();
        System.exit(failed > 0 ? 1 : 0);
    }
}

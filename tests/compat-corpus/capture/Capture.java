// pgJDBC: DatabaseMetaData and ResultSetMetaData introspection, isolation level, arrays of enums.
import java.sql.*;
import java.util.*;

public class Capture {
    static final String OWN = "/*own*/ ";
    interface Body { void run() throws Exception; }

    static void step(String what, Body b) {
        try {
            b.run();
            System.out.println("  ok    " + what);
        } catch (Throwable e) {
            System.out.println("  error " + what + ": " + e);
        }
    }

    static void drain(ResultSet rs) throws SQLException {
        int n = rs.getMetaData().getColumnCount();
        while (rs.next()) for (int i = 1; i <= n; i++) rs.getObject(i);
        rs.close();
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> e = System.getenv();
        String url = "jdbc:postgresql://" + e.getOrDefault("CORPUS_HOST", "127.0.0.1") + ":"
            + e.getOrDefault("CORPUS_PORT", "54333") + "/" + e.getOrDefault("CORPUS_DB", "corpus");
        Properties p = new Properties();
        p.setProperty("user", e.getOrDefault("CORPUS_USER", "corpus"));
        p.setProperty("ApplicationName", "pgjdbc");
        Connection c = DriverManager.getConnection(url, p);
        DatabaseMetaData md = c.getMetaData();
        step("getSchemas", () -> drain(md.getSchemas()));
        step("getSchemas(pattern)", () -> drain(md.getSchemas(null, "inv%")));
        step("getCatalogs", () -> drain(md.getCatalogs()));
        step("getTableTypes", () -> drain(md.getTableTypes()));
        step("getTables", () -> drain(md.getTables(null, "public", "%", new String[] {"TABLE", "VIEW"})));
        step("getTables(all)", () -> drain(md.getTables(null, null, "%", null)));
        step("getColumns", () -> drain(md.getColumns(null, "public", "orders", "%")));
        step("getColumns(all)", () -> drain(md.getColumns(null, null, "%", "%")));
        step("getPrimaryKeys", () -> drain(md.getPrimaryKeys(null, "public", "customers")));
        step("getImportedKeys", () -> drain(md.getImportedKeys(null, "public", "orders")));
        step("getExportedKeys", () -> drain(md.getExportedKeys(null, "public", "customers")));
        step("getIndexInfo", () -> drain(md.getIndexInfo(null, "public", "orders", false, true)));
        step("getTypeInfo", () -> drain(md.getTypeInfo()));
        step("getUDTs", () -> drain(md.getUDTs(null, null, "%", null)));
        step("getFunctions", () -> drain(md.getFunctions(null, "public", "%")));
        step("getProcedures", () -> drain(md.getProcedures(null, "public", "%")));
        step("getTablePrivileges", () -> drain(md.getTablePrivileges(null, "public", "orders")));
        step("getColumnPrivileges", () -> drain(md.getColumnPrivileges(null, "public", "orders", "%")));
        step("getBestRowIdentifier", () -> drain(md.getBestRowIdentifier(null, "public", "orders", DatabaseMetaData.bestRowSession, true)));
        step("getVersionColumns", () -> drain(md.getVersionColumns(null, "public", "orders")));
        step("getClientInfoProperties", () -> drain(md.getClientInfoProperties()));
        step("getSQLKeywords", () -> md.getSQLKeywords());
        step("getUserName", () -> md.getUserName());
        step("ResultSetMetaData", () -> {
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery(OWN + "SELECT o.id, o.amount, o.payload, o.uid, c.name, c.mood, c.tags FROM orders o JOIN customers c ON c.id = o.customer_id")) {
                ResultSetMetaData m = rs.getMetaData();
                for (int i = 1; i <= m.getColumnCount(); i++) {
                    org.postgresql.PGResultSetMetaData pm = m.unwrap(org.postgresql.PGResultSetMetaData.class);
                    pm.getBaseTableName(i); pm.getBaseSchemaName(i); pm.getBaseColumnName(i);
                    m.isNullable(i); m.isAutoIncrement(i); m.getColumnTypeName(i);
                    m.getColumnClassName(i); m.getPrecision(i); m.getScale(i); m.getColumnDisplaySize(i);
                }
                drain(rs);
            }
        });
        step("getTransactionIsolation", () -> c.getTransactionIsolation());
        step("setTransactionIsolation", () -> c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE));
        step("setReadOnly", () -> c.setReadOnly(true));
        step("setReadOnly(false)", () -> c.setReadOnly(false));
        step("createArrayOf(mood)", () -> {
            try (PreparedStatement ps = c.prepareStatement(OWN + "SELECT ?::mood[]")) {
                ps.setArray(1, c.createArrayOf("mood", new Object[] {"happy"}));
                drain(ps.executeQuery());
            }
        });
        step("getObject(enum)", () -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(OWN + "SELECT mood, ROW('a','b')::address FROM customers")) {
                while (rs.next()) { rs.getObject(1); rs.getObject(2); }
            }
        });
        step("transaction", () -> {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) { drain(s.executeQuery(OWN + "SELECT 1")); }
            Savepoint sp = c.setSavepoint();
            c.rollback(sp);
            c.commit();
            c.setAutoCommit(true);
        });
        c.close();
    }
}

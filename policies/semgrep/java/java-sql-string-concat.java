import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

public class SqlConcat {
    public void positives(Connection conn, String name, String order, int id) throws SQLException {
        Statement stmt = conn.createStatement();
        // ruleid: java-sql-string-concat
        ResultSet rs = stmt.executeQuery("SELECT id FROM users WHERE name = '" + name + "'");
        // ruleid: java-sql-string-concat
        stmt.executeUpdate(String.format("DELETE FROM sessions WHERE user_id = %d", id));
        String sql = "SELECT id FROM orders ORDER BY " + order;
        // ruleid: java-sql-string-concat
        stmt.execute(sql);
        // ruleid: java-sql-string-concat
        PreparedStatement ps = conn.prepareStatement("SELECT * FROM users WHERE name = '" + name + "'");
    }

    public Object jpa(javax.persistence.EntityManager em, String name) {
        // ruleid: java-sql-string-concat
        Object bad = em.createQuery("SELECT u FROM User u WHERE u.name = '" + name + "'").getSingleResult();
        // ok: java-sql-string-concat
        return em.createQuery("SELECT u FROM User u WHERE u.name = :name").setParameter("name", name).getSingleResult();
    }

    public void negatives(Connection conn, String name, int id) throws SQLException {
        // ok: java-sql-string-concat
        PreparedStatement ps = conn.prepareStatement("SELECT id FROM users WHERE name = ?");
        ps.setString(1, name);
        // ok: java-sql-string-concat
        ResultSet rs = ps.executeQuery();
        Statement stmt = conn.createStatement();
        // ok: java-sql-string-concat
        stmt.executeUpdate("DELETE FROM sessions " + "WHERE expired = true");
        // ok: java-sql-string-concat
        stmt.execute("VACUUM");
    }
}

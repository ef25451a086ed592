import sqlite3


def positives(conn, cursor, user_id, name, table):
    # ruleid: python-sql-string-formatting
    cursor.execute("SELECT * FROM users WHERE id = %s" % user_id)
    # ruleid: python-sql-string-formatting
    cursor.execute("SELECT * FROM users WHERE name = '{}'".format(name))
    # ruleid: python-sql-string-formatting
    conn.execute(f"DELETE FROM {table} WHERE id = {user_id}")
    # ruleid: python-sql-string-formatting
    cursor.execute("SELECT * FROM users WHERE name = '" + name + "'")
    query = f"UPDATE users SET name = '{name}' WHERE id = {user_id}"
    # ruleid: python-sql-string-formatting
    cursor.execute(query)
    # ruleid: python-sql-string-formatting
    cursor.executemany("INSERT INTO %s VALUES (?)" % table, [(1,), (2,)])
    # ruleid: python-sql-string-formatting
    cursor.execute(
        f"INSERT INTO {table} (name) "
        "VALUES ('" + name + "')"
    )
    # ruleid: python-sql-string-formatting
    cursor.execute(f'INSERT INTO "{table}" SELECT * FROM staging ' "ON CONFLICT DO NOTHING")


def negatives(cursor, user_id, name):
    # ok: python-sql-string-formatting
    cursor.execute("SELECT * FROM users WHERE id = %s", (user_id,))
    # ok: python-sql-string-formatting
    cursor.execute("SELECT * FROM users WHERE name = :name", {"name": name})
    query = "SELECT count(*) FROM users"
    # ok: python-sql-string-formatting
    cursor.execute(query)
    # ok: python-sql-string-formatting
    cursor.execute("SELECT id, name " + "FROM users")
    # ok: python-sql-string-formatting
    cursor.execute(f"SELECT 1")
    # ok: python-sql-string-formatting
    sqlite3.connect(":memory:").execute("VACUUM")
    # ok: python-sql-string-formatting
    cursor.execute("SELECT id " "FROM users " "WHERE name = ?", (name,))

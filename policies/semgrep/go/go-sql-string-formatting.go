package store

import (
	"context"
	"database/sql"
	"fmt"
)

func positives(ctx context.Context, db *sql.DB, tx *sql.Tx, name, order string, id int) error {
	// ruleid: go-sql-string-formatting
	rows, err := db.Query(fmt.Sprintf("SELECT id FROM users WHERE name = '%s'", name))
	if err != nil {
		return err
	}
	defer rows.Close()
	// ruleid: go-sql-string-formatting
	row := db.QueryRowContext(ctx, "SELECT email FROM users WHERE name = '"+name+"'")
	_ = row
	query := fmt.Sprintf("DELETE FROM sessions WHERE user_id = %d", id)
	// ruleid: go-sql-string-formatting
	if _, err := tx.ExecContext(ctx, query); err != nil {
		return err
	}
	q := "SELECT id FROM orders WHERE 1=1"
	q += " ORDER BY " + order
	// ruleid: go-sql-string-formatting
	_, err = db.Query(q)
	return err
}

func negatives(ctx context.Context, db *sql.DB, name string, id int) error {
	// ok: go-sql-string-formatting
	rows, err := db.QueryContext(ctx, "SELECT id FROM users WHERE name = $1", name)
	if err != nil {
		return err
	}
	defer rows.Close()
	// ok: go-sql-string-formatting
	_, err = db.Exec("DELETE FROM sessions WHERE user_id = $1", id)
	const base = "SELECT id FROM users "
	// ok: go-sql-string-formatting
	_, err = db.Query(base+"WHERE name = $1", name)
	// ok: go-sql-string-formatting
	_, err = db.Exec("UPDATE users SET seen = now() " + "WHERE id = $1", id)
	// ok: go-sql-string-formatting
	fmt.Println(fmt.Sprintf("user %s", name))
	return err
}

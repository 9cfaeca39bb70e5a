package graphql_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync/atomic"
	"testing"

	"github.com/lib/pq"

	"github.com/rosterhq/roster/internal/app"
	"github.com/rosterhq/roster/store"
)

// TestUsersPageStatements counts the SQL statements of a page of users
// with their second factors and passkeys: one each, whatever the page
// size, not one per user.
func TestUsersPageStatements(t *testing.T) {
	t.Parallel()
	connector, err := pq.NewConnector(testDSN)
	if err != nil {
		t.Fatal(err)
	}
	counter := &countingConnector{Connector: connector}
	db, err := store.OpenDB(context.Background(), sql.OpenDB(counter))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := newTestEnvWithDB(t, db, app.Config{})
	// COPY, which seeding uses, goes past the counting connections.
	plain, err := store.Open(context.Background(), testDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Close() })
	if _, err := plain.SeedUsers(context.Background(), e.A.ID, 199); err != nil {
		t.Fatal(err)
	}
	addPasskeys(t, e.A.ID, 40)

	query := `query($first: Int) { users(first: $first) { edges { node { id email mfa { enabled defaultMethod methods { type target } recoveryCodesRemaining } passkeys { name } } } } }`
	type page struct {
		Users struct {
			Edges []struct {
				Node struct {
					ID    string
					Email string
					Mfa   struct {
						Enabled       bool
						DefaultMethod *string
						Methods       []struct {
							Type   string
							Target *string
						}
						RecoveryCodesRemaining int
					}
					Passkeys []struct{ Name string }
				}
			}
		}
	}
	e.query(e.A.Viewer, query, &page{}, "first", 3) // the API token is cached after its first use
	for _, first := range []int{50, 200} {
		var p page
		before := counter.statements.Load()
		e.query(e.A.Viewer, query, &p, "first", first)
		n := counter.statements.Load() - before
		if len(p.Users.Edges) != first {
			t.Fatalf("first %d: %d users", first, len(p.Users.Edges))
		}
		withMFA, withPasskeys := 0, 0
		for _, edge := range p.Users.Edges {
			if edge.Node.Mfa.Enabled {
				withMFA++
			}
			if len(edge.Node.Passkeys) > 0 {
				withPasskeys++
			}
		}
		if withMFA == 0 || (first == 200 && withPasskeys != 40) {
			t.Fatalf("first %d: %d users with MFA, %d with passkeys: the page is not the one meant", first, withMFA, withPasskeys)
		}
		if n > 4 {
			t.Fatalf("first %d: %d statements, want at most 4", first, n)
		}
		t.Logf("first %d: %d statements", first, n)
	}
}

// addPasskeys gives n of the tenant's users a passkey.
func addPasskeys(t *testing.T, tenantID string, n int) {
	t.Helper()
	db, err := sql.Open("postgres", testDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Exec(`
		INSERT INTO passkeys (tenant_id, id, user_id, credential_id, public_key, name, created_at, transports)
		SELECT tenant_id, gen_random_uuid(), id, convert_to(id::text, 'UTF8'), '\x00', 'Key of ' || user_name, now(), '{internal}'
		FROM users WHERE tenant_id = $1 ORDER BY created_at LIMIT $2`, tenantID, n)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`UPDATE users SET mfa_methods = array_append(mfa_methods, 'passkey')
		WHERE tenant_id = $1 AND id IN (SELECT user_id FROM passkeys WHERE tenant_id = $1)`, tenantID)
	if err != nil {
		t.Fatal(err)
	}
}

// countingConnector counts the statements its connections run: queries,
// commands and executions of prepared statements.
type countingConnector struct {
	driver.Connector
	statements atomic.Int64
}

func (c *countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, n: &c.statements}, nil
}

type countingConn struct {
	driver.Conn
	n *atomic.Int64
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.n.Add(1)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.n.Add(1)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: s, n: c.n}, nil
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.n.Add(1)
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *countingConn) CheckNamedValue(v *driver.NamedValue) error {
	if checker, ok := c.Conn.(driver.NamedValueChecker); ok {
		return checker.CheckNamedValue(v)
	}
	return driver.ErrSkip
}

type countingStmt struct {
	driver.Stmt
	n *atomic.Int64
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.n.Add(1)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.n.Add(1)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

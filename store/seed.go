package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var (
	seedGivenNames = strings.Fields(`James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth
		William Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy
		Matthew Betty Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna
		Joshua Michelle Kenneth Carol Kevin Amanda Brian Dorothy George Melissa Timothy Deborah Aisha Mohammed
		Wei Yuki Olga Pierre Ingrid Mateo Sofia Lukas Amara Kenji Priya Arjun Fatima Omar Leila Jonas Astrid
		Siobhan Niamh Eoin Zofia Tomasz Elif Emre Chiara Luca Ana Joao Hana Minh Thandiwe Kwame Nia Ravi`)
	seedFamilyNames = strings.Fields(`Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez
		Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White
		Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
		Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Muller Schmidt Schneider
		Fischer Weber Dubois Laurent Rossi Russo Ferrari Kowalski Nowak Novak Horvat Jensen Hansen Nielsen
		Johansson Andersson Virtanen Murphy Kelly OSullivan Walsh Tanaka Suzuki Sato Kim Park Chen Wang Li
		Zhang Singh Kumar Patel Shah Khan Okafor Mensah Diallo Haddad Cohen Levi Yilmaz Kaya Silva Santos`)
	seedDomains = []string{"example.com", "example.org", "example.net", "corp.example", "mail.example"}
)

// SeedUsers loads n synthetic but realistic users into a tenant with COPY,
// in one transaction: names from common lists, about 2% admins and 18%
// developers, 90% active, sign-ups spread over three years and sign-ins over
// the last 90 days (a fifth never signed in). It returns how many it loaded.
func (db *DB) SeedUsers(ctx context.Context, tenantID string, n int) (int, error) {
	if n < 1 {
		return 0, roster.Invalid(roster.FieldError{Field: "users", Message: "must be at least 1"})
	}
	if !isUUID(tenantID) {
		return 0, roster.Errorf(roster.ENOTFOUND, "tenant not found")
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed))
	run := fmt.Sprintf("%04x", rng.IntN(1<<16)) // keeps reruns from colliding on email
	now := db.now()
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var uniqueEmail []bool // none when the tenant does not exist
		if err := tx.SelectContext(ctx, &uniqueEmail, `SELECT `+uniqueEmailSetting+` FROM tenants WHERE id = $1 FOR SHARE`, tenantID); err != nil {
			return err
		}
		if len(uniqueEmail) == 0 {
			return roster.Errorf(roster.ENOTFOUND, "tenant not found")
		}
		rebuild, err := dropIndexesForBulkLoad(ctx, tx, n)
		if err != nil {
			return err
		}
		recount, err := pauseUserCountsForBulkLoad(ctx, tx, n)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `COPY users (tenant_id, id, user_name, email, given_name, family_name,
			display_name, role, active, created_at, updated_at, last_login_at, mfa_methods, mfa_default, email_unique) FROM STDIN`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		var allMethods []seedMethod
		for i := range n {
			given := seedGivenNames[rng.IntN(len(seedGivenNames))]
			family := seedFamilyNames[rng.IntN(len(seedFamilyNames))]
			local := fmt.Sprintf("%s.%s.%s%d", strings.ToLower(given), strings.ToLower(family), run, i)
			email := local + "@" + seedDomains[rng.IntN(len(seedDomains))]
			role := roster.RoleViewer
			switch r := rng.IntN(100); {
			case r < 2:
				role = roster.RoleAdmin
			case r < 20:
				role = roster.RoleDeveloper
			}
			created := now.Add(-time.Duration(rng.Int64N(int64(3 * 365 * 24 * time.Hour))))
			var lastLogin any
			if rng.IntN(5) > 0 {
				lastLogin = now.Add(-time.Duration(rng.Int64N(int64(90 * 24 * time.Hour))))
			}
			id := newID()
			// A third of the users have enrolled email codes, a tenth SMS:
			// real method rows, written by the second COPY below.
			var methods []seedMethod
			if rng.IntN(3) == 0 {
				methods = append(methods, seedMethod{id, roster.MFAEmail, email, created})
			}
			if rng.IntN(10) == 0 {
				methods = append(methods, seedMethod{id, roster.MFASMS, fmt.Sprintf("+1555%07d", rng.IntN(10_000_000)), created})
			}
			names, def := "{}", any(nil)
			if len(methods) > 0 {
				types := make([]string, len(methods))
				for j, m := range methods {
					types[j] = m.typ
				}
				names, def = "{"+strings.Join(types, ",")+"}", types[0]
			}
			allMethods = append(allMethods, methods...)
			if _, err := stmt.ExecContext(ctx, tenantID, id, local, email, given, family,
				given+" "+family, role, rng.IntN(10) > 0, created, created, lastLogin, names, def, uniqueEmail[0]); err != nil {
				return err
			}
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			return err
		}
		if err := stmt.Close(); err != nil {
			return err
		}
		if err := copyMethods(ctx, tx, tenantID, allMethods); err != nil {
			return err
		}
		if err := rebuild(); err != nil {
			return err
		}
		if err := recount(tenantID); err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, tenantID, roster.Actor{Type: roster.ActorSystem, ID: "seed"},
			roster.ActionUsersSeeded, "tenant", tenantID, map[string]any{"count": n})
	})
	if err != nil {
		return 0, err
	}
	// Fresh statistics let the planner pick the right index at once, and a
	// vacuumed table allows index-only scans.
	if _, err := db.db.ExecContext(ctx, `VACUUM (ANALYZE) users`); err != nil {
		return n, fmt.Errorf("vacuum users: %w", translate(err))
	}
	return n, nil
}

// bulkLoadThreshold is the load size above which building the users
// indexes once, after COPY, beats maintaining them row by row (the trigram
// index above all).
const bulkLoadThreshold = 50_000

// dropIndexesForBulkLoad drops the users table's secondary indexes inside
// the seeding transaction when n is large, and returns the function that
// recreates them from their own definitions. The table stays locked until
// commit; if a unique index cannot be rebuilt, the whole load rolls back.
func dropIndexesForBulkLoad(ctx context.Context, tx *sqlx.Tx, n int) (rebuild func() error, err error) {
	if n < bulkLoadThreshold {
		return func() error { return nil }, nil
	}
	var defs []struct {
		Name string `db:"indexname"`
		Def  string `db:"indexdef"`
	}
	err = tx.SelectContext(ctx, &defs, `
		SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = 'users' AND indexname <> 'users_pkey'
		ORDER BY indexname::regclass::oid`) // rebuilt in the order they were made, which is the order unique violations are found in
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		if _, err := tx.ExecContext(ctx, `DROP INDEX `+pq.QuoteIdentifier(d.Name)); err != nil {
			return nil, err
		}
	}
	return func() error {
		if _, err := tx.ExecContext(ctx, `SET LOCAL maintenance_work_mem = '512MB'`); err != nil {
			return err
		}
		for _, d := range defs {
			if _, err := tx.ExecContext(ctx, d.Def); err != nil {
				return fmt.Errorf("rebuild index %s: %w", d.Name, err)
			}
		}
		return nil
	}, nil
}

// seedMethod is a verified second factor of a seeded user.
type seedMethod struct {
	userID, typ, target string
	since               time.Time
}

// copyMethods loads the seeded users' method rows with COPY.
func copyMethods(ctx context.Context, tx *sqlx.Tx, tenantID string, methods []seedMethod) error {
	stmt, err := tx.PrepareContext(ctx, `COPY mfa_methods (tenant_id, user_id, type, target, verified, created_at, verified_at) FROM STDIN`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, m := range methods {
		if _, err := stmt.ExecContext(ctx, tenantID, m.userID, m.typ, m.target, true, m.since, m.since); err != nil {
			return err
		}
	}
	_, err = stmt.ExecContext(ctx)
	return err
}

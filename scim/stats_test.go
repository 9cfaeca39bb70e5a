package scim_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// TestStatsFollowSCIMProvisioning provisions, deactivates, replaces and
// deletes users as an identity provider does, and checks the dashboard
// counters against a direct count of the users table after each step.
func TestStatsFollowSCIMProvisioning(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	stats := store.NewStatsService(e.DB)
	check := func(when string, wantTotal, wantActive int64) {
		t.Helper()
		for _, tid := range []string{e.A.ID, e.B.ID} {
			got, err := stats.UserStats(context.Background(), tid, roster.StatsFilter{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := stats.LiveUserStats(context.Background(), tid, roster.StatsFilter{})
			if err != nil {
				t.Fatal(err)
			}
			got.AsOf, want.AsOf = time.Time{}, time.Time{} // two reads, two instants
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: counters %+v, direct count %+v", when, got, want)
			}
			if tid == e.A.ID && (got.TotalUsers != wantTotal || got.ActiveUsers != wantActive) {
				t.Fatalf("%s: total %d active %d, want %d and %d", when, got.TotalUsers, got.ActiveUsers, wantTotal, wantActive)
			}
			if tid == e.B.ID && got.TotalUsers != 1 {
				t.Fatalf("%s: tenant B has %d users, want its admin alone", when, got.TotalUsers)
			}
		}
	}
	var ids []string
	for i := range 4 {
		r := e.call("POST", "/scim/v2/Users", e.A.SCIM, oktaUser(fmt.Sprintf("p%d@example.com", i))).must(t, 201)
		ids = append(ids, str(r.Body, "id"))
	}
	check("after provisioning", 5, 5)

	e.call("PATCH", "/scim/v2/Users/"+ids[0], e.A.SCIM, map[string]any{
		"schemas": []string{patchOp}, "Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}},
	}).must(t, 200)
	replaced := oktaUser("p1@example.com")
	replaced["active"] = false
	e.call("PUT", "/scim/v2/Users/"+ids[1], e.A.SCIM, replaced).must(t, 200)
	check("after deactivations", 5, 3)

	e.call("DELETE", "/scim/v2/Users/"+ids[2], e.A.SCIM, nil).must(t, 204)
	check("after a deletion", 4, 2)
}

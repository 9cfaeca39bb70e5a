package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestTenantCreatePlan: a tenant starts on the plan --plan names (free by
// default), and an unknown plan is refused before anything is made.
func TestTenantCreatePlan(t *testing.T) {
	var created struct {
		TenantID string `json:"tenant_id"`
		Plan     string `json:"plan"`
	}
	out := roster(t, "tenant", "create", "--name", "Plan Corp", "--admin-email", "admin@plancorp.example", "--plan", "enterprise", "--json")
	if err := json.Unmarshal(out, &created); err != nil || created.Plan != "enterprise" || created.TenantID == "" {
		t.Fatalf("tenant create --plan enterprise: %s (%v)", out, err)
	}
	if b := createTenant(t, "Free Corp"); b.TenantID == "" {
		t.Fatal("no tenant")
	}
	cmd := exec.Command(rosterBin, "tenant", "create", "--name", "Gold Corp", "--admin-email", "admin@gold.example", "--plan", "gold")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+testDSN)
	msg, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "--plan must be one of free, professional, enterprise") {
		t.Fatalf("an unknown plan: %v %s", err, msg)
	}
}

package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

// TestJobKeepsTheWholeSelection: a queued job selects exactly the users
// the request did. Every field of the filter is set (by reflection, so a
// field added later is covered too), kept as the jobs table keeps it, and
// read back.
func TestJobKeepsTheWholeSelection(t *testing.T) {
	f := &roster.UserFilter{}
	v := reflect.ValueOf(f).Elem()
	yes, when := true, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for i := range v.NumField() {
		field, name := v.Field(i), v.Type().Field(i).Name
		switch name {
		case "Sort", "Limit", "Cursor":
			continue // a selection has no order or page
		case "Scope":
			continue // kept apart, as the request's Scope
		}
		switch field.Interface().(type) {
		case string:
			field.SetString("x-" + name)
		case bool:
			field.SetBool(true)
		case *bool:
			field.Set(reflect.ValueOf(&yes))
		case *time.Time:
			field.Set(reflect.ValueOf(&when))
		default:
			t.Fatalf("UserFilter.%s is of a type this test does not set: teach it", name)
		}
	}
	req := roster.BulkRequest{Action: roster.BulkRemindMFA, Filter: f, Scope: roster.UserScope{Teams: []string{"t1"}}}
	f.Scope = req.Scope
	raw, err := json.Marshal(newJobParams(req))
	if err != nil {
		t.Fatal(err)
	}
	var kept jobParams
	if err := json.Unmarshal(raw, &kept); err != nil {
		t.Fatal(err)
	}
	got := kept.request()
	if !reflect.DeepEqual(got.Filter, f) || !reflect.DeepEqual(got.Scope, req.Scope) || got.Action != req.Action {
		t.Fatalf("the job selects\n%+v\nthe request selected\n%+v", got.Filter, f)
	}
}

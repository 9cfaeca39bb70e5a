package roster

import (
	"slices"
	"testing"
)

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want []string // the fields named, nil when the query parses
	}{
		{"q=a%20b&limit=5&role=viewer&role=admin", nil},
		{"", nil},
		{"cursor=%%%", []string{"cursor"}},
		{"limit=%zz&q=ok", []string{"limit"}},
		{"%zz=1", []string{"%zz"}},
		{"a;b=1", []string{"a;b"}},
		{"q=%00", []string{"q"}},
		{"q=%ff&role=%", []string{"q", "role"}},
		{"x%00=1", []string{`x\u0000`}},
	} {
		values, err := ParseQuery(tc.raw)
		var got []string
		for _, f := range ErrorFields(err) {
			got = append(got, f.Field)
		}
		if !slices.Equal(got, tc.want) || (err == nil) != (tc.want == nil) {
			t.Errorf("ParseQuery(%q) names %q (err %v), want %q", tc.raw, got, err, tc.want)
		}
		if err == nil && tc.raw != "" && len(values) == 0 {
			t.Errorf("ParseQuery(%q) lost the values", tc.raw)
		}
	}
}

func TestJSONTextProblems(t *testing.T) {
	got := JSONTextProblems([]byte(`{"a":"ok","b":{"c":["x","y\u0000"]},"k\u0000":1,"d":"\u00e9\ud800"}`))
	var names []string
	for _, f := range got {
		names = append(names, f.Field)
	}
	if want := []string{"b.c[1]", `k\u0000`}; !slices.Equal(names, want) {
		t.Fatalf("JSONTextProblems named %q, want %q", names, want)
	}
	if got := JSONTextProblems([]byte(`{"a":"\n\t\"\\"}`)); got != nil {
		t.Fatalf("escapes that are not NUL named %v", got)
	}
}

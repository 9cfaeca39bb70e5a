package roster

import "testing"

func TestParseIfMatch(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int64
		invalid bool
	}{
		{"", 0, false}, {"*", 0, false}, {` "3" `, 3, false}, {`W/"3"`, 3, false},
		{`"abc"`, NoVersion, false}, {`W/"stale"`, NoVersion, false}, {`"0"`, NoVersion, false},
		{`"03"`, NoVersion, false}, {`W/""`, NoVersion, false}, {`"x", W/"7"`, 7, false}, {`"7", W/"7"`, 7, false},
		{`abc`, 0, true}, {`W/abc`, 0, true}, {`"1`, 0, true}, {`"1" "2"`, 0, true}, {`"a"b"`, 0, true},
		{`"1", "2"`, 0, true}, {"\"a\x01\"", 0, true},
	} {
		got, err := ParseIfMatch(tc.in)
		if (err != nil) != tc.invalid || (err == nil && got != tc.want) {
			t.Errorf("ParseIfMatch(%q) = %d, %v; want %d, invalid %v", tc.in, got, err, tc.want, tc.invalid)
		}
	}
}

package worker

import (
	"testing"
	"time"
)

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	w := New(nil, nil, nil, Config{EmailBackoff: 30 * time.Second, EmailMaxBackoff: 5 * time.Minute})
	for attempt, want := range map[int]time.Duration{
		1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 4: 4 * time.Minute, 5: 5 * time.Minute, 40: 5 * time.Minute,
	} {
		if got := w.backoff(attempt); got != want {
			t.Errorf("backoff after attempt %d = %v, want %v", attempt, got, want)
		}
	}
}

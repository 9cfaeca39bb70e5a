package worker

import (
	"testing"
	"time"
)

// The default schedule retries a delivery for about a day: waits of 30 s
// doubling to 2 h, and no attempt later than 24 h after the first.
func TestWebhookRetryScheduleSpansADay(t *testing.T) {
	c := Config{}.withDefaults()
	attempts := 1
	for scheduled(c.WebhookBackoff, c.WebhookMaxBackoff, attempts+1) <= c.WebhookRetryFor {
		attempts++
	}
	last := scheduled(c.WebhookBackoff, c.WebhookMaxBackoff, attempts)
	if last < 20*time.Hour || last > 24*time.Hour {
		t.Fatalf("the last of %d attempts comes %v after the first, want about a day", attempts, last)
	}
	if d := doubling(c.WebhookBackoff, c.WebhookMaxBackoff, 1); d != 30*time.Second {
		t.Fatalf("first wait %v", d)
	}
	if d := doubling(c.WebhookBackoff, c.WebhookMaxBackoff, 30); d != 2*time.Hour {
		t.Fatalf("wait after many failures %v, want the 2h cap", d)
	}
}

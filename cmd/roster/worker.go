package main

import (
	"fmt"
	"strconv"

	"github.com/rosterhq/roster/worker"
)

// workerConfigFromEnv reads the background workers' settings:
// ROSTER_JOB_WORKERS (jobs run at once, default 1) and
// ROSTER_EMAIL_MAX_ATTEMPTS (deliveries tried before a message is dead,
// default 8).
func workerConfigFromEnv(getenv func(string) string) (worker.Config, error) {
	var c worker.Config
	for _, v := range []struct {
		name    string
		dst     *int
		lo, hi  int
		meaning string
	}{
		{"ROSTER_JOB_WORKERS", &c.JobWorkers, 1, 32, "jobs run at once"},
		{"ROSTER_EMAIL_MAX_ATTEMPTS", &c.EmailMaxAttempts, 1, 50, "delivery attempts"},
	} {
		s := getenv(v.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < v.lo || n > v.hi {
			return c, fmt.Errorf("%s must be a number of %s from %d to %d, not %q", v.name, v.meaning, v.lo, v.hi, s)
		}
		*v.dst = n
	}
	return c, nil
}

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
	err := intsFromEnv(getenv, []intSetting{
		{"ROSTER_JOB_WORKERS", &c.JobWorkers, 1, 32, "jobs run at once"},
		{"ROSTER_EMAIL_MAX_ATTEMPTS", &c.EmailMaxAttempts, 1, 50, "delivery attempts"},
	})
	return c, err
}

// intSetting is a number read from the environment, within lo and hi.
type intSetting struct {
	name    string
	dst     *int
	lo, hi  int
	meaning string
}

// intsFromEnv reads each setting that is set, and says which is out of
// range.
func intsFromEnv(getenv func(string) string, settings []intSetting) error {
	for _, v := range settings {
		s := getenv(v.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < v.lo || n > v.hi {
			return fmt.Errorf("%s must be a number of %s from %d to %d, not %q", v.name, v.meaning, v.lo, v.hi, s)
		}
		*v.dst = n
	}
	return nil
}

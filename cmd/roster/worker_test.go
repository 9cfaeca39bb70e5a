package main

import "testing"

func TestWorkerConfig(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(name string) string { return vars[name] }
	}
	c, err := ConfigFromEnv(env(map[string]string{"ROSTER_JOB_WORKERS": "4", "ROSTER_EMAIL_MAX_ATTEMPTS": "3"}))
	if err != nil || c.Worker.JobWorkers != 4 || c.Worker.EmailMaxAttempts != 3 {
		t.Fatalf("worker config: %+v %v", c.Worker, err)
	}
	for _, vars := range []map[string]string{
		{"ROSTER_JOB_WORKERS": "0"}, {"ROSTER_JOB_WORKERS": "many"}, {"ROSTER_EMAIL_MAX_ATTEMPTS": "51"},
	} {
		if _, err := ConfigFromEnv(env(vars)); err == nil {
			t.Errorf("%v was accepted", vars)
		}
	}
}

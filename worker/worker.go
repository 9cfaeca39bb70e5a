// Package worker runs Roster's background work inside `roster serve`: bulk
// jobs claimed from PostgreSQL, and the delivery of the email outbox with
// retries. Every worker of every process claims with FOR UPDATE SKIP LOCKED
// under a lease, so any number of them can run at once, and work a process
// was doing when it died is taken over once its lease expires.
package worker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/notify"
)

// Config shapes the workers; zero fields take the defaults below.
type Config struct {
	JobWorkers   int           // jobs run at once by this process; default 1
	JobLease     time.Duration // how long a silent worker keeps a job; default 30s
	JobSlice     int           // users a job runs before yielding to others; default 5000
	PollInterval time.Duration // how often idle workers look for work; default 1s

	EmailBatch       int           // messages claimed at once; default 10
	EmailLease       time.Duration // how long a claimed message stays hidden; default 2m
	EmailMaxAttempts int           // attempts before a message is dead; default 8
	EmailBackoff     time.Duration // wait after the first failure, doubled after each; default 30s
	EmailMaxBackoff  time.Duration // the longest wait; default 1h
	SendTimeout      time.Duration // one delivery; default 30s

	WebhookBatch        int           // deliveries claimed, and webhooks fanned out, at once; default 10
	WebhookLease        time.Duration // how long a claimed delivery stays hidden; default 1m
	WebhookBackoff      time.Duration // wait after the first failure, doubled after each; default 30s
	WebhookMaxBackoff   time.Duration // the longest wait; default 2h
	WebhookRetryFor     time.Duration // how long a delivery is retried before it fails; default 24h
	WebhookDisableAfter time.Duration // how long an endpoint may fail before it is disabled; default 24h

	// DailyCheck is how often a process looks for the day's inactivity
	// jobs to queue (each tenant's is queued once a day, whoever looks);
	// default 1h.
	DailyCheck       time.Duration
	ReminderInterval time.Duration // how often expiring credentials are looked for; default 1m
	PurgeInterval    time.Duration // how often what retention lets go is deleted; default 1h
	ReminderBatch    int           // reminders queued at once; default 100
}

func (c Config) withDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt(&c.JobWorkers, 1)
	def(&c.JobLease, 30*time.Second)
	defInt(&c.JobSlice, 5000)
	def(&c.PollInterval, time.Second)
	defInt(&c.EmailBatch, 10)
	def(&c.EmailLease, 2*time.Minute)
	defInt(&c.EmailMaxAttempts, 8)
	def(&c.EmailBackoff, 30*time.Second)
	def(&c.EmailMaxBackoff, time.Hour)
	def(&c.SendTimeout, 30*time.Second)
	defInt(&c.WebhookBatch, 10)
	def(&c.WebhookLease, time.Minute)
	def(&c.WebhookBackoff, 30*time.Second)
	def(&c.WebhookMaxBackoff, 2*time.Hour)
	def(&c.WebhookRetryFor, 24*time.Hour)
	def(&c.WebhookDisableAfter, 24*time.Hour)
	def(&c.DailyCheck, time.Hour)
	def(&c.ReminderInterval, time.Minute)
	def(&c.PurgeInterval, time.Hour)
	defInt(&c.ReminderBatch, 100)
	return c
}

// Worker runs jobs and delivers mail until stopped.
type Worker struct {
	Jobs   roster.JobRunner
	Outbox roster.EmailOutbox
	Mailer notify.Mailer // nil leaves mail in the outbox
	// Webhooks and Hooks deliver webhooks; either nil leaves them queued.
	Webhooks roster.WebhookOutbox
	Hooks    *notify.HookSender
	// Reminders mails the owners of expiring keys and service tokens
	// through the outbox; nil reminds no one.
	Reminders roster.CredentialReminders
	// Purger deletes what retention lets go; nil keeps everything.
	Purger roster.Purger
	// Grants records the ends of temporary grants every ReminderInterval;
	// nil leaves them to be recorded when the user's grants are next read.
	Grants roster.GrantExpiries
	Log    *slog.Logger
	Now    func() time.Time

	cfg   Config
	owner string
	// dailyChecked is when QueueDailyJobs last looked; only its loop
	// touches it.
	dailyChecked time.Time
	cancel       context.CancelFunc
	wg           sync.WaitGroup
}

// New returns a worker; set Mailer before Start for mail to go out.
func New(jobs roster.JobRunner, outbox roster.EmailOutbox, log *slog.Logger, cfg Config) *Worker {
	host, _ := os.Hostname()
	return &Worker{Jobs: jobs, Outbox: outbox, Log: log, Now: time.Now, cfg: cfg.withDefaults(),
		owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8])}
}

// Owner is the name this worker claims leases under.
func (w *Worker) Owner() string { return w.owner }

// Start runs the job workers, the webhook fan-out and sender, and the mail
// sender in the background.
func (w *Worker) Start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(ctx)
	for range w.cfg.JobWorkers {
		w.loop(ctx, w.RunJob)
	}
	w.loop(ctx, func(ctx context.Context) (bool, error) {
		_, err := w.QueueDailyJobs(ctx)
		return false, err
	})
	if w.Purger != nil {
		// The first purge waits an interval: a process that restarts
		// often does not purge at each start.
		waited := false
		w.loopEvery(ctx, w.cfg.PurgeInterval, func(ctx context.Context) (bool, error) {
			if !waited {
				waited = true
				return false, nil
			}
			_, _, err := w.Purger.Purge(ctx, false)
			return false, err
		})
	}
	if w.Reminders != nil {
		w.loopEvery(ctx, w.cfg.ReminderInterval, func(ctx context.Context) (bool, error) {
			n, err := w.RemindExpiringCredentials(ctx)
			return n > 0, err
		})
	}
	if w.Grants != nil {
		w.loopEvery(ctx, w.cfg.ReminderInterval, func(ctx context.Context) (bool, error) {
			n, err := w.Grants.RecordEndedGrants(ctx, w.cfg.ReminderBatch)
			return n > 0, err
		})
	}
	if w.webhooksOn() {
		w.loop(ctx, func(ctx context.Context) (bool, error) {
			n, err := w.FanOutWebhooks(ctx)
			return n > 0, err
		})
		w.loop(ctx, func(ctx context.Context) (bool, error) {
			n, err := w.DeliverWebhooks(ctx)
			return n > 0, err
		})
	}
	if w.Mailer == nil {
		w.Log.Warn("no mailer: outgoing mail stays in the outbox until one is configured")
		return
	}
	w.loop(ctx, func(ctx context.Context) (bool, error) {
		n, err := w.DeliverEmails(ctx)
		return n > 0, err
	})
}

// Stop asks the workers to stop and waits for them: a running job is put
// back in the queue at the user it reached, for the next start to go on.
func (w *Worker) Stop() {
	if w.cancel != nil {
		w.cancel()
	}
	w.wg.Wait()
}

// loop calls step until ctx ends, pausing when it found nothing to do.
func (w *Worker) loop(ctx context.Context, step func(context.Context) (bool, error)) {
	w.loopEvery(ctx, w.cfg.PollInterval, step)
}

// loopEvery is loop with a pause of its own.
func (w *Worker) loopEvery(ctx context.Context, pause time.Duration, step func(context.Context) (bool, error)) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for ctx.Err() == nil {
			busy, err := step(ctx)
			if err != nil && ctx.Err() == nil {
				w.Log.Error("background work failed", "err", err)
			}
			if busy && err == nil {
				continue
			}
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
		}
	}()
}

// RemindExpiringCredentials queues one batch of expiry reminders and
// reports how many it queued. Every replica runs it; the store makes each
// reminder once.
func (w *Worker) RemindExpiringCredentials(ctx context.Context) (int, error) {
	return w.Reminders.RemindExpiringCredentials(ctx, w.cfg.ReminderBatch)
}

// RunJob claims one job and runs a slice of it. It reports whether there
// was a job.
func (w *Worker) RunJob(ctx context.Context) (bool, error) {
	job, err := w.Jobs.ClaimJob(ctx, w.owner, w.cfg.JobLease)
	if err != nil || job == nil {
		return false, err
	}
	err = w.Jobs.RunJob(ctx, job, w.owner, w.cfg.JobLease, w.cfg.JobSlice)
	if errors.Is(err, context.Canceled) {
		return true, nil
	}
	if err != nil {
		return true, fmt.Errorf("job %s: %w", job.ID, err)
	}
	return true, nil
}

// QueueDailyJobs queues the day's inactivity jobs, at most once every
// DailyCheck in this process, and returns how many it queued.
func (w *Worker) QueueDailyJobs(ctx context.Context) (int, error) {
	now := w.Now()
	if !w.dailyChecked.IsZero() && now.Sub(w.dailyChecked) < w.cfg.DailyCheck {
		return 0, nil
	}
	n, err := w.Jobs.QueueInactivityJobs(ctx)
	if err == nil {
		w.dailyChecked = now
	}
	return n, err
}

// DeliverEmails sends one batch of due mail and returns how many it tried.
// A failed message is retried after a wait that doubles with each attempt,
// and is dead after EmailMaxAttempts.
func (w *Worker) DeliverEmails(ctx context.Context) (int, error) {
	msgs, err := w.Outbox.ClaimEmails(ctx, w.cfg.EmailBatch, w.cfg.EmailLease)
	if err != nil {
		return 0, err
	}
	for _, m := range msgs {
		sendCtx, cancel := context.WithTimeout(ctx, w.cfg.SendTimeout)
		err := w.Mailer.Send(sendCtx, notify.Message{To: m.To, Subject: m.Subject, Text: m.Body})
		cancel()
		// The outbox is updated even as the process stops: the send happened.
		rec := context.WithoutCancel(ctx)
		if err == nil {
			if err := w.Outbox.EmailSent(rec, m); err != nil {
				return len(msgs), err
			}
			continue
		}
		var retryAt *time.Time
		if m.Attempts < w.cfg.EmailMaxAttempts {
			t := w.Now().Add(w.backoff(m.Attempts))
			retryAt = &t
		}
		w.Log.Warn("mail not delivered", "email_id", m.ID, "to", roster.MaskEmail(m.To), "attempt", m.Attempts,
			"dead", retryAt == nil, "err", err)
		if err := w.Outbox.EmailFailed(rec, m, err.Error(), retryAt); err != nil {
			return len(msgs), err
		}
	}
	return len(msgs), nil
}

// backoff is the wait after the attempt-th failure: EmailBackoff doubled
// for each earlier failure, at most EmailMaxBackoff.
func (w *Worker) backoff(attempt int) time.Duration {
	return doubling(w.cfg.EmailBackoff, w.cfg.EmailMaxBackoff, attempt)
}

package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of /proc CPU times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// cpuProbe measures, over one scenario, the CPU time spent by the load
// generator (this process), `roster serve`, and the PostgreSQL backends
// connected to the bench database, and by the whole machine. It tells where
// a request's cost goes, and how much else was running meanwhile. It reads
// /proc, so it only works on Linux; elsewhere the numbers stay zero.
type cpuProbe struct {
	db        *sql.DB
	dbName    string // whose backends count as PostgreSQL's share
	clientPID int    // the load generator; 0 for this process
	serverPID int    // roster serve; 0 for none
}

// cpuSnapshot is the CPU time counters at one instant.
type cpuSnapshot struct {
	at       time.Time
	self     time.Duration
	server   time.Duration
	backends map[int]time.Duration
	busy     time.Duration // all CPUs, non-idle, machine-wide
}

// cpuUsage is the CPU time spent between two snapshots.
type cpuUsage struct {
	wall                      time.Duration
	self, server, pg, machine time.Duration
	ok                        bool
}

func (p *cpuProbe) snapshot(ctx context.Context) cpuSnapshot {
	s := cpuSnapshot{at: time.Now(), backends: map[int]time.Duration{}}
	if p.clientPID > 0 {
		s.self = procCPU(p.clientPID)
	} else {
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	s.server = procCPU(p.serverPID)
	if p.db != nil {
		rows, err := p.db.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'`, p.dbName)
		if err == nil {
			for rows.Next() {
				var pid int
				if rows.Scan(&pid) == nil {
					s.backends[pid] = procCPU(pid)
				}
			}
			rows.Close()
		}
	}
	s.busy = machineBusy()
	return s
}

// since is the usage from start to s.
func (s cpuSnapshot) since(start cpuSnapshot) cpuUsage {
	u := cpuUsage{wall: s.at.Sub(start.at), self: s.self - start.self, server: s.server - start.server,
		machine: s.busy - start.busy, ok: s.busy > 0}
	for pid, t := range s.backends {
		u.pg += t - start.backends[pid] // a backend opened meanwhile started at 0
	}
	return u
}

// perRequest is d spread over n requests.
func perRequest(d time.Duration, n int) string {
	if n == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f µs", float64(d.Microseconds())/float64(n))
}

// cores is d as a number of CPUs kept busy over the wall time.
func (u cpuUsage) cores(d time.Duration) string {
	if u.wall <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", d.Seconds()/u.wall.Seconds())
}

// others is what the rest of the machine used: other tests, other
// databases, the kernel's work not charged to the three.
func (u cpuUsage) others() time.Duration {
	return max(u.machine-u.self-u.server-u.pg, 0)
}

// procCPU is a process's user plus system time from /proc/PID/stat.
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * clockTick
}

// machineBusy is the non-idle time of all CPUs since boot, from /proc/stat.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		switch i {
		case 3, 4: // idle, iowait
		case 8, 9: // guest time is already counted in user
		default:
			busy += n
		}
	}
	return time.Duration(busy) * clockTick
}

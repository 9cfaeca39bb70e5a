package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// server is a `roster serve` child process on a loopback port.
type server struct {
	cmd     *exec.Cmd
	baseURL string
	logPath string
	logFile *os.File
	exited  chan error
}

// startServer starts the service on a free loopback port and waits until
// /readyz answers 200.
func startServer(ctx context.Context, binary, databaseURL string) (*server, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	// The log outlives the run (the build folder does not), for a look at
	// what the server said under load.
	s := &server{baseURL: "http://" + addr, logPath: filepath.Join(os.TempDir(), "roster-bench-serve.log"), exited: make(chan error, 1)}
	if s.logFile, err = os.Create(s.logPath); err != nil {
		return nil, err
	}
	// Not CommandContext: the server is stopped with SIGTERM, not killed.
	s.cmd = exec.Command(binary, "serve")
	s.cmd.Env = append(cleanEnv(), "DATABASE_URL="+databaseURL, "ROSTER_ADDR="+addr, "ROSTER_LOG_FORMAT=json",
		"ROSTER_SCIM_RATE_LIMIT=1000000", // the bench measures Roster, not its throttle
		"ROSTER_DEBUG_ADDR="+os.Getenv("BENCH_DEBUG_ADDR"))
	s.cmd.Stdout, s.cmd.Stderr = s.logFile, s.logFile
	if err := s.cmd.Start(); err != nil {
		s.logFile.Close()
		return nil, fmt.Errorf("start roster serve: %w", err)
	}
	go func() { s.exited <- s.cmd.Wait() }()

	probe := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.baseURL+"/readyz", nil)
		if resp, err := probe.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case err := <-s.exited:
			s.exited <- err
			s.logFile.Close()
			return nil, fmt.Errorf("roster serve exited before it was ready (%v):\n%s", err, tail(s.logPath, 2000))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("roster serve was not ready after 2 minutes:\n%s", tail(s.logPath, 2000))
		}
	}
}

// stop sends SIGTERM and waits for the graceful shutdown; after 40 seconds
// (the server allows in-flight requests 30) it kills the process.
func (s *server) stop() error {
	defer s.logFile.Close()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case err := <-s.exited:
		if err != nil {
			return fmt.Errorf("roster serve: %w\n%s", err, tail(s.logPath, 2000))
		}
		return nil
	case <-time.After(40 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("roster serve did not stop within 40 s of SIGTERM; killed")
	}
}

// freeLoopbackAddr asks the kernel for a free port on 127.0.0.1.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// tail is the last n bytes of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

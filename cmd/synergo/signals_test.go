package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestMain makes this test binary a synergo process instead of running the
// tests: with SYNERGO_TEST_ARGS (arguments separated by newlines) it runs
// that command line, so that tests can start and signal it; with cliEnv=1
// it runs its own arguments, so that scripts can call it as synergo.
func TestMain(m *testing.M) {
	if args := os.Getenv("SYNERGO_TEST_ARGS"); args != "" {
		os.Exit(run(strings.Split(args, "\n"), os.Stdout, os.Stderr))
	}
	if os.Getenv(cliEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestInterruptedRunExitStatus: a train stopped by SIGINT exits with 130,
// by SIGTERM with 143, naming the signal; a failure exits with 1.
func TestInterruptedRunExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("trains in a subprocess")
	}
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
		name string
	}{{syscall.SIGINT, 130, "SIGINT"}, {syscall.SIGTERM, 143, "SIGTERM"}} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"train", "--model", "tfn", "--data", "synth:mosi:0.05", "--seeds", "1", "--epochs", "500", "--patience", "500",
				"--batch", "8", "--lr", "1e-3", "--out", t.TempDir(), "--no-progress"}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "SYNERGO_TEST_ARGS="+strings.Join(args, "\n"))
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var log strings.Builder
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				log.WriteString(sc.Text() + "\n")
				if strings.Contains(sc.Text(), "grid run starting") {
					if err := cmd.Process.Signal(tc.sig); err != nil {
						t.Fatal(err)
					}
					break
				}
			}
			for sc.Scan() {
				log.WriteString(sc.Text() + "\n")
			}
			err = cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != tc.code {
				t.Fatalf("exit %v, want status %d; stderr:\n%s", err, tc.code, log.String())
			}
			if want := "interrupted by " + tc.name + "; finished settings and a resume checkpoint are in"; !strings.Contains(log.String(), want) {
				t.Errorf("stderr lacks %q:\n%s", want, log.String())
			}
		})
	}
	var stdout, stderr strings.Builder
	if code := run([]string{"train", "--model", "tfn", "--data", "/does/not/exist.npz", "--out", t.TempDir()}, &stdout, &stderr); code != 1 {
		t.Errorf("a failed train exits with %d, want 1: %s", code, stderr.String())
	}
	for _, args := range [][]string{{"help"}, {"train", "-h"}, {"grid", "-h"}} {
		stdout.Reset()
		if run(args, &stdout, &stderr); !strings.Contains(stdout.String(), "130 interrupted by SIGINT (Ctrl-C), 143 by SIGTERM") {
			t.Errorf("synergo %v does not document the exit statuses:\n%s", args, stdout.String())
		}
	}
}

// TestSecondProcessOnOneFolderIsRefused starts a long train, then the same
// command in the same --out: the second exits at once with a message
// naming the first process; the first, interrupted, keeps its exit status.
func TestSecondProcessOnOneFolderIsRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("trains in a subprocess")
	}
	args := []string{"train", "--model", "tfn", "--data", "synth:mosi:0.05", "--seeds", "1", "--epochs", "500", "--patience", "500",
		"--batch", "8", "--lr", "1e-3", "--out", t.TempDir(), "--no-progress"}
	first := exec.Command(os.Args[0], "-test.run=^$")
	first.Env = append(os.Environ(), "SYNERGO_TEST_ARGS="+strings.Join(args, "\n"))
	stderr, err := first.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && !strings.Contains(sc.Text(), "grid run starting") {
	}
	var out, errOut strings.Builder
	code := run(args, &out, &errOut)
	want := fmt.Sprintf("is in use by another synergo process (pid %d, since", first.Process.Pid)
	if code != 1 || !strings.Contains(errOut.String(), want) || !strings.Contains(errOut.String(), "wait until it finishes, or use another output folder") {
		t.Errorf("second process: exit %d, stderr %q; want 1 and %q", code, errOut.String(), want)
	}
	first.Process.Signal(syscall.SIGINT)
	go func() {
		for sc.Scan() {
		}
	}()
	var exit *exec.ExitError
	if err := first.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Errorf("first process: %v, want exit status 130", err)
	}
}

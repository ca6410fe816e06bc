//go:build unix

package interrupt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv makes the test binary run TestScopeChild's body: the signals
// go to that child process, never to the test process itself.
const childEnv = "SYNERGO_INTERRUPT_CHILD"

// A SIGINT inside the scope cancels its context and the process lives on;
// after stop, a SIGINT ends the process as it would without the scope.
func TestScopeCancelsThenReleases(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestScopeChild$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("child output:\n%s", out)
	for _, want := range []string{"cancelled: context canceled", "released"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q", want)
		}
	}
	if strings.Contains(string(out), "survived") {
		t.Error("the child survived a SIGINT after stop: the scope did not restore the default")
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("child ended with %v, want death by SIGINT", err)
	}
	ws, ok := exit.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Fatalf("child ended with %v, want death by SIGINT", err)
	}
}

// TestScopeChild is the child process of TestScopeCancelsThenReleases.
func TestScopeChild(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		t.Skip("runs as the child of TestScopeCancelsThenReleases")
	}
	ctx, stop := Scope(context.Background())
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
		fmt.Println("cancelled:", ctx.Err())
	case <-time.After(30 * time.Second):
		t.Fatal("SIGINT did not cancel the scope's context")
	}
	stop()
	fmt.Println("released")
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Second)
	fmt.Println("survived")
}

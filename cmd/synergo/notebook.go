package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

func init() {
	register(command{
		name:    "notebook",
		summary: "serve the notebooks in Jupyter with the synergo kernel (notebook [--port N])",
		run:     runNotebook,
	})
}

// labScript is the script that installs, builds and serves; `make lab` runs it too.
const labScript = "notebooks/lab.sh"

const notebookSynopsis = "notebook [--port N] [--ip ADDR] [--no-build] [--src DIR]"

// runNotebook runs the checkout's lab script: Debian's jupyter-notebook installed when missing,
// the kernel built (incrementally), the server started on ADDR:N with the synergo kernel and the
// notebooks folder; the script prints the URL. It returns when the server stops. An interrupt
// or termination signal is passed on to the server, which shuts down.
func runNotebook(args []string, stdout io.Writer) error {
	fs := newFlagSet("notebook")
	port := fs.Int("port", 8888, "TCP port of the notebook server")
	ip := fs.String("ip", "127.0.0.1", "address the server listens on (0.0.0.0 inside a container)")
	noBuild := fs.Bool("no-build", false, "do not (re)build the kernel first")
	src := fs.String("src", "", "the synergo checkout (default: found from the working directory)")
	if err := parseFlags(fs, notebookSynopsis, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %s\nusage: synergo %s", strings.Join(fs.Args(), " "), notebookSynopsis)
	}
	if *port < 1 || *port > 65535 {
		return fmt.Errorf("--port %d: want a TCP port number 1..65535", *port)
	}
	if *ip == "" {
		return fmt.Errorf("--ip is empty: want an address such as 127.0.0.1")
	}
	root, script, err := checkoutScript(*src, labScript)
	if err != nil {
		return err
	}
	scriptArgs := []string{script, "--port", strconv.Itoa(*port), "--ip", *ip}
	if *noBuild {
		scriptArgs = append(scriptArgs, "--no-build")
	}
	cmd := exec.Command("bash", scriptArgs...)
	cmd.Dir = root
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, os.Stderr
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", script, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-signals:
			_ = cmd.Process.Signal(sig)
		case err := <-done:
			if err != nil {
				return fmt.Errorf("%s: %w", script, err)
			}
			return nil
		}
	}
}

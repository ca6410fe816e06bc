package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func init() {
	register(command{
		name:    "kernel",
		summary: "build and install the synergo Jupyter kernel (kernel install [--user])",
		run:     runKernel,
	})
}

// modulePath is the module whose checkout holds the kernel build script.
const modulePath = "github.com/synergo/synergo"

// kernelBuildScript is the build script, relative to the checkout; `make kernel` runs it too.
const kernelBuildScript = "notebooks/kernel/build.sh"

const kernelUsage = `usage:
  synergo kernel install [--user] [--force] [--src DIR]
      build the "synergo" Jupyter kernel (gophernotes with synergo, gonum and gonum/plot linked
      in) under DIR/.kernel and write its kernelspec to DIR/.kernel/share/jupyter/kernels/synergo;
      the same build as "make kernel" (notebooks/kernel/build.sh), incremental.
      --user   also install the kernelspec for the current user (jupyter kernelspec install --user)
      --force  rebuild from scratch
      --src    the synergo checkout (default: found by walking up from the working directory)`

// runKernel dispatches "synergo kernel SUBCOMMAND".
func runKernel(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("missing subcommand\n" + kernelUsage)
	}
	switch args[0] {
	case "install":
		return runKernelInstall(args[1:], stdout)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, kernelUsage)
		return nil
	}
	return fmt.Errorf("unknown subcommand %q\n%s", args[0], kernelUsage)
}

// runKernelInstall runs the checkout's kernel build script; its progress goes to stderr.
func runKernelInstall(args []string, stdout io.Writer) error {
	fs := newFlagSet("kernel install")
	user := fs.Bool("user", false, "also install the kernelspec for the current user")
	force := fs.Bool("force", false, "rebuild from scratch")
	src := fs.String("src", "", "the synergo checkout (default: found from the working directory)")
	if err := parseFlags(fs, "kernel install [--user] [--force] [--src DIR]", args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("kernel install: unexpected arguments %s", strings.Join(fs.Args(), " "))
	}
	root, script, err := checkoutScript(*src, kernelBuildScript)
	if err != nil {
		return fmt.Errorf("kernel install: %w", err)
	}
	var scriptArgs []string
	if *user {
		scriptArgs = append(scriptArgs, "--user")
	}
	if *force {
		scriptArgs = append(scriptArgs, "--force")
	}
	cmd := exec.Command("bash", append([]string{script}, scriptArgs...)...)
	cmd.Dir = root
	cmd.Stdout = stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kernel install: %s failed (messages above): %w", script, err)
	}
	fmt.Fprintf(stdout, "kernel \"synergo\" ready; use it with\n  export JUPYTER_PATH=%s\n",
		filepath.Join(root, ".kernel", "share", "jupyter"))
	return nil
}

// findCheckout returns the nearest directory at or above dir whose go.mod declares the synergo
// checkoutScript returns the synergo checkout that holds src (or, when src is
// empty, the working directory) and the path of the script rel in it; an
// error says which file is missing.
func checkoutScript(src, rel string) (root, script string, err error) {
	start := src
	if start == "" {
		if start, err = os.Getwd(); err != nil {
			return "", "", err
		}
	}
	if root, err = findCheckout(start); err != nil {
		return "", "", err
	}
	script = filepath.Join(root, rel)
	if _, err := os.Stat(script); err != nil {
		return "", "", fmt.Errorf("%s: %w (is %s a complete synergo checkout?)", script, err, root)
	}
	return root, script, nil
}

// module, or an error naming dir.
func findCheckout(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(abs); err != nil {
		return "", err
	} else if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory", abs)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if declaresModule(filepath.Join(d, "go.mod"), modulePath) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no synergo checkout (a go.mod declaring module %s) at or above %s; pass --src", modulePath, abs)
		}
	}
}

// declaresModule reports whether the go.mod file at path declares module mod.
func declaresModule(path, mod string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == mod
		}
	}
	return false
}

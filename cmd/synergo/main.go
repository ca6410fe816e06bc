// Command synergo is the command-line interface of synergo: data
// preparation, training, grids, evaluation and tables for the synergy
// regularizer. Run "synergo help" for the list of commands.
//
// Each command lives in its own file and registers itself from an init
// function:
//
//	func init() {
//		register(command{
//			name:    "data",
//			summary: "inspect datasets and generate synthetic ones",
//			run:     runData,
//		})
//	}
//
// run receives the arguments after the command name and writes its
// results to stdout; logs go through log/slog to stderr. A returned error
// is printed to stderr and the process exits with status 1, or, for a run
// stopped by SIGINT or SIGTERM (an *interruption), 130 or 143.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"unicode/utf8"
)

// command is one subcommand of synergo.
type command struct {
	// name is what the user types, e.g. "data".
	name string
	// summary is the one-line description shown by "synergo help".
	summary string
	// run executes the command with the arguments after its name, writing
	// results to stdout.
	run func(args []string, stdout io.Writer) error
}

var commands = map[string]command{}

// register adds a command; registering a name twice is a programmer error
// and panics.
func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("synergo: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit status: 0 on
// success, 130 (SIGINT) or 143 (SIGTERM) when a signal stopped the command,
// 1 on any other error (printed to stderr).
func run(args []string, stdout, stderr io.Writer) int {
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, nil)))
	if len(args) == 0 {
		usage(stderr)
		return 1
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "synergo: unknown command %q\n", args[0])
		usage(stderr)
		return 1
	}
	if err := c.run(args[1:], stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "synergo %s: %s\n", c.name, boundedMessage(err.Error()))
		var in *interruption
		if errors.As(err, &in) {
			return in.exitCode()
		}
		return 1
	}
	return 0
}

// exitStatusHelp documents the exit statuses in the help texts.
const exitStatusHelp = "Exit status: 0 done, 1 failed, 130 interrupted by SIGINT (Ctrl-C), 143 by SIGTERM;\n" +
	"an interrupted train or grid keeps what finished: rerun the same command to continue."

// maxMessage bounds a printed error message (the loaders already bound
// what they put in one; this is the last guard).
const maxMessage = 16 << 10

// boundedMessage returns msg, cut to maxMessage bytes (at a rune boundary)
// with the length of the rest when longer.
func boundedMessage(msg string) string {
	if len(msg) <= maxMessage {
		return msg
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes)", msg[:cut], len(msg)-cut)
}

// usage lists the registered commands.
func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: synergo <command> [arguments]")
	fmt.Fprintln(w, "\ncommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun \"synergo <command> -h\" for the arguments of a command.")
	fmt.Fprintln(w, "\n"+exitStatusHelp)
}

// newFlagSet returns a flag set for a (sub)command that prints nothing
// itself; parseFlags reports its errors and help.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args with fs. For -h it prints the synopsis and the
// flags to stdout and returns flag.ErrHelp (run then exits with status 0);
// a parse error is returned together with the synopsis.
func parseFlags(fs *flag.FlagSet, synopsis string, args []string, stdout io.Writer) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "usage: synergo %s\n", synopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fmt.Fprintln(stdout, "\n"+exitStatusHelp)
		return err
	}
	if err != nil {
		return fmt.Errorf("%w\nusage: synergo %s", err, synopsis)
	}
	return nil
}

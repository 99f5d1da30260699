package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
)

// command is a subcommand defined in its own file with its own flags. It
// receives the arguments after its name and returns the exit code (0 ok,
// 1 failure, 2 usage error), like Main.
type command struct {
	// Summary is the one-line description shown in the usage text.
	Summary string
	// Run executes the command.
	Run func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands holds the subcommands registered by init functions in this
// package's files (anonymize, sample, snapshots, alerts, ...).
var commands = map[string]command{}

// register adds a subcommand; it panics on a duplicate name (a programming
// error caught by every test run).
func register(name string, c command) {
	if _, dup := commands[name]; dup {
		panic("vyaparbazaar: command registered twice: " + name)
	}
	commands[name] = c
}

// usageText is the usage with the registered subcommands added.
func usageText() string {
	if len(commands) == 0 {
		return usage
	}
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "  %-9s %s\n", n, commands[n].Summary)
	}
	return strings.Replace(usage, "\nCommon flags:", b.String()+"\nCommon flags:", 1)
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"

	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/vyaparbazaar/dataops/anonymize"
	"github.com/vyaparbazaar/dataops/examples/vyaparbazaar/demo"
)

// defaultKeyEnv is the environment variable the key is read from when
// neither --key-env nor --key-file is given.
const defaultKeyEnv = "DATAOPS_ANON_KEY"

func init() {
	register("anonymize", command{
		Summary: "write an anonymized copy of a database: anonymize --from prod.duckdb --to staging.duckdb [--policy F]",
		Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			return runAnonymize(ctx, "anonymize", args, stdout, stderr)
		},
	})
	register("sample", command{
		Summary: "write an anonymized, consistent sample for dev: sample --from ... --to ... --fraction 0.01 --seed N",
		Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			return runAnonymize(ctx, "sample", args, stdout, stderr)
		},
	})
}

func runAnonymize(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet(name, flag.ContinueOnError)
	fset.SetOutput(stderr)
	from := fset.String("from", "", "source DuckDB file (production)")
	to := fset.String("to", "", "target DuckDB file (written under a temporary name, renamed at the end)")
	policyFile := fset.String("policy", "", "policy YAML (default: the embedded demo's anonymize.yml)")
	replace := fset.Bool("replace", false, "overwrite an existing target")
	keyEnv := fset.String("key-env", "", "environment variable holding the key (default "+defaultKeyEnv+")")
	keyFile := fset.String("key-file", "", "file holding the key")
	memory := fset.String("memory-limit", "", "DuckDB memory_limit, e.g. 2GB")
	threads := fset.Int("threads", 0, "DuckDB threads (0 = all cores)")
	logLevel := fset.String("log-level", "warn", "debug|info|warn|error")
	var fraction float64
	var seed int64
	var root string
	if name == "sample" {
		fset.Float64Var(&fraction, "fraction", 0.01, "share of the root table's rows to keep, in (0, 1]")
		fset.Int64Var(&seed, "seed", 1, "sampling seed: the same seed picks the same rows")
		fset.StringVar(&root, "root", "customers", "table sampled by --fraction; what references it follows")
	}
	if err := fset.Parse(args); err != nil {
		return 2
	}
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "vyaparbazaar %s: %s\n", name, msg)
		fset.Usage()
		return 2
	}
	if *from == "" || *to == "" {
		return usage("--from and --to are required")
	}
	if fset.NArg() > 0 {
		return usage("unexpected arguments: " + strings.Join(fset.Args(), " "))
	}
	if *keyEnv != "" && *keyFile != "" {
		return usage("give --key-env or --key-file, not both")
	}
	if name == "sample" && (fraction <= 0 || fraction > 1) {
		return usage(fmt.Sprintf("--fraction %v: want a number in (0, 1]", fraction))
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "vyaparbazaar %s: %v\n", name, err)
		return 1
	}

	var policy *anonymize.Policy
	var err error
	if *policyFile != "" {
		policy, err = anonymize.LoadPolicy(*policyFile)
	} else {
		var data []byte
		data, err = fs.ReadFile(demo.Project(), "anonymize.yml")
		if err == nil {
			policy, err = anonymize.ParsePolicy(data, "demo/project/anonymize.yml")
		}
	}
	if err != nil {
		return fail(err)
	}
	if name == "sample" {
		policy.Sample = &anonymize.Sample{Seed: seed, Fractions: map[string]float64{root: fraction}}
	}

	var key []byte
	switch {
	case *keyFile != "":
		key, err = anonymize.KeyFromFile(*keyFile)
	case *keyEnv != "":
		key, err = anonymize.KeyFromEnv(*keyEnv)
	default:
		key, err = anonymize.KeyFromEnv(defaultKeyEnv)
	}
	if err != nil {
		return fail(err)
	}

	fmt.Fprintf(stdout, "%s %s → %s\n", strings.ToUpper(name[:1])+name[1:], *from, *to)
	opts := anonymize.Options{
		Key:         key,
		Replace:     *replace,
		MemoryLimit: *memory,
		Threads:     *threads,
		Logger:      slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: parseLevel(*logLevel)})),
		Progress: func(p anonymize.Progress) {
			switch p.Step {
			case "table":
				fmt.Fprintf(stdout, "  %-28s %12s rows  %6.2fs\n", p.Table, humanize.Comma(p.Rows), p.Elapsed.Seconds())
			default:
				fmt.Fprintf(stdout, "  %-28s %12s       %6.2fs\n", p.Step, "", p.Elapsed.Seconds())
			}
		},
	}
	res, err := anonymize.Run(ctx, *from, *to, policy, opts)
	if err != nil {
		var le *anonymize.LeakError
		if errors.As(err, &le) {
			fmt.Fprintf(stderr, "Leak check: FAIL (%d original values searched in %d columns)\n", le.Report.Values, le.Report.Columns)
		}
		return fail(err)
	}
	var rows int64
	for _, t := range res.Tables {
		rows += t.Rows
	}
	fmt.Fprintf(stdout, "Leak check: PASS (%s original values of %d protected columns searched in %d output columns, 0 found)\n",
		humanize.Comma(res.Leaks.Values), len(res.Leaks.Protected), res.Leaks.Columns)
	for _, u := range res.Leaks.Unchecked {
		fmt.Fprintf(stdout, "  not searched: %s\n", u)
	}
	fmt.Fprintf(stdout, "Wrote %d tables, %s rows in %s to %s\n", len(res.Tables), humanize.Comma(rows), res.Elapsed.Round(time.Millisecond), *to)
	return 0
}

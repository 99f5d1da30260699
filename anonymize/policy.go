package anonymize

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Kind names a rule. The YAML spelling is the string value.
type Kind string

// The rules. Masks and fakes apply to text columns; Pseudonymize to text
// and integer columns; Generalize to dates and timestamps; Bucket and
// Noise to numbers; Keep, Null and SQL to any column; Redact to text.
const (
	Keep          Kind = "keep"
	Pseudonymize  Kind = "pseudonymize"
	MaskEmail     Kind = "mask_email"
	MaskMobile    Kind = "mask_mobile"
	MaskPAN       Kind = "mask_pan"
	MaskAadhaar   Kind = "mask_aadhaar"
	MaskGSTIN     Kind = "mask_gstin"
	MaskPIN       Kind = "mask_pin"
	MaskUPI       Kind = "mask_upi"
	MaskCard      Kind = "mask_card"
	FakeFirstName Kind = "fake_first_name"
	FakeLastName  Kind = "fake_last_name"
	FakeName      Kind = "fake_name"
	FakeCity      Kind = "fake_city"
	FakeAddress   Kind = "fake_address"
	Generalize    Kind = "generalize"
	Bucket        Kind = "bucket"
	Noise         Kind = "noise"
	Null          Kind = "null"
	Redact        Kind = "redact"
	SQL           Kind = "sql"
)

// stringUDFs maps the text rules to their Go implementation and the SQL
// function name registered for them.
var stringUDFs = map[Kind]maskFunc{
	Pseudonymize: pseudoString, MaskEmail: maskEmail, MaskMobile: maskMobile, MaskPAN: maskPAN,
	MaskAadhaar: maskAadhaar, MaskGSTIN: maskGSTIN, MaskPIN: maskPIN, MaskUPI: maskUPI, MaskCard: maskCard,
	FakeFirstName: fakeFirstName, FakeLastName: fakeLastName, FakeName: fakeFullName, FakeCity: fakeCity,
	FakeAddress: fakeAddress,
}

// Kinds returns every rule name, sorted.
func Kinds() []Kind {
	ks := []Kind{Keep, Generalize, Bucket, Noise, Null, Redact, SQL}
	for k := range stringUDFs {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Rule is what happens to one column.
type Rule struct {
	// Kind is the rule.
	Kind Kind
	// Reason explains a Keep (required: the only way past the scanner).
	Reason string
	// Unit is Generalize's truncation: "day", "week", "month", "quarter"
	// or "year".
	Unit string
	// Width is Bucket's bucket width (values become the lower bound).
	Width float64
	// Bounds are Bucket's explicit lower bounds, ascending (instead of
	// Width); values below the first become the first.
	Bounds []float64
	// Percent is Noise's maximum relative change (5 means ±5%).
	Percent float64
	// By names the column whose value seeds Noise per row; default the
	// table's primary key.
	By string
	// Value is Redact's replacement text; default "[REDACTED]".
	Value string
	// Expr is SQL's expression; {{column}} stands for the column, and the
	// source row's other columns may be named.
	Expr string
	// Line is the policy file line, for errors (0 for Go policies).
	Line int
}

// Table is the policy of one source table.
type Table struct {
	// Name is "table" (in Policy.Schema) or "schema.table".
	Name string
	// PrimaryKey is the table's single-column key, needed to be
	// referenced, to be sampled and to seed Noise.
	PrimaryKey string
	// References maps a column to the "table.column" primary key it
	// references. The column gets that key's rule; sampling keeps the
	// referencing rows of sampled parents.
	References map[string]string
	// Columns maps column names to rules. Columns without a rule are
	// copied unless the scanner finds PII in them.
	Columns map[string]Rule
	// Drop leaves the table out of the target.
	Drop bool
	// Line is the policy file line, for errors.
	Line int
	// refLines and colLines locate entries for errors.
	refLines map[string]int
}

// Sample selects a consistent subset for dev.
type Sample struct {
	// Seed makes the choice repeatable.
	Seed int64
	// Fractions maps root tables to the share of their rows to keep (by
	// primary key). Tables referencing them keep the rows whose
	// references were kept, transitively; other tables are kept whole.
	Fractions map[string]float64
	// Line is the policy file line, for errors.
	Line int
}

// Policy is the anonymization policy of a database.
type Policy struct {
	// File names the policy file in errors ("" for Go policies).
	File string
	// Schema is the default schema of table names; default "main".
	Schema string
	// Schemas, when set, limits the copy to these source schemas (the
	// demo: raw); default every schema except dataops' hidden _dataops.
	Schemas []string
	// Tables are the table policies.
	Tables []*Table
	// Sample, when set, makes Run write a consistent sample.
	Sample *Sample
}

// PolicyError is a problem in a policy, located by file and line when
// known.
type PolicyError struct {
	File, Table, Column string
	Line                int
	Msg                 string
}

func (e *PolicyError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Table != "" {
		b.WriteString("table " + e.Table)
		if e.Column != "" {
			b.WriteString(" column " + e.Column)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Table returns the policy of table name, or nil.
func (p *Policy) Table(name string) *Table {
	for _, t := range p.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// LoadPolicy reads a YAML policy file.
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("anonymize: read policy: %w", err)
	}
	return ParsePolicy(data, path)
}

// ParsePolicy parses a YAML policy; file names it in errors. Every problem
// found is reported (errors.Join of *PolicyError).
//
//	schema: raw
//	tables:
//	  customers:
//	    primary_key: customer_id
//	    columns:
//	      customer_id: pseudonymize
//	      email: mask_email
//	      city: {keep: "city-level reports; not identifying alone"}
//	      signup_date: {generalize: month}
//	  orders:
//	    primary_key: order_id
//	    references: {customer_id: customers.customer_id}
//	    columns:
//	      order_total_inr: {noise: 5}
//	sample:
//	  seed: 42
//	  fractions: {customers: 0.01}
func ParsePolicy(data []byte, file string) (*Policy, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlErr(file, err)
	}
	p := &Policy{File: file, Schema: "main"}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return p, nil
	}
	var errs []error
	fail := func(line int, table, col, msg string, a ...any) {
		errs = append(errs, &PolicyError{File: file, Line: line, Table: table, Column: col, Msg: fmt.Sprintf(msg, a...)})
	}
	root, ok := f.Docs[0].Body.(*ast.MappingNode)
	if !ok {
		return nil, &PolicyError{File: file, Line: line(f.Docs[0].Body), Msg: "want a mapping with schema, tables and sample"}
	}
	for _, kv := range root.Values {
		key := kv.Key.String()
		switch key {
		case "schema":
			p.Schema = scalar(kv.Value)
		case "schemas":
			sq, ok := kv.Value.(*ast.SequenceNode)
			if !ok {
				fail(line(kv.Value), "", "", "schemas: want a list of schema names")
				continue
			}
			for _, it := range sq.Values {
				p.Schemas = append(p.Schemas, scalar(it))
			}
		case "tables":
			m, ok := kv.Value.(*ast.MappingNode)
			if !ok {
				fail(line(kv.Value), "", "", "tables: want a mapping of table names")
				continue
			}
			for _, tv := range m.Values {
				t := parseTable(tv, fail)
				p.Tables = append(p.Tables, t)
			}
		case "sample":
			p.Sample = parseSample(kv.Value, fail)
		default:
			fail(line(kv.Key), "", "", "unknown key %q (want schema, schemas, tables, sample)", key)
		}
	}
	if err := p.Check(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

type failFn func(line int, table, col, msg string, a ...any)

func parseTable(tv *ast.MappingValueNode, fail failFn) *Table {
	t := &Table{Name: tv.Key.String(), Line: line(tv.Key), Columns: map[string]Rule{}, References: map[string]string{}, refLines: map[string]int{}}
	m, ok := tv.Value.(*ast.MappingNode)
	if !ok {
		fail(line(tv.Value), t.Name, "", "want a mapping with primary_key, references, columns, drop")
		return t
	}
	for _, kv := range m.Values {
		switch k := kv.Key.String(); k {
		case "primary_key":
			t.PrimaryKey = scalar(kv.Value)
		case "drop":
			t.Drop = scalar(kv.Value) == "true"
		case "references":
			rm, ok := kv.Value.(*ast.MappingNode)
			if !ok {
				fail(line(kv.Value), t.Name, "", "references: want column: table.column")
				continue
			}
			for _, r := range rm.Values {
				t.References[r.Key.String()] = scalar(r.Value)
				t.refLines[r.Key.String()] = line(r.Key)
			}
		case "columns":
			cm, ok := kv.Value.(*ast.MappingNode)
			if !ok {
				fail(line(kv.Value), t.Name, "", "columns: want a mapping of column names to rules")
				continue
			}
			for _, c := range cm.Values {
				col := c.Key.String()
				r, err := parseRule(c.Value)
				r.Line = line(c.Key)
				if err != "" {
					fail(r.Line, t.Name, col, "%s", err)
				}
				t.Columns[col] = r
			}
		default:
			fail(line(kv.Key), t.Name, "", "unknown key %q (want primary_key, references, columns, drop)", k)
		}
	}
	return t
}

func parseRule(n ast.Node) (Rule, string) {
	switch v := n.(type) {
	case *ast.NullNode:
		return Rule{Kind: Null}, ""
	case *ast.MappingNode:
		var r Rule
		for _, kv := range v.Values {
			k := kv.Key.String()
			val := scalar(kv.Value)
			switch k {
			case "rule":
				r.Kind = Kind(val)
			case "keep":
				r.Kind, r.Reason = Keep, val
			case "generalize":
				r.Kind, r.Unit = Generalize, val
			case "bucket":
				r.Kind = Bucket
				if s, ok := kv.Value.(*ast.SequenceNode); ok {
					for _, it := range s.Values {
						f, err := strconv.ParseFloat(scalar(it), 64)
						if err != nil {
							return r, fmt.Sprintf("bucket bound %q is not a number", scalar(it))
						}
						r.Bounds = append(r.Bounds, f)
					}
				} else {
					f, err := strconv.ParseFloat(val, 64)
					if err != nil {
						return r, fmt.Sprintf("bucket width %q is not a number", val)
					}
					r.Width = f
				}
			case "noise":
				r.Kind = Noise
				f, err := strconv.ParseFloat(strings.TrimSuffix(val, "%"), 64)
				if err != nil {
					return r, fmt.Sprintf("noise %q is not a percentage", val)
				}
				r.Percent = f
			case "by":
				r.By = val
			case "redact":
				r.Kind, r.Value = Redact, val
			case "sql":
				r.Kind, r.Expr = SQL, val
			default:
				return r, fmt.Sprintf("unknown rule key %q (want one of keep, generalize, bucket, noise, redact, sql, rule, by)", k)
			}
		}
		return r, ""
	default:
		s := scalar(n)
		return Rule{Kind: Kind(s)}, ""
	}
}

func parseSample(n ast.Node, fail failFn) *Sample {
	s := &Sample{Fractions: map[string]float64{}, Line: line(n)}
	m, ok := n.(*ast.MappingNode)
	if !ok {
		fail(line(n), "", "", "sample: want seed and fractions")
		return s
	}
	for _, kv := range m.Values {
		switch k := kv.Key.String(); k {
		case "seed":
			v, err := strconv.ParseInt(scalar(kv.Value), 10, 64)
			if err != nil {
				fail(line(kv.Value), "", "", "sample seed %q is not an integer", scalar(kv.Value))
			}
			s.Seed = v
		case "fractions":
			fm, ok := kv.Value.(*ast.MappingNode)
			if !ok {
				fail(line(kv.Value), "", "", "sample fractions: want table: fraction")
				continue
			}
			for _, f := range fm.Values {
				v, err := strconv.ParseFloat(scalar(f.Value), 64)
				if err != nil || v <= 0 || v > 1 {
					fail(line(f.Value), f.Key.String(), "", "sample fraction %q: want a number in (0, 1]", scalar(f.Value))
				}
				s.Fractions[f.Key.String()] = v
			}
		default:
			fail(line(kv.Key), "", "", "unknown sample key %q (want seed, fractions)", k)
		}
	}
	return s
}

func scalar(n ast.Node) string {
	if n == nil {
		return ""
	}
	var s string
	if err := yaml.NodeToValue(n, &s); err == nil {
		return s
	}
	return strings.Trim(n.String(), `"'`)
}

func line(n ast.Node) int {
	if n == nil {
		return 0
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

func yamlErr(file string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		l := 0
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			l = tk.Position.Line
		}
		return &PolicyError{File: file, Line: l, Msg: ye.GetMessage()}
	}
	return &PolicyError{File: file, Msg: err.Error()}
}

var generalizeUnits = []string{"day", "week", "month", "quarter", "year"}

// Check validates the policy on its own (without a database): known
// rules, keep reasons, rule options, references written table.column.
// Run also checks it against the source database.
func (p *Policy) Check() error {
	var errs []error
	fail := func(l int, table, col, msg string, a ...any) {
		errs = append(errs, &PolicyError{File: p.File, Line: l, Table: table, Column: col, Msg: fmt.Sprintf(msg, a...)})
	}
	seen := map[string]bool{}
	for _, t := range p.Tables {
		if seen[t.Name] {
			fail(t.Line, t.Name, "", "listed twice")
		}
		seen[t.Name] = true
		for _, col := range t.columnOrder() {
			r := t.Columns[col]
			switch r.Kind {
			case Keep:
				if strings.TrimSpace(r.Reason) == "" {
					fail(r.Line, t.Name, col, "keep needs a reason: {keep: \"why this column is safe\"}")
				}
			case Generalize:
				if !slices.Contains(generalizeUnits, r.Unit) {
					fail(r.Line, t.Name, col, "generalize unit %q: want one of %s", r.Unit, strings.Join(generalizeUnits, ", "))
				}
			case Bucket:
				if r.Width <= 0 && len(r.Bounds) == 0 {
					fail(r.Line, t.Name, col, "bucket needs a positive width or a list of bounds")
				}
				if !sort.Float64sAreSorted(r.Bounds) {
					fail(r.Line, t.Name, col, "bucket bounds must ascend")
				}
			case Noise:
				if r.Percent <= 0 || r.Percent >= 100 {
					fail(r.Line, t.Name, col, "noise %v%%: want a percentage in (0, 100)", r.Percent)
				}
			case SQL:
				if strings.TrimSpace(r.Expr) == "" {
					fail(r.Line, t.Name, col, "sql needs an expression")
				}
			case Null, Redact:
			default:
				if _, ok := stringUDFs[r.Kind]; !ok {
					fail(r.Line, t.Name, col, "unknown rule %q (known: %s)", r.Kind, kindList())
				}
			}
		}
		for _, col := range sortedKeys(t.References) {
			if _, _, ok := strings.Cut(t.References[col], "."); !ok {
				fail(t.refLines[col], t.Name, col, "reference %q: want table.column", t.References[col])
			}
		}
	}
	if p.Sample != nil {
		for _, name := range sortedKeys(p.Sample.Fractions) {
			f := p.Sample.Fractions[name]
			if f <= 0 || f > 1 {
				fail(p.Sample.Line, name, "", "sample fraction %v: want a number in (0, 1]", f)
			}
		}
	}
	return errors.Join(errs...)
}

func kindList() string {
	var s []string
	for _, k := range Kinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// columnOrder returns the column names in file order (then by name).
func (t *Table) columnOrder() []string {
	ks := sortedKeys(t.Columns)
	slices.SortStableFunc(ks, func(a, b string) int { return t.Columns[a].Line - t.Columns[b].Line })
	return ks
}

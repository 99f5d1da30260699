package recovery

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultBackoff is the retry schedule of dataops: 3 attempts in all (2
// retries), waiting 5s then 10s, never more than a minute, each delay
// spread by ±20% so that nodes failing together do not retry together.
var DefaultBackoff = Backoff{Attempts: 3, InitialDelay: 5 * time.Second, Multiplier: 2, MaxDelay: time.Minute, Jitter: 0.2}

// zeroFields is a set of Backoff fields explicitly set to 0.
type zeroFields uint8

const (
	zeroInitialDelay zeroFields = 1 << iota
	zeroMaxDelay
	zeroJitter
)

// Validate reports every field out of range, naming it as in configuration
// files (attempts, initial_delay, multiplier, max_delay, jitter). It checks
// the values as they are: validate b.WithDefaults() for a partial Backoff.
func (b Backoff) Validate() error {
	var errs []error
	if b.Attempts < 1 {
		errs = append(errs, fmt.Errorf("attempts must be at least 1, got %d", b.Attempts))
	}
	if b.InitialDelay < 0 {
		errs = append(errs, fmt.Errorf("initial_delay must not be negative, got %s", b.InitialDelay))
	}
	if !(b.Multiplier >= 1) || math.IsInf(b.Multiplier, 0) {
		errs = append(errs, fmt.Errorf("multiplier must be a finite number of at least 1, got %v", b.Multiplier))
	}
	if b.MaxDelay < 0 {
		errs = append(errs, fmt.Errorf("max_delay must not be negative, got %s", b.MaxDelay))
	}
	if !(b.Jitter >= 0 && b.Jitter < 1) {
		errs = append(errs, fmt.Errorf("jitter must be at least 0 and less than 1 (0.2 = ±20%%), got %v", b.Jitter))
	}
	return errors.Join(errs...)
}

// WithDefaults returns b with its unset (zero) fields taken from
// DefaultBackoff.
func (b Backoff) WithDefaults() Backoff { return b.fill(DefaultBackoff) }

// fill returns b with its unset fields taken from d (explicit zeros of d
// carry over).
func (b Backoff) fill(d Backoff) Backoff {
	if b.Attempts == 0 {
		b.Attempts = d.Attempts
	}
	if b.Multiplier == 0 {
		b.Multiplier = d.Multiplier
	}
	if b.InitialDelay == 0 && b.zeroSet&zeroInitialDelay == 0 {
		b.InitialDelay = d.InitialDelay
		b.zeroSet |= d.zeroSet & zeroInitialDelay
	}
	if b.MaxDelay == 0 && b.zeroSet&zeroMaxDelay == 0 {
		b.MaxDelay = d.MaxDelay
		b.zeroSet |= d.zeroSet & zeroMaxDelay
	}
	if b.Jitter == 0 && b.zeroSet&zeroJitter == 0 {
		b.Jitter = d.Jitter
		b.zeroSet |= d.zeroSet & zeroJitter
	}
	return b
}

// Delay is the wait before the given retry (1 for the first retry, that is
// after the first failed attempt): InitialDelay × Multiplier^(retry-1),
// capped at MaxDelay, then multiplied by 1 + Jitter×(2×rnd-1). rnd, in
// [0, 1), makes the jitter deterministic: 0.5 gives the exact schedule, 0
// the shortest delay and values near 1 the longest. Unset fields take
// DefaultBackoff's. The result is never negative and never more than
// MaxDelay × (1+Jitter).
func (b Backoff) Delay(retry int, rnd float64) time.Duration {
	b = b.WithDefaults()
	if retry < 1 {
		retry = 1
	}
	maxDelay := math.Max(float64(b.MaxDelay), 0)
	d := math.Max(float64(b.InitialDelay), 0) * math.Pow(math.Max(b.Multiplier, 1), float64(retry-1))
	if math.IsNaN(d) || d > maxDelay {
		d = maxDelay
	}
	jitter := b.Jitter
	if !(jitter > 0) {
		jitter = 0
	}
	jitter = math.Min(jitter, 0.999)
	if math.IsNaN(rnd) {
		rnd = 0.5
	}
	rnd = math.Min(math.Max(rnd, 0), 1)
	d *= 1 + jitter*(2*rnd-1)
	d = math.Min(math.Max(d, 0), maxDelay*(1+jitter))
	if d >= math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(d)
}

// String describes the schedule, e.g. "3 attempts, 5s ×2 up to 1m0s ±20%".
func (b Backoff) String() string {
	return fmt.Sprintf("%d attempts, %s ×%s up to %s ±%s%%", b.Attempts, b.InitialDelay,
		strconv.FormatFloat(b.Multiplier, 'g', -1, 64), b.MaxDelay, strconv.FormatFloat(b.Jitter*100, 'g', 4, 64))
}

// backoffKeys are the keys ParseBackoff accepts.
var backoffKeys = []string{"attempts", "initial_delay", "multiplier", "max_delay", "jitter"}

// fieldError is an error about one key of a configuration map.
type fieldError struct {
	key string
	msg string
}

func (e *fieldError) Error() string { return e.key + ": " + e.msg }

// ParseBackoff reads a retry schedule from a configuration map as it comes
// from YAML or JSON: attempts (an integer), initial_delay and max_delay (Go
// durations such as "5s", "1m30s", or numbers of seconds), multiplier and
// jitter (numbers). Missing keys stay unset, to be filled by WithDefaults or
// by a less specific schedule; an explicit 0 for initial_delay, max_delay or
// jitter is kept. Unknown keys and values out of range are errors naming
// the key. A nil map gives a zero Backoff.
func ParseBackoff(m map[string]any) (Backoff, error) {
	var b Backoff
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		if err := b.set(k, m[k]); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Backoff{}, err
	}
	return b, nil
}

// set parses one key of a configuration map into b.
func (b *Backoff) set(key string, v any) error {
	bad := func(format string, args ...any) error {
		return &fieldError{key: key, msg: fmt.Sprintf(format, args...)}
	}
	switch key {
	case "attempts":
		n, ok := toInt(v)
		if !ok {
			return bad("want a whole number of attempts (3 = the first attempt and 2 retries), got %s", describeValue(v))
		}
		if n < 1 {
			return bad("must be at least 1 (1 = no retry), got %d", n)
		}
		if n > math.MaxInt32 {
			return bad("too many attempts: %d", n)
		}
		b.Attempts = int(n)
	case "initial_delay", "max_delay":
		d, err := toDuration(v)
		if err != nil {
			return bad("%v", err)
		}
		if d < 0 {
			return bad("must not be negative, got %s", d)
		}
		if key == "initial_delay" {
			b.InitialDelay = d
			if d == 0 {
				b.zeroSet |= zeroInitialDelay
			}
		} else {
			b.MaxDelay = d
			if d == 0 {
				b.zeroSet |= zeroMaxDelay
			}
		}
	case "multiplier":
		f, ok := toFloat(v)
		if !ok {
			return bad("want a number (2 doubles each delay), got %s", describeValue(v))
		}
		if !(f >= 1) || math.IsInf(f, 0) {
			return bad("must be a finite number of at least 1 (1 = constant delay), got %v", f)
		}
		b.Multiplier = f
	case "jitter":
		f, ok := toFloat(v)
		if !ok {
			return bad("want a fraction such as 0.2 (±20%%), got %s", describeValue(v))
		}
		if !(f >= 0 && f < 1) {
			return bad("must be at least 0 and less than 1 (0.2 = ±20%%), got %v", f)
		}
		b.Jitter = f
		if f == 0 {
			b.zeroSet |= zeroJitter
		}
	default:
		return bad("unknown key (want one of %s)", strings.Join(backoffKeys, ", "))
	}
	return nil
}

// UnmarshalYAML reads a Backoff with ParseBackoff's rules (durations as
// strings or numbers of seconds), for github.com/goccy/go-yaml and
// compatible decoders.
func (b *Backoff) UnmarshalYAML(unmarshal func(any) error) error {
	var m map[string]any
	if err := unmarshal(&m); err != nil {
		return err
	}
	parsed, err := ParseBackoff(m)
	if err != nil {
		return err
	}
	*b = parsed
	return nil
}

// toInt converts integer values, and floats without a fraction, as decoded
// from YAML or JSON.
func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		f, err := n.Float64()
		if err != nil {
			return 0, false
		}
		return toInt(f)
	case float32:
		return toInt(float64(n))
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, false
		}
		return int64(n), true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return math.MaxInt64, true
		}
		return int64(u), true
	}
	return 0, false
}

// toFloat converts numeric values as decoded from YAML or JSON.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case time.Duration:
		return 0, false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(rv.Uint()), true
	}
	return 0, false
}

// toDuration converts a Go duration string ("5s", "1m30s"), a
// time.Duration, or a number of seconds.
func toDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case time.Duration:
		return x, nil
	case string:
		s := strings.TrimSpace(x)
		if d, err := time.ParseDuration(s); err == nil {
			return d, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return secondsToDuration(f)
		}
		return 0, fmt.Errorf("invalid duration %q (want e.g. \"5s\", \"1m\", \"1m30s\" or a number of seconds)", x)
	}
	f, ok := toFloat(v)
	if !ok {
		return 0, fmt.Errorf("want a duration such as \"5s\" or a number of seconds, got %s", describeValue(v))
	}
	return secondsToDuration(f)
}

func secondsToDuration(f float64) (time.Duration, error) {
	ns := f * float64(time.Second)
	if math.IsNaN(ns) || math.Abs(ns) >= math.MaxInt64 {
		return 0, fmt.Errorf("invalid duration: %v seconds", f)
	}
	return time.Duration(math.Round(ns)), nil
}

// describeValue names a configuration value and its type for error messages.
func describeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("%v", x)
	case map[string]any, map[any]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%v (%T)", v, v)
}

package anonymize

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"
	"sync"
)

// MinKeyLen is the shortest key accepted, in bytes (128 bits).
const MinKeyLen = 16

// ErrMissingKey means no anonymization key was given (or it is too short).
var ErrMissingKey = errors.New("anonymize: missing key: set one with --key-env VAR or --key-file FILE (at least 16 bytes)")

// KeyFromEnv reads the key from the environment variable name. The error
// names the variable, never its value.
func KeyFromEnv(name string) ([]byte, error) {
	v, ok := os.LookupEnv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("%w (environment variable %s is not set)", ErrMissingKey, name)
	}
	k := []byte(strings.TrimSpace(v))
	if len(k) < MinKeyLen {
		return nil, fmt.Errorf("%w (environment variable %s holds %d bytes)", ErrMissingKey, name, len(k))
	}
	return k, nil
}

// KeyFromFile reads the key from a file (surrounding white space is
// ignored). The error names the file, never its content.
func KeyFromFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%w (key file %s: %v)", ErrMissingKey, path, pe.Err)
		}
		return nil, fmt.Errorf("%w (key file %s unreadable)", ErrMissingKey, path)
	}
	k := []byte(strings.TrimSpace(string(b)))
	if len(k) < MinKeyLen {
		return nil, fmt.Errorf("%w (key file %s holds %d bytes)", ErrMissingKey, path, len(k))
	}
	return k, nil
}

// prf is the keyed pseudorandom function behind every rule: HMAC-SHA-256
// with a sub-key per purpose, derived from the user's key. Instances are
// pooled because hash states are not safe for concurrent use.
type prf struct {
	pool sync.Pool
}

func newPRF(key []byte, purpose string) *prf {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("dataops/anonymize/v1/" + purpose))
	sub := m.Sum(nil)
	p := &prf{}
	p.pool.New = func() any { return &prfState{h: hmac.New(sha256.New, sub)} }
	return p
}

type prfState struct {
	h   hash.Hash
	sum [32]byte
}

// sum returns HMAC(subkey, data) into a buffer that is valid until the
// state is returned with put.
func (s *prfState) mac(data []byte) []byte {
	s.h.Reset()
	s.h.Write(data)
	return s.h.Sum(s.sum[:0])
}

func (p *prf) get() *prfState  { return p.pool.Get().(*prfState) }
func (p *prf) put(s *prfState) { p.pool.Put(s) }

// macString is a convenience for one-off calls (tests, Feistel rounds).
func (p *prf) macString(s string) [32]byte {
	st := p.get()
	defer p.put(st)
	var out [32]byte
	copy(out[:], st.mac([]byte(s)))
	return out
}

// feistel is a keyed permutation of the integers [0, 2^bits): an
// unbalanced Feistel network with HMAC-SHA-256 round functions. A
// permutation cannot collide, so pseudonymized integer keys stay unique
// by construction.
type feistel struct {
	p *prf
}

const feistelRounds = 8

func (f feistel) permute(x uint64, bits uint) uint64 {
	if bits < 2 {
		return x
	}
	lb := bits / 2    // width of the left half
	rb := bits - lb   // width of the right half
	l := x >> rb      // lb bits
	r := x & mask(rb) // rb bits
	st := f.p.get()
	defer f.p.put(st)
	var buf [10]byte
	for i := range feistelRounds {
		buf[0] = byte(i)
		buf[1] = byte(bits)
		binary.BigEndian.PutUint64(buf[2:], r)
		fv := binary.BigEndian.Uint64(st.mac(buf[:]))
		nl, nr := r, (l^fv)&mask(lb)
		l, r = nl, nr
		lb, rb = rb, lb
	}
	return l<<rb | r
}

func (f feistel) inverse(y uint64, bits uint) uint64 {
	if bits < 2 {
		return y
	}
	// Replay the widths forward to know the final layout.
	lb, rb := bits/2, bits-bits/2
	for range feistelRounds {
		lb, rb = rb, lb
	}
	l, r := y>>rb, y&mask(rb)
	st := f.p.get()
	defer f.p.put(st)
	var buf [10]byte
	for i := feistelRounds - 1; i >= 0; i-- {
		// forward: (l, r) -> (r, l ^ F(r)); backward: (a, b) -> (b ^ F(a), a)
		buf[0] = byte(i)
		buf[1] = byte(bits)
		binary.BigEndian.PutUint64(buf[2:], l)
		fv := binary.BigEndian.Uint64(st.mac(buf[:]))
		pl, pr := (r^fv)&mask(rb), l
		lb, rb = rb, lb
		l, r = pl, pr
	}
	return l<<rb | r
}

func mask(bits uint) uint64 {
	if bits >= 64 {
		return ^uint64(0)
	}
	return 1<<bits - 1
}

// pseudoInt maps a signed integer of a type with width bits to another of
// the same type, keeping its sign: non-negative values are permuted
// within [0, 2^(bits-1)), negative ones within [-2^(bits-1), 0).
func (f feistel) pseudoInt(v int64, bits uint) int64 {
	if v >= 0 {
		return int64(f.permute(uint64(v), bits-1))
	}
	return -1 - int64(f.permute(uint64(-1-v), bits-1))
}

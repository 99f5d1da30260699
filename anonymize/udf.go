package anonymize

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"strconv"
	"unsafe"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// udfName is the SQL name of a text rule's function.
func udfName(k Kind) string { return "_anon_" + string(k) }

// stringUDF runs a maskFunc over whole vectors (the chunk interface of
// duckdb-go, much cheaper than one call per row).
type stringUDF struct {
	p      *prf
	fn     maskFunc
	pseudo bool // the hot path: Pseudonymize without allocations
}

func varcharType() duckdb.TypeInfo {
	t, err := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	if err != nil {
		panic(err) // a primitive type always exists
	}
	return t
}

func typeInfo(t duckdb.Type) duckdb.TypeInfo {
	ti, err := duckdb.NewTypeInfo(t)
	if err != nil {
		panic(err)
	}
	return ti
}

func (u *stringUDF) Config() duckdb.ScalarFuncConfig {
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{varcharType()}, ResultTypeInfo: varcharType()}
}

func (u *stringUDF) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{ChunkContextExecutor: func(_ context.Context, st *duckdb.ChunkIteratorState) error {
		vec, err := st.GetInputChunk().GetVector(0)
		if err != nil {
			return err
		}
		in, err := duckdb.GetVectorView[string](vec)
		if err != nil {
			return err
		}
		out, err := duckdb.GetVectorWriter[string](st.GetResultVector())
		if err != nil {
			return err
		}
		ps := u.p.get()
		defer u.p.put(ps)
		buf := make([]byte, 0, 128)
		var scratch [26]byte
		for r := range in.Len() {
			v, ok, err := in.GetValueBorrowed(r)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			var res string
			if u.pseudo {
				// DuckDB copies the value in Set, so a view of the
				// scratch buffer avoids one allocation per row.
				res = unsafe.String(&scratch[0], len(pseudoInto(&scratch, ps, buf, v)))
			} else {
				res = u.fn(ps, buf, v)
			}
			if err := out.Set(r, res); err != nil {
				return err
			}
		}
		return nil
	}}
}

// intUDF is _anon_int(v BIGINT, bits INTEGER): the sign-keeping Feistel
// permutation of a signed integer of width bits.
type intUDF struct{ f feistel }

func (u *intUDF) Config() duckdb.ScalarFuncConfig {
	return duckdb.ScalarFuncConfig{
		InputTypeInfos: []duckdb.TypeInfo{typeInfo(duckdb.TYPE_BIGINT), typeInfo(duckdb.TYPE_INTEGER)},
		ResultTypeInfo: typeInfo(duckdb.TYPE_BIGINT),
	}
}

func (u *intUDF) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(v []driver.Value) (any, error) {
		x, ok1 := v[0].(int64)
		bits, ok2 := v[1].(int32)
		if !ok1 || !ok2 || bits < 8 || bits > 64 {
			return nil, fmt.Errorf("_anon_int: bad arguments")
		}
		return u.f.pseudoInt(x, uint(bits)), nil
	}}
}

// unitUDF maps a text to a keyed uniform number in [0, 1): the noise of
// a row, or the sampling draw of a key.
type unitUDF struct{ p *prf }

func (u *unitUDF) Config() duckdb.ScalarFuncConfig {
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{varcharType()}, ResultTypeInfo: typeInfo(duckdb.TYPE_DOUBLE)}
}

func (u *unitUDF) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(v []driver.Value) (any, error) {
		s, _ := v[0].(string)
		return unit(u.p, s), nil
	}}
}

func unit(p *prf, s string) float64 {
	d := p.macString(s)
	return float64(binary.BigEndian.Uint64(d[:8])>>11) / (1 << 53)
}

// registerUDFs registers every function on conn's database, once.
func registerUDFs(conn *sql.Conn, key []byte, seed int64) error {
	mask := newPRF(key, "mask")
	for k, fn := range stringUDFs {
		if err := duckdb.RegisterScalarUDF(conn, udfName(k), &stringUDF{p: mask, fn: fn, pseudo: k == Pseudonymize}); err != nil {
			return fmt.Errorf("anonymize: register %s: %w", udfName(k), err)
		}
	}
	// Second-round masks (another sub-key, same formats) for outputs that
	// happen to equal a real source value (see walkKinds).
	mask2 := newPRF(key, "mask2")
	for k := range walkKinds {
		if err := duckdb.RegisterScalarUDF(conn, udfName(k)+"_2", &stringUDF{p: mask2, fn: stringUDFs[k]}); err != nil {
			return fmt.Errorf("anonymize: register %s_2: %w", udfName(k), err)
		}
	}
	if err := duckdb.RegisterScalarUDF(conn, "_anon_int", &intUDF{f: feistel{p: newPRF(key, "int")}}); err != nil {
		return fmt.Errorf("anonymize: register _anon_int: %w", err)
	}
	if err := duckdb.RegisterScalarUDF(conn, "_anon_noise", &unitUDF{p: newPRF(key, "noise")}); err != nil {
		return fmt.Errorf("anonymize: register _anon_noise: %w", err)
	}
	// Sampling depends on the seed only, so the same seed picks the same
	// customers whatever the key.
	sk := []byte("dataops/sample/" + strconv.FormatInt(seed, 10))
	if err := duckdb.RegisterScalarUDF(conn, "_anon_sample", &unitUDF{p: newPRF(sk, "sample")}); err != nil {
		return fmt.Errorf("anonymize: register _anon_sample: %w", err)
	}
	return nil
}

package pgserve

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strings"
	"time"
	"unsafe"

	bindings "github.com/duckdb/duckdb-go-bindings"
	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"
)

// Results stream: duckdb-go's database/sql rows (and its Arrow reader) run
// every statement with duckdb_pending_prepared, which materialises the
// whole result inside DuckDB before the first row is fetched (outside
// memory_limit: a 10 M-row result of 660 MB ran under a 100 MB limit). The
// front therefore executes readers' statements itself with
// duckdb_pending_prepared_streaming on the same driver connection (same
// transaction) and decodes DuckDB's vectors chunk by chunk (2048 rows),
// writing each row to the client before the next chunk is fetched.

// kind is how a result column is decoded from a DuckDB vector.
type kind int

const (
	kBool kind = iota
	kInt8
	kInt16
	kInt32
	kInt64
	kUInt8
	kUInt16
	kUInt32
	kUInt64
	kFloat32
	kFloat64
	kDate
	kTime
	kTimestamp
	kTimestampTZ
	kInterval
	kHugeInt
	kUUID
	kDecimal16
	kDecimal32
	kDecimal64
	kDecimal128
	kVarchar
	kBlob
)

// column is one result column: its name, decoding, PostgreSQL type and
// whether the query is wrapped to cast it (nested and exotic types are
// sent as text; TIMESTAMP_S/MS/NS as TIMESTAMP).
type column struct {
	name  string
	kind  kind
	oid   uint32
	scale int32
	cast  string // "" or the type the wrapper casts the column to
	ddb   string // DuckDB type name, for messages
}

// statementInfo is what preparing a statement tells: its type, its
// parameters' PostgreSQL types and its result columns.
type statementInfo struct {
	stmtType bindings.StatementType
	params   []uint32
	columns  []column
}

// rawConn returns the C connection inside a duckdb-go driver connection.
// duckdb-go does not export it; the field is read by reflection so that
// statements run on the same connection, in the same transaction.
func rawConn(dc any) (bindings.Connection, error) {
	c, ok := dc.(*duckdb.Conn)
	if !ok || c == nil {
		return bindings.Connection{}, fmt.Errorf("pgserve: driver connection is %T, not *duckdb.Conn", dc)
	}
	f := reflect.ValueOf(c).Elem().FieldByName("conn")
	if !f.IsValid() || f.Type() != reflect.TypeFor[bindings.Connection]() {
		return bindings.Connection{}, errors.New("pgserve: this duckdb-go version has no conn field of type duckdb_go_bindings.Connection")
	}
	rc := *(*bindings.Connection)(unsafe.Pointer(f.UnsafeAddr()))
	if rc.Ptr == nil {
		return bindings.Connection{}, errors.New("pgserve: connection is closed")
	}
	return rc, nil
}

// duckError is an error reported by DuckDB, with its type.
type duckError struct {
	typ bindings.ErrorType
	msg string
}

func (e *duckError) Error() string { return e.msg }

// rawExec runs a statement without a result (transaction control).
func rawExec(rc bindings.Connection, query string) error {
	var res bindings.Result
	state := bindings.Query(rc, query, &res)
	defer bindings.DestroyResult(&res)
	if state == bindings.StateError {
		return &duckError{typ: bindings.ResultErrorType(&res), msg: bindings.ResultError(&res)}
	}
	return nil
}

// describe reports a prepared statement's type, parameters and columns.
func describe(st bindings.PreparedStatement) *statementInfo {
	info := &statementInfo{stmtType: bindings.PreparedStatementType(st)}
	n := int(bindings.NParams(st))
	for i := 1; i <= n; i++ {
		info.params = append(info.params, paramOID(bindings.ParamType(st, bindings.IdxT(i))))
	}
	nc := int(bindings.PreparedStatementColumnCount(st))
	for i := range nc {
		lt := bindings.PreparedStatementColumnLogicalType(st, bindings.IdxT(i))
		col := columnOf(lt)
		bindings.DestroyLogicalType(&lt)
		col.name = bindings.PreparedStatementColumnName(st, bindings.IdxT(i))
		info.columns = append(info.columns, col)
	}
	return info
}

// errorTypeOf guesses the DuckDB error type from a prepare error's prefix
// ("Catalog Error: ...").
func errorTypeOf(msg string) bindings.ErrorType {
	prefix, _, _ := strings.Cut(msg, ":")
	switch prefix {
	case "Catalog Error":
		return bindings.ErrorTypeCatalog
	case "Binder Error":
		return bindings.ErrorTypeBinder
	case "Parser Error":
		return bindings.ErrorTypeParser
	case "Conversion Error":
		return bindings.ErrorTypeConversion
	case "Invalid Input Error":
		return bindings.ErrorTypeInvalidInput
	case "Permission Error":
		return bindings.ErrorTypePermission
	case "Not implemented Error":
		return bindings.ErrorTypeNotImplemented
	case "INTERNAL Error":
		return bindings.ErrorTypeInternal
	}
	return bindings.ErrorTypeInvalid
}

func paramOID(t bindings.Type) uint32 {
	switch t {
	case bindings.TypeBoolean:
		return pgtype.BoolOID
	case bindings.TypeTinyInt, bindings.TypeSmallInt, bindings.TypeUTinyInt:
		return pgtype.Int2OID
	case bindings.TypeInteger, bindings.TypeUSmallInt:
		return pgtype.Int4OID
	case bindings.TypeBigInt, bindings.TypeUInteger:
		return pgtype.Int8OID
	case bindings.TypeFloat:
		return pgtype.Float4OID
	case bindings.TypeDouble:
		return pgtype.Float8OID
	case bindings.TypeDate:
		return pgtype.DateOID
	case bindings.TypeTimestamp:
		return pgtype.TimestampOID
	case bindings.TypeTimestampTZ:
		return pgtype.TimestamptzOID
	case bindings.TypeBlob:
		return pgtype.ByteaOID
	case bindings.TypeDecimal, bindings.TypeHugeInt, bindings.TypeUBigInt, bindings.TypeUHugeInt:
		return pgtype.NumericOID
	case bindings.TypeUUID:
		return pgtype.UUIDOID
	case bindings.TypeInterval:
		return pgtype.IntervalOID
	case bindings.TypeTime:
		return pgtype.TimeOID
	}
	// Everything else (VARCHAR, untyped, nested ...) is
	// sent as text and cast by DuckDB.
	return pgtype.TextOID
}

// columnOf maps a DuckDB column type to its decoding and PostgreSQL type.
func columnOf(lt bindings.LogicalType) column {
	t := bindings.GetTypeId(lt)
	c := column{ddb: typeName(t)}
	switch t {
	case bindings.TypeBoolean:
		c.kind, c.oid = kBool, pgtype.BoolOID
	case bindings.TypeTinyInt:
		c.kind, c.oid = kInt8, pgtype.Int2OID
	case bindings.TypeSmallInt:
		c.kind, c.oid = kInt16, pgtype.Int2OID
	case bindings.TypeInteger:
		c.kind, c.oid = kInt32, pgtype.Int4OID
	case bindings.TypeBigInt:
		c.kind, c.oid = kInt64, pgtype.Int8OID
	case bindings.TypeUTinyInt:
		c.kind, c.oid = kUInt8, pgtype.Int2OID
	case bindings.TypeUSmallInt:
		c.kind, c.oid = kUInt16, pgtype.Int4OID
	case bindings.TypeUInteger:
		c.kind, c.oid = kUInt32, pgtype.Int8OID
	case bindings.TypeUBigInt:
		c.kind, c.oid = kUInt64, pgtype.NumericOID
	case bindings.TypeFloat:
		c.kind, c.oid = kFloat32, pgtype.Float4OID
	case bindings.TypeDouble:
		c.kind, c.oid = kFloat64, pgtype.Float8OID
	case bindings.TypeDate:
		c.kind, c.oid = kDate, pgtype.DateOID
	case bindings.TypeTime:
		c.kind, c.oid = kTime, pgtype.TimeOID
	case bindings.TypeTimestamp:
		c.kind, c.oid = kTimestamp, pgtype.TimestampOID
	case bindings.TypeTimestampS, bindings.TypeTimestampMS, bindings.TypeTimestampNS:
		c.kind, c.oid, c.cast = kTimestamp, pgtype.TimestampOID, "TIMESTAMP"
	case bindings.TypeTimestampTZ:
		c.kind, c.oid = kTimestampTZ, pgtype.TimestamptzOID
	case bindings.TypeInterval:
		c.kind, c.oid = kInterval, pgtype.IntervalOID
	case bindings.TypeHugeInt:
		c.kind, c.oid = kHugeInt, pgtype.NumericOID
	case bindings.TypeUUID:
		c.kind, c.oid = kUUID, pgtype.UUIDOID
	case bindings.TypeDecimal:
		c.oid = pgtype.NumericOID
		c.scale = int32(bindings.DecimalScale(lt))
		switch bindings.DecimalInternalType(lt) {
		case bindings.TypeSmallInt:
			c.kind = kDecimal16
		case bindings.TypeInteger:
			c.kind = kDecimal32
		case bindings.TypeBigInt:
			c.kind = kDecimal64
		default:
			c.kind = kDecimal128
		}
	case bindings.TypeVarchar:
		// JSON is a VARCHAR with an alias; it is sent as text too.
		c.kind, c.oid = kVarchar, pgtype.TextOID
		if bindings.LogicalTypeGetAlias(lt) == "JSON" {
			c.ddb = "JSON"
		}
	case bindings.TypeBlob:
		c.kind, c.oid = kBlob, pgtype.ByteaOID
	default:
		// LIST, STRUCT, MAP, ARRAY, UNION, ENUM, BIT, TIME WITH TIME ZONE,
		// UHUGEINT, BIGNUM, NULL ...: DuckDB's text form.
		c.kind, c.oid, c.cast = kVarchar, pgtype.TextOID, "VARCHAR"
	}
	return c
}

func typeName(t bindings.Type) string {
	switch t {
	case bindings.TypeList:
		return "LIST"
	case bindings.TypeStruct:
		return "STRUCT"
	case bindings.TypeMap:
		return "MAP"
	case bindings.TypeArray:
		return "ARRAY"
	case bindings.TypeEnum:
		return "ENUM"
	case bindings.TypeUnion:
		return "UNION"
	}
	return fmt.Sprintf("type %d", int(t))
}

// wrapQuery returns the SQL that runs query with the casts its columns
// need, or query itself when none does.
func wrapQuery(query string, cols []column) string {
	need := false
	for _, c := range cols {
		need = need || c.cast != ""
	}
	if !need {
		return query
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		ref := fmt.Sprintf("#%d", i+1)
		if c.cast != "" {
			ref = "CAST(" + ref + " AS " + c.cast + ")"
		}
		b.WriteString(ref + " AS " + quoteIdent(c.name))
	}
	b.WriteString(" FROM (\n")
	b.WriteString(strings.TrimRight(strings.TrimSpace(query), "; \t\r\n"))
	b.WriteString("\n) AS dataops_pgserve_q")
	return b.String()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// bindArgs binds decoded parameter values to a prepared statement.
func bindArgs(st bindings.PreparedStatement, args []any) error {
	for i, a := range args {
		idx := bindings.IdxT(i + 1)
		var state bindings.State
		switch v := a.(type) {
		case nil:
			state = bindings.BindNull(st, idx)
		case bool:
			state = bindings.BindBoolean(st, idx, v)
		case int16:
			state = bindings.BindInt64(st, idx, int64(v))
		case int32:
			state = bindings.BindInt64(st, idx, int64(v))
		case int64:
			state = bindings.BindInt64(st, idx, v)
		case float32:
			state = bindings.BindDouble(st, idx, float64(v))
		case float64:
			state = bindings.BindDouble(st, idx, v)
		case string:
			state = bindings.BindVarchar(st, idx, v)
		case []byte:
			state = bindings.BindBlob(st, idx, v)
		case time.Time:
			state = bindings.BindVarchar(st, idx, v.Format("2006-01-02 15:04:05.999999Z07:00"))
		default:
			state = bindings.BindVarchar(st, idx, fmt.Sprint(v))
		}
		if state == bindings.StateError {
			return &duckError{typ: bindings.ErrorTypeMismatchType, msg: fmt.Sprintf("cannot bind parameter $%d (%T)", i+1, a)}
		}
	}
	return nil
}

// errColumnsChanged is returned when a prepared statement's columns
// changed between Parse and Execute (a publish changed a model's columns).
// The message is PostgreSQL's for the same case.
var errColumnsChanged = errors.New("cached plan must not change result type (a model's columns changed in a publish since the statement was prepared; prepare it again)")

// prepare prepares query on rc; the caller destroys the statement.
func prepare(rc bindings.Connection, query string) (bindings.PreparedStatement, error) {
	var st bindings.PreparedStatement
	if bindings.Prepare(rc, query, &st) == bindings.StateError {
		msg := bindings.PrepareError(st)
		bindings.DestroyPrepare(&st)
		return bindings.PreparedStatement{}, &duckError{typ: errorTypeOf(msg), msg: msg}
	}
	return st, nil
}

// execPrepared runs a prepared statement without a result (transaction
// control).
func execPrepared(st bindings.PreparedStatement) error {
	var res bindings.Result
	state := bindings.ExecutePrepared(st, &res)
	defer bindings.DestroyResult(&res)
	if state == bindings.StateError {
		return &duckError{typ: bindings.ResultErrorType(&res), msg: bindings.ResultError(&res)}
	}
	return nil
}

// stream runs the prepared statement st on rc (inside the caller's
// transaction) and emits its rows, fetching one chunk at a time. cols are
// the columns described at Parse time; a result with other columns (a
// publish changed a model) fails with errColumnsChanged. emit receives the
// rows of one chunk (up to 2048) at a time. It returns the number of rows
// emitted.
func stream(ctx context.Context, rc bindings.Connection, st bindings.PreparedStatement, args []any, cols []column, emit func([][]any) error) (int64, error) {
	if bindings.ClearBindings(st) == bindings.StateError {
		return 0, &duckError{typ: bindings.ErrorTypeInvalid, msg: "cannot clear the statement's parameters"}
	}
	if err := bindArgs(st, args); err != nil {
		return 0, err
	}

	// Interrupt the statement when ctx ends.
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
			bindings.Interrupt(rc)
		case <-done:
		}
	}()
	defer func() { close(done); <-stopped }()

	var pending bindings.PendingResult
	if bindings.PendingPreparedStreaming(st, &pending) == bindings.StateError {
		msg := bindings.PendingError(pending)
		bindings.DestroyPending(&pending)
		return 0, &duckError{typ: errorTypeOf(msg), msg: msg}
	}
	defer bindings.DestroyPending(&pending)
	var res bindings.Result
	if bindings.ExecutePending(pending, &res) == bindings.StateError {
		err := &duckError{typ: bindings.ResultErrorType(&res), msg: bindings.ResultError(&res)}
		bindings.DestroyResult(&res)
		return 0, errors.Join(ctx.Err(), err)
	}
	defer bindings.DestroyResult(&res)
	if int(bindings.ColumnCount(&res)) != len(cols) {
		return 0, errColumnsChanged
	}
	for i := range cols {
		lt := bindings.ColumnLogicalType(&res, bindings.IdxT(i))
		c := columnOf(lt)
		bindings.DestroyLogicalType(&lt)
		if c.kind != cols[i].kind || c.scale != cols[i].scale {
			return 0, errColumnsChanged
		}
	}

	var n int64
	for {
		chunk := bindings.FetchChunk(res)
		if chunk.Ptr == nil {
			if msg := bindings.ResultError(&res); msg != "" {
				return n, errors.Join(ctx.Err(), &duckError{typ: bindings.ResultErrorType(&res), msg: msg})
			}
			return n, ctx.Err()
		}
		k, err := emitChunk(chunk, cols, emit)
		n += k
		bindings.DestroyDataChunk(&chunk)
		if err != nil {
			return n, err
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
	}
}

// vec is one column of a chunk: its data and validity mask.
type vec struct {
	data  unsafe.Pointer
	valid []uint64 // nil: all valid
}

func (v vec) isNull(row int) bool {
	return v.valid != nil && v.valid[row/64]&(1<<(row%64)) == 0
}

func emitChunk(chunk bindings.DataChunk, cols []column, emit func([][]any) error) (int64, error) {
	size := int(bindings.DataChunkGetSize(chunk))
	vs := make([]vec, len(cols))
	for i := range cols {
		v := bindings.DataChunkGetVector(chunk, bindings.IdxT(i))
		vs[i].data = bindings.VectorGetData(v)
		if m := bindings.VectorGetValidity(v); m != nil {
			vs[i].valid = unsafe.Slice((*uint64)(m), (size+63)/64)
		}
	}
	rows := make([][]any, size)
	cells := make([]any, size*len(cols))
	for r := range size {
		row := cells[r*len(cols) : (r+1)*len(cols) : (r+1)*len(cols)]
		for i, c := range cols {
			if vs[i].isNull(r) {
				continue
			}
			row[i] = decode(c, vs[i].data, r)
		}
		rows[r] = row
	}
	if err := emit(rows); err != nil {
		return 0, err
	}
	return int64(size), nil
}

// at returns a pointer to element r of size bytes in a vector's data.
func at(p unsafe.Pointer, r, size int) unsafe.Pointer { return unsafe.Add(p, r*size) }

const (
	dateInfinity      = math.MaxInt32
	timestampInfinity = math.MaxInt64
)

var unixEpoch = time.Unix(0, 0).UTC()

func decode(c column, p unsafe.Pointer, r int) any {
	switch c.kind {
	case kBool:
		return *(*bool)(at(p, r, 1))
	case kInt8:
		return int16(*(*int8)(at(p, r, 1)))
	case kInt16:
		return *(*int16)(at(p, r, 2))
	case kInt32:
		return *(*int32)(at(p, r, 4))
	case kInt64:
		return *(*int64)(at(p, r, 8))
	case kUInt8:
		return int16(*(*uint8)(at(p, r, 1)))
	case kUInt16:
		return int32(*(*uint16)(at(p, r, 2)))
	case kUInt32:
		return int64(*(*uint32)(at(p, r, 4)))
	case kUInt64:
		return pgtype.Numeric{Int: new(big.Int).SetUint64(*(*uint64)(at(p, r, 8))), Valid: true}
	case kFloat32:
		return *(*float32)(at(p, r, 4))
	case kFloat64:
		return *(*float64)(at(p, r, 8))
	case kDate:
		d := *(*int32)(at(p, r, 4))
		switch {
		case d == dateInfinity:
			return pgtype.Date{InfinityModifier: pgtype.Infinity, Valid: true}
		case d == -dateInfinity:
			return pgtype.Date{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
		}
		return pgtype.Date{Time: unixEpoch.AddDate(0, 0, int(d)), Valid: true}
	case kTime:
		return pgtype.Time{Microseconds: *(*int64)(at(p, r, 8)), Valid: true}
	case kTimestamp, kTimestampTZ:
		us := *(*int64)(at(p, r, 8))
		inf := pgtype.Finite
		switch us {
		case timestampInfinity:
			inf = pgtype.Infinity
		case -timestampInfinity:
			inf = pgtype.NegativeInfinity
		}
		t := time.UnixMicro(us).UTC()
		if c.kind == kTimestamp {
			return pgtype.Timestamp{Time: t, InfinityModifier: inf, Valid: true}
		}
		return pgtype.Timestamptz{Time: t, InfinityModifier: inf, Valid: true}
	case kInterval:
		b := unsafe.Slice((*byte)(at(p, r, 16)), 16)
		return pgtype.Interval{
			Months:       int32(binary.LittleEndian.Uint32(b[0:])),
			Days:         int32(binary.LittleEndian.Uint32(b[4:])),
			Microseconds: int64(binary.LittleEndian.Uint64(b[8:])),
			Valid:        true,
		}
	case kHugeInt:
		return pgtype.Numeric{Int: hugeInt(at(p, r, 16)), Valid: true}
	case kUUID:
		b := unsafe.Slice((*byte)(at(p, r, 16)), 16)
		lower := binary.LittleEndian.Uint64(b[0:])
		upper := binary.LittleEndian.Uint64(b[8:]) ^ (1 << 63)
		var u [16]byte
		binary.BigEndian.PutUint64(u[0:], upper)
		binary.BigEndian.PutUint64(u[8:], lower)
		return pgtype.UUID{Bytes: u, Valid: true}
	case kDecimal16:
		return pgtype.Numeric{Int: big.NewInt(int64(*(*int16)(at(p, r, 2)))), Exp: -c.scale, Valid: true}
	case kDecimal32:
		return pgtype.Numeric{Int: big.NewInt(int64(*(*int32)(at(p, r, 4)))), Exp: -c.scale, Valid: true}
	case kDecimal64:
		return pgtype.Numeric{Int: big.NewInt(*(*int64)(at(p, r, 8))), Exp: -c.scale, Valid: true}
	case kDecimal128:
		return pgtype.Numeric{Int: hugeInt(at(p, r, 16)), Exp: -c.scale, Valid: true}
	case kVarchar:
		return string(stringBytes(at(p, r, 16)))
	case kBlob:
		return append([]byte(nil), stringBytes(at(p, r, 16))...)
	}
	return nil
}

// hugeInt reads a DuckDB hugeint (lower uint64, upper int64).
func hugeInt(p unsafe.Pointer) *big.Int {
	b := unsafe.Slice((*byte)(p), 16)
	lower := binary.LittleEndian.Uint64(b[0:])
	upper := int64(binary.LittleEndian.Uint64(b[8:]))
	if (upper == 0 && lower <= math.MaxInt64) || (upper == -1 && lower > math.MaxInt64) {
		return big.NewInt(int64(lower))
	}
	v := big.NewInt(upper)
	v.Lsh(v, 64)
	return v.Add(v, new(big.Int).SetUint64(lower))
}

// stringBytes returns the bytes of a duckdb_string_t (16 bytes: a uint32
// length, then up to 12 inlined bytes, or a 4-byte prefix and a pointer).
// The bytes belong to the chunk: copy them before it is destroyed.
func stringBytes(p unsafe.Pointer) []byte {
	n := *(*uint32)(p)
	if n == 0 {
		return []byte{}
	}
	if n <= 12 {
		return unsafe.Slice((*byte)(unsafe.Add(p, 4)), n)
	}
	ptr := *(*unsafe.Pointer)(unsafe.Add(p, 8))
	return unsafe.Slice((*byte)(ptr), n)
}

// tzCodec writes timestamptz text as PostgreSQL does ("2025-06-30
// 07:04:56+00"; pgtype writes a "Z"), for clients that parse the text.
type tzCodec struct{ pgtype.TimestamptzCodec }

func (c *tzCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(pgtype.Timestamptz); ok && format == pgtype.TextFormatCode {
		return tzTextPlan{}
	}
	return c.TimestamptzCodec.PlanEncode(m, oid, format, value)
}

type tzTextPlan struct{}

func (tzTextPlan) Encode(value any, buf []byte) ([]byte, error) {
	ts := value.(pgtype.Timestamptz)
	if !ts.Valid {
		return nil, nil
	}
	switch ts.InfinityModifier {
	case pgtype.Infinity:
		return append(buf, "infinity"...), nil
	case pgtype.NegativeInfinity:
		return append(buf, "-infinity"...), nil
	}
	return append(ts.Time.UTC().AppendFormat(buf, "2006-01-02 15:04:05.999999"), "+00"...), nil
}

// extendTypes registers tzCodec in a connection's type map.
func extendTypes(m *pgtype.Map) {
	m.RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID, Codec: &tzCodec{}})
}

package pgserve

import (
	"errors"
	"testing"

	bindings "github.com/duckdb/duckdb-go-bindings"
	"github.com/jeroenrinzema/psql-wire/codes"
	pgerror "github.com/jeroenrinzema/psql-wire/errors"
	"github.com/stretchr/testify/require"
)

// TestNoStackTraceReachesClients: DuckDB internal errors become a generic
// XX000, other messages lose their stack traces, and errors of unknown
// origin say nothing about the internals.
func TestNoStackTraceReachesClients(t *testing.T) {
	cases := []struct {
		in   error
		code codes.Code
		msg  string
	}{
		{&duckError{typ: bindings.ErrorTypeInternal, msg: "INTERNAL Error: Attempted to access index 3 within vector of size 3\n\nStack Trace:\n/usr/lib/libduckdb.so(+0x1234) [0x7f]\n"}, codes.Internal, "internal error in the database engine"},
		{&duckError{typ: bindings.ErrorTypeInvalidInput, msg: "Invalid Input Error: bad value\n\nStack Trace:\n0 duckdb::Exception::Exception\n"}, codes.InvalidParameterValue, "Invalid Input Error: bad value"},
		{&duckError{typ: bindings.ErrorTypeCatalog, msg: "Catalog Error: Table with name nope does not exist!"}, codes.UndefinedTable, "Catalog Error: Table with name nope does not exist!"},
		{&duckError{typ: bindings.ErrorTypeConversion, msg: "Conversion Error: Could not convert string 'x' to INT32"}, codes.InvalidTextRepresentation, "Conversion Error: Could not convert string 'x' to INT32"},
		{errors.New("dial unix /var/run/secret.sock: connection refused"), codes.Internal, "internal error"},
		{pgerror.WithCode(errors.New("boom\nStack Trace: x"), codes.DataException), codes.DataException, "boom"},
	}
	for _, c := range cases {
		got := sanitizeForClient(c.in)
		require.Equal(t, c.code, pgerror.GetCode(got), c.in.Error())
		require.Equal(t, c.msg, got.Error())
	}
}

package pgserve

import (
	"context"
	"errors"
	"fmt"
	"strings"

	bindings "github.com/duckdb/duckdb-go-bindings"
	"github.com/jeroenrinzema/psql-wire/codes"
	pgerror "github.com/jeroenrinzema/psql-wire/errors"

	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/duckenv"
)

// SQLSTATEs the front answers with.
var (
	// StateReadOnly is read_only_sql_transaction: a write.
	StateReadOnly = codes.ReadOnlySQLTransaction // 25006
	// StateInsufficientPrivilege is a refused statement or a denied
	// environment.
	StateInsufficientPrivilege = codes.InsufficientPrivilege // 42501
)

// pgError is an error with a SQLSTATE, for the client.
func pgError(code codes.Code, format string, args ...any) error {
	return pgerror.WithCode(fmt.Errorf(format, args...), code)
}

// clientError turns an internal error into what a client may see: a
// SQLSTATE and DuckDB's message without stack traces or internal details.
// Errors that already carry a SQLSTATE pass unchanged.
func clientError(err error) error {
	if err == nil {
		return nil
	}
	if pgerror.GetCode(err) != codes.Uncategorized {
		return err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return pgError(codes.QueryCanceled, "canceling statement due to statement timeout")
	case errors.Is(err, context.Canceled):
		return pgError(codes.QueryCanceled, "canceling statement due to user request")
	case errors.Is(err, errColumnsChanged):
		return pgerror.WithCode(err, codes.FeatureNotSupported)
	case errors.Is(err, duckenv.ErrRefused):
		return pgerror.WithCode(err, StateInsufficientPrivilege)
	case errors.Is(err, env.ErrDenied):
		return pgerror.WithCode(err, StateInsufficientPrivilege)
	}
	var de *duckError
	if errors.As(err, &de) {
		return pgerror.WithCode(errors.New(sanitizeMessage(de.msg)), sqlstateOf(de))
	}
	return pgError(codes.Internal, "internal error")
}

// sanitizeMessage strips what must not reach a client: stack traces and
// the details of internal errors.
func sanitizeMessage(msg string) string {
	if i := strings.Index(msg, "Stack Trace"); i >= 0 {
		msg = msg[:i]
	}
	if strings.HasPrefix(msg, "INTERNAL Error") || strings.Contains(msg, "INTERNAL Error") {
		return "internal error in the database engine"
	}
	return strings.TrimRight(msg, " \n")
}

func sqlstateOf(e *duckError) codes.Code {
	if strings.Contains(e.msg, "read-only mode") || strings.Contains(e.msg, "read-only transaction") {
		return StateReadOnly
	}
	switch e.typ {
	case bindings.ErrorTypeCatalog:
		switch {
		case strings.Contains(e.msg, "Function with name"), strings.Contains(e.msg, "Macro Function"):
			return codes.UndefinedFunction
		case strings.Contains(e.msg, "Schema with name"):
			return codes.InvalidSchemaName
		}
		return codes.UndefinedTable
	case bindings.ErrorTypeBinder:
		if strings.Contains(e.msg, "not found") {
			return codes.UndefinedColumn
		}
		return codes.Syntax
	case bindings.ErrorTypeParser, bindings.ErrorTypeSyntax:
		return codes.Syntax
	case bindings.ErrorTypeConversion, bindings.ErrorTypeMismatchType:
		return codes.InvalidTextRepresentation
	case bindings.ErrorTypeOutOfRange:
		return codes.NumericValueOutOfRange
	case bindings.ErrorTypeDivideByZero:
		return codes.DivisionByZero
	case bindings.ErrorTypeInterrupt:
		return codes.QueryCanceled
	case bindings.ErrorTypeOutOfMemory:
		return codes.OutOfMemory
	case bindings.ErrorTypePermission:
		return StateInsufficientPrivilege
	case bindings.ErrorTypeTransaction:
		return codes.InvalidTransactionState
	case bindings.ErrorTypeInvalidInput:
		return codes.InvalidParameterValue
	case bindings.ErrorTypeNotImplemented:
		return codes.FeatureNotSupported
	case bindings.ErrorTypeInternal, bindings.ErrorTypeFatal:
		return codes.Internal
	}
	return codes.DataException
}

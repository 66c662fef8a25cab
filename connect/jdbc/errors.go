package jdbc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// serverError returns the database's SQLSTATE-like code of err: PostgreSQL's
// SQLSTATE or MySQL's error number, or "" when err did not come from the
// server (a network error, a closed connection).
func serverError(err error) (pg string, my uint16, ok bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code, 0, true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return "", me.Number, true
	}
	return "", 0, false
}

// retryTx reports a server error after which the transaction is worth trying
// again as a whole: deadlocks, serialization failures, lock timeouts and the
// server going away.
func retryTx(err error) bool {
	pg, my, ok := serverError(err)
	if !ok {
		return false
	}
	switch {
	case pg == "40001", pg == "40P01", strings.HasPrefix(pg, "08"), strings.HasPrefix(pg, "57P"):
		return true
	case my == 1213, my == 1205, my == 1927: // deadlock, lock wait timeout, connection killed
		return true
	}
	return false
}

// sinkError is an error the sink itself raises about a record or table
// (a missing table, auto.evolve off): never a connection problem.
type sinkError string

func (e sinkError) Error() string { return string(e) }

func sinkErrorf(format string, args ...any) error { return sinkError(fmt.Sprintf(format, args...)) }

// isConnError reports an error of the connection (or a retriable server
// condition) rather than of the statement.
func isConnError(err error) bool {
	var se sinkError
	if errors.As(err, &se) {
		return false
	}
	if _, _, ok := serverError(err); ok {
		return retryTx(err)
	}
	return err != nil
}

// isAuthError reports a refused login or unknown database: a config error,
// not worth retrying.
func isAuthError(err error) bool {
	pg, my, ok := serverError(err)
	if !ok {
		return false
	}
	return strings.HasPrefix(pg, "28") || pg == "3D000" || my == 1045 || my == 1044 || my == 1049
}

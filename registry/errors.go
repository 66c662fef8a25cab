package registry

import (
	"fmt"
	"net/http"
)

// Error is a registry error with Confluent's HTTP status and error code; the
// REST layer answers it as {"error_code": Code, "message": Message}.
type Error struct {
	Status  int
	Code    int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

func errf(status, code int, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Confluent's error codes (core/.../rest/exceptions/Errors.java).
func errSubjectNotFound(s string) *Error {
	return errf(http.StatusNotFound, 40401, "Subject '%s' not found.", s)
}

func errVersionNotFound(s string, v int) *Error {
	return errf(http.StatusNotFound, 40402, "Version %d not found.", v)
}

func errSchemaNotFound() *Error {
	return errf(http.StatusNotFound, 40403, "Schema not found")
}

func errSchemaIDNotFound(id int) *Error {
	return errf(http.StatusNotFound, 40403, "Schema %d not found", id)
}

func errSubjectSoftDeleted(s string) *Error {
	return errf(http.StatusNotFound, 40404, "Subject '%s' was soft deleted.Set permanent=true to delete permanently", s)
}

func errSubjectNotSoftDeleted(s string) *Error {
	return errf(http.StatusNotFound, 40405, "Subject '%s' was not deleted first before being permanently deleted", s)
}

func errVersionSoftDeleted(s string, v int) *Error {
	return errf(http.StatusNotFound, 40406, "Subject '%s' Version %d was soft deleted.Set permanent=true to delete permanently", s, v)
}

func errVersionNotSoftDeleted(s string, v int) *Error {
	return errf(http.StatusNotFound, 40407, "Subject '%s' Version %d was not deleted first before being permanently deleted", s, v)
}

func errSubjectConfigNotFound(s string) *Error {
	return errf(http.StatusNotFound, 40408, "Subject '%s' does not have subject-level compatibility configured", s)
}

func errSubjectModeNotFound(s string) *Error {
	return errf(http.StatusNotFound, 40409, "Subject '%s' does not have subject-level mode configured", s)
}

func errIncompatible(msgs []string) *Error {
	m := "Schema being registered is incompatible with an earlier schema for subject"
	if len(msgs) > 0 {
		m += ", details: ["
		for i, s := range msgs {
			if i > 0 {
				m += ", "
			}
			m += s
		}
		m += "]"
	}
	return errf(http.StatusConflict, 40901, "%s", m)
}

func errInvalidSchema(format string, args ...any) *Error {
	return errf(http.StatusUnprocessableEntity, 42201, "Invalid schema "+format, args...)
}

func errInvalidVersion(v string) *Error {
	return errf(http.StatusUnprocessableEntity, 42202,
		"The specified version '%s' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"", v)
}

func errInvalidCompatibility(l string) *Error {
	return errf(http.StatusUnprocessableEntity, 42203,
		"Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive; got %q", l)
}

func errInvalidMode(m string) *Error {
	return errf(http.StatusUnprocessableEntity, 42204, "Invalid mode. Valid values are READWRITE, READONLY, IMPORT; got %q", m)
}

func errNotPermitted(format string, args ...any) *Error {
	return errf(http.StatusUnprocessableEntity, 42205, format, args...)
}

func errReferenceExists(format string, args ...any) *Error {
	return errf(http.StatusUnprocessableEntity, 42206, format, args...)
}

func errIDMismatch(format string, args ...any) *Error {
	return errf(http.StatusUnprocessableEntity, 42207, format, args...)
}

func errInvalidSubject(s string) *Error {
	return errf(http.StatusUnprocessableEntity, 42208, "The specified subject '%s' is not valid.", s)
}

func errSchemaTooLarge(limit int64) *Error {
	return errf(http.StatusUnprocessableEntity, 42209, "Request body is larger than the limit of %d bytes", limit)
}

func errStore(err error) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return errf(http.StatusInternalServerError, 50001, "Error in the backend data store: %v", err)
}

func errForwarding(format string, args ...any) *Error {
	return errf(http.StatusInternalServerError, 50003, format, args...)
}

func errUnknownLeader(format string, args ...any) *Error {
	return errf(http.StatusInternalServerError, 50004, format, args...)
}

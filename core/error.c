// core/error.c: status names and the formatting of error messages.
// Messages are truncated to fit lc_error.msg, never overflowed.
// Leaves out: thread-local "last error" state (callers pass lc_error *).
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *status_names[LC_ERR_COUNT] = {
    [LC_OK] = "ok",
    [LC_ERR_ARG] = "bad argument",
    [LC_ERR_NOMEM] = "out of memory",
    [LC_ERR_IO] = "i/o error",
    [LC_ERR_MAGIC] = "bad magic",
    [LC_ERR_VERSION] = "unsupported version",
    [LC_ERR_TRUNCATED] = "truncated",
    [LC_ERR_CHECKSUM] = "bad checksum",
    [LC_ERR_FORMAT] = "malformed",
    [LC_ERR_TYPE] = "wrong type",
    [LC_ERR_SHAPE] = "shape mismatch",
    [LC_ERR_SIZE] = "bad size",
    [LC_ERR_NOTFOUND] = "not found",
    [LC_ERR_ACTION] = "invalid action",
    [LC_ERR_NAN] = "non-finite value",
    [LC_ERR_NET] = "network error",
    [LC_ERR_PROTO] = "protocol error",
    [LC_ERR_STATE] = "wrong state",
    [LC_ERR_UNSUPPORTED] = "unsupported",
};

const char *lc_status_str(int code) {
    if (code < 0 || code >= LC_ERR_COUNT) return "unknown error";
    return status_names[code];
}

int lc_fail(lc_error *err, lc_status code, const char *fmt, ...) {
    if (!err) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

int lc_error_prefix(lc_error *err, const char *fmt, ...) {
    if (!err) return LC_ERR_ARG;
    char old[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    size_t used = (size_t)n < sizeof err->msg ? (size_t)n : sizeof err->msg - 1;
    size_t room = sizeof err->msg - 1 - used;
    size_t len = strnlen(old, sizeof old - 1);
    if (len > room) len = room;
    memcpy(err->msg + used, old, len);
    err->msg[used + len] = '\0';
    return err->code;
}

void lc_error_clear(lc_error *err) {
    if (!err) return;
    err->code = LC_OK;
    err->msg[0] = '\0';
}

const char *lc_version(void) { return LC_VERSION; }

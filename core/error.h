// core/error.h: status codes and error values with messages.
// A library function never exits or prints: it fills an lc_error and returns a
// status. Leaves out: error stacks, errno capture beyond what the message says.
#ifndef LC_CORE_ERROR_H
#define LC_CORE_ERROR_H

#include "core/api.h"

LC_API_BEGIN

typedef enum lc_status {
    LC_OK = 0,
    LC_ERR_ARG,       // a bad argument from a caller (command line, API user)
    LC_ERR_NOMEM,     // allocation failed
    LC_ERR_IO,        // open/read/write/fsync/rename failed
    LC_ERR_MAGIC,     // not a lucid file (wrong magic)
    LC_ERR_VERSION,   // unsupported file or protocol version
    LC_ERR_TRUNCATED, // data ends early
    LC_ERR_CHECKSUM,  // checksum mismatch
    LC_ERR_FORMAT,    // malformed structure (msgpack, layout)
    LC_ERR_TYPE,      // a field has the wrong type
    LC_ERR_SHAPE,     // shapes or sizes disagree
    LC_ERR_SIZE,      // a declared size is absurd (bigger than the data, over a cap)
    LC_ERR_NOTFOUND,  // unknown env name, missing field, missing tensor
    LC_ERR_ACTION,    // an invalid action was passed to step
    LC_ERR_NAN,       // a non-finite number appeared (training, inputs)
    LC_ERR_NET,       // a ZeroMQ / socket failure
    LC_ERR_PROTO,     // a malformed or unexpected protocol message
    LC_ERR_STATE,     // a call made in the wrong state (step before reset)
    LC_ERR_UNSUPPORTED, // a valid request this build or env cannot serve
    LC_ERR_COUNT
} lc_status;

typedef struct lc_error {
    lc_status code;
    char msg[512];
} lc_error;

// Sets err (which may be NULL) to code and a printf-formatted message and
// returns code, so `return lc_fail(err, LC_ERR_ARG, "...", ...);` reads well.
int lc_fail(lc_error *err, lc_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
// Prepends context ("file.lucid: ") to an error already set. Returns err->code.
int lc_error_prefix(lc_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void lc_error_clear(lc_error *err);
// A short stable name for a status: "ok", "bad argument", "truncated", ...
const char *lc_status_str(int code);

LC_API_END

#endif

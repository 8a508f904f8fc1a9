// core/msgpack_scan.h: a walk over untrusted msgpack bytes that allocates nothing,
// run before msgpack_unpack so declared counts and lengths cannot drive allocation.
// Leaves out: decoding values (msgpack-c does that), timestamps and ext meaning.
#ifndef LC_CORE_MSGPACK_SCAN_H
#define LC_CORE_MSGPACK_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define LC_MP_DEPTH_CAP 32 // the largest max_depth a caller may ask for

// What a scan accepts and how it names what it refuses.
typedef struct lc_mp_limits {
    int max_depth;         // non-empty maps/arrays nest at most this deep, 0..LC_MP_DEPTH_CAP
    size_t max_objects;    // values counted (a container, each key and element; a bin is one); 0: no cap
    int allow_trailing;    // 0: bytes after the value are refused (as malformed)
    lc_status malformed;   // code for bytes that are not one complete value, or nest too deep
    lc_status past_end;    // code for a str/bin/ext whose declared length passes the end
    const char *what;      // noun for messages ("body", "message"); NULL: "input"
} lc_mp_limits;

// Walks the one msgpack value that starts at p[0] in p[0..len) without allocating.
// It must be complete, nest at most lim->max_depth deep, hold at most
// lim->max_objects values, and no map or array may declare more elements than
// bytes remain (LC_ERR_SIZE, as is going over max_objects). After this,
// msgpack_unpack allocates a bounded number of objects per input byte (about
// 24 to 48 bytes each), whatever the counts say. On success *used (may be NULL)
// is the value's size in bytes; it is len unless allow_trailing is set.
// A msgpack_object_type (msgpack-c's) in words: "an integer", "a map", ...
const char *lc_mp_type_name(int type);

int lc_mp_scan(const uint8_t *p, size_t len, const lc_mp_limits *lim, size_t *used,
               lc_error *err);

#endif

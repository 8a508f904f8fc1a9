// core/msgpack_scan.c: the allocation-free pre-scan of msgpack bytes shared by the
// container reader (core/file.c) and the wire protocol decoder (agents/proto.c).
// Leaves out: checking UTF-8 in strings, ext types, float values (any bits pass).
#include "core/msgpack_scan.h"

#include <assert.h>
#include <msgpack.h>

int lc_mp_scan(const uint8_t *p, size_t len, const lc_mp_limits *lim, size_t *used,
               lc_error *err) {
    assert(lim && lim->max_depth >= 0 && lim->max_depth <= LC_MP_DEPTH_CAP);
    const char *what = lim->what ? lim->what : "input";
    uint64_t pending[LC_MP_DEPTH_CAP + 1]; // values still to read at each open level
    int depth = 0;
    size_t pos = 0, objects = 0;
    pending[0] = 1;
    while (depth >= 0) {
        if (pending[depth] == 0) {
            depth--;
            continue;
        }
        pending[depth]--;
        if (pos >= len)
            return lc_fail(err, lim->malformed, "%s ends inside a msgpack value (byte %zu)", what, pos);
        if (lim->max_objects && ++objects > lim->max_objects)
            return lc_fail(err, LC_ERR_SIZE, "%s holds more than %zu msgpack values", what,
                           lim->max_objects);
        uint8_t b = p[pos++];
        uint64_t skip = 0, items = 0; // payload bytes; container elements
        int lenbytes = 0, extra = 0, pairs = 0; // pairs: 1 array, 2 map (elements per count)
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
            skip = 0;                                       // fixint, nil, false, true
        } else if (b <= 0x8f) {
            items = 2u * (b & 0x0f);                        // fixmap
        } else if (b <= 0x9f) {
            items = b & 0x0f;                               // fixarray
        } else if (b <= 0xbf) {
            skip = b & 0x1f;                                // fixstr
        } else {
            switch (b) {
            case 0xc4: case 0xd9: lenbytes = 1; break;      // bin8, str8
            case 0xc5: case 0xda: lenbytes = 2; break;      // bin16, str16
            case 0xc6: case 0xdb: lenbytes = 4; break;      // bin32, str32
            case 0xc7: lenbytes = 1, extra = 1; break;      // ext8 (+ type byte)
            case 0xc8: lenbytes = 2, extra = 1; break;      // ext16
            case 0xc9: lenbytes = 4, extra = 1; break;      // ext32
            case 0xca: skip = 4; break;                     // float32
            case 0xcb: skip = 8; break;                     // float64
            case 0xcc: case 0xd0: skip = 1; break;          // uint8, int8
            case 0xcd: case 0xd1: skip = 2; break;          // uint16, int16
            case 0xce: case 0xd2: skip = 4; break;          // uint32, int32
            case 0xcf: case 0xd3: skip = 8; break;          // uint64, int64
            case 0xd4: skip = 2; break;                     // fixext 1..16 (+ type byte)
            case 0xd5: skip = 3; break;
            case 0xd6: skip = 5; break;
            case 0xd7: skip = 9; break;
            case 0xd8: skip = 17; break;
            case 0xdc: lenbytes = 2, pairs = 1; break;      // array16
            case 0xdd: lenbytes = 4, pairs = 1; break;      // array32
            case 0xde: lenbytes = 2, pairs = 2; break;      // map16
            case 0xdf: lenbytes = 4, pairs = 2; break;      // map32
            default:                                        // 0xc1, never used
                return lc_fail(err, lim->malformed, "invalid msgpack byte 0x%02x at %s offset %zu",
                               b, what, pos - 1);
            }
        }
        if (lenbytes) {
            if (len - pos < (size_t)lenbytes)
                return lc_fail(err, lim->malformed, "%s ends inside a msgpack length (byte %zu)",
                               what, pos);
            uint64_t v = 0;
            for (int i = 0; i < lenbytes; i++) v = (v << 8) | p[pos++]; // msgpack is big-endian
            if (pairs) items = v * (uint64_t)pairs;
            else skip = v + (uint64_t)extra;
        }
        if (skip > len - pos)
            return lc_fail(err, lim->past_end,
                           "a msgpack value at %s offset %zu declares %llu bytes but %zu remain",
                           what, pos, (unsigned long long)skip, len - pos);
        pos += (size_t)skip;
        if (items) {
            if (items > len - pos)
                return lc_fail(err, LC_ERR_SIZE,
                               "a msgpack container at %s offset %zu declares %llu elements "
                               "but only %zu bytes remain",
                               what, pos, (unsigned long long)items, len - pos);
            if (depth == lim->max_depth)
                return lc_fail(err, lim->malformed, "msgpack nesting deeper than %d", lim->max_depth);
            pending[++depth] = items;
        }
    }
    if (pos != len && !lim->allow_trailing)
        return lc_fail(err, lim->malformed, "%zu bytes follow the msgpack value in the %s",
                       len - pos, what);
    if (used) *used = pos;
    return LC_OK;
}

// msgpack-c's object type (msgpack_object_type) in words, for error messages.
const char *lc_mp_type_name(int t) {
    switch (t) {
    case MSGPACK_OBJECT_NIL: return "nil";
    case MSGPACK_OBJECT_BOOLEAN: return "a boolean";
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "an integer";
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return "a float";
    case MSGPACK_OBJECT_STR: return "a string";
    case MSGPACK_OBJECT_ARRAY: return "an array";
    case MSGPACK_OBJECT_MAP: return "a map";
    case MSGPACK_OBJECT_BIN: return "binary data";
    case MSGPACK_OBJECT_EXT: return "an extension";
    }
    return "an unknown value";
}

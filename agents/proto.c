// agents/proto.c: encoder and the one decoder of lucid's wire protocol (proto.h).
// Untrusted bytes are pre-scanned without allocating, unpacked by a single
// msgpack_unpack call, then each field is checked before use. Leaves out: sockets.
//
// Letters: T = rollout steps, N = envs, O = obs elements, A = action elements.
#include "agents/proto.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msgpack_scan.h"

static const char *const type_names[LC_MSG_COUNT] = {
    [LC_MSG_ERROR] = "error",         [LC_MSG_MAKE] = "make",
    [LC_MSG_RESET] = "reset",         [LC_MSG_STEP] = "step",
    [LC_MSG_SPACES] = "spaces",       [LC_MSG_RENDER] = "render",
    [LC_MSG_CLOSE] = "close",         [LC_MSG_ENV] = "env",
    [LC_MSG_OBS] = "obs",             [LC_MSG_TRANSITION] = "transition",
    [LC_MSG_FRAME] = "frame",         [LC_MSG_CLOSED] = "closed",
    [LC_MSG_HELLO] = "hello",         [LC_MSG_SETUP] = "setup",
    [LC_MSG_WEIGHTS] = "weights",     [LC_MSG_ROLLOUT] = "rollout",
    [LC_MSG_HEARTBEAT] = "heartbeat", [LC_MSG_BYE] = "bye",
};

const char *lc_msg_type_name(lc_msg_type t) {
    return (unsigned)t < LC_MSG_COUNT ? type_names[t] : NULL;
}

lc_msg lc_msg_init(lc_msg_type t) {
    lc_msg m;
    memset(&m, 0, sizeof m);
    m.type = t;
    m.version = LC_PROTO_VERSION;
    switch (t) {
    case LC_MSG_SETUP:
        m.setup.num_envs = 1;
        m.setup.num_steps = 128;
        m.setup.segments_per_version = 1;
        m.setup.heartbeat_ms = 1000;
        m.setup.timeout_ms = 10000;
        m.setup.gamma = 0.99f;
        m.setup.clip_reward = 10.0f;
        break;
    default: break;
    }
    return m;
}

lc_msg lc_msg_error(int code, const char *fmt, ...) {
    lc_msg m = lc_msg_init(LC_MSG_ERROR);
    m.error.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m.error.msg, sizeof m.error.msg, fmt, ap);
    va_end(ap);
    return m;
}

lc_wire_tensor lc_wire_tensor_of(lc_dtype dtype, int ndim, const int64_t *shape, const void *data) {
    assert(ndim >= 0 && ndim <= LC_MAX_DIMS);
    lc_wire_tensor t;
    memset(&t, 0, sizeof t);
    t.present = 1;
    t.dtype = dtype;
    t.ndim = ndim;
    size_t n = 1;
    for (int i = 0; i < t.ndim; i++) {
        t.shape[i] = shape[i];
        n *= (size_t)shape[i];
    }
    t.nbytes = n * lc_dtype_size(dtype);
    t.data = data;
    return t;
}

size_t lc_wire_tensor_count(const lc_wire_tensor *t) {
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= (size_t)t->shape[i];
    return n;
}

void lc_wire_tensor_copy(void *dst, const lc_wire_tensor *t) {
    if (t->nbytes) memcpy(dst, t->data, t->nbytes);
}

// ---------------------------------------------------------------- pre-scan

// Bytes pass core/msgpack_scan.h first: one complete value using every byte, nested at
// most LC_PROTO_MAX_DEPTH deep, at most LC_PROTO_MAX_OBJECTS values. Then msgpack_unpack
// allocates at most ~24 bytes per object: a few hundred KB.
static const lc_mp_limits msg_limits = {
    .max_depth = LC_PROTO_MAX_DEPTH, .max_objects = LC_PROTO_MAX_OBJECTS,
    .malformed = LC_ERR_PROTO, .past_end = LC_ERR_SIZE, .what = "message"};

// ---------------------------------------------------------------- field readers

// A map being read: where names it in messages ("step", "step.actions").
typedef struct rd {
    const msgpack_object_map *map;
    const char *where;
    lc_error *err;
} rd;

static const char *mp_type(const msgpack_object *o) { return lc_mp_type_name(o->type); }

// A map whose keys are all strings, none repeated.
static int check_map(const msgpack_object *o, const char *where, size_t max_keys, lc_error *err) {
    if (o->type != MSGPACK_OBJECT_MAP)
        return lc_fail(err, LC_ERR_TYPE, "%s: expected a map, got %s", where, mp_type(o));
    const msgpack_object_map *m = &o->via.map;
    if (m->size > max_keys)
        return lc_fail(err, LC_ERR_SIZE, "%s: a map of %u keys (at most %zu)", where, m->size,
                       max_keys);
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        if (k->type != MSGPACK_OBJECT_STR)
            return lc_fail(err, LC_ERR_TYPE, "%s: a map key is %s, not a string", where, mp_type(k));
        for (uint32_t j = 0; j < i; j++) {
            const msgpack_object *q = &m->ptr[j].key;
            if (q->via.str.size == k->via.str.size &&
                memcmp(q->via.str.ptr, k->via.str.ptr, k->via.str.size) == 0)
                return lc_fail(err, LC_ERR_PROTO, "%s: key '%.*s' appears twice", where,
                               (int)(k->via.str.size > 64 ? 64 : k->via.str.size), k->via.str.ptr);
        }
    }
    return LC_OK;
}

// The value of key, or NULL when absent. For optional fields nil counts as absent.
static const msgpack_object *find(const rd *r, const char *key) {
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < r->map->size; i++) {
        const msgpack_object *k = &r->map->ptr[i].key;
        if (k->via.str.size == kl && memcmp(k->via.str.ptr, key, kl) == 0)
            return &r->map->ptr[i].val;
    }
    return NULL;
}

// Looks a field up: LC_OK with *o set (or NULL when optional and absent/nil).
static int field(const rd *r, const char *key, int required, const msgpack_object **o) {
    *o = find(r, key);
    if (*o && (*o)->type == MSGPACK_OBJECT_NIL && !required) *o = NULL;
    if (!*o && required) return lc_fail(r->err, LC_ERR_PROTO, "%s: missing field '%s'", r->where, key);
    return LC_OK;
}

static int get_i64(const rd *r, const char *key, int required, int64_t lo, int64_t hi,
                   int64_t *out) {
    const msgpack_object *o;
    int rc = field(r, key, required, &o);
    if (rc || !o) return rc;
    int64_t v;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (o->via.u64 > (uint64_t)INT64_MAX)
            return lc_fail(r->err, LC_ERR_ARG, "%s: field '%s' = %llu is out of range [%lld, %lld]",
                           r->where, key, (unsigned long long)o->via.u64, (long long)lo,
                           (long long)hi);
        v = (int64_t)o->via.u64;
    } else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        v = o->via.i64;
    } else {
        return lc_fail(r->err, LC_ERR_TYPE, "%s: field '%s' must be an integer, got %s", r->where,
                       key, mp_type(o));
    }
    if (v < lo || v > hi)
        return lc_fail(r->err, LC_ERR_ARG, "%s: field '%s' = %lld is out of range [%lld, %lld]",
                       r->where, key, (long long)v, (long long)lo, (long long)hi);
    *out = v;
    return LC_OK;
}

static int get_int(const rd *r, const char *key, int required, int lo, int hi, int *out) {
    int64_t v = *out;
    int rc = get_i64(r, key, required, lo, hi, &v);
    if (rc == LC_OK) *out = (int)v;
    return rc;
}

static int get_u64(const rd *r, const char *key, int required, uint64_t *out, int *present) {
    const msgpack_object *o;
    int rc = field(r, key, required, &o);
    if (rc) return rc;
    if (present) *present = o != NULL;
    if (!o) return LC_OK;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return lc_fail(r->err, LC_ERR_ARG, "%s: field '%s' must not be negative", r->where, key);
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return lc_fail(r->err, LC_ERR_TYPE, "%s: field '%s' must be an integer, got %s", r->where,
                       key, mp_type(o));
    *out = o->via.u64;
    return LC_OK;
}

static int num_of(const msgpack_object *o, double *v) {
    switch (o->type) {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *v = o->via.f64; return 1;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: *v = (double)o->via.u64; return 1;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *v = (double)o->via.i64; return 1;
    default: return 0;
    }
}

// A finite number in [lo, hi] (floats or integers).
static int get_f64(const rd *r, const char *key, int required, double lo, double hi, double *out) {
    const msgpack_object *o;
    int rc = field(r, key, required, &o);
    if (rc || !o) return rc;
    double v;
    if (!num_of(o, &v))
        return lc_fail(r->err, LC_ERR_TYPE, "%s: field '%s' must be a number, got %s", r->where,
                       key, mp_type(o));
    if (!isfinite(v) || v < lo || v > hi)
        return lc_fail(r->err, LC_ERR_ARG, "%s: field '%s' = %g is out of range [%g, %g]", r->where,
                       key, v, lo, hi);
    *out = v;
    return LC_OK;
}

// A string of at most cap - 1 bytes without NUL, copied into out.
static int get_str(const rd *r, const char *key, int required, char *out, size_t cap) {
    const msgpack_object *o;
    int rc = field(r, key, required, &o);
    if (rc || !o) return rc;
    if (o->type != MSGPACK_OBJECT_STR)
        return lc_fail(r->err, LC_ERR_TYPE, "%s: field '%s' must be a string, got %s", r->where,
                       key, mp_type(o));
    size_t n = o->via.str.size;
    if (n >= cap)
        return lc_fail(r->err, LC_ERR_SIZE, "%s: field '%s' is %zu bytes long (at most %zu)",
                       r->where, key, n, cap - 1);
    if (n && memchr(o->via.str.ptr, 0, n))
        return lc_fail(r->err, LC_ERR_ARG, "%s: field '%s' contains a NUL byte", r->where, key);
    memcpy(out, o->via.str.ptr, n);
    out[n] = '\0';
    return LC_OK;
}

static int get_bin(const rd *r, const char *key, int required, lc_wire_bytes *out) {
    const msgpack_object *o;
    int rc = field(r, key, required, &o);
    if (rc || !o) return rc;
    if (o->type != MSGPACK_OBJECT_BIN)
        return lc_fail(r->err, LC_ERR_TYPE, "%s: field '%s' must be binary data, got %s", r->where,
                       key, mp_type(o));
    if (required && o->via.bin.size == 0)
        return lc_fail(r->err, LC_ERR_SIZE, "%s: field '%s' is empty", r->where, key);
    out->present = 1;
    out->size = o->via.bin.size;
    out->data = o->via.bin.ptr;
    return LC_OK;
}

static int dtype_parse(const msgpack_object *o, lc_dtype *d) {
    if (o->type != MSGPACK_OBJECT_STR) return 0;
    for (int i = 0; i < LC_DTYPE_COUNT; i++) {
        const char *n = lc_dtype_name((lc_dtype)i);
        if (strlen(n) == o->via.str.size && memcmp(n, o->via.str.ptr, o->via.str.size) == 0) {
            *d = (lc_dtype)i;
            return 1;
        }
    }
    return 0;
}

#define DT(d) (1u << (d))

// A tensor map {dtype, shape, data}: dtype in the mask, ndim in [nmin, nmax], the
// bin's size equal to product(shape) * dtype size.
static int get_tensor(const rd *r, const char *key, int required, unsigned dtypes, int nmin,
                      int nmax, lc_wire_tensor *t) {
    const msgpack_object *o;
    int rc = field(r, key, required, &o);
    if (rc || !o) return rc;
    char where[96];
    snprintf(where, sizeof where, "%s.%s", r->where, key);
    if ((rc = check_map(o, where, 16, r->err))) return rc;
    rd tr = {&o->via.map, where, r->err};
    const msgpack_object *od, *os, *ob;
    if ((rc = field(&tr, "dtype", 1, &od)) || (rc = field(&tr, "shape", 1, &os)) ||
        (rc = field(&tr, "data", 1, &ob)))
        return rc;
    lc_dtype dt;
    if (!dtype_parse(od, &dt))
        return lc_fail(r->err, LC_ERR_TYPE, "%s: dtype must be one of \"f32\", \"f64\", \"u8\", "
                                            "\"i32\", \"i64\"", where);
    if (!(dtypes & DT(dt)))
        return lc_fail(r->err, LC_ERR_TYPE, "%s: dtype %s is not allowed here", where,
                       lc_dtype_name(dt));
    if (os->type != MSGPACK_OBJECT_ARRAY)
        return lc_fail(r->err, LC_ERR_TYPE, "%s: shape must be an array, got %s", where, mp_type(os));
    uint32_t nd = os->via.array.size;
    if (nd < (uint32_t)nmin || nd > (uint32_t)nmax)
        return lc_fail(r->err, LC_ERR_SHAPE, "%s: %u dimensions (expected %d to %d)", where, nd,
                       nmin, nmax);
    if (ob->type != MSGPACK_OBJECT_BIN)
        return lc_fail(r->err, LC_ERR_TYPE, "%s: data must be binary data, got %s", where,
                       mp_type(ob));
    memset(t, 0, sizeof *t);
    t->dtype = dt;
    t->ndim = (int)nd;
    // count <= LC_PROTO_MAX_FRAME keeps every product below 2^26 * 2^31 < 2^63.
    uint64_t count = 1;
    for (uint32_t i = 0; i < nd; i++) {
        const msgpack_object *d = &os->via.array.ptr[i];
        if (d->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
            if (d->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
                return lc_fail(r->err, LC_ERR_SHAPE, "%s: dimension %u is negative", where, i);
            return lc_fail(r->err, LC_ERR_TYPE, "%s: dimension %u must be an integer, got %s",
                           where, i, mp_type(d));
        }
        if (d->via.u64 >= (uint64_t)LC_PROTO_MAX_DIM)
            return lc_fail(r->err, LC_ERR_SIZE, "%s: dimension %u = %llu is too large", where, i,
                           (unsigned long long)d->via.u64);
        t->shape[i] = (int64_t)d->via.u64;
        count *= d->via.u64;
        if (count > LC_PROTO_MAX_FRAME)
            return lc_fail(r->err, LC_ERR_SIZE, "%s: shape holds more elements than a frame can",
                           where);
    }
    uint64_t want = count * lc_dtype_size(dt);
    if (want != ob->via.bin.size)
        return lc_fail(r->err, LC_ERR_SHAPE, "%s: shape and dtype need %llu bytes, data has %u",
                       where, (unsigned long long)want, ob->via.bin.size);
    t->nbytes = (size_t)want;
    t->data = ob->via.bin.ptr;
    t->present = 1;
    return LC_OK;
}

// Shape of t equals (d0, d1, ...) for the first n dims (negative entries match anything).
static int want_shape(const rd *r, const char *key, const lc_wire_tensor *t, int n,
                      const int64_t *dims) {
    int bad = t->ndim < n;
    for (int i = 0; !bad && i < n; i++) bad = dims[i] >= 0 && t->shape[i] != dims[i];
    if (!bad) return LC_OK;
    char want[96] = "", got[96] = "";
    size_t w = 0, g = 0;
    for (int i = 0; i < n; i++)
        w += (size_t)snprintf(want + w, sizeof want - w, dims[i] < 0 ? "%s?" : "%s%lld",
                              i ? ", " : "", (long long)dims[i]);
    for (int i = 0; i < t->ndim; i++)
        g += (size_t)snprintf(got + g, sizeof got - g, "%s%lld", i ? ", " : "",
                              (long long)t->shape[i]);
    return lc_fail(r->err, LC_ERR_SHAPE, "%s: field '%s' has shape (%s), expected (%s%s)", r->where,
                   key, got, want, t->ndim > n ? ", ..." : "");
}

// ---------------------------------------------------------------- spaces

static const char *space_kind_name(lc_space_kind k) {
    return k == LC_SPACE_DISCRETE ? "discrete" : k == LC_SPACE_BOX ? "box" : "multi_discrete";
}

static int get_floats(const rd *r, const char *key, float *out, uint32_t *n, uint32_t max) {
    const msgpack_object *o;
    int rc = field(r, key, 1, &o);
    if (rc) return rc;
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return lc_fail(r->err, LC_ERR_TYPE, "%s: field '%s' must be an array, got %s", r->where,
                       key, mp_type(o));
    if (o->via.array.size < 1 || o->via.array.size > max)
        return lc_fail(r->err, LC_ERR_SIZE, "%s: field '%s' holds %u numbers (1 to %u)", r->where,
                       key, o->via.array.size, max);
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        double v;
        if (!num_of(&o->via.array.ptr[i], &v))
            return lc_fail(r->err, LC_ERR_TYPE, "%s: field '%s' holds %s", r->where, key,
                           mp_type(&o->via.array.ptr[i]));
        if (isnan(v))
            return lc_fail(r->err, LC_ERR_NAN, "%s: field '%s' holds NaN", r->where, key);
        out[i] = (float)v;
    }
    *n = o->via.array.size;
    return LC_OK;
}

static int get_space(const rd *r, const char *key, lc_space *s) {
    const msgpack_object *o;
    int rc = field(r, key, 1, &o);
    if (rc) return rc;
    char where[96];
    snprintf(where, sizeof where, "%s.%s", r->where, key);
    if ((rc = check_map(o, where, 16, r->err))) return rc;
    rd sr = {&o->via.map, where, r->err};
    char kind[32];
    if ((rc = get_str(&sr, "kind", 1, kind, sizeof kind))) return rc;
    memset(s, 0, sizeof *s);
    const msgpack_object *od, *os;
    if ((rc = field(&sr, "dtype", 1, &od)) || (rc = field(&sr, "shape", 1, &os))) return rc;
    if (!dtype_parse(od, &s->dtype))
        return lc_fail(r->err, LC_ERR_TYPE, "%s: bad dtype", where);
    if (os->type != MSGPACK_OBJECT_ARRAY || os->via.array.size > 3)
        return lc_fail(r->err, LC_ERR_TYPE, "%s: shape must be an array of at most 3 integers",
                       where);
    s->ndim = (int)os->via.array.size;
    int64_t size = 1;
    for (int i = 0; i < s->ndim; i++) {
        const msgpack_object *d = &os->via.array.ptr[i];
        if (d->type != MSGPACK_OBJECT_POSITIVE_INTEGER || d->via.u64 < 1 || d->via.u64 > (1u << 24))
            return lc_fail(r->err, LC_ERR_SHAPE, "%s: dimension %d must be an integer in [1, 2^24]",
                           where, i);
        s->shape[i] = (int)d->via.u64;
        size *= s->shape[i];
        if (size > (1 << 28)) return lc_fail(r->err, LC_ERR_SIZE, "%s: space too large", where);
    }
    if (strcmp(kind, "discrete") == 0) {
        s->kind = LC_SPACE_DISCRETE;
        if (s->dtype != LC_I32 || s->ndim != 0)
            return lc_fail(r->err, LC_ERR_SHAPE, "%s: a discrete space is i32 with shape []", where);
        return get_int(&sr, "n", 1, 1, INT_MAX, &s->n);
    }
    if (strcmp(kind, "multi_discrete") == 0) {
        s->kind = LC_SPACE_MULTI_DISCRETE;
        if (s->dtype != LC_I32 || s->ndim != 1 || s->shape[0] > LC_MAX_NVEC)
            return lc_fail(r->err, LC_ERR_SHAPE,
                           "%s: a multi_discrete space is i32 with shape [k], k <= %d", where,
                           LC_MAX_NVEC);
        if ((rc = field(&sr, "nvec", 1, &o))) return rc;
        if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != (uint32_t)s->shape[0])
            return lc_fail(r->err, LC_ERR_SHAPE, "%s: nvec must be an array of %d integers", where,
                           s->shape[0]);
        for (int i = 0; i < s->shape[0]; i++) {
            const msgpack_object *v = &o->via.array.ptr[i];
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 < 1 || v->via.u64 > INT_MAX)
                return lc_fail(r->err, LC_ERR_ARG, "%s: nvec[%d] must be a positive integer", where,
                               i);
            s->nvec[i] = (int)v->via.u64;
        }
        return LC_OK;
    }
    if (strcmp(kind, "box") == 0) {
        s->kind = LC_SPACE_BOX;
        if ((s->dtype != LC_F32 && s->dtype != LC_U8) || s->ndim < 1)
            return lc_fail(r->err, LC_ERR_SHAPE, "%s: a box is f32 or u8 with 1 to 3 dimensions",
                           where);
        uint32_t nl, nh;
        if ((rc = get_floats(&sr, "low", s->low, &nl, LC_SPACE_MAX_BOUNDS)) ||
            (rc = get_floats(&sr, "high", s->high, &nh, LC_SPACE_MAX_BOUNDS)))
            return rc;
        if (nl != nh || (nl != 1 && (int64_t)nl != size))
            return lc_fail(r->err, LC_ERR_SHAPE,
                           "%s: low and high hold 1 bound or one per element (%lld)", where,
                           (long long)size);
        s->per_dim = nl != 1 || size == 1;
        for (uint32_t i = 0; i < nl; i++)
            if (!(s->low[i] <= s->high[i]))
                return lc_fail(r->err, LC_ERR_ARG, "%s: low[%u] > high[%u]", where, i, i);
        return LC_OK;
    }
    return lc_fail(r->err, LC_ERR_ARG, "%s: unknown space kind '%s'", where, kind);
}

// ---------------------------------------------------------------- per-type decoding

#define TRY(x) do { if ((rc = (x))) return rc; } while (0)
#define F32 DT(LC_F32)
#define U8 DT(LC_U8)
#define I32 DT(LC_I32)

static int dec_body(lc_msg *m, const rd *r) {
    int rc;
    switch (m->type) {
    case LC_MSG_ERROR:
        TRY(get_int(r, "code", 1, 0, INT_MAX, &m->error.code));
        return get_str(r, "msg", 1, m->error.msg, sizeof m->error.msg);
    case LC_MSG_MAKE:
        TRY(get_str(r, "env", 0, m->make.env, sizeof m->make.env));
        TRY(get_str(r, "params", 0, m->make.params, sizeof m->make.params));
        TRY(get_int(r, "num_envs", 0, 1, LC_PROTO_MAX_ENVS, &m->make.num_envs));
        return get_int(r, "max_episode_steps", 0, -1, 1000000000, &m->make.max_episode_steps);
    case LC_MSG_RESET:
        return get_u64(r, "seed", 0, &m->reset.seed, &m->reset.has_seed);
    case LC_MSG_STEP: {
        lc_wire_tensor *a = &m->step.actions;
        TRY(get_tensor(r, "actions", 1, I32 | F32, 1, 2, a));
        if (a->shape[0] < 1 || a->shape[0] > LC_PROTO_MAX_ENVS || (a->ndim == 2 && a->shape[1] < 1))
            return lc_fail(r->err, LC_ERR_SHAPE, "step: actions must be (N) or (N, A), 1 <= N <= %d",
                           LC_PROTO_MAX_ENVS);
        return LC_OK;
    }
    case LC_MSG_RENDER:
        return get_int(r, "index", 0, 0, LC_PROTO_MAX_ENVS - 1, &m->render.index);
    case LC_MSG_SPACES:
    case LC_MSG_CLOSE:
    case LC_MSG_CLOSED:
    case LC_MSG_HEARTBEAT:
        return LC_OK;
    case LC_MSG_ENV:
        TRY(get_str(r, "name", 1, m->env.name, sizeof m->env.name));
        TRY(get_int(r, "num_envs", 1, 1, LC_PROTO_MAX_ENVS, &m->env.num_envs));
        TRY(get_space(r, "obs_space", &m->env.obs_space));
        TRY(get_space(r, "act_space", &m->env.act_space));
        TRY(get_int(r, "max_episode_steps", 0, 0, INT_MAX, &m->env.max_episode_steps));
        TRY(get_int(r, "render_w", 0, 0, 65536, &m->env.render_w));
        return get_int(r, "render_h", 0, 0, 65536, &m->env.render_h);
    case LC_MSG_OBS: {
        TRY(get_tensor(r, "obs", 1, F32 | U8, 1, LC_MAX_DIMS, &m->obs.obs));
        if (m->obs.obs.shape[0] < 1)
            return lc_fail(r->err, LC_ERR_SHAPE, "obs: obs must hold at least one row");
        return LC_OK;
    }
    case LC_MSG_TRANSITION: {
        struct lc_msg_transition *x = &m->transition;
        TRY(get_tensor(r, "obs", 1, F32 | U8, 1, LC_MAX_DIMS, &x->obs));
        int64_t n = x->obs.shape[0];
        if (n < 1 || n > LC_PROTO_MAX_ENVS)
            return lc_fail(r->err, LC_ERR_SHAPE, "transition: obs must hold 1 to %d rows",
                           LC_PROTO_MAX_ENVS);
        TRY(get_tensor(r, "rewards", 1, F32, 1, 1, &x->rewards));
        TRY(get_tensor(r, "terminated", 1, U8, 1, 1, &x->terminated));
        TRY(get_tensor(r, "truncated", 1, U8, 1, 1, &x->truncated));
        TRY(get_tensor(r, "final_obs", 0, F32 | U8, 1, LC_MAX_DIMS, &x->final_obs));
        TRY(get_tensor(r, "ep_return", 0, F32, 1, 1, &x->ep_return));
        TRY(get_tensor(r, "ep_length", 0, I32, 1, 1, &x->ep_length));
        TRY(want_shape(r, "rewards", &x->rewards, 1, &n));
        TRY(want_shape(r, "terminated", &x->terminated, 1, &n));
        TRY(want_shape(r, "truncated", &x->truncated, 1, &n));
        if (x->final_obs.present) {
            if (x->final_obs.dtype != x->obs.dtype || x->final_obs.ndim != x->obs.ndim)
                return lc_fail(r->err, LC_ERR_SHAPE, "transition: final_obs differs from obs");
            TRY(want_shape(r, "final_obs", &x->final_obs, x->obs.ndim, x->obs.shape));
        }
        if (x->ep_return.present) TRY(want_shape(r, "ep_return", &x->ep_return, 1, &n));
        if (x->ep_length.present) TRY(want_shape(r, "ep_length", &x->ep_length, 1, &n));
        return LC_OK;
    }
    case LC_MSG_FRAME: {
        TRY(get_int(r, "index", 0, 0, LC_PROTO_MAX_ENVS - 1, &m->frame.index));
        TRY(get_tensor(r, "rgb", 1, U8, 3, 3, &m->frame.rgb));
        const int64_t d[3] = {-1, -1, 3};
        return want_shape(r, "rgb", &m->frame.rgb, 3, d);
    }
    case LC_MSG_HELLO:
        TRY(get_int(r, "num_envs", 0, 0, LC_PROTO_MAX_ENVS, &m->hello.num_envs));
        return get_str(r, "name", 0, m->hello.name, sizeof m->hello.name);
    case LC_MSG_SETUP: {
        struct lc_msg_setup *s = &m->setup;
        double g = s->gamma, c = s->clip_reward;
        TRY(get_int(r, "worker_id", 1, 0, INT_MAX, &s->worker_id));
        TRY(get_str(r, "env", 1, s->env, sizeof s->env));
        if (!s->env[0]) return lc_fail(r->err, LC_ERR_ARG, "setup: field 'env' is empty");
        TRY(get_str(r, "params", 0, s->params, sizeof s->params));
        TRY(get_int(r, "max_episode_steps", 0, -1, 1000000000, &s->max_episode_steps));
        TRY(get_int(r, "num_envs", 1, 1, LC_PROTO_MAX_ENVS, &s->num_envs));
        TRY(get_int(r, "num_steps", 1, 1, LC_PROTO_MAX_STEPS, &s->num_steps));
        TRY(get_u64(r, "seed", 1, &s->seed, NULL));
        TRY(get_int(r, "segments_per_version", 1, 1, 1000000, &s->segments_per_version));
        TRY(get_int(r, "heartbeat_ms", 1, 1, 600000, &s->heartbeat_ms));
        TRY(get_int(r, "timeout_ms", 1, 1, 3600000, &s->timeout_ms));
        TRY(get_int(r, "normalize_reward", 0, 0, 1, &s->normalize_reward));
        TRY(get_f64(r, "gamma", 0, 0.0, 1.0, &g));
        TRY(get_f64(r, "clip_reward", 0, 1e-6, 1e6, &c));
        s->gamma = (float)g, s->clip_reward = (float)c;
        TRY(get_bin(r, "policy", 1, &s->policy));
        return get_bin(r, "model", 0, &s->model);
    }
    case LC_MSG_WEIGHTS:
        TRY(get_i64(r, "version", 1, 0, INT64_MAX, &m->weights.version));
        return get_tensor(r, "params", 1, F32, 1, 1, &m->weights.params);
    case LC_MSG_ROLLOUT: {
        struct lc_msg_rollout *x = &m->rollout;
        TRY(get_i64(r, "version", 1, 0, INT64_MAX, &x->version));
        TRY(get_int(r, "worker_id", 1, 0, INT_MAX, &x->worker_id));
        TRY(get_tensor(r, "logp", 1, F32, 2, 2, &x->logp));
        int64_t T = x->logp.shape[0], N = x->logp.shape[1];
        if (T < 1 || T > LC_PROTO_MAX_STEPS || N < 1 || N > LC_PROTO_MAX_ENVS)
            return lc_fail(r->err, LC_ERR_SHAPE,
                           "rollout: logp is (%lld, %lld); T must be in [1, %d], N in [1, %d]",
                           (long long)T, (long long)N, LC_PROTO_MAX_STEPS, LC_PROTO_MAX_ENVS);
        x->T = (int)T, x->N = (int)N;
        const int64_t tn[3] = {T, N, -1};
        TRY(get_tensor(r, "obs", 1, F32 | U8, 3, 3, &x->obs));
        TRY(want_shape(r, "obs", &x->obs, 2, tn));
        TRY(get_tensor(r, "actions", 1, I32 | F32, 3, 3, &x->actions));
        TRY(want_shape(r, "actions", &x->actions, 2, tn));
        if (x->obs.shape[2] < 1 || x->actions.shape[2] < 1)
            return lc_fail(r->err, LC_ERR_SHAPE, "rollout: obs and actions rows must not be empty");
        static const char *const f2[] = {"values", "rewards", "final_values"};
        lc_wire_tensor *t2[] = {&x->values, &x->rewards, &x->final_values};
        for (int i = 0; i < 3; i++) {
            TRY(get_tensor(r, f2[i], 1, F32, 2, 2, t2[i]));
            TRY(want_shape(r, f2[i], t2[i], 2, tn));
        }
        static const char *const u2[] = {"terminated", "truncated", "starts"};
        lc_wire_tensor *b2[] = {&x->terminated, &x->truncated, &x->starts};
        for (int i = 0; i < 3; i++) {
            TRY(get_tensor(r, u2[i], 1, U8, 2, 2, b2[i]));
            TRY(want_shape(r, u2[i], b2[i], 2, tn));
        }
        TRY(get_tensor(r, "next_value", 1, F32, 1, 1, &x->next_value));
        TRY(want_shape(r, "next_value", &x->next_value, 1, &N));
        TRY(get_tensor(r, "next_start", 1, U8, 1, 1, &x->next_start));
        TRY(want_shape(r, "next_start", &x->next_start, 1, &N));
        TRY(get_tensor(r, "state0", 0, F32, 2, 2, &x->state0));
        if (x->state0.present) {
            TRY(want_shape(r, "state0", &x->state0, 1, &N));
            if (x->state0.shape[1] < 1)
                return lc_fail(r->err, LC_ERR_SHAPE, "rollout: state0 rows must not be empty");
        }
        TRY(get_i64(r, "episodes", 1, 0, T * N, &x->episodes));
        TRY(get_f64(r, "return_sum", 1, -1e300, 1e300, &x->return_sum));
        return get_f64(r, "length_sum", 1, 0.0, 1e300, &x->length_sum);
    }
    case LC_MSG_BYE:
        return get_str(r, "reason", 0, m->bye.reason, sizeof m->bye.reason);
    case LC_MSG_COUNT: break;
    }
    return lc_fail(r->err, LC_ERR_PROTO, "unknown message type");
}

static int decode(lc_msg *m, const void *buf, size_t len, size_t max_frame, lc_error *err) {
    if (!max_frame) max_frame = LC_PROTO_MAX_FRAME;
    if (len > max_frame)
        return lc_fail(err, LC_ERR_SIZE, "a message of %zu bytes (the cap is %zu)", len, max_frame);
    if (len == 0) return lc_fail(err, LC_ERR_PROTO, "an empty message");
    int rc = lc_mp_scan(buf, len, &msg_limits, NULL, err);
    if (rc) return rc;
    msgpack_zone zone;
    if (!msgpack_zone_init(&zone, 4096)) return lc_fail(err, LC_ERR_NOMEM, "msgpack: out of memory");
    msgpack_object root;
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack(buf, len, &off, &zone, &root);
    if (ur == MSGPACK_UNPACK_NOMEM_ERROR) rc = lc_fail(err, LC_ERR_NOMEM, "msgpack: out of memory");
    else if (ur != MSGPACK_UNPACK_SUCCESS || off != len)
        rc = lc_fail(err, LC_ERR_PROTO, "not one msgpack value");
    if (!rc) rc = check_map(&root, "message", LC_PROTO_MAX_KEYS, err);
    if (!rc) {
        rd r = {&root.via.map, "message", err};
        int64_t v = 0;
        char t[32];
        rc = get_i64(&r, "v", 1, INT64_MIN, INT64_MAX, &v);
        if (rc == LC_ERR_ARG) // an unsigned version above INT64_MAX
            rc = lc_fail(err, LC_ERR_VERSION, "protocol version out of range (this side speaks %d)",
                         LC_PROTO_VERSION);
        if (!rc && v != LC_PROTO_VERSION)
            rc = lc_fail(err, LC_ERR_VERSION, "protocol version %lld (this side speaks %d)",
                         (long long)v, LC_PROTO_VERSION);
        if (!rc) rc = get_str(&r, "t", 1, t, sizeof t);
        if (rc == LC_ERR_SIZE) rc = lc_fail(err, LC_ERR_PROTO, "unknown message type (too long)");
        if (!rc) {
            int k = 0;
            while (k < LC_MSG_COUNT && strcmp(type_names[k], t) != 0) k++;
            if (k == LC_MSG_COUNT) rc = lc_fail(err, LC_ERR_PROTO, "unknown message type '%s'", t);
            else {
                *m = lc_msg_init((lc_msg_type)k);
                r.where = type_names[k];
                rc = dec_body(m, &r);
            }
        }
    }
    msgpack_zone_destroy(&zone);
    return rc;
}

int lc_proto_decode(lc_msg *m, const void *buf, size_t len, size_t max_frame,
                    lc_proto_counts *counts, lc_error *err) {
    memset(m, 0, sizeof *m);
    int rc = decode(m, buf, len, max_frame, err);
    if (rc) {
        memset(m, 0, sizeof *m);
        if (counts) {
            counts->rejected++;
            if (rc > 0 && rc < LC_ERR_COUNT) counts->by_code[rc]++;
        }
    } else if (counts) {
        counts->ok++;
    }
    return rc;
}

// ---------------------------------------------------------------- encoding

static void pk_cstr(msgpack_packer *pk, const char *s) {
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void pk_bytes(msgpack_packer *pk, const void *p, size_t n) {
    msgpack_pack_bin(pk, n);
    if (n) msgpack_pack_bin_body(pk, p, n);
}

static void pk_tensor(msgpack_packer *pk, const lc_wire_tensor *t) {
    msgpack_pack_map(pk, 3);
    pk_cstr(pk, "dtype");
    pk_cstr(pk, lc_dtype_name(t->dtype));
    pk_cstr(pk, "shape");
    msgpack_pack_array(pk, (size_t)t->ndim);
    for (int i = 0; i < t->ndim; i++) msgpack_pack_int64(pk, t->shape[i]);
    pk_cstr(pk, "data");
    pk_bytes(pk, t->data, t->nbytes);
}

static void pk_space(msgpack_packer *pk, const lc_space *s) {
    int extra = s->kind == LC_SPACE_BOX ? 2 : 1;
    msgpack_pack_map(pk, 3 + extra);
    pk_cstr(pk, "kind");
    pk_cstr(pk, space_kind_name(s->kind));
    pk_cstr(pk, "dtype");
    pk_cstr(pk, lc_dtype_name(s->dtype));
    pk_cstr(pk, "shape");
    msgpack_pack_array(pk, (size_t)s->ndim);
    for (int i = 0; i < s->ndim; i++) msgpack_pack_int(pk, s->shape[i]);
    if (s->kind == LC_SPACE_DISCRETE) {
        pk_cstr(pk, "n");
        msgpack_pack_int(pk, s->n);
    } else if (s->kind == LC_SPACE_MULTI_DISCRETE) {
        pk_cstr(pk, "nvec");
        int k = s->ndim == 1 && s->shape[0] <= LC_MAX_NVEC ? s->shape[0] : 0;
        msgpack_pack_array(pk, (size_t)k);
        for (int i = 0; i < k; i++) msgpack_pack_int(pk, s->nvec[i]);
    } else {
        size_t size = 1;
        for (int i = 0; i < s->ndim; i++) size *= (size_t)s->shape[i];
        size_t nb = s->per_dim && size <= LC_SPACE_MAX_BOUNDS ? size : 1;
        pk_cstr(pk, "low");
        msgpack_pack_array(pk, nb);
        for (size_t i = 0; i < nb; i++) msgpack_pack_double(pk, s->low[i]);
        pk_cstr(pk, "high");
        msgpack_pack_array(pk, nb);
        for (size_t i = 0; i < nb; i++) msgpack_pack_double(pk, s->high[i]);
    }
}

// Key/value writers used by the per-type encoders.
#define K(name) pk_cstr(pk, name)
#define KI(name, v) (K(name), msgpack_pack_int64(pk, (int64_t)(v)))
#define KS(name, v) (K(name), pk_cstr(pk, v))
#define KT(name, t) (K(name), pk_tensor(pk, &(t)))
#define KD(name, v) (K(name), msgpack_pack_double(pk, (double)(v)))

static int npresent(const lc_wire_tensor *const *t, int n) {
    int k = 0;
    for (int i = 0; i < n; i++) k += t[i]->present;
    return k;
}

static void enc_body(const lc_msg *m, msgpack_packer *pk) {
    const char *t = type_names[m->type];
    int n = 2; // t, v
    switch (m->type) {
    case LC_MSG_ERROR:
        msgpack_pack_map(pk, n + 3);
        KS("t", t), KI("v", LC_PROTO_VERSION);
        KI("code", m->error.code), KS("name", lc_status_str(m->error.code));
        KS("msg", m->error.msg);
        return;
    case LC_MSG_MAKE:
        msgpack_pack_map(pk, n + 3 + (m->make.num_envs > 0));
        KS("t", t), KI("v", LC_PROTO_VERSION);
        KS("env", m->make.env), KS("params", m->make.params);
        if (m->make.num_envs > 0) KI("num_envs", m->make.num_envs);
        KI("max_episode_steps", m->make.max_episode_steps);
        return;
    case LC_MSG_RESET:
        msgpack_pack_map(pk, n + m->reset.has_seed);
        KS("t", t), KI("v", LC_PROTO_VERSION);
        if (m->reset.has_seed) K("seed"), msgpack_pack_uint64(pk, m->reset.seed);
        return;
    case LC_MSG_STEP:
        msgpack_pack_map(pk, n + 1);
        KS("t", t), KI("v", LC_PROTO_VERSION);
        KT("actions", m->step.actions);
        return;
    case LC_MSG_RENDER:
        msgpack_pack_map(pk, n + 1);
        KS("t", t), KI("v", LC_PROTO_VERSION);
        KI("index", m->render.index);
        return;
    case LC_MSG_ENV:
        msgpack_pack_map(pk, n + 7);
        KS("t", t), KI("v", LC_PROTO_VERSION);
        KS("name", m->env.name), KI("num_envs", m->env.num_envs);
        K("obs_space"), pk_space(pk, &m->env.obs_space);
        K("act_space"), pk_space(pk, &m->env.act_space);
        KI("max_episode_steps", m->env.max_episode_steps);
        KI("render_w", m->env.render_w), KI("render_h", m->env.render_h);
        return;
    case LC_MSG_OBS:
        msgpack_pack_map(pk, n + 1);
        KS("t", t), KI("v", LC_PROTO_VERSION);
        KT("obs", m->obs.obs);
        return;
    case LC_MSG_TRANSITION: {
        const lc_wire_tensor *opt[] = {&m->transition.final_obs, &m->transition.ep_return,
                                       &m->transition.ep_length};
        msgpack_pack_map(pk, n + 4 + npresent(opt, 3));
        KS("t", t), KI("v", LC_PROTO_VERSION);
        KT("obs", m->transition.obs), KT("rewards", m->transition.rewards);
        KT("terminated", m->transition.terminated), KT("truncated", m->transition.truncated);
        if (opt[0]->present) KT("final_obs", *opt[0]);
        if (opt[1]->present) KT("ep_return", *opt[1]);
        if (opt[2]->present) KT("ep_length", *opt[2]);
        return;
    }
    case LC_MSG_FRAME:
        msgpack_pack_map(pk, n + 2);
        KS("t", t), KI("v", LC_PROTO_VERSION);
        KI("index", m->frame.index), KT("rgb", m->frame.rgb);
        return;
    case LC_MSG_HELLO:
        msgpack_pack_map(pk, n + 2);
        KS("t", t), KI("v", LC_PROTO_VERSION);
        KI("num_envs", m->hello.num_envs), KS("name", m->hello.name);
        return;
    case LC_MSG_SETUP: {
        const struct lc_msg_setup *s = &m->setup;
        msgpack_pack_map(pk, n + 14 + s->model.present);
        KS("t", t), KI("v", LC_PROTO_VERSION);
        KI("worker_id", s->worker_id), KS("env", s->env), KS("params", s->params);
        KI("max_episode_steps", s->max_episode_steps);
        KI("num_envs", s->num_envs), KI("num_steps", s->num_steps);
        K("seed"), msgpack_pack_uint64(pk, s->seed);
        KI("segments_per_version", s->segments_per_version);
        KI("heartbeat_ms", s->heartbeat_ms), KI("timeout_ms", s->timeout_ms);
        KI("normalize_reward", s->normalize_reward);
        KD("gamma", s->gamma), KD("clip_reward", s->clip_reward);
        K("policy"), pk_bytes(pk, s->policy.data, s->policy.size);
        if (s->model.present) K("model"), pk_bytes(pk, s->model.data, s->model.size);
        return;
    }
    case LC_MSG_WEIGHTS:
        msgpack_pack_map(pk, n + 2);
        KS("t", t), KI("v", LC_PROTO_VERSION);
        KI("version", m->weights.version), KT("params", m->weights.params);
        return;
    case LC_MSG_ROLLOUT: {
        const struct lc_msg_rollout *x = &m->rollout;
        msgpack_pack_map(pk, n + 16 + x->state0.present);
        KS("t", t), KI("v", LC_PROTO_VERSION);
        KI("version", x->version), KI("worker_id", x->worker_id);
        KT("obs", x->obs), KT("actions", x->actions), KT("logp", x->logp);
        KT("values", x->values), KT("rewards", x->rewards);
        KT("terminated", x->terminated), KT("truncated", x->truncated);
        KT("final_values", x->final_values), KT("starts", x->starts);
        KT("next_value", x->next_value), KT("next_start", x->next_start);
        if (x->state0.present) KT("state0", x->state0);
        KI("episodes", x->episodes), KD("return_sum", x->return_sum);
        KD("length_sum", x->length_sum);
        return;
    }
    case LC_MSG_BYE:
        msgpack_pack_map(pk, n + 1);
        KS("t", t), KI("v", LC_PROTO_VERSION);
        KS("reason", m->bye.reason);
        return;
    case LC_MSG_SPACES:
    case LC_MSG_CLOSE:
    case LC_MSG_CLOSED:
    case LC_MSG_HEARTBEAT:
    case LC_MSG_COUNT:
        msgpack_pack_map(pk, n);
        KS("t", t), KI("v", LC_PROTO_VERSION);
        return;
    }
}

// Bytes of tensors and blobs, to size the buffer once.
static size_t payload_bytes(const lc_msg *m) {
    switch (m->type) {
    case LC_MSG_STEP: return m->step.actions.nbytes;
    case LC_MSG_OBS: return m->obs.obs.nbytes;
    case LC_MSG_TRANSITION:
        return m->transition.obs.nbytes * 2 + m->transition.rewards.nbytes * 4;
    case LC_MSG_FRAME: return m->frame.rgb.nbytes;
    case LC_MSG_SETUP: return m->setup.policy.size + m->setup.model.size;
    case LC_MSG_WEIGHTS: return m->weights.params.nbytes;
    case LC_MSG_ROLLOUT:
        return m->rollout.obs.nbytes + m->rollout.actions.nbytes + m->rollout.logp.nbytes * 8 +
               m->rollout.state0.nbytes;
    default: return 0;
    }
}

// A growable output buffer that remembers a failed allocation.
typedef struct obuf {
    char *data;
    size_t size, cap;
    int failed;
} obuf;

static int obuf_write(void *ctx, const char *p, size_t n) {
    obuf *b = ctx;
    if (b->failed) return -1;
    if (n > b->cap - b->size) {
        size_t cap = b->cap * 2 > b->size + n ? b->cap * 2 : b->size + n;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->failed = 1;
            return -1;
        }
        b->data = d, b->cap = cap;
    }
    memcpy(b->data + b->size, p, n);
    b->size += n;
    return 0;
}

int lc_proto_encode(const lc_msg *m, void **buf, size_t *len, lc_error *err) {
    *buf = NULL;
    *len = 0;
    if ((unsigned)m->type >= LC_MSG_COUNT)
        return lc_fail(err, LC_ERR_ARG, "encode: unknown message type %d", (int)m->type);
    obuf b = {NULL, 0, payload_bytes(m) + 1024, 0};
    b.data = malloc(b.cap);
    if (!b.data) return lc_fail(err, LC_ERR_NOMEM, "encode: out of memory (%zu bytes)", b.cap);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &b, obuf_write);
    enc_body(m, &pk);
    if (b.failed) {
        free(b.data);
        return lc_fail(err, LC_ERR_NOMEM, "encode: out of memory");
    }
    *buf = b.data;
    *len = b.size;
    return LC_OK;
}

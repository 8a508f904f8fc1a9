// env/space.c: observation and action spaces: Box, Discrete, MultiDiscrete.
// Constructors, element bounds, a Gymnasium-style description, and saving a space
// into a container (meta keys + tensors). Leaves out: sampling (callers use lc_rng).
#include "env/env.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SPACE_MAX_DIM (1 << 24)      // a dimension larger than this is corrupt data
#define SPACE_MAX_ELEMS (1L << 28)   // so is a row of more elements than this

lc_space lc_space_discrete(int n) {
    assert(n >= 1);
    lc_space s;
    memset(&s, 0, sizeof s);
    s.kind = LC_SPACE_DISCRETE;
    s.dtype = LC_I32;
    s.ndim = 0;
    s.n = n;
    s.low[0] = 0.0f;
    s.high[0] = (float)(n - 1);
    return s;
}

static long shape_elems(int ndim, const int *shape) {
    long n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    return n;
}

lc_space lc_space_box_scalar(lc_dtype dtype, int ndim, const int *shape, float low, float high) {
    assert(dtype == LC_F32 || dtype == LC_U8);
    assert(ndim >= 1 && ndim <= 3);
    lc_space s;
    memset(&s, 0, sizeof s);
    s.kind = LC_SPACE_BOX;
    s.dtype = dtype;
    s.ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        assert(shape[d] >= 1);
        s.shape[d] = shape[d];
    }
    s.per_dim = 0;
    s.low[0] = low;
    s.high[0] = high;
    return s;
}

lc_space lc_space_box(lc_dtype dtype, int ndim, const int *shape, const float *low,
                      const float *high) {
    float lo0 = dtype == LC_U8 ? 0.0f : -INFINITY, hi0 = dtype == LC_U8 ? 255.0f : INFINITY;
    lc_space s = lc_space_box_scalar(dtype, ndim, shape, lo0, hi0);
    long n = shape_elems(ndim, shape);
    if (!low && !high) return s;
    if (n <= LC_SPACE_MAX_BOUNDS) {
        s.per_dim = 1;
        for (long i = 0; i < n; i++) {
            s.low[i] = low ? low[i] : lo0;
            s.high[i] = high ? high[i] : hi0;
        }
        return s;
    }
    // Too many elements to keep per-element bounds: keep the loosest scalar pair.
    float lo = INFINITY, hi = -INFINITY;
    for (long i = 0; i < n; i++) {
        float l = low ? low[i] : lo0, h = high ? high[i] : hi0;
        if (l < lo) lo = l;
        if (h > hi) hi = h;
    }
    s.low[0] = lo;
    s.high[0] = hi;
    return s;
}

lc_space lc_space_multi_discrete(int count, const int *nvec) {
    assert(count >= 1 && count <= LC_MAX_NVEC);
    lc_space s;
    memset(&s, 0, sizeof s);
    s.kind = LC_SPACE_MULTI_DISCRETE;
    s.dtype = LC_I32;
    s.ndim = 1;
    s.shape[0] = count;
    for (int i = 0; i < count; i++) {
        assert(nvec[i] >= 1);
        s.nvec[i] = nvec[i];
    }
    return s;
}

int lc_space_size(const lc_space *s) {
    switch (s->kind) {
    case LC_SPACE_DISCRETE: return 1;
    case LC_SPACE_MULTI_DISCRETE: return s->shape[0];
    case LC_SPACE_BOX: return (int)shape_elems(s->ndim, s->shape);
    }
    return 0;
}

float lc_space_low(const lc_space *s, int i) {
    switch (s->kind) {
    case LC_SPACE_DISCRETE:
    case LC_SPACE_MULTI_DISCRETE: return 0.0f;
    case LC_SPACE_BOX: return s->per_dim ? s->low[i] : s->low[0];
    }
    return 0.0f;
}

float lc_space_high(const lc_space *s, int i) {
    switch (s->kind) {
    case LC_SPACE_DISCRETE: return (float)(s->n - 1);
    case LC_SPACE_MULTI_DISCRETE: return (float)(s->nvec[i] - 1);
    case LC_SPACE_BOX: return s->per_dim ? s->high[i] : s->high[0];
    }
    return 0.0f;
}

// ---------------------------------------------------------------- describe

typedef struct sbuf {
    char *p;
    size_t n, len;
} sbuf;

__attribute__((format(printf, 2, 3))) static void put(sbuf *b, const char *fmt, ...) {
    if (b->len >= b->n) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->len, b->n - b->len, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    b->len += (size_t)k;
    if (b->len >= b->n) b->len = b->n - 1;
}

static void put_num(sbuf *b, float v) {
    if (isinf(v)) put(b, "%sinf", v < 0 ? "-" : "");
    else put(b, "%g", (double)v);
}

static void put_bounds(sbuf *b, const lc_space *s, int high) {
    const float *v = high ? s->high : s->low;
    int n = lc_space_size(s), same = 1;
    if (s->per_dim)
        for (int i = 1; i < n; i++)
            if (memcmp(&v[i], &v[0], sizeof(float)) != 0) same = 0;
    if (!s->per_dim || same) {
        put_num(b, v[0]);
        return;
    }
    put(b, "[");
    for (int i = 0; i < n; i++) {
        if (i) put(b, " ");
        put_num(b, v[i]);
    }
    put(b, "]");
}

void lc_space_describe(const lc_space *s, char *buf, size_t n) {
    if (!buf || n == 0) return;
    sbuf b = {buf, n, 0};
    buf[0] = '\0';
    switch (s->kind) {
    case LC_SPACE_DISCRETE: put(&b, "Discrete(%d)", s->n); break;
    case LC_SPACE_MULTI_DISCRETE:
        put(&b, "MultiDiscrete([");
        for (int i = 0; i < s->shape[0]; i++) put(&b, i ? " %d" : "%d", s->nvec[i]);
        put(&b, "])");
        break;
    case LC_SPACE_BOX:
        put(&b, "Box(");
        put_bounds(&b, s, 0);
        put(&b, ", ");
        put_bounds(&b, s, 1);
        put(&b, ", (");
        for (int d = 0; d < s->ndim; d++) put(&b, d ? ", %d" : "%d", s->shape[d]);
        put(&b, "%s), %s)", s->ndim == 1 ? "," : "", s->dtype == LC_U8 ? "uint8" : "float32");
        break;
    }
}

// ---------------------------------------------------------------- save / load
// Keys under PREFIX: PREFIX.kind ("discrete", "box", "multi_discrete"), PREFIX.dtype
// ("f32", "u8", "i32"), PREFIX.ndim, PREFIX.dim0..dim2, PREFIX.n (discrete);
// tensors PREFIX.bounds f32 (2, B) (box: row 0 low, row 1 high; B = elements when
// per_dim, else 1) and PREFIX.nvec i32 (count) (multi-discrete).

static const char *kind_name(lc_space_kind k) {
    switch (k) {
    case LC_SPACE_DISCRETE: return "discrete";
    case LC_SPACE_BOX: return "box";
    case LC_SPACE_MULTI_DISCRETE: return "multi_discrete";
    }
    return "?";
}

static int key(char *out, size_t n, const char *prefix, const char *name, lc_error *err) {
    int k = snprintf(out, n, "%s.%s", prefix, name);
    if (k < 0 || (size_t)k >= n || (size_t)k >= LC_NAME_MAX)
        return lc_fail(err, LC_ERR_ARG, "space: key prefix '%s' is too long", prefix);
    return LC_OK;
}

static int set_int(lc_file *f, const char *prefix, const char *name, int64_t v, lc_error *err) {
    char k[LC_NAME_MAX + 8];
    int rc = key(k, sizeof k, prefix, name, err);
    if (rc) return rc;
    if ((rc = lc_file_set_int(f, k, v))) return lc_fail(err, rc, "space: cannot set %s", k);
    return LC_OK;
}

static int get_int(const lc_file *f, const char *prefix, const char *name, int64_t lo, int64_t hi,
                   int *out, lc_error *err) {
    char k[LC_NAME_MAX + 8];
    int rc = key(k, sizeof k, prefix, name, err);
    if (rc) return rc;
    int64_t v;
    if ((rc = lc_file_get_int(f, k, &v, err))) return rc;
    if (v < lo || v > hi)
        return lc_fail(err, LC_ERR_FORMAT, "space: %s = %lld is out of range [%lld, %lld]", k,
                       (long long)v, (long long)lo, (long long)hi);
    *out = (int)v;
    return LC_OK;
}

int lc_space_to_file(const lc_space *s, lc_file *f, const char *prefix, lc_error *err) {
    char k[LC_NAME_MAX + 8];
    int rc;
    if ((rc = key(k, sizeof k, prefix, "kind", err))) return rc;
    if (lc_file_set_str(f, k, kind_name(s->kind))) return lc_fail(err, LC_ERR_NOMEM, "space: cannot set %s", k);
    if ((rc = key(k, sizeof k, prefix, "dtype", err))) return rc;
    if (lc_file_set_str(f, k, lc_dtype_name(s->dtype))) return lc_fail(err, LC_ERR_NOMEM, "space: cannot set %s", k);
    if ((rc = set_int(f, prefix, "ndim", s->ndim, err))) return rc;
    static const char *dims[3] = {"dim0", "dim1", "dim2"};
    for (int d = 0; d < s->ndim && d < 3; d++)
        if ((rc = set_int(f, prefix, dims[d], s->shape[d], err))) return rc;
    if (s->kind == LC_SPACE_DISCRETE) return set_int(f, prefix, "n", s->n, err);
    if (s->kind == LC_SPACE_MULTI_DISCRETE) {
        if ((rc = key(k, sizeof k, prefix, "nvec", err))) return rc;
        int64_t shape[1] = {s->shape[0]};
        int32_t nv[LC_MAX_NVEC];
        for (int i = 0; i < s->shape[0]; i++) nv[i] = s->nvec[i];
        return lc_file_add(f, k, LC_I32, 1, shape, nv, err);
    }
    if ((rc = key(k, sizeof k, prefix, "bounds", err))) return rc;
    int B = s->per_dim ? lc_space_size(s) : 1;
    float b[2 * LC_SPACE_MAX_BOUNDS];
    for (int i = 0; i < B; i++) {
        b[i] = s->low[i];
        b[B + i] = s->high[i];
    }
    int64_t shape[2] = {2, B};
    return lc_file_add(f, k, LC_F32, 2, shape, b, err);
}

int lc_space_from_file(lc_space *out, const lc_file *f, const char *prefix, lc_error *err) {
    char k[LC_NAME_MAX + 8];
    const char *kind = NULL, *dtype = NULL;
    int rc;
    if ((rc = key(k, sizeof k, prefix, "kind", err))) return rc;
    if ((rc = lc_file_get_str(f, k, &kind, err))) return rc;
    if ((rc = key(k, sizeof k, prefix, "dtype", err))) return rc;
    if ((rc = lc_file_get_str(f, k, &dtype, err))) return rc;
    lc_space s;
    memset(&s, 0, sizeof s);
    if (strcmp(kind, "discrete") == 0) s.kind = LC_SPACE_DISCRETE;
    else if (strcmp(kind, "box") == 0) s.kind = LC_SPACE_BOX;
    else if (strcmp(kind, "multi_discrete") == 0) s.kind = LC_SPACE_MULTI_DISCRETE;
    else return lc_fail(err, LC_ERR_FORMAT, "space: %s.kind '%.40s' is not a known space", prefix, kind);
    if (strcmp(dtype, "f32") == 0) s.dtype = LC_F32;
    else if (strcmp(dtype, "u8") == 0) s.dtype = LC_U8;
    else if (strcmp(dtype, "i32") == 0) s.dtype = LC_I32;
    else return lc_fail(err, LC_ERR_FORMAT, "space: %s.dtype '%.40s' is not f32, u8 or i32", prefix, dtype);
    int box = s.kind == LC_SPACE_BOX;
    if (box ? s.dtype == LC_I32 : s.dtype != LC_I32)
        return lc_fail(err, LC_ERR_FORMAT, "space: %s: a %s space cannot have dtype %s", prefix, kind, dtype);
    int lo_nd = box ? 1 : s.kind == LC_SPACE_DISCRETE ? 0 : 1, hi_nd = box ? 3 : lo_nd;
    if ((rc = get_int(f, prefix, "ndim", lo_nd, hi_nd, &s.ndim, err))) return rc;
    static const char *dims[3] = {"dim0", "dim1", "dim2"};
    long elems = 1;
    for (int d = 0; d < s.ndim; d++) {
        int hi = s.kind == LC_SPACE_MULTI_DISCRETE ? LC_MAX_NVEC : SPACE_MAX_DIM;
        if ((rc = get_int(f, prefix, dims[d], 1, hi, &s.shape[d], err))) return rc;
        elems *= s.shape[d];
        if (elems > SPACE_MAX_ELEMS)
            return lc_fail(err, LC_ERR_SIZE, "space: %s has more than %ld elements", prefix, SPACE_MAX_ELEMS);
    }
    if (s.kind == LC_SPACE_DISCRETE) {
        if ((rc = get_int(f, prefix, "n", 1, 1 << 30, &s.n, err))) return rc;
        *out = lc_space_discrete(s.n);
        return LC_OK;
    }
    if (s.kind == LC_SPACE_MULTI_DISCRETE) {
        if ((rc = key(k, sizeof k, prefix, "nvec", err))) return rc;
        int64_t shape[1] = {s.shape[0]};
        const lc_tensor *t = lc_file_expect(f, k, LC_I32, 1, shape, err);
        if (!t) return err ? err->code : LC_ERR_NOTFOUND;
        const int32_t *nv = t->data;
        int nvec[LC_MAX_NVEC];
        for (int i = 0; i < s.shape[0]; i++) {
            if (nv[i] < 1 || nv[i] > (1 << 30))
                return lc_fail(err, LC_ERR_FORMAT, "space: %s[%d] = %d is not a number of choices", k, i, (int)nv[i]);
            nvec[i] = nv[i];
        }
        *out = lc_space_multi_discrete(s.shape[0], nvec);
        return LC_OK;
    }
    if ((rc = key(k, sizeof k, prefix, "bounds", err))) return rc;
    int64_t shape[2] = {2, -1};
    const lc_tensor *t = lc_file_expect(f, k, LC_F32, 2, shape, err);
    if (!t) return err ? err->code : LC_ERR_NOTFOUND;
    int64_t B = t->shape[1];
    if (!(B == 1 || (B == elems && B <= LC_SPACE_MAX_BOUNDS)))
        return lc_fail(err, LC_ERR_SHAPE, "space: %s holds %lld bounds for %ld elements", k, (long long)B, elems);
    const float *b = t->data;
    for (int64_t i = 0; i < B; i++) {
        float lo = b[i], hi = b[B + i];
        if (isnan(lo) || isnan(hi) || lo > hi)
            return lc_fail(err, LC_ERR_FORMAT, "space: %s element %lld has bounds [%g, %g]", k, (long long)i,
                           (double)lo, (double)hi);
        if (s.dtype == LC_U8 && (lo < 0.0f || hi > 255.0f))
            return lc_fail(err, LC_ERR_FORMAT, "space: %s: uint8 bounds [%g, %g] outside [0, 255]", k,
                           (double)lo, (double)hi);
    }
    if (B == 1) {
        *out = lc_space_box_scalar(s.dtype, s.ndim, s.shape, b[0], b[1]);
    } else {
        *out = lc_space_box(s.dtype, s.ndim, s.shape, b, b + B);
    }
    return LC_OK;
}

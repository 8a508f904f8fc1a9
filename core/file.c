// core/file.c: the lucid container (docs/FORMAT.md): magic, version, body length,
// one msgpack map (kind, meta, tensors as bin), CRC32; atomic writes, validated reads.
// Leaves out: streaming reads (a file is read whole), compression, mmap.
#include "core/file.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <msgpack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/msgpack_scan.h"

// Layout: MAGIC (8) | version u32 LE (4) | body length u64 LE (8) | body | CRC32 u32 LE (4)
static const uint8_t MAGIC[8] = {0x89, 'L', 'U', 'C', 'I', 'D', '\r', '\n'};
#define HEAD_BYTES 20
#define TAIL_BYTES 4
#define KEY_MAX 255       // longest kind, meta key (bytes)
#define MAX_DEPTH 8       // deepest nesting a body may have (the schema needs 4)

// ---------------------------------------------------------------- dtypes

static const char *const dtype_names[LC_DTYPE_COUNT] = {"f32", "f64", "u8", "i32", "i64"};
static const size_t dtype_sizes[LC_DTYPE_COUNT] = {4, 8, 1, 4, 8};

size_t lc_dtype_size(lc_dtype t) {
    assert(t >= 0 && t < LC_DTYPE_COUNT);
    return dtype_sizes[t];
}

const char *lc_dtype_name(lc_dtype t) {
    if ((int)t < 0 || t >= LC_DTYPE_COUNT) return "?";
    return dtype_names[t];
}

// ---------------------------------------------------------------- CRC32 (IEEE, reflected, as zlib)

static uint32_t crc_table[8][256]; // slicing-by-8
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (int i = 0; i < 256; i++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
}

// crc is the running value before inversion (start with 0xffffffff).
static uint32_t crc_update(uint32_t crc, const uint8_t *p, size_t n) {
    pthread_once(&crc_once, crc_init);
    while (n && ((uintptr_t)p & 7)) {
        crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        n--;
    }
    while (n >= 8) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + 4, 4);
        a ^= crc; // little-endian host (x86-64, aarch64)
        crc = crc_table[7][a & 0xff] ^ crc_table[6][(a >> 8) & 0xff] ^
              crc_table[5][(a >> 16) & 0xff] ^ crc_table[4][a >> 24] ^
              crc_table[3][b & 0xff] ^ crc_table[2][(b >> 8) & 0xff] ^
              crc_table[1][(b >> 16) & 0xff] ^ crc_table[0][b >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

uint32_t lc_crc32(const void *data, size_t n) {
    return crc_update(0xffffffffu, data, n) ^ 0xffffffffu;
}

static void put_le(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

// ---------------------------------------------------------------- the in-memory file

enum { META_INT, META_FLOAT, META_STR };

typedef struct meta_entry {
    char *key;
    int type;
    int64_t i;
    double f;
    char *s;
} meta_entry;

struct lc_file {
    char *kind;
    meta_entry *meta;
    int nmeta, cap_meta;
    lc_tensor **tensors; // pointers stay valid until the file is freed
    unsigned char *claimed; // per tensor: returned by lc_file_tensor / lc_file_expect
    int ntensors, cap_tensors;
};

static char *dup_str(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

lc_file *lc_file_new(const char *kind) {
    assert(kind);
    lc_file *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->kind = dup_str(kind, strlen(kind));
    if (!f->kind) {
        free(f);
        return NULL;
    }
    return f;
}

void lc_file_free(lc_file *f) {
    if (!f) return;
    for (int i = 0; i < f->nmeta; i++) {
        free(f->meta[i].key);
        free(f->meta[i].s);
    }
    free(f->meta);
    for (int i = 0; i < f->ntensors; i++) {
        free(f->tensors[i]->data);
        free(f->tensors[i]);
    }
    free(f->tensors);
    free(f->claimed);
    free(f->kind);
    free(f);
}

const char *lc_file_kind(const lc_file *f) { return f->kind; }

static meta_entry *meta_find(const lc_file *f, const char *key, size_t klen) {
    for (int i = 0; i < f->nmeta; i++)
        if (strlen(f->meta[i].key) == klen && memcmp(f->meta[i].key, key, klen) == 0)
            return &f->meta[i];
    return NULL;
}

// The entry for key, new or cleared for a new value. NULL on out-of-memory.
static meta_entry *meta_slot(lc_file *f, const char *key, size_t klen) {
    meta_entry *e = meta_find(f, key, klen);
    if (e) {
        free(e->s);
        e->s = NULL;
        return e;
    }
    if (f->nmeta == f->cap_meta) {
        int cap = f->cap_meta ? 2 * f->cap_meta : 8;
        meta_entry *m = realloc(f->meta, (size_t)cap * sizeof *m);
        if (!m) return NULL;
        f->meta = m;
        f->cap_meta = cap;
    }
    e = &f->meta[f->nmeta];
    memset(e, 0, sizeof *e);
    e->key = dup_str(key, klen);
    if (!e->key) return NULL;
    f->nmeta++;
    return e;
}

static int key_ok(const char *key) { return key && key[0] && strlen(key) <= KEY_MAX; }

int lc_file_set_int(lc_file *f, const char *key, int64_t v) {
    if (!key_ok(key)) return LC_ERR_ARG;
    meta_entry *e = meta_slot(f, key, strlen(key));
    if (!e) return LC_ERR_NOMEM;
    e->type = META_INT;
    e->i = v;
    return LC_OK;
}

int lc_file_set_float(lc_file *f, const char *key, double v) {
    if (!key_ok(key)) return LC_ERR_ARG;
    meta_entry *e = meta_slot(f, key, strlen(key));
    if (!e) return LC_ERR_NOMEM;
    e->type = META_FLOAT;
    e->f = v;
    return LC_OK;
}

int lc_file_set_str(lc_file *f, const char *key, const char *v) {
    if (!key_ok(key) || !v || strlen(v) > UINT32_MAX) return LC_ERR_ARG;
    char *s = dup_str(v, strlen(v));
    if (!s) return LC_ERR_NOMEM;
    meta_entry *e = meta_slot(f, key, strlen(key));
    if (!e) {
        free(s);
        return LC_ERR_NOMEM;
    }
    e->type = META_STR;
    e->s = s;
    return LC_OK;
}

static const char *const meta_type_names[] = {"an integer", "a float", "a string"};

static int meta_get(const lc_file *f, const char *key, const meta_entry **out, lc_error *err) {
    *out = key ? meta_find(f, key, strlen(key)) : NULL;
    if (!*out) return lc_fail(err, LC_ERR_NOTFOUND, "no meta value '%s'", key ? key : "(null)");
    return LC_OK;
}

int lc_file_get_int(const lc_file *f, const char *key, int64_t *v, lc_error *err) {
    const meta_entry *e;
    int rc = meta_get(f, key, &e, err);
    if (rc) return rc;
    if (e->type != META_INT)
        return lc_fail(err, LC_ERR_TYPE, "meta value '%s' is %s, not an integer", key,
                       meta_type_names[e->type]);
    *v = e->i;
    return LC_OK;
}

int lc_file_get_float(const lc_file *f, const char *key, double *v, lc_error *err) {
    const meta_entry *e;
    int rc = meta_get(f, key, &e, err);
    if (rc) return rc;
    if (e->type == META_STR)
        return lc_fail(err, LC_ERR_TYPE, "meta value '%s' is a string, not a number", key);
    *v = e->type == META_INT ? (double)e->i : e->f;
    return LC_OK;
}

int lc_file_get_str(const lc_file *f, const char *key, const char **v, lc_error *err) {
    const meta_entry *e;
    int rc = meta_get(f, key, &e, err);
    if (rc) return rc;
    if (e->type != META_STR)
        return lc_fail(err, LC_ERR_TYPE, "meta value '%s' is %s, not a string", key,
                       meta_type_names[e->type]);
    *v = e->s;
    return LC_OK;
}

int lc_file_nmeta(const lc_file *f) { return f->nmeta; }

const char *lc_file_meta_key(const lc_file *f, int i) {
    return i >= 0 && i < f->nmeta ? f->meta[i].key : NULL;
}

// ---------------------------------------------------------------- tensors

static lc_tensor *tensor_find(const lc_file *f, const char *name, size_t len) {
    for (int i = 0; i < f->ntensors; i++)
        if (strlen(f->tensors[i]->name) == len && memcmp(f->tensors[i]->name, name, len) == 0)
            return f->tensors[i];
    return NULL;
}

// nbytes of a shape, or an error if the product overflows or exceeds limit.
static int shape_bytes(lc_dtype dtype, int ndim, const int64_t *shape, uint64_t limit,
                       size_t *nbytes) {
    uint64_t n = lc_dtype_size(dtype);
    for (int d = 0; d < ndim; d++) {
        uint64_t s = (uint64_t)shape[d];
        if (s != 0 && n > limit / s) return LC_ERR_SIZE;
        n *= s;
    }
    if (n > limit) return LC_ERR_SIZE;
    *nbytes = (size_t)n;
    return LC_OK;
}

// "(2, 3)"; a negative entry (a wildcard in lc_file_expect) shows as "*".
static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t used = (size_t)snprintf(buf, cap, "(");
    for (int d = 0; d < ndim && used < cap; d++) {
        if (shape[d] < 0) used += (size_t)snprintf(buf + used, cap - used, d ? ", *" : "*");
        else used += (size_t)snprintf(buf + used, cap - used, d ? ", %lld" : "%lld",
                                      (long long)shape[d]);
    }
    if (used < cap) snprintf(buf + used, cap - used, ")");
}

// Puts a tensor whose data is already allocated into f (replacing one of the
// same name). Takes ownership of data in every case.
static int tensor_put(lc_file *f, const char *name, size_t nlen, lc_dtype dtype, int ndim,
                      const int64_t *shape, size_t nbytes, void *data) {
    lc_tensor *t = tensor_find(f, name, nlen);
    if (!t) {
        if (f->ntensors == f->cap_tensors) {
            int cap = f->cap_tensors ? 2 * f->cap_tensors : 8;
            lc_tensor **ts = realloc(f->tensors, (size_t)cap * sizeof *ts);
            if (ts) f->tensors = ts;
            unsigned char *cl = ts ? realloc(f->claimed, (size_t)cap) : NULL;
            if (!cl) {
                free(data);
                return LC_ERR_NOMEM;
            }
            f->claimed = cl;
            f->cap_tensors = cap;
        }
        t = calloc(1, sizeof *t);
        if (!t) {
            free(data);
            return LC_ERR_NOMEM;
        }
        memcpy(t->name, name, nlen);
        t->name[nlen] = '\0';
        f->claimed[f->ntensors] = 0;
        f->tensors[f->ntensors++] = t;
    }
    free(t->data);
    t->dtype = dtype;
    t->ndim = ndim;
    memset(t->shape, 0, sizeof t->shape);
    for (int d = 0; d < ndim; d++) t->shape[d] = shape[d];
    t->nbytes = nbytes;
    t->data = data;
    return LC_OK;
}

int lc_file_add(lc_file *f, const char *name, lc_dtype dtype, int ndim, const int64_t *shape,
                const void *data, lc_error *err) {
    if (!name || !name[0] || strlen(name) >= LC_NAME_MAX)
        return lc_fail(err, LC_ERR_ARG, "tensor name '%s' must have 1 to %d bytes",
                       name ? name : "(null)", LC_NAME_MAX - 1);
    if ((int)dtype < 0 || dtype >= LC_DTYPE_COUNT)
        return lc_fail(err, LC_ERR_ARG, "tensor '%s': bad dtype %d", name, (int)dtype);
    if (ndim < 0 || ndim > LC_MAX_DIMS || (ndim > 0 && !shape))
        return lc_fail(err, LC_ERR_ARG, "tensor '%s': %d dims (at most %d)", name, ndim,
                       LC_MAX_DIMS);
    for (int d = 0; d < ndim; d++)
        if (shape[d] < 0)
            return lc_fail(err, LC_ERR_ARG, "tensor '%s': negative dim %lld", name,
                           (long long)shape[d]);
    size_t nbytes;
    if (shape_bytes(dtype, ndim, shape, UINT32_MAX, &nbytes))
        return lc_fail(err, LC_ERR_SIZE, "tensor '%s' is larger than 4 GiB (a msgpack bin)", name);
    if (nbytes && !data) return lc_fail(err, LC_ERR_ARG, "tensor '%s': no data", name);
    void *copy = malloc(nbytes ? nbytes : 1);
    if (!copy) return lc_fail(err, LC_ERR_NOMEM, "tensor '%s': out of memory", name);
    if (nbytes) memcpy(copy, data, nbytes);
    if (tensor_put(f, name, strlen(name), dtype, ndim, shape, nbytes, copy))
        return lc_fail(err, LC_ERR_NOMEM, "tensor '%s': out of memory", name);
    return LC_OK;
}

const lc_tensor *lc_file_tensor(const lc_file *f, const char *name) {
    if (!name) return NULL;
    size_t len = strlen(name);
    for (int i = 0; i < f->ntensors; i++)
        if (strlen(f->tensors[i]->name) == len && memcmp(f->tensors[i]->name, name, len) == 0) {
            f->claimed[i] = 1; // f is const to the reader; the claims are bookkeeping
            return f->tensors[i];
        }
    return NULL;
}

const lc_tensor *lc_file_expect(const lc_file *f, const char *name, lc_dtype dtype, int ndim,
                                const int64_t *shape, lc_error *err) {
    const lc_tensor *t = lc_file_tensor(f, name);
    if (!t) {
        lc_fail(err, LC_ERR_NOTFOUND, "no tensor '%s'", name ? name : "(null)");
        return NULL;
    }
    if (t->dtype != dtype) {
        lc_fail(err, LC_ERR_TYPE, "tensor '%s' is %s, expected %s", name, lc_dtype_name(t->dtype),
                lc_dtype_name(dtype));
        return NULL;
    }
    int ok = t->ndim == ndim;
    for (int d = 0; ok && shape && d < ndim; d++)
        if (shape[d] >= 0 && shape[d] != t->shape[d]) ok = 0;
    if (!ok) {
        char have[128], want[128] = "";
        shape_str(have, sizeof have, t->ndim, t->shape);
        if (shape) {
            shape_str(want, sizeof want, ndim, shape);
        } else {
            snprintf(want, sizeof want, "%d dims", ndim);
        }
        lc_fail(err, LC_ERR_SHAPE, "tensor '%s' has shape %s, expected %s", name, have, want);
        return NULL;
    }
    return t;
}

int lc_file_ntensors(const lc_file *f) { return f->ntensors; }

static int has_prefix(const char *name, const char *const *prefixes) {
    if (!prefixes) return 1;
    for (int k = 0; prefixes[k]; k++)
        if (strncmp(name, prefixes[k], strlen(prefixes[k])) == 0) return 1;
    return 0;
}

int lc_file_check_claimed(const lc_file *f, const char *what, const char *const *prefixes,
                          lc_error *err) {
    for (int i = 0; i < f->ntensors; i++) {
        const lc_tensor *t = f->tensors[i];
        if (f->claimed[i] || !has_prefix(t->name, prefixes)) continue;
        char sh[128];
        shape_str(sh, sizeof sh, t->ndim, t->shape);
        return lc_fail(err, LC_ERR_FORMAT, "tensor '%s' %s of %s is not used by a %s file "
                       "(its meta implies other tensors; refusing a file whose meaning is unclear)",
                       t->name, sh, lc_dtype_name(t->dtype), what);
    }
    return LC_OK;
}

int lc_file_opt_int(const lc_file *f, const char *key, int64_t lo, int64_t hi, int64_t *v,
                    lc_error *err) {
    const meta_entry *e = key ? meta_find(f, key, strlen(key)) : NULL;
    if (!e) return LC_OK;
    int64_t x;
    int rc = lc_file_get_int(f, key, &x, err);
    if (rc) return rc;
    if (x < lo || x > hi)
        return lc_fail(err, LC_ERR_FORMAT, "meta value '%s' = %lld is outside [%lld, %lld]", key,
                       (long long)x, (long long)lo, (long long)hi);
    *v = x;
    return LC_OK;
}

int lc_file_opt_float(const lc_file *f, const char *key, double lo, double hi, double *v,
                      lc_error *err) {
    const meta_entry *e = key ? meta_find(f, key, strlen(key)) : NULL;
    if (!e) return LC_OK;
    double x;
    int rc = lc_file_get_float(f, key, &x, err);
    if (rc) return rc;
    if (isnan(x) && isnan(lo)) { // NaN allowed: a figure that could not be measured
        *v = x;
        return LC_OK;
    }
    if (!isfinite(x) || x < lo || x > hi)
        return lc_fail(err, LC_ERR_FORMAT, "meta value '%s' = %g is outside [%g, %g]", key, x,
                       isnan(lo) ? -INFINITY : lo, hi);
    *v = x;
    return LC_OK;
}

const lc_tensor *lc_file_tensor_at(const lc_file *f, int i) {
    return i >= 0 && i < f->ntensors ? f->tensors[i] : NULL;
}

// ---------------------------------------------------------------- encoding

static int pack_cstr(msgpack_packer *pk, const char *s) {
    size_t n = strlen(s);
    return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n);
}

// Packs the body map. Returns nonzero if a write callback failed.
static int pack_body(const lc_file *f, msgpack_packer *pk) {
    if (msgpack_pack_map(pk, 3) || pack_cstr(pk, "kind") || pack_cstr(pk, f->kind)) return -1;
    if (pack_cstr(pk, "meta") || msgpack_pack_map(pk, (size_t)f->nmeta)) return -1;
    for (int i = 0; i < f->nmeta; i++) {
        const meta_entry *e = &f->meta[i];
        if (pack_cstr(pk, e->key)) return -1;
        int rc = e->type == META_INT     ? msgpack_pack_int64(pk, e->i)
                 : e->type == META_FLOAT ? msgpack_pack_double(pk, e->f)
                                         : pack_cstr(pk, e->s);
        if (rc) return -1;
    }
    if (pack_cstr(pk, "tensors") || msgpack_pack_array(pk, (size_t)f->ntensors)) return -1;
    for (int i = 0; i < f->ntensors; i++) {
        const lc_tensor *t = f->tensors[i];
        if (msgpack_pack_map(pk, 4) || pack_cstr(pk, "name") || pack_cstr(pk, t->name) ||
            pack_cstr(pk, "dtype") || pack_cstr(pk, lc_dtype_name(t->dtype)) ||
            pack_cstr(pk, "shape") || msgpack_pack_array(pk, (size_t)t->ndim))
            return -1;
        for (int d = 0; d < t->ndim; d++)
            if (msgpack_pack_int64(pk, t->shape[d])) return -1;
        if (pack_cstr(pk, "data") || msgpack_pack_bin(pk, t->nbytes) ||
            msgpack_pack_bin_body(pk, t->data, t->nbytes))
            return -1;
    }
    return 0;
}

static int count_write(void *data, const char *buf, size_t len) {
    (void)buf;
    *(size_t *)data += len;
    return 0;
}

// What the reader demands of a kind, checked before anything is written.
static int check_kind(const lc_file *f, lc_error *err) {
    size_t n = strlen(f->kind);
    if (n == 0 || n > KEY_MAX)
        return lc_fail(err, LC_ERR_ARG, "file kind '%.40s' must have 1 to %d bytes", f->kind, KEY_MAX);
    return LC_OK;
}

static size_t body_size(const lc_file *f) {
    size_t n = 0;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &n, count_write);
    pack_body(f, &pk);
    return n;
}

static void fill_head(uint8_t *head, size_t body_len) {
    memcpy(head, MAGIC, 8);
    put_le(head + 8, LC_FILE_VERSION, 4);
    put_le(head + 12, body_len, 8);
}

int lc_file_encode(const lc_file *f, void **buf, size_t *len, lc_error *err) {
    *buf = NULL;
    *len = 0;
    if (check_kind(f, err)) return LC_ERR_ARG;
    size_t n = body_size(f), total = HEAD_BYTES + n + TAIL_BYTES;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    sb.data = malloc(total); // exact size: the packer never reallocates
    if (!sb.data) return lc_fail(err, LC_ERR_NOMEM, "encoding %zu bytes: out of memory", total);
    sb.alloc = total;
    sb.size = HEAD_BYTES;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (pack_body(f, &pk) || sb.size != HEAD_BYTES + n) {
        msgpack_sbuffer_destroy(&sb);
        return lc_fail(err, LC_ERR_NOMEM, "encoding %zu bytes: out of memory", total);
    }
    uint8_t *p = (uint8_t *)sb.data;
    fill_head(p, n);
    put_le(p + HEAD_BYTES + n, lc_crc32(p + HEAD_BYTES, n), 4);
    *len = total;
    *buf = msgpack_sbuffer_release(&sb);
    return LC_OK;
}

// ---------------------------------------------------------------- atomic write

// The injected fault (lc_file_inject_fault): where, errno, bytes before a write fails.
static _Atomic int fault_where = LC_FAULT_NONE;
static int fault_errno;
static size_t fault_after;

void lc_file_inject_fault(lc_file_fault where, int e, size_t after) {
    fault_errno = e;
    fault_after = after;
    fault_where = where;
}

// 1 (once, with errno set) when the pending fault is at `where`.
static int fault_at(lc_file_fault where) {
    int w = where;
    if (fault_where != w || !atomic_compare_exchange_strong(&fault_where, &w, LC_FAULT_NONE))
        return 0;
    errno = fault_errno;
    return 1;
}

int lc_atomic_tmp(char *tmp, size_t cap, const char *path, lc_error *err) {
    int n = snprintf(tmp, cap, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= cap) return lc_fail(err, LC_ERR_ARG, "%s: path too long", path);
    return LC_OK;
}

void lc_atomic_abort(const char *tmp) { unlink(tmp); }

static int fsync_dir(const char *path) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    if (rc && (errno == EINVAL || errno == EROFS)) rc = 0; // no directory fsync here
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int lc_atomic_commit(const char *tmp, const char *path, lc_error *err) {
    int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0 || fault_at(LC_FAULT_FSYNC)) {
        int e = errno;
        if (fd >= 0) close(fd);
        unlink(tmp);
        return lc_fail(err, LC_ERR_IO, "%s: fsync: %s", tmp, strerror(e));
    }
    close(fd);
    if (fault_at(LC_FAULT_RENAME) || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return lc_fail(err, LC_ERR_IO, "%s: rename: %s", path, strerror(e));
    }
    if (fsync_dir(path) != 0)
        return lc_fail(err, LC_ERR_IO, "%s: fsync of the directory: %s", path, strerror(errno));
    return LC_OK;
}

typedef struct stream {
    FILE *fp;
    uint32_t crc;
    int err;        // errno of the first failed write
    size_t written; // bytes so far
    int fail;       // an injected LC_FAULT_WRITE is pending
} stream;

static int stream_put(stream *s, const void *buf, size_t len) {
    if (s->err) return -1;
    if (s->fail && s->written + len > fault_after) { // a full disk: part goes through
        size_t part = fault_after > s->written ? fault_after - s->written : 0;
        if (part) fwrite(buf, 1, part, s->fp);
        s->err = fault_errno ? fault_errno : ENOSPC;
        return -1;
    }
    if (len && fwrite(buf, 1, len, s->fp) != len) {
        s->err = errno ? errno : EIO;
        return -1;
    }
    s->written += len;
    return 0;
}

static int stream_write(void *data, const char *buf, size_t len) {
    stream *s = data;
    s->crc = crc_update(s->crc, (const uint8_t *)buf, len);
    return stream_put(s, buf, len);
}

// Streams the file to tmp (no in-memory copy of the body), then commits it.
int lc_file_write(const lc_file *f, const char *path, lc_error *err) {
    if (check_kind(f, err)) {
        if (err) lc_error_prefix(err, "%s: ", path);
        return LC_ERR_ARG;
    }
    char tmp[4200];
    int rc = lc_atomic_tmp(tmp, sizeof tmp, path, err);
    if (rc) return rc;
    size_t n = body_size(f);
    stream s = {fault_at(LC_FAULT_CREATE) ? NULL : fopen(tmp, "wbe"), 0xffffffffu, 0, 0,
                fault_at(LC_FAULT_WRITE)};
    if (!s.fp) return lc_fail(err, LC_ERR_IO, "%s: cannot create %s: %s", path, tmp, strerror(errno));
    uint8_t head[HEAD_BYTES], tail[TAIL_BYTES];
    fill_head(head, n);
    errno = 0;
    stream_put(&s, head, sizeof head);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &s, stream_write);
    if (!s.err) pack_body(f, &pk);
    put_le(tail, s.crc ^ 0xffffffffu, 4);
    stream_put(&s, tail, sizeof tail);
    if (!s.err && fflush(s.fp) != 0) s.err = errno;
    if (!s.err && (fsync(fileno(s.fp)) != 0 || fault_at(LC_FAULT_FSYNC))) s.err = errno;
    if (fclose(s.fp) != 0 && !s.err) s.err = errno;
    if (s.err) {
        unlink(tmp);
        return lc_fail(err, LC_ERR_IO, "%s: write: %s (the previous file, if any, is untouched)",
                       path, strerror(s.err));
    }
    if (fault_at(LC_FAULT_RENAME) || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return lc_fail(err, LC_ERR_IO, "%s: rename: %s", path, strerror(e));
    }
    if (fsync_dir(path) != 0)
        return lc_fail(err, LC_ERR_IO, "%s: fsync of the directory: %s", path, strerror(errno));
    return LC_OK;
}

// ---------------------------------------------------------------- decoding

// The pre-scan (core/msgpack_scan.h) a body passes before msgpack-c unpacks it:
// one complete value using every byte, nested at most MAX_DEPTH deep.
static const lc_mp_limits body_limits = {
    .max_depth = MAX_DEPTH, .malformed = LC_ERR_FORMAT, .past_end = LC_ERR_FORMAT, .what = "body"};

static int str_is(const msgpack_object *o, const char *s) {
    size_t n = strlen(s);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n && memcmp(o->via.str.ptr, s, n) == 0;
}

// A string field of 1..maxlen bytes with no NUL, else an error naming what.
static int want_str(const msgpack_object *o, size_t maxlen, const char *what, lc_error *err) {
    if (o->type != MSGPACK_OBJECT_STR)
        return lc_fail(err, LC_ERR_TYPE, "%s is %s, expected a string", what, lc_mp_type_name(o->type));
    if (o->via.str.size == 0 || o->via.str.size > maxlen)
        return lc_fail(err, LC_ERR_FORMAT, "%s has %u bytes (1 to %zu allowed)", what,
                       o->via.str.size, maxlen);
    if (memchr(o->via.str.ptr, '\0', o->via.str.size))
        return lc_fail(err, LC_ERR_FORMAT, "%s contains a NUL byte", what);
    return LC_OK;
}

static int parse_meta(lc_file *f, const msgpack_object *o, lc_error *err) {
    if (o->type != MSGPACK_OBJECT_MAP)
        return lc_fail(err, LC_ERR_TYPE, "'meta' is %s, expected a map", lc_mp_type_name(o->type));
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        int rc = want_str(k, KEY_MAX, "a meta key", err);
        if (rc) return rc;
        const char *key = k->via.str.ptr;
        int klen = (int)k->via.str.size;
        if (meta_find(f, key, (size_t)klen))
            return lc_fail(err, LC_ERR_FORMAT, "meta key '%.*s' appears twice", klen, key);
        int64_t iv = 0;
        double fv = 0;
        char *sv = NULL;
        int type;
        switch (v->type) {
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            if (v->via.u64 > INT64_MAX)
                return lc_fail(err, LC_ERR_TYPE, "meta '%.*s': integer %llu does not fit int64",
                               klen, key, (unsigned long long)v->via.u64);
            type = META_INT, iv = (int64_t)v->via.u64;
            break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: type = META_INT, iv = v->via.i64; break;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64: type = META_FLOAT, fv = v->via.f64; break;
        case MSGPACK_OBJECT_STR:
            if (memchr(v->via.str.ptr, '\0', v->via.str.size))
                return lc_fail(err, LC_ERR_FORMAT, "meta '%.*s': string contains a NUL byte", klen,
                               key);
            type = META_STR;
            sv = dup_str(v->via.str.ptr, v->via.str.size);
            if (!sv) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
            break;
        default:
            return lc_fail(err, LC_ERR_TYPE,
                           "meta '%.*s' is %s, expected an integer, a float or a string", klen, key,
                           lc_mp_type_name(v->type));
        }
        meta_entry *e = meta_slot(f, key, (size_t)klen);
        if (!e) {
            free(sv);
            return lc_fail(err, LC_ERR_NOMEM, "out of memory");
        }
        e->type = type, e->i = iv, e->f = fv, e->s = sv;
    }
    return LC_OK;
}

static int parse_tensor(lc_file *f, uint32_t idx, const msgpack_object *o, lc_error *err) {
    if (o->type != MSGPACK_OBJECT_MAP)
        return lc_fail(err, LC_ERR_TYPE, "tensor %u is %s, expected a map", idx,
                       lc_mp_type_name(o->type));
    const msgpack_object *name = NULL, *dtype = NULL, *shape = NULL, *data = NULL;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR)
            return lc_fail(err, LC_ERR_TYPE, "tensor %u: a key is %s, expected a string", idx,
                           lc_mp_type_name(k->type));
        const msgpack_object **slot = str_is(k, "name")    ? &name
                                      : str_is(k, "dtype") ? &dtype
                                      : str_is(k, "shape") ? &shape
                                      : str_is(k, "data")  ? &data
                                                           : NULL;
        if (!slot) continue; // unknown fields are ignored (FORMAT.md)
        if (*slot)
            return lc_fail(err, LC_ERR_FORMAT, "tensor %u: field '%.*s' appears twice", idx,
                           (int)k->via.str.size, k->via.str.ptr);
        *slot = v;
    }
    const char *missing = !name ? "name" : !dtype ? "dtype" : !shape ? "shape" : !data ? "data" : NULL;
    if (missing) return lc_fail(err, LC_ERR_FORMAT, "tensor %u has no '%s'", idx, missing);

    char what[96];
    snprintf(what, sizeof what, "tensor %u's name", idx);
    int rc = want_str(name, LC_NAME_MAX - 1, what, err);
    if (rc) return rc;
    int nlen = (int)name->via.str.size;
    const char *nm = name->via.str.ptr;
    if (tensor_find(f, nm, (size_t)nlen))
        return lc_fail(err, LC_ERR_FORMAT, "tensor '%.*s' appears twice", nlen, nm);

    if (dtype->type != MSGPACK_OBJECT_STR)
        return lc_fail(err, LC_ERR_TYPE, "tensor '%.*s': dtype is %s, expected a string", nlen, nm,
                       lc_mp_type_name(dtype->type));
    int dt = -1;
    for (int t = 0; t < LC_DTYPE_COUNT; t++)
        if (str_is(dtype, dtype_names[t])) dt = t;
    if (dt < 0)
        return lc_fail(err, LC_ERR_TYPE, "tensor '%.*s': unknown dtype '%.*s'", nlen, nm,
                       (int)(dtype->via.str.size > 16 ? 16 : dtype->via.str.size), dtype->via.str.ptr);

    if (shape->type != MSGPACK_OBJECT_ARRAY)
        return lc_fail(err, LC_ERR_TYPE, "tensor '%.*s': shape is %s, expected an array", nlen, nm,
                       lc_mp_type_name(shape->type));
    if (shape->via.array.size > LC_MAX_DIMS)
        return lc_fail(err, LC_ERR_SHAPE, "tensor '%.*s' has %u dims (at most %d)", nlen, nm,
                       shape->via.array.size, LC_MAX_DIMS);
    int ndim = (int)shape->via.array.size;
    int64_t dims[LC_MAX_DIMS] = {0};
    for (int d = 0; d < ndim; d++) {
        const msgpack_object *s = &shape->via.array.ptr[d];
        if (s->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            return lc_fail(err, LC_ERR_SHAPE, "tensor '%.*s': negative dim %lld", nlen, nm,
                           (long long)s->via.i64);
        if (s->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return lc_fail(err, LC_ERR_TYPE, "tensor '%.*s': dim %d is %s, expected an integer",
                           nlen, nm, d, lc_mp_type_name(s->type));
        if (s->via.u64 > INT64_MAX)
            return lc_fail(err, LC_ERR_SIZE, "tensor '%.*s': dim %d is %llu", nlen, nm, d,
                           (unsigned long long)s->via.u64);
        dims[d] = (int64_t)s->via.u64;
    }

    if (data->type != MSGPACK_OBJECT_BIN)
        return lc_fail(err, LC_ERR_TYPE, "tensor '%.*s': data is %s, expected binary data", nlen,
                       nm, lc_mp_type_name(data->type));
    size_t have = data->via.bin.size, nbytes = 0;
    char sh[128];
    shape_str(sh, sizeof sh, ndim, dims);
    if (shape_bytes((lc_dtype)dt, ndim, dims, have, &nbytes))
        return lc_fail(err, LC_ERR_SIZE, "tensor '%.*s': shape %s of %s needs more than the %zu "
                       "bytes of data", nlen, nm, sh, dtype_names[dt], have);
    if (nbytes != have)
        return lc_fail(err, LC_ERR_SHAPE, "tensor '%.*s': shape %s of %s is %zu bytes, data has %zu",
                       nlen, nm, sh, dtype_names[dt], nbytes, have);
    void *copy = malloc(nbytes ? nbytes : 1);
    if (!copy) return lc_fail(err, LC_ERR_NOMEM, "tensor '%.*s': out of memory", nlen, nm);
    if (nbytes) memcpy(copy, data->via.bin.ptr, nbytes);
    if (tensor_put(f, nm, (size_t)nlen, (lc_dtype)dt, ndim, dims, nbytes, copy))
        return lc_fail(err, LC_ERR_NOMEM, "tensor '%.*s': out of memory", nlen, nm);
    return LC_OK;
}

static int parse_root(lc_file *f, const msgpack_object *root, lc_error *err) {
    if (root->type != MSGPACK_OBJECT_MAP)
        return lc_fail(err, LC_ERR_TYPE, "the body is %s, expected a map", lc_mp_type_name(root->type));
    const msgpack_object *kind = NULL, *meta = NULL, *tensors = NULL;
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object *k = &root->via.map.ptr[i].key, *v = &root->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR)
            return lc_fail(err, LC_ERR_TYPE, "a key of the body is %s, expected a string",
                           lc_mp_type_name(k->type));
        const msgpack_object **slot = str_is(k, "kind")      ? &kind
                                      : str_is(k, "meta")    ? &meta
                                      : str_is(k, "tensors") ? &tensors
                                                             : NULL;
        if (!slot) continue; // unknown fields are ignored (FORMAT.md)
        if (*slot)
            return lc_fail(err, LC_ERR_FORMAT, "field '%.*s' appears twice", (int)k->via.str.size,
                           k->via.str.ptr);
        *slot = v;
    }
    const char *missing = !kind ? "kind" : !meta ? "meta" : !tensors ? "tensors" : NULL;
    if (missing) return lc_fail(err, LC_ERR_FORMAT, "no '%s' field", missing);

    int rc = want_str(kind, KEY_MAX, "'kind'", err);
    if (rc) return rc;
    char *k = dup_str(kind->via.str.ptr, kind->via.str.size);
    if (!k) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    free(f->kind);
    f->kind = k;

    if ((rc = parse_meta(f, meta, err))) return rc;

    if (tensors->type != MSGPACK_OBJECT_ARRAY)
        return lc_fail(err, LC_ERR_TYPE, "'tensors' is %s, expected an array",
                       lc_mp_type_name(tensors->type));
    for (uint32_t i = 0; i < tensors->via.array.size; i++)
        if ((rc = parse_tensor(f, i, &tensors->via.array.ptr[i], err))) return rc;
    return LC_OK;
}

// Parses a body already checked against its CRC.
static int parse_body(const uint8_t *body, size_t n, lc_file **out, lc_error *err) {
    int rc = lc_mp_scan(body, n, &body_limits, NULL, err);
    if (rc) return rc;

    lc_file *f = lc_file_new("");
    if (!f) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    msgpack_unpack_return ret = msgpack_unpack_next(&up, (const char *)body, n, &off);
    if (ret == MSGPACK_UNPACK_NOMEM_ERROR) rc = lc_fail(err, LC_ERR_NOMEM, "msgpack: out of memory");
    else if (ret != MSGPACK_UNPACK_SUCCESS) rc = lc_fail(err, LC_ERR_FORMAT, "malformed msgpack body");
    else if (off != n) rc = lc_fail(err, LC_ERR_FORMAT, "%zu bytes follow the msgpack body", n - off);
    else rc = parse_root(f, &up.data, err);
    msgpack_unpacked_destroy(&up);
    if (rc) {
        lc_file_free(f);
        return rc;
    }
    *out = f;
    return LC_OK;
}

int lc_file_decode(const void *buf, size_t len, lc_file **out, lc_error *err) {
    *out = NULL;
    const uint8_t *p = buf;
    if (len < sizeof MAGIC) {
        if (len == 0) return lc_fail(err, LC_ERR_TRUNCATED, "empty (no lucid header)");
        if (memcmp(p, MAGIC, len) == 0)
            return lc_fail(err, LC_ERR_TRUNCATED, "truncated: %zu bytes, inside the magic", len);
        return lc_fail(err, LC_ERR_MAGIC, "not a lucid file (bad magic)");
    }
    if (memcmp(p, MAGIC, sizeof MAGIC) != 0)
        return lc_fail(err, LC_ERR_MAGIC, "not a lucid file (bad magic)");
    if (len < 12) return lc_fail(err, LC_ERR_TRUNCATED, "truncated: %zu bytes, inside the header", len);
    uint32_t version = (uint32_t)get_le(p + 8, 4);
    if (version != LC_FILE_VERSION)
        return lc_fail(err, LC_ERR_VERSION, "format version %u, this build reads version %d",
                       version, LC_FILE_VERSION);
    if (len < HEAD_BYTES)
        return lc_fail(err, LC_ERR_TRUNCATED, "truncated: %zu bytes, inside the header", len);
    uint64_t body_len = get_le(p + 12, 8);
    if (body_len > len)
        return lc_fail(err, LC_ERR_SIZE,
                       "the header declares a %llu-byte body but the whole file is %zu bytes "
                       "(truncated or corrupt)", (unsigned long long)body_len, len);
    if (len < HEAD_BYTES + TAIL_BYTES || body_len > len - HEAD_BYTES - TAIL_BYTES)
        return lc_fail(err, LC_ERR_TRUNCATED,
                       "truncated: %zu bytes, the header declares %llu (a %llu-byte body)",
                       len, (unsigned long long)body_len + HEAD_BYTES + TAIL_BYTES,
                       (unsigned long long)body_len);
    size_t n = (size_t)body_len;
    if (len - HEAD_BYTES - TAIL_BYTES != n)
        return lc_fail(err, LC_ERR_FORMAT, "%zu extra bytes after the checksum",
                       len - HEAD_BYTES - TAIL_BYTES - n);
    const uint8_t *body = p + HEAD_BYTES;
    uint32_t want = (uint32_t)get_le(body + n, 4), have = lc_crc32(body, n);
    if (want != have)
        return lc_fail(err, LC_ERR_CHECKSUM, "checksum mismatch (stored %08x, computed %08x)",
                       want, have);
    return parse_body(body, n, out, err);
}

int lc_file_read(const char *path, lc_file **out, lc_error *err) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return lc_fail(err, LC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return lc_fail(err, LC_ERR_IO, "%s: stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return lc_fail(err, LC_ERR_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size, got = 0;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory for %zu bytes", path, size);
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return lc_fail(err, LC_ERR_IO, "%s: read: %s", path, strerror(e));
        }
        if (r == 0) break; // the file shrank: decode what is there
        got += (size_t)r;
    }
    close(fd);
    int rc = lc_file_decode(buf, got, out, err);
    free(buf);
    if (rc && err) lc_error_prefix(err, "%s: ", path);
    return rc;
}

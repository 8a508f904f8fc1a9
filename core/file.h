// core/file.h: the lucid container, one format for checkpoints and datasets.
// magic + version + one msgpack map (kind, meta, tensors as bin) + CRC32; written
// atomically; every read is validated (docs/FORMAT.md). Leaves out: streaming I/O.
#ifndef LC_CORE_FILE_H
#define LC_CORE_FILE_H

#include "core/api.h"

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

LC_API_BEGIN

#define LC_FILE_VERSION 1
#define LC_MAX_DIMS 4
#define LC_NAME_MAX 64

typedef enum lc_dtype { LC_F32 = 0, LC_F64, LC_U8, LC_I32, LC_I64, LC_DTYPE_COUNT } lc_dtype;

size_t lc_dtype_size(lc_dtype t);
const char *lc_dtype_name(lc_dtype t);          // "f32", "f64", "u8", "i32", "i64"

typedef struct lc_tensor {
    char name[LC_NAME_MAX];
    lc_dtype dtype;
    int ndim;                      // 0..LC_MAX_DIMS (0 = scalar, 1 element)
    int64_t shape[LC_MAX_DIMS];
    size_t nbytes;                 // = product(shape) * lc_dtype_size(dtype)
    void *data;                    // owned by the lc_file
} lc_tensor;

typedef struct lc_file lc_file;   // opaque: kind, meta key/values, tensors

lc_file *lc_file_new(const char *kind);          // NULL only on out-of-memory
void lc_file_free(lc_file *f);
const char *lc_file_kind(const lc_file *f);

// Metadata: a flat map of names to integers, doubles or strings (a set replaces
// an earlier value of the same key). Getters return LC_ERR_NOTFOUND / LC_ERR_TYPE.
int lc_file_set_int(lc_file *f, const char *key, int64_t v);
int lc_file_set_float(lc_file *f, const char *key, double v);
int lc_file_set_str(lc_file *f, const char *key, const char *v);
int lc_file_get_int(const lc_file *f, const char *key, int64_t *v, lc_error *err);
int lc_file_get_float(const lc_file *f, const char *key, double *v, lc_error *err); // ints convert
int lc_file_get_str(const lc_file *f, const char *key, const char **v, lc_error *err);
// Metadata in insertion order: the key of entry i (NULL when out of range); read
// the value with the getters (try int, then float, then str).
int lc_file_nmeta(const lc_file *f);
const char *lc_file_meta_key(const lc_file *f, int i);

// Tensors: add copies the data. Names are unique (adding an existing name replaces it).
int lc_file_add(lc_file *f, const char *name, lc_dtype dtype, int ndim, const int64_t *shape,
                const void *data, lc_error *err);
// Returns the tensor or NULL. lc_file_expect also checks dtype and shape
// (shape entries < 0 match anything) and explains a mismatch in err.
const lc_tensor *lc_file_tensor(const lc_file *f, const char *name);
const lc_tensor *lc_file_expect(const lc_file *f, const char *name, lc_dtype dtype, int ndim,
                                const int64_t *shape, lc_error *err);
int lc_file_ntensors(const lc_file *f);
// Loaders refuse what they do not use: lc_file_tensor and lc_file_expect mark the
// tensor they find as claimed; lc_file_check_claimed then fails (LC_ERR_FORMAT, naming
// the tensor and `what`, e.g. "policy") on the first unclaimed tensor whose name starts
// with one of the NULL-terminated prefixes (every tensor when prefixes is NULL).
// A loader nested in another checks its own prefixes; the outermost checks all.
int lc_file_check_claimed(const lc_file *f, const char *what, const char *const *prefixes,
                          lc_error *err);
// Optional meta values: LC_OK leaving *v as it was when key is absent; LC_ERR_TYPE
// when it has another type; LC_ERR_FORMAT outside [lo, hi] (a float also when not
// finite, unless lo is NaN, which admits NaN: a figure that was not measured).
int lc_file_opt_int(const lc_file *f, const char *key, int64_t lo, int64_t hi, int64_t *v,
                    lc_error *err);
int lc_file_opt_float(const lc_file *f, const char *key, double lo, double hi, double *v,
                      lc_error *err);
const lc_tensor *lc_file_tensor_at(const lc_file *f, int i);

// Atomic write: PATH.tmp.PID, fsync, rename, fsync of the directory.
int lc_file_write(const lc_file *f, const char *path, lc_error *err);
// Reads and validates; on failure *out is NULL and err names the file and problem.
int lc_file_read(const char *path, lc_file **out, lc_error *err);
// The same from memory (used by the network layer and tests). Never reads past len.
int lc_file_decode(const void *buf, size_t len, lc_file **out, lc_error *err);
// Encodes to a malloc'd buffer (caller frees).
int lc_file_encode(const lc_file *f, void **buf, size_t *len, lc_error *err);

uint32_t lc_crc32(const void *data, size_t n);

// Test hook: the next lc_file_write (or lc_atomic_commit) fails at `where` with errno
// e, as a full disk (ENOSPC after `after` bytes of LC_FAULT_WRITE) or a read-only
// folder (EROFS at LC_FAULT_CREATE) would; the fault is used once, then cleared.
// LC_FAULT_NONE clears a pending one. Tests run as root, where chmod stops nothing.
typedef enum lc_file_fault {
    LC_FAULT_NONE = 0,
    LC_FAULT_CREATE, // creating the temporary file
    LC_FAULT_WRITE,  // writing it, after `after` bytes have gone through
    LC_FAULT_FSYNC,  // fsync of the temporary file
    LC_FAULT_RENAME, // renaming it over the destination
} lc_file_fault;
void lc_file_inject_fault(lc_file_fault where, int e, size_t after);

// Atomic replacement for other writers (PNG, GIF): write the file named by
// lc_atomic_tmp ("PATH.tmp.PID"), close it, then lc_atomic_commit fsyncs it,
// renames it over path and fsyncs the directory (removing it on failure);
// lc_atomic_abort removes it. Errors are LC_ERR_IO with strerror (ARG: too long).
int lc_atomic_tmp(char *tmp, size_t cap, const char *path, lc_error *err);
int lc_atomic_commit(const char *tmp, const char *path, lc_error *err);
void lc_atomic_abort(const char *tmp);

LC_API_END

#endif

// nn/params.c: the parameter arena (a table of named tensors carving one block
// each of params, grads and Adam moments), initialisers, and checkpoints of an arena.
// Leaves out: optimizers (nn/optim.c), sharing tensors between arenas.
//
// rows, cols = the matrix shape being initialised; n = values.
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"

// ---------------------------------------------------------------- arena

void lc_params_init(lc_params *p) { memset(p, 0, sizeof *p); }

int lc_params_add(lc_params *p, const char *name, int ndim, const int *shape) {
    assert(p->ntensors < LC_MAX_TENSORS && "too many tensors in one lc_params");
    assert(!p->params && "lc_params_add after lc_params_alloc");
    assert(ndim >= 0 && ndim <= LC_MAX_DIMS);
    assert(strlen(name) < LC_NAME_MAX);
    assert(lc_params_find(p, name) < 0 && "duplicate tensor name");
    lc_param_tensor *t = &p->t[p->ntensors];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    size_t size = 1;
    for (int i = 0; i < ndim; i++) {
        assert(shape[i] >= 0);
        t->shape[i] = shape[i];
        size *= (size_t)shape[i];
    }
    t->offset = p->n;
    t->size = size;
    p->n += size;
    return p->ntensors++;
}

int lc_params_alloc(lc_params *p, lc_error *err) {
    assert(!p->params && "lc_params_alloc called twice");
    size_t n = p->n ? p->n : 1;
    p->params = calloc(n, sizeof(float));
    p->grads = calloc(n, sizeof(float));
    p->m = calloc(n, sizeof(float));
    p->v = calloc(n, sizeof(float));
    p->step = 0;
    if (!p->params || !p->grads || !p->m || !p->v) {
        lc_params_free(p);
        return lc_fail(err, LC_ERR_NOMEM, "out of memory for %zu parameters", p->n);
    }
    return LC_OK;
}

void lc_params_free(lc_params *p) {
    free(p->params);
    free(p->grads);
    free(p->m);
    free(p->v);
    p->params = p->grads = p->m = p->v = NULL;
}

float *lc_param(const lc_params *p, int index) {
    assert(index >= 0 && index < p->ntensors && p->params);
    return p->params + p->t[index].offset;
}

float *lc_grad(const lc_params *p, int index) {
    assert(index >= 0 && index < p->ntensors && p->grads);
    return p->grads + p->t[index].offset;
}

int lc_params_find(const lc_params *p, const char *name) {
    for (int i = 0; i < p->ntensors; i++)
        if (strcmp(p->t[i].name, name) == 0) return i;
    return -1;
}

void lc_params_zero_grad(lc_params *p) {
    if (p->grads) memset(p->grads, 0, p->n * sizeof(float));
}

void lc_params_copy(lc_params *dst, const lc_params *src) {
    assert(dst->n == src->n && dst->ntensors == src->ntensors && dst->params && src->params);
    if (src->n) memcpy(dst->params, src->params, src->n * sizeof(float));
}

// ---------------------------------------------------------------- init

// Orthonormalises nvec vectors of length len in place (vector i, element j at
// w[i si + j sj]) by modified Gram-Schmidt done twice, with double sums.
// A vector that collapses (probability ~0) is redrawn.
static void gram_schmidt(float *w, size_t nvec, size_t len, size_t si, size_t sj, lc_rng *rng) {
    for (size_t i = 0; i < nvec; i++) {
        float *vi = w + i * si;
        for (int attempt = 0;; attempt++) {
            for (int pass = 0; pass < 2; pass++) {
                for (size_t k = 0; k < i; k++) {
                    const float *vk = w + k * si;
                    double dot = 0.0;
                    for (size_t j = 0; j < len; j++) dot += (double)vi[j * sj] * vk[j * sj];
                    for (size_t j = 0; j < len; j++) vi[j * sj] -= (float)(dot * vk[j * sj]);
                }
            }
            double nrm = 0.0;
            for (size_t j = 0; j < len; j++) nrm += (double)vi[j * sj] * vi[j * sj];
            nrm = sqrt(nrm);
            if (nrm > 1e-4 || attempt >= 8) {
                float inv = nrm > 0.0 ? (float)(1.0 / nrm) : 0.0f;
                for (size_t j = 0; j < len; j++) vi[j * sj] *= inv;
                break;
            }
            for (size_t j = 0; j < len; j++) vi[j * sj] = (float)lc_rng_normal(rng);
        }
    }
}

// As torch.nn.init.orthogonal_: the QR factor of a Gaussian matrix with the
// signs fixed so R has a positive diagonal (what Gram-Schmidt yields), so rows are
// orthonormal when rows <= cols and columns when rows >= cols; then times gain.
void lc_init_orthogonal(float *w, int rows, int cols, float gain, lc_rng *rng) {
    assert(rows >= 0 && cols >= 0);
    size_t R = (size_t)rows, C = (size_t)cols, n = R * C;
    for (size_t i = 0; i < n; i++) w[i] = (float)lc_rng_normal(rng);
    if (R <= C) {
        gram_schmidt(w, R, C, C, 1, rng); // rows, contiguous
    } else {
        // Columns: orthonormalise the transpose (contiguous rows), copy back.
        float *t = malloc(n * sizeof(float));
        if (t) {
            for (size_t i = 0; i < R; i++)
                for (size_t j = 0; j < C; j++) t[j * R + i] = w[i * C + j];
            gram_schmidt(t, C, R, R, 1, rng);
            for (size_t i = 0; i < R; i++)
                for (size_t j = 0; j < C; j++) w[i * C + j] = t[j * R + i];
            free(t);
        } else {
            gram_schmidt(w, C, R, 1, C, rng); // strided, in place
        }
    }
    for (size_t i = 0; i < n; i++) w[i] *= gain;
}

void lc_init_uniform(float *w, size_t n, float lo, float hi, lc_rng *rng) {
    for (size_t i = 0; i < n; i++) w[i] = (float)lc_rng_uniform(rng, lo, hi);
}

void lc_init_normal(float *w, size_t n, float std, lc_rng *rng) {
    for (size_t i = 0; i < n; i++) w[i] = (float)(std * lc_rng_normal(rng));
}

// torch.nn.init.xavier_uniform_ (gain 1): U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
void lc_init_xavier_uniform(float *w, int fan_in, int fan_out, size_t n, lc_rng *rng) {
    assert(fan_in + fan_out > 0);
    float a = sqrtf(6.0f / (float)(fan_in + fan_out));
    lc_init_uniform(w, n, -a, a, rng);
}

// torch.nn.init.kaiming_uniform_ with its defaults (a = 0, relu gain sqrt 2):
// U(-a, a), a = sqrt(6 / fan_in).
void lc_init_kaiming_uniform(float *w, int fan_in, size_t n, lc_rng *rng) {
    assert(fan_in > 0);
    float a = sqrtf(6.0f / (float)fan_in);
    lc_init_uniform(w, n, -a, a, rng);
}

// ---------------------------------------------------------------- checkpoints

static int full_name(char *out, const char *prefix, const char *name, const char *suffix,
                     lc_error *err) {
    int k = prefix && *prefix ? snprintf(out, LC_NAME_MAX, "%s.%s%s", prefix, name, suffix)
                              : snprintf(out, LC_NAME_MAX, "%s%s", name, suffix);
    if (k < 0 || k >= LC_NAME_MAX)
        return lc_fail(err, LC_ERR_ARG, "tensor name too long: %s.%s%s", prefix ? prefix : "",
                       name, suffix);
    return LC_OK;
}

int lc_params_to_file(const lc_params *p, lc_file *f, const char *prefix, int with_opt,
                   lc_error *err) {
    assert(p->params);
    static const char *suffix[3] = {"", ".m", ".v"};
    const float *base[3] = {p->params, p->m, p->v};
    char name[LC_NAME_MAX];
    int rc;
    for (int i = 0; i < p->ntensors; i++) {
        const lc_param_tensor *t = &p->t[i];
        int64_t shape[LC_MAX_DIMS];
        for (int d = 0; d < t->ndim; d++) shape[d] = t->shape[d];
        for (int k = 0; k < (with_opt ? 3 : 1); k++) {
            if ((rc = full_name(name, prefix, t->name, suffix[k], err))) return rc;
            if ((rc = lc_file_add(f, name, LC_F32, t->ndim, shape, base[k] + t->offset, err)))
                return rc;
        }
    }
    if (with_opt) {
        if ((rc = full_name(name, prefix, "step", "", err))) return rc;
        if ((rc = lc_file_set_int(f, name, p->step)))
            return lc_fail(err, rc, "cannot store %s: %s", name, lc_status_str(rc));
    }
    return LC_OK;
}

// Checks every tensor first, so a failed load leaves p untouched.
int lc_params_from_file(lc_params *p, const lc_file *f, const char *prefix, int with_opt,
                   lc_error *err) {
    assert(p->params);
    static const char *suffix[3] = {"", ".m", ".v"};
    float *base[3] = {p->params, p->m, p->v};
    char name[LC_NAME_MAX];
    int rc, nk = with_opt ? 3 : 1;
    int64_t step = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < p->ntensors; i++) {
            const lc_param_tensor *t = &p->t[i];
            int64_t shape[LC_MAX_DIMS];
            for (int d = 0; d < t->ndim; d++) shape[d] = t->shape[d];
            for (int k = 0; k < nk; k++) {
                if ((rc = full_name(name, prefix, t->name, suffix[k], err))) return rc;
                const lc_tensor *ft = lc_file_expect(f, name, LC_F32, t->ndim, shape, err);
                if (!ft) return err ? err->code : LC_ERR_NOTFOUND;
                if (ft->nbytes != t->size * sizeof(float))
                    return lc_fail(err, LC_ERR_SHAPE, "tensor %s: %zu bytes, expected %zu", name,
                                   ft->nbytes, t->size * sizeof(float));
                if (pass == 1 && t->size) memcpy(base[k] + t->offset, ft->data, ft->nbytes);
            }
        }
        if (with_opt && pass == 0) {
            if ((rc = full_name(name, prefix, "step", "", err))) return rc;
            if ((rc = lc_file_get_int(f, name, &step, err))) return rc;
            if (step < 0) return lc_fail(err, LC_ERR_FORMAT, "%s is negative: %lld", name,
                                         (long long)step);
        }
    }
    if (with_opt) p->step = step;
    return LC_OK;
}

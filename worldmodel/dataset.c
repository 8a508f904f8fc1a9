// worldmodel/dataset.c: trajectory datasets: building, merging, validation, container I/O
// and recording from a vector env. Rows are grouped by trajectory (see dataset.h).
// Leaves out: frame datasets, streaming larger-than-memory data.
//
// Letters: N = rows, O = obs_size, A = act_size, K = envs, T = steps per env.
#include "worldmodel/dataset.h"
#include "core/settings.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------- spaces

static int same_space(const lc_space *a, const lc_space *b) {
    if (a->kind != b->kind || a->dtype != b->dtype || a->ndim != b->ndim) return 0;
    for (int d = 0; d < a->ndim && d < 3; d++)
        if (a->shape[d] != b->shape[d]) return 0;
    if (a->kind == LC_SPACE_DISCRETE) return a->n == b->n;
    if (a->kind == LC_SPACE_MULTI_DISCRETE) {
        for (int d = 0; d < a->shape[0] && d < LC_MAX_NVEC; d++)
            if (a->nvec[d] != b->nvec[d]) return 0;
        return 1;
    }
    int n = lc_space_size(a);
    for (int i = 0; i < n; i++) {
        float la = lc_space_low(a, i), lb = lc_space_low(b, i);
        float ha = lc_space_high(a, i), hb = lc_space_high(b, i);
        if (!(la == lb || (isnan(la) && isnan(lb)))) return 0;
        if (!(ha == hb || (isnan(ha) && isnan(hb)))) return 0;
    }
    return 1;
}

void lc_dataset_random_action(const lc_space *s, lc_rng *rng, void *action_row) {
    if (s->kind == LC_SPACE_DISCRETE) {
        ((int32_t *)action_row)[0] = (int32_t)lc_rng_below(rng, (uint32_t)s->n);
    } else if (s->kind == LC_SPACE_MULTI_DISCRETE) {
        for (int i = 0; i < s->shape[0]; i++)
            ((int32_t *)action_row)[i] = (int32_t)lc_rng_below(rng, (uint32_t)s->nvec[i]);
    } else {
        int n = lc_space_size(s);
        float *a = action_row;
        for (int i = 0; i < n; i++) {
            float lo = lc_space_low(s, i), hi = lc_space_high(s, i);
            if (isfinite(lo) && isfinite(hi)) a[i] = (float)lc_rng_uniform(rng, lo, hi);
            else a[i] = (float)lc_rng_normal(rng);
        }
    }
}

// ---------------------------------------------------------------- building

int lc_dataset_init(lc_dataset *ds, const char *env_name, const lc_space *obs_space,
                    const lc_space *act_space, int max_episode_steps, lc_error *err) {
    memset(ds, 0, sizeof *ds);
    if (!env_name || strlen(env_name) >= sizeof ds->env_name)
        return lc_fail(err, LC_ERR_ARG, "dataset: env name missing or longer than %zu bytes",
                       sizeof ds->env_name - 1);
    if (obs_space->kind != LC_SPACE_BOX || obs_space->dtype != LC_F32)
        return lc_fail(err, LC_ERR_UNSUPPORTED,
                       "dataset: %s has no float Box observations (pixel frames belong to "
                       "frame datasets)", env_name);
    if (max_episode_steps < 0)
        return lc_fail(err, LC_ERR_ARG, "dataset: negative time limit %d", max_episode_steps);
    snprintf(ds->env_name, sizeof ds->env_name, "%s", env_name);
    ds->obs_space = *obs_space;
    ds->act_space = *act_space;
    ds->obs_size = lc_space_size(obs_space);
    ds->act_size = lc_space_size(act_space);
    ds->max_episode_steps = max_episode_steps;
    if (ds->obs_size < 1 || ds->act_size < 1)
        return lc_fail(err, LC_ERR_SHAPE, "dataset: empty observation or action space");
    return LC_OK;
}

int lc_dataset_init_for_env(lc_dataset *ds, const lc_env *env, lc_error *err) {
    const lc_env_spec *sp = lc_env_get_spec(env);
    return lc_dataset_init(ds, sp->name, &sp->obs_space, &sp->act_space, sp->max_episode_steps,
                           err);
}

void lc_dataset_free(lc_dataset *ds) {
    if (!ds) return;
    free(ds->obs);
    free(ds->actions);
    free(ds->rewards);
    free(ds->terminated);
    free(ds->truncated);
    free(ds->next_obs);
    free(ds->starts);
    ds->obs = ds->next_obs = ds->rewards = NULL;
    ds->actions = NULL;
    ds->terminated = ds->truncated = ds->starts = NULL;
    ds->n = ds->cap = 0;
}

static int grow(void **p, size_t bytes) {
    void *q = realloc(*p, bytes ? bytes : 1);
    if (!q) return -1;
    *p = q;
    return 0;
}

int lc_dataset_reserve(lc_dataset *ds, size_t cap, lc_error *err) {
    if (cap <= ds->cap) return LC_OK;
    size_t O = (size_t)ds->obs_size, A = (size_t)ds->act_size;
    if (cap > ((size_t)1 << 40) / (O + A + 4))
        return lc_fail(err, LC_ERR_SIZE, "dataset: %zu rows is too many", cap);
    if (grow((void **)&ds->obs, cap * O * sizeof(float)) ||
        grow(&ds->actions, cap * A * 4) || grow((void **)&ds->rewards, cap * sizeof(float)) ||
        grow((void **)&ds->terminated, cap) || grow((void **)&ds->truncated, cap) ||
        grow((void **)&ds->next_obs, cap * O * sizeof(float)) || grow((void **)&ds->starts, cap))
        return lc_fail(err, LC_ERR_NOMEM, "dataset: out of memory for %zu rows", cap);
    ds->cap = cap;
    return LC_OK;
}

static int ensure(lc_dataset *ds, size_t extra, lc_error *err) {
    size_t need = ds->n + extra;
    if (need <= ds->cap) return LC_OK;
    size_t cap = ds->cap ? ds->cap : 1024;
    while (cap < need) cap *= 2;
    return lc_dataset_reserve(ds, cap, err);
}

// Appends a time-major recording, env k keeping its first lens[k] steps (lens NULL: T).
static int add_run_lens(lc_dataset *ds, int T, int K, const int *lens, const float *obs,
                        const void *actions, const float *rewards, const uint8_t *terminated,
                        const uint8_t *truncated, const float *next_obs, const uint8_t *starts,
                        lc_error *err) {
    if (T < 1 || K < 1) return lc_fail(err, LC_ERR_ARG, "dataset: empty recording (T %d, K %d)", T, K);
    size_t total = 0;
    for (int k = 0; k < K; k++) total += (size_t)(lens ? lens[k] : T);
    int rc = ensure(ds, total, err);
    if (rc) return rc;
    size_t O = (size_t)ds->obs_size, A = (size_t)ds->act_size, r = ds->n;
    for (int k = 0; k < K; k++) {
        int len = lens ? lens[k] : T;
        for (int t = 0; t < len; t++, r++) {
            size_t s = (size_t)t * (size_t)K + (size_t)k;
            memcpy(ds->obs + r * O, obs + s * O, O * sizeof(float));
            memcpy((char *)ds->actions + r * A * 4, (const char *)actions + s * A * 4, A * 4);
            ds->rewards[r] = rewards[s];
            ds->terminated[r] = terminated[s] ? 1 : 0;
            ds->truncated[r] = truncated[s] ? 1 : 0;
            memcpy(ds->next_obs + r * O, next_obs + s * O, O * sizeof(float));
            if (starts) {
                ds->starts[r] = starts[s] ? 1 : 0;
            } else {
                size_t p = s - (size_t)K;
                ds->starts[r] = (t == 0 || terminated[p] || truncated[p]) ? 1 : 0;
            }
        }
    }
    // A recording always begins a trajectory in the dataset's order.
    size_t r0 = ds->n;
    for (int k = 0; k < K; k++) {
        int len = lens ? lens[k] : T;
        if (len > 0) ds->starts[r0] = 1;
        r0 += (size_t)len;
    }
    ds->n = r;
    return LC_OK;
}

int lc_dataset_add_run(lc_dataset *ds, int T, int K, const float *obs, const void *actions,
                       const float *rewards, const uint8_t *terminated, const uint8_t *truncated,
                       const float *next_obs, const uint8_t *starts, lc_error *err) {
    return add_run_lens(ds, T, K, NULL, obs, actions, rewards, terminated, truncated, next_obs,
                        starts, err);
}

static int compatible(const lc_dataset *a, const lc_dataset *b, lc_error *err) {
    if (strcmp(a->env_name, b->env_name) != 0)
        return lc_fail(err, LC_ERR_SHAPE, "datasets are from different envs (%s, %s)",
                       a->env_name, b->env_name);
    if (!same_space(&a->obs_space, &b->obs_space) || !same_space(&a->act_space, &b->act_space)) {
        char s1[128], s2[128];
        lc_space_describe(&a->obs_space, s1, sizeof s1);
        lc_space_describe(&b->obs_space, s2, sizeof s2);
        return lc_fail(err, LC_ERR_SHAPE, "datasets of %s have different spaces (obs %s vs %s)",
                       a->env_name, s1, s2);
    }
    return LC_OK;
}

int lc_dataset_merge(lc_dataset *dst, const lc_dataset *src, lc_error *err) {
    int rc = compatible(dst, src, err);
    if (rc) return rc;
    if (src->n == 0) return LC_OK;
    if ((rc = ensure(dst, src->n, err))) return rc;
    size_t O = (size_t)dst->obs_size, A = (size_t)dst->act_size, r = dst->n, n = src->n;
    memcpy(dst->obs + r * O, src->obs, n * O * sizeof(float));
    memcpy((char *)dst->actions + r * A * 4, src->actions, n * A * 4);
    memcpy(dst->rewards + r, src->rewards, n * sizeof(float));
    memcpy(dst->terminated + r, src->terminated, n);
    memcpy(dst->truncated + r, src->truncated, n);
    memcpy(dst->next_obs + r * O, src->next_obs, n * O * sizeof(float));
    memcpy(dst->starts + r, src->starts, n);
    dst->starts[r] = 1;
    dst->n += n;
    if (src->max_episode_steps > dst->max_episode_steps) dst->max_episode_steps = src->max_episode_steps;
    return LC_OK;
}

// ---------------------------------------------------------------- queries

static int all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

size_t lc_dataset_episodes(const lc_dataset *ds) {
    size_t c = 0;
    for (size_t r = 0; r < ds->n; r++) c += ds->starts[r] ? 1 : 0;
    return c;
}

int lc_dataset_continues(const lc_dataset *ds, size_t r) {
    return r + 1 < ds->n && !ds->terminated[r] && !ds->truncated[r] && !ds->starts[r + 1];
}

int lc_dataset_validate(const lc_dataset *ds, lc_error *err) {
    size_t O = (size_t)ds->obs_size, A = (size_t)ds->act_size;
    if (ds->n > 0 && !ds->starts[0])
        return lc_fail(err, LC_ERR_FORMAT, "dataset: row 0 does not start an episode");
    for (size_t r = 0; r < ds->n; r++) {
        if (ds->terminated[r] > 1 || ds->truncated[r] > 1 || ds->starts[r] > 1)
            return lc_fail(err, LC_ERR_FORMAT, "dataset: row %zu has a flag that is not 0 or 1", r);
        if (ds->terminated[r] && ds->truncated[r])
            return lc_fail(err, LC_ERR_FORMAT, "dataset: row %zu is both terminated and truncated", r);
        if (!isfinite(ds->rewards[r]))
            return lc_fail(err, LC_ERR_NAN, "dataset: row %zu has a non-finite reward", r);
        if (!all_finite(ds->obs + r * O, O) || !all_finite(ds->next_obs + r * O, O))
            return lc_fail(err, LC_ERR_NAN, "dataset: row %zu has a non-finite observation", r);
        const void *a = (const char *)ds->actions + r * A * 4;
        if (ds->act_space.kind == LC_SPACE_DISCRETE) {
            int32_t v = ((const int32_t *)a)[0];
            if (v < 0 || v >= ds->act_space.n)
                return lc_fail(err, LC_ERR_ACTION, "dataset: row %zu has action %d outside [0, %d)",
                               r, (int)v, ds->act_space.n);
        } else if (ds->act_space.kind == LC_SPACE_MULTI_DISCRETE) {
            for (size_t i = 0; i < A; i++) {
                int32_t v = ((const int32_t *)a)[i];
                if (v < 0 || v >= ds->act_space.nvec[i])
                    return lc_fail(err, LC_ERR_ACTION, "dataset: row %zu has action %d outside "
                                   "[0, %d) in component %zu", r, (int)v, ds->act_space.nvec[i], i);
            }
        } else if (!all_finite(a, A)) {
            return lc_fail(err, LC_ERR_NAN, "dataset: row %zu has a non-finite action", r);
        }
        if (lc_dataset_continues(ds, r) &&
            memcmp(ds->obs + (r + 1) * O, ds->next_obs + r * O, O * sizeof(float)) != 0)
            return lc_fail(err, LC_ERR_FORMAT, "dataset: row %zu continues row %zu but its "
                           "observation differs from the next observation there", r + 1, r);
    }
    return LC_OK;
}

// ---------------------------------------------------------------- container I/O

int lc_dataset_to_file(const lc_dataset *ds, lc_file *f, lc_error *err) {
    if (ds->n == 0) return lc_fail(err, LC_ERR_ARG, "dataset: nothing to write (no rows)");
    int64_t n = (int64_t)ds->n, O = ds->obs_size, A = ds->act_size;
    int rc;
    if ((rc = lc_file_set_str(f, "env", ds->env_name)) || (rc = lc_file_set_int(f, "dataset_version", LC_DATASET_VERSION)) ||
        (rc = lc_file_set_int(f, "n", n)) || (rc = lc_file_set_int(f, "obs_size", O)) ||
        (rc = lc_file_set_int(f, "act_size", A)) ||
        (rc = lc_file_set_int(f, "max_episode_steps", ds->max_episode_steps)) ||
        (rc = lc_file_set_int(f, "episodes", (int64_t)lc_dataset_episodes(ds))))
        return lc_fail(err, rc, "dataset: cannot set metadata");
    if ((rc = lc_space_to_file(&ds->obs_space, f, "obs_space", err)) ||
        (rc = lc_space_to_file(&ds->act_space, f, "act_space", err)))
        return rc;
    lc_dtype adt = ds->act_space.kind == LC_SPACE_BOX ? LC_F32 : LC_I32;
    int64_t sho[2] = {n, O}, sha[2] = {n, A}, sh1[1] = {n};
    if ((rc = lc_file_add(f, "obs", LC_F32, 2, sho, ds->obs, err)) ||
        (rc = lc_file_add(f, "actions", adt, 2, sha, ds->actions, err)) ||
        (rc = lc_file_add(f, "rewards", LC_F32, 1, sh1, ds->rewards, err)) ||
        (rc = lc_file_add(f, "terminated", LC_U8, 1, sh1, ds->terminated, err)) ||
        (rc = lc_file_add(f, "truncated", LC_U8, 1, sh1, ds->truncated, err)) ||
        (rc = lc_file_add(f, "next_obs", LC_F32, 2, sho, ds->next_obs, err)) ||
        (rc = lc_file_add(f, "starts", LC_U8, 1, sh1, ds->starts, err)))
        return rc;
    return LC_OK;
}

int lc_dataset_save(const lc_dataset *ds, const char *path, lc_error *err) {
    lc_file *f = lc_file_new("dataset");
    if (!f) return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", path);
    int rc = lc_dataset_to_file(ds, f, err);
    if (!rc) rc = lc_file_write(f, path, err);
    lc_file_free(f);
    return rc;
}

static int from_file(lc_dataset *ds, const lc_file *f, lc_error *err) {
    if (strcmp(lc_file_kind(f), "dataset") != 0)
        return lc_fail(err, LC_ERR_FORMAT, "not a dataset (the file holds a \"%s\")", lc_file_kind(f));
    const char *env = NULL;
    int64_t ver, n, O, A, mes, eps;
    lc_space os, as;
    int rc;
    if ((rc = lc_file_get_str(f, "env", &env, err))) return rc;
    if ((rc = lc_file_get_int(f, "dataset_version", &ver, err))) return rc;
    if (ver != LC_DATASET_VERSION)
        return lc_fail(err, LC_ERR_VERSION, "dataset version %lld is not supported (this build reads %d)",
                       (long long)ver, LC_DATASET_VERSION);
    if ((rc = lc_file_get_int_in(f, "n", 1, (int64_t)1 << 36, &n, err)) ||
        (rc = lc_file_get_int_in(f, "obs_size", 1, 1 << 24, &O, err)) ||
        (rc = lc_file_get_int_in(f, "act_size", 1, 1 << 16, &A, err)) ||
        (rc = lc_file_get_int_in(f, "max_episode_steps", 0, INT32_MAX, &mes, err)) ||
        (rc = lc_file_get_int_in(f, "episodes", 1, n, &eps, err)))
        return rc;
    if ((rc = lc_space_from_file(&os, f, "obs_space", err)) || (rc = lc_space_from_file(&as, f, "act_space", err)))
        return rc;
    if ((rc = lc_dataset_init(ds, env, &os, &as, (int)mes, err))) return rc;
    if (ds->obs_size != O || ds->act_size != A)
        return lc_fail(err, LC_ERR_SHAPE, "dataset: obs_size %lld / act_size %lld disagree with "
                       "the spaces (%d, %d)", (long long)O, (long long)A, ds->obs_size, ds->act_size);
    lc_dtype adt = as.kind == LC_SPACE_BOX ? LC_F32 : LC_I32;
    int64_t sho[2] = {n, O}, sha[2] = {n, A}, sh1[1] = {n};
    const lc_tensor *t_obs, *t_act, *t_rew, *t_term, *t_trunc, *t_next, *t_start;
    if (!(t_obs = lc_file_expect(f, "obs", LC_F32, 2, sho, err)) ||
        !(t_act = lc_file_expect(f, "actions", adt, 2, sha, err)) ||
        !(t_rew = lc_file_expect(f, "rewards", LC_F32, 1, sh1, err)) ||
        !(t_term = lc_file_expect(f, "terminated", LC_U8, 1, sh1, err)) ||
        !(t_trunc = lc_file_expect(f, "truncated", LC_U8, 1, sh1, err)) ||
        !(t_next = lc_file_expect(f, "next_obs", LC_F32, 2, sho, err)) ||
        !(t_start = lc_file_expect(f, "starts", LC_U8, 1, sh1, err)))
        return err ? (int)err->code : LC_ERR_FORMAT;
    if ((rc = lc_dataset_reserve(ds, (size_t)n, err))) return rc;
    size_t N = (size_t)n;
    memcpy(ds->obs, t_obs->data, N * (size_t)O * sizeof(float));
    memcpy(ds->actions, t_act->data, N * (size_t)A * 4);
    memcpy(ds->rewards, t_rew->data, N * sizeof(float));
    memcpy(ds->terminated, t_term->data, N);
    memcpy(ds->truncated, t_trunc->data, N);
    memcpy(ds->next_obs, t_next->data, N * (size_t)O * sizeof(float));
    memcpy(ds->starts, t_start->data, N);
    ds->n = N;
    if ((rc = lc_dataset_validate(ds, err))) return rc;
    if (lc_dataset_episodes(ds) != (size_t)eps)
        return lc_fail(err, LC_ERR_FORMAT, "dataset: meta says %lld episodes but %zu rows start one",
                       (long long)eps, lc_dataset_episodes(ds));
    return lc_file_check_claimed(f, "dataset", NULL, err);
}

int lc_dataset_from_file(lc_dataset *ds, const lc_file *f, lc_error *err) {
    memset(ds, 0, sizeof *ds);
    int rc = from_file(ds, f, err);
    if (rc) lc_dataset_free(ds);
    return rc;
}

int lc_dataset_load(lc_dataset *ds, const char *path, lc_error *err) {
    memset(ds, 0, sizeof *ds);
    lc_file *f = NULL;
    int rc = lc_file_read(path, &f, err);
    if (rc) return rc;
    rc = lc_dataset_from_file(ds, f, err);
    lc_file_free(f);
    if (rc && err && strncmp(err->msg, path, strlen(path)) != 0) lc_error_prefix(err, "%s: ", path);
    return rc;
}

// ---------------------------------------------------------------- recording

static void clip_box(const lc_space *s, float *a, int n) {
    for (int i = 0; i < n; i++) {
        float lo = lc_space_low(s, i), hi = lc_space_high(s, i);
        if (a[i] < lo) a[i] = lo;
        if (a[i] > hi) a[i] = hi;
    }
}

int lc_dataset_collect(lc_dataset *ds, lc_env *env, int64_t steps, lc_act_fn fn, void *ctx,
                       uint64_t seed, double *ep_return_sum, int64_t *ep_count, lc_error *err) {
    const lc_env_spec *sp = lc_env_get_spec(env);
    const lc_env_buf *buf = lc_env_get_buf(env);
    if (sp->obs_space.kind != LC_SPACE_BOX || sp->obs_space.dtype != LC_F32)
        return lc_fail(err, LC_ERR_UNSUPPORTED, "collect: %s has no float Box observations", sp->name);
    if (sp->obs_size != ds->obs_size || sp->act_size != ds->act_size ||
        !same_space(&sp->obs_space, &ds->obs_space) || !same_space(&sp->act_space, &ds->act_space))
        return lc_fail(err, LC_ERR_SHAPE, "collect: %s's spaces differ from the dataset's (%s)",
                       sp->name, ds->env_name);
    int K = sp->num_envs;
    if (steps < 1) return lc_fail(err, LC_ERR_ARG, "collect: steps must be >= 1");
    int64_t T64 = (steps + K - 1) / K;
    if (T64 > INT32_MAX / 2) return lc_fail(err, LC_ERR_SIZE, "collect: %lld steps is too many", (long long)steps);
    int T = (int)T64;
    size_t O = (size_t)ds->obs_size, A = (size_t)ds->act_size, rows = (size_t)T * (size_t)K;
    float *obs = malloc(rows * O * sizeof(float)), *next = malloc(rows * O * sizeof(float));
    float *rew = malloc(rows * sizeof(float));
    void *act = malloc(rows * A * 4);
    uint8_t *term = malloc(rows), *trunc = malloc(rows);
    int *lens = malloc((size_t)K * sizeof(int));
    uint8_t *st = malloc((size_t)K);
    int rc = LC_OK;
    if (!obs || !next || !rew || !act || !term || !trunc || !lens || !st) {
        rc = lc_fail(err, LC_ERR_NOMEM, "collect: out of memory for %zu rows", rows);
        goto done;
    }
    int64_t rem = steps - (int64_t)(T - 1) * K; // envs [0, rem) record T steps, the rest T - 1
    for (int k = 0; k < K; k++) lens[k] = k < rem ? T : T - 1;
    lc_rng rng;
    lc_rng_seed(&rng, seed, 0x61c7u);
    if ((rc = lc_env_reset(env, seed, err))) goto done;
    memset(st, 1, (size_t)K);
    for (int t = 0; t < T; t++) {
        float *o = obs + (size_t)t * K * O;
        void *a = (char *)act + (size_t)t * K * A * 4;
        memcpy(o, buf->obs, (size_t)K * O * sizeof(float));
        if (fn) {
            if ((rc = fn(ctx, o, st, K, a, err))) goto done;
        } else {
            for (int k = 0; k < K; k++)
                lc_dataset_random_action(&sp->act_space, &rng, (char *)a + (size_t)k * A * 4);
        }
        if (sp->act_space.kind == LC_SPACE_BOX)
            for (int k = 0; k < K; k++) clip_box(&sp->act_space, (float *)a + (size_t)k * A, (int)A);
        if ((rc = lc_env_step(env, a, err))) goto done;
        size_t base = (size_t)t * K;
        for (int k = 0; k < K; k++) {
            size_t r = base + (size_t)k;
            rew[r] = buf->rewards[k];
            term[r] = buf->terminated[k] ? 1 : 0;
            trunc[r] = (buf->truncated[k] && !buf->terminated[k]) ? 1 : 0;
            const float *src = buf->done[k] ? (const float *)buf->final_obs + (size_t)k * O
                                            : (const float *)buf->obs + (size_t)k * O;
            memcpy(next + r * O, src, O * sizeof(float));
            st[k] = buf->done[k] ? 1 : 0;
            if (buf->done[k] && t < lens[k]) {
                if (ep_return_sum) *ep_return_sum += buf->ep_return[k];
                if (ep_count) (*ep_count)++;
            }
        }
    }
    rc = add_run_lens(ds, T, K, lens, obs, act, rew, term, trunc, next, NULL, err);
done:
    free(obs);
    free(next);
    free(rew);
    free(act);
    free(term);
    free(trunc);
    free(lens);
    free(st);
    return rc;
}

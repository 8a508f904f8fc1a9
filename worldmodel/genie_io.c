// worldmodel/genie_io.c: the pixel design's checkpoint (kind "genie"): save, validated load,
// kind test. Leaves out: optimizer state (training does not resume).
//
// S = start contexts, P = model frame floats, K = codes, NR = reward classes.
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worldmodel/genie_impl.h"
#include "core/settings.h"


#define CFG_INTS(X) X(res) X(n_codes) X(code_dim) X(enc_ch) X(lam_hidden) X(dyn_hidden) \
    X(batch) X(lam_steps) X(dyn_steps) X(restart_window) X(horizon) X(max_starts)
#define CFG_FLOATS(X) X(beta) X(lr) X(holdout)
// Keys added later are optional on load (older files: the behaviour they were made with).

int lc_genie_meta_int(const lc_file *f, const char *key, int64_t lo, int64_t hi, int64_t *v,
                      lc_error *err) {
    int rc = lc_file_get_int(f, key, v, err);
    if (rc) return rc;
    if (*v < lo || *v > hi)
        return lc_fail(err, LC_ERR_SIZE, "%s = %lld is out of range", key, (long long)*v);
    return LC_OK;
}

int lc_genie_save_game(const lc_genie *g, lc_file *f, lc_error *err) {
    lc_file_set_str(f, "env", g->env_name);
    lc_file_set_int(f, "channels", g->C);
    lc_file_set_int(f, "game_h", g->game_h);
    lc_file_set_int(f, "game_w", g->game_w);
    lc_file_set_int(f, "game_c", g->game_c);
    lc_file_set_int(f, "n_real_actions", g->n_real_actions);
    int64_t rs[1] = {g->n_rvals};
    int rc = lc_file_add(f, "reward_values", LC_F32, 1, rs, g->rvals, err);
    int32_t alias[256];
    for (int k = 0; k < g->cfg.n_codes; k++) alias[k] = g->code_alias[k];
    int64_t as[1] = {g->cfg.n_codes};
    if (!rc) rc = lc_file_add(f, "code_alias", LC_I32, 1, as, alias, err);
    return rc;
}

int lc_genie_to_file(const lc_genie *g, lc_file **out, lc_error *err) {
    *out = NULL;
    if (!lc_all_finite(g->lam.params, g->lam.n) || !lc_all_finite(g->dyn.params, g->dyn.n))
        return lc_fail(err, LC_ERR_NAN, "genie: refusing to save non-finite parameters");
    if (g->n_starts == 0) return lc_fail(err, LC_ERR_STATE, "genie: no start frames (train first)");
    lc_file *f = lc_file_new("genie");
    if (!f) return lc_fail(err, LC_ERR_NOMEM, "genie: out of memory");
#define SETI(k) lc_file_set_int(f, "cfg." #k, g->cfg.k);
#define SETF(k) lc_file_set_float(f, "cfg." #k, g->cfg.k);
    CFG_INTS(SETI)
    CFG_FLOATS(SETF)
    lc_file_set_int(f, "cfg.seed", (int64_t)g->cfg.seed);
    lc_file_set_int(f, "cfg.enc_pool", g->cfg.enc_pool);
    lc_file_set_int(f, "cfg.start_anywhere", g->cfg.start_anywhere);
    lc_file_set_float(f, "cfg.dyn_noise", g->cfg.dyn_noise);
    lc_file_set_float(f, "dream.halt_disagree", g->halt_disagree);
    lc_file_set_int(f, "cfg.dyn_unroll", g->cfg.dyn_unroll);
    lc_file_set_int(f, "cfg.dyn_l1", g->cfg.dyn_l1);
    lc_file_set_float(f, "cfg.rare_code", g->cfg.rare_code);
    lc_file_set_float(f, "train.lam_s", g->lam_train_s);
    lc_file_set_float(f, "train.dyn_s", g->dyn_train_s);
    lc_file_set_float(f, "train.peak_rss_mb", g->peak_rss_mb);
    lc_file_set_float(f, "train.lam_loss", g->lam_loss);
    lc_file_set_float(f, "train.dyn_loss", g->dyn_loss);
    lc_file_set_int(f, "train.frames", g->train_frames);
    lc_file_set_int(f, "train.restarts", g->restarts);
    int rc = lc_params_to_file(&g->lam, f, "lam", 0, err);
    if (!rc) rc = lc_params_to_file(&g->dyn, f, "dyn", 0, err);
    int64_t ss[3] = {(int64_t)g->n_starts, 2, g->P};
    if (!rc) rc = lc_file_add(f, "starts", LC_F32, 3, ss, g->starts, err);
    if (!rc) rc = lc_genie_save_game(g, f, err);
    if (rc) {
        lc_file_free(f);
        return rc;
    }
    *out = f;
    return LC_OK;
}

int lc_genie_save(const lc_genie *g, const char *path, lc_error *err) {
    lc_file *f = NULL;
    int rc = lc_genie_to_file(g, &f, err);
    if (!rc) rc = lc_file_write(f, path, err);
    lc_file_free(f);
    return rc;
}


// An optional int meta value (absent: *v unchanged) in [lo, hi].
static int opt_int(const lc_file *f, const char *key, int64_t lo, int64_t hi, int *v,
                   lc_error *err) {
    int64_t x = *v;
    int rc = lc_file_opt_int(f, key, lo, hi, &x, err);
    if (!rc) *v = (int)x;
    return rc;
}

// An optional float meta value (absent: *v unchanged) in [lo, hi] (lo NaN: NaN admitted).
static int opt_float(const lc_file *f, const char *key, double lo, double hi, float *v,
                     lc_error *err) {
    double x = *v;
    int rc = lc_file_opt_float(f, key, lo, hi, &x, err);
    if (!rc) *v = (float)x;
    return rc;
}

// The config as stored: cfg.* of CFG_INTS / CFG_FLOATS required, keys added later optional
// (their value before they existed as the default), each of its type and range.
static int load_cfg(lc_genie_cfg *c, const lc_file *f, lc_error *err) {
    *c = lc_genie_cfg_default();
    double d;
    int rc;
#define GETI(k) \
    if ((rc = lc_file_get_i32_in(f, "cfg." #k, 0, 1 << 20, &c->k, err))) return rc;
#define GETF(k) \
    if ((rc = lc_file_get_float_in(f, "cfg." #k, 0, 1e6, &d, err))) return rc; \
    c->k = (float)d;
    CFG_INTS(GETI)
    CFG_FLOATS(GETF)
#undef GETI
#undef GETF
    int64_t seed = (int64_t)c->seed;
    if ((rc = lc_file_opt_int(f, "cfg.seed", INT64_MIN, INT64_MAX, &seed, err))) return rc;
    c->seed = (uint64_t)seed;
    c->enc_pool = 0;       // files before pooling flattened the encoder's last conv
    c->start_anywhere = 0; // files before it started from episode starts
    c->dyn_l1 = 0;
    c->rare_code = 0.0f;   // files before aliasing: every code plays itself
    c->dyn_unroll = 0;
    c->dyn_noise = 0.0f;
    if ((rc = opt_int(f, "cfg.enc_pool", 0, 1, &c->enc_pool, err)) ||
        (rc = opt_int(f, "cfg.start_anywhere", 0, 1, &c->start_anywhere, err)) ||
        (rc = opt_int(f, "cfg.dyn_l1", 0, 1, &c->dyn_l1, err)) ||
        (rc = opt_int(f, "cfg.dyn_unroll", 0, 64, &c->dyn_unroll, err)) ||
        (rc = opt_float(f, "cfg.rare_code", 0, 1, &c->rare_code, err)) ||
        (rc = opt_float(f, "cfg.dyn_noise", 0, 0.999999, &c->dyn_noise, err)))
        return rc;
    lc_error e = {0}; // what lc_genie_new refuses (res 0 would divide by zero below)
    if (lc_genie_check_cfg(c, 1, &e)) return lc_fail(err, LC_ERR_FORMAT, "cfg: %s", e.msg);
    return LC_OK;
}

// The training record: optional figures, each of its type (NaN admitted: not measured).
static int load_record(lc_genie *g, const lc_file *f, lc_error *err) {
    int rc;
    if ((rc = lc_file_opt_float(f, "train.lam_s", NAN, HUGE_VAL, &g->lam_train_s, err)) ||
        (rc = lc_file_opt_float(f, "train.dyn_s", NAN, HUGE_VAL, &g->dyn_train_s, err)) ||
        (rc = lc_file_opt_float(f, "train.peak_rss_mb", NAN, HUGE_VAL, &g->peak_rss_mb, err)) ||
        (rc = lc_file_opt_float(f, "train.lam_loss", NAN, HUGE_VAL, &g->lam_loss, err)) ||
        (rc = lc_file_opt_float(f, "train.dyn_loss", NAN, HUGE_VAL, &g->dyn_loss, err)) ||
        (rc = lc_file_opt_int(f, "train.frames", 0, INT64_MAX, &g->train_frames, err)) ||
        (rc = lc_file_opt_int(f, "train.restarts", 0, INT64_MAX, &g->restarts, err)))
        return rc;
    double hd = 0; // files without it: no halting
    if ((rc = lc_file_opt_float(f, "dream.halt_disagree", 0, 1e6, &hd, err))) return rc;
    g->halt_disagree = (float)hd;
    return LC_OK;
}

// Every tensor of the (defined, not yet allocated) arena p is in f as PREFIX.NAME, f32, at
// its shape: LC_ERR_NOTFOUND or LC_ERR_SHAPE naming the first that is not.
static int expect_arena(const lc_params *p, const lc_file *f, const char *prefix,
                        lc_error *err) {
    for (int i = 0; i < p->ntensors; i++) {
        const lc_param_tensor *t = &p->t[i];
        char name[2 * LC_NAME_MAX];
        int64_t shape[LC_MAX_DIMS];
        for (int d = 0; d < t->ndim; d++) shape[d] = t->shape[d];
        snprintf(name, sizeof name, "%s.%s", prefix, t->name);
        if (!lc_file_expect(f, name, LC_F32, t->ndim, shape, err))
            return err ? err->code : LC_ERR_NOTFOUND;
    }
    return LC_OK;
}

// Exactly the tensors the meta implies: lam.* and dyn.* of the model its cfg builds,
// starts (S, 2, P) in [0, 1], reward_values (NR, f32), code_alias (K, i32; files before
// aliasing have none); any other tensor is refused (lc_file_check_claimed).
static int load_from(lc_genie **out, const lc_file *f, lc_error *err) {
    if (strcmp(lc_file_kind(f), "genie") != 0)
        return lc_fail(err, LC_ERR_FORMAT, "kind is '%s', not 'genie'", lc_file_kind(f));
    lc_genie_cfg c;
    int rc, C, gh, gw, gc, na;
    const char *env = NULL;
    if ((rc = load_cfg(&c, f, err)) || (rc = lc_file_get_i32_in(f, "channels", 1, 4, &C, err)) ||
        (rc = lc_file_get_i32_in(f, "game_h", 1, 4096, &gh, err)) ||
        (rc = lc_file_get_i32_in(f, "game_w", 1, 4096, &gw, err)) ||
        (rc = lc_file_get_i32_in(f, "game_c", 1, 4, &gc, err)) ||
        (rc = lc_file_get_i32_in(f, "n_real_actions", 0, 1 << 20, &na, err)))
        return rc;
    lc_error e = {0};
    if ((rc = lc_file_get_str(f, "env", &env, &e)))
        return lc_fail(err, rc == LC_ERR_NOTFOUND ? rc : LC_ERR_FORMAT, "%s", e.msg);
    if (strlen(env) >= sizeof ((lc_genie *)0)->env_name)
        return lc_fail(err, LC_ERR_FORMAT, "env name of %zu bytes is too long", strlen(env));
    if (gc != C || gh % c.res || gw % c.res)
        return lc_fail(err, LC_ERR_SHAPE, "game frames (%d, %d, %d) do not fit the model "
                       "(side %d, %d channels)", gh, gw, gc, c.res, C);
    int64_t rshape[1] = {-1};
    const lc_tensor *rv = lc_file_expect(f, "reward_values", LC_F32, 1, rshape, err);
    if (!rv) return err ? err->code : LC_ERR_FORMAT;
    if (rv->shape[0] < 1 || rv->shape[0] > LC_GENIE_MAX_RVALS)
        return lc_fail(err, LC_ERR_SHAPE, "%lld reward values (1..%d)", (long long)rv->shape[0],
                       LC_GENIE_MAX_RVALS);
    lc_genie *g = calloc(1, sizeof *g);
    if (!g) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    g->cfg = c;
    g->C = C;
    g->n_rvals = (int)rv->shape[0];
    memcpy(g->rvals, rv->data, (size_t)g->n_rvals * sizeof(float));
    for (int k = 0; k < g->n_rvals; k++)
        if (!isfinite(g->rvals[k])) {
            free(g);
            return lc_fail(err, LC_ERR_NAN, "reward value %d is not finite", k);
        }
    g->game_h = gh, g->game_w = gw, g->game_c = gc, g->n_real_actions = na;
    snprintf(g->env_name, sizeof g->env_name, "%s", env);
    if ((rc = load_record(g, f, err))) {
        free(g);
        return rc;
    }
    // The arenas the cfg implies, allocated only once the file holds each of their tensors
    // at its shape (a cfg of huge layers over small tensors costs no huge allocation).
    if ((rc = lc_genie_define(g, err)) || (rc = expect_arena(&g->lam, f, "lam", err)) ||
        (rc = expect_arena(&g->dyn, f, "dyn", err)))
        goto fail;
    if ((rc = lc_params_alloc(&g->lam, err)) || (rc = lc_params_alloc(&g->dyn, err)) ||
        (rc = lc_params_from_file(&g->lam, f, "lam", 0, err)) ||
        (rc = lc_params_from_file(&g->dyn, f, "dyn", 0, err)))
        goto fail;
    if (!lc_all_finite(g->lam.params, g->lam.n) || !lc_all_finite(g->dyn.params, g->dyn.n)) {
        rc = lc_fail(err, LC_ERR_NAN, "parameters are not finite");
        goto fail;
    }
    int64_t ss[3] = {-1, 2, g->P};
    const lc_tensor *t = lc_file_expect(f, "starts", LC_F32, 3, ss, err);
    if (!t) {
        rc = err ? err->code : LC_ERR_FORMAT;
        goto fail;
    }
    if (t->shape[0] < 1) {
        rc = lc_fail(err, LC_ERR_SHAPE, "no start frames");
        goto fail;
    }
    for (int k = 0; k < c.n_codes; k++) g->code_alias[k] = (uint8_t)k;
    if (lc_file_tensor(f, "code_alias")) { // files before aliasing have none
        int64_t ash[1] = {c.n_codes};
        const lc_tensor *at = lc_file_expect(f, "code_alias", LC_I32, 1, ash, err);
        if (!at) {
            rc = err ? err->code : LC_ERR_FORMAT;
            goto fail;
        }
        const int32_t *al = at->data;
        for (int k = 0; k < c.n_codes; k++) // each alias is a used code, which plays itself
            if (al[k] < 0 || al[k] >= c.n_codes || al[al[k]] != al[k]) {
                rc = lc_fail(err, LC_ERR_FORMAT, "code_alias[%d] = %d is not a code that plays "
                             "itself", k, (int)al[k]);
                goto fail;
            }
        for (int k = 0; k < c.n_codes; k++) g->code_alias[k] = (uint8_t)al[k];
    }
    if ((rc = lc_file_check_claimed(f, "genie", NULL, err))) goto fail;
    g->n_starts = (size_t)t->shape[0];
    g->starts = malloc(t->nbytes);
    if (!g->starts) {
        rc = lc_fail(err, LC_ERR_NOMEM, "out of memory");
        goto fail;
    }
    memcpy(g->starts, t->data, t->nbytes);
    for (size_t i = 0; i < g->n_starts * 2 * g->P; i++)
        if (!(g->starts[i] >= 0.0f && g->starts[i] <= 1.0f)) {
            rc = lc_fail(err, LC_ERR_FORMAT, "start frames hold values outside [0, 1]");
            goto fail;
        }
    *out = g;
    return LC_OK;
fail:
    lc_genie_free(g);
    return rc;
}

int lc_genie_from_file(lc_genie **out, const lc_file *f, lc_error *err) {
    *out = NULL;
    return load_from(out, f, err);
}

int lc_genie_load(lc_genie **out, const char *path, lc_error *err) {
    *out = NULL;
    lc_file *f = NULL;
    int rc = lc_file_read(path, &f, err);
    if (rc) return rc;
    rc = load_from(out, f, err);
    lc_file_free(f);
    if (rc && err && strncmp(err->msg, path, strlen(path)) != 0) lc_error_prefix(err, "%s: ", path);
    return rc;
}

int lc_genie_file_is(const char *path) {
    lc_file *f = NULL;
    if (lc_file_read(path, &f, NULL) != LC_OK) return 0;
    int is = strcmp(lc_file_kind(f), "genie") == 0;
    lc_file_free(f);
    return is;
}


// worldmodel/genie_tokens_io.c: the token world's checkpoint (kind "genie_tokens") and the
// env behind "dream:FILE" for it. Leaves out: halting and relabelling (pixel design only),
// resuming training (no optimizer state is saved).
//
// S = start contexts, T = tokens per frame, K = latent actions, NR = reward classes.
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worldmodel/genie_impl.h"
#include "worldmodel/genie_tokens_impl.h"

#include "core/settings.h"

#define KIND "genie_tokens"

// The LAM's settings that shape it or the dream (lc_genie_cfg fields).
#define LAM_INTS(X) X(res) X(n_codes) X(code_dim) X(enc_ch) X(lam_hidden) X(dyn_hidden) \
    X(batch) X(lam_steps) X(restart_window) X(enc_pool) X(horizon) X(max_starts) \
    X(start_anywhere)
#define LAM_FLOATS(X) X(beta) X(lr) X(holdout) X(rare_code)
#define GT_INTS(X) X(emb) X(hidden) X(head_emb) X(head_hidden) X(batch) X(steps)
#define GT_FLOATS(X) X(lr) X(corrupt) X(temperature)

int lc_gtok_save(const lc_gtok *g, const char *path, lc_error *err) {
    const lc_genie *l = g->lam;
    if (!lc_all_finite(g->p.params, g->p.n) || !lc_all_finite(l->lam.params, l->lam.n))
        return lc_fail(err, LC_ERR_NAN, "genie tokens: refusing to save non-finite parameters");
    if (g->n_starts == 0)
        return lc_fail(err, LC_ERR_STATE, "genie tokens: no start contexts (train first)");
    lc_file *f = lc_file_new(KIND);
    if (!f) return lc_fail(err, LC_ERR_NOMEM, "genie tokens: out of memory");
#define SETLI(k) lc_file_set_int(f, "lam.cfg." #k, l->cfg.k);
#define SETLF(k) lc_file_set_float(f, "lam.cfg." #k, l->cfg.k);
#define SETGI(k) lc_file_set_int(f, "gtok.cfg." #k, g->cfg.k);
#define SETGF(k) lc_file_set_float(f, "gtok.cfg." #k, g->cfg.k);
    LAM_INTS(SETLI)
    LAM_FLOATS(SETLF)
    GT_INTS(SETGI)
    GT_FLOATS(SETGF)
    lc_file_set_int(f, "lam.cfg.seed", (int64_t)l->cfg.seed);
    lc_file_set_int(f, "gtok.cfg.seed", (int64_t)g->cfg.seed);
    lc_file_set_float(f, "gtok.cfg.changed_weight", g->cfg.changed_weight);
    lc_file_set_int(f, "gtok.cfg.unroll", g->cfg.unroll);
    lc_file_set_int(f, "gtok.cfg.maskgit", g->cfg.maskgit);
    lc_file_set_int(f, "gtok.cfg.dyn_attn", g->cfg.dyn_attn);
    lc_file_set_int(f, "gtok.cfg.attn_heads", g->cfg.attn_heads);
    lc_file_set_float(f, "train.lam_s", l->lam_train_s);
    lc_file_set_float(f, "train.lam_loss", l->lam_loss);
    lc_file_set_int(f, "train.lam_restarts", l->restarts);
    lc_file_set_float(f, "train.dyn_s", g->dyn_s);
    lc_file_set_float(f, "train.dyn_loss", g->dyn_loss);
    lc_file_set_float(f, "train.peak_rss_mb", g->peak_mb);
    lc_file_set_int(f, "train.frames", l->train_frames);
    int rc = lc_params_to_file(&l->lam, f, "lam", 0, err);
    if (!rc) rc = lc_tok_to_file(g->tok, f, "tok", err);
    if (!rc) rc = lc_params_to_file(&g->p, f, "tdyn", 0, err);
    int64_t ss[3] = {(int64_t)g->n_starts, 2, g->T};
    if (!rc) rc = lc_file_add(f, "starts", LC_I32, 3, ss, g->starts, err);
    if (!rc) rc = lc_genie_save_game(l, f, err);
    if (!rc) rc = lc_file_write(f, path, err);
    lc_file_free(f);
    return rc;
}


// The LAM from the file's lam.cfg.* and lam.* tensors, with the game and reward classes.
static int load_lam(lc_genie **out, const lc_file *f, lc_error *err) {
    lc_genie_cfg c = lc_genie_cfg_default();
    int64_t v;
    double d;
    int rc;
#define GETLI(k) \
    if ((rc = lc_genie_meta_int(f, "lam.cfg." #k, 0, 1 << 20, &v, err))) return rc; \
    c.k = (int)v;
#define GETLF(k) \
    if ((rc = lc_file_get_float_in(f, "lam.cfg." #k, 0, 1e6, &d, err))) return rc; \
    c.k = (float)d;
    LAM_INTS(GETLI)
    LAM_FLOATS(GETLF)
    if ((rc = lc_file_get_int(f, "lam.cfg.seed", &v, err))) return rc;
    c.seed = (uint64_t)v;
    c.dyn_steps = 0;
    int64_t C, gh, gw, gc, na;
    const char *env = NULL;
    if ((rc = lc_genie_meta_int(f, "channels", 1, 4, &C, err)) ||
        (rc = lc_genie_meta_int(f, "game_h", 1, 4096, &gh, err)) ||
        (rc = lc_genie_meta_int(f, "game_w", 1, 4096, &gw, err)) ||
        (rc = lc_genie_meta_int(f, "game_c", 1, 4, &gc, err)) ||
        (rc = lc_genie_meta_int(f, "n_real_actions", 0, 1 << 20, &na, err)) ||
        (rc = lc_file_get_str(f, "env", &env, err)))
        return rc;
    if (gc != C || gh != gw || c.res < 4 || gh % c.res)
        return lc_fail(err, LC_ERR_SHAPE, "game frames (%lld, %lld, %lld) do not fit the LAM "
                       "(side %d, %lld channels)", (long long)gh, (long long)gw, (long long)gc,
                       c.res, (long long)C);
    int64_t rshape[1] = {-1};
    const lc_tensor *rv = lc_file_expect(f, "reward_values", LC_F32, 1, rshape, err);
    if (!rv) return err ? err->code : LC_ERR_FORMAT;
    if (rv->shape[0] < 1 || rv->shape[0] > LC_GENIE_MAX_RVALS)
        return lc_fail(err, LC_ERR_SHAPE, "%lld reward values (1..%d)", (long long)rv->shape[0],
                       LC_GENIE_MAX_RVALS);
    lc_genie *l = NULL;
    if ((rc = lc_genie_new(&l, &c, (int)C, NULL, err))) return rc;
    l->game_h = (int)gh, l->game_w = (int)gw, l->game_c = (int)gc, l->n_real_actions = (int)na;
    snprintf(l->env_name, sizeof l->env_name, "%s", env);
    l->n_rvals = (int)rv->shape[0];
    memcpy(l->rvals, rv->data, (size_t)l->n_rvals * sizeof(float));
    for (int k = 0; k < l->n_rvals; k++)
        if (!isfinite(l->rvals[k])) {
            lc_genie_free(l);
            return lc_fail(err, LC_ERR_NAN, "reward value %d is not finite", k);
        }
    int64_t ash[1] = {c.n_codes};
    const lc_tensor *at = lc_file_expect(f, "code_alias", LC_I32, 1, ash, err);
    if (!at) {
        lc_genie_free(l);
        return err ? err->code : LC_ERR_FORMAT;
    }
    const int32_t *al = at->data;
    for (int k = 0; k < c.n_codes; k++)
        if (al[k] < 0 || al[k] >= c.n_codes || al[al[k]] != al[k]) {
            lc_genie_free(l);
            return lc_fail(err, LC_ERR_FORMAT, "code_alias[%d] = %d is not a code that plays "
                           "itself", k, (int)al[k]);
        }
    for (int k = 0; k < c.n_codes; k++) l->code_alias[k] = (uint8_t)al[k];
    if ((rc = lc_params_from_file(&l->lam, f, "lam", 0, err))) {
        lc_genie_free(l);
        return rc;
    }
    if (!lc_all_finite(l->lam.params, l->lam.n)) {
        lc_genie_free(l);
        return lc_fail(err, LC_ERR_NAN, "LAM parameters are not finite");
    }
    lc_file_get_float(f, "train.lam_s", &l->lam_train_s, NULL);
    lc_file_get_float(f, "train.lam_loss", &l->lam_loss, NULL);
    lc_file_get_int(f, "train.lam_restarts", &l->restarts, NULL);
    lc_file_get_int(f, "train.frames", &l->train_frames, NULL);
    *out = l;
    return LC_OK;
}

static int load_from(lc_gtok **out, const lc_file *f, lc_error *err) {
    if (strcmp(lc_file_kind(f), KIND) != 0)
        return lc_fail(err, LC_ERR_FORMAT, "kind is '%s', not '" KIND "'", lc_file_kind(f));
    lc_gtok_cfg c = lc_gtok_cfg_default();
    int64_t v;
    double d;
    int rc;
#define GETGI(k) \
    if ((rc = lc_genie_meta_int(f, "gtok.cfg." #k, 0, 1 << 20, &v, err))) return rc; \
    c.k = (int)v;
#define GETGF(k) \
    if ((rc = lc_file_get_float_in(f, "gtok.cfg." #k, 0, 100, &d, err))) return rc; \
    c.k = (float)d;
    GT_INTS(GETGI)
    GT_FLOATS(GETGF)
    if ((rc = lc_file_get_int(f, "gtok.cfg.seed", &v, err))) return rc;
    c.seed = (uint64_t)v;
    c.changed_weight = 1.0f; // files before it: the plain mean
    if (lc_file_get_float(f, "gtok.cfg.changed_weight", &d, NULL) == LC_OK) {
        if (!(d >= 0.01 && d <= 1000))
            return lc_fail(err, LC_ERR_SIZE, "gtok.cfg.changed_weight = %g is out of range", d);
        c.changed_weight = (float)d;
    }
    c.unroll = 0; // files before it: no unrolling
    if (lc_file_get_int(f, "gtok.cfg.unroll", &v, NULL) == LC_OK) {
        if (v < 0 || v > 64)
            return lc_fail(err, LC_ERR_SIZE, "gtok.cfg.unroll = %lld is out of range", (long long)v);
        c.unroll = (int)v;
    }
    c.maskgit = 0; // files before it: one-pass dynamics
    if (lc_file_get_int(f, "gtok.cfg.maskgit", &v, NULL) == LC_OK) {
        if (v < 0 || v > 64)
            return lc_fail(err, LC_ERR_SIZE, "gtok.cfg.maskgit = %lld is out of range",
                           (long long)v);
        c.maskgit = (int)v;
    }
    // files before them: no attention blocks (heads: the default)
    c.dyn_attn = 0;
    if (lc_file_get_int(f, "gtok.cfg.dyn_attn", &v, NULL) == LC_OK) {
        if (v < 0 || v > LC_GTOK_MAX_ATTN)
            return lc_fail(err, LC_ERR_SIZE, "gtok.cfg.dyn_attn = %lld is out of range",
                           (long long)v);
        c.dyn_attn = (int)v;
    }
    if (lc_file_get_int(f, "gtok.cfg.attn_heads", &v, NULL) == LC_OK) {
        if (v < 1 || v > 64 || c.hidden % v)
            return lc_fail(err, LC_ERR_SIZE, "gtok.cfg.attn_heads = %lld is out of range or "
                           "does not divide hidden %d", (long long)v, c.hidden);
        c.attn_heads = (int)v;
    }
    lc_gtok *g = calloc(1, sizeof *g);
    if (!g) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    g->cfg = c;
    if ((rc = load_lam(&g->lam, f, err)) || (rc = lc_tok_from_file(&g->tok, f, "tok", err)))
        goto fail;
    g->cfg.tok = *lc_tok_config(g->tok);
    if (g->cfg.tok.side != g->lam->game_h || g->cfg.tok.channels != g->lam->game_c) {
        rc = lc_fail(err, LC_ERR_SHAPE, "the tokenizer (side %d, %d channels) does not fit the "
                     "game's %dx%dx%d frames", g->cfg.tok.side, g->cfg.tok.channels,
                     g->lam->game_h, g->lam->game_w, g->lam->game_c);
        goto fail;
    }
    if ((rc = lc_gtok_build(g, err)) || (rc = lc_params_from_file(&g->p, f, "tdyn", 0, err))) goto fail;
    if (!lc_all_finite(g->p.params, g->p.n)) {
        rc = lc_fail(err, LC_ERR_NAN, "dynamics parameters are not finite");
        goto fail;
    }
    int64_t ss[3] = {-1, 2, g->T};
    const lc_tensor *t = lc_file_expect(f, "starts", LC_I32, 3, ss, err);
    if (!t) {
        rc = err ? err->code : LC_ERR_FORMAT;
        goto fail;
    }
    if (t->shape[0] < 1) {
        rc = lc_fail(err, LC_ERR_SHAPE, "no start contexts");
        goto fail;
    }
    g->n_starts = (size_t)t->shape[0];
    g->starts = malloc(t->nbytes);
    if (!g->starts) {
        rc = lc_fail(err, LC_ERR_NOMEM, "out of memory");
        goto fail;
    }
    memcpy(g->starts, t->data, t->nbytes);
    for (size_t i = 0; i < g->n_starts * 2 * g->T; i++)
        if (g->starts[i] < 0 || g->starts[i] >= g->V) {
            rc = lc_fail(err, LC_ERR_FORMAT, "start contexts hold a token outside [0, %d)", g->V);
            goto fail;
        }
    // exactly the tensors this kind uses: every expected one was found above, so a count
    // above theirs means something else is in the file
    int expected = g->lam->lam.ntensors + lc_tok_params(g->tok)->ntensors + g->p.ntensors + 3;
    if (lc_file_ntensors(f) != expected) {
        const char *extra = "?";
        for (int i = 0; i < lc_file_ntensors(f); i++) {
            const char *nm = lc_file_tensor_at(f, i)->name;
            int known = !strcmp(nm, "starts") || !strcmp(nm, "reward_values") ||
                        !strcmp(nm, "code_alias");
            if (!strncmp(nm, "lam.", 4)) known = lc_params_find(&g->lam->lam, nm + 4) >= 0;
            if (!strncmp(nm, "tok.", 4)) known = lc_params_find(lc_tok_params(g->tok), nm + 4) >= 0;
            if (!strncmp(nm, "tdyn.", 5)) known = lc_params_find(&g->p, nm + 5) >= 0;
            if (!known) {
                extra = nm;
                break;
            }
        }
        rc = lc_fail(err, LC_ERR_FORMAT, "holds %d tensors where a token world has %d (e.g. "
                     "'%s', which it does not use)", lc_file_ntensors(f), expected, extra);
        goto fail;
    }
    lc_file_get_float(f, "train.dyn_s", &g->dyn_s, NULL);
    lc_file_get_float(f, "train.dyn_loss", &g->dyn_loss, NULL);
    lc_file_get_float(f, "train.peak_rss_mb", &g->peak_mb, NULL);
    *out = g;
    return LC_OK;
fail:
    lc_gtok_free(g);
    return rc;
}

int lc_gtok_load(lc_gtok **out, const char *path, lc_error *err) {
    *out = NULL;
    lc_file *f = NULL;
    int rc = lc_file_read(path, &f, err);
    if (rc) return rc;
    rc = load_from(out, f, err);
    lc_file_free(f);
    if (rc) lc_error_prefix(err, "%s: ", path);
    return rc;
}

int lc_gtok_from_file(lc_gtok **out, const lc_file *f, lc_error *err) {
    *out = NULL;
    return load_from(out, f, err);
}

int lc_gtok_file_is(const char *path) {
    lc_file *f = NULL;
    if (lc_file_read(path, &f, NULL) != LC_OK) return 0;
    int is = strcmp(lc_file_kind(f), KIND) == 0;
    lc_file_free(f);
    return is;
}

// ---------------------------------------------------------------- the env

typedef struct gtok_env {
    lc_gtok *g; // owned
    int N;
    int32_t *prev, *cur, *next; // (N, T)
    int *codes;                 // (N)
    float *logits;              // (N)
    float temp;
    int n_actions;
    int act_code[256];
} gtok_env;

static void gtok_env_destroy(void *data) {
    gtok_env *e = data;
    if (!e) return;
    lc_gtok_free(e->g);
    free(e->prev), free(e->cur), free(e->next), free(e->codes), free(e->logits);
    free(e);
}

static void gtok_env_reset(void *data, int i, lc_rng *rng, void *obs_row) {
    gtok_env *e = data;
    const lc_gtok *g = e->g;
    size_t s = lc_rng_below(rng, (uint32_t)g->n_starts), T = g->T;
    memcpy(e->prev + i * T, g->starts + s * 2 * T, T * sizeof(int32_t));
    memcpy(e->cur + i * T, g->starts + (s * 2 + 1) * T, T * sizeof(int32_t));
    // decoding one frame allocates a little; on failure the frame stays black
    if (lc_tok_decode(g->tok, e->cur + i * T, 1, obs_row, NULL, NULL))
        memset(obs_row, 0, (size_t)g->lam->game_h * g->lam->game_w * g->lam->game_c);
}

int lc_gtok_env_start_at(void *data, int i, const uint8_t *prev, const uint8_t *cur,
                         uint8_t *obs_row, lc_error *err) {
    gtok_env *e = data;
    const lc_gtok *g = e->g;
    const size_t T = g->T;
    assert(i >= 0 && i < e->N);
    int rc = lc_tok_encode(g->tok, prev, 1, e->prev + i * T, err);
    if (!rc) rc = lc_tok_encode(g->tok, cur, 1, e->cur + i * T, err);
    if (!rc) rc = lc_tok_decode(g->tok, e->cur + i * T, 1, obs_row, NULL, err);
    return rc;
}

static void gtok_env_step(void *data, int i0, int i1, const void *actions, void *obs,
                          float *rewards, uint8_t *terminated, float *info, lc_rng *rngs) {
    (void)info;
    gtok_env *e = data;
    const lc_gtok *g = e->g;
    const int n = i1 - i0, T = g->T;
    if (n <= 0) return;
    const int32_t *a = (const int32_t *)actions + i0;
    for (int b = 0; b < n; b++) e->codes[b] = e->act_code[a[b]];
    int32_t *pv = e->prev + (size_t)i0 * T, *cu = e->cur + (size_t)i0 * T;
    size_t O = (size_t)g->lam->game_h * g->lam->game_w * g->lam->game_c;
    uint8_t *o = (uint8_t *)obs + (size_t)i0 * O;
    if (lc_gtok_step(g, pv, cu, e->codes, n, e->temp, rngs + i0, e->next, rewards + i0,
                     e->logits, NULL) ||
        lc_tok_decode(g->tok, e->next, n, o, NULL, NULL)) {
        // out of memory: the episodes end here (a step cannot fail under the env API)
        for (int b = 0; b < n; b++) rewards[i0 + b] = 0, terminated[i0 + b] = 1;
        return;
    }
    memcpy(pv, cu, (size_t)n * T * sizeof(int32_t));
    memcpy(cu, e->next, (size_t)n * T * sizeof(int32_t));
    for (int b = 0; b < n; b++) terminated[i0 + b] = e->logits[b] > 0.0f;
}

static int gtok_env_render(void *data, int i, uint8_t *rgb, int w, int h) {
    gtok_env *e = data;
    const lc_gtok *g = e->g;
    const int S = g->lam->game_h, C = g->lam->game_c;
    uint8_t *fr = malloc((size_t)S * S * C);
    if (!fr) return -1;
    if (lc_tok_decode(g->tok, e->cur + (size_t)i * g->T, 1, fr, NULL, NULL)) {
        free(fr);
        return -1;
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                rgb[((size_t)y * w + x) * 3 + c] =
                    fr[((size_t)(y * S / h) * S + x * S / w) * C + (C == 3 ? c : 0)];
    free(fr);
    return 0;
}

// key=value pairs separated by commas: horizon, temp, actions.
// The token dream's params, on the one key=value parser (core/settings.h).
typedef struct gtok_params {
    int horizon;
    float temp;
    int actions; // 0 all, 1 played
} gtok_params;
static const lc_setting GTOK_ROWS[] = {
    {"horizon", LC_SET_INT, offsetof(gtok_params, horizon), 200, 1, 1000000, 1, "time limit", NULL},
    {"temp", LC_SET_FLOAT, offsetof(gtok_params, temp), 1, 0, 100, 1, "sampling temperature (0: argmax)", NULL},
    {"actions", LC_SET_ENUM, offsetof(gtok_params, actions), 0, 0, 0, 1, "the latent actions offered", "all|played"},
};
static const lc_settings GTOK_PARAMS = {"genie dream (token world)", GTOK_ROWS, 3};

// Parses s over *horizon, *temp, *played (which keep their values for absent keys).
static int parse_params(const char *s, int *horizon, float *temp, int *played, lc_error *err) {
    gtok_params p = {*horizon, *temp, *played};
    int rc = lc_settings_parse(&GTOK_PARAMS, &p, s, err);
    if (!rc) *horizon = p.horizon, *temp = p.temp, *played = p.actions;
    return rc;
}

int lc_gtok_env_of(lc_env_impl *impl, lc_gtok *model, const char *params, int num_envs,
                   const lc_env_opts *opts, lc_error *err) {
    int rc;
    if (num_envs < 1) {
        lc_gtok_free(model);
        return lc_fail(err, LC_ERR_ARG, "genie dream: num_envs must be >= 1");
    }
    gtok_env *e = calloc(1, sizeof *e);
    if (!e) {
        lc_gtok_free(model);
        return lc_fail(err, LC_ERR_NOMEM, "genie dream: out of memory");
    }
    e->g = model;
    const lc_gtok *g = e->g;
    int horizon = g->lam->cfg.horizon, played = 0;
    e->temp = g->cfg.temperature;
    if ((rc = parse_params(params, &horizon, &e->temp, &played, err)) ||
        (opts && (rc = parse_params(opts->params, &horizon, &e->temp, &played, err)))) {
        gtok_env_destroy(e);
        return rc;
    }
    e->n_actions = g->K;
    for (int a = 0; a < e->n_actions; a++) e->act_code[a] = g->lam->code_alias[a];
    if (played) e->n_actions = lc_genie_played_codes(g->lam, e->act_code);
    size_t n = (size_t)num_envs, T = g->T;
    e->N = num_envs;
    e->prev = calloc(n * T, sizeof(int32_t));
    e->cur = calloc(n * T, sizeof(int32_t));
    e->next = calloc(n * T, sizeof(int32_t));
    e->codes = calloc(n, sizeof(int));
    e->logits = calloc(n, sizeof(float));
    if (!e->prev || !e->cur || !e->next || !e->codes || !e->logits) {
        gtok_env_destroy(e);
        return lc_fail(err, LC_ERR_NOMEM, "genie dream: out of memory for %d envs", num_envs);
    }
    memset(impl, 0, sizeof *impl);
    int shape[3] = {g->lam->game_h, g->lam->game_w, g->lam->game_c};
    impl->obs_space = lc_space_box_scalar(LC_U8, 3, shape, 0.0f, 255.0f);
    impl->act_space = lc_space_discrete(e->n_actions);
    impl->max_episode_steps = horizon;
    impl->can_split = 0;
    impl->render_w = g->lam->game_w * 4;
    impl->render_h = g->lam->game_h * 4;
    impl->data = e;
    impl->reset = gtok_env_reset;
    impl->step = gtok_env_step;
    impl->render = gtok_env_render;
    impl->destroy = gtok_env_destroy;
    return LC_OK;
}

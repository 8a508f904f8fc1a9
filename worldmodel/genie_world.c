// worldmodel/genie_world.c: a Genie-style world of either design behind one handle
// (genie_world.h): the per-design hooks, the dream beside the real game in lockstep, and a
// dream-trained controller in the real game. Leaves out: held-out metrics, training.
//
// M = envs, W = window steps, K = latent actions, A = real actions, O = game frame bytes.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worldmodel/genie_world.h"

#include "worldmodel/genie_impl.h"
#include "worldmodel/genie_tokens.h"
#include "worldmodel/genie_tokens_impl.h"

// What a design gives: its model from the container, the dream backend over a model (taken
// over, freed on error too), its LAM, what the dream shows of real frames, and a backend's
// env i continued from two real frames.
typedef struct gworld_hooks {
    const char *kind, *design;
    int (*from_file)(void **model, const lc_file *f, lc_error *err);
    int (*env_of)(lc_env_impl *impl, void *model, const char *params, int n, lc_error *err);
    void (*free)(void *model);
    const lc_genie *(*lam)(const void *model);
    int (*view)(const void *model, const uint8_t *frames, int n, uint8_t *out, lc_error *err);
    int (*start_at)(void *env_data, int i, const uint8_t *prev, const uint8_t *cur,
                    uint8_t *obs_row, lc_error *err);
} gworld_hooks;

struct lc_gworld {
    const gworld_hooks *h;
    lc_file *f;  // owned: the checkpoint, read once
    void *model; // owned: for the LAM and the view
};

// ---------------------------------------------------------------- pixels

static int pix_from_file(void **model, const lc_file *f, lc_error *err) {
    return lc_genie_from_file((lc_genie **)model, f, err);
}
static int pix_env_of(lc_env_impl *impl, void *model, const char *params, int n, lc_error *err) {
    return lc_genie_env_of(impl, model, params, n, NULL, err);
}
static void pix_free(void *model) { lc_genie_free(model); }
static const lc_genie *pix_lam(const void *model) { return model; }
static int pix_view(const void *model, const uint8_t *frames, int n, uint8_t *out,
                    lc_error *err) {
    const lc_genie *g = model;
    const size_t O = (size_t)g->game_h * g->game_w * g->game_c;
    float *work = malloc((size_t)g->P * sizeof(float));
    if (!work) return lc_fail(err, LC_ERR_NOMEM, "genie: out of memory");
    for (int i = 0; i < n; i++) lc_genie_view(g, frames + i * O, work, out + i * O);
    free(work);
    return LC_OK;
}

// ---------------------------------------------------------------- tokens

static int tok_from_file(void **model, const lc_file *f, lc_error *err) {
    return lc_gtok_from_file((lc_gtok **)model, f, err);
}
static int tok_env_of(lc_env_impl *impl, void *model, const char *params, int n, lc_error *err) {
    return lc_gtok_env_of(impl, model, params, n, NULL, err);
}
static void tok_free(void *model) { lc_gtok_free(model); }
static const lc_genie *tok_lam(const void *model) { return lc_gtok_lam(model); }
static int tok_view(const void *model, const uint8_t *frames, int n, uint8_t *out,
                    lc_error *err) {
    const lc_gtok *g = model;
    int *toks = malloc((size_t)n * lc_gtok_tokens(g) * sizeof(int));
    if (!toks) return lc_fail(err, LC_ERR_NOMEM, "genie: out of memory");
    int rc = lc_tok_encode(lc_gtok_tokenizer(g), frames, n, toks, err);
    if (!rc) rc = lc_tok_decode(lc_gtok_tokenizer(g), toks, n, out, NULL, err);
    free(toks);
    return rc;
}

static const gworld_hooks HOOKS[] = {
    {"genie", "pixels", pix_from_file, pix_env_of, pix_free, pix_lam, pix_view,
     lc_genie_env_start_at},
    {"genie_tokens", "tokens", tok_from_file, tok_env_of, tok_free, tok_lam, tok_view,
     lc_gtok_env_start_at},
};

// ---------------------------------------------------------------- the handle

// A world over f (taken over, freed on error too).
static int gworld_take(lc_gworld **out, lc_file *f, lc_error *err) {
    *out = NULL;
    const gworld_hooks *h = NULL;
    for (size_t i = 0; i < sizeof HOOKS / sizeof HOOKS[0]; i++)
        if (strcmp(lc_file_kind(f), HOOKS[i].kind) == 0) h = &HOOKS[i];
    if (!h) {
        int rc = lc_fail(err, LC_ERR_FORMAT, "a file of kind '%s' is not a genie world",
                         lc_file_kind(f));
        lc_file_free(f);
        return rc;
    }
    lc_gworld *w = calloc(1, sizeof *w);
    if (!w) {
        lc_file_free(f);
        return lc_fail(err, LC_ERR_NOMEM, "genie: out of memory");
    }
    w->h = h, w->f = f;
    int rc = h->from_file(&w->model, f, err);
    if (rc) {
        lc_gworld_free(w);
        return rc;
    }
    *out = w;
    return LC_OK;
}

int lc_gworld_load(lc_gworld **out, const char *path, lc_error *err) {
    *out = NULL;
    lc_file *f = NULL;
    int rc = lc_file_read(path, &f, err);
    if (!rc) rc = gworld_take(out, f, err);
    if (rc && err && strncmp(err->msg, path, strlen(path)) != 0) lc_error_prefix(err, "%s: ", path);
    return rc;
}

int lc_gworld_of_genie(lc_gworld **out, const lc_genie *g, lc_error *err) {
    *out = NULL;
    lc_file *f = NULL;
    int rc = lc_genie_to_file(g, &f, err);
    return rc ? rc : gworld_take(out, f, err);
}

void lc_gworld_free(lc_gworld *w) {
    if (!w) return;
    if (w->model) w->h->free(w->model);
    lc_file_free(w->f);
    free(w);
}

const char *lc_gworld_design(const lc_gworld *w) { return w->h->design; }
const lc_genie *lc_gworld_lam(const lc_gworld *w) { return w->h->lam(w->model); }

int lc_gworld_view(const lc_gworld *w, const uint8_t *frames, int n, uint8_t *out,
                   lc_error *err) {
    if (n < 0) return lc_fail(err, LC_ERR_ARG, "genie view: %d frames", n);
    return w->h->view(w->model, frames, n, out, err);
}

// A dream backend of M envs from the world's file, with params (may be NULL).
static int dream_backend(const lc_gworld *w, int M, const char *params, lc_env_impl *impl,
                         lc_error *err) {
    void *model = NULL;
    int rc = w->h->from_file(&model, w->f, err);
    if (rc) return rc;
    return w->h->env_of(impl, model, params, M, err);
}

// The real game of the world: M envs reset from seed, checked to show the model's game
// frames and take discrete actions. A game whose uint8 (H, W, C) frames are larger than the
// model's (recorded with the env option resize, e.g. ALE's 210x160 at 64x64) is made again
// with resize_h/resize_w at the model's size: the one rule of core/resize.h, as when recorded.
static int real_game(const lc_genie *g, int M, uint64_t seed, lc_env **out, lc_error *err) {
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = M;
    int rc = lc_env_make(&env, g->env_name, &o, err);
    if (!rc) {
        const lc_space *os = &lc_env_get_spec(env)->obs_space;
        if (os->kind == LC_SPACE_BOX && os->dtype == LC_U8 && os->ndim == 3 &&
            os->shape[2] == g->game_c && (os->shape[0] != g->game_h || os->shape[1] != g->game_w)) {
            lc_env_free(env);
            env = NULL;
            o.resize_h = g->game_h, o.resize_w = g->game_w;
            rc = lc_env_make(&env, g->env_name, &o, err);
        }
    }
    if (!rc) rc = lc_env_reset(env, seed, err);
    const lc_env_spec *sp = rc ? NULL : lc_env_get_spec(env);
    if (!rc && ((size_t)lc_space_size(&sp->obs_space) != (size_t)g->game_h * g->game_w * g->game_c ||
                sp->act_space.kind != LC_SPACE_DISCRETE))
        rc = lc_fail(err, LC_ERR_SHAPE, "%s: not the model's game frames and discrete actions",
                     g->env_name);
    if (rc) {
        lc_env_free(env);
        return rc;
    }
    *out = env;
    return LC_OK;
}

// ---------------------------------------------------------------- lockstep

int lc_gworld_lockstep(const lc_gworld *w, const int *map, int M, int W, uint64_t seed,
                       const char *params, lc_genie_chooser choose, void *ctx, int n_actions,
                       lc_genie_lockstep *out, lc_error *err) {
    const lc_genie *g = lc_gworld_lam(w);
    const int K = g->cfg.n_codes;
    int played[256];
    const int n_played = lc_genie_played_codes(g, played);
    if (M < 1 || W < 1 || W > 1000000 ||
        (choose && (n_actions < 1 || (n_actions != K && n_actions != n_played))))
        return lc_fail(err, LC_ERR_ARG, "genie lockstep: M %d, W %d, %d actions (the dream has "
                       "%d, or %d played)", M, W, n_actions, K, n_played);
    // The dream's backend: a time limit past the window, the action space the chooser's.
    char dp[1024];
    int len = snprintf(dp, sizeof dp, "horizon=%d%s%s%s", W + 1,
                       choose && n_actions != K ? ",actions=played" : "", params ? "," : "",
                       params ? params : "");
    if (len < 0 || (size_t)len >= sizeof dp)
        return lc_fail(err, LC_ERR_ARG, "genie lockstep: dream params too long");
    lc_env *env = NULL;
    lc_env_impl di;
    int rc = real_game(g, M, seed, &env, err);
    if (rc) return rc;
    if ((rc = dream_backend(w, M, dp, &di, err))) {
        lc_env_free(env);
        return rc;
    }
    const lc_env_buf *b = lc_env_get_buf(env);
    const int A = lc_env_get_spec(env)->act_space.n;
    const size_t O = (size_t)g->game_h * g->game_w * g->game_c;
    int32_t *act = malloc((size_t)M * sizeof(int32_t)), *dact = malloc((size_t)M * sizeof(int32_t));
    int *end_r = malloc((size_t)M * sizeof(int)), *end_d = malloc((size_t)M * sizeof(int));
    double *ret_r = malloc((size_t)M * sizeof(double)), *ret_d = malloc((size_t)M * sizeof(double));
    uint8_t *first = calloc((size_t)M, 1), *prev = malloc((size_t)M * O), *dobs = malloc((size_t)M * O);
    uint8_t *dterm = calloc((size_t)M, 1);
    float *drw = calloc((size_t)M, sizeof(float));
    lc_rng *rngs = malloc((size_t)M * sizeof(lc_rng));
    if (!act || !dact || !end_r || !end_d || !ret_r || !ret_d || !first || !prev || !dobs ||
        !dterm || !drw || !rngs)
        rc = lc_fail(err, LC_ERR_NOMEM, "genie lockstep: out of memory");
    lc_rng rng;
    lc_rng_seed(&rng, seed, 0x10c);
    memset(out, 0, sizeof *out);
    // A random first step: the dream starts from two frames. (A window whose real episode
    // ended there is not played.)
    if (!rc) memcpy(prev, b->obs, (size_t)M * O);
    for (int i = 0; i < M && !rc; i++) act[i] = (int32_t)lc_rng_below(&rng, (uint32_t)A);
    if (!rc) rc = lc_env_step(env, act, err);
    for (int i = 0; i < M && !rc; i++) {
        lc_rng_seed(&rngs[i], seed, 0xd7ea0000u + (uint64_t)i); // the dream's own draws
        rc = w->h->start_at(di.data, i, prev + i * O, (const uint8_t *)b->obs + i * O,
                            dobs + i * O, err);
        end_r[i] = end_d[i] = b->done[i] ? -2 : -1; // -2: not a window; -1: still running
        ret_r[i] = ret_d[i] = 0;
    }
    for (int t = 0; t < W && !rc; t++) {
        if (choose) { // the chooser sees the dream's frames, as PPO in the dream does
            for (int i = 0; i < M; i++) first[i] = t == 0;
            if ((rc = choose(ctx, dobs, M, first, dact, err))) break;
            for (int i = 0; i < M && !rc; i++)
                if (dact[i] < 0 || dact[i] >= n_actions)
                    rc = lc_fail(err, LC_ERR_ACTION, "genie lockstep: action %d of %d", dact[i],
                                 n_actions);
            if (rc) break;
            for (int i = 0; i < M; i++) act[i] = (int32_t)map[lc_genie_action_code(g, n_actions, dact[i])];
        } else { // uniform over the K latent actions, each played as its alias
            for (int i = 0; i < M; i++) {
                dact[i] = (int32_t)lc_rng_below(&rng, (uint32_t)K);
                act[i] = (int32_t)map[g->code_alias[dact[i]]];
            }
        }
        di.step(di.data, 0, M, dact, dobs, drw, dterm, NULL, rngs);
        if (di.status && (rc = di.status(di.data, err))) break;
        if ((rc = lc_env_step(env, act, err))) break;
        for (int i = 0; i < M; i++) {
            if (end_r[i] == -2 || end_r[i] != -1 || end_d[i] != -1) continue;
            ret_r[i] += b->rewards[i];
            ret_d[i] += drw[i];
            if (b->done[i]) end_r[i] = t;
            if (dterm[i]) end_d[i] = t;
        }
    }
    for (int i = 0; i < M && !rc; i++) {
        if (end_r[i] == -2) continue;
        out->windows++;
        out->real_ret += ret_r[i];
        out->dream_ret += ret_d[i];
        out->agree += fabs(ret_r[i] - ret_d[i]) < 0.5;
        out->end_agree += end_r[i] == end_d[i];
    }
    if (out->windows > 0) {
        out->real_ret /= out->windows, out->dream_ret /= out->windows;
        out->agree /= out->windows, out->end_agree /= out->windows;
    }
    lc_env_free(env);
    di.destroy(di.data);
    free(act), free(dact), free(end_r), free(end_d), free(ret_r), free(ret_d), free(first);
    free(prev), free(dobs), free(dterm), free(drw), free(rngs);
    return rc;
}

// ---------------------------------------------------------------- the real game

int lc_gworld_play_real(const lc_gworld *w, const int *map, lc_genie_chooser choose, void *ctx,
                        int n_actions, int fixed, int episodes, uint64_t seed, double *mean,
                        double *sd, lc_error *err) {
    enum { M = 8 };
    const lc_genie *g = lc_gworld_lam(w);
    if (episodes < 1 || (choose && (n_actions < 1 || n_actions > g->cfg.n_codes)))
        return lc_fail(err, LC_ERR_ARG, "genie: %d episodes, %d actions", episodes, n_actions);
    lc_env *env = NULL;
    int rc = real_game(g, M, seed, &env, err);
    if (rc) return rc;
    const lc_env_buf *b = lc_env_get_buf(env);
    const lc_env_spec *sp = lc_env_get_spec(env);
    const size_t O = (size_t)g->game_h * g->game_w * g->game_c;
    uint8_t *view = choose ? malloc(M * O) : NULL;
    if (choose && !view) rc = lc_fail(err, LC_ERR_NOMEM, "out of memory");
    if (!rc && !choose && fixed >= sp->act_space.n)
        rc = lc_fail(err, LC_ERR_ARG, "genie: fixed action %d of %d", fixed, sp->act_space.n);
    int32_t act[M];
    uint8_t first[M];
    memset(first, 1, sizeof first);
    lc_rng rng;
    lc_rng_seed(&rng, seed, 0x5eed);
    double s1 = 0, s2 = 0;
    int done = 0;
    while (done < episodes && !rc) {
        if (choose) {
            if ((rc = w->h->view(w->model, b->obs, M, view, err))) break;
            if ((rc = choose(ctx, view, M, first, act, err))) break;
            for (int i = 0; i < M && !rc; i++)
                if (act[i] < 0 || act[i] >= n_actions)
                    rc = lc_fail(err, LC_ERR_ACTION, "genie: action %d of %d", act[i], n_actions);
            for (int i = 0; i < M && !rc; i++) act[i] = map[lc_genie_action_code(g, n_actions, act[i])];
        } else {
            for (int i = 0; i < M; i++)
                act[i] = fixed >= 0 ? fixed : (int32_t)lc_rng_below(&rng, (uint32_t)sp->act_space.n);
        }
        if (!rc) rc = lc_env_step(env, act, err);
        for (int i = 0; i < M && !rc; i++) {
            first[i] = b->done[i];
            if (b->done[i] && done < episodes) {
                s1 += b->ep_return[i];
                s2 += (double)b->ep_return[i] * b->ep_return[i];
                done++;
            }
        }
    }
    lc_env_free(env);
    free(view);
    if (rc) return rc;
    *mean = s1 / episodes;
    double var = s2 / episodes - *mean * *mean;
    *sd = var > 0 ? sqrt(var) : 0;
    return LC_OK;
}

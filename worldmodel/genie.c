// worldmodel/genie.c: the Genie-style world (genie.h): LAM (conv encoder, VQ with dead-code
// restarts, conv decoder of the frame difference), conv pixel dynamics with reward/end heads,
// training, the lockstep with the real game. Checkpoints: genie_io.c; the env: genie_env.c.
// Leaves out: joint LAM/dynamics training, stochastic sampling of frames (the dynamics is
// a deterministic mean predictor), thread splitting of the env (one batched pass).
//
// Letters: B = batch, C = channels, R = model side, P = C R R, K = codes, D = code dim,
// E = encoder channels, H1 = R/2, H2 = R/4, F = 2E H2 H2 (4E pooled), HC = conv stack
// channels, NR = reward classes, N = envs, S = start contexts.
#include "worldmodel/genie.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/progress.h"
#include "worldmodel/genie_impl.h"
#include "worldmodel/genie_world.h"

lc_genie_cfg lc_genie_cfg_default(void) {
    lc_genie_cfg c = {0};
    c.res = 16;
    c.n_codes = 8;
    c.code_dim = 16;
    c.enc_ch = 16;
    c.lam_hidden = 32;
    c.dyn_hidden = 32;
    c.beta = 0.25f;
    c.lr = 1e-3f;
    c.batch = 64;
    c.lam_steps = 2000;
    c.dyn_steps = 2000;
    c.restart_window = 100;
    c.enc_pool = 0;
    c.holdout = 0.1f;
    c.horizon = 200;
    c.max_starts = 1024;
    c.start_anywhere = 1;
    c.dyn_noise = 0.0f;
    c.dyn_unroll = 4;
    c.dyn_l1 = 0;
    c.rare_code = 0.25f;
    c.seed = 1;
    return c;
}

double lc_genie_peak_rss_mb(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)ru.ru_maxrss / 1024.0;
}

// Pixel values live in [0, 1].

int lc_genie_check_cfg(const lc_genie_cfg *c, int C, lc_error *err) {
    if (c->res < 4 || c->res > 256 || c->res % 4)
        return lc_fail(err, LC_ERR_ARG, "genie: res %d must be a multiple of 4 in [4, 256]", c->res);
    if (C < 1 || C > 4) return lc_fail(err, LC_ERR_ARG, "genie: %d channels (1..4)", C);
    if (c->n_codes < 2 || c->n_codes > 256)
        return lc_fail(err, LC_ERR_ARG, "genie: n_codes %d must be in [2, 256]", c->n_codes);
    if (c->code_dim < 1 || c->code_dim > 256 || c->enc_ch < 1 || c->enc_ch > 256 ||
        c->lam_hidden < 1 || c->lam_hidden > 8192 || c->dyn_hidden < 1 || c->dyn_hidden > 8192)
        return lc_fail(err, LC_ERR_ARG, "genie: a layer size is out of range");
    if (c->batch < 1 || c->batch > 8192 || c->lam_steps < 0 || c->dyn_steps < 0 ||
        c->restart_window < 0 || c->max_starts < 1 || c->horizon < 1)
        return lc_fail(err, LC_ERR_ARG, "genie: batch, steps, window, starts or horizon out of range");
    if (!(c->lr > 0 && c->lr < 1) || !(c->beta >= 0 && c->beta < 100) ||
        !(c->holdout >= 0 && c->holdout < 1))
        return lc_fail(err, LC_ERR_ARG, "genie: lr, beta or holdout out of range");
    if (c->enc_pool < 0 || c->enc_pool > 1 || c->start_anywhere < 0 || c->start_anywhere > 1 ||
        c->dyn_l1 < 0 || c->dyn_l1 > 1)
        return lc_fail(err, LC_ERR_ARG, "genie: enc_pool, start_anywhere and dyn_l1 are 0 or 1");
    if (!(c->rare_code >= 0 && c->rare_code <= 1))
        return lc_fail(err, LC_ERR_ARG, "genie: rare_code must be in [0, 1]");
    if (!(c->dyn_noise >= 0 && c->dyn_noise < 1) || c->dyn_unroll < 0 || c->dyn_unroll > 64)
        return lc_fail(err, LC_ERR_ARG, "genie: dyn_noise must be in [0, 1) and dyn_unroll in [0, 64]");
    return LC_OK;
}

void lc_genie_free(lc_genie *g) {
    if (!g) return;
    lc_params_free(&g->lam);
    lc_params_free(&g->dyn);
    free(g->starts);
    free(g);
}


// Defines both parameter arenas for g->cfg and g->C (sizes only).
int lc_genie_define(lc_genie *g, lc_error *err) {
    const lc_genie_cfg *c = &g->cfg;
    int rc = lc_genie_check_cfg(c, g->C, err);
    if (rc) return rc;
    int C = g->C, R = c->res, E = c->enc_ch, D = c->code_dim, K = c->n_codes;
    g->R = R;
    g->P = C * R * R;
    g->H1 = R / 2;
    g->H2 = R / 4;
    g->F = c->enc_pool ? 4 * E : 2 * E * g->H2 * g->H2;
    lc_params_init(&g->lam);
    g->IC = c->enc_pool ? 2 * C : 4 * C;
    int s1[4] = {E, g->IC, 4, 4}, s2[4] = {2 * E, E, 4, 4}, sl[2] = {D, g->F}, scb[2] = {K, D};
    g->c1w = lc_params_add(&g->lam, "enc.c1w", 4, s1);
    g->c1b = lc_params_add(&g->lam, "enc.c1b", 1, &E);
    int E2 = 2 * E;
    g->c2w = lc_params_add(&g->lam, "enc.c2w", 4, s2);
    g->c2b = lc_params_add(&g->lam, "enc.c2b", 1, &E2);
    g->lw = lc_params_add(&g->lam, "enc.lw", 2, sl);
    g->lb = lc_params_add(&g->lam, "enc.lb", 1, &D);
    g->cb = lc_params_add(&g->lam, "codebook", 2, scb);
    lc_genie_cnet_define(&g->dec, &g->lam, "dec", 2 * C, c->lam_hidden, C, R, D);
    lc_params_init(&g->dyn);
    lc_genie_cnet_define(&g->dn, &g->dyn, "dyn", 2 * C, c->dyn_hidden, C, R, K);
    int NH = g->n_rvals + 1, shw[2] = {NH, 2 * c->dyn_hidden};
    g->hw = lc_params_add(&g->dyn, "dyn.head_w", 2, shw);
    g->hb = lc_params_add(&g->dyn, "dyn.head_b", 1, &NH);
    return LC_OK;
}

// Defines and allocates both parameter arenas for g->cfg and g->C.
int lc_genie_build(lc_genie *g, lc_error *err) {
    int rc = lc_genie_define(g, err);
    if (rc || (rc = lc_params_alloc(&g->lam, err))) return rc;
    return lc_params_alloc(&g->dyn, err);
}

static void init_params(lc_genie *g) {
    lc_rng rng;
    lc_rng_seed(&rng, g->cfg.seed, 0x9e11e);
    int E = g->cfg.enc_ch, D = g->cfg.code_dim;
    lc_init_kaiming_uniform(lc_param(&g->lam, g->c1w), g->IC * 16, (size_t)E * g->IC * 16, &rng);
    lc_init_kaiming_uniform(lc_param(&g->lam, g->c2w), E * 16, (size_t)2 * E * E * 16, &rng);
    lc_init_xavier_uniform(lc_param(&g->lam, g->lw), g->F, D, (size_t)D * g->F, &rng);
    lc_init_normal(lc_param(&g->lam, g->cb), (size_t)g->cfg.n_codes * D, 1.0f, &rng);
    // Small output layers: both nets start by predicting "no change" (copy the frame).
    lc_genie_cnet_init(&g->dec, &g->lam, 0.01f, &rng);
    lc_genie_cnet_init(&g->dn, &g->dyn, 0.01f, &rng);
    lc_init_xavier_uniform(lc_param(&g->dyn, g->hw), 2 * g->cfg.dyn_hidden, g->n_rvals + 1,
                           (size_t)2 * g->cfg.dyn_hidden * (g->n_rvals + 1), &rng);
}

// The rewards the model predicts a distribution over: the data's distinct values (0
// included) when there are at most LC_GENIE_MAX_RVALS, otherwise the centres of that many
// equal bins over the data's range.
static int reward_classes(lc_genie *g, const lc_frames *fr, lc_error *err) {
    float *v = g->rvals;
    int n = 1, distinct = 1;
    v[0] = 0.0f;
    float lo = 0.0f, hi = 0.0f;
    for (size_t r = 0; r < fr->n; r++) {
        float x = fr->rewards[r];
        if (!isfinite(x)) return lc_fail(err, LC_ERR_NAN, "genie: reward %zu is not finite", r);
        lo = fminf(lo, x), hi = fmaxf(hi, x);
        if (!distinct) continue;
        int k = 0;
        while (k < n && v[k] != x) k++;
        if (k < n) continue;
        if (n == LC_GENIE_MAX_RVALS) distinct = 0;
        else v[n++] = x;
    }
    if (!distinct) {
        n = LC_GENIE_MAX_RVALS;
        for (int k = 0; k < n; k++) v[k] = lo + (hi - lo) * ((float)k + 0.5f) / (float)n;
    }
    g->n_rvals = n;
    return LC_OK;
}

// Index of the reward class nearest to r.
int lc_genie_reward_class(const lc_genie *g, float r) {
    int best = 0;
    for (int k = 1; k < g->n_rvals; k++)
        if (fabsf(g->rvals[k] - r) < fabsf(g->rvals[best] - r)) best = k;
    return best;
}

int lc_genie_new(lc_genie **out, const lc_genie_cfg *cfg, int C, const lc_frames *like,
                 lc_error *err) {
    *out = NULL;
    int rc = lc_genie_check_cfg(cfg, C, err); // before res divides anything
    if (rc) return rc;
    lc_genie *g = calloc(1, sizeof *g);
    if (!g) return lc_fail(err, LC_ERR_NOMEM, "genie: out of memory");
    g->cfg = *cfg;
    g->C = C;
    g->n_rvals = 1; // without data: rewards are 0
    g->rvals[0] = 0.0f;
    for (int k = 0; k < cfg->n_codes; k++) g->code_alias[k] = (uint8_t)k;
    if (like) {
        rc = reward_classes(g, like, err);
        if (rc) {
            lc_genie_free(g);
            return rc;
        }
        snprintf(g->env_name, sizeof g->env_name, "%s", like->env_name);
        g->game_h = like->game_h, g->game_w = like->game_w, g->game_c = like->game_c;
        g->n_real_actions = like->n_actions;
        if (like->H % cfg->res || like->W != like->H) {
            lc_genie_free(g);
            return lc_fail(err, LC_ERR_ARG, "genie: res %d must divide the data's %dx%d frames",
                           cfg->res, like->H, like->W);
        }
    } else {
        g->game_h = g->game_w = cfg->res;
        g->game_c = C;
    }
    rc = lc_genie_build(g, err);
    if (rc) {
        lc_genie_free(g);
        return rc;
    }
    init_params(g);
    *out = g;
    return LC_OK;
}

// ---------------------------------------------------------------- frames

void lc_genie_prep(const lc_genie *g, const uint8_t *frame, int S, float *out) {
    int R = g->R, C = g->C, f = S / R;
    float inv = 1.0f / (255.0f * (float)(f * f));
    for (int c = 0; c < C; c++)
        for (int y = 0; y < R; y++)
            for (int x = 0; x < R; x++) {
                unsigned acc = 0;
                for (int dy = 0; dy < f; dy++)
                    for (int dx = 0; dx < f; dx++)
                        acc += frame[((size_t)(y * f + dy) * S + (x * f + dx)) * C + c];
                out[((size_t)c * R + y) * R + x] = (float)acc * inv;
            }
}

int lc_genie_prep_all(const lc_genie *g, const lc_frames *fr, float **out, lc_error *err) {
    *out = NULL;
    if (fr->C != g->C || fr->H % g->R)
        return lc_fail(err, LC_ERR_SHAPE, "genie: frames (%d, %d, %d) do not fit a model of "
                       "side %d with %d channels", fr->H, fr->W, fr->C, g->R, g->C);
    float *X = malloc(fr->n * (size_t)g->P * sizeof(float));
    if (!X) return lc_fail(err, LC_ERR_NOMEM, "genie: out of memory for %zu frames", fr->n);
    size_t S = (size_t)fr->H * fr->W * fr->C;
    for (size_t r = 0; r < fr->n; r++) lc_genie_prep(g, fr->frames + r * S, fr->H, X + r * g->P);
    *out = X;
    return LC_OK;
}

int lc_genie_triple_ok(const lc_frames *fr, size_t t) {
    return t >= 1 && t + 1 < fr->n && !fr->starts[t] && !fr->starts[t + 1];
}

int lc_genie_label_first(const lc_frames *fr, size_t end, int n, size_t *t) {
    int nl = 0;
    for (size_t c = 1; c + 1 < end && nl < n; c++)
        if (lc_genie_triple_ok(fr, c)) t[nl++] = c;
    return nl;
}

// ---------------------------------------------------------------- LAM passes



void lc_genie_lam_buf_free(lam_buf *b) {
    float *ps[] = {b->in,  b->h1,    b->h2,     b->pool, b->z,     b->zq,  b->decin,
                   b->acts, b->tgt,  b->col,   b->dpred, b->dzq, b->dz,
                   b->dpool, b->dh2, b->dh2p, b->dh1,   b->dh1p,   b->work};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) free(ps[i]);
    free(b->codes);
    free(b->am);
    memset(b, 0, sizeof *b);
}

int lc_genie_lam_buf_init(lam_buf *b, const lc_genie *g, int B, int train, lc_error *err) {
    memset(b, 0, sizeof *b);
    b->B = B;
    size_t C = g->C, R = g->R, E = g->cfg.enc_ch, D = g->cfg.code_dim, P = g->P, n = B;
    size_t col1 = lc_conv2d_col_size(g->IC, g->R, g->R, 4, 2, 1);
    size_t col2 = lc_conv2d_col_size(g->cfg.enc_ch, g->H1, g->H1, 4, 2, 1);
    size_t A = lc_genie_cnet_act_size(&g->dec, B), DI = 2 * C * R * R;
    size_t col3 = lc_genie_cnet_col_size(&g->dec);
    if (col3 > col1) col1 = col3;
    b->in = malloc(n * 4 * C * R * R * sizeof(float));
    b->h1 = malloc(n * E * g->H1 * g->H1 * sizeof(float));
    b->h2 = malloc(n * 2 * E * g->H2 * g->H2 * sizeof(float));
    b->pool = malloc(n * 4 * E * sizeof(float));
    b->am = malloc(n * 2 * E * sizeof(int));
    b->z = malloc(n * D * sizeof(float));
    b->zq = malloc(n * D * sizeof(float));
    b->codes = malloc(n * sizeof(int));
    b->decin = malloc(n * DI * sizeof(float));
    b->acts = malloc(A * sizeof(float));
    b->tgt = malloc(n * P * sizeof(float));
    b->col = malloc((col1 > col2 ? col1 : col2) * sizeof(float));
    int ok = b->in && b->h1 && b->h2 && b->pool && b->am && b->z && b->zq && b->codes && b->decin && b->acts &&
             b->tgt && b->col;
    if (train) {
        b->dpred = malloc(n * P * sizeof(float));
        b->dzq = malloc(n * D * sizeof(float));
        b->dz = malloc(n * D * sizeof(float));
        b->dpool = malloc(n * 4 * E * sizeof(float));
        b->dh2 = malloc(n * 2 * E * g->H2 * g->H2 * sizeof(float));
        b->dh2p = malloc(n * 2 * E * g->H2 * g->H2 * sizeof(float));
        b->dh1 = malloc(n * E * g->H1 * g->H1 * sizeof(float));
        b->dh1p = malloc(n * E * g->H1 * g->H1 * sizeof(float));
        b->work = malloc(lc_genie_cnet_work_size(&g->dec, B) * sizeof(float));
        ok = ok && b->dpred && b->dzq && b->dz && b->dpool && b->dh2 && b->dh2p && b->dh1 &&
             b->dh1p && b->work;
    }
    if (!ok) {
        lc_genie_lam_buf_free(b);
        return lc_fail(err, LC_ERR_NOMEM, "genie: out of memory for LAM buffers");
    }
    return LC_OK;
}

// Encoder for b->B triples centred at t[i]: fills in, h1, h2, z (and tgt, decin's frames).
static void lam_encode(const lc_genie *g, lam_buf *b, const float *X, const size_t *t) {
    const int B = b->B, C = g->C, R = g->R, E = g->cfg.enc_ch, D = g->cfg.code_dim, P = g->P;
    for (int i = 0; i < B; i++) {
        const float *xp = X + (t[i] - 1) * P, *xc = X + t[i] * P, *xn = X + (t[i] + 1) * P;
        float *in = b->in + (size_t)i * (g->IC / C) * P, *tg = b->tgt + (size_t)i * P;
        for (int j = 0; j < P; j++) tg[j] = xn[j] - xc[j];
        if (g->cfg.enc_pool) { // the two differences: what moved, and how
            for (int j = 0; j < P; j++) in[j] = xc[j] - xp[j];
            memcpy(in + P, tg, P * sizeof(float));
        } else {
            memcpy(in, xp, P * sizeof(float));
            memcpy(in + P, xc, P * sizeof(float));
            memcpy(in + 2 * P, xn, P * sizeof(float));
            memcpy(in + 3 * P, tg, P * sizeof(float));
        }
        float *di = b->decin + (size_t)i * 2 * P;
        memcpy(di, xp, P * sizeof(float));
        memcpy(di + P, xc, P * sizeof(float));
    }
    lc_conv2d_forward(b->h1, b->col, b->in, lc_param(&g->lam, g->c1w), lc_param(&g->lam, g->c1b),
                      B, g->IC, R, R, E, 4, 2, 1);
    size_t n1 = (size_t)B * E * g->H1 * g->H1;
    lc_relu_forward(b->h1, b->h1, n1);
    lc_conv2d_forward(b->h2, b->col, b->h1, lc_param(&g->lam, g->c2w), lc_param(&g->lam, g->c2b),
                      B, E, g->H1, g->H1, 2 * E, 4, 2, 1);
    const int S2 = g->H2 * g->H2;
    lc_relu_forward(b->h2, b->h2, (size_t)B * 2 * E * S2);
    if (g->cfg.enc_pool) lc_gpool_forward(b->pool, b->am, b->h2, B, 2 * E, S2);
    lc_linear_forward(b->z, g->cfg.enc_pool ? b->pool : b->h2, lc_param(&g->lam, g->lw),
                      lc_param(&g->lam, g->lb), B, g->F, D);
}

// Codes of the triples centred at t[0..B) through b, cap rows at a time (b's size).
void lc_genie_lam_read(const lc_genie *g, lam_buf *b, int cap, const float *X, const size_t *t,
                     int B, int *codes) {
    for (int i0 = 0; i0 < B; i0 += cap) {
        b->B = B - i0 < cap ? B - i0 : cap;
        lam_encode(g, b, X, t + i0);
        lc_vq_forward(b->zq, codes + i0, b->z, lc_param(&g->lam, g->cb), b->B, g->cfg.n_codes,
                      g->cfg.code_dim);
    }
}

int lc_genie_infer(const lc_genie *g, const float *X, const size_t *t, int B, int *codes) {
    lam_buf b;
    int cap = B < 256 ? B : 256;
    if (lc_genie_lam_buf_init(&b, g, cap, 0, NULL) != LC_OK) {
        for (int i = 0; i < B; i++) codes[i] = 0;
        return LC_ERR_NOMEM;
    }
    lc_genie_lam_read(g, &b, cap, X, t, B, codes);
    lc_genie_lam_buf_free(&b);
    return LC_OK;
}

int lc_genie_label_map(const lc_genie *g, const float *X, const lc_frames *fr, const size_t *t,
                       int n, int *map) {
    const int K = g->cfg.n_codes, A = fr->n_actions;
    int *codes = malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    long *count = calloc((size_t)K * A, sizeof(long)); // (K, A)
    int rc = codes && count ? LC_OK : LC_ERR_NOMEM;
    if (!rc && n > 0) rc = lc_genie_infer(g, X, t, n, codes);
    for (int i = 0; i < n && !rc; i++) count[(size_t)codes[i] * A + fr->actions[t[i] + 1]]++;
    for (int k = 0; k < K; k++) {
        map[k] = 0;
        for (int a = 1; a < A && !rc; a++)
            if (count[(size_t)k * A + a] > count[(size_t)k * A + map[k]]) map[k] = a;
    }
    free(codes);
    free(count);
    return rc;
}

// The dream and the real game in lockstep, and the real game under the dream's actions
// (genie.h): genie_world.c's, for either design, over a copy of g.
int lc_genie_run_lockstep(const lc_genie *g, const int *map, int M, int W, uint64_t seed,
                          lc_genie_chooser choose, void *ctx, int n_actions,
                          lc_genie_lockstep *out, lc_error *err) {
    lc_gworld *w = NULL;
    int rc = lc_gworld_of_genie(&w, g, err);
    if (!rc) rc = lc_gworld_lockstep(w, map, M, W, seed, NULL, choose, ctx, n_actions, out, err);
    lc_gworld_free(w);
    return rc;
}

int lc_genie_play_real(const lc_genie *g, const int *map, lc_genie_chooser choose, void *ctx,
                       int n_actions, int fixed, int episodes, uint64_t seed, double *mean,
                       double *sd, lc_error *err) {
    lc_gworld *w = NULL;
    int rc = lc_gworld_of_genie(&w, g, err);
    if (!rc)
        rc = lc_gworld_play_real(w, map, choose, ctx, n_actions, fixed, episodes, seed, mean, sd,
                                 err);
    lc_gworld_free(w);
    return rc;
}

// LAM loss on a batch with its (straight-through) gradients in g->lam.grads (zeroed first).
static double lam_fwd_bwd(lc_genie *g, lam_buf *b, const float *X, const size_t *t) {
    const int B = b->B, R = g->R, E = g->cfg.enc_ch, D = g->cfg.code_dim, P = g->P,
              K = g->cfg.n_codes;
    lam_encode(g, b, X, t);
    const float *cb = lc_param(&g->lam, g->cb);
    lc_vq_losses vl = lc_vq_forward(b->zq, b->codes, b->z, cb, B, K, D);
    const float *pred = lc_genie_cnet_forward(&g->dec, &g->lam, b->acts, b->col, b->decin, b->zq, B);
    float mse = lc_mse_forward(pred, b->tgt, (size_t)B * P);
    lc_params_zero_grad(&g->lam);
    memset(b->dpred, 0, (size_t)B * P * sizeof(float));
    // Reconstruction as squared error summed over a frame's pixels (mean over the batch),
    // so it is not swamped by the codebook/commitment terms (means over D).
    lc_mse_backward(b->dpred, pred, b->tgt, (size_t)B * P, (float)P);
    // The frames are inputs, not parameters: no gradient into them.
    lc_genie_cnet_backward(&g->dec, &g->lam, b->work, b->col, b->acts, b->decin, b->zq, b->dpred, NULL,
                  NULL, b->dzq, B);
    memset(b->dz, 0, (size_t)B * D * sizeof(float));
    lc_vq_backward(b->dz, lc_grad(&g->lam, g->cb), b->dzq, b->z, cb, b->codes, B, K, D,
                   g->cfg.beta);
    const int pool = g->cfg.enc_pool, S2 = g->H2 * g->H2;
    const size_t n2 = (size_t)B * 2 * E * S2;
    float *dfeat = pool ? b->dpool : b->dh2;
    memset(dfeat, 0, (size_t)B * g->F * sizeof(float));
    lc_linear_backward(dfeat, lc_grad(&g->lam, g->lw), lc_grad(&g->lam, g->lb), b->dz,
                       pool ? b->pool : b->h2, lc_param(&g->lam, g->lw), B, g->F, D);
    if (pool) {
        memset(b->dh2, 0, n2 * sizeof(float));
        lc_gpool_backward(b->dh2, b->dpool, b->am, B, 2 * E, S2);
    }
    memset(b->dh2p, 0, n2 * sizeof(float));
    lc_relu_backward(b->dh2p, b->dh2, b->h2, n2);
    size_t n1 = (size_t)B * E * g->H1 * g->H1;
    memset(b->dh1, 0, n1 * sizeof(float));
    lc_conv2d_backward(b->dh1, lc_grad(&g->lam, g->c2w), lc_grad(&g->lam, g->c2b), b->col, b->dh2p,
                       b->h1, lc_param(&g->lam, g->c2w), B, E, g->H1, g->H1, 2 * E, 4, 2, 1);
    memset(b->dh1p, 0, n1 * sizeof(float));
    lc_relu_backward(b->dh1p, b->dh1, b->h1, n1);
    lc_conv2d_backward(NULL, lc_grad(&g->lam, g->c1w), lc_grad(&g->lam, g->c1b), b->col, b->dh1p,
                       b->in, lc_param(&g->lam, g->c1w), B, g->IC, R, R, E, 4, 2, 1);
    return (double)mse * P + vl.codebook + g->cfg.beta * vl.commit;
}

static double lam_step(lc_genie *g, lam_buf *b, const float *X, const size_t *t,
                       const lc_adam *opt) {
    double loss = lam_fwd_bwd(g, b, X, t);
    lc_clip_grad_norm(g->lam.grads, g->lam.n, 1.0f);
    lc_adam_step(&g->lam, opt);
    return loss;
}

double lc_genie_lam_loss(lc_genie *g, const float *X, const size_t *t, int B, int *codes) {
    lam_buf b;
    if (lc_genie_lam_buf_init(&b, g, B, 1, NULL) != LC_OK) return NAN;
    double loss = lam_fwd_bwd(g, &b, X, t);
    if (codes) memcpy(codes, b.codes, (size_t)B * sizeof(int));
    lc_genie_lam_buf_free(&b);
    return loss;
}

// ---------------------------------------------------------------- dynamics

// Buffers of one dynamics pass over B samples (pointers into one float block for
// inference, separate for training).
typedef struct dyn_buf {
    int B;
    float *in;   // (B, 2C, R, R): x_{t-1}, x_t
    float *cond; // (B, K) one-hot latent actions
    float *acts; // the conv stack's activations; a2 = acts + B HC R R
    float *col;
    float *pool; // (B, 2 HC) mean and max of a2 over space
    float *head; // (B, NR + 1): reward class logits, end logit
    float *prob; // (B, NR) reward class probabilities
    int *am;     // (B, HC) or NULL (inference)
    // training
    float *dout, *dhead, *dpool, *da2, *work; // (B, C, R, R), like head, (B, 2 HC), like a2
    float *rows;                              // (2, B, P)
} dyn_buf;

static size_t dyn_fwd_floats(const lc_genie *g, int B) {
    const lc_genie_cnet *n = &g->dn;
    return (size_t)B * (2 * g->P + g->cfg.n_codes + 2 * n->HC + 2 * g->n_rvals + 1) +
           lc_genie_cnet_act_size(n, B) + lc_genie_cnet_col_size(n);
}

size_t lc_genie_dyn_work(const lc_genie *g, int B) { return dyn_fwd_floats(g, B); }

// Carves the forward buffers out of w (dyn_fwd_floats floats).
static void dyn_buf_carve(dyn_buf *b, const lc_genie *g, float *w, int B) {
    memset(b, 0, sizeof *b);
    b->B = B;
    b->in = w, w += (size_t)B * 2 * g->P;
    b->cond = w, w += (size_t)B * g->cfg.n_codes;
    b->pool = w, w += (size_t)B * 2 * g->dn.HC;
    b->head = w, w += (size_t)B * (g->n_rvals + 1);
    b->prob = w, w += (size_t)B * g->n_rvals;
    b->acts = w, w += lc_genie_cnet_act_size(&g->dn, B);
    b->col = w;
}

// Forward from prev (B, P), cur (B, P), codes (B): returns the predicted difference
// (B, C, R, R); b->head holds the heads. The dynamics conditions on code_alias[code], the
// code the dream plays, in training and at play alike. (In Catch the LAM spends its rare
// codes on the outcome, the catch: "left and caught" is its own code. A dynamics trained
// on the LAM's raw codes drew catches only for those codes, which the dream never plays,
// and lost 65% of them.)
static const float *dyn_forward(const lc_genie *g, dyn_buf *b, const float *prev,
                                const float *cur, const int *codes) {
    const int B = b->B, P = g->P, K = g->cfg.n_codes, HC = g->dn.HC;
    const size_t S = (size_t)g->R * g->R;
    for (int i = 0; i < B; i++) {
        memcpy(b->in + (size_t)i * 2 * P, prev + (size_t)i * P, P * sizeof(float));
        memcpy(b->in + (size_t)i * 2 * P + P, cur + (size_t)i * P, P * sizeof(float));
        memset(b->cond + (size_t)i * K, 0, K * sizeof(float));
        b->cond[(size_t)i * K + g->code_alias[codes[i]]] = 1.0f;
    }
    const float *o = lc_genie_cnet_forward(&g->dn, &g->dyn, b->acts, b->col, b->in, b->cond, B);
    const float *a2 = b->acts + (size_t)B * HC * S;
    lc_gpool_forward(b->pool, b->am, a2, B, HC, (int)S);
    const int NH = g->n_rvals + 1;
    lc_linear_forward(b->head, b->pool, lc_param(&g->dyn, g->hw), lc_param(&g->dyn, g->hb), B,
                      2 * HC, NH);
    for (int i = 0; i < B; i++)
        lc_softmax(b->prob + (size_t)i * g->n_rvals, b->head + (size_t)i * NH, 1, g->n_rvals);
    return o;
}

void lc_genie_dyn_step(const lc_genie *g, float *work, const float *prev, const float *cur,
                       const int *codes, int B, float *next, float *rewards, float *end_logits) {
    const int P = g->P;
    dyn_buf b;
    dyn_buf_carve(&b, g, work, B);
    const float *o = dyn_forward(g, &b, prev, cur, codes);
    for (int i = 0; i < B; i++) {
        const float *oi = o + (size_t)i * P, *ci = cur + (size_t)i * P;
        float *ni = next + (size_t)i * P;
        for (int j = 0; j < P; j++) ni[j] = clamp01(ci[j] + oi[j]);
        if (rewards) { // the expected reward under the predicted distribution
            float r = 0.0f;
            for (int k = 0; k < g->n_rvals; k++) r += b.prob[(size_t)i * g->n_rvals + k] * g->rvals[k];
            rewards[i] = r;
        }
        if (end_logits) end_logits[i] = b.head[(size_t)i * (g->n_rvals + 1) + g->n_rvals];
    }
}

size_t lc_genie_disagree_work(const lc_genie *g, int B) {
    return (size_t)B * (2 * g->P + g->cfg.code_dim) + lc_genie_cnet_act_size(&g->dec, B) +
           lc_genie_cnet_col_size(&g->dec);
}

void lc_genie_disagree(const lc_genie *g, float *work, const float *prev, const float *cur,
                       const int *codes, int B, const float *next, float *d) {
    const int P = g->P, D = g->cfg.code_dim;
    float *in = work, *cond = in + (size_t)B * 2 * P, *acts = cond + (size_t)B * D;
    float *col = acts + lc_genie_cnet_act_size(&g->dec, B);
    const float *cb = lc_param(&g->lam, g->cb);
    for (int i = 0; i < B; i++) {
        memcpy(in + (size_t)i * 2 * P, prev + (size_t)i * P, P * sizeof(float));
        memcpy(in + (size_t)i * 2 * P + P, cur + (size_t)i * P, P * sizeof(float));
        memcpy(cond + (size_t)i * D, cb + (size_t)g->code_alias[codes[i]] * D, D * sizeof(float));
    }
    const float *o = lc_genie_cnet_forward(&g->dec, &g->lam, acts, col, in, cond, B);
    for (int i = 0; i < B; i++) {
        const float *oi = o + (size_t)i * P, *ci = cur + (size_t)i * P, *ni = next + (size_t)i * P;
        double acc = 0;
        for (int j = 0; j < P; j++) {
            float v = clamp01(ci[j] + oi[j]);
            acc += (double)(v - ni[j]) * (v - ni[j]);
        }
        d[i] = (float)(acc / P);
    }
}

// The halt threshold: the largest disagreement on up to 8192 real training transitions
// (centres idx[0..n)) with the LAM's codes, into g->halt_disagree. (A quantile halted the
// rarest real events: in Catch, the catches, the only reward worth learning.)
static int calibrate_halt(lc_genie *g, const float *X, const size_t *idx, const int *codes,
                          size_t n, lc_error *err) {
    const int CH = 128, P = g->P;
    size_t m = n < 8192 ? n : 8192;
    float *dw = malloc(lc_genie_dyn_work(g, CH) * sizeof(float));
    float *aw = malloc(lc_genie_disagree_work(g, CH) * sizeof(float));
    float *pv = malloc((size_t)CH * P * sizeof(float)), *cu = malloc((size_t)CH * P * sizeof(float));
    float *nx = malloc((size_t)CH * P * sizeof(float)), *d = malloc(m * sizeof(float));
    int *cc = malloc((size_t)CH * sizeof(int));
    int rc = LC_OK;
    if (!dw || !aw || !pv || !cu || !nx || !d || !cc) rc = lc_fail(err, LC_ERR_NOMEM, "genie: out of memory");
    for (size_t i0 = 0; i0 < m && !rc; i0 += CH) {
        int b = m - i0 < (size_t)CH ? (int)(m - i0) : CH;
        for (int i = 0; i < b; i++) {
            size_t j = (i0 + i) * n / m; // spread over the data
            memcpy(pv + (size_t)i * P, X + (idx[j] - 1) * P, P * sizeof(float));
            memcpy(cu + (size_t)i * P, X + idx[j] * P, P * sizeof(float));
            cc[i] = codes[j];
        }
        lc_genie_dyn_step(g, dw, pv, cu, cc, b, nx, NULL, NULL);
        lc_genie_disagree(g, aw, pv, cu, cc, b, nx, d + i0);
    }
    g->halt_disagree = 0;
    for (size_t i = 0; i < m && !rc; i++)
        if (d[i] > g->halt_disagree) g->halt_disagree = d[i];
    free(dw), free(aw), free(pv), free(cu), free(nx), free(d), free(cc);
    return rc;
}

static void dyn_buf_free(dyn_buf *b) {
    free(b->in); // the forward block
    free(b->am);
    free(b->dout);
    free(b->dhead);
    free(b->dpool);
    free(b->da2);
    free(b->work);
    free(b->rows);
    memset(b, 0, sizeof *b);
}

static int dyn_buf_init(dyn_buf *b, const lc_genie *g, int B, lc_error *err) {
    float *w = malloc(dyn_fwd_floats(g, B) * sizeof(float));
    if (!w) return lc_fail(err, LC_ERR_NOMEM, "genie: out of memory for dynamics buffers");
    dyn_buf_carve(b, g, w, B);
    const size_t HC = (size_t)g->dn.HC, S = (size_t)g->R * g->R;
    b->am = malloc((size_t)B * HC * sizeof(int));
    b->dout = malloc((size_t)B * g->P * sizeof(float));
    b->dhead = malloc((size_t)B * (g->n_rvals + 1) * sizeof(float));
    b->dpool = malloc((size_t)B * 2 * HC * sizeof(float));
    b->da2 = malloc((size_t)B * HC * S * sizeof(float));
    b->work = malloc(lc_genie_cnet_work_size(&g->dn, B) * sizeof(float));
    b->rows = malloc((size_t)2 * B * g->P * sizeof(float));
    if (!b->rows || !b->am || !b->dout || !b->dhead || !b->dpool || !b->da2 || !b->work) {
        dyn_buf_free(b);
        return lc_fail(err, LC_ERR_NOMEM, "genie: out of memory for dynamics buffers");
    }
    return LC_OK;
}

// Loss of triples centred at t (frame error summed over pixels, reward squared error,
// end cross-entropy; means over the batch) with gradients in g->dyn.grads (zeroed first).
// With ctx_ready, b->rows already holds the context (x_{t-1}, x_t) to predict from (the
// model's own frames in unrolled training); the target is always the real x_{t+1}.
static double dyn_fwd_bwd(lc_genie *g, dyn_buf *b, const float *X, const lc_frames *fr,
                          const size_t *t, const int *codes, lc_rng *noise, int ctx_ready) {
    const int B = b->B, P = g->P, HC = g->dn.HC;
    const size_t S = (size_t)g->R * g->R;
    float *prev = b->rows, *cur = b->rows + (size_t)B * P; // x_{t-1}, x_t
    for (int i = 0; i < B && !ctx_ready; i++) {
        memcpy(prev + (size_t)i * P, X + (t[i] - 1) * P, P * sizeof(float));
        memcpy(cur + (size_t)i * P, X + t[i] * P, P * sizeof(float));
    }
    if (noise && g->cfg.dyn_noise > 0) // corrupted inputs, clean targets: learns to repair
        for (size_t j = 0; j < (size_t)2 * B * P; j++)
            b->rows[j] += g->cfg.dyn_noise * (float)lc_rng_normal(noise);
    const float *o = dyn_forward(g, b, prev, cur, codes);
    double loss = 0;
    const float sb = 1.0f / (float)B;
    for (int i = 0; i < B; i++) {
        const float *oi = o + (size_t)i * P, *xc = cur + (size_t)i * P, *xn = X + (t[i] + 1) * P;
        float *d = b->dout + (size_t)i * P;
        for (int j = 0; j < P; j++) {
            float e = oi[j] - (xn[j] - xc[j]);
            if (g->cfg.dyn_l1) { // the median, not the mean: a thing that may be in two
                loss += (double)fabsf(e) * sb; // places is drawn in one, not smeared over both
                d[j] = (e > 0.0f ? 1.0f : e < 0.0f ? -1.0f : 0.0f) * sb;
            } else {
                loss += (double)e * e * sb;
                d[j] = 2.0f * e * sb;
            }
        }
        // reward: cross-entropy over the reward classes; end: binary cross-entropy
        const int NR = g->n_rvals, y_r = lc_genie_reward_class(g, fr->rewards[t[i] + 1]);
        const float *pr = b->prob + (size_t)i * NR;
        float *dh = b->dhead + (size_t)i * (NR + 1);
        loss -= log((double)fmaxf(pr[y_r], 1e-30f)) * sb;
        for (int k = 0; k < NR; k++) dh[k] = (pr[k] - (k == y_r ? 1.0f : 0.0f)) * sb;
        float y = fr->terminated[t[i] + 1] ? 1.0f : 0.0f, z = b->head[(size_t)i * (NR + 1) + NR];
        float p = 1.0f / (1.0f + expf(-z));
        loss += (double)(fmaxf(z, 0) - z * y + log1pf(expf(-fabsf(z)))) * sb;
        dh[NR] = (p - y) * sb;
    }
    lc_params_zero_grad(&g->dyn);
    memset(b->dpool, 0, (size_t)B * 2 * HC * sizeof(float));
    lc_linear_backward(b->dpool, lc_grad(&g->dyn, g->hw), lc_grad(&g->dyn, g->hb), b->dhead,
                       b->pool, lc_param(&g->dyn, g->hw), B, 2 * HC, g->n_rvals + 1);
    memset(b->da2, 0, (size_t)B * HC * S * sizeof(float));
    lc_gpool_backward(b->da2, b->dpool, b->am, B, HC, (int)S);
    lc_genie_cnet_backward(&g->dn, &g->dyn, b->work, b->col, b->acts, b->in, b->cond, b->dout, b->da2,
                  NULL, NULL, B);
    return loss;
}

// Rolls the model k steps from the real (x_{t-k-1}, x_{t-k}) with the LAM's codes of
// those steps (code_at, by centre index) into b->rows: the context the model itself
// would have reached at t. Forward passes only (the unrolled frames are inputs).
static void dyn_unroll(const lc_genie *g, dyn_buf *b, const float *X, const size_t *t,
                       const int *code_at, int k, int *bc) {
    const int B = b->B, P = g->P;
    float *prev = b->rows, *cur = b->rows + (size_t)B * P, *next = b->dout; // dout: free now
    for (int i = 0; i < B; i++) {
        memcpy(prev + (size_t)i * P, X + (t[i] - k - 1) * P, P * sizeof(float));
        memcpy(cur + (size_t)i * P, X + (t[i] - k) * P, P * sizeof(float));
    }
    for (int j = 0; j < k; j++) {
        for (int i = 0; i < B; i++) bc[i] = code_at[t[i] - k + j];
        // dyn_forward reads prev/cur into b->in before writing anything else
        const float *o = dyn_forward(g, b, prev, cur, bc);
        for (size_t q = 0; q < (size_t)B * P; q++) next[q] = clamp01(cur[q] + o[q]);
        memcpy(prev, cur, (size_t)B * P * sizeof(float));
        memcpy(cur, next, (size_t)B * P * sizeof(float));
    }
}

static double dyn_train_step(lc_genie *g, dyn_buf *b, const float *X, const lc_frames *fr,
                             const size_t *t, const int *codes, const lc_adam *opt,
                             lc_rng *rng, int ctx_ready) {
    double loss = dyn_fwd_bwd(g, b, X, fr, t, codes, rng, ctx_ready);
    lc_clip_grad_norm(g->dyn.grads, g->dyn.n, 1.0f);
    lc_adam_step(&g->dyn, opt);
    return loss;
}

double lc_genie_dyn_loss(lc_genie *g, const lc_frames *fr, const float *X, const size_t *t,
                         const int *codes, int B) {
    dyn_buf b;
    if (dyn_buf_init(&b, g, B, NULL) != LC_OK) return NAN;
    double loss = dyn_fwd_bwd(g, &b, X, fr, t, codes, NULL, 0);
    dyn_buf_free(&b);
    return loss;
}

// ---------------------------------------------------------------- training

// 1 if frames r, r + 1 of fr can start a dream: consecutive in an episode that goes on,
// and r an episode start unless anywhere.
int lc_genie_start_ok(const lc_frames *fr, size_t r, int anywhere) {
    if (fr->starts[r + 1] || fr->terminated[r + 1] || fr->truncated[r + 1]) return 0;
    return anywhere || fr->starts[r];
}

int lc_genie_train(lc_genie *g, const lc_frames *fr, const float *X, lc_genie_progress cb,
                   void *ctx, lc_error *err) {
    const lc_genie_cfg *c = &g->cfg;
    size_t train_end = fr->n - (size_t)((double)fr->n * c->holdout);
    size_t nt = 0;
    size_t *idx = malloc(fr->n * sizeof(size_t));
    if (!idx) return lc_fail(err, LC_ERR_NOMEM, "genie: out of memory");
    for (size_t t = 1; t + 1 < train_end; t++)
        if (lc_genie_triple_ok(fr, t)) idx[nt++] = t;
    if (nt < 2) {
        free(idx);
        return lc_fail(err, LC_ERR_ARG, "genie: only %zu training transitions (need episodes "
                       "of 3 frames or more)", nt);
    }
    g->train_frames = (int64_t)train_end;
    // Model frames live in [0, 1]: a NaN would stop training at the step that drew it, or
    // (in a start context) make a checkpoint that no loader takes.
    for (size_t i = 0; i < fr->n * (size_t)g->P; i++)
        if (!(X[i] >= 0.0f && X[i] <= 1.0f)) {
            free(idx);
            return lc_fail(err, LC_ERR_NAN, "genie: model frame %zu holds %g (not finite or "
                           "outside [0, 1])", i / (size_t)g->P, (double)X[i]);
        }
    // Start contexts: (x_s, x_{s+1}) where s starts an episode that goes on (or, with
    // start_anywhere, any two consecutive frames of an episode that goes on).
    size_t ns = 0;
    for (size_t r = 0; r + 1 < train_end; r++) ns += lc_genie_start_ok(fr, r, c->start_anywhere);
    if (ns == 0) {
        free(idx);
        return lc_fail(err, LC_ERR_ARG, "genie: no episode in the data lasts 2 frames");
    }
    size_t keep = ns < (size_t)c->max_starts ? ns : (size_t)c->max_starts;
    free(g->starts);
    g->starts = malloc(keep * 2 * g->P * sizeof(float));
    if (!g->starts) {
        free(idx);
        return lc_fail(err, LC_ERR_NOMEM, "genie: out of memory");
    }
    g->n_starts = keep;
    for (size_t r = 0, j = 0, seen = 0; r + 1 < train_end && j < keep; r++) {
        if (!lc_genie_start_ok(fr, r, c->start_anywhere)) continue;
        if (seen++ * keep / ns != j) continue; // spread evenly over the data
        memcpy(g->starts + j * 2 * g->P, X + r * g->P, g->P * sizeof(float));
        memcpy(g->starts + j * 2 * g->P + g->P, X + (r + 1) * g->P, g->P * sizeof(float));
        j++;
    }
    lc_rng rng;
    lc_rng_seed(&rng, c->seed, 0x1a3);
    const int B = c->batch, K = c->n_codes, D = c->code_dim;
    size_t *bt = malloc((size_t)B * sizeof(size_t));
    int *usage = calloc((size_t)K, sizeof(int));
    lam_buf lb;
    int rc = lc_genie_lam_buf_init(&lb, g, B, 1, err);
    if (!bt || !usage) rc = rc ? rc : lc_fail(err, LC_ERR_NOMEM, "genie: out of memory");
    lc_adam opt = lc_adam_default(c->lr);
    double t0 = lc_now(), loss = 0;
    for (int s = 0; s < c->lam_steps && !rc; s++) {
        for (int i = 0; i < B; i++) bt[i] = idx[lc_rng_below(&rng, (uint32_t)nt)];
        if (s == 0) { // codebook from encoder outputs (data-dependent init)
            lam_encode(g, &lb, X, bt);
            float *cbk = lc_param(&g->lam, g->cb);
            for (int k = 0; k < K; k++)
                memcpy(cbk + k * D, lb.z + (size_t)lc_rng_below(&rng, (uint32_t)B) * D,
                       D * sizeof(float));
        }
        loss = lam_step(g, &lb, X, bt, &opt);
        if (!isfinite(loss)) {
            rc = lc_fail(err, LC_ERR_NAN, "genie: LAM loss is not finite at step %d", s);
            break;
        }
        // A relu maps NaN to 0: a non-finite weight can leave the loss finite.
        if (!lc_all_finite(g->lam.params, g->lam.n)) {
            rc = lc_fail(err, LC_ERR_NAN, "genie: LAM parameters are not finite after step %d", s);
            break;
        }
        for (int i = 0; i < B; i++) usage[lb.codes[i]]++;
        if (c->restart_window > 0 && (s + 1) % c->restart_window == 0) {
            float *cbk = lc_param(&g->lam, g->cb);
            for (int k = 0; k < K; k++)
                if (usage[k] == 0) { // dead: restart at an encoder output of this batch
                    const float *zr = lb.z + (size_t)lc_rng_below(&rng, (uint32_t)B) * D;
                    for (int d = 0; d < D; d++)
                        cbk[k * D + d] = zr[d] + 0.01f * (float)lc_rng_normal(&rng);
                    size_t off = g->lam.t[g->cb].offset + (size_t)k * D;
                    memset(g->lam.m + off, 0, (size_t)D * sizeof(float));
                    memset(g->lam.v + off, 0, (size_t)D * sizeof(float));
                    g->restarts++;
                }
            memset(usage, 0, (size_t)K * sizeof(int));
        }
        if (cb && (s + 1) % 100 == 0 && cb(ctx, 0, s + 1, loss)) break;
    }
    g->lam_loss = loss;
    g->lam_train_s = lc_now() - t0;
    lc_genie_lam_buf_free(&lb);
    // Dynamics on the frozen LAM's codes.
    int *codes = malloc(nt * sizeof(int));
    int *bc = malloc((size_t)B * sizeof(int)), *ubc = malloc((size_t)B * sizeof(int)); // ubc:
                                                                   // codes of unrolled steps
    dyn_buf db;
    memset(&db, 0, sizeof db);
    if (!rc && (!codes || !bc || !ubc)) rc = lc_fail(err, LC_ERR_NOMEM, "genie: out of memory");
    if (!rc) rc = dyn_buf_init(&db, g, B, err);
    t0 = lc_now();
    if (!rc) lc_genie_infer(g, X, idx, (int)nt, codes);
    if (!rc) lc_genie_set_aliases(g, codes, nt);
    // (from here on dyn_forward conditions each transition on its code's alias)
    loss = 0;
    // code_at[t]: the LAM's code of the triple centred at t (-1: none), for unrolling.
    int *code_at = NULL;
    if (!rc && c->dyn_unroll > 0) {
        code_at = malloc(fr->n * sizeof(int));
        if (!code_at) rc = lc_fail(err, LC_ERR_NOMEM, "genie: out of memory");
        for (size_t r = 0; code_at && r < fr->n; r++) code_at[r] = -1;
        for (size_t j = 0; code_at && j < nt; j++) code_at[idx[j]] = codes[j];
    }
    for (int s = 0; s < c->dyn_steps && !rc; s++) {
        // Unrolled steps: half the batches predict from the model's own frames, k steps
        // after the last real pair (k uniform in 1..dyn_unroll), only where the whole
        // history lies in one episode.
        int k = c->dyn_unroll > 0 && lc_rng_below(&rng, 2) ? 1 + (int)lc_rng_below(&rng, (uint32_t)c->dyn_unroll) : 0;
        for (int i = 0; i < B; i++) {
            size_t j;
            int tries = 0, ok;
            do {
                j = lc_rng_below(&rng, (uint32_t)nt);
                ok = 1;
                for (int q = 1; q <= k && ok; q++) ok = idx[j] >= (size_t)q + 1 && code_at[idx[j] - q] >= 0;
            } while (!ok && ++tries < 64);
            if (!ok) k = 0; // data without long enough episodes: no unrolling this batch
            bt[i] = idx[j];
            bc[i] = codes[j];
        }
        if (k > 0) dyn_unroll(g, &db, X, bt, code_at, k, ubc);
        loss = dyn_train_step(g, &db, X, fr, bt, bc, &opt, &rng, k > 0);
        if (!isfinite(loss)) {
            rc = lc_fail(err, LC_ERR_NAN, "genie: dynamics loss is not finite at step %d", s);
            break;
        }
        if (!lc_all_finite(g->dyn.params, g->dyn.n)) {
            rc = lc_fail(err, LC_ERR_NAN, "genie: dynamics parameters are not finite after "
                         "step %d", s);
            break;
        }
        if (cb && (s + 1) % 100 == 0 && cb(ctx, 1, s + 1, loss)) break;
    }
    g->dyn_loss = loss;
    if (!rc) rc = calibrate_halt(g, X, idx, codes, nt, err);
    g->dyn_train_s = lc_now() - t0;
    g->peak_rss_mb = lc_genie_peak_rss_mb();
    free(codes);
    free(code_at);
    dyn_buf_free(&db);
    free(bc);
    free(ubc);
    free(bt);
    free(usage);
    free(idx);
    return rc;
}

void lc_genie_set_aliases(lc_genie *g, const int *codes, size_t n) {
    int K = g->cfg.n_codes, D = g->cfg.code_dim;
    size_t use[256] = {0};
    for (size_t j = 0; j < n; j++) {
        assert(codes[j] >= 0 && codes[j] < K);
        use[codes[j]]++;
    }
    double floor_ = (double)g->cfg.rare_code / K * (double)n;
    char used[256];
    int any = 0;
    for (int k = 0; k < K; k++) any |= used[k] = use[k] > 0 && (double)use[k] >= floor_;
    const float *cb = lc_param(&g->lam, g->cb); // (K, D)
    for (int k = 0; k < K; k++) {
        g->code_alias[k] = (uint8_t)k;
        if (!any || used[k]) continue;
        double best = INFINITY;
        for (int j = 0; j < K; j++) {
            if (!used[j]) continue;
            double d2 = 0;
            for (int q = 0; q < D; q++) {
                double t = (double)cb[(size_t)k * D + q] - cb[(size_t)j * D + q];
                d2 += t * t;
            }
            if (d2 < best) best = d2, g->code_alias[k] = (uint8_t)j;
        }
    }
}

int lc_genie_played_codes(const lc_genie *g, int *played) {
    int n = 0;
    for (int k = 0; k < g->cfg.n_codes; k++)
        if (g->code_alias[k] == k) played[n++] = k;
    return n;
}

int lc_genie_action_code(const lc_genie *g, int n_actions, int a) {
    if (n_actions == g->cfg.n_codes) return g->code_alias[a];
    for (int k = 0, i = 0; k < g->cfg.n_codes; k++)
        if (g->code_alias[k] == k && i++ == a) return k;
    assert(!"lc_genie_action_code: action out of range");
    return 0;
}


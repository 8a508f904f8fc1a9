// worldmodel/genie_tokens.c: the token design of the Genie-style world (genie_tokens.h):
// the dynamics and heads over tokens (forward, backward, sampling), training, rollouts,
// and MaskGIT's masked training and iterative decoding. Leaves out: the checkpoint and the
// env (genie_tokens_io.c).
//
// B = batch, G = grid side, T = G G, V = token codes, De = embedding, HC = hidden,
// K = latent actions, NR = reward classes, Dh/HH = the heads' embedding and channels.
#include "worldmodel/genie_tokens.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/progress.h"
#include "worldmodel/genie_tokens_impl.h"

lc_gtok_cfg lc_gtok_cfg_default(void) {
    lc_gtok_cfg c = {.tok = lc_tok_cfg_default(), .emb = 32, .hidden = 64, .head_emb = 8,
                     .head_hidden = 32, .batch = 32, .steps = 2000, .lr = 1e-3f,
                     .corrupt = 0.05f, .temperature = 1.0f, .changed_weight = 1.0f,
                     .attn_heads = 2, .seed = 1};
    return c;
}

int lc_gtok_check_cfg(const lc_gtok_cfg *c, lc_error *err) {
    if (c->emb < 1 || c->emb > 1024 || c->hidden < 1 || c->hidden > 4096 || c->head_emb < 1 ||
        c->head_emb > 1024 || c->head_hidden < 1 || c->head_hidden > 4096)
        return lc_fail(err, LC_ERR_ARG, "genie tokens: a layer size is out of range");
    if (c->batch < 1 || c->batch > 4096 || c->steps < 0)
        return lc_fail(err, LC_ERR_ARG, "genie tokens: batch or steps out of range");
    if (!(c->lr > 0 && c->lr < 1) || !(c->corrupt >= 0 && c->corrupt < 1) ||
        !(c->temperature >= 0 && c->temperature <= 100) ||
        !(c->changed_weight >= 0.01f && c->changed_weight <= 1000) || c->unroll < 0 ||
        c->unroll > 64 || c->maskgit < 0 || c->maskgit > 64)
        return lc_fail(err, LC_ERR_ARG, "genie tokens: lr, corrupt, temperature, changed_weight, "
                       "unroll or maskgit out of range");
    if (c->dyn_attn < 0 || c->dyn_attn > LC_GTOK_MAX_ATTN || c->attn_heads < 1 ||
        c->attn_heads > 64 || c->hidden % c->attn_heads)
        return lc_fail(err, LC_ERR_ARG, "genie tokens: %d attention blocks (0..%d) of %d heads "
                       "(1..64, dividing hidden %d)", c->dyn_attn, LC_GTOK_MAX_ATTN,
                       c->attn_heads, c->hidden);
    return LC_OK;
}

void lc_gtok_free(lc_gtok *g) {
    if (!g) return;
    lc_tok_free(g->tok);
    lc_genie_free(g->lam);
    lc_params_free(&g->p);
    free(g->starts);
    free(g);
}

const lc_gtok_cfg *lc_gtok_config(const lc_gtok *g) { return &g->cfg; }
const lc_genie *lc_gtok_lam(const lc_gtok *g) { return g->lam; }
lc_genie *lc_gtok_lam_mut(lc_gtok *g) { return g->lam; }
const lc_tok *lc_gtok_tokenizer(const lc_gtok *g) { return g->tok; }
lc_tok *lc_gtok_tokenizer_mut(lc_gtok *g) { return g->tok; }
lc_params *lc_gtok_params(lc_gtok *g) { return &g->p; }
int lc_gtok_tokens(const lc_gtok *g) { return g->T; }
double lc_gtok_peak_mb(const lc_gtok *g) { return g->peak_mb; }
double lc_gtok_train_seconds(const lc_gtok *g, int part) {
    return part == 0 ? lc_tok_train_seconds(g->tok) : part == 1 ? g->lam->lam_train_s : g->dyn_s;
}

// Defines and allocates the dynamics arena (tokenizer and LAM exist).
int lc_gtok_build(lc_gtok *g, lc_error *err) {
    const lc_gtok_cfg *c = &g->cfg;
    int rc = lc_gtok_check_cfg(c, err);
    if (rc) return rc;
    g->G = lc_tok_grid(g->tok);
    g->T = g->G * g->G;
    g->V = lc_tok_config(g->tok)->codes;
    g->K = g->lam->cfg.n_codes;
    g->NR = g->lam->n_rvals;
    int V = g->V, De = c->emb, HC = c->hidden, Dh = c->head_emb, HH = c->head_hidden;
    lc_params_init(&g->p);
    int se[2] = {V, De}, so[4] = {V, HC, 1, 1}, sh[2] = {V, Dh}, shc[4] = {HH, 2 * Dh, 3, 3};
    int NH = g->NR + 1, shl[2] = {NH, 2 * HH};
    g->emb = lc_params_add(&g->p, "emb", 2, se);
    int sm[2] = {V + 1, De}, ng = c->maskgit > 0 ? 3 : 2; // MaskGIT: + the next frame's tokens
    g->memb = c->maskgit > 0 ? lc_params_add(&g->p, "memb", 2, sm) : -1;
    lc_genie_cnet_define(&g->net, &g->p, "net", ng * De, HC, HC, g->G, g->K);
    g->apos = -1;
    if (c->dyn_attn > 0) {
        int sp[2] = {g->T, HC};
        g->apos = lc_params_add(&g->p, "attn.pos", 2, sp);
        for (int i = 0; i < c->dyn_attn; i++) {
            char nm[32];
            snprintf(nm, sizeof nm, "attn%d", i);
            lc_attn_define(&g->attn[i], &g->p, nm, HC, c->attn_heads, HC / c->attn_heads,
                           2 * HC);
        }
    }
    g->ow = lc_params_add(&g->p, "out.w", 4, so);
    g->ob = lc_params_add(&g->p, "out.b", 1, &V);
    g->hemb = lc_params_add(&g->p, "head.emb", 2, sh);
    g->hcw = lc_params_add(&g->p, "head.cw", 4, shc);
    g->hcb = lc_params_add(&g->p, "head.cb", 1, &HH);
    g->hlw = lc_params_add(&g->p, "head.lw", 2, shl);
    g->hlb = lc_params_add(&g->p, "head.lb", 1, &NH);
    return lc_params_alloc(&g->p, err);
}

static void init_params(lc_gtok *g) {
    lc_rng rng;
    lc_rng_seed(&rng, g->cfg.seed, 0x9e70);
    const lc_gtok_cfg *c = &g->cfg;
    lc_init_normal(lc_param(&g->p, g->emb), (size_t)g->V * c->emb, 1.0f, &rng);
    if (g->memb >= 0)
        lc_init_normal(lc_param(&g->p, g->memb), (size_t)(g->V + 1) * c->emb, 1.0f, &rng);
    lc_genie_cnet_init(&g->net, &g->p, 1.0f, &rng);
    if (g->apos >= 0) {
        lc_init_normal(lc_param(&g->p, g->apos), (size_t)g->T * c->hidden, 0.5f, &rng);
        for (int i = 0; i < c->dyn_attn; i++) lc_attn_init(&g->attn[i], &g->p, 0.5f, &rng);
    }
    lc_init_xavier_uniform(lc_param(&g->p, g->ow), c->hidden, g->V, (size_t)g->V * c->hidden,
                           &rng);
    lc_init_normal(lc_param(&g->p, g->hemb), (size_t)g->V * c->head_emb, 1.0f, &rng);
    lc_init_kaiming_uniform(lc_param(&g->p, g->hcw), 2 * c->head_emb * 9,
                            (size_t)c->head_hidden * 2 * c->head_emb * 9, &rng);
    lc_init_xavier_uniform(lc_param(&g->p, g->hlw), 2 * c->head_hidden, g->NR + 1,
                           (size_t)(g->NR + 1) * 2 * c->head_hidden, &rng);
}

int lc_gtok_new(lc_gtok **out, const lc_gtok_cfg *cfg, lc_genie *lam, lc_error *err) {
    *out = NULL;
    lc_gtok *g = calloc(1, sizeof *g);
    if (!g) {
        lc_genie_free(lam);
        return lc_fail(err, LC_ERR_NOMEM, "genie tokens: out of memory");
    }
    g->cfg = *cfg;
    g->lam = lam;
    int rc = lc_gtok_check_cfg(cfg, err);
    if (!rc && cfg->tok.channels != lam->game_c)
        rc = lc_fail(err, LC_ERR_SHAPE, "genie tokens: the tokenizer takes %d channels, the "
                     "game has %d", cfg->tok.channels, lam->game_c);
    if (!rc && (cfg->tok.side != lam->game_h || lam->game_w != lam->game_h))
        rc = lc_fail(err, LC_ERR_SHAPE, "genie tokens: the tokenizer's side %d is not the "
                     "game's %dx%d frames", cfg->tok.side, lam->game_h, lam->game_w);
    if (!rc) rc = lc_tok_new(&g->tok, &cfg->tok, err);
    if (!rc) rc = lc_gtok_build(g, err);
    if (rc) {
        lc_gtok_free(g);
        return rc;
    }
    init_params(g);
    *out = g;
    return LC_OK;
}

int lc_gtok_reset_dynamics(lc_gtok *g, const lc_gtok_cfg *cfg, lc_error *err) {
    lc_gtok_cfg c = *cfg;
    c.tok = g->cfg.tok;
    int rc = lc_gtok_check_cfg(&c, err);
    if (rc) return rc;
    lc_params_free(&g->p);
    g->cfg = c;
    if ((rc = lc_gtok_build(g, err))) return rc;
    init_params(g);
    return LC_OK;
}

int lc_gtok_set_training(lc_gtok *g, int steps, float lr, int unroll, lc_error *err) {
    if (steps < 0 || !(lr <= 0 || lr < 1) || unroll < 0 || unroll > 64)
        return lc_fail(err, LC_ERR_ARG, "genie tokens: steps %d, lr %g or unroll %d out of range",
                       steps, lr, unroll);
    g->cfg.steps = steps;
    g->cfg.unroll = unroll;
    if (lr > 0) g->cfg.lr = lr;
    return LC_OK;
}

int lc_gtok_set_temperature(lc_gtok *g, float temp, lc_error *err) {
    if (!(temp >= 0 && temp <= 100))
        return lc_fail(err, LC_ERR_ARG, "genie tokens: temperature %g (0..100)", temp);
    g->cfg.temperature = temp;
    return LC_OK;
}

int lc_gtok_set_attention(lc_gtok *g, int blocks, int heads, lc_error *err) {
    lc_gtok_cfg c = g->cfg;
    if (c.attn_heads != heads && c.dyn_attn > 0 && blocks > 0)
        return lc_fail(err, LC_ERR_ARG, "genie tokens: the dynamics' blocks have %d heads, not "
                       "%d", c.attn_heads, heads);
    c.dyn_attn = blocks;
    c.attn_heads = heads;
    int rc = lc_gtok_check_cfg(&c, err);
    if (rc) return rc;
    lc_gtok n = *g; // the same world with the new table (tokenizer, LAM, starts shared)
    n.cfg = c;
    if ((rc = lc_gtok_build(&n, err))) return rc; // g is untouched
    init_params(&n);
    for (int k = 0; k < n.p.ntensors; k++) { // what both arenas have keeps its values
        int j = lc_params_find(&g->p, n.p.t[k].name);
        if (j >= 0 && g->p.t[j].size == n.p.t[k].size)
            memcpy(lc_param(&n.p, k), lc_param(&g->p, j), n.p.t[k].size * sizeof(float));
    }
    lc_params_free(&g->p);
    *g = n;
    return LC_OK;
}

int lc_gtok_set_decoding(lc_gtok *g, int steps, lc_error *err) {
    if (g->cfg.maskgit <= 0)
        return lc_fail(err, LC_ERR_STATE, "genie tokens: a one-pass world has no MaskGIT "
                       "decoding (train it with maskgit > 0)");
    if (steps < 1 || steps > 64)
        return lc_fail(err, LC_ERR_ARG, "genie tokens: %d MaskGIT steps (1..64)", steps);
    g->cfg.maskgit = steps;
    return LC_OK;
}

// ---------------------------------------------------------------- passes

void lc_gtok_buf_free(gtok_buf *b) {
    free(b->known), free(b->draw), free(b->order);
    float *ps[] = {b->conf, b->pr, b->in,  b->cond, b->acts, b->col,  b->r3,  b->logits, b->hin,  b->hh,
                   b->pool, b->hl,  b->dlog, b->dr3,  b->dout, b->din,   b->work, b->dhl,
                   b->dpool, b->dhh, b->dhhp, b->dhin};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) free(ps[i]);
    free(b->am);
    free(b->xa), free(b->aacts), free(b->awork), free(b->dxa);
    memset(b, 0, sizeof *b);
}

// Samples per attention pass at play time.
#define ATTN_CHUNK 8

int lc_gtok_buf_init(gtok_buf *b, const lc_gtok *g, int B, int train, lc_error *err) {
    memset(b, 0, sizeof *b);
    b->B = B;
    b->train = train;
    const size_t n = B, T = g->T, V = g->V, De = g->cfg.emb, HC = g->cfg.hidden,
                 Dh = g->cfg.head_emb, HH = g->cfg.head_hidden, NH = g->NR + 1;
    size_t col = lc_genie_cnet_col_size(&g->net), c2;
    c2 = lc_conv2d_col_size((int)(2 * Dh), g->G, g->G, 3, 1, 1);
    if (c2 > col) col = c2;
    c2 = lc_conv2d_col_size((int)HC, g->G, g->G, 1, 1, 0);
    if (c2 > col) col = c2;
    const size_t ng = g->cfg.maskgit > 0 ? 3 : 2;
    b->in = malloc(n * ng * De * T * sizeof(float));
    b->cond = malloc(n * g->K * sizeof(float));
    b->acts = malloc(lc_genie_cnet_act_size(&g->net, B) * sizeof(float));
    b->col = malloc(col * sizeof(float));
    b->r3 = malloc(n * HC * T * sizeof(float));
    b->logits = malloc(n * V * T * sizeof(float));
    b->hin = malloc(n * 2 * Dh * T * sizeof(float));
    b->hh = malloc(n * HH * T * sizeof(float));
    b->pool = malloc(n * 2 * HH * sizeof(float));
    b->am = malloc(n * HH * sizeof(int));
    b->hl = malloc(n * NH * sizeof(float));
    b->pr = malloc(V * sizeof(float));
    if (g->cfg.maskgit > 0) {
        b->known = malloc(n * T * sizeof(int));
        b->draw = malloc(n * T * sizeof(int));
        b->order = malloc(T * sizeof(gtok_rank));
        b->conf = malloc(n * T * sizeof(float));
    }
    int ok = (g->cfg.maskgit == 0 || (b->known && b->draw && b->order && b->conf)) && b->pr &&
             b->in && b->cond && b->acts && b->col && b->r3 && b->logits && b->hin && b->hh &&
             b->pool && b->am && b->hl;
    const int NA = g->cfg.dyn_attn;
    if (NA > 0) {
        // play runs the blocks ATTN_CHUNK samples at a time (small scratch, no fresh pages)
        b->aact_n = lc_attn_act_size(&g->attn[0], train || B < ATTN_CHUNK ? B : ATTN_CHUNK,
                                     (int)T, train);
        b->xa = malloc((NA + 1) * n * T * HC * sizeof(float));
        b->aacts = malloc((train ? NA : 1) * b->aact_n * sizeof(float));
        ok = ok && b->xa && b->aacts;
        if (train) {
            b->awork = malloc(lc_attn_work_size(&g->attn[0], B, (int)T) * sizeof(float));
            b->dxa = malloc(2 * n * T * HC * sizeof(float));
            ok = ok && b->awork && b->dxa;
        }
    }
    if (train) {
        b->dlog = malloc(n * V * T * sizeof(float));
        b->dr3 = malloc(n * HC * T * sizeof(float));
        b->dout = malloc(n * HC * T * sizeof(float));
        b->din = malloc(n * ng * De * T * sizeof(float));
        b->work = malloc(lc_genie_cnet_work_size(&g->net, B) * sizeof(float));
        b->dhl = malloc(n * NH * sizeof(float));
        b->dpool = malloc(n * 2 * HH * sizeof(float));
        b->dhh = malloc(n * HH * T * sizeof(float));
        b->dhhp = malloc(n * HH * T * sizeof(float));
        b->dhin = malloc(n * 2 * Dh * T * sizeof(float));
        ok = ok && b->dlog && b->dr3 && b->dout && b->din && b->work && b->dhl && b->dpool &&
             b->dhh && b->dhhp && b->dhin;
    }
    if (!ok) {
        lc_gtok_buf_free(b);
        return lc_fail(err, LC_ERR_NOMEM, "genie tokens: out of memory for a batch of %d", B);
    }
    return LC_OK;
}

// Embeds a token grid tk (B, T) with table (rows, E) into channel group h of out
// (B, NG E, T); tk NULL: every position is row fill.
static void embed_group(float *out, const int *tk, int fill, const float *table, int B, int T,
                        int E, int NG, int h) {
    for (int i = 0; i < B; i++) {
        float *o = out + ((size_t)i * NG + h) * E * T;
        for (int s = 0; s < T; s++) {
            const float *e = table + (size_t)(tk ? tk[(size_t)i * T + s] : fill) * E;
            for (int d = 0; d < E; d++) o[(size_t)d * T + s] = e[d];
        }
    }
}

static void embed_group_backward(float *dtable, const float *dout, const int *tk, int fill,
                                 int B, int T, int E, int NG, int h) {
    for (int i = 0; i < B; i++) {
        const float *d = dout + ((size_t)i * NG + h) * E * T;
        for (int s = 0; s < T; s++) {
            float *e = dtable + (size_t)(tk ? tk[(size_t)i * T + s] : fill) * E;
            for (int q = 0; q < E; q++) e[q] += d[(size_t)q * T + s];
        }
    }
}

// Embeds two token grids a, c (B, T) with table (V, E) into out (B, NG E, T), groups 0, 1.
static void embed_pair(float *out, const int *a, const int *c, const float *table, int B, int T,
                       int E, int NG) {
    embed_group(out, a, 0, table, B, T, E, NG, 0);
    embed_group(out, c, 0, table, B, T, E, NG, 1);
}

static void embed_pair_backward(float *dtable, const float *dout, const int *a, const int *c,
                                int B, int T, int E, int NG) {
    embed_group_backward(dtable, dout, a, 0, B, T, E, NG, 0);
    embed_group_backward(dtable, dout, c, 0, B, T, E, NG, 1);
}

// Dynamics forward: logits (B, V, T) into b->logits.
void lc_gtok_dyn_forward(const lc_gtok *g, gtok_buf *b, const int *prev, const int *cur,
                         const int *known, const int *codes) {
    const int B = b->B, T = g->T, HC = g->cfg.hidden, NG = g->memb >= 0 ? 3 : 2;
    embed_pair(b->in, prev, cur, lc_param(&g->p, g->emb), B, T, g->cfg.emb, NG);
    if (NG == 3) embed_group(b->in, known, g->V, lc_param(&g->p, g->memb), B, T, g->cfg.emb, 3, 2);
    memset(b->cond, 0, (size_t)B * g->K * sizeof(float));
    for (int i = 0; i < B; i++) b->cond[(size_t)i * g->K + g->lam->code_alias[codes[i]]] = 1.0f;
    const float *o = lc_genie_cnet_forward(&g->net, &g->p, b->acts, b->col, b->in, b->cond, B);
    const int NA = g->cfg.dyn_attn;
    if (NA > 0) { // (B, HC, T) -> rows (B, T, HC) + position, N blocks, back to (B, HC, T)
        const size_t nx = (size_t)B * T * HC;
        const float *pos = lc_param(&g->p, g->apos);
        for (int i = 0; i < B; i++)
            for (int h = 0; h < HC; h++)
                for (int s = 0; s < T; s++)
                    b->xa[((size_t)i * T + s) * HC + h] =
                        o[((size_t)i * HC + h) * T + s] + pos[(size_t)s * HC + h];
        for (int k = 0; k < NA; k++) {
            if (b->train) {
                lc_attn_forward(&g->attn[k], &g->p, b->aacts + k * b->aact_n,
                                b->xa + (k + 1) * nx, b->xa + k * nx, B, T, 1);
                continue;
            }
            for (int i0 = 0; i0 < B; i0 += ATTN_CHUNK) {
                const size_t o0 = (size_t)i0 * T * HC;
                const int bc = B - i0 < ATTN_CHUNK ? B - i0 : ATTN_CHUNK;
                lc_attn_forward(&g->attn[k], &g->p, b->aacts, b->xa + (k + 1) * nx + o0,
                                b->xa + k * nx + o0, bc, T, 0);
            }
        }
        const float *x = b->xa + NA * nx;
        for (int i = 0; i < B; i++)
            for (int h = 0; h < HC; h++)
                for (int s = 0; s < T; s++)
                    b->r3[((size_t)i * HC + h) * T + s] = x[((size_t)i * T + s) * HC + h];
        o = b->r3;
    }
    lc_relu_forward(b->r3, o, (size_t)B * HC * T);
    lc_conv2d_forward(b->logits, b->col, b->r3, lc_param(&g->p, g->ow), lc_param(&g->p, g->ob),
                      B, HC, g->G, g->G, g->V, 1, 1, 0);
}

// Heads forward from (cur, next) tokens: logits (B, NR + 1) into b->hl.
void lc_gtok_head_forward(const lc_gtok *g, gtok_buf *b, const int *cur, const int *next) {
    const int B = b->B, T = g->T, Dh = g->cfg.head_emb, HH = g->cfg.head_hidden;
    embed_pair(b->hin, cur, next, lc_param(&g->p, g->hemb), B, T, Dh, 2);
    lc_conv2d_forward(b->hh, b->col, b->hin, lc_param(&g->p, g->hcw), lc_param(&g->p, g->hcb), B,
                      2 * Dh, g->G, g->G, HH, 3, 1, 1);
    lc_relu_forward(b->hh, b->hh, (size_t)B * HH * T);
    lc_gpool_forward(b->pool, b->am, b->hh, B, HH, T);
    lc_linear_forward(b->hl, b->pool, lc_param(&g->p, g->hlw), lc_param(&g->p, g->hlb), B,
                      2 * HH, g->NR + 1);
}

// Forward and backward of the whole loss; grads accumulate. Returns the loss.
double lc_gtok_fwd_bwd(lc_gtok *g, gtok_buf *b, const int *prev, const int *cur,
                       const int *next, const int *known, const int *codes, const int *rcls,
                       const uint8_t *ends, const int *hcur) {
    const int B = b->B, T = g->T, V = g->V, HC = g->cfg.hidden, De = g->cfg.emb,
              Dh = g->cfg.head_emb, HH = g->cfg.head_hidden, NR = g->NR, NH = NR + 1,
              NG = g->memb >= 0 ? 3 : 2;
    lc_params *p = &g->p;
    if (NG == 2) known = NULL;
    lc_gtok_dyn_forward(g, b, prev, cur, known, codes);
    // cross-entropy per position over V (logits at stride T); MaskGIT: masked positions only
    double lx = 0, wsum = 0;
    const float cw = g->cfg.changed_weight;
#define GTOK_W(q) (known && known[q] != V ? 0.0f : cur[q] != next[q] ? cw : 1.0f)
    for (int q = 0; q < B * T; q++) wsum += GTOK_W(q);
    if (wsum <= 0) wsum = 1; // nothing masked: no token loss
    for (int i = 0; i < B; i++) {
        const float *lg = b->logits + (size_t)i * V * T;
        float *dl = b->dlog + (size_t)i * V * T;
        for (int s = 0; s < T; s++) {
            const size_t q = (size_t)i * T + s;
            const float wq = GTOK_W(q), sc = (float)(wq / wsum);
            float m = lg[s];
            for (int v = 1; v < V; v++) m = fmaxf(m, lg[(size_t)v * T + s]);
            double z = 0;
            for (int v = 0; v < V; v++) z += exp((double)lg[(size_t)v * T + s] - m);
            int tg = next[q];
            lx += wq * (log(z) + m - lg[(size_t)tg * T + s]);
            for (int v = 0; v < V; v++)
                dl[(size_t)v * T + s] = (float)(exp((double)lg[(size_t)v * T + s] - m) / z) * sc;
            dl[(size_t)tg * T + s] -= sc;
        }
    }
    lx /= wsum;
    size_t nh = (size_t)B * HC * T;
    memset(b->dr3, 0, nh * sizeof(float));
    lc_conv2d_backward(b->dr3, lc_grad(p, g->ow), lc_grad(p, g->ob), b->col, b->dlog, b->r3,
                       lc_param(p, g->ow), B, HC, g->G, g->G, V, 1, 1, 0);
    memset(b->dout, 0, nh * sizeof(float));
    lc_relu_backward(b->dout, b->dr3, b->r3, nh);
    if (g->cfg.dyn_attn > 0) { // back through the blocks to the conv stack's output
        const int NA = g->cfg.dyn_attn;
        float *dx = b->dxa, *dp = b->dxa + nh;
        for (int i = 0; i < B; i++)
            for (int h = 0; h < HC; h++)
                for (int s = 0; s < T; s++)
                    dx[((size_t)i * T + s) * HC + h] = b->dout[((size_t)i * HC + h) * T + s];
        for (int k = NA - 1; k >= 0; k--) {
            memset(dp, 0, nh * sizeof(float));
            lc_attn_backward(&g->attn[k], p, b->awork, b->aacts + k * b->aact_n,
                             b->xa + k * nh, dx, dp, B, T);
            float *t = dx;
            dx = dp, dp = t;
        }
        float *dpos = lc_grad(p, g->apos);
        for (int i = 0; i < B; i++)
            for (int h = 0; h < HC; h++)
                for (int s = 0; s < T; s++) {
                    float d = dx[((size_t)i * T + s) * HC + h];
                    b->dout[((size_t)i * HC + h) * T + s] = d;
                    dpos[(size_t)s * HC + h] += d;
                }
    }
    lc_genie_cnet_backward(&g->net, p, b->work, b->col, b->acts, b->in, b->cond, b->dout, NULL,
                           b->din, NULL, B);
    embed_pair_backward(lc_grad(p, g->emb), b->din, prev, cur, B, T, De, NG);
    if (NG == 3) embed_group_backward(lc_grad(p, g->memb), b->din, known, V, B, T, De, 3, 2);
#undef GTOK_W
    // heads on the real (cur, next)
    if (!hcur) hcur = cur;
    lc_gtok_head_forward(g, b, hcur, next);
    double lr = 0, le = 0;
    for (int i = 0; i < B; i++) {
        const float *h = b->hl + (size_t)i * NH;
        float *dh = b->dhl + (size_t)i * NH;
        float m = h[0];
        for (int k = 1; k < NR; k++) m = fmaxf(m, h[k]);
        double z = 0;
        for (int k = 0; k < NR; k++) z += exp((double)h[k] - m);
        lr += log(z) + m - h[rcls[i]];
        for (int k = 0; k < NR; k++) dh[k] = (float)(exp((double)h[k] - m) / z) / B;
        dh[rcls[i]] -= 1.0f / B;
        float x = h[NR], y = ends[i] ? 1.0f : 0.0f; // BCE with logits
        le += fmaxf(x, 0.0f) - x * y + log1p(exp(-fabs((double)x)));
        dh[NR] = (1.0f / (1.0f + expf(-x)) - y) / B;
    }
    lr /= B, le /= B;
    memset(b->dpool, 0, (size_t)B * 2 * HH * sizeof(float));
    lc_linear_backward(b->dpool, lc_grad(p, g->hlw), lc_grad(p, g->hlb), b->dhl, b->pool,
                       lc_param(p, g->hlw), B, 2 * HH, NH);
    size_t nhh = (size_t)B * HH * T;
    memset(b->dhh, 0, nhh * sizeof(float));
    lc_gpool_backward(b->dhh, b->dpool, b->am, B, HH, T);
    memset(b->dhhp, 0, nhh * sizeof(float));
    lc_relu_backward(b->dhhp, b->dhh, b->hh, nhh);
    memset(b->dhin, 0, (size_t)B * 2 * Dh * T * sizeof(float));
    lc_conv2d_backward(b->dhin, lc_grad(p, g->hcw), lc_grad(p, g->hcb), b->col, b->dhhp, b->hin,
                       lc_param(p, g->hcw), B, 2 * Dh, g->G, g->G, HH, 3, 1, 1);
    embed_pair_backward(lc_grad(p, g->hemb), b->dhin, hcur, next, B, T, Dh, 2);
    return lx + lr + le;
}

// The loss of a batch with gradients (known: see lc_gtok_fwd_bwd); NAN without memory.
static double batch_loss(lc_gtok *g, const int *prev, const int *cur, const int *next,
                         const int *known, const int *codes, const int *rcls,
                         const uint8_t *ends, int B) {
    gtok_buf b;
    if (lc_gtok_buf_init(&b, g, B, 1, NULL)) return NAN;
    lc_params_zero_grad(&g->p);
    double l = lc_gtok_fwd_bwd(g, &b, prev, cur, next, known, codes, rcls, ends, NULL);
    lc_gtok_buf_free(&b);
    return l;
}

double lc_gtok_loss(lc_gtok *g, const int *prev, const int *cur, const int *next,
                    const int *codes, const int *rcls, const uint8_t *ends, int B) {
    return batch_loss(g, prev, cur, next, NULL, codes, rcls, ends, B);
}

double lc_gtok_loss_masked(lc_gtok *g, const int *prev, const int *cur, const int *next,
                           const int *known, const int *codes, const int *rcls,
                           const uint8_t *ends, int B) {
    if (g->cfg.maskgit <= 0) return NAN;
    return batch_loss(g, prev, cur, next, known, codes, rcls, ends, B);
}

// Samples tokens (B, T) from b->logits at temperature temp with rngs[i] (argmax at 0), in
// position order. known (may be NULL): only where known is V (masked), with conf (B, T) the
// log-probability of each draw under the model (temperature 1).
static void sample_tokens(const lc_gtok *g, const gtok_buf *b, float temp, lc_rng *rngs,
                          int *next, const int *known, float *conf) {
    const int B = b->B, T = g->T, V = g->V;
    float *pr = b->pr;
    for (int i = 0; i < B; i++) {
        const float *lg = b->logits + (size_t)i * V * T;
        for (int s = 0; s < T; s++) {
            if (known && known[(size_t)i * T + s] != V) continue;
            int best = 0;
            float m = lg[s];
            for (int v = 1; v < V; v++)
                if (lg[(size_t)v * T + s] > m) m = lg[(size_t)v * T + s], best = v;
            if (conf) {
                double z1 = 0;
                for (int v = 0; v < V; v++) z1 += exp((double)lg[(size_t)v * T + s] - m);
                conf[(size_t)i * T + s] = (float)-log(z1); // made the draw's below
            }
            if (temp <= 0.0f || !rngs) {
                next[(size_t)i * T + s] = best;
                continue;
            }
            double z = 0;
            for (int v = 0; v < V; v++) z += pr[v] = expf((lg[(size_t)v * T + s] - m) / temp);
            double u = lc_rng_double(&rngs[i]) * z, acc = 0;
            int k = V - 1;
            for (int v = 0; v < V; v++) {
                acc += pr[v];
                if (u < acc) {
                    k = v;
                    break;
                }
            }
            next[(size_t)i * T + s] = k;
            if (conf) conf[(size_t)i * T + s] += lg[(size_t)k * T + s] - m;
        }
    }
}

// Most confident first, ties to the lower position (deterministic).
static int by_conf(const void *a, const void *b) {
    const gtok_rank *x = a, *y = b;
    if (x->c != y->c) return x->c > y->c ? -1 : 1;
    return x->s - y->s;
}

// MaskGIT decoding of next (B, T) from all masked over cfg.maskgit steps (genie_tokens.h).
static void maskgit_decode(const lc_gtok *g, gtok_buf *b, const int *prev, const int *cur,
                           const int *codes, float temp, lc_rng *rngs, int *next) {
    const int B = b->B, T = g->T, V = g->V, K = g->cfg.maskgit;
    int *known = b->known, *draw = b->draw;
    gtok_rank *order = b->order;
    for (size_t q = 0; q < (size_t)B * T; q++) known[q] = V;
    int masked = T;
    for (int k = 0; k < K && masked > 0; k++) {
        lc_gtok_dyn_forward(g, b, prev, cur, known, codes);
        sample_tokens(g, b, temp, rngs, draw, known, b->conf);
        int keep = k == K - 1 ? 0 : (int)floor(T * cos(M_PI / 2 * (k + 1) / K));
        if (keep >= masked) keep = masked - 1; // commit at least one per step
        for (int i = 0; i < B; i++) {
            int *kn = known + (size_t)i * T, n = 0;
            for (int s = 0; s < T; s++)
                if (kn[s] == V) order[n++] = (gtok_rank){b->conf[(size_t)i * T + s], s};
            qsort(order, (size_t)n, sizeof *order, by_conf);
            for (int j = 0; j < n - keep; j++) kn[order[j].s] = draw[(size_t)i * T + order[j].s];
        }
        masked = keep;
    }
    memcpy(next, known, (size_t)B * T * sizeof(int));
}

// Expected rewards and end logits from b->hl.
static void read_heads(const lc_gtok *g, const gtok_buf *b, float *rewards, float *end_logits) {
    const int NR = g->NR, NH = NR + 1;
    for (int i = 0; i < b->B; i++) {
        const float *h = b->hl + (size_t)i * NH;
        if (rewards) {
            float m = h[0];
            for (int k = 1; k < NR; k++) m = fmaxf(m, h[k]);
            double z = 0, r = 0;
            for (int k = 0; k < NR; k++) {
                double e = exp((double)h[k] - m);
                z += e, r += e * g->lam->rvals[k];
            }
            rewards[i] = (float)(r / z);
        }
        if (end_logits) end_logits[i] = h[NR];
    }
}

// Chunk of contexts per pass (bounds the logits' memory: 64 V T floats).
#define STEP_CHUNK 64

int lc_gtok_step(const lc_gtok *g, const int *prev, const int *cur, const int *codes, int B,
                 float temp, lc_rng *rngs, int *next, float *rewards, float *end_logits,
                 lc_error *err) {
    if (B <= 0) return LC_OK;
    int cap = B < STEP_CHUNK ? B : STEP_CHUNK, rc;
    gtok_buf b;
    if ((rc = lc_gtok_buf_init(&b, g, cap, 0, err))) return rc;
    const int T = g->T;
    for (int i0 = 0; i0 < B; i0 += cap) {
        b.B = B - i0 < cap ? B - i0 : cap;
        size_t o = (size_t)i0 * T;
        if (g->cfg.maskgit > 0) {
            maskgit_decode(g, &b, prev + o, cur + o, codes + i0, temp, rngs ? rngs + i0 : NULL,
                           next + o);
        } else {
            lc_gtok_dyn_forward(g, &b, prev + o, cur + o, NULL, codes + i0);
            sample_tokens(g, &b, temp, rngs ? rngs + i0 : NULL, next + o, NULL, NULL);
        }
        if (rewards || end_logits) {
            lc_gtok_head_forward(g, &b, cur + o, next + o);
            read_heads(g, &b, rewards ? rewards + i0 : NULL, end_logits ? end_logits + i0 : NULL);
        }
    }
    lc_gtok_buf_free(&b);
    return LC_OK;
}

int lc_gtok_logits(const lc_gtok *g, const int *prev, const int *cur, const int *codes, int B,
                   float *logits, lc_error *err) {
    gtok_buf b;
    int rc = lc_gtok_buf_init(&b, g, B, 0, err);
    if (rc) return rc;
    lc_gtok_dyn_forward(g, &b, prev, cur, NULL, codes);
    memcpy(logits, b.logits, (size_t)B * g->V * g->T * sizeof(float));
    lc_gtok_buf_free(&b);
    return LC_OK;
}

int lc_gtok_rollout(const lc_gtok *g, const int *prev, const int *cur, const int *codes, int M,
                    int W, float temp, uint64_t seed, uint8_t *frames, float *rewards,
                    lc_error *err) {
    const int T = g->T, S = lc_tok_config(g->tok)->side, C = lc_tok_config(g->tok)->channels;
    const size_t fs = (size_t)S * S * C;
    int *pv = malloc((size_t)M * T * sizeof(int)), *cu = malloc((size_t)M * T * sizeof(int));
    int *nx = malloc((size_t)M * T * sizeof(int)), *cc = malloc((size_t)M * sizeof(int));
    float *rw = malloc((size_t)M * sizeof(float));
    uint8_t *fr = malloc((size_t)M * fs);
    lc_rng *rngs = malloc((size_t)M * sizeof(lc_rng));
    int rc = LC_OK;
    if (!pv || !cu || !nx || !cc || !rw || !fr || !rngs)
        rc = lc_fail(err, LC_ERR_NOMEM, "genie tokens: out of memory for %d rollouts", M);
    if (!rc) {
        memcpy(pv, prev, (size_t)M * T * sizeof(int));
        memcpy(cu, cur, (size_t)M * T * sizeof(int));
        for (int m = 0; m < M; m++) lc_rng_seed(&rngs[m], seed, (uint64_t)m);
    }
    for (int k = 0; k < W && !rc; k++) {
        for (int m = 0; m < M; m++) cc[m] = codes[(size_t)m * W + k];
        rc = lc_gtok_step(g, pv, cu, cc, M, temp, rngs, nx, rw, NULL, err);
        if (!rc) rc = lc_tok_decode(g->tok, nx, M, fr, NULL, err);
        if (rc) break;
        for (int m = 0; m < M; m++) {
            memcpy(frames + ((size_t)m * W + k) * fs, fr + (size_t)m * fs, fs);
            if (rewards) rewards[(size_t)m * W + k] = rw[m];
        }
        int *t = pv;
        pv = cu, cu = nx, nx = t;
    }
    free(pv), free(cu), free(nx), free(cc), free(rw), free(fr), free(rngs);
    return rc;
}

// ---------------------------------------------------------------- training

static int tok_progress(void *ctx, int step, double loss) {
    void **c = ctx;
    lc_genie_progress cb = (lc_genie_progress)(uintptr_t)c[0];
    return cb ? cb(c[1], 0, step, loss) : 0;
}

// MaskGIT's training input: known (B, T) = next with a fraction cos(pi/2 u), u ~ U[0, 1),
// of each sample's positions (at least one) set to V ([MASK]).
static void mask_batch(lc_rng *rng, const int *next, int *known, int *perm, int B, int T,
                       int V) {
    memcpy(known, next, (size_t)B * T * sizeof(int));
    for (int i = 0; i < B; i++) {
        int nm = (int)ceil(T * cos(M_PI / 2 * lc_rng_double(rng)));
        if (nm < 1) nm = 1;
        if (nm > T) nm = T;
        for (int s = 0; s < T; s++) perm[s] = s;
        for (int j = 0; j < nm; j++) { // partial Fisher-Yates: nm distinct positions
            int r = j + (int)lc_rng_below(rng, (uint32_t)(T - j)), t = perm[j];
            perm[j] = perm[r], perm[r] = t;
            known[(size_t)i * T + perm[j]] = V;
        }
    }
}

int lc_gtok_train(lc_gtok *g, const lc_frames *fr, const float *X, int skip_tok,
                  lc_genie_progress cb, void *ctx, lc_error *err) {
    lc_genie *lam = g->lam;
    const lc_genie_cfg *lc = &lam->cfg;
    if (fr->H != lc_tok_config(g->tok)->side || fr->W != fr->H ||
        fr->C != lc_tok_config(g->tok)->channels)
        return lc_fail(err, LC_ERR_SHAPE, "genie tokens: frames %dx%dx%d are not the "
                       "tokenizer's %dx%dx%d", fr->H, fr->W, fr->C, lc_tok_config(g->tok)->side,
                       lc_tok_config(g->tok)->side, lc_tok_config(g->tok)->channels);
    const size_t N = fr->n, train_end = N - (size_t)((double)N * lc->holdout);
    const int T = g->T, B = g->cfg.batch;
    int rc = LC_OK;
    if (!skip_tok) {
        void *pc[2] = {(void *)(uintptr_t)cb, ctx};
        rc = lc_tok_train(g->tok, fr->frames, train_end, tok_progress, pc, err);
        if (rc) return rc;
    }
    int *toks = malloc(N * T * sizeof(int));
    size_t *idx = malloc(N * sizeof(size_t));
    int *codes = malloc(N * sizeof(int));
    int *bp = malloc((size_t)B * T * sizeof(int)), *bcu = malloc((size_t)B * T * sizeof(int));
    int *bn = malloc((size_t)B * T * sizeof(int)), *bc = malloc((size_t)B * sizeof(int));
    int *br = malloc((size_t)B * sizeof(int));
    size_t *bj = malloc((size_t)B * sizeof(size_t));
    uint8_t *be = malloc((size_t)B);
    gtok_buf b;
    memset(&b, 0, sizeof b);
    if (!toks || !idx || !codes || !bp || !bcu || !bn || !bc || !br || !be || !bj)
        rc = lc_fail(err, LC_ERR_NOMEM, "genie tokens: out of memory for %zu frames", N);
    if (!rc) rc = lc_tok_encode(g->tok, fr->frames, (int)N, toks, err);
    size_t nt = 0;
    for (size_t t = 1; !rc && t + 1 < train_end; t++)
        if (lc_genie_triple_ok(fr, t)) idx[nt++] = t;
    if (!rc && nt < 2)
        rc = lc_fail(err, LC_ERR_ARG, "genie tokens: only %zu training transitions", nt);
    if (!rc) rc = lc_genie_infer(lam, X, idx, (int)nt, codes) ? lc_fail(err, LC_ERR_NOMEM,
                                                                      "genie tokens: out of memory") : LC_OK;
    if (!rc) lc_genie_set_aliases(lam, codes, nt);
    // start contexts, spread evenly over the training data
    size_t ns = 0;
    for (size_t r = 0; !rc && r + 1 < train_end; r++) ns += lc_genie_start_ok(fr, r, lc->start_anywhere);
    if (!rc && ns == 0) rc = lc_fail(err, LC_ERR_ARG, "genie tokens: no episode lasts 2 frames");
    if (!rc) {
        size_t keep = ns < (size_t)lc->max_starts ? ns : (size_t)lc->max_starts;
        free(g->starts);
        g->starts = malloc(keep * 2 * T * sizeof(int32_t));
        if (!g->starts) rc = lc_fail(err, LC_ERR_NOMEM, "genie tokens: out of memory");
        g->n_starts = g->starts ? keep : 0;
        for (size_t r = 0, j = 0, seen = 0; !rc && r + 1 < train_end && j < keep; r++) {
            if (!lc_genie_start_ok(fr, r, lc->start_anywhere)) continue;
            if (seen++ * keep / ns != j) continue;
            for (int s = 0; s < T; s++) {
                g->starts[(j * 2) * T + s] = toks[r * T + s];
                g->starts[(j * 2 + 1) * T + s] = toks[(r + 1) * T + s];
            }
            j++;
        }
    }
    if (!rc) rc = lc_gtok_buf_init(&b, g, B, 1, err);
    lc_rng rng;
    lc_rng_seed(&rng, g->cfg.seed, 0x9e71);
    lc_adam opt = lc_adam_default(g->cfg.lr);
    double t0 = lc_now(), loss = 0;
    // code_at[t]: the LAM's code of the triple centred at t (-1: none), for unrolling
    int *code_at = NULL, *hc = NULL, *ucode = NULL, *un = NULL;
    size_t *bt = NULL;
    lc_rng *urng = NULL;
    int *bk = NULL, *perm = NULL; // MaskGIT: the next frame's known tokens, a permutation
    if (!rc && g->cfg.maskgit > 0) {
        bk = malloc((size_t)B * T * sizeof(int));
        perm = malloc((size_t)T * sizeof(int));
        if (!bk || !perm) rc = lc_fail(err, LC_ERR_NOMEM, "genie tokens: out of memory");
    }
    if (!rc && g->cfg.unroll > 0) {
        code_at = malloc(N * sizeof(int));
        hc = malloc((size_t)B * T * sizeof(int));
        un = malloc((size_t)B * T * sizeof(int));
        ucode = malloc((size_t)B * sizeof(int));
        bt = malloc((size_t)B * sizeof(size_t));
        urng = malloc((size_t)B * sizeof(lc_rng));
        if (!code_at || !hc || !un || !ucode || !bt || !urng)
            rc = lc_fail(err, LC_ERR_NOMEM, "genie tokens: out of memory");
        for (size_t r = 0; code_at && r < N; r++) code_at[r] = -1;
        for (size_t j = 0; code_at && j < nt; j++) code_at[idx[j]] = codes[j];
    }
    for (int s = 0; s < g->cfg.steps && !rc; s++) {
        int k = g->cfg.unroll > 0 && lc_rng_below(&rng, 2)
                    ? 1 + (int)lc_rng_below(&rng, (uint32_t)g->cfg.unroll) : 0;
        for (int i = 0; i < B; i++) {
            int tries = 0, ok;
            do { // with k: the k triples before t are the data's, in t's episode
                bj[i] = lc_rng_below(&rng, (uint32_t)nt);
                size_t t = idx[bj[i]];
                ok = 1;
                for (int q = 1; q <= k && ok; q++) ok = t >= (size_t)q + 1 && code_at[t - q] >= 0;
            } while (!ok && ++tries < 64);
            if (!ok) k = 0; // episodes too short: no unrolling in this batch
        }
        for (int i = 0; i < B; i++) {
            size_t j = bj[i], t = idx[j];
            size_t t0k = t - (size_t)k; // real context (t0k - 1, t0k)
            memcpy(bp + (size_t)i * T, toks + (t0k - 1) * T, T * sizeof(int));
            memcpy(bcu + (size_t)i * T, toks + t0k * T, T * sizeof(int));
            memcpy(bn + (size_t)i * T, toks + (t + 1) * T, T * sizeof(int));
            if (hc) memcpy(hc + (size_t)i * T, toks + t * T, T * sizeof(int)), bt[i] = t;
            bc[i] = codes[j];
            br[i] = lc_genie_reward_class(lam, fr->rewards[t + 1]);
            be[i] = fr->terminated[t + 1];
        }
        // k steps of the model's own sampled tokens from the real context, with the LAM's
        // codes of the real transitions: (bp, bcu) become its versions of (t - 1, t)
        for (int q = k; q >= 1 && !rc; q--) {
            for (int i = 0; i < B; i++) {
                ucode[i] = code_at[bt[i] - (size_t)q];
                urng[i] = lc_rng_split(&rng);
            }
            rc = lc_gtok_step(g, bp, bcu, ucode, B, g->cfg.temperature, urng, un, NULL, NULL,
                              err);
            memcpy(bp, bcu, (size_t)B * T * sizeof(int));
            memcpy(bcu, un, (size_t)B * T * sizeof(int));
        }
        if (rc) break;
        // corruption of the previous frame's tokens only (the heads read the current one)
        if (g->cfg.corrupt > 0)
            for (size_t q = 0; q < (size_t)B * T; q++)
                if (lc_rng_float(&rng) < g->cfg.corrupt)
                    bp[q] = (int)lc_rng_below(&rng, (uint32_t)g->V);
        lc_params_zero_grad(&g->p);
        if (bk) mask_batch(&rng, bn, bk, perm, B, T, g->V);
        loss = lc_gtok_fwd_bwd(g, &b, bp, bcu, bn, bk, bc, br, be, hc);
        if (!isfinite(loss)) {
            rc = lc_fail(err, LC_ERR_NAN, "genie tokens: loss is not finite at step %d", s);
            break;
        }
        lc_clip_grad_norm(g->p.grads, g->p.n, 1.0f);
        lc_adam_step(&g->p, &opt);
        if (cb && (s + 1) % 100 == 0 && cb(ctx, 2, s + 1, loss)) break;
    }
    g->dyn_loss = loss;
    g->dyn_s = lc_now() - t0;
    lam->train_frames = (int64_t)train_end;
    g->peak_mb = lc_genie_peak_rss_mb();
    lc_gtok_buf_free(&b);
    free(bk), free(perm);
    free(code_at), free(hc), free(un), free(ucode), free(bt), free(urng), free(bj);
    free(toks), free(idx), free(codes), free(bp), free(bcu), free(bn), free(bc), free(br),
        free(be);
    return rc;
}

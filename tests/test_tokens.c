// tests/test_tokens.c: the token design of the Genie-style world: the VQ frame tokenizer
// (round trip, learning, dead-code restarts, checkpoint), finite-difference gradients of the
// tokenizer's decoder and of every tensor of the token dynamics and heads, sampling
// (deterministic per seed, temperature 0 = argmax), the token dream under the env contract,
// refusal of corrupt and mismatched files; MaskGIT dynamics (gradients of the masked loss,
// decoding deterministic per seed, K = 1 is one-pass sampling, checkpoints). Leaves out: game-level figures (eval-genie,
// bench_genie, the LUCID_LONG test).
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env/env.h"
#include "nn/nn.h"
#include "tests/helpers/env_contract.h"
#include "tests/helpers/grad_check.h"
#include "worldmodel/frames.h"
#include "worldmodel/genie.h"
#include "worldmodel/genie_tokens.h"
#include "worldmodel/tokenizer.h"
#include "worldmodel/worldmodel.h"

static char model_path[256], pixel_path[256], mg_path[256], at_path[256];
static lc_frames data; // Breakout-v0, native 64x64 frames of random play

// (runs before the tests: failures exit)
static void collect(lc_frames *fr, int64_t steps, uint64_t seed) {
    lc_error err = {0};
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = 2;
    if (lc_env_make(&env, "Breakout-v0", &o, &err) ||
        lc_frames_collect(fr, env, steps, 0, seed, &err)) {
        fprintf(stderr, "test_tokens: frames: %s\n", err.msg);
        exit(1);
    }
    lc_env_free(env);
}

static lc_tok_cfg tiny_tok(void) {
    lc_tok_cfg c = lc_tok_cfg_default();
    c.hidden = 8;
    c.dim = 4;
    c.codes = 16;
    c.batch = 4;
    c.steps = 60;
    c.restart_window = 10;
    return c;
}

static lc_genie_cfg tiny_lam(void) {
    lc_genie_cfg c = lc_genie_cfg_default();
    c.res = 16;
    c.enc_ch = 8;
    c.lam_hidden = 8;
    c.dyn_hidden = 4;
    c.batch = 16;
    c.lam_steps = 20;
    c.dyn_steps = 0;
    c.max_starts = 8;
    return c;
}

static lc_gtok_cfg tiny_gtok(void) {
    lc_gtok_cfg c = lc_gtok_cfg_default();
    c.tok = tiny_tok();
    c.emb = 4;
    c.hidden = 8;
    c.head_emb = 4;
    c.head_hidden = 8;
    c.batch = 4;
    c.steps = 20;
    c.changed_weight = 4; // the gradient checks cover the weighting
    c.unroll = 2;         // and the model the tests load was trained with unrolling
    return c;
}

static double psnr_u8(const uint8_t *a, const uint8_t *b, size_t n) {
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (a[i] - b[i]) / 255.0;
        se += d * d;
    }
    return 10.0 * log10(1.0 / (se / n + 1e-10));
}

// A trained tiny token world (and a pixel genie file, for the kind checks).
static void write_models(void) {
    snprintf(model_path, sizeof model_path, "/tmp/lucid_tok_%d.lucid", (int)getpid());
    snprintf(pixel_path, sizeof pixel_path, "/tmp/lucid_tokpix_%d.lucid", (int)getpid());
    snprintf(mg_path, sizeof mg_path, "/tmp/lucid_tokmg_%d.lucid", (int)getpid());
    snprintf(at_path, sizeof at_path, "/tmp/lucid_tokat_%d.lucid", (int)getpid());
    lc_error err = {0};
    lc_genie_cfg lc = tiny_lam();
    lc_genie *lam = NULL;
    float *X = NULL;
    lc_gtok *g = NULL;
    if (lc_genie_new(&lam, &lc, data.C, &data, &err) || lc_genie_prep_all(lam, &data, &X, &err) ||
        lc_genie_train(lam, &data, X, NULL, NULL, &err) || lc_genie_save(lam, pixel_path, &err)) {
        fprintf(stderr, "test_tokens: LAM: %s\n", err.msg);
        exit(1);
    }
    lc_gtok_cfg tc = tiny_gtok();
    if (lc_gtok_new(&g, &tc, lam, &err) || lc_gtok_train(g, &data, X, 0, NULL, NULL, &err) ||
        lc_gtok_save(g, model_path, &err)) {
        fprintf(stderr, "test_tokens: token world: %s\n", err.msg);
        exit(1);
    }
    // the same tokenizer and LAM with MaskGIT dynamics (3 decoding steps; unrolled training
    // decodes with them)
    tc.maskgit = 3;
    if (lc_gtok_reset_dynamics(g, &tc, &err) || lc_gtok_train(g, &data, X, 1, NULL, NULL, &err) ||
        lc_gtok_save(g, mg_path, &err)) {
        fprintf(stderr, "test_tokens: MaskGIT token world: %s\n", err.msg);
        exit(1);
    }
    // and one-pass dynamics with 2 attention blocks of 2 heads after the conv stack
    tc.maskgit = 0;
    tc.dyn_attn = 2;
    tc.attn_heads = 2;
    if (lc_gtok_reset_dynamics(g, &tc, &err) || lc_gtok_train(g, &data, X, 1, NULL, NULL, &err) ||
        lc_gtok_save(g, at_path, &err)) {
        fprintf(stderr, "test_tokens: attention token world: %s\n", err.msg);
        exit(1);
    }
    lc_gtok_free(g);
    free(X);
}

// ---------------------------------------------------------------- tokenizer

START_TEST(test_tok_roundtrip_and_learning) {
    lc_error err = {0};
    lc_tok_cfg c = tiny_tok();
    lc_tok *t = NULL;
    ck_assert_int_eq(lc_tok_new(&t, &c, &err), LC_OK);
    const int M = 16, G = lc_tok_grid(t), T = G * G;
    ck_assert_int_eq(G, 16);
    const size_t fs = 64 * 64 * 3;
    const uint8_t *x = data.frames + (data.n - M) * fs; // the tail: not trained on below
    int *tok = malloc((size_t)M * T * sizeof(int)), *tok2 = malloc((size_t)M * T * sizeof(int));
    uint8_t *rec = malloc(M * fs);
    ck_assert_int_eq(lc_tok_encode(t, x, M, tok, &err), LC_OK);
    ck_assert_int_eq(lc_tok_decode(t, tok, M, rec, NULL, &err), LC_OK);
    double p0 = psnr_u8(x, rec, M * fs);
    ck_assert_msg(lc_tok_train(t, data.frames, data.n - M, NULL, NULL, &err) == LC_OK, "%s",
                  err.msg);
    ck_assert_int_gt(lc_tok_restarts(t), 0); // the data-dependent init leaves duplicates
    ck_assert_int_eq(lc_tok_encode(t, x, M, tok, &err), LC_OK);
    for (int i = 0; i < M * T; i++) ck_assert(tok[i] >= 0 && tok[i] < 16);
    ck_assert_int_eq(lc_tok_decode(t, tok, M, rec, NULL, &err), LC_OK);
    double p1 = psnr_u8(x, rec, M * fs);
    ck_assert_msg(p1 > p0 + 3.0, "held-out PSNR %.2f dB after training, %.2f before", p1, p0);
    // Decoding is deterministic; re-encoding a decoded frame gives its tokens back mostly.
    uint8_t *rec2 = malloc(M * fs);
    ck_assert_int_eq(lc_tok_decode(t, tok, M, rec2, NULL, &err), LC_OK);
    ck_assert_mem_eq(rec, rec2, M * fs);
    ck_assert_int_eq(lc_tok_encode(t, rec, M, tok2, &err), LC_OK);
    int same = 0;
    for (int i = 0; i < M * T; i++) same += tok[i] == tok2[i];
    ck_assert_msg(same > M * T / 2, "%d of %d tokens survive decode + encode", same, M * T);
    // Out-of-range tokens are an error, not a read past the codebook.
    tok[3] = 16;
    ck_assert_int_eq(lc_tok_decode(t, tok, 1, rec2, NULL, &err), LC_ERR_ARG);
    tok[3] = -1;
    ck_assert_int_eq(lc_tok_decode(t, tok, 1, rec2, NULL, &err), LC_ERR_ARG);
    tok[3] = 0;
    // Checkpoint round trip: same tokens and frames.
    lc_file *f = lc_file_new("tok_test");
    ck_assert_int_eq(lc_tok_to_file(t, f, "tok", &err), LC_OK);
    lc_tok *t2 = NULL;
    ck_assert_msg(lc_tok_from_file(&t2, f, "tok", &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(lc_tok_encode(t2, x, M, tok2, &err), LC_OK);
    ck_assert_int_eq(lc_tok_encode(t, x, M, tok, &err), LC_OK);
    ck_assert_mem_eq(tok, tok2, (size_t)M * T * sizeof(int));
    ck_assert_int_eq(lc_tok_restarts(t2), lc_tok_restarts(t));
    lc_tok_free(t2);
    lc_file_free(f);
    lc_tok_free(t);
    free(tok), free(tok2), free(rec), free(rec2);
}
END_TEST

// Restarts move a code nobody uses to the worst-fitted encoder output: with a codebook of
// 4 drawn from encoder outputs (mostly background) and restarts every 5 steps, the codes
// spread over what the frames hold, and at least 3 of the 4 end up used.
START_TEST(test_tok_restarts_take_rare_patches) {
    lc_error err = {0};
    lc_tok_cfg c = tiny_tok();
    c.codes = 4;
    lc_tok *t = NULL;
    c.steps = 40;
    c.restart_window = 5;
    ck_assert_int_eq(lc_tok_new(&t, &c, &err), LC_OK);
    ck_assert_int_eq(lc_tok_train(t, data.frames, data.n, NULL, NULL, &err), LC_OK);
    int *tok = malloc(64 * 256 * sizeof(int)), used[4] = {0};
    ck_assert_int_eq(lc_tok_encode(t, data.frames, 64, tok, &err), LC_OK);
    for (int i = 0; i < 64 * 256; i++) used[tok[i]] = 1;
    ck_assert_int_ge(used[0] + used[1] + used[2] + used[3], 3);
    free(tok);
    lc_tok_free(t);
}
END_TEST

// ---------------------------------------------------------------- gradients

typedef struct tok_ctx {
    lc_tok *t;
    float *x;
    int B;
} tok_ctx;
static double tok_loss(void *ctx) {
    tok_ctx *c = ctx;
    return lc_tok_loss(c->t, c->x, c->B, NULL, NULL);
}

START_TEST(test_tok_gradients) {
    lc_error err = {0};
    lc_tok_cfg c = tiny_tok();
    c.side = 16; // small frames: cheap differences
    lc_tok *t = NULL;
    ck_assert_int_eq(lc_tok_new(&t, &c, &err), LC_OK);
    const int B = 2;
    float *x = malloc((size_t)B * 3 * 16 * 16 * sizeof(float));
    lc_rng rng;
    lc_rng_seed(&rng, 3, 0);
    for (int i = 0; i < B * 3 * 16 * 16; i++) x[i] = lc_rng_float(&rng);
    tok_ctx ctx = {t, x, B};
    lc_params *p = lc_tok_params(t);
    // The decoder's gradients are exact (the codes do not move under its parameters).
    const char *names[] = {"dec.d1w", "dec.d1b", "dec.d2w", "dec.d2b", "dec.d3w", "dec.d3b"};
    int bad = 0;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        bad += lc_test_fd_check(p, lc_params_find(p, names[k]), tok_loss, &ctx);
    ck_assert_int_eq(bad, 0);
    // The encoder's is the straight-through estimate: its commitment part alone is exact;
    // check that the full gradient is finite and non-zero.
    tok_loss(&ctx);
    int e = lc_params_find(p, "enc.c1w");
    ck_assert(lc_all_finite(lc_grad(p, e), p->t[e].size));
    ck_assert(lc_grad_norm(lc_grad(p, e), p->t[e].size) > 0);
    free(x);
    lc_tok_free(t);
}
END_TEST

typedef struct dyn_ctx {
    lc_gtok *g;
    int *prev, *cur, *next, *codes, *rcls;
    uint8_t *ends;
    int B;
} dyn_ctx;
static double dyn_loss(void *ctx) {
    dyn_ctx *c = ctx;
    return lc_gtok_loss(c->g, c->prev, c->cur, c->next, c->codes, c->rcls, c->ends, c->B);
}

// Every tensor of the token dynamics and heads (embeddings, the conditioned conv stack,
// the 1x1 output, the heads' conv and linear), through the per-position cross-entropy,
// the reward classes and the end logit.
typedef struct mg_ctx {
    dyn_ctx d;
    int *known;
} mg_ctx;
static double mg_loss(void *ctx) {
    mg_ctx *c = ctx;
    return lc_gtok_loss_masked(c->d.g, c->d.prev, c->d.cur, c->d.next, c->known, c->d.codes,
                               c->d.rcls, c->d.ends, c->d.B);
}

// Finite differences of every tensor of g on a random batch of 3 (seed); masked: MaskGIT's
// loss with about half the positions masked. Returns the entries that fail.
static int world_grads(lc_gtok *g, int masked, uint64_t seed) {
    const int B = 3, T = lc_gtok_tokens(g), V = lc_tok_config(lc_gtok_tokenizer(g))->codes;
    const int NR = lc_gtok_lam(g)->n_rvals;
    mg_ctx c = {{g, malloc(B * T * sizeof(int)), malloc(B * T * sizeof(int)),
                 malloc(B * T * sizeof(int)), malloc(B * sizeof(int)), malloc(B * sizeof(int)),
                 malloc(B), B},
                malloc(B * T * sizeof(int))};
    lc_rng rng;
    lc_rng_seed(&rng, seed, 0);
    for (int i = 0; i < B * T; i++) {
        c.d.prev[i] = (int)lc_rng_below(&rng, V);
        c.d.cur[i] = (int)lc_rng_below(&rng, V);
        c.d.next[i] = (int)lc_rng_below(&rng, V);
        c.known[i] = lc_rng_below(&rng, 2) ? V : c.d.next[i];
    }
    for (int i = 0; i < B; i++) {
        c.d.codes[i] = (int)lc_rng_below(&rng, 8);
        c.d.rcls[i] = (int)lc_rng_below(&rng, NR);
        c.d.ends[i] = (uint8_t)(i & 1);
    }
    lc_params *p = lc_gtok_params(g);
    int bad = 0;
    for (int k = 0; k < p->ntensors; k++)
        bad += lc_test_fd_check(p, k, masked ? mg_loss : dyn_loss, masked ? (void *)&c : &c.d);
    free(c.d.prev), free(c.d.cur), free(c.d.next), free(c.d.codes), free(c.d.rcls),
        free(c.d.ends), free(c.known);
    return bad;
}

START_TEST(test_gtok_gradients) {
    lc_error err = {0};
    lc_gtok *g = NULL;
    ck_assert_msg(lc_gtok_load(&g, model_path, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(world_grads(g, 0, 5), 0);
    lc_gtok_free(g);
}
END_TEST

// Attention blocks after the conv stack: every tensor (the position embedding, each block's
// layer norms, QKV, output, MLP) through the one-pass loss; the next test, through MaskGIT's
// masked loss in a world with both.
START_TEST(test_attn_gradients) {
    lc_error err = {0};
    lc_gtok *g = NULL;
    ck_assert_msg(lc_gtok_load(&g, at_path, &err) == LC_OK, "%s", err.msg);
    lc_params *p = lc_gtok_params(g);
    ck_assert_int_ge(lc_params_find(p, "attn.pos"), 0);
    ck_assert_int_ge(lc_params_find(p, "attn1.w2"), 0);
    ck_assert_int_eq(world_grads(g, 0, 7), 0);
    lc_gtok_free(g);
}
END_TEST

START_TEST(test_attn_maskgit_gradients) {
    lc_error err = {0};
    lc_gtok *g = NULL;
    ck_assert_msg(lc_gtok_load(&g, at_path, &err) == LC_OK, "%s", err.msg);
    lc_gtok_cfg c = *lc_gtok_config(g);
    c.maskgit = 3;
    c.dyn_attn = 1;
    c.attn_heads = 4;
    ck_assert_int_eq(lc_gtok_reset_dynamics(g, &c, &err), LC_OK);
    ck_assert_int_ge(lc_params_find(lc_gtok_params(g), "memb"), 0);
    ck_assert_int_lt(lc_params_find(lc_gtok_params(g), "attn1.w2"), 0);
    ck_assert_int_eq(world_grads(g, 1, 8), 0);
    lc_gtok_free(g);
}
END_TEST


// MaskGIT: every tensor (the next frame's embedding with its [MASK] row among them) through
// the loss over the masked positions; the loss ignores the known positions' predictions.
START_TEST(test_maskgit_gradients) {
    lc_error err = {0};
    lc_gtok *g = NULL;
    ck_assert_msg(lc_gtok_load(&g, mg_path, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(lc_gtok_config(g)->maskgit, 3);
    const int B = 3, T = lc_gtok_tokens(g), V = lc_tok_config(lc_gtok_tokenizer(g))->codes;
    const int NR = lc_gtok_lam(g)->n_rvals;
    mg_ctx c = {{g, malloc(B * T * sizeof(int)), malloc(B * T * sizeof(int)),
                 malloc(B * T * sizeof(int)), malloc(B * sizeof(int)), malloc(B * sizeof(int)),
                 malloc(B), B},
                malloc(B * T * sizeof(int))};
    lc_rng rng;
    lc_rng_seed(&rng, 6, 0);
    for (int i = 0; i < B * T; i++) {
        c.d.prev[i] = (int)lc_rng_below(&rng, V);
        c.d.cur[i] = (int)lc_rng_below(&rng, V);
        c.d.next[i] = (int)lc_rng_below(&rng, V);
        c.known[i] = lc_rng_below(&rng, 2) ? V : c.d.next[i];
    }
    for (int i = 0; i < B; i++) {
        c.d.codes[i] = (int)lc_rng_below(&rng, 8);
        c.d.rcls[i] = (int)lc_rng_below(&rng, NR);
        c.d.ends[i] = (uint8_t)(i & 1);
    }
    lc_params *p = lc_gtok_params(g);
    ck_assert_int_ge(lc_params_find(p, "memb"), 0);
    int bad = 0;
    for (int k = 0; k < p->ntensors; k++) bad += lc_test_fd_check(p, k, mg_loss, &c);
    ck_assert_int_eq(bad, 0);
    // The output layer's gradient comes from the masked positions only: where every
    // position is known it is zero, where one is masked it is not.
    int ob = lc_params_find(p, "out.b");
    for (int i = 0; i < B * T; i++) c.known[i] = c.d.next[i];
    mg_loss(&c);
    ck_assert_float_eq_tol(lc_grad_norm(lc_grad(p, ob), p->t[ob].size), 0.0f, 1e-12f);
    c.known[T + 5] = V;
    mg_loss(&c);
    ck_assert(lc_grad_norm(lc_grad(p, ob), p->t[ob].size) > 0);
    // A one-pass world has no masked loss.
    lc_gtok *g1 = NULL;
    ck_assert_int_eq(lc_gtok_load(&g1, model_path, &err), LC_OK);
    c.d.g = g1;
    ck_assert(isnan(mg_loss(&c)));
    lc_gtok_free(g1);
    free(c.d.prev), free(c.d.cur), free(c.d.next), free(c.d.codes), free(c.d.rcls),
        free(c.d.ends), free(c.known);
    lc_gtok_free(g);
}
END_TEST

// ---------------------------------------------------------------- sampling

// n (B, T) is the argmax over V of logits (B, V, T).
static void assert_argmax(const int *n, const float *lg, int B, int V, int T) {
    for (int b = 0; b < B; b++)
        for (int s = 0; s < T; s++) {
            int best = 0;
            for (int v = 1; v < V; v++)
                if (lg[((size_t)b * V + v) * T + s] > lg[((size_t)b * V + best) * T + s]) best = v;
            ck_assert_int_eq(n[b * T + s], best);
        }
}

// Steps at temperature 3 (the tiny models' distributions are wide): same seeds, the same
// draws and rewards; other seeds, other draws; every draw a token. n1 keeps seed 42's draws.
static void assert_seeded(const lc_gtok *g, const int *pv, const int *cu, const int *codes,
                          int B, int *n1, int *n2) {
    lc_error err = {0};
    const int T = lc_gtok_tokens(g), V = lc_tok_config(lc_gtok_tokenizer(g))->codes;
    lc_rng ra[8], rb[8];
    float r1[8], r2[8];
    ck_assert_int_le(B, 8);
    for (int b = 0; b < B; b++) lc_rng_seed(&ra[b], 42, b), lc_rng_seed(&rb[b], 42, b);
    ck_assert_int_eq(lc_gtok_step(g, pv, cu, codes, B, 3.0f, ra, n1, r1, NULL, &err), LC_OK);
    ck_assert_int_eq(lc_gtok_step(g, pv, cu, codes, B, 3.0f, rb, n2, r2, NULL, &err), LC_OK);
    ck_assert_mem_eq(n1, n2, (size_t)B * T * sizeof(int));
    ck_assert_mem_eq(r1, r2, (size_t)B * sizeof(float));
    for (int b = 0; b < B; b++) lc_rng_seed(&rb[b], 43, b);
    ck_assert_int_eq(lc_gtok_step(g, pv, cu, codes, B, 3.0f, rb, n2, r2, NULL, &err), LC_OK);
    int diff = 0;
    for (int i = 0; i < B * T; i++) diff += n1[i] != n2[i], ck_assert(n1[i] >= 0 && n1[i] < V);
    ck_assert_int_gt(diff, 0);
}

// A 3-step rollout of B contexts is a function of its seed.
static void assert_rollout_seeded(const lc_gtok *g, const int *pv, const int *cu, int B) {
    lc_error err = {0};
    const size_t n = (size_t)B * 3 * 64 * 64 * 3;
    uint8_t *f1 = malloc(n), *f2 = malloc(n);
    int rc3[24] = {0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3};
    ck_assert_int_le(B, 8);
    ck_assert_int_eq(lc_gtok_rollout(g, pv, cu, rc3, B, 3, 1.0f, 7, f1, NULL, &err), LC_OK);
    ck_assert_int_eq(lc_gtok_rollout(g, pv, cu, rc3, B, 3, 1.0f, 7, f2, NULL, &err), LC_OK);
    ck_assert_mem_eq(f1, f2, n);
    free(f1), free(f2);
}

START_TEST(test_sampling) {
    lc_error err = {0};
    lc_gtok *g = NULL;
    ck_assert_msg(lc_gtok_load(&g, model_path, &err) == LC_OK, "%s", err.msg);
    const int B = 4, T = lc_gtok_tokens(g), V = lc_tok_config(lc_gtok_tokenizer(g))->codes;
    int *pv = malloc(B * T * sizeof(int)), *cu = malloc(B * T * sizeof(int));
    int *n1 = malloc(B * T * sizeof(int)), *n2 = malloc(B * T * sizeof(int)), codes[4] = {0, 1, 2, 3};
    float *lg = malloc((size_t)B * V * T * sizeof(float)), r1[4], e1[4];
    lc_rng rng;
    lc_rng_seed(&rng, 9, 0);
    for (int i = 0; i < B * T; i++) pv[i] = (int)lc_rng_below(&rng, V), cu[i] = (int)lc_rng_below(&rng, V);
    // Temperature 0 is the argmax of the logits.
    ck_assert_int_eq(lc_gtok_step(g, pv, cu, codes, B, 0.0f, NULL, n1, r1, e1, &err), LC_OK);
    ck_assert_int_eq(lc_gtok_logits(g, pv, cu, codes, B, lg, &err), LC_OK);
    assert_argmax(n1, lg, B, V, T);
    // Same seeds: the same draws; other seeds: other draws.
    assert_seeded(g, pv, cu, codes, B, n1, n2);
    ck_assert_int_eq(lc_gtok_step(g, pv, cu, codes, B, 3.0f, NULL, n1, r1, e1, &err), LC_OK);
    // Every sample is a token; rewards lie within the reward classes' range.
    const lc_genie *l = lc_gtok_lam(g);
    float lo = l->rvals[0], hi = l->rvals[0];
    for (int k = 1; k < l->n_rvals; k++) lo = fminf(lo, l->rvals[k]), hi = fmaxf(hi, l->rvals[k]);
    for (int i = 0; i < B * T; i++) ck_assert(n1[i] >= 0 && n1[i] < V);
    for (int b = 0; b < B; b++) ck_assert(r1[b] >= lo - 1e-5f && r1[b] <= hi + 1e-5f);
    assert_rollout_seeded(g, pv, cu, B);
    free(pv), free(cu), free(n1), free(n2), free(lg);
    lc_gtok_free(g);
}
END_TEST

// MaskGIT decoding: a function of the seed; K = 1 from all masked is one-pass sampling
// (argmax at temperature 0, the same inverse-CDF draw per position in order otherwise).
START_TEST(test_maskgit_sampling) {
    lc_error err = {0};
    lc_gtok *g = NULL;
    ck_assert_msg(lc_gtok_load(&g, mg_path, &err) == LC_OK, "%s", err.msg);
    const int B = 4, T = lc_gtok_tokens(g), V = lc_tok_config(lc_gtok_tokenizer(g))->codes;
    int *pv = malloc(B * T * sizeof(int)), *cu = malloc(B * T * sizeof(int));
    int *n1 = malloc(B * T * sizeof(int)), *n2 = malloc(B * T * sizeof(int)), codes[4] = {0, 1, 2, 3};
    float *lg = malloc((size_t)B * V * T * sizeof(float)), *pr = malloc(V * sizeof(float));
    lc_rng rng, ra[4], rb[4];
    lc_rng_seed(&rng, 10, 0);
    for (int i = 0; i < B * T; i++) pv[i] = (int)lc_rng_below(&rng, V), cu[i] = (int)lc_rng_below(&rng, V);
    // K = 3: same seeds, same frames; other seeds, others; every draw a token.
    assert_seeded(g, pv, cu, codes, B, n1, n2);
    // temperature 0 needs no RNG and repeats itself
    ck_assert_int_eq(lc_gtok_step(g, pv, cu, codes, B, 0.0f, NULL, n1, NULL, NULL, &err), LC_OK);
    ck_assert_int_eq(lc_gtok_step(g, pv, cu, codes, B, 0.0f, NULL, n2, NULL, NULL, &err), LC_OK);
    ck_assert_mem_eq(n1, n2, (size_t)B * T * sizeof(int));
    // K = 1: one pass over the all-masked logits
    ck_assert_int_eq(lc_gtok_set_decoding(g, 1, &err), LC_OK);
    ck_assert_int_eq(lc_gtok_logits(g, pv, cu, codes, B, lg, &err), LC_OK);
    ck_assert_int_eq(lc_gtok_step(g, pv, cu, codes, B, 0.0f, NULL, n1, NULL, NULL, &err), LC_OK);
    assert_argmax(n1, lg, B, V, T);
    const float temp = 3.0f;
    for (int b = 0; b < B; b++) lc_rng_seed(&ra[b], 7, b), lc_rng_seed(&rb[b], 7, b);
    ck_assert_int_eq(lc_gtok_step(g, pv, cu, codes, B, temp, ra, n1, NULL, NULL, &err), LC_OK);
    for (int b = 0; b < B; b++)
        for (int s = 0; s < T; s++) {
            const float *l = lg + (size_t)b * V * T;
            float m = l[s];
            for (int v = 1; v < V; v++) m = fmaxf(m, l[(size_t)v * T + s]);
            double z = 0;
            for (int v = 0; v < V; v++) z += pr[v] = expf((l[(size_t)v * T + s] - m) / temp);
            double u = lc_rng_double(&rb[b]) * z, acc = 0;
            int k = V - 1;
            for (int v = 0; v < V; v++)
                if (u < (acc += pr[v])) {
                    k = v;
                    break;
                }
            ck_assert_int_eq(n1[b * T + s], k);
        }
    // Decoding steps are 1..64, and only for a MaskGIT world.
    ck_assert_int_eq(lc_gtok_set_decoding(g, 0, &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_gtok_set_decoding(g, 65, &err), LC_ERR_ARG);
    lc_gtok *g1 = NULL;
    ck_assert_int_eq(lc_gtok_load(&g1, model_path, &err), LC_OK);
    ck_assert_int_eq(lc_gtok_set_decoding(g1, 4, &err), LC_ERR_STATE);
    lc_gtok_free(g1);
    // A rollout of K = 3 is a function of its seed.
    ck_assert_int_eq(lc_gtok_set_decoding(g, 3, &err), LC_OK);
    assert_rollout_seeded(g, pv, cu, B);
    free(pv), free(cu), free(n1), free(n2), free(lg), free(pr);
    lc_gtok_free(g);
}
END_TEST

// ---------------------------------------------------------------- files and the env

static void write_bytes(const char *path, const unsigned char *buf, size_t n) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fwrite(buf, 1, n, f), n);
    fclose(f);
}

START_TEST(test_files_refused) {
    lc_error err = {0};
    lc_gtok *g = NULL;
    ck_assert_msg(lc_gtok_load(&g, model_path, &err) == LC_OK, "%s", err.msg);
    lc_gtok_free(g);
    ck_assert(lc_gtok_file_is(model_path));
    ck_assert(!lc_genie_file_is(model_path));
    ck_assert(!lc_gtok_file_is(pixel_path));
    // Each loader refuses the other kind, naming it.
    lc_genie *pg = NULL;
    ck_assert_int_eq(lc_genie_load(&pg, model_path, &err), LC_ERR_FORMAT);
    ck_assert_int_eq(lc_gtok_load(&g, pixel_path, &err), LC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "genie_tokens"));
    // Corrupt bytes, truncation.
    FILE *f = fopen(model_path, "rb");
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)len);
    ck_assert_int_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    char bad[300];
    snprintf(bad, sizeof bad, "%s.bad", model_path);
    buf[len / 2] ^= 0x5a;
    write_bytes(bad, buf, (size_t)len);
    ck_assert_int_eq(lc_gtok_load(&g, bad, &err), LC_ERR_CHECKSUM);
    ck_assert_ptr_null(g);
    buf[len / 2] ^= 0x5a;
    write_bytes(bad, buf, (size_t)len / 3);
    ck_assert_int_ne(lc_gtok_load(&g, bad, &err), LC_OK);
    char name[320];
    snprintf(name, sizeof name, "dream:%s", bad);
    lc_env *env = NULL;
    ck_assert_int_ne(lc_env_make(&env, name, NULL, &err), LC_OK);
    ck_assert_ptr_null(env);
    // A tensor the kind does not use is refused by name.
    lc_file *lf = NULL;
    ck_assert_int_eq(lc_file_read(model_path, &lf, &err), LC_OK);
    float junk[3] = {1, 2, 3};
    int64_t js[1] = {3};
    ck_assert_int_eq(lc_file_add(lf, "tdyn.extra", LC_F32, 1, js, junk, &err), LC_OK);
    ck_assert_int_eq(lc_file_write(lf, bad, &err), LC_OK);
    lc_file_free(lf);
    ck_assert_int_eq(lc_gtok_load(&g, bad, &err), LC_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "tdyn.extra") != NULL, "%s", err.msg);
    // Meta that implies other shapes than the tensors have (a mismatched file).
    const char *keys[] = {"gtok.cfg.hidden", "tok.cfg.codes", "lam.cfg.n_codes", "game_h"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        ck_assert_int_eq(lc_file_read(model_path, &lf, &err), LC_OK);
        int64_t v = 0;
        ck_assert_int_eq(lc_file_get_int(lf, keys[k], &v, &err), LC_OK);
        lc_file_set_int(lf, keys[k], v * 2);
        ck_assert_int_eq(lc_file_write(lf, bad, &err), LC_OK);
        lc_file_free(lf);
        ck_assert_msg(lc_gtok_load(&g, bad, &err) != LC_OK, "%s doubled was accepted", keys[k]);
        ck_assert_ptr_null(g);
    }
    // Out-of-range start tokens.
    ck_assert_int_eq(lc_file_read(model_path, &lf, &err), LC_OK);
    const lc_tensor *st = lc_file_tensor(lf, "starts");
    ck_assert_ptr_nonnull(st);
    ((int32_t *)st->data)[5] = 1 << 20;
    ck_assert_int_eq(lc_file_write(lf, bad, &err), LC_OK);
    lc_file_free(lf);
    ck_assert_int_eq(lc_gtok_load(&g, bad, &err), LC_ERR_FORMAT);
    unlink(bad);
    free(buf);
}
END_TEST

// Two dreams of dream:PATH?PARAMS,horizon=4 (2 envs, 3 steps) from seed 11: the same frames.
static void dream_repeats(const char *path, const char *params) {
    lc_error err = {0};
    char name[400];
    snprintf(name, sizeof name, "dream:%s?%s,horizon=4", path, params);
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = 2;
    uint8_t *runs[2];
    for (int r = 0; r < 2; r++) {
        lc_env *env = NULL;
        ck_assert_msg(lc_env_make(&env, name, &o, &err) == LC_OK, "%s", err.msg);
        ck_assert_int_eq(lc_env_reset(env, 11, &err), LC_OK);
        int32_t a[2] = {0, 0};
        for (int s = 0; s < 3; s++) ck_assert_int_eq(lc_env_step(env, a, &err), LC_OK);
        runs[r] = malloc(2 * 64 * 64 * 3);
        memcpy(runs[r], lc_env_get_buf(env)->obs, 2 * 64 * 64 * 3);
        lc_env_free(env);
    }
    ck_assert_mem_eq(runs[0], runs[1], 2 * 64 * 64 * 3);
    free(runs[0]), free(runs[1]);
}

// A MaskGIT world's checkpoint: saved and loaded again, the same parameters and steps;
// a file whose maskgit meta does not fit its tensors, or is out of range, is refused.
START_TEST(test_maskgit_files) {
    lc_error err = {0};
    lc_gtok *g = NULL, *h = NULL;
    ck_assert_msg(lc_gtok_load(&g, mg_path, &err) == LC_OK, "%s", err.msg);
    char again[300], bad[300];
    snprintf(again, sizeof again, "%s.again", mg_path);
    snprintf(bad, sizeof bad, "%s.bad", mg_path);
    ck_assert_int_eq(lc_gtok_save(g, again, &err), LC_OK);
    ck_assert_msg(lc_gtok_load(&h, again, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(lc_gtok_config(h)->maskgit, 3);
    ck_assert_int_eq(lc_gtok_params(h)->n, lc_gtok_params(g)->n);
    ck_assert_mem_eq(lc_gtok_params(h)->params, lc_gtok_params(g)->params,
                     lc_gtok_params(g)->n * sizeof(float));
    lc_gtok_free(h), lc_gtok_free(g);
    struct {
        const char *from;
        int64_t maskgit;
    } cases[] = {{model_path, 3}, {mg_path, 0}, {mg_path, 65}, {mg_path, -1}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        lc_file *lf = NULL;
        ck_assert_int_eq(lc_file_read(cases[k].from, &lf, &err), LC_OK);
        lc_file_set_int(lf, "gtok.cfg.maskgit", cases[k].maskgit);
        ck_assert_int_eq(lc_file_write(lf, bad, &err), LC_OK);
        lc_file_free(lf);
        ck_assert_msg(lc_gtok_load(&g, bad, &err) != LC_OK, "case %zu was accepted", k);
        ck_assert_ptr_null(g);
    }
    // the dream of a MaskGIT world follows its seed
    dream_repeats(mg_path, "temp=1");
    unlink(again), unlink(bad);
}
END_TEST

// 1 when worlds a and b (same tokenizer) give bitwise the same logits on a fixed batch of 2.
static int same_logits(const lc_gtok *a, const lc_gtok *b) {
    lc_error err = {0};
    const int T = lc_gtok_tokens(a), V = lc_tok_config(lc_gtok_tokenizer(a))->codes, B = 2;
    int *pv = malloc(B * T * sizeof(int)), *cu = malloc(B * T * sizeof(int)), codes[2] = {1, 5};
    const size_t n = (size_t)B * V * T;
    float *l1 = malloc(n * sizeof(float)), *l2 = malloc(n * sizeof(float));
    for (int i = 0; i < B * T; i++) pv[i] = (i * 3) % V, cu[i] = (i * 7) % V;
    ck_assert_int_eq(lc_gtok_logits(a, pv, cu, codes, B, l1, &err), LC_OK);
    ck_assert_int_eq(lc_gtok_logits(b, pv, cu, codes, B, l2, &err), LC_OK);
    int same = memcmp(l1, l2, n * sizeof(float)) == 0;
    free(pv), free(cu), free(l1), free(l2);
    return same;
}

// A copy of the file at path without the meta keys drop[0..n) (a file from before them).
static void write_without(const char *path, const char *out, const char *const *drop, int n) {
    lc_error err = {0};
    lc_file *f = NULL, *o = NULL;
    ck_assert_int_eq(lc_file_read(path, &f, &err), LC_OK);
    o = lc_file_new(lc_file_kind(f));
    for (int k = 0; k < lc_file_nmeta(f); k++) {
        const char *key = lc_file_meta_key(f, k), *str;
        int skip = 0;
        for (int j = 0; j < n; j++) skip |= strcmp(key, drop[j]) == 0;
        int64_t iv;
        double dv;
        if (skip) continue;
        if (lc_file_get_int(f, key, &iv, NULL) == LC_OK) lc_file_set_int(o, key, iv);
        else if (lc_file_get_float(f, key, &dv, NULL) == LC_OK) lc_file_set_float(o, key, dv);
        else if (lc_file_get_str(f, key, &str, NULL) == LC_OK) lc_file_set_str(o, key, str);
        else ck_abort_msg("meta %s of no known type", key);
    }
    for (int k = 0; k < lc_file_ntensors(f); k++) {
        const lc_tensor *t = lc_file_tensor_at(f, k);
        ck_assert_int_eq(lc_file_add(o, t->name, t->dtype, t->ndim, t->shape, t->data, &err),
                         LC_OK);
    }
    ck_assert_int_eq(lc_file_write(o, out, &err), LC_OK);
    lc_file_free(o), lc_file_free(f);
}

// Attention worlds: a checkpoint round trip gives the same parameters and the same logits;
// a file from before the attention fields loads as the conv dynamics (dyn_attn 0); bad or
// mismatched fields are refused; the attention dream follows its seed.
START_TEST(test_attn_files) {
    lc_error err = {0};
    lc_gtok *g = NULL, *h = NULL;
    ck_assert_msg(lc_gtok_load(&g, at_path, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(lc_gtok_config(g)->dyn_attn, 2);
    ck_assert_int_eq(lc_gtok_config(g)->attn_heads, 2);
    char again[300], bad[300];
    snprintf(again, sizeof again, "%s.again", at_path);
    snprintf(bad, sizeof bad, "%s.bad", at_path);
    ck_assert_int_eq(lc_gtok_save(g, again, &err), LC_OK);
    ck_assert_msg(lc_gtok_load(&h, again, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(lc_gtok_params(h)->n, lc_gtok_params(g)->n);
    ck_assert_mem_eq(lc_gtok_params(h)->params, lc_gtok_params(g)->params,
                     lc_gtok_params(g)->n * sizeof(float));
    ck_assert(same_logits(g, h));
    lc_gtok_free(h);
    lc_gtok_free(g);
    // a file from before the fields: the conv dynamics, heads at the default
    const char *drop[] = {"gtok.cfg.dyn_attn", "gtok.cfg.attn_heads"};
    write_without(model_path, bad, drop, 2);
    ck_assert_msg(lc_gtok_load(&g, bad, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(lc_gtok_config(g)->dyn_attn, 0);
    ck_assert_int_eq(lc_gtok_config(g)->attn_heads, 2);
    lc_gtok_free(g);
    // ... and an attention world's file without them has tensors a conv world does not use
    write_without(at_path, bad, drop, 2);
    ck_assert_int_eq(lc_gtok_load(&g, bad, &err), LC_ERR_FORMAT);
    ck_assert_ptr_null(g);
    struct {
        const char *from, *key;
        int64_t v;
    } cases[] = {{at_path, "gtok.cfg.dyn_attn", 1},  {at_path, "gtok.cfg.dyn_attn", 0},
                 {at_path, "gtok.cfg.dyn_attn", 9},  {at_path, "gtok.cfg.dyn_attn", -1},
                 {model_path, "gtok.cfg.dyn_attn", 1}, {at_path, "gtok.cfg.attn_heads", 3},
                 {at_path, "gtok.cfg.attn_heads", 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        lc_file *lf = NULL;
        ck_assert_int_eq(lc_file_read(cases[k].from, &lf, &err), LC_OK);
        lc_file_set_int(lf, cases[k].key, cases[k].v);
        ck_assert_int_eq(lc_file_write(lf, bad, &err), LC_OK);
        lc_file_free(lf);
        ck_assert_msg(lc_gtok_load(&g, bad, &err) != LC_OK, "case %zu was accepted", k);
        ck_assert_ptr_null(g);
    }
    dream_repeats(at_path, "temp=1");
    unlink(again), unlink(bad);
}
END_TEST

// Attention on top of trained conv dynamics: the conv world's tensors keep their values, the
// blocks are new; taking them away again gives back the conv world's logits exactly.
START_TEST(test_attn_added) {
    lc_error err = {0};
    lc_gtok *g = NULL, *c = NULL;
    ck_assert_msg(lc_gtok_load(&g, model_path, &err) == LC_OK, "%s", err.msg);
    ck_assert_msg(lc_gtok_load(&c, model_path, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(lc_gtok_set_attention(g, 2, 4, &err), LC_OK);
    ck_assert_int_eq(lc_gtok_config(g)->dyn_attn, 2);
    const lc_params *pg = lc_gtok_params(g), *pc = lc_gtok_params(c);
    ck_assert_int_gt(pg->n, pc->n);
    for (int k = 0; k < pc->ntensors; k++) {
        int j = lc_params_find(pg, pc->t[k].name);
        ck_assert_int_ge(j, 0);
        ck_assert_mem_eq(lc_param(pg, j), lc_param(pc, k), pc->t[k].size * sizeof(float));
    }
    ck_assert_int_eq(lc_gtok_set_attention(g, 1, 2, &err), LC_ERR_ARG); // other heads
    ck_assert_int_eq(lc_gtok_set_attention(g, 9, 4, &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_gtok_config(g)->dyn_attn, 2);
    ck_assert(!same_logits(c, g)); // the blocks act
    ck_assert_int_eq(lc_gtok_set_attention(g, 0, 2, &err), LC_OK);
    ck_assert_int_eq(lc_gtok_params(g)->n, pc->n);
    ck_assert(same_logits(c, g));
    lc_gtok_free(g), lc_gtok_free(c);
}
END_TEST

START_TEST(test_dream_params) {
    lc_error err = {0};
    char name[320];
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = 2;
    const char *bad[] = {"temp=-1", "temp=x", "horizon=0", "halt=1", "actions=some", "junk"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        snprintf(name, sizeof name, "dream:%s?%s", model_path, bad[k]);
        ck_assert_int_eq(lc_env_make(&env, name, &o, &err), LC_ERR_ARG);
        ck_assert_ptr_null(env);
    }
    // temp=0 plays the argmax: two resets with the same seed give the same frames, and so
    // does any temperature (the env's RNGs follow the seed).
    dream_repeats(model_path, "temp=0");
    dream_repeats(model_path, "temp=1.5,actions=played");
}
END_TEST

static Suite *tokens_suite(void) {
    Suite *s = suite_create("tokens");
    TCase *tc = tcase_create("tokenizer");
    tcase_add_test(tc, test_tok_roundtrip_and_learning);
    tcase_add_test(tc, test_tok_restarts_take_rare_patches);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_test(tc, test_tok_gradients);
    tcase_add_test(tc, test_gtok_gradients);
    tcase_add_test(tc, test_attn_gradients);
    tcase_add_test(tc, test_attn_maskgit_gradients);
    tcase_add_test(tc, test_maskgit_gradients);
    tcase_set_timeout(tc, 300); // finite differences of whole worlds: slow under sanitizers
    suite_add_tcase(s, tc);
    tc = tcase_create("dream");
    tcase_add_test(tc, test_sampling);
    tcase_add_test(tc, test_maskgit_sampling);
    tcase_add_test(tc, test_maskgit_files);
    tcase_add_test(tc, test_attn_files);
    tcase_add_test(tc, test_attn_added);
    tcase_add_test(tc, test_files_refused);
    tcase_add_test(tc, test_dream_params);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    static char contract_name[300];
    snprintf(contract_name, sizeof contract_name, "dream:%s", model_path);
    TCase *ct = lc_contract_tcase(contract_name, NULL);
    tcase_set_timeout(ct, 120);
    suite_add_tcase(s, ct);
    return s;
}

int main(void) {
    lc_env_register_builtin();
    lc_worldmodel_register();
    lc_nn_set_threads(1);
    collect(&data, 400, 3);
    write_models();
    SRunner *sr = srunner_create(tokens_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    unlink(model_path);
    unlink(pixel_path);
    unlink(mg_path);
    unlink(at_path);
    lc_frames_free(&data);
    return failures ? 1 : 0;
}

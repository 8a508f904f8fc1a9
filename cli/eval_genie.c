// cli/eval_genie.c: `lucid eval-genie`: measures a Genie-style world on held-out frames:
// latent-action consistency with the true actions, controllability (delta tPSNR), rollout
// PSNR against copying the last frame, generation speed, training cost. Leaves out: FVD.
//
// Letters: K = latent actions, A = true actions, T = rollout length, M = sequences.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/progress.h"
#include "env/env.h"
#include "nn/nn.h"
#include "policy/policy.h"
#include "worldmodel/frames.h"
#include "worldmodel/genie.h"
#include "worldmodel/genie_tokens.h"

#define ROLL_T 16
#define MAX_SEQ 256

// A JSON number, or null for NaN (no policy was evaluated).
static const char *num_or_null(char *buf, double v) {
    if (isnan(v)) return "null";
    snprintf(buf, 32, "%.3f", v);
    return buf;
}

static double psnr(const float *a, const float *b, int n) {
    double se = 0;
    for (int i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        se += d * d;
    }
    double mse = se / n;
    if (mse < 1e-10) mse = 1e-10;
    return 10.0 * log10(1.0 / mse);
}

// Frames per second of dream:MODEL with 64 envs under uniform random actions in [0, K)
// (0 with a message when the env cannot be made).
static double dream_fps(const char *model, int K) {
    char name[4200];
    snprintf(name, sizeof name, "dream:%s", model);
    lc_env *env = NULL;
    lc_env_opts eo = lc_env_opts_default();
    eo.num_envs = 64;
    lc_error err = {0};
    double fps = 0;
    if (lc_env_make(&env, name, &eo, &err) == LC_OK && lc_env_reset(env, 1, &err) == LC_OK) {
        int32_t a[64];
        lc_rng rng;
        lc_rng_seed(&rng, 3, 0);
        int steps = 0;
        double t0 = lc_now();
        while (lc_now() - t0 < 1.0 || steps < 5) {
            for (int i = 0; i < 64; i++) a[i] = (int32_t)lc_rng_below(&rng, (uint32_t)K);
            if (lc_env_step(env, a, &err) != LC_OK) break;
            steps++;
        }
        fps = 64.0 * steps / (lc_now() - t0);
    } else {
        fprintf(stderr, "lucid eval-genie: dream env: %s\n", err.msg);
    }
    lc_env_free(env);
    return fps;
}

// Latent-action consistency on the held-out triples (centres idx, the LAM's codes, the
// code x true action counts conf (K, A)) and the map from <= labels labelled training
// transitions (lab). -1 (with a message) when there are too few held-out transitions.
typedef struct lam_consistency {
    size_t nh;
    int used, nl, map[256];
    double consistency, chance, label_acc;
} lam_consistency;

static int measure_consistency(const lc_genie *g, const float *X, const lc_frames *fr,
                               size_t hold0, int labels, size_t *idx, int *codes, long *conf,
                               size_t *lab, lam_consistency *o) {
    const int K = g->cfg.n_codes, A = fr->n_actions;
    size_t nh = 0;
    for (size_t t = hold0 + 1; t + 1 < fr->n; t++)
        if (lc_genie_triple_ok(fr, t)) idx[nh++] = t;
    if (nh < 10) {
        fprintf(stderr, "lucid eval-genie: only %zu held-out transitions\n", nh);
        return -1;
    }
    lc_genie_infer(g, X, idx, (int)nh, codes);
    long amax_count[64] = {0};
    for (size_t i = 0; i < nh; i++) {
        int a = fr->actions[idx[i] + 1];
        conf[(size_t)codes[i] * A + a]++;
        if (a < 64) amax_count[a]++;
    }
    long hit = 0, maj = 0;
    int used = 0;
    for (int k = 0; k < K; k++) {
        long best = 0, tot = 0;
        for (int a = 0; a < A; a++) {
            tot += conf[(size_t)k * A + a];
            if (conf[(size_t)k * A + a] > best) best = conf[(size_t)k * A + a];
        }
        hit += best;
        used += tot > 0;
    }
    for (int a = 0; a < A && a < 64; a++)
        if (amax_count[a] > maj) maj = amax_count[a];
    o->nh = nh;
    o->used = used;
    o->consistency = (double)hit / nh, o->chance = (double)maj / nh;
    // The map from <= labels labelled TRAINING transitions, scored on the held-out ones.
    int nl = lc_genie_label_first(fr, hold0, labels, lab);
    o->nl = nl;
    if (lc_genie_label_map(g, X, fr, lab, nl, o->map) != LC_OK) {
        fprintf(stderr, "lucid eval-genie: out of memory\n");
        return -1;
    }
    long lhit = 0;
    for (size_t i = 0; i < nh; i++) lhit += o->map[codes[i]] == fr->actions[idx[i] + 1];
    o->label_acc = (double)lhit / nh;
    return 0;
}


// ---------------------------------------------------------------- the token design

// Breakout's ball, found from frame colours (S x S x 3 u8, S = 64): pixels whose channels
// are all >= lo below the lives row (y >= 6; the paddle's red channel is 64, the walls' 142).
// Returns the number of 4-connected blobs of such pixels; (cx, cy) the first blob's centre.
static int ball_blobs(const uint8_t *f, int S, int lo, double *cx, double *cy) {
    static uint8_t seen[128 * 128];
    int qx[128 * 128], qy[128 * 128];
    if (S > 128) return -1;
    memset(seen, 0, (size_t)S * S);
    int blobs = 0;
    for (int y = 6; y < S; y++)
        for (int x = 0; x < S; x++) {
            const uint8_t *p = f + ((size_t)y * S + x) * 3;
            if (seen[y * S + x] || p[0] < lo || p[1] < lo || p[2] < lo) continue;
            int n = 0, h = 0;
            double sx = 0, sy = 0;
            qx[n] = x, qy[n] = y, n++;
            seen[y * S + x] = 1;
            while (h < n) {
                int ux = qx[h], uy = qy[h];
                h++;
                sx += ux, sy += uy;
                const int dx[4] = {1, -1, 0, 0}, dy[4] = {0, 0, 1, -1};
                for (int d = 0; d < 4; d++) {
                    int vx = ux + dx[d], vy = uy + dy[d];
                    if (vx < 0 || vy < 6 || vx >= S || vy >= S || seen[vy * S + vx]) continue;
                    const uint8_t *q = f + ((size_t)vy * S + vx) * 3;
                    if (q[0] < lo || q[1] < lo || q[2] < lo) continue;
                    seen[vy * S + vx] = 1;
                    qx[n] = vx, qy[n] = vy, n++;
                }
            }
            if (blobs++ == 0 && cx) *cx = sx / h, *cy = sy / h;
        }
    return blobs;
}

static double psnr_u8(const uint8_t *a, const uint8_t *b, size_t n) {
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (a[i] - b[i]) / 255.0;
        se += d * d;
    }
    double mse = se / n;
    if (mse < 1e-10) mse = 1e-10;
    return 10.0 * log10(1.0 / mse);
}

// eval-genie for a token world: the LAM's consistency, the tokenizer's reconstructions,
// rollouts with inferred and random latent actions against copying the last frame (at the
// game's side and area-averaged to the LAM's), Breakout's ball in reconstructions and in
// long generated rollouts, the dream's reward rate under random play, frames/s.
static int eval_tokens(const char *model, const char *data, const char *actions, int labels,
                       uint64_t seed, float temp, int maskgit, int json) {
    lc_error err = {0};
    lc_gtok *gt = NULL;
    lc_frames fr;
    if (lc_gtok_load(&gt, model, &err) != LC_OK ||
        (maskgit > 0 && lc_gtok_set_decoding(gt, maskgit, &err) != LC_OK)) {
        lc_gtok_free(gt);
        fprintf(stderr, "lucid eval-genie: %s\n", err.msg);
        return 1;
    }
    if (lc_frames_load(&fr, data, actions, &err) != LC_OK) {
        fprintf(stderr, "lucid eval-genie: %s\n", err.msg);
        lc_gtok_free(gt);
        return 1;
    }
    const lc_genie *g = lc_gtok_lam(gt);
    const lc_tok *tk = lc_gtok_tokenizer(gt);
    if (temp < 0) temp = lc_gtok_config(gt)->temperature;
    const int S = fr.H, C = fr.C, T = lc_gtok_tokens(gt), K = g->cfg.n_codes, A = fr.n_actions;
    const size_t fs = (size_t)S * S * C;
    int status = 1, breakout = strcmp(g->env_name, "Breakout-v0") == 0;
    float *X = NULL, *la = NULL, *lb = NULL;
    size_t *idx = malloc(fr.n * sizeof(size_t)), *lab = malloc((size_t)(labels > 0 ? labels : 1) * sizeof(size_t));
    int *codes = malloc(fr.n * sizeof(int)), *toks = NULL, *pv = NULL, *cu = NULL, *cc = NULL;
    long *conf = calloc((size_t)K * A, sizeof(long));
    uint8_t *rec = NULL, *gen = NULL;
    float *rw = NULL;
    size_t *starts = NULL;
    if (fr.H != lc_tok_config(tk)->side || fr.W != fr.H) {
        fprintf(stderr, "lucid eval-genie: the data's %dx%d frames are not the tokenizer's %d\n",
                fr.H, fr.W, lc_tok_config(tk)->side);
        goto done;
    }
    if (!idx || !lab || !codes || !conf || lc_genie_prep_all(g, &fr, &X, &err) != LC_OK) {
        fprintf(stderr, "lucid eval-genie: %s\n", err.code ? err.msg : "out of memory");
        goto done;
    }
    size_t hold0 = fr.n - (size_t)((double)fr.n * g->cfg.holdout);
    if (g->cfg.holdout <= 0) hold0 = 0;
    lam_consistency lcn;
    if (measure_consistency(g, X, &fr, hold0, labels, idx, codes, conf, lab, &lcn)) goto done;
    // ---- the tokenizer on held-out frames
    const int NR = (int)(fr.n - hold0 < 1024 ? fr.n - hold0 : 1024);
    toks = malloc(fr.n * T * sizeof(int));
    rec = malloc((size_t)NR * fs);
    if (!toks || !rec || lc_tok_encode(tk, fr.frames, (int)fr.n, toks, &err) ||
        lc_tok_decode(tk, toks + hold0 * T, NR, rec, NULL, &err)) {
        fprintf(stderr, "lucid eval-genie: %s\n", err.code ? err.msg : "out of memory");
        goto done;
    }
    double tok_psnr = 0;
    long balls = 0, kept = 0;
    for (int i = 0; i < NR; i++) {
        const uint8_t *real = fr.frames + (hold0 + i) * fs, *r = rec + (size_t)i * fs;
        tok_psnr += psnr_u8(real, r, fs) / NR;
        double bx, by, rx, ry;
        if (!breakout || ball_blobs(real, S, 250, &bx, &by) != 1) continue;
        balls++;
        int nb = ball_blobs(r, S, 160, &rx, &ry);
        kept += nb >= 1 && fabs(rx - bx) <= 2 && fabs(ry - by) <= 2;
    }
    // ---- rollouts of ROLL_T steps from held-out contexts, inferred vs random latents
    starts = malloc(fr.n * sizeof(size_t));
    if (!starts) goto done;
    size_t ns = 0;
    int W = ROLL_T;
    for (; W >= 4; W--) {
        ns = 0;
        for (size_t s0 = hold0; s0 + W + 1 < fr.n; s0++) {
            int ok = 1;
            for (int k = 1; k <= W + 1 && ok; k++) ok = !fr.starts[s0 + k];
            if (ok) starts[ns++] = s0;
        }
        if (ns > 0) break;
    }
    int M = W < 4 ? 0 : ns < MAX_SEQ ? (int)ns : MAX_SEQ;
    double p_inf[ROLL_T] = {0}, p_rnd[ROLL_T] = {0}, p_copy[ROLL_T] = {0};
    double q_inf[ROLL_T] = {0}, q_copy[ROLL_T] = {0}; // area-averaged to the LAM's side
    long real_one[ROLL_T] = {0}, gen_one[ROLL_T] = {0}; // Breakout: frames with one ball
    const int P = g->P;
    la = malloc((size_t)P * sizeof(float)), lb = malloc((size_t)P * sizeof(float));
    if (M > 0) {
        pv = malloc((size_t)M * T * sizeof(int)), cu = malloc((size_t)M * T * sizeof(int));
        cc = malloc((size_t)M * W * sizeof(int));
        gen = malloc((size_t)M * W * fs);
        size_t *ct = malloc((size_t)M * W * sizeof(size_t));
        if (!pv || !cu || !cc || !gen || !ct || !la || !lb) {
            free(ct);
            fprintf(stderr, "lucid eval-genie: out of memory\n");
            goto done;
        }
        for (int m = 0; m < M; m++) {
            size_t s0 = starts[(size_t)m * ns / M];
            starts[m] = s0;
            memcpy(pv + (size_t)m * T, toks + s0 * T, T * sizeof(int));
            memcpy(cu + (size_t)m * T, toks + (s0 + 1) * T, T * sizeof(int));
            for (int k = 0; k < W; k++) ct[(size_t)m * W + k] = s0 + 1 + k;
        }
        lc_genie_infer(g, X, ct, M * W, cc);
        free(ct);
        lc_rng rng;
        lc_rng_seed(&rng, seed, 0x7);
        for (int mode = 0; mode < 2; mode++) {
            if (mode)
                for (int i = 0; i < M * W; i++) cc[i] = (int)lc_rng_below(&rng, (uint32_t)K);
            if (lc_gtok_rollout(gt, pv, cu, cc, M, W, temp, seed, gen, NULL, &err)) {
                fprintf(stderr, "lucid eval-genie: %s\n", err.msg);
                goto done;
            }
            for (int m = 0; m < M; m++)
                for (int k = 0; k < W; k++) {
                    const uint8_t *truth = fr.frames + (starts[m] + 2 + k) * fs;
                    const uint8_t *x = gen + ((size_t)m * W + k) * fs;
                    double v = psnr_u8(truth, x, fs);
                    if (mode) {
                        p_rnd[k] += v / M;
                        continue;
                    }
                    p_inf[k] += v / M;
                    if (breakout) { // one ball where the real frame has one
                        real_one[k] += ball_blobs(truth, S, 250, NULL, NULL) == 1;
                        gen_one[k] += ball_blobs(x, S, 160, NULL, NULL) == 1;
                    }
                    const uint8_t *last = fr.frames + (starts[m] + 1) * fs;
                    p_copy[k] += psnr_u8(truth, last, fs) / M;
                    lc_genie_prep(g, truth, S, la);
                    lc_genie_prep(g, x, S, lb);
                    q_inf[k] += psnr(la, lb, P) / M;
                    lc_genie_prep(g, last, S, lb);
                    q_copy[k] += psnr(la, lb, P) / M;
                }
        }
    }
    // ---- long rollouts under random latent actions: Breakout's ball, the reward rate
    const int LM = 64, LW = 64;
    double one_gen = NAN, one_real = NAN, dream_rate = 0, data_rate = 0;
    long none = 0; // generated frames without a ball
    {
        free(gen);
        gen = malloc((size_t)LM * LW * fs);
        rw = malloc((size_t)LM * LW * sizeof(float));
        int *lp = malloc((size_t)LM * T * sizeof(int)), *lcu = malloc((size_t)LM * T * sizeof(int));
        int *lcc = malloc((size_t)LM * LW * sizeof(int));
        size_t nst = 0;
        for (size_t r = hold0; r + 1 < fr.n; r++)
            if (!fr.starts[r + 1] && !fr.terminated[r + 1] && !fr.truncated[r + 1]) starts[nst++] = r;
        if (!gen || !rw || !lp || !lcu || !lcc || nst == 0) {
            free(lp), free(lcu), free(lcc);
            fprintf(stderr, "lucid eval-genie: out of memory (or no held-out pairs)\n");
            goto done;
        }
        lc_rng rng;
        lc_rng_seed(&rng, seed, 0x10);
        for (int m = 0; m < LM; m++) {
            size_t s0 = starts[(size_t)m * nst / LM];
            memcpy(lp + (size_t)m * T, toks + s0 * T, T * sizeof(int));
            memcpy(lcu + (size_t)m * T, toks + (s0 + 1) * T, T * sizeof(int));
        }
        for (int i = 0; i < LM * LW; i++) lcc[i] = (int)lc_rng_below(&rng, (uint32_t)K);
        int rc = lc_gtok_rollout(gt, lp, lcu, lcc, LM, LW, temp, seed + 1, gen, rw, &err);
        free(lp), free(lcu), free(lcc);
        if (rc) {
            fprintf(stderr, "lucid eval-genie: %s\n", err.msg);
            goto done;
        }
        long one = 0, onr = 0, nreal = 0;
        for (int i = 0; i < LM * LW; i++) {
            dream_rate += rw[i] / (LM * LW);
            if (!breakout) continue;
            int nb = ball_blobs(gen + (size_t)i * fs, S, 160, NULL, NULL);
            one += nb == 1, none += nb == 0;
        }
        for (size_t r = hold0; r < fr.n; r++) {
            data_rate += fr.rewards[r];
            nreal++;
            if (breakout) onr += ball_blobs(fr.frames + r * fs, S, 160, NULL, NULL) == 1;
        }
        data_rate /= nreal;
        if (breakout) one_gen = (double)one / (LM * LW), one_real = (double)onr / nreal;
    }
    // ---- generation speed through the env API (64 envs, batched)
    double fps = dream_fps(model, K);
    double d4 = M > 0 ? p_inf[3] - p_rnd[3] : NAN;
    double survival = balls ? (double)kept / balls : NAN;
    char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32], b7[32], b8[32], b9[32], b10[32], b11[32];
    int t16 = M > 0 && W == ROLL_T;
    if (json) {
        printf("{\"env\":\"%s\",\"design\":\"tokens\",\"res\":%d,\"tokens\":%d,\"token_codes\":%d,"
               "\"codes\":%d,\"codes_used\":%d,\"heldout_transitions\":%zu,\"consistency\":%.4f,"
               "\"chance\":%.4f,\"label_map_accuracy\":%.4f,\"labels\":%d,\"temperature\":%.3f,\"maskgit\":%d,"
               "\"tok_psnr\":%.3f,\"tok_ball_frames\":%ld,\"tok_ball_survival\":%s,"
               "\"sequences\":%d,\"psnr4_inferred\":%s,\"psnr4_random\":%s,\"delta_psnr4\":%s,"
               "\"psnr16_inferred\":%s,\"psnr16_copy\":%s,\"psnr16_random\":%s,"
               "\"psnr16_inferred_lamres\":%s,\"psnr16_copy_lamres\":%s,"
               "\"ball_one_generated\":%s,\"ball_none_generated\":%s,\"ball_one_real\":%s,\"dream_reward_per_step\":%.5f,"
               "\"data_reward_per_step\":%.5f,\"frames_per_s\":%.1f,\"tok_train_s\":%.1f,"
               "\"lam_train_s\":%.1f,\"dyn_train_s\":%.1f,\"train_peak_rss_mb\":%.1f,"
               "\"eval_peak_rss_mb\":%.1f}\n",
               g->env_name, g->R, T, lc_tok_config(tk)->codes, K, lcn.used, lcn.nh,
               lcn.consistency, lcn.chance, lcn.label_acc, lcn.nl, temp,
               lc_gtok_config(gt)->maskgit, tok_psnr, balls,
               num_or_null(b1, survival), M, num_or_null(b2, M ? p_inf[3] : NAN),
               num_or_null(b3, M ? p_rnd[3] : NAN), num_or_null(b4, d4),
               num_or_null(b5, t16 ? p_inf[W - 1] : NAN), num_or_null(b6, t16 ? p_copy[W - 1] : NAN),
               num_or_null(b7, t16 ? p_rnd[W - 1] : NAN), num_or_null(b8, t16 ? q_inf[W - 1] : NAN),
               num_or_null(b9, t16 ? q_copy[W - 1] : NAN), num_or_null(b10, one_gen),
               breakout ? (snprintf(b11, 32, "%.3f", (double)none / (LM * LW)), b11) : "null",
               isnan(one_real) ? "null" : (snprintf(b1, 32, "%.3f", one_real), b1), dream_rate,
               data_rate, fps, lc_gtok_train_seconds(gt, 0), lc_gtok_train_seconds(gt, 1),
               lc_gtok_train_seconds(gt, 2), lc_gtok_peak_mb(gt), lc_genie_peak_rss_mb());
    } else {
        printf("token world of %s: %dx%d tokens of %d codes, LAM at %dx%d with %d latent actions "
               "(%d used on held-out data), sampling temperature %.2f\n", g->env_name,
               lc_tok_grid(tk), lc_tok_grid(tk), lc_tok_config(tk)->codes, g->R, g->R, K,
               lcn.used, temp);
        if (lc_gtok_config(gt)->maskgit)
            printf("MaskGIT decoding in %d steps\n", lc_gtok_config(gt)->maskgit);
        else
            printf("one-pass decoding (every token drawn at once)\n");
        printf("latent-action consistency (best many-to-one map, %zu held-out transitions): "
               "%.1f%%  (majority-action chance %.1f%%); map from %d labels: %.1f%%\n", lcn.nh,
               100 * lcn.consistency, 100 * lcn.chance, lcn.nl, 100 * lcn.label_acc);
        printf("tokenizer on %d held-out frames: PSNR %.2f dB", NR, tok_psnr);
        if (balls) printf("; the ball where the real frame has it in %.1f%% of %ld frames",
                          100 * survival, balls);
        printf("\n");
        if (M > 0) {
            printf("controllability over %d held-out sequences (PSNR in dB at %dx%d):\n", M, S, S);
            printf("  t=4: inferred latents %.2f, random latents %.2f, delta tPSNR %.2f dB\n",
                   p_inf[3], p_rnd[3], d4);
            printf("  t=%d rollout: inferred latents %.2f, random %.2f, copy-last-frame %.2f "
                   "(area-averaged to %dx%d: %.2f vs copy %.2f)\n", W, p_inf[W - 1],
                   p_rnd[W - 1], p_copy[W - 1], g->R, g->R, q_inf[W - 1], q_copy[W - 1]);
            printf("  per step (inferred / copy):");
            for (int k = 0; k < W; k++) printf(" %.1f/%.1f", p_inf[k], p_copy[k]);
            printf("\n");
            if (breakout) {
                printf("  one ball per step (generated / real, of %d):", M);
                for (int k = 0; k < W; k++) printf(" %ld/%ld", gen_one[k], real_one[k]);
                printf("\n");
            }
        }
        if (breakout)
            printf("long rollouts (%d x %d steps, random latents): exactly one ball in %.1f%% of "
                   "generated frames, none in %.1f%% (real held-out frames: one in %.1f%%)\n",
                   LM, LW, 100 * one_gen, 100.0 * none / (LM * LW), 100 * one_real);
        printf("reward per step: %.4f in those dreams, %.4f in the held-out data\n", dream_rate,
               data_rate);
        printf("generation: %.0f frames/s (64 envs batched through the dream: env, %dx%d obs)\n",
               fps, S, S);
        printf("training: tokenizer %.1f s, LAM %.1f s, token dynamics %.1f s, peak memory %.0f "
               "MiB (eval peak %.0f MiB)\n", lc_gtok_train_seconds(gt, 0),
               lc_gtok_train_seconds(gt, 1), lc_gtok_train_seconds(gt, 2), lc_gtok_peak_mb(gt),
               lc_genie_peak_rss_mb());
    }
    status = 0;
done:
    free(X), free(la), free(lb), free(idx), free(lab), free(codes), free(conf), free(toks);
    free(pv), free(cu), free(cc), free(rec), free(gen), free(rw), free(starts);
    lc_frames_free(&fr);
    lc_gtok_free(gt);
    return status;
}

int cmd_eval_genie(int argc, char **argv) {
    const char *model = NULL, *data = NULL, *actions = NULL, *policy = NULL;
    int json = 0, labels = 200, threads = 2, episodes = 32;
    int64_t seed = 7;
    float temp = -1.0f;
    int maskgit = 0;
    cli_opt opts[] = {
        {"model", CLI_STR, &model, "genie checkpoint (lucid train-genie)"},
        {"data", CLI_STR, &data, "frames file (its held-out tail is used)"},
        {"actions", CLI_STR, &actions, "the true actions of the frames (evaluation only)"},
        {"labels", CLI_INT, &labels, "labelled training transitions for the latent->real map"},
        {"seed", CLI_I64, &seed, "seed of the random latent actions"},
        {"threads", CLI_INT, &threads, "BLAS threads"},
        {"policy", CLI_STR, &policy, "a policy trained in dream:GENIE: play the real game with it"},
        {"episodes", CLI_INT, &episodes, "real-game episodes for --policy (and the random baseline)"},
        {"json", CLI_FLAG, &json, "print one JSON line"},
        {"temp", CLI_FLOAT, &temp, "token worlds: sampling temperature of the rollouts (default: the model's)"},
        {"maskgit", CLI_INT, &maskgit, "MaskGIT token worlds: decoding steps of the rollouts (default: the model's; frames/s stays at the model's)"},
    };
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts),
                       "usage: lucid eval-genie --model GENIE --data FRAMES --actions ACTIONS [--json]",
                       NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    if (!model || !data || !actions) {
        fprintf(stderr, "lucid eval-genie: --model, --data and --actions are required\n");
        return 2;
    }
    lc_nn_set_threads(threads);
    if (lc_gtok_file_is(model)) {
        if (policy) {
            fprintf(stderr, "lucid eval-genie: --policy is not measured for token worlds yet\n");
            return 2;
        }
        return eval_tokens(model, data, actions, labels, (uint64_t)seed, temp, maskgit, json);
    }
    lc_error err = {0};
    lc_genie *g = NULL;
    lc_frames fr;
    if (lc_genie_load(&g, model, &err) != LC_OK) {
        fprintf(stderr, "lucid eval-genie: %s\n", err.msg);
        return 1;
    }
    if (lc_frames_load(&fr, data, actions, &err) != LC_OK) {
        fprintf(stderr, "lucid eval-genie: %s\n", err.msg);
        lc_genie_free(g);
        return 1;
    }
    float *X = NULL;
    int status = 1;
    size_t *idx = NULL, *lab = NULL;
    int *codes = NULL;
    long *conf = NULL;
    float *seq_prev = NULL, *seq_cur = NULL, *nxt = NULL, *work = NULL, *rp = NULL, *rc2 = NULL;
    int *sc = NULL;
    size_t *starts = NULL;
    if (lc_genie_prep_all(g, &fr, &X, &err) != LC_OK) {
        fprintf(stderr, "lucid eval-genie: %s\n", err.msg);
        goto done;
    }
    const int K = g->cfg.n_codes, A = fr.n_actions, P = g->P;
    size_t hold0 = fr.n - (size_t)((double)fr.n * g->cfg.holdout);
    if (g->cfg.holdout <= 0) hold0 = 0; // no held-out tail: use everything
    // ---- latent-action consistency on held-out triples
    idx = malloc(fr.n * sizeof(size_t));
    codes = malloc(fr.n * sizeof(int));
    conf = calloc((size_t)K * A, sizeof(long));
    lab = malloc((size_t)(labels > 0 ? labels : 1) * sizeof(size_t));
    if (!idx || !codes || !conf || !lab) {
        fprintf(stderr, "lucid eval-genie: out of memory\n");
        goto done;
    }
    lam_consistency lcn;
    if (measure_consistency(g, X, &fr, hold0, labels, idx, codes, conf, lab, &lcn)) goto done;
    size_t nh = lcn.nh;
    int used = lcn.used, nl = lcn.nl, *map = lcn.map;
    double consistency = lcn.consistency, chance = lcn.chance, label_acc = lcn.label_acc;
    // ---- the reward head on held-out transitions (real contexts, inferred codes)
    double r_pred = 0, r_real = 0, r_hit = 0, r_miss = 0;
    long n_hit = 0;
    double by_sum[LC_GENIE_MAX_RVALS] = {0}; // predicted reward by the class of the real one
    long by_n[LC_GENIE_MAX_RVALS] = {0};
    long n_halt = 0, n_halt_hit = 0; // held-out real transitions over the dream's halt threshold
    {
        const int CH = 256;
        float *w = malloc(lc_genie_dyn_work(g, CH) * sizeof(float));
        float *pv = malloc((size_t)CH * P * sizeof(float)), *cu = malloc((size_t)CH * P * sizeof(float));
        float *nx = malloc((size_t)CH * P * sizeof(float)), rw[256], dis[256];
        float *aw = malloc(lc_genie_disagree_work(g, CH) * sizeof(float));
        if (!w || !pv || !cu || !nx || !aw) {
            free(w), free(pv), free(cu), free(nx), free(aw);
            goto done;
        }
        for (size_t i0 = 0; i0 < nh; i0 += CH) {
            int n = nh - i0 < (size_t)CH ? (int)(nh - i0) : CH;
            for (int i = 0; i < n; i++) {
                memcpy(pv + (size_t)i * P, X + (idx[i0 + i] - 1) * P, P * sizeof(float));
                memcpy(cu + (size_t)i * P, X + idx[i0 + i] * P, P * sizeof(float));
            }
            lc_genie_dyn_step(g, w, pv, cu, codes + i0, n, nx, rw, NULL);
            lc_genie_disagree(g, aw, pv, cu, codes + i0, n, nx, dis);
            for (int i = 0; i < n; i++) {
                float real = fr.rewards[idx[i0 + i] + 1];
                int over = g->halt_disagree > 0 && dis[i] > g->halt_disagree;
                n_halt += over, n_halt_hit += over && real != 0;
                r_pred += rw[i], r_real += real;
                if (real != 0) r_hit += rw[i], n_hit++;
                else r_miss += rw[i];
                int c = 0;
                for (int k = 1; k < g->n_rvals; k++)
                    if (fabsf(g->rvals[k] - real) < fabsf(g->rvals[c] - real)) c = k;
                by_sum[c] += rw[i], by_n[c]++;
            }
        }
        free(w), free(pv), free(cu), free(nx), free(aw);
        r_pred /= nh, r_real /= nh;
        r_hit = n_hit ? r_hit / n_hit : NAN;
        r_miss = (long)nh > n_hit ? r_miss / ((long)nh - n_hit) : NAN;
    }
    // ---- rollouts: contexts (x_s, x_{s+1}) with T following frames in one episode; T is
    // ROLL_T, or the longest a game's short episodes allow (Catch: 6), at least 4 (for t=4)
    starts = malloc(fr.n * sizeof(size_t));
    if (!starts) goto done;
    size_t ns = 0;
    int T = ROLL_T;
    for (; T >= 4; T--) {
        ns = 0;
        for (size_t s = hold0; s + T + 1 < fr.n; s++) {
            int ok = 1;
            for (int k = 1; k <= T + 1 && ok; k++) ok = !fr.starts[s + k];
            if (ok) starts[ns++] = s;
        }
        if (ns > 0) break;
    }
    int M = T < 4 ? 0 : ns < MAX_SEQ ? (int)ns : MAX_SEQ;
    double p_inf[ROLL_T] = {0}, p_rnd[ROLL_T] = {0}, p_copy[ROLL_T] = {0};
    if (M > 0) {
        seq_prev = malloc((size_t)M * P * sizeof(float));
        seq_cur = malloc((size_t)M * P * sizeof(float));
        rp = malloc((size_t)M * P * sizeof(float));
        rc2 = malloc((size_t)M * P * sizeof(float));
        nxt = malloc((size_t)M * P * sizeof(float));
        work = malloc(lc_genie_dyn_work(g, M) * sizeof(float));
        sc = malloc((size_t)M * T * sizeof(int));
        size_t *ct = malloc((size_t)M * T * sizeof(size_t));
        if (!seq_prev || !seq_cur || !rp || !rc2 || !nxt || !work || !sc || !ct) {
            free(ct);
            goto done;
        }
        for (int m = 0; m < M; m++) {
            size_t s = starts[(size_t)m * ns / M];
            starts[m] = s;
            for (int k = 0; k < T; k++) ct[(size_t)m * T + k] = s + 1 + k;
        }
        lc_genie_infer(g, X, ct, M * T, sc);
        free(ct);
        lc_rng rng;
        lc_rng_seed(&rng, (uint64_t)seed, 0x7);
        int *cc = malloc((size_t)M * sizeof(int));
        if (!cc) goto done;
        for (int mode = 0; mode < 2; mode++) { // 0: inferred latent actions, 1: random
            for (int m = 0; m < M; m++) {
                memcpy(seq_prev + (size_t)m * P, X + starts[m] * P, P * sizeof(float));
                memcpy(seq_cur + (size_t)m * P, X + (starts[m] + 1) * P, P * sizeof(float));
            }
            for (int k = 0; k < T; k++) {
                for (int m = 0; m < M; m++)
                    cc[m] = mode ? (int)lc_rng_below(&rng, (uint32_t)K) // played as aliases
                                 : sc[(size_t)m * T + k];
                lc_genie_dyn_step(g, work, seq_prev, seq_cur, cc, M, nxt, NULL, NULL);
                memcpy(seq_prev, seq_cur, (size_t)M * P * sizeof(float));
                memcpy(seq_cur, nxt, (size_t)M * P * sizeof(float));
                for (int m = 0; m < M; m++) {
                    const float *truth = X + (starts[m] + 2 + k) * P;
                    double v = psnr(truth, seq_cur + (size_t)m * P, P);
                    if (mode) p_rnd[k] += v / M;
                    else p_inf[k] += v / M;
                    if (!mode) p_copy[k] += psnr(truth, X + (starts[m] + 1) * P, P) / M;
                }
            }
        }
        free(cc);
    }
    // ---- generation speed through the env API (64 envs, batched)
    double fps = dream_fps(model, K);
    double d4 = M > 0 ? p_inf[3] - p_rnd[3] : NAN;
    // ---- the dream beside the real game under the dream's own (random) play
    // (skipped, with a note, where the game is not one this program can make)
    lc_genie_lockstep ls = {0};
    if (lc_genie_run_lockstep(g, map, 512, ROLL_T, (uint64_t)seed, NULL, NULL, 0, &ls, &err)) {
        fprintf(stderr, "lucid eval-genie: no lockstep with the real game: %s\n", err.msg);
        ls.windows = 0;
    }
    // ---- a controller trained in the dream, in the real game through the latent->real map
    double pol_mean = NAN, pol_sd = NAN, rnd_mean = NAN, rnd_sd = NAN;
    lc_genie_lockstep pls = {0}; // lockstep under the policy
    double fix_mean = NAN;       // the best fixed real action's return, and that action
    int fix_action = -1;
    if (policy) {
        lc_policy *pp = NULL;
        if (episodes < 1) episodes = 1;
        const lc_space *os = NULL;
        int obs_ok = 0;
        if (lc_policy_load(&pp, policy, &err) == LC_OK) {
            os = lc_policy_obs_space(pp);
            obs_ok = os->kind == LC_SPACE_BOX && os->dtype == LC_U8 && os->ndim == 3 &&
                     os->shape[0] == g->game_h && os->shape[1] == g->game_w &&
                     os->shape[2] == g->game_c;
        }
        int played[256], n_played = lc_genie_played_codes(g, played);
        if (!pp || !obs_ok || lc_policy_act_space(pp)->kind != LC_SPACE_DISCRETE ||
            (lc_policy_act_space(pp)->n != K && lc_policy_act_space(pp)->n != n_played)) {
            fprintf(stderr, "lucid eval-genie: --policy: %s\n",
                    !pp      ? err.msg
                    : !obs_ok ? "it does not observe this model's frames"
                             : "its actions are not this model's latent actions");
            lc_policy_free(pp);
            goto done;
        }
        const int n_act = lc_policy_act_space(pp)->n;
        lc_policy_sampler pc = {.p = pp}, pr = {.p = pp};
        lc_rng_seed(&pc.rng, (uint64_t)seed, 0xc0);
        lc_rng_seed(&pr.rng, (uint64_t)seed, 0x5eed);
        for (int a = 0; a < A && !rc; a++) { // the best fixed action: a policy that learnt
            double m, sd;                      // nothing but one action scores this
            rc = lc_genie_play_real(g, map, NULL, NULL, 0, a, episodes, (uint64_t)seed, &m, &sd,
                                    &err);
            if (!rc && (a == 0 || m > fix_mean)) fix_mean = m, fix_action = a;
        }
        if (rc ||
            lc_genie_play_real(g, map, lc_policy_sample_cb, &pr, n_act, -1, episodes,
                               (uint64_t)seed, &pol_mean, &pol_sd, &err) ||
            lc_genie_play_real(g, map, NULL, NULL, 0, -1, episodes, (uint64_t)seed, &rnd_mean,
                               &rnd_sd, &err)) {
            fprintf(stderr, "lucid eval-genie: %s\n", err.msg);
            lc_policy_free(pp);
            goto done;
        }
        // 256 copies of the real game may be more than it can give (a remote: server's cap on
        // envs, e.g. ALE's): then the policy's lockstep is skipped with a note, as above
        if (lc_genie_run_lockstep(g, map, 256, ROLL_T, (uint64_t)seed, lc_policy_sample_cb, &pc,
                                  n_act, &pls, &err)) {
            fprintf(stderr, "lucid eval-genie: no lockstep under the policy: %s\n", err.msg);
            pls.windows = 0;
        }
        lc_policy_free(pp);
    }
    if (json) {
        char nb1[32], nb2[32], nb3[32], nb4[32], nb5[32], nb6[32], nb7[32], nb8[32], nb9[32],
            nb10[32], nb11[32], nb12[32], nb13[32], nb14[32], nb15[32], nb16[32], nb17[32];
        int t16 = M > 0 && T == 16;
        double e_inf = M > 0 ? p_inf[T - 1] : NAN, e_copy = M > 0 ? p_copy[T - 1] : NAN,
               e_rnd = M > 0 ? p_rnd[T - 1] : NAN;
        int aliased = 0;
        for (int k = 0; k < K; k++) aliased += g->code_alias[k] != k;
        printf("{\"env\":\"%s\",\"res\":%d,\"codes\":%d,\"codes_used\":%d,\"codes_aliased\":%d,"
               "\"heldout_transitions\":%zu,"
               "\"consistency\":%.4f,\"chance\":%.4f,\"label_map_accuracy\":%.4f,\"labels\":%d,"
               "\"sequences\":%d,\"psnr4_inferred\":%.3f,\"psnr4_random\":%.3f,\"delta_psnr4\":%s,"
               "\"rollout_steps\":%d,\"psnr_rollout_inferred\":%s,\"psnr_rollout_copy\":%s,"
               "\"psnr_rollout_random\":%s,\"psnr16_inferred\":%s,\"psnr16_copy\":%s,"
               "\"psnr16_random\":%s,"
               "\"frames_per_s\":%.1f,\"lam_train_s\":%.1f,\"dyn_train_s\":%.1f,"
               "\"train_peak_rss_mb\":%.1f,\"eval_peak_rss_mb\":%.1f,\"real_episodes\":%d,"
               "\"policy_return\":%s,\"random_return\":%s,\"reward_pred_mean\":%.5f,"
               "\"reward_real_mean\":%.5f,\"halt_real\":%.4f,\"halt_real_rewarded\":%s,\"reward_pred_on_rewarded\":%s,\"reward_pred_elsewhere\":%s,"
               "\"lockstep_windows\":%d,\"lockstep_steps\":%d,\"lockstep_real_return\":%s,"
               "\"lockstep_dream_return\":%s,\"lockstep_agree\":%s,\"lockstep_end_agree\":%s,"
               "\"policy_lockstep_real_return\":%s,\"policy_lockstep_dream_return\":%s,"
               "\"policy_lockstep_agree\":%s,\"fixed_action\":%d,\"fixed_action_return\":%s}\n",
               g->env_name, g->R, K, used, aliased, nh, consistency, chance, label_acc, nl, M, p_inf[3],
               p_rnd[3], num_or_null(nb3, d4), M > 0 ? T : 0, num_or_null(nb6, e_inf),
               num_or_null(nb7, e_copy), num_or_null(nb8, e_rnd), t16 ? nb6 : "null",
               t16 ? nb7 : "null", t16 ? nb8 : "null", fps,
               g->lam_train_s, g->dyn_train_s, g->peak_rss_mb, lc_genie_peak_rss_mb(),
               policy ? episodes : 0, num_or_null(nb1, pol_mean), num_or_null(nb2, rnd_mean), r_pred,
               r_real, (double)n_halt / nh, num_or_null(nb9, n_hit ? (double)n_halt_hit / n_hit : NAN),
               num_or_null(nb4, r_hit), num_or_null(nb5, r_miss), ls.windows, ROLL_T,
               num_or_null(nb14, ls.windows ? ls.real_ret : NAN),
               num_or_null(nb15, ls.windows ? ls.dream_ret : NAN),
               num_or_null(nb16, ls.windows ? ls.agree : NAN),
               num_or_null(nb17, ls.windows ? ls.end_agree : NAN),
               num_or_null(nb10, policy && pls.windows ? pls.real_ret : NAN),
               num_or_null(nb11, policy && pls.windows ? pls.dream_ret : NAN),
               num_or_null(nb12, policy && pls.windows ? pls.agree : NAN),
               fix_action, num_or_null(nb13, fix_mean));
    } else {
        printf("genie world of %s, modelled at %dx%dx%d, %d latent actions (%d used on held-out data)\n",
               g->env_name, g->R, g->R, g->C, K, used);
        printf("latent-action consistency (best many-to-one map, %zu held-out transitions): "
               "%.1f%%  (majority-action chance %.1f%%)\n", nh, 100 * consistency, 100 * chance);
        printf("map from %d labelled training transitions, on held-out: %.1f%%\n", nl,
               100 * label_acc);
        printf("  latent -> true action counts (rows: latent, cols: true action):\n");
        for (int k = 0; k < K; k++) {
            printf("   z%-3d", k);
            for (int a = 0; a < A; a++) printf(" %6ld", conf[(size_t)k * A + a]);
            if (g->code_alias[k] != k)
                printf("   -> %d (rare: the dream plays it as z%d)\n", map[k], g->code_alias[k]);
            else
                printf("   -> %d\n", map[k]);
        }
        printf("reward head on held-out transitions: mean %.4f (data %.4f); %.3f on the %ld "
               "rewarded steps, %.4f elsewhere\n", r_pred, r_real, r_hit, n_hit, r_miss);
        if (g->n_rvals > 1) {
            printf("  predicted on steps whose real reward is (class value: mean, steps):");
            for (int k = 0; k < g->n_rvals; k++)
                if (by_n[k]) printf(" %g: %.3f (%ld)", g->rvals[k], by_sum[k] / by_n[k], by_n[k]);
            printf("\n");
        }
        if (g->halt_disagree > 0)
            printf("dream halting: %.2f%% of held-out real transitions cross the threshold "
                   "(%.2f%% of the rewarded ones)\n", 100.0 * n_halt / nh,
                   n_hit ? 100.0 * n_halt_hit / n_hit : 0.0);
        if (M > 0) {
            printf("controllability over %d held-out sequences (PSNR in dB at %dx%d):\n", M, g->R, g->R);
            printf("  t=4: inferred latents %.2f, random latents %.2f, delta tPSNR %.2f dB\n",
                   p_inf[3], p_rnd[3], d4);
            printf("  t=%d rollout: inferred latents %.2f, random %.2f, copy-last-frame %.2f\n",
                   T, p_inf[T - 1], p_rnd[T - 1], p_copy[T - 1]);
            printf("  per step (inferred / copy):");
            for (int k = 0; k < T; k++) printf(" %.1f/%.1f", p_inf[k], p_copy[k]);
            printf("\n");
        }
        if (ls.windows)
            printf("dream beside the real game under the dream's own play (%d windows of <= %d "
                   "steps from real starts, random latent actions mapped to real ones): return "
                   "%.3f in the dream vs %.3f real; returns agree (|diff| < 0.5) in %.1f%%, "
                   "ends in %.1f%%\n", ls.windows, ROLL_T, ls.dream_ret, ls.real_ret,
                   100 * ls.agree, 100 * ls.end_agree);
        printf("generation: %.0f frames/s (64 envs batched through the dream: env, %dx%d obs)\n",
               fps, g->game_h, g->game_w);
        printf("training: LAM %.1f s, dynamics %.1f s, peak memory %.0f MiB (eval peak %.0f MiB)\n",
               g->lam_train_s, g->dyn_train_s, g->peak_rss_mb, lc_genie_peak_rss_mb());
        if (policy && pls.windows) {
            printf("the policy in the dream beside the real game (%d windows of <= %d steps, "
                   "it sees the dream's frames, the game takes the mapped actions): return %.3f "
                   "in the dream vs %.3f real; returns agree in %.1f%%, ends in %.1f%%\n",
                   pls.windows, ROLL_T, pls.dream_ret, pls.real_ret, 100 * pls.agree,
                   100 * pls.end_agree);
        }
        if (policy) {
            printf("real %s, %d episodes: dream-trained policy via the latent->real map %.2f +- "
                   "%.2f, uniform random %.2f +- %.2f, the best fixed action (%d) %.2f\n",
                   g->env_name, episodes, pol_mean, pol_sd, rnd_mean, rnd_sd, fix_action, fix_mean);
        }
    }
    status = 0;
done:
    free(X);
    free(idx);
    free(codes);
    free(conf);
    free(lab);
    free(starts);
    free(seq_prev);
    free(seq_cur);
    free(rp);
    free(rc2);
    free(nxt);
    free(work);
    free(sc);
    lc_frames_free(&fr);
    lc_genie_free(g);
    return status;
}

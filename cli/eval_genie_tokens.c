// cli/eval_genie_tokens.c: `lucid eval-genie` on a token world (worldmodel/genie_tokens.h):
// the LAM's consistency, the tokenizer's reconstructions, rollouts with inferred and random
// latent actions against copying the last frame, Breakout's ball, the dream's reward rate,
// frames/s; then the controller half (eval_genie_ctl.c). Leaves out: the reward head by real
// reward value and halting (pixel design only).
//
// Letters: K = latent actions, A = true actions, T = tokens per frame, W = rollout length,
// M = sequences, S = frame side.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/eval_genie.h"
#include "core/rng.h"
#include "worldmodel/genie_tokens.h"

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

// eval-genie for a token world: the LAM's consistency, the tokenizer's reconstructions,
// rollouts with inferred and random latent actions against copying the last frame (at the
// game's side and area-averaged to the LAM's), Breakout's ball in reconstructions and in
// long generated rollouts, the dream's reward rate under random play, frames/s.
int eg_tokens(const eg_args *a) {
    lc_error err = {0};
    lc_gtok *gt = NULL;
    lc_frames fr;
    const int labels = a->labels, maskgit = a->maskgit, json = a->json;
    const uint64_t seed = a->seed;
    float temp = a->temp;
    if (lc_gtok_load(&gt, a->model, &err) != LC_OK ||
        (maskgit > 0 && lc_gtok_set_decoding(gt, maskgit, &err) != LC_OK)) {
        lc_gtok_free(gt);
        fprintf(stderr, "lucid eval-genie: %s\n", err.msg);
        return 1;
    }
    if (lc_frames_load(&fr, a->data, a->actions, &err) != LC_OK) {
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
    eg_consistency lcn;
    if (eg_measure_consistency(g, X, &fr, hold0, labels, a->effects, idx, codes, conf, lab, &lcn)) goto done;
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
        tok_psnr += eg_psnr_u8(real, r, fs) / NR;
        double bx, by, rx, ry;
        if (!breakout || ball_blobs(real, S, 250, &bx, &by) != 1) continue;
        balls++;
        int nb = ball_blobs(r, S, 160, &rx, &ry);
        kept += nb >= 1 && fabs(rx - bx) <= 2 && fabs(ry - by) <= 2;
    }
    // ---- rollouts of EG_ROLL_T steps from held-out contexts, inferred vs random latents
    starts = malloc(fr.n * sizeof(size_t));
    if (!starts) goto done;
    size_t ns = 0;
    int W = eg_rollout_starts(&fr, hold0, starts, &ns);
    int M = W < 4 ? 0 : ns < EG_MAX_SEQ ? (int)ns : EG_MAX_SEQ;
    double p_inf[EG_ROLL_T] = {0}, p_rnd[EG_ROLL_T] = {0}, p_copy[EG_ROLL_T] = {0};
    double q_inf[EG_ROLL_T] = {0}, q_copy[EG_ROLL_T] = {0}; // area-averaged to the LAM's side
    long real_one[EG_ROLL_T] = {0}, gen_one[EG_ROLL_T] = {0}; // Breakout: frames with one ball
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
                    double v = eg_psnr_u8(truth, x, fs);
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
                    p_copy[k] += eg_psnr_u8(truth, last, fs) / M;
                    lc_genie_prep(g, truth, S, la);
                    lc_genie_prep(g, x, S, lb);
                    q_inf[k] += eg_psnr(la, lb, P) / M;
                    lc_genie_prep(g, last, S, lb);
                    q_copy[k] += eg_psnr(la, lb, P) / M;
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
    double fps = eg_dream_fps(a->model, K);
    double d4 = M > 0 ? p_inf[3] - p_rnd[3] : NAN;
    double survival = balls ? (double)kept / balls : NAN;
    // ---- the controller half (either design): lockstep, and --policy in the real game
    eg_ctl ctl;
    if (eg_controller(a, lcn.map, &ctl)) goto done;
    char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32], b7[32], b8[32], b9[32], b10[32], b11[32],
        b12[32], b13[32], b14[32], b15[32];
    int t16 = M > 0 && W == EG_ROLL_T;
    if (json) {
        printf("{\"env\":\"%s\",\"design\":\"tokens\",\"res\":%d,\"tokens\":%d,\"token_codes\":%d,"
               "\"codes\":%d,\"codes_used\":%d,\"heldout_transitions\":%zu,\"consistency\":%.4f,"
               "\"chance\":%.4f,\"label_map_accuracy\":%.4f,\"labels\":%d,\"temperature\":%.3f,\"maskgit\":%d,"
               "\"tok_psnr\":%.3f,\"tok_ball_frames\":%ld,\"tok_ball_survival\":%s,"
               "\"sequences\":%d,\"psnr4_inferred\":%s,\"psnr4_random\":%s,\"delta_psnr4\":%s,"
               "\"rollout_steps\":%d,\"psnr_rollout_inferred\":%s,\"psnr_rollout_copy\":%s,"
               "\"psnr_rollout_random\":%s,"
               "\"psnr16_inferred\":%s,\"psnr16_copy\":%s,\"psnr16_random\":%s,"
               "\"psnr16_inferred_lamres\":%s,\"psnr16_copy_lamres\":%s,"
               "\"ball_one_generated\":%s,\"ball_none_generated\":%s,\"ball_one_real\":%s,\"dream_reward_per_step\":%.5f,"
               "\"data_reward_per_step\":%.5f,\"frames_per_s\":%.1f,\"tok_train_s\":%.1f,"
               "\"lam_train_s\":%.1f,\"dyn_train_s\":%.1f,\"train_peak_rss_mb\":%.1f,"
               "\"eval_peak_rss_mb\":%.1f",
               g->env_name, g->R, T, lc_tok_config(tk)->codes, K, lcn.used, lcn.nh,
               lcn.consistency, lcn.chance, lcn.label_acc, lcn.nl, temp,
               lc_gtok_config(gt)->maskgit, tok_psnr, balls,
               eg_num(b1, survival), M, eg_num(b2, M ? p_inf[3] : NAN),
               eg_num(b3, M ? p_rnd[3] : NAN), eg_num(b4, d4),
               M > 0 ? W : 0, eg_num(b12, M ? p_inf[W - 1] : NAN),
               eg_num(b13, M ? p_copy[W - 1] : NAN), eg_num(b14, M ? p_rnd[W - 1] : NAN),
               eg_num(b5, t16 ? p_inf[W - 1] : NAN), eg_num(b6, t16 ? p_copy[W - 1] : NAN),
               eg_num(b7, t16 ? p_rnd[W - 1] : NAN), eg_num(b8, t16 ? q_inf[W - 1] : NAN),
               eg_num(b9, t16 ? q_copy[W - 1] : NAN), eg_num(b10, one_gen),
               breakout ? (snprintf(b11, 32, "%.3f", (double)none / (LM * LW)), b11) : "null",
               eg_num(b15, one_real), dream_rate,
               data_rate, fps, lc_gtok_train_seconds(gt, 0), lc_gtok_train_seconds(gt, 1),
               lc_gtok_train_seconds(gt, 2), lc_gtok_peak_mb(gt), lc_genie_peak_rss_mb());
        eg_ctl_json(&ctl);
        char ej[256];
        eval_effects_json(&lcn.eff, ej, sizeof ej);
        printf("%s", ej);
        printf("}\n");
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
        eval_effects_print(&lcn.eff);
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
        eg_ctl_text(&ctl, g->env_name);
    }
    status = 0;
done:
    free(X), free(la), free(lb), free(idx), free(lab), free(codes), free(conf), free(toks);
    free(pv), free(cu), free(cc), free(rec), free(gen), free(rw), free(starts);
    lc_frames_free(&fr);
    lc_gtok_free(gt);
    return status;
}

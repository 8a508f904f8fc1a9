// cli/eval_genie_pixels.c: `lucid eval-genie` on a pixel world (worldmodel/genie.h): the
// LAM's consistency, the reward head and halting on held-out transitions, rollouts with
// inferred and random latent actions against copying the last frame, frames/s; then the
// controller half (eval_genie_ctl.c). Leaves out: the token design (eval_genie_tokens.c).
//
// Letters: K = latent actions, A = true actions, T = rollout length, M = sequences,
// P = model frame floats.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/eval_genie.h"
#include "core/rng.h"
#include "worldmodel/genie.h"

int eg_pixels(const eg_args *a) {
    lc_error err = {0};
    lc_genie *g = NULL;
    lc_frames fr;
    if (lc_genie_load(&g, a->model, &err) != LC_OK) {
        fprintf(stderr, "lucid eval-genie: %s\n", err.msg);
        return 1;
    }
    if (lc_frames_load(&fr, a->data, a->actions, &err) != LC_OK) {
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
    lab = malloc((size_t)(a->labels > 0 ? a->labels : 1) * sizeof(size_t));
    if (!idx || !codes || !conf || !lab) {
        fprintf(stderr, "lucid eval-genie: out of memory\n");
        goto done;
    }
    eg_consistency lcn;
    if (eg_measure_consistency(g, X, &fr, hold0, a->labels, a->effects, idx, codes, conf, lab, &lcn)) goto done;
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
    // EG_ROLL_T, or the longest a game's short episodes allow (Catch: 6), at least 4 (for t=4)
    starts = malloc(fr.n * sizeof(size_t));
    if (!starts) goto done;
    size_t ns = 0;
    int T = eg_rollout_starts(&fr, hold0, starts, &ns);
    int M = T < 4 ? 0 : ns < EG_MAX_SEQ ? (int)ns : EG_MAX_SEQ;
    double p_inf[EG_ROLL_T] = {0}, p_rnd[EG_ROLL_T] = {0}, p_copy[EG_ROLL_T] = {0};
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
        lc_rng_seed(&rng, a->seed, 0x7);
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
                    double v = eg_psnr(truth, seq_cur + (size_t)m * P, P);
                    if (mode) p_rnd[k] += v / M;
                    else p_inf[k] += v / M;
                    if (!mode) p_copy[k] += eg_psnr(truth, X + (starts[m] + 1) * P, P) / M;
                }
            }
        }
        free(cc);
    }
    // ---- generation speed through the env API (64 envs, batched)
    double fps = eg_dream_fps(a->model, K);
    double d4 = M > 0 ? p_inf[3] - p_rnd[3] : NAN;
    // ---- the controller half (either design): lockstep, and --policy in the real game
    eg_ctl ctl;
    if (eg_controller(a, map, &ctl)) goto done;
    if (a->json) {
        char nb3[32], nb4[32], nb5[32], nb6[32], nb7[32], nb8[32], nb9[32];
        int t16 = M > 0 && T == 16;
        double e_inf = M > 0 ? p_inf[T - 1] : NAN, e_copy = M > 0 ? p_copy[T - 1] : NAN,
               e_rnd = M > 0 ? p_rnd[T - 1] : NAN;
        int aliased = 0;
        for (int k = 0; k < K; k++) aliased += g->code_alias[k] != k;
        printf("{\"env\":\"%s\",\"design\":\"pixels\",\"res\":%d,\"codes\":%d,\"codes_used\":%d,"
               "\"codes_aliased\":%d,\"heldout_transitions\":%zu,"
               "\"consistency\":%.4f,\"chance\":%.4f,\"label_map_accuracy\":%.4f,\"labels\":%d,"
               "\"sequences\":%d,\"psnr4_inferred\":%.3f,\"psnr4_random\":%.3f,\"delta_psnr4\":%s,"
               "\"rollout_steps\":%d,\"psnr_rollout_inferred\":%s,\"psnr_rollout_copy\":%s,"
               "\"psnr_rollout_random\":%s,\"psnr16_inferred\":%s,\"psnr16_copy\":%s,"
               "\"psnr16_random\":%s,"
               "\"frames_per_s\":%.1f,\"lam_train_s\":%.1f,\"dyn_train_s\":%.1f,"
               "\"train_peak_rss_mb\":%.1f,\"eval_peak_rss_mb\":%.1f,\"reward_pred_mean\":%.5f,"
               "\"reward_real_mean\":%.5f,\"halt_real\":%.4f,\"halt_real_rewarded\":%s,"
               "\"reward_pred_on_rewarded\":%s,\"reward_pred_elsewhere\":%s",
               g->env_name, g->R, K, used, aliased, nh, consistency, chance, label_acc, nl, M, p_inf[3],
               p_rnd[3], eg_num(nb3, d4), M > 0 ? T : 0, eg_num(nb6, e_inf),
               eg_num(nb7, e_copy), eg_num(nb8, e_rnd), t16 ? nb6 : "null",
               t16 ? nb7 : "null", t16 ? nb8 : "null", fps,
               g->lam_train_s, g->dyn_train_s, g->peak_rss_mb, lc_genie_peak_rss_mb(), r_pred,
               r_real, (double)n_halt / nh, eg_num(nb9, n_hit ? (double)n_halt_hit / n_hit : NAN),
               eg_num(nb4, r_hit), eg_num(nb5, r_miss));
        eg_ctl_json(&ctl);
        char ej[256];
        eval_effects_json(&lcn.eff, ej, sizeof ej);
        printf("%s", ej);
        printf("}\n");
    } else {
        printf("genie world of %s, modelled at %dx%dx%d, %d latent actions (%d used on held-out data)\n",
               g->env_name, g->R, g->R, g->C, K, used);
        printf("latent-action consistency (best many-to-one map, %zu held-out transitions): "
               "%.1f%%  (majority-action chance %.1f%%)\n", nh, 100 * consistency, 100 * chance);
        printf("map from %d labelled training transitions, on held-out: %.1f%%\n", nl,
               100 * label_acc);
        eval_effects_print(&lcn.eff);
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
        printf("generation: %.0f frames/s (64 envs batched through the dream: env, %dx%d obs)\n",
               fps, g->game_h, g->game_w);
        printf("training: LAM %.1f s, dynamics %.1f s, peak memory %.0f MiB (eval peak %.0f MiB)\n",
               g->lam_train_s, g->dyn_train_s, g->peak_rss_mb, lc_genie_peak_rss_mb());
        eg_ctl_text(&ctl, g->env_name);
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

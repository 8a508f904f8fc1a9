// cli/eval_genie.c: `lucid eval-genie`: measures a Genie-style world of either design on
// held-out frames (latent-action consistency with the true actions, controllability (delta
// tPSNR), rollout PSNR against copying the last frame, generation speed, training cost) and,
// with --policy, a controller trained in its dream in the real game. This file: the verb's
// options and the measures both designs share. Leaves out: FVD.
//
// Letters: K = latent actions, A = true actions.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/eval_genie.h"
#include "core/progress.h"
#include "env/env.h"
#include "nn/nn.h"
#include "worldmodel/genie_tokens.h"

const char *eg_num(char *buf, double v) {
    if (isnan(v)) return "null";
    snprintf(buf, 32, "%.3f", v);
    return buf;
}

double eg_psnr(const float *a, const float *b, int n) {
    double se = 0;
    for (int i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        se += d * d;
    }
    double mse = se / n;
    if (mse < 1e-10) mse = 1e-10;
    return 10.0 * log10(1.0 / mse);
}

double eg_psnr_u8(const uint8_t *a, const uint8_t *b, size_t n) {
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (a[i] - b[i]) / 255.0;
        se += d * d;
    }
    double mse = se / n;
    if (mse < 1e-10) mse = 1e-10;
    return 10.0 * log10(1.0 / mse);
}

// Frames per second of dream:MODEL with 64 envs under uniform random actions in [0, K)
// (0 with a message when the env cannot be made).
double eg_dream_fps(const char *model, int K) {
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

int eg_measure_consistency(const lc_genie *g, const float *X, const lc_frames *fr,
                           size_t hold0, int labels, const char *effects, size_t *idx,
                           int *codes, long *conf, size_t *lab, eg_consistency *o) {
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
    return eval_effects_score(effects, fr, idx, codes, nh, o->map, &o->eff);
}

int eg_rollout_starts(const lc_frames *fr, size_t hold0, size_t *starts, size_t *ns) {
    int W = EG_ROLL_T;
    for (; W >= 4; W--) {
        *ns = 0;
        for (size_t s = hold0; s + W + 1 < fr->n; s++) {
            int ok = 1;
            for (int k = 1; k <= W + 1 && ok; k++) ok = !fr->starts[s + k];
            if (ok) starts[(*ns)++] = s;
        }
        if (*ns > 0) return W;
    }
    *ns = 0;
    return W;
}

int cmd_eval_genie(int argc, char **argv) {
    eg_args a = {.labels = 200, .episodes = 32, .seed = 7, .temp = -1.0f};
    int threads = 2;
    int64_t seed = 7;
    cli_opt opts[] = {
        {"model", CLI_STR, &a.model, "genie checkpoint (lucid train-genie), either design"},
        {"data", CLI_STR, &a.data, "frames file (its held-out tail is used)"},
        {"actions", CLI_STR, &a.actions, "the true actions of the frames (evaluation only)"},
        {"labels", CLI_INT, &a.labels, "labelled training transitions for the latent->real map"},
        {"seed", CLI_I64, &seed, "seed of the random latent actions"},
        {"threads", CLI_INT, &threads, "BLAS threads"},
        {"policy", CLI_STR, &a.policy, "a policy trained in dream:GENIE: play the real game with it"},
        {"episodes", CLI_INT, &a.episodes, "real-game episodes for --policy (and the random baseline)"},
        {"json", CLI_FLAG, &a.json, "print one JSON line"},
        {"effects", CLI_STR, &a.effects, "FRAMES.effects.lucid (lucid frame-effects): consistency by effect, no-op duplicates merged"},
        {"temp", CLI_FLOAT, &a.temp, "token worlds: sampling temperature of the rollouts and the lockstep (default: the model's)"},
        {"maskgit", CLI_INT, &a.maskgit, "MaskGIT token worlds: decoding steps of the rollouts (default: the model's; frames/s and the lockstep stay at the model's)"},
    };
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts),
                       "usage: lucid eval-genie --model GENIE --data FRAMES --actions ACTIONS [--policy P] [--json]",
                       NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    if (!a.model || !a.data || !a.actions) {
        fprintf(stderr, "lucid eval-genie: --model, --data and --actions are required\n");
        return 2;
    }
    a.seed = (uint64_t)seed;
    lc_nn_set_threads(threads);
    return lc_gtok_file_is(a.model) ? eg_tokens(&a) : eg_pixels(&a);
}

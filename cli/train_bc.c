// cli/train_bc.c: `lucid train-bc`: a controller cloned from videos of play (Genie's
// latent-action behaviour cloning): a genie model's LAM labels each transition of an
// expert's frames with its latent action, a CNN policy (PPO's --arch cnn) learns to predict
// it from the frame, and the latent -> real map from N labelled transitions (eval-genie's)
// is folded into its output, so the file acts in real actions (`lucid eval` runs it);
// --oracle clones the true actions instead. Leaves out: recurrent policies, DAgger.
//
// Rows are triple centres t (frames t-1, t, t+1 in one episode): the policy sees frame t,
// the label is the LAM's code of (t-1, t, t+1) played as its alias (the action the dream
// plays for it), or the true action into frame t + 1. The tail (--holdout) is held out to
// measure accuracies.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/progress.h"
#include "env/env.h"
#include "nn/nn.h"
#include "policy/ppo.h"
#include "worldmodel/frames.h"
#include "worldmodel/genie.h"
#include "worldmodel/genie_tokens.h"

// A genie file's latent action model, whatever its design; the files stay open in it.
typedef struct bc_lam {
    lc_genie *pix;
    lc_gtok *tok;
    const lc_genie *lam;
} bc_lam;

static void bc_lam_free(bc_lam *m) {
    lc_genie_free(m->pix);
    lc_gtok_free(m->tok);
}

// The one place that knows where each design keeps its LAM.
static int bc_lam_load(bc_lam *m, const char *path, lc_error *err) {
    memset(m, 0, sizeof *m);
    int rc = lc_gtok_file_is(path) ? lc_gtok_load(&m->tok, path, err)
                                    : lc_genie_load(&m->pix, path, err);
    if (rc) return rc;
    m->lam = m->tok ? lc_gtok_lam(m->tok) : m->pix;
    return LC_OK;
}

static int on_bc(void *ctx, int step, double loss) {
    if (!*(int *)ctx) fprintf(stderr, "  bc step %d: loss %.4f\n", step, loss);
    return 0;
}

typedef struct bc_args {
    const char *model, *data, *out, *actions, *oracle, *latent_out, *from_latent;
    int labels, threads, quiet, json;
    float holdout;
    int64_t seed;
    lc_bc_cfg bc;
} bc_args;

// Discounted returns from each frame to its episode's end (gamma), for the critic.
static void returns_to_go(const lc_frames *fr, float gamma, float *ret) {
    for (size_t r = fr->n; r-- > 0;) {
        int last = r + 1 >= fr->n || fr->starts[r + 1];
        ret[r] = last ? 0.0f : fr->rewards[r + 1] + gamma * ret[r + 1];
    }
}

static int run(const bc_args *a) {
    lc_error err = {0};
    bc_lam m = {0};
    lc_frames fr;
    memset(&fr, 0, sizeof fr);
    lc_env *env = NULL;
    lc_policy *pol = NULL, *real = NULL;
    float *X = NULL, *ret = NULL;
    size_t *rows = NULL, *lab = NULL;
    int32_t *lbl = NULL, *truth = NULL;
    int *codes = NULL, status = 1, oracle = a->oracle != NULL;
    char apath[4096];
    const char *acts = a->oracle ? a->oracle : a->actions;
    if (!acts) {
        cli_frames_actions_path(apath, sizeof apath, a->data);
        acts = apath;
    }
    if (!oracle && bc_lam_load(&m, a->model, &err)) goto fail;
    if (lc_frames_load(&fr, a->data, acts, &err)) goto fail;
    const lc_genie *g = m.lam;
    if (g && strcmp(g->env_name, fr.env_name)) {
        lc_fail(&err, LC_ERR_ARG, "%s models %s; the frames in %s are of %s", a->model,
                g->env_name, a->data, fr.env_name);
        goto fail;
    }
    if (g && (g->game_h != fr.H || g->game_w != fr.W || g->game_c != fr.C)) {
        lc_fail(&err, LC_ERR_SHAPE, "%s models %dx%dx%d frames; those in %s are %dx%dx%d",
                a->model, g->game_h, g->game_w, g->game_c, a->data, fr.H, fr.W, fr.C);
        goto fail;
    }
    if (fr.H != fr.game_h || fr.W != fr.game_w) {
        lc_fail(&err, LC_ERR_SHAPE, "%s holds %dx%d frames of %s's %dx%d: a policy must see "
                "the game's own frames", a->data, fr.H, fr.W, fr.env_name, fr.game_h, fr.game_w);
        goto fail;
    }
    // the policy: PPO's for this game (cnn for pixel games), observing its frames
    lc_ppo_cfg pcfg;
    lc_policy_cfg pc;
    lc_env_opts eo = lc_env_opts_default();
    eo.num_envs = 1;
    if (lc_ppo_cfg_for_env(&pcfg, &pc, fr.env_name, &err) ||
        lc_env_make(&env, fr.env_name, &eo, &err))
        goto fail;
    const lc_env_spec *sp = lc_env_get_spec(env);
    if (sp->obs_size != fr.H * fr.W * fr.C) {
        lc_fail(&err, LC_ERR_SHAPE, "%s's observations are not its frames", fr.env_name);
        goto fail;
    }
    // rows: triple centres; the tail is held out
    rows = malloc(fr.n * sizeof(size_t));
    lbl = malloc(fr.n * sizeof(int32_t));
    truth = malloc(fr.n * sizeof(int32_t));
    ret = malloc(fr.n * sizeof(float));
    codes = malloc(fr.n * sizeof(int));
    lab = malloc((size_t)(a->labels > 0 ? a->labels : 1) * sizeof(size_t));
    if (!rows || !lbl || !truth || !ret || !codes || !lab) {
        lc_fail(&err, LC_ERR_NOMEM, "out of memory");
        goto fail;
    }
    size_t N = 0;
    for (size_t t = 1; t + 1 < fr.n; t++)
        if (lc_genie_triple_ok(&fr, t)) rows[N++] = t;
    size_t NT = N - (size_t)((double)N * a->holdout); // training rows [0, NT)
    if (NT < 1 || NT == N) {
        lc_fail(&err, LC_ERR_ARG, "%s has %zu transitions in episodes (%zu for training, %zu "
                "held out): too few", a->data, N, NT, N - NT);
        goto fail;
    }
    size_t train_end = rows[NT - 1] + 2; // frames the training rows use
    int nl = 0;
    if (!oracle) {
        nl = lc_genie_label_first(&fr, train_end, a->labels, lab);
        if (nl < a->labels) {
            lc_fail(&err, LC_ERR_ARG, "--labels %d: the training frames of %s hold only %d "
                    "labelled transitions", a->labels, a->data, nl);
            goto fail;
        }
    }
    for (size_t i = 0; i < N; i++) truth[i] = fr.actions[rows[i] + 1];
    returns_to_go(&fr, pcfg.gamma, ret);
    float *rr = malloc(N * sizeof(float));
    if (!rr) {
        lc_fail(&err, LC_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < N; i++) rr[i] = ret[rows[i]];
    free(ret);
    ret = rr;
    const int K = g ? g->cfg.n_codes : 0;
    int map[256] = {0};
    double mass[256] = {0};
    if (!oracle) { // latent labels, and the map from the labelled transitions
        if (lc_genie_prep_all(g, &fr, &X, &err)) goto fail;
        int bad = 0;
        for (size_t i0 = 0; i0 < N && !bad; i0 += 1024) // bounded LAM batches
            bad = lc_genie_infer(g, X, rows + i0, N - i0 < 1024 ? (int)(N - i0) : 1024,
                                 codes + i0);
        if (bad || lc_genie_label_map(g, X, &fr, lab, nl, map)) {
            lc_fail(&err, LC_ERR_NOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < N; i++) {
            lbl[i] = g->code_alias[codes[i]];
            if (i < NT) mass[lbl[i]] += 1;
        }
    } else {
        memcpy(lbl, truth, N * sizeof(int32_t));
    }
    lc_space as = lc_space_discrete(oracle ? fr.n_actions : K);
    double t0 = lc_now();
    if (a->from_latent) {
        if (oracle) {
            lc_fail(&err, LC_ERR_ARG, "--from-latent goes without --oracle");
            goto fail;
        }
        lc_policy *tmp = NULL;
        if (lc_policy_load(&tmp, a->from_latent, &err)) goto fail;
        if (lc_policy_new(&pol, &sp->obs_space, &as, &pc, (uint64_t)a->seed, &err) ||
            lc_policy_copy_params(pol, tmp, &err)) {
            lc_policy_free(tmp);
            lc_fail(&err, err.code, "--from-latent %s: %s", a->from_latent, err.msg);
            goto fail;
        }
        lc_policy_free(tmp);
    } else {
        lc_bc_cfg bc = a->bc;
        bc.seed = (uint64_t)a->seed;
        int quiet = a->quiet;
        if (lc_policy_new(&pol, &sp->obs_space, &as, &pc, (uint64_t)a->seed, &err) ||
            lc_bc_train(pol, fr.frames, rows, lbl, ret, NT, &bc, on_bc, &quiet, &err))
            goto fail;
    }
    lc_policy_set_env_name(pol, fr.env_name);
    double train_s = lc_now() - t0, acc_lbl, acc_real = NAN, map_acc = NAN;
    if (lc_bc_accuracy(pol, fr.frames, rows + NT, lbl + NT, N - NT, &acc_lbl, &err)) goto fail;
    int exact = 1;
    if (!oracle) {
        long hit = 0;
        for (size_t i = NT; i < N; i++) hit += map[lbl[i]] == truth[i];
        map_acc = (double)hit / (double)(N - NT);
        if (lc_policy_fold_actions(&real, pol, map, mass, fr.n_actions, &exact, &err) ||
            (!exact && lc_policy_fold_refine(real, pol, map, fr.frames, rows, NT, 300,
                                             (uint64_t)a->seed, &err)) ||
            lc_bc_accuracy(real, fr.frames, rows + NT, truth + NT, N - NT, &acc_real, &err))
            goto fail;
        if (a->latent_out && lc_policy_save(pol, a->latent_out, &err)) goto fail;
    } else {
        real = pol;
        pol = NULL;
        acc_real = acc_lbl;
    }
    if (lc_policy_save(real, a->out, &err)) goto fail;
    status = 0;
    if (a->json) {
        printf("{\"env\":\"%s\",\"mode\":\"%s\",\"rows\":%zu,\"heldout\":%zu,\"labels\":%d,"
               "\"codes\":%d,\"map\":[", fr.env_name, oracle ? "oracle" : "latent", NT, N - NT,
               nl, K);
        for (int k = 0; k < K; k++) printf("%s%d", k ? "," : "", map[k]);
        printf("],\"fold_exact\":%d,\"label_accuracy\":%.4f,\"real_accuracy\":%.4f,"
               "\"map_accuracy\":%s,\"train_s\":%.1f,\"out\":\"%s\"}\n", exact, acc_lbl,
               acc_real, isnan(map_acc) ? "null" : (snprintf(apath, 32, "%.4f", map_acc), apath),
               train_s, a->out);
    } else if (!a->quiet) {
        printf("cloned %s from %zu transitions of %s (%s labels) in %.1f s\n",
               oracle ? "an oracle" : "a latent-action policy", NT, a->data,
               oracle ? "true" : "the LAM's", train_s);
        if (!oracle) {
            printf("latent -> real map from %d labelled transitions:", nl);
            for (int k = 0; k < K; k++)
                if (mass[k] > 0) printf(" z%d->%d (%.0f%%)", k, map[k], 100 * mass[k] / NT);
            printf("%s\n", exact ? "" : "  (codes share an action: the head was fitted to the fold)");
            printf("held out (%zu): the policy predicts the LAM's action %.1f%%; the map gives the "
                   "true action %.1f%%; the folded policy %.1f%%\n", N - NT, 100 * acc_lbl,
                   100 * map_acc, 100 * acc_real);
        } else {
            printf("held out (%zu): the policy predicts the true action %.1f%%\n", N - NT,
                   100 * acc_real);
        }
        printf("wrote %s (acts in %s's real actions)%s%s\n", a->out, fr.env_name,
               a->latent_out && !oracle ? " and the latent policy " : "",
               a->latent_out && !oracle ? a->latent_out : "");
    }
fail:
    if (status) fprintf(stderr, "lucid train-bc: %s\n", err.msg);
    lc_policy_free(pol);
    lc_policy_free(real);
    lc_env_free(env);
    free(X), free(ret), free(rows), free(lab), free(lbl), free(truth), free(codes);
    lc_frames_free(&fr);
    bc_lam_free(&m);
    return status;
}

int cmd_train_bc(int argc, char **argv) {
    bc_args a;
    memset(&a, 0, sizeof a);
    a.labels = 200;
    a.threads = 2;
    a.holdout = 0.1f;
    a.seed = 1;
    a.bc = lc_bc_cfg_default();
    cli_opt opts[] = {
        {"model", CLI_STR, &a.model, "genie file (lucid train-genie) whose LAM labels the frames"},
        {"data", CLI_STR, &a.data, "an expert's frames (lucid collect --frames-only --policy)"},
        {"out", CLI_STR, &a.out, "policy file to write (real actions)"},
        {"labels", CLI_INT, &a.labels, "labelled transitions for the latent -> real map"},
        {"actions", CLI_STR, &a.actions, "the frames' true actions (default FRAMES.actions.lucid): the labels"},
        {"oracle", CLI_STR, &a.oracle, "clone these true actions instead of the LAM's (no --model)"},
        {"latent-out", CLI_STR, &a.latent_out, "also write the latent-action policy (for dream:GENIE)"},
        {"from-latent", CLI_STR, &a.from_latent, "fold this latent policy (from --latent-out) instead of training one"},
        {"steps", CLI_INT, &a.bc.steps, "Adam steps"},
        {"batch", CLI_INT, &a.bc.batch, "frames per step"},
        {"lr", CLI_FLOAT, &a.bc.lr, "Adam learning rate"},
        {"holdout", CLI_FLOAT, &a.holdout, "fraction of the transitions (the tail) held out"},
        {"seed", CLI_I64, &a.seed, "seed of the policy and the minibatches"},
        {"threads", CLI_INT, &a.threads, "BLAS threads"},
        {"json", CLI_FLAG, &a.json, "print one JSON line"},
        {"quiet", CLI_FLAG, &a.quiet, "print nothing but errors"},
    };
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts),
                       "usage: lucid train-bc --model GENIE --data EXPERT_FRAMES --out P "
                       "[--labels N] [--actions A] [--oracle A] [--steps S] [--seed S]",
                       NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    if (!a.data || !a.out || (!a.model && !a.oracle)) {
        fprintf(stderr, "lucid train-bc: --data, --out and --model (or --oracle) are required\n");
        return 2;
    }
    if (!a.oracle && a.labels < 1) {
        fprintf(stderr, "lucid train-bc: --labels must be >= 1 (the map needs labelled "
                        "transitions), not %d\n", a.labels);
        return 2;
    }
    if (a.bc.steps < 1 || a.bc.batch < 1 || !(a.holdout > 0 && a.holdout < 1)) {
        fprintf(stderr, "lucid train-bc: --steps and --batch must be >= 1, --holdout in (0, 1)\n");
        return 2;
    }
    if (a.threads > 0) lc_nn_set_threads(a.threads);
    return run(&a);
}

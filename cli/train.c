// cli/train.c: `lucid train`: PPO on any registered env (real or dream:), every
// hyper-parameter settable, defaults per env family (CleanRL), progress, metrics,
// checkpoints (the --out file is a resumable checkpoint), a JSON summary.
// Leaves out: distributed training (lucid learner / worker), hyper-parameter search.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "core/metrics.h"
#include "core/progress.h"
#include "policy/ppo.h"
#include "loops/init.h"

#define WINDOW 64 // iterations kept for the recent-return window

typedef struct train_ctx {
    lc_progress *prog;
    lc_metrics *metrics;
    int failed;
    lc_error err;
    // recent episodes: the last iterations' sums and counts
    double rsum[WINDOW];
    int64_t rcnt[WINDOW];
    int nrec;
    double last_sps, last_wall;
} train_ctx;

// Mean return of the most recent >= 20 episodes (fewer when not yet seen).
static double recent_return(const train_ctx *c) {
    double s = 0;
    int64_t n = 0;
    for (int k = c->nrec - 1; k >= 0 && k >= c->nrec - WINDOW && n < 20; k--) {
        s += c->rsum[k % WINDOW];
        n += c->rcnt[k % WINDOW];
    }
    return n ? s / (double)n : NAN;
}

static int on_iter(void *ctx, const lc_ppo_stats *s) {
    train_ctx *c = ctx;
    if (s->episodes > 0) {
        c->rsum[c->nrec % WINDOW] = s->episode_return * (double)s->episodes;
        c->rcnt[c->nrec % WINDOW] = s->episodes;
        c->nrec++;
    }
    c->last_sps = s->sps;
    c->last_wall = s->wall_s;
    if (c->prog) {
        char extra[96];
        double r = recent_return(c);
        if (isfinite(r)) snprintf(extra, sizeof extra, "ret %.1f  %.0f sps", r, s->sps);
        else snprintf(extra, sizeof extra, "%.0f sps", s->sps);
        lc_progress_update(c->prog, s->global_step, extra);
    }
    if (c->metrics) {
        const char *keys[] = {"steps", "iteration", "wall_s", "sps", "episode_return",
                              "episode_length", "episodes", "policy_loss", "value_loss", "entropy",
                              "approx_kl", "old_approx_kl", "clip_frac", "explained_var",
                              "grad_norm", "lr", "epochs"};
        double vals[] = {(double)s->global_step, (double)s->iteration, s->wall_s, s->sps,
                         s->episode_return, s->episode_length, (double)s->episodes,
                         s->policy_loss, s->value_loss, s->entropy, s->approx_kl,
                         s->old_approx_kl, s->clip_frac, s->explained_var, s->grad_norm, s->lr,
                         s->epochs};
        if (lc_metrics_row(c->metrics, CLI_COUNT(keys), keys, vals, &c->err) != LC_OK) {
            c->failed = 1;
            return 1;
        }
    }
    return 0;
}

static void json_str(const char *key, const char *v) {
    printf("\"%s\": ", key);
    lc_json_fstr(stdout, v);
}

static void json_num(const char *key, double v) {
    printf("\"%s\": ", key);
    lc_json_fnum(stdout, v);
}


// What the command line asks for, after parsing and checking.
typedef struct train_args {
    const char *env, *out, *metrics, *resume, *init;
    int json, quiet, eval_episodes, blas_threads;
    int64_t seed, ckpt_every;
    int64_t resume_total; // --steps given with --resume (0: the checkpoint's total)
    lc_ppo_cfg c;
    lc_policy_cfg pc;
    lc_env_opts eo;       // the env's options (also for the final evaluation)
} train_args;

// Parses argv into a; returns -1 to go on, else the exit status (0 after --help).
static int train_parse(train_args *a, int argc, char **argv) {
    const char *arch = NULL, *hidden = NULL, *act = NULL, *env_params = NULL, *resize = NULL;
    int max_steps = 0, frame_stack = 0, repeat = 0;
    int64_t steps = 0;
    lc_error err = {0};
    memset(a, 0, sizeof *a);
    a->env = "CartPole-v1";
    a->out = "policy.lucid";
    a->eval_episodes = 10;
    a->blas_threads = -1;
    a->seed = 1;
    lc_ppo_cfg *c = &a->c;
    lc_policy_cfg *pc = &a->pc;
    // Defaults follow the env's family: find --env before parsing the rest.
    const char *penv = cli_peek(argc, argv, "env");
    if (penv) a->env = penv;
    int want_help = 0;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) want_help = 1;
    if (lc_ppo_cfg_for_env(c, pc, a->env, &err) != LC_OK) {
        if (!want_help && !cli_peek(argc, argv, "resume")) {
            fprintf(stderr, "lucid train: %s\n", err.msg);
            return 2;
        }
        *c = lc_ppo_cfg_default();
        *pc = lc_policy_cfg_default();
    }
    steps = c->total_steps;
    int shared = pc->shared, rnn_hidden = pc->rnn_hidden, cnn_features = pc->cnn_features;
    float log_std_init = pc->log_std_init;
    static char hidden_def[64], arch_def[LC_POLICY_ARCH_NAME];
    hidden_def[0] = 0;
    for (int i = 0; i < pc->nhidden; i++) {
        size_t l = strlen(hidden_def);
        snprintf(hidden_def + l, sizeof hidden_def - l, "%s%d", i ? "," : "", pc->hidden[i]);
    }
    snprintf(arch_def, sizeof arch_def, "%s", pc->arch);
    arch = arch_def;
    hidden = hidden_def;
    act = lc_act_name(pc->act);
    cli_opt opts[96] = {
        {"env", CLI_STR, &a->env, "environment name (lucid envs), or dream:MODEL.lucid"},
        {"arch", CLI_STR, &arch, "policy architecture: mlp, mlp-ln, gru, cnn"},
        {"hidden", CLI_STR, &hidden, "hidden layer widths, e.g. 64,64 (gru: encoder layers)"},
        {"act", CLI_STR, &act, "hidden activation: tanh, relu, silu, gelu"},
        {"shared", CLI_INT, &shared, "1: actor and critic share the trunk"},
        {"rnn-hidden", CLI_INT, &rnn_hidden, "gru: recurrent state size"},
        {"cnn-features", CLI_INT, &cnn_features, "cnn: features after the conv stack"},
        {"log-std-init", CLI_FLOAT, &log_std_init, "Box actions: initial log std"},
        {"steps", CLI_I64, &steps, "total env steps"},
        {"threads", CLI_INT, &c->num_threads, "env stepping threads (0 = automatic)"},
        {"max-episode-steps", CLI_INT, &max_steps, "time limit override (0 = the env's)"},
        {"frame-stack", CLI_INT, &frame_stack, "stack the last k observations"},
        {"action-repeat", CLI_INT, &repeat, "repeat each action k times"},
        {"env-params", CLI_STR, &env_params, "backend options key=value,... (dream: temperature=...)"},
        CLI_RESIZE_OPT(&resize),
        {"out", CLI_STR, &a->out, "policy/checkpoint file to write (resumable)"},
        {"checkpoint-every", CLI_I64, &a->ckpt_every, "iterations between checkpoints to --out (0 = end only)"},
        {"resume", CLI_STR, &a->resume, "continue from a checkpoint (its config wins; --steps may extend)"},
        {"init", CLI_STR, &a->init, "start from this policy file's weights (same arch and spaces; e.g. lucid train-bc's)"},
        {"metrics", CLI_STR, &a->metrics, "per-iteration metrics file (.csv or .jsonl)"},
        {"eval-episodes", CLI_INT, &a->eval_episodes, "deterministic evaluation episodes at the end (0 = none)"},
        {"blas-threads", CLI_INT, &a->blas_threads,
         "OpenBLAS threads (-1: 1 for mlp/gru, whose small products run fastest on one, "
         "OpenBLAS's default for cnn; 0: OpenBLAS's default)"},
        {"json", CLI_FLAG, &a->json, "print a one-line JSON summary on stdout"},
        {"quiet", CLI_FLAG, &a->quiet, "no progress output"},
    };
    // Every PPO setting from its table (--lr, --clip-coef, --seed, ...), defaults as above.
    int nopts = 0;
    while (nopts < CLI_COUNT(opts) && opts[nopts].name) nopts++;
    static const char *const not_opts[] = {"total_steps", "num_threads", "checkpoint_every", NULL};
    cli_table ppo = {lc_ppo_settings(), c};
    nopts = cli_settings_opts(opts, nopts, CLI_COUNT(opts), &ppo, not_opts);
    int rc = cli_parse(argc, argv, opts, nopts,
                       "usage: lucid train --env ENV [--arch mlp|gru|cnn|mlp-ln] [--steps N] "
                       "[--out policy.lucid] [options]\n"
                       "Defaults follow CleanRL for the env's family (ppo.py; "
                       "ppo_continuous_action.py for Box actions; ppo_atari.py for pixels).",
                       NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    if (a->eval_episodes < 0 || steps < 1) {
        fprintf(stderr, "lucid train: --steps must be >= 1 and --eval-episodes >= 0\n");
        return 2;
    }
    if (a->init && a->resume) {
        fprintf(stderr, "lucid train: --init starts a new run, --resume continues one: not both\n");
        return 2;
    }
    c->total_steps = steps;
    a->seed = (int64_t)c->seed;
    c->checkpoint_every = a->ckpt_every;
    c->checkpoint_path = a->out;
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], "--steps", 7)) a->resume_total = steps;
    snprintf(pc->arch, sizeof pc->arch, "%s", arch);
    if (strlen(arch) >= sizeof pc->arch || !lc_policy_arch_find(arch)) {
        fprintf(stderr, "lucid train: unknown --arch '%s' (mlp, mlp-ln, gru, cnn)\n", arch);
        return 2;
    }
    if (lc_policy_cfg_parse_hidden(pc, hidden, &err) != LC_OK) {
        if (strcmp(hidden, "0") == 0 || strcmp(hidden, "none") == 0) pc->nhidden = 0;
        else {
            fprintf(stderr, "lucid train: %s\n", err.msg);
            return 2;
        }
    }
    if (lc_act_parse(act, &pc->act) != LC_OK) {
        fprintf(stderr, "lucid train: unknown --act '%s'\n", act);
        return 2;
    }
    pc->shared = shared != 0;
    pc->rnn_hidden = rnn_hidden;
    pc->cnn_features = cnn_features;
    pc->log_std_init = log_std_init;
    a->eo = lc_env_opts_default();
    a->eo.max_episode_steps = max_steps;
    a->eo.frame_stack = frame_stack;
    a->eo.action_repeat = repeat;
    a->eo.params = env_params;
    if (cli_env_resize(&a->eo, "train", resize)) return 2;
    return -1;
}

// --init: the new trainer's policy takes the weights (and obs statistics) of the policy in
// path (a warm start; Adam starts afresh). 0, or 1 after saying why the file does not fit.
static int init_from(lc_ppo *t, const char *path) {
    lc_error err = {0};
    lc_policy *src = NULL;
    int rc = lc_policy_load(&src, path, &err);
    if (!rc) rc = lc_ppo_init_from(t, src, 0, &err); // weights and obs statistics
    if (rc) fprintf(stderr, "lucid train: --init %s: %s\n", path, err.msg);
    lc_policy_free(src);
    return rc != 0;
}

// Trains (new or resumed) with progress and metrics, then evaluates; *t is the trainer
// (NULL when it could not be made). Returns the exit status; errors are printed.
static int train_run(const train_args *a, lc_ppo **t, train_ctx *ctx, lc_eval_result *ev) {
    lc_error err = {0};
    memset(ctx, 0, sizeof *ctx);
    memset(ev, 0, sizeof *ev);
    ev->mean = NAN;
    if (a->blas_threads < 0) {
        if (strcmp(a->pc.arch, "cnn") != 0) lc_nn_set_threads(1);
    } else if (a->blas_threads > 0) {
        lc_nn_set_threads(a->blas_threads);
    }
    int rc = a->resume ? lc_ppo_resume(t, a->resume, a->resume_total, &err)
                       : lc_ppo_new(t, a->env, &a->eo, &a->c, &a->pc, &err);
    if (rc) {
        fprintf(stderr, "lucid train: %s\n", err.msg);
        return 1;
    }
    if (a->init && init_from(*t, a->init)) return 1;
    const lc_ppo_cfg *tc = lc_ppo_get_cfg(*t);
    lc_policy *pol = lc_ppo_policy(*t);
    const char *env_name = lc_policy_env_name(pol);
    if (a->metrics && lc_metrics_open(&ctx->metrics, a->metrics, a->resume != NULL, &err) != LC_OK) {
        fprintf(stderr, "lucid train: %s\n", err.msg);
        return 1;
    }
    if (!a->quiet) {
        const lc_policy_cfg *p = lc_policy_get_cfg(pol);
        fprintf(stderr,
                "train: %s, %s policy (%zu params), %d envs x %d steps, lr %g, %lld steps%s%s\n",
                env_name, p->arch, lc_policy_nparams(pol), tc->num_envs, tc->num_steps,
                (double)tc->lr, (long long)tc->total_steps, a->resume ? ", resumed from " : "",
                a->resume ? a->resume : "");
        ctx->prog = lc_progress_new(stderr, "train", tc->total_steps);
        if (ctx->prog) lc_progress_update(ctx->prog, lc_ppo_global_step(*t), NULL);
    }
    // Checkpoints go to --out (even when resuming from another file).
    rc = lc_ppo_set_checkpoint(*t, a->out,
                               a->resume && a->ckpt_every == 0 ? tc->checkpoint_every : a->ckpt_every,
                               &err);
    if (!rc) rc = lc_ppo_train(*t, on_iter, ctx, &err);
    if (ctx->prog) lc_progress_finish(ctx->prog, rc == LC_OK ? "done" : "failed");
    int status = 0;
    if (ctx->failed) {
        fprintf(stderr, "lucid train: metrics: %s\n", ctx->err.msg);
        status = 1;
    } else if (rc != LC_OK) {
        fprintf(stderr, "lucid train: %s\n", err.msg);
        if (rc == LC_ERR_NAN)
            fprintf(stderr, "lucid train: %s keeps the last good checkpoint\n", a->out);
        status = 1;
    }
    if (ctx->metrics && lc_metrics_close(ctx->metrics, &err) != LC_OK && !status) {
        fprintf(stderr, "lucid train: metrics: %s\n", err.msg);
        status = 1;
    }
    ctx->metrics = NULL;
    if (!status && a->eval_episodes > 0 &&
        lc_evaluate(pol, env_name, a->resume ? NULL : &a->eo, a->eval_episodes,
                    (uint64_t)a->seed + 1000003, 1, ev, &err) != LC_OK) {
        fprintf(stderr, "lucid train: evaluation: %s\n", err.msg);
        status = 1;
    }
    return status;
}

// Prints the result: one JSON line, or a few lines of text.
static void train_report(const train_args *a, lc_ppo *t, const train_ctx *ctx,
                         const lc_eval_result *ev) {
    lc_policy *pol = lc_ppo_policy(t);
    const char *env_name = lc_policy_env_name(pol);
    double recent = recent_return(ctx);
    double final_return = a->eval_episodes > 0 ? ev->mean : recent;
    if (a->json) {
        printf("{");
        json_str("env", env_name);
        printf(", \"steps\": %lld, ", (long long)lc_ppo_global_step(t));
        json_num("wall_s", ctx->last_wall);
        printf(", ");
        json_num("sps", ctx->last_sps);
        printf(", ");
        json_num("final_return", final_return);
        printf(", ");
        json_num("train_return", recent);
        printf(", ");
        json_num("eval_std", a->eval_episodes > 0 ? ev->std : NAN);
        printf(", \"eval_episodes\": %d, ", a->eval_episodes);
        json_str("arch", lc_policy_get_cfg(pol)->arch);
        printf(", ");
        json_str("out", a->out);
        printf("}\n");
    } else {
        printf("trained %s for %lld steps in %.1f s (%.0f steps/s); recent training return %.1f\n",
               env_name, (long long)lc_ppo_global_step(t), ctx->last_wall, ctx->last_sps, recent);
        if (a->eval_episodes > 0)
            printf("evaluation over %d episodes: mean %.1f, std %.1f, min %.1f, max %.1f\n",
                   ev->episodes, ev->mean, ev->std, ev->min, ev->max);
        printf("policy written to %s\n", a->out);
    }
}

int cmd_train(int argc, char **argv) {
    lc_init();
    train_args a;
    int status = train_parse(&a, argc, argv);
    if (status >= 0) return status;
    lc_ppo *t = NULL;
    train_ctx ctx;
    lc_eval_result ev;
    status = train_run(&a, &t, &ctx, &ev);
    if (!status) train_report(&a, t, &ctx, &ev);
    lc_ppo_free(t);
    return status;
}

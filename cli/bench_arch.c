// cli/bench_arch.c: `lucid bench-arch`: PPO with several controller architectures on
// several envs and seeds, in parallel worker processes, resumable, summarised with
// IQM and bootstrap intervals (loops/bench_arch.h). Leaves out: per-arch settings.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loops/bench_arch.h"
#include "cli/cli.h"
#include "policy/policy.h"
#include "core/stats.h"

typedef struct ui {
    int quiet, failed;
} ui;

static int on_event(void *ctx, const lc_bench_event *ev) {
    ui *u = ctx;
    char ret[96] = "";
    switch (ev->kind) {
    case LC_BENCH_NOTE:
        fprintf(stderr, "bench-arch: leaving out %s on %s: %s\n", ev->arch, ev->env, ev->msg);
        break;
    case LC_BENCH_START:
        if (!u->quiet)
            fprintf(stderr, "[%d/%d] start %s %s seed %lld\n", ev->finished, ev->total, ev->env,
                    ev->arch, (long long)ev->seed);
        break;
    case LC_BENCH_DONE:
    case LC_BENCH_SKIP:
        if (u->quiet) break;
        if (isfinite(ev->real_return))
            snprintf(ret, sizeof ret, ", real env %.1f", ev->real_return);
        fprintf(stderr, "[%d/%d] %s %s %s seed %lld: return %.1f%s, %.1f s\n", ev->finished,
                ev->total, ev->kind == LC_BENCH_DONE ? "done" : "found", ev->env, ev->arch,
                (long long)ev->seed, ev->final_return, ret, ev->wall_s);
        break;
    case LC_BENCH_FAIL:
        u->failed++;
        fprintf(stderr, "[%d/%d] FAILED %s %s seed %lld: %s\n", ev->finished, ev->total, ev->env,
                ev->arch, (long long)ev->seed, ev->msg);
        break;
    case LC_BENCH_WROTE:
        if (!u->quiet) fprintf(stderr, "wrote %s\n", ev->msg);
        break;
    }
    return 0;
}

// Splits a comma list into out (pointers into a copy in *buf). For envs, a piece
// "key=value" without ':' after a dream name with '?' continues its parameters.
static int split_list(const char *s, char **buf, const char **out, int max, int envs,
                      const char *what) {
    *buf = strdup(s);
    if (!*buf) return -1;
    int n = 0;
    char *p = *buf;
    while (*p) {
        char *c = strchr(p, ',');
        while (envs && c && n >= 0) {
            // continuation of "dream:m.lucid?temperature=0.5,penalty=1"?
            char *next = c + 1, *nc = strchr(next, ',');
            size_t nl = nc ? (size_t)(nc - next) : strlen(next);
            int has_eq = memchr(next, '=', nl) != NULL, has_colon = memchr(next, ':', nl) != NULL;
            int in_params = memchr(p, '?', (size_t)(c - p)) != NULL;
            if (in_params && has_eq && !has_colon) c = nc;
            else break;
        }
        if (c) *c = '\0';
        if (*p) {
            if (n == max) {
                fprintf(stderr, "lucid bench-arch: at most %d %s\n", max, what);
                return -1;
            }
            out[n++] = p;
        }
        if (!c) break;
        p = c + 1;
    }
    if (n == 0) {
        fprintf(stderr, "lucid bench-arch: no %s given\n", what);
        return -1;
    }
    return n;
}

// "475" for every env, or "CartPole-v1=475,Acrobot-v1=-100".
static int parse_thresholds(const char *s, lc_bench_cfg *cfg) {
    char *end;
    double v = strtod(s, &end);
    if (end != s && *end == '\0') {
        for (int e = 0; e < cfg->nenvs; e++) cfg->thresholds[e] = v;
        return 0;
    }
    char *copy = strdup(s);
    if (!copy) return -1;
    int rc = 0;
    for (char *tok = strtok(copy, ","); tok && !rc; tok = strtok(NULL, ",")) {
        char *eq = strrchr(tok, '=');
        if (!eq) {
            rc = -1;
            break;
        }
        *eq = '\0';
        v = strtod(eq + 1, &end);
        if (end == eq + 1 || *end) {
            rc = -1;
            break;
        }
        int found = 0;
        for (int e = 0; e < cfg->nenvs; e++)
            if (!strcmp(cfg->envs[e], tok)) cfg->thresholds[e] = v, found = 1;
        if (!found) {
            fprintf(stderr, "lucid bench-arch: --threshold names %s, which is not in --envs\n", tok);
            rc = -1;
        }
    }
    free(copy);
    return rc;
}

int cmd_bench_arch(int argc, char **argv) {
    const char *archs = "mlp,mlp-ln,gru,attn", *envs = "CartPole-v1,Acrobot-v1";
    const char *out = "results", *threshold = NULL;
    lc_bench_cfg cfg = lc_bench_cfg_default();
    int64_t steps = cfg.steps, seed0 = cfg.seed0;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int jobs = ncpu > 0 ? (int)ncpu : 1, summary_only = 0, quiet = 0;
    static char arch_help[512];
    snprintf(arch_help, sizeof arch_help, "comma list of architectures:");
    for (int i = 0; i < lc_policy_arch_count(); i++) {
        size_t l = strlen(arch_help);
        snprintf(arch_help + l, sizeof arch_help - l, " %s", lc_policy_arch_at(i)->name);
    }
    cli_opt opts[] = {
        {"archs", CLI_STR, &archs, arch_help},
        {"envs", CLI_STR, &envs, "comma list of envs (dream:MODEL.lucid included)"},
        {"seeds", CLI_INT, &cfg.seeds, "seeds per (env, arch)"},
        {"seed0", CLI_I64, &seed0, "first seed"},
        {"steps", CLI_I64, &steps, "env steps per run"},
        {"out", CLI_STR, &out, "output folder (runs/, summary.md, summary.json, *.png)"},
        {"jobs", CLI_INT, &jobs, "worker processes at once (0: in this process; default: the cores)"},
        {"eval-episodes", CLI_INT, &cfg.eval_episodes, "evaluation episodes per run"},
        {"threshold", CLI_STR, &threshold,
         "return for steps-to-threshold: R, or ENV=R,ENV=R (default: the middle of the "
         "env's return range)"},
        {"curve-points", CLI_INT, &cfg.curve_points, "points of the summary's learning curves"},
        {"resamples", CLI_INT, &cfg.resamples, "bootstrap resamples"},
        {"save-policies", CLI_FLAG, &cfg.save_policies, "also keep each run's policy file"},
        {"force", CLI_FLAG, &cfg.force, "rerun runs that are already finished"},
        {"summary-only", CLI_FLAG, &summary_only, "only rewrite the summary from runs/"},
        {"quiet", CLI_FLAG, &quiet, "print only notes, failures and the table"},
    };
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts),
                       "usage: lucid bench-arch [--archs mlp,gru,attn] [--envs CartPole-v1,"
                       "Acrobot-v1,dream:model.lucid] [--seeds 5] [--steps N] [--out results/] "
                       "[--jobs 2] [--eval-episodes 20] [--threshold R]\n"
                       "Trains PPO (the env family's CleanRL defaults, only the architecture "
                       "changes) on every (env, arch, seed); finished runs in OUT/runs are "
                       "skipped, so an interrupted benchmark resumes. Writes OUT/summary.md, "
                       "summary.json, curves_ENV.png and profile.png.",
                       NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    char *abuf = NULL, *ebuf = NULL;
    int status = 2;
    int na = split_list(archs, &abuf, cfg.archs, LC_BENCH_MAX_ARCHS, 0, "architectures");
    int ne = na < 0 ? -1 : split_list(envs, &ebuf, cfg.envs, LC_BENCH_MAX_ENVS, 1, "envs");
    if (na < 0 || ne < 0) goto done;
    cfg.narchs = na;
    cfg.nenvs = ne;
    cfg.steps = steps;
    cfg.seed0 = seed0;
    cfg.out_dir = out;
    cfg.jobs = jobs;
    if (threshold && parse_thresholds(threshold, &cfg)) {
        fprintf(stderr, "lucid bench-arch: --threshold '%s': expected R or ENV=R,ENV=R\n", threshold);
        goto done;
    }
    ui u = {quiet, 0};
    cfg.on_event = on_event;
    cfg.event_ctx = &u;
    lc_error err = {0};
    rc = summary_only ? lc_bench_arch_summarize(&cfg, &err) : lc_bench_arch_run(&cfg, &err);
    if (rc) {
        fprintf(stderr, "lucid bench-arch: %s\n", err.msg);
        status = rc == LC_ERR_ARG || rc == LC_ERR_NOTFOUND ? 2 : 1;
        goto done;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.md", out);
    FILE *fp = fopen(path, "r");
    if (fp) {
        char line[1024];
        while (fgets(line, sizeof line, fp))
            if (strncmp(line, "![", 2) != 0) fputs(line, stdout);
        fclose(fp);
    }
    status = 0;
    if (u.failed) {
        fprintf(stderr, "lucid bench-arch: %d run%s failed (runs/*.err); run the same command "
                        "again to retry them\n", u.failed, u.failed > 1 ? "s" : "");
        status = 1;
    }
done:
    free(abuf);
    free(ebuf);
    return status;
}

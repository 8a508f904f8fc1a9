// loops/bench_arch.c: the architecture benchmark grid: forked PPO runs, one atomic
// JSON per finished run (resume by skipping them), then the summary (Markdown, JSON,
// learning curves with bootstrap bands, a performance profile). See bench_arch.h.
// Leaves out: hyper-parameter sweeps, remote workers. JSON goes through core/json.h,
// whose reader accepts the flat objects this file writes.
//
// G = grid points of a summary curve, S = seeds, K = bootstrap resamples,
// I = PPO iterations of a run, M = thresholds of the profile.
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loops/bench_arch.h"
#include "core/file.h"
#include "core/image.h"
#include "core/json.h"
#include "core/metrics.h"
#include "core/progress.h"
#include "nn/nn.h"
#include "policy/ppo.h"
#include "core/stats.h"
#include "worldmodel/worldmodel.h"
#include "loops/init.h"

#define SMOOTH_EPISODES 10 // the learning curve: mean of the last >= 10 episodes
#define SMOOTH_ITERS 64    // ... found within the last 64 iterations at most
#define PROFILE_M 101      // thresholds of the performance profile, 0 .. 1
#define MAX_JSON (64u << 20)
#define PLOT_W 900
#define PLOT_H 540

lc_bench_cfg lc_bench_cfg_default(void) {
    lc_bench_cfg c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < LC_BENCH_MAX_ENVS; i++) c.thresholds[i] = NAN;
    c.seeds = 5;
    c.seed0 = 1;
    c.steps = 100000;
    c.out_dir = "results";
    c.jobs = 1;
    c.eval_episodes = 20;
    c.curve_points = 50;
    c.resamples = LC_STATS_RESAMPLES;
    c.conf = 0.95;
    return c;
}

// ---------------------------------------------------------------- names and tables

static int is_dream(const char *env) { return strncmp(env, "dream:", 6) == 0; }

void lc_bench_run_stem(char *out, size_t cap, const char *env, const char *arch, int64_t seed) {
    // dream:DIR/MODEL.lucid?PARAMS is named by "dream:MODEL.lucid?PARAMS" (the record
    // inside keeps the full name and is checked on resume).
    char shortname[512];
    const char *name = env;
    if (is_dream(env)) {
        const char *q = strchr(env, '?'), *slash = NULL;
        for (const char *p = env + 6; *p && (!q || p < q); p++)
            if (*p == '/') slash = p;
        if (slash) {
            snprintf(shortname, sizeof shortname, "dream:%s", slash + 1);
            name = shortname;
        }
    }
    char e[160];
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < sizeof e; p++) {
        char ch = *p;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '.' || ch == '-' || ch == '_';
        e[n++] = ok ? ch : '_';
    }
    e[n] = '\0';
    snprintf(out, cap, "%s__%s__seed%lld", e, arch, (long long)seed);
}

typedef struct env_info {
    const char *name;
    double lo, hi;
} env_info;

static const env_info known_envs[] = {
    {"CartPole-v1", 0, 500},   {"CartPoleNoVel-v1", 0, 500}, {"Acrobot-v1", -500, 0},
    {"MountainCar-v0", -200, 0}, {"Pendulum-v1", -1600, 0},
};

static const env_info *find_env_info(const char *env) {
    for (size_t i = 0; i < sizeof known_envs / sizeof known_envs[0]; i++)
        if (strcmp(known_envs[i].name, env) == 0) return &known_envs[i];
    return NULL;
}

int lc_bench_env_range(const char *env, double *lo, double *hi) {
    const env_info *e = find_env_info(env);
    if (!e) return 0;
    *lo = e->lo;
    *hi = e->hi;
    return 1;
}

double lc_bench_env_threshold(const char *env) {
    const env_info *e = find_env_info(env);
    return e ? (e->lo + e->hi) / 2 : NAN;
}

// The real env a dream: env imitates, from its world-model file ("" for other envs).
static int real_env_of(const char *env, char *out, size_t cap, lc_error *err) {
    out[0] = '\0';
    if (!is_dream(env)) return LC_OK;
    char path[4096];
    const char *p = env + 6, *q = strchr(p, '?');
    size_t len = q ? (size_t)(q - p) : strlen(p);
    if (len == 0 || len >= sizeof path)
        return lc_fail(err, LC_ERR_ARG, "%s: no usable model path", env);
    memcpy(path, p, len);
    path[len] = '\0';
    lc_ensemble *m = NULL;
    int rc = lc_ensemble_load(&m, path, err);
    if (rc) return rc;
    snprintf(out, cap, "%s", m->env_name);
    lc_ensemble_free(m);
    return LC_OK;
}

static int mkdir_p(const char *path, lc_error *err) {
    char buf[4096];
    if (strlen(path) >= sizeof buf) return lc_fail(err, LC_ERR_ARG, "%s: path too long", path);
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return lc_fail(err, LC_ERR_IO, "%s: mkdir: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return lc_fail(err, LC_ERR_IO, "%s: mkdir: %s", buf, strerror(errno));
    return LC_OK;
}

static int run_path(char *out, size_t cap, const lc_bench_cfg *cfg, const char *env,
                    const char *arch, int64_t seed, const char *suffix) {
    char stem[512];
    lc_bench_run_stem(stem, sizeof stem, env, arch, seed);
    int n = snprintf(out, cap, "%s/runs/%s%s", cfg->out_dir, stem, suffix);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

// Writes the buffer to path atomically.
static int write_atomic(const char *path, const char *data, size_t n, lc_error *err) {
    char tmp[4200];
    int rc = lc_atomic_tmp(tmp, sizeof tmp, path, err);
    if (rc) return rc;
    FILE *fp = fopen(tmp, "wb");
    if (!fp) return lc_fail(err, LC_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    int bad = fwrite(data, 1, n, fp) != n;
    bad |= fclose(fp) != 0;
    if (bad) {
        lc_atomic_abort(tmp);
        return lc_fail(err, LC_ERR_IO, "%s: write failed", path);
    }
    return lc_atomic_commit(tmp, path, err);
}

// ---------------------------------------------------------------- reading a run JSON

// The run record, as written by lc_bench_arch_one.
typedef struct run_rec {
    int ok;
    char env[512], arch[64], real_env[256];
    int64_t seed, steps_req, steps, nparams;
    double wall_s, sps, final_return, final_std, real_return, real_std, train_return, auc,
        threshold, steps_to;
    double *cx, *cy; // (I) the learning curve: env steps, smoothed return (NAN: none yet)
    size_t cn;
} run_rec;

static void rec_free(run_rec *r) {
    free(r->cx);
    free(r->cy);
    r->cx = r->cy = NULL;
    r->cn = 0;
}

static char *read_all(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 > cap) {
            if (cap >= MAX_JSON) break;
            cap = cap ? 2 * cap : 16384;
            char *nb = realloc(buf, cap + 1);
            if (!nb) break;
            buf = nb;
        }
        size_t k = fread(buf + n, 1, cap - n, fp);
        n += k;
        if (k == 0) {
            fclose(fp);
            buf[n] = '\0';
            *len = n;
            return buf;
        }
    }
    fclose(fp);
    free(buf);
    return NULL;
}

// Parses a run record; 0 on success. Unknown keys are skipped when their value is a
// number, string, null, boolean or array of numbers.
static int parse_run(const char *path, run_rec *r) {
    memset(r, 0, sizeof *r);
    size_t len = 0;
    char *buf = read_all(path, &len);
    if (!buf) return -1;
    lc_json_reader p = {buf, buf + len};
    int rc = -1, k;
    char key[64], str[512];
    double *arr;
    size_t an;
    double *dst;
    r->real_return = r->real_std = r->auc = r->threshold = r->steps_to = NAN;
    if (lc_json_obj_begin(&p)) goto done;
    for (int nread = 0; (k = lc_json_obj_next(&p, nread, key, sizeof key)) == 1; nread++) {
        char c = lc_json_peek(&p);
        if (c == '"') {
            if (lc_json_read_str(&p, str, sizeof str)) goto done;
            if (!strcmp(key, "status")) r->ok = !strcmp(str, "ok");
            else if (!strcmp(key, "env")) snprintf(r->env, sizeof r->env, "%s", str);
            else if (!strcmp(key, "arch")) snprintf(r->arch, sizeof r->arch, "%.63s", str);
            else if (!strcmp(key, "real_env")) snprintf(r->real_env, sizeof r->real_env, "%.255s", str);
        } else if (c == '[') {
            if (lc_json_read_nums(&p, &arr, &an)) goto done;
            double **slot = !strcmp(key, "curve_steps")    ? &r->cx
                            : !strcmp(key, "curve_return") ? &r->cy
                                                           : NULL;
            if (slot && !*slot) {
                *slot = arr;
                if (slot == &r->cx) r->cn = an;
                else if (an != r->cn && r->cx) goto done;
            } else {
                free(arr);
            }
        } else if (c == 't' || c == 'f') {
            if (lc_json_skip(&p)) goto done;
        } else {
            double v;
            if (lc_json_read_num(&p, &v)) goto done;
            dst = !strcmp(key, "final_return")  ? &r->final_return
                  : !strcmp(key, "final_std")   ? &r->final_std
                  : !strcmp(key, "real_return") ? &r->real_return
                  : !strcmp(key, "real_std")    ? &r->real_std
                  : !strcmp(key, "train_return") ? &r->train_return
                  : !strcmp(key, "auc")         ? &r->auc
                  : !strcmp(key, "threshold")   ? &r->threshold
                  : !strcmp(key, "steps_to_threshold") ? &r->steps_to
                  : !strcmp(key, "wall_s")      ? &r->wall_s
                  : !strcmp(key, "sps")         ? &r->sps
                                                : NULL;
            if (dst) *dst = v;
            if (isfinite(v)) {
                if (!strcmp(key, "seed")) r->seed = (int64_t)v;
                else if (!strcmp(key, "steps_requested")) r->steps_req = (int64_t)v;
                else if (!strcmp(key, "steps")) r->steps = (int64_t)v;
                else if (!strcmp(key, "nparams")) r->nparams = (int64_t)v;
            }
        }
    }
    if (k != 0 || lc_json_end(&p)) goto done;
    if (r->cx && r->cy && r->cn == 0) goto done;
    if ((r->cx == NULL) != (r->cy == NULL)) goto done;
    rc = 0;
done:
    free(buf);
    if (rc) rec_free(r);
    return rc;
}

// A finished run of this grid point on disk (record filled, caller frees), or 0.
static int load_finished(const lc_bench_cfg *cfg, const char *env, const char *arch,
                         int64_t seed, run_rec *r) {
    char path[4096];
    if (run_path(path, sizeof path, cfg, env, arch, seed, ".json")) return 0;
    if (parse_run(path, r)) return 0;
    if (r->ok && !strcmp(r->env, env) && !strcmp(r->arch, arch) && r->seed == seed &&
        r->steps_req == cfg->steps)
        return 1;
    rec_free(r);
    return 0;
}

// ---------------------------------------------------------------- one run

typedef struct curve_ctx {
    lc_metrics *metrics;
    lc_error merr;
    int failed;
    double *rsum, *cx, *cy; // (I) per iteration: sum of returns, steps, smoothed return
    int64_t *rcnt;          // (I) episodes
    size_t n, cap;
    double wall_s, sps;
} curve_ctx;

static int on_iter(void *ctx, const lc_ppo_stats *s) {
    curve_ctx *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        double *a = realloc(c->rsum, cap * sizeof(double));
        if (a) c->rsum = a;
        double *b = realloc(c->cx, cap * sizeof(double));
        if (b) c->cx = b;
        double *d = realloc(c->cy, cap * sizeof(double));
        if (d) c->cy = d;
        int64_t *e = realloc(c->rcnt, cap * sizeof(int64_t));
        if (e) c->rcnt = e;
        if (!a || !b || !d || !e) {
            lc_fail(&c->merr, LC_ERR_NOMEM, "bench: out of memory for the learning curve");
            c->failed = 1;
            return 1;
        }
        c->cap = cap;
    }
    size_t i = c->n++;
    c->rcnt[i] = s->episodes;
    c->rsum[i] = s->episodes > 0 ? s->episode_return * (double)s->episodes : 0;
    c->cx[i] = (double)s->global_step;
    double sum = 0;
    int64_t cnt = 0;
    for (size_t k = i + 1; k-- > 0 && i - k < SMOOTH_ITERS && cnt < SMOOTH_EPISODES;) {
        sum += c->rsum[k];
        cnt += c->rcnt[k];
    }
    c->cy[i] = cnt ? sum / (double)cnt : NAN;
    c->wall_s = s->wall_s;
    c->sps = s->sps;
    if (c->metrics) {
        const char *keys[] = {"steps", "iteration", "wall_s", "sps", "episode_return", "episodes",
                              "smoothed_return", "policy_loss", "value_loss", "entropy",
                              "approx_kl", "clip_frac", "explained_var", "grad_norm", "lr"};
        double vals[] = {(double)s->global_step, (double)s->iteration, s->wall_s, s->sps,
                         s->episode_return, (double)s->episodes, c->cy[i], s->policy_loss,
                         s->value_loss, s->entropy, s->approx_kl, s->clip_frac,
                         s->explained_var, s->grad_norm, s->lr};
        if (lc_metrics_row(c->metrics, (int)(sizeof keys / sizeof keys[0]), keys, vals,
                           &c->merr) != LC_OK) {
            c->failed = 1;
            return 1;
        }
    }
    return 0;
}

static void write_err_file(const lc_bench_cfg *cfg, const char *env, const char *arch,
                           int64_t seed, const char *msg) {
    char path[4096];
    if (run_path(path, sizeof path, cfg, env, arch, seed, ".err")) return;
    lc_error e2 = {0};
    char line[600];
    int n = snprintf(line, sizeof line, "%s\n", msg);
    write_atomic(path, line, n > 0 && (size_t)n < sizeof line ? (size_t)n : strlen(line), &e2);
}

static double env_threshold(const lc_bench_cfg *cfg, int ei, const char *real_env) {
    if (!isnan(cfg->thresholds[ei])) return cfg->thresholds[ei];
    return lc_bench_env_threshold(real_env[0] ? real_env : cfg->envs[ei]);
}

int lc_bench_arch_one(const lc_bench_cfg *cfg, int ei, int ai, int64_t seed, lc_error *err) {
    lc_error local = {0};
    if (!err) err = &local;
    if (ei < 0 || ei >= cfg->nenvs || ai < 0 || ai >= cfg->narchs)
        return lc_fail(err, LC_ERR_ARG, "bench: run index out of range");
    const char *env = cfg->envs[ei], *arch = cfg->archs[ai];
    char json_path[4096], csv_path[4096], csv_tmp[4200], pol_path[4096];
    if (run_path(json_path, sizeof json_path, cfg, env, arch, seed, ".json") ||
        run_path(csv_path, sizeof csv_path, cfg, env, arch, seed, ".csv") ||
        run_path(pol_path, sizeof pol_path, cfg, env, arch, seed, ".policy.lucid") ||
        run_path(csv_tmp, sizeof csv_tmp - 32, cfg, env, arch, seed, ""))
        return lc_fail(err, LC_ERR_ARG, "bench: output path too long");
    size_t l = strlen(csv_tmp);
    snprintf(csv_tmp + l, sizeof csv_tmp - l, ".tmp.%ld.csv", (long)getpid());

    lc_init();
    char real_env[256];
    lc_ppo *t = NULL;
    curve_ctx cc;
    memset(&cc, 0, sizeof cc);
    lc_sbuf js = {0};
    int rc = real_env_of(env, real_env, sizeof real_env, err);
    lc_ppo_cfg c;
    lc_policy_cfg pc;
    if (!rc) rc = lc_ppo_cfg_for_env(&c, &pc, env, err);
    if (!rc && strlen(arch) >= sizeof pc.arch)
        rc = lc_fail(err, LC_ERR_ARG, "bench: arch name '%s' too long", arch);
    if (rc) goto fail;
    c.total_steps = cfg->steps;
    c.seed = (uint64_t)seed;
    c.checkpoint_path = NULL;
    c.checkpoint_every = 0;
    snprintf(pc.arch, sizeof pc.arch, "%s", arch);
    if ((rc = lc_ppo_new(&t, env, NULL, &c, &pc, err))) goto fail;
    if ((rc = lc_metrics_open(&cc.metrics, csv_tmp, 0, err))) goto fail;
    rc = lc_ppo_train(t, on_iter, &cc, err);
    lc_error merr = {0};
    int mrc = lc_metrics_close(cc.metrics, &merr);
    cc.metrics = NULL;
    if (cc.failed) {
        *err = cc.merr;
        rc = err->code ? err->code : LC_ERR_IO;
    } else if (!rc && mrc) {
        *err = merr;
        rc = mrc;
    }
    if (rc) goto fail;
    lc_policy *pol = lc_ppo_policy(t);
    double t0 = lc_now();
    lc_eval_result ev, rev;
    memset(&rev, 0, sizeof rev);
    rev.mean = rev.std = NAN;
    uint64_t eseed = (uint64_t)seed + 1000003;
    if ((rc = lc_evaluate(pol, env, NULL, cfg->eval_episodes, eseed, 1, &ev, err))) goto fail;
    if (real_env[0] &&
        (rc = lc_evaluate(pol, real_env, NULL, cfg->eval_episodes, eseed, 1, &rev, err)))
        goto fail;
    double eval_wall = lc_now() - t0;
    if (cfg->save_policies && (rc = lc_policy_save(pol, pol_path, err))) goto fail;
    double thr = env_threshold(cfg, ei, real_env);
    double auc = lc_stats_auc(cc.cx, cc.cy, cc.n);
    double steps_to = isnan(thr) ? NAN : lc_stats_steps_to(cc.cx, cc.cy, cc.n, thr);

    lc_sbuf_printf(&js, "{\"status\": \"ok\", \"env\": ");
    lc_json_str(&js, env);
    lc_sbuf_printf(&js, ", \"arch\": ");
    lc_json_str(&js, arch);
    lc_sbuf_printf(&js, ", \"seed\": %lld, \"steps_requested\": %lld, \"steps\": %lld, \"iterations\": %lld",
              (long long)seed, (long long)cfg->steps, (long long)lc_ppo_global_step(t),
              (long long)lc_ppo_iteration(t));
    lc_sbuf_printf(&js, ", \"nparams\": %zu, \"num_envs\": %d, \"num_steps\": %d",
              lc_policy_nparams(pol), c.num_envs, c.num_steps);
    lc_sbuf_printf(&js, ", \"wall_s\": ");
    lc_json_num(&js, cc.wall_s);
    lc_sbuf_printf(&js, ", \"sps\": ");
    lc_json_num(&js, cc.sps);
    lc_sbuf_printf(&js, ", \"eval_wall_s\": ");
    lc_json_num(&js, eval_wall);
    lc_sbuf_printf(&js, ", \"eval_episodes\": %d, \"final_return\": ", ev.episodes);
    lc_json_num(&js, ev.mean);
    lc_sbuf_printf(&js, ", \"final_std\": ");
    lc_json_num(&js, ev.std);
    lc_sbuf_printf(&js, ", \"real_env\": ");
    lc_json_str(&js, real_env);
    lc_sbuf_printf(&js, ", \"real_return\": ");
    lc_json_num(&js, rev.mean);
    lc_sbuf_printf(&js, ", \"real_std\": ");
    lc_json_num(&js, rev.std);
    lc_sbuf_printf(&js, ", \"train_return\": ");
    lc_json_num(&js, cc.n ? cc.cy[cc.n - 1] : NAN);
    lc_sbuf_printf(&js, ", \"auc\": ");
    lc_json_num(&js, auc);
    lc_sbuf_printf(&js, ", \"threshold\": ");
    lc_json_num(&js, thr);
    lc_sbuf_printf(&js, ", \"steps_to_threshold\": ");
    lc_json_num(&js, steps_to);
    lc_sbuf_printf(&js, ",\n \"curve_steps\": ");
    lc_json_nums(&js, cc.cx, cc.n);
    lc_sbuf_printf(&js, ",\n \"curve_return\": ");
    lc_json_nums(&js, cc.cy, cc.n);
    lc_sbuf_printf(&js, "}\n");
    if (js.oom) {
        rc = lc_fail(err, LC_ERR_NOMEM, "bench: out of memory for the run record");
        goto fail;
    }
    // The CSV first, the JSON last: a JSON on disk means the run is complete.
    if ((rc = lc_atomic_commit(csv_tmp, csv_path, err))) goto fail;
    if ((rc = write_atomic(json_path, js.s, js.n, err))) goto fail;
    char err_path[4096];
    if (!run_path(err_path, sizeof err_path, cfg, env, arch, seed, ".err")) unlink(err_path);
    lc_sbuf_free(&js);
    free(cc.rsum), free(cc.cx), free(cc.cy), free(cc.rcnt);
    lc_ppo_free(t);
    return LC_OK;
fail:
    if (cc.metrics) lc_metrics_close(cc.metrics, NULL);
    unlink(csv_tmp);
    lc_sbuf_free(&js);
    free(cc.rsum), free(cc.cx), free(cc.cy), free(cc.rcnt);
    lc_ppo_free(t);
    lc_error_prefix(err, "%s %s seed %lld: ", env, arch, (long long)seed);
    write_err_file(cfg, env, arch, seed, err->msg);
    return rc;
}

// ---------------------------------------------------------------- the grid

typedef struct probe {
    char real_env[LC_BENCH_MAX_ENVS][256];
    int compat[LC_BENCH_MAX_ENVS][LC_BENCH_MAX_ARCHS];
    char reason[LC_BENCH_MAX_ENVS][LC_BENCH_MAX_ARCHS][600];
} probe;

static int validate(const lc_bench_cfg *cfg, lc_error *err) {
    if (cfg->narchs < 1 || cfg->narchs > LC_BENCH_MAX_ARCHS)
        return lc_fail(err, LC_ERR_ARG, "bench: 1..%d architectures, got %d", LC_BENCH_MAX_ARCHS,
                       cfg->narchs);
    if (cfg->nenvs < 1 || cfg->nenvs > LC_BENCH_MAX_ENVS)
        return lc_fail(err, LC_ERR_ARG, "bench: 1..%d envs, got %d", LC_BENCH_MAX_ENVS, cfg->nenvs);
    if (cfg->seeds < 1 || cfg->seeds > LC_BENCH_MAX_SEEDS)
        return lc_fail(err, LC_ERR_ARG, "bench: 1..%d seeds, got %d", LC_BENCH_MAX_SEEDS, cfg->seeds);
    if (cfg->steps < 1) return lc_fail(err, LC_ERR_ARG, "bench: steps must be >= 1");
    if (cfg->jobs < 0 || cfg->jobs > 1024)
        return lc_fail(err, LC_ERR_ARG, "bench: jobs %d out of range (0..1024)", cfg->jobs);
    if (cfg->eval_episodes < 1 || cfg->eval_episodes > 100000)
        return lc_fail(err, LC_ERR_ARG, "bench: eval episodes %d must be >= 1", cfg->eval_episodes);
    if (cfg->curve_points < 2 || cfg->curve_points > 10000)
        return lc_fail(err, LC_ERR_ARG, "bench: curve points %d out of range (2..10000)",
                       cfg->curve_points);
    if (cfg->resamples < 1) return lc_fail(err, LC_ERR_ARG, "bench: resamples must be >= 1");
    if (!(cfg->conf > 0 && cfg->conf < 1))
        return lc_fail(err, LC_ERR_ARG, "bench: confidence %g must be in (0, 1)", cfg->conf);
    if (!cfg->out_dir || !cfg->out_dir[0]) return lc_fail(err, LC_ERR_ARG, "bench: no output folder");
    for (int a = 0; a < cfg->narchs; a++) {
        if (!cfg->archs[a] || !lc_policy_arch_find(cfg->archs[a])) {
            char names[512] = "";
            for (int i = 0; i < lc_policy_arch_count(); i++) {
                size_t l = strlen(names);
                snprintf(names + l, sizeof names - l, "%s%s", i ? ", " : "",
                         lc_policy_arch_at(i)->name);
            }
            return lc_fail(err, LC_ERR_NOTFOUND, "bench: unknown architecture '%s' (known: %s)",
                           cfg->archs[a] ? cfg->archs[a] : "", names);
        }
        for (int b = 0; b < a; b++)
            if (!strcmp(cfg->archs[a], cfg->archs[b]))
                return lc_fail(err, LC_ERR_ARG, "bench: architecture '%s' given twice", cfg->archs[a]);
    }
    for (int e = 0; e < cfg->nenvs; e++) {
        if (!cfg->envs[e] || !cfg->envs[e][0]) return lc_fail(err, LC_ERR_ARG, "bench: empty env name");
        for (int b = 0; b < e; b++)
            if (!strcmp(cfg->envs[e], cfg->envs[b]))
                return lc_fail(err, LC_ERR_ARG, "bench: env '%s' given twice", cfg->envs[e]);
    }
    return LC_OK;
}

// Which (env, arch) pairs can run: a policy of the arch must accept the env's spaces.
static int probe_grid(const lc_bench_cfg *cfg, probe *pr, lc_error *err) {
    memset(pr, 0, sizeof *pr);
    lc_init();
    for (int e = 0; e < cfg->nenvs; e++) {
        const char *env = cfg->envs[e];
        int rc = real_env_of(env, pr->real_env[e], sizeof pr->real_env[e], err);
        lc_ppo_cfg c;
        lc_policy_cfg pc;
        if (!rc) rc = lc_ppo_cfg_for_env(&c, &pc, env, err);
        lc_env *ev = NULL;
        lc_env_opts o = lc_env_opts_default();
        if (!rc) rc = lc_env_make(&ev, env, &o, err);
        if (rc) return lc_error_prefix(err, "bench: env %s: ", env);
        const lc_env_spec *sp = lc_env_get_spec(ev);
        for (int a = 0; a < cfg->narchs; a++) {
            lc_policy_cfg p2 = pc;
            snprintf(p2.arch, sizeof p2.arch, "%s", cfg->archs[a]);
            lc_policy *pol = NULL;
            lc_error e2 = {0};
            if (strlen(cfg->archs[a]) >= sizeof p2.arch) {
                snprintf(pr->reason[e][a], sizeof pr->reason[e][a], "arch name too long");
            } else if (lc_policy_new(&pol, &sp->obs_space, &sp->act_space, &p2, 1, &e2) != LC_OK) {
                snprintf(pr->reason[e][a], sizeof pr->reason[e][a], "%s", e2.msg);
            } else {
                pr->compat[e][a] = 1;
            }
            lc_policy_free(pol);
        }
        lc_env_free(ev);
    }
    return LC_OK;
}

typedef struct job {
    int ei, ai;
    int64_t seed;
    pid_t pid;
} job;

static int emit(const lc_bench_cfg *cfg, lc_bench_event *ev) {
    return cfg->on_event ? cfg->on_event(cfg->event_ctx, ev) : 0;
}

// The first line of a run's .err file into msg ("" when none).
static void read_err(const lc_bench_cfg *cfg, const job *j, char *msg, size_t cap) {
    char path[4096];
    msg[0] = '\0';
    if (run_path(path, sizeof path, cfg, cfg->envs[j->ei], cfg->archs[j->ai], j->seed, ".err"))
        return;
    FILE *fp = fopen(path, "r");
    if (!fp) return;
    if (!fgets(msg, (int)cap, fp)) msg[0] = '\0';
    fclose(fp);
    size_t l = strlen(msg);
    while (l && (msg[l - 1] == '\n' || msg[l - 1] == '\r')) msg[--l] = '\0';
}

// Reports a run that ended (status: the worker's wait status, or -1 in process).
static int finish_job(const lc_bench_cfg *cfg, const job *j, int status, int *finished,
                      int total, int *nfailed) {
    const char *env = cfg->envs[j->ei], *arch = cfg->archs[j->ai];
    lc_bench_event ev = {0};
    ev.env = env;
    ev.arch = arch;
    ev.seed = j->seed;
    ev.total = total;
    ev.final_return = ev.real_return = ev.wall_s = NAN;
    run_rec r;
    char msg[600], tmp[4200];
    (*finished)++;
    // A worker that died mid-run leaves its metrics under a temporary name.
    if (j->pid > 0 && !run_path(tmp, sizeof tmp - 32, cfg, env, arch, j->seed, "")) {
        size_t l = strlen(tmp);
        snprintf(tmp + l, sizeof tmp - l, ".tmp.%ld.csv", (long)j->pid);
        unlink(tmp);
    }
    ev.finished = *finished;
    if (load_finished(cfg, env, arch, j->seed, &r)) {
        ev.kind = LC_BENCH_DONE;
        ev.final_return = r.final_return;
        ev.real_return = r.real_return;
        ev.wall_s = r.wall_s;
        rec_free(&r);
    } else {
        ev.kind = LC_BENCH_FAIL;
        (*nfailed)++;
        read_err(cfg, j, msg, sizeof msg);
        if (!msg[0]) {
            if (status >= 0 && WIFSIGNALED(status))
                snprintf(msg, sizeof msg, "worker killed by signal %d", WTERMSIG(status));
            else if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status))
                snprintf(msg, sizeof msg, "worker exited with status %d", WEXITSTATUS(status));
            else
                snprintf(msg, sizeof msg, "no run record was written");
            write_err_file(cfg, env, arch, j->seed, msg); // so the summary lists it
        }
        ev.msg = msg;
    }
    return emit(cfg, &ev);
}

static void start_event(const lc_bench_cfg *cfg, const job *j, int finished, int total) {
    lc_bench_event ev = {0};
    ev.kind = LC_BENCH_START;
    ev.env = cfg->envs[j->ei];
    ev.arch = cfg->archs[j->ai];
    ev.seed = j->seed;
    ev.finished = finished;
    ev.total = total;
    ev.final_return = ev.real_return = ev.wall_s = NAN;
    emit(cfg, &ev);
}

int lc_bench_arch_run(const lc_bench_cfg *cfg, lc_error *err) {
    lc_error local = {0};
    if (!err) err = &local;
    int rc = validate(cfg, err);
    if (rc) return rc;
    char runs[4096];
    if (snprintf(runs, sizeof runs, "%s/runs", cfg->out_dir) >= (int)sizeof runs)
        return lc_fail(err, LC_ERR_ARG, "bench: output path too long");
    probe *pr = malloc(sizeof *pr);
    if (!pr) return lc_fail(err, LC_ERR_NOMEM, "bench: out of memory");
    if ((rc = probe_grid(cfg, pr, err)) || (rc = mkdir_p(runs, err))) {
        free(pr);
        return rc;
    }
    int stop = 0;
    for (int e = 0; e < cfg->nenvs && !stop; e++)
        for (int a = 0; a < cfg->narchs && !stop; a++) {
            if (pr->compat[e][a]) continue;
            lc_bench_event ev = {0};
            ev.kind = LC_BENCH_NOTE;
            ev.env = cfg->envs[e];
            ev.arch = cfg->archs[a];
            ev.final_return = ev.real_return = ev.wall_s = NAN;
            ev.msg = pr->reason[e][a];
            stop = emit(cfg, &ev);
        }
    // Seed-major order: a partial grid already covers every (env, arch) pair.
    size_t cap = (size_t)cfg->seeds * cfg->nenvs * cfg->narchs;
    job *jobs = malloc(cap * sizeof *jobs);
    if (!jobs) {
        free(pr);
        return lc_fail(err, LC_ERR_NOMEM, "bench: out of memory");
    }
    int njobs = 0, total = 0, finished = 0, nfailed = 0;
    for (int s = 0; s < cfg->seeds; s++)
        for (int e = 0; e < cfg->nenvs; e++)
            for (int a = 0; a < cfg->narchs; a++)
                if (pr->compat[e][a]) {
                    total++;
                    job j = {e, a, cfg->seed0 + s, -1};
                    run_rec r;
                    if (!cfg->force && load_finished(cfg, cfg->envs[e], cfg->archs[a], j.seed, &r)) {
                        rec_free(&r);
                        j.pid = -2; // finished on disk
                    }
                    jobs[njobs++] = j;
                }
    // Skips are reported once the total is known.
    for (int i = 0; i < njobs && !stop; i++) {
        if (jobs[i].pid != -2) continue;
        run_rec r;
        if (!load_finished(cfg, cfg->envs[jobs[i].ei], cfg->archs[jobs[i].ai], jobs[i].seed, &r))
            continue;
        lc_bench_event ev = {0};
        ev.kind = LC_BENCH_SKIP;
        ev.env = cfg->envs[jobs[i].ei];
        ev.arch = cfg->archs[jobs[i].ai];
        ev.seed = jobs[i].seed;
        ev.final_return = r.final_return;
        ev.real_return = r.real_return;
        ev.wall_s = r.wall_s;
        ev.finished = ++finished;
        ev.total = total;
        rec_free(&r);
        stop = emit(cfg, &ev);
    }
    int next = 0;
    if (cfg->jobs == 0) { // in this process, one after the other
        for (; next < njobs && !stop; next++) {
            if (jobs[next].pid == -2) continue;
            start_event(cfg, &jobs[next], finished, total);
            lc_error e2 = {0};
            lc_bench_arch_one(cfg, jobs[next].ei, jobs[next].ai, jobs[next].seed, &e2);
            stop = finish_job(cfg, &jobs[next], -1, &finished, total, &nfailed);
        }
    } else {
        int running = 0;
        for (;;) {
            while (!stop && running < cfg->jobs) {
                while (next < njobs && jobs[next].pid == -2) next++;
                if (next >= njobs) break;
                job *j = &jobs[next++];
                fflush(NULL);
                pid_t pid = fork();
                if (pid < 0) {
                    rc = lc_fail(err, LC_ERR_STATE, "bench: fork: %s", strerror(errno));
                    stop = 1;
                    break;
                }
                if (pid == 0) {
                    lc_nn_set_threads(1);
                    lc_error e2 = {0};
                    int r2 = lc_bench_arch_one(cfg, j->ei, j->ai, j->seed, &e2);
                    _exit(r2 ? 1 : 0);
                }
                j->pid = pid;
                running++;
                start_event(cfg, j, finished, total);
            }
            if (running == 0) break;
            int reaped = 0;
            for (int i = 0; i < njobs; i++) {
                if (jobs[i].pid <= 0) continue;
                int st = 0;
                pid_t w = waitpid(jobs[i].pid, &st, WNOHANG);
                if (w == 0) continue;
                if (w < 0 && errno == EINTR) continue;
                running--;
                reaped++;
                if (finish_job(cfg, &jobs[i], w < 0 ? 0 : st, &finished, total, &nfailed)) stop = 1;
                jobs[i].pid = -3; // reaped
            }
            if (!reaped) {
                struct timespec ts = {0, 20 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
        }
    }
    free(jobs);
    free(pr);
    if (rc) return rc;
    if (stop) return lc_fail(err, LC_ERR_STATE, "bench: stopped before the grid was done");
    return lc_bench_arch_summarize(cfg, err);
}

// ---------------------------------------------------------------- the summary

typedef struct cell {
    int compat, n_ok, n_failed, n_missing;
    int64_t nparams;
    double fin_mean, fin_std;
    lc_ci fin_iqm, fin_ci_mean;
    double real_mean;
    lc_ci real_iqm;
    lc_ci auc;
    double thr, st_median;
    int st_reached;
    double wall_mean, sps_mean;
    double *gmean, *glo, *ghi; // (G)
    double *scores;            // (n_ok) the raw score used for normalisation
    double *finals;            // (n_ok)
    int64_t *seeds;            // (n_ok)
} cell;

static void cell_free(cell *c) {
    free(c->gmean), free(c->glo), free(c->ghi), free(c->scores), free(c->finals), free(c->seeds);
}

static void fmt_steps(char *out, size_t cap, double v) {
    if (!isfinite(v)) snprintf(out, cap, "-");
    else if (fabs(v) >= 1e6) snprintf(out, cap, "%.2fM", v / 1e6);
    else if (fabs(v) >= 1e3) snprintf(out, cap, "%.1fk", v / 1e3);
    else snprintf(out, cap, "%.0f", v);
}

static void fmt_num(char *out, size_t cap, double v) {
    if (!isfinite(v)) snprintf(out, cap, "-");
    else snprintf(out, cap, "%.1f", v);
}

static void fmt_ci(char *out, size_t cap, lc_ci c) {
    if (!isfinite(c.point)) snprintf(out, cap, "-");
    else snprintf(out, cap, "%.1f [%.1f, %.1f]", c.point, c.lo, c.hi);
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Median of steps to threshold where a run that never got there counts as infinite.
static double median_inf(double *v, int n) {
    if (n == 0) return NAN;
    for (int i = 0; i < n; i++)
        if (isnan(v[i])) v[i] = INFINITY;
    qsort(v, (size_t)n, sizeof(double), cmp_d);
    if (n % 2) return v[n / 2];
    double a = v[n / 2 - 1], b = v[n / 2];
    return isinf(a) || isinf(b) ? INFINITY : (a + b) / 2;
}

static lc_ci boot1(const lc_bench_cfg *cfg, const double *x, size_t n, lc_stat s, uint64_t seed) {
    lc_ci c = {NAN, NAN, NAN};
    if (n == 0) return c;
    lc_stats_bootstrap(x, &n, 1, s, cfg->resamples, cfg->conf, seed, &c, NULL);
    return c;
}

static int fill_cell(const lc_bench_cfg *cfg, const probe *pr, int e, int a, cell *c,
                     const double *gx, int G, lc_sbuf *failed) {
    const char *env = cfg->envs[e], *arch = cfg->archs[a];
    const char *real = pr->real_env[e];
    int S = cfg->seeds;
    memset(c, 0, sizeof *c);
    c->compat = pr->compat[e][a];
    c->fin_mean = c->fin_std = c->real_mean = c->thr = c->st_median = NAN;
    c->wall_mean = c->sps_mean = NAN;
    c->fin_iqm = c->fin_ci_mean = c->real_iqm = c->auc = (lc_ci){NAN, NAN, NAN};
    if (!c->compat) return LC_OK;
    c->gmean = malloc((size_t)G * sizeof(double));
    c->glo = malloc((size_t)G * sizeof(double));
    c->ghi = malloc((size_t)G * sizeof(double));
    c->scores = malloc((size_t)S * sizeof(double));
    c->finals = malloc((size_t)S * sizeof(double));
    c->seeds = malloc((size_t)S * sizeof(int64_t));
    double *reals = malloc((size_t)S * sizeof(double)), *aucs = malloc((size_t)S * sizeof(double));
    double *st = malloc((size_t)S * sizeof(double)), *wall = malloc((size_t)S * sizeof(double));
    double *sps = malloc((size_t)S * sizeof(double));
    double *grid = malloc((size_t)S * G * sizeof(double)), *col = malloc((size_t)S * sizeof(double));
    run_rec *recs = calloc((size_t)S, sizeof(run_rec));
    int rc = LC_OK;
    if (!c->gmean || !c->glo || !c->ghi || !c->scores || !c->finals || !c->seeds || !reals ||
        !aucs || !st || !wall || !sps || !grid || !col || !recs) {
        rc = LC_ERR_NOMEM;
        goto done;
    }
    int n = 0, nreal = 0, nauc = 0;
    double thr = !isnan(cfg->thresholds[e]) ? cfg->thresholds[e]
                                            : lc_bench_env_threshold(real[0] ? real : env);
    for (int s = 0; s < S; s++) {
        int64_t seed = cfg->seed0 + s;
        run_rec *r = &recs[n];
        if (!load_finished(cfg, env, arch, seed, r)) {
            job j = {e, a, seed, -1};
            char msg[600];
            read_err(cfg, &j, msg, sizeof msg);
            if (msg[0]) {
                c->n_failed++;
                if (failed->n) lc_sbuf_printf(failed, ",\n    ");
                lc_sbuf_printf(failed, "{\"env\": ");
                lc_json_str(failed, env);
                lc_sbuf_printf(failed, ", \"arch\": ");
                lc_json_str(failed, arch);
                lc_sbuf_printf(failed, ", \"seed\": %lld, \"error\": ", (long long)seed);
                lc_json_str(failed, msg);
                lc_sbuf_printf(failed, "}");
            } else {
                c->n_missing++;
            }
            continue;
        }
        c->seeds[n] = seed;
        c->finals[n] = r->final_return;
        c->scores[n] = real[0] ? r->real_return : r->final_return;
        if (isfinite(r->real_return)) reals[nreal++] = r->real_return;
        if (isfinite(r->auc)) aucs[nauc++] = r->auc;
        st[n] = isnan(thr) ? NAN : lc_stats_steps_to(r->cx, r->cy, r->cn, thr);
        wall[n] = r->wall_s;
        sps[n] = r->sps;
        if (!c->nparams) c->nparams = r->nparams;
        // The run's curve held constant between its iterations, sampled on the grid.
        size_t k = 0;
        for (int g = 0; g < G; g++) {
            while (k < r->cn && r->cx[k] <= gx[g] * (1 + 1e-12)) k++;
            grid[(size_t)n * G + g] = k > 0 ? r->cy[k - 1] : NAN;
        }
        n++;
    }
    c->n_ok = n;
    c->thr = thr;
    for (int g = 0; g < G; g++) {
        int m = 0;
        for (int s = 0; s < n; s++) {
            double v = grid[(size_t)s * G + g];
            if (isfinite(v)) col[m++] = v;
        }
        lc_ci ci = boot1(cfg, col, (size_t)m, LC_STAT_MEAN, 0x6375727665ULL);
        c->gmean[g] = ci.point;
        c->glo[g] = ci.lo;
        c->ghi[g] = ci.hi;
    }
    if (n > 0) {
        int m = 0;
        for (int s = 0; s < n; s++)
            if (isfinite(c->finals[s])) col[m++] = c->finals[s];
        c->fin_mean = lc_stats_mean(col, (size_t)m);
        c->fin_std = lc_stats_std(col, (size_t)m);
        c->fin_iqm = boot1(cfg, col, (size_t)m, LC_STAT_IQM, 0x66696eULL);
        c->fin_ci_mean = boot1(cfg, col, (size_t)m, LC_STAT_MEAN, 0x66696eULL);
        if (real[0]) {
            c->real_mean = lc_stats_mean(reals, (size_t)nreal);
            c->real_iqm = boot1(cfg, reals, (size_t)nreal, LC_STAT_IQM, 0x7265616cULL);
        }
        c->auc = boot1(cfg, aucs, (size_t)nauc, LC_STAT_MEAN, 0x617563ULL);
        c->st_reached = 0;
        for (int s = 0; s < n; s++) c->st_reached += isfinite(st[s]);
        c->st_median = isnan(c->thr) ? NAN : median_inf(st, n);
        c->wall_mean = lc_stats_mean(wall, (size_t)n);
        c->sps_mean = lc_stats_mean(sps, (size_t)n);
    }
done:
    for (int s = 0; s < S; s++) rec_free(&recs[s]);
    free(recs), free(reals), free(aucs), free(st), free(wall), free(sps), free(grid), free(col);
    return rc;
}

static void json_ci(lc_sbuf *b, const char *key, lc_ci c) {
    lc_sbuf_printf(b, "\"%s\": ", key);
    lc_json_num(b, c.point);
    lc_sbuf_printf(b, ", \"%s_lo\": ", key);
    lc_json_num(b, c.lo);
    lc_sbuf_printf(b, ", \"%s_hi\": ", key);
    lc_json_num(b, c.hi);
}

static int wrote(const lc_bench_cfg *cfg, const char *path) {
    lc_bench_event ev = {0};
    ev.kind = LC_BENCH_WROTE;
    ev.final_return = ev.real_return = ev.wall_s = NAN;
    ev.msg = path;
    return emit(cfg, &ev);
}

int lc_bench_arch_summarize(const lc_bench_cfg *cfg, lc_error *err) {
    lc_error local = {0};
    if (!err) err = &local;
    int rc = validate(cfg, err);
    if (rc) return rc;
    probe *pr = malloc(sizeof *pr);
    if (!pr) return lc_fail(err, LC_ERR_NOMEM, "bench: out of memory");
    if ((rc = probe_grid(cfg, pr, err))) {
        free(pr);
        return rc;
    }
    int E = cfg->nenvs, A = cfg->narchs, G = cfg->curve_points, S = cfg->seeds;
    cell *cells = calloc((size_t)E * A, sizeof(cell));
    double *gx = malloc((size_t)G * sizeof(double));
    double *lo = malloc((size_t)E * sizeof(double)), *hi = malloc((size_t)E * sizeof(double));
    int *range_src = calloc((size_t)E, sizeof(int));
    double *norm = malloc((size_t)E * S * sizeof(double));
    size_t *sizes = malloc((size_t)E * sizeof(size_t));
    double taus[PROFILE_M], *prof = malloc((size_t)A * PROFILE_M * 3 * sizeof(double));
    lc_ci *agg_iqm = malloc((size_t)A * sizeof(lc_ci));
    double *agg_mean = malloc((size_t)A * sizeof(double));
    int *agg_n = calloc((size_t)A, sizeof(int));
    lc_sbuf md = {0}, js = {0}, failed = {0};
    char path[4200];
    if (!cells || !gx || !lo || !hi || !range_src || !norm || !sizes || !prof || !agg_iqm ||
        !agg_mean || !agg_n) {
        rc = lc_fail(err, LC_ERR_NOMEM, "bench: out of memory for the summary");
        goto done;
    }
    for (int g = 0; g < G; g++) gx[g] = (double)cfg->steps * (g + 1) / G;
    for (int e = 0; e < E; e++)
        for (int a = 0; a < A; a++)
            if ((rc = fill_cell(cfg, pr, e, a, &cells[e * A + a], gx, G, &failed))) {
                rc = lc_fail(err, LC_ERR_NOMEM, "bench: out of memory for the summary");
                goto done;
            }

    // Normalisation ranges: built in, else the lowest and highest score in the env.
    for (int e = 0; e < E; e++) {
        const char *name = pr->real_env[e][0] ? pr->real_env[e] : cfg->envs[e];
        if (lc_bench_env_range(name, &lo[e], &hi[e])) {
            range_src[e] = 1;
            continue;
        }
        lo[e] = INFINITY, hi[e] = -INFINITY;
        for (int a = 0; a < A; a++) {
            const cell *c = &cells[e * A + a];
            for (int s = 0; s < c->n_ok; s++)
                if (isfinite(c->scores[s]))
                    lo[e] = fmin(lo[e], c->scores[s]), hi[e] = fmax(hi[e], c->scores[s]);
        }
        if (!(lo[e] < hi[e])) {
            if (isfinite(lo[e])) hi[e] = lo[e] + 1;
            else lo[e] = 0, hi[e] = 1;
        }
    }
    // Aggregate and profile per arch, stratified over envs.
    for (int m = 0; m < PROFILE_M; m++) taus[m] = (double)m / (PROFILE_M - 1);
    for (int a = 0; a < A; a++) {
        size_t n = 0;
        int G2 = 0;
        for (int e = 0; e < E; e++) {
            const cell *c = &cells[e * A + a];
            size_t k = 0;
            for (int s = 0; s < c->n_ok; s++)
                if (isfinite(c->scores[s])) norm[n + k++] = (c->scores[s] - lo[e]) / (hi[e] - lo[e]);
            if (k) sizes[G2++] = k;
            n += k;
        }
        agg_n[a] = (int)n;
        agg_mean[a] = lc_stats_mean(norm, n);
        agg_iqm[a] = (lc_ci){NAN, NAN, NAN};
        double *pf = prof + (size_t)a * PROFILE_M * 3;
        for (int m = 0; m < PROFILE_M; m++) pf[m] = pf[PROFILE_M + m] = pf[2 * PROFILE_M + m] = NAN;
        if (!n) continue;
        lc_stats_bootstrap(norm, sizes, G2, LC_STAT_IQM, cfg->resamples, cfg->conf, 0x616767ULL,
                           &agg_iqm[a], NULL);
        for (int m = 0; m < PROFILE_M; m++) {
            lc_ci ci;
            if (lc_stats_bootstrap_fn(norm, sizes, G2, lc_stat_frac_above, &taus[m],
                                      cfg->resamples, cfg->conf, 0x70726fULL, &ci, NULL) == LC_OK) {
                pf[m] = ci.point;
                pf[PROFILE_M + m] = ci.lo;
                pf[2 * PROFILE_M + m] = ci.hi;
            }
        }
    }

    // Pictures: one learning-curve plot per env, the profile.
    for (int e = 0; e < E; e++) {
        lc_series ser[LC_BENCH_MAX_ARCHS];
        int ns = 0;
        for (int a = 0; a < A; a++) {
            const cell *c = &cells[e * A + a];
            if (!c->compat || !c->n_ok) continue;
            ser[ns++] = (lc_series){cfg->archs[a], gx, c->gmean, c->glo, c->ghi, G};
        }
        char stem[512], title[600];
        lc_bench_run_stem(stem, sizeof stem, cfg->envs[e], "x", 0);
        stem[strlen(stem) - strlen("__x__seed0")] = '\0';
        snprintf(path, sizeof path, "%s/curves_%s.png", cfg->out_dir, stem);
        snprintf(title, sizeof title, "%.200s: training return, mean of %d seeds, %.0f%% CI",
                 cfg->envs[e], S, cfg->conf * 100);
        if ((rc = lc_plot_png(path, title, "env steps", "return (last 10 episodes)", ser, ns,
                              PLOT_W, PLOT_H, err)))
            goto done;
        wrote(cfg, path);
    }
    {
        lc_series ser[LC_BENCH_MAX_ARCHS];
        int ns = 0;
        for (int a = 0; a < A; a++) {
            if (!agg_n[a]) continue;
            double *pf = prof + (size_t)a * PROFILE_M * 3;
            ser[ns++] = (lc_series){cfg->archs[a], taus, pf, pf + PROFILE_M, pf + 2 * PROFILE_M,
                                    PROFILE_M};
        }
        snprintf(path, sizeof path, "%s/profile.png", cfg->out_dir);
        if ((rc = lc_plot_png(path, "Performance profile (final return, normalised per env)",
                              "normalised score tau", "fraction of runs with score > tau", ser, ns,
                              PLOT_W, PLOT_H, err)))
            goto done;
        wrote(cfg, path);
    }

    // summary.md
    char b1[96], b2[96], b3[96], b4[96];
    lc_sbuf_printf(&md, "# Architecture benchmark\n\n");
    lc_sbuf_printf(&md,
              "%d seeds x %lld env steps per run (PPO, the env family's CleanRL defaults, only "
              "the architecture changes); final return = mean of %d deterministic evaluation "
              "episodes after training. IQM = interquartile mean over seeds; [lo, hi] = %.0f%% "
              "percentile bootstrap interval (%d resamples). AUC = mean training return over the "
              "run (area under the learning curve / steps); the learning curve is the mean return "
              "of the last 10 training episodes (sampling actions). Steps to threshold = "
              "median over seeds of the first step at which the learning curve reached the "
              "threshold (default: the middle of the env's return range; a run that never "
              "reached it counts as infinite), with the number of seeds that reached it.\n\n",
              S, (long long)cfg->steps, cfg->eval_episodes, cfg->conf * 100, cfg->resamples);
    for (int e = 0; e < E; e++) {
        const char *real = pr->real_env[e];
        double thr = NAN;
        for (int a = 0; a < A; a++)
            if (cells[e * A + a].compat) thr = cells[e * A + a].thr;
        lc_sbuf_printf(&md, "## %s\n\n", cfg->envs[e]);
        if (real[0])
            lc_sbuf_printf(&md, "A dream of %s: returns in the dream and, for the same policies, in "
                           "the real env.\n\n", real);
        lc_sbuf_printf(&md, "| arch | params | runs | final mean +- std | final IQM [CI] |%s AUC [CI] | "
                       "steps to %s | train s | steps/s |\n",
                  real[0] ? " real mean | real IQM [CI] |" : "",
                  isnan(thr) ? "threshold" : (snprintf(b4, sizeof b4, "%g", thr), b4));
        lc_sbuf_printf(&md, "| --- | ---: | ---: | ---: | ---: |%s ---: | ---: | ---: | ---: |\n",
                  real[0] ? " ---: | ---: |" : "");
        for (int a = 0; a < A; a++) {
            const cell *c = &cells[e * A + a];
            if (!c->compat) continue;
            fmt_num(b1, sizeof b1, c->fin_mean);
            fmt_num(b2, sizeof b2, c->fin_std);
            lc_sbuf_printf(&md, "| %s | %lld | %d/%d | %s +- %s | ", cfg->archs[a], (long long)c->nparams,
                      c->n_ok, S, b1, b2);
            fmt_ci(b1, sizeof b1, c->fin_iqm);
            lc_sbuf_printf(&md, "%s | ", b1);
            if (real[0]) {
                fmt_num(b1, sizeof b1, c->real_mean);
                fmt_ci(b2, sizeof b2, c->real_iqm);
                lc_sbuf_printf(&md, "%s | %s | ", b1, b2);
            }
            fmt_ci(b1, sizeof b1, c->auc);
            if (isnan(c->thr) || !c->n_ok) snprintf(b2, sizeof b2, "-");
            else if (isinf(c->st_median))
                snprintf(b2, sizeof b2, "not reached (%d/%d)", c->st_reached, c->n_ok);
            else {
                fmt_steps(b3, sizeof b3, c->st_median);
                snprintf(b2, sizeof b2, "%.40s (%d/%d)", b3, c->st_reached, c->n_ok);
            }
            fmt_num(b3, sizeof b3, c->wall_mean);
            fmt_steps(b4, sizeof b4, c->sps_mean);
            lc_sbuf_printf(&md, "%s | %s | %s | %s |\n", b1, b2, b3, b4);
        }
        snprintf(b1, sizeof b1, "curves_");
        char stem[512];
        lc_bench_run_stem(stem, sizeof stem, cfg->envs[e], "x", 0);
        stem[strlen(stem) - strlen("__x__seed0")] = '\0';
        lc_sbuf_printf(&md, "\n![learning curves](curves_%s.png)\n\n", stem);
    }
    lc_sbuf_printf(&md, "## All envs\n\nFinal returns normalised per env to [0, 1] (dream: envs by "
                   "their real-env return); IQM with a stratified bootstrap over envs.\n\n");
    lc_sbuf_printf(&md, "| arch | runs | normalised mean | normalised IQM [CI] |\n"
                   "| --- | ---: | ---: | ---: |\n");
    for (int a = 0; a < A; a++) {
        if (!agg_n[a]) {
            int any = 0;
            for (int e = 0; e < E; e++) any |= cells[e * A + a].compat;
            if (any) lc_sbuf_printf(&md, "| %s | 0 | - | - |\n", cfg->archs[a]);
            continue;
        }
        lc_sbuf_printf(&md, "| %s | %d | %.3f | %.3f [%.3f, %.3f] |\n", cfg->archs[a], agg_n[a],
                  agg_mean[a], agg_iqm[a].point, agg_iqm[a].lo, agg_iqm[a].hi);
    }
    lc_sbuf_printf(&md, "\nRanges: ");
    for (int e = 0; e < E; e++)
        lc_sbuf_printf(&md, "%s%s [%g, %g]%s", e ? ", " : "", cfg->envs[e], lo[e], hi[e],
                  range_src[e] ? "" : " (from the runs)");
    lc_sbuf_printf(&md, ".\n\n![performance profile](profile.png)\n");
    int any_skip = 0;
    for (int e = 0; e < E; e++)
        for (int a = 0; a < A; a++) {
            if (cells[e * A + a].compat) continue;
            if (!any_skip++) lc_sbuf_printf(&md, "\n## Left out\n\n");
            lc_sbuf_printf(&md, "- %s on %s: %s\n", cfg->archs[a], cfg->envs[e], pr->reason[e][a]);
        }
    int any_bad = 0;
    for (int e = 0; e < E; e++)
        for (int a = 0; a < A; a++) {
            const cell *c = &cells[e * A + a];
            if (!c->n_failed && !c->n_missing) continue;
            if (!any_bad++) lc_sbuf_printf(&md, "\n## Incomplete\n\n");
            lc_sbuf_printf(&md, "- %s on %s: %d failed, %d not run yet%s\n", cfg->archs[a],
                      cfg->envs[e], c->n_failed, c->n_missing,
                      c->n_failed ? " (errors in summary.json and runs/*.err)" : "");
        }

    // summary.json
    lc_sbuf_printf(&js, "{\n  \"grid\": {\"archs\": [");
    for (int a = 0; a < A; a++) {
        if (a) lc_sbuf_printf(&js, ", ");
        lc_json_str(&js, cfg->archs[a]);
    }
    lc_sbuf_printf(&js, "], \"envs\": [");
    for (int e = 0; e < E; e++) {
        if (e) lc_sbuf_printf(&js, ", ");
        lc_json_str(&js, cfg->envs[e]);
    }
    lc_sbuf_printf(&js, "], \"seeds\": %d, \"seed0\": %lld, \"steps\": %lld, \"eval_episodes\": %d, "
                   "\"resamples\": %d, \"conf\": %g},\n  \"cells\": [",
              S, (long long)cfg->seed0, (long long)cfg->steps, cfg->eval_episodes, cfg->resamples,
              cfg->conf);
    int first = 1;
    for (int e = 0; e < E; e++)
        for (int a = 0; a < A; a++) {
            const cell *c = &cells[e * A + a];
            if (!c->compat) continue;
            lc_sbuf_printf(&js, "%s\n    {\"env\": ", first ? "" : ",");
            first = 0;
            lc_json_str(&js, cfg->envs[e]);
            lc_sbuf_printf(&js, ", \"arch\": ");
            lc_json_str(&js, cfg->archs[a]);
            lc_sbuf_printf(&js, ", \"real_env\": ");
            lc_json_str(&js, pr->real_env[e]);
            lc_sbuf_printf(&js, ", \"runs\": %d, \"failed\": %d, \"missing\": %d, \"nparams\": %lld,\n     ",
                      c->n_ok, c->n_failed, c->n_missing, (long long)c->nparams);
            lc_sbuf_printf(&js, "\"final_mean\": ");
            lc_json_num(&js, c->fin_mean);
            lc_sbuf_printf(&js, ", \"final_std\": ");
            lc_json_num(&js, c->fin_std);
            lc_sbuf_printf(&js, ", ");
            json_ci(&js, "final_iqm", c->fin_iqm);
            lc_sbuf_printf(&js, ", \"final_mean_lo\": ");
            lc_json_num(&js, c->fin_ci_mean.lo);
            lc_sbuf_printf(&js, ", \"final_mean_hi\": ");
            lc_json_num(&js, c->fin_ci_mean.hi);
            lc_sbuf_printf(&js, ",\n     \"real_mean\": ");
            lc_json_num(&js, c->real_mean);
            lc_sbuf_printf(&js, ", ");
            json_ci(&js, "real_iqm", c->real_iqm);
            lc_sbuf_printf(&js, ", ");
            json_ci(&js, "auc", c->auc);
            lc_sbuf_printf(&js, ",\n     \"threshold\": ");
            lc_json_num(&js, c->thr);
            lc_sbuf_printf(&js, ", \"steps_to_threshold_median\": ");
            lc_json_num(&js, c->st_median);
            lc_sbuf_printf(&js, ", \"threshold_reached\": %d, \"wall_s\": ", c->st_reached);
            lc_json_num(&js, c->wall_mean);
            lc_sbuf_printf(&js, ", \"sps\": ");
            lc_json_num(&js, c->sps_mean);
            lc_sbuf_printf(&js, ",\n     \"seeds\": [");
            for (int s = 0; s < c->n_ok; s++)
                lc_sbuf_printf(&js, "%s%lld", s ? ", " : "", (long long)c->seeds[s]);
            lc_sbuf_printf(&js, "], \"final_returns\": ");
            lc_json_nums(&js, c->finals, (size_t)c->n_ok);
            lc_sbuf_printf(&js, ", \"scores\": ");
            lc_json_nums(&js, c->scores, (size_t)c->n_ok);
            lc_sbuf_printf(&js, ",\n     \"curve\": {\"steps\": ");
            lc_json_nums(&js, gx, (size_t)G);
            lc_sbuf_printf(&js, ",\n       \"mean\": ");
            lc_json_nums(&js, c->gmean, (size_t)G);
            lc_sbuf_printf(&js, ",\n       \"lo\": ");
            lc_json_nums(&js, c->glo, (size_t)G);
            lc_sbuf_printf(&js, ",\n       \"hi\": ");
            lc_json_nums(&js, c->ghi, (size_t)G);
            lc_sbuf_printf(&js, "}}");
        }
    lc_sbuf_printf(&js, "\n  ],\n  \"ranges\": [");
    for (int e = 0; e < E; e++) {
        lc_sbuf_printf(&js, "%s{\"env\": ", e ? ", " : "");
        lc_json_str(&js, cfg->envs[e]);
        lc_sbuf_printf(&js, ", \"lo\": ");
        lc_json_num(&js, lo[e]);
        lc_sbuf_printf(&js, ", \"hi\": ");
        lc_json_num(&js, hi[e]);
        lc_sbuf_printf(&js, ", \"source\": \"%s\"}", range_src[e] ? "builtin" : "runs");
    }
    lc_sbuf_printf(&js, "],\n  \"aggregate\": [");
    for (int a = 0; a < A; a++) {
        lc_sbuf_printf(&js, "%s\n    {\"arch\": ", a ? "," : "");
        lc_json_str(&js, cfg->archs[a]);
        lc_sbuf_printf(&js, ", \"runs\": %d, \"normalised_mean\": ", agg_n[a]);
        lc_json_num(&js, agg_mean[a]);
        lc_sbuf_printf(&js, ", ");
        json_ci(&js, "normalised_iqm", agg_iqm[a]);
        lc_sbuf_printf(&js, "}");
    }
    lc_sbuf_printf(&js, "\n  ],\n  \"profile\": {\"taus\": ");
    lc_json_nums(&js, taus, PROFILE_M);
    lc_sbuf_printf(&js, ", \"archs\": [");
    for (int a = 0; a < A; a++) {
        double *pf = prof + (size_t)a * PROFILE_M * 3;
        lc_sbuf_printf(&js, "%s\n    {\"arch\": ", a ? "," : "");
        lc_json_str(&js, cfg->archs[a]);
        lc_sbuf_printf(&js, ", \"frac\": ");
        lc_json_nums(&js, pf, PROFILE_M);
        lc_sbuf_printf(&js, ",\n     \"lo\": ");
        lc_json_nums(&js, pf + PROFILE_M, PROFILE_M);
        lc_sbuf_printf(&js, ",\n     \"hi\": ");
        lc_json_nums(&js, pf + 2 * PROFILE_M, PROFILE_M);
        lc_sbuf_printf(&js, "}");
    }
    lc_sbuf_printf(&js, "\n  ]},\n  \"skipped\": [");
    first = 1;
    for (int e = 0; e < E; e++)
        for (int a = 0; a < A; a++) {
            if (cells[e * A + a].compat) continue;
            lc_sbuf_printf(&js, "%s\n    {\"env\": ", first ? "" : ",");
            first = 0;
            lc_json_str(&js, cfg->envs[e]);
            lc_sbuf_printf(&js, ", \"arch\": ");
            lc_json_str(&js, cfg->archs[a]);
            lc_sbuf_printf(&js, ", \"reason\": ");
            lc_json_str(&js, pr->reason[e][a]);
            lc_sbuf_printf(&js, "}");
        }
    lc_sbuf_printf(&js, "],\n  \"failed\": [%s%s]\n}\n", failed.n ? "\n    " : "",
              failed.s ? failed.s : "");
    if (md.oom || js.oom || failed.oom) {
        rc = lc_fail(err, LC_ERR_NOMEM, "bench: out of memory for the summary");
        goto done;
    }
    snprintf(path, sizeof path, "%s/summary.md", cfg->out_dir);
    if ((rc = write_atomic(path, md.s, md.n, err))) goto done;
    wrote(cfg, path);
    snprintf(path, sizeof path, "%s/summary.json", cfg->out_dir);
    if ((rc = write_atomic(path, js.s, js.n, err))) goto done;
    wrote(cfg, path);
done:
    if (cells)
        for (int i = 0; i < E * A; i++) cell_free(&cells[i]);
    free(cells), free(gx), free(lo), free(hi), free(range_src), free(norm), free(sizes);
    free(prof), free(agg_iqm), free(agg_mean), free(agg_n);
    lc_sbuf_free(&md), lc_sbuf_free(&js), lc_sbuf_free(&failed);
    free(pr);
    return rc;
}

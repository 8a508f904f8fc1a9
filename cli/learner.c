// cli/learner.c: `lucid learner`: a distributed PPO learner that workers (`lucid
// worker`) connect to (agents/learner.h, docs/PROTOCOL.md), with an evaluation in
// the real env at the end. Leaves out: a live dashboard (use --json and lucid plot).
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "agents/learner.h"
#include "agents/net.h"
#include "cli/cli.h"
#include "core/progress.h"

static atomic_int learner_stop;

typedef struct show {
    int json;
    double last;
} show;

static void json_num(const char *key, double v, int comma) {
    if (isfinite(v)) printf("\"%s\": %.6g%s", key, v, comma ? ", " : "");
    else printf("\"%s\": null%s", key, comma ? ", " : "");
}

static int on_update(void *ctx, const lc_learner_stats *st) {
    show *s = ctx;
    if (s->json) {
        printf("{\"event\": \"update\", ");
        json_num("step", (double)st->global_step, 1);
        json_num("version", (double)st->version, 1);
        json_num("workers", st->workers_live, 1);
        json_num("return", st->episode_return, 1);
        json_num("length", st->episode_length, 1);
        json_num("policy_loss", st->ppo.policy_loss, 1);
        json_num("value_loss", st->ppo.value_loss, 1);
        json_num("entropy", st->ppo.entropy, 1);
        json_num("approx_kl", st->ppo.approx_kl, 1);
        json_num("stale", (double)st->segments_stale, 1);
        json_num("bad", (double)st->segments_bad, 1);
        json_num("malformed", (double)st->malformed, 1);
        json_num("lost", (double)st->workers_lost, 1);
        json_num("sps", st->sps, 0);
        printf("}\n");
        fflush(stdout);
        return 0;
    }
    double now = lc_now();
    if (now - s->last < 2.0) return 0;
    s->last = now;
    printf("step %9lld  v%-5lld workers %-3d return %7.1f  kl %.4f  stale %lld  sps %.0f\n",
           (long long)st->global_step, (long long)st->version, st->workers_live,
           st->episode_return, st->ppo.approx_kl, (long long)st->segments_stale, st->sps);
    fflush(stdout);
    return 0;
}

int cmd_learner(int argc, char **argv) {
    const char *bind = "tcp://127.0.0.1:5555", *env = NULL, *params = NULL, *mode = "sync";
    const char *out = NULL, *resume = NULL, *secret_file = NULL, *allow = NULL, *hidden = NULL;
    int64_t steps = 0;
    int max_lag = 1, json = 0, pub = 0, worker_envs = 0, every = 10, quiet = 0;
    int eval_eps = 20, max_ep = 0, min_workers = 1;
    float hb = 1.0f, timeout = 10.0f;
    lc_error err = {0};
    lc_learner_cfg cfg = lc_learner_cfg_default();
    // PPO's defaults follow the env's family: find --env before parsing the rest.
    env = cli_peek(argc, argv, "env");
    if (env && lc_ppo_cfg_for_env(&cfg.ppo, &cfg.pcfg, env, &err)) {
        fprintf(stderr, "lucid learner: %s\n", err.msg);
        return 1;
    }
    cli_opt opts[96] = {
        {"bind", CLI_STR, &bind, "endpoint workers connect to"},
        {"env", CLI_STR, &env, "env to train on (dream:FILE ships FILE to the workers)"},
        {"env-params", CLI_STR, &params, "backend options for the env (k=v,k=v)"},
        {"max-episode-steps", CLI_INT, &max_ep, "time limit override (0 = the env's)"},
        {"steps", CLI_I64, &steps, "env steps to train for (0 = the PPO default for the env)"},
        {"mode", CLI_STR, &mode, "sync (one update per round of segments) or async"},
        {"max-lag", CLI_INT, &max_lag, "async: oldest weights version accepted, in updates"},
        {"worker-envs", CLI_INT, &worker_envs, "envs per worker unless it says (0 = PPO num_envs)"},
        {"min-workers", CLI_INT, &min_workers, "workers to wait for before the first update"},
        {"hidden", CLI_STR, &hidden, "policy hidden widths, e.g. 64,64"},
        {"out", CLI_STR, &out, "checkpoint and final policy file"},
        {"checkpoint-every", CLI_INT, &every, "updates between checkpoints to --out (0 = end only)"},
        {"resume", CLI_STR, &resume, "continue from this checkpoint"},
        {"heartbeat", CLI_FLOAT, &hb, "heartbeat interval in seconds"},
        {"timeout", CLI_FLOAT, &timeout, "seconds of silence after which a worker is dead"},
        {"eval-episodes", CLI_INT, &eval_eps, "episodes of the final evaluation (0 = none)"},
        {"public", CLI_FLAG, &pub, "allow an endpoint reachable from other machines"},
        {"curve-server-secret", CLI_STR, &secret_file, "CURVE: the learner's secret key file"},
        {"curve-allow", CLI_STR, &allow, "CURVE: file of worker public keys allowed in"},
        {"json", CLI_FLAG, &json, "print one JSON object per update and a summary"},
        {"quiet", CLI_FLAG, &quiet, "log nothing but errors"},
    };
    int nopts = 0;
    while (nopts < CLI_COUNT(opts) && opts[nopts].name) nopts++;
    // Every PPO setting from its table (--lr, --num-steps, --clip-coef, ...); the
    // learner's own options cover the rest.
    static const char *const not_opts[] = {"total_steps", "num_envs", "num_threads", "normalize_obs",
                                           "clip_obs", "checkpoint_every", NULL};
    cli_table ppo = {lc_ppo_settings(), &cfg.ppo};
    nopts = cli_settings_opts(opts, nopts, CLI_COUNT(opts), &ppo, not_opts);
    int rc = cli_parse(argc, argv, opts, nopts,
                       "usage: lucid learner --env ENV [--bind tcp://127.0.0.1:5555] [--steps N] "
                       "[--mode sync|async] [--max-lag K] [--out policy.lucid] "
                       "[--curve-server-secret FILE [--curve-allow FILE]] [--json] [PPO options]",
                       NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    if (!env) {
        fprintf(stderr, "lucid learner: --env is required\n");
        return 2;
    }
    if (strcmp(mode, "sync") != 0 && strcmp(mode, "async") != 0) {
        fprintf(stderr, "lucid learner: --mode must be sync or async\n");
        return 2;
    }
    if (steps < 0 || max_lag < 0 || worker_envs < 0 || every < 0 || eval_eps < 0 || min_workers < 0 ||
        !(hb > 0) || !(timeout > hb)) {
        fprintf(stderr, "lucid learner: counts must be >= 0 and --timeout > --heartbeat > 0\n");
        return 2;
    }
    if (allow && !secret_file) {
        fprintf(stderr, "lucid learner: --curve-allow needs --curve-server-secret\n");
        return 2;
    }
    if (hidden && lc_policy_cfg_parse_hidden(&cfg.pcfg, hidden, &err)) {
        fprintf(stderr, "lucid learner: %s\n", err.msg);
        return 2;
    }
    char secret[LC_CURVE_KEY_LEN + 1];
    if (cli_curve_server_key("learner", secret_file, allow, quiet, "worker", "learner", secret)) return 1;
    if (steps) cfg.ppo.total_steps = steps;
    cfg.bind = bind;
    cfg.allow_public = pub;
    cfg.env_name = env;
    cfg.env_params = params;
    cfg.max_episode_steps = max_ep;
    cfg.sync = strcmp(mode, "sync") == 0;
    cfg.max_lag = max_lag;
    cfg.worker_num_envs = worker_envs;
    cfg.min_workers = min_workers;
    cfg.heartbeat_s = hb;
    cfg.worker_timeout_s = timeout;
    cfg.out_path = out;
    cfg.checkpoint_every = every;
    cfg.resume_path = resume;
    cfg.curve_secret = secret_file ? secret : NULL;
    cfg.curve_allow = allow;
    cfg.stop = &learner_stop;
    cfg.log = quiet ? NULL : cli_log_line;
    cfg.log_ctx = (void *)"lucid learner";
    show sh = {json, 0};
    cfg.on_update = on_update;
    cfg.cb_ctx = &sh;
    lc_learner *l = NULL;
    if (lc_learner_new(&l, &cfg, &err)) {
        fprintf(stderr, "lucid learner: %s\n", err.msg);
        return 1;
    }
    cli_stop_on_signals(&learner_stop);
    if (!json) printf("lucid learner: listening on %s\n", lc_learner_endpoint(l));
    fflush(stdout);
    rc = lc_learner_run(l, &err);
    if (rc) fprintf(stderr, "lucid learner: %s\n", err.msg);
    lc_learner_stats st;
    lc_learner_get_stats(l, &st);
    lc_eval_result ev = {0};
    ev.mean = NAN;
    int evaluated = 0;
    if (!rc && eval_eps > 0 && st.global_step >= cfg.ppo.total_steps) {
        lc_env_opts eo = lc_env_opts_default();
        eo.params = params;
        eo.max_episode_steps = max_ep;
        if (lc_evaluate(lc_learner_policy(l), env, &eo, eval_eps, cfg.ppo.seed + 1000, 1, &ev, &err))
            fprintf(stderr, "lucid learner: evaluation: %s\n", err.msg);
        else evaluated = 1;
    }
    if (json) {
        printf("{\"event\": \"summary\", ");
        json_num("step", (double)st.global_step, 1);
        json_num("updates", (double)st.updates, 1);
        json_num("workers_joined", (double)st.workers_joined, 1);
        json_num("workers_lost", (double)st.workers_lost, 1);
        json_num("segments", (double)st.segments, 1);
        json_num("stale", (double)st.segments_stale, 1);
        json_num("bad", (double)st.segments_bad, 1);
        json_num("malformed", (double)st.malformed, 1);
        json_num("auth_denied", (double)st.auth_denied, 1);
        json_num("mb_in", (double)st.bytes_in / 1e6, 1);
        json_num("mb_out", (double)st.bytes_out / 1e6, 1);
        json_num("wall_s", st.wall_s, 1);
        json_num("sps", st.sps, 1);
        json_num("eval_return", evaluated ? ev.mean : NAN, 1);
        json_num("eval_std", evaluated ? ev.std : NAN, 0);
        printf("}\n");
    } else {
        printf("trained %lld steps in %.1f s (%.0f steps/s), %lld updates; workers: %lld joined, "
               "%lld lost; segments: %lld used, %lld stale, %lld bad; %llu malformed messages\n",
               (long long)st.global_step, st.wall_s, st.sps, (long long)st.updates,
               (long long)st.workers_joined, (long long)st.workers_lost, (long long)st.segments,
               (long long)st.segments_stale, (long long)st.segments_bad,
               (unsigned long long)st.malformed);
        if (evaluated)
            printf("evaluation over %d episodes: return %.1f +- %.1f\n", ev.episodes, ev.mean, ev.std);
        if (out) printf("policy written to %s\n", out);
    }
    lc_learner_free(l);
    return rc ? 1 : 0;
}

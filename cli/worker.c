// cli/worker.c: `lucid worker`: a rollout worker for `lucid learner` (agents/worker.h);
// runs until the learner says training is done, or SIGINT/SIGTERM.
// Leaves out: several learners at once (run several workers).
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "agents/net.h"
#include "agents/worker.h"
#include "cli/cli.h"

static atomic_int worker_stop;

int cmd_worker(int argc, char **argv) {
    lc_worker_cfg cfg = lc_worker_cfg_default();
    const char *connect = cfg.connect, *server_key = NULL, *secret_file = NULL, *name = NULL;
    int num_envs = 0, threads = 1, quiet = 0;
    float give_up = 0, timeout = 0, backoff_max = (float)cfg.backoff_max_s;
    cli_opt opts[] = {
        {"connect", CLI_STR, &connect, "the learner's endpoint"},
        {"num-envs", CLI_INT, &num_envs, "envs stepped here (0 = the learner's suggestion)"},
        {"threads", CLI_INT, &threads, "env stepping threads (0 = automatic)"},
        {"name", CLI_STR, &name, "name in the learner's log (default host:pid)"},
        {"timeout", CLI_FLOAT, &timeout, "seconds of learner silence before reconnecting (0 = the learner's)"},
        {"backoff-max", CLI_FLOAT, &backoff_max, "longest wait between reconnects, seconds"},
        {"give-up", CLI_FLOAT, &give_up, "exit after this many seconds without the learner (0 = never)"},
        {"curve-server-key", CLI_STR, &server_key, "CURVE: the learner's public key file"},
        {"curve-secret", CLI_STR, &secret_file, "CURVE: this worker's secret key file"},
        {"quiet", CLI_FLAG, &quiet, "log nothing but errors"},
    };
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts),
                       "usage: lucid worker --connect tcp://HOST:5555 [--num-envs K] "
                       "[--curve-server-key FILE --curve-secret FILE]",
                       NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    if (num_envs < 0 || threads < 0 || give_up < 0 || timeout < 0 || !(backoff_max > 0)) {
        fprintf(stderr, "lucid worker: counts and times must not be negative\n");
        return 2;
    }
    if (!server_key != !secret_file) {
        fprintf(stderr, "lucid worker: CURVE needs both --curve-server-key and --curve-secret\n");
        return 2;
    }
    lc_error err = {0};
    char spub[LC_CURVE_KEY_LEN + 1], sec[LC_CURVE_KEY_LEN + 1];
    if (server_key && (lc_curve_read_key(server_key, spub, &err) ||
                       lc_curve_read_key(secret_file, sec, &err))) {
        fprintf(stderr, "lucid worker: %s\n", err.msg);
        return 1;
    }
    cfg.connect = connect;
    cfg.num_envs = num_envs;
    cfg.num_threads = threads;
    cfg.name = name;
    cfg.timeout_s = timeout;
    cfg.backoff_max_s = backoff_max;
    cfg.give_up_s = give_up;
    cfg.curve_server_public = server_key ? spub : NULL;
    cfg.curve_secret = server_key ? sec : NULL;
    cfg.stop = &worker_stop;
    cfg.log = quiet ? NULL : cli_log_line;
    cfg.log_ctx = (void *)"lucid worker";
    cli_stop_on_signals(&worker_stop);
    lc_worker_stats st;
    rc = lc_worker_run(&cfg, &st, &err);
    if (rc) fprintf(stderr, "lucid worker: %s\n", err.msg);
    if (!quiet)
        fprintf(stderr, "lucid worker: %lld segments, %lld env steps, %lld weights, %lld reconnects\n",
                (long long)st.segments, (long long)st.steps, (long long)st.weights,
                (long long)st.reconnects);
    return rc ? 1 : 0;
}

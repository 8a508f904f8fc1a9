// cli/serve.c: `lucid serve`: serves lucid envs to remote clients over ZeroMQ
// (agents/server.h; docs/PROTOCOL.md; a Python client in examples/python).
// Leaves out: daemonising, TLS other than CURVE.
#include <stdatomic.h>
#include <stdio.h>

#include "agents/net.h"
#include "agents/server.h"
#include "cli/cli.h"

static atomic_int serve_stop;

int cmd_serve(int argc, char **argv) {
    lc_server_cfg cfg = lc_server_cfg_default();
    const char *env = NULL, *bind = cfg.bind, *secret_file = NULL, *allow = NULL;
    int num_envs = 1, max_clients = cfg.max_clients, max_envs = cfg.max_num_envs, pub = 0;
    int threads = 1, quiet = 0;
    float idle = (float)cfg.idle_timeout_s;
    cli_opt opts[] = {
        {"env", CLI_STR, &env, "default env for clients that name none (the only dream: env allowed)"},
        {"bind", CLI_STR, &bind, "endpoint to bind (port * picks a free one)"},
        {"num-envs", CLI_INT, &num_envs, "copies per client when make does not say"},
        {"max-clients", CLI_INT, &max_clients, "clients holding an env at once"},
        {"max-envs", CLI_INT, &max_envs, "cap on one client's num_envs"},
        {"threads", CLI_INT, &threads, "env stepping threads per client (0 = automatic)"},
        {"idle-timeout", CLI_FLOAT, &idle, "seconds after which a silent client's env is closed"},
        {"public", CLI_FLAG, &pub, "allow an endpoint reachable from other machines"},
        {"curve-server-secret", CLI_STR, &secret_file, "CURVE: this server's secret key file (lucid keygen)"},
        {"curve-allow", CLI_STR, &allow, "CURVE: file of client public keys allowed in"},
        {"quiet", CLI_FLAG, &quiet, "log nothing but errors"},
    };
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts),
                       "usage: lucid serve [--env ENV] [--bind tcp://127.0.0.1:5556] [--num-envs N] "
                       "[--public] [--curve-server-secret FILE [--curve-allow FILE]]",
                       NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    if (num_envs < 1 || max_clients < 1 || max_envs < num_envs || threads < 0 || !(idle > 0)) {
        fprintf(stderr, "lucid serve: --num-envs, --max-clients, --max-envs, --idle-timeout must "
                        "be positive (and --max-envs >= --num-envs)\n");
        return 2;
    }
    if (allow && !secret_file) {
        fprintf(stderr, "lucid serve: --curve-allow needs --curve-server-secret\n");
        return 2;
    }
    lc_error err = {0};
    char secret[LC_CURVE_KEY_LEN + 1];
    if (cli_curve_server_key("serve", secret_file, allow, quiet, "client", "server", secret)) return 1;
    cfg.bind = bind;
    cfg.allow_public = pub;
    cfg.default_env = env;
    cfg.default_num_envs = num_envs;
    cfg.max_clients = max_clients;
    cfg.max_num_envs = max_envs;
    cfg.num_threads = threads;
    cfg.idle_timeout_s = idle;
    cfg.curve_secret = secret_file ? secret : NULL;
    cfg.curve_allow = allow;
    cfg.stop = &serve_stop;
    cfg.log = quiet ? NULL : cli_log_line;
    cfg.log_ctx = (void *)"lucid serve";
    lc_server *s = NULL;
    if (lc_server_new(&s, &cfg, &err)) {
        fprintf(stderr, "lucid serve: %s\n", err.msg);
        return 1;
    }
    cli_stop_on_signals(&serve_stop);
    printf("lucid serve: listening on %s\n", lc_server_endpoint(s));
    fflush(stdout);
    rc = lc_server_run(s, &err);
    if (rc) fprintf(stderr, "lucid serve: %s\n", err.msg);
    lc_server_free(s);
    return rc ? 1 : 0;
}

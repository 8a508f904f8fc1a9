// cli/verbs.c: setup that several verbs share beyond option parsing (see cli.h):
// stopping on signals, log lines, a CURVE server's key, making an env.
// Leaves out: anything a single verb alone does (that stays in its own file).
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "agents/net.h"
#include "cli/cli.h"
#include "env/env.h"

static atomic_int *stop_flag; // set before the handlers go in, only read by them

static void on_signal(int sig) {
    (void)sig;
    atomic_store(stop_flag, 1);
}

void cli_stop_on_signals(atomic_int *stop) {
    stop_flag = stop;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void cli_log_line(void *ctx, const char *line) {
    fprintf(stderr, "%s: %s\n", (const char *)ctx, line);
}

int cli_curve_server_key(const char *verb, const char *secret_file, const char *allow, int quiet,
                         const char *peer, const char *self, char *secret) {
    if (!secret_file) return 0;
    lc_error err = {0};
    if (lc_curve_read_key(secret_file, secret, &err)) {
        fprintf(stderr, "lucid %s: %s\n", verb, err.msg);
        return 1;
    }
    if (!allow && !quiet)
        fprintf(stderr, "lucid %s: warning: CURVE without --curve-allow admits any %s that knows "
                        "the %s's public key\n", verb, peer, self);
    return 0;
}

int cli_make_env_opts(struct lc_env **env, const char *verb, const char *name,
                      const lc_env_opts *o) {
    lc_error err = {0};
    if (lc_env_make(env, name, o, &err) != LC_OK) {
        fprintf(stderr, "lucid %s: %s\n", verb, err.msg);
        return 1;
    }
    return 0;
}

int cli_make_env(struct lc_env **env, const char *verb, const char *name, int num_envs) {
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = num_envs;
    return cli_make_env_opts(env, verb, name, &o);
}

int cli_env_resize(lc_env_opts *o, const char *verb, const char *spec) {
    if (!spec) return 0;
    if (!strcmp(spec, "none") || !strcmp(spec, "0")) {
        o->resize_h = o->resize_w = 0;
        return 0;
    }
    int h = 0, w = 0, used = 0;
    if (sscanf(spec, "%dx%d%n", &h, &w, &used) != 2 || spec[used] != 0 || h < 1 || w < 1 ||
        h > 4096 || w > 4096) {
        fprintf(stderr, "lucid %s: --resize '%s': give HxW (e.g. 64x64, each side 1..4096) or none\n",
                verb, spec);
        return 2;
    }
    o->resize_h = h, o->resize_w = w;
    return 0;
}

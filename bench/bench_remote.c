// bench/bench_remote.c: a remote:ENDPOINT env (agents/remote.c) stepping CartPole-v1
// served by lucid's env server in a thread on loopback, in env steps/s for 1, 16 and 256
// envs, beside the same vector stepped in this process. Median over 5 blocks of 1 s
// (min, max). Leaves out: Gymnasium servers (lucid.serve_gym: Python's own stepping
// dominates), real networks.
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/remote.h"
#include "agents/server.h"
#include "bench/bench_util.h"
#include "core/rng.h"
#include "env/env.h"
#include "loops/init.h"

#define REPEATS 5
#define BLOCK_S 1.0

static void die(const char *what, const lc_error *err) {
    fprintf(stderr, "bench_remote: %s: %s\n", what, err->msg);
    exit(1);
}

static void *server_main(void *arg) {
    lc_error err = {0};
    if (lc_server_run(arg, &err)) die("server", &err);
    return NULL;
}

// env steps/s of name with N envs: REPEATS blocks of BLOCK_S seconds.
static bench_stat rate(const char *name, int N) {
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = N;
    lc_env *e = NULL;
    lc_error err = {0};
    if (lc_env_make(&e, name, &o, &err) || lc_env_reset(e, 1, &err)) die(name, &err);
    int32_t *a = malloc((size_t)N * sizeof *a);
    lc_rng rng;
    lc_rng_seed(&rng, 2, 0);
    double r[REPEATS];
    for (int k = 0; k < REPEATS; k++) {
        long steps = 0;
        double t0 = bench_now(), t;
        do {
            for (int i = 0; i < N; i++) a[i] = (int32_t)(lc_rng_u64(&rng) & 1);
            if (lc_env_step(e, a, &err)) die(name, &err);
            steps += N;
        } while ((t = bench_now() - t0) < BLOCK_S);
        r[k] = steps / t;
    }
    free(a);
    lc_env_free(e);
    return bench_stat_of(r, REPEATS);
}

int main(void) {
    lc_init();
    lc_remote_register();
    atomic_int stop;
    atomic_init(&stop, 0);
    lc_server_cfg cfg = lc_server_cfg_default();
    cfg.bind = "tcp://127.0.0.1:*";
    cfg.default_env = "CartPole-v1";
    cfg.stop = &stop;
    lc_server *s = NULL;
    lc_error err = {0};
    if (lc_server_new(&s, &cfg, &err)) die("server", &err);
    char name[300];
    snprintf(name, sizeof name, "remote:%s", lc_server_endpoint(s));
    pthread_t th;
    if (pthread_create(&th, NULL, server_main, s) != 0) return 1;
    printf("remote:ENDPOINT CartPole-v1 over loopback (lucid serve in a thread) vs in-process, "
           "env steps/s, median [min-max] of %d x %.0f s\n", REPEATS, BLOCK_S);
    printf("%6s  %28s  %28s  %8s\n", "envs", "remote", "in-process", "ratio");
    int Ns[] = {1, 16, 256};
    for (int k = 0; k < 3; k++) {
        bench_stat r = rate(name, Ns[k]), l = rate("CartPole-v1", Ns[k]);
        char b1[64], b2[64];
        printf("%6d  %28s  %28s  %7.1fx\n", Ns[k], bench_fmt(b1, sizeof b1, r, 1, 0),
               bench_fmt(b2, sizeof b2, l, 1, 0), l.med / r.med);
        fflush(stdout);
    }
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    lc_server_free(s);
    return 0;
}

// bench/bench_serve.c: the env server's throughput on loopback: CartPole-v1 env steps/s
// served to 1, 8 and 64 concurrent clients (each a DEALER in lock step: one step
// request, one transition reply, 8 envs per client), beside the same envs stepped in
// this process. Median over 5 repeats of 2 s (min, max). Leaves out: real networks,
// pixel envs (bigger frames), CURVE.
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "agents/net.h"
#include "agents/proto.h"
#include "agents/server.h"
#include "env/env.h"

#define ENVS 8
#define REPEATS 5
#define RUN_S 2.0

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, const lc_error *err) {
    fprintf(stderr, "bench_serve: %s: %s\n", what, err->msg);
    exit(1);
}

typedef struct client {
    pthread_t th;
    void *ctx;
    const char *ep;
    atomic_int *go, *stop;
    long steps;
    int failed;
} client;

static int ask(void *s, const lc_msg *m, lc_msg *r, lc_frames *f) {
    lc_error err = {0};
    lc_frames_close(f);
    if (lc_net_send(s, NULL, 0, 0, m, NULL, &err)) return -1;
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    int got = 0;
    if (zmq_poll(&it, 1, 10000) <= 0 || lc_net_recv(s, 0, f, &got, &err) || !got) return -1;
    return lc_proto_decode(r, lc_frames_data(f), lc_frames_size(f), 0, NULL, &err) ? -1 : 0;
}

static void *client_main(void *arg) {
    client *c = arg;
    void *s = NULL;
    lc_error err = {0};
    lc_frames f;
    memset(&f, 0, sizeof f);
    lc_msg m = lc_msg_init(LC_MSG_MAKE), r;
    snprintf(m.make.env, sizeof m.make.env, "CartPole-v1");
    m.make.num_envs = ENVS;
    if (lc_net_socket(&s, c->ctx, ZMQ_DEALER, 0, &err) || zmq_connect(s, c->ep) != 0 ||
        ask(s, &m, &r, &f) || r.type != LC_MSG_ENV) {
        c->failed = 1;
        lc_net_close(&s);
        return NULL;
    }
    m = lc_msg_init(LC_MSG_RESET);
    m.reset.has_seed = 1;
    m.reset.seed = 1;
    if (ask(s, &m, &r, &f)) c->failed = 1;
    int32_t a[ENVS] = {0, 1, 0, 1, 1, 0, 1, 0};
    int64_t n = ENVS;
    while (!atomic_load(c->go)) {
    }
    while (!c->failed && !atomic_load(c->stop)) {
        m = lc_msg_init(LC_MSG_STEP);
        m.step.actions = lc_wire_tensor_of(LC_I32, 1, &n, a);
        if (ask(s, &m, &r, &f) || r.type != LC_MSG_TRANSITION) c->failed = 1;
        else c->steps += ENVS;
    }
    m = lc_msg_init(LC_MSG_CLOSE);
    ask(s, &m, &r, &f);
    lc_frames_close(&f);
    lc_net_close(&s);
    return NULL;
}

static double served(const char *ep, int k) {
    static client c[64];
    atomic_int go, stop;
    atomic_init(&go, 0);
    atomic_init(&stop, 0);
    void *ctx = zmq_ctx_new();
    for (int i = 0; i < k; i++) {
        memset(&c[i], 0, sizeof c[i]);
        c[i].ctx = ctx, c[i].ep = ep, c[i].go = &go, c[i].stop = &stop;
        pthread_create(&c[i].th, NULL, client_main, &c[i]);
    }
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL); // makes and resets done
    double t0 = now_s();
    atomic_store(&go, 1);
    while (now_s() - t0 < RUN_S) nanosleep(&(struct timespec){0, 10000000}, NULL);
    atomic_store(&stop, 1);
    double t = now_s() - t0;
    long steps = 0;
    for (int i = 0; i < k; i++) {
        pthread_join(c[i].th, NULL);
        if (c[i].failed) fprintf(stderr, "bench_serve: a client failed\n");
        steps += c[i].steps;
    }
    zmq_ctx_term(ctx);
    return (double)steps / t;
}

static double local(void) {
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = ENVS;
    o.num_threads = 1;
    lc_env *env = NULL;
    lc_error err = {0};
    if (lc_env_make(&env, "CartPole-v1", &o, &err) || lc_env_reset(env, 1, &err)) die("local", &err);
    int32_t a[ENVS] = {0, 1, 0, 1, 1, 0, 1, 0};
    long steps = 0;
    double t0 = now_s();
    while (now_s() - t0 < RUN_S)
        for (int i = 0; i < 1000; i++, steps += ENVS) lc_env_step(env, a, &err);
    double t = now_s() - t0;
    lc_env_free(env);
    return (double)steps / t;
}

static void *server_main(void *arg) {
    lc_error err = {0};
    if (lc_server_run(arg, &err)) fprintf(stderr, "bench_serve: server: %s\n", err.msg);
    return NULL;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(void) {
    atomic_int stop;
    atomic_init(&stop, 0);
    lc_server_cfg cfg = lc_server_cfg_default();
    cfg.bind = "tcp://127.0.0.1:*";
    cfg.stop = &stop;
    lc_server *s = NULL;
    lc_error err = {0};
    if (lc_server_new(&s, &cfg, &err)) die("server", &err);
    pthread_t th;
    pthread_create(&th, NULL, server_main, s);
    printf("bench_serve: loopback, CartPole-v1, %d envs per client, lock-step requests; median "
           "of %d x %.0f s (min, max)\n", ENVS, REPEATS, RUN_S);
    double ref[REPEATS];
    for (int r = 0; r < REPEATS; r++) ref[r] = local();
    qsort(ref, REPEATS, sizeof *ref, cmp);
    static const int ks[3] = {1, 8, 64};
    for (int j = 0; j < 3; j++) {
        double v[REPEATS];
        for (int r = 0; r < REPEATS; r++) v[r] = served(lc_server_endpoint(s), ks[j]);
        qsort(v, REPEATS, sizeof *v, cmp);
        printf("  %2d client%s: %9.0f steps/s (%.0f, %.0f) served | %d envs stepped in this process: "
               "%10.0f steps/s (%.0f, %.0f)\n", ks[j], ks[j] == 1 ? " " : "s", v[REPEATS / 2], v[0],
               v[REPEATS - 1], ENVS, ref[REPEATS / 2], ref[0], ref[REPEATS - 1]);
    }
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    lc_server_free(s);
    return 0;
}

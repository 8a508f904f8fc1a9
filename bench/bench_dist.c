// bench/bench_dist.c: the distributed layer on loopback: env steps/s gathered at the
// learner with 1, 2 and 4 workers beside the same envs stepped in one process;
// learner capacity (messages/s, MB/s) with 32 light workers beside the decoder alone;
// time to send 1 MB of weights to every worker beside memcpy and a ping round trip.
// Leaves out: real networks (loopback only), PPO update cost (collect-only learner).
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agents/learner.h"
#include "bench/bench_util.h"
#include "agents/net.h"
#include "agents/proto.h"
#include "agents/worker.h"
#include "env/env.h"
#include "policy/policy.h"
#include "policy/ppo.h"
#include "loops/init.h"

#define ENVS_PER_WORKER 4
#define RUN_S 3.0

static void nap(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static void die(const char *what, const lc_error *err) {
    fprintf(stderr, "bench_dist: %s: %s\n", what, err->msg);
    exit(1);
}

// For a thread that plays a worker: a DEALER socket connected to ep in a context of
// its own (*ctx), which has sent `first`; NULL (nothing left open) when it cannot be had.
static void *dealer_to(const char *ep, const lc_msg *first, void **ctx) {
    void *s = NULL;
    lc_error err = {0};
    *ctx = zmq_ctx_new();
    if (lc_net_socket(&s, *ctx, ZMQ_DEALER, 0, &err) || zmq_connect(s, ep) != 0) {
        lc_net_close(&s);
        zmq_ctx_term(*ctx);
        return NULL;
    }
    lc_net_send(s, NULL, 0, 0, first, NULL, &err);
    return s;
}

// A collect-only learner of CartPole-v1 on a free loopback port (async, lag 3) that
// starts once min_workers have joined.
static lc_learner_cfg collect_only_cfg(int min_workers) {
    lc_learner_cfg cfg = lc_learner_cfg_default();
    lc_error err = {0};
    if (lc_ppo_cfg_for_env(&cfg.ppo, &cfg.pcfg, "CartPole-v1", &err)) die("ppo cfg", &err);
    cfg.bind = "tcp://127.0.0.1:*";
    cfg.env_name = "CartPole-v1";
    cfg.ppo.total_steps = INT64_MAX / 2;
    cfg.sync = 0;
    cfg.max_lag = 3;
    cfg.min_workers = min_workers;
    cfg.skip_update = 1;
    cfg.checkpoint_every = 0;
    return cfg;
}

// A rollout segment of T steps of N CartPole envs (4 floats of obs) whose tensors
// borrow f (T*N*4 floats), a (T*N) and u (T*N bytes); version and worker_id are 0.
static lc_msg segment_of(int T, int N, const float *f, const int32_t *a, const uint8_t *u) {
    int64_t to[3] = {T, N, 4}, ta[3] = {T, N, 1}, tn[2] = {T, N}, n = N;
    lc_msg x = lc_msg_init(LC_MSG_ROLLOUT);
    x.rollout.obs = lc_wire_tensor_of(LC_F32, 3, to, f);
    x.rollout.actions = lc_wire_tensor_of(LC_I32, 3, ta, a);
    x.rollout.logp = x.rollout.values = x.rollout.rewards = x.rollout.final_values =
        lc_wire_tensor_of(LC_F32, 2, tn, f);
    x.rollout.terminated = x.rollout.truncated = x.rollout.starts = lc_wire_tensor_of(LC_U8, 2, tn, u);
    x.rollout.next_value = lc_wire_tensor_of(LC_F32, 1, &n, f);
    x.rollout.next_start = lc_wire_tensor_of(LC_U8, 1, &n, u);
    return x;
}

// ---------------------------------------------------------------- gathering

typedef struct wthread {
    pthread_t th;
    lc_worker_cfg cfg;
    atomic_int stop;
    char ep[256];
    lc_worker_stats st;
    int rc;
    lc_error err;
} wthread;

static void *worker_main(void *arg) {
    wthread *w = arg;
    w->rc = lc_worker_run(&w->cfg, &w->st, &w->err);
    return NULL;
}

#define MAX_MARKS 64

#define WINDOWS 6 // RUN_S is cut into windows of RUN_S / WINDOWS at the learner's updates

// The learner's updates: the steps gathered in each window of >= RUN_S / WINDOWS
// seconds (closed at the first update past it) are a repeat.
typedef struct window {
    double t0, tw;  // start of the run, of the current window
    int64_t sw;     // global step at the start of the current window
    double rate[MAX_MARKS];
    int n;
} window;

static int mark(void *ctx, const lc_learner_stats *st) {
    window *w = ctx;
    double now = lc_net_now();
    if (w->t0 == 0) {
        w->t0 = w->tw = now, w->sw = st->global_step;
    } else if (now - w->tw >= RUN_S / WINDOWS && w->n < MAX_MARKS) {
        w->rate[w->n++] = (double)(st->global_step - w->sw) / (now - w->tw);
        w->tw = now, w->sw = st->global_step;
    }
    return now - w->t0 > RUN_S;
}

typedef struct learner_thread {
    pthread_t th;
    lc_learner *l;
    int rc;
    lc_error err;
} learner_thread;

static void *learner_main(void *arg) {
    learner_thread *t = arg;
    t->rc = lc_learner_run(t->l, &t->err);
    return NULL;
}

// Env steps/s reaching a collect-only learner from k workers of 4 CartPole envs, in
// windows of the run.
static bench_stat gathered(int k, double *mb_in) {
    lc_learner_cfg cfg = collect_only_cfg(k);
    lc_error err = {0};
    cfg.worker_num_envs = ENVS_PER_WORKER;
    window win = {0};
    cfg.on_update = mark;
    cfg.cb_ctx = &win;
    lc_learner *l = NULL;
    if (lc_learner_new(&l, &cfg, &err)) die("learner", &err);
    wthread w[4];
    for (int i = 0; i < k; i++) {
        memset(&w[i], 0, sizeof w[i]);
        atomic_init(&w[i].stop, 0);
        snprintf(w[i].ep, sizeof w[i].ep, "%s", lc_learner_endpoint(l));
        w[i].cfg = lc_worker_cfg_default();
        w[i].cfg.connect = w[i].ep;
        w[i].cfg.stop = &w[i].stop;
        pthread_create(&w[i].th, NULL, worker_main, &w[i]);
    }
    if (lc_learner_run(l, &err)) die("learner run", &err);
    lc_learner_stats st;
    lc_learner_get_stats(l, &st);
    for (int i = 0; i < k; i++) atomic_store(&w[i].stop, 1);
    for (int i = 0; i < k; i++) pthread_join(w[i].th, NULL);
    lc_learner_free(l);
    *mb_in = st.wall_s > 0 ? (double)st.bytes_in / 1e6 / st.wall_s : 0;
    return bench_stat_of(win.rate, win.n);
}

// The same: N envs stepped and acted on in this process (lc_rollout_collect), in
// WINDOWS blocks of >= 0.25 s.
static bench_stat local(int N) {
    lc_error err = {0};
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = N;
    o.num_threads = 1;
    lc_env *env = NULL;
    if (lc_env_make(&env, "CartPole-v1", &o, &err)) die("env", &err);
    const lc_env_spec *sp = lc_env_get_spec(env);
    lc_policy_cfg pc = lc_policy_cfg_default();
    lc_policy *p = NULL;
    if (lc_policy_new(&p, &sp->obs_space, &sp->act_space, &pc, 1, &err)) die("policy", &err);
    lc_rollout r;
    if (lc_rollout_init(&r, 128, N, &sp->obs_space, &sp->act_space, 0, &err)) die("rollout", &err);
    lc_env_reset(env, 1, &err);
    lc_rng rng;
    lc_rng_seed(&rng, 1, 0);
    double rate[WINDOWS];
    for (int rep = 0; rep < WINDOWS; rep++) {
        double t0 = lc_net_now(), t;
        int64_t steps = 0;
        do {
            if (lc_rollout_collect(&r, p, env, &rng, NULL, &err)) die("collect", &err);
            steps += 128 * N;
            t = lc_net_now() - t0;
        } while (t < 0.25);
        rate[rep] = (double)steps / t;
    }
    lc_rollout_free(&r);
    lc_policy_free(p);
    lc_env_free(env);
    return bench_stat_of(rate, WINDOWS);
}

// ---------------------------------------------------------------- learner capacity

typedef struct light {
    pthread_t th;
    char ep[256];
    atomic_int *stop;
    int N;
    int64_t sent;
} light;

// A worker that steps nothing: hello, then segments as fast as the learner's queue
// takes them, tagged with the newest weights version seen, at most
// segments_per_version of them per version (as the protocol asks).
static void *light_main(void *arg) {
    light *g = arg;
    lc_msg m = lc_msg_init(LC_MSG_HELLO);
    m.hello.num_envs = g->N;
    void *ctx, *s = dealer_to(g->ep, &m, &ctx);
    if (!s) return NULL;
    lc_error err = {0};
    int T = 0, id = 0, spv = 1, sent_v = 0;
    int64_t version = -1;
    float *f = NULL;
    int32_t *a = NULL;
    uint8_t *u = NULL;
    while (!atomic_load(g->stop)) {
        zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, version < 0 ? 50 : 0);
        lc_frames fr;
        int got = 0;
        while (!lc_net_recv(s, 0, &fr, &got, &err) && got) {
            lc_msg r;
            if (!fr.envelope_bad && !lc_proto_decode(&r, lc_frames_data(&fr), lc_frames_size(&fr), 0, NULL, &err)) {
                if (r.type == LC_MSG_SETUP)
                    T = r.setup.num_steps, id = r.setup.worker_id, spv = r.setup.segments_per_version;
                if (r.type == LC_MSG_WEIGHTS && r.weights.version > version)
                    version = r.weights.version, sent_v = 0;
            }
            lc_frames_close(&fr);
        }
        if (version < 0 || T == 0) continue;
        if (sent_v >= spv) {
            zmq_poll(&it, 1, 1); // wait for newer weights
            continue;
        }
        if (!f) {
            f = calloc((size_t)T * g->N * 4, sizeof(float));
            a = calloc((size_t)T * g->N, sizeof(int32_t));
            u = calloc((size_t)T * g->N, 1);
        }
        lc_msg x = segment_of(T, g->N, f, a, u);
        x.rollout.version = version;
        x.rollout.worker_id = id;
        int dropped = 0;
        lc_net_send(s, NULL, 0, 0, &x, &dropped, &err);
        if (dropped) nap(0.0005);
        else g->sent++, sent_v++;
    }
    free(f);
    free(a);
    free(u);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return NULL;
}

static void capacity(int nworkers, int T, int N) {
    lc_learner_cfg cfg = collect_only_cfg(nworkers);
    lc_error err = {0};
    cfg.ppo.num_steps = T;
    cfg.worker_timeout_s = 30;
    atomic_int stop;
    atomic_init(&stop, 0);
    cfg.stop = &stop;
    learner_thread lt = {0};
    if (lc_learner_new(&lt.l, &cfg, &err)) die("learner", &err);
    light *g = calloc((size_t)nworkers, sizeof *g);
    atomic_int wstop;
    atomic_init(&wstop, 0);
    for (int i = 0; i < nworkers; i++) {
        snprintf(g[i].ep, sizeof g[i].ep, "%s", lc_learner_endpoint(lt.l));
        g[i].stop = &wstop;
        g[i].N = N;
        pthread_create(&g[i].th, NULL, light_main, &g[i]);
    }
    pthread_create(&lt.th, NULL, learner_main, &lt);
    nap(0.5); // hellos and setups
    // RUN_S in 5 windows, each a repeat (racy reads of counters: fine for a benchmark).
    double vm[5], vb[5], vs[5];
    lc_learner_stats a, b;
    lc_learner_get_stats(lt.l, &a);
    double t0 = lc_net_now();
    for (int rep = 0; rep < 5; rep++) {
        nap(RUN_S / 5);
        lc_learner_get_stats(lt.l, &b);
        double t1 = lc_net_now(), dt = t1 - t0;
        vm[rep] = (double)(b.msgs_in - a.msgs_in) / dt;
        vb[rep] = (double)(b.bytes_in - a.bytes_in) / 1e6 / dt;
        vs[rep] = (double)(b.segments - a.segments) / dt;
        a = b, t0 = t1;
    }
    atomic_store(&stop, 1);
    pthread_join(lt.th, NULL);
    atomic_store(&wstop, 1);
    for (int i = 0; i < nworkers; i++) pthread_join(g[i].th, NULL);
    // reference: the decoder alone on one such message
    float *f = calloc((size_t)T * N * 4, sizeof(float));
    int32_t *ac = calloc((size_t)T * N, sizeof(int32_t));
    uint8_t *u = calloc((size_t)T * N, 1);
    lc_msg x = segment_of(T, N, f, ac, u);
    void *buf;
    size_t len;
    lc_proto_encode(&x, &buf, &len, &err);
    double dec[5];
    for (int rep = 0; rep < 5; rep++) {
        int64_t k = 0;
        double d0 = lc_net_now(), dd;
        do {
            lc_msg d;
            for (int i = 0; i < 1000; i++) lc_proto_decode(&d, buf, len, 0, NULL, NULL);
            k += 1000;
            dd = lc_net_now() - d0;
        } while (dd < 0.1);
        dec[rep] = (double)k / dd;
    }
    bench_stat sd = bench_stat_of(dec, 5);
    char f1[64], f2[64], f3[64], f4[64];
    printf("  %2d workers, %6zu-byte segments (T %3d x N %d): %s msgs/s, %s MB/s in, %s "
           "segments/s used | decoder alone: %s msgs/s, %.0f MB/s\n",
           nworkers, len, T, N, bench_fmt(f1, sizeof f1, bench_stat_of(vm, 5), 1, 0),
           bench_fmt(f2, sizeof f2, bench_stat_of(vb, 5), 1, 1),
           bench_fmt(f3, sizeof f3, bench_stat_of(vs, 5), 1, 0), bench_fmt(f4, sizeof f4, sd, 1, 0),
           sd.med * (double)len / 1e6);
    free(buf);
    free(f);
    free(ac);
    free(u);
    free(g);
    lc_learner_free(lt.l);
}

// ---------------------------------------------------------------- broadcast

typedef struct acker {
    pthread_t th;
    char ep[256];
    atomic_int *stop;
} acker;

// Receives weights messages and answers each with a heartbeat.
static void *acker_main(void *arg) {
    acker *k = arg;
    lc_msg hb = lc_msg_init(LC_MSG_HEARTBEAT);
    void *ctx, *s = dealer_to(k->ep, &hb, &ctx);
    if (!s) return NULL;
    lc_error err = {0};
    while (!atomic_load(k->stop)) {
        zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 20) <= 0) continue;
        lc_frames f;
        int got = 0;
        if (lc_net_recv(s, 0, &f, &got, &err) || !got) continue;
        lc_msg m;
        if (!f.envelope_bad && !lc_proto_decode(&m, lc_frames_data(&f), lc_frames_size(&f), 0, NULL, &err) &&
            m.type == LC_MSG_WEIGHTS)
            lc_net_send(s, NULL, 0, 0, &hb, NULL, &err);
        lc_frames_close(&f);
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    return NULL;
}

// Waits on router r until n messages (acks) have come, dropping them.
static void await_acks(void *r, int n) {
    lc_error err = {0};
    for (int acks = 0; acks < n;) {
        zmq_pollitem_t it = {r, 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, 100);
        lc_frames f;
        int got = 0;
        while (!lc_net_recv(r, 1, &f, &got, &err) && got) {
            acks++;
            lc_frames_close(&f);
        }
    }
}

static void broadcast(int nworkers) {
    void *ctx = zmq_ctx_new(), *r = NULL;
    lc_error err = {0};
    if (lc_net_socket(&r, ctx, ZMQ_ROUTER, 0, &err) || zmq_bind(r, "tcp://127.0.0.1:*") != 0)
        die("router", &err);
    char ep[256];
    size_t epn = sizeof ep;
    zmq_getsockopt(r, ZMQ_LAST_ENDPOINT, ep, &epn);
    atomic_int stop;
    atomic_init(&stop, 0);
    acker *k = calloc((size_t)nworkers, sizeof *k);
    for (int i = 0; i < nworkers; i++) {
        snprintf(k[i].ep, sizeof k[i].ep, "%s", ep);
        k[i].stop = &stop;
        pthread_create(&k[i].th, NULL, acker_main, &k[i]);
    }
    unsigned char (*ids)[256] = calloc((size_t)nworkers, 256);
    size_t *idn = calloc((size_t)nworkers, sizeof *idn);
    for (int got = 0; got < nworkers;) { // learn the identities from their hellos
        zmq_pollitem_t it = {r, 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, 100);
        lc_frames f;
        int g = 0;
        while (!lc_net_recv(r, 1, &f, &g, &err) && g) {
            memcpy(ids[got], f.ident, f.ident_len);
            idn[got++] = f.ident_len;
            lc_frames_close(&f);
        }
    }
    size_t P = 1 << 18; // 262144 floats = 1 MiB
    float *w = calloc(P, sizeof(float));
    int64_t np = (int64_t)P;
    lc_msg m = lc_msg_init(LC_MSG_WEIGHTS);
    m.weights.params = lc_wire_tensor_of(LC_F32, 1, &np, w);
    enum { reps = 10 };
    double tsend[reps], tcopy[reps], tping[reps];
    for (int rep = 0; rep < reps; rep++) {
        double t0 = lc_net_now();
        void *buf;
        size_t len;
        lc_proto_encode(&m, &buf, &len, &err);
        zmq_msg_t base;
        zmq_msg_init_size(&base, len);
        memcpy(zmq_msg_data(&base), buf, len);
        free(buf);
        for (int i = 0; i < nworkers; i++) {
            zmq_msg_t c;
            zmq_msg_init(&c);
            zmq_msg_copy(&c, &base);
            zmq_send(r, ids[i], idn[i], ZMQ_SNDMORE);
            zmq_msg_send(&c, r, 0);
            zmq_msg_close(&c);
        }
        zmq_msg_close(&base);
        await_acks(r, nworkers);
        tsend[rep] = lc_net_now() - t0;
    }
    // references: copying the weights once per worker; a small round trip
    char *dst = malloc(P * sizeof(float));
    for (int rep = 0; rep < reps; rep++) {
        double c0 = lc_net_now();
        for (int i = 0; i < nworkers; i++) {
            memcpy(dst, w, P * sizeof(float));
            __asm__ __volatile__("" ::"r"(dst) : "memory");
        }
        tcopy[rep] = lc_net_now() - c0;
    }
    free(dst);
    lc_msg hb = lc_msg_init(LC_MSG_WEIGHTS);
    int64_t one = 1;
    hb.weights.params = lc_wire_tensor_of(LC_F32, 1, &one, w);
    for (int rep = 0; rep < reps; rep++) { // 5 round trips per repeat
        double p0 = lc_net_now();
        for (int j = 0; j < 5; j++) {
            lc_net_send(r, ids[0], idn[0], 0, &hb, NULL, &err);
            await_acks(r, 1);
        }
        tping[rep] = (lc_net_now() - p0) / 5;
    }
    char f1[64], f2[64], f3[64];
    printf("  1 MiB weights to %2d workers (encode + send + all acks): %s ms | memcpy x %d: "
           "%s ms, small round trip: %s ms\n",
           nworkers, bench_fmt(f1, sizeof f1, bench_stat_of(tsend, reps), 1e3, 2), nworkers,
           bench_fmt(f2, sizeof f2, bench_stat_of(tcopy, reps), 1e3, 3),
           bench_fmt(f3, sizeof f3, bench_stat_of(tping, reps), 1e3, 3));
    atomic_store(&stop, 1);
    for (int i = 0; i < nworkers; i++) pthread_join(k[i].th, NULL);
    free(k);
    free(ids);
    free(idn);
    free(w);
    zmq_close(r);
    zmq_ctx_term(ctx);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    lc_init();
    printf("bench_dist: loopback, this machine's cores shared by every thread (noisy); figures are\n"
           "the median [min-max] over repeats (windows of a run, sends)\n");
    printf("env steps/s gathered at a collect-only learner (CartPole-v1, %d envs per worker, "
           "T 128, MLP 64x64 acting; async, lag 3):\n", ENVS_PER_WORKER);
    int ks[3] = {1, 2, 4};
    for (int i = 0; i < 3; i++) {
        double mb = 0;
        bench_stat g = gathered(ks[i], &mb);
        bench_stat l1 = local(ks[i] * ENVS_PER_WORKER);
        char f1[64], f2[64];
        printf("  %d worker%s: %s steps/s (%5.1f MB/s in) | same %2d envs in one process: %s "
               "steps/s\n",
               ks[i], ks[i] > 1 ? "s" : " ", bench_fmt(f1, sizeof f1, g, 1, 0), mb,
               ks[i] * ENVS_PER_WORKER, bench_fmt(f2, sizeof f2, l1, 1, 0));
    }
    printf("learner capacity (collect-only, every segment decoded, validated, copied):\n");
    capacity(32, 32, 1);
    capacity(32, 128, 8);
    printf("weights broadcast (one encoding, reference-counted frames):\n");
    int bs[4] = {1, 4, 16, 32};
    for (int i = 0; i < 4; i++) broadcast(bs[i]);
    return 0;
}

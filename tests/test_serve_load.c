// tests/test_serve_load.c: Check suite for the env server under load: 64 concurrent
// loopback clients, rounds after rounds; 8 of each 64 send garbage, 8 disconnect in
// the middle of an episode without a word, 48 play CartPole-v1 (2 envs, their own
// seed and action sequence) and compare every reply with the same env stepped locally,
// bit for bit. The resident memory after the last round is within 8 MiB of its level
// after the second (the abandoned envs are reclaimed by the idle timeout).
// Leaves out: throughput (bench/bench_serve.c), CURVE (test_dist).
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "agents/net.h"
#include "agents/proto.h"
#include "agents/server.h"
#include "core/rng.h"
#include "env/env.h"

#define CLIENTS 64
#define STEPS 300

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

typedef struct cl {
    pthread_t th;
    void *ctx;
    const char *ep;
    int id, round;
    int steps_ok, mismatches, errors; // well-behaved: steps compared equal / not
    char why[256];
} cl;

// Sends m and waits (up to 30 s) for the reply into *r; frame kept in *f.
static int ask(void *s, lc_frames *f, const lc_msg *m, lc_msg *r) {
    lc_error err = {0};
    lc_frames_close(f);
    if (lc_net_send(s, NULL, 0, 0, m, NULL, &err)) return -1;
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 30000) <= 0) return -1;
    int got = 0;
    if (lc_net_recv(s, 0, f, &got, &err) || !got || f->envelope_bad) return -1;
    return lc_proto_decode(r, lc_frames_data(f), lc_frames_size(f), 0, NULL, &err) ? -1 : 0;
}

static void cfail(cl *c, const char *what) {
    c->errors++;
    if (!c->why[0]) snprintf(c->why, sizeof c->why, "client %d: %.200s", c->id, what);
}

// 48 of 64: plays STEPS steps and compares each reply with a local env.
static void well_behaved(cl *c, void *s) {
    lc_frames f;
    memset(&f, 0, sizeof f);
    lc_msg m = lc_msg_init(LC_MSG_MAKE), r;
    snprintf(m.make.env, sizeof m.make.env, "CartPole-v1");
    m.make.num_envs = 2;
    if (ask(s, &f, &m, &r) || r.type != LC_MSG_ENV) return cfail(c, "make");
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = 2;
    o.num_threads = 1;
    lc_env *env = NULL;
    lc_error err = {0};
    if (lc_env_make(&env, "CartPole-v1", &o, &err)) return cfail(c, err.msg);
    uint64_t seed = 1000u * (uint64_t)c->round + (uint64_t)c->id;
    m = lc_msg_init(LC_MSG_RESET);
    m.reset.has_seed = 1;
    m.reset.seed = seed;
    const lc_env_buf *b = lc_env_get_buf(env);
    float obs[8];
    if (ask(s, &f, &m, &r) || r.type != LC_MSG_OBS || lc_env_reset(env, seed, &err) ||
        r.obs.obs.nbytes != sizeof obs) {
        lc_env_free(env);
        lc_frames_close(&f);
        return cfail(c, "reset");
    }
    lc_wire_tensor_copy(obs, &r.obs.obs);
    if (memcmp(obs, b->obs, sizeof obs) != 0) c->mismatches++;
    lc_rng rng;
    lc_rng_seed(&rng, seed, 7);
    for (int t = 0; t < STEPS; t++) {
        int32_t a[2] = {(int32_t)lc_rng_below(&rng, 2), (int32_t)lc_rng_below(&rng, 2)};
        int64_t n = 2;
        m = lc_msg_init(LC_MSG_STEP);
        m.step.actions = lc_wire_tensor_of(LC_I32, 1, &n, a);
        if (ask(s, &f, &m, &r) || r.type != LC_MSG_TRANSITION || lc_env_step(env, a, &err)) {
            cfail(c, "step");
            break;
        }
        float rew[2];
        uint8_t te[2], tr[2];
        lc_wire_tensor_copy(obs, &r.transition.obs);
        lc_wire_tensor_copy(rew, &r.transition.rewards);
        lc_wire_tensor_copy(te, &r.transition.terminated);
        lc_wire_tensor_copy(tr, &r.transition.truncated);
        if (memcmp(obs, b->obs, sizeof obs) || memcmp(rew, b->rewards, sizeof rew) ||
            memcmp(te, b->terminated, 2) || memcmp(tr, b->truncated, 2))
            c->mismatches++;
        else
            c->steps_ok++;
    }
    m = lc_msg_init(LC_MSG_CLOSE);
    if (ask(s, &f, &m, &r) || r.type != LC_MSG_CLOSED) cfail(c, "close");
    lc_frames_close(&f);
    lc_env_free(env);
}

// 8 of 64: random bytes, truncated and wrong-version messages; every one is answered.
static void garbage(cl *c, void *s) {
    lc_rng rng;
    lc_rng_seed(&rng, (uint64_t)c->id, (uint64_t)c->round);
    lc_msg mk = lc_msg_init(LC_MSG_MAKE);
    snprintf(mk.make.env, sizeof mk.make.env, "CartPole-v1");
    void *valid;
    size_t vlen;
    lc_error err = {0};
    if (lc_proto_encode(&mk, &valid, &vlen, &err)) return cfail(c, "encode");
    for (int i = 0; i < 50; i++) {
        uint8_t buf[256];
        size_t len = 1 + lc_rng_below(&rng, sizeof buf - 1);
        for (size_t k = 0; k < len; k++) buf[k] = (uint8_t)lc_rng_u32(&rng);
        if (i % 3 == 1) len = lc_rng_below(&rng, (uint32_t)vlen), memcpy(buf, valid, len);
        if (i % 3 == 2) len = 11, memcpy(buf, "\x82\xa1t\xa4make\xa1v\x07\x00", len);
        lc_net_send_bytes(s, NULL, 0, 0, buf, len, 0, NULL, &err);
        zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 30000) <= 0) {
            cfail(c, "no answer to garbage");
            break;
        }
        lc_frames f;
        int got = 0;
        lc_msg r;
        if (lc_net_recv(s, 0, &f, &got, &err) || !got) {
            cfail(c, "recv");
            break;
        }
        if (f.envelope_bad || lc_proto_decode(&r, lc_frames_data(&f), lc_frames_size(&f), 0, NULL,
                                              &err) || r.type != LC_MSG_ERROR)
            cfail(c, "garbage not answered with an error");
        lc_frames_close(&f);
    }
    free(valid);
}

// 8 of 64: make, reset, a few steps, then the socket closes without a word.
static void vanish(cl *c, void *s) {
    lc_frames f;
    memset(&f, 0, sizeof f);
    lc_msg m = lc_msg_init(LC_MSG_MAKE), r;
    snprintf(m.make.env, sizeof m.make.env, "CartPole-v1");
    m.make.num_envs = 8;
    if (ask(s, &f, &m, &r)) return cfail(c, "make");
    m = lc_msg_init(LC_MSG_RESET);
    if (ask(s, &f, &m, &r)) return cfail(c, "reset");
    int32_t a[8] = {0, 1, 0, 1, 0, 1, 0, 1};
    int64_t n = 8;
    for (int t = 0; t < 5 + c->id % 7; t++) {
        m = lc_msg_init(LC_MSG_STEP);
        m.step.actions = lc_wire_tensor_of(LC_I32, 1, &n, a);
        lc_error err = {0};
        lc_net_send(s, NULL, 0, 0, &m, NULL, &err); // no wait for the reply
    }
    lc_frames_close(&f);
}

static void *client_main(void *arg) {
    cl *c = arg;
    void *s = NULL;
    lc_error err = {0};
    if (lc_net_socket(&s, c->ctx, ZMQ_DEALER, 0, &err) || zmq_connect(s, c->ep) != 0) {
        cfail(c, "connect");
        return NULL;
    }
    if (c->id % 8 == 0) garbage(c, s);
    else if (c->id % 8 == 1) vanish(c, s);
    else well_behaved(c, s);
    lc_net_close(&s);
    return NULL;
}

typedef struct server_thread {
    lc_server *s;
    int rc;
} server_thread;

static void *server_main(void *arg) {
    server_thread *t = arg;
    lc_error err = {0};
    t->rc = lc_server_run(t->s, &err);
    return NULL;
}

START_TEST(test_server_64_clients) {
    atomic_int stop;
    atomic_init(&stop, 0);
    lc_server_cfg cfg = lc_server_cfg_default();
    cfg.bind = "tcp://127.0.0.1:*";
    cfg.max_clients = CLIENTS;
    cfg.idle_timeout_s = 1.0;
    cfg.stop = &stop;
    lc_error err = {0};
    server_thread st = {0};
    ck_assert_msg(lc_server_new(&st.s, &cfg, &err) == LC_OK, "%s", err.msg);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, server_main, &st), 0);
    void *ctx = zmq_ctx_new();
    ck_assert_ptr_nonnull(ctx);
    static cl c[CLIENTS];
    const int rounds = getenv("LUCID_LONG") ? 20 : 5;
    long rss1 = 0, rss = 0;
    int ok = 0, vanished = 0;
    for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < CLIENTS; i++) {
            memset(&c[i], 0, sizeof c[i]);
            c[i].ctx = ctx, c[i].ep = lc_server_endpoint(st.s), c[i].id = i, c[i].round = round;
            ck_assert_int_eq(pthread_create(&c[i].th, NULL, client_main, &c[i]), 0);
        }
        for (int i = 0; i < CLIENTS; i++) pthread_join(c[i].th, NULL);
        for (int i = 0; i < CLIENTS; i++) {
            ck_assert_msg(c[i].errors == 0, "round %d: %s", round, c[i].why);
            ck_assert_msg(c[i].mismatches == 0, "round %d: client %d: %d replies differ from the "
                          "local env", round, i, c[i].mismatches);
            if (i % 8 > 1) {
                ck_assert_int_eq(c[i].steps_ok, STEPS);
                ok++;
            }
            if (i % 8 == 1) vanished++;
        }
        sleep_s(1.5); // the vanished clients' envs pass the idle timeout
        lc_server_stats ss;
        lc_server_get_stats(st.s, &ss);
        rss = rss_kb();
        if (round == 1) rss1 = rss; // after a warm-up round (malloc arenas of the threads)
        printf("round %d: %d clients held envs after the idle timeout; %llu requests, %llu "
               "errors, %llu malformed so far; RSS %ld KiB\n", round, ss.clients_now,
               (unsigned long long)ss.requests, (unsigned long long)ss.errors,
               (unsigned long long)ss.malformed, rss);
    }
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    zmq_ctx_term(ctx);
    lc_server_stats ss;
    lc_server_get_stats(st.s, &ss);
    ck_assert_int_eq(st.rc, LC_OK);
    ck_assert_int_eq(ss.clients_now, 0);
    ck_assert_uint_gt(ss.malformed, 0);
    printf("%d well-behaved sessions of %d steps equal to local stepping; %d vanished; RSS "
           "%ld -> %ld KiB\n", ok, STEPS, vanished, rss1, rss);
#ifndef __SANITIZE_ADDRESS__ // ASan's quarantine holds freed memory (LeakSanitizer checks leaks)
    // 3 rounds of ~15000 requests: a leak of ~180 bytes a request would pass 8 MiB.
    ck_assert_msg(rss - rss1 < 8192, "RSS grew from %ld to %ld KiB", rss1, rss);
#endif
    lc_server_free(st.s);
}
END_TEST

static Suite *serve_suite(void) {
    Suite *s = suite_create("serve_load");
    TCase *tc = tcase_create("load");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_server_64_clients);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(serve_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}

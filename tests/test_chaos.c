// tests/test_chaos.c: Check suite for distributed training under faults (issue #21).
// A fault-injecting ZeroMQ proxy sits between rollout workers (separate processes,
// one of them SIGKILLed and restarted on a schedule) and the learner; it drops, delays,
// duplicates, reorders and truncates messages both ways at set rates. Invariants: the
// learner never fails; no segment is trained on twice and none is taken that the proxy
// did not deliver intact (the learner's accounting against the proxy's and the
// workers'); every checkpoint on disk loads at every moment; the run ends with a policy
// that solves CartPole-v1 (eval >= 475 on 20 fresh episodes). ~20 s here (a kill every
// 40 updates; 4 kills, then until solved); LUCID_LONG: one run of >= 10 minutes.
// Leaves out: CURVE (test_dist), faults inside a message that keep it well-formed.
#include <check.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "agents/learner.h"
#include "agents/net.h"
#include "agents/proto.h"
#include "agents/worker.h"
#include "core/rng.h"
#include "policy/ppo.h"

#define MAX_INCARN 256 // worker processes over a run (kills included)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static uint64_t fnv(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h ^ n;
}

// ---------------------------------------------------------------- workers (processes)

// Shared with the worker processes (MAP_SHARED before the fork): each incarnation's
// live statistics survive its SIGKILL.
typedef struct shared {
    lc_worker_stats st[MAX_INCARN];
    atomic_int incarnations, kills;
} shared;

// The supervisor: a process with no ZeroMQ context that forks the workers, kills the
// victim whenever a byte arrives on `kill_fd` (the learner's progress decides, so a
// slow build sees as many kills per update as a fast one) and starts a new one; it
// ends when `done` is readable.
static void worker_proc(const char *ep, lc_worker_stats *st) {
    lc_worker_cfg wc = lc_worker_cfg_default();
    wc.connect = ep;
    wc.heartbeat_s = 0.1;
    wc.backoff_s = 0.1;
    wc.backoff_max_s = 0.4;
    wc.give_up_s = 120;
    wc.name = "chaos";
    lc_error e = {0};
    int rc = lc_worker_run(&wc, st, &e);
    if (rc) fprintf(stderr, "test_chaos: worker: %s\n", e.msg);
    _exit(rc ? 1 : 0);
}

static pid_t spawn(const char *ep, shared *sh) {
    int k = atomic_fetch_add(&sh->incarnations, 1);
    if (k >= MAX_INCARN) return -1;
    pid_t pid = fork();
    if (pid == 0) worker_proc(ep, &sh->st[k]);
    return pid;
}

static void supervisor(const char *ep, shared *sh, int done_fd, int kill_fd) {
    pid_t steady = spawn(ep, sh), victim = spawn(ep, sh);
    for (;;) {
        struct pollfd p[2] = {{done_fd, POLLIN, 0}, {kill_fd, POLLIN, 0}};
        if (poll(p, 2, 1000) <= 0) continue;
        if (p[0].revents) break;
        char c;
        if (read(kill_fd, &c, 1) != 1) break;
        kill(victim, SIGKILL);
        waitpid(victim, NULL, 0);
        atomic_fetch_add(&sh->kills, 1);
        sleep_s(0.3);
        victim = spawn(ep, sh);
    }
    // The learner said bye (maybe lost on the way): the workers are no longer needed.
    kill(steady, SIGKILL);
    kill(victim, SIGKILL);
    waitpid(steady, NULL, 0);
    waitpid(victim, NULL, 0);
    _exit(0);
}

// ---------------------------------------------------------------- the fault-injecting proxy

enum { F_DROP, F_DELAY, F_DUP, F_REORDER, F_TRUNC, F_COUNT };
static const char *const fault_names[F_COUNT] = {"dropped", "delayed", "duplicated", "reordered",
                                                 "truncated"};
#define MAX_PEERS 32
#define MAX_PENDING 4096

typedef struct pending {
    double release;
    int dir, peer; // dir 0: worker -> learner, 1: learner -> worker
    void *data;
    size_t len;
} pending;

typedef struct proxy {
    pthread_t th;
    char front[256], back[256];
    double rate[F_COUNT];
    atomic_int stop, ready;
    void *ctx, *fe;
    struct {
        unsigned char id[256];
        size_t id_len;
        void *sock;
        double last; // traffic either way (an idle peer's slot is reused)
    } peer[MAX_PEERS];
    int npeers;
    pending q[MAX_PENDING];
    int nq;
    pending held[2]; // a message each way waiting to be overtaken (reorder)
    int has_held[2];
    lc_rng rng;
    // Counts (read after the thread ends).
    int64_t faults[F_COUNT], msgs[2];
    int64_t rollouts_in;           // rollout messages from workers
    int64_t rollouts_out_intact;   // rollout messages delivered whole to the learner (copies too)
    pthread_mutex_t mu;            // guards the delivered hashes
    uint64_t *delivered;           // hashes of rollouts delivered whole
    size_t ndelivered, cap_delivered;
} proxy;

static int is_rollout(const void *data, size_t len) {
    lc_msg m;
    return lc_proto_decode(&m, data, len, 0, NULL, NULL) == LC_OK && m.type == LC_MSG_ROLLOUT;
}

static void record_delivered(proxy *p, const void *data, size_t len) {
    if (!is_rollout(data, len)) return;
    p->rollouts_out_intact++;
    pthread_mutex_lock(&p->mu);
    if (p->ndelivered == p->cap_delivered) {
        p->cap_delivered = p->cap_delivered ? 2 * p->cap_delivered : 1024;
        p->delivered = realloc(p->delivered, p->cap_delivered * sizeof *p->delivered);
    }
    p->delivered[p->ndelivered++] = fnv(data, len);
    pthread_mutex_unlock(&p->mu);
}

static int was_delivered(proxy *p, uint64_t h) {
    pthread_mutex_lock(&p->mu);
    int found = 0;
    for (size_t i = 0; i < p->ndelivered && !found; i++) found = p->delivered[i] == h;
    pthread_mutex_unlock(&p->mu);
    return found;
}

// Sends now; `whole` says whether these are the bytes as they came in.
static void emit(proxy *p, int dir, int peer, const void *data, size_t len, int whole) {
    if (peer < 0) return; // its slot went to another peer
    p->peer[peer].last = now_s();
    if (dir == 0) {
        // Recorded before it goes: the learner may take it before zmq_send returns here.
        // (A failed send only makes the check looser.)
        if (whole) record_delivered(p, data, len);
        zmq_send(p->peer[peer].sock, data, len, ZMQ_DONTWAIT);
    } else if (zmq_send(p->fe, p->peer[peer].id, p->peer[peer].id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0) {
        zmq_send(p->fe, data, len, ZMQ_DONTWAIT);
    }
}

static void enqueue(proxy *p, double release, int dir, int peer, const void *data, size_t len) {
    if (p->nq == MAX_PENDING) return;
    pending *q = &p->q[p->nq++];
    q->release = release, q->dir = dir, q->peer = peer, q->len = len;
    q->data = malloc(len ? len : 1);
    memcpy(q->data, data, len);
}

// One message through the faults. A truncated copy keeps a random prefix.
static void route(proxy *p, int dir, int peer, const void *data, size_t len) {
    p->msgs[dir]++;
    if (dir == 0 && is_rollout(data, len)) p->rollouts_in++;
    double u = lc_rng_uniform(&p->rng, 0, 1), acc = 0;
    int fate = -1;
    for (int f = 0; f < F_COUNT && fate < 0; f++) {
        acc += p->rate[f];
        if (u < acc) fate = f;
    }
    if (fate >= 0) p->faults[fate]++;
    switch (fate) {
    case F_DROP: return;
    case F_DELAY: enqueue(p, now_s() + lc_rng_uniform(&p->rng, 0.005, 0.15), dir, peer, data, len); return;
    case F_DUP:
        emit(p, dir, peer, data, len, 1);
        enqueue(p, now_s() + lc_rng_uniform(&p->rng, 0.0, 0.1), dir, peer, data, len);
        return;
    case F_REORDER:
        if (!p->has_held[dir]) { // held until the next message this way has gone
            p->held[dir] = (pending){0, dir, peer, malloc(len ? len : 1), len};
            memcpy(p->held[dir].data, data, len);
            p->has_held[dir] = 1;
            return;
        }
        break; // one held at a time: this one goes through
    case F_TRUNC: emit(p, dir, peer, data, lc_rng_below(&p->rng, (uint32_t)(len ? len : 1)), 0); return;
    default: break;
    }
    emit(p, dir, peer, data, len, 1);
    if (p->has_held[dir]) {
        pending *h = &p->held[dir];
        emit(p, dir, h->peer, h->data, h->len, 1);
        free(h->data);
        p->has_held[dir] = 0;
    }
}

static int peer_of(proxy *p, const void *id, size_t n) {
    for (int i = 0; i < p->npeers; i++)
        if (p->peer[i].id_len == n && memcmp(p->peer[i].id, id, n) == 0) return i;
    if (n > sizeof p->peer[0].id) return -1;
    int i = p->npeers;
    if (i == MAX_PEERS) { // reuse the slot of the peer idle longest (a killed worker's)
        i = 0;
        for (int k = 1; k < MAX_PEERS; k++)
            if (p->peer[k].last < p->peer[i].last) i = k;
        if (now_s() - p->peer[i].last < 5) return -1;
        zmq_close(p->peer[i].sock);
        for (int q = 0; q < p->nq; q++) // messages still queued for it go nowhere
            if (p->q[q].peer == i) p->q[q].len = 0, p->q[q].peer = -1;
        for (int d = 0; d < 2; d++)
            if (p->has_held[d] && p->held[d].peer == i) p->held[d].peer = -1;
    }
    lc_error err = {0};
    void *s = NULL;
    if (lc_net_socket(&s, p->ctx, ZMQ_DEALER, 0, &err) || zmq_connect(s, p->back) != 0) return -1;
    if (i == p->npeers) p->npeers++;
    memcpy(p->peer[i].id, id, n);
    p->peer[i].id_len = n;
    p->peer[i].sock = s;
    p->peer[i].last = now_s();
    return i;
}

static void *proxy_main(void *arg) {
    proxy *p = arg;
    lc_error err = {0};
    p->ctx = zmq_ctx_new();
    if (lc_net_socket(&p->fe, p->ctx, ZMQ_ROUTER, 0, &err) || zmq_bind(p->fe, p->front) != 0) {
        fprintf(stderr, "test_chaos: proxy bind %s failed\n", p->front);
        atomic_store(&p->ready, -1);
        return NULL;
    }
    atomic_store(&p->ready, 1);
    zmq_msg_t a, b;
    while (!atomic_load(&p->stop)) {
        zmq_pollitem_t it[1 + MAX_PEERS];
        int n = 0;
        it[n++] = (zmq_pollitem_t){p->fe, 0, ZMQ_POLLIN, 0};
        for (int i = 0; i < p->npeers; i++) it[n++] = (zmq_pollitem_t){p->peer[i].sock, 0, ZMQ_POLLIN, 0};
        double next = now_s() + 0.01;
        for (int i = 0; i < p->nq; i++)
            if (p->q[i].release < next) next = p->q[i].release;
        long ms = (long)((next - now_s()) * 1000);
        zmq_poll(it, n, ms < 0 ? 0 : ms);
        if (it[0].revents & ZMQ_POLLIN) { // [identity][payload] from a worker
            zmq_msg_init(&a);
            zmq_msg_init(&b);
            if (zmq_msg_recv(&a, p->fe, ZMQ_DONTWAIT) >= 0 && zmq_msg_more(&a) &&
                zmq_msg_recv(&b, p->fe, ZMQ_DONTWAIT) >= 0) {
                int more = zmq_msg_more(&b);
                int peer = peer_of(p, zmq_msg_data(&a), zmq_msg_size(&a));
                if (peer >= 0 && !more) route(p, 0, peer, zmq_msg_data(&b), zmq_msg_size(&b));
                while (more) { // workers send one frame: drain anything else
                    zmq_msg_close(&b);
                    zmq_msg_init(&b);
                    more = zmq_msg_recv(&b, p->fe, ZMQ_DONTWAIT) >= 0 && zmq_msg_more(&b);
                }
            }
            zmq_msg_close(&a);
            zmq_msg_close(&b);
        }
        for (int i = 0; i < p->npeers; i++) {
            if (!(it[1 + i].revents & ZMQ_POLLIN)) continue;
            for (int burst = 0; burst < 64; burst++) {
                zmq_msg_init(&a);
                if (zmq_msg_recv(&a, p->peer[i].sock, ZMQ_DONTWAIT) < 0) {
                    zmq_msg_close(&a);
                    break;
                }
                route(p, 1, i, zmq_msg_data(&a), zmq_msg_size(&a));
                zmq_msg_close(&a);
            }
        }
        double t = now_s();
        for (int i = 0; i < p->nq;) {
            if (p->q[i].release > t) {
                i++;
                continue;
            }
            pending q = p->q[i];
            p->q[i] = p->q[--p->nq];
            emit(p, q.dir, q.peer, q.data, q.len, 1);
            free(q.data);
        }
    }
    for (int i = 0; i < p->nq; i++) free(p->q[i].data);
    for (int d = 0; d < 2; d++)
        if (p->has_held[d]) free(p->held[d].data);
    for (int i = 0; i < p->npeers; i++) zmq_close(p->peer[i].sock);
    zmq_close(p->fe);
    zmq_ctx_term(p->ctx);
    return NULL;
}

// ---------------------------------------------------------------- checkpoints on disk

typedef struct checker {
    pthread_t th;
    const char *path;
    atomic_int stop;
    int64_t loads, failures, missing;
    char first_failure[600];
} checker;

static void *checker_main(void *arg) {
    checker *c = arg;
    while (!atomic_load(&c->stop)) {
        struct stat st;
        if (stat(c->path, &st) != 0) {
            if (c->loads) c->failures++; // it existed: it must never disappear
            c->missing++;
        } else {
            lc_policy *p = NULL;
            lc_error err = {0};
            if (lc_policy_load(&p, c->path, &err) == LC_OK) {
                c->loads++;
            } else if (!c->failures++) {
                snprintf(c->first_failure, sizeof c->first_failure, "%s", err.msg);
            }
            lc_policy_free(p);
        }
        sleep_s(0.02);
    }
    return NULL;
}

// ---------------------------------------------------------------- one run

typedef struct taken {
    proxy *px;
    pthread_mutex_t mu;
    uint64_t *h;
    size_t n, cap;
    int64_t twice, phantom;
    lc_learner *l;
    shared *sh;
    int min_kills;     // the chaos has its go first: no stop before this many kills
    double t0, min_secs; // ... and before min_secs (the soak)
    int kill_fd, kill_every; // a byte to the supervisor every kill_every updates
    int solved, checks, good; // good: checks in a row at >= 495
    double last_check;
} taken;

// Every 5 updates, once min_kills workers have been killed, the policy plays 20
// episodes (seeds apart from the final evaluation's); when two such checks in a row
// average >= 495 the run stops: CartPole-v1 is solved, and the final evaluation checks
// it on 20 other episodes. (PPO's later updates can unlearn; stopping when solved is
// what a user does.)
static int on_update(void *ctx, const lc_learner_stats *st) {
    taken *t = ctx;
    if (st->updates % t->kill_every == 0 && write(t->kill_fd, "k", 1) != 1) return 0;
    if (st->updates % 5 != 0 || atomic_load(&t->sh->kills) < t->min_kills ||
        now_s() - t->t0 < t->min_secs)
        return 0;
    lc_eval_result ev;
    lc_error err = {0};
    if (lc_evaluate(lc_learner_policy(t->l), "CartPole-v1", NULL, 20, 5000 + (uint64_t)st->updates,
                    1, &ev, &err) != LC_OK)
        return 0;
    t->checks++;
    t->last_check = ev.mean;
    t->good = ev.mean >= 495 ? t->good + 1 : 0;
    t->solved = t->good >= 2;
    return t->solved;
}

static void on_segment(void *ctx, int worker_id, int64_t version, const void *msg, size_t len) {
    (void)worker_id;
    (void)version;
    taken *t = ctx;
    uint64_t h = fnv(msg, len);
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n; i++)
        if (t->h[i] == h) t->twice++;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 1024;
        t->h = realloc(t->h, t->cap * sizeof *t->h);
    }
    t->h[t->n++] = h;
    pthread_mutex_unlock(&t->mu);
    if (!was_delivered(t->px, h)) t->phantom++;
}

typedef struct run_result {
    int64_t faults[F_COUNT], kills, incarnations, checkpoint_loads, learner_segments;
    double eval, secs;
} run_result;

static void chaos_run(int run, int64_t total_steps, int kill_every, int min_kills,
                      double min_secs, run_result *res) {
    char front[128], back[128], out[128];
    snprintf(front, sizeof front, "ipc:///tmp/lucid-chaos-%ld-%d-front.sock", (long)getpid(), run);
    snprintf(back, sizeof back, "ipc:///tmp/lucid-chaos-%ld-%d-learner.sock", (long)getpid(), run);
    snprintf(out, sizeof out, "/tmp/lucid-chaos-%ld-%d.lucid", (long)getpid(), run);
    unlink(out);
    shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(sh, MAP_FAILED);
    memset(sh, 0, sizeof *sh);
    int done[2], killp[2];
    ck_assert_int_eq(pipe(done), 0);
    ck_assert_int_eq(pipe(killp), 0);
    double t0 = now_s();
    pid_t sup = fork(); // before this process has a ZeroMQ context (of this run)
    ck_assert_int_ge(sup, 0);
    if (sup == 0) {
        close(done[1]);
        close(killp[1]);
        supervisor(front, sh, done[0], killp[0]);
    }
    close(done[0]);
    close(killp[0]);

    static proxy px; // large: not on the stack
    memset(&px, 0, sizeof px);
    snprintf(px.front, sizeof px.front, "%s", front);
    snprintf(px.back, sizeof px.back, "%s", back);
    double rates[F_COUNT] = {0.01, 0.03, 0.02, 0.02, 0.01};
    memcpy(px.rate, rates, sizeof rates);
    lc_rng_seed(&px.rng, 1234, (uint64_t)run);
    pthread_mutex_init(&px.mu, NULL);
    ck_assert_int_eq(pthread_create(&px.th, NULL, proxy_main, &px), 0);
    while (!atomic_load(&px.ready)) sleep_s(0.01);
    ck_assert_int_eq(atomic_load(&px.ready), 1);

    lc_learner_cfg cfg = lc_learner_cfg_default();
    lc_error err = {0};
    ck_assert_int_eq(lc_ppo_cfg_for_env(&cfg.ppo, &cfg.pcfg, "CartPole-v1", &err), LC_OK);
    cfg.bind = back;
    cfg.env_name = "CartPole-v1";
    cfg.ppo.total_steps = total_steps;
    cfg.ppo.seed = 3 + (uint64_t)run;
    cfg.worker_num_envs = 8;
    cfg.min_workers = 2;
    cfg.heartbeat_s = 0.1;
    cfg.worker_timeout_s = 1.0;
    cfg.out_path = out;
    cfg.checkpoint_every = 5;
    taken tk = {0};
    tk.px = &px;
    pthread_mutex_init(&tk.mu, NULL);
    cfg.on_segment = on_segment;
    cfg.on_update = on_update;
    cfg.cb_ctx = &tk;
    lc_learner *l = NULL;
    ck_assert_msg(lc_learner_new(&l, &cfg, &err) == LC_OK, "%s", err.msg);
    tk.l = l;
    tk.sh = sh;
    tk.min_kills = min_kills;
    tk.t0 = t0;
    tk.min_secs = min_secs;
    tk.kill_fd = killp[1];
    tk.kill_every = kill_every;

    checker ck = {0};
    ck.path = out;
    ck_assert_int_eq(pthread_create(&ck.th, NULL, checker_main, &ck), 0);

    int rc = lc_learner_run(l, &err);

    atomic_store(&ck.stop, 1);
    pthread_join(ck.th, NULL);
    ck_assert_int_eq(write(done[1], "x", 1), 1);
    close(done[1]);
    close(killp[1]);
    int status = 0;
    waitpid(sup, &status, 0);
    atomic_store(&px.stop, 1);
    pthread_join(px.th, NULL);

    lc_learner_stats st;
    lc_learner_get_stats(l, &st);
    int64_t sent = 0;
    int inc = atomic_load(&sh->incarnations);
    for (int i = 0; i < inc && i < MAX_INCARN; i++) sent += sh->st[i].segments;

    res->secs = now_s() - t0;
    memcpy(res->faults, px.faults, sizeof px.faults);
    res->kills = atomic_load(&sh->kills);
    res->incarnations = inc;
    res->checkpoint_loads = ck.loads;
    res->learner_segments = st.segments;
    printf("chaos run %d: %.1f s, %lld steps, %lld updates%s; faults:", run, res->secs,
           (long long)st.global_step, (long long)st.updates,
           tk.solved ? " (solved: stopped)" : "");
    for (int f = 0; f < F_COUNT; f++) printf(" %s %lld", fault_names[f], (long long)px.faults[f]);
    printf(" of %lld messages; workers killed %lld, started %d\n",
           (long long)(px.msgs[0] + px.msgs[1]), (long long)res->kills, inc);
    printf("  segments: workers sent %lld, proxy got %lld, delivered whole %lld (copies too); "
           "learner took %zu, trained %lld, refused copies %lld, stale %lld, bad %lld; "
           "malformed frames %llu; weights re-sent %lld; workers joined %lld, lost %lld; "
           "checkpoint loads %lld\n",
           (long long)sent, (long long)px.rollouts_in, (long long)px.rollouts_out_intact, tk.n,
           (long long)st.segments, (long long)st.segments_dup, (long long)st.segments_stale,
           (long long)st.segments_bad, (unsigned long long)st.malformed,
           (long long)st.weights_resent, (long long)st.workers_joined,
           (long long)st.workers_lost, (long long)ck.loads);
    fflush(stdout);

    lc_eval_result ev;
    ck_assert_int_eq(lc_evaluate(lc_learner_policy(l), "CartPole-v1", NULL, 20, 11, 1, &ev, &err),
                     LC_OK);
    res->eval = ev.mean;
    printf("  eval: %.1f over 20 episodes (%d checks of 20 episodes during training, last %.1f)\n",
           ev.mean, tk.checks, tk.last_check);
    fflush(stdout);
    // The invariants.
    ck_assert_msg(rc == LC_OK, "the learner failed: %s", err.msg);
    ck_assert(tk.solved || st.global_step >= total_steps);
    ck_assert_msg(tk.twice == 0, "%lld segments were taken twice", (long long)tk.twice);
    ck_assert_msg(tk.phantom == 0, "%lld segments taken that the proxy never delivered whole",
                  (long long)tk.phantom);
    ck_assert_int_le(st.segments, (int64_t)tk.n);               // trained <= taken
    ck_assert_int_le((int64_t)tk.n - st.segments, 2);           // the rest: pending at the end
    ck_assert_int_le((int64_t)tk.n + st.segments_dup, px.rollouts_out_intact);
    // Nothing out of thin air: a worker counts a segment once it is queued, so one
    // killed in between may have sent one more than it counted.
    ck_assert_int_le(px.rollouts_in, sent + res->kills);
    ck_assert_msg(ck.failures == 0, "a checkpoint on disk did not load: %s", ck.first_failure);
    ck_assert_int_gt(ck.loads, 0);
    ck_assert_int_ge(res->kills, min_kills);
    for (int f = 0; f < F_COUNT; f++) ck_assert_int_gt(px.faults[f], 0);
    ck_assert_msg(ev.mean >= 475.0, "eval return %.1f", ev.mean);
    // The final file is the trained policy.
    lc_policy *fp = NULL;
    ck_assert_msg(lc_policy_load(&fp, out, &err) == LC_OK, "%s", err.msg);
    lc_policy_free(fp);

    lc_learner_free(l);
    free(tk.h);
    free(px.delivered);
    pthread_mutex_destroy(&tk.mu);
    pthread_mutex_destroy(&px.mu);
    munmap(sh, sizeof *sh);
    unlink(out);
}

START_TEST(test_chaos_cartpole) {
    run_result r;
    memset(&r, 0, sizeof r);
    if (!getenv("LUCID_LONG")) {
        chaos_run(0, 800000, 40, 4, 0, &r);
        return;
    }
    // The soak: one run of at least 10 minutes (a budget it does not reach, so the
    // learning rate hardly anneals), a worker killed every 30 updates, stopped once
    // solved after the 10 minutes.
    chaos_run(0, 100000000, 30, 4, 600, &r);
    printf("chaos soak: %.0f s, faults:", r.secs);
    for (int f = 0; f < F_COUNT; f++) printf(" %s %lld", fault_names[f], (long long)r.faults[f]);
    printf("; workers killed %lld; checkpoint loads %lld, all good; eval %.1f\n",
           (long long)r.kills, (long long)r.checkpoint_loads, r.eval);
}
END_TEST

static Suite *chaos_suite(void) {
    Suite *s = suite_create("chaos");
    TCase *tc = tcase_create("cartpole");
    tcase_set_timeout(tc, getenv("LUCID_LONG") ? 1500 : 240);
    tcase_add_test(tc, test_chaos_cartpole);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    SRunner *sr = srunner_create(chaos_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}

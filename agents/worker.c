// agents/worker.c: the rollout worker (worker.h): hello, setup (env + policy file),
// weights, lc_rollout_collect, rollout messages; heartbeats both ways; a silent
// learner means close the socket, wait (doubling), connect again and say hello.
// Leaves out: overlapping collection with sending (segments are sent between steps).
//
// Letters: T = steps per segment, N = envs here, O = obs elements, A = action elements.
#include "agents/worker.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agents/net.h"
#include "agents/remote.h"
#include "agents/proto.h"
#include "core/file.h"
#include "env/env.h"
#include "policy/policy.h"
#include "policy/ppo.h"
#include "worldmodel/worldmodel.h"
#include "loops/init.h"

typedef struct wk {
    const lc_worker_cfg *cfg;
    void *ctx, *sock;
    char name[LC_PROTO_STR_MAX];
    int ready, worker_id, T, N, spv;
    double hb_s, timeout_s;
    lc_policy *policy;
    lc_env *env;
    lc_rollout r;
    int have_r;
    lc_rng rng;
    char model_path[4096];
    int64_t version;
    int sent_this_version;
    double last_heard, last_sent, last_contact;
    int bye;
    double hello_at;          // when the last hello went out (re-said while no setup comes)
    lc_worker_stats st;
    lc_worker_stats *out;     // the caller's copy, kept current (NULL: none)
} wk;

lc_worker_cfg lc_worker_cfg_default(void) {
    lc_worker_cfg c;
    memset(&c, 0, sizeof c);
    c.connect = "tcp://127.0.0.1:5555";
    c.num_threads = 1;
    c.heartbeat_s = 1.0;
    c.backoff_s = 0.5;
    c.backoff_max_s = 16.0;
    return c;
}

static void logf_(wk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(wk *w, const char *fmt, ...) {
    if (!w->cfg->log) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    w->cfg->log(w->cfg->log_ctx, line);
}

static int stopping(const wk *w) { return w->cfg->stop && atomic_load(w->cfg->stop); }

static void teardown(wk *w) {
    if (w->have_r) lc_rollout_free(&w->r);
    lc_env_free(w->env);
    lc_policy_free(w->policy);
    if (w->model_path[0]) unlink(w->model_path);
    w->model_path[0] = '\0';
    w->env = NULL, w->policy = NULL, w->have_r = 0, w->ready = 0;
    w->version = -1;
    w->st.version = -1;
}

// ---------------------------------------------------------------- messages

static int send_msg(wk *w, const lc_msg *m, lc_error *err) {
    int dropped = 0;
    int rc = lc_net_send(w->sock, NULL, 0, 0, m, &dropped, err);
    if (rc) return rc;
    if (dropped) logf_(w, "%s not sent: the queue to the learner is full", lc_msg_type_name(m->type));
    w->last_sent = lc_net_now();
    return LC_OK;
}

static int say_hello(wk *w, lc_error *err) {
    w->hello_at = lc_net_now();
    lc_msg h = lc_msg_init(LC_MSG_HELLO);
    h.hello.num_envs = w->cfg->num_envs;
    snprintf(h.hello.name, sizeof h.hello.name, "%s", w->name);
    return send_msg(w, &h, err);
}

static int open_socket(wk *w, lc_error *err) {
    int rc = lc_net_socket(&w->sock, w->ctx, ZMQ_DEALER, w->cfg->max_frame, err);
    if (!rc && w->cfg->curve_server_public)
        rc = lc_net_curve_client(w->sock, w->cfg->curve_server_public,
                                 w->cfg->curve_secret ? w->cfg->curve_secret : "", err);
    if (!rc && zmq_connect(w->sock, w->cfg->connect) != 0)
        rc = lc_fail(err, LC_ERR_NET, "connect %s: %s", w->cfg->connect, zmq_strerror(zmq_errno()));
    if (!rc) rc = say_hello(w, err);
    if (rc) lc_net_close(&w->sock);
    else logf_(w, "said hello to %s", w->cfg->connect);
    w->last_heard = lc_net_now();
    return rc;
}

// Writes a dream: model's bytes to a private temporary file.
static int write_model(wk *w, const lc_wire_bytes *b, lc_error *err) {
    const char *dir = w->cfg->tmp_dir ? w->cfg->tmp_dir : getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    int n = snprintf(w->model_path, sizeof w->model_path, "%s/lucid-model-XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof w->model_path) {
        w->model_path[0] = '\0';
        return lc_fail(err, LC_ERR_ARG, "temporary directory path too long");
    }
    int fd = mkstemp(w->model_path);
    if (fd < 0) {
        int e = errno;
        w->model_path[0] = '\0';
        return lc_fail(err, LC_ERR_IO, "%s: %s", dir, strerror(e));
    }
    const char *p = b->data;
    size_t left = b->size;
    while (left) {
        ssize_t k = write(fd, p, left);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            int e = errno;
            close(fd);
            return lc_fail(err, LC_ERR_IO, "%s: %s", w->model_path, strerror(e));
        }
        p += k, left -= (size_t)k;
    }
    if (close(fd) != 0) return lc_fail(err, LC_ERR_IO, "%s: %s", w->model_path, strerror(errno));
    return LC_OK;
}

static int on_setup(wk *w, const struct lc_msg_setup *s, lc_error *err) {
    // A second setup for the same worker (a duplicated or re-sent message; a restarted
    // learner first answers with STATE, which tears down): keep going as we are.
    if (w->ready && s->worker_id == w->worker_id) return LC_OK;
    teardown(w);
    lc_file *f = NULL;
    int rc = lc_file_decode(s->policy.data, s->policy.size, &f, err);
    if (!rc) rc = lc_policy_from_file(&w->policy, f, 0, err);
    if (!rc) rc = lc_file_check_claimed(f, "policy", NULL, err);
    lc_file_free(f);
    if (rc) return lc_error_prefix(err, "the learner's policy: ");
    char name[LC_PROTO_STR_MAX + 4096];
    snprintf(name, sizeof name, "%s", s->env);
    if (s->model.present) {
        if (strncmp(s->env, "dream:", 6) != 0)
            return lc_fail(err, LC_ERR_PROTO, "a model file for %s, which is not a dream: env", s->env);
        if ((rc = write_model(w, &s->model, err))) return rc;
        const char *q = strchr(s->env, '?');
        snprintf(name, sizeof name, "dream:%s%s", w->model_path, q ? q : "");
    }
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = s->num_envs;
    o.num_threads = w->cfg->num_threads;
    o.max_episode_steps = s->max_episode_steps;
    o.params = s->params[0] ? s->params : NULL;
    o.normalize_reward = s->normalize_reward != 0; // the env scales rewards, as the trainer's
    o.gamma = s->gamma;
    o.clip_reward = s->clip_reward > 0 ? s->clip_reward : 1e9f;
    if ((rc = lc_env_make(&w->env, name, &o, err))) return rc;
    const lc_env_spec *sp = lc_env_get_spec(w->env);
    const lc_space *pa = lc_policy_act_space(w->policy), *po = lc_policy_obs_space(w->policy);
    if (sp->obs_size != lc_policy_obs_size(w->policy) || sp->obs_space.dtype != po->dtype ||
        sp->act_space.kind != pa->kind || lc_space_size(&sp->act_space) != lc_space_size(pa))
        return lc_fail(err, LC_ERR_SHAPE, "%s here does not have the policy's spaces", s->env);
    if ((rc = lc_rollout_init(&w->r, s->num_steps, s->num_envs, &sp->obs_space, &sp->act_space,
                              lc_policy_state_size(w->policy), err)))
        return rc;
    w->have_r = 1;
    w->worker_id = s->worker_id;
    w->T = s->num_steps, w->N = s->num_envs, w->spv = s->segments_per_version;
    w->hb_s = s->heartbeat_ms / 1000.0;
    if (!(w->cfg->timeout_s > 0)) w->timeout_s = s->timeout_ms / 1000.0;
    lc_rng_seed(&w->rng, s->seed, 1000u + (uint64_t)s->worker_id);
    uint64_t env_seed = s->seed + 0x9E3779B97F4A7C15ull * ((uint64_t)s->worker_id + 1);
    if ((rc = lc_env_reset(w->env, env_seed, err))) return rc;
    w->st.worker_id = s->worker_id;
    w->ready = 1;
    logf_(w, "worker %d: %s x %d, %d steps per segment", s->worker_id, s->env, s->num_envs,
          s->num_steps);
    return LC_OK;
}

static int on_weights(wk *w, const lc_msg *m, lc_error *err) {
    if (!w->ready) return LC_OK; // a stale message from before a reconnect
    if (m->weights.version < w->version) return LC_OK; // overtaken by newer weights
    if (m->weights.version == w->version) {
        // The learner re-sends weights when a segment of this version has not reached
        // it (lost on the way): send another. A duplicated message does the same; the
        // learner refuses the extra segment.
        w->sent_this_version = 0;
        return LC_OK;
    }
    lc_params *P = lc_policy_params(w->policy);
    if (lc_wire_tensor_count(&m->weights.params) != P->n)
        return lc_fail(err, LC_ERR_SHAPE, "weights of %zu floats for a policy of %zu",
                       lc_wire_tensor_count(&m->weights.params), P->n);
    lc_wire_tensor_copy(P->params, &m->weights.params);
    w->version = m->weights.version;
    w->st.version = w->version;
    w->sent_this_version = 0;
    w->st.weights++;
    return LC_OK;
}

// Handles one message from the learner. Fatal local errors come back as rc.
static int on_message(wk *w, lc_frames *f, lc_error *err) {
    lc_msg m;
    lc_error e = {0};
    if (f->envelope_bad || lc_proto_decode(&m, lc_frames_data(f), lc_frames_size(f),
                                           w->cfg->max_frame, NULL, &e)) {
        logf_(w, "malformed message from the learner ignored: %s", e.msg);
        return LC_OK;
    }
    w->last_heard = w->last_contact = lc_net_now();
    switch (m.type) {
    case LC_MSG_SETUP: {
        int rc = on_setup(w, &m.setup, err);
        if (rc) {
            lc_msg em = lc_msg_error(rc, "%s", err->msg);
            lc_error se = {0};
            send_msg(w, &em, &se);
            teardown(w);
        }
        return rc;
    }
    case LC_MSG_WEIGHTS: {
        int rc = on_weights(w, &m, &e);
        if (rc) {
            w->st.errors++;
            logf_(w, "weights refused: %s", e.msg);
        }
        return LC_OK;
    }
    case LC_MSG_HEARTBEAT: return LC_OK;
    case LC_MSG_BYE:
        logf_(w, "the learner says bye: %s", m.bye.reason);
        w->bye = 1;
        return LC_OK;
    case LC_MSG_ERROR:
        w->st.errors++;
        if (m.error.code == LC_ERR_STATE) { // the learner does not know us (it restarted)
            logf_(w, "the learner does not know this worker: saying hello again");
            teardown(w);
            return say_hello(w, err);
        }
        logf_(w, "the learner reports: %s: %s", lc_status_str(m.error.code), m.error.msg);
        return LC_OK;
    default:
        logf_(w, "unexpected '%s' from the learner ignored", lc_msg_type_name(m.type));
        return LC_OK;
    }
}

static int send_segment(wk *w, const lc_episode_stats *eps, lc_error *err) {
    lc_rollout *r = &w->r;
    int64_t T = r->T, N = r->N;
    int64_t obs[3] = {T, N, r->obs_size}, act[3] = {T, N, r->act_size}, tn[2] = {T, N};
    int64_t st0[2] = {N, r->state_size};
    lc_msg m = lc_msg_init(LC_MSG_ROLLOUT);
    struct lc_msg_rollout *x = &m.rollout;
    x->version = w->version;
    x->worker_id = w->worker_id;
    x->obs = lc_wire_tensor_of(r->obs_dtype, 3, obs, r->obs);
    x->actions = lc_wire_tensor_of(r->act_dtype, 3, act, r->actions);
    x->logp = lc_wire_tensor_of(LC_F32, 2, tn, r->logp);
    x->values = lc_wire_tensor_of(LC_F32, 2, tn, r->values);
    x->rewards = lc_wire_tensor_of(LC_F32, 2, tn, r->rewards);
    x->final_values = lc_wire_tensor_of(LC_F32, 2, tn, r->final_values);
    x->terminated = lc_wire_tensor_of(LC_U8, 2, tn, r->terminated);
    x->truncated = lc_wire_tensor_of(LC_U8, 2, tn, r->truncated);
    x->starts = lc_wire_tensor_of(LC_U8, 2, tn, r->starts);
    x->next_value = lc_wire_tensor_of(LC_F32, 1, &N, r->next_value);
    x->next_start = lc_wire_tensor_of(LC_U8, 1, &N, r->next_start);
    if (r->state_size) x->state0 = lc_wire_tensor_of(LC_F32, 2, st0, r->state0);
    x->episodes = eps->episodes;
    x->return_sum = eps->return_sum;
    x->length_sum = eps->length_sum;
    int rc = send_msg(w, &m, err);
    if (!rc) {
        w->st.segments++;
        w->st.steps += T * N;
        if (w->out) *w->out = w->st;
    }
    return rc;
}

// Sleeps up to s seconds in short naps, returning early when asked to stop.
static void nap(const wk *w, double s) {
    double end = lc_net_now() + s;
    while (!stopping(w)) {
        double left = end - lc_net_now();
        if (left <= 0) break;
        struct timespec ts = {0, (long)((left < 0.05 ? left : 0.05) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

static int run(wk *w, lc_error *err) {
    double backoff = w->cfg->backoff_s > 0 ? w->cfg->backoff_s : 0.5;
    double backoff_max = w->cfg->backoff_max_s > backoff ? w->cfg->backoff_max_s : backoff;
    int rc = open_socket(w, err);
    if (rc) return rc;
    w->last_contact = lc_net_now();
    while (!stopping(w) && !w->bye) {
        int busy = w->ready && w->version >= 0 && w->sent_this_version < w->spv;
        zmq_pollitem_t it = {w->sock, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&it, 1, busy ? 0 : 50);
        if (n < 0 && zmq_errno() != EINTR)
            return lc_fail(err, LC_ERR_NET, "poll: %s", zmq_strerror(zmq_errno()));
        for (int burst = 0; n > 0 && burst < 64 && !w->bye; burst++) {
            lc_frames f;
            int got = 0;
            if ((rc = lc_net_recv(w->sock, 0, &f, &got, err))) return rc;
            if (!got) break;
            backoff = w->cfg->backoff_s > 0 ? w->cfg->backoff_s : 0.5;
            rc = on_message(w, &f, err);
            lc_frames_close(&f);
            if (rc) return rc;
        }
        if (w->bye) break;
        double now = lc_net_now();
        if (w->cfg->give_up_s > 0 && now - w->last_contact > w->cfg->give_up_s)
            return lc_fail(err, LC_ERR_NET, "no word from the learner at %s for %.0f s: giving up",
                           w->cfg->connect, now - w->last_contact);
        if (now - w->last_heard > w->timeout_s) {
            logf_(w, "the learner has been silent for %.1f s: reconnecting in %.1f s",
                  now - w->last_heard, backoff);
            teardown(w);
            lc_net_close(&w->sock);
            nap(w, backoff);
            backoff = backoff * 2 < backoff_max ? backoff * 2 : backoff_max;
            if (stopping(w)) break;
            w->st.reconnects++;
            if ((rc = open_socket(w, err))) return rc;
            continue;
        }
        // Said hello, heard the learner (heartbeats), but no setup: it was lost. Again.
        if (!w->ready && now - w->hello_at > 2 * w->hb_s + 0.5) {
            logf_(w, "no setup %.1f s after hello: saying hello again", now - w->hello_at);
            if ((rc = say_hello(w, err))) return rc;
        }
        if (now - w->last_sent >= w->hb_s) {
            lc_msg hb = lc_msg_init(LC_MSG_HEARTBEAT);
            if ((rc = send_msg(w, &hb, err))) return rc;
        }
        if (!busy) continue;
        lc_episode_stats eps;
        lc_episode_stats_clear(&eps);
        if ((rc = lc_rollout_collect(&w->r, w->policy, w->env, &w->rng, &eps, err))) {
            lc_msg em = lc_msg_error(rc, "worker %d: %s", w->worker_id, err->msg);
            lc_error se = {0};
            send_msg(w, &em, &se);
            return rc;
        }
        if ((rc = send_segment(w, &eps, err))) return rc;
        w->sent_this_version++;
    }
    if (w->sock) { // leaving: tell the learner (after its bye, it waits for these)
        lc_msg bye = lc_msg_init(LC_MSG_BYE);
        snprintf(bye.bye.reason, sizeof bye.bye.reason, "%s",
                 w->bye ? "the learner said bye" : "worker stopped");
        lc_error se = {0};
        send_msg(w, &bye, &se);
        int linger = 500; // closing drops what is queued: give the bye 0.5 s to leave
        zmq_setsockopt(w->sock, ZMQ_LINGER, &linger, sizeof linger);
    }
    return LC_OK;
}

int lc_worker_run(const lc_worker_cfg *cfg, lc_worker_stats *st, lc_error *err) {
    lc_error local = {0};
    if (!err) err = &local; // error texts are passed on to the learner
    if (!cfg->connect || !*cfg->connect) return lc_fail(err, LC_ERR_ARG, "worker: no endpoint");
    if (cfg->num_envs < 0 || cfg->num_envs > LC_PROTO_MAX_ENVS || cfg->num_threads < 0)
        return lc_fail(err, LC_ERR_ARG, "worker: num_envs must be in [0, %d]", LC_PROTO_MAX_ENVS);
    if (cfg->curve_server_public && !cfg->curve_secret)
        return lc_fail(err, LC_ERR_ARG, "worker: CURVE needs this worker's secret key too");
    wk w;
    memset(&w, 0, sizeof w);
    w.cfg = cfg;
    w.out = st;
    w.version = -1;
    w.st.worker_id = -1;
    w.st.version = -1;
    w.hb_s = cfg->heartbeat_s > 0 ? cfg->heartbeat_s : 1.0;
    w.timeout_s = cfg->timeout_s > 0 ? cfg->timeout_s : 10.0;
    if (cfg->name) {
        snprintf(w.name, sizeof w.name, "%s", cfg->name);
    } else {
        char host[128] = "?";
        if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "?");
        host[sizeof host - 1] = '\0';
        snprintf(w.name, sizeof w.name, "%s:%ld", host, (long)getpid());
    }
    lc_init();
    lc_remote_register(); // a learner may name a remote: env
    w.ctx = zmq_ctx_new();
    if (!w.ctx) return lc_fail(err, LC_ERR_NET, "zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
    int rc = run(&w, err);
    teardown(&w);
    lc_net_close(&w.sock);
    zmq_ctx_term(w.ctx);
    if (st) *st = w.st;
    return rc;
}

// agents/remote.c: the "remote:ENDPOINT" env backend: a DEALER client of the env
// protocol (docs/PROTOCOL.md) behind lc_env_impl; spaces from the server's "env" reply.
// Leaves out: CURVE, reconnecting, resetting some envs only (the protocol resets all).
// Frames: the server's render, when its env reply gives a render size.
//
// Letters: N = num_envs, O = observation elements per row, A = action elements per row.
//
// The server steps and autoresets all N envs in one "step" request. lc_env's vector
// calls step() once for [0, N) (can_split 0); where an env ended, step() writes the
// server's final_obs into the obs row and keeps the next episode's first observation,
// which the vector's autoreset then takes through reset(i). A reset(i) with nothing
// kept asks the server to reset all envs (with the seed of lc_env_reset) and serves the
// rows of that answer. Failures are kept and returned by status() after the call.
#include "agents/remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "agents/net.h"
#include "agents/proto.h"
#include "env/env.h"

typedef struct remote_opts {
    double timeout;
} remote_opts;

#define REMOTE_SETTINGS(X) X(timeout, double, DOUBLE, 10, 0.01, 3600, 1, "seconds to wait for each reply")

static const lc_setting REMOTE_ROWS[] = {
#define ROW(...) LC_SETTING_ROW_(remote_opts, __VA_ARGS__)
    REMOTE_SETTINGS(ROW)
#undef ROW
};
static const lc_settings REMOTE = {"remote", REMOTE_ROWS, (int)(sizeof REMOTE_ROWS / sizeof REMOTE_ROWS[0])};

typedef struct remote {
    void *ctx, *sock;
    char endpoint[256];
    int N, O, A;
    lc_space obs_space, act_space;
    size_t es;           // bytes per observation element
    int timeout_ms;
    void *next;          // (N, O) first observation of the next episode where has_next
    uint8_t *has_next;   // (N)
    void *batch;         // (N, O) the last server reset's observations
    uint8_t *in_batch;   // (N) row i of batch not yet taken
    int batch_left;      // rows of batch not yet taken
    int seeded;          // seed() was called since the last server reset
    uint64_t seed;
    int server_reset;    // the server reset during the current vector call
    int stepping;        // inside the vector's step (reset(i) is its autoreset)
    int failed;          // sticky: the first error, in err
    lc_error err;
} remote;

// ---------------------------------------------------------------- requests

static int fail(remote *r, lc_status code, const char *fmt, const char *a, const char *b) {
    if (!r->failed) {
        r->failed = 1;
        lc_fail(&r->err, code, fmt, a, b);
    }
    return r->err.code;
}

// Sends m and waits up to the timeout for one reply, decoded into *reply (which
// points into *frame: close it with lc_frames_close). An "error" reply is a failure
// carrying the server's code and message.
static int rpc(remote *r, const lc_msg *m, lc_msg_type want, lc_msg *reply, lc_frames *frame, lc_error *err) {
    int rc = lc_net_send(r->sock, NULL, 0, 0, m, NULL, err);
    if (rc) return rc;
    double deadline = lc_net_now() + r->timeout_ms / 1000.0;
    for (;;) {
        double left = deadline - lc_net_now();
        if (left <= 0)
            return lc_fail(err, LC_ERR_NET, "remote:%s: no reply to '%s' within %.3g s (is the server running?)",
                           r->endpoint, lc_msg_type_name(m->type), r->timeout_ms / 1000.0);
        zmq_pollitem_t it = {r->sock, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&it, 1, (long)(left * 1000.0) + 1);
        if (n < 0 && zmq_errno() == EINTR) continue;
        if (n < 0) return lc_fail(err, LC_ERR_NET, "remote:%s: poll: %s", r->endpoint, zmq_strerror(zmq_errno()));
        if (n == 0) continue;
        int got = 0;
        if ((rc = lc_net_recv(r->sock, 0, frame, &got, err))) return rc;
        if (got) break;
    }
    rc = lc_proto_decode(reply, lc_frames_data(frame), lc_frames_size(frame), 0, NULL, err);
    if (rc) {
        lc_frames_close(frame);
        return lc_error_prefix(err, "remote:%s: bad reply: ", r->endpoint);
    }
    if (reply->type == LC_MSG_ERROR) {
        int code = reply->error.code > 0 && reply->error.code < LC_ERR_COUNT ? reply->error.code : LC_ERR_PROTO;
        lc_fail(err, code, "remote:%s: the server says: %s", r->endpoint, reply->error.msg);
        lc_frames_close(frame);
        return code;
    }
    if (reply->type != want) {
        lc_fail(err, LC_ERR_PROTO, "remote:%s: got '%s' in reply to '%s'", r->endpoint,
                lc_msg_type_name(reply->type), lc_msg_type_name(m->type));
        lc_frames_close(frame);
        return LC_ERR_PROTO;
    }
    return LC_OK;
}

// An observation tensor of the reply must be (N, obs shape) of the obs dtype.
static int check_obs(const remote *r, const lc_wire_tensor *t, const char *what, lc_error *err) {
    const lc_space *s = &r->obs_space;
    int ok = t->present && t->dtype == s->dtype && t->ndim == s->ndim + 1 && t->shape[0] == r->N;
    for (int k = 0; ok && k < s->ndim; k++) ok = t->shape[k + 1] == s->shape[k];
    if (!ok)
        return lc_fail(err, LC_ERR_SHAPE, "remote:%s: %s is not (%d, obs shape) of the obs space's dtype",
                       r->endpoint, what, r->N);
    return LC_OK;
}

static int check_vec(const remote *r, const lc_wire_tensor *t, lc_dtype dt, const char *what, lc_error *err) {
    if (!t->present || t->dtype != dt || t->ndim != 1 || t->shape[0] != r->N)
        return lc_fail(err, LC_ERR_SHAPE, "remote:%s: %s is not (%d) %s", r->endpoint, what, r->N, lc_dtype_name(dt));
    return LC_OK;
}

// ---------------------------------------------------------------- the backend

static void *row(const remote *r, void *base, int i) { return (char *)base + (size_t)i * r->O * r->es; }

static int server_reset(remote *r, lc_error *err) {
    lc_msg m = lc_msg_init(LC_MSG_RESET), reply;
    m.reset.has_seed = r->seeded;
    m.reset.seed = r->seed;
    lc_frames f;
    int rc = rpc(r, &m, LC_MSG_OBS, &reply, &f, err);
    if (rc) return rc;
    rc = check_obs(r, &reply.obs.obs, "the reset's obs", err);
    if (!rc) {
        lc_wire_tensor_copy(r->batch, &reply.obs.obs);
        memset(r->in_batch, 1, (size_t)r->N);
        r->batch_left = r->N;
        r->seeded = 0;
        r->server_reset = 1;
    }
    lc_frames_close(&f);
    return rc;
}

static void remote_seed(void *data, int i, uint64_t seed) {
    remote *r = data;
    if (i == 0) { // a new lc_env_reset: what an earlier step or reset left is void
        memset(r->has_next, 0, (size_t)r->N);
        memset(r->in_batch, 0, (size_t)r->N);
        r->batch_left = 0;
    }
    r->seeded = 1;
    r->seed = seed;
}

static void remote_reset(void *data, int i, lc_rng *rng, void *obs_row) {
    (void)rng;
    remote *r = data;
    size_t rowb = (size_t)r->O * r->es;
    if (r->failed) {
        memset(obs_row, 0, rowb);
        return;
    }
    if (r->has_next[i]) { // the server already started env i's next episode
        memcpy(obs_row, row(r, r->next, i), rowb);
        r->has_next[i] = 0;
        return;
    }
    if (r->stepping) { // the vector ended env i (its time limit) but the server did not
        memset(obs_row, 0, rowb);
        char idx[16];
        snprintf(idx, sizeof idx, "%d", i);
        fail(r, LC_ERR_STATE,
             "remote:%s: env %s ended here but not on the server (give time limits to the server: "
             "max_episode_steps goes there in 'make')",
             r->endpoint, idx);
        return;
    }
    if (!r->in_batch[i]) {
        lc_error e;
        if (server_reset(r, &e)) {
            memset(obs_row, 0, rowb);
            r->failed = 1;
            r->err = e;
            return;
        }
    }
    memcpy(obs_row, row(r, r->batch, i), rowb);
    r->in_batch[i] = 0;
    r->batch_left--;
}

static void remote_step(void *data, int i0, int i1, const void *actions, void *obs, float *rewards,
                        uint8_t *terminated, float *info, lc_rng *rngs) {
    (void)info;
    (void)rngs;
    remote *r = data;
    r->stepping = 1;
    if (r->failed) return;
    if (i0 != 0 || i1 != r->N) { // (never: can_split 0, NEXT_STEP and action_repeat refused)
        fail(r, LC_ERR_UNSUPPORTED, "remote:%s: %s: stepping some envs only", r->endpoint, "step");
        return;
    }
    lc_msg m = lc_msg_init(LC_MSG_STEP), reply;
    int discrete = r->act_space.kind == LC_SPACE_DISCRETE;
    int64_t shape[2] = {r->N, r->A};
    m.step.actions = lc_wire_tensor_of(r->act_space.kind == LC_SPACE_BOX ? LC_F32 : LC_I32, discrete ? 1 : 2,
                                       shape, actions);
    lc_frames f;
    lc_error e;
    int rc = rpc(r, &m, LC_MSG_TRANSITION, &reply, &f, &e);
    if (rc) {
        r->failed = 1;
        r->err = e;
        return;
    }
    struct lc_msg_transition *t = &reply.transition;
    if (!(rc = check_obs(r, &t->obs, "obs", &e)) && !(rc = check_vec(r, &t->rewards, LC_F32, "rewards", &e)) &&
        !(rc = check_vec(r, &t->terminated, LC_U8, "terminated", &e)))
        rc = check_vec(r, &t->truncated, LC_U8, "truncated", &e);
    uint8_t *term = terminated;
    if (!rc) {
        lc_wire_tensor_copy(rewards, &t->rewards);
        lc_wire_tensor_copy(term, &t->terminated);
        const uint8_t *tr = t->truncated.data;
        int any = 0;
        for (int i = 0; i < r->N; i++) {
            term[i] = term[i] ? 1 : tr[i] ? LC_BACKEND_TRUNCATED : 0;
            any |= term[i] != 0;
        }
        if (any) rc = check_obs(r, &t->final_obs, "final_obs (some env ended)", &e);
        if (!rc) {
            lc_wire_tensor_copy(obs, &t->obs);
            if (any) {
                size_t rowb = (size_t)r->O * r->es;
                const char *fo = t->final_obs.data;
                for (int i = 0; i < r->N; i++)
                    if (term[i]) { // obs row: the final observation; the next one is kept for reset(i)
                        memcpy(row(r, r->next, i), row(r, obs, i), rowb);
                        memcpy(row(r, obs, i), fo + (size_t)i * rowb, rowb);
                        r->has_next[i] = 1;
                    }
            }
        }
    }
    if (rc) {
        memset(term, 0, (size_t)r->N);
        r->failed = 1;
        r->err = e;
    }
    lc_frames_close(&f);
}

// Env i's frame from the server, scaled (nearest pixel) to w x h.
static int remote_render(void *data, int i, uint8_t *rgb, int w, int h) {
    remote *r = data;
    if (r->failed) return r->err.code;
    lc_msg m = lc_msg_init(LC_MSG_RENDER), reply;
    m.render.index = i;
    lc_frames f;
    lc_error e;
    int rc = rpc(r, &m, LC_MSG_FRAME, &reply, &f, &e);
    if (rc == LC_ERR_NET) { // no reply: a late one would be taken for the next
        r->failed = 1;
        r->err = e;
    }
    if (rc) return rc;
    const lc_wire_tensor *t = &reply.frame.rgb;
    if (t->dtype != LC_U8 || t->ndim != 3 || t->shape[2] != 3 || t->shape[0] < 1 || t->shape[1] < 1) {
        lc_frames_close(&f);
        return LC_ERR_SHAPE;
    }
    int H = (int)t->shape[0], W = (int)t->shape[1];
    const uint8_t *src = t->data;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(rgb + ((size_t)y * w + x) * 3, src + ((size_t)((int64_t)y * H / h) * W + (size_t)((int64_t)x * W / w)) * 3,
                   3);
    lc_frames_close(&f);
    return LC_OK;
}

static int remote_status(void *data, lc_error *err) {
    remote *r = data;
    int partial = r->server_reset && r->batch_left != 0 && !r->failed;
    r->stepping = 0;
    r->server_reset = 0;
    if (partial) {
        memset(r->in_batch, 0, (size_t)r->N);
        r->batch_left = 0;
        fail(r, LC_ERR_UNSUPPORTED, "remote:%s: %s: the protocol resets all envs at once (use lc_env_reset)",
             r->endpoint, "resetting some envs only");
    }
    if (!r->failed) return LC_OK;
    *err = r->err;
    return r->err.code;
}

static void remote_destroy(void *data) {
    remote *r = data;
    if (!r) return;
    if (r->sock) { // tell the server, without waiting (LINGER 0 may drop it)
        lc_msg m = lc_msg_init(LC_MSG_CLOSE);
        lc_net_send(r->sock, NULL, 0, 0, &m, NULL, NULL);
    }
    lc_net_close(&r->sock);
    if (r->ctx) zmq_ctx_term(r->ctx);
    free(r->next);
    free(r->has_next);
    free(r->batch);
    free(r->in_batch);
    free(r);
}

// ---------------------------------------------------------------- the ctor

static int remote_ctor(lc_env_impl *impl, const char *name, int num_envs, const lc_env_opts *opts,
                       lc_error *err) {
    const char *ep = name + strlen("remote:");
    const char *q = strchr(ep, '?');
    size_t eplen = q ? (size_t)(q - ep) : strlen(ep);
    if (eplen == 0 || eplen >= sizeof((remote *)0)->endpoint)
        return lc_fail(err, LC_ERR_ARG, "remote: give an endpoint: remote:tcp://HOST:PORT (got '%.60s')", name);
    if (num_envs > LC_PROTO_MAX_ENVS)
        return lc_fail(err, LC_ERR_ARG, "remote: num_envs %d is over the protocol's %d", num_envs, LC_PROTO_MAX_ENVS);
    if (opts->autoreset == LC_AUTORESET_NEXT_STEP || opts->action_repeat > 1)
        return lc_fail(err, LC_ERR_UNSUPPORTED,
                       "remote: the server autoresets in the same step: autoreset NEXT_STEP and action_repeat > 1 "
                       "are not supported");
    remote_opts o;
    lc_settings_defaults(&REMOTE, &o);
    int rc;
    if ((rc = lc_settings_parse(&REMOTE, &o, q ? q + 1 : NULL, err))) return rc;
    if ((rc = lc_settings_parse(&REMOTE, &o, opts->params, err))) return rc;

    remote *r = calloc(1, sizeof *r);
    if (!r) return lc_fail(err, LC_ERR_NOMEM, "remote: out of memory");
    memcpy(r->endpoint, ep, eplen);
    r->N = num_envs;
    r->timeout_ms = (int)(o.timeout * 1000.0 + 0.5);
    r->ctx = zmq_ctx_new();
    if (!r->ctx) {
        rc = lc_fail(err, LC_ERR_NET, "remote: zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    if ((rc = lc_net_socket(&r->sock, r->ctx, ZMQ_DEALER, 0, err))) goto fail;
    if (zmq_connect(r->sock, r->endpoint) != 0) {
        rc = lc_fail(err, LC_ERR_ARG, "remote:%s: cannot connect: %s", r->endpoint, zmq_strerror(zmq_errno()));
        goto fail;
    }
    lc_msg m = lc_msg_init(LC_MSG_MAKE), reply;
    m.make.num_envs = num_envs;
    m.make.max_episode_steps = opts->max_episode_steps;
    lc_frames f;
    if ((rc = rpc(r, &m, LC_MSG_ENV, &reply, &f, err))) goto fail;
    lc_frames_close(&f); // (the env reply holds no pointers into the frame)
    if (reply.env.num_envs != num_envs) {
        rc = lc_fail(err, LC_ERR_PROTO, "remote:%s: asked for %d envs, the server made %d", r->endpoint, num_envs,
                     reply.env.num_envs);
        goto fail;
    }
    r->obs_space = reply.env.obs_space;
    r->act_space = reply.env.act_space;
    r->O = lc_space_size(&r->obs_space);
    r->A = lc_space_size(&r->act_space);
    r->es = lc_dtype_size(r->obs_space.dtype);
    size_t rows = (size_t)num_envs * r->O * r->es;
    r->next = malloc(rows);
    r->batch = malloc(rows);
    r->has_next = calloc((size_t)num_envs, 1);
    r->in_batch = calloc((size_t)num_envs, 1);
    if (!r->next || !r->batch || !r->has_next || !r->in_batch) {
        rc = lc_fail(err, LC_ERR_NOMEM, "remote: out of memory for %d envs", num_envs);
        goto fail;
    }
    impl->obs_space = r->obs_space;
    impl->act_space = r->act_space;
    impl->max_episode_steps = 0; // the server's time limit ends episodes (LC_BACKEND_TRUNCATED)
    impl->can_split = 0;
    impl->render_w = reply.env.render_w > 0 ? reply.env.render_w : 0;
    impl->render_h = reply.env.render_h > 0 ? reply.env.render_h : 0;
    impl->data = r;
    impl->reset = remote_reset;
    impl->seed = remote_seed;
    impl->step = remote_step;
    impl->status = remote_status;
    if (impl->render_w > 0 && impl->render_h > 0) impl->render = remote_render; // else lucid's stand-in
    impl->destroy = remote_destroy;
    return LC_OK;
fail:
    remote_destroy(r);
    return rc;
}

int lc_remote_register(void) {
    return lc_env_register("remote:", remote_ctor,
                           "envs served by another process over the env protocol: remote:tcp://HOST:PORT "
                           "(lucid serve, lucid.serve_gym)");
}

// agents/server.c: the env server (server.h): a ROUTER socket, a table of clients
// keyed by ZeroMQ identity, each with its own env vector; every request answered
// with a reply or an error message. Leaves out: concurrent requests, env sharing.
//
// Letters: N = a client's num_envs, O = obs elements per row, A = action elements.
#include "agents/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agents/net.h"
#include "agents/proto.h"
#include "core/rng.h"
#include "env/env.h"
#include "worldmodel/worldmodel.h"
#include "loops/init.h"

typedef struct client {
    unsigned char id[256];
    size_t id_len;
    lc_env *env;
    double last_seen;
    int was_reset;
    void *act;      // (N, A) aligned action buffer
    uint8_t *rgb;   // (H, W, 3) render buffer
} client;

struct lc_server {
    lc_server_cfg cfg;
    lc_router net; // the bound ROUTER (agents/net.h)
    client *clients; // (max_clients)
    lc_rng rng;      // seeds for resets without a seed
    lc_proto_counts counts;
    lc_server_stats st;
};

lc_server_cfg lc_server_cfg_default(void) {
    lc_server_cfg c;
    memset(&c, 0, sizeof c);
    c.bind = "tcp://127.0.0.1:5556";
    c.default_num_envs = 1;
    c.max_clients = 64;
    c.max_num_envs = 1024;
    c.num_threads = 1;
    c.idle_timeout_s = 600;
    return c;
}

#define logf_(o, ...) lc_net_logf((o)->cfg.log, (o)->cfg.log_ctx, __VA_ARGS__)

static void client_drop(client *c) {
    lc_env_free(c->env);
    free(c->act);
    free(c->rgb);
    memset(c, 0, sizeof *c);
}

int lc_server_new(lc_server **out, const lc_server_cfg *cfg, lc_error *err) {
    *out = NULL;
    int rc = lc_net_check_bind(cfg->bind, cfg->allow_public, err);
    if (rc) return rc;
    if (cfg->max_clients < 1 || cfg->max_num_envs < 1 || cfg->default_num_envs < 1 ||
        cfg->default_num_envs > cfg->max_num_envs)
        return lc_fail(err, LC_ERR_ARG, "server: bad client or env limits");
    lc_server *s = calloc(1, sizeof *s);
    if (!s) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    s->cfg = *cfg;
    lc_init();
    lc_rng_seed(&s->rng, (uint64_t)time(NULL), 0x5e7e);
    s->clients = calloc((size_t)cfg->max_clients, sizeof *s->clients);
    if (!s->clients) rc = lc_fail(err, LC_ERR_NOMEM, "out of memory");
    if (!rc)
        rc = lc_router_open(&s->net, cfg->bind, cfg->allow_public, cfg->max_frame, cfg->curve_secret,
                            cfg->curve_allow, err);
    if (rc) {
        lc_server_free(s);
        return rc;
    }
    *out = s;
    return LC_OK;
}

const char *lc_server_endpoint(const lc_server *s) { return s->net.endpoint; }

void lc_server_get_stats(const lc_server *s, lc_server_stats *st) {
    *st = s->st;
    st->malformed = s->counts.rejected;
    st->clients_now = 0;
    for (int i = 0; i < s->cfg.max_clients; i++) st->clients_now += s->clients[i].id_len > 0;
}

void lc_server_free(lc_server *s) {
    if (!s) return;
    if (s->clients)
        for (int i = 0; i < s->cfg.max_clients; i++) client_drop(&s->clients[i]);
    free(s->clients);
    lc_router_close(&s->net);
    free(s);
}

// ---------------------------------------------------------------- requests

static client *find_client(lc_server *s, const lc_frames *f) {
    for (int i = 0; i < s->cfg.max_clients; i++) {
        client *c = &s->clients[i];
        if (c->id_len && c->id_len == f->ident_len && memcmp(c->id, f->ident, c->id_len) == 0)
            return c;
    }
    return NULL;
}

static void expire_idle(lc_server *s, double now) {
    for (int i = 0; i < s->cfg.max_clients; i++) {
        client *c = &s->clients[i];
        if (c->id_len && now - c->last_seen > s->cfg.idle_timeout_s) {
            logf_(s, "client %d idle for %.0f s: its env is closed", i, now - c->last_seen);
            client_drop(c);
        }
    }
}

static client *new_client(lc_server *s, const lc_frames *f, lc_error *err) {
    for (int i = 0; i < s->cfg.max_clients; i++) {
        client *c = &s->clients[i];
        if (c->id_len) continue;
        memcpy(c->id, f->ident, f->ident_len);
        c->id_len = f->ident_len;
        s->st.clients++;
        return c;
    }
    lc_fail(err, LC_ERR_SIZE, "the server holds %d clients already (close envs you do not use)",
            s->cfg.max_clients);
    return NULL;
}

static int may_make(const lc_server *s, const char *name, lc_error *err) {
    if (strncmp(name, "dream:", 6) == 0 && !(s->cfg.default_env && strcmp(name, s->cfg.default_env) == 0))
        return lc_fail(err, LC_ERR_ARG,
                       "%s: dream: envs read model files; this server only makes the one given "
                       "with --env",
                       name);
    if (strncmp(name, "remote:", 7) == 0 && !(s->cfg.default_env && strcmp(name, s->cfg.default_env) == 0))
        return lc_fail(err, LC_ERR_ARG,
                       "%s: remote: envs connect to other endpoints; this server only makes the one given "
                       "with --env",
                       name);
    return LC_OK;
}

static void obs_shape(const lc_env_spec *sp, int64_t *shape, int *ndim) {
    shape[0] = sp->num_envs;
    const lc_space *o = &sp->obs_space;
    int nd = o->ndim < 1 ? 1 : o->ndim > LC_MAX_DIMS - 1 ? LC_MAX_DIMS - 1 : o->ndim;
    if (o->ndim < 1) shape[1] = 1;
    for (int i = 0; i < o->ndim && i < nd; i++) shape[1 + i] = o->shape[i];
    *ndim = 1 + nd;
}

static lc_msg env_reply(const lc_env *env) {
    const lc_env_spec *sp = lc_env_get_spec(env);
    lc_msg r = lc_msg_init(LC_MSG_ENV);
    snprintf(r.env.name, sizeof r.env.name, "%s", sp->name);
    r.env.num_envs = sp->num_envs;
    r.env.obs_space = sp->obs_space;
    r.env.act_space = sp->act_space;
    r.env.max_episode_steps = sp->max_episode_steps;
    r.env.render_w = sp->render_w;
    r.env.render_h = sp->render_h;
    return r;
}

static int do_make(lc_server *s, client *c, const lc_msg *m, lc_msg *reply, lc_error *err) {
    const char *name = m->make.env[0] ? m->make.env : s->cfg.default_env;
    if (!name) return lc_fail(err, LC_ERR_ARG, "make: no env named and the server has no default");
    int rc = may_make(s, name, err);
    if (rc) return rc;
    int n = m->make.num_envs ? m->make.num_envs : s->cfg.default_num_envs;
    if (n > s->cfg.max_num_envs)
        return lc_fail(err, LC_ERR_SIZE, "make: num_envs %d is over this server's cap of %d", n,
                       s->cfg.max_num_envs);
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = n;
    o.num_threads = s->cfg.num_threads;
    o.max_episode_steps = m->make.max_episode_steps;
    o.params = m->make.params[0] ? m->make.params : NULL;
    lc_env *env = NULL;
    if ((rc = lc_env_make(&env, name, &o, err))) return rc;
    const lc_env_spec *sp = lc_env_get_spec(env);
    size_t es = sp->act_space.kind == LC_SPACE_BOX ? sizeof(float) : sizeof(int32_t);
    void *act = calloc((size_t)sp->num_envs * (size_t)sp->act_size, es);
    uint8_t *rgb = NULL;
    if (sp->render_w > 0 && sp->render_h > 0)
        rgb = malloc((size_t)sp->render_w * (size_t)sp->render_h * 3);
    if (!act || (sp->render_w > 0 && sp->render_h > 0 && !rgb)) {
        free(act);
        free(rgb);
        lc_env_free(env);
        return lc_fail(err, LC_ERR_NOMEM, "make: out of memory");
    }
    lc_env_free(c->env);
    free(c->act);
    free(c->rgb);
    c->env = env, c->act = act, c->rgb = rgb, c->was_reset = 0;
    *reply = env_reply(env);
    return LC_OK;
}

static int need_env(const client *c, const char *what, lc_error *err) {
    if (!c || !c->env) return lc_fail(err, LC_ERR_STATE, "%s: make an env first", what);
    return LC_OK;
}

static int do_reset(lc_server *s, client *c, const lc_msg *m, lc_msg *reply, lc_error *err) {
    int rc;
    if (m->reset.has_seed || !c->was_reset) {
        uint64_t seed = m->reset.has_seed ? m->reset.seed : lc_rng_u64(&s->rng);
        rc = lc_env_reset(c->env, seed, err);
    } else {
        const lc_env_spec *sp = lc_env_get_spec(c->env);
        uint8_t *all = malloc((size_t)sp->num_envs);
        if (!all) return lc_fail(err, LC_ERR_NOMEM, "reset: out of memory");
        memset(all, 1, (size_t)sp->num_envs);
        rc = lc_env_reset_mask(c->env, all, err);
        free(all);
    }
    if (rc) return rc;
    c->was_reset = 1;
    const lc_env_spec *sp = lc_env_get_spec(c->env);
    int64_t shape[LC_MAX_DIMS];
    int nd;
    obs_shape(sp, shape, &nd);
    *reply = lc_msg_init(LC_MSG_OBS);
    reply->obs.obs = lc_wire_tensor_of(sp->obs_space.dtype, nd, shape, lc_env_get_buf(c->env)->obs);
    return LC_OK;
}

static int do_step(client *c, const lc_msg *m, lc_msg *reply, lc_error *err) {
    const lc_env_spec *sp = lc_env_get_spec(c->env);
    const lc_wire_tensor *a = &m->step.actions;
    lc_dtype want = sp->act_space.kind == LC_SPACE_BOX ? LC_F32 : LC_I32;
    if (a->dtype != want)
        return lc_fail(err, LC_ERR_TYPE, "step: actions must be %s for %s, got %s",
                       lc_dtype_name(want), sp->name, lc_dtype_name(a->dtype));
    int64_t per_row = a->ndim == 2 ? a->shape[1] : 1;
    if (a->shape[0] != sp->num_envs || per_row != sp->act_size)
        return lc_fail(err, LC_ERR_SHAPE,
                       "step: actions must be (%d, %d) (num_envs, action elements), got %lld x %lld",
                       sp->num_envs, sp->act_size, (long long)a->shape[0], (long long)per_row);
    lc_wire_tensor_copy(c->act, a);
    int rc = lc_env_step(c->env, c->act, err);
    if (rc) return rc;
    const lc_env_buf *b = lc_env_get_buf(c->env);
    int64_t shape[LC_MAX_DIMS], n = sp->num_envs;
    int nd;
    obs_shape(sp, shape, &nd);
    *reply = lc_msg_init(LC_MSG_TRANSITION);
    struct lc_msg_transition *x = &reply->transition;
    x->obs = lc_wire_tensor_of(sp->obs_space.dtype, nd, shape, b->obs);
    x->rewards = lc_wire_tensor_of(LC_F32, 1, &n, b->rewards);
    x->terminated = lc_wire_tensor_of(LC_U8, 1, &n, b->terminated);
    x->truncated = lc_wire_tensor_of(LC_U8, 1, &n, b->truncated);
    int any = 0;
    for (int i = 0; i < sp->num_envs; i++) any |= b->done[i];
    if (any) {
        x->final_obs = lc_wire_tensor_of(sp->obs_space.dtype, nd, shape, b->final_obs);
        x->ep_return = lc_wire_tensor_of(LC_F32, 1, &n, b->ep_return);
        x->ep_length = lc_wire_tensor_of(LC_I32, 1, &n, b->ep_length);
    }
    return LC_OK;
}

static int do_render(client *c, const lc_msg *m, lc_msg *reply, lc_error *err) {
    const lc_env_spec *sp = lc_env_get_spec(c->env);
    if (m->render.index >= sp->num_envs)
        return lc_fail(err, LC_ERR_ARG, "render: index %d, the env has %d copies", m->render.index,
                       sp->num_envs);
    if (!c->rgb) return lc_fail(err, LC_ERR_UNSUPPORTED, "render: %s has no picture", sp->name);
    int rc = lc_env_render(c->env, m->render.index, c->rgb, err);
    if (rc) return rc;
    int64_t shape[3] = {sp->render_h, sp->render_w, 3};
    *reply = lc_msg_init(LC_MSG_FRAME);
    reply->frame.index = m->render.index;
    reply->frame.rgb = lc_wire_tensor_of(LC_U8, 3, shape, c->rgb);
    return LC_OK;
}

// Answers one request; the reply may point into the client's env buffers.
static int handle(lc_server *s, lc_frames *f, const lc_msg *m, lc_msg *reply, lc_error *err) {
    client *c = find_client(s, f);
    if (c) c->last_seen = lc_net_now();
    switch (m->type) {
    case LC_MSG_MAKE:
        if (!c && !(c = new_client(s, f, err))) return err->code;
        c->last_seen = lc_net_now();
        {
            int rc = do_make(s, c, m, reply, err);
            if (rc && !c->env) client_drop(c);
            if (!rc) logf_(s, "client made %s x %d", m->make.env[0] ? m->make.env : s->cfg.default_env,
                           lc_env_get_spec(c->env)->num_envs);
            return rc;
        }
    case LC_MSG_RESET: {
        int rc = need_env(c, "reset", err);
        return rc ? rc : do_reset(s, c, m, reply, err);
    }
    case LC_MSG_STEP: {
        int rc = need_env(c, "step", err);
        return rc ? rc : do_step(c, m, reply, err);
    }
    case LC_MSG_SPACES: {
        int rc = need_env(c, "spaces", err);
        if (!rc) *reply = env_reply(c->env);
        return rc;
    }
    case LC_MSG_RENDER: {
        int rc = need_env(c, "render", err);
        return rc ? rc : do_render(c, m, reply, err);
    }
    case LC_MSG_CLOSE:
        if (c) client_drop(c);
        *reply = lc_msg_init(LC_MSG_CLOSED);
        return LC_OK;
    case LC_MSG_HEARTBEAT:
        *reply = lc_msg_init(LC_MSG_HEARTBEAT);
        return LC_OK;
    default:
        return lc_fail(err, LC_ERR_PROTO, "'%s' is not a request the env server serves",
                       lc_msg_type_name(m->type));
    }
}

int lc_server_run(lc_server *s, lc_error *err) {
    double last_sweep = lc_net_now();
    logf_(s, "serving envs on %s", s->net.endpoint);
    while (!(s->cfg.stop && atomic_load(s->cfg.stop))) {
        zmq_pollitem_t it = {s->net.sock, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&it, 1, 200);
        if (n < 0) {
            if (zmq_errno() == EINTR) continue;
            return lc_fail(err, LC_ERR_NET, "poll: %s", zmq_strerror(zmq_errno()));
        }
        double now = lc_net_now();
        if (now - last_sweep > 1.0) {
            expire_idle(s, now);
            last_sweep = now;
        }
        if (n == 0) continue;
        for (int burst = 0; burst < 64; burst++) {
            lc_frames f;
            int got = 0;
            int rc = lc_net_recv(s->net.sock, 1, &f, &got, err);
            if (rc) return rc;
            if (!got) break;
            s->st.requests++;
            lc_error e = {0};
            lc_msg m, reply;
            if (f.envelope_bad) {
                lc_fail(&e, LC_ERR_PROTO, "expected one payload frame (after an optional empty "
                                          "delimiter)");
                s->counts.rejected++;
                s->counts.by_code[LC_ERR_PROTO]++;
                rc = LC_ERR_PROTO;
            } else {
                rc = lc_proto_decode(&m, lc_frames_data(&f), lc_frames_size(&f), s->cfg.max_frame,
                                     &s->counts, &e);
            }
            if (!rc) rc = handle(s, &f, &m, &reply, &e);
            if (rc) {
                s->st.errors++;
                reply = lc_msg_error(rc, "%s", e.msg);
            }
            lc_error se = {0};
            int dropped = 0;
            if (lc_net_send(s->net.sock, f.ident, f.ident_len, f.delim, &reply, &dropped, &se) == LC_ERR_NET) {
                lc_frames_close(&f);
                return lc_fail(err, LC_ERR_NET, "%s", se.msg);
            }
            if (se.code) logf_(s, "reply not sent: %s", se.msg);
            lc_frames_close(&f);
        }
    }
    logf_(s, "stopping: %llu requests, %llu errors, %llu malformed",
          (unsigned long long)s->st.requests, (unsigned long long)s->st.errors,
          (unsigned long long)s->counts.rejected);
    return LC_OK;
}

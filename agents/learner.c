// agents/learner.c: the distributed PPO learner (learner.h): a poll loop over one
// ROUTER socket, a table of workers keyed by identity, validated rollout segments
// assembled column-wise into one buffer for lc_ppo_update, versioned weights.
// Leaves out: weight deltas/compression, prioritising workers, several learners.
//
// Letters: T = steps per segment (ppo.num_steps), N = a worker's envs (columns),
// O = obs elements per row, A = action elements per row, S = recurrent state floats.
#include "agents/learner.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/net.h"
#include "agents/proto.h"
#include "core/file.h"
#include "env/env.h"
#include "worldmodel/worldmodel.h"
#include "loops/init.h"

#define LC_LEARNER_SEEN 16

typedef struct wslot {
    unsigned char id[256];
    size_t id_len;            // 0: a free slot
    int worker_id, num_envs;
    char name[LC_PROTO_STR_MAX];
    double last_seen, last_sent;
    int64_t sent_version;     // weights last sent
    int64_t seg_version;      // segments counted for this version
    int seg_count;
    int delivered;            // sync: a segment of the current version arrived
    double progress_at;       // last weights sent or segment taken (re-send weights after silence)
    double weights_at, rtt;   // when weights last went out; weights-to-segment time seen last
    uint64_t seen[LC_LEARNER_SEEN]; // hashes of the last segments taken (duplicates refused)
    int nseen;
} wslot;

typedef struct segment {
    lc_rollout r;             // (T, N) columns of one worker
    int64_t version, episodes;
    int worker_id;
    double return_sum, length_sum;
} segment;

struct lc_learner {
    lc_learner_cfg cfg;
    char env_name[LC_PROTO_STR_MAX], env_params[LC_PROTO_STR_MAX], out_path[4096];
    lc_router net; // the bound ROUTER (agents/net.h)
    lc_policy *policy;
    lc_space obs_space, act_space;
    int O, A, S, T;
    void *policy_file;        // the policy's structure as a lucid file, for setup
    size_t policy_file_len;
    void *model;              // a dream: env's model file
    size_t model_len;
    zmq_msg_t weights;        // the encoded weights of the current version
    int have_weights;
    wslot *w;                 // (LC_LEARNER_MAX_WORKERS)
    int next_worker_id;
    segment *seg;             // pending segments
    int nseg, seg_cap;
    lc_rollout batch;
    int batch_ready;
    lc_rng rng;
    lc_proto_counts counts;
    lc_learner_stats st;
    int nan_streak;
};

lc_learner_cfg lc_learner_cfg_default(void) {
    lc_learner_cfg c;
    memset(&c, 0, sizeof c);
    c.bind = "tcp://127.0.0.1:5555";
    c.ppo = lc_ppo_cfg_default();
    c.pcfg = lc_policy_cfg_default();
    c.sync = 1;
    c.max_lag = 1;
    c.min_workers = 1;
    c.heartbeat_s = 1.0;
    c.worker_timeout_s = 10.0;
    c.checkpoint_every = 10;
    return c;
}

#define logf_(o, ...) lc_net_logf((o)->cfg.log, (o)->cfg.log_ctx, __VA_ARGS__)

// ---------------------------------------------------------------- setup

static int read_all(const char *path, void **buf, size_t *len, lc_error *err) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return lc_fail(err, LC_ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    int rc = LC_OK;
    while (b) {
        if (n == cap) {
            if (cap >= LC_PROTO_MAX_FRAME) {
                rc = lc_fail(err, LC_ERR_SIZE, "%s: larger than a message can carry (%zu bytes)",
                             path, (size_t)LC_PROTO_MAX_FRAME);
                break;
            }
            char *nb = realloc(b, cap * 2);
            if (!nb) break;
            b = nb, cap *= 2;
        }
        size_t k = fread(b + n, 1, cap - n, fp);
        n += k;
        if (k == 0) break;
    }
    if (!rc && !b) rc = lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", path);
    if (!rc && ferror(fp)) rc = lc_fail(err, LC_ERR_IO, "%s: read error", path);
    fclose(fp);
    if (rc) {
        free(b);
        return rc;
    }
    *buf = b, *len = n;
    return LC_OK;
}

// The model file named by a dream: env ("dream:PATH?params").
static int read_model(lc_learner *l, lc_error *err) {
    if (strncmp(l->env_name, "dream:", 6) != 0) return LC_OK;
    char path[LC_PROTO_STR_MAX];
    snprintf(path, sizeof path, "%s", l->env_name + 6);
    path[strcspn(path, "?")] = '\0';
    return read_all(path, &l->model, &l->model_len, err);
}

static int make_policy(lc_learner *l, lc_error *err) {
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = 1;
    o.num_threads = 1;
    o.max_episode_steps = l->cfg.max_episode_steps;
    o.params = l->env_params[0] ? l->env_params : NULL;
    lc_env *env = NULL;
    int rc = lc_env_make(&env, l->env_name, &o, err);
    if (rc) return rc;
    const lc_env_spec *sp = lc_env_get_spec(env);
    l->obs_space = sp->obs_space;
    l->act_space = sp->act_space;
    lc_env_free(env);
    if (l->cfg.resume_path) {
        lc_file *f = NULL;
        if ((rc = lc_file_read(l->cfg.resume_path, &f, err))) return rc;
        rc = lc_policy_from_file(&l->policy, f, 1, err);
        int64_t v = 0, gs = 0;
        if (!rc && !(rc = lc_file_opt_int(f, "learner.version", 0, INT64_MAX, &v, err)) &&
            !(rc = lc_file_opt_int(f, "learner.global_step", 0, INT64_MAX, &gs, err)) &&
            !(rc = lc_file_check_claimed(f, "learner checkpoint", NULL, err))) {
            l->st.version = v;
            l->st.global_step = gs;
        }
        lc_file_free(f);
        if (rc) return lc_error_prefix(err, "%s: ", l->cfg.resume_path);
        const char *pe = lc_policy_env_name(l->policy);
        if (pe[0] && strcmp(pe, l->env_name) != 0)
            return lc_fail(err, LC_ERR_ARG, "%s was trained on %s, not %s", l->cfg.resume_path, pe,
                           l->env_name);
        if (lc_policy_obs_size(l->policy) != lc_space_size(&l->obs_space) ||
            lc_policy_act_size(l->policy) != lc_space_size(&l->act_space) ||
            lc_policy_act_space(l->policy)->kind != l->act_space.kind)
            return lc_fail(err, LC_ERR_SHAPE, "%s: the policy's spaces differ from %s's",
                           l->cfg.resume_path, l->env_name);
        logf_(l, "resumed %s at version %lld, step %lld", l->cfg.resume_path, (long long)v,
              (long long)gs);
    } else {
        rc = lc_policy_new(&l->policy, &l->obs_space, &l->act_space, &l->cfg.pcfg, l->cfg.ppo.seed, err);
        if (rc) return rc;
    }
    lc_policy_set_env_name(l->policy, l->env_name);
    l->O = lc_policy_obs_size(l->policy);
    l->A = lc_policy_act_size(l->policy);
    l->S = lc_policy_state_size(l->policy);
    lc_file *f = lc_file_new("policy");
    if (!f) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    rc = lc_policy_to_file(l->policy, f, 0, err);
    if (!rc) rc = lc_file_encode(f, &l->policy_file, &l->policy_file_len, err);
    lc_file_free(f);
    return rc;
}

int lc_learner_new(lc_learner **out, const lc_learner_cfg *cfg, lc_error *err) {
    lc_error local = {0};
    if (!err) err = &local; // lc_error_prefix needs one
    *out = NULL;
    int rc = lc_net_check_bind(cfg->bind, cfg->allow_public, err);
    if (rc) return rc;
    if (!cfg->env_name || !cfg->env_name[0] || strlen(cfg->env_name) >= LC_PROTO_STR_MAX ||
        (cfg->env_params && strlen(cfg->env_params) >= LC_PROTO_STR_MAX))
        return lc_fail(err, LC_ERR_ARG, "learner: an env name (and params) under %d bytes is needed",
                       LC_PROTO_STR_MAX);
    if (cfg->ppo.num_steps < 1 || cfg->ppo.num_steps > LC_PROTO_MAX_STEPS || cfg->max_lag < 0 ||
        cfg->ppo.total_steps < 1 || !(cfg->heartbeat_s > 0) ||
        !(cfg->worker_timeout_s > cfg->heartbeat_s) || cfg->worker_num_envs < 0 ||
        cfg->worker_num_envs > LC_PROTO_MAX_ENVS || cfg->checkpoint_every < 0 ||
        cfg->min_workers < 0)
        return lc_fail(err, LC_ERR_ARG, "learner: bad options (steps, lag, heartbeat < timeout, "
                                        "worker envs)");
    if (cfg->ppo.num_envs < 1 || cfg->ppo.num_envs > LC_PROTO_MAX_ENVS)
        return lc_fail(err, LC_ERR_ARG, "learner: ppo num_envs out of range");
    lc_learner *l = calloc(1, sizeof *l);
    if (!l) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    l->cfg = *cfg;
    snprintf(l->env_name, sizeof l->env_name, "%s", cfg->env_name);
    snprintf(l->env_params, sizeof l->env_params, "%s", cfg->env_params ? cfg->env_params : "");
    if (cfg->out_path) snprintf(l->out_path, sizeof l->out_path, "%s", cfg->out_path);
    l->cfg.out_path = cfg->out_path ? l->out_path : NULL;
    if (l->cfg.ppo.normalize_obs) {
        logf_(l, "observation normalisation is not supported across workers: turned off");
        l->cfg.ppo.normalize_obs = 0;
    }
    if (l->cfg.sync) l->cfg.max_lag = 0;
    l->T = l->cfg.ppo.num_steps;
    l->st.episode_return = NAN;
    l->st.episode_length = NAN;
    lc_rng_seed(&l->rng, l->cfg.ppo.seed, 0x1ea7);
    lc_init();
    l->w = calloc(LC_LEARNER_MAX_WORKERS, sizeof *l->w);
    if (!l->w) rc = lc_fail(err, LC_ERR_NOMEM, "out of memory");
    if (!rc) rc = read_model(l, err);
    if (!rc) rc = make_policy(l, err);
    if (!rc)
        rc = lc_router_open(&l->net, cfg->bind, cfg->allow_public, cfg->max_frame, cfg->curve_secret,
                            cfg->curve_allow, err);
    if (rc) {
        lc_learner_free(l);
        return rc;
    }
    *out = l;
    return LC_OK;
}

const char *lc_learner_endpoint(const lc_learner *l) { return l->net.endpoint; }
lc_policy *lc_learner_policy(lc_learner *l) { return l->policy; }

static void free_segments(lc_learner *l) {
    for (int i = 0; i < l->nseg; i++) lc_rollout_free(&l->seg[i].r);
    l->nseg = 0;
}

void lc_learner_free(lc_learner *l) {
    if (!l) return;
    free_segments(l);
    free(l->seg);
    if (l->batch_ready) lc_rollout_free(&l->batch);
    if (l->have_weights) zmq_msg_close(&l->weights);
    lc_router_close(&l->net);
    lc_policy_free(l->policy);
    free(l->policy_file);
    free(l->model);
    free(l->w);
    free(l);
}

void lc_learner_get_stats(const lc_learner *l, lc_learner_stats *st) {
    *st = l->st;
    st->malformed = l->counts.rejected;
    st->auth_denied = lc_zap_denied(l->net.zap);
    st->workers_live = 0;
    for (int i = 0; i < LC_LEARNER_MAX_WORKERS; i++) st->workers_live += l->w[i].id_len > 0;
}

int lc_learner_save(lc_learner *l, const char *path, lc_error *err) {
    lc_file *f = lc_file_new("policy");
    if (!f) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    int rc = lc_policy_to_file(l->policy, f, 1, err);
    if (!rc && (lc_file_set_int(f, "learner.version", l->st.version) ||
                lc_file_set_int(f, "learner.global_step", l->st.global_step) ||
                lc_file_set_int(f, "learner.total_steps", l->cfg.ppo.total_steps) ||
                lc_file_set_str(f, "learner.env", l->env_name) ||
                lc_file_set_str(f, "learner.env_params", l->env_params)))
        rc = lc_fail(err, LC_ERR_NOMEM, "%s: cannot set the learner's metadata", path);
    if (!rc) rc = lc_file_write(f, path, err);
    lc_file_free(f);
    return rc;
}

// ---------------------------------------------------------------- sending

static int send_msg(lc_learner *l, wslot *w, const void *ident, size_t ident_len, const lc_msg *m) {
    void *buf;
    size_t len;
    lc_error e = {0};
    int rc = lc_proto_encode(m, &buf, &len, &e);
    if (!rc) rc = lc_net_send_bytes(l->net.sock, ident, ident_len, 0, buf, len, 1, NULL, &e);
    if (rc) {
        logf_(l, "send %s: %s", lc_msg_type_name(m->type), e.msg);
        return rc;
    }
    l->st.msgs_out++;
    l->st.bytes_out += len;
    if (w) w->last_sent = lc_net_now();
    return LC_OK;
}

static void send_error(lc_learner *l, const lc_frames *f, int code, const char *msg) {
    lc_msg m = lc_msg_error(code, "%s", msg);
    send_msg(l, NULL, f->ident, f->ident_len, &m);
}

static void free_frame(void *data, void *hint) {
    (void)hint;
    free(data);
}

// Encodes the current weights once; every worker gets a reference-counted copy.
static int encode_weights(lc_learner *l, lc_error *err) {
    lc_params *P = lc_policy_params(l->policy);
    int64_t n = (int64_t)P->n;
    lc_msg m = lc_msg_init(LC_MSG_WEIGHTS);
    m.weights.version = l->st.version;
    m.weights.params = lc_wire_tensor_of(LC_F32, 1, &n, P->params);
    void *buf;
    size_t len;
    int rc = lc_proto_encode(&m, &buf, &len, err);
    if (rc) return rc;
    if (l->have_weights) zmq_msg_close(&l->weights);
    l->have_weights = 0;
    if (zmq_msg_init_data(&l->weights, buf, len, free_frame, NULL) != 0) {
        free(buf);
        return lc_fail(err, LC_ERR_NET, "zmq_msg_init_data: %s", zmq_strerror(zmq_errno()));
    }
    l->have_weights = 1;
    return LC_OK;
}

static void send_weights(lc_learner *l, wslot *w) {
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_copy(&m, &l->weights) != 0) {
        zmq_msg_close(&m);
        return;
    }
    size_t len = zmq_msg_size(&m);
    int ok = zmq_send(l->net.sock, w->id, w->id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0 &&
             zmq_msg_send(&m, l->net.sock, ZMQ_DONTWAIT) >= 0;
    zmq_msg_close(&m);
    if (!ok) {
        logf_(l, "worker %d: weights not sent: %s", w->worker_id, zmq_strerror(zmq_errno()));
        return;
    }
    w->sent_version = l->st.version;
    w->last_sent = w->progress_at = w->weights_at = lc_net_now();
    l->st.msgs_out++;
    l->st.bytes_out += len;
}

// ---------------------------------------------------------------- workers

static wslot *find_worker(lc_learner *l, const lc_frames *f) {
    for (int i = 0; i < LC_LEARNER_MAX_WORKERS; i++) {
        wslot *w = &l->w[i];
        if (w->id_len && w->id_len == f->ident_len && memcmp(w->id, f->ident, w->id_len) == 0)
            return w;
    }
    return NULL;
}

static int live_workers(const lc_learner *l) {
    int n = 0;
    for (int i = 0; i < LC_LEARNER_MAX_WORKERS; i++) n += l->w[i].id_len > 0;
    return n;
}

static void on_hello(lc_learner *l, const lc_frames *f, const lc_msg *m, double now) {
    wslot *w = find_worker(l, f);
    if (w) {
        // Hello again from a worker we know: its setup was lost (or the hello was
        // duplicated on the way). It keeps its number and slot; setup and weights again.
        logf_(l, "worker %d said hello again: setup re-sent", w->worker_id);
    } else {
        for (int i = 0; !w && i < LC_LEARNER_MAX_WORKERS; i++)
            if (!l->w[i].id_len) w = &l->w[i];
        if (!w) {
            send_error(l, f, LC_ERR_SIZE, "the learner has all the workers it can hold");
            return;
        }
        memset(w, 0, sizeof *w);
        memcpy(w->id, f->ident, f->ident_len);
        w->id_len = f->ident_len;
        w->worker_id = l->next_worker_id++;
        w->num_envs = m->hello.num_envs ? m->hello.num_envs
                      : l->cfg.worker_num_envs ? l->cfg.worker_num_envs : l->cfg.ppo.num_envs;
        snprintf(w->name, sizeof w->name, "%s", m->hello.name);
        w->sent_version = -1;
        w->seg_version = -1;
        l->st.workers_joined++;
        logf_(l, "worker %d (%s) joined with %d envs; %d live", w->worker_id,
              w->name[0] ? w->name : "?", w->num_envs, live_workers(l));
    }
    w->last_seen = now;
    lc_msg s = lc_msg_init(LC_MSG_SETUP);
    struct lc_msg_setup *x = &s.setup;
    x->worker_id = w->worker_id;
    snprintf(x->env, sizeof x->env, "%s", l->env_name);
    snprintf(x->params, sizeof x->params, "%s", l->env_params);
    x->max_episode_steps = l->cfg.max_episode_steps;
    x->num_envs = w->num_envs;
    x->num_steps = l->T;
    x->seed = l->cfg.ppo.seed;
    x->segments_per_version = l->cfg.sync ? 1 : l->cfg.max_lag + 1;
    x->heartbeat_ms = (int)(l->cfg.heartbeat_s * 1000 + 0.5);
    x->timeout_ms = (int)(l->cfg.worker_timeout_s * 1000 + 0.5);
    x->normalize_reward = l->cfg.ppo.normalize_reward != 0;
    x->gamma = l->cfg.ppo.gamma;
    x->clip_reward = l->cfg.ppo.clip_reward;
    x->policy.present = 1;
    x->policy.data = l->policy_file;
    x->policy.size = l->policy_file_len;
    if (l->model) {
        x->model.present = 1;
        x->model.data = l->model;
        x->model.size = l->model_len;
    }
    if (send_msg(l, w, f->ident, f->ident_len, &s) == LC_OK) send_weights(l, w);
}

static int all_finite(const float *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i])) return 0;
    return 1;
}

// Copies a segment out of the frame and checks everything PPO will trust.
static int take_segment(lc_learner *l, const wslot *w, const struct lc_msg_rollout *x, segment *s,
                        lc_error *err) {
    if (x->worker_id != w->worker_id)
        return lc_fail(err, LC_ERR_PROTO, "rollout from worker %d tagged worker %d", w->worker_id,
                       x->worker_id);
    if (x->T != l->T || x->N != w->num_envs)
        return lc_fail(err, LC_ERR_SHAPE, "rollout is %d steps x %d envs, expected %d x %d", x->T,
                       x->N, l->T, w->num_envs);
    lc_dtype adt = l->act_space.kind == LC_SPACE_BOX ? LC_F32 : LC_I32;
    if (x->obs.dtype != l->obs_space.dtype || x->obs.shape[2] != l->O || x->actions.dtype != adt ||
        x->actions.shape[2] != l->A)
        return lc_fail(err, LC_ERR_SHAPE, "rollout obs (%s, %lld) or actions (%s, %lld) do not "
                       "match the policy (%s, %d) (%s, %d)",
                       lc_dtype_name(x->obs.dtype), (long long)x->obs.shape[2],
                       lc_dtype_name(x->actions.dtype), (long long)x->actions.shape[2],
                       lc_dtype_name(l->obs_space.dtype), l->O, lc_dtype_name(adt), l->A);
    if (x->state0.present != (l->S > 0) || (l->S > 0 && x->state0.shape[1] != l->S))
        return lc_fail(err, LC_ERR_SHAPE, "rollout state0 does not match the policy's %d floats",
                       l->S);
    int rc = lc_rollout_init(&s->r, x->T, x->N, &l->obs_space, &l->act_space, l->S, err);
    if (rc) return rc;
    lc_rollout *r = &s->r;
    size_t TN = (size_t)x->T * (size_t)x->N;
    lc_wire_tensor_copy(r->obs, &x->obs);
    lc_wire_tensor_copy(r->actions, &x->actions);
    lc_wire_tensor_copy(r->logp, &x->logp);
    lc_wire_tensor_copy(r->values, &x->values);
    lc_wire_tensor_copy(r->rewards, &x->rewards);
    lc_wire_tensor_copy(r->final_values, &x->final_values);
    lc_wire_tensor_copy(r->terminated, &x->terminated);
    lc_wire_tensor_copy(r->truncated, &x->truncated);
    lc_wire_tensor_copy(r->starts, &x->starts);
    lc_wire_tensor_copy(r->next_value, &x->next_value);
    lc_wire_tensor_copy(r->next_start, &x->next_start);
    if (l->S) lc_wire_tensor_copy(r->state0, &x->state0);
    for (size_t i = 0; i < TN; i++) {
        r->terminated[i] = r->terminated[i] != 0;
        r->truncated[i] = r->truncated[i] != 0 && !r->terminated[i];
        r->starts[i] = r->starts[i] != 0;
    }
    for (int i = 0; i < x->N; i++) r->next_start[i] = r->next_start[i] != 0;
    int ok = all_finite(r->logp, TN) && all_finite(r->values, TN) && all_finite(r->rewards, TN) &&
             all_finite(r->final_values, TN) && all_finite(r->next_value, (size_t)x->N) &&
             (!l->S || all_finite(r->state0, (size_t)x->N * l->S)) &&
             (l->obs_space.dtype != LC_F32 || all_finite(r->obs, TN * l->O));
    if (!ok) return lc_fail(err, LC_ERR_NAN, "rollout holds non-finite numbers");
    size_t na = TN * (size_t)l->A;
    if (l->act_space.kind == LC_SPACE_BOX) {
        if (!all_finite(r->actions, na)) return lc_fail(err, LC_ERR_NAN, "rollout actions are not finite");
    } else {
        const int32_t *a = r->actions;
        for (size_t i = 0; i < na; i++) {
            int n = l->act_space.kind == LC_SPACE_DISCRETE ? l->act_space.n
                                                           : l->act_space.nvec[i % (size_t)l->A];
            if (a[i] < 0 || a[i] >= n)
                return lc_fail(err, LC_ERR_ACTION, "rollout action %d outside [0, %d)", a[i], n);
        }
    }
    s->version = x->version;
    s->worker_id = w->worker_id;
    s->episodes = x->episodes;
    s->return_sum = x->return_sum;
    s->length_sum = x->length_sum;
    return LC_OK;
}

// FNV-1a over a segment's message: the same bytes twice are one segment sent twice.
static uint64_t msg_hash(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h ^ n;
}

static void on_rollout(lc_learner *l, wslot *w, lc_frames *f, const lc_msg *m) {
    const struct lc_msg_rollout *x = &m->rollout;
    int64_t v = l->st.version;
    uint64_t h = msg_hash(lc_frames_data(f), lc_frames_size(f));
    for (int i = 0; i < w->nseen && i < LC_LEARNER_SEEN; i++)
        if (w->seen[i] == h) { // a copy (the network duplicated it): never trained twice
            l->st.segments_dup++;
            return;
        }
    if (x->version > v) {
        l->st.segments_bad++;
        send_error(l, f, LC_ERR_PROTO, "rollout from a weights version the learner never sent");
        return;
    }
    // Older than the allowed lag, or than a segment this worker already delivered (a
    // delayed message overtaken on the way): stale.
    if (x->version < v - l->cfg.max_lag || x->version < w->seg_version) {
        l->st.segments_stale++;
        return;
    }
    if (w->seg_version != x->version) w->seg_version = x->version, w->seg_count = 0;
    int cap = l->cfg.sync ? 1 : l->cfg.max_lag + 1;
    if (++w->seg_count > cap) {
        l->st.segments_bad++;
        send_error(l, f, LC_ERR_PROTO, "more segments for one weights version than allowed");
        return;
    }
    if (l->nseg == l->seg_cap) {
        int cap2 = l->seg_cap ? 2 * l->seg_cap : 16;
        segment *s = realloc(l->seg, (size_t)cap2 * sizeof *s);
        if (!s) {
            logf_(l, "out of memory for segments: one dropped");
            return;
        }
        l->seg = s, l->seg_cap = cap2;
    }
    segment *s = &l->seg[l->nseg];
    memset(s, 0, sizeof *s);
    lc_error e = {0};
    if (take_segment(l, w, x, s, &e)) {
        if (s->r.obs) lc_rollout_free(&s->r);
        l->st.segments_bad++;
        logf_(l, "worker %d: rollout refused: %s", w->worker_id, e.msg);
        send_error(l, f, e.code, e.msg);
        return;
    }
    l->nseg++;
    w->seen[w->nseen++ % LC_LEARNER_SEEN] = h;
    w->progress_at = lc_net_now();
    w->rtt = w->progress_at - w->weights_at;
    if (l->cfg.sync && x->version == v) w->delivered = 1;
    if (l->cfg.on_segment)
        l->cfg.on_segment(l->cfg.cb_ctx, w->worker_id, x->version, lc_frames_data(f),
                          lc_frames_size(f));
}

static void on_message(lc_learner *l, lc_frames *f, double now) {
    l->st.msgs_in++;
    l->st.bytes_in += lc_frames_size(f) + f->ident_len;
    wslot *w = find_worker(l, f);
    if (w) w->last_seen = now;
    lc_msg m;
    lc_error e = {0};
    int rc;
    if (f->envelope_bad) {
        l->counts.rejected++;
        l->counts.by_code[LC_ERR_PROTO]++;
        rc = lc_fail(&e, LC_ERR_PROTO, "expected a single payload frame");
    } else {
        rc = lc_proto_decode(&m, lc_frames_data(f), lc_frames_size(f), l->cfg.max_frame,
                             &l->counts, &e);
    }
    if (rc) {
        send_error(l, f, rc, e.msg);
        return;
    }
    switch (m.type) {
    case LC_MSG_HELLO: on_hello(l, f, &m, now); return;
    case LC_MSG_ROLLOUT:
        if (w) on_rollout(l, w, f, &m);
        else send_error(l, f, LC_ERR_STATE, "unknown worker: say hello first");
        return;
    case LC_MSG_HEARTBEAT:
        if (!w) send_error(l, f, LC_ERR_STATE, "unknown worker: say hello first");
        return;
    case LC_MSG_BYE:
        if (w) {
            logf_(l, "worker %d left (%s)", w->worker_id, m.bye.reason);
            memset(w, 0, sizeof *w);
        }
        return;
    case LC_MSG_ERROR:
        logf_(l, "worker %d reports: %s: %s", w ? w->worker_id : -1, lc_status_str(m.error.code),
              m.error.msg);
        return;
    default:
        send_error(l, f, LC_ERR_PROTO, "not a message the learner takes");
        return;
    }
}

static void housekeeping(lc_learner *l, double now) {
    for (int i = 0; i < LC_LEARNER_MAX_WORKERS; i++) {
        wslot *w = &l->w[i];
        if (!w->id_len) continue;
        if (now - w->last_seen > l->cfg.worker_timeout_s) {
            l->st.workers_lost++;
            logf_(l, "worker %d (%s) silent for %.1f s: declared dead; %d live", w->worker_id,
                  w->name[0] ? w->name : "?", now - w->last_seen, live_workers(l) - 1);
            memset(w, 0, sizeof *w);
            continue;
        }
        // Weights out, no segment back for a while (two heartbeat intervals, and three
        // times the worker's last weights-to-segment time, so a slow env is not hurried):
        // the weights or the segment was lost on the way. The same weights again (the
        // worker answers with a segment).
        double resend = 2 * l->cfg.heartbeat_s > 3 * w->rtt ? 2 * l->cfg.heartbeat_s : 3 * w->rtt;
        if (w->sent_version >= 0 && l->have_weights && !(l->cfg.sync && w->delivered) &&
            now - w->progress_at > resend) {
            l->st.weights_resent++;
            send_weights(l, w);
        }
        if (now - w->last_sent >= l->cfg.heartbeat_s) {
            lc_msg hb = lc_msg_init(LC_MSG_HEARTBEAT);
            send_msg(l, w, w->id, w->id_len, &hb);
        }
    }
}

// ---------------------------------------------------------------- updates

static int batch_due(const lc_learner *l) {
    if (l->nseg == 0) return 0;
    if (l->st.updates == 0 && l->st.workers_joined < l->cfg.min_workers) return 0;
    if (l->cfg.sync) {
        for (int i = 0; i < LC_LEARNER_MAX_WORKERS; i++) {
            const wslot *w = &l->w[i];
            if (w->id_len && w->sent_version == l->st.version && !w->delivered) return 0;
        }
        return 1;
    }
    int cols = 0, target = 0;
    for (int i = 0; i < l->nseg; i++) cols += l->seg[i].r.N;
    for (int i = 0; i < LC_LEARNER_MAX_WORKERS; i++)
        if (l->w[i].id_len) target += l->w[i].num_envs;
    return cols >= target;
}

static int by_worker(const void *a, const void *b) {
    const segment *x = a, *y = b;
    if (x->worker_id != y->worker_id) return x->worker_id < y->worker_id ? -1 : 1;
    return x->version < y->version ? -1 : x->version > y->version;
}

static int update(lc_learner *l, lc_error *err) {
    int cols = 0, rc;
    qsort(l->seg, (size_t)l->nseg, sizeof *l->seg, by_worker);
    int64_t eps = 0;
    double ret = 0, len = 0;
    for (int i = 0; i < l->nseg; i++) {
        cols += l->seg[i].r.N;
        eps += l->seg[i].episodes;
        ret += l->seg[i].return_sum;
        len += l->seg[i].length_sum;
    }
    if (l->batch_ready && l->batch.N != cols) {
        lc_rollout_free(&l->batch);
        l->batch_ready = 0;
    }
    if (!l->batch_ready) {
        if ((rc = lc_rollout_init(&l->batch, l->T, cols, &l->obs_space, &l->act_space, l->S, err)))
            return rc;
        l->batch_ready = 1;
    }
    for (int i = 0, c = 0; i < l->nseg; c += l->seg[i].r.N, i++)
        if ((rc = lc_rollout_copy_columns(&l->batch, c, &l->seg[i].r, err))) return rc;
    int nseg = l->nseg;
    free_segments(l);
    if (!l->cfg.skip_update) {
        const lc_ppo_cfg *pc = &l->cfg.ppo;
        float lr = lc_lr_at(pc->anneal_lr ? LC_SCHED_LINEAR : LC_SCHED_CONST, pc->lr,
                            l->st.global_step, pc->total_steps, 0);
        lc_error e = {0};
        rc = lc_ppo_update(l->policy, &l->batch, pc, lr, &l->rng, &l->st.ppo, &e);
        if (rc == LC_ERR_NAN) {
            // Parameters are restored by lc_ppo_update; a poisoned batch is dropped.
            l->st.nan_updates++;
            logf_(l, "update refused (%s): batch dropped", e.msg);
            if (++l->nan_streak >= 10)
                return lc_fail(err, LC_ERR_NAN, "10 updates in a row were not finite: %s", e.msg);
        } else if (rc) {
            return lc_fail(err, rc, "%s", e.msg);
        } else {
            l->nan_streak = 0;
        }
    }
    l->st.global_step += (int64_t)l->T * cols;
    l->st.segments += nseg;
    l->st.updates++;
    l->st.version++;
    l->st.episodes += eps;
    l->st.episode_return = eps ? ret / (double)eps : NAN;
    l->st.episode_length = eps ? len / (double)eps : NAN;
    if ((rc = encode_weights(l, err))) return rc;
    for (int i = 0; i < LC_LEARNER_MAX_WORKERS; i++) {
        wslot *w = &l->w[i];
        if (!w->id_len) continue;
        w->delivered = 0;
        if (w->sent_version >= 0) send_weights(l, w);
    }
    return LC_OK;
}

// After the end: a worker whose identity the learner did not know when it sent its
// byes (it reconnected with a new socket, or it was declared dead while alive and
// says hello, a heartbeat or a segment later) would otherwise wait for a learner that
// is gone. For a grace period of two heartbeat intervals (1 to 2 s) every hello,
// rollout and heartbeat is answered with bye; it ends early when every worker known
// at the end has said bye back and none was declared dead during the run.
static void farewell(lc_learner *l, const lc_msg *bye) {
    double grace = 2 * l->cfg.heartbeat_s;
    grace = grace < 1.0 ? 1.0 : grace > 2.0 ? 2.0 : grace;
    double end = lc_net_now() + grace;
    int answered = 0;
    for (;;) {
        if (l->cfg.stop && atomic_load(l->cfg.stop)) break;
        if (l->st.workers_lost == 0 && live_workers(l) == 0) break;
        double left = end - lc_net_now();
        if (left <= 0) break;
        zmq_pollitem_t it = {l->net.sock, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&it, 1, left < 0.05 ? 1 + (long)(left * 1000) : 50);
        if (n < 0 && zmq_errno() != EINTR) break;
        for (int burst = 0; n > 0 && burst < 256; burst++) {
            lc_frames f;
            int got = 0;
            lc_error e = {0};
            if (lc_net_recv(l->net.sock, 1, &f, &got, &e) || !got) break;
            l->st.msgs_in++;
            l->st.bytes_in += lc_frames_size(&f) + f.ident_len;
            lc_msg m;
            if (!f.envelope_bad && lc_proto_decode(&m, lc_frames_data(&f), lc_frames_size(&f),
                                                   l->cfg.max_frame, &l->counts, &e) == LC_OK) {
                wslot *w = find_worker(l, &f);
                if (m.type == LC_MSG_HELLO || m.type == LC_MSG_ROLLOUT || m.type == LC_MSG_HEARTBEAT) {
                    send_msg(l, w, f.ident, f.ident_len, bye);
                    answered++;
                } else if (m.type == LC_MSG_BYE && w) {
                    memset(w, 0, sizeof *w);
                }
            }
            lc_frames_close(&f);
        }
    }
    if (answered) logf_(l, "answered %d late message%s with bye", answered, answered == 1 ? "" : "s");
}

int lc_learner_run(lc_learner *l, lc_error *err) {
    int rc = encode_weights(l, err);
    if (rc) return rc;
    double t0 = lc_net_now();
    int64_t step0 = l->st.global_step;
    logf_(l, "learner on %s: %s, %s, T = %d, %lld steps", l->net.endpoint, l->env_name,
          l->cfg.sync ? "sync" : "async", l->T, (long long)l->cfg.ppo.total_steps);
    int stopped = 0, finished = l->st.global_step >= l->cfg.ppo.total_steps;
    while (!finished && !stopped) {
        if (l->cfg.stop && atomic_load(l->cfg.stop)) {
            stopped = 1;
            break;
        }
        zmq_pollitem_t it = {l->net.sock, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&it, 1, 50);
        if (n < 0 && zmq_errno() != EINTR)
            return lc_fail(err, LC_ERR_NET, "poll: %s", zmq_strerror(zmq_errno()));
        double now = lc_net_now();
        for (int burst = 0; n > 0 && burst < 256; burst++) {
            lc_frames f;
            int got = 0;
            if ((rc = lc_net_recv(l->net.sock, 1, &f, &got, err))) return rc;
            if (!got) break;
            on_message(l, &f, now);
            lc_frames_close(&f);
        }
        housekeeping(l, lc_net_now());
        if (!batch_due(l)) continue;
        if ((rc = update(l, err))) return rc;
        double wall = lc_net_now() - t0;
        l->st.wall_s = wall;
        l->st.sps = wall > 0 ? (double)(l->st.global_step - step0) / wall : 0;
        finished = l->st.global_step >= l->cfg.ppo.total_steps;
        if (l->cfg.out_path && !finished && l->cfg.checkpoint_every > 0 &&
            l->st.updates % l->cfg.checkpoint_every == 0 &&
            (rc = lc_learner_save(l, l->cfg.out_path, err)))
            return rc;
        if (l->cfg.on_update) {
            lc_learner_stats st;
            lc_learner_get_stats(l, &st);
            if (l->cfg.on_update(l->cfg.cb_ctx, &st)) stopped = 1;
        }
    }
    l->st.wall_s = lc_net_now() - t0;
    lc_msg bye = lc_msg_init(LC_MSG_BYE);
    snprintf(bye.bye.reason, sizeof bye.bye.reason, "training done");
    if (finished)
        for (int i = 0; i < LC_LEARNER_MAX_WORKERS; i++)
            if (l->w[i].id_len) send_msg(l, &l->w[i], l->w[i].id, l->w[i].id_len, &bye);
    logf_(l, "%s at step %lld, version %lld", finished ? "finished" : "stopped",
          (long long)l->st.global_step, (long long)l->st.version);
    if (l->cfg.out_path) rc = lc_learner_save(l, l->cfg.out_path, err);
    if (finished) {
        farewell(l, &bye);
        // Sockets drop what is queued when closed (linger 0): give the byes up to 1 s to
        // leave, or a worker waits for a learner that is gone until it gives up.
        int linger = 1000;
        zmq_setsockopt(l->net.sock, ZMQ_LINGER, &linger, sizeof linger);
    }
    return rc;
}

// worldmodel/dream.c: the "dream:" env backend and the batched sampler under it
// (see dream.h for the sampling rule, params and render).
// Leaves out: thread splitting (can_split = 0: one batched forward serves all envs).
//
// Letters: N = envs, O = obs_size, I = model input, Y = O + 1, OUT = 2 Y + 1, K = elites.
#include "worldmodel/dream.h"
#include "worldmodel/genie.h"
#include "worldmodel/genie_impl.h"
#include "worldmodel/genie_tokens.h"
#include "worldmodel/genie_tokens_impl.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>

struct lc_dream {
    const lc_ensemble *m;
    int N;
    lc_dream_params p;
    float *x;      // (N, I) normalised inputs
    float *acts;   // activation scratch for N rows
    float *mu;     // (K, N, Y) normalised means per elite
    float *raw;    // (K, N, Y) raw (unbounded) log-variances per elite
    float *z;      // (N, O) normalised next observations for the termination classifier
    float *logit;  // (N)
};

static const lc_setting DREAM_ROWS[] = {
#define ROW(...) LC_SETTING_ROW_(lc_dream_params, __VA_ARGS__)
    LC_DREAM_SETTINGS(ROW)
#undef ROW
};
static const lc_settings DREAM = {"dream", DREAM_ROWS, (int)(sizeof DREAM_ROWS / sizeof DREAM_ROWS[0])};

const lc_settings *lc_dream_settings(void) { return &DREAM; }

lc_dream_params lc_dream_params_default(void) {
    lc_dream_params p;
    memset(&p, 0, sizeof p);
    lc_settings_defaults(&DREAM, &p);
    return p;
}

int lc_dream_params_parse(lc_dream_params *p, const char *s, lc_error *err) {
    return lc_settings_parse(&DREAM, p, s, err);
}

// ---------------------------------------------------------------- the sampler

void lc_dream_free(lc_dream *d) {
    if (!d) return;
    free(d->x);
    free(d->acts);
    free(d->mu);
    free(d->raw);
    free(d->z);
    free(d->logit);
    free(d);
}

int lc_dream_new(lc_dream **out, const lc_ensemble *m, int N, const lc_dream_params *p,
                 lc_error *err) {
    *out = NULL;
    if (N < 1) return lc_fail(err, LC_ERR_ARG, "dream: num_envs must be >= 1");
    if (p->branch && m->n_states == 0)
        return lc_fail(err, LC_ERR_ARG, "dream: branch=1 needs real states in the model file "
                       "(train it with max_states > 0)");
    lc_dream *d = calloc(1, sizeof *d);
    if (!d) return lc_fail(err, LC_ERR_NOMEM, "dream: out of memory");
    d->m = m;
    d->N = N;
    d->p = *p;
    size_t K = (size_t)m->n_elites, n = (size_t)N;
    d->x = malloc(n * m->in_size * sizeof(float));
    d->acts = malloc(lc_ensemble_act_size(m, N) * sizeof(float));
    d->mu = malloc(K * n * m->Y * sizeof(float));
    d->raw = malloc(K * n * m->Y * sizeof(float));
    d->z = malloc(n * m->O * sizeof(float));
    d->logit = malloc(n * sizeof(float));
    if (!d->x || !d->acts || !d->mu || !d->raw || !d->z || !d->logit) {
        lc_dream_free(d);
        return lc_fail(err, LC_ERR_NOMEM, "dream: out of memory for %d envs", N);
    }
    *out = d;
    return LC_OK;
}

static inline float softplus(float x) { return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x))); }

void lc_dream_step(lc_dream *d, float *state, const void *actions, int n, float *rewards,
                   uint8_t *terminated, float *disagreement, lc_rng *rngs) {
    const lc_ensemble *m = d->m;
    assert(n >= 1 && n <= d->N);
    const int O = m->O, Y = m->Y, OUT = m->OUT, K = m->n_elites;
    const size_t KY = (size_t)n * Y;
    lc_ensemble_encode(m, state, actions, n, d->x);
    for (int k = 0; k < K; k++) {
        const float *o = lc_mlp_forward(&m->mlp[m->elites[k]], &m->params, d->acts, d->x, n);
        float *mu = d->mu + k * KY, *raw = d->raw + k * KY;
        for (int b = 0; b < n; b++) {
            const float *ob = o + (size_t)b * OUT;
            memcpy(mu + (size_t)b * Y, ob, (size_t)Y * sizeof(float));
            memcpy(raw + (size_t)b * Y, ob + Y, (size_t)Y * sizeof(float));
        }
    }
    const float T = d->p.temperature, L = d->p.penalty;
    for (int b = 0; b < n; b++) {
        int k = K > 1 ? (int)lc_rng_below(&rngs[b], (uint32_t)K) : 0;
        int e = m->elites[k];
        const float *mu = d->mu + k * KY + (size_t)b * Y, *raw = d->raw + k * KY + (size_t)b * Y;
        const float *mx = lc_param(&m->params, m->maxlv[e]), *mn = lc_param(&m->params, m->minlv[e]);
        float *s = state + (size_t)b * O;
        for (int j = 0; j < O; j++) {
            float delta = mu[j];
            if (T > 0) {
                float a = mx[j] - softplus(mx[j] - raw[j]);
                float lv = mn[j] + softplus(a - mn[j]);
                delta += T * expf(0.5f * lv) * (float)lc_rng_normal(&rngs[b]);
            }
            s[j] += m->out_mean[j] + m->out_std[j] * delta;
        }
        // Disagreement: max over elites of the distance of its mean from the elites' mean.
        float dis = 0.0f;
        if (K > 1) {
            float bar[64];
            const float *mub = d->mu + (size_t)b * Y;
            float maxd = 0.0f;
            if (O <= 64) {
                for (int j = 0; j < O; j++) {
                    float acc = 0.0f;
                    for (int q = 0; q < K; q++) acc += mub[q * KY + j];
                    bar[j] = acc / (float)K;
                }
                for (int q = 0; q < K; q++) {
                    float dd = 0.0f;
                    for (int j = 0; j < O; j++) {
                        float v = mub[q * KY + j] - bar[j];
                        dd += v * v;
                    }
                    if (dd > maxd) maxd = dd;
                }
            } else {
                for (int q = 0; q < K; q++) {
                    float dd = 0.0f;
                    for (int j = 0; j < O; j++) {
                        float acc = 0.0f;
                        for (int r = 0; r < K; r++) acc += mub[r * KY + j];
                        float v = mub[q * KY + j] - acc / (float)K;
                        dd += v * v;
                    }
                    if (dd > maxd) maxd = dd;
                }
            }
            dis = sqrtf(maxd);
        }
        if (disagreement) disagreement[b] = dis;
        rewards[b] = m->out_mean[O] + m->out_std[O] * mu[O] - L * dis;
    }
    lc_ensemble_clamp_obs(m, state, n);
    lc_ensemble_term_logit(m, d->acts, d->z, state, n, d->logit);
    for (int b = 0; b < n; b++) terminated[b] = d->logit[b] > 0.0f; // sigmoid(logit) > 0.5
}

void lc_dream_start(const lc_dream *d, lc_rng *rng, float *obs) {
    const lc_ensemble *m = d->m;
    const float *src;
    if (d->p.branch && m->n_states) {
        size_t i = lc_rng_below(rng, (uint32_t)(m->n_states > UINT32_MAX ? UINT32_MAX : m->n_states));
        src = m->states + i * m->O;
    } else {
        size_t i = lc_rng_below(rng, (uint32_t)(m->n_starts > UINT32_MAX ? UINT32_MAX : m->n_starts));
        src = m->starts + i * m->O;
    }
    memcpy(obs, src, (size_t)m->O * sizeof(float));
}

// ---------------------------------------------------------------- the env backend

typedef struct dream_env {
    lc_ensemble *m;  // owned
    lc_dream *d;
    int N;
    float *state;    // (N, O) the current observations
    float *dis;      // (N) disagreement scratch
} dream_env;

static void dream_env_destroy(void *data) {
    dream_env *de = data;
    if (!de) return;
    lc_dream_free(de->d);
    lc_ensemble_free(de->m);
    free(de->state);
    free(de->dis);
    free(de);
}

static void dream_env_reset(void *data, int i, lc_rng *rng, void *obs_row) {
    dream_env *de = data;
    float *s = de->state + (size_t)i * de->m->O;
    lc_dream_start(de->d, rng, s);
    memcpy(obs_row, s, (size_t)de->m->O * sizeof(float));
}

static void dream_env_step(void *data, int i0, int i1, const void *actions, void *obs,
                           float *rewards, uint8_t *terminated, float *info, lc_rng *rngs) {
    dream_env *de = data;
    const lc_ensemble *m = de->m;
    int O = m->O, A = lc_space_size(&m->act_space), n = i1 - i0;
    if (n <= 0) return;
    float *s = de->state + (size_t)i0 * O;
    const void *a = (const char *)actions + (size_t)i0 * A * 4;
    lc_dream_step(de->d, s, a, n, rewards + i0, terminated + i0, de->dis, rngs + i0);
    memcpy((float *)obs + (size_t)i0 * O, s, (size_t)n * O * sizeof(float));
    if (info)
        for (int b = 0; b < n; b++) info[i0 + b] = de->dis[b];
}

static void put(uint8_t *rgb, int w, int h, int x, int y, uint32_t c) {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    uint8_t *p = rgb + ((size_t)y * w + x) * 3;
    p[0] = (uint8_t)(c >> 16);
    p[1] = (uint8_t)(c >> 8);
    p[2] = (uint8_t)c;
}

static int dream_env_render(void *data, int i, uint8_t *rgb, int w, int h) {
    dream_env *de = data;
    const lc_ensemble *m = de->m;
    int O = m->O;
    for (size_t p = 0; p < (size_t)w * h; p++) {
        rgb[p * 3] = 250;
        rgb[p * 3 + 1] = 250;
        rgb[p * 3 + 2] = 245;
    }
    int mid = h / 2, half = h / 2 - 4 > 1 ? h / 2 - 4 : 1;
    const float *s = de->state + (size_t)i * O;
    double slot = (double)w / O;
    for (int j = 0; j < O; j++) {
        float z = (s[j] - m->in_mean[j]) / m->in_std[j] / 3.0f;
        if (!(z == z)) z = 0.0f;
        if (z > 1.0f) z = 1.0f;
        if (z < -1.0f) z = -1.0f;
        int len = (int)lroundf(z * (float)half);
        int x0 = (int)(j * slot + slot * 0.2), x1 = (int)((j + 1) * slot - slot * 0.2);
        if (x1 <= x0) x1 = x0 + 1;
        uint32_t c = z >= 0 ? 0x3b6fb6u : 0xd1495bu;
        int ya = len >= 0 ? mid - len : mid, yb = len >= 0 ? mid : mid - len;
        for (int y = ya; y <= yb; y++)
            for (int x = x0; x < x1; x++) put(rgb, w, h, x, y, c);
    }
    for (int x = 0; x < w; x++) put(rgb, w, h, x, mid, 0x303030u);
    return 0;
}

static int split_name(const char *name, char *path, size_t pn, const char **params, lc_error *err) {
    const char *p = strncmp(name, "dream:", 6) == 0 ? name + 6 : name;
    const char *q = strchr(p, '?');
    size_t len = q ? (size_t)(q - p) : strlen(p);
    if (len == 0) return lc_fail(err, LC_ERR_ARG, "dream: no model file given (dream:MODEL.lucid)");
    if (len >= pn) return lc_fail(err, LC_ERR_ARG, "dream: model path too long");
    memcpy(path, p, len);
    path[len] = '\0';
    *params = q ? q + 1 : NULL;
    return LC_OK;
}

// ---------------------------------------------------------------- model files

// A dream: env reads its model file once per process. The decoded container of the
// last MODEL_CACHE model files is kept, keyed by path and checked against the file's
// identity (device, inode, size, modification time) at every use, so a rewritten
// model is read again. `lucid train --env dream:M` makes the env three times (the
// defaults by spaces, the trainer, the evaluation) and opens M once.
#define MODEL_CACHE 4
typedef struct model_entry {
    char path[4096];
    struct stat st;
    lc_file *f;
    uint64_t used;
} model_entry;
static model_entry models[MODEL_CACHE];
static uint64_t models_clock;
static pthread_mutex_t models_mu = PTHREAD_MUTEX_INITIALIZER;

static int same_file(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

// Calls fn(ctx, f, err) with the decoded file at path, under the cache's lock (fn
// copies what it keeps: the container may be dropped later).
static int with_model_file(const char *path, int (*fn)(void *ctx, const lc_file *f, lc_error *err),
                           void *ctx, lc_error *err) {
    struct stat st;
    if (stat(path, &st) != 0) return lc_fail(err, LC_ERR_IO, "%s: %s", path, strerror(errno));
    pthread_mutex_lock(&models_mu);
    model_entry *e = NULL, *lru = &models[0];
    for (int i = 0; i < MODEL_CACHE; i++) {
        if (models[i].f && strcmp(models[i].path, path) == 0) e = &models[i];
        if (models[i].used < lru->used) lru = &models[i];
    }
    int rc = LC_OK;
    if (!e || !same_file(&e->st, &st)) {
        if (!e) e = lru;
        lc_file_free(e->f);
        e->f = NULL;
        lc_file *f = NULL;
        if ((rc = lc_file_read(path, &f, err)) == LC_OK) {
            snprintf(e->path, sizeof e->path, "%s", path);
            e->st = st;
            e->f = f;
        }
    }
    if (rc == LC_OK) {
        e->used = ++models_clock;
        if ((rc = fn(ctx, e->f, err))) lc_error_prefix(err, "%s: ", path);
    }
    pthread_mutex_unlock(&models_mu);
    return rc;
}

static int load_ensemble(void *ctx, const lc_file *f, lc_error *err) {
    return lc_ensemble_from_file((lc_ensemble **)ctx, f, err);
}

static int load_genie(void *ctx, const lc_file *f, lc_error *err) {
    return lc_genie_from_file((lc_genie **)ctx, f, err);
}

static int load_gtok(void *ctx, const lc_file *f, lc_error *err) {
    return lc_gtok_from_file((lc_gtok **)ctx, f, err);
}

static int file_kind(void *ctx, const lc_file *f, lc_error *err) {
    (void)err;
    snprintf((char *)ctx, 32, "%s", lc_file_kind(f));
    return LC_OK;
}

int lc_dream_env_ctor(lc_env_impl *impl, const char *name, int num_envs,
                      const lc_env_opts *opts, lc_error *err) {
    char path[4096];
    const char *name_params = NULL;
    int rc = split_name(name, path, sizeof path, &name_params, err);
    if (rc) return rc;
    char kind[32];
    if ((rc = with_model_file(path, file_kind, kind, err))) return rc;
    if (strcmp(kind, "genie") == 0) { // the pixel Genie world, from the file read above
        lc_genie *g = NULL;
        if ((rc = with_model_file(path, load_genie, &g, err))) return rc;
        return lc_genie_env_of(impl, g, name_params, num_envs, opts, err);
    }
    if (strcmp(kind, "genie_tokens") == 0) { // a token world, likewise
        lc_gtok *g = NULL;
        if ((rc = with_model_file(path, load_gtok, &g, err))) return rc;
        return lc_gtok_env_of(impl, g, name_params, num_envs, opts, err);
    }
    lc_dream_params p = lc_dream_params_default();
    if ((rc = lc_dream_params_parse(&p, name_params, err))) return rc;
    if (opts && (rc = lc_dream_params_parse(&p, opts->params, err))) return rc;
    if (num_envs < 1) return lc_fail(err, LC_ERR_ARG, "dream: num_envs must be >= 1");
    dream_env *de = calloc(1, sizeof *de);
    if (!de) return lc_fail(err, LC_ERR_NOMEM, "dream: out of memory");
    de->N = num_envs;
    if ((rc = with_model_file(path, load_ensemble, &de->m, err))) goto fail;
    if ((rc = lc_dream_new(&de->d, de->m, num_envs, &p, err))) goto fail;
    de->state = calloc((size_t)num_envs * de->m->O, sizeof(float));
    de->dis = calloc((size_t)num_envs, sizeof(float));
    if (!de->state || !de->dis) {
        rc = lc_fail(err, LC_ERR_NOMEM, "dream: out of memory for %d envs", num_envs);
        goto fail;
    }
    memset(impl, 0, sizeof *impl);
    impl->obs_space = de->m->obs_space;
    impl->act_space = de->m->act_space;
    impl->max_episode_steps = p.horizon > 0 ? p.horizon : de->m->max_episode_steps;
    impl->can_split = 0;
    impl->render_w = 256;
    impl->render_h = 160;
    impl->n_info = 1;
    impl->info_names[0] = "disagreement";
    impl->data = de;
    impl->reset = dream_env_reset;
    impl->step = dream_env_step;
    impl->render = dream_env_render;
    impl->destroy = dream_env_destroy;
    return LC_OK;
fail:
    dream_env_destroy(de);
    return rc;
}

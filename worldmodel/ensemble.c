// worldmodel/ensemble.c: the probabilistic MLP ensemble: encoding, soft-bounded Gaussian
// heads, bootstrap training with early stopping, elites, evaluation, checkpoints.
// Leaves out: warm-starting from an earlier model, per-layer weight decay.
//
// Letters: E = members, O = obs_size, I = input size, Y = O + 1, OUT = 2 Y,
// H = hidden, HT = termination classifier hidden, N = rows, B = minibatch rows.
//
// Checkpoint (kind "worldmodel"): meta env, wm_version, obs_space.*, act_space.*,
// max_episode_steps, members, n_elites, hidden, layers, act, obs_size, in_size, term_hidden,
// val_* figures, epochs, train_rows, val_rows; tensors norm.in_mean, norm.in_std (I),
// norm.out_mean, norm.out_std (Y), elites (n_elites) int32, starts (S, O),
// optionally states (M, O), and the members' parameters wm.mK.wJ, wm.mK.bJ,
// wm.mK.maxlv, wm.mK.minlv, and the termination classifier's wm.term.wJ, wm.term.bJ.
#include "worldmodel/ensemble.h"
#include "core/settings.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lc_wm_config lc_wm_config_default(void) {
    lc_wm_config c;
    memset(&c, 0, sizeof c);
    c.members = 5;
    c.elites = 3;
    c.hidden = 200;
    c.layers = 3;
    c.act = LC_ACT_SILU;
    c.epochs = 100;
    c.patience = 5;
    c.batch = 256;
    c.lr = 1e-3f;
    c.weight_decay = 0.0f;
    c.val_frac = 0.2f;
    c.val_max = 5000;
    c.max_starts = 10000;
    c.max_states = 10000;
    c.term_hidden = 64;
    c.seed = 1;
    return c;
}

// ---------------------------------------------------------------- small maths

static inline float softplus(float x) { return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x))); }
static inline float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

static int act_enc_size(const lc_space *a) {
    if (a->kind == LC_SPACE_DISCRETE) return a->n;
    if (a->kind == LC_SPACE_MULTI_DISCRETE) {
        int s = 0;
        for (int i = 0; i < a->shape[0]; i++) s += a->nvec[i];
        return s;
    }
    return lc_space_size(a);
}

// ---------------------------------------------------------------- structure

static void ensemble_free_parts(lc_ensemble *m) {
    lc_params_free(&m->params);
    free(m->in_mean);
    free(m->in_std);
    free(m->out_mean);
    free(m->out_std);
    free(m->starts);
    free(m->states);
}

void lc_ensemble_free(lc_ensemble *m) {
    if (!m) return;
    ensemble_free_parts(m);
    free(m);
}

// Allocates a model for these spaces and sizes, defines (and allocates) its parameters.
static int ensemble_new(lc_ensemble **out, const char *env_name, const lc_space *os,
                        const lc_space *as, int max_episode_steps, int E, int n_elites, int hidden,
                        int layers, lc_act act, int term_hidden, lc_error *err) {
    *out = NULL;
    if (os->kind != LC_SPACE_BOX || os->dtype != LC_F32)
        return lc_fail(err, LC_ERR_UNSUPPORTED, "world model: observations must be a float Box");
    if (E < 1 || E > LC_WM_MAX_MEMBERS)
        return lc_fail(err, LC_ERR_ARG, "world model: members %d outside [1, %d]", E, LC_WM_MAX_MEMBERS);
    if (n_elites < 1 || n_elites > E)
        return lc_fail(err, LC_ERR_ARG, "world model: elites %d outside [1, members %d]", n_elites, E);
    if (hidden < 1 || hidden > 65536)
        return lc_fail(err, LC_ERR_ARG, "world model: hidden size %d outside [1, 65536]", hidden);
    if (layers < 1 || layers > LC_MLP_MAX_LAYERS - 1)
        return lc_fail(err, LC_ERR_ARG, "world model: hidden layers %d outside [1, %d]", layers,
                       LC_MLP_MAX_LAYERS - 1);
    if (term_hidden < 1 || term_hidden > 65536)
        return lc_fail(err, LC_ERR_ARG, "world model: termination hidden size %d outside [1, 65536]",
                       term_hidden);
    if (E * (2 * (layers + 1) + 2) + 6 > LC_MAX_TENSORS)
        return lc_fail(err, LC_ERR_ARG, "world model: %d members of %d layers exceed %d tensors", E,
                       layers, LC_MAX_TENSORS);
    int O = lc_space_size(os), A = act_enc_size(as);
    if (O < 1 || O > (1 << 20) || A < 1 || A > (1 << 16))
        return lc_fail(err, LC_ERR_SIZE, "world model: obs size %d or action encoding %d unsupported", O, A);
    lc_ensemble *m = calloc(1, sizeof *m);
    if (!m) return lc_fail(err, LC_ERR_NOMEM, "world model: out of memory");
    snprintf(m->env_name, sizeof m->env_name, "%s", env_name);
    m->obs_space = *os;
    m->act_space = *as;
    m->max_episode_steps = max_episode_steps;
    m->E = E;
    m->n_elites = n_elites;
    m->O = O;
    m->in_size = O + A;
    m->Y = O + 1;
    m->OUT = 2 * m->Y;
    m->term_hidden = term_hidden;
    m->hidden = hidden;
    m->layers = layers;
    m->act = act;
    lc_params_init(&m->params);
    int sizes[LC_MLP_MAX_LAYERS + 1];
    sizes[0] = m->in_size;
    for (int l = 1; l <= layers; l++) sizes[l] = hidden;
    sizes[layers + 1] = m->OUT;
    for (int e = 0; e < E; e++) {
        char name[LC_NAME_MAX];
        snprintf(name, sizeof name, "m%d", e);
        lc_mlp_define(&m->mlp[e], &m->params, name, layers + 1, sizes, act, 0);
        int shp[1] = {m->Y};
        snprintf(name, sizeof name, "m%d.maxlv", e);
        m->maxlv[e] = lc_params_add(&m->params, name, 1, shp);
        snprintf(name, sizeof name, "m%d.minlv", e);
        m->minlv[e] = lc_params_add(&m->params, name, 1, shp);
    }
    int tsizes[4] = {O, term_hidden, term_hidden, 1};
    lc_mlp_define(&m->term, &m->params, "term", 3, tsizes, act, 0);
    for (int k = 0; k < n_elites; k++) m->elites[k] = k;
    int rc = lc_params_alloc(&m->params, err);
    m->in_mean = calloc((size_t)m->in_size, sizeof(float));
    m->in_std = calloc((size_t)m->in_size, sizeof(float));
    m->out_mean = calloc((size_t)m->Y, sizeof(float));
    m->out_std = calloc((size_t)m->Y, sizeof(float));
    if (!rc && (!m->in_mean || !m->in_std || !m->out_mean || !m->out_std))
        rc = lc_fail(err, LC_ERR_NOMEM, "world model: out of memory");
    if (rc) {
        lc_ensemble_free(m);
        return rc;
    }
    *out = m;
    return LC_OK;
}

// ---------------------------------------------------------------- inference

size_t lc_ensemble_act_size(const lc_ensemble *m, int N) {
    size_t a = lc_mlp_act_size(&m->mlp[0], N), b = lc_mlp_act_size(&m->term, N);
    return a > b ? a : b;
}

void lc_ensemble_encode(const lc_ensemble *m, const float *obs, const void *actions, int N,
                        float *x) {
    int O = m->O, I = m->in_size, A = lc_space_size(&m->act_space);
    const lc_space *as = &m->act_space;
    for (int b = 0; b < N; b++) {
        float *row = x + (size_t)b * I;
        const float *o = obs + (size_t)b * O;
        for (int j = 0; j < O; j++) row[j] = o[j];
        float *ar = row + O;
        if (as->kind == LC_SPACE_BOX) {
            const float *a = (const float *)actions + (size_t)b * A;
            for (int j = 0; j < A; j++) ar[j] = a[j];
        } else {
            const int32_t *a = (const int32_t *)actions + (size_t)b * A;
            memset(ar, 0, (size_t)(I - O) * sizeof(float));
            if (as->kind == LC_SPACE_DISCRETE) {
                assert(a[0] >= 0 && a[0] < as->n);
                ar[a[0]] = 1.0f;
            } else {
                int off = 0;
                for (int j = 0; j < A; j++) {
                    assert(a[j] >= 0 && a[j] < as->nvec[j]);
                    ar[off + a[j]] = 1.0f;
                    off += as->nvec[j];
                }
            }
        }
        for (int j = 0; j < I; j++) row[j] = (row[j] - m->in_mean[j]) / m->in_std[j];
    }
}

void lc_ensemble_forward(const lc_ensemble *m, int e, float *acts, const float *x, int N,
                         float *mu, float *logvar) {
    assert(e >= 0 && e < m->E);
    const float *out = lc_mlp_forward(&m->mlp[e], &m->params, acts, x, N);
    int Y = m->Y, OUT = m->OUT;
    const float *mx = lc_param(&m->params, m->maxlv[e]), *mn = lc_param(&m->params, m->minlv[e]);
    for (int b = 0; b < N; b++) {
        const float *o = out + (size_t)b * OUT;
        if (mu) memcpy(mu + (size_t)b * Y, o, (size_t)Y * sizeof(float));
        if (logvar) {
            float *lv = logvar + (size_t)b * Y;
            for (int j = 0; j < Y; j++) {
                float a = mx[j] - softplus(mx[j] - o[Y + j]);
                lv[j] = mn[j] + softplus(a - mn[j]);
            }
        }
    }
}

void lc_ensemble_term_logit(const lc_ensemble *m, float *acts, float *z, const float *next_obs,
                            int N, float *logit) {
    int O = m->O;
    for (int b = 0; b < N; b++)
        for (int j = 0; j < O; j++)
            z[(size_t)b * O + j] = (next_obs[(size_t)b * O + j] - m->in_mean[j]) / m->in_std[j];
    const float *out = lc_mlp_forward(&m->term, &m->params, acts, z, N);
    memcpy(logit, out, (size_t)N * sizeof(float));
}

void lc_ensemble_clamp_obs(const lc_ensemble *m, float *obs, int N) {
    const lc_space *s = &m->obs_space;
    for (int j = 0; j < m->O; j++) {
        float lo = lc_space_low(s, j), hi = lc_space_high(s, j);
        if (!isfinite(lo) && !isfinite(hi)) continue;
        for (int b = 0; b < N; b++) {
            float *v = obs + (size_t)b * m->O + j;
            if (isfinite(lo) && *v < lo) *v = lo;
            if (isfinite(hi) && *v > hi) *v = hi;
        }
    }
}

size_t lc_ensemble_predict_work(const lc_ensemble *m, int N) {
    return (size_t)N * (size_t)(m->in_size + 2 * m->Y + 1 + 2 * m->O) + lc_ensemble_act_size(m, N);
}

void lc_ensemble_predict_mean(const lc_ensemble *m, float *work, const float *obs,
                              const void *actions, int N, float *next_obs, float *reward,
                              float *term_prob) {
    int O = m->O, Y = m->Y, I = m->in_size;
    float *x = work, *mu = x + (size_t)N * I, *acc = mu + (size_t)N * Y;
    float *logit = acc + (size_t)N * Y, *nx = logit + N, *z = nx + (size_t)N * O;
    float *acts = z + (size_t)N * O;
    lc_ensemble_encode(m, obs, actions, N, x);
    memset(acc, 0, (size_t)N * Y * sizeof(float));
    for (int k = 0; k < m->n_elites; k++) {
        lc_ensemble_forward(m, m->elites[k], acts, x, N, mu, NULL);
        for (size_t i = 0; i < (size_t)N * Y; i++) acc[i] += mu[i];
    }
    float inv = 1.0f / (float)m->n_elites;
    for (int b = 0; b < N; b++) {
        const float *a = acc + (size_t)b * Y;
        for (int j = 0; j < O; j++)
            nx[(size_t)b * O + j] = obs[(size_t)b * O + j] + m->out_mean[j] + m->out_std[j] * a[j] * inv;
        if (reward) reward[b] = m->out_mean[O] + m->out_std[O] * a[O] * inv;
    }
    lc_ensemble_clamp_obs(m, nx, N);
    if (next_obs) memcpy(next_obs, nx, (size_t)N * O * sizeof(float));
    if (term_prob) {
        lc_ensemble_term_logit(m, acts, z, nx, N, logit);
        for (int b = 0; b < N; b++) term_prob[b] = sigmoid(logit[b]);
    }
}

// ---------------------------------------------------------------- evaluation

// One-step figures over rows idx[0..n) of ds (idx NULL: rows 0..n).
static int eval_rows(const lc_ensemble *m, const lc_dataset *ds, const size_t *idx, size_t n,
                     lc_wm_eval *ev, lc_error *err) {
    const int CH = 1024;
    int O = m->O, A = ds->act_size;
    size_t wsz = lc_ensemble_predict_work(m, CH);
    float *work = malloc(wsz * sizeof(float));
    float *obs = malloc((size_t)CH * O * sizeof(float)), *pred = malloc((size_t)CH * O * sizeof(float));
    float *rew = malloc(CH * sizeof(float)), *tp = malloc(CH * sizeof(float));
    char *act = malloc((size_t)CH * A * 4);
    double *sum = calloc((size_t)O, sizeof(double)), *sum2 = calloc((size_t)O, sizeof(double));
    int rc = LC_OK;
    if (!work || !obs || !pred || !rew || !tp || !act || !sum || !sum2) {
        rc = lc_fail(err, LC_ERR_NOMEM, "world model: out of memory evaluating");
        goto done;
    }
    double se = 0, se0 = 0, ser = 0;
    size_t correct = 0;
    for (size_t c0 = 0; c0 < n; c0 += CH) {
        int nb = (int)(n - c0 < (size_t)CH ? n - c0 : (size_t)CH);
        for (int b = 0; b < nb; b++) {
            size_t r = idx ? idx[c0 + b] : c0 + b;
            memcpy(obs + (size_t)b * O, ds->obs + r * O, (size_t)O * sizeof(float));
            memcpy(act + (size_t)b * A * 4, (const char *)ds->actions + r * A * 4, (size_t)A * 4);
        }
        lc_ensemble_predict_mean(m, work, obs, act, nb, pred, rew, tp);
        for (int b = 0; b < nb; b++) {
            size_t r = idx ? idx[c0 + b] : c0 + b;
            const float *t = ds->next_obs + r * O;
            for (int j = 0; j < O; j++) {
                double d = (double)pred[(size_t)b * O + j] - t[j];
                double d0 = (double)obs[(size_t)b * O + j] - t[j];
                se += d * d;
                se0 += d0 * d0;
                sum[j] += t[j];
                sum2[j] += (double)t[j] * t[j];
            }
            double dr = (double)rew[b] - ds->rewards[r];
            ser += dr * dr;
            correct += ((tp[b] > 0.5f) == (ds->terminated[r] != 0));
        }
    }
    double var = 0;
    for (int j = 0; j < O; j++) {
        double mu = sum[j] / (double)n;
        double v = sum2[j] / (double)n - mu * mu;
        var += v > 0 ? v : 0;
    }
    var /= O;
    ev->rows = n;
    ev->mse = se / ((double)n * O);
    ev->mse_trivial = se0 / ((double)n * O);
    ev->nmse = var > 0 ? ev->mse / var : NAN;
    ev->reward_mse = ser / (double)n;
    ev->term_acc = (double)correct / (double)n;
done:
    free(work);
    free(obs);
    free(pred);
    free(rew);
    free(tp);
    free(act);
    free(sum);
    free(sum2);
    return rc;
}

static int eval_open_loop(const lc_ensemble *m, const lc_dataset *ds, int H, int max_windows,
                          lc_wm_eval *ev, lc_error *err) {
    size_t n = ds->n;
    int O = m->O, A = ds->act_size;
    ev->horizon = H;
    ev->windows = 0;
    ev->ol_mse = ev->ol_mse_trivial = NAN;
    size_t *run = malloc(n * sizeof(size_t));
    size_t *starts = malloc(n * sizeof(size_t));
    if (!run || !starts) {
        free(run);
        free(starts);
        return lc_fail(err, LC_ERR_NOMEM, "world model: out of memory evaluating");
    }
    // run[r]: consecutive transitions of one trajectory starting at row r.
    for (size_t r = n; r-- > 0;) run[r] = lc_dataset_continues(ds, r) ? run[r + 1] + 1 : 1;
    size_t nv = 0;
    for (size_t r = 0; r < n; r++)
        if (run[r] >= (size_t)H) starts[nv++] = r;
    free(run);
    if (nv == 0) {
        free(starts);
        return LC_OK;
    }
    size_t W = nv < (size_t)max_windows ? nv : (size_t)max_windows;
    for (size_t w = 0; w < W; w++) starts[w] = starts[(size_t)((double)w * (double)nv / (double)W)];
    float *s = malloc(W * O * sizeof(float)), *nx = malloc(W * O * sizeof(float));
    char *act = malloc(W * A * 4);
    float *work = malloc(lc_ensemble_predict_work(m, (int)W) * sizeof(float));
    int rc = LC_OK;
    if (!s || !nx || !act || !work) {
        rc = lc_fail(err, LC_ERR_NOMEM, "world model: out of memory evaluating");
        goto done;
    }
    for (size_t w = 0; w < W; w++) memcpy(s + w * O, ds->obs + starts[w] * O, (size_t)O * sizeof(float));
    double se = 0, se0 = 0;
    for (int h = 0; h < H; h++) {
        for (size_t w = 0; w < W; w++)
            memcpy(act + w * A * 4, (const char *)ds->actions + (starts[w] + h) * A * 4, (size_t)A * 4);
        lc_ensemble_predict_mean(m, work, s, act, (int)W, nx, NULL, NULL);
        for (size_t w = 0; w < W; w++) {
            const float *t = ds->next_obs + (starts[w] + h) * O, *o0 = ds->obs + starts[w] * O;
            for (int j = 0; j < O; j++) {
                double d = (double)nx[w * O + j] - t[j], d0 = (double)o0[j] - t[j];
                se += d * d;
                se0 += d0 * d0;
            }
        }
        memcpy(s, nx, W * O * sizeof(float));
    }
    ev->windows = W;
    ev->ol_mse = se / ((double)W * H * O);
    ev->ol_mse_trivial = se0 / ((double)W * H * O);
done:
    free(starts);
    free(s);
    free(nx);
    free(act);
    free(work);
    return rc;
}

int lc_ensemble_evaluate(const lc_ensemble *m, const lc_dataset *ds, int horizon,
                         int max_windows, lc_wm_eval *out, lc_error *err) {
    memset(out, 0, sizeof *out);
    if (ds->obs_size != m->O || lc_space_size(&ds->act_space) != lc_space_size(&m->act_space) ||
        ds->act_space.kind != m->act_space.kind)
        return lc_fail(err, LC_ERR_SHAPE, "evaluate: the dataset (%s) does not fit the model (%s)",
                       ds->env_name, m->env_name);
    if (ds->n == 0) return lc_fail(err, LC_ERR_ARG, "evaluate: empty dataset");
    int rc = lc_dataset_validate(ds, err);
    if (rc) return rc;
    if ((rc = eval_rows(m, ds, NULL, ds->n, out, err))) return rc;
    if (horizon > 0) {
        if (max_windows < 1) max_windows = 1;
        rc = eval_open_loop(m, ds, horizon, max_windows, out, err);
    }
    return rc;
}

// ---------------------------------------------------------------- training

static void shuffle(size_t *a, size_t n, lc_rng *rng) {
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(lc_rng_double(rng) * (double)i);
        if (j >= i) j = i - 1;
        size_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

// Per-column mean and std over rows idx; a constant column gets std const_std (1 for
// inputs, so an unseen value stays finite; tiny for targets, so a constant stays constant).
static void mean_std(const float *x, const size_t *idx, size_t n, int C, float *mean, float *std,
                     float const_std) {
    for (int j = 0; j < C; j++) {
        double s = 0, s2 = 0;
        for (size_t i = 0; i < n; i++) {
            double v = x[idx[i] * (size_t)C + j];
            s += v;
            s2 += v * v;
        }
        double mu = s / (double)n, var = s2 / (double)n - mu * mu;
        double sd = var > 0 ? sqrt(var) : 0;
        mean[j] = (float)mu;
        std[j] = sd < 1e-6 ? const_std : (float)sd;
    }
}

// Held-out loss of member e over rows idx: mean normalised MSE over Y.
static double member_val_loss(const lc_ensemble *m, int e, const float *X, const float *Yn,
                              const size_t *idx, size_t n, int CH, float *xb, float *yb, float *mu,
                              float *acts) {
    int I = m->in_size, Y = m->Y;
    double se = 0;
    for (size_t c0 = 0; c0 < n; c0 += (size_t)CH) {
        int nb = (int)(n - c0 < (size_t)CH ? n - c0 : (size_t)CH);
        for (int b = 0; b < nb; b++) {
            size_t r = idx[c0 + b];
            memcpy(xb + (size_t)b * I, X + r * I, (size_t)I * sizeof(float));
            memcpy(yb + (size_t)b * Y, Yn + r * Y, (size_t)Y * sizeof(float));
        }
        lc_ensemble_forward(m, e, acts, xb, nb, mu, NULL);
        for (size_t i = 0; i < (size_t)nb * Y; i++) {
            double d = (double)mu[i] - yb[i];
            se += d * d;
        }
    }
    return se / ((double)n * Y);
}

// Held-out BCE of the termination classifier over rows idx of Z (normalised next obs).
static double term_val_loss(const lc_ensemble *m, const float *Z, const float *Tn,
                            const size_t *idx, size_t n, int CH, float *zb, float *tb,
                            float *acts) {
    int O = m->O;
    double bce = 0;
    for (size_t c0 = 0; c0 < n; c0 += (size_t)CH) {
        int nb = (int)(n - c0 < (size_t)CH ? n - c0 : (size_t)CH);
        for (int b = 0; b < nb; b++) {
            memcpy(zb + (size_t)b * O, Z + idx[c0 + b] * O, (size_t)O * sizeof(float));
            tb[b] = Tn[idx[c0 + b]];
        }
        const float *lg = lc_mlp_forward(&m->term, &m->params, acts, zb, nb);
        bce += (double)lc_bce_logits_forward(lg, tb, (size_t)nb) * nb;
    }
    return bce / (double)n;
}

static void pick_rows(const lc_dataset *ds, const uint8_t *want, size_t max, lc_rng *rng,
                      float *dst, size_t *count) {
    size_t O = (size_t)ds->obs_size, n = 0;
    // Reservoir sampling keeps a uniform subset of at most max rows, in one pass.
    for (size_t r = 0, seen = 0; r < ds->n; r++) {
        if (want && !want[r]) continue;
        seen++;
        if (n < max) {
            memcpy(dst + n * O, ds->obs + r * O, O * sizeof(float));
            n++;
        } else {
            size_t j = (size_t)(lc_rng_double(rng) * (double)seen);
            if (j < max) memcpy(dst + j * O, ds->obs + r * O, O * sizeof(float));
        }
    }
    *count = n;
}

static int check_config(const lc_wm_config *c, lc_error *err) {
    if (c->epochs < 1) return lc_fail(err, LC_ERR_ARG, "train-wm: epochs must be >= 1");
    if (c->patience < 1) return lc_fail(err, LC_ERR_ARG, "train-wm: patience must be >= 1");
    if (c->batch < 1 || c->batch > (1 << 20)) return lc_fail(err, LC_ERR_ARG, "train-wm: batch %d outside [1, 2^20]", c->batch);
    if (!(c->lr > 0) || !isfinite(c->lr)) return lc_fail(err, LC_ERR_ARG, "train-wm: learning rate must be > 0");
    if (!(c->weight_decay >= 0) || !isfinite(c->weight_decay)) return lc_fail(err, LC_ERR_ARG, "train-wm: weight decay must be >= 0");
    if (!(c->val_frac > 0 && c->val_frac < 1)) return lc_fail(err, LC_ERR_ARG, "train-wm: validation fraction must be in (0, 1)");
    if (c->val_max < 1) return lc_fail(err, LC_ERR_ARG, "train-wm: val_max must be >= 1");
    if (c->max_starts < 1 || c->max_states < 0) return lc_fail(err, LC_ERR_ARG, "train-wm: max_starts must be >= 1 and max_states >= 0");
    if (c->term_hidden < 1) return lc_fail(err, LC_ERR_ARG, "train-wm: termination hidden size must be >= 1");
    return LC_OK;
}

// Copies the tensors whose names start with prefix from src to dst (params-sized arrays).
static void copy_tensors(const lc_params *p, float *dst, const float *src, const char *prefix) {
    size_t n = strlen(prefix);
    for (int t = 0; t < p->ntensors; t++)
        if (strncmp(p->t[t].name, prefix, n) == 0)
            memcpy(dst + p->t[t].offset, src + p->t[t].offset, p->t[t].size * sizeof(float));
}

static void gather(float *dst, const float *src, const size_t *idx, int n, int C) {
    for (int b = 0; b < n; b++) memcpy(dst + (size_t)b * C, src + idx[b] * (size_t)C, (size_t)C * sizeof(float));
}

int lc_ensemble_train(lc_ensemble **out, const lc_dataset *ds, const lc_wm_config *cfg,
                      lc_wm_epoch_fn cb, void *cb_ctx, lc_error *err) {
    *out = NULL;
    int rc = check_config(cfg, err);
    if (rc) return rc;
    if (ds->n < 10) return lc_fail(err, LC_ERR_ARG, "train-wm: %zu rows are too few to fit a model (need >= 10)", ds->n);
    if ((rc = lc_dataset_validate(ds, err))) return rc;
    lc_ensemble *m = NULL;
    if ((rc = ensemble_new(&m, ds->env_name, &ds->obs_space, &ds->act_space, ds->max_episode_steps,
                           cfg->members, cfg->elites, cfg->hidden, cfg->layers, cfg->act,
                           cfg->term_hidden, err)))
        return rc;
    const size_t N = ds->n;
    const int O = m->O, I = m->in_size, Y = m->Y, OUT = m->OUT, E = m->E;
    const int B = cfg->batch, CH = B > 1024 ? B : 1024;
    lc_rng rng;
    lc_rng_seed(&rng, cfg->seed, 0x3e5e);

    size_t n_val = (size_t)((double)cfg->val_frac * (double)N);
    if (n_val < 1) n_val = 1;
    if (n_val > (size_t)cfg->val_max) n_val = (size_t)cfg->val_max;
    size_t ntrain = N - n_val;

    float *X = malloc(N * I * sizeof(float)), *Yn = malloc(N * Y * sizeof(float));
    float *Z = malloc(N * O * sizeof(float)), *Tn = malloc(N * sizeof(float));
    size_t *perm = malloc(N * sizeof(size_t)), *boot = malloc((size_t)(E + 1) * ntrain * sizeof(size_t));
    size_t asz = lc_ensemble_act_size(m, CH);
    float *acts = malloc(asz * sizeof(float)), *work = malloc(asz * sizeof(float));
    float *xb = malloc((size_t)CH * I * sizeof(float)), *yb = malloc((size_t)CH * Y * sizeof(float));
    float *zb = malloc((size_t)CH * O * sizeof(float));
    float *tb = malloc((size_t)CH * sizeof(float)), *mu = malloc((size_t)CH * Y * sizeof(float));
    float *lv = malloc((size_t)CH * Y * sizeof(float)), *dmu = malloc((size_t)B * Y * sizeof(float));
    float *dlv = malloc((size_t)B * Y * sizeof(float)), *dlogit = malloc((size_t)B * sizeof(float));
    float *dout = malloc((size_t)B * OUT * sizeof(float)), *best = malloc(m->params.n * sizeof(float));
    if (!X || !Yn || !Z || !Tn || !perm || !boot || !acts || !work || !xb || !yb || !zb || !tb ||
        !mu || !lv || !dmu || !dlv || !dlogit || !dout || !best) {
        rc = lc_fail(err, LC_ERR_NOMEM, "train-wm: out of memory for %zu rows", N);
        goto done;
    }

    // Inputs and targets, then normalisation statistics from the training rows only.
    for (size_t r = 0; r < N; r++) perm[r] = r;
    shuffle(perm, N, &rng);
    const size_t *val = perm, *train = perm + n_val;
    for (int j = 0; j < I; j++) {
        m->in_mean[j] = 0.0f;
        m->in_std[j] = 1.0f;
    }
    lc_ensemble_encode(m, ds->obs, ds->actions, (int)N, X);
    for (size_t r = 0; r < N; r++) {
        for (int j = 0; j < O; j++) Yn[r * Y + j] = ds->next_obs[r * O + j] - ds->obs[r * O + j];
        Yn[r * Y + O] = ds->rewards[r];
        Tn[r] = ds->terminated[r] ? 1.0f : 0.0f;
    }
    mean_std(X, train, ntrain, I, m->in_mean, m->in_std, 1.0f);
    mean_std(Yn, train, ntrain, Y, m->out_mean, m->out_std, 1e-6f);
    for (size_t r = 0; r < N; r++) {
        for (int j = 0; j < I; j++) X[r * I + j] = (X[r * I + j] - m->in_mean[j]) / m->in_std[j];
        for (int j = 0; j < Y; j++) Yn[r * Y + j] = (Yn[r * Y + j] - m->out_mean[j]) / m->out_std[j];
        for (int j = 0; j < O; j++) Z[r * O + j] = (ds->next_obs[r * O + j] - m->in_mean[j]) / m->in_std[j];
    }
    if (!lc_all_finite(X, N * I) || !lc_all_finite(Yn, N * Y) || !lc_all_finite(Z, N * O)) {
        rc = lc_fail(err, LC_ERR_NAN, "train-wm: the data give non-finite normalised values");
        goto done;
    }

    // Bootstrap resamples per member (the classifier uses the training rows as they are),
    // initial parameters, log-variance bounds as in PETS.
    uint32_t nb32 = (uint32_t)(ntrain > UINT32_MAX ? UINT32_MAX : ntrain);
    for (int e = 0; e < E; e++)
        for (size_t i = 0; i < ntrain; i++) boot[(size_t)e * ntrain + i] = train[lc_rng_below(&rng, nb32)];
    size_t *tidx = boot + (size_t)E * ntrain;
    memcpy(tidx, train, ntrain * sizeof(size_t));
    for (int e = 0; e < E; e++) {
        lc_mlp_init(&m->mlp[e], &m->params, sqrtf(2.0f), 1.0f, &rng);
        float *mx = lc_param(&m->params, m->maxlv[e]), *mn = lc_param(&m->params, m->minlv[e]);
        for (int j = 0; j < Y; j++) {
            mx[j] = 0.5f;
            mn[j] = -10.0f;
        }
    }
    lc_mlp_init(&m->term, &m->params, sqrtf(2.0f), 1.0f, &rng);
    memcpy(best, m->params.params, m->params.n * sizeof(float));
    double best_val[LC_WM_MAX_MEMBERS + 1];
    for (int e = 0; e <= E; e++) best_val[e] = INFINITY;
    lc_adam opt = lc_adam_default(cfg->lr);
    opt.weight_decay = cfg->weight_decay;
    const float bound_reg = 0.01f;
    size_t nsteps = (ntrain + (size_t)B - 1) / (size_t)B;
    int stall = 0, epoch;

    for (epoch = 1; epoch <= cfg->epochs; epoch++) {
        for (int e = 0; e <= E; e++) shuffle(boot + (size_t)e * ntrain, ntrain, &rng);
        double train_loss = 0;
        for (size_t s = 0; s < nsteps; s++) {
            lc_params_zero_grad(&m->params);
            size_t b0 = s * (size_t)B;
            int nb = (int)(ntrain - b0 < (size_t)B ? ntrain - b0 : (size_t)B);
            for (int e = 0; e < E; e++) {
                const size_t *ix = boot + (size_t)e * ntrain + b0;
                gather(xb, X, ix, nb, I);
                gather(yb, Yn, ix, nb, Y);
                const float *o = lc_mlp_forward(&m->mlp[e], &m->params, acts, xb, nb);
                const float *mx = lc_param(&m->params, m->maxlv[e]);
                const float *mn = lc_param(&m->params, m->minlv[e]);
                float *gmx = lc_grad(&m->params, m->maxlv[e]), *gmn = lc_grad(&m->params, m->minlv[e]);
                for (int b = 0; b < nb; b++) {
                    const float *ob = o + (size_t)b * OUT;
                    memcpy(mu + (size_t)b * Y, ob, (size_t)Y * sizeof(float));
                    for (int j = 0; j < Y; j++) {
                        float a = mx[j] - softplus(mx[j] - ob[Y + j]);
                        lv[(size_t)b * Y + j] = mn[j] + softplus(a - mn[j]);
                    }
                }
                double loss = lc_gauss_nll_forward(mu, lv, yb, nb, Y);
                for (int j = 0; j < Y; j++) loss += bound_reg * (mx[j] - mn[j]);
                train_loss += loss;
                memset(dmu, 0, (size_t)nb * Y * sizeof(float));
                memset(dlv, 0, (size_t)nb * Y * sizeof(float));
                lc_gauss_nll_backward(dmu, dlv, mu, lv, yb, nb, Y, 1.0f);
                for (int b = 0; b < nb; b++) {
                    const float *ob = o + (size_t)b * OUT;
                    float *d = dout + (size_t)b * OUT;
                    memcpy(d, dmu + (size_t)b * Y, (size_t)Y * sizeof(float));
                    for (int j = 0; j < Y; j++) {
                        // lv = mn + sp(a - mn), a = mx - sp(mx - raw)
                        float raw = ob[Y + j];
                        float s1 = sigmoid(mx[j] - raw);
                        float a = mx[j] - softplus(mx[j] - raw);
                        float s2 = sigmoid(a - mn[j]);
                        float g = dlv[(size_t)b * Y + j];
                        d[Y + j] = g * s2 * s1;
                        gmx[j] += g * s2 * (1.0f - s1);
                        gmn[j] += g * (1.0f - s2);
                    }
                }
                for (int j = 0; j < Y; j++) {
                    gmx[j] += bound_reg;
                    gmn[j] -= bound_reg;
                }
                lc_mlp_backward(&m->mlp[e], &m->params, work, acts, xb, dout, NULL, nb);
            }
            // The termination classifier on the next observations of the same step's rows.
            const size_t *ix = tidx + b0;
            gather(zb, Z, ix, nb, O);
            for (int b = 0; b < nb; b++) tb[b] = Tn[ix[b]];
            const float *lg = lc_mlp_forward(&m->term, &m->params, acts, zb, nb);
            train_loss += lc_bce_logits_forward(lg, tb, (size_t)nb);
            memset(dlogit, 0, (size_t)nb * sizeof(float));
            lc_bce_logits_backward(dlogit, lg, tb, (size_t)nb, 1.0f);
            lc_mlp_backward(&m->term, &m->params, work, acts, zb, dlogit, NULL, nb);
            lc_adam_step(&m->params, &opt);
        }
        train_loss /= (double)(nsteps * (size_t)E);
        if (!isfinite(train_loss) || !lc_all_finite(m->params.params, m->params.n)) {
            rc = lc_fail(err, LC_ERR_NAN, "train-wm: the loss became non-finite at epoch %d "
                         "(try a lower learning rate)", epoch);
            goto done;
        }
        int improved = 0;
        double vsum = 0, bsum = 0;
        for (int e = 0; e <= E; e++) {
            double v = e < E ? member_val_loss(m, e, X, Yn, val, n_val, CH, xb, yb, mu, acts)
                             : term_val_loss(m, Z, Tn, val, n_val, CH, zb, tb, acts);
            if (!isfinite(v)) {
                rc = lc_fail(err, LC_ERR_NAN, "train-wm: the validation loss of %s %d became "
                             "non-finite at epoch %d (try a lower learning rate)",
                             e < E ? "member" : "the termination classifier", e, epoch);
                goto done;
            }
            if (!isfinite(best_val[e]) || (best_val[e] - v) / fabs(best_val[e]) > 0.01) {
                best_val[e] = v;
                improved++;
                char pre[16];
                if (e < E) snprintf(pre, sizeof pre, "m%d.", e);
                else snprintf(pre, sizeof pre, "term.");
                copy_tensors(&m->params, best, m->params.params, pre);
            }
            if (e < E) {
                vsum += v;
                bsum += best_val[e];
            }
        }
        stall = improved ? 0 : stall + 1;
        if (cb) {
            lc_wm_epoch info = {epoch, cfg->epochs, train_loss, vsum / E, bsum / E, improved};
            if (cb(cb_ctx, &info)) {
                epoch++;
                break;
            }
        }
        if (stall >= cfg->patience) {
            epoch++;
            break;
        }
    }
    m->epochs_run = epoch - 1;
    memcpy(m->params.params, best, m->params.n * sizeof(float));

    // Elites: the members with the lowest held-out loss.
    int order[LC_WM_MAX_MEMBERS];
    for (int e = 0; e < E; e++) order[e] = e;
    for (int i = 1; i < E; i++)
        for (int j = i; j > 0 && best_val[order[j]] < best_val[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int k = 0; k < m->n_elites; k++) m->elites[k] = order[k];

    // Start states (episode starts) and real states for branched starts.
    size_t ns = lc_dataset_episodes(ds), nmax = (size_t)cfg->max_starts;
    m->n_starts = ns < nmax ? ns : nmax;
    m->starts = malloc(m->n_starts * O * sizeof(float));
    size_t mmax = (size_t)cfg->max_states;
    m->n_states = N < mmax ? N : mmax;
    m->states = m->n_states ? malloc(m->n_states * O * sizeof(float)) : NULL;
    if (!m->starts || (m->n_states && !m->states)) {
        rc = lc_fail(err, LC_ERR_NOMEM, "train-wm: out of memory");
        goto done;
    }
    pick_rows(ds, ds->starts, m->n_starts, &rng, m->starts, &m->n_starts);
    if (m->n_states) pick_rows(ds, NULL, m->n_states, &rng, m->states, &m->n_states);
    m->train_rows = ntrain;
    m->val_rows = n_val;
    rc = eval_rows(m, ds, val, n_val, &m->val, err);

done:
    free(X);
    free(Yn);
    free(Z);
    free(Tn);
    free(perm);
    free(boot);
    free(acts);
    free(work);
    free(xb);
    free(yb);
    free(zb);
    free(tb);
    free(mu);
    free(lv);
    free(dmu);
    free(dlv);
    free(dlogit);
    free(dout);
    free(best);
    if (rc) lc_ensemble_free(m);
    else *out = m;
    return rc;
}

// ---------------------------------------------------------------- checkpoints

int lc_ensemble_to_file(const lc_ensemble *m, lc_file *f, lc_error *err) {
    int rc;
    if ((rc = lc_file_set_str(f, "env", m->env_name)) || (rc = lc_file_set_int(f, "wm_version", LC_WM_VERSION)) ||
        (rc = lc_file_set_int(f, "max_episode_steps", m->max_episode_steps)) ||
        (rc = lc_file_set_int(f, "members", m->E)) || (rc = lc_file_set_int(f, "n_elites", m->n_elites)) ||
        (rc = lc_file_set_int(f, "hidden", m->hidden)) || (rc = lc_file_set_int(f, "layers", m->layers)) ||
        (rc = lc_file_set_str(f, "act", lc_act_name(m->act))) ||
        (rc = lc_file_set_int(f, "obs_size", m->O)) || (rc = lc_file_set_int(f, "in_size", m->in_size)) ||
        (rc = lc_file_set_int(f, "term_hidden", m->term_hidden)) ||
        (rc = lc_file_set_int(f, "epochs", m->epochs_run)) ||
        (rc = lc_file_set_int(f, "train_rows", (int64_t)m->train_rows)) ||
        (rc = lc_file_set_int(f, "val_rows", (int64_t)m->val_rows)) ||
        (rc = lc_file_set_float(f, "val_mse", m->val.mse)) ||
        (rc = lc_file_set_float(f, "val_mse_trivial", m->val.mse_trivial)) ||
        (rc = lc_file_set_float(f, "val_nmse", m->val.nmse)) ||
        (rc = lc_file_set_float(f, "val_reward_mse", m->val.reward_mse)) ||
        (rc = lc_file_set_float(f, "val_term_acc", m->val.term_acc)))
        return lc_fail(err, rc, "world model: cannot set metadata");
    if ((rc = lc_space_to_file(&m->obs_space, f, "obs_space", err)) ||
        (rc = lc_space_to_file(&m->act_space, f, "act_space", err)))
        return rc;
    int64_t shi[1] = {m->in_size}, shy[1] = {m->Y}, she[1] = {m->n_elites};
    int64_t shs[2] = {(int64_t)m->n_starts, m->O}, shm[2] = {(int64_t)m->n_states, m->O};
    int32_t el[LC_WM_MAX_MEMBERS];
    for (int k = 0; k < m->n_elites; k++) el[k] = m->elites[k];
    if ((rc = lc_file_add(f, "norm.in_mean", LC_F32, 1, shi, m->in_mean, err)) ||
        (rc = lc_file_add(f, "norm.in_std", LC_F32, 1, shi, m->in_std, err)) ||
        (rc = lc_file_add(f, "norm.out_mean", LC_F32, 1, shy, m->out_mean, err)) ||
        (rc = lc_file_add(f, "norm.out_std", LC_F32, 1, shy, m->out_std, err)) ||
        (rc = lc_file_add(f, "elites", LC_I32, 1, she, el, err)) ||
        (rc = lc_file_add(f, "starts", LC_F32, 2, shs, m->starts, err)))
        return rc;
    if (m->n_states && (rc = lc_file_add(f, "states", LC_F32, 2, shm, m->states, err))) return rc;
    return lc_params_to_file(&m->params, f, "wm", 0, err);
}

int lc_ensemble_save(const lc_ensemble *m, const char *path, lc_error *err) {
    lc_file *f = lc_file_new("worldmodel");
    if (!f) return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", path);
    int rc = lc_ensemble_to_file(m, f, err);
    if (!rc) rc = lc_file_write(f, path, err);
    lc_file_free(f);
    return rc;
}

static int finite_tensor(const lc_tensor *t, const char *name, int positive, lc_error *err) {
    const float *x = t->data;
    size_t n = t->nbytes / sizeof(float);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]) || (positive && !(x[i] > 0)))
            return lc_fail(err, LC_ERR_NAN, "world model: %s[%zu] = %g is not %s", name, i,
                           (double)x[i], positive ? "finite and > 0" : "finite");
    return LC_OK;
}

// The optional figures, read leniently above, must still have their types and ranges
// (NaN admitted where a figure could not be measured).
static int strict_meta(const lc_file *f, lc_error *err) {
    static const char *const figs[] = {"val_mse", "val_mse_trivial", "val_nmse", "val_reward_mse",
                                       "val_term_acc"};
    int64_t v = 0;
    double d;
    int rc;
    if ((rc = lc_file_opt_int(f, "train_rows", 0, INT64_MAX, &v, err)) ||
        (rc = lc_file_opt_int(f, "val_rows", 0, INT64_MAX, &v, err)))
        return rc;
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++)
        if ((rc = lc_file_opt_float(f, figs[i], NAN, HUGE_VAL, &d, err))) return rc;
    return LC_OK;
}

static int from_file(lc_ensemble **out, const lc_file *f, lc_error *err) {
    if (strcmp(lc_file_kind(f), "worldmodel") != 0)
        return lc_fail(err, LC_ERR_FORMAT, "not a world model (the file holds a \"%s\")", lc_file_kind(f));
    const char *env = NULL, *act_name = NULL;
    int ver, mes, E, nel, hidden, layers, O, I, epochs, th;
    lc_space os, as;
    lc_act act;
    int rc;
    if ((rc = lc_file_get_str(f, "env", &env, err))) return rc;
    if (strlen(env) >= 256) return lc_fail(err, LC_ERR_SIZE, "world model: env name too long");
    if ((rc = lc_file_get_i32_in(f, "wm_version", 0, INT32_MAX, &ver, err))) return rc;
    if (ver != LC_WM_VERSION)
        return lc_fail(err, LC_ERR_VERSION, "world model version %d is not supported (this build reads %d)",
                       ver, LC_WM_VERSION);
    if ((rc = lc_file_get_i32_in(f, "max_episode_steps", 0, INT32_MAX, &mes, err)) ||
        (rc = lc_file_get_i32_in(f, "members", 1, LC_WM_MAX_MEMBERS, &E, err)) ||
        (rc = lc_file_get_i32_in(f, "n_elites", 1, E, &nel, err)) ||
        (rc = lc_file_get_i32_in(f, "hidden", 1, 65536, &hidden, err)) ||
        (rc = lc_file_get_i32_in(f, "layers", 1, LC_MLP_MAX_LAYERS - 1, &layers, err)) ||
        (rc = lc_file_get_i32_in(f, "obs_size", 1, 1 << 20, &O, err)) ||
        (rc = lc_file_get_i32_in(f, "in_size", 2, 1 << 21, &I, err)) ||
        (rc = lc_file_get_i32_in(f, "term_hidden", 1, 65536, &th, err)) ||
        (rc = lc_file_get_i32_in(f, "epochs", 0, INT32_MAX, &epochs, err)))
        return rc;
    if ((rc = lc_file_get_str(f, "act", &act_name, err))) return rc;
    if (lc_act_parse(act_name, &act) != LC_OK)
        return lc_fail(err, LC_ERR_FORMAT, "world model: unknown activation \"%s\"", act_name);
    if ((rc = lc_space_from_file(&os, f, "obs_space", err)) || (rc = lc_space_from_file(&as, f, "act_space", err)))
        return rc;
    lc_ensemble *m = NULL;
    if ((rc = ensemble_new(&m, env, &os, &as, mes, E, nel, hidden, layers, act, th, err))) return rc;
    if (m->O != O || m->in_size != I) {
        rc = lc_fail(err, LC_ERR_SHAPE, "world model: sizes (obs %d, input %d) disagree with the "
                     "spaces (%d, %d)", O, I, m->O, m->in_size);
        goto fail;
    }
    m->epochs_run = epochs;
    int64_t v;
    double d;
    if (lc_file_get_int(f, "train_rows", &v, NULL) == LC_OK && v >= 0) m->train_rows = (size_t)v;
    if (lc_file_get_int(f, "val_rows", &v, NULL) == LC_OK && v >= 0) m->val_rows = (size_t)v;
    m->val.rows = m->val_rows;
    if (lc_file_get_float(f, "val_mse", &d, NULL) == LC_OK) m->val.mse = d;
    if (lc_file_get_float(f, "val_mse_trivial", &d, NULL) == LC_OK) m->val.mse_trivial = d;
    if (lc_file_get_float(f, "val_nmse", &d, NULL) == LC_OK) m->val.nmse = d;
    if (lc_file_get_float(f, "val_reward_mse", &d, NULL) == LC_OK) m->val.reward_mse = d;
    if (lc_file_get_float(f, "val_term_acc", &d, NULL) == LC_OK) m->val.term_acc = d;

    int64_t shi[1] = {m->in_size}, shy[1] = {m->Y}, she[1] = {m->n_elites}, shs[2] = {-1, m->O};
    const lc_tensor *t_im, *t_is, *t_om, *t_os, *t_el, *t_st, *t_sa;
    if (!(t_im = lc_file_expect(f, "norm.in_mean", LC_F32, 1, shi, err)) ||
        !(t_is = lc_file_expect(f, "norm.in_std", LC_F32, 1, shi, err)) ||
        !(t_om = lc_file_expect(f, "norm.out_mean", LC_F32, 1, shy, err)) ||
        !(t_os = lc_file_expect(f, "norm.out_std", LC_F32, 1, shy, err)) ||
        !(t_el = lc_file_expect(f, "elites", LC_I32, 1, she, err)) ||
        !(t_st = lc_file_expect(f, "starts", LC_F32, 2, shs, err))) {
        rc = err ? (int)err->code : LC_ERR_FORMAT;
        goto fail;
    }
    if ((rc = finite_tensor(t_im, "norm.in_mean", 0, err)) || (rc = finite_tensor(t_is, "norm.in_std", 1, err)) ||
        (rc = finite_tensor(t_om, "norm.out_mean", 0, err)) || (rc = finite_tensor(t_os, "norm.out_std", 1, err)) ||
        (rc = finite_tensor(t_st, "starts", 0, err)))
        goto fail;
    memcpy(m->in_mean, t_im->data, (size_t)m->in_size * sizeof(float));
    memcpy(m->in_std, t_is->data, (size_t)m->in_size * sizeof(float));
    memcpy(m->out_mean, t_om->data, (size_t)m->Y * sizeof(float));
    memcpy(m->out_std, t_os->data, (size_t)m->Y * sizeof(float));
    const int32_t *el = t_el->data;
    for (int k = 0; k < m->n_elites; k++) {
        if (el[k] < 0 || el[k] >= m->E) {
            rc = lc_fail(err, LC_ERR_FORMAT, "world model: elite %d is not a member (0..%d)", (int)el[k], m->E - 1);
            goto fail;
        }
        for (int j = 0; j < k; j++)
            if (el[j] == el[k]) {
                rc = lc_fail(err, LC_ERR_FORMAT, "world model: member %d is listed twice as an elite", (int)el[k]);
                goto fail;
            }
        m->elites[k] = el[k];
    }
    m->n_starts = (size_t)t_st->shape[0];
    if (m->n_starts < 1) {
        rc = lc_fail(err, LC_ERR_SHAPE, "world model: no start observations stored");
        goto fail;
    }
    if (!(m->starts = malloc(t_st->nbytes))) {
        rc = lc_fail(err, LC_ERR_NOMEM, "world model: out of memory");
        goto fail;
    }
    memcpy(m->starts, t_st->data, t_st->nbytes);
    if (lc_file_tensor(f, "states")) {
        if (!(t_sa = lc_file_expect(f, "states", LC_F32, 2, shs, err))) {
            rc = err ? (int)err->code : LC_ERR_FORMAT;
            goto fail;
        }
        if ((rc = finite_tensor(t_sa, "states", 0, err))) goto fail;
        m->n_states = (size_t)t_sa->shape[0];
        if (m->n_states) {
            if (!(m->states = malloc(t_sa->nbytes))) {
                rc = lc_fail(err, LC_ERR_NOMEM, "world model: out of memory");
                goto fail;
            }
            memcpy(m->states, t_sa->data, t_sa->nbytes);
        }
    }
    if ((rc = lc_params_from_file(&m->params, f, "wm", 0, err))) goto fail;
    if (!lc_all_finite(m->params.params, m->params.n)) {
        rc = lc_fail(err, LC_ERR_NAN, "world model: parameters hold non-finite values");
        goto fail;
    }
    if ((rc = strict_meta(f, err)) || (rc = lc_file_check_claimed(f, "world model", NULL, err)))
        goto fail;
    *out = m;
    return LC_OK;
fail:
    lc_ensemble_free(m);
    return rc;
}

int lc_ensemble_from_file(lc_ensemble **out, const lc_file *f, lc_error *err) {
    *out = NULL;
    return from_file(out, f, err);
}

int lc_ensemble_load(lc_ensemble **out, const char *path, lc_error *err) {
    *out = NULL;
    lc_file *f = NULL;
    int rc = lc_file_read(path, &f, err);
    if (rc) return rc;
    rc = from_file(out, f, err);
    lc_file_free(f);
    if (rc && err && strncmp(err->msg, path, strlen(path)) != 0) lc_error_prefix(err, "%s: ", path);
    return rc;
}

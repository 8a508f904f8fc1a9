// env/env.c: the env vector: buffers, seeding, stepping with same-step (or next-step) autoreset,
// time limits, episode statistics, the wrappers of lc_env_opts, and threads.
// Leaves out: the envs themselves (backends behind lc_env_impl), async stepping.
//
// Letters: N = num_envs, F = elements of one backend observation (a "frame"),
// K = frames stacked, O = F * K (elements of one public observation row),
// C = channels (the obs's last axis), P = F / C, A = act_size, I = n_info.
//
// A step runs in up to two passes over contiguous chunks of [0, N), on the pool's
// threads when the backend can_split (else on the caller):
//   pass 1: validate and clip actions (caller, before anything moves), then per chunk:
//           backend step (action_repeat times, stopping each env at its episode end),
//           returns, lengths, time limit, done, final rows, autoreset;
//   serial: running statistics of observations and discounted returns (fixed order);
//   pass 2: normalise, stack frames, normalise rewards.
// Per-env work depends only on that env's row and RNG and every cross-env reduction
// is serial, so results are bit-identical for any thread count. When no statistic
// has to be updated, pass 2 is done inside pass 1.
#include "env/env.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/resize.h"
#include "env/pool.h"
#include "env/wrappers.h"

#define MAX_THREADS 64
#define MAX_RENDER 8192
#define AUTO_THREADS_MIN_ENVS 256 // num_threads 0: two threads from this many envs...
#define AUTO_WARM 2                // ...kept if they beat one thread over these trials
#define AUTO_TRIAL 16

enum { JOB_STEP, JOB_POST, JOB_RESET, JOB_RESET_POST };

struct lc_env {
    lc_env_spec spec;
    lc_env_buf buf;
    lc_env_impl impl;
    int have_impl;
    int N, F, K, O, A, C, P; // F: backend row; P pixels of C channels per frame after resize
    int FR;                 // elements of one frame after resize (F without resize)
    int rs_h, rs_w;         // resize target (0: none)
    uint8_t *rs_out;        // (N, FR) resized frames
    uint32_t *rs_tmp;       // (N, rs_tmp_n) resize scratch
    size_t rs_tmp_n;
    size_t es;              // bytes per observation element: 4 (float) or 1 (uint8)
    int limit;              // effective time limit in env steps, 0 = none
    int repeat;             // action repeat, >= 1
    int autoreset;
    int separate;           // 1: the backend writes raw rows, wrappers build buf.obs
    void *raw;              // (N, F) the backend's rows (== buf.obs when !separate)
    void *raw_final;        // (N, F) the last raw row of an ended episode (separate only)
    float *frame_tmp;       // (N, F) one normalised frame per env (normalize_obs only)
    float *act_clip;        // (N, A) clipped Box actions
    const void *act;        // this step's actions as the backend reads them
    float *raw_rew;         // (N) this step's summed raw rewards
    double *acc_ret;        // (N) return of the running episode (raw rewards)
    int32_t *acc_len;       // (N) its length in env steps
    int64_t *episodes;      // (N) finished episodes
    uint8_t *need_reset;    // (N) LC_AUTORESET_DISABLED: ended, waiting for reset_mask; _NEXT_STEP:
                            // ended, reset by the next step
    uint8_t *fresh;         // (N) LC_AUTORESET_NEXT_STEP: reset by this step (pass 2 fills its stack)
    lc_rng *rngs;           // (N)
    int was_reset;
    int norm_obs, frozen;
    float clip_obs;
    double ob_count, *ob_mean, *ob_var, *ob_tmp; // (F), (F), (2F)
    int norm_rew;
    float gamma, clip_rew;
    double *disc;           // (N) discounted raw return per env
    double rw_count, rw_mean, rw_var;
    lc_pool *pool;
    int nthreads;
    // num_threads 0 with a pool: steps [AUTO_WARM, AUTO_WARM + AUTO_TRIAL) run alone,
    // the next AUTO_TRIAL on the pool; the pool is kept only if clearly faster.
    int auto_mode, use_pool;
    int64_t auto_steps;
    double auto_alone, auto_pooled; // seconds summed over each trial
    // the pool's current job
    int job;
    const uint8_t *job_mask;
    int job_reseed, job_inline;
    uint64_t job_seed;
};

static const lc_setting OPTS_ROWS[] = {
#define ROW(...) LC_SETTING_ROW_(lc_env_opts, __VA_ARGS__)
    LC_ENV_OPTS_SETTINGS(ROW)
#undef ROW
};
static const lc_settings OPTS = {"env", OPTS_ROWS, (int)(sizeof OPTS_ROWS / sizeof OPTS_ROWS[0])};

const lc_settings *lc_env_opts_settings(void) { return &OPTS; }

lc_env_opts lc_env_opts_default(void) {
    lc_env_opts o;
    memset(&o, 0, sizeof o);
    lc_settings_defaults(&OPTS, &o);
    return o;
}

// ---------------------------------------------------------------- rows

static inline void *obs_row(const lc_env *e, int i) { return (char *)e->buf.obs + (size_t)i * e->O * e->es; }
static inline void *final_row(const lc_env *e, int i) {
    return (char *)e->buf.final_obs + (size_t)i * e->O * e->es;
}
static inline void *raw_row(const lc_env *e, int i) { return (char *)e->raw + (size_t)i * e->F * e->es; }
static inline void *raw_final_row(const lc_env *e, int i) {
    return (char *)e->raw_final + (size_t)i * e->F * e->es;
}

// The frame of raw row x as it enters the stack: resized or normalised when asked.
static const void *frame_of(lc_env *e, int i, const void *x) {
    if (e->rs_h) {
        const lc_space *s = &e->impl.obs_space;
        uint8_t *out = e->rs_out + (size_t)i * e->FR;
        lc_resize_area_u8(x, s->shape[0], s->shape[1], e->C, out, e->rs_h, e->rs_w,
                          e->rs_tmp + (size_t)i * e->rs_tmp_n);
        return out;
    }
    if (!e->norm_obs) return x;
    float *out = e->frame_tmp + (size_t)i * e->F;
    lc_normalize(out, x, e->ob_mean, e->ob_var, e->F, e->clip_obs);
    return out;
}

// ---------------------------------------------------------------- step

// Accounts one backend step of envs [a, b).
static void account(lc_env *e, int a, int b) {
    lc_env_buf *B = &e->buf;
    for (int i = a; i < b; i++) {
        float r = B->rewards[i];
        e->raw_rew[i] += r;
        e->acc_ret[i] += r;
        e->acc_len[i]++;
        if (B->terminated[i] == LC_BACKEND_TRUNCATED) {
            B->terminated[i] = 0;
            B->truncated[i] = 1;
            B->done[i] = 1;
        } else if (B->terminated[i]) {
            B->terminated[i] = 1;
            B->done[i] = 1;
        } else if (e->limit > 0 && e->acc_len[i] >= e->limit) {
            B->truncated[i] = 1;
            B->done[i] = 1;
        }
    }
}

static void post_reset(lc_env *e, int i);
static void reset_one(lc_env *e, int i);

// Pass 2 for env i: wrappers that need the statistics of this step.
static void post_step(lc_env *e, int i) {
    lc_env_buf *B = &e->buf;
    if (e->separate) {
        void *o = obs_row(e, i);
        if (e->fresh && e->fresh[i]) {
            post_reset(e, i);
        } else if (B->done[i] && e->autoreset == LC_AUTORESET_SAME_STEP) {
            void *fo = final_row(e, i);
            memcpy(fo, o, (size_t)e->O * e->es);
            lc_stack_push(fo, frame_of(e, i, raw_final_row(e, i)), e->P, e->C, e->K, e->es);
            lc_stack_fill(o, frame_of(e, i, raw_row(e, i)), e->P, e->C, e->K, e->es);
        } else {
            lc_stack_push(o, frame_of(e, i, raw_row(e, i)), e->P, e->C, e->K, e->es);
            if (B->done[i]) memcpy(final_row(e, i), o, (size_t)e->O * e->es);
        }
    }
    if (e->norm_rew) {
        double r = e->raw_rew[i] / sqrt(e->rw_var + LC_NORM_EPS);
        if (r > e->clip_rew) r = e->clip_rew;
        if (r < -e->clip_rew) r = -e->clip_rew;
        B->rewards[i] = (float)r;
        if (B->done[i]) e->disc[i] = 0.0;
    }
}

// Pass 1 for envs [i0, i1). With no action repeat, the accounting, statistics
// and autoreset are one fused pass over the chunk (the common, hot case).
static void chunk_step(lc_env *e, int i0, int i1, int inline_post) {
    lc_env_buf *B = &e->buf;
    lc_env_impl *im = &e->impl;
    size_t n = (size_t)(i1 - i0);
    memset(B->terminated + i0, 0, n);
    memset(B->truncated + i0, 0, n);
    memset(B->done + i0, 0, n);
    // NEXT_STEP: envs that ended last step are reset now instead of stepped.
    const uint8_t *pending = NULL;
    if (e->autoreset == LC_AUTORESET_NEXT_STEP) { // (need_reset marks the envs that end in this step)
        memcpy(e->fresh + i0, e->need_reset + i0, n);
        if (memchr(e->fresh + i0, 1, n)) pending = e->fresh;
    }
    if (!pending) {
        im->step(im->data, i0, i1, e->act, e->raw, B->rewards, B->terminated, B->info, e->rngs);
    } else {
        for (int a = i0; a < i1;) { // the runs of envs still going
            while (a < i1 && pending[a]) a++;
            int b = a;
            while (b < i1 && !pending[b]) b++;
            if (b > a) im->step(im->data, a, b, e->act, e->raw, B->rewards, B->terminated, B->info, e->rngs);
            a = b;
        }
    }
    if (e->repeat > 1) { // (never with pending: NEXT_STEP refuses action_repeat)
        for (int i = i0; i < i1; i++) e->raw_rew[i] = 0.0f;
        account(e, i0, i1);
        for (int r = 1; r < e->repeat; r++) { // action repeat: step the runs of envs still going
            int any = 0;
            for (int a = i0; a < i1;) {
                while (a < i1 && B->done[a]) a++;
                int b = a;
                while (b < i1 && !B->done[b]) b++;
                if (b > a) {
                    im->step(im->data, a, b, e->act, e->raw, B->rewards, B->terminated, B->info, e->rngs);
                    account(e, a, b);
                    any = 1;
                }
                a = b;
            }
            if (!any) break;
        }
        for (int i = i0; i < i1; i++) B->rewards[i] = e->raw_rew[i];
    } else {
        int limit = e->limit;
        for (int i = i0; i < i1; i++) {
            if (pending && pending[i]) continue;
            float r = B->rewards[i];
            e->raw_rew[i] = r;
            e->acc_ret[i] += r;
            int32_t len = ++e->acc_len[i];
            uint8_t bt = B->terminated[i];
            uint8_t term = bt != 0 && bt != LC_BACKEND_TRUNCATED;
            uint8_t trunc = (uint8_t)(!term && (bt == LC_BACKEND_TRUNCATED || (limit > 0 && len >= limit)));
            B->terminated[i] = term;
            B->truncated[i] = trunc;
            B->done[i] = term | trunc;
        }
    }
    memset(B->ep_return + i0, 0, n * sizeof *B->ep_return);
    memset(B->ep_length + i0, 0, n * sizeof *B->ep_length);
    if (e->norm_rew)
        for (int i = i0; i < i1; i++) e->disc[i] = e->disc[i] * e->gamma + e->raw_rew[i];
    for (int i = i0; i < i1; i++) {
        if (B->done[i]) {
            B->ep_return[i] = (float)e->acc_ret[i];
            B->ep_length[i] = e->acc_len[i];
            e->episodes[i]++;
            e->acc_ret[i] = 0.0;
            e->acc_len[i] = 0;
            if (e->separate) memcpy(raw_final_row(e, i), raw_row(e, i), (size_t)e->F * e->es);
            else memcpy(final_row(e, i), obs_row(e, i), (size_t)e->O * e->es);
            if (e->autoreset == LC_AUTORESET_SAME_STEP) im->reset(im->data, i, &e->rngs[i], raw_row(e, i));
            else e->need_reset[i] = 1;
        }
    }
    if (pending) // (pending envs were not stepped: none of them ended now)
        for (int i = i0; i < i1; i++)
            if (pending[i]) reset_one(e, i); // clears need_reset[i]
    if (inline_post && (e->separate || e->norm_rew))
        for (int i = i0; i < i1; i++) post_step(e, i);
}

static void post_reset(lc_env *e, int i) {
    if (e->separate) lc_stack_fill(obs_row(e, i), frame_of(e, i, raw_row(e, i)), e->P, e->C, e->K, e->es);
}

// Env i's next episode starts: a start state from its generator, its rows cleared.
static void reset_one(lc_env *e, int i) {
    lc_env_buf *B = &e->buf;
    e->impl.reset(e->impl.data, i, &e->rngs[i], raw_row(e, i));
    e->acc_ret[i] = 0.0;
    e->acc_len[i] = 0;
    e->need_reset[i] = 0;
    e->raw_rew[i] = 0.0f;
    if (e->disc) e->disc[i] = 0.0;
    B->rewards[i] = 0.0f;
    B->terminated[i] = B->truncated[i] = B->done[i] = 0;
    B->ep_return[i] = 0.0f;
    B->ep_length[i] = 0;
    if (B->info) memset(B->info + (size_t)i * e->impl.n_info, 0, (size_t)e->impl.n_info * sizeof(float));
}

static void chunk_reset(lc_env *e, int i0, int i1) {
    lc_env_impl *im = &e->impl;
    for (int i = i0; i < i1; i++) {
        if (e->job_mask && !e->job_mask[i]) continue;
        if (e->job_reseed) {
            lc_rng_seed(&e->rngs[i], e->job_seed, (uint64_t)i);
            if (im->seed) im->seed(im->data, i, e->job_seed);
        }
        reset_one(e, i);
        if (e->job_inline) post_reset(e, i);
    }
}

static void run_chunk(void *ctx, int c, int n) {
    lc_env *e = ctx;
    int i0 = (int)((int64_t)e->N * c / n), i1 = (int)((int64_t)e->N * (c + 1) / n);
    switch (e->job) {
    case JOB_STEP: chunk_step(e, i0, i1, e->job_inline); break;
    case JOB_POST:
        for (int i = i0; i < i1; i++) post_step(e, i);
        break;
    case JOB_RESET: chunk_reset(e, i0, i1); break;
    case JOB_RESET_POST:
        for (int i = i0; i < i1; i++)
            if (!e->job_mask || e->job_mask[i]) post_reset(e, i);
        break;
    }
}

static void run_job(lc_env *e, int job) {
    e->job = job;
    if (e->pool && e->use_pool) lc_pool_run(e->pool, run_chunk, e);
    else run_chunk(e, 0, 1);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Automatic threading: whether a pool pays depends on the env's cost per step and on
// how busy the machine is, so the first steps time both ways (results are the same bits).
static void auto_step(lc_env *e) {
    int64_t k = e->auto_steps++;
    if (k < AUTO_WARM || k >= AUTO_WARM + 2 * AUTO_TRIAL) {
        run_job(e, JOB_STEP);
        return;
    }
    int pooled = k >= AUTO_WARM + AUTO_TRIAL;
    e->use_pool = pooled;
    double t0 = now_s();
    run_job(e, JOB_STEP);
    double dt = now_s() - t0;
    if (pooled) e->auto_pooled += dt;
    else e->auto_alone += dt;
    if (k == AUTO_WARM + 2 * AUTO_TRIAL - 1) e->use_pool = e->auto_pooled < 0.9 * e->auto_alone;
}

static int validate_actions(lc_env *e, const void *actions, lc_error *err) {
    const lc_space *s = &e->impl.act_space;
    int N = e->N, A = e->A;
    if (s->kind == LC_SPACE_DISCRETE) {
        const int32_t *a = actions;
        for (int i = 0; i < N; i++)
            if (a[i] < 0 || a[i] >= s->n)
                return lc_fail(err, LC_ERR_ACTION, "%s: env %d: action %d is outside Discrete(%d)", e->spec.name, i,
                               (int)a[i], s->n);
        e->act = actions;
    } else if (s->kind == LC_SPACE_MULTI_DISCRETE) {
        const int32_t *a = actions;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < A; j++) {
                int32_t v = a[(size_t)i * A + j];
                if (v < 0 || v >= s->nvec[j])
                    return lc_fail(err, LC_ERR_ACTION, "%s: env %d: action[%d] = %d is outside [0, %d)", e->spec.name,
                                   i, j, (int)v, s->nvec[j]);
            }
        e->act = actions;
    } else {
        const float *a = actions;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < A; j++) {
                float v = a[(size_t)i * A + j];
                if (!isfinite(v))
                    return lc_fail(err, LC_ERR_ACTION, "%s: env %d: action[%d] = %g is not finite", e->spec.name, i, j,
                                   (double)v);
                float lo = lc_space_low(s, j), hi = lc_space_high(s, j);
                e->act_clip[(size_t)i * A + j] = v < lo ? lo : v > hi ? hi : v;
            }
        e->act = e->act_clip;
    }
    return LC_OK;
}

int lc_env_step(lc_env *e, const void *actions, lc_error *err) {
    if (!e || !actions) return lc_fail(err, LC_ERR_ARG, "lc_env_step: no env or no actions");
    if (!e->was_reset) return lc_fail(err, LC_ERR_STATE, "%s: step before reset", e->spec.name);
    if (e->autoreset == LC_AUTORESET_DISABLED)
        for (int i = 0; i < e->N; i++)
            if (e->need_reset[i])
                return lc_fail(err, LC_ERR_STATE,
                               "%s: env %d ended and autoreset is disabled: reset it with lc_env_reset_mask first",
                               e->spec.name, i);
    int rc = validate_actions(e, actions, err);
    if (rc) return rc;
    int stats = (e->norm_obs && !e->frozen) || e->norm_rew;
    e->job_inline = !stats;
    if (e->auto_mode) auto_step(e);
    else run_job(e, JOB_STEP);
    if (stats) {
        if (e->norm_obs && !e->frozen)
            lc_rms_update(&e->ob_count, e->ob_mean, e->ob_var, e->F, e->raw, e->N, (size_t)e->F, NULL, e->ob_tmp);
        if (e->norm_rew) lc_rms_update_scalar(&e->rw_count, &e->rw_mean, &e->rw_var, e->disc, e->N);
        run_job(e, JOB_POST);
    }
    if (e->impl.status) return e->impl.status(e->impl.data, err);
    return LC_OK;
}

// ---------------------------------------------------------------- reset

static void do_reset(lc_env *e, const uint8_t *mask, int reseed, uint64_t seed) {
    int stats = e->norm_obs && !e->frozen;
    e->job_mask = mask;
    e->job_reseed = reseed;
    e->job_seed = seed;
    e->job_inline = !stats;
    run_job(e, JOB_RESET);
    if (stats) {
        lc_rms_update(&e->ob_count, e->ob_mean, e->ob_var, e->F, e->raw, e->N, (size_t)e->F, mask, e->ob_tmp);
        run_job(e, JOB_RESET_POST);
    }
    e->job_mask = NULL;
}

int lc_env_reset(lc_env *e, uint64_t seed, lc_error *err) {
    if (!e) return lc_fail(err, LC_ERR_ARG, "lc_env_reset: no env");
    do_reset(e, NULL, 1, seed);
    e->was_reset = 1;
    if (e->impl.status) return e->impl.status(e->impl.data, err);
    return LC_OK;
}

int lc_env_reset_mask(lc_env *e, const uint8_t *mask, lc_error *err) {
    if (!e || !mask) return lc_fail(err, LC_ERR_ARG, "lc_env_reset_mask: no env or no mask");
    if (!e->was_reset) return lc_fail(err, LC_ERR_STATE, "%s: reset_mask before the first reset", e->spec.name);
    int any = 0;
    for (int i = 0; i < e->N && !any; i++) any = mask[i] != 0;
    if (any) do_reset(e, mask, 0, 0);
    if (any && e->impl.status) return e->impl.status(e->impl.data, err);
    return LC_OK;
}

// ---------------------------------------------------------------- render

static void put_px(uint8_t *rgb, int w, int h, int x, int y, uint8_t r, uint8_t g, uint8_t b) {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    uint8_t *p = rgb + ((size_t)y * w + x) * 3;
    p[0] = r;
    p[1] = g;
    p[2] = b;
}

// For backends without render: an image observation scaled up, or one bar per element.
static void fallback_render(lc_env *e, int i, uint8_t *rgb, int w, int h) {
    const lc_space *s = &e->impl.obs_space;
    if (s->dtype == LC_U8 && s->ndim == 3 && (s->shape[2] == 3 || s->shape[2] == 1)) {
        const uint8_t *x = raw_row(e, i);
        int H = s->shape[0], W = s->shape[1], C = s->shape[2];
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < w; xx++) {
                const uint8_t *p = x + ((size_t)(y * H / h) * W + (size_t)(xx * W / w)) * C;
                put_px(rgb, w, h, xx, y, p[0], p[C == 3 ? 1 : 0], p[C == 3 ? 2 : 0]);
            }
        return;
    }
    memset(rgb, 245, (size_t)w * h * 3);
    int F = e->F, mid = h / 2, half = h / 2 - 4 > 1 ? h / 2 - 4 : 1;
    for (int j = 0; j < F; j++) {
        double v = s->dtype == LC_U8 ? ((const uint8_t *)raw_row(e, i))[j] : ((const float *)raw_row(e, i))[j];
        double lo = lc_space_low(s, j), hi = lc_space_high(s, j), z;
        if (isfinite(lo) && isfinite(hi) && hi > lo) z = 2.0 * (v - lo) / (hi - lo) - 1.0;
        else z = tanh(v);
        if (!(z == z)) z = 0.0;
        z = z > 1.0 ? 1.0 : z < -1.0 ? -1.0 : z;
        int len = (int)lround(z * half);
        int x0 = (int)((double)j * w / F + 0.2 * w / F), x1 = (int)((double)(j + 1) * w / F - 0.2 * w / F);
        if (x1 <= x0) x1 = x0 + 1;
        int ya = len >= 0 ? mid - len : mid, yb = len >= 0 ? mid : mid - len;
        for (int y = ya; y <= yb; y++)
            for (int x = x0; x < x1; x++) put_px(rgb, w, h, x, y, z >= 0 ? 59 : 209, z >= 0 ? 111 : 73, z >= 0 ? 182 : 91);
    }
    for (int x = 0; x < w; x++) put_px(rgb, w, h, x, mid, 48, 48, 48);
}

int lc_env_render(lc_env *e, int i, uint8_t *rgb, lc_error *err) {
    if (!e || !rgb) return lc_fail(err, LC_ERR_ARG, "lc_env_render: no env or no buffer");
    if (i < 0 || i >= e->N) return lc_fail(err, LC_ERR_ARG, "%s: render: env %d of %d", e->spec.name, i, e->N);
    if (!e->was_reset) return lc_fail(err, LC_ERR_STATE, "%s: render before reset", e->spec.name);
    int w = e->spec.render_w, h = e->spec.render_h;
    if (!e->impl.render) {
        fallback_render(e, i, rgb, w, h);
        return LC_OK;
    }
    if (e->impl.render(e->impl.data, i, rgb, w, h) != 0)
        return lc_fail(err, LC_ERR_UNSUPPORTED, "%s: cannot render env %d at %dx%d", e->spec.name, i, w, h);
    return LC_OK;
}

int lc_env_action_classes(lc_env *e, int i, int32_t *cls, lc_error *err) {
    if (!e || !cls) return lc_fail(err, LC_ERR_ARG, "lc_env_action_classes: no env or no buffer");
    if (i < 0 || i >= e->N)
        return lc_fail(err, LC_ERR_ARG, "%s: action classes: env %d of %d", e->spec.name, i, e->N);
    if (!e->impl.action_classes || e->impl.act_space.kind != LC_SPACE_DISCRETE)
        return lc_fail(err, LC_ERR_UNSUPPORTED, "%s cannot step a copy of its state (action "
                       "classes)", e->spec.name);
    if (!e->was_reset) return lc_fail(err, LC_ERR_STATE, "%s: action classes before reset", e->spec.name);
    if (e->impl.action_classes(e->impl.data, i, &e->rngs[i], cls) != 0)
        return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory for action classes", e->spec.name);
    return LC_OK;
}

// ---------------------------------------------------------------- make / free

void lc_env_free(lc_env *e) {
    if (!e) return;
    lc_pool_free(e->pool);
    if (e->have_impl && e->impl.destroy) e->impl.destroy(e->impl.data);
    lc_env_buf *B = &e->buf;
    if (e->raw != B->obs) free(e->raw);
    free(B->obs);
    free(B->rewards);
    free(B->terminated);
    free(B->truncated);
    free(B->done);
    free(B->final_obs);
    free(B->ep_return);
    free(B->ep_length);
    free(B->info);
    free(e->raw_final);
    free(e->frame_tmp);
    free(e->rs_out);
    free(e->rs_tmp);
    free(e->act_clip);
    free(e->raw_rew);
    free(e->acc_ret);
    free(e->acc_len);
    free(e->episodes);
    free(e->need_reset);
    free(e->fresh);
    free(e->rngs);
    free(e->ob_mean);
    free(e->ob_var);
    free(e->ob_tmp);
    free(e->disc);
    free(e);
}

// Zero fields of a memset struct mean the defaults; then the table's ranges, then the
// rules that tie options together.
static int check_opts(lc_env_opts *o, const char *name, lc_error *err) {
    if (o->num_envs == 0) o->num_envs = 1;
    if (o->action_repeat == 0) o->action_repeat = 1;
    if (o->frame_stack == 0) o->frame_stack = 1;
    if (!(o->clip_obs > 0.0f)) o->clip_obs = 10.0f; // 0 or NaN: the default
    if (!(o->clip_reward > 0.0f)) o->clip_reward = 10.0f;
    if (o->gamma == 0.0f) o->gamma = 0.99f;
    int rc = lc_settings_check(&OPTS, o, err);
    if (rc) {
        return lc_error_prefix(err, "%s: ", name);
    }
    if (o->autoreset == LC_AUTORESET_NEXT_STEP && o->action_repeat > 1)
        return lc_fail(err, LC_ERR_UNSUPPORTED, "%s: autoreset NEXT_STEP with action_repeat %d (> 1)", name,
                       o->action_repeat);
    if ((o->resize_h == 0) != (o->resize_w == 0))
        return lc_fail(err, LC_ERR_ARG, "%s: resize %dx%d: give both sides, or neither", name,
                       o->resize_h, o->resize_w);
    if (o->resize_h && o->normalize_obs)
        return lc_fail(err, LC_ERR_ARG, "%s: resize is for uint8 frames, normalize_obs for float "
                       "observations", name);
    return LC_OK;
}

static int check_impl(const lc_env_impl *im, const char *name, lc_error *err) {
    const lc_space *os = &im->obs_space, *as = &im->act_space;
    if (!im->reset || !im->step)
        return lc_fail(err, LC_ERR_ARG, "%s: the backend has no reset or step", name);
    if (os->kind != LC_SPACE_BOX || (os->dtype != LC_F32 && os->dtype != LC_U8) || os->ndim < 1 || os->ndim > 3)
        return lc_fail(err, LC_ERR_UNSUPPORTED, "%s: observations must be a float32 or uint8 Box", name);
    for (int d = 0; d < os->ndim; d++)
        if (os->shape[d] < 1) return lc_fail(err, LC_ERR_SHAPE, "%s: observation dimension %d is %d", name, d, os->shape[d]);
    if (as->kind == LC_SPACE_BOX && as->dtype != LC_F32)
        return lc_fail(err, LC_ERR_UNSUPPORTED, "%s: Box actions must be float32", name);
    if (as->kind == LC_SPACE_DISCRETE && as->n < 1)
        return lc_fail(err, LC_ERR_SHAPE, "%s: Discrete(%d) actions", name, as->n);
    if (as->kind == LC_SPACE_MULTI_DISCRETE && (as->shape[0] < 1 || as->shape[0] > LC_MAX_NVEC))
        return lc_fail(err, LC_ERR_SHAPE, "%s: MultiDiscrete with %d components", name, as->shape[0]);
    if (im->n_info < 0 || im->n_info > LC_MAX_INFO)
        return lc_fail(err, LC_ERR_SHAPE, "%s: n_info %d is not in [0, %d]", name, im->n_info, LC_MAX_INFO);
    if (im->render_w < 0 || im->render_h < 0 || im->render_w > MAX_RENDER || im->render_h > MAX_RENDER)
        return lc_fail(err, LC_ERR_SHAPE, "%s: native render size %dx%d", name, im->render_w, im->render_h);
    return LC_OK;
}

// The public observation space: frames resized, stacked on the last axis, normalised bounds.
static lc_space public_obs_space(const lc_env *e) {
    const lc_space *s = &e->impl.obs_space;
    int shape[3] = {s->shape[0], s->shape[1], s->shape[2]};
    if (e->rs_h) shape[0] = e->rs_h, shape[1] = e->rs_w;
    shape[s->ndim - 1] *= e->K;
    if (e->norm_obs) return lc_space_box_scalar(LC_F32, s->ndim, shape, -e->clip_obs, e->clip_obs);
    if (e->K == 1 && !e->rs_h) return *s;
    if (s->per_dim && e->O <= LC_SPACE_MAX_BOUNDS && !e->rs_h) {
        float lo[LC_SPACE_MAX_BOUNDS], hi[LC_SPACE_MAX_BOUNDS];
        for (int p = 0; p < e->P; p++)
            for (int k = 0; k < e->K; k++)
                for (int c = 0; c < e->C; c++) {
                    int dst = (p * e->K + k) * e->C + c, src = p * e->C + c;
                    lo[dst] = s->low[src];
                    hi[dst] = s->high[src];
                }
        return lc_space_box(s->dtype, s->ndim, shape, lo, hi);
    }
    float lo = INFINITY, hi = -INFINITY;
    for (int j = 0; j < e->F; j++) {
        if (lc_space_low(s, j) < lo) lo = lc_space_low(s, j);
        if (lc_space_high(s, j) > hi) hi = lc_space_high(s, j);
    }
    return lc_space_box_scalar(s->dtype, s->ndim, shape, lo, hi);
}

#define ALLOC(p, n) ((p) = calloc((size_t)(n), sizeof *(p))) // n >= 1 everywhere below

int lc_env_make(lc_env **out, const char *name, const lc_env_opts *opts, lc_error *err) {
    *out = NULL;
    if (!name) return lc_fail(err, LC_ERR_ARG, "lc_env_make: no env name");
    lc_env_opts o = opts ? *opts : lc_env_opts_default();
    int rc = check_opts(&o, name, err);
    if (rc) return rc;
    lc_env_ctor ctor;
    if ((rc = lc_env_lookup(name, &ctor, err))) return rc;
    lc_env *e = calloc(1, sizeof *e);
    if (!e) return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", name);
    int N = o.num_envs;
    e->N = N;
    if ((rc = ctor(&e->impl, name, N, &o, err))) {
        free(e);
        return rc;
    }
    e->have_impl = 1;
    if ((rc = check_impl(&e->impl, name, err))) goto fail;
    const lc_space *os = &e->impl.obs_space;
    e->F = lc_space_size(os);
    e->K = o.frame_stack;
    e->C = os->shape[os->ndim - 1];
    e->rs_h = o.resize_h, e->rs_w = o.resize_w;
    if (e->rs_h && (os->dtype != LC_U8 || os->ndim != 3)) {
        rc = lc_fail(err, LC_ERR_UNSUPPORTED, "%s: resize is for uint8 (H, W, C) frame observations",
                     name);
        goto fail;
    }
    e->FR = e->rs_h ? e->rs_h * e->rs_w * e->C : e->F;
    e->O = e->FR * e->K;
    e->P = e->FR / e->C;
    e->es = os->dtype == LC_U8 ? 1 : 4;
    e->A = lc_space_size(&e->impl.act_space);
    e->repeat = o.action_repeat;
    e->autoreset = o.autoreset;
    e->limit = o.max_episode_steps > 0 ? o.max_episode_steps
               : o.max_episode_steps == 0 && e->impl.max_episode_steps > 0 ? e->impl.max_episode_steps
                                                                           : 0;
    e->norm_obs = o.normalize_obs != 0;
    e->clip_obs = o.clip_obs;
    e->norm_rew = o.normalize_reward != 0;
    e->gamma = o.gamma;
    e->clip_rew = o.clip_reward;
    if (e->norm_obs && os->dtype != LC_F32) {
        rc = lc_fail(err, LC_ERR_ARG, "%s: normalize_obs needs float observations, not uint8", name);
        goto fail;
    }
    if ((int64_t)e->O * N > ((int64_t)1 << 31)) {
        rc = lc_fail(err, LC_ERR_SIZE, "%s: %d envs of %d observation elements is too large", name, N, e->O);
        goto fail;
    }
    e->separate = e->K > 1 || e->norm_obs || e->rs_h;

    lc_env_buf *B = &e->buf;
    size_t rowb = (size_t)e->O * e->es, rawb = (size_t)e->F * e->es;
    B->obs = calloc((size_t)N, rowb);
    B->final_obs = calloc((size_t)N, rowb);
    ALLOC(B->rewards, N);
    ALLOC(B->terminated, N);
    ALLOC(B->truncated, N);
    ALLOC(B->done, N);
    ALLOC(B->ep_return, N);
    ALLOC(B->ep_length, N);
    if (e->impl.n_info > 0) ALLOC(B->info, (size_t)N * e->impl.n_info);
    e->raw = e->separate ? calloc((size_t)N, rawb) : B->obs;
    if (e->separate) e->raw_final = calloc((size_t)N, rawb);
    if (e->norm_obs) {
        ALLOC(e->frame_tmp, (size_t)N * e->F);
        ALLOC(e->ob_mean, e->F);
        ALLOC(e->ob_var, e->F);
        ALLOC(e->ob_tmp, 2 * e->F);
    }
    if (e->rs_h) {
        e->rs_tmp_n = lc_resize_area_scratch(os->shape[0], os->shape[1], e->C, e->rs_h, e->rs_w);
        ALLOC(e->rs_out, (size_t)N * e->FR);
        ALLOC(e->rs_tmp, (size_t)N * e->rs_tmp_n);
    }
    if (e->impl.act_space.kind == LC_SPACE_BOX) ALLOC(e->act_clip, (size_t)N * e->A);
    ALLOC(e->raw_rew, N);
    ALLOC(e->acc_ret, N);
    ALLOC(e->acc_len, N);
    ALLOC(e->episodes, N);
    ALLOC(e->need_reset, N);
    if (o.autoreset == LC_AUTORESET_NEXT_STEP) ALLOC(e->fresh, N);
    ALLOC(e->rngs, N);
    if (e->norm_rew) ALLOC(e->disc, N);
    if (!B->obs || !B->final_obs || !B->rewards || !B->terminated || !B->truncated || !B->done || !B->ep_return ||
        !B->ep_length || (e->impl.n_info > 0 && !B->info) || !e->raw || (e->separate && !e->raw_final) ||
        (e->norm_obs && (!e->frame_tmp || !e->ob_mean || !e->ob_var || !e->ob_tmp)) ||
        (e->rs_h && (!e->rs_out || !e->rs_tmp)) ||
        (e->impl.act_space.kind == LC_SPACE_BOX && !e->act_clip) || !e->raw_rew || !e->acc_ret || !e->acc_len ||
        !e->episodes || !e->need_reset || (o.autoreset == LC_AUTORESET_NEXT_STEP && !e->fresh) || !e->rngs || (e->norm_rew && !e->disc)) {
        rc = lc_fail(err, LC_ERR_NOMEM, "%s: out of memory for %d envs", name, N);
        goto fail;
    }
    if (e->norm_obs) lc_rms_init(&e->ob_count, e->ob_mean, e->ob_var, e->F);
    if (e->norm_rew) lc_rms_init(&e->rw_count, &e->rw_mean, &e->rw_var, 1);

    int nt = o.num_threads;
    if (nt == 0) nt = e->impl.can_split && N >= AUTO_THREADS_MIN_ENVS ? 2 : 1;
    if (!e->impl.can_split) nt = 1;
    if (nt > N) nt = N;
    if (nt > MAX_THREADS) nt = MAX_THREADS;
    e->nthreads = nt;
    if (nt > 1 && (rc = lc_pool_new(&e->pool, nt, err))) goto fail;
    e->use_pool = 1;
    e->auto_mode = nt > 1 && o.num_threads == 0;

    lc_env_spec *sp = &e->spec;
    snprintf(sp->name, sizeof sp->name, "%s", name);
    sp->num_envs = N;
    sp->obs_space = public_obs_space(e);
    sp->act_space = e->impl.act_space;
    sp->obs_size = e->O;
    sp->act_size = e->A;
    sp->max_episode_steps = e->limit;
    sp->n_info = e->impl.n_info;
    for (int k = 0; k < e->impl.n_info; k++) sp->info_names[k] = e->impl.info_names[k];
    int nw = e->impl.render_w, nh = e->impl.render_h;
    if (nw <= 0 || nh <= 0) { // no native size: the fallback's
        int img = os->dtype == LC_U8 && os->ndim == 3;
        nw = img ? os->shape[1] * 4 : 256;
        nh = img ? os->shape[0] * 4 : 160;
        if (nw > 1024) nw = 1024;
        if (nh > 1024) nh = 1024;
    }
    sp->render_w = o.render_w > 0 ? o.render_w : nw;
    sp->render_h = o.render_h > 0 ? o.render_h : nh;
    *out = e;
    return LC_OK;
fail:
    lc_env_free(e);
    return rc;
}

const lc_env_spec *lc_env_get_spec(const lc_env *e) { return &e->spec; }
const lc_env_buf *lc_env_get_buf(const lc_env *e) { return &e->buf; }

int lc_env_obs_stats(lc_env *e, double **count, double **mean, double **var) {
    if (!e->norm_obs) {
        if (count) *count = NULL;
        if (mean) *mean = NULL;
        if (var) *var = NULL;
        return LC_ERR_UNSUPPORTED;
    }
    if (count) *count = &e->ob_count;
    if (mean) *mean = e->ob_mean;
    if (var) *var = e->ob_var;
    return LC_OK;
}

void lc_env_obs_freeze(lc_env *e, int frozen) { e->frozen = frozen != 0; }

int lc_env_reward_stats(lc_env *e, double **count, double **mean, double **var) {
    if (count) *count = e->norm_rew ? &e->rw_count : NULL;
    if (mean) *mean = e->norm_rew ? &e->rw_mean : NULL;
    if (var) *var = e->norm_rew ? &e->rw_var : NULL;
    return e->norm_rew ? LC_OK : LC_ERR_UNSUPPORTED;
}

int64_t lc_env_episode_count(const lc_env *e, int i) { return i >= 0 && i < e->N ? e->episodes[i] : 0; }
int lc_env_num_threads(const lc_env *e) { return e->nthreads; }
int lc_env_threads_in_use(const lc_env *e) { return e->pool && e->use_pool ? e->nthreads : 1; }

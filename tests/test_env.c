// tests/test_env.c: Check suite for the env API (env/env.h): spaces, the registry,
// the vector (autoreset, limits, stats, threads), every wrapper, and the contract
// suite on test envs and the built-ins. Leaves out: built-in dynamics (own suites).
//
// Letters: N = num_envs. Test envs registered here:
//   Counter-v0  obs Box([0 0 -1], [100 2 1], (3,)) = (count, last action, noise),
//               Discrete(3); reward = action + 0.5 * noise; count starts in {0, 1, 2}
//               (params "start=S" fixes it), terminates at count 12, time limit 10,
//               info "count", renders; can_split.
//   Drift-v0    obs Box(-10, 10, (2,)), Box(-1, 1, (2,)) actions added to the position,
//               reward -|x0|, terminates when |x0| > 5, limit 30, no render, no split.
//   Pix-v0      obs uint8 (4, 4, 2), Discrete(2); pixel (y, x, c) = 10 t + 3 a + y + x + c
//               + start, terminates at t = 9; no render.
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/resize.h"
#include "env/env.h"
#include "env/wrappers.h"
#include "tests/helpers/cli.h"
#include "tests/helpers/env_contract.h"

// ---------------------------------------------------------------- Counter-v0

typedef struct counter {
    int n, fixed_start;
    int *count; // (N)
} counter;

static void counter_reset(void *data, int i, lc_rng *rng, void *obs_row) {
    counter *c = data;
    c->count[i] = c->fixed_start >= 0 ? c->fixed_start : (int)lc_rng_below(rng, 3);
    float *o = obs_row;
    o[0] = (float)c->count[i];
    o[1] = 0.0f;
    o[2] = lc_rng_float(rng) * 2.0f - 1.0f;
}

static void counter_step(void *data, int i0, int i1, const void *actions, void *obs, float *rewards,
                         uint8_t *terminated, float *info, lc_rng *rngs) {
    counter *c = data;
    const int32_t *a = actions;
    for (int i = i0; i < i1; i++) {
        float *o = (float *)obs + (size_t)i * 3;
        c->count[i]++;
        float noise = lc_rng_float(&rngs[i]) * 2.0f - 1.0f;
        o[0] = (float)c->count[i];
        o[1] = (float)a[i];
        o[2] = noise;
        rewards[i] = (float)a[i] + 0.5f * noise;
        terminated[i] = c->count[i] >= 12;
        if (info) info[i] = (float)c->count[i];
    }
}

static int counter_render(void *data, int i, uint8_t *rgb, int w, int h) {
    counter *c = data;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            int on = x < c->count[i] * w / 12;
            p[0] = on ? 200 : 10;
            p[1] = (uint8_t)(on ? 100 : 10);
            p[2] = 30;
        }
    return 0;
}

static void counter_destroy(void *data) {
    counter *c = data;
    free(c->count);
    free(c);
}

static int counter_make(lc_env_impl *im, const char *name, int n, const lc_env_opts *opts, lc_error *err) {
    (void)name;
    int start = -1;
    if (opts && opts->params && opts->params[0]) {
        if (sscanf(opts->params, "start=%d", &start) != 1 || start < 0 || start > 11)
            return lc_fail(err, LC_ERR_ARG, "Counter-v0: bad params '%s'", opts->params);
    }
    counter *c = calloc(1, sizeof *c);
    if (!c || !(c->count = calloc((size_t)n, sizeof(int)))) {
        free(c);
        return lc_fail(err, LC_ERR_NOMEM, "Counter-v0: out of memory");
    }
    c->n = n;
    c->fixed_start = start;
    memset(im, 0, sizeof *im);
    int shape[1] = {3};
    float lo[3] = {0, 0, -1}, hi[3] = {100, 2, 1};
    im->obs_space = lc_space_box(LC_F32, 1, shape, lo, hi);
    im->act_space = lc_space_discrete(3);
    im->max_episode_steps = 10;
    im->can_split = 1;
    im->render_w = 24;
    im->render_h = 6;
    im->n_info = 1;
    im->info_names[0] = "count";
    im->data = c;
    im->reset = counter_reset;
    im->step = counter_step;
    im->render = counter_render;
    im->destroy = counter_destroy;
    return LC_OK;
}

// ---------------------------------------------------------------- Drift-v0

static void drift_reset(void *data, int i, lc_rng *rng, void *obs_row) {
    (void)data;
    (void)i;
    float *o = obs_row;
    o[0] = (float)lc_rng_uniform(rng, -1, 1);
    o[1] = (float)lc_rng_uniform(rng, -1, 1);
}

static void drift_step(void *data, int i0, int i1, const void *actions, void *obs, float *rewards,
                       uint8_t *terminated, float *info, lc_rng *rngs) {
    (void)data;
    (void)info;
    (void)rngs;
    const float *a = actions;
    for (int i = i0; i < i1; i++) {
        float *o = (float *)obs + (size_t)i * 2;
        for (int j = 0; j < 2; j++) {
            o[j] += a[i * 2 + j];
            if (o[j] > 10.0f) o[j] = 10.0f;
            if (o[j] < -10.0f) o[j] = -10.0f;
        }
        rewards[i] = -fabsf(o[0]);
        terminated[i] = fabsf(o[0]) > 5.0f;
    }
}

static void nothing(void *data) { (void)data; }

static int drift_make(lc_env_impl *im, const char *name, int n, const lc_env_opts *opts, lc_error *err) {
    (void)name;
    (void)n;
    (void)opts;
    (void)err;
    memset(im, 0, sizeof *im);
    int shape[1] = {2};
    im->obs_space = lc_space_box_scalar(LC_F32, 1, shape, -10, 10);
    im->act_space = lc_space_box_scalar(LC_F32, 1, shape, -1, 1);
    im->max_episode_steps = 30;
    im->can_split = 0;
    im->reset = drift_reset;
    im->step = drift_step;
    im->destroy = nothing;
    return LC_OK;
}

// ---------------------------------------------------------------- Pix-v0

#define PIX_H 4
#define PIX_W 4
#define PIX_C 2
#define PIX_F (PIX_H * PIX_W * PIX_C)

typedef struct pix {
    int *t, *start; // (N)
} pix;

static void pix_draw(uint8_t *o, int t, int a, int start) {
    for (int y = 0; y < PIX_H; y++)
        for (int x = 0; x < PIX_W; x++)
            for (int c = 0; c < PIX_C; c++) o[(y * PIX_W + x) * PIX_C + c] = (uint8_t)(10 * t + 3 * a + y + x + c + start);
}

static void pix_reset(void *data, int i, lc_rng *rng, void *obs_row) {
    pix *p = data;
    p->t[i] = 0;
    p->start[i] = (int)lc_rng_below(rng, 100);
    pix_draw(obs_row, 0, 0, p->start[i]);
}

static void pix_step(void *data, int i0, int i1, const void *actions, void *obs, float *rewards,
                     uint8_t *terminated, float *info, lc_rng *rngs) {
    (void)info;
    (void)rngs;
    pix *p = data;
    const int32_t *a = actions;
    for (int i = i0; i < i1; i++) {
        p->t[i]++;
        pix_draw((uint8_t *)obs + (size_t)i * PIX_F, p->t[i], a[i], p->start[i]);
        rewards[i] = (float)a[i];
        terminated[i] = p->t[i] >= 9;
    }
}

static void pix_destroy(void *data) {
    pix *p = data;
    free(p->t);
    free(p->start);
    free(p);
}

static int pix_make(lc_env_impl *im, const char *name, int n, const lc_env_opts *opts, lc_error *err) {
    (void)name;
    (void)opts;
    pix *p = calloc(1, sizeof *p);
    if (!p || !(p->t = calloc((size_t)n, sizeof(int))) || !(p->start = calloc((size_t)n, sizeof(int)))) {
        if (p) free(p->t);
        free(p);
        return lc_fail(err, LC_ERR_NOMEM, "Pix-v0: out of memory");
    }
    memset(im, 0, sizeof *im);
    int shape[3] = {PIX_H, PIX_W, PIX_C};
    im->obs_space = lc_space_box_scalar(LC_U8, 3, shape, 0, 255);
    im->act_space = lc_space_discrete(2);
    im->can_split = 1;
    im->data = p;
    im->reset = pix_reset;
    im->step = pix_step;
    im->destroy = pix_destroy;
    return LC_OK;
}

// A "family:" prefix: the ctor receives the whole name.
static char family_seen[128];
static int family_make(lc_env_impl *im, const char *name, int n, const lc_env_opts *opts, lc_error *err) {
    snprintf(family_seen, sizeof family_seen, "%s", name);
    return counter_make(im, name, n, opts, err);
}

static int register_test_envs(void) {
    return lc_env_register("Counter-v0", counter_make, "a counter for tests") ||
           lc_env_register("Drift-v0", drift_make, "a point pushed by Box actions") ||
           lc_env_register("Pix-v0", pix_make, "a tiny uint8 image env") ||
           lc_env_register("testfam:", family_make, "a family of counters");
}

// ---------------------------------------------------------------- helpers

static lc_env *make_env(const char *name, lc_env_opts o) {
    lc_env *e = NULL;
    lc_error err = {0};
    ck_assert_msg(lc_env_make(&e, name, &o, &err) == LC_OK, "make %s: %s", name, err.msg);
    return e;
}

static lc_env_opts opts_n(int n) {
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = n;
    return o;
}

static void reset(lc_env *e, uint64_t seed) {
    lc_error err = {0};
    ck_assert_msg(lc_env_reset(e, seed, &err) == LC_OK, "%s", err.msg);
}

static void step(lc_env *e, const void *a) {
    lc_error err = {0};
    ck_assert_msg(lc_env_step(e, a, &err) == LC_OK, "%s", err.msg);
}

static void rand_discrete(int32_t *a, int n, int k, lc_rng *rng) {
    for (int i = 0; i < n; i++) a[i] = (int32_t)lc_rng_below(rng, (uint32_t)k);
}

// ---------------------------------------------------------------- spaces

START_TEST(test_space_describe) {
    char d[200];
    lc_space s = lc_space_discrete(2);
    lc_space_describe(&s, d, sizeof d);
    ck_assert_str_eq(d, "Discrete(2)");
    ck_assert_int_eq(lc_space_size(&s), 1);
    ck_assert_float_eq(lc_space_high(&s, 0), 1.0f);
    int sh4[1] = {4};
    s = lc_space_box_scalar(LC_F32, 1, sh4, -INFINITY, INFINITY);
    lc_space_describe(&s, d, sizeof d);
    ck_assert_str_eq(d, "Box(-inf, inf, (4,), float32)");
    s = lc_space_box(LC_F32, 1, sh4, NULL, NULL);
    lc_space_describe(&s, d, sizeof d);
    ck_assert_str_eq(d, "Box(-inf, inf, (4,), float32)");
    int nv[2] = {3, 3};
    s = lc_space_multi_discrete(2, nv);
    lc_space_describe(&s, d, sizeof d);
    ck_assert_str_eq(d, "MultiDiscrete([3 3])");
    ck_assert_int_eq(lc_space_size(&s), 2);
    ck_assert_float_eq(lc_space_high(&s, 1), 2.0f);
    int sh3[1] = {3};
    float lo[3] = {0, 0, -1}, hi[3] = {100, 2.5f, 1};
    s = lc_space_box(LC_F32, 1, sh3, lo, hi);
    lc_space_describe(&s, d, sizeof d);
    ck_assert_str_eq(d, "Box([0 0 -1], [100 2.5 1], (3,), float32)");
    ck_assert_float_eq(lc_space_low(&s, 2), -1.0f);
    ck_assert_float_eq(lc_space_high(&s, 1), 2.5f);
    int img[3] = {64, 64, 3};
    s = lc_space_box_scalar(LC_U8, 3, img, 0, 255);
    lc_space_describe(&s, d, sizeof d);
    ck_assert_str_eq(d, "Box(0, 255, (64, 64, 3), uint8)");
    ck_assert_int_eq(lc_space_size(&s), 64 * 64 * 3);
    ck_assert_float_eq(lc_space_high(&s, 5000), 255.0f);
    char tiny[8];
    lc_space_describe(&s, tiny, sizeof tiny); // truncated, terminated
    ck_assert_int_eq((int)strlen(tiny), 7);
}
END_TEST

static void same_space(const lc_space *a, const lc_space *b) {
    ck_assert_int_eq(a->kind, b->kind);
    ck_assert_int_eq(a->dtype, b->dtype);
    ck_assert_int_eq(lc_space_size(a), lc_space_size(b));
    char da[256], db[256];
    lc_space_describe(a, da, sizeof da);
    lc_space_describe(b, db, sizeof db);
    ck_assert_str_eq(da, db);
    for (int j = 0; j < lc_space_size(a) && j < 64; j++) {
        ck_assert(memcmp(&(float){lc_space_low(a, j)}, &(float){lc_space_low(b, j)}, 4) == 0);
        ck_assert(memcmp(&(float){lc_space_high(a, j)}, &(float){lc_space_high(b, j)}, 4) == 0);
    }
}

START_TEST(test_space_save_load) {
    lc_error err = {0};
    int sh4[1] = {4}, img[3] = {8, 6, 3}, nv[3] = {2, 5, 3};
    float lo[4] = {-4.8f, -INFINITY, -0.42f, -INFINITY}, hi[4] = {4.8f, INFINITY, 0.42f, INFINITY};
    lc_space sp[5] = {lc_space_discrete(7), lc_space_box(LC_F32, 1, sh4, lo, hi),
                      lc_space_box_scalar(LC_U8, 3, img, 0, 255), lc_space_multi_discrete(3, nv),
                      lc_space_box_scalar(LC_F32, 3, img, -1, 1)};
    lc_file *f = lc_file_new("test");
    ck_assert_ptr_nonnull(f);
    char prefix[5][16];
    for (int k = 0; k < 5; k++) {
        snprintf(prefix[k], sizeof prefix[k], "s%d", k);
        ck_assert_msg(lc_space_to_file(&sp[k], f, prefix[k], &err) == LC_OK, "%s", err.msg);
    }
    void *bytes = NULL;
    size_t len = 0;
    ck_assert_msg(lc_file_encode(f, &bytes, &len, &err) == LC_OK, "%s", err.msg);
    lc_file *g = NULL;
    ck_assert_msg(lc_file_decode(bytes, len, &g, &err) == LC_OK, "%s", err.msg);
    for (int k = 0; k < 5; k++) {
        lc_space back;
        ck_assert_msg(lc_space_from_file(&back, g, prefix[k], &err) == LC_OK, "%s", err.msg);
        same_space(&sp[k], &back);
    }
    lc_space back;
    ck_assert_int_eq(lc_space_from_file(&back, g, "nothere", &err), LC_ERR_NOTFOUND);
    // Corruptions are answered with errors.
    lc_file_set_str(f, "s0.kind", "weird");
    ck_assert_int_eq(lc_space_from_file(&back, f, "s0", &err), LC_ERR_FORMAT);
    lc_file_set_int(f, "s1.dim0", 5); // 5 elements, 4 bounds
    ck_assert_int_eq(lc_space_from_file(&back, f, "s1", &err), LC_ERR_SHAPE);
    lc_file_set_int(f, "s2.ndim", 9);
    ck_assert_int_eq(lc_space_from_file(&back, f, "s2", &err), LC_ERR_FORMAT);
    lc_file_set_str(f, "s3.dtype", "f32");
    ck_assert_int_eq(lc_space_from_file(&back, f, "s3", &err), LC_ERR_FORMAT);
    float bad[2] = {1.0f, -1.0f}; // low > high
    int64_t shape[2] = {2, 1};
    ck_assert_int_eq(lc_file_add(f, "s4.bounds", LC_F32, 2, shape, bad, &err), LC_OK);
    ck_assert_int_eq(lc_space_from_file(&back, f, "s4", &err), LC_ERR_FORMAT);
    free(bytes);
    lc_file_free(f);
    lc_file_free(g);
}
END_TEST

// ---------------------------------------------------------------- registry

START_TEST(test_unknown_name) {
    lc_env *e = (lc_env *)&e;
    lc_error err = {0};
    ck_assert_int_eq(lc_env_make(&e, "NoSuchEnv-v9", NULL, &err), LC_ERR_NOTFOUND);
    ck_assert_ptr_null(e);
    ck_assert_ptr_nonnull(strstr(err.msg, "NoSuchEnv-v9"));
    ck_assert_ptr_nonnull(strstr(err.msg, "Counter-v0"));
    ck_assert_int_eq(lc_env_make(&e, "testfa", NULL, &err), LC_ERR_NOTFOUND);
}
END_TEST

START_TEST(test_registry) {
    int n = lc_env_registry_count(), found = 0;
    ck_assert_int_ge(n, 4);
    for (int i = 0; i < n; i++) {
        const char *name = lc_env_registry_name(i);
        ck_assert_ptr_nonnull(name);
        ck_assert_ptr_nonnull(lc_env_registry_summary(i));
        if (strcmp(name, "Counter-v0") == 0) {
            found = 1;
            ck_assert_str_eq(lc_env_registry_summary(i), "a counter for tests");
        }
    }
    ck_assert(found);
    ck_assert_ptr_null(lc_env_registry_name(n));
    // Registering a name again replaces it.
    ck_assert_int_eq(lc_env_register("Counter-v0", counter_make, "replaced"), LC_OK);
    ck_assert_int_eq(lc_env_registry_count(), n);
    for (int i = 0; i < n; i++)
        if (strcmp(lc_env_registry_name(i), "Counter-v0") == 0) ck_assert_str_eq(lc_env_registry_summary(i), "replaced");
    ck_assert_int_eq(lc_env_register("", counter_make, "x"), LC_ERR_ARG);
    lc_env_register_builtin(); // idempotent
    ck_assert_int_eq(lc_env_registry_count(), n);
    // A family prefix gets the whole name; params reach the ctor.
    lc_env_opts o = opts_n(2);
    o.params = "start=5";
    lc_env *e = make_env("testfam:anything", o);
    ck_assert_str_eq(family_seen, "testfam:anything");
    ck_assert_str_eq(lc_env_get_spec(e)->name, "testfam:anything");
    reset(e, 1);
    ck_assert_float_eq(((float *)lc_env_get_buf(e)->obs)[0], 5.0f);
    ck_assert_float_eq(((float *)lc_env_get_buf(e)->obs)[3], 5.0f);
    lc_env_free(e);
    lc_error err = {0};
    o.params = "start=oops";
    ck_assert_int_eq(lc_env_make(&e, "Counter-v0", &o, &err), LC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "oops"));
}
END_TEST

START_TEST(test_bad_opts) {
    lc_env *e = NULL;
    lc_error err = {0};
    lc_env_opts o = opts_n(-1);
    ck_assert_int_eq(lc_env_make(&e, "Counter-v0", &o, &err), LC_ERR_ARG);
    o = opts_n(2);
    o.autoreset = 7;
    ck_assert_int_eq(lc_env_make(&e, "Counter-v0", &o, &err), LC_ERR_ARG);
    o = opts_n(2);
    o.frame_stack = -2;
    ck_assert_int_eq(lc_env_make(&e, "Counter-v0", &o, &err), LC_ERR_ARG);
    o = opts_n(2);
    o.gamma = 1.5f;
    ck_assert_int_eq(lc_env_make(&e, "Counter-v0", &o, &err), LC_ERR_ARG);
    o = opts_n(2);
    o.normalize_obs = 1; // uint8 observations
    ck_assert_int_eq(lc_env_make(&e, "Pix-v0", &o, &err), LC_ERR_ARG);
    ck_assert_ptr_null(e);
    lc_env_free(NULL);
    // A zeroed opts struct means defaults.
    lc_env_opts z;
    memset(&z, 0, sizeof z);
    e = make_env("Counter-v0", z);
    ck_assert_int_eq(lc_env_get_spec(e)->num_envs, 1);
    ck_assert_int_eq(lc_env_get_spec(e)->max_episode_steps, 10);
    lc_env_free(e);
    ck_assert_msg(lc_env_make(&e, "Counter-v0", NULL, &err) == LC_OK, "%s", err.msg);
    lc_env_free(e);
}
END_TEST

// ---------------------------------------------------------------- the vector

START_TEST(test_spec_and_info) {
    lc_env *e = make_env("Counter-v0", opts_n(3));
    const lc_env_spec *sp = lc_env_get_spec(e);
    const lc_env_buf *b = lc_env_get_buf(e);
    ck_assert_str_eq(sp->name, "Counter-v0");
    ck_assert_int_eq(sp->obs_size, 3);
    ck_assert_int_eq(sp->act_size, 1);
    ck_assert_int_eq(sp->n_info, 1);
    ck_assert_str_eq(sp->info_names[0], "count");
    ck_assert_int_eq(sp->render_w, 24);
    reset(e, 9);
    int32_t a[3] = {0, 1, 2};
    float c0[3];
    for (int i = 0; i < 3; i++) c0[i] = ((float *)b->obs)[i * 3];
    step(e, a);
    for (int i = 0; i < 3; i++) {
        ck_assert_float_eq(b->info[i], c0[i] + 1.0f);
        ck_assert_float_eq(((float *)b->obs)[i * 3 + 1], (float)i);
    }
    ck_assert_int_eq(lc_env_episode_count(e, 0), 0);
    lc_env_free(e);
}
END_TEST

START_TEST(test_time_limit_override) {
    int32_t a[4] = {1, 1, 1, 1};
    int limits[3] = {4, -1, 0}, expect[3] = {4, 0, 10};
    for (int k = 0; k < 3; k++) {
        lc_env_opts o = opts_n(4);
        o.max_episode_steps = limits[k];
        lc_env *e = make_env("Counter-v0", o);
        const lc_env_buf *b = lc_env_get_buf(e);
        ck_assert_int_eq(lc_env_get_spec(e)->max_episode_steps, expect[k]);
        reset(e, 3);
        int ends = 0;
        for (int t = 0; t < 40; t++) {
            step(e, a);
            for (int i = 0; i < 4; i++) {
                if (!b->done[i]) continue;
                ends++;
                if (k == 0) { // every episode truncated at 4
                    ck_assert(b->truncated[i] && !b->terminated[i]);
                    ck_assert_int_eq(b->ep_length[i], 4);
                } else if (k == 1) { // no limit: only termination, at count 12
                    ck_assert(b->terminated[i] && !b->truncated[i]);
                    ck_assert_float_eq(((float *)b->final_obs)[i * 3], 12.0f);
                    ck_assert(b->ep_length[i] >= 10 && b->ep_length[i] <= 12);
                } else {
                    ck_assert_int_le(b->ep_length[i], 10);
                    if (b->truncated[i]) ck_assert_int_eq(b->ep_length[i], 10);
                    else ck_assert_float_eq(((float *)b->final_obs)[i * 3], 12.0f);
                }
            }
        }
        ck_assert_int_ge(ends, 8);
        lc_env_free(e);
    }
}
END_TEST

START_TEST(test_box_actions_clipped) {
    lc_env *e = make_env("Drift-v0", opts_n(2));
    const lc_env_buf *b = lc_env_get_buf(e);
    reset(e, 1);
    float x0[4];
    memcpy(x0, b->obs, sizeof x0);
    float a[4] = {5.0f, -0.25f, -100.0f, 0.5f};
    step(e, a);
    const float *x = b->obs;
    ck_assert_float_eq(x[0], x0[0] + 1.0f);
    ck_assert_float_eq(x[1], x0[1] - 0.25f);
    ck_assert_float_eq(x[2], x0[2] - 1.0f);
    ck_assert_float_eq(x[3], x0[3] + 0.5f);
    ck_assert_float_eq(a[0], 5.0f); // the caller's actions are left alone
    lc_env_free(e);
}
END_TEST

START_TEST(test_threads_auto) {
    lc_env_opts o = opts_n(300);
    lc_env *e = make_env("Counter-v0", o);
    ck_assert_int_eq(lc_env_num_threads(e), 2);
    lc_env_free(e);
    e = make_env("Drift-v0", o); // cannot split
    ck_assert_int_eq(lc_env_num_threads(e), 1);
    lc_env_free(e);
    o = opts_n(8);
    e = make_env("Counter-v0", o);
    ck_assert_int_eq(lc_env_num_threads(e), 1);
    lc_env_free(e);
    o.num_threads = 3;
    e = make_env("Counter-v0", o);
    ck_assert_int_eq(lc_env_num_threads(e), 3);
    lc_env_free(e);
    o = opts_n(2);
    o.num_threads = 8; // never more threads than envs
    e = make_env("Counter-v0", o);
    ck_assert_int_eq(lc_env_num_threads(e), 2);
    lc_env_free(e);
}
END_TEST

// Automatic mode times one thread against its pool during steps 2..33 and may switch:
// the trajectory is the same bits as one thread's throughout.
START_TEST(test_threads_auto_identical) {
    enum { N = 300, T = 45 };
    lc_env_opts o = opts_n(N);
    o.num_threads = 1;
    lc_env *x = make_env("Counter-v0", o);
    o.num_threads = 0;
    lc_env *y = make_env("Counter-v0", o);
    const lc_env_buf *bx = lc_env_get_buf(x), *by = lc_env_get_buf(y);
    int32_t a[N];
    lc_rng rng;
    lc_rng_seed(&rng, 45, 0);
    reset(x, 45);
    reset(y, 45);
    for (int t = 0; t < T; t++) {
        rand_discrete(a, N, 3, &rng);
        step(x, a);
        step(y, a);
        ck_assert_mem_eq(bx->obs, by->obs, (size_t)N * 3 * sizeof(float));
        ck_assert_mem_eq(bx->rewards, by->rewards, N * sizeof(float));
        ck_assert_mem_eq(bx->done, by->done, N);
        ck_assert_mem_eq(bx->final_obs, by->final_obs, (size_t)N * 3 * sizeof(float));
    }
    int used = lc_env_threads_in_use(y);
    ck_assert(used == 1 || used == 2);
    ck_assert_int_eq(lc_env_threads_in_use(x), 1);
    lc_env_free(x);
    lc_env_free(y);
}
END_TEST

// 3 threads over 1000 envs with every wrapper on: the same bits as 1 thread.
START_TEST(test_threads_wrappers_identical) {
    enum { N = 1000, T = 40 };
    lc_env_opts o = opts_n(N);
    o.frame_stack = 2;
    o.normalize_obs = 1;
    o.normalize_reward = 1;
    o.action_repeat = 2;
    o.num_threads = 1;
    lc_env *x = make_env("Counter-v0", o);
    o.num_threads = 3;
    lc_env *y = make_env("Counter-v0", o);
    const lc_env_buf *bx = lc_env_get_buf(x), *by = lc_env_get_buf(y);
    int32_t *a = malloc(N * sizeof *a);
    lc_rng rng;
    lc_rng_seed(&rng, 1, 2);
    reset(x, 5);
    reset(y, 5);
    for (int t = 0; t < T; t++) {
        rand_discrete(a, N, 3, &rng);
        step(x, a);
        step(y, a);
        ck_assert_mem_eq(bx->obs, by->obs, (size_t)N * 6 * sizeof(float));
        ck_assert_mem_eq(bx->final_obs, by->final_obs, (size_t)N * 6 * sizeof(float));
        ck_assert_mem_eq(bx->rewards, by->rewards, N * sizeof(float));
        ck_assert_mem_eq(bx->done, by->done, N);
        ck_assert_mem_eq(bx->ep_return, by->ep_return, N * sizeof(float));
    }
    free(a);
    lc_env_free(x);
    lc_env_free(y);
}
END_TEST

// ---------------------------------------------------------------- wrappers

// Frame stack of Counter-v0 (1-D, K = 3) against a plain twin and its history.
START_TEST(test_frame_stack_1d) {
    enum { N = 3, K = 3, F = 3 };
    lc_env_opts o = opts_n(N);
    o.frame_stack = K;
    lc_env *x = make_env("Counter-v0", o), *y = make_env("Counter-v0", opts_n(N));
    const lc_env_spec *sp = lc_env_get_spec(x);
    ck_assert_int_eq(sp->obs_size, K * F);
    ck_assert_int_eq(sp->obs_space.shape[0], K * F);
    ck_assert_float_eq(lc_space_high(&sp->obs_space, 3), 100.0f); // bounds repeat per frame
    ck_assert_float_eq(lc_space_low(&sp->obs_space, 5), -1.0f);
    const lc_env_buf *bx = lc_env_get_buf(x), *by = lc_env_get_buf(y);
    float hist[N][K][F]; // oldest first
    reset(x, 4);
    reset(y, 4);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < K; k++) memcpy(hist[i][k], (float *)by->obs + i * F, sizeof hist[i][k]);
    ck_assert_mem_eq(bx->obs, hist, sizeof hist);
    int32_t a[N];
    lc_rng rng;
    lc_rng_seed(&rng, 8, 8);
    int ends = 0;
    for (int t = 0; t < 40; t++) {
        rand_discrete(a, N, 3, &rng);
        step(x, a);
        step(y, a);
        for (int i = 0; i < N; i++) {
            memmove(hist[i][0], hist[i][1], (K - 1) * F * sizeof(float));
            if (by->done[i]) {
                ends++;
                memcpy(hist[i][K - 1], (float *)by->final_obs + i * F, F * sizeof(float));
                ck_assert_mem_eq((float *)bx->final_obs + i * K * F, hist[i], sizeof hist[i]);
                for (int k = 0; k < K; k++) memcpy(hist[i][k], (float *)by->obs + i * F, F * sizeof(float));
            } else {
                memcpy(hist[i][K - 1], (float *)by->obs + i * F, F * sizeof(float));
            }
        }
        ck_assert_mem_eq(bx->obs, hist, sizeof hist);
        ck_assert_mem_eq(bx->rewards, by->rewards, sizeof(float) * N);
    }
    ck_assert_int_gt(ends, 0);
    lc_env_free(x);
    lc_env_free(y);
}
END_TEST

// Frame stack of an image (4, 4, 2) -> (4, 4, 4): frames interleave on the last axis.
START_TEST(test_frame_stack_image) {
    enum { N = 2, K = 2 };
    lc_env_opts o = opts_n(N);
    o.frame_stack = K;
    lc_env *x = make_env("Pix-v0", o), *y = make_env("Pix-v0", opts_n(N));
    const lc_env_spec *sp = lc_env_get_spec(x);
    ck_assert_int_eq(sp->obs_space.shape[0], PIX_H);
    ck_assert_int_eq(sp->obs_space.shape[1], PIX_W);
    ck_assert_int_eq(sp->obs_space.shape[2], PIX_C * K);
    ck_assert_int_eq(sp->obs_space.dtype, LC_U8);
    const lc_env_buf *bx = lc_env_get_buf(x), *by = lc_env_get_buf(y);
    uint8_t prev[N][PIX_F];
    reset(x, 2);
    reset(y, 2);
    memcpy(prev, by->obs, sizeof prev);
    int32_t a[N] = {1, 0};
    for (int t = 0; t < 12; t++) {
        step(x, a);
        step(y, a);
        for (int i = 0; i < N; i++) {
            const uint8_t *sx = (uint8_t *)bx->obs + i * PIX_F * K, *cur = (uint8_t *)by->obs + i * PIX_F;
            const uint8_t *fin = (uint8_t *)bx->final_obs + i * PIX_F * K;
            for (int p = 0; p < PIX_H * PIX_W; p++)
                for (int c = 0; c < PIX_C; c++) {
                    if (by->done[i]) { // final: (prev, final frame); obs: the new start twice
                        ck_assert_int_eq(fin[p * PIX_C * K + c], prev[i][p * PIX_C + c]);
                        ck_assert_int_eq(fin[p * PIX_C * K + PIX_C + c], ((uint8_t *)by->final_obs)[i * PIX_F + p * PIX_C + c]);
                        ck_assert_int_eq(sx[p * PIX_C * K + c], cur[p * PIX_C + c]);
                    } else {
                        ck_assert_int_eq(sx[p * PIX_C * K + c], prev[i][p * PIX_C + c]);
                    }
                    ck_assert_int_eq(sx[p * PIX_C * K + PIX_C + c], cur[p * PIX_C + c]);
                }
            memcpy(prev[i], cur, PIX_F);
        }
    }
    lc_env_free(x);
    lc_env_free(y);
}
END_TEST

// Action repeat 3 = three steps of a plain twin with the same action, stopping at the end.
START_TEST(test_action_repeat) {
    lc_env_opts o = opts_n(1);
    o.action_repeat = 3;
    lc_env *x = make_env("Counter-v0", o), *y = make_env("Counter-v0", opts_n(1));
    const lc_env_buf *bx = lc_env_get_buf(x), *by = lc_env_get_buf(y);
    reset(x, 6);
    reset(y, 6);
    lc_rng rng;
    lc_rng_seed(&rng, 6, 6);
    int ends = 0, short_ends = 0;
    for (int t = 0; t < 30; t++) {
        int32_t a;
        rand_discrete(&a, 1, 3, &rng);
        step(x, &a);
        float sum = 0.0f;
        int r = 0;
        for (; r < 3; r++) {
            step(y, &a);
            sum += by->rewards[0];
            if (by->done[0]) break;
        }
        ck_assert_float_eq(bx->rewards[0], sum);
        ck_assert_int_eq(bx->done[0], by->done[0]);
        ck_assert_int_eq(bx->truncated[0], by->truncated[0]);
        ck_assert_mem_eq(bx->obs, by->obs, 3 * sizeof(float));
        if (bx->done[0]) {
            ends++;
            short_ends += r < 2;
            ck_assert_mem_eq(bx->final_obs, by->final_obs, 3 * sizeof(float));
            ck_assert_int_eq(bx->ep_length[0], by->ep_length[0]); // lengths count env steps
            ck_assert_float_eq(bx->ep_return[0], by->ep_return[0]);
        }
    }
    ck_assert_int_gt(ends, 3);
    ck_assert_int_gt(short_ends, 0); // some episodes ended inside a repeat
    lc_env_free(x);
    lc_env_free(y);
}
END_TEST

// Running statistics against a two-pass computation over every batch the env saw
// (the reset batch and each step's observations, after autoreset).
START_TEST(test_normalize_obs) {
    enum { N = 16, T = 30, F = 3, ROWS = N * (T + 1) };
    lc_env_opts o = opts_n(N);
    o.normalize_obs = 1;
    o.clip_obs = 3.0f;
    lc_env *x = make_env("Counter-v0", o), *y = make_env("Counter-v0", opts_n(N));
    const lc_env_spec *sp = lc_env_get_spec(x);
    ck_assert_float_eq(lc_space_high(&sp->obs_space, 0), 3.0f);
    const lc_env_buf *bx = lc_env_get_buf(x), *by = lc_env_get_buf(y);
    static float seen[ROWS][F];
    reset(x, 12);
    reset(y, 12);
    memcpy(seen[0], by->obs, N * F * sizeof(float));
    int32_t a[N];
    lc_rng rng;
    lc_rng_seed(&rng, 12, 0);
    for (int t = 0; t < T; t++) {
        rand_discrete(a, N, 3, &rng);
        step(x, a);
        step(y, a);
        memcpy(seen[(t + 1) * N], by->obs, N * F * sizeof(float));
    }
    double *count, *mean, *var;
    ck_assert_int_eq(lc_env_obs_stats(x, &count, &mean, &var), LC_OK);
    ck_assert_float_eq_tol(*count, ROWS + 1e-4, 1e-9);
    for (int j = 0; j < F; j++) {
        double s = 0, m2 = 0;
        for (int r = 0; r < ROWS; r++) s += seen[r][j];
        double dm = s / ROWS;
        for (int r = 0; r < ROWS; r++) m2 += (seen[r][j] - dm) * (seen[r][j] - dm);
        // the prior (count 1e-4, mean 0, var 1) merged with the data
        double tot = 1e-4 + ROWS, em = dm * ROWS / tot;
        double ev = (1e-4 + m2 + dm * dm * 1e-4 * ROWS / tot) / tot;
        ck_assert_float_eq_tol(mean[j], em, 1e-9 * (1 + fabs(em)));
        ck_assert_float_eq_tol(var[j], ev, 1e-9 * (1 + ev));
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < F; j++) {
            double z = (((float *)by->obs)[i * F + j] - mean[j]) / sqrt(var[j] + 1e-8);
            z = z > 3 ? 3 : z < -3 ? -3 : z;
            ck_assert_float_eq_tol(((float *)bx->obs)[i * F + j], z, 1e-5);
        }
    // Frozen: statistics stay, observations use them.
    double keep[F];
    memcpy(keep, mean, sizeof keep);
    lc_env_obs_freeze(x, 1);
    step(x, a);
    step(y, a);
    ck_assert_mem_eq(keep, mean, sizeof keep);
    for (int j = 0; j < F; j++) {
        double z = (((float *)by->obs)[j] - mean[j]) / sqrt(var[j] + 1e-8);
        z = z > 3 ? 3 : z < -3 ? -3 : z;
        ck_assert_float_eq_tol(((float *)bx->obs)[j], z, 1e-5);
    }
    // Restoring statistics (as a policy checkpoint would) takes effect.
    mean[0] = 0.0;
    var[0] = 4.0;
    step(x, a);
    step(y, a);
    ck_assert_float_eq_tol(((float *)bx->obs)[0], fmin(((float *)by->obs)[0] / 2.0, 3.0), 1e-5);
    lc_env *z = make_env("Counter-v0", opts_n(1));
    ck_assert_int_eq(lc_env_obs_stats(z, &count, &mean, &var), LC_ERR_UNSUPPORTED);
    lc_env_free(z);
    lc_env_free(x);
    lc_env_free(y);
}
END_TEST

// NormalizeReward: running variance of the discounted return, reset at episode end.
START_TEST(test_normalize_reward) {
    enum { N = 4, T = 60 };
    lc_env_opts o = opts_n(N);
    o.normalize_reward = 1;
    o.gamma = 0.9f;
    o.clip_reward = 2.0f;
    lc_env *x = make_env("Counter-v0", o), *y = make_env("Counter-v0", opts_n(N));
    const lc_env_buf *bx = lc_env_get_buf(x), *by = lc_env_get_buf(y);
    reset(x, 21);
    reset(y, 21);
    double disc[N] = {0}, count, mean, var;
    lc_rms_init(&count, &mean, &var, 1);
    int32_t a[N];
    lc_rng rng;
    lc_rng_seed(&rng, 21, 0);
    int clipped = 0;
    for (int t = 0; t < T; t++) {
        rand_discrete(a, N, 3, &rng);
        step(x, a);
        step(y, a);
        for (int i = 0; i < N; i++) disc[i] = disc[i] * (double)0.9f + by->rewards[i];
        lc_rms_update_scalar(&count, &mean, &var, disc, N);
        for (int i = 0; i < N; i++) {
            double r = by->rewards[i] / sqrt(var + 1e-8);
            if (fabs(r) > 2.0) clipped++;
            r = r > 2 ? 2 : r < -2 ? -2 : r;
            ck_assert_float_eq_tol(bx->rewards[i], r, 1e-5);
            if (by->done[i]) {
                disc[i] = 0.0;
                ck_assert_float_eq(bx->ep_return[i], by->ep_return[i]); // stats stay raw
            }
        }
    }
    ck_assert(count > N * T);
    (void)clipped;
    lc_env_free(x);
    lc_env_free(y);
}
END_TEST

START_TEST(test_fallback_render) {
    lc_env *e = make_env("Drift-v0", opts_n(1));
    const lc_env_spec *sp = lc_env_get_spec(e);
    ck_assert_int_eq(sp->render_w, 256);
    ck_assert_int_eq(sp->render_h, 160);
    uint8_t *rgb = malloc((size_t)sp->render_w * sp->render_h * 3);
    lc_error err = {0};
    reset(e, 1);
    ck_assert_int_eq(lc_env_render(e, 0, rgb, &err), LC_OK);
    lc_env_free(e);
    e = make_env("Pix-v0", opts_n(1));
    sp = lc_env_get_spec(e);
    ck_assert_int_eq(sp->render_w, 16);
    ck_assert_int_eq(sp->render_h, 16);
    reset(e, 1);
    ck_assert_int_eq(lc_env_render(e, 0, rgb, &err), LC_OK);
    free(rgb);
    lc_env_free(e);
}
END_TEST

// ---------------------------------------------------------------- resize

// The exact area average, computed the slow way: each output pixel integrates the
// source over its rectangle in exact rationals (overlaps of [Y sh, (Y+1) sh) with
// [y dh, (y+1) dh) in units of 1/(dh) rows), rounded half up.
static uint8_t area_ref(const uint8_t *src, int sh, int sw, int c, int dh, int dw, int Y, int X, int k) {
    long long num = 0;
    for (int y = 0; y < sh; y++)
        for (int x = 0; x < sw; x++) {
            long long oy = (long long)((Y + 1) * sh < (y + 1) * dh ? (Y + 1) * sh : (y + 1) * dh) -
                           (Y * sh > y * dh ? Y * sh : y * dh);
            long long ox = (long long)((X + 1) * sw < (x + 1) * dw ? (X + 1) * sw : (x + 1) * dw) -
                           (X * sw > x * dw ? X * sw : x * dw);
            if (oy > 0 && ox > 0) num += oy * ox * src[((size_t)y * sw + x) * c + k];
        }
    long long den = (long long)sh * sw;
    return (uint8_t)((num + den / 2) / den);
}

START_TEST(test_resize_area) {
    static const int sizes[][4] = {{210, 160, 64, 64}, {64, 64, 16, 16}, {37, 23, 5, 7},
                                   {3, 5, 7, 11},      {1, 1, 3, 2},     {9, 9, 9, 9},
                                   {17, 13, 4, 13}};
    lc_rng rng;
    lc_rng_seed(&rng, 7, 0);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int sh = sizes[s][0], sw = sizes[s][1], dh = sizes[s][2], dw = sizes[s][3];
        for (int c = 1; c <= 3; c += 2) {
            uint8_t *src = malloc((size_t)sh * sw * c), *dst = malloc((size_t)dh * dw * c);
            uint32_t *tmp = malloc(lc_resize_area_scratch(sh, sw, c, dh, dw) * sizeof(uint32_t));
            for (int j = 0; j < sh * sw * c; j++) src[j] = (uint8_t)lc_rng_below(&rng, 256);
            lc_resize_area_u8(src, sh, sw, c, dst, dh, dw, tmp);
            for (int Y = 0; Y < dh; Y++)
                for (int X = 0; X < dw; X++)
                    for (int k = 0; k < c; k++)
                        ck_assert_msg(dst[((size_t)Y * dw + X) * c + k] == area_ref(src, sh, sw, c, dh, dw, Y, X, k),
                                      "%dx%d -> %dx%d c %d at (%d, %d, %d)", sh, sw, dh, dw, c, Y, X, k);
            if (sh == dh && sw == dw) ck_assert_int_eq(memcmp(src, dst, (size_t)sh * sw * c), 0);
            free(src);
            free(dst);
            free(tmp);
        }
    }
    // Integer factors are the block mean: 2x2 blocks of (0, 1, 1, 1) -> 1 (0.75 rounds up).
    uint8_t blk[16] = {0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1}, out[4];
    uint32_t t4[8];
    lc_resize_area_u8(blk, 4, 4, 1, out, 2, 2, t4);
    for (int j = 0; j < 4; j++) ck_assert_int_eq(out[j], 1);
}
END_TEST

// The env option: frames as the env gives them, resized by the same rule, then stacked;
// the spec says the new shape; anything but uint8 (H, W, C) frames is refused.
START_TEST(test_resize_wrapper) {
    enum { N = 3, K = 2, RH = 3, RW = 5 };
    lc_env_opts o = opts_n(N);
    o.resize_h = RH, o.resize_w = RW, o.frame_stack = K;
    lc_env *x = make_env("Pix-v0", o), *y = make_env("Pix-v0", opts_n(N));
    const lc_env_spec *sp = lc_env_get_spec(x);
    ck_assert_int_eq(sp->obs_space.shape[0], RH);
    ck_assert_int_eq(sp->obs_space.shape[1], RW);
    ck_assert_int_eq(sp->obs_space.shape[2], PIX_C * K);
    ck_assert_int_eq(sp->obs_size, RH * RW * PIX_C * K);
    const lc_env_buf *bx = lc_env_get_buf(x), *by = lc_env_get_buf(y);
    enum { RF = RH * RW * PIX_C };
    uint8_t want[RF], fin[RF];
    uint32_t tmp[RH * PIX_W * PIX_C];
    reset(x, 4);
    reset(y, 4);
    int32_t a[N] = {1, 0, 1};
    int ends = 0;
    for (int t = 0; t < 12; t++) {
        step(x, a);
        step(y, a);
        for (int i = 0; i < N; i++) {
            lc_resize_area_u8((uint8_t *)by->obs + i * PIX_F, PIX_H, PIX_W, PIX_C, want, RH, RW, tmp);
            const uint8_t *ox = (uint8_t *)bx->obs + (size_t)i * RF * K;
            for (int p = 0; p < RH * RW; p++)
                for (int c = 0; c < PIX_C; c++) // the newest frame is the last of the stack
                    ck_assert_int_eq(ox[p * PIX_C * K + PIX_C + c], want[p * PIX_C + c]);
            if (by->done[i]) {
                ends++;
                lc_resize_area_u8((uint8_t *)by->final_obs + i * PIX_F, PIX_H, PIX_W, PIX_C, fin, RH, RW, tmp);
                const uint8_t *fx = (uint8_t *)bx->final_obs + (size_t)i * RF * K;
                for (int p = 0; p < RH * RW; p++)
                    for (int c = 0; c < PIX_C; c++)
                        ck_assert_int_eq(fx[p * PIX_C * K + PIX_C + c], fin[p * PIX_C + c]);
            }
        }
    }
    ck_assert_int_gt(ends, 0);
    lc_env_free(x);
    lc_env_free(y);
    lc_env *z = NULL;
    lc_error err = {0};
    o = opts_n(1);
    o.resize_h = 4; // one side only
    ck_assert_int_eq(lc_env_make(&z, "Pix-v0", &o, &err), LC_ERR_ARG);
    o.resize_w = 4;
    ck_assert_int_eq(lc_env_make(&z, "Counter-v0", &o, &err), LC_ERR_UNSUPPORTED); // float obs
    ck_assert_ptr_nonnull(strstr(err.msg, "uint8"));
    ck_assert_ptr_null(z);
    ck_assert_int_eq(lc_settings_parse(lc_env_opts_settings(), &o, "resize_h=64,resize_w=48", &err), LC_OK);
    ck_assert_int_eq(o.resize_h * 1000 + o.resize_w, 64048);
}
END_TEST

// ---------------------------------------------------------------- the command
// `lucid envs`, `lucid play` (fed through a pipe) and `lucid rollout`, run as programs
// from $LUCID_BUILD (set by scripts/run_tests.sh; default build). Skipped without it.

static const char *cli_env(void) { // a built-in with Discrete actions
    static const char *names[] = {"CartPole-v1", "Breakout-v0", "CoinRun-v0", "MountainCar-v0"};
    lc_env_ctor c;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (lc_env_lookup(names[k], &c, NULL) == LC_OK) return names[k];
    return NULL;
}

START_TEST(test_cli_envs_play_rollout) {
    char bin[512], cmd[2048];
    static char out[1 << 16];
    const char *env = cli_env();
    if (!lc_test_lucid_bin(bin, sizeof bin) || !env) return; // nothing to run
    snprintf(cmd, sizeof cmd, "%s envs --names", bin);
    ck_assert_int_eq(lc_test_run_cmd(cmd, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, env));
    snprintf(cmd, sizeof cmd, "%s envs", bin);
    ck_assert_int_eq(lc_test_run_cmd(cmd, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "Discrete("));
    ck_assert_ptr_nonnull(strstr(out, "time limit"));
    snprintf(cmd, sizeof cmd, "printf '1\\n0\\n\\n7x\\n1\\nq\\n9\\n' | %s play %s --seed 3 2>/dev/null", bin, env);
    ck_assert_int_eq(lc_test_run_cmd(cmd, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "step 1 action 1 reward"));
    ck_assert_ptr_nonnull(strstr(out, "step 2 action 0 reward"));
    ck_assert_ptr_nonnull(strstr(out, "step 4 action 1 reward")); // "7x" skipped, q stops
    ck_assert_ptr_nonnull(strstr(out, "4 steps"));
    char dir[] = "/tmp/lucid_test_env_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char gif[600];
    snprintf(gif, sizeof gif, "%s/r.gif", dir);
    snprintf(cmd, sizeof cmd, "%s rollout %s --policy random --seed 2 --episodes 2 --max-steps 40 --gif %s", bin,
             env, gif);
    ck_assert_int_eq(lc_test_run_cmd(cmd, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "episode 1: return"));
    ck_assert_ptr_nonnull(strstr(out, "episode 2: return"));
    FILE *f = fopen(gif, "rb");
    ck_assert_ptr_nonnull(f);
    char magic[6] = {0};
    ck_assert_int_eq((int)fread(magic, 1, 6, f), 6);
    fclose(f);
    ck_assert(memcmp(magic, "GIF89a", 6) == 0 || memcmp(magic, "GIF87a", 6) == 0);
    remove(gif);
    rmdir(dir);
    snprintf(cmd, sizeof cmd, "%s rollout NoSuchEnv-v0 2>&1", bin);
    int rc = lc_test_run_cmd(cmd, out, sizeof out);
    ck_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 2);
    ck_assert_ptr_nonnull(strstr(out, "unknown env"));
}
END_TEST

// ---------------------------------------------------------------- suite

static int registered(const char *name) {
    lc_env_ctor c;
    return lc_env_lookup(name, &c, NULL) == LC_OK;
}

static Suite *env_suite(void) {
    Suite *s = suite_create("env");
    TCase *tc = tcase_create("spaces");
    tcase_add_test(tc, test_space_describe);
    tcase_add_test(tc, test_space_save_load);
    suite_add_tcase(s, tc);
    tc = tcase_create("registry");
    tcase_add_test(tc, test_unknown_name);
    tcase_add_test(tc, test_registry);
    tcase_add_test(tc, test_bad_opts);
    suite_add_tcase(s, tc);
    tc = tcase_create("vector");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_spec_and_info);
    tcase_add_test(tc, test_time_limit_override);
    tcase_add_test(tc, test_box_actions_clipped);
    tcase_add_test(tc, test_threads_auto);
    tcase_add_test(tc, test_threads_auto_identical);
    tcase_add_test(tc, test_threads_wrappers_identical);
    tcase_add_test(tc, test_fallback_render);
    suite_add_tcase(s, tc);
    tc = tcase_create("wrappers");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_frame_stack_1d);
    tcase_add_test(tc, test_frame_stack_image);
    tcase_add_test(tc, test_action_repeat);
    tcase_add_test(tc, test_normalize_obs);
    tcase_add_test(tc, test_normalize_reward);
    tcase_add_test(tc, test_resize_area);
    tcase_add_test(tc, test_resize_wrapper);
    suite_add_tcase(s, tc);
    tc = tcase_create("command");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cli_envs_play_rollout);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, lc_contract_tcase("Counter-v0", NULL));
    suite_add_tcase(s, lc_contract_tcase("Counter-v0", "start=4"));
    suite_add_tcase(s, lc_contract_tcase("Drift-v0", NULL));
    suite_add_tcase(s, lc_contract_tcase("Pix-v0", NULL));
    static const char *builtin[] = {"CartPole-v1", "Pendulum-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Acrobot-v1",
                                    "CoinRun-v0", "Breakout-v0"};
    for (size_t k = 0; k < sizeof builtin / sizeof builtin[0]; k++) {
        if (registered(builtin[k])) suite_add_tcase(s, lc_contract_tcase(builtin[k], NULL));
        else fprintf(stderr, "test_env: %s is not registered; skipping its contract tests\n", builtin[k]);
    }
    return s;
}

int main(void) {
    lc_env_register_builtin();
    if (register_test_envs()) {
        fprintf(stderr, "test_env: cannot register the test envs\n");
        return 1;
    }
    Suite *s = env_suite();
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}

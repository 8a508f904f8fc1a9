// tests/helpers/env_contract.c: the env contract checks behind lc_contract_tcase.
// Every test makes its env by name (a slot table indexed by the loop index, so one
// suite can hold several envs) with the public API only. Leaves out: timing, dynamics.
//
// Letters: N = num_envs, O = obs_size, A = act_size.
#include "tests/helpers/env_contract.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env/env.h"

#define MAX_SLOTS 32

typedef struct slot {
    char name[256];
    char params[256];
    int has_params;
    char tcase[300];
} slot;

static slot slots[MAX_SLOTS];
static int nslots;

typedef struct mk {
    int n, threads, limit, autoreset, render_w, render_h;
} mk;

static lc_env *make(int s, mk m) {
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = m.n;
    o.num_threads = m.threads;
    o.max_episode_steps = m.limit;
    o.autoreset = m.autoreset;
    o.render_w = m.render_w;
    o.render_h = m.render_h;
    o.params = slots[s].has_params ? slots[s].params : NULL;
    lc_env *e = NULL;
    lc_error err = {0};
    int rc = lc_env_make(&e, slots[s].name, &o, &err);
    ck_assert_msg(rc == LC_OK && e, "make %s: %s", slots[s].name, err.msg);
    return e;
}

static void reset(lc_env *e, uint64_t seed) {
    lc_error err = {0};
    ck_assert_msg(lc_env_reset(e, seed, &err) == LC_OK, "reset: %s", err.msg);
}

static void step(lc_env *e, const void *act) {
    lc_error err = {0};
    ck_assert_msg(lc_env_step(e, act, &err) == LC_OK, "step: %s", err.msg);
}

static size_t obs_bytes(const lc_env_spec *sp) {
    return (size_t)sp->obs_size * (sp->obs_space.dtype == LC_U8 ? 1 : 4);
}

// Valid actions for every env, drawn from rng (int32 or float rows, 4 bytes each).
static void random_actions(const lc_env_spec *sp, lc_rng *rng, void *act) {
    const lc_space *s = &sp->act_space;
    for (int i = 0; i < sp->num_envs; i++)
        for (int j = 0; j < sp->act_size; j++) {
            size_t k = (size_t)i * sp->act_size + j;
            if (s->kind == LC_SPACE_DISCRETE) ((int32_t *)act)[k] = (int32_t)lc_rng_below(rng, (uint32_t)s->n);
            else if (s->kind == LC_SPACE_MULTI_DISCRETE)
                ((int32_t *)act)[k] = (int32_t)lc_rng_below(rng, (uint32_t)s->nvec[j]);
            else {
                float lo = lc_space_low(s, j), hi = lc_space_high(s, j);
                if (!isfinite(lo)) lo = -1.0f;
                if (!isfinite(hi)) hi = 1.0f;
                ((float *)act)[k] = (float)lc_rng_uniform(rng, lo, hi);
            }
        }
}

static void *act_buf(const lc_env_spec *sp) {
    void *a = calloc((size_t)sp->num_envs * sp->act_size, 4);
    ck_assert(a);
    return a;
}

static void check_flags(const lc_env_spec *sp, const lc_env_buf *b) {
    for (int i = 0; i < sp->num_envs; i++) {
        ck_assert_msg(!(b->terminated[i] && b->truncated[i]), "env %d: terminated and truncated both set", i);
        ck_assert_int_eq(b->done[i] != 0, (b->terminated[i] || b->truncated[i]));
        ck_assert_msg(isfinite(b->rewards[i]), "env %d: reward %g", i, (double)b->rewards[i]);
    }
}

static void check_in_bounds(const lc_env_spec *sp, const void *obs) {
    if (sp->obs_space.dtype != LC_F32) return;
    const float *o = obs;
    for (int i = 0; i < sp->num_envs; i++)
        for (int j = 0; j < sp->obs_size; j++) {
            float v = o[(size_t)i * sp->obs_size + j];
            float lo = lc_space_low(&sp->obs_space, j), hi = lc_space_high(&sp->obs_space, j);
            float tol = 1e-5f * (1.0f + fabsf(v));
            ck_assert_msg(!isnan(v) && v >= lo - tol && v <= hi + tol, "env %d: obs[%d] = %g outside [%g, %g]", i, j,
                          (double)v, (double)lo, (double)hi);
        }
}

// ---------------------------------------------------------------- tests

START_TEST(test_spaces) {
    lc_env *e = make(_i, (mk){.n = 2});
    const lc_env_spec *sp = lc_env_get_spec(e);
    const lc_env_buf *b = lc_env_get_buf(e);
    ck_assert_int_eq(sp->num_envs, 2);
    ck_assert_int_eq(sp->obs_space.kind, LC_SPACE_BOX);
    ck_assert(sp->obs_space.dtype == LC_F32 || sp->obs_space.dtype == LC_U8);
    ck_assert_int_gt(sp->obs_size, 0);
    ck_assert_int_eq(sp->obs_size, lc_space_size(&sp->obs_space));
    ck_assert_int_eq(sp->act_size, lc_space_size(&sp->act_space));
    for (int j = 0; j < sp->obs_size; j++) {
        float lo = lc_space_low(&sp->obs_space, j), hi = lc_space_high(&sp->obs_space, j);
        ck_assert(!isnan(lo) && !isnan(hi) && lo <= hi);
    }
    const lc_space *as = &sp->act_space;
    if (as->kind == LC_SPACE_DISCRETE) ck_assert_int_ge(as->n, 1);
    else if (as->kind == LC_SPACE_MULTI_DISCRETE)
        for (int j = 0; j < sp->act_size; j++) ck_assert_int_ge(as->nvec[j], 1);
    else {
        ck_assert_int_eq(as->dtype, LC_F32);
        for (int j = 0; j < sp->act_size; j++)
            ck_assert(isfinite(lc_space_low(as, j)) && isfinite(lc_space_high(as, j)) &&
                      lc_space_low(as, j) <= lc_space_high(as, j));
    }
    ck_assert_int_ge(sp->max_episode_steps, 0);
    ck_assert_int_gt(sp->render_w, 0);
    ck_assert_int_gt(sp->render_h, 0);
    ck_assert(sp->n_info >= 0 && sp->n_info <= LC_MAX_INFO);
    for (int k = 0; k < sp->n_info; k++) ck_assert_ptr_nonnull(sp->info_names[k]);
    ck_assert(b->obs && b->rewards && b->terminated && b->truncated && b->done && b->final_obs && b->ep_return &&
              b->ep_length);
    ck_assert((b->info != NULL) == (sp->n_info > 0));
    char d[256];
    lc_space_describe(&sp->obs_space, d, sizeof d);
    ck_assert_int_gt((int)strlen(d), 4);
    lc_space_describe(&sp->act_space, d, sizeof d);
    ck_assert_int_gt((int)strlen(d), 4);

    lc_error err = {0};
    void *a = act_buf(sp);
    lc_rng rng;
    lc_rng_seed(&rng, 1, 0);
    random_actions(sp, &rng, a);
    ck_assert_int_eq(lc_env_step(e, a, &err), LC_ERR_STATE);
    reset(e, 3);
    check_in_bounds(sp, b->obs);
    free(a);
    lc_env_free(e);
}
END_TEST

START_TEST(test_reset_determinism) {
    lc_env *x = make(_i, (mk){.n = 4}), *y = make(_i, (mk){.n = 4});
    const lc_env_spec *sp = lc_env_get_spec(x);
    const lc_env_buf *bx = lc_env_get_buf(x), *by = lc_env_get_buf(y);
    size_t ob = obs_bytes(sp) * 4;
    reset(x, 12345);
    reset(y, 12345);
    ck_assert_mem_eq(bx->obs, by->obs, ob);
    void *first = malloc(ob), *a = act_buf(sp);
    ck_assert(first && a);
    memcpy(first, bx->obs, ob);
    lc_rng rng;
    lc_rng_seed(&rng, 5, 0);
    for (int t = 0; t < 10; t++) { // wander off, then reseed: the same starts again
        random_actions(sp, &rng, a);
        step(x, a);
    }
    reset(x, 12345);
    ck_assert_mem_eq(bx->obs, first, ob);
    for (int t = 0; t < 30; t++) {
        random_actions(sp, &rng, a);
        step(x, a);
        step(y, a);
        ck_assert_mem_eq(bx->obs, by->obs, ob);
        ck_assert_mem_eq(bx->rewards, by->rewards, 4 * sizeof(float));
        ck_assert_mem_eq(bx->done, by->done, 4);
    }
    free(first);
    free(a);
    lc_env_free(x);
    lc_env_free(y);
}
END_TEST

START_TEST(test_threads_identical) {
    enum { N = 8, T = 150 };
    lc_env *x = make(_i, (mk){.n = N, .threads = 1, .limit = 25});
    lc_env *y = make(_i, (mk){.n = N, .threads = 2, .limit = 25});
    const lc_env_spec *sp = lc_env_get_spec(x);
    const lc_env_buf *bx = lc_env_get_buf(x), *by = lc_env_get_buf(y);
    size_t ob = obs_bytes(sp);
    void *a = act_buf(sp);
    lc_rng rng;
    lc_rng_seed(&rng, 99, 0);
    reset(x, 2024);
    reset(y, 2024);
    ck_assert_mem_eq(bx->obs, by->obs, ob * N);
    int ended = 0;
    for (int t = 0; t < T; t++) {
        random_actions(sp, &rng, a);
        step(x, a);
        step(y, a);
        check_flags(sp, bx);
        ck_assert_mem_eq(bx->obs, by->obs, ob * N);
        ck_assert_mem_eq(bx->rewards, by->rewards, N * sizeof(float));
        ck_assert_mem_eq(bx->terminated, by->terminated, N);
        ck_assert_mem_eq(bx->truncated, by->truncated, N);
        ck_assert_mem_eq(bx->done, by->done, N);
        if (sp->n_info) ck_assert_mem_eq(bx->info, by->info, (size_t)N * sp->n_info * sizeof(float));
        for (int i = 0; i < N; i++) {
            if (!bx->done[i]) continue;
            ended++;
            ck_assert_mem_eq((char *)bx->final_obs + i * ob, (char *)by->final_obs + i * ob, ob);
            ck_assert_mem_eq(&bx->ep_return[i], &by->ep_return[i], sizeof(float));
            ck_assert_int_eq(bx->ep_length[i], by->ep_length[i]);
        }
    }
    ck_assert_int_gt(ended, 0); // the time limit of 25 guarantees episodes end
    free(a);
    lc_env_free(x);
    lc_env_free(y);
}
END_TEST

// Same-step autoreset against the reference of DISABLED mode + reset_mask: at the
// step an episode ends, the autoreset env's final_obs is the disabled env's obs and
// its obs row is exactly what reset_mask gives the disabled one (a fresh start).
START_TEST(test_autoreset) {
    enum { N = 4, T = 120 };
    lc_env *x = make(_i, (mk){.n = N, .limit = 20});
    lc_env *y = make(_i, (mk){.n = N, .limit = 20, .autoreset = LC_AUTORESET_DISABLED});
    const lc_env_spec *sp = lc_env_get_spec(x);
    const lc_env_buf *bx = lc_env_get_buf(x), *by = lc_env_get_buf(y);
    size_t ob = obs_bytes(sp);
    void *a = act_buf(sp);
    uint8_t mask[N];
    lc_rng rng;
    lc_rng_seed(&rng, 7, 1);
    reset(x, 77);
    reset(y, 77);
    int ended = 0;
    lc_error err = {0};
    for (int t = 0; t < T; t++) {
        random_actions(sp, &rng, a);
        step(x, a);
        step(y, a);
        check_flags(sp, bx);
        check_in_bounds(sp, bx->obs);
        check_in_bounds(sp, bx->final_obs);
        ck_assert_mem_eq(bx->done, by->done, N);
        ck_assert_mem_eq(bx->terminated, by->terminated, N);
        ck_assert_mem_eq(bx->rewards, by->rewards, N * sizeof(float));
        int any = 0;
        for (int i = 0; i < N; i++) {
            mask[i] = bx->done[i];
            any |= mask[i];
            if (!bx->done[i]) {
                ck_assert_mem_eq((char *)bx->obs + i * ob, (char *)by->obs + i * ob, ob);
                continue;
            }
            ended++;
            ck_assert_mem_eq((char *)bx->final_obs + i * ob, (char *)by->obs + i * ob, ob);
            ck_assert_mem_eq((char *)by->final_obs + i * ob, (char *)by->obs + i * ob, ob);
            ck_assert_mem_eq(&bx->ep_return[i], &by->ep_return[i], sizeof(float));
            ck_assert_int_eq(bx->ep_length[i], by->ep_length[i]);
        }
        if (any) {
            ck_assert_int_eq(lc_env_step(y, a, &err), LC_ERR_STATE);
            ck_assert_int_eq(lc_env_reset_mask(y, mask, &err), LC_OK);
            ck_assert_mem_eq(bx->obs, by->obs, ob * N);
        }
    }
    ck_assert_int_gt(ended, 0);
    free(a);
    lc_env_free(x);
    lc_env_free(y);
}
END_TEST

// Flags, the time limit (7) and episode statistics against the test's own counts.
static void run_stats(int s, int limit, int T) {
    enum { N = 4 };
    lc_env *e = make(s, (mk){.n = N, .limit = limit});
    const lc_env_spec *sp = lc_env_get_spec(e);
    const lc_env_buf *b = lc_env_get_buf(e);
    if (limit > 0) ck_assert_int_eq(sp->max_episode_steps, limit);
    int L = sp->max_episode_steps;
    void *a = act_buf(sp);
    int len[N] = {0};
    double ret[N] = {0};
    int ended = 0;
    lc_rng rng;
    lc_rng_seed(&rng, 31, (uint64_t)limit);
    reset(e, 31);
    for (int t = 0; t < T; t++) {
        random_actions(sp, &rng, a);
        step(e, a);
        check_flags(sp, b);
        for (int i = 0; i < N; i++) {
            len[i]++;
            ret[i] += b->rewards[i];
            if (!b->done[i]) {
                if (L > 0) ck_assert_msg(len[i] < L, "env %d ran %d steps past the limit %d", i, len[i], L);
                continue;
            }
            ended++;
            ck_assert_int_eq(b->ep_length[i], len[i]);
            ck_assert_float_eq_tol(b->ep_return[i], ret[i], 1e-4 * (1.0 + fabs(ret[i])));
            if (L > 0) ck_assert_int_le(len[i], L);
            if (b->truncated[i]) ck_assert_int_eq(len[i], L);
            len[i] = 0;
            ret[i] = 0.0;
        }
    }
    if (limit > 0) ck_assert_int_gt(ended, 0);
    free(a);
    lc_env_free(e);
}

START_TEST(test_time_limit) { run_stats(_i, 7, 60); }
END_TEST

START_TEST(test_episode_stats) { run_stats(_i, 0, 300); }
END_TEST

START_TEST(test_reset_mask) {
    enum { N = 4 };
    lc_error err = {0};
    lc_env *e = make(_i, (mk){.n = N, .limit = 5, .autoreset = LC_AUTORESET_DISABLED});
    const lc_env_spec *sp = lc_env_get_spec(e);
    const lc_env_buf *b = lc_env_get_buf(e);
    size_t ob = obs_bytes(sp);
    uint8_t mask[N] = {1, 0, 0, 0};
    ck_assert_int_eq(lc_env_reset_mask(e, mask, &err), LC_ERR_STATE); // before the first reset
    void *a = act_buf(sp), *snap = malloc(ob * N);
    ck_assert(snap);
    lc_rng rng;
    lc_rng_seed(&rng, 3, 3);
    reset(e, 5);
    int t = 0, any = 0;
    for (; t < 5 && !any; t++) {
        random_actions(sp, &rng, a);
        step(e, a);
        check_flags(sp, b);
        for (int i = 0; i < N; i++) any |= b->done[i];
    }
    ck_assert_msg(any, "no episode ended within the time limit of 5");
    for (int i = 0; i < N; i++) {
        mask[i] = b->done[i];
        if (b->done[i]) ck_assert_mem_eq((char *)b->final_obs + i * ob, (char *)b->obs + i * ob, ob);
    }
    // Stepping an ended env is refused and changes nothing.
    memcpy(snap, b->obs, ob * N);
    uint8_t done[N];
    memcpy(done, b->done, N);
    random_actions(sp, &rng, a);
    ck_assert_int_eq(lc_env_step(e, a, &err), LC_ERR_STATE);
    ck_assert_mem_eq(snap, b->obs, ob * N);
    ck_assert_mem_eq(done, b->done, N);
    // Resetting only the ended envs leaves the others' rows alone.
    ck_assert_int_eq(lc_env_reset_mask(e, mask, &err), LC_OK);
    for (int i = 0; i < N; i++) {
        if (mask[i]) ck_assert_int_eq(b->done[i], 0);
        else ck_assert_mem_eq((char *)snap + i * ob, (char *)b->obs + i * ob, ob);
    }
    check_in_bounds(sp, b->obs);
    step(e, a);
    check_flags(sp, b);
    free(a);
    free(snap);
    lc_env_free(e);
}
END_TEST

// Buffers of x equal to y's (everything a step writes).
static void same_bufs(const lc_env_spec *sp, const lc_env_buf *x, const lc_env_buf *y) {
    int N = sp->num_envs;
    ck_assert_mem_eq(x->obs, y->obs, obs_bytes(sp) * N);
    ck_assert_mem_eq(x->rewards, y->rewards, N * sizeof(float));
    ck_assert_mem_eq(x->terminated, y->terminated, N);
    ck_assert_mem_eq(x->truncated, y->truncated, N);
    ck_assert_mem_eq(x->done, y->done, N);
}

START_TEST(test_invalid_actions) {
    enum { N = 3 };
    lc_error err = {0};
    lc_env *x = make(_i, (mk){.n = N}), *y = make(_i, (mk){.n = N});
    const lc_env_spec *sp = lc_env_get_spec(x);
    const lc_env_buf *bx = lc_env_get_buf(x), *by = lc_env_get_buf(y);
    const lc_space *as = &sp->act_space;
    int A = sp->act_size;
    void *a = act_buf(sp), *bad = act_buf(sp);
    lc_rng rng;
    lc_rng_seed(&rng, 11, 0);
    reset(x, 8);
    reset(y, 8);
    for (int t = 0; t < 3; t++) {
        random_actions(sp, &rng, a);
        step(x, a);
        step(y, a);
    }
    random_actions(sp, &rng, a);
    size_t k = (size_t)1 * A + (size_t)(A - 1); // env 1, last component
    if (as->kind == LC_SPACE_BOX) {
        float vals[3] = {NAN, INFINITY, -INFINITY};
        for (int v = 0; v < 3; v++) {
            memcpy(bad, a, (size_t)N * A * 4);
            ((float *)bad)[k] = vals[v];
            ck_assert_int_eq(lc_env_step(x, bad, &err), LC_ERR_ACTION);
            ck_assert_msg(strstr(err.msg, "env 1") != NULL, "message names the env: %s", err.msg);
            same_bufs(sp, bx, by);
        }
        // Finite values outside the box are clipped: the same as stepping the bound.
        memcpy(bad, a, (size_t)N * A * 4);
        ((float *)bad)[k] = 1e30f;
        ((float *)a)[k] = lc_space_high(as, A - 1);
        step(x, bad);
        step(y, a);
        same_bufs(sp, bx, by);
    } else {
        int hi = as->kind == LC_SPACE_DISCRETE ? as->n : as->nvec[A - 1];
        int32_t vals[3] = {hi, -1, 1 << 30};
        for (int v = 0; v < 3; v++) {
            memcpy(bad, a, (size_t)N * A * 4);
            ((int32_t *)bad)[k] = vals[v];
            ck_assert_int_eq(lc_env_step(x, bad, &err), LC_ERR_ACTION);
            ck_assert_msg(strstr(err.msg, "env 1") != NULL, "message names the env: %s", err.msg);
            same_bufs(sp, bx, by);
        }
        step(x, a);
        step(y, a);
        same_bufs(sp, bx, by);
    }
    for (int t = 0; t < 5; t++) { // nothing hidden (RNG, counters) moved either
        random_actions(sp, &rng, a);
        step(x, a);
        step(y, a);
        same_bufs(sp, bx, by);
    }
    free(a);
    free(bad);
    lc_env_free(x);
    lc_env_free(y);
}
END_TEST

static void render_check(lc_env *e, int i) {
    const lc_env_spec *sp = lc_env_get_spec(e);
    size_t n = (size_t)sp->render_w * sp->render_h * 3;
    uint8_t *rgb = malloc(n + 64);
    ck_assert(rgb);
    memset(rgb, 0xAB, n + 64);
    lc_error err = {0};
    ck_assert_msg(lc_env_render(e, i, rgb, &err) == LC_OK, "render: %s", err.msg);
    for (size_t k = n; k < n + 64; k++) ck_assert_msg(rgb[k] == 0xAB, "render wrote past the frame");
    free(rgb);
}

START_TEST(test_render) {
    lc_error err = {0};
    lc_env *e = make(_i, (mk){.n = 2});
    uint8_t px[3];
    ck_assert_int_ne(lc_env_render(e, 0, px, &err), LC_OK); // before reset
    reset(e, 4);
    render_check(e, 1);
    const lc_env_spec *sp = lc_env_get_spec(e);
    void *a = act_buf(sp);
    lc_rng rng;
    lc_rng_seed(&rng, 4, 4);
    random_actions(sp, &rng, a);
    step(e, a);
    render_check(e, 0);
    ck_assert_int_eq(lc_env_render(e, 2, px, &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_env_render(e, -1, px, &err), LC_ERR_ARG);
    free(a);
    lc_env_free(e);
    e = make(_i, (mk){.n = 1, .render_w = 64, .render_h = 48});
    ck_assert_int_eq(lc_env_get_spec(e)->render_w, 64);
    ck_assert_int_eq(lc_env_get_spec(e)->render_h, 48);
    reset(e, 4);
    render_check(e, 0);
    lc_env_free(e);
}
END_TEST

TCase *lc_contract_tcase(const char *env_name, const char *params) {
    if (nslots == MAX_SLOTS) { // called while building a suite: no ck_assert here
        fprintf(stderr, "lc_contract_tcase: more than %d test cases\n", MAX_SLOTS);
        abort();
    }
    int s = nslots++;
    slot *sl = &slots[s];
    snprintf(sl->name, sizeof sl->name, "%s", env_name);
    sl->has_params = params != NULL;
    snprintf(sl->params, sizeof sl->params, "%s", params ? params : "");
    snprintf(sl->tcase, sizeof sl->tcase, "contract %s", env_name);
    TCase *tc = tcase_create(sl->tcase);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_spaces, s, s + 1);
    tcase_add_loop_test(tc, test_reset_determinism, s, s + 1);
    tcase_add_loop_test(tc, test_threads_identical, s, s + 1);
    tcase_add_loop_test(tc, test_autoreset, s, s + 1);
    tcase_add_loop_test(tc, test_time_limit, s, s + 1);
    tcase_add_loop_test(tc, test_episode_stats, s, s + 1);
    tcase_add_loop_test(tc, test_reset_mask, s, s + 1);
    tcase_add_loop_test(tc, test_invalid_actions, s, s + 1);
    tcase_add_loop_test(tc, test_render, s, s + 1);
    return tc;
}

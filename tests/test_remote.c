// tests/test_remote.c: remote:ENDPOINT envs (agents/remote.c) against lucid's own env
// server (agents/server.c) in a thread on a loopback port: the same trajectories as the
// env stepped in-process (obs, rewards, flags, final_obs, episode statistics, time limits,
// client-side wrappers, frames), disabled autoreset with reset masks, refusals, and a server that
// goes away failing the step within the timeout. Leaves out: Gymnasium servers (tests/python).
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/remote.h"
#include "agents/server.h"
#include "core/rng.h"
#include "env/env.h"
#include "loops/init.h"

typedef struct served {
    lc_server *s;
    atomic_int stop;
    pthread_t th;
    int running;
    char name[300]; // "remote:ENDPOINT"
} served;

static void *server_main(void *arg) {
    served *v = arg;
    lc_error err = {0};
    lc_server_run(v->s, &err);
    return NULL;
}

static void serve(served *v, int max_num_envs) {
    lc_init();
    ck_assert_int_eq(lc_remote_register(), LC_OK);
    atomic_init(&v->stop, 0);
    lc_server_cfg cfg = lc_server_cfg_default();
    cfg.bind = "tcp://127.0.0.1:*";
    cfg.default_env = "CartPole-v1";
    cfg.max_num_envs = max_num_envs;
    cfg.stop = &v->stop;
    lc_error err = {0};
    ck_assert_msg(lc_server_new(&v->s, &cfg, &err) == LC_OK, "%s", err.msg);
    snprintf(v->name, sizeof v->name, "remote:%s", lc_server_endpoint(v->s));
    ck_assert_int_eq(pthread_create(&v->th, NULL, server_main, v), 0);
    v->running = 1;
}

static void unserve(served *v) {
    if (!v->running) return;
    atomic_store(&v->stop, 1);
    pthread_join(v->th, NULL);
    lc_server_free(v->s);
    v->running = 0;
}

static lc_env *make(const char *name, int N, int limit, int autoreset, int stack, const char *params) {
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = N;
    o.max_episode_steps = limit;
    o.autoreset = autoreset;
    o.frame_stack = stack;
    o.params = params;
    lc_env *e = NULL;
    lc_error err = {0};
    ck_assert_msg(lc_env_make(&e, name, &o, &err) == LC_OK, "%s: %s", name, err.msg);
    return e;
}

// Every buffer of a and b equal after a step (final rows and statistics where done).
static void same_step(const lc_env *a, const lc_env *b, int t) {
    const lc_env_spec *sp = lc_env_get_spec(a);
    const lc_env_buf *x = lc_env_get_buf(a), *y = lc_env_get_buf(b);
    int N = sp->num_envs;
    size_t row = (size_t)sp->obs_size * sizeof(float);
    ck_assert_msg(memcmp(x->obs, y->obs, N * row) == 0, "obs differ at step %d", t);
    ck_assert_msg(memcmp(x->rewards, y->rewards, N * sizeof(float)) == 0, "rewards differ at step %d", t);
    ck_assert_msg(memcmp(x->terminated, y->terminated, N) == 0, "terminated differ at step %d", t);
    ck_assert_msg(memcmp(x->truncated, y->truncated, N) == 0, "truncated differ at step %d", t);
    ck_assert_msg(memcmp(x->done, y->done, N) == 0, "done differ at step %d", t);
    for (int i = 0; i < N; i++) {
        if (!x->done[i]) continue;
        ck_assert_msg(memcmp((char *)x->final_obs + i * row, (char *)y->final_obs + i * row, row) == 0,
                      "final_obs of env %d differs at step %d", i, t);
        ck_assert_float_eq(x->ep_return[i], y->ep_return[i]);
        ck_assert_int_eq(x->ep_length[i], y->ep_length[i]);
    }
}

START_TEST(test_same_as_local) {
    served v;
    serve(&v, 64);
    for (int stack = 1; stack <= 2; stack++) { // frame stacking runs on the client's side
        enum { N = 4, T = 400, LIMIT = 40 };
        lc_env *r = make(v.name, N, LIMIT, LC_AUTORESET_SAME_STEP, stack, NULL);
        lc_env *l = make("CartPole-v1", N, LIMIT, LC_AUTORESET_SAME_STEP, stack, NULL);
        const lc_env_spec *sr = lc_env_get_spec(r), *sl = lc_env_get_spec(l);
        ck_assert_int_eq(sr->obs_size, sl->obs_size);
        ck_assert_int_eq(sr->act_space.kind, LC_SPACE_DISCRETE);
        ck_assert_int_eq(sr->act_space.n, 2);
        for (int k = 0; k < 4; k++) {
            ck_assert_float_eq(lc_space_low(&sr->obs_space, k), lc_space_low(&sl->obs_space, k));
            ck_assert_float_eq(lc_space_high(&sr->obs_space, k), lc_space_high(&sl->obs_space, k));
        }
        lc_error err = {0};
        ck_assert_int_eq(lc_env_reset(r, 7, &err), LC_OK);
        ck_assert_int_eq(lc_env_reset(l, 7, &err), LC_OK);
        ck_assert(memcmp(lc_env_get_buf(r)->obs, lc_env_get_buf(l)->obs, N * sr->obs_size * sizeof(float)) == 0);
        lc_rng rng;
        lc_rng_seed(&rng, 3, 0);
        int ended = 0, truncated = 0;
        for (int t = 0; t < T; t++) {
            int32_t a[N];
            const float *o = lc_env_get_buf(l)->obs;
            for (int i = 0; i < N; i++) // half the time upright long enough to meet the limit
                a[i] = (t / 80) % 2 ? (int32_t)(lc_rng_u64(&rng) & 1)
                                    : o[(size_t)i * sl->obs_size + (stack - 1) * 4 + 2] > 0; // newest frame last
            ck_assert_msg(lc_env_step(r, a, &err) == LC_OK, "%s", err.msg);
            ck_assert_int_eq(lc_env_step(l, a, &err), LC_OK);
            same_step(r, l, t);
            for (int i = 0; i < N; i++) {
                ended += lc_env_get_buf(l)->terminated[i];
                truncated += lc_env_get_buf(l)->truncated[i];
            }
        }
        ck_assert_int_gt(ended, 0);
        ck_assert_int_gt(truncated, 0);
        // frames: the server's render, at the same size as the local env's
        ck_assert_int_eq(sr->render_w, sl->render_w);
        ck_assert_int_eq(sr->render_h, sl->render_h);
        size_t fb = (size_t)sr->render_w * sr->render_h * 3;
        uint8_t *fr = malloc(fb), *fl = malloc(fb);
        ck_assert_int_eq(lc_env_render(r, 1, fr, &err), LC_OK);
        ck_assert_int_eq(lc_env_render(l, 1, fl, &err), LC_OK);
        ck_assert(memcmp(fr, fl, fb) == 0);
        free(fr);
        free(fl);
        // a new seed starts over on both sides
        ck_assert_int_eq(lc_env_reset(r, 8, &err), LC_OK);
        ck_assert_int_eq(lc_env_reset(l, 8, &err), LC_OK);
        same_step(r, l, -1);
        lc_env_free(r);
        lc_env_free(l);
    }
    unserve(&v);
}
END_TEST

START_TEST(test_disabled_autoreset) {
    served v;
    serve(&v, 64);
    enum { N = 3 };
    lc_env *r = make(v.name, N, 0, LC_AUTORESET_DISABLED, 1, NULL);
    lc_env *l = make("CartPole-v1", N, 0, LC_AUTORESET_DISABLED, 1, NULL);
    lc_error err = {0};
    ck_assert_int_eq(lc_env_reset(r, 1, &err), LC_OK);
    ck_assert_int_eq(lc_env_reset(l, 1, &err), LC_OK);
    int32_t a[N] = {1, 1, 0};
    int restarts = 0;
    for (int t = 0; t < 200; t++) {
        ck_assert_msg(lc_env_step(r, a, &err) == LC_OK, "%s", err.msg);
        ck_assert_int_eq(lc_env_step(l, a, &err), LC_OK);
        same_step(r, l, t);
        const uint8_t *done = lc_env_get_buf(l)->done;
        uint8_t mask[N];
        int any = 0;
        for (int i = 0; i < N; i++) any |= mask[i] = done[i];
        if (!any) continue;
        ck_assert_int_eq(lc_env_step(r, a, &err), LC_ERR_STATE); // the vector refuses: reset first
        ck_assert_int_eq(lc_env_reset_mask(r, mask, &err), LC_OK);
        ck_assert_int_eq(lc_env_reset_mask(l, mask, &err), LC_OK);
        ck_assert(memcmp(lc_env_get_buf(r)->obs, lc_env_get_buf(l)->obs, N * 4 * sizeof(float)) == 0);
        restarts++;
    }
    ck_assert_int_gt(restarts, 2);
    // resetting an env that did not end would reset all on the server: refused
    uint8_t one[N] = {1, 0, 0};
    ck_assert_int_eq(lc_env_reset_mask(r, one, &err), LC_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "resets all envs"));
    ck_assert_int_eq(lc_env_step(r, a, &err), LC_ERR_UNSUPPORTED); // and stays failed
    lc_env_free(r);
    lc_env_free(l);
    unserve(&v);
}
END_TEST

START_TEST(test_refusals) {
    served v;
    serve(&v, 8);
    lc_env_opts o = lc_env_opts_default();
    lc_env *e = NULL;
    lc_error err = {0};
    ck_assert_int_eq(lc_env_make(&e, "remote:", &o, &err), LC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "endpoint"));
    char name[400];
    snprintf(name, sizeof name, "%s?speed=3", v.name);
    ck_assert_int_eq(lc_env_make(&e, name, &o, &err), LC_ERR_ARG); // unknown option
    o.params = "timeout=0";
    ck_assert_int_eq(lc_env_make(&e, v.name, &o, &err), LC_ERR_ARG); // out of range
    o = lc_env_opts_default();
    o.autoreset = LC_AUTORESET_NEXT_STEP;
    ck_assert_int_eq(lc_env_make(&e, v.name, &o, &err), LC_ERR_UNSUPPORTED);
    o = lc_env_opts_default();
    o.action_repeat = 2;
    ck_assert_int_eq(lc_env_make(&e, v.name, &o, &err), LC_ERR_UNSUPPORTED);
    o = lc_env_opts_default();
    o.num_envs = 9; // over the server's --max-envs: its error comes back
    int rc = lc_env_make(&e, v.name, &o, &err);
    ck_assert_int_ne(rc, LC_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "the server says"));
    ck_assert_ptr_null(e);
    unserve(&v);
}
END_TEST

START_TEST(test_server_gone) {
    served v;
    serve(&v, 64);
    char name[400];
    snprintf(name, sizeof name, "%s?timeout=0.3", v.name);
    lc_env *r = make(name, 2, 0, LC_AUTORESET_SAME_STEP, 1, NULL);
    lc_error err = {0};
    ck_assert_int_eq(lc_env_reset(r, 0, &err), LC_OK);
    int32_t a[2] = {0, 1};
    ck_assert_int_eq(lc_env_step(r, a, &err), LC_OK);
    unserve(&v);
    ck_assert_int_eq(lc_env_step(r, a, &err), LC_ERR_NET);
    ck_assert_ptr_nonnull(strstr(err.msg, "no reply to 'step' within 0.3 s"));
    ck_assert_int_eq(lc_env_reset(r, 0, &err), LC_ERR_NET); // stays failed
    lc_env_free(r);
    lc_env_opts o = lc_env_opts_default();
    o.params = "timeout=0.2";
    lc_env *e = NULL;
    ck_assert_int_eq(lc_env_make(&e, v.name, &o, &err), LC_ERR_NET);
    ck_assert_ptr_nonnull(strstr(err.msg, "no reply to 'make'"));
}
END_TEST

static Suite *remote_suite(void) {
    Suite *s = suite_create("remote");
    TCase *tc = tcase_create("remote env");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_same_as_local);
    tcase_add_test(tc, test_disabled_autoreset);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_server_gone);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(remote_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

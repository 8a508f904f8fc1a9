// tests/test_minatar.c: Check suite for MinAtar (env/minatar*.c) and numpy's RandomState
// (core/nprandom.c): RandomState against golden values printed by numpy, the env contract on
// each game, seeding (env i of a vector = RandomState(seed + i)), errors, the render palette
// against seaborn's. Leaves out: identity with minatar 1.0.15 (tests/python/test_minatar_ref.py).
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/nprandom.h"
#include "env/env.h"
#include "env/minatar.h"
#include "tests/helpers/env_contract.h"

// ---------------------------------------------------------------- numpy's RandomState

// numpy 1.26: r = np.random.RandomState(seed); 3 x r.randint(0, 2**32); 3 x r.random_sample();
// r.randint(2), r.randint(1, 6, 8), r.randint(1, 9), r.randint(3), r.randint(1),
// r.randint(1000), r.randint(-5, 5), r.randint(0, 2**31 + 1); 700 x random_sample(), one more.
typedef struct golden {
    int array;          // seeded with an array (key, nkey) instead of an int
    uint64_t seed;
    uint32_t key[3];
    int nkey;
    uint32_t raw[3];
    double dbl[3];
    int64_t ints[15];
    double last;
} golden;

static const golden GOLD[] = {
    {0, 0, {0}, 0, {2357136044u, 2546248239u, 3071714933u},
     {0x1.b04399a693acdp-1, 0x1.b744a5e2df5dbp-1, 0x1.b1cafadb1d290p-1},
     {1, 3, 5, 1, 1, 5, 3, 2, 1, 2, 1, 0, 537, 3, 374217481}, 0x1.6d04bf9bb6036p-1},
    {0, 1, {0}, 0, {1791095845u, 4282876139u, 3093770124u},
     {0x1.dd78288001dfbp-1, 0x1.06661c4d65aacp-3, 0x1.ff823d096472dp-1},
     {0, 1, 2, 5, 5, 2, 3, 5, 3, 5, 0, 0, 490, -3, 1792310487}, 0x1.da1bbcba7dda2p-2},
    {0, 42, {0}, 0, {1608637542u, 3421126067u, 4083286876u},
     {0x1.77aca8bb63f44p-3, 0x1.8f33a8a6506bap-1, 0x1.31965809fc359p-1},
     {1, 3, 3, 3, 5, 4, 3, 5, 2, 8, 1, 0, 805, -4, 780932287}, 0x1.b50a45dbeb3e0p-4},
    {0, 4294967295u, {0}, 0, {419326371u, 479346978u, 3918654476u},
     {0x1.201958b27f8dep-1, 0x1.0d79fcb1eb943p-1, 0x1.8a8e03c125ec7p-1},
     {0, 4, 3, 4, 4, 3, 4, 2, 2, 2, 0, 0, 356, -5, 2104049304}, 0x1.d22ff33326646p-1},
    // RandomState([5000000000 & 0xffffffff, 5000000000 >> 32]), what lc_mt_seed_u64(5000000000) does
    {0, 5000000000ull, {0}, 0, {372202282u, 4101146408u, 2606164382u},
     {0x1.ba994d80f6635p-1, 0x1.eb8692613519ap-2, 0x1.3eb1d83b0216ep-2},
     {0, 2, 2, 3, 4, 3, 4, 1, 3, 5, 0, 0, 528, 0, 168988899}, 0x1.1c19ba803f27ep-2},
    {1, 0, {1, 2, 3}, 3, {2619334238u, 1552691353u, 3808334787u},
     {0x1.2ed0c09e7c4d1p-1, 0x1.5796be39733bep-1, 0x1.bee0e103c58a4p-2},
     {1, 5, 5, 4, 4, 1, 5, 5, 4, 1, 1, 0, 539, -4, 433165688}, 0x1.b1b5245a76cc6p-2},
};

START_TEST(test_randomstate_golden) {
    const golden *g = &GOLD[_i];
    lc_mt m;
    if (g->array) lc_mt_seed_array(&m, g->key, (size_t)g->nkey);
    else lc_mt_seed_u64(&m, g->seed);
    for (int k = 0; k < 3; k++) ck_assert_int_eq(lc_mt_randint(&m, 0, 1ll << 32), g->raw[k]);
    for (int k = 0; k < 3; k++) ck_assert(lc_mt_random_sample(&m) == g->dbl[k]);
    int64_t got[15];
    int n = 0;
    got[n++] = lc_mt_randint(&m, 0, 2);
    for (int k = 0; k < 8; k++) got[n++] = lc_mt_randint(&m, 1, 6);
    got[n++] = lc_mt_randint(&m, 1, 9);
    got[n++] = lc_mt_randint(&m, 0, 3);
    got[n++] = lc_mt_randint(&m, 0, 1); // draws nothing
    got[n++] = lc_mt_randint(&m, 0, 1000);
    got[n++] = lc_mt_randint(&m, -5, 5);
    got[n++] = lc_mt_randint(&m, 0, (1ll << 31) + 1);
    for (int k = 0; k < 15; k++) ck_assert_msg(got[k] == g->ints[k], "draw %d: %lld, numpy %lld", k,
                                               (long long)got[k], (long long)g->ints[k]);
    for (int k = 0; k < 700; k++) lc_mt_random_sample(&m); // across two regenerations of the state
    ck_assert(lc_mt_random_sample(&m) == g->last);
}
END_TEST

// ---------------------------------------------------------------- envs

static const char *const NAMES[5] = {"MinAtar/Asterix-v0", "MinAtar/Breakout-v0", "MinAtar/Freeway-v0",
                                     "MinAtar/Seaquest-v0", "MinAtar/SpaceInvaders-v0"};
static const int CHANNELS[5] = {4, 4, 7, 10, 6}, MINIMAL[5] = {5, 3, 3, 6, 4};

static lc_env *make(const char *name, int n, const char *params) {
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = n;
    o.params = params;
    lc_env *e;
    lc_error err = {0};
    ck_assert_msg(lc_env_make(&e, name, &o, &err) == LC_OK, "%s: %s", name, err.msg);
    return e;
}

START_TEST(test_spaces) {
    char name[64];
    for (int v = 0; v < 2; v++) {
        snprintf(name, sizeof name, "%.*s-v%d", (int)strlen(NAMES[_i]) - 3, NAMES[_i], v);
        lc_env *e = make(name, 1, NULL);
        const lc_env_spec *sp = lc_env_get_spec(e);
        ck_assert_int_eq(sp->obs_space.kind, LC_SPACE_BOX);
        ck_assert_int_eq(sp->obs_space.dtype, LC_U8);
        ck_assert_int_eq(sp->obs_space.shape[0], 10);
        ck_assert_int_eq(sp->obs_space.shape[1], 10);
        ck_assert_int_eq(sp->obs_space.shape[2], CHANNELS[_i]);
        ck_assert_int_eq(sp->act_space.n, v ? MINIMAL[_i] : 6);
        ck_assert_int_eq(sp->max_episode_steps, 0);
        lc_env_free(e);
    }
    lc_env *e = make(NAMES[_i], 1, "minimal_action_set=1");
    ck_assert_int_eq(lc_env_get_spec(e)->act_space.n, MINIMAL[_i]);
    lc_env_free(e);
}
END_TEST

// Env i of a vector reset with seed s plays as a single env reset with s + i (RandomState(s + i)).
START_TEST(test_vector_seeding) {
    const int K = 3, T = 600;
    uint64_t seeds[2] = {7, (1ull << 32) - 2}; // the second crosses 2**32: array seeding from env 2 on
    for (int k = 0; k < 2; k++) {
        lc_env *v = make(NAMES[_i], K, NULL);
        lc_env *one[3];
        lc_error err = {0};
        ck_assert_int_eq(lc_env_reset(v, seeds[k], &err), LC_OK);
        for (int i = 0; i < K; i++) {
            one[i] = make(NAMES[_i], 1, NULL);
            ck_assert_int_eq(lc_env_reset(one[i], seeds[k] + (uint64_t)i, &err), LC_OK);
        }
        int n = lc_env_get_spec(v)->obs_size;
        lc_rng r;
        lc_rng_seed(&r, 3, 0);
        int32_t act[3];
        for (int t = 0; t < T; t++) {
            for (int i = 0; i < K; i++) {
                const uint8_t *a = (const uint8_t *)lc_env_get_buf(v)->obs + (size_t)i * n;
                const uint8_t *b = lc_env_get_buf(one[i])->obs;
                ck_assert_msg(memcmp(a, b, (size_t)n) == 0, "%s seed %llu env %d step %d", NAMES[_i],
                              (unsigned long long)seeds[k], i, t);
                ck_assert(lc_env_get_buf(v)->rewards[i] == lc_env_get_buf(one[i])->rewards[0]);
                act[i] = (int32_t)lc_rng_below(&r, 6);
            }
            ck_assert_int_eq(lc_env_step(v, act, &err), LC_OK);
            for (int i = 0; i < K; i++) ck_assert_int_eq(lc_env_step(one[i], &act[i], &err), LC_OK);
        }
        for (int i = 0; i < K; i++) lc_env_free(one[i]);
        lc_env_free(v);
    }
}
END_TEST

// Freeway ends itself after 2500 + 1 steps; its reward counts crossings.
START_TEST(test_freeway_length) {
    lc_env *e = make("MinAtar/Freeway-v1", 1, "sticky_action_prob=0");
    lc_error err = {0};
    ck_assert_int_eq(lc_env_reset(e, 0, &err), LC_OK);
    const lc_env_buf *b = lc_env_get_buf(e);
    int32_t noop = 0;
    for (int t = 0; t < 2500; t++) {
        ck_assert_int_eq(lc_env_step(e, &noop, &err), LC_OK);
        ck_assert(!b->done[0]);
    }
    ck_assert_int_eq(lc_env_step(e, &noop, &err), LC_OK);
    ck_assert(b->terminated[0] && !b->truncated[0]);
    ck_assert_int_eq(b->ep_length[0], 2501);
    ck_assert(b->ep_return[0] == 0.0f);
    lc_env_free(e);
}
END_TEST

START_TEST(test_errors) {
    lc_env *e;
    lc_error err = {0};
    lc_env_opts o = lc_env_opts_default();
    ck_assert_int_eq(lc_env_make(&e, "MinAtar/Pong-v0", &o, &err), LC_ERR_NOTFOUND);
    ck_assert_int_eq(lc_env_make(&e, "MinAtar/Breakout-v2", &o, &err), LC_ERR_NOTFOUND);
    static const char *const bad[] = {"sticky_action_prob=abc", "sticky_action_prob=1.5", "sticky_action_prob=-0.1",
                                      "difficulty_ramping=2", "difficulty_ramping=yes", "minimal_action_set=0.5",
                                      "lives=3", "sticky_action_prob"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        o.params = bad[k];
        err.msg[0] = '\0';
        ck_assert_int_eq(lc_env_make(&e, "MinAtar/Breakout-v0", &o, &err), LC_ERR_ARG);
        ck_assert_msg(strstr(err.msg, "MinAtar/Breakout-v0") != NULL, "%s: %s", bad[k], err.msg);
    }
    o.params = NULL;
    static const char *const names[2] = {"MinAtar/Breakout-v0", "MinAtar/Breakout-v1"};
    for (int v = 0; v < 2; v++) {
        e = make(names[v], 2, NULL);
        ck_assert_int_eq(lc_env_reset(e, 1, &err), LC_OK);
        int32_t act[2] = {0, v ? 3 : 6};
        ck_assert_int_eq(lc_env_step(e, act, &err), LC_ERR_ACTION);
        act[1] = -1;
        ck_assert_int_eq(lc_env_step(e, act, &err), LC_ERR_ACTION);
        act[1] = v ? 2 : 5;
        ck_assert_int_eq(lc_env_step(e, act, &err), LC_OK);
        lc_env_free(e);
    }
}
END_TEST

// ---------------------------------------------------------------- render

// seaborn 0.13: np.round(255 * np.array(sns.color_palette("cubehelix", C)))
START_TEST(test_palette_is_seaborns) {
    static const uint8_t p4[4][3] = {{22, 61, 78}, {84, 121, 47}, {208, 126, 147}, {193, 202, 243}};
    static const uint8_t p10[10][3] = {{25, 18, 43},    {23, 52, 76},    {24, 91, 72},    {60, 118, 50},
                                       {126, 122, 54},  {188, 121, 103}, {212, 134, 175}, {202, 169, 231},
                                       {194, 210, 243}, {214, 240, 239}};
    uint8_t pal[11][3];
    lc_mz_palette(4, pal);
    ck_assert(pal[0][0] == 0 && pal[0][1] == 0 && pal[0][2] == 0);
    ck_assert_mem_eq(pal + 1, p4, sizeof p4);
    lc_mz_palette(10, pal);
    ck_assert_mem_eq(pal + 1, p10, sizeof p10);
}
END_TEST

START_TEST(test_render_blocks) {
    lc_env *e = make("MinAtar/Breakout-v0", 1, NULL);
    lc_error err = {0};
    ck_assert_int_eq(lc_env_reset(e, 0, &err), LC_OK);
    const lc_env_spec *sp = lc_env_get_spec(e);
    ck_assert_int_eq(sp->render_w, 160);
    uint8_t *rgb = malloc((size_t)sp->render_w * sp->render_h * 3);
    ck_assert_int_eq(lc_env_render(e, 0, rgb, &err), LC_OK);
    uint8_t pal[5][3];
    lc_mz_palette(4, pal);
    // The paddle (channel 0) at (9, 4), bricks (channel 3) on rows 1-3, black elsewhere.
    ck_assert_mem_eq(rgb + ((size_t)(9 * 16 + 8) * 160 + 4 * 16 + 8) * 3, pal[1], 3);
    ck_assert_mem_eq(rgb + ((size_t)(2 * 16 + 3) * 160 + 5 * 16 + 3) * 3, pal[4], 3);
    ck_assert_mem_eq(rgb + ((size_t)(6 * 16 + 8) * 160 + 4 * 16 + 8) * 3, pal[0], 3);
    free(rgb);
    lc_env_free(e);
}
END_TEST

static Suite *minatar_suite(void) {
    Suite *s = suite_create("minatar");
    TCase *tc = tcase_create("randomstate");
    tcase_add_loop_test(tc, test_randomstate_golden, 0, (int)(sizeof GOLD / sizeof GOLD[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("envs");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_spaces, 0, 5);
    tcase_add_loop_test(tc, test_vector_seeding, 0, 5);
    tcase_add_test(tc, test_freeway_length);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("render");
    tcase_add_test(tc, test_palette_is_seaborns);
    tcase_add_test(tc, test_render_blocks);
    suite_add_tcase(s, tc);
    for (int g = 0; g < 5; g++) suite_add_tcase(s, lc_contract_tcase(NAMES[g], NULL));
    suite_add_tcase(s, lc_contract_tcase("MinAtar/Seaquest-v1", "sticky_action_prob=0.3,difficulty_ramping=0"));
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(minatar_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}

// tests/test_settings.c: the settings tables (core/settings.c): defaults, range
// checks, the key=value parser, command-line style setting, checkpoint save/load
// with rows added in a later version, and the PPO and env-option tables.
// Leaves out: the CLI (tests/test_env.c runs the lucid program).
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/settings.h"
#include "env/env.h"
#include "policy/ppo.h"

typedef struct demo_cfg {
    int steps;
    float rate;
    int flag;
    int mode;
    int64_t big;
    uint64_t seed;
    int added; // a row of version 2
} demo_cfg;

#define D(name, T, def, lo, hi, since) \
    {#name, LC_SET_##T, offsetof(demo_cfg, name), def, lo, hi, since, "help", NULL}
static const lc_setting ROWS_V2[] = {
    D(steps, INT, 10, 1, 100, 1),
    D(rate, FLOAT, 0.5, 0, 1, 1),
    D(flag, BOOL, 1, 0, 1, 1),
    {"mode", LC_SET_ENUM, offsetof(demo_cfg, mode), 1, 0, 0, 1, "help", "all|played|none"},
    D(big, I64, 5, 0, 1e12, 1),
    D(seed, U64, 7, 1, 0, 1),
    D(added, INT, 42, 0, 50, 2),
};
static const lc_settings V2 = {"demo", ROWS_V2, 7};
static const lc_settings V1 = {"demo", ROWS_V2, 6}; // the same table before `added`

START_TEST(test_defaults_and_check) {
    demo_cfg c;
    memset(&c, 0xff, sizeof c);
    lc_settings_defaults(&V2, &c);
    ck_assert_int_eq(c.steps, 10);
    ck_assert_float_eq(c.rate, 0.5f);
    ck_assert_int_eq(c.flag, 1);
    ck_assert_int_eq(c.mode, 1);
    ck_assert_int_eq(c.big, 5);
    ck_assert_uint_eq(c.seed, 7);
    ck_assert_int_eq(c.added, 42);
    lc_error err = {0};
    ck_assert_int_eq(lc_settings_check(&V2, &c, &err), LC_OK);
    c.steps = 101;
    ck_assert_int_eq(lc_settings_check(&V2, &c, &err), LC_ERR_ARG);
    ck_assert(strstr(err.msg, "steps") != NULL);
    c.steps = 10;
    c.rate = NAN;
    ck_assert_int_eq(lc_settings_check(&V2, &c, &err), LC_ERR_ARG);
    c.rate = 0.5f;
    c.flag = 2;
    ck_assert_int_eq(lc_settings_check(&V2, &c, &err), LC_ERR_ARG);
    c.flag = 0;
    c.mode = 3;
    ck_assert_int_eq(lc_settings_check(&V2, &c, &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_settings_version(&V2), 2);
    ck_assert_int_eq(lc_settings_version(&V1), 1);
}
END_TEST

START_TEST(test_parse) {
    demo_cfg c;
    lc_settings_defaults(&V2, &c);
    lc_error err = {0};
    ck_assert_int_eq(lc_settings_parse(&V2, &c, "steps=20,,rate=0.25,mode=none,seed=18446744073709551615,", &err),
                     LC_OK);
    ck_assert_int_eq(c.steps, 20);
    ck_assert_float_eq(c.rate, 0.25f);
    ck_assert_int_eq(c.mode, 2);
    ck_assert_uint_eq(c.seed, UINT64_MAX);
    ck_assert_int_eq(lc_settings_parse(&V2, &c, NULL, &err), LC_OK);
    ck_assert_int_eq(lc_settings_parse(&V2, &c, "", &err), LC_OK);
    // Unknown key, missing '=', out of range, not a number, a bad choice, trailing junk:
    // each refused with the key named, and nothing after the bad item is set.
    const char *bad[] = {"nope=1", "steps", "steps=0", "steps=abc", "mode=some", "rate=0.5x",
                         "rate=2", "steps=", "flag=2", "seed=-1", "steps=99999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.code = LC_OK;
        ck_assert_msg(lc_settings_parse(&V2, &c, bad[i], &err) == LC_ERR_ARG, "%s accepted", bad[i]);
        ck_assert(strstr(err.msg, "demo") != NULL);
    }
    ck_assert_int_eq(c.steps, 20);
    // dashes and underscores name the same row; the CLI's form.
    ck_assert_ptr_eq(lc_settings_find(&V2, "steps"), &ROWS_V2[0]);
    ck_assert_int_eq(lc_settings_set(&V2, &c, "big", "1000000000000", &err), LC_OK);
    ck_assert_int_eq(c.big, 1000000000000LL);
    char buf[32];
    lc_settings_format(&ROWS_V2[3], &c, buf, sizeof buf);
    ck_assert_str_eq(buf, "none");
}
END_TEST

// A number row may name values outside its range ("off=-1"), which only the name sets.
START_TEST(test_named_values) {
    typedef struct {
        float halt;
    } h_cfg;
    static const lc_setting rows[] = {
        {"halt", LC_SET_FLOAT, offsetof(h_cfg, halt), -1, 0, 10, 1, "help", "off=-1|max=10"}};
    lc_settings t = {"h", rows, 1};
    h_cfg c = {2.0f};
    lc_error err = {0};
    ck_assert_int_eq(lc_settings_parse(&t, &c, "halt=off", &err), LC_OK);
    ck_assert_float_eq(c.halt, -1.0f);
    ck_assert_int_eq(lc_settings_parse(&t, &c, "halt=2.5", &err), LC_OK);
    ck_assert_float_eq(c.halt, 2.5f);
    ck_assert_int_eq(lc_settings_parse(&t, &c, "halt=max", &err), LC_OK);
    ck_assert_float_eq(c.halt, 10.0f);
    ck_assert_int_eq(lc_settings_parse(&t, &c, "halt=-1", &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_settings_parse(&t, &c, "halt=of", &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_settings_parse(&t, &c, "halt=off1", &err), LC_ERR_ARG);
}
END_TEST

START_TEST(test_save_load_versions) {
    demo_cfg c, d;
    lc_settings_defaults(&V2, &c);
    c.steps = 33;
    c.added = 7;
    c.seed = UINT64_MAX - 3;
    lc_error err = {0};
    // A file written by the older table (no `added`) loads with added's default.
    lc_file *f = lc_file_new("demo");
    ck_assert_int_eq(lc_settings_to_file(&V1, &c, f, &err), LC_OK);
    lc_settings_defaults(&V2, &d);
    ck_assert_int_eq(lc_settings_from_file(&V2, &d, f, &err), LC_OK);
    ck_assert_int_eq(d.steps, 33);
    ck_assert_int_eq(d.added, 42);
    ck_assert_uint_eq(d.seed, UINT64_MAX - 3);
    lc_file_free(f);
    // A file of the newer table round-trips and an older build refuses it.
    f = lc_file_new("demo");
    ck_assert_int_eq(lc_settings_to_file(&V2, &c, f, &err), LC_OK);
    lc_settings_defaults(&V2, &d);
    ck_assert_int_eq(lc_settings_from_file(&V2, &d, f, &err), LC_OK);
    ck_assert_int_eq(d.added, 7);
    ck_assert_int_eq(lc_settings_from_file(&V1, &d, f, &err), LC_ERR_VERSION);
    // Out of range, wrong type, missing: refused, one code for bad values.
    ck_assert_int_eq(lc_file_set_int(f, "demo.steps", 1000), 0);
    ck_assert_int_eq(lc_settings_from_file(&V2, &d, f, &err), LC_ERR_FORMAT);
    ck_assert(strstr(err.msg, "demo.steps") != NULL);
    ck_assert_int_eq(lc_file_set_str(f, "demo.steps", "10"), 0);
    ck_assert_int_eq(lc_settings_from_file(&V2, &d, f, &err), LC_ERR_FORMAT);
    ck_assert_int_eq(lc_file_set_int(f, "demo.steps", 10), 0);
    ck_assert_int_eq(lc_file_set_float(f, "demo.rate", NAN), 0);
    ck_assert_int_eq(lc_settings_from_file(&V2, &d, f, &err), LC_ERR_FORMAT);
    lc_file_free(f);
    f = lc_file_new("demo");
    ck_assert_int_eq(lc_file_set_int(f, "demo.steps", 10), 0);
    ck_assert_int_eq(lc_settings_from_file(&V1, &d, f, &err), LC_ERR_NOTFOUND);
    lc_file_free(f);
}
END_TEST

START_TEST(test_ppo_and_env_tables) {
    // The tables give exactly the documented defaults (CleanRL's ppo.py).
    lc_ppo_cfg c = lc_ppo_cfg_default();
    ck_assert_int_eq(c.total_steps, 500000);
    ck_assert_int_eq(c.num_envs, 4);
    ck_assert_int_eq(c.num_steps, 128);
    ck_assert_float_eq(c.lr, 2.5e-4f);
    ck_assert_float_eq(c.clip_coef, 0.2f);
    ck_assert_int_eq(c.clip_vloss, 1);
    ck_assert_float_eq(c.ent_coef, 0.01f);
    ck_assert_uint_eq(c.seed, 1);
    ck_assert_ptr_null(c.checkpoint_path);
    lc_error err = {0};
    ck_assert_int_eq(lc_settings_check(lc_ppo_settings(), &c, &err), LC_OK);
    ck_assert_int_eq(lc_settings_parse(lc_ppo_settings(), &c, "gamma=1.5", &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_settings_parse(lc_ppo_settings(), &c, "num-minibatches=8", &err), LC_OK);
    ck_assert_int_eq(c.num_minibatches, 8);
    lc_env_opts o = lc_env_opts_default();
    ck_assert_int_eq(o.num_envs, 1);
    ck_assert_int_eq(o.action_repeat, 1);
    ck_assert_int_eq(o.frame_stack, 1);
    ck_assert_float_eq(o.gamma, 0.99f);
    ck_assert_ptr_null(o.params);
    ck_assert_int_eq(lc_settings_check(lc_env_opts_settings(), &o, &err), LC_OK);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("settings");
    TCase *tc = tcase_create("tables");
    tcase_add_test(tc, test_defaults_and_check);
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_named_values);
    tcase_add_test(tc, test_save_load_versions);
    tcase_add_test(tc, test_ppo_and_env_tables);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

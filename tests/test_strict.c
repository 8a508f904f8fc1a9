// tests/test_strict.c: Check suite for loaders that refuse what they do not use
// (issue #21) and checkpoints that survive write faults. For each kind (policy,
// PPO trainer checkpoint, world model, dataset, frames, frame actions): a valid file
// loads; the same file with an extra tensor, a missing tensor, a tensor of the wrong
// shape or a meta value of the wrong type (CRC recomputed) is refused with an error
// naming the file and the problem; an injected ENOSPC/EROFS/EIO while saving leaves
// the previous file intact (same inode, same bytes) and no temporary file.
// With LUCID_FUZZ_CORPUS=DIR, the valid files are also written to DIR (the fuzz seeds).
// The pixel genie kind too (a tiny model trained on Catch frames).
// Leaves out: the token genie kind (worldmodel/genie_tokens_io.c; its valid file is still
// written to the fuzz corpus), the learner's checkpoint (test_dist resumes one).
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "env/env.h"
#include "policy/policy.h"
#include "policy/ppo.h"
#include "worldmodel/frames.h"
#include "worldmodel/genie.h"
#include "worldmodel/genie_tokens.h"
#include "worldmodel/worldmodel.h"

static char tmpdir[256];

static void path_in(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", tmpdir, name);
}

// ---------------------------------------------------------------- valid files of each kind

static lc_env *make_env(const char *name, int n) {
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = n;
    o.num_threads = 1;
    lc_env *env = NULL;
    lc_error err = {0};
    ck_assert_msg(lc_env_make(&env, name, &o, &err) == LC_OK, "%s", err.msg);
    return env;
}

// A CartPole MLP policy (64, 64) with obs normalisation, the "policy" kind.
static int save_policy(const char *path, lc_error *err) {
    lc_env *env = make_env("CartPole-v1", 1);
    const lc_env_spec *sp = lc_env_get_spec(env);
    lc_policy_cfg c = lc_policy_cfg_default();
    lc_policy *p = NULL;
    int rc = lc_policy_new(&p, &sp->obs_space, &sp->act_space, &c, 3, err);
    double mean[4] = {0.1, -0.2, 0.01, 0.3}, var[4] = {1.5, 0.5, 0.02, 2.0};
    if (!rc) rc = lc_policy_set_obs_norm(p, 1000.0, mean, var, 4, 10.0f, err);
    if (!rc) lc_policy_set_env_name(p, "CartPole-v1");
    if (!rc) rc = lc_policy_save(p, path, err);
    lc_policy_free(p);
    lc_env_free(env);
    return rc;
}

static int load_policy(const char *path, lc_error *err) {
    lc_policy *p = NULL;
    int rc = lc_policy_load(&p, path, err);
    lc_policy_free(p);
    return rc;
}

// A PPO trainer checkpoint (a "policy" file with Adam moments and ppo.* state).
static int save_trainer(const char *path, lc_error *err) {
    lc_ppo_cfg c = lc_ppo_cfg_default();
    c.num_envs = 2;
    c.num_steps = 8;
    c.total_steps = 64;
    c.num_threads = 1;
    c.normalize_reward = 1;
    lc_policy_cfg pc = lc_policy_cfg_default();
    pc.hidden[0] = pc.hidden[1] = 8;
    lc_ppo *t = NULL;
    int rc = lc_ppo_new(&t, "CartPole-v1", NULL, &c, &pc, err);
    if (!rc) rc = lc_ppo_iterate(t, NULL, err);
    if (!rc) rc = lc_ppo_checkpoint(t, path, err);
    lc_ppo_free(t);
    return rc;
}

static int load_trainer(const char *path, lc_error *err) {
    lc_ppo *t = NULL;
    int rc = lc_ppo_resume(&t, path, 0, err);
    lc_ppo_free(t);
    return rc;
}

static void cartpole_dataset(lc_dataset *ds, int64_t steps) {
    lc_env *env = make_env("CartPole-v1", 2);
    lc_error err = {0};
    ck_assert_msg(lc_dataset_init_for_env(ds, env, &err) == LC_OK, "%s", err.msg);
    ck_assert_msg(lc_dataset_collect(ds, env, steps, NULL, NULL, 5, NULL, NULL, &err) == LC_OK,
                  "%s", err.msg);
    lc_env_free(env);
}

static int save_dataset(const char *path, lc_error *err) {
    lc_dataset ds;
    cartpole_dataset(&ds, 120);
    int rc = lc_dataset_save(&ds, path, err);
    lc_dataset_free(&ds);
    return rc;
}

static int load_dataset(const char *path, lc_error *err) {
    lc_dataset ds;
    int rc = lc_dataset_load(&ds, path, err);
    if (!rc) lc_dataset_free(&ds);
    return rc;
}

// A tiny ensemble world model (2 members, one epoch).
static int save_worldmodel(const char *path, lc_error *err) {
    lc_dataset ds;
    cartpole_dataset(&ds, 200);
    lc_wm_config c = lc_wm_config_default();
    c.members = 2;
    c.elites = 1;
    c.hidden = 8;
    c.layers = 1;
    c.epochs = 1;
    c.term_hidden = 4;
    c.max_starts = 8;
    c.max_states = 8;
    lc_ensemble *m = NULL;
    int rc = lc_ensemble_train(&m, &ds, &c, NULL, NULL, err);
    if (!rc) rc = lc_ensemble_save(m, path, err);
    lc_ensemble_free(m);
    lc_dataset_free(&ds);
    return rc;
}

static int load_worldmodel(const char *path, lc_error *err) {
    lc_ensemble *m = NULL;
    int rc = lc_ensemble_load(&m, path, err);
    lc_ensemble_free(m);
    return rc;
}

// Frames of Catch at 8 x 8 and their actions (two files; the actions file is the
// second kind). frames_path is where the frames of the actions kind live.
static char frames_path[512];

static int save_frames_pair(const char *path, const char *actions, lc_error *err) {
    lc_env *env = make_env("Catch-v0", 1);
    lc_frames fr;
    int rc = lc_frames_collect(&fr, env, 40, 8, 2, err);
    if (!rc) rc = lc_frames_save(&fr, path, actions, err);
    if (!rc || fr.frames) lc_frames_free(&fr);
    lc_env_free(env);
    return rc;
}

static int save_frames(const char *path, lc_error *err) {
    return save_frames_pair(path, NULL, err);
}

static int load_frames(const char *path, lc_error *err) {
    lc_frames fr;
    int rc = lc_frames_load(&fr, path, NULL, err);
    if (!rc) lc_frames_free(&fr);
    return rc;
}

static int save_actions(const char *path, lc_error *err) {
    return save_frames_pair(frames_path, path, err);
}

static int load_actions(const char *path, lc_error *err) {
    lc_frames fr;
    int rc = lc_frames_load(&fr, frames_path, path, err);
    if (!rc) lc_frames_free(&fr);
    return rc;
}

// A tiny pixel genie trained a few steps on Catch frames (side 0: the game's 64x64) into
// *g, with the frames and their model rows X; dyn_steps 0 trains only the LAM.
static int tiny_genie(lc_frames *fr, int side, int dyn_steps, lc_genie **g, float **X,
                      lc_error *err) {
    lc_env *env = make_env("Catch-v0", 2);
    int rc = lc_frames_collect(fr, env, 60, side, 2, err);
    lc_env_free(env);
    if (rc) return rc;
    lc_genie_cfg c = lc_genie_cfg_default();
    c.res = 8;
    c.n_codes = 4;
    c.code_dim = 4;
    c.enc_ch = 4;
    c.lam_hidden = 4;
    c.dyn_hidden = 4;
    c.batch = 8;
    c.lam_steps = 5;
    c.dyn_steps = dyn_steps;
    c.max_starts = 4;
    if (!(rc = lc_genie_new(g, &c, fr->C, fr, err)) && !(rc = lc_genie_prep_all(*g, fr, X, err)))
        rc = lc_genie_train(*g, fr, *X, NULL, NULL, err);
    return rc;
}

// The "genie" kind.
static int save_genie(const char *path, lc_error *err) {
    lc_frames fr = {0};
    lc_genie *g = NULL;
    float *X = NULL;
    int rc = tiny_genie(&fr, 8, 5, &g, &X, err);
    if (!rc) rc = lc_genie_save(g, path, err);
    free(X);
    lc_genie_free(g);
    if (fr.frames) lc_frames_free(&fr);
    return rc;
}

// A tiny token world (tokenizer, LAM, token dynamics) on Catch frames (64x64).
static int save_token_world(const char *path, lc_error *err) {
    lc_frames fr = {0};
    lc_genie *lam = NULL;
    lc_gtok *g = NULL;
    float *X = NULL;
    lc_gtok_cfg t = lc_gtok_cfg_default();
    int rc = tiny_genie(&fr, 0, 0, &lam, &X, err);
    t.tok.side = fr.H;
    t.tok.channels = fr.C;
    t.tok.hidden = 4;
    t.tok.dim = 4;
    t.tok.codes = 8;
    t.tok.batch = 2;
    t.tok.steps = 5;
    t.emb = 4;
    t.hidden = 4;
    t.head_emb = 4;
    t.head_hidden = 4;
    t.batch = 4;
    t.steps = 5;
    t.unroll = 0;
    if (!rc) {
        rc = lc_gtok_new(&g, &t, lam, err); // owns lam from here
        lam = NULL;
        if (!rc && !(rc = lc_gtok_train(g, &fr, X, 0, NULL, NULL, err)))
            rc = lc_gtok_save(g, path, err);
    }
    free(X);
    lc_genie_free(lam);
    lc_gtok_free(g);
    if (fr.frames) lc_frames_free(&fr);
    return rc;
}

static int load_token_world(const char *path, lc_error *err) {
    lc_gtok *g = NULL;
    int rc = lc_gtok_load(&g, path, err);
    lc_gtok_free(g);
    return rc;
}

static int load_genie(const char *path, lc_error *err) {
    lc_genie *g = NULL;
    int rc = lc_genie_load(&g, path, err);
    lc_genie_free(g);
    return rc;
}

typedef struct kind {
    const char *file;      // file name in tmpdir (and in the fuzz corpus)
    int (*save)(const char *path, lc_error *err);
    int (*load)(const char *path, lc_error *err);
    const char *extra;     // a plausible tensor nothing uses
    const char *missing;   // a tensor the loader needs
    const char *reshape;   // a tensor given another shape
    const char *meta_key;  // a meta value given another type
} kind;

static const kind KINDS[] = {
    {"policy.lucid", save_policy, load_policy, "policy.trunk.pi.w9", "obs_norm.var",
     "obs_norm.mean", "policy.shared"},
    {"trainer.lucid", save_trainer, load_trainer, "ppo.rng2", "ppo.rng", "ppo.rng",
     "ppo.num_envs"},
    {"worldmodel.lucid", save_worldmodel, load_worldmodel, "wm.m9.w0", "elites", "norm.in_std",
     "hidden"},
    {"dataset.lucid", save_dataset, load_dataset, "values", "next_obs", "rewards", "obs_size"},
    {"frames.lucid", save_frames, load_frames, "frames2", "truncated", "frames", "game_h"},
    {"genie.lucid", save_genie, load_genie, "dyn.dyn.c4w", "dyn.dyn.head_w", "starts", "cfg.res"},
    {"actions.lucid", save_actions, load_actions, "logits", "actions", "actions", "n_actions"},
};
#define NKINDS ((int)(sizeof KINDS / sizeof KINDS[0]))

// ---------------------------------------------------------------- tampering

typedef struct tamper {
    const char *drop;        // tensor left out
    const char *reshape;     // tensor written with another shape (same bytes when it can)
    const char *extra;       // tensor added (4 floats)
    const char *meta_key;    // meta value replaced by meta_str (a string)
    const char *meta_str;
    const char *int_key;     // meta value replaced by int_val
    int64_t int_val;
} tamper;

// Copies src to dst through the public API (so the writer recomputes the CRC), changed.
static void tamper_copy(const char *src, const char *dst, const tamper *t) {
    lc_file *f = NULL, *g = NULL;
    lc_error err = {0};
    ck_assert_msg(lc_file_read(src, &f, &err) == LC_OK, "%s", err.msg);
    g = lc_file_new(lc_file_kind(f));
    for (int i = 0; i < lc_file_nmeta(f); i++) {
        const char *k = lc_file_meta_key(f, i), *s;
        int64_t iv;
        double dv;
        if (t->meta_key && strcmp(k, t->meta_key) == 0) ck_assert_int_eq(lc_file_set_str(g, k, t->meta_str), 0);
        else if (t->int_key && strcmp(k, t->int_key) == 0) ck_assert_int_eq(lc_file_set_int(g, k, t->int_val), 0);
        else if (lc_file_get_int(f, k, &iv, NULL) == LC_OK) ck_assert_int_eq(lc_file_set_int(g, k, iv), 0);
        else if (lc_file_get_float(f, k, &dv, NULL) == LC_OK) ck_assert_int_eq(lc_file_set_float(g, k, dv), 0);
        else if (lc_file_get_str(f, k, &s, NULL) == LC_OK) ck_assert_int_eq(lc_file_set_str(g, k, s), 0);
    }
    int found_drop = !t->drop, found_reshape = !t->reshape;
    for (int i = 0; i < lc_file_ntensors(f); i++) {
        const lc_tensor *x = lc_file_tensor_at(f, i);
        if (t->drop && strcmp(x->name, t->drop) == 0) {
            found_drop = 1;
            continue;
        }
        int64_t shape[LC_MAX_DIMS];
        int ndim = x->ndim;
        memcpy(shape, x->shape, sizeof shape);
        if (t->reshape && strcmp(x->name, t->reshape) == 0) {
            found_reshape = 1;
            if (ndim >= 2) { // flatten: the same bytes, the wrong shape
                int64_t n = 1;
                for (int d = 0; d < ndim; d++) n *= shape[d];
                ndim = 1;
                shape[0] = n;
            } else if (ndim == 1 && shape[0] > 1) {
                shape[0] -= 1; // one element fewer
            } else {
                ndim = 1;
                shape[0] = 1;
            }
        }
        ck_assert_int_eq(lc_file_add(g, x->name, x->dtype, ndim, shape, x->data, &err), LC_OK);
    }
    ck_assert_msg(found_drop && found_reshape, "%s: no tensor %s", src,
                  found_drop ? t->reshape : t->drop);
    if (t->extra) {
        float v[4] = {1, 2, 3, 4};
        int64_t sh[1] = {4};
        ck_assert_int_eq(lc_file_add(g, t->extra, LC_F32, 1, sh, v, &err), LC_OK);
    }
    ck_assert_msg(lc_file_write(g, dst, &err) == LC_OK, "%s", err.msg);
    lc_file_free(f);
    lc_file_free(g);
}

// Loads a tampered copy of kind k's file and demands a refusal naming the file and `what`.
static void expect_refused(const kind *k, const char *src, const tamper *t, const char *what) {
    char dst[600];
    path_in(dst, sizeof dst, "tampered.lucid");
    tamper_copy(src, dst, t);
    lc_error err = {0};
    int rc = k->load(dst, &err);
    ck_assert_msg(rc != LC_OK, "%s: a copy with %s loaded", k->file, what);
    ck_assert_msg(strstr(err.msg, dst) != NULL, "%s: the error does not name the file: %s", k->file,
                  err.msg);
    ck_assert_msg(strstr(err.msg, what) != NULL, "%s: the error does not name '%s': %s", k->file,
                  what, err.msg);
}

static void setup_dir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lucid_strict_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    path_in(frames_path, sizeof frames_path, "frames.lucid");
}

static void teardown_dir(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

// Writes kind k (and the frames an actions file needs) into tmpdir.
static void write_valid(const kind *k, char *path, size_t cap) {
    lc_error err = {0};
    if (k->load == load_actions)
        ck_assert_msg(save_frames(frames_path, &err) == LC_OK, "%s", err.msg);
    path_in(path, cap, k->file);
    ck_assert_msg(k->save(path, &err) == LC_OK, "%s: %s", k->file, err.msg);
    ck_assert_msg(k->load(path, &err) == LC_OK, "%s: a valid file is refused: %s", k->file, err.msg);
    const char *corpus = getenv("LUCID_FUZZ_CORPUS");
    if (corpus && *corpus) {
        char cmd[1400];
        snprintf(cmd, sizeof cmd, "cp '%s' '%s/%s'", path, corpus, k->file);
        ck_assert_int_eq(system(cmd), 0);
    }
}

// ---------------------------------------------------------------- tests

START_TEST(test_kind_refuses_changes) {
    const kind *k = &KINDS[_i];
    char path[512];
    write_valid(k, path, sizeof path);
    tamper t;

    memset(&t, 0, sizeof t);
    t.extra = k->extra;
    expect_refused(k, path, &t, k->extra);

    memset(&t, 0, sizeof t);
    t.drop = k->missing;
    expect_refused(k, path, &t, k->missing);

    memset(&t, 0, sizeof t);
    t.reshape = k->reshape;
    expect_refused(k, path, &t, k->reshape);

    memset(&t, 0, sizeof t);
    t.meta_key = k->meta_key;
    t.meta_str = "64";
    expect_refused(k, path, &t, k->meta_key);

    memset(&t, 0, sizeof t); // an untouched copy still loads (the tampering is the cause)
    char dst[600];
    path_in(dst, sizeof dst, "copy.lucid");
    tamper_copy(path, dst, &t);
    lc_error err = {0};
    ck_assert_msg(k->load(dst, &err) == LC_OK, "%s: an untouched copy is refused: %s", k->file,
                  err.msg);
}
END_TEST

// The case: meta hidden = "64" over the tensors of a (64, 64) trunk.
START_TEST(test_policy_hidden_meta_disagrees) {
    char path[512];
    write_valid(&KINDS[0], path, sizeof path);
    tamper t = {0};
    t.meta_key = "policy.hidden";
    t.meta_str = "64";
    expect_refused(&KINDS[0], path, &t, "not used by a policy");
    t.meta_str = "64,64,64"; // a trunk wider than the tensors: a missing tensor
    expect_refused(&KINDS[0], path, &t, "no tensor");
    t.meta_str = "32,64"; // shapes that disagree
    expect_refused(&KINDS[0], path, &t, "shape");
}
END_TEST

// obs_norm.on = 0 while the statistics are stored: the file's meaning is unclear.
START_TEST(test_policy_obs_norm_off_with_stats) {
    char path[512];
    write_valid(&KINDS[0], path, sizeof path);
    tamper t = {0};
    t.int_key = "obs_norm.on";
    t.int_val = 0;
    expect_refused(&KINDS[0], path, &t, "obs_norm.");
    t.int_val = 2;
    expect_refused(&KINDS[0], path, &t, "obs_norm.on");
    memset(&t, 0, sizeof t);
    t.int_key = "policy.env"; // an optional string given as another type
    t.int_val = 7;
    expect_refused(&KINDS[0], path, &t, "policy.env");
}
END_TEST

// A trainer checkpoint is a policy file: lc_policy_load accepts it (eval), checking
// the optimizer state it does not use; an extra tensor is refused there too.
START_TEST(test_trainer_checkpoint_as_policy) {
    char path[512];
    write_valid(&KINDS[1], path, sizeof path);
    lc_error err = {0};
    ck_assert_msg(load_policy(path, &err) == LC_OK, "%s", err.msg);
    tamper t = {0};
    t.extra = "policy.trunk.pi.w9";
    expect_refused(&KINDS[0], path, &t, "policy.trunk.pi.w9");
    memset(&t, 0, sizeof t);
    t.extra = "unrelated";
    expect_refused(&KINDS[0], path, &t, "unrelated");
    // A moment of the wrong shape: refused even though eval would not use it.
    lc_file *f = NULL;
    ck_assert_int_eq(lc_file_read(path, &f, &err), LC_OK);
    const char *mname = NULL;
    for (int i = 0; i < lc_file_ntensors(f) && !mname; i++) {
        const char *n = lc_file_tensor_at(f, i)->name;
        size_t l = strlen(n);
        if (l > 2 && strcmp(n + l - 2, ".m") == 0) mname = n;
    }
    ck_assert_ptr_nonnull(mname);
    memset(&t, 0, sizeof t);
    t.reshape = mname;
    expect_refused(&KINDS[0], path, &t, mname);
    lc_file_free(f);
}
END_TEST

// The genie kind's meta: each value of its type and range, optional ones included; a
// side of 0 (which would divide by zero) and sizes the model cannot have are refused.
START_TEST(test_genie_meta_ranges) {
    const kind *k = NULL;
    for (int i = 0; i < NKINDS; i++)
        if (KINDS[i].load == load_genie) k = &KINDS[i];
    ck_assert_ptr_nonnull(k);
    char path[512];
    write_valid(k, path, sizeof path);
    static const struct {
        const char *key;
        int64_t v;
        const char *what;
    } ints[] = {
        {"cfg.res", 0, "res"},           {"cfg.res", 6, "res"},
        {"cfg.n_codes", 1, "n_codes"},   {"cfg.enc_pool", 2, "cfg.enc_pool"},
        {"cfg.dyn_unroll", 65, "cfg.dyn_unroll"}, {"train.frames", -1, "train.frames"},
        {"channels", 2, "channels"},     {"game_h", 60, "game frames"},
        // 8192 channels: refused from the tensors' shapes before any allocation (2.4 GB)
        {"cfg.dyn_hidden", 8192, "dyn.dyn.wc"},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        tamper t = {0};
        t.int_key = ints[i].key;
        t.int_val = ints[i].v;
        expect_refused(k, path, &t, ints[i].what);
    }
    static const char *const strs[] = {"train.lam_s", "cfg.start_anywhere", "cfg.rare_code",
                                       "dream.halt_disagree", "cfg.seed", "cfg.lr"};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        tamper t = {0};
        t.meta_key = strs[i];
        t.meta_str = "1";
        expect_refused(k, path, &t, strs[i]);
    }
    tamper t = {0};
    t.int_key = "env";
    t.int_val = 3;
    expect_refused(k, path, &t, "env");
}
END_TEST

// The token world loads, and is no pixel genie (its strictness is tested in test_tokens);
// with LUCID_FUZZ_CORPUS its file is the fuzz seed of the genie_tokens kind.
START_TEST(test_token_world_seed) {
    static const kind tokens = {"genie_tokens.lucid", save_token_world, load_token_world,
                                NULL, NULL, NULL, NULL};
    char path[512];
    write_valid(&tokens, path, sizeof path);
    lc_genie *g = NULL;
    lc_error err = {0};
    ck_assert_int_eq(lc_genie_load(&g, path, &err), LC_ERR_FORMAT);
    ck_assert_ptr_null(g);
    ck_assert_msg(strstr(err.msg, "genie_tokens") != NULL, "%s", err.msg);
}
END_TEST

// ---------------------------------------------------------------- write faults

static int count_tmp(void) {
    DIR *d = opendir(tmpdir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) n++;
    closedir(d);
    return n;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

// For each kind and each fault: the save fails with LC_ERR_IO naming the file and the
// system's reason; the previous file is the same inode with the same bytes and loads.
START_TEST(test_save_faults_keep_previous) {
    const kind *k = &KINDS[_i];
    char path[512];
    write_valid(k, path, sizeof path);
    size_t n0;
    char *before = slurp(path, &n0);
    struct stat st0;
    ck_assert_int_eq(stat(path, &st0), 0);
    static const struct {
        lc_file_fault where;
        int e;
        size_t after;
        const char *why;
    } faults[] = {
        {LC_FAULT_CREATE, EROFS, 0, "Read-only file system"},
        {LC_FAULT_CREATE, EACCES, 0, "Permission denied"},
        {LC_FAULT_WRITE, ENOSPC, 0, "No space left on device"},
        {LC_FAULT_WRITE, ENOSPC, 100, "No space left on device"},
        {LC_FAULT_WRITE, EDQUOT, 5000, "quota"},
        {LC_FAULT_FSYNC, EIO, 0, "Input/output error"},
        {LC_FAULT_RENAME, EROFS, 0, "Read-only file system"},
    };
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        lc_file_inject_fault(faults[i].where, faults[i].e, faults[i].after);
        lc_error err = {0};
        int rc = k->save(path, &err);
        lc_file_inject_fault(LC_FAULT_NONE, 0, 0);
        // A fault past the end of a small file never fires: the save then succeeds.
        if (rc == LC_OK) {
            ck_assert_msg(faults[i].where == LC_FAULT_WRITE && faults[i].after >= n0,
                          "%s: fault %zu did not fail the save", k->file, i);
            free(before);
            before = slurp(path, &n0);
            ck_assert_int_eq(stat(path, &st0), 0);
            continue;
        }
        ck_assert_msg(rc == LC_ERR_IO, "%s: fault %zu gave %s: %s", k->file, i,
                      lc_status_str(rc), err.msg);
        ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, faults[i].why),
                      "%s: unclear error: %s", k->file, err.msg);
        struct stat st1;
        ck_assert_int_eq(stat(path, &st1), 0);
        ck_assert_msg(st1.st_ino == st0.st_ino, "%s: the previous file was replaced", k->file);
        size_t n1;
        char *after = slurp(path, &n1);
        ck_assert_msg(n1 == n0 && memcmp(before, after, n0) == 0, "%s: the previous file changed",
                      k->file);
        free(after);
        ck_assert_msg(k->load(path, &err) == LC_OK, "%s: %s", k->file, err.msg);
        ck_assert_int_eq(count_tmp(), 0);
    }
    free(before);
}
END_TEST

// A fault set and cleared never leaks into the next write.
START_TEST(test_fault_is_used_once) {
    lc_file *f = lc_file_new("t");
    lc_error err = {0};
    char path[512];
    path_in(path, sizeof path, "once.lucid");
    lc_file_inject_fault(LC_FAULT_CREATE, EROFS, 0);
    ck_assert_int_eq(lc_file_write(f, path, &err), LC_ERR_IO);
    ck_assert_int_eq(lc_file_write(f, path, &err), LC_OK);
    lc_file_inject_fault(LC_FAULT_RENAME, EXDEV, 0);
    lc_file_inject_fault(LC_FAULT_NONE, 0, 0);
    ck_assert_int_eq(lc_file_write(f, path, &err), LC_OK);
    ck_assert_int_eq(count_tmp(), 0);
    lc_file_free(f);
}
END_TEST

static Suite *strict_suite(void) {
    Suite *s = suite_create("strict");
    TCase *tc = tcase_create("loaders");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_kind_refuses_changes, 0, NKINDS);
    tcase_add_test(tc, test_policy_hidden_meta_disagrees);
    tcase_add_test(tc, test_policy_obs_norm_off_with_stats);
    tcase_add_test(tc, test_trainer_checkpoint_as_policy);
    tcase_add_test(tc, test_genie_meta_ranges);
    tcase_add_test(tc, test_token_world_seed);
    suite_add_tcase(s, tc);

    tc = tcase_create("faults");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_set_timeout(tc, 120);
    // The actions kind is left out: its save writes the frames first (the frames kind).
    tcase_add_loop_test(tc, test_save_faults_keep_previous, 0, NKINDS - 1);
    tcase_add_test(tc, test_fault_is_used_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(strict_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}

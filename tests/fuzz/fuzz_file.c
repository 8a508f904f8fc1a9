// tests/fuzz/fuzz_file.c: libFuzzer target for the file reader over every kind: the
// bytes as a container (lc_file_decode), then, with the body length and CRC patched so
// mutations reach the msgpack and the loaders, each loader's from-memory path (policy,
// policy with optimizer state, PPO trainer resume, ensemble world model, dataset,
// frames, frame actions, pixel genie, token genie, frame effects). Anything is loaded or refused; nothing crashes, leaks or
// over-reads. Built by `make fuzz` / `make fuzz-long`; seeds in tests/fuzz/corpus_file/.
// Leaves out: PPO resume of an env other than CartPole-v1 (a fuzzed env name could name
// a remote: endpoint or a dream: file).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "env/env.h"
#include "policy/policy.h"
#include "policy/ppo.h"
#include "worldmodel/frame_effects.h"
#include "worldmodel/frames.h"
#include "worldmodel/genie.h"
#include "worldmodel/genie_tokens.h"
#include "worldmodel/worldmodel.h"

static lc_file *frames_ref; // valid frames the fuzzed actions are checked against
static char resume_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    snprintf(resume_path, sizeof resume_path, "/dev/shm/lucid_fuzz_file.%ld", (long)getpid());
    lc_env_opts o = lc_env_opts_default();
    o.num_threads = 1;
    lc_env *env = NULL;
    lc_frames fr;
    lc_error err = {0};
    if (lc_env_make(&env, "Catch-v0", &o, &err) == LC_OK &&
        lc_frames_collect(&fr, env, 40, 8, 2, &err) == LC_OK) {
        char path[80];
        snprintf(path, sizeof path, "%s.frames", resume_path);
        if (lc_frames_save(&fr, path, NULL, &err) == LC_OK) lc_file_read(path, &frames_ref, &err);
        unlink(path);
        lc_frames_free(&fr);
    }
    lc_env_free(env);
    return 0;
}

// A fresh decode for each loader, so one loader's claims never hide another's leftovers.
static lc_file *decode(const uint8_t *buf, size_t len) {
    lc_file *f = NULL;
    lc_error err = {0};
    if (lc_file_decode(buf, len, &f, &err) != LC_OK) return NULL;
    return f;
}

// The bytes into resume_path, for the loaders that read only from a path.
static int to_path(const uint8_t *buf, size_t len) {
    FILE *fp = fopen(resume_path, "wb");
    if (!fp) return 0;
    size_t w = fwrite(buf, 1, len, fp);
    fclose(fp);
    return w == len;
}

// Resumes a trainer only when it is small and on CartPole (see the header).
static void try_resume(const uint8_t *buf, size_t len, const lc_file *f) {
    const char *env;
    int64_t ne, ns;
    if (lc_file_get_str(f, "env.name", &env, NULL) || strcmp(env, "CartPole-v1") != 0 ||
        lc_file_get_int(f, "ppo.num_envs", &ne, NULL) || ne > 8 ||
        lc_file_get_int(f, "ppo.num_steps", &ns, NULL) || ns > 64)
        return;
    if (!to_path(buf, len)) return;
    lc_ppo *t = NULL;
    lc_error err = {0};
    lc_ppo_resume(&t, resume_path, 0, &err);
    lc_ppo_free(t);
}

static void loaders(const uint8_t *buf, size_t len) {
    lc_error err = {0};
    lc_file *f;
    for (int with_opt = 0; with_opt < 2; with_opt++)
        if ((f = decode(buf, len))) {
            lc_policy *p = NULL;
            if (lc_policy_from_file(&p, f, with_opt, &err) == LC_OK)
                lc_file_check_claimed(f, "policy", NULL, &err);
            lc_policy_free(p);
            if (with_opt && strcmp(lc_file_kind(f), "policy") == 0) try_resume(buf, len, f);
            lc_file_free(f);
        }
    if ((f = decode(buf, len))) {
        lc_ensemble *m = NULL;
        lc_ensemble_from_file(&m, f, &err);
        lc_ensemble_free(m);
        lc_file_free(f);
    }
    if ((f = decode(buf, len))) {
        lc_dataset ds;
        if (lc_dataset_from_file(&ds, f, &err) == LC_OK) lc_dataset_free(&ds);
        lc_file_free(f);
    }
    if ((f = decode(buf, len))) {
        lc_frames fr;
        if (lc_frames_from_file(&fr, f, NULL, &err) == LC_OK) lc_frames_free(&fr);
        if (frames_ref && lc_frames_from_file(&fr, frames_ref, f, &err) == LC_OK)
            lc_frames_free(&fr);
        lc_file_free(f);
    }
    if ((f = decode(buf, len))) {
        lc_genie *g = NULL;
        lc_genie_from_file(&g, f, &err);
        lc_genie_free(g);
        lc_file_free(f);
    }
    if ((f = decode(buf, len))) {
        lc_gtok *t = NULL;
        lc_gtok_from_file(&t, f, &err);
        lc_gtok_free(t);
        lc_file_free(f);
    }
    if ((f = decode(buf, len))) {
        lc_frame_effects fx = {0};
        if (lc_frame_effects_from_file(&fx, f, NULL, &err) == LC_OK) lc_frame_effects_free(&fx);
        lc_file_free(f);
    }
}

static void put_le(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lc_file *f = decode(data, size); // the bytes exactly as given: header checks
    lc_file_free(f);
    if (size < 24) return 0;
    // The same bytes with a consistent header and checksum, to reach the body.
    uint8_t *buf = malloc(size);
    if (!buf) return 0;
    memcpy(buf, data, size);
    static const uint8_t magic[8] = {0x89, 'L', 'U', 'C', 'I', 'D', '\r', '\n'};
    memcpy(buf, magic, 8);
    put_le(buf + 8, LC_FILE_VERSION, 4);
    put_le(buf + 12, size - 24, 8);
    put_le(buf + size - 4, lc_crc32(buf + 20, size - 24), 4);
    loaders(buf, size);
    free(buf);
    return 0;
}

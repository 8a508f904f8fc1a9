// tests/drv_minatar.c: steps a MinAtar env of lucid for tests/python/test_minatar_ref.py.
// drv_minatar NAME SEED NUM_ENVS [PARAMS] reads int32 T, then T * NUM_ENVS int32 actions from
// stdin, and writes the reset observations, then per step and env: the observation that
// ended the step (final_obs where the episode ended), the next one, the reward (float32)
// and terminated (uint8); observations as numpy.packbits of their 0/1 bytes.
// Leaves out: truncation (MinAtar has no time limit), rendering.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env/env.h"

static void put_bits(const uint8_t *obs, int n, FILE *out) {
    for (int k = 0; k < n; k += 8) {
        uint8_t b = 0;
        for (int j = 0; j < 8; j++) b |= (uint8_t)((k + j < n && obs[k + j]) << (7 - j));
        fputc(b, out);
    }
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: drv_minatar NAME SEED NUM_ENVS [PARAMS] < actions\n");
        return 2;
    }
    lc_error err = {0};
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = atoi(argv[3]);
    o.num_threads = 1;
    o.params = argc > 4 ? argv[4] : NULL;
    lc_env *e;
    if (lc_env_make(&e, argv[1], &o, &err) || lc_env_reset(e, strtoull(argv[2], NULL, 10), &err)) {
        fprintf(stderr, "drv_minatar: %s\n", err.msg);
        return 1;
    }
    const lc_env_spec *sp = lc_env_get_spec(e);
    const lc_env_buf *b = lc_env_get_buf(e);
    int K = sp->num_envs, n = sp->obs_size;
    int32_t T;
    if (fread(&T, sizeof T, 1, stdin) != 1 || T < 0) return 1;
    int32_t *act = malloc((size_t)T * K * sizeof *act);
    if (!act || fread(act, sizeof *act, (size_t)T * K, stdin) != (size_t)T * K) return 1;
    for (int i = 0; i < K; i++) put_bits((const uint8_t *)b->obs + (size_t)i * n, n, stdout);
    for (int32_t t = 0; t < T; t++) {
        if (lc_env_step(e, act + (size_t)t * K, &err)) {
            fprintf(stderr, "drv_minatar: step %d: %s\n", t, err.msg);
            return 1;
        }
        for (int i = 0; i < K; i++) {
            const uint8_t *fin = (const uint8_t *)(b->done[i] ? b->final_obs : b->obs) + (size_t)i * n;
            put_bits(fin, n, stdout);
            put_bits((const uint8_t *)b->obs + (size_t)i * n, n, stdout);
            fwrite(&b->rewards[i], sizeof(float), 1, stdout);
            fputc(b->terminated[i], stdout);
        }
    }
    free(act);
    lc_env_free(e);
    return fflush(stdout) ? 1 : 0;
}

// examples/random_agent.c: the env API in thirty lines: make a vector of envs by
// name, reset with a seed, step random actions, read finished episodes' stats.
// Leaves out: policies (see train_cartpole.c). Usage: random_agent [ENV] [NUM_ENVS]
#include <stdio.h>
#include <stdlib.h>

#include "lucid.h"

int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "CartPole-v1";
    lc_env_opts opts = lc_env_opts_default();
    opts.num_envs = argc > 2 ? atoi(argv[2]) : 8;
    lc_error err = {0};
    lc_env *env = NULL;
    if (lc_env_make(&env, name, &opts, &err)) {
        fprintf(stderr, "random_agent: %s\n", err.msg);
        return 1;
    }
    const lc_env_spec *spec = lc_env_get_spec(env);
    const lc_env_buf *buf = lc_env_get_buf(env);
    char obs_desc[128], act_desc[128];
    lc_space_describe(&spec->obs_space, obs_desc, sizeof obs_desc);
    lc_space_describe(&spec->act_space, act_desc, sizeof act_desc);
    printf("%s x%d  obs %s  actions %s\n", spec->name, spec->num_envs, obs_desc, act_desc);

    // Actions are int32 rows for discrete spaces and float rows for boxes.
    size_t n = (size_t)spec->num_envs * (size_t)spec->act_size;
    int32_t *ia = calloc(n, sizeof *ia);
    float *fa = calloc(n, sizeof *fa);
    lc_rng rng;
    lc_rng_seed(&rng, 42, 0);
    int episodes = 0, rc = lc_env_reset(env, 42, &err);
    double total = 0;
    for (int t = 0; rc == LC_OK && episodes < 20; t++) {
        for (size_t k = 0; k < n; k++) {
            int i = (int)(k % (size_t)spec->act_size);
            if (spec->act_space.kind == LC_SPACE_BOX)
                fa[k] = (float)lc_rng_uniform(&rng, lc_space_low(&spec->act_space, i),
                                              lc_space_high(&spec->act_space, i));
            else if (spec->act_space.kind == LC_SPACE_DISCRETE)
                ia[k] = (int32_t)lc_rng_below(&rng, (uint32_t)spec->act_space.n);
            else
                ia[k] = (int32_t)lc_rng_below(&rng, (uint32_t)spec->act_space.nvec[i]);
        }
        rc = lc_env_step(env, spec->act_space.kind == LC_SPACE_BOX ? (void *)fa : (void *)ia, &err);
        for (int i = 0; rc == LC_OK && i < spec->num_envs; i++) {
            if (!buf->done[i]) continue;
            episodes++;
            total += buf->ep_return[i];
            printf("env %d: episode return %.1f, length %d (%s)\n", i, buf->ep_return[i],
                   buf->ep_length[i], buf->terminated[i] ? "terminated" : "truncated");
        }
    }
    if (rc) fprintf(stderr, "random_agent: %s\n", err.msg);
    else printf("mean return over %d episodes: %.2f\n", episodes, total / episodes);
    free(ia);
    free(fa);
    lc_env_free(env);
    return rc ? 1 : 0;
}

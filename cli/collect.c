// cli/collect.c: `lucid collect`: records trajectories of an env into a dataset file,
// with a random policy or a trained policy file; --append adds to an existing dataset.
// Frame datasets of pixel games (--frames-only, random or expert play) are recorded by
// cli/collect_frames.c's cmd_collect_frames. Leaves out: video files.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/mb.h"
#include "core/progress.h"
#include "env/env.h"
#include "worldmodel/worldmodel.h"

// cli/collect_frames.c (weak: a build without it says so).
int cmd_collect_frames(int argc, char **argv) __attribute__((weak));

int cmd_collect(int argc, char **argv) {
    const char *env_name = NULL, *policy = "random", *out = NULL, *resize = NULL;
    int64_t steps = 0, seed = 1;
    int num_envs = 1, append = 0, frames_only = 0, quiet = 0;
    cli_opt opts[] = {
        {"env", CLI_STR, &env_name, "env name (lucid envs lists them)"},
        {"steps", CLI_I64, &steps, "transitions to record (over all envs)"},
        {"policy", CLI_STR, &policy, "random, or a policy file from lucid train"},
        {"num-envs", CLI_INT, &num_envs, "envs stepped together"},
        {"seed", CLI_I64, &seed, "seed of the envs and of random actions"},
        {"out", CLI_STR, &out, "dataset file to write"},
        {"append", CLI_FLAG, &append, "add to the dataset in --out if it exists"},
        {"frames-only", CLI_FLAG, &frames_only, "record frames without actions (Genie datasets)"},
        {"quiet", CLI_FLAG, &quiet, "print nothing but errors"},
        CLI_RESIZE_OPT(&resize),
    };
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts),
                       "usage: lucid collect --env ENV --steps N --out FILE [--policy random|FILE] "
                       "[--num-envs K] [--seed S] [--append]",
                       NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    if (frames_only) {
        if (cmd_collect_frames) return cmd_collect_frames(argc, argv);
        fprintf(stderr, "lucid collect: --frames-only (frame datasets) is not part of this build\n");
        return 2;
    }
    if (!env_name || !out || steps < 1) {
        fprintf(stderr, "lucid collect: --env, --steps (>= 1) and --out are required (see --help)\n");
        return 2;
    }
    if (num_envs < 1) {
        fprintf(stderr, "lucid collect: --num-envs must be >= 1\n");
        return 2;
    }
    lc_env_opts eo = lc_env_opts_default();
    eo.num_envs = num_envs;
    if (cli_env_resize(&eo, "collect", resize)) return 2;
    lc_env *env = NULL;
    if (cli_make_env_opts(&env, "collect", env_name, &eo)) return 1;
    lc_error err = {0};
    cli_mb_actor *actor = NULL;
    lc_dataset ds, old;
    int have_ds = 0, have_old = 0, status = 1;
    if (strcmp(policy, "random") != 0 &&
        cli_mb_actor_load(&actor, policy, env, (uint64_t)seed, &err) != LC_OK) {
        fprintf(stderr, "lucid collect: %s\n", err.msg);
        goto done;
    }
    if (lc_dataset_init_for_env(&ds, env, &err) != LC_OK) {
        fprintf(stderr, "lucid collect: %s\n", err.msg);
        goto done;
    }
    have_ds = 1;
    if (append && access(out, F_OK) == 0) {
        if (lc_dataset_load(&old, out, &err) != LC_OK) {
            fprintf(stderr, "lucid collect: --append: %s\n", err.msg);
            goto done;
        }
        have_old = 1;
        lc_dataset probe = old;
        probe.n = 0;
        if (lc_dataset_merge(&probe, &ds, &err) != LC_OK) { // checks env and spaces only
            fprintf(stderr, "lucid collect: --append to %s: %s\n", out, err.msg);
            goto done;
        }
    }
    double ret_sum = 0, t0 = lc_now();
    int64_t eps = 0;
    if (lc_dataset_collect(&ds, env, steps, actor ? cli_mb_actor_act : NULL, actor, (uint64_t)seed,
                           &ret_sum, &eps, &err) != LC_OK) {
        fprintf(stderr, "lucid collect: %s\n", err.msg);
        goto done;
    }
    double secs = lc_now() - t0;
    size_t new_rows = ds.n;
    lc_dataset *dst = &ds;
    if (have_old) {
        if (lc_dataset_merge(&old, &ds, &err) != LC_OK) {
            fprintf(stderr, "lucid collect: %s\n", err.msg);
            goto done;
        }
        dst = &old;
    }
    if (lc_dataset_save(dst, out, &err) != LC_OK) {
        fprintf(stderr, "lucid collect: %s\n", err.msg);
        goto done;
    }
    if (!quiet) {
        printf("recorded %zu steps of %s (%s policy, %d env%s, %.1f s): %lld episodes ended",
               new_rows, env_name, actor ? policy : "random", num_envs, num_envs == 1 ? "" : "s", secs,
               (long long)eps);
        if (eps) printf(", mean return %.2f", ret_sum / (double)eps);
        printf("\nwrote %s: %zu rows, %zu episodes%s\n", out, dst->n, lc_dataset_episodes(dst),
               have_old ? " (appended)" : "");
    }
    status = 0;
done:
    if (have_ds) lc_dataset_free(&ds);
    if (have_old) lc_dataset_free(&old);
    cli_mb_actor_free(actor);
    lc_env_free(env);
    return status;
}

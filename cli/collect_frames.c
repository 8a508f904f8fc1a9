// cli/collect_frames.c: `lucid collect --frames-only`: a pixel game's play recorded as
// frames without actions (a video), the true actions in a separate file used only for
// evaluation, labels and oracles; random play, or an expert's with --policy FILE.
// Leaves out: video files (FFmpeg), downsampling on the way in.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/progress.h"
#include "env/env.h"
#include "policy/policy.h"
#include "worldmodel/frames.h"

void cli_frames_side_path(char *dst, size_t n, const char *frames_path, const char *kind) {
    size_t len = strlen(frames_path);
    if (len > 6 && strcmp(frames_path + len - 6, ".lucid") == 0)
        snprintf(dst, n, "%.*s.%s.lucid", (int)(len - 6), frames_path, kind);
    else
        snprintf(dst, n, "%s.%s", frames_path, kind);
}

void cli_frames_actions_path(char *dst, size_t n, const char *frames_path) {
    cli_frames_side_path(dst, n, frames_path, "actions");
}

// Loads an expert policy for env; 0, or 1 after printing why it does not fit.
static int load_expert(lc_policy **p, const char *path, const lc_env *env) {
    lc_error err = {0};
    if (lc_policy_load(p, path, &err) != LC_OK) {
        fprintf(stderr, "lucid collect: --policy: %s\n", err.msg);
        return 1;
    }
    const lc_env_spec *sp = lc_env_get_spec(env);
    const lc_space *os = lc_policy_obs_space(*p), *as = lc_policy_act_space(*p);
    const char *why = NULL;
    if (os->kind != LC_SPACE_BOX || os->dtype != LC_U8 || os->ndim != 3 ||
        lc_policy_obs_size(*p) != sp->obs_size)
        why = "it does not observe this env's frames";
    else if (as->kind != LC_SPACE_DISCRETE || as->n != sp->act_space.n)
        why = "its actions are not this env's";
    else if (lc_policy_has_obs_norm(*p))
        why = "it normalises observations (pixel policies do not)";
    if (why) {
        fprintf(stderr, "lucid collect: --policy %s (trained on %s) cannot play %s: %s\n", path,
                lc_policy_env_name(*p)[0] ? lc_policy_env_name(*p) : "an unknown env", sp->name,
                why);
        lc_policy_free(*p);
        *p = NULL;
        return 1;
    }
    return 0;
}

int cmd_collect_frames(int argc, char **argv) {
    const char *env_name = NULL, *policy = "random", *out = NULL, *resize = NULL;
    int64_t steps = 0, seed = 1;
    int num_envs = 1, append = 0, frames_only = 0, quiet = 0;
    cli_opt opts[] = {
        {"env", CLI_STR, &env_name, "pixel env name (Catch-v0, Breakout-v0, CoinRun-v0)"},
        {"steps", CLI_I64, &steps, "env steps to record (over all envs)"},
        {"policy", CLI_STR, &policy, "random, or a policy file (an expert: a video of good play)"},
        {"num-envs", CLI_INT, &num_envs, "envs stepped together"},
        {"seed", CLI_I64, &seed, "seed of the envs and of the actions"},
        {"out", CLI_STR, &out, "frames file to write (actions go to OUT.actions.lucid)"},
        {"append", CLI_FLAG, &append, "not supported for frames"},
        {"frames-only", CLI_FLAG, &frames_only, "record frames without actions"},
        {"quiet", CLI_FLAG, &quiet, "print nothing but errors"},
        CLI_RESIZE_OPT(&resize),
    };
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts),
                       "usage: lucid collect --frames-only --env PIXELENV --steps N --out FILE "
                       "[--policy random|EXPERT.lucid] [--resize HxW]",
                       NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    if (!env_name || !out || steps < 1 || num_envs < 1) {
        fprintf(stderr, "lucid collect --frames-only: --env, --steps (>= 1), --out are required\n");
        return 2;
    }
    if (append) {
        fprintf(stderr, "lucid collect --frames-only: --append is not supported for frames\n");
        return 2;
    }
    lc_env_opts eo = lc_env_opts_default();
    eo.num_envs = num_envs;
    if (cli_env_resize(&eo, "collect", resize)) return 2;
    lc_env *env = NULL;
    if (cli_make_env_opts(&env, "collect", env_name, &eo)) return 1;
    lc_policy *pol = NULL;
    int random = strcmp(policy, "random") == 0;
    if (!random && load_expert(&pol, policy, env)) {
        lc_env_free(env);
        return 1;
    }
    lc_policy_sampler ps = {.p = pol};
    lc_rng_seed(&ps.rng, (uint64_t)seed, 0xe6e7);
    lc_error err = {0};
    lc_frames fr;
    char apath[4096];
    cli_frames_actions_path(apath, sizeof apath, out);
    double t0 = lc_now();
    int status = 1;
    if (lc_frames_record(&fr, env, steps, 0, random ? NULL : lc_policy_sample_cb, &ps,
                         (uint64_t)seed, &err) != LC_OK) {
        fprintf(stderr, "lucid collect: %s\n", err.msg);
        lc_policy_free(pol);
        lc_env_free(env);
        return 1;
    }
    double secs = lc_now() - t0, ret = 0, ep = 0; // returns of the episodes that ended
    size_t ended = 0;
    for (size_t r = 0; r < fr.n; r++) {
        ep = fr.starts[r] ? 0.0 : ep + fr.rewards[r];
        if (fr.terminated[r] || fr.truncated[r]) ret += ep, ended++;
    }
    if (lc_frames_save(&fr, out, apath, &err) != LC_OK) {
        fprintf(stderr, "lucid collect: %s\n", err.msg);
    } else {
        status = 0;
        if (!quiet)
            printf("recorded %lld steps of %s (%s actions, %.1f s): %zu frames (%dx%dx%d), "
                   "%zu episodes, %zu ended, mean return of those %.3f\nwrote %s (frames, "
                   "rewards, ends; no actions) and %s (true actions, for evaluation only)\n",
                   (long long)steps, env_name, random ? "random" : policy, secs, fr.n, fr.H,
                   fr.W, fr.C, lc_frames_episodes(&fr), ended, ended ? ret / (double)ended : 0.0,
                   out, apath);
    }
    lc_frames_free(&fr);
    lc_policy_free(pol);
    lc_env_free(env);
    return status;
}

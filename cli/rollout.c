// cli/rollout.c: `lucid rollout ENV --policy random`: runs episodes, prints each one's
// return and length, and can draw them into an animated GIF (the final frame of every
// episode included). Leaves out: policy files until a cli file defines the hook below.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "loops/init.h"
#include "core/image.h"
#include "env/env.h"
#include "worldmodel/worldmodel.h"

#define MAX_GIF_FRAMES 5000

// The hook for `--policy FILE`: another cli file (the PPO helper's) defines these three
// functions and rollout uses them for any --policy other than "random". open loads FILE
// for an env with this spec (num_envs 1) and a seed for any sampling; act writes one
// action row (int32 or float, act_size values) for one observation row.
int cli_policy_open(const char *path, const lc_env_spec *spec, uint64_t seed, void **ctx, lc_error *err)
    __attribute__((weak));
int cli_policy_act(void *ctx, const void *obs, void *action, lc_error *err) __attribute__((weak));
void cli_policy_close(void *ctx) __attribute__((weak));

static void random_action(const lc_space *s, lc_rng *rng, void *row) {
    int n = lc_space_size(s);
    for (int j = 0; j < n; j++) {
        if (s->kind == LC_SPACE_DISCRETE) ((int32_t *)row)[j] = (int32_t)lc_rng_below(rng, (uint32_t)s->n);
        else if (s->kind == LC_SPACE_MULTI_DISCRETE) ((int32_t *)row)[j] = (int32_t)lc_rng_below(rng, (uint32_t)s->nvec[j]);
        else {
            double lo = lc_space_low(s, j), hi = lc_space_high(s, j);
            ((float *)row)[j] = isfinite(lo) && isfinite(hi) ? (float)lc_rng_uniform(rng, lo, hi) : (float)lc_rng_normal(rng);
        }
    }
}

typedef struct recorder {
    lc_gif *gif;
    uint8_t *frame;
    int frames;
} recorder;

static int record(recorder *r, lc_env *e, lc_error *err) {
    if (!r->gif || r->frames >= MAX_GIF_FRAMES) return LC_OK;
    int rc = lc_env_render(e, 0, r->frame, err);
    if (!rc) rc = lc_gif_frame(r->gif, r->frame, err);
    if (!rc && ++r->frames == MAX_GIF_FRAMES) fprintf(stderr, "rollout: the GIF stops at %d frames\n", MAX_GIF_FRAMES);
    return rc;
}

int cmd_rollout(int argc, char **argv) {
    const char *policy = "random", *gif = NULL, *params = NULL;
    int64_t seed = 0;
    int episodes = 1, fps = 30, max_steps = 100000;
    cli_opt opts[] = {
        {"policy", CLI_STR, &policy, "'random' (or a policy file, where this build supports it)"},
        {"seed", CLI_I64, &seed, "seed of the env and of the random policy"},
        {"episodes", CLI_INT, &episodes, "episodes to run"},
        {"gif", CLI_STR, &gif, "animated GIF to write"},
        {"fps", CLI_INT, &fps, "frames per second of the GIF"},
        {"params", CLI_STR, &params, "env options key=value,... (dream: temperature=...)"},
        {"max-steps", CLI_INT, &max_steps, "stop an episode after this many steps"},
    };
    const char *usage = "usage: lucid rollout ENV --policy random [--seed N] [--episodes 1] [--gif out.gif]";
    const char *pos[1];
    int npos = 0;
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts), usage, pos, 1, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (npos != 1) {
        fprintf(stderr, "%s\n", usage);
        return 2;
    }
    if (episodes < 1 || episodes > 1000000 || fps < 1 || fps > 100 || max_steps < 1) {
        fprintf(stderr, "rollout: --episodes >= 1, --fps in [1, 100] and --max-steps >= 1, please\n");
        return 2;
    }
    int use_random = strcmp(policy, "random") == 0;
    if (!use_random && !(cli_policy_open && cli_policy_act && cli_policy_close)) {
        fprintf(stderr, "rollout: --policy %s: this build only has --policy random\n", policy);
        return 2;
    }
    lc_init();
    lc_env_opts o = lc_env_opts_default();
    o.params = params;
    o.autoreset = LC_AUTORESET_DISABLED; // so the last frame of each episode is drawn
    lc_error err = {0};
    lc_env *e = NULL;
    if (lc_env_make(&e, pos[0], &o, &err)) {
        fprintf(stderr, "rollout: %s\n", err.msg);
        return err.code == LC_ERR_NOTFOUND || err.code == LC_ERR_ARG ? 2 : 1;
    }
    const lc_env_spec *sp = lc_env_get_spec(e);
    const lc_env_buf *b = lc_env_get_buf(e);
    recorder r = {0};
    void *pol = NULL;
    int status = 1;
    lc_rng rng;
    lc_rng_seed(&rng, (uint64_t)seed, 0x70111c7u);
    void *act = calloc((size_t)sp->act_size, 4);
    r.frame = malloc((size_t)sp->render_w * sp->render_h * 3);
    if (!act || !r.frame) {
        rc = lc_fail(&err, LC_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (!use_random && (rc = cli_policy_open(policy, sp, (uint64_t)seed, &pol, &err))) goto fail;
    if ((rc = lc_env_reset(e, (uint64_t)seed, &err))) goto fail;
    if (gif) {
        if ((rc = lc_gif_open(&r.gif, gif, sp->render_w, sp->render_h, (100 + fps / 2) / fps, &err))) goto fail;
        if ((rc = record(&r, e, &err))) goto fail;
    }
    double sum = 0.0;
    for (int ep = 1; ep <= episodes; ep++) {
        double ret = 0.0;
        int len = 0;
        const char *how = "stopped";
        for (;;) {
            if (use_random) random_action(&sp->act_space, &rng, act);
            else if ((rc = cli_policy_act(pol, b->obs, act, &err))) goto fail;
            if ((rc = lc_env_step(e, act, &err))) goto fail;
            ret += b->rewards[0];
            len++;
            if ((rc = record(&r, e, &err))) goto fail;
            if (b->done[0]) {
                how = b->terminated[0] ? "terminated" : "truncated";
                break;
            }
            if (len >= max_steps) break;
        }
        printf("episode %d: return %.6g, length %d (%s)\n", ep, ret, len, how);
        fflush(stdout);
        sum += ret;
        if (ep < episodes) {
            uint8_t one = 1;
            if ((rc = lc_env_reset_mask(e, &one, &err))) goto fail;
            if ((rc = record(&r, e, &err))) goto fail;
        }
    }
    if (episodes > 1) printf("mean return over %d episodes: %.6g\n", episodes, sum / episodes);
    if (r.gif) {
        lc_gif *g = r.gif;
        r.gif = NULL;
        if ((rc = lc_gif_close(g, &err))) goto fail;
        printf("wrote %s (%d frames, %dx%d)\n", gif, r.frames, sp->render_w, sp->render_h);
    }
    status = 0;
    goto done;
fail:
    fprintf(stderr, "rollout: %s\n", err.msg);
done:
    if (r.gif) {
        lc_error ignore;
        lc_gif_close(r.gif, &ignore);
    }
    if (pol) cli_policy_close(pol);
    free(act);
    free(r.frame);
    lc_env_free(e);
    return status;
}

// cli/eval.c: `lucid eval`: a saved policy's return over N episodes in an env (its
// training env by default, or any other with the same spaces, real or dream:),
// mean/std/min/max, optionally one episode recorded as a GIF. Leaves out: videos.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/image.h"
#include "core/json.h"
#include "policy/ppo.h"
#include "loops/init.h"

// Records the first episode of env copy 0 as a GIF (at most max_frames frames).
static int write_gif(const char *path, lc_policy *p, const char *env, const lc_env_opts *base,
                     uint64_t seed, int deterministic, int max_frames, int *frames, lc_error *err) {
    lc_env_opts o = *base;
    o.num_envs = 1;
    lc_policy_env_opts(p, &o);
    lc_env *e;
    int rc = lc_env_make(&e, env, &o, err);
    if (rc) return rc;
    const lc_env_spec *s = lc_env_get_spec(e);
    const lc_env_buf *b = lc_env_get_buf(e);
    int w = s->render_w, h = s->render_h;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    void *act = malloc((size_t)(s->act_size > 0 ? s->act_size : 1) * 4);
    lc_gif *g = NULL;
    lc_rng rng;
    lc_rng_seed(&rng, seed, 0x676966ULL);
    *frames = 0;
    if (!rgb || !act) rc = lc_fail(err, LC_ERR_NOMEM, "eval: out of memory");
    if (!rc) rc = lc_policy_sync_env(p, e, err);
    if (!rc) rc = lc_env_reset(e, seed, err);
    if (!rc) rc = lc_gif_open(&g, path, w, h, 3, err);
    lc_policy_reset_state(p);
    uint8_t start = 1;
    while (!rc && *frames < max_frames) {
        if ((rc = lc_env_render(e, 0, rgb, err)) || (rc = lc_gif_frame(g, rgb, err))) break;
        (*frames)++;
        if ((rc = lc_policy_act(p, b->obs, 1, &start, deterministic, &rng, act, NULL, NULL, err)) ||
            (rc = lc_env_step(e, act, err)))
            break;
        start = 0;
        if (b->done[0]) break;
    }
    if (g) {
        if (rc) lc_gif_close(g, NULL);
        else rc = lc_gif_close(g, err);
    }
    free(rgb);
    free(act);
    lc_env_free(e);
    return rc;
}

static void json_str(const char *key, const char *v) {
    printf("\"%s\": ", key);
    lc_json_fstr(stdout, v);
}

int cmd_eval(int argc, char **argv) {
    const char *env = NULL, *policy = NULL, *gif = NULL, *env_params = NULL, *resize = NULL;
    int episodes = 10, stochastic = 0, json = 0, max_steps = 0, gif_frames = 1000;
    int64_t seed = 1;
    cli_opt opts[] = {
        {"policy", CLI_STR, &policy, "policy file (from lucid train)"},
        {"env", CLI_STR, &env, "environment (default: the one the policy was trained on)"},
        {"episodes", CLI_INT, &episodes, "episodes to average over"},
        {"seed", CLI_I64, &seed, "random seed of the env resets (and sampling)"},
        {"stochastic", CLI_FLAG, &stochastic, "sample actions instead of the most likely / mean"},
        {"max-episode-steps", CLI_INT, &max_steps, "time limit override (0 = the env's)"},
        {"env-params", CLI_STR, &env_params, "backend options key=value,..."},
        CLI_RESIZE_OPT(&resize),
        {"gif", CLI_STR, &gif, "also record one episode to this GIF"},
        {"gif-frames", CLI_INT, &gif_frames, "most frames in the GIF"},
        {"json", CLI_FLAG, &json, "print the result as one line of JSON"},
    };
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts),
                       "usage: lucid eval --policy FILE [--env ENV] [--episodes N] [--seed N] "
                       "[--gif out.gif] [--json]",
                       NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    if (!policy) {
        fprintf(stderr, "lucid eval: --policy is required (see --help)\n");
        return 2;
    }
    if (episodes < 1 || gif_frames < 1) {
        fprintf(stderr, "lucid eval: --episodes and --gif-frames must be >= 1\n");
        return 2;
    }
    lc_init();
    lc_error err = {0};
    lc_policy *p;
    if (lc_policy_load(&p, policy, &err) != LC_OK) {
        fprintf(stderr, "lucid eval: %s\n", err.msg);
        return 1;
    }
    if (!env) env = lc_policy_env_name(p);
    if (!env[0]) {
        fprintf(stderr, "lucid eval: %s does not name its env: pass --env\n", policy);
        lc_policy_free(p);
        return 2;
    }
    lc_env_opts o = lc_env_opts_default();
    o.max_episode_steps = max_steps;
    o.params = env_params;
    if (cli_env_resize(&o, "eval", resize)) {
        lc_policy_free(p);
        return 2;
    }
    lc_eval_result r;
    int status = 0;
    if (lc_evaluate(p, env, &o, episodes, (uint64_t)seed, !stochastic, &r, &err) != LC_OK) {
        fprintf(stderr, "lucid eval: %s\n", err.msg);
        status = 1;
    }
    int frames = 0;
    if (!status && gif &&
        write_gif(gif, p, env, &o, (uint64_t)seed, !stochastic, gif_frames, &frames, &err) != LC_OK) {
        fprintf(stderr, "lucid eval: gif: %s\n", err.msg);
        status = 1;
    }
    if (!status) {
        if (json) {
            printf("{");
            json_str("env", env);
            printf(", ");
            json_str("policy", policy);
            printf(", \"episodes\": %d, \"mean\": %.6g, \"std\": %.6g, \"min\": %.6g, "
                   "\"max\": %.6g, \"mean_length\": %.6g, \"deterministic\": %s",
                   r.episodes, r.mean, r.std, r.min, r.max, r.mean_length,
                   stochastic ? "false" : "true");
            if (gif) {
                printf(", ");
                json_str("gif", gif);
                printf(", \"gif_frames\": %d", frames);
            }
            printf("}\n");
        } else {
            printf("%s on %s over %d episodes (%s): mean %.2f  std %.2f  min %.2f  max %.2f  "
                   "(mean length %.1f)\n",
                   policy, env, r.episodes, stochastic ? "sampled" : "deterministic", r.mean, r.std,
                   r.min, r.max, r.mean_length);
            if (gif) printf("wrote %s (%d frames)\n", gif, frames);
        }
    }
    lc_policy_free(p);
    return status;
}

// env/minatar.c: MinAtar's five games (minatar 1.0.15) as lucid envs: MinAtar/<Game>-v0
// (all 6 actions) and -v1 (the game's minimal action set), as the reference's own Gymnasium
// registration; each env owns a numpy RandomState seeded with seed + i, sticky actions drawn
// from it as minatar.Environment.act does. Leaves out: the game rules (minatar_games.c).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env/builtin.h"
#include "env/classic.h"
#include "env/minatar.h"

#define N LC_MZ_N
#define MZ_RENDER 160 // native render size: 16 pixels per cell

typedef struct mz_data {
    const lc_mz_game *game;
    int num_envs, obs_size;
    double sticky;                   // sticky_action_prob
    int n_actions;                   // 6, or the minimal set's size
    int action_set[LC_MZ_NACTIONS];  // lucid action -> the reference's action
    lc_mz_state *s;                  // (num_envs)
} mz_data;

// lc_env_reset(seed) passes the vector's seed: env i follows RandomState(seed + i).
static void mz_seed(void *data, int i, uint64_t seed) {
    mz_data *d = data;
    lc_mt_seed_u64(&d->s[i].rng, seed + (uint64_t)i);
    d->s[i].last_action = 0; // a fresh reference env (gym.make, then reset(seed=...))
}

static void mz_reset(void *data, int i, lc_rng *rng, void *obs_row) {
    (void)rng; // MinAtar follows numpy's RandomState, kept in the state
    mz_data *d = data;
    d->game->reset(&d->s[i]);
    d->game->observe(&d->s[i], obs_row);
}

static void mz_step(void *data, int i0, int i1, const void *actions, void *obs, float *rewards,
                    uint8_t *terminated, float *info, lc_rng *rngs) {
    (void)info;
    (void)rngs;
    mz_data *d = data;
    const int32_t *act = actions;
    uint8_t *o = obs;
    for (int i = i0; i < i1; i++) {
        lc_mz_state *s = &d->s[i];
        int a = d->action_set[act[i]];
        if (lc_mt_random_sample(&s->rng) < d->sticky) a = s->last_action; // Environment.act
        s->last_action = a;
        int r = s->terminal ? 0 : d->game->act(s, a);
        rewards[i] = (float)r;
        terminated[i] = (uint8_t)s->terminal;
        d->game->observe(s, o + (size_t)i * d->obs_size);
    }
}

static int mz_render(void *data, int i, uint8_t *rgb, int w, int h) {
    mz_data *d = data;
    if (w < 1 || h < 1) return 1;
    uint8_t obs[N * N * LC_MZ_MAX_C];
    d->game->observe(&d->s[i], obs);
    lc_mz_draw(obs, d->game->channels, rgb, w, h);
    return 0;
}

static void mz_destroy(void *data) {
    mz_data *d = data;
    if (!d) return;
    free(d->s);
    free(d);
}

// "MinAtar/Breakout-v1" -> the game and whether the name asks for the minimal action set.
static const lc_mz_game *mz_lookup(const char *name, int *minimal) {
    for (int g = 0; g < 5; g++) {
        char v0[64], v1[64];
        snprintf(v0, sizeof v0, "MinAtar/%s-v0", lc_mz_games[g].name);
        snprintf(v1, sizeof v1, "MinAtar/%s-v1", lc_mz_games[g].name);
        if (strcmp(name, v0) == 0 || strcmp(name, v1) == 0) {
            *minimal = strcmp(name, v1) == 0;
            return &lc_mz_games[g];
        }
    }
    return NULL;
}

static int mz_make(lc_env_impl *impl, const char *name, int num_envs, const lc_env_opts *opts, lc_error *err) {
    int minimal = 0;
    const lc_mz_game *game = mz_lookup(name, &minimal);
    if (!game) return lc_fail(err, LC_ERR_NOTFOUND, "unknown MinAtar game '%.60s'", name);
    if (num_envs < 1) return lc_fail(err, LC_ERR_ARG, "%s: num_envs must be >= 1, got %d", name, num_envs);
    static const char *const keys[] = {"sticky_action_prob", "difficulty_ramping", "minimal_action_set"};
    double vals[3] = {0.1, 1.0, minimal};
    int rc = lc_classic_params(name, opts ? opts->params : NULL, keys, vals, 3, err);
    if (rc) return rc;
    if (vals[0] < 0.0 || vals[0] > 1.0)
        return lc_fail(err, LC_ERR_ARG, "%s: sticky_action_prob=%g is not in [0, 1]", name, vals[0]);
    for (int k = 1; k < 3; k++)
        if (vals[k] != 0.0 && vals[k] != 1.0)
            return lc_fail(err, LC_ERR_ARG, "%s: %s=%g must be 0 or 1", name, keys[k], vals[k]);
    mz_data *d = calloc(1, sizeof *d);
    if (d) d->s = calloc((size_t)num_envs, sizeof *d->s);
    if (!d || !d->s) {
        mz_destroy(d);
        return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory for %d envs", name, num_envs);
    }
    d->game = game;
    d->num_envs = num_envs;
    d->obs_size = N * N * game->channels;
    d->sticky = vals[0];
    if (vals[2] != 0.0) {
        d->n_actions = game->n_minimal;
        memcpy(d->action_set, game->minimal, sizeof d->action_set);
    } else {
        d->n_actions = LC_MZ_NACTIONS;
        for (int a = 0; a < LC_MZ_NACTIONS; a++) d->action_set[a] = a;
    }
    for (int i = 0; i < num_envs; i++) {
        d->s[i].ramping = vals[1] != 0.0;
        lc_mt_seed(&d->s[i].rng, (uint32_t)i); // replaced by lc_env_reset's seed
    }
    memset(impl, 0, sizeof *impl);
    int shape[3] = {N, N, game->channels};
    impl->obs_space = lc_space_box_scalar(LC_U8, 3, shape, 0.0f, 1.0f);
    impl->act_space = lc_space_discrete(d->n_actions);
    impl->max_episode_steps = 0; // the reference registers no time limit (Freeway ends itself)
    impl->can_split = 1;
    impl->render_w = impl->render_h = MZ_RENDER;
    impl->data = d;
    impl->seed = mz_seed;
    impl->reset = mz_reset;
    impl->step = mz_step;
    impl->render = mz_render;
    impl->destroy = mz_destroy;
    return LC_OK;
}

void lc_minatar_register(void) {
    static const char *const about[5] = {
        "catch gold, dodge enemies moving in from the sides; (10,10,4) u8",
        "bounce the ball to break bricks, +1 each; (10,10,4) u8",
        "cross the road, +1 per crossing, 2500 steps; (10,10,7) u8",
        "shoot enemies, rescue divers, surface for oxygen; (10,10,10) u8",
        "shoot the aliens, +1 each; (10,10,6) u8",
    };
    for (int g = 0; g < 5; g++)
        for (int v = 0; v < 2; v++) {
            char name[64], summary[200];
            snprintf(name, sizeof name, "MinAtar/%s-v%d", lc_mz_games[g].name, v);
            snprintf(summary, sizeof summary, "MinAtar %s (minatar 1.0.15 exact): %s, %s; params "
                     "sticky_action_prob=0.1 difficulty_ramping=1 minimal_action_set=%d", lc_mz_games[g].name,
                     about[g], v ? "minimal action set" : "Discrete(6)", v);
            lc_env_register(name, mz_make, summary);
        }
}

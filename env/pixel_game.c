// env/pixel_game.c: the env impl every pixel game shares (env/pixel_game.h): states in one
// array, step = advance + draw per env, render = draw + nearest-neighbour scale.
// Leaves out: the rules and pictures of each game.
#include "env/pixel_game.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "env/pixel.h"
#include "env/pixel_draw.h"

// F = frame side (64).
#define F LC_PIX_FRAME

typedef struct pix_data {
    const lc_pix_game *game;
    int num_envs;
    unsigned char *s; // (num_envs, state_size)
} pix_data;

void *lc_pix_game_state(void *data, int i) {
    pix_data *d = data;
    assert(i >= 0 && i < d->num_envs);
    return d->s + (size_t)i * d->game->state_size;
}

static void pg_reset(void *data, int i, lc_rng *rng, void *obs_row) {
    pix_data *d = data;
    void *s = lc_pix_game_state(d, i);
    memset(s, 0, d->game->state_size);
    d->game->new_episode(s, rng);
    d->game->draw(s, obs_row);
}

static void pg_step(void *data, int i0, int i1, const void *actions, void *obs, float *rewards,
                    uint8_t *terminated, float *info, lc_rng *rngs) {
    (void)info;
    pix_data *d = data;
    const int32_t *act = actions;
    uint8_t *frames = obs;
    for (int i = i0; i < i1; i++) {
        void *s = lc_pix_game_state(d, i);
        int done = 0;
        rewards[i] = d->game->advance(s, act[i], &rngs[i], &done);
        terminated[i] = (uint8_t)done;
        d->game->draw(s, frames + (size_t)i * F * F * 3);
    }
}

// The game's step from copies of env i's state and rng for every action; actions whose
// frames, rewards and ends are identical share a class (the smallest of them).
static int pg_action_classes(const void *data, int i, const lc_rng *rng, int32_t *cls) {
    const pix_data *d = data;
    const lc_pix_game *g = d->game;
    const int A = g->n_actions;
    const size_t FS = (size_t)F * F * 3;
    unsigned char *st = malloc(g->state_size);
    uint8_t *frames = malloc((size_t)A * FS);
    float *rew = malloc((size_t)A * sizeof(float));
    int *done = malloc((size_t)A * sizeof(int));
    int rc = st && frames && rew && done ? 0 : 1;
    for (int a = 0; a < A && !rc; a++) {
        lc_rng r = *rng;
        memcpy(st, d->s + (size_t)i * g->state_size, g->state_size);
        done[a] = 0;
        rew[a] = g->advance(st, a, &r, &done[a]);
        g->draw(st, frames + (size_t)a * FS);
        cls[a] = a;
        for (int b = 0; b < a; b++)
            if (cls[b] == b && rew[b] == rew[a] && done[b] == done[a] &&
                memcmp(frames + (size_t)b * FS, frames + (size_t)a * FS, FS) == 0) {
                cls[a] = b;
                break;
            }
    }
    free(st);
    free(frames);
    free(rew);
    free(done);
    return rc;
}

static int pg_render(void *data, int i, uint8_t *rgb, int w, int h) {
    pix_data *d = data;
    if (w < 1 || h < 1) return 1;
    uint8_t frame[F * F * 3];
    d->game->draw(lc_pix_game_state(d, i), frame);
    lc_pix_scale(frame, F, F, rgb, w, h);
    return 0;
}

static void pg_destroy(void *data) {
    pix_data *d = data;
    if (!d) return;
    free(d->s);
    free(d);
}

int lc_pix_game_make(lc_env_impl *impl, const lc_pix_game *game, const char *name, int num_envs,
                     const lc_env_opts *opts, lc_error *err) {
    if (num_envs < 1) return lc_fail(err, LC_ERR_ARG, "%s: num_envs must be >= 1, got %d", name, num_envs);
    if (opts && opts->params && opts->params[0])
        return lc_fail(err, LC_ERR_ARG, "%s takes no params (got \"%s\")", name, opts->params);
    pix_data *d = calloc(1, sizeof *d);
    if (d) d->s = calloc((size_t)num_envs, game->state_size);
    if (!d || !d->s) {
        pg_destroy(d);
        return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory for %d envs", name, num_envs);
    }
    d->game = game;
    d->num_envs = num_envs;
    memset(impl, 0, sizeof *impl);
    int shape[3] = {F, F, 3};
    impl->obs_space = lc_space_box_scalar(LC_U8, 3, shape, 0.0f, 255.0f);
    impl->act_space = lc_space_discrete(game->n_actions);
    impl->max_episode_steps = game->max_episode_steps;
    impl->can_split = 1;
    impl->render_w = impl->render_h = LC_PIX_RENDER;
    impl->data = d;
    impl->reset = pg_reset;
    impl->step = pg_step;
    impl->render = pg_render;
    impl->action_classes = pg_action_classes;
    impl->destroy = pg_destroy;
    return LC_OK;
}

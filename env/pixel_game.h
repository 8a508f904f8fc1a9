// env/pixel_game.h: what every pixel game shares behind the env impl: a vector of per-env
// states, reset and step as "advance the state, draw the frame", rendering, freeing.
// A game supplies a table of its rules. Leaves out: the games (env/coinrun.c and friends).
#ifndef LC_ENV_PIXEL_GAME_H
#define LC_ENV_PIXEL_GAME_H

#include <stddef.h>
#include <stdint.h>

#include "env/env.h"

typedef struct lc_pix_game {
    size_t state_size;     // bytes of one env's state
    int n_actions;         // Discrete(n_actions)
    int max_episode_steps; // the game's time limit
    void (*new_episode)(void *state, lc_rng *rng);
    // One step with action a: the reward; *done = 1 when the episode terminates.
    float (*advance)(void *state, int a, lc_rng *rng, int *done);
    void (*draw)(const void *state, uint8_t *frame); // (F, F, 3), F = LC_PIX_FRAME
} lc_pix_game;

// Fills impl for num_envs envs of game (which must outlive it): (F, F, 3) u8 frames, the
// game's actions and time limit, splittable across threads, rendered at LC_PIX_RENDER.
// Refuses params (no game takes any).
int lc_pix_game_make(lc_env_impl *impl, const lc_pix_game *game, const char *name, int num_envs,
                     const lc_env_opts *opts, lc_error *err);
// Env i's state (impl->data of a pixel game).
void *lc_pix_game_state(void *data, int i);

#endif

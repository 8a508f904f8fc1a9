// env/catch.c: Catch-v0, bsuite's Catch drawn as 64x64 frames: a ball falls one cell per
// step from a random column of the top row; the paddle on the bottom row catches it (+1)
// or misses it (-1), and the episode ends. Leaves out: several balls per episode, speeds.
#include <string.h>

#include "env/pixel.h"
#include "env/pixel_draw.h"
#include "env/pixel_game.h"

// F = frame side (64), C = cell side in pixels, N = cells per row and per column.
#define F LC_PIX_FRAME
#define C LC_CATCH_CELL
#define N LC_CATCH_CELLS

static const lc_pix_rgb FLOOR_C = {40, 40, 56};
static const lc_pix_rgb PADDLE_C = {64, 224, 240};
static const lc_pix_rgb BALL_C = {255, 255, 255};

void lc_catch_draw(const lc_catch_state *s, uint8_t *frame) {
    memset(frame, 0, (size_t)F * F * 3);
    lc_pix_fill(frame, F, F, 0, (N - 1) * C, F, C, FLOOR_C); // the paddle's row
    lc_pix_fill(frame, F, F, s->paddle * C, (N - 1) * C, C, C, PADDLE_C);
    // The ball is drawn over the paddle when caught, so the last frame shows the outcome.
    lc_pix_fill(frame, F, F, s->ball_x * C + 1, s->ball_y * C + 1, C - 2, C - 2, BALL_C);
}

static void ca_new_episode(void *state, lc_rng *rng) {
    lc_catch_state *s = state;
    s->ball_x = (int)lc_rng_below(rng, N);
    s->ball_y = 0;
    s->paddle = N / 2;
}

// Advances one step; returns the reward and sets *done when the ball reaches the bottom.
static float ca_advance(void *state, int a, lc_rng *rng, int *done) {
    (void)rng;
    lc_catch_state *s = state;
    if (a == LC_CATCH_LEFT && s->paddle > 0) s->paddle--;
    if (a == LC_CATCH_RIGHT && s->paddle < N - 1) s->paddle++;
    s->ball_y++;
    *done = s->ball_y == N - 1;
    if (!*done) return 0.0f;
    return s->ball_x == s->paddle ? 1.0f : -1.0f;
}

static void ca_draw(const void *s, uint8_t *frame) { lc_catch_draw(s, frame); }

static const lc_pix_game CATCH = {sizeof(lc_catch_state), LC_CATCH_NACTIONS, 100, ca_new_episode,
                                  ca_advance, ca_draw};

lc_catch_state *lc_catch_state_of(void *data, int i) { return lc_pix_game_state(data, i); }

int lc_catch_make(lc_env_impl *impl, const char *name, int num_envs, const lc_env_opts *opts,
                  lc_error *err) {
    return lc_pix_game_make(impl, &CATCH, name, num_envs, opts, err);
}

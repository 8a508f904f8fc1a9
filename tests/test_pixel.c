// tests/test_pixel.c: Check suite for the pixel games (env/pixel.h): CoinRun-v0, Breakout-v0,
// Catch-v0.
// Determinism, procedural levels, visible effects of each action, things that move by
// themselves, rewards and endings in built situations, frames, rendering. Leaves out: timing.
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "env/env.h"
#include "env/pixel.h"
#include "tests/helpers/env_contract.h"

// F = frame side, FS = bytes per frame (F, F, 3).
#define F LC_PIX_FRAME
#define FS (F * F * 3)

typedef int (*make_fn)(lc_env_impl *, const char *, int, const lc_env_opts *, lc_error *);

// ---------------------------------------------------------------- helpers

// An impl of n envs with its own buffers; env i seeded from (seed, i).
typedef struct game {
    lc_env_impl im;
    int n;
    lc_rng *rngs;       // (n)
    uint8_t *obs;       // (n, F, F, 3)
    float *rewards;     // (n)
    uint8_t *term;      // (n)
    int32_t *act;       // (n)
} game;

static void game_open(game *g, make_fn make, const char *name, int n, uint64_t seed) {
    lc_error err = {0};
    memset(g, 0, sizeof *g);
    ck_assert_msg(make(&g->im, name, n, NULL, &err) == LC_OK, "%s", err.msg);
    g->n = n;
    g->rngs = calloc((size_t)n, sizeof *g->rngs);
    g->obs = calloc((size_t)n, FS);
    g->rewards = calloc((size_t)n, sizeof *g->rewards);
    g->term = calloc((size_t)n, 1);
    g->act = calloc((size_t)n, sizeof *g->act);
    ck_assert(g->rngs && g->obs && g->rewards && g->term && g->act);
    for (int i = 0; i < n; i++) {
        lc_rng_seed(&g->rngs[i], seed, (uint64_t)i);
        g->im.reset(g->im.data, i, &g->rngs[i], g->obs + (size_t)i * FS);
    }
}

static void game_close(game *g) {
    g->im.destroy(g->im.data);
    free(g->rngs);
    free(g->obs);
    free(g->rewards);
    free(g->term);
    free(g->act);
}

// Steps env i alone with action a; resets it when it ends (as the vector would).
static void game_step1(game *g, int i, int a) {
    g->act[i] = a;
    g->im.step(g->im.data, i, i + 1, g->act, g->obs, g->rewards, g->term, NULL, g->rngs);
}

static const uint8_t *frame_of(const game *g, int i) { return g->obs + (size_t)i * FS; }

// Pixels of colour (r, g, b) in a frame: how many, and their mean x and y.
static int find_colour(const uint8_t *fr, int r, int gg, int b, double *mx, double *my) {
    long n = 0, sx = 0, sy = 0;
    for (int y = 0; y < F; y++)
        for (int x = 0; x < F; x++) {
            const uint8_t *p = fr + ((size_t)y * F + x) * 3;
            if (p[0] == r && p[1] == gg && p[2] == b) {
                n++;
                sx += x;
                sy += y;
            }
        }
    if (mx) *mx = n ? (double)sx / n : -1;
    if (my) *my = n ? (double)sy / n : -1;
    return (int)n;
}

static int distinct_colours(const uint8_t *fr) {
    uint32_t seen[64];
    int n = 0;
    for (int k = 0; k < F * F; k++) {
        uint32_t c = (uint32_t)fr[3 * k] << 16 | (uint32_t)fr[3 * k + 1] << 8 | fr[3 * k + 2];
        int j = 0;
        while (j < n && seen[j] != c) j++;
        if (j == n) {
            if (n == 64) return 65;
            seen[n++] = c;
        }
    }
    return n;
}

// The player's body colour and the paddle's colour (as drawn by the games).
#define PLAYER_RGB 236, 40, 40
#define ENEMY_RGB 150, 48, 210
#define LEGS_RGB 24, 24, 112
#define PADDLE_RGB 64, 224, 240
#define BALL_RGB 255, 255, 255
#define TRAIL_RGB 112, 112, 112

// Puts the CoinRun player standing on the ground at column c (which must be ground).
static void stand_at(lc_coinrun_state *s, int px) {
    int c = (px + LC_COINRUN_PLAYER_W / 2) / LC_COINRUN_TILE, r = 0;
    while (r < LC_COINRUN_ROWS && !lc_coinrun_solid(s, c, r)) r++;
    ck_assert_int_lt(r, LC_COINRUN_ROWS);
    s->px = px;
    s->py = (r * LC_COINRUN_TILE - LC_COINRUN_PLAYER_H) * LC_COINRUN_SUB;
    s->vy = 0;
    s->on_ground = 1;
}

// A flat level of height h and width ncols, no enemies, coin at the end.
static void flat_level(lc_coinrun_state *s, int ncols, int h) {
    memset(s->cols, 0, sizeof s->cols);
    s->ncols = ncols;
    for (int c = 0; c < ncols; c++)
        s->cols[c] = (uint8_t)(((1u << h) - 1) << (LC_COINRUN_ROWS - h));
    s->n_enemies = 0;
    s->cam = 0;
    s->coin_x = (ncols - 1) * LC_COINRUN_TILE + 1;
    s->coin_y = F - h * LC_COINRUN_TILE - LC_COINRUN_COIN - 1;
    stand_at(s, 9);
}

// ---------------------------------------------------------------- spaces

START_TEST(test_spaces) {
    make_fn makes[3] = {lc_coinrun_make, lc_breakout_make, lc_catch_make};
    const char *names[3] = {"CoinRun-v0", "Breakout-v0", "Catch-v0"};
    int nact[3] = {LC_COINRUN_NACTIONS, LC_BREAKOUT_NACTIONS, LC_CATCH_NACTIONS},
        limit[3] = {500, 1000, 100};
    for (int k = 0; k < 3; k++) {
        lc_env_impl im;
        lc_error err = {0};
        ck_assert_int_eq(makes[k](&im, names[k], 3, NULL, &err), LC_OK);
        ck_assert_int_eq(im.obs_space.kind, LC_SPACE_BOX);
        ck_assert_int_eq(im.obs_space.dtype, LC_U8);
        ck_assert_int_eq(im.obs_space.ndim, 3);
        ck_assert_int_eq(im.obs_space.shape[0], F);
        ck_assert_int_eq(im.obs_space.shape[1], F);
        ck_assert_int_eq(im.obs_space.shape[2], 3);
        ck_assert_int_eq(lc_space_size(&im.obs_space), FS);
        ck_assert_float_eq(lc_space_low(&im.obs_space, 0), 0.0f);
        ck_assert_float_eq(lc_space_high(&im.obs_space, FS - 1), 255.0f);
        ck_assert_int_eq(im.act_space.kind, LC_SPACE_DISCRETE);
        ck_assert_int_eq(im.act_space.n, nact[k]);
        ck_assert_int_eq(im.max_episode_steps, limit[k]);
        ck_assert_int_eq(im.can_split, 1);
        ck_assert_int_eq(im.render_w, LC_PIX_RENDER);
        ck_assert_int_eq(im.render_h, LC_PIX_RENDER);
        ck_assert_ptr_nonnull(im.render);
        im.destroy(im.data);
        // Params are refused with a clear error.
        lc_env_opts o = {.num_envs = 1, .params = "speed=2"};
        ck_assert_int_eq(makes[k](&im, names[k], 1, &o, &err), LC_ERR_ARG);
        ck_assert_ptr_nonnull(strstr(err.msg, names[k]));
    }
}
END_TEST

// ---------------------------------------------------------------- determinism

// Plays 400 random steps on 3 envs (resetting ended ones); returns all frames.
static uint8_t *play(make_fn make, const char *name, uint64_t seed, int nact) {
    const int n = 3, steps = 400;
    game g;
    game_open(&g, make, name, n, seed);
    uint8_t *frames = malloc((size_t)steps * n * FS);
    ck_assert_ptr_nonnull(frames);
    lc_rng pol;
    lc_rng_seed(&pol, 99, 0);
    for (int t = 0; t < steps; t++) {
        for (int i = 0; i < n; i++) g.act[i] = (int32_t)lc_rng_below(&pol, (uint32_t)nact);
        // Split the range in two calls, as threads would.
        g.im.step(g.im.data, 0, 1, g.act, g.obs, g.rewards, g.term, NULL, g.rngs);
        g.im.step(g.im.data, 1, n, g.act, g.obs, g.rewards, g.term, NULL, g.rngs);
        for (int i = 0; i < n; i++)
            if (g.term[i]) g.im.reset(g.im.data, i, &g.rngs[i], g.obs + (size_t)i * FS);
        memcpy(frames + (size_t)t * n * FS, g.obs, (size_t)n * FS);
    }
    game_close(&g);
    return frames;
}

START_TEST(test_determinism) {
    make_fn makes[3] = {lc_coinrun_make, lc_breakout_make, lc_catch_make};
    const char *names[3] = {"CoinRun-v0", "Breakout-v0", "Catch-v0"};
    int nact[3] = {LC_COINRUN_NACTIONS, LC_BREAKOUT_NACTIONS, LC_CATCH_NACTIONS};
    size_t total = (size_t)400 * 3 * FS;
    for (int k = 0; k < 3; k++) {
        uint8_t *a = play(makes[k], names[k], 7, nact[k]);
        uint8_t *b = play(makes[k], names[k], 7, nact[k]);
        uint8_t *c = play(makes[k], names[k], 8, nact[k]);
        ck_assert_msg(memcmp(a, b, total) == 0, "%s: same seed gave different frames", names[k]);
        ck_assert_msg(memcmp(a, c, total) != 0, "%s: seeds 7 and 8 gave the same frames", names[k]);
        free(a);
        free(b);
        free(c);
    }
}
END_TEST

START_TEST(test_coinrun_levels_differ) {
    const int n = 8;
    game g;
    game_open(&g, lc_coinrun_make, "CoinRun-v0", n, 1);
    lc_coinrun_state lv[8];
    for (int i = 0; i < n; i++) lv[i] = *lc_coinrun_state_of(g.im.data, i);
    int same = 0;
    for (int i = 0; i < n; i++) {
        const lc_coinrun_state *s = &lv[i];
        ck_assert_int_ge(s->ncols, 24);
        ck_assert_int_le(s->ncols, 32);
        ck_assert(lc_coinrun_solid(s, 0, LC_COINRUN_ROWS - 1)); // ground under the start
        ck_assert_int_eq(s->coin_x / LC_COINRUN_TILE, s->ncols - 1);
        ck_assert_int_le(s->n_enemies, LC_COINRUN_MAX_ENEMIES);
        for (int j = 0; j < i; j++)
            if (lv[j].ncols == s->ncols && memcmp(lv[j].cols, s->cols, sizeof s->cols) == 0) same++;
    }
    ck_assert_int_eq(same, 0);
    // A second episode on the same env draws a new level.
    g.im.reset(g.im.data, 0, &g.rngs[0], g.obs);
    ck_assert(memcmp(lc_coinrun_state_of(g.im.data, 0)->cols, lv[0].cols, sizeof lv[0].cols) != 0);
    // Another seed, other levels.
    game h;
    game_open(&h, lc_coinrun_make, "CoinRun-v0", 1, 2);
    ck_assert(memcmp(lc_coinrun_state_of(h.im.data, 0)->cols, lv[0].cols, sizeof lv[0].cols) != 0);
    game_close(&h);
    game_close(&g);
}
END_TEST

// ---------------------------------------------------------------- actions

START_TEST(test_coinrun_actions_visible) {
    game g;
    game_open(&g, lc_coinrun_make, "CoinRun-v0", 1, 3);
    lc_coinrun_state *s = lc_coinrun_state_of(g.im.data, 0);
    flat_level(s, 30, 2);
    stand_at(s, 24);
    lc_coinrun_state start = *s;
    double x[LC_COINRUN_NACTIONS], y[LC_COINRUN_NACTIONS], x0, y0;
    uint8_t fr[LC_COINRUN_NACTIONS][FS];
    game_step1(&g, 0, LC_COINRUN_NOOP); // settle
    *s = start;
    for (int a = 0; a < LC_COINRUN_NACTIONS; a++) {
        *s = start;
        g.im.render(g.im.data, 0, fr[0], F, F); // the frame before the step
        ck_assert_int_gt(find_colour(fr[0], PLAYER_RGB, &x0, &y0), 10);
        game_step1(&g, 0, a);
        ck_assert_int_eq(g.term[0], 0);
        memcpy(fr[a], frame_of(&g, 0), FS);
        ck_assert_int_gt(find_colour(fr[a], PLAYER_RGB, &x[a], &y[a]), 10);
        x[a] -= x0;
        y[a] -= y0;
    }
    // Noop stands still; left and right move two pixels; jumps rise at once.
    ck_assert_float_eq_tol(x[LC_COINRUN_NOOP], 0.0, 1e-9);
    ck_assert_float_eq_tol(y[LC_COINRUN_NOOP], 0.0, 1e-9);
    ck_assert_float_eq_tol(x[LC_COINRUN_LEFT], -2.0, 0.6); // the sprite mirrors when turning
    ck_assert_float_eq_tol(x[LC_COINRUN_RIGHT], 2.0, 1e-9);
    ck_assert_float_eq_tol(y[LC_COINRUN_LEFT], 0.0, 1e-9);
    ck_assert_float_eq_tol(y[LC_COINRUN_JUMP], -4.0, 1e-9);
    ck_assert_float_eq_tol(x[LC_COINRUN_JUMP], 0.0, 1e-9);
    ck_assert_float_eq_tol(x[LC_COINRUN_RIGHT_JUMP], 2.0, 1e-9);
    ck_assert_float_eq_tol(y[LC_COINRUN_RIGHT_JUMP], -4.0, 1e-9);
    for (int a = 0; a < LC_COINRUN_NACTIONS; a++)
        for (int b = 0; b < a; b++) ck_assert_msg(memcmp(fr[a], fr[b], FS) != 0, "actions %d, %d look alike", a, b);

    // Once the camera follows, walking right scrolls the world left instead.
    *s = start;
    for (int t = 0; t < 30; t++) game_step1(&g, 0, LC_COINRUN_RIGHT);
    ck_assert_int_gt(s->cam, 0);
    int cam = s->cam, sx = s->px - s->cam;
    game_step1(&g, 0, LC_COINRUN_RIGHT);
    ck_assert_int_eq(s->cam, cam + LC_COINRUN_WALK);
    ck_assert_int_eq(s->px - s->cam, sx);
    // A wall stops the player but turning still shows.
    *s = start;
    stand_at(s, 0);
    memcpy(fr[0], frame_of(&g, 0), FS);
    game_step1(&g, 0, LC_COINRUN_LEFT);
    ck_assert_int_eq(s->px, 0);
    ck_assert_int_eq(s->facing, -1);
    // The pose tells standing (6 leg pixels), rising (4, tucked) and falling (4, apart).
    *s = start;
    game_step1(&g, 0, LC_COINRUN_NOOP);
    ck_assert_int_eq(find_colour(frame_of(&g, 0), LEGS_RGB, NULL, NULL), 6);
    game_step1(&g, 0, LC_COINRUN_JUMP);
    double lx, ly, lx2, ly2;
    ck_assert_int_eq(find_colour(frame_of(&g, 0), LEGS_RGB, &lx, &ly), 4);
    find_colour(frame_of(&g, 0), PLAYER_RGB, NULL, &y0);
    ck_assert_double_eq_tol(ly - y0, 3.5, 1e-9); // tucked: one row of legs under the body
    while (s->vy <= 0) game_step1(&g, 0, LC_COINRUN_NOOP);
    ck_assert_int_eq(find_colour(frame_of(&g, 0), LEGS_RGB, &lx2, &ly2), 4);
    find_colour(frame_of(&g, 0), PLAYER_RGB, NULL, &y0);
    ck_assert_double_eq_tol(ly2 - y0, 4.0, 1e-9); // two rows of legs
    game_close(&g);
}
END_TEST

START_TEST(test_breakout_actions_visible) {
    game g;
    game_open(&g, lc_breakout_make, "Breakout-v0", 1, 3);
    lc_breakout_state *s = lc_breakout_state_of(g.im.data, 0);
    lc_breakout_state start = *s;
    double x0, x[LC_BREAKOUT_NACTIONS];
    uint8_t fr[LC_BREAKOUT_NACTIONS][FS];
    ck_assert_int_eq(find_colour(frame_of(&g, 0), PADDLE_RGB, &x0, NULL),
                     LC_BREAKOUT_PADDLE_W * LC_BREAKOUT_PADDLE_H);
    for (int a = 0; a < LC_BREAKOUT_NACTIONS; a++) {
        *s = start;
        game_step1(&g, 0, a);
        memcpy(fr[a], frame_of(&g, 0), FS);
        ck_assert_int_eq(find_colour(fr[a], PADDLE_RGB, &x[a], NULL),
                         LC_BREAKOUT_PADDLE_W * LC_BREAKOUT_PADDLE_H);
    }
    ck_assert_float_eq_tol(x[LC_BREAKOUT_NOOP] - x0, 0.0, 1e-9);
    ck_assert_float_eq_tol(x[LC_BREAKOUT_LEFT] - x0, -LC_BREAKOUT_PADDLE_SPEED, 1e-9);
    ck_assert_float_eq_tol(x[LC_BREAKOUT_RIGHT] - x0, LC_BREAKOUT_PADDLE_SPEED, 1e-9);
    for (int a = 0; a < LC_BREAKOUT_NACTIONS; a++)
        for (int b = 0; b < a; b++) ck_assert(memcmp(fr[a], fr[b], FS) != 0);
    // The walls stop the paddle.
    *s = start;
    for (int t = 0; t < 30; t++) game_step1(&g, 0, LC_BREAKOUT_LEFT);
    ck_assert_int_eq(s->paddle_x, LC_BREAKOUT_WALL);
    for (int t = 0; t < 30; t++) game_step1(&g, 0, LC_BREAKOUT_RIGHT);
    ck_assert_int_eq(s->paddle_x, F - LC_BREAKOUT_WALL - LC_BREAKOUT_PADDLE_W);
    game_close(&g);
}
END_TEST

// ---------------------------------------------------------------- things that move by themselves

START_TEST(test_breakout_ball_moves) {
    game g;
    game_open(&g, lc_breakout_make, "Breakout-v0", 1, 4);
    double bx, by, px, py;
    // White = the ball plus the lives dots (static): its mean moves with the ball.
    find_colour(frame_of(&g, 0), BALL_RGB, &bx, &by);
    for (int t = 0; t < 4; t++) {
        uint8_t before[FS];
        memcpy(before, frame_of(&g, 0), FS);
        game_step1(&g, 0, LC_BREAKOUT_NOOP);
        ck_assert_msg(memcmp(before, frame_of(&g, 0), FS) != 0, "noop step %d changed nothing", t);
    }
    find_colour(frame_of(&g, 0), BALL_RGB, &px, &py);
    ck_assert_double_gt(py, by); // served downwards
    ck_assert_double_ne(px, bx);
    // The trail (where the ball was 2 steps ago) shows the way it goes.
    lc_breakout_state *s = lc_breakout_state_of(g.im.data, 0);
    double tx, ty;
    ck_assert_int_gt(find_colour(frame_of(&g, 0), TRAIL_RGB, &tx, &ty), 0);
    ck_assert_double_lt(ty, s->by / LC_BREAKOUT_SUB);
    ck_assert_int_eq(s->hy[1], s->by - 2 * s->vy);
    game_close(&g);
}
END_TEST

START_TEST(test_coinrun_enemies_move) {
    game g;
    game_open(&g, lc_coinrun_make, "CoinRun-v0", 1, 5);
    lc_coinrun_state *s = lc_coinrun_state_of(g.im.data, 0);
    flat_level(s, 30, 2);
    s->n_enemies = 1;
    lc_coinrun_enemy *e = &s->enemies[0];
    e->x_min = 40;
    e->x_max = 50;
    e->x = 48;
    e->y = F - 2 * LC_COINRUN_TILE - LC_COINRUN_ENEMY_H;
    e->dir = 1;
    double ex0, ex;
    game_step1(&g, 0, LC_COINRUN_NOOP);
    ck_assert_int_gt(find_colour(frame_of(&g, 0), ENEMY_RGB, &ex0, NULL), 10);
    int xs[6];
    for (int t = 0; t < 6; t++) {
        uint8_t before[FS];
        memcpy(before, frame_of(&g, 0), FS);
        game_step1(&g, 0, LC_COINRUN_NOOP);
        ck_assert(memcmp(before, frame_of(&g, 0), FS) != 0);
        xs[t] = e->x;
    }
    // 49, 50, then turns at x_max: 49, 48, 47, 46.
    ck_assert_int_eq(xs[0], 50);
    ck_assert_int_eq(xs[1], 49);
    ck_assert_int_eq(xs[5], 45);
    find_colour(frame_of(&g, 0), ENEMY_RGB, &ex, NULL);
    ck_assert_double_lt(ex, ex0);
    ck_assert_int_eq(s->px, 9); // the player stayed
    game_close(&g);
}
END_TEST

// ---------------------------------------------------------------- rewards and endings

START_TEST(test_coinrun_coin_reward) {
    game g;
    game_open(&g, lc_coinrun_make, "CoinRun-v0", 1, 6);
    lc_coinrun_state *s = lc_coinrun_state_of(g.im.data, 0);
    flat_level(s, 24, 3);
    stand_at(s, s->coin_x - LC_COINRUN_PLAYER_W - 1);
    s->cam = s->ncols * LC_COINRUN_TILE - F;
    game_step1(&g, 0, LC_COINRUN_NOOP);
    ck_assert_float_eq(g.rewards[0], 0.0f);
    ck_assert_int_eq(g.term[0], 0);
    game_step1(&g, 0, LC_COINRUN_RIGHT);
    ck_assert_float_eq(g.rewards[0], LC_COINRUN_REWARD);
    ck_assert_int_eq(g.term[0], 1);
    // Holding right from the start of a flat level also gets there, inside the time limit.
    g.im.reset(g.im.data, 0, &g.rngs[0], g.obs);
    flat_level(s, 32, 2);
    int t = 0;
    float ret = 0.0f;
    do {
        game_step1(&g, 0, LC_COINRUN_RIGHT);
        ret += g.rewards[0];
    } while (!g.term[0] && ++t < 500);
    ck_assert_int_lt(t, 200);
    ck_assert_float_eq(ret, LC_COINRUN_REWARD);
    game_close(&g);
}
END_TEST

START_TEST(test_coinrun_deaths) {
    game g;
    game_open(&g, lc_coinrun_make, "CoinRun-v0", 1, 7);
    lc_coinrun_state *s = lc_coinrun_state_of(g.im.data, 0);
    // A gap at column 3: walking right falls in and ends the episode with 0.
    flat_level(s, 30, 2);
    s->cols[3] = s->cols[4] = 0;
    int t = 0, fell = 0;
    for (; t < 60 && !g.term[0]; t++) {
        game_step1(&g, 0, LC_COINRUN_RIGHT);
        ck_assert_float_eq(g.rewards[0], 0.0f);
        if (!g.term[0] && s->py / LC_COINRUN_SUB > F - 2 * LC_COINRUN_TILE) fell = 1;
    }
    ck_assert_int_eq(g.term[0], 1);
    ck_assert_int_eq(fell, 1);
    ck_assert_int_ge(s->py / LC_COINRUN_SUB, F);
    // Jumping over the same gap survives.
    flat_level(s, 30, 2);
    s->cols[3] = s->cols[4] = 0;
    game_step1(&g, 0, LC_COINRUN_RIGHT_JUMP);
    for (t = 0; t < 40; t++) {
        game_step1(&g, 0, LC_COINRUN_RIGHT);
        ck_assert_int_eq(g.term[0], 0);
    }
    ck_assert_int_gt(s->px, 5 * LC_COINRUN_TILE);
    // Touching an enemy ends it with 0.
    flat_level(s, 30, 2);
    s->n_enemies = 1;
    s->enemies[0] = (lc_coinrun_enemy){.x = 20, .y = F - 2 * LC_COINRUN_TILE - LC_COINRUN_ENEMY_H,
                                       .x_min = 0, .x_max = 40, .dir = -1};
    for (t = 0; t < 10 && !g.term[0]; t++) game_step1(&g, 0, LC_COINRUN_NOOP);
    ck_assert_int_eq(g.term[0], 1);
    ck_assert_float_eq(g.rewards[0], 0.0f);
    game_close(&g);
}
END_TEST

START_TEST(test_breakout_brick_reward) {
    game g;
    game_open(&g, lc_breakout_make, "Breakout-v0", 1, 8);
    lc_breakout_state *s = lc_breakout_state_of(g.im.data, 0);
    // The ball just under brick (row 5, col 4), going straight up.
    int bottom = LC_BREAKOUT_BRICK_TOP + LC_BREAKOUT_BRICK_ROWS * LC_BREAKOUT_BRICK_H;
    s->bx = (LC_BREAKOUT_WALL + 4 * LC_BREAKOUT_BRICK_W + 2) * LC_BREAKOUT_SUB;
    s->by = bottom * LC_BREAKOUT_SUB;
    s->vx = 0;
    s->vy = -20;
    float ret = 0.0f;
    for (int t = 0; t < 3; t++) {
        game_step1(&g, 0, LC_BREAKOUT_NOOP);
        ret += g.rewards[0];
    }
    ck_assert_float_eq(ret, 1.0f);
    ck_assert_int_eq(s->bricks[5][4], 0);
    ck_assert_int_eq(s->n_bricks, LC_BREAKOUT_BRICK_ROWS * LC_BREAKOUT_BRICK_COLS - 1);
    ck_assert_int_gt(s->vy, 0); // bounced
    // The gone brick shows: fewer blue pixels.
    ck_assert_int_eq(find_colour(frame_of(&g, 0), 66, 72, 200, NULL, NULL),
                     (LC_BREAKOUT_BRICK_COLS - 1) * (LC_BREAKOUT_BRICK_W - 1) * (LC_BREAKOUT_BRICK_H - 1));
    // The last brick rebuilds the wall.
    memset(s->bricks, 0, sizeof s->bricks);
    s->bricks[5][4] = 1;
    s->n_bricks = 1;
    s->by = bottom * LC_BREAKOUT_SUB;
    s->vy = -20;
    ret = 0.0f;
    for (int t = 0; t < 3; t++) {
        game_step1(&g, 0, LC_BREAKOUT_NOOP);
        ret += g.rewards[0];
    }
    ck_assert_float_eq(ret, 1.0f);
    ck_assert_int_eq(s->n_bricks, LC_BREAKOUT_BRICK_ROWS * LC_BREAKOUT_BRICK_COLS);
    // The paddle returns the ball upwards.
    s->paddle_x = 20;
    s->bx = 25 * LC_BREAKOUT_SUB;
    s->by = (LC_BREAKOUT_PADDLE_Y - 4) * LC_BREAKOUT_SUB;
    s->vx = 8;
    s->vy = 20;
    for (int t = 0; t < 4; t++) game_step1(&g, 0, LC_BREAKOUT_NOOP);
    ck_assert_int_lt(s->vy, 0);
    ck_assert_int_eq(s->lives, LC_BREAKOUT_LIVES);
    game_close(&g);
}
END_TEST

START_TEST(test_breakout_ball_lost) {
    game g;
    game_open(&g, lc_breakout_make, "Breakout-v0", 1, 9);
    lc_breakout_state *s = lc_breakout_state_of(g.im.data, 0);
    int t;
    for (int life = LC_BREAKOUT_LIVES; life >= 1; life--) {
        ck_assert_int_eq(s->lives, life);
        // Paddle far from the ball: the ball is lost.
        s->paddle_x = s->bx / LC_BREAKOUT_SUB < F / 2 ? F - LC_BREAKOUT_WALL - LC_BREAKOUT_PADDLE_W
                                                       : LC_BREAKOUT_WALL;
        s->vx = 0;
        s->vy = 20;
        for (t = 0; t < 40 && s->lives == life; t++) game_step1(&g, 0, LC_BREAKOUT_NOOP);
        ck_assert_int_eq(s->lives, life - 1);
        ck_assert_int_eq(g.term[0], life == 1);
        ck_assert_float_eq(g.rewards[0], 0.0f);
        if (life > 1) ck_assert_int_lt(s->by / LC_BREAKOUT_SUB, F); // served again
    }
    // The lives show as dots: none left, no ball.
    ck_assert_int_eq(find_colour(frame_of(&g, 0), BALL_RGB, NULL, NULL), 0);
    game_close(&g);
}
END_TEST

// ---------------------------------------------------------------- Catch-v0

#define FLOOR_RGB 40, 40, 56

START_TEST(test_catch_rules) {
    game g;
    game_open(&g, lc_catch_make, "Catch-v0", 1, 12);
    lc_catch_state *s = lc_catch_state_of(g.im.data, 0);
    const int C = LC_CATCH_CELL, N = LC_CATCH_CELLS;
    ck_assert_int_eq(s->ball_y, 0);
    ck_assert_int_eq(s->paddle, N / 2);
    for (int trial = 0; trial < 2 * N; trial++) {
        // Ball in column trial % N; the paddle walks to it (catch) or away from it (miss).
        int catch_it = trial < N, col = trial % N;
        g.im.reset(g.im.data, 0, &g.rngs[0], g.obs);
        s->ball_x = col;
        double mx, my;
        for (int t = 1; t <= N - 1; t++) {
            int want = catch_it ? col : (col < N / 2 ? N - 1 : 0);
            int a = s->paddle < want ? LC_CATCH_RIGHT : s->paddle > want ? LC_CATCH_LEFT
                                                                        : LC_CATCH_NOOP;
            game_step1(&g, 0, a);
            ck_assert_int_eq(s->ball_y, t); // one cell per step
            ck_assert_int_eq(g.term[0], t == N - 1);
            if (t < N - 1) {
                ck_assert_float_eq(g.rewards[0], 0.0f);
                // The ball is drawn where the state says, 6x6 in its cell.
                ck_assert_int_eq(find_colour(frame_of(&g, 0), BALL_RGB, &mx, &my), 36);
                ck_assert_float_eq_tol(mx, col * C + C / 2 - 0.5, 1e-9);
                ck_assert_float_eq_tol(my, t * C + C / 2 - 0.5, 1e-9);
            }
        }
        ck_assert_float_eq(g.rewards[0], catch_it ? 1.0f : -1.0f);
        // The paddle's pixels show where it is; a caught ball covers part of it.
        int paddle_px = find_colour(frame_of(&g, 0), PADDLE_RGB, &mx, &my);
        ck_assert_int_eq(paddle_px, catch_it ? C * C - 36 : C * C);
        ck_assert_int_gt(find_colour(frame_of(&g, 0), FLOOR_RGB, NULL, NULL), 0);
    }
    // The paddle stops at the walls.
    g.im.reset(g.im.data, 0, &g.rngs[0], g.obs);
    for (int t = 0; t < 5; t++) game_step1(&g, 0, LC_CATCH_LEFT);
    ck_assert_int_eq(s->paddle, 0);
    g.im.reset(g.im.data, 0, &g.rngs[0], g.obs);
    for (int t = 0; t < 5; t++) game_step1(&g, 0, LC_CATCH_RIGHT);
    ck_assert_int_eq(s->paddle, N - 1);
    game_close(&g);
}
END_TEST

START_TEST(test_catch_random_return) {
    // Uniformly random play catches one ball in eight (the paddle's 7-step walk lands on
    // each column with probabilities summing to 1, each ball column has 1/8): return -0.75.
    // Every episode is 7 steps; every start column is seen.
    game g;
    game_open(&g, lc_catch_make, "Catch-v0", 1, 3);
    lc_rng pol;
    lc_rng_seed(&pol, 4, 0);
    int eps = 0, len = 0, cols = 0;
    double ret = 0;
    while (eps < 3000) {
        cols |= 1 << lc_catch_state_of(g.im.data, 0)->ball_x;
        game_step1(&g, 0, (int)lc_rng_below(&pol, LC_CATCH_NACTIONS));
        len++;
        if (g.term[0]) {
            ck_assert_int_eq(len, LC_CATCH_CELLS - 1);
            ret += g.rewards[0];
            eps++, len = 0;
            g.im.reset(g.im.data, 0, &g.rngs[0], g.obs);
        }
    }
    ck_assert_int_eq(cols, (1 << LC_CATCH_CELLS) - 1);
    ck_assert_float_eq_tol(ret / eps, -0.75, 0.04); // 3000 episodes: sd of the mean 0.012
    game_close(&g);
}
END_TEST

// ---------------------------------------------------------------- frames and rendering

START_TEST(test_frames_flat_and_render) {
    make_fn makes[3] = {lc_coinrun_make, lc_breakout_make, lc_catch_make};
    const char *names[3] = {"CoinRun-v0", "Breakout-v0", "Catch-v0"};
    int nact[3] = {LC_COINRUN_NACTIONS, LC_BREAKOUT_NACTIONS, LC_CATCH_NACTIONS};
    uint8_t *big = malloc((size_t)LC_PIX_RENDER * LC_PIX_RENDER * 3);
    uint8_t *odd = malloc((size_t)37 * 100 * 3);
    ck_assert(big && odd);
    for (int k = 0; k < 3; k++) {
        game g;
        game_open(&g, makes[k], names[k], 2, 11);
        lc_rng pol;
        lc_rng_seed(&pol, 5, 0);
        int most = 0;
        for (int t = 0; t < 300; t++) {
            int i = t % 2;
            game_step1(&g, i, (int)lc_rng_below(&pol, (uint32_t)nact[k]));
            if (g.term[i]) g.im.reset(g.im.data, i, &g.rngs[i], g.obs + (size_t)i * FS);
            int n = distinct_colours(frame_of(&g, i));
            if (n > most) most = n;
            if (t % 50 == 0) {
                // Native render: each frame pixel becomes a 4x4 block.
                ck_assert_int_eq(g.im.render(g.im.data, i, big, LC_PIX_RENDER, LC_PIX_RENDER), 0);
                const uint8_t *fr = frame_of(&g, i);
                for (int y = 0; y < LC_PIX_RENDER; y++)
                    for (int x = 0; x < LC_PIX_RENDER; x++)
                        ck_assert(memcmp(big + ((size_t)y * LC_PIX_RENDER + x) * 3,
                                         fr + ((size_t)(y / 4) * F + x / 4) * 3, 3) == 0);
                // Any size: the corners are the frame's corners.
                ck_assert_int_eq(g.im.render(g.im.data, i, odd, 100, 37), 0);
                ck_assert(memcmp(odd, fr, 3) == 0);
                ck_assert(memcmp(odd + ((size_t)36 * 100 + 99) * 3, fr + ((size_t)F * F - 1) * 3, 3) == 0);
                // Same size: the frame itself.
                ck_assert_int_eq(g.im.render(g.im.data, i, big, F, F), 0);
                ck_assert(memcmp(big, fr, FS) == 0);
            }
        }
        ck_assert_int_ge(most, 4);
        ck_assert_int_le(most, 16); // a few flat colours
        game_close(&g);
    }
    free(big);
    free(odd);
}
END_TEST

START_TEST(test_random_play_runs) {
    // Random play over many episodes never leaves the level's bounds or jams.
    game g;
    game_open(&g, lc_coinrun_make, "CoinRun-v0", 1, 12);
    lc_coinrun_state *s = lc_coinrun_state_of(g.im.data, 0);
    lc_rng pol;
    lc_rng_seed(&pol, 1, 0);
    int episodes = 0, t = 0;
    for (int k = 0; k < 20000; k++) {
        game_step1(&g, 0, (int)lc_rng_below(&pol, LC_COINRUN_NACTIONS));
        ck_assert_int_ge(s->px, 0);
        ck_assert_int_le(s->px, s->ncols * LC_COINRUN_TILE - LC_COINRUN_PLAYER_W);
        ck_assert_int_ge(s->cam, 0);
        ck_assert_int_le(s->cam, s->ncols * LC_COINRUN_TILE - F);
        if (g.term[0] || ++t == 500) {
            g.im.reset(g.im.data, 0, &g.rngs[0], g.obs);
            episodes++;
            t = 0;
        }
    }
    ck_assert_int_gt(episodes, 40);
    game_close(&g);
}
END_TEST

// ---------------------------------------------------------------- through lc_env

static lc_env *make_env(const char *name, int n, int threads, int limit) {
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = n;
    o.num_threads = threads;
    o.max_episode_steps = limit;
    lc_env *e = NULL;
    lc_error err = {0};
    ck_assert_msg(lc_env_make(&e, name, &o, &err) == LC_OK, "%s", err.msg);
    return e;
}

// Action classes from copies of the state: which actions give the same next frame, reward
// and end, and the env itself does not change.
START_TEST(test_coinrun_action_classes) {
    game g;
    game_open(&g, lc_coinrun_make, "CoinRun-v0", 1, 3);
    lc_coinrun_state *s = lc_coinrun_state_of(g.im.data, 0);
    flat_level(s, 30, 2);
    stand_at(s, 24);
    lc_coinrun_state start = *s;
    int32_t cls[LC_COINRUN_NACTIONS];
    // On open ground every action shows.
    ck_assert_int_eq(g.im.action_classes(g.im.data, 0, &g.rngs[0], cls), 0);
    for (int a = 0; a < LC_COINRUN_NACTIONS; a++) ck_assert_int_eq(cls[a], a);
    ck_assert(memcmp(s, &start, sizeof start) == 0); // the state is untouched
    // Airborne: jumping does nothing more than not jumping.
    game_step1(&g, 0, LC_COINRUN_JUMP);
    ck_assert_int_eq(s->on_ground, 0);
    ck_assert_int_eq(g.im.action_classes(g.im.data, 0, &g.rngs[0], cls), 0);
    ck_assert_int_eq(cls[LC_COINRUN_JUMP], LC_COINRUN_NOOP);
    ck_assert_int_eq(cls[LC_COINRUN_RIGHT_JUMP], LC_COINRUN_RIGHT);
    ck_assert_int_eq(cls[LC_COINRUN_LEFT], LC_COINRUN_LEFT);
    ck_assert_int_eq(cls[LC_COINRUN_RIGHT], LC_COINRUN_RIGHT);
    // Each class is what stepping the real state shows.
    lc_coinrun_state air = *s;
    uint8_t fr[LC_COINRUN_NACTIONS][FS];
    for (int a = 0; a < LC_COINRUN_NACTIONS; a++) {
        *s = air;
        game_step1(&g, 0, a);
        memcpy(fr[a], frame_of(&g, 0), FS);
    }
    for (int a = 0; a < LC_COINRUN_NACTIONS; a++)
        ck_assert_int_eq(memcmp(fr[a], fr[cls[a]], FS), 0);
    ck_assert(memcmp(fr[LC_COINRUN_LEFT], fr[LC_COINRUN_NOOP], FS) != 0);
    // Against the left wall, already facing it, a step left is a no-op.
    *s = start;
    stand_at(s, 0);
    s->facing = -1;
    ck_assert_int_eq(g.im.action_classes(g.im.data, 0, &g.rngs[0], cls), 0);
    ck_assert_int_eq(cls[LC_COINRUN_LEFT], LC_COINRUN_NOOP);
    ck_assert_int_eq(cls[LC_COINRUN_RIGHT], LC_COINRUN_RIGHT);
    game_close(&g);
}
END_TEST

// Through the vector: the same classes; envs that cannot copy their state and calls before
// reset are refused.
START_TEST(test_env_action_classes) {
    lc_error err = {0};
    int32_t cls[8];
    lc_env *e = make_env("CoinRun-v0", 2, 1, 0);
    ck_assert_int_eq(lc_env_action_classes(e, 0, cls, &err), LC_ERR_STATE);
    ck_assert_int_eq(lc_env_reset(e, 4, &err), LC_OK);
    ck_assert_int_eq(lc_env_action_classes(e, 2, cls, &err), LC_ERR_ARG);
    // The reset state stands on open ground: every action shows. Asking changes nothing:
    // the same steps give the same frames as an env that was never asked.
    lc_env *f = make_env("CoinRun-v0", 2, 1, 0);
    ck_assert_int_eq(lc_env_reset(f, 4, &err), LC_OK);
    for (int t = 0; t < 40; t++) {
        for (int i = 0; i < 2; i++) {
            ck_assert_int_eq(lc_env_action_classes(e, i, cls, &err), LC_OK);
            for (int a = 0; a < LC_COINRUN_NACTIONS; a++) ck_assert(cls[a] >= 0 && cls[a] <= a);
            if (t == 0) for (int a = 0; a < LC_COINRUN_NACTIONS; a++) ck_assert_int_eq(cls[a], a);
        }
        int32_t act[2] = {t % LC_COINRUN_NACTIONS, (t * 3 + 1) % LC_COINRUN_NACTIONS};
        ck_assert_int_eq(lc_env_step(e, act, &err), LC_OK);
        ck_assert_int_eq(lc_env_step(f, act, &err), LC_OK);
        ck_assert(memcmp(lc_env_get_buf(e)->obs, lc_env_get_buf(f)->obs, 2 * FS) == 0);
    }
    lc_env_free(e);
    lc_env_free(f);
    e = make_env("CartPole-v1", 1, 1, 0);
    ck_assert_int_eq(lc_env_reset(e, 1, &err), LC_OK);
    ck_assert_int_eq(lc_env_action_classes(e, 0, cls, &err), LC_ERR_UNSUPPORTED);
    lc_env_free(e);
}
END_TEST

START_TEST(test_env_registered) {
    const char *names[3] = {"CoinRun-v0", "Breakout-v0", "Catch-v0"};
    int nact[3] = {LC_COINRUN_NACTIONS, LC_BREAKOUT_NACTIONS, LC_CATCH_NACTIONS},
        limit[3] = {500, 1000, 100};
    for (int k = 0; k < 3; k++) {
        lc_env *e = make_env(names[k], 2, 1, 0);
        const lc_env_spec *sp = lc_env_get_spec(e);
        ck_assert_int_eq(sp->obs_size, FS);
        ck_assert_int_eq(sp->obs_space.dtype, LC_U8);
        ck_assert_int_eq(sp->act_space.n, nact[k]);
        ck_assert_int_eq(sp->max_episode_steps, limit[k]);
        ck_assert_int_eq(sp->render_w, LC_PIX_RENDER);
        lc_error err = {0};
        ck_assert_int_eq(lc_env_reset(e, 1, &err), LC_OK);
        uint8_t *rgb = malloc((size_t)sp->render_w * sp->render_h * 3);
        ck_assert_ptr_nonnull(rgb);
        ck_assert_int_eq(lc_env_render(e, 1, rgb, &err), LC_OK);
        const uint8_t *obs = lc_env_get_buf(e)->obs;
        ck_assert(memcmp(rgb, obs + FS, 3) == 0); // top-left pixel of env 1's frame
        free(rgb);
        // Out-of-range actions are refused by the vector.
        int32_t bad[2] = {0, nact[k]};
        ck_assert_int_eq(lc_env_step(e, bad, &err), LC_ERR_ACTION);
        lc_env_free(e);
    }
    int found = 0;
    for (int i = 0; i < lc_env_registry_count(); i++)
        found += !strcmp(lc_env_registry_name(i), "CoinRun-v0") ||
                 !strcmp(lc_env_registry_name(i), "Breakout-v0") ||
                 !strcmp(lc_env_registry_name(i), "Catch-v0");
    ck_assert_int_eq(found, 3);
}
END_TEST

// Random play of n envs for T steps; the frames, rewards and done flags hashed.
static uint64_t env_play(const char *name, int n, int threads, int nact, int T, int *episodes) {
    lc_env *e = make_env(name, n, threads, 0);
    lc_error err = {0};
    ck_assert_int_eq(lc_env_reset(e, 42, &err), LC_OK);
    const lc_env_buf *B = lc_env_get_buf(e);
    int32_t *act = malloc((size_t)n * sizeof *act);
    ck_assert_ptr_nonnull(act);
    lc_rng pol;
    lc_rng_seed(&pol, 3, 0);
    uint64_t h = 1469598103934665603ULL;
    *episodes = 0;
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < n; i++) act[i] = (int32_t)lc_rng_below(&pol, (uint32_t)nact);
        ck_assert_int_eq(lc_env_step(e, act, &err), LC_OK);
        const uint8_t *o = B->obs, *fo = B->final_obs;
        for (size_t k = 0; k < (size_t)n * FS; k++) h = (h ^ o[k]) * 1099511628211ULL;
        for (int i = 0; i < n; i++) {
            h = (h ^ (uint64_t)(B->rewards[i] * 16.0f)) * 1099511628211ULL;
            h = (h ^ B->done[i]) * 1099511628211ULL;
            if (!B->done[i]) continue;
            (*episodes)++;
            // The ended episode's last frame differs from the new episode's first.
            ck_assert(memcmp(fo + (size_t)i * FS, o + (size_t)i * FS, FS) != 0);
            ck_assert_int_eq(B->terminated[i] && B->truncated[i], 0);
        }
    }
    free(act);
    lc_env_free(e);
    return h;
}

START_TEST(test_env_threads_same) {
    const char *names[3] = {"CoinRun-v0", "Breakout-v0", "Catch-v0"};
    int nact[3] = {LC_COINRUN_NACTIONS, LC_BREAKOUT_NACTIONS, LC_CATCH_NACTIONS};
    for (int k = 0; k < 3; k++) {
        int e1, e2;
        uint64_t a = env_play(names[k], 8, 1, nact[k], 300, &e1);
        uint64_t b = env_play(names[k], 8, 2, nact[k], 300, &e2);
        ck_assert_msg(a == b, "%s: 1 and 2 threads differ", names[k]);
        ck_assert_int_eq(e1, e2);
        ck_assert_int_gt(e1, 0);
    }
}
END_TEST

START_TEST(test_env_time_limit) {
    lc_env *e = make_env("Breakout-v0", 1, 1, 20);
    lc_error err = {0};
    ck_assert_int_eq(lc_env_reset(e, 5, &err), LC_OK);
    const lc_env_buf *B = lc_env_get_buf(e);
    int32_t a = LC_BREAKOUT_NOOP;
    for (int t = 1; t <= 20; t++) {
        ck_assert_int_eq(lc_env_step(e, &a, &err), LC_OK);
        ck_assert_int_eq(B->done[0], t == 20);
    }
    ck_assert_int_eq(B->truncated[0], 1);
    ck_assert_int_eq(B->terminated[0], 0);
    ck_assert_int_eq(B->ep_length[0], 20);
    lc_env_free(e);
}
END_TEST

static Suite *pixel_suite(void) {
    Suite *s = suite_create("pixel");
    TCase *tc = tcase_create("spaces");
    tcase_add_test(tc, test_spaces);
    suite_add_tcase(s, tc);
    tc = tcase_create("determinism");
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_coinrun_levels_differ);
    suite_add_tcase(s, tc);
    tc = tcase_create("actions");
    tcase_add_test(tc, test_coinrun_actions_visible);
    tcase_add_test(tc, test_breakout_actions_visible);
    suite_add_tcase(s, tc);
    tc = tcase_create("self_motion");
    tcase_add_test(tc, test_breakout_ball_moves);
    tcase_add_test(tc, test_coinrun_enemies_move);
    suite_add_tcase(s, tc);
    tc = tcase_create("rewards_endings");
    tcase_add_test(tc, test_coinrun_coin_reward);
    tcase_add_test(tc, test_coinrun_deaths);
    tcase_add_test(tc, test_breakout_brick_reward);
    tcase_add_test(tc, test_breakout_ball_lost);
    tcase_add_test(tc, test_catch_rules);
    tcase_add_test(tc, test_catch_random_return);
    suite_add_tcase(s, tc);
    tc = tcase_create("frames");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_frames_flat_and_render);
    tcase_add_test(tc, test_random_play_runs);
    suite_add_tcase(s, tc);
    tc = tcase_create("lc_env");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_env_registered);
    tcase_add_test(tc, test_coinrun_action_classes);
    tcase_add_test(tc, test_env_action_classes);
    tcase_add_test(tc, test_env_threads_same);
    tcase_add_test(tc, test_env_time_limit);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, lc_contract_tcase("CoinRun-v0", NULL));
    suite_add_tcase(s, lc_contract_tcase("Breakout-v0", NULL));
    suite_add_tcase(s, lc_contract_tcase("Catch-v0", NULL));
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(pixel_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}

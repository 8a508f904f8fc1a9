// env/pixel.h: lucid's pixel games, CoinRun-v0, Breakout-v0 and Catch-v0: their constructors,
// their per-env state (so tests can build exact situations) and frame drawing.
// Leaves out: the vector layer (autoreset, time limit, stats live in env/env.c).
#ifndef LC_ENV_PIXEL_H
#define LC_ENV_PIXEL_H

#include <stdint.h>

#include "env/env.h"

// F = LC_PIX_FRAME, the side of every observation frame: obs rows are (F, F, 3) uint8.
#define LC_PIX_FRAME 64
#define LC_PIX_RENDER 256 // native render size (nearest-neighbour upscale of the frame)

// lc_pixel_register() (env/builtin.h) registers CoinRun-v0, Breakout-v0 and Catch-v0.

// ---------------------------------------------------------------- CoinRun-v0
// A side-scroller: 8-pixel tiles, 8 rows (the frame's height), a level of 24..32
// columns drawn from the episode's RNG: ground of varying height, gaps, floating
// platforms, patrolling enemies, the coin at the right end. The camera follows
// the player horizontally (a dead zone keeps the player between screen x 22 and 36).
// Actions: 0 noop, 1 left, 2 right, 3 jump, 4 right+jump. Reward 10 on touching the
// coin (terminated); falling into a gap or touching an enemy terminates with 0.

#define LC_COINRUN_TILE 8
#define LC_COINRUN_ROWS 8         // tile rows (row 0 at the top)
#define LC_COINRUN_MAX_COLS 40
#define LC_COINRUN_MAX_ENEMIES 4
#define LC_COINRUN_SUB 8          // sub-pixel units per pixel (vertical motion)
#define LC_COINRUN_PLAYER_W 6
#define LC_COINRUN_PLAYER_H 8
#define LC_COINRUN_ENEMY_W 8
#define LC_COINRUN_ENEMY_H 6
#define LC_COINRUN_COIN 6         // the coin is COIN x COIN pixels
#define LC_COINRUN_WALK 2         // pixels per step
#define LC_COINRUN_REWARD 10.0f

enum { LC_COINRUN_NOOP = 0, LC_COINRUN_LEFT, LC_COINRUN_RIGHT, LC_COINRUN_JUMP,
       LC_COINRUN_RIGHT_JUMP, LC_COINRUN_NACTIONS };

typedef struct lc_coinrun_enemy {
    int x, y;          // top-left, pixels in level coordinates
    int x_min, x_max;  // patrol range of x
    int dir;           // +1 right, -1 left; 1 pixel per step
} lc_coinrun_enemy;

typedef struct lc_coinrun_state {
    uint8_t cols[LC_COINRUN_MAX_COLS]; // bit r set: tile row r of that column is solid
    int ncols;
    int px;            // player left, pixels in level coordinates
    int py;            // player top, sub-pixels (LC_COINRUN_SUB per pixel)
    int vy;            // sub-pixels per step, positive downwards
    int on_ground;
    int facing;        // +1 right, -1 left (the eye shows it)
    int cam;           // camera left edge, pixels
    int coin_x, coin_y; // coin top-left, pixels
    int n_enemies;
    lc_coinrun_enemy enemies[LC_COINRUN_MAX_ENEMIES];
    int clouds;        // seed of the background clouds' layout
} lc_coinrun_state;

int lc_coinrun_make(lc_env_impl *impl, const char *name, int num_envs, const lc_env_opts *opts,
                    lc_error *err);
lc_coinrun_state *lc_coinrun_state_of(void *data, int i);
// Draws s as a (F, F, 3) frame.
void lc_coinrun_draw(const lc_coinrun_state *s, uint8_t *frame);
// 1 if tile (col, row) is solid; out of the level's columns or above the top is solid,
// below the bottom is empty.
int lc_coinrun_solid(const lc_coinrun_state *s, int col, int row);

// ---------------------------------------------------------------- Breakout-v0
// 64x64 Breakout: grey walls on the left, right and top, 6 rows of 10 bricks, a
// paddle at the bottom, a 2x2 ball that serves itself (no fire button) and leaves a
// grey trail where it was 2 steps ago (so one frame shows where it is going), 3 lives
// (dots at the top left). Actions: 0 noop, 1 left, 2 right (3 pixels per step).
// Reward +1 per brick; a cleared wall is rebuilt; losing the last ball terminates.

#define LC_BREAKOUT_SUB 16        // sub-pixel units per pixel (ball motion)
#define LC_BREAKOUT_WALL 2        // wall thickness, pixels
#define LC_BREAKOUT_BRICK_ROWS 6
#define LC_BREAKOUT_BRICK_COLS 10
#define LC_BREAKOUT_BRICK_W 6
#define LC_BREAKOUT_BRICK_H 4
#define LC_BREAKOUT_BRICK_TOP 8   // y of the first brick row
#define LC_BREAKOUT_PADDLE_W 16
#define LC_BREAKOUT_PADDLE_H 2
#define LC_BREAKOUT_PADDLE_Y 58
#define LC_BREAKOUT_PADDLE_SPEED 3
#define LC_BREAKOUT_BALL 2
#define LC_BREAKOUT_LIVES 3

enum { LC_BREAKOUT_NOOP = 0, LC_BREAKOUT_LEFT, LC_BREAKOUT_RIGHT, LC_BREAKOUT_NACTIONS };

typedef struct lc_breakout_state {
    uint8_t bricks[LC_BREAKOUT_BRICK_ROWS][LC_BREAKOUT_BRICK_COLS]; // 1 = standing
    int n_bricks;      // standing bricks
    int paddle_x;      // paddle left, pixels
    int bx, by;        // ball top-left, sub-pixels
    int vx, vy;        // ball velocity, sub-pixels per step
    int hx[2], hy[2];  // ball positions 1 and 2 steps ago (the trail), sub-pixels
    int lives;
} lc_breakout_state;

int lc_breakout_make(lc_env_impl *impl, const char *name, int num_envs, const lc_env_opts *opts,
                     lc_error *err);
lc_breakout_state *lc_breakout_state_of(void *data, int i);
void lc_breakout_draw(const lc_breakout_state *s, uint8_t *frame);

// ---------------------------------------------------------------- Catch-v0
// bsuite's Catch on an 8x8 grid of 8-pixel cells: the ball starts in a random column of
// the top row and falls one cell per step; the paddle starts in column 4 of the bottom
// row and moves one cell per step. When the ball reaches the bottom row (7 steps) the
// episode terminates with +1 if the paddle is under it, else -1. Actions: 0 noop,
// 1 left, 2 right. The smallest game on which a world model's whole loop can be checked.

#define LC_CATCH_CELL 8
#define LC_CATCH_CELLS 8 // cells per row and per column (F / CELL)

enum { LC_CATCH_NOOP = 0, LC_CATCH_LEFT, LC_CATCH_RIGHT, LC_CATCH_NACTIONS };

typedef struct lc_catch_state {
    int ball_x, ball_y; // cell column and row of the ball (row 0 at the top)
    int paddle;         // cell column of the paddle (on the bottom row)
} lc_catch_state;

int lc_catch_make(lc_env_impl *impl, const char *name, int num_envs, const lc_env_opts *opts,
                  lc_error *err);
lc_catch_state *lc_catch_state_of(void *data, int i);
void lc_catch_draw(const lc_catch_state *s, uint8_t *frame);

#endif

// env/breakout.c: Breakout-v0, a 64x64 Breakout: paddle, self-serving ball, six
// rows of bricks, three lives, +1 per brick.
// Leaves out: Atari's fire button, row-dependent scores, ball speed-ups, paddle shrinking.
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "env/pixel.h"
#include "env/pixel_draw.h"
#include "env/pixel_game.h"

// F = frame side (64). Positions of the ball are in sub-pixels (SUB per pixel).
#define F LC_PIX_FRAME
#define SUB LC_BREAKOUT_SUB
#define WALL LC_BREAKOUT_WALL
#define BROWS LC_BREAKOUT_BRICK_ROWS
#define BCOLS LC_BREAKOUT_BRICK_COLS
#define BW LC_BREAKOUT_BRICK_W
#define BH LC_BREAKOUT_BRICK_H
#define BTOP LC_BREAKOUT_BRICK_TOP
#define PW LC_BREAKOUT_PADDLE_W
#define PH LC_BREAKOUT_PADDLE_H
#define PY LC_BREAKOUT_PADDLE_Y
#define BALL LC_BREAKOUT_BALL

#define BALL_VY 16    // vertical ball speed, sub-pixels per step (1 px)
#define SERVE_Y 34    // the ball serves from this row, downwards
#define NSUB 2        // collision sub-steps per step (each moves under a pixel)

static const lc_pix_rgb BG = {0, 0, 0};
static const lc_pix_rgb WALL_C = {142, 142, 142};
static const lc_pix_rgb BRICK_C[BROWS] = {{200, 72, 72},  {198, 108, 58}, {180, 122, 48},
                                          {162, 162, 42}, {72, 160, 72},  {66, 72, 200}};
static const lc_pix_rgb PADDLE_C = {64, 224, 240};
static const lc_pix_rgb BALL_C = {255, 255, 255};
static const lc_pix_rgb TRAIL_C = {112, 112, 112};
static const int PADDLE_VX[6] = {-24, -16, -8, 8, 16, 24}; // by where the ball meets the paddle

void lc_breakout_draw(const lc_breakout_state *s, uint8_t *frame) {
    // Background rows: black with grey side walls; the top wall over it.
    uint8_t row[F * 3];
    memset(row, 0, sizeof row);
    lc_pix_fill(row, F, 1, 0, 0, F, 1, BG);
    lc_pix_fill(row, F, 1, 0, 0, WALL, 1, WALL_C);
    lc_pix_fill(row, F, 1, F - WALL, 0, WALL, 1, WALL_C);
    for (int y = 0; y < F; y++) memcpy(frame + (size_t)y * F * 3, row, sizeof row);
    lc_pix_fill(frame, F, F, 0, 0, F, WALL, WALL_C);
    for (int k = 0; k < s->lives; k++)
        lc_pix_fill(frame, F, F, WALL + 2 + 4 * k, WALL + 2, 2, 2, BALL_C);
    for (int r = 0; r < BROWS; r++)
        for (int c = 0; c < BCOLS; c++)
            if (s->bricks[r][c])
                lc_pix_fill(frame, F, F, WALL + c * BW, BTOP + r * BH, BW - 1, BH - 1, BRICK_C[r]);
    lc_pix_fill(frame, F, F, s->paddle_x, PY, PW, PH, PADDLE_C);
    int tx = s->hx[1] / SUB, ty = s->hy[1] / SUB, bx = s->bx / SUB, by = s->by / SUB;
    if (ty < F) lc_pix_fill(frame, F, F, tx, ty, BALL, BALL, TRAIL_C);
    if (by < F) lc_pix_fill(frame, F, F, bx, by, BALL, BALL, BALL_C);
}

static void build_wall(lc_breakout_state *s) {
    memset(s->bricks, 1, sizeof s->bricks);
    s->n_bricks = BROWS * BCOLS;
}

static void serve(lc_breakout_state *s, lc_rng *rng) {
    s->bx = (WALL + 8 + (int)lc_rng_below(rng, F - 2 * WALL - 16 - BALL + 1)) * SUB;
    s->by = SERVE_Y * SUB;
    s->vx = (lc_rng_below(rng, 2) ? 1 : -1) * (8 + 8 * (int)lc_rng_below(rng, 2));
    s->vy = BALL_VY;
    s->hx[0] = s->hx[1] = s->bx; // no trail yet
    s->hy[0] = s->hy[1] = s->by;
}

// Knocks out one standing brick under the ball box at pixel (x, y); 1 if it did.
static int hit_brick(lc_breakout_state *s, int x, int y) {
    if (y + BALL <= BTOP || y >= BTOP + BROWS * BH) return 0;
    for (int r = (y - BTOP) / BH; r <= (y + BALL - 1 - BTOP) / BH; r++) {
        if (r < 0 || r >= BROWS) continue;
        for (int c = (x - WALL) / BW; c <= (x + BALL - 1 - WALL) / BW; c++) {
            if (c < 0 || c >= BCOLS || !s->bricks[r][c]) continue;
            s->bricks[r][c] = 0;
            s->n_bricks--;
            return 1;
        }
    }
    return 0;
}

// Advances one step; returns the reward, sets *done when the last ball is lost.
static float advance(lc_breakout_state *s, int a, lc_rng *rng, int *done) {
    float reward = 0.0f;
    *done = 0;
    if (a == LC_BREAKOUT_LEFT) s->paddle_x -= LC_BREAKOUT_PADDLE_SPEED;
    if (a == LC_BREAKOUT_RIGHT) s->paddle_x += LC_BREAKOUT_PADDLE_SPEED;
    if (s->paddle_x < WALL) s->paddle_x = WALL;
    if (s->paddle_x > F - WALL - PW) s->paddle_x = F - WALL - PW;
    s->hx[1] = s->hx[0];
    s->hy[1] = s->hy[0];
    s->hx[0] = s->bx;
    s->hy[0] = s->by;
    for (int k = 0; k < NSUB; k++) {
        int nx = s->bx + s->vx / NSUB, x = nx / SUB, y = s->by / SUB;
        if (x < WALL || x + BALL > F - WALL) {
            s->vx = -s->vx;
        } else if (hit_brick(s, x, y)) {
            s->vx = -s->vx;
            reward += 1.0f;
        } else {
            s->bx = nx;
        }
        x = s->bx / SUB;
        int ny = s->by + s->vy / NSUB;
        int y1 = ny / SUB;
        if (y1 < WALL) {
            s->vy = -s->vy;
        } else if (hit_brick(s, x, y1)) {
            s->vy = -s->vy;
            reward += 1.0f;
        } else if (s->vy > 0 && y + BALL <= PY && y1 + BALL > PY && x + BALL > s->paddle_x &&
                   x < s->paddle_x + PW) {
            int off = x + BALL / 2 - (s->paddle_x + PW / 2); // -PW/2 .. PW/2
            int idx = (off + PW / 2) * 6 / (PW + 1);
            s->vx = PADDLE_VX[idx < 0 ? 0 : idx > 5 ? 5 : idx];
            s->vy = -s->vy;
        } else {
            s->by = ny;
        }
        if (s->n_bricks == 0) build_wall(s);
        if (s->by / SUB >= F) { // the ball left the picture
            if (--s->lives == 0) {
                *done = 1;
                break;
            }
            serve(s, rng);
        }
    }
    return reward;
}

static void bo_new_episode(void *state, lc_rng *rng) {
    lc_breakout_state *s = state;
    build_wall(s);
    s->lives = LC_BREAKOUT_LIVES;
    s->paddle_x = (F - PW) / 2;
    serve(s, rng);
}
static float bo_advance(void *s, int a, lc_rng *rng, int *done) { return advance(s, a, rng, done); }
static void bo_draw(const void *s, uint8_t *frame) { lc_breakout_draw(s, frame); }

static const lc_pix_game BREAKOUT = {sizeof(lc_breakout_state), LC_BREAKOUT_NACTIONS, 1000,
                                     bo_new_episode, bo_advance, bo_draw};

lc_breakout_state *lc_breakout_state_of(void *data, int i) { return lc_pix_game_state(data, i); }

int lc_breakout_make(lc_env_impl *impl, const char *name, int num_envs, const lc_env_opts *opts,
                     lc_error *err) {
    return lc_pix_game_make(impl, &BREAKOUT, name, num_envs, opts, err);
}

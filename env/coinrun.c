// env/coinrun.c: CoinRun-v0, a small side-scrolling platformer in the spirit of
// Procgen's CoinRun: a level drawn from the episode's RNG, the coin at the far right.
// Leaves out: Procgen's textures, crates, saws, vertical scrolling, velocity-based running.
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "env/pixel.h"
#include "env/pixel_draw.h"
#include "env/pixel_game.h"

// F = frame side (64), T = tile side (8), R = tile rows (8), so F = T * R.
#define F LC_PIX_FRAME
#define T LC_COINRUN_TILE
#define R LC_COINRUN_ROWS
#define SUB LC_COINRUN_SUB
#define PW LC_COINRUN_PLAYER_W
#define PH LC_COINRUN_PLAYER_H
#define EW LC_COINRUN_ENEMY_W
#define EH LC_COINRUN_ENEMY_H

#define GRAVITY 4     // sub-pixels per step per step (0.5 px)
#define JUMP_V 36     // jump speed, sub-pixels per step (a 22-pixel, 2.8-tile jump)
#define FALL_MAX 48   // fastest fall, sub-pixels per step (< one tile)
#define DEAD_LO 22    // the camera keeps the player's screen x within [DEAD_LO, DEAD_HI]
#define DEAD_HI 36
#define START_COL 1
#define START_H 2     // ground height of the start area, tiles

// ---------------------------------------------------------------- pictures

static const lc_pix_rgb SKY = {96, 152, 248};
static const lc_pix_rgb TILE_PAL[4] = {
    {64, 192, 64}, {32, 128, 40}, {156, 96, 44}, {112, 64, 28}}; // grass, dark grass, dirt, dark dirt
static const lc_pix_rgb CLOUD_PAL[1] = {{244, 248, 255}};
static const lc_pix_rgb PLAYER_PAL[4] = {{236, 40, 40}, {255, 255, 255}, {0, 0, 0}, {24, 24, 112}};
static const lc_pix_rgb ENEMY_PAL[3] = {{150, 48, 210}, {255, 255, 255}, {0, 0, 0}};
static const lc_pix_rgb COIN_PAL[3] = {{255, 212, 0}, {196, 136, 0}, {255, 252, 200}};

static const char *const TILE_TOP[T] = {
    "aaaaaaaa", "aaaaaaaa", "abaaaaba", "cccccccc",
    "ccccddcc", "cccccccc", "cddccccc", "cccccccc"};
static const char *const TILE_DIRT[T] = {
    "cccccccc", "ccccccdd", "cccccccc", "cddccccc",
    "cccccccc", "ccccddcc", "cccccccc", "cccccccc"};
static const char *const CLOUD[4] = {
    "...aaaa.....", ".aaaaaaaa...", "aaaaaaaaaaa.", ".aaaaaaaaaaa"};
// The player facing right: standing, rising (feet tucked), falling (legs apart), so
// one frame tells which way a jump is going.
static const char *const PLAYER[3][PH] = {
    {".aaaa.", "aaaaaa", "aaabca", "aaabca", "aaaaaa", ".aaaa.", ".d..d.", ".dd.dd"},
    {".aaaa.", "aaaaaa", "aaabca", "aaabca", "aaaaaa", ".aaaa.", ".dddd.", "......"},
    {".aaaa.", "aaaaaa", "aaabca", "aaabca", "aaaaaa", ".aaaa.", "d....d", "d....d"}};
static const char *const ENEMY[EH] = { // looking right
    "..aaaa..", ".aaaaaa.", "abcaabca", "aaaaaaaa", "aaaaaaaa", "a.a..a.a"};
static const char *const COIN[LC_COINRUN_COIN] = {
    ".aaaa.", "aacaaa", "acaaba", "aaaaba", "aabbaa", ".aaaa."};

// Tiles and the sky frame are drawn once per process (read-only afterwards).
static uint8_t tile_img[2][T * T * 3]; // 0: grass top, 1: dirt
static uint8_t sky_img[F * F * 3];
static pthread_once_t pictures_once = PTHREAD_ONCE_INIT;

static void make_pictures(void) {
    lc_pix_sprite(tile_img[0], T, T, 0, 0, TILE_TOP, T, T, TILE_PAL, 0);
    lc_pix_sprite(tile_img[1], T, T, 0, 0, TILE_DIRT, T, T, TILE_PAL, 0);
    lc_pix_fill(sky_img, F, F, 0, 0, F, F, SKY);
}

static uint32_t hash32(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

static int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

int lc_coinrun_solid(const lc_coinrun_state *s, int col, int row) {
    if (row >= R) return 0;
    if (row < 0 || col < 0 || col >= s->ncols) return 1;
    return (s->cols[col] >> row) & 1;
}

// Blits the columns [x0, x1) of an 8x8 tile at screen (sx, sy).
static void blit_tile(uint8_t *frame, const uint8_t *tile, int sx, int sy) {
    int x0 = sx < 0 ? -sx : 0, x1 = sx + T > F ? F - sx : T;
    if (x0 >= x1) return;
    for (int r = 0; r < T; r++)
        memcpy(frame + ((size_t)(sy + r) * F + sx + x0) * 3, tile + ((size_t)r * T + x0) * 3,
               (size_t)(x1 - x0) * 3);
}

void lc_coinrun_draw(const lc_coinrun_state *s, uint8_t *frame) {
    pthread_once(&pictures_once, make_pictures);
    memcpy(frame, sky_img, sizeof sky_img);
    // Clouds: one per 40 background pixels, parallax 1/2, drifting left by themselves.
    int bg = s->cam / 2;
    for (int k = bg / 40 - 1; k <= (bg + F) / 40 + 1; k++) {
        uint32_t h = hash32((uint32_t)s->clouds * 2654435761U + (uint32_t)k);
        int cx = k * 40 + (int)(h % 24) - bg, cy = 2 + (int)((h >> 8) % 14);
        lc_pix_sprite(frame, F, F, cx, cy, CLOUD, 12, 4, CLOUD_PAL, (h >> 16) & 1);
    }
    // Terrain.
    for (int c = s->cam / T; c <= (s->cam + F - 1) / T && c < s->ncols; c++) {
        int sx = c * T - s->cam;
        for (int r = 0; r < R; r++)
            if ((s->cols[c] >> r) & 1)
                blit_tile(frame, tile_img[(r == 0 || !((s->cols[c] >> (r - 1)) & 1)) ? 0 : 1], sx,
                          r * T);
    }
    lc_pix_sprite(frame, F, F, s->coin_x - s->cam, s->coin_y, COIN, LC_COINRUN_COIN,
                  LC_COINRUN_COIN, COIN_PAL, 0);
    for (int k = 0; k < s->n_enemies; k++) {
        const lc_coinrun_enemy *e = &s->enemies[k];
        lc_pix_sprite(frame, F, F, e->x - s->cam, e->y, ENEMY, EW, EH, ENEMY_PAL, e->dir < 0);
    }
    int pose = s->on_ground ? 0 : s->vy < 0 ? 1 : 2;
    lc_pix_sprite(frame, F, F, s->px - s->cam, floor_div(s->py, SUB), PLAYER[pose], PW, PH,
                  PLAYER_PAL, s->facing < 0);
}

// ---------------------------------------------------------------- level

static uint8_t ground_mask(int h) { return (uint8_t)(((1u << h) - 1) << (R - h)); }

static void generate(lc_coinrun_state *s, lc_rng *rng) {
    memset(s, 0, sizeof *s);
    s->ncols = 24 + (int)lc_rng_below(rng, 9);
    s->clouds = (int)(lc_rng_u32(rng) & 0x7fffffff);
    int h = START_H, c = 0, prev_gap = 0, end = s->ncols - 4;
    for (; c < 5; c++) s->cols[c] = ground_mask(h);
    while (c < end) {
        int left = end - c;
        if (!prev_gap && lc_rng_below(rng, 10) < 3) { // a gap of 1 or 2 tiles
            int w = 1 + (int)lc_rng_below(rng, 2);
            if (w > left) w = left;
            c += w; // cols are zero already
            prev_gap = 1;
            continue;
        }
        int len = 3 + (int)lc_rng_below(rng, 4);
        if (len > left) len = left;
        h += (int)lc_rng_below(rng, 3) - 1;
        if (h < 1) h = 1;
        if (h > 4) h = 4;
        for (int k = 0; k < len; k++) s->cols[c + k] = ground_mask(h);
        if (len >= 5 && s->n_enemies < LC_COINRUN_MAX_ENEMIES && lc_rng_below(rng, 2) == 0) {
            lc_coinrun_enemy *e = &s->enemies[s->n_enemies++];
            e->x_min = c * T;
            e->x_max = (c + len) * T - EW;
            e->x = e->x_min + (int)lc_rng_below(rng, (uint32_t)(e->x_max - e->x_min + 1));
            e->y = F - h * T - EH;
            e->dir = lc_rng_below(rng, 2) ? 1 : -1;
        } else if (len >= 4 && lc_rng_below(rng, 3) == 0) {
            // A floating platform one free tile above the ground (walk under, jump onto),
            // away from the segment's ends so it never roofs a step up.
            int at = c + 1 + (int)lc_rng_below(rng, (uint32_t)(len - 3));
            for (int k = at; k < at + 2; k++) s->cols[k] |= (uint8_t)(1u << (R - 1 - (h + 1)));
        }
        c += len;
        prev_gap = 0;
    }
    for (; c < s->ncols; c++) s->cols[c] = ground_mask(h);
    s->coin_x = (s->ncols - 1) * T + 1; // against the right wall: nothing gets past it
    s->coin_y = F - h * T - LC_COINRUN_COIN - 1;
    s->px = START_COL * T + 1;
    s->py = (F - START_H * T - PH) * SUB;
    s->facing = 1;
    s->on_ground = 1;
}

// ---------------------------------------------------------------- physics

// 1 if the player's box with top-left pixel (x, y) overlaps a solid tile.
static int blocked(const lc_coinrun_state *s, int x, int y) {
    int c0 = x < 0 ? -1 : x / T, c1 = (x + PW - 1) / T;
    int r0 = y < 0 ? -1 : y / T, r1 = (y + PH - 1) / T;
    for (int c = c0; c <= c1; c++)
        for (int r = r0; r <= r1; r++)
            if (lc_coinrun_solid(s, c, r)) return 1;
    return 0;
}

static int overlap(int ax, int ay, int aw, int ah, int bx, int by, int bw, int bh) {
    return ax < bx + bw && bx < ax + aw && ay < by + bh && by < ay + ah;
}


// Advances one step; returns the reward and sets *done on reaching the coin or dying.
static float advance(lc_coinrun_state *s, int a, int *done) {
    int dx = a == LC_COINRUN_LEFT ? -1 : (a == LC_COINRUN_RIGHT || a == LC_COINRUN_RIGHT_JUMP) ? 1 : 0;
    int jump = a == LC_COINRUN_JUMP || a == LC_COINRUN_RIGHT_JUMP;
    int y = floor_div(s->py, SUB);
    if (dx) {
        s->facing = dx;
        for (int k = 0; k < LC_COINRUN_WALK && !blocked(s, s->px + dx, y); k++) s->px += dx;
    }
    s->on_ground = s->vy >= 0 && blocked(s, s->px, y + 1);
    if (s->on_ground) {
        s->vy = 0;
        s->py = y * SUB;
    }
    if (jump && s->on_ground) {
        s->vy = -JUMP_V;
        s->on_ground = 0;
    }
    if (!s->on_ground) {
        s->vy += GRAVITY;
        if (s->vy > FALL_MAX) s->vy = FALL_MAX;
        int target = s->py + s->vy, ty = floor_div(target, SUB), step = ty > y ? 1 : -1;
        while (y != ty && !blocked(s, s->px, y + step)) y += step;
        if (y != ty) { // hit a floor or a ceiling
            s->py = y * SUB;
            if (step > 0) s->on_ground = 1;
            s->vy = 0;
        } else {
            s->py = target;
        }
    }
    for (int k = 0; k < s->n_enemies; k++) {
        lc_coinrun_enemy *e = &s->enemies[k];
        if (e->x + e->dir < e->x_min || e->x + e->dir > e->x_max) e->dir = -e->dir;
        e->x += e->dir;
    }
    int sx = s->px - s->cam; // camera dead zone
    if (sx < DEAD_LO) s->cam = s->px - DEAD_LO;
    if (sx > DEAD_HI) s->cam = s->px - DEAD_HI;
    if (s->cam > s->ncols * T - F) s->cam = s->ncols * T - F;
    if (s->cam < 0) s->cam = 0;

    y = floor_div(s->py, SUB);
    *done = 0;
    if (y >= F) { // fell into a gap and out of the picture
        *done = 1;
        return 0.0f;
    }
    for (int k = 0; k < s->n_enemies; k++)
        if (overlap(s->px, y, PW, PH, s->enemies[k].x, s->enemies[k].y, EW, EH)) {
            *done = 1;
            return 0.0f;
        }
    if (overlap(s->px, y, PW, PH, s->coin_x, s->coin_y, LC_COINRUN_COIN, LC_COINRUN_COIN)) {
        *done = 1;
        return LC_COINRUN_REWARD;
    }
    return 0.0f;
}

// ---------------------------------------------------------------- the impl

static void cr_new_episode(void *s, lc_rng *rng) { generate(s, rng); }
static float cr_advance(void *s, int a, lc_rng *rng, int *done) {
    (void)rng;
    return advance(s, a, done);
}
static void cr_draw(const void *s, uint8_t *frame) { lc_coinrun_draw(s, frame); }

static const lc_pix_game COINRUN = {sizeof(lc_coinrun_state), LC_COINRUN_NACTIONS, 500,
                                    cr_new_episode, cr_advance, cr_draw};

lc_coinrun_state *lc_coinrun_state_of(void *data, int i) { return lc_pix_game_state(data, i); }

int lc_coinrun_make(lc_env_impl *impl, const char *name, int num_envs, const lc_env_opts *opts,
                    lc_error *err) {
    pthread_once(&pictures_once, make_pictures);
    return lc_pix_game_make(impl, &COINRUN, name, num_envs, opts, err);
}

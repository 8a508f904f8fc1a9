// env/minatar.h: internal header of the MinAtar games (Young & Tian 2019; PyPI minatar
// 1.0.15), copied step for step: per-env game states, the rules of each game, drawing.
// Leaves out: the vector layer (env/env.c) and the env impl glue (env/minatar.c).
#ifndef LC_ENV_MINATAR_H
#define LC_ENV_MINATAR_H

#include <stdint.h>

#include "core/nprandom.h"
#include "env/env.h"

// The grid is N x N cells; an observation is (N, N, C) uint8 0/1, C the game's channels.
#define LC_MZ_N 10
#define LC_MZ_MAX_C 10
#define LC_MZ_NACTIONS 6   // 'n', 'l', 'u', 'r', 'd', 'f'
#define LC_MZ_LIST 64      // capacity of Seaquest's lists: enemies spawn at most once a step and
                           // cross the screen within 30 steps at top speed, so <= 31 live at once

enum { LC_MZ_NOOP = 0, LC_MZ_LEFT, LC_MZ_UP, LC_MZ_RIGHT, LC_MZ_DOWN, LC_MZ_FIRE };

typedef struct lc_mz_breakout {
    int ball_x, ball_y, ball_dir, pos, last_x, last_y, strike;
    uint16_t brick[LC_MZ_N]; // rows [y], bit x = column x
} lc_mz_breakout;

typedef struct lc_mz_freeway {
    int car[8][4]; // x, y, timer, signed speed
    int pos, move_timer, terminate_timer;
} lc_mz_freeway;

typedef struct lc_mz_asterix {
    int active[8], ex[8], lr[8], gold[8]; // slot i lives on row i + 1 for its whole life
    int player_x, player_y, spawn_speed, spawn_timer, move_speed, move_timer, ramp_timer, ramp_index;
} lc_mz_asterix;

typedef struct lc_mz_obj { int8_t x, y, lr, t, shot; } lc_mz_obj; // t, shot: timers (shot: subs only)
typedef struct lc_mz_list { int n; lc_mz_obj a[LC_MZ_LIST]; } lc_mz_list;

typedef struct lc_mz_seaquest {
    lc_mz_list f_bullets, e_bullets, e_fish, e_subs, divers; // in the reference's list order
    int oxygen, diver_count, sub_x, sub_y, sub_or, e_spawn_speed, e_spawn_timer, d_spawn_timer;
    int move_speed, ramp_index, shot_timer, surface;
} lc_mz_seaquest;

typedef struct lc_mz_invaders {
    uint16_t alien[LC_MZ_N], f_bullet[LC_MZ_N], e_bullet[LC_MZ_N]; // rows [y], bit x = column x
    int pos, alien_dir, enemy_move_interval, alien_move_timer, alien_shot_timer, ramp_index, shot_timer;
} lc_mz_invaders;

// One env: its numpy RandomState, the sticky action's memory and the game.
typedef struct lc_mz_state {
    lc_mt rng;
    int last_action; // in the full action set, kept across episodes as the reference does
    int terminal;
    int ramping;
    union {
        lc_mz_breakout breakout;
        lc_mz_freeway freeway;
        lc_mz_asterix asterix;
        lc_mz_seaquest seaquest;
        lc_mz_invaders invaders;
    } g;
} lc_mz_state;

// A game's rules, as the reference's Env class: reset, act (the reward; sets s->terminal),
// state (writes the (N, N, C) observation).
typedef struct lc_mz_game {
    const char *name;      // "Breakout"
    int channels;
    int n_minimal;
    int minimal[LC_MZ_NACTIONS]; // minimal_action_set()
    void (*reset)(lc_mz_state *s);
    int (*act)(lc_mz_state *s, int a);
    void (*observe)(const lc_mz_state *s, uint8_t *obs);
} lc_mz_game;

extern const lc_mz_game lc_mz_games[5]; // Asterix, Breakout, Freeway, Seaquest, SpaceInvaders

// The reference's rgb_array: seaborn's cubehelix palette of C colours, black where no
// channel is set, else the colour of the highest set channel; cells drawn as blocks.
void lc_mz_palette(int channels, uint8_t rgb[][3]); // rgb[0] black, rgb[1 + c] channel c
void lc_mz_draw(const uint8_t *obs, int channels, uint8_t *rgb, int w, int h);

#endif

// env/minatar_games.c: the five MinAtar games of minatar 1.0.15, line for line, with the
// reference's quirks kept (Seaquest's diver count going to -1 after a full surfacing, a sub
// removed while moving still firing, lists changed while iterated in reverse, removal by
// value). Leaves out: sticky actions and seeding (env/minatar.c), drawing (minatar_render.c).
#include <string.h>

#include "env/minatar.h"

#define N LC_MZ_N
#define OBS(o, C, y, x, c) (o)[((y) * N + (x)) * (C) + (c)]

// The reference's moves as tables (fewer unpredictable branches): action -> dx, dy.
static const int8_t MOVE_DX[LC_MZ_NACTIONS] = {0, -1, 0, 1, 0, 0}, MOVE_DY[LC_MZ_NACTIONS] = {0, 0, -1, 0, 1, 0};

static double rand01(lc_mz_state *s) { return lc_mt_random_sample(&s->rng); }
static int randint(lc_mz_state *s, int lo, int hi) { return (int)lc_mt_randint(&s->rng, lo, hi); }
static int imax(int a, int b) { return a > b ? a : b; }
static int imin(int a, int b) { return a < b ? a : b; }
static int iabs(int a) { return a < 0 ? -a : a; }
static int floordiv(int a, int b) { int q = a / b; return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q; }

// ---------------------------------------------------------------- Breakout

static void breakout_reset(lc_mz_state *st) {
    lc_mz_breakout *s = &st->g.breakout;
    s->ball_y = 3;
    int start = randint(st, 0, 2);
    s->ball_x = start ? 9 : 0;
    s->ball_dir = start ? 3 : 2;
    s->pos = 4;
    memset(s->brick, 0, sizeof s->brick);
    s->brick[1] = s->brick[2] = s->brick[3] = 0x3ff;
    s->strike = 0;
    s->last_x = s->ball_x;
    s->last_y = s->ball_y;
    st->terminal = 0;
}

static int breakout_act(lc_mz_state *st, int a) {
    static const int flip_x[4] = {1, 0, 3, 2}, flip_y[4] = {3, 2, 1, 0}, paddle[4] = {2, 3, 0, 1};
    lc_mz_breakout *s = &st->g.breakout;
    int r = 0;
    if (a == LC_MZ_LEFT) s->pos = imax(0, s->pos - 1);
    else if (a == LC_MZ_RIGHT) s->pos = imin(9, s->pos + 1);
    s->last_x = s->ball_x;
    s->last_y = s->ball_y;
    int new_x = s->ball_x + (s->ball_dir == 1 || s->ball_dir == 2 ? 1 : -1);
    int new_y = s->ball_y + (s->ball_dir >= 2 ? 1 : -1);
    int strike_toggle = 0;
    if (new_x < 0 || new_x > 9) {
        new_x = new_x < 0 ? 0 : 9;
        s->ball_dir = flip_x[s->ball_dir];
    }
    if (new_y < 0) {
        new_y = 0;
        s->ball_dir = flip_y[s->ball_dir];
    } else if (s->brick[new_y] >> new_x & 1u) {
        strike_toggle = 1;
        if (!s->strike) {
            r += 1;
            s->strike = 1;
            s->brick[new_y] &= (uint16_t)~(1u << new_x);
            new_y = s->last_y;
            s->ball_dir = flip_y[s->ball_dir];
        }
    } else if (new_y == 9) {
        unsigned any = 0;
        for (int y = 0; y < N; y++) any |= s->brick[y];
        if (!any) s->brick[1] = s->brick[2] = s->brick[3] = 0x3ff;
        if (s->ball_x == s->pos) {
            s->ball_dir = flip_y[s->ball_dir];
            new_y = s->last_y;
        } else if (new_x == s->pos) {
            s->ball_dir = paddle[s->ball_dir];
            new_y = s->last_y;
        } else {
            st->terminal = 1;
        }
    }
    if (!strike_toggle) s->strike = 0;
    s->ball_x = new_x;
    s->ball_y = new_y;
    return r;
}

// Breakout's cells are 4 bytes (channels); channel 3 (bricks) is byte 3 of a little-endian word.
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "BRICK5 holds little-endian words");

// BRICK5[v]: the words of 5 cells whose brick bits are v (channel 3 of a 4-channel cell).
#define BW(v, k) ((uint32_t)((v) >> (k) & 1) << 24)
#define B5(v) {BW(v, 0), BW(v, 1), BW(v, 2), BW(v, 3), BW(v, 4)}
#define B5x4(v) B5(v), B5(v + 1), B5(v + 2), B5(v + 3)
static const uint32_t BRICK5[32][5] = {B5x4(0), B5x4(4), B5x4(8), B5x4(12), B5x4(16), B5x4(20), B5x4(24), B5x4(28)};

static void breakout_observe(const lc_mz_state *st, uint8_t *o) {
    const lc_mz_breakout *s = &st->g.breakout;
    for (int y = 0; y < N; y++) {
        memcpy(o + y * N * 4, BRICK5[s->brick[y] & 31u], sizeof BRICK5[0]);
        memcpy(o + (y * N + 5) * 4, BRICK5[s->brick[y] >> 5], sizeof BRICK5[0]);
    }
    OBS(o, 4, s->ball_y, s->ball_x, 1) = 1;
    OBS(o, 4, 9, s->pos, 0) = 1;
    OBS(o, 4, s->last_y, s->last_x, 2) = 1;
}

// ---------------------------------------------------------------- Freeway

#define FW_PLAYER_SPEED 3
#define FW_TIME_LIMIT 2500

static void freeway_randomize_cars(lc_mz_state *st, int initialize) {
    lc_mz_freeway *s = &st->g.freeway;
    int speeds[8];
    for (int i = 0; i < 8; i++) speeds[i] = randint(st, 1, 6);
    for (int i = 0; i < 8; i++) { // np.sign(rand(8) - 0.5)
        double d = rand01(st) - 0.5;
        speeds[i] *= d > 0 ? 1 : d < 0 ? -1 : 0;
    }
    for (int i = 0; i < 8; i++) {
        if (initialize) {
            s->car[i][0] = 0;
            s->car[i][1] = i + 1;
        }
        s->car[i][2] = iabs(speeds[i]);
        s->car[i][3] = speeds[i];
    }
}

static void freeway_reset(lc_mz_state *st) {
    lc_mz_freeway *s = &st->g.freeway;
    freeway_randomize_cars(st, 1);
    s->pos = 9;
    s->move_timer = FW_PLAYER_SPEED;
    s->terminate_timer = FW_TIME_LIMIT;
    st->terminal = 0;
}

static int freeway_act(lc_mz_state *st, int a) {
    lc_mz_freeway *s = &st->g.freeway;
    int r = 0;
    if (a == LC_MZ_UP && s->move_timer == 0) {
        s->move_timer = FW_PLAYER_SPEED;
        s->pos = imax(0, s->pos - 1);
    } else if (a == LC_MZ_DOWN && s->move_timer == 0) {
        s->move_timer = FW_PLAYER_SPEED;
        s->pos = imin(9, s->pos + 1);
    }
    if (s->pos == 0) {
        r += 1;
        freeway_randomize_cars(st, 0);
        s->pos = 9;
    }
    for (int i = 0; i < 8; i++) {
        int *car = s->car[i];
        if (car[0] == 4 && car[1] == s->pos) s->pos = 9;
        if (car[2] == 0) {
            car[2] = iabs(car[3]);
            car[0] += car[3] > 0 ? 1 : -1;
            if (car[0] < 0) car[0] = 9;
            else if (car[0] > 9) car[0] = 0;
            if (car[0] == 4 && car[1] == s->pos) s->pos = 9;
        } else {
            car[2] -= 1;
        }
    }
    s->move_timer -= s->move_timer > 0;
    s->terminate_timer -= 1;
    if (s->terminate_timer < 0) st->terminal = 1;
    return r;
}

static void freeway_observe(const lc_mz_state *st, uint8_t *o) {
    const lc_mz_freeway *s = &st->g.freeway;
    memset(o, 0, N * N * 7);
    OBS(o, 7, s->pos, 4, 0) = 1;
    int trail = -1; // a speed of 0 (rand() == 0.5 exactly) keeps the last car's trail, as Python's loop variable
    for (int i = 0; i < 8; i++) {
        const int *car = s->car[i];
        OBS(o, 7, car[1], car[0], 1) = 1;
        int back_x = car[3] > 0 ? car[0] - 1 : car[0] + 1;
        if (back_x < 0) back_x = 9;
        else if (back_x > 9) back_x = 0;
        int sp = iabs(car[3]);
        if (sp >= 1 && sp <= 5) trail = 1 + sp;
        if (trail >= 0) OBS(o, 7, car[1], back_x, trail) = 1;
    }
}

// ---------------------------------------------------------------- Asterix

#define AX_RAMP_INTERVAL 100
#define AX_INIT_SPAWN_SPEED 10
#define AX_INIT_MOVE_INTERVAL 5

static void asterix_reset(lc_mz_state *st) {
    lc_mz_asterix *s = &st->g.asterix;
    memset(s, 0, sizeof *s);
    s->player_x = 5;
    s->player_y = 5;
    s->spawn_speed = AX_INIT_SPAWN_SPEED;
    s->spawn_timer = s->spawn_speed;
    s->move_speed = AX_INIT_MOVE_INTERVAL;
    s->move_timer = s->move_speed;
    s->ramp_timer = AX_RAMP_INTERVAL;
    s->ramp_index = 0;
    st->terminal = 0;
}

static void asterix_spawn(lc_mz_state *st) {
    lc_mz_asterix *s = &st->g.asterix;
    int lr = rand01(st) < 1.0 / 2;
    int is_gold = rand01(st) < 1.0 / 3;
    int slots[8], n = 0;
    for (int i = 0; i < 8; i++)
        if (!s->active[i]) slots[n++] = i;
    if (!n) return;
    int slot = slots[randint(st, 0, n)];
    s->active[slot] = 1;
    s->ex[slot] = lr ? 0 : 9;
    s->lr[slot] = lr;
    s->gold[slot] = is_gold;
}

static int asterix_act(lc_mz_state *st, int a) {
    lc_mz_asterix *s = &st->g.asterix;
    int r = 0;
    if (s->spawn_timer == 0) {
        asterix_spawn(st);
        s->spawn_timer = s->spawn_speed;
    }
    s->player_x = imin(9, imax(0, s->player_x + MOVE_DX[a])); // l, r
    s->player_y = imin(8, imax(1, s->player_y + MOVE_DY[a])); // u, d
    // Only the entity of the player's row (slot player_y - 1) can touch the player, so the
    // reference's checks over all entities reduce to that one (moves of others cannot change it).
    const int k = s->player_y - 1;
    if (s->active[k] && s->ex[k] == s->player_x) {
        if (s->gold[k]) {
            s->active[k] = 0;
            r += 1;
        } else {
            st->terminal = 1;
        }
    }
    if (s->move_timer == 0) {
        s->move_timer = s->move_speed;
        for (int i = 0; i < 8; i++) {
            s->ex[i] += s->active[i] ? (s->lr[i] ? 1 : -1) : 0;
            s->active[i] &= s->ex[i] >= 0 && s->ex[i] <= 9;
        }
        if (s->active[k] && s->ex[k] == s->player_x) {
            if (s->gold[k]) {
                s->active[k] = 0;
                r += 1;
            } else {
                st->terminal = 1;
            }
        }
    }
    s->spawn_timer -= 1;
    s->move_timer -= 1;
    if (st->ramping && (s->spawn_speed > 1 || s->move_speed > 1)) {
        if (s->ramp_timer >= 0) {
            s->ramp_timer -= 1;
        } else {
            if (s->move_speed > 1 && s->ramp_index % 2) s->move_speed -= 1;
            if (s->spawn_speed > 1) s->spawn_speed -= 1;
            s->ramp_index += 1;
            s->ramp_timer = AX_RAMP_INTERVAL;
        }
    }
    return r;
}

static void asterix_observe(const lc_mz_state *st, uint8_t *o) {
    const lc_mz_asterix *s = &st->g.asterix;
    memset(o, 0, N * N * 4);
    OBS(o, 4, s->player_y, s->player_x, 0) = 1;
    // Without branches: an inactive entity (or a trail off the grid) stores 0 into column 0 of
    // its row; no one else draws channels 1-3 of row i + 1. Stores, not |=: reading back what
    // memset just stored would stall.
    for (int i = 0; i < 8; i++) {
        const int on = s->active[i], x = on ? s->ex[i] : 0;
        OBS(o, 4, i + 1, x, 1 + 2 * s->gold[i]) = (uint8_t)on;
        const int back_x = x + (s->lr[i] ? -1 : 1);
        const int inside = back_x >= 0 && back_x <= 9;
        OBS(o, 4, i + 1, inside ? back_x : 0, 2) = (uint8_t)(on & inside);
    }
}

// ---------------------------------------------------------------- Seaquest

#define SQ_MAX_OXYGEN 200
#define SQ_INIT_SPAWN_SPEED 20
#define SQ_DIVER_SPAWN_SPEED 30
#define SQ_INIT_MOVE_INTERVAL 5
#define SQ_SHOT_COOL_DOWN 5
#define SQ_ENEMY_SHOT_INTERVAL 10
#define SQ_DIVER_MOVE_INTERVAL 5

// Python list semantics: the reference compares objects by value (x, y, direction and
// timers) and removes the first equal one; loops run in reverse over lists they change.
static int obj_eq(const lc_mz_obj *a, const lc_mz_obj *b, int timers) {
    return a->x == b->x && a->y == b->y && a->lr == b->lr &&
           (timers < 1 || a->t == b->t) && (timers < 2 || a->shot == b->shot);
}

static void list_del(lc_mz_list *l, int k) {
    memmove(&l->a[k], &l->a[k + 1], (size_t)(l->n - k - 1) * sizeof l->a[0]);
    l->n--;
}

// list.remove(*o) for the object the reverse loop holds at index idx: returns where that
// object is now, or tmp (a copy) when it was the one removed.
static lc_mz_obj *list_remove_cur(lc_mz_list *l, lc_mz_obj *o, int idx, int timers, lc_mz_obj *tmp) {
    int k = 0;
    while (!obj_eq(&l->a[k], o, timers)) k++; // o itself is in the list, so k <= idx
    *tmp = *o;
    list_del(l, k);
    return k == idx ? tmp : &l->a[idx - 1];
}

// list.remove(x) for an object found by a forward search (the first equal one is x's index or earlier).
static void list_remove(lc_mz_list *l, int j, int timers) {
    int k = 0;
    while (!obj_eq(&l->a[k], &l->a[j], timers)) k++;
    list_del(l, k);
}

static void list_add(lc_mz_list *l, int x, int y, int lr, int t, int shot) {
    if (l->n == LC_MZ_LIST) return; // never reached (see LC_MZ_LIST)
    l->a[l->n++] = (lc_mz_obj){(int8_t)x, (int8_t)y, (int8_t)lr, (int8_t)t, (int8_t)shot};
}

static void seaquest_reset(lc_mz_state *st) {
    lc_mz_seaquest *s = &st->g.seaquest;
    s->oxygen = SQ_MAX_OXYGEN;
    s->diver_count = 0;
    s->sub_x = 5;
    s->sub_y = 0;
    s->sub_or = 0;
    s->f_bullets.n = s->e_bullets.n = s->e_fish.n = s->e_subs.n = s->divers.n = 0;
    s->e_spawn_speed = SQ_INIT_SPAWN_SPEED;
    s->e_spawn_timer = s->e_spawn_speed;
    s->d_spawn_timer = SQ_DIVER_SPAWN_SPEED;
    s->move_speed = SQ_INIT_MOVE_INTERVAL;
    s->ramp_index = 0;
    s->shot_timer = 0;
    s->surface = 1;
    st->terminal = 0;
}

static void seaquest_spawn_enemy(lc_mz_state *st) {
    lc_mz_seaquest *s = &st->g.seaquest;
    int lr = rand01(st) < 1.0 / 2;
    int is_sub = rand01(st) < 1.0 / 3;
    int x = lr ? 0 : 9;
    int y = randint(st, 1, 9);
    for (int i = 0; i < s->e_subs.n; i++)
        if (s->e_subs.a[i].y == y && s->e_subs.a[i].lr != lr) return;
    for (int i = 0; i < s->e_fish.n; i++)
        if (s->e_fish.a[i].y == y && s->e_fish.a[i].lr != lr) return;
    if (is_sub) list_add(&s->e_subs, x, y, lr, s->move_speed, SQ_ENEMY_SHOT_INTERVAL);
    else list_add(&s->e_fish, x, y, lr, s->move_speed, 0);
}

static void seaquest_spawn_diver(lc_mz_state *st) {
    lc_mz_seaquest *s = &st->g.seaquest;
    int lr = rand01(st) < 1.0 / 2;
    int x = lr ? 0 : 9;
    int y = randint(st, 1, 9);
    list_add(&s->divers, x, y, lr, SQ_DIVER_MOVE_INTERVAL, 0);
}

static int seaquest_surface(lc_mz_state *st) {
    lc_mz_seaquest *s = &st->g.seaquest;
    int r = 0;
    s->surface = 1;
    if (s->diver_count == 6) {
        s->diver_count = 0;
        r = floordiv(s->oxygen * 10, SQ_MAX_OXYGEN);
    }
    s->oxygen = SQ_MAX_OXYGEN;
    s->diver_count -= 1; // after a full surfacing too (-1), as the reference
    if (st->ramping && (s->e_spawn_speed > 1 || s->move_speed > 2)) {
        if (s->move_speed > 2 && s->ramp_index % 2) s->move_speed -= 1;
        if (s->e_spawn_speed > 1) s->e_spawn_speed -= 1;
        s->ramp_index += 1;
    }
    return r;
}

// Finds the first object of l on (x, y) (a forward search); -1 if none.
static int list_find_at(const lc_mz_list *l, int x, int y) {
    for (int j = 0; j < l->n; j++)
        if (l->a[j].x == x && l->a[j].y == y) return j;
    return -1;
}

static int at_sub(const lc_mz_seaquest *s, const lc_mz_obj *o) { return o->x == s->sub_x && o->y == s->sub_y; }

static int seaquest_act(lc_mz_state *st, int a) {
    lc_mz_seaquest *s = &st->g.seaquest;
    lc_mz_obj tmp;
    int r = 0;
    if (s->e_spawn_timer == 0) {
        seaquest_spawn_enemy(st);
        s->e_spawn_timer = s->e_spawn_speed;
    }
    if (s->d_spawn_timer == 0) {
        seaquest_spawn_diver(st);
        s->d_spawn_timer = SQ_DIVER_SPAWN_SPEED;
    }
    if (a == LC_MZ_FIRE && s->shot_timer == 0) {
        list_add(&s->f_bullets, s->sub_x, s->sub_y, s->sub_or, 0, 0);
        s->shot_timer = SQ_SHOT_COOL_DOWN;
    } else if (a == LC_MZ_LEFT) {
        s->sub_x = imax(0, s->sub_x - 1);
        s->sub_or = 0;
    } else if (a == LC_MZ_RIGHT) {
        s->sub_x = imin(9, s->sub_x + 1);
        s->sub_or = 1;
    } else if (a == LC_MZ_UP) {
        s->sub_y = imax(0, s->sub_y - 1);
    } else if (a == LC_MZ_DOWN) {
        s->sub_y = imin(8, s->sub_y + 1);
    }

    // Friendly bullets (compared by x, y, direction).
    for (int idx = s->f_bullets.n - 1; idx >= 0 && idx < s->f_bullets.n; idx--) {
        lc_mz_obj *b = &s->f_bullets.a[idx];
        b->x += b->lr ? 1 : -1;
        if (b->x < 0 || b->x > 9) {
            list_remove_cur(&s->f_bullets, b, idx, 0, &tmp);
            continue;
        }
        int j = list_find_at(&s->e_fish, b->x, b->y);
        if (j >= 0) {
            list_remove(&s->e_fish, j, 1);
            list_remove_cur(&s->f_bullets, b, idx, 0, &tmp);
            r += 1;
            continue;
        }
        j = list_find_at(&s->e_subs, b->x, b->y);
        if (j >= 0) {
            list_remove(&s->e_subs, j, 2);
            list_remove_cur(&s->f_bullets, b, idx, 0, &tmp);
            r += 1;
        }
    }

    // Divers.
    for (int idx = s->divers.n - 1; idx >= 0 && idx < s->divers.n; idx--) {
        lc_mz_obj *d = &s->divers.a[idx];
        if (at_sub(s, d) && s->diver_count < 6) {
            list_remove_cur(&s->divers, d, idx, 1, &tmp);
            s->diver_count += 1;
        } else if (d->t == 0) {
            d->t = SQ_DIVER_MOVE_INTERVAL;
            d->x += d->lr ? 1 : -1;
            if (d->x < 0 || d->x > 9) {
                list_remove_cur(&s->divers, d, idx, 1, &tmp);
            } else if (at_sub(s, d) && s->diver_count < 6) {
                list_remove_cur(&s->divers, d, idx, 1, &tmp);
                s->diver_count += 1;
            }
        } else {
            d->t -= 1;
        }
    }

    // Enemy subs: a sub removed this step still fires when its timer is due.
    for (int idx = s->e_subs.n - 1; idx >= 0 && idx < s->e_subs.n; idx--) {
        lc_mz_obj *e = &s->e_subs.a[idx];
        if (at_sub(s, e)) st->terminal = 1;
        if (e->t == 0) {
            e->t = s->move_speed;
            e->x += e->lr ? 1 : -1;
            if (e->x < 0 || e->x > 9) {
                e = list_remove_cur(&s->e_subs, e, idx, 2, &tmp);
            } else if (at_sub(s, e)) {
                st->terminal = 1;
            } else {
                int j = list_find_at(&s->f_bullets, e->x, e->y);
                if (j >= 0) {
                    e = list_remove_cur(&s->e_subs, e, idx, 2, &tmp);
                    list_remove(&s->f_bullets, j, 0);
                    r += 1;
                }
            }
        } else {
            e->t -= 1;
        }
        if (e->shot == 0) {
            e->shot = SQ_ENEMY_SHOT_INTERVAL;
            list_add(&s->e_bullets, e->x, e->y, e->lr, 0, 0);
        } else {
            e->shot -= 1;
        }
    }

    // Enemy bullets.
    for (int idx = s->e_bullets.n - 1; idx >= 0 && idx < s->e_bullets.n; idx--) {
        lc_mz_obj *b = &s->e_bullets.a[idx];
        if (at_sub(s, b)) st->terminal = 1;
        b->x += b->lr ? 1 : -1;
        if (b->x < 0 || b->x > 9) list_remove_cur(&s->e_bullets, b, idx, 0, &tmp);
        else if (at_sub(s, b)) st->terminal = 1;
    }

    // Enemy fish.
    for (int idx = s->e_fish.n - 1; idx >= 0 && idx < s->e_fish.n; idx--) {
        lc_mz_obj *f = &s->e_fish.a[idx];
        if (at_sub(s, f)) st->terminal = 1;
        if (f->t == 0) {
            f->t = s->move_speed;
            f->x += f->lr ? 1 : -1;
            if (f->x < 0 || f->x > 9) {
                list_remove_cur(&s->e_fish, f, idx, 1, &tmp);
            } else if (at_sub(s, f)) {
                st->terminal = 1;
            } else {
                int j = list_find_at(&s->f_bullets, f->x, f->y);
                if (j >= 0) {
                    list_remove_cur(&s->e_fish, f, idx, 1, &tmp);
                    list_remove(&s->f_bullets, j, 0);
                    r += 1;
                }
            }
        } else {
            f->t -= 1;
        }
    }

    s->e_spawn_timer -= s->e_spawn_timer > 0;
    s->d_spawn_timer -= s->d_spawn_timer > 0;
    s->shot_timer -= s->shot_timer > 0;
    if (s->oxygen <= 0) st->terminal = 1;
    if (s->sub_y > 0) {
        s->oxygen -= 1;
        s->surface = 0;
    } else if (!s->surface) {
        if (s->diver_count == 0) st->terminal = 1;
        else r += seaquest_surface(st);
    }
    return r;
}

static void trail_at(uint8_t *o, const lc_mz_obj *e, int c) {
    int back_x = e->lr ? e->x - 1 : e->x + 1;
    if (back_x >= 0 && back_x <= 9) OBS(o, 10, e->y, back_x, c) = 1;
}

static void seaquest_observe(const lc_mz_state *st, uint8_t *o) {
    const lc_mz_seaquest *s = &st->g.seaquest;
    memset(o, 0, N * N * 10);
    OBS(o, 10, s->sub_y, s->sub_x, 0) = 1;
    int back_x = s->sub_or ? s->sub_x - 1 : s->sub_x + 1;
    if (back_x < 0) back_x += N; // numpy's negative index (never reached in play)
    if (back_x < N) OBS(o, 10, s->sub_y, back_x, 1) = 1;
    for (int x = 0; x < imax(0, s->oxygen) * 10 / SQ_MAX_OXYGEN && x < N; x++) OBS(o, 10, 9, x, 7) = 1;
    for (int x = imax(0, 9 - s->diver_count); x < 9; x++) OBS(o, 10, 9, x, 8) = 1;
    for (int i = 0; i < s->f_bullets.n; i++) OBS(o, 10, s->f_bullets.a[i].y, s->f_bullets.a[i].x, 2) = 1;
    for (int i = 0; i < s->e_bullets.n; i++) OBS(o, 10, s->e_bullets.a[i].y, s->e_bullets.a[i].x, 4) = 1;
    for (int i = 0; i < s->e_fish.n; i++) {
        OBS(o, 10, s->e_fish.a[i].y, s->e_fish.a[i].x, 5) = 1;
        trail_at(o, &s->e_fish.a[i], 3);
    }
    for (int i = 0; i < s->e_subs.n; i++) {
        OBS(o, 10, s->e_subs.a[i].y, s->e_subs.a[i].x, 6) = 1;
        trail_at(o, &s->e_subs.a[i], 3);
    }
    for (int i = 0; i < s->divers.n; i++) {
        OBS(o, 10, s->divers.a[i].y, s->divers.a[i].x, 9) = 1;
        trail_at(o, &s->divers.a[i], 3);
    }
}

// ---------------------------------------------------------------- SpaceInvaders

#define SI_SHOT_COOL_DOWN 5
#define SI_ENEMY_MOVE_INTERVAL 12
#define SI_ENEMY_SHOT_INTERVAL 10
#define ROW_BITS 0x3ffu

// The reference's 10x10 maps as rows of bits; np.roll along either axis wraps around.
static void roll_down(uint16_t m[N]) { // np.roll(m, 1, axis=0)
    uint16_t last = m[N - 1];
    memmove(m + 1, m, (N - 1) * sizeof m[0]);
    m[0] = last;
}

static int count_aliens(const lc_mz_invaders *s) {
    int n = 0;
    for (int y = 0; y < N; y++) n += __builtin_popcount(s->alien[y]);
    return n;
}

static void invaders_wave(lc_mz_invaders *s) {
    for (int y = 0; y < 4; y++) s->alien[y] = 0xfc; // columns 2..7
}

static void invaders_reset(lc_mz_state *st) {
    lc_mz_invaders *s = &st->g.invaders;
    memset(s, 0, sizeof *s);
    s->pos = 5;
    invaders_wave(s);
    s->alien_dir = -1;
    s->enemy_move_interval = SI_ENEMY_MOVE_INTERVAL;
    s->alien_move_timer = s->enemy_move_interval;
    s->alien_shot_timer = SI_ENEMY_SHOT_INTERVAL;
    s->ramp_index = 0;
    s->shot_timer = 0;
    st->terminal = 0;
}

static int invaders_act(lc_mz_state *st, int a) {
    lc_mz_invaders *s = &st->g.invaders;
    int r = 0;
    const uint16_t me = (uint16_t)(1u << s->pos);
    if (a == LC_MZ_FIRE && s->shot_timer == 0) {
        s->f_bullet[9] |= me;
        s->shot_timer = SI_SHOT_COOL_DOWN;
    } else if (a == LC_MZ_LEFT) {
        s->pos = imax(0, s->pos - 1);
    } else if (a == LC_MZ_RIGHT) {
        s->pos = imin(9, s->pos + 1);
    }
    const uint16_t at = (uint16_t)(1u << s->pos);
    memmove(s->f_bullet, s->f_bullet + 1, (N - 1) * sizeof s->f_bullet[0]); // roll up, row 9 cleared
    s->f_bullet[9] = 0;
    memmove(s->e_bullet + 1, s->e_bullet, (N - 1) * sizeof s->e_bullet[0]); // roll down, row 0 cleared
    s->e_bullet[0] = 0;
    if (s->e_bullet[9] & at) st->terminal = 1;
    if (s->alien[9] & at) st->terminal = 1;
    if (s->alien_move_timer == 0) {
        s->alien_move_timer = imin(count_aliens(s), s->enemy_move_interval);
        uint16_t any = 0;
        for (int y = 0; y < N; y++) any |= s->alien[y];
        if (((any & 1u) && s->alien_dir < 0) || ((any & 0x200u) && s->alien_dir > 0)) {
            s->alien_dir = -s->alien_dir;
            if (s->alien[9]) st->terminal = 1;
            roll_down(s->alien);
        } else {
            for (int y = 0; y < N; y++) { // np.roll(m, dir, axis=1)
                unsigned v = s->alien[y];
                s->alien[y] = (uint16_t)(s->alien_dir < 0 ? (v >> 1) | ((v & 1u) << 9) : ((v << 1) & ROW_BITS) | (v >> 9));
            }
        }
        if (s->alien[9] & at) st->terminal = 1;
    }
    if (s->alien_shot_timer == 0) {
        s->alien_shot_timer = SI_ENEMY_SHOT_INTERVAL;
        uint16_t cols = 0;
        for (int y = 0; y < N; y++) cols |= s->alien[y];
        for (int d = 0; d < N && cols; d++) { // columns by distance to the cannon, the left one first on ties
            int col = s->pos - d >= 0 && (cols >> (s->pos - d) & 1u) ? s->pos - d
                      : s->pos + d < N && (cols >> (s->pos + d) & 1u) ? s->pos + d : -1;
            if (col < 0) continue;
            int row = N - 1;
            while (!(s->alien[row] >> col & 1u)) row--;
            s->e_bullet[row] |= (uint16_t)(1u << col);
            break;
        }
    }
    int left = 0;
    for (int y = 0; y < N; y++) {
        uint16_t k = s->alien[y] & s->f_bullet[y];
        r += __builtin_popcount(k);
        s->alien[y] &= (uint16_t)~k;
        s->f_bullet[y] &= (uint16_t)~k;
        left |= s->alien[y];
    }
    s->shot_timer -= s->shot_timer > 0;
    s->alien_move_timer -= 1;
    s->alien_shot_timer -= 1;
    if (!left) {
        if (s->enemy_move_interval > 6 && st->ramping) {
            s->enemy_move_interval -= 1;
            s->ramp_index += 1;
        }
        invaders_wave(s);
    }
    return r;
}

static void invaders_observe(const lc_mz_state *st, uint8_t *o) {
    const lc_mz_invaders *s = &st->g.invaders;
    const int dir_c = s->alien_dir < 0 ? 2 : 3;
    memset(o, 0, N * N * 6);
    OBS(o, 6, 9, s->pos, 0) = 1;
    for (int y = 0; y < N; y++) {
        if (!(s->alien[y] | s->f_bullet[y] | s->e_bullet[y])) continue;
        for (int x = 0; x < N; x++) {
            uint8_t al = (uint8_t)(s->alien[y] >> x & 1u);
            OBS(o, 6, y, x, 1) = al;
            OBS(o, 6, y, x, dir_c) = al;
            OBS(o, 6, y, x, 4) = (uint8_t)(s->f_bullet[y] >> x & 1u);
            OBS(o, 6, y, x, 5) = (uint8_t)(s->e_bullet[y] >> x & 1u);
        }
    }
}

// ---------------------------------------------------------------- the table

const lc_mz_game lc_mz_games[5] = {
    {"Asterix", 4, 5, {0, 1, 2, 3, 4}, asterix_reset, asterix_act, asterix_observe},
    {"Breakout", 4, 3, {0, 1, 3}, breakout_reset, breakout_act, breakout_observe},
    {"Freeway", 7, 3, {0, 2, 4}, freeway_reset, freeway_act, freeway_observe},
    {"Seaquest", 10, 6, {0, 1, 2, 3, 4, 5}, seaquest_reset, seaquest_act, seaquest_observe},
    {"SpaceInvaders", 6, 4, {0, 1, 3, 5}, invaders_reset, invaders_act, invaders_observe},
};

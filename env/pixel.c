// env/pixel.c: registers lucid's pixel games (CoinRun-v0, Breakout-v0, Catch-v0) by
// name; the games themselves live in env/coinrun.c, env/breakout.c and env/catch.c.
// Leaves out: game variants by params (each game takes no params yet).
#include "env/builtin.h"
#include "env/pixel.h"

void lc_pixel_register(void) {
    lc_env_register("CoinRun-v0", lc_coinrun_make,
                    "side-scrolling platformer, procedural levels; (64,64,3) u8 frames, "
                    "Discrete(5): noop left right jump right+jump; +10 at the coin");
    lc_env_register("Breakout-v0", lc_breakout_make,
                    "64x64 Breakout, 3 lives, self-serving ball; (64,64,3) u8 frames, "
                    "Discrete(3): noop left right; +1 per brick");
    lc_env_register("Catch-v0", lc_catch_make,
                    "bsuite Catch on an 8x8 grid: catch the falling ball, +1 or -1, 7 steps; "
                    "(64,64,3) u8 frames, Discrete(3): noop left right");
}

// worldmodel/genie_world.h: a Genie-style world of either design (pixels: genie.h; tokens:
// genie_tokens.h) behind one handle, for the jobs that need the world and the real game
// together: a controller trained in dream:FILE played in the real game, and the dream beside
// the real game in lockstep. Leaves out: held-out metrics (cli/eval_genie*.c), training.
//
// Letters: M = envs, W = window steps, K = latent actions, O = game frame bytes.
//
// Both jobs run the dream through its env backend (the lc_env_impl that dream:FILE makes)
// and three small hooks per design (genie_world.c): the backend made from the model file,
// what the dream shows of a real frame (pixels: area-averaged to the model's side and
// upsampled; tokens: encoded and decoded by the tokenizer), and a dream env continued from
// two real frames. Nothing here reads a design's struct.
#ifndef LC_WORLDMODEL_GENIE_WORLD_H
#define LC_WORLDMODEL_GENIE_WORLD_H

#include "core/api.h"

#include <stdint.h>

#include "core/error.h"
#include "core/file.h"
#include "worldmodel/genie.h"

LC_API_BEGIN

typedef struct lc_gworld lc_gworld; // opaque

// A world from a checkpoint of kind "genie" or "genie_tokens" (read once; the container is
// kept to make dream backends from). LC_ERR_FORMAT for another kind, the loaders' errors.
int lc_gworld_load(lc_gworld **out, const char *path, lc_error *err);
// A pixel world around a copy of g (for lc_genie_run_lockstep / lc_genie_play_real).
int lc_gworld_of_genie(lc_gworld **out, const lc_genie *g, lc_error *err);
void lc_gworld_free(lc_gworld *w);

const char *lc_gworld_design(const lc_gworld *w); // "pixels" or "tokens"
// The LAM, the game (env_name, game_h/w/c), the code aliases and the played codes.
const lc_genie *lc_gworld_lam(const lc_gworld *w);

// What the dream shows of n real game frames (n, game_h, game_w, game_c u8) into out (same
// shape): a controller trained in the dream sees the real game through this.
int lc_gworld_view(const lc_gworld *w, const uint8_t *frames, int n, uint8_t *out,
                   lc_error *err);

// The dream and the real game in lockstep under the same play (lc_genie_run_lockstep's
// contract, genie.h), for either design: M real envs take one random step from reset, the
// dream's M envs continue from those two frames, then each step the dream takes a latent
// action and the game its real one (map); rewards and ends are the dream env's own.
// params: dream params for the backend (e.g. "temp=0.5"; NULL: the model's defaults);
// with choose, n_actions is K (actions=all) or the played codes' count (actions=played).
int lc_gworld_lockstep(const lc_gworld *w, const int *map, int M, int W, uint64_t seed,
                       const char *params, lc_genie_chooser choose, void *ctx, int n_actions,
                       lc_genie_lockstep *out, lc_error *err);
// Episodes of the real game played through the map (lc_genie_play_real's contract), the
// chooser seeing the real frames as the dream shows them (lc_gworld_view).
int lc_gworld_play_real(const lc_gworld *w, const int *map, lc_genie_chooser choose, void *ctx,
                        int n_actions, int fixed, int episodes, uint64_t seed, double *mean,
                        double *sd, lc_error *err);

LC_API_END

#endif

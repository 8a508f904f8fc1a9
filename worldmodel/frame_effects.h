// worldmodel/frame_effects.h: which actions had the same effect at each step of a frames
// dataset (kind "frame_effects", beside FRAMES.actions.lucid, evaluation only): the data's
// recording replayed with its true actions, each state stepped with every action on a copy
// (lc_env_action_classes), and the latent-action consistency that counts an action as right
// when it has the true action's effect. Leaves out: envs that cannot copy their state.
//
// Letters: N = frames, A = the game's actions, M = scored transitions.
#ifndef LC_WORLDMODEL_FRAME_EFFECTS_H
#define LC_WORLDMODEL_FRAME_EFFECTS_H

#include "core/api.h"

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/file.h"
#include "worldmodel/frames.h"

LC_API_BEGIN

typedef struct lc_frame_effects {
    char env_name[256];
    size_t n;       // N, the frames' rows
    int n_actions;  // A
    int32_t *cls;   // (N, A): row r (the step into frame r): cls[a] = the smallest action whose
                    // step from the state before frame r gives the same frame, reward and end
                    // as a's; -1 rows at episode starts
} lc_frame_effects;

void lc_frame_effects_free(lc_frame_effects *fx);

// Replays the recording of fr (frames at the game's side, with its true actions) as
// lc_frames_collect lays it out: num_envs envs of fr->env_name reset with seed, env k's
// rows one block after another, each block ceil(steps / num_envs) steps long (the last
// blocks one shorter when steps, the data's transitions, does not divide), and records the
// action classes of every step. Every replayed frame, reward and end must be the data's:
// LC_ERR_ARG naming the first row that differs (another seed, env count or recorder), or
// LC_ERR_UNSUPPORTED (an env that cannot copy its state), LC_ERR_SHAPE (frames stored
// below the game's side), the env's errors. The policy that chose the actions does not
// matter: the recorded actions are replayed.
int lc_frame_effects_replay(lc_frame_effects *fx, const lc_frames *fr, int num_envs,
                            uint64_t seed, lc_error *err);
// Appends src's rows to dst (same env and actions), as frames datasets are concatenated.
int lc_frame_effects_append(lc_frame_effects *dst, const lc_frame_effects *src, lc_error *err);

// File I/O (kind "frame_effects": meta env, n, n_actions; tensor classes (N, A) i32). The
// loader checks every class against its row (-1 rows exactly at fr's starts when fr is
// given, else a class in [0, a] that is its own class) and refuses anything else.
int lc_frame_effects_save(const lc_frame_effects *fx, const char *path, lc_error *err);
int lc_frame_effects_load(lc_frame_effects *fx, const char *path, const lc_frames *fr,
                          lc_error *err);
int lc_frame_effects_from_file(lc_frame_effects *fx, const lc_file *f, const lc_frames *fr,
                               lc_error *err);

// Latent-action consistency by effect over M transitions (frame rows rows[i], each the
// step into that frame; true actions fr->actions, the latent -> real map's prediction
// pred[i]): a prediction is right when its action has the true action's effect.
typedef struct lc_effects_score {
    size_t m;            // transitions scored
    size_t effective;    // of those, where the true action's effect differs from another's
    double effective_frac; // effective / m
    double consistency_effective; // right by effect among the effective transitions
    double consistency_merged;    // right by effect among all m (no-op duplicates merged)
    double ceiling;      // the best raw (exact-action) consistency any reader of the frames
                         // can reach: each group of interchangeable actions guessed as its
                         // most frequent true action
} lc_effects_score;
int lc_frame_effects_score(const lc_frame_effects *fx, const lc_frames *fr, const size_t *rows,
                           const int *pred, size_t m, lc_effects_score *out, lc_error *err);

LC_API_END

#endif

// worldmodel/frames.h: frame datasets for the Genie-style work: uint8 frame sequences of a
// pixel game with rewards and episode ends but NO actions (kind "frames"); the true
// actions live in a separate file (kind "frame_actions") used only for evaluation.
// Leaves out: compression, video codecs, larger-than-memory data.
//
// Letters: N = frames, H/W/C = stored frame shape (possibly downsampled from the game's).
//
// Row order: frames are grouped by episode. starts[r] = 1 where frame r is the first
// observation of an episode; otherwise frame r follows frame r - 1 through one env step
// whose reward is rewards[r] and whose end flags are terminated[r] / truncated[r] (frame
// r is then that episode's final observation and frame r + 1 is a start).
// actions[r] (separate file) is the action of that step, -1 at starts.
#ifndef LC_WORLDMODEL_FRAMES_H
#define LC_WORLDMODEL_FRAMES_H

#include "core/api.h"

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "env/env.h"

LC_API_BEGIN

typedef struct lc_frames {
    char env_name[256];
    int H, W, C;                  // stored frame shape
    int game_h, game_w, game_c;   // the env's observation shape
    int n_actions;                // the env's Discrete(n)
    int max_episode_steps;        // the env's time limit while recording
    size_t n, cap;
    uint8_t *frames;              // (N, H, W, C)
    float *rewards;               // (N) reward of the step into frame r (0 at starts)
    uint8_t *starts;              // (N)
    uint8_t *terminated;          // (N)
    uint8_t *truncated;           // (N)
    int32_t *actions;             // (N) action into frame r, -1 at starts; NULL if unknown
} lc_frames;

void lc_frames_free(lc_frames *fr);
// Records `steps` env steps of uniformly random actions from env (a uint8 (H, W, C)
// Box obs, Discrete actions; reset with seed) into fr (which this initialises),
// area-averaging frames down to size x size (size must divide the game's side; 0 =
// native). Envs are stored one after another. Actions are kept in fr->actions.
int lc_frames_collect(lc_frames *fr, lc_env *env, int64_t steps, int size, uint64_t seed,
                      lc_error *err);
// The same with actions chosen by choose(ctx, obs, N, first, actions, err) for the N envs'
// current frames obs (N, H, W, C u8 at the game's size; first[i] = 1 at an episode's first
// frame) instead of uniformly random ones (choose NULL: lc_frames_collect). Its actions
// must be in [0, n_actions) (LC_ERR_ACTION); its errors stop the recording. An expert's
// play recorded this way is a video of good play (lucid collect --frames-only --policy).
typedef int (*lc_frames_chooser)(void *ctx, const uint8_t *obs, int N, const uint8_t *first,
                                 int32_t *actions, lc_error *err);
int lc_frames_record(lc_frames *fr, lc_env *env, int64_t steps, int size,
                     lc_frames_chooser choose, void *ctx, uint64_t seed, lc_error *err);
// Appends src's rows (whole episodes) to dst: same game, stored shape and actions, both with
// their true actions (LC_ERR_ARG otherwise). Datasets of different play are mixed this way.
int lc_frames_concat(lc_frames *dst, const lc_frames *src, lc_error *err);
// Writes frames (kind "frames") and, when actions_path is not NULL, the actions
// (kind "frame_actions"). Both atomically.
int lc_frames_save(const lc_frames *fr, const char *path, const char *actions_path,
                   lc_error *err);
// Reads and validates a frames file; actions_path (may be NULL) adds the actions,
// checked against the frames (same count, -1 exactly at starts, in [0, n_actions)).
int lc_frames_load(lc_frames *fr, const char *path, const char *actions_path, lc_error *err);
// The same from files already read or decoded (actions may be NULL); on failure fr is
// freed. Every tensor of each file must be one the frames use (lc_file_check_claimed).
int lc_frames_from_file(lc_frames *fr, const lc_file *f, const lc_file *actions, lc_error *err);
// Checks flags and layout (first row a start, ends followed by starts, finite rewards).
int lc_frames_validate(const lc_frames *fr, lc_error *err);
// Episodes (rows with starts = 1).
size_t lc_frames_episodes(const lc_frames *fr);

LC_API_END

#endif

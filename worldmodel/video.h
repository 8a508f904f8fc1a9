// worldmodel/video.h: footage as a frames dataset (frames.h, kind "frames"): any video FFmpeg's
// libraries read (MP4/H.264, WebM/VP9, GIF, a folder or glob of PNGs) decoded, resampled in
// time and space by one rule, cut into episodes. Leaves out: audio, actions, rewards.
//
// The rule, in order:
//  1. Time. fps = 0: every decoded frame, once. fps = N: tick k is the time t0 + k/N on the
//     presentation timeline (t0 = the first frame's timestamp, from its pts, so variable frame
//     rates are handled); tick k takes the frame shown at that time, the last frame whose pts
//     is <= t0 + k/N (repeated when N is above the source's rate, skipped when below). Ticks
//     run while t0 + k/N is before the end of the last frame (its pts + its duration; when the
//     duration is unknown, up to and including its pts).
//  2. Space. The crop (X, Y, W, H in source pixels; none = the whole frame; on chroma-
//     subsampled formats the chroma planes start at floor(X / 2), floor(Y / 2)) is converted
//     by swscale at its own size to RGB24 (the source's colour matrix and range for YUV,
//     BT.601 when unspecified; chroma as swscale's unscaled converters take it) or, with
//     gray, to swscale's luma (GRAY8); then lucid's one frame-resize rule, the exact area
//     average of core/resize.h, makes it size x size: a non-square crop is stretched to the
//     square, not padded (crop a square to keep the aspect).
//  3. Episodes (over the output frames). none: one episode. every=N: a start every N frames.
//     scene=T: a start where the mean absolute difference to the previous output frame (over
//     its size * size * C bytes, in 0..255) is above T.
// A file is read whole or refused: an error opening or reading it, a packet that ends early
// (AV_PKT_FLAG_CORRUPT), a decoder error or a frame the decoder marks corrupt, fewer packets
// than the container's index declares, frames ending before the declared length (containers
// without an index), or no frames at all is an error, and nothing is kept. Damage the codec
// itself cannot see (bits flipped inside H.264 residuals) decodes as whatever it decodes to.
// FFmpeg's log goes through a callback installed once per process (nothing on stderr; the
// last error line of the calling thread joins the lc_error message).
//
// The dataset: env "video:BASENAME" (or the name given), game_h = game_w = size, game_c = C,
// n_actions 1 (footage has no actions; the loader's smallest value), max_episode_steps 0,
// rewards 0, no terminated or truncated flags (an episode ends where the next one starts).
#ifndef LC_WORLDMODEL_VIDEO_H
#define LC_WORLDMODEL_VIDEO_H

#include "core/api.h"

#include <stdint.h>

#include "core/error.h"
#include "core/settings.h"
#include "worldmodel/frames.h"

LC_API_BEGIN

// The settings of an import (table: lc_video_settings, prefix "video").
#define LC_VIDEO_SETTINGS(X) \
    X(size, int, INT, 64, 1, 1024, 1, "side of the stored frames (size x size)") \
    X(gray, int, BOOL, 0, 0, 1, 1, "1: one channel (luma); 0: RGB") \
    X(fps, double, DOUBLE, 0, 0, 1000, 1, "frames per second of footage time (0: every decoded frame)") \
    X(threads, int, INT, 0, 0, 64, 1, "decoder threads (0: FFmpeg chooses)") \
    X(max_frames, int64_t, I64, 0, 0, 1e12, 1, "stop after this many output frames (0: all)") \
    X(crop_x, int, INT, 0, 0, 1 << 20, 1, "crop: left column") \
    X(crop_y, int, INT, 0, 0, 1 << 20, 1, "crop: top row") \
    X(crop_w, int, INT, 0, 0, 1 << 20, 1, "crop: width (0: no crop)") \
    X(crop_h, int, INT, 0, 0, 1 << 20, 1, "crop: height (0: no crop)") \
    X(cut, int, INT, 0, 0, 2, 1, "episode boundaries: 0 none, 1 every cut_every frames, 2 scene cuts (cut_threshold)") \
    X(cut_every, int64_t, I64, 1000, 1, 1e12, 1, "every: frames per episode") \
    X(cut_threshold, double, DOUBLE, 30, 0, 255, 1, "scene: mean abs difference (0..255) that starts an episode")

enum { LC_VIDEO_CUT_NONE = 0, LC_VIDEO_CUT_EVERY = 1, LC_VIDEO_CUT_SCENE = 2 };

// Progress: done and total in seconds of footage (total 0 when the container does not say).
// A non-zero return stops the import (LC_ERR_STATE).
typedef int (*lc_video_progress_fn)(void *ctx, double done_s, double total_s, int64_t frames);

typedef struct lc_video_opts {
    LC_SETTINGS_FIELDS(LC_VIDEO_SETTINGS)
    const char *env_name;          // NULL: "video:BASENAME"
    lc_video_progress_fn progress; // may be NULL
    void *progress_ctx;
} lc_video_opts;

const lc_settings *lc_video_settings(void);
lc_video_opts lc_video_opts_default(void);
// "X,Y,W,H" (non-negative, W and H >= 1) into the crop fields: LC_ERR_ARG otherwise.
int lc_video_parse_crop(lc_video_opts *o, const char *text, lc_error *err);
// "none", "every=N" or "scene[=T]" into cut, cut_every, cut_threshold: LC_ERR_ARG otherwise.
int lc_video_parse_cut(lc_video_opts *o, const char *text, lc_error *err);

// Decodes path (a file FFmpeg reads; a directory: its *.png files in name order; a path with
// * or ?: that glob of images) into fr (which this initialises; lc_frames_free it) by the
// rule above. LC_ERR_IO (cannot open), LC_ERR_FORMAT (not a video, corrupt data),
// LC_ERR_TRUNCATED (ends early), LC_ERR_UNSUPPORTED (no decoder), LC_ERR_ARG (options, a crop
// outside the frame); on failure fr is left empty. Write it with lc_frames_save (atomic).
int lc_video_import(lc_frames *fr, const char *path, const lc_video_opts *o, lc_error *err);

LC_API_END

#endif

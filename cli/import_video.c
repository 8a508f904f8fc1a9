// cli/import_video.c: `lucid import-video FILE --out frames.lucid`: footage (any format
// FFmpeg reads) into a frames dataset (worldmodel/video.h has the rule), which
// `lucid train-genie --data` reads. Leaves out: actions and rewards (footage has none).
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/progress.h"
#include "worldmodel/frames.h"
#include "worldmodel/video.h"

typedef struct prog_ctx {
    lc_progress *bar;
    int quiet;
    atomic_int stop;
} prog_ctx;

static int on_progress(void *ctx, double done_s, double total_s, int64_t frames) {
    prog_ctx *p = ctx;
    if (!p->quiet && !p->bar && total_s > 0)
        p->bar = lc_progress_new(stderr, "import-video", (int64_t)(total_s * 1000) + 1);
    if (p->bar) {
        char extra[48];
        snprintf(extra, sizeof extra, "%lld frames", (long long)frames);
        lc_progress_update(p->bar, (int64_t)(done_s * 1000), extra);
    }
    return atomic_load(&p->stop);
}

int cmd_import_video(int argc, char **argv) {
    const char *out = NULL, *crop = NULL, *cut = "none", *name = NULL;
    int gray = 0, quiet = 0;
    lc_video_opts o = lc_video_opts_default();
    cli_opt opts[16] = {
        {"out", CLI_STR, &out, "frames file to write (kind frames, as lucid collect --frames-only)"},
        {"gray", CLI_FLAG, &gray, "one channel (luma) instead of RGB"},
        {"crop", CLI_STR, &crop, "X,Y,W,H: the source rectangle kept (before scaling; default the whole frame)"},
        {"episode-cut", CLI_STR, &cut, "none (one episode), every=N (frames), scene[=T] (mean abs difference > T, 0..255, default 30)"},
        {"name", CLI_STR, &name, "the env name stored with the frames (default video:BASENAME)"},
        {"quiet", CLI_FLAG, &quiet, "print nothing but errors"},
    };
    int nopts = 0;
    while (nopts < CLI_COUNT(opts) && opts[nopts].name) nopts++;
    static const char *const by_hand[] = {"gray", "crop_x", "crop_y", "crop_w", "crop_h", "cut",
                                          "cut_every", "cut_threshold", NULL};
    cli_table t = {lc_video_settings(), &o};
    nopts = cli_settings_opts(opts, nopts, CLI_COUNT(opts), &t, by_hand);
    const char *pos[1] = {NULL};
    int npos = 0;
    int rc = cli_parse(argc, argv, opts, nopts,
                       "usage: lucid import-video FILE --out frames.lucid [--size 64] [--gray] "
                       "[--fps N] [--crop X,Y,W,H] [--episode-cut none|every=N|scene[=T]]\n"
                       "FILE: any video FFmpeg reads (MP4, WebM, GIF, ...), a folder of PNGs or a "
                       "quoted glob ('shots/*.png'). Time: --fps N takes the frame shown at each "
                       "tick k/N of the footage (0: every frame). Space: the crop is resized "
                       "to size x size by the exact area average (core/resize.h; a non-square crop "
                       "is stretched).",
                       pos, 1, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (npos != 1 || !out) {
        fprintf(stderr, "lucid import-video: a FILE and --out are required (see --help)\n");
        return 2;
    }
    lc_error err = {0};
    o.gray = gray;
    o.env_name = name;
    if ((crop && lc_video_parse_crop(&o, crop, &err)) || lc_video_parse_cut(&o, cut, &err)) {
        fprintf(stderr, "lucid import-video: %s\n", err.msg);
        return 2;
    }
    prog_ctx p = {NULL, quiet, 0};
    cli_stop_on_signals(&p.stop);
    o.progress = on_progress;
    o.progress_ctx = &p;
    lc_frames fr;
    double t0 = lc_now();
    rc = lc_video_import(&fr, pos[0], &o, &err);
    double secs = lc_now() - t0;
    if (p.bar) lc_progress_finish(p.bar, rc ? "stopped" : "done");
    // Nothing is written unless the whole file was read; lc_frames_save writes atomically.
    if (!rc) rc = lc_frames_save(&fr, out, NULL, &err);
    if (rc) {
        fprintf(stderr, "lucid import-video: %s\n", err.msg);
        lc_frames_free(&fr);
        return 1;
    }
    if (!quiet)
        printf("imported %s: %zu frames (%dx%dx%d), %zu episodes, in %.2f s (%.0f frames/s)\n"
               "wrote %s (frames only: no actions, no rewards)\n",
               pos[0], fr.n, fr.H, fr.W, fr.C, lc_frames_episodes(&fr), secs,
               secs > 0 ? (double)fr.n / secs : 0.0, out);
    lc_frames_free(&fr);
    return 0;
}

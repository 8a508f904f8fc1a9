// worldmodel/video.c: footage into a frames dataset (video.h) with FFmpeg's libraries:
// libavformat demuxes, libavcodec decodes, libswscale converts the crop to RGB24 or GRAY8,
// core/resize.h's area average brings it to size x size, by video.h's rule.
// Leaves out: audio, seeking, hardware decoding, larger-than-memory footage.
//
// Letters: S = size (stored side), C = channels (1 gray, 3 RGB), P = S * S * C bytes a frame.
// FFmpeg logs through a callback this file installs once (process-wide): nothing reaches
// stderr; the last error-level line of this thread goes into the lc_error of a failure.
#include "worldmodel/video.h"
#include "core/resize.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/frame.h>
#include <libavutil/mathematics.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

// ---------------------------------------------------------------- settings

static const lc_setting VIDEO_ROWS[] = {
#define ROW(...) LC_SETTING_ROW_(lc_video_opts, __VA_ARGS__)
    LC_VIDEO_SETTINGS(ROW)
#undef ROW
};
static const lc_settings VIDEO_SETTINGS = {"video", VIDEO_ROWS,
                                           (int)(sizeof VIDEO_ROWS / sizeof VIDEO_ROWS[0])};

const lc_settings *lc_video_settings(void) { return &VIDEO_SETTINGS; }

lc_video_opts lc_video_opts_default(void) {
    lc_video_opts o;
    memset(&o, 0, sizeof o);
    lc_settings_defaults(&VIDEO_SETTINGS, &o);
    return o;
}

int lc_video_parse_crop(lc_video_opts *o, const char *text, lc_error *err) {
    long v[4];
    const char *p = text ? text : "";
    for (int i = 0; i < 4; i++) {
        char *end = NULL;
        errno = 0;
        v[i] = strtol(p, &end, 10);
        if (end == p || errno || v[i] < 0 || v[i] > (1 << 20) || (i < 3 && *end != ','))
            return lc_fail(err, LC_ERR_ARG, "crop '%s' is not X,Y,W,H (four integers >= 0)",
                           text ? text : "");
        p = i < 3 ? end + 1 : end;
    }
    if (*p || v[2] < 1 || v[3] < 1)
        return lc_fail(err, LC_ERR_ARG, "crop '%s' is not X,Y,W,H with W and H >= 1", text);
    o->crop_x = (int)v[0], o->crop_y = (int)v[1], o->crop_w = (int)v[2], o->crop_h = (int)v[3];
    return LC_OK;
}

int lc_video_parse_cut(lc_video_opts *o, const char *text, lc_error *err) {
    const char *t = text ? text : "";
    char *end = NULL;
    if (strcmp(t, "none") == 0) {
        o->cut = LC_VIDEO_CUT_NONE;
        return LC_OK;
    }
    if (strcmp(t, "scene") == 0) {
        o->cut = LC_VIDEO_CUT_SCENE;
        return LC_OK;
    }
    if (strncmp(t, "scene=", 6) == 0) {
        errno = 0;
        double v = strtod(t + 6, &end);
        if (end == t + 6 || *end || errno || !(v >= 0 && v <= 255))
            return lc_fail(err, LC_ERR_ARG, "episode cut '%s': the threshold is a mean absolute "
                           "difference in [0, 255]", t);
        o->cut = LC_VIDEO_CUT_SCENE;
        o->cut_threshold = v;
        return LC_OK;
    }
    if (strncmp(t, "every=", 6) == 0) {
        errno = 0;
        long long v = strtoll(t + 6, &end, 10);
        if (end == t + 6 || *end || errno || v < 1)
            return lc_fail(err, LC_ERR_ARG, "episode cut '%s': every=N needs N >= 1", t);
        o->cut = LC_VIDEO_CUT_EVERY;
        o->cut_every = v;
        return LC_OK;
    }
    return lc_fail(err, LC_ERR_ARG, "episode cut '%s' is not none, every=N, scene or scene=T", t);
}

// ---------------------------------------------------------------- FFmpeg's log

static _Thread_local char last_log[256];
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void log_line(void *avcl, int level, const char *fmt, va_list vl) {
    if (level > AV_LOG_ERROR) return;
    char line[256];
    int prefix = 0; // the message alone, not "[mov,mp4 @ 0x...]"
    av_log_format_line(avcl, level, fmt, vl, line, sizeof line, &prefix);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    if (n) snprintf(last_log, sizeof last_log, "%s", line);
}

static void install_log(void) { av_log_set_callback(log_line); }

// "what: FFmpeg's reason (its last log line)" as the error.
static int av_fail(lc_error *err, lc_status code, const char *path, const char *what, int averr) {
    char reason[AV_ERROR_MAX_STRING_SIZE] = "";
    if (averr) av_strerror(averr, reason, sizeof reason);
    return lc_fail(err, code, "%s: %s%s%s%s%s%s", path, what, averr ? ": " : "", reason,
                   last_log[0] ? " (" : "", last_log, last_log[0] ? ")" : "");
}

// ---------------------------------------------------------------- the import

typedef struct vid {
    const lc_video_opts *o;
    const char *path;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;               // just decoded
    AVFrame *cur;                 // fps > 0: the frame shown now (a reference)
    AVFrame *crop;                // a reference to the frame being cropped
    int have_cur, cur_scaled;
    struct SwsContext *sws;
    int sws_cs, sws_range;        // the colour matrix and range sws was told
    AVStream *st;
    AVRational tick_tb;           // 1 / fps
    int64_t t0, last_pts, last_dur, tick, packets;
    int have_t0, stop;
    double total_s;
    int S, C;
    size_t P;
    uint8_t *img;                 // (S, S, C) cur, scaled
    uint8_t *conv;                // (CH, CW, C) the crop in RGB24 / GRAY8, before resizing
    uint32_t *tmp;                // lc_resize_area_u8's scratch
    size_t conv_cap, tmp_cap;
    uint8_t *frames;              // (n, S, S, C)
    uint8_t *starts;              // (n)
    size_t n, cap;
} vid;

static int64_t frame_duration(const AVFrame *f) {
#if LIBAVUTIL_VERSION_MAJOR >= 58
    return f->duration;
#else
    return f->pkt_duration;
#endif
}

// Scales f (cropped) into dst (P bytes).
static int scale(vid *v, AVFrame *f, uint8_t *dst, lc_error *err) {
    const lc_video_opts *o = v->o;
    AVFrame *src = f;
    if (o->crop_w) {
        if ((int64_t)o->crop_x + o->crop_w > f->width || (int64_t)o->crop_y + o->crop_h > f->height)
            return lc_fail(err, LC_ERR_ARG, "%s: crop %d,%d,%d,%d is outside the %dx%d frame",
                           v->path, o->crop_x, o->crop_y, o->crop_w, o->crop_h, f->width,
                           f->height);
        av_frame_unref(v->crop);
        int r = av_frame_ref(v->crop, f);
        if (r < 0) return av_fail(err, LC_ERR_NOMEM, v->path, "crop", r);
        v->crop->crop_left = (size_t)o->crop_x;
        v->crop->crop_top = (size_t)o->crop_y;
        v->crop->crop_right = (size_t)(f->width - o->crop_x - o->crop_w);
        v->crop->crop_bottom = (size_t)(f->height - o->crop_y - o->crop_h);
        if ((r = av_frame_apply_cropping(v->crop, AV_FRAME_CROP_UNALIGNED)) < 0)
            return av_fail(err, LC_ERR_UNSUPPORTED, v->path, "cannot crop this pixel format", r);
        src = v->crop;
    }
    // swscale converts only (same size in and out); the resize is lucid's one rule.
    const int CW = src->width, CH = src->height, C = v->C;
    struct SwsContext *s = sws_getCachedContext(
        v->sws, CW, CH, (enum AVPixelFormat)src->format, CW, CH,
        C == 1 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24, SWS_POINT, NULL, NULL, NULL);
    if (!s)
        return lc_fail(err, LC_ERR_UNSUPPORTED, "%s: swscale cannot convert %dx%d %s frames",
                       v->path, CW, CH, av_get_pix_fmt_name((enum AVPixelFormat)src->format));
    // YUV input: its own matrix and range (swscale's defaults otherwise: RGB, palette and
    // gray input need none); RGB output is full range.
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get((enum AVPixelFormat)src->format);
    int yuv = desc && !(desc->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL)) &&
              desc->nb_components >= 3;
    int cs = src->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : (int)src->colorspace;
    int range = src->color_range == AVCOL_RANGE_JPEG;
    if (yuv && (s != v->sws || cs != v->sws_cs || range != v->sws_range))
        sws_setColorspaceDetails(s, sws_getCoefficients(cs), range,
                                 sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
    v->sws = s, v->sws_cs = cs, v->sws_range = range;
    int same = CW == v->S && CH == v->S;
    size_t need = (size_t)CW * CH * C, scratch = lc_resize_area_scratch(CH, CW, C, v->S, v->S);
    if (!same && need > v->conv_cap) {
        free(v->conv);
        if (!(v->conv = malloc(need))) return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", v->path);
        v->conv_cap = need;
    }
    if (!same && scratch > v->tmp_cap) {
        free(v->tmp);
        if (!(v->tmp = malloc(scratch * sizeof(uint32_t))))
            return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", v->path);
        v->tmp_cap = scratch;
    }
    uint8_t *dd[4] = {same ? dst : v->conv, NULL, NULL, NULL};
    int dl[4] = {CW * C, 0, 0, 0};
    int h = sws_scale(s, (const uint8_t *const *)src->data, src->linesize, 0, CH, dd, dl);
    if (h != CH) return av_fail(err, LC_ERR_FORMAT, v->path, "swscale failed", h < 0 ? h : 0);
    if (!same) lc_resize_area_u8(v->conv, CH, CW, C, dst, v->S, v->S, v->tmp);
    return LC_OK;
}

// Appends one output frame (P bytes at img) and decides whether it starts an episode.
static int push(vid *v, const uint8_t *img, lc_error *err) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 256;
        uint8_t *f = realloc(v->frames, cap * v->P);
        if (f) v->frames = f;
        uint8_t *s = realloc(v->starts, cap);
        if (s) v->starts = s;
        if (!f || !s)
            return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory for %zu frames", v->path, cap);
        v->cap = cap;
    }
    uint8_t *dst = v->frames + v->n * v->P;
    memcpy(dst, img, v->P);
    int start = v->n == 0;
    if (!start && v->o->cut == LC_VIDEO_CUT_EVERY)
        start = (int64_t)v->n % v->o->cut_every == 0;
    if (!start && v->o->cut == LC_VIDEO_CUT_SCENE) {
        const uint8_t *prev = dst - v->P;
        uint64_t acc = 0;
        for (size_t i = 0; i < v->P; i++) acc += (uint64_t)abs((int)dst[i] - (int)prev[i]);
        start = (double)acc / (double)v->P > v->o->cut_threshold;
    }
    v->starts[v->n++] = (uint8_t)start;
    if (v->o->max_frames && (int64_t)v->n >= v->o->max_frames) v->stop = 1;
    return LC_OK;
}

// fps > 0: emits cur for every tick before end (end_incl: up to and including end), in tb.
static int emit_ticks(vid *v, int64_t end, int end_incl, lc_error *err) {
    AVRational tb = v->st->time_base;
    while (v->have_cur && !v->stop) {
        int c = av_compare_ts(v->tick, v->tick_tb, end - v->t0, tb);
        if (c > 0 || (c == 0 && !end_incl)) break;
        if (!v->cur_scaled) {
            int rc = scale(v, v->cur, v->img, err);
            if (rc) return rc;
            v->cur_scaled = 1;
        }
        int rc = push(v, v->img, err);
        if (rc) return rc;
        v->tick++;
    }
    return LC_OK;
}

static int on_frame(vid *v, AVFrame *f, lc_error *err) {
    if ((f->flags & AV_FRAME_FLAG_CORRUPT) || f->decode_error_flags)
        return lc_fail(err, LC_ERR_FORMAT, "%s: corrupt data: the decoder marks the frame "
                       "it gave after packet %lld as damaged", v->path, (long long)v->packets);
    int64_t pts = f->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE) pts = v->have_t0 ? v->last_pts + (v->last_dur > 0 ? v->last_dur : 1) : 0;
    if (v->have_t0 && pts < v->last_pts) pts = v->last_pts; // out of order: shown no earlier
    if (!v->have_t0) v->t0 = pts, v->have_t0 = 1;
    v->last_pts = pts;
    v->last_dur = frame_duration(f);
    int rc = LC_OK;
    if (v->o->fps > 0) {
        if ((rc = emit_ticks(v, pts, 0, err))) return rc;
        av_frame_unref(v->cur);
        if ((rc = av_frame_ref(v->cur, f)) < 0) return av_fail(err, LC_ERR_NOMEM, v->path, "frame", rc);
        v->have_cur = 1, v->cur_scaled = 0;
    } else {
        if ((rc = scale(v, f, v->img, err)) || (rc = push(v, v->img, err))) return rc;
    }
    if (v->o->progress) {
        double done = (double)(pts - v->t0) * av_q2d(v->st->time_base);
        if (v->o->progress(v->o->progress_ctx, done, v->total_s, (int64_t)v->n))
            return lc_fail(err, LC_ERR_STATE, "%s: import stopped", v->path);
    }
    return LC_OK;
}

// Sends pkt (NULL: flush) and takes every frame the decoder has.
static int decode(vid *v, AVPacket *pkt, lc_error *err) {
    int r = avcodec_send_packet(v->dec, pkt);
    if (r < 0 && r != AVERROR_EOF)
        return av_fail(err, LC_ERR_FORMAT, v->path, "corrupt data: decoding failed", r);
    while (!v->stop) {
        r = avcodec_receive_frame(v->dec, v->frame);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return LC_OK;
        if (r < 0) return av_fail(err, LC_ERR_FORMAT, v->path, "corrupt data: decoding failed", r);
        int rc = on_frame(v, v->frame, err);
        av_frame_unref(v->frame);
        if (rc) return rc;
    }
    return LC_OK;
}

static int has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

static int open_input(vid *v, lc_error *err) {
    const char *path = v->path;
    struct stat sb;
    int is_dir = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
    int glob = !is_dir && stat(path, &sb) != 0 && has_glob(path);
    if (!is_dir && !glob && stat(path, &sb) != 0)
        return lc_fail(err, LC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char pattern[4200];
    const AVInputFormat *ifmt = NULL;
    AVDictionary *d = NULL;
    const char *url = path;
    if (is_dir || glob) { // image2 over a glob of pictures (a directory: its *.png)
        if (is_dir) snprintf(pattern, sizeof pattern, "%s/*.png", path);
        else snprintf(pattern, sizeof pattern, "%s", path);
        url = pattern;
        ifmt = av_find_input_format("image2");
        av_dict_set(&d, "pattern_type", "glob", 0);
    }
    av_dict_set(&d, "protocol_whitelist", "file", 0); // local files only: no playlist fetches
    int r = avformat_open_input(&v->fmt, url, ifmt, &d);
    av_dict_free(&d);
    if (r < 0) return av_fail(err, LC_ERR_FORMAT, url, "not a video FFmpeg can read", r);
    if ((r = avformat_find_stream_info(v->fmt, NULL)) < 0)
        return av_fail(err, LC_ERR_FORMAT, path, "cannot read the streams", r);
    const AVCodec *codec = NULL;
    int si = av_find_best_stream(v->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (si == AVERROR_DECODER_NOT_FOUND) {
        int k = av_find_best_stream(v->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
        return lc_fail(err, LC_ERR_UNSUPPORTED, "%s: no decoder for its %s video", path,
                       k >= 0 ? avcodec_get_name(v->fmt->streams[k]->codecpar->codec_id) : "?");
    }
    if (si < 0) return lc_fail(err, LC_ERR_FORMAT, "%s: has no video stream", path);
    v->st = v->fmt->streams[si];
    if (!(v->dec = avcodec_alloc_context3(codec)))
        return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", path);
    if ((r = avcodec_parameters_to_context(v->dec, v->st->codecpar)) < 0)
        return av_fail(err, LC_ERR_FORMAT, path, "bad codec parameters", r);
    v->dec->thread_count = v->o->threads;
    // Not AV_EF_EXPLODE: with frame threads FFmpeg 5.1's MPEG-4 decoder then aborts on an
    // assertion (the ffmpeg program too); damage shows as errors or corrupt-frame flags.
    v->dec->pkt_timebase = v->st->time_base;
    if ((r = avcodec_open2(v->dec, codec, NULL)) < 0)
        return av_fail(err, LC_ERR_UNSUPPORTED, path, "cannot open the decoder", r);
    if (v->fmt->duration != AV_NOPTS_VALUE && v->fmt->duration > 0)
        v->total_s = (double)v->fmt->duration / AV_TIME_BASE;
    return LC_OK;
}

// The video's declared length in seconds (0: not declared): the stream's duration, its
// DURATION tag (Matroska, WebM), or the file's when it holds one stream.
static double declared_seconds(const vid *v) {
    const AVStream *st = v->st;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
        return (double)st->duration * av_q2d(st->time_base);
    const AVDictionaryEntry *e = av_dict_get(st->metadata, "DURATION", NULL, 0);
    unsigned h = 0, m = 0;
    double s = 0;
    if (e && sscanf(e->value, "%u:%u:%lf", &h, &m, &s) == 3) return h * 3600.0 + m * 60.0 + s;
    if (v->fmt->nb_streams == 1 && v->fmt->duration != AV_NOPTS_VALUE && v->fmt->duration > 0)
        return (double)v->fmt->duration / AV_TIME_BASE;
    return 0;
}

// A cut file: fewer packets than the container's index declares (MP4, AVI, GIF); without an
// index (Matroska, WebM), frames ending more than max(0.25 s, two frames) before the
// declared length.
static int check_whole(vid *v, lc_error *err) {
    int64_t declared = v->st->nb_frames;
    if (declared > 0 && v->packets < declared)
        return lc_fail(err, LC_ERR_TRUNCATED, "%s: truncated: %lld of the %lld frames its index "
                       "declares", v->path, (long long)v->packets, (long long)declared);
    if (v->n == 0) return av_fail(err, LC_ERR_FORMAT, v->path, "no frame could be decoded", 0);
    double len = declared_seconds(v), tb = av_q2d(v->st->time_base);
    AVRational fr = v->st->avg_frame_rate.num > 0 ? v->st->avg_frame_rate : v->st->r_frame_rate;
    double frame_s = v->last_dur > 0 ? (double)v->last_dur * tb : fr.num > 0 ? 1.0 / av_q2d(fr) : 0;
    double end = (double)(v->last_pts - v->t0) * tb + frame_s;
    double tol = 2 * frame_s > 0.25 ? 2 * frame_s : 0.25;
    if (declared <= 0 && len > 0 && end + tol < len)
        return lc_fail(err, LC_ERR_TRUNCATED, "%s: truncated or corrupt: its frames end at "
                       "%.2f s, it declares %.2f s", v->path, end, len);
    return LC_OK;
}

static int run(vid *v, lc_error *err) {
    int rc = open_input(v, err);
    if (rc) return rc;
    v->pkt = av_packet_alloc();
    v->frame = av_frame_alloc();
    v->cur = av_frame_alloc();
    v->crop = av_frame_alloc();
    v->img = malloc(v->P);
    if (!v->pkt || !v->frame || !v->cur || !v->crop || !v->img)
        return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", v->path);
    if (v->o->fps > 0) {
        AVRational r = av_d2q(v->o->fps, 1000000);
        v->tick_tb = (AVRational){r.den, r.num};
    }
    while (!v->stop) {
        int r = av_read_frame(v->fmt, v->pkt);
        if (r == AVERROR_EOF) break;
        if (r < 0) return av_fail(err, LC_ERR_FORMAT, v->path, "corrupt or truncated", r);
        if (v->pkt->stream_index != v->st->index) {
            av_packet_unref(v->pkt);
            continue;
        }
        v->packets++;
        if (v->pkt->flags & AV_PKT_FLAG_CORRUPT) {
            av_packet_unref(v->pkt);
            return lc_fail(err, LC_ERR_TRUNCATED, "%s: truncated or corrupt: packet %lld is cut "
                           "short", v->path, (long long)v->packets);
        }
        rc = decode(v, v->pkt, err);
        av_packet_unref(v->pkt);
        if (rc) return rc;
    }
    if (v->stop) return LC_OK; // max_frames reached: the rest is not read
    if ((rc = decode(v, NULL, err))) return rc;
    if (v->o->fps > 0 && v->have_cur) {
        int64_t d = v->last_dur;
        if ((rc = emit_ticks(v, v->last_pts + (d > 0 ? d : 0), d <= 0, err))) return rc;
    }
    return check_whole(v, err);
}

int lc_video_import(lc_frames *fr, const char *path, const lc_video_opts *o, lc_error *err) {
    memset(fr, 0, sizeof *fr);
    int rc = lc_settings_check(&VIDEO_SETTINGS, o, err);
    if (rc) return rc;
    if ((o->crop_w == 0) != (o->crop_h == 0))
        return lc_fail(err, LC_ERR_ARG, "video: crop needs both a width and a height");
    pthread_once(&log_once, install_log);
    last_log[0] = 0;
    vid v;
    memset(&v, 0, sizeof v);
    v.o = o, v.path = path;
    v.S = o->size, v.C = o->gray ? 1 : 3;
    v.P = (size_t)v.S * v.S * v.C;
    v.sws_cs = -1;
    rc = run(&v, err);
    if (!rc) {
        fr->frames = v.frames, fr->starts = v.starts;
        v.frames = v.starts = NULL;
        fr->n = fr->cap = v.n;
        fr->rewards = calloc(v.n, sizeof(float));
        fr->terminated = calloc(v.n, 1);
        fr->truncated = calloc(v.n, 1);
        if (!fr->rewards || !fr->terminated || !fr->truncated)
            rc = lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", path);
        const char *base = strrchr(path, '/');
        base = base && base[1] ? base + 1 : path;
        if (o->env_name) snprintf(fr->env_name, sizeof fr->env_name, "%s", o->env_name);
        else snprintf(fr->env_name, sizeof fr->env_name, "video:%s", base);
        fr->H = fr->W = fr->game_h = fr->game_w = v.S;
        fr->C = fr->game_c = v.C;
        fr->n_actions = 1;
        fr->max_episode_steps = 0;
        if (!rc) rc = lc_frames_validate(fr, err);
        if (rc) lc_frames_free(fr);
    }
    sws_freeContext(v.sws);
    av_frame_free(&v.frame);
    av_frame_free(&v.cur);
    av_frame_free(&v.crop);
    av_packet_free(&v.pkt);
    avcodec_free_context(&v.dec);
    avformat_close_input(&v.fmt);
    free(v.img);
    free(v.conv);
    free(v.tmp);
    free(v.frames);
    free(v.starts);
    return rc;
}

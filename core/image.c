// core/image.c: PNG (libpng), animated GIF (giflib 5, 6x7x6 colour cube), an RGB
// canvas with lines, rectangles, blits and a 5x7 bitmap font, and line plots.
// Leaves out: image reading, antialiasing, adaptive palettes, dithering.
#include "core/image.h"

#include <errno.h>
#include <fcntl.h>
#include <gif_lib.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"

#define MAX_SIDE 65535 // the largest width or height a GIF can hold; PNGs use the same cap

// ---------------------------------------------------------------- PNG

typedef struct png_ctx {
    char msg[200];
} png_ctx;

static void png_on_error(png_structp png, png_const_charp msg) {
    png_ctx *ctx = png_get_error_ptr(png);
    snprintf(ctx->msg, sizeof ctx->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) {
    (void)png, (void)msg; // the library never prints
}

int lc_png_write(const char *path, const uint8_t *rgb, int w, int h, lc_error *err) {
    if (!path || !rgb || w <= 0 || h <= 0 || w > MAX_SIDE || h > MAX_SIDE)
        return lc_fail(err, LC_ERR_ARG, "%s: bad PNG size %dx%d", path ? path : "(null)", w, h);
    char tmp[4200];
    int rc = lc_atomic_tmp(tmp, sizeof tmp, path, err);
    if (rc) return rc;
    png_bytep *rows = malloc((size_t)h * sizeof *rows);
    if (!rows) return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", path);
    for (int y = 0; y < h; y++) rows[y] = (png_bytep)(rgb + (size_t)y * (size_t)w * 3);
    FILE *fp = fopen(tmp, "wbe");
    if (!fp) {
        free(rows);
        return lc_fail(err, LC_ERR_IO, "%s: cannot create %s: %s", path, tmp, strerror(errno));
    }
    png_ctx ctx = {"out of memory"};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_on_error,
                                              png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(rows);
        fclose(fp);
        lc_atomic_abort(tmp);
        return lc_fail(err, LC_ERR_IO, "%s: libpng: %s", path, ctx.msg);
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    int bad = ferror(fp);
    if ((fclose(fp) != 0) | bad) {
        int e = errno ? errno : EIO;
        lc_atomic_abort(tmp);
        return lc_fail(err, LC_ERR_IO, "%s: write: %s", path, strerror(e));
    }
    return lc_atomic_commit(tmp, path, err);
}

// ---------------------------------------------------------------- GIF

struct lc_gif {
    GifFileType *gif;
    char path[4096], tmp[4200];
    int w, h, delay_cs, nframes, failed;
    GifPixelType *line; // (w)
};

// Nearest level of a 6x7x6 cube: 6 reds, 7 greens (the eye is most sensitive), 6 blues.
static int cube_index(const uint8_t *p) {
    int r = (p[0] * 5 + 127) / 255, g = (p[1] * 6 + 127) / 255, b = (p[2] * 5 + 127) / 255;
    return r * 42 + g * 6 + b;
}

static int gif_fail(lc_gif *g, lc_error *err, const char *what, int code) {
    g->failed = 1;
    return lc_fail(err, LC_ERR_IO, "%s: %s: %s", g->path, what, GifErrorString(code));
}

int lc_gif_open(lc_gif **out, const char *path, int w, int h, int delay_cs, lc_error *err) {
    *out = NULL;
    if (!path || w <= 0 || h <= 0 || w > MAX_SIDE || h > MAX_SIDE || delay_cs < 0 ||
        delay_cs > 65535)
        return lc_fail(err, LC_ERR_ARG, "%s: bad GIF size %dx%d or delay %d",
                       path ? path : "(null)", w, h, delay_cs);
    lc_gif *g = calloc(1, sizeof *g);
    if (!g) return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", path);
    if (strlen(path) >= sizeof g->path) {
        free(g);
        return lc_fail(err, LC_ERR_ARG, "%s: path too long", path);
    }
    snprintf(g->path, sizeof g->path, "%s", path);
    int rc = lc_atomic_tmp(g->tmp, sizeof g->tmp, path, err);
    if (rc) {
        free(g);
        return rc;
    }
    g->w = w, g->h = h, g->delay_cs = delay_cs;
    g->line = malloc((size_t)w);
    GifColorType colors[256] = {{0, 0, 0}};
    for (int r = 0; r < 6; r++)
        for (int gg = 0; gg < 7; gg++)
            for (int b = 0; b < 6; b++) {
                GifColorType *c = &colors[r * 42 + gg * 6 + b];
                c->Red = (GifByteType)(r * 255 / 5);
                c->Green = (GifByteType)(gg * 255 / 6);
                c->Blue = (GifByteType)(b * 255 / 5);
            }
    ColorMapObject *map = GifMakeMapObject(256, colors);
    if (!g->line || !map) {
        GifFreeMapObject(map);
        free(g->line);
        free(g);
        return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", path);
    }
    int code = 0;
    errno = 0;
    // giflib's EGifOpenFileName creates files 0600; open it ourselves so the
    // GIF gets the usual 0666 & ~umask like every other file lucid writes.
    int fd = open(g->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    g->gif = fd >= 0 ? EGifOpenFileHandle(fd, &code) : NULL;
    if (!g->gif && fd >= 0) close(fd);
    if (!g->gif) {
        int e = errno;
        rc = lc_fail(err, LC_ERR_IO, "%s: cannot create %s: %s", path, g->tmp,
                     e ? strerror(e) : GifErrorString(code));
        GifFreeMapObject(map);
        unlink(g->tmp);
        free(g->line);
        free(g);
        return rc;
    }
    EGifSetGifVersion(g->gif, true); // GIF89a: needed for delays and looping
    static const GifByteType loop[3] = {1, 0, 0}; // sub-block 1, loop count 0 = forever
    if (EGifPutScreenDesc(g->gif, w, h, 8, 0, map) == GIF_ERROR ||
        EGifPutExtensionLeader(g->gif, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR ||
        EGifPutExtensionBlock(g->gif, 11, "NETSCAPE2.0") == GIF_ERROR ||
        EGifPutExtensionBlock(g->gif, 3, loop) == GIF_ERROR ||
        EGifPutExtensionTrailer(g->gif) == GIF_ERROR) {
        rc = gif_fail(g, err, "writing the GIF header", g->gif->Error);
        GifFreeMapObject(map);
        EGifCloseFile(g->gif, &code);
        unlink(g->tmp);
        free(g->line);
        free(g);
        return rc;
    }
    GifFreeMapObject(map);
    *out = g;
    return LC_OK;
}

int lc_gif_frame(lc_gif *g, const uint8_t *rgb, lc_error *err) {
    if (g->failed) return lc_fail(err, LC_ERR_STATE, "%s: an earlier GIF write failed", g->path);
    if (!rgb) return lc_fail(err, LC_ERR_ARG, "%s: no frame", g->path);
    // Graphics control: disposal 1 (leave in place), delay, no transparency.
    GifByteType gce[4] = {0x04, (GifByteType)(g->delay_cs & 0xff), (GifByteType)(g->delay_cs >> 8), 0};
    if (EGifPutExtension(g->gif, GRAPHICS_EXT_FUNC_CODE, 4, gce) == GIF_ERROR ||
        EGifPutImageDesc(g->gif, 0, 0, g->w, g->h, false, NULL) == GIF_ERROR)
        return gif_fail(g, err, "writing a frame", g->gif->Error);
    for (int y = 0; y < g->h; y++) {
        const uint8_t *row = rgb + (size_t)y * (size_t)g->w * 3;
        for (int x = 0; x < g->w; x++) g->line[x] = (GifPixelType)cube_index(row + 3 * x);
        if (EGifPutLine(g->gif, g->line, g->w) == GIF_ERROR)
            return gif_fail(g, err, "writing a frame", g->gif->Error);
    }
    g->nframes++;
    return LC_OK;
}

int lc_gif_close(lc_gif *g, lc_error *err) {
    if (!g) return LC_OK;
    int code = 0, rc = LC_OK;
    int closed = EGifCloseFile(g->gif, &code) == GIF_OK; // frees g->gif either way
    if (g->failed) rc = lc_fail(err, LC_ERR_STATE, "%s: not written, a frame failed", g->path);
    else if (!closed) rc = lc_fail(err, LC_ERR_IO, "%s: %s", g->path, GifErrorString(code));
    else if (g->nframes == 0) rc = lc_fail(err, LC_ERR_STATE, "%s: a GIF needs a frame", g->path);
    if (rc) unlink(g->tmp);
    else rc = lc_atomic_commit(g->tmp, g->path, err);
    free(g->line);
    free(g);
    return rc;
}

// ---------------------------------------------------------------- canvas

int lc_canvas_init(lc_canvas *c, int w, int h, uint32_t bg, lc_error *err) {
    c->w = c->h = 0;
    c->rgb = NULL;
    if (w <= 0 || h <= 0 || w > MAX_SIDE || h > MAX_SIDE)
        return lc_fail(err, LC_ERR_ARG, "bad canvas size %dx%d", w, h);
    c->rgb = malloc((size_t)w * (size_t)h * 3);
    if (!c->rgb) return lc_fail(err, LC_ERR_NOMEM, "canvas %dx%d: out of memory", w, h);
    c->w = w, c->h = h;
    lc_canvas_fill_rect(c, 0, 0, w, h, bg);
    return LC_OK;
}

void lc_canvas_free(lc_canvas *c) {
    free(c->rgb);
    c->rgb = NULL;
    c->w = c->h = 0;
}

static inline void put(lc_canvas *c, int x, int y, uint32_t color) {
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
    uint8_t *p = c->rgb + ((size_t)y * (size_t)c->w + (size_t)x) * 3;
    p[0] = (uint8_t)(color >> 16), p[1] = (uint8_t)(color >> 8), p[2] = (uint8_t)color;
}

void lc_canvas_fill_rect(lc_canvas *c, int x, int y, int w, int h, uint32_t color) {
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    long x1 = (long)x + w, y1 = (long)y + h;
    if (x1 > c->w) x1 = c->w;
    if (y1 > c->h) y1 = c->h;
    for (int yy = y0; yy < y1; yy++)
        for (int xx = x0; xx < x1; xx++) put(c, xx, yy, color);
}

void lc_canvas_line(lc_canvas *c, int x0, int y0, int x1, int y1, uint32_t color) {
    // Bresenham; pixels off the canvas are skipped (coordinates are ints, so a
    // caller's line is bounded by its endpoints).
    long dx = labs((long)x1 - x0), dy = -labs((long)y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    long e = dx + dy;
    for (;;) {
        put(c, x0, y0, color);
        if (x0 == x1 && y0 == y1) break;
        long e2 = 2 * e;
        if (e2 >= dy) e += dy, x0 += sx;
        if (e2 <= dx) e += dx, y0 += sy;
    }
}

// The 5x7 font, ASCII 32..126: 7 rows per glyph, bit 4 is the leftmost column.
static const uint8_t font5x7[95][7] = {
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, // space
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04}, // !
    {0x0a, 0x0a, 0x0a, 0x00, 0x00, 0x00, 0x00}, // "
    {0x0a, 0x0a, 0x1f, 0x0a, 0x1f, 0x0a, 0x0a}, // #
    {0x04, 0x0f, 0x14, 0x0e, 0x05, 0x1e, 0x04}, // $
    {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}, // %
    {0x0c, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0d}, // &
    {0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00}, // quote
    {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}, // (
    {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}, // )
    {0x00, 0x04, 0x15, 0x0e, 0x15, 0x04, 0x00}, // *
    {0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00}, // +
    {0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08}, // ,
    {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00}, // -
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c}, // .
    {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}, // /
    {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}, // 0
    {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e}, // 1
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}, // 2
    {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e}, // 3
    {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}, // 4
    {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e}, // 5
    {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}, // 6
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}, // 7
    {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}, // 8
    {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c}, // 9
    {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00}, // :
    {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x04, 0x08}, // ;
    {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}, // <
    {0x00, 0x00, 0x1f, 0x00, 0x1f, 0x00, 0x00}, // =
    {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08}, // >
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}, // ?
    {0x0e, 0x11, 0x01, 0x0d, 0x15, 0x15, 0x0e}, // @
    {0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}, // A
    {0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e}, // B
    {0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e}, // C
    {0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c}, // D
    {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f}, // E
    {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10}, // F
    {0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f}, // G
    {0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}, // H
    {0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e}, // I
    {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c}, // J
    {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}, // K
    {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f}, // L
    {0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11}, // M
    {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}, // N
    {0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}, // O
    {0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10}, // P
    {0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d}, // Q
    {0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11}, // R
    {0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e}, // S
    {0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}, // T
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}, // U
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04}, // V
    {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a}, // W
    {0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11}, // X
    {0x11, 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04}, // Y
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f}, // Z
    {0x0e, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0e}, // [
    {0x00, 0x10, 0x08, 0x04, 0x02, 0x01, 0x00}, // backslash
    {0x0e, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0e}, // ]
    {0x04, 0x0a, 0x11, 0x00, 0x00, 0x00, 0x00}, // ^
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f}, // _
    {0x08, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00}, // `
    {0x00, 0x00, 0x0e, 0x01, 0x0f, 0x11, 0x0f}, // a
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1e}, // b
    {0x00, 0x00, 0x0e, 0x10, 0x10, 0x11, 0x0e}, // c
    {0x01, 0x01, 0x0d, 0x13, 0x11, 0x11, 0x0f}, // d
    {0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e}, // e
    {0x06, 0x09, 0x08, 0x1c, 0x08, 0x08, 0x08}, // f
    {0x00, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x0e}, // g
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11}, // h
    {0x04, 0x00, 0x0c, 0x04, 0x04, 0x04, 0x0e}, // i
    {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0c}, // j
    {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12}, // k
    {0x0c, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e}, // l
    {0x00, 0x00, 0x1a, 0x15, 0x15, 0x11, 0x11}, // m
    {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11}, // n
    {0x00, 0x00, 0x0e, 0x11, 0x11, 0x11, 0x0e}, // o
    {0x00, 0x00, 0x1e, 0x11, 0x1e, 0x10, 0x10}, // p
    {0x00, 0x00, 0x0d, 0x13, 0x0f, 0x01, 0x01}, // q
    {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10}, // r
    {0x00, 0x00, 0x0e, 0x10, 0x0e, 0x01, 0x1e}, // s
    {0x08, 0x08, 0x1c, 0x08, 0x08, 0x09, 0x06}, // t
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0d}, // u
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x0a, 0x04}, // v
    {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0a}, // w
    {0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11}, // x
    {0x00, 0x00, 0x11, 0x11, 0x0f, 0x01, 0x0e}, // y
    {0x00, 0x00, 0x1f, 0x02, 0x04, 0x08, 0x1f}, // z
    {0x02, 0x04, 0x04, 0x08, 0x04, 0x04, 0x02}, // {
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}, // |
    {0x08, 0x04, 0x04, 0x02, 0x04, 0x04, 0x08}, // }
    {0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00}, // ~
};

#define GLYPH_W 5
#define GLYPH_H 7
#define ADVANCE 6   // glyph width plus one column of space
#define LINE_H 9    // glyph height plus two rows of space

static const uint8_t *glyph(char ch) {
    unsigned char u = (unsigned char)ch;
    return font5x7[(u >= 32 && u <= 126 ? u : '?') - 32];
}

void lc_canvas_text(lc_canvas *c, int x, int y, const char *s, uint32_t color, int scale) {
    if (scale < 1) scale = 1;
    int cx = x;
    for (; *s; s++) {
        if (*s == '\n') {
            cx = x;
            y += LINE_H * scale;
            continue;
        }
        const uint8_t *g = glyph(*s);
        for (int gy = 0; gy < GLYPH_H; gy++)
            for (int gx = 0; gx < GLYPH_W; gx++)
                if (g[gy] & (0x10 >> gx))
                    lc_canvas_fill_rect(c, cx + gx * scale, y + gy * scale, scale, scale, color);
        cx += ADVANCE * scale;
    }
}

// Text turned 90 degrees counter-clockwise, read bottom to top; (x, y) is the
// bottom-left corner of the first glyph.
static void text_up(lc_canvas *c, int x, int y, const char *s, uint32_t color, int scale) {
    for (int k = 0; s[k]; k++) {
        const uint8_t *g = glyph(s[k]);
        int base = y - k * ADVANCE * scale;
        for (int gy = 0; gy < GLYPH_H; gy++)
            for (int gx = 0; gx < GLYPH_W; gx++)
                if (g[gy] & (0x10 >> gx))
                    lc_canvas_fill_rect(c, x + gy * scale, base - (gx + 1) * scale, scale, scale,
                                        color);
    }
}

static int text_w(const char *s, int scale) {
    int n = (int)strlen(s);
    return n ? (n * ADVANCE - 1) * scale : 0;
}

void lc_canvas_blit(lc_canvas *c, int x, int y, const uint8_t *rgb, int w, int h, int scale) {
    if (scale < 1) scale = 1;
    for (int sy = 0; sy < h; sy++)
        for (int sx = 0; sx < w; sx++) {
            const uint8_t *p = rgb + ((size_t)sy * (size_t)w + (size_t)sx) * 3;
            uint32_t col = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
            if (scale == 1) put(c, x + sx, y + sy, col);
            else lc_canvas_fill_rect(c, x + sx * scale, y + sy * scale, scale, scale, col);
        }
}

// ---------------------------------------------------------------- plots

// Matplotlib's tab10 colours.
static const uint32_t palette[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728,
                                   0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f};
#define NPALETTE ((int)(sizeof palette / sizeof palette[0]))

#define C_BG 0xffffff
#define C_GRID 0xe6e6e6
#define C_AXIS 0x404040
#define C_TEXT 0x202020

// A step of 1, 2 or 5 times a power of ten giving about target intervals.
static double nice_step(double range, int target) {
    double raw = range / (target > 0 ? target : 1);
    double mag = pow(10.0, floor(log10(raw)));
    double norm = raw / mag;
    return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

// A tick label with as many decimals as the step needs, k/M/G for big values.
static void tick_label(char *buf, size_t cap, double v, double step, double maxabs) {
    double div = 1;
    const char *suffix = "";
    if (maxabs >= 1e9) div = 1e9, suffix = "G";
    else if (maxabs >= 1e6) div = 1e6, suffix = "M";
    else if (maxabs >= 1e4) div = 1e3, suffix = "k";
    double s = step / div;
    if (fabs(v) < step * 1e-6) v = 0; // no "-0.0"
    int dec = s >= 1 ? 0 : (int)ceil(-log10(s) - 1e-9);
    if (v == 0) snprintf(buf, cap, "0");
    else if (dec > 6) snprintf(buf, cap, "%.1e", v);
    else snprintf(buf, cap, "%.*f%s", dec, v / div, suffix);
}

typedef struct frame {
    int x0, y0, x1, y1;         // plot area in pixels, inclusive
    double xmin, xmax, ymin, ymax;
} frame;

static double to_px(const frame *f, double x) {
    return f->x0 + (x - f->xmin) / (f->xmax - f->xmin) * (f->x1 - f->x0);
}

static double to_py(const frame *f, double y) {
    return f->y1 - (y - f->ymin) / (f->ymax - f->ymin) * (f->y1 - f->y0);
}

static void blend(lc_canvas *c, int x, int y, uint32_t color, double a) {
    uint8_t *p = c->rgb + ((size_t)y * (size_t)c->w + (size_t)x) * 3;
    for (int k = 0; k < 3; k++) {
        double src = (color >> (16 - 8 * k)) & 0xff;
        p[k] = (uint8_t)lround(p[k] * (1 - a) + src * a);
    }
}

// The band between lo and hi, blended once per pixel (mask: the plot area).
static void draw_band(lc_canvas *c, const frame *f, const lc_series *s, uint32_t color,
                      uint8_t *mask) {
    int pw = f->x1 - f->x0 + 1;
    for (int i = 0; i < s->n; i++) {
        int j = i + 1 < s->n ? i + 1 : i;
        if (!isfinite(s->x[i]) || !isfinite(s->lo[i]) || !isfinite(s->hi[i]) ||
            !isfinite(s->x[j]) || !isfinite(s->lo[j]) || !isfinite(s->hi[j]))
            continue;
        if (j == i && i > 0) break;
        double xa = to_px(f, s->x[i]), xb = to_px(f, s->x[j]);
        if (xb < xa) {
            double t = xa;
            xa = xb, xb = t;
        }
        for (int px = (int)floor(xa); px <= (int)ceil(xb); px++) {
            if (px < f->x0 || px > f->x1) continue;
            double t = xb > xa ? (px - xa) / (xb - xa) : 0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            if (to_px(f, s->x[j]) < to_px(f, s->x[i])) t = 1 - t;
            double lo = s->lo[i] + t * (s->lo[j] - s->lo[i]);
            double hi = s->hi[i] + t * (s->hi[j] - s->hi[i]);
            int ya = (int)lround(to_py(f, hi)), yb = (int)lround(to_py(f, lo));
            if (ya > yb) {
                int tmp = ya;
                ya = yb, yb = tmp;
            }
            for (int py = ya < f->y0 ? f->y0 : ya; py <= yb && py <= f->y1; py++) {
                uint8_t *m = &mask[(size_t)(py - f->y0) * (size_t)pw + (size_t)(px - f->x0)];
                if (*m) continue;
                *m = 1;
                blend(c, px, py, color, 0.22);
            }
        }
    }
}

static void thick_line(lc_canvas *c, double xa, double ya, double xb, double yb, uint32_t color,
                       int thick) {
    int x0 = (int)lround(xa), y0 = (int)lround(ya), x1 = (int)lround(xb), y1 = (int)lround(yb);
    int steep = abs(y1 - y0) > abs(x1 - x0);
    for (int k = 0; k < thick; k++) {
        int o = k - thick / 2;
        if (steep) lc_canvas_line(c, x0 + o, y0, x1 + o, y1, color);
        else lc_canvas_line(c, x0, y0 + o, x1, y1 + o, color);
    }
}

int lc_plot_png(const char *path, const char *title, const char *xlabel, const char *ylabel,
                const lc_series *series, int nseries, int w, int h, lc_error *err) {
    if (w < 160 || h < 120 || w > 8192 || h > 8192)
        return lc_fail(err, LC_ERR_ARG, "plot size %dx%d (160x120 to 8192x8192)", w, h);
    if (nseries < 0 || (nseries > 0 && !series))
        return lc_fail(err, LC_ERR_ARG, "plot: bad series count %d", nseries);
    for (int i = 0; i < nseries; i++)
        if (series[i].n < 0 || (series[i].n > 0 && (!series[i].x || !series[i].y)) ||
            (!series[i].lo) != (!series[i].hi))
            return lc_fail(err, LC_ERR_ARG, "plot: series %d has no data or half a band", i);

    int S = w >= 1200 && h >= 800 ? 2 : 1; // text scale
    int pad = 10 * S, tick = 4 * S, th = GLYPH_H * S;

    // Data ranges over every finite value (bands included).
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int i = 0; i < nseries; i++) {
        const lc_series *s = &series[i];
        for (int k = 0; k < s->n; k++) {
            if (!isfinite(s->x[k])) continue;
            double ys[3] = {s->y[k], s->lo ? s->lo[k] : NAN, s->hi ? s->hi[k] : NAN};
            int any = 0;
            for (int q = 0; q < 3; q++)
                if (isfinite(ys[q])) {
                    any = 1;
                    ymin = fmin(ymin, ys[q]);
                    ymax = fmax(ymax, ys[q]);
                }
            if (any) xmin = fmin(xmin, s->x[k]), xmax = fmax(xmax, s->x[k]);
        }
    }
    if (!(xmin <= xmax)) xmin = 0, xmax = 1;
    if (!(ymin <= ymax)) ymin = 0, ymax = 1;
    if (xmax - xmin < 1e-12 * fmax(1, fabs(xmax))) {
        double d = fmax(0.5, fabs(xmax) * 0.05);
        xmin -= d, xmax += d;
    }
    if (ymax - ymin < 1e-12 * fmax(1, fabs(ymax))) {
        double d = fmax(0.5, fabs(ymax) * 0.05);
        ymin -= d, ymax += d;
    }
    double ypad = (ymax - ymin) * 0.05;
    ymin -= ypad, ymax += ypad;

    // Y ticks first: their labels set the left margin.
    int ytarget = (h - 4 * pad) / (40 * S);
    double ystep = nice_step(ymax - ymin, ytarget < 2 ? 2 : ytarget > 10 ? 10 : ytarget);
    double ymaxabs = fmax(fabs(ymin), fabs(ymax));
    int ylabw = 0;
    char lab[64];
    for (double v = ceil(ymin / ystep) * ystep; v <= ymax + ystep * 1e-9; v += ystep) {
        tick_label(lab, sizeof lab, v, ystep, ymaxabs);
        int tw = text_w(lab, S);
        if (tw > ylabw) ylabw = tw;
    }
    int legend_w = 0, nlegend = 0;
    for (int i = 0; i < nseries; i++)
        if (series[i].label && series[i].label[0]) {
            nlegend++;
            int tw = text_w(series[i].label, S) + 24 * S;
            if (tw > legend_w) legend_w = tw;
        }
    if (legend_w > w / 3) legend_w = w / 3;

    frame f;
    f.x0 = pad + (ylabel && *ylabel ? th + pad : 0) + ylabw + tick + 4 * S;
    f.x1 = w - 1 - (nlegend ? legend_w + 2 * pad : 2 * pad);
    f.y0 = title && *title ? pad + 2 * th + pad : 2 * pad;
    f.y1 = h - 1 - (pad + th + tick + 4 * S + (xlabel && *xlabel ? th + pad : 0));
    if (f.x1 - f.x0 < 40 || f.y1 - f.y0 < 40)
        return lc_fail(err, LC_ERR_ARG, "plot %dx%d is too small for its labels", w, h);
    f.xmin = xmin, f.xmax = xmax, f.ymin = ymin, f.ymax = ymax;

    lc_canvas c;
    int rc = lc_canvas_init(&c, w, h, C_BG, err);
    if (rc) return rc;
    size_t pw = (size_t)(f.x1 - f.x0 + 1), ph = (size_t)(f.y1 - f.y0 + 1);
    uint8_t *mask = malloc(pw * ph);
    if (!mask) {
        lc_canvas_free(&c);
        return lc_fail(err, LC_ERR_NOMEM, "plot: out of memory");
    }

    // Grid, ticks and their labels.
    for (double v = ceil(ymin / ystep) * ystep; v <= ymax + ystep * 1e-9; v += ystep) {
        int py = (int)lround(to_py(&f, v));
        if (py < f.y0 || py > f.y1) continue;
        lc_canvas_line(&c, f.x0, py, f.x1, py, C_GRID);
        lc_canvas_line(&c, f.x0 - tick, py, f.x0, py, C_AXIS);
        tick_label(lab, sizeof lab, v, ystep, ymaxabs);
        lc_canvas_text(&c, f.x0 - tick - 3 * S - text_w(lab, S), py - th / 2, lab, C_TEXT, S);
    }
    double xmaxabs = fmax(fabs(xmin), fabs(xmax));
    int xtarget = (f.x1 - f.x0) / (70 * S);
    double xstep = nice_step(xmax - xmin, xtarget < 2 ? 2 : xtarget > 10 ? 10 : xtarget);
    for (double v = ceil(xmin / xstep) * xstep; v <= xmax + xstep * 1e-9; v += xstep) {
        int px = (int)lround(to_px(&f, v));
        if (px < f.x0 || px > f.x1) continue;
        lc_canvas_line(&c, px, f.y0, px, f.y1, C_GRID);
        lc_canvas_line(&c, px, f.y1, px, f.y1 + tick, C_AXIS);
        tick_label(lab, sizeof lab, v, xstep, xmaxabs);
        lc_canvas_text(&c, px - text_w(lab, S) / 2, f.y1 + tick + 3 * S, lab, C_TEXT, S);
    }

    // Bands under lines, then lines (with dots when the points are sparse).
    for (int i = 0; i < nseries; i++) {
        if (!series[i].lo || series[i].n == 0) continue;
        memset(mask, 0, pw * ph);
        draw_band(&c, &f, &series[i], palette[i % NPALETTE], mask);
    }
    int thick = S == 2 ? 3 : 2;
    for (int i = 0; i < nseries; i++) {
        const lc_series *s = &series[i];
        uint32_t col = palette[i % NPALETTE];
        int prev = -1;
        for (int k = 0; k < s->n; k++) {
            if (!isfinite(s->x[k]) || !isfinite(s->y[k])) {
                prev = -1;
                continue;
            }
            double px = to_px(&f, s->x[k]), py = to_py(&f, s->y[k]);
            if (prev >= 0)
                thick_line(&c, to_px(&f, s->x[prev]), to_py(&f, s->y[prev]), px, py, col, thick);
            if (s->n <= 40)
                lc_canvas_fill_rect(&c, (int)lround(px) - thick, (int)lround(py) - thick,
                                    2 * thick + 1, 2 * thick + 1, col);
            prev = k;
        }
    }

    // Frame, title, axis labels, legend.
    lc_canvas_line(&c, f.x0, f.y0, f.x1, f.y0, C_AXIS);
    lc_canvas_line(&c, f.x0, f.y1, f.x1, f.y1, C_AXIS);
    lc_canvas_line(&c, f.x0, f.y0, f.x0, f.y1, C_AXIS);
    lc_canvas_line(&c, f.x1, f.y0, f.x1, f.y1, C_AXIS);
    if (title && *title) { // centred over the frame, kept inside the picture: a long
        int ts = 2 * S;    // title is drawn smaller, and a too long one clipped at the right
        if (text_w(title, ts) > w - 2 * pad && S > 0) ts = S;
        int tx = (f.x0 + f.x1) / 2 - text_w(title, ts) / 2;
        if (tx + text_w(title, ts) > w - pad) tx = w - pad - text_w(title, ts);
        if (tx < pad) tx = pad;
        lc_canvas_text(&c, tx, pad, title, C_TEXT, ts);
    }
    if (xlabel && *xlabel)
        lc_canvas_text(&c, (f.x0 + f.x1) / 2 - text_w(xlabel, S) / 2, h - pad - th, xlabel,
                       C_TEXT, S);
    if (ylabel && *ylabel)
        text_up(&c, pad, (f.y0 + f.y1) / 2 + text_w(ylabel, S) / 2, ylabel, C_TEXT, S);
    int ly = f.y0 + 2 * S;
    for (int i = 0; i < nseries; i++) {
        if (!series[i].label || !series[i].label[0]) continue;
        int lx = f.x1 + pad;
        uint32_t col = palette[i % NPALETTE];
        if (series[i].lo) // a band: a tinted box behind the line
            for (int yy = ly - 2 * S; yy < ly + th + 2 * S; yy++)
                for (int xx = lx; xx < lx + 16 * S; xx++)
                    if (xx < w && yy < h) blend(&c, xx, yy, col, 0.22);
        lc_canvas_fill_rect(&c, lx, ly + th / 2 - thick / 2, 16 * S, thick, col);
        lc_canvas_text(&c, lx + 20 * S, ly, series[i].label, C_TEXT, S);
        ly += th + 6 * S;
    }
    free(mask);
    rc = lc_png_write(path, c.rgb, w, h, err);
    lc_canvas_free(&c);
    return rc;
}

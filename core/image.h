// core/image.h: pictures for people: PNG (libpng), animated GIF (giflib), and
// a small RGB canvas with lines, rectangles and a bitmap font for plots.
// Leaves out: image reading, antialiasing.
#ifndef LC_CORE_IMAGE_H
#define LC_CORE_IMAGE_H

#include "core/api.h"

#include <stdint.h>

#include "core/error.h"

LC_API_BEGIN

// rgb: h rows of w pixels, 3 bytes each.
int lc_png_write(const char *path, const uint8_t *rgb, int w, int h, lc_error *err);

typedef struct lc_gif lc_gif;
// delay_cs: frame delay in hundredths of a second. Frames are quantised to a
// fixed 6x7x6 colour cube (or an adaptive palette), written atomically on close.
int lc_gif_open(lc_gif **out, const char *path, int w, int h, int delay_cs, lc_error *err);
int lc_gif_frame(lc_gif *g, const uint8_t *rgb, lc_error *err);
int lc_gif_close(lc_gif *g, lc_error *err); // writes the file and frees g

typedef struct lc_canvas {
    int w, h;
    uint8_t *rgb; // (h, w, 3)
} lc_canvas;

int lc_canvas_init(lc_canvas *c, int w, int h, uint32_t bg, lc_error *err); // colours 0xRRGGBB
void lc_canvas_free(lc_canvas *c);
void lc_canvas_fill_rect(lc_canvas *c, int x, int y, int w, int h, uint32_t color);
void lc_canvas_line(lc_canvas *c, int x0, int y0, int x1, int y1, uint32_t color);
void lc_canvas_text(lc_canvas *c, int x, int y, const char *s, uint32_t color, int scale);
// Copies a (h, w, 3) image into the canvas at (x, y), scaled by an integer factor.
void lc_canvas_blit(lc_canvas *c, int x, int y, const uint8_t *rgb, int w, int h, int scale);

// A line plot: nseries curves (x[i], y[i], n[i] points each) with axes, ticks,
// labels and a legend; optional bands (lo/hi arrays, may be NULL). Writes a PNG.
typedef struct lc_series {
    const char *label;
    const double *x, *y;
    const double *lo, *hi; // optional confidence band, same length as x
    int n;
} lc_series;
int lc_plot_png(const char *path, const char *title, const char *xlabel, const char *ylabel,
                const lc_series *series, int nseries, int w, int h, lc_error *err);

LC_API_END

#endif

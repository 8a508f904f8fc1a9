// env/pixel_draw.c: clipped rectangles, palette sprites and nearest-neighbour
// scaling for the pixel games (env/pixel_draw.h).
// Leaves out: anything but opaque flat colours.
#include "env/pixel_draw.h"

#include <string.h>

void lc_pix_fill(uint8_t *img, int iw, int ih, int x, int y, int w, int h, lc_pix_rgb c) {
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > iw ? iw : x + w, y1 = y + h > ih ? ih : y + h;
    if (x0 >= x1 || y0 >= y1) return;
    uint8_t *row = img + ((size_t)y0 * iw + x0) * 3;
    for (int i = 0; i < x1 - x0; i++) {
        row[3 * i] = c.r;
        row[3 * i + 1] = c.g;
        row[3 * i + 2] = c.b;
    }
    size_t n = (size_t)(x1 - x0) * 3;
    for (int yy = y0 + 1; yy < y1; yy++) memcpy(img + ((size_t)yy * iw + x0) * 3, row, n);
}

void lc_pix_sprite(uint8_t *img, int iw, int ih, int x, int y, const char *const *rows, int sw,
                   int sh, const lc_pix_rgb *palette, int flip) {
    for (int r = 0; r < sh; r++) {
        int yy = y + r;
        if (yy < 0 || yy >= ih) continue;
        uint8_t *line = img + (size_t)yy * iw * 3;
        for (int k = 0; k < sw; k++) {
            char ch = rows[r][flip ? sw - 1 - k : k];
            int xx = x + k;
            if (ch == '.' || xx < 0 || xx >= iw) continue;
            lc_pix_rgb c = palette[ch - 'a'];
            line[3 * xx] = c.r;
            line[3 * xx + 1] = c.g;
            line[3 * xx + 2] = c.b;
        }
    }
}

void lc_pix_scale(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh) {
    // Samples at pixel centres: source index floor((2k + 1) * s / (2 d)).
    int prev = -1;
    for (int y = 0; y < dh; y++) {
        int sy = (int)(((long)2 * y + 1) * sh / (2L * dh));
        uint8_t *out = dst + (size_t)y * dw * 3;
        if (sy == prev) { // same source row as the line above: copy it
            memcpy(out, out - (size_t)dw * 3, (size_t)dw * 3);
            continue;
        }
        prev = sy;
        const uint8_t *in = src + (size_t)sy * sw * 3;
        for (int x = 0; x < dw; x++) {
            const uint8_t *p = in + (size_t)(((long)2 * x + 1) * sw / (2L * dw)) * 3;
            out[3 * x] = p[0];
            out[3 * x + 1] = p[1];
            out[3 * x + 2] = p[2];
        }
    }
}

// env/pixel_draw.h: the drawing the pixel games share: clipped rectangles, small
// palette sprites, nearest-neighbour scaling, all on (H, W, 3) uint8 images.
// Leaves out: blending, lines, text (core/image.h has those for plots).
#ifndef LC_ENV_PIXEL_DRAW_H
#define LC_ENV_PIXEL_DRAW_H

#include <stdint.h>

typedef struct lc_pix_rgb {
    uint8_t r, g, b;
} lc_pix_rgb;

// Fills the rectangle (x, y, w, h) of img (ih, iw, 3), clipped to the image.
void lc_pix_fill(uint8_t *img, int iw, int ih, int x, int y, int w, int h, lc_pix_rgb c);

// A sprite is sh strings of sw characters: '.' is transparent, any other
// character c is drawn in palette[c - 'a'] (so 'a'..'h' index 8 colours).
// flip mirrors it left-right. Clipped to the image.
void lc_pix_sprite(uint8_t *img, int iw, int ih, int x, int y, const char *const *rows, int sw,
                   int sh, const lc_pix_rgb *palette, int flip);

// Nearest-neighbour resize of src (sh, sw, 3) into dst (dh, dw, 3).
void lc_pix_scale(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh);

#endif

// core/resize.c: exact area-average resizing of uint8 frames (core/resize.h).
// Coordinates are scaled by dh (rows) so every boundary is an integer: source row y
// spans [y dh, (y+1) dh), output row Y spans [Y sh, (Y+1) sh); their overlap is the
// weight, and an output row's weights sum to sh. Columns likewise with dw and sw.
// Rows first (into tmp, at most 255 sh per element), then columns (64-bit sums).
#include "core/resize.h"

size_t lc_resize_area_scratch(int sh, int sw, int c, int dh, int dw) {
    (void)sh, (void)dw;
    return (size_t)dh * (size_t)sw * (size_t)c;
}

static inline int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

// The row sums are the cost (a third of import-video's time); gcc -O2 leaves them
// scalar, so this one function asks for its vectoriser (clang vectorises at -O2).
#if defined(__GNUC__) && !defined(__clang__)
#define LC_VECTORIZE __attribute__((optimize("tree-vectorize")))
#else
#define LC_VECTORIZE
#endif

LC_VECTORIZE
void lc_resize_area_u8(const uint8_t *src, int sh, int sw, int c, uint8_t *dst, int dh, int dw,
                       uint32_t *tmp) {
    const size_t srow = (size_t)sw * c;
    for (int Y = 0; Y < dh; Y++) {
        uint32_t *t = tmp + (size_t)Y * srow;
        for (size_t j = 0; j < srow; j++) t[j] = 0;
        int64_t a = (int64_t)Y * sh, b = a + sh; // in units of 1/dh source rows
        for (int64_t y = a / dh; y < sh && y * dh < b; y++) {
            uint32_t w = (uint32_t)(imin(b, (y + 1) * dh) - imax(a, y * dh));
            const uint8_t *s = src + (size_t)y * srow;
            for (size_t j = 0; j < srow; j++) t[j] += w * s[j];
        }
    }
    const uint64_t D = (uint64_t)sh * (uint64_t)sw, half = D / 2;
    for (int Y = 0; Y < dh; Y++) {
        const uint32_t *t = tmp + (size_t)Y * srow;
        uint8_t *o = dst + (size_t)Y * dw * c;
        for (int X = 0; X < dw; X++) {
            int64_t a = (int64_t)X * sw, b = a + sw;
            int64_t x0 = a / dw;
            for (int k = 0; k < c; k++) {
                uint64_t acc = 0;
                for (int64_t x = x0; x < sw && x * dw < b; x++)
                    acc += (uint64_t)(imin(b, (x + 1) * dw) - imax(a, x * dw)) * t[x * c + k];
                o[(size_t)X * c + k] = (uint8_t)((acc + half) / D);
            }
        }
    }
}

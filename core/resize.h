// core/resize.h: the one rule by which lucid changes the size of a frame: the exact
// area average (a box filter). Output pixel (Y, X) covers the source rectangle
// [Y sh/dh, (Y+1) sh/dh) x [X sw/dw, (X+1) sw/dw); each source pixel weighs by the
// area it shares with it; the result is rounded to nearest (halves up). Integer
// factors are the plain block mean; any sizes work, down or up, rows and columns
// independently (so a 210x160 Atari frame becomes 64x64 without cropping).
// Integer arithmetic, so the result is the same on every machine.
// Leaves out: other filters, float frames, aspect-preserving padding.
#ifndef LC_CORE_RESIZE_H
#define LC_CORE_RESIZE_H

#include "core/api.h"

#include <stddef.h>
#include <stdint.h>

LC_API_BEGIN

// Scratch elements (uint32) lc_resize_area_u8 needs for these sizes: dh * sw * c.
size_t lc_resize_area_scratch(int sh, int sw, int c, int dh, int dw);
// src (sh, sw, c) -> dst (dh, dw, c), all sizes in 1..65535, c >= 1; tmp holds
// lc_resize_area_scratch(...) uint32s. Never allocates; src and dst must not overlap.
void lc_resize_area_u8(const uint8_t *src, int sh, int sw, int c, uint8_t *dst, int dh, int dw,
                       uint32_t *tmp);

LC_API_END

#endif

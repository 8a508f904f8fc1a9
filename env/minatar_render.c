// env/minatar_render.c: draws a MinAtar observation as RGB the way the reference's
// rgb_array render does (seaborn's "cubehelix" palette of C colours, matplotlib's 256-entry
// lookup table), one block per cell. Leaves out: grid lines, text, the human (matplotlib) window.
#include <math.h>
#include <string.h>

#include "env/minatar.h"

#define N LC_MZ_N

// matplotlib's cubehelix (gamma 1, s 0.5, r -1.5, h 1) at x.
static double cubehelix(double x, double p0, double p1) {
    double a = x * (1.0 - x) / 2.0;
    double phi = 2.0 * M_PI * (0.5 / 3.0 - 1.5 * x);
    double v = x + a * (p0 * cos(phi) + p1 * sin(phi));
    return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
}

void lc_mz_palette(int channels, uint8_t rgb[][3]) {
    static const double p[3][2] = {{-0.14861, 1.78277}, {-0.29227, -0.90649}, {1.97294, 0.0}};
    memset(rgb[0], 0, 3);
    for (int c = 0; c < channels; c++) {
        double bin = (double)(c + 1) / (channels + 1); // np.linspace(0, 1, C + 2)[1:-1]
        int k = (int)(bin * 256.0);                    // the colormap's lookup entry
        if (k > 255) k = 255;
        for (int j = 0; j < 3; j++) rgb[1 + c][j] = (uint8_t)lround(255.0 * cubehelix(k / 255.0, p[j][0], p[j][1]));
    }
}

void lc_mz_draw(const uint8_t *obs, int channels, uint8_t *rgb, int w, int h) {
    uint8_t pal[LC_MZ_MAX_C + 1][3];
    lc_mz_palette(channels, pal);
    for (int py = 0; py < h; py++) {
        int y = py * N / h;
        for (int px = 0; px < w; px++) {
            int x = px * N / w, top = 0;
            for (int c = 0; c < channels; c++)
                if (obs[(y * N + x) * channels + c]) top = c + 1; // the highest set channel
            memcpy(rgb + ((size_t)py * w + px) * 3, pal[top], 3);
        }
    }
}

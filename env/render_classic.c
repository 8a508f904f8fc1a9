// env/render_classic.c: draws the classic control envs as Gymnasium's pygame renderer
// does (same shapes, colours and proportions), at any size, with a small rasteriser of
// its own (filled polygons, circles, thick lines). Leaves out: antialiasing, Pendulum's
// torque image (an arc with an arrowhead stands in for it).
//
// Letters: W0 x H0 = Gymnasium's screen size for the env, w x h = the requested size.
// Shapes are given in Gymnasium's surface coordinates (y up, as after its final flip)
// and scaled by (w / W0, h / H0).
#include <math.h>
#include <string.h>

#include "env/classic.h"

typedef struct canvas {
    uint8_t *rgb; // (h, w, 3)
    int w, h;
    double sx, sy, H0;
} canvas;

static void canvas_init(canvas *c, uint8_t *rgb, int w, int h, double W0, double H0) {
    c->rgb = rgb;
    c->w = w;
    c->h = h;
    c->sx = w / W0;
    c->sy = h / H0;
    c->H0 = H0;
    memset(rgb, 255, (size_t)w * h * 3); // white
}

static void to_px(const canvas *c, double x, double y, double *px, double *py) {
    *px = x * c->sx;
    *py = (c->H0 - y) * c->sy;
}

static void span(canvas *c, int y, int x0, int x1, uint32_t color) { // pixels [x0, x1] of row y
    if (y < 0 || y >= c->h) return;
    if (x0 < 0) x0 = 0;
    if (x1 >= c->w) x1 = c->w - 1;
    uint8_t *p = c->rgb + ((size_t)y * c->w + x0) * 3;
    for (int x = x0; x <= x1; x++, p += 3) {
        p[0] = (uint8_t)(color >> 16);
        p[1] = (uint8_t)(color >> 8);
        p[2] = (uint8_t)color;
    }
}

#define MAX_VERTS 8

// Fills a polygon given in pixel coordinates: pixels whose centres are inside (even-odd),
// and at least the pixels under the vertices' bounding box row by row when it is thinner
// than a pixel, so small shapes never vanish.
static void fill_poly_px(canvas *c, const double *px, const double *py, int n, uint32_t color) {
    double ymin = py[0], ymax = py[0];
    for (int k = 1; k < n; k++) {
        if (py[k] < ymin) ymin = py[k];
        if (py[k] > ymax) ymax = py[k];
    }
    int r0 = (int)floor(ymin), r1 = (int)ceil(ymax);
    if (r0 < 0) r0 = 0;
    if (r1 > c->h - 1) r1 = c->h - 1;
    for (int r = r0; r <= r1; r++) {
        double yc = r + 0.5;
        if (yc < ymin || yc > ymax) yc = yc < ymin ? ymin : ymax; // thin shapes: sample inside
        double xs[MAX_VERTS];
        int m = 0;
        for (int k = 0; k < n && m < MAX_VERTS; k++) {
            double xa = px[k], ya = py[k], xb = px[(k + 1) % n], yb = py[(k + 1) % n];
            if ((ya <= yc && yb > yc) || (yb <= yc && ya > yc) || (ya == yc && yb == yc))
                xs[m++] = ya == yb ? xa : xa + (yc - ya) * (xb - xa) / (yb - ya);
        }
        for (int a = 1; a < m; a++) // sort the crossings
            for (int b = a; b > 0 && xs[b] < xs[b - 1]; b--) {
                double t = xs[b];
                xs[b] = xs[b - 1];
                xs[b - 1] = t;
            }
        for (int k = 0; k + 1 < m; k += 2) {
            int x0 = (int)ceil(xs[k] - 0.5), x1 = (int)floor(xs[k + 1] - 0.5);
            if (x1 < x0) x0 = x1 = (int)floor((xs[k] + xs[k + 1]) / 2); // thinner than a pixel
            span(c, r, x0, x1, color);
        }
    }
}

// A polygon in Gymnasium's coordinates.
static void fill_poly(canvas *c, const double *xy, int n, uint32_t color) {
    double px[MAX_VERTS], py[MAX_VERTS];
    for (int k = 0; k < n && k < MAX_VERTS; k++) to_px(c, xy[2 * k], xy[2 * k + 1], &px[k], &py[k]);
    fill_poly_px(c, px, py, n < MAX_VERTS ? n : MAX_VERTS, color);
}

// A filled circle of radius r (Gymnasium's units: an ellipse when the aspect changes).
static void fill_circle(canvas *c, double x, double y, double r, uint32_t color) {
    double cx, cy;
    to_px(c, x, y, &cx, &cy);
    double rx = r * c->sx, ry = r * c->sy;
    if (rx < 0.75) rx = 0.75;
    if (ry < 0.75) ry = 0.75;
    int r0 = (int)floor(cy - ry), r1 = (int)ceil(cy + ry);
    for (int row = r0 < 0 ? 0 : r0; row <= r1 && row < c->h; row++) {
        double dy = (row + 0.5 - cy) / ry;
        if (dy * dy > 1.0) continue;
        double half = rx * sqrt(1.0 - dy * dy);
        int x0 = (int)ceil(cx - half - 0.5), x1 = (int)floor(cx + half - 0.5);
        if (x1 < x0) x0 = x1 = (int)floor(cx);
        span(c, row, x0, x1, color);
    }
}

// A line of the given width in pixels (at least one) between two points in Gymnasium's coordinates.
static void thick_line(canvas *c, double x0, double y0, double x1, double y1, double width_px, uint32_t color) {
    double ax, ay, bx, by;
    to_px(c, x0, y0, &ax, &ay);
    to_px(c, x1, y1, &bx, &by);
    double dx = bx - ax, dy = by - ay, len = sqrt(dx * dx + dy * dy);
    if (width_px < 1.0) width_px = 1.0;
    double nx = len > 0 ? -dy / len * width_px / 2 : 0, ny = len > 0 ? dx / len * width_px / 2 : width_px / 2;
    double px[4] = {ax + nx, bx + nx, bx - nx, ax - nx}, py[4] = {ay + ny, by + ny, by - ny, ay - ny};
    fill_poly_px(c, px, py, 4, color);
}

// The four corners (l, b), (l, t), (r, t), (r, b) rotated by angle and moved by (ox, oy),
// as Gymnasium does with pygame.math.Vector2(coord).rotate_rad(angle).
static void rect_rotated(double *xy, double l, double r, double t, double b, double angle, double ox, double oy) {
    double cs = cos(angle), sn = sin(angle);
    double corners[8] = {l, b, l, t, r, t, r, b};
    for (int k = 0; k < 4; k++) {
        double x = corners[2 * k], y = corners[2 * k + 1];
        xy[2 * k] = x * cs - y * sn + ox;
        xy[2 * k + 1] = x * sn + y * cs + oy;
    }
}

// ---------------------------------------------------------------- CartPole-v1

int lc_cartpole_render(void *data, int i, uint8_t *rgb, int w, int h) {
    if (w <= 0 || h <= 0) return -1;
    double s[LC_CLASSIC_MAX_STATE];
    lc_classic_get_state(data, i, s);
    const double W0 = 600, H0 = 400, x_threshold = 2.4, length = 0.5;
    canvas c;
    canvas_init(&c, rgb, w, h, W0, H0);
    double scale = W0 / (x_threshold * 2), polewidth = 10.0, polelen = scale * (2 * length);
    double cartwidth = 50.0, cartheight = 30.0;
    double l = -cartwidth / 2, r = cartwidth / 2, t = cartheight / 2, b = -cartheight / 2;
    double axleoffset = cartheight / 4.0, cartx = s[0] * scale + W0 / 2.0, carty = 100;
    double cart[8] = {l + cartx, b + carty, l + cartx, t + carty, r + cartx, t + carty, r + cartx, b + carty};
    fill_poly(&c, cart, 4, 0x000000);
    double pole[8];
    rect_rotated(pole, -polewidth / 2, polewidth / 2, polelen - polewidth / 2, -polewidth / 2, -s[2], cartx,
                 carty + axleoffset);
    fill_poly(&c, pole, 4, 0xca9865);
    fill_circle(&c, (int)cartx, (int)(carty + axleoffset), (int)(polewidth / 2), 0x8184cb);
    thick_line(&c, 0, carty, W0, carty, 1.0, 0x000000);
    return 0;
}

// ---------------------------------------------------------------- Pendulum-v1

int lc_pendulum_render(void *data, int i, uint8_t *rgb, int w, int h) {
    if (w <= 0 || h <= 0) return -1;
    double s[LC_CLASSIC_MAX_STATE];
    lc_classic_get_state(data, i, s);
    const double dim = 500, bound = 2.2, scale = dim / (bound * 2), offset = (int)dim / 2;
    canvas c;
    canvas_init(&c, rgb, w, h, dim, dim);
    double rod_length = 1 * scale, rod_width = 0.2 * scale, angle = s[0] + M_PI / 2;
    double rod[8];
    rect_rotated(rod, 0, rod_length, rod_width / 2, -rod_width / 2, angle, offset, offset);
    fill_poly(&c, rod, 4, 0xcc4d4d);
    fill_circle(&c, offset, offset, (int)(rod_width / 2), 0xcc4d4d);
    double ex = (int)(rod_length * cos(angle) + offset), ey = (int)(rod_length * sin(angle) + offset);
    fill_circle(&c, ex, ey, (int)(rod_width / 2), 0xcc4d4d);
    double u = s[2];
    if (u == u && u != 0.0) { // the last torque: an arc around the axle, its arrowhead showing the sign
        double rad = scale * fabs(u) / 4, a0 = M_PI / 4, a1 = 7 * M_PI / 4, width = 0.03 * scale * c.sx;
        int n = 24;
        double px = 0, py = 0;
        for (int k = 0; k <= n; k++) {
            double a = a0 + (a1 - a0) * k / n, x = offset + rad * cos(a), y = offset + rad * sin(a);
            if (k) thick_line(&c, px, py, x, y, width, 0x303030);
            px = x;
            py = y;
        }
        // positive torque turns counter-clockwise: the head at the arc's end; negative at its start
        double a = u > 0 ? a1 : a0, dir = u > 0 ? 1 : -1, hx = offset + rad * cos(a), hy = offset + rad * sin(a);
        double tx = -sin(a) * dir, ty = cos(a) * dir, head = 0.08 * scale;
        double tri[6] = {hx + tx * head, hy + ty * head, hx - ty * head * 0.6, hy + tx * head * 0.6,
                         hx + ty * head * 0.6, hy - tx * head * 0.6};
        fill_poly(&c, tri, 3, 0x303030);
    }
    fill_circle(&c, offset, offset, (int)(0.05 * scale), 0x000000);
    return 0;
}

// ---------------------------------------------------------------- MountainCar-v0

static double mc_height(double x) { return sin(3 * x) * 0.45 + 0.55; }

int lc_mountaincar_render(void *data, int i, uint8_t *rgb, int w, int h) {
    if (w <= 0 || h <= 0) return -1;
    double s[LC_CLASSIC_MAX_STATE];
    lc_classic_get_state(data, i, s);
    int continuous = ((const lc_classic_head *)data)->kind == LC_CLASSIC_MOUNTAINCAR_CONTINUOUS;
    const double W0 = 600, H0 = 400, min_position = -1.2, max_position = 0.6;
    double goal_position = continuous ? 0.45 : 0.5;
    canvas c;
    canvas_init(&c, rgb, w, h, W0, H0);
    double scale = W0 / (max_position - min_position), carwidth = 40, carheight = 20, clearance = 10;
    double pos = s[0];
    double prevx = 0, prevy = 0;
    for (int k = 0; k < 100; k++) { // the track: 100 points, as np.linspace(min, max, 100)
        double xs = min_position + (max_position - min_position) * k / 99.0;
        double x = (xs - min_position) * scale, y = mc_height(xs) * scale;
        if (k) thick_line(&c, prevx, prevy, x, y, 1.0, 0x000000);
        prevx = x;
        prevy = y;
    }
    double angle = cos(3 * pos), ox = (pos - min_position) * scale, oy = clearance + mc_height(pos) * scale;
    double car[8];
    rect_rotated(car, -carwidth / 2, carwidth / 2, carheight, 0, angle, ox, oy);
    fill_poly(&c, car, 4, 0x000000);
    for (int k = 0; k < 2; k++) {
        double wx = k ? -carwidth / 4 : carwidth / 4;
        double cx = wx * cos(angle) + ox, cy = wx * sin(angle) + oy;
        fill_circle(&c, (int)cx, (int)cy, (int)(carheight / 2.5), 0x808080);
    }
    int flagx = (int)((goal_position - min_position) * scale), flagy1 = (int)(mc_height(goal_position) * scale);
    int flagy2 = flagy1 + 50;
    thick_line(&c, flagx, flagy1, flagx, flagy2, 1.0, 0x000000);
    double flag[6] = {flagx, flagy2, flagx, flagy2 - 10, flagx + 25, flagy2 - 5};
    fill_poly(&c, flag, 3, 0xcccc00);
    return 0;
}

// ---------------------------------------------------------------- Acrobot-v1

int lc_acrobot_render(void *data, int i, uint8_t *rgb, int w, int h) {
    if (w <= 0 || h <= 0) return -1;
    double s[LC_CLASSIC_MAX_STATE];
    lc_classic_get_state(data, i, s);
    const double dim = 500, l1 = 1.0, l2 = 1.0, bound = l1 + l2 + 0.2, scale = dim / (bound * 2),
                 offset = dim / 2;
    canvas c;
    canvas_init(&c, rgb, w, h, dim, dim);
    double p1[2] = {-l1 * cos(s[0]) * scale, l1 * sin(s[0]) * scale};
    // xys = [[0, 0], p1, p2][:, ::-1]: each point as (its second, its first) coordinate
    double xys[2][2] = {{0, 0}, {p1[1], p1[0]}};
    double thetas[2] = {s[0] - M_PI / 2, s[0] + s[1] - M_PI / 2};
    double link_lengths[2] = {l1 * scale, l2 * scale};
    thick_line(&c, -2.2 * scale + offset, 1 * scale + offset, 2.2 * scale + offset, 1 * scale + offset, 1.0,
               0x000000);
    for (int k = 0; k < 2; k++) {
        double x = xys[k][0] + offset, y = xys[k][1] + offset;
        double link[8];
        rect_rotated(link, 0, link_lengths[k], 0.1 * scale, -0.1 * scale, thetas[k], x, y);
        fill_poly(&c, link, 4, 0x00cccc);
        fill_circle(&c, (int)x, (int)y, (int)(0.1 * scale), 0xcccc00);
    }
    return 0;
}

// nn/mlp.c: a multi-layer perceptron over a parameter arena: linear layers with
// optional layer norm and an activation between them; forward allocates nothing.
// Leaves out: dropout, residual connections, per-layer activations.
//
// B = batch, L = layers, n = width of a layer's output (sizes[i + 1]).
// Activation buffer, per layer i, for a batch of B:
//   z_i (B, n)                          linear output (the MLP's output for i = L - 1)
//   y_i (B, n), mean_i (B), rstd_i (B)  layer norm, hidden layers when enabled
//   a_i (B, n)                          activation output, only for silu and gelu:
//                                       relu, tanh and none work in place (their
//                                       backward needs only the output).
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "nn/nn.h"

typedef struct mlp_layout {
    size_t z[LC_MLP_MAX_LAYERS], y[LC_MLP_MAX_LAYERS], mean[LC_MLP_MAX_LAYERS],
        rstd[LC_MLP_MAX_LAYERS], a[LC_MLP_MAX_LAYERS]; // offsets into acts
    size_t total;
} mlp_layout;

static int act_in_place(lc_act a) {
    return a == LC_ACT_NONE || a == LC_ACT_RELU || a == LC_ACT_TANH;
}

static void layout(const lc_mlp *m, int B, mlp_layout *l) {
    size_t off = 0;
    for (int i = 0; i < m->nlayers; i++) {
        size_t bn = (size_t)B * m->sizes[i + 1];
        int hidden = i < m->nlayers - 1;
        l->z[i] = off;
        off += bn;
        size_t pre = l->z[i];
        if (hidden && m->layernorm) {
            l->y[i] = off;
            l->mean[i] = off + bn;
            l->rstd[i] = off + bn + (size_t)B;
            pre = l->y[i];
            off += bn + 2 * (size_t)B;
        }
        if (hidden && !act_in_place(m->act)) {
            l->a[i] = off;
            off += bn;
        } else {
            l->a[i] = pre;
        }
    }
    l->total = off;
}

static int max_hidden(const lc_mlp *m) {
    int w = 0;
    for (int i = 1; i < m->nlayers; i++) w = m->sizes[i] > w ? m->sizes[i] : w;
    return w;
}

static int add_named(lc_params *p, const char *prefix, const char *what, int i, int ndim,
                     const int *shape) {
    char name[LC_NAME_MAX];
    int k = prefix && *prefix ? snprintf(name, sizeof name, "%s.%s%d", prefix, what, i)
                              : snprintf(name, sizeof name, "%s%d", what, i);
    assert(k > 0 && k < (int)sizeof name && "MLP tensor name too long");
    (void)k;
    return lc_params_add(p, name, ndim, shape);
}

void lc_mlp_define(lc_mlp *m, lc_params *p, const char *prefix, int nlayers, const int *sizes,
                   lc_act act, int layernorm) {
    assert(nlayers >= 1 && nlayers <= LC_MLP_MAX_LAYERS);
    memset(m, 0, sizeof *m);
    m->nlayers = nlayers;
    m->act = act;
    m->layernorm = layernorm != 0;
    for (int i = 0; i <= nlayers; i++) {
        assert(sizes[i] >= 1);
        m->sizes[i] = sizes[i];
    }
    for (int i = 0; i < nlayers; i++) {
        int ws[2] = {sizes[i + 1], sizes[i]}, bs[1] = {sizes[i + 1]};
        m->w[i] = add_named(p, prefix, "w", i, 2, ws);
        m->b[i] = add_named(p, prefix, "b", i, 1, bs);
        m->lnw[i] = m->lnb[i] = -1;
        if (m->layernorm && i < nlayers - 1) {
            m->lnw[i] = add_named(p, prefix, "lnw", i, 1, bs);
            m->lnb[i] = add_named(p, prefix, "lnb", i, 1, bs);
        }
    }
}

void lc_mlp_init(const lc_mlp *m, lc_params *p, float hidden_gain, float out_gain, lc_rng *rng) {
    for (int i = 0; i < m->nlayers; i++) {
        int out = m->sizes[i + 1], in = m->sizes[i];
        float gain = i < m->nlayers - 1 ? hidden_gain : out_gain;
        lc_init_orthogonal(lc_param(p, m->w[i]), out, in, gain, rng);
        memset(lc_param(p, m->b[i]), 0, (size_t)out * sizeof(float));
        if (m->lnw[i] >= 0) {
            float *w = lc_param(p, m->lnw[i]);
            for (int j = 0; j < out; j++) w[j] = 1.0f;
            memset(lc_param(p, m->lnb[i]), 0, (size_t)out * sizeof(float));
        }
    }
}

size_t lc_mlp_act_size(const lc_mlp *m, int B) {
    mlp_layout l;
    layout(m, B, &l);
    size_t work = 2 * (size_t)B * max_hidden(m); // what backward needs as scratch
    return l.total > work ? l.total : work;
}

float *lc_mlp_forward(const lc_mlp *m, const lc_params *p, float *acts, const float *in, int B) {
    mlp_layout l;
    layout(m, B, &l);
    const float *x = in;
    for (int i = 0; i < m->nlayers; i++) {
        int n = m->sizes[i + 1];
        size_t bn = (size_t)B * n;
        float *z = acts + l.z[i];
        lc_linear_forward(z, x, lc_param(p, m->w[i]), lc_param(p, m->b[i]), B, m->sizes[i], n);
        if (i == m->nlayers - 1) return z;
        float *pre = z;
        if (m->layernorm) {
            pre = acts + l.y[i];
            lc_layernorm_forward(pre, acts + l.mean[i], acts + l.rstd[i], z,
                                 lc_param(p, m->lnw[i]), lc_param(p, m->lnb[i]), B, n);
        }
        float *a = acts + l.a[i];
        lc_act_forward(m->act, a, pre, bn);
        x = a;
    }
    assert(0 && "unreachable");
    return NULL;
}

void lc_mlp_backward(const lc_mlp *m, lc_params *p, float *work, const float *acts,
                     const float *in, const float *dout, float *din, int B) {
    mlp_layout l;
    layout(m, B, &l);
    size_t half = (size_t)B * max_hidden(m);
    float *buf[2] = {work, work + half};
    const float *dz = dout; // gradient of the current layer's linear output
    for (int i = m->nlayers - 1; i >= 0; i--) {
        int C = m->sizes[i], n = m->sizes[i + 1];
        float *dw = lc_grad(p, m->w[i]), *db = lc_grad(p, m->b[i]);
        const float *w = lc_param(p, m->w[i]);
        if (i == 0) {
            lc_linear_backward(din, dw, db, dz, in, w, B, C, n);
            break;
        }
        // Layer i's input is hidden layer i - 1's activation output.
        int h = i - 1;
        size_t bc = (size_t)B * C;
        const float *x = acts + l.a[h];
        float *da = dz == buf[0] ? buf[1] : buf[0];
        float *other = da == buf[0] ? buf[1] : buf[0];
        memset(da, 0, bc * sizeof(float));
        lc_linear_backward(da, dw, db, dz, x, w, B, C, n);
        const float *pre = acts + (m->layernorm ? l.y[h] : l.z[h]);
        float *dpre = da;
        if (m->act != LC_ACT_NONE) {
            dpre = other;
            memset(dpre, 0, bc * sizeof(float));
            lc_act_backward(m->act, dpre, da, pre, x, bc);
        }
        if (m->layernorm) {
            float *dzz = dpre == buf[0] ? buf[1] : buf[0];
            memset(dzz, 0, bc * sizeof(float));
            lc_layernorm_backward(dzz, lc_grad(p, m->lnw[h]), lc_grad(p, m->lnb[h]), dpre,
                                  acts + l.z[h], lc_param(p, m->lnw[h]), acts + l.mean[h],
                                  acts + l.rstd[h], B, C);
            dz = dzz;
        } else {
            dz = dpre;
        }
    }
}

// policy/arch.c: the table of policy architectures (trunks) looked up by name.
// Built-ins are listed here, one line each; programs may register more at startup.
// Leaves out: unregistering, versioned names.
#include <pthread.h>
#include <string.h>

#include "policy/policy.h"

extern const lc_policy_arch lc_arch_mlp, lc_arch_mlp_ln, lc_arch_gru, lc_arch_cnn;
extern const lc_policy_arch lc_arch_attn; // policy/arch_attn.c

// To add an architecture: write policy/arch_NAME.c and add one line here.
static const lc_policy_arch *const builtin[] = {
    &lc_arch_mlp,
    &lc_arch_mlp_ln,
    &lc_arch_gru,
    &lc_arch_cnn,
    &lc_arch_attn,
};
#define NBUILTIN ((int)(sizeof builtin / sizeof builtin[0]))

#define ARCH_MAX 32
static const lc_policy_arch *extra[ARCH_MAX];
static int nextra;
static pthread_mutex_t arch_mu = PTHREAD_MUTEX_INITIALIZER;

int lc_policy_arch_register(const lc_policy_arch *a) {
    if (!a || !a->name || !a->define || !a->forward || !a->backward || !a->acts_size)
        return LC_ERR_ARG;
    pthread_mutex_lock(&arch_mu);
    int slot = -1;
    for (int i = 0; i < nextra; i++)
        if (strcmp(extra[i]->name, a->name) == 0) slot = i;
    if (slot < 0) {
        if (nextra == ARCH_MAX) {
            pthread_mutex_unlock(&arch_mu);
            return LC_ERR_SIZE;
        }
        slot = nextra++;
    }
    extra[slot] = a;
    pthread_mutex_unlock(&arch_mu);
    return LC_OK;
}

int lc_policy_arch_count(void) {
    pthread_mutex_lock(&arch_mu);
    int n = NBUILTIN + nextra;
    pthread_mutex_unlock(&arch_mu);
    return n;
}

const lc_policy_arch *lc_policy_arch_at(int i) {
    if (i < 0) return NULL;
    if (i < NBUILTIN) return builtin[i];
    pthread_mutex_lock(&arch_mu);
    const lc_policy_arch *a = i - NBUILTIN < nextra ? extra[i - NBUILTIN] : NULL;
    pthread_mutex_unlock(&arch_mu);
    return a;
}

// Registered ones first, so a registration replaces a built-in of the same name.
const lc_policy_arch *lc_policy_arch_find(const char *name) {
    if (!name) return NULL;
    const lc_policy_arch *found = NULL;
    pthread_mutex_lock(&arch_mu);
    for (int i = 0; i < nextra && !found; i++)
        if (strcmp(extra[i]->name, name) == 0) found = extra[i];
    pthread_mutex_unlock(&arch_mu);
    for (int i = 0; i < NBUILTIN && !found; i++)
        if (strcmp(builtin[i]->name, name) == 0) found = builtin[i];
    return found;
}

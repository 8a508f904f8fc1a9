// env/registry.c: the process-wide table of env names (and "prefix:" families)
// mapped to constructors, filled with the built-in envs on first use.
// Leaves out: unregistering, aliases, version resolution ("CartPole" -> "-v1").
#include "env/builtin.h"
#include "env/env.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define REG_MAX 64
#define REG_NAME 64
#define REG_SUMMARY 200

typedef struct reg_entry {
    char name[REG_NAME];
    char summary[REG_SUMMARY];
    lc_env_ctor ctor;
} reg_entry;

static reg_entry reg[REG_MAX];
static int reg_count;
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;
static _Thread_local int in_builtin; // set while the built-ins register themselves

static void register_builtin_once(void) {
    in_builtin = 1;
    lc_classic_register();
    lc_pixel_register();
    lc_pomdp_register();
    lc_minatar_register();
    in_builtin = 0;
}

void lc_env_register_builtin(void) {
    if (in_builtin) return;
    pthread_once(&builtin_once, register_builtin_once);
}

int lc_env_register(const char *name, lc_env_ctor ctor, const char *summary) {
    if (!name || !ctor || !name[0] || strlen(name) >= REG_NAME) return LC_ERR_ARG;
    // Built-ins first, so a caller's registration of the same name replaces them.
    lc_env_register_builtin();
    pthread_mutex_lock(&reg_mu);
    int slot = -1;
    for (int i = 0; i < reg_count; i++)
        if (strcmp(reg[i].name, name) == 0) slot = i;
    if (slot < 0) {
        if (reg_count == REG_MAX) {
            pthread_mutex_unlock(&reg_mu);
            return LC_ERR_SIZE;
        }
        slot = reg_count++;
        snprintf(reg[slot].name, REG_NAME, "%s", name);
    }
    reg[slot].ctor = ctor;
    snprintf(reg[slot].summary, REG_SUMMARY, "%s", summary ? summary : "");
    pthread_mutex_unlock(&reg_mu);
    return LC_OK;
}

int lc_env_registry_count(void) {
    lc_env_register_builtin();
    pthread_mutex_lock(&reg_mu);
    int n = reg_count;
    pthread_mutex_unlock(&reg_mu);
    return n;
}

const char *lc_env_registry_name(int i) {
    lc_env_register_builtin();
    pthread_mutex_lock(&reg_mu);
    const char *s = i >= 0 && i < reg_count ? reg[i].name : NULL;
    pthread_mutex_unlock(&reg_mu);
    return s;
}

const char *lc_env_registry_summary(int i) {
    lc_env_register_builtin();
    pthread_mutex_lock(&reg_mu);
    const char *s = i >= 0 && i < reg_count ? reg[i].summary : NULL;
    pthread_mutex_unlock(&reg_mu);
    return s;
}

static int is_prefix_entry(const reg_entry *r) {
    size_t n = strlen(r->name);
    return n > 0 && r->name[n - 1] == ':';
}

int lc_env_lookup(const char *name, lc_env_ctor *ctor, lc_error *err) {
    lc_env_register_builtin();
    if (!name || !name[0]) return lc_fail(err, LC_ERR_ARG, "no env name given");
    pthread_mutex_lock(&reg_mu);
    int found = -1;
    size_t best = 0;
    for (int i = 0; i < reg_count && found < 0; i++)
        if (!is_prefix_entry(&reg[i]) && strcmp(reg[i].name, name) == 0) found = i;
    if (found < 0) // the longest "family:" prefix that starts the name
        for (int i = 0; i < reg_count; i++) {
            size_t n = strlen(reg[i].name);
            if (is_prefix_entry(&reg[i]) && n > best && strncmp(reg[i].name, name, n) == 0) {
                found = i;
                best = n;
            }
        }
    if (found >= 0) {
        *ctor = reg[found].ctor;
        pthread_mutex_unlock(&reg_mu);
        return LC_OK;
    }
    char list[400];
    size_t len = 0;
    list[0] = '\0';
    for (int i = 0; i < reg_count && len < sizeof list; i++) {
        int k = snprintf(list + len, sizeof list - len, "%s%s%s", i ? ", " : "", reg[i].name,
                         is_prefix_entry(&reg[i]) ? "FILE" : "");
        if (k < 0) break;
        len += (size_t)k;
    }
    if (len >= sizeof list) memcpy(list + sizeof list - 4, "...", 4);
    int n = reg_count;
    pthread_mutex_unlock(&reg_mu);
    return lc_fail(err, LC_ERR_NOTFOUND, "unknown env '%.60s' (registered: %s)", name, n ? list : "none");
}

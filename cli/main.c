// cli/main.c: `lucid VERB [options]`: dispatches to one file per verb.
// A verb whose file is not part of this build is reported, not crashed on.
// Leaves out: shell completion.
#include <stdio.h>
#include <string.h>

#include "agents/remote.h"
#include "env/env.h"
#include "loops/init.h"
#include "policy/ppo.h"
#include "worldmodel/worldmodel.h"

#define VERBS(X) \
    X(envs, "list registered environments with their spaces") \
    X(play, "play an env (or a dream) in the terminal") \
    X(rollout, "run an episode and write a GIF") \
    X(train, "train a policy with PPO (real or dream: env)") \
    X(eval, "evaluate a policy") \
    X(plot, "draw learning curves from metrics files") \
    X(collect, "record trajectories or frames to a dataset") \
    X(import_video, "decode a video (any FFmpeg format) into a frames dataset") \
    X(train_wm, "train a world model (ensemble) from a dataset") \
    X(dyna, "model-based loop: collect, fit, train in the dream") \
    X(demo, "the model-based flow end to end on CartPole-v1") \
    X(train_genie, "train a latent action model and frame dynamics") \
    X(eval_genie, "measure a Genie-style world model") \
    X(train_bc, "clone a policy from videos of play (latent actions)") \
    X(frame_effects, "which actions had the same effect at each step of a frames file") \
    X(frames_cat, "concatenate frames datasets (with their actions and effects)") \
    X(serve, "serve envs over ZeroMQ") \
    X(learner, "run a distributed PPO learner") \
    X(worker, "run a rollout worker") \
    X(keygen, "make a CURVE key pair") \
    X(bench_arch, "benchmark controller architectures") \
    X(info, "describe a lucid file")

#define DECL(name, help) int cmd_##name(int argc, char **argv) __attribute__((weak));
VERBS(DECL)

typedef struct verb {
    const char *name, *help;
    int (*fn)(int, char **);
} verb;

#define ENTRY(name, help) {#name, help, NULL},
static verb verbs[] = {VERBS(ENTRY)};
#define NVERBS ((int)(sizeof verbs / sizeof verbs[0]))

static void bind_verbs(void) {
    int i = 0;
#define BIND(name, help) verbs[i++].fn = cmd_##name;
    VERBS(BIND)
#undef BIND
}

// Verb names use '-' on the command line ("train-wm") and '_' in C.
static int same_name(const char *arg, const char *name) {
    for (; *arg && *name; arg++, name++)
        if (!(*arg == *name || (*arg == '-' && *name == '_'))) return 0;
    return *arg == *name;
}

static void usage(FILE *out) {
    fprintf(out, "usage: lucid VERB [options]   (lucid VERB --help for details)\n\nverbs:\n");
    for (int i = 0; i < NVERBS; i++) {
        if (!verbs[i].fn) continue;
        char name[32];
        snprintf(name, sizeof name, "%s", verbs[i].name);
        for (char *c = name; *c; c++)
            if (*c == '_') *c = '-';
        fprintf(out, "  %-12s %s\n", name, verbs[i].help);
    }
}

int main(int argc, char **argv) {
    bind_verbs();
    lc_init();
    lc_remote_register(); // remote:ENDPOINT (agents/, above lc_init's loops/)
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (int i = 0; i < NVERBS; i++) {
        if (!same_name(argv[1], verbs[i].name)) continue;
        if (!verbs[i].fn) {
            fprintf(stderr, "lucid: '%s' is not part of this build\n", argv[1]);
            return 2;
        }
        return verbs[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "lucid: unknown verb '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}

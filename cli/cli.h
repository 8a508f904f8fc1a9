// cli/cli.h: what the verb files of the `lucid` command share: option parsing.
// Each verb is one file defining `int cmd_VERB(int argc, char **argv)`, returning
// the process exit status. Leaves out: option abbreviations, config files.
#ifndef LC_CLI_CLI_H
#define LC_CLI_CLI_H

#include <stdatomic.h>
#include <stdint.h>

struct lc_env;      // env/env.h
struct lc_env_opts; // env/env.h

#include "core/settings.h"

typedef enum cli_type { CLI_INT, CLI_I64, CLI_FLOAT, CLI_STR, CLI_FLAG, CLI_SETTING } cli_type;

typedef struct cli_opt {
    const char *name;  // long name: "steps" for --steps ('_' and '-' are the same)
    cli_type type;
    void *ptr;         // int*, int64_t*, float*, const char**, int* (flag set to 1);
                       // CLI_SETTING: a cli_table naming the settings struct
    const char *help;  // one line, shown by --help with the default
} cli_opt;

// A settings struct whose table's rows are options (CLI_SETTING).
typedef struct cli_table {
    const lc_settings *table;
    void *obj;
} cli_table;

// Appends one CLI_SETTING option per row of t's table except the rows named in skip
// (NULL-terminated, may be NULL). Returns the new count (at most max).
int cli_settings_opts(cli_opt *opts, int n, int max, const cli_table *t,
                      const char *const *skip);

// Parses --name value / --name=value / --flag into the opts; other words go to
// positional (at most max_pos, count in *npos). Returns 0 to go on, 1 if --help
// was printed (exit 0), 2 after printing an error to stderr (exit 2).
int cli_parse(int argc, char **argv, const cli_opt *opts, int nopts, const char *usage,
              const char **positional, int max_pos, int *npos);

// The value of --NAME in argv (NULL when absent), before full parsing: for options
// whose value decides the defaults of others (--env).
const char *cli_peek(int argc, char **argv, const char *name);

#define CLI_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

// What several verbs do alike beyond options (cli/verbs.c). Each prints its own
// errors as "lucid VERB: why" (verb is the name after "lucid ", e.g. "serve").

// From now on SIGINT and SIGTERM set *stop (one flag per process: the last call wins).
void cli_stop_on_signals(atomic_int *stop);

// A log callback for lc_server_cfg / lc_learner_cfg: prints "PREFIX: line" to
// stderr, PREFIX being the string given as log_ctx ("lucid serve").
void cli_log_line(void *ctx, const char *line);

// For a verb that binds a CURVE server (serve, learner): when secret_file is set,
// reads the secret key from it into secret, then (unless quiet) warns that without
// allow any PEER that knows the SELF's public key gets in. Returns 0, or 1 (the
// exit status) after printing why the key could not be read.
int cli_curve_server_key(const char *verb, const char *secret_file, const char *allow, int quiet,
                         const char *peer, const char *self, char *secret); // secret: LC_CURVE_KEY_LEN + 1

// Makes env `name` with num_envs copies and otherwise default options into *env.
// Returns 0, or 1 (the exit status) after printing why it could not be made.
int cli_make_env(struct lc_env **env, const char *verb, const char *name, int num_envs);

// The same with the options in *o (num_envs, resize, ...): errors as above.
int cli_make_env_opts(struct lc_env **env, const char *verb, const char *name,
                      const struct lc_env_opts *o);

// --resize HxW, the one flag by which a verb that makes a real env asks for its frames at
// another size (the env option resize_h/resize_w: core/resize.h's exact area average).
// A verb lists CLI_RESIZE_OPT(&spec) among its options, then hands spec to cli_env_resize.
#define CLI_RESIZE_OPT(spec_ptr)                                                              \
    {"resize", CLI_STR, (spec_ptr),                                                          \
     "uint8 frames: resize to HxW by the exact area average, e.g. 64x64 (default: as the env gives)"}

// Sets o->resize_h/resize_w from spec ("HxW", or "none"/"0"; NULL leaves *o as it is).
// Returns 0, or 2 (the exit status) after printing "lucid VERB: --resize ..." to stderr.
int cli_env_resize(struct lc_env_opts *o, const char *verb, const char *spec);

// FRAMES.lucid -> FRAMES.actions.lucid (FRAMES.actions without a .lucid suffix): where
// `lucid collect --frames-only` puts the true actions (cli/collect_frames.c).
void cli_frames_actions_path(char *dst, size_t n, const char *frames_path);
// The same for any KIND of side file (actions, effects): FRAMES.KIND.lucid.
void cli_frames_side_path(char *dst, size_t n, const char *frames_path, const char *kind);

#endif

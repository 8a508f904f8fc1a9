// cli/cli.h: what the verb files of the `lucid` command share: option parsing.
// Each verb is one file defining `int cmd_VERB(int argc, char **argv)`, returning
// the process exit status. Leaves out: option abbreviations, config files.
#ifndef LC_CLI_CLI_H
#define LC_CLI_CLI_H

#include <stdint.h>

typedef enum cli_type { CLI_INT, CLI_I64, CLI_FLOAT, CLI_STR, CLI_FLAG } cli_type;

typedef struct cli_opt {
    const char *name;  // long name without dashes: "steps" for --steps
    cli_type type;
    void *ptr;         // int*, int64_t*, float*, const char**, int* (flag set to 1)
    const char *help;  // one line, shown by --help with the default
} cli_opt;

// Parses --name value / --name=value / --flag into the opts; other words go to
// positional (at most max_pos, count in *npos). Returns 0 to go on, 1 if --help
// was printed (exit 0), 2 after printing an error to stderr (exit 2).
int cli_parse(int argc, char **argv, const cli_opt *opts, int nopts, const char *usage,
              const char **positional, int max_pos, int *npos);

#define CLI_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

#endif

// cli/keygen.c: `lucid keygen --out NAME`: a CURVE key pair for the learner, workers
// and the env server: NAME.key (secret, mode 0600) and NAME.pub (public), z85.
// Leaves out: key rotation, certificates with metadata (zcert).
#include <stdio.h>

#include "agents/net.h"
#include "cli/cli.h"

int cmd_keygen(int argc, char **argv) {
    const char *out = NULL;
    int force = 0;
    cli_opt opts[] = {
        {"out", CLI_STR, &out, "base name: writes NAME.key and NAME.pub"},
        {"force", CLI_FLAG, &force, "replace existing key files"},
    };
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts), "usage: lucid keygen --out NAME [--force]",
                       NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    if (!out || !*out) {
        fprintf(stderr, "lucid keygen: --out NAME is required\n");
        return 2;
    }
    lc_error err = {0};
    char pub[LC_CURVE_KEY_LEN + 1];
    if (lc_curve_write_keypair(out, force, pub, &err)) {
        fprintf(stderr, "lucid keygen: %s\n", err.msg);
        return 1;
    }
    printf("wrote %s.key (secret: keep it private) and %s.pub\npublic key: %s\n", out, out, pub);
    return 0;
}

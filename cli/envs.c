// cli/envs.c: `lucid envs`: every registered env with its spaces and time limit;
// families such as dream: are listed by prefix with their summary.
// Leaves out: envs registered by programs other than this one.
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "loops/init.h"
#include "env/env.h"
#include "worldmodel/worldmodel.h"

int cmd_envs(int argc, char **argv) {
    int names = 0;
    cli_opt opts[] = {
        {"names", CLI_FLAG, &names, "print only the names, one a line"},
    };
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts), "usage: lucid envs [--names]", NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    lc_init();
    int n = lc_env_registry_count(), failed = 0;
    for (int i = 0; i < n; i++) {
        const char *name = lc_env_registry_name(i), *summary = lc_env_registry_summary(i);
        size_t len = strlen(name);
        int family = len > 0 && name[len - 1] == ':';
        if (names) {
            printf("%s%s\n", name, family ? "FILE" : "");
            continue;
        }
        if (family) {
            printf("%sFILE\n    %s\n\n", name, summary);
            continue;
        }
        lc_env *e = NULL;
        lc_error err = {0};
        if (lc_env_make(&e, name, NULL, &err) != LC_OK) {
            printf("%s\n    (cannot make it: %s)\n\n", name, err.msg);
            failed = 1;
            continue;
        }
        const lc_env_spec *sp = lc_env_get_spec(e);
        char obs[512], act[512];
        lc_space_describe(&sp->obs_space, obs, sizeof obs);
        lc_space_describe(&sp->act_space, act, sizeof act);
        printf("%s\n", name);
        if (summary && summary[0]) printf("    %s\n", summary);
        printf("    observations  %s\n", obs);
        printf("    actions       %s\n", act);
        if (sp->max_episode_steps > 0) printf("    time limit    %d steps\n", sp->max_episode_steps);
        else printf("    time limit    none\n");
        if (sp->n_info > 0) {
            printf("    info         ");
            for (int k = 0; k < sp->n_info; k++) printf(" %s", sp->info_names[k]);
            printf("\n");
        }
        printf("    render        %dx%d\n\n", sp->render_w, sp->render_h);
        lc_env_free(e);
    }
    return failed;
}

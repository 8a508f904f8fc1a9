// core/settings.h: one table per settings struct. A row names a field (name, type,
// offset), its default, its range and its help line, and the settings version that
// added it; the table then gives defaults, validation, checkpoint save/load (older
// files get the defaults of rows they predate), "key=value,..." parsing (env params,
// protocol fields) and command-line options. A new setting is one row.
// Leaves out: string and list settings (kept by hand beside the table), nested structs.
#ifndef LC_CORE_SETTINGS_H
#define LC_CORE_SETTINGS_H

#include "core/api.h"

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/file.h"

LC_API_BEGIN

typedef enum lc_set_type {
    LC_SET_INT = 0, // int
    LC_SET_I64,     // int64_t
    LC_SET_U64,     // uint64_t (stored in files as int64; seeds: any value)
    LC_SET_FLOAT,   // float
    LC_SET_DOUBLE,  // double
    LC_SET_BOOL,    // int, 0 or 1
    LC_SET_ENUM     // int, an index into choices ("all|played")
} lc_set_type;

typedef struct lc_setting {
    const char *name;    // "clip_coef": meta key PREFIX.clip_coef, option --clip-coef
    lc_set_type type;
    size_t offset;       // offsetof(struct, field)
    double def, lo, hi;  // default and inclusive range (lo > hi: any value)
    int since;           // the settings version that added the row (1 = the first)
    const char *help;    // one line
    const char *choices; // ENUM: the names of the values, '|'-separated; other rows: named
                         // values outside the range, "off=-1|auto=0" (may be NULL)
} lc_setting;

typedef struct lc_settings {
    const char *prefix;  // "ppo": meta keys "ppo.NAME", errors "ppo: ..."
    const lc_setting *rows;
    int n;
} lc_settings;

// X-macro helpers. A header lists a struct's settings once as
//   #define LC_FOO_SETTINGS(X) X(name, ctype, TYPE, def, lo, hi, since, "help") ...
// then declares the fields with LC_SETTINGS_FIELDS(LC_FOO_SETTINGS) inside the struct,
// and the .c file builds its table rows with LC_SETTINGS_ROWS(LC_FOO_SETTINGS, lc_foo).
#define LC_SETTING_FIELD_(name, ctype, T, def, lo, hi, since, help) ctype name;
#define LC_SETTINGS_FIELDS(LIST) LIST(LC_SETTING_FIELD_)
#define LC_SETTING_ROW_(S, name, ctype, T, def, lo, hi, since, help) \
    {#name, LC_SET_##T, offsetof(S, name), (def), (lo), (hi), (since), (help), NULL},

// The settings version of a table: the largest `since` of its rows.
int lc_settings_version(const lc_settings *s);
const lc_setting *lc_settings_find(const lc_settings *s, const char *name); // '-' == '_'

// Writes every row's default into obj (other fields untouched).
void lc_settings_defaults(const lc_settings *s, void *obj);
// LC_ERR_ARG naming the first value out of its range or not finite.
int lc_settings_check(const lc_settings *s, const void *obj, lc_error *err);

// Sets one value from text (the whole word must parse; range checked): LC_ERR_ARG.
int lc_settings_set(const lc_settings *s, void *obj, const char *name, const char *value,
                    lc_error *err);
// The one "key=value,key=value" parser: every key must be a row (LC_ERR_ARG listing
// the keys otherwise); empty items are skipped; NULL or "" sets nothing.
int lc_settings_parse(const lc_settings *s, void *obj, const char *kv, lc_error *err);
// A value as text ("0.2", "played").
void lc_settings_format(const lc_setting *r, const void *obj, char *buf, size_t n);

// Checkpoints: meta PREFIX.NAME for every row, and PREFIX.settings_version.
int lc_settings_to_file(const lc_settings *s, const void *obj, lc_file *f, lc_error *err);
// Reads every row the file's settings version has (a file without PREFIX.settings_version
// is version 1); rows added later keep the values obj holds (call lc_settings_defaults
// first). A missing, mistyped or out-of-range value is LC_ERR_FORMAT; a file newer than
// this table is LC_ERR_VERSION (a missing value LC_ERR_NOTFOUND).
int lc_settings_from_file(const lc_settings *s, void *obj, const lc_file *f, lc_error *err);

// Range-checked getters for stored values: LC_ERR_NOTFOUND when absent, LC_ERR_FORMAT
// when of the wrong type, out of [lo, hi] or (floats) not finite.
int lc_file_get_int_in(const lc_file *f, const char *key, int64_t lo, int64_t hi, int64_t *v,
                       lc_error *err);
// The same into an int (lo, hi within int's range).
int lc_file_get_i32_in(const lc_file *f, const char *key, int64_t lo, int64_t hi, int *v,
                       lc_error *err);
int lc_file_get_float_in(const lc_file *f, const char *key, double lo, double hi, double *v,
                         lc_error *err);

LC_API_END

#endif

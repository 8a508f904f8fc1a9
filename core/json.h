// core/json.h: the one JSON writer and reader of lucid: a growing string buffer, a
// string escaper, numbers (null for NaN and infinities), arrays of numbers, and a
// reader for the flat objects lucid writes (string, number, null, boolean and
// array-of-number values). Leaves out: nested objects in the reader, \u escapes
// beyond ASCII (read as '?'), pretty-printing.
#ifndef LC_CORE_JSON_H
#define LC_CORE_JSON_H

#include <stddef.h>
#include <stdio.h>

// ---------------------------------------------------------------- writing

// A growing string; zero-initialise it. oom: an allocation failed (later writes are
// dropped; check it once at the end).
typedef struct lc_sbuf {
    char *s; // NUL-terminated once anything was written
    size_t n, cap;
    int oom;
} lc_sbuf;

void lc_sbuf_printf(lc_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lc_sbuf_free(lc_sbuf *b);

// s as a JSON string literal: quoted, '"' and '\\' escaped, control bytes as \u00XX.
void lc_json_str(lc_sbuf *b, const char *s);
// v with %.10g, or null when it is not finite.
void lc_json_num(lc_sbuf *b, double v);
// [v0, v1, ...] with lc_json_num.
void lc_json_nums(lc_sbuf *b, const double *v, size_t n);
// The same three straight to a stream.
void lc_json_fstr(FILE *fp, const char *s);
void lc_json_fnum(FILE *fp, double v);

// ---------------------------------------------------------------- reading

// A cursor over bytes [s, end). Every function skips whitespace before its token and
// returns 0 on success, -1 on malformed input (the cursor is then unspecified).
typedef struct lc_json_reader {
    const char *s, *end;
} lc_json_reader;

// 1 and consumes lit when the next token is lit ("{", "true", ...), else 0.
int lc_json_lit(lc_json_reader *r, const char *lit);
// The next value's first byte ('\0' at the end): '"', '[', '{', 't', 'f', 'n', or
// a number's first character.
char lc_json_peek(lc_json_reader *r);
// A string into out, truncated to cap - 1 bytes.
int lc_json_read_str(lc_json_reader *r, char *out, size_t cap);
// A number, or null as NAN.
int lc_json_read_num(lc_json_reader *r, double *v);
// An array of numbers / nulls into a malloc'd *out (NULL when empty); caller frees.
int lc_json_read_nums(lc_json_reader *r, double **out, size_t *n);
// A flat object: call lc_json_obj_begin once, then lc_json_obj_next with the number
// of keys read so far until it returns 0 (the closing brace was read). It returns 1
// with the key in key (truncated to cap - 1) and the cursor at its value, which the
// caller must read (lc_json_skip for unknown keys); -1 when malformed.
int lc_json_obj_begin(lc_json_reader *r);
int lc_json_obj_next(lc_json_reader *r, int nread, char *key, size_t cap);
// Skips one value: a string, number, null, boolean or array of numbers.
int lc_json_skip(lc_json_reader *r);
// 0 when only whitespace is left.
int lc_json_end(lc_json_reader *r);

#endif

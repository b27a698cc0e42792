/* Number parsing and formatting that must match Redis 7.0 to the last digit.
 *
 * Redis parses doubles with strtod and computes INCRBYFLOAT / HINCRBYFLOAT in the C
 * `long double` type (x87 80-bit on x86-64), then prints with "%.17Lf" and trims zeros.
 * Rust has no 80-bit float, and a 64-bit emulation gives different digits (0.1+0.2), so
 * these few lines are C, compiled by build.rs, and called from src/command/numeric.rs. */

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LONG_DOUBLE_CHARS (5 * 1024)

/* Redis's string2ld: 1 on success. */
static int parse_ld(const char *s, size_t len, long double *out) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    char *end;
    long double v;
    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || (size_t)(end - buf) != len ||
        (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) ||
        isnan(v))
        return 0;
    *out = v;
    return 1;
}

/* Redis's ld2string in human-friendly mode. Returns the length written. */
static int format_ld_human(long double v, char *out, size_t cap) {
    int l;
    if (isinf(v)) {
        l = snprintf(out, cap, v > 0 ? "inf" : "-inf");
        return l;
    }
    l = snprintf(out, cap, "%.17Lf", v);
    if (l < 0 || (size_t)l + 1 > cap) return -1;
    if (strchr(out, '.') != NULL) {
        char *p = out + l - 1;
        while (*p == '0') { p--; l--; }
        if (*p == '.') l--;
    }
    if (l == 2 && out[0] == '-' && out[1] == '0') { out[0] = '0'; l = 1; }
    out[l] = '\0';
    return l;
}

/* value + incr as Redis's INCRBYFLOAT: 0 ok (result in out, length in *out_len),
 * 1 value is not a float, 2 increment is not a float, 3 NaN or infinity. */
int replikv_ld_add(const char *value, size_t value_len, const char *incr, size_t incr_len,
                   char *out, size_t cap, size_t *out_len) {
    long double a, b, r;
    int l;
    if (!parse_ld(value, value_len, &a)) return 1;
    if (!parse_ld(incr, incr_len, &b)) return 2;
    r = a + b;
    if (isnan(r) || isinf(r)) return 3;
    l = format_ld_human(r, out, cap);
    if (l < 0) return 3;
    *out_len = (size_t)l;
    return 0;
}

/* Redis's string2d / getDoubleFromObject: 1 on success. */
int replikv_parse_double(const char *s, size_t len, double *out) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    char *end;
    double v;
    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtod(buf, &end);
    if (isspace((unsigned char)buf[0]) || (size_t)(end - buf) != len ||
        (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO)) ||
        isnan(v))
        return 0;
    *out = v;
    return 1;
}

/* Parses the start of a string as strtod does, for sorted-set range bounds ("(1.5"):
 * returns the number of bytes consumed (0 = none) and the value. */
size_t replikv_strtod_prefix(const char *s, size_t len, double *out) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    char *end;
    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    *out = strtod(buf, &end);
    return (size_t)(end - buf);
}

/* SORT's reading of a weight (Redis's sort.c): strtod over the value as a C string (so it
 * ends at the first NUL byte), refusing trailing characters, ERANGE and NaN. An empty
 * string reads as 0, as in Redis. Returns 1 and the value, or 0. */
int replikv_sort_score(const char *s, size_t len, double *out) {
    char stack[128];
    char *buf = len < sizeof(stack) ? stack : malloc(len + 1);
    char *end;
    double v;
    int ok;
    if (buf == NULL) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtod(buf, &end);
    ok = !(end[0] != '\0' || errno == ERANGE || isnan(v));
    if (buf != stack) free(buf);
    if (ok) *out = v;
    return ok;
}

/* libglint-rt: glibc's ctype tables for the C locale (__ctype_b_loc, __ctype_{to,}lower_loc). */
#include <stdint.h>

/*
 * Code built against glibc's <ctype.h> (Debian's archives) indexes these tables directly:
 * isalpha(c) is (*__ctype_b_loc())[c] & _ISalpha, for c in -128..255 (EOF = -1 included). The
 * tables below are written from the POSIX C locale's classes, in glibc's layout: 384 entries,
 * the returned pointer at entry 128. Bytes 128..255 (and their signed aliases -128..-1) belong
 * to no class, and tolower/toupper keep them: musl's tables differ there, and Lua's
 * string.lower/upper would turn UTF-8 bytes into other bytes with them.
 */

/* glibc's bit values on little-endian machines (<ctype.h> _ISbit). */
#define UP 0x100u  /* _ISupper */
#define LO 0x200u  /* _ISlower */
#define AL 0x400u  /* _ISalpha */
#define DI 0x800u  /* _ISdigit */
#define XD 0x1000u /* _ISxdigit */
#define SP 0x2000u /* _ISspace */
#define PR 0x4000u /* _ISprint */
#define GR 0x8000u /* _ISgraph */
#define BL 0x1u    /* _ISblank */
#define CN 0x2u    /* _IScntrl */
#define PU 0x4u    /* _ISpunct */
#define AN 0x8u    /* _ISalnum */

/* The C locale's classes of byte c (0..255). */
#define IS_UP(c) ((c) >= 'A' && (c) <= 'Z')
#define IS_LO(c) ((c) >= 'a' && (c) <= 'z')
#define IS_DI(c) ((c) >= '0' && (c) <= '9')
#define IS_AN(c) (IS_UP(c) || IS_LO(c) || IS_DI(c))
#define IS_GR(c) ((c) > ' ' && (c) < 0x7f)
#define CLASS(c)                                                                                   \
    (uint16_t)((IS_UP(c) ? UP | AL : 0) | (IS_LO(c) ? LO | AL : 0) | (IS_DI(c) ? DI : 0) |         \
               (IS_DI(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F') ? XD : 0) |   \
               ((c) == ' ' || ((c) >= '\t' && (c) <= '\r') ? SP : 0) |                             \
               ((c) >= ' ' && (c) < 0x7f ? PR : 0) | (IS_GR(c) ? GR : 0) |                         \
               ((c) == ' ' || (c) == '\t' ? BL : 0) | ((c) < ' ' || (c) == 0x7f ? CN : 0) |        \
               (IS_GR(c) && !IS_AN(c) ? PU : 0) | (IS_AN(c) ? AN : 0))
#define LOWER(c) (IS_UP(c) ? (c) + 32 : (c))
#define UPPER(c) (IS_LO(c) ? (c)-32 : (c))

/* Sixteen entries F(b) .. F(b + 15). */
#define R16(F, b)                                                                                  \
    F(b), F(b + 1), F(b + 2), F(b + 3), F(b + 4), F(b + 5), F(b + 6), F(b + 7), F(b + 8),          \
        F(b + 9), F(b + 10), F(b + 11), F(b + 12), F(b + 13), F(b + 14), F(b + 15)
#define R128(F, b)                                                                                 \
    R16(F, b), R16(F, b + 16), R16(F, b + 32), R16(F, b + 48), R16(F, b + 64), R16(F, b + 80),     \
        R16(F, b + 96), R16(F, b + 112)
#define NONE(c)  0
#define SELF(c)  (c)                     /* bytes 128..255 keep their value */
#define ALIAS(c) ((c) == 255 ? -1 : (c)) /* index -1 is EOF, which maps to itself */

/* Entries for -128..-1 (the signed-char aliases of 128..255), 0..127, 128..255. */
static const uint16_t class_table[384] = {R128(NONE, 0), R128(CLASS, 0), R128(NONE, 0)};
static const int32_t lower_table[384] = {R128(ALIAS, 128), R128(LOWER, 0), R128(SELF, 128)};
static const int32_t upper_table[384] = {R128(ALIAS, 128), R128(UPPER, 0), R128(SELF, 128)};

static const uint16_t *class_ptr = class_table + 128;
static const int32_t *lower_ptr = lower_table + 128;
static const int32_t *upper_ptr = upper_table + 128;

const uint16_t **__ctype_b_loc(void);
const int32_t **__ctype_tolower_loc(void);
const int32_t **__ctype_toupper_loc(void);

const uint16_t **__ctype_b_loc(void)
{
    return &class_ptr;
}

const int32_t **__ctype_tolower_loc(void)
{
    return &lower_ptr;
}

const int32_t **__ctype_toupper_loc(void)
{
    return &upper_ptr;
}

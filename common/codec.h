/* Message codec for the shared buffers; freestanding, built into host and guest. */
#ifndef GLINT_CODEC_H
#define GLINT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "glint/abi.h"

/* A value as carried in a message, independent of either side's API type. */
typedef struct glint__cval {
    uint8_t type;    /* enum glint_abi_type, never VOID */
    uint32_t len;    /* string/bytes: payload length (string: without NUL) */
    uint64_t bits;   /* scalars: raw little-endian bits (bool: 0 or 1) */
    const void *ptr; /* string/bytes: payload (strings NUL-terminated) */
} glint__cval;

/* A decoded message; pointers refer into the decoded buffer. */
typedef struct glint__msg {
    uint8_t kind, type;
    uint8_t count;
    int32_t status;
    const char *name; /* HOSTCALL: NUL-terminated; else NULL */
    uint32_t name_len;
    uint32_t size;
    glint__cval vals[GLINT_ABI_MAX_PARAMS];
} glint__msg;

/* Sequential writer of one message into a buffer. */
typedef struct glint__writer {
    uint8_t *buf;
    uint32_t cap, pos;
    uint8_t count;
    int overflow; /* set once anything did not fit; the message is unusable */
} glint__writer;

/* Start a message: header, then (HOSTCALL) name of name_len bytes. */
void glint__msg_begin(glint__writer *w, void *buf, uint32_t cap, uint8_t kind, uint8_t type,
                      int32_t status, const char *name, uint32_t name_len);

/* Append one value. Payloads are moved with memmove, so a payload may lie in
 * the same buffer at or after its final position. Returns 0 or -1 (no room,
 * too many values, or a bad type/length). */
int glint__msg_put(glint__writer *w, const glint__cval *v);

/* Reserve room for a string payload to be written in place (at most `max`
 * bytes plus NUL); returns where to write it, or NULL if nothing fits. Finish
 * with glint__msg_put_reserved(w, len). Room is clamped to what is left. */
char *glint__msg_reserve_string(glint__writer *w, uint32_t *max);
int glint__msg_put_reserved(glint__writer *w, uint32_t len);

/* Finish the header; returns the total size, or -1 if anything overflowed. */
int64_t glint__msg_end(glint__writer *w);

/* Room a value of this payload length takes in a message. */
uint64_t glint__value_wire_size(uint8_t type, uint64_t len);

/* Decode a message from an untrusted buffer of `cap` bytes. Every length,
 * offset and count is checked; strings must be NUL-terminated in the padding,
 * NUL-free and valid UTF-8 (utf8.h); names must be identifiers (ident.h). Returns 0, or -1 with
 * *why set to a static description of the first problem. */
int glint__msg_decode(const void *buf, uint32_t cap, glint__msg *m, const char **why);

/* Payload length a scalar type carries (4, 8 or 1), 0 for string/bytes, -1 if
 * not a value type. */
int glint__scalar_len(uint8_t type);

#endif

/* Message codec for the shared buffers: encode trusted values, decode hostile bytes. */
#include "codec.h"

#include <string.h>

#include "ident.h"
#include "utf8.h"

#define ALIGN8(x) (((x) + 7u) & ~(uint64_t)7u)

int glint__scalar_len(uint8_t type)
{
    switch (type) {
    case GLINT_ABI_I32:
    case GLINT_ABI_U32:
    case GLINT_ABI_F32:
        return 4;
    case GLINT_ABI_I64:
    case GLINT_ABI_U64:
    case GLINT_ABI_F64:
        return 8;
    case GLINT_ABI_BOOL:
        return 1;
    case GLINT_ABI_STRING:
    case GLINT_ABI_BYTES:
        return 0;
    default:
        return -1;
    }
}

uint64_t glint__value_wire_size(uint8_t type, uint64_t len)
{
    /* A string always keeps one NUL in its padding. */
    return sizeof(struct glint_abi_value) + ALIGN8(len + (type == GLINT_ABI_STRING ? 1 : 0));
}

static void put_bytes(glint__writer *w, const void *src, uint64_t n)
{
    if (w->overflow || n > (uint64_t)(w->cap - w->pos)) {
        w->overflow = 1;
        return;
    }
    memmove(w->buf + w->pos, src, (size_t)n);
    w->pos += (uint32_t)n;
}

static void put_zeros_to8(glint__writer *w)
{
    uint64_t end = ALIGN8(w->pos);
    if (w->overflow || end > w->cap) {
        w->overflow = 1;
        return;
    }
    memset(w->buf + w->pos, 0, (size_t)(end - w->pos));
    w->pos = (uint32_t)end;
}

void glint__msg_begin(glint__writer *w, void *buf, uint32_t cap, uint8_t kind, uint8_t type,
                      int32_t status, const char *name, uint32_t name_len)
{
    w->buf = buf;
    w->cap = cap & ~7u;
    w->pos = 0;
    w->count = 0;
    w->overflow = 0;
    struct glint_abi_msg h = {0};
    h.kind = kind;
    h.type = type;
    h.status = status;
    h.name_len = name ? name_len : 0;
    put_bytes(w, &h, sizeof h);
    if (name) {
        put_bytes(w, name, name_len);
        if (!w->overflow && w->pos < w->cap)
            w->buf[w->pos++] = 0;
        else
            w->overflow = 1;
        put_zeros_to8(w);
    }
}

static int put_value_header(glint__writer *w, uint8_t type, uint32_t len)
{
    if (w->count >= GLINT_ABI_MAX_PARAMS)
        w->overflow = 1;
    struct glint_abi_value vh = {0};
    vh.type = type;
    vh.len = len;
    put_bytes(w, &vh, sizeof vh);
    return w->overflow ? -1 : 0;
}

/* A scalar of slen payload bytes: header, then the low bytes of its bits
 * (bool normalised to 0 or 1). Returns 0 or -1 with w->overflow set. */
static int put_scalar(glint__writer *w, const glint__cval *v, int slen)
{
    uint64_t bits = v->bits;
    if (v->type == GLINT_ABI_BOOL)
        bits = bits ? 1 : 0;
    if (put_value_header(w, v->type, (uint32_t)slen) < 0)
        return -1;
    /* Little-endian host and guest (x86-64): the low bytes come first. */
    put_bytes(w, &bits, (uint64_t)slen);
    return 0;
}

/* A string or bytes value: room for all of it is checked first, because the
 * payload may sit just past the value header and is moved before the header is
 * written; a string gets its NUL. Returns 0 or -1 with w->overflow set. */
static int put_payload(glint__writer *w, const glint__cval *v)
{
    uint64_t need = glint__value_wire_size(v->type, v->len);
    if (w->overflow || need > (uint64_t)(w->cap - w->pos) || w->count >= GLINT_ABI_MAX_PARAMS) {
        w->overflow = 1;
        return -1;
    }
    uint8_t *dst = w->buf + w->pos + sizeof(struct glint_abi_value);
    if (v->len)
        memmove(dst, v->ptr, v->len);
    (void)put_value_header(w, v->type, v->len);
    w->pos += v->len;
    if (v->type == GLINT_ABI_STRING)
        w->buf[w->pos++] = 0;
    return 0;
}

int glint__msg_put(glint__writer *w, const glint__cval *v)
{
    int slen = glint__scalar_len(v->type);
    if (slen < 0) {
        w->overflow = 1;
        return -1;
    }
    if ((slen > 0 ? put_scalar(w, v, slen) : put_payload(w, v)) < 0)
        return -1;
    put_zeros_to8(w);
    if (w->overflow)
        return -1;
    w->count++;
    return 0;
}

char *glint__msg_reserve_string(glint__writer *w, uint32_t *max)
{
    uint64_t room = w->cap - w->pos;
    if (w->overflow || w->count >= GLINT_ABI_MAX_PARAMS ||
        room < sizeof(struct glint_abi_value) + 8)
        return NULL;
    /* Payload + NUL, rounded to 8, must fit after the value header. */
    uint64_t avail = (room - sizeof(struct glint_abi_value)) - 1;
    if (avail > *max)
        avail = *max;
    *max = (uint32_t)avail;
    return (char *)w->buf + w->pos + sizeof(struct glint_abi_value);
}

int glint__msg_put_reserved(glint__writer *w, uint32_t len)
{
    glint__cval v = {.type = GLINT_ABI_STRING, .len = len};
    v.ptr = w->buf + w->pos + sizeof(struct glint_abi_value);
    return glint__msg_put(w, &v);
}

int64_t glint__msg_end(glint__writer *w)
{
    if (w->overflow || w->pos < sizeof(struct glint_abi_msg))
        return -1;
    struct glint_abi_msg *h = (struct glint_abi_msg *)(void *)w->buf;
    h->size = w->pos;
    h->count = w->count;
    return w->pos;
}

static int fail(const char **why, const char *what)
{
    *why = what;
    return -1;
}

/* 1 if b[from, to) are all zero. */
static int zeros(const uint8_t *b, uint64_t from, uint64_t to)
{
    for (uint64_t i = from; i < to; i++)
        if (b[i])
            return 0;
    return 1;
}

/* The fixed header: size within the buffer and a multiple of 8, known kind and
 * return type, count in range, reserved byte zero. Copies it to *h and the
 * header fields to m (no name yet). */
static int decode_header(const uint8_t *b, uint32_t cap, struct glint_abi_msg *h, glint__msg *m,
                         const char **why)
{
    if (cap < sizeof *h)
        return fail(why, "buffer smaller than a message header");
    memcpy(h, b, sizeof *h);
    if (h->size < sizeof *h)
        return fail(why, "message size smaller than its header");
    if (h->size > cap)
        return fail(why, "message size exceeds the buffer");
    if (h->size % 8)
        return fail(why, "message size not a multiple of 8");
    if (h->kind < GLINT_ABI_MSG_CALL || h->kind > GLINT_ABI_MSG_ABORT)
        return fail(why, "unknown message kind");
    if (h->count > GLINT_ABI_MAX_PARAMS)
        return fail(why, "too many values in message");
    if (h->type > GLINT_ABI_TYPE_MAX)
        return fail(why, "unknown return type in message");
    if (h->reserved)
        return fail(why, "reserved header byte not zero");
    m->kind = h->kind;
    m->type = h->type;
    m->count = h->count;
    m->status = h->status;
    m->size = h->size;
    m->name = NULL;
    m->name_len = 0;
    return 0;
}

/* The HOSTCALL name at *pos: in range, inside the message, NUL-terminated, an
 * identifier, zero padding to 8. Any other kind must have name_len 0. Advances
 * *pos past the padding. */
static int decode_name(const uint8_t *b, const struct glint_abi_msg *h, uint64_t *pos,
                       glint__msg *m, const char **why)
{
    if (h->kind != GLINT_ABI_MSG_HOSTCALL)
        return h->name_len ? fail(why, "name length set on a message without a name") : 0;
    if (h->name_len == 0 || h->name_len >= GLINT_ABI_NAME_MAX)
        return fail(why, "host function name length out of range");
    if ((uint64_t)h->name_len + 1 > h->size - *pos)
        return fail(why, "host function name extends past the message");
    if (b[*pos + h->name_len] != 0)
        return fail(why, "host function name not NUL-terminated");
    if (!glint__name_valid((const char *)b + *pos, h->name_len))
        return fail(why, "host function name has invalid characters");
    m->name = (const char *)b + *pos;
    m->name_len = h->name_len;
    uint64_t end = ALIGN8(*pos + h->name_len + 1);
    if (!zeros(b, *pos + h->name_len + 1, end))
        return fail(why, "host function name padding not zero");
    *pos = end;
    return 0;
}

/* A value header at *pos: inside the message, reserved bytes zero, known type,
 * scalar length exact, padded payload inside the message. Advances *pos past
 * the header; *padded is the payload's size with its padding. */
static int decode_value_header(const uint8_t *b, uint32_t size, uint64_t *pos,
                               struct glint_abi_value *vh, uint64_t *padded, const char **why)
{
    if (size - *pos < sizeof *vh)
        return fail(why, "value header extends past the message");
    memcpy(vh, b + *pos, sizeof *vh);
    *pos += sizeof *vh;
    if (vh->reserved[0] | vh->reserved[1] | vh->reserved[2])
        return fail(why, "reserved value bytes not zero");
    int slen = glint__scalar_len(vh->type);
    if (slen < 0)
        return fail(why, "unknown value type");
    if (slen > 0 && vh->len != (uint32_t)slen)
        return fail(why, "scalar value has the wrong length");
    *padded = ALIGN8((uint64_t)vh->len + (vh->type == GLINT_ABI_STRING ? 1 : 0));
    if (*padded > size - *pos)
        return fail(why, "value payload extends past the message");
    return 0;
}

/* A scalar payload of v->len bytes at p into v->bits; a bool must be 0 or 1. */
static int decode_scalar(const uint8_t *p, glint__cval *v, const char **why)
{
    memcpy(&v->bits, p, v->len);
    if (v->type == GLINT_ABI_BOOL && v->bits > 1)
        return fail(why, "bool value not 0 or 1");
    return 0;
}

/* A string or bytes payload at p: v->ptr points at it; a string must have a
 * NUL right after it and be NUL-free valid UTF-8. */
static int decode_payload(const uint8_t *p, glint__cval *v, const char **why)
{
    v->ptr = p;
    if (v->type != GLINT_ABI_STRING)
        return 0;
    if (p[v->len] != 0)
        return fail(why, "string not NUL-terminated");
    if (!glint__utf8_valid(p, v->len))
        return fail(why, "string is not NUL-free valid UTF-8");
    return 0;
}

/* One value at *pos into v: header, payload, zero padding; advances *pos. */
static int decode_value(const uint8_t *b, uint32_t size, uint64_t *pos, glint__cval *v,
                        const char **why)
{
    struct glint_abi_value vh;
    uint64_t padded;
    if (decode_value_header(b, size, pos, &vh, &padded, why))
        return -1;
    v->type = vh.type;
    v->len = vh.len;
    v->bits = 0;
    v->ptr = NULL;
    int rc = glint__scalar_len(vh.type) > 0 ? decode_scalar(b + *pos, v, why)
                                            : decode_payload(b + *pos, v, why);
    if (rc)
        return rc;
    if (!zeros(b, *pos + vh.len, *pos + padded))
        return fail(why, "value padding not zero");
    *pos += padded;
    return 0;
}

int glint__msg_decode(const void *buf, uint32_t cap, glint__msg *m, const char **why)
{
    const uint8_t *b = buf;
    struct glint_abi_msg h;
    if (decode_header(b, cap, &h, m, why))
        return -1;
    uint64_t pos = sizeof h;
    if (decode_name(b, &h, &pos, m, why))
        return -1;
    for (uint32_t i = 0; i < h.count; i++)
        if (decode_value(b, h.size, &pos, &m->vals[i], why))
            return -1;
    if (pos != h.size)
        return fail(why, "message size does not match its contents");
    return 0;
}

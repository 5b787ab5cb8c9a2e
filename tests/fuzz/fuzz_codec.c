/* libFuzzer target for the message decoder (common/codec.c): decode, re-encode, decode, compare.
 *
 * The host decodes messages a hostile guest wrote into shared memory, so
 * glint__msg_decode must stay inside the `cap` bytes it is given and accept
 * only well-formed messages. This target copies libFuzzer's input into an
 * exactly sized 8-aligned heap buffer (ASan then catches any overread), decodes
 * it, checks the decoded message's invariants, re-encodes the decoded values
 * with a writer into a buffer of exactly the decoded size (strings alternate
 * between glint__msg_put and the reserve/put_reserved path), decodes that
 * again and abort()s unless both decodes agree value for value. Build and run
 * it with scripts/fuzz.sh (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "ident.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_codec: invariant violated: %s\n", what);
        abort();
    }
}

static void check_decoded(const uint8_t *buf, uint32_t cap, const glint__msg *m)
{
    require(m->size >= sizeof(struct glint_abi_msg) && m->size <= cap && m->size % 8 == 0, "size");
    require(m->kind >= GLINT_ABI_MSG_CALL && m->kind <= GLINT_ABI_MSG_ABORT, "kind");
    require(m->type <= GLINT_ABI_TYPE_MAX, "return type");
    require(m->count <= GLINT_ABI_MAX_PARAMS, "count");
    if (m->kind == GLINT_ABI_MSG_HOSTCALL) {
        require(m->name != NULL, "hostcall name");
        require((const uint8_t *)m->name == buf + sizeof(struct glint_abi_msg), "name position");
        require(m->name[m->name_len] == 0 && strlen(m->name) == m->name_len, "name terminated");
        require(glint__name_valid(m->name, m->name_len), "name valid");
    } else {
        require(m->name == NULL && m->name_len == 0, "no name");
    }
    for (unsigned i = 0; i < m->count; i++) {
        const glint__cval *v = &m->vals[i];
        int slen = glint__scalar_len(v->type);
        require(v->type != GLINT_ABI_VOID && slen >= 0, "value type");
        if (slen > 0) {
            require(v->len == (uint32_t)slen, "scalar length");
            require(slen == 8 || v->bits >> (8 * slen) == 0, "scalar bits fit");
            require(v->type != GLINT_ABI_BOOL || v->bits <= 1, "bool 0/1");
            require(v->ptr == NULL, "scalar has no pointer");
        } else {
            const uint8_t *p = v->ptr;
            require(p != NULL, "payload pointer");
            require(p >= buf + sizeof(struct glint_abi_msg) && p <= buf + m->size &&
                        v->len <= (size_t)(buf + m->size - p),
                    "payload inside message");
            if (v->type == GLINT_ABI_STRING) {
                require(v->len < (size_t)(buf + m->size - p) && p[v->len] == 0,
                        "string NUL-terminated inside message");
                require(glint__utf8_valid(p, v->len), "string valid UTF-8");
            }
        }
    }
}

static void same_value(const glint__cval *a, const glint__cval *b)
{
    require(a->type == b->type && a->len == b->len, "value type/len equal");
    if (glint__scalar_len(a->type) > 0)
        require(a->bits == b->bits, "scalar bits equal");
    else
        require(a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0, "payload equal");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > UINT32_MAX)
        return 0;
    /* malloc is 16-aligned; the exact size lets ASan flag reads past cap. */
    uint8_t *buf = malloc(size ? size : 1);
    require(buf != NULL, "malloc");
    if (size)
        memcpy(buf, data, size);
    glint__msg m;
    const char *why = NULL;
    int rc = glint__msg_decode(buf, (uint32_t)size, &m, &why);
    if (rc != 0) {
        require(rc == -1 && why != NULL && why[0] != 0, "failure reported with a reason");
        free(buf);
        return 0;
    }
    check_decoded(buf, (uint32_t)size, &m);

    /* Re-encode into a buffer of exactly the decoded size: it must fit exactly. */
    uint8_t *out = malloc(m.size);
    require(out != NULL, "malloc");
    glint__writer w;
    glint__msg_begin(&w, out, m.size, m.kind, m.type, m.status, m.name, m.name_len);
    for (unsigned i = 0; i < m.count; i++) {
        const glint__cval *v = &m.vals[i];
        if (v->type == GLINT_ABI_STRING && (i + size) % 2) {
            uint32_t max = v->len;
            char *dst = glint__msg_reserve_string(&w, &max);
            require(dst != NULL && max == v->len, "string reservation");
            memcpy(dst, v->ptr, v->len);
            require(glint__msg_put_reserved(&w, v->len) == 0, "put_reserved");
        } else {
            require(glint__msg_put(&w, v) == 0, "put");
        }
    }
    require(glint__msg_end(&w) == (int64_t)m.size, "re-encoded size equals decoded size");

    glint__msg m2;
    why = NULL;
    require(glint__msg_decode(out, m.size, &m2, &why) == 0, "re-encoded message decodes");
    check_decoded(out, m.size, &m2);
    require(m2.kind == m.kind && m2.type == m.type && m2.status == m.status &&
                m2.count == m.count && m2.size == m.size && m2.name_len == m.name_len,
            "header fields equal");
    require(m.name == NULL || memcmp(m.name, m2.name, m.name_len + 1) == 0, "names equal");
    for (unsigned i = 0; i < m.count; i++)
        same_value(&m.vals[i], &m2.vals[i]);
    free(out);
    free(buf);
    return 0;
}

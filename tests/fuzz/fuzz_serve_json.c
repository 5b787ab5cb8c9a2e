/* libFuzzer target for glint serve's request-body parser (serve/json.c, base64.c).
 *
 * A request body comes from any HTTP client. The first input byte picks a signature (one of
 * every parameter type, a mix, none); the rest is the body, copied into an exactly sized heap
 * buffer (ASan catches any overread). sj_parse_args must either fail with a message and leave
 * nothing allocated, or return exactly the signature's values: the declared types, strings of
 * valid UTF-8 without NUL, bytes whose canonical base64 is the JSON string they came from. Each
 * value must then encode as a result, and the handler path (sj_parse_array) must produce JSON
 * that parses again. Build and run it with scripts/fuzz.sh.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "json.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_serve_json: invariant violated: %s\n", what);
        abort();
    }
}

static const glint_type sigs[][4] = {
    {GLINT_I32},   {GLINT_U32},
    {GLINT_I64},   {GLINT_U64},
    {GLINT_F32},   {GLINT_F64},
    {GLINT_BOOL},  {GLINT_STRING},
    {GLINT_BYTES}, {GLINT_STRING, GLINT_BYTES, GLINT_I64, GLINT_F64},
};
static const size_t sig_len[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 4};
#define NSIGS (sizeof sig_len / sizeof sig_len[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t which = data[0] % (NSIGS + 1); /* NSIGS: no parameters */
    glint_function_info fi = {"F", GLINT_VOID, which < NSIGS ? sig_len[which] : 0,
                              which < NSIGS ? sigs[which] : NULL};
    size_t len = size - 1;
    char *body = malloc(len ? len : 1);
    require(body != NULL, "malloc");
    memcpy(body, data + 1, len);

    char err[300];
    err[0] = 0;
    struct sj_args a;
    int rc = sj_parse_args(body, len, &fi, &a, err, sizeof err);
    if (rc != 0) {
        require(rc == SJ_MALFORMED || rc == SJ_BAD_ARGS, "error code");
        require(err[0] != 0, "error without a message");
        require(a.root == NULL && a.n == 0, "state left after an error");
    } else {
        require(a.n == fi.nparams, "argument count");
        json_t *root = a.root;
        for (size_t k = 0; k < a.n; k++) {
            const glint_value *v = &a.v[k];
            require(v->type == fi.params[k], "argument type");
            if (v->type == GLINT_STRING)
                require(glint__utf8_valid((const uint8_t *)v->as.str.ptr, v->as.str.len),
                        "string not UTF-8 without NUL");
            if (v->type == GLINT_BYTES) {
                json_t *s = json_array_get(root, k);
                char *again = malloc(b64_encoded_len(v->as.bytes.len) + 1);
                require(again != NULL, "malloc");
                b64_encode(v->as.bytes.ptr, v->as.bytes.len, again);
                require(strlen(again) == json_string_length(s) &&
                            memcmp(again, json_string_value(s), strlen(again)) == 0,
                        "bytes are not their canonical base64");
                free(again);
            }
            size_t n;
            char *out = sj_result(v, &n);
            require(out != NULL, "a decoded value does not encode");
            json_error_t je;
            /* A u64 above 2^63-1 is a valid JSON number that jansson reads only as a real. */
            json_t *back = json_loadb(out, n, 0, &je);
            if (!back && v->type == GLINT_U64)
                back = json_loadb(out, n, JSON_DECODE_INT_AS_REAL, &je);
            require(back != NULL, "an encoded result is not JSON");
            json_decref(back);
            free(out);
        }
        sj_args_free(&a);
    }
    char *compact = NULL;
    if (sj_parse_array(body, len, &compact, err, sizeof err) == 0) {
        json_error_t je;
        json_t *back = json_loads(compact, 0, &je);
        require(back != NULL && json_is_array(back), "re-encoded handler arguments do not parse");
        json_decref(back);
        free(compact);
    } else {
        require(compact == NULL, "handler arguments left after an error");
    }
    free(body);
    return 0;
}

/* Base64 (RFC 4648 section 4, standard alphabet, padded) for bytes values in JSON. */
#ifndef GLINT_SERVE_BASE64_H
#define GLINT_SERVE_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters b64_encode() writes for n bytes, without the NUL. */
size_t b64_encoded_len(size_t n);

/* Encode n bytes of p into out (room for b64_encoded_len(n) + 1 bytes), NUL-terminated. */
void b64_encode(const void *p, size_t n, char *out);

/* Most bytes b64_decode() writes for len characters. */
size_t b64_decoded_max(size_t len);

/*
 * Decode the canonical encoding s[0..len) into out (room for b64_decoded_max(len)), setting
 * *outlen. Strict: the length is a multiple of 4, only the alphabet, '=' only as the last one
 * or two characters, and the unused bits before the padding are zero, so every byte string has
 * exactly one accepted encoding. Returns 0, or -1 with *bad set to the offset of the first
 * offending character (len for a wrong length).
 */
int b64_decode(const char *s, size_t len, uint8_t *out, size_t *outlen, size_t *bad);

#endif

/* UTF-8 validation: shortest-form, surrogate-free, NUL-free text up to U+10FFFF. */
#include "utf8.h"

/* Length of the sequence a lead byte starts (continuation bytes after it), with
 * the lead's payload bits in *cp and the smallest code point that length may
 * encode in *min; -1 if c cannot start a multi-byte sequence. */
static int lead_byte(uint8_t c, uint32_t *cp, uint32_t *min)
{
    if ((c & 0xe0) == 0xc0) {
        *cp = c & 0x1f, *min = 0x80;
        return 1;
    }
    if ((c & 0xf0) == 0xe0) {
        *cp = c & 0x0f, *min = 0x800;
        return 2;
    }
    if ((c & 0xf8) == 0xf0) {
        *cp = c & 0x07, *min = 0x10000;
        return 3;
    }
    return -1;
}

int glint__utf8_valid(const uint8_t *s, uint64_t len)
{
    uint64_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            if (c == 0)
                return 0;
            i++;
            continue;
        }
        uint32_t cp, min;
        int need = lead_byte(c, &cp, &min);
        if (need < 0 || len - i <= (uint64_t)need)
            return 0;
        for (int k = 1; k <= need; k++) {
            uint8_t cc = s[i + (uint64_t)k];
            if ((cc & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += (uint64_t)need + 1;
    }
    return 1;
}

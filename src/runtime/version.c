/* The library's version, as built (see the ABI-stability rules beside GLINT_VERSION_* in glint.h).
 */
#include "glint.h"

unsigned glint_version(void)
{
    return GLINT_VERSION_HEX;
}

const char *glint_version_string(void)
{
    return GLINT_VERSION_STRING;
}

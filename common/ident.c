/* Function-name rules: which byte strings may name an export or a host function. */
#include "ident.h"

#include "glint/abi.h"

/* 1 if c may appear in a function name. */
static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
}

int glint__name_valid(const char *name, uint64_t len)
{
    if (len == 0 || len >= GLINT_ABI_NAME_MAX)
        return 0;
    for (uint64_t i = 0; i < len; i++)
        if (!name_char(name[i]))
            return 0;
    return 1;
}

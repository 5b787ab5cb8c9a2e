/* Error codes and the per-thread "what went wrong" message behind glint_errmsg(). */
#include "runtime/error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_message[512];

const char *glint_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define GLINT_ERROR_CASE(name, value, text)                                                        \
    case GLINT_##name:                                                                             \
        return text;
        GLINT_ERRORS(GLINT_ERROR_CASE)
#undef GLINT_ERROR_CASE
    default:
        return "unknown error";
    }
}

const char *glint_err_name(int err)
{
    switch (err) {
    case 0:
        return "0";
#define GLINT_ERROR_NAME(name, value, text)                                                        \
    case GLINT_##name:                                                                             \
        return "GLINT_" #name;
        GLINT_ERRORS(GLINT_ERROR_NAME)
#undef GLINT_ERROR_NAME
    default:
        return "?";
    }
}

const char *glint_errmsg(void)
{
    return last_message;
}

int glint__fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    return code;
}

void glint__clear_error(void)
{
    last_message[0] = 0;
}

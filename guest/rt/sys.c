/* libglint-rt: processes, files, the environment, dynamic loading and locales: what a guest
 * cannot have fails with errno (or dlerror) set; the C locale is the only one. */
#include <glint/guest.h>
#include <stddef.h>
#include <string.h>

#include "glint_rt.h"
#include "rt.h"

__attribute__((noreturn)) void abort(void);
__attribute__((noreturn)) void abort(void)
{
    glint_rt_flush();
    glint_guest_abort(-7, "abort() called");
}

__attribute__((noreturn)) void exit(int status);
__attribute__((noreturn)) void exit(int status)
{
    glint_rt_flush();
    glint_guest_abort(status, "exit(%d) called: a guest cannot exit", status);
}

char *getenv(const char *name);
char *getenv(const char *name)
{
    (void)name;
    return NULL; /* no environment */
}

/* system(NULL) asks whether a shell exists: none. */
int system(const char *cmd);
int system(const char *cmd)
{
    if (!cmd)
        return 0;
    rt_errno = RT_ENOSYS;
    return -1;
}

void *popen(const char *cmd, const char *mode);
void *popen(const char *cmd, const char *mode)
{
    (void)cmd, (void)mode;
    rt_errno = RT_ENOSYS;
    return NULL;
}
int pclose(void *f);
int pclose(void *f)
{
    (void)f;
    rt_errno = RT_ENOSYS;
    return -1;
}

int close(int fd);
int close(int fd)
{
    (void)fd;
    rt_errno = RT_EBADF;
    return -1;
}
int mkstemp64(char *tmpl);
int mkstemp64(char *tmpl)
{
    (void)tmpl;
    rt_errno = RT_EACCES;
    return -1;
}
int remove(const char *path);
int remove(const char *path)
{
    (void)path;
    rt_errno = RT_ENOENT;
    return -1;
}
int rename(const char *from, const char *to);
int rename(const char *from, const char *to)
{
    (void)from, (void)to;
    rt_errno = RT_ENOENT;
    return -1;
}

/* ---- dynamic loading: never -------------------------------------------------------------- */

static char dl_text[] = "dynamic libraries are not supported in a glint guest";
static char *dl_message;

void *dlopen(const char *file, int mode);
void *dlopen(const char *file, int mode)
{
    (void)file, (void)mode;
    dl_message = dl_text;
    return NULL;
}
void *dlsym(void *handle, const char *name);
void *dlsym(void *handle, const char *name)
{
    (void)handle, (void)name;
    dl_message = dl_text;
    return NULL;
}
int dlclose(void *handle);
int dlclose(void *handle)
{
    (void)handle;
    return 0;
}
char *dlerror(void);
char *dlerror(void)
{
    char *m = dl_message;
    dl_message = NULL;
    return m;
}

/* ---- locale: "C" only -------------------------------------------------------------------- */

/* glibc's struct lconv, field for field. */
struct rt_lconv {
    char *decimal_point, *thousands_sep, *grouping, *int_curr_symbol, *currency_symbol,
        *mon_decimal_point, *mon_thousands_sep, *mon_grouping, *positive_sign, *negative_sign;
    char int_frac_digits, frac_digits, p_cs_precedes, p_sep_by_space, n_cs_precedes, n_sep_by_space,
        p_sign_posn, n_sign_posn, int_p_cs_precedes, int_p_sep_by_space, int_n_cs_precedes,
        int_n_sep_by_space, int_p_sign_posn, int_n_sign_posn;
};
_Static_assert(sizeof(struct rt_lconv) == 96, "glibc's struct lconv");

#define NO_VALUE 127 /* CHAR_MAX */
static struct rt_lconv c_lconv = {
    ".",      "",       "",       "",       "",       "",       "",       "",
    "",       "",       NO_VALUE, NO_VALUE, NO_VALUE, NO_VALUE, NO_VALUE, NO_VALUE,
    NO_VALUE, NO_VALUE, NO_VALUE, NO_VALUE, NO_VALUE, NO_VALUE, NO_VALUE, NO_VALUE,
};

struct rt_lconv *localeconv(void);
struct rt_lconv *localeconv(void)
{
    return &c_lconv;
}

static char c_name[] = "C";

/* Query (NULL), "", "C" and "POSIX" give "C"; any other locale does not exist. */
char *setlocale(int category, const char *locale);
char *setlocale(int category, const char *locale)
{
    (void)category;
    if (!locale || !*locale || strcmp(locale, "C") == 0 || strcmp(locale, "POSIX") == 0)
        return c_name;
    return NULL;
}

int strcoll(const char *a, const char *b);
int strcoll(const char *a, const char *b)
{
    return strcmp(a, b); /* the C locale's collation is byte order */
}

/* Every file of the committed malformed-image-file corpus (tests/data/malformed-gimg) is rejected
 * as listed. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glint.h"

/*
 * The corpus and its MANIFEST ("<file> <EIMAGE|EABI> <message>") are written by
 * scripts/gen-malformed.sh from tests/data/gen-malformed-gimg.c. Paths are relative to the
 * repository root unless GLINT_MALFORMED_GIMG_DIR names another directory. Every file fails
 * the image-file checks before anything needs KVM, so no test here does.
 */

#define MIN_CASES 50

static char *files[256], *msgs[256];
static int codes[256];
static size_t n;
static char dir[4096];

static void load(void)
{
    const char *d = getenv("GLINT_MALFORMED_GIMG_DIR");
    snprintf(dir, sizeof dir, "%s", d && d[0] ? d : "tests/data/malformed-gimg");
    char path[4200], line[1024];
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s (run from the repository root)", path);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *a = strchr(line, ' '), *b = a ? strchr(a + 1, ' ') : NULL;
        cr_assert(a && b && b[1], "%s: bad line '%s'", path, line);
        *a = *b = 0;
        cr_assert(strcmp(a + 1, "EIMAGE") == 0 || strcmp(a + 1, "EABI") == 0, "code %s", a + 1);
        cr_assert_lt(n, 256);
        codes[n] = strcmp(a + 1, "EABI") == 0 ? GLINT_EABI : GLINT_EIMAGE;
        files[n] = strdup(line);
        msgs[n] = strdup(b + 1);
        n++;
    }
    fclose(f);
}

static void unload(void)
{
    for (size_t i = 0; i < n; i++) {
        free(files[i]);
        free(msgs[i]);
    }
    n = 0;
}

TestSuite(malformed_gimg_corpus, .init = load, .fini = unload);

Test(malformed_gimg_corpus, manifest_lists_every_file_once)
{
    cr_assert_geq(n, MIN_CASES, "%zu cases, want at least %d", n, MIN_CASES);
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    size_t seen = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "MANIFEST"))
            continue;
        seen++;
        size_t i = 0;
        while (i < n && strcmp(files[i], e->d_name))
            i++;
        cr_expect_lt(i, n, "%s is not in MANIFEST", e->d_name);
    }
    closedir(d);
    cr_expect_eq(seen, n);
}

/* Each file, through the API an application uses, fails with the listed code and message. */
Test(malformed_gimg_corpus, every_reader_rejects_each_as_listed)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        glint_exports *ex = NULL;
        glint_image *img = NULL;
        glint_image_file_info info;
        int rc[3] = {glint_exports_read_file(path, &ex),
                     glint_image_load_file(path, NULL, NULL, &img),
                     glint_image_file_info_read(path, &info, NULL)};
        for (int k = 0; k < 3; k++)
            if (rc[k] != codes[i]) {
                cr_log_error("%s: reader %d returned %d, want %d", files[i], k, rc[k], codes[i]);
                bad++;
            }
        if (!strstr(glint_errmsg(), msgs[i])) { /* the last reader's message */
            cr_log_error("%s: message \"%s\" lacks \"%s\"", files[i], glint_errmsg(), msgs[i]);
            bad++;
        }
        cr_expect_null(ex);
        cr_expect_null(img);
        glint_exports_destroy(ex);
        glint_image_destroy(img);
    }
    cr_assert_eq(bad, 0, "%zu problems in %zu corpus files (see the log)", bad, n);
}

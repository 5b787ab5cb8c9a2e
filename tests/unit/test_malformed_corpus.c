/* Every file of the committed malformed-guest corpus (tests/data/malformed) is rejected as listed.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glint.h"

/*
 * The corpus and its MANIFEST are written by scripts/gen-malformed.sh. Paths
 * are relative to the repository root (where the tests run) unless
 * GLINT_MALFORMED_DIR names another directory. Neither glint_exports_read_file
 * nor glint_image_load_file may get past ELF validation on these files, so no
 * test here needs /dev/kvm.
 */

#define MIN_CASES 40

struct entry {
    char *file;
    int code; /* GLINT_EELF or GLINT_EABI */
    char *msg;
};

static struct entry *entries;
static size_t nentries;
static char corpus_dir[4096];

static const char *dir_path(void)
{
    const char *d = getenv("GLINT_MALFORMED_DIR");
    return d && d[0] ? d : "tests/data/malformed";
}

static void load_manifest(void)
{
    snprintf(corpus_dir, sizeof corpus_dir, "%s", dir_path());
    char path[4200];
    snprintf(path, sizeof path, "%s/MANIFEST", corpus_dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f,
                       "cannot open %s (run the tests from the repository root, or set "
                       "GLINT_MALFORMED_DIR)",
                       path);
    char *line = NULL;
    size_t cap = 0, lineno = 0, alloc = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = 0;
        cr_assert_gt(n, 0, "%s:%zu: empty line", path, lineno);
        char *sp1 = strchr(line, ' ');
        cr_assert_not_null(sp1, "%s:%zu: want '<file> <EELF|EABI> <message>'", path, lineno);
        char *sp2 = strchr(sp1 + 1, ' ');
        cr_assert_not_null(sp2, "%s:%zu: want '<file> <EELF|EABI> <message>'", path, lineno);
        *sp1 = *sp2 = 0;
        int code = strcmp(sp1 + 1, "EELF") == 0   ? GLINT_EELF
                   : strcmp(sp1 + 1, "EABI") == 0 ? GLINT_EABI
                                                  : 0;
        cr_assert_neq(code, 0, "%s:%zu: code '%s' is not EELF or EABI", path, lineno, sp1 + 1);
        cr_assert_neq(sp2[1], 0, "%s:%zu: empty message", path, lineno);
        cr_assert_null(strchr(line, '/'), "%s:%zu: file name with a '/'", path, lineno);
        if (nentries == alloc) {
            alloc = alloc ? 2 * alloc : 64;
            entries = realloc(entries, alloc * sizeof *entries);
            cr_assert_not_null(entries);
        }
        struct entry *e = &entries[nentries++];
        e->file = strdup(line);
        e->code = code;
        e->msg = strdup(sp2 + 1);
        cr_assert(e->file && e->msg);
    }
    free(line);
    fclose(f);
}

static void free_manifest(void)
{
    for (size_t i = 0; i < nentries; i++) {
        free(entries[i].file);
        free(entries[i].msg);
    }
    free(entries);
    entries = NULL;
    nentries = 0;
}

TestSuite(malformed_corpus, .init = load_manifest, .fini = free_manifest);

static void entry_path(const struct entry *e, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", corpus_dir, e->file);
}

static const char *code_name(int code)
{
    return code == GLINT_EELF ? "EELF" : code == GLINT_EABI ? "EABI" : "other";
}

/* Check one result against the manifest entry; returns 1 if it matches. */
static int check_result(const char *api, const struct entry *e, int rc, const void *out)
{
    const char *msg = glint_errmsg();
    int ok = 1;
    if (rc != e->code) {
        cr_log_error("%s: %s returned %d (%s), want %s; message \"%s\"", e->file, api, rc,
                     code_name(rc), code_name(e->code), msg);
        ok = 0;
    } else if (!strstr(msg, e->msg)) {
        cr_log_error("%s: %s message \"%s\" lacks \"%s\"", e->file, api, msg, e->msg);
        ok = 0;
    }
    if (rc != 0 && out) {
        cr_log_error("%s: %s set its output on failure", e->file, api);
        ok = 0;
    }
    return ok;
}

Test(malformed_corpus, manifest_covers_the_directory)
{
    cr_assert_geq(nentries, MIN_CASES, "MANIFEST has %zu entries, want at least %d", nentries,
                  MIN_CASES);
    for (size_t i = 0; i < nentries; i++)
        for (size_t k = 0; k < i; k++)
            cr_assert_str_neq(entries[i].file, entries[k].file, "%s listed twice", entries[i].file);
    /* Every file in the directory is listed ... */
    DIR *d = opendir(corpus_dir);
    cr_assert_not_null(d, "cannot open %s", corpus_dir);
    size_t files = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            strcmp(de->d_name, "MANIFEST") == 0)
            continue;
        files++;
        size_t i = 0;
        while (i < nentries && strcmp(entries[i].file, de->d_name) != 0)
            i++;
        cr_expect_lt(i, nentries, "%s/%s is not in MANIFEST", corpus_dir, de->d_name);
    }
    closedir(d);
    /* ... and every listed file exists (so the counts agree). */
    cr_expect_eq(files, nentries, "%zu files in %s, %zu MANIFEST entries", files, corpus_dir,
                 nentries);
    size_t eabi = 0;
    for (size_t i = 0; i < nentries; i++)
        eabi += entries[i].code == GLINT_EABI;
    cr_expect_gt(eabi, 0, "no EABI cases");
    cr_expect_lt(eabi, nentries, "no EELF cases");
}

Test(malformed_corpus, exports_read_file_rejects_each)
{
    size_t bad = 0;
    for (size_t i = 0; i < nentries; i++) {
        char path[8192];
        entry_path(&entries[i], path, sizeof path);
        glint_exports *ex = NULL;
        int rc = glint_exports_read_file(path, &ex);
        if (!check_result("glint_exports_read_file", &entries[i], rc, ex))
            bad++;
        if (rc == 0)
            glint_exports_destroy(ex);
    }
    cr_assert_eq(bad, 0, "%zu of %zu corpus files not rejected as listed (see the log)", bad,
                 nentries);
}

Test(malformed_corpus, image_load_file_rejects_each)
{
    size_t bad = 0;
    for (size_t i = 0; i < nentries; i++) {
        char path[8192];
        entry_path(&entries[i], path, sizeof path);
        glint_image *img = NULL;
        int rc = glint_image_load_file(path, NULL, NULL, &img);
        if (!check_result("glint_image_load_file", &entries[i], rc, img))
            bad++;
        if (rc == 0)
            glint_image_destroy(img);
    }
    cr_assert_eq(bad, 0, "%zu of %zu corpus files not rejected as listed (see the log)", bad,
                 nentries);
}

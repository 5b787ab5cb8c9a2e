/* Benchmark rows: samples, min/median/p99, floors and ratios, table and JSON output. */
#include "stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ROWS 256 /* every group of make bench fits: about 80 rows today */

static struct row rows[MAX_ROWS];
static size_t nrows;

double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

void die(const char *what)
{
    fprintf(stderr, "bench: %s\n", what);
    exit(1);
}

struct row *row_new(const char *name, const char *what)
{
    if (nrows == MAX_ROWS)
        die("too many benchmark rows");
    struct row *r = &rows[nrows++];
    memset(r, 0, sizeof *r);
    r->name = name;
    r->what = what;
    return r;
}

void row_add(struct row *r, double us)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        double *v = realloc(r->v, r->cap * sizeof *v);
        if (!v)
            die("out of memory");
        r->v = v;
    }
    r->v[r->n++] = us;
}

void row_floor(struct row *r, const struct row *floor, double scale, double extra,
               const char *floor_name)
{
    r->floor = floor;
    r->floor_scale = scale;
    r->floor_extra = extra;
    r->floor_name = floor_name;
}

struct row *row_value(const char *name, const char *what, double value, const char *unit)
{
    struct row *r = row_new(name, what);
    r->value = value;
    r->unit = unit;
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void finish(struct row *r)
{
    if (!r->n)
        return;
    qsort(r->v, r->n, sizeof *r->v, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < r->n; i++)
        sum += r->v[i];
    r->min = r->v[0];
    r->median = r->v[r->n / 2];
    r->p99 = r->v[(size_t)((double)(r->n - 1) * 0.99)];
    r->max = r->v[r->n - 1];
    r->mean = sum / (double)r->n;
}

double row_median(struct row *r)
{
    finish(r);
    return r->median;
}

static double floor_of(const struct row *r)
{
    if (!r->floor || !r->floor->n)
        return 0;
    return r->floor->median * r->floor_scale + r->floor_extra;
}

/* A value row compared with another value row (row_floor on value rows), or with a time
 * row's median (e.g. a p99 figure against its p50 row). */
static double value_floor(const struct row *r)
{
    if (!r->floor || (!r->floor->unit && !r->floor->n))
        return 0;
    return (r->floor->unit ? r->floor->value : r->floor->median) * r->floor_scale + r->floor_extra;
}

/* Write s as a JSON string literal. */
static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

void report(const char *json_path)
{
    for (size_t i = 0; i < nrows; i++)
        finish(&rows[i]);
    printf("\n%-28s %9s %9s %9s %8s  %s\n", "benchmark (us)", "min", "median", "p99", "ratio",
           "what [floor]");
    for (size_t i = 0; i < nrows; i++) {
        const struct row *r = &rows[i];
        if (r->unit) {
            char ratio[16] = "";
            if (value_floor(r) > 0)
                snprintf(ratio, sizeof ratio, "%.2fx", r->value / value_floor(r));
            printf("%-28s %9s %9.1f %9s %8s  %s (%s)", r->name, "", r->value, "", ratio, r->what,
                   r->unit);
            if (value_floor(r) > 0)
                printf(" [%s = %.1f]", r->floor_name, value_floor(r));
            printf("\n");
            continue;
        }
        double f = floor_of(r);
        char ratio[16];
        if (f > 0)
            snprintf(ratio, sizeof ratio, "%.2fx", r->median / f);
        else
            snprintf(ratio, sizeof ratio, "%s", r->is_floor ? "floor" : "-");
        printf("%-28s %9.1f %9.1f %9.1f %8s  %s", r->name, r->min, r->median, r->p99, ratio,
               r->what);
        if (f > 0)
            printf(" [%s = %.1f]", r->floor_name, f);
        printf("\n");
    }
    if (!json_path)
        return;
    FILE *out = fopen(json_path, "w");
    if (!out)
        die(strerror(errno));
    fprintf(out, "[\n");
    for (size_t i = 0; i < nrows; i++) {
        const struct row *r = &rows[i];
        fprintf(out, "  {\"name\": ");
        json_string(out, r->name);
        fprintf(out, ", \"what\": ");
        json_string(out, r->what);
        fprintf(out, ", ");
        if (r->unit && value_floor(r) > 0) {
            fprintf(out,
                    "\"value\": %.3f, \"unit\": \"%s\", \"median_us\": null, \"p99_us\": null, "
                    "\"floor\": \"%s\", \"floor_value\": %.3f, \"ratio\": %.3f}",
                    r->value, r->unit, r->floor_name, value_floor(r), r->value / value_floor(r));
        } else if (r->unit) {
            fprintf(out,
                    "\"value\": %.3f, \"unit\": \"%s\", \"median_us\": null, \"p99_us\": null, "
                    "\"floor\": null, \"ratio\": null}",
                    r->value, r->unit);
        } else {
            double f = floor_of(r);
            fprintf(out,
                    "\"samples\": %zu, \"min_us\": %.2f, \"median_us\": %.2f, \"p99_us\": %.2f, "
                    "\"max_us\": %.2f, \"mean_us\": %.2f, ",
                    r->n, r->min, r->median, r->p99, r->max, r->mean);
            if (f > 0)
                fprintf(out, "\"floor\": \"%s\", \"floor_us\": %.2f, \"ratio\": %.3f}",
                        r->floor_name, f, r->median / f);
            else
                fprintf(out, "\"floor\": %s, \"ratio\": null}", r->is_floor ? "\"self\"" : "null");
        }
        fprintf(out, "%s\n", i + 1 < nrows ? "," : "");
    }
    fprintf(out, "]\n");
    if (fclose(out) != 0)
        die("writing the JSON output failed");
    printf("\nwrote %s\n", json_path);
}

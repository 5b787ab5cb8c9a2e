/* Benchmark rows: samples, min/median/p99, floors and ratios, table and JSON output. */
#ifndef GLINT_BENCH_STATS_H
#define GLINT_BENCH_STATS_H

#include <stddef.h>

struct row {
    const char *name, *what;
    double *v; /* samples, microseconds */
    size_t n, cap;
    double min, median, p99, max, mean;
    const struct row *floor; /* the raw-KVM row this is compared with, or NULL */
    double floor_scale;      /* floor = floor->median * scale + floor_extra */
    double floor_extra;
    const char *floor_name; /* how the floor is made, for the table */
    double value;           /* for non-time rows: the figure, in `unit` */
    const char *unit;       /* NULL for time rows */
    int is_floor;           /* a raw-KVM floor itself */
};

/* A new row, kept in the report in creation order. */
struct row *row_new(const char *name, const char *what);
void row_add(struct row *r, double us);
/* Compare r with floor->median * scale + extra (named floor_name); for two
 * value rows, with floor->value * scale + extra. */
void row_floor(struct row *r, const struct row *floor, double scale, double extra,
               const char *floor_name);
/* A row holding one figure that is not a time, e.g. calls/s. */
struct row *row_value(const char *name, const char *what, double value, const char *unit);
/* The row's median (computing statistics if needed). */
double row_median(struct row *r);

double now_us(void);
void die(const char *what);

/* Print the table and, if json_path, write the JSON array. */
void report(const char *json_path);

#endif

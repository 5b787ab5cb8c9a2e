/* libglint-rt: time without a clock: time() is the epoch and clock() zero (no system calls, and
 * the same answer in every pristine sandbox); calendar conversion and strftime in UTC. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "rt.h"

/* glibc's struct tm. */
struct rt_tm {
    int tm_sec, tm_min, tm_hour, tm_mday, tm_mon, tm_year, tm_wday, tm_yday, tm_isdst;
    long tm_gmtoff;
    const char *tm_zone;
};

/* There is no wall clock in a guest: the host gives none, and a value that changed between calls
 * would break "every call starts from the same state". Scripts see 1970-01-01T00:00:00Z. */
long time(long *t);
long time(long *t)
{
    if (t)
        *t = 0;
    return 0;
}

/* CPU time is not measurable without the host either: always 0 (os.clock() returns 0.0). */
long clock(void);
long clock(void)
{
    return 0;
}

double difftime(long a, long b);
double difftime(long a, long b)
{
    return (double)a - (double)b;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12), and back. */
static long long days_from_civil(long long y, long long m, long long d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct rt_tm *gmtime_r(const long *t, struct rt_tm *tm);
struct rt_tm *gmtime_r(const long *t, struct rt_tm *tm)
{
    long long s = *t, days = s / 86400, rem = s % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
    long long m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    if (y - 1900 > 0x7fffffff || y - 1900 < -0x7fffffffLL - 1) {
        rt_errno = 75; /* EOVERFLOW */
        return NULL;
    }
    *tm = (struct rt_tm){
        .tm_sec = (int)(rem % 60),
        .tm_min = (int)(rem / 60 % 60),
        .tm_hour = (int)(rem / 3600),
        .tm_mday = (int)d,
        .tm_mon = (int)m - 1,
        .tm_year = (int)(y - 1900),
        .tm_wday = (int)(((days % 7) + 11) % 7), /* 1970-01-01 was a Thursday */
        .tm_yday = (int)(days - days_from_civil(y, 1, 1)),
        .tm_zone = "UTC",
    };
    return tm;
}

/* The guest's local time zone is UTC. */
struct rt_tm *localtime_r(const long *t, struct rt_tm *tm);
struct rt_tm *localtime_r(const long *t, struct rt_tm *tm)
{
    return gmtime_r(t, tm);
}

/* The non-reentrant forms share one result, as in glibc (MuJS's Date calls these). */
static struct rt_tm shared_tm;

struct rt_tm *gmtime(const long *t);
struct rt_tm *gmtime(const long *t)
{
    return gmtime_r(t, &shared_tm);
}

struct rt_tm *localtime(const long *t);
struct rt_tm *localtime(const long *t)
{
    return gmtime_r(t, &shared_tm);
}

/* The same clock as time(): the epoch (Date.now() is 0 in MuJS). No time zone. */
struct rt_timeval {
    long tv_sec, tv_usec;
};
int gettimeofday(struct rt_timeval *tv, void *tz);
int gettimeofday(struct rt_timeval *tv, void *tz)
{
    (void)tz;
    if (tv)
        *tv = (struct rt_timeval){0, 0};
    return 0;
}

long mktime(struct rt_tm *tm);
long mktime(struct rt_tm *tm)
{
    long long mon = tm->tm_mon, y = tm->tm_year + 1900LL;
    y += mon / 12;
    mon %= 12;
    if (mon < 0) {
        mon += 12;
        y--;
    }
    long long t = days_from_civil(y, mon + 1, 1) + tm->tm_mday - 1;
    t = t * 86400 + tm->tm_hour * 3600LL + tm->tm_min * 60LL + tm->tm_sec;
    long r = (long)t;
    if (!gmtime_r(&r, tm))
        return -1;
    return r;
}

static const char *const wday[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                   "Thursday", "Friday", "Saturday"};
static const char *const month[] = {"January",   "February", "March",    "April",
                                    "May",       "June",     "July",     "August",
                                    "September", "October",  "November", "December"};

/* The C locale's strftime for the conversions C99 defines (E and O modifiers ignored). */
size_t strftime(char *s, size_t max, const char *fmt, const struct rt_tm *tm);
size_t strftime(char *s, size_t max, const char *fmt, const struct rt_tm *tm)
{
    size_t n = 0;
    char tmp[64];
    for (const char *p = fmt; *p; p++) {
        const char *piece = tmp;
        tmp[0] = 0;
        if (*p != '%') {
            tmp[0] = *p;
            tmp[1] = 0;
        } else {
            p++;
            if (*p == 'E' || *p == 'O')
                p++;
            int y = tm->tm_year + 1900, h12 = tm->tm_hour % 12 ? tm->tm_hour % 12 : 12;
            int wd = tm->tm_wday >= 0 && tm->tm_wday < 7 ? tm->tm_wday : 0;
            int mo = tm->tm_mon >= 0 && tm->tm_mon < 12 ? tm->tm_mon : 0;
            switch (*p) {
            case 'a':
                snprintf(tmp, sizeof tmp, "%.3s", wday[wd]);
                break;
            case 'A':
                piece = wday[wd];
                break;
            case 'b':
            case 'h':
                snprintf(tmp, sizeof tmp, "%.3s", month[mo]);
                break;
            case 'B':
                piece = month[mo];
                break;
            case 'c':
                snprintf(tmp, sizeof tmp, "%.3s %.3s %2d %02d:%02d:%02d %d", wday[wd], month[mo],
                         tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, y);
                break;
            case 'C':
                snprintf(tmp, sizeof tmp, "%02d", y / 100);
                break;
            case 'd':
                snprintf(tmp, sizeof tmp, "%02d", tm->tm_mday);
                break;
            case 'D':
                snprintf(tmp, sizeof tmp, "%02d/%02d/%02d", tm->tm_mon + 1, tm->tm_mday, y % 100);
                break;
            case 'e':
                snprintf(tmp, sizeof tmp, "%2d", tm->tm_mday);
                break;
            case 'F':
                snprintf(tmp, sizeof tmp, "%d-%02d-%02d", y, tm->tm_mon + 1, tm->tm_mday);
                break;
            case 'g':
                snprintf(tmp, sizeof tmp, "%02d", y % 100);
                break;
            case 'G':
                snprintf(tmp, sizeof tmp, "%d", y);
                break;
            case 'H':
                snprintf(tmp, sizeof tmp, "%02d", tm->tm_hour);
                break;
            case 'I':
                snprintf(tmp, sizeof tmp, "%02d", h12);
                break;
            case 'j':
                snprintf(tmp, sizeof tmp, "%03d", tm->tm_yday + 1);
                break;
            case 'm':
                snprintf(tmp, sizeof tmp, "%02d", tm->tm_mon + 1);
                break;
            case 'M':
                snprintf(tmp, sizeof tmp, "%02d", tm->tm_min);
                break;
            case 'n':
                piece = "\n";
                break;
            case 'p':
                piece = tm->tm_hour < 12 ? "AM" : "PM";
                break;
            case 'r':
                snprintf(tmp, sizeof tmp, "%02d:%02d:%02d %s", h12, tm->tm_min, tm->tm_sec,
                         tm->tm_hour < 12 ? "AM" : "PM");
                break;
            case 'R':
                snprintf(tmp, sizeof tmp, "%02d:%02d", tm->tm_hour, tm->tm_min);
                break;
            case 'S':
                snprintf(tmp, sizeof tmp, "%02d", tm->tm_sec);
                break;
            case 't':
                piece = "\t";
                break;
            case 'T':
            case 'X':
                snprintf(tmp, sizeof tmp, "%02d:%02d:%02d", tm->tm_hour, tm->tm_min, tm->tm_sec);
                break;
            case 'u':
                snprintf(tmp, sizeof tmp, "%d", wd ? wd : 7);
                break;
            case 'U':
                snprintf(tmp, sizeof tmp, "%02d", (tm->tm_yday + 7 - wd) / 7);
                break;
            case 'W':
                snprintf(tmp, sizeof tmp, "%02d", (tm->tm_yday + 7 - (wd + 6) % 7) / 7);
                break;
            case 'V':
                snprintf(tmp, sizeof tmp, "%02d",
                         (tm->tm_yday + 7 - (wd + 6) % 7) / 7 ? (tm->tm_yday + 7 - (wd + 6) % 7) / 7
                                                              : 1);
                break;
            case 'w':
                snprintf(tmp, sizeof tmp, "%d", wd);
                break;
            case 'x':
                snprintf(tmp, sizeof tmp, "%02d/%02d/%02d", tm->tm_mon + 1, tm->tm_mday, y % 100);
                break;
            case 'y':
                snprintf(tmp, sizeof tmp, "%02d", y % 100);
                break;
            case 'Y':
                snprintf(tmp, sizeof tmp, "%d", y);
                break;
            case 'z':
                piece = "+0000";
                break;
            case 'Z':
                piece = "UTC";
                break;
            case '%':
                piece = "%";
                break;
            default:
                return 0;
            }
        }
        size_t len = strlen(piece);
        if (n + len >= max)
            return 0;
        memcpy(s + n, piece, len);
        n += len;
    }
    if (n >= max)
        return 0;
    s[n] = 0;
    return n;
}

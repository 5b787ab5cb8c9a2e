/* glint's NATS wire format: the checks of function names and URLs, error kinds and statuses. */
#include "nats_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "glint.h"

bool nats_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > GLINT_NAME_MAX || name[0] == '.' || name[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.';
        if (!ok || (ch == '.' && name[i + 1] == '.'))
            return false;
    }
    return true;
}

/* One URL, url[0..len). */
static bool one_url_ok(const char *url, size_t len)
{
    static const char scheme[] = "nats://";
    char u[512];
    if (len >= sizeof u || len < sizeof scheme - 1 || strncmp(url, scheme, sizeof scheme - 1))
        return false;
    memcpy(u, url, len);
    u[len] = 0;
    const char *p = u + sizeof scheme - 1;
    for (const char *q = p; *q; q++) {
        if ((unsigned char)*q <= ' ' || *q == 0x7f || *q == '/')
            return false;
    }
    const char *at = strrchr(p, '@');
    const char *host = at ? at + 1 : p;
    const char *colon = NULL;
    if (host[0] == '[') { /* [IPv6]:port */
        const char *close = strchr(host, ']');
        if (!close || close == host + 1)
            return false;
        if (close[1] != 0 && close[1] != ':')
            return false;
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = strchr(host, ':');
        if (colon == host || (!colon && !*host))
            return false;
        if (colon && strchr(colon + 1, ':'))
            return false;
    }
    if (colon) {
        char *end;
        errno = 0;
        unsigned long port = strtoul(colon + 1, &end, 10);
        if (!colon[1] || *end || errno || colon[1] == '-' || colon[1] == '+' || port < 1 ||
            port > 65535)
            return false;
    }
    return true;
}

bool nats_url_ok(const char *url)
{
    size_t n = 0;
    for (const char *p = url;; n++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (n == NATS_URLS_MAX || !one_url_ok(p, len))
            return false;
        if (!comma)
            return true;
        p = comma + 1;
    }
}

unsigned nats_kind_status(const char *kind, const char **static_kind)
{
    static const struct {
        const char *kind;
        unsigned status;
    } kinds[] = {
        {"malformed_json", 400}, {"bad_arguments", 400},
        {"not_found", 404},      {"method_not_allowed", 405},
        {"body_too_large", 413}, {"guest_error", 422},
        {"abort", 422},          {"fault", 422},
        {"triple_fault", 422},   {"protocol", 422},
        {"budget", 422},         {"busy", 429},
        {"overloaded", 429},     {"hypervisor", 500},
        {"internal", 500},       {"draining", 503},
        {"interrupted", 503},    {"unavailable", 503},
        {"no_workers", 503},     {"timeout", 504},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (!strcmp(kind, kinds[i].kind)) {
            *static_kind = kinds[i].kind;
            return kinds[i].status;
        }
    }
    *static_kind = "other";
    return 0;
}

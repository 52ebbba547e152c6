/*
 * check.c - what a webhook must be before izin sends anything to it: its
 * URL, the addresses its host resolves to, its secret; and the two pure
 * pieces of a delivery, its signature and its backoff.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/iz.h"
#include "hook/webhook.h"
#include "net/client.h"
#include "sys/crypto.h"

int iz_hook_url_parse(const char *url, bool allow_private, iz_hook_url_t *out, const char **why)
{
    memset(out, 0, sizeof *out);
    size_t n = url ? strlen(url) : 0;
    if (n == 0) return *why = "the URL is empty", IZ_EINVAL;
    if (n > IZ_HOOK_URL_MAX) return *why = "the URL is over 2048 bytes", IZ_EINVAL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
            return *why = "the URL has a space, a control byte or a byte outside ASCII", IZ_EINVAL;
    if (strchr(url, '#'))
        return *why = "the URL has a fragment (#), which is never sent", IZ_EINVAL;
    const char *p;
    if (strncasecmp(url, "https://", 8) == 0) {
        out->https = true;
        p = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        if (!allow_private)
            return *why = "the URL must be https:// (http:// only with --allow-private-webhooks)",
                   IZ_EINVAL;
        p = url + 7;
    } else {
        return *why = "the URL must start with https://", IZ_EINVAL;
    }
    size_t alen = strcspn(p, "/?");
    if (memchr(p, '@', alen))
        return *why = "the URL must not carry a user or password (the secret signs each delivery)",
               IZ_EINVAL;
    const char *host = p, *hend, *port = NULL;
    if (*p == '[') {
        const char *close = memchr(p, ']', alen);
        if (!close) return *why = "the URL's IPv6 address has no closing ]", IZ_EINVAL;
        host = p + 1;
        hend = close;
        if (close + 1 < p + alen) {
            if (close[1] != ':') return *why = "the URL's host is not valid", IZ_EINVAL;
            port = close + 2;
        }
    } else {
        const char *colon = memchr(p, ':', alen);
        hend = colon ? colon : p + alen;
        if (colon) port = colon + 1;
        for (const char *c = host; c < hend; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '-' || *c == '.'))
                return *why = "the URL's host is not valid", IZ_EINVAL;
    }
    size_t hl = (size_t)(hend - host);
    if (hl == 0 || hl >= sizeof out->host) return *why = "the URL has no valid host", IZ_EINVAL;
    memcpy(out->host, host, hl);
    out->host[hl] = '\0';
    if (p[0] == '[') {
        unsigned char b[16];
        if (inet_pton(AF_INET6, out->host, b) != 1)
            return *why = "the URL's IPv6 address is not valid", IZ_EINVAL;
    }
    out->port = out->https ? 443 : 80;
    if (port) {
        int64_t v;
        char digits[8];
        size_t pl = (size_t)(p + alen - port);
        if (pl == 0 || pl >= sizeof digits) return *why = "the URL's port is not valid", IZ_EINVAL;
        memcpy(digits, port, pl);
        digits[pl] = '\0';
        if (iz_parse_i64(digits, 1, 65535, &v) != 0)
            return *why = "the URL's port is not valid", IZ_EINVAL;
        out->port = (unsigned)v;
    }
    return 0;
}

/* An IPv4 address (host order) that is none of the special ranges. */
static bool v4_public(uint32_t a)
{
    static const struct {
        uint32_t net;
        int bits;
    } not_public[] = {
        {0x00000000u, 8},  /* 0/8 "this network" */
        {0x0A000000u, 8},  /* 10/8 private */
        {0x64400000u, 10}, /* 100.64/10 CGNAT */
        {0x7F000000u, 8},  /* 127/8 loopback */
        {0xA9FE0000u, 16}, /* 169.254/16 link-local */
        {0xAC100000u, 12}, /* 172.16/12 private */
        {0xC0000000u, 24}, /* 192.0.0/24 protocol assignments */
        {0xC0000200u, 24}, /* 192.0.2/24 documentation */
        {0xC0586300u, 24}, /* 192.88.99/24 6to4 relay */
        {0xC0A80000u, 16}, /* 192.168/16 private */
        {0xC6120000u, 15}, /* 198.18/15 benchmarking */
        {0xC6336400u, 24}, /* 198.51.100/24 documentation */
        {0xCB007100u, 24}, /* 203.0.113/24 documentation */
        {0xE0000000u, 4},  /* 224/4 multicast */
        {0xF0000000u, 4},  /* 240/4 reserved, 255.255.255.255 broadcast */
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(not_public); i++) {
        uint32_t mask = 0xFFFFFFFFu << (32 - not_public[i].bits);
        if ((a & mask) == not_public[i].net) return false;
    }
    return true;
}

static uint32_t v4_at(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static bool v6_public(const uint8_t b[16])
{
    static const uint8_t zero[16] = {0};
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0) return v4_public(v4_at(b + 12));
    if (memcmp(b, zero, 12) == 0) return false; /* ::, ::1, IPv4-compatible (deprecated) */
    if (b[0] == 0x20 && b[1] == 0x02) return v4_public(v4_at(b + 2)); /* 6to4 */
    if ((b[0] & 0xfe) == 0xfc) return false;                          /* fc00::/7 unique local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return false;          /* fe80::/10 link-local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return false;          /* fec0::/10 site-local */
    if (b[0] == 0xff) return false;                                   /* multicast */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return false; /* docs */
    if (b[0] == 0x01 && b[1] == 0 && memcmp(b + 2, zero, 6) == 0) return false;     /* 100::/64 */
    return true;
}

bool iz_hook_addr_public(const struct sockaddr *sa)
{
    if (!sa) return false;
    if (sa->sa_family == AF_INET)
        return v4_public(ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr));
    if (sa->sa_family == AF_INET6)
        return v6_public(((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
    return false;
}

int iz_hook_resolve(const iz_hook_url_t *u, bool allow_private, char addr[IZ_HOOK_ADDR_MAX],
                    const char **why)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    addr[0] = '\0';
    if (getaddrinfo(u->host, NULL, &hints, &res) != 0 || !res) {
        if (res) freeaddrinfo(res);
        *why = "the URL's host does not resolve";
        return IZ_EIO;
    }
    int rc = 0;
    for (struct addrinfo *a = res; a && rc == 0; a = a->ai_next) {
        if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
        if (!allow_private && !iz_hook_addr_public(a->ai_addr)) {
            *why = "the URL's host resolves to a loopback, private or reserved address "
                   "(allowed only with --allow-private-webhooks)";
            rc = IZ_EINVAL;
        } else if (!addr[0]) {
            const void *src =
                a->ai_family == AF_INET
                    ? (const void *)&((struct sockaddr_in *)(void *)a->ai_addr)->sin_addr
                    : (const void *)&((struct sockaddr_in6 *)(void *)a->ai_addr)->sin6_addr;
            if (!inet_ntop(a->ai_family, src, addr, IZ_HOOK_ADDR_MAX)) addr[0] = '\0';
        }
    }
    freeaddrinfo(res);
    if (rc == 0 && !addr[0]) {
        *why = "the URL's host has no IPv4 or IPv6 address";
        rc = IZ_EIO;
    }
    if (rc != 0) addr[0] = '\0';
    return rc;
}

bool iz_hook_secret_ok(const char *secret, const char **why)
{
    size_t n = secret ? strlen(secret) : 0;
    if (n < IZ_HOOK_SECRET_MIN || n > IZ_HOOK_SECRET_MAX) {
        *why = "the secret must be 16 to 256 bytes";
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)secret[i] < 0x21 || (unsigned char)secret[i] > 0x7e) {
            *why = "the secret must be printable ASCII without spaces";
            return false;
        }
    return true;
}

void iz_hook_sign(const char *secret, const char *body, size_t n, char out[IZ_HOOK_SIG_MAX])
{
    memcpy(out, "sha256=", 7);
    iz_hmac_sha256_hex(secret, strlen(secret), body, n, out + 7);
}

int64_t iz_hook_backoff_ms(int attempts, long retry_after_s, uint64_t rnd)
{
    return iz_backoff_ms(attempts, IZ_HOOK_FIRST_RETRY_MS, IZ_HOOK_RETRY_MAX_MS, retry_after_s,
                         rnd);
}

/* The Turkish of this file's reasons (what the API and the panel show). */
static const char *const reasons[][2] = {
    {"the URL is empty", "Adres boş."},
    {"the URL is over 2048 bytes", "Adres 2048 bayttan uzun."},
    {"the URL has a space, a control byte or a byte outside ASCII",
     "Adreste boşluk, denetim karakteri ya da ASCII dışı bir karakter var."},
    {"the URL has a fragment (#), which is never sent",
     "Adreste hiç gönderilmeyen bir # parçası var."},
    {"the URL must be https:// (http:// only with --allow-private-webhooks)",
     "Adres https:// ile başlamalıdır (http:// yalnızca --allow-private-webhooks ile)."},
    {"the URL must start with https://", "Adres https:// ile başlamalıdır."},
    {"the URL must not carry a user or password (the secret signs each delivery)",
     "Adres kullanıcı adı ya da parola içermemelidir (her gönderim gizli anahtarla imzalanır)."},
    {"the URL's IPv6 address has no closing ]", "Adresteki IPv6 adresinin kapanış ] işareti yok."},
    {"the URL's host is not valid", "Adresteki sunucu adı geçersiz."},
    {"the URL has no valid host", "Adreste geçerli bir sunucu adı yok."},
    {"the URL's IPv6 address is not valid", "Adresteki IPv6 adresi geçersiz."},
    {"the URL's port is not valid", "Adresteki port geçersiz."},
    {"the URL's host does not resolve", "Adresteki sunucu adı çözümlenemedi."},
    {"the URL's host resolves to a loopback, private or reserved address (allowed only with "
     "--allow-private-webhooks)",
     "Adresteki sunucu adı yerel, özel ya da ayrılmış bir IP adresine çözümleniyor (yalnızca "
     "--allow-private-webhooks ile izin verilir)."},
    {"the URL's host has no IPv4 or IPv6 address",
     "Adresteki sunucunun IPv4 ya da IPv6 adresi yok."},
    {"the secret must be 16 to 256 bytes", "Gizli anahtar 16 ile 256 bayt arasında olmalıdır."},
    {"the secret must be printable ASCII without spaces",
     "Gizli anahtar boşluksuz, yazdırılabilir ASCII karakterlerden oluşmalıdır."},
};

const char *iz_hook_why_tr(const char *why)
{
    for (size_t i = 0; i < IZ_ARRAY_LEN(reasons); i++)
        if (why && strcmp(reasons[i][0], why) == 0) return reasons[i][1];
    return "Değer geçersiz.";
}

/*
 * users.c - making panel users: the one place `izin user add`, the demo
 * and the panel's users page add a user or give one a password.
 */
#include <string.h>

#include "core/iz.h"
#include "web/panel_int.h"

bool iz_panel_email_ok(const char *email)
{
    size_t n = strnlen(email, IZ_EMAIL_MAX);
    if (n < 3 || n > 254) return false;
    const char *at = strchr(email, '@');
    if (!at || at == email || strchr(at + 1, '@')) return false;
    const char *dom = at + 1;
    const char *dot = strrchr(dom, '.');
    if (!*dom || !dot || dot == dom || !dot[1]) return false;
    for (const unsigned char *p = (const unsigned char *)email; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("\"'<>()[]\\,;:`", *p)) return false;
    return true;
}

/* Characters of UTF-8 text (its non-continuation bytes). */
static size_t utf8_chars(const char *t)
{
    size_t n = 0;
    for (; *t; t++)
        n += ((unsigned char)*t & 0xC0) != 0x80;
    return n;
}

int iz__panel_pw_check(const char *pw)
{
    if (strnlen(pw, IZ_PW_MAX + 1) > IZ_PW_MAX) return IZ_ETOOBIG;
    return utf8_chars(pw) < IZ_PW_MIN ? IZ_ERULE : 0;
}

int iz_panel_user_add(iz_store_t *st, int64_t account_id, const char *email, const char *password,
                      char gen[IZ_PW_GEN_LEN + 1], iz_user_t *out)
{
    if (!iz_panel_email_ok(email)) return IZ_EINVAL;
    int rc = password ? iz__panel_pw_check(password) : iz_pw_generate(gen);
    if (rc != 0) return rc;
    memset(out, 0, sizeof *out);
    out->account_id = account_id;
    iz_strlcpy(out->email, email, sizeof out->email);
    out->must_change = password == NULL;
    rc = iz_pw_hash(password ? password : gen, out->pwhash);
    if (rc == 0) rc = iz_store_user_add(st, out);
    if (rc != 0 && !password) iz_wipe(gen, IZ_PW_GEN_LEN + 1);
    return rc;
}

int iz_panel_user_reset(iz_store_t *st, int64_t user_id, char gen[IZ_PW_GEN_LEN + 1])
{
    char hash[IZ_PW_HASH_MAX];
    int rc = iz_pw_generate(gen);
    if (rc == 0) rc = iz_pw_hash(gen, hash);
    if (rc == 0) rc = iz_store_user_password_set(st, user_id, hash, false, NULL);
    return rc;
}

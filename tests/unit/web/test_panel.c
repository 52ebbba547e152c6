/*
 * test_panel.c - unit tests of the panel's foundation: the store's users,
 * sessions and failed logins (ASCII case of e-mails, sessions going with
 * their user and with a password change, the failure list), the password
 * hashing (argon2id, the generated one-time passwords), the lockout rule
 * and the making of users (web/users.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../testutil.h"
#include "core/iz.h"
#include "store/store.h"
#include "sys/crypto.h"
#include "web/panel.h"
#include "web/panel_int.h"

typedef struct fx {
    char dir[64];
    iz_store_t *st;
    int64_t acme, other;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/izin-panel-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    const char *err = NULL;
    assert_int_equal(iz_test_store_open(f->dir, &f->st, &err), 0);
    iz_account_t a = {0};
    strcpy(a.name, "acme");
    a.iys_code = 1;
    assert_int_equal(iz_store_account_add(f->st, &a), 0);
    f->acme = a.id;
    memset(&a, 0, sizeof a);
    strcpy(a.name, "other");
    a.iys_code = 2;
    assert_int_equal(iz_store_account_add(f->st, &a), 0);
    f->other = a.id;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    iz_store_close(f->st);
    iz_test_rmtree(f->dir);
    free(f);
    return 0;
}

/* A real argon2id string for the store's tests (made once: it costs). */
static char some_hash[IZ_PW_HASH_MAX];

static const char *hash_of_something(void)
{
    if (!some_hash[0]) assert_int_equal(iz_pw_hash("bir-parola-12345", some_hash), 0);
    return some_hash;
}

static void test_users(void **state)
{
    fx_t *f = *state;
    iz_user_t u = {.account_id = f->acme, .must_change = true};
    strcpy(u.email, "Ayse@Acme.example");
    strcpy(u.pwhash, hash_of_something());
    assert_int_equal(iz_store_user_add(f->st, &u), 0);
    assert_true(u.id > 0 && u.created_at > 0);
    /* unique without regard to ASCII case, across accounts */
    iz_user_t dup = u;
    strcpy(dup.email, "ayse@ACME.example");
    dup.account_id = f->other;
    assert_int_equal(iz_store_user_add(f->st, &dup), IZ_EEXIST);
    /* a hash that is no argon2id string, an empty e-mail, an unknown account */
    iz_user_t bad = u;
    strcpy(bad.email, "b@acme.example");
    strcpy(bad.pwhash, "plain-text");
    assert_int_equal(iz_store_user_add(f->st, &bad), IZ_EINVAL);
    strcpy(bad.pwhash, hash_of_something());
    bad.email[0] = '\0';
    assert_int_equal(iz_store_user_add(f->st, &bad), IZ_EINVAL);
    strcpy(bad.email, "b@acme.example");
    bad.account_id = 999;
    assert_int_equal(iz_store_user_add(f->st, &bad), IZ_ENOTFOUND);

    iz_user_t got;
    assert_int_equal(iz_store_user_by_email(f->st, "AYSE@acme.EXAMPLE", &got), 0);
    assert_int_equal(got.id, u.id);
    assert_string_equal(got.email, "Ayse@Acme.example");
    assert_true(got.must_change);
    assert_int_equal(got.last_login, 0);
    assert_int_equal(iz_store_user_by_email(f->st, "nobody@acme.example", &got), IZ_ENOTFOUND);

    iz_user_t *list = NULL;
    size_t n = 0;
    assert_int_equal(iz_store_users_of(f->st, f->acme, &list, &n), 0);
    assert_int_equal(n, 1);
    free(list);
    assert_int_equal(iz_store_users_of(f->st, f->other, &list, &n), 0);
    assert_int_equal(n, 0);
    free(list);

    /* delete: scoped to an account when one is named */
    assert_int_equal(iz_store_user_delete(f->st, f->other, u.id), IZ_ENOTFOUND);
    assert_int_equal(iz_store_user_delete(f->st, f->acme, u.id), 0);
    assert_int_equal(iz_store_user_get(f->st, u.id, &got), IZ_ENOTFOUND);
    assert_int_equal(iz_store_user_delete(f->st, 0, u.id), IZ_ENOTFOUND);
}

static void hex64(char out[65], char c)
{
    memset(out, c, 64);
    out[64] = '\0';
}

static void test_sessions(void **state)
{
    fx_t *f = *state;
    iz_user_t u = {.account_id = f->acme, .must_change = true};
    strcpy(u.email, "s@acme.example");
    strcpy(u.pwhash, hash_of_something());
    assert_int_equal(iz_store_user_add(f->st, &u), 0);
    char h1[65], h2[65], h3[65];
    hex64(h1, 'a');
    hex64(h2, 'b');
    hex64(h3, 'c');
    /* failed logins before: a successful one clears them */
    assert_int_equal(iz_store_login_fail_add(f->st, "S@acme.example", 1000), 0);
    int64_t times[5];
    size_t nt;
    assert_int_equal(iz_store_login_fails(f->st, "s@ACME.example", times, 5, &nt), 0);
    assert_int_equal(nt, 1);
    assert_int_equal(iz_store_session_add(f->st, h1, u.id, 2000), 0);
    assert_int_equal(iz_store_login_fails(f->st, "s@acme.example", times, 5, &nt), 0);
    assert_int_equal(nt, 0);
    iz_user_t got;
    assert_int_equal(iz_store_user_get(f->st, u.id, &got), 0);
    assert_int_equal(got.last_login, 2000);

    assert_int_equal(iz_store_session_add(f->st, "not-hex", u.id, 2000), IZ_EINVAL);
    assert_int_equal(iz_store_session_add(f->st, h2, 999, 2000), IZ_ENOTFOUND);
    assert_int_equal(iz_store_session_add(f->st, h2, u.id, 2100), 0);
    assert_int_equal(iz_store_session_add(f->st, h3, u.id, 2200), 0);

    iz_session_t se;
    assert_int_equal(iz_store_session_get(f->st, h1, &se), 0);
    assert_int_equal(se.user_id, u.id);
    assert_int_equal(se.created_at, 2000);
    assert_int_equal(se.last_seen, 2000);
    assert_int_equal(iz_store_session_touch(f->st, h1, 2500), 0);
    assert_int_equal(iz_store_session_get(f->st, h1, &se), 0);
    assert_int_equal(se.last_seen, 2500);
    assert_int_equal(se.created_at, 2000);

    /* a password change ends every session but the one kept */
    assert_int_equal(iz_store_user_password_set(f->st, u.id, hash_of_something(), false, h2), 0);
    assert_int_equal(iz_store_session_get(f->st, h1, &se), IZ_ENOTFOUND);
    assert_int_equal(iz_store_session_get(f->st, h3, &se), IZ_ENOTFOUND);
    assert_int_equal(iz_store_session_get(f->st, h2, &se), 0);
    assert_int_equal(iz_store_user_get(f->st, u.id, &got), 0);
    assert_false(got.must_change);
    assert_int_equal(iz_store_user_password_set(f->st, u.id, "x", false, NULL), IZ_EINVAL);

    /* expiry: idle or too old */
    assert_int_equal(iz_store_session_add(f->st, h1, u.id, 5000), 0);
    int64_t gone = -1;
    assert_int_equal(iz_store_sessions_expire(f->st, 3000, 0, &gone), 0);
    assert_int_equal(gone, 1); /* h2, last seen at 2100 */
    assert_int_equal(iz_store_session_get(f->st, h1, &se), 0);
    assert_int_equal(iz_store_sessions_expire(f->st, 0, 5001, &gone), 0);
    assert_int_equal(gone, 1);

    /* logout; a user's deletion ends their sessions */
    assert_int_equal(iz_store_session_add(f->st, h1, u.id, 6000), 0);
    assert_int_equal(iz_store_session_add(f->st, h3, u.id, 6000), 0);
    assert_int_equal(iz_store_session_delete(f->st, h3), 0);
    assert_int_equal(iz_store_session_get(f->st, h3, &se), IZ_ENOTFOUND);
    assert_int_equal(iz_store_user_delete(f->st, 0, u.id), 0);
    assert_int_equal(iz_store_session_get(f->st, h1, &se), IZ_ENOTFOUND);
}

static void test_login_failures(void **state)
{
    fx_t *f = *state;
    int64_t now = 1700000000;
    for (int i = 0; i < 7; i++)
        assert_int_equal(iz_store_login_fail_add(f->st, "x@acme.example", now + i), 0);
    assert_int_equal(iz_store_login_fail_add(f->st, "y@acme.example", now), 0);
    int64_t t[5];
    size_t n;
    assert_int_equal(iz_store_login_fails(f->st, "X@ACME.EXAMPLE", t, 5, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(t[0], now + 6); /* newest first */
    assert_int_equal(t[4], now + 2);
    /* a failure a day later prunes the old ones */
    assert_int_equal(iz_store_login_fail_add(f->st, "z@acme.example", now + 90000), 0);
    assert_int_equal(iz_store_login_fails(f->st, "x@acme.example", t, 5, &n), 0);
    assert_int_equal(n, 0);
}

static void test_lockout_rule(void **state)
{
    (void)state;
    int64_t now = 1000000;
    int64_t t[5] = {now - 10, now - 20, now - 30, now - 40, now - 50};
    assert_int_equal(iz__panel_locked_until(t, 4, now), 0); /* four are not enough */
    assert_int_equal(iz__panel_locked_until(t, 5, now), now - 10 + IZ_PANEL_LOCK_TIME);
    /* five spread over more than the window lock nothing */
    int64_t spread[5] = {now - 10, now - 20, now - 30, now - 40,
                         now - 10 - IZ_PANEL_LOCK_WINDOW - 1};
    assert_int_equal(iz__panel_locked_until(spread, 5, now), 0);
    /* exactly within the window: locked */
    spread[4] = now - 10 - IZ_PANEL_LOCK_WINDOW;
    assert_true(iz__panel_locked_until(spread, 5, now) > now);
    /* the lock ends 15 minutes after the last failure */
    assert_int_equal(iz__panel_locked_until(t, 5, now - 10 + IZ_PANEL_LOCK_TIME), 0);
    assert_true(iz__panel_locked_until(t, 5, now - 11 + IZ_PANEL_LOCK_TIME) > 0);
}

static void test_passwords(void **state)
{
    (void)state;
    char h[IZ_PW_HASH_MAX];
    assert_int_equal(iz_pw_hash("doğru-parola-ğüşiöç", h), 0);
    assert_memory_equal(h, "$argon2id$", 10);
    assert_true(iz_pw_verify(h, "doğru-parola-ğüşiöç"));
    assert_false(iz_pw_verify(h, "doğru-parola-ğüşiöc"));
    assert_false(iz_pw_verify("$argon2i$v=19$m=4096,t=3,p=1$x$y", "x"));
    assert_false(iz_pw_verify("garbage", "garbage"));
    char big[IZ_PW_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(iz_pw_hash(big, h), IZ_EINVAL);
    /* generated: 20 characters of the unambiguous alphabet, all different */
    char a[IZ_PW_GEN_LEN + 1], b[IZ_PW_GEN_LEN + 1];
    assert_int_equal(iz_pw_generate(a), 0);
    assert_int_equal(iz_pw_generate(b), 0);
    assert_int_equal(strlen(a), IZ_PW_GEN_LEN);
    assert_true(strcmp(a, b) != 0);
    assert_int_equal(strcspn(a, "0Oo1lI"), IZ_PW_GEN_LEN);
    assert_int_equal(iz__panel_pw_check("12345678901"), IZ_ERULE);
    assert_int_equal(iz__panel_pw_check("ğğğğğğğğğğğğ"), 0);  /* characters, not bytes */
    assert_int_equal(iz__panel_pw_check("ğğğğğğ"), IZ_ERULE); /* 12 bytes, 6 characters */
    assert_int_equal(iz__panel_pw_check(big), IZ_ETOOBIG);
}

static void test_user_add(void **state)
{
    fx_t *f = *state;
    char gen[IZ_PW_GEN_LEN + 1];
    iz_user_t u;
    assert_int_equal(iz_panel_user_add(f->st, f->acme, "yeni@acme.example", NULL, gen, &u), 0);
    assert_true(u.must_change);
    assert_int_equal(strlen(gen), IZ_PW_GEN_LEN);
    assert_true(iz_pw_verify(u.pwhash, gen));
    assert_int_equal(iz_panel_user_add(f->st, f->acme, "YENI@acme.example", NULL, gen, &u),
                     IZ_EEXIST);
    assert_int_equal(iz_panel_user_add(f->st, f->acme, "iki@acme.example", "kısa", gen, &u),
                     IZ_ERULE);
    assert_int_equal(
        iz_panel_user_add(f->st, f->acme, "iki@acme.example", "yeterince-uzun", gen, &u), 0);
    assert_false(u.must_change);
    /* the demo's reset: a new password, no forced change */
    char pw2[IZ_PW_GEN_LEN + 1];
    assert_int_equal(iz_panel_user_reset(f->st, u.id, pw2), 0);
    iz_user_t got;
    assert_int_equal(iz_store_user_get(f->st, u.id, &got), 0);
    assert_true(iz_pw_verify(got.pwhash, pw2));
    assert_false(iz_pw_verify(got.pwhash, "yeterince-uzun"));

    const char *bad[] = {"",        "a@b",  "no-at.example", "a@@b.c", "a b@c.d",
                         "<a>@b.c", "a@b.", "@b.c",          "a@.c"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(iz_panel_email_ok(bad[i]));
    assert_true(iz_panel_email_ok("demo@izin.local"));
    assert_true(iz_panel_email_ok("a.b+c@d-e.com.tr"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_failures, setup, teardown),
        cmocka_unit_test(test_lockout_rule),
        cmocka_unit_test(test_passwords),
        cmocka_unit_test_setup_teardown(test_user_add, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * cmd_user.c - `izin user add | list | delete`: the panel's users
 * (web/panel.h). A user is added with a generated one-time password,
 * printed once, that must be changed at the first login, or with a
 * password read from standard input (--password-stdin); either is stored
 * only as its argon2id hash.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/iz.h"
#include "core/trtime.h"
#include "sys/crypto.h"
#include "web/panel.h"

#define DATA_OPTS                                                                                  \
    {"data", true, "DIR", "./izin-data", "data directory (the SQLite store DIR/izin.db)"},         \
        {"db", true, "URL", NULL, "store location instead of --data: sqlite:PATH"},                \
    {                                                                                              \
        "json", false, NULL, NULL, "print the result as one JSON object"                           \
    }

static const iz_optdef_t add_defs[] = {
    DATA_OPTS,
    {"account", true, "NAME", NULL, "the account the user belongs to (required)"},
    {"email", true, "E", NULL, "the user's e-mail address, their login (required)"},
    {"password-stdin", false, NULL, "off: a one-time password is generated and printed",
     "read the password (at least 12 characters) from the first line of standard input"},
};
static const iz_cmddef_t add_cmd =
    IZ_CMD("izin user add", "--account NAME --email E [options]",
           "Add a panel user. Without --password-stdin a one-time password is printed once, alone "
           "on its line;\nthe panel asks for a new one at the first login. Only an argon2id hash "
           "is stored.",
           add_defs);

static const iz_optdef_t list_defs[] = {
    DATA_OPTS, {"account", true, "NAME", NULL, "the account whose users to list (required)"}};
static const iz_cmddef_t list_cmd = IZ_CMD("izin user list", "--account NAME [options]",
                                           "List an account's panel users.", list_defs);

static const iz_optdef_t del_defs[] = {DATA_OPTS,
                                       {"email", true, "E", NULL, "the user to delete (required)"}};
static const iz_cmddef_t del_cmd =
    IZ_CMD("izin user delete", "--email E [options]",
           "Delete a panel user; their sessions end at once.", del_defs);

/* The account named by --account into *a (password wiped); prints why not. */
static int account_opt(const iz_opts_t *o, iz_store_t *st, iz_account_t *a)
{
    const char *name = iz_cli_get(o, "account");
    if (!name || !*name) {
        iz_cli_fail("--account is required");
        return 2;
    }
    int rc = iz_store_account_by_name(st, name, a);
    iz_wipe(a->iys_password, sizeof a->iys_password);
    if (rc == IZ_ENOTFOUND)
        iz_cli_fail("no account named '%s'", name);
    else if (rc != 0)
        iz_cli_fail("cannot read the account: %s", iz_strerror(rc));
    return rc == 0 ? 0 : 1;
}

/* The first line of standard input (its line end dropped) into pw. */
static int read_password(char *pw, size_t size)
{
    if (!fgets(pw, (int)size, stdin)) {
        iz_cli_fail("--password-stdin: nothing to read on standard input");
        return 2;
    }
    size_t n = strlen(pw);
    if (n == size - 1 && pw[n - 1] != '\n' && !feof(stdin)) {
        iz_cli_fail("--password-stdin: the password is over %d bytes", IZ_PW_MAX);
        return 2;
    }
    while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
        pw[--n] = '\0';
    return 0;
}

static int user_add(const iz_opts_t *o)
{
    const char *email = iz_cli_get(o, "email");
    if (!email || !*email) {
        iz_cli_fail("--email is required");
        return 2;
    }
    if (!iz_panel_email_ok(email)) {
        iz_cli_fail("--email: '%s' is not an e-mail address izin accepts", email);
        return 2;
    }
    char pw[IZ_PW_MAX + 2] = "", gen[IZ_PW_GEN_LEN + 1] = "";
    bool from_stdin = iz_cli_get(o, "password-stdin") != NULL;
    if (from_stdin && read_password(pw, sizeof pw) != 0) return 2;
    iz_store_t *st;
    if (iz_cli_open_store(o, &st) != 0) return 1;
    iz_account_t a;
    int rc = account_opt(o, st, &a);
    iz_user_t u;
    int arc = rc == 0 ? iz_panel_user_add(st, a.id, email, from_stdin ? pw : NULL, gen, &u) : 0;
    iz_store_close(st);
    iz_wipe(pw, sizeof pw);
    if (rc != 0) return rc;
    if (arc != 0) {
        if (arc == IZ_EEXIST)
            iz_cli_fail("a panel user with the e-mail %s exists already", email);
        else if (arc == IZ_ERULE)
            iz_cli_fail("the password must have at least %d characters", IZ_PW_MIN);
        else if (arc == IZ_ETOOBIG)
            iz_cli_fail("the password is over %d bytes", IZ_PW_MAX);
        else
            iz_cli_fail("cannot add the user: %s", iz_strerror(arc));
        return 1;
    }
    if (iz_cli_get(o, "json")) {
        json_t *j = json_pack("{s:s, s:s}", "account", a.name, "email", u.email);
        if (!from_stdin) json_object_set_new(j, "password", json_string(gen));
        iz_cli_print_json(j);
    } else if (!from_stdin) {
        puts(gen);
    } else {
        printf("panel user %s added to account %s\n", u.email, a.name);
    }
    iz_wipe(gen, sizeof gen);
    return 0;
}

static int user_list(const iz_opts_t *o)
{
    iz_store_t *st;
    if (iz_cli_open_store(o, &st) != 0) return 1;
    iz_account_t a;
    int rc = account_opt(o, st, &a);
    iz_user_t *list = NULL;
    size_t n = 0;
    int lrc = rc == 0 ? iz_store_users_of(st, a.id, &list, &n) : 0;
    iz_store_close(st);
    if (rc != 0) return rc;
    if (lrc != 0) {
        iz_cli_fail("cannot read the users: %s", iz_strerror(lrc));
        return 1;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char created[IZ_DATETIME_LEN], last[IZ_DATETIME_LEN] = "";
        iz_tr_format(list[i].created_at, created);
        if (list[i].last_login) iz_tr_format(list[i].last_login, last);
        json_array_append_new(arr,
                              json_pack("{s:s, s:b, s:s, s:s?}", "email", list[i].email,
                                        "mustChangePassword", list[i].must_change, "createdAt",
                                        created, "lastLogin", list[i].last_login ? last : NULL));
        if (!iz_cli_get(o, "json"))
            printf("%-40s created %s  last login %s%s\n", list[i].email, created,
                   list[i].last_login ? last : "never",
                   list[i].must_change ? "  (one-time password not changed yet)" : "");
    }
    free(list);
    if (iz_cli_get(o, "json"))
        iz_cli_print_json(json_pack("{s:s, s:o}", "account", a.name, "users", arr));
    else
        json_decref(arr);
    return 0;
}

static int user_delete(const iz_opts_t *o)
{
    const char *email = iz_cli_get(o, "email");
    if (!email || !*email) {
        iz_cli_fail("--email is required");
        return 2;
    }
    iz_store_t *st;
    if (iz_cli_open_store(o, &st) != 0) return 1;
    iz_user_t u;
    int rc = iz_store_user_by_email(st, email, &u);
    if (rc == 0) rc = iz_store_user_delete(st, 0, u.id);
    iz_store_close(st);
    if (rc == IZ_ENOTFOUND) {
        iz_cli_fail("no panel user with the e-mail %s", email);
        return 1;
    }
    if (rc != 0) {
        iz_cli_fail("cannot delete the user: %s", iz_strerror(rc));
        return 1;
    }
    if (iz_cli_get(o, "json"))
        iz_cli_print_json(json_pack("{s:s, s:b}", "email", u.email, "deleted", 1));
    else
        printf("panel user %s deleted; their sessions ended\n", u.email);
    return 0;
}

int iz_cmd_user(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "add") == 0)
        return iz_cli_run(&add_cmd, user_add, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "list") == 0)
        return iz_cli_run(&list_cmd, user_list, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "delete") == 0)
        return iz_cli_run(&del_cmd, user_delete, argc - 1, argv + 1);
    bool help = argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0);
    fprintf(help ? stdout : stderr,
            "usage: izin user add --account NAME --email E [--password-stdin] [options]\n"
            "       izin user list --account NAME [options]\n"
            "       izin user delete --email E [options]\n\nSee izin user add --help.\n");
    return help ? 0 : 2;
}

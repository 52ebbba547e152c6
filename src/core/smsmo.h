/*
 * smsmo.h - the text of a mobile-originated (inbound) SMS: decoded to UTF-8
 * from what a gateway delivers, then read as a command of spec/SMS.md
 * ("RET ACME", "ONAY ACME ARAMA", "evet"). Routing, effects and replies are
 * the callers'; this module only says what a text asks for.
 *
 * Decoding (iz_mo_decode). Every coding is read within its len bytes and
 * written within the caller's buffer; IZ_MO_DECODED_MAX(len) bytes always
 * suffice. The output is UTF-8 without NUL bytes:
 *   UTF8     as given; each invalid sequence (its maximal subpart, as
 *            Unicode recommends) becomes U+FFFD and is counted in
 *            *replaced: a stray byte must not cost an opt-out the rest of
 *            the text states plainly, and U+FFFD folds to a separator, so
 *            it can split a word but never make one.
 *   UCS2     UTF-16BE (UCS-2 is its subset; surrogate pairs are joined):
 *            an odd length or a lone surrogate is IZ_EINVAL, since the
 *            bytes are then not UTF-16 at all (a wrong coding).
 *   LATIN1   ISO-8859-1, a byte a character (SMPP data_coding 3; IA5).
 *   GSM7...  the GSM 7-bit default alphabet, escapes through the Turkish
 *            single shift table; _TR with the Turkish locking shift
 *            table; _PACKED for packed septets, else one septet an octet
 *            (as SMPP and most gateways deliver them). See core/gsm7.h.
 *            An unpacked octet above 0x7F is IZ_EINVAL.
 * A NUL (U+0000) in any coding becomes U+FFFD and is counted. The user
 * data header (UDH) must already be removed: gateways do this for
 * concatenated messages.
 *
 * Grammar (iz_mo_parse). The text is folded (iz_smstext_fold: İ I ı i → i,
 * Ş → s, ..., punctuation and emoji to spaces) and split into words, which
 * are read in any order:
 *   brand keyword  the caller's keywords, folded the same way; a keyword may
 *                  be up to IZ_MO_KEYWORD_WORDS words, matched as
 *                  consecutive words; the longest keyword at a word wins,
 *                  and keywords are matched before the grammar's words
 *   opt-out        ret iptal stop hayir red cikis            → RET
 *   opt-in         onay evet kabul basla                     → ONAY
 *   channel        mesaj sms → MESAJ; arama ara → ARAMA; eposta "e posta"
 *                  email "e mail" mail → EPOSTA; tumu hepsi → all
 *   neutral        numbers, a few courtesy words and verbs that confirm an
 *                  opt-in (lutfen merhaba selam tesekkurler ... veriyorum
 *                  ediyorum istiyorum) and, right after a keyword, a
 *                  Turkish case ending written after an apostrophe
 *                  ("ACME'ye" → "acme ye")
 *   unknown        anything else
 * Several words of one action class count as one ("RET IPTAL"). The
 * verdict:
 *   - both classes, or neither: help;
 *   - RET: an opt-out is honoured whatever else the text says ("RET ACME
 *     lütfen", "Beni listeden çıkarın, iptal"): withdrawing is always
 *     allowed, and a wrong RET only stops messages, which the person can
 *     undo with ONAY;
 *   - ONAY: a consent must be unambiguous, so an opt-in word among unknown
 *     words is help ("onay vermiyorum" is a refusal, "ONAY ACME" and
 *     "kabul ediyorum" are consents).
 * The keyword found and the channels are reported for help too (a help
 * reply may name the brand).
 *
 * Pure: no I/O, no allocation, no global state.
 */
#ifndef IZ_SMSMO_H
#define IZ_SMSMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/enums.h"

typedef enum {
    IZ_MO_UTF8 = 0,
    IZ_MO_UCS2,           /* UTF-16BE */
    IZ_MO_LATIN1,         /* ISO-8859-1 */
    IZ_MO_GSM7,           /* default alphabet, one septet an octet */
    IZ_MO_GSM7_PACKED,    /* default alphabet, packed septets */
    IZ_MO_GSM7_TR,        /* Turkish locking shift table, one septet an octet */
    IZ_MO_GSM7_TR_PACKED, /* Turkish locking shift table, packed septets */
    IZ_MO_CODING_COUNT_
} iz_mo_coding_t;

/* What decoding len bytes can need at most, NUL included (4 bytes an input
 * byte: U+FFFD for one byte is 3, packed GSM-7 is at most 24 for 7). */
#define IZ_MO_DECODED_MAX(len) (4 * (size_t)(len) + 1)

/* Decode len bytes in coding to UTF-8 in out (outsz bytes, NUL-terminated;
 * *outlen bytes before the NUL, *replaced characters replaced by U+FFFD;
 * both may be NULL). Returns 0, IZ_EINVAL for input the coding cannot have
 * or an unknown coding, IZ_ETOOBIG when out is too small; out is "" and
 * the counts 0 after a failure. */
int iz_mo_decode(const void *in, size_t len, iz_mo_coding_t coding, char *out, size_t outsz,
                 size_t *outlen, size_t *replaced);

/* The coding of an SMPP data_coding value (Jasmin's `coding`): 0 (SMSC
 * default) → GSM7, 1 (IA5) and 3 → LATIN1, 8 → UCS2; GSM 03.38 data coding
 * schemes (0x10-0x7F general groups, 0xC0-0xEF message waiting, 0xF0-0xFF)
 * by their alphabet bits. Returns 0, or IZ_EUNSUPPORTED for binary and
 * other alphabets (out untouched). */
int iz_mo_coding_from_smpp(int data_coding, iz_mo_coding_t *out);

/* One brand keyword as configured. */
typedef struct iz_mo_keyword {
    const char *text; /* UTF-8 in any case and spelling; NULL, "" or unusable never match */
    int64_t brand;    /* keywords with equal brand values name one brand */
} iz_mo_keyword_t;

#define IZ_MO_KEYWORD_MAX 64  /* bytes of a keyword as given */
#define IZ_MO_KEYWORD_WORDS 4 /* words of a keyword after folding */

/* Whether text can be a brand keyword: valid UTF-8 of at most
 * IZ_MO_KEYWORD_MAX bytes that folds to 1 to IZ_MO_KEYWORD_WORDS words,
 * none of them an action or channel word of the grammar (a keyword "ARA"
 * would take the channel word). Returns 0, IZ_EINVAL, or IZ_ETOOBIG. */
int iz_mo_keyword_check(const char *text);

#define IZ_MO_KEYWORD_NONE (-1)      /* no keyword of the list in the text */
#define IZ_MO_KEYWORD_AMBIGUOUS (-2) /* keywords of two brands */

typedef enum {
    IZ_MO_COMMAND = 0,    /* status is ONAY or RET */
    IZ_MO_NO_ACTION,      /* neither an opt-out nor an opt-in word */
    IZ_MO_BOTH_ACTIONS,   /* opt-out and opt-in words */
    IZ_MO_UNCLEAR_CONSENT /* an opt-in word among unknown words */
} iz_mo_why_t;

/* Channels asked for, bits of (1u << iz_type_t). */
#define IZ_MO_CHANNEL(type) (1u << (type))

typedef struct iz_mo_parse {
    iz_status_t status; /* IZ_ONAY or IZ_RET; IZ_STATUS_NONE: answer with help, change nothing */
    iz_mo_why_t why;    /* IZ_MO_COMMAND exactly when status is set */
    unsigned channels;  /* IZ_MO_CHANNEL bits named; none and !all: the number's default */
    bool all;           /* tumu / hepsi: every channel the address can have */
    int keyword;        /* index of the (first) keyword found, or IZ_MO_KEYWORD_* */
    size_t words;       /* words of the folded text */
    size_t unknown;     /* words of no class (see above) */
} iz_mo_parse_t;

/* Read len bytes of UTF-8 text (what iz_mo_decode gives) as a command, with
 * the candidate brand keywords (e.g. every keyword of every brand on the
 * receiving number). Costs O(words x keywords). Returns 0, IZ_EINVAL for
 * invalid UTF-8, IZ_ETOOBIG over IZ_SMSTEXT_MAX_BYTES; *out is help with no
 * keyword after a failure. */
int iz_mo_parse(const char *text, size_t len, const iz_mo_keyword_t *keywords, size_t nkeywords,
                iz_mo_parse_t *out);

/* "COMMAND", "NO_ACTION", "BOTH_ACTIONS", "UNCLEAR_CONSENT" (for logs). */
const char *iz_mo_why_name(iz_mo_why_t why);

#endif

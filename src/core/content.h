/*
 * content.h - what a commercial SMS must carry, and whether an
 * informational one reads as commercial: the one place the API's sms/send
 * and the panel's campaign page take a text from as written to as it goes
 * out.
 *
 * The regulation (Ticari İletişim ve Ticari Elektronik İletiler Hakkında
 * Yönetmelik, art. 9) wants in every commercial message the sender's
 * identity (a company's trade name and MERSİS number, or a tradesman's name
 * and surname), a way to reach the sender (phone, address, web or e-mail)
 * and a free way to opt out. A brand's settings hold them; the footer
 * carries what the text lacks, always in this order and each a sentence of
 * its own:
 *
 *   <text> <identity>. İletişim: <contact>. <opt-out instruction>
 *
 * identity is "<trade name>, MERSİS: <number>" (a company) or "<tradesman>"
 * (esnaf). The text carries the identity when it names the trade name, the
 * tradesman's name or the MERSİS number; the contact when it names the
 * contact (folded, as whole words) or, for a contact with at least 7
 * digits, its digits however they are grouped; the opt-out as
 * iz_smstext_has_optout says.
 *
 * An informational text (commercial false) is left as it is, but read for
 * the wording of what needs consent (campaign, discount, gift, greeting,
 * survey, draw, coupon, a percentage...): whole words after Turkish folding,
 * a word list's stem matching the start of a word ("indirimli",
 * "kampanyamız", "kampanyasız" too), the words found given back as written.
 *
 * Pure: no I/O, no allocation, no global state.
 */
#ifndef IZ_CONTENT_H
#define IZ_CONTENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/smstext.h"

/* A brand's settings a commercial text needs (NULL or "" = not set). */
typedef struct iz_content_brand {
    const char *keyword, *short_number, *subscriber_number; /* the opt-out's */
    const char *trade_name, *mersis, *tradesman;            /* the identity */
    const char *contact;
} iz_content_brand_t;

/* What the footer added (bits), and what a refusal misses (one of them). */
enum {
    IZ_CONTENT_IDENTITY = 1u << 0,
    IZ_CONTENT_CONTACT = 1u << 1,
    IZ_CONTENT_OPTOUT = 1u << 2,
};

/* The name of one bit: "identity", "contact", "optout" (NULL otherwise). */
const char *iz_content_name(unsigned bit);

#define IZ_CONTENT_TEXT_MAX (IZ_SMSTEXT_MAX_BYTES + 1) /* a final text, NUL included */
#define IZ_CONTENT_WORDS_MAX 16                        /* words a warning names */
#define IZ_CONTENT_WORD_MAX 48                         /* bytes of one, NUL included */

typedef struct iz_content {
    char text[IZ_CONTENT_TEXT_MAX]; /* as it goes out */
    size_t len;
    iz_smstext_info_t info;
    unsigned added;   /* IZ_CONTENT_* bits the footer added */
    unsigned missing; /* refused (IZ_ERULE): the brand setting it lacks */
    /* An informational text's commercial wording, as written, each once. */
    size_t nwords;
    char words[IZ_CONTENT_WORDS_MAX][IZ_CONTENT_WORD_MAX];
} iz_content_t;

/* The text (len bytes of UTF-8) as it goes out, for brand b: a commercial
 * one with the footer it needs, an informational one unchanged (and its
 * commercial wording in out->words); its encoding and parts with the
 * smstext flags. Returns 0; IZ_ERULE when a commercial text needs a brand
 * setting the brand lacks (out->missing: OPTOUT when there is no number to
 * send RET to, IDENTITY without (trade name and MERSİS) or a tradesman's
 * name, CONTACT without a contact; checked in that order); IZ_EINVAL for
 * text that is not UTF-8 or holds a NUL; IZ_ETOOBIG when the text, with its
 * footer, is over IZ_SMSTEXT_MAX_BYTES. */
int iz_content_build(const iz_content_brand_t *b, const char *text, size_t len, bool commercial,
                     unsigned flags, iz_content_t *out);

/* The commercial wording of a text (see above) into words, at most max,
 * each once; returns how many. Invalid UTF-8 finds nothing. */
size_t iz_content_commercial_words(const char *text, size_t len, char (*words)[IZ_CONTENT_WORD_MAX],
                                   size_t max);

/* Whether s is a MERSİS number: exactly 16 digits. */
bool iz_content_mersis_ok(const char *s);

/* Whether s (a trade name, tradesman's name or contact) may stand in a
 * footer: UTF-8 without control characters, at most max - 1 bytes. "" is
 * fine (not set). */
bool iz_content_field_ok(const char *s, size_t max);

#endif

/*
 * smstext.h - what an SMS text costs and the opt-out instruction it must
 * carry.
 *
 * Encoding (3GPP TS 23.038). A text whose every character is in the GSM 7-bit
 * default alphabet or its extension table (reached with the escape 0x1B, so
 * ^ { } \ [ ~ ] | € and form feed count two septets) is GSM7. Failing that, a
 * text whose every character is in the default alphabet or the Turkish
 * national language single shift table (which holds the extension table's
 * characters and Ğ İ Ş ç ğ ı ş, each two septets) is GSM7_TR. Anything else
 * is UCS2, counted in UTF-16 code units (a character outside the Basic
 * Multilingual Plane counts two).
 *
 * Parts (140 octets of user data each):
 *
 *   encoding  one part   each part of a longer text   why
 *   GSM7      160        153                          UDH 6 octets: concatenation IE
 *   GSM7_TR   155        149                          UDH 4 / 9 octets: + the 3-octet
 *                                                     national language single shift IE
 *   UCS2       70         67                          UDH 6 octets
 *
 * A longer text is split greedily and never inside a character: an escaped
 * character (two septets) or a surrogate pair (two code units) that does not
 * fit the rest of a part starts the next one. A gateway that cuts UCS-2 at
 * 67 code units whatever they are (Kannel 1.4.5 puts the high surrogate of
 * an emoji at the end of one part and the low one at the start of the next:
 * checked against the real one) sends ceil(units / 67) parts instead, which
 * IZ_SMSTEXT_SPLIT_SURROGATES counts.
 *
 * Folding (spec/SMS.md) turns a text into the form keywords are compared in:
 * İ I ı i → i, Ş ş → s, Ğ ğ → g, Ç ç → c, Ö ö → o, Ü ü → u, Â â → a,
 * Î î → i, Û û → u; other Latin letters lower-cased (ASCII, Latin-1,
 * Latin Extended-A: É → é, Ÿ → ÿ); every other ASCII character but digits,
 * and punctuation, symbols and emoji beyond ASCII (’ “ ” … – ₺ € ❤ 👍, the
 * no-break space) to spaces; runs of spaces collapsed, no leading or
 * trailing space. Combining marks (U+0300-U+036F: a decomposed Ş or İ
 * folds like the composed one), variation selectors, zero-width and
 * direction marks and the BOM are dropped. Other characters (other
 * scripts, other Latin lower-case letters) are kept. An explicit table,
 * never the process locale; the result is never longer than the input and
 * folding it again changes nothing.
 *
 * Pure: no I/O, no allocation, no global state.
 */
#ifndef IZ_SMSTEXT_H
#define IZ_SMSTEXT_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { IZ_SMS_ENC_NONE = 0, IZ_SMS_GSM7, IZ_SMS_GSM7_TR, IZ_SMS_UCS2 } iz_sms_enc_t;

#define IZ_SMS_GSM7_SINGLE 160
#define IZ_SMS_GSM7_CONCAT 153
#define IZ_SMS_GSM7_TR_SINGLE 155
#define IZ_SMS_GSM7_TR_CONCAT 149
#define IZ_SMS_UCS2_SINGLE 70
#define IZ_SMS_UCS2_CONCAT 67

/* The longest text (UTF-8 bytes) izin looks at; ten parts of any encoding
 * are far below it. */
#define IZ_SMSTEXT_MAX_BYTES 4096

typedef struct iz_smstext_info {
    iz_sms_enc_t encoding;
    size_t chars;      /* Unicode code points */
    size_t units;      /* septets (GSM7, GSM7_TR) or UTF-16 code units (UCS2) */
    size_t parts;      /* 1 for an empty text */
    size_t part_units; /* what one part holds: the one-part limit when parts is 1 */
} iz_smstext_info_t;

enum {
    /* The gateway cannot send the Turkish shift table (Kannel): a text that
     * would be GSM7_TR is UCS2 instead. */
    IZ_SMSTEXT_NO_TR_SHIFT = 1u << 0,
    /* The gateway splits UCS-2 every 67 code units, a surrogate pair on the
     * boundary included (Kannel): parts are counted the same way. */
    IZ_SMSTEXT_SPLIT_SURROGATES = 1u << 1,
};

/* Encoding and parts of len bytes of UTF-8 text. Returns 0, IZ_EINVAL for
 * text that is not valid UTF-8 (overlong forms, surrogates and code points
 * above U+10FFFF included), IZ_ETOOBIG over IZ_SMSTEXT_MAX_BYTES. */
int iz_smstext_analyze(const char *text, size_t len, unsigned flags, iz_smstext_info_t *out);

/* "GSM7", "GSM7_TR", "UCS2", or NULL for NONE. */
const char *iz_sms_enc_name(iz_sms_enc_t e);

/* Fold len bytes of UTF-8 into out (NUL-terminated; the result is never
 * longer than the input). Returns 0, IZ_EINVAL for invalid UTF-8 (out is
 * then ""), IZ_ETOOBIG when out has fewer than len + 1 bytes. */
int iz_smstext_fold(const char *in, size_t len, char *out, size_t outsz);

/* The longest opt-out instruction, NUL included. */
#define IZ_OPTOUT_MAX 192

/* A brand's opt-out instruction in Turkish. With a keyword and a short
 * number: "Ret için RET {KEYWORD} yazıp {SHORT} numarasına gönderin.";
 * else with a subscriber number: the same with that number (and the keyword
 * when there is one). The number is named with "numarasına" so that no
 * suffix has to follow a number's spoken ending. Returns 0, or
 * IZ_ENOTFOUND when the brand has no number to send an opt-out to (a
 * commercial message cannot then be sent), IZ_EINVAL for a keyword or
 * number with control characters, IZ_ETOOBIG when it does not fit. Empty
 * strings and NULL mean absent. */
int iz_smstext_optout(const char *keyword, const char *short_number, const char *subscriber_number,
                      char out[IZ_OPTOUT_MAX]);

/* Whether text already carries the opt-out: it contains instruction exactly,
 * or it names both what to write and where to send it - folded, the words
 * "ret <keyword>" (the word "ret" when the brand has no keyword) - and the
 * number, as a run of digits of its own ("4607'ye" counts, "14607" does
 * not) or written in groups ("0850 123 45 67", "+90 850 ..."). An
 * instruction without the number does not count: a reader would not know
 * where to send it. False for invalid UTF-8 or text over
 * IZ_SMSTEXT_MAX_BYTES, and when number is empty. */
bool iz_smstext_has_optout(const char *text, size_t len, const char *keyword, const char *number,
                           const char *instruction);

#endif

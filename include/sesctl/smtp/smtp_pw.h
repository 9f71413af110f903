/* smtp_pw.h - derive the Amazon SES SMTP password from an IAM secret key.
 *
 * Pure: HMAC-SHA256 and base64 through crypto.h, nothing else.
 *
 *   v4 (current):  kDate = HMAC("AWS4"+secret, "11111111"), then region,
 *                  "ses", "aws4_request", "SendRawEmail";
 *                  password = base64(0x04 || kMessage)       starts with 'B'
 *   v2 (legacy):   base64(0x02 || HMAC(secret, "SendRawEmail"))  starts with 'A'
 *                  SES answers 535 to v2 passwords; kept for old setups.
 */
#ifndef SESCTL_SMTP_PW_H
#define SESCTL_SMTP_PW_H

#include "sesctl/base/err.h"
#include "sesctl/base/secret.h"

/* Length of a derived password (base64 of 33 bytes). */
#define SMTP_PW_LEN 44

/* Derive the v4 password for `region` from `secret_key` into `out`
 * (allocated or reused; previous contents wiped).  SESCTL_ERR_INPUT for an
 * empty secret or region.  All intermediate keys are wiped. */
MUST_USE sesctl_err smtp_pw_v4(const struct secret *secret_key,
			       const char *region, struct secret *out);

/* Derive the legacy v2 password (region-independent) into `out`. */
MUST_USE sesctl_err smtp_pw_v2(const struct secret *secret_key,
			       struct secret *out);

/* What smtp_pw_check_secret() finds wrong with a would-be secret key.
 * The first group makes derivation pointless (an error); the second may
 * still be a valid key and earns a warning. */
#define SMTP_PW_SHAPE_EMPTY      0x01 /* nothing there */
#define SMTP_PW_SHAPE_TOO_LONG   0x02 /* over SMTP_PW_SHAPE_MAX_LEN bytes */
#define SMTP_PW_SHAPE_WHITESPACE 0x04 /* space, tab or line break inside */
#define SMTP_PW_SHAPE_CONTROL    0x08 /* other control characters */
#define SMTP_PW_SHAPE_KEY_ID     0x10 /* an access key id (AKIA/ASIA...) */
#define SMTP_PW_SHAPE_SMTP_PW    0x20 /* already an SMTP password */
#define SMTP_PW_SHAPE_LENGTH     0x40 /* not the usual 40 characters */
#define SMTP_PW_SHAPE_ALPHABET   0x80 /* characters outside A-Za-z0-9+/ */
#define SMTP_PW_SHAPE_ERRORS                                                 \
	(SMTP_PW_SHAPE_EMPTY | SMTP_PW_SHAPE_TOO_LONG |                      \
	 SMTP_PW_SHAPE_WHITESPACE | SMTP_PW_SHAPE_CONTROL |                  \
	 SMTP_PW_SHAPE_KEY_ID)

#define SMTP_PW_SHAPE_MAX_LEN 256
#define SMTP_PW_SECRET_KEY_LEN 40

/* Classify `secret_key` (a bit set of SMTP_PW_SHAPE_*; 0 = looks right). */
unsigned smtp_pw_check_secret(const struct secret *secret_key);

#endif

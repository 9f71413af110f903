/* record.h - the delivery record: what sesctl delivered, kept in the IAM
 * user's own tags, so that every run on every machine decides from the
 * same facts which access key an app holds.
 *
 *   SesctlCurrentKey  the key whose settings were last delivered and
 *                     recorded (written only after they were durably
 *                     written); never deleted except by the rotate that
 *                     replaces it, after its successor was delivered
 *   SesctlKeptKey     the key it replaced, kept on purpose: until the
 *                     rotate retires it, for --keep-old and
 *                     --deactivate-old, or when --verify failed
 *   SesctlRegions     the regions delivered ("eu-west-1 us-east-1")
 *   SesctlFormat      the --format delivered (env, json, ...)
 *   SesctlSecretsManager  the Secrets Manager secrets delivered to, after
 *                     their region: "eu-west-1 app/smtp other/smtp"
 *                     (only when there are some)
 *   SesctlSsmPath     the SSM parameter path delivered to, after its
 *                     region: "eu-west-1 /app/smtp" (only when there is one)
 *
 * Two fixed tags rather than one tag per key (the IAM console's
 * "description" convention) because IAM allows two keys per user: two
 * slots describe every state, TagUser rewrites both in one atomic call,
 * and nothing has to be untagged when a key goes.
 *
 * A key that neither tag names is "unrecorded": a run made it and has not
 * recorded it yet (it is delivering it right now, on this machine or
 * another), or the run died or lost CreateAccessKey's answer and nobody
 * holds its secret.  The grace rule tells them apart: an unrecorded key
 * younger than RECORD_GRACE_SECONDS is left alone; an older one is deleted
 * as undelivered by the next enable or rotate.  On one machine the run
 * lock's journal (runlock.h) tells at once which unrecorded key a dead
 * run of this machine made.
 *
 * Users recorded by sesctl before the record existed have no
 * SesctlRegions tag: "legacy".  Their keys all count as delivered (none is
 * deleted on the strength of a missing record); the first enable or rotate
 * writes the record.
 */
#ifndef SESCTL_RECORD_H
#define SESCTL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "sesctl/aws/iam.h"
#include "sesctl/aws/region.h"

#define RECORD_TAG_CURRENT "SesctlCurrentKey"
#define RECORD_TAG_KEPT "SesctlKeptKey"
#define RECORD_TAG_REGIONS "SesctlRegions"
#define RECORD_TAG_FORMAT "SesctlFormat"
#define RECORD_TAG_SECRETS "SesctlSecretsManager"
#define RECORD_TAG_SSM "SesctlSsmPath"
#define RECORD_STORES_MAX 256 /* an IAM tag value's limit */
/* How long an unrecorded key counts as "in flight": a run records its key
 * seconds after CreateAccessKey answers; the margin covers slow networks,
 * retries and the 5 minutes of clock skew SigV4 lets through. */
#define RECORD_GRACE_SECONDS 900
#define RECORD_REGIONS_MAX 16
#define RECORD_KEY_MAX IAM_XML_ID_MAX
#define RECORD_FORMAT_MAX 15

struct record {
	bool present; /* SesctlRegions is there: written by this sesctl */
	char current[RECORD_KEY_MAX + 1]; /* "" when none */
	char kept[RECORD_KEY_MAX + 1];
	char regions[RECORD_REGIONS_MAX][REGION_NAME_MAX + 1];
	size_t n_regions;
	char format[RECORD_FORMAT_MAX + 1]; /* "" when none */
	char secrets[RECORD_STORES_MAX + 1]; /* SesctlSecretsManager, "" */
	char ssm[RECORD_STORES_MAX + 1];     /* SesctlSsmPath, "" */
	/* The store tag was longer than sesctl writes: its value above is
	 * cut short, so never one to deliver to. */
	bool secrets_cut, ssm_cut;
};

enum key_role {
	KEY_CURRENT,   /* delivered, the app's */
	KEY_KEPT,      /* delivered earlier, kept on purpose */
	KEY_LEGACY,    /* no record on the user: counts as delivered */
	KEY_IN_FLIGHT, /* unrecorded, younger than the grace period */
	KEY_LOST,      /* unrecorded, older: nobody holds its secret */
};

/* Read the record from a user's tags (GetUser carries them).  A key,
 * region or format tag too long for its field reads as ""; a store tag
 * too long is kept cut short and flagged (secrets_cut, ssm_cut): read as
 * "", it would say the user has no store, and the settings would go to
 * standard output while a store still hands out the key rotate retires. */
void record_read(const struct iam_user *u, struct record *r);

/* What `k` is, by the record, at time `now`. */
enum key_role record_role(const struct record *r,
			  const struct iam_access_key_meta *k, time_t now);

/* Whether one of `keys` is the recorded current key: only then is an
 * unrecorded key past the grace period "lost".  Without that anchor (the
 * current key was deleted by hand, say; a kept key alone does not anchor,
 * as the app moved away from it) an unrecorded key may be the one an app
 * holds, and it counts as delivered (KEY_LEGACY). */
bool record_anchored(const struct record *r,
		     const struct iam_access_key_list *keys);

/* record_role, with the anchor taken into account. */
enum key_role record_role_in(const struct record *r,
			     const struct iam_access_key_list *keys,
			     const struct iam_access_key_meta *k, time_t now);

/* A short word for a role, for messages ("current", "kept", ...). */
const char *record_role_name(enum key_role role);

/* The tags that record `current` (and `kept`, may be NULL or "") as
 * delivered with `regions` in `format`: into tags[4], with their values in
 * `buf`.  Returns how many tags to send with TagUser. */
size_t record_tags(const char *current, const char *kept,
		   const char *const *regions, size_t n_regions,
		   const char *format, struct iam_tag_in tags[4], char *buf,
		   size_t buf_size);

/* Whether `region` is one of the recorded ones. */
bool record_has_region(const struct record *r, const char *region);

#endif

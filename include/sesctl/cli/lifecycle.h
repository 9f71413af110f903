/* lifecycle.h - what enable, rotate, disable and status share: the user's
 * name in IAM, the caller's credentials and the IAM client, the "managed
 * by sesctl" test, SMTP settings for a new key, and writing them out. */
#ifndef SESCTL_LIFECYCLE_H
#define SESCTL_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/cli/cli.h"
#include "sesctl/aws/creds.h"
#include "sesctl/aws/iam.h"
#include "sesctl/smtp/output.h"
#include "sesctl/smtp/record.h"
#include "sesctl/aws/region.h"
#include "sesctl/aws/secretsmanager.h"
#include "sesctl/aws/ssm.h"
#include "sesctl/base/runlock.h"

#define LC_PATH "/sesctl/"
#define LC_USER_PREFIX "sesctl-smtp"
#define LC_TAG_MANAGED_BY "ManagedBy"
#define LC_TAG_MANAGED_VALUE "sesctl"
#define LC_TAG_NAME "SesctlName"
#define LC_TAG_CURRENT_KEY RECORD_TAG_CURRENT
#define LC_HINT_MAX 1024
#define LC_SETTINGS_FILE_MAX 65536 /* an SMTP settings file sesctl reads */
#define LC_USER_MAX 64 /* CreateUser's UserName limit */
#define LC_KEY_MAX_AGE_DAYS 90

#define LC_STORES_MAX 8

/* One Secrets Manager secret this run delivers to (lc_store.c). */
struct lc_store {
	char id[SM_NAME_MAX + 1];   /* the name or ARN given or recorded */
	struct sm_secret_info info; /* DescribeSecret's, when `exists` */
	bool exists;
	bool created;   /* by this run, with the new key's settings */
	bool written;   /* this run wrote version `token` */
	bool committed; /* ... and it is AWSCURRENT */
	bool adopt;     /* not sesctl's: tagged just before the write */
	char prev[SM_VERSION_MAX + 1]; /* AWSCURRENT before this run's write */
	char token[SM_VERSION_MAX + 1]; /* the version it wrote */
};

#define LC_PARAMS_MAX 24 /* SSM parameters one delivery writes */

/* The secret stores of a run: --secrets-manager and --ssm-path, or the
 * recorded ones. */
struct lc_stores {
	struct sm_client sm;
	bool open;
	char region[REGION_NAME_MAX + 1];
	struct lc_store s[LC_STORES_MAX];
	size_t n;
	/* SSM: PATH/SMTP_HOST ... */
	struct ssm_client ssm;
	bool ssm_open;
	bool ssm_adopt;          /* tag what exists (--adopt) */
	bool planned;  /* a --dry-run plan writes them before any retire */
	bool lenient;  /* disable: a secret scheduled for deletion or not
			  the user's is left alone, not refused */
	char ssm_path[SSM_NAME_MAX + 1]; /* "" when none */
	struct ssm_param_list before; /* what was under it, read at open */
	/* ... and which of its SMTP_* carry the owner tags (ManagedBy=sesctl,
	 * SesctlUser=the user): only those are the user's to overwrite or
	 * delete, whatever the record says. */
	bool before_ours[SSM_PARAMS_MAX];
	char written[LC_PARAMS_MAX][SSM_NAME_MAX + 64]; /* by this run */
	bool written_new[LC_PARAMS_MAX]; /* ... and made by it */
	size_t n_written;
};

/* One lifecycle command's working state. */
struct lc {
	struct ctx *ctx;
	const struct opts *o;
	struct creds cr;
	struct iam_client iam;
	bool iam_open;
	char user[LC_USER_MAX + 1]; /* the IAM user name */
	char name[LC_USER_MAX + 1]; /* its SesctlName tag */
	const char *regions[OPT_VALUES_MAX];
	size_t n_regions;
	char region_buf[CREDS_REGION_MAX + 1]; /* from the environment */
	const struct partition_info *partition;
	const struct output_format *fmt; /* with LC_NEEDS_REGION */
	/* The Secret's name and namespace ("": none) with k8s-secret: set
	 * by lc_k8s_names. */
	char k8s_name[K8S_NAME_MAX + 1];
	char k8s_namespace[K8S_NAMESPACE_MAX + 1];
	bool regions_given;  /* by --region, not from the environment */
	struct record rec;   /* read by lc_read_user */
	struct runlock lock; /* taken by lc_lock */
	bool locked;
	char hint[4][LC_HINT_MAX]; /* lc_cmd's answers */
	char status_cmd[LC_HINT_MAX]; /* for the IAM client's hints */
	unsigned hint_next;
	long hook_timeout_s; /* --deploy-hook-timeout, by lc_check_hook_opts */
	struct lc_stores st; /* lc_stores_*: empty unless asked for */
	bool plan_json; /* --dry-run --format json: lc_plan collects */
	char **plan;    /* the plan's lines, for lc_plan_done */
	size_t n_plan;
};

#define LC_NEEDS_REGION 0x1 /* SMTP settings are made: a region is a must */
#define LC_REGION_LATER 0x2 /* ... but it may come from the record */

/* Work out the user name (--name / --user-name), the region(s), the
 * caller's credentials, and open the IAM client.  Release with lc_close
 * whatever happened. */
MUST_USE sesctl_err lc_open(struct lc *lc, struct ctx *ctx,
			    const struct opts *o, unsigned flags);
void lc_close(struct lc *lc);

/* Whether `u` carries ManagedBy=sesctl. */
bool lc_is_managed(const struct iam_user *u);

/* The tags that make a user sesctl's: ManagedBy=sesctl and, when lc's
 * name may be a tag value, SesctlName; returns how many. */
size_t lc_managed_tags(const struct lc *lc, struct iam_tag_in tags[2]);

/* Tags as a --dry-run plan writes them, "Key=Value,Key=Value", into buf
 * (cut short at `size`); returns buf. */
#define LC_TAGS_TEXT_MAX 1024
const char *lc_tags_text(const struct iam_tag_in *tags, size_t n, char *buf,
			 size_t size);

/* The user (GetUser) and its keys (ListAccessKeys) at once: one round
 * trip.  Returns GetUser's result (SESCTL_ERR_NOT_FOUND: no such user);
 * the keys' is left in rd[1], for iam_read_result once the user's was
 * looked at (the order the calls used to be made in). */
MUST_USE sesctl_err lc_read_user_keys(struct lc *lc, struct iam_user_result *u,
				      struct iam_access_key_list *keys,
				      struct iam_read rd[2]);

/* --adopt: tag lc's user as sesctl's (or, dry, plan it). */
MUST_USE sesctl_err lc_adopt(struct lc *lc, bool dry);

/* The value of tag `key` on `u`, or NULL. */
const char *lc_tag(const struct iam_user *u, const char *key);

/* Which of `keys` is the newest: the one named by the user's
 * SesctlCurrentKey tag (`current`, may be NULL) if present, else the one
 * with the latest CreateDate.  -1 when two share the latest date and no
 * tag decides (IAM dates have whole seconds only). */
long lc_newest_key(const struct iam_access_key_list *keys,
		   const char *current);

/* The account id from an IAM ARN ("arn:aws:iam::123456789012:user/x")
 * into out (13 bytes); false if the ARN has none. */
bool lc_account_of(const char *arn, char *out, size_t size);

/* Check every region's shape (usage error with a hint) and warn about the
 * ones the endpoint table does not vouch for. */
MUST_USE sesctl_err lc_check_regions(struct lc *lc);

/* A usage error when --k8s-name or --k8s-namespace is not a valid
 * Kubernetes name (naming the rule it breaks). */
MUST_USE sesctl_err lc_check_k8s_opts(struct ctx *ctx, const struct opts *o);

/* Once lc->fmt is final: with k8s-secret, the Secret's name and namespace
 * from --k8s-name/--k8s-namespace, else the ones of `file` (the settings
 * being replaced, may be NULL) when it is a Secret, else the IAM user name
 * and no namespace; a usage error when one is not a valid Kubernetes name
 * (naming the rule), or when they are given with another format. */
MUST_USE sesctl_err lc_k8s_names(struct lc *lc,
				 const struct smtp_settings *file);

/* Render the SMTP settings of key `key_id` with `secret_key` for every
 * region in the --format chosen (env by default) into `out`. */
MUST_USE sesctl_err lc_render(struct lc *lc, const char *key_id,
			      const struct secret *secret_key,
			      struct secret *out);

/* The same, as a secret store's value (output_store_format). */
MUST_USE sesctl_err lc_render_store(struct lc *lc, const char *key_id,
				    const struct secret *secret_key,
				    struct secret *out);

/* ---- secret stores (lc_store.c) --------------------------------------
 * A run that delivers to Secrets Manager: lc_stores_open once the regions
 * are known (the ids from --secrets-manager, else the record's; their
 * region from --store-region, the record, or the first --region), then,
 * with the new key, lc_stores_write (a new secret is created holding it as
 * AWSCURRENT; an existing one gets it as AWSPENDING, or as AWSCURRENT
 * right away when `now`), lc_stores_commit (AWSCURRENT moved to it,
 * AWSPREVIOUS keeps the old settings) or lc_stores_undo.  A secret sesctl
 * did not make for this user (tags ManagedBy=sesctl, SesctlUser), or
 * SSM parameters not tagged so, are refused unless --adopt.  The record
 * is only tags anyone with iam:TagUser may edit: a store it names that
 * this run's options do not is written only if it is there and the
 * user's (a missing secret, or a path with no SMTP_* parameter, is
 * refused, never created), and a record tag sesctl did not write is
 * refused, never read as "no stores". */

/* Whether this run delivers to secret stores (Secrets Manager, SSM). */
bool lc_stores_wanted(const struct lc *lc);
MUST_USE sesctl_err lc_stores_open(struct lc *lc, bool adopt, bool dry);
MUST_USE sesctl_err lc_stores_write(struct lc *lc, const char *key_id,
				    const struct secret *secret_key, bool now);
MUST_USE sesctl_err lc_stores_commit(struct lc *lc);
/* The same as steps of a --dry-run plan. */
MUST_USE sesctl_err lc_stores_plan(struct lc *lc, bool now);
MUST_USE sesctl_err lc_stores_plan_commit(struct lc *lc);
/* Take back what lc_stores_write did (a secret it created is deleted, a
 * pending version unstaged); failures are warnings. */
void lc_stores_undo(struct lc *lc);
/* Before key `key_id` is retired: no secret may still hand it out as
 * AWSCURRENT.  A secret whose AWSPENDING holds the recorded current key
 * (a rotation that stopped before the switch) is switched now; one that
 * holds neither refuses the retirement. */
MUST_USE sesctl_err lc_stores_release_key(struct lc *lc, const char *key_id,
					   bool dry);
/* disable: delete the recorded secrets sesctl made for the user and the
 * SMTP_* parameters it wrote for the user; others are left, with a
 * warning. */
MUST_USE sesctl_err lc_stores_delete(struct lc *lc, bool dry);
/* The SesctlSecretsManager record tag's value into buf ("" if none). */
MUST_USE sesctl_err lc_stores_tag(const struct lc *lc, char *buf,
				  size_t size);
/* The SesctlSsmPath record tag's value into buf ("" if none). */
void lc_stores_ssm_tag(const struct lc *lc, char *buf, size_t size);
/* Whether the run delivers somewhere a secret store (no stdout then). */
bool lc_stores_any(const struct lc *lc);
/* Whether `p` is an SSM parameter path sesctl writes under: "/a/b", no
 * "//", no "/" at the end, the characters SSM allows. */
bool lc_ssm_path_ok(const char *p);
/* The region an ARN names ("arn:aws:secretsmanager:REGION:..."), into
 * out[size]; false for a name. */
bool lc_arn_region(const char *id, char *out, size_t size);
void lc_stores_close(struct lc *lc);

/* Write rendered settings where the user asked: --output-file (created,
 * or with `replace` swapped in atomically) or stdout; durably either way.
 * `what` names them in messages. */
MUST_USE sesctl_err lc_write(struct lc *lc, const struct secret *content,
			     bool replace);

/* Delete a key sesctl just created whose secret could not be delivered,
 * so that no key is left whose secret nobody holds.  Keeps the error
 * already in ctx->err and adds what happened to the key. */
sesctl_err lc_undo_key(struct lc *lc, const char *key_id, sesctl_err why,
		       bool *deleted);

/* A key a run takes for one whose secret was lost (its own lost
 * CreateAccessKey's, or a dead run's of this machine) may be another
 * machine's, delivered and about to be recorded.  So it is deleted only
 * when it is still there and still unrecorded LC_SETTLE_MS after it was
 * first seen so.  A run that recorded its new key less than
 * LC_RECORD_SOON_MS after it asked IAM for it therefore knows that no such
 * run deleted it (the rest of LC_SETTLE_MS covers IAM's propagation of
 * the record); rotate then retires the old key without reading the keys
 * once more. */
#define LC_SETTLE_MS 5000L
#define LC_RECORD_SOON_MS 2000L

/* Milliseconds on a clock that counts a suspended machine too. */
long lc_clock_ms(void);

/* After a CreateAccessKey whose answer was lost, or that libcurl sent
 * twice: delete the access key of the user that is neither in `before`
 * (NULL: the user had none), nor `keep` (the new key whose secret arrived;
 * NULL: none did), nor recorded (read after the keys), and is so still
 * LC_SETTLE_MS later.  IAM made it, and its secret is lost.  More than one
 * such key, or one recorded meanwhile: another run (on another machine) is
 * making keys too, and which is whose cannot be told, so none is deleted:
 * SESCTL_ERR_CONFLICT.  *dropped counts the deleted keys.  When listing or
 * deleting fails, ctx->err says so and how to delete the key by hand. */
MUST_USE sesctl_err lc_drop_new_keys(struct lc *lc,
				     const struct iam_access_key_list *before,
				     const char *keep, size_t *dropped);

/* "sesctl smtp <sub>" with the --name/--user-name, --profile, --region,
 * --endpoint-url and --ca-bundle this run was given, shell-quoted: a
 * command that works when pasted.  The answer lives in lc (the last four
 * stay valid). */
const char *lc_cmd(struct lc *lc, const char *sub);
/* The same for another user than lc's (status --all): --user-name USER
 * (NULL: as lc_cmd). */
const char *lc_cmd_user(struct lc *lc, const char *sub, const char *user);

/* lc_cmd(lc, sub) and every other option this run was given (its
 * --output-file, --format, --keep-old, ...): the same command again. */
const char *lc_rerun(struct lc *lc, const char *sub);

/* Take the run lock for the user (runlock.h). */
MUST_USE sesctl_err lc_lock(struct lc *lc);

/* Set the regions from `regions` (the record or a file), with the usual
 * checks. */
MUST_USE sesctl_err lc_set_regions(struct lc *lc, const char *const *regions,
				   size_t n);

/* What an interrupted run, or a lost answer, left among `keys`: every
 * unrecorded key a dead run of this machine made (the journal says so)
 * or older than the grace period is deleted and dropped from `keys`,
 * unless its settings are in the dead run's output file: then its id goes
 * to `delivered` (size RECORD_KEY_MAX + 1; "" if none) and it stays.
 * Keys in flight are counted in *in_flight. */
MUST_USE sesctl_err lc_reconcile(struct lc *lc,
				 struct iam_access_key_list *keys,
				 char *delivered, size_t *in_flight);

/* Write the delivery record: `current` delivered, `kept` (may be NULL)
 * kept, with lc's regions and format. */
MUST_USE sesctl_err lc_record(struct lc *lc, const char *current,
			      const char *kept);
/* The same as a step of a --dry-run plan (lc_plan). */
MUST_USE sesctl_err lc_plan_record(struct lc *lc, const char *current,
				   const char *kept);

/* CreateAccessKey, with a lost answer resolved by reading back: a key IAM
 * made whose secret never arrived is deleted and the call made again
 * (once).  `before` are the user's keys before (NULL: none). */
MUST_USE sesctl_err lc_create_key(struct lc *lc,
				  const struct iam_access_key_list *before,
				  const char *rerun,
				  struct iam_access_key *key);

/* lc_create_key (no keys before) while sesctl's policy `document` is
 * written as `policy_name` (PutUserPolicy), both at once.  Fails with the
 * policy's error if it is not written; a key made meanwhile is then
 * deleted again (lc->iam.outcome_unknown set if that failed). */
MUST_USE sesctl_err lc_create_key_with_policy(struct lc *lc,
					      const char *policy_name,
					      const char *document,
					      const char *rerun,
					      struct iam_access_key *key);

/* Read settings sesctl wrote back from `path`: SESCTL_ERR_NOT_FOUND when
 * there is no such file.  Release `out` with output_settings_release. */
MUST_USE sesctl_err lc_read_settings(struct lc *lc, const char *path,
				     struct smtp_settings *out);

/* Whether the settings file at `path` names key `id` as its SMTP user
 * (leaves ctx->err as it was). */
bool lc_file_names_key(struct lc *lc, const char *path, const char *id);

/* `path` made absolute for the journal (another run may start in another
 * directory): its directory resolved with realpath(3), else the working
 * directory put in front.  Fails (usage) when it does not fit. */
MUST_USE sesctl_err lc_abs_path(struct lc *lc, const char *path, char *out,
				size_t size);

/* Run the --deploy-hook, if one was given, for the delivered key `key_id`
 * (hook.h): SESCTL_USER, SESCTL_KEY_ID, SESCTL_REGIONS and, with
 * --output-file, SESCTL_OUTPUT_FILE (absolute) in its environment. */
MUST_USE sesctl_err lc_deploy_hook(struct lc *lc, const char *key_id);

/* Check --deploy-hook and --deploy-hook-timeout (before lc_deploy_hook). */
MUST_USE sesctl_err lc_check_hook_opts(struct lc *lc);

/* Print a planned IAM call for --dry-run on stdout: "Action Param=value
 * ..." or "# what happens in between".  Under --format json the lines
 * are kept for lc_plan_done. */
MUST_USE sesctl_err lc_plan(struct lc *lc, const char *fmt, ...)
	PRINTF_LIKE(2, 3);

/* The end of a dry run that met no refusal: under --format json, the
 * plan as one JSON object (output_plan_json); otherwise nothing. */
MUST_USE sesctl_err lc_plan_done(struct lc *lc, const char *command);

/* Region checks shared with derive (cmd_smtp.c). */
MUST_USE sesctl_err smtp_check_region(struct ctx *ctx, const char *region);
void smtp_warn_region(struct ctx *ctx, const char *region, const char *host);
/* Settings for a region where AWS says SES has no SMTP endpoint would name
 * a host that does not exist: a usage error naming nearby regions that
 * have one.  (Regions sesctl does not know pass: see smtp_warn_region.) */
MUST_USE sesctl_err smtp_refuse_no_endpoint(struct ctx *ctx,
					    const char *region,
					    const char *escape);

#endif

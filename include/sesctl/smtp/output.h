/* output.h - the SMTP settings in the formats programs consume.
 *
 * With creds (credential_process's JSON), the only module that includes
 * cJSON; both use the wiping allocator output_init() installs.  Rendered
 * output contains the SMTP password, so it is built in a struct secret and
 * written with ctx_write_out(); no other copy is made (the password goes
 * into cJSON as a string reference and is printed with
 * cJSON_PrintPreallocated).
 */
#ifndef SESCTL_OUTPUT_H
#define SESCTL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/base/err.h"
#include "sesctl/aws/region.h"
#include "sesctl/base/secret.h"

/* One set of SMTP settings. */
struct smtp_creds {
	const char *region;
	const char *host;
	int port;
	const char *user;               /* the access key id; NULL if unknown */
	const struct secret *password;
};

#define OUTPUT_NEEDS_USER 0x1 /* the format makes no sense without a user */
#define OUTPUT_NEEDS_K8S_NAME 0x2 /* k8s-secret: output_meta's k8s_name */

/* Kubernetes' limits: an object name is a DNS-1123 subdomain, a namespace
 * a DNS-1123 label. */
#define K8S_NAME_MAX 253
#define K8S_NAMESPACE_MAX 63
/* The label on every Secret sesctl writes (Kubernetes' recommended
 * labels). */
#define K8S_MANAGED_BY_LABEL "app.kubernetes.io/managed-by"
#define K8S_MANAGED_BY_VALUE "sesctl"

/* What a format needs besides the settings (NULL: nothing). */
struct output_meta {
	const char *k8s_name;      /* the Secret's metadata.name */
	const char *k8s_namespace; /* its metadata.namespace; NULL: none */
};

struct output_format {
	const char *name;
	sesctl_err (*render)(const struct smtp_creds *c, size_t n,
			     const struct output_meta *meta,
			     struct secret *out);
	unsigned flags;
	const char *description;
};

/* The "schema" of --format json settings. */
#define JSON_SETTINGS_SCHEMA "sesctl/smtp-settings/1"

/* The format called `name`, or NULL. */
const struct output_format *output_lookup(const char *name);

/* The value sesctl writes to a secret store (not a --format): one JSON
 * object with the env format's keys and SMTP_REGION. */
const struct output_format *output_store_format(void);

/* All formats, in the order --help lists them; the first is the default. */
const struct output_format *output_formats(size_t *count);

/* Render `n` sets of settings (one per region, same user) in format `fmt`
 * into `out` (replacing its contents).  One region: SMTP_HOST=... lines,
 * one JSON object, one postfix line, a Secret with those keys in
 * stringData.  Several: SMTP_USER once, then SMTP_HOST_<REGION>=...
 * (region upper-cased, '-' as '_'), a JSON array, one postfix line each.
 * SESCTL_ERR_INPUT if the format needs a user and `c` has none, needs a
 * Kubernetes name and `meta` gives no valid one (or an invalid
 * namespace), a value cannot be written in the format, or n is 0. */
MUST_USE sesctl_err output_render(const struct output_format *fmt,
				  const struct smtp_creds *c, size_t n,
				  const struct output_meta *meta,
				  struct secret *out);

/* ---- Kubernetes names and YAML (output_k8s.c) ------------------------
 * Whether `s` is a valid Kubernetes object name: a DNS-1123 subdomain
 * (`label` false: at most 253 of a-z 0-9 '-' '.', every dot-separated
 * part starting and ending with a-z or 0-9) or a DNS-1123 label, as a
 * namespace must be (`label` true: at most 63 of a-z 0-9 '-', starting
 * and ending with a-z or 0-9). */
bool output_k8s_name_ok(const char *s, bool label);
#define K8S_SUBDOMAIN_RULE                                                   \
	"a DNS-1123 subdomain: at most 253 characters of a-z, 0-9, '-' and "  \
	"'.', each part between dots starting and ending with a-z or 0-9"
#define K8S_LABEL_RULE                                                       \
	"a DNS-1123 label: at most 63 characters of a-z, 0-9 and '-', "       \
	"starting and ending with a-z or 0-9"

/* Append `s` to `o` as a YAML double-quoted scalar: '"' and '\\' escaped,
 * control characters (C0, DEL, C1) as \xHH, U+2028, U+2029, U+FEFF and
 * the non-characters U+FFFE/U+FFFF as \uHHHH, everything else as it is.
 * SESCTL_ERR_INPUT when `s` is not UTF-8 (YAML has no way to write
 * bytes). */
MUST_USE sesctl_err output_yaml_quote(struct secret *o, const char *s);

/* Undo output_yaml_quote: `p` (len bytes) must be exactly one
 * double-quoted scalar as it writes them (the escapes \" \\ \xHH \uHHHH,
 * nothing after the closing quote); the value goes to `out`.  *ok false
 * when it is not. */
MUST_USE sesctl_err output_yaml_unquote(const char *p, size_t len,
					struct secret *out, bool *ok);

/* Make cJSON's allocations wiped when freed (main calls it first: parsed
 * JSON can hold a password or a secret key). */
void output_init(void);

/* ---- reading SMTP settings back -------------------------------------- */
#define SMTP_SETTINGS_MAX 64
#define SMTP_USER_MAX 128

/* One set of SMTP settings read back. */
struct smtp_setting {
	char suffix[REGION_NAME_MAX + 2];  /* "_EU_WEST_1" in a multi-region
					      env file, else "" */
	char host[REGION_HOST_MAX];        /* "" when not given */
	char region[REGION_NAME_MAX + 1];  /* of an email-smtp.<r>. host */
	int port;                          /* 0 when not given */
	char user[SMTP_USER_MAX + 1];
	struct secret password;
};

struct smtp_settings {
	struct smtp_setting item[SMTP_SETTINGS_MAX];
	size_t n;
	/* The format the text is in (output_lookup()'s "env", "export",
	 * "dotenv", "json", "postfix" or "k8s-secret"), so that
	 * output_render() with it writes the same kind of file again.  JSON,
	 * postfix and a Secret (apiVersion: first) are told by their syntax;
	 * NAME=VALUE lines by the first SMTP_* line: "export " before it is
	 * export, a double-quoted value dotenv, else env. */
	const struct output_format *format;
	/* A k8s-secret's metadata.name and namespace ("": none). */
	char k8s_name[K8S_NAME_MAX + 1];
	char k8s_namespace[K8S_NAMESPACE_MAX + 1];
};

/* Parse `text` (env, export, dotenv, json, postfix or k8s-secret, as
 * output_render writes them) into `out`, which must be zeroed.  A Secret
 * is read strictly: exactly the lines sesctl writes, in its order, or
 * SESCTL_ERR_INPUT.  The settings come in the
 * order the text gives them (for output_render's multi-region text: the
 * order of its regions); each one's region is that of an SES host, else a
 * JSON "region" field, else the env suffix ("_EU_WEST_1").  `source` names the input
 * in messages ("'/etc/app/smtp.env'", "standard input").  SESCTL_ERR_INPUT
 * with a message in `err` when no user and password can be found; messages
 * never quote a line (it may hold the password). */
MUST_USE sesctl_err output_parse(struct err_info *err, const char *text,
				 size_t len, const char *source,
				 struct smtp_settings *out);
void output_settings_release(struct smtp_settings *s);

/* ---- the IAM policy sesctl writes ------------------------------------
 *   {"Version":"2012-10-17","Statement":[{"Effect":"Allow",
 *    "Action":"ses:SendRawEmail","Resource":"*"}]}
 * Identities narrow Resource to arn:<partition>:ses:<region>:<account>:
 * identity/<identity> for every region; from-addresses add
 * {"StringLike":{"ses:FromAddress":...}}.  One value is written as a
 * string, several as an array. */
struct policy_spec {
	const char *partition;                /* "aws", "aws-cn", ... */
	const char *account;                  /* needed with identities */
	const char *const *regions;           /* with identities */
	size_t n_regions;
	const char *const *identities;
	size_t n_identities;
	const char *const *from;              /* ses:FromAddress patterns */
	size_t n_from;
};

#define POLICY_NAME "sesctl-ses-send"

/* The document for `spec`, minified; *out is malloc'd. */
MUST_USE sesctl_err output_policy(const struct policy_spec *spec, char **out);

/* Whether `doc` is a policy sesctl writes (for some identities, regions
 * and from-addresses: the document is rebuilt from what it says and must
 * come out the same), and a one-line description of what it allows in
 * `desc`.  A document that is not JSON is simply not a match. */
MUST_USE sesctl_err output_policy_check(const char *doc, bool *matches,
					char *desc, size_t desc_size);

/* Whether the policy `doc` lets SES send in `region`: false only when
 * every Resource it names is an SES identity ARN of other regions (as
 * --identity makes them); anything sesctl cannot read counts as yes. */
bool output_policy_allows_region(const char *doc, const char *region);

/* What a policy document allows beyond sending mail: each allowed action
 * other than ses:SendRawEmail and ses:SendEmail ("s3:*", "*"), each
 * NotAction of an Allow ("NotAction ses:SendEmail": all but that), or
 * "not valid JSON"; at most POLICY_BEYOND_MAX, `more` when there were
 * more. */
#define POLICY_BEYOND_MAX 16
#define POLICY_BEYOND_LEN 128
struct policy_beyond {
	char what[POLICY_BEYOND_MAX][POLICY_BEYOND_LEN];
	size_t n;
	bool more;
};
void output_policy_beyond(const char *doc, struct policy_beyond *b);

/* The scope a policy sesctl wrote (perhaps changed since) gives sending:
 * the SES identities of its Resource ARNs (with their partition, account
 * and regions) and its ses:FromAddress patterns, gathered from every
 * statement whatever its Action or Effect now says; for `enable --repair`
 * to write the policy again as it was meant. */
#define POLICY_SCOPE_MAX 16
struct policy_scope {
	char partition[16], account[16];
	char regions[POLICY_SCOPE_MAX][32];
	char identities[POLICY_SCOPE_MAX][256];
	char from[POLICY_SCOPE_MAX][256];
	size_t n_regions, n_identities, n_from;
};
void output_policy_scope(const char *doc, struct policy_scope *s);

/* Whether policy document `doc` allows ses:SendRawEmail to some resource
 * (an Allow whose Action matches it, wildcards and case aside, or whose
 * NotAction does not); Deny statements and conditions are not weighed. */
bool output_policy_allows_send(const char *doc);

/* ---- a policy for the caller (sesctl smtp caller-policy) --------------
 * One Allow statement: its Sid, its actions and its resources (one value
 * is written as a string, several as an array). */
struct policy_statement {
	const char *sid;
	const char *const *actions;
	size_t n_actions;
	const char *const *resources;
	size_t n_resources;
};

/* {"Version":"2012-10-17","Statement":[...]} of `n` statements, pretty
 * (4 spaces, one array element a line) and ending in a newline; *out is
 * malloc'd. */
MUST_USE sesctl_err output_policy_document(const struct policy_statement *st,
					   size_t n, char **out);

/* ---- status as JSON ------------------------------------------------- */

struct status_key {
	const char *id, *status, *created;
	long age_days;
	const char *last_used;     /* ISO date, NULL: never used */
	const char *last_service, *last_region;
	const char *role; /* by the delivery record; NULL: no record */
};

/* A warning of status: a stable code ("key-old"), "warning" or
 * "critical", and what to do about it. */
struct status_warning {
	const char *code, *severity, *message;
};

/* An inline policy of the user (not sesctl's). */
struct status_policy {
	const char *name, *document; /* document NULL: could not be read */
};

/* What status could not read, and the permission that would reveal it. */
struct status_unknown {
	const char *what, *permission, *error;
};

struct status_report {
	const char *user, *arn, *path, *created;
	bool managed;
	/* "sesctl" (made by sesctl), "adopted" (taken over), "ses-console"
	 * (made by the SES console, not taken over) or "other" */
	const char *origin;
	const char *const *tag_keys, *const *tag_values;
	size_t n_tags;
	const char *policy_name;
	bool policy_present, policy_matches;
	const char *policy_desc;
	struct status_key *keys;
	size_t n_keys;
	const char *region, *smtp_host; /* NULL without a region */
	int smtp_port;
	const struct status_warning *warnings;
	size_t n_warnings;
	/* Everything else attached to the user; *_known false: unknown
	 * (see `unknown`). */
	const struct status_policy *inline_policies; /* besides sesctl's */
	size_t n_inline;
	bool inline_known;
	const char *const *attached_arns;
	size_t n_attached;
	bool attached_known;
	const char *const *groups;
	size_t n_groups;
	bool groups_known;
	int login_profile; /* 1 yes, 0 no, -1 unknown */
	/* signing certificates, SSH public keys, service-specific
	 * credentials, MFA devices: -1 unknown */
	long n_certs, n_ssh, n_service_creds, n_mfa;
	int least_privilege; /* 1 yes, 0 no, -1 unknown */
	const char *const *beyond; /* what it allows beyond sending mail */
	size_t n_beyond;
	const struct status_unknown *unknown;
	size_t n_unknown;
};

/* A dry run's plan as one JSON object (`--dry-run --format json`):
 * {"schema":"sesctl/plan/1","command":..,"user":..,"steps":[..]}, each
 * line "Action Param=value ..." a step {"action":..,"params":{..}} (a
 * value runs to the next " Param=" with Param in CamelCase), each line
 * "# text" a step {"note":"text"}; *out malloc'd, with a final newline. */
MUST_USE sesctl_err output_plan_json(const char *command, const char *user,
				     const char *const *lines, size_t n,
				     char **out);

/* A failure as one JSON line for stderr under --format json:
 * {"schema":"sesctl/error/1","error":{"code":..,"exit":..,"message":..}};
 * *out malloc'd, with a final newline. */
MUST_USE sesctl_err output_error_json(const char *kind, int exit_code,
				      const char *message, char **out);

/* One JSON object (`sesctl smtp status --format json`); *out malloc'd,
 * with a final newline. */
MUST_USE sesctl_err output_status_json(const struct status_report *r,
				       char **out);
/* `status --all --format json`: {"schema":"sesctl/status-list/1",
 * "users":[...],"unreadable":[{"user":..,"error":..}]}, each user the
 * object output_status_json gives; unreadable, the users status could not
 * read (bad_users[i], with bad_errors[i]). */
MUST_USE sesctl_err output_status_list_json(const struct status_report *const *r,
					    size_t n,
					    const char *const *bad_users,
					    const char *const *bad_errors,
					    size_t n_bad, char **out);

#endif

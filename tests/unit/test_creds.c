/* test_creds.c - the caller's credentials: env and shared-file providers,
 * profile and region precedence, the file parser and its errors;
 * credential_process (real child processes), the assume-role settings
 * checked before STS is called, the container and instance metadata
 * settings, and the STS endpoint choice.  Talking to STS, a container
 * endpoint and IMDS is tested end to end in
 * tests/integration/test_creds_sources.py.
 *
 * The environment is never touched: creds_opts.env is a stand-in reading
 * a small table, so tests cannot leak variables into each other and do
 * not depend on the variables of whoever runs them.  Every test gets a
 * fresh mkdtemp() directory as $HOME with an empty .aws/ in it.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sesctl/aws/creds.h"
#include "sesctl/aws/sts.h"

#define KEY_ID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define KEY_ID2 "AKIAI44QH8DHBEXAMPLE"
#define SECRET2 "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
#define TOKEN "IQoJb3JpZ2luX2VjEXAMPLETOKEN+/="

/* ---- the stand-in environment ---- */

#define ENV_MAX 40
static struct {
	const char *name, *value;
} env_tab[ENV_MAX];
static size_t env_n;

static const char *fake_env(const char *name)
{
	size_t i;

	for (i = 0; i < env_n; i++)
		if (strcmp(env_tab[i].name, name) == 0)
			return env_tab[i].value;
	return NULL;
}

static void env_set(const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < env_n; i++)
		if (strcmp(env_tab[i].name, name) == 0)
			break;
	assert_true(i < ENV_MAX);
	env_tab[i].name = name;
	env_tab[i].value = value;
	if (i == env_n)
		env_n++;
}

/* ---- per-test directory, context and result ---- */

static struct {
	char dir[64];
	char log[128];
	struct ctx ctx;
	struct creds c;
	struct creds_region r;
	struct creds_opts o;
} fx;

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	char aws[128];

	(void)state;
	memset(&fx, 0, sizeof(fx));
	strcpy(fx.dir, "/tmp/test_creds.XXXXXX");
	assert_non_null(mkdtemp(fx.dir));
	snprintf(aws, sizeof(aws), "%s/.aws", fx.dir);
	assert_int_equal(mkdir(aws, 0700), 0);
	env_n = 0;
	env_set("HOME", fx.dir);
	/* No test talks to 169.254.169.254 unless it asks to. */
	env_set("AWS_EC2_METADATA_DISABLED", "true");
	ctx_init(&fx.ctx);
	snprintf(fx.log, sizeof(fx.log), "%s/stderr.log", fx.dir);
	fx.ctx.err_fd = open(fx.log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND,
			     0600);
	assert_true(fx.ctx.err_fd >= 0);
	fx.o.env = fake_env;
	creds_init(&fx.c);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	creds_release(&fx.c);
	close(fx.ctx.err_fd);
	nftw(fx.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void path_of(char *out, size_t size, const char *rel)
{
	int n = snprintf(out, size, "%s/%s", fx.dir, rel);

	assert_true(n > 0 && (size_t)n < size);
}

static void write_bytes(const char *rel, const void *p, size_t len)
{
	char path[256];
	FILE *f;

	path_of(path, sizeof(path), rel);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_file(const char *rel, const char *text)
{
	write_bytes(rel, text, strlen(text));
}

#define CREDENTIALS ".aws/credentials"
#define CONFIG ".aws/config"

static sesctl_err resolve(const char *profile)
{
	fx.o.profile = profile;
	return creds_resolve(&fx.ctx, &fx.o, &fx.c);
}

static void assert_msg_has(const char *frag)
{
	if (!strstr(fx.ctx.err.msg, frag))
		fail_msg("message \"%s\" lacks \"%s\"", fx.ctx.err.msg, frag);
}

static void assert_msg_lacks(const char *frag)
{
	if (strstr(fx.ctx.err.msg, frag))
		fail_msg("message \"%s\" has \"%s\"", fx.ctx.err.msg, frag);
}

/* The message starts "'<dir>/<rel>' line <n>:". */
static void assert_msg_at(const char *rel, unsigned line)
{
	char want[300];

	snprintf(want, sizeof(want), "'%s/%s' line %u:", fx.dir, rel, line);
	if (strncmp(fx.ctx.err.msg, want, strlen(want)) != 0)
		fail_msg("message \"%s\" does not start \"%s\"",
			 fx.ctx.err.msg, want);
}

static void assert_creds(const char *id, const char *secret, const char *token,
			 const char *provider)
{
	assert_string_equal(fx.c.access_key_id, id);
	assert_string_equal(secret_str(&fx.c.secret_key), secret);
	assert_string_equal(secret_str(&fx.c.session_token), token ? token : "");
	assert_int_equal(fx.c.session_token.len, token ? strlen(token) : 0);
	assert_non_null(fx.c.provider);
	assert_string_equal(fx.c.provider, provider);
}

static void assert_empty(const struct creds *c)
{
	assert_string_equal(c->access_key_id, "");
	assert_null(c->secret_key.p);
	assert_int_equal(c->secret_key.len, 0);
	assert_null(c->session_token.p);
	assert_int_equal(c->session_token.len, 0);
	assert_null(c->provider);
	assert_string_equal(c->source, "");
}

static char *read_log(void)
{
	return read_text_file(fx.log, NULL);
}

static const char *const profile_x_creds =
	"[x]\naws_access_key_id = " KEY_ID2 "\naws_secret_access_key = " SECRET2 "\n";

/* ---- environment provider ---- */

static void test_creds_env_full(void **state)
{
	(void)state;
	env_set("AWS_ACCESS_KEY_ID", KEY_ID);
	env_set("AWS_SECRET_ACCESS_KEY", SECRET);
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "env");
	assert_string_equal(fx.c.source, "environment");
}

static void test_creds_env_with_token(void **state)
{
	(void)state;
	env_set("AWS_ACCESS_KEY_ID", "ASIAIOSFODNN7EXAMPLE");
	env_set("AWS_SECRET_ACCESS_KEY", SECRET);
	env_set("AWS_SESSION_TOKEN", TOKEN);
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds("ASIAIOSFODNN7EXAMPLE", SECRET, TOKEN, "env");

	/* botocore's order: the legacy AWS_SECURITY_TOKEN first. */
	env_set("AWS_SECURITY_TOKEN", "LEGACYTOKEN");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds("ASIAIOSFODNN7EXAMPLE", SECRET, "LEGACYTOKEN", "env");

	/* ...unless it is empty, which is unset. */
	env_set("AWS_SECURITY_TOKEN", "");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds("ASIAIOSFODNN7EXAMPLE", SECRET, TOKEN, "env");
}

static void test_creds_env_partial_id_only(void **state)
{
	(void)state;
	env_set("AWS_ACCESS_KEY_ID", KEY_ID);
	write_file(CREDENTIALS, "[default]\naws_access_key_id = " KEY_ID2
				"\naws_secret_access_key = " SECRET2 "\n");
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
	assert_empty(&fx.c);
}

static void test_creds_env_partial_secret_only(void **state)
{
	(void)state;
	env_set("AWS_SECRET_ACCESS_KEY", SECRET);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
	assert_msg_lacks(SECRET);
	assert_empty(&fx.c);
}

static void test_creds_env_empty_is_unset(void **state)
{
	(void)state;
	env_set("AWS_ACCESS_KEY_ID", "");
	env_set("AWS_SECRET_ACCESS_KEY", "");
	write_file(CREDENTIALS, "[default]\naws_access_key_id = " KEY_ID2
				"\naws_secret_access_key = " SECRET2 "\n");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID2, SECRET2, NULL, "shared-credentials-file");
}

static void test_creds_env_bad_values(void **state)
{
	(void)state;
	/* The two swapped: the message must not quote either. */
	env_set("AWS_ACCESS_KEY_ID", SECRET);
	env_set("AWS_SECRET_ACCESS_KEY", KEY_ID);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("AWS_ACCESS_KEY_ID is not an access key id");
	assert_msg_has("swapped");
	assert_msg_lacks(SECRET);
	assert_empty(&fx.c);

	env_set("AWS_ACCESS_KEY_ID", "akiaiosfodnn7example");
	env_set("AWS_SECRET_ACCESS_KEY", SECRET);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("16 to 128 capital letters and digits");
	assert_msg_lacks("akiaiosfodnn7example");

	env_set("AWS_ACCESS_KEY_ID", "AKIA123"); /* too short */
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);

	env_set("AWS_ACCESS_KEY_ID", KEY_ID);
	env_set("AWS_SECRET_ACCESS_KEY", SECRET "\n"); /* $(cat file) gone wrong */
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("AWS_SECRET_ACCESS_KEY contains whitespace");
	assert_msg_lacks(SECRET);

	env_set("AWS_SECRET_ACCESS_KEY", SECRET);
	env_set("AWS_SESSION_TOKEN", "abc\x01" "def");
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("AWS_SESSION_TOKEN contains");
	assert_empty(&fx.c);
}

/* ---- --profile, AWS_PROFILE, AWS_DEFAULT_PROFILE ---- */

static void test_creds_cli_profile_beats_env(void **state)
{
	(void)state;
	env_set("AWS_ACCESS_KEY_ID", KEY_ID);
	env_set("AWS_SECRET_ACCESS_KEY", SECRET);
	write_file(CREDENTIALS, profile_x_creds);
	assert_int_equal(resolve("x"), SESCTL_OK);
	assert_creds(KEY_ID2, SECRET2, NULL, "shared-credentials-file");

	/* Even a lone AWS_SECRET_ACCESS_KEY is not looked at. */
	env_set("AWS_ACCESS_KEY_ID", "");
	assert_int_equal(resolve("x"), SESCTL_OK);
	assert_creds(KEY_ID2, SECRET2, NULL, "shared-credentials-file");
}

static void test_creds_aws_profile_does_not_beat_env(void **state)
{
	(void)state;
	env_set("AWS_ACCESS_KEY_ID", KEY_ID);
	env_set("AWS_SECRET_ACCESS_KEY", SECRET);
	env_set("AWS_PROFILE", "x");
	write_file(CREDENTIALS, profile_x_creds);
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "env");
}

static void test_creds_aws_profile_selects_profile(void **state)
{
	const char *origin = "unset";
	char want[256];

	(void)state;
	write_file(CREDENTIALS, profile_x_creds);
	env_set("AWS_DEFAULT_PROFILE", "x");
	assert_string_equal(creds_profile(&fx.o, &origin), "x");
	assert_string_equal(origin, "AWS_DEFAULT_PROFILE");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID2, SECRET2, NULL, "shared-credentials-file");
	snprintf(want, sizeof(want), "profile 'x' in '%s/" CREDENTIALS "'",
		 fx.dir);
	assert_string_equal(fx.c.source, want);

	env_set("AWS_DEFAULT_PROFILE", "");
	env_set("AWS_PROFILE", "x");
	assert_string_equal(creds_profile(&fx.o, &origin), "x");
	assert_string_equal(origin, "AWS_PROFILE");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID2, SECRET2, NULL, "shared-credentials-file");

	env_set("AWS_PROFILE", "");
	assert_string_equal(creds_profile(&fx.o, &origin), "default");
	assert_null(origin);
	fx.o.profile = "cli";
	assert_string_equal(creds_profile(&fx.o, &origin), "cli");
	assert_string_equal(origin, "--profile");
}

static void test_creds_profile_env_order(void **state)
{
	char *log;

	(void)state;
	/* AWS CLI v2: AWS_PROFILE first; v1 differs, so say so. */
	write_file(CONFIG, "[profile a]\naws_access_key_id = " KEY_ID
			   "\naws_secret_access_key = " SECRET
			   "\n[profile b]\naws_access_key_id = " KEY_ID2
			   "\naws_secret_access_key = " SECRET2 "\n");
	env_set("AWS_PROFILE", "a");
	env_set("AWS_DEFAULT_PROFILE", "b");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "config-file");
	log = read_log();
	assert_non_null(strstr(log, "warning: AWS_PROFILE ('a') and "
				    "AWS_DEFAULT_PROFILE ('b') differ"));
	assert_null(strstr(log, SECRET));
	free(log);

	/* --profile wins over both, without a warning. */
	assert_int_equal(ftruncate(fx.ctx.err_fd, 0), 0);
	assert_int_equal(resolve("b"), SESCTL_OK);
	assert_creds(KEY_ID2, SECRET2, NULL, "config-file");
	log = read_log();
	assert_string_equal(log, "");
	free(log);
}

/* ---- the two files ---- */

static void test_creds_credentials_file_beats_config(void **state)
{
	(void)state;
	write_file(CONFIG, "[default]\naws_access_key_id = " KEY_ID
			   "\naws_secret_access_key = " SECRET "\n");
	write_file(CREDENTIALS, "[default]\naws_access_key_id = " KEY_ID2
				"\naws_secret_access_key = " SECRET2 "\n");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID2, SECRET2, NULL, "shared-credentials-file");

	/* A credentials-file section without keys: on to the config file.
	 * The token comes from the same file as the keys, never mixed. */
	write_file(CREDENTIALS, "[default]\nregion = eu-west-1\n"
				"aws_session_token = " TOKEN "\n");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "config-file");

	/* Credentials only in the config file, with a token there. */
	write_file(CONFIG, "[profile x]\naws_access_key_id = " KEY_ID
			   "\naws_secret_access_key = " SECRET
			   "\naws_session_token = " TOKEN "\n");
	assert_int_equal(resolve("x"), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, TOKEN, "config-file");
}

static void test_creds_profile_prefix(void **state)
{
	(void)state;
	/* Config: [profile x]; credentials: [x]. */
	write_file(CONFIG, "[profile x]\naws_access_key_id = " KEY_ID
			   "\naws_secret_access_key = " SECRET "\n");
	assert_int_equal(resolve("x"), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "config-file");

	/* [x] in the config file is not a profile. */
	write_file(CONFIG, "[x]\naws_access_key_id = " KEY_ID
			   "\naws_secret_access_key = " SECRET "\n");
	assert_int_equal(resolve("x"), SESCTL_ERR_USAGE);
	assert_msg_has("profile 'x' (from --profile) not found");
	assert_msg_has("the section is '[profile x]'");

	/* [profile x] in the credentials file is not profile x. */
	write_file(CONFIG, "");
	write_file(CREDENTIALS, "[profile x]\naws_access_key_id = " KEY_ID
				"\naws_secret_access_key = " SECRET "\n");
	assert_int_equal(resolve("x"), SESCTL_ERR_USAGE);
	assert_msg_has("the section is '[x]', without 'profile'");
	assert_msg_lacks(SECRET);
	/* ...it is profile "profile x". */
	assert_int_equal(resolve("profile x"), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "shared-credentials-file");

	/* shlex quoting and spacing in config headers. */
	write_file(CREDENTIALS, "");
	write_file(CONFIG, "[profile   \"a b\"]\naws_access_key_id = " KEY_ID
			   "\naws_secret_access_key = " SECRET "\n"
			   "[profile a b]\naws_access_key_id = " KEY_ID2
			   "\naws_secret_access_key = " SECRET2 "\n"
			   "[profile 'unterminated]\nregion = x\n");
	assert_int_equal(resolve("a b"), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "config-file");
	assert_int_equal(resolve("b"), SESCTL_ERR_USAGE);
	assert_int_equal(resolve("'unterminated"), SESCTL_ERR_USAGE);
}

static void test_creds_default_profile(void **state)
{
	(void)state;
	/* Nothing named: "default", and its absence is not an error by
	 * itself (just no credentials). */
	write_file(CONFIG, "[profile other]\nregion = eu-west-1\n");
	assert_int_equal(resolve(NULL), SESCTL_ERR_FAIL);

	write_file(CONFIG, "[default]\naws_access_key_id = " KEY_ID
			   "\naws_secret_access_key = " SECRET "\n");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "config-file");

	/* [profile default] is [default] too; the later section wins,
	 * whole (build_profile_map replaces the profile). */
	write_file(CONFIG, "[default]\naws_access_key_id = " KEY_ID
			   "\naws_secret_access_key = " SECRET "\n"
			   "[profile default]\naws_access_key_id = " KEY_ID2
			   "\naws_secret_access_key = " SECRET2 "\n");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID2, SECRET2, NULL, "config-file");
	write_file(CONFIG, "[profile default]\naws_access_key_id = " KEY_ID2
			   "\naws_secret_access_key = " SECRET2 "\n"
			   "[default]\nregion = eu-west-1\n");
	assert_int_equal(resolve(NULL), SESCTL_ERR_FAIL);

	/* An explicit --profile default must exist, as in the AWS CLI. */
	write_file(CONFIG, "");
	assert_int_equal(resolve("default"), SESCTL_ERR_USAGE);
}

static void test_creds_file_paths_from_env(void **state)
{
	char cfg[256], cred[256];

	(void)state;
	path_of(cfg, sizeof(cfg), "elsewhere.cfg");
	path_of(cred, sizeof(cred), "elsewhere.cred");
	write_file("elsewhere.cred", profile_x_creds);
	write_file(CREDENTIALS, "[x]\naws_access_key_id = " KEY_ID
				"\naws_secret_access_key = " SECRET "\n");
	env_set("AWS_SHARED_CREDENTIALS_FILE", cred);
	env_set("AWS_CONFIG_FILE", cfg); /* missing: fine */
	assert_int_equal(resolve("x"), SESCTL_OK);
	assert_creds(KEY_ID2, SECRET2, NULL, "shared-credentials-file");
	assert_non_null(strstr(fx.c.source, "elsewhere.cred"));

	/* A leading ~/ is $HOME. */
	env_set("AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere.cred");
	assert_int_equal(resolve("x"), SESCTL_OK);
	assert_creds(KEY_ID2, SECRET2, NULL, "shared-credentials-file");
}

/* ---- the parser ---- */

static void test_creds_parser_syntax(void **state)
{
	static const unsigned char bom_crlf[] =
		"\xef\xbb\xbf# written by Notepad\r\n"
		"[default]\r\n"
		"aws_access_key_id=" KEY_ID "\r\n"
		"aws_secret_access_key=" SECRET "\r\n";

	(void)state;
	write_bytes(CREDENTIALS, bom_crlf, sizeof(bom_crlf) - 1);
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "shared-credentials-file");

	/* Old Mac line ends (lone CR), as Python's universal newlines. */
	write_file(CREDENTIALS, "[default]\raws_access_key_id = " KEY_ID
				"\raws_secret_access_key = " SECRET "\r");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "shared-credentials-file");

	/* Comments anywhere on their own line, indented or not, blank
	 * lines, ':' as delimiter, key case, spacing, a header with trailing
	 * text, nested blocks with comments and blank lines inside. */
	write_file(CREDENTIALS,
		   "# comment\n"
		   "; another\n"
		   "\n"
		   "[other]\n"
		   "s3 =\n"
		   "  max_concurrent_requests = 10\n"
		   "  # inside the block\n"
		   "\n"
		   "\tmultipart_threshold=64MB\n"
		   "[default]   trailing text ignored\n"
		   "   ; indented comment\n"
		   "  AWS_Access_Key_ID  :   " KEY_ID "  \n"
		   "\n"
		   "aws_secret_access_key\t=\t" SECRET "\t\n"
		   "aws_session_token = " TOKEN "\n"
		   "cli_pager=\n"
		   "[zzz]\n"
		   "key = value = with = equals: and colons\n");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, TOKEN, "shared-credentials-file");

	/* [DEFAULT] keys are every section's fallback (configparser). */
	write_file(CREDENTIALS, "[DEFAULT]\naws_secret_access_key = " SECRET
				"\n[default]\naws_access_key_id = " KEY_ID
				"\n[DEFAULT]\nregion = eu-west-1\n");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "shared-credentials-file");
	/* ...but is not a profile itself. */
	assert_int_equal(resolve("DEFAULT"), SESCTL_ERR_USAGE);
}

static void test_creds_blank_values(void **state)
{
	(void)state;
	/* An empty token is no token (botocore: '' is falsy). */
	write_file(CREDENTIALS, "[default]\naws_access_key_id = " KEY_ID
				"\naws_secret_access_key = " SECRET
				"\naws_session_token =\n");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "shared-credentials-file");

	/* aws_security_token is looked at first, even when empty. */
	write_file(CREDENTIALS, "[default]\naws_access_key_id = " KEY_ID
				"\naws_secret_access_key = " SECRET
				"\naws_security_token =\naws_session_token = "
				TOKEN "\n");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "shared-credentials-file");

	write_file(CREDENTIALS, "[default]\naws_access_key_id = " KEY_ID
				"\naws_secret_access_key =\n");
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_at(CREDENTIALS, 3);
	assert_msg_has("'aws_secret_access_key' of profile 'default' is empty");

	write_file(CREDENTIALS, "[default]\naws_access_key_id =\n"
				"aws_secret_access_key = " SECRET "\n");
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_at(CREDENTIALS, 2);
	assert_msg_has("is not an access key id");
	assert_msg_lacks(SECRET);
	assert_empty(&fx.c);
}

static void test_creds_partial_file(void **state)
{
	(void)state;
	write_file(CREDENTIALS, "[default]\n\naws_access_key_id = " KEY_ID "\n");
	write_file(CONFIG, "[default]\naws_access_key_id = " KEY_ID2
			   "\naws_secret_access_key = " SECRET2 "\n");
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_at(CREDENTIALS, 3);
	assert_msg_has("'aws_access_key_id' of profile 'default' is set but "
		       "'aws_secret_access_key' is not");

	/* Stricter than botocore, which would skip this section: a lone
	 * secret is a typo'd key id, not "no credentials here". */
	write_file(CREDENTIALS, "[default]\naws_acess_key_id = " KEY_ID
				"\naws_secret_access_key = " SECRET "\n");
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_at(CREDENTIALS, 3);
	assert_msg_has("is set but 'aws_access_key_id' is not");
	assert_msg_lacks(SECRET);
	assert_empty(&fx.c);
}

struct bad_file {
	const char *text;
	unsigned line;
	const char *says;
};

static void test_creds_malformed_files(void **state)
{
	static const struct bad_file bad[] = {
		{ "aws_secret_access_key = " SECRET "\n[default]\n", 1,
		  "expected a section header such as '[default]'" },
		{ "[default]\naws_access_key_id = " KEY_ID "\n"
		  SECRET "\n", 3, "expected 'key = value'" },
		{ "[default]\n\n\n[profile x\naws_secret_access_key = " SECRET
		  "\n", 4, "unterminated section header" },
		{ "[default]\n[]\n", 2, "expected '[section]' or 'key = value'" },
		{ "[default]\n= " SECRET "\n", 2, "found no key before '='" },
		{ "[default]\n  :" SECRET "\n", 2, "found no key before ':'" },
		{ "[default]\ns3 =\n  max_concurrent_requests 10\n", 3,
		  "indented block under line 2" },
		{ "[default]\naws_secret_access_key =\n  " SECRET "\n", 3,
		  "indented block under line 2" },
		{ "[default]\nregion = x\n[default]\n", 3,
		  "section '[default]' already started on line 1" },
		{ "[a]\n[b]\n[a]\n[b]\n", 3, "section '[a]' already started" },
		{ "[default]\naws_secret_access_key = " SECRET
		  "\n\nAWS_SECRET_ACCESS_KEY = " SECRET "\n", 4,
		  "'aws_secret_access_key' is already set on line 2" },
		{ "[default]\n" SECRET " = 1\n" SECRET " = 2\n", 3,
		  "this key is already set on line 2" },
		{ "[DEFAULT]\nregion = a\n[DEFAULT]\nregion = b\n", 4,
		  "'region' is already set on line 2" },
		{ "[\x1b]2;evil\x07]\n[\x1b]2;evil\x07]\n", 2,
		  "this section already started on line 1" },
	};
	static const char nul[] = "[default]\nregion = a\0b\n";
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("# case %zu\n", i);
		write_file(CREDENTIALS, bad[i].text);
		assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
		assert_msg_at(CREDENTIALS, bad[i].line);
		assert_msg_has(bad[i].says);
		assert_msg_lacks(SECRET);
		assert_msg_lacks("\x1b");
		assert_empty(&fx.c);
	}

	/* The config file is held to the same rules, even when the
	 * environment has the credentials (as the AWS CLI). */
	write_file(CREDENTIALS, "");
	write_file(CONFIG, "[default]\nregion = eu-west-1\noops\n");
	env_set("AWS_ACCESS_KEY_ID", KEY_ID);
	env_set("AWS_SECRET_ACCESS_KEY", SECRET);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_at(CONFIG, 3);

	/* A NUL byte. */
	write_bytes(CONFIG, nul, sizeof(nul) - 1);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_at(CONFIG, 2);
	assert_msg_has("NUL byte");
}

static void test_creds_bad_values_in_file(void **state)
{
	(void)state;
	/* An inline comment is part of the value (configparser has none). */
	write_file(CREDENTIALS, "[default]\naws_access_key_id = " KEY_ID
				"\naws_secret_access_key = " SECRET
				"  # the old one\n");
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_at(CREDENTIALS, 3);
	assert_msg_has("comments must be on lines of their own");
	assert_msg_lacks(SECRET);

	/* A value continued on an indented line. */
	write_file(CREDENTIALS, "[default]\naws_access_key_id = " KEY_ID
				"\n  aws_secret_access_key = " SECRET "\n");
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_at(CREDENTIALS, 2);
	assert_msg_has("continues on the indented line");
	assert_msg_lacks(SECRET);

	/* A nested block where a value belongs. */
	write_file(CREDENTIALS, "[default]\naws_access_key_id = " KEY_ID
				"\naws_secret_access_key =\n  a = " SECRET "\n");
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_at(CREDENTIALS, 3);
	assert_msg_has("is an indented block");
	assert_msg_lacks(SECRET);

	/* Key id and secret swapped in a file. */
	write_file(CREDENTIALS, "[default]\naws_access_key_id = " SECRET
				"\naws_secret_access_key = " KEY_ID "\n");
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("swapped");
	assert_msg_lacks(SECRET);
	assert_empty(&fx.c);
}

static void test_creds_missing_files(void **state)
{
	(void)state;
	/* No .aws at all, no $HOME/.aws even. */
	env_set("AWS_ACCESS_KEY_ID", KEY_ID);
	env_set("AWS_SECRET_ACCESS_KEY", SECRET);
	env_set("AWS_CONFIG_FILE", "/nonexistent/dir/config");
	env_set("AWS_SHARED_CREDENTIALS_FILE", "/etc/passwd/not-a-dir");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "env");
}

static void test_creds_unreadable_file(void **state)
{
	char path[256], want[400];

	(void)state;
	write_file(CREDENTIALS, profile_x_creds);
	path_of(path, sizeof(path), CREDENTIALS);
	if (geteuid() == 0) {
		print_message("# skipping the chmod 000 check: running as root, "
			      "which can read any file\n");
	} else {
		assert_int_equal(chmod(path, 0), 0);
		assert_int_equal(resolve(NULL), SESCTL_ERR_IO);
		snprintf(want, sizeof(want), "cannot open '%s': %s", path,
			 strerror(EACCES));
		assert_string_equal(fx.ctx.err.msg, want);
		assert_int_equal(chmod(path, 0600), 0);
	}

	/* A directory where the file should be: not a regular file. */
	path_of(path, sizeof(path), "adir");
	assert_int_equal(mkdir(path, 0700), 0);
	env_set("AWS_CONFIG_FILE", path);
	assert_int_equal(resolve(NULL), SESCTL_ERR_USAGE);
	snprintf(want, sizeof(want), "'%s' is not a regular file (a "
		 "directory); give the path of a file", path);
	assert_string_equal(fx.ctx.err.msg, want);
	assert_empty(&fx.c);
}

static void test_creds_oversize_file(void **state)
{
	const char head[] = "[default]\naws_access_key_id = " KEY_ID
			    "\naws_secret_access_key = " SECRET "\n";
	size_t n = CREDS_FILE_MAX;
	char *big = malloc(n + 1), *p;

	(void)state;
	assert_non_null(big);
	/* Exactly the limit: fine. */
	memcpy(big, head, sizeof(head) - 1);
	for (p = big + sizeof(head) - 1; p < big + n; p++)
		*p = (p - big) % 64 == 63 ? '\n' : '#';
	big[n - 1] = '\n';
	write_bytes(CREDENTIALS, big, n);
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "shared-credentials-file");

	/* One byte more: refused, the path named. */
	big[n] = '\n';
	write_bytes(CREDENTIALS, big, n + 1);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has(CREDENTIALS "' is larger than 1024 KiB");
	assert_msg_lacks(SECRET);
	assert_empty(&fx.c);

	/* A device with no end, /dev/zero, is not read at all. */
	env_set("AWS_SHARED_CREDENTIALS_FILE", "/dev/zero");
	assert_int_equal(resolve(NULL), SESCTL_ERR_USAGE);
	assert_msg_has("'/dev/zero' is not a regular file (a character "
		       "device)");
	free(big);
}


static void test_creds_profile_not_found(void **state)
{
	char want[512];

	(void)state;
	write_file(CREDENTIALS, profile_x_creds);
	assert_int_equal(resolve("nope"), SESCTL_ERR_USAGE);
	snprintf(want, sizeof(want),
		 "profile 'nope' (from --profile) not found in "
		 "'%s/" CONFIG "' (no such file) or '%s/" CREDENTIALS "'",
		 fx.dir, fx.dir);
	assert_string_equal(fx.ctx.err.msg, want);
	assert_empty(&fx.c);

	/* Named by AWS_PROFILE: an error even with env credentials (the
	 * AWS CLI: "The config profile (nope) could not be found"). */
	env_set("AWS_ACCESS_KEY_ID", KEY_ID);
	env_set("AWS_SECRET_ACCESS_KEY", SECRET);
	env_set("AWS_PROFILE", "nope");
	assert_int_equal(resolve(NULL), SESCTL_ERR_USAGE);
	assert_msg_has("profile 'nope' (from AWS_PROFILE) not found");
	assert_int_equal(err_exit_code(SESCTL_ERR_USAGE), 2);

	/* A profile with no keys but present is found, just empty. */
	env_set("AWS_ACCESS_KEY_ID", "");
	env_set("AWS_SECRET_ACCESS_KEY", "");
	write_file(CONFIG, "[profile nope]\nregion = eu-west-1\n");
	assert_int_equal(resolve(NULL), SESCTL_ERR_FAIL);
}

static void test_creds_nothing_found(void **state)
{
	char want[1024];

	(void)state;
	assert_int_equal(resolve(NULL), SESCTL_ERR_FAIL);
	snprintf(want, sizeof(want),
		 "no AWS credentials found; looked in the environment "
		 "(AWS_ACCESS_KEY_ID is not set), profile 'default' in "
		 "'%s/" CREDENTIALS "' (no such file), profile 'default' in "
		 "'%s/" CONFIG "' (no such file), container credentials (not "
		 "configured), instance metadata "
		 "(AWS_EC2_METADATA_DISABLED=true)\nrun 'aws configure', or set "
		 "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
		 fx.dir, fx.dir);
	assert_string_equal(fx.ctx.err.msg, want);
	assert_int_equal(err_exit_code(SESCTL_ERR_FAIL), 1);

	write_file(CREDENTIALS, "[x]\nregion = eu-west-1\n");
	write_file(CONFIG, "[profile y]\nregion = eu-west-1\n");
	assert_int_equal(resolve("x"), SESCTL_ERR_FAIL);
	assert_msg_has("the environment (skipped: --profile given)");
	assert_msg_has("profile 'x' in '");
	assert_msg_has(CREDENTIALS "' (no 'aws_access_key_id')");
	assert_msg_has(CONFIG "' (no '[profile x]' section)");
	assert_msg_has("run 'aws configure --profile x'");

	assert_int_equal(resolve(NULL), SESCTL_ERR_FAIL);
	assert_msg_has(CREDENTIALS "' (no '[default]' section)");
	assert_msg_has(CONFIG "' (no '[default]' section)");
	assert_empty(&fx.c);
}

/* ---- region ---- */

static sesctl_err region(const char *cli)
{
	fx.o.region = cli;
	return creds_region(&fx.ctx, &fx.o, &fx.r);
}

static void test_creds_region_precedence(void **state)
{
	char want[300];

	(void)state;
	write_file(CONFIG, "[default]\nregion = eu-central-1\n"
			   "[profile x]\nregion = ap-south-1\n");
	assert_int_equal(region(NULL), SESCTL_OK);
	assert_string_equal(fx.r.name, "eu-central-1");
	snprintf(want, sizeof(want), "profile 'default' in '%s/" CONFIG "'",
		 fx.dir);
	assert_string_equal(fx.r.source, want);

	fx.o.profile = "x";
	assert_int_equal(region(NULL), SESCTL_OK);
	assert_string_equal(fx.r.name, "ap-south-1");

	/* The credentials file's region wins over the config's (botocore
	 * merges credentials-file sections over profiles). */
	write_file(CREDENTIALS, "[x]\nregion = sa-east-1\n");
	assert_int_equal(region(NULL), SESCTL_OK);
	assert_string_equal(fx.r.name, "sa-east-1");
	/* ...unless empty. */
	write_file(CREDENTIALS, "[x]\nregion =\n");
	assert_int_equal(region(NULL), SESCTL_OK);
	assert_string_equal(fx.r.name, "ap-south-1");

	env_set("AWS_DEFAULT_REGION", "us-west-2");
	assert_int_equal(region(NULL), SESCTL_OK);
	assert_string_equal(fx.r.name, "us-west-2");
	assert_string_equal(fx.r.source, "AWS_DEFAULT_REGION");

	env_set("AWS_REGION", "us-east-2");
	assert_int_equal(region(NULL), SESCTL_OK);
	assert_string_equal(fx.r.name, "us-east-2");
	assert_string_equal(fx.r.source, "AWS_REGION");

	assert_int_equal(region("eu-west-3"), SESCTL_OK);
	assert_string_equal(fx.r.name, "eu-west-3");
	assert_string_equal(fx.r.source, "--region");

	/* With --region the files are not even read: a broken one does
	 * not matter, and neither does a missing profile. */
	write_file(CONFIG, "garbage\n");
	fx.o.profile = "nope";
	assert_int_equal(region("eu-west-3"), SESCTL_OK);
}

static void test_creds_region_errors(void **state)
{
	(void)state;
	assert_int_equal(region(NULL), SESCTL_ERR_USAGE);
	assert_msg_has("no region: pass --region, set AWS_REGION, or set "
		       "'region' in profile 'default' in '");
	assert_string_equal(fx.r.name, "");

	write_file(CONFIG, "[profile x]\nregion = eu-west-1\n");
	fx.o.profile = "nope";
	assert_int_equal(region(NULL), SESCTL_ERR_USAGE);
	assert_msg_has("profile 'nope' (from --profile) not found");

	fx.o.profile = NULL;
	write_file(CONFIG, "[default]\nregion = eu-west-1\n   eu-west-2\n");
	assert_int_equal(region(NULL), SESCTL_ERR_INPUT);
	assert_msg_at(CONFIG, 2);
	assert_msg_has("'region' of profile 'default' continues");

	write_file(CONFIG, "[default]\nregion = "
			   "eu-west-1-eu-west-1-eu-west-1-eu-west-1-eu-west-1-"
			   "eu-west-1-eu-west-1\n");
	assert_int_equal(region(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("is too long for a region");

	write_file(CONFIG, "[default]\nregion = x\nregion = y\n");
	assert_int_equal(region(NULL), SESCTL_ERR_INPUT);
	assert_msg_at(CONFIG, 3);
}

/* ---- credential_process ---- */

/* Write an executable script `rel` in the test directory; its path into
 * path[size]. */
static void write_script(const char *rel, const char *body, char *path,
			 size_t size)
{
	write_file(rel, body);
	path_of(path, size, rel);
	assert_int_equal(chmod(path, 0700), 0);
}

#define PROCESS_JSON                                                         \
	"{\"Version\": 1, \"AccessKeyId\": \"" KEY_ID2 "\", "                \
	"\"SecretAccessKey\": \"" SECRET2 "\", \"SessionToken\": \"" TOKEN   \
	"\", \"Expiration\": \"2999-01-01T00:00:00Z\"}"

/* A config with `credential_process = <script> <args>` in [default]. */
static void config_process(const char *script_body, const char *args)
{
	static char path[256], cfg[1024];

	write_script("proc.sh", script_body, path, sizeof(path));
	snprintf(cfg, sizeof(cfg), "[default]\ncredential_process = %s%s%s\n",
		 path, args ? " " : "", args ? args : "");
	write_file(CONFIG, cfg);
}

static void test_creds_process_ok(void **state)
{
	char want[512];

	(void)state;
	fx.ctx.debug = true;
	config_process("#!/bin/sh\necho oops, a warning >&2\ncat <<'E'\n"
		       PROCESS_JSON "\nE\n",
		       NULL);
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID2, SECRET2, TOKEN, "custom-process");
	snprintf(want, sizeof(want),
		 "credential_process of profile 'default' ('%s/" CONFIG
		 "' line 2)",
		 fx.dir);
	assert_string_equal(fx.c.source, want);
	assert_true(fx.c.expiration > 0);
	{
		/* Its stderr went where sesctl's messages go. */
		char *log = read_log();

		assert_non_null(strstr(log, "oops, a warning"));
		assert_non_null(strstr(log, "running credential_process of "
					    "profile 'default'"));
		assert_null(strstr(log, SECRET2));
		assert_null(strstr(log, TOKEN));
		free(log);
	}

	/* No token, no expiration: long-term keys. */
	config_process("#!/bin/sh\nprintf '%s' '{\"Version\":1,\"AccessKeyId\":"
		       "\"" KEY_ID "\",\"SecretAccessKey\":\"" SECRET "\","
		       "\"SessionToken\":null}'\n",
		       NULL);
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "custom-process");
	assert_int_equal(fx.c.expiration, 0);
}

static void test_creds_process_splits_like_shlex(void **state)
{
	char out[256], script[1024], *got;

	(void)state;
	path_of(out, sizeof(out), "argv.txt");
	snprintf(script, sizeof(script),
		 "#!/bin/sh\nfor a in \"$@\"; do printf '[%%s]' \"$a\"; done "
		 "> '%s'\nprintf '%%s' '" PROCESS_JSON "'\n",
		 out);
	/* shlex.split: 'a b' | "c\"d" | e\ f | '' | "x\y" | g'h'"i" */
	config_process(script,
		       "'a b' \"c\\\"d\" e\\ f '' \"x\\y\" g'h'\"i\"");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	got = read_text_file(out, NULL);
	assert_string_equal(got, "[a b][c\"d][e f][][x\\y][ghi]");
	free(got);
}

static void test_creds_process_order(void **state)
{
	(void)state;
	/* Static keys in the credentials file win over credential_process
	 * (ProfileProviderBuilder order)... */
	config_process("#!/bin/sh\nprintf '%s' '" PROCESS_JSON "'\n", NULL);
	write_file(CREDENTIALS, "[default]\naws_access_key_id = " KEY_ID
				"\naws_secret_access_key = " SECRET "\n");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "shared-credentials-file");
	/* ...which wins over the config file's keys. */
	write_file(CREDENTIALS, "");
	{
		char path[256], cfg[1024];

		path_of(path, sizeof(path), "proc.sh");
		snprintf(cfg, sizeof(cfg),
			 "[default]\naws_access_key_id = " KEY_ID
			 "\naws_secret_access_key = " SECRET
			 "\ncredential_process = %s\n",
			 path);
		write_file(CONFIG, cfg);
	}
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID2, SECRET2, TOKEN, "custom-process");
	/* The environment wins over all of them. */
	env_set("AWS_ACCESS_KEY_ID", KEY_ID);
	env_set("AWS_SECRET_ACCESS_KEY", SECRET);
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_creds(KEY_ID, SECRET, NULL, "env");
}

static void test_creds_process_errors(void **state)
{
	char *log;

	(void)state;
	config_process("#!/bin/sh\necho 'no session for you' >&2\nexit 3\n",
		       NULL);
	assert_int_equal(resolve(NULL), SESCTL_ERR_FAIL);
	assert_msg_has("credential_process of profile 'default' failed (exit "
		       "status 3)");
	assert_empty(&fx.c);
	log = read_log();
	assert_non_null(strstr(log, "no session for you"));
	free(log);

	config_process("#!/bin/sh\nkill -KILL $$\n", NULL);
	assert_int_equal(resolve(NULL), SESCTL_ERR_FAIL);
	assert_msg_has("was killed by signal 9");

	config_process("#!/bin/sh\necho '" SECRET " is not JSON'\n", NULL);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("the output of credential_process of profile 'default' "
		       "is not a JSON object");
	assert_msg_lacks(SECRET);

	config_process("#!/bin/sh\ntrue\n", NULL);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("is not a JSON object (it is empty)");

	config_process("#!/bin/sh\necho '{\"Version\": 2, \"AccessKeyId\": \""
		       KEY_ID "\", \"SecretAccessKey\": \"" SECRET "\"}'\n",
		       NULL);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("'Version' is 2; sesctl, like the AWS CLI, supports "
		       "only 1");

	config_process("#!/bin/sh\necho '{\"AccessKeyId\": \"" KEY_ID
		       "\", \"SecretAccessKey\": \"" SECRET "\"}'\n",
		       NULL);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("has no 'Version'; it must be 1");

	config_process("#!/bin/sh\necho '{\"Version\": \"1\"}'\n", NULL);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("'Version' is not a number");

	config_process("#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \""
		       KEY_ID "\"}'\n",
		       NULL);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("has no 'SecretAccessKey'");

	config_process("#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \""
		       KEY_ID "\", \"SecretAccessKey\": 7}'\n",
		       NULL);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("'SecretAccessKey' is not a string");

	config_process("#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \""
		       SECRET "\", \"SecretAccessKey\": \"" SECRET "\"}'\n",
		       NULL);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("'AccessKeyId' is not an access key id but looks like "
		       "a secret access key");
	assert_msg_lacks(SECRET);

	config_process("#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \""
		       KEY_ID "\", \"SecretAccessKey\": \"" SECRET "\", "
		       "\"Expiration\": \"2001-02-03T04:05:06Z\"}'\n",
		       NULL);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("the credentials expired at 2001-02-03T04:05:06Z");

	config_process("#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \""
		       KEY_ID "\", \"SecretAccessKey\": \"" SECRET "\", "
		       "\"Expiration\": \"soon\"}'\n",
		       NULL);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("'Expiration' is not an ISO 8601 time");

	config_process("#!/bin/sh\necho '{\"Version\": 1, \"Version\": 1}'\n",
		       NULL);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("more than one 'Version'");

	/* Output over the cap: refused, and the process does not hang. */
	config_process("#!/bin/sh\nexec head -c 200000 /dev/zero\n", NULL);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("wrote more than 64 KiB");

	/* Too slow: stopped. */
	env_set("SESCTL_TEST_PROCESS_TIMEOUT_MS", "300");
	config_process("#!/bin/sh\nexec sleep 30\n", NULL);
	assert_int_equal(resolve(NULL), SESCTL_ERR_FAIL);
	assert_msg_has("did not finish within 1 s, so it was stopped");
	env_set("SESCTL_TEST_PROCESS_TIMEOUT_MS", "");

	write_file(CONFIG, "[default]\ncredential_process = "
			   "/nonexistent/helper --flag " SECRET "\n");
	assert_int_equal(resolve(NULL), SESCTL_ERR_FAIL);
	/* glibc's posix_spawnp reports the failed exec; under valgrind the
	 * child exits 127 instead. */
	if (!strstr(fx.ctx.err.msg, "exit status 127"))
		assert_msg_has("cannot run credential_process of profile "
			       "'default' ('/nonexistent/helper'): No such "
			       "file or directory");
	else
		assert_msg_has("is '/nonexistent/helper' installed and in "
			       "PATH?");
	assert_msg_lacks(SECRET);

	write_file(CONFIG, "[default]\ncredential_process = helper 'oops\n");
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_at(CONFIG, 2);
	assert_msg_has("'credential_process' of profile 'default' has an "
		       "unterminated quote");

	write_file(CONFIG, "[default]\ncredential_process =\n");
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("'credential_process' of profile 'default' is empty");
	assert_empty(&fx.c);
}

static void test_creds_offline(void **state)
{
	struct creds_net_opts net;

	(void)state;
	memset(&net, 0, sizeof(net));
	net.offline = true;
	config_process("#!/bin/sh\nprintf '%s' '" PROCESS_JSON "'\n", NULL);
	assert_int_equal(creds_resolve_net(&fx.ctx, &fx.o, &net, &fx.c),
			 SESCTL_ERR_INPUT);
	assert_msg_has("is set, but running it is disabled here");

	/* Instance metadata is skipped, not an error. */
	write_file(CONFIG, "");
	env_set("AWS_EC2_METADATA_DISABLED", "");
	assert_int_equal(creds_resolve_net(&fx.ctx, &fx.o, &net, &fx.c),
			 SESCTL_ERR_FAIL);
	assert_msg_has("instance metadata (skipped)");
}

/* ---- assume role: everything decided before STS is called ---- */

static void test_creds_assume_role_config(void **state)
{
	(void)state;
	write_file(CREDENTIALS, "[base]\naws_access_key_id = " KEY_ID
				"\naws_secret_access_key = " SECRET "\n");
#define ROLE "role_arn = arn:aws:iam::123456789012:role/r\n"
	write_file(CONFIG, "[profile both]\n" ROLE "source_profile = base\n"
			   "credential_source = Environment\n"
			   "[profile neither]\n" ROLE
			   "[profile missing]\n" ROLE "source_profile = nope\n"
			   "[profile l1]\n" ROLE "source_profile = l2\n"
			   "[profile l2]\n" ROLE "source_profile = l3\n"
			   "[profile l3]\n" ROLE "source_profile = l1\n"
			   "[profile self]\n" ROLE "source_profile = self\n"
			   "[profile mfa]\n" ROLE "source_profile = base\n"
			   "mfa_serial = arn:aws:iam::123456789012:mfa/u\n"
			   "[profile dur]\n" ROLE "source_profile = base\n"
			   "duration_seconds = 1h\n"
			   "[profile cs]\n" ROLE "credential_source = Ec2\n"
			   "[profile csenv]\n" ROLE
			   "credential_source = Environment\n"
			   "[profile empty]\nregion = eu-west-1\n"
			   "[profile nocreds]\n" ROLE "source_profile = empty\n"
			   "[profile badarn]\nrole_arn = r\nsource_profile = base\n");
#undef ROLE
	assert_int_equal(resolve("both"), SESCTL_ERR_INPUT);
	assert_msg_has("profile 'both' has both 'source_profile' and "
		       "'credential_source'; keep one");
	assert_int_equal(resolve("neither"), SESCTL_ERR_INPUT);
	assert_msg_has("profile 'neither' has 'role_arn' but neither "
		       "'source_profile' nor 'credential_source'");
	assert_int_equal(resolve("missing"), SESCTL_ERR_INPUT);
	assert_msg_has("source profile 'nope' of profile 'missing' does not "
		       "exist");
	assert_int_equal(resolve("l1"), SESCTL_ERR_INPUT);
	assert_msg_has("profiles 'l1' -> 'l2' -> 'l3' -> 'l1' form a loop "
		       "through 'source_profile'");
	/* Naming itself is a loop unless it has keys of its own. */
	assert_int_equal(resolve("self"), SESCTL_ERR_INPUT);
	assert_msg_has("profiles 'self' -> 'self' form a loop");
	assert_int_equal(resolve("mfa"), SESCTL_ERR_INPUT);
	assert_msg_has("'mfa_serial' of profile 'mfa' is set, but sesctl "
		       "cannot ask for an MFA code");
	assert_int_equal(resolve("dur"), SESCTL_ERR_INPUT);
	assert_msg_has("'duration_seconds' of profile 'dur' is not a number "
		       "of seconds");
	assert_int_equal(resolve("cs"), SESCTL_ERR_INPUT);
	assert_msg_has("'credential_source' of profile 'cs' is not one of "
		       "'Environment', 'EcsContainer', 'Ec2InstanceMetadata'");
	/* credential_source = Environment needs the environment's keys, even
	 * with --profile (which only drops the env provider itself). */
	assert_int_equal(resolve("csenv"), SESCTL_ERR_INPUT);
	assert_msg_has("credential_source 'Environment' of profile 'csenv' "
		       "found no credentials: the environment "
		       "(AWS_ACCESS_KEY_ID is not set)");
	assert_int_equal(resolve("nocreds"), SESCTL_ERR_INPUT);
	assert_msg_has("source profile 'empty' of profile 'nocreds' has no "
		       "credentials; looked in profile 'empty' in '");
	assert_int_equal(resolve("badarn"), SESCTL_ERR_INPUT);
	assert_msg_has("'role_arn' of profile 'badarn' is not a role ARN");
	assert_empty(&fx.c);

	/* role_arn in the credentials file counts too (botocore merges the
	 * two files), and the assume-role provider comes before the file's
	 * own static keys. */
	write_file(CREDENTIALS, "[x]\naws_access_key_id = " KEY_ID
				"\naws_secret_access_key = " SECRET
				"\nrole_arn = arn:aws:iam::123456789012:role/r"
				"\nsource_profile = nope\n");
	assert_int_equal(resolve("x"), SESCTL_ERR_INPUT);
	assert_msg_has("source profile 'nope' of profile 'x' does not exist");
}

static void test_creds_unsupported(void **state)
{
	(void)state;
	write_file(CONFIG, "[profile sso]\nsso_session = corp\n"
			   "sso_account_id = 123456789012\n"
			   "sso_role_name = Admin\n"
			   "[profile wi]\nrole_arn = arn:aws:iam::1:role/r\n"
			   "web_identity_token_file = /var/run/token\n");
	assert_int_equal(resolve("sso"), SESCTL_ERR_INPUT);
	assert_msg_has("profile 'sso' uses IAM Identity Center (SSO; "
		       "'sso_account_id'), which sesctl does not support");
	assert_msg_has("aws configure export-credentials --profile sso "
		       "--format process");
	assert_int_equal(resolve("wi"), SESCTL_ERR_INPUT);
	assert_msg_has("'web_identity_token_file' of profile 'wi' is set: "
		       "sesctl does not support web identity");

	write_file(CONFIG, "");
	env_set("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token");
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("AWS_WEB_IDENTITY_TOKEN_FILE is set");
	/* ...which --profile turns off, as in botocore. */
	write_file(CONFIG, "[profile p]\nregion = eu-west-1\n");
	assert_int_equal(resolve("p"), SESCTL_ERR_FAIL);
	assert_msg_has("no AWS credentials found");
}

/* ---- container and instance metadata: configuration ---- */

/* A loopback port nothing listens on. */
static int closed_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* A FIFO (or any other non-regular file) where sesctl reads a file is
 * refused at once: opening or reading it would wait forever for a
 * writer.  The alarm turns such a hang into a failure. */
static void test_creds_fifo_refused(void **state)
{
	char fifo[256], url[128], want[400];

	(void)state;
	alarm(20);
	path_of(fifo, sizeof(fifo), "fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);

	/* ~/.aws/config itself a FIFO. */
	path_of(want, sizeof(want), CONFIG);
	assert_int_equal(mkfifo(want, 0600), 0);
	assert_int_equal(resolve(NULL), SESCTL_ERR_USAGE);
	snprintf(want, sizeof(want), "'%s/%s' is not a regular file (a FIFO); "
		 "give the path of a file", fx.dir, CONFIG);
	assert_string_equal(fx.ctx.err.msg, want);
	assert_empty(&fx.c);

	/* AWS_SHARED_CREDENTIALS_FILE naming one. */
	env_set("AWS_CONFIG_FILE", "/dev/null"); /* "no config": still fine */
	env_set("AWS_SHARED_CREDENTIALS_FILE", fifo);
	assert_int_equal(resolve(NULL), SESCTL_ERR_USAGE);
	assert_msg_has("is not a regular file (a FIFO)");
	assert_msg_has(fifo);

	/* /dev/null as both files reads as empty. */
	env_set("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
	env_set("AWS_ACCESS_KEY_ID", KEY_ID);
	env_set("AWS_SECRET_ACCESS_KEY", SECRET);
	assert_int_equal(resolve(NULL), SESCTL_OK);
	creds_release(&fx.c);
	creds_init(&fx.c);
	env_set("AWS_ACCESS_KEY_ID", NULL);
	env_set("AWS_SECRET_ACCESS_KEY", NULL);

	/* The container provider's token file. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/creds", closed_port());
	env_set("AWS_CONTAINER_CREDENTIALS_FULL_URI", url);
	env_set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", fifo);
	assert_int_equal(resolve(NULL), SESCTL_ERR_USAGE);
	assert_msg_has("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE '");
	assert_msg_has("' is not a regular file (a FIFO)");
	alarm(0);
}

static void test_creds_container_config(void **state)
{
	static char url[128], tokfile[256];

	(void)state;
	env_set("AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"http://example.com/creds");
	assert_int_equal(resolve(NULL), SESCTL_ERR_USAGE);
	assert_msg_has("AWS_CONTAINER_CREDENTIALS_FULL_URI "
		       "'http://example.com/creds' is not allowed: use https, "
		       "or http to a loopback address, 169.254.170.2, "
		       "169.254.170.23 or [fd00:ec2::23]");
	env_set("AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"http://user@127.0.0.1/creds");
	assert_int_equal(resolve(NULL), SESCTL_ERR_USAGE);

	env_set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "");
	env_set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/creds");
	assert_int_equal(resolve(NULL), SESCTL_ERR_USAGE);
	assert_msg_has("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI 'v2/creds' must "
		       "start with '/'");

	/* A token with a line break is refused before anything is sent;
	 * the file wins over the variable. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/creds", closed_port());
	env_set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "");
	env_set("AWS_CONTAINER_CREDENTIALS_FULL_URI", url);
	env_set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "fine");
	write_file("token", "line-one\n");
	path_of(tokfile, sizeof(tokfile), "token");
	env_set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokfile);
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("the token in AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
		       "contains a line break");
	assert_msg_lacks("line-one");
	env_set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/nonexistent/t");
	assert_int_equal(resolve(NULL), SESCTL_ERR_IO);
	assert_msg_has("cannot open AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
		       "'/nonexistent/t'");
	env_set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "");
	env_set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nX-Evil: 1");
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("the token in AWS_CONTAINER_AUTHORIZATION_TOKEN "
		       "contains a line break");

	/* Configured but unreachable: an error, not "no credentials" (as
	 * botocore); the chain does not go on to instance metadata. */
	env_set("SESCTL_TEST_RETRY_BASE_MS", "1");
	env_set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "fine");
	assert_int_equal(resolve(NULL), SESCTL_ERR_NETWORK);
	assert_msg_has("cannot get container credentials: ");
	assert_msg_lacks("fine");
	assert_empty(&fx.c);
}

static void test_creds_imds_config(void **state)
{
	static char url[128];
	char want[512];

	(void)state;
	env_set("AWS_EC2_METADATA_DISABLED", "TRUE");
	assert_int_equal(resolve(NULL), SESCTL_ERR_FAIL);
	assert_msg_has("instance metadata (AWS_EC2_METADATA_DISABLED=true)");

	env_set("AWS_EC2_METADATA_DISABLED", "false");
	env_set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://10.0.0.1/");
	assert_int_equal(resolve(NULL), SESCTL_ERR_USAGE);
	assert_msg_has("the instance metadata endpoint 'http://10.0.0.1/' "
		       "(from AWS_EC2_METADATA_SERVICE_ENDPOINT) is not "
		       "allowed");

	env_set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "");
	env_set("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv7");
	assert_int_equal(resolve(NULL), SESCTL_ERR_USAGE);
	assert_msg_has("the instance metadata endpoint mode 'IPv7' is neither "
		       "'IPv4' nor 'IPv6'");
	env_set("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "");

	/* The profile's endpoint, when the variable is unset; nothing
	 * answering there is "no credentials", not an error. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", closed_port());
	snprintf(want, sizeof(want),
		 "[default]\nec2_metadata_service_endpoint = %s\n"
		 "metadata_service_timeout = 2\n",
		 url);
	write_file(CONFIG, want);
	assert_int_equal(resolve(NULL), SESCTL_ERR_FAIL);
	url[strlen(url) - 1] = '\0';
	snprintf(want, sizeof(want),
		 "instance metadata at '%s' (no answer to the IMDSv2 token "
		 "request within 2 s)",
		 url);
	assert_msg_has(want);

	/* A bad timeout is warned about and the default used. */
	env_set("AWS_METADATA_SERVICE_TIMEOUT", "soon");
	assert_int_equal(resolve(NULL), SESCTL_ERR_FAIL);
	assert_msg_has("within 1 s)");
	{
		char *log = read_log();

		assert_non_null(strstr(log, "ignoring "
					    "AWS_METADATA_SERVICE_TIMEOUT "
					    "'soon'"));
		free(log);
	}
}

static void test_creds_sts_endpoint(void **state)
{
	struct sts_config cfg;
	char url[HTTP_URL_MAX], region[64];
	const char *from;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.env = fake_env;
	cfg.region = "eu-west-1";
	assert_int_equal(sts_endpoint(&fx.ctx, &cfg, url, sizeof(url), region,
				      sizeof(region), &from),
			 SESCTL_OK);
	assert_string_equal(url, "https://sts.eu-west-1.amazonaws.com");
	assert_string_equal(region, "eu-west-1");
	assert_string_equal(from, "the regional endpoint");

	cfg.region = "cn-northwest-1";
	assert_int_equal(sts_endpoint(&fx.ctx, &cfg, url, sizeof(url), region,
				      sizeof(region), &from),
			 SESCTL_OK);
	assert_string_equal(url, "https://sts.cn-northwest-1.amazonaws.com.cn");

	cfg.region = NULL;
	assert_int_equal(sts_endpoint(&fx.ctx, &cfg, url, sizeof(url), region,
				      sizeof(region), &from),
			 SESCTL_OK);
	assert_string_equal(url, "https://sts.amazonaws.com");
	assert_string_equal(region, "us-east-1");

	env_set("AWS_ENDPOINT_URL", "https://proxy.example:8443");
	assert_int_equal(sts_endpoint(&fx.ctx, &cfg, url, sizeof(url), region,
				      sizeof(region), &from),
			 SESCTL_OK);
	assert_string_equal(url, "https://proxy.example:8443");
	assert_string_equal(from, "AWS_ENDPOINT_URL");
	env_set("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9/");
	cfg.region = "ap-south-1";
	assert_int_equal(sts_endpoint(&fx.ctx, &cfg, url, sizeof(url), region,
				      sizeof(region), &from),
			 SESCTL_OK);
	assert_string_equal(url, "http://127.0.0.1:9/");
	assert_string_equal(region, "ap-south-1");
	assert_string_equal(from, "AWS_ENDPOINT_URL_STS");

	/* Plain http only to loopback, as for IAM. */
	env_set("AWS_ENDPOINT_URL_STS", "http://sts.example.com");
	assert_int_equal(sts_endpoint(&fx.ctx, &cfg, url, sizeof(url), region,
				      sizeof(region), &from),
			 SESCTL_ERR_USAGE);
	assert_msg_has("uses plain http to a host that is not loopback");

	env_set("AWS_ENDPOINT_URL_STS", "");
	env_set("AWS_ENDPOINT_URL", "");
	cfg.region = "Mars";
	assert_int_equal(sts_endpoint(&fx.ctx, &cfg, url, sizeof(url), region,
				      sizeof(region), &from),
			 SESCTL_ERR_USAGE);
	assert_msg_has("cannot reach STS in region 'Mars'");
}

/* ---- hygiene ---- */

static void test_creds_release_wipes(void **state)
{
	struct creds c;

	(void)state;
	creds_init(&c);
	assert_empty(&c);
	env_set("AWS_ACCESS_KEY_ID", KEY_ID);
	env_set("AWS_SECRET_ACCESS_KEY", SECRET);
	env_set("AWS_SESSION_TOKEN", TOKEN);
	assert_int_equal(creds_resolve(&fx.ctx, &fx.o, &c), SESCTL_OK);
	assert_non_null(c.secret_key.p);
	assert_non_null(c.session_token.p);
	/* Resolving again into a full struct releases the old secrets. */
	assert_int_equal(creds_resolve(&fx.ctx, &fx.o, &c), SESCTL_OK);
	creds_release(&c);
	assert_empty(&c);
	creds_release(&c); /* idempotent */
	creds_release(NULL);
}

static void test_creds_debug_never_shows_secrets(void **state)
{
	char *log;

	(void)state;
	fx.ctx.debug = true;
	write_file(CREDENTIALS, "[default]\naws_access_key_id = " KEY_ID
				"\naws_secret_access_key = " SECRET
				"\naws_session_token = " TOKEN "\n");
	assert_int_equal(resolve(NULL), SESCTL_OK);
	assert_int_equal(region("eu-west-1"), SESCTL_OK);
	log = read_log();
	assert_non_null(strstr(log, "credentials from profile 'default'"));
	assert_non_null(strstr(log, KEY_ID));
	assert_null(strstr(log, SECRET));
	assert_null(strstr(log, TOKEN));
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_creds_env_full),
		T(test_creds_env_with_token),
		T(test_creds_env_partial_id_only),
		T(test_creds_env_partial_secret_only),
		T(test_creds_env_empty_is_unset),
		T(test_creds_env_bad_values),
		T(test_creds_cli_profile_beats_env),
		T(test_creds_aws_profile_does_not_beat_env),
		T(test_creds_aws_profile_selects_profile),
		T(test_creds_profile_env_order),
		T(test_creds_credentials_file_beats_config),
		T(test_creds_profile_prefix),
		T(test_creds_default_profile),
		T(test_creds_file_paths_from_env),
		T(test_creds_parser_syntax),
		T(test_creds_blank_values),
		T(test_creds_partial_file),
		T(test_creds_malformed_files),
		T(test_creds_bad_values_in_file),
		T(test_creds_missing_files),
		T(test_creds_unreadable_file),
		T(test_creds_oversize_file),
		T(test_creds_fifo_refused),
		T(test_creds_profile_not_found),
		T(test_creds_nothing_found),
		T(test_creds_region_precedence),
		T(test_creds_region_errors),
		T(test_creds_process_ok),
		T(test_creds_process_splits_like_shlex),
		T(test_creds_process_order),
		T(test_creds_process_errors),
		T(test_creds_offline),
		T(test_creds_assume_role_config),
		T(test_creds_unsupported),
		T(test_creds_container_config),
		T(test_creds_imds_config),
		T(test_creds_sts_endpoint),
		T(test_creds_release_wipes),
		T(test_creds_debug_never_shows_secrets),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

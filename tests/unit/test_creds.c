/* test_creds.c - the caller's credentials: env and shared-file providers,
 * profile and region precedence, the file parser and its errors.
 *
 * The environment is never touched: creds_opts.env is a stand-in reading
 * a small table, so tests cannot leak variables into each other and do
 * not depend on the variables of whoever runs them.  Every test gets a
 * fresh mkdtemp() directory as $HOME with an empty .aws/ in it.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sesctl/creds.h"

#define KEY_ID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define KEY_ID2 "AKIAI44QH8DHBEXAMPLE"
#define SECRET2 "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
#define TOKEN "IQoJb3JpZ2luX2VjEXAMPLETOKEN+/="

/* ---- the stand-in environment ---- */

#define ENV_MAX 16
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
	char path[256], want[300];

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

	/* A directory where the file should be: read(2) fails. */
	path_of(path, sizeof(path), "adir");
	assert_int_equal(mkdir(path, 0700), 0);
	env_set("AWS_CONFIG_FILE", path);
	assert_int_equal(resolve(NULL), SESCTL_ERR_IO);
	snprintf(want, sizeof(want), "cannot read '%s': %s", path,
		 strerror(EISDIR));
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

	/* The same through a pipe-like file with no size: /dev/zero. */
	env_set("AWS_SHARED_CREDENTIALS_FILE", "/dev/zero");
	assert_int_equal(resolve(NULL), SESCTL_ERR_INPUT);
	assert_msg_has("'/dev/zero' is larger than");
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
		 "'%s/" CONFIG "' (no such file)\nrun 'aws configure', or set "
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
		T(test_creds_profile_not_found),
		T(test_creds_nothing_found),
		T(test_creds_region_precedence),
		T(test_creds_region_errors),
		T(test_creds_release_wipes),
		T(test_creds_debug_never_shows_secrets),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

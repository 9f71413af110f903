/* test_cli.c - the option and command tables and cli_run's parsing, run
 * in-process with pipes for stdin and stdout. */
#include "testutil.h"

#include <fcntl.h>
#include <unistd.h>

#include "sesctl/cli/cli.h"
#include "sesctl/base/ctx.h"

#define EXAMPLE_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

struct run {
	sesctl_err rc;
	char out[4096];
	char err[4096];
	struct ctx ctx;
};

static void drain(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
}

/* Run cli_run with `args` (a NULL-terminated list, copied so the parser
 * may overwrite them) and `input` on stdin. */
static void run_cli(struct run *r, const char *input, const char *const *args,
		    char ***argv_out)
{
	int in[2], out[2], errp[2], argc = 0, i;
	char **argv;

	while (args[argc])
		argc++;
	argv = calloc((size_t)argc + 2, sizeof(*argv));
	assert_non_null(argv);
	argv[0] = strdup("sesctl");
	for (i = 0; i < argc; i++)
		argv[i + 1] = strdup(args[i]);
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(errp), 0);
	if (input)
		assert_int_equal(write(in[1], input, strlen(input)),
				 (ssize_t)strlen(input));
	close(in[1]);

	ctx_init(&r->ctx);
	r->ctx.in_fd = in[0];
	r->ctx.out_fd = out[1];
	r->ctx.err_fd = errp[1];
	r->rc = cli_run(&r->ctx, argc + 1, argv);
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	drain(out[0], r->out, sizeof(r->out));
	drain(errp[0], r->err, sizeof(r->err));
	close(out[0]);
	close(errp[0]);
	if (argv_out) {
		*argv_out = argv;
		return;
	}
	for (i = 0; i <= argc; i++)
		free(argv[i]);
	free(argv);
}

#define RUN(r, input, ...)                                                   \
	do {                                                                 \
		static const char *const args_[] = { __VA_ARGS__, NULL };    \
		run_cli((r), (input), args_, NULL);                          \
	} while (0)

static void test_cli_tables_are_consistent(void **state)
{
	const struct opt_def *opts;
	const struct cmd_def *cmds;
	size_t n, i;

	(void)state;
	opts = cli_options(&n);
	assert_int_equal(n, OPT__COUNT);
	for (i = 0; i < n; i++) {
		assert_int_equal(opts[i].id, (enum opt_id)i);
		assert_non_null(opts[i].help);
		assert_true(strlen(opts[i].help) > 10);
		assert_true(!(opts[i].flags & OPT_ARG) == !opts[i].metavar);
		if (i > 0 && strcmp(opts[i - 1].name, opts[i].name) >= 0)
			fail_msg("options not sorted: '%s' before '%s'",
				 opts[i - 1].name, opts[i].name);
		assert_ptr_equal(cli_option((enum opt_id)i), &opts[i]);
	}
	assert_null(cli_option(OPT__COUNT));
	cmds = cli_smtp_commands(&n);
	assert_true(n >= 1);
	for (i = 0; i < n; i++) {
		assert_non_null(cmds[i].fn);
		assert_non_null(cmds[i].summary);
		assert_non_null(cmds[i].help);
	}
}

static void test_cli_derive_prints_password(void **state)
{
	struct run r;

	(void)state;
	RUN(&r, EXAMPLE_SECRET, "smtp", "derive", "--region", "us-east-2");
	assert_int_equal(r.rc, SESCTL_OK);
	assert_string_equal(r.out, "BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS\n");
	assert_string_equal(r.err, "");

	/* --region=VALUE and a global --region before the command. */
	RUN(&r, EXAMPLE_SECRET "\n", "--region=us-east-2", "smtp", "derive");
	assert_int_equal(r.rc, SESCTL_OK);
	assert_string_equal(r.out, "BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS\n");
}

static void test_cli_derive_env_block(void **state)
{
	struct run r;

	(void)state;
	RUN(&r, EXAMPLE_SECRET, "smtp", "derive", "--region", "us-east-2",
	    "--access-key-id", "AKIAIOSFODNN7EXAMPLE");
	assert_int_equal(r.rc, SESCTL_OK);
	assert_string_equal(r.out,
			    "SMTP_HOST=email-smtp.us-east-2.amazonaws.com\n"
			    "SMTP_PORT=587\n"
			    "SMTP_USER=AKIAIOSFODNN7EXAMPLE\n"
			    "SMTP_PASS=BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS\n");
}

static void test_cli_refuses_positional_secret(void **state)
{
	static const char *const args[] = { "smtp", "derive", "--region",
					     "us-east-1", EXAMPLE_SECRET,
					     NULL };
	struct run r;
	char **argv;
	int i;

	(void)state;
	run_cli(&r, EXAMPLE_SECRET, args, &argv);
	assert_int_equal(r.rc, SESCTL_ERR_USAGE);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.ctx.err.msg, "never read from the command line"));
	/* The secret no longer shows in our argv (ps, /proc/PID/cmdline). */
	assert_null(strstr(argv[5], "EXAMPLEKEY"));
	assert_int_equal(strspn(argv[5], " "), strlen(EXAMPLE_SECRET));
	for (i = 0; i <= 5; i++)
		free(argv[i]);
	free(argv);

	RUN(&r, EXAMPLE_SECRET, "smtp", "derive", "--region", "us-east-1",
	    "--", "--not-an-option");
	assert_int_equal(r.rc, SESCTL_ERR_USAGE);
	assert_string_equal(r.out, "");
}

static void test_cli_usage_errors(void **state)
{
	static const struct {
		const char *name;
		const char *args[10];
		const char *msg;
	} cases[] = {
		{ "no command", { NULL }, "no command given" },
		{ "unknown group", { "mail", NULL }, "unknown command 'mail'" },
		{ "command without group", { "derive", NULL },
		  "did you mean 'sesctl smtp derive'" },
		{ "no smtp command", { "smtp", NULL }, "no smtp command" },
		{ "prefix is not a match", { "smtp", "deriv", NULL },
		  "unknown smtp command 'deriv'" },
		{ "case matters", { "smtp", "DERIVE", NULL },
		  "unknown smtp command 'DERIVE'" },
		{ "unknown option", { "smtp", "derive", "--bogus", NULL },
		  "unknown option '--bogus'" },
		{ "prefix of an option", { "smtp", "derive", "--reg", "x", NULL },
		  "unknown option '--reg'" },
		{ "single dash", { "smtp", "derive", "-r", NULL },
		  "unknown option '-r'" },
		{ "missing value", { "smtp", "derive", "--region", NULL },
		  "needs a value" },
		{ "empty value", { "smtp", "derive", "--region=", NULL },
		  "non-empty value" },
		{ "flag with value", { "smtp", "derive", "--legacy-v2=yes", NULL },
		  "takes no value" },
		{ "bad format", { "smtp", "derive", "--format", "xml", NULL },
		  "choose one of: env, export, dotenv, json, postfix, "
		  "k8s-secret, text" },
		{ "value given twice", { "smtp", "derive", "--format", "env",
					 "--format", "json", NULL },
		  "given twice" },
		{ "region twice", { "smtp", "derive", "--region", "us-east-1",
				    "--region", "eu-west-1", NULL },
		  "takes one --region" },
		{ "postfix needs a user", { "smtp", "derive", "--region",
					    "us-east-1", "--format", "postfix",
					    NULL },
		  "needs --access-key-id" },
		{ "temporary key", { "smtp", "derive", "--region", "us-east-1",
				     "--access-key-id", "ASIAIOSFODNN7EXAMPLE",
				     NULL },
		  "temporary (STS) access key" },
		{ "bad key id", { "smtp", "derive", "--region", "us-east-1",
				  "--access-key-id", "akia-lower", NULL },
		  "invalid --access-key-id" },
		{ "upper-case region", { "smtp", "derive", "--region",
					 "US-EAST-1", NULL },
		  "did you mean 'us-east-1'" },
		{ "availability zone", { "smtp", "derive", "--region",
					 "us-east-1a", NULL },
		  "availability zone; the region is 'us-east-1'" },
		{ "smtp host", { "smtp", "derive", "--region",
				 "email-smtp.eu-west-1.amazonaws.com", NULL },
		  "'--region eu-west-1'" },
		{ "nonsense region", { "smtp", "derive", "--region", "mars",
				       NULL },
		  "invalid region 'mars'" },
		{ "k8s-secret needs a name", { "smtp", "derive", "--region",
					       "us-east-1", "--format",
					       "k8s-secret", NULL },
		  "needs --k8s-name with derive" },
		{ "k8s name of another format", { "smtp", "derive", "--region",
						  "us-east-1", "--k8s-name",
						  "app", NULL },
		  "--k8s-name only applies with --format k8s-secret" },
		{ "bad k8s name", { "smtp", "derive", "--region", "us-east-1",
				    "--format", "k8s-secret", "--k8s-name",
				    "App_1", NULL },
		  "invalid --k8s-name 'App_1': a Kubernetes Secret's name must "
		  "be a DNS-1123 subdomain" },
		{ "bad k8s namespace", { "smtp", "derive", "--format",
					 "k8s-secret", "--k8s-name", "app",
					 "--k8s-namespace", "a.b", NULL },
		  "invalid --k8s-namespace 'a.b': a Kubernetes namespace must "
		  "be a DNS-1123 label" },
		{ "command option before command", { "smtp", "--format", "env",
						     "derive", NULL },
		  "unknown option '--format'" },
	};
	size_t i;
	struct run r;

	(void)state;
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* Help for the no-command cases goes to stderr via stdio;
		 * send it to /dev/null so it does not mix with TAP. */
		int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);

		dup2(null, STDERR_FILENO);
		run_cli(&r, EXAMPLE_SECRET, cases[i].args, NULL);
		fflush(stderr);
		dup2(saved, STDERR_FILENO);
		close(saved);
		close(null);
		if (r.rc != SESCTL_ERR_USAGE)
			fail_msg("%s: rc %s, want SESCTL_ERR_USAGE", cases[i].name,
				 err_name(r.rc));
		if (!strstr(r.ctx.err.msg, cases[i].msg))
			fail_msg("%s: message '%s' lacks '%s'", cases[i].name,
				 r.ctx.err.msg, cases[i].msg);
		if (r.out[0])
			fail_msg("%s: printed '%s' on stdout", cases[i].name,
				 r.out);
	}
}

static void test_cli_region_from_environment(void **state)
{
	struct run r;

	(void)state;
	setenv("AWS_DEFAULT_REGION", "us-east-2", 1);
	unsetenv("AWS_REGION");
	RUN(&r, EXAMPLE_SECRET, "smtp", "derive");
	assert_int_equal(r.rc, SESCTL_OK);
	assert_string_equal(r.out, "BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS\n");
	/* AWS_REGION wins over AWS_DEFAULT_REGION, --region over both. */
	setenv("AWS_REGION", "bogus", 1);
	RUN(&r, EXAMPLE_SECRET, "smtp", "derive");
	assert_int_equal(r.rc, SESCTL_ERR_USAGE);
	RUN(&r, EXAMPLE_SECRET, "smtp", "derive", "--region", "us-east-2");
	assert_int_equal(r.rc, SESCTL_OK);
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	RUN(&r, EXAMPLE_SECRET, "smtp", "derive");
	assert_int_equal(r.rc, SESCTL_ERR_USAGE);
	assert_non_null(strstr(r.ctx.err.msg, "no region"));
}

static void test_cli_bad_secrets(void **state)
{
	static const struct {
		const char *input, *msg;
	} cases[] = {
		{ "", "is empty" },
		{ "\n", "is empty" },
		{ "AKIAIOSFODNN7EXAMPLE", "looks like an access key id" },
		{ "aws_secret_access_key = " EXAMPLE_SECRET,
		  "spaces, tabs or line breaks" },
		{ EXAMPLE_SECRET "\n" EXAMPLE_SECRET "\n",
		  "spaces, tabs or line breaks" },
	};
	struct run r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static const char *const args[] = { "smtp", "derive", "--region",
						     "us-east-1", NULL };

		run_cli(&r, cases[i].input, args, NULL);
		assert_int_equal(r.rc, SESCTL_ERR_INPUT);
		assert_string_equal(r.out, "");
		if (!strstr(r.ctx.err.msg, cases[i].msg))
			fail_msg("input %zu: '%s' lacks '%s'", i, r.ctx.err.msg,
				 cases[i].msg);
	}
	/* Oddly shaped but possibly valid: a warning, and the password. */
	RUN(&r, "some+secret+key", "smtp", "derive", "--region", "eu-central-1");
	assert_int_equal(r.rc, SESCTL_OK);
	assert_string_equal(r.out, "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2\n");
	assert_non_null(strstr(r.err, "warning:"));
	assert_non_null(strstr(r.err, "are 40"));
	/* --quiet silences it. */
	RUN(&r, "some+secret+key", "--quiet", "smtp", "derive", "--region",
	    "eu-central-1");
	assert_int_equal(r.rc, SESCTL_OK);
	assert_string_equal(r.err, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_tables_are_consistent),
		cmocka_unit_test(test_cli_derive_prints_password),
		cmocka_unit_test(test_cli_derive_env_block),
		cmocka_unit_test(test_cli_refuses_positional_secret),
		cmocka_unit_test(test_cli_usage_errors),
		cmocka_unit_test(test_cli_region_from_environment),
		cmocka_unit_test(test_cli_bad_secrets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

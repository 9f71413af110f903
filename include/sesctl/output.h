/* output.h - the SMTP settings in the formats programs consume.
 *
 * The only module that includes cJSON.  Rendered output contains the SMTP
 * password, so it is built in a struct secret and written with
 * ctx_write_out(); no other copy is made (the password goes into cJSON as
 * a string reference and is printed with cJSON_PrintPreallocated).
 */
#ifndef SESCTL_OUTPUT_H
#define SESCTL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/err.h"
#include "sesctl/secret.h"

/* One set of SMTP settings. */
struct smtp_creds {
	const char *region;
	const char *host;
	int port;
	const char *user;               /* the access key id; NULL if unknown */
	const struct secret *password;
};

#define OUTPUT_NEEDS_USER 0x1 /* the format makes no sense without a user */

struct output_format {
	const char *name;
	sesctl_err (*render)(const struct smtp_creds *c, struct secret *out);
	unsigned flags;
	const char *description;
};

/* The format called `name`, or NULL. */
const struct output_format *output_lookup(const char *name);

/* All formats, in the order --help lists them; the first is the default. */
const struct output_format *output_formats(size_t *count);

/* Render `c` in format `fmt` into `out` (replacing its contents).
 * SESCTL_ERR_INPUT if the format needs a user and `c` has none. */
MUST_USE sesctl_err output_render(const struct output_format *fmt,
				  const struct smtp_creds *c,
				  struct secret *out);

#endif

/* shlex.c - Python's shlex.split(), the one shell-word splitter of the
 * credentials code (see creds_int.h): botocore uses it for config-file
 * section names ([profile "a b"], configloader.build_profile_map) and for
 * credential_process (compat_shell_split). */
#include "creds_int.h"

int creds_shlex_split(unsigned char *b, size_t len, struct shlex_word *w,
		      size_t max)
{
	size_t r = 0, o = 0;
	bool in_word = false;
	size_t n = 0;

	while (r < len) {
		unsigned char c = b[r];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (in_word) {
				w[n - 1].len = o - w[n - 1].off;
				b[o++] = '\0';
			}
			in_word = false;
			r++;
			continue;
		}
		if (!in_word) {
			if (n >= max)
				return -2;
			w[n].off = o;
			w[n].len = 0;
			n++;
			in_word = true;
		}
		if (c == '\'') {
			for (r++; r < len && b[r] != '\''; )
				b[o++] = b[r++];
			if (r == len)
				return -1;
			r++;
		} else if (c == '"') {
			for (r++; r < len && b[r] != '"'; ) {
				if (b[r] == '\\' && r + 1 < len &&
				    (b[r + 1] == '"' || b[r + 1] == '\\'))
					r++;
				b[o++] = b[r++];
			}
			if (r == len)
				return -1;
			r++;
		} else if (c == '\\') {
			if (r + 1 == len)
				return -1;
			b[o++] = b[r + 1];
			r += 2;
		} else {
			b[o++] = b[r++];
		}
	}
	if (in_word) {
		w[n - 1].len = o - w[n - 1].off;
		if (o < len)
			b[o] = '\0';
	}
	return (int)n;
}

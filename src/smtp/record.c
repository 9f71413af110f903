/* record.c - the delivery record in the IAM user's tags (see record.h). */
#include "sesctl/smtp/record.h"

#include <stdio.h>
#include <string.h>

static const char *tag_of(const struct iam_user *u, const char *key)
{
	size_t i;

	for (i = 0; i < u->tag_count; i++)
		if (strcmp(u->tags[i].key, key) == 0)
			return u->tags[i].value;
	return NULL;
}

/* Copy a store tag's value into dst[size]; one too long is cut short
 * (returns true), never dropped. */
static bool copy_cut(char *dst, size_t size, const char *src)
{
	if (str_copy(dst, size, src))
		return false;
	memcpy(dst, src, size - 1);
	dst[size - 1] = '\0';
	return true;
}

void record_read(const struct iam_user *u, struct record *r)
{
	const char *regions = tag_of(u, RECORD_TAG_REGIONS);
	const char *p;

	memset(r, 0, sizeof(*r));
	/* A value too long is no value sesctl wrote. */
	(void)str_copy(r->current, sizeof(r->current),
		       tag_of(u, RECORD_TAG_CURRENT));
	(void)str_copy(r->kept, sizeof(r->kept), tag_of(u, RECORD_TAG_KEPT));
	(void)str_copy(r->format, sizeof(r->format),
		       tag_of(u, RECORD_TAG_FORMAT));
	r->secrets_cut = copy_cut(r->secrets, sizeof(r->secrets),
				  tag_of(u, RECORD_TAG_SECRETS));
	r->ssm_cut = copy_cut(r->ssm, sizeof(r->ssm), tag_of(u, RECORD_TAG_SSM));
	if (!regions)
		return;
	r->present = true;
	for (p = regions; *p && r->n_regions < RECORD_REGIONS_MAX;) {
		size_t len;

		p += strspn(p, " ");
		len = strcspn(p, " ");
		if (len == 0)
			break;
		if (len <= REGION_NAME_MAX) {
			memcpy(r->regions[r->n_regions], p, len);
			r->regions[r->n_regions++][len] = '\0';
		}
		p += len;
	}
}

enum key_role record_role(const struct record *r,
			  const struct iam_access_key_meta *k, time_t now)
{
	if (r->current[0] && strcmp(k->access_key_id, r->current) == 0)
		return KEY_CURRENT;
	if (r->kept[0] && strcmp(k->access_key_id, r->kept) == 0)
		return KEY_KEPT;
	if (!r->present)
		return KEY_LEGACY;
	/* A date IAM did not send is treated as new: never deleted on a
	 * guess. */
	if (!k->create_date.present ||
	    now - k->create_date.t < RECORD_GRACE_SECONDS)
		return KEY_IN_FLIGHT;
	return KEY_LOST;
}

bool record_anchored(const struct record *r,
		     const struct iam_access_key_list *keys)
{
	size_t i;

	for (i = 0; i < keys->count; i++) {
		const char *id = keys->items[i].access_key_id;

		if (r->current[0] && strcmp(id, r->current) == 0)
			return true;
	}
	return false;
}

enum key_role record_role_in(const struct record *r,
			     const struct iam_access_key_list *keys,
			     const struct iam_access_key_meta *k, time_t now)
{
	enum key_role role = record_role(r, k, now);

	if (role == KEY_LOST && !record_anchored(r, keys))
		return KEY_LEGACY;
	return role;
}

const char *record_role_name(enum key_role role)
{
	switch (role) {
	case KEY_CURRENT:
		return "current";
	case KEY_KEPT:
		return "kept";
	case KEY_LEGACY:
		return "unrecorded, may be an app's";
	case KEY_IN_FLIGHT:
		return "unrecorded, in flight";
	case KEY_LOST:
		return "unrecorded, undelivered";
	default:
		return "unknown";
	}
}

size_t record_tags(const char *current, const char *kept,
		   const char *const *regions, size_t n_regions,
		   const char *format, struct iam_tag_in tags[4], char *buf,
		   size_t buf_size)
{
	size_t n = 0;

	region_join(regions, n_regions, " ", buf, buf_size);
	tags[n++] = (struct iam_tag_in){ RECORD_TAG_CURRENT, current };
	tags[n++] = (struct iam_tag_in){ RECORD_TAG_KEPT, kept ? kept : "" };
	tags[n++] = (struct iam_tag_in){ RECORD_TAG_REGIONS, buf };
	tags[n++] = (struct iam_tag_in){ RECORD_TAG_FORMAT, format };
	return n;
}

bool record_has_region(const struct record *r, const char *region)
{
	size_t i;

	for (i = 0; i < r->n_regions; i++)
		if (strcmp(r->regions[i], region) == 0)
			return true;
	return false;
}

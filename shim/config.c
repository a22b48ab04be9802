// SPDX-License-Identifier: MIT
/* Parsing of the VFIOCOMPAT_* variables (see vfiocompat.h for the names). */
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/utsname.h>

#include "vfiocompat.h"
#include "config.h"
#include "internal.h"

struct shim_config shim_config = {
	.fallback = SHIM_FALLBACK_AUTO,
	.dma_entry_limit = 65535,
	.log_level = SHIM_LOG_WARN,
	.log_cats = SHIM_CAT_ALL,
	.quiet = true,
	/* until config_init(): the newest type1 the shim knows (unit tests) */
	.type1_kver = TYPE1_KVER(6, 19),
};

static const struct {
	const char *name;
	int level;
	unsigned int cats;
} log_words[] = {
	{ "off", SHIM_LOG_OFF, 0 },
	{ "error", SHIM_LOG_ERROR, 0 },
	{ "warn", SHIM_LOG_WARN, 0 },
	{ "info", SHIM_LOG_INFO, 0 },
	{ "debug", SHIM_LOG_DEBUG, 0 },
	{ "init", -1, SHIM_CAT_INIT },
	{ "fd", -1, SHIM_CAT_FD },
	{ "container", -1, SHIM_CAT_CONTAINER },
	{ "iommufd", -1, SHIM_CAT_IOMMUFD },
	{ "trace", -1, SHIM_CAT_TRACE },
	{ "all", -1, SHIM_CAT_ALL },
};

/*
 * "debug" or "info,trace,iommufd": level words set the level, category words
 * select categories (all when none is named). Naming a category alone implies
 * debug, since that is the level its lines are written at.
 */
static bool parse_log(struct shim_config *cfg, const char *s)
{
	unsigned int cats = 0;
	int level = -1;
	bool ok = true;

	while (*s) {
		size_t n = strcspn(s, ",");
		size_t i;

		for (i = 0; i < ARRAY_SIZE(log_words); i++) {
			if (strlen(log_words[i].name) == n &&
			    !strncmp(s, log_words[i].name, n))
				break;
		}
		if (i == ARRAY_SIZE(log_words)) {
			ok = false;
		} else if (log_words[i].level >= 0) {
			level = log_words[i].level;
		} else {
			cats |= log_words[i].cats;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	if (level < 0)
		level = cats ? SHIM_LOG_DEBUG : cfg->log_level;
	cfg->log_level = level;
	cfg->log_cats = cats ? cats : SHIM_CAT_ALL;
	return ok;
}

static bool parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!*s)
		return false;
	v = strtoul(s, &end, 0);
	if (*end || v > UINT32_MAX || s[0] == '-')
		return false;
	*out = (uint32_t)v;
	return true;
}

uint16_t config_parse_kver(const char *release)
{
	unsigned long major, minor;
	char *end;

	if (!release || *release < '1' || *release > '9')
		return 0;
	major = strtoul(release, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return 0;
	minor = strtoul(end + 1, &end, 10);
	if (major > 255 || minor > 255 || (*end && *end != '.' && *end != '-' &&
					     *end != '+'))
		return 0;
	return TYPE1_KVER(major, minor);
}

/*
 * The kernel whose type1 answers are given: the setting, else the running
 * kernel. A release that does not parse keeps the newest behaviour known.
 */
static void set_type1_kver(struct shim_config *cfg, const char *setting)
{
	struct utsname u;
	uint16_t v = 0;

	if (setting && *setting) {
		v = config_parse_kver(setting);
		if (!v && !cfg->bad_value)
			cfg->bad_value = VFIOCOMPAT_ENV_TYPE1_KERNEL;
	}
	if (!v && !uname(&u))
		v = config_parse_kver(u.release);
	if (v)
		cfg->type1_kver = v;
}

static const char *const groups_words[] = {
	[SHIM_GROUPS_AUTO] = "auto",
	[SHIM_GROUPS_KERNEL] = "kernel",
	[SHIM_GROUPS_CDEV] = "cdev",
};

static void set_groups(struct shim_config *cfg, const char *s)
{
	size_t i;

	if (!s || !*s)
		return;
	for (i = 0; i < ARRAY_SIZE(groups_words); i++) {
		if (!strcmp(s, groups_words[i])) {
			cfg->groups = (enum shim_groups)i;
			return;
		}
	}
	if (!cfg->bad_value)
		cfg->bad_value = VFIOCOMPAT_ENV_GROUPS;
}

static bool truthy(const char *s)
{
	return *s && strcmp(s, "0") && strcmp(s, "no") && strcmp(s, "false");
}

/* The fields derived from the others. */
static void settle(struct shim_config *cfg)
{
	cfg->quiet = !cfg->report_file &&
		     !(cfg->log_level >= SHIM_LOG_DEBUG &&
		       (cfg->log_cats & SHIM_CAT_TRACE));
}

void config_parse(struct shim_config *cfg, const char *disable,
		  const char *log, const char *log_file, const char *fallback,
		  const char *limit)
{
	if (disable)
		cfg->disabled = truthy(disable);
	if (log && !parse_log(cfg, log) && !cfg->bad_value)
		cfg->bad_value = VFIOCOMPAT_ENV_LOG;
	if (log_file && *log_file)
		cfg->log_file = log_file;
	if (fallback) {
		if (!strcmp(fallback, "never"))
			cfg->fallback = SHIM_FALLBACK_NEVER;
		else if (!strcmp(fallback, "auto") || !*fallback)
			cfg->fallback = SHIM_FALLBACK_AUTO;
		else if (!cfg->bad_value)
			cfg->bad_value = VFIOCOMPAT_ENV_FALLBACK;
	}
	if (limit && !parse_u32(limit, &cfg->dma_entry_limit) &&
	    !cfg->bad_value)
		cfg->bad_value = VFIOCOMPAT_ENV_DMA_ENTRY_LIMIT;
	settle(cfg);
}

void config_load(struct shim_config *cfg, bool secure,
		 const char *(*get)(const char *name))
{
	/* setuid/setcap programs must not be steerable through the environment */
	if (secure) {
		cfg->secure = true;
		set_type1_kver(cfg, NULL);
		settle(cfg);
		return;
	}
	set_type1_kver(cfg, get(VFIOCOMPAT_ENV_TYPE1_KERNEL));
	config_parse(cfg, get(VFIOCOMPAT_ENV_DISABLE), get(VFIOCOMPAT_ENV_LOG),
		     get(VFIOCOMPAT_ENV_LOG_FILE), get(VFIOCOMPAT_ENV_FALLBACK),
		     get(VFIOCOMPAT_ENV_DMA_ENTRY_LIMIT));
	set_groups(cfg, get(VFIOCOMPAT_ENV_GROUPS));
	cfg->report_file = get(VFIOCOMPAT_ENV_REPORT);
	if (get(VFIOCOMPAT_ENV_TRAP))
		cfg->trap = truthy(get(VFIOCOMPAT_ENV_TRAP));
	if (cfg->report_file && !*cfg->report_file)
		cfg->report_file = NULL;
	settle(cfg);
}

static const char *env(const char *name)
{
	return getenv(name);
}

void config_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	config_load(&shim_config, getauxval(AT_SECURE) != 0, env);
}

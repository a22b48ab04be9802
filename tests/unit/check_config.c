// SPDX-License-Identifier: MIT
/* VFIOCOMPAT_* parsing. */
#include <check.h>
#include <string.h>

#include "vfiocompat.h"
#include "config.h"
#include "log.h"
#include "report.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/vfio.h>

static const struct {
	const char *log;
	int level;
	unsigned int cats;
	bool quiet;	/* no call trace: MAP/UNMAP may take the short way */
} log_rows[] = {
	{ "debug", SHIM_LOG_DEBUG, SHIM_CAT_ALL, false },
	{ "off", SHIM_LOG_OFF, SHIM_CAT_ALL, true },
	{ "trace", SHIM_LOG_DEBUG, SHIM_CAT_TRACE, false },
	{ "info,iommufd,trace", SHIM_LOG_INFO, SHIM_CAT_IOMMUFD | SHIM_CAT_TRACE,
	  true },
	{ "debug,iommufd", SHIM_LOG_DEBUG, SHIM_CAT_IOMMUFD, true },
	{ "error", SHIM_LOG_ERROR, SHIM_CAT_ALL, true },
};

START_TEST(test_log_spec)
{
	struct shim_config cfg = { .log_level = SHIM_LOG_WARN };

	config_parse(&cfg, NULL, log_rows[_i].log, NULL, NULL, NULL);
	ck_assert_int_eq(cfg.log_level, log_rows[_i].level);
	ck_assert_uint_eq(cfg.log_cats, log_rows[_i].cats);
	ck_assert_int_eq(cfg.quiet, log_rows[_i].quiet);
	ck_assert_ptr_null(cfg.bad_value);
}
END_TEST

START_TEST(test_values)
{
	struct shim_config cfg = { .dma_entry_limit = 65535 };

	config_parse(&cfg, "1", NULL, "/tmp/x.log", "never", "100");
	ck_assert(cfg.disabled);
	ck_assert_str_eq(cfg.log_file, "/tmp/x.log");
	ck_assert_int_eq(cfg.fallback, SHIM_FALLBACK_NEVER);
	ck_assert_uint_eq(cfg.dma_entry_limit, 100);
	config_parse(&cfg, "0", NULL, NULL, NULL, NULL);
	ck_assert(!cfg.disabled);
}
END_TEST

START_TEST(test_bad_values_named_and_ignored)
{
	struct shim_config cfg = { .dma_entry_limit = 65535 };

	config_parse(&cfg, NULL, NULL, NULL, NULL, "-3");
	ck_assert_str_eq(cfg.bad_value, "VFIOCOMPAT_DMA_ENTRY_LIMIT");
	ck_assert_uint_eq(cfg.dma_entry_limit, 65535);
	cfg.bad_value = NULL;
	config_parse(&cfg, NULL, NULL, NULL, "sometimes", NULL);
	ck_assert_str_eq(cfg.bad_value, "VFIOCOMPAT_FALLBACK");
	cfg.bad_value = NULL;
	config_parse(&cfg, NULL, "loud", NULL, NULL, NULL);
	ck_assert_str_eq(cfg.bad_value, "VFIOCOMPAT_LOG");
}
END_TEST

static const char *hostile_env(const char *name)
{
	if (!strcmp(name, "VFIOCOMPAT_LOG_FILE"))
		return "/etc/shadow";
	if (!strcmp(name, "VFIOCOMPAT_DISABLE"))
		return "1";
	return "debug";
}

START_TEST(test_secure_execution_ignores_everything)
{
	struct shim_config cfg = { .log_level = SHIM_LOG_WARN,
				   .dma_entry_limit = 65535 };

	config_load(&cfg, true, hostile_env);
	ck_assert(cfg.secure);
	ck_assert(!cfg.disabled);
	ck_assert_ptr_null(cfg.log_file);
	ck_assert_ptr_null(cfg.report_file);
	ck_assert_int_eq(cfg.log_level, SHIM_LOG_WARN);
	config_load(&cfg, false, hostile_env);
	ck_assert(cfg.disabled);
	ck_assert_str_eq(cfg.log_file, "/etc/shadow");
	/* a report (and a debug trace) to write: every call takes the long way */
	ck_assert_str_eq(cfg.report_file, "debug");
	ck_assert(!cfg.quiet);
}
END_TEST

/* uname's release or VFIOCOMPAT_TYPE1_KERNEL: whose type1 to answer as */
static const struct {
	const char *release;
	uint16_t kver;
} kver_rows[] = {
	{ "6.12.118+deb12-amd64", TYPE1_KVER(6, 12) },
	{ "7.2.13+deb14-amd64", TYPE1_KVER(7, 2) },
	{ "6.19", TYPE1_KVER(6, 19) },
	{ "7.3-rc1", TYPE1_KVER(7, 3) },
	{ "6.12.0-55.el10.x86_64", TYPE1_KVER(6, 12) },
	{ "", 0 },	     { "6", 0 },   { "6.", 0 },	    { "6.x", 0 },
	{ "v6.12", 0 },	     { "06.12", 0 }, { "6.12x", 0 },  { "300.1", 0 },
	{ "6.300", 0 },
};

START_TEST(test_type1_kernel_release)
{
	ck_assert_msg(config_parse_kver(kver_rows[_i].release) ==
			      kver_rows[_i].kver,
		      "'%s'", kver_rows[_i].release);
}
END_TEST

static const char *kver_env(const char *name)
{
	return !strcmp(name, VFIOCOMPAT_ENV_TYPE1_KERNEL) ? "6.12" : NULL;
}

static const char *bad_kver_env(const char *name)
{
	return !strcmp(name, VFIOCOMPAT_ENV_TYPE1_KERNEL) ? "six" : NULL;
}

START_TEST(test_type1_kernel_setting)
{
	struct shim_config cfg = { .type1_kver = 1 };

	config_load(&cfg, false, kver_env);
	ck_assert_uint_eq(cfg.type1_kver, TYPE1_KVER(6, 12));
	ck_assert_ptr_null(cfg.bad_value);
	/* a bad setting is named and the running kernel's type1 is used */
	memset(&cfg, 0, sizeof(cfg));
	config_load(&cfg, false, bad_kver_env);
	ck_assert_str_eq(cfg.bad_value, VFIOCOMPAT_ENV_TYPE1_KERNEL);
	ck_assert_uint_ne(cfg.type1_kver, 0);
	/* secure execution: the setting is ignored, the kernel still read */
	memset(&cfg, 0, sizeof(cfg));
	config_load(&cfg, true, kver_env);
	ck_assert_uint_ne(cfg.type1_kver, 0);
}
END_TEST

/* VFIOCOMPAT_GROUPS: who serves /dev/vfio/N */
static const struct {
	const char *value;
	enum shim_groups groups;
	bool bad;
} groups_rows[] = {
	{ NULL, SHIM_GROUPS_AUTO, false },
	{ "", SHIM_GROUPS_AUTO, false },
	{ "auto", SHIM_GROUPS_AUTO, false },
	{ "kernel", SHIM_GROUPS_KERNEL, false },
	{ "cdev", SHIM_GROUPS_CDEV, false },
	{ "CDEV", SHIM_GROUPS_AUTO, true },
	{ "cdevs", SHIM_GROUPS_AUTO, true },
};

static const char *groups_value;

static const char *groups_env(const char *name)
{
	return !strcmp(name, VFIOCOMPAT_ENV_GROUPS) ? groups_value : NULL;
}

START_TEST(test_groups_setting)
{
	struct shim_config cfg = { 0 };

	groups_value = groups_rows[_i].value;
	config_load(&cfg, false, groups_env);
	ck_assert_int_eq(cfg.groups, groups_rows[_i].groups);
	if (groups_rows[_i].bad)
		ck_assert_str_eq(cfg.bad_value, VFIOCOMPAT_ENV_GROUPS);
	else
		ck_assert_ptr_null(cfg.bad_value);
	/* secure execution: the kernel decides (auto) */
	memset(&cfg, 0, sizeof(cfg));
	config_load(&cfg, true, groups_env);
	ck_assert_int_eq(cfg.groups, SHIM_GROUPS_AUTO);
}
END_TEST

START_TEST(test_report_json_line)
{
	char path[] = "/tmp/vfiocompat-report-XXXXXX", line[8192];
	FILE *f;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	unlink(path);
	report_reset();
	ck_assert(!report_used());
	report_container_opened();
	report_call(VFIO_IOMMU_MAP_DMA, 0);
	report_call(VFIO_IOMMU_MAP_DMA, -EEXIST);
	report_call(VFIO_IOMMU_MAP_DMA, -EEXIST);
	report_call(_IO(VFIO_TYPE, VFIO_BASE + 30), -ENOTTY);
	report_difference(REPORT_DIFF_VADDR);
	report_mappings(3, 0x3000);
	ck_assert_int_eq(report_write(path), 0);
	ck_assert_int_eq(report_write(path), 0);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_ptr_nonnull(strstr(line, "\"VFIO_IOMMU_MAP_DMA\":{\"class\":\"translated\",\"count\":3,\"ok\":1,\"errors\":{\"EEXIST\":2}}"));
	ck_assert_ptr_nonnull(strstr(line, "\"VFIO_BASE+30\":{\"class\":\"refused\",\"count\":1"));
	ck_assert_ptr_nonnull(strstr(line, "\"update_vaddr\":1"));
	ck_assert_ptr_nonnull(strstr(line, "\"peak_mappings\":3,\"peak_mapped_bytes\":12288,\"signals_deferred\":0,"));
	ck_assert_ptr_nonnull(strstr(line, "\"refused\":1,\"differences_hit\":1,\"strict_ok\":false}\n"));
	/* appended: one line per write */
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_ptr_null(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(path);
}
END_TEST

Suite *config_suite(void);

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *t = tcase_create("parse");

	tcase_add_loop_test(t, test_log_spec, 0,
			    sizeof(log_rows) / sizeof(log_rows[0]));
	tcase_add_test(t, test_values);
	tcase_add_test(t, test_bad_values_named_and_ignored);
	tcase_add_test(t, test_secure_execution_ignores_everything);
	tcase_add_test(t, test_report_json_line);
	tcase_add_loop_test(t, test_type1_kernel_release, 0,
			    sizeof(kver_rows) / sizeof(kver_rows[0]));
	tcase_add_test(t, test_type1_kernel_setting);
	tcase_add_loop_test(t, test_groups_setting, 0,
			    sizeof(groups_rows) / sizeof(groups_rows[0]));
	suite_add_tcase(s, t);
	return s;
}

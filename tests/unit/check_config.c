// SPDX-License-Identifier: MIT
/* VFIOCOMPAT_* parsing. */
#include <check.h>

#include "config.h"
#include "log.h"

static const struct {
	const char *log;
	int level;
	unsigned int cats;
} log_rows[] = {
	{ "debug", SHIM_LOG_DEBUG, SHIM_CAT_ALL },
	{ "off", SHIM_LOG_OFF, SHIM_CAT_ALL },
	{ "trace", SHIM_LOG_DEBUG, SHIM_CAT_TRACE },
	{ "info,iommufd,trace", SHIM_LOG_INFO, SHIM_CAT_IOMMUFD | SHIM_CAT_TRACE },
	{ "error", SHIM_LOG_ERROR, SHIM_CAT_ALL },
};

START_TEST(test_log_spec)
{
	struct shim_config cfg = { .log_level = SHIM_LOG_WARN };

	config_parse(&cfg, NULL, log_rows[_i].log, NULL, NULL, NULL);
	ck_assert_int_eq(cfg.log_level, log_rows[_i].level);
	ck_assert_uint_eq(cfg.log_cats, log_rows[_i].cats);
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

Suite *config_suite(void);

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *t = tcase_create("parse");

	tcase_add_loop_test(t, test_log_spec, 0,
			    sizeof(log_rows) / sizeof(log_rows[0]));
	tcase_add_test(t, test_values);
	tcase_add_test(t, test_bad_values_named_and_ignored);
	suite_add_tcase(s, t);
	return s;
}

// SPDX-License-Identifier: MIT
#include <check.h>
#include <stdlib.h>

Suite *container_suite(void);
Suite *maptree_suite(void);
Suite *config_suite(void);
Suite *path_suite(void);
Suite *fdtable_suite(void);

int main(void)
{
	SRunner *sr = srunner_create(container_suite());
	int failed;

	srunner_add_suite(sr, maptree_suite());
	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, path_suite());
	srunner_add_suite(sr, fdtable_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

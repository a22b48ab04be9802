// SPDX-License-Identifier: MIT
/*
 * The devices the tests use: the guest's edu and e1000e, bound to vfio-pci
 * (tests/vm/vm-run names them in VM_EDU_* and VM_NIC_*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfiotest.h"

int vt_group_of_bdf(const char *bdf)
{
	char p[256], l[256];
	ssize_t n;

	if (!bdf)
		return -1;
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(p, l, sizeof(l) - 1);
	if (n < 0)
		return -1;
	l[n] = 0;
	return atoi(strrchr(l, '/') + 1);
}

static int env_group(const char *gvar, const char *bvar)
{
	const char *g = getenv(gvar);

	if (g && *g)
		return atoi(g);
	return vt_group_of_bdf(getenv(bvar));
}

int vt_edu_group(void)
{
	return env_group("VM_EDU_GROUP", "VM_EDU_BDF");
}

const char *vt_edu_bdf(void)
{
	return getenv("VM_EDU_BDF");
}

int vt_nic_group(void)
{
	return env_group("VM_NIC_GROUP", "VM_NIC_BDF");
}

const char *vt_nic_bdf(void)
{
	return getenv("VM_NIC_BDF");
}

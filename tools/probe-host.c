// SPDX-License-Identifier: MIT
/*
 * vfiocompat-probe host: the walk behind `vfiocompat-run --check`. It reads
 * files only (sysfs, /dev, /proc/cmdline) and opens no device: what the kernel
 * release offers, which device nodes exist and who may use them, which IOMMU
 * groups exist, their devices and drivers, and whether a group can be viable
 * for VFIO. The doctor asks the kernel itself with the other subcommands.
 *
 * Output, key=value lines: kernel, kernel.level (major * 1000 + minor) and a
 * 0/1 line per kernel_features[] entry; iommu.* (/dev/iommu) and container.*
 * (/dev/vfio/vfio), each .node=present|missing and, if present, .access and
 * .desc (print_node()); iommu.loaded, iommu.minor, iommufd.holds_vfio,
 * vfio.loaded, vfio.type1_loaded, cdevs, iommus, cmdline.iommu,
 * hugepages.kib; groups=COUNT, then per group "group=N" followed by its
 * group.* lines (walk_group()).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "probe.h"

/* what each kernel release brings that the doctor talks about */
static const struct {
	const char *key;
	unsigned int level; /* major * 1000 + minor */
} kernel_features[] = {
	{"kernel.iommufd", 6002},  /* iommufd, groups joining it, RLIMIT_MODE */
	{"kernel.cdev", 6006},	   /* VFIO device cdevs */
	{"kernel.map_file", 6013}, /* IOMMU_IOAS_MAP_FILE */
};

/*
 * Drivers that leave a group viable besides the vfio ones: the kernel's
 * driver_managed_dma drivers and an unbound device.
 */
static const char *const harmless_drivers[] = {"none", "pci-stub", "pcieport"};

static const char *root = "";

/* snprintf whose truncation is acceptable here: a cut name matches nothing */
__attribute__((format(printf, 3, 4))) static void fmt(char *buf, size_t len,
						      const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, len, f, ap);
	va_end(ap);
}

/* ROOT + the path made from F */
__attribute__((format(printf, 2, 3))) static const char *at(char *buf,
							    const char *f, ...)
{
	char rel[PATH_MAX];
	va_list ap;

	va_start(ap, f);
	vsnprintf(rel, sizeof(rel), f, ap);
	va_end(ap);
	fmt(buf, PATH_MAX, "%s%s", root, rel);
	return buf;
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* the first line of PATH without its newline; 0 if unreadable */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return 0;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static void kernel_levels(const char *release)
{
	unsigned int major = 0, minor = 0, level;
	struct utsname u;
	size_t i;

	if (!release || !*release) {
		uname(&u);
		release = u.release;
	}
	if (sscanf(release, "%u.%u", &major, &minor) < 2)
		major = minor = 0;
	level = major * 1000 + minor;
	printf("kernel=%s\nkernel.level=%u\n", release, level);
	for (i = 0; i < sizeof(kernel_features) / sizeof(kernel_features[0]);
	     i++)
		printf("%s=%d\n", kernel_features[i].key,
		       level >= kernel_features[i].level);
}

/* "crw-rw---- root:root 10:260" as ls and stat would say it */
static void node_desc(const char *path, char *buf, size_t len)
{
	static const char rwx[] = "rwxrwxrwx";
	char mode[11], user[64], group[64];
	struct passwd *pw;
	struct group *gr;
	struct stat st;
	int i;

	buf[0] = '\0';
	if (stat(path, &st) < 0)
		return;
	mode[0] = S_ISCHR(st.st_mode)	 ? 'c'
		  : S_ISBLK(st.st_mode)	 ? 'b'
		  : S_ISDIR(st.st_mode)	 ? 'd'
		  : S_ISFIFO(st.st_mode) ? 'p'
		  : S_ISSOCK(st.st_mode) ? 's'
					 : '-';
	for (i = 0; i < 9; i++)
		mode[i + 1] = st.st_mode & (0400 >> i) ? rwx[i] : '-';
	mode[10] = '\0';
	pw = getpwuid(st.st_uid);
	gr = getgrgid(st.st_gid);
	if (pw)
		fmt(user, sizeof(user), "%s", pw->pw_name);
	else
		fmt(user, sizeof(user), "%u", (unsigned int)st.st_uid);
	if (gr)
		fmt(group, sizeof(group), "%s", gr->gr_name);
	else
		fmt(group, sizeof(group), "%u", (unsigned int)st.st_gid);
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
		fmt(buf, len, "%s %s:%s %u:%u", mode, user, group,
		    major(st.st_rdev), minor(st.st_rdev));
	else
		fmt(buf, len, "%s %s:%s", mode, user, group);
}

/*
 * KEY.node=present|missing, KEY.access=rw|r|w|none (for this process's
 * effective ids), KEY.desc=mode owner numbers. With CHAR, only a character
 * device counts, or under a stand-in root any file standing for one.
 */
static void print_node(const char *key, const char *path, int chr)
{
	char desc[256];
	struct stat st;
	int present, r, w;

	present = stat(path, &st) == 0 && (!chr || S_ISCHR(st.st_mode) ||
					   (*root && !S_ISDIR(st.st_mode)));
	printf("%s.node=%s\n", key, present ? "present" : "missing");
	if (!present)
		return;
	r = faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) == 0;
	w = faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0;
	node_desc(path, desc, sizeof(desc));
	printf("%s.access=%s\n%s.desc=%s\n", key,
	       r && w ? "rw"
	       : r    ? "r"
	       : w    ? "w"
		      : "none",
	       key, desc);
}

/* the entries of DIR (not . and ..) joined by spaces, in version order */
static void print_names(const char *key, const char *dir)
{
	struct dirent **names;
	int n, i, shown = 0;

	printf("%s=", key);
	n = scandir(dir, &names, NULL, versionsort);
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;

		if (strcmp(name, ".") && strcmp(name, ".."))
			printf("%s%s", shown++ ? " " : "", name);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	printf("\n");
}

static int is_harmless(const char *drv)
{
	size_t i;

	for (i = 0; i < sizeof(harmless_drivers) / sizeof(harmless_drivers[0]);
	     i++)
		if (!strcmp(drv, harmless_drivers[i]))
			return 1;
	return 0;
}

/* the bound driver's name: "none" if unbound, "unknown" if unreadable */
static void driver_of(const char *dev, char *buf, size_t len)
{
	char link[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	char *base;

	fmt(link, sizeof(link), "%s/driver", dev);
	if (!exists(link)) {
		fmt(buf, len, "none");
		return;
	}
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0) {
		fmt(buf, len, "unknown");
		return;
	}
	target[n] = '\0';
	base = strrchr(target, '/');
	fmt(buf, len, "%s", base ? base + 1 : target);
}

/* " [8086:10fb]" from the device's vendor and device files, or "" */
static void pci_id(const char *dev, char *buf, size_t len)
{
	char p[PATH_MAX], ven[32], id[32];

	buf[0] = '\0';
	fmt(p, sizeof(p), "%s/vendor", dev);
	if (!read_line(p, ven, sizeof(ven)))
		return;
	fmt(p, sizeof(p), "%s/device", dev);
	if (!read_line(p, id, sizeof(id)))
		return;
	fmt(buf, len, " [%s:%s]", strncmp(ven, "0x", 2) ? ven : ven + 2,
	    strncmp(id, "0x", 2) ? id : id + 2);
}

static void append(char *buf, size_t len, const char *sep, const char *s)
{
	size_t used = strlen(buf);

	fmt(buf + used, len - used, "%s%s", used ? sep : "", s);
}

/*
 * group=N, then group.devices (BDF [ven:dev] driver, ...), group.vfio (a
 * device is bound to a vfio driver), group.blockers (devices whose driver
 * makes the group not viable), group.path (/dev/vfio/N, /dev/vfio/noiommu-N,
 * or empty) with its access and desc.
 */
static void walk_group(const char *dir, const char *n)
{
	char devs[8192] = "", blockers[4096] = "", p[PATH_MAX], d[PATH_MAX];
	char drv[256], id[32], item[PATH_MAX + 320];
	struct dirent **names;
	int has_vfio = 0, k, nd;

	fmt(p, sizeof(p), "%s/devices", dir);
	nd = scandir(p, &names, NULL, versionsort);
	for (k = 0; k < nd; k++) {
		const char *bdf = names[k]->d_name;

		if (bdf[0] != '.') {
			fmt(d, sizeof(d), "%s/%s", p, bdf);
			driver_of(d, drv, sizeof(drv));
			pci_id(d, id, sizeof(id));
			fmt(item, sizeof(item), "%s%s %s", bdf, id, drv);
			append(devs, sizeof(devs), ", ", item);
			if (strstr(drv, "vfio")) {
				has_vfio = 1;
			} else if (!is_harmless(drv)) {
				fmt(item, sizeof(item), "%s (%s)", bdf, drv);
				append(blockers, sizeof(blockers), ", ", item);
			}
		}
		free(names[k]);
	}
	if (nd >= 0)
		free(names);
	printf("group=%s\ngroup.devices=%s\ngroup.vfio=%d\ngroup.blockers=%s\n",
	       n, devs, has_vfio, blockers);
	if (!exists(at(p, "/dev/vfio/%s", n)) &&
	    exists(at(p, "/dev/vfio/noiommu-%s", n))) {
		printf("group.path=/dev/vfio/noiommu-%s\n", n);
	} else if (exists(at(p, "/dev/vfio/%s", n))) {
		printf("group.path=/dev/vfio/%s\n", n);
		print_node("group", p, 0);
	} else {
		printf("group.path=\n");
	}
}

/* groups=COUNT, then each group with a devices directory, in number order */
static void walk_groups(void)
{
	char dir[PATH_MAX], g[PATH_MAX], dev[PATH_MAX];
	struct dirent **names;
	int n, i, count = 0;

	n = scandir(at(dir, "/sys/kernel/iommu_groups"), &names, NULL,
		    versionsort);
	for (i = 0; i < n; i++) {
		fmt(dev, sizeof(dev), "%s/%s/devices", dir, names[i]->d_name);
		count += names[i]->d_name[0] != '.' && is_dir(dev);
	}
	printf("groups=%d\n", count);
	for (i = 0; i < n; i++) {
		fmt(g, sizeof(g), "%s/%s", dir, names[i]->d_name);
		fmt(dev, sizeof(dev), "%s/devices", g);
		if (names[i]->d_name[0] != '.' && is_dir(dev))
			walk_group(g, names[i]->d_name);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

/* kB of every reserved hugepage, as DPDK would map them all */
static void hugepages(void)
{
	char dir[PATH_MAX], p[PATH_MAX], nr[32];
	unsigned long long kib = 0, size;
	struct dirent **names;
	int n, i;

	n = scandir(at(dir, "/sys/kernel/mm/hugepages"), &names, NULL,
		    alphasort);
	for (i = 0; i < n; i++) {
		fmt(p, sizeof(p), "%s/%s/nr_hugepages", dir, names[i]->d_name);
		if (sscanf(names[i]->d_name, "hugepages-%llukB", &size) == 1 &&
		    read_line(p, nr, sizeof(nr)))
			kib += size * strtoull(nr, NULL, 10);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	printf("hugepages.kib=%llu\n", kib);
}

/* the kernel command line asks for an IOMMU */
static int cmdline_iommu(void)
{
	static const char *const words[] = {"intel_iommu=on", "amd_iommu=on",
					    "iommu=pt"};
	char p[PATH_MAX], line[4096];
	size_t i;

	if (!read_line(at(p, "/proc/cmdline"), line, sizeof(line)))
		return 0;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(line, words[i]))
			return 1;
	return 0;
}

int probe_host(const char *stand_in_root, const char *release)
{
	char p[PATH_MAX], minor[32] = "";

	root = stand_in_root;
	kernel_levels(release);

	print_node("iommu", at(p, "/dev/iommu"), 1);
	printf("iommu.loaded=%d\n",
	       exists(at(p, "/sys/class/misc/iommu")) ||
		       is_dir(at(p, "/sys/module/iommufd")));
	if (read_line(at(p, "/sys/class/misc/iommu/dev"), minor, sizeof(minor)))
		printf("iommu.minor=%s\n",
		       strchr(minor, ':') ? strchr(minor, ':') + 1 : minor);
	printf("iommufd.holds_vfio=%d\n",
	       is_dir(at(p, "/sys/module/iommufd/holders/vfio")));

	printf("vfio.loaded=%d\n", is_dir(at(p, "/sys/module/vfio")) ||
					   is_dir(at(p, "/sys/class/vfio")) ||
					   is_dir(at(p, "/dev/vfio")));
	printf("vfio.type1_loaded=%d\n",
	       is_dir(at(p, "/sys/module/vfio_iommu_type1")));
	print_node("container", at(p, "/dev/vfio/vfio"), 0);
	print_names("cdevs", at(p, "/dev/vfio/devices"));
	print_names("iommus", at(p, "/sys/class/iommu"));
	printf("cmdline.iommu=%d\n", cmdline_iommu());
	hugepages();
	walk_groups();
	return 0;
}

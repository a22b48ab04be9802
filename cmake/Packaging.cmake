# SPDX-License-Identifier: MIT
# A Debian package of what cmake/Install.cmake installs: `cpack -G DEB` in the build tree
# writes vfiocompat_<version>_<arch>.deb (files under /usr: /usr/bin/vfiocompat-run,
# /usr/lib/<triplet>/vfiocompat/: the library, the doctor and its probe; ...). Tested by
# tests/package (ctest -L package).
set(CPACK_PACKAGE_NAME vfiocompat)
set(CPACK_PACKAGE_VENDOR "vfiocompat developers")
set(CPACK_PACKAGE_CONTACT "vfiocompat developers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
	"legacy VFIO type1 containers served by iommufd (LD_PRELOAD shim)")
set(CPACK_PACKAGE_DESCRIPTION "libvfiocompat.so lets unmodified programs written for the legacy
VFIO type1 container (/dev/vfio/vfio: QEMU's default VFIO backend, DPDK,
SPDK) run on the Linux iommufd interface (/dev/iommu), per process and
with type1's exact answers. vfiocompat-run preloads it; vfiocompat-run
--check tells whether this host can run such a program and why not.")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES OFF)

set(CPACK_DEBIAN_PACKAGE_NAME vfiocompat)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "vfiocompat developers")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: what the ELF files need, from dpkg-shlibdeps (libc6, and libseccomp2 for the trap
# mode); without dpkg-dev, the same stated by hand.
find_program(DPKG_SHLIBDEPS dpkg-shlibdeps)
if(DPKG_SHLIBDEPS)
	set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
	set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6 (>= 2.34)")
	get_target_property(_vfc_links vfiocompat LINK_LIBRARIES)
	if(_vfc_links MATCHES "SECCOMP|seccomp")
		string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libseccomp2")
	endif()
endif()

# only the runtime files: no test programs, benchmarks or fuzz targets go into the package
set(CPACK_INSTALL_CMAKE_PROJECTS "${PROJECT_BINARY_DIR};${PROJECT_NAME};ALL;/")
set(CPACK_SOURCE_IGNORE_FILES "/build[^/]*/;/\\\\.git/")

include(CPack)

# SPDX-License-Identifier: MIT
# What `cmake --install` (and the Debian package, debian/) puts where (GNUInstallDirs):
#   bin/vfiocompat-run                        the wrapper, told where the library is
#   ${libdir}/vfiocompat/libvfiocompat.so     shim/CMakeLists.txt
#   ${libdir}/vfiocompat/vfiocompat-doctor    `vfiocompat-run --check`
#   ${libdir}/vfiocompat/vfiocompat-probe     tools/CMakeLists.txt (the doctor's walk and kernel probes)
#   include/vfiocompat.h
#   share/man/man1/vfiocompat-run.1.gz, share/man/man7/vfiocompat.7.gz
#   share/doc/vfiocompat/copyright

# The wrapper finds the library and the doctor relative to itself: the installed copy
# carries the relative path from bindir to ${libdir}/vfiocompat (absolute if either is
# absolute), and the version.
if(IS_ABSOLUTE "${CMAKE_INSTALL_BINDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
	set(_vfc_libdir "${CMAKE_INSTALL_FULL_LIBDIR}/vfiocompat")
else()
	file(RELATIVE_PATH _vfc_libdir "/prefix/${CMAKE_INSTALL_BINDIR}"
		"/prefix/${CMAKE_INSTALL_LIBDIR}/vfiocompat")
endif()
set(_vfc_wrapper_src ${PROJECT_SOURCE_DIR}/scripts/vfiocompat-run)
set(_vfc_wrapper ${PROJECT_BINARY_DIR}/install/vfiocompat-run)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_vfc_wrapper_src})
file(READ ${_vfc_wrapper_src} _vfc_text)
string(FIND "${_vfc_text}" "\ninstalled_libdir=\n" _vfc_at)
if(_vfc_at LESS 0)
	message(FATAL_ERROR "scripts/vfiocompat-run has no empty 'installed_libdir=' line to fill in")
endif()
string(FIND "${_vfc_text}" "\ninstalled_version=\n" _vfc_at)
if(_vfc_at LESS 0)
	message(FATAL_ERROR "scripts/vfiocompat-run has no empty 'installed_version=' line to fill in")
endif()
string(REPLACE "\ninstalled_libdir=\n" "\ninstalled_libdir=${_vfc_libdir}\n" _vfc_text "${_vfc_text}")
string(REPLACE "\ninstalled_version=\n" "\ninstalled_version=${PROJECT_VERSION}\n" _vfc_text "${_vfc_text}")
set(_vfc_old "")
if(EXISTS ${_vfc_wrapper})
	file(READ ${_vfc_wrapper} _vfc_old)
endif()
if(NOT _vfc_old STREQUAL _vfc_text)
	file(WRITE ${_vfc_wrapper} "${_vfc_text}")
endif()
install(PROGRAMS ${_vfc_wrapper} DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS scripts/vfiocompat-doctor DESTINATION ${CMAKE_INSTALL_LIBDIR}/vfiocompat)

install(FILES include/vfiocompat.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# man pages, gzipped as Debian wants them (plain if there is no gzip)
find_program(GZIP_PROGRAM gzip)
foreach(_vfc_man vfiocompat-run.1 vfiocompat.7)
	string(REGEX REPLACE ".*\\.([0-9])$" "\\1" _vfc_sec ${_vfc_man})
	set(_vfc_src ${PROJECT_SOURCE_DIR}/docs/${_vfc_man})
	if(GZIP_PROGRAM)
		set(_vfc_out ${PROJECT_BINARY_DIR}/install/${_vfc_man}.gz)
		add_custom_command(OUTPUT ${_vfc_out}
			COMMAND ${GZIP_PROGRAM} -9nc ${_vfc_src} > ${_vfc_out}
			DEPENDS ${_vfc_src} COMMENT "gzip ${_vfc_man}")
	else()
		set(_vfc_out ${_vfc_src})
	endif()
	list(APPEND _vfc_mans ${_vfc_out})
	install(FILES ${_vfc_out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${_vfc_sec})
endforeach()
add_custom_target(man-pages ALL DEPENDS ${_vfc_mans})

install(FILES debian/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})

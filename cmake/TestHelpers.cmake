# SPDX-License-Identifier: MIT
# Helpers for the test programs, the tests and the benchmarks (tests/**, bench/).
find_package(Threads REQUIRED)

# The in-memory fake kernel under the shim's core (unit tests, fuzz target,
# bench_scale): the shim minus its kernel-facing wrappers, plus tests/fake.
set(VFIOCOMPAT_FAKE_KERNEL_SOURCES ${PROJECT_SOURCE_DIR}/tests/fake/fake_kernel.c
	${PROJECT_SOURCE_DIR}/shim/libc.c $<TARGET_OBJECTS:shim_core>)

# vfiocompat_use_fake_kernel(<target>): build <target> over the fake kernel.
function(vfiocompat_use_fake_kernel target)
	target_sources(${target} PRIVATE ${VFIOCOMPAT_FAKE_KERNEL_SOURCES})
	target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests/fake
		${PROJECT_SOURCE_DIR}/shim ${PROJECT_SOURCE_DIR}/include)
	target_compile_definitions(${target} PRIVATE _GNU_SOURCE)
	target_link_libraries(${target} PRIVATE Threads::Threads ${CMAKE_DL_LIBS})
endfunction()

# vfiocompat_test_program(<name> <source>...
#	[LIBRARIES <lib>...] [OPTIONS <flag>...] [DEFINITIONS <def>...] [FAKE_KERNEL]
#	[LABELS <label>... [ARGS <arg>...] [ENVIRONMENT <var=value>...] [TIMEOUT <s>]])
# An executable with the project's warnings, _GNU_SOURCE and the type1 test
# library (tests/lib). With LABELS it is also a test of the same name that
# runs it with ARGS.
function(vfiocompat_test_program name)
	cmake_parse_arguments(PARSE_ARGV 1 arg "FAKE_KERNEL" "TIMEOUT"
		"LIBRARIES;OPTIONS;DEFINITIONS;LABELS;ARGS;ENVIRONMENT")
	add_executable(${name} ${arg_UNPARSED_ARGUMENTS})
	target_compile_definitions(${name} PRIVATE _GNU_SOURCE ${arg_DEFINITIONS})
	target_compile_options(${name} PRIVATE ${VFIOCOMPAT_WARNINGS} ${arg_OPTIONS})
	target_link_libraries(${name} PRIVATE vfiotest ${arg_LIBRARIES})
	if(arg_FAKE_KERNEL)
		vfiocompat_use_fake_kernel(${name})
	endif()
	if(arg_LABELS)
		set(extra)
		if(arg_TIMEOUT)
			list(APPEND extra TIMEOUT ${arg_TIMEOUT})
		endif()
		if(arg_ENVIRONMENT)
			list(APPEND extra ENVIRONMENT "${arg_ENVIRONMENT}")
		endif()
		vfiocompat_add_test(${name} LABELS ${arg_LABELS} ${extra}
			COMMAND ${name} ${arg_ARGS})
	endif()
endfunction()

# vfiocompat_add_test(<name> LABELS <label>... COMMAND <cmd> <arg>...
#	[TIMEOUT <s>] [ENVIRONMENT <var=value>...] [PROPERTIES <prop> <value>...])
function(vfiocompat_add_test name)
	cmake_parse_arguments(PARSE_ARGV 1 arg "" "TIMEOUT"
		"LABELS;COMMAND;ENVIRONMENT;PROPERTIES")
	add_test(NAME ${name} COMMAND ${arg_COMMAND})
	set_tests_properties(${name} PROPERTIES LABELS "${arg_LABELS}" ${arg_PROPERTIES})
	if(arg_TIMEOUT)
		set_tests_properties(${name} PROPERTIES TIMEOUT ${arg_TIMEOUT})
	endif()
	if(arg_ENVIRONMENT)
		set_tests_properties(${name} PROPERTIES ENVIRONMENT "${arg_ENVIRONMENT}")
	endif()
endfunction()

# vfiocompat_vm_test(<name> TIMEOUT <s> LABELS <label>... COMMAND <cmd> <arg>...
#	[PROPERTIES ...])
# A test that runs <cmd> in the real-kernel guest (tests/vm/vm-run with
# --timeout <s>; ctest allows 100 s more for the boot). Not registered in a
# sanitizer build or without the guest rig.
function(vfiocompat_vm_test name)
	cmake_parse_arguments(PARSE_ARGV 1 arg "" "TIMEOUT" "LABELS;COMMAND;PROPERTIES")
	if(VFIOCOMPAT_SANITIZE OR NOT EXISTS ${PROJECT_SOURCE_DIR}/tests/vm/vm-run)
		return()
	endif()
	math(EXPR ctest_limit "${arg_TIMEOUT} + 100")
	vfiocompat_add_test(${name} LABELS ${arg_LABELS} TIMEOUT ${ctest_limit}
		PROPERTIES ${arg_PROPERTIES}
		COMMAND ${PROJECT_SOURCE_DIR}/tests/vm/vm-run --timeout ${arg_TIMEOUT} --
			${arg_COMMAND})
endfunction()

# SPDX-License-Identifier: BSL-1.0
# genesys_program_path(<var> <program-target> <test-target>): a generator expression for the path
# of <program-target>'s executable relative to <test-target>'s folder, which the tests resolve at
# run time (testproc::built_program). An object naming no absolute path is the same in every
# checkout, so the compiler cache shares it between clones. Before CMake 3.24 ($<PATH:...>), the
# absolute path (built_program takes either).
function(genesys_program_path var program consumer)
    if(CMAKE_VERSION VERSION_LESS 3.24)
        set(${var} "$<TARGET_FILE:${program}>" PARENT_SCOPE)
    else()
        set(${var} "$<PATH:RELATIVE_PATH,$<TARGET_FILE:${program}>,$<TARGET_FILE_DIR:${consumer}>>" PARENT_SCOPE)
    endif()
endfunction()

# One helper declares every module library, so the dependency direction is written down once:
#   api <- clients <- storage <- core <- rest <- app;  api <- transforms <- core;
#   connectors -> api + clients.
# -Wno-maybe-uninitialized, -Wno-restrict: GCC 12 false positives inside nlohmann::json (-O2)
# and std::string operator+ (-O3, GCC bug 105329).
set(FERRY_WARNINGS -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND FERRY_WARNINGS -Wshadow=local -Wno-maybe-uninitialized -Wno-restrict)
endif()

function(ferry_module)
  cmake_parse_arguments(M "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(ferry_${M_NAME} STATIC ${M_SRCS})
  add_library(ferry::${M_NAME} ALIAS ferry_${M_NAME})
  target_include_directories(ferry_${M_NAME} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(ferry_${M_NAME} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS})
  ferry_warnings(ferry_${M_NAME})
endfunction()

function(ferry_warnings target)
  target_compile_options(${target} PRIVATE ${FERRY_WARNINGS})
  if(FERRY_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# `cmake --install` of the plug-in API: the headers a plug-in compiles against and a CMake package
# (find_package(ferry CONFIG)) with the imported target ferry::plugin_api and ferry_add_plugin().
# Plug-ins link nothing of ferry: the worker exports the API symbols (runtime/app/CMakeLists.txt).
# Running ferry from the build tree needs none of this.
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

set(FERRY_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ferry)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/api/include/ferry/api
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ferry FILES_MATCHING PATTERN "*.hpp")
# The transformation/predicate interface; the built-in transforms and the chain stay private.
install(FILES ${PROJECT_SOURCE_DIR}/runtime/transforms/include/ferry/transforms/transformation.hpp
              ${PROJECT_SOURCE_DIR}/runtime/transforms/include/ferry/transforms/record.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ferry/transforms)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ferryConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ferryConfig.cmake
  INSTALL_DESTINATION ${FERRY_CMAKE_INSTALL_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
# The worker checks the plug-in API version itself; the package version only keeps a plug-in
# from being configured against a different ferry release by accident.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ferryConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ferryConfig.cmake ${PROJECT_BINARY_DIR}/ferryConfigVersion.cmake
        DESTINATION ${FERRY_CMAKE_INSTALL_DIR})

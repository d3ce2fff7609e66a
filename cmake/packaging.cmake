# The Debian package: `cpack -G DEB` in a built build dir writes ferry_<version>_<arch>.deb.
#
# It holds the install component `ferry`, laid out as the package's root (CPack installs it with
# the prefix /): ferry-worker and ferry-kafka-dev (stripped) in /usr/bin with manual pages made
# from their --help, the systemd units in /lib/systemd/system, /etc/ferry/worker.properties (a
# conffile), example connectors in /usr/share/doc/ferry/examples. Its rules are EXCLUDE_FROM_ALL:
# a plain `cmake --install` stays the plug-in API (cmake/ferry_install.cmake) and never writes
# /etc; `cmake --install <build> --component ferry --prefix <dir>` stages the package tree.
# The plug-in API headers and CMake package are not in the .deb: it is the runtime, which
# links no plug-in SDK (Debian puts headers in a separate -dev package).
set(FERRY_DEB_SOURCE ${PROJECT_SOURCE_DIR}/deploy/debian)

# Manual pages, made at build time from the freshly built programs.
set(FERRY_MAN_PAGES)
foreach(program ferry-worker ferry-kafka-dev)
  set(page ${PROJECT_BINARY_DIR}/man/man1/${program}.1.gz)
  add_custom_command(OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${program}> -DNAME=${program}
            -DVERSION=${PROJECT_VERSION} -DOUT=${page} -P ${PROJECT_SOURCE_DIR}/cmake/ferry_manpage.cmake
    DEPENDS ${program} ${PROJECT_SOURCE_DIR}/cmake/ferry_manpage.cmake
    COMMENT "Manual page ${program}.1 from ${program} --help"
    VERBATIM)
  list(APPEND FERRY_MAN_PAGES ${page})
endforeach()
add_custom_target(ferry-man-pages ALL DEPENDS ${FERRY_MAN_PAGES})

install(TARGETS ferry-worker ferry-kafka-dev RUNTIME DESTINATION usr/bin
        COMPONENT ferry EXCLUDE_FROM_ALL)
install(FILES ${FERRY_MAN_PAGES} DESTINATION usr/share/man/man1
        COMPONENT ferry EXCLUDE_FROM_ALL)
install(FILES ${FERRY_DEB_SOURCE}/ferry-worker.service ${FERRY_DEB_SOURCE}/ferry-worker@.service
        DESTINATION lib/systemd/system COMPONENT ferry EXCLUDE_FROM_ALL)
# Readable by root and (postinst: chgrp ferry) the worker only: it may hold secrets.
install(FILES ${FERRY_DEB_SOURCE}/worker.properties DESTINATION etc/ferry
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ COMPONENT ferry EXCLUDE_FROM_ALL)
install(FILES ${FERRY_DEB_SOURCE}/orders-source.properties ${FERRY_DEB_SOURCE}/orders-sink.properties
        DESTINATION usr/share/doc/ferry/examples COMPONENT ferry EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION usr/share/doc/ferry
        COMPONENT ferry EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ferry)
set(CPACK_PACKAGE_VENDOR ferry)
set(CPACK_PACKAGE_CONTACT "ferry maintainers <ferry@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Kafka Connect compatible worker moving data between Redis and Kafka")
set(CPACK_PACKAGING_INSTALL_PREFIX /)
set(CPACK_STRIP_FILES ON)
# Only the component `ferry`, as one package named ferry (not ferry-ferry).
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL ferry)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # ferry_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE https://github.com/ferry/ferry)
# Library dependencies come from the binaries (dpkg-shlibdeps); adduser for the postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS redis-server)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
# The synopsis line is CPACK_PACKAGE_DESCRIPTION_SUMMARY; an empty line becomes " .".
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "ferry-worker runs Redis sources and a Redis sink with Kafka Connect's worker
settings and REST API and redis-kafka-connect's connector classes and keys.
Exactly-once sink, Prometheus metrics (GET /metrics), JSON logs, GET /health.
ferry-kafka-dev is an in-memory development Kafka broker for tests and demos.

The package runs one worker as ferry-worker.service (/etc/ferry/worker.properties)
and any number as ferry-worker@NAME.service (/etc/ferry/NAME.properties), as the
user ferry.")
# The user ferry and /var/lib/ferry (postinst), stopping the units (prerm), purge (postrm);
# /etc/ferry/worker.properties is a conffile: an upgrade keeps local changes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${FERRY_DEB_SOURCE}/postinst ${FERRY_DEB_SOURCE}/prerm
    ${FERRY_DEB_SOURCE}/postrm ${FERRY_DEB_SOURCE}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

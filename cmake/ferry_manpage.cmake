# Writes a manual page from a program's --help text (written as a manual page: NAME, SYNOPSIS,
# ..., EXIT STATUS) as preformatted troff, gzip'ed as Debian wants them:
#   cmake -DPROGRAM=<exe> -DNAME=<name> -DVERSION=<v> -DOUT=<dir>/<name>.1.gz -P ferry_manpage.cmake
# Run at build time by cmake/packaging.cmake (target ferry-man-pages).
foreach(var PROGRAM NAME VERSION OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "ferry_manpage.cmake: -D${var}=... is missing")
  endif()
endforeach()
execute_process(COMMAND ${PROGRAM} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR help STREQUAL "")
  message(FATAL_ERROR "ferry_manpage.cmake: '${PROGRAM} --help' failed (${rc})")
endif()
# troff: a backslash is \e; a line starting with . or ' would be a request: \& before it.
string(REPLACE "\\" "\\e" help "${help}")
string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" help "${help}")
string(TOUPPER "${NAME}" title)
get_filename_component(dir "${OUT}" DIRECTORY)
string(REGEX REPLACE "\\.gz$" "" page "${OUT}")
file(MAKE_DIRECTORY "${dir}")
file(WRITE "${page}" ".TH ${title} 1 \"\" \"ferry ${VERSION}\" \"User Commands\"\n.nf\n${help}.fi\n")
# -n: no name or time stamp in the header, so the page is the same at every build.
execute_process(COMMAND gzip -9nf "${page}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ferry_manpage.cmake: gzip ${page} failed (${rc})")
endif()

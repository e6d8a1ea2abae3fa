# Libraries of the I/O adapters (src/io): DNS with DNSSEC validation, the
# event loop, HTTPS. Included by the top-level CMakeLists.txt.
pkg_check_modules(UNBOUND REQUIRED IMPORTED_TARGET libunbound)
pkg_check_modules(LIBEVENT REQUIRED IMPORTED_TARGET libevent_core>=2.1)
pkg_check_modules(LIBEVENT_PTHREADS IMPORTED_TARGET libevent_pthreads)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
# ldns parses the reply packets libunbound hands over (src/core/dnsmsg.c).
pkg_check_modules(LDNS REQUIRED IMPORTED_TARGET ldns)
list(APPEND MXTLS_LIB_DEPS PkgConfig::UNBOUND PkgConfig::LIBEVENT PkgConfig::CURL
     PkgConfig::LDNS)

#!/usr/bin/env bash
# Link launcher of the static PIEs (RULE_LAUNCH_LINK in the top CMakeLists.txt): runs the link
# command and drops glibc's link-time notes that getaddrinfo, gethostbyname, dlopen (and, in
# kiscsistart, libnl's getprotobyname/getprotobynumber) in a static binary need the shared NSS modules / loader of the same glibc version at run time (what that
# means for kiscsi is written next to the static-link options). Each note is two lines ("in
# function `...':" then "warning: Using '...' in statically linked applications ..."); both go.
# Every other line, and the linker's exit status, pass through.
set -o pipefail
"$@" 2>&1 | awk '
  /: in function `.*'"'"':$/ {
    if (held != "") print held
    held = $0
    next
  }
  /warning: Using '"'"'(getaddrinfo|gethostbyname|dlopen|getprotobyname|getprotobynumber)'"'"' in statically linked applications requires at runtime the shared libraries from the glibc version used for linking$/ {
    held = ""
    next
  }
  {
    if (held != "") print held
    held = ""
    print
  }
  END { if (held != "") print held }
'

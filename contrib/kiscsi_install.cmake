# Install-time helpers. This script runs when the tree is INSTALLED (cmake_install.cmake includes
# it through kiscsi_install_code() in the top CMakeLists.txt), not when it is configured, so every
# path an installed file names follows the prefix given at install time:
#
#   cmake --install build --prefix /usr         # units say ExecStart=/usr/sbin/kiscsid
#   DESTDIR=/tmp/pkg cmake --install build --prefix /usr
#                                                # same files, under /tmp/pkg
#
# Inputs, set by kiscsi_install_code() before the include (configure-time values):
#   KISCSI_CONFIGURED_SBINDIR      CMAKE_INSTALL_SBINDIR (relative: under the prefix)
#   KISCSI_CONFIGURED_SYSCONFDIR   CMAKE_INSTALL_SYSCONFDIR (relative: see KISCSI_INSTALL_CONFDIR)
#   KISCSI_CONFIGURED_OPEN_ISCSI_NAMES
# and by cmake_install.cmake: CMAKE_INSTALL_PREFIX (the install-time prefix, without a trailing
# slash) and $ENV{DESTDIR}.
#
# Sets (absolute paths without DESTDIR):
#   KISCSI_SBINDIR           where the programs are, e.g. /usr/sbin
#   KISCSI_INSTALL_CONFDIR   <sysconfdir>/iscsi: /etc/iscsi for the prefixes / and /usr,
#                            /etc/opt/X/iscsi for /opt/X, <prefix>/etc/iscsi otherwise (the rules
#                            of CMake's GNUInstallDirs, applied at install time)
#   KISCSI_OPEN_ISCSI_NAMES  unless already defined: the configured option. An install-time
#                            -DKISCSI_OPEN_ISCSI_NAMES=ON|OFF to `cmake -P cmake_install.cmake`
#                            wins, without reconfiguring.

# An absolute path for `dir`: itself when absolute, else under the install prefix.
function(kiscsi_install_path out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

if(NOT DEFINED KISCSI_OPEN_ISCSI_NAMES)
  set(KISCSI_OPEN_ISCSI_NAMES "${KISCSI_CONFIGURED_OPEN_ISCSI_NAMES}")
endif()
kiscsi_install_path(KISCSI_SBINDIR "${KISCSI_CONFIGURED_SBINDIR}")
if(IS_ABSOLUTE "${KISCSI_CONFIGURED_SYSCONFDIR}")
  set(KISCSI_INSTALL_CONFDIR "${KISCSI_CONFIGURED_SYSCONFDIR}/iscsi")
elseif(CMAKE_INSTALL_PREFIX STREQUAL "" OR CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(KISCSI_INSTALL_CONFDIR "/${KISCSI_CONFIGURED_SYSCONFDIR}/iscsi")
elseif(CMAKE_INSTALL_PREFIX MATCHES "^/opt/(.+)$")
  set(KISCSI_INSTALL_CONFDIR "/etc/opt/${CMAKE_MATCH_1}/iscsi")
else()
  set(KISCSI_INSTALL_CONFDIR "${CMAKE_INSTALL_PREFIX}/${KISCSI_CONFIGURED_SYSCONFDIR}/iscsi")
endif()

# Records `path` (without DESTDIR) in install_manifest.txt, as file(INSTALL) does.
macro(kiscsi_install_manifest path)
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${path}")
endmacro()

# Installs `source` (a .in file) as `dir`/`name` with @KISCSI_SBINDIR@ and the other variables
# above filled in with their install-time values; mode 0644.
function(kiscsi_install_configured source dir name)
  kiscsi_install_path(dir "${dir}")
  message(STATUS "Installing: $ENV{DESTDIR}${dir}/${name}")
  configure_file("${source}" "$ENV{DESTDIR}${dir}/${name}" @ONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  kiscsi_install_manifest("${dir}/${name}")
  set(CMAKE_INSTALL_MANIFEST_FILES "${CMAKE_INSTALL_MANIFEST_FILES}" PARENT_SCOPE)
endfunction()

# As kiscsi_install_configured, for scripts: mode 0755 (initramfs hooks that name the programs'
# directory, e.g. @KISCSI_SBINDIR@/kiscsistart).
function(kiscsi_install_configured_script source dir name)
  kiscsi_install_path(dir "${dir}")
  message(STATUS "Installing: $ENV{DESTDIR}${dir}/${name}")
  configure_file("${source}" "$ENV{DESTDIR}${dir}/${name}" @ONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                  WORLD_READ WORLD_EXECUTE)
  kiscsi_install_manifest("${dir}/${name}")
  set(CMAKE_INSTALL_MANIFEST_FILES "${CMAKE_INSTALL_MANIFEST_FILES}" PARENT_SCOPE)
endfunction()

# Makes `dir`/`name` a symbolic link to `target` (relative to `dir`, e.g. a file beside it).
# A file or link already there is replaced.
function(kiscsi_install_symlink target dir name)
  kiscsi_install_path(dir "${dir}")
  message(STATUS "Installing: $ENV{DESTDIR}${dir}/${name} -> ${target}")
  file(MAKE_DIRECTORY "$ENV{DESTDIR}${dir}")
  file(CREATE_LINK "${target}" "$ENV{DESTDIR}${dir}/${name}" SYMBOLIC)
  kiscsi_install_manifest("${dir}/${name}")
  set(CMAKE_INSTALL_MANIFEST_FILES "${CMAKE_INSTALL_MANIFEST_FILES}" PARENT_SCOPE)
endfunction()

# Installs `source` as `dir`/`name` with mode `mode` (0600 or 0644) unless that file exists
# already (under DESTDIR): an administrator's configuration is never replaced.
function(kiscsi_install_config source dir name mode)
  kiscsi_install_path(dir "${dir}")
  set(destination "$ENV{DESTDIR}${dir}/${name}")
  if(EXISTS "${destination}" OR IS_SYMLINK "${destination}")
    message(STATUS "Keeping existing: ${destination}")
    return()
  endif()
  set(permissions OWNER_READ OWNER_WRITE)
  if(mode STREQUAL "0644")
    list(APPEND permissions GROUP_READ WORLD_READ)
  endif()
  file(INSTALL DESTINATION "${dir}" TYPE FILE RENAME "${name}" PERMISSIONS ${permissions}
       FILES "${source}")
  set(CMAKE_INSTALL_MANIFEST_FILES "${CMAKE_INSTALL_MANIFEST_FILES}" PARENT_SCOPE)
endfunction()

# Creates the directory `dir` with mode `mode` (0700 or 0755) if it does not exist; an existing
# directory keeps its mode. Directories are not recorded in install_manifest.txt.
function(kiscsi_install_directory dir mode)
  kiscsi_install_path(dir "${dir}")
  set(destination "$ENV{DESTDIR}${dir}")
  if(IS_DIRECTORY "${destination}")
    return()
  endif()
  message(STATUS "Installing: ${destination}/ (mode ${mode})")
  file(MAKE_DIRECTORY "${destination}")
  set(permissions OWNER_READ OWNER_WRITE OWNER_EXECUTE)
  if(mode STREQUAL "0755")
    list(APPEND permissions GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  endif()
  file(CHMOD "${destination}" DIRECTORY_PERMISSIONS ${permissions})
endfunction()

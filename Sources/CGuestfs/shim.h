#ifndef LIVEBUILD_CGUESTFS_SHIM_H
#define LIVEBUILD_CGUESTFS_SHIM_H
#include <guestfs.h>

/* The optional-argument bitmasks are function-like macros (UINT64_C), which Swift does not
   import: named constants for the ones livebuild uses. */
static const uint64_t lb_add_drive_readonly = GUESTFS_ADD_DRIVE_OPTS_READONLY_BITMASK;
static const uint64_t lb_add_drive_format = GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK;
static const uint64_t lb_mkfs_label = GUESTFS_MKFS_OPTS_LABEL_BITMASK;
static const uint64_t lb_syslinux_directory = GUESTFS_SYSLINUX_DIRECTORY_BITMASK;
static const uint64_t lb_copy_size = GUESTFS_COPY_DEVICE_TO_DEVICE_SIZE_BITMASK;
#endif

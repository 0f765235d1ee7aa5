#ifndef LIVEBUILD_CARCHIVE_SHIM_H
#define LIVEBUILD_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#endif

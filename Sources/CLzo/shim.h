#ifndef LIVEBUILD_CLZO_SHIM_H
#define LIVEBUILD_CLZO_SHIM_H
#include <lzo/lzo1x.h>

/* lzo_init() is a macro (it passes sizeof()s for an ABI check); Swift calls this instead. */
static inline int livebuild_lzo_init(void) { return lzo_init(); }

/* Work memory lzo1x_999_compress_level needs (LZO1X_999_MEM_COMPRESS is a macro with casts). */
static inline unsigned long livebuild_lzo1x_999_mem_compress(void) { return LZO1X_999_MEM_COMPRESS; }
#endif

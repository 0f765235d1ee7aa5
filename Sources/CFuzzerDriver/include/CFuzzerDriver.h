#ifndef CFUZZERDRIVER_H
#define CFUZZERDRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's entry point for programs with their own main (libclang_rt.fuzzer defines it; only
/// `livebuild-fuzz` built with -sanitize=fuzzer -DFUZZING calls it). SwiftPM links an executable
/// with `--defsym main=<module>_main`, which overrides libFuzzer's own main, so livebuild-fuzz
/// starts libFuzzer through this instead.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif

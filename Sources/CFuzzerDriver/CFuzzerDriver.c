// Only a declaration lives here (include/CFuzzerDriver.h): libFuzzer defines LLVMFuzzerRunDriver.
#include "CFuzzerDriver.h"
